/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fan-out on loopback (GwMO-FORA-001/002): N simulated End Devices in this process (each with
 * its own DM tree, MD5 credentials and a notification URL on an HTTP listener here) against
 * the real gwmod on a private bus, N = 100, 1,000 and 5,000.
 *
 *  - direct: what the fan-out replaces: this process as the DM Server drives the same Get on
 *    each device itself, one after the other (Package #0, the device's session, MD5 both ways,
 *    the Get, its Results), see run_server_direct(); and, as a second baseline, the N device
 *    sessions alone (client-initiated, no command), back-to-back against gwmod;
 *  - fanout: one D-Bus Fanout of a Get of ./DevInfo/Mod to the N devices (MaxInFlight 32):
 *    gwmod notifies each device (Package #0 over HTTP), each opens its session, answers, and
 *    the wall time runs until the job's Finished signal with the aggregated result.
 *
 * Prints both times and the ratio fanout / direct. A benchmark: speed never fails it; a
 * device without status 200 in the aggregated result, or a failed session, exits 1.
 *
 * Device response time T (GW_BENCH_DEVICE_MS, default 2 ms): each simulated device waits T,
 * on a main-loop timeout (the process goes on serving the other devices), before each DM
 * message it sends: its Package #1 (the session it opens on a Package #0) and its Package #3
 * (Status and Results of the Get); a session is two device messages, so 2T per device. Its
 * HTTP 200 to the Package #0 POST goes out at once: that is the notification listener's
 * acknowledgement (over SMS, WAP Push or UDP there is none), the device's work is the
 * session. The same devices with the same T serve both paths, so "direct" is the same
 * server-driven sequence as at T = 0 plus 2T per device. Each device count runs at T = 0
 * (devices in this process answer at once: both paths are CPU-bound, and on 2 cores the
 * fan-out cannot be faster than the busier of gwmod and the devices; the table prints that
 * bound from the measured CPU seconds) and at T.
 *   Why 2 ms: what a real End Device adds per message is a network round trip (wired LAN
 * 0.2-1 ms, Wi-Fi 2-10 ms, 6LoWPAN/Thread or a bridge tens of ms) plus its own parsing and
 * building of a SyncML message (a Linux-class device ~1 ms, a microcontroller tens of ms).
 * 2 ms is the fast end, a Linux-class device on a good Wi-Fi or wired LAN: the gain of the
 * fan-out only grows with slower devices. MaxInFlight 32 against T: the fan-out cannot
 * exceed MaxInFlight / (one device's session time) devices/s; at T = 2 ms a session takes
 * ~10 ms here (2T, both sides' processing, queueing), so 32 allows ~3,000/s, above what the
 * CPU allows on this machine (~1,000-2,000/s). Measured (N = 1,000, T = 2 ms,
 * GW_BENCH_MAX_IN_FLIGHT): 8: 1.26 s, 16: 0.74 s, 32: 0.54 s, 64: 0.51 s; 32 is where more
 * in flight stops paying. Slower devices need more (T = 20 ms: 32 / ~45 ms = ~700/s).
 *
 * The devices and the direct server's side of their sessions are gw-bench-devices.c (shared
 * with bench-wan): how a device keeps its nonces per server is said there.
 *
 * The simulated devices' notification URLs are spread over NOTIFY_PORTS listeners (gwmod's
 * HTTP client keeps up to 64 connections per host:port, more than MaxInFlight). Few: every
 * listener and every keep-alive connection to one is a pollfd that each turn of this
 * process's main loop scans, and with 64 (~200 fds) that overhead doubled the CPU of the
 * sequential baseline (1,000 devices: 2.3 s instead of 1.0 s), an unfair baseline.
 *
 * Both paths print the CPU seconds they used (this process and gwmod): on a loaded 2-core
 * machine the wall times move by 2x between runs, the CPU seconds much less.
 *
 * usage: bench-fanout [N…]   (default 100 1000 5000; GWMO_TEST_GWMOD: the gwmod binary;
 *                             GW_BENCH_DEVICE_MS: T above, 0 runs T = 0 alone;
 *                             GW_BENCH_MAX_IN_FLIGHT: the job's MaxInFlight (default 32);
 *                             GW_BENCH_PERF=FILE: perf record of gwmod's T = 0 fan-out;
 *                             GW_BENCH_TRACE=1 prints when each device is notified and done;
 *                             GW_BENCH_VERBOSE=1 runs gwmod with --verbose, prints its log;
 *                             GWMO_TEST_PLUGIN_PATH: libgw_plugin_test.so, for the rows of
 *                             the test adapter's devices, see bench_adapter_round();
 *                             GWMO_TEST_UPNP_PLUGIN, GWMO_TEST_LIGHT: libgw_plugin_upnp.so and
 *                             gwmo-test-light, for the UPnP rows, see bench_upnp_round();
 *                             GW_BENCH_UPNP_N, GW_BENCH_UPNP_CONTEXTS: their light counts and
 *                             HTTP servers; GW_BENCH_ROWS: the rows that run, of
 *                             "dm,adapter,upnp,zigbee,tr069", default all;
 *                             GWMO_TEST_ZIGBEE_PLUGIN, GWMO_TEST_ZIGBEE_BRIDGE,
 *                             GW_BENCH_ZIGBEE_N: the Zigbee rows, see bench_zigbee_round();
 *                             GWMO_TEST_TR069_PLUGIN, GWMO_TEST_CPE, GW_BENCH_TR069_N: the
 *                             TR-069 rows, see bench_tr069_round())
 */

#define G_LOG_DOMAIN "GwFanoutBench"

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw-bench-devices.h"
#include "gw-gwmo-names.h"
#include "gw-http-client.h"
#include "gw-http-server.h"
#include "gw-pkg0.h"
#include "gw-test-daemon.h"

#ifdef GW_BENCH_UPNP
#include <libgupnp/gupnp.h>
#include <sys/prctl.h>

#include "gw-upnp-test.h"
#endif

typedef struct {
	GwTestDaemon *d;
	GwBenchDevs devs; /* the simulated devices (gw-bench-devices.h) */
	GwHttpClient *client;
	/* direct */
	guint next;
	/* fanout */
	gchar *job_path;
	gchar *doc;
	/* the server-driven baseline: this process as the DM Server, one device at a time */
	GHashTable *srv_nonces; /* id → GwBenchNonces: the server's side of each device's pair */
	GwDmSession *srv_session;
	GwBenchDev *srv_dev;
	gboolean srv_got_result;
} Bench;

static void G_GNUC_NORETURN
bench_fail(const gchar *what)
{
	g_printerr("bench-fanout: %s\n", what);
	exit(1);
}

/* ---- the direct baseline: the N sessions back-to-back ---- */

static void
direct_done(GwBenchDev *dev, gboolean ok, gpointer data)
{
	Bench *b = data;
	if (!ok)
		b->devs.failed++;
	if (b->next < b->devs.order->len) {
		GwBenchDev *next = g_ptr_array_index(b->devs.order, b->next++);
		gw_bench_dev_session(
		    next, FALSE, NULL, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, direct_done, b);
	}
}

static gdouble
run_direct(Bench *b)
{
	gint64 t0 = g_get_monotonic_time();
	b->next = 1;
	gw_bench_dev_session(g_ptr_array_index(b->devs.order, 0),
	                     FALSE,
	                     NULL,
	                     GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT,
	                     direct_done,
	                     b);
	while (b->devs.running > 0 || b->next < b->devs.order->len)
		g_main_context_iteration(NULL, TRUE);
	return (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
}

/* ---- the server-driven baseline: a DM Server managing the N devices itself ----
 *
 * What the fan-out replaces: the DM Server drives each device directly, one after the other,
 * the same way gwmod does it for the fan-out: Package #0 (signed with the server secret) to
 * the device's notification URL, the device's session (MD5 both ways) with this process as
 * the server, the Get of ./DevInfo/Mod, its Results, the end of the session; then the next. */

static void
srv_next(Bench *b);

static void
srv_result_cb(GwDmSession *session, gpointer result_ptr, gpointer user_data)
{
	Bench *b = user_data;
	if (gw_bench_srv_result_ok(result_ptr))
		b->srv_got_result = TRUE;
}

static gboolean
srv_next_cb(gpointer user_data)
{
	srv_next(user_data);
	return G_SOURCE_REMOVE;
}

static void
srv_session_done(Bench *b, gboolean ok)
{
	if (!ok || !b->srv_got_result) {
		g_printerr("bench-fanout: direct server: %s: no Get result\n", b->srv_dev->id);
		b->devs.failed++;
	}
	g_clear_object(&b->srv_session);
	b->srv_dev = NULL;
	/* none after the last: run_server_direct() may return before an idle would run, which
	 * then notified a device of the next round (run_direct()'s) on the server's behalf */
	if (b->next < b->devs.order->len)
		g_idle_add(srv_next_cb, b);
}

/* POST /srv: the device's messages to the direct server */
static void
srv_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	Bench *b = user_data;
	gboolean ok;

	if (b->srv_session == NULL) {
		gw_http_request_respond(request, 409, NULL, NULL);
		b->devs.failed++;
		return;
	}
	if (gw_bench_srv_answer("bench-fanout", b->srv_dev->id, b->srv_session, request, &ok))
		srv_session_done(b, ok);
}

static void
srv_notified_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpResponse) response =
	    gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL || response->status != 200)
		bench_fail(error != NULL ? error->message : "Package #0 refused");
}

static void
srv_next(Bench *b)
{
	g_autoptr(GBytes) pkg0 = NULL;
	GwBenchNonces *nonces;
	GwBenchDev *dev;

	if (b->next >= b->devs.order->len)
		return;
	dev = g_ptr_array_index(b->devs.order, b->next++);
	nonces = g_hash_table_lookup(b->srv_nonces, dev->id);
	if (nonces == NULL) {
		nonces = g_new0(GwBenchNonces, 1);
		g_hash_table_insert(b->srv_nonces, dev->id, nonces);
	}
	b->srv_session = gw_bench_srv_session_new(dev->id, nonces, &pkg0);
	b->srv_dev = dev;
	b->srv_got_result = FALSE;
	g_signal_connect(b->srv_session, "result", G_CALLBACK(srv_result_cb), b);
	gw_http_client_post_async(b->client,
	                          dev->notify_url,
	                          GW_PKG0_CONTENT_TYPE,
	                          pkg0,
	                          NULL,
	                          NULL,
	                          srv_notified_cb,
	                          NULL);
}

static void
srv_nonces_free(gpointer nonces)
{
	gw_bench_nonces_clear(nonces);
	g_free(nonces);
}

