/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SDK's HTTP seam (gw-plugin-http.h) with the gateway's side (GwPluginHttpHost over the
 * real GwHttpServer, on 127.0.0.1): a plugin's path is served over http and https, the
 * listener's bounds (body size, body deadline) refuse a request before the plugin sees it, and
 * no plugin takes a path of the gateway's or of another plugin.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-crypto.h"
#include "gw-http-server.h"
#include "gw-plugin-http-host.h"
#include "gw-plugin-private.h"
#include "gw-plugin-sdk.h"

/* a guard against a hung test, never a guessed wait */
#define GUARD_S 20

/* ---- a plugin that echoes what it is sent ---- */

#define TEST_TYPE_ECHO_PLUGIN (test_echo_plugin_get_type())
G_DECLARE_FINAL_TYPE(TestEchoPlugin, test_echo_plugin, TEST, ECHO_PLUGIN, GwPlugin)

struct _TestEchoPlugin {
	GwPlugin parent_instance;
	guint requests;
	gboolean later; /* answer from an idle callback */
	gboolean drop;  /* never answer */
	gchar *last_method;
	gchar *last_path;
	gchar *last_header;
	gboolean last_tls;
	gchar *last_remote;
};

G_DEFINE_FINAL_TYPE(TestEchoPlugin, test_echo_plugin, GW_TYPE_PLUGIN)

static void
echo_answer(GwPluginHttpRequest *request)
{
	gw_plugin_http_request_add_header(request, "Set-Cookie", "a=1");
	gw_plugin_http_request_add_header(request, "Set-Cookie", "b=2");
	gw_plugin_http_request_respond(
	    request, 200, "text/plain", gw_plugin_http_request_get_body(request));
}

static gboolean
echo_later_cb(gpointer data)
{
	echo_answer(data);
	return G_SOURCE_REMOVE;
}

static void
echo_handler(GwPlugin *plugin, GwPluginHttpRequest *request, gpointer user_data)
{
	TestEchoPlugin *self = TEST_ECHO_PLUGIN(plugin);

	self->requests++;
	g_free(self->last_method);
	self->last_method = g_strdup(gw_plugin_http_request_get_method(request));
	g_free(self->last_path);
	self->last_path = g_strdup(gw_plugin_http_request_get_path(request));
	g_free(self->last_header);
	self->last_header = g_strdup(gw_plugin_http_request_get_header(request, "x-test"));
	g_free(self->last_remote);
	self->last_remote = g_strdup(gw_plugin_http_request_get_remote_host(request));
	self->last_tls = gw_plugin_http_request_is_tls(request);
	g_assert_false(gw_plugin_http_request_is_closed(request));
	if (self->drop)
		return;
	if (self->later) {
		g_idle_add_full(G_PRIORITY_DEFAULT,
		                echo_later_cb,
		                gw_plugin_http_request_ref(request),
		                (GDestroyNotify)gw_plugin_http_request_unref);
		return;
	}
	echo_answer(request);
}

static gboolean
echo_startup(GwPlugin *plugin, GError **error)
{
	return gw_plugin_add_http_handler(plugin, "/echo", echo_handler, NULL, NULL, error);
}

static void
echo_run_command_async(GwPlugin *plugin,
                       const gchar *device_id,
                       GwDeviceCommand *cmd,
                       gint64 deadline,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(plugin, cancellable, callback, user_data);
	g_task_return_pointer(
	    task, gw_device_result_new(404), (GDestroyNotify)gw_device_result_unref);
}

static GwDeviceResult *
echo_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
test_echo_plugin_finalize(GObject *object)
{
	TestEchoPlugin *self = TEST_ECHO_PLUGIN(object);
	g_free(self->last_method);
	g_free(self->last_path);
	g_free(self->last_header);
	g_free(self->last_remote);
	G_OBJECT_CLASS(test_echo_plugin_parent_class)->finalize(object);
}

static void
test_echo_plugin_class_init(TestEchoPluginClass *klass)
{
	GW_PLUGIN_CLASS(klass)->startup = echo_startup;
	GW_PLUGIN_CLASS(klass)->run_command_async = echo_run_command_async;
	GW_PLUGIN_CLASS(klass)->run_command_finish = echo_run_command_finish;
	G_OBJECT_CLASS(klass)->finalize = test_echo_plugin_finalize;
}

static void
test_echo_plugin_init(TestEchoPlugin *self)
{
	gw_plugin_set_protocol(GW_PLUGIN(self), "Echo");
}

static TestEchoPlugin *
echo_new(const gchar *name)
{
	TestEchoPlugin *p = g_object_new(TEST_TYPE_ECHO_PLUGIN, NULL);
	gw_plugin_set_name(GW_PLUGIN(p), name);
	return p;
}

