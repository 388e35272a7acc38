/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * OMA DM 1.2 Package #0, "General Notification Initiated Session Alert"
 * (application/vnd.syncml.notification), OMA-DM.md §1.2.5. Big-endian:
 *
 *   digest[16]  version(10) ui-mode(2) initiator(1) future(27) session-id(16)
 *   server-id-length(8)  server-id[server-id-length]  vendor body…
 *
 *   trigger = everything after the digest
 *   digest  = H(B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger))), H = MD5
 */

#define GW_PKG0_CONTENT_TYPE "application/vnd.syncml.notification"
#define GW_PKG0_DIGEST_LEN 16
#define GW_PKG0_HEADER_LEN 24 /* digest + the 64-bit header */
/* version field values (version × 10) */
#define GW_PKG0_VERSION_DM12 11 /* "0000001011", the only value of the DM 1.2 text */
#define GW_PKG0_VERSION_12 12   /* accepted defensively */
#define GW_PKG0_VERSION_DEFAULT GW_PKG0_VERSION_DM12

typedef enum {
	GW_PKG0_UI_MODE_NOT_SPECIFIED = 0,
	GW_PKG0_UI_MODE_BACKGROUND = 1,
	GW_PKG0_UI_MODE_INFORMATIVE = 2,
	GW_PKG0_UI_MODE_USER_INTERACTION = 3,
} GwPkg0UiMode;

typedef struct {
	guint version;             /* 11 or 12; 0 means GW_PKG0_VERSION_DEFAULT when building */
	guint ui_mode;             /* GwPkg0UiMode, 0..3 */
	gboolean server_initiated; /* initiator bit: 1 = server, 0 = client/user */
	guint16 session_id;        /* SyncHdr SessionID, see gw_pkg0_session_id_to_string() */
	gchar *server_id;          /* UTF-8, 1..255 bytes */
	GBytes *vendor;            /* vendor-specific body, NULL when there is none */
} GwPkg0;

GwPkg0 *
gw_pkg0_new(void);
void
gw_pkg0_free(GwPkg0 *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwPkg0, gw_pkg0_free)

/*
 * Serializes @n and signs it with @server_password (the SRVCRED secret) and @nonce (the
 * SRVCRED AAuthData, raw bytes; NULL when @nonce_len is 0). Future bits are written as 0.
 * Programmer errors (no/empty/too long server id, version > 1023, ui_mode > 3) → NULL with a
 * critical.
 */
GBytes *
gw_pkg0_build(const GwPkg0 *n, const gchar *server_password, const guint8 *nonce, gsize nonce_len);

/*
 * Parses without checking the digest. Strict: at least 24 bytes, the server id fits, is
 * non-empty, UTF-8 and NUL-free, version 11 or 12 (logged at debug level) — anything else is
 * GW_ERROR_PROTOCOL. Non-zero future bits are accepted and logged.
 */
GwPkg0 *
gw_pkg0_parse(const guint8 *data, gsize len, GError **error);

/*
 * Parses @data as gw_pkg0_parse() does (same GW_ERROR_PROTOCOL cases) and checks its digest
 * against the server id it carries, @server_password and @nonce, in constant time;
 * mismatch → GW_ERROR_AUTH_FAILED.
 */
G_GNUC_WARN_UNUSED_RESULT gboolean
gw_pkg0_verify(const guint8 *data,
               gsize len,
               const gchar *server_password,
               const guint8 *nonce,
               gsize nonce_len,
               GError **error);

/*
 * Nonces (issue 11 §3). A DM Server signs its Package #0 with its SRVCRED nonce: the NextNonce
 * the receiver last gave it in the Chal of a Status; with none known it signs with the all-zero
 * nonce, which the receiver accepts as the documented fallback (OMA-DM.md §1.2.5: libdmclient
 * retries with nonce 0x00000000 when the stored one fails). The all-zero nonce is these four
 * bytes. An empty nonce is neither used nor accepted.
 */
#define GW_PKG0_ZERO_NONCE_LEN 4
extern const guint8 gw_pkg0_zero_nonce[GW_PKG0_ZERO_NONCE_LEN];

/* gw_pkg0_build() with @nonce (the receiver's last NextNonce); NULL or empty: the all-zero
 * nonce */
GBytes *
gw_pkg0_build_with_nonce(const GwPkg0 *n, const gchar *server_password, GBytes *nonce);

/*
 * gw_pkg0_verify() with the stored nonce @nonce first (skipped when NULL or empty), then with
 * the all-zero nonce; @fallback (optional) tells whether the all-zero one matched. Errors as
 * gw_pkg0_verify(); the GW_ERROR_AUTH_FAILED message names the nonces tried.
 */
G_GNUC_WARN_UNUSED_RESULT gboolean
gw_pkg0_verify_with_fallback(const guint8 *data,
                             gsize len,
                             const gchar *server_password,
                             GBytes *nonce,
                             gboolean *fallback,
                             GError **error);

/* SyncHdr SessionID: upper-case hex without leading zeros (1 → "1", 0xABC → "ABC") */
gchar *
gw_pkg0_session_id_to_string(guint16 session_id);

/*
 * Replay guard: "the same session id re-sent starts only one session". Remembers
 * (server id, session id) pairs for @window_seconds; at most @max_entries pairs are kept,
 * the oldest is evicted first. Not thread-safe (use from the main context).
 */
typedef struct _GwPkg0ReplayGuard GwPkg0ReplayGuard;

#define GW_PKG0_REPLAY_DEFAULT_WINDOW_S 300
#define GW_PKG0_REPLAY_DEFAULT_MAX_ENTRIES 4096

/* @max_entries 0 means GW_PKG0_REPLAY_DEFAULT_MAX_ENTRIES */
GwPkg0ReplayGuard *
gw_pkg0_replay_guard_new(guint window_seconds, guint max_entries);
void
gw_pkg0_replay_guard_free(GwPkg0ReplayGuard *guard);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwPkg0ReplayGuard, gw_pkg0_replay_guard_free)

/*
 * TRUE (and remembers the pair, time @now_us from g_get_monotonic_time()) when the pair was
 * not seen in the last window; FALSE for a repeat within the window (the first sighting's
 * time is kept, so a server resending the same notification cannot keep it alive forever).
 */
gboolean
gw_pkg0_replay_guard_check_and_remember(GwPkg0ReplayGuard *guard,
                                        const gchar *server_id,
                                        guint16 session_id,
                                        gint64 now_us);
/* number of pairs currently remembered */
guint
gw_pkg0_replay_guard_get_size(GwPkg0ReplayGuard *guard);

G_END_DECLS
