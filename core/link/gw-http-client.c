/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwHttp"

#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "gw-crypto.h"
#include "gw-error.h"
#include "gw-http-client.h"

struct _GwHttpClient {
	GObject parent_instance;
	SoupSession *session;
	guint max_in_flight;
	guint running;
	guint retries;
	guint backoff_ms;
	guint timeout_s;
	GQueue waiting;               /* of GTask */
	GTlsCertificate *certificate; /* client identity, nullable */
	gchar *identity_files[3];     /* cert, key, CN: loaded on first use */
};

G_DEFINE_TYPE(GwHttpClient, gw_http_client, G_TYPE_OBJECT)

typedef struct {
	const gchar *method; /* static: "POST", "GET", "PUT" */
	gchar *uri;
	gchar *content_type;
	GBytes *body;
	GStrv headers;
	guint attempt;
	SoupMessage *msg;
	GCancellable
	    *attempt_cancellable; /* this attempt: cancelled by the caller or the deadline */
	gulong cancelled_id;      /* on the caller's cancellable */
	guint deadline_id;
	gboolean timed_out;
	/* GwHttpClientAuth, copied */
	gchar *auth_origin;
	gchar *digest_user;
	gchar *digest_secret;
	gboolean client_certificate;
	gboolean digest_tried; /* of this attempt: a second challenge means a wrong password */
} GwHttpPost;

static void
gw_http_post_end_attempt(GwHttpPost *p, GCancellable *caller)
{
	g_clear_handle_id(&p->deadline_id, g_source_remove);
	/* not g_cancellable_disconnect(): it waits for a running "cancelled" handler, which
	 * deadlocks when the attempt ends inside the caller's g_cancellable_cancel() */
	if (p->cancelled_id != 0)
		g_clear_signal_handler(&p->cancelled_id, caller);
	g_clear_object(&p->attempt_cancellable);
}

static void
gw_http_post_free(gpointer data)
{
	GwHttpPost *p = data;
	g_assert(p->deadline_id == 0 && p->cancelled_id == 0);
	g_clear_object(&p->attempt_cancellable);
	g_free(p->uri);
	g_free(p->content_type);
	g_clear_pointer(&p->body, g_bytes_unref);
	g_strfreev(p->headers);
	g_clear_object(&p->msg);
	g_free(p->auth_origin);
	g_free(p->digest_user);
	if (p->digest_secret != NULL)
		memset(p->digest_secret, 0, strlen(p->digest_secret));
	g_free(p->digest_secret);
	g_free(p);
}

/* "sha256:<hex>" of the certificate @msg's server presented, NULL over http */
static gchar *
gw_http_client_peer_fingerprint(SoupMessage *msg)
{
	GTlsCertificate *certificate = soup_message_get_tls_peer_certificate(msg);
	g_autoptr(GByteArray) der = NULL;
	g_autofree gchar *hex = NULL;

	if (certificate == NULL)
		return NULL;
	g_object_get(certificate, "certificate", &der, NULL);
	if (der == NULL || der->len == 0)
		return NULL;
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
	return g_strconcat("sha256:", hex, NULL);
}

void
gw_http_response_free(GwHttpResponse *response)
{
	g_free(response->content_type);
	g_free(response->peer_fingerprint);
	g_bytes_unref(response->body);
	g_hash_table_unref(response->headers);
	g_free(response);
}

static void
gw_http_client_start(GwHttpClient *self, GTask *task);
static void
gw_http_client_pump(GwHttpClient *self);

static gboolean
gw_http_client_is_retryable(const GError *error)
{
	if (error->domain == G_TLS_ERROR)
		return FALSE;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return FALSE;
	return error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR;
}

static void
gw_http_client_done(GwHttpClient *self, GTask *task)
{
	self->running--;
	gw_http_client_pump(self);
	g_object_unref(task);
}

static gboolean
gw_http_client_retry_cb(gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwHttpClient *self = g_task_get_source_object(task);
	gw_http_client_start(self, task);
	return G_SOURCE_REMOVE;
}

