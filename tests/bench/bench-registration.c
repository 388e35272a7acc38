/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Registrations per second and memory per device (issue 4): N End Devices, simulated by one
 * gwmo-test-device process (--parallel 32), register at once with the real gwmod (open
 * registration, implicit Proxy-mode registration from each device's Package #1 DevInfo, HTTP on
 * 127.0.0.1). Prints registrations/s as the devices saw them (first message of the first device
 * to the last reply) and gwmod's RSS per device: (VmRSS after − VmRSS before) / N, from
 * /proc/<pid>/status, after the burst has settled.
 *
 * The baseline, in the same run: the same N device sessions, the same process and options,
 * against the reference DM Server (gwmo-test-server, one process, HTTP, no authentication,
 * keeps nothing), which only answers them. Prints the ratio gwmod / reference.
 *
 * Then, in the same run (issue 16), what a power cut does at that size: the state and journal
 * bytes per device on disk, SIGKILL of gwmod, the time to start again (to the bus name, and to
 * the southbound listener answering an HTTP request) with gwmod's CPU time beside it, its RSS
 * per device after the restart, and all N devices registering again at once
 * (registrations/s, RSS); after the restart and after the re-registration every device
 * bench-00001 … bench-N must have exactly one record (none lost, none duplicated). A copy
 * of the state as the power cut found it is kept in the log directory (state-N/).
 *
 * Sizes: GW_BENCH_DEVICES (comma-separated, default "1000,10000"). GW_BENCH_BASELINE=0 skips
 * the reference server. A benchmark: speed never fails it; a device that does not register, a
 * wrong inventory count, a lost or duplicated record or a dead gwmod exits 1.
 *
 * usage: bench-registration PATH-TO-gwmo-test-device PATH-TO-gwmo-test-server
 */

#define G_LOG_DOMAIN "GwRegistrationBench"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "gw-test-daemon.h"

#define PARALLEL "32"

static const gchar *device_binary;
static const gchar *server_binary;

static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) bench_fail(const gchar *format, ...)
{
	va_list ap;
	g_autofree gchar *msg = NULL;

	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_printerr("bench-registration: FAILED: %s\n", msg);
	exit(EXIT_FAILURE);
}

static void
child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static guint16
free_port(void)
{
	return gw_test_free_port();
}

/* VmRSS of @pid in kB */
static guint64
rss_kb(const gchar *pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%s/status", pid);
	g_autofree gchar *text = NULL;
	const gchar *line;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		bench_fail("cannot read %s", path);
	line = strstr(text, "\nVmRSS:");
	if (line == NULL)
		bench_fail("no VmRSS in %s", path);
	return g_ascii_strtoull(line + strlen("\nVmRSS:"), NULL, 10);
}

typedef struct {
	guint registered;
	guint failed;
	guint retries;
	gdouble elapsed_s;
	gdouble per_s;
} BenchRun;

/* runs the simulated devices against @url; their summary */
static BenchRun
devices_run(const gchar *url, guint n, const gchar *dir, const gchar *name)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree gchar *summary = g_strdup_printf("%s/%s-%u.json", dir, name, n);
	g_autofree gchar *log = g_strdup_printf("%s/%s-%u.log", dir, name, n);
	g_autofree gchar *server_arg = g_strdup_printf("--server=%s", url);
	g_autofree gchar *count_arg = g_strdup_printf("--count=%u", n);
	g_autofree gchar *summary_arg = g_strdup_printf("--summary=%s", summary);
	const gchar *argv[] = {device_binary,
	                       server_arg,
	                       "--dev-id=bench-%05u",
	                       count_arg,
	                       "--parallel=" PARALLEL,
	                       "--notify-addr=udp://127.0.0.1:9",
	                       "--quiet",
	                       summary_arg,
	                       NULL};
	JsonObject *o;
	BenchRun run = {0};

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	if (proc == NULL)
		bench_fail("%s: %s", device_binary, error->message);
	if (!g_subprocess_wait(proc, NULL, &error))
		bench_fail("%s", error->message);
	if (!json_parser_load_from_file(parser, summary, &error))
		bench_fail("%s: no summary (%s); see %s", name, error->message, log);
	o = json_node_get_object(json_parser_get_root(parser));
	run.registered = (guint)json_object_get_int_member(o, "registered");
	run.failed = (guint)json_object_get_int_member(o, "failed");
	run.retries = (guint)json_object_get_int_member(o, "retries");
	run.elapsed_s = json_object_get_double_member(o, "elapsed_s");
	run.per_s = json_object_get_double_member(o, "registrations_per_s");
	if (run.registered != n || run.failed != 0)
		bench_fail("%s: %u of %u registered, %u failed; see %s",
		           name,
		           run.registered,
		           n,
		           run.failed,
		           log);
	return run;
}

