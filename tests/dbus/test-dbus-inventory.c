/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The real gwmod on a private bus: the inventory's D-Bus face (Manager.AddDevice,
 * RemoveDevice, CreateGroup, the Device and Group objects below the ObjectManager) and the
 * gwmoctl commands on top of it.
 * Requirement labels: GwMO-DI-002 (inventory summary), GwMO-HLF-003 (the gateway keeps an
 * inventory of its End Devices), GwMO-MOO-001 (per-device operation mode), GwMO-Group-001
 * (device groups), GwMO-SECARIZE-001 (secrets are never readable).
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include "gw-test-daemon.h"

#define ERR	       "org.gwmo.Gateway1.Error."
#define GW_NAME	       "org.gwmo.Gateway1"
#define GW_PATH	       "/org/gwmo/Gateway1"
#define GW_DEVICE_IFACE "org.gwmo.Gateway1.Device"
#define GW_GROUP_IFACE "org.gwmo.Gateway1.Group"

/* ---- helpers ---- */

typedef struct {
	GwTestDaemon *d;
	GPtrArray *added;   /* object paths of InterfacesAdded */
	GPtrArray *removed; /* object paths of InterfacesRemoved */
	guint added_id;
	guint removed_id;
} Fixture;

static void
interfaces_signal_cb(GDBusConnection *connection,
		     const gchar *sender,
		     const gchar *path,
		     const gchar *iface,
		     const gchar *signal,
		     GVariant *parameters,
		     gpointer user_data)
{
	GPtrArray *paths = user_data;
	const gchar *object_path = NULL;

	g_variant_get_child(parameters, 0, "&o", &object_path);
	g_ptr_array_add(paths, g_strdup(object_path));
}

static Fixture *
fixture_new(void)
{
	Fixture *f = g_new0(Fixture, 1);

	f->d = gw_test_daemon_new();
	f->added = g_ptr_array_new_with_free_func(g_free);
	f->removed = g_ptr_array_new_with_free_func(g_free);
	f->added_id = g_dbus_connection_signal_subscribe(f->d->connection,
							 NULL,
							 "org.freedesktop.DBus.ObjectManager",
							 "InterfacesAdded",
							 GW_PATH,
							 NULL,
							 G_DBUS_SIGNAL_FLAGS_NONE,
							 interfaces_signal_cb,
							 f->added,
							 NULL);
	f->removed_id = g_dbus_connection_signal_subscribe(f->d->connection,
							   NULL,
							   "org.freedesktop.DBus.ObjectManager",
							   "InterfacesRemoved",
							   GW_PATH,
							   NULL,
							   G_DBUS_SIGNAL_FLAGS_NONE,
							   interfaces_signal_cb,
							   f->removed,
							   NULL);
	gw_test_daemon_start(f->d, NULL);
	return f;
}

static void
fixture_free(Fixture *f)
{
	g_dbus_connection_signal_unsubscribe(f->d->connection, f->added_id);
	g_dbus_connection_signal_unsubscribe(f->d->connection, f->removed_id);
	if (f->d->daemon != NULL)
		gw_test_daemon_stop(f->d);
	gw_test_daemon_free(f->d);
	g_ptr_array_unref(f->added);
	g_ptr_array_unref(f->removed);
	g_free(f);
}

static gboolean
timeout_cb(gpointer user_data)
{
	gboolean *timed_out = user_data;
	*timed_out = TRUE;
	return G_SOURCE_REMOVE;
}

/* iterates the main context until @path is in @paths (signals are dispatched there) */
static void
wait_for_path(GPtrArray *paths, const gchar *path)
{
	gboolean timed_out = FALSE;
	guint id = g_timeout_add_seconds(20, timeout_cb, &timed_out);

	while (!timed_out) {
		gboolean found = FALSE;
		for (guint i = 0; i < paths->len && !found; i++)
			found = g_strcmp0(g_ptr_array_index(paths, i), path) == 0;
		if (found)
			break;
		g_main_context_iteration(NULL, TRUE);
	}
	if (timed_out)
		g_printerr("no signal for %s\n", path);
	else
		g_source_remove(id);
	g_assert_false(timed_out);
}

static GVariant *
make_device(const gchar *device_id, guint mode)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(device_id));
	if (mode != 0)
		g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(mode));
	g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(device_id));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string("c-secret-123"));
	g_variant_builder_add(&b, "{sv}", "ServerSecret", g_variant_new_string("s-secret-456"));
	return g_variant_builder_end(&b);
}

static gchar *
add_device_dict(GwTestDaemon *d, GVariant *dict)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar *path = NULL;

	reply = gw_test_call(d, "AddDevice", g_variant_new("(@a{sv})", dict), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &path);
	return path;
}

static gchar *
add_device(GwTestDaemon *d, const gchar *device_id, guint mode)
{
	return add_device_dict(d, make_device(device_id, mode));
}

static gchar *
create_group(GwTestDaemon *d, const gchar *id, const gchar *description)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar *path = NULL;

	reply =
	    gw_test_call(d, "CreateGroup", g_variant_new("(ss)", id, description), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &path);
	return path;
}

static GVariant *
get_prop(GwTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariant *value = NULL;

	reply = g_dbus_connection_call_sync(d->connection,
					    GW_NAME,
					    path,
					    "org.freedesktop.DBus.Properties",
					    "Get",
					    g_variant_new("(ss)", iface, name),
					    G_VARIANT_TYPE("(v)"),
					    G_DBUS_CALL_FLAGS_NONE,
					    30000,
					    NULL,
					    &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &value);
	return value;
}

static gchar *
get_prop_string(GwTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr(GVariant) value = get_prop(d, path, iface, name);
	return g_variant_dup_string(value, NULL);
}

