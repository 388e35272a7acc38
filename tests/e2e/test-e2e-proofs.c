/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, the proofs of issue 11 §6: the real gwmod (tests/dbus harness) driven by the
 * reference DM Server (HTTPS) in its own DM sessions, with reference End Devices south. Each
 * case names the requirement it proves:
 *  - hmac: GwMO-SECDI-001, x-syncml-hmac both ways; a message altered after its MAC was
 *    computed is refused with nothing of it executed;
 *  - session-schedule: [northbound] session-interval opens sessions by itself;
 *  - transparent-direct: GwMO-TMode-001 flow Z' with X-GwMO-Target, the device's own session
 *    with the DM Server;
 *  - modes: GwMO-MOO-001, SupportedModes, Mode 3 refused, a Mode change takes effect;
 *  - inventory-alert: GwMO-DI-005, the server turns its InventoryAlert off and on;
 *  - groups: GwMO-Group-001, the server adds, changes and deletes groups.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-pkg0.h"
#include "gw-proofs.h"

#define EXT "./GwMO/Config/Ext/srv1"

/* the per-device Timeout of the fan-out jobs; sanitizer builds run the devices instrumented */
#if defined(__SANITIZE_ADDRESS__)
#define JOB_TIMEOUT 60
#else
#define JOB_TIMEOUT 20
#endif

/*
 * GwMO-SECDI-001 (OMA-DM.md §1.2.4): both DMAcc entries of the gateway say AAuthType HMAC; the
 * gateway signs every message with x-syncml-hmac and the server, run with --auth=hmac, checks
 * it (and signs its own). The server alters its first package after its MAC was computed: the
 * node it would add is renamed in transit. The gateway refuses that message (401 for the
 * header, every command of it answered 401, none run); the server sends the same commands again
 * in its next message, which arrives intact and is executed.
 */
static void
test_hmac(void)
{
	ProofConfig config = {.auth_type = "HMAC"};
	Env *e = proof_env_new(&config);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *err = NULL;
	g_autofree gchar *log = NULL;
	JsonArray *sessions;
	JsonObject *s;

	server = server_start(e,
	                      "{\"sessions\":[{\"commands\":["
	                      "{\"cmd\":\"Add\",\"uri\":\"" EXT "/Genuine\",\"data\":\"g\"},"
	                      "{\"cmd\":\"Replace\",\"uri\":\"" EXT "/Keep\",\"data\":\"k2\"}]}]}",
	                      record,
	                      CL_SECRET,
	                      "--sessions=1",
	                      "--auth=hmac",
	                      "--tamper-from=" EXT "/Genuine",
	                      "--tamper-to=" EXT "/Tampered",
	                      NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	s = json_array_get_object_element(sessions, 0);
	/* the server verified the gateway's x-syncml-hmac */
	g_assert_true(json_object_get_boolean_member(s, "authenticated"));
	g_assert_cmpint(json_object_get_int_member(s, "auth_status"), ==, 212);
	g_assert_cmpstr(json_object_get_string_member(s, "state"), ==, "finished");
	/* the genuine commands ran, from the message that came intact */
	g_assert_cmpint(status_of(s, "Add", EXT "/Genuine"), ==, 200);
	g_assert_cmpint(status_of(s, "Replace", EXT "/Keep"), ==, 200);
	v = get_value(e->d, EXT "/Genuine", NULL);
	g_assert_cmpstr(v, ==, "g");
	g_clear_pointer(&v, g_free);
	v = get_value(e->d, EXT "/Keep", NULL);
	g_assert_cmpstr(v, ==, "k2");
	g_clear_pointer(&v, g_free);
	/* nothing of the altered message ran */
	v = get_value(e->d, EXT "/Tampered", &err);
	g_assert_null(v);
	g_assert_cmpstr(err, ==, "org.gwmo.Gateway1.Error.NotFound");
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "peer credentials rejected in message"));
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
}

/*
 * [northbound] session-interval: with nothing queued and no D-Bus call, the gateway opens a
 * client-initiated session with its server every interval. Three sessions, spaced by the
 * interval (2 s) within what a timer on a busy machine allows.
 */
