/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the image-serving benchmarks share: see gw-bench-images.h.
 */

#define G_LOG_DOMAIN "GwBench"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "gw-bench-images.h"
#include "gw-error.h"

gchar *
gw_bench_find_program(const gchar *env_name, const gchar *name, const gchar *fallback)
{
	const gchar *env = g_getenv(env_name);
	gchar *found;
	if (env != NULL && env[0] != '\0')
		return g_strdup(env);
	found = g_find_program_in_path(name);
	if (found == NULL && g_file_test(fallback, G_FILE_TEST_IS_EXECUTABLE))
		found = g_strdup(fallback);
	return found;
}

void
gw_bench_child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocess *
gw_bench_nginx_start(const gchar *nginx,
                     const gchar *dir,
                     const gchar *root,
                     const GwBenchNginxConfig *config,
                     GError **error)
{
	g_autofree gchar *conf_path = g_build_filename(dir, "nginx.conf", NULL);
	g_autofree gchar *log = g_build_filename(dir, "nginx.log", NULL);
	g_autoptr(GString) conf = g_string_new("daemon off;\n");
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GSubprocess) proc = NULL;
	guint16 port = config->https_port != 0 ? config->https_port : config->http_port;

	if (config->workers == 0)
		/* one process, no privilege switch (it reads the test's state dir) */
		g_string_append(conf, "master_process off;\nworker_processes 1;\n");
	else
		/* as root, the workers keep root (they read the test's state dir) */
		g_string_append_printf(conf,
		                       "%sworker_processes %u;\n",
		                       getuid() == 0 ? "user root;\n" : "",
		                       config->workers);
	g_string_append_printf(conf,
	                       "pid %s/nginx.pid;\n"
	                       "error_log %s/nginx-error.log warn;\n"
	                       "events { worker_connections %u; }\n"
	                       "http {\n"
	                       "  access_log off;\n"
	                       "  sendfile on;\n"
	                       "  tcp_nopush on;\n",
	                       dir,
	                       dir,
	                       config->worker_connections);
	if (config->keepalive_requests != 0)
		g_string_append_printf(
		    conf, "  keepalive_requests %u;\n", config->keepalive_requests);
	g_string_append_printf(conf,
	                       "  client_body_temp_path %s/body;\n"
	                       "  proxy_temp_path %s/proxy;\n"
	                       "  fastcgi_temp_path %s/fastcgi;\n"
	                       "  uwsgi_temp_path %s/uwsgi;\n"
	                       "  scgi_temp_path %s/scgi;\n"
	                       "  default_type application/octet-stream;\n"
	                       "  server {\n"
	                       "    listen 127.0.0.1:%u;\n",
	                       dir,
	                       dir,
	                       dir,
	                       dir,
	                       dir,
	                       config->http_port);
	if (config->https_port != 0)
		g_string_append_printf(conf,
		                       "    listen 127.0.0.1:%u ssl;\n"
		                       "    ssl_certificate %s;\n"
		                       "    ssl_certificate_key %s;\n",
		                       config->https_port,
		                       config->cert,
		                       config->key);
	g_string_append_printf(conf,
	                       "    location /images/ { alias %s/; }\n"
	                       "  }\n"
	                       "}\n",
	                       root);
	if (!g_file_set_contents(conf_path, conf->str, -1, error))
		return NULL;
	g_subprocess_launcher_set_child_setup(launcher, gw_bench_child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawn(
	    launcher, error, nginx, "-e", "stderr", "-p", dir, "-c", conf_path, NULL);
	if (proc == NULL) {
		g_prefix_error(error, "cannot start %s: ", nginx);
		return NULL;
	}
	/* wait until it listens */
	for (guint i = 0; i < 200; i++) {
		g_autoptr(GSocketClient) c = g_socket_client_new();
		g_autoptr(GSocketConnection) conn =
		    g_socket_client_connect_to_host(c, "127.0.0.1", port, NULL, NULL);
		if (conn != NULL)
			return g_steal_pointer(&proc);
		if (g_subprocess_get_identifier(proc) == NULL)
			break;
		g_usleep(25 * 1000);
	}
	{
		g_autofree gchar *text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		g_subprocess_force_exit(proc);
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "nginx did not come up:\n%s",
		            text != NULL ? text : "");
		return NULL;
	}
}

