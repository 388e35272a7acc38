/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a hostile host on the LAN does to a listener, for the tests and the soak: raw clients
 * (plain or TLS) driven from the caller's main loop, TLS handshakes with chosen versions, and
 * the figures to watch (descriptors, RSS, heap).
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* ---- figures: @pid 0 is this process ---- */

/* open descriptors; with @sockets_only, only sockets */
guint
gw_abuse_count_fds(GPid pid, gboolean sockets_only);
/* VmRSS in KiB */
guint64
gw_abuse_rss_kib(GPid pid);
/* bytes malloc() has handed out and not got back (mallinfo2: arena + mmapped) */
guint64
gw_abuse_heap_bytes(void);
/* the soft descriptor limit raised to the hard one (a test opens thousands of sockets) */
void
gw_abuse_raise_fd_limit(void);

/* ---- waiting: iterates the thread-default main context (a server in this process runs) ---- */

typedef gboolean (*GwAbuseCondFunc)(gpointer user_data);

/* TRUE once @cond holds, FALSE if it still does not after @timeout_ms */
gboolean
gw_abuse_wait(GwAbuseCondFunc cond, gpointer user_data, guint timeout_ms);
/* lets the main loop run for @ms */
void
gw_abuse_run(guint ms);

/* ---- raw clients ---- */

typedef struct _GwAbuseClient GwAbuseClient;

/* connects to 127.0.0.1:@port; @tls: a TLS handshake (any certificate accepted) before it
 * returns. NULL and @error if either fails. */
GwAbuseClient *
gw_abuse_client_connect(guint16 port, gboolean tls, GError **error);
/* a TLS handshake on a client connected with gw_abuse_client_connect_raw() (a client that
 * waited before it began) */
gboolean
gw_abuse_client_start_tls(GwAbuseClient *client, GError **error);
/* the first flight of a TLS client (its ClientHello), to send by hand and stall after it */
GBytes *
gw_abuse_client_hello(void);
/* connects without waiting for the TLS handshake or anything else (a flood) */
GwAbuseClient *
gw_abuse_client_connect_raw(guint16 port, GError **error);
/* the same from another loopback address (127.0.0.2 …: another peer for the server) */
GwAbuseClient *
gw_abuse_client_connect_from(guint16 port, const gchar *source, GError **error);
void
gw_abuse_client_free(GwAbuseClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwAbuseClient, gw_abuse_client_free)

/* what can be sent now without waiting: the bytes written, 0 if none, -1 once the server
 * closed or reset the connection */
gssize
gw_abuse_client_send_some(GwAbuseClient *client, const void *data, gsize len);
/* all of @len within @timeout_ms */
gboolean
gw_abuse_client_send(GwAbuseClient *client, const void *data, gsize len, guint timeout_ms);
gboolean
gw_abuse_client_send_str(GwAbuseClient *client, const gchar *text, guint timeout_ms);
/* one HTTP response (headers and a Content-Length body) within @timeout_ms, NULL if the
 * connection closed first or the time ran out */
gchar *
gw_abuse_client_read_response(GwAbuseClient *client, guint timeout_ms);
/* the status of a response read with gw_abuse_client_read_response(), 0 if none */
guint
gw_abuse_response_status(const gchar *response);
/* whether whatever arrived so far holds a response (reads what is there, never waits) */
gboolean
gw_abuse_client_poll(GwAbuseClient *client);
/* the bytes received so far */
const gchar *
gw_abuse_client_received(GwAbuseClient *client);
/* TRUE once the server closed (EOF) or reset the connection, within @timeout_ms; what it sent
 * before is kept (gw_abuse_client_received) */
gboolean
gw_abuse_client_wait_closed(GwAbuseClient *client, guint timeout_ms);
gboolean
gw_abuse_client_is_closed(GwAbuseClient *client);

/* one request, "Connection: close" or kept alive; returns the status, 0 on failure */
guint
gw_abuse_request(GwAbuseClient *client,
                 const gchar *method,
                 const gchar *path,
                 const gchar *body,
                 gboolean keep_alive,
                 guint timeout_ms);

/* ---- TLS versions ---- */

/* a GnuTLS handshake with @priority (e.g. "NORMAL:-VERS-ALL:+VERS-TLS1.1") in a worker thread
 * while the main loop runs; TRUE with the negotiated version ("TLS1.2") in @version, or FALSE
 * with the reason in @error */
gboolean
gw_abuse_tls_handshake(guint16 port, const gchar *priority, gchar **version, GError **error);
/* the same, started in its thread while the caller goes on; finished (and freed) with what it
 * got within @timeout_ms of the call (iterating the main loop) */
typedef struct _GwAbuseTlsAsync GwAbuseTlsAsync;
GwAbuseTlsAsync *
gw_abuse_tls_handshake_start(guint16 port, const gchar *priority);
gboolean
gw_abuse_tls_handshake_finish(GwAbuseTlsAsync *handshake,
                              guint timeout_ms,
                              gchar **version,
                              GError **error);

G_END_DECLS