static void
test_session_schedule(void)
{
	/* a second [northbound] group: GKeyFile merges it with the harness's */
	ProofConfig config = {.extra = "[northbound]\nsession-interval=2\n"};
	Env *e = proof_env_new(&config);
	g_autofree gchar *record = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	gint64 prev = 0;

	record = g_build_filename(e->dir, "record.json", NULL);
	server = server_start(e, "{\"sessions\":[]}", record, CL_SECRET, "--sessions=3", NULL);
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
	for (guint i = 0; i < 3; i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		gint64 started = json_object_get_int_member(s, "started_us");
		g_assert_cmpstr(json_object_get_string_member(s, "peer"), ==, PROOF_GW_ID);
		g_assert_cmpint(json_object_get_int_member(s, "alert"), ==, 1201);
		g_assert_cmpstr(json_object_get_string_member(s, "state"), ==, "finished");
		if (i > 0) {
			gint64 gap_ms = (started - prev) / 1000;
			g_test_message("session %u started %" G_GINT64_FORMAT
			               " ms after the one before",
			               i + 1,
			               gap_ms);
			/* a whole-second timer fires a little early or late. The server sees a
			 * session start once its TLS handshake is done, and a process's first
			 * handshake can take seconds (under ASan up to 3.5 s before its
			 * ClientHello): the first session can reach the server late, close to
			 * the second, so only the later gaps must be a whole interval */
			if (i > 1)
				g_assert_cmpint(gap_ms, >=, 1200);
			g_assert_cmpint(gap_ms, <=, 3500);
		}
		prev = started;
	}
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
}

/* a Transparent device that registers explicitly (ServerIDs srv1) and, once notified through
 * the gateway, opens its session with the DM Server directly (--notified-server) */
static GSubprocess *
transparent_device(Env *e, const gchar *id, const gchar *record, const gchar *listen_port)
{
	g_autofree gchar *server_arg =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *record_arg = g_strdup_printf("--record=%s", record);
	g_autofree gchar *notified_arg = g_strdup_printf("--notified-server=%s", e->dm_url);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", e->cert);
	g_autofree gchar *id_arg = g_strdup_printf("--dev-id=%s", id);
	g_autofree gchar *log = g_strdup_printf("%s.log", id);
	g_autofree gchar *listen_arg = g_strdup_printf("--listen-notify=http://127.0.0.1:%s",
	                                               listen_port != NULL ? listen_port : "0");

	return proof_device_spawn(
	    e,
	    log,
	    server_arg,
	    id_arg,
	    "--auth=md5",
	    "--client-secret=" PROOF_DEV_SECRET,
	    /* it checks the DM Server's Package #0 and the server's credentials */
	    "--server-name=" SERVER_ID,
	    "--notify-secret=" SRV_SECRET,
	    "--server-id=" SERVER_ID,
	    "--register",
	    "--mode=1",
	    "--server-ids=" SERVER_ID,
	    listen_arg,
	    notified_arg,
	    ca_arg,
	    "--count=1",
	    record_arg,
	    NULL);
}

/* waits until the record of @device_id has an http:// NotifyAddr (its registration is in) */
static gchar *
wait_notify_addr(GwTestDaemon *d, const gchar *device_id)
{
	for (guint i = 0; i < 1200; i++) {
		g_autofree gchar *rec = proof_find_record(d, device_id);
		g_autofree gchar *na_uri =
		    rec != NULL ? g_strdup_printf("%s/NotifyAddr", rec) : NULL;
		g_autofree gchar *na = na_uri != NULL ? get_value(d, na_uri, NULL) : NULL;
		if (na != NULL && g_str_has_prefix(na, "http://127.0.0.1:"))
			return g_steal_pointer(&rec);
		g_usleep(50 * 1000);
	}
	g_printerr("%s never registered a NotifyAddr\n", device_id);
	g_assert_not_reached();
	return NULL;
}

/*
 * GwMO-TMode-001, flow Z' (seed 000 Z'.1-Z'.3, spec/GWMO.md §4): the DM Server POSTs its
 * Package #0 for a Transparent device to the gateway's /notify with X-GwMO-Target; the gateway
 * verifies and forwards it (202), and the device then opens its session with the DM Server
 * directly: the server's record holds a session whose Source is the device's DevId, with the
 * notification's session id, Alert 1200, and the gateway opened no session of its own.
 */
