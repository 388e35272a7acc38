/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Device Inventory MO (./GwMO/Inventory), device groups and ./GwMO/Config/Servers.
 * Requirement labels: GwMO-DI-001 (query one device), GwMO-DI-002 (Summary), GwMO-DI-003
 * (Attached/Detached, leases), GwMO-DI-004 (inform servers of new devices: alert_servers and
 * the <GwMODevice> document), GwMO-DI-005 (InventoryAlert per server), GwMO-DCIS-003
 * (ImageStore per server), GwMO-Group-001 (groups managed by DM Servers),
 * GwMO-SECARIZE-001 (per-server visibility of records and groups).
 */

#include "config.h"

#include <string.h>

#include "gw-gwmo-mo.h"
#include "gw-inventory.h"
#include "gw-tnds.h"

#define DEVICES GW_GWMO_INVENTORY_DEVICES
#define GROUPS GW_GWMO_INVENTORY_GROUPS

static const GwDmDeviceInfo gw_info = {
    .dev_id = "gw-0001",
    .man = "Example Corp",
    .mod = "GW-1",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "Example OEM",
    .fwv = "1.0",
    .swv = "0.1.0",
    .hwv = "rev-b",
};

typedef struct {
	GwDmTree *tree;
	GwConfig *config;
	GwInventory *inv;
	GPtrArray *events; /* "attached <uri> <id> new|old", "detached <uri> <id>", … */
} Fixture;

static GBytes *
b(const gchar *s)
{
	return g_bytes_new(s, strlen(s));
}

static void
on_attached(GwInventory *inv, const gchar *uri, const gchar *id, gboolean is_new, Fixture *fx)
{
	g_ptr_array_add(fx->events,
	                g_strdup_printf("attached %s %s %s", uri, id, is_new ? "new" : "old"));
}

static void
on_detached(GwInventory *inv, const gchar *uri, const gchar *id, Fixture *fx)
{
	g_ptr_array_add(fx->events, g_strdup_printf("detached %s %s", uri, id));
}

static void
on_removed(GwInventory *inv, const gchar *uri, const gchar *id, Fixture *fx)
{
	g_ptr_array_add(fx->events, g_strdup_printf("removed %s %s", uri, id));
}

static void
on_group_changed(GwGroups *groups, const gchar *uri, Fixture *fx)
{
	g_ptr_array_add(fx->events, g_strdup_printf("group %s", uri));
}

static void
drain(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void
fixture_new_inventory(Fixture *fx)
{
	g_autoptr(GError) error = NULL;

	fx->inv = gw_inventory_new(fx->tree, fx->config);
	g_assert_nonnull(fx->inv);
	g_signal_connect(fx->inv, "device-attached", G_CALLBACK(on_attached), fx);
	g_signal_connect(fx->inv, "device-detached", G_CALLBACK(on_detached), fx);
	g_signal_connect(fx->inv, "device-removed", G_CALLBACK(on_removed), fx);
	g_signal_connect(
	    gw_inventory_get_groups(fx->inv), "group-changed", G_CALLBACK(on_group_changed), fx);
	g_assert_true(gw_inventory_start(fx->inv, &error));
	g_assert_no_error(error);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fx->tree = gw_dm_tree_new();
	g_assert_true(gw_dm_tree_install_standard_objects(fx->tree, &gw_info, &error));
	g_assert_no_error(error);
	g_assert_true(gw_gwmo_install_objects(fx->tree, "gw-0001", GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);
	/* the gateway's two DM Servers */
	g_assert_true(gw_dm_tree_set_leaf_string(
	    fx->tree, "./DMAcc/a/ServerID", GW_DM_FORMAT_CHR, "srvA", &error));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    fx->tree, "./DMAcc/b/ServerID", GW_DM_FORMAT_CHR, "srvB", &error));
	g_assert_no_error(error);
	fx->config = gw_config_new();
	fx->events = g_ptr_array_new_with_free_func(g_free);
	fixture_new_inventory(fx);
	drain();
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	g_clear_object(&fx->inv);
	g_clear_object(&fx->config);
	g_clear_object(&fx->tree);
	g_clear_pointer(&fx->events, g_ptr_array_unref);
	drain();
}

static gchar *
register_device(Fixture *fx,
                const gchar *id,
                guint mode,
                const gchar *const *server_ids,
                const gchar *address)
{
	g_autoptr(GError) error = NULL;
	GwInventoryDevice info = {0};
	gchar *uri;

	info.device_id = (gchar *)id;
	info.mode = mode;
	/* Adaptation needs an adapter for the device's protocol (main() registers one) */
	if (mode == GW_GWMO_MODE_ADAPTATION)
		info.protocol = (gchar *)"Zigbee";
	info.server_ids = (gchar **)server_ids;
	info.address = (gchar *)address;
	uri = gw_inventory_register(fx->inv, &info, &error);
	g_assert_no_error(error);
	g_assert_nonnull(uri);
	return uri;
}

/* Get as @server; the data of the single item or NULL */
static gchar *
get_string(GwDmTree *tree, const gchar *server, const gchar *uri, guint *status)
{
	g_autoptr(GPtrArray) results = NULL;

	*status = gw_dm_tree_get(tree, server, uri, &results);
	if (*status != 200)
		return NULL;
	g_assert_cmpuint(results->len, ==, 1);
	return gw_dm_item_dup_string(g_ptr_array_index(results, 0));
}

static guint
get_status(GwDmTree *tree, const gchar *server, const gchar *uri)
{
	guint status = 0;
	g_autofree gchar *value = get_string(tree, server, uri, &status);
	return status;
}

static gchar *
leaf(GwDmTree *tree, const gchar *parent, const gchar *name)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", parent, name);
	return gw_dm_tree_dup_string(tree, uri);
}

static void
assert_leaf(GwDmTree *tree, const gchar *parent, const gchar *name, const gchar *expected)
{
	g_autofree gchar *value = leaf(tree, parent, name);
	g_assert_cmpstr(value, ==, expected);
}

static void
assert_node(GwDmTree *tree,
            const gchar *parent,
            const gchar *name,
            GwDmFormat format,
            GwDmAccess access)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", parent, name);
	GwDmNode *node = gw_dm_tree_lookup(tree, uri);

	g_assert_nonnull(node);
	g_assert_cmpstr(gw_dm_format_to_string(gw_dm_node_get_format(node)),
	                ==,
	                gw_dm_format_to_string(format));
	g_assert_cmpuint(gw_dm_node_get_access(node), ==, access);
}

static gchar *
dup_acl(GwDmTree *tree, const gchar *uri)
{
	GwDmNode *node = gw_dm_tree_lookup(tree, uri);
	g_assert_nonnull(node);
	return gw_dm_node_dup_acl(node);
}

