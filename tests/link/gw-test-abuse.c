/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw-test-abuse.h"

/* ---- figures ---- */

guint
gw_abuse_count_fds(GPid pid, gboolean sockets_only)
{
	g_autofree gchar *dir_path =
	    pid == 0 ? g_strdup("/proc/self/fd") : g_strdup_printf("/proc/%d/fd", (gint)pid);
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	const gchar *name;
	guint n = 0;

	if (dir == NULL)
		return 0;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = NULL;
		g_autofree gchar *target = NULL;
		if (!sockets_only) {
			n++;
			continue;
		}
		path = g_build_filename(dir_path, name, NULL);
		target = g_file_read_link(path, NULL);
		if (target != NULL && g_str_has_prefix(target, "socket:"))
			n++;
	}
	/* the directory's own descriptor, when counting this process */
	return pid == 0 && !sockets_only && n > 0 ? n - 1 : n;
}

guint64
gw_abuse_rss_kib(GPid pid)
{
	g_autofree gchar *path = pid == 0 ? g_strdup("/proc/self/status")
	                                  : g_strdup_printf("/proc/%d/status", (gint)pid);
	g_autofree gchar *status = NULL;
	const gchar *line;

	if (!g_file_get_contents(path, &status, NULL, NULL))
		return 0;
	line = strstr(status, "VmRSS:");
	if (line == NULL)
		return 0;
	return g_ascii_strtoull(line + strlen("VmRSS:"), NULL, 10);
}

guint64
gw_abuse_heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (guint64)mi.uordblks + (guint64)mi.hblkhd;
}

void
gw_abuse_raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- waiting ---- */

static gboolean
gw_abuse_tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

gboolean
gw_abuse_wait(GwAbuseCondFunc cond, gpointer user_data, guint timeout_ms)
{
	GMainContext *context = g_main_context_get_thread_default();
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	GSource *tick = g_timeout_source_new(5);
	gboolean ok = FALSE;

	g_source_set_callback(tick, gw_abuse_tick_cb, NULL, NULL);
	g_source_attach(tick, context);
	for (;;) {
		if (cond != NULL && cond(user_data)) {
			ok = TRUE;
			break;
		}
		if (g_get_monotonic_time() >= end)
			break;
		g_main_context_iteration(context, TRUE);
	}
	g_source_destroy(tick);
	g_source_unref(tick);
	return ok;
}

void
gw_abuse_run(guint ms)
{
	gw_abuse_wait(NULL, NULL, ms);
}

/* ---- raw clients ---- */

struct _GwAbuseClient {
	GSocket *socket;
	GIOStream *tls; /* nullable */
	GIOStream *tcp;
	GString *received;
	gsize consumed; /* responses returned so far */
	gboolean closed;
};

GwAbuseClient *
gw_abuse_client_connect_raw(guint16 port, GError **error)
{
	return gw_abuse_client_connect_from(port, NULL, error);
}

GwAbuseClient *
gw_abuse_client_connect_from(guint16 port, const gchar *source, GError **error)
{
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(loopback, port);
	g_autoptr(GError) error_local = NULL;
	GwAbuseClient *client;

	socket =
	    g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
	if (socket == NULL)
		return NULL;
	g_socket_set_blocking(socket, FALSE);
	g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
	if (source != NULL) {
		g_autoptr(GInetAddress) from = g_inet_address_new_from_string(source);
		g_autoptr(GSocketAddress) from_addr = g_inet_socket_address_new(from, 0);
		if (!g_socket_bind(socket, from_addr, FALSE, error))
			return NULL;
	}
	if (!g_socket_connect(socket, addr, NULL, &error_local) &&
	    !g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_PENDING)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	client = g_new0(GwAbuseClient, 1);
	client->socket = g_steal_pointer(&socket);
	client->tcp = G_IO_STREAM(g_socket_connection_factory_create_connection(client->socket));
	client->received = g_string_new(NULL);
	return client;
}

void
gw_abuse_client_free(GwAbuseClient *client)
{
	if (client == NULL)
		return;
	g_socket_close(client->socket, NULL);
	g_clear_object(&client->tls);
	g_clear_object(&client->tcp);
	g_clear_object(&client->socket);
	g_string_free(client->received, TRUE);
	g_free(client);
}

static gboolean
gw_abuse_client_writable(gpointer user_data)
{
	GwAbuseClient *client = user_data;
	return (g_socket_condition_check(client->socket, G_IO_OUT | G_IO_ERR | G_IO_HUP) &
	        G_IO_OUT) != 0;
}