static void
test_transparent_direct(void)
{
	ProofConfig config = {0};
	Env *e = proof_env_new(&config);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *dev_record = g_build_filename(e->dir, "dev-z.json", NULL);
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *notify_arg = g_strdup_printf("--notify=%s", url);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", gw_cert);
	g_autofree gchar *path = NULL;
	g_autofree gchar *rec = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) dparser = NULL;
	JsonArray *sessions;
	JsonObject *s;

	path = proof_add_device(e->d, "dev-z", 1, PROOF_DEV_SECRET, NULL, NULL);
	device = transparent_device(e, "dev-z", dev_record, NULL);
	rec = wait_notify_addr(e->d, "dev-z");
	/* the DM Server's Package #0 for dev-z, through the gateway (it accepts the device's
	 * credentials: the device's own account at the server) */
	server =
	    server_start(e,
	                 "{\"sessions\":[{\"commands\":["
	                 "{\"cmd\":\"Get\",\"uri\":\"./DevInfo/DevId\"},"
	                 "{\"cmd\":\"Replace\",\"uri\":\"./DevInfo/Ext/Hello\",\"data\":\"z\"}]}]}",
	                 record,
	                 PROOF_DEV_SECRET,
	                 "--client-name=dev-z",
	                 "--sessions=1",
	                 notify_arg,
	                 "--notify-secret=" SRV_SECRET,
	                 "--notify-session=2E57",
	                 "--notify-target=dev-z",
	                 ca_arg,
	                 NULL);
	server_wait(server);
	g_assert_cmpint(proof_device_wait(device), ==, 0);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	/* Z'.3: the device's own session with the DM Server, the one the notification named */
	s = proof_session_of(sessions, "dev-z", 0);
	g_assert_nonnull(s);
	g_assert_null(proof_session_of(sessions, PROOF_GW_ID, 0));
	g_assert_cmpint(json_object_get_int_member(s, "alert"), ==, 1200);
	g_assert_cmpstr(json_object_get_string_member(s, "session_id"), ==, "2E57");
	g_assert_true(json_object_get_boolean_member(s, "authenticated"));
	g_assert_cmpstr(json_object_get_string_member(s, "state"), ==, "finished");
	g_assert_cmpstr(proof_item_data(result_for(s, "Get", "./DevInfo/DevId"), 0), ==, "dev-z");
	/* the device ran the server's command on its own tree */
	g_assert_true(record_executed(dev_record, "Get", "./DevInfo/DevId", NULL));
	{
		g_autofree gchar *log = gw_test_daemon_read_log(e->d);
		g_assert_nonnull(strstr(log, "forwarded to device dev-z (transparent mode)"));
	}
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
}

/* the DM Server's commands making Fanout job @name (Get @target_uri, or @command with @data) to
 * the NULL-terminated DeviceIDs, or to @group when @ids is NULL, and Exec'ing its Start */
static gchar *
job_commands(const gchar *name,
             const gchar *const *ids,
             const gchar *group,
             const gchar *command,
             const gchar *target_uri,
             const gchar *data,
             const gchar *correlator)
{
	GString *s = g_string_new(NULL);
	g_string_append_printf(
	    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s\",\"format\":\"node\"},", name);
	for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
		g_string_append_printf(s,
		                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/"
		                       "Devices/%u\",\"data\":\"%s\"},",
		                       name,
		                       i + 1,
		                       ids[i]);
	if (group != NULL)
		g_string_append_printf(
		    s,
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/Group\",\"data\":\"%s\"},",
		    name,
		    group);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Command\",\"data\":\"%s\"},",
	    name,
	    command);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/TargetURI\",\"data\":\"%s\"},",
	    name,
	    target_uri);
	if (data != NULL)
		g_string_append_printf(
		    s,
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Data\",\"data\":\"%s\"},",
		    name,
		    data);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/"
	                       "Timeout\",\"format\":\"int\",\"data\":\"%u\"},",
	                       name,
	                       JOB_TIMEOUT);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Fanout/%s/Operations/"
	                       "Start\",\"correlator\":\"%s\"}",
	                       name,
	                       correlator);
	return g_string_free(s, FALSE);
}

/* a Proxy device: provisioned (it is woken with Package #0 signed with PROOF_GW_SECRET),
 * registers itself with ServerIDs srv1 (the server may then Replace its record's Mode) and
 * answers @count notified sessions; @port: its notification listener ("0": any) */
static GSubprocess *
proxy_device(Env *e, const gchar *id, guint count, const gchar *port, const gchar *record)
{
	g_autofree gchar *server_arg =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *id_arg = g_strdup_printf("--dev-id=%s", id);
	g_autofree gchar *listen_arg = g_strdup_printf("--listen-notify=http://127.0.0.1:%s", port);
	g_autofree gchar *count_arg = g_strdup_printf("--count=%u", count);
	g_autofree gchar *record_arg = g_strdup_printf("--record=%s", record);
	g_autofree gchar *log = g_strdup_printf("%s-proxy.log", id);
	g_autofree gchar *tree =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "peers", "device-tree.xml", NULL);
	g_autofree gchar *tree_arg = g_strdup_printf("--tree=%s", tree);

	return proof_device_spawn(e,
	                          log,
	                          server_arg,
	                          id_arg,
	                          "--auth=md5",
	                          "--client-secret=" PROOF_DEV_SECRET,
	                          "--server-name=" PROOF_GW_ID,
	                          "--server-secret=" PROOF_GW_SECRET,
	                          "--server-id=" PROOF_GW_ID,
	                          "--register",
	                          "--mode=2",
	                          "--server-ids=" SERVER_ID,
	                          listen_arg,
	                          count_arg,
	                          record_arg,
	                          tree_arg,
	                          NULL);
}