static gdouble
run_server_direct(Bench *b)
{
	gint64 t0 = g_get_monotonic_time();
	b->devs.notify_to_srv = TRUE;
	b->next = 0;
	srv_next(b);
	while (b->srv_session != NULL || b->devs.running > 0 || b->next < b->devs.order->len)
		g_main_context_iteration(NULL, TRUE);
	b->devs.notify_to_srv = FALSE;
	return (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
}

/* ---- the fan-out ---- */

static void
finished_cb(GDBusConnection *c,
            const gchar *sender,
            const gchar *path,
            const gchar *iface,
            const gchar *signal,
            GVariant *params,
            gpointer user_data)
{
	Bench *b = user_data;
	if (b->job_path == NULL || g_strcmp0(path, b->job_path) != 0 || b->doc != NULL)
		return;
	g_variant_get(params, "(s)", &b->doc);
}

/* one D-Bus Fanout of @command (with @format and @data, or NULL) on @target to @ids
 * (NULL-terminated); each of the @n devices must answer @answer (the aggregated document's
 * text of one device's answer) */
static gdouble
run_fanout_cmd(Bench *b,
               GPtrArray *ids,
               const gchar *command,
               const gchar *target,
               const gchar *format,
               const gchar *data,
               guint n,
               const gchar *answer)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder vb;
	gint64 t0;
	guint sub;
	guint ok = 0;

	sub = g_dbus_connection_signal_subscribe(b->d->connection,
	                                         "org.gwmo.Gateway1",
	                                         "org.gwmo.Gateway1.Job",
	                                         "Finished",
	                                         NULL,
	                                         NULL,
	                                         G_DBUS_SIGNAL_FLAGS_NONE,
	                                         finished_cb,
	                                         b,
	                                         NULL);
	g_variant_builder_init(&vb, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(
	    &vb, "{sv}", "Devices", g_variant_new_strv((const gchar *const *)ids->pdata, -1));
	g_variant_builder_add(&vb, "{sv}", "Command", g_variant_new_string(command));
	g_variant_builder_add(&vb, "{sv}", "TargetURI", g_variant_new_string(target));
	if (format != NULL)
		g_variant_builder_add(&vb, "{sv}", "Format", g_variant_new_string(format));
	if (data != NULL)
		g_variant_builder_add(&vb, "{sv}", "Data", g_variant_new_string(data));
	g_variant_builder_add(&vb, "{sv}", "Timeout", g_variant_new_uint32(120));
	if (g_getenv("GW_BENCH_MAX_IN_FLIGHT") != NULL)
		g_variant_builder_add(
		    &vb,
		    "{sv}",
		    "MaxInFlight",
		    g_variant_new_uint32(
		        (guint32)g_ascii_strtoull(g_getenv("GW_BENCH_MAX_IN_FLIGHT"), NULL, 10)));
	t0 = g_get_monotonic_time();
	reply = g_dbus_connection_call_sync(b->d->connection,
	                                    "org.gwmo.Gateway1",
	                                    "/org/gwmo/Gateway1",
	                                    "org.gwmo.Gateway1.Manager",
	                                    "Fanout",
	                                    g_variant_new("(a{sv})", &vb),
	                                    G_VARIANT_TYPE("(o)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    60000,
	                                    NULL,
	                                    &error);
	if (reply == NULL)
		bench_fail(error->message);
	g_variant_get(reply, "(o)", &b->job_path);
	while (b->doc == NULL)
		g_main_context_iteration(NULL, TRUE);
	{
		gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
		for (const gchar *p = b->doc; (p = strstr(p, answer)) != NULL; p++)
			ok++;
		if (ok != n) {
			g_printerr("bench-fanout: Fanout %s %s: %u of %u devices answered %s\n",
			           command,
			           target,
			           ok,
			           n,
			           answer);
			exit(1);
		}
		/* let the last sessions end before the next round */
		while (b->devs.running > 0)
			g_main_context_iteration(NULL, TRUE);
		g_dbus_connection_signal_unsubscribe(b->d->connection, sub);
		g_clear_pointer(&b->job_path, g_free);
		g_clear_pointer(&b->doc, g_free);
		return secs;
	}
}

/* one D-Bus Fanout of a Get of @target to @ids, see run_fanout_cmd() */
static gdouble
run_fanout_of(Bench *b, GPtrArray *ids, const gchar *target, guint n, const gchar *answer)
{
	return run_fanout_cmd(b, ids, "Get", target, NULL, NULL, n, answer);
}

static gdouble
run_fanout(Bench *b, guint n)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();

	for (guint i = 0; i < b->devs.order->len; i++)
		g_ptr_array_add(ids, ((GwBenchDev *)g_ptr_array_index(b->devs.order, i))->id);
	g_ptr_array_add(ids, NULL);
	return run_fanout_of(b, ids, "./DevInfo/Mod", n, GW_BENCH_ANSWER);
}

/* CPU seconds (user + system) used so far by the child process @pid */
static gdouble
cpu_pid(const gchar *pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%s/stat", pid);
	g_autofree gchar *text = NULL;
	g_auto(GStrv) fields = NULL;
	const gchar *p;

	if (!g_file_get_contents(path, &text, NULL, NULL) || (p = strrchr(text, ')')) == NULL)
		return 0;
	/* after "pid (comm)": state is field 3, utime 14, stime 15 */
	fields = g_strsplit(p + 2, " ", 0);
	if (g_strv_length(fields) < 13)
		return 0;
	return (g_ascii_strtod(fields[11], NULL) + g_ascii_strtod(fields[12], NULL)) /
	       sysconf(_SC_CLK_TCK);
}

static gdouble
cpu_gwmod(Bench *b)
{
	return cpu_pid(g_subprocess_get_identifier(b->d->daemon));
}

static guint16
free_port(void)
{
	return gw_test_free_port();
}

typedef struct {
	guint n;
	guint device_ms;
	gdouble direct, sessions, fan;
	gdouble cpu_direct_self, cpu_direct_gw, cpu_fan_self, cpu_fan_gw;
	guint msgs_direct, msgs_fan; /* messages the devices sent */
} Figures;

static GArray *figures; /* of Figures, printed as one table per device time at the end */

/* GW_BENCH_PERF=FILE: perf record of gwmod during the T = 0 fan-out */
static GPid
perf_start(Bench *b)
{
	g_autoptr(GError) error = NULL;
	const gchar *argv[] = {"perf",
	                       "record",
	                       "--call-graph",
	                       "dwarf",
	                       "-o",
	                       g_getenv("GW_BENCH_PERF"),
	                       "-p",
	                       g_subprocess_get_identifier(b->d->daemon),
	                       NULL};
	GPid pid = 0;

	if (!g_spawn_async(NULL,
	                   (gchar **)argv,
	                   NULL,
	                   G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
	                   NULL,
	                   NULL,
	                   &pid,
	                   &error))
		bench_fail(error->message);
	g_usleep(G_USEC_PER_SEC); /* perf attached */
	return pid;
}

static void
measure(Bench *b, guint n, guint device_ms)
{
	Figures f = {.n = n, .device_ms = device_ms};
	gdouble c0, g0;
	GPid perf = 0;

	b->devs.device_ms = device_ms;
	f.sessions = run_direct(b);
	b->devs.sent = 0;
	c0 = gw_bench_cpu_self();
	g0 = cpu_gwmod(b);
	f.direct = run_server_direct(b);
	f.cpu_direct_self = gw_bench_cpu_self() - c0;
	f.cpu_direct_gw = cpu_gwmod(b) - g0;
	f.msgs_direct = b->devs.sent;
	b->devs.sent = 0;
	c0 = gw_bench_cpu_self();
	g0 = cpu_gwmod(b);
	if (g_getenv("GW_BENCH_PERF") != NULL && device_ms == 0) {
		perf = perf_start(b);
		c0 = gw_bench_cpu_self();
		g0 = cpu_gwmod(b);
	}
	f.fan = run_fanout(b, n);
	if (perf != 0) {
		kill(perf, SIGINT);
		waitpid(perf, NULL, 0);
		g_spawn_close_pid(perf);
	}
	f.msgs_fan = b->devs.sent;
	f.cpu_fan_self = gw_bench_cpu_self() - c0;
	f.cpu_fan_gw = cpu_gwmod(b) - g0;
	b->devs.device_ms = 0;
	if (b->devs.failed > 0) {
		g_printerr("bench-fanout: %u failed device session(s)\n", b->devs.failed);
		exit(1);
	}
	g_printerr("bench-fanout: N=%u T=%u ms: direct %.3f s, fanout %.3f s\n",
	           n,
	           device_ms,
	           f.direct,
	           f.fan);
	g_array_append_val(figures, f);
}

static void
bench_round(guint n, const guint *device_ms, guint n_device_ms)
{
	g_autoptr(GError) error = NULL;
	guint16 south = free_port();
	g_autofree gchar *conf =
	    g_strdup_printf("[southbound]\nlisten=http://"
	                    "127.0.0.1:%u\nsession-timeout=300\n[northbound]\nlisten=\n",
	                    south);
	Bench b = {0};
	g_auto(GStrv) uris = NULL;
	g_autofree gchar *srv_url = NULL;

	b.d = gw_test_daemon_new_with_config(conf);
	/* gwmod as it ships (GW_BENCH_VERBOSE=1: with --verbose, its log printed at the end) */
	b.d->quiet = g_getenv("GW_BENCH_VERBOSE") == NULL;
	gw_test_daemon_start(b.d, NULL);
	gw_bench_devs_init(&b.devs, "bench-fanout");
	b.devs.dm_url = g_strdup_printf("http://127.0.0.1:%u/dm", south);
	b.client = gw_http_client_new(NULL, &error);
	if (b.client == NULL)
		bench_fail(error->message);
	gw_http_client_set_max_in_flight(b.client, 64);
	gw_http_client_set_timeout(b.client, 120);
	b.srv_nonces = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, srv_nonces_free);
	gw_http_server_add_handler(b.devs.notify_server, "/srv", srv_handler, &b, NULL);
	/* a few notification ports (see the top of the file) */
	uris = gw_bench_devs_listen(&b.devs, GW_BENCH_NOTIFY_PORTS);
	srv_url = g_strdup_printf("%ssrv", uris[0]);
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *id = g_strdup_printf("sim-%04u", i + 1);
		GwBenchDev *dev = gw_bench_devs_add(&b.devs, id);
		dev->notify_url = g_strdup_printf("%sn/%s", uris[i % g_strv_length(uris)], id);
		dev->srv_url = g_strdup(srv_url);
		gw_bench_dev_provision(dev, b.d, NULL);
	}
	/* once unmeasured (devices answering at once): the first sessions register the devices
	 * and set up the nonces */
	run_direct(&b);
	run_server_direct(&b);
	/* the same gwmod, devices and state for each device time */
	for (guint i = 0; i < n_device_ms; i++)
		measure(&b, n, device_ms[i]);
	if (!b.d->quiet) {
		g_autofree gchar *log = gw_test_daemon_read_log(b.d);
		g_printerr("%s", log != NULL ? log : "");
	}
	g_hash_table_unref(b.srv_nonces);
	gw_bench_devs_clear(&b.devs);
	g_object_unref(b.client);
	gw_test_daemon_stop(b.d);
	gw_test_daemon_free(b.d);
}