/* the same sessions against the reference DM Server */
static BenchRun
baseline_run(guint n, const gchar *dir)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ready = g_strdup_printf("%s/server-ready-%u", dir, n);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *listen_arg = g_strdup_printf("--listen=http://127.0.0.1:%u", free_port());
	g_autofree gchar *sessions_arg = g_strdup_printf("--sessions=%u", n);
	g_autofree gchar *log = g_strdup_printf("%s/server-%u.log", dir, n);
	g_autofree gchar *text = NULL;
	g_autofree gchar *url = NULL;
	const gchar *argv[] = {
	    server_binary, listen_arg, "--server-id=gwmo-gateway", sessions_arg, ready_arg, NULL};
	BenchRun run;

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	server = g_subprocess_launcher_spawnv(launcher, argv, &error);
	if (server == NULL)
		bench_fail("%s: %s", server_binary, error->message);
	for (guint i = 0; i < 200 && !g_file_get_contents(ready, &text, NULL, NULL); i++)
		g_usleep(50 * 1000);
	if (text == NULL)
		bench_fail("the reference server did not start; see %s", log);
	url = g_strdup(g_strstrip(strtok(text, "\n")));
	run = devices_run(url, n, dir, "reference");
	g_subprocess_send_signal(server, SIGTERM);
	g_subprocess_wait(server, NULL, NULL);
	return run;
}

/* user + system CPU time of @pid in seconds */
static gdouble
cpu_s(const gchar *pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%s/stat", pid);
	g_autofree gchar *text = NULL;
	g_auto(GStrv) fields = NULL;
	const gchar *end;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		bench_fail("cannot read %s", path);
	/* the fields after the command name, which may hold spaces: state is field 3, utime 14 */
	end = strrchr(text, ')');
	if (end == NULL)
		bench_fail("%s: no command name", path);
	fields = g_strsplit(end + 2, " ", -1);
	if (g_strv_length(fields) < 13)
		bench_fail("%s: too few fields", path);
	return (gdouble)(g_ascii_strtoull(fields[11], NULL, 10) +
	                 g_ascii_strtoull(fields[12], NULL, 10)) /
	       (gdouble)sysconf(_SC_CLK_TCK);
}

/* size of @name in @dir, 0 when it does not exist */
static guint64
file_size(const gchar *dir, const gchar *name)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	GStatBuf st;

	return g_stat(path, &st) == 0 ? (guint64)st.st_size : 0;
}

/* TRUE once the southbound listener answers an HTTP request (any status) */
static gboolean
listener_answers(guint16 port)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) conn = NULL;
	g_autofree gchar *request = g_strdup_printf(
	    "GET /dm HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n", port);
	gchar buf[16];
	gssize got;

	g_socket_client_set_timeout(client, 10);
	conn = g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, NULL);
	if (conn == NULL)
		return FALSE;
	if (!g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
	                               request,
	                               strlen(request),
	                               NULL,
	                               NULL,
	                               NULL))
		return FALSE;
	got = g_input_stream_read(
	    g_io_stream_get_input_stream(G_IO_STREAM(conn)), buf, sizeof(buf), NULL, NULL);
	return got >= 5 && memcmp(buf, "HTTP/", 5) == 0;
}

/* the value of a Manager GetNode as an unsigned number */
static guint64
get_count(GwTestDaemon *d, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	g_autofree gchar *text = NULL;

	reply = gw_test_call(d, "GetNode", g_variant_new("(s)", uri), "(ssv)", &error);
	if (reply == NULL)
		bench_fail("GetNode %s: %s", uri, error->message);
	g_variant_get(reply, "(&s&sv)", NULL, NULL, &value);
	text = g_variant_print(value, FALSE);
	return g_ascii_strtoull(text, NULL, 10);
}

