/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The server accepts its connections itself and gives libsoup only established streams
 * (soup_server_accept_iostream()): libsoup 3.2's own listener stops accepting for good after
 * one failed accept (EMFILE), leaks the GSocket of every connection, runs each TLS handshake in
 * a worker thread with no deadline, and never closes a kept-alive connection whose peer hung up.
 * Here, per connection (GwHttpConn): the accept with a back-off when descriptors run out, the
 * caps per peer and in all, a look at the ClientHello (TLS 1.2 or later, else an alert, before
 * any handshake thread is taken; the whole first record must be in), the handshake with a
 * deadline and a bounded number running at once, per peer too, started in turn across peers, a
 * GwHttpStream between libsoup and the socket (the peer's hang-up reaches us, not libsoup), the
 * header/body/handler/idle deadlines, and the request body counted as it is read, against the
 * size limit and the budget of bodies held.
 */

#define G_LOG_DOMAIN "GwHttp"
#define _GNU_SOURCE /* accept4() */

#include "config.h"

#include <errno.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw-error.h"
#include "gw-http-server.h"
#include "gw-http-stream.h"
#include "gw-log.h"

#define GW_HTTP_DEFAULT_MAX_BODY (4u * 1024u * 1024u)
/* pending connections the kernel queues before accept() (capped by net.core.somaxconn) */
#define GW_HTTP_SERVER_BACKLOG 1024
/* a sweep this much later than due means the main loop stalled (see the sweep) */
#define GW_HTTP_SERVER_STALL_US (500 * G_TIME_SPAN_MILLISECOND)
/* accepts per wake-up of a listener, so that one busy listener does not starve the loop */
#define GW_HTTP_ACCEPT_BATCH 32
/* out of descriptors: first retry after this, doubling up to the maximum */
#define GW_HTTP_ACCEPT_BACKOFF_MIN_MS 20
#define GW_HTTP_ACCEPT_BACKOFF_MAX_MS 1000
/* TLS handshakes at once: glib-networking runs each in a GTask worker thread, blocked on the
 * peer; more would take the thread pool other async work (files, DNS) needs. A peer gets a
 * few of them: one host holding them all delayed every other client's handshake */
#define GW_HTTP_MAX_HANDSHAKES GW_HTTP_SERVER_MAX_HANDSHAKES
#define GW_HTTP_MAX_HANDSHAKES_PER_PEER GW_HTTP_SERVER_MAX_HANDSHAKES_PER_PEER
/* a TLS record holds at most 2^14 bytes of plaintext (RFC 8446 §5.1) */
#define GW_HTTP_TLS_MAX_RECORD 16384
/* the first bytes of a refused body handed to the refused handler (its SyncHdr) */
#define GW_HTTP_REFUSED_BODY_START 4096
/* after a refused body: what the peer still sends is read and dropped for this long (or this
 * many bytes) so that it sees the 413 rather than a reset */
#define GW_HTTP_LINGER_MS 2000
#define GW_HTTP_LINGER_BYTES (16u * 1024u * 1024u)

typedef enum {
	GW_HTTP_CONN_TLS_HELLO,     /* TLS: waiting for the whole first record (the ClientHello) */
	GW_HTTP_CONN_TLS_QUEUED,    /* TLS: waiting for a handshake slot */
	GW_HTTP_CONN_TLS_HANDSHAKE, /* TLS: handshaking */
	GW_HTTP_CONN_HEADERS,       /* libsoup reads a request line and headers */
	GW_HTTP_CONN_BODY,          /* libsoup reads the body */
	GW_HTTP_CONN_HANDLER,       /* a handler has the request */
	GW_HTTP_CONN_WRITING,       /* libsoup writes the response */
	GW_HTTP_CONN_IDLE,          /* kept alive, between requests */
	GW_HTTP_CONN_LINGER,        /* refused: answered, draining what the peer still sends */
	GW_HTTP_CONN_CLOSED,
} GwHttpConnState;

typedef struct _GwHttpConn GwHttpConn;
typedef struct _GwHttpListener GwHttpListener;

/* what one peer (gw_http_peer_group()) holds; gone when it holds nothing */
typedef struct {
	gchar *group;
	guint conns;
	gsize reading;     /* body bytes its connections are reading */
	GQueue hs_waiting; /* GwHttpConn (references) with their ClientHello in, for a slot */
	guint hs_running;
	gboolean in_turn; /* in server->hs_turns */
	guint hold;       /* kept while a loop uses it */
} GwHttpPeer;

/* the bytes of request bodies held: shared with the GBytes handed to handlers, which may drop
 * their last reference in any thread */
typedef struct {
	gint refcount;
	gssize used; /* atomic */
} GwHttpBudget;

struct _GwHttpServer {
	GObject parent_instance;
	SoupServer *server;
	GTlsCertificate *certificate; /* nullable */
	gboolean request_client_certificate;
	gsize max_body_size;
	GwHttpServerLimits limits;
	GPtrArray *listeners;  /* GwHttpListener */
	GQueue conns;          /* GwHttpConn, oldest first (the queue holds a reference) */
	GHashTable *peers;     /* peer group -> GwHttpPeer */
	GHashTable *by_remote; /* GSocketAddress (the one libsoup has) -> GwHttpConn */
	GQueue hs_turns;       /* GwHttpPeer with a connection waiting for a handshake slot */
	guint n_handshakes;
	GwHttpBudget *budget;
	GwHttpRefusedFunc refused_func;
	gpointer refused_data;
	GDestroyNotify refused_destroy;
	GQueue closing; /* GwHttpConn to close from the main loop (references) */
	GSource *closing_source;
	GSource *sweep_source;
	guint sweep_ms;          /* its interval */
	gint64 last_sweep;       /* monotonic time of its last run */
	gboolean soup_listening; /* libsoup has its placeholder listener (see the function) */
};

G_DEFINE_TYPE(GwHttpServer, gw_http_server, G_TYPE_OBJECT)

struct _GwHttpListener {
	GwHttpServer *server; /* not a reference: the server owns its listeners */
	GSocket *socket;
	gboolean tls;
	gchar *uri;              /* with the real port */
	GSource *source;         /* G_IO_IN; NULL while backing off */
	GSource *backoff_source; /* out of descriptors: the retry */
	guint backoff_ms;
	gint64 episode_start; /* monotonic µs the descriptors ran out, 0 when accepting */
	guint64 episode_retries;
};

struct _GwHttpConn {
	gint refcount;
	GwHttpServer *server; /* not a reference; NULL once the connection left the server */
	GList link;           /* in server->conns */
	GSocket *socket;
	GIOStream *tcp;       /* GSocketConnection */
	GIOStream *tls;       /* GTlsServerConnection, nullable */
	GwHttpStream *stream; /* what libsoup reads and writes; NULL before */
	GSocketAddress *local;
	GSocketAddress *remote;
	gchar *peer;            /* its address */
	GwHttpPeer *peer_state; /* its group's (valid while server is set) */
	gint64 accepted;        /* monotonic µs */
	GwHttpConnState state;
	gint64 since;           /* monotonic µs the state began */
	gint64 deadline;        /* monotonic µs, 0: none */
	SoupServerMessage *msg; /* the latest request libsoup started on it */
	GByteArray *body;
	guint64 body_len;
	gsize reading;             /* of the body bytes, those taken from the budget */
	gboolean hs_waiting;       /* in its peer's hs_waiting */
	gboolean hs_running;       /* holds a handshake slot */
	GwHttpRefusal *refusal;    /* to report, nullable */
	GCancellable *cancellable; /* the handshake */
	GSource *watch;            /* ClientHello or linger */
	guint64 linger_bytes;
	guint reject_status;  /* answer this before closing (413) */
	gboolean in_soup;     /* libsoup has it (until its "disconnected") */
	gboolean saw_headers; /* the current request got past its headers */
	gboolean handshaking; /* a worker thread runs its handshake: the socket is not ours */
	gboolean close_requested;
	gboolean close_pending;
	gboolean transport_closed;
};

struct _GwHttpRequest {
	gint refcount;
	SoupServerMessage *msg; /* ref held */
	GwHttpConn *conn;       /* ref held */
	gchar *path;
	GHashTable *query; /* nullable */
	gchar *content_type;
	GBytes *body;
	gchar *peer_fingerprint; /* computed once, nullable */
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
gw_http_conn_close(GwHttpConn *conn);
static void
gw_http_conn_schedule_close(GwHttpConn *conn);
static void
gw_http_server_start_handshakes(GwHttpServer *self);
static void
gw_http_server_ensure_sweep(GwHttpServer *self);

static const gchar *
gw_http_conn_state_to_string(GwHttpConnState state)
{
	switch (state) {
	case GW_HTTP_CONN_TLS_HELLO:
		return "waiting for a ClientHello";
	case GW_HTTP_CONN_TLS_QUEUED:
		return "waiting for a handshake slot";
	case GW_HTTP_CONN_TLS_HANDSHAKE:
		return "in the TLS handshake";
	case GW_HTTP_CONN_HEADERS:
		return "sending request headers";
	case GW_HTTP_CONN_BODY:
		return "sending a request body";
	case GW_HTTP_CONN_HANDLER:
		return "waiting for an answer";
	case GW_HTTP_CONN_WRITING:
		return "receiving a response";
	case GW_HTTP_CONN_IDLE:
		return "idle";
	case GW_HTTP_CONN_LINGER:
		return "closing";
	case GW_HTTP_CONN_CLOSED:
		return "closed";
	}
	return "?";
}

/* ---- peers ---- */

gchar *
gw_http_peer_group(GInetAddress *address)
{
	const guint8 *bytes;
	guint8 prefix[16] = {0};
	g_autoptr(GInetAddress) net = NULL;
	g_autofree gchar *text = NULL;

	g_return_val_if_fail(G_IS_INET_ADDRESS(address), NULL);

	if (g_inet_address_get_family(address) != G_SOCKET_FAMILY_IPV6)
		return g_inet_address_to_string(address);
	bytes = g_inet_address_to_bytes(address);
	/* ::ffff:a.b.c.d is an IPv4 peer on a dual-stack listener */
	if (memcmp(bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		g_autoptr(GInetAddress) v4 =
		    g_inet_address_new_from_bytes(bytes + 12, G_SOCKET_FAMILY_IPV4);
		return g_inet_address_to_string(v4);
	}
	memcpy(prefix, bytes, 8);
	net = g_inet_address_new_from_bytes(prefix, G_SOCKET_FAMILY_IPV6);
	text = g_inet_address_to_string(net);
	return g_strdup_printf("%s/64", text);
}

static void
gw_http_peer_free(gpointer data)
{
	GwHttpPeer *peer = data;
	g_assert(g_queue_is_empty(&peer->hs_waiting));
	g_free(peer->group);
	g_free(peer);
}

static GwHttpPeer *
gw_http_server_peer(GwHttpServer *self, const gchar *group)
{
	GwHttpPeer *peer = g_hash_table_lookup(self->peers, group);

	if (peer == NULL) {
		peer = g_new0(GwHttpPeer, 1);
		peer->group = g_strdup(group);
		g_queue_init(&peer->hs_waiting);
		g_hash_table_insert(self->peers, peer->group, peer);
	}
	return peer;
}

static void
gw_http_server_peer_release(GwHttpServer *self, GwHttpPeer *peer)
{
	if (peer->conns > 0 || peer->hs_running > 0 || peer->hold > 0 ||
	    !g_queue_is_empty(&peer->hs_waiting))
		return;
	if (peer->in_turn)
		g_queue_remove(&self->hs_turns, peer);
	g_hash_table_remove(self->peers, peer->group);
}

/* ---- the budget of request bodies ---- */

static GwHttpBudget *
gw_http_budget_ref(GwHttpBudget *budget)
{
	g_atomic_int_inc(&budget->refcount);
	return budget;
}

static void
gw_http_budget_unref(GwHttpBudget *budget)
{
	if (g_atomic_int_dec_and_test(&budget->refcount))
		g_free(budget);
}

static gsize
gw_http_budget_used(GwHttpBudget *budget)
{
	return (gsize)g_atomic_pointer_get(&budget->used);
}

static void
gw_http_budget_add(GwHttpBudget *budget, gssize n)
{
	g_atomic_pointer_add(&budget->used, n);
}

/* a body handed to a handler: its bytes leave the budget with its last reference */
typedef struct {
	GwHttpBudget *budget;
	guint8 *data;
	gsize len;
} GwHttpHeldBody;

static void
gw_http_held_body_free(gpointer data)
{
	GwHttpHeldBody *held = data;
	gw_http_budget_add(held->budget, -(gssize)held->len);
	gw_http_budget_unref(held->budget);
	g_free(held->data);
	g_free(held);
}

/* what a peer may hold of the budget: a quarter, at least one body of the maximum size */
static gsize
gw_http_server_peer_share(GwHttpServer *self)
{
	return MAX(self->limits.max_body_buffer / 4, self->max_body_size);
}

/* ---- refused requests ---- */

static void
gw_http_refusal_free(GwHttpRefusal *refusal)
{
	g_free((gchar *)refusal->path);
	g_free((gchar *)refusal->peer);
	g_free((gchar *)refusal->reason);
	g_free((gchar *)refusal->content_type);
	g_clear_pointer(&refusal->body_start, g_bytes_unref);
	g_free(refusal);
}

/* ---- connections: life cycle ---- */

static GwHttpConn *
gw_http_conn_ref(GwHttpConn *conn)
{
	conn->refcount++;
	return conn;
}

static void
gw_http_conn_unref(GwHttpConn *conn)
{
	if (--conn->refcount > 0)
		return;
	g_assert(conn->server == NULL);
	g_assert(conn->watch == NULL);
	if (conn->stream != NULL)
		gw_http_stream_detach(conn->stream);
	g_clear_object(&conn->stream);
	g_clear_object(&conn->tls);
	g_clear_object(&conn->tcp);
	g_clear_object(&conn->socket);
	g_clear_object(&conn->local);
	g_clear_object(&conn->remote);
	g_clear_object(&conn->msg);
	g_clear_object(&conn->cancellable);
	if (conn->body != NULL)
		g_byte_array_unref(conn->body);
	if (conn->refusal != NULL)
		gw_http_refusal_free(conn->refusal);
	g_free(conn->peer);
	g_free(conn);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwHttpConn, gw_http_conn_unref)

static void
gw_http_conn_set_state(GwHttpConn *conn, GwHttpConnState state, guint timeout_ms)
{
	gint64 now = g_get_monotonic_time();
	conn->state = state;
	conn->since = now;
	conn->deadline = timeout_ms > 0 ? now + (gint64)timeout_ms * 1000 : 0;
}

/* the body being read is dropped: its bytes go back to the budget */
static void
gw_http_conn_drop_body(GwHttpConn *conn)
{
	g_clear_pointer(&conn->body, g_byte_array_unref);
	if (conn->reading == 0)
		return;
	if (conn->server != NULL) {
		gw_http_budget_add(conn->server->budget, -(gssize)conn->reading);
		conn->peer_state->reading -= conn->reading;
	}
	conn->reading = 0;
}

/* whether @n more body bytes fit in the budget and the peer's share of it; else @why says
 * which does not */
static gboolean
gw_http_conn_budget_allows(GwHttpConn *conn, gsize n, const gchar **why)
{
	GwHttpServer *self = conn->server;
	gsize used = gw_http_budget_used(self->budget);

	if (n > self->limits.max_body_buffer || used > self->limits.max_body_buffer - n) {
		*why = "max-body-buffer";
		return FALSE;
	}
	if (conn->peer_state->reading + n > gw_http_server_peer_share(self)) {
		*why = "max-body-buffer / 4 for one peer";
		return FALSE;
	}
	return TRUE;
}

/* takes @n more body bytes from the budget, if it allows */
static gboolean
gw_http_conn_take_budget(GwHttpConn *conn, gsize n, const gchar **why)
{
	if (!gw_http_conn_budget_allows(conn, n, why))
		return FALSE;
	gw_http_budget_add(conn->server->budget, (gssize)n);
	conn->peer_state->reading += n;
	conn->reading += n;
	return TRUE;
}

/* the handshake slot it holds, or its place in the queue for one, goes */
static void
gw_http_conn_release_handshake(GwHttpConn *conn)
{
	GwHttpServer *self = conn->server;
	GwHttpPeer *peer = conn->peer_state;

	if (conn->hs_waiting) {
		conn->hs_waiting = FALSE;
		if (g_queue_remove(&peer->hs_waiting, conn))
			gw_http_conn_unref(conn);
	}
	if (conn->hs_running) {
		conn->hs_running = FALSE;
		self->n_handshakes--;
		peer->hs_running--;
		if (!peer->in_turn && !g_queue_is_empty(&peer->hs_waiting)) {
			g_queue_push_tail(&self->hs_turns, peer);
			peer->in_turn = TRUE;
		}
	}
}

static void
gw_http_conn_clear_watch(GwHttpConn *conn)
{
	if (conn->watch == NULL)
		return;
	g_source_destroy(conn->watch);
	g_clear_pointer(&conn->watch, g_source_unref);
}

/* the connection leaves the server: once its descriptor is closed and libsoup let it go */
static void
gw_http_conn_maybe_finish(GwHttpConn *conn)
{
	GwHttpServer *self = conn->server;
	GwHttpPeer *peer = conn->peer_state;

	if (self == NULL || conn->state != GW_HTTP_CONN_CLOSED || conn->in_soup)
		return;
	gw_http_conn_drop_body(conn);
	/* a handshake still running (gwmod stops) gives its slot back now: its callback finds
	 * the connection gone from the server */
	gw_http_conn_release_handshake(conn);
	conn->server = NULL;
	if (conn->msg != NULL)
		g_signal_handlers_disconnect_by_data(conn->msg, conn);
	if (conn->stream != NULL)
		g_hash_table_remove(self->by_remote, conn->remote);
	peer->conns--;
	gw_http_server_peer_release(self, peer);
	conn->peer_state = NULL;
	g_queue_unlink(&self->conns, &conn->link);
	gw_http_conn_unref(conn);
}

static gboolean
gw_http_conn_linger_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	GwHttpConn *conn = user_data;
	gchar buf[16384];

	for (;;) {
		gssize n = recv(g_socket_get_fd(socket), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return G_SOURCE_CONTINUE;
		if (n <= 0)
			break;
		conn->linger_bytes += (guint64)n;
		if (conn->linger_bytes > GW_HTTP_LINGER_BYTES)
			break;
	}
	/* the peer finished (or sent too much): close */
	g_clear_pointer(&conn->watch, g_source_unref);
	g_io_stream_close(conn->tcp, NULL, NULL);
	gw_http_conn_set_state(conn, GW_HTTP_CONN_CLOSED, 0);
	gw_http_conn_maybe_finish(conn);
	return G_SOURCE_REMOVE;
}

/* a refused request: answer it in a few bytes that never block, stop writing, and drain */
static gboolean
gw_http_conn_start_linger(GwHttpConn *conn)
{
	g_autofree gchar *answer = g_strdup_printf(
	    "HTTP/1.1 %u %s\r\n%sConnection: close\r\nContent-Length: 0\r\n\r\n",
	    conn->reject_status,
	    soup_status_get_phrase(conn->reject_status),
	    conn->reject_status == SOUP_STATUS_SERVICE_UNAVAILABLE ? "Retry-After: 1\r\n" : "");
	GIOStream *io = conn->tls != NULL ? conn->tls : conn->tcp;
	GOutputStream *out = g_io_stream_get_output_stream(io);

	if (conn->server == NULL || !G_IS_POLLABLE_OUTPUT_STREAM(out))
		return FALSE;
	g_pollable_output_stream_write_nonblocking(
	    G_POLLABLE_OUTPUT_STREAM(out), answer, strlen(answer), NULL, NULL);
	if (!g_socket_shutdown(conn->socket, FALSE, TRUE, NULL))
		return FALSE;
	gw_http_conn_set_state(conn, GW_HTTP_CONN_LINGER, GW_HTTP_LINGER_MS);
	conn->watch = g_socket_create_source(conn->socket, G_IO_IN, NULL);
	g_source_set_callback(conn->watch, (GSourceFunc)gw_http_conn_linger_cb, conn, NULL);
	g_source_attach(conn->watch, g_main_context_get_thread_default());
	return TRUE;
}

/* closes the descriptor (or starts the linger). Never calls libsoup: it runs from inside
 * libsoup when libsoup closes the stream it has. */
static void
gw_http_conn_close_transport(GwHttpConn *conn)
{
	g_autoptr(GwHttpConn) hold = gw_http_conn_ref(conn);

	if (conn->transport_closed)
		return;
	gw_http_conn_clear_watch(conn);
	if (conn->cancellable != NULL)
		g_cancellable_cancel(conn->cancellable);
	if (conn->handshaking) {
		/* the handshake thread may be in a poll() on the socket: it is closed when the
		 * cancelled handshake returns (gw_http_conn_handshake_cb) */
		conn->close_requested = TRUE;
		conn->deadline = 0;
		return;
	}
	conn->transport_closed = TRUE;
	if (conn->reject_status != 0 && gw_http_conn_start_linger(conn))
		return;
	/* the TCP stream, not the TLS one: no close_notify that could wait on the peer */
	g_io_stream_close(conn->tcp, NULL, NULL);
	gw_http_conn_set_state(conn, GW_HTTP_CONN_CLOSED, 0);
	gw_http_conn_maybe_finish(conn);
}

/* GwHttpStream: libsoup (or we) closed the stream libsoup had */
static void
gw_http_conn_stream_closed_cb(gpointer user_data)
{
	gw_http_conn_close_transport(user_data);
}

/* GwHttpStream: the peer hung up (or the connection failed) while libsoup read */
static void
gw_http_conn_stream_gone_cb(gpointer user_data)
{
	GwHttpConn *conn = user_data;
	g_debug(
	    "%s closed its connection (%s)", conn->peer, gw_http_conn_state_to_string(conn->state));
	gw_http_conn_schedule_close(conn);
}

/* closes the connection now, wherever it is; not from inside libsoup */
static void
gw_http_conn_close(GwHttpConn *conn)
{
	g_autoptr(GwHttpConn) hold = gw_http_conn_ref(conn);

	if (conn->state == GW_HTTP_CONN_CLOSED || conn->state == GW_HTTP_CONN_LINGER)
		return;
	if (conn->in_soup && conn->msg != NULL) {
		/* the one public way to make libsoup let go of a connection in any state (an idle
		 * kept-alive one included); its "disconnected" clears in_soup */
		g_autoptr(GIOStream) stolen = soup_server_message_steal_connection(conn->msg);
		conn->in_soup = FALSE;
	}
	if (conn->stream != NULL)
		g_io_stream_close(G_IO_STREAM(conn->stream), NULL, NULL);
	gw_http_conn_close_transport(conn);
}

/* the request on @conn whose headers came (@msg) never reaches its handler: kept for the
 * refused handler, with the first bytes of what arrived of its body */
static void
gw_http_conn_note_refusal(GwHttpConn *conn,
                          SoupServerMessage *msg,
                          guint status,
                          const gchar *reason)
{
	GwHttpServer *self = conn->server;
	GwHttpRefusal *refusal;
	GUri *uri;

	if (self == NULL || self->refused_func == NULL || msg == NULL || !conn->saw_headers ||
	    conn->refusal != NULL)
		return;
	uri = soup_server_message_get_uri(msg);
	refusal = g_new0(GwHttpRefusal, 1);
	refusal->path = g_strdup(uri != NULL ? g_uri_get_path(uri) : "");
	refusal->peer = g_strdup(conn->peer);
	refusal->status = status;
	refusal->reason = g_strdup(reason);
	refusal->content_type = g_strdup(soup_message_headers_get_content_type(
	    soup_server_message_get_request_headers(msg), NULL));
	if (conn->body != NULL && conn->body->len > 0)
		refusal->body_start =
		    g_bytes_new(conn->body->data, MIN(conn->body->len, GW_HTTP_REFUSED_BODY_START));
	conn->refusal = refusal;
}

/* from the main loop, outside libsoup */
static void
gw_http_conn_report_refusal(GwHttpConn *conn)
{
	GwHttpServer *self = conn->server;
	GwHttpRefusal *refusal = g_steal_pointer(&conn->refusal);

	if (refusal == NULL)
		return;
	if (self != NULL && self->refused_func != NULL)
		self->refused_func(self, refusal, self->refused_data);
	gw_http_refusal_free(refusal);
}

static gboolean
gw_http_server_closing_cb(gpointer user_data)
{
	GwHttpServer *self = GW_HTTP_SERVER(user_data);
	GwHttpConn *conn;

	g_clear_pointer(&self->closing_source, g_source_unref);
	while ((conn = g_queue_pop_head(&self->closing)) != NULL) {
		conn->close_pending = FALSE;
		gw_http_conn_report_refusal(conn);
		if (conn->server != NULL)
			gw_http_conn_close(conn);
		gw_http_conn_unref(conn);
	}
	return G_SOURCE_REMOVE;
}

/* from inside libsoup: close as soon as it returned to the main loop */
static void
gw_http_conn_schedule_close(GwHttpConn *conn)
{
	GwHttpServer *self = conn->server;

	if (self == NULL || conn->close_pending)
		return;
	conn->close_pending = TRUE;
	g_queue_push_tail(&self->closing, gw_http_conn_ref(conn));
	if (self->closing_source == NULL) {
		self->closing_source = g_idle_source_new();
		g_source_set_priority(self->closing_source, G_PRIORITY_HIGH);
		g_source_set_callback(self->closing_source, gw_http_server_closing_cb, self, NULL);
		g_source_attach(self->closing_source, g_main_context_get_thread_default());
	}
}

/* from inside libsoup: stop reading this request and answer @status (@reason) on the way out */
static void
gw_http_conn_refuse(GwHttpConn *conn, SoupServerMessage *msg, guint status, const gchar *reason)
{
	if (conn->reject_status != 0)
		return;
	conn->reject_status = status;
	gw_http_conn_note_refusal(conn, msg, status, reason);
	if (msg != NULL)
		soup_server_message_pause(msg);
	gw_http_conn_drop_body(conn);
	gw_http_conn_schedule_close(conn);
}

/* from inside libsoup: @n more body bytes do not fit in the budget (@why): 503 */
static void
gw_http_conn_refuse_busy(GwHttpConn *conn, SoupServerMessage *msg, gsize n, const gchar *why)
{
	GwHttpServer *self = conn->server;

	gw_message_ratelimited("refusing a body from %s (503): %" G_GSIZE_FORMAT
	                       " more bytes would pass [http] %s (%" G_GSIZE_FORMAT
	                       " bytes of request bodies held, %" G_GSIZE_FORMAT " by this peer)",
	                       conn->peer,
	                       n,
	                       why,
	                       gw_http_budget_used(self->budget),
	                       conn->peer_state->reading);
	gw_http_conn_refuse(
	    conn, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "request bodies over budget");
}

/* ---- libsoup's view of a connection: its messages ---- */

static void
gw_http_conn_got_chunk_cb(SoupServerMessage *msg, GBytes *chunk, gpointer user_data);

static void
gw_http_conn_got_headers_cb(SoupServerMessage *msg, gpointer user_data)
{
	GwHttpConn *conn = user_data;
	GwHttpServer *self = conn->server;
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	SoupEncoding encoding = soup_message_headers_get_encoding(headers);
	goffset declared = -1;
	const gchar *why = NULL;

	if (self == NULL)
		return;
	conn->saw_headers = TRUE;
	/* the body is counted and kept here (got-chunk), never by libsoup */
	soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
	if (encoding == SOUP_ENCODING_CONTENT_LENGTH)
		declared = soup_message_headers_get_content_length(headers);
	/* a request without a body (a GET) spares the handler */
	if (encoding != SOUP_ENCODING_NONE && declared != 0)
		g_signal_connect(msg, "got-chunk", G_CALLBACK(gw_http_conn_got_chunk_cb), conn);
	if (declared > 0 && (guint64)declared > self->max_body_size) {
		gw_info_ratelimited("refusing a %" G_GINT64_FORMAT " byte body from %s "
		                    "(more than %" G_GSIZE_FORMAT ")",
		                    (gint64)declared,
		                    conn->peer,
		                    self->max_body_size);
		gw_http_conn_refuse(
		    conn, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body over the size limit");
		return;
	}
	gw_http_conn_drop_body(conn);
	/* what was announced must fit in what is left of the budget (it is taken as it
	 * arrives): answered before the client sends it */
	if (declared > 0 && !gw_http_conn_budget_allows(conn, (gsize)declared, &why)) {
		gw_http_conn_refuse_busy(conn, msg, (gsize)declared, why);
		return;
	}
	/* room for what was announced, but not more than a little before it arrives */
	conn->body = g_byte_array_sized_new(declared > 0 ? (guint)MIN(declared, 65536) : 0);
	conn->body_len = 0;
	gw_http_conn_set_state(conn, GW_HTTP_CONN_BODY, self->limits.body_ms);
}

static void
gw_http_conn_got_chunk_cb(SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
	GwHttpConn *conn = user_data;
	GwHttpServer *self = conn->server;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(chunk, &len);

	const gchar *why = NULL;

	if (self == NULL || conn->reject_status != 0)
		return;
	conn->body_len += len;
	if (conn->body_len > self->max_body_size) {
		gw_info_ratelimited("refusing a body from %s: more than %" G_GSIZE_FORMAT " bytes",
		                    conn->peer,
		                    self->max_body_size);
		gw_http_conn_refuse(
		    conn, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body over the size limit");
		return;
	}
	if (conn->body == NULL)
		conn->body = g_byte_array_new();
	if (!gw_http_conn_take_budget(conn, len, &why)) {
		gw_http_conn_refuse_busy(conn, msg, len, why);
		return;
	}
	g_byte_array_append(conn->body, data, (guint)len);
}

static void
gw_http_conn_got_body_cb(SoupServerMessage *msg, gpointer user_data)
{
	GwHttpConn *conn = user_data;
	/* the body is in; the dispatch to the handler comes next */
	if (conn->server != NULL && conn->state == GW_HTTP_CONN_BODY)
		gw_http_conn_set_state(conn, GW_HTTP_CONN_HANDLER, conn->server->limits.handler_ms);
}

/* GwHttpStream: response bytes moved (libsoup wrote them): the idle deadline counts from now.
 * A request libsoup refused before any handler saw it (it answers 400 to what it cannot parse,
 * and then emits no "finished") is logged at its first bytes. (A stream callback, not the
 * message's "wrote-headers" and "wrote-body-data": two signal handlers less per request.) */
static void
gw_http_conn_wrote_cb(gpointer user_data)
{
	GwHttpConn *conn = user_data;

	if (conn->server == NULL)
		return;
	if (!conn->saw_headers && conn->msg != NULL && conn->state != GW_HTTP_CONN_WRITING) {
		guint status = soup_server_message_get_status(conn->msg);
		if (status >= 400)
			gw_message_ratelimited("malformed request from %s: answered %u %s",
			                       conn->peer,
			                       status,
			                       soup_status_get_phrase(status));
	}
	gw_http_conn_set_state(conn, GW_HTTP_CONN_WRITING, conn->server->limits.idle_ms);
}

static void
gw_http_conn_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	GwHttpConn *conn = user_data;
	GwHttpServer *self = conn->server;

	if (self == NULL)
		return;
	gw_http_conn_drop_body(conn);
	if (conn->stream != NULL)
		gw_http_stream_clear_file_body(conn->stream);
	/* kept alive (libsoup disconnects right after this otherwise) */
	gw_http_conn_set_state(conn, GW_HTTP_CONN_IDLE, self->limits.idle_ms);
}

static void
gw_http_conn_disconnected_cb(SoupServerMessage *msg, gpointer user_data)
{
	GwHttpConn *conn = user_data;
	g_autoptr(GwHttpConn) hold = gw_http_conn_ref(conn);

	conn->in_soup = FALSE;
	/* libsoup closed its stream before (then the transport is closed), or we stole it */
	gw_http_conn_maybe_finish(conn);
}

/* the connection whose current request @msg is, NULL when it left the server */
static GwHttpConn *
gw_http_server_conn_of(GwHttpServer *self, SoupServerMessage *msg)
{
	GwHttpConn *conn =
	    g_hash_table_lookup(self->by_remote, soup_server_message_get_remote_address(msg));
	return conn != NULL && conn->server != NULL && conn->msg == msg ? conn : NULL;
}

/* SoupServer::request-read, emitted in the message's "got-body" right before the dispatch
 * (a handler connected once, not two per request) */
static void
gw_http_server_request_read_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	GwHttpConn *conn = gw_http_server_conn_of(GW_HTTP_SERVER(user_data), msg);
	if (conn != NULL)
		gw_http_conn_got_body_cb(msg, conn);
}

/* SoupServer::request-finished and ::request-aborted, emitted right after the message's
 * "finished" */
static void
gw_http_server_request_done_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	GwHttpConn *conn = gw_http_server_conn_of(GW_HTTP_SERVER(user_data), msg);
	if (conn != NULL)
		gw_http_conn_finished_cb(msg, conn);
}

/* SoupServer::request-started: a new request on one of our connections (the first one is
 * started from inside soup_server_accept_iostream(), the next ones at their first byte) */
static void
gw_http_server_request_started_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	GwHttpServer *self = GW_HTTP_SERVER(user_data);
	GwHttpConn *conn =
	    g_hash_table_lookup(self->by_remote, soup_server_message_get_remote_address(msg));

	if (conn == NULL || conn->server == NULL)
		return;
	if (conn->msg != NULL) {
		g_signal_handlers_disconnect_by_data(conn->msg, conn);
		g_object_unref(conn->msg);
	}
	conn->msg = g_object_ref(msg);
	/* two handlers per request: "got-chunk" only for a request with a body
	 * (gw_http_conn_got_headers_cb()), what is written is seen by the stream
	 * (gw_http_conn_wrote_cb()), the body's end and the request's by the server's signals
	 * (gw_http_server_request_read_cb(), gw_http_server_request_done_cb()) */
	g_signal_connect(msg, "got-headers", G_CALLBACK(gw_http_conn_got_headers_cb), conn);
	g_signal_connect(msg, "disconnected", G_CALLBACK(gw_http_conn_disconnected_cb), conn);
	conn->saw_headers = FALSE;
	/* the first request's header deadline counts from the accept */
	if (conn->state != GW_HTTP_CONN_HEADERS)
		gw_http_conn_set_state(conn, GW_HTTP_CONN_HEADERS, self->limits.header_ms);
}

/* the stream is established (TCP, or TLS after the handshake): libsoup takes it from here */
static void
gw_http_conn_hand_to_soup(GwHttpConn *conn)
{
	GwHttpServer *self = conn->server;
	GIOStream *base = conn->tls != NULL ? conn->tls : conn->tcp;
	g_autoptr(GError) error = NULL;

	conn->stream = gw_http_stream_new(
	    base, gw_http_conn_stream_gone_cb, gw_http_conn_stream_closed_cb, conn);
	gw_http_stream_set_wrote_func(conn->stream, gw_http_conn_wrote_cb);
	g_hash_table_insert(self->by_remote, conn->remote, conn);
	conn->in_soup = TRUE;
	/* the first request's header deadline counts from the accept, a TLS handshake included:
	 * a client holds a connection header_ms before its first request, not handshake_ms more */
	gw_http_conn_set_state(conn, GW_HTTP_CONN_HEADERS, self->limits.header_ms);
	conn->deadline = conn->accepted + (gint64)self->limits.header_ms * 1000;
	if (!soup_server_accept_iostream(
	        self->server, G_IO_STREAM(conn->stream), conn->local, conn->remote, &error)) {
		g_warning("cannot serve a connection from %s: %s", conn->peer, error->message);
		conn->in_soup = FALSE;
		gw_http_conn_close(conn);
	}
}

/* ---- TLS ---- */

static const gchar *
gw_http_tls_version_to_string(GTlsProtocolVersion version)
{
	switch (version) {
	case G_TLS_PROTOCOL_VERSION_SSL_3_0:
		return "SSL 3.0";
	case G_TLS_PROTOCOL_VERSION_TLS_1_0:
		return "TLS 1.0";
	case G_TLS_PROTOCOL_VERSION_TLS_1_1:
		return "TLS 1.1";
	case G_TLS_PROTOCOL_VERSION_TLS_1_2:
		return "TLS 1.2";
	case G_TLS_PROTOCOL_VERSION_TLS_1_3:
		return "TLS 1.3";
	case G_TLS_PROTOCOL_VERSION_DTLS_1_0:
	case G_TLS_PROTOCOL_VERSION_DTLS_1_2:
		return "DTLS";
	case G_TLS_PROTOCOL_VERSION_UNKNOWN:
		break;
	}
	return "an unknown version";
}

static void
gw_http_conn_handshake_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GwHttpConn) conn = user_data;
	GwHttpServer *self = conn->server;
	GTlsConnection *tls = G_TLS_CONNECTION(source);
	g_autoptr(GError) error = NULL;
	gboolean ok = g_tls_connection_handshake_finish(tls, res, &error);
	GTlsProtocolVersion version;

	conn->handshaking = FALSE;
	if (self == NULL) {
		/* the server went away meanwhile (its slot went back then) */
		g_io_stream_close(conn->tcp, NULL, NULL);
		return;
	}
	gw_http_conn_release_handshake(conn);
	gw_http_server_start_handshakes(self);
	if (conn->close_requested) {
		/* closed meanwhile (its deadline) */
		gw_http_conn_close_transport(conn);
		return;
	}
	if (!ok) {
		gw_info_ratelimited("TLS handshake with %s failed: %s", conn->peer, error->message);
		gw_http_conn_close(conn);
		return;
	}
	/* the floor, whatever the ClientHello said (see gw_http_conn_hello_cb) */
	version = g_tls_connection_get_protocol_version(tls);
	if (version < G_TLS_PROTOCOL_VERSION_TLS_1_2 ||
	    version >= G_TLS_PROTOCOL_VERSION_DTLS_1_0) {
		gw_message_ratelimited("closing a TLS connection from %s: it negotiated %s, "
		                       "TLS 1.2 is the minimum",
		                       conn->peer,
		                       gw_http_tls_version_to_string(version));
		gw_http_conn_close(conn);
		return;
	}
	gw_http_conn_hand_to_soup(conn);
}