/* ---- the test adapter's devices (plugins/test, issue 12) ----
 *
 * The same Fanout Get to N devices of an adapter plugin: the test adapter in gwmod
 * (--plugin-dir, [test] devices=N, each answer after [test] delay-ms = T), a Get of
 * ./Test/Switch, which the registry checks against the declared tree and the plugin answers
 * from memory: what the seam (registry, checks, deadline, result) costs per device, with no
 * network. Figures only; it runs when GWMO_TEST_PLUGIN_PATH names libgw_plugin_test.so. */

typedef struct {
	guint n;
	guint device_ms;
	gdouble fan;
	gdouble cpu_gw;
} AdapterFigures;

static GArray *adapter_figures;

static void
bench_adapter_round(guint n, guint device_ms)
{
	const gchar *plugin = g_getenv("GWMO_TEST_PLUGIN_PATH");
	g_autofree gchar *conf = NULL;
	g_autofree gchar *last_uri = NULL;
	g_autofree gchar *last_id = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	AdapterFigures f = {.n = n, .device_ms = device_ms};
	Bench b = {0};
	gdouble g0;

	if (plugin == NULL)
		return;
	conf = g_strdup_printf("[southbound]\nlisten=\n[northbound]\nlisten=\n[test]\ndevices=%u\n"
	                       "delay-ms=%u\n",
	                       n,
	                       device_ms);
	b.d = gw_test_daemon_new_with_config(conf);
	b.d->quiet = g_getenv("GW_BENCH_VERBOSE") == NULL;
	{
		g_autofree gchar *plugin_dir = g_path_get_dirname(plugin);
		const gchar *args[] = {"--plugin-dir", plugin_dir, NULL};
		gw_test_daemon_start(b.d, args);
	}
	/* the adapter reports its devices once started: records 1…N */
	last_uri = g_strdup_printf("./GwMO/Inventory/Devices/%u/DeviceID", n);
	for (guint k = 0; k < 6000; k++) {
		g_autoptr(GVariant) v =
		    gw_test_call(b.d, "GetNode", g_variant_new("(s)", last_uri), "(ssv)", NULL);
		if (v != NULL) {
			g_autoptr(GVariant) value = NULL;
			g_variant_get(v, "(ssv)", NULL, NULL, &value);
			last_id = g_variant_dup_string(value, NULL);
			break;
		}
		g_usleep(10 * 1000);
	}
	if (last_id == NULL)
		bench_fail("the test adapter's devices were not reported");
	for (guint i = 1; i <= n; i++)
		g_ptr_array_add(ids, g_strdup_printf("TEST-DEV-%u", i));
	g_ptr_array_add(ids, NULL);
	g0 = cpu_gwmod(&b);
	f.fan = run_fanout_of(
	    &b, ids, "./Test/Switch", n, "status=\"200\"><Data format=\"bool\">false</Data>");
	f.cpu_gw = cpu_gwmod(&b) - g0;
	g_printerr("bench-fanout: adapter N=%u T=%u ms: fanout %.3f s\n", n, device_ms, f.fan);
	g_array_append_val(adapter_figures, f);
	gw_test_daemon_stop(b.d);
	gw_test_daemon_free(b.d);
}

static void
print_adapter_table(void)
{
	if (adapter_figures->len == 0)
		return;
	g_print("\n== the test adapter's devices (plugins/test): Fanout Get ./Test/Switch through "
	        "the adapter registry, no network ==\n");
	for (guint i = 0; i < adapter_figures->len; i++) {
		const AdapterFigures *f = &g_array_index(adapter_figures, AdapterFigures, i);
		g_print("N=%-5u T=%u ms: fanout Get %7.3f s %8.1f devices/s | gwmod CPU %.2f s "
		        "(%.3f ms per device)\n",
		        f->n,
		        f->device_ms,
		        f->fan,
		        f->n / f->fan,
		        f->cpu_gw,
		        f->cpu_gw * 1000 / f->n);
	}
}

/* ---- the UPnP adapter's devices (plugins/upnp, issue 12) ----
 *
 * N headless lights (tests/peers/gwmo-test-light --count N --contexts K: K GUPnP contexts, i.e.
 * K HTTP servers on lo, the lights spread over them) found by the real gwmod with the UPnP
 * adapter alone in its --plugin-dir and [upnp] interfaces=lo, in a network namespace of this
 * process (entered first in main(), before any socket, bus or thread; root only, else these
 * rows are skipped with the reason). Once all N records exist:
 *  - direct: what the gateway replaces: this process as a GUPnP control point (its own context
 *    on lo, the same library and SOAP client as the adapter) sends the N GetStatus actions
 *    itself, at most MaxInFlight at once (32, GW_BENCH_MAX_IN_FLIGHT);
 *  - fanout: one D-Bus Fanout of a Get of ./UPnP/SwitchPower/Status to the N lights (the same
 *    MaxInFlight): the registry, the adapter's SOAP GetStatus per light, the aggregated result,
 *    until the job's Finished signal.
 * Each once unmeasured first (connections, GENA subscriptions of the discovery settled). Every
 * light must answer 0 (off) in both paths, else the benchmark exits 1. GW_BENCH_UPNP_N: the
 * light counts (default "16 64 256"; the adapter's max-devices is 256), GW_BENCH_UPNP_CONTEXTS:
 * K (default min(N, 16)). */

#ifdef GW_BENCH_UPNP

#define UPNP_SWITCH_POWER "urn:schemas-upnp-org:service:SwitchPower:1"
#define UPNP_FIND_TIMEOUT_S 120

typedef struct {
	guint n;
	guint contexts;
	gdouble find; /* gwmod: from its start until the N records exist */
	gdouble direct, fan;
	gdouble cpu_direct_self, cpu_direct_light;
	gdouble cpu_fan_self, cpu_fan_gw, cpu_fan_light;
} UpnpFigures;

static GArray *upnp_figures;
static gchar *upnp_skip; /* why the UPnP rows do not run, or NULL */

/* the lights' process: its READY lines counted, the rest (one line per HTTP request) read and
 * dropped */
typedef struct {
	GSubprocess *process;
	GDataInputStream *out;
	GCancellable *cancellable;
	guint ready;
	gboolean eof;
} UpnpLights;

typedef struct {
	GHashTable *udns;    /* the N lights' UDNs (a set) */
	GHashTable *proxies; /* UDN → GUPnPServiceProxy of its SwitchPower */
	GPtrArray *order;    /* the proxies, in UDN order */
	guint max_in_flight;
	guint next, in_flight, done, failed;
} UpnpDirect;

/* wakes the waits below up, so that their time limits are checked while nothing happens */
static gboolean
upnp_tick_cb(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

static void
upnp_lights_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	UpnpLights *lights = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *line = g_data_input_stream_read_line_finish_utf8(
	    G_DATA_INPUT_STREAM(source), res, NULL, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (line == NULL) {
		lights->eof = TRUE;
		return;
	}
	if (g_str_has_prefix(line, "READY "))
		lights->ready++;
	g_data_input_stream_read_line_async(
	    lights->out, G_PRIORITY_DEFAULT, lights->cancellable, upnp_lights_read_cb, lights);
}

/* in the lights' process: die with the benchmark */
static void
upnp_lights_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static UpnpLights *
upnp_lights_start(const gchar *udn, guint n, guint contexts)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autofree gchar *udn_arg = g_strdup_printf("--udn=%s", udn);
	g_autofree gchar *count = g_strdup_printf("--count=%u", n);
	g_autofree gchar *ctx = g_strdup_printf("--contexts=%u", contexts);
	const gchar *argv[] = {
	    g_getenv("GWMO_TEST_LIGHT"), "--interface=lo", udn_arg, count, ctx, NULL};
	g_autoptr(GError) error = NULL;
	UpnpLights *lights = g_new0(UpnpLights, 1);
	gint64 end = g_get_monotonic_time() + UPNP_FIND_TIMEOUT_S * G_USEC_PER_SEC;
	guint tick;

	g_subprocess_launcher_set_child_setup(launcher, upnp_lights_setup, NULL, NULL);
	lights->process = g_subprocess_launcher_spawnv(launcher, argv, &error);
	if (lights->process == NULL)
		bench_fail(error->message);
	lights->cancellable = g_cancellable_new();
	lights->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(lights->process));
	g_data_input_stream_read_line_async(
	    lights->out, G_PRIORITY_DEFAULT, lights->cancellable, upnp_lights_read_cb, lights);
	tick = g_timeout_add(250, upnp_tick_cb, NULL);
	while (lights->ready < n && !lights->eof && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
	if (lights->ready < n)
		bench_fail("gwmo-test-light did not start its lights");
	return lights;
}

static gboolean
upnp_flag_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

static void
upnp_lights_waited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	*(gboolean *)user_data = TRUE;
}

/* SIGTERM: every light says ssdp:byebye, the process exits 0 */
static void
upnp_lights_stop(UpnpLights *lights)
{
	gboolean exited = FALSE;
	gboolean late = FALSE;
	guint timer;

	g_subprocess_send_signal(lights->process, SIGTERM);
	g_subprocess_wait_async(lights->process, NULL, upnp_lights_waited_cb, &exited);
	timer = g_timeout_add_seconds(30, upnp_flag_cb, &late);
	while (!exited && !late)
		g_main_context_iteration(NULL, TRUE);
	if (!late)
		g_source_remove(timer);
	if (!exited) {
		g_subprocess_force_exit(lights->process);
		bench_fail("gwmo-test-light did not exit on SIGTERM");
	}
	if (!g_subprocess_get_if_exited(lights->process) ||
	    g_subprocess_get_exit_status(lights->process) != 0)
		bench_fail("gwmo-test-light failed");
	g_cancellable_cancel(lights->cancellable);
	g_object_unref(lights->cancellable);
	g_object_unref(lights->out);
	g_object_unref(lights->process);
	g_free(lights);
}

static void
upnp_proxy_cb(GUPnPControlPoint *cp, GUPnPServiceProxy *proxy, gpointer user_data)
{
	UpnpDirect *u = user_data;
	const gchar *udn = gupnp_service_info_get_udn(GUPNP_SERVICE_INFO(proxy));

	if (udn != NULL && g_hash_table_contains(u->udns, udn))
		g_hash_table_replace(u->proxies, g_strdup(udn), g_object_ref(proxy));
}

