/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, the gateway bootstraps its End Devices (issue 14 §3, seed 004, GwMO-HLF-005/006):
 * the real gwmod on a private bus, the reference DM Server north (HTTPS, MD5), the reference
 * End Device south (tests/peers/gwmo-test-device --bootstrap), GET /bootstrap on the southbound
 * listener (http on 127.0.0.1).
 *  - auto: [southbound] auto-bootstrap on: the device GETs its bootstrap, registers with the
 *    new credentials, its record is Attached, Trusted false, its lapse cancelled by that
 *    session; the DM Server hears DeviceAttached; a Fanout Replace of the gateway's DMAcc on
 *    the device gets 403 and never reaches it, a Fanout Add of a new ./DMAcc/<y> does; a second
 *    GET for the device is 409 and its credentials still authenticate it (a notified session
 *    with MD5 both ways); the DM Server's Exec of Operations/Bootstrap validates the bootstrap
 *    (Trusted true), after which a Replace below ./DMAcc reaches the device.
 *  - lapse: a LapseTimer of 4 s and no session: the gateway account goes (across a restart
 *    of gwmod) with the record the bootstrap made (a record that was there keeps itself),
 *    and the device's POST /dm with the old secrets is refused; the message carries
 *    Ext/LapseTimer; WBXML when Accept prefers it; 400 for a bad dev, 405 for a POST; the 9th
 *    lapsing bootstrap of one client is 503.
 *  - approved: auto-bootstrap off: 403 while EDBootstrap is false and while no DM Server
 *    approved the device, 409 never; the DM Server (the record's ServerIDs name it) Execs
 *    Operations/Bootstrap (425 on a record it may not Replace, 404 on none); the device's GET is
 * answered trusted (no Ext/LapseTimer), replaces its old account, and the device registers with the
 * new one: Trusted true.
 *  - to-server (GwMO-HLF-006): the DM Server's Exec with Data on a device holding the
 *    gateway's non-trusted account validates it (202) and the server's ./DMAcc account
 *    reaches the device over its next notified session (Operations/BootstrapStatus Delivered);
 *    the device then opens a session of its own with the server through it, authenticated;
 *    another ServerID in the Data is 425, a malformed Data 400, neither changes anything.
 *  - to-server-restart (GwMO-HLF-006): for a polling device the request waits, across a
 *    restart of gwmod, for its next session.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "gw-e2e.h"
#include "gw-error.h"
#include "gw-syncml.h"

#define GW_ID "GW-TEST-0001"
#define ACCOUNT "./DMAcc/gwmo-" GW_ID
#define ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"
#define JOB_IFACE "org.gwmo.Gateway1.Job"

/* ---- helpers ---- */

static GBytes *
http_get(const gchar *url, const gchar *method, const gchar *accept, guint *status, gchar **ctype)
{
	g_autoptr(SoupSession) session =
	    soup_session_new_with_options("proxy-resolver", NULL, "timeout", 30, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GError) error = NULL;
	GBytes *body;

	if (accept != NULL)
		soup_message_headers_replace(
		    soup_message_get_request_headers(msg), "Accept", accept);
	body = soup_session_send_and_read(session, msg, NULL, &error);
	g_assert_no_error(error);
	*status = soup_message_get_status(msg);
	if (ctype != NULL)
		*ctype = g_strdup(soup_message_headers_get_content_type(
		    soup_message_get_response_headers(msg), NULL));
	return body;
}

static gchar *
boot_url(Env *e, const gchar *dev)
{
	return g_strdup_printf("http://127.0.0.1:%u/bootstrap?dev=%s", e->south_port, dev);
}

static guint
get_status(Env *e, const gchar *dev)
{
	g_autofree gchar *url = boot_url(e, dev);
	guint status = 0;
	g_autoptr(GBytes) body = http_get(url, "GET", NULL, &status, NULL);
	return status;
}

/* the data of the message's item whose Target ends with @suffix, or NULL */
static const gchar *
item_value(GwSyncmlMessage *msg, const gchar *suffix)
{
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);
		for (guint j = 0; j < cmd->items->len; j++) {
			const GwSyncmlItem *item = g_ptr_array_index(cmd->items, j);
			if (item->target_uri != NULL && g_str_has_suffix(item->target_uri, suffix))
				return item->data != NULL ? item->data : "";
		}
	}
	return NULL;
}

/* the D-Bus error name GetNode gives for @uri, NULL when it answers */
static gchar *
node_error(GwTestDaemon *d, const gchar *uri)
{
	g_autofree gchar *name = NULL;
	g_autofree gchar *value = get_value(d, uri, &name);
	return g_steal_pointer(&name);
}

static void
set_node_int(GwTestDaemon *d, const gchar *uri, gint64 value)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(d,
	                 "SetNode",
	                 g_variant_new("(ssv)", uri, "int", g_variant_new_int32((gint32)value)),
	                 "()",
	                 &error);
	g_assert_no_error(error);
}

static gchar *
record_of(GwTestDaemon *d, const gchar *device_id)
{
	for (guint i = 1; i < 16; i++) {
		g_autofree gchar *uri = g_strdup_printf("./GwMO/Inventory/Devices/%u/DeviceID", i);
		g_autofree gchar *id = get_value(d, uri, NULL);
		if (g_strcmp0(id, device_id) == 0)
			return g_strdup_printf("./GwMO/Inventory/Devices/%u", i);
	}
	return NULL;
}

static gchar *
leaf(GwTestDaemon *d, const gchar *record, const gchar *name)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record, name);
	return get_value(d, uri, NULL);
}