static guint
get_prop_uint(GwTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr(GVariant) value = get_prop(d, path, iface, name);
	return g_variant_get_uint32(value);
}

static gchar **
get_prop_strv(GwTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr(GVariant) value = get_prop(d, path, iface, name);
	return g_variant_dup_strv(value, NULL);
}

/* GetNode as text: strings raw, anything else printed */
static gchar *
get_node_text(GwTestDaemon *d, const gchar *uri, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	const gchar *format = NULL;
	const gchar *type = NULL;

	reply = gw_test_call(d, "GetNode", g_variant_new("(s)", uri), "(ssv)", error);
	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(&s&sv)", &format, &type, &value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return g_variant_dup_string(value, NULL);
	return g_variant_print(value, FALSE);
}

static gchar *
get_node(GwTestDaemon *d, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	gchar *text = get_node_text(d, uri, &error);
	g_assert_no_error(error);
	return text;
}

/* ./GwMO/Inventory/Devices/<x> of a Device object path */
static gchar *
record_uri(const gchar *path)
{
	g_assert_true(g_str_has_prefix(path, GW_PATH "/Devices/"));
	return g_strdup_printf("./GwMO/Inventory/Devices/%s", strrchr(path, '/') + 1);
}

static void
call_object(GwTestDaemon *d,
	    const gchar *path,
	    const gchar *iface,
	    const gchar *method,
	    GVariant *parameters,
	    const gchar *error_name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_sync(d->connection,
					    GW_NAME,
					    path,
					    iface,
					    method,
					    parameters,
					    NULL,
					    G_DBUS_CALL_FLAGS_NONE,
					    30000,
					    NULL,
					    &error);
	if (error_name == NULL) {
		g_assert_no_error(error);
	} else {
		g_autofree gchar *remote = NULL;
		g_assert_nonnull(error);
		remote = g_dbus_error_get_remote_error(error);
		g_assert_cmpstr(remote, ==, error_name);
	}
}

/* ---- tests ---- */

/* GwMO-HLF-003, GwMO-DI-002, GwMO-SECARIZE-001; a provisioned device is Detached, with no
 * Address, until its first authenticated session (issue 11 §5) */
static void
test_add_device(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	g_autofree gchar *path = add_device(d, "urn:dev:test-1", 2);
	g_autofree gchar *uri = record_uri(path);
	g_autofree gchar *id_uri = g_strdup_printf("%s/DeviceID", uri);
	g_autofree gchar *device_id = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *protocol = NULL;
	g_autofree gchar *prop_id = NULL;
	g_autofree gchar *total = NULL;
	g_autofree gchar *attached = NULL;
	g_autofree gchar *detached = NULL;
	g_autofree gchar *proxy = NULL;
	g_autofree gchar *address = NULL;
	g_autoptr(GVariant) trusted = NULL;
	g_autoptr(GHashTable) devices = NULL;

	wait_for_path(f->added, path);
	g_assert_cmpuint(get_prop_uint(d, path, GW_DEVICE_IFACE, "Mode"), ==, 2);
	status = get_prop_string(d, path, GW_DEVICE_IFACE, "Status");
	g_assert_cmpstr(status, ==, "Detached");
	address = get_prop_string(d, path, GW_DEVICE_IFACE, "Address");
	g_assert_cmpstr(address, ==, "");
	protocol = get_prop_string(d, path, GW_DEVICE_IFACE, "Protocol");
	g_assert_cmpstr(protocol, ==, "OMA-DM");
	{
		/* OMA DM devices are adapted by the built-in adapter */
		g_autofree gchar *adapter = get_prop_string(d, path, GW_DEVICE_IFACE, "Adapter");
		g_assert_cmpstr(adapter, ==, "omadm");
	}
	prop_id = get_prop_string(d, path, GW_DEVICE_IFACE, "DeviceID");
	g_assert_cmpstr(prop_id, ==, "urn:dev:test-1");
	trusted = get_prop(d, path, GW_DEVICE_IFACE, "Trusted");
	g_assert_true(g_variant_get_boolean(trusted));

	/* the record is in the tree */
	device_id = get_node(d, id_uri);
	g_assert_cmpstr(device_id, ==, "urn:dev:test-1");

	/* GwMO-SECARIZE-001: the credentials' secrets are never readable */
	for (guint i = 0; i < 2; i++) {
		const gchar *leaf[] = {"ClientSecret", "ServerSecret"};
		g_autofree gchar *secret_uri = g_strdup_printf("%s/Credentials/%s", uri, leaf[i]);
		gw_test_assert_dbus_error(d,
					  "GetNode",
					  g_variant_new("(s)", secret_uri),
					  ERR "NotAllowed");
	}
	{
		g_autofree gchar *auth_uri = g_strdup_printf("%s/Credentials/AuthType", uri);
		g_autofree gchar *auth = get_node(d, auth_uri);
		g_assert_cmpstr(auth, ==, "DIGEST");
	}

	/* GwMO-DI-002: the summary counts it */
	total = get_node(d, "./GwMO/Inventory/Summary/Total");
	attached = get_node(d, "./GwMO/Inventory/Summary/Attached");
	detached = get_node(d, "./GwMO/Inventory/Summary/Detached");
	proxy = get_node(d, "./GwMO/Inventory/Summary/Proxy");
	g_assert_cmpstr(total, ==, "1");
	g_assert_cmpstr(attached, ==, "0");
	g_assert_cmpstr(detached, ==, "1");
	g_assert_cmpstr(proxy, ==, "1");

	devices = gw_test_managed_objects(d, GW_DEVICE_IFACE);
	g_assert_cmpuint(g_hash_table_size(devices), ==, 1);
	g_assert_true(g_hash_table_contains(devices, path));
	fixture_free(f);
}