/* runs in the handshake's worker thread; touches nothing */
static gboolean
gw_http_conn_accept_any_certificate_cb(GTlsConnection *tls,
                                       GTlsCertificate *certificate,
                                       GTlsCertificateFlags errors,
                                       gpointer user_data)
{
	return TRUE;
}

static void
gw_http_conn_start_handshake(GwHttpConn *conn)
{
	GwHttpServer *self = conn->server;
	static const gchar *const alpn[] = {"http/1.1", "http/1.0", NULL};
	g_autoptr(GError) error = NULL;

	/* no database: clients present no certificate here, and the default one would make
	 * glib-networking load the whole system trust store into every connection (~1.3 MB each) */
	conn->tls =
	    g_initable_new(g_tls_backend_get_server_connection_type(g_tls_backend_get_default()),
	                   NULL,
	                   &error,
	                   "base-io-stream",
	                   conn->tcp,
	                   "certificate",
	                   self->certificate,
	                   "database",
	                   NULL,
	                   "require-close-notify",
	                   FALSE,
	                   NULL);
	if (conn->tls == NULL) {
		g_warning("cannot start TLS with %s: %s", conn->peer, error->message);
		gw_http_conn_close(conn);
		return;
	}
	if (self->request_client_certificate) {
		/* asked, never required; any chain passes here: what a certificate may do is the
		 * handler's decision (gw_http_request_dup_peer_fingerprint()) */
		g_object_set(
		    conn->tls, "authentication-mode", G_TLS_AUTHENTICATION_REQUESTED, NULL);
		g_signal_connect(conn->tls,
		                 "accept-certificate",
		                 G_CALLBACK(gw_http_conn_accept_any_certificate_cb),
		                 NULL);
	}
	g_tls_connection_set_advertised_protocols(G_TLS_CONNECTION(conn->tls), alpn);
	conn->state = GW_HTTP_CONN_TLS_HANDSHAKE; /* the deadline counts from the accept */
	conn->handshaking = TRUE;
	conn->hs_running = TRUE;
	conn->peer_state->hs_running++;
	self->n_handshakes++;
	g_tls_connection_handshake_async(G_TLS_CONNECTION(conn->tls),
	                                 G_PRIORITY_DEFAULT,
	                                 conn->cancellable,
	                                 gw_http_conn_handshake_cb,
	                                 gw_http_conn_ref(conn));
}