typedef struct {
	GwTestDaemon *d;
	const gchar *uri;
	const gchar *value; /* NULL: the node is gone */
} NodeWait;

static gboolean
node_is(gpointer data)
{
	NodeWait *w = data;
	g_autofree gchar *err = NULL;
	g_autofree gchar *value = get_value(w->d, w->uri, &err);
	if (w->value == NULL)
		return g_strcmp0(err, "org.gwmo.Gateway1.Error.NotFound") == 0;
	return g_strcmp0(value, w->value) == 0;
}

static void
wait_node(GwTestDaemon *d, const gchar *uri, const gchar *value, guint timeout_s)
{
	NodeWait w = {d, uri, value};
	if (!e2e_wait(node_is, &w, timeout_s)) {
		g_printerr(
		    "%s is not %s after %u s\n", uri, value != NULL ? value : "gone", timeout_s);
		g_assert_not_reached();
	}
}

static gboolean
proc_exited(gpointer data)
{
	return g_subprocess_get_identifier(G_SUBPROCESS(data)) == NULL;
}

/* the reference device with @argv (NULL-terminated, after the binary); stdout to @out */
static GSubprocess *
device_spawn(Env *e, const gchar *name, const gchar *const *args)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", e->dir, name);
	g_autofree gchar *out = g_strdup_printf("%s/%s.out", e->dir, name);
	g_autoptr(GError) error = NULL;
	GSubprocess *proc;

	g_ptr_array_add(argv, (gpointer)device_binary);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	g_subprocess_launcher_set_stdout_file_path(launcher, out);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return proc;
}

static gint
device_wait(GSubprocess *proc, guint timeout_s)
{
	g_assert_true(e2e_wait(proc_exited, proc, timeout_s));
	g_subprocess_wait(proc, NULL, NULL);
	return g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
}

static gchar *
device_out(Env *e, const gchar *name)
{
	g_autofree gchar *out = g_strdup_printf("%s/%s.out", e->dir, name);
	gchar *text = NULL;
	g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
	return text;
}

typedef struct {
	Env *e;
	const gchar *name;
	const gchar *needle;
} OutWait;

/* the device's stdout so far holds the needle */
static gboolean
out_has(gpointer data)
{
	OutWait *w = data;
	g_autofree gchar *out = g_strdup_printf("%s/%s.out", w->e->dir, w->name);
	g_autofree gchar *text = NULL;
	return g_file_get_contents(out, &text, NULL, NULL) && strstr(text, w->needle) != NULL;
}

typedef struct {
	gchar *xml;
} Finished;

static void
finished_cb(GDBusConnection *c,
            const gchar *sender,
            const gchar *path,
            const gchar *iface,
            const gchar *signal,
            GVariant *params,
            gpointer user_data)
{
	Finished *f = user_data;
	if (f->xml == NULL)
		g_variant_get(params, "(s)", &f->xml);
}

static gboolean
finished(gpointer data)
{
	return ((Finished *)data)->xml != NULL;
}

/* a D-Bus Fanout of @command on @uri for @device; the aggregated result document */
static gchar *
fanout_one(GwTestDaemon *d,
           const gchar *device,
           const gchar *command,
           const gchar *uri,
           const gchar *format,
           const gchar *data)
{
	const gchar *ids[] = {device, NULL};
	Finished f = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder b;
	guint sub = g_dbus_connection_signal_subscribe(d->connection,
	                                               "org.gwmo.Gateway1",
	                                               JOB_IFACE,
	                                               "Finished",
	                                               NULL,
	                                               NULL,
	                                               G_DBUS_SIGNAL_FLAGS_NONE,
	                                               finished_cb,
	                                               &f,
	                                               NULL);

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(ids, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string(command));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string(uri));
	if (format != NULL)
		g_variant_builder_add(&b, "{sv}", "Format", g_variant_new_string(format));
	if (data != NULL)
		g_variant_builder_add(&b, "{sv}", "Data", g_variant_new_string(data));
	g_variant_builder_add(&b, "{sv}", "Timeout", g_variant_new_uint32(30));
	reply = gw_test_call(d, "Fanout", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_assert_true(e2e_wait(finished, &f, 60));
	g_dbus_connection_signal_unsubscribe(d->connection, sub);
	g_test_message("%s %s: %s", command, uri, f.xml);
	return f.xml;
}

typedef struct {
	GwTestDaemon *d;
} StartWait;

/* StartSession with SERVER_ID once the gateway is not in a session with it any more (the one
 * its DeviceAttached alert opened) */
static gboolean
session_started(gpointer data)
{
	StartWait *w = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(w->d, "StartSession", g_variant_new("(s)", SERVER_ID), NULL, &error);
	if (r == NULL && g_strrstr(error->message, "InProgress") == NULL)
		g_assert_no_error(error);
	return r != NULL;
}

static void
start_session_when_free(GwTestDaemon *d)
{
	StartWait w = {d};
	g_assert_true(e2e_wait(session_started, &w, 60));
}

/* ---- tests ---- */

