/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The link layer on 127.0.0.1: the gateway's generated TLS identity, HTTPS with full
 * verification (and refusal without trust), keep-alive POSTs, retries with backoff, the
 * in-flight limit, oversize bodies, answers given later. Requirement label: DM-SECONF-001
 * (confidentiality: TLS with verified certificates).
 */

#include "config.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gw-crypto.h"
#include "gw-error.h"
#include "gw-http-client.h"
#include "gw-http-server.h"

typedef struct {
	gchar *dir;
	gchar *cert;
	gchar *key;
	GTlsCertificate *identity;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	f->dir = g_dir_make_tmp("gwmo-http-XXXXXX", &error);
	g_assert_no_error(error);
	f->cert = g_build_filename(f->dir, "tls.crt", NULL);
	f->key = g_build_filename(f->dir, "tls.key", NULL);
	f->identity = gw_crypto_load_or_create(f->cert, f->key, "gwmo-test", &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->identity);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_object_unref(f->identity);
	g_remove(f->cert);
	g_remove(f->key);
	g_rmdir(f->dir);
	g_free(f->cert);
	g_free(f->key);
	g_free(f->dir);
}

typedef struct {
	GMainLoop *loop;
	GwHttpResponse *response;
	GError *error;
	guint pending;
} Wait;

static void
post_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Wait *w = user_data;
	GwHttpResponse *r = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &w->error);
	if (r != NULL) {
		if (w->response != NULL)
			gw_http_response_free(w->response);
		w->response = r;
	}
	if (--w->pending == 0)
		g_main_loop_quit(w->loop);
}

static GwHttpResponse *
post_wait_cancellable(GwHttpClient *client,
		      const gchar *uri,
		      const gchar *body,
		      GCancellable *cancellable,
		      GError **error)
{
	Wait w = {0};
	g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
	const gchar *headers[] = {"X-Test", "yes", NULL};

	w.loop = g_main_loop_new(NULL, FALSE);
	w.pending = 1;
	gw_http_client_post_async(client, uri, "text/plain", bytes, headers, cancellable, post_done_cb, &w);
	g_main_loop_run(w.loop);
	g_main_loop_unref(w.loop);
	if (w.error != NULL)
		g_propagate_error(error, w.error);
	return w.response;
}

static GwHttpResponse *
post_wait(GwHttpClient *client, const gchar *uri, const gchar *body, GError **error)
{
	return post_wait_cancellable(client, uri, body, NULL, error);
}

/* echo: upper-cases the body, reports the header and whether TLS was used */
static void
echo_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(gw_http_request_get_body(request), &len);
	g_autofree gchar *up = g_ascii_strup(data, (gssize)len);
	g_autoptr(GBytes) body = g_bytes_new(up, strlen(up));
	guint *count = user_data;

	if (count != NULL)
		(*count)++;
	gw_http_request_set_header(request, "X-Was-Tls", gw_http_request_is_tls(request) ? "1" : "0");
	gw_http_request_set_header(request,
				   "X-Saw-Header",
				   gw_http_request_get_header(request, "x-test") != NULL ? "1" : "0");
	gw_http_request_respond(request, 200, "text/plain", body);
}

static void
test_self_signed_identity(Fixture *f, gconstpointer data)
{
	g_autofree gchar *pem = NULL;
	g_autofree gchar *fp1 = NULL;
	g_autofree gchar *fp2 = NULL;
	g_autoptr(GTlsCertificate) again = NULL;
	g_autoptr(GError) error = NULL;
	GStatBuf st;
	gnutls_x509_crt_t crt;
	gnutls_datum_t datum;
	char cn[128];
	size_t cn_len = sizeof(cn);

	/* the key is private, the certificate names us and 127.0.0.1 */
	g_assert_cmpint(g_stat(f->key, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_true(g_file_get_contents(f->cert, &pem, NULL, NULL));
	datum.data = (unsigned char *)pem;
	datum.size = strlen(pem);
	g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_import(crt, &datum, GNUTLS_X509_FMT_PEM), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_len), ==, 0);
	g_assert_cmpstr(cn, ==, "gwmo-test");
	g_assert_cmpint(gnutls_x509_crt_check_ip(crt, (const unsigned char *)"\x7f\x00\x00\x01", 4, 0), !=, 0);
	g_assert_cmpint(gnutls_x509_crt_check_hostname(crt, "localhost"), !=, 0);
	gnutls_x509_crt_deinit(crt);

	/* a second call loads, it does not regenerate */
	again = gw_crypto_load_or_create(f->cert, f->key, "other", &error);
	g_assert_no_error(error);
	fp1 = gw_crypto_certificate_fingerprint(f->identity);
	fp2 = gw_crypto_certificate_fingerprint(again);
	g_assert_true(g_str_has_prefix(fp1, "sha256:"));
	g_assert_cmpstr(fp1, ==, fp2);

	/* half an identity is refused, never silently replaced */
	g_assert_cmpint(g_remove(f->key), ==, 0);
	g_clear_object(&again);
	again = gw_crypto_load_or_create(f->cert, f->key, "gwmo-test", &error);
	g_assert_null(again);
	g_assert_error(error, GW_ERROR, GW_ERROR_FAILED);
	g_assert_false(g_file_test(f->key, G_FILE_TEST_EXISTS));
	/* recreate for teardown symmetry */
	g_assert_true(gw_crypto_generate_self_signed(f->cert, f->key, "gwmo-test", NULL, NULL, 1, NULL));
}