/* @peer may start one more handshake: it takes its turn behind the others */
static void
gw_http_server_peer_wants_turn(GwHttpServer *self, GwHttpPeer *peer)
{
	if (peer->in_turn || g_queue_is_empty(&peer->hs_waiting) ||
	    peer->hs_running >= GW_HTTP_MAX_HANDSHAKES_PER_PEER)
		return;
	g_queue_push_tail(&self->hs_turns, peer);
	peer->in_turn = TRUE;
}

/* free slots go to the peers in turn, one handshake each (a peer with many connections waiting
 * gets no more than one that has one) */
static void
gw_http_server_start_handshakes(GwHttpServer *self)
{
	while (self->n_handshakes < GW_HTTP_MAX_HANDSHAKES) {
		GwHttpPeer *peer = g_queue_pop_head(&self->hs_turns);
		g_autoptr(GwHttpConn) conn = NULL;

		if (peer == NULL)
			break;
		peer->in_turn = FALSE;
		conn = g_queue_pop_head(&peer->hs_waiting);
		if (conn == NULL)
			continue;
		conn->hs_waiting = FALSE;
		peer->hold++;
		gw_http_conn_start_handshake(conn);
		peer->hold--;
		gw_http_server_peer_wants_turn(self, peer);
		gw_http_server_peer_release(self, peer);
	}
}