/* auto-bootstrap: not trusted, registered, DeviceAttached; DMAcc guard; 409; validation */
static void
test_auto(void)
{
	Env *e = env_new_full("auto-bootstrap=true\n", NULL);
	g_autofree gchar *record = g_build_filename(e->dir, "server.json", NULL);
	g_autofree gchar *dev_record = g_build_filename(e->dir, "dev.json", NULL);
	g_autofree gchar *dev_record_arg = g_strdup_printf("--record=%s", dev_record);
	g_autofree gchar *url = boot_url(e, "boot-dev");
	g_autofree gchar *boot_arg = g_strdup_printf("--bootstrap=%s", url);
	g_autofree gchar *rec = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *doc = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *lapse_uri = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *value = NULL;
	g_autofree gchar *exec_uri = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) dev = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	const gchar *args[] = {"--dev-id=boot-dev",
	                       boot_arg,
	                       "--listen-notify=http://127.0.0.1:0",
	                       "--register",
	                       "--mode=2",
	                       "--server-ids=" SERVER_ID,
	                       "--count=3",
	                       dev_record_arg,
	                       NULL};

	e2e_set_node_bool(e->d, "./GwMO/Config/Bootstrap/EDBootstrap", TRUE);
	/* the first record of a fresh gateway: the DM Server validates it in its second session */
	exec_uri = g_strdup("./GwMO/Inventory/Devices/1/Operations/Bootstrap");
	script =
	    g_strdup_printf("{\"sessions\":[{\"commands\":[]},"
	                    "{\"commands\":[{\"cmd\":\"Exec\",\"uri\":\"%s\"},"
	                    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Devices/1/Trusted\"}]}]}",
	                    exec_uri);
	server = server_start(e, script, record, CL_SECRET, "--sessions=2", NULL);

	dev = device_spawn(e, "dev", args);
	/* it registers with the bootstrapped credentials: Attached */
	wait_node(e->d, "./GwMO/Inventory/Devices/1/Status", "Attached", 60);
	rec = record_of(e->d, "boot-dev");
	g_assert_cmpstr(rec, ==, "./GwMO/Inventory/Devices/1");
	value = leaf(e->d, rec, "Trusted");
	g_assert_cmpstr(value, ==, "false");
	g_clear_pointer(&value, g_free);
	/* the first authenticated session cancelled the lapse */
	lapse_uri = g_strdup_printf("%s/Credentials/LapseAt", rec);
	wait_node(e->d, lapse_uri, NULL, 30);
	out = device_out(e, "dev");
	g_assert_nonnull(strstr(out, "BOOTSTRAP 200 "));
	g_assert_nonnull(strstr(out, "BOOTSTRAP applied " ACCOUNT ": server http://127.0.0.1:"));
	g_assert_nonnull(strstr(out, "not trusted (lapses)"));
	g_clear_pointer(&out, g_free);

	/* a non-trusted bootstrap never changes the device's DMAcc: 403, not sent */
	doc = fanout_one(e->d, "boot-dev", "Replace", ACCOUNT "/Name", "chr", "hijacked");
	g_assert_nonnull(strstr(doc, "<Device id=\"boot-dev\" status=\"403\"/>"));
	g_clear_pointer(&doc, g_free);
	doc = fanout_one(e->d, "boot-dev", "Delete", ACCOUNT, NULL, NULL);
	g_assert_nonnull(strstr(doc, "<Device id=\"boot-dev\" status=\"403\"/>"));
	g_clear_pointer(&doc, g_free);
	/* a new account may be added (the device's 1st notified session) */
	doc = fanout_one(e->d, "boot-dev", "Add", "./DMAcc/other/Name", "chr", "added");
	g_assert_nonnull(strstr(doc, "<Device id=\"boot-dev\" status=\"200\"/>"));
	g_clear_pointer(&doc, g_free);

	/* a second, non-approved GET: 409, and the credentials still authenticate the device
	 * both ways (its 2nd notified session) */
	g_assert_cmpuint(get_status(e, "boot-dev"), ==, 409);
	doc = fanout_one(e->d, "boot-dev", "Get", "./DevInfo/Mod", NULL, NULL);
	g_assert_nonnull(strstr(doc, "<Device id=\"boot-dev\" status=\"200\">"));
	g_clear_pointer(&doc, g_free);

	/* the DM Server validates the bootstrap (seed 004: independently validated) */
	start_session_when_free(e->d);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	{
		gboolean attached = FALSE;
		for (guint i = 0; i < json_array_get_length(sessions); i++) {
			JsonObject *a =
			    session_alert(json_array_get_object_element(sessions, i), ATTACHED);
			if (a != NULL && strstr(json_object_get_string_member(a, "data"),
			                        "<DeviceID>boot-dev</DeviceID>") != NULL)
				attached = TRUE;
		}
		g_assert_true(attached);
	}
	g_assert_cmpint(
	    status_of(json_array_get_object_element(sessions, 1), "Exec", exec_uri), ==, 200);
	value = leaf(e->d, rec, "Trusted");
	g_assert_cmpstr(value, ==, "true");
	g_clear_pointer(&value, g_free);
	/* trusted now: a change of the device's DMAcc goes through (its 3rd notified session) */
	doc = fanout_one(e->d, "boot-dev", "Replace", ACCOUNT "/Name", "chr", "validated");
	g_assert_nonnull(strstr(doc, "<Device id=\"boot-dev\" status=\"200\"/>"));
	g_assert_cmpint(device_wait(dev, 60), ==, 0);
	g_assert_true(record_executed(dev_record, "Add", "./DMAcc/other/Name", "added"));
	g_assert_false(record_executed(dev_record, "Replace", ACCOUNT "/Name", "hijacked"));
	g_assert_false(record_executed(dev_record, "Delete", ACCOUNT, NULL));
	g_assert_true(record_executed(dev_record, "Replace", ACCOUNT "/Name", "validated"));
	/* no secret in the log */
	{
		g_autofree gchar *log = gw_test_daemon_read_log(e->d);
		g_assert_nonnull(strstr(log, "bootstrapped to the gateway (not trusted"));
		g_assert_null(strstr(log, "AAuthSecret"));
	}
	g_assert_true(gw_test_daemon_is_running(e->d));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* a non-trusted bootstrap without a session lapses (across a restart); the old secrets are
 * refused; the message itself */