/* the default mode is ./GwMO/Config/Mode, the default AuthType DIGEST; a ServerSecret is
 * generated when absent */
static void
test_add_device_defaults(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	GVariantBuilder b;
	g_autofree gchar *path = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *auth_uri = NULL;
	g_autofree gchar *auth = NULL;
	g_autofree gchar *secret_uri = NULL;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("urn:dev:defaults"));
	path = add_device_dict(d, g_variant_builder_end(&b));
	uri = record_uri(path);
	g_assert_cmpuint(get_prop_uint(d, path, GW_DEVICE_IFACE, "Mode"), ==, 2);
	auth_uri = g_strdup_printf("%s/Credentials/AuthType", uri);
	auth = get_node(d, auth_uri);
	g_assert_cmpstr(auth, ==, "DIGEST");
	/* there is a ServerSecret, and it is not readable */
	secret_uri = g_strdup_printf("%s/Credentials/ServerSecret", uri);
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", secret_uri), ERR "NotAllowed");
	fixture_free(f);
}

static void
test_add_device_errors(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	g_autofree gchar *path = NULL;
	GVariantBuilder b;

	/* missing DeviceID */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(2));
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(a{sv})", &b),
				  ERR "InvalidArgs");
	/* empty DeviceID */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(""));
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(a{sv})", &b),
				  ERR "InvalidArgs");
	/* unknown key */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("urn:dev:e"));
	g_variant_builder_add(&b, "{sv}", "Colour", g_variant_new_string("red"));
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(a{sv})", &b),
				  ERR "InvalidArgs");
	/* wrong types */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("urn:dev:e"));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_string("2"));
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(a{sv})", &b),
				  ERR "InvalidArgs");
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_uint32(7));
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(a{sv})", &b),
				  ERR "InvalidArgs");
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("urn:dev:e"));
	g_variant_builder_add(&b, "{sv}", "Groups", g_variant_new_string("lights"));
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(a{sv})", &b),
				  ERR "InvalidArgs");
	/* bad Mode, bad AuthType */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("urn:dev:e"));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(7));
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(a{sv})", &b),
				  ERR "InvalidArgs");
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("urn:dev:e"));
	g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("ROT13"));
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(a{sv})", &b),
				  ERR "InvalidArgs");
	/* an unknown group */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("urn:dev:e"));
	g_variant_builder_add(
	    &b, "{sv}", "Groups", g_variant_new_strv((const gchar *[]){"nope", NULL}, -1));
	gw_test_assert_dbus_error(d, "AddDevice", g_variant_new("(a{sv})", &b), ERR "NotFound");
	/* nothing of the above left a record */
	{
		g_autofree gchar *total = get_node(d, "./GwMO/Inventory/Summary/Total");
		g_assert_cmpstr(total, ==, "0");
	}

	/* duplicate */
	path = add_device(d, "urn:dev:dup", 0);
	gw_test_assert_dbus_error(d,
				  "AddDevice",
				  g_variant_new("(@a{sv})", make_device("urn:dev:dup", 2)),
				  ERR "AlreadyExists");
	/* RemoveDevice and CreateGroup errors */
	gw_test_assert_dbus_error(d,
				  "RemoveDevice",
				  g_variant_new("(o)", GW_PATH "/Devices/999"),
				  ERR "NotFound");
	gw_test_assert_dbus_error(d,
				  "RemoveDevice",
				  g_variant_new("(o)", GW_PATH),
				  ERR "NotFound");
	gw_test_assert_dbus_error(d,
				  "CreateGroup",
				  g_variant_new("(ss)", "", "no name"),
				  ERR "InvalidArgs");
	g_assert_true(gw_test_daemon_is_running(d));
	fixture_free(f);
}

/* GwMO-MOO-001: the operation mode is per device */
static void
test_set_mode(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	g_autofree gchar *path = add_device(d, "urn:dev:mode", 2);
	g_autofree gchar *uri = record_uri(path);
	g_autofree gchar *mode_uri = g_strdup_printf("%s/Mode", uri);
	g_autofree gchar *mode = NULL;
	g_autofree gchar *mode3 = NULL;

	call_object(d, path, GW_DEVICE_IFACE, "SetMode", g_variant_new("(u)", 1), NULL);
	mode = get_node(d, mode_uri);
	g_assert_cmpstr(mode, ==, "1");
	g_assert_cmpuint(get_prop_uint(d, path, GW_DEVICE_IFACE, "Mode"), ==, 1);

	call_object(
	    d, path, GW_DEVICE_IFACE, "SetMode", g_variant_new("(u)", 7), ERR "InvalidArgs");
	call_object(
	    d, path, GW_DEVICE_IFACE, "SetMode", g_variant_new("(u)", 0), ERR "InvalidArgs");
	g_assert_cmpuint(get_prop_uint(d, path, GW_DEVICE_IFACE, "Mode"), ==, 1);

	/* a change of the tree (as a DM Server makes it) shows on the property too */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = gw_test_call(d,
							 "SetNode",
							 g_variant_new("(ssv)",
								       mode_uri,
								       "int",
								       g_variant_new_int64(2)),
							 "()",
							 &error);
		g_assert_no_error(error);
	}
	mode3 = get_node(d, mode_uri);
	g_assert_cmpstr(mode3, ==, "2");
	g_assert_cmpuint(get_prop_uint(d, path, GW_DEVICE_IFACE, "Mode"), ==, 2);
	/* no adapter runs an OMA DM device in Adaptation mode (GwMO-MOO-001) */
	call_object(
	    d, path, GW_DEVICE_IFACE, "SetMode", g_variant_new("(u)", 3), ERR "NotSupported");
	g_assert_cmpuint(get_prop_uint(d, path, GW_DEVICE_IFACE, "Mode"), ==, 2);
	fixture_free(f);
}