/* its ClientHello is in: it waits for a slot (within the deadline from the accept) */
static void
gw_http_conn_queue_handshake(GwHttpConn *conn)
{
	GwHttpServer *self = conn->server;

	gw_http_conn_set_state(conn, GW_HTTP_CONN_TLS_QUEUED, 0);
	conn->deadline = conn->accepted + (gint64)self->limits.handshake_ms * 1000;
	conn->hs_waiting = TRUE;
	g_queue_push_tail(&conn->peer_state->hs_waiting, gw_http_conn_ref(conn));
	gw_http_server_peer_wants_turn(self, conn->peer_state);
	gw_http_server_start_handshakes(self);
}

/* drops what the peer sent (so that closing sends a FIN, not a reset) */
static void
gw_http_conn_drain(GwHttpConn *conn)
{
	gchar buf[4096];
	for (guint i = 0; i < 16; i++) {
		if (recv(g_socket_get_fd(conn->socket), buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
	}
}

/* the socket's G_IO_IN fires once @bytes are queued (or the peer closed): a ClientHello
 * that comes in pieces wakes the main loop once, not at each piece */
static void
gw_http_conn_wait_for_bytes(GwHttpConn *conn, gint bytes)
{
	setsockopt(g_socket_get_fd(conn->socket), SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes));
}

/* the peer sent its FIN (or the connection failed): what it sent is all there will be */
static gboolean
gw_http_conn_peer_finished(GwHttpConn *conn)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	return getsockopt(g_socket_get_fd(conn->socket), IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
	       info.tcpi_state != TCP_ESTABLISHED;
}

/*
 * The first bytes of a TLS connection, peeked before any handshake: a TLS record of type
 * handshake (22) holding a ClientHello (1) whose client_version is at least 3,3 (TLS 1.2; a
 * TLS 1.3 client sends 3,3 there too). A client that offers no more than TLS 1.1 gets a
 * protocol_version alert; bytes that are no TLS at all get the connection closed; neither takes
 * a handshake thread. (A ClientHello that says 1.2 but negotiates less is caught after the
 * handshake.) Nor does a record not yet whole: the connection waits for a slot only once its
 * first record (up to 16 KiB, its length in its header) is in, within GW_HTTP_SERVER_HELLO_MS
 * of the accept; one byte of a ClientHello held a slot for the whole handshake deadline.
 */
static gboolean
gw_http_conn_hello_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	GwHttpConn *conn = user_data;
	guint8 hello[11];
	gssize n;
	guint version;
	gint queued = 0;
	gsize record = 0;

	do
		n = recv(g_socket_get_fd(socket), hello, sizeof(hello), MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		g_clear_pointer(&conn->watch, g_source_unref);
		g_debug("%s left before its ClientHello", conn->peer);
		gw_http_conn_close(conn);
		return G_SOURCE_REMOVE;
	}
	if (n >= 5)
		record = (gsize)hello[3] << 8 | hello[4];
	if (hello[0] != 22 || (n >= 2 && hello[1] != 3) || (n >= 6 && hello[5] != 1) ||
	    (n >= 5 && (record == 0 || record > GW_HTTP_TLS_MAX_RECORD))) {
		g_clear_pointer(&conn->watch, g_source_unref);
		gw_info_ratelimited("closing a connection from %s to a TLS listener: "
		                    "it did not start with a TLS ClientHello",
		                    conn->peer);
		gw_http_conn_drain(conn);
		gw_http_conn_close(conn);
		return G_SOURCE_REMOVE;
	}
	if (ioctl(g_socket_get_fd(socket), FIONREAD, &queued) != 0 || n < 5 ||
	    (gsize)queued < 5 + record) {
		if (gw_http_conn_peer_finished(conn)) {
			g_clear_pointer(&conn->watch, g_source_unref);
			g_debug("%s left before its ClientHello was whole", conn->peer);
			gw_http_conn_close(conn);
			return G_SOURCE_REMOVE;
		}
		gw_http_conn_wait_for_bytes(conn, n < 5 ? 5 : (gint)(5 + record));
		return G_SOURCE_CONTINUE;
	}
	g_clear_pointer(&conn->watch, g_source_unref);
	gw_http_conn_wait_for_bytes(conn, 1);
	if (n == sizeof(hello)) {
		version = (guint)hello[9] << 8 | hello[10];
		if (version < 0x0303) {
			/* alert record: fatal (2), protocol_version (70) */
			const guint8 alert[] = {21, hello[1], hello[2], 0, 2, 2, 70};
			gw_message_ratelimited("refusing TLS %u.%u from %s: TLS 1.2 is the minimum",
			                       (version >> 8) - 2,
			                       (version & 0xff) - 1,
			                       conn->peer);
			gw_http_conn_drain(conn);
			(void)!send(g_socket_get_fd(socket),
			            alert,
			            sizeof(alert),
			            MSG_DONTWAIT | MSG_NOSIGNAL);
			gw_http_conn_close(conn);
			return G_SOURCE_REMOVE;
		}
	}
	/* (a first record too short for the version goes on as it is: the version is checked
	 * after the handshake) */
	gw_http_conn_queue_handshake(conn);
	return G_SOURCE_REMOVE;
}