static void
upnp_direct_next(UpnpDirect *u);

static void
upnp_direct_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	UpnpDirect *u = user_data;
	GUPnPServiceProxyAction *action = NULL;
	g_autoptr(GError) error = NULL;
	gboolean status = TRUE;

	action = gupnp_service_proxy_call_action_finish(GUPNP_SERVICE_PROXY(source), res, &error);
	if (action == NULL ||
	    !gupnp_service_proxy_action_get_result(
	        action, &error, "ResultStatus", G_TYPE_BOOLEAN, &status, NULL) ||
	    status) {
		g_printerr("bench-fanout: direct GetStatus of %s: %s\n",
		           gupnp_service_info_get_udn(GUPNP_SERVICE_INFO(source)),
		           error != NULL ? error->message : "not off");
		u->failed++;
	}
	u->in_flight--;
	u->done++;
	upnp_direct_next(u);
}

/* keeps max_in_flight GetStatus actions in flight until all N are sent */
static void
upnp_direct_next(UpnpDirect *u)
{
	while (u->in_flight < u->max_in_flight && u->next < u->order->len) {
		GUPnPServiceProxy *proxy = g_ptr_array_index(u->order, u->next++);
		GUPnPServiceProxyAction *action = gupnp_service_proxy_action_new("GetStatus", NULL);
		u->in_flight++;
		gupnp_service_proxy_call_action_async(proxy, action, NULL, upnp_direct_done_cb, u);
		/* the proxy holds it while the call runs */
		gupnp_service_proxy_action_unref(action);
	}
}

static gdouble
upnp_run_direct(UpnpDirect *u)
{
	gint64 t0 = g_get_monotonic_time();

	u->next = u->done = u->failed = 0;
	upnp_direct_next(u);
	while (u->done < u->order->len)
		g_main_context_iteration(NULL, TRUE);
	if (u->failed > 0) {
		g_printerr("bench-fanout: direct: %u of %u lights did not answer 0\n",
		           u->failed,
		           u->order->len);
		exit(1);
	}
	return (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
}

/* how many of gwmod's inventory records are lights of this round (@udns); the records' own
 * DeviceIDs are read only once there are enough of them */
static guint
upnp_records(Bench *b, GHashTable *udns)
{
	g_autoptr(GVariant) reply = NULL;
	g_autofree const gchar **names = NULL;
	guint found = 0;

	reply = gw_test_call(
	    b->d, "ListChildren", g_variant_new("(s)", "./GwMO/Inventory/Devices"), "(as)", NULL);
	if (reply == NULL)
		return 0;
	g_variant_get(reply, "(^a&s)", &names);
	if (g_strv_length((gchar **)names) < g_hash_table_size(udns))
		return g_strv_length((gchar **)names);
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree gchar *uri =
		    g_strdup_printf("./GwMO/Inventory/Devices/%s/DeviceID", names[i]);
		g_autoptr(GVariant) v =
		    gw_test_call(b->d, "GetNode", g_variant_new("(s)", uri), "(ssv)", NULL);
		g_autoptr(GVariant) value = NULL;
		if (v == NULL)
			continue;
		g_variant_get(v, "(ssv)", NULL, NULL, &value);
		if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) &&
		    g_hash_table_contains(udns, g_variant_get_string(value, NULL)))
			found++;
	}
	return found;
}

