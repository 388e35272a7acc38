/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DM 2.0 ClientURI: parser, refusals, and resolution against a GwDmTree holding the addressing
 * example of the DM 2.0 TS §5.3 (two instances of urn:oma:mo:moid:1.0, MIIDs "left" and
 * "right") and the gateway's standard objects.
 */

#include "config.h"

#include <string.h>

#include "gw-dm2-uri.h"

#define MOID "urn:oma:mo:moid:1.0"

/*
 * The TS §5.3 figure, reconstructed from its ten examples:
 *   ./Vendor/A/left  (moroot1): ID=GPS, Setting=0xA1, Data/1/{Date=12.1,Value},
 * Data/2/{Date=12.2,Value}
 *   ./Vendor/B/right (moroot2): ID=Temperature, Setting=0xB2, Data/1/{Date=12.1,Value},
 *                               Data/2/{Date=12.3,Value}
 */
static GwDmTree *
make_tree(void)
{
	static const gchar *const roots[] = {"./Vendor/A/left", "./Vendor/B/right"};
	static const gchar *const ids[] = {"GPS", "Temperature"};
	static const gchar *const settings[] = {"0xA1", "0xB2"};
	static const gchar *const dates[][2] = {{"12.1", "12.2"}, {"12.1", "12.3"}};
	GwDmTree *tree = gw_dm_tree_new();
	GwDmDeviceInfo info = {.dev_id = "IMEI:493005100592800",
	                       .man = "gwmo",
	                       .mod = "test",
	                       .dmv = "2.0",
	                       .lang = "en",
	                       .dev_typ = "gateway",
	                       .oem = "gwmo",
	                       .fwv = "1",
	                       .swv = "1",
	                       .hwv = "1"};

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &info, NULL));
	for (guint i = 0; i < 2; i++) {
		g_autofree gchar *id = g_strconcat(roots[i], "/ID", NULL);
		g_autofree gchar *setting = g_strconcat(roots[i], "/Setting", NULL);

		g_assert_true(gw_dm_tree_ensure_interior(tree, roots[i], NULL));
		g_assert_true(gw_dm_tree_set_mime_type(tree, roots[i], MOID, NULL));
		g_assert_true(gw_dm_tree_set_leaf_string(tree, id, GW_DM_FORMAT_CHR, ids[i], NULL));
		g_assert_true(
		    gw_dm_tree_set_leaf_string(tree, setting, GW_DM_FORMAT_CHR, settings[i], NULL));
		for (guint d = 0; d < 2; d++) {
			g_autofree gchar *date =
			    g_strdup_printf("%s/Data/%u/Date", roots[i], d + 1);
			g_autofree gchar *value =
			    g_strdup_printf("%s/Data/%u/Value", roots[i], d + 1);
			g_assert_true(gw_dm_tree_set_leaf_string(
			    tree, date, GW_DM_FORMAT_CHR, dates[i][d], NULL));
			g_assert_true(
			    gw_dm_tree_set_leaf_string(tree, value, GW_DM_FORMAT_INT, "7", NULL));
		}
	}
	return tree;
}

/* resolves @text and compares with the expected URIs joined by " " ("" = not found) */
static void
assert_resolves(GwDmTree *tree, const gchar *text, const gchar *expected)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2ClientUri) uri = gw_dm2_client_uri_parse(text, &error);
	g_autoptr(GPtrArray) uris = NULL;
	g_autofree gchar *joined = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(uri);
	uris = gw_dm2_client_uri_resolve(uri, tree, &error);
	if (*expected == '\0') {
		g_assert_null(uris);
		g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
		return;
	}
	g_assert_no_error(error);
	g_ptr_array_add(uris, NULL);
	joined = g_strjoinv(" ", (gchar **)uris->pdata);
	g_assert_cmpstr(joined, ==, expected);
}