static gboolean
gw_abuse_accept_any_cb(GTlsConnection *conn,
                       GTlsCertificate *cert,
                       GTlsCertificateFlags errors,
                       gpointer user_data)
{
	return TRUE;
}

typedef struct {
	gboolean done;
	gboolean ok;
	GError *error;
} GwAbuseHandshake;

static void
gw_abuse_handshake_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwAbuseHandshake *h = user_data;
	h->ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &h->error);
	h->done = TRUE;
}

static gboolean
gw_abuse_handshake_done(gpointer user_data)
{
	return ((GwAbuseHandshake *)user_data)->done;
}

GwAbuseClient *
gw_abuse_client_connect(guint16 port, gboolean tls, GError **error)
{
	g_autoptr(GwAbuseClient) client = gw_abuse_client_connect_raw(port, error);

	if (client == NULL)
		return NULL;
	if (!gw_abuse_wait(gw_abuse_client_writable, client, 10000) ||
	    !g_socket_check_connect_result(client->socket, error)) {
		if (error != NULL && *error == NULL)
			g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "connect");
		return NULL;
	}
	if (tls && !gw_abuse_client_start_tls(client, error))
		return NULL;
	return g_steal_pointer(&client);
}

gboolean
gw_abuse_client_start_tls(GwAbuseClient *client, GError **error)
{
	GwAbuseHandshake h = {0};

	/* any certificate is accepted: no database (the default one is the whole system trust
	 * store, loaded into every connection) */
	client->tls =
	    g_initable_new(g_tls_backend_get_client_connection_type(g_tls_backend_get_default()),
	                   NULL,
	                   error,
	                   "base-io-stream",
	                   client->tcp,
	                   "database",
	                   NULL,
	                   NULL);
	if (client->tls == NULL)
		return FALSE;
	g_signal_connect(
	    client->tls, "accept-certificate", G_CALLBACK(gw_abuse_accept_any_cb), NULL);
	g_tls_connection_handshake_async(
	    G_TLS_CONNECTION(client->tls), G_PRIORITY_DEFAULT, NULL, gw_abuse_handshake_cb, &h);
	gw_abuse_wait(gw_abuse_handshake_done, &h, 20000);
	if (!h.done) {
		/* the callback still runs, on &h: it ends once the server closes */
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "TLS handshake");
		while (!h.done)
			g_main_context_iteration(NULL, TRUE);
		g_clear_error(&h.error);
		return FALSE;
	}
	if (!h.ok) {
		g_propagate_error(error, h.error);
		return FALSE;
	}
	return TRUE;
}

/* the bytes a GnuTLS client sends first (its ClientHello records), captured in memory */
static ssize_t
gw_abuse_hello_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	g_byte_array_append(ptr, data, (guint)len);
	return (ssize_t)len;
}

static ssize_t
gw_abuse_hello_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	errno = EAGAIN;
	return -1;
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC(gnutls_session_t, gnutls_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(gnutls_certificate_credentials_t,
                                gnutls_certificate_free_credentials,
                                NULL)

GBytes *
gw_abuse_client_hello(void)
{
	g_auto(gnutls_session_t) session = NULL;
	g_auto(gnutls_certificate_credentials_t) creds = NULL;
	GByteArray *out = g_byte_array_new();

	gnutls_certificate_allocate_credentials(&creds);
	gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	gnutls_set_default_priority(session);
	gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, creds);
	gnutls_transport_set_ptr(session, out);
	gnutls_transport_set_push_function(session, gw_abuse_hello_push);
	gnutls_transport_set_pull_function(session, gw_abuse_hello_pull);
	/* it sends its ClientHello and then waits for the server: GNUTLS_E_AGAIN */
	g_assert_cmpint(gnutls_handshake(session), ==, GNUTLS_E_AGAIN);
	g_assert_cmpuint(out->len, >, 5);
	return g_byte_array_free_to_bytes(out);
}

gssize
gw_abuse_client_send_some(GwAbuseClient *client, const void *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	gssize n;

	if (client->closed)
		return -1;
	if (client->tls != NULL)
		n = g_pollable_output_stream_write_nonblocking(
		    G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(client->tls)),
		    data,
		    len,
		    NULL,
		    &error);
	else
		n = g_socket_send_with_blocking(client->socket, data, len, FALSE, NULL, &error);
	if (n >= 0)
		return n;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		return 0;
	client->closed = TRUE;
	return -1;
}