static void
test_lapse(void)
{
	Env *e = env_new_full("auto-bootstrap=true\n", NULL);
	g_autofree gchar *url = boot_url(e, "lapse-dev");
	g_autofree gchar *ctype = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *secret_uri = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *value = NULL;
	g_autofree gchar *server_arg = NULL;
	g_autofree gchar *client_arg = NULL;
	g_autofree gchar *srv_secret_arg = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *kept = NULL;
	g_autofree gchar *kept_secret = NULL;
	gboolean lapsed_before;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) dev = NULL;
	g_autoptr(GSubprocess) dev2 = NULL;
	guint status = 0;

	/* EDBootstrap false (the factory value): nobody is bootstrapped */
	g_assert_cmpuint(get_status(e, "lapse-dev"), ==, 403);
	e2e_set_node_bool(e->d, "./GwMO/Config/Bootstrap/EDBootstrap", TRUE);
	set_node_int(e->d, "./GwMO/Config/Bootstrap/LapseTimer", 4);
	/* bad requests */
	g_assert_cmpuint(get_status(e, ""), ==, 400);
	{
		g_autofree gchar *u =
		    g_strdup_printf("http://127.0.0.1:%u/bootstrap", e->south_port);
		g_autoptr(GBytes) b = http_get(u, "GET", NULL, &status, NULL);
		g_assert_cmpuint(status, ==, 400);
		g_clear_pointer(&b, g_bytes_unref);
		b = http_get(url, "POST", NULL, &status, NULL);
		g_assert_cmpuint(status, ==, 405);
	}
	g_assert_null(record_of(e->d, "lapse-dev"));

	/* WBXML when the device prefers it */
	body = http_get(url,
	                "GET",
	                "application/vnd.syncml.dm+xml;q=0.5, application/vnd.syncml.dm+wbxml",
	                &status,
	                &ctype);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(ctype, ==, "application/vnd.syncml.dm+wbxml");
	msg = gw_syncml_message_decode(body, ctype, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(msg->hdr.target_uri, ==, "lapse-dev");
	g_assert_cmpstr(msg->hdr.source_uri, ==, GW_ID);
	g_assert_cmpuint(msg->commands->len, ==, 1);
	g_assert_cmpint(
	    ((GwSyncmlCommand *)g_ptr_array_index(msg->commands, 0))->type, ==, GW_SYNCML_CMD_ADD);
	g_assert_cmpstr(item_value(msg, "/AppID"), ==, "w7");
	g_assert_cmpstr(item_value(msg, "/ServerID"), ==, GW_ID);
	server_arg = g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	g_assert_cmpstr(item_value(msg, "/AppAddr/1/Addr"), ==, server_arg + strlen("--server="));
	g_assert_cmpstr(item_value(msg, "/AppAuth/1/AAuthLevel"), ==, "CLCRED");
	g_assert_cmpstr(item_value(msg, "/AppAuth/1/AAuthName"), ==, "lapse-dev");
	g_assert_cmpstr(item_value(msg, "/AppAuth/2/AAuthLevel"), ==, "SRVCRED");
	g_assert_cmpstr(item_value(msg, "/AppAuth/2/AAuthName"), ==, GW_ID);
	g_assert_cmpstr(item_value(msg, "/Ext/LapseTimer"), ==, "4");
	g_assert_cmpuint(strlen(item_value(msg, "/AppAuth/1/AAuthSecret")), ==, 32);
	g_assert_cmpstr(item_value(msg, "/AppAuth/1/AAuthSecret"),
	                !=,
	                item_value(msg, "/AppAuth/2/AAuthSecret"));
	client_arg =
	    g_strdup_printf("--client-secret=%s", item_value(msg, "/AppAuth/1/AAuthSecret"));
	srv_secret_arg =
	    g_strdup_printf("--server-secret=%s", item_value(msg, "/AppAuth/2/AAuthSecret"));

	/* a record that was there before (provisioned without credentials) gets one too */
	{
		g_autoptr(GVariant) reply = NULL;
		GVariantBuilder b;
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("kept-dev"));
		reply = gw_test_call(e->d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
		g_assert_no_error(error);
		g_assert_cmpuint(get_status(e, "kept-dev"), ==, 200);
		kept = record_of(e->d, "kept-dev");
		g_assert_nonnull(kept);
		kept_secret = g_strdup_printf("%s/Credentials/ClientSecret", kept);
		err = node_error(e->d, kept_secret);
		g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotAllowed");
		g_clear_pointer(&err, g_free);
		value = leaf(e->d, kept, "Trusted");
		g_assert_cmpstr(value, ==, "false");
		g_clear_pointer(&value, g_free);
	}

	rec = record_of(e->d, "lapse-dev");
	g_assert_nonnull(rec);
	value = leaf(e->d, rec, "Trusted");
	g_assert_cmpstr(value, ==, "false");
	g_clear_pointer(&value, g_free);
	value = leaf(e->d, rec, "Status");
	g_assert_cmpstr(value, ==, "Detached");
	g_clear_pointer(&value, g_free);
	secret_uri = g_strdup_printf("%s/Credentials/ClientSecret", rec);
	err = node_error(e->d, secret_uri);
	g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotAllowed"); /* there, unreadable */
	g_clear_pointer(&err, g_free);

	/* the reference device honours Ext/LapseTimer too: bootstrapped, then no session in
	 * time, it deletes the account itself */
	{
		g_autofree gchar *boot2 = boot_url(e, "lapse-dev2");
		g_autofree gchar *boot2_arg = g_strdup_printf("--bootstrap=%s", boot2);
		const gchar *args[] = {"--dev-id=lapse-dev2", boot2_arg, "--bootstrap-wait=5", NULL};
		OutWait w = {e, "dev2", "BOOTSTRAP applied"};
		dev2 = device_spawn(e, "dev2", args);
		g_assert_true(e2e_wait(out_has, &w, 60));
	}

	/* bounded: 8 lapsing bootstraps per client (3 so far), then 503 */
	for (guint i = 0; i < 5; i++) {
		g_autofree gchar *id = g_strdup_printf("flood-%u", i);
		g_assert_cmpuint(get_status(e, id), ==, 200);
	}
	g_assert_cmpuint(get_status(e, "flood-5"), ==, 503);

	/* the deadline is in the record: it survives a restart of gwmod (when the machine was
	 * so slow that it passed before the stop, the first run's log says so, and only the
	 * outcome is checked) */
	gw_test_daemon_stop(e->d);
	log = gw_test_daemon_read_log(e->d);
	lapsed_before = strstr(log, "non-trusted bootstrap of device lapse-dev") != NULL;
	g_clear_pointer(&log, g_free);
	gw_test_daemon_start(e->d, NULL);
	wait_node(e->d, secret_uri, NULL, 30);
	log = gw_test_daemon_read_log(e->d);
	if (lapsed_before)
		g_test_message("the lapse came before the restart: persistence not exercised");
	else
		g_assert_nonnull(strstr(log, "non-trusted bootstrap of device lapse-dev"));
	for (guint i = 0; i < 5; i++) {
		g_autofree gchar *id = g_strdup_printf("flood-%u", i);
		g_autofree gchar *flood_secret = NULL;
		g_autofree gchar *gone = NULL;
		/* they lapse with it: nothing of the flood stays */
		flood_secret = g_strdup_printf("./GwMO/Inventory/Devices/%u/Credentials/ClientSecret", i + 4);
		wait_node(e->d, flood_secret, NULL, 30);
		gone = record_of(e->d, id);
		g_assert_null(gone);
	}
	g_assert_null(strstr(log, item_value(msg, "/AppAuth/1/AAuthSecret")));
	g_assert_null(strstr(log, item_value(msg, "/AppAuth/2/AAuthSecret")));
	/* the bootstrap made the record: it is gone with it */
	g_assert_null(record_of(e->d, "lapse-dev"));
	/* the other one keeps its record, without the account */
	wait_node(e->d, kept_secret, NULL, 30);
	{
		g_autofree gchar *again = record_of(e->d, "kept-dev");
		g_assert_cmpstr(again, ==, kept);
	}
	value = leaf(e->d, kept, "Status");
	g_assert_cmpstr(value, ==, "Detached");
	g_clear_pointer(&value, g_free);

	g_assert_cmpint(device_wait(dev2, 60), !=, 0);
	{
		g_autofree gchar *out = device_out(e, "dev2");
		g_assert_nonnull(strstr(out, "BOOTSTRAP lapsed: " ACCOUNT " deleted"));
	}

	/* the old secrets are refused */
	{
		const gchar *args[] = {server_arg,
		                       "--dev-id=lapse-dev",
		                       "--auth=md5",
		                       client_arg,
		                       "--server-name=" GW_ID,
		                       srv_secret_arg,
		                       "--server-id=" GW_ID,
		                       NULL};
		dev = device_spawn(e, "old", args);
		g_assert_cmpint(device_wait(dev, 60), !=, 0);
	}
	g_clear_pointer(&log, g_free);
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(
	    log, "POST /dm from 127.0.0.1 refused (403): unknown device lapse-dev"));
	/* and a new bootstrap may be asked for */
	g_assert_cmpuint(get_status(e, "lapse-dev"), ==, 200);
	g_assert_true(gw_test_daemon_is_running(e->d));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* auto-bootstrap off: only a device a DM Server approved; trusted, no lapse */