static void
test_https_verified(Fixture *f, gconstpointer data)
{
	g_autoptr(GwHttpServer) server = gw_http_server_new(f->identity);
	g_autoptr(GwHttpClient) client = NULL;
	g_autoptr(GwHttpResponse) r = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	guint count = 0;

	if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		g_test_skip("no TLS backend (glib-networking)");
		return;
	}
	gw_http_server_add_handler(server, "/echo", echo_handler, &count, NULL);
	g_assert_true(gw_http_server_listen(server, "https://127.0.0.1:0", &error));
	g_assert_no_error(error);
	uri = g_strdup_printf("https://127.0.0.1:%u/echo", gw_http_server_get_port(server, TRUE));

	/* trusting the gateway's certificate: full verification succeeds */
	client = gw_http_client_new(f->cert, &error);
	g_assert_no_error(error);
	r = post_wait(client, uri, "hello", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(r->status, ==, 200);
	g_assert_cmpmem(g_bytes_get_data(r->body, NULL), g_bytes_get_size(r->body), "HELLO", 5);
	g_assert_cmpstr(g_hash_table_lookup(r->headers, "x-was-tls"), ==, "1");
	g_assert_cmpstr(g_hash_table_lookup(r->headers, "x-saw-header"), ==, "1");
	g_assert_cmpstr(r->content_type, ==, "text/plain");
	g_assert_cmpuint(count, ==, 1);

	/* a client that does not trust it fails, and says it was TLS; the handler never ran */
	g_clear_object(&client);
	g_clear_pointer(&r, gw_http_response_free);
	client = gw_http_client_new(NULL, &error);
	g_assert_no_error(error);
	r = post_wait(client, uri, "hello", &error);
	g_assert_null(r);
	g_assert_error(error, GW_ERROR, GW_ERROR_NETWORK);
	g_assert_nonnull(strstr(error->message, "TLS"));
	g_assert_cmpuint(count, ==, 1);

	/* a bad CA file is an error at creation */
	g_clear_error(&error);
	g_clear_object(&client);
	client = gw_http_client_new("/nonexistent/ca.pem", &error);
	g_assert_null(client);
	g_assert_nonnull(error);
}

static void
test_keepalive_and_in_flight(Fixture *f, gconstpointer data)
{
	g_autoptr(GwHttpServer) server = gw_http_server_new(NULL);
	g_autoptr(GwHttpClient) client = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	guint count = 0;
	Wait w = {0};

	gw_http_server_add_handler(server, "/echo", echo_handler, &count, NULL);
	g_assert_true(gw_http_server_listen(server, "http://127.0.0.1:0", &error));
	uri = g_strdup_printf("http://127.0.0.1:%u/echo", gw_http_server_get_port(server, FALSE));
	client = gw_http_client_new(NULL, &error);
	g_assert_no_error(error);
	gw_http_client_set_max_in_flight(client, 3);

	w.loop = g_main_loop_new(NULL, FALSE);
	w.pending = 40;
	for (guint i = 0; i < 40; i++) {
		g_autoptr(GBytes) b = g_bytes_new_static("x", 1);
		gw_http_client_post_async(client, uri, "text/plain", b, NULL, NULL, post_done_cb, &w);
		/* the limit holds: 3 run, the rest wait */
		g_assert_cmpuint(gw_http_client_get_in_flight(client), ==, i + 1);
	}
	g_main_loop_run(w.loop);
	g_main_loop_unref(w.loop);
	g_assert_no_error(w.error);
	g_assert_cmpuint(count, ==, 40);
	g_assert_cmpuint(gw_http_client_get_in_flight(client), ==, 0);
	gw_http_response_free(w.response);
}

