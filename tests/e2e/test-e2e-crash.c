/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Crash safety of the real gwmod (issue 16 §2, "Crash"): SIGKILL at random moments of a mixed
 * load, then restart on the same state dir.
 *  - alert-resend-once: an alert whose acknowledgement a crash lost is sent again and the
 *    reference DM Server recognises it by the identity in its EMI: accepted once, the resend
 *    suppressed (deterministic: the state a crash in that window leaves is made by putting
 *    back the alert queue as it was stored before the acknowledgement);
 *  - pending-alerts-follow-queue: the Manager's PendingAlerts is signalled when an alert is
 *    queued and when it is acknowledged, while the session carrying it is still running;
 *  - soak: KILLS rounds (GWMO_CRASH_KILLS, default 8; the benchmark crash-soak runs 100) of a
 *    mixed load — D-Bus SetNode, CreateGroup, AddDevice and Fanout, End Devices registering
 *    (each a DeviceAttached alert), DM Server sessions that Add a Fanout job and Exec its Start
 *    (each a FanoutComplete alert), sessions the gateway opens for its alerts — with gwmod
 *    SIGKILLed after a random delay (GWMO_CRASH_SEED, printed) and restarted. After every
 *    restart: every acknowledged change and every created job is there. At the end: every job
 *    finished, every alert owed reached the server, none twice as the server sees it.
 * Acknowledged means: a D-Bus method reply, a registering device's 200 (it exits 0), a Status
 * 200 the DM Server received for its command.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "gw-crypto.h"
#include "gw-dm-tree.h"
#include "gw-e2e.h"
#include "gw-tnds.h"
#include "gw-upstream.h"

#define ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"
#define FANOUT_COMPLETE "urn:oma:at:gwmo:1.0:FanoutComplete"
#define GW_NAME "org.gwmo.Gateway1"
#define GW_PATH "/org/gwmo/Gateway1"
#define GW_IFACE "org.gwmo.Gateway1.Manager"
#define GATEWAY_ID "GW-TEST-0001"
/* the provisioned device the jobs target: it never connects, so they fail (Timeout) */
#define JOB_DEVICE "ad-fixed"
#define JOB_TIMEOUT_S 1
#define IMAGE_IFACE "org.gwmo.Gateway1.Image"
#define IMAGE_SIZE (1024 * 1024)

/* ---- set-up (as in test-e2e-inventory.c) ---- */

typedef struct {
	gchar *dir;
	gchar *cert;
	gchar *key;
	guint16 port;       /* the DM Server's */
	guint16 south_port; /* the gateway's southbound listener */
	GwTestDaemon *d;
	GSubprocess *server;
	gchar *record;
	gchar *server_log;
} World;

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		rm_rf(child);
	}
	g_remove(path);
}

static gchar *
account_tnds(guint16 port)
{
	return g_strdup_printf(
	    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>srv1</NodeName><Path>./DMAcc</Path>"
	    "<RTProperties><ACL>Get=%s&amp;Replace=%s</ACL><Format><node/></Format></"
	    "RTProperties>"
	    "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"
	    "<Node><NodeName>ServerID</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	    "<Node><NodeName>Addr</NodeName><Value>https://127.0.0.1:%u/dm</Value></Node>"
	    "<Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
	    "<Node><NodeName>AppAuth</NodeName>"
	    "<Node><NodeName>1</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format></"
	    "RTProperties><DFProperties><AccessType><Replace/></AccessType></DFProperties>"
	    "<Value>%s</Value></Node></Node>"
	    "<Node><NodeName>2</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format></"
	    "RTProperties><DFProperties><AccessType><Replace/></AccessType></DFProperties>"
	    "<Value>%s</Value></Node></Node></Node></Node></MgmtTree>",
	    SERVER_ID,
	    SERVER_ID,
	    SERVER_ID,
	    port,
	    CL_NAME,
	    CL_SECRET,
	    SERVER_ID,
	    SRV_SECRET);
}

/* a gwmod bootstrapped to the DM Server at w->port, open registration on its southbound;
 * @timeout_s: its [northbound] timeout (one HTTP exchange with the DM Server) */
static World *
world_new_full(guint timeout_s)
{
	World *w = g_new0(World, 1);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *tnds = NULL;
	g_autofree gchar *tnds_path = NULL;
	const gchar *args[3] = {"--bootstrap", NULL, NULL};

	w->dir = g_dir_make_tmp("gwmo-e2e-crash-XXXXXX", &error);
	g_assert_no_error(error);
	w->cert = g_build_filename(w->dir, "server.crt", NULL);
	w->key = g_build_filename(w->dir, "server.key", NULL);
	g_assert_true(gw_crypto_generate_self_signed(w->cert,
	                                             w->key,
	                                             "dm-server",
	                                             NULL,
	                                             (const gchar *const[]){"127.0.0.1", NULL},
	                                             2,
	                                             &error));
	g_assert_no_error(error);
	w->port = free_port();
	w->south_port = free_port();
	w->record = g_build_filename(w->dir, "server.record.json", NULL);
	w->server_log = g_build_filename(w->dir, "server.log", NULL);
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\nopen-registration=true\n"
	                       "[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\n"
	                       "timeout=%u\nalert-retry-interval=1\n"
	                       /* the Exec of a job's Start is answered at once (202): the
	                        * server's sessions stay short, the result comes as an alert */
	                       "[fanout]\nsync-wait=0\n",
	                       w->south_port,
	                       w->cert,
	                       timeout_s);
	w->d = gw_test_daemon_new_with_dev_id(GATEWAY_ID, conf);
	tnds = account_tnds(w->port);
	tnds_path = g_build_filename(w->dir, "bootstrap.xml", NULL);
	g_assert_true(g_file_set_contents(tnds_path, tnds, -1, NULL));
	args[1] = tnds_path;
	gw_test_daemon_start(w->d, args);
	return w;
}

static World *
world_new(void)
{
	return world_new_full(20);
}

/* the reference DM Server, running until server_stop(); its record is rewritten after each
 * session and on exit */