/* ---- accepting ---- */

/* @peer: only a connection of that peer, NULL: any */
static gboolean
gw_http_server_evict_idle(GwHttpServer *self, GwHttpPeer *peer)
{
	GwHttpConn *oldest = NULL;

	for (GList *l = self->conns.head; l != NULL; l = l->next) {
		GwHttpConn *conn = l->data;
		if (conn->state != GW_HTTP_CONN_IDLE || conn->close_pending)
			continue;
		if (peer != NULL && conn->peer_state != peer)
			continue;
		if (oldest == NULL || conn->since < oldest->since)
			oldest = conn;
	}
	if (oldest == NULL)
		return FALSE;
	g_debug("closing an idle connection of %s to make room", oldest->peer);
	gw_http_conn_close(oldest);
	return TRUE;
}

static void
gw_http_server_accept_fd(GwHttpServer *self,
                         GwHttpListener *listener,
                         gint fd,
                         const struct sockaddr *addr,
                         socklen_t addr_len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSocketAddress) remote = NULL;
	g_autoptr(GSocketAddress) local = NULL;
	g_autofree gchar *peer = NULL;
	g_autofree gchar *group = NULL;
	GwHttpPeer *peer_state;
	GwHttpConn *conn;
	gint one = 1;

	remote = g_socket_address_new_from_native((gpointer)addr, addr_len);
	socket = g_socket_new_from_fd(fd, &error);
	if (socket == NULL || remote == NULL || !G_IS_INET_SOCKET_ADDRESS(remote)) {
		g_warning("cannot take an accepted connection: %s",
		          error != NULL ? error->message : "not an IP address");
		if (socket == NULL)
			close(fd);
		return;
	}
	local = g_socket_get_local_address(socket, NULL);
	peer = g_inet_address_to_string(
	    g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
	group =
	    gw_http_peer_group(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));

	if (self->conns.length >= self->limits.max_connections &&
	    !gw_http_server_evict_idle(self, NULL)) {
		gw_message_ratelimited("refusing a connection from %s: %u connections open "
		                       "([http] max-connections)",
		                       peer,
		                       self->conns.length);
		g_socket_close(socket, NULL);
		return;
	}
	peer_state = gw_http_server_peer(self, group);
	if (peer_state->conns >= self->limits.max_per_peer &&
	    !gw_http_server_evict_idle(self, peer_state)) {
		gw_message_ratelimited("refusing a connection from %s: %s has %u open "
		                       "([http] max-connections-per-peer)",
		                       peer,
		                       group,
		                       peer_state->conns);
		gw_http_server_peer_release(self, peer_state);
		g_socket_close(socket, NULL);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	conn = g_new0(GwHttpConn, 1);
	conn->refcount = 1; /* the server's queue */
	conn->server = self;
	conn->link.data = conn;
	conn->socket = g_steal_pointer(&socket);
	conn->tcp = G_IO_STREAM(g_socket_connection_factory_create_connection(conn->socket));
	conn->remote = g_steal_pointer(&remote);
	conn->local = local != NULL ? g_steal_pointer(&local) : g_object_ref(conn->remote);
	conn->peer = g_steal_pointer(&peer);
	conn->peer_state = peer_state;
	conn->accepted = g_get_monotonic_time();
	peer_state->conns++;
	g_queue_push_tail_link(&self->conns, &conn->link);
	gw_http_server_ensure_sweep(self);

	if (!listener->tls) {
		gw_http_conn_hand_to_soup(conn);
		return;
	}
	conn->cancellable = g_cancellable_new();
	gw_http_conn_set_state(
	    conn, GW_HTTP_CONN_TLS_HELLO, MIN(self->limits.handshake_ms, self->limits.hello_ms));
	/* woken once a record header is in */
	gw_http_conn_wait_for_bytes(conn, 5);
	conn->watch = g_socket_create_source(conn->socket, G_IO_IN, NULL);
	g_source_set_callback(conn->watch, (GSourceFunc)gw_http_conn_hello_cb, conn, NULL);
	g_source_attach(conn->watch, g_main_context_get_thread_default());
}

