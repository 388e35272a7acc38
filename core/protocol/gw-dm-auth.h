/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * SyncML DM application-level authentication (Cred/Chal) and the transport-level HMAC
 * (x-syncml-hmac), OMA-DM.md §1.2.4. H = MD5, B64 = base64 with padding.
 *
 *   basic: B64(user ":" password)
 *   md5:   B64(H(B64(H(user ":" password)) ":" nonce))                      (DM 1.2)
 *   HMAC:  B64(H(B64(H(user ":" password)) ":" nonce ":" B64(H(body))))
 *
 * Nonces are raw bytes (decode a b64 NextNonce first). No function here logs a password,
 * a digest or a MAC.
 */

#define GW_DM_AUTH_HMAC_HEADER "x-syncml-hmac"
/* length of an MD5 digest in bytes and of its base64 text */
#define GW_DM_AUTH_DIGEST_LEN 16
#define GW_DM_AUTH_DIGEST_B64_LEN 24
#define GW_DM_AUTH_NONCE_LEN 16

typedef enum {
	GW_DM_AUTH_TYPE_NONE,
	GW_DM_AUTH_TYPE_BASIC, /* syncml:auth-basic, AAuthType BASIC */
	GW_DM_AUTH_TYPE_MD5,   /* syncml:auth-md5, AAuthType DIGEST */
	GW_DM_AUTH_TYPE_HMAC,  /* syncml:auth-MAC, AAuthType HMAC */
} GwDmAuthType;

/* "syncml:auth-basic", "syncml:auth-md5", "syncml:auth-MAC"; NULL for NONE/unknown values */
const gchar *
gw_dm_auth_type_to_string(GwDmAuthType type);
/* accepts the SyncML Meta/Type names and the DMAcc AAuthType names BASIC, DIGEST, HMAC
 * (ASCII case-insensitive, surrounding spaces ignored); anything else (including
 * HTTP-BASIC/HTTP-DIGEST, which are transport-level) gives GW_DM_AUTH_TYPE_NONE */
GwDmAuthType
gw_dm_auth_type_from_string(const gchar *str);
/* "BASIC", "DIGEST", "HMAC"; NULL for NONE */
const gchar *
gw_dm_auth_type_to_aauth_type(GwDmAuthType type);

/* constant-time comparison of two buffers of the same length */
gboolean
gw_dm_auth_secure_equal(const guint8 *a, const guint8 *b, gsize len);

/* B64(user ":" password) */
gchar *
gw_dm_auth_basic_encode(const gchar *user, const gchar *password);
/*
 * Strict base64 (whitespace around it ignored, padding required); the decoded text must be
 * UTF-8 without NUL and contain a ':'; the user is what precedes the first ':' (the password
 * may contain ':'). Malformed input → GW_ERROR_PROTOCOL.
 */
G_GNUC_WARN_UNUSED_RESULT gboolean
gw_dm_auth_basic_decode(const gchar *b64, gchar **user, gchar **password, GError **error);

/* B64(H(B64(H(user ":" password)) ":" nonce)); @nonce may be NULL when @nonce_len is 0 */
gchar *
gw_dm_auth_md5_digest(const gchar *user,
                      const gchar *password,
                      const guint8 *nonce,
                      gsize nonce_len);
/* compares @cred_b64 (spaces around it ignored) with the expected digest in constant time */
gboolean
gw_dm_auth_md5_verify(const gchar *cred_b64,
                      const gchar *user,
                      const gchar *password,
                      const guint8 *nonce,
                      gsize nonce_len);

/* the raw 16-byte H(B64(H(user ":" password)) ":" nonce ":" B64(H(body))); also the
 * Package #0 digest (user = server id) */
void
gw_dm_auth_hmac_compute_raw(const gchar *user,
                            const gchar *password,
                            const guint8 *nonce,
                            gsize nonce_len,
                            const guint8 *body,
                            gsize body_len,
                            guint8 out[GW_DM_AUTH_DIGEST_LEN]);
/* B64 of gw_dm_auth_hmac_compute_raw() */
gchar *
gw_dm_auth_hmac_compute(const gchar *user,
                        const gchar *password,
                        const guint8 *nonce,
                        gsize nonce_len,
                        const guint8 *body,
                        gsize body_len);
/* "algorithm=MD5, username=\"<user>\", mac=<mac>" ('"' and '\' in @user are escaped with '\') */
gchar *
gw_dm_auth_hmac_header(const gchar *user, const gchar *mac);
/*
 * Parses an x-syncml-hmac value: comma-separated name=value pairs in any order, spaces
 * around names, '=' and values ignored, values plain or quoted ("…" with \-escapes), names
 * ASCII case-insensitive, unknown parameters ignored. username and mac are mandatory and
 * must be non-empty; algorithm defaults to "MD5". Missing/duplicated parameters and syntax
 * errors → GW_ERROR_PROTOCOL; an algorithm other than MD5 → GW_ERROR_NOT_SUPPORTED.
 * @algorithm is returned as "MD5". Every out argument is optional.
 */
G_GNUC_WARN_UNUSED_RESULT gboolean
gw_dm_auth_hmac_parse_header(const gchar *value,
                             gchar **algorithm,
                             gchar **username,
                             gchar **mac,
                             GError **error);
/*
 * Parses @header_value and checks that its username is @user and its mac is the HMAC of
 * @body. Syntax errors as gw_dm_auth_hmac_parse_header(); wrong user or mac →
 * GW_ERROR_AUTH_FAILED.
 */
G_GNUC_WARN_UNUSED_RESULT gboolean
gw_dm_auth_hmac_verify(const gchar *header_value,
                       const gchar *user,
                       const gchar *password,
                       const guint8 *nonce,
                       gsize nonce_len,
                       const guint8 *body,
                       gsize body_len,
                       GError **error);

/* 16 random bytes (gnutls_rnd(GNUTLS_RND_NONCE), getrandom() as fallback); NULL (with a
 * warning) only if the system has no randomness to give */
GBytes *
gw_dm_auth_new_nonce(void);

G_END_DECLS
