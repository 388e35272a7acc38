/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bad arguments and hostile input against the real gwmod (issue 11 §4).
 *
 * /gw/dbus/limits/fanout-args: a Fanout with MaxInFlight or Timeout 0, or beyond its maximum,
 * is refused with InvalidArgs (MaxInFlight 0 used to be taken); 1 and the maxima are taken.
 *
 * /gw/dbus/limits/hostile-xml: an unauthenticated POST /dm whose root element has 100,000
 * attributes (1.1 MB) blocked the main loop for minutes; it is answered 400 now, while D-Bus
 * calls keep being answered. Then big messages within the bounds (4 MiB, 0.25 s of
 * parsing each) are POSTed while D-Bus is pinged: the parsing runs in worker threads, which
 * the test checks from gwmod's per-thread CPU time (the main thread's share stays small,
 * whatever the load of the machine), and it prints the D-Bus latencies. Afterwards a real
 * device (tests/peers/gwmo-test-device) runs a DM session with the gateway.
 */

#include "config.h"

#include <string.h>

#include "gw-http-client.h"
#include "gw-syncml.h"
#include "gw-test-daemon.h"

static const gchar *device_binary;

/* parsing is ten times slower under the sanitizers: fewer big messages there */
#if defined(__SANITIZE_ADDRESS__)
#define BIG_POSTS 2
#else
#define BIG_POSTS 4
#endif

#define ERR "org.gwmo.Gateway1.Error."