/* GwMO-Group-001 */
static void
test_groups(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	g_autofree gchar *dev1 = add_device(d, "urn:dev:lamp-1", 0);
	g_autofree gchar *group = create_group(d, "lights", "Hall lights");
	g_autofree gchar *dev2 = NULL;
	g_autofree gchar *group_id = NULL;
	g_autofree gchar *description = NULL;
	g_auto(GStrv) members = NULL;
	g_auto(GStrv) groups1 = NULL;
	g_auto(GStrv) groups2 = NULL;
	g_auto(GStrv) members_after = NULL;
	g_auto(GStrv) groups1_after = NULL;
	GVariantBuilder b;

	g_assert_true(g_str_has_prefix(group, GW_PATH "/Groups/"));
	wait_for_path(f->added, group);
	group_id = get_prop_string(d, group, GW_GROUP_IFACE, "GroupID");
	g_assert_cmpstr(group_id, ==, "lights");
	description = get_prop_string(d, group, GW_GROUP_IFACE, "Description");
	g_assert_cmpstr(description, ==, "Hall lights");
	gw_test_assert_dbus_error(d,
				  "CreateGroup",
				  g_variant_new("(ss)", "lights", "again"),
				  ERR "AlreadyExists");

	call_object(
	    d, group, GW_GROUP_IFACE, "AddMember", g_variant_new("(s)", "urn:dev:lamp-1"), NULL);
	call_object(d,
		    group,
		    GW_GROUP_IFACE,
		    "AddMember",
		    g_variant_new("(s)", "urn:dev:nobody"),
		    ERR "NotFound");

	/* AddDevice with Groups */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("urn:dev:lamp-2"));
	g_variant_builder_add(
	    &b, "{sv}", "Groups", g_variant_new_strv((const gchar *[]){"lights", NULL}, -1));
	dev2 = add_device_dict(d, g_variant_builder_end(&b));

	members = get_prop_strv(d, group, GW_GROUP_IFACE, "Members");
	g_assert_true(g_strv_contains((const gchar *const *)members, "urn:dev:lamp-1"));
	g_assert_true(g_strv_contains((const gchar *const *)members, "urn:dev:lamp-2"));
	groups1 = get_prop_strv(d, dev1, GW_DEVICE_IFACE, "Groups");
	g_assert_true(g_strv_contains((const gchar *const *)groups1, "lights"));
	groups2 = get_prop_strv(d, dev2, GW_DEVICE_IFACE, "Groups");
	g_assert_true(g_strv_contains((const gchar *const *)groups2, "lights"));

	call_object(
	    d, group, GW_GROUP_IFACE, "RemoveMember", g_variant_new("(s)", "urn:dev:lamp-1"), NULL);
	members_after = get_prop_strv(d, group, GW_GROUP_IFACE, "Members");
	g_assert_false(g_strv_contains((const gchar *const *)members_after, "urn:dev:lamp-1"));
	g_assert_true(g_strv_contains((const gchar *const *)members_after, "urn:dev:lamp-2"));
	groups1_after = get_prop_strv(d, dev1, GW_DEVICE_IFACE, "Groups");
	g_assert_false(g_strv_contains((const gchar *const *)groups1_after, "lights"));
	fixture_free(f);
}

static void
test_remove_device(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	g_autofree gchar *path = add_device(d, "urn:dev:gone", 0);
	g_autofree gchar *uri = record_uri(path);
	g_autoptr(GHashTable) devices = NULL;
	g_autofree gchar *total = NULL;

	call_object(d,
	            GW_PATH,
	            "org.gwmo.Gateway1.Manager",
	            "RemoveDevice",
	            g_variant_new("(o)", path),
	            NULL);
	wait_for_path(f->removed, path);
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", uri), ERR "NotFound");
	devices = gw_test_managed_objects(d, GW_DEVICE_IFACE);
	g_assert_cmpuint(g_hash_table_size(devices), ==, 0);
	total = get_node(d, "./GwMO/Inventory/Summary/Total");
	g_assert_cmpstr(total, ==, "0");
	gw_test_assert_dbus_error(d, "RemoveDevice", g_variant_new("(o)", path), ERR "NotFound");
	fixture_free(f);
}

/* ---- Device objects are served on demand (issue 16: no skeleton per device) ---- */

static void
properties_changed_cb(GDBusConnection *connection,
                      const gchar *sender,
                      const gchar *path,
                      const gchar *iface,
                      const gchar *signal,
                      GVariant *parameters,
                      gpointer user_data)
{
	g_ptr_array_add(user_data, g_variant_ref(parameters));
}

/* iterates the main context until @signals holds more than @n */
static void
wait_for_signals(GPtrArray *signals, guint n)
{
	gboolean timed_out = FALSE;
	guint id = g_timeout_add_seconds(20, timeout_cb, &timed_out);

	while (!timed_out && signals->len <= n)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(id);
	g_assert_false(timed_out);
}

