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
#include <math.h>
#include <signal.h>
#include <string.h>

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
	gw_test_assert_dbus_error(
	    d,
	    "SetNode",
	    g_variant_new("(ssv)", "./GwMO/Config/Ext/Ctl", "chr", g_variant_new_string("a\001b")),
	    ERR "InvalidArgs");
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
	set_node(d, "./GwMO/Config/Mode", "int", g_variant_new_int64(1));
	gw_test_daemon_stop(d);
	gw_test_daemon_start(d, NULL);
	v = get_string(d, "./GwMO/Config/Ext/Keep", NULL);
	g_assert_cmpstr(v, ==, "kept");
	g_free(v);
	v = get_string(d, "./GwMO/Config/Mode", NULL);
	g_assert_cmpstr(v, ==, "1");
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

/* ---- secrets are never readable (issue 11 §1, GwMO-SECARIZE-001) ---- */

/* the values bootstrap-dmacc-noaccess.xml gives, as text and as their base64 (how a bin
 * value would appear in TNDS) */
static const gchar *const noaccess_values[] = {
    "noaccess-secret-1",
    "noaccess-nonce-1",
    "bm9hY2Nlc3Mtbm9uY2UtMQ",
    "asks-get-secret-2",
    "asks-get-nonce-2",
    "YXNrcy1nZXQtbm9uY2UtMg",
    NULL,
};