static void
server_start_with(World *w, const gchar *script)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ready = g_build_filename(w->dir, "server.ready", NULL);
	g_autofree gchar *script_path = g_build_filename(w->dir, "server.script.json", NULL);

	g_remove(ready);
	g_remove(w->record);
	g_assert_true(g_file_set_contents(script_path, script, -1, NULL));
	g_ptr_array_add(argv, g_strdup(server_binary));
	g_ptr_array_add(argv, g_strdup_printf("--listen=https://127.0.0.1:%u", w->port));
	g_ptr_array_add(argv, g_strdup_printf("--cert=%s", w->cert));
	g_ptr_array_add(argv, g_strdup_printf("--key=%s", w->key));
	g_ptr_array_add(argv, g_strdup("--server-id=" SERVER_ID));
	g_ptr_array_add(argv, g_strdup("--server-name=" SERVER_ID));
	g_ptr_array_add(argv, g_strdup("--server-secret=" SRV_SECRET));
	g_ptr_array_add(argv, g_strdup("--client-name=" CL_NAME));
	g_ptr_array_add(argv, g_strdup("--client-secret=" CL_SECRET));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	/* a session whose gateway was killed fails soon and is recorded */
	g_ptr_array_add(argv, g_strdup("--session-timeout=5"));
	g_ptr_array_add(argv, g_strdup_printf("--script=%s", script_path));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", w->record));
	g_ptr_array_add(argv, g_strdup_printf("--ready-file=%s", ready));
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, w->server_log);
	w->server =
	    g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 600 && !g_file_test(ready, G_FILE_TEST_EXISTS); i++) {
		if (g_subprocess_get_identifier(w->server) == NULL)
			break;
		g_usleep(50 * 1000);
	}
	g_assert_true(g_file_test(ready, G_FILE_TEST_EXISTS));
}

/* SIGTERM: the server writes its record (every session, finished or not) on the way out */
static void
server_stop(World *w)
{
	if (w->server == NULL)
		return;
	if (g_subprocess_get_identifier(w->server) != NULL) {
		g_subprocess_send_signal(w->server, SIGTERM);
		g_subprocess_wait(w->server, NULL, NULL);
	}
	g_clear_object(&w->server);
}

static void
world_free(World *w)
{
	server_stop(w);
	gw_test_daemon_free(w->d);
	if (g_getenv("GWMO_CRASH_KEEP") == NULL)
		rm_rf(w->dir);
	g_free(w->dir);
	g_free(w->cert);
	g_free(w->key);
	g_free(w->record);
	g_free(w->server_log);
	g_free(w);
}

/* a reference device registering itself (DeviceRegistration alert) for SERVER_ID's alerts;
 * it exits 0 once the gateway answered 200 */
static GSubprocess *
device_register(World *w, const gchar *id)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", w->dir, id);
	g_autofree gchar *server =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", w->south_port);
	g_autofree gchar *dev = g_strdup_printf("--dev-id=%s", id);
	GSubprocess *proc;

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawn(launcher,
	                                   &error,
	                                   device_binary,
	                                   server,
	                                   dev,
	                                   "--server-id=" GATEWAY_ID,
	                                   "--register",
	                                   "--mode=1",
	                                   "--server-ids=" SERVER_ID,
	                                   "--notify-addr=udp://127.0.0.1:9",
	                                   NULL);
	g_assert_no_error(error);
	return proc;
}

static gchar *
add_device_sync(GwTestDaemon *d, const gchar *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder b;
	gchar *path = NULL;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(2));
	g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string("s3cret"));
	reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &path);
	return path;
}

/* ---- what the server saw ---- */

typedef struct {
	gchar *type;
	gchar *source;
	gchar *data;
	gchar *emi;
	gboolean duplicate; /* suppressed by the server as a resend */
} Seen;

static void
seen_free(gpointer p)
{
	Seen *s = p;
	g_free(s->type);
	g_free(s->source);
	g_free(s->data);
	g_free(s->emi);
	g_free(s);
}

/* the sessions of the server's record, NULL while it has none (no session ended yet) */
static JsonArray *
load_sessions(const gchar *record, JsonParser **parser_out)
{
	JsonParser *parser = json_parser_new();
	JsonNode *root;

	*parser_out = parser;
	if (!json_parser_load_from_file(parser, record, NULL))
		return NULL;
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
		return NULL;
	return json_object_get_array_member(json_node_get_object(root), "sessions");
}

/* (element-type Seen): every Generic Alert in the record, in order; NULL when unreadable */
static GPtrArray *
seen_alerts(const gchar *record)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions = load_sessions(record, &parser);
	GPtrArray *out;

	if (sessions == NULL)
		return NULL;
	out = g_ptr_array_new_with_free_func(seen_free);
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		JsonArray *alerts = json_object_get_array_member(s, "generic_alerts");
		for (guint j = 0; alerts != NULL && j < json_array_get_length(alerts); j++) {
			JsonObject *o = json_array_get_object_element(alerts, j);
			Seen *a = g_new0(Seen, 1);
			a->type =
			    g_strdup(json_object_get_string_member_with_default(o, "type", ""));
			a->source =
			    g_strdup(json_object_get_string_member_with_default(o, "source", ""));
			a->data =
			    g_strdup(json_object_get_string_member_with_default(o, "data", ""));
			a->emi =
			    g_strdup(json_object_get_string_member_with_default(o, "emi", NULL));
			a->duplicate =
			    json_object_get_boolean_member_with_default(o, "duplicate", FALSE);
			g_ptr_array_add(out, a);
		}
	}
	return out;
}

static guint
count_seen(GPtrArray *seen, gboolean duplicate)
{
	guint n = 0;
	for (guint i = 0; seen != NULL && i < seen->len; i++)
		n += ((Seen *)g_ptr_array_index(seen, i))->duplicate == duplicate;
	return n;
}

static guint
record_alert_count(const gchar *record)
{
	g_autoptr(GPtrArray) seen = seen_alerts(record);
	return seen != NULL ? seen->len : 0;
}

typedef struct {
	World *w;
	guint n;
} AlertsWait;

static gboolean
alerts_recorded(gpointer data)
{
	AlertsWait *aw = data;
	return record_alert_count(aw->w->record) >= aw->n && pending_alerts(aw->w->d) == 0;
}

static gboolean
one_pending(gpointer data)
{
	return pending_alerts(data) == 1;
}

