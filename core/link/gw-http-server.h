/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * An HTTP(S) listener (libsoup 3). Upper layers see GwHttpRequest, never libsoup types.
 * Request bodies over the size limit are answered 413 before any handler runs.
 * The server owns its listening sockets, the accept loop and TLS, and hands each connection
 * to libsoup only for HTTP/1.1 (see GwHttpServerLimits).
 */

#define GW_TYPE_HTTP_SERVER (gw_http_server_get_type())
G_DECLARE_FINAL_TYPE(GwHttpServer, gw_http_server, GW, HTTP_SERVER, GObject)

typedef struct _GwHttpRequest GwHttpRequest;

typedef void (*GwHttpHandlerFunc)(GwHttpServer *server, GwHttpRequest *request, gpointer user_data);

/* @certificate: needed for https:// listen URIs, nullable otherwise */
GwHttpServer *
gw_http_server_new(GTlsCertificate *certificate);
/* counted while the body is read, on every path: a body that passes it is answered 413 and its
 * connection closed at once, nothing of it kept */
void
gw_http_server_set_max_body_size(GwHttpServer *self, gsize max_body_size); /* default 4 MiB */
/* TRUE: the TLS handshake asks the client for a certificate (never requires one: a client
 * without still connects) and accepts any chain it presents, unverified; what that certificate
 * may do is for the handler to decide, by its fingerprint (gw_http_request_get_peer_fingerprint()).
 * For connections accepted afterwards. Default FALSE: no certificate is asked for. */
void
gw_http_server_set_request_client_certificate(GwHttpServer *self, gboolean request);

/*
 * What one client may hold ([http] in gwmod.conf). The server accepts connections itself:
 * a TLS client gets handshake_ms from the accept to a finished handshake (TLS 1.2 at least;
 * older ClientHellos are refused with a protocol_version alert). Its first TLS record (the
 * ClientHello) must arrive whole within GW_HTTP_SERVER_HELLO_MS before the connection may
 * wait for one of the GW_HTTP_SERVER_MAX_HANDSHAKES handshakes that run at once, at most
 * GW_HTTP_SERVER_MAX_HANDSHAKES_PER_PEER of them for one peer, started in turn across peers.
 * Every request then gets header_ms from its first byte to its last header line (from the
 * accept for a connection's first one, TLS handshake included), body_ms for its whole body,
 * handler_ms for an answer once its handler has it; a kept-alive connection waits idle_ms for
 * the next request, and a response that does not move for idle_ms is given up. A peer holds at
 * most max_per_peer connections, the server max_connections: past either, the oldest idle
 * kept-alive connection (of that peer) is closed to make room, else the new connection is
 * closed at once. Request bodies, while they are read and until the handler's last reference
 * to them goes, take from a budget of max_body_buffer bytes, a peer from a quarter of it (at
 * least one body of the maximum size): a body that would pass either is answered 503 (with
 * Retry-After) and its connection closed. A peer is an IPv4 address, or the /64 of an IPv6 one
 * (one host holds a whole /64). A listener that runs out of descriptors (EMFILE, ENFILE)
 * retries after a short back-off.
 */
typedef struct {
	guint header_ms;
	guint body_ms;
	guint idle_ms;
	guint handshake_ms;
	guint max_connections;
	guint max_per_peer;
	guint handler_ms;
	gsize max_body_buffer;
	guint hello_ms; /* the ClientHello's deadline, at most handshake_ms; default
	                 * GW_HTTP_SERVER_HELLO_MS (test peers wait longer for slow clients) */
} GwHttpServerLimits;

#define GW_HTTP_SERVER_DEFAULT_HEADER_MS 10000
#define GW_HTTP_SERVER_DEFAULT_BODY_MS 60000
#define GW_HTTP_SERVER_DEFAULT_IDLE_MS 30000
#define GW_HTTP_SERVER_DEFAULT_HANDSHAKE_MS 10000
#define GW_HTTP_SERVER_DEFAULT_MAX_CONNECTIONS 4096
#define GW_HTTP_SERVER_DEFAULT_MAX_PER_PEER 64
#define GW_HTTP_SERVER_DEFAULT_HANDLER_MS 60000
#define GW_HTTP_SERVER_DEFAULT_MAX_BODY_BUFFER ((gsize)64 * 1024 * 1024)
/* TLS handshakes at once: glib-networking runs each in a worker thread, blocked on the peer */
#define GW_HTTP_SERVER_MAX_HANDSHAKES 16
#define GW_HTTP_SERVER_MAX_HANDSHAKES_PER_PEER 2
/* a real client sends its whole ClientHello at once */
#define GW_HTTP_SERVER_HELLO_MS 10000

/* the peer @address counts as for the per-peer limits: "192.0.2.1", "2001:db8:1:2::/64" (an
 * IPv4-mapped IPv6 address is its IPv4 one) */
gchar *
gw_http_peer_group(GInetAddress *address);