static void
gw_http_listener_watch(GwHttpListener *listener);

static gboolean
gw_http_listener_backoff_cb(gpointer user_data)
{
	GwHttpListener *listener = user_data;
	g_clear_pointer(&listener->backoff_source, g_source_unref);
	listener->episode_retries++;
	gw_http_listener_watch(listener);
	return G_SOURCE_REMOVE;
}

/* accept() failed for want of descriptors (or memory): stop watching the listening socket (it
 * stays readable: watching it would spin), make room where we can, retry after a back-off */
static void
gw_http_listener_pause(GwHttpListener *listener, gint errsv)
{
	if (listener->episode_start == 0) {
		listener->episode_start = g_get_monotonic_time();
		listener->episode_retries = 0;
		g_warning("listener %s cannot accept: %s; retrying until descriptors are free",
		          listener->uri,
		          g_strerror(errsv));
	}
	listener->backoff_ms = listener->backoff_ms == 0
	                           ? GW_HTTP_ACCEPT_BACKOFF_MIN_MS
	                           : MIN(listener->backoff_ms * 2, GW_HTTP_ACCEPT_BACKOFF_MAX_MS);
	if (listener->source != NULL) {
		g_source_destroy(listener->source);
		g_clear_pointer(&listener->source, g_source_unref);
	}
	/* an idle kept-alive connection is the one descriptor we may take back at once */
	gw_http_server_evict_idle(listener->server, NULL);
	listener->backoff_source = g_timeout_source_new(listener->backoff_ms);
	g_source_set_callback(
	    listener->backoff_source, gw_http_listener_backoff_cb, listener, NULL);
	g_source_attach(listener->backoff_source, g_main_context_get_thread_default());
}

static gboolean
gw_http_accept_error_is_transient(gint errsv)
{
	/* the connection failed before we took it (accept(2) says to retry on these) */
	switch (errsv) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EPERM:
		return TRUE;
	default:
		return FALSE;
	}
}

static gboolean
gw_http_listener_accept_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	GwHttpListener *listener = user_data;

	for (guint i = 0; i < GW_HTTP_ACCEPT_BATCH; i++) {
		struct sockaddr_storage addr;
		socklen_t addr_len = sizeof(addr);
		gint fd = accept4(g_socket_get_fd(socket),
		                  (struct sockaddr *)&addr,
		                  &addr_len,
		                  SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			gint errsv = errno;
			if (errsv == EAGAIN || errsv == EWOULDBLOCK)
				break;
			if (gw_http_accept_error_is_transient(errsv))
				continue;
			gw_http_listener_pause(listener, errsv);
			return G_SOURCE_REMOVE;
		}
		if (listener->episode_start != 0) {
			g_message("listener %s accepts again (descriptors were short for %.1f s, "
			          "%" G_GUINT64_FORMAT " retries)",
			          listener->uri,
			          (gdouble)(g_get_monotonic_time() - listener->episode_start) / 1e6,
			          listener->episode_retries);
			listener->episode_start = 0;
			listener->backoff_ms = 0;
		}
		gw_http_server_accept_fd(
		    listener->server, listener, fd, (struct sockaddr *)&addr, addr_len);
	}
	return G_SOURCE_CONTINUE;
}

static void
gw_http_listener_watch(GwHttpListener *listener)
{
	g_return_if_fail(listener->source == NULL);
	listener->source = g_socket_create_source(listener->socket, G_IO_IN, NULL);
	g_source_set_callback(
	    listener->source, (GSourceFunc)gw_http_listener_accept_cb, listener, NULL);
	g_source_attach(listener->source, g_main_context_get_thread_default());
}

static void
gw_http_listener_free(gpointer data)
{
	GwHttpListener *listener = data;
	if (listener->source != NULL) {
		g_source_destroy(listener->source);
		g_source_unref(listener->source);
	}
	if (listener->backoff_source != NULL) {
		g_source_destroy(listener->backoff_source);
		g_source_unref(listener->backoff_source);
	}
	g_socket_close(listener->socket, NULL);
	g_object_unref(listener->socket);
	g_free(listener->uri);
	g_free(listener);
}

/* ---- the deadlines ---- */

static gboolean
gw_http_server_sweep_cb(gpointer user_data)
{
	GwHttpServer *self = GW_HTTP_SERVER(user_data);
	gint64 now = g_get_monotonic_time();
	gint64 stall = now - self->last_sweep - (gint64)self->sweep_ms * 1000;
	g_autoptr(GPtrArray) expired =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_http_conn_unref);

	self->last_sweep = now;
	/* the main loop did not run for a while (gwmod itself was busy, stopped or starved of
	 * CPU): nothing a peer was to do in that time could be seen, so the time is not charged
	 * to the peers; their deadlines move by it */
	if (stall > GW_HTTP_SERVER_STALL_US) {
		g_message("the main loop stalled for %.1f s: connection deadlines moved by it",
		          (gdouble)stall / 1e6);
		for (GList *l = self->conns.head; l != NULL; l = l->next) {
			GwHttpConn *conn = l->data;
			if (conn->deadline != 0)
				conn->deadline += stall;
			if (conn->accepted != 0)
				conn->accepted += stall;
		}
	}
	for (GList *l = self->conns.head; l != NULL; l = l->next) {
		GwHttpConn *conn = l->data;
		if (conn->deadline != 0 && now >= conn->deadline && !conn->close_pending)
			g_ptr_array_add(expired, gw_http_conn_ref(conn));
	}
	for (guint i = 0; i < expired->len; i++) {
		GwHttpConn *conn = g_ptr_array_index(expired, i);
		gdouble seconds = (gdouble)(now - conn->since) / 1e6;
		if (conn->server == NULL)
			continue;
		switch (conn->state) {
		case GW_HTTP_CONN_IDLE:
			g_debug("closing the idle connection of %s", conn->peer);
			break;
		case GW_HTTP_CONN_LINGER:
			break;
		case GW_HTTP_CONN_BODY:
			/* the request its headers announced never reaches its handler */
			gw_http_conn_note_refusal(conn, conn->msg, 0, "body deadline");
			gw_http_conn_report_refusal(conn);
			if (conn->server == NULL || conn->state != GW_HTTP_CONN_BODY)
				continue;
			/* fall through */
		case GW_HTTP_CONN_TLS_HELLO:
			/* a main loop busy past the deadline has not looked at a ClientHello that
			 * may be in by now: it gets that look first */
			if (conn->watch != NULL) {
				GSource *watch = g_source_ref(conn->watch);
				if (gw_http_conn_hello_cb(conn->socket, G_IO_IN, conn) ==
				    G_SOURCE_REMOVE)
					g_source_destroy(watch);
				g_source_unref(watch);
				if (conn->server == NULL || conn->state != GW_HTTP_CONN_TLS_HELLO)
					continue;
			}
			/* fall through */
		case GW_HTTP_CONN_TLS_QUEUED:
		case GW_HTTP_CONN_TLS_HANDSHAKE:
		case GW_HTTP_CONN_HEADERS:
		case GW_HTTP_CONN_HANDLER:
		case GW_HTTP_CONN_WRITING:
			gw_info_ratelimited("closing the connection of %s: %s for %.1f s",
			                    conn->peer,
			                    gw_http_conn_state_to_string(conn->state),
			                    seconds);
			break;
		case GW_HTTP_CONN_CLOSED:
			continue;
		}
		if (conn->state == GW_HTTP_CONN_LINGER) {
			gw_http_conn_clear_watch(conn);
			g_io_stream_close(conn->tcp, NULL, NULL);
			gw_http_conn_set_state(conn, GW_HTTP_CONN_CLOSED, 0);
			gw_http_conn_maybe_finish(conn);
		} else {
			gw_http_conn_close(conn);
		}
	}
	if (self->conns.length > 0)
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&self->sweep_source, g_source_unref);
	return G_SOURCE_REMOVE;
}

/* the deadlines are checked by one timer while there are connections, at a fraction of the
 * shortest one (a timer per connection would cost every main-loop iteration) */
static void
gw_http_server_ensure_sweep(GwHttpServer *self)
{
	guint shortest;

	if (self->sweep_source != NULL)
		return;
	shortest = MIN(MIN(MIN(self->limits.header_ms, self->limits.body_ms),
	                   MIN(self->limits.idle_ms, self->limits.handshake_ms)),
	               MIN(self->limits.handler_ms, self->limits.hello_ms));
	self->sweep_ms = CLAMP(shortest / 8, 25, 1000);
	self->last_sweep = g_get_monotonic_time();
	self->sweep_source = g_timeout_source_new(self->sweep_ms);
	g_source_set_callback(self->sweep_source, gw_http_server_sweep_cb, self, NULL);
	g_source_attach(self->sweep_source, g_main_context_get_thread_default());
}