/*
 * An alert the server acknowledged, whose acknowledgement a crash lost before it was stored:
 * the restarted gateway sends it again with the same identity, and the server accepts it once
 * and suppresses the resend. On main the alert carried no identity and the server accepted it
 * twice.
 */
static void
test_alert_resend_once(void)
{
	World *w = world_new();
	g_autofree gchar *queue = g_build_filename(w->d->state_dir, "alerts.json", NULL);
	g_autofree gchar *before = NULL;
	g_autoptr(GSubprocess) dev = NULL;
	g_autoptr(GPtrArray) seen = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	AlertsWait aw = {w, 1};
	Seen *first;
	Seen *second;

	/* the server is down: the DeviceAttached alert stays queued */
	dev = device_register(w, "reg-once");
	g_assert_true(g_subprocess_wait_check(dev, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(e2e_wait(one_pending, w->d, 30));
	/* the queue as stored before the server's acknowledgement */
	g_assert_true(g_file_get_contents(queue, &before, &len, &error));
	g_assert_no_error(error);

	server_start_with(w, "{\"sessions\":[]}");
	e2e_start_session_with(w->d, SERVER_ID);
	g_assert_true(e2e_wait(alerts_recorded, &aw, 60));

	/* the crash between the server's Status and the stored acknowledgement */
	gw_test_daemon_kill(w->d);
	g_assert_true(g_file_set_contents(queue, before, (gssize)len, &error));
	g_assert_no_error(error);
	gw_test_daemon_start(w->d, NULL);
	aw.n = 2;
	g_assert_true(e2e_wait(alerts_recorded, &aw, 60));
	server_stop(w);

	seen = seen_alerts(w->record);
	g_assert_cmpuint(seen->len, ==, 2);
	first = g_ptr_array_index(seen, 0);
	second = g_ptr_array_index(seen, 1);
	g_assert_cmpstr(first->type, ==, ATTACHED);
	g_assert_cmpstr(second->type, ==, ATTACHED);
	/* the same alert sent twice */
	g_assert_cmpstr(first->source, ==, second->source);
	g_assert_cmpstr(first->data, ==, second->data);
	/* exactly once as the server sees it: accepted, then suppressed by its identity */
	g_assert_cmpuint(count_seen(seen, FALSE), ==, 1);
	g_assert_false(first->duplicate);
	g_assert_true(second->duplicate);
	g_assert_nonnull(first->emi);
	g_assert_true(g_str_has_prefix(first->emi, "gwmo-alert:"));
	g_assert_cmpstr(first->emi, ==, second->emi);

	gw_test_daemon_stop(w->d);
	world_free(w);
}

/* ---- the Manager's PendingAlerts follows the alert queue ---- */

typedef struct {
	GArray *values; /* guint: each PendingAlerts a PropertiesChanged carried, in order */
	guint want;
} PendingWatch;

static void
pending_changed_cb(GDBusConnection *connection,
                   const gchar *sender,
                   const gchar *path,
                   const gchar *iface,
                   const gchar *signal,
                   GVariant *params,
                   gpointer user_data)
{
	PendingWatch *pw = user_data;
	g_autoptr(GVariant) changed = NULL;
	const gchar *name = NULL;
	guint v;

	g_variant_get(params, "(&s@a{sv}@as)", &name, &changed, NULL);
	if (g_strcmp0(name, GW_IFACE) == 0 && g_variant_lookup(changed, "PendingAlerts", "u", &v))
		g_array_append_val(pw->values, v);
}

/* the last PendingAlerts signalled is pw->want */
static gboolean
pending_signalled(gpointer data)
{
	PendingWatch *pw = data;
	return pw->values->len > 0 &&
	       g_array_index(pw->values, guint, pw->values->len - 1) == pw->want;
}

/*
 * PendingAlerts is signalled when an alert is queued and when the server's acknowledgement
 * takes it off, not only when a session ends. The alert comes from a path a real client uses
 * (an End Device registering: DeviceAttached), while the DM Server is stopped (SIGSTOP) and
 * the gateway waits up to an hour for it: no session can end, so on main PendingAlerts stayed
 * 0 and the wait for 1 failed. Then the server runs again, the session delivers the alert and
 * PendingAlerts drops back to 0.
 */
static void
test_pending_alerts_follow_queue(void)
{
	World *w = world_new_full(3600);
	PendingWatch pw = {g_array_new(FALSE, FALSE, sizeof(guint)), 1};
	g_autoptr(GSubprocess) dev = NULL;
	g_autoptr(GPtrArray) seen = NULL;
	g_autoptr(GError) error = NULL;
	guint sub;

	sub = g_dbus_connection_signal_subscribe(w->d->connection,
	                                         NULL,
	                                         "org.freedesktop.DBus.Properties",
	                                         "PropertiesChanged",
	                                         GW_PATH,
	                                         GW_IFACE,
	                                         G_DBUS_SIGNAL_FLAGS_NONE,
	                                         pending_changed_cb,
	                                         &pw,
	                                         NULL);
	g_assert_cmpuint(pending_alerts(w->d), ==, 0);
	/* the server accepts connections and answers nothing until SIGCONT */
	server_start_with(w, "{\"sessions\":[]}");
	g_subprocess_send_signal(w->server, SIGSTOP);

	dev = device_register(w, "reg-pending");
	g_assert_true(g_subprocess_wait_check(dev, NULL, &error));
	g_assert_no_error(error);
	if (!e2e_wait(pending_signalled, &pw, 60)) {
		g_subprocess_send_signal(w->server, SIGCONT);
		g_error("no PropertiesChanged with PendingAlerts 1 while the alert's session was "
		        "still running (%u signalled)",
		        pw.values->len);
	}
	g_assert_cmpuint(pending_alerts(w->d), ==, 1);

	/* the server answers: the alert is delivered and acknowledged */
	g_subprocess_send_signal(w->server, SIGCONT);
	pw.want = 0;
	g_assert_true(e2e_wait(pending_signalled, &pw, 60));
	g_assert_cmpuint(pending_alerts(w->d), ==, 0);
	server_stop(w);
	seen = seen_alerts(w->record);
	g_assert_nonnull(seen);
	g_assert_cmpuint(seen->len, ==, 1);
	g_assert_cmpstr(((Seen *)g_ptr_array_index(seen, 0))->type, ==, ATTACHED);

	g_dbus_connection_signal_unsubscribe(w->d->connection, sub);
	g_array_unref(pw.values);
	gw_test_daemon_stop(w->d);
	world_free(w);
}

/* ---- the soak ---- */

typedef struct {
	World *w;
	GRand *rand;
	guint round;
	gboolean killing; /* no new operation once the kill is decided */
	guint in_flight;
	guint seq;
	/* acknowledged */
	GHashTable *set_nodes;  /* uri → value */
	GHashTable *groups;     /* GroupID */
	GHashTable *devices;    /* DeviceID (AddDevice) */
	GHashTable *registered; /* DeviceID (registration answered 200) */
	GHashTable *jobs;       /* ./GwMO/Fanout/<x> created over D-Bus */
	GHashTable *images;     /* ./GwMO/Images/<x> added (AddImage) */
	GHashTable *downloads;  /* ./GwMO/Images/<x> whose Download() was answered */
	GwUpstream *upstream;
	gchar *image_hash;
	guint dbus_acked;
	guint dbus_failed;
	guint reg_started;
	guint sessions_asked;
	gdouble kill_delay_total;
} Soak;

typedef enum {
	OP_SET_NODE,
	OP_CREATE_GROUP,
	OP_ADD_DEVICE,
	OP_FANOUT,
	OP_SESSION,
	OP_ADD_IMAGE,
	OP_DOWNLOAD,
} OpKind;

typedef struct {
	Soak *soak;
	OpKind kind;
	gchar *key;
	gchar *value;
} Op;

static void
op_free(Op *op)
{
	g_free(op->key);
	g_free(op->value);
	g_free(op);
}

static void
soak_issue(Soak *s);
static void
soak_call_at(Soak *s,
             OpKind kind,
             const gchar *path,
             const gchar *iface,
             const gchar *method,
             GVariant *params,
             const gchar *reply_type,
             gchar *key,
             gchar *value);

static gchar *
image_entry(const gchar *path)
{
	return g_strdup_printf("./GwMO/Images/%s", strrchr(path, '/') + 1);
}

static void
op_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Op *op = user_data;
	Soak *s = op->soak;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);

	s->in_flight--;
	if (reply != NULL) {
		s->dbus_acked++;
		switch (op->kind) {
		case OP_SET_NODE: {
			/* the newest acknowledged value of the node */
			const gchar *had = g_hash_table_lookup(s->set_nodes, op->key);
			if (had == NULL || atoi(had + 1) < atoi(op->value + 1))
				g_hash_table_insert(
				    s->set_nodes, g_strdup(op->key), g_strdup(op->value));
			break;
		}
		case OP_CREATE_GROUP:
			g_hash_table_add(s->groups, g_strdup(op->key));
			break;
		case OP_ADD_DEVICE:
			g_hash_table_add(s->devices, g_strdup(op->key));
			break;
		case OP_FANOUT: {
			const gchar *path = NULL;
			g_variant_get(reply, "(&o)", &path);
			g_hash_table_add(
			    s->jobs, g_strdup_printf("./GwMO/Fanout/%s", strrchr(path, '/') + 1));
			break;
		}
		case OP_ADD_IMAGE: {
			const gchar *path = NULL;
			g_variant_get(reply, "(&o)", &path);
			g_hash_table_add(s->images, image_entry(path));
			/* and its download, unless the kill came */
			if (!s->killing)
				soak_call_at(s,
				             OP_DOWNLOAD,
				             path,
				             IMAGE_IFACE,
				             "Download",
				             NULL,
				             NULL,
				             image_entry(path),
				             NULL);
			break;
		}
		case OP_DOWNLOAD:
			g_hash_table_add(s->downloads, g_strdup(op->key));
			break;
		case OP_SESSION:
		default:
			break;
		}
	} else if (op->kind != OP_SESSION) {
		s->dbus_failed++;
	}
	op_free(op);
	soak_issue(s);
}