/* every device bench-00001 … bench-N has exactly one record, and there is no other */
static void
check_records(GwTestDaemon *d, guint n, const gchar *when)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree guint8 *seen = g_new0(guint8, n + 1);
	g_autofree const gchar **names = NULL;
	guint lost = 0, duplicated = 0, unknown = 0;

	reply = gw_test_call(
	    d, "ListChildren", g_variant_new("(s)", "./GwMO/Inventory/Devices"), "(as)", &error);
	if (reply == NULL)
		bench_fail("ListChildren: %s", error->message);
	g_variant_get(reply, "(^a&s)", &names);
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree gchar *uri =
		    g_strdup_printf("./GwMO/Inventory/Devices/%s/DeviceID", names[i]);
		g_autoptr(GVariant) r = NULL;
		g_autoptr(GVariant) value = NULL;
		guint64 k = 0;

		r = gw_test_call(d, "GetNode", g_variant_new("(s)", uri), "(ssv)", &error);
		if (r == NULL)
			bench_fail("GetNode %s: %s", uri, error->message);
		g_variant_get(r, "(&s&sv)", NULL, NULL, &value);
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
		    !g_str_has_prefix(g_variant_get_string(value, NULL), "bench-") ||
		    !g_ascii_string_to_unsigned(
		        g_variant_get_string(value, NULL) + 6, 10, 1, n, &k, NULL)) {
			unknown++;
			continue;
		}
		if (seen[k]++ > 0)
			duplicated++;
	}
	for (guint k = 1; k <= n; k++)
		lost += seen[k] == 0;
	g_print("  records %s: %u, %u lost, %u duplicated, %u unknown\n",
	        when,
	        g_strv_length((gchar **)names),
	        lost,
	        duplicated,
	        unknown);
	if (lost > 0 || duplicated > 0 || unknown > 0)
		bench_fail("records %s: %u lost, %u duplicated, %u unknown",
		           when,
		           lost,
		           duplicated,
		           unknown);
}

/* a copy of the state as the power cut found it, in @dir/state-@n/ (for profiling) */
static void
keep_state(const gchar *state_dir, const gchar *dir, guint n)
{
	g_autofree gchar *to = g_strdup_printf("%s/state-%u", dir, n);
	const gchar *names[] = {"tree.state", "tree.journal"};

	g_mkdir_with_parents(to, 0700);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree gchar *a = g_build_filename(state_dir, names[i], NULL);
		g_autofree gchar *b = g_build_filename(to, names[i], NULL);
		g_autoptr(GFile) fa = g_file_new_for_path(a);
		g_autoptr(GFile) fb = g_file_new_for_path(b);

		g_file_copy(fa, fb, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, NULL);
	}
}

