/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The TR-069 adapter end to end (issue 13 §2 and §3; GwMO-AMoDe-001, GwMO-IOP-001, use cases
 * B.8 and B.10): the real gwmod loads libgw_plugin_tr069.so alone from --plugin-dir and serves
 * /cwmp on its southbound listener; reference CPEs (tests/peers/gwmo-test-cpe, one TR-181
 * "Device.", one TR-098 "InternetGatewayDevice.") are pointed at it, the reference DM Server
 * (tests/peers/gwmo-test-server) drives it, with an OMA DM Proxy device
 * (tests/peers/gwmo-test-device) in the same group. /tr069/e2e/acs:
 *  - each CPE's BOOT Inform makes an inventory record (Protocol TR-069, DeviceID
 *    OUI-ProductClass-SerialNumber, Mode 3, Attached, DevInfo from DeviceInfo); the server gets
 *    DeviceAttached for the first in a session the gateway opens;
 *  - one DM session with Fanout jobs: Get ./DevInfo/Man to a group of both CPEs and the OMA DM
 *    device (one aggregated result, 3 × 200); Replace of PeriodicInformInterval on each CPE
 *    (their own roots; each woken by a Connection Request, out of session); a Get the CPE
 *    answers (GetParameterValues, no cache); a Replace the CPE faults (9008 → 405); a CPE that
 *    never answers (stopped: 408 by the job's Timeout, gwmod serving);
 *  - malformed SOAP to /cwmp is answered 400 and gwmod goes on serving;
 *  - B.8: the server puts an image in the store (one upstream fetch) and fans a Download
 *    (Exec ./TR069/Operations/Download, the LocalURI) out to both CPEs: each fetches the image
 *    from the gateway with its own signed URL and reports TransferComplete (200 each), and the
 *    upstream server was asked once.
 *
 * Arguments: the reference DM Server, the reference End Device.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "gw-e2e.h"
#include "gw-proofs.h"
#include "gw-upstream.h"

#define DEVICE_IFACE "org.gwmo.Gateway1.Device"
#define ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"
#define CPE_A "00D09E-TestCPE-CPEA"
#define CPE_B "00D09E-TestCPE-CPEB"
#define CPE_C "00D09E-TestCPE-CPEC"
/* a guard against a hung test, never a guessed wait: every wait ends on its event */
#define GUARD_S 60

/* ---- the gateway: gwmod with the TR-069 plugin alone ---- */

typedef struct {
	Env *e;
	gchar *plugins;
	GDBusObjectManager *objects;
	gchar *acs_url;
} Gateway;

static Gateway *
gateway_start(void)
{
	Gateway *gw = g_new0(Gateway, 1);
	const gchar *module = g_getenv("GWMO_TEST_TR069_PLUGIN");
	const gchar *args[3] = {"--plugin-dir", NULL, NULL};
	g_autofree gchar *link = NULL;
	g_autofree gchar *state = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(module);
	/* cache-seconds=0: every Get goes to the CPE */
	gw->e = env_new_with_config("[fanout]\nsync-wait=30\n"
	                            "[tr069]\nusername=cpe\npassword=cpe-secret\n"
	                            "connection-request-username=acs\n"
	                            "connection-request-password=acs-secret\ncache-seconds=0\n");
	/* no inventory alerts unless a step asks for them: the server's sessions are the
	 * test's */
	e2e_set_node_bool(gw->e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	e2e_set_node_bool(gw->e->d, "./GwMO/Config/Servers/srv1/ImageStore", TRUE);
	gw_test_daemon_stop(gw->e->d);
	gw->plugins = g_build_filename(gw->e->dir, "plugins", NULL);
	g_assert_cmpint(g_mkdir(gw->plugins, 0700), ==, 0);
	link = g_build_filename(gw->plugins, "libgw_plugin_tr069.so", NULL);
	g_assert_cmpint(symlink(module, link), ==, 0);
	args[1] = gw->plugins;
	gw_test_daemon_start(gw->e->d, args);
	gw->objects = e2e_object_manager(gw->e->d);
	state = get_value(gw->e->d, "./GwMO/Config/Adapters/tr069/State", NULL);
	g_assert_cmpstr(state, ==, "Running");
	gw->acs_url = g_strdup_printf("http://127.0.0.1:%u/cwmp", gw->e->south_port);
	{
		g_autofree gchar *log = gw_test_daemon_read_log(gw->e->d);
		g_assert_nonnull(
		    strstr(log, "plugin tr069 serves /cwmp on the southbound listener"));
	}
	return gw;
}

static void
gateway_free(Gateway *gw)
{
	g_clear_object(&gw->objects);
	gw_test_daemon_stop(gw->e->d);
	env_free(gw->e);
	g_free(gw->plugins);
	g_free(gw->acs_url);
	g_free(gw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Gateway, gateway_free)

static gchar *
record_value(Gateway *gw, const gchar *record, const gchar *leaf)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record, leaf);

	return get_value(gw->e->d, uri, NULL);
}

/* ---- the reference CPE, a real process; its stdout lines are read as they come ---- */

typedef struct {
	GSubprocess *proc;
	GDataInputStream *out;
	GPtrArray *lines;
	GCancellable *cancellable;
	gboolean eof;
} Cpe;

static void
cpe_read(Cpe *cpe);

static void
cpe_line_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	Cpe *cpe = data;
	g_autoptr(GError) error = NULL;
	gchar *line = g_data_input_stream_read_line_finish_utf8(
	    G_DATA_INPUT_STREAM(source), res, NULL, &error);

	if (line == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			cpe->eof = TRUE;
		return;
	}
	g_test_message("cpe %p: %s", (gpointer)cpe, line);
	g_ptr_array_add(cpe->lines, line);
	cpe_read(cpe);
}