static void
soak_call_at(Soak *s,
             OpKind kind,
             const gchar *path,
             const gchar *iface,
             const gchar *method,
             GVariant *params,
             const gchar *reply_type,
             gchar *key,
             gchar *value)
{
	Op *op = g_new0(Op, 1);
	op->soak = s;
	op->kind = kind;
	op->key = key;
	op->value = value;
	s->in_flight++;
	g_dbus_connection_call(s->w->d->connection,
	                       GW_NAME,
	                       path,
	                       iface,
	                       method,
	                       params,
	                       reply_type != NULL ? G_VARIANT_TYPE(reply_type) : NULL,
	                       G_DBUS_CALL_FLAGS_NO_AUTO_START,
	                       60000,
	                       NULL,
	                       op_done_cb,
	                       op);
}

static void
soak_call(Soak *s,
          OpKind kind,
          const gchar *method,
          GVariant *params,
          const gchar *reply_type,
          gchar *key,
          gchar *value)
{
	soak_call_at(s, kind, GW_PATH, GW_IFACE, method, params, reply_type, key, value);
}

typedef struct {
	Soak *soak;
	gchar *id;
} Reg;

static void
reg_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Reg *r = user_data;
	Soak *s = r->soak;
	GSubprocess *proc = G_SUBPROCESS(source);

	if (g_subprocess_wait_finish(proc, res, NULL) && g_subprocess_get_if_exited(proc) &&
	    g_subprocess_get_exit_status(proc) == 0)
		g_hash_table_add(s->registered, g_strdup(r->id));
	s->in_flight--;
	g_object_unref(proc);
	g_free(r->id);
	g_free(r);
	soak_issue(s);
}

