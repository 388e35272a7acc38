/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The DM tree: DM commands and their status codes, ACL enforcement per ServerID
 * (requirement GwMO-SECARIZE-001), hooks, signals, snapshots, standard objects.
 */

#include "config.h"

#include <string.h>

#include "gw-dm-owner.h"
#include "gw-dm-tree.h"
#include "gw-tnds.h"

static const GwDmDeviceInfo test_info = {
    .dev_id = "IMEI:490154203237518",
    .man = "Example Corp",
    .mod = "GW-1",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "Example OEM",
    .fwv = "1.0",
    .swv = "0.1.0",
    .hwv = "rev-b",
    .max_depth = 0,
    .max_tot_len = 0,
    .max_seg_len = 0,
};

static GBytes *
b(const gchar *s)
{
	return g_bytes_new(s, strlen(s));
}

/* for a call's argument: freed at the end of the test run */
static GBytes *
b_static(const gchar *s)
{
	static GPtrArray *keep = NULL;
	if (keep == NULL)
		keep = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_ptr_array_add(keep, b(s));
	return g_ptr_array_index(keep, keep->len - 1);
}

static GwDmTree *
new_std_tree(void)
{
	g_autoptr(GError) error = NULL;
	GwDmTree *tree = gw_dm_tree_new();
	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, &error));
	g_assert_no_error(error);
	return tree;
}

/* Get as @server and return the single item's data as a string (NULL when no data) */
static gchar *
get_string(GwDmTree *tree, const gchar *server, const gchar *uri, guint *status)
{
	g_autoptr(GPtrArray) results = NULL;
	*status = gw_dm_tree_get(tree, server, uri, &results);
	if (*status != 200)
		return NULL;
	g_assert_nonnull(results);
	g_assert_cmpuint(results->len, ==, 1);
	return gw_dm_item_dup_string(g_ptr_array_index(results, 0));
}

static guint
add_str(GwDmTree *tree, const gchar *server, const gchar *uri, GwDmFormat format, const gchar *v)
{
	g_autoptr(GBytes) data = v != NULL ? b(v) : NULL;
	return gw_dm_tree_add(tree, server, uri, format, "text/plain", data);
}

static guint
replace_str(GwDmTree *tree, const gchar *server, const gchar *uri, const gchar *v)
{
	g_autoptr(GBytes) data = v != NULL ? b(v) : NULL;
	return gw_dm_tree_replace(tree, server, uri, GW_DM_FORMAT_INVALID, NULL, data);
}

static void
test_standard_objects(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GError) error = NULL;
	GwDmDeviceInfo info2 = test_info;
	GwDmNode *node;
	guint status = 0;
	g_autofree gchar *devid = get_string(tree, "srvA", "./DevInfo/DevId", &status);
	g_autofree gchar *lrg = NULL;
	g_autofree gchar *maxdepth = NULL;
	g_autofree gchar *man = NULL;
	g_autofree gchar *fwv = NULL;
	g_autofree gchar *dmv = NULL;
	g_autofree gchar *devinfo_acl = NULL;
	g_auto(GStrv) children = NULL;

	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(devid, ==, "IMEI:490154203237518");
	dmv = gw_dm_tree_dup_string(tree, "./DevInfo/DmV");
	g_assert_cmpstr(dmv, ==, "1.3");
	lrg = gw_dm_tree_dup_string(tree, "./DevDetail/LrgObj");
	g_assert_cmpstr(lrg, ==, "true");
	maxdepth = gw_dm_tree_dup_string(tree, "./DevDetail/URI/MaxDepth");
	g_assert_cmpstr(maxdepth, ==, "0");
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./DevInfo/Ext"));
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./DevDetail/HwV"));
	children = gw_dm_tree_list_children(tree, "./DevInfo");
	g_assert_cmpuint(g_strv_length(children), ==, 6);

	node = gw_dm_tree_lookup(tree, "./DevInfo/Man");
	g_assert_nonnull(node);
	g_assert_true(gw_dm_node_get_permanent(node));
	g_assert_cmpint(gw_dm_node_get_access(node), ==, GW_DM_ACCESS_GET);
	g_assert_cmpint(gw_dm_node_get_format(node), ==, GW_DM_FORMAT_CHR);
	g_assert_cmpstr(gw_dm_node_get_mime_type(node), ==, "text/plain");
	node = gw_dm_tree_lookup(tree, "./DMAcc");
	g_assert_nonnull(node);
	g_assert_false(gw_dm_node_is_leaf(node));
	g_assert_true(gw_dm_node_get_permanent(node));
	g_assert_cmpint(gw_dm_node_get_access(node), ==, GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD);
	node = gw_dm_tree_lookup(tree, "./DevInfo");
	devinfo_acl = gw_dm_node_dup_acl(node);
	g_assert_cmpstr(devinfo_acl, ==, "Get=*");

	/* Get-only, permanent */
	g_assert_cmpuint(replace_str(tree, NULL, "./DevInfo/Man", "x"), ==, 405);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./DevInfo/Man"), ==, 405);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./DevInfo"), ==, 405);
	g_assert_cmpuint(add_str(tree, NULL, "./DevInfo/New", GW_DM_FORMAT_CHR, "x"), ==, 405);
	/* DMAcc accepts accounts */
	g_assert_cmpuint(
	    gw_dm_tree_add(tree, NULL, "./DMAcc/srv1", GW_DM_FORMAT_NODE, NULL, NULL), ==, 200);

	/* re-install: DevDetail values are kept, DevInfo values follow @info */
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./DevDetail/FwV", GW_DM_FORMAT_CHR, "9.9", NULL));
	info2.man = "Other Corp";
	info2.fwv = "2.0";
	g_assert_true(gw_dm_tree_install_standard_objects(tree, &info2, &error));
	g_assert_no_error(error);
	man = gw_dm_tree_dup_string(tree, "./DevInfo/Man");
	g_assert_cmpstr(man, ==, "Other Corp");
	fwv = gw_dm_tree_dup_string(tree, "./DevDetail/FwV");
	g_assert_cmpstr(fwv, ==, "9.9");
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./DMAcc/srv1"));
}

static void
test_get(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GPtrArray) results = NULL;
	GwDmItem *item;
	guint status = 0;
	g_autofree gchar *names = NULL;
	g_autofree gchar *leaf = NULL;

	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/X", GW_DM_FORMAT_CHR, "x-value", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/Y", GW_DM_FORMAT_INT, "42", NULL));
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./A/Z", NULL));

	/* interior: child names in insertion order */
	names = get_string(tree, "srvA", "./A", &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(names, ==, "X/Y/Z");
	status = gw_dm_tree_get(tree, "srvA", "A", &results);
	g_assert_cmpuint(status, ==, 200);
	item = g_ptr_array_index(results, 0);
	g_assert_cmpint(item->format, ==, GW_DM_FORMAT_NODE);
	g_assert_cmpstr(item->uri, ==, "./A");
	g_clear_pointer(&results, g_ptr_array_unref);

	/* leaf */
	status = gw_dm_tree_get(tree, "srvA", "./A/Y", &results);
	g_assert_cmpuint(status, ==, 200);
	item = g_ptr_array_index(results, 0);
	g_assert_cmpint(item->format, ==, GW_DM_FORMAT_INT);
	leaf = gw_dm_item_dup_string(item);
	g_assert_cmpstr(leaf, ==, "42");
	g_clear_pointer(&results, g_ptr_array_unref);

	/* status codes */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A/Nope", &results), ==, 404);
	g_assert_null(results);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A//X", &results), ==, 400);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A/../X", NULL), ==, 400);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "", NULL), ==, 400);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", NULL, NULL), ==, 400);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A?list=Everything", NULL), ==, 406);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A?foo=bar", NULL), ==, 406);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A?prop=Color", NULL), ==, 406);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A?", NULL), ==, 400);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A?list", NULL), ==, 400);
	/* Size is a leaf property */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A?prop=Size", NULL), ==, 406);

	/* a leaf without the Get access type (a secret) */
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/Secret", GW_DM_FORMAT_CHR, "pw", NULL));
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./A/Secret", GW_DM_ACCESS_REPLACE, NULL, NULL, NULL));
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A/Secret", NULL), ==, 405);
	/* the owner is bound by access types as well */
	g_assert_cmpuint(gw_dm_tree_get(tree, NULL, "./A/Secret", NULL), ==, 405);
}

static void
test_get_props(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	const struct {
		const gchar *uri;
		const gchar *value;
	} cases[] = {
	    {"./A/X?prop=Format", "int"},
	    {"./A/X?prop=Type", "text/plain"},
	    {"./A/X?prop=Name", "X"},
	    {"./A/X?prop=Size", "5"},
	    {"./A/X?prop=Title", "The X"},
	    {"./A/X?prop=ACL", "Get=srvA+srvB&Replace=srvA"},
	    {"./A?prop=ACL", ""},
	    {"./A?prop=Format", "node"},
	    {"./A?prop=Title", ""},
	};
	g_autoptr(GBytes) v = b("12345");
	g_autoptr(GPtrArray) results = NULL;

	g_assert_true(gw_dm_tree_set_leaf(tree, "./A/X", GW_DM_FORMAT_INT, "text/plain", v, NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./A/X", GW_DM_ACCESS_NONE, "Get=srvA+srvB&Replace=srvA", "The X", NULL));
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint status = 0;
		g_autofree gchar *s = get_string(tree, "srvA", cases[i].uri, &status);
		g_assert_cmpuint(status, ==, 200);
		g_assert_cmpstr(s, ==, cases[i].value);
	}
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "A/X?prop=Name", &results), ==, 200);
	g_assert_cmpstr(((GwDmItem *)g_ptr_array_index(results, 0))->uri, ==, "./A/X?prop=Name");
}

