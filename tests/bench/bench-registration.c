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
 * Sizes: GW_BENCH_DEVICES (comma-separated, default "1000,5000"). A benchmark: speed never
 * fails it; a device that does not register, a wrong inventory count or a dead gwmod exits 1.
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

static void
bench_size(guint n, const gchar *dir)
{
	g_autofree gchar *conf = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *total = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	GwTestDaemon *d;
	const gchar *pid;
	guint16 port = free_port();
	guint64 before, after;
	BenchRun ours, ref;

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
	url = g_strdup_printf("http://127.0.0.1:%u/dm", port);
	ours = devices_run(url, n, dir, "gwmod");
	/* let the last commits, D-Bus exports and the store settle */
	g_usleep(1000 * 1000);
	after = rss_kb(pid);
	reply = gw_test_call(d,
	                     "GetNode",
	                     g_variant_new("(s)", "./GwMO/Inventory/Summary/Attached"),
	                     "(ssv)",
	                     &error);
	if (reply == NULL)
		bench_fail("gwmod does not answer: %s", error->message);
	g_variant_get(reply, "(&s&sv)", NULL, NULL, &value);
	total = g_variant_print(value, FALSE);
	if (g_ascii_strtoull(total, NULL, 10) != n)
		bench_fail("Summary/Attached is %s, expected %u", total, n);
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);

	ref = baseline_run(n, dir);
	g_print("N = %u devices, %s sessions in flight, 2 processes sharing the machine\n",
	        n,
	        PARALLEL);
	g_print("  gwmod:     %8.1f registrations/s (%.2f s, %u retries)\n",
	        ours.per_s,
	        ours.elapsed_s,
	        ours.retries);
	g_print("  reference: %8.1f sessions/s      (%.2f s, %u retries) (gwmo-test-server, "
	        "keeps nothing)\n",
	        ref.per_s,
	        ref.elapsed_s,
	        ref.retries);
	g_print("  ratio gwmod/reference: %.2f\n", ref.per_s > 0 ? ours.per_s / ref.per_s : 0.0);
	g_print("  gwmod RSS: %" G_GUINT64_FORMAT " kB before, %" G_GUINT64_FORMAT
	        " kB after: %.2f kB per device\n",
	        before,
	        after,
	        after > before ? (gdouble)(after - before) / n : 0.0);
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
	list = g_strsplit(sizes != NULL ? sizes : "1000,5000", ",", -1);
	for (guint i = 0; list[i] != NULL; i++) {
		guint64 n = 0;
		if (!g_ascii_string_to_unsigned(g_strstrip(list[i]), 10, 1, 100000, &n, NULL))
			bench_fail("GW_BENCH_DEVICES: '%s' is not a device count", list[i]);
		bench_size((guint)n, dir);
	}
	g_print("logs and summaries in %s\n", dir);
	return EXIT_SUCCESS;
}