/* keeps the load going: a few D-Bus calls, registrations and sessions in flight at a time */
static void
soak_issue(Soak *s)
{
	while (!s->killing && s->in_flight < 6) {
		guint n = ++s->seq;
		guint pick = g_rand_int_range(s->rand, 0, 100);

		if (pick < 25) {
			gchar *uri = g_strdup_printf("./GwMO/Config/Ext/k%u", n % 50);
			gchar *value = g_strdup_printf("v%u", n);
			soak_call(s,
			          OP_SET_NODE,
			          "SetNode",
			          g_variant_new("(ssv)", uri, "chr", g_variant_new_string(value)),
			          "()",
			          uri,
			          value);
		} else if (pick < 40) {
			gchar *id = g_strdup_printf("cg-%u", n);
			soak_call(s,
			          OP_CREATE_GROUP,
			          "CreateGroup",
			          g_variant_new("(ss)", id, "crash soak"),
			          "(o)",
			          id,
			          NULL);
		} else if (pick < 55) {
			gchar *id = g_strdup_printf("ad-%u", n);
			GVariantBuilder b;
			g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
			g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
			g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(2));
			g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(id));
			g_variant_builder_add(
			    &b, "{sv}", "ClientSecret", g_variant_new_string("x"));
			soak_call(s,
			          OP_ADD_DEVICE,
			          "AddDevice",
			          g_variant_new("(a{sv})", &b),
			          "(o)",
			          id,
			          NULL);
		} else if (pick < 65) {
			const gchar *devices[] = {JOB_DEVICE, NULL};
			GVariantBuilder b;
			g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
			g_variant_builder_add(
			    &b, "{sv}", "Devices", g_variant_new_strv(devices, -1));
			g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Get"));
			g_variant_builder_add(
			    &b, "{sv}", "TargetURI", g_variant_new_string("./DevInfo/Mod"));
			g_variant_builder_add(
			    &b, "{sv}", "Timeout", g_variant_new_uint32(JOB_TIMEOUT_S));
			soak_call(s,
			          OP_FANOUT,
			          "Fanout",
			          g_variant_new("(a{sv})", &b),
			          "(o)",
			          NULL,
			          NULL);
		} else if (pick < 72) {
			/* the DM Server's next script session: a Fanout job Added and Started */
			s->sessions_asked++;
			soak_call(s,
			          OP_SESSION,
			          "StartSession",
			          g_variant_new("(s)", SERVER_ID),
			          NULL,
			          NULL,
			          NULL);
		} else if (pick < 80) {
			/* an image from the upstream source, then its download (cut by a kill or
			 * not: it resumes after the restart) */
			gchar *name = g_strdup_printf("img-%u", n);
			GVariantBuilder b;
			g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
			g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(name));
			g_variant_builder_add(&b, "{sv}", "Version", g_variant_new_string("1.0"));
			g_variant_builder_add(&b, "{sv}", "Kind", g_variant_new_string("firmware"));
			g_variant_builder_add(
			    &b,
			    "{sv}",
			    "ExternalURI",
			    g_variant_new_string(gw_upstream_get_url(s->upstream)));
			g_variant_builder_add(
			    &b, "{sv}", "Hash", g_variant_new_string(s->image_hash));
			soak_call(s,
			          OP_ADD_IMAGE,
			          "AddImage",
			          g_variant_new("(a{sv})", &b),
			          "(o)",
			          name,
			          NULL);
		} else {
			Reg *r = g_new0(Reg, 1);
			GSubprocess *proc;
			r->soak = s;
			r->id = g_strdup_printf("reg-%u", n);
			proc = device_register(s->w, r->id);
			s->reg_started++;
			s->in_flight++;
			g_subprocess_wait_async(proc, NULL, reg_done_cb, r);
		}
	}
}

static gboolean
soak_kill_cb(gpointer user_data)
{
	Soak *s = user_data;
	s->killing = TRUE;
	gw_test_daemon_kill(s->w->d);
	return G_SOURCE_REMOVE;
}

static gboolean
soak_drained(gpointer user_data)
{
	Soak *s = user_data;
	return s->in_flight == 0;
}

/* the parts of the gateway's ./GwMO the checks read, as a tree of this process (an ExportTree
 * each, then local look-ups). Not the whole ./GwMO in one: after tens of rounds it is over the
 * 32 MiB a message on the test bus may hold, and gwmod refuses it (LimitsExceeded); the
 * devices come from the Device objects for the same reason */
static GwDmTree *
snapshot(GwTestDaemon *d)
{
	static const gchar *const parts[] = {
	    "./GwMO/Inventory/Groups", "./GwMO/Config", "./GwMO/Images", "./GwMO/Fanout"};
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();

	for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		const gchar *xml = NULL;

		reply = gw_test_call(d, "ExportTree", g_variant_new("(s)", parts[i]), "(s)", &error);
		g_assert_no_error(error);
		g_variant_get(reply, "(&s)", &xml);
		g_assert_true(gw_tnds_import(tree,
		                             ".",
		                             xml,
		                             strlen(xml),
		                             GW_TNDS_IMPORT_RESTORE | GW_TNDS_IMPORT_REPLACE,
		                             &error));
		g_assert_no_error(error);
	}
	return g_steal_pointer(&tree);
}

/* the DeviceIDs of the gateway's Device objects */
static GHashTable *
device_ids(GwTestDaemon *d)
{
	GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) objects = gw_test_managed_objects(d, "org.gwmo.Gateway1.Device");
	GHashTableIter iter;
	gpointer props;

	g_hash_table_iter_init(&iter, objects);
	while (g_hash_table_iter_next(&iter, NULL, &props)) {
		const gchar *id = NULL;
		if (g_variant_lookup(props, "DeviceID", "&s", &id))
			g_hash_table_add(out, g_strdup(id));
	}
	return out;
}

/* values of @leaf under every child of @parent in @tree */
static GHashTable *
child_values(GwDmTree *tree, const gchar *parent, const gchar *leaf)
{
	GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) names = gw_dm_tree_list_children(tree, parent);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *uri = g_strdup_printf("%s/%s/%s", parent, names[i], leaf);
		gchar *v = gw_dm_tree_dup_string(tree, uri);
		if (v != NULL)
			g_hash_table_add(out, v);
	}
	return out;
}

static gboolean
job_finished(GwDmTree *tree, const gchar *job)
{
	g_autofree gchar *uri = g_strdup_printf("%s/State", job);
	g_autofree gchar *state = gw_dm_tree_dup_string(tree, uri);
	return g_strcmp0(state, "Complete") == 0 || g_strcmp0(state, "PartialFailure") == 0 ||
	       g_strcmp0(state, "Cancelled") == 0;
}