static gboolean
contains_bytes(const gchar *data, gsize len, const gchar *needle)
{
	gsize n = strlen(needle);
	for (gsize i = 0; i + n <= len; i++) {
		if (memcmp(data + i, needle, n) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
assert_none_in(const gchar *text, const gchar *const *values)
{
	for (guint i = 0; values[i] != NULL; i++) {
		if (text != NULL && strstr(text, values[i]) != NULL) {
			g_printerr("%s found in:\n%s\n", values[i], text);
			g_assert_not_reached();
		}
	}
}

/* every read path of the gateway, for the secrets below ./DMAcc/@account */
static void
assert_account_secrets_hidden(GwTestDaemon *d, const gchar *account)
{
	const gchar *leaves[] = {"AppAuth/1/AAuthSecret",
	                         "AppAuth/1/AAuthData",
	                         "AppAuth/2/AAuthSecret",
	                         "AppAuth/2/AAuthData"};
	g_autofree gchar *acc_uri = g_strdup_printf("./DMAcc/%s", account);
	const gchar *exports[] = {acc_uri, "./DMAcc", "."};

	for (guint i = 0; i < G_N_ELEMENTS(leaves); i++) {
		g_autofree gchar *uri = g_strdup_printf("./DMAcc/%s/%s", account, leaves[i]);
		gchar *out = NULL;
		gchar *err = NULL;
		gint rc;

		g_test_message("%s", uri);
		gw_test_assert_dbus_error(
		    d, "GetNode", g_variant_new("(s)", uri), ERR "NotAllowed");
		rc = gw_test_run_gwmoctl(d, &out, &err, "get", uri, NULL);
		g_assert_cmpint(rc, !=, 0);
		g_assert_nonnull(strstr(err, "NotAllowed"));
		assert_none_in(out, noaccess_values);
		assert_none_in(err, noaccess_values);
		g_free(out);
		g_free(err);
	}
	for (guint i = 0; i < G_N_ELEMENTS(exports); i++) {
		g_autofree gchar *xml = export_tree(d, exports[i]);
		g_assert_nonnull(strstr(xml, "<NodeName>AAuthSecret</NodeName>"));
		g_assert_nonnull(strstr(xml, "gateway-1")); /* the rest is there */
		assert_none_in(xml, noaccess_values);
	}
	{
		const gchar *const variants[][3] = {
		    {"tree", NULL, NULL},
		    {"tree", "./DMAcc", NULL},
		    {"tree", "--tnds", "."},
		    {"--json", "tree", "./DMAcc"},
		};
		for (guint i = 0; i < G_N_ELEMENTS(variants); i++) {
			gchar *out = NULL;
			gchar *err = NULL;
			gint rc = gw_test_run_gwmoctl(
			    d, &out, &err, variants[i][0], variants[i][1], variants[i][2], NULL);
			g_assert_cmpint(rc, ==, 0);
			g_assert_nonnull(strstr(out, "AAuthSecret"));
			assert_none_in(out, noaccess_values);
			g_free(out);
			g_free(err);
		}
	}
}

/* a bootstrap whose TNDS gives AAuthSecret/AAuthData no <AccessType>, or asks for <Get/>: by
 * gwmod --bootstrap, D-Bus Bootstrap and gwmoctl bootstrap; never readable, never logged, kept
 * in the state file */
static void
test_secrets_bootstrap(void)
{
	g_autofree gchar *file = g_build_filename(
	    g_getenv("GWMO_TEST_DATA"), "dbus", "bootstrap-dmacc-noaccess.xml", NULL);
	const gchar *args[] = {"--bootstrap", file, NULL};
	/* every log domain at debug level: no line of any of them may carry a secret */
	GwTestDaemon *d = gw_test_daemon_new_with_config("[daemon]\ndebug-domains=all\n");
	g_autofree gchar *data = NULL;
	g_autofree gchar *second = NULL;
	g_autofree gchar *third = NULL;
	g_autofree gchar *third_file = NULL;
	g_autofree gchar *log = NULL;
	g_auto(GStrv) parts = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar *out = NULL;
	gchar *err = NULL;

	gw_test_daemon_start(d, args);
	assert_account_secrets_hidden(d, "srv1");

	g_assert_true(g_file_get_contents(file, &data, NULL, NULL));
	parts = g_strsplit(data, "srv1", -1);
	second = g_strjoinv("srv2", parts);
	reply = gw_test_call(d, "Bootstrap", g_variant_new("(sss)", second, ".", ""), "()", &error);
	g_assert_no_error(error);
	assert_account_secrets_hidden(d, "srv2");

	third = g_strjoinv("srv3", parts);
	third_file = g_build_filename(d->tmpdir, "bootstrap-srv3.xml", NULL);
	g_assert_true(g_file_set_contents(third_file, third, -1, NULL));
	g_assert_cmpint(gw_test_run_gwmoctl(d, &out, &err, "bootstrap", third_file, NULL), ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	assert_account_secrets_hidden(d, "srv3");

	/* a format the DDF does not give refuses the whole document */
	{
		const gchar *bad =
		    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
		    "<Node><NodeName>srv4</NodeName><Path>./DMAcc</Path>"
		    "<Node><NodeName>ServerID</NodeName><Value>srv4</Value></Node>"
		    "<Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
		    "<Node><NodeName>AAuthLevel</NodeName><RTProperties><Format><int/>"
		    "</Format></RTProperties><Value>1</Value></Node>"
		    "</Node></Node></Node></MgmtTree>";
		gw_test_assert_dbus_error(
		    d, "Bootstrap", g_variant_new("(sss)", bad, ".", ""), ERR "NotSupported");
		gw_test_assert_dbus_error(
		    d, "GetNode", g_variant_new("(s)", "./DMAcc/srv4"), ERR "NotFound");
	}

	/* asking for Get was logged, naming the node; no log line of this run has a value
	 * (debug lines included) */
	log = gw_test_daemon_read_log(d);
	g_assert_nonnull(strstr(log, "GetNode(")); /* debug lines are in it */
	g_assert_nonnull(strstr(log,
	                        "./DMAcc/srv1/AppAuth/2/AAuthSecret: its standard definition (DDF) "
	                        "does not allow Get"));
	assert_none_in(log, noaccess_values);
	g_clear_pointer(&log, g_free);

	/* the daemon keeps them (it authenticates with them) in its 0600 state file, and after a
	 * restart they are as unreadable as before */
	gw_test_daemon_stop(d);
	{
		g_autofree gchar *state = g_build_filename(d->state_dir, "tree.state", NULL);
		g_autofree gchar *content = NULL;
		gsize len = 0;
		g_assert_true(g_file_get_contents(state, &content, &len, NULL));
		/* searched as bytes: the state need not be text */
		g_assert_true(contains_bytes(content, len, "noaccess-secret-1"));
		g_assert_true(contains_bytes(content, len, "asks-get-secret-2"));
	}
	gw_test_daemon_start(d, NULL);
	assert_account_secrets_hidden(d, "srv1");
	assert_account_secrets_hidden(d, "srv3");

	/* nor of the run that loaded them from the state */
	log = gw_test_daemon_read_log(d);
	assert_none_in(log, noaccess_values);
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* the record URI of @device_id in the inventory */
static gchar *
device_record(GwTestDaemon *d, const gchar *device_id)
{
	g_auto(GStrv) records = list_children(d, "./GwMO/Inventory/Devices");
	for (guint i = 0; records[i] != NULL; i++) {
		g_autofree gchar *uri =
		    g_strdup_printf("./GwMO/Inventory/Devices/%s/DeviceID", records[i]);
		g_autofree gchar *id = get_string(d, uri, NULL);
		if (g_strcmp0(id, device_id) == 0)
			return g_strdup_printf("./GwMO/Inventory/Devices/%s", records[i]);
	}
	g_assert_not_reached();
	return NULL;
}

/* a device's Credentials/ClientSecret and ServerSecret after AddDevice: never readable, even
 * when a bootstrap asks for Get on them */
static void
test_secrets_device_credentials(void)
{
	GwTestDaemon *d = gw_test_daemon_new_with_config("[daemon]\ndebug-domains=all\n");
	const gchar *const values[] = {"dev-client-secret-9", "dev-server-secret-9", NULL};
	const gchar *leaves[] = {"ClientSecret", "ServerSecret"};
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *ask_get = NULL;
	g_autofree gchar *all = NULL;
	g_autofree gchar *log = NULL;
	GVariantBuilder b;

	gw_test_daemon_start(d, NULL);
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("dev-cred-1"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string("dev-cred-1"));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(values[0]));
	g_variant_builder_add(&b, "{sv}", "ServerSecret", g_variant_new_string(values[1]));
	reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	record = device_record(d, "dev-cred-1");

	/* a bootstrap that asks for Get (and Replace) on both gets Replace only */
	ask_get = g_strdup_printf(
	    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>ClientSecret</NodeName><Path>%s/Credentials</Path>"
	    "<RTProperties><Format><chr/></Format></RTProperties>"
	    "<DFProperties><AccessType><Get/><Replace/></AccessType></DFProperties></Node>"
	    "<Node><NodeName>ServerSecret</NodeName><Path>%s/Credentials</Path>"
	    "<RTProperties><Format><chr/></Format></RTProperties>"
	    "<DFProperties><AccessType><Get/></AccessType></DFProperties></Node>"
	    "</MgmtTree>",
	    record,
	    record);

	for (guint round = 0; round < 2; round++) {
		if (round == 1) {
			g_clear_pointer(&reply, g_variant_unref);
			reply = gw_test_call(d,
			                     "Bootstrap",
			                     g_variant_new("(sss)", ask_get, ".", "replace"),
			                     "()",
			                     &error);
			g_assert_no_error(error);
		}
		for (guint i = 0; i < G_N_ELEMENTS(leaves); i++) {
			g_autofree gchar *uri =
			    g_strdup_printf("%s/Credentials/%s", record, leaves[i]);
			gchar *out = NULL;
			gchar *err = NULL;
			gw_test_assert_dbus_error(
			    d, "GetNode", g_variant_new("(s)", uri), ERR "NotAllowed");
			g_assert_cmpint(
			    gw_test_run_gwmoctl(d, &out, &err, "get", uri, NULL), !=, 0);
			assert_none_in(out, values);
			g_free(out);
			g_free(err);
		}
		g_free(all);
		all = export_tree(d, ".");
		g_assert_nonnull(strstr(all, "<NodeName>ClientSecret</NodeName>"));
		assert_none_in(all, values);
		{
			gchar *out = NULL;
			gchar *err = NULL;
			g_assert_cmpint(
			    gw_test_run_gwmoctl(d, &out, &err, "tree", record, NULL), ==, 0);
			g_assert_nonnull(strstr(out, "ClientSecret"));
			assert_none_in(out, values);
			g_free(out);
			g_free(err);
			g_assert_cmpint(
			    gw_test_run_gwmoctl(d, &out, &err, "device", "dev-cred-1", NULL),
			    ==,
			    0);
			assert_none_in(out, values);
			g_free(out);
			g_free(err);
		}
	}
	log = gw_test_daemon_read_log(d);
	assert_none_in(log, values);
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* issue 11 §4 "lax arguments": SetNode refuses a value that is not one of its format, and the
 * DDF of the standard MOs holds for SetNode too */
static void
test_set_node_bad_values(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	const struct {
		const gchar *format;
		GVariant *value;
	} bad[] = {
	    {"date", g_variant_new_string("yesterday")},
	    {"date", g_variant_new_string("2026-02-30")},
	    {"date", g_variant_new_string("2026-12-06T10:00:00")},
	    {"time", g_variant_new_string("25:00")},
	    {"xml", g_variant_new_string("<a>")},
	    {"xml", g_variant_new_string("<a/><b/>")},
	    {"float", g_variant_new_double(NAN)},
	    {"float", g_variant_new_double(INFINITY)},
	    {"float", g_variant_new_double(-INFINITY)},
	    {"b64", g_variant_new_string("abc")},
	};
	g_autofree gchar *date = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *fl = NULL;
	g_autofree gchar *level = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree gchar *printed = g_variant_print(bad[i].value, FALSE);
		g_test_message("%s %s", bad[i].format, printed);
		gw_test_assert_dbus_error(
		    d,
		    "SetNode",
		    g_variant_new("(ssv)", "./GwMO/Config/Ext/Bad", bad[i].format, bad[i].value),
		    ERR "InvalidArgs");
	}
	gw_test_assert_dbus_error(
	    d, "GetNode", g_variant_new("(s)", "./GwMO/Config/Ext/Bad"), ERR "NotFound");

	set_node(d, "./GwMO/Config/Ext/Date", "date", g_variant_new_string("2026-12-06T10:00:00Z"));
	set_node(d, "./GwMO/Config/Ext/Xml", "xml", g_variant_new_string("<a b='1'/>"));
	set_node(d, "./GwMO/Config/Ext/F", "float", g_variant_new_double(1.5));
	/* a bad replacement leaves the value */
	gw_test_assert_dbus_error(
	    d,
	    "SetNode",
	    g_variant_new("(ssv)", "./GwMO/Config/Ext/Date", "date", g_variant_new_string("soon")),
	    ERR "InvalidArgs");
	date = get_string(d, "./GwMO/Config/Ext/Date", NULL);
	g_assert_cmpstr(date, ==, "2026-12-06T10:00:00Z");
	xml = get_string(d, "./GwMO/Config/Ext/Xml", NULL);
	g_assert_cmpstr(xml, ==, "<a b='1'/>");
	fl = get_string(d, "./GwMO/Config/Ext/F", NULL);
	g_assert_cmpstr(fl, ==, "1.5");

	/* the DMAcc DDF over SetNode: a new secret is not readable, a wrong format or name is
	 * refused */
	set_node(d, "./DMAcc/srvX/AppAuth/1/AAuthLevel", "chr", g_variant_new_string("CLCRED"));
	set_node(
	    d, "./DMAcc/srvX/AppAuth/1/AAuthSecret", "chr", g_variant_new_string("setnode-pw"));
	gw_test_assert_dbus_error(d,
	                          "GetNode",
	                          g_variant_new("(s)", "./DMAcc/srvX/AppAuth/1/AAuthSecret"),
	                          ERR "NotAllowed");
	gw_test_assert_dbus_error(
	    d,
	    "SetNode",
	    g_variant_new(
	        "(ssv)", "./DMAcc/srvX/AppAuth/1/AAuthLevel", "int", g_variant_new_int32(1)),
	    ERR "InvalidArgs");
	gw_test_assert_dbus_error(
	    d,
	    "SetNode",
	    g_variant_new(
	        "(ssv)", "./DMAcc/srvX/AppAuth/2/AAuthData", "chr", g_variant_new_string("x")),
	    ERR "InvalidArgs");
	gw_test_assert_dbus_error(
	    d,
	    "SetNode",
	    g_variant_new("(ssv)", "./DMAcc/srvX/Password", "chr", g_variant_new_string("x")),
	    ERR "NotAllowed");
	level = get_string(d, "./DMAcc/srvX/AppAuth/1/AAuthLevel", NULL);
	g_assert_cmpstr(level, ==, "CLCRED");
	g_assert_true(gw_test_daemon_is_running(d));
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* a bootstrap in replace mode does not overwrite ./DevInfo/DevId, which SetNode refuses: the
 * whole document is refused (D-Bus and gwmoctl), the value stays */
static void
test_bootstrap_devinfo_refused(void)
{
	GwTestDaemon *d = start_daemon(NULL);
	const gchar *doc = "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	                   "<Node><NodeName>DevId</NodeName><Path>./DevInfo</Path>"
	                   "<Value>EVIL-ID</Value></Node>"
	                   "<Node><NodeName>srvE</NodeName><Path>./DMAcc</Path>"
	                   "<Node><NodeName>ServerID</NodeName><Value>srvE</Value></Node></Node>"
	                   "</MgmtTree>";
	g_autofree gchar *path = g_build_filename(d->tmpdir, "devinfo.xml", NULL);
	g_autofree gchar *devid = NULL;
	g_autofree gchar *gwid = NULL;
	gchar *out = NULL;
	gchar *err = NULL;

	gw_test_assert_dbus_error(
	    d, "Bootstrap", g_variant_new("(sss)", doc, ".", "replace"), ERR "NotAllowed");
	g_assert_true(g_file_set_contents(path, doc, -1, NULL));
	g_assert_cmpint(
	    gw_test_run_gwmoctl(d, &out, &err, "bootstrap", "--replace", path, NULL), !=, 0);
	g_assert_nonnull(strstr(err, "./DevInfo/DevId"));
	g_free(out);
	g_free(err);
	devid = get_string(d, "./DevInfo/DevId", NULL);
	g_assert_cmpstr(devid, ==, "GW-TEST-0001");
	gwid = get_string(d, "./GwMO/Config/GwID", NULL);
	g_assert_cmpstr(gwid, ==, "GW-TEST-0001");
	/* all or nothing: the account of the same document is not there */
	gw_test_assert_dbus_error(
	    d, "GetNode", g_variant_new("(s)", "./DMAcc/srvE"), ERR "NotFound");
	gw_test_daemon_stop(d);
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
	g_test_add_func("/gw/dbus/secrets-bootstrap", test_secrets_bootstrap);
	g_test_add_func("/gw/dbus/secrets-device-credentials", test_secrets_device_credentials);
	g_test_add_func("/gw/dbus/set-node-bad-values", test_set_node_bad_values);
	g_test_add_func("/gw/dbus/bootstrap-devinfo-refused", test_bootstrap_devinfo_refused);
	return g_test_run();
}