static void
bench_upnp_round(guint n, guint contexts)
{
	const gchar *plugin = g_getenv("GWMO_TEST_UPNP_PLUGIN");
	g_autofree gchar *plugin_dir = g_path_get_dirname(plugin);
	const gchar *args[] = {"--plugin-dir", plugin_dir, NULL};
	static guint round;
	/* the light appends -<i> to it when it runs more than one */
	g_autofree gchar *udn = g_strdup_printf("uuid:gwmo-bench-%u-%u", (guint)getpid(), ++round);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GUPnPContext) context = NULL;
	g_autoptr(GUPnPControlPoint) cp = NULL;
	UpnpFigures f = {.n = n, .contexts = contexts};
	UpnpDirect u = {0};
	UpnpLights *lights;
	const gchar *light_pid;
	Bench b = {0};
	gint64 t0, end;
	gdouble c0, g0, l0;
	guint max_conns = 0, max_conns_per_host = 0;
	guint tick;

	u.udns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(ids, n == 1 ? g_strdup(udn) : g_strdup_printf("%s-%u", udn, i));
	g_ptr_array_add(ids, NULL);
	for (guint i = 0; i < n; i++)
		g_hash_table_add(u.udns, g_strdup(g_ptr_array_index(ids, i)));
	u.proxies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	u.order = g_ptr_array_new();
	u.max_in_flight = GW_GWMO_FANOUT_MAX_IN_FLIGHT_DEFAULT;
	if (g_getenv("GW_BENCH_MAX_IN_FLIGHT") != NULL)
		u.max_in_flight =
		    (guint)g_ascii_strtoull(g_getenv("GW_BENCH_MAX_IN_FLIGHT"), NULL, 10);
	lights = upnp_lights_start(udn, n, contexts);
	light_pid = g_subprocess_get_identifier(lights->process);

	/* the baseline's control point: one GUPnP context on lo, as the adapter has. GUPnP 1.6
	 * listens for HTTP (GENA) on the TCP port of the number its SSDP socket got, which may be
	 * in use on lo: then a new context, a new number */
	for (guint attempt = 0; context == NULL && attempt < 16; attempt++) {
		g_clear_error(&error);
		context = gupnp_context_new_full("lo", NULL, 0, GSSDP_UDA_VERSION_1_0, &error);
	}
	if (context == NULL)
		bench_fail(error->message);
	g_object_get(gupnp_context_get_session(context),
	             "max-conns",
	             &max_conns,
	             "max-conns-per-host",
	             &max_conns_per_host,
	             NULL);
	cp = gupnp_control_point_new(context, UPNP_SWITCH_POWER);
	g_signal_connect(cp, "service-proxy-available", G_CALLBACK(upnp_proxy_cb), &u);
	gssdp_resource_browser_set_active(GSSDP_RESOURCE_BROWSER(cp), TRUE);
	end = g_get_monotonic_time() + UPNP_FIND_TIMEOUT_S * G_USEC_PER_SEC;
	tick = g_timeout_add(250, upnp_tick_cb, NULL);
	while (g_hash_table_size(u.proxies) < n && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
	if (g_hash_table_size(u.proxies) < n) {
		g_printerr("bench-fanout: the control point found %u of %u lights\n",
		           g_hash_table_size(u.proxies),
		           n);
		exit(1);
	}
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(u.order, g_hash_table_lookup(u.proxies, g_ptr_array_index(ids, i)));

	/* gwmod with the UPnP adapter alone, on lo */
	b.d = gw_test_daemon_new_with_config(
	    "[southbound]\nlisten=\n[northbound]\nlisten=\n[upnp]\ninterfaces=lo\n");
	b.d->quiet = g_getenv("GW_BENCH_VERBOSE") == NULL;
	t0 = g_get_monotonic_time();
	gw_test_daemon_start(b.d, args);
	end = t0 + UPNP_FIND_TIMEOUT_S * G_USEC_PER_SEC;
	while (upnp_records(&b, u.udns) < n) {
		gboolean late = FALSE;
		if (g_get_monotonic_time() > end) {
			g_printerr("bench-fanout: gwmod found %u of %u lights in %u s\n",
			           upnp_records(&b, u.udns),
			           n,
			           UPNP_FIND_TIMEOUT_S);
			exit(1);
		}
		/* the lights' output keeps being read while we wait */
		g_timeout_add(100, upnp_flag_cb, &late);
		while (!late)
			g_main_context_iteration(NULL, TRUE);
	}
	f.find = (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;

	/* once each unmeasured: the SOAP connections opened, and the GENA subscriptions the
	 * adapter sends to each light it finds out of the way */
	upnp_run_direct(&u);
	run_fanout_of(&b,
	              ids,
	              "./UPnP/SwitchPower/Status",
	              n,
	              "status=\"200\"><Data format=\"int\">0</Data>");

	c0 = gw_bench_cpu_self();
	l0 = cpu_pid(light_pid);
	f.direct = upnp_run_direct(&u);
	f.cpu_direct_self = gw_bench_cpu_self() - c0;
	f.cpu_direct_light = cpu_pid(light_pid) - l0;

	c0 = gw_bench_cpu_self();
	g0 = cpu_gwmod(&b);
	l0 = cpu_pid(light_pid);
	f.fan = run_fanout_of(&b,
	                      ids,
	                      "./UPnP/SwitchPower/Status",
	                      n,
	                      "status=\"200\"><Data format=\"int\">0</Data>");
	f.cpu_fan_self = gw_bench_cpu_self() - c0;
	f.cpu_fan_gw = cpu_gwmod(&b) - g0;
	f.cpu_fan_light = cpu_pid(light_pid) - l0;
	g_printerr("bench-fanout: UPnP N=%u K=%u: direct %.3f s, fanout %.3f s (SOAP client: "
	           "max-conns %u, per host %u)\n",
	           n,
	           contexts,
	           f.direct,
	           f.fan,
	           max_conns,
	           max_conns_per_host);
	g_array_append_val(upnp_figures, f);

	if (!b.d->quiet) {
		g_autofree gchar *log = gw_test_daemon_read_log(b.d);
		g_printerr("%s", log != NULL ? log : "");
	}
	gw_test_daemon_stop(b.d);
	gw_test_daemon_free(b.d);
	g_clear_object(&cp);
	g_clear_object(&context);
	g_ptr_array_unref(u.order);
	g_hash_table_unref(u.proxies);
	g_hash_table_unref(u.udns);
	upnp_lights_stop(lights);
}

static void
print_upnp_table(void)
{
	if (upnp_skip != NULL) {
		g_print("\n== UPnP lights: skipped: %s ==\n", upnp_skip);
		return;
	}
	if (upnp_figures->len == 0)
		return;
	g_print("\n== UPnP lights (plugins/upnp, gwmo-test-light on lo in a network namespace): "
	        "GetStatus to N lights, MaxInFlight %s ==\n",
	        g_getenv("GW_BENCH_MAX_IN_FLIGHT") != NULL ? g_getenv("GW_BENCH_MAX_IN_FLIGHT")
	                                                   : "32");
	for (guint i = 0; i < upnp_figures->len; i++) {
		const UpnpFigures *f = &g_array_index(upnp_figures, UpnpFigures, i);
		g_print("N=%-5u direct (GUPnP control point, SOAP GetStatus): %7.3f s %7.1f "
		        "lights/s | fanout Get ./UPnP/SwitchPower/Status: %7.3f s %7.1f lights/s | "
		        "ratio fanout/direct %.2f\n",
		        f->n,
		        f->direct,
		        f->n / f->direct,
		        f->fan,
		        f->n / f->fan,
		        f->fan / f->direct);
		g_print(
		    "N=%-5u CPU s: direct: control point %.3f, lights %.3f | fanout: gwmod %.3f "
		    "(%.3f ms per light), lights %.3f, bench (D-Bus client) %.3f | %u HTTP "
		    "servers (contexts) | gwmod found the N lights in %.2f s\n",
		    f->n,
		    f->cpu_direct_self,
		    f->cpu_direct_light,
		    f->cpu_fan_gw,
		    f->cpu_fan_gw * 1000 / f->n,
		    f->cpu_fan_light,
		    f->cpu_fan_self,
		    f->contexts,
		    f->find);
	}
}

#endif /* GW_BENCH_UPNP */

static void
print_table(guint device_ms)
{
	glong cores = sysconf(_SC_NPROCESSORS_ONLN);
	const Figures *first = NULL;

	if (cores < 1)
		cores = 1;
	if (device_ms == 0)
		g_print("\n== T = 0 ms: devices answer at once (CPU-bound; %ld cores) ==\n", cores);
	else
		g_print("\n== T = %u ms: each device takes %u ms before each message it sends "
		        "(Package #1, Package #3) ==\n",
		        device_ms,
		        device_ms);
	for (guint i = 0; i < figures->len; i++) {
		const Figures *f = &g_array_index(figures, Figures, i);
		gdouble ratio = f->fan / f->direct;
		if (f->device_ms != device_ms)
			continue;
		g_print("N=%-5u direct (server-driven Get, sequential): %7.3f s %7.1f devices/s | "
		        "fanout Get: %7.3f s %7.1f devices/s | ratio fanout/direct %.2f: target "
		        "<= 0.5 %s | (client-initiated sessions only, back-to-back: %7.3f s "
		        "%7.1f/s, ratio %.2f)\n",
		        f->n,
		        f->direct,
		        f->n / f->direct,
		        f->fan,
		        f->n / f->fan,
		        ratio,
		        ratio <= 0.5 ? "met" : "NOT met",
		        f->sessions,
		        f->n / f->sessions,
		        f->fan / f->sessions);
		/* where the time went: on 2 cores the fan-out is bound by the busier process */
		g_print("N=%-5u CPU s: direct: devices+server %.2f (gwmod idle %.2f) | fanout: "
		        "devices %.2f, gwmod %.2f (%.3f ms per device) | device messages per "
		        "device: direct %.2f, fanout %.2f\n",
		        f->n,
		        f->cpu_direct_self,
		        f->cpu_direct_gw,
		        f->cpu_fan_self,
		        f->cpu_fan_gw,
		        f->cpu_fan_gw * 1000 / f->n,
		        (gdouble)f->msgs_direct / f->n,
		        (gdouble)f->msgs_fan / f->n);
		if (device_ms == 0) {
			/* the fan-out's wall time cannot be below the CPU time of either process, nor
			 * below their sum spread over all cores; the direct path is one process */
			gdouble bound = MAX(MAX(f->cpu_fan_gw, f->cpu_fan_self),
			                    (f->cpu_fan_gw + f->cpu_fan_self) / cores);
			g_print("N=%-5u zero-latency bound: fanout >= max(gwmod %.2f, devices %.2f, "
			        "(gwmod+devices)/%ld cores %.2f) = %.2f s, so ratio >= %.2f; 0.5 needs "
			        "gwmod and devices each <= %.2f s\n",
			        f->n,
			        f->cpu_fan_gw,
			        f->cpu_fan_self,
			        cores,
			        (f->cpu_fan_gw + f->cpu_fan_self) / cores,
			        bound,
			        bound / f->direct,
			        f->direct / 2);
		}
		if (device_ms > 0) {
			/* stricter: the direct time with no cost of its own for the waits (its CPU
			 * grows with them: more wake-ups), i.e. direct at T = 0 plus T per message */
			for (guint j = 0; j < figures->len; j++) {
				const Figures *z = &g_array_index(figures, Figures, j);
				gdouble ideal;
				if (z->n != f->n || z->device_ms != 0)
					continue;
				ideal = z->direct + f->msgs_direct * device_ms / 1000.0;
				g_print("N=%-5u strict: direct at T = 0 + %u messages x %u ms = %.3f s, "
				        "ratio fanout/that %.2f: target <= 0.5 %s\n",
				        f->n,
				        f->msgs_direct,
				        device_ms,
				        ideal,
				        f->fan / ideal,
				        f->fan / ideal <= 0.5 ? "met" : "NOT met");
			}
		}
		if (first == NULL)
			first = f;
		else
			g_print("N=%-5u growth from N=%u: N x%.1f, fanout time x%.2f (%.3f ms per "
			        "device, %.3f at N=%u)\n",
			        f->n,
			        first->n,
			        (gdouble)f->n / first->n,
			        f->fan / first->fan,
			        f->fan * 1000 / f->n,
			        first->fan * 1000 / first->n,
			        first->n);
	}
}

/* GW_BENCH_ROWS: which rows run, comma-separated "dm,adapter,upnp,zigbee,tr069" (default all) */
static gboolean
row_wanted(const gchar *row)
{
	const gchar *rows = g_getenv("GW_BENCH_ROWS");
	g_auto(GStrv) names = NULL;

	if (rows == NULL)
		return TRUE;
	names = g_strsplit(rows, ",", 0);
	return g_strv_contains((const gchar *const *)names, row);
}

/* ---- the Zigbee adapter's devices (plugins/zigbee2mqtt, issue 13) ----
 *
 * N bulbs of the zigbee2mqtt bridge emulator (tests/peers/gwmo-test-zigbee-bridge --count N)
 * on a real mosquitto broker on 127.0.0.1 (a private configuration), found by the real gwmod
 * with the Zigbee adapter alone in its --plugin-dir. Once all N records exist, two round trips
 * the adapter makes through the broker, each measured both ways:
 *  - Get: "<name>/get" {"brightness":""}, answered by the bulb's next state message;
 *  - Set: "<name>/set" {"state":"ON"/"OFF"}, answered by the state message that shows it;
 *  - direct: what the gateway replaces: this process as an MQTT client of the same broker
 *    (libmosquitto, its own network thread) publishes the N requests itself, at most
 *    MaxInFlight at once (32, GW_BENCH_MAX_IN_FLIGHT), and waits for each bulb's answer;
 *  - fanout: one D-Bus Fanout of a Get of ./Zigbee/Exposes/brightness (a Replace of
 *    ./Zigbee/Exposes/state) to the N bulbs, the same MaxInFlight, until the job's Finished.
 * Each once unmeasured first, then 5 rounds of each (Set alternating ON and OFF): the median
 * time, the mean CPU seconds of one round (Get+Set). The adapter stays subscribed (zigbee2mqtt/#)
 * during the direct runs, so the broker sends gwmod every state message then too: the direct
 * figures include that fan-out of the broker, as a gateway on the LAN would see it. Every bulb must
 * answer (200 and 128 for the Get) in both paths, else the benchmark exits 1. GW_BENCH_ZIGBEE_N:
 * the bulb counts (default "100 1000"); skipped when mosquitto is not installed. */

#ifdef GW_BENCH_ZIGBEE

#include <glib/gstdio.h>
#include <mosquitto.h>
#include <sys/prctl.h>

#define ZB_BASE "zigbee2mqtt"
#define ZB_TIMEOUT_S 120
#define ZB_REPEAT 5 /* measured rounds of each path: the median */

typedef struct {
	guint n;
	gdouble find; /* gwmod: from its start until the N records exist */
	gdouble direct_get, fan_get, direct_set, fan_set;
	gdouble cpu_direct_self, cpu_direct_gw, cpu_direct_bridge, cpu_direct_broker;
	gdouble cpu_fan_self, cpu_fan_gw, cpu_fan_bridge, cpu_fan_broker;
} ZbFigures;

/* the direct client: the callbacks run on libmosquitto's thread, under @lock */
typedef struct {
	struct mosquitto *mosq;
	GMutex lock;
	GCond cond;
	guint n;
	GHashTable *index; /* friendly name → its number + 1 */
	guint8 *waiting;   /* [n]: a request of this run is out */
	gboolean connected;
	guint retained; /* retained state messages seen since the subscription */
	gboolean set;
	const gchar *want; /* a Set: the state text that answers it */
	guint next, done, in_flight, max_in_flight;
} ZbDirect;

static void
zb_send(ZbDirect *z, guint i)
{
	g_autofree gchar *topic = g_strdup_printf(ZB_BASE "/bulb-%u/%s", i, z->set ? "set" : "get");
	g_autofree gchar *payload = z->set ? g_strdup_printf("{\"state\":\"%s\"}", z->want)
	                                   : g_strdup("{\"brightness\":\"\"}");

	z->waiting[i] = 1;
	z->in_flight++;
	/* QoS 0, as the adapter publishes */
	if (mosquitto_publish(z->mosq, NULL, topic, (int)strlen(payload), payload, 0, false) !=
	    MOSQ_ERR_SUCCESS)
		bench_fail("direct: mosquitto_publish failed");
}

static void
zb_on_connect(struct mosquitto *mosq, void *data, int rc)
{
	ZbDirect *z = data;

	if (rc != 0)
		return;
	mosquitto_subscribe(mosq, NULL, ZB_BASE "/+", 0);
	g_mutex_lock(&z->lock);
	z->connected = TRUE;
	g_cond_broadcast(&z->cond);
	g_mutex_unlock(&z->lock);
}

static void
zb_on_message(struct mosquitto *mosq, void *data, const struct mosquitto_message *msg)
{
	ZbDirect *z = data;
	const gchar *name = msg->topic + strlen(ZB_BASE "/");
	guint i;

	if (!g_str_has_prefix(msg->topic, ZB_BASE "/") || msg->payloadlen <= 0)
		return;
	g_mutex_lock(&z->lock);
	i = GPOINTER_TO_UINT(g_hash_table_lookup(z->index, name));
	if (i-- == 0) {
		g_mutex_unlock(&z->lock);
		return;
	}
	if (msg->retain)
		z->retained++;
	if (z->waiting[i] && !msg->retain) {
		g_autofree gchar *text = g_strndup(msg->payload, (gsize)msg->payloadlen);
		g_autofree gchar *shows = z->set ? g_strdup_printf("\"state\":\"%s\"", z->want)
		                                 : g_strdup("\"brightness\":128");
		if (strstr(text, shows) != NULL) {
			z->waiting[i] = 0;
			z->in_flight--;
			z->done++;
			while (z->in_flight < z->max_in_flight && z->next < z->n)
				zb_send(z, z->next++);
		}
	}
	g_cond_broadcast(&z->cond);
	g_mutex_unlock(&z->lock);
}

/* waits under z->lock until @done or ZB_TIMEOUT_S */
static void
zb_wait(ZbDirect *z, gboolean (*done)(ZbDirect *z), const gchar *what)
{
	gint64 end = g_get_monotonic_time() + ZB_TIMEOUT_S * G_USEC_PER_SEC;

	while (!done(z)) {
		if (!g_cond_wait_until(&z->cond, &z->lock, end) && !done(z)) {
			g_printerr("bench-fanout: Zigbee direct: %s: %u of %u in %u s\n",
			           what,
			           z->done,
			           z->n,
			           ZB_TIMEOUT_S);
			exit(1);
		}
	}
}

static gboolean
zb_ready(ZbDirect *z)
{
	return z->connected && z->retained >= z->n;
}

static gboolean
zb_all_done(ZbDirect *z)
{
	return z->done >= z->n;
}

/* the N requests, MaxInFlight at once; the wall time */
static gdouble
zb_run_direct(ZbDirect *z, gboolean set, const gchar *want)
{
	gint64 t0 = g_get_monotonic_time();

	g_mutex_lock(&z->lock);
	z->set = set;
	z->want = want;
	z->next = z->done = z->in_flight = 0;
	while (z->in_flight < z->max_in_flight && z->next < z->n)
		zb_send(z, z->next++);
	zb_wait(z, zb_all_done, set ? "Set" : "Get");
	g_mutex_unlock(&z->lock);
	return (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
}

static gint
zb_cmp(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;

	return x < y ? -1 : x > y;
}

static gdouble
zb_median(gdouble *v)
{
	qsort(v, ZB_REPEAT, sizeof(gdouble), zb_cmp);
	return v[ZB_REPEAT / 2];
}

static guint
zb_records(Bench *b)
{
	g_autoptr(GVariant) reply = gw_test_call(
	    b->d, "ListChildren", g_variant_new("(s)", "./GwMO/Inventory/Devices"), "(as)", NULL);
	g_autofree const gchar **names = NULL;

	if (reply == NULL)
		return 0;
	g_variant_get(reply, "(^a&s)", &names);
	return g_strv_length((gchar **)names);
}

static gboolean
zb_flag_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean
zb_port_open(guint16 port)
{
	g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) a = g_inet_socket_address_new(lo, port);

	return g_socket_connect(s, a, NULL, NULL);
}

/* the child dies with the benchmark */
static void
zb_child_setup(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
zb_spawn(const gchar *const *argv, GSubprocessFlags flags)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(flags);
	g_autoptr(GError) error = NULL;
	GSubprocess *p;

	g_subprocess_launcher_set_child_setup(launcher, zb_child_setup, NULL, NULL);
	p = g_subprocess_launcher_spawnv(launcher, argv, &error);
	if (p == NULL)
		bench_fail(error->message);
	return p;
}

static ZbFigures
bench_zigbee_round(guint n)
{
	const gchar *plugin = g_getenv("GWMO_TEST_ZIGBEE_PLUGIN");
	g_autofree gchar *plugin_dir = g_path_get_dirname(plugin);
	const gchar *args[] = {"--plugin-dir", plugin_dir, NULL};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-bench-zigbee-XXXXXX", &error);
	g_autofree gchar *conf_path = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *gw_conf = NULL;
	g_autofree gchar *port_text = NULL;
	g_autofree gchar *count_text = g_strdup_printf("%u", n);
	g_autoptr(GSubprocess) broker = NULL;
	g_autoptr(GSubprocess) bridge = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	const gchar *broker_pid, *bridge_pid;
	ZbFigures f = {.n = n};
	ZbDirect z = {0};
	Bench b = {0};
	guint16 port = free_port();
	gint64 t0, end;
	gdouble c0, g0, r0, m0;
	gdouble dget[ZB_REPEAT], dset[ZB_REPEAT], fget[ZB_REPEAT], fset[ZB_REPEAT];

	if (dir == NULL)
		bench_fail(error->message);
	g_chmod(dir, 0755); /* mosquitto drops to its own user */
	conf_path = g_build_filename(dir, "mosquitto.conf", NULL);
	/* "user": as root it would switch to its own user, which clears the parent-death signal */
	conf = g_strdup_printf("listener %u 127.0.0.1\nallow_anonymous true\npersistence false\n"
	                       "max_queued_messages 0\nlog_dest none\nuser %s\n",
	                       port,
	                       g_get_user_name());
	g_file_set_contents(conf_path, conf, -1, NULL);
	g_chmod(conf_path, 0644);
	{
		const gchar *argv[] = {"mosquitto", "-c", conf_path, NULL};
		broker = zb_spawn(argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	}
	broker_pid = g_subprocess_get_identifier(broker);
	/* the bridge connects once, at its start: the broker must listen by then */
	for (end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC; !zb_port_open(port);) {
		if (g_get_monotonic_time() > end)
			bench_fail("mosquitto does not listen");
		g_usleep(20 * 1000);
	}
	port_text = g_strdup_printf("%u", port);
	{
		const gchar *argv[] = {g_getenv("GWMO_TEST_ZIGBEE_BRIDGE"),
		                       "--port",
		                       port_text,
		                       "--count",
		                       count_text,
		                       NULL};
		/* its lines ("connected") are not needed here */
		bridge = zb_spawn(
		    argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDIN_PIPE);
	}
	bridge_pid = g_subprocess_get_identifier(bridge);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(ids, g_strdup_printf("0x00124b01%08x", i));
	g_ptr_array_add(ids, NULL);

	/* gwmod with the Zigbee adapter alone (it retries until the broker listens) */
	gw_conf = g_strdup_printf(
	    "[southbound]\nlisten=\n[northbound]\nlisten=\n[zigbee2mqtt]\n"
	    "broker=mqtt://127.0.0.1:%u\nreconnect-min-ms=50\nreconnect-max-ms=200\n"
	    "max-devices=%u\n",
	    port,
	    MIN(n + 16, 65536));
	b.d = gw_test_daemon_new_with_config(gw_conf);
	b.d->quiet = g_getenv("GW_BENCH_VERBOSE") == NULL;
	t0 = g_get_monotonic_time();
	gw_test_daemon_start(b.d, args);
	end = t0 + ZB_TIMEOUT_S * G_USEC_PER_SEC;
	while (zb_records(&b) < n) {
		gboolean late = FALSE;
		if (g_get_monotonic_time() > end) {
			g_autofree gchar *log = gw_test_daemon_read_log(b.d);
			g_printerr("%sbench-fanout: gwmod found %u of %u bulbs in %u s\n",
			           log != NULL ? log : "",
			           zb_records(&b),
			           n,
			           ZB_TIMEOUT_S);
			exit(1);
		}
		g_timeout_add(100, zb_flag_cb, &late);
		while (!late)
			g_main_context_iteration(NULL, TRUE);
	}
	f.find = (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;

	/* the direct client */
	g_mutex_init(&z.lock);
	g_cond_init(&z.cond);
	z.n = n;
	z.index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < n; i++)
		g_hash_table_insert(
		    z.index, g_strdup_printf("bulb-%u", i), GUINT_TO_POINTER(i + 1));
	z.waiting = g_new0(guint8, n);
	z.max_in_flight = GW_GWMO_FANOUT_MAX_IN_FLIGHT_DEFAULT;
	if (g_getenv("GW_BENCH_MAX_IN_FLIGHT") != NULL)
		z.max_in_flight =
		    (guint)g_ascii_strtoull(g_getenv("GW_BENCH_MAX_IN_FLIGHT"), NULL, 10);
	z.mosq = mosquitto_new(NULL, true, &z);
	mosquitto_connect_callback_set(z.mosq, zb_on_connect);
	mosquitto_message_callback_set(z.mosq, zb_on_message);
	if (mosquitto_connect(z.mosq, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
	    mosquitto_loop_start(z.mosq) != MOSQ_ERR_SUCCESS)
		bench_fail("direct: cannot connect to mosquitto");
	g_mutex_lock(&z.lock);
	zb_wait(&z, zb_ready, "retained states");
	g_mutex_unlock(&z.lock);

	/* once each unmeasured */
	zb_run_direct(&z, FALSE, NULL);
	run_fanout_cmd(&b,
	               ids,
	               "Get",
	               "./Zigbee/Exposes/brightness",
	               NULL,
	               NULL,
	               n,
	               "status=\"200\"><Data format=\"int\">128</Data>");

	/* ZB_REPEAT rounds of each, alternating ON and OFF: the medians, the mean CPU */
#define ZB_CPU_START()             \
	(c0 = gw_bench_cpu_self(), \
	 g0 = cpu_gwmod(&b),       \
	 r0 = cpu_pid(bridge_pid), \
	 m0 = cpu_pid(broker_pid))
	ZB_CPU_START();
	for (guint r = 0; r < ZB_REPEAT; r++) {
		dget[r] = zb_run_direct(&z, FALSE, NULL);
		dset[r] = zb_run_direct(&z, TRUE, r % 2 == 0 ? "ON" : "OFF");
	}
	f.cpu_direct_self = (gw_bench_cpu_self() - c0) / ZB_REPEAT;
	f.cpu_direct_gw = (cpu_gwmod(&b) - g0) / ZB_REPEAT;
	f.cpu_direct_bridge = (cpu_pid(bridge_pid) - r0) / ZB_REPEAT;
	f.cpu_direct_broker = (cpu_pid(broker_pid) - m0) / ZB_REPEAT;

	ZB_CPU_START();
	for (guint r = 0; r < ZB_REPEAT; r++) {
		fget[r] = run_fanout_cmd(&b,
		                         ids,
		                         "Get",
		                         "./Zigbee/Exposes/brightness",
		                         NULL,
		                         NULL,
		                         n,
		                         "status=\"200\"><Data format=\"int\">128</Data>");
		fset[r] = run_fanout_cmd(&b,
		                         ids,
		                         "Replace",
		                         "./Zigbee/Exposes/state",
		                         "bool",
		                         r % 2 == 0 ? "true" : "false",
		                         n,
		                         "status=\"200\"/>");
	}
	f.cpu_fan_self = (gw_bench_cpu_self() - c0) / ZB_REPEAT;
	f.cpu_fan_gw = (cpu_gwmod(&b) - g0) / ZB_REPEAT;
	f.cpu_fan_bridge = (cpu_pid(bridge_pid) - r0) / ZB_REPEAT;
	f.cpu_fan_broker = (cpu_pid(broker_pid) - m0) / ZB_REPEAT;
#undef ZB_CPU_START
	f.direct_get = zb_median(dget);
	f.direct_set = zb_median(dset);
	f.fan_get = zb_median(fget);
	f.fan_set = zb_median(fset);
	g_printerr("bench-fanout: Zigbee N=%u: Get direct %.3f s, fanout %.3f s; Set direct %.3f "
	           "s, fanout %.3f s\n",
	           n,
	           f.direct_get,
	           f.fan_get,
	           f.direct_set,
	           f.fan_set);

	mosquitto_disconnect(z.mosq);
	mosquitto_loop_stop(z.mosq, false);
	mosquitto_destroy(z.mosq);
	g_hash_table_unref(z.index);
	g_free(z.waiting);
	g_mutex_clear(&z.lock);
	g_cond_clear(&z.cond);
	if (!b.d->quiet) {
		g_autofree gchar *log = gw_test_daemon_read_log(b.d);
		g_printerr("%s", log != NULL ? log : "");
	}
	gw_test_daemon_stop(b.d);
	gw_test_daemon_free(b.d);
	g_subprocess_send_signal(bridge, SIGTERM);
	g_subprocess_wait(bridge, NULL, NULL);
	g_subprocess_send_signal(broker, SIGTERM);
	g_subprocess_wait(broker, NULL, NULL);
	g_unlink(conf_path);
	g_rmdir(dir);
	return f;
}

/* the Zigbee rows: run (GW_BENCH_ROWS "zigbee"), then their table */
static void
bench_zigbee_rows(void)
{
	const gchar *ns = g_getenv("GW_BENCH_ZIGBEE_N");
	g_autofree gchar *mosquitto = g_find_program_in_path("mosquitto");
	g_auto(GStrv) counts = g_strsplit_set(ns != NULL ? ns : "100 1000", " ,", 0);
	g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(ZbFigures));

	if (!row_wanted("zigbee"))
		return;
	if (mosquitto == NULL || g_getenv("GWMO_TEST_ZIGBEE_PLUGIN") == NULL ||
	    g_getenv("GWMO_TEST_ZIGBEE_BRIDGE") == NULL) {
		g_print("\n== Zigbee bulbs: skipped: %s ==\n",
		        mosquitto == NULL ? "no mosquitto broker installed"
		                          : "GWMO_TEST_ZIGBEE_PLUGIN or GWMO_TEST_ZIGBEE_BRIDGE is "
		                            "not set");
		return;
	}
	mosquitto_lib_init();
	for (guint i = 0; counts[i] != NULL; i++) {
		guint n = (guint)g_ascii_strtoull(counts[i], NULL, 10);
		ZbFigures f;
		if (n == 0)
			continue;
		f = bench_zigbee_round(n);
		g_array_append_val(rows, f);
	}
	mosquitto_lib_cleanup();
	g_print("\n== Zigbee bulbs (plugins/zigbee2mqtt, gwmo-test-zigbee-bridge --count N on a "
	        "real mosquitto, 127.0.0.1): MaxInFlight %s ==\n",
	        g_getenv("GW_BENCH_MAX_IN_FLIGHT") != NULL ? g_getenv("GW_BENCH_MAX_IN_FLIGHT")
	                                                   : "32");
	for (guint i = 0; i < rows->len; i++) {
		const ZbFigures *f = &g_array_index(rows, ZbFigures, i);
		g_print(
		    "N=%-5u Get brightness: direct (MQTT client) %7.3f s %7.1f bulbs/s | fanout "
		    "%7.3f s %7.1f bulbs/s | ratio fanout/direct %.2f\n",
		    f->n,
		    f->direct_get,
		    f->n / f->direct_get,
		    f->fan_get,
		    f->n / f->fan_get,
		    f->fan_get / f->direct_get);
		g_print(
		    "N=%-5u Set state:      direct (MQTT client) %7.3f s %7.1f bulbs/s | fanout "
		    "%7.3f s %7.1f bulbs/s | ratio fanout/direct %.2f\n",
		    f->n,
		    f->direct_set,
		    f->n / f->direct_set,
		    f->fan_set,
		    f->n / f->fan_set,
		    f->fan_set / f->direct_set);
		g_print("N=%-5u CPU s of one round (Get+Set): direct: client %.3f, gwmod %.3f "
		        "(subscribed), "
		        "bridge %.3f, mosquitto %.3f | fanout: gwmod %.3f (%.3f ms per bulb and "
		        "command), bridge %.3f, mosquitto %.3f, bench (D-Bus client) %.3f | gwmod "
		        "found the N bulbs in %.2f s\n",
		        f->n,
		        f->cpu_direct_self,
		        f->cpu_direct_gw,
		        f->cpu_direct_bridge,
		        f->cpu_direct_broker,
		        f->cpu_fan_gw,
		        f->cpu_fan_gw * 1000 / (2 * f->n),
		        f->cpu_fan_bridge,
		        f->cpu_fan_broker,
		        f->cpu_fan_self,
		        f->find);
	}
}

#endif /* GW_BENCH_ZIGBEE */

/* ---- the TR-069 adapter's CPEs (plugins/tr069, issue 13) ----
 *
 * N CPEs (tests/peers/gwmo-test-cpe --count N: one process, one HTTP client, each CPE with its
 * own serial, Connection Request path and session cookie), each Get a CWMP session of its own:
 * cache-seconds=0, so every Get is a Connection Request (Digest), the CPE's Inform (Digest),
 * the GetParameterValues in its session, its response, 204.
 *  - direct: the ACS-less baseline: this process is the ACS itself (the TR-069 module loaded
 *    here on a GwHttpServer of its own through the SDK's HTTP seam, no gwmod, no D-Bus, no
 *    Fanout) and runs the Get on each CPE one after the other (the DM Server doing one CWMP
 *    session per CPE itself);
 *  - fanout: the real gwmod with the module alone in its --plugin-dir, CPEs on /cwmp of its
 *    southbound listener, one D-Bus Fanout of the Get to the N CPEs (MaxInFlight 32).
 * Figures only; runs when GWMO_TEST_TR069_PLUGIN and GWMO_TEST_CPE are set (GW_BENCH_ROWS
 * "tr069"; GW_BENCH_TR069_N: its CPE counts, default 100). */

#ifdef GW_BENCH_TR069
#include <glib/gstdio.h>
#include <gmodule.h>

#include "gw-plugin-http-host.h"
#include "gw-plugin-private.h"

typedef struct {
	GSubprocess *proc;
	GDataInputStream *out;
	guint ended; /* SESSION-END lines */
	gboolean eof;
} Tr069Cpes;

static void
tr069_cpes_line_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	Tr069Cpes *c = data;
	g_autofree gchar *line =
	    g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source), res, NULL, NULL);

	if (line == NULL) {
		c->eof = TRUE;
		return;
	}
	if (g_str_has_prefix(line, "SESSION-END"))
		c->ended++;
	else if (g_str_has_prefix(line, "ERROR"))
		g_printerr("bench-fanout: a CPE: %s\n", line);
	g_data_input_stream_read_line_async(
	    c->out, G_PRIORITY_DEFAULT, NULL, tr069_cpes_line_cb, c);
}

