/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GwDbusExporter on its own: a real GwDmTree and a GwDbusObjectManager (no bus needed),
 * the objects an entry gets, when, and how often they are filled.
 */

#include "config.h"

#include "gw-dbus-exporter.h"
#include "gw-dbus-generated.h"

#define N_ENTRIES 100
#define N_CHANGES 5

typedef struct {
	guint creates;
	guint fills;
} Counts;

static const GwDbusExporterLeaf test_leaves[] = {
    {"Name", "name"},
};

static GDBusInterfaceSkeleton *
test_create(GwDbusExporter *exporter, const gchar *uri, gpointer user_data)
{
	((Counts *)user_data)->creates++;
	return G_DBUS_INTERFACE_SKELETON(gw_dbus_gen_image_skeleton_new());
}

static void
test_fill(GwDbusExporter *exporter,
          const gchar *uri,
          GDBusInterfaceSkeleton *iface,
          gpointer user_data)
{
	((Counts *)user_data)->fills++;
	gw_dbus_exporter_fill_strings(exporter, uri, iface, test_leaves, G_N_ELEMENTS(test_leaves));
}

static const GwDbusExporterFuncs test_funcs = {
    .create = test_create,
    .fill = test_fill,
};

static void
iterate(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static guint
n_objects(GwDbusObjectManager *om)
{
	GList *objects = g_dbus_object_manager_get_objects(G_DBUS_OBJECT_MANAGER(om));
	guint n = g_list_length(objects);

	g_list_free_full(objects, g_object_unref);
	return n;
}

static void
set_leaf(GwDmTree *tree, const gchar *uri, const gchar *value)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(gw_dm_tree_set_leaf_string(tree, uri, GW_DM_FORMAT_CHR, value, &error));
	g_assert_no_error(error);
}

/* the Name property of the object at @path */
static gchar *
shown_name(GwDbusObjectManager *om, const gchar *path)
{
	g_autoptr(GDBusInterface) iface = g_dbus_object_manager_get_interface(
	    G_DBUS_OBJECT_MANAGER(om), path, "org.gwmo.Gateway1.Image");
	gchar *name = NULL;

	g_assert_nonnull(iface);
	g_object_get(iface, "name", &name, NULL);
	return name;
}

/* the changes of one main-loop turn cost one fill per changed entry (BATCH), or one per
 * changed leaf without it; entries are exported after the turn that built them, complete
 * ones only (their ID leaf), and unexported when deleted */
static void
test_exporter_changes(gconstpointer data)
{
	GwDbusExporterFlags flags = GPOINTER_TO_UINT(data);
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwDbusObjectManager) om = gw_dbus_object_manager_new(NULL, "/test", NULL);
	g_autoptr(GwDbusExporter) exporter = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = NULL;
	Counts counts = {0};

	/* the base is there already, as ./GwMO/Inventory/Devices is (its creation would be a
	 * resync of its own) */
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./Things", &error));
	g_assert_no_error(error);
	exporter = gw_dbus_exporter_new_full(
	    tree, om, "./Things", "/test/Things", "ID", flags, &test_funcs, &counts);
	g_assert_cmpuint(n_objects(om), ==, 0);

	/* built leaf by leaf within one turn */
	for (guint i = 0; i < N_ENTRIES; i++) {
		g_autofree gchar *id_uri = g_strdup_printf("./Things/t%u/ID", i);
		g_autofree gchar *name_uri = g_strdup_printf("./Things/t%u/Name", i);
		g_autofree gchar *id = g_strdup_printf("id%u", i);
		set_leaf(tree, name_uri, "first");
		set_leaf(tree, id_uri, id);
	}
	/* an entry without its ID is not shown */
	set_leaf(tree, "./Things/incomplete/Name", "x");
	g_assert_cmpuint(n_objects(om), ==, 0);
	iterate();
	g_assert_cmpuint(n_objects(om), ==, N_ENTRIES);
	g_assert_cmpuint(counts.creates, ==, N_ENTRIES);
	/* filled once, before InterfacesAdded */
	g_assert_cmpuint(counts.fills, ==, N_ENTRIES);
	g_assert_cmpstr(gw_dbus_exporter_lookup(exporter, "/test/Things/t7"), ==, "./Things/t7");
	g_assert_null(gw_dbus_exporter_lookup(exporter, "/test/Things/incomplete"));

	/* every entry changed N_CHANGES times within one turn */
	counts.fills = 0;
	for (guint round = 0; round < N_CHANGES; round++) {
		for (guint i = 0; i < N_ENTRIES; i++) {
			g_autofree gchar *name_uri = g_strdup_printf("./Things/t%u/Name", i);
			g_autofree gchar *value = g_strdup_printf("round %u", round);
			set_leaf(tree, name_uri, value);
		}
	}
	iterate();
	if ((flags & GW_DBUS_EXPORTER_FLAGS_BATCH) != 0)
		g_assert_cmpuint(counts.fills, ==, N_ENTRIES);
	else
		g_assert_cmpuint(counts.fills, ==, N_ENTRIES * N_CHANGES);
	name = shown_name(om, "/test/Things/t42");
	g_assert_cmpstr(name, ==, "round 4");
	g_assert_cmpuint(counts.creates, ==, N_ENTRIES);

	/* a deleted entry leaves */
	g_assert_true(gw_dm_tree_remove(tree, "./Things/t3", &error));
	g_assert_no_error(error);
	iterate();
	g_assert_cmpuint(n_objects(om), ==, N_ENTRIES - 1);
	g_assert_null(gw_dbus_exporter_lookup(exporter, "/test/Things/t3"));

	/* the base itself goes: everything leaves */
	g_assert_true(gw_dm_tree_remove(tree, "./Things", &error));
	g_assert_no_error(error);
	iterate();
	g_assert_cmpuint(n_objects(om), ==, 0);
}