/* the number of sessions in a device's record (0 before it wrote one) */
static guint
device_sessions(const gchar *record)
{
	g_autoptr(JsonParser) parser = NULL;
	if (!g_file_test(record, G_FILE_TEST_EXISTS))
		return 0;
	return json_array_get_length(record_sessions(record, &parser));
}

/*
 * GwMO-MOO-001 (the gateway chooses the operation mode), each step from the DM Server's own
 * session:
 *  - SupportedModes lists what works: "1,2" (no adapter plugin is loaded, so no 3);
 *  - Mode 3 is refused (406, nothing changes) for the gateway's default ./GwMO/Config/Mode and
 *    for a device's Mode, as it is over D-Bus (SetMode, SetNode, AddDevice: NotSupported);
 *  - a Mode change takes effect: dev-t, Proxy, is driven by a fan-out Get (200) and refused by
 *    the Transparent relay (X-GwMO-Target: 409, nothing forwarded); the server Replaces its Mode
 *    with 1; the next fan-out does not drive it (406: a Transparent device is the server's to
 *    manage) while dev-p, still Proxy, is driven (200) and refused by the relay; the relay now
 *    forwards the server's Package #0 to dev-t, which opens its session with the server.
 */
static void
test_modes(void)
{
	ProofConfig config = {.extra = "[fanout]\nsync-wait=120\n"};
	Env *e = proof_env_new(&config);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *record2 = g_build_filename(e->dir, "record2.json", NULL);
	g_autofree gchar *p_record = g_build_filename(e->dir, "dev-p.json", NULL);
	g_autofree gchar *tp_record = g_build_filename(e->dir, "dev-t-proxy.json", NULL);
	g_autofree gchar *tt_record = g_build_filename(e->dir, "dev-t-transparent.json", NULL);
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *port_t = g_strdup_printf("%u", gw_test_free_port());
	g_autofree gchar *rec_p = NULL;
	g_autofree gchar *rec_t = NULL;
	g_autofree gchar *job1 = NULL;
	g_autofree gchar *job2 = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *v = NULL;
	g_autoptr(GSubprocess) dev_p = NULL;
	g_autoptr(GSubprocess) dev_t = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) parser2 = NULL;
	const gchar *both[] = {"dev-t", "dev-p", NULL};
	JsonArray *sessions;
	JsonObject *s;
	const gchar *doc;

	/* over D-Bus, Mode 3 is refused the same way */
	{
		GVariantBuilder b;
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("dev-a"));
		g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(3));
		gw_test_assert_dbus_error(e->d,
		                          "AddDevice",
		                          g_variant_new("(a{sv})", &b),
		                          "org.gwmo.Gateway1.Error.NotSupported");
		gw_test_assert_dbus_error(
		    e->d,
		    "SetNode",
		    g_variant_new("(ssv)", "./GwMO/Config/Mode", "int", g_variant_new_int32(3)),
		    "org.gwmo.Gateway1.Error.NotSupported");
	}
	rec_p = proof_add_device(e->d, "dev-p", 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL);
	rec_t = proof_add_device(e->d, "dev-t", 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL);
	dev_p = proxy_device(e, "dev-p", 2, "0", p_record);
	dev_t = proxy_device(e, "dev-t", 1, port_t, tp_record);
	g_free(wait_notify_addr(e->d, "dev-p"));
	g_free(wait_notify_addr(e->d, "dev-t"));
	{
		g_autofree gchar *ids_uri = g_strdup_printf("%s/ServerIDs", rec_t);
		proof_wait_value(e->d, ids_uri, NULL);
	}

	job1 = job_commands("j1", both, NULL, "Get", "./DevInfo/DevId", NULL, "corr-1");
	job2 = job_commands("j2", both, NULL, "Get", "./DevInfo/DevId", NULL, "corr-2");
	script = g_strdup_printf(
	    "{\"sessions\":["
	    /* 1: what the gateway supports; Mode 3 refused; both devices Proxy and driven */
	    "{\"commands\":["
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Config/SupportedModes\"},"
	    "{\"cmd\":\"Replace\",\"uri\":\"./GwMO/Config/"
	    "Mode\",\"format\":\"int\",\"data\":\"3\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Config/Mode\"},"
	    "{\"cmd\":\"Replace\",\"uri\":\"%s/Mode\",\"format\":\"int\",\"data\":\"3\"},"
	    "%s]},"
	    /* 2: dev-t becomes Transparent; the next fan-out leaves it out */
	    "{\"commands\":["
	    "{\"cmd\":\"Replace\",\"uri\":\"%s/Mode\",\"format\":\"int\",\"data\":\"1\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"%s/Mode\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Summary/Transparent\"},"
	    "%s]}]}",
	    rec_t,
	    job1,
	    rec_t,
	    rec_t,
	    job2);
	server = server_start(e, script, record, CL_SECRET, "--sessions=2", NULL);

	proof_start_session(e->d);
	/* dev-t's Proxy process answered its one notified session; the relay still refuses it */
	g_assert_cmpint(proof_device_wait(dev_t), ==, 0);
	g_clear_object(&dev_t);
	{
		g_autoptr(GBytes) pkg0 = make_pkg0(SERVER_ID, SRV_SECRET, 0x0A01);
		g_assert_cmpuint(
		    notify(url, gw_cert, pkg0, GW_PKG0_CONTENT_TYPE, "dev-t"), ==, 409);
	}
	/* the same device, now waiting for its DM Server's notifications on the same address */
	{
		g_autofree gchar *listen_arg =
		    g_strdup_printf("--listen-notify=http://127.0.0.1:%s", port_t);
		g_autofree gchar *notified_arg = g_strdup_printf("--notified-server=%s", e->dm_url);
		g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", e->cert);
		g_autofree gchar *record_arg = g_strdup_printf("--record=%s", tt_record);
		dev_t = proof_device_spawn(e,
		                           "dev-t-transparent.log",
		                           "--dev-id=dev-t",
		                           /* never used: it does not register again */
		                           "--server=http://127.0.0.1:1/dm",
		                           "--auth=md5",
		                           "--client-secret=" PROOF_DEV_SECRET,
		                           "--server-name=" SERVER_ID,
		                           "--notify-secret=" SRV_SECRET,
		                           "--server-id=" SERVER_ID,
		                           listen_arg,
		                           notified_arg,
		                           ca_arg,
		                           "--count=1",
		                           record_arg,
		                           NULL);
	}
	proof_start_session(e->d);
	server_wait(server);
	g_clear_object(&server);
	g_assert_cmpint(proof_device_wait(dev_p), ==, 0);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	s = json_array_get_object_element(sessions, 0);
	g_assert_cmpstr(
	    proof_item_data(result_for(s, "Get", "./GwMO/Config/SupportedModes"), 0), ==, "1,2");
	g_assert_cmpint(status_of(s, "Replace", "./GwMO/Config/Mode"), ==, 406);
	g_assert_cmpstr(proof_item_data(result_for(s, "Get", "./GwMO/Config/Mode"), 0), ==, "2");
	{
		g_autofree gchar *mode_uri = g_strdup_printf("%s/Mode", rec_t);
		g_assert_cmpint(status_of(s, "Replace", mode_uri), ==, 406);
	}
	/* both Proxy: both driven */
	doc = proof_fanout_document(s, "corr-1");
	g_assert_true(proof_doc_device_status(doc, "dev-t", 200));
	g_assert_true(proof_doc_device_status(doc, "dev-p", 200));
	g_assert_true(record_executed(tp_record, "Get", "./DevInfo/DevId", NULL));

	s = json_array_get_object_element(sessions, 1);
	{
		g_autofree gchar *mode_uri = g_strdup_printf("%s/Mode", rec_t);
		g_assert_cmpint(status_of(s, "Replace", mode_uri), ==, 200);
		g_assert_cmpstr(proof_item_data(result_for(s, "Get", mode_uri), 0), ==, "1");
	}
	g_assert_cmpstr(
	    proof_item_data(result_for(s, "Get", "./GwMO/Inventory/Summary/Transparent"), 0),
	    ==,
	    "1");
	/* the Transparent device is not driven any more (406); the Proxy one is */
	doc = proof_fanout_document(s, "corr-2");
	g_assert_true(proof_doc_device_status(doc, "dev-t", 406));
	g_assert_true(proof_doc_device_status(doc, "dev-p", 200));
	g_assert_cmpuint(device_sessions(p_record), ==, 3);
	g_assert_cmpuint(device_sessions(tt_record), ==, 0);

	/* the relay is for Transparent devices only: dev-p is refused, nothing reaches it */
	{
		g_autoptr(GBytes) pkg0 = make_pkg0(SERVER_ID, SRV_SECRET, 0x0A02);
		g_assert_cmpuint(
		    notify(url, gw_cert, pkg0, GW_PKG0_CONTENT_TYPE, "dev-p"), ==, 409);
	}
	/* and says why (the first refusal at least: refusals may be rate-limited in the log) */
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "device dev-t is in mode 2, not Transparent"));
	/* and dev-t, Transparent now, gets its server's Package #0 and opens its session with it */
	{
		g_autofree gchar *notify_arg = g_strdup_printf("--notify=%s", url);
		g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", gw_cert);
		server = server_start(e,
		                      "{\"sessions\":[{\"commands\":["
		                      "{\"cmd\":\"Get\",\"uri\":\"./DevInfo/DevId\"}]}]}",
		                      record2,
		                      PROOF_DEV_SECRET,
		                      "--client-name=dev-t",
		                      "--sessions=1",
		                      notify_arg,
		                      "--notify-secret=" SRV_SECRET,
		                      "--notify-session=0A03",
		                      "--notify-target=dev-t",
		                      ca_arg,
		                      NULL);
		server_wait(server);
	}
	g_assert_cmpint(proof_device_wait(dev_t), ==, 0);
	sessions = record_sessions(record2, &parser2);
	s = proof_session_of(sessions, "dev-t", 0);
	g_assert_nonnull(s);
	g_assert_cmpstr(json_object_get_string_member(s, "session_id"), ==, "A03");
	g_assert_cmpstr(proof_item_data(result_for(s, "Get", "./DevInfo/DevId"), 0), ==, "dev-t");

	/* over D-Bus too: no Adaptation for an OMA DM device */
	{
		g_autofree gchar *obj =
		    g_strdup_printf("/org/gwmo/Gateway1/Devices/%s", strrchr(rec_p, '/') + 1);
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r = g_dbus_connection_call_sync(e->d->connection,
		                                                    "org.gwmo.Gateway1",
		                                                    obj,
		                                                    "org.gwmo.Gateway1.Device",
		                                                    "SetMode",
		                                                    g_variant_new("(u)", 3),
		                                                    NULL,
		                                                    G_DBUS_CALL_FLAGS_NONE,
		                                                    -1,
		                                                    NULL,
		                                                    &error);
		g_autofree gchar *name = NULL;
		g_assert_null(r);
		name = g_dbus_error_get_remote_error(error);
		g_assert_cmpstr(name, ==, "org.gwmo.Gateway1.Error.NotSupported");
	}
	v = get_value(e->d, "./GwMO/Config/Mode", NULL);
	g_assert_cmpstr(v, ==, "2");
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
}

