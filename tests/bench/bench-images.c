/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Image serving throughput (GwMO-DCIS-002): 20 End Devices download the same 64 MiB image at
 * once from the real gwmod (GET /images/<sha256> on its southbound listener, each of 20
 * provisioned devices with the URL signed for it), and, in the same run, the same file from nginx
 * on loopback (a generated config, a non-daemon child process stopped by its PID). Clients: libsoup
 * 3 in this process, one connection per download, bodies counted and dropped. Prints MB/s of both
 * and the ratio gwmod/nginx (target >= 0.7); the best of ROUNDS rounds each, interleaved. A
 * benchmark: speed never fails it; a short or wrong body exits 1; no nginx on the machine exits 77
 * (skipped) after the gwmod figure.
 *
 * usage: bench-images   (GWMO_TEST_GWMOD: the gwmod binary; GW_BENCH_NGINX: the nginx
 *                        binary, default nginx from PATH or /usr/sbin/nginx)
 */

#define G_LOG_DOMAIN "GwImagesBench"

#include "config.h"

#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>

#include "gw-bench-images.h"
#include "gw-test-daemon.h"
#include "gw-upstream.h"

#define IMAGE_SIZE (64u * 1024u * 1024u)
#define CLIENTS 20
#define ROUNDS 3
#define TARGET_RATIO 0.7
#define READ_SIZE (1024 * 1024)

static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) bench_fail(const gchar *format, ...)
{
	va_list ap;
	g_autofree gchar *msg = NULL;
	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_printerr("bench-images: %s\n", msg);
	exit(1);
}

static guint16
free_port(void)
{
	return gw_test_free_port();
}

/* ---- 20 parallel downloads, bodies counted and dropped ---- */

typedef struct {
	GMainLoop *loop;
	guint pending;
	guint64 bytes;
	gchar *error;
} Round;

typedef struct {
	Round *round;
	SoupMessage *msg;
	GInputStream *in;
	guchar *buf;
	guint64 got;
} Fetch;

static void
fetch_done(Fetch *f, const gchar *error)
{
	Round *r = f->round;
	if (error != NULL && r->error == NULL)
		r->error = g_strdup(error);
	if (error == NULL && f->got != IMAGE_SIZE && r->error == NULL)
		r->error = g_strdup_printf("short body: %" G_GUINT64_FORMAT " bytes", f->got);
	r->bytes += f->got;
	g_clear_object(&f->in);
	g_clear_object(&f->msg);
	g_free(f->buf);
	g_free(f);
	if (--r->pending == 0)
		g_main_loop_quit(r->loop);
}

static void
fetch_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Fetch *f = user_data;
	g_autoptr(GError) error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
	if (n < 0) {
		fetch_done(f, error->message);
		return;
	}
	if (n == 0) {
		fetch_done(f, NULL);
		return;
	}
	f->got += (guint64)n;
	g_input_stream_read_async(
	    f->in, f->buf, READ_SIZE, G_PRIORITY_DEFAULT, NULL, fetch_read_cb, f);
}

static void
fetch_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Fetch *f = user_data;
	g_autoptr(GError) error = NULL;
	f->in = soup_session_send_finish(SOUP_SESSION(source), res, &error);
	if (f->in == NULL) {
		fetch_done(f, error->message);
		return;
	}
	if (soup_message_get_status(f->msg) != 200) {
		g_autofree gchar *why = g_strdup_printf("HTTP %u", soup_message_get_status(f->msg));
		fetch_done(f, why);
		return;
	}
	f->buf = g_malloc(READ_SIZE);
	g_input_stream_read_async(
	    f->in, f->buf, READ_SIZE, G_PRIORITY_DEFAULT, NULL, fetch_read_cb, f);
}

/* MB/s (10^6 bytes) of CLIENTS parallel GETs of @url; @key: each device gets its own signed
 * URL (the devices' HTTP Basic is for TLS only: the listener here is plain http, as nginx's) */