/* ---- requests ---- */

static void
gw_http_handler_free(gpointer data)
{
	GwHttpHandler *h = data;
	if (h->destroy != NULL)
		h->destroy(h->user_data);
	g_free(h->path);
	g_free(h);
}

/* libsoup still has the request's connection (else unpausing it is an error) */
static gboolean
gw_http_request_has_connection(GwHttpRequest *request)
{
	return request->conn == NULL || request->conn->in_soup;
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
		soup_server_message_set_status(
		    request->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
		if (request->paused && gw_http_request_has_connection(request))
			soup_server_message_unpause(request->msg);
	}
	g_object_unref(request->msg);
	if (request->conn != NULL)
		gw_http_conn_unref(request->conn);
	g_free(request->path);
	g_free(request->content_type);
	g_free(request->peer_fingerprint);
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
	const gchar *host;
	if (request->conn != NULL)
		return request->conn->peer;
	host = soup_server_message_get_remote_host(request->msg);
	return host != NULL ? host : "";
}

const gchar *
gw_http_request_get_peer_group(GwHttpRequest *request)
{
	if (request->conn != NULL && request->conn->peer_state != NULL)
		return request->conn->peer_state->group;
	return gw_http_request_get_remote_host(request);
}

gboolean
gw_http_request_is_tls(GwHttpRequest *request)
{
	return request->conn != NULL && request->conn->tls != NULL;
}

const gchar *
gw_http_request_get_peer_fingerprint(GwHttpRequest *request)
{
	GTlsCertificate *certificate;
	g_autoptr(GByteArray) der = NULL;
	g_autofree gchar *hex = NULL;

	if (request->peer_fingerprint != NULL)
		return request->peer_fingerprint;
	if (request->conn == NULL || request->conn->tls == NULL)
		return NULL;
	certificate = g_tls_connection_get_peer_certificate(G_TLS_CONNECTION(request->conn->tls));
	if (certificate == NULL)
		return NULL;
	g_object_get(certificate, "certificate", &der, NULL);
	if (der == NULL || der->len == 0)
		return NULL;
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
	request->peer_fingerprint = g_strconcat("sha256:", hex, NULL);
	return request->peer_fingerprint;
}

void
gw_http_request_set_header(GwHttpRequest *request, const gchar *name, const gchar *value)
{
	soup_message_headers_replace(
	    soup_server_message_get_response_headers(request->msg), name, value);
}

void
gw_http_request_add_header(GwHttpRequest *request, const gchar *name, const gchar *value)
{
	soup_message_headers_append(
	    soup_server_message_get_response_headers(request->msg), name, value);
}

gboolean
gw_http_request_is_closed(GwHttpRequest *request)
{
	GwHttpConn *conn = request->conn;

	if (conn == NULL)
		return !gw_http_request_has_connection(request);
	return !conn->in_soup || conn->transport_closed || conn->state == GW_HTTP_CONN_CLOSED ||
	       conn->msg != request->msg;
}

/* the answer is set: libsoup writes it once it returns to the main loop */
static void
gw_http_request_answered(GwHttpRequest *request)
{
	GwHttpConn *conn = request->conn;

	if (conn != NULL && conn->server != NULL && conn->msg == request->msg &&
	    conn->state == GW_HTTP_CONN_HANDLER)
		gw_http_conn_set_state(conn, GW_HTTP_CONN_WRITING, conn->server->limits.idle_ms);
	if (request->paused) {
		request->paused = FALSE;
		if (gw_http_request_has_connection(request))
			soup_server_message_unpause(request->msg);
	}
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
	gw_http_request_answered(request);
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
	gw_http_request_answered(request);
}

void
gw_http_request_respond_file(GwHttpRequest *request,
                             guint status,
                             const gchar *content_type,
                             GBytes *body,
                             gint fd,
                             goffset offset)
{
	GwHttpConn *conn = request->conn;

	g_return_if_fail(!request->answered);
	if (conn != NULL && conn->stream != NULL && conn->msg == request->msg && body != NULL)
		gw_http_stream_set_file_body(conn->stream, body, fd, offset);
	gw_http_request_respond_bytes(request, status, content_type, body, -1);
}

gboolean
gw_http_request_is_answered(GwHttpRequest *request)
{
	return request->answered;
}

static gboolean
gw_http_query_has_nul(GUri *uri)
{
	const gchar *raw = uri != NULL ? g_uri_get_query(uri) : NULL;
	return raw != NULL && strstr(raw, "%00") != NULL;
}

static void
gw_http_server_dispatch_cb(SoupServer *server,
                           SoupServerMessage *msg,
                           const char *path,
                           GHashTable *query,
                           gpointer user_data)
{
	GwHttpHandler *h = user_data;
	GwHttpServer *self = h->server;
	GwHttpConn *conn =
	    g_hash_table_lookup(self->by_remote, soup_server_message_get_remote_address(msg));
	g_autoptr(GwHttpRequest) request = NULL;
	const gchar *ctype;

	if (!h->prefix && g_strcmp0(path, h->path) != 0) {
		soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
		return;
	}
	if (query != NULL && gw_http_query_has_nul(soup_server_message_get_uri(msg))) {
		/* libsoup decodes %00 into the value, which then reads shorter than it was sent
		 * (dev=a%00b as "a"): no handler sees such a query */
		gw_warning_ratelimited("%s from %s refused (400): a NUL in the query",
		                       path,
		                       conn != NULL ? conn->peer : "?");
		soup_server_message_set_status(msg, SOUP_STATUS_BAD_REQUEST, NULL);
		return;
	}
	if (conn == NULL || conn->msg != msg || conn->reject_status != 0) {
		soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	request = g_new0(GwHttpRequest, 1);
	request->refcount = 1;
	request->msg = g_object_ref(msg);
	request->conn = gw_http_conn_ref(conn);
	request->path = g_strdup(path);
	request->query = query != NULL ? g_hash_table_ref(query) : NULL;
	ctype = soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg),
	                                              NULL);
	request->content_type = g_strdup(ctype);
	if (conn->body != NULL && conn->body->len > 0) {
		/* its bytes stay in the budget until the handler lets the last reference go (a
		 * worker thread decoding it, a reply held for the disk); the peer's share is for
		 * bodies being read */
		GwHttpHeldBody *held = g_new0(GwHttpHeldBody, 1);
		held->budget = gw_http_budget_ref(self->budget);
		held->len = conn->body->len;
		held->data = g_byte_array_free(g_steal_pointer(&conn->body), FALSE);
		g_assert(conn->reading == held->len);
		conn->peer_state->reading -= conn->reading;
		conn->reading = 0;
		request->body =
		    g_bytes_new_with_free_func(held->data, held->len, gw_http_held_body_free, held);
	} else {
		gw_http_conn_drop_body(conn);
		request->body = g_bytes_new_static("", 0);
	}
	gw_http_conn_set_state(conn, GW_HTTP_CONN_HANDLER, self->limits.handler_ms);
	h->func(self, request, h->user_data);
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
	soup_server_add_handler(
	    self->server, h->path, gw_http_server_dispatch_cb, h, gw_http_handler_free);
}

/* ---- listening ---- */

/*
 * libsoup 3.2 keeps a connection alive after a response only when it has a listener of its
 * own (request_finished() tests priv->listeners). Ours are not its: it gets a placeholder, one
 * end of a socket pair whose other end is closed at once. Its watch fires once on that EOF,
 * accept() fails, and the watch is gone; nobody can connect to it.
 */
static gboolean
gw_http_server_ensure_soup_listener(GwHttpServer *self, GError **error)
{
	gint fds[2];
	g_autoptr(GSocket) placeholder = NULL;

	if (self->soup_listening)
		return TRUE;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
		gint errsv = errno;
		g_set_error(error,
		            G_IO_ERROR,
		            g_io_error_from_errno(errsv),
		            "socketpair: %s",
		            g_strerror(errsv));
		return FALSE;
	}
	close(fds[1]);
	placeholder = g_socket_new_from_fd(fds[0], error);
	if (placeholder == NULL) {
		close(fds[0]);
		return FALSE;
	}
	g_socket_set_blocking(placeholder, FALSE);
	if (!soup_server_listen_socket(self->server, placeholder, 0, error))
		return FALSE;
	self->soup_listening = TRUE;
	return TRUE;
}

gboolean
gw_http_server_listen(GwHttpServer *self, const gchar *uri, GError **error)
{
	g_autoptr(GUri) parsed = g_uri_parse(uri, G_URI_FLAGS_NONE, error);
	g_autoptr(GInetAddress) addr = NULL;
	g_autoptr(GSocketAddress) saddr = NULL;
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(GSocket) sock = NULL;
	g_autoptr(GUri) real = NULL;
	g_autofree gchar *host_str = NULL;
	GwHttpListener *listener;
	gboolean tls = FALSE;
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
		if (self->certificate == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "%s: https needs a TLS certificate",
			            uri);
			return FALSE;
		}
		tls = TRUE;
	} else if (g_strcmp0(scheme, "http") != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s: only http:// and https:// can be listened on",
		            uri);
		return FALSE;
	}
	if (host == NULL || port < 0 || port > 65535) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s: host and port needed", uri);
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
	/* a longer accept queue than GSocket's default of 10: that one dropped the SYNs of a burst
	 * of devices connecting at once (a fan-out's first sessions), and each dropped SYN cost
	 * the device a 1 s TCP retransmission */
	sock = g_socket_new(g_inet_address_get_family(addr),
	                    G_SOCKET_TYPE_STREAM,
	                    G_SOCKET_PROTOCOL_DEFAULT,
	                    error);
	if (sock == NULL) {
		g_prefix_error(error, "cannot listen on %s: ", uri);
		return FALSE;
	}
	g_socket_set_listen_backlog(sock, GW_HTTP_SERVER_BACKLOG);
	g_socket_set_blocking(sock, FALSE);
	if (!g_socket_bind(sock, saddr, TRUE, error) || !g_socket_listen(sock, error) ||
	    !gw_http_server_ensure_soup_listener(self, error)) {
		g_prefix_error(error, "cannot listen on %s: ", uri);
		return FALSE;
	}
	bound = g_socket_get_local_address(sock, error);
	if (bound == NULL) {
		g_prefix_error(error, "cannot listen on %s: ", uri);
		return FALSE;
	}
	host_str = g_inet_address_to_string(
	    g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(bound)));
	real = g_uri_build(G_URI_FLAGS_NONE,
	                   tls ? "https" : "http",
	                   NULL,
	                   host_str,
	                   g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)),
	                   "/",
	                   NULL,
	                   NULL);
	listener = g_new0(GwHttpListener, 1);
	listener->server = self;
	listener->socket = g_steal_pointer(&sock);
	listener->tls = tls;
	listener->uri = g_uri_to_string(real);
	g_ptr_array_add(self->listeners, listener);
	gw_http_listener_watch(listener);
	return TRUE;
}