static void
cpe_read(Cpe *cpe)
{
	g_data_input_stream_read_line_async(
	    cpe->out, G_PRIORITY_DEFAULT, cpe->cancellable, cpe_line_cb, cpe);
}

static Cpe *
cpe_start(Gateway *gw, const gchar *serial, const gchar *model)
{
	Cpe *cpe = g_new0(Cpe, 1);
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE);
	g_autoptr(GError) error = NULL;
	const gchar *argv[] = {g_getenv("GWMO_TEST_CPE"),
	                       "--acs",
	                       gw->acs_url,
	                       "--username",
	                       "cpe",
	                       "--password",
	                       "cpe-secret",
	                       "--serial",
	                       serial,
	                       "--model",
	                       model,
	                       "--watch-stdin",
	                       NULL};

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	cpe->proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	cpe->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(cpe->proc));
	cpe->lines = g_ptr_array_new_with_free_func(g_free);
	cpe->cancellable = g_cancellable_new();
	cpe_read(cpe);
	return cpe;
}

static void
cpe_free(Cpe *cpe)
{
	g_cancellable_cancel(cpe->cancellable);
	g_subprocess_send_signal(cpe->proc, SIGCONT);
	g_subprocess_force_exit(cpe->proc);
	g_subprocess_wait(cpe->proc, NULL, NULL);
	g_object_unref(cpe->proc);
	g_object_unref(cpe->out);
	g_object_unref(cpe->cancellable);
	g_ptr_array_unref(cpe->lines);
	g_free(cpe);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Cpe, cpe_free)

typedef struct {
	Cpe *cpe;
	const gchar *prefix;
	guint from;
	guint at;
} LineWait;

static gboolean
line_seen(gpointer data)
{
	LineWait *w = data;

	for (guint i = w->from; i < w->cpe->lines->len; i++) {
		if (g_str_has_prefix(g_ptr_array_index(w->cpe->lines, i), w->prefix)) {
			w->at = i;
			return TRUE;
		}
	}
	return w->cpe->eof;
}

/* a line of the CPE's starting with @prefix at or after line @from: its index */
static guint
cpe_wait(Cpe *cpe, guint from, const gchar *prefix)
{
	LineWait w = {cpe, prefix, from, G_MAXUINT};

	g_assert_true(e2e_wait(line_seen, &w, GUARD_S));
	if (w.at == G_MAXUINT)
		g_error("the CPE exited before \"%s\"", prefix);
	return w.at;
}

static guint
cpe_count(Cpe *cpe, const gchar *prefix)
{
	guint n = 0;

	for (guint i = 0; i < cpe->lines->len; i++)
		n += g_str_has_prefix(g_ptr_array_index(cpe->lines, i), prefix);
	return n;
}

/* ---- an OMA DM Proxy device (tests/peers/gwmo-test-device) in @group ---- */

static gchar *
create_group(Gateway *gw, const gchar *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) group =
	    gw_test_call(gw->e->d, "CreateGroup", g_variant_new("(ss)", name, ""), "(o)", &error);
	const gchar *path = NULL;

	g_assert_no_error(error);
	g_variant_get(group, "(&o)", &path);
	return g_strdup(path);
}