/* ---- the listener ---- */

typedef struct {
	gchar *dir;
	GTlsCertificate *identity;
	GwHttpServer *server;
	GwPluginHttpHost *host;
	guint16 port;
	guint16 tls_port;
	guint core_requests;
} Fixture;

static void
core_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	Fixture *f = user_data;
	g_autoptr(GBytes) body = g_bytes_new_static("core", 4);
	f->core_requests++;
	gw_http_request_respond(request, 200, "text/plain", body);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *cert = NULL;
	g_autofree gchar *key = NULL;

	f->dir = g_dir_make_tmp("gwmo-plugin-http-XXXXXX", &error);
	g_assert_no_error(error);
	cert = g_build_filename(f->dir, "tls.crt", NULL);
	key = g_build_filename(f->dir, "tls.key", NULL);
	f->identity = gw_crypto_load_or_create(cert, key, "gwmo-test", &error);
	g_assert_no_error(error);
	f->server = gw_http_server_new(f->identity);
	gw_http_server_add_handler(f->server, "/dm", core_handler, f, NULL);
	gw_http_server_add_handler(f->server, "/images/", core_handler, f, NULL);
	g_assert_true(gw_http_server_listen(f->server, "http://127.0.0.1:0", &error));
	g_assert_true(gw_http_server_listen(f->server, "https://127.0.0.1:0", &error));
	g_assert_no_error(error);
	f->port = gw_http_server_get_port(f->server, FALSE);
	f->tls_port = gw_http_server_get_port(f->server, TRUE);
	f->host = gw_plugin_http_host_new();
	gw_plugin_http_host_reserve(f->host, "/dm");
	gw_plugin_http_host_reserve(f->host, "/images/");
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_autofree gchar *cert = g_build_filename(f->dir, "tls.crt", NULL);
	g_autofree gchar *key = g_build_filename(f->dir, "tls.key", NULL);

	g_clear_object(&f->host);
	gw_http_server_disconnect(f->server);
	g_clear_object(&f->server);
	g_clear_object(&f->identity);
	g_remove(cert);
	g_remove(key);
	g_rmdir(f->dir);
	g_free(f->dir);
}

/* ---- a raw client in a thread: the listener runs on this thread's main loop ---- */

typedef struct {
	guint16 port;
	gboolean tls;
	const gchar *head;     /* request line and headers, CRLF CRLF included */
	gsize body_len;        /* bytes of body sent after them ('x'…) */
	GString *reply;        /* everything read until the server closed or answered */
	gboolean keep_reading; /* read until EOF (else until the end of the headers) */
	gboolean done;
} RawCall;

static gboolean
raw_accept_cb(GTlsConnection *conn, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer d)
{
	return TRUE;
}

static gpointer
raw_thread(gpointer data)
{
	RawCall *c = data;
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GIOStream) stream = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *body = g_strnfill(c->body_len, 'x');
	GOutputStream *out;
	GInputStream *in;
	gchar buf[4096];
	gssize n;

	g_socket_client_set_timeout(client, GUARD_S);
	conn = g_socket_client_connect_to_host(client, "127.0.0.1", c->port, NULL, &error);
	g_assert_no_error(error);
	stream = g_object_ref(G_IO_STREAM(conn));
	if (c->tls) {
		GIOStream *tls = g_tls_client_connection_new(stream, NULL, &error);
		g_assert_no_error(error);
		g_signal_connect(tls, "accept-certificate", G_CALLBACK(raw_accept_cb), NULL);
		g_assert_true(g_tls_connection_handshake(G_TLS_CONNECTION(tls), NULL, &error));
		g_object_unref(stream);
		stream = tls;
	}
	out = g_io_stream_get_output_stream(stream);
	in = g_io_stream_get_input_stream(stream);
	g_output_stream_write_all(out, c->head, strlen(c->head), NULL, NULL, NULL);
	if (c->body_len > 0)
		g_output_stream_write_all(out, body, c->body_len, NULL, NULL, NULL);
	while ((n = g_input_stream_read(in, buf, sizeof(buf), NULL, NULL)) > 0) {
		g_string_append_len(c->reply, buf, n);
		if (!c->keep_reading && strstr(c->reply->str, "\r\n\r\n") != NULL)
			break;
	}
	g_atomic_int_set(&c->done, TRUE);
	g_main_context_wakeup(NULL);
	return NULL;
}

static gboolean
guard_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* runs @c to its end while the listener serves; the reply (free it) */
static gchar *
raw_run(RawCall *c)
{
	gboolean expired = FALSE;
	guint guard = g_timeout_add_seconds(GUARD_S, guard_cb, &expired);
	GThread *thread;

	c->reply = g_string_new(NULL);
	thread = g_thread_new("raw-client", raw_thread, c);
	while (!g_atomic_int_get(&c->done) && !expired)
		g_main_context_iteration(NULL, TRUE);
	g_assert_false(expired);
	g_source_remove(guard);
	g_thread_join(thread);
	return g_string_free(c->reply, FALSE);
}