static void
test_approved(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "server.json", NULL);
	g_autofree gchar *url = boot_url(e, "srv-dev");
	g_autofree gchar *boot_arg = g_strdup_printf("--bootstrap=%s", url);
	g_autofree gchar *server_arg =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *script = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *value = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *lapse_uri = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *other = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) dev = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	GVariantBuilder b;

	/* a device the owner provisioned, managed by srv1 (its registration names it) */
	{
		g_autoptr(GVariant) reply = NULL;
		const gchar *args[] = {server_arg,
		                       "--dev-id=srv-dev",
		                       "--auth=md5",
		                       "--client-secret=old-dev-secret",
		                       "--server-name=" GW_ID,
		                       "--server-secret=old-gw-secret",
		                       "--server-id=" GW_ID,
		                       "--register",
		                       "--server-ids=" SERVER_ID,
		                       NULL};
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("srv-dev"));
		g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
		g_variant_builder_add(
		    &b, "{sv}", "ClientSecret", g_variant_new_string("old-dev-secret"));
		g_variant_builder_add(
		    &b, "{sv}", "ServerSecret", g_variant_new_string("old-gw-secret"));
		reply =
		    gw_test_call(e->d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
		g_assert_no_error(error);
		dev = device_spawn(e, "old", args);
		g_assert_cmpint(device_wait(dev, 60), ==, 0);
		g_clear_object(&dev);
	}
	rec = record_of(e->d, "srv-dev");
	g_assert_nonnull(rec);
	wait_node(e->d, "./GwMO/Inventory/Devices/1/ServerIDs/1", SERVER_ID, 30);

	g_assert_cmpuint(get_status(e, "srv-dev"), ==, 403); /* EDBootstrap false */
	e2e_set_node_bool(e->d, "./GwMO/Config/Bootstrap/EDBootstrap", TRUE);
	g_assert_cmpuint(get_status(e, "srv-dev"), ==, 403); /* not approved, auto off */
	g_assert_cmpuint(get_status(e, "nobody-knows"), ==, 403);

	/* a record srv1 may not Replace (no ServerIDs: "Get=*"): its Exec is refused */
	{
		g_autoptr(GVariant) reply = NULL;
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("other-dev"));
		reply = gw_test_call(e->d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
		g_assert_no_error(error);
		other = record_of(e->d, "other-dev");
		g_assert_nonnull(other);
	}
	script = g_strdup_printf("{\"sessions\":[{\"commands\":[{\"cmd\":\"Exec\",\"uri\":\"%s/"
	                         "Operations/Bootstrap\"},{\"cmd\":\"Exec\",\"uri\":\"./GwMO/"
	                         "Inventory/Devices/99/Operations/Bootstrap\"},{\"cmd\":\"Exec\","
	                         "\"uri\":\"%s/Operations/Bootstrap\"}]}]}",
	                         rec,
	                         other);
	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	server = server_start(e, script, record, CL_SECRET, "--sessions=1", NULL);
	e2e_start_session(e->d);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	{
		g_autofree gchar *exec_uri = g_strdup_printf("%s/Operations/Bootstrap", rec);
		JsonObject *s = json_array_get_object_element(sessions, 0);
		g_assert_cmpint(status_of(s, "Exec", exec_uri), ==, 200);
		g_assert_cmpint(
		    status_of(s, "Exec", "./GwMO/Inventory/Devices/99/Operations/Bootstrap"),
		    ==,
		    404);
		g_free(exec_uri);
		exec_uri = g_strdup_printf("%s/Operations/Bootstrap", other);
		g_assert_cmpint(status_of(s, "Exec", exec_uri), ==, 425);
	}

	/* approved: the device's GET is answered, trusted, and replaces its old account */
	{
		const gchar *args[] = {"--dev-id=srv-dev", boot_arg, "--register", NULL};
		dev = device_spawn(e, "new", args);
		g_assert_cmpint(device_wait(dev, 60), ==, 0);
	}
	out = device_out(e, "new");
	g_assert_nonnull(strstr(out, "BOOTSTRAP 200 "));
	g_assert_nonnull(strstr(out, ", trusted"));
	value = leaf(e->d, rec, "Trusted");
	g_assert_cmpstr(value, ==, "true");
	g_clear_pointer(&value, g_free);
	value = leaf(e->d, rec, "Status");
	g_assert_cmpstr(value, ==, "Attached");
	g_clear_pointer(&value, g_free);
	lapse_uri = g_strdup_printf("%s/Credentials/LapseAt", rec);
	err = node_error(e->d, lapse_uri);
	g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotFound");
	/* the approval was used up; the old secrets no longer work */
	g_assert_cmpuint(get_status(e, "srv-dev"), ==, 403);
	{
		const gchar *args[] = {server_arg,
		                       "--dev-id=srv-dev",
		                       "--auth=md5",
		                       "--client-secret=old-dev-secret",
		                       "--server-name=" GW_ID,
		                       "--server-secret=old-gw-secret",
		                       "--server-id=" GW_ID,
		                       NULL};
		g_clear_object(&dev);
		dev = device_spawn(e, "stale", args);
		g_assert_cmpint(device_wait(dev, 60), !=, 0);
	}
	g_assert_true(gw_test_daemon_is_running(e->d));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* the reference DM Server as srv1 for the device's own session (--then-account): it knows the
 * device by the account's names and secrets; one session, no commands */
