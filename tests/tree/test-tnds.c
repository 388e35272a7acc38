/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TNDS export/import: lossless round trip, documents in the wild (Hotspot 2.0 PPS), hostile
 * and malformed documents (all or nothing), server-scoped export (GwMO-SECARIZE-001), secrets.
 */

#include "config.h"

#include <string.h>

#include "gw-dm-tree.h"
#include "gw-tnds.h"

#define ALL_FLAGS (GW_TNDS_EXPORT_VALUES | GW_TNDS_EXPORT_SECRETS | GW_TNDS_EXPORT_DF_PROPERTIES)

static const GwDmDeviceInfo test_info = {
    .dev_id = "urn:uuid:0d3c3f6e-1d0a-4b57-9d2c-000000000001",
    .man = "Example Corp",
    .mod = "GW-1",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "OEM",
    .fwv = "1",
    .swv = "2",
    .hwv = "3",
    .max_depth = 16,
    .max_tot_len = 0,
    .max_seg_len = 64,
};

static void
set_leaf(GwDmTree *tree,
         const gchar *uri,
         GwDmFormat format,
         const gchar *mime,
         const gchar *data,
         gssize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes =
	    data != NULL ? g_bytes_new(data, len < 0 ? strlen(data) : (gsize)len) : NULL;
	g_assert_true(gw_dm_tree_set_leaf(tree, uri, format, mime, bytes, &error));
	g_assert_no_error(error);
}

static void
set_props(GwDmTree *tree, const gchar *uri, GwDmAccess access, const gchar *acl, const gchar *title)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(gw_dm_tree_set_properties(tree, uri, access, acl, title, &error));
	g_assert_no_error(error);
}

/* a tree exercising every property and format */
static GwDmTree *
build_rich_tree(void)
{
	GwDmTree *tree = gw_dm_tree_new();
	const gchar bin[] = {0x00, 0x01, (gchar)0xff, (gchar)0x80, '<', '&', 0x00};

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, NULL));
	set_leaf(tree, "./MO/chr", GW_DM_FORMAT_CHR, "text/plain", "hello world", -1);
	set_leaf(tree, "./MO/markup", GW_DM_FORMAT_CHR, NULL, "<a href=\"x\">&amp;</a> ]]> '", -1);
	set_leaf(tree, "./MO/spaces", GW_DM_FORMAT_CHR, NULL, "   ", -1);
	set_leaf(tree, "./MO/lines", GW_DM_FORMAT_CHR, NULL, " a\r\nb\tc\n ", -1);
	set_leaf(tree, "./MO/unicode", GW_DM_FORMAT_CHR, NULL, "Grüße 名前 😀", -1);
	set_leaf(tree, "./MO/empty", GW_DM_FORMAT_CHR, NULL, "", -1);
	set_leaf(tree, "./MO/novalue", GW_DM_FORMAT_CHR, NULL, NULL, -1);
	set_leaf(tree, "./MO/int", GW_DM_FORMAT_INT, NULL, "-9223372036854775808", -1);
	set_leaf(tree, "./MO/bool", GW_DM_FORMAT_BOOL, NULL, "false", -1);
	set_leaf(tree, "./MO/float", GW_DM_FORMAT_FLOAT, NULL, "3.25e-2", -1);
	set_leaf(tree, "./MO/bin", GW_DM_FORMAT_BIN, "application/octet-stream", bin, sizeof(bin));
	set_leaf(tree, "./MO/b64", GW_DM_FORMAT_B64, NULL, "aGVsbG8=", -1);
	set_leaf(tree, "./MO/xml", GW_DM_FORMAT_XML, "text/xml", "<r><c a='1'/></r>", -1);
	set_leaf(tree, "./MO/date", GW_DM_FORMAT_DATE, NULL, "2026-01-31", -1);
	set_leaf(tree, "./MO/time", GW_DM_FORMAT_TIME, NULL, "12:30:00Z", -1);
	set_leaf(tree, "./MO/null", GW_DM_FORMAT_NULL, NULL, NULL, -1);
	set_leaf(tree, "./MO/secret", GW_DM_FORMAT_CHR, NULL, "s3cr3t", -1);
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./MO/Empty/Deeper/Deepest", NULL));
	g_assert_true(gw_dm_tree_set_mime_type(tree, "./MO", "urn:example:mo:test:1.0", NULL));
	set_props(
	    tree, "./MO", GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD, "Get=srvA+srvB&Add=srvA", "Test MO");
	set_props(tree, "./MO/secret", GW_DM_ACCESS_REPLACE, NULL, NULL);
	set_props(tree,
	          "./MO/chr",
	          GW_DM_ACCESS_GET | GW_DM_ACCESS_EXEC | GW_DM_ACCESS_COPY,
	          "Replace=srvA",
	          "A \"title\" & <more>");
	set_props(
	    tree, "./MO/Empty", GW_DM_ACCESS_NONE, "Get=*&Delete=srv+other&Exec=x&Replace=y", NULL);
	g_assert_true(gw_dm_tree_set_permanent(tree, "./MO/int", TRUE, NULL));
	g_assert_true(gw_dm_tree_set_permanent(tree, "./MO", TRUE, NULL));
	return tree;
}