static void
gw_http_client_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwHttpClient *self = g_task_get_source_object(task);
	GwHttpPost *p = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body =
	    soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	GwHttpResponse *response;
	SoupMessageHeadersIter iter;
	const char *name;
	const char *value;

	gw_http_post_end_attempt(p, g_task_get_cancellable(task));
	if (body == NULL && p->timed_out) {
		/* our deadline cancelled the attempt, not the caller */
		g_clear_error(&error);
		g_set_error(
		    &error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no answer in %u s", self->timeout_s);
	}
	p->timed_out = FALSE;
	if (body == NULL) {
		/* the caller cancelled: G_IO_ERROR_CANCELLED, no retry */
		if (g_task_return_error_if_cancelled(task)) {
			gw_http_client_done(self, task);
			return;
		}
		if (gw_http_client_is_retryable(error) && p->attempt < self->retries) {
			guint delay = self->backoff_ms << p->attempt;
			p->attempt++;
			g_info("%s %s failed (%s), retry %u in %u ms",
			       p->method,
			       p->uri,
			       error->message,
			       p->attempt,
			       delay);
			g_clear_object(&p->msg);
			g_timeout_add(delay, gw_http_client_retry_cb, task);
			return;
		}
		if (error->domain == G_TLS_ERROR) {
			g_task_return_new_error(task,
			                        GW_ERROR,
			                        GW_ERROR_NETWORK,
			                        "TLS with %s failed: %s",
			                        p->uri,
			                        error->message);
		} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
			g_task_return_new_error(task,
			                        GW_ERROR,
			                        GW_ERROR_TIMED_OUT,
			                        "%s %s timed out",
			                        p->method,
			                        p->uri);
		} else {
			g_task_return_new_error(task,
			                        GW_ERROR,
			                        GW_ERROR_NETWORK,
			                        "%s %s failed: %s",
			                        p->method,
			                        p->uri,
			                        error->message);
		}
		gw_http_client_done(self, task);
		return;
	}
	response = g_new0(GwHttpResponse, 1);
	response->status = soup_message_get_status(p->msg);
	response->peer_fingerprint = gw_http_client_peer_fingerprint(p->msg);
	response->content_type = g_strdup(
	    soup_message_headers_get_content_type(soup_message_get_response_headers(p->msg), NULL));
	response->body = g_bytes_ref(body);
	response->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	soup_message_headers_iter_init(&iter, soup_message_get_response_headers(p->msg));
	while (soup_message_headers_iter_next(&iter, &name, &value))
		g_hash_table_replace(response->headers, g_ascii_strdown(name, -1), g_strdup(value));
	g_task_return_pointer(task, response, (GDestroyNotify)gw_http_response_free);
	gw_http_client_done(self, task);
}

static void
gw_http_client_caller_cancelled_cb(GCancellable *caller, gpointer user_data)
{
	g_cancellable_cancel(G_CANCELLABLE(user_data));
}

static gboolean
gw_http_client_deadline_cb(gpointer user_data)
{
	GwHttpPost *p = user_data;
	p->deadline_id = 0;
	p->timed_out = TRUE;
	g_cancellable_cancel(p->attempt_cancellable);
	return G_SOURCE_REMOVE;
}

/* "scheme://host:port" of @uri, or NULL */
static gchar *
gw_http_client_origin(GUri *uri)
{
	const gchar *scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
	gint port;

	if (scheme == NULL || g_uri_get_host(uri) == NULL)
		return NULL;
	port = g_uri_get_port(uri);
	if (port < 0)
		port = g_ascii_strcasecmp(scheme, "https") == 0 ? 443 : 80;
	return g_strdup_printf("%s://%s:%d", scheme, g_uri_get_host(uri), port);
}

static gboolean
gw_http_client_at_origin(SoupMessage *msg, const gchar *origin)
{
	g_autofree gchar *here = gw_http_client_origin(soup_message_get_uri(msg));
	return origin != NULL && g_strcmp0(here, origin) == 0;
}

/* libsoup's auth manager met a 401: only a Digest challenge of the request's own origin is
 * answered, and only once (libsoup asks again when the answer was refused). FALSE: not
 * answered, the 401 is the response (TRUE without soup_auth_authenticate() would wait for an
 * asynchronous answer) */
static gboolean
gw_http_client_authenticate_cb(SoupMessage *msg,
                               SoupAuth *auth,
                               gboolean retrying,
                               gpointer user_data)
{
	GwHttpPost *p = user_data;

	if (soup_auth_is_for_proxy(auth) ||
	    g_ascii_strcasecmp(soup_auth_get_scheme_name(auth), "Digest") != 0) {
		g_info("%s %s: %s challenge not answered (the account uses HTTP Digest)",
		       p->method,
		       p->uri,
		       soup_auth_get_scheme_name(auth));
		return FALSE;
	}
	if (p->digest_tried || !gw_http_client_at_origin(msg, p->auth_origin))
		return FALSE;
	p->digest_tried = TRUE;
	soup_auth_authenticate(auth, p->digest_user, p->digest_secret);
	return TRUE;
}

