/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The simulated End Devices of the fan-out benchmarks: see gw-bench-devices.h.
 */

#define G_LOG_DOMAIN "GwBench"

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "gw-bench-devices.h"
#include "gw-dm-auth.h"
#include "gw-http-client.h"
#include "gw-pkg0.h"

static void G_GNUC_NORETURN
devs_fail(const GwBenchDevs *devs, const gchar *what)
{
	g_printerr("%s: %s\n", devs->prog, what);
	exit(1);
}

void
gw_bench_nonces_clear(GwBenchNonces *nonces)
{
	g_clear_pointer(&nonces->local, g_bytes_unref);
	g_clear_pointer(&nonces->peer, g_bytes_unref);
}

void
gw_bench_nonces_changed_cb(GwDmSession *session, gboolean local, GBytes *nonce, gpointer user_data)
{
	GwBenchNonces *nonces = user_data;
	GBytes **slot = local ? &nonces->local : &nonces->peer;
	g_clear_pointer(slot, g_bytes_unref);
	*slot = g_bytes_ref(nonce);
}

/* ---- one device session, asynchronous ---- */

typedef struct {
	GwBenchDev *dev;
	GwDmSession *session;
	GwHttpClient *client;    /* the session's own connection, as a real device has */
	GwBenchNonces *nonces;   /* those of this session's server in dev */
	GBytes *next_peer_nonce; /* issued in the message being built, kept once it is sent */
	gchar *url;
	GBytes *pending; /* the next message, sent once the device's response time has passed */
	GwBenchDevDone done;
	gpointer data;
} SimRun;

static void
sim_post(SimRun *run, GBytes *msg);

static gboolean
sim_client_drop_cb(gpointer data)
{
	g_object_unref(data);
	return G_SOURCE_REMOVE;
}

static void
sim_run_end(SimRun *run, gboolean ok)
{
	GwBenchDev *dev = run->dev;
	GwBenchDevDone done = run->done;
	gpointer data = run->data;
	/* dropped once libsoup has returned from the callback that ended the session */
	g_idle_add_full(G_PRIORITY_DEFAULT, sim_client_drop_cb, run->client, NULL);
	g_signal_handlers_disconnect_by_data(run->session, run);
	g_object_unref(run->session);
	g_clear_pointer(&run->next_peer_nonce, g_bytes_unref);
	g_clear_pointer(&run->pending, g_bytes_unref);
	g_free(run->url);
	g_free(run);
	dev->devs->running--;
	done(dev, ok, data);
}

static void
sim_nonce_cb(GwDmSession *session, gboolean local, GBytes *nonce, gpointer user_data)
{
	SimRun *run = user_data;
	/* a nonce we issue goes to the server in a Chal of our next message; a session that ends
	 * without one (the server's last message needs no answer) never told it, and the server
	 * keeps digesting with the one it has */
	GBytes **slot = local ? &run->nonces->local : &run->next_peer_nonce;
	g_clear_pointer(slot, g_bytes_unref);
	*slot = g_bytes_ref(nonce);
}

static void
sim_posted_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SimRun *run = user_data;
	const gchar *prog = run->dev->devs->prog;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpResponse) response =
	    gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	g_autoptr(GBytes) next = NULL;

	if (response == NULL || response->status != 200) {
		g_printerr("%s: %s: %s\n",
		           prog,
		           run->dev->id,
		           error != NULL ? error->message : "HTTP error");
		sim_run_end(run, FALSE);
		return;
	}
	next = gw_dm_session_receive(
	    run->session, response->body, response->content_type, NULL, &error);
	if (error != NULL) {
		g_printerr("%s: %s: %s\n", prog, run->dev->id, error->message);
		sim_run_end(run, FALSE);
		return;
	}
	if (next == NULL) {
		sim_run_end(run,
		            gw_dm_session_get_state(run->session) == GW_DM_SESSION_STATE_FINISHED);
		return;
	}
	sim_post(run, next);
}

static void
sim_send(SimRun *run, GBytes *msg)
{
	const gchar *resp = gw_dm_session_get_resp_uri(run->session);
	run->dev->devs->sent++;
	if (run->next_peer_nonce != NULL) {
		g_clear_pointer(&run->nonces->peer, g_bytes_unref);
		run->nonces->peer = g_steal_pointer(&run->next_peer_nonce);
	}
	if (resp != NULL && g_str_has_prefix(resp, "http")) {
		g_free(run->url);
		run->url = g_strdup(resp);
	}
	gw_http_client_post_async(run->client,
	                          run->url,
	                          gw_dm_session_get_content_type(run->session),
	                          msg,
	                          NULL,
	                          NULL,
	                          sim_posted_cb,
	                          run);
}