static gdouble
measure(const gchar *url, GBytes *key)
{
	g_autoptr(SoupSession) session = soup_session_new_with_options("proxy-resolver",
	                                                               NULL,
	                                                               "max-conns",
	                                                               64,
	                                                               "max-conns-per-host",
	                                                               64,
	                                                               "timeout",
	                                                               120,
	                                                               NULL);
	Round r = {0};
	gint64 t0;
	gint64 t1;

	r.loop = g_main_loop_new(NULL, FALSE);
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < CLIENTS; i++) {
		g_autofree gchar *dev = g_strdup_printf("bench-dev-%u", i);
		g_autofree gchar *device_url =
		    key != NULL ? gw_bench_signed_url(url, key, dev, 3600) : g_strdup(url);
		Fetch *f = g_new0(Fetch, 1);
		f->round = &r;
		f->msg = soup_message_new("GET", device_url);
		r.pending++;
		soup_session_send_async(
		    session, f->msg, G_PRIORITY_DEFAULT, NULL, fetch_sent_cb, f);
	}
	g_main_loop_run(r.loop);
	t1 = g_get_monotonic_time();
	g_main_loop_unref(r.loop);
	if (r.error != NULL)
		bench_fail("GET %s: %s", url, r.error);
	return (gdouble)r.bytes / ((gdouble)(t1 - t0) / G_USEC_PER_SEC) / 1e6;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) blob = gw_bench_random_blob(IMAGE_SIZE, 64);
	g_autofree gchar *sha = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *gw_url = NULL;
	g_autoptr(GBytes) key = NULL;
	g_autofree gchar *image_dir = NULL;
	g_autofree gchar *tmp = NULL;
	GwUpstream *up = NULL;
	GwTestDaemon *d;
	g_autofree gchar *nginx =
	    gw_bench_find_program("GW_BENCH_NGINX", "nginx", "/usr/sbin/nginx");
	guint16 south = free_port();
	gdouble best_gw = 0;
	gdouble best_nginx = 0;

	conf = g_strdup_printf("[northbound]\nlisten=\n[southbound]\nlisten=http://127.0.0.1:%u\n",
	                       south);
	d = gw_test_daemon_new_with_config(conf);
	d->quiet = TRUE; /* as it ships: no informational log lines */
	gw_test_daemon_start(d, NULL);
	for (guint i = 0; i < CLIENTS; i++) {
		g_autofree gchar *id = g_strdup_printf("bench-dev-%u", i);
		g_autofree gchar *secret = g_strdup_printf("bench-secret-%u", i);
		if (!gw_bench_add_device(d, id, secret, &error))
			bench_fail("%s", error->message);
	}
	sha = gw_bench_add_image(d, "bench-image", blob, &up, &error);
	if (sha == NULL)
		bench_fail("%s", error->message);
	gw_url = g_strdup_printf("http://127.0.0.1:%u/images/%s", south, sha);
	image_dir = g_build_filename(d->state_dir, "images", NULL);
	key = gw_bench_image_url_key(d, &error);
	if (key == NULL)
		bench_fail("%s", error->message);

	if (nginx != NULL) {
		/* one process with one worker: what one gwmod process is up against */
		GwBenchNginxConfig nc = {.worker_connections = 256, .http_port = free_port()};
		g_autofree gchar *nginx_url =
		    g_strdup_printf("http://127.0.0.1:%u/images/%s", nc.http_port, sha);
		GSubprocess *nginx_proc;
		tmp = g_dir_make_tmp("gwmo-bench-nginx-XXXXXX", NULL);
		nginx_proc = gw_bench_nginx_start(nginx, tmp, image_dir, &nc, &error);
		if (nginx_proc == NULL)
			bench_fail("%s", error->message);
		for (guint round = 0; round < ROUNDS; round++) {
			gdouble g = measure(gw_url, key);
			gdouble n = measure(nginx_url, NULL);
			g_print("round %u: gwmod %.0f MB/s, nginx %.0f MB/s\n", round + 1, g, n);
			best_gw = MAX(best_gw, g);
			best_nginx = MAX(best_nginx, n);
		}
		/* stop it by its PID */
		gw_bench_nginx_stop(nginx_proc);
	} else {
		for (guint round = 0; round < ROUNDS; round++)
			best_gw = MAX(best_gw, measure(gw_url, key));
	}
	g_print("%u parallel downloads of a %u MiB image, best of %u:\n",
	        CLIENTS,
	        IMAGE_SIZE / (1024 * 1024),
	        ROUNDS);
	g_print("  gwmod  %.0f MB/s\n", best_gw);
	if (nginx != NULL) {
		g_print("  nginx  %.0f MB/s (%s)\n", best_nginx, nginx);
		g_print("  ratio gwmod/nginx %.2f (target >= %.1f)%s\n",
		        best_gw / best_nginx,
		        TARGET_RATIO,
		        best_gw / best_nginx >= TARGET_RATIO ? "" : "  BELOW TARGET");
	}
	if (gw_upstream_get_requests(up) != 1)
		bench_fail("%u upstream downloads instead of 1", gw_upstream_get_requests(up));
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
	gw_upstream_free(up);
	if (tmp != NULL)
		gw_bench_rm_rf(tmp);
	if (nginx == NULL) {
		g_print("nginx not found: no comparison (install nginx-light)\n");
		return 77;
	}
	return 0;
}