typedef struct {
	GwAbuseClient *client;
	const guint8 *data;
	gsize len;
	gsize sent;
	gboolean failed;
} GwAbuseSend;

static gboolean
gw_abuse_send_step(gpointer user_data)
{
	GwAbuseSend *s = user_data;
	gssize n = gw_abuse_client_send_some(s->client, s->data + s->sent, s->len - s->sent);
	if (n < 0)
		s->failed = TRUE;
	else
		s->sent += (gsize)n;
	return s->failed || s->sent == s->len;
}

gboolean
gw_abuse_client_send(GwAbuseClient *client, const void *data, gsize len, guint timeout_ms)
{
	GwAbuseSend s = {client, data, len, 0, FALSE};
	return gw_abuse_wait(gw_abuse_send_step, &s, timeout_ms) && !s.failed;
}

gboolean
gw_abuse_client_send_str(GwAbuseClient *client, const gchar *text, guint timeout_ms)
{
	return gw_abuse_client_send(client, text, strlen(text), timeout_ms);
}

/* reads what is there now */
static void
gw_abuse_client_read_some(GwAbuseClient *client)
{
	while (!client->closed) {
		gchar buf[16384];
		g_autoptr(GError) error = NULL;
		gssize n;
		if (client->tls != NULL)
			n = g_pollable_input_stream_read_nonblocking(
			    G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(client->tls)),
			    buf,
			    sizeof(buf),
			    NULL,
			    &error);
		else
			n = g_socket_receive_with_blocking(
			    client->socket, buf, sizeof(buf), FALSE, NULL, &error);
		if (n > 0) {
			g_string_append_len(client->received, buf, n);
			continue;
		}
		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			return;
		/* EOF, or the server reset the connection */
		client->closed = TRUE;
	}
}

/* the length of the first complete response after what was consumed, 0 if none yet */
static gsize
gw_abuse_client_response_length(GwAbuseClient *client)
{
	const gchar *start = client->received->str + client->consumed;
	const gchar *end = strstr(start, "\r\n\r\n");
	g_autofree gchar *headers = NULL;
	const gchar *cl;
	guint64 body = 0;

	if (end == NULL)
		return 0;
	headers = g_ascii_strdown(start, end - start);
	cl = strstr(headers, "\r\ncontent-length:");
	if (cl != NULL)
		body = g_ascii_strtoull(cl + strlen("\r\ncontent-length:"), NULL, 10);
	if ((gsize)(end + 4 - start) + body > client->received->len - client->consumed)
		return 0;
	return (gsize)(end + 4 - start) + body;
}

gboolean
gw_abuse_client_poll(GwAbuseClient *client)
{
	gw_abuse_client_read_some(client);
	return gw_abuse_client_response_length(client) > 0;
}

static gboolean
gw_abuse_response_or_closed(gpointer user_data)
{
	GwAbuseClient *client = user_data;
	return gw_abuse_client_poll(client) || client->closed;
}

gchar *
gw_abuse_client_read_response(GwAbuseClient *client, guint timeout_ms)
{
	gsize len;
	gchar *response;

	gw_abuse_wait(gw_abuse_response_or_closed, client, timeout_ms);
	len = gw_abuse_client_response_length(client);
	if (len == 0)
		return NULL;
	response = g_strndup(client->received->str + client->consumed, len);
	client->consumed += len;
	return response;
}

guint
gw_abuse_response_status(const gchar *response)
{
	if (response == NULL || !g_str_has_prefix(response, "HTTP/1."))
		return 0;
	return (guint)g_ascii_strtoull(response + strlen("HTTP/1.x "), NULL, 10);
}

const gchar *
gw_abuse_client_received(GwAbuseClient *client)
{
	return client->received->str;
}

static gboolean
gw_abuse_client_closed_cond(gpointer user_data)
{
	GwAbuseClient *client = user_data;
	gw_abuse_client_read_some(client);
	return client->closed;
}

gboolean
gw_abuse_client_wait_closed(GwAbuseClient *client, guint timeout_ms)
{
	return gw_abuse_wait(gw_abuse_client_closed_cond, client, timeout_ms);
}

gboolean
gw_abuse_client_is_closed(GwAbuseClient *client)
{
	return gw_abuse_client_closed_cond(client);
}