/* a zero field keeps that limit as it is */
void
gw_http_server_set_limits(GwHttpServer *self, const GwHttpServerLimits *limits);
void
gw_http_server_get_limits(GwHttpServer *self, GwHttpServerLimits *limits);
/* open client connections (handshaking, reading, answering, idle or closing) */
guint
gw_http_server_get_n_connections(GwHttpServer *self);
/* TLS handshakes running now */
guint
gw_http_server_get_n_handshakes(GwHttpServer *self);
/* bytes of request bodies held now (being read, or with a handler) */
gsize
gw_http_server_get_buffered_bodies(GwHttpServer *self);
/* "http://127.0.0.1:0", "https://0.0.0.0:7443", "http://[::1]:7080"; port 0 picks one */
gboolean
gw_http_server_listen(GwHttpServer *self, const gchar *uri, GError **error);
/* the listening URIs with real ports, e.g. "https://127.0.0.1:40123/" (free with g_strfreev) */
gchar **
gw_http_server_get_uris(GwHttpServer *self);
/* the first listening port of that scheme, 0 if none */
guint16
gw_http_server_get_port(GwHttpServer *self, gboolean https);
/* @path: exact path ("/dm") or a prefix ending in "/" ("/images/") */
void
gw_http_server_add_handler(GwHttpServer *self,
                           const gchar *path,
                           GwHttpHandlerFunc func,
                           gpointer user_data,
                           GDestroyNotify destroy);
void
gw_http_server_disconnect(GwHttpServer *self);

/*
 * A request that never reached its handler: refused while its body was read (413 past the
 * size limit, 503 past the body budget) or closed by the body deadline (status 0). Reported
 * from the main loop once its headers are known; a connection closed before that (a header
 * deadline, a malformed request line) names no path and is not reported.
 */
typedef struct {
	const gchar *path;
	const gchar *peer; /* its address */
	guint status;
	const gchar *reason;
	const gchar *content_type; /* nullable */
	GBytes *body_start;        /* the first bytes of the body (up to 4 KiB), nullable */
} GwHttpRefusal;

typedef void (*GwHttpRefusedFunc)(GwHttpServer *server,
                                  const GwHttpRefusal *refusal,
                                  gpointer user_data);

void
gw_http_server_set_refused_handler(GwHttpServer *self,
                                   GwHttpRefusedFunc func,
                                   gpointer user_data,
                                   GDestroyNotify destroy);

/* ---- requests: valid during the handler; keep a ref to answer later ---- */
GwHttpRequest *
gw_http_request_ref(GwHttpRequest *request);
void
gw_http_request_unref(GwHttpRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwHttpRequest, gw_http_request_unref)

const gchar *
gw_http_request_get_method(GwHttpRequest *request);
const gchar *
gw_http_request_get_path(GwHttpRequest *request);
/* nullable */
const gchar *
gw_http_request_get_query(GwHttpRequest *request, const gchar *name);
/* nullable; case-insensitive */
const gchar *
gw_http_request_get_header(GwHttpRequest *request, const gchar *name);
/* media type without parameters, nullable */
const gchar *
gw_http_request_get_content_type(GwHttpRequest *request);
GBytes *
gw_http_request_get_body(GwHttpRequest *request);
const gchar *
gw_http_request_get_remote_host(GwHttpRequest *request);
/* the peer it counts as for per-peer limits (gw_http_peer_group()) */
const gchar *
gw_http_request_get_peer_group(GwHttpRequest *request);
gboolean
gw_http_request_is_tls(GwHttpRequest *request);
/* the TLS client certificate's fingerprint, "sha256:<64 lowercase hex>" over its DER; NULL
 * over http or when the client presented none (see gw_http_server_set_request_client_certificate())
 */
const gchar *
gw_http_request_get_peer_fingerprint(GwHttpRequest *request);

void
gw_http_request_set_header(GwHttpRequest *request, const gchar *name, const gchar *value);
/* one more header line of @name (Set-Cookie, WWW-Authenticate) */
void
gw_http_request_add_header(GwHttpRequest *request, const gchar *name, const gchar *value);
/* TRUE once an answer cannot reach the peer: its connection closed (the peer left, or the
 * handler deadline passed) */
gboolean
gw_http_request_is_closed(GwHttpRequest *request);
/* answers; a request not answered when the handler returns waits until it is. Answering
 * twice is a programmer error. @body nullable. */
void
gw_http_request_respond(GwHttpRequest *request,
                        guint status,
                        const gchar *content_type,
                        GBytes *body);
gboolean
gw_http_request_is_answered(GwHttpRequest *request);
/*
 * (added for the image store) answers with @body without copying it: a GBytes over a mapped
 * file streams from the page cache. @content_length: the Content-Length to announce, -1 for
 * the size of @body (for HEAD, pass the size and a NULL body: no body is written). The
 * server does not rewrite a 206 (the caller handles Range itself).
 */
void
gw_http_request_respond_bytes(GwHttpRequest *request,
                              guint status,
                              const gchar *content_type,
                              GBytes *body,
                              gint64 content_length);

/*
 * (for the image store) as gw_http_request_respond_bytes(), for a body that is the bytes of
 * the file @fd from @offset: @body maps them, and @fd stays open while @body lives. Over plain
 * TCP the kernel sends them from the file (sendfile(), no copy through gwmod), the headers in
 * the same segment; over TLS they are written from @body.
 */
void
gw_http_request_respond_file(GwHttpRequest *request,
                             guint status,
                             const gchar *content_type,
                             GBytes *body,
                             gint fd,
                             goffset offset);

G_END_DECLS