static GVariant *
fanout_spec(const gchar *key, guint32 value)
{
	GVariantBuilder b;
	const gchar *devices[] = {"nosuchdevice", NULL};

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(devices, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Get"));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string("./DevInfo/FwV"));
	if (key != NULL)
		g_variant_builder_add(&b, "{sv}", key, g_variant_new_uint32(value));
	return g_variant_new("(a{sv})", &b);
}

static void
test_fanout_args(void)
{
	static const struct {
		const gchar *key;
		guint32 value;
		gboolean ok;
	} cases[] = {
	    {"MaxInFlight", 0, FALSE},
	    {"MaxInFlight", 65537, FALSE},
	    {"MaxInFlight", G_MAXUINT32, FALSE},
	    {"Timeout", 0, FALSE},
	    {"Timeout", 86401, FALSE},
	    {"MaxInFlight", 1, TRUE},
	    {"MaxInFlight", 65536, TRUE},
	    {"Timeout", 1, TRUE},
	    {"Timeout", 86400, TRUE},
	    {NULL, 0, TRUE},
	};
	GwTestDaemon *d = gw_test_daemon_new();

	gw_test_daemon_start(d, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message(
		    "%s = %u", cases[i].key != NULL ? cases[i].key : "(none)", cases[i].value);
		if (!cases[i].ok) {
			gw_test_assert_dbus_error(d,
			                          "Fanout",
			                          fanout_spec(cases[i].key, cases[i].value),
			                          ERR "InvalidArgs");
		} else {
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) reply = gw_test_call(
			    d, "Fanout", fanout_spec(cases[i].key, cases[i].value), "(o)", &error);
			g_assert_no_error(error);
		}
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

#define HDR                                                                                \
	"<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>7</SessionID>" \
	"<MsgID>1</MsgID><Target><LocURI>GW-TEST-0001</LocURI></Target><Source><LocURI>"   \
	"unknown-device</LocURI></Source></SyncHdr>"

/* a message whose root carries @n attributes */
static GBytes *
hostile_message(guint n)
{
	GString *s = g_string_new("<SyncML xmlns=\"SYNCML:SYNCML1.2\"");

	for (guint i = 0; i < n; i++)
		g_string_append_printf(s, " a%u=\"v\"", i);
	g_string_append(s, ">" HDR "<SyncBody><Final/></SyncBody></SyncML>");
	return g_string_free_to_bytes(s);
}

/* nearly 4 MiB within every bound: elements of 32 attributes each in one Data (the slowest
 * legal message to parse found: about 0.25 s) */
static GBytes *
big_message(void)
{
	GString *s = g_string_new("<SyncML xmlns=\"SYNCML:SYNCML1.2\">" HDR
	                          "<SyncBody><Get><CmdID>1</CmdID><Item><Target><LocURI>./x"
	                          "</LocURI></Target><Data>");
	g_autoptr(GString) el = g_string_new("<x");

	for (guint i = 0; i < GW_SYNCML_MAX_ATTRIBUTES; i++)
		g_string_append_printf(el, " a%u=\"\"", i);
	g_string_append(el, "/>");
	while (s->len + el->len < GW_SYNCML_MAX_MESSAGE_SIZE - 200)
		g_string_append(s, el->str);
	g_string_append(s, "</Data></Item></Get><Final/></SyncBody></SyncML>");
	return g_string_free_to_bytes(s);
}

/* CPU time (clock ticks) of gwmod's main thread and of all its threads */
static void
daemon_cpu(GwTestDaemon *d, guint64 *main_ticks, guint64 *all_ticks)
{
	const gchar *pid = g_subprocess_get_identifier(d->daemon);
	g_autofree gchar *task_dir = g_strdup_printf("/proc/%s/task", pid);
	g_autoptr(GDir) dir = g_dir_open(task_dir, 0, NULL);
	const gchar *tid;

	*main_ticks = 0;
	*all_ticks = 0;
	g_assert_nonnull(dir);
	while ((tid = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = g_strdup_printf("%s/%s/stat", task_dir, tid);
		g_autofree gchar *stat = NULL;
		g_auto(GStrv) fields = NULL;
		const gchar *end;
		guint64 ticks;

		if (!g_file_get_contents(path, &stat, NULL, NULL))
			continue; /* the thread ended meanwhile */
		/* after "pid (comm) ": state is field 3, utime 14, stime 15 */
		end = strrchr(stat, ')');
		g_assert_nonnull(end);
		fields = g_strsplit(end + 2, " ", -1);
		g_assert_cmpuint(g_strv_length(fields), >, 13);
		ticks =
		    g_ascii_strtoull(fields[11], NULL, 10) + g_ascii_strtoull(fields[12], NULL, 10);
		*all_ticks += ticks;
		if (g_strcmp0(tid, pid) == 0)
			*main_ticks = ticks;
	}
}

/*
 * The POSTs run in a thread of their own (its own main context and HTTP client), so the
 * D-Bus calls this thread makes meanwhile measure gwmod, not the test's own work of sending
 * megabytes.
 */
typedef struct {
	const gchar *url;
	GBytes *body;
	guint n;
	guint left;
	GArray *statuses; /* guint */
	GError *error;    /* the first POST that failed (asserted in the main thread) */
	GMainLoop *loop;
	gint done;          /* atomic: every POST was answered */
	GMainContext *main; /* woken up when done */
} Flood;

static void
flood_posted(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Flood *f = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpResponse) response =
	    gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);

	if (response != NULL)
		g_array_append_val(f->statuses, response->status);
	else if (f->error == NULL)
		f->error = g_steal_pointer(&error);
	if (--f->left == 0)
		g_main_loop_quit(f->loop);
}

static gpointer
flood_thread(gpointer data)
{
	Flood *f = data;
	g_autoptr(GMainContext) context = g_main_context_new();
	g_autoptr(GwHttpClient) client = NULL;
	g_autoptr(GError) error = NULL;

	g_main_context_push_thread_default(context);
	client = gw_http_client_new(NULL, &error);
	g_assert_no_error(error);
	/* the hostile message took minutes before: give up before the test's timeout (the
	 * sanitizer build parses the big messages ten times slower) */
	gw_http_client_set_timeout(client, 120);
	gw_http_client_set_retries(client, 0, 0);
	gw_http_client_set_max_in_flight(client, f->n);
	f->loop = g_main_loop_new(context, FALSE);
	f->left = f->n;
	for (guint i = 0; i < f->n; i++)
		gw_http_client_post_async(client,
		                          f->url,
		                          "application/vnd.syncml.dm+xml",
		                          f->body,
		                          NULL,
		                          NULL,
		                          flood_posted,
		                          f);
	g_main_loop_run(f->loop);
	g_main_loop_unref(f->loop);
	g_clear_object(&client);
	g_main_context_pop_thread_default(context);
	g_atomic_int_set(&f->done, 1);
	g_main_context_wakeup(f->main);
	return NULL;
}

typedef struct {
	gboolean answered;
	GError *error;
} Ping;

static void
ping_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Ping *p = user_data;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &p->error);
	p->answered = TRUE;
}

/* POSTs @body @n times at once while D-Bus is called one call after the other; returns the
 * seconds until every POST was answered; @latencies gets the D-Bus round trips (µs) */