guint
gw_abuse_request(GwAbuseClient *client,
                 const gchar *method,
                 const gchar *path,
                 const gchar *body,
                 gboolean keep_alive,
                 guint timeout_ms)
{
	g_autofree gchar *request = NULL;
	g_autofree gchar *response = NULL;

	request = g_strdup_printf("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
	                          "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
	                          method,
	                          path,
	                          keep_alive ? "" : "Connection: close\r\n",
	                          body != NULL ? strlen(body) : 0,
	                          body != NULL ? body : "");
	if (!gw_abuse_client_send_str(client, request, timeout_ms))
		return 0;
	response = gw_abuse_client_read_response(client, timeout_ms);
	return gw_abuse_response_status(response);
}

/* ---- TLS versions ---- */

typedef struct {
	guint16 port;
	const gchar *priority;
	gboolean ok;
	gchar *version;
	gchar *error;
	gint done;
} GwAbuseTls;

static void
gw_abuse_tls_run(GwAbuseTls *t, gint fd)
{
	g_auto(gnutls_session_t) session = NULL;
	g_auto(gnutls_certificate_credentials_t) creds = NULL;
	struct sockaddr_in sin = {0};
	struct timeval tv = {10, 0};
	const char *err_pos = NULL;
	const gchar *req = "GET /tls-probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	gchar buf[64] = {0};
	gint rc;

	sin.sin_family = AF_INET;
	sin.sin_port = htons(t->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		t->error = g_strdup_printf("connect: %s", g_strerror(errno));
		return;
	}
	gnutls_certificate_allocate_credentials(&creds);
	gnutls_init(&session, GNUTLS_CLIENT);
	rc = gnutls_priority_set_direct(session, t->priority, &err_pos);
	if (rc < 0) {
		t->error = g_strdup_printf("priority %s: %s", t->priority, gnutls_strerror(rc));
		return;
	}
	gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, creds);
	gnutls_transport_set_int(session, fd);
	gnutls_handshake_set_timeout(session, 10000);
	do
		rc = gnutls_handshake(session);
	while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
	if (rc < 0) {
		t->error = g_strdup(gnutls_strerror(rc));
		return;
	}
	/* the server may still close at once (a version it refuses after the handshake): one
	 * request must get an answer */
	rc = (gint)gnutls_record_send(session, req, strlen(req));
	if (rc > 0)
		rc = (gint)gnutls_record_recv(session, buf, sizeof(buf) - 1);
	if (rc <= 0 || !g_str_has_prefix(buf, "HTTP/1.1 ")) {
		t->error = g_strdup_printf("handshake done, but no answer: %s",
		                           rc < 0 ? gnutls_strerror(rc) : "closed");
		return;
	}
	t->ok = TRUE;
	t->version = g_strdup(gnutls_protocol_get_name(gnutls_protocol_get_version(session)));
}

static gpointer
gw_abuse_tls_thread(gpointer user_data)
{
	GwAbuseTls *t = user_data;
	gint fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	gw_abuse_tls_run(t, fd);
	close(fd);
	g_atomic_int_set(&t->done, 1);
	return NULL;
}

static gboolean
gw_abuse_tls_done(gpointer user_data)
{
	return g_atomic_int_get(&((GwAbuseTls *)user_data)->done) != 0;
}

struct _GwAbuseTlsAsync {
	GwAbuseTls t;
	GThread *thread;
};

GwAbuseTlsAsync *
gw_abuse_tls_handshake_start(guint16 port, const gchar *priority)
{
	GwAbuseTlsAsync *a = g_new0(GwAbuseTlsAsync, 1);

	a->t.port = port;
	a->t.priority = priority;
	a->thread = g_thread_new("tls-try", gw_abuse_tls_thread, &a->t);
	return a;
}

gboolean
gw_abuse_tls_handshake_finish(GwAbuseTlsAsync *a, guint timeout_ms, gchar **version, GError **error)
{
	gboolean in_time = gw_abuse_wait(gw_abuse_tls_done, &a->t, timeout_ms);
	gboolean ok = in_time && a->t.ok;

	g_thread_join(a->thread);
	if (!ok)
		g_set_error(error,
		            G_IO_ERROR,
		            in_time ? G_IO_ERROR_FAILED : G_IO_ERROR_TIMED_OUT,
		            "%s",
		            in_time ? a->t.error : "no handshake in time");
	if (ok && version != NULL)
		*version = g_steal_pointer(&a->t.version);
	g_free(a->t.version);
	g_free(a->t.error);
	g_free(a);
	return ok;
}

gboolean
gw_abuse_tls_handshake(guint16 port, const gchar *priority, gchar **version, GError **error)
{
	return gw_abuse_tls_handshake_finish(
	    gw_abuse_tls_handshake_start(port, priority), 30000, version, error);
}