static gboolean
has_item(GPtrArray *items, const gchar *uri, const gchar *data)
{
	for (guint i = 0; i < items->len; i++) {
		GwDmItem *item = g_ptr_array_index(items, i);
		if (g_strcmp0(item->uri, uri) == 0) {
			g_autofree gchar *s = gw_dm_item_dup_string(item);
			return g_strcmp0(s, data) == 0;
		}
	}
	return FALSE;
}

static void
test_get_list(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GPtrArray) results = NULL;
	GwDmItem *item;
	g_autofree gchar *xml = NULL;

	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./M/A", GW_DM_FORMAT_CHR, "a", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./M/S/B", GW_DM_FORMAT_CHR, "b", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./M/Pw", GW_DM_FORMAT_CHR, "secret", NULL));
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./M/Pw", GW_DM_ACCESS_REPLACE, NULL, NULL, NULL));
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./M/Hidden/H", NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./M/Hidden", GW_DM_ACCESS_NONE, "Get=srvB", NULL, NULL));
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./M", GW_DM_ACCESS_NONE, "Get=srvA+srvB", NULL, NULL));

	/* Struct: the node and everything below it the server may Get, no data */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./M?list=Struct", &results), ==, 200);
	g_assert_cmpuint(results->len, ==, 5);
	item = g_ptr_array_index(results, 0);
	g_assert_cmpstr(item->uri, ==, "./M");
	g_assert_true(has_item(results, "./M/A", NULL));
	g_assert_true(has_item(results, "./M/S/B", NULL));
	g_assert_true(has_item(results, "./M/Pw", NULL));
	g_assert_false(has_item(results, "./M/Hidden", NULL));
	g_clear_pointer(&results, g_ptr_array_unref);

	/* srvB sees the hidden subtree too */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvB", "./M?list=Struct", &results), ==, 200);
	g_assert_cmpuint(results->len, ==, 7);
	g_clear_pointer(&results, g_ptr_array_unref);

	/* StructData: leaf data, but not for leaves without the Get access type */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./M?list=StructData", &results), ==, 200);
	g_assert_cmpuint(results->len, ==, 5);
	g_assert_true(has_item(results, "./M/A", "a"));
	g_assert_true(has_item(results, "./M/S/B", "b"));
	g_assert_true(has_item(results, "./M/Pw", NULL));
	g_clear_pointer(&results, g_ptr_array_unref);

	/* TNDS: one xml item */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./M?list=TNDS", &results), ==, 200);
	g_assert_cmpuint(results->len, ==, 1);
	item = g_ptr_array_index(results, 0);
	g_assert_cmpint(item->format, ==, GW_DM_FORMAT_XML);
	g_assert_cmpstr(item->mime_type, ==, GW_TNDS_MIME_TYPE);
	xml = gw_dm_item_dup_string(item);
	g_assert_nonnull(strstr(xml, "<NodeName>M</NodeName>"));
	g_assert_nonnull(strstr(xml, "<Value>a</Value>"));
	g_assert_null(strstr(xml, "secret"));
	g_assert_null(strstr(xml, "Hidden"));

	/* srvC may not Get ./M at all */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvC", "./M?list=Struct", NULL), ==, 425);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvC", "./M?list=TNDS", NULL), ==, 425);
}

static void
test_add(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GBytes) data = b("v");
	GwDmNode *node;

	g_assert_cmpuint(add_str(tree, "srvA", "./A", GW_DM_FORMAT_CHR, "v"), ==, 200);
	g_assert_cmpuint(add_str(tree, "srvA", "./A", GW_DM_FORMAT_CHR, "v"), ==, 418);
	g_assert_cmpuint(add_str(tree, "srvA", ".", GW_DM_FORMAT_NODE, NULL), ==, 418);
	/* below a leaf: 405 (the parent is not interior) */
	g_assert_cmpuint(add_str(tree, "srvA", "./A/B", GW_DM_FORMAT_CHR, "v"), ==, 405);
	/* missing parents are created as interior nodes */
	g_assert_cmpuint(add_str(tree, "srvA", "./P/Q/R", GW_DM_FORMAT_INT, "7"), ==, 200);
	node = gw_dm_tree_lookup(tree, "./P/Q");
	g_assert_nonnull(node);
	g_assert_false(gw_dm_node_is_leaf(node));
	g_assert_cmpint(gw_dm_node_get_access(node), ==, GW_DM_ACCESS_ALL);
	/* formats */
	g_assert_cmpuint(add_str(tree, "srvA", "./I", GW_DM_FORMAT_INT, "seven"), ==, 415);
	g_assert_cmpuint(add_str(tree, "srvA", "./I", GW_DM_FORMAT_BOOL, "1"), ==, 415);
	g_assert_cmpuint(add_str(tree, "srvA", "./I", GW_DM_FORMAT_INVALID, "1"), ==, 415);
	g_assert_cmpuint(
	    gw_dm_tree_add(tree, "srvA", "./I", GW_DM_FORMAT_NODE, NULL, data), ==, 415);
	g_assert_cmpuint(
	    gw_dm_tree_add(tree, "srvA", "./I", GW_DM_FORMAT_CHR, "bad\ntype", data), ==, 415);
	g_assert_null(gw_dm_tree_lookup(tree, "./I"));
	/* the access type of the parent */
	g_assert_cmpuint(add_str(tree, "srvA", "./DevDetail/X", GW_DM_FORMAT_CHR, "v"), ==, 405);
	/* URI errors and queries */
	g_assert_cmpuint(add_str(tree, "srvA", "./A//B", GW_DM_FORMAT_CHR, "v"), ==, 400);
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./New?list=Struct", GW_DM_FORMAT_CHR, "v"), ==, 406);
	/* an interior node with a type (DDFName) */
	g_assert_cmpuint(
	    gw_dm_tree_add(tree, "srvA", "./MO", GW_DM_FORMAT_NODE, "urn:x:mo:1.0", NULL), ==, 200);
	g_assert_cmpstr(
	    gw_dm_node_get_mime_type(gw_dm_tree_lookup(tree, "./MO")), ==, "urn:x:mo:1.0");
	/* a leaf without data */
	g_assert_cmpuint(add_str(tree, "srvA", "./Empty", GW_DM_FORMAT_CHR, NULL), ==, 200);
	g_assert_null(gw_dm_node_get_value(gw_dm_tree_lookup(tree, "./Empty")));
}

static void
test_replace(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GBytes) v = b("5");
	g_autoptr(GBytes) t = b("true");
	g_autoptr(GBytes) name = b("Renamed");
	g_autoptr(GBytes) name_bad = b("a/b");
	g_autoptr(GBytes) name_exists = b("Other");
	g_autofree gchar *s = NULL;
	GwDmNode *node;

	g_assert_true(gw_dm_tree_set_leaf(tree, "./A/N", GW_DM_FORMAT_INT, "text/plain", v, NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/Other", GW_DM_FORMAT_CHR, "o", NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./A", GW_DM_ACCESS_NONE, "Get=*&Replace=srvA", NULL, NULL));

	g_assert_cmpuint(replace_str(tree, "srvB", "./A/N", "17"), ==, 425);
	g_assert_cmpuint(replace_str(tree, "srvA", "./A/N", "17"), ==, 200);
	s = gw_dm_tree_dup_string(tree, "./A/N");
	g_assert_cmpstr(s, ==, "17");
	/* format kept when not given: a non-int is 415 and the value stays */
	g_assert_cmpuint(replace_str(tree, "srvA", "./A/N", "x"), ==, 415);
	g_clear_pointer(&s, g_free);
	s = gw_dm_tree_dup_string(tree, "./A/N");
	g_assert_cmpstr(s, ==, "17");
	/* changing the format */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./A/N", GW_DM_FORMAT_BOOL, NULL, t), ==, 200);
	node = gw_dm_tree_lookup(tree, "./A/N");
	g_assert_cmpint(gw_dm_node_get_format(node), ==, GW_DM_FORMAT_BOOL);
	g_assert_cmpstr(gw_dm_node_get_mime_type(node), ==, "text/plain");
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./A/N", GW_DM_FORMAT_NODE, NULL, NULL), ==, 415);

	g_assert_cmpuint(replace_str(tree, "srvA", "./A/Missing", "x"), ==, 404);
	/* interior node with data */
	g_assert_cmpuint(replace_str(tree, "srvA", "./A", "x"), ==, 405);
	/* interior node: only the type */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./A", GW_DM_FORMAT_INVALID, "urn:a", NULL), ==, 200);
	g_assert_cmpstr(gw_dm_node_get_mime_type(gw_dm_tree_lookup(tree, "./A")), ==, "urn:a");
	/* access type */
	g_assert_cmpuint(replace_str(tree, "srvA", "./DevInfo/DevId", "x"), ==, 405);
	/* queries */
	g_assert_cmpuint(replace_str(tree, "srvA", "./A/N?prop=Format", "chr"), ==, 406);
	g_assert_cmpuint(replace_str(tree, "srvA", "./A/N?list=Struct", "chr"), ==, 406);
	g_assert_cmpuint(replace_str(tree, "srvA", "./A/N?prop=Title", "A title"), ==, 200);
	g_assert_cmpstr(gw_dm_node_get_title(gw_dm_tree_lookup(tree, "./A/N")), ==, "A title");

	/* rename */
	g_assert_cmpuint(gw_dm_tree_replace(
	                     tree, "srvA", "./A/N?prop=Name", GW_DM_FORMAT_CHR, NULL, name_exists),
	                 ==,
	                 418);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./A/N?prop=Name", GW_DM_FORMAT_CHR, NULL, name_bad),
	    ==,
	    400);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./A/N?prop=Name", GW_DM_FORMAT_CHR, NULL, name),
	    ==,
	    200);
	g_assert_null(gw_dm_tree_lookup(tree, "./A/N"));
	node = gw_dm_tree_lookup(tree, "./A/Renamed");
	g_assert_nonnull(node);
	g_assert_cmpstr(gw_dm_node_get_title(node), ==, "A title");
	/* permanent nodes keep their names */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, "./DMAcc?prop=Name", GW_DM_FORMAT_CHR, NULL, name),
	    ==,
	    405);
}