void
gw_bench_nginx_stop(GSubprocess *nginx)
{
	g_subprocess_send_signal(nginx, SIGTERM);
	g_subprocess_wait(nginx, NULL, NULL);
	g_object_unref(nginx);
}

GBytes *
gw_bench_random_blob(guint32 size, guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	guint32 *raw = g_malloc(size);
	for (gsize i = 0; i < size / 4; i++)
		raw[i] = g_rand_int(rand);
	return g_bytes_new_take(raw, size);
}

gboolean
gw_bench_add_device(GwTestDaemon *d, const gchar *id, const gchar *secret, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(secret));
	reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", error);
	if (reply == NULL)
		g_prefix_error(error, "AddDevice: ");
	return reply != NULL;
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

gchar *
gw_bench_add_image(GwTestDaemon *d,
                   const gchar *name,
                   GBytes *blob,
                   GwUpstream **up_out,
                   GError **error)
{
	g_autofree gchar *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, blob);
	g_autofree gchar *hash = g_strconcat("sha256:", sha, NULL);
	g_autofree gchar *path = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) r = NULL;
	GwUpstream *up = gw_upstream_new(blob);
	gint64 deadline;
	GVariantBuilder b;

	*up_out = up;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(name));
	g_variant_builder_add(
	    &b, "{sv}", "ExternalURI", g_variant_new_string(gw_upstream_get_url(up)));
	g_variant_builder_add(&b, "{sv}", "Hash", g_variant_new_string(hash));
	reply = gw_test_call(d, "AddImage", g_variant_new("(a{sv})", &b), "(o)", error);
	if (reply == NULL) {
		g_prefix_error(error, "AddImage: ");
		return NULL;
	}
	g_variant_get(reply, "(o)", &path);
	r = g_dbus_connection_call_sync(d->connection,
	                                "org.gwmo.Gateway1",
	                                path,
	                                "org.gwmo.Gateway1.Image",
	                                "Download",
	                                NULL,
	                                NULL,
	                                G_DBUS_CALL_FLAGS_NONE,
	                                -1,
	                                NULL,
	                                error);
	if (r == NULL) {
		g_prefix_error(error, "Download: ");
		return NULL;
	}
	deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
	for (;;) {
		g_autofree gchar *state = image_state(d, path);
		if (g_strcmp0(state, "Available") == 0)
			break;
		if (g_strcmp0(state, "Failed") == 0 || g_get_monotonic_time() > deadline) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_FAILED,
			            "the image did not become Available (%s)",
			            state);
			return NULL;
		}
		g_usleep(50 * 1000);
	}
	return g_steal_pointer(&sha);
}

GBytes *
gw_bench_image_url_key(GwTestDaemon *d, GError **error)
{
	g_autofree gchar *path = g_build_filename(d->state_dir, "image-url.key", NULL);
	gchar *data = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &data, &len, NULL)) {
		g_set_error(error, GW_ERROR, GW_ERROR_FAILED, "no image URL key in %s", path);
		return NULL;
	}
	return g_bytes_new_take(data, len);
}

gchar *
gw_bench_signed_url(const gchar *url, GBytes *key, const gchar *dev, gint64 valid_s)
{
	gint64 exp = g_get_real_time() / G_USEC_PER_SEC + valid_s;
	g_autofree gchar *text =
	    g_strdup_printf("%s|%s|%" G_GINT64_FORMAT, strrchr(url, '/') + 1, dev, exp);
	g_autofree gchar *sig = g_compute_hmac_for_data(G_CHECKSUM_SHA256,
	                                                g_bytes_get_data(key, NULL),
	                                                g_bytes_get_size(key),
	                                                (const guchar *)text,
	                                                strlen(text));
	return g_strdup_printf("%s?dev=%s&exp=%" G_GINT64_FORMAT "&sig=%s", url, dev, exp, sig);
}

void
gw_bench_rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		gw_bench_rm_rf(child);
	}
	g_remove(path);
}