/* the one property a PropertiesChanged of the Device interface names */
static GVariant *
only_change(GVariant *parameters, const gchar *name)
{
	const gchar *iface = NULL;
	g_autoptr(GVariant) changed = NULL;
	g_autofree const gchar **invalidated = NULL;

	g_variant_get(parameters, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
	g_assert_cmpstr(iface, ==, GW_DEVICE_IFACE);
	g_assert_cmpuint(g_variant_n_children(changed), ==, 1);
	g_assert_cmpuint(g_strv_length((gchar **)invalidated), ==, 0);
	return g_variant_lookup_value(changed, name, NULL);
}

static gchar *
introspect(GwTestDaemon *d, const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar *xml = NULL;

	reply = g_dbus_connection_call_sync(d->connection,
	                                    GW_NAME,
	                                    path,
	                                    "org.freedesktop.DBus.Introspectable",
	                                    "Introspect",
	                                    NULL,
	                                    G_VARIANT_TYPE("(s)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    30000,
	                                    NULL,
	                                    &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(s)", &xml);
	return xml;
}

/* what a client sees of a Device object is what it saw of a skeleton: introspection (the
 * object and its parent's children), Get/GetAll equal to GetManagedObjects, a
 * PropertiesChanged naming only what changed (none for a change to the same value), and a
 * clear error once the device is gone */
static void
test_on_demand_objects(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	g_autofree gchar *path = add_device(d, "urn:dev:on-demand", 2);
	g_autofree gchar *node = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *parent_xml = NULL;
	g_autoptr(GHashTable) devices = NULL;
	g_autoptr(GVariant) all = NULL;
	g_autoptr(GVariant) props = NULL;
	g_autoptr(GVariant) mode = NULL;
	g_autoptr(GVariant) groups = NULL;
	g_autoptr(GPtrArray) signals =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *group = NULL;
	GVariantIter iter;
	const gchar *name;
	GVariant *value;
	guint subscription;

	wait_for_path(f->added, path);
	xml = introspect(d, path);
	g_assert_nonnull(strstr(xml, "<interface name=\"" GW_DEVICE_IFACE "\">"));
	g_assert_nonnull(strstr(xml, "<method name=\"SetMode\">"));
	g_assert_nonnull(strstr(xml, "<property type=\"as\" name=\"Groups\" access=\"read\""));
	node = g_strdup_printf("<node name=\"%s\"/>", strrchr(path, '/') + 1);
	parent_xml = introspect(d, GW_PATH "/Devices");
	g_assert_nonnull(strstr(parent_xml, node));

	/* GetAll holds every property of the interface, as GetManagedObjects has them */
	{
		g_autoptr(GVariant) reply =
		    g_dbus_connection_call_sync(d->connection,
		                                GW_NAME,
		                                path,
		                                "org.freedesktop.DBus.Properties",
		                                "GetAll",
		                                g_variant_new("(s)", GW_DEVICE_IFACE),
		                                G_VARIANT_TYPE("(a{sv})"),
		                                G_DBUS_CALL_FLAGS_NONE,
		                                30000,
		                                NULL,
		                                &error);
		g_assert_no_error(error);
		all = g_variant_get_child_value(reply, 0);
	}
	g_assert_cmpuint(g_variant_n_children(all), ==, 9);
	devices = gw_test_managed_objects(d, GW_DEVICE_IFACE);
	props = g_variant_ref(g_hash_table_lookup(devices, path));
	g_assert_nonnull(props);
	g_assert_cmpuint(g_variant_n_children(props), ==, 9);
	g_variant_iter_init(&iter, all);
	while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
		g_autoptr(GVariant) owned = value;
		g_autoptr(GVariant) other = g_variant_lookup_value(props, name, NULL);
		g_assert_nonnull(other);
		g_assert_true(g_variant_equal(owned, other));
	}
	{
		g_autofree gchar *id = get_prop_string(d, path, GW_DEVICE_IFACE, "DeviceID");
		g_assert_cmpstr(id, ==, "urn:dev:on-demand");
	}

	subscription = g_dbus_connection_signal_subscribe(d->connection,
	                                                  NULL,
	                                                  "org.freedesktop.DBus.Properties",
	                                                  "PropertiesChanged",
	                                                  path,
	                                                  NULL,
	                                                  G_DBUS_SIGNAL_FLAGS_NONE,
	                                                  properties_changed_cb,
	                                                  signals,
	                                                  NULL);
	/* the same mode again changes nothing: the first signal is the second call's */
	call_object(d, path, GW_DEVICE_IFACE, "SetMode", g_variant_new("(u)", 2), NULL);
	call_object(d, path, GW_DEVICE_IFACE, "SetMode", g_variant_new("(u)", 1), NULL);
	wait_for_signals(signals, 0);
	mode = only_change(g_ptr_array_index(signals, 0), "Mode");
	g_assert_nonnull(mode);
	g_assert_cmpuint(g_variant_get_uint32(mode), ==, 1);

	/* a group membership shows as Groups alone */
	group = create_group(d, "od", "on demand");
	call_object(
	    d, group, GW_GROUP_IFACE, "AddMember", g_variant_new("(s)", "urn:dev:on-demand"), NULL);
	wait_for_signals(signals, 1);
	groups = only_change(g_ptr_array_index(signals, 1), "Groups");
	g_assert_nonnull(groups);
	g_assert_cmpuint(g_variant_n_children(groups), ==, 1);
	g_dbus_connection_signal_unsubscribe(d->connection, subscription);

	/* no object at a path that is no device, nor at a removed one */
	call_object(d,
	            GW_PATH "/Devices/nobody",
	            "org.freedesktop.DBus.Properties",
	            "GetAll",
	            g_variant_new("(s)", GW_DEVICE_IFACE),
	            "org.freedesktop.DBus.Error.UnknownMethod");
	call_object(d,
	            GW_PATH,
	            "org.gwmo.Gateway1.Manager",
	            "RemoveDevice",
	            g_variant_new("(o)", path),
	            NULL);
	wait_for_path(f->removed, path);
	call_object(d,
	            path,
	            GW_DEVICE_IFACE,
	            "SetMode",
	            g_variant_new("(u)", 1),
	            "org.freedesktop.DBus.Error.UnknownMethod");
	g_assert_true(gw_test_daemon_is_running(d));
	fixture_free(f);
}

static void
test_restart_exports_again(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	g_autofree gchar *dev = add_device(d, "urn:dev:persist", 1);
	g_autofree gchar *group = create_group(d, "sensors", "");
	g_autoptr(GHashTable) devices = NULL;
	g_autoptr(GHashTable) groups = NULL;
	g_autofree gchar *device_id = NULL;
	g_auto(GStrv) members = NULL;

	call_object(
	    d, group, GW_GROUP_IFACE, "AddMember", g_variant_new("(s)", "urn:dev:persist"), NULL);
	gw_test_daemon_stop(d);
	gw_test_daemon_start(d, NULL);

	devices = gw_test_managed_objects(d, GW_DEVICE_IFACE);
	groups = gw_test_managed_objects(d, GW_GROUP_IFACE);
	g_assert_true(g_hash_table_contains(devices, dev));
	g_assert_true(g_hash_table_contains(groups, group));
	device_id = get_prop_string(d, dev, GW_DEVICE_IFACE, "DeviceID");
	g_assert_cmpstr(device_id, ==, "urn:dev:persist");
	g_assert_cmpuint(get_prop_uint(d, dev, GW_DEVICE_IFACE, "Mode"), ==, 1);
	members = get_prop_strv(d, group, GW_GROUP_IFACE, "Members");
	g_assert_true(g_strv_contains((const gchar *const *)members, "urn:dev:persist"));
	fixture_free(f);
}

/* the reply to AddDevice means the record is on disk */
static void
test_kill_after_add(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	g_autofree gchar *dev = add_device(d, "urn:dev:durable", 0);
	g_autoptr(GHashTable) devices = NULL;
	g_autofree gchar *device_id = NULL;

	gw_test_daemon_kill(d);
	gw_test_daemon_start(d, NULL);
	devices = gw_test_managed_objects(d, GW_DEVICE_IFACE);
	g_assert_true(g_hash_table_contains(devices, dev));
	device_id = get_prop_string(d, dev, GW_DEVICE_IFACE, "DeviceID");
	g_assert_cmpstr(device_id, ==, "urn:dev:durable");
	fixture_free(f);
}

static JsonNode *
parse_json(const gchar *text)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	json_parser_load_from_data(parser, text, -1, &error);
	g_assert_no_error(error);
	return json_node_copy(json_parser_get_root(parser));
}

static void
test_gwmoctl(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	gint rc;

	/* device-add with everything */
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		rc = gw_test_run_gwmoctl(d, &out, &err, "group-add", "lights", "Hall lights", NULL);
		g_assert_cmpint(rc, ==, 0);
		g_assert_true(g_str_has_prefix(out, GW_PATH "/Groups/"));
	}
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		rc = gw_test_run_gwmoctl(d,
					 &out,
					 &err,
					 "device-add",
					 "urn:dev:ctl-1",
					 "--mode",
					 "1",
					 "--auth",
					 "HMAC",
					 "--client-name",
					 "ctl-1",
					 "--client-secret",
					 "sekrit",
					 "--notify-addr",
					 "udp://127.0.0.1:5000",
					 "--group",
					 "lights",
					 NULL);
		if (rc != 0)
			g_printerr("%s", err);
		g_assert_cmpint(rc, ==, 0);
		g_assert_true(g_str_has_prefix(out, GW_PATH "/Devices/"));
	}
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		g_autoptr(JsonNode) root = NULL;
		JsonObject *obj;
		rc = gw_test_run_gwmoctl(
		    d, &out, &err, "--json", "device-add", "urn:dev:ctl-2", NULL);
		g_assert_cmpint(rc, ==, 0);
		root = parse_json(out);
		obj = json_node_get_object(root);
		g_assert_cmpstr(
		    json_object_get_string_member(obj, "DeviceID"), ==, "urn:dev:ctl-2");
		g_assert_true(g_str_has_prefix(json_object_get_string_member(obj, "Path"),
					       GW_PATH "/Devices/"));
	}
	/* errors keep their exit codes */
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		rc = gw_test_run_gwmoctl(d, &out, &err, "device-add", "urn:dev:ctl-2", NULL);
		g_assert_cmpint(rc, ==, 1);
		g_assert_nonnull(strstr(err, "AlreadyExists"));
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		rc = gw_test_run_gwmoctl(
		    d, &out, &err, "device-add", "urn:dev:x", "--mode", "7", NULL);
		g_assert_cmpint(rc, ==, 1);
		g_assert_nonnull(strstr(err, "InvalidArgs"));
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		rc = gw_test_run_gwmoctl(d, &out, &err, "device-add", NULL);
		g_assert_cmpint(rc, ==, 2);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		rc = gw_test_run_gwmoctl(d, &out, &err, "device-add", "--help", NULL);
		g_assert_cmpint(rc, ==, 0);
		g_assert_nonnull(strstr(out, "--client-secret"));
	}

	/* devices: a table */
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		g_auto(GStrv) lines = NULL;
		rc = gw_test_run_gwmoctl(d, &out, &err, "devices", NULL);
		g_assert_cmpint(rc, ==, 0);
		lines = g_strsplit(out, "\n", -1);
		g_assert_true(g_str_has_prefix(lines[0], "DEVICEID"));
		g_assert_nonnull(strstr(lines[0], "LASTSEEN"));
		g_assert_true(g_str_has_prefix(lines[1], "urn:dev:ctl-1"));
		g_assert_nonnull(strstr(lines[1], "Transparent"));
		g_assert_nonnull(strstr(lines[1], "Detached")); /* provisioned, never connected */
		g_assert_nonnull(strstr(lines[1], "OMA-DM"));
		g_assert_true(g_str_has_prefix(lines[2], "urn:dev:ctl-2"));
		g_assert_nonnull(strstr(lines[2], "Proxy"));
	}
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		g_autoptr(JsonNode) root = NULL;
		JsonArray *array;
		JsonObject *first;
		rc = gw_test_run_gwmoctl(d, &out, &err, "devices", "--json", NULL);
		g_assert_cmpint(rc, ==, 0);
		root = parse_json(out);
		array = json_node_get_array(root);
		g_assert_cmpuint(json_array_get_length(array), ==, 2);
		first = json_array_get_object_element(array, 0);
		g_assert_cmpstr(
		    json_object_get_string_member(first, "DeviceID"), ==, "urn:dev:ctl-1");
		g_assert_cmpint(json_object_get_int_member(first, "Mode"), ==, 1);
		g_assert_cmpstr(json_object_get_string_member(first, "Status"), ==, "Detached");
	}

	/* device: properties and the record's nodes, secrets not readable */
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		rc = gw_test_run_gwmoctl(d, &out, &err, "device", "urn:dev:ctl-1", NULL);
		g_assert_cmpint(rc, ==, 0);
		g_assert_nonnull(strstr(out, "urn:dev:ctl-1"));
		g_assert_nonnull(strstr(out, "1 (Transparent)"));
		g_assert_nonnull(strstr(out, "DeviceID = urn:dev:ctl-1"));
		g_assert_nonnull(strstr(out, "NotifyAddr = udp://127.0.0.1:5000"));
		g_assert_nonnull(strstr(out, "Credentials/AuthType = HMAC"));
		g_assert_nonnull(strstr(out, "Credentials/ClientSecret = (not readable)"));
		g_assert_null(strstr(out, "sekrit"));
	}
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		g_autoptr(JsonNode) root = NULL;
		JsonObject *obj;
		JsonObject *nodes;
		rc = gw_test_run_gwmoctl(d, &out, &err, "--json", "device", "urn:dev:ctl-1", NULL);
		g_assert_cmpint(rc, ==, 0);
		root = parse_json(out);
		obj = json_node_get_object(root);
		g_assert_cmpstr(
		    json_object_get_string_member(obj, "DeviceID"), ==, "urn:dev:ctl-1");
		nodes = json_object_get_object_member(obj, "Nodes");
		g_assert_cmpstr(json_object_get_string_member(nodes, "Protocol"), ==, "OMA-DM");
		g_assert_true(json_object_has_member(nodes, "Credentials/ServerSecret"));
		g_assert_true(json_object_get_null_member(nodes, "Credentials/ServerSecret"));
		g_assert_null(strstr(out, "sekrit"));
	}
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		rc = gw_test_run_gwmoctl(d, &out, &err, "device", "urn:dev:nobody", NULL);
		g_assert_cmpint(rc, ==, 4);
	}

	/* groups and membership */
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		rc = gw_test_run_gwmoctl(
		    d, &out, &err, "group-member", "add", "lights", "urn:dev:ctl-2", NULL);
		g_assert_cmpint(rc, ==, 0);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		rc = gw_test_run_gwmoctl(
		    d, &out, &err, "group-member", "add", "nope", "urn:dev:ctl-2", NULL);
		g_assert_cmpint(rc, ==, 4);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		rc =
		    gw_test_run_gwmoctl(d, &out, &err, "group-member", "frob", "lights", "x", NULL);
		g_assert_cmpint(rc, ==, 2);
	}
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		g_auto(GStrv) lines = NULL;
		rc = gw_test_run_gwmoctl(d, &out, &err, "groups", NULL);
		g_assert_cmpint(rc, ==, 0);
		lines = g_strsplit(out, "\n", -1);
		g_assert_true(g_str_has_prefix(lines[0], "GROUPID"));
		g_assert_true(g_str_has_prefix(lines[1], "lights"));
		g_assert_nonnull(strstr(lines[1], "Hall lights"));
		g_assert_nonnull(strstr(lines[1], "urn:dev:ctl-1,urn:dev:ctl-2"));
	}
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		g_autoptr(JsonNode) root = NULL;
		JsonObject *group;
		JsonArray *members;
		rc = gw_test_run_gwmoctl(d, &out, &err, "groups", "--json", NULL);
		g_assert_cmpint(rc, ==, 0);
		root = parse_json(out);
		group = json_array_get_object_element(json_node_get_array(root), 0);
		g_assert_cmpstr(json_object_get_string_member(group, "GroupID"), ==, "lights");
		members = json_object_get_array_member(group, "Members");
		g_assert_cmpuint(json_array_get_length(members), ==, 2);
	}
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		rc = gw_test_run_gwmoctl(
		    d, &out, &err, "group-member", "remove", "lights", "urn:dev:ctl-1", NULL);
		g_assert_cmpint(rc, ==, 0);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		rc = gw_test_run_gwmoctl(d, &out, &err, "device-rm", "urn:dev:ctl-1", NULL);
		g_assert_cmpint(rc, ==, 0);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		rc = gw_test_run_gwmoctl(d, &out, &err, "devices", NULL);
		g_assert_cmpint(rc, ==, 0);
		g_assert_null(strstr(out, "urn:dev:ctl-1"));
		g_assert_nonnull(strstr(out, "urn:dev:ctl-2"));
	}
	fixture_free(f);
}