/* libsoup 3.2 sends the request again after the Digest answer without rewinding the body
 * (the retry goes out with Content-Length: 0): give it the body again */
static void
gw_http_client_restarted_cb(SoupMessage *msg, gpointer user_data)
{
	GwHttpPost *p = user_data;
	if (p->body != NULL)
		soup_message_set_request_body_from_bytes(msg, p->content_type, p->body);
}

static GTlsCertificate *
gw_http_client_get_identity(GwHttpClient *self, GError **error)
{
	if (self->certificate == NULL && self->identity_files[0] != NULL)
		self->certificate = gw_crypto_load_or_create(self->identity_files[0],
		                                             self->identity_files[1],
		                                             self->identity_files[2],
		                                             error);
	else if (self->certificate == NULL)
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_FAILED, "the gateway has no TLS identity to present");
	return self->certificate;
}

static void
gw_http_client_start(GwHttpClient *self, GTask *task)
{
	GwHttpPost *p = g_task_get_task_data(task);
	SoupMessageHeaders *headers;

	/* cancelled while waiting for a slot or a retry */
	if (g_task_return_error_if_cancelled(task)) {
		gw_http_client_done(self, task);
		return;
	}
	p->msg = soup_message_new(p->method, p->uri);
	if (p->msg == NULL) {
		g_task_return_new_error(
		    task, GW_ERROR, GW_ERROR_INVALID_ARGS, "'%s' is not an http(s) URI", p->uri);
		gw_http_client_done(self, task);
		return;
	}
	/* without it libsoup opens a new connection for every POST (spec/OMA-DM.md gotchas) */
	soup_message_add_flags(p->msg, SOUP_MESSAGE_IDEMPOTENT);
	/* credentials libsoup's auth manager cached for one account's Digest never reach another
	 * request: only a Digest request has the manager */
	p->digest_tried = FALSE;
	if (p->digest_user != NULL) {
		g_signal_connect(
		    p->msg, "authenticate", G_CALLBACK(gw_http_client_authenticate_cb), p);
		g_signal_connect(p->msg, "restarted", G_CALLBACK(gw_http_client_restarted_cb), p);
	} else
		soup_message_disable_feature(p->msg, SOUP_TYPE_AUTH_MANAGER);
	if (p->client_certificate && gw_http_client_at_origin(p->msg, p->auth_origin)) {
		g_autoptr(GError) error = NULL;
		GTlsCertificate *identity = gw_http_client_get_identity(self, &error);

		if (identity == NULL) {
			g_task_return_new_error(task,
			                        GW_ERROR,
			                        GW_ERROR_AUTH_FAILED,
			                        "no client certificate for %s: %s",
			                        p->uri,
			                        error->message);
			gw_http_client_done(self, task);
			return;
		}
		soup_message_set_tls_client_certificate(p->msg, identity);
	}
	if (p->body != NULL)
		soup_message_set_request_body_from_bytes(p->msg, p->content_type, p->body);
	headers = soup_message_get_request_headers(p->msg);
	for (guint i = 0; p->headers != NULL && p->headers[i] != NULL && p->headers[i + 1] != NULL;
	     i += 2)
		soup_message_headers_replace(headers, p->headers[i], p->headers[i + 1]);
	/* One deadline for the whole attempt, rather than libsoup's socket I/O timeout, which
	 * a peer trickling a byte now and then never trips. (Measured CPU: no difference
	 * either way, docs/benchmarks.md.) */
	p->attempt_cancellable = g_cancellable_new();
	if (g_task_get_cancellable(task) != NULL) {
		/* single-threaded: a plain signal handler, see gw_http_post_end_attempt() */
		p->cancelled_id = g_signal_connect(g_task_get_cancellable(task),
		                                   "cancelled",
		                                   G_CALLBACK(gw_http_client_caller_cancelled_cb),
		                                   p->attempt_cancellable);
		if (g_cancellable_is_cancelled(g_task_get_cancellable(task)))
			g_cancellable_cancel(p->attempt_cancellable);
	}
	/* not g_timeout_add_seconds(): it rounds to whole seconds of the process's clock and
	 * can fire up to a second early */
	if (self->timeout_s > 0)
		p->deadline_id = g_timeout_add(
		    MIN(self->timeout_s, G_MAXUINT / 1000) * 1000, gw_http_client_deadline_cb, p);
	soup_session_send_and_read_async(self->session,
	                                 p->msg,
	                                 G_PRIORITY_DEFAULT,
	                                 p->attempt_cancellable,
	                                 gw_http_client_sent_cb,
	                                 task);
}