/* N CPEs (serials TR0001…) pointed at @acs; they run their BOOT sessions at once */
static Tr069Cpes *
tr069_cpes_start(const gchar *acs, guint n)
{
	Tr069Cpes *c = g_new0(Tr069Cpes, 1);
	g_autofree gchar *count = g_strdup_printf("%u", n);
	g_autoptr(GError) error = NULL;

	c->proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE,
	                           &error,
	                           g_getenv("GWMO_TEST_CPE"),
	                           "--acs",
	                           acs,
	                           "--username",
	                           "cpe",
	                           "--password",
	                           "cpe-secret",
	                           "--serial",
	                           "TR",
	                           "--count",
	                           count,
	                           "--watch-stdin",
	                           NULL);
	if (c->proc == NULL)
		bench_fail(error->message);
	c->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(c->proc));
	g_data_input_stream_read_line_async(
	    c->out, G_PRIORITY_DEFAULT, NULL, tr069_cpes_line_cb, c);
	return c;
}

/* every CPE's session so far has ended: @sessions SESSION-END lines */
static void
tr069_cpes_wait(Tr069Cpes *c, guint sessions)
{
	while (c->ended < sessions && !c->eof)
		g_main_context_iteration(NULL, TRUE);
	if (c->ended < sessions)
		bench_fail("the CPEs exited");
}