static void
test_delete(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();

	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/B/C", GW_DM_FORMAT_CHR, "c", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./P/Keep", GW_DM_FORMAT_CHR, "k", NULL));
	g_assert_true(gw_dm_tree_set_permanent(tree, "./P/Keep", TRUE, NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./NoDel", GW_DM_FORMAT_CHR, "n", NULL));
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./NoDel", GW_DM_ACCESS_GET, NULL, NULL, NULL));

	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./A/Missing"), ==, 404);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./A//B"), ==, 400);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./A?list=Struct"), ==, 406);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "."), ==, 405);
	/* permanent node and a subtree holding one */
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./P/Keep"), ==, 405);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./P"), ==, 405);
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./P/Keep"));
	/* access type */
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./NoDel"), ==, 405);
	/* ACL: root gives Add and Get only */
	g_assert_cmpuint(gw_dm_tree_delete(tree, "srvA", "./A"), ==, 425);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./A"), ==, 200);
	g_assert_null(gw_dm_tree_lookup(tree, "./A/B/C"));
	g_assert_null(gw_dm_tree_lookup(tree, "./A"));
}

typedef struct {
	guint calls;
	gchar *server_id;
	gchar *uri;
	gchar *data;
	gchar *correlator;
	guint status;
	gboolean destroyed;
} ExecCtx;

static guint
exec_cb(GwDmTree *tree,
        const gchar *server_id,
        const gchar *uri,
        GBytes *data,
        const gchar *correlator,
        gpointer user_data)
{
	ExecCtx *ctx = user_data;
	ctx->calls++;
	g_free(ctx->server_id);
	g_free(ctx->uri);
	g_free(ctx->data);
	g_free(ctx->correlator);
	ctx->server_id = g_strdup(server_id);
	ctx->uri = g_strdup(uri);
	ctx->data =
	    data != NULL ? g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data)) : NULL;
	ctx->correlator = g_strdup(correlator);
	return ctx->status;
}

static void
exec_destroy(gpointer user_data)
{
	ExecCtx *ctx = user_data;
	ctx->destroyed = TRUE;
}

static void
test_exec(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GBytes) data = b("payload");
	ExecCtx ctx = {0};
	guint id;

	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Ops/7/Start", GW_DM_FORMAT_NULL, NULL, NULL));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Ops/7/Stop", GW_DM_FORMAT_NULL, NULL, NULL));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Ops/8/Start", GW_DM_FORMAT_NULL, NULL, NULL));
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./Ops/8/Start", GW_DM_ACCESS_GET, NULL, NULL, NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./Ops", GW_DM_ACCESS_NONE, "Exec=srvA&Get=*", NULL, NULL));

	/* no handler */
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvA", "./Ops/7/Start", data, "c1"), ==, 405);

	ctx.status = 202;
	id = gw_dm_tree_add_exec_handler(tree, "./Ops/*/Start", exec_cb, &ctx, exec_destroy);
	g_assert_cmpuint(id, >, 0);
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvA", "./Ops/7/Start", data, "c1"), ==, 202);
	g_assert_cmpuint(ctx.calls, ==, 1);
	g_assert_cmpstr(ctx.server_id, ==, "srvA");
	g_assert_cmpstr(ctx.uri, ==, "./Ops/7/Start");
	g_assert_cmpstr(ctx.data, ==, "payload");
	g_assert_cmpstr(ctx.correlator, ==, "c1");
	/* the URI is normalised before matching */
	ctx.status = 200;
	g_assert_cmpuint(gw_dm_tree_exec(tree, NULL, "Ops/7/Start", NULL, NULL), ==, 200);
	g_assert_cmpuint(ctx.calls, ==, 2);
	g_assert_null(ctx.server_id);
	g_assert_null(ctx.data);
	g_assert_null(ctx.correlator);
	/* handler status passed through */
	ctx.status = 500;
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvA", "./Ops/7/Start", NULL, NULL), ==, 500);

	/* status paths, none of which reach the handler */
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvA", "./Ops/7/Stop", NULL, NULL), ==, 405);
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvA", "./Ops/8/Start", NULL, NULL), ==, 405);
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvB", "./Ops/7/Start", NULL, NULL), ==, 425);
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvA", "./Ops/9/Start", NULL, NULL), ==, 404);
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvA", "./Ops//Start", NULL, NULL), ==, 400);
	g_assert_cmpuint(
	    gw_dm_tree_exec(tree, "srvA", "./Ops/7/Start?list=Struct", NULL, NULL), ==, 406);
	g_assert_cmpuint(ctx.calls, ==, 3);

	gw_dm_tree_remove_handler(tree, id);
	g_assert_true(ctx.destroyed);
	g_assert_cmpuint(gw_dm_tree_exec(tree, "srvA", "./Ops/7/Start", NULL, NULL), ==, 405);
	g_free(ctx.server_id);
	g_free(ctx.uri);
	g_free(ctx.data);
	g_free(ctx.correlator);
}

static void
limits_reset(GwDmTree *tree)
{
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DevDetail/URI/MaxDepth", GW_DM_FORMAT_CHR, "0", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DevDetail/URI/MaxSegLen", GW_DM_FORMAT_CHR, "0", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DevDetail/URI/MaxTotLen", GW_DM_FORMAT_CHR, "0", NULL));
}

static void
test_uri_limits(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	GwDmDeviceInfo info = test_info;
	GwDmUriLimits limits;

	info.max_depth = 4;
	info.max_seg_len = 8;
	info.max_tot_len = 40;
	g_assert_true(gw_dm_tree_install_standard_objects(tree, &info, NULL));
	limits = gw_dm_tree_get_uri_limits(tree);
	g_assert_cmpuint(limits.max_depth, ==, 4);
	g_assert_cmpuint(limits.max_seg_len, ==, 8);
	g_assert_cmpuint(limits.max_tot_len, ==, 40);

	g_assert_cmpuint(add_str(tree, "srvA", "./A/B/C/D", GW_DM_FORMAT_CHR, "x"), ==, 200);
	g_assert_cmpuint(add_str(tree, "srvA", "./A/B/C/D/E", GW_DM_FORMAT_CHR, "x"), ==, 414);
	g_assert_cmpuint(add_str(tree, "srvA", "./ABCDEFGHI", GW_DM_FORMAT_CHR, "x"), ==, 414);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A/B/C/D/E", NULL), ==, 414);
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "srvA", "./ABCDEFGH/ABCDEFGH/ABCDEFGH/ABCDEFGH", NULL), ==, 404);
	g_assert_cmpuint(replace_str(tree, "srvA", "./A/B/C/D/E", "x"), ==, 414);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./ABCDEFGHI"), ==, 414);
	g_assert_cmpuint(gw_dm_tree_exec(tree, NULL, "./A/B/C/D/E", NULL, NULL), ==, 414);
	g_assert_cmpuint(gw_dm_tree_copy(tree, NULL, "./A/B/C/D", "./ABCDEFGHI"), ==, 414);

	/* the cache follows changes of DevDetail/URI; 0 = unlimited */
	limits_reset(tree);
	limits = gw_dm_tree_get_uri_limits(tree);
	g_assert_cmpuint(limits.max_depth, ==, 0);
	g_assert_cmpuint(add_str(tree, "srvA", "./A/B/C/D/E", GW_DM_FORMAT_CHR, "x"), ==, 405);
	g_assert_cmpuint(add_str(tree, "srvA", "./A/B/C/X/E/F/G", GW_DM_FORMAT_CHR, "x"), ==, 200);
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./ABCDEFGHIJKLMNOP", GW_DM_FORMAT_CHR, "x"), ==, 200);
	/* removing DevDetail removes the limits */
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DevDetail/URI/MaxDepth", GW_DM_FORMAT_CHR, "1", NULL));
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A/B", NULL), ==, 414);
	g_assert_true(gw_dm_tree_remove(tree, "./DevDetail", NULL));
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./A/B", NULL), ==, 200);
}