/* the ten examples of TS §5.3 */
static void
test_spec_examples(void)
{
	g_autoptr(GwDmTree) tree = make_tree();
	g_autoptr(GwDm2ClientUri) uri = NULL;
	g_autoptr(GPtrArray) uris = NULL;
	g_autoptr(GError) error = NULL;

	/* 1. identifies the moroot1 node */
	assert_resolves(tree, MOID "/left/", "./Vendor/A/left");
	/* 2. cannot be resolved: two instances */
	uri = gw_dm2_client_uri_parse(MOID "//", &error);
	g_assert_no_error(error);
	uris = gw_dm2_client_uri_resolve(uri, tree, &error);
	g_assert_null(uris);
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_URI);
	g_assert_nonnull(strstr(error->message, "has 2 instances"));
	/* 3. the TS says "moroot2/ID"; by the grammar (an empty path is the instance root) it is
	 * moroot2 itself, which is what we resolve */
	assert_resolves(tree, MOID "/(x)/?nv=(x)/ID:Temperature", "./Vendor/B/right");
	/* 4. */
	assert_resolves(
	    tree, MOID "/(x)/Data/1/Value?nv=(x)/ID:GPS", "./Vendor/A/left/Data/1/Value");
	/* 5. */
	assert_resolves(
	    tree, MOID "/right/Data/(x)/Value?nv=(x)/Date:12.1", "./Vendor/B/right/Data/1/Value");
	/* 6. */
	assert_resolves(tree,
	                MOID "/(x)/Data/(y)/Value?nv=(x)/ID:GPS&nv=(y)/Date:12.2",
	                "./Vendor/A/left/Data/2/Value");
	/* 7. */
	assert_resolves(
	    tree, MOID "/*/Setting", "./Vendor/A/left/Setting ./Vendor/B/right/Setting");
	/* 8. */
	assert_resolves(tree,
	                MOID "/(x)/Data/*/Value?nv=(x)/ID:GPS",
	                "./Vendor/A/left/Data/1/Value ./Vendor/A/left/Data/2/Value");
	/* 9. no instance satisfies both nv fields */
	assert_resolves(tree, MOID "/(x)/Data/*/Value?nv=(x)/ID:GPS&nv=(x)/Setting:0xB2", "");
	/* 10. */
	assert_resolves(tree,
	                MOID "/*/Data/*/Value",
	                "./Vendor/A/left/Data/1/Value ./Vendor/A/left/Data/2/Value "
	                "./Vendor/B/right/Data/1/Value ./Vendor/B/right/Data/2/Value");
}