/* a device of the inventory that opens one DM session with the gateway and exits */
static void
device_session(Env *e, const gchar *id)
{
	g_autofree gchar *server_arg =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *id_arg = g_strdup_printf("--dev-id=%s", id);
	g_autofree gchar *log = g_strdup_printf("%s.log", id);
	g_autoptr(GSubprocess) proc = proof_device_spawn(e,
	                                                 log,
	                                                 server_arg,
	                                                 id_arg,
	                                                 "--auth=md5",
	                                                 "--client-secret=" PROOF_DEV_SECRET,
	                                                 "--server-name=" PROOF_GW_ID,
	                                                 "--server-secret=" PROOF_GW_SECRET,
	                                                 "--server-id=" PROOF_GW_ID,
	                                                 "--notify-addr=udp://127.0.0.1:9",
	                                                 NULL);
	g_assert_cmpint(proof_device_wait(proc), ==, 0);
}

#define ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"
#define ALERT_FLAG "./GwMO/Config/Servers/srv1/InventoryAlert"

/*
 * GwMO-DI-005 (the DM Server configures whether it is told of newly registered devices): in
 * its own session the server Replaces its ./GwMO/Config/Servers/srv1/InventoryAlert with
 * false; dev-a then registers (provisioned, its own DM session) and nothing is queued for the
 * server, no session is opened. The server Replaces it with true; dev-b registers and the
 * gateway opens a session carrying dev-b's DeviceAttached. dev-a's is never sent.
 */