static gboolean
sim_send_cb(gpointer user_data)
{
	SimRun *run = user_data;
	g_autoptr(GBytes) msg = g_steal_pointer(&run->pending);
	sim_send(run, msg);
	return G_SOURCE_REMOVE;
}

/* the device's processing time: the message goes out device_ms later, the loop keeps running */
static void
sim_post(SimRun *run, GBytes *msg)
{
	guint ms = run->dev->devs->device_ms;
	if (ms == 0) {
		sim_send(run, msg);
		return;
	}
	g_assert(run->pending == NULL);
	run->pending = g_bytes_ref(msg);
	g_timeout_add(ms, sim_send_cb, run);
}

void
gw_bench_dev_session(GwBenchDev *dev,
                     gboolean to_srv,
                     const gchar *session_id,
                     guint alert,
                     GwBenchDevDone done,
                     gpointer data)
{
	GwBenchDevs *devs = dev->devs;
	SimRun *run = g_new0(SimRun, 1);
	GwDmSessionConfig cfg = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) first = NULL;
	const gchar *server_url = to_srv ? dev->srv_url : devs->dm_url;

	run->nonces = to_srv ? &dev->srv : &dev->gw;
	cfg.role = GW_DM_SESSION_ROLE_CLIENT;
	cfg.encoding = GW_DM_ENCODING_XML;
	cfg.session_id = g_strdup(session_id);
	cfg.local_uri = g_strdup(dev->id);
	cfg.remote_uri = g_strdup(server_url);
	cfg.server_id = g_strdup(GW_BENCH_GW_ID);
	cfg.local.type = GW_DM_AUTH_TYPE_MD5;
	cfg.local.name = g_strdup(dev->id);
	cfg.local.secret = g_strdup(GW_BENCH_DEV_SECRET);
	cfg.local.nonce = run->nonces->local != NULL ? g_bytes_ref(run->nonces->local) : NULL;
	cfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	cfg.peer.name = g_strdup(GW_BENCH_GW_ID);
	cfg.peer.secret = g_strdup(GW_BENCH_GW_SECRET);
	cfg.peer.nonce = run->nonces->peer != NULL ? g_bytes_ref(run->nonces->peer) : NULL;
	run->dev = dev;
	run->done = done;
	run->data = data;
	run->url = g_strdup(server_url);
	/* an HTTP client per session, not per device: a libsoup session keeps a GSource in the
	 * main context for its whole life, so N idle clients made every turn of this process's
	 * main loop O(N) and the simulation, not the gateway, the bottleneck past ~1,000 */
	run->client = gw_http_client_new(to_srv ? devs->srv_ca : NULL, &error);
	if (run->client == NULL)
		devs_fail(devs, error->message);
	gw_http_client_set_timeout(run->client, 120);
	run->session = gw_dm_session_new(&cfg, dev->tree);
	gw_dm_session_config_clear(&cfg);
	g_signal_connect(run->session, "nonce-changed", G_CALLBACK(sim_nonce_cb), run);
	devs->running++;
	first = gw_dm_session_start(run->session, alert, &error);
	if (first == NULL)
		devs_fail(devs, error->message);
	sim_post(run, first);
}

/* ---- the devices ---- */

static void
sim_dev_free(GwBenchDev *dev)
{
	gw_bench_nonces_clear(&dev->gw);
	gw_bench_nonces_clear(&dev->srv);
	g_free(dev->notify_url);
	g_free(dev->srv_url);
	g_object_unref(dev->tree);
	g_free(dev->id);
	g_free(dev);
}

GwBenchDev *
gw_bench_devs_add(GwBenchDevs *devs, const gchar *id)
{
	g_autoptr(GError) error = NULL;
	GwBenchDev *dev = g_new0(GwBenchDev, 1);
	GwDmDeviceInfo info = {
	    .dev_id = id,
	    .man = "gwmo bench",
	    .mod = "sim-device",
	    .dmv = "1.2",
	    .lang = "en-US",
	    .dev_typ = "sensor",
	    .oem = "gwmo",
	    .fwv = "1.0",
	    .swv = "1.0",
	    .hwv = "1.0",
	};
	dev->devs = devs;
	dev->id = g_strdup(id);
	dev->tree = gw_dm_tree_new();
	if (!gw_dm_tree_install_standard_objects(dev->tree, &info, &error))
		devs_fail(devs, error->message);
	g_hash_table_insert(devs->by_id, dev->id, dev);
	g_ptr_array_add(devs->order, dev);
	return dev;
}