static void
test_resolve_tree(void)
{
	g_autoptr(GwDmTree) tree = make_tree();
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) some = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *client_uri = NULL;
	const GwDm2MoInstance *instance;

	/* the standard objects: the only DevInfo, by "" and by its MIID (the node name) */
	assert_resolves(tree, "urn:oma:mo:oma-dm-devinfo:1.0//DevId", "./DevInfo/DevId");
	assert_resolves(tree, "urn:oma:mo:oma-dm-devinfo:1.0/DevInfo/DevId", "./DevInfo/DevId");
	assert_resolves(tree, "urn:oma:mo:oma-dm-devinfo:1.0//", "./DevInfo");
	assert_resolves(
	    tree,
	    "urn:oma:mo:oma-dm-devdetail:1.0//URI/*",
	    "./DevDetail/URI/MaxDepth ./DevDetail/URI/MaxTotLen ./DevDetail/URI/MaxSegLen");
	/* not found: unknown MOID, unknown MIID, no such node, a name below a leaf */
	assert_resolves(tree, "urn:oma:mo:none:1.0//", "");
	assert_resolves(tree, MOID "/middle/", "");
	assert_resolves(tree, MOID "/left/Nothing", "");
	assert_resolves(tree, MOID "/left/ID/x", "");
	/* percent-encoded names and values; an nv path two levels deep; a value with ':' */
	assert_resolves(tree, MOID "/%6Ceft/%49D", "./Vendor/A/left/ID");
	assert_resolves(
	    tree, MOID "/(x)/Setting?nv=(x)/Data/2/Date:12.3", "./Vendor/B/right/Setting");
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./Vendor/A/left/ID", GW_DM_FORMAT_CHR, "a:b&c", NULL));
	assert_resolves(tree, MOID "/(x)/?nv=(x)/ID:a:b%26c", "./Vendor/A/left");

	/* instances and their MIIDs; a second instance named "left" makes that MIID ambiguous */
	all = gw_dm2_tree_list_instances(tree, NULL);
	g_assert_cmpuint(all->len, ==, 4);
	instance = g_ptr_array_index(all, 0);
	g_assert_cmpstr(instance->moid, ==, "urn:oma:mo:oma-dm-devinfo:1.0");
	g_assert_cmpstr(instance->miid, ==, "DevInfo");
	g_assert_cmpstr(instance->uri, ==, "./DevInfo");
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./Other/left", NULL));
	g_assert_true(gw_dm_tree_set_mime_type(tree, "./Other/left", MOID, NULL));
	some = gw_dm2_tree_list_instances(tree, MOID);
	g_assert_cmpuint(some->len, ==, 2);
	instance = g_ptr_array_index(some, 1);
	g_assert_cmpstr(instance->miid, ==, "right");
	{
		g_autoptr(GPtrArray) mos = gw_dm2_tree_list_mos(tree);
		const GwDm2Mo *mo;

		g_assert_cmpuint(mos->len, ==, 3);
		mo = g_ptr_array_index(mos, 1);
		g_assert_cmpstr(mo->moid, ==, "urn:oma:mo:oma-dm-devdetail:1.0");
		mo = g_ptr_array_index(mos, 2);
		g_assert_cmpstr(mo->moid, ==, MOID);
		g_assert_null(mo->ddf);
		g_assert_cmpuint(mo->miids->len, ==, 2);
		g_assert_cmpstr(g_ptr_array_index(mo->miids, 0), ==, "left");
		g_assert_cmpstr(g_ptr_array_index(mo->miids, 1), ==, "right");
	}
	{
		g_autoptr(GwDm2ClientUri) uri = gw_dm2_client_uri_parse(MOID "/left/ID", NULL);
		g_autoptr(GPtrArray) uris = gw_dm2_client_uri_resolve(uri, tree, &error);
		g_assert_null(uris);
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_URI);
		g_assert_nonnull(strstr(error->message, "ambiguous"));
		g_clear_error(&error);
	}

	/* tree URI → ClientURI, and back */
	client_uri = gw_dm2_client_uri_from_tree_uri(tree, "./DevInfo/DevId", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(client_uri, ==, "urn:oma:mo:oma-dm-devinfo:1.0/DevInfo/DevId");
	g_clear_pointer(&client_uri, g_free);
	client_uri = gw_dm2_client_uri_from_tree_uri(tree, "./DevInfo", &error);
	g_assert_cmpstr(client_uri, ==, "urn:oma:mo:oma-dm-devinfo:1.0/DevInfo/");
	g_clear_pointer(&client_uri, g_free);
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./Vendor/B/right/Data/(z)", GW_DM_FORMAT_CHR, "1", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./Vendor/B/right/Data/*", GW_DM_FORMAT_CHR, "2", NULL));
	client_uri = gw_dm2_client_uri_from_tree_uri(tree, "./Vendor/B/right/Data/(z)", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(client_uri, ==, MOID "/right/Data/%28z%29");
	assert_resolves(tree, client_uri, "./Vendor/B/right/Data/(z)");
	g_clear_pointer(&client_uri, g_free);
	client_uri = gw_dm2_client_uri_from_tree_uri(tree, "./Vendor/B/right/Data/*", &error);
	g_assert_cmpstr(client_uri, ==, MOID "/right/Data/%2A");
	assert_resolves(tree, client_uri, "./Vendor/B/right/Data/*");
	g_clear_pointer(&client_uri, g_free);
	/* no MO encloses ./Vendor; no such node */
	client_uri = gw_dm2_client_uri_from_tree_uri(tree, "./Vendor/A", &error);
	g_assert_null(client_uri);
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	g_clear_error(&error);
	client_uri = gw_dm2_client_uri_from_tree_uri(tree, "./Nope", &error);
	g_assert_null(client_uri);
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
}

static void
test_parse(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2ClientUri) uri = gw_dm2_client_uri_parse(
	    MOID "/(x)/Data/(y)/*/Value/?nv=(x)/ID:GPS&cv=686897696a7c876b7e&nv=(y):7", &error);
	const GwDm2Segment *seg;
	const GwDm2NvFilter *nv;

	g_assert_no_error(error);
	g_assert_cmpstr(uri->moid, ==, MOID);
	g_assert_cmpint(uri->instance.kind, ==, GW_DM2_SEGMENT_XNAME);
	g_assert_cmpstr(uri->instance.name, ==, "x");
	g_assert_cmpuint(uri->path->len, ==, 4);
	seg = g_ptr_array_index(uri->path, 0);
	g_assert_cmpint(seg->kind, ==, GW_DM2_SEGMENT_NAME);
	g_assert_cmpstr(seg->name, ==, "Data");
	seg = g_ptr_array_index(uri->path, 1);
	g_assert_cmpint(seg->kind, ==, GW_DM2_SEGMENT_XNAME);
	seg = g_ptr_array_index(uri->path, 2);
	g_assert_cmpint(seg->kind, ==, GW_DM2_SEGMENT_WILDCARD);
	g_assert_null(seg->name);
	g_assert_cmpuint(uri->nv->len, ==, 2);
	nv = g_ptr_array_index(uri->nv, 0);
	g_assert_cmpstr(nv->xname, ==, "x");
	g_assert_cmpuint(g_strv_length(nv->path), ==, 1);
	g_assert_cmpstr(nv->path[0], ==, "ID");
	g_assert_cmpstr(nv->value, ==, "GPS");
	nv = g_ptr_array_index(uri->nv, 1);
	g_assert_cmpuint(g_strv_length(nv->path), ==, 0);
	g_assert_cmpstr(nv->value, ==, "7");
	g_assert_cmpstr(uri->cv, ==, "686897696a7c876b7e");
	g_clear_pointer(&uri, gw_dm2_client_uri_free);

	uri = gw_dm2_client_uri_parse("urn:oma:mo:oma-dm-devinfo:1.0//", &error);
	g_assert_no_error(error);
	g_assert_cmpint(uri->instance.kind, ==, GW_DM2_SEGMENT_EMPTY);
	g_assert_cmpuint(uri->path->len, ==, 0);
	g_assert_null(uri->cv);
}