static void
test_inventory_alert(void)
{
	ProofConfig config = {.inventory_alerts = TRUE};
	Env *e = proof_env_new(&config);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *rec_a = NULL;
	g_autofree gchar *rec_b = NULL;
	g_autofree gchar *v = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	JsonObject *s;

	server = server_start(e,
	                      "{\"sessions\":["
	                      "{\"commands\":[{\"cmd\":\"Replace\",\"uri\":\"" ALERT_FLAG
	                      "\",\"format\":\"bool\",\"data\":\"false\"}]},"
	                      "{\"commands\":[{\"cmd\":\"Replace\",\"uri\":\"" ALERT_FLAG
	                      "\",\"format\":\"bool\",\"data\":\"true\"}]},"
	                      "{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"" ALERT_FLAG "\"}]}]}",
	                      record,
	                      CL_SECRET,
	                      "--sessions=3",
	                      NULL);
	proof_start_session(e->d);
	v = get_value(e->d, ALERT_FLAG, NULL);
	g_assert_cmpstr(v, ==, "false");
	g_clear_pointer(&v, g_free);
	/* off: a device registers, nothing is queued for the server */
	rec_a = proof_add_device(e->d, "dev-a", 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL);
	device_session(e, "dev-a");
	{
		g_autofree gchar *status_uri = g_strdup_printf("%s/Status", rec_a);
		proof_wait_value(e->d, status_uri, "Attached");
	}
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	/* on again: the next device is announced in a session the gateway opens */
	proof_start_session(e->d);
	v = get_value(e->d, ALERT_FLAG, NULL);
	g_assert_cmpstr(v, ==, "true");
	rec_b = proof_add_device(e->d, "dev-b", 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL);
	device_session(e, "dev-b");
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
	s = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s, "Replace", ALERT_FLAG), ==, 200);
	s = json_array_get_object_element(sessions, 1);
	g_assert_cmpint(status_of(s, "Replace", ALERT_FLAG), ==, 200);
	g_assert_null(session_alert(json_array_get_object_element(sessions, 0), ATTACHED));
	g_assert_null(session_alert(json_array_get_object_element(sessions, 1), ATTACHED));
	/* the third session is the gateway's, for dev-b */
	s = json_array_get_object_element(sessions, 2);
	g_assert_nonnull(session_alert(s, ATTACHED));
	g_assert_cmpuint(proof_count_alerts(sessions, ATTACHED, "dev-b"), >=, 1);
	g_assert_cmpuint(proof_count_alerts(sessions, ATTACHED, "dev-a"), ==, 0);
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
}

