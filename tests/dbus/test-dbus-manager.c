/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The real gwmod on a private bus: org.gwmo.Gateway1.Manager methods, error names on bad
 * input, restart persistence, the factory bootstrap and gwmoctl.
 * Requirement labels: GwMO-ADM-001 (the gateway's tree is managed through this API too),
 * GwMO-SECARIZE-001 (secrets are never readable).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "gw-test-daemon.h"

#define ERR "org.gwmo.Gateway1.Error."

static GwTestDaemon *
start_daemon(const gchar *const *args)
{
	GwTestDaemon *d = gw_test_daemon_new();
	gw_test_daemon_start(d, args);
	return d;
}

static gchar *
get_string(GwTestDaemon *d, const gchar *uri, gchar **format_out)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	const gchar *format = NULL;
	const gchar *type = NULL;

	reply = gw_test_call(d, "GetNode", g_variant_new("(s)", uri), "(ssv)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(&s&sv)", &format, &type, &value);
	if (format_out != NULL)
		*format_out = g_strdup(format);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return g_variant_dup_string(value, NULL);
	return g_variant_print(value, FALSE);
}

static void
set_node(GwTestDaemon *d, const gchar *uri, const gchar *format, GVariant *value)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	reply = gw_test_call(d,
			     "SetNode",
			     g_variant_new("(ssv)", uri, format, value),
			     "()",
			     &error);
	g_assert_no_error(error);
}

static gchar **
list_children(GwTestDaemon *d, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar **children = NULL;
	reply = gw_test_call(d, "ListChildren", g_variant_new("(s)", uri), "(as)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(^as)", &children);
	return children;
}

static void
test_get_node(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	g_autofree gchar *devid = NULL;
	g_autofree gchar *format = NULL;
	g_autofree gchar *man = get_string(d, "./DevInfo/Man", NULL);
	g_autofree gchar *gwid = get_string(d, "./GwMO/Config/GwID", NULL);
	g_autofree gchar *mode = get_string(d, "./GwMO/Config/Mode", NULL);
	g_autofree gchar *maxdepth = get_string(d, "./DevDetail/URI/MaxDepth", NULL);

	devid = get_string(d, "./DevInfo/DevId", &format);
	g_assert_cmpstr(devid, ==, "GW-TEST-0001");
	g_assert_cmpstr(format, ==, "chr");
	g_assert_cmpstr(man, ==, "gwmo tests");
	g_assert_cmpstr(gwid, ==, "GW-TEST-0001");
	g_assert_cmpstr(mode, ==, "2");
	g_assert_cmpstr(maxdepth, ==, "16");
	/* an MO root carries its MO identifier as Type; interior nodes list their children */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_autoptr(GVariant) value = NULL;
		const gchar *fmt = NULL;
		const gchar *type = NULL;
		reply = gw_test_call(d, "GetNode", g_variant_new("(s)", "./GwMO/Config"), "(ssv)", &error);
		g_assert_no_error(error);
		g_variant_get(reply, "(&s&sv)", &fmt, &type, &value);
		g_assert_cmpstr(fmt, ==, "node");
		g_assert_cmpstr(type, ==, "urn:oma:mo:oma-gwmo-gwconfig:1.0");
		g_assert_true(g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY));
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