/* ---- the DM Server's script ---- */

static gchar *
devices_target(const gchar *name, const gchar *const *devices)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; devices[i] != NULL; i++)
		g_string_append_printf(s,
		                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/"
		                       "Devices/%u\",\"data\":\"%s\"},",
		                       name,
		                       i + 1,
		                       devices[i]);
	return g_string_free(s, FALSE);
}

/* the aggregated result of job @name in @session (its FanoutComplete, or the Exec's result) */
static const gchar *
job_document(JsonObject *session, const gchar *name)
{
	g_autofree gchar *correlator = g_strdup_printf("c-%s", name);
	const gchar *doc = proof_fanout_document(session, correlator);

	g_assert_nonnull(doc);
	g_test_message("%s: %s", name, doc);
	return doc;
}

static void
assert_summary(const gchar *doc, guint total, guint succeeded, guint failed)
{
	g_autofree gchar *want = g_strdup_printf(
	    "total=\"%u\" succeeded=\"%u\" failed=\"%u\"", total, succeeded, failed);
	g_assert_nonnull(strstr(doc, want));
	/* every device answered: Complete; some failed: the job says so */
	if (failed == 0)
		g_assert_nonnull(strstr(doc, "state=\"Complete\""));
	else
		g_assert_null(strstr(doc, "state=\"Complete\""));
}

/* ---- a POST of the test's own to /cwmp (Digest, as a CPE) ---- */

typedef struct {
	gboolean done;
	guint status;
} Post;

static void
post_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	Post *p = data;
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
	g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);

	p->status = soup_message_get_status(msg);
	p->done = TRUE;
}

static gboolean
post_done(gpointer data)
{
	return ((Post *)data)->done;
}

static gboolean
post_auth_cb(SoupMessage *msg, SoupAuth *auth, gboolean retrying, gpointer data)
{
	if (retrying)
		return FALSE;
	soup_auth_authenticate(auth, "cpe", "cpe-secret");
	return TRUE;
}

/* libsoup 3.2 resends a POST restarted by a 401 with an empty body: give it its body again */
static void
post_restarted_cb(SoupMessage *msg, gpointer data)
{
	soup_message_set_request_body_from_bytes(msg, "text/xml", data);
}

static guint
post(const gchar *url, const gchar *body)
{
	g_autoptr(SoupSession) session = soup_session_new();
	g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_POST, url);
	g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
	Post p = {0};

	soup_message_set_request_body_from_bytes(msg, "text/xml", bytes);
	g_signal_connect(msg, "authenticate", G_CALLBACK(post_auth_cb), NULL);
	g_signal_connect(msg, "restarted", G_CALLBACK(post_restarted_cb), bytes);
	soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, post_cb, &p);
	g_assert_true(e2e_wait(post_done, &p, GUARD_S));
	return p.status;
}