static gchar *
raw_post(guint16 port, gboolean tls, const gchar *path, const gchar *body)
{
	g_autofree gchar *head = g_strdup_printf("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                                         "X-Test: yes\r\nConnection: close\r\n"
	                                         "Content-Length: %zu\r\n\r\n%s",
	                                         path,
	                                         strlen(body),
	                                         body);
	RawCall c = {port, tls, head, 0, NULL, TRUE, FALSE};
	return raw_run(&c);
}

static void
test_served(Fixture *f, gconstpointer data)
{
	g_autoptr(TestEchoPlugin) echo = echo_new("echo");
	g_autoptr(GError) error = NULL;
	g_autofree gchar *plain = NULL;
	g_autofree gchar *tls = NULL;
	g_autofree gchar *core = NULL;
	g_auto(GStrv) uris = NULL;
	g_autofree gchar *want = NULL;

	/* claimed before the listener is there (gwmod starts plugins first) */
	gw_plugin_http_host_attach(f->host, GW_PLUGIN(echo));
	g_assert_true(gw_plugin_startup(GW_PLUGIN(echo), &error));
	g_assert_no_error(error);
	uris = gw_plugin_get_http_uris(GW_PLUGIN(echo), "/echo");
	g_assert_cmpuint(g_strv_length(uris), ==, 0);
	g_strfreev(g_steal_pointer(&uris));
	gw_plugin_http_host_set_server(f->host, f->server);
	uris = gw_plugin_get_http_uris(GW_PLUGIN(echo), "/echo");
	want = g_strdup_printf("https://127.0.0.1:%u/echo", f->tls_port);
	g_assert_true(g_strv_contains((const gchar *const *)uris, want));

	plain = raw_post(f->port, FALSE, "/echo", "hello");
	g_assert_true(g_str_has_prefix(plain, "HTTP/1.1 200"));
	g_assert_true(g_str_has_suffix(plain, "\r\n\r\nhello"));
	g_assert_nonnull(strstr(plain, "Set-Cookie: a=1"));
	g_assert_nonnull(strstr(plain, "Set-Cookie: b=2"));
	g_assert_cmpuint(echo->requests, ==, 1);
	g_assert_cmpstr(echo->last_method, ==, "POST");
	g_assert_cmpstr(echo->last_path, ==, "/echo");
	g_assert_cmpstr(echo->last_header, ==, "yes");
	g_assert_cmpstr(echo->last_remote, ==, "127.0.0.1");
	g_assert_false(echo->last_tls);

	echo->later = TRUE;
	tls = raw_post(f->tls_port, TRUE, "/echo", "over tls");
	g_assert_true(g_str_has_prefix(tls, "HTTP/1.1 200"));
	g_assert_true(g_str_has_suffix(tls, "\r\n\r\nover tls"));
	g_assert_true(echo->last_tls);
	g_assert_cmpuint(gw_plugin_http_host_get_n_requests(f->host), ==, 2);

	/* a handler that lets the request go unanswered: 500, never a hang */
	echo->drop = TRUE;
	g_free(plain);
	plain = raw_post(f->port, FALSE, "/echo", "x");
	g_assert_true(g_str_has_prefix(plain, "HTTP/1.1 500"));
	echo->drop = FALSE;

	/* the gateway's own path stays the gateway's */
	core = raw_post(f->port, FALSE, "/dm", "x");
	g_assert_true(g_str_has_suffix(core, "\r\n\r\ncore"));
	g_assert_cmpuint(f->core_requests, ==, 1);

	/* after shutdown the path answers 404, and the plugin is not called */
	gw_plugin_shutdown(GW_PLUGIN(echo));
	g_free(plain);
	plain = raw_post(f->port, FALSE, "/echo", "x");
	g_assert_true(g_str_has_prefix(plain, "HTTP/1.1 404"));
	g_assert_cmpuint(echo->requests, ==, 3);
}

/* the listener's bounds come first: a body over its size limit (413) and a body that does
 * not arrive in time (closed) never reach the plugin */