static void
tr069_cpes_stop(Tr069Cpes *c)
{
	g_subprocess_send_signal(c->proc, SIGTERM);
	g_subprocess_wait(c->proc, NULL, NULL);
	g_object_unref(c->proc);
	g_object_unref(c->out);
	g_free(c);
}

typedef struct {
	guint n;
	gdouble direct;
	gdouble fan;
	gdouble cpu_direct_self; /* this process as the ACS */
	gdouble cpu_fan_gw;
} Tr069Figures;

static GArray *tr069_figures;

static void
tr069_found_cb(GwPlugin *plugin, GwDeviceInfo *info, GwDeviceTree *tree, gpointer data)
{
	if ((*(guint *)data)++ == 0 && g_getenv("GW_BENCH_VERBOSE") != NULL)
		g_printerr("bench-fanout: found %s\n", gw_device_info_get_device_id(info));
}

typedef struct {
	gboolean done;
	guint status;
} Tr069Run;

static void
tr069_run_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	Tr069Run *r = data;
	g_autoptr(GwDeviceResult) result =
	    gw_plugin_run_command_finish(GW_PLUGIN(source), res, NULL);

	r->status = result != NULL ? gw_device_result_get_status(result) : 500;
	r->done = TRUE;
}

/* the baseline: this process is the ACS, one CWMP session per CPE, one after the other */
static gdouble
tr069_direct(guint n, gdouble *cpu)
{
	static GType type = G_TYPE_INVALID;
	g_autoptr(GKeyFile) config = g_key_file_new();
	g_autoptr(GwHttpServer) server = gw_http_server_new(NULL);
	g_autoptr(GwPluginHttpHost) host = gw_plugin_http_host_new();
	g_autoptr(GwPlugin) plugin = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *acs = NULL;
	Tr069Cpes *cpes;
	guint found = 0;
	gint64 t0;
	gdouble c0;

	if (type == G_TYPE_INVALID) {
		GModule *module =
		    g_module_open(g_getenv("GWMO_TEST_TR069_PLUGIN"), G_MODULE_BIND_LOCAL);
		GType (*query)(void) = NULL;
		if (module == NULL ||
		    !g_module_symbol(module, "gw_plugin_query_type", (gpointer *)&query))
			bench_fail("the TR-069 module does not load");
		g_module_make_resident(module);
		type = query();
	}
	g_key_file_set_string(config, "tr069", "username", "cpe");
	g_key_file_set_string(config, "tr069", "password", "cpe-secret");
	g_key_file_set_string(config, "tr069", "connection-request-username", "acs");
	g_key_file_set_string(config, "tr069", "connection-request-password", "acs-secret");
	g_key_file_set_string(config, "tr069", "cache-seconds", "0");
	g_key_file_set_string(config, "tr069", "max-devices", "65536");
	{
		/* all the CPEs are one peer (127.0.0.1): gwmod's [http] default per peer is 64 */
		GwHttpServerLimits limits = {.max_per_peer = 64};
		gw_http_server_set_limits(server, &limits);
	}
	plugin = g_object_new(type, NULL);
	gw_plugin_set_name(plugin, "tr069");
	gw_plugin_set_config(plugin, config);
	g_signal_connect(plugin, "device-found", G_CALLBACK(tr069_found_cb), &found);
	gw_plugin_http_host_attach(host, plugin);
	if (!gw_plugin_startup(plugin, &error) ||
	    !gw_http_server_listen(server, "http://127.0.0.1:0", &error))
		bench_fail(error->message);
	gw_plugin_http_host_set_server(host, server);
	acs = g_strdup_printf("http://127.0.0.1:%u/cwmp", gw_http_server_get_port(server, FALSE));
	cpes = tr069_cpes_start(acs, n);
	tr069_cpes_wait(cpes, n);
	if (found != n)
		bench_fail("not every CPE was found");
	t0 = g_get_monotonic_time();
	c0 = gw_bench_cpu_self();
	for (guint i = 1; i <= n; i++) {
		g_autofree gchar *id = g_strdup_printf("00D09E-TestCPE-TR%04u", i);
		g_autoptr(GwDeviceCommand) cmd = gw_device_command_new(
		    GW_DEVICE_OP_GET, "./TR069/Device/DeviceInfo/UpTime", NULL, NULL, NULL);
		Tr069Run r = {0};

		gw_plugin_run_command_async(plugin,
		                            id,
		                            cmd,
		                            g_get_monotonic_time() + 30 * G_USEC_PER_SEC,
		                            NULL,
		                            tr069_run_cb,
		                            &r);
		while (!r.done)
			g_main_context_iteration(NULL, TRUE);
		if (r.status != 200) {
			g_printerr("bench-fanout: %s answered %u\n", id, r.status);
			bench_fail("a CPE did not answer 200 (direct)");
		}
	}
	*cpu = gw_bench_cpu_self() - c0;
	{
		gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
		tr069_cpes_wait(cpes, 2 * n);
		tr069_cpes_stop(cpes);
		gw_plugin_shutdown(plugin);
		gw_http_server_disconnect(server);
		return secs;
	}
}