static void
assert_same_node(GwDmNode *a, GwDmNode *b)
{
	g_autofree gchar *uri = gw_dm_node_dup_uri(a);
	g_autofree gchar *acl_a = gw_dm_node_dup_acl(a);
	g_autofree gchar *acl_b = gw_dm_node_dup_acl(b);
	GBytes *va = gw_dm_node_get_value(a);
	GBytes *vb = gw_dm_node_get_value(b);
	GPtrArray *ca = gw_dm_node_get_children(a);
	GPtrArray *cb = gw_dm_node_get_children(b);

	g_test_message("comparing %s", uri);
	g_assert_cmpstr(gw_dm_node_get_name(a), ==, gw_dm_node_get_name(b));
	g_assert_cmpint(gw_dm_node_get_format(a), ==, gw_dm_node_get_format(b));
	g_assert_cmpstr(gw_dm_node_get_mime_type(a), ==, gw_dm_node_get_mime_type(b));
	g_assert_cmpstr(gw_dm_node_get_title(a), ==, gw_dm_node_get_title(b));
	g_assert_cmpstr(acl_a, ==, acl_b);
	g_assert_cmpint(gw_dm_node_get_access(a), ==, gw_dm_node_get_access(b));
	g_assert_cmpint(gw_dm_node_get_permanent(a), ==, gw_dm_node_get_permanent(b));
	g_assert_true((va == NULL) == (vb == NULL));
	if (va != NULL) {
		gsize la = 0, lb = 0;
		const guint8 *da = g_bytes_get_data(va, &la);
		const guint8 *db = g_bytes_get_data(vb, &lb);
		g_assert_cmpmem(da, la, db, lb);
	}
	g_assert_cmpuint(ca->len, ==, cb->len);
	for (guint i = 0; i < ca->len; i++)
		assert_same_node(g_ptr_array_index(ca, i), g_ptr_array_index(cb, i));
}

static gchar *
dump(GwDmTree *tree)
{
	g_autoptr(GError) error = NULL;
	gchar *xml = gw_tnds_export(tree, ".", NULL, ALL_FLAGS, &error);
	g_assert_no_error(error);
	g_assert_nonnull(xml);
	return xml;
}