gchar **
gw_http_server_get_uris(GwHttpServer *self)
{
	GPtrArray *out = g_ptr_array_new();
	for (guint i = 0; i < self->listeners->len; i++) {
		GwHttpListener *listener = g_ptr_array_index(self->listeners, i);
		g_ptr_array_add(out, g_strdup(listener->uri));
	}
	g_ptr_array_add(out, NULL);
	return (gchar **)g_ptr_array_free(out, FALSE);
}

guint16
gw_http_server_get_port(GwHttpServer *self, gboolean https)
{
	for (guint i = 0; i < self->listeners->len; i++) {
		GwHttpListener *listener = g_ptr_array_index(self->listeners, i);
		g_autoptr(GSocketAddress) addr = NULL;
		if (listener->tls != https)
			continue;
		addr = g_socket_get_local_address(listener->socket, NULL);
		if (addr != NULL)
			return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr));
	}
	return 0;
}

void
gw_http_server_disconnect(GwHttpServer *self)
{
	GwHttpConn *conn;

	g_ptr_array_set_size(self->listeners, 0);
	/* libsoup's connections end with its "disconnected"; the others here */
	soup_server_disconnect(self->server);
	self->soup_listening = FALSE;
	/* every connection leaves the server below, and with it its handshake slot or its place
	 * in the queue for one */
	while (self->conns.head != NULL) {
		g_autoptr(GwHttpConn) hold = gw_http_conn_ref(self->conns.head->data);
		gw_http_conn_close(hold);
		if (hold->server != NULL) {
			/* lingering or handshaking: it is ours no more (a handshake's callback
			 * closes the socket once its thread let go of it) */
			gw_http_conn_clear_watch(hold);
			if (!hold->handshaking)
				g_io_stream_close(hold->tcp, NULL, NULL);
			hold->transport_closed = TRUE;
			hold->in_soup = FALSE;
			gw_http_conn_set_state(hold, GW_HTTP_CONN_CLOSED, 0);
			gw_http_conn_maybe_finish(hold);
		}
	}
	while ((conn = g_queue_pop_head(&self->closing)) != NULL) {
		conn->close_pending = FALSE;
		gw_http_conn_unref(conn);
	}
	if (self->closing_source != NULL) {
		g_source_destroy(self->closing_source);
		g_clear_pointer(&self->closing_source, g_source_unref);
	}
	if (self->sweep_source != NULL) {
		g_source_destroy(self->sweep_source);
		g_clear_pointer(&self->sweep_source, g_source_unref);
	}
}

guint
gw_http_server_get_n_connections(GwHttpServer *self)
{
	g_return_val_if_fail(GW_IS_HTTP_SERVER(self), 0);
	return self->conns.length;
}

guint
gw_http_server_get_n_handshakes(GwHttpServer *self)
{
	g_return_val_if_fail(GW_IS_HTTP_SERVER(self), 0);
	return self->n_handshakes;
}

gsize
gw_http_server_get_buffered_bodies(GwHttpServer *self)
{
	g_return_val_if_fail(GW_IS_HTTP_SERVER(self), 0);
	return gw_http_budget_used(self->budget);
}

void
gw_http_server_set_refused_handler(GwHttpServer *self,
                                   GwHttpRefusedFunc func,
                                   gpointer user_data,
                                   GDestroyNotify destroy)
{
	g_return_if_fail(GW_IS_HTTP_SERVER(self));
	if (self->refused_destroy != NULL)
		self->refused_destroy(self->refused_data);
	self->refused_func = func;
	self->refused_data = user_data;
	self->refused_destroy = destroy;
}

void
gw_http_server_set_limits(GwHttpServer *self, const GwHttpServerLimits *limits)
{
	g_return_if_fail(GW_IS_HTTP_SERVER(self));
	g_return_if_fail(limits != NULL);
	if (limits->header_ms > 0)
		self->limits.header_ms = limits->header_ms;
	if (limits->body_ms > 0)
		self->limits.body_ms = limits->body_ms;
	if (limits->idle_ms > 0)
		self->limits.idle_ms = limits->idle_ms;
	if (limits->handshake_ms > 0)
		self->limits.handshake_ms = limits->handshake_ms;
	if (limits->max_connections > 0)
		self->limits.max_connections = limits->max_connections;
	if (limits->max_per_peer > 0)
		self->limits.max_per_peer = limits->max_per_peer;
	if (limits->handler_ms > 0)
		self->limits.handler_ms = limits->handler_ms;
	if (limits->max_body_buffer > 0)
		self->limits.max_body_buffer = limits->max_body_buffer;
	if (limits->hello_ms > 0)
		self->limits.hello_ms = limits->hello_ms;
	/* the sweep's period follows the shortest deadline */
	if (self->sweep_source != NULL) {
		g_source_destroy(self->sweep_source);
		g_clear_pointer(&self->sweep_source, g_source_unref);
		if (self->conns.length > 0)
			gw_http_server_ensure_sweep(self);
	}
}

void
gw_http_server_get_limits(GwHttpServer *self, GwHttpServerLimits *limits)
{
	g_return_if_fail(GW_IS_HTTP_SERVER(self));
	*limits = self->limits;
}

static void
gw_http_server_dispose(GObject *object)
{
	GwHttpServer *self = GW_HTTP_SERVER(object);
	if (self->server != NULL)
		gw_http_server_disconnect(self);
	gw_http_server_set_refused_handler(self, NULL, NULL, NULL);
	G_OBJECT_CLASS(gw_http_server_parent_class)->dispose(object);
}

static void
gw_http_server_finalize(GObject *object)
{
	GwHttpServer *self = GW_HTTP_SERVER(object);
	g_signal_handlers_disconnect_by_data(self->server, self);
	g_object_unref(self->server);
	g_clear_object(&self->certificate);
	g_ptr_array_unref(self->listeners);
	g_hash_table_unref(self->peers);
	g_hash_table_unref(self->by_remote);
	gw_http_budget_unref(self->budget);
	G_OBJECT_CLASS(gw_http_server_parent_class)->finalize(object);
}

static void
gw_http_server_class_init(GwHttpServerClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_http_server_dispose;
	G_OBJECT_CLASS(klass)->finalize = gw_http_server_finalize;
}

static void
gw_http_server_init(GwHttpServer *self)
{
	self->max_body_size = GW_HTTP_DEFAULT_MAX_BODY;
	self->limits.header_ms = GW_HTTP_SERVER_DEFAULT_HEADER_MS;
	self->limits.body_ms = GW_HTTP_SERVER_DEFAULT_BODY_MS;
	self->limits.idle_ms = GW_HTTP_SERVER_DEFAULT_IDLE_MS;
	self->limits.handshake_ms = GW_HTTP_SERVER_DEFAULT_HANDSHAKE_MS;
	self->limits.hello_ms = GW_HTTP_SERVER_HELLO_MS;
	self->limits.max_connections = GW_HTTP_SERVER_DEFAULT_MAX_CONNECTIONS;
	self->limits.max_per_peer = GW_HTTP_SERVER_DEFAULT_MAX_PER_PEER;
	self->limits.handler_ms = GW_HTTP_SERVER_DEFAULT_HANDLER_MS;
	self->limits.max_body_buffer = GW_HTTP_SERVER_DEFAULT_MAX_BODY_BUFFER;
	self->listeners = g_ptr_array_new_with_free_func(gw_http_listener_free);
	self->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, gw_http_peer_free);
	self->by_remote = g_hash_table_new(g_direct_hash, g_direct_equal);
	self->budget = g_new0(GwHttpBudget, 1);
	self->budget->refcount = 1;
	g_queue_init(&self->conns);
	g_queue_init(&self->hs_turns);
	g_queue_init(&self->closing);
}

GwHttpServer *
gw_http_server_new(GTlsCertificate *certificate)
{
	GwHttpServer *self = g_object_new(GW_TYPE_HTTP_SERVER, NULL);
	self->server = soup_server_new("server-header", "gwmo/" PACKAGE_VERSION " ", NULL);
	self->certificate = certificate != NULL ? g_object_ref(certificate) : NULL;
	g_signal_connect(
	    self->server, "request-started", G_CALLBACK(gw_http_server_request_started_cb), self);
	g_signal_connect(
	    self->server, "request-read", G_CALLBACK(gw_http_server_request_read_cb), self);
	g_signal_connect(
	    self->server, "request-finished", G_CALLBACK(gw_http_server_request_done_cb), self);
	g_signal_connect(
	    self->server, "request-aborted", G_CALLBACK(gw_http_server_request_done_cb), self);
	soup_server_add_handler(self->server, NULL, gw_http_server_not_found_cb, NULL, NULL);
	return self;
}

void
gw_http_server_set_request_client_certificate(GwHttpServer *self, gboolean request)
{
	g_return_if_fail(GW_IS_HTTP_SERVER(self));
	self->request_client_certificate = request;
}

void
gw_http_server_set_max_body_size(GwHttpServer *self, gsize max_body_size)
{
	self->max_body_size = max_body_size;
}