static gboolean
start_listening_cb(gpointer user_data)
{
	GwHttpServer *server = user_data;
	g_autoptr(GError) error = NULL;
	guint16 port = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(server), "port"));
	g_autofree gchar *uri = g_strdup_printf("http://127.0.0.1:%u", port);
	g_assert_true(gw_http_server_listen(server, uri, &error));
	return G_SOURCE_REMOVE;
}

static guint16
free_port(void)
{
	g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) a = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_assert_true(g_socket_bind(s, a, TRUE, NULL));
	bound = g_socket_get_local_address(s, NULL);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

static void
test_retry_with_backoff(Fixture *f, gconstpointer data)
{
	g_autoptr(GwHttpServer) server = gw_http_server_new(NULL);
	g_autoptr(GwHttpClient) client = gw_http_client_new(NULL, NULL);
	g_autoptr(GwHttpResponse) r = NULL;
	g_autoptr(GError) error = NULL;
	guint16 port = free_port();
	g_autofree gchar *uri = g_strdup_printf("http://127.0.0.1:%u/echo", port);
	guint count = 0;

	gw_http_server_add_handler(server, "/echo", echo_handler, &count, NULL);
	g_object_set_data(G_OBJECT(server), "port", GUINT_TO_POINTER(port));
	/* nothing listens yet: refused, retried at 100, 200, 400 ms; the server appears at 250 */
	gw_http_client_set_retries(client, 3, 100);
	g_timeout_add(250, start_listening_cb, server);
	r = post_wait(client, uri, "late", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(r->status, ==, 200);
	g_assert_cmpuint(count, ==, 1);

	/* with no retries left the error comes back as NETWORK */
	g_clear_pointer(&r, gw_http_response_free);
	gw_http_client_set_retries(client, 0, 10);
	g_free(uri);
	uri = g_strdup_printf("http://127.0.0.1:%u/echo", free_port());
	r = post_wait(client, uri, "nobody", &error);
	g_assert_null(r);
	g_assert_error(error, GW_ERROR, GW_ERROR_NETWORK);
}

static GwHttpRequest *later_request = NULL;

static void
later_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	later_request = gw_http_request_ref(request);
}

static gboolean
answer_later_cb(gpointer user_data)
{
	g_autoptr(GBytes) body = g_bytes_new_static("later", 5);
	g_assert_nonnull(later_request);
	gw_http_request_respond(later_request, 202, "text/plain", body);
	g_clear_pointer(&later_request, gw_http_request_unref);
	return G_SOURCE_REMOVE;
}

