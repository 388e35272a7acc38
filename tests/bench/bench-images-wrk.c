/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Image serving under a real load generator (issue 16 §2): wrk (many keep-alive connections,
 * two threads) against the real gwmod's GET /images/<sha256> on its southbound listeners and
 * against nginx with one worker per core serving the same files, on loopback. Two images
 * (64 KiB and 64 MiB), http and https, wrk -t2 -c{16,64,256} -d<D>s for each; per row:
 * requests/s, MB/s, latency p50/p99, errors, the CPU seconds the server used, and for gwmod its
 * largest RSS and number of open descriptors while the load ran; then the ratio gwmod/nginx.
 *
 * Device authentication as devices do it: over http the URL signed for the device (spec/GWMO.md
 * §9: ?dev=&exp=&sig=, checked per request), over https HTTP Basic with the device's inventory
 * credentials (wrk -H Authorization). nginx checks nothing: it is the bound of what a server
 * without any per-request work reaches on this machine. gwmod gets [http]
 * max-connections-per-peer=4096: every wrk connection comes from 127.0.0.1, and the default
 * (64) is a per-client cap that would close the rest.
 *
 * A benchmark: speed never fails it; a row that moved no byte, or only errors, exits 1; no wrk or
 * no nginx exits 77 (skipped).
 *
 * usage: bench-images-wrk   (GWMO_TEST_GWMOD: gwmod; GW_BENCH_NGINX: nginx, default from PATH
 *                            or /usr/sbin/nginx; GW_BENCH_WRK: wrk; GW_BENCH_WRK_DURATION:
 *                            seconds per row, default 10; GW_BENCH_WRK_CONNECTIONS: default
 *                            "16 64 256"; GW_BENCH_WRK_ONLY: "gwmod" or "nginx" to run one
 *                            side)
 */

#define G_LOG_DOMAIN "GwImagesWrkBench"

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw-bench-images.h"
#include "gw-test-daemon.h"
#include "gw-upstream.h"

#define SMALL_SIZE (64u * 1024u)
#define LARGE_SIZE (64u * 1024u * 1024u)
#define DEVICE_ID "bench-dev-0"
#define DEVICE_SECRET "bench-secret-0"

static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) bench_fail(const gchar *format, ...)
{
	va_list ap;
	g_autofree gchar *msg = NULL;
	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_printerr("bench-images-wrk: %s\n", msg);
	exit(1);
}

/* ---- /proc: CPU time, RSS and descriptors of a process (and its children) ---- */

static guint64
proc_cpu_ticks(GPid pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%d/stat", (gint)pid);
	g_autofree gchar *text = NULL;
	g_auto(GStrv) fields = NULL;
	const gchar *after;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	after = strrchr(text, ')'); /* the name may hold spaces */
	if (after == NULL)
		return 0;
	fields = g_strsplit(after + 2, " ", 0);
	/* fields from 3 (state): utime is field 14, stime 15 */
	if (g_strv_length(fields) < 13)
		return 0;
	return g_ascii_strtoull(fields[11], NULL, 10) + g_ascii_strtoull(fields[12], NULL, 10);
}

static GArray *
proc_children(GPid pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%d/task/%d/children", (gint)pid, (gint)pid);
	g_autofree gchar *text = NULL;
	g_auto(GStrv) ids = NULL;
	GArray *out = g_array_new(FALSE, FALSE, sizeof(GPid));

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return out;
	ids = g_strsplit(g_strstrip(text), " ", 0);
	for (guint i = 0; ids[i] != NULL; i++) {
		GPid child = (GPid)g_ascii_strtoll(ids[i], NULL, 10);
		if (child > 0)
			g_array_append_val(out, child);
	}
	return out;
}

/* the CPU ticks of @pid and its children (nginx: the master and its workers) */
static guint64
proc_tree_cpu_ticks(GPid pid)
{
	g_autoptr(GArray) children = proc_children(pid);
	guint64 ticks = proc_cpu_ticks(pid);
	for (guint i = 0; i < children->len; i++)
		ticks += proc_cpu_ticks(g_array_index(children, GPid, i));
	return ticks;
}

static guint64
proc_rss_kib(GPid pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%d/status", (gint)pid);
	g_autofree gchar *text = NULL;
	const gchar *line;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	line = strstr(text, "\nVmRSS:");
	return line != NULL ? g_ascii_strtoull(line + strlen("\nVmRSS:"), NULL, 10) : 0;
}

