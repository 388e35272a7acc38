/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwHttp"

#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "gw-error.h"
#include "gw-http-server.h"

#define GW_HTTP_DEFAULT_MAX_BODY (4u * 1024u * 1024u)

struct _GwHttpServer {
	GObject parent_instance;
	SoupServer *server;
	gsize max_body_size;
	gboolean has_tls;
};

G_DEFINE_TYPE(GwHttpServer, gw_http_server, G_TYPE_OBJECT)

struct _GwHttpRequest {
	gint refcount;
	SoupServerMessage *msg; /* ref held */
	gchar *path;
	GHashTable *query; /* nullable */
	gchar *content_type;
	GBytes *body;
	gboolean answered;
	gboolean paused;
};

typedef struct {
	GwHttpServer *server;
	gchar *path;
	gboolean prefix;
	GwHttpHandlerFunc func;
	gpointer user_data;
	GDestroyNotify destroy;
} GwHttpHandler;

static void
gw_http_handler_free(gpointer data)
{
	GwHttpHandler *h = data;
	if (h->destroy != NULL)
		h->destroy(h->user_data);
	g_free(h->path);
	g_free(h);
}

GwHttpRequest *
gw_http_request_ref(GwHttpRequest *request)
{
	g_atomic_int_inc(&request->refcount);
	return request;
}

void
gw_http_request_unref(GwHttpRequest *request)
{
	if (!g_atomic_int_dec_and_test(&request->refcount))
		return;
	if (!request->answered) {
		/* dropped without an answer: never leave the peer hanging */
		g_warning("request %s dropped unanswered; sending 500", request->path);
		soup_server_message_set_status(request->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
		if (request->paused)
			soup_server_message_unpause(request->msg);
	}
	g_object_unref(request->msg);
	g_free(request->path);
	g_free(request->content_type);
	g_bytes_unref(request->body);
	if (request->query != NULL)
		g_hash_table_unref(request->query);
	g_free(request);
}

const gchar *
gw_http_request_get_method(GwHttpRequest *request)
{
	return soup_server_message_get_method(request->msg);
}

const gchar *
gw_http_request_get_path(GwHttpRequest *request)
{
	return request->path;
}

const gchar *
gw_http_request_get_query(GwHttpRequest *request, const gchar *name)
{
	if (request->query == NULL)
		return NULL;
	return g_hash_table_lookup(request->query, name);
}

const gchar *
gw_http_request_get_header(GwHttpRequest *request, const gchar *name)
{
	return soup_message_headers_get_one(soup_server_message_get_request_headers(request->msg),
					    name);
}

const gchar *
gw_http_request_get_content_type(GwHttpRequest *request)
{
	return request->content_type;
}

GBytes *
gw_http_request_get_body(GwHttpRequest *request)
{
	return request->body;
}

const gchar *
gw_http_request_get_remote_host(GwHttpRequest *request)
{
	const gchar *host = soup_server_message_get_remote_host(request->msg);
	return host != NULL ? host : "";
}

gboolean
gw_http_request_is_tls(GwHttpRequest *request)
{
	GUri *uri = soup_server_message_get_uri(request->msg);
	return uri != NULL && g_strcmp0(g_uri_get_scheme(uri), "https") == 0;
}

void
gw_http_request_set_header(GwHttpRequest *request, const gchar *name, const gchar *value)
{
	soup_message_headers_replace(soup_server_message_get_response_headers(request->msg),
				     name,
				     value);
}

void
gw_http_request_respond(GwHttpRequest *request,
			guint status,
			const gchar *content_type,
			GBytes *body)
{
	g_return_if_fail(!request->answered);
	request->answered = TRUE;
	if (body != NULL) {
		gsize len = 0;
		const gchar *data = g_bytes_get_data(body, &len);
		soup_server_message_set_response(request->msg,
						 content_type != NULL ? content_type
								      : "application/octet-stream",
						 SOUP_MEMORY_COPY,
						 data,
						 len);
	}
	soup_server_message_set_status(request->msg, status, NULL);
	if (request->paused) {
		request->paused = FALSE;
		soup_server_message_unpause(request->msg);
	}
}

void
gw_http_request_respond_bytes(GwHttpRequest *request,
			      guint status,
			      const gchar *content_type,
			      GBytes *body,
			      gint64 content_length)
{
	SoupMessageHeaders *headers;

	g_return_if_fail(!request->answered);
	request->answered = TRUE;
	headers = soup_server_message_get_response_headers(request->msg);
	if (content_type != NULL)
		soup_message_headers_set_content_type(headers, content_type, NULL);
	if (content_length < 0)
		content_length = body != NULL ? (gint64)g_bytes_get_size(body) : 0;
	soup_message_headers_set_content_length(headers, content_length);
	if (body != NULL && g_bytes_get_size(body) > 0) {
		SoupMessageBody *rb = soup_server_message_get_response_body(request->msg);
		/* the chunk is written as it is and dropped once written */
		soup_message_body_set_accumulate(rb, FALSE);
		soup_message_body_append_bytes(rb, body);
		soup_message_body_complete(rb);
	}
	soup_server_message_set_status(request->msg, status, NULL);
	if (request->paused) {
		request->paused = FALSE;
		soup_server_message_unpause(request->msg);
	}
}

gboolean
gw_http_request_is_answered(GwHttpRequest *request)
{
	return request->answered;
}

static void
gw_http_server_dispatch_cb(SoupServer *server,
			   SoupServerMessage *msg,
			   const char *path,
			   GHashTable *query,
			   gpointer user_data)
{
	GwHttpHandler *h = user_data;
	SoupMessageBody *body = soup_server_message_get_request_body(msg);
	g_autoptr(GwHttpRequest) request = NULL;
	const gchar *ctype;

	if (!h->prefix && g_strcmp0(path, h->path) != 0) {
		soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
		return;
	}
	if (body != NULL && (gsize)body->length > h->server->max_body_size) {
		g_info("refusing a %" G_GINT64_FORMAT " byte body from %s on %s",
		       (gint64)body->length,
		       soup_server_message_get_remote_host(msg),
		       path);
		soup_server_message_set_status(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
		return;
	}
	request = g_new0(GwHttpRequest, 1);
	request->refcount = 1;
	request->msg = g_object_ref(msg);
	request->path = g_strdup(path);
	request->query = query != NULL ? g_hash_table_ref(query) : NULL;
	ctype = soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg),
						      NULL);
	request->content_type = g_strdup(ctype);
	if (body != NULL && body->length > 0) {
		g_autoptr(GBytes) flat = soup_message_body_flatten(body);
		request->body = g_bytes_ref(flat);
	} else {
		request->body = g_bytes_new_static("", 0);
	}
	h->func(h->server, request, h->user_data);
	if (!request->answered && request->refcount > 1) {
		/* somebody kept a reference: they answer later */
		request->paused = TRUE;
		soup_server_message_pause(msg);
	}
}