/* the value of property @name of the D-Bus object @path (@iface), NULL when it has none */
static GVariant *
dbus_property(GwTestDaemon *d, const gchar *path, const gchar *iface, const gchar *name)
{
	g_autoptr(GVariant) reply = NULL;
	GVariant *value = NULL;

	reply = g_dbus_connection_call_sync(d->connection,
	                                    "org.gwmo.Gateway1",
	                                    path,
	                                    "org.freedesktop.DBus.Properties",
	                                    "Get",
	                                    g_variant_new("(ss)", iface, name),
	                                    G_VARIANT_TYPE("(v)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    -1,
	                                    NULL,
	                                    NULL);
	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(v)", &value);
	return value;
}

#define GROUP_IFACE "org.gwmo.Gateway1.Group"

/* waits (30 s) until Group object @path shows @description and @members ("a,b"), or, with
 * @description NULL, until it is gone */
static void
wait_group_object(GwTestDaemon *d,
                  const gchar *path,
                  const gchar *description,
                  const gchar *members)
{
	g_autofree gchar *seen = NULL;

	for (guint i = 0; i < 600; i++) {
		g_autoptr(GVariant) desc = dbus_property(d, path, GROUP_IFACE, "Description");
		g_autoptr(GVariant) mem = dbus_property(d, path, GROUP_IFACE, "Members");
		g_autofree const gchar **list = mem != NULL ? g_variant_get_strv(mem, NULL) : NULL;
		g_autofree gchar *joined = list != NULL ? g_strjoinv(",", (gchar **)list) : NULL;

		g_free(seen);
		seen = g_strdup_printf("%s [%s]",
		                       desc != NULL ? g_variant_get_string(desc, NULL) : "(none)",
		                       joined != NULL ? joined : "");
		if (description == NULL && desc == NULL)
			return;
		if (description != NULL && desc != NULL &&
		    g_strcmp0(g_variant_get_string(desc, NULL), description) == 0 &&
		    g_strcmp0(joined, members) == 0)
			return;
		g_usleep(50 * 1000);
	}
	g_printerr(
	    "group object %s never was %s [%s]; last %s\n", path, description, members, seen);
	g_assert_not_reached();
}

/*
 * GwMO-Group-001 (the DM Server manages device groups on the gateway), in its own sessions:
 * it Adds group "lamps" (GroupID, Description, Members g1 and g2), Replaces its Description
 * and the second member (g2 becomes g3), Adds and Deletes a group "tmp". The D-Bus Group
 * objects follow (lamps: "new", [g1, g3]; no tmp). A fan-out to the group reaches exactly the
 * new members: g1 and g3 answer, g2 is not driven. The server Deletes lamps: its object goes.
 */
static void
test_groups(void)
{
	ProofConfig config = {.extra = "[fanout]\nsync-wait=120\n"};
	Env *e = proof_env_new(&config);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *job = NULL;
	g_autofree gchar *script = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	GSubprocess *devs[3];
	gchar *records[3];
	const gchar *ids[] = {"g1", "g2", "g3"};
	JsonArray *sessions;
	JsonObject *s;
	const gchar *doc;

	for (guint i = 0; i < 3; i++) {
		g_autofree gchar *name = g_strdup_printf("%s.json", ids[i]);
		g_free(proof_add_device(e->d, ids[i], 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL));
		records[i] = g_build_filename(e->dir, name, NULL);
		devs[i] = proxy_device(e, ids[i], 1, "0", records[i]);
	}
	for (guint i = 0; i < 3; i++)
		g_free(wait_notify_addr(e->d, ids[i]));

#define GRP "./GwMO/Inventory/Groups/"
	job = job_commands("jg", NULL, "lamps", "Get", "./DevInfo/DevId", NULL, "corr-g");
	script = g_strdup_printf(
	    "{\"sessions\":["
	    "{\"commands\":["
	    "{\"cmd\":\"Add\",\"uri\":\"" GRP "lamps\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"" GRP "lamps/GroupID\",\"data\":\"lamps\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"" GRP "lamps/Description\",\"data\":\"old\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"" GRP "lamps/Members/1\",\"data\":\"g1\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"" GRP "lamps/Members/2\",\"data\":\"g2\"},"
	    "{\"cmd\":\"Replace\",\"uri\":\"" GRP "lamps/Description\",\"data\":\"new\"},"
	    "{\"cmd\":\"Replace\",\"uri\":\"" GRP "lamps/Members/2\",\"data\":\"g3\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"" GRP "tmp\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"" GRP "tmp/GroupID\",\"data\":\"tmp\"},"
	    "{\"cmd\":\"Delete\",\"uri\":\"" GRP "tmp\"}]},"
	    "{\"commands\":[%s]},"
	    "{\"commands\":[{\"cmd\":\"Delete\",\"uri\":\"" GRP "lamps\"}]}]}",
	    job);
	server = server_start(e, script, record, CL_SECRET, "--sessions=3", NULL);

	proof_start_session(e->d);
	wait_group_object(e->d, "/org/gwmo/Gateway1/Groups/lamps", "new", "g1,g3");
	wait_group_object(e->d, "/org/gwmo/Gateway1/Groups/tmp", NULL, NULL);
	proof_start_session(e->d);
	proof_start_session(e->d);
	server_wait(server);
	wait_group_object(e->d, "/org/gwmo/Gateway1/Groups/lamps", NULL, NULL);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
	s = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s, "Add", GRP "lamps"), ==, 200);
	g_assert_cmpint(status_of(s, "Replace", GRP "lamps/Description"), ==, 200);
	g_assert_cmpint(status_of(s, "Replace", GRP "lamps/Members/2"), ==, 200);
	g_assert_cmpint(status_of(s, "Delete", GRP "tmp"), ==, 200);
	/* the fan-out to the group: exactly its members now */
	s = json_array_get_object_element(sessions, 1);
	doc = proof_fanout_document(s, "corr-g");
	g_assert_nonnull(strstr(doc, "total=\"2\" succeeded=\"2\" failed=\"0\""));
	g_assert_true(proof_doc_device_status(doc, "g1", 200));
	g_assert_true(proof_doc_device_status(doc, "g3", 200));
	g_assert_null(strstr(doc, "\"g2\""));
	s = json_array_get_object_element(sessions, 2);
	g_assert_cmpint(status_of(s, "Delete", GRP "lamps"), ==, 200);