/* GwMO-SECARIZE-001: ACL inheritance and enforcement per ServerID */
static void
test_acl(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GBytes) acl_a = b("Get=srvA&Replace=srvA");
	g_autoptr(GBytes) acl_bad = b("Get=");
	g_autoptr(GBytes) acl_ab = b("Get=srvA+srvB&Replace=srvA+srvB&Delete=srvB");
	g_autofree gchar *acl_text = NULL;

	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./S/Leaf", GW_DM_FORMAT_CHR, "v", NULL));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./S/Sub/Deep", GW_DM_FORMAT_CHR, "d", NULL));
	g_assert_true(
	    gw_dm_tree_set_properties(tree,
	                              "./S",
	                              GW_DM_ACCESS_NONE,
	                              "Get=srvA&Replace=srvA&Add=srvA&Delete=srvA&Exec=srvA",
	                              NULL,
	                              NULL));
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./S/Sub", GW_DM_ACCESS_NONE, "Get=srvB", NULL, NULL));

	/* ./S/Leaf has an empty ACL: inherits ./S */
	g_assert_true(gw_dm_tree_check_acl(tree, "./S/Leaf", GW_DM_ACCESS_GET, "srvA"));
	g_assert_false(gw_dm_tree_check_acl(tree, "./S/Leaf", GW_DM_ACCESS_GET, "srvB"));
	g_assert_true(gw_dm_tree_check_acl(tree, "./S/Leaf", GW_DM_ACCESS_GET, NULL));
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./S/Leaf", NULL), ==, 200);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvB", "./S/Leaf", NULL), ==, 425);
	g_assert_cmpuint(replace_str(tree, "srvA", "./S/Leaf", "w"), ==, 200);
	g_assert_cmpuint(replace_str(tree, "srvB", "./S/Leaf", "w"), ==, 425);
	/* ./S/Sub overrides: srvB only, and its child inherits that */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvB", "./S/Sub/Deep", NULL), ==, 200);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./S/Sub/Deep", NULL), ==, 425);
	g_assert_cmpuint(replace_str(tree, "srvB", "./S/Sub/Deep", "w"), ==, 425);
	/* the owner bypasses ACLs */
	g_assert_cmpuint(gw_dm_tree_get(tree, NULL, "./S/Sub/Deep", NULL), ==, 200);

	/* Add checks the parent's effective ACL */
	g_assert_cmpuint(add_str(tree, "srvA", "./S/New", GW_DM_FORMAT_CHR, "n"), ==, 200);
	g_assert_cmpuint(add_str(tree, "srvB", "./S/New2", GW_DM_FORMAT_CHR, "n"), ==, 425);
	g_assert_cmpuint(add_str(tree, "srvA", "./S/Sub/New", GW_DM_FORMAT_CHR, "n"), ==, 425);
	g_assert_cmpuint(add_str(tree, "srvB", "./S/Sub/New", GW_DM_FORMAT_CHR, "n"), ==, 425);
	/* missing parents: Add on the deepest existing node */
	g_assert_cmpuint(add_str(tree, "srvA", "./S/X/Y/Z", GW_DM_FORMAT_CHR, "n"), ==, 200);
	g_assert_cmpuint(add_str(tree, "srvB", "./S/X2/Y/Z", GW_DM_FORMAT_CHR, "n"), ==, 425);
	g_assert_null(gw_dm_tree_lookup(tree, "./S/X2"));
	/* root: Add=*&Get=* */
	g_assert_cmpuint(add_str(tree, "anyone", "./Top", GW_DM_FORMAT_CHR, "t"), ==, 200);
	g_assert_cmpuint(replace_str(tree, "anyone", "./Top", "u"), ==, 425);

	/* Delete and Exec */
	g_assert_cmpuint(gw_dm_tree_delete(tree, "srvB", "./S/New"), ==, 425);
	g_assert_cmpuint(gw_dm_tree_delete(tree, "srvA", "./S/New"), ==, 200);

	/* changing the ACL of a leaf needs Replace on its parent */
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./S/Leaf", GW_DM_ACCESS_NONE, "Replace=srvB", NULL, NULL));
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvB", "./S/Leaf?prop=ACL", GW_DM_FORMAT_CHR, NULL, acl_ab),
	    ==,
	    425);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./S/Leaf?prop=ACL", GW_DM_FORMAT_CHR, NULL, acl_ab),
	    ==,
	    200);
	acl_text = gw_dm_node_dup_acl(gw_dm_tree_lookup(tree, "./S/Leaf"));
	g_assert_cmpstr(acl_text, ==, "Delete=srvB&Get=srvA+srvB&Replace=srvA+srvB");
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvB", "./S/Leaf", NULL), ==, 200);
	/* malformed ACL data */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./S/Leaf?prop=ACL", GW_DM_FORMAT_CHR, NULL, acl_bad),
	    ==,
	    400);
	/* the ACL of an interior node needs Replace on the node itself */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./S/Sub?prop=ACL", GW_DM_FORMAT_CHR, NULL, acl_a),
	    ==,
	    425);
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./S/Sub", GW_DM_ACCESS_NONE, "Get=srvB&Replace=srvB", NULL, NULL));
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvB", "./S/Sub?prop=ACL", GW_DM_FORMAT_CHR, NULL, acl_a),
	    ==,
	    200);
	/* srvB just gave the subtree to srvA */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./S/Sub/Deep", NULL), ==, 200);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvB", "./S/Sub/Deep", NULL), ==, 425);
	/* clearing an ACL makes the node inherit again */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", "./S/Sub?prop=ACL", GW_DM_FORMAT_CHR, NULL, NULL),
	    ==,
	    200);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./S/Sub/Deep", NULL), ==, 200);
	/* ACL of the root: interior, Replace on itself, which the default denies */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, "srvA", ".?prop=ACL", GW_DM_FORMAT_CHR, NULL, acl_a), ==, 425);

	/* the owner bypasses ACLs but not access types */
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./S/Leaf", GW_DM_ACCESS_GET, "Get=srvZ", NULL, NULL));
	g_assert_cmpuint(replace_str(tree, NULL, "./S/Leaf", "z"), ==, 405);
	g_assert_cmpuint(gw_dm_tree_get(tree, NULL, "./S/Leaf", NULL), ==, 200);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./S/Leaf"), ==, 405);
	g_assert_cmpuint(replace_str(tree, "srvZ", "./S/Leaf", "z"), ==, 405);
}

static void
test_copy(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	GwDmNode *node;
	g_autofree gchar *s = NULL;
	g_autofree gchar *s2 = NULL;
	g_autofree gchar *acl = NULL;

	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./Src/A", GW_DM_FORMAT_INT, "1", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./Src/Sub/B", GW_DM_FORMAT_CHR, "b", NULL));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Dst/Existing", GW_DM_FORMAT_CHR, "old", NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./Src", GW_DM_ACCESS_NONE, "Get=srvA&Add=srvA", NULL, NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./Dst", GW_DM_ACCESS_NONE, "Get=*&Add=srvA&Replace=srvA", NULL, NULL));
	g_assert_true(gw_dm_tree_set_permanent(tree, "./Src/Sub/B", TRUE, NULL));

	/* subtree to a new place */
	g_assert_cmpuint(gw_dm_tree_copy(tree, "srvA", "./Src", "./Dst/Copy"), ==, 200);
	s = gw_dm_tree_dup_string(tree, "./Dst/Copy/Sub/B");
	g_assert_cmpstr(s, ==, "b");
	node = gw_dm_tree_lookup(tree, "./Dst/Copy");
	acl = gw_dm_node_dup_acl(node);
	g_assert_cmpstr(acl, ==, "");
	g_assert_false(gw_dm_node_get_permanent(node));
	/* copies are dynamic, whatever the source was */
	g_assert_false(gw_dm_node_get_permanent(gw_dm_tree_lookup(tree, "./Dst/Copy/Sub/B")));
	g_assert_true(gw_dm_node_get_permanent(gw_dm_tree_lookup(tree, "./Src/Sub/B")));
	/* leaf onto an existing leaf */
	g_assert_cmpuint(gw_dm_tree_copy(tree, "srvA", "./Src/A", "./Dst/Existing"), ==, 200);
	s2 = gw_dm_tree_dup_string(tree, "./Dst/Existing");
	g_assert_cmpstr(s2, ==, "1");
	g_assert_cmpint(
	    gw_dm_node_get_format(gw_dm_tree_lookup(tree, "./Dst/Existing")), ==, GW_DM_FORMAT_INT);

	g_assert_cmpuint(gw_dm_tree_copy(tree, "srvA", "./Src/Nope", "./Dst/X"), ==, 404);
	g_assert_cmpuint(
	    gw_dm_tree_copy(tree, "srvB", "./Src/A", "./Dst/X"), ==, 425); /* Get on source */
	g_assert_cmpuint(
	    gw_dm_tree_copy(tree, "srvA", "./Src/A", "./Top/X"), ==, 200); /* root: Add=* */
	g_assert_cmpuint(
	    gw_dm_tree_copy(tree, "srvA", "./Src/A", "./DevInfo/X"), ==, 405); /* access type */
	g_assert_cmpuint(gw_dm_tree_copy(tree, "srvA", "./Src", "./Dst/Existing"),
	                 ==,
	                 405); /* interior onto leaf */
	g_assert_cmpuint(
	    gw_dm_tree_copy(tree, "srvA", "./Src", "./Src/Sub/Inner"), ==, 400); /* into itself */
	g_assert_cmpuint(gw_dm_tree_copy(tree, "srvA", "./Src/A", "./Src/A/X"), ==, 400);
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./Dst", GW_DM_ACCESS_NONE, "Get=*", NULL, NULL));
	g_assert_cmpuint(gw_dm_tree_copy(tree, "srvA", "./Src/A", "./Dst/Y"),
	                 ==,
	                 425); /* Add on target parent */
	g_assert_cmpuint(gw_dm_tree_copy(tree, "srvA", "./Src/A", "./Dst/Existing"),
	                 ==,
	                 425); /* Replace on target */
	g_assert_cmpuint(gw_dm_tree_copy(tree, "srvA", "./Src/A?list=Struct", "./Dst/Z"), ==, 406);
}