static void
gw_http_client_pump(GwHttpClient *self)
{
	while (self->running < self->max_in_flight && !g_queue_is_empty(&self->waiting)) {
		GTask *task = g_queue_pop_head(&self->waiting);
		self->running++;
		gw_http_client_start(self, task);
	}
}

void
gw_http_client_post_async(GwHttpClient *self,
                          const gchar *uri,
                          const gchar *content_type,
                          GBytes *body,
                          const gchar *const *headers,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
	gw_http_client_request_async(
	    self, "POST", uri, content_type, body, headers, cancellable, callback, user_data);
}

void
gw_http_client_request_async(GwHttpClient *self,
                             const gchar *method,
                             const gchar *uri,
                             const gchar *content_type,
                             GBytes *body,
                             const gchar *const *headers,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
	gw_http_client_request_auth_async(
	    self, method, uri, content_type, body, headers, NULL, cancellable, callback, user_data);
}

void
gw_http_client_request_auth_async(GwHttpClient *self,
                                  const gchar *method,
                                  const gchar *uri,
                                  const gchar *content_type,
                                  GBytes *body,
                                  const gchar *const *headers,
                                  const GwHttpClientAuth *auth,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	GwHttpPost *p = g_new0(GwHttpPost, 1);

	p->method = g_intern_string(method);
	p->uri = g_strdup(uri);
	p->content_type = g_strdup(content_type);
	p->body = body != NULL ? g_bytes_ref(body) : NULL;
	p->headers = g_strdupv((gchar **)headers);
	if (auth != NULL) {
		p->auth_origin = g_strdup(auth->origin);
		if (auth->digest_user != NULL && auth->digest_secret != NULL) {
			p->digest_user = g_strdup(auth->digest_user);
			p->digest_secret = g_strdup(auth->digest_secret);
		}
		p->client_certificate = auth->client_certificate;
	}
	g_task_set_task_data(task, p, gw_http_post_free);
	g_queue_push_tail(&self->waiting, task);
	gw_http_client_pump(self);
}

GwHttpResponse *
gw_http_client_post_finish(GwHttpClient *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- bounded GET ---- */

typedef struct {
	gchar *uri;
	SoupMessage *msg;
	GInputStream *stream;
	GByteArray *body;
	gsize max_body;
	guint timeout_s;
	GCancellable *cancellable; /* cancelled by the caller or the deadline */
	gulong cancelled_id;       /* on the caller's cancellable */
	guint deadline_id;
	gboolean timed_out;
} GwHttpGet;

static void
gw_http_get_free(gpointer data)
{
	GwHttpGet *g = data;
	g_assert(g->deadline_id == 0 && g->cancelled_id == 0);
	g_free(g->uri);
	g_clear_object(&g->msg);
	g_clear_object(&g->stream);
	g_byte_array_unref(g->body);
	g_clear_object(&g->cancellable);
	g_free(g);
}

static gboolean
gw_http_get_deadline_cb(gpointer user_data)
{
	GwHttpGet *g = user_data;
	g->deadline_id = 0;
	g->timed_out = TRUE;
	g_cancellable_cancel(g->cancellable);
	return G_SOURCE_REMOVE;
}

/* ends the GET with @error (taken), or with the response when @error is NULL */
static void
gw_http_get_return(GTask *task, GError *error)
{
	GwHttpGet *g = g_task_get_task_data(task);
	GwHttpResponse *response;
	SoupMessageHeadersIter iter;
	const char *name;
	const char *value;

	g_clear_handle_id(&g->deadline_id, g_source_remove);
	if (g->cancelled_id != 0)
		g_clear_signal_handler(&g->cancelled_id, g_task_get_cancellable(task));
	if (error != NULL) {
		if (g->timed_out) {
			g_error_free(error);
			g_task_return_new_error(task,
			                        GW_ERROR,
			                        GW_ERROR_TIMED_OUT,
			                        "GET %s: no whole answer in %u s",
			                        g->uri,
			                        g->timeout_s);
		} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
		           error->domain == GW_ERROR) {
			g_task_return_error(task, error);
		} else {
			g_task_return_new_error(task,
			                        GW_ERROR,
			                        GW_ERROR_NETWORK,
			                        "GET %s failed: %s",
			                        g->uri,
			                        error->message);
			g_error_free(error);
		}
		g_object_unref(task);
		return;
	}
	response = g_new0(GwHttpResponse, 1);
	response->status = soup_message_get_status(g->msg);
	response->peer_fingerprint = gw_http_client_peer_fingerprint(g->msg);
	response->content_type = g_strdup(
	    soup_message_headers_get_content_type(soup_message_get_response_headers(g->msg), NULL));
	response->body = g_bytes_new(g->body->data, g->body->len);
	response->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	soup_message_headers_iter_init(&iter, soup_message_get_response_headers(g->msg));
	while (soup_message_headers_iter_next(&iter, &name, &value))
		g_hash_table_replace(response->headers, g_ascii_strdown(name, -1), g_strdup(value));
	g_task_return_pointer(task, response, (GDestroyNotify)gw_http_response_free);
	g_object_unref(task);
}