static void
test_roundtrip(void)
{
	g_autoptr(GwDmTree) tree = build_rich_tree();
	g_autoptr(GwDmTree) copy = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *xml = dump(tree);
	g_autofree gchar *xml2 = NULL;

	g_test_message("%s", xml);
	g_assert_true(g_str_has_prefix(xml, "<?xml"));
	g_assert_nonnull(strstr(xml, "<MgmtTree xmlns=\"syncml:dmddf1.2\">"));
	g_assert_nonnull(strstr(xml, "<VerDTD>1.2</VerDTD>"));
	g_assert_true(gw_tnds_import(copy, ".", xml, strlen(xml), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_no_error(error);
	assert_same_node(gw_dm_tree_get_root(tree), gw_dm_tree_get_root(copy));
	/* and the export of the copy is byte-identical */
	xml2 = dump(copy);
	g_assert_cmpstr(xml, ==, xml2);
}

/* the root of a fresh tree has a default ACL; a root whose ACL was emptied must come back
 * empty from its export (the state file), not with the default (found by fuzz-dm-journal) */
static void
test_root_empty_acl(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwDmTree) copy = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *xml2 = NULL;

	g_assert_true(gw_dm_tree_set_properties(tree, ".", GW_DM_ACCESS_NONE, "", NULL, &error));
	g_assert_no_error(error);
	g_assert_false(gw_dm_node_has_acl(gw_dm_tree_get_root(tree)));
	g_assert_true(gw_dm_node_has_acl(gw_dm_tree_get_root(copy)));
	xml = dump(tree);
	g_assert_true(gw_tnds_import(copy, ".", xml, strlen(xml), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_no_error(error);
	g_assert_false(gw_dm_node_has_acl(gw_dm_tree_get_root(copy)));
	xml2 = dump(copy);
	g_assert_cmpstr(xml, ==, xml2);
}

static void
test_roundtrip_subtree(void)
{
	g_autoptr(GwDmTree) tree = build_rich_tree();
	g_autoptr(GwDmTree) copy = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *xml = gw_tnds_export(tree, "./MO/Empty", NULL, ALL_FLAGS, &error);

	g_assert_no_error(error);
	g_assert_nonnull(strstr(xml, "<Path>./MO</Path>"));
	g_assert_true(gw_tnds_import(copy, ".", xml, strlen(xml), GW_TNDS_IMPORT_NONE, &error));
	g_assert_no_error(error);
	assert_same_node(gw_dm_tree_lookup(tree, "./MO/Empty"),
	                 gw_dm_tree_lookup(copy, "./MO/Empty"));
	g_assert_false(gw_dm_node_is_leaf(gw_dm_tree_lookup(copy, "./MO")));
}

static gchar *
read_data(const gchar *name, gsize *len)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_test_build_filename(G_TEST_DIST, "data", "tree", name, NULL);
	gchar *xml = NULL;

	g_assert_true(g_file_get_contents(path, &xml, len, &error));
	g_assert_no_error(error);
	return xml;
}

static void
test_in_the_wild(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	g_autofree gchar *xml = read_data("hotspot-pps.xml", &len);
	g_autofree gchar *name = NULL;
	g_autofree gchar *pw = NULL;
	GwDmNode *node;

	g_assert_true(
	    gw_tnds_import(tree, "./Wi-Fi/example.com", xml, len, GW_TNDS_IMPORT_NONE, &error));
	g_assert_no_error(error);
	node = gw_dm_tree_lookup(tree, "./Wi-Fi/example.com/PerProviderSubscription");
	g_assert_nonnull(node);
	g_assert_false(gw_dm_node_is_leaf(node));
	g_assert_cmpstr(gw_dm_node_get_mime_type(node),
	                ==,
	                "urn:wfa:mo:hotspot2dot0-perprovidersubscription:1.0");
	name = gw_dm_tree_dup_string(
	    tree, "./Wi-Fi/example.com/PerProviderSubscription/i001/HomeSP/FriendlyName");
	g_assert_cmpstr(name, ==, "Example Network");
	node =
	    gw_dm_tree_lookup(tree, "./Wi-Fi/example.com/PerProviderSubscription/i001/HomeSP/FQDN");
	g_assert_cmpint(gw_dm_node_get_format(node), ==, GW_DM_FORMAT_CHR);
	g_assert_cmpint(gw_dm_node_get_access(node), ==, GW_DM_ACCESS_ALL);
	pw = gw_dm_tree_dup_string(tree,
	                           "./Wi-Fi/example.com/PerProviderSubscription/i001/Credential/"
	                           "UsernamePassword/Password");
	g_assert_cmpstr(pw, ==, "cGFzc3dvcmQ=");
	node = gw_dm_tree_lookup(tree,
	                         "./Wi-Fi/example.com/PerProviderSubscription/i001/Credential/"
	                         "UsernamePassword/Password");
	g_assert_cmpstr(gw_dm_node_get_mime_type(node), ==, "text/plain");
	/* a node without Value and children is interior */
	node =
	    gw_dm_tree_lookup(tree, "./Wi-Fi/example.com/PerProviderSubscription/i001/Extension");
	g_assert_false(gw_dm_node_is_leaf(node));

	/* importing it again without REPLACE: the leaves exist */
	g_assert_false(
	    gw_tnds_import(tree, "./Wi-Fi/example.com", xml, len, GW_TNDS_IMPORT_NONE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	g_clear_error(&error);
	g_assert_true(
	    gw_tnds_import(tree, "./Wi-Fi/example.com", xml, len, GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_no_error(error);
}

static void
test_full_properties(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	g_autofree gchar *xml = read_data("dmacc-full.xml", &len);
	g_autofree gchar *acl = NULL;
	GwDmNode *node;
	GBytes *data;
	const guint8 expected[] = {0, 1, 2, 3, 4, 5, 6, 7};

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, NULL));
	g_assert_true(gw_tnds_import(tree, "./Ignored", xml, len, GW_TNDS_IMPORT_NONE, &error));
	g_assert_no_error(error);
	g_assert_null(gw_dm_tree_lookup(tree, "./Ignored"));
	node = gw_dm_tree_lookup(tree, "./DMAcc/funambol");
	g_assert_nonnull(node);
	acl = gw_dm_node_dup_acl(node);
	g_assert_cmpstr(acl, ==, "Get=funambol&Replace=funambol");
	g_assert_cmpint(gw_dm_node_get_access(node),
	                ==,
	                GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE | GW_DM_ACCESS_DELETE |
	                    GW_DM_ACCESS_ADD);
	g_assert_false(gw_dm_node_get_permanent(node));
	node = gw_dm_tree_lookup(tree, "./DMAcc/funambol/AppAuth/srv/AAuthData");
	g_assert_cmpint(gw_dm_node_get_format(node), ==, GW_DM_FORMAT_BIN);
	g_assert_cmpint(gw_dm_node_get_access(node), ==, GW_DM_ACCESS_REPLACE);
	data = gw_dm_node_get_value(node);
	g_assert_cmpmem(
	    g_bytes_get_data(data, NULL), g_bytes_get_size(data), expected, sizeof(expected));
	/* the server itself may read its account, but not the secret */
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "funambol", "./DMAcc/funambol/AppAuth/srv/AAuthType", NULL),
	    ==,
	    200);
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "funambol", "./DMAcc/funambol/AppAuth/srv/AAuthSecret", NULL),
	    ==,
	    405);
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "other", "./DMAcc/funambol/AppAuth/srv/AAuthType", NULL), ==, 425);
}