#undef GRP
	/* g1 and g3 ran their notified session; g2 had only its registration */
	g_assert_cmpint(proof_device_wait(devs[0]), ==, 0);
	g_assert_cmpint(proof_device_wait(devs[2]), ==, 0);
	g_assert_true(record_executed(records[0], "Get", "./DevInfo/DevId", NULL));
	g_assert_true(record_executed(records[2], "Get", "./DevInfo/DevId", NULL));
	g_assert_nonnull(g_subprocess_get_identifier(devs[1]));
	g_assert_cmpuint(device_sessions(records[1]), ==, 1);
	for (guint i = 0; i < 3; i++) {
		proof_device_stop(devs[i]);
		g_object_unref(devs[i]);
		g_free(records[i]);
	}
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device\n",
		           argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	g_test_add_func("/gw/e2e/proofs/hmac", test_hmac);
	g_test_add_func("/gw/e2e/proofs/session-schedule", test_session_schedule);
	g_test_add_func("/gw/e2e/proofs/transparent-direct", test_transparent_direct);
	g_test_add_func("/gw/e2e/proofs/modes", test_modes);
	g_test_add_func("/gw/e2e/proofs/inventory-alert", test_inventory_alert);
	g_test_add_func("/gw/e2e/proofs/groups", test_groups);
	return g_test_run();
}