typedef struct {
	guint acked;
	guint lost;
	guint jobs;
	guint jobs_lost;
	guint jobs_unfinished;
	guint images;
	guint images_lost;
	guint downloads;
	guint downloads_unfinished; /* Download() answered, the image not Available (yet) */
} Check;

/* every acknowledged change and every created job (D-Bus, and the DM Server's when @dm_jobs
 * is set) is in the gateway's tree; with @finished, every job also finished */
static void
soak_check(Soak *s, GHashTable *dm_jobs, gboolean finished, Check *c)
{
	g_autoptr(GwDmTree) tree = snapshot(s->w->d);
	g_autoptr(GHashTable) groups = child_values(tree, "./GwMO/Inventory/Groups", "GroupID");
	g_autoptr(GHashTable) devices = device_ids(s->w->d);
	GHashTableIter it;
	gpointer key, value;

	memset(c, 0, sizeof(*c));
	g_hash_table_iter_init(&it, s->set_nodes);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		g_autofree gchar *v = gw_dm_tree_dup_string(tree, key);
		c->acked++;
		/* a later SetNode of the same node may have been applied and not acknowledged
		 * (killed before its reply): any value written at or after the acknowledged one
		 * is right; a missing node or an older value is a loss */
		if (v == NULL || atoi(v + 1) < atoi((const gchar *)value + 1)) {
			g_printerr("LOST: SetNode %s = %s (now %s)\n",
			           (const gchar *)key,
			           (const gchar *)value,
			           v != NULL ? v : "absent");
			c->lost++;
		}
	}
	g_hash_table_iter_init(&it, s->groups);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		c->acked++;
		if (!g_hash_table_contains(groups, key)) {
			g_printerr("LOST: group %s\n", (const gchar *)key);
			c->lost++;
		}
	}
	g_hash_table_iter_init(&it, s->devices);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		c->acked++;
		if (!g_hash_table_contains(devices, key)) {
			g_printerr("LOST: AddDevice %s\n", (const gchar *)key);
			c->lost++;
		}
	}
	g_hash_table_iter_init(&it, s->registered);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		c->acked++;
		if (!g_hash_table_contains(devices, key)) {
			g_printerr("LOST: registration of %s\n", (const gchar *)key);
			c->lost++;
		}
	}
	g_hash_table_iter_init(&it, s->images);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		g_autofree gchar *uri = g_strdup_printf("%s/State", (gchar *)key);
		g_autofree gchar *state = gw_dm_tree_dup_string(tree, uri);
		c->images++;
		if (state == NULL) {
			g_printerr("LOST: image %s\n", (const gchar *)key);
			c->images_lost++;
		} else if (g_hash_table_contains(s->downloads, key)) {
			c->downloads++;
			/* a Download() answered is never forgotten: it resumes after a restart */
			if (g_strcmp0(state, "NotDownloaded") == 0) {
				g_printerr("LOST: download of %s\n", (const gchar *)key);
				c->images_lost++;
			} else if (finished && g_strcmp0(state, "Available") != 0) {
				c->downloads_unfinished++;
			}
		}
	}
	for (guint pass = 0; pass < 2; pass++) {
		GHashTable *jobs = pass == 0 ? s->jobs : dm_jobs;
		if (jobs == NULL)
			continue;
		g_hash_table_iter_init(&it, jobs);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			g_autofree gchar *state_uri = g_strdup_printf("%s/State", (gchar *)key);
			g_autofree gchar *state = gw_dm_tree_dup_string(tree, state_uri);
			c->jobs++;
			if (state == NULL) {
				g_printerr("LOST: job %s\n", (const gchar *)key);
				c->jobs_lost++;
			} else if (finished && !job_finished(tree, key)) {
				c->jobs_unfinished++;
			}
		}
	}
}

/* the DM Server's script: session i Adds job dj<i> and Execs its Start; sessions after the
 * last entry send nothing (the alerts' sessions must end the run) */
static gchar *
soak_script(guint sessions)
{
	GString *s = g_string_new("{\"sessions\":[");
	for (guint i = 0; i < sessions; i++) {
		g_autofree gchar *name = g_strdup_printf("dj%u", i);
		g_autofree gchar *target = e2e_fanout_device_target(name, 1, JOB_DEVICE);
		g_autofree gchar *cmds =
		    e2e_fanout_job(name, target, "Get", "./DevInfo/Mod", NULL, NULL, JOB_TIMEOUT_S);
		g_string_append_printf(s, "{\"commands\":[%s]},", cmds);
	}
	g_string_append(s, "{\"commands\":[]}]}");
	return g_string_free(s, FALSE);
}

/* the DM Server's acknowledged jobs: Add of ./GwMO/Fanout/dj<i> answered 200 (→ *@created),
 * and the Exec of its Start answered 200 or 202 (→ *@started: a FanoutComplete is owed) */
static void
dm_acked_jobs(const gchar *record, GHashTable *created, GHashTable *started)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions = load_sessions(record, &parser);

	for (guint i = 0; sessions != NULL && i < json_array_get_length(sessions); i++) {
		JsonObject *session = json_array_get_object_element(sessions, i);
		JsonArray *results = json_object_get_array_member(session, "results");
		for (guint j = 0; results != NULL && j < json_array_get_length(results); j++) {
			JsonObject *r = json_array_get_object_element(results, j);
			const gchar *cmd = json_object_get_string_member_with_default(r, "cmd", "");
			const gchar *uri = json_object_get_string_member_with_default(r, "uri", "");
			gint64 status = json_object_get_int_member_with_default(r, "status", 0);
			const gchar *tail;
			/* an Exec of Start is answered 202 when the job runs on (asynchronous) */
			if ((status != 200 && status != 202) ||
			    !g_str_has_prefix(uri, "./GwMO/Fanout/dj"))
				continue;
			tail = strchr(uri + strlen("./GwMO/Fanout/"), '/');
			if (g_strcmp0(cmd, "Add") == 0 && tail == NULL && status == 200)
				g_hash_table_add(created, g_strdup(uri));
			else if (g_strcmp0(cmd, "Exec") == 0 && tail != NULL &&
			         g_strcmp0(tail, "/Operations/Start") == 0)
				g_hash_table_add(started, g_strndup(uri, (gsize)(tail - uri)));
		}
	}
}