static GSubprocess *
account_server_start(Env *e, guint16 port, const gchar *record)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ready = g_build_filename(e->dir, "ready-account", NULL);
	g_autofree gchar *script_path = g_build_filename(e->dir, "script-account.json", NULL);
	g_autofree gchar *log = g_build_filename(e->dir, "server-account.log", NULL);
	g_autofree gchar *listen = g_strdup_printf("--listen=https://127.0.0.1:%u", (guint)port);
	g_autofree gchar *cert = g_strdup_printf("--cert=%s", e->cert);
	g_autofree gchar *key = g_strdup_printf("--key=%s", e->key);
	g_autofree gchar *script_arg = g_strdup_printf("--script=%s", script_path);
	g_autofree gchar *record_arg = g_strdup_printf("--record=%s", record);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	const gchar *argv[] = {server_binary,
	                       listen,
	                       cert,
	                       key,
	                       "--server-id=" SERVER_ID,
	                       "--server-name=" SERVER_ID,
	                       "--server-secret=srv-dev-secret-1",
	                       "--client-name=hlf-dev-at-srv1",
	                       "--client-secret=dev-srv-secret-1",
	                       "--auth=md5",
	                       script_arg,
	                       record_arg,
	                       ready_arg,
	                       "--sessions=1",
	                       NULL};
	GSubprocess *proc;

	g_assert_true(
	    g_file_set_contents(script_path, "{\"sessions\":[{\"commands\":[]}]}", -1, NULL));
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 400 && !g_file_test(ready, G_FILE_TEST_EXISTS); i++) {
		if (g_subprocess_get_identifier(proc) == NULL)
			break;
		g_usleep(50 * 1000);
	}
	g_assert_true(g_file_test(ready, G_FILE_TEST_EXISTS));
	return proc;
}