typedef struct {
	guint calls;
	GPtrArray *uris;
} HookCtx;

static void
hook_cb(GwDmTree *tree, const gchar *uri, gpointer user_data)
{
	HookCtx *ctx = user_data;
	g_autofree gchar *value = g_strdup_printf("computed-%u", ++ctx->calls);
	g_ptr_array_add(ctx->uris, g_strdup(uri));
	/* computed values: the Get must see what the hook wrote */
	if (g_str_has_suffix(uri, "/Summary"))
		g_assert_true(gw_dm_tree_set_leaf_string(tree, uri, GW_DM_FORMAT_CHR, value, NULL));
}

static void
test_get_hook(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GPtrArray) results = NULL;
	HookCtx ctx = {0, g_ptr_array_new_with_free_func(g_free)};
	guint status = 0;
	guint id;
	g_autofree gchar *s1 = NULL;
	g_autofree gchar *s2 = NULL;

	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Dev/1/Summary", GW_DM_FORMAT_CHR, "stale", NULL));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Dev/2/Summary", GW_DM_FORMAT_CHR, "stale", NULL));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Dev/2/Other", GW_DM_FORMAT_CHR, "o", NULL));
	id = gw_dm_tree_add_get_hook(tree, "./Dev/*/Summary", hook_cb, &ctx, NULL);
	g_assert_cmpuint(id, >, 0);

	s1 = get_string(tree, "srvA", "./Dev/1/Summary", &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(s1, ==, "computed-1");
	/* not matching: no call */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./Dev/2/Other", NULL), ==, 200);
	g_assert_cmpuint(ctx.calls, ==, 1);

	/* a list runs the hook for every matching node below */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./Dev?list=StructData", &results), ==, 200);
	g_assert_cmpuint(ctx.calls, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(ctx.uris, 1), ==, "./Dev/1/Summary");
	g_assert_cmpstr(g_ptr_array_index(ctx.uris, 2), ==, "./Dev/2/Summary");
	g_assert_true(has_item(results, "./Dev/2/Summary", "computed-3"));

	gw_dm_tree_remove_handler(tree, id);
	s2 = get_string(tree, "srvA", "./Dev/1/Summary", &status);
	g_assert_cmpstr(s2, ==, "computed-2");
	g_assert_cmpuint(ctx.calls, ==, 3);
	g_ptr_array_unref(ctx.uris);
}

typedef struct {
	guint count;
	gchar *last_uri;
	guint last_change;
	gchar *last_server;
} ChangedCtx;

static void
changed_cb(GwDmTree *tree,
           const gchar *uri,
           guint change,
           const gchar *server_id,
           gpointer user_data)
{
	ChangedCtx *ctx = user_data;
	ctx->count++;
	g_free(ctx->last_uri);
	g_free(ctx->last_server);
	ctx->last_uri = g_strdup(uri);
	ctx->last_change = change;
	ctx->last_server = g_strdup(server_id);
}

static void
test_changed_signal(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GBytes) title = b("T");
	ChangedCtx ctx = {0};
	guint64 gen = gw_dm_tree_get_generation(tree);

	g_assert_cmpuint(gen, >, 0);
	g_signal_connect(tree, "changed", G_CALLBACK(changed_cb), &ctx);

	g_assert_cmpuint(add_str(tree, "srvA", "A", GW_DM_FORMAT_CHR, "1"), ==, 200);
	g_assert_cmpuint(ctx.count, ==, 1);
	g_assert_cmpstr(ctx.last_uri, ==, "./A");
	g_assert_cmpuint(ctx.last_change, ==, GW_DM_CHANGE_ADDED);
	g_assert_cmpstr(ctx.last_server, ==, "srvA");
	g_assert_cmpuint(gw_dm_tree_get_generation(tree), ==, gen + 1);

	g_assert_cmpuint(replace_str(tree, "srvA", "./A", "2"), ==, 425);
	g_assert_cmpuint(replace_str(tree, NULL, "./A", "2"), ==, 200);
	g_assert_cmpuint(ctx.count, ==, 2);
	g_assert_cmpuint(ctx.last_change, ==, GW_DM_CHANGE_REPLACED);
	g_assert_null(ctx.last_server);

	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, "./A?prop=Title", GW_DM_FORMAT_CHR, NULL, title),
	    ==,
	    200);
	g_assert_cmpuint(ctx.count, ==, 3);
	g_assert_cmpuint(ctx.last_change, ==, GW_DM_CHANGE_PROPERTIES);

	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./A"), ==, 200);
	g_assert_cmpuint(ctx.count, ==, 4);
	g_assert_cmpuint(ctx.last_change, ==, GW_DM_CHANGE_DELETED);
	g_assert_cmpuint(gw_dm_tree_get_generation(tree), ==, gen + 4);

	/* failures and reads change nothing */
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./A"), ==, 404);
	g_assert_cmpuint(add_str(tree, NULL, "./DevInfo/X", GW_DM_FORMAT_CHR, "1"), ==, 405);
	g_assert_cmpuint(gw_dm_tree_get(tree, NULL, "./DevInfo?list=StructData", NULL), ==, 200);
	g_assert_cmpuint(ctx.count, ==, 4);
	g_assert_cmpuint(gw_dm_tree_get_generation(tree), ==, gen + 4);

	/* Add creating two missing parents: three nodes, three signals */
	g_assert_cmpuint(add_str(tree, NULL, "./P/Q/R", GW_DM_FORMAT_CHR, "1"), ==, 200);
	g_assert_cmpuint(ctx.count, ==, 7);
	g_assert_cmpstr(ctx.last_uri, ==, "./P/Q/R");

	/* the owner API signals too, but not for no-ops */
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./P/Q/R", GW_DM_FORMAT_CHR, "2", NULL));
	g_assert_cmpuint(ctx.count, ==, 8);
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./P/Q/R", GW_DM_FORMAT_CHR, "2", NULL));
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./P/Q", NULL));
	g_assert_true(gw_dm_tree_set_permanent(tree, "./P", FALSE, NULL));
	g_assert_cmpuint(ctx.count, ==, 8);
	g_assert_true(gw_dm_tree_set_permanent(tree, "./P", TRUE, NULL));
	g_assert_true(gw_dm_tree_remove(tree, "./P", NULL));
	g_assert_cmpuint(ctx.count, ==, 10);
	g_assert_cmpuint(gw_dm_tree_get_generation(tree), ==, gen + 10);

	g_signal_handlers_disconnect_by_data(tree, &ctx);
	g_free(ctx.last_uri);
	g_free(ctx.last_server);
}

static void
test_snapshot(void)
{
	g_autoptr(GwDmTree) tree = new_std_tree();
	g_autoptr(GwDmSnapshot) snap = NULL;
	ChangedCtx ctx = {0};
	guint64 gen;
	g_autofree gchar *a = NULL;
	g_autofree gchar *acl = NULL;

	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/X", GW_DM_FORMAT_CHR, "before", NULL));
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./A", GW_DM_ACCESS_GET, "Get=srvA", "t", NULL));
	snap = gw_dm_tree_snapshot(tree);

	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/X", GW_DM_FORMAT_CHR, "after", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./B", GW_DM_FORMAT_CHR, "new", NULL));
	g_assert_true(gw_dm_tree_set_properties(tree, "./A", GW_DM_ACCESS_ALL, "", "", NULL));
	g_assert_true(gw_dm_tree_remove(tree, "./DevInfo", NULL));
	gen = gw_dm_tree_get_generation(tree);

	g_signal_connect(tree, "changed", G_CALLBACK(changed_cb), &ctx);
	gw_dm_tree_rollback(tree, snap);
	g_assert_cmpuint(ctx.count, ==, 1);
	g_assert_cmpstr(ctx.last_uri, ==, ".");
	g_assert_cmpuint(gw_dm_tree_get_generation(tree), >, gen);

	a = gw_dm_tree_dup_string(tree, "./A/X");
	g_assert_cmpstr(a, ==, "before");
	g_assert_null(gw_dm_tree_lookup(tree, "./B"));
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./DevInfo/DevId"));
	acl = gw_dm_node_dup_acl(gw_dm_tree_lookup(tree, "./A"));
	g_assert_cmpstr(acl, ==, "Get=srvA");
	g_assert_cmpstr(gw_dm_node_get_title(gw_dm_tree_lookup(tree, "./A")), ==, "t");
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, "./A")), ==, GW_DM_ACCESS_GET);

	/* the snapshot can be used again */
	g_assert_true(gw_dm_tree_remove(tree, "./A", NULL));
	gw_dm_tree_rollback(tree, snap);
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./A/X"));
	g_signal_handlers_disconnect_by_data(tree, &ctx);
	g_free(ctx.last_uri);
	g_free(ctx.last_server);
}