static void
bench_tr069_round(guint n)
{
	g_autofree gchar *conf = NULL;
	g_autofree gchar *dir = NULL;
	g_autofree gchar *link = NULL;
	g_autofree gchar *acs = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	Tr069Figures f = {.n = n};
	guint16 port = free_port();
	Bench b = {0};
	Tr069Cpes *cpes;
	gdouble g0;

	f.direct = tr069_direct(n, &f.cpu_direct_self);
	g_printerr("bench-fanout: TR-069 N=%u: direct %.3f s\n", n, f.direct);

	dir = g_dir_make_tmp("gwmo-bench-tr069-XXXXXX", &error);
	if (dir == NULL)
		bench_fail(error->message);
	link = g_build_filename(dir, "libgw_plugin_tr069.so", NULL);
	if (symlink(g_getenv("GWMO_TEST_TR069_PLUGIN"), link) != 0)
		bench_fail("symlink");
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\n[northbound]\nlisten=\n"
	                       "[tr069]\nusername=cpe\npassword=cpe-secret\n"
	                       "connection-request-username=acs\n"
	                       "connection-request-password=acs-secret\ncache-seconds=0\n"
	                       "max-devices=65536\n",
	                       port);
	b.d = gw_test_daemon_new_with_config(conf);
	b.d->quiet = g_getenv("GW_BENCH_VERBOSE") == NULL;
	{
		const gchar *args[] = {"--plugin-dir", dir, NULL};
		gw_test_daemon_start(b.d, args);
	}
	acs = g_strdup_printf("http://127.0.0.1:%u/cwmp", port);
	cpes = tr069_cpes_start(acs, n);
	tr069_cpes_wait(cpes, n);
	for (guint i = 1; i <= n; i++)
		g_ptr_array_add(ids, g_strdup_printf("00D09E-TestCPE-TR%04u", i));
	g_ptr_array_add(ids, NULL);
	g0 = cpu_gwmod(&b);
	f.fan = run_fanout_of(&b,
	                      ids,
	                      "./TR069/Device/DeviceInfo/UpTime",
	                      n,
	                      "status=\"200\"><Data format=\"int\">42</Data>");
	f.cpu_fan_gw = cpu_gwmod(&b) - g0;
	g_printerr("bench-fanout: TR-069 N=%u: fanout %.3f s\n", n, f.fan);
	tr069_cpes_wait(cpes, 2 * n);
	tr069_cpes_stop(cpes);
	gw_test_daemon_stop(b.d);
	gw_test_daemon_free(b.d);
	g_unlink(link);
	g_rmdir(dir);
	g_array_append_val(tr069_figures, f);
}

/* the TR-069 rows (GW_BENCH_TR069_N: CPE counts, default "100"), then their table */
static void
bench_tr069_rows(void)
{
	const gchar *ns = g_getenv("GW_BENCH_TR069_N");
	g_auto(GStrv) counts = g_strsplit_set(ns != NULL ? ns : "100", " ,", 0);

	if (!row_wanted("tr069") || g_getenv("GWMO_TEST_TR069_PLUGIN") == NULL ||
	    g_getenv("GWMO_TEST_CPE") == NULL)
		return;
	tr069_figures = g_array_new(FALSE, FALSE, sizeof(Tr069Figures));
	for (guint i = 0; counts[i] != NULL; i++) {
		guint n = (guint)g_ascii_strtoull(counts[i], NULL, 10);
		if (n > 0)
			bench_tr069_round(n);
	}
	g_print("\n== the TR-069 adapter's CPEs (plugins/tr069): a Get, each a Connection Request "
	        "and a CWMP session of its own ==\n");
	for (guint i = 0; i < tr069_figures->len; i++) {
		const Tr069Figures *f = &g_array_index(tr069_figures, Tr069Figures, i);
		g_print("N=%-5u direct (this process the ACS, one CPE after the other): %7.3f s "
		        "%7.1f CPEs/s (CPU %.2f s) | fanout through gwmod: %7.3f s %7.1f CPEs/s "
		        "(gwmod CPU %.2f s, %.3f ms per CPE) | ratio fanout/direct %.2f\n",
		        f->n,
		        f->direct,
		        f->n / f->direct,
		        f->cpu_direct_self,
		        f->fan,
		        f->n / f->fan,
		        f->cpu_fan_gw,
		        f->cpu_fan_gw * 1000 / f->n,
		        f->fan / f->direct);
	}
	g_array_unref(tr069_figures);
}
#else
static void
bench_tr069_rows(void)
{
}
#endif

int
main(int argc, char **argv)
{
	const gchar *env = g_getenv("GW_BENCH_DEVICE_MS");
	guint device_ms[2] = {0, GW_BENCH_DEVICE_MS_DEFAULT};
	guint n_device_ms = 2;
#ifdef GW_BENCH_UPNP
	gboolean upnp = FALSE;

	/* the network namespace first, before any socket, bus or thread, and only when the UPnP
	 * rows run: the other rows use 127.0.0.1 either way (a namespace's lo is the same
	 * loopback driver), so their figures stay comparable with and without it */
	upnp_figures = g_array_new(FALSE, FALSE, sizeof(UpnpFigures));
	if (row_wanted("upnp")) {
		if (g_getenv("GWMO_TEST_UPNP_PLUGIN") == NULL ||
		    g_getenv("GWMO_TEST_LIGHT") == NULL)
			upnp_skip = g_strdup("GWMO_TEST_UPNP_PLUGIN or GWMO_TEST_LIGHT is not set");
		else
			upnp = gw_upnp_test_enter_netns(&upnp_skip);
		if (!upnp)
			g_printerr("bench-fanout: the UPnP rows are skipped: %s\n", upnp_skip);
	}
#endif

	if (env != NULL)
		device_ms[1] = (guint)g_ascii_strtoull(env, NULL, 10);
	if (device_ms[1] == 0)
		n_device_ms = 1;
	figures = g_array_new(FALSE, FALSE, sizeof(Figures));
	adapter_figures = g_array_new(FALSE, FALSE, sizeof(AdapterFigures));
	if (!row_wanted("dm")) {
		/* none */
	} else if (argc > 1) {
		for (gint i = 1; i < argc; i++)
			bench_round((guint)g_ascii_strtoull(argv[i], NULL, 10), device_ms, n_device_ms);
	} else {
		bench_round(100, device_ms, n_device_ms);
		bench_round(1000, device_ms, n_device_ms);
		bench_round(5000, device_ms, n_device_ms);
	}
	/* the test adapter's devices, the same N and device times */
	for (gint i = 1; row_wanted("adapter") && i < MAX(argc, 2); i++) {
		guint n = argc > 1 ? (guint)g_ascii_strtoull(argv[i], NULL, 10) : 1000;
		for (guint k = 0; k < n_device_ms; k++)
			bench_adapter_round(n, device_ms[k]);
	}
#ifdef GW_BENCH_UPNP
	if (upnp) {
		const gchar *ns = g_getenv("GW_BENCH_UPNP_N");
		const gchar *k = g_getenv("GW_BENCH_UPNP_CONTEXTS");
		g_auto(GStrv) counts = g_strsplit_set(ns != NULL ? ns : "16 64 256", " ,", 0);
		for (guint i = 0; counts[i] != NULL; i++) {
			guint n = (guint)g_ascii_strtoull(counts[i], NULL, 10);
			if (n == 0)
				continue;
			bench_upnp_round(n,
			                 k != NULL
			                     ? CLAMP((guint)g_ascii_strtoull(k, NULL, 10), 1, n)
			                     : MIN(n, 16));
		}
	}
#endif
	bench_tr069_rows();
	for (guint i = 0; figures->len > 0 && i < n_device_ms; i++)
		print_table(device_ms[i]);
	print_adapter_table();
#ifdef GW_BENCH_UPNP
	print_upnp_table();
	g_array_unref(upnp_figures);
	g_free(upnp_skip);
#endif
#ifdef GW_BENCH_ZIGBEE
	bench_zigbee_rows();
#endif
	g_array_unref(figures);
	g_array_unref(adapter_figures);
	return 0;
}
