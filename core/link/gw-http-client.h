/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * HTTP(S) client for DM sessions and notifications (libsoup 3, one SoupSession).
 * - TLS peers are verified against the configured CA file, or the system trust store when
 *   none is configured; a certificate that does not verify fails the request
 *   (GW_ERROR_NETWORK, message says why). Verification is never skipped.
 * - POSTs are sent with SOUP_MESSAGE_IDEMPOTENT so keep-alive connections are reused.
 * - Each attempt of a POST has a deadline (set_timeout, default 30 s): no whole answer by
 *   then counts as a network failure (a late answer is dropped).
 * - Network failures (refused, reset, deadline) are retried with exponential backoff
 *   (default 3 retries from 200 ms); HTTP status codes are returned, not retried. The last
 *   failure comes back as GW_ERROR_TIMED_OUT (deadline) or GW_ERROR_NETWORK.
 * - Cancelling the caller's GCancellable ends the POST at once with G_IO_ERROR_CANCELLED.
 * - At most max-in-flight requests run at once (default 32); the rest wait in order.
 */

#define GW_TYPE_HTTP_CLIENT (gw_http_client_get_type())
G_DECLARE_FINAL_TYPE(GwHttpClient, gw_http_client, GW, HTTP_CLIENT, GObject)

typedef struct {
	guint status;
	gchar *content_type; /* media type without parameters, nullable */
	GBytes *body;        /* never NULL */
	GHashTable *headers; /* lower-case name → value */
	gchar *peer_fingerprint; /* https: the server certificate's "sha256:<hex>" over its DER
	                          * (verified as configured), nullable */
} GwHttpResponse;

void
gw_http_response_free(GwHttpResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwHttpResponse, gw_http_response_free)

/* @ca_file: PEM bundle the server certificates must chain to; NULL = system trust */
GwHttpClient *
gw_http_client_new(const gchar *ca_file, GError **error);
void
gw_http_client_set_timeout(GwHttpClient *self,
                           guint seconds); /* per attempt, default 30; 0 = none */
void
gw_http_client_set_max_in_flight(GwHttpClient *self, guint max_in_flight);
void
gw_http_client_set_retries(GwHttpClient *self, guint retries, guint initial_backoff_ms);
/* the TLS identity presented as client certificate by requests whose GwHttpClientAuth asks
 * for it (nullable) */
void
gw_http_client_set_certificate(GwHttpClient *self, GTlsCertificate *certificate);
/* the same, loaded (or made, gw_crypto_load_or_create()) from these files on first use */
void
gw_http_client_set_identity_files(GwHttpClient *self,
                                  const gchar *cert_path,
                                  const gchar *key_path,
                                  const gchar *common_name);

/* HTTP-level authentication of one request (DM 2.0): used only while the request's URI has
 * the scheme://host:port @origin (a redirect elsewhere gets nothing) */
typedef struct {
	const gchar *origin;
	/* answer an RFC 7616 Digest challenge (libsoup's SoupAuthDigest) with these, once; no
	 * other scheme is answered (no downgrade to Basic). NULL: no Digest */
	const gchar *digest_user;
	const gchar *digest_secret;
	/* present the client's TLS identity (gw_http_client_set_certificate()) */
	gboolean client_certificate;
} GwHttpClientAuth;

/* @headers: NULL-terminated name, value, name, value… (nullable) */
void
gw_http_client_post_async(GwHttpClient *self,
                          const gchar *uri,
                          const gchar *content_type,
                          GBytes *body,
                          const gchar *const *headers,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
/* (added) the same with another method ("GET", "PUT", "POST"; @body nullable), for the
 * transfers of DM 2.0 (HGET/HPUT/HPOST); finish with gw_http_client_post_finish() */
void
gw_http_client_request_async(GwHttpClient *self,
                             const gchar *method,
                             const gchar *uri,
                             const gchar *content_type,
                             GBytes *body,
                             const gchar *const *headers,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
/* the same with HTTP-level authentication (@auth nullable, copied) */
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
                                  gpointer user_data);
GwHttpResponse *
gw_http_client_post_finish(GwHttpClient *self, GAsyncResult *res, GError **error);

/*
 * (added) one GET of @uri, bounded: at most @max_body bytes of body (a longer one, or a
 * Content-Length above it, fails with GW_ERROR_PROTOCOL without reading the rest) and
 * @timeout_s seconds for the whole exchange (0: the client's timeout; GW_ERROR_TIMED_OUT).
 * TLS is verified as for POSTs; not retried; not counted in max-in-flight. Any HTTP status
 * is a response, not an error. @headers as for POSTs.
 */
void
gw_http_client_get_async(GwHttpClient *self,
                         const gchar *uri,
                         const gchar *const *headers,
                         gsize max_body,
                         guint timeout_s,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
GwHttpResponse *
gw_http_client_get_finish(GwHttpClient *self, GAsyncResult *res, GError **error);

/* requests waiting or running, for tests and stats */
guint
gw_http_client_get_in_flight(GwHttpClient *self);

G_END_DECLS