static void
test_owner_api(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bad = b("nope");
	g_auto(GStrv) children = NULL;
	GwDmNode *root = gw_dm_tree_get_root(tree);
	GwDmNode *node;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *root_acl = gw_dm_node_dup_acl(root);
	g_autofree gchar *empty = NULL;

	g_assert_cmpstr(root_acl, ==, "Add=*&Get=*");
	g_assert_cmpstr(gw_dm_node_get_name(root), ==, ".");
	g_assert_null(gw_dm_node_get_parent(root));

	g_assert_true(gw_dm_tree_ensure_interior(tree, "./A/B", &error));
	g_assert_no_error(error);
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/B/L", GW_DM_FORMAT_CHR, "x", NULL));
	/* errors */
	g_assert_false(gw_dm_tree_ensure_interior(tree, "./A/B/L", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	g_clear_error(&error);
	g_assert_false(gw_dm_tree_ensure_interior(tree, "./A/B/L/M", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED);
	g_clear_error(&error);
	g_assert_false(gw_dm_tree_set_leaf_string(tree, "./A/B", GW_DM_FORMAT_CHR, "x", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	g_clear_error(&error);
	g_assert_false(gw_dm_tree_set_leaf(tree, "./A/I", GW_DM_FORMAT_INT, NULL, bad, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_SUPPORTED);
	g_clear_error(&error);
	g_assert_false(gw_dm_tree_set_leaf_string(tree, "./A//I", GW_DM_FORMAT_CHR, "x", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_URI);
	g_clear_error(&error);
	g_assert_false(
	    gw_dm_tree_set_properties(tree, "./Nope", GW_DM_ACCESS_NONE, NULL, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(
	    gw_dm_tree_set_properties(tree, "./A", GW_DM_ACCESS_NONE, "Bogus=*", NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_assert_false(gw_dm_tree_remove(tree, ".", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED);
	g_clear_error(&error);
	g_assert_false(gw_dm_tree_remove(tree, "./Nope", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	g_clear_error(&error);

	node = gw_dm_tree_lookup(tree, "A/B/L");
	g_assert_nonnull(node);
	uri = gw_dm_node_dup_uri(node);
	g_assert_cmpstr(uri, ==, "./A/B/L");
	g_assert_true(gw_dm_node_is_leaf(node));
	g_assert_true(gw_dm_node_get_parent(node) == gw_dm_tree_lookup(tree, "./A/B"));
	g_assert_true(gw_dm_node_get_child(gw_dm_tree_lookup(tree, "./A"), "B") ==
	              gw_dm_node_get_parent(node));
	g_assert_null(gw_dm_tree_lookup(tree, "./A//B"));
	g_assert_null(gw_dm_tree_dup_string(tree, "./A"));
	g_assert_null(gw_dm_tree_list_children(tree, "./A/B/L"));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./A/E", GW_DM_FORMAT_CHR, NULL, NULL));
	empty = gw_dm_tree_dup_string(tree, "./A/E");
	g_assert_cmpstr(empty, ==, "");

	/* many children: insertion order and hashed lookup */
	for (guint i = 0; i < 20000; i++) {
		g_autofree gchar *u = g_strdup_printf("./Many/n%05u", 19999 - i);
		g_assert_true(gw_dm_tree_set_leaf_string(tree, u, GW_DM_FORMAT_INT, "1", NULL));
	}
	children = gw_dm_tree_list_children(tree, "./Many");
	g_assert_cmpuint(g_strv_length(children), ==, 20000);
	g_assert_cmpstr(children[0], ==, "n19999");
	g_assert_cmpstr(children[19999], ==, "n00000");
	g_assert_cmpuint(
	    gw_dm_node_get_children(gw_dm_tree_lookup(tree, "./Many"))->len, ==, 20000);
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./Many/n12345"));
	g_assert_true(gw_dm_tree_remove(tree, "./Many/n12345", NULL));
	g_assert_null(gw_dm_tree_lookup(tree, "./Many/n12345"));
	g_assert_cmpuint(
	    gw_dm_node_get_children(gw_dm_tree_lookup(tree, "./Many"))->len, ==, 19999);
}

/* ---- standard definitions (DDF), issue 11 §1 ---- */

/* every log line of the process, to check what the tree says and that no value is in it */
static GString *test_log = NULL;

static GLogWriterOutput
test_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0) {
			g_string_append(test_log, fields[i].value);
			g_string_append_c(test_log, '\n');
		}
	}
	return g_log_writer_default(level, fields, n_fields, user_data);
}

#define SECRET_DM "added-secret-3"
#define SECRET_OWNER "owner-secret"

/* ./DMAcc/srv1 that srvA may extend and read, as a bootstrap would leave it */
static GwDmTree *
new_account_tree(void)
{
	GwDmTree *tree = new_std_tree();
	g_assert_cmpuint(
	    gw_dm_tree_add(tree, NULL, "./DMAcc/srv1", GW_DM_FORMAT_NODE, NULL, NULL), ==, 200);
	g_assert_true(gw_dm_tree_set_properties(tree,
	                                        "./DMAcc/srv1",
	                                        GW_DM_ACCESS_NONE,
	                                        "Add=srvA&Delete=srvA&Get=srvA&Replace=srvA",
	                                        NULL,
	                                        NULL));
	return tree;
}

static void
assert_no_value(GPtrArray *items, const gchar *secret)
{
	for (guint i = 0; i < items->len; i++) {
		GwDmItem *item = g_ptr_array_index(items, i);
		g_autofree gchar *data = gw_dm_item_dup_string(item);
		g_assert_true(data == NULL || strstr(data, secret) == NULL);
		if (g_str_has_suffix(item->uri, "/AAuthSecret") ||
		    g_str_has_suffix(item->uri, "/AAuthData"))
			g_assert_null(item->data);
	}
}

/* a DM Server's Add of a new AppAuth/<n>, and D-Bus SetNode (the owner's Add): the secrets it
 * creates are never readable, and the DDF's names and formats hold */
static void
test_ddf_dm_add(void)
{
	g_autoptr(GwDmTree) tree = new_account_tree();
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GPtrArray) tnds = NULL;
	g_autoptr(GBytes) nonce = g_bytes_new("\x01\x02nonce", 7);
	g_autofree gchar *level = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *tnds_xml = NULL;
	guint status = 0;

	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/AppAuth/3/AAuthLevel", GW_DM_FORMAT_CHR, "HTTP"),
	    ==,
	    200);
	g_assert_cmpuint(
	    add_str(
	        tree, "srvA", "./DMAcc/srv1/AppAuth/3/AAuthSecret", GW_DM_FORMAT_CHR, SECRET_DM),
	    ==,
	    200);
	g_assert_cmpuint(
	    gw_dm_tree_add(
	        tree, "srvA", "./DMAcc/srv1/AppAuth/3/AAuthData", GW_DM_FORMAT_BIN, NULL, nonce),
	    ==,
	    200);
	/* the gateway still has them */
	v = gw_dm_tree_dup_string(tree, "./DMAcc/srv1/AppAuth/3/AAuthSecret");
	g_assert_cmpstr(v, ==, SECRET_DM);

	/* Get: 405 for the server and for the owner (D-Bus GetNode) */
	level = get_string(tree, "srvA", "./DMAcc/srv1/AppAuth/3/AAuthLevel", &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(level, ==, "HTTP");
	g_assert_null(get_string(tree, "srvA", "./DMAcc/srv1/AppAuth/3/AAuthSecret", &status));
	g_assert_cmpuint(status, ==, 405);
	g_assert_null(get_string(tree, NULL, "./DMAcc/srv1/AppAuth/3/AAuthSecret", &status));
	g_assert_cmpuint(status, ==, 405);
	g_assert_null(get_string(tree, "srvA", "./DMAcc/srv1/AppAuth/3/AAuthData", &status));
	g_assert_cmpuint(status, ==, 405);
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "srvA", "./DMAcc/srv1/AppAuth/3/AAuthSecret?prop=Size", NULL),
	    ==,
	    405);
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, "./DMAcc/srv1/AppAuth/3/AAuthSecret")),
	    ==,
	    GW_DM_DDF_SECRET_ACCESS);
	/* copied away it stays a secret (Copy needs Get on the source) */
	g_assert_cmpuint(
	    gw_dm_tree_copy(
	        tree, "srvA", "./DMAcc/srv1/AppAuth/3/AAuthSecret", "./DMAcc/srv1/Ext/S"),
	    ==,
	    405);

	/* list queries: the secrets are listed without value */
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "srvA", "./DMAcc/srv1?list=StructData", &list), ==, 200);
	g_assert_cmpuint(list->len, >=, 5);
	assert_no_value(list, SECRET_DM);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srvA", "./DMAcc/srv1?list=TNDS", &tnds), ==, 200);
	tnds_xml = gw_dm_item_dup_string(g_ptr_array_index(tnds, 0));
	g_assert_nonnull(strstr(tnds_xml, "<NodeName>AAuthSecret</NodeName>"));
	g_assert_null(strstr(tnds_xml, SECRET_DM));

	/* the DDF's formats: 415, and nothing is created */
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/AppAuth/4/AAuthLevel", GW_DM_FORMAT_INT, "3"),
	    ==,
	    415);
	g_assert_cmpuint(
	    gw_dm_tree_add(
	        tree, "srvA", "./DMAcc/srv1/AppAuth/4/AAuthSecret", GW_DM_FORMAT_NODE, NULL, NULL),
	    ==,
	    415);
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/AppAuth/4/AAuthData", GW_DM_FORMAT_CHR, "x"),
	    ==,
	    415);
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/AppAuth/4/AAuthSecret/X", GW_DM_FORMAT_CHR, "x"),
	    ==,
	    415);
	g_assert_null(gw_dm_tree_lookup(tree, "./DMAcc/srv1/AppAuth/4"));
	g_assert_cmpuint(gw_dm_tree_replace(tree,
	                                    "srvA",
	                                    "./DMAcc/srv1/AppAuth/3/AAuthLevel",
	                                    GW_DM_FORMAT_INT,
	                                    NULL,
	                                    b_static("3")),
	                 ==,
	                 415);
	/* names the DDF does not have: 405; Ext is open */
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/Bogus", GW_DM_FORMAT_CHR, "x"), ==, 405);
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/AppAuth/3/Bogus/X", GW_DM_FORMAT_CHR, "x"),
	    ==,
	    405);
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/Ext/Vendor/Any", GW_DM_FORMAT_INT, "1"), ==, 200);
	g_assert_null(gw_dm_tree_lookup(tree, "./DMAcc/srv1/Bogus"));

	/* the owner's Add (D-Bus SetNode of a new node) takes the DDF too */
	g_assert_cmpuint(
	    add_str(
	        tree, NULL, "./DMAcc/srv2/AppAuth/1/AAuthSecret", GW_DM_FORMAT_CHR, SECRET_OWNER),
	    ==,
	    200);
	g_assert_null(get_string(tree, NULL, "./DMAcc/srv2/AppAuth/1/AAuthSecret", &status));
	g_assert_cmpuint(status, ==, 405);
}