/* GwMO-HLF-006 on a device holding the gateway's (non-trusted) account: the DM Server's Exec
 * with Data validates it and puts the server's DMAcc on the device over its next session; a
 * server naming another ServerID, or a malformed Data, changes nothing */
static void
test_to_server(void)
{
	Env *e = env_new_full("auto-bootstrap=true\n", NULL);
	g_autofree gchar *record = g_build_filename(e->dir, "server.json", NULL);
	g_autofree gchar *url = boot_url(e, "hlf-dev");
	g_autofree gchar *boot_arg = g_strdup_printf("--bootstrap=%s", url);
	g_autofree gchar *script = NULL;
	g_autofree gchar *value = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *want = NULL;
	g_autofree gchar *account_record = g_build_filename(e->dir, "server-account.json", NULL);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", e->cert);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) account_server = NULL;
	g_autoptr(GSubprocess) dev = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) account_parser = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	guint16 account_port = free_port();
	g_autofree gchar *account_url =
	    g_strdup_printf("https://127.0.0.1:%u/dm", (guint)account_port);
	const gchar *exec_uri = "./GwMO/Inventory/Devices/1/Operations/Bootstrap";
	const gchar *args[] = {"--dev-id=hlf-dev",
	                       boot_arg,
	                       "--listen-notify=http://127.0.0.1:0",
	                       "--register",
	                       "--mode=2",
	                       "--server-ids=" SERVER_ID,
	                       "--count=1",
	                       ca_arg,
	                       "--then-account=" SERVER_ID,
	                       NULL};

	e2e_set_node_bool(e->d, "./GwMO/Config/Bootstrap/EDBootstrap", TRUE);
	/* srv1 where the device's account points (addr=), for the device's own session */
	account_server = account_server_start(e, account_port, account_record);
	/* session 1: the DeviceAttached alert; the server asks in it */
	script = g_strdup_printf(
	    "{\"sessions\":[{\"commands\":["
	    "{\"cmd\":\"Exec\",\"uri\":\"%s\",\"data\":\"server=other.example&name=n&secret=s&"
	    "server-secret=t\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"%s\",\"data\":\"server=" SERVER_ID "&name=n\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Devices/1/Trusted\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"%s\",\"data\":\"server=" SERVER_ID
	    "&name=hlf-dev-at-srv1&secret=dev-srv-secret-1&server-secret=srv-dev-secret-1"
	    "&addr=%s\"}"
	    "]}]}",
	    exec_uri,
	    exec_uri,
	    exec_uri,
	    account_url);
	server = server_start(e, script, record, CL_SECRET, "--sessions=1", NULL);
	dev = device_spawn(e, "dev", args);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_nonnull(session_alert(s1, ATTACHED));
	{
		JsonArray *cmds = json_object_get_array_member(s1, "results");
		guint execs = 0;
		for (guint i = 0; i < json_array_get_length(cmds); i++) {
			JsonObject *c = json_array_get_object_element(cmds, i);
			gint64 st = json_object_get_int_member(c, "status");
			if (g_strcmp0(json_object_get_string_member(c, "cmd"), "Exec") != 0)
				continue;
			/* another server: 425; a malformed Data: 400; its own: 202 */
			g_assert_cmpint(st, ==, execs == 0 ? 425 : execs == 1 ? 400 : 202);
			execs++;
		}
		g_assert_cmpuint(execs, ==, 3);
	}
	/* the refusals changed nothing: still not trusted before the third Exec */
	{
		JsonObject *r = result_for(s1, "Get", "./GwMO/Inventory/Devices/1/Trusted");
		JsonArray *items = json_object_get_array_member(r, "items");
		g_assert_cmpuint(json_array_get_length(items), ==, 1);
		g_assert_cmpstr(
		    json_object_get_string_member(json_array_get_object_element(items, 0), "data"),
		    ==,
		    "false");
	}
	/* the device's session carries the Add: the server's account is in its tree */
	g_assert_cmpint(device_wait(dev, 60), ==, 0);
	wait_node(e->d,
	          "./GwMO/Inventory/Devices/1/Operations/BootstrapStatus",
	          "Delivered " SERVER_ID,
	          30);
	out = device_out(e, "dev");
	g_assert_nonnull(strstr(out, "Add ./DMAcc/" SERVER_ID " -> 200"));
	want = g_strdup_printf(
	    "DMACC " SERVER_ID " ServerID " SERVER_ID " Addr %s Name hlf-dev-at-srv1", account_url);
	g_assert_nonnull(strstr(out, want));
	g_assert_nonnull(strstr(out, "DMACC gwmo-" GW_ID " ServerID " GW_ID));
	/* and the device's own session with srv1 through that account: authenticated (MD5 both
	 * ways, the secrets the server gave) */
	server_wait(account_server);
	sessions = record_sessions(account_record, &account_parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	{
		JsonObject *as = json_array_get_object_element(sessions, 0);
		g_assert_true(json_object_get_boolean_member(as, "authenticated"));
		g_assert_cmpstr(json_object_get_string_member(as, "peer"), ==, "hlf-dev");
	}
	value = leaf(e->d, "./GwMO/Inventory/Devices/1", "Trusted");
	g_assert_cmpstr(value, ==, "true");
	g_clear_pointer(&value, g_free);
	value = leaf(e->d, "./GwMO/Inventory/Devices/1", "ServerIDs/1");
	g_assert_cmpstr(value, ==, SERVER_ID);
	{
		g_autofree gchar *log = gw_test_daemon_read_log(e->d);
		g_assert_nonnull(strstr(log, "bootstrapped to DM Server " SERVER_ID));
		g_assert_null(strstr(log, "dev-srv-secret-1"));
		g_assert_null(strstr(log, "srv-dev-secret-1"));
	}
	g_assert_true(gw_test_daemon_is_running(e->d));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* the request waits for a polling device's next session, across a restart of gwmod */
static void
test_to_server_restart(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "server.json", NULL);
	g_autofree gchar *dev_record = g_build_filename(e->dir, "poll.json", NULL);
	g_autofree gchar *dev_record_arg = g_strdup_printf("--record=%s", dev_record);
	g_autofree gchar *server_arg =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *rec = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *status_uri = NULL;
	g_autofree gchar *exec_uri = NULL;
	g_autofree gchar *log = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) dev = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	GVariantBuilder b;
	const gchar *common[] = {server_arg,
	                         "--dev-id=poll-dev",
	                         "--auth=md5",
	                         "--client-secret=poll-dev-secret",
	                         "--server-name=" GW_ID,
	                         "--server-secret=poll-gw-secret",
	                         "--server-id=" GW_ID,
	                         NULL};

	/* a device the owner provisioned; it polls (no NotifyAddr) and names srv1 */
	{
		g_autoptr(GVariant) reply = NULL;
		const gchar *args[] = {common[0],
		                       common[1],
		                       common[2],
		                       common[3],
		                       common[4],
		                       common[5],
		                       common[6],
		                       "--register",
		                       "--server-ids=" SERVER_ID,
		                       NULL};
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("poll-dev"));
		g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
		g_variant_builder_add(
		    &b, "{sv}", "ClientSecret", g_variant_new_string("poll-dev-secret"));
		g_variant_builder_add(
		    &b, "{sv}", "ServerSecret", g_variant_new_string("poll-gw-secret"));
		reply =
		    gw_test_call(e->d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
		g_assert_no_error(error);
		dev = device_spawn(e, "poll1", args);
		g_assert_cmpint(device_wait(dev, 60), ==, 0);
		g_clear_object(&dev);
	}
	rec = record_of(e->d, "poll-dev");
	g_assert_nonnull(rec);
	{
		g_autofree gchar *ids = g_strdup_printf("%s/ServerIDs/1", rec);
		wait_node(e->d, ids, SERVER_ID, 30);
	}
	exec_uri = g_strdup_printf("%s/Operations/Bootstrap", rec);
	status_uri = g_strdup_printf("%s/Operations/BootstrapStatus", rec);
	script = g_strdup_printf("{\"sessions\":[{\"commands\":[{\"cmd\":\"Exec\",\"uri\":\"%s\","
	                         "\"data\":\"server=" SERVER_ID "&name=poll-at-srv1&secret="
	                         "poll-srv-secret&server-secret=srv-poll-secret\"}]}]}",
	                         exec_uri);
	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	server = server_start(e, script, record, CL_SECRET, "--sessions=1", NULL);
	e2e_start_session(e->d);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpint(
	    status_of(json_array_get_object_element(sessions, 0), "Exec", exec_uri), ==, 202);
	wait_node(e->d, status_uri, "Pending " SERVER_ID, 30);

	/* gwmod restarts before the device's next session */
	gw_test_daemon_stop(e->d);
	gw_test_daemon_start(e->d, NULL);
	{
		/* the stored request: there, its secrets unreadable */
		g_autofree gchar *secret_uri =
		    g_strdup_printf("%s/Credentials/ServerAccounts/" SERVER_ID "/Secret", rec);
		g_autofree gchar *err = node_error(e->d, secret_uri);
		g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotAllowed");
	}
	{
		const gchar *args[] = {common[0],
		                       common[1],
		                       common[2],
		                       common[3],
		                       common[4],
		                       common[5],
		                       common[6],
		                       dev_record_arg,
		                       NULL};
		dev = device_spawn(e, "poll2", args);
		g_assert_cmpint(device_wait(dev, 60), ==, 0);
	}
	wait_node(e->d, status_uri, "Delivered " SERVER_ID, 30);
	g_assert_true(record_executed(dev_record, "Add", "./DMAcc/" SERVER_ID, NULL));
	{
		g_autofree gchar *node =
		    g_strdup_printf("%s/Credentials/ServerAccounts/" SERVER_ID, rec);
		wait_node(e->d, node, NULL, 30);
	}
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "(resumed)"));
	g_assert_null(strstr(log, "poll-srv-secret"));
	g_assert_null(strstr(log, "srv-poll-secret"));
	g_assert_true(gw_test_daemon_is_running(e->d));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(argc, >=, 3);
	server_binary = argv[1];
	device_binary = argv[2];
	g_test_add_func("/gw/e2e/local-bootstrap/auto", test_auto);
	g_test_add_func("/gw/e2e/local-bootstrap/lapse", test_lapse);
	g_test_add_func("/gw/e2e/local-bootstrap/approved", test_approved);
	g_test_add_func("/gw/e2e/local-bootstrap/to-server", test_to_server);
	g_test_add_func("/gw/e2e/local-bootstrap/to-server-restart", test_to_server_restart);
	return g_test_run();
}