static void
check_rejected(GwDmTree *tree, const gchar *xml, gssize len, const gchar *what)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *before = dump(tree);
	g_autofree gchar *after = NULL;
	guint64 gen = gw_dm_tree_get_generation(tree);

	g_test_message("rejecting: %s", what);
	g_assert_false(gw_tnds_import(
	    tree, ".", xml, len < 0 ? strlen(xml) : (gsize)len, GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_cmpuint(gw_dm_tree_get_generation(tree), ==, gen);
	after = dump(tree);
	g_assert_cmpstr(before, ==, after);
}

#define HEAD "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
#define TAIL "</MgmtTree>"

static void
test_malformed(void)
{
	g_autoptr(GwDmTree) tree = build_rich_tree();
	g_autoptr(GString) deep = g_string_new(HEAD);
	g_autoptr(GString) deep_ok = g_string_new(HEAD);
	g_autofree gchar *valid = dump(tree);
	g_autofree gchar *huge = NULL;
	const gchar non_utf8[] = HEAD "<Node><NodeName>A\xff</NodeName></Node>" TAIL;
	const gchar with_nul[] = HEAD "<Node><NodeName>A</NodeName></Node>\0" TAIL;
	const gchar *billion_laughs =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE MgmtTree [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "]>\n" HEAD "<Node><NodeName>X</NodeName><Value>&lol3;</Value></Node>" TAIL;
	const gchar *xxe =
	    "<?xml version=\"1.0\"?><!DOCTYPE MgmtTree SYSTEM \"file:///etc/passwd\">" HEAD
	    "<Node><NodeName>X</NodeName></Node>" TAIL;
	const struct {
		const gchar *xml;
		const gchar *what;
	} cases[] = {
	    {"<MgmtTree", "truncated start"},
	    {HEAD "<Node><NodeName>A</NodeName>", "truncated"},
	    {"<Tree xmlns=\"syncml:dmddf1.2\"><Node><NodeName>A</NodeName></Node></Tree>",
	     "wrong root"},
	    {"<MgmtTree xmlns=\"urn:other\"><Node><NodeName>A</NodeName></Node></MgmtTree>",
	     "wrong namespace"},
	    {"not xml at all", "garbage"},
	    {HEAD
	     "<Node><NodeName>A</NodeName><RTProperties><Format><string/></Format></RTProperties>"
	     "<Value>x</Value></Node>" TAIL,
	     "bad format name"},
	    {HEAD "<Node><NodeName>A</NodeName><RTProperties><Format><chr/><int/></Format></"
	          "RTProperties>"
	          "</Node>" TAIL,
	     "two formats"},
	    {HEAD "<Node><NodeName>A</NodeName><RTProperties><Format><int/></Format></RTProperties>"
	          "<Value>abc</Value></Node>" TAIL,
	     "value does not fit"},
	    {HEAD "<Node><NodeName>A</NodeName><RTProperties><Format><bin/></Format></RTProperties>"
	          "<Value>!!notbase64!!</Value></Node>" TAIL,
	     "bin not base64"},
	    {HEAD
	     "<Node><NodeName>A</NodeName><RTProperties><Format><node/></Format></RTProperties>"
	     "<Value>x</Value></Node>" TAIL,
	     "interior with value"},
	    {HEAD "<Node><NodeName>A</NodeName><RTProperties><Format><chr/></Format></RTProperties>"
	          "<Node><NodeName>B</NodeName></Node></Node>" TAIL,
	     "leaf with children"},
	    {HEAD "<Node><NodeName>A</NodeName><Value>x</Value><Node><NodeName>B</NodeName></"
	          "Node></Node>" TAIL,
	     "value and children"},
	    {HEAD "<Node><NodeName>a/b</NodeName></Node>" TAIL, "slash in name"},
	    {HEAD "<Node><NodeName>..</NodeName></Node>" TAIL, "dot-dot name"},
	    {HEAD "<Node><NodeName>A</NodeName><Node><NodeName></NodeName></Node></Node>" TAIL,
	     "empty child name"},
	    {HEAD "<Node><Value>x</Value></Node>" TAIL, "no NodeName"},
	    {HEAD "<Node><NodeName>A</NodeName><NodeName>B</NodeName></Node>" TAIL, "two NodeName"},
	    {HEAD "<Node><NodeName>A</NodeName><Node><NodeName>B</NodeName></Node>"
	          "<Node><NodeName>B</NodeName></Node></Node>" TAIL,
	     "duplicate siblings"},
	    {HEAD "<Node><NodeName>A</NodeName><Node><NodeName>B</NodeName><Path>./X</Path></"
	          "Node></Node>" TAIL,
	     "nested Path"},
	    {HEAD "<Node><NodeName>A</NodeName><Path>./X//Y</Path></Node>" TAIL, "bad Path"},
	    {HEAD
	     "<Node><NodeName>A</NodeName><RTProperties><ACL>Get=</ACL></RTProperties></Node>" TAIL,
	     "bad ACL"},
	    {HEAD "<Node><NodeName>A</NodeName>stray text</Node>" TAIL, "stray text"},
	    {HEAD "<Node><NodeName>A<b/></NodeName></Node>" TAIL, "element in NodeName"},
	    {HEAD "<Node><NodeName>A</NodeName><Value>&undefined;</Value></Node>" TAIL,
	     "undefined entity"},
	    {HEAD "<Node><NodeName>A</NodeName><Value>&#1;</Value></Node>" TAIL,
	     "control character"},
	    {HEAD "<Node><NodeName>A</NodeName><DFProperties><Scope><Forever/></Scope></"
	          "DFProperties></Node>" TAIL,
	     "bad scope"},
	    {HEAD "<Node><NodeName>.</NodeName><Value>x</Value></Node>" TAIL,
	     "import point as a leaf"},
	    {billion_laughs, "entity declarations (billion laughs)"},
	    {xxe, "external DTD"},
	    {"", "empty"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		check_rejected(tree, cases[i].xml, -1, cases[i].what);
	check_rejected(tree, non_utf8, sizeof(non_utf8) - 1, "not UTF-8");
	check_rejected(tree, with_nul, sizeof(with_nul) - 1, "NUL byte");
	/* a valid document cut short */
	check_rejected(tree, valid, strlen(valid) / 2, "truncated export");
	check_rejected(tree, valid, strlen(valid) - 3, "truncated export end");

	/* nesting: 64 levels are fine, 100 are not */
	for (guint i = 0; i < 100; i++)
		g_string_append_printf(deep, "<Node><NodeName>n%u</NodeName>", i);
	for (guint i = 0; i < 100; i++)
		g_string_append(deep, "</Node>");
	g_string_append(deep, TAIL);
	check_rejected(tree, deep->str, -1, "depth 100");
	for (guint i = 0; i < 64; i++)
		g_string_append_printf(deep_ok, "<Node><NodeName>n%u</NodeName>", i);
	for (guint i = 0; i < 64; i++)
		g_string_append(deep_ok, "</Node>");
	g_string_append(deep_ok, TAIL);
	{
		g_autoptr(GwDmTree) fresh = gw_dm_tree_new();
		g_autoptr(GError) error = NULL;
		g_assert_true(gw_tnds_import(
		    fresh, ".", deep_ok->str, deep_ok->len, GW_TNDS_IMPORT_NONE, &error));
		g_assert_no_error(error);
	}

	/* over 16 MiB, even when well formed */
	huge = g_malloc(16 * 1024 * 1024 + 64);
	memset(huge, ' ', 16 * 1024 * 1024 + 64);
	memcpy(huge, HEAD, strlen(HEAD));
	memcpy(huge + 16 * 1024 * 1024 + 64 - strlen(TAIL), TAIL, strlen(TAIL));
	check_rejected(tree, huge, 16 * 1024 * 1024 + 64, "over 16 MiB");
}

static void
test_conflicts(void)
{
	g_autoptr(GwDmTree) tree = build_rich_tree();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *before = dump(tree);
	g_autofree gchar *after = NULL;
	const gchar *leaf_vs_interior =
	    HEAD "<Node><NodeName>MO</NodeName><Node><NodeName>chr</NodeName>"
	         "<Node><NodeName>X</NodeName></Node></Node></Node>" TAIL;
	const gchar *interior_vs_leaf = HEAD "<Node><NodeName>Empty</NodeName><Path>./MO</Path>"
	                                     "<Value>x</Value></Node>" TAIL;
	const gchar *leaf_on_path =
	    HEAD "<Node><NodeName>X</NodeName><Path>./MO/chr</Path></Node>" TAIL;
	/* the first top node applies, the second collides with it: rolled back */
	const gchar *self_conflict =
	    HEAD "<Node><NodeName>New</NodeName><Value>v</Value></Node>"
	         "<Node><NodeName>Inner</NodeName><Path>./New</Path></Node>" TAIL;

	g_assert_false(gw_tnds_import(
	    tree, ".", leaf_vs_interior, strlen(leaf_vs_interior), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED);
	g_clear_error(&error);
	g_assert_false(gw_tnds_import(
	    tree, ".", interior_vs_leaf, strlen(interior_vs_leaf), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED);
	g_clear_error(&error);
	g_assert_false(gw_tnds_import(
	    tree, ".", leaf_on_path, strlen(leaf_on_path), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED);
	g_clear_error(&error);
	g_assert_false(gw_tnds_import(
	    tree, ".", self_conflict, strlen(self_conflict), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	/* import below a leaf */
	g_assert_false(gw_tnds_import(
	    tree, "./MO/chr", leaf_on_path, strlen(leaf_on_path), GW_TNDS_IMPORT_NONE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED);
	g_clear_error(&error);

	after = dump(tree);
	g_assert_cmpstr(before, ==, after);
	g_assert_null(gw_dm_tree_lookup(tree, "./New"));
}

static void
test_relative_path(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	const gchar *xml =
	    HEAD "<Node><NodeName>.</NodeName><RTProperties><Title>import "
	         "point</Title></RTProperties></Node>"
	         "<Node><NodeName>Leaf</NodeName><Path>Sub/Dir</Path><Value>v</Value></Node>" TAIL;
	g_autofree gchar *v = NULL;

	g_assert_true(
	    gw_tnds_import(tree, "./Base", xml, strlen(xml), GW_TNDS_IMPORT_NONE, &error));
	g_assert_no_error(error);
	v = gw_dm_tree_dup_string(tree, "./Base/Sub/Dir/Leaf");
	g_assert_cmpstr(v, ==, "v");
	g_assert_cmpstr(
	    gw_dm_node_get_title(gw_dm_tree_lookup(tree, "./Base")), ==, "import point");
}

/* GwMO-SECARIZE-001: a server only sees what it may Get */
static void
test_server_scope(void)
{
	g_autoptr(GwDmTree) tree = build_rich_tree();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *for_a = NULL;
	g_autofree gchar *for_c = NULL;
	g_autofree gchar *owner = NULL;

	set_props(tree, "./MO/Empty/Deeper", GW_DM_ACCESS_NONE, "Get=srvB", NULL);
	for_a = gw_tnds_export(tree, "./MO", "srvA", GW_TNDS_EXPORT_VALUES, &error);
	g_assert_no_error(error);
	/* ./MO/chr has its own ACL without Get */
	g_assert_null(strstr(for_a, "<NodeName>chr</NodeName>"));
	g_assert_nonnull(strstr(for_a, "<NodeName>markup</NodeName>"));
	g_assert_nonnull(strstr(for_a, "<NodeName>Empty</NodeName>"));
	g_assert_null(strstr(for_a, "<NodeName>Deeper</NodeName>"));
	g_assert_null(strstr(for_a, "Deepest"));
	/* no DF properties without the flag */
	g_assert_null(strstr(for_a, "<DFProperties>"));

	for_c = gw_tnds_export(tree, "./MO", "srvC", GW_TNDS_EXPORT_VALUES, &error);
	g_assert_null(for_c);
	g_assert_error(error, GW_ERROR, GW_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	/* srvC may read the root, so it sees the root and what inherits from it only */
	g_clear_pointer(&for_c, g_free);
	for_c = gw_tnds_export(tree, ".", "srvC", GW_TNDS_EXPORT_VALUES, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(for_c, "<NodeName>DevDetail</NodeName>"));
	g_assert_null(strstr(for_c, "<NodeName>MO</NodeName>"));

	owner = gw_tnds_export(tree, "./MO", NULL, GW_TNDS_EXPORT_VALUES, &error);
	g_assert_nonnull(strstr(owner, "Deepest"));

	g_assert_null(gw_tnds_export(tree, "./Nope", NULL, GW_TNDS_EXPORT_VALUES, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_null(gw_tnds_export(tree, "./A//B", NULL, GW_TNDS_EXPORT_VALUES, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_URI);
}

static void
test_secrets(void)
{
	g_autoptr(GwDmTree) tree = build_rich_tree();
	g_autofree gchar *plain = gw_tnds_export(tree, "./MO", NULL, GW_TNDS_EXPORT_VALUES, NULL);
	g_autofree gchar *secrets = gw_tnds_export(
	    tree, "./MO", NULL, GW_TNDS_EXPORT_VALUES | GW_TNDS_EXPORT_SECRETS, NULL);
	g_autofree gchar *none = gw_tnds_export(tree, "./MO", NULL, GW_TNDS_EXPORT_NONE, NULL);
	g_autoptr(GwDmTree) copy = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(strstr(plain, "<NodeName>secret</NodeName>"));
	g_assert_null(strstr(plain, "s3cr3t"));
	g_assert_nonnull(strstr(plain, "hello world"));
	g_assert_nonnull(strstr(secrets, "<Value>s3cr3t</Value>"));
	g_assert_null(strstr(none, "<Value>"));
	g_assert_nonnull(strstr(none, "<NodeName>secret</NodeName>"));

	/* importing the export without secrets gives a leaf without value */
	g_assert_true(gw_tnds_import(copy, ".", plain, strlen(plain), GW_TNDS_IMPORT_NONE, &error));
	g_assert_no_error(error);
	g_assert_true(gw_dm_node_is_leaf(gw_dm_tree_lookup(copy, "./MO/secret")));
	g_assert_null(gw_dm_node_get_value(gw_dm_tree_lookup(copy, "./MO/secret")));
}

/* ---- the standard definitions (DDF) are the gateway's (issue 11 §1) ---- */

/* a factory bootstrap as new users write it: AppAuth/1's secrets without <AccessType> (and
 * AAuthData without <Format>, base64), AppAuth/2's secret asking for Get outright */
#define BOOT_NO_ACCESS                                                                        \
	HEAD "<Node><NodeName>srv1</NodeName><Path>./DMAcc</Path>"                            \
	     "<RTProperties><ACL>Get=srv1&amp;Replace=srv1</ACL></RTProperties>"              \
	     "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"                       \
	     "<Node><NodeName>ServerID</NodeName><Value>srv1</Value></Node>"                  \
	     "<Node><NodeName>AppAuth</NodeName>"                                             \
	     "<Node><NodeName>1</NodeName>"                                                   \
	     "<Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"              \
	     "<Node><NodeName>AAuthSecret</NodeName><Value>pw-no-access</Value></Node>"       \
	     "<Node><NodeName>AAuthData</NodeName><Value>bm9uY2Utbm8tYWNjZXNz</Value></Node>" \
	     "</Node>"                                                                        \
	     "<Node><NodeName>2</NodeName>"                                                   \
	     "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"             \
	     "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format>"    \
	     "</RTProperties><DFProperties><AccessType><Get/><Replace/></AccessType>"         \
	     "</DFProperties><Value>pw-asks-get</Value></Node>"                               \
	     "<Node><NodeName>AAuthData</NodeName><RTProperties><Format><bin/></Format>"      \
	     "</RTProperties><DFProperties><AccessType><Get/></AccessType>"                   \
	     "</DFProperties><Value>bm9uY2UtYXNrcy1nZXQ=</Value></Node>"                      \
	     "</Node></Node></Node>" TAIL

static void
test_ddf_secrets(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *plain = NULL;
	g_autofree gchar *state = NULL;
	g_autoptr(GPtrArray) list = NULL;
	const gchar *secrets[] = {"./DMAcc/srv1/AppAuth/1/AAuthSecret",
	                          "./DMAcc/srv1/AppAuth/1/AAuthData",
	                          "./DMAcc/srv1/AppAuth/2/AAuthSecret",
	                          "./DMAcc/srv1/AppAuth/2/AAuthData"};
	GBytes *nonce;

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, NULL));
	g_assert_true(gw_tnds_import(
	    tree, ".", BOOT_NO_ACCESS, strlen(BOOT_NO_ACCESS), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(secrets); i++) {
		GwDmNode *node = gw_dm_tree_lookup(tree, secrets[i]);
		g_test_message("%s", secrets[i]);
		g_assert_nonnull(node);
		g_assert_cmpint(gw_dm_node_get_access(node) & GW_DM_ACCESS_GET, ==, 0);
		g_assert_cmpuint(gw_dm_tree_get(tree, "srv1", secrets[i], NULL), ==, 405);
		g_assert_cmpuint(gw_dm_tree_get(tree, NULL, secrets[i], NULL), ==, 405);
	}
	/* AAuthData without <Format> is bin, as its DDF says: the base64 value decoded */
	nonce = gw_dm_node_get_value(gw_dm_tree_lookup(tree, "./DMAcc/srv1/AppAuth/1/AAuthData"));
	g_assert_cmpint(
	    gw_dm_node_get_format(gw_dm_tree_lookup(tree, "./DMAcc/srv1/AppAuth/1/AAuthData")),
	    ==,
	    GW_DM_FORMAT_BIN);
	g_assert_cmpmem(
	    g_bytes_get_data(nonce, NULL), g_bytes_get_size(nonce), "nonce-no-access", 15);
	/* exports and list queries have no value of them; the state (SECRETS) keeps them */
	plain = gw_tnds_export(tree, ".", NULL, GW_TNDS_EXPORT_VALUES, NULL);
	g_assert_null(strstr(plain, "pw-no-access"));
	g_assert_null(strstr(plain, "pw-asks-get"));
	g_assert_null(strstr(plain, "bm9uY2U"));
	g_assert_nonnull(strstr(plain, "<NodeName>AAuthSecret</NodeName>"));
	state = gw_tnds_export(tree, ".", NULL, ALL_FLAGS, NULL);
	g_assert_nonnull(strstr(state, "pw-no-access"));
	g_assert_nonnull(strstr(state, "pw-asks-get"));
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "srv1", "./DMAcc/srv1?list=StructData", &list), ==, 200);
	for (guint i = 0; i < list->len; i++) {
		GwDmItem *item = g_ptr_array_index(list, i);
		if (g_str_has_suffix(item->uri, "/AAuthSecret") ||
		    g_str_has_suffix(item->uri, "/AAuthData"))
			g_assert_null(item->data);
	}
	/* the state restores as it was, secrets unreadable */
	{
		g_autoptr(GwDmTree) copy = gw_dm_tree_new();
		g_autofree gchar *again = NULL;
		g_assert_true(gw_tnds_import(copy,
		                             ".",
		                             state,
		                             strlen(state),
		                             GW_TNDS_IMPORT_REPLACE | GW_TNDS_IMPORT_RESTORE,
		                             &error));
		g_assert_no_error(error);
		again = gw_tnds_export(copy, ".", NULL, ALL_FLAGS, NULL);
		g_assert_cmpstr(state, ==, again);
	}
}

/* a document asking for an impossible format or a node the DDF does not have: refused whole */
static void
test_ddf_refused(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	static const struct {
		const gchar *xml;
		gint code; /* GwError */
	} docs[] = {
	    {HEAD "<Node><NodeName>a</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>ServerID</NodeName><Value>a</Value></Node>"
	          "<Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
	          "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><node/></Format>"
	          "</RTProperties></Node></Node></Node></Node>" TAIL,
	     GW_ERROR_NOT_SUPPORTED},
	    {HEAD "<Node><NodeName>a</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
	          "<Node><NodeName>AAuthLevel</NodeName><RTProperties><Format><int/></Format>"
	          "</RTProperties><Value>1</Value></Node></Node></Node></Node>" TAIL,
	     GW_ERROR_NOT_SUPPORTED},
	    {HEAD "<Node><NodeName>a</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
	          "<Node><NodeName>AAuthSecret</NodeName><Node><NodeName>x</NodeName>"
	          "<Value>v</Value></Node></Node></Node></Node></Node>" TAIL,
	     GW_ERROR_NOT_SUPPORTED},
	    {HEAD "<Node><NodeName>a</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>AppAddr</NodeName><Value>v</Value></Node></Node>" TAIL,
	     GW_ERROR_NOT_SUPPORTED},
	    {HEAD "<Node><NodeName>a</NodeName><Path>./DMAcc</Path>"
	          "<Node><NodeName>Password</NodeName><Value>v</Value></Node></Node>" TAIL,
	     GW_ERROR_NOT_ALLOWED},
	    {HEAD "<Node><NodeName>Bogus</NodeName><Path>./DMAcc/a/AppAuth/1</Path>"
	          "<Value>v</Value></Node>" TAIL,
	     GW_ERROR_NOT_ALLOWED},
	    {HEAD "<Node><NodeName>X</NodeName><Path>./DMAcc/a/Oops/1</Path>"
	          "<Value>v</Value></Node>" TAIL,
	     GW_ERROR_NOT_ALLOWED},
	    {HEAD "<Node><NodeName>AAuthData</NodeName><Path>./DMAcc/a/AppAuth/1</Path>"
	          "<Value>not base64!</Value></Node>" TAIL,
	     GW_ERROR_PROTOCOL},
	    {HEAD "<Node><NodeName>LrgObj</NodeName><Path>./DevDetail</Path>"
	          "<Value>maybe</Value></Node>" TAIL,
	     GW_ERROR_NOT_SUPPORTED},
	    {HEAD "<Node><NodeName>Nope</NodeName><Path>./DevInfo</Path>"
	          "<Value>v</Value></Node>" TAIL,
	     GW_ERROR_NOT_ALLOWED},
	};

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, NULL));
	for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *before = dump(tree);
		g_autofree gchar *after = NULL;
		g_test_message("%s", docs[i].xml);
		g_assert_false(gw_tnds_import(
		    tree, ".", docs[i].xml, strlen(docs[i].xml), GW_TNDS_IMPORT_REPLACE, &error));
		g_assert_error(error, GW_ERROR, docs[i].code);
		g_test_message("-> %s", error->message);
		after = dump(tree);
		g_assert_cmpstr(before, ==, after);
	}
	/* below Ext anything goes; the right formats pass */
	{
		const gchar *ok =
		    HEAD "<Node><NodeName>a</NodeName><Path>./DMAcc</Path>"
		         "<Node><NodeName>Ext</NodeName><Node><NodeName>Vendor</NodeName>"
		         "<RTProperties><Format><int/></Format></RTProperties>"
		         "<Value>7</Value></Node></Node>"
		         "<Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
		         "<Node><NodeName>AAuthLevel</NodeName><RTProperties><Format><chr/>"
		         "</Format></RTProperties><Value>SRVCRED</Value></Node>"
		         "</Node></Node></Node>" TAIL;
		g_autoptr(GError) error = NULL;
		g_assert_true(
		    gw_tnds_import(tree, ".", ok, strlen(ok), GW_TNDS_IMPORT_NONE, &error));
		g_assert_no_error(error);
	}
}

/* a bootstrap in replace mode does not change what the DDF makes read only (SetNode gives 405
 * for ./DevInfo/DevId; so does a bootstrap) */
static void
test_ddf_devinfo_replace(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *devid = NULL;
	const gchar *evil = HEAD "<Node><NodeName>DevId</NodeName><Path>./DevInfo</Path>"
	                         "<Value>EVIL</Value></Node>"
	                         "<Node><NodeName>x</NodeName><Path>./DMAcc</Path></Node>" TAIL;
	const gchar *same =
	    HEAD "<Node><NodeName>DevId</NodeName><Path>./DevInfo</Path>"
	         "<Value>urn:uuid:0d3c3f6e-1d0a-4b57-9d2c-000000000001</Value></Node>"
	         "<Node><NodeName>Vendor</NodeName><Path>./DevInfo/Ext</Path>"
	         "<Value>v</Value></Node>" TAIL;
	const gchar *access = HEAD "<Node><NodeName>DevId</NodeName><Path>./DevInfo</Path>"
	                           "<DFProperties><AccessType><Get/><Replace/></AccessType>"
	                           "</DFProperties></Node>" TAIL;

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, NULL));
	before = dump(tree);
	g_assert_false(
	    gw_tnds_import(tree, ".", evil, strlen(evil), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED);
	g_assert_nonnull(strstr(error->message, "./DevInfo/DevId"));
	g_clear_error(&error);
	after = dump(tree);
	g_assert_cmpstr(before, ==, after);
	devid = gw_dm_tree_dup_string(tree, "./DevInfo/DevId");
	g_assert_cmpstr(devid, ==, test_info.dev_id);
	g_assert_null(gw_dm_tree_lookup(tree, "./DMAcc/x"));
	/* the same value (a re-applied export) and DevInfo/Ext pass */
	g_assert_true(
	    gw_tnds_import(tree, ".", same, strlen(same), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_no_error(error);
	/* asking for Replace does not give it */
	g_assert_true(
	    gw_tnds_import(tree, ".", access, strlen(access), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_no_error(error);
	g_assert_cmpint(gw_dm_node_get_access(gw_dm_tree_lookup(tree, "./DevInfo/DevId")),
	                ==,
	                GW_DM_ACCESS_GET);
}

/* the state file of an older gwmod (DDF names and formats not checked then, laxer values)
 * still loads: only access types are taken away */
static void
test_ddf_restore_lenient(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	const gchar *old_state =
	    HEAD "<Node><NodeName>a</NodeName><Path>./DMAcc</Path>"
	         "<Node><NodeName>Vendor</NodeName><Value>v</Value></Node>"
	         "<Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
	         "<Node><NodeName>AAuthData</NodeName><RTProperties><Format><chr/></Format>"
	         "</RTProperties><DFProperties><AccessType><Get/><Replace/></AccessType>"
	         "</DFProperties><Value>chr-nonce</Value></Node></Node></Node></Node>"
	         "<Node><NodeName>When</NodeName><Path>./X</Path><RTProperties><Format><date/>"
	         "</Format></RTProperties><Value>yesterday</Value></Node>"
	         "<Node><NodeName>F</NodeName><Path>./X</Path><RTProperties><Format><float/>"
	         "</Format></RTProperties><Value>nan</Value></Node>" TAIL;

	g_assert_false(
	    gw_tnds_import(tree, ".", old_state, strlen(old_state), GW_TNDS_IMPORT_REPLACE, NULL));
	g_assert_true(gw_tnds_import(tree,
	                             ".",
	                             old_state,
	                             strlen(old_state),
	                             GW_TNDS_IMPORT_REPLACE | GW_TNDS_IMPORT_RESTORE,
	                             &error));
	g_assert_no_error(error);
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./DMAcc/a/Vendor"));
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, "./DMAcc/a/AppAuth/1/AAuthData")),
	    ==,
	    GW_DM_ACCESS_REPLACE);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/tnds/roundtrip", test_roundtrip);
	g_test_add_func("/gw/tnds/roundtrip-subtree", test_roundtrip_subtree);
	g_test_add_func("/gw/tnds/in-the-wild", test_in_the_wild);
	g_test_add_func("/gw/tnds/full-properties", test_full_properties);
	g_test_add_func("/gw/tnds/malformed", test_malformed);
	g_test_add_func("/gw/tnds/conflicts", test_conflicts);
	g_test_add_func("/gw/tnds/relative-path", test_relative_path);
	g_test_add_func("/gw/tnds/server-scope", test_server_scope);
	g_test_add_func("/gw/tnds/secrets", test_secrets);
	g_test_add_func("/gw/tnds/root-empty-acl", test_root_empty_acl);
	g_test_add_func("/gw/tnds/ddf-secrets", test_ddf_secrets);
	g_test_add_func("/gw/tnds/ddf-refused", test_ddf_refused);
	g_test_add_func("/gw/tnds/ddf-devinfo-replace", test_ddf_devinfo_replace);
	g_test_add_func("/gw/tnds/ddf-restore-lenient", test_ddf_restore_lenient);
	return g_test_run();
}