/* Copy and rename put nodes at new places: the DDF of the new place applies */
static void
test_ddf_copy_rename(void)
{
	g_autoptr(GwDmTree) tree = new_account_tree();
	g_autoptr(GBytes) to_name = b("AAuthName");
	g_autoptr(GBytes) to_data = b("AAuthData");
	g_autoptr(GBytes) to_bogus = b("Bogus");
	guint status = 0;

	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/Ext/Plain", GW_DM_FORMAT_CHR, "plain-value"),
	    ==,
	    200);
	g_assert_cmpuint(
	    add_str(tree, "srvA", "./DMAcc/srv1/AppAuth/1/AAuthName", GW_DM_FORMAT_CHR, "n"),
	    ==,
	    200);

	/* a readable node copied onto a new secret: the copy is not readable */
	g_assert_cmpuint(
	    gw_dm_tree_copy(
	        tree, "srvA", "./DMAcc/srv1/Ext/Plain", "./DMAcc/srv1/AppAuth/2/AAuthSecret"),
	    ==,
	    200);
	g_assert_null(get_string(tree, "srvA", "./DMAcc/srv1/AppAuth/2/AAuthSecret", &status));
	g_assert_cmpuint(status, ==, 405);
	/* a subtree where the DDF has other nodes: 405; a leaf of the wrong format: 415 */
	g_assert_cmpuint(
	    gw_dm_tree_copy(tree, "srvA", "./DMAcc/srv1/AppAuth/1", "./DMAcc/srv1/AppAddr/9"),
	    ==,
	    405);
	g_assert_null(gw_dm_tree_lookup(tree, "./DMAcc/srv1/AppAddr"));
	g_assert_cmpuint(
	    gw_dm_tree_copy(
	        tree, "srvA", "./DMAcc/srv1/Ext/Plain", "./DMAcc/srv1/AppAuth/1/AAuthData"),
	    ==,
	    415);

	/* a secret renamed to a readable name stays unreadable (access is only taken away) */
	g_assert_cmpuint(gw_dm_tree_replace(tree,
	                                    "srvA",
	                                    "./DMAcc/srv1/AppAuth/2/AAuthSecret?prop=Name",
	                                    GW_DM_FORMAT_CHR,
	                                    NULL,
	                                    to_name),
	                 ==,
	                 200);
	g_assert_null(get_string(tree, "srvA", "./DMAcc/srv1/AppAuth/2/AAuthName", &status));
	g_assert_cmpuint(status, ==, 405);
	/* a readable leaf renamed to a secret's name loses Get */
	g_assert_cmpuint(
	    gw_dm_tree_replace(
	        tree, "srvA", "./DMAcc/srv1/Ext/Plain?prop=Name", GW_DM_FORMAT_CHR, NULL, to_name),
	    ==,
	    200); /* below Ext: anything goes */
	g_assert_cmpuint(gw_dm_tree_replace(tree,
	                                    "srvA",
	                                    "./DMAcc/srv1/AppAuth/1/AAuthName?prop=Name",
	                                    GW_DM_FORMAT_CHR,
	                                    NULL,
	                                    to_data),
	                 ==,
	                 415); /* chr where the DDF has bin */
	g_assert_cmpuint(gw_dm_tree_replace(tree,
	                                    "srvA",
	                                    "./DMAcc/srv1/AppAuth/1/AAuthName?prop=Name",
	                                    GW_DM_FORMAT_CHR,
	                                    NULL,
	                                    to_bogus),
	                 ==,
	                 405);
	g_assert_nonnull(gw_dm_tree_lookup(tree, "./DMAcc/srv1/AppAuth/1/AAuthName"));
}

/* the owner API and the journal: an access type the DDF does not allow is never given, and
 * the log line names the node, never the value */
static void
test_ddf_owner(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new(); /* the DDF holds without the std objects */
	g_autoptr(GBytes) pw = b("journal-secret");
	const gchar *secret = "./DMAcc/a/AppAuth/1/AAuthSecret";
	GwDmNodeState state = {
	    .format = GW_DM_FORMAT_CHR,
	    .access = GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE,
	    .value = pw,
	};
	guint status = 0;

	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, secret, GW_DM_FORMAT_CHR, SECRET_OWNER, NULL));
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, secret)), ==, GW_DM_DDF_SECRET_ACCESS);
	g_string_truncate(test_log, 0);
	g_assert_true(gw_dm_tree_set_properties(
	    tree, secret, GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE, NULL, NULL, NULL));
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, secret)), ==, GW_DM_ACCESS_REPLACE);
	g_assert_nonnull(strstr(test_log->str, secret));
	g_assert_nonnull(strstr(test_log->str, "Get"));
	g_assert_null(strstr(test_log->str, SECRET_OWNER));
	/* Get alone: what is left is Replace */
	g_assert_true(gw_dm_tree_set_properties(tree, secret, GW_DM_ACCESS_GET, NULL, NULL, NULL));
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, secret)), ==, GW_DM_ACCESS_REPLACE);
	g_assert_null(get_string(tree, NULL, secret, &status));
	g_assert_cmpuint(status, ==, 405);

	/* a journal record written before the rule (AAuthData with Get) */
	g_assert_true(
	    gw_dm_tree_restore_node(tree, "./DMAcc/b/AppAuth/1/AAuthSecret", &state, -1, NULL));
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, "./DMAcc/b/AppAuth/1/AAuthSecret")),
	    ==,
	    GW_DM_ACCESS_REPLACE);
	g_assert_null(strstr(test_log->str, "journal-secret"));

	/* DevInfo and DevDetail are read only, for the owner's properties too */
	{
		g_autoptr(GwDmTree) std = new_std_tree();
		g_assert_true(gw_dm_tree_set_properties(
		    std, "./DevInfo/DevId", GW_DM_ACCESS_ALL, NULL, NULL, NULL));
		g_assert_cmpint(gw_dm_node_get_access(gw_dm_tree_lookup(std, "./DevInfo/DevId")),
		                ==,
		                GW_DM_ACCESS_GET);
		g_assert_cmpuint(replace_str(std, NULL, "./DevInfo/DevId", "evil"), ==, 405);
	}
}

/* an upper layer's own secrets (the inventory's device credentials) */
static void
test_ddf_upper_layer(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	const gchar *pattern = "./Inv/Devices/*/Cred/Secret";
	guint status = 0;

	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./Inv/Devices/1/Cred/Secret", GW_DM_FORMAT_CHR, "d1", NULL));
	g_assert_cmpint(gw_dm_tree_ddf_lookup(tree, "./Inv/Devices/1/Cred/Secret", NULL, NULL),
	                ==,
	                GW_DM_DDF_FREE);
	gw_dm_tree_add_ddf_node(tree, pattern, GW_DM_FORMAT_CHR, GW_DM_DDF_SECRET_ACCESS);
	/* an existing node (loaded from the state) follows at once */
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, "./Inv/Devices/1/Cred/Secret")),
	    ==,
	    GW_DM_DDF_SECRET_ACCESS);
	g_assert_null(get_string(tree, NULL, "./Inv/Devices/1/Cred/Secret", &status));
	g_assert_cmpuint(status, ==, 405);
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./Inv/Devices/1/Cred/Secret", GW_DM_ACCESS_ALL, NULL, NULL, NULL));
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree, "./Inv/Devices/1/Cred/Secret")),
	    ==,
	    GW_DM_DDF_SECRET_ACCESS);
	/* new ones take it, others are free */
	g_assert_cmpuint(
	    add_str(tree, NULL, "./Inv/Devices/2/Cred/Secret", GW_DM_FORMAT_CHR, "d2"), ==, 200);
	g_assert_null(get_string(tree, NULL, "./Inv/Devices/2/Cred/Secret", &status));
	g_assert_cmpuint(status, ==, 405);
	g_assert_cmpuint(
	    add_str(tree, NULL, "./Inv/Devices/3/Cred/Secret", GW_DM_FORMAT_INT, "3"), ==, 415);
	g_assert_cmpint(gw_dm_tree_ddf_lookup(tree, "./Inv/Devices/2/Cred/Name", NULL, NULL),
	                ==,
	                GW_DM_DDF_FREE);
	g_assert_cmpint(gw_dm_tree_ddf_lookup(tree, "./Inv/Devices/2/Cred/Secret/X", NULL, NULL),
	                ==,
	                GW_DM_DDF_FREE);
	/* the standard objects' table */
	g_assert_cmpint(gw_dm_tree_ddf_lookup(tree, "./DMAcc/x/AppAuth/y/AAuthData", NULL, NULL),
	                ==,
	                GW_DM_DDF_DESCRIBED);
	g_assert_cmpint(
	    gw_dm_tree_ddf_lookup(tree, "./DMAcc/x/Nope", NULL, NULL), ==, GW_DM_DDF_UNKNOWN);
	g_assert_cmpint(gw_dm_tree_ddf_lookup(tree, "./DevDetail/Ext/Any/Thing", NULL, NULL),
	                ==,
	                GW_DM_DDF_FREE);
	g_assert_cmpint(
	    gw_dm_tree_ddf_lookup(tree, "./DevInfo/Nope", NULL, NULL), ==, GW_DM_DDF_UNKNOWN);
	g_assert_cmpint(gw_dm_tree_ddf_lookup(tree, "./DMAccX/y", NULL, NULL), ==, GW_DM_DDF_FREE);
	g_assert_cmpint(gw_dm_tree_ddf_lookup(tree, ".", NULL, NULL), ==, GW_DM_DDF_FREE);
}