/* paths nobody registered */
static void
gw_http_server_not_found_cb(SoupServer *server,
			    SoupServerMessage *msg,
			    const char *path,
			    GHashTable *query,
			    gpointer user_data)
{
	soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
}

/* after the headers, before the body is read: refuse declared oversize bodies early */
static void
gw_http_server_early_cb(SoupServer *server,
			SoupServerMessage *msg,
			const char *path,
			GHashTable *query,
			gpointer user_data)
{
	GwHttpServer *self = GW_HTTP_SERVER(user_data);
	goffset len =
	    soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg));
	if (len > 0 && (gsize)len > self->max_body_size) {
		g_info("refusing a %" G_GINT64_FORMAT " byte body from %s on %s",
		       (gint64)len,
		       soup_server_message_get_remote_host(msg),
		       path);
		soup_server_message_set_status(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
	}
}

void
gw_http_server_add_handler(GwHttpServer *self,
			   const gchar *path,
			   GwHttpHandlerFunc func,
			   gpointer user_data,
			   GDestroyNotify destroy)
{
	GwHttpHandler *h = g_new0(GwHttpHandler, 1);
	gsize len = strlen(path);

	h->server = self;
	h->prefix = len > 1 && path[len - 1] == '/';
	h->path = h->prefix ? g_strndup(path, len - 1) : g_strdup(path);
	h->func = func;
	h->user_data = user_data;
	h->destroy = destroy;
	soup_server_add_handler(self->server, h->path, gw_http_server_dispatch_cb, h, gw_http_handler_free);
}

/* pending connections the kernel queues before accept() (capped by net.core.somaxconn) */
#define GW_HTTP_SERVER_BACKLOG 1024