static void
test_answer_later_and_limits(Fixture *f, gconstpointer data)
{
	g_autoptr(GwHttpServer) server = gw_http_server_new(NULL);
	g_autoptr(GwHttpClient) client = gw_http_client_new(NULL, NULL);
	g_autoptr(GwHttpResponse) r = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *base = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *big = g_strnfill(70000, 'b');
	guint count = 0;

	gw_http_server_add_handler(server, "/later", later_handler, NULL, NULL);
	gw_http_server_add_handler(server, "/echo", echo_handler, &count, NULL);
	gw_http_server_set_max_body_size(server, 65536);
	g_assert_true(gw_http_server_listen(server, "http://127.0.0.1:0", &error));
	base = g_strdup_printf("http://127.0.0.1:%u", gw_http_server_get_port(server, FALSE));

	uri = g_strdup_printf("%s/later", base);
	g_timeout_add(100, answer_later_cb, NULL);
	r = post_wait(client, uri, "wait", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(r->status, ==, 202);

	/* oversize body: 413, the handler never sees it */
	g_clear_pointer(&r, gw_http_response_free);
	g_free(uri);
	uri = g_strdup_printf("%s/echo", base);
	r = post_wait(client, uri, big, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(r->status, ==, 413);
	g_assert_cmpuint(count, ==, 0);

	/* unknown path: 404; an exact path is not a prefix */
	g_clear_pointer(&r, gw_http_response_free);
	g_free(uri);
	uri = g_strdup_printf("%s/echo/more", base);
	r = post_wait(client, uri, "x", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(r->status, ==, 404);
	g_assert_cmpuint(count, ==, 0);

	/* a path nobody registered: 404 too */
	g_clear_pointer(&r, gw_http_response_free);
	g_free(uri);
	uri = g_strdup_printf("%s/nothing-here", base);
	r = post_wait(client, uri, "x", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(r->status, ==, 404);

	/* bad listen addresses are refused with a reason */
	g_assert_false(gw_http_server_listen(server, "https://127.0.0.1:0", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_assert_false(gw_http_server_listen(server, "ftp://127.0.0.1:21", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_assert_false(gw_http_server_listen(server, "http://example.org:80", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
}

/* keeps every request and never answers */
static void
never_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	g_ptr_array_add(user_data, gw_http_request_ref(request));
}

static gboolean
cancel_cb(gpointer user_data)
{
	g_cancellable_cancel(user_data);
	return G_SOURCE_REMOVE;
}

/* a POST with no answer ends at its deadline, once per attempt; the caller's cancellable ends
 * it at once; neither leaves the client unable to POST again */
static void
test_deadline_and_cancel(Fixture *f, gconstpointer data)
{
	g_autoptr(GwHttpServer) server = gw_http_server_new(NULL);
	g_autoptr(GwHttpClient) client = gw_http_client_new(NULL, NULL);
	g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func((GDestroyNotify)gw_http_request_unref);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GBytes) bytes = g_bytes_new_static("x", 1);
	g_autoptr(GwHttpResponse) r = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *never = NULL;
	g_autofree gchar *echo = NULL;
	gint64 start;
	gint64 took;

	gw_http_server_add_handler(server, "/never", never_handler, kept, NULL);
	gw_http_server_add_handler(server, "/echo", echo_handler, NULL, NULL);
	g_assert_true(gw_http_server_listen(server, "http://127.0.0.1:0", &error));
	g_assert_no_error(error);
	never = g_strdup_printf("http://127.0.0.1:%u/never", gw_http_server_get_port(server, FALSE));
	echo = g_strdup_printf("http://127.0.0.1:%u/echo", gw_http_server_get_port(server, FALSE));

	/* deadline: two attempts of 1 s each, then TIMED_OUT */
	gw_http_client_set_timeout(client, 1);
	gw_http_client_set_retries(client, 1, 10);
	start = g_get_monotonic_time();
	r = post_wait(client, never, "x", &error);
	took = g_get_monotonic_time() - start;
	g_assert_null(r);
	g_assert_error(error, GW_ERROR, GW_ERROR_TIMED_OUT);
	g_clear_error(&error);
	g_assert_cmpuint(kept->len, ==, 2);
	g_assert_cmpint(took, >=, 2 * G_USEC_PER_SEC - 100000);
	g_assert_cmpint(took, <, 10 * G_USEC_PER_SEC);
	g_assert_cmpuint(gw_http_client_get_in_flight(client), ==, 0);

	/* the caller cancels before the deadline: CANCELLED, no retry */
	gw_http_client_set_timeout(client, 30);
	start = g_get_monotonic_time();
	g_timeout_add(200, cancel_cb, cancellable);
	r = post_wait_cancellable(client, never, "x", cancellable, &error);
	took = g_get_monotonic_time() - start;
	g_assert_null(r);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_clear_error(&error);
	g_assert_cmpint(took, <, 5 * G_USEC_PER_SEC);
	g_assert_cmpuint(kept->len, ==, 3);

	/* an already cancelled cancellable: CANCELLED, nothing sent */
	r = post_wait_cancellable(client, never, "x", cancellable, &error);
	g_assert_null(r);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_clear_error(&error);
	g_assert_cmpuint(kept->len, ==, 3);
	g_assert_cmpuint(gw_http_client_get_in_flight(client), ==, 0);

	/* and the client still works */
	r = post_wait(client, echo, "after", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(r->status, ==, 200);
	g_assert_cmpmem(g_bytes_get_data(r->body, NULL), g_bytes_get_size(r->body), "AFTER", 5);

	/* the server answers the kept requests at last; their clients are gone */
	for (guint i = 0; i < kept->len; i++)
		gw_http_request_respond(g_ptr_array_index(kept, i), 503, "text/plain", bytes);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add("/gw/link/self-signed-identity", Fixture, NULL, fixture_setup, test_self_signed_identity, fixture_teardown);
	g_test_add("/gw/link/https-verified", Fixture, NULL, fixture_setup, test_https_verified, fixture_teardown);
	g_test_add("/gw/link/keepalive-and-in-flight", Fixture, NULL, fixture_setup, test_keepalive_and_in_flight, fixture_teardown);
	g_test_add("/gw/link/retry-with-backoff", Fixture, NULL, fixture_setup, test_retry_with_backoff, fixture_teardown);
	g_test_add("/gw/link/answer-later-and-limits", Fixture, NULL, fixture_setup, test_answer_later_and_limits, fixture_teardown);
	g_test_add("/gw/link/deadline-and-cancel", Fixture, NULL, fixture_setup, test_deadline_and_cancel, fixture_teardown);
	return g_test_run();
}