#define GW_SERVER_IFACE "org.gwmo.Gateway1.Server"

static gboolean
get_prop_bool(GwTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr(GVariant) value = get_prop(d, path, iface, name);
	return g_variant_get_boolean(value);
}

/* the DM Server accounts as D-Bus objects: they follow ./DMAcc and ./GwMO/Config/Servers and
 * tell how the last session went (GwMO-DI-005: InventoryAlert shown per server) */
static void
test_servers(void)
{
	Fixture *f = fixture_new();
	GwTestDaemon *d = f->d;
	const gchar *path = GW_PATH "/Servers/acc1";
	const gchar *tnds =
	    "<MgmtTree><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>acc1</NodeName><Path>./DMAcc</Path>"
	    " <Node><NodeName>ServerID</NodeName><Value>srv-a.example</Value></Node>"
	    " <Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	    "  <Node><NodeName>Addr</NodeName><Value>https://127.0.0.1:1/dm</Value></Node>"
	    "  <Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
	    " <Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
	    "  <Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
	    "  <Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "  <Node><NodeName>AAuthName</NodeName><Value>gw</Value></Node>"
	    "  <Node><NodeName>AAuthSecret</NodeName><Value>gw-secret</Value></Node></Node></Node>"
	    "</Node></MgmtTree>";
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *server_id = NULL;
	g_autofree gchar *address = NULL;
	g_autofree gchar *auth = NULL;
	g_autofree gchar *last = NULL;
	g_autofree gchar *result = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	gboolean alert = TRUE;

	reply = gw_test_call(d, "Bootstrap", g_variant_new("(sss)", tnds, ".", ""), "()", &error);
	g_assert_no_error(error);
	wait_for_path(f->added, path);
	server_id = get_prop_string(d, path, GW_SERVER_IFACE, "ServerID");
	address = get_prop_string(d, path, GW_SERVER_IFACE, "Address");
	auth = get_prop_string(d, path, GW_SERVER_IFACE, "AuthType");
	last = get_prop_string(d, path, GW_SERVER_IFACE, "LastSession");
	g_assert_cmpstr(server_id, ==, "srv-a.example");
	g_assert_cmpstr(address, ==, "https://127.0.0.1:1/dm");
	g_assert_cmpstr(auth, ==, "DIGEST");
	g_assert_cmpstr(last, ==, "");
	g_assert_true(get_prop_bool(d, path, GW_SERVER_IFACE, "InventoryAlert"));
	g_assert_true(get_prop_bool(d, path, GW_SERVER_IFACE, "ImageStore"));

	/* the Config MO entry made with the account drives InventoryAlert */
	g_clear_pointer(&reply, g_variant_unref);
	reply = gw_test_call(d,
			     "SetNode",
			     g_variant_new("(ssv)",
					   "./GwMO/Config/Servers/acc1/InventoryAlert",
					   "bool",
					   g_variant_new_boolean(FALSE)),
			     "()",
			     &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 100 && alert; i++) {
		alert = get_prop_bool(d, path, GW_SERVER_IFACE, "InventoryAlert");
		if (alert)
			g_usleep(20 * 1000);
	}
	g_assert_false(alert);

	/* a session that cannot reach the server fails with a GwMO error and is recorded */
	call_object(d, path, GW_SERVER_IFACE, "StartSession", NULL, ERR "Network");
	last = (g_free(last), get_prop_string(d, path, GW_SERVER_IFACE, "LastSession"));
	result = get_prop_string(d, path, GW_SERVER_IFACE, "LastSessionResult");
	g_assert_cmpuint(strlen(last), ==, strlen("2026-01-01T00:00:00Z"));
	g_assert_cmpstr(result, !=, "");
	g_assert_cmpstr(result, !=, "ok");

	g_assert_cmpint(gw_test_run_gwmoctl(d, &out, &err, "servers", NULL), ==, 0);
	g_assert_nonnull(strstr(out, "srv-a.example"));
	g_assert_nonnull(strstr(out, "https://127.0.0.1:1/dm"));

	/* accounts already in the state file are exported when gwmod starts */
	gw_test_daemon_stop(d);
	gw_test_daemon_start(d, NULL);
	{
		g_autoptr(GHashTable) servers = gw_test_managed_objects(d, GW_SERVER_IFACE);
		GVariant *props = g_hash_table_lookup(servers, path);
		const gchar *sid = NULL;
		g_autoptr(GVariant) inventory_alert = NULL;
		g_assert_nonnull(props);
		g_assert_true(g_variant_lookup(props, "ServerID", "&s", &sid));
		g_assert_cmpstr(sid, ==, "srv-a.example");
		inventory_alert = g_variant_lookup_value(props, "InventoryAlert", NULL);
		g_assert_nonnull(inventory_alert);
	}

	/* the account goes, its object goes */
	g_clear_pointer(&reply, g_variant_unref);
	reply = gw_test_call(d, "DeleteNode", g_variant_new("(s)", "./DMAcc/acc1"), "()", &error);
	g_assert_no_error(error);
	wait_for_path(f->removed, path);
	fixture_free(f);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dbus/inventory/add-device", test_add_device);
	g_test_add_func("/gw/dbus/inventory/add-device-defaults", test_add_device_defaults);
	g_test_add_func("/gw/dbus/inventory/add-device-errors", test_add_device_errors);
	g_test_add_func("/gw/dbus/inventory/set-mode", test_set_mode);
	g_test_add_func("/gw/dbus/inventory/groups", test_groups);
	g_test_add_func("/gw/dbus/inventory/remove-device", test_remove_device);
	g_test_add_func("/gw/dbus/inventory/on-demand-objects", test_on_demand_objects);
	g_test_add_func("/gw/dbus/inventory/restart-exports-again", test_restart_exports_again);
	g_test_add_func("/gw/dbus/inventory/kill-after-add", test_kill_after_add);
	g_test_add_func("/gw/dbus/inventory/gwmoctl", test_gwmoctl);
	g_test_add_func("/gw/dbus/servers", test_servers);
	return g_test_run();
}