static void
test_acs(void)
{
	g_autoptr(Gateway) gw = NULL;
	g_autoptr(Cpe) a = NULL;
	g_autoptr(Cpe) b = NULL;
	g_autoptr(Cpe) c = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) oma = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) parser2 = NULL;
	g_autoptr(GRand) rand = g_rand_new_with_seed(13);
	g_autofree gchar *record_a = NULL;
	g_autofree gchar *record_b = NULL;
	g_autofree gchar *oma_record = NULL;
	g_autofree gchar *mixed = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *server_record = NULL;
	g_autofree gchar *sha = NULL;
	g_autofree gchar *local = NULL;
	g_autofree gchar *want = NULL;
	const gsize size = 256 * 1024;
	guint32 *raw = g_malloc(size);
	g_autoptr(GBytes) blob = NULL;
	GwUpstream *up;
	JsonArray *sessions;
	JsonObject *session;
	const gchar *doc;
	gint64 t0 = g_get_monotonic_time();
	guint mark_a;
	guint mark_b;

	for (gsize i = 0; i < size / 4; i++)
		raw[i] = g_rand_int(rand);
	blob = g_bytes_new_take(raw, size);
	sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, blob);
	/* gwmod first: its test bus forks a watcher process, which must not inherit the
	 * upstream server's thread (LeakSanitizer in that child reports the thread's objects) */
	gw = gateway_start();
	up = gw_upstream_new(blob);
	local = g_strdup_printf("http://127.0.0.1:%u/images/%s", gw->e->south_port, sha);

	/* 1. a CPE's BOOT Inform: a record, and DeviceAttached in a session the gateway opens */
	server_record = g_build_filename(gw->e->dir, "attach.json", NULL);
	server = server_start(gw->e,
	                      "{\"sessions\":[{\"commands\":[]}]}",
	                      server_record,
	                      CL_SECRET,
	                      "--sessions=1",
	                      NULL);
	e2e_set_node_bool(gw->e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", TRUE);
	a = cpe_start(gw, "CPEA", "tr181");
	record_a = e2e_wait_device_record(gw->objects, "DeviceID", CPE_A, "Attached", GUARD_S);
	server_wait(server);
	g_clear_object(&server);
	e2e_set_node_bool(gw->e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	sessions = record_sessions(server_record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	{
		JsonObject *alert =
		    session_alert(json_array_get_object_element(sessions, 0), ATTACHED);
		const gchar *data;
		g_assert_nonnull(alert);
		data = json_object_get_string_member(alert, "data");
		g_test_message("DeviceAttached: %s", data);
		g_assert_nonnull(strstr(data, "<DeviceID>" CPE_A "</DeviceID>"));
		g_assert_nonnull(strstr(data, "<Protocol>TR-069</Protocol>"));
		g_assert_nonnull(strstr(data, "<Mode>3</Mode>"));
	}
	b = cpe_start(gw, "CPEB", "tr098");
	c = cpe_start(gw, "CPEC", "tr181");
	record_b = e2e_wait_device_record(gw->objects, "DeviceID", CPE_B, "Attached", GUARD_S);
	g_free(e2e_wait_device_record(gw->objects, "DeviceID", CPE_C, "Attached", GUARD_S));
	{
		static const gchar *const leaves[] = {"Protocol",
		                                      "Mode",
		                                      "Status",
		                                      "DevInfo/Man",
		                                      "DevInfo/Mod",
		                                      "DevInfo/FwV",
		                                      NULL};
		static const gchar *const values[] = {
		    "TR-069", "3", "Attached", "gwmo test", "Test CPE", "1.0.0", NULL};
		for (guint i = 0; leaves[i] != NULL; i++) {
			g_autofree gchar *va = record_value(gw, record_a, leaves[i]);
			g_autofree gchar *vb = record_value(gw, record_b, leaves[i]);
			g_assert_cmpstr(va, ==, values[i]);
			g_assert_cmpstr(vb, ==, values[i]);
		}
	}
	/* every CPE is out of session now: what comes next, a Connection Request starts */
	cpe_wait(a, 0, "SESSION-END");
	cpe_wait(b, 0, "SESSION-END");
	cpe_wait(c, 0, "SESSION-END");
	/* C never answers again */
	g_subprocess_send_signal(c->proc, SIGSTOP);
	g_test_message("3 CPEs in %" G_GINT64_FORMAT " ms", (g_get_monotonic_time() - t0) / 1000);

	/* the group: the OMA DM Proxy device and both CPEs */
	mixed = create_group(gw, "mixed");
	oma = e2e_proxy_device_start(gw->e, "live-01", "mixed", 1, &oma_record);
	e2e_group_add_member(gw->e->d, mixed, CPE_A);
	e2e_group_add_member(gw->e->d, mixed, CPE_B);
	e2e_wait_registered(gw->e->d, oma_record);

	/* 2. the DM Server's sessions: the jobs; the image; its download alert; the Download */
	{
		const gchar *only_a[] = {CPE_A, NULL};
		const gchar *only_b[] = {CPE_B, NULL};
		const gchar *only_c[] = {CPE_C, NULL};
		const gchar *both[] = {CPE_A, CPE_B, NULL};
		g_autofree gchar *t_m = e2e_fanout_group_target("m", "mixed");
		g_autofree gchar *t_ra = devices_target("ra", only_a);
		g_autofree gchar *t_rb = devices_target("rb", only_b);
		g_autofree gchar *t_ga = devices_target("ga", only_a);
		g_autofree gchar *t_f = devices_target("f", only_a);
		g_autofree gchar *t_n = devices_target("n", only_c);
		g_autofree gchar *t_dl = devices_target("dl", both);
		g_autofree gchar *m =
		    e2e_fanout_job("m", t_m, "Get", "./DevInfo/Man", NULL, NULL, 20);
		g_autofree gchar *ra =
		    e2e_fanout_job("ra",
		                   t_ra,
		                   "Replace",
		                   "./TR069/Device/ManagementServer/PeriodicInformInterval",
		                   "int",
		                   "600",
		                   20);
		g_autofree gchar *rb = e2e_fanout_job(
		    "rb",
		    t_rb,
		    "Replace",
		    "./TR069/InternetGatewayDevice/ManagementServer/PeriodicInformInterval",
		    "int",
		    "900",
		    20);
		g_autofree gchar *ga =
		    e2e_fanout_job("ga",
		                   t_ga,
		                   "Get",
		                   "./TR069/Device/ManagementServer/PeriodicInformInterval",
		                   NULL,
		                   NULL,
		                   20);
		g_autofree gchar *f = e2e_fanout_job("f",
		                                     t_f,
		                                     "Replace",
		                                     "./TR069/Device/DeviceInfo/SoftwareVersion",
		                                     "chr",
		                                     "9.9",
		                                     20);
		g_autofree gchar *n = e2e_fanout_job(
		    "n", t_n, "Get", "./TR069/Device/DeviceInfo/UpTime", NULL, NULL, 3);
		g_autofree gchar *dl = e2e_fanout_job(
		    "dl", t_dl, "Exec", "./TR069/Operations/Download", "chr", local, 30);
		script = g_strdup_printf(
		    "{\"sessions\":["
		    "{\"commands\":[%s,%s,%s]},"
		    "{\"commands\":[%s,%s,%s]},"
		    "{\"commands\":["
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw\",\"format\":\"node\"},"
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Name\",\"data\":\"cpe-fw\"},"
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/ExternalURI\",\"data\":\"%s\"},"
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Hash\",\"data\":\"sha256:%s\"},"
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Targets/1\",\"data\":\"" CPE_A
		    "\"},"
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Targets/2\",\"data\":\"" CPE_B
		    "\"},"
		    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Images/fw/Operations/Download\"}]},"
		    "{\"commands\":[]},"
		    "{\"commands\":[%s]}]}",
		    m,
		    ra,
		    rb,
		    ga,
		    f,
		    n,
		    gw_upstream_get_url(up),
		    sha,
		    dl);
	}
	g_free(server_record);
	server_record = g_build_filename(gw->e->dir, "record.json", NULL);
	server = server_start(gw->e, script, server_record, CL_SECRET, "--sessions=5", NULL);
	mark_a = a->lines->len;
	mark_b = b->lines->len;
	e2e_start_session(gw->e->d);
	e2e_start_session(gw->e->d);
	g_test_message("jobs done at %" G_GINT64_FORMAT " ms",
	               (g_get_monotonic_time() - t0) / 1000);
	/* each CPE was woken by a Connection Request and ran the RPCs in that session */
	cpe_wait(a, mark_a, "INFORM 6 CONNECTION REQUEST");
	cpe_wait(a, mark_a, "RPC SetParameterValues");
	cpe_wait(a, mark_a, "RPC GetParameterValues");
	cpe_wait(b, mark_b, "INFORM 6 CONNECTION REQUEST");
	cpe_wait(b, mark_b, "RPC SetParameterValues");

	/* 3. malformed SOAP: 400, and gwmod goes on serving (the next sessions) */
	g_assert_cmpuint(post(gw->acs_url, "<Envelope><Body><Inform>"), ==, 400);
	g_assert_cmpuint(post(gw->acs_url, "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>"), ==, 400);
	g_assert_true(gw_test_daemon_is_running(gw->e->d));

	/* 4. B.8: the image into the store (one upstream fetch), then the Download to both */
	e2e_start_session(gw->e->d);
	proof_wait_value(gw->e->d, "./GwMO/Images/fw/State", "Available");
	/* the ImageDownloadComplete session the gateway opens */
	for (guint i = 0; i < 600 && pending_alerts(gw->e->d) > 0; i++)
		g_usleep(50 * 1000);
	g_assert_cmpuint(pending_alerts(gw->e->d), ==, 0);
	mark_a = a->lines->len;
	mark_b = b->lines->len;
	e2e_start_session(gw->e->d);
	server_wait(server);
	g_test_message("Download done at %" G_GINT64_FORMAT " ms",
	               (g_get_monotonic_time() - t0) / 1000);
	want = g_strdup_printf("DOWNLOADED %" G_GSIZE_FORMAT " %s", size, sha);
	{
		g_autofree gchar *log = gw_test_daemon_read_log(gw->e->d);
		g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
		for (guint i = 0; lines[i] != NULL; i++) {
			if (strstr(lines[i], "image") != NULL || strstr(lines[i], "TR-069") != NULL)
				g_test_message("gwmod: %s", lines[i]);
		}
	}
	{
		guint at = cpe_wait(a, mark_a, "DOWNLOAD");
		g_assert_cmpstr(g_ptr_array_index(a->lines, at), ==, want);
		at = cpe_wait(b, mark_b, "DOWNLOAD");
		g_assert_cmpstr(g_ptr_array_index(b->lines, at), ==, want);
		/* each fetched its own signed URL from the gateway */
		at = cpe_wait(a, mark_a, "FETCH ");
		g_assert_true(
		    g_str_has_prefix((const gchar *)g_ptr_array_index(a->lines, at) + 6, local));
		g_assert_nonnull(strstr(g_ptr_array_index(a->lines, at), "dev=" CPE_A "&"));
		at = cpe_wait(b, mark_b, "FETCH ");
		g_assert_nonnull(strstr(g_ptr_array_index(b->lines, at), "dev=" CPE_B "&"));
	}
	/* one upstream fetch for every device */
	g_assert_cmpuint(gw_upstream_get_requests(up), ==, 1);

	sessions = record_sessions(server_record, &parser2);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 5);
	session = json_array_get_object_element(sessions, 0);
	/* one job, one aggregated result: both CPEs and the OMA DM device */
	doc = job_document(session, "m");
	assert_summary(doc, 3, 3, 0);
	g_assert_true(proof_doc_device_status(doc, CPE_A, 200));
	g_assert_true(proof_doc_device_status(doc, CPE_B, 200));
	g_assert_true(proof_doc_device_status(doc, "live-01", 200));
	g_assert_nonnull(strstr(doc, "<Data format=\"chr\">gwmo test</Data>"));
	g_assert_nonnull(strstr(doc, "<Data format=\"chr\">gwmo test device</Data>"));
	doc = job_document(session, "ra");
	assert_summary(doc, 1, 1, 0);
	doc = job_document(session, "rb");
	assert_summary(doc, 1, 1, 0);
	session = json_array_get_object_element(sessions, 1);
	doc = job_document(session, "ga");
	g_assert_nonnull(
	    strstr(doc, "<Device id=\"" CPE_A "\" status=\"200\"><Data format=\"int\">600</Data>"));
	/* a CPE fault: SetParameterValuesFault 9008 → 405 */
	doc = job_document(session, "f");
	assert_summary(doc, 1, 0, 1);
	g_assert_true(proof_doc_device_status(doc, CPE_A, 405));
	/* a CPE that never answers: 408 by the job's Timeout */
	doc = job_document(session, "n");
	assert_summary(doc, 1, 0, 1);
	g_assert_true(proof_doc_device_status(doc, CPE_C, 408));
	session = json_array_get_object_element(sessions, 4);
	doc = job_document(session, "dl");
	assert_summary(doc, 2, 2, 0);
	g_assert_true(proof_doc_device_status(doc, CPE_A, 200));
	g_assert_true(proof_doc_device_status(doc, CPE_B, 200));
	/* (their stdout is read as the loop runs: wait for the line, it was printed already) */
	cpe_wait(a, mark_a, "TRANSFER-COMPLETE");
	cpe_wait(b, mark_b, "TRANSFER-COMPLETE");
	g_assert_cmpuint(cpe_count(a, "TRANSFER-COMPLETE"), ==, 1);
	g_assert_cmpuint(cpe_count(b, "TRANSFER-COMPLETE"), ==, 1);
	{
		g_autofree gchar *log = gw_test_daemon_read_log(gw->e->d);
		g_assert_nonnull(strstr(log, "a malformed message from 127.0.0.1"));
		/* no CPE password in the log */
		g_assert_null(strstr(log, "cpe-secret"));
		g_assert_null(strstr(log, "acs-secret"));
	}
	g_assert_true(gw_test_daemon_is_running(gw->e->d));
	g_assert_cmpint(proof_device_wait(oma), ==, 0);
	g_test_message("whole test: %" G_GINT64_FORMAT " ms", (g_get_monotonic_time() - t0) / 1000);
	gw_upstream_free(up);
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
	g_test_add_func("/tr069/e2e/acs", test_acs);
	return g_test_run();
}