/* the values of the leaves below @uri joined with "," */
static gchar *
child_values(GwDmTree *tree, const gchar *uri)
{
	g_auto(GStrv) names = gw_dm_tree_list_children(tree, uri);
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *v = leaf(tree, uri, names[i]);
		if (out->len > 0)
			g_string_append_c(out, ',');
		g_string_append(out, v != NULL ? v : "?");
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
assert_events(Fixture *fx, const gchar *expected)
{
	g_autoptr(GString) got = g_string_new(NULL);

	for (guint i = 0; i < fx->events->len; i++) {
		const gchar *ev = g_ptr_array_index(fx->events, i);
		if (g_str_has_prefix(ev, "group "))
			continue;
		if (got->len > 0)
			g_string_append(got, "; ");
		g_string_append(got, ev);
	}
	g_assert_cmpstr(got->str, ==, expected);
	g_ptr_array_set_size(fx->events, 0);
}

/* GwMO-DI-001, GwMO-DI-003, GwMO-DI-004: registration, re-registration, lookups */
static void
test_register(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) devinfo = g_hash_table_new(g_str_hash, g_str_equal);
	const gchar *ids[] = {"srvA", NULL};
	const gchar *ids2[] = {"srvB", "srvZ", NULL};
	g_autofree gchar *uri1 = NULL;
	g_autofree gchar *uri2 = NULL;
	g_autofree gchar *again = NULL;
	g_autofree gchar *found = NULL;
	g_autoptr(GPtrArray) list = NULL;
	GwInventoryDevice info = {0};
	GwInventoryDevice out = {0};

	g_hash_table_insert(devinfo, (gpointer) "Man", (gpointer) "ACME");
	g_hash_table_insert(devinfo, (gpointer) "FwV", (gpointer) "1.0");
	info.device_id = (gchar *)"IMEI:490154203237518";
	info.mode = GW_GWMO_MODE_TRANSPARENT;
	info.address = (gchar *)"http://10.0.0.5:8080/dm";
	info.notify_addr = (gchar *)"udp://10.0.0.5:2948";
	info.server_ids = (gchar **)ids;
	info.devinfo = devinfo;
	info.trusted = TRUE;
	info.auth_type = (gchar *)"DIGEST";
	info.client_name = (gchar *)"dev-user";
	info.client_secret = (gchar *)"c-secret";
	info.server_secret = (gchar *)"s-secret";

	uri1 = gw_inventory_register(fx->inv, &info, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(uri1, ==, DEVICES "/1");
	assert_events(fx, "attached ./GwMO/Inventory/Devices/1 IMEI:490154203237518 new");
	assert_leaf(fx->tree, uri1, "DeviceID", "IMEI:490154203237518");
	assert_leaf(fx->tree, uri1, "ComponentType", "EndDevice");
	assert_leaf(fx->tree, uri1, "Protocol", "OMA-DM");
	assert_leaf(fx->tree, uri1, "Mode", "1");
	assert_leaf(fx->tree, uri1, "Status", "Attached");
	assert_leaf(fx->tree, uri1, "Address", "http://10.0.0.5:8080/dm");
	assert_leaf(fx->tree, uri1, "NotifyAddr", "udp://10.0.0.5:2948");
	assert_leaf(fx->tree, uri1, "Trusted", "true");
	assert_leaf(fx->tree, uri1, "ServerIDs/1", "srvA");
	assert_leaf(fx->tree, uri1, "DevInfo/Man", "ACME");
	assert_leaf(fx->tree, uri1, "DevInfo/FwV", "1.0");
	assert_leaf(fx->tree, uri1, "Credentials/AuthType", "DIGEST");
	{
		/* DevInfo leaves in name order */
		g_autofree gchar *devinfo_uri = g_strdup_printf("%s/DevInfo", uri1);
		g_auto(GStrv) names = gw_dm_tree_list_children(fx->tree, devinfo_uri);
		g_autofree gchar *joined = g_strjoinv(",", names);
		g_assert_cmpstr(joined, ==, "FwV,Man");
	}

	/* a second device takes the next number */
	uri2 = register_device(fx, "dev-2", 0, NULL, NULL);
	g_assert_cmpstr(uri2, ==, DEVICES "/2");
	/* mode 0 = ./GwMO/Config/Mode */
	assert_leaf(fx->tree, uri2, "Mode", "2");
	assert_events(fx, "attached ./GwMO/Inventory/Devices/2 dev-2 new");

	/* re-registration of an attached device: values replaced, no event */
	info.mode = 0;
	info.address = (gchar *)"http://10.0.0.6:8080/dm";
	info.notify_addr = NULL;
	info.server_ids = (gchar **)ids2;
	info.devinfo = NULL;
	info.trusted = FALSE;
	info.auth_type = NULL;
	info.client_secret = NULL;
	info.server_secret = (gchar *)"s-secret-2";
	again = gw_inventory_register(fx->inv, &info, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(again, ==, uri1);
	assert_events(fx, "");
	assert_leaf(fx->tree, uri1, "Mode", "1"); /* kept: not given */
	assert_leaf(fx->tree, uri1, "Address", "http://10.0.0.6:8080/dm");
	assert_leaf(fx->tree, uri1, "NotifyAddr", "udp://10.0.0.5:2948"); /* kept */
	assert_leaf(fx->tree, uri1, "Trusted", "false");
	{
		g_autofree gchar *ids_uri = g_strdup_printf("%s/ServerIDs", uri1);
		g_autofree gchar *values = child_values(fx->tree, ids_uri);
		g_assert_cmpstr(values, ==, "srvB,srvZ");
	}
	assert_leaf(fx->tree, uri1, "DevInfo/Man", "ACME"); /* kept */

	/* find, list, get_device */
	found = gw_inventory_find(fx->inv, "IMEI:490154203237518");
	g_assert_cmpstr(found, ==, uri1);
	g_assert_null(gw_inventory_find(fx->inv, "nobody"));
	list = gw_inventory_list(fx->inv);
	g_assert_cmpuint(list->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(list, 0), ==, uri1);
	g_assert_cmpstr(g_ptr_array_index(list, 1), ==, uri2);

	g_assert_true(gw_inventory_get_device(fx->inv, "IMEI:490154203237518", &out));
	g_assert_cmpstr(out.device_id, ==, "IMEI:490154203237518");
	g_assert_cmpuint(out.mode, ==, GW_GWMO_MODE_TRANSPARENT);
	g_assert_cmpstr(out.protocol, ==, "OMA-DM");
	g_assert_cmpstr(out.component_type, ==, "EndDevice");
	g_assert_cmpstr(out.address, ==, "http://10.0.0.6:8080/dm");
	g_assert_cmpstr(out.notify_addr, ==, "udp://10.0.0.5:2948");
	g_assert_cmpuint(g_strv_length(out.server_ids), ==, 2);
	g_assert_cmpstr(out.server_ids[0], ==, "srvB");
	g_assert_cmpstr(g_hash_table_lookup(out.devinfo, "FwV"), ==, "1.0");
	g_assert_false(out.trusted);
	g_assert_cmpstr(out.auth_type, ==, "DIGEST");
	g_assert_cmpstr(out.client_name, ==, "dev-user");
	g_assert_cmpstr(out.client_secret, ==, "c-secret"); /* kept when NULL */
	g_assert_cmpstr(out.server_secret, ==, "s-secret-2");
	gw_inventory_device_clear(&out);
	g_assert_null(out.device_id);
	g_assert_false(gw_inventory_get_device(fx->inv, "nobody", &out));

	/* detach, register again: is_new FALSE */
	g_assert_true(gw_inventory_detach(fx->inv, "dev-2", &error));
	g_assert_no_error(error);
	assert_leaf(fx->tree, uri2, "Status", "Detached");
	assert_events(fx, "detached ./GwMO/Inventory/Devices/2 dev-2");
	g_free(register_device(fx, "dev-2", 0, NULL, NULL));
	assert_events(fx, "attached ./GwMO/Inventory/Devices/2 dev-2 old");
	assert_leaf(fx->tree, uri2, "Status", "Attached");

	/* remove: the number is not reused */
	g_assert_true(gw_inventory_remove(fx->inv, "dev-2", &error));
	g_assert_no_error(error);
	assert_events(fx, "removed ./GwMO/Inventory/Devices/2 dev-2");
	g_assert_null(gw_dm_tree_lookup(fx->tree, uri2));
	{
		g_autofree gchar *uri3 = register_device(fx, "dev-3", 0, NULL, NULL);
		g_assert_cmpstr(uri3, ==, DEVICES "/3");
	}
	g_assert_false(gw_inventory_remove(fx->inv, "dev-2", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
}

/* invalid input comes back as GW_ERROR_INVALID_ARGS / NOT_FOUND, never an abort */
static void
test_invalid(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *long_id = g_strnfill(256, 'x');
	g_autofree gchar *max_id = g_strnfill(255, 'x');
	const gchar *bad_ids[] = {"", "\xff\xfe", "a\001b", long_id};
	const gchar *empty_sid[] = {"", NULL};
	g_autoptr(GHashTable) devinfo = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < G_N_ELEMENTS(bad_ids); i++) {
		g_autoptr(GError) error = NULL;
		GwInventoryDevice info = {.device_id = (gchar *)bad_ids[i]};
		g_assert_null(gw_inventory_register(fx->inv, &info, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	{
		g_autoptr(GError) error = NULL;
		GwInventoryDevice info = {.device_id = NULL};
		g_assert_null(gw_inventory_register(fx->inv, &info, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	/* modes 1..3 or 0 */
	for (guint mode = 4; mode < 6; mode++) {
		g_autoptr(GError) error = NULL;
		GwInventoryDevice info = {.device_id = (gchar *)"dev", .mode = mode};
		g_assert_null(gw_inventory_register(fx->inv, &info, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	{
		g_autoptr(GError) error = NULL;
		GwInventoryDevice info = {.device_id = (gchar *)"dev",
		                          .notify_addr = (gchar *)"ftp://x"};
		g_assert_null(gw_inventory_register(fx->inv, &info, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	{
		g_autoptr(GError) error = NULL;
		GwInventoryDevice info = {.device_id = (gchar *)"dev",
		                          .auth_type = (gchar *)"NONE"};
		g_assert_null(gw_inventory_register(fx->inv, &info, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	{
		g_autoptr(GError) error = NULL;
		GwInventoryDevice info = {.device_id = (gchar *)"dev",
		                          .server_ids = (gchar **)empty_sid};
		g_assert_null(gw_inventory_register(fx->inv, &info, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	{
		g_autoptr(GError) error = NULL;
		GwInventoryDevice info = {.device_id = (gchar *)"dev", .devinfo = devinfo};
		g_hash_table_insert(devinfo, (gpointer) "a/b", (gpointer) "x");
		g_assert_null(gw_inventory_register(fx->inv, &info, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	/* nothing was written */
	{
		g_autoptr(GPtrArray) list = gw_inventory_list(fx->inv);
		g_auto(GStrv) names = gw_dm_tree_list_children(fx->tree, DEVICES);
		g_assert_cmpuint(list->len, ==, 0);
		g_assert_cmpuint(g_strv_length(names), ==, 0);
	}
	/* 255 bytes is fine */
	g_free(register_device(fx, max_id, 0, NULL, NULL));

	/* unknown devices */
	{
		g_autoptr(GError) error = NULL;
		g_assert_false(gw_inventory_touch(fx->inv, "nobody", &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	}
	{
		g_autoptr(GError) error = NULL;
		g_assert_false(gw_inventory_detach(fx->inv, "nobody", &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	}
	/* groups */
	{
		g_autoptr(GError) error = NULL;
		g_assert_null(
		    gw_groups_create(gw_inventory_get_groups(fx->inv), "", NULL, NULL, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	{
		g_autoptr(GError) error = NULL;
		g_assert_null(gw_groups_create(
		    gw_inventory_get_groups(fx->inv), "g", NULL, "a&Get=b", &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
	{
		g_autoptr(GError) error = NULL;
		g_assert_false(gw_groups_add_member(
		    gw_inventory_get_groups(fx->inv), "nogroup", "dev", &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	}
	{
		g_autoptr(GError) error = NULL;
		g_assert_false(
		    gw_groups_delete(gw_inventory_get_groups(fx->inv), "nogroup", &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	}
}

/* GwMO-DI-001: the record's nodes carry the formats and access types of spec §1; the
 * secrets have no Get access type (405 for servers and for the owner) */
static void
test_record_nodes(Fixture *fx, gconstpointer data)
{
	g_autoptr(GHashTable) devinfo = g_hash_table_new(g_str_hash, g_str_equal);
	const gchar *ids[] = {"srvA", NULL};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *secret_uri = NULL;
	g_autofree gchar *last_seen = NULL;
	g_autoptr(GDateTime) parsed = NULL;
	GwInventoryDevice info = {0};
	const GwDmAccess get = GW_DM_ACCESS_GET;

	g_hash_table_insert(devinfo, (gpointer) "Mod", (gpointer) "X1");
	info.device_id = (gchar *)"dev-1";
	info.server_ids = (gchar **)ids;
	info.devinfo = devinfo;
	info.auth_type = (gchar *)"BASIC";
	info.client_name = (gchar *)"name";
	info.client_secret = (gchar *)"client-secret";
	info.server_secret = (gchar *)"server-secret";
	uri = gw_inventory_register(fx->inv, &info, &error);
	g_assert_no_error(error);

	g_assert_cmpuint(gw_dm_node_get_access(gw_dm_tree_lookup(fx->tree, uri)), ==, get);
	assert_node(fx->tree, uri, "DeviceID", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "ComponentType", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "Protocol", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "Mode", GW_DM_FORMAT_INT, get | GW_DM_ACCESS_REPLACE);
	assert_node(fx->tree, uri, "Status", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "Address", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "NotifyAddr", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "LastSeen", GW_DM_FORMAT_DATE, get);
	assert_node(fx->tree, uri, "Trusted", GW_DM_FORMAT_BOOL, get);
	assert_node(fx->tree, uri, "ServerIDs", GW_DM_FORMAT_NODE, get);
	assert_node(fx->tree, uri, "ServerIDs/1", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "DevInfo", GW_DM_FORMAT_NODE, get);
	assert_node(fx->tree, uri, "DevInfo/Mod", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "Groups", GW_DM_FORMAT_NODE, get);
	assert_node(fx->tree, uri, "Credentials", GW_DM_FORMAT_NODE, get);
	assert_node(fx->tree, uri, "Credentials/AuthType", GW_DM_FORMAT_CHR, get);
	assert_node(fx->tree, uri, "Credentials/ClientName", GW_DM_FORMAT_CHR, get);
	assert_node(
	    fx->tree, uri, "Credentials/ClientSecret", GW_DM_FORMAT_CHR, GW_DM_ACCESS_REPLACE);
	assert_node(
	    fx->tree, uri, "Credentials/ServerSecret", GW_DM_FORMAT_CHR, GW_DM_ACCESS_REPLACE);

	/* LastSeen is RFC 3339 in UTC */
	last_seen = leaf(fx->tree, uri, "LastSeen");
	g_assert_true(g_str_has_suffix(last_seen, "Z"));
	parsed = g_date_time_new_from_iso8601(last_seen, NULL);
	g_assert_nonnull(parsed);
	g_assert_cmpint(
	    ABS(g_date_time_to_unix(parsed) - g_get_real_time() / G_USEC_PER_SEC), <=, 5);

	/* secrets: never readable */
	secret_uri = g_strdup_printf("%s/Credentials/ClientSecret", uri);
	g_assert_cmpuint(get_status(fx->tree, "srvA", secret_uri), ==, 405);
	g_assert_cmpuint(get_status(fx->tree, NULL, secret_uri), ==, 405);
	{
		g_autofree gchar *s = g_strdup_printf("%s/Credentials/ServerSecret", uri);
		g_assert_cmpuint(get_status(fx->tree, "srvA", s), ==, 405);
	}
	/* a TNDS listing as a server has no secret values */
	{
		guint status = 0;
		g_autofree gchar *tnds_uri = g_strdup_printf("%s?list=TNDS", uri);
		g_autofree gchar *xml = get_string(fx->tree, "srvA", tnds_uri, &status);
		g_assert_cmpuint(status, ==, 200);
		g_assert_null(strstr(xml, "client-secret"));
		g_assert_null(strstr(xml, "server-secret"));
		g_assert_nonnull(strstr(xml, "dev-1"));
	}
	/* the record cannot be deleted or changed (other than Mode) by a server */
	{
		g_autofree gchar *dev_uri = g_strdup_printf("%s/DeviceID", uri);
		g_autoptr(GBytes) v = b("x");
		g_assert_cmpuint(gw_dm_tree_delete(fx->tree, "srvA", uri), ==, 405);
		g_assert_cmpuint(
		    gw_dm_tree_replace(fx->tree, "srvA", dev_uri, GW_DM_FORMAT_CHR, NULL, v),
		    ==,
		    405);
	}
}

/* GwMO-SECARIZE-001, GwMO-DI-001: a record is visible to the servers in its ServerIDs; with
 * none, to all (GwMO-PMoDe-003); naming only servers the gateway has no account for, to none of
 * the gateway's servers (seed 001: the device is those servers' until they bootstrap the
 * gateway) */
static void
test_acl_isolation(Fixture *fx, gconstpointer data)
{
	const gchar *only_a[] = {"srvA", NULL};
	const gchar *foreign[] = {"srvX", NULL};
	g_autofree gchar *uri_a = register_device(fx, "dev-a", 0, only_a, NULL);
	g_autofree gchar *uri_n = register_device(fx, "dev-n", 0, NULL, NULL);
	g_autofree gchar *uri_x = register_device(fx, "dev-x", 0, foreign, NULL);
	g_autofree gchar *id_a = g_strdup_printf("%s/DeviceID", uri_a);
	g_autofree gchar *id_n = g_strdup_printf("%s/DeviceID", uri_n);
	g_autofree gchar *id_x = g_strdup_printf("%s/DeviceID", uri_x);
	g_autofree gchar *mode_a = g_strdup_printf("%s/Mode", uri_a);
	g_autofree gchar *acl = NULL;
	g_autoptr(GBytes) one = b("1");
	g_autoptr(GError) error = NULL;

	acl = dup_acl(fx->tree, uri_a);
	g_assert_cmpstr(acl, ==, "Get=srvA&Replace=srvA");
	g_assert_cmpuint(get_status(fx->tree, "srvA", id_a), ==, 200);
	g_assert_cmpuint(get_status(fx->tree, "srvB", id_a), ==, 425);
	g_assert_cmpuint(get_status(fx->tree, "srvB", uri_a), ==, 425);
	g_assert_cmpuint(get_status(fx->tree, "srvA", id_n), ==, 200);
	g_assert_cmpuint(get_status(fx->tree, "srvB", id_n), ==, 200);
	/* ServerIDs the gateway does not serve: the record is theirs, not srvA's or srvB's */
	g_clear_pointer(&acl, g_free);
	acl = dup_acl(fx->tree, uri_x);
	g_assert_cmpstr(acl, ==, "Get=srvX&Replace=srvX");
	g_assert_cmpuint(get_status(fx->tree, "srvA", id_x), ==, 425);
	g_assert_cmpuint(get_status(fx->tree, "srvB", id_x), ==, 425);

	/* the matched server may change the Mode, the other may not */
	g_assert_cmpuint(
	    gw_dm_tree_replace(fx->tree, "srvB", mode_a, GW_DM_FORMAT_INT, NULL, one), ==, 425);
	g_assert_cmpuint(
	    gw_dm_tree_replace(fx->tree, "srvA", mode_a, GW_DM_FORMAT_INT, NULL, one), ==, 200);
	{
		GwInventoryDevice out = {0};
		g_assert_true(gw_inventory_get_device(fx->inv, "dev-a", &out));
		g_assert_cmpuint(out.mode, ==, 1);
		gw_inventory_device_clear(&out);
	}

	/* a new DMAcc for srvX: dev-x is now srvX's alone (recomputed on DMAcc changes) */
	g_assert_true(gw_dm_tree_set_leaf_string(
	    fx->tree, "./DMAcc/x/ServerID", GW_DM_FORMAT_CHR, "srvX", &error));
	g_assert_no_error(error);
	drain();
	g_assert_cmpuint(get_status(fx->tree, "srvX", id_x), ==, 200);
	g_assert_cmpuint(get_status(fx->tree, "srvB", id_x), ==, 425);
	/* and back: still srvX's, not the others' */
	g_assert_true(gw_dm_tree_remove(fx->tree, "./DMAcc/x", &error));
	g_assert_no_error(error);
	gw_inventory_sync_servers(fx->inv);
	g_assert_cmpuint(get_status(fx->tree, "srvB", id_x), ==, 425);
	g_assert_cmpuint(get_status(fx->tree, "srvA", id_x), ==, 425);
}

static void
assert_summary(Fixture *fx, const gchar *name, const gchar *expected)
{
	guint status = 0;
	g_autofree gchar *uri = g_strdup_printf(GW_GWMO_INVENTORY_SUMMARY "/%s", name);
	g_autofree gchar *value = get_string(fx->tree, "srvB", uri, &status);

	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(value, ==, expected);
}

/* GwMO-DI-002: Summary is computed on Get */
static void
test_summary(Fixture *fx, gconstpointer data)
{
	const gchar *only_a[] = {"srvA", NULL};
	g_autoptr(GError) error = NULL;
	guint64 generation;

	assert_summary(fx, "Total", "0");
	g_free(register_device(fx, "d1", GW_GWMO_MODE_TRANSPARENT, NULL, NULL));
	g_free(register_device(fx, "d2", GW_GWMO_MODE_PROXY, only_a, NULL));
	g_free(register_device(fx, "d3", GW_GWMO_MODE_ADAPTATION, NULL, NULL));
	g_free(register_device(fx, "d4", 0, NULL, NULL)); /* Config/Mode: Proxy */
	g_assert_true(gw_inventory_detach(fx->inv, "d2", &error));
	g_assert_no_error(error);

	assert_summary(fx, "Total", "4");
	assert_summary(fx, "Attached", "3");
	assert_summary(fx, "Detached", "1");
	assert_summary(fx, "Transparent", "1");
	assert_summary(fx, "Proxy", "2");
	assert_summary(fx, "Adaptation", "1");

	/* reading again changes nothing in the tree (the store would save otherwise) */
	generation = gw_dm_tree_get_generation(fx->tree);
	assert_summary(fx, "Total", "4");
	assert_summary(fx, "Attached", "3");
	{
		g_autoptr(GPtrArray) results = NULL;
		g_assert_cmpuint(
		    gw_dm_tree_get(
		        fx->tree, "srvA", GW_GWMO_INVENTORY "?list=StructData", &results),
		    ==,
		    200);
	}
	g_assert_cmpuint(gw_dm_tree_get_generation(fx->tree), ==, generation);

	/* a list query below the inventory computes it too */
	g_assert_true(gw_inventory_touch(fx->inv, "d2", &error));
	g_assert_no_error(error);
	{
		g_autoptr(GPtrArray) results = NULL;
		gboolean seen = FALSE;
		g_assert_cmpuint(
		    gw_dm_tree_get(
		        fx->tree, NULL, GW_GWMO_INVENTORY_SUMMARY "?list=StructData", &results),
		    ==,
		    200);
		for (guint i = 0; i < results->len; i++) {
			GwDmItem *item = g_ptr_array_index(results, i);
			if (g_strcmp0(item->uri, GW_GWMO_INVENTORY_SUMMARY "/Detached") == 0) {
				g_autofree gchar *v = gw_dm_item_dup_string(item);
				g_assert_cmpstr(v, ==, "0");
				seen = TRUE;
			}
		}
		g_assert_true(seen);
	}
	g_assert_true(gw_inventory_remove(fx->inv, "d1", &error));
	g_assert_no_error(error);
	assert_summary(fx, "Total", "3");
	assert_summary(fx, "Transparent", "0");
}

typedef struct {
	GMainLoop *loop;
	gboolean detached;
} LeaseWait;

static void
lease_detached_cb(GwInventory *inv, const gchar *uri, const gchar *id, LeaseWait *wait)
{
	wait->detached = TRUE;
	g_main_loop_quit(wait->loop);
}

static gboolean
lease_timeout_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

/* GwMO-DI-003: leases */
static void
test_leases(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *last_seen_uri = NULL;

	gw_config_set_string(fx->config, "inventory", "detach-after", "1");
	uri = register_device(fx, "lease-dev", 0, NULL, NULL);
	g_free(register_device(fx, "fresh-dev", 0, NULL, NULL));
	assert_events(fx,
	              "attached ./GwMO/Inventory/Devices/1 lease-dev new; "
	              "attached ./GwMO/Inventory/Devices/2 fresh-dev new");
	/* within the lease: nothing happens */
	g_assert_cmpuint(gw_inventory_check_leases(fx->inv), ==, 0);

	/* LastSeen set back (as after a restart from an old state) */
	last_seen_uri = g_strdup_printf("%s/LastSeen", uri);
	g_assert_true(gw_dm_tree_set_leaf_string(
	    fx->tree, last_seen_uri, GW_DM_FORMAT_DATE, "2020-01-01T00:00:00Z", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(gw_inventory_check_leases(fx->inv), ==, 1);
	assert_leaf(fx->tree, uri, "Status", "Detached");
	assert_events(fx, "detached ./GwMO/Inventory/Devices/1 lease-dev");
	g_assert_cmpuint(gw_inventory_check_leases(fx->inv), ==, 0);
	assert_events(fx, "");

	/* touch: Attached again */
	g_assert_true(gw_inventory_touch(fx->inv, "lease-dev", &error));
	g_assert_no_error(error);
	assert_leaf(fx->tree, uri, "Status", "Attached");
	assert_events(fx, "attached ./GwMO/Inventory/Devices/1 lease-dev old");
	/* touching an attached device is not an event */
	g_assert_true(gw_inventory_touch(fx->inv, "lease-dev", &error));
	assert_events(fx, "");
}

static void
put(GHashTable *table, const gchar *key, const gchar *value)
{
	g_hash_table_insert(table, (gpointer)key, (gpointer)value);
}

static void
count_changed(GwDmTree *tree, const gchar *uri, guint change, gpointer unused, gpointer user_data)
{
	g_ptr_array_add(user_data, g_strdup(uri));
}

/* GwMO-DI-003: a device's usual session reports what its record holds: only LastSeen is
 * written (the lease); a session that reports something else, or a Detached or unknown
 * device, is not touched (the caller registers it, gw_inventory_register) */
static void
test_touch_unchanged(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) devinfo = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) reported = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *uri = NULL;
	g_autofree gchar *last_seen_uri = NULL;
	g_autofree gchar *mod_uri = NULL;
	GwInventoryDevice info = {0};
	gulong id;

	put(devinfo, "Man", "Example");
	put(devinfo, "Mod", "M-1");
	info.device_id = (gchar *)"same-dev";
	info.address = (gchar *)"192.0.2.7";
	info.notify_addr = (gchar *)"udp://192.0.2.7:5000";
	info.devinfo = devinfo;
	uri = gw_inventory_register(fx->inv, &info, &error);
	g_assert_no_error(error);
	g_assert_nonnull(uri);
	assert_events(fx, "attached ./GwMO/Inventory/Devices/1 same-dev new");
	last_seen_uri = g_strdup_printf("%s/LastSeen", uri);
	mod_uri = g_strdup_printf("%s/DevInfo/Mod", uri);
	g_assert_true(gw_dm_tree_set_leaf_string(
	    fx->tree, last_seen_uri, GW_DM_FORMAT_DATE, "2020-01-01T00:00:00Z", &error));
	g_assert_no_error(error);
	id = g_signal_connect(fx->tree, "changed", G_CALLBACK(count_changed), changed);

	/* the same (a subset of the DevInfo leaves too): LastSeen alone changes */
	put(reported, "Mod", "M-1");
	g_assert_true(gw_inventory_touch_unchanged(
	    fx->inv, "same-dev", "192.0.2.7", "udp://192.0.2.7:5000", reported));
	g_assert_cmpuint(changed->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(changed, 0), ==, last_seen_uri);
	{
		g_autofree gchar *seen = leaf(fx->tree, uri, "LastSeen");
		g_assert_cmpstr(seen, !=, "2020-01-01T00:00:00Z");
	}
	/* nothing reported but the session itself */
	g_assert_true(gw_inventory_touch_unchanged(fx->inv, "same-dev", NULL, NULL, NULL));
	assert_events(fx, "");
	g_ptr_array_set_size(changed, 0);

	/* something else: FALSE, nothing written */
	put(reported, "Mod", "M-2");
	g_assert_false(gw_inventory_touch_unchanged(fx->inv, "same-dev", NULL, NULL, reported));
	put(reported, "Mod", "M-1");
	put(reported, "FwV", "2.0"); /* a leaf the record lacks */
	g_assert_false(gw_inventory_touch_unchanged(fx->inv, "same-dev", NULL, NULL, reported));
	g_hash_table_remove(reported, "FwV");
	g_assert_false(
	    gw_inventory_touch_unchanged(fx->inv, "same-dev", "192.0.2.8", NULL, reported));
	g_assert_false(gw_inventory_touch_unchanged(
	    fx->inv, "same-dev", NULL, "udp://192.0.2.7:5001", reported));
	g_assert_false(gw_inventory_touch_unchanged(fx->inv, "other-dev", NULL, NULL, NULL));
	g_assert_cmpuint(changed->len, ==, 0);
	assert_leaf(fx->tree, uri, "DevInfo/Mod", "M-1");

	/* Detached: not here (it comes back through a registration) */
	g_assert_true(gw_inventory_detach(fx->inv, "same-dev", &error));
	g_assert_no_error(error);
	assert_events(fx, "detached ./GwMO/Inventory/Devices/1 same-dev");
	g_ptr_array_set_size(changed, 0);
	g_assert_false(gw_inventory_touch_unchanged(fx->inv, "same-dev", NULL, NULL, reported));
	g_assert_cmpuint(changed->len, ==, 0);
	assert_leaf(fx->tree, uri, "Status", "Detached");
	assert_events(fx, "");
	g_signal_handler_disconnect(fx->tree, id);

	/* the contact alone: NotifyAddr and credentials */
	{
		GwInventoryDevice cred = {0};
		info.devinfo = NULL;
		info.auth_type = (gchar *)"DIGEST";
		info.client_name = (gchar *)"cn";
		info.client_secret = (gchar *)"cs";
		info.server_secret = (gchar *)"ss";
		g_free(gw_inventory_register(fx->inv, &info, &error));
		g_assert_no_error(error);
		g_assert_true(gw_inventory_get_contact(fx->inv, "same-dev", &cred));
		g_assert_cmpstr(cred.device_id, ==, "same-dev");
		g_assert_cmpstr(cred.auth_type, ==, "DIGEST");
		g_assert_cmpstr(cred.client_name, ==, "cn");
		g_assert_cmpstr(cred.client_secret, ==, "cs");
		g_assert_cmpstr(cred.server_secret, ==, "ss");
		g_assert_cmpstr(cred.notify_addr, ==, "udp://192.0.2.7:5000");
		g_assert_null(cred.address);
		g_assert_null(cred.devinfo);
		gw_inventory_device_clear(&cred);
		g_assert_false(gw_inventory_get_contact(fx->inv, "other-dev", &cred));
	}
}

/* GwMO-DI-003: the periodic check runs every lease-check-interval seconds */
static void
test_lease_timer(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwConfig) config = gw_config_new();
	g_autoptr(GwInventory) inv = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autofree gchar *uri = NULL;
	g_autofree gchar *status = NULL;
	LeaseWait wait = {loop, FALSE};
	GwInventoryDevice info = {.device_id = (gchar *)"timer-dev"};
	guint timeout_id;

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &gw_info, &error));
	g_assert_true(gw_gwmo_install_objects(tree, "gw-0001", GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);
	gw_config_set_string(config, "inventory", "detach-after", "1");
	gw_config_set_string(config, "inventory", "lease-check-interval", "1");
	inv = gw_inventory_new(tree, config);
	g_assert_true(gw_inventory_start(inv, &error));
	g_assert_no_error(error);
	g_signal_connect(inv, "device-detached", G_CALLBACK(lease_detached_cb), &wait);
	uri = gw_inventory_register(inv, &info, &error);
	g_assert_no_error(error);

	timeout_id = g_timeout_add_seconds(10, lease_timeout_cb, loop);
	g_main_loop_run(loop);
	g_assert_true(wait.detached);
	g_source_remove(timeout_id);
	status = leaf(tree, uri, "Status");
	g_assert_cmpstr(status, ==, "Detached");
}

/* GwMO-DI-005, GwMO-DCIS-003: ./GwMO/Config/Servers/<x> follows ./DMAcc/<x> */
static void
test_config_servers(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) no = b("false");
	g_autofree gchar *acl_a = dup_acl(fx->tree, GW_GWMO_CONFIG_SERVERS "/a");
	g_autofree gchar *acl_b = dup_acl(fx->tree, GW_GWMO_CONFIG_SERVERS "/b");
	guint status = 0;

	assert_leaf(fx->tree, GW_GWMO_CONFIG_SERVERS "/a", "ServerID", "srvA");
	assert_leaf(fx->tree, GW_GWMO_CONFIG_SERVERS "/a", "InventoryAlert", "true");
	assert_leaf(fx->tree, GW_GWMO_CONFIG_SERVERS "/a", "ImageStore", "true");
	assert_leaf(fx->tree, GW_GWMO_CONFIG_SERVERS "/b", "ServerID", "srvB");
	g_assert_cmpstr(acl_a, ==, "Get=srvA&Replace=srvA");
	g_assert_cmpstr(acl_b, ==, "Get=srvB&Replace=srvB");
	assert_node(
	    fx->tree, GW_GWMO_CONFIG_SERVERS "/a", "ServerID", GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET);
	assert_node(fx->tree,
	            GW_GWMO_CONFIG_SERVERS "/a",
	            "InventoryAlert",
	            GW_DM_FORMAT_BOOL,
	            GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE);
	assert_node(fx->tree,
	            GW_GWMO_CONFIG_SERVERS "/a",
	            "ImageStore",
	            GW_DM_FORMAT_BOOL,
	            GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE);

	/* each server sees and changes only its own entry */
	g_assert_cmpuint(
	    get_status(fx->tree, "srvA", GW_GWMO_CONFIG_SERVERS "/a/InventoryAlert"), ==, 200);
	g_assert_cmpuint(
	    get_status(fx->tree, "srvB", GW_GWMO_CONFIG_SERVERS "/a/InventoryAlert"), ==, 425);
	g_assert_cmpuint(get_status(fx->tree, "srvB", GW_GWMO_CONFIG_SERVERS "/a"), ==, 425);
	g_assert_cmpuint(gw_dm_tree_replace(fx->tree,
	                                    "srvB",
	                                    GW_GWMO_CONFIG_SERVERS "/a/InventoryAlert",
	                                    GW_DM_FORMAT_BOOL,
	                                    NULL,
	                                    no),
	                 ==,
	                 425);
	g_assert_cmpuint(gw_dm_tree_replace(fx->tree,
	                                    "srvA",
	                                    GW_GWMO_CONFIG_SERVERS "/a/ImageStore",
	                                    GW_DM_FORMAT_BOOL,
	                                    NULL,
	                                    no),
	                 ==,
	                 200);
	g_assert_cmpuint(
	    gw_dm_tree_replace(
	        fx->tree, "srvA", GW_GWMO_CONFIG_SERVERS "/a/ServerID", GW_DM_FORMAT_CHR, NULL, no),
	    ==,
	    405);

	/* a server's choice survives a resync */
	gw_inventory_sync_servers(fx->inv);
	assert_leaf(fx->tree, GW_GWMO_CONFIG_SERVERS "/a", "ImageStore", "false");

	/* a new account gets an entry; a removed one loses it */
	g_assert_true(gw_dm_tree_set_leaf_string(
	    fx->tree, "./DMAcc/c/ServerID", GW_DM_FORMAT_CHR, "srvC", &error));
	g_assert_no_error(error);
	drain();
	assert_leaf(fx->tree, GW_GWMO_CONFIG_SERVERS "/c", "ServerID", "srvC");
	g_assert_true(gw_dm_tree_remove(fx->tree, "./DMAcc/b", &error));
	g_assert_no_error(error);
	drain();
	g_assert_null(gw_dm_tree_lookup(fx->tree, GW_GWMO_CONFIG_SERVERS "/b"));
	g_assert_nonnull(gw_dm_tree_lookup(fx->tree, GW_GWMO_CONFIG_SERVERS "/a"));
	{
		g_autofree gchar *v = get_string(
		    fx->tree, "srvC", GW_GWMO_CONFIG_SERVERS "/c/InventoryAlert", &status);
		g_assert_cmpuint(status, ==, 200);
		g_assert_cmpstr(v, ==, "true");
	}
}

/* GwMO-DI-004, GwMO-DI-005: who is told about a device */
static void
test_alert_servers(Fixture *fx, gconstpointer data)
{
	const gchar *only_a[] = {"srvA", NULL};
	g_autofree gchar *uri_a = register_device(fx, "dev-a", 0, only_a, NULL);
	g_autofree gchar *uri_n = register_device(fx, "dev-n", 0, NULL, NULL);
	g_autoptr(GBytes) no = b("false");

	{
		g_auto(GStrv) servers = gw_inventory_alert_servers(fx->inv, uri_n);
		g_autofree gchar *joined = g_strjoinv(",", servers);
		g_assert_cmpstr(joined, ==, "srvA,srvB");
	}
	{
		/* srvB may not see dev-a */
		g_auto(GStrv) servers = gw_inventory_alert_servers(fx->inv, uri_a);
		g_autofree gchar *joined = g_strjoinv(",", servers);
		g_assert_cmpstr(joined, ==, "srvA");
	}
	/* srvB turns InventoryAlert off */
	g_assert_cmpuint(gw_dm_tree_replace(fx->tree,
	                                    "srvB",
	                                    GW_GWMO_CONFIG_SERVERS "/b/InventoryAlert",
	                                    GW_DM_FORMAT_BOOL,
	                                    NULL,
	                                    no),
	                 ==,
	                 200);
	{
		g_auto(GStrv) servers = gw_inventory_alert_servers(fx->inv, uri_n);
		g_autofree gchar *joined = g_strjoinv(",", servers);
		g_assert_cmpstr(joined, ==, "srvA");
	}
	{
		g_auto(GStrv) servers = gw_inventory_alert_servers(fx->inv, DEVICES "/99");
		g_assert_nonnull(servers);
		g_assert_cmpuint(g_strv_length(servers), ==, 0);
	}
}

/* GwMO-DI-004: the <GwMODevice> document of spec §2 */
static void
test_device_document(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *uri =
	    register_device(fx, "dev<&>\"1", GW_GWMO_MODE_ADAPTATION, NULL, "zigbee:00:11:22");
	g_autofree gchar *doc =
	    gw_inventory_device_document(fx->inv, uri, "https://gw.example:7443");

	g_assert_cmpstr(doc,
	                ==,
	                "<GwMODevice><GatewayID>gw-0001</GatewayID>"
	                "<GatewayAddress>https://gw.example:7443</GatewayAddress>"
	                "<DeviceID>dev&lt;&amp;&gt;&quot;1</DeviceID>"
	                "<DeviceAddress>zigbee:00:11:22</DeviceAddress>"
	                "<Mode>3</Mode><Protocol>Zigbee</Protocol><Status>Attached</Status>"
	                "<InventoryURI>./GwMO/Inventory/Devices/1</InventoryURI></GwMODevice>");
	g_assert_null(gw_inventory_device_document(fx->inv, DEVICES "/42", "x"));
}

/* GwMO-Group-001: groups through the API (D-Bus side) */
static void
test_groups_api(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri1 = register_device(fx, "dev-1", 0, NULL, NULL);
	g_autofree gchar *groups1 = g_strdup_printf("%s/Groups", uri1);
	g_autofree gchar *team = NULL;
	g_autofree gchar *odd = NULL;
	g_autofree gchar *acl = NULL;
	g_autofree gchar *found = NULL;
	guint n_group_events = 0;

	team = gw_groups_create(
	    gw_inventory_get_groups(fx->inv), "team-1", "the first team", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(team, ==, GROUPS "/team-1");
	assert_leaf(fx->tree, team, "GroupID", "team-1");
	assert_leaf(fx->tree, team, "Description", "the first team");
	assert_node(
	    fx->tree, team, "GroupID", GW_DM_FORMAT_CHR, GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE);
	assert_node(
	    fx->tree, team, "Members", GW_DM_FORMAT_NODE, GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD);
	acl = dup_acl(fx->tree, team);
	g_assert_cmpstr(acl, ==, "Get=*");
	g_assert_null(
	    gw_groups_create(gw_inventory_get_groups(fx->inv), "team-1", NULL, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	g_clear_error(&error);

	/* a GroupID that is no safe node name gets a number; a server owns this one */
	odd = gw_groups_create(
	    gw_inventory_get_groups(fx->inv), "Kitchen / lights", NULL, "srvA", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(odd, ==, GROUPS "/1");
	g_clear_pointer(&acl, g_free);
	acl = dup_acl(fx->tree, odd);
	g_assert_cmpstr(acl, ==, "Add=srvA&Delete=srvA&Get=srvA&Replace=srvA");
	g_assert_cmpuint(get_status(fx->tree, "srvB", odd), ==, 425);
	found = gw_groups_find(gw_inventory_get_groups(fx->inv), "Kitchen / lights");
	g_assert_cmpstr(found, ==, odd);
	{
		g_autoptr(GPtrArray) list = gw_groups_list(gw_inventory_get_groups(fx->inv));
		g_assert_cmpuint(list->len, ==, 2);
		g_assert_cmpstr(g_ptr_array_index(list, 0), ==, team);
		g_assert_cmpstr(g_ptr_array_index(list, 1), ==, odd);
	}

	/* members: a registered device and one that will register later */
	g_assert_true(
	    gw_groups_add_member(gw_inventory_get_groups(fx->inv), "team-1", "dev-1", &error));
	g_assert_true(
	    gw_groups_add_member(gw_inventory_get_groups(fx->inv), "team-1", "ghost", &error));
	g_assert_true(
	    gw_groups_add_member(gw_inventory_get_groups(fx->inv), "team-1", "dev-1", &error));
	g_assert_true(gw_groups_add_member(
	    gw_inventory_get_groups(fx->inv), "Kitchen / lights", "dev-1", &error));
	g_assert_no_error(error);
	{
		g_auto(GStrv) members =
		    gw_groups_members(gw_inventory_get_groups(fx->inv), "team-1");
		g_autofree gchar *joined = g_strjoinv(",", members);
		g_assert_cmpstr(joined, ==, "dev-1,ghost");
	}
	{
		g_autofree gchar *values = child_values(fx->tree, groups1);
		g_assert_cmpstr(values, ==, "team-1,Kitchen / lights");
	}
	g_assert_null(gw_inventory_find(fx->inv, "ghost"));
	{
		g_autofree gchar *ghost = register_device(fx, "ghost", 0, NULL, NULL);
		g_autofree gchar *ghost_groups = g_strdup_printf("%s/Groups", ghost);
		g_autofree gchar *values = child_values(fx->tree, ghost_groups);
		g_assert_cmpstr(values, ==, "team-1");
	}

	/* remove a member */
	g_assert_true(
	    gw_groups_remove_member(gw_inventory_get_groups(fx->inv), "team-1", "dev-1", &error));
	g_assert_no_error(error);
	{
		g_autofree gchar *values = child_values(fx->tree, groups1);
		g_assert_cmpstr(values, ==, "Kitchen / lights");
	}
	g_assert_false(
	    gw_groups_remove_member(gw_inventory_get_groups(fx->inv), "team-1", "dev-1", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* delete */
	for (guint i = 0; i < fx->events->len; i++) {
		if (g_str_has_prefix(g_ptr_array_index(fx->events, i), "group "))
			n_group_events++;
	}
	g_assert_cmpuint(n_group_events, >=, 5);
	g_assert_true(
	    gw_groups_delete(gw_inventory_get_groups(fx->inv), "Kitchen / lights", &error));
	g_assert_no_error(error);
	{
		g_autofree gchar *values = child_values(fx->tree, groups1);
		g_assert_cmpstr(values, ==, "");
	}
	g_assert_null(gw_groups_find(gw_inventory_get_groups(fx->inv), "Kitchen / lights"));
	g_assert_null(gw_groups_members(gw_inventory_get_groups(fx->inv), "Kitchen / lights"));
	g_assert_true(gw_groups_delete(gw_inventory_get_groups(fx->inv), "team-1", &error));
	g_assert_no_error(error);
	{
		g_autoptr(GPtrArray) list = gw_groups_list(gw_inventory_get_groups(fx->inv));
		g_assert_cmpuint(list->len, ==, 0);
	}
}

/* GwMO-Group-001, GwMO-SECARIZE-001: a DM Server manages groups with plain DM commands */
static void
test_groups_dm(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *uri = register_device(fx, "dev-1", 0, NULL, NULL);
	g_autofree gchar *rec_groups = g_strdup_printf("%s/Groups", uri);
	g_autoptr(GBytes) group_id = b("lights");
	g_autoptr(GBytes) member = b("dev-1");
	g_autoptr(GBytes) member2 = b("later-dev");
	g_autoptr(GBytes) renamed = b("lamps");
	g_autofree gchar *acl = NULL;
	g_autofree gchar *found = NULL;

	g_assert_cmpuint(
	    gw_dm_tree_add(fx->tree, "srvA", GROUPS "/g1", GW_DM_FORMAT_NODE, NULL, NULL), ==, 200);
	acl = dup_acl(fx->tree, GROUPS "/g1");
	g_assert_cmpstr(acl, ==, "Add=srvA&Delete=srvA&Get=srvA&Replace=srvA");
	g_assert_cmpuint(
	    gw_dm_tree_add(
	        fx->tree, "srvA", GROUPS "/g1/GroupID", GW_DM_FORMAT_CHR, "text/plain", group_id),
	    ==,
	    200);
	/* Members is made on the way */
	g_assert_cmpuint(
	    gw_dm_tree_add(
	        fx->tree, "srvA", GROUPS "/g1/Members/1", GW_DM_FORMAT_CHR, "text/plain", member),
	    ==,
	    200);
	assert_node(fx->tree,
	            GROUPS "/g1",
	            "GroupID",
	            GW_DM_FORMAT_CHR,
	            GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE);
	assert_node(fx->tree,
	            GROUPS "/g1",
	            "Members/1",
	            GW_DM_FORMAT_CHR,
	            GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_REPLACE |
	                GW_DM_ACCESS_DELETE);

	/* the group is known to the inventory */
	found = gw_groups_find(gw_inventory_get_groups(fx->inv), "lights");
	g_assert_cmpstr(found, ==, GROUPS "/g1");
	{
		g_autoptr(GPtrArray) list = gw_groups_list(gw_inventory_get_groups(fx->inv));
		g_assert_cmpuint(list->len, ==, 1);
		g_assert_cmpstr(g_ptr_array_index(list, 0), ==, GROUPS "/g1");
	}
	{
		g_auto(GStrv) members =
		    gw_groups_members(gw_inventory_get_groups(fx->inv), "lights");
		g_autofree gchar *joined = g_strjoinv(",", members);
		g_assert_cmpstr(joined, ==, "dev-1");
	}
	{
		g_autofree gchar *values = child_values(fx->tree, rec_groups);
		g_assert_cmpstr(values, ==, "lights");
	}

	/* the other server neither sees nor changes it */
	g_assert_cmpuint(get_status(fx->tree, "srvB", GROUPS "/g1"), ==, 425);
	g_assert_cmpuint(get_status(fx->tree, "srvB", GROUPS "/g1/GroupID"), ==, 425);
	g_assert_cmpuint(get_status(fx->tree, "srvA", GROUPS "/g1/GroupID"), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_add(
	        fx->tree, "srvB", GROUPS "/g1/Members/2", GW_DM_FORMAT_CHR, NULL, member2),
	    ==,
	    425);
	g_assert_cmpuint(gw_dm_tree_delete(fx->tree, "srvB", GROUPS "/g1"), ==, 425);
	/* srvB may make its own group */
	g_assert_cmpuint(
	    gw_dm_tree_add(fx->tree, "srvB", GROUPS "/mine", GW_DM_FORMAT_NODE, NULL, NULL),
	    ==,
	    200);
	g_assert_cmpuint(get_status(fx->tree, "srvA", GROUPS "/mine"), ==, 425);

	/* a member that registers later; renaming the group follows into the records */
	g_assert_cmpuint(
	    gw_dm_tree_add(
	        fx->tree, "srvA", GROUPS "/g1/Members/2", GW_DM_FORMAT_CHR, NULL, member2),
	    ==,
	    200);
	g_assert_cmpuint(
	    gw_dm_tree_replace(
	        fx->tree, "srvA", GROUPS "/g1/GroupID", GW_DM_FORMAT_CHR, NULL, renamed),
	    ==,
	    200);
	{
		g_autofree gchar *later = register_device(fx, "later-dev", 0, NULL, NULL);
		g_autofree gchar *later_groups = g_strdup_printf("%s/Groups", later);
		g_autofree gchar *values = child_values(fx->tree, later_groups);
		g_assert_cmpstr(values, ==, "lamps");
	}
	{
		g_autofree gchar *values = child_values(fx->tree, rec_groups);
		g_assert_cmpstr(values, ==, "lamps");
	}

	/* the server removes the member, then the group */
	g_assert_cmpuint(gw_dm_tree_delete(fx->tree, "srvA", GROUPS "/g1/Members/1"), ==, 200);
	{
		g_autofree gchar *values = child_values(fx->tree, rec_groups);
		g_assert_cmpstr(values, ==, "");
	}
	g_assert_cmpuint(gw_dm_tree_delete(fx->tree, "srvA", GROUPS "/g1"), ==, 200);
	g_assert_null(gw_groups_find(gw_inventory_get_groups(fx->inv), "lamps"));
	{
		g_autoptr(GPtrArray) list = gw_groups_list(gw_inventory_get_groups(fx->inv));
		g_assert_cmpuint(list->len, ==, 1); /* srvB's */
	}

	/* the API sees DM groups too */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *values = NULL;
		g_assert_true(gw_groups_add_member(
		    gw_inventory_get_groups(fx->inv), "mine", "dev-1", &error));
		g_assert_no_error(error);
		values = child_values(fx->tree, rec_groups);
		g_assert_cmpstr(values, ==, "mine");
	}
}

/* the inventory lives in the tree: a TNDS round trip (what the store does) keeps it */
static void
test_persistence(Fixture *fx, gconstpointer data)
{
	const gchar *only_a[] = {"srvA", NULL};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *xml = NULL;
	g_autoptr(GwDmTree) tree2 = NULL;
	g_autoptr(GwInventory) inv2 = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autofree gchar *uri4 = NULL;
	GwInventoryDevice info = {.device_id = (gchar *)"dev-1",
	                          .client_secret = (gchar *)"secret"};
	GwInventoryDevice out = {0};

	g_free(gw_inventory_register(fx->inv, &info, &error));
	g_assert_no_error(error);
	g_free(register_device(fx, "dev-2", GW_GWMO_MODE_TRANSPARENT, only_a, NULL));
	g_free(register_device(fx, "dev-3", 0, NULL, NULL));
	g_assert_true(gw_inventory_detach(fx->inv, "dev-2", &error));
	g_free(gw_groups_create(gw_inventory_get_groups(fx->inv), "grp", NULL, NULL, &error));
	g_assert_true(
	    gw_groups_add_member(gw_inventory_get_groups(fx->inv), "grp", "dev-1", &error));
	g_assert_true(gw_inventory_remove(fx->inv, "dev-3", &error));
	g_assert_no_error(error);

	xml = gw_tnds_export(fx->tree,
	                     ".",
	                     NULL,
	                     GW_TNDS_EXPORT_VALUES | GW_TNDS_EXPORT_SECRETS |
	                         GW_TNDS_EXPORT_DF_PROPERTIES,
	                     &error);
	g_assert_no_error(error);
	tree2 = gw_dm_tree_new();
	g_assert_true(gw_tnds_import(tree2, ".", xml, strlen(xml), GW_TNDS_IMPORT_REPLACE, &error));
	g_assert_no_error(error);
	g_assert_true(gw_dm_tree_install_standard_objects(tree2, &gw_info, &error));
	g_assert_true(gw_gwmo_install_objects(tree2, "gw-0001", GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);

	inv2 = gw_inventory_new(tree2, fx->config);
	g_assert_true(gw_inventory_start(inv2, &error));
	g_assert_no_error(error);
	list = gw_inventory_list(inv2);
	g_assert_cmpuint(list->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(list, 0), ==, DEVICES "/1");
	g_assert_cmpstr(g_ptr_array_index(list, 1), ==, DEVICES "/2");
	g_assert_true(gw_inventory_get_device(inv2, "dev-1", &out));
	g_assert_cmpstr(out.client_secret, ==, "secret");
	gw_inventory_device_clear(&out);
	g_assert_true(gw_inventory_get_device(inv2, "dev-2", &out));
	g_assert_cmpuint(out.mode, ==, GW_GWMO_MODE_TRANSPARENT);
	gw_inventory_device_clear(&out);
	{
		g_auto(GStrv) members = gw_groups_members(gw_inventory_get_groups(inv2), "grp");
		g_assert_cmpuint(g_strv_length(members), ==, 1);
	}
	/* the Summary and the ACLs came along */
	{
		guint status = 0;
		g_autofree gchar *v =
		    get_string(tree2, NULL, GW_GWMO_INVENTORY_SUMMARY "/Detached", &status);
		g_assert_cmpstr(v, ==, "1");
		g_assert_cmpuint(get_status(tree2, "srvB", DEVICES "/2/DeviceID"), ==, 425);
	}
	/* numbering continues after the highest record present */
	{
		GwInventoryDevice info4 = {.device_id = (gchar *)"dev-4"};
		uri4 = gw_inventory_register(inv2, &info4, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(uri4, ==, DEVICES "/3");
	}
}

/* an Atomic rollback restores the tree: the inventory follows it */
static void
test_rollback(Fixture *fx, gconstpointer data)
{
	g_autoptr(GwDmSnapshot) snapshot = NULL;
	g_autoptr(GBytes) member = b("dev-1");
	g_autofree gchar *uri = register_device(fx, "dev-1", 0, NULL, NULL);
	g_autofree gchar *rec_groups = g_strdup_printf("%s/Groups", uri);
	g_autofree gchar *later = NULL;

	snapshot = gw_dm_tree_snapshot(fx->tree);
	g_free(register_device(fx, "dev-2", 0, NULL, NULL));
	g_assert_cmpuint(
	    gw_dm_tree_add(
	        fx->tree, "srvA", GROUPS "/g1/Members/1", GW_DM_FORMAT_CHR, NULL, member),
	    ==,
	    200);
	{
		g_autofree gchar *values = child_values(fx->tree, rec_groups);
		g_assert_cmpstr(values, ==, "g1");
	}
	gw_dm_tree_rollback(fx->tree, snapshot);
	g_assert_null(gw_inventory_find(fx->inv, "dev-2"));
	g_assert_null(gw_groups_find(gw_inventory_get_groups(fx->inv), "g1"));
	{
		g_autofree gchar *values = child_values(fx->tree, rec_groups);
		g_assert_cmpstr(values, ==, "");
	}
	/* numbers are not reused within a run */
	later = register_device(fx, "dev-3", 0, NULL, NULL);
	g_assert_cmpstr(later, ==, DEVICES "/3");
}

/* GwMO-HLF-003, GwMO-DI-004 (issue 11 §5): a provisioned device (D-Bus AddDevice) is Detached
 * with no address and nothing announces it; the registration of its first session attaches it,
 * with its address, and "device-attached" comes then; provisioning it again is refused */
static void
test_provision(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *again = NULL;
	g_autofree gchar *attached = NULL;
	GwInventoryDevice info = {0};

	info.device_id = (gchar *)"prov-1";
	info.mode = GW_GWMO_MODE_PROXY;
	info.auth_type = (gchar *)"DIGEST";
	info.client_secret = (gchar *)"s";
	uri = gw_inventory_provision(fx->inv, &info, &error);
	g_assert_no_error(error);
	g_assert_nonnull(uri);
	assert_leaf(fx->tree, uri, "Status", "Detached");
	assert_leaf(fx->tree, uri, "Address", "");
	assert_summary(fx, "Attached", "0");
	assert_summary(fx, "Detached", "1");
	g_assert_cmpuint(fx->events->len, ==, 0);
	g_assert_null(gw_inventory_provision(fx->inv, &info, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	g_clear_error(&error);

	/* its first session: the southbound registers it with the address it came from */
	info.auth_type = NULL;
	info.client_secret = NULL;
	info.address = (gchar *)"192.0.2.7";
	again = gw_inventory_register(fx->inv, &info, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(again, ==, uri);
	assert_leaf(fx->tree, uri, "Status", "Attached");
	assert_leaf(fx->tree, uri, "Address", "192.0.2.7");
	assert_summary(fx, "Attached", "1");
	g_assert_cmpuint(fx->events->len, ==, 1);
	attached = g_strdup_printf("attached %s prov-1 old", uri);
	g_assert_cmpstr(g_ptr_array_index(fx->events, 0), ==, attached);
	/* the credentials it was provisioned with are kept */
	{
		GwInventoryDevice out = {0};
		g_assert_true(gw_inventory_get_device(fx->inv, "prov-1", &out));
		g_assert_cmpstr(out.client_secret, ==, "s");
		gw_inventory_device_clear(&out);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* as the plugin host will when an adapter plugin is loaded (GwMO-MOO-001) */
	gw_gwmo_adapter_register("Zigbee");

#define ADD(path, func) \
	g_test_add("/inventory/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("register", test_register);
	ADD("provision", test_provision);
	ADD("invalid", test_invalid);
	ADD("record-nodes", test_record_nodes);
	ADD("acl-isolation", test_acl_isolation);
	ADD("summary", test_summary);
	ADD("leases", test_leases);
	ADD("touch-unchanged", test_touch_unchanged);
	ADD("config-servers", test_config_servers);
	ADD("alert-servers", test_alert_servers);
	ADD("device-document", test_device_document);
	ADD("groups-api", test_groups_api);
	ADD("groups-dm", test_groups_dm);
	ADD("persistence", test_persistence);
	ADD("rollback", test_rollback);
#undef ADD
	g_test_add_func("/inventory/lease-timer", test_lease_timer);
	return g_test_run();
}