static guint
proc_fds(GPid pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%d/fd", (gint)pid);
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	guint n = 0;
	while (dir != NULL && g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

/* ---- one wrk run ---- */

typedef struct {
	gdouble requests_per_s;
	gdouble mb_per_s; /* 10^6 bytes */
	gdouble mb;       /* moved in all */
	gdouble p50_ms;
	gdouble p99_ms;
	guint64 requests;
	guint64 errors; /* connect, read, write, timeout, non-2xx */
	gdouble cpu_s;  /* of the server (and its children) during the run */
	guint64 rss_max_kib;
	guint fds_max;
} Row;

/* wrk's done() hook: one line the driver parses (latency in µs) */
static const gchar *WRK_SCRIPT =
    "done = function(summary, latency, requests)\n"
    "  io.write(string.format('GWBENCH requests=%d bytes=%d duration=%d p50=%d p99=%d "
    "connect=%d read=%d write=%d status=%d timeout=%d\\n', summary.requests, summary.bytes, "
    "summary.duration, latency:percentile(50), latency:percentile(99), summary.errors.connect, "
    "summary.errors.read, summary.errors.write, summary.errors.status, "
    "summary.errors.timeout))\n"
    "end\n";

static guint64
field(const gchar *line, const gchar *name)
{
	g_autofree gchar *key = g_strdup_printf(" %s=", name);
	const gchar *at = strstr(line, key);
	if (at == NULL)
		bench_fail("wrk said no %s: %s", name, line);
	return g_ascii_strtoull(at + strlen(key), NULL, 10);
}

typedef struct {
	GMainLoop *loop;
	GPid server;
	gboolean sample;
	Row *row;
	gchar *out;
	GError *error;
} WrkRun;

static gboolean
wrk_sample_cb(gpointer user_data)
{
	WrkRun *w = user_data;
	if (w->sample) {
		w->row->rss_max_kib = MAX(w->row->rss_max_kib, proc_rss_kib(w->server));
		w->row->fds_max = MAX(w->row->fds_max, proc_fds(w->server));
	}
	return G_SOURCE_CONTINUE;
}

static void
wrk_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	WrkRun *w = user_data;
	g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), res, &w->out, NULL, &w->error);
	g_main_loop_quit(w->loop);
}

static Row
run_wrk(const gchar *wrk,
        const gchar *script,
        const gchar *url,
        const gchar *auth_header,
        guint connections,
        guint seconds,
        GPid server,
        gboolean sample)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	const gchar *line;
	guint64 ticks0;
	guint64 ticks1;
	guint timer;
	Row row = {0};
	WrkRun w = {0};

	g_ptr_array_add(argv, g_strdup(wrk));
	g_ptr_array_add(argv, g_strdup("-t2"));
	g_ptr_array_add(argv, g_strdup_printf("-c%u", connections));
	g_ptr_array_add(argv, g_strdup_printf("-d%us", seconds));
	g_ptr_array_add(argv, g_strdup("--timeout"));
	g_ptr_array_add(argv, g_strdup("60s"));
	g_ptr_array_add(argv, g_strdup("-s"));
	g_ptr_array_add(argv, g_strdup(script));
	if (auth_header != NULL) {
		g_ptr_array_add(argv, g_strdup("-H"));
		g_ptr_array_add(argv, g_strdup(auth_header));
	}
	g_ptr_array_add(argv, g_strdup(url));
	g_ptr_array_add(argv, NULL);

	g_subprocess_launcher_set_child_setup(launcher, gw_bench_child_setup, NULL, NULL);
	ticks0 = proc_tree_cpu_ticks(server);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	if (proc == NULL)
		bench_fail("cannot start %s: %s", wrk, error->message);
	/* the load runs: sample the server every 100 ms until wrk is done */
	w.loop = g_main_loop_new(NULL, FALSE);
	w.server = server;
	w.sample = sample;
	w.row = &row;
	timer = g_timeout_add(100, wrk_sample_cb, &w);
	g_subprocess_communicate_utf8_async(proc, NULL, NULL, wrk_done_cb, &w);
	g_main_loop_run(w.loop);
	g_source_remove(timer);
	g_main_loop_unref(w.loop);
	ticks1 = proc_tree_cpu_ticks(server);
	if (w.error != NULL)
		bench_fail("wrk: %s", w.error->message);
	line = w.out != NULL ? strstr(w.out, "GWBENCH ") : NULL;
	if (line == NULL)
		bench_fail("wrk %s gave no figures:\n%s", url, w.out != NULL ? w.out : "");
	{
		g_autofree gchar *l = g_strndup(line, strcspn(line, "\n"));
		gdouble duration_s = (gdouble)field(l, "duration") / 1e6;
		row.requests = field(l, "requests");
		row.requests_per_s = (gdouble)row.requests / duration_s;
		row.mb = (gdouble)field(l, "bytes") / 1e6;
		row.mb_per_s = row.mb / duration_s;
		row.p50_ms = (gdouble)field(l, "p50") / 1e3;
		row.p99_ms = (gdouble)field(l, "p99") / 1e3;
		row.errors = field(l, "connect") + field(l, "read") + field(l, "write") +
		             field(l, "status") + field(l, "timeout");
	}
	row.cpu_s = (gdouble)(ticks1 - ticks0) / (gdouble)sysconf(_SC_CLK_TCK);
	/* a 64 MiB body may take longer than a short run: bytes moved count then */
	if (row.mb_per_s == 0 || (row.requests > 0 && row.errors >= row.requests))
		bench_fail("no good response from %s:\n%s", url, w.out);
	g_free(w.out);
	return row;
}