static gdouble
flood(GwTestDaemon *d, const gchar *url, GBytes *body, guint n, GArray *statuses, GArray *latencies)
{
	Flood f = {url, body, n, 0, statuses, NULL, NULL, 0, g_main_context_default()};
	gint64 start = g_get_monotonic_time();
	GThread *thread = g_thread_new("flood", flood_thread, &f);

	while (!g_atomic_int_get(&f.done)) {
		Ping p = {0};
		gint64 sent = g_get_monotonic_time();
		gint64 latency;
		/* sent while POSTs were in flight (it may come back after they are done) */
		gboolean during = !g_atomic_int_get(&f.done);
		g_dbus_connection_call(d->connection,
		                       "org.gwmo.Gateway1",
		                       "/org/gwmo/Gateway1",
		                       "org.gwmo.Gateway1.Manager",
		                       "GetNode",
		                       g_variant_new("(s)", "./DevInfo/DevId"),
		                       G_VARIANT_TYPE("(ssv)"),
		                       G_DBUS_CALL_FLAGS_NONE,
		                       120000,
		                       NULL,
		                       ping_done,
		                       &p);
		while (!p.answered)
			g_main_context_iteration(NULL, TRUE);
		g_assert_no_error(p.error);
		latency = g_get_monotonic_time() - sent;
		if (during)
			g_array_append_val(latencies, latency);
		/* a call every 5 ms: answering them is not what the main thread's CPU time
		 * measures */
		g_usleep(5000);
	}
	g_thread_join(thread);
	g_assert_no_error(f.error);
	g_assert_cmpuint(statuses->len, ==, n);
	return (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

static gint
cmp_gint64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a;
	gint64 y = *(const gint64 *)b;
	return x < y ? -1 : x > y;
}

static void
print_latencies(const gchar *what, GArray *l)
{
	if (l->len == 0) {
		g_test_message("%s: no D-Bus call made while the POSTs were in flight", what);
		return;
	}
	g_array_sort(l, cmp_gint64);
	g_test_message("%s: %u D-Bus calls made meanwhile, latency median %.1f ms, max %.1f ms",
	               what,
	               l->len,
	               g_array_index(l, gint64, l->len / 2) / 1000.0,
	               g_array_index(l, gint64, l->len - 1) / 1000.0);
}

static void
test_hostile_xml(void)
{
	guint16 port = gw_test_free_port();
	g_autofree gchar *config = g_strdup_printf(
	    "[northbound]\nlisten=\n[southbound]\nlisten=http://127.0.0.1:%u\n", port);
	g_autofree gchar *url = g_strdup_printf("http://127.0.0.1:%u/dm", port);
	GwTestDaemon *d = gw_test_daemon_new_with_config(config);
	g_autoptr(GBytes) hostile = hostile_message(100000);
	g_autoptr(GBytes) big = big_message();
	g_autoptr(GArray) statuses = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GArray) latencies = g_array_new(FALSE, FALSE, sizeof(gint64));
	guint64 main0, all0, main1, all1;
	gdouble secs;

	g_assert_cmpuint(g_bytes_get_size(hostile), >, 1000000);
	g_assert_cmpuint(g_bytes_get_size(big), >, 4000000);
	gw_test_daemon_start(d, NULL);
	{
		/* the device that comes afterwards */
		GVariantBuilder b;
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string("dev-1"));
		g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
		g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string("dev-1"));
		g_variant_builder_add(
		    &b, "{sv}", "ClientSecret", g_variant_new_string("dev-secret"));
		g_variant_builder_add(
		    &b, "{sv}", "ServerSecret", g_variant_new_string("gw-secret"));
		reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
		g_assert_no_error(error);
	}

	/* the hostile message, four times at once: refused, and D-Bus answered all along */
	secs = flood(d, url, hostile, 4, statuses, latencies);
	g_test_message("4 POSTs of %" G_GSIZE_FORMAT
	               " bytes with 100,000 attributes answered in %.3f s",
	               g_bytes_get_size(hostile),
	               secs);
	print_latencies("hostile messages", latencies);
	for (guint i = 0; i < statuses->len; i++)
		g_assert_cmpuint(g_array_index(statuses, guint, i), ==, 400);
	g_assert_true(gw_test_daemon_is_running(d));

	/* big messages within the bounds: parsed in worker threads */
	g_array_set_size(statuses, 0);
	g_array_set_size(latencies, 0);
	daemon_cpu(d, &main0, &all0);
	secs = flood(d, url, big, BIG_POSTS, statuses, latencies);
	daemon_cpu(d, &main1, &all1);
	g_test_message("%u POSTs of %" G_GSIZE_FORMAT
	               " bytes (within the bounds) answered in %.3f s; "
	               "gwmod CPU %" G_GUINT64_FORMAT " ticks, %" G_GUINT64_FORMAT
	               " of them in the main thread",
	               (guint)BIG_POSTS,
	               g_bytes_get_size(big),
	               secs,
	               all1 - all0,
	               main1 - main0);
	print_latencies("big messages", latencies);
	for (guint i = 0; i < statuses->len; i++)
		g_assert_cmpuint(g_array_index(statuses, guint, i), ==, 403); /* unknown device */
	/* parsing is most of the work; it did not run in the main thread */
	g_assert_cmpuint(all1 - all0, >, 0);
	g_assert_cmpuint(2 * (main1 - main0), <, all1 - all0);

	/* a real device is served afterwards */
	{
		g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		    G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
		g_autoptr(GSubprocess) device = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *server_arg = g_strdup_printf("--server=%s", url);
		g_autofree gchar *err = NULL;

		device = g_subprocess_launcher_spawn(launcher,
		                                     &error,
		                                     device_binary,
		                                     server_arg,
		                                     "--dev-id=dev-1",
		                                     "--auth=md5",
		                                     "--client-secret=dev-secret",
		                                     "--server-name=GW-TEST-0001",
		                                     "--server-secret=gw-secret",
		                                     NULL);
		g_assert_no_error(error);
		g_subprocess_communicate_utf8(device, NULL, NULL, NULL, &err, &error);
		g_assert_no_error(error);
		if (!g_subprocess_get_if_exited(device) ||
		    g_subprocess_get_exit_status(device) != 0)
			g_printerr("device: %s\n", err);
		g_assert_true(g_subprocess_get_if_exited(device));
		g_assert_cmpint(g_subprocess_get_exit_status(device), ==, 0);
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

/* a reply over the bus's message size gets a D-Bus client disconnected (dbus-daemon's default
 * max_message_size is 32 MiB): ExportTree and GetManagedObjects refuse what is over [daemon]
 * max-dbus-reply with LimitsExceeded, and gwmod stays on the bus */
static void
test_large_reply(void)
{
	GwTestDaemon *d = gw_test_daemon_new_with_config("[daemon]\nmax-dbus-reply=8192\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) small = NULL;
	g_autoptr(GVariant) objects = NULL;
	const gchar *xml = NULL;

	gw_test_daemon_start(d, NULL);
	/* the whole tree is well over 8 KiB */
	gw_test_assert_dbus_error(d,
	                          "ExportTree",
	                          g_variant_new("(s)", "."),
	                          "org.freedesktop.DBus.Error.LimitsExceeded");
	/* still on the bus: a small subtree comes back whole */
	small = gw_test_call(d, "ExportTree", g_variant_new("(s)", "./DevInfo/DevId"), "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(small, "(&s)", &xml);
	g_assert_nonnull(strstr(xml, "<NodeName>DevId</NodeName>"));

	/* GetManagedObjects with devices enough to be over 8 KiB */
	for (guint i = 0; i < 40; i++) {
		GVariantBuilder b;
		g_autofree gchar *id = g_strdup_printf("urn:dev:large-reply-%02u", i);
		g_autoptr(GVariant) reply = NULL;

		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
		reply = gw_test_call(
		    d, "AddDevice", g_variant_new("(@a{sv})", g_variant_builder_end(&b)), "(o)", &error);
		g_assert_no_error(error);
	}
	objects = g_dbus_connection_call_sync(d->connection,
	                                      "org.gwmo.Gateway1",
	                                      "/org/gwmo/Gateway1",
	                                      "org.freedesktop.DBus.ObjectManager",
	                                      "GetManagedObjects",
	                                      NULL,
	                                      NULL,
	                                      G_DBUS_CALL_FLAGS_NONE,
	                                      30000,
	                                      NULL,
	                                      &error);
	g_assert_null(objects);
	g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED);
	g_assert_true(gw_test_daemon_is_running(d));
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	device_binary = argc > 1 ? argv[1] : NULL;
	g_test_add_func("/gw/dbus/limits/fanout-args", test_fanout_args);
	g_test_add_func("/gw/dbus/limits/large-reply", test_large_reply);
	if (device_binary != NULL)
		g_test_add_func("/gw/dbus/limits/hostile-xml", test_hostile_xml);
	return g_test_run();
}