gboolean
gw_http_server_listen(GwHttpServer *self, const gchar *uri, GError **error)
{
	g_autoptr(GUri) parsed = g_uri_parse(uri, G_URI_FLAGS_NONE, error);
	g_autoptr(GInetAddress) addr = NULL;
	g_autoptr(GSocketAddress) saddr = NULL;
	g_autoptr(GSocket) sock = NULL;
	SoupServerListenOptions options = 0;
	const gchar *scheme;
	const gchar *host;
	gint port;

	if (parsed == NULL) {
		g_prefix_error(error, "listen address %s: ", uri);
		return FALSE;
	}
	scheme = g_uri_get_scheme(parsed);
	host = g_uri_get_host(parsed);
	port = g_uri_get_port(parsed);
	if (g_strcmp0(scheme, "https") == 0) {
		if (!self->has_tls) {
			g_set_error(error,
				    GW_ERROR,
				    GW_ERROR_INVALID_ARGS,
				    "%s: https needs a TLS certificate",
				    uri);
			return FALSE;
		}
		options |= SOUP_SERVER_LISTEN_HTTPS;
	} else if (g_strcmp0(scheme, "http") != 0) {
		g_set_error(error,
			    GW_ERROR,
			    GW_ERROR_INVALID_ARGS,
			    "%s: only http:// and https:// can be listened on",
			    uri);
		return FALSE;
	}
	if (host == NULL || port < 0 || port > 65535) {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s: host and port needed", uri);
		return FALSE;
	}
	addr = g_inet_address_new_from_string(host);
	if (addr == NULL) {
		g_set_error(error,
			    GW_ERROR,
			    GW_ERROR_INVALID_ARGS,
			    "%s: '%s' is not an IP address",
			    uri,
			    host);
		return FALSE;
	}
	saddr = g_inet_socket_address_new(addr, (guint16)port);
	/* our own socket, as soup_server_listen() would make it but with a longer accept queue:
	 * GSocket's default backlog of 10 dropped the SYNs of a burst of devices connecting at
	 * once (a fan-out's first sessions), and each dropped SYN cost the device a 1 s TCP
	 * retransmission */
	sock = g_socket_new(
	    g_inet_address_get_family(addr), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
	if (sock == NULL) {
		g_prefix_error(error, "cannot listen on %s: ", uri);
		return FALSE;
	}
	g_socket_set_listen_backlog(sock, GW_HTTP_SERVER_BACKLOG);
	if (!g_socket_bind(sock, saddr, TRUE, error) || !g_socket_listen(sock, error) ||
	    !soup_server_listen_socket(self->server, sock, options, error)) {
		g_prefix_error(error, "cannot listen on %s: ", uri);
		return FALSE;
	}
	return TRUE;
}

gchar **
gw_http_server_get_uris(GwHttpServer *self)
{
	GSList *uris = soup_server_get_uris(self->server);
	GPtrArray *out = g_ptr_array_new();
	for (GSList *l = uris; l != NULL; l = l->next)
		g_ptr_array_add(out, g_uri_to_string(l->data));
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	g_ptr_array_add(out, NULL);
	return (gchar **)g_ptr_array_free(out, FALSE);
}

guint16
gw_http_server_get_port(GwHttpServer *self, gboolean https)
{
	GSList *uris = soup_server_get_uris(self->server);
	guint16 port = 0;
	for (GSList *l = uris; l != NULL; l = l->next) {
		gboolean is_https = g_strcmp0(g_uri_get_scheme(l->data), "https") == 0;
		if (is_https == https) {
			port = (guint16)g_uri_get_port(l->data);
			break;
		}
	}
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	return port;
}

void
gw_http_server_disconnect(GwHttpServer *self)
{
	soup_server_disconnect(self->server);
}

static void
gw_http_server_finalize(GObject *object)
{
	GwHttpServer *self = GW_HTTP_SERVER(object);
	soup_server_disconnect(self->server);
	g_object_unref(self->server);
	G_OBJECT_CLASS(gw_http_server_parent_class)->finalize(object);
}

static void
gw_http_server_class_init(GwHttpServerClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = gw_http_server_finalize;
}

static void
gw_http_server_init(GwHttpServer *self)
{
	self->max_body_size = GW_HTTP_DEFAULT_MAX_BODY;
}

GwHttpServer *
gw_http_server_new(GTlsCertificate *certificate)
{
	GwHttpServer *self = g_object_new(GW_TYPE_HTTP_SERVER, NULL);
	self->server = soup_server_new("server-header", "gwmo/" PACKAGE_VERSION " ", NULL);
	if (certificate != NULL) {
		soup_server_set_tls_certificate(self->server, certificate);
		self->has_tls = TRUE;
	}
	soup_server_add_early_handler(self->server, NULL, gw_http_server_early_cb, self, NULL);
	soup_server_add_handler(self->server, NULL, gw_http_server_not_found_cb, NULL, NULL);
	return self;
}

void
gw_http_server_set_max_body_size(GwHttpServer *self, gsize max_body_size)
{
	self->max_body_size = max_body_size;
}