static void
test_list_children(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	g_auto(GStrv) root = list_children(d, ".");
	g_auto(GStrv) gwmo = list_children(d, "./GwMO");
	g_auto(GStrv) devinfo = list_children(d, "DevInfo");

	for (guint i = 0; i < 4; i++) {
		const gchar *want[] = {"DevInfo", "DevDetail", "DMAcc", "GwMO"};
		g_assert_true(g_strv_contains((const gchar *const *)root, want[i]));
	}
	for (guint i = 0; i < 5; i++) {
		const gchar *want[] = {"Config", "Inventory", "Fanout", "Images", "EDTrigger"};
		g_assert_true(g_strv_contains((const gchar *const *)gwmo, want[i]));
	}
	for (guint i = 0; i < 5; i++) {
		const gchar *want[] = {"DevId", "Man", "Mod", "DmV", "Lang"};
		g_assert_true(g_strv_contains((const gchar *const *)devinfo, want[i]));
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

static void
test_set_node(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	g_autofree gchar *v1 = NULL;
	g_autofree gchar *v2 = NULL;
	g_autofree gchar *v3 = NULL;
	g_autofree gchar *v4 = NULL;
	g_autofree gchar *fmt = NULL;
	g_auto(GStrv) children = NULL;
	const guint8 bin[] = {0x00, 0xff, 0x10};

	set_node(d, "./GwMO/Config/Ext/Vendor", "node", g_variant_new_string(""));
	set_node(d, "./GwMO/Config/Ext/Vendor/Name", "chr", g_variant_new_string("Äcme"));
	set_node(d, "./GwMO/Config/Ext/Vendor/Count", "int", g_variant_new_int32(-7));
	set_node(d, "./GwMO/Config/Ext/Vendor/On", "bool", g_variant_new_boolean(TRUE));
	set_node(d,
		 "./GwMO/Config/Ext/Vendor/Blob",
		 "bin",
		 g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bin, sizeof(bin), 1));
	v1 = get_string(d, "./GwMO/Config/Ext/Vendor/Name", &fmt);
	g_assert_cmpstr(v1, ==, "Äcme");
	g_assert_cmpstr(fmt, ==, "chr");
	v2 = get_string(d, "./GwMO/Config/Ext/Vendor/Count", NULL);
	g_assert_cmpstr(v2, ==, "-7");
	v3 = get_string(d, "./GwMO/Config/Ext/Vendor/On", NULL);
	g_assert_cmpstr(v3, ==, "true");
	v4 = get_string(d, "./GwMO/Config/Ext/Vendor/Blob", NULL);
	g_assert_cmpstr(v4, ==, "[0x00, 0xff, 0x10]");

	/* replace, and the default mode property follows the tree (GwMO-MOO-001: the operation
	 * mode the gateway uses for new devices is chosen through ./GwMO/Config/Mode) */
	set_node(d, "./GwMO/Config/Ext/Vendor/Name", "chr", g_variant_new_string("Acme 2"));
	g_free(v1);
	v1 = get_string(d, "./GwMO/Config/Ext/Vendor/Name", NULL);
	g_assert_cmpstr(v1, ==, "Acme 2");
	set_node(d, "./GwMO/Config/Mode", "int", g_variant_new_uint32(1));
	g_free(v2);
	v2 = get_string(d, "./GwMO/Config/Mode", NULL);
	g_assert_cmpstr(v2, ==, "1");

	children = list_children(d, "./GwMO/Config/Ext/Vendor");
	g_assert_cmpuint(g_strv_length(children), ==, 4);
	g_assert_cmpstr(children[0], ==, "Name");

	/* delete */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = gw_test_call(d,
							 "DeleteNode",
							 g_variant_new("(s)", "./GwMO/Config/Ext/Vendor"),
							 "()",
							 &error);
		g_assert_no_error(error);
	}
	gw_test_assert_dbus_error(d,
				  "GetNode",
				  g_variant_new("(s)", "./GwMO/Config/Ext/Vendor/Name"),
				  ERR "NotFound");
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

static void
test_errors(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	g_autofree gchar *long_uri = NULL;
	g_autoptr(GString) deep = g_string_new(".");
	g_autofree gchar *devid = NULL;

	/* malformed URIs */
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", "./DevInfo//DevId"), ERR "InvalidUri");
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", "./DevInfo/../DevInfo"), ERR "InvalidUri");
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", "./DevInfo/"), ERR "InvalidUri");
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", ""), ERR "InvalidUri");
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", "./DevInfo?list=Struct"), ERR "InvalidUri");
	long_uri = g_strnfill(2000, 'a');
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", long_uri), ERR "InvalidUri");
	for (guint i = 0; i < 20; i++)
		g_string_append(deep, "/x");
	gw_test_assert_dbus_error(d,
				  "SetNode",
				  g_variant_new("(ssv)", deep->str, "chr", g_variant_new_string("v")),
				  ERR "InvalidUri");
	/* unknown nodes */
	gw_test_assert_dbus_error(d, "GetNode", g_variant_new("(s)", "./Nope"), ERR "NotFound");
	gw_test_assert_dbus_error(d, "ListChildren", g_variant_new("(s)", "./Nope"), ERR "NotFound");
	gw_test_assert_dbus_error(d, "DeleteNode", g_variant_new("(s)", "./Nope"), ERR "NotFound");
	gw_test_assert_dbus_error(d, "ExportTree", g_variant_new("(s)", "./Nope"), ERR "NotFound");
	/* wrong variant types and formats */
	gw_test_assert_dbus_error(d,
				  "SetNode",
				  g_variant_new("(ssv)", "./GwMO/Config/Ext/X", "chr", g_variant_new_int32(1)),
				  ERR "InvalidArgs");
	gw_test_assert_dbus_error(d,
				  "SetNode",
				  g_variant_new("(ssv)", "./GwMO/Config/Ext/X", "int", g_variant_new_string("1")),
				  ERR "InvalidArgs");
	gw_test_assert_dbus_error(d,
				  "SetNode",
				  g_variant_new("(ssv)", "./GwMO/Config/Ext/X", "bogus", g_variant_new_string("1")),
				  ERR "InvalidArgs");
	gw_test_assert_dbus_error(d,
				  "SetNode",
				  g_variant_new("(ssv)", "./GwMO/Config/Ext/Ctl", "chr", g_variant_new_string("a\001b")),
				  ERR "NotSupported");
	/* access types: DevInfo is Get only, the standard MOs are permanent */
	gw_test_assert_dbus_error(d,
				  "SetNode",
				  g_variant_new("(ssv)", "./DevInfo/DevId", "chr", g_variant_new_string("evil")),
				  ERR "NotAllowed");
	gw_test_assert_dbus_error(d, "DeleteNode", g_variant_new("(s)", "./DevInfo"), ERR "NotAllowed");
	gw_test_assert_dbus_error(d, "ListChildren", g_variant_new("(s)", "./DevInfo/DevId"), ERR "InvalidArgs");
	/* a wrong signature is refused by GDBus itself */
	gw_test_assert_dbus_error(d,
				  "GetNode",
				  g_variant_new("(i)", 3),
				  "org.freedesktop.DBus.Error.InvalidArgs");
	/* malformed bootstrap: refused, nothing changed */
	gw_test_assert_dbus_error(d,
				  "Bootstrap",
				  g_variant_new("(sss)", "<MgmtTree><Node><NodeName>x", ".", ""),
				  ERR "Protocol");
	gw_test_assert_dbus_error(d,
				  "Bootstrap",
				  g_variant_new("(sss)", "<MgmtTree/>", ".", "sideways"),
				  ERR "InvalidArgs");

	/* after all that the daemon still answers and nothing was lost */
	g_assert_true(gw_test_daemon_is_running(d));
	devid = get_string(d, "./DevInfo/DevId", NULL);
	g_assert_cmpstr(devid, ==, "GW-TEST-0001");
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

static gchar *
export_tree(GwTestDaemon *d, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar *xml = NULL;
	reply = gw_test_call(d, "ExportTree", g_variant_new("(s)", uri), "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(s)", &xml);
	return xml;
}

static void
test_bootstrap_and_export(void)
{
	g_autofree gchar *file = g_build_filename(g_getenv("GWMO_TEST_DATA"),
						  "dbus",
						  "bootstrap-dmacc.xml",
						  NULL);
	const gchar *args[] = {"--bootstrap", file, NULL};
	GwTestDaemon *d = start_daemon(args);
	g_autofree gchar *sid = get_string(d, "./DMAcc/srv1/ServerID", NULL);
	g_autofree gchar *addr = get_string(d, "./DMAcc/srv1/AppAddr/1/Addr", NULL);
	g_autofree gchar *xml = export_tree(d, "./DMAcc");
	g_autofree gchar *all = export_tree(d, ".");

	g_assert_cmpstr(sid, ==, "srv1.example");
	g_assert_cmpstr(addr, ==, "https://127.0.0.1:7443/dm");
	/* TNDS export carries the values and the ACL, never the secrets (GwMO-SECARIZE-001) */
	g_assert_nonnull(strstr(xml, "syncml:dmddf1.2"));
	g_assert_nonnull(strstr(xml, "srv1.example"));
	g_assert_nonnull(strstr(xml, "gateway-1"));
	g_assert_null(strstr(xml, "s3cret"));
	g_assert_null(strstr(all, "s3cret"));
	g_assert_nonnull(strstr(all, "GW-TEST-0001"));
	gw_test_assert_dbus_error(d,
				  "GetNode",
				  g_variant_new("(s)", "./DMAcc/srv1/AppAuth/1/AAuthSecret"),
				  ERR "NotAllowed");

	/* bootstrap over D-Bus: a second server, then a refused repeat without "replace" */
	{
		g_autofree gchar *data = NULL;
		g_autofree gchar *second = NULL;
		g_auto(GStrv) parts = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_autofree gchar *sid2 = NULL;
		g_assert_true(g_file_get_contents(file, &data, NULL, NULL));
		parts = g_strsplit(data, "srv1", -1);
		second = g_strjoinv("srv2", parts);
		reply = gw_test_call(d, "Bootstrap", g_variant_new("(sss)", second, ".", ""), "()", &error);
		g_assert_no_error(error);
		sid2 = get_string(d, "./DMAcc/srv2/ServerID", NULL);
		g_assert_cmpstr(sid2, ==, "srv2.example");
		gw_test_assert_dbus_error(d,
					  "Bootstrap",
					  g_variant_new("(sss)", second, ".", ""),
					  ERR "AlreadyExists");
	}

	/* survives a restart; the secret is still there (the state file keeps it), only not
	 * readable: checked through the file itself */
	gw_test_daemon_stop(d);
	{
		g_autofree gchar *state = g_build_filename(d->state_dir, "tree.state", NULL);
		g_autofree gchar *content = NULL;
		gsize len = 0;
		gboolean found = FALSE;
		GStatBuf st;
		g_assert_true(g_file_get_contents(state, &content, &len, NULL));
		/* the state body is binary: no strstr() */
		for (gsize i = 0; !found && i + 13 <= len; i++)
			found = memcmp(content + i, "s3cret-server", 13) == 0;
		g_assert_true(found);
		g_assert_cmpint(g_stat(state, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	}
	gw_test_daemon_start(d, NULL);
	g_free(sid);
	sid = get_string(d, "./DMAcc/srv2/ServerID", NULL);
	g_assert_cmpstr(sid, ==, "srv2.example");
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

static void
test_restart_keeps_changes(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	g_autofree gchar *v = NULL;
	set_node(d, "./GwMO/Config/Ext/Keep", "chr", g_variant_new_string("kept"));
	set_node(d, "./GwMO/Config/Mode", "int", g_variant_new_int64(3));
	gw_test_daemon_stop(d);
	gw_test_daemon_start(d, NULL);
	v = get_string(d, "./GwMO/Config/Ext/Keep", NULL);
	g_assert_cmpstr(v, ==, "kept");
	g_free(v);
	v = get_string(d, "./GwMO/Config/Mode", NULL);
	g_assert_cmpstr(v, ==, "3");
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* systemctl reload sends SIGHUP: gwmod re-reads its configuration and keeps running */
static void
test_sighup_reloads(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	g_autofree gchar *log = NULL;
	g_autofree gchar *devid = NULL;

	g_subprocess_send_signal(d->daemon, SIGHUP);
	for (guint i = 0; i < 100; i++) {
		g_free(log);
		log = gw_test_daemon_read_log(d);
		if (strstr(log, "reloaded") != NULL)
			break;
		g_usleep(50 * 1000);
	}
	g_assert_nonnull(strstr(log, "reloaded"));
	g_assert_true(gw_test_daemon_is_running(d));
	devid = get_string(d, "./DevInfo/DevId", NULL);
	g_assert_cmpstr(devid, ==, "GW-TEST-0001");
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

static void
test_corrupt_state_kept_aside(void)
{
	GwTestDaemon *d = gw_test_daemon_new();
	g_autofree gchar *state = g_build_filename(d->state_dir, "tree.state", NULL);
	g_autofree gchar *log = NULL;
	g_autofree gchar *devid = NULL;
	g_autoptr(GDir) dir = NULL;
	const gchar *name;
	gboolean found = FALSE;

	g_assert_cmpint(g_mkdir_with_parents(d->state_dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(state, "GWMO-STATE 1 length=99 sha256=00\n<Mgmt", -1, NULL));
	gw_test_daemon_start(d, NULL);
	devid = get_string(d, "./DevInfo/DevId", NULL);
	g_assert_cmpstr(devid, ==, "GW-TEST-0001");
	dir = g_dir_open(d->state_dir, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, "tree.state.corrupt-")) {
			g_autofree gchar *path = g_build_filename(d->state_dir, name, NULL);
			g_autofree gchar *kept = NULL;
			g_assert_true(g_file_get_contents(path, &kept, NULL, NULL));
			g_assert_cmpstr(kept, ==, "GWMO-STATE 1 length=99 sha256=00\n<Mgmt");
			found = TRUE;
		}
	}
	g_assert_true(found);
	log = gw_test_daemon_read_log(d);
	g_assert_nonnull(strstr(log, "corrupt"));
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

static void
test_gwmoctl(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	g_autofree gchar *file = g_build_filename(g_getenv("GWMO_TEST_DATA"),
						  "dbus",
						  "bootstrap-dmacc.xml",
						  NULL);
	gchar *out = NULL;
	gchar *err = NULL;
	gint rc;

	rc = gw_test_run_gwmoctl(d, &out, &err, "get", "./DevInfo/DevId", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpstr(out, ==, "GW-TEST-0001\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(d, &out, &err, "--json", "get", "./DevInfo/DevId", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(out, "\"value\" : \"GW-TEST-0001\""));
	g_assert_nonnull(strstr(out, "\"format\" : \"chr\""));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(d, &out, &err, "set", "./GwMO/Config/Ext/N", "42", "--format", "int", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = gw_test_run_gwmoctl(d, &out, &err, "get", "./GwMO/Config/Ext/N", "--json", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(out, "\"value\" : 42"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(d, &out, &err, "ls", "./GwMO", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(out, "Inventory\n"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(d, &out, &err, "bootstrap", file, NULL);
	g_assert_cmpint(rc, ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(d, &out, &err, "tree", "./DMAcc", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(out, "ServerID = srv1.example"));
	g_assert_null(strstr(out, "s3cret"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(d, &out, &err, "tree", "--tnds", "./DevInfo", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(out, "<MgmtTree"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(d, &out, &err, "status", "--json", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(out, "\"GwID\" : \"GW-TEST-0001\""));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* errors: not found → 4, bad URI → 1 with the error name, usage → 2, help → 0 */
	rc = gw_test_run_gwmoctl(d, &out, &err, "get", "./Nope", NULL);
	g_assert_cmpint(rc, ==, 4);
	g_assert_nonnull(strstr(err, "org.gwmo.Gateway1.Error.NotFound"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = gw_test_run_gwmoctl(d, &out, &err, "get", "./A//B", NULL);
	g_assert_cmpint(rc, ==, 1);
	g_assert_nonnull(strstr(err, "InvalidUri"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = gw_test_run_gwmoctl(d, &out, &err, "get", NULL);
	g_assert_cmpint(rc, ==, 2);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = gw_test_run_gwmoctl(d, &out, &err, "frobnicate", NULL);
	g_assert_cmpint(rc, ==, 2);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = gw_test_run_gwmoctl(d, &out, &err, "set", "--help", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(out, "--format"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = gw_test_run_gwmoctl(d, &out, &err, "set", "./GwMO/Config/Ext/B", "maybe", "-f", "bool", NULL);
	g_assert_cmpint(rc, ==, 2);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* daemon gone → 3 */
	gw_test_daemon_stop(d);
	rc = gw_test_run_gwmoctl(d, &out, &err, "get", "./DevInfo/DevId", NULL);
	g_assert_cmpint(rc, ==, 3);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	gw_test_daemon_free(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dbus/get-node", test_get_node);
	g_test_add_func("/gw/dbus/list-children", test_list_children);
	g_test_add_func("/gw/dbus/set-node", test_set_node);
	g_test_add_func("/gw/dbus/errors", test_errors);
	g_test_add_func("/gw/dbus/bootstrap-and-export", test_bootstrap_and_export);
	g_test_add_func("/gw/dbus/restart-keeps-changes", test_restart_keeps_changes);
	g_test_add_func("/gw/dbus/corrupt-state-kept-aside", test_corrupt_state_kept_aside);
	g_test_add_func("/gw/dbus/sighup-reloads", test_sighup_reloads);
	g_test_add_func("/gw/dbus/gwmoctl", test_gwmoctl);
	return g_test_run();
}