/* @size random bytes (seeded with @seed) as an image of gwmod; its sha256 */
static gchar *
add_image(GwTestDaemon *d, guint32 size, guint32 seed, GwUpstream **up_out)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) blob = gw_bench_random_blob(size, seed);
	g_autofree gchar *name = g_strdup_printf("bench-image-%u", size);
	gchar *sha = gw_bench_add_image(d, name, blob, up_out, &error);
	if (sha == NULL)
		bench_fail("%s", error->message);
	return sha;
}

static void
print_row(const gchar *who, const Row *r, gboolean with_proc)
{
	g_print("    %-6s %9.1f req/s %8.1f MB/s  p50 %8.2f ms  p99 %8.2f ms  errors "
	        "%-5" G_GUINT64_FORMAT " cpu %5.2f s",
	        who,
	        r->requests_per_s,
	        r->mb_per_s,
	        r->p50_ms,
	        r->p99_ms,
	        r->errors,
	        r->cpu_s);
	if (with_proc)
		g_print("  rss %6.1f MiB  fds %u", (gdouble)r->rss_max_kib / 1024.0, r->fds_max);
	g_print("\n");
}

int
main(int argc, char **argv)
{
	g_autofree gchar *nginx =
	    gw_bench_find_program("GW_BENCH_NGINX", "nginx", "/usr/sbin/nginx");
	g_autofree gchar *wrk = gw_bench_find_program("GW_BENCH_WRK", "wrk", "/usr/bin/wrk");
	const gchar *only = g_getenv("GW_BENCH_WRK_ONLY");
	const gchar *dur_env = g_getenv("GW_BENCH_WRK_DURATION");
	const gchar *conns_env = g_getenv("GW_BENCH_WRK_CONNECTIONS");
	guint seconds = dur_env != NULL ? (guint)g_ascii_strtoull(dur_env, NULL, 10) : 10;
	g_auto(GStrv) conns = g_strsplit(conns_env != NULL ? conns_env : "16 64 256", " ", 0);
	gboolean run_gw = only == NULL || g_strcmp0(only, "gwmod") == 0;
	gboolean run_nginx = only == NULL || g_strcmp0(only, "nginx") == 0;
	guint16 south_http = gw_test_free_port();
	guint16 south_https = gw_test_free_port();
	guint16 nginx_http = gw_test_free_port();
	guint16 nginx_https = gw_test_free_port();
	g_autofree gchar *conf = NULL;
	g_autofree gchar *tmp = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *image_dir = NULL;
	g_autofree gchar *cert = NULL;
	g_autofree gchar *key_path = NULL;
	g_autofree gchar *basic = NULL;
	g_autofree gchar *auth_header = NULL;
	g_autofree gchar *sha_small = NULL;
	g_autofree gchar *sha_large = NULL;
	g_autoptr(GBytes) url_key = NULL;
	g_autoptr(GError) error = NULL;
	GwUpstream *up_small = NULL;
	GwUpstream *up_large = NULL;
	GSubprocess *nginx_proc = NULL;
	GwTestDaemon *d;
	GPid gw_pid;
	GPid nginx_pid = 0;
	const struct {
		const gchar *label;
		guint32 size;
	} sizes[] = {{"64 KiB", SMALL_SIZE}, {"64 MiB", LARGE_SIZE}};
	const gchar *schemes[] = {"http", "https"};

	if (wrk == NULL || nginx == NULL) {
		g_print(
		    "bench-images-wrk: %s not found: skipped (apt-get install wrk nginx-light)\n",
		    wrk == NULL ? "wrk" : "nginx");
		return 77;
	}
	if (seconds == 0)
		seconds = 10;
	tmp = g_dir_make_tmp("gwmo-bench-wrk-XXXXXX", NULL);
	script = g_build_filename(tmp, "report.lua", NULL);
	if (!g_file_set_contents(script, WRK_SCRIPT, -1, NULL))
		bench_fail("cannot write %s", script);

	conf = g_strdup_printf("[northbound]\nlisten=\n[southbound]\n"
	                       "listen=http://127.0.0.1:%u,https://127.0.0.1:%u\n"
	                       "[http]\nmax-connections-per-peer=4096\n",
	                       south_http,
	                       south_https);
	d = gw_test_daemon_new_with_config(conf);
	d->quiet = TRUE; /* as it ships: no informational log lines */
	d->nofile_soft = 8192;
	d->nofile_hard = 8192;
	gw_test_daemon_start(d, NULL);
	gw_pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(d->daemon), NULL, 10);
	if (!gw_bench_add_device(d, DEVICE_ID, DEVICE_SECRET, &error))
		bench_fail("%s", error->message);
	sha_small = add_image(d, SMALL_SIZE, 64, &up_small);
	sha_large = add_image(d, LARGE_SIZE, 65, &up_large);
	image_dir = g_build_filename(d->state_dir, "images", NULL);
	cert = g_build_filename(d->state_dir, "tls.crt", NULL);
	key_path = g_build_filename(d->state_dir, "tls.key", NULL);
	url_key = gw_bench_image_url_key(d, &error);
	if (url_key == NULL)
		bench_fail("%s", error->message);
	basic = g_base64_encode((const guchar *)DEVICE_ID ":" DEVICE_SECRET,
	                        strlen(DEVICE_ID ":" DEVICE_SECRET));
	auth_header = g_strdup_printf("Authorization: Basic %s", basic);
	if (run_nginx) {
		/* a master and one worker per core */
		GwBenchNginxConfig nc = {
		    .workers = (guint)MAX(1, sysconf(_SC_NPROCESSORS_ONLN)),
		    .worker_connections = 4096,
		    .keepalive_requests = 1000000,
		    .http_port = nginx_http,
		    .https_port = nginx_https,
		    .cert = cert,
		    .key = key_path,
		};
		nginx_proc = gw_bench_nginx_start(nginx, tmp, image_dir, &nc, &error);
		if (nginx_proc == NULL)
			bench_fail("%s", error->message);
		nginx_pid =
		    (GPid)g_ascii_strtoll(g_subprocess_get_identifier(nginx_proc), NULL, 10);
	}

	g_print("wrk -t2 -c<N> -d%us on 127.0.0.1, %ld online CPUs, nginx %ld worker(s); gwmod pid "
	        "%d, nginx pid %d\n",
	        seconds,
	        sysconf(_SC_NPROCESSORS_ONLN),
	        MAX(1, sysconf(_SC_NPROCESSORS_ONLN)),
	        (gint)gw_pid,
	        (gint)nginx_pid);
	for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
		const gchar *sha = sizes[s].size == SMALL_SIZE ? sha_small : sha_large;
		for (guint sc = 0; sc < G_N_ELEMENTS(schemes); sc++) {
			gboolean https = sc == 1;
			g_autofree gchar *gw_base =
			    g_strdup_printf("%s://127.0.0.1:%u/images/%s",
			                    schemes[sc],
			                    https ? south_https : south_http,
			                    sha);
			/* http: the signed URL; https: HTTP Basic (the devices' two ways) */
			g_autofree gchar *gw_url =
			    https ? g_strdup(gw_base)
			          : gw_bench_signed_url(gw_base, url_key, DEVICE_ID, 3600 * 24);
			g_autofree gchar *nginx_url =
			    g_strdup_printf("%s://127.0.0.1:%u/images/%s",
			                    schemes[sc],
			                    https ? nginx_https : nginx_http,
			                    sha);
			for (guint c = 0; conns[c] != NULL; c++) {
				guint n = (guint)g_ascii_strtoull(conns[c], NULL, 10);
				Row g = {0};
				Row x = {0};
				if (n == 0)
					continue;
				g_print("%s image, %s, %u connections\n",
				        sizes[s].label,
				        schemes[sc],
				        n);
				if (run_gw) {
					g = run_wrk(wrk,
					            script,
					            gw_url,
					            https ? auth_header : NULL,
					            n,
					            seconds,
					            gw_pid,
					            TRUE);
					print_row("gwmod", &g, TRUE);
				}
				if (run_nginx) {
					x = run_wrk(wrk,
					            script,
					            nginx_url,
					            NULL,
					            n,
					            seconds,
					            nginx_pid,
					            FALSE);
					print_row("nginx", &x, FALSE);
				}
				/* MB/s: a 64 MiB body may not finish within a short run, its bytes
				 * count all the same; CPU per MB moved compares both sizes */
				if (run_gw && run_nginx)
					g_print(
					    "    ratio gwmod/nginx %.2f (MB/s), CPU per MB moved "
					    "gwmod %.2f ms, nginx %.2f ms\n",
					    g.mb_per_s / x.mb_per_s,
					    g.cpu_s * 1e3 / g.mb,
					    x.cpu_s * 1e3 / x.mb);
			}
		}
	}
	if (nginx_proc != NULL)
		gw_bench_nginx_stop(nginx_proc);
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
	gw_upstream_free(up_small);
	gw_upstream_free(up_large);
	gw_bench_rm_rf(tmp);
	return 0;
}