static void
sim_notified_done(GwBenchDev *dev, gboolean ok, gpointer data)
{
	if (g_getenv("GW_BENCH_TRACE") != NULL)
		g_printerr(
		    "%" G_GINT64_FORMAT " done %s\n", g_get_monotonic_time() / 1000, dev->id);
	if (!ok)
		dev->devs->failed++;
}

/* POST /n/<id>: a Package #0 for a device, from gwmod or the direct server */
static void
notify_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwBenchDevs *devs = user_data;
	const gchar *id = gw_http_request_get_path(request) + strlen("/n/");
	GBytes *body = gw_http_request_get_body(request);
	g_autoptr(GwPkg0) pkg0 = NULL;
	g_autofree gchar *sid = NULL;
	GwBenchDev *dev = g_hash_table_lookup(devs->by_id, id);

	pkg0 = gw_pkg0_parse(g_bytes_get_data(body, NULL), g_bytes_get_size(body), NULL);
	/* signed with the nonce the device gave its sender, else the all-zero nonce */
	if (dev == NULL || pkg0 == NULL ||
	    !gw_pkg0_verify_with_fallback(g_bytes_get_data(body, NULL),
	                                  g_bytes_get_size(body),
	                                  GW_BENCH_GW_SECRET,
	                                  devs->notify_to_srv ? dev->srv.peer : dev->gw.peer,
	                                  NULL,
	                                  NULL)) {
		gw_http_request_respond(request, 400, NULL, NULL);
		devs->failed++;
		return;
	}
	/* the notification listener's acknowledgement; the device's work is the session */
	gw_http_request_respond(request, 200, NULL, NULL);
	if (g_getenv("GW_BENCH_TRACE") != NULL)
		g_printerr("%" G_GINT64_FORMAT " notify %s\n", g_get_monotonic_time() / 1000, id);
	sid = gw_pkg0_session_id_to_string(pkg0->session_id);
	gw_bench_dev_session(dev,
	                     devs->notify_to_srv,
	                     sid,
	                     GW_SYNCML_ALERT_SERVER_INITIATED_MGMT,
	                     sim_notified_done,
	                     NULL);
}

void
gw_bench_devs_init(GwBenchDevs *devs, const gchar *prog)
{
	memset(devs, 0, sizeof(*devs));
	devs->prog = prog;
	devs->by_id =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)sim_dev_free);
	devs->order = g_ptr_array_new();
	devs->notify_server = gw_http_server_new(NULL);
	gw_http_server_add_handler(devs->notify_server, "/n/", notify_handler, devs, NULL);
}

gchar **
gw_bench_devs_listen(GwBenchDevs *devs, guint n_ports)
{
	g_autoptr(GError) error = NULL;
	for (guint i = 0; i < n_ports; i++) {
		if (!gw_http_server_listen(devs->notify_server, "http://127.0.0.1:0", &error))
			devs_fail(devs, error->message);
	}
	return gw_http_server_get_uris(devs->notify_server);
}

void
gw_bench_devs_clear(GwBenchDevs *devs)
{
	if (devs->notify_server != NULL) {
		gw_http_server_disconnect(devs->notify_server);
		g_clear_object(&devs->notify_server);
	}
	g_clear_pointer(&devs->by_id, g_hash_table_unref);
	g_clear_pointer(&devs->order, g_ptr_array_unref);
	g_clear_pointer(&devs->dm_url, g_free);
	g_clear_pointer(&devs->srv_ca, g_free);
}

guint
gw_bench_device_ms(void)
{
	const gchar *env = g_getenv("GW_BENCH_DEVICE_MS");
	return env != NULL ? (guint)g_ascii_strtoull(env, NULL, 10) : GW_BENCH_DEVICE_MS_DEFAULT;
}

void
gw_bench_dev_provision(GwBenchDev *dev, GwTestDaemon *d, const gchar *const *groups)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder vb;

	g_variant_builder_init(&vb, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&vb, "{sv}", "DeviceID", g_variant_new_string(dev->id));
	g_variant_builder_add(&vb, "{sv}", "Mode", g_variant_new_uint32(2));
	g_variant_builder_add(&vb, "{sv}", "ClientName", g_variant_new_string(dev->id));
	g_variant_builder_add(
	    &vb, "{sv}", "ClientSecret", g_variant_new_string(GW_BENCH_DEV_SECRET));
	g_variant_builder_add(
	    &vb, "{sv}", "ServerSecret", g_variant_new_string(GW_BENCH_GW_SECRET));
	g_variant_builder_add(&vb, "{sv}", "NotifyAddr", g_variant_new_string(dev->notify_url));
	if (groups != NULL)
		g_variant_builder_add(&vb, "{sv}", "Groups", g_variant_new_strv(groups, -1));
	reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &vb), "(o)", &error);
	if (reply == NULL)
		devs_fail(dev->devs, error->message);
}