typedef struct {
	guint owed;
	guint delivered;
	guint missing;
	guint accepted_twice;
	guint suppressed;
	guint no_identity;
} Alerts;

/* the server's record against what is owed: a DeviceAttached for every registration answered
 * 200, a FanoutComplete for every job whose Start the server saw accepted; @report prints what
 * is wrong */
static void
account_alerts(Soak *s, GHashTable *started, gboolean report, Alerts *out)
{
	g_autoptr(GPtrArray) seen = seen_alerts(s->w->record);
	g_autoptr(GHashTable) accepted =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer key;

	memset(out, 0, sizeof(*out));
	for (guint i = 0; seen != NULL && i < seen->len; i++) {
		Seen *a = g_ptr_array_index(seen, i);
		g_autofree gchar *what = NULL;
		guint n;
		if (a->emi == NULL)
			out->no_identity++;
		if (a->duplicate) {
			out->suppressed++;
			continue;
		}
		out->delivered++;
		if (g_strcmp0(a->type, ATTACHED) == 0) {
			const gchar *p = strstr(a->data, "<DeviceID>");
			const gchar *e = p != NULL ? strstr(p, "</DeviceID>") : NULL;
			what = p != NULL && e != NULL
			           ? g_strdup_printf("%s|%.*s",
			                             a->type,
			                             (int)(e - p - strlen("<DeviceID>")),
			                             p + strlen("<DeviceID>"))
			           : g_strdup_printf("%s|%s", a->type, a->source);
		} else {
			what = g_strdup_printf("%s|%s", a->type, a->source);
		}
		n = GPOINTER_TO_UINT(g_hash_table_lookup(accepted, what));
		if (n > 0) {
			if (report)
				g_printerr("ACCEPTED TWICE: %s\n", what);
			out->accepted_twice++;
		}
		g_hash_table_insert(accepted, g_steal_pointer(&what), GUINT_TO_POINTER(n + 1));
	}
	for (guint pass = 0; pass < 2; pass++) {
		g_hash_table_iter_init(&it, pass == 0 ? s->registered : started);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			g_autofree gchar *what = g_strdup_printf(
			    "%s|%s", pass == 0 ? ATTACHED : FANOUT_COMPLETE, (gchar *)key);
			out->owed++;
			if (!g_hash_table_contains(accepted, what)) {
				if (report)
					g_printerr("MISSING: %s\n", what);
				out->missing++;
			}
		}
	}
}

typedef struct {
	Soak *soak;
	GHashTable *created;
	GHashTable *started;
	guint script_len;   /* sessions of the server's script that make a job */
	gint64 last_ask_us; /* the last StartSession asked to use the script up */
	guint stable;
} Quiet;

/* how many sessions the server's record holds, and whether one of them still runs */
static guint
record_session_count(const gchar *record, gboolean *active)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions = load_sessions(record, &parser);
	guint n = sessions != NULL ? json_array_get_length(sessions) : 0;

	*active = FALSE;
	for (guint i = 0; i < n; i++) {
		JsonObject *o = json_array_get_object_element(sessions, i);
		if (g_strcmp0(json_object_get_string_member_with_default(o, "state", ""),
		              "active") == 0)
			*active = TRUE;
	}
	return n;
}

/* no alert pending, every job finished (a FanoutComplete queued for each DM one) */
static gboolean
soak_quiet(gpointer user_data)
{
	Quiet *q = user_data;
	Check c;
	Alerts a;
	gboolean active = FALSE;
	guint sessions = record_session_count(q->soak->w->record, &active);

	/* every session of the script that makes a job has run (a session started later makes
	 * none, so no alert can be owed after this); sessions are asked for to use it up */
	if (active || sessions <= q->script_len) {
		if (!active && g_get_monotonic_time() - q->last_ask_us > G_USEC_PER_SEC / 4) {
			q->last_ask_us = g_get_monotonic_time();
			g_dbus_connection_call(q->soak->w->d->connection,
			                       GW_NAME,
			                       GW_PATH,
			                       GW_IFACE,
			                       "StartSession",
			                       g_variant_new("(s)", SERVER_ID),
			                       NULL,
			                       G_DBUS_CALL_FLAGS_NONE,
			                       -1,
			                       NULL,
			                       NULL,
			                       NULL);
		}
		q->stable = 0;
		return FALSE;
	}
	if (pending_alerts(q->soak->w->d) != 0) {
		q->stable = 0;
		return FALSE;
	}
	/* the jobs of sessions that ended since (one the kill cut short ends by its timeout) */
	dm_acked_jobs(q->soak->w->record, q->created, q->started);
	soak_check(q->soak, q->created, TRUE, &c);
	if (c.jobs_unfinished != 0 || c.downloads_unfinished != 0) {
		q->stable = 0;
		return FALSE;
	}
	/* every alert owed is in the record (PendingAlerts alone may lag behind a job that
	 * just finished) */
	account_alerts(q->soak, q->started, FALSE, &a);
	if (a.missing != 0) {
		q->stable = 0;
		return FALSE;
	}
	return ++q->stable >= 2;
}

static guint
env_uint(const gchar *name, guint fallback)
{
	const gchar *v = g_getenv(name);
	return v != NULL && *v != '\0' ? (guint)g_ascii_strtoull(v, NULL, 10) : fallback;
}

static gdouble
cpu_seconds(void)
{
	struct rusage self, children;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	return (gdouble)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec +
	                 children.ru_stime.tv_sec) +
	       (gdouble)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec +
	                 children.ru_stime.tv_usec) /
	           1e6;
}