static void
gw_http_get_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwHttpGet *g = g_task_get_task_data(task);
	GError *error = NULL;
	g_autoptr(GBytes) chunk =
	    g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);

	if (chunk == NULL) {
		gw_http_get_return(task, error);
		return;
	}
	if (g_bytes_get_size(chunk) == 0) {
		gw_http_get_return(task, NULL);
		return;
	}
	if (g->body->len + g_bytes_get_size(chunk) > g->max_body) {
		gw_http_get_return(task,
		                   g_error_new(GW_ERROR,
		                               GW_ERROR_PROTOCOL,
		                               "GET %s: the answer is longer than %" G_GSIZE_FORMAT
		                               " bytes",
		                               g->uri,
		                               g->max_body));
		return;
	}
	g_byte_array_append(g->body, g_bytes_get_data(chunk, NULL), g_bytes_get_size(chunk));
	g_input_stream_read_bytes_async(g->stream,
	                                MIN(g->max_body - g->body->len + 1, 16 * 1024),
	                                G_PRIORITY_DEFAULT,
	                                g->cancellable,
	                                gw_http_get_read_cb,
	                                task);
}

static void
gw_http_get_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwHttpGet *g = g_task_get_task_data(task);
	GError *error = NULL;
	goffset length;

	g->stream = soup_session_send_finish(SOUP_SESSION(source), res, &error);
	if (g->stream == NULL) {
		if (error->domain == G_TLS_ERROR) {
			GError *tls = g_error_new(GW_ERROR,
			                          GW_ERROR_NETWORK,
			                          "TLS with %s failed: %s",
			                          g->uri,
			                          error->message);
			g_error_free(error);
			error = tls;
		}
		gw_http_get_return(task, error);
		return;
	}
	length = soup_message_headers_get_content_length(soup_message_get_response_headers(g->msg));
	if (length > 0 && (guint64)length > g->max_body) {
		gw_http_get_return(task,
		                   g_error_new(GW_ERROR,
		                               GW_ERROR_PROTOCOL,
		                               "GET %s: Content-Length %" G_GOFFSET_FORMAT
		                               " is above %" G_GSIZE_FORMAT " bytes",
		                               g->uri,
		                               length,
		                               g->max_body));
		return;
	}
	g_input_stream_read_bytes_async(g->stream,
	                                MIN(g->max_body + 1, 16 * 1024),
	                                G_PRIORITY_DEFAULT,
	                                g->cancellable,
	                                gw_http_get_read_cb,
	                                task);
}