/* ---- the direct DM Server's side ---- */

GwDmSession *
gw_bench_srv_session_new(const gchar *dev_id, GwBenchNonces *nonces, GBytes **pkg0)
{
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	g_autofree gchar *sid = NULL;
	GwSyncmlCommand *cmd;
	GwDmSessionConfig cfg = {0};
	GwDmSession *session;

	n->version = GW_PKG0_VERSION_DEFAULT;
	n->ui_mode = GW_PKG0_UI_MODE_BACKGROUND;
	n->server_initiated = TRUE;
	n->session_id = (guint16)g_random_int_range(1, 0x10000);
	n->server_id = g_strdup(GW_BENCH_GW_ID);
	*pkg0 = gw_pkg0_build_with_nonce(n, GW_BENCH_GW_SECRET, nonces->local);
	sid = gw_pkg0_session_id_to_string(n->session_id);

	cfg.role = GW_DM_SESSION_ROLE_SERVER;
	cfg.session_id = g_strdup(sid);
	cfg.local_uri = g_strdup(GW_BENCH_GW_ID);
	cfg.local.type = GW_DM_AUTH_TYPE_MD5;
	cfg.local.name = g_strdup(GW_BENCH_GW_ID);
	cfg.local.secret = g_strdup(GW_BENCH_GW_SECRET);
	cfg.local.nonce = nonces->local != NULL ? g_bytes_ref(nonces->local) : NULL;
	cfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	cfg.peer.name = g_strdup(dev_id);
	cfg.peer.secret = g_strdup(GW_BENCH_DEV_SECRET);
	cfg.peer.nonce = nonces->peer != NULL ? g_bytes_ref(nonces->peer) : NULL;
	session = gw_dm_session_new(&cfg, NULL);
	gw_dm_session_config_clear(&cfg);
	g_signal_connect(session, "nonce-changed", G_CALLBACK(gw_bench_nonces_changed_cb), nonces);
	cmd = gw_syncml_command_new(GW_SYNCML_CMD_GET);
	gw_syncml_command_add_item(cmd, gw_syncml_item_new("./DevInfo/Mod", NULL));
	gw_dm_session_queue_command(session, cmd);
	return session;
}

gboolean
gw_bench_srv_result_ok(gpointer result_ptr)
{
	const GwDmSessionResult *result = result_ptr;
	const GwSyncmlItem *item = result->results != NULL && result->results->len > 0
	                               ? g_ptr_array_index(result->results, 0)
	                               : NULL;
	return result->status == 200 && item != NULL && g_strcmp0(item->data, "sim-device") == 0;
}

gboolean
gw_bench_srv_answer(const gchar *prog,
                    const gchar *dev_id,
                    GwDmSession *session,
                    GwHttpRequest *request,
                    gboolean *ok)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autofree gchar *hmac = NULL;
	GwDmSessionState state;

	reply = gw_dm_session_receive(session,
	                              gw_http_request_get_body(request),
	                              gw_http_request_get_content_type(request),
	                              gw_http_request_get_header(request, GW_DM_AUTH_HMAC_HEADER),
	                              &error);
	if (reply == NULL) {
		g_printerr("%s: direct server: %s: %s\n",
		           prog,
		           dev_id,
		           error != NULL ? error->message : "no reply");
		gw_http_request_respond(request, 400, NULL, NULL);
		*ok = FALSE;
		return TRUE;
	}
	hmac = gw_dm_session_get_hmac_header(session, reply);
	if (hmac != NULL)
		gw_http_request_set_header(request, GW_DM_AUTH_HMAC_HEADER, hmac);
	state = gw_dm_session_get_state(session);
	/* as gwmod does: the session's last reply closes its connection */
	if (state == GW_DM_SESSION_STATE_FINISHED || state == GW_DM_SESSION_STATE_FAILED)
		gw_http_request_set_header(request, "Connection", "close");
	gw_http_request_respond(request, 200, gw_dm_session_get_content_type(session), reply);
	*ok = state == GW_DM_SESSION_STATE_FINISHED;
	return state == GW_DM_SESSION_STATE_FINISHED || state == GW_DM_SESSION_STATE_FAILED;
}

static gdouble
cpu_of(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

gdouble
gw_bench_cpu_self(void)
{
	return cpu_of(RUSAGE_SELF);
}

gdouble
gw_bench_cpu_children(void)
{
	return cpu_of(RUSAGE_CHILDREN);
}