static void
bench_size(guint n, const gchar *dir)
{
	g_autofree gchar *conf = NULL;
	g_autofree gchar *url = NULL;
	GwTestDaemon *d;
	const gchar *pid;
	guint16 port = free_port();
	guint64 before, after, restarted, reregistered, state_bytes, journal_bytes;
	gdouble cpu_before, cpu_after, cpu_bus, cpu_listen, cpu_rereg_before, cpu_rereg_after;
	gint64 t0, t_bus, t_listen;
	BenchRun ours, again, ref = {0};
	gboolean baseline = g_strcmp0(g_getenv("GW_BENCH_BASELINE"), "0") != 0;

	conf = g_strdup_printf("[northbound]\nlisten=\n[southbound]\nlisten=http://127.0.0.1:%u\n"
	                       "open-registration=true\n",
	                       port);
	d = gw_test_daemon_new_with_config(conf);
	d->quiet = TRUE; /* as it ships: no informational log lines */
	gw_test_daemon_start(d, NULL);
	pid = g_subprocess_get_identifier(d->daemon);
	if (pid == NULL)
		bench_fail("gwmod is not running");
	g_usleep(300 * 1000);
	before = rss_kb(pid);
	cpu_before = cpu_s(pid);
	url = g_strdup_printf("http://127.0.0.1:%u/dm", port);
	ours = devices_run(url, n, dir, "gwmod");
	/* let the last commits, D-Bus exports and the store settle */
	g_usleep(1000 * 1000);
	after = rss_kb(pid);
	cpu_after = cpu_s(pid);
	if (get_count(d, "./GwMO/Inventory/Summary/Attached") != n)
		bench_fail("Summary/Attached is not %u", n);
	state_bytes = file_size(d->state_dir, "tree.state");
	journal_bytes = file_size(d->state_dir, "tree.journal");
	keep_state(d->state_dir, dir, n);

	/* a power cut: no clean shutdown, the journal is what the last commits left */
	gw_test_daemon_kill(d);
	t0 = g_get_monotonic_time();
	gw_test_daemon_start(d, NULL); /* returns once gwmod owns its bus name (50 ms polls) */
	t_bus = g_get_monotonic_time();
	pid = g_subprocess_get_identifier(d->daemon);
	if (pid == NULL)
		bench_fail("gwmod did not restart");
	cpu_bus = cpu_s(pid);
	while (!listener_answers(port)) {
		if (g_get_monotonic_time() - t0 > 120 * G_USEC_PER_SEC)
			bench_fail("the southbound listener does not answer after the restart");
		g_usleep(5 * 1000);
	}
	t_listen = g_get_monotonic_time();
	cpu_listen = cpu_s(pid);
	g_usleep(1000 * 1000);
	restarted = rss_kb(pid);
	check_records(d, n, "after the restart");

	/* power-cut recovery: every device comes back at once */
	cpu_rereg_before = cpu_s(pid);
	again = devices_run(url, n, dir, "gwmod-again");
	g_usleep(1000 * 1000);
	reregistered = rss_kb(pid);
	cpu_rereg_after = cpu_s(pid);
	if (get_count(d, "./GwMO/Inventory/Summary/Attached") != n)
		bench_fail("Summary/Attached is not %u after the re-registration", n);
	check_records(d, n, "after the re-registration");
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);

	if (baseline)
		ref = baseline_run(n, dir);
	g_print("N = %u devices, %s sessions in flight, on a shared machine\n", n, PARALLEL);
	g_print("  gwmod:     %8.1f registrations/s (%.2f s, %u retries; gwmod CPU %.2f s)\n",
	        ours.per_s,
	        ours.elapsed_s,
	        ours.retries,
	        cpu_after - cpu_before);
	if (baseline) {
		g_print(
		    "  reference: %8.1f sessions/s      (%.2f s, %u retries) (gwmo-test-server, "
		    "keeps nothing)\n",
		    ref.per_s,
		    ref.elapsed_s,
		    ref.retries);
		g_print("  ratio gwmod/reference: %.2f\n",
		        ref.per_s > 0 ? ours.per_s / ref.per_s : 0.0);
	}
	g_print("  gwmod RSS: %" G_GUINT64_FORMAT " kB before, %" G_GUINT64_FORMAT
	        " kB after: %.2f kB per device\n",
	        before,
	        after,
	        after > before ? (gdouble)(after - before) / n : 0.0);
	g_print("  state: tree.state %" G_GUINT64_FORMAT " B + tree.journal %" G_GUINT64_FORMAT
	        " B: %.0f B per device\n",
	        state_bytes,
	        journal_bytes,
	        (gdouble)(state_bytes + journal_bytes) / n);
	g_print("  restart after SIGKILL: %.3f s to the bus name (CPU %.2f s), %.3f s to the "
	        "listener answering (CPU %.2f s)\n",
	        (gdouble)(t_bus - t0) / G_USEC_PER_SEC,
	        cpu_bus,
	        (gdouble)(t_listen - t0) / G_USEC_PER_SEC,
	        cpu_listen);
	g_print("  gwmod RSS after the restart: %" G_GUINT64_FORMAT " kB: %.2f kB per device\n",
	        restarted,
	        restarted > before ? (gdouble)(restarted - before) / n : 0.0);
	g_print("  re-registration of all at once: %8.1f registrations/s (%.2f s, %u retries; "
	        "gwmod CPU %.2f s), 0 lost, 0 duplicated\n",
	        again.per_s,
	        again.elapsed_s,
	        again.retries,
	        cpu_rereg_after - cpu_rereg_before);
	g_print("  gwmod RSS after the re-registration: %" G_GUINT64_FORMAT
	        " kB: %.2f kB per device\n",
	        reregistered,
	        reregistered > before ? (gdouble)(reregistered - before) / n : 0.0);
}

int
main(int argc, char **argv)
{
	const gchar *sizes = g_getenv("GW_BENCH_DEVICES");
	g_auto(GStrv) list = NULL;
	g_autofree gchar *dir = NULL;
	g_autoptr(GError) error = NULL;

	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-device PATH-TO-gwmo-test-server\n",
		           argv[0]);
		return 2;
	}
	device_binary = argv[1];
	server_binary = argv[2];
	dir = g_dir_make_tmp("gwmo-bench-reg-XXXXXX", &error);
	if (dir == NULL)
		bench_fail("%s", error->message);
	list = g_strsplit(sizes != NULL ? sizes : "1000,10000", ",", -1);
	for (guint i = 0; list[i] != NULL; i++) {
		guint64 n = 0;
		if (!g_ascii_string_to_unsigned(g_strstrip(list[i]), 10, 1, 100000, &n, NULL))
			bench_fail("GW_BENCH_DEVICES: '%s' is not a device count", list[i]);
		bench_size((guint)n, dir);
	}
	g_print("logs and summaries in %s\n", dir);
	return EXIT_SUCCESS;
}