typedef struct {
	GwDmOwner *owner;
	guint own;    /* changes made while the owner wrote */
	guint others; /* the others */
} OwnerWatch;

static void
owner_changed_cb(GwDmTree *tree,
                 const gchar *uri,
                 guint change,
                 const gchar *server_id,
                 gpointer user_data)
{
	OwnerWatch *watch = user_data;
	if (gw_dm_owner_is_writing(watch->owner))
		watch->own++;
	else
		watch->others++;
}

/* GwDmOwner: a module's writes, each node with its access types and ACL, and told apart from
 * the others' in its own "changed" handler */
static void
test_dm_owner(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) results = NULL;
	GwDmOwner owner;
	OwnerWatch watch = {&owner, 0, 0};
	GwDmNode *node;

	gw_dm_owner_init(&owner, tree);
	g_signal_connect(tree, "changed", G_CALLBACK(owner_changed_cb), &watch);
	g_assert_true(gw_dm_owner_ensure_interior(
	    &owner, "./Mod/Entry", GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD, "Get=srv1", &error));
	g_assert_true(gw_dm_owner_set_leaf(&owner,
	                                   "./Mod/Entry/Value",
	                                   GW_DM_FORMAT_INT,
	                                   "text/plain",
	                                   "42",
	                                   GW_DM_ACCESS_GET,
	                                   &error));
	g_assert_true(gw_dm_owner_set_leaf(
	    &owner, "./Mod/Entry/Run", GW_DM_FORMAT_NULL, NULL, NULL, GW_DM_ACCESS_EXEC, &error));
	g_assert_no_error(error);
	g_assert_false(gw_dm_owner_is_writing(&owner));
	g_assert_cmpuint(watch.others, ==, 0);
	g_assert_cmpuint(watch.own, >, 0);
	node = gw_dm_tree_lookup(tree, "./Mod/Entry/Value");
	g_assert_cmpuint(gw_dm_node_get_access(node), ==, GW_DM_ACCESS_GET);
	/* the ACL and the access types hold for the servers */
	g_assert_cmpuint(gw_dm_tree_get(tree, "srv1", "./Mod/Entry/Value", &results), ==, 200);
	g_clear_pointer(&results, g_ptr_array_unref);
	g_assert_cmpuint(gw_dm_tree_get(tree, "srv2", "./Mod/Entry/Value", &results), ==, 425);
	g_assert_cmpuint(gw_dm_tree_delete(tree, "srv1", "./Mod/Entry/Value"), ==, 405);
	/* what somebody else does is not the owner's */
	watch.own = 0;
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Mod/Entry/Other", GW_DM_FORMAT_CHR, "x", &error));
	g_assert_cmpuint(watch.others, ==, 1);
	g_assert_cmpuint(watch.own, ==, 0);
	g_assert_true(gw_dm_owner_set_properties(
	    &owner, "./Mod/Entry/Other", GW_DM_ACCESS_GET, NULL, &error));
	g_assert_true(gw_dm_owner_remove(&owner, "./Mod/Entry", &error));
	g_assert_no_error(error);
	g_assert_null(gw_dm_tree_lookup(tree, "./Mod/Entry"));
	g_assert_cmpuint(watch.others, ==, 1);
	g_assert_cmpuint(watch.own, ==, 2);
	g_signal_handlers_disconnect_by_data(tree, &watch);
}

/* issue 16: names, MIME types and short values are shared between nodes, and a node indexes
 * its children only from 32 on; neither may show: a node keeps its own value when another with
 * the same one changes, a rename or a delete among many siblings keeps every lookup right */
static void
test_shared_storage(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GBytes) detached = b("Detached");
	g_autoptr(GBytes) renamed = b("n7");
	g_autofree gchar *v = NULL;

	/* 40 records of the same shape and values: the index appears at the 32nd child */
	for (guint i = 0; i < 40; i++) {
		g_autofree gchar *uri = g_strdup_printf("./R/%u/Status", i);
		g_autofree gchar *copy = g_strdup_printf("./R/%u/Copy", i);
		g_assert_true(
		    gw_dm_tree_set_leaf_string(tree, uri, GW_DM_FORMAT_CHR, "Attached", NULL));
		g_assert_true(gw_dm_tree_set_mime_type(tree, uri, "text/plain", NULL));
		g_assert_true(
		    gw_dm_tree_set_leaf_string(tree, copy, GW_DM_FORMAT_CHR, "Attached", NULL));
	}
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, "./R/3/Status", GW_DM_FORMAT_CHR, NULL, detached),
	    ==,
	    200);
	for (guint i = 0; i < 40; i++) {
		g_autofree gchar *uri = g_strdup_printf("./R/%u/Status", i);
		g_autofree gchar *got = gw_dm_tree_dup_string(tree, uri);
		g_assert_cmpstr(got, ==, i == 3 ? "Detached" : "Attached");
		g_assert_cmpstr(
		    gw_dm_node_get_mime_type(gw_dm_tree_lookup(tree, uri)), ==, "text/plain");
	}
	/* delete, rename and copy among 40 indexed siblings */
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./R/5"), ==, 200);
	g_assert_null(gw_dm_tree_lookup(tree, "./R/5"));
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, "./R/7?prop=Name", GW_DM_FORMAT_CHR, NULL, renamed),
	    ==,
	    200);
	g_assert_null(gw_dm_tree_lookup(tree, "./R/7"));
	v = gw_dm_tree_dup_string(tree, "./R/n7/Status");
	g_assert_cmpstr(v, ==, "Attached");
	g_assert_cmpuint(gw_dm_tree_copy(tree, NULL, "./R/3", "./R/41"), ==, 200);
	g_clear_pointer(&v, g_free);
	v = gw_dm_tree_dup_string(tree, "./R/41/Status");
	g_assert_cmpstr(v, ==, "Detached");
	for (guint i = 0; i < 40; i++) {
		g_autofree gchar *uri = g_strdup_printf("./R/%u", i);
		g_assert_true((gw_dm_tree_lookup(tree, uri) == NULL) == (i == 5 || i == 7));
	}
	g_assert_cmpuint(gw_dm_node_get_children(gw_dm_tree_lookup(tree, "./R"))->len, ==, 40);
	/* a leaf has no children, and says so */
	g_assert_cmpuint(
	    gw_dm_node_get_children(gw_dm_tree_lookup(tree, "./R/0/Status"))->len, ==, 0);
	/* the copy is independent of its source */
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, "./R/41/Status", GW_DM_FORMAT_CHR, NULL, renamed),
	    ==,
	    200);
	g_clear_pointer(&v, g_free);
	v = gw_dm_tree_dup_string(tree, "./R/3/Status");
	g_assert_cmpstr(v, ==, "Detached");
}

int
main(int argc, char **argv)
{
	test_log = g_string_new(NULL);
	g_log_set_writer_func(test_log_writer, NULL, NULL);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dm-tree/standard-objects", test_standard_objects);
	g_test_add_func("/gw/dm-tree/get", test_get);
	g_test_add_func("/gw/dm-tree/get-props", test_get_props);
	g_test_add_func("/gw/dm-tree/get-list", test_get_list);
	g_test_add_func("/gw/dm-tree/add", test_add);
	g_test_add_func("/gw/dm-tree/replace", test_replace);
	g_test_add_func("/gw/dm-tree/delete", test_delete);
	g_test_add_func("/gw/dm-tree/exec", test_exec);
	g_test_add_func("/gw/dm-tree/uri-limits", test_uri_limits);
	g_test_add_func("/gw/dm-tree/acl", test_acl);
	g_test_add_func("/gw/dm-tree/copy", test_copy);
	g_test_add_func("/gw/dm-tree/get-hook", test_get_hook);
	g_test_add_func("/gw/dm-tree/changed-signal", test_changed_signal);
	g_test_add_func("/gw/dm-tree/snapshot", test_snapshot);
	g_test_add_func("/gw/dm-tree/owner-api", test_owner_api);
	g_test_add_func("/gw/dm-tree/dm-owner", test_dm_owner);
	g_test_add_func("/gw/dm-tree/ddf-dm-add", test_ddf_dm_add);
	g_test_add_func("/gw/dm-tree/ddf-copy-rename", test_ddf_copy_rename);
	g_test_add_func("/gw/dm-tree/ddf-owner", test_ddf_owner);
	g_test_add_func("/gw/dm-tree/ddf-upper-layer", test_ddf_upper_layer);
	g_test_add_func("/gw/dm-tree/shared-storage", test_shared_storage);
	return g_test_run();
}