/* no ID leaf: an entry is shown once its node exists; property changes are not looked at
 * with IGNORE_PROPERTIES; update/remove act at once; paths are escaped names */
static void
test_exporter_nodes(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwDbusObjectManager) om = gw_dbus_object_manager_new(NULL, "/test", NULL);
	g_autoptr(GwDbusExporter) exporter = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *escaped = NULL;
	Counts counts = {0};

	exporter = gw_dbus_exporter_new_full(tree,
	                                     om,
	                                     "./Things",
	                                     "/test/Things",
	                                     NULL,
	                                     GW_DBUS_EXPORTER_FLAGS_IGNORE_PROPERTIES,
	                                     &test_funcs,
	                                     &counts);
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./Things/a b", &error));
	g_assert_no_error(error);
	iterate();
	g_assert_cmpuint(n_objects(om), ==, 1);
	g_assert_cmpstr(
	    gw_dbus_exporter_lookup(exporter, "/test/Things/a_20b"), ==, "./Things/a b");

	escaped = gw_dbus_exporter_path_of("./Things", "/test/Things", "./Things/a b");
	g_assert_cmpstr(escaped, ==, "/test/Things/a_20b");
	g_assert_null(gw_dbus_exporter_path_of("./Things", "/test/Things", "./Things/a b/x"));
	g_assert_null(gw_dbus_exporter_path_of("./Things", "/test/Things", "./Other/a"));
	g_assert_null(gw_dbus_exporter_path_of("./Things", "/test/Things", "./Things"));

	counts.fills = 0;
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./Things/a b", GW_DM_ACCESS_NONE, "Get=*", NULL, &error));
	g_assert_no_error(error);
	iterate();
	g_assert_cmpuint(counts.fills, ==, 0);

	/* at once, whatever the tree says */
	gw_dbus_exporter_remove(exporter, "./Things/a b");
	g_assert_cmpuint(n_objects(om), ==, 0);
	path = gw_dbus_exporter_update(exporter, "./Things/a b");
	g_assert_cmpstr(path, ==, "/test/Things/a_20b");
	g_assert_cmpuint(n_objects(om), ==, 1);
	g_assert_null(gw_dbus_exporter_update(exporter, "./Things/missing"));
	g_assert_null(gw_dbus_exporter_update(exporter, "./Other/a"));

	/* the interface of an exported entry is the one its object carries; none otherwise */
	{
		g_autoptr(GDBusInterface) shown = g_dbus_object_manager_get_interface(
		    G_DBUS_OBJECT_MANAGER(om), path, "org.gwmo.Gateway1.Image");
		g_assert_nonnull(shown);
		g_assert_true(gw_dbus_exporter_get_interface(exporter, "./Things/a b") ==
		              G_DBUS_INTERFACE_SKELETON(shown));
		g_assert_null(gw_dbus_exporter_get_interface(exporter, "./Things/missing"));
		g_assert_null(gw_dbus_exporter_get_interface(exporter, "./Things/a b/x"));
		gw_dbus_exporter_remove(exporter, "./Things/a b");
		g_assert_null(gw_dbus_exporter_get_interface(exporter, "./Things/a b"));
		g_free(gw_dbus_exporter_update(exporter, "./Things/a b"));
	}

	/* the exporter goes: its objects go with it */
	g_clear_object(&exporter);
	g_assert_cmpuint(n_objects(om), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/gw/dbus/exporter/changes/batch",
	                     GUINT_TO_POINTER(GW_DBUS_EXPORTER_FLAGS_BATCH),
	                     test_exporter_changes);
	g_test_add_data_func("/gw/dbus/exporter/changes/per-leaf",
	                     GUINT_TO_POINTER(GW_DBUS_EXPORTER_FLAGS_NONE),
	                     test_exporter_changes);
	g_test_add_func("/gw/dbus/exporter/nodes", test_exporter_nodes);
	return g_test_run();
}