static void
test_parse_refusals(void)
{
	static const struct {
		const gchar *text;
		const gchar *error;
	} cases[] = {
	    {"", "must start with MOID"},
	    {"/x/", "must start with MOID"},
	    {"urn:x", "must start with MOID"},
	    {"urn:x/inst", "the \"/\" after the instance is missing"},
	    {"urn:x/inst?nv=(x)/a:b", "the \"/\" after the instance is missing"},
	    {"urn:x/i/a//b", "empty path segment at offset 10"},
	    {"urn:x/i//", "empty path segment"},
	    {"urn:x/i/a%zzb", "bad percent-encoding in the node name at offset 8"},
	    {"urn:x/i/a%2Fb", "bad percent-encoding"},
	    {"urn:x/i/a%00b", "bad percent-encoding"},
	    {"urn:x/i/..", "is not a node name"},
	    {"urn:x/i/a?list=Struct", "query field \"list=Struct\" at offset 10 is not nv"},
	    {"urn:x/i/a?nv=", "is not nv"},
	    {"urn:x/i/a?cv=1&cv=2", "second cv field"},
	    {"urn:x/i/a?cv=%", "bad percent-encoding in the cv value"},
	    {"urn:x/(x)/a?nv=x/ID:1", "must be (x)[/path]:value"},
	    {"urn:x/(x)/a?nv=(x)ID:1", "must be (x)[/path]:value"},
	    {"urn:x/(x)/a?nv=(x)/ID", "has no \":value\""},
	    {"urn:x/(x)/a?nv=(x)//ID:1", "empty segment in the nv path"},
	    {"urn:x/(x)/a?nv=(x)/I%zz:1", "bad percent-encoding in the nv path"},
	    {"urn:x/(x)/a?nv=(x)/ID:%", "bad percent-encoding in the nv value"},
	    {"urn:x/(x)/a", "x-name (x) has no nv field"},
	    {"urn:x/i/(y)?nv=(x)/a:1", "nv field names (x), which the path does not have"},
	    {"urn:x/(x)/(x)?nv=(x)/a:1", "x-name (x) is used twice"},
	};
	g_autofree gchar *long_uri = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GwDm2ClientUri) uri = gw_dm2_client_uri_parse(cases[i].text, &error);

		if (uri != NULL || error == NULL || strstr(error->message, cases[i].error) == NULL)
			g_test_message("case %u (%s): expected \"%s\", got %s",
			               i,
			               cases[i].text,
			               cases[i].error,
			               error != NULL ? error->message : "success");
		g_assert_null(uri);
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_URI);
		g_assert_nonnull(strstr(error->message, cases[i].error));
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GwDm2ClientUri) uri = NULL;
		long_uri = g_strnfill(GW_DM2_CLIENT_URI_MAX_LEN + 1, 'a');
		memcpy(long_uri, "urn:x/i/", 8);
		uri = gw_dm2_client_uri_parse(long_uri, &error);
		g_assert_null(uri);
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_URI);
		g_assert_nonnull(strstr(error->message, "over the limit"));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dm2/uri/spec-examples", test_spec_examples);
	g_test_add_func("/dm2/uri/resolve-tree", test_resolve_tree);
	g_test_add_func("/dm2/uri/parse", test_parse);
	g_test_add_func("/dm2/uri/parse-refusals", test_parse_refusals);
	return g_test_run();
}