static void
test_bounded(Fixture *f, gconstpointer data)
{
	g_autoptr(TestEchoPlugin) echo = echo_new("echo");
	g_autoptr(GError) error = NULL;
	GwHttpServerLimits limits = {0};
	g_autofree gchar *big = NULL;
	g_autofree gchar *slow = NULL;
	g_autofree gchar *ok = NULL;

	gw_plugin_http_host_set_server(f->host, f->server);
	gw_plugin_http_host_attach(f->host, GW_PLUGIN(echo));
	g_assert_true(gw_plugin_startup(GW_PLUGIN(echo), &error));
	gw_http_server_set_max_body_size(f->server, 1024);
	limits.body_ms = 300;
	gw_http_server_set_limits(f->server, &limits);
	{
		RawCall c = {f->port,
		             FALSE,
		             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n",
		             4096,
		             NULL,
		             FALSE,
		             FALSE};
		big = raw_run(&c);
	}
	g_assert_true(g_str_has_prefix(big, "HTTP/1.1 413"));
	{
		/* 10 bytes of the 100 announced, then nothing: the body deadline closes it */
		RawCall c = {f->port,
		             FALSE,
		             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
		             10,
		             NULL,
		             TRUE,
		             FALSE};
		slow = raw_run(&c);
	}
	g_assert_null(strstr(slow, "HTTP/1.1 200"));
	g_assert_cmpuint(echo->requests, ==, 0);
	g_assert_cmpuint(gw_plugin_http_host_get_n_requests(f->host), ==, 0);
	/* and the listener still serves the plugin */
	ok = raw_post(f->port, FALSE, "/echo", "fine");
	g_assert_true(g_str_has_prefix(ok, "HTTP/1.1 200"));
	g_assert_cmpuint(echo->requests, ==, 1);
	gw_plugin_shutdown(GW_PLUGIN(echo));
}

/* paths: none of the gateway's, below or above them, no other live plugin's, nothing that is
 * not a plain absolute path; a path freed by a shutdown may be taken again */
static void
test_paths(Fixture *f, gconstpointer data)
{
	static const gchar *const theirs[] = {
	    "/dm", "/dm/", "/dm/x", "/images/", "/images", "/images/a.bin", NULL};
	static const gchar *const malformed[] = {
	    "/", "echo", "", "/a//b", "/../dm", "/a/./b", "/a b", "/a?x", "//dm", NULL};
	g_autoptr(TestEchoPlugin) one = echo_new("one");
	g_autoptr(TestEchoPlugin) two = echo_new("two");
	g_autoptr(TestEchoPlugin) lone = echo_new("lone");
	g_autoptr(GError) error = NULL;
	g_autofree gchar *reply = NULL;

	gw_plugin_http_host_set_server(f->host, f->server);
	gw_plugin_http_host_attach(f->host, GW_PLUGIN(one));
	gw_plugin_http_host_attach(f->host, GW_PLUGIN(two));
	for (guint i = 0; theirs[i] != NULL; i++) {
		g_assert_false(gw_plugin_add_http_handler(
		    GW_PLUGIN(one), theirs[i], echo_handler, NULL, NULL, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
		g_clear_error(&error);
	}
	for (guint i = 0; malformed[i] != NULL; i++) {
		g_assert_false(gw_plugin_add_http_handler(
		    GW_PLUGIN(one), malformed[i], echo_handler, NULL, NULL, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
		g_clear_error(&error);
	}
	g_assert_true(gw_plugin_startup(GW_PLUGIN(one), &error));
	g_assert_no_error(error);
	/* another plugin: not the same path, not below it, not above it */
	g_assert_false(gw_plugin_startup(GW_PLUGIN(two), &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	g_clear_error(&error);
	g_assert_false(gw_plugin_add_http_handler(
	    GW_PLUGIN(two), "/echo/sub/", echo_handler, NULL, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	g_clear_error(&error);
	g_assert_true(
	    gw_plugin_add_http_handler(GW_PLUGIN(two), "/echo2", echo_handler, NULL, NULL, &error));
	g_assert_no_error(error);
	/* a plugin the gateway did not attach has no listener at all */
	g_assert_false(gw_plugin_startup(GW_PLUGIN(lone), &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_SUPPORTED);
	g_clear_error(&error);
	/* once one stops, two may take /echo, and gets its requests */
	gw_plugin_shutdown(GW_PLUGIN(one));
	g_assert_true(gw_plugin_startup(GW_PLUGIN(two), &error));
	g_assert_no_error(error);
	reply = raw_post(f->port, FALSE, "/echo", "to two");
	g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 200"));
	g_assert_cmpuint(one->requests, ==, 0);
	g_assert_cmpuint(two->requests, ==, 1);
	gw_plugin_shutdown(GW_PLUGIN(two));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* the "dropped unanswered" warning is expected here; criticals stay fatal */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_test_add("/sdk/http/served", Fixture, NULL, fixture_setup, test_served, fixture_teardown);
	g_test_add(
	    "/sdk/http/bounded", Fixture, NULL, fixture_setup, test_bounded, fixture_teardown);
	g_test_add("/sdk/http/paths", Fixture, NULL, fixture_setup, test_paths, fixture_teardown);
	return g_test_run();
}