void
gw_http_client_get_async(GwHttpClient *self,
                         const gchar *uri,
                         const gchar *const *headers,
                         gsize max_body,
                         guint timeout_s,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
	GTask *task;
	GwHttpGet *g;
	SoupMessageHeaders *request_headers;

	g_return_if_fail(GW_IS_HTTP_CLIENT(self));
	g_return_if_fail(uri != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, gw_http_client_get_async);
	g = g_new0(GwHttpGet, 1);
	g->uri = g_strdup(uri);
	g->body = g_byte_array_new();
	g->max_body = max_body;
	g->timeout_s = timeout_s > 0 ? timeout_s : self->timeout_s;
	g_task_set_task_data(task, g, gw_http_get_free);
	g->msg = soup_message_new("GET", uri);
	if (g->msg == NULL) {
		gw_http_get_return(
		    task,
		    g_error_new(
		        GW_ERROR, GW_ERROR_INVALID_ARGS, "'%s' is not an http(s) URI", uri));
		return;
	}
	request_headers = soup_message_get_request_headers(g->msg);
	for (guint i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL; i += 2)
		soup_message_headers_replace(request_headers, headers[i], headers[i + 1]);
	g->cancellable = g_cancellable_new();
	if (cancellable != NULL) {
		g->cancelled_id = g_signal_connect(cancellable,
		                                   "cancelled",
		                                   G_CALLBACK(gw_http_client_caller_cancelled_cb),
		                                   g->cancellable);
		if (g_cancellable_is_cancelled(cancellable))
			g_cancellable_cancel(g->cancellable);
	}
	if (g->timeout_s > 0)
		g->deadline_id = g_timeout_add(
		    MIN(g->timeout_s, G_MAXUINT / 1000) * 1000, gw_http_get_deadline_cb, g);
	soup_session_send_async(
	    self->session, g->msg, G_PRIORITY_DEFAULT, g->cancellable, gw_http_get_sent_cb, task);
}

GwHttpResponse *
gw_http_client_get_finish(GwHttpClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

guint
gw_http_client_get_in_flight(GwHttpClient *self)
{
	return self->running + g_queue_get_length(&self->waiting);
}

void
gw_http_client_set_timeout(GwHttpClient *self, guint seconds)
{
	self->timeout_s = seconds;
	soup_session_set_idle_timeout(self->session, seconds * 2);
}

void
gw_http_client_set_max_in_flight(GwHttpClient *self, guint max_in_flight)
{
	self->max_in_flight = MAX(max_in_flight, 1);
	gw_http_client_pump(self);
}

void
gw_http_client_set_retries(GwHttpClient *self, guint retries, guint initial_backoff_ms)
{
	self->retries = retries;
	self->backoff_ms = MAX(initial_backoff_ms, 1);
}

void
gw_http_client_set_certificate(GwHttpClient *self, GTlsCertificate *certificate)
{
	g_set_object(&self->certificate, certificate);
}

void
gw_http_client_set_identity_files(GwHttpClient *self,
                                  const gchar *cert_path,
                                  const gchar *key_path,
                                  const gchar *common_name)
{
	g_clear_object(&self->certificate);
	for (guint i = 0; i < G_N_ELEMENTS(self->identity_files); i++)
		g_clear_pointer(&self->identity_files[i], g_free);
	self->identity_files[0] = g_strdup(cert_path);
	self->identity_files[1] = g_strdup(key_path);
	self->identity_files[2] = g_strdup(common_name != NULL ? common_name : "gwmod");
}

static void
gw_http_client_finalize(GObject *object)
{
	GwHttpClient *self = GW_HTTP_CLIENT(object);
	g_queue_clear_full(&self->waiting, g_object_unref);
	g_clear_object(&self->session);
	g_clear_object(&self->certificate);
	for (guint i = 0; i < G_N_ELEMENTS(self->identity_files); i++)
		g_free(self->identity_files[i]);
	G_OBJECT_CLASS(gw_http_client_parent_class)->finalize(object);
}

static void
gw_http_client_class_init(GwHttpClientClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = gw_http_client_finalize;
}

static void
gw_http_client_init(GwHttpClient *self)
{
	self->max_in_flight = 32;
	self->retries = 3;
	self->backoff_ms = 200;
	self->timeout_s = 30;
	g_queue_init(&self->waiting);
}

GwHttpClient *
gw_http_client_new(const gchar *ca_file, GError **error)
{
	g_autoptr(GwHttpClient) self = g_object_new(GW_TYPE_HTTP_CLIENT, NULL);
	g_autoptr(GTlsDatabase) db = NULL;

	if (ca_file != NULL && ca_file[0] != '\0') {
		db = g_tls_file_database_new(ca_file, error);
		if (db == NULL) {
			g_prefix_error(error, "CA file %s: ", ca_file);
			return NULL;
		}
	}
	/* no proxy resolver: the default one stalls on headless machines, and DM traffic goes
	 * to the configured addresses directly */
	self->session = soup_session_new_with_options("proxy-resolver",
	                                              NULL,
	                                              "idle-timeout",
	                                              60,
	                                              "max-conns",
	                                              256,
	                                              "max-conns-per-host",
	                                              64,
	                                              "user-agent",
	                                              "gwmo/" PACKAGE_VERSION,
	                                              NULL);
	if (db != NULL)
		soup_session_set_tls_database(self->session, db);
	return g_steal_pointer(&self);
}
