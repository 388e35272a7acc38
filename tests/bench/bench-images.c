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

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

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

/* @url signed for device @i with the gateway's key @key (spec/GWMO.md §9): what the device
 * receives when the gateway hands it the image's LocalURI */
static gchar *
signed_url(const gchar *url, GBytes *key, guint i)
{
	g_autofree gchar *dev = g_strdup_printf("bench-dev-%u", i);
	gint64 exp = g_get_real_time() / G_USEC_PER_SEC + 3600;
	g_autofree gchar *text =
	    g_strdup_printf("%s|%s|%" G_GINT64_FORMAT, strrchr(url, '/') + 1, dev, exp);
	g_autofree gchar *sig = g_compute_hmac_for_data(G_CHECKSUM_SHA256,
	                                                g_bytes_get_data(key, NULL),
	                                                g_bytes_get_size(key),
	                                                (const guchar *)text,
	                                                strlen(text));
	return g_strdup_printf("%s?dev=%s&exp=%" G_GINT64_FORMAT "&sig=%s", url, dev, exp, sig);
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
		g_autofree gchar *device_url =
		    key != NULL ? signed_url(url, key, i) : g_strdup(url);
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

/* ---- gwmod ---- */

static GVariant *
call(GwTestDaemon *d, const gchar *method, GVariant *params, const gchar *type)
{
	g_autoptr(GError) error = NULL;
	GVariant *reply = gw_test_call(d, method, params, type, &error);
	if (reply == NULL)
		bench_fail("%s: %s", method, error->message);
	return reply;
}

static gchar *
image_state(GwTestDaemon *d, const gchar *path)
{
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_sync(d->connection,
	                                "org.gwmo.Gateway1",
	                                path,
	                                "org.freedesktop.DBus.Properties",
	                                "Get",
	                                g_variant_new("(ss)", "org.gwmo.Gateway1.Image", "State"),
	                                G_VARIANT_TYPE("(v)"),
	                                G_DBUS_CALL_FLAGS_NONE,
	                                -1,
	                                NULL,
	                                NULL);
	g_autoptr(GVariant) v = NULL;
	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(v)", &v);
	return g_variant_dup_string(v, NULL);
}

/* ---- nginx ---- */

static const gchar *
find_nginx(void)
{
	static gchar *found = NULL;
	const gchar *env = g_getenv("GW_BENCH_NGINX");
	if (env != NULL && env[0] != '\0')
		return env;
	if (found == NULL)
		found = g_find_program_in_path("nginx");
	if (found == NULL && g_file_test("/usr/sbin/nginx", G_FILE_TEST_IS_EXECUTABLE))
		found = g_strdup("/usr/sbin/nginx");
	return found;
}

static void
child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* nginx in the foreground with one worker, serving @root's files at /images/ */
static GSubprocess *
nginx_start(const gchar *nginx, const gchar *dir, const gchar *root, guint16 port)
{
	g_autofree gchar *conf_path = g_build_filename(dir, "nginx.conf", NULL);
	g_autofree gchar *log = g_build_filename(dir, "nginx.log", NULL);
	g_autofree gchar *conf =
	    g_strdup_printf("daemon off;\n"
	                    /* one process, no privilege switch (it reads the test's state dir) */
	                    "master_process off;\n"
	                    "worker_processes 1;\n"
	                    "pid %s/nginx.pid;\n"
	                    "error_log %s/nginx-error.log warn;\n"
	                    "events { worker_connections 256; }\n"
	                    "http {\n"
	                    "  access_log off;\n"
	                    "  sendfile on;\n"
	                    "  tcp_nopush on;\n"
	                    "  client_body_temp_path %s/body;\n"
	                    "  proxy_temp_path %s/proxy;\n"
	                    "  fastcgi_temp_path %s/fastcgi;\n"
	                    "  uwsgi_temp_path %s/uwsgi;\n"
	                    "  scgi_temp_path %s/scgi;\n"
	                    "  default_type application/octet-stream;\n"
	                    "  server {\n"
	                    "    listen 127.0.0.1:%u;\n"
	                    "    location /images/ { alias %s/; }\n"
	                    "  }\n"
	                    "}\n",
	                    dir,
	                    dir,
	                    dir,
	                    dir,
	                    dir,
	                    dir,
	                    dir,
	                    port,
	                    root);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	GSubprocess *proc;

	if (!g_file_set_contents(conf_path, conf, -1, &error))
		bench_fail("%s", error->message);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawn(
	    launcher, &error, nginx, "-e", "stderr", "-p", dir, "-c", conf_path, NULL);
	if (proc == NULL)
		bench_fail("cannot start %s: %s", nginx, error->message);
	/* wait until it listens */
	for (guint i = 0; i < 200; i++) {
		g_autoptr(GSocketClient) c = g_socket_client_new();
		g_autoptr(GSocketConnection) conn =
		    g_socket_client_connect_to_host(c, "127.0.0.1", port, NULL, NULL);
		if (conn != NULL)
			return proc;
		if (g_subprocess_get_identifier(proc) == NULL)
			break;
		g_usleep(25 * 1000);
	}
	{
		g_autofree gchar *text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		bench_fail("nginx did not come up:\n%s", text != NULL ? text : "");
	}
}

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

int
main(int argc, char **argv)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(64);
	guint32 *raw = g_malloc(IMAGE_SIZE);
	g_autoptr(GBytes) blob = NULL;
	g_autofree gchar *sha = NULL;
	g_autofree gchar *hash = NULL;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *gw_url = NULL;
	g_autoptr(GBytes) key = NULL;
	g_autofree gchar *image_dir = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *tmp = NULL;
	g_autoptr(GVariant) reply = NULL;
	GwUpstream *up;
	GwTestDaemon *d;
	GSubprocess *nginx_proc = NULL;
	const gchar *nginx = find_nginx();
	guint16 south = free_port();
	gdouble best_gw = 0;
	gdouble best_nginx = 0;
	gint64 deadline;
	GVariantBuilder b;

	for (gsize i = 0; i < IMAGE_SIZE / 4; i++)
		raw[i] = g_rand_int(rand);
	blob = g_bytes_new_take(raw, IMAGE_SIZE);
	sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, blob);
	hash = g_strconcat("sha256:", sha, NULL);

	conf = g_strdup_printf("[northbound]\nlisten=\n[southbound]\nlisten=http://127.0.0.1:%u\n",
	                       south);
	d = gw_test_daemon_new_with_config(conf);
	d->quiet = TRUE; /* as it ships: no informational log lines */
	up = gw_upstream_new(blob);
	gw_test_daemon_start(d, NULL);
	for (guint i = 0; i < CLIENTS; i++) {
		g_autofree gchar *id = g_strdup_printf("bench-dev-%u", i);
		g_autofree gchar *secret = g_strdup_printf("bench-secret-%u", i);
		g_autoptr(GVariant) r = NULL;
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
		g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(id));
		g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(secret));
		r = call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)");
	}
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string("bench-image"));
	g_variant_builder_add(
	    &b, "{sv}", "ExternalURI", g_variant_new_string(gw_upstream_get_url(up)));
	g_variant_builder_add(&b, "{sv}", "Hash", g_variant_new_string(hash));
	reply = call(d, "AddImage", g_variant_new("(a{sv})", &b), "(o)");
	g_variant_get(reply, "(o)", &path);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r = g_dbus_connection_call_sync(d->connection,
		                                                    "org.gwmo.Gateway1",
		                                                    path,
		                                                    "org.gwmo.Gateway1.Image",
		                                                    "Download",
		                                                    NULL,
		                                                    NULL,
		                                                    G_DBUS_CALL_FLAGS_NONE,
		                                                    -1,
		                                                    NULL,
		                                                    &error);
		if (r == NULL)
			bench_fail("Download: %s", error->message);
	}
	deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
	for (;;) {
		g_autofree gchar *state = image_state(d, path);
		if (g_strcmp0(state, "Available") == 0)
			break;
		if (g_strcmp0(state, "Failed") == 0 || g_get_monotonic_time() > deadline)
			bench_fail("the image did not become Available (%s)", state);
		g_usleep(50 * 1000);
	}
	gw_url = g_strdup_printf("http://127.0.0.1:%u/images/%s", south, sha);
	image_dir = g_build_filename(d->state_dir, "images", NULL);
	{
		g_autofree gchar *key_path = g_build_filename(d->state_dir, "image-url.key", NULL);
		gchar *data = NULL;
		gsize len = 0;
		if (!g_file_get_contents(key_path, &data, &len, NULL))
			bench_fail("no image URL key in %s", key_path);
		key = g_bytes_new_take(data, len);
	}

	if (nginx != NULL) {
		guint16 port = free_port();
		g_autofree gchar *nginx_url =
		    g_strdup_printf("http://127.0.0.1:%u/images/%s", port, sha);
		tmp = g_dir_make_tmp("gwmo-bench-nginx-XXXXXX", NULL);
		nginx_proc = nginx_start(nginx, tmp, image_dir, port);
		for (guint round = 0; round < ROUNDS; round++) {
			gdouble g = measure(gw_url, key);
			gdouble n = measure(nginx_url, NULL);
			g_print("round %u: gwmod %.0f MB/s, nginx %.0f MB/s\n", round + 1, g, n);
			best_gw = MAX(best_gw, g);
			best_nginx = MAX(best_nginx, n);
		}
		/* stop it by its PID */
		g_subprocess_send_signal(nginx_proc, SIGTERM);
		g_subprocess_wait(nginx_proc, NULL, NULL);
		g_object_unref(nginx_proc);
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
		rm_rf(tmp);
	if (nginx == NULL) {
		g_print("nginx not found: no comparison (install nginx-light)\n");
		return 77;
	}
	return 0;
}