static void
test_soak(void)
{
	guint kills = env_uint("GWMO_CRASH_KILLS", 8);
	guint seed = env_uint("GWMO_CRASH_SEED", (guint)(g_get_real_time() % 1000000));
	guint max_delay_ms = env_uint("GWMO_CRASH_MAX_DELAY_MS", 1500);
	gint64 t0 = g_get_monotonic_time();
	gdouble cpu0 = cpu_seconds();
	World *w = world_new();
	Soak s = {0};
	guint script_len = kills * 2 + 2;
	g_autofree gchar *script = soak_script(script_len);
	g_autofree gchar *fixed = NULL;
	g_autoptr(GHashTable) created =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) started =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	Quiet q = {0};
	Check c = {0};
	Alerts al = {0};
	guint lost_after_restart = 0;
	guint jobs_lost_after_restart = 0;

	g_test_message("crash soak: seed %u, %u kills", seed, kills);
	g_printerr(
	    "crash soak: seed %u, %u kills, kill delay 0-%u ms\n", seed, kills, max_delay_ms);
	s.w = w;
	s.rand = g_rand_new_with_seed(seed);
	s.set_nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	s.groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s.devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s.registered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s.jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s.images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s.downloads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	{
		g_autoptr(GRand) r = g_rand_new_with_seed(seed);
		guint32 *data = g_malloc(IMAGE_SIZE);
		g_autoptr(GBytes) blob = NULL;
		g_autofree gchar *sha = NULL;
		for (gsize i = 0; i < IMAGE_SIZE / 4; i++)
			data[i] = g_rand_int(r);
		blob = g_bytes_new_take(data, IMAGE_SIZE);
		sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, blob);
		s.image_hash = g_strconcat("sha256:", sha, NULL);
		s.upstream = gw_upstream_new(blob);
		/* ≈ 3 MB/s: a download spans a good part of a round */
		gw_upstream_set_throttle(s.upstream, 20);
	}

	fixed = add_device_sync(w->d, JOB_DEVICE);
	g_hash_table_add(s.devices, g_strdup(JOB_DEVICE));
	server_start_with(w, script);

	for (s.round = 0; s.round < kills; s.round++) {
		guint delay = g_rand_int_range(s.rand, 0, (gint32)max_delay_ms + 1);

		s.killing = FALSE;
		s.kill_delay_total += delay;
		soak_issue(&s);
		g_timeout_add(delay, soak_kill_cb, &s);
		/* the kill, then every call answered (an error once gwmod is gone) and every
		 * device exited */
		g_assert_true(e2e_wait(soak_drained, &s, 120));
		gw_test_daemon_start(w->d, NULL);
		soak_check(&s, NULL, FALSE, &c);
		lost_after_restart += c.lost + c.images_lost;
		jobs_lost_after_restart += c.jobs_lost;
		g_printerr(
		    "%.1f s: round %u: killed after %u ms; %u acknowledged, %u lost; %u jobs, "
		    "%u lost\n",
		    (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC,
		    s.round + 1,
		    delay,
		    c.acked,
		    c.lost,
		    c.jobs,
		    c.jobs_lost);
	}

	/* the end: jobs finish, alerts drain (the server's sessions that a kill cut short end by
	 * its session timeout and are recorded) */
	q.soak = &s;
	q.created = created;
	q.started = started;
	q.script_len = script_len;
	if (!e2e_wait(soak_quiet, &q, 180))
		g_printerr("the gateway did not settle in 180 s: reporting what is there\n");
	g_printerr("%.1f s: settled\n", (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
	server_stop(w);
	dm_acked_jobs(w->record, created, started);
	soak_check(&s, created, TRUE, &c);
	account_alerts(&s, started, TRUE, &al);

	g_printerr("crash soak: seed %u, %u kills, %.1f s wall, %.1f s CPU (this process and its "
	           "children)\n"
	           "  changes acknowledged %u, lost %u (after every restart: %u lost)\n"
	           "  jobs created %u (D-Bus %u, DM %u), lost %u (after every restart: %u), "
	           "unfinished %u\n"
	           "  images added %u, downloads asked %u, lost %u, not Available at the end %u\n"
	           "  alerts owed %u, delivered %u, missing %u, accepted twice %u, resends "
	           "suppressed by the server %u, without identity %u\n"
	           "  load: %u D-Bus calls answered, %u failed by a kill; %u registrations (%u "
	           "answered); %u sessions asked\n",
	           seed,
	           kills,
	           (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC,
	           cpu_seconds() - cpu0,
	           c.acked,
	           c.lost,
	           lost_after_restart,
	           c.jobs,
	           g_hash_table_size(s.jobs),
	           g_hash_table_size(created),
	           c.jobs_lost,
	           jobs_lost_after_restart,
	           c.jobs_unfinished,
	           c.images,
	           c.downloads,
	           c.images_lost,
	           c.downloads_unfinished,
	           al.owed,
	           al.delivered,
	           al.missing,
	           al.accepted_twice,
	           al.suppressed,
	           al.no_identity,
	           s.dbus_acked,
	           s.dbus_failed,
	           s.reg_started,
	           g_hash_table_size(s.registered),
	           s.sessions_asked);
	g_assert_cmpuint(lost_after_restart, ==, 0);
	g_assert_cmpuint(jobs_lost_after_restart, ==, 0);
	g_assert_cmpuint(c.lost, ==, 0);
	g_assert_cmpuint(c.jobs_lost, ==, 0);
	g_assert_cmpuint(c.jobs_unfinished, ==, 0);
	g_assert_cmpuint(c.images_lost, ==, 0);
	g_assert_cmpuint(c.downloads_unfinished, ==, 0);
	g_assert_cmpuint(al.missing, ==, 0);
	g_assert_cmpuint(al.accepted_twice, ==, 0);
	g_assert_cmpuint(al.no_identity, ==, 0);

	gw_test_daemon_stop(w->d);
	g_hash_table_unref(s.set_nodes);
	g_hash_table_unref(s.groups);
	g_hash_table_unref(s.devices);
	g_hash_table_unref(s.registered);
	g_hash_table_unref(s.jobs);
	g_hash_table_unref(s.images);
	g_hash_table_unref(s.downloads);
	gw_upstream_free(s.upstream);
	g_free(s.image_hash);
	g_rand_free(s.rand);
	world_free(w);
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
	g_test_add_func("/gw/e2e/crash/alert-resend-once", test_alert_resend_once);
	g_test_add_func("/gw/e2e/crash/pending-alerts-follow-queue",
	                test_pending_alerts_follow_queue);
	g_test_add_func("/gw/e2e/crash/soak", test_soak);
	return g_test_run();
}
