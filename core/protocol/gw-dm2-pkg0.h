/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * OMA DM 2.0 Package #0, the binary DM Notification (../shared/spec/OMA-DM.md §1.3; DM 2.0 TS
 * §2.1 and §6.1.1 in the public transcription). Big-endian:
 *
 *   byte 0..1   VER (4 bits) | OC, the option count (5 bits) | 7 reserved bits (sent as 0)
 *   then OC options in increasing option number, each
 *     delta (4 bits) | length (4 bits)  [extended delta] [extended length]  value[length]
 *   delta = option number − the previous option's number (0 before the first); a nibble of
 *   0..12 is the value itself, 13 means one more byte follows holding value − 13, 14 two more
 *   bytes holding value − 269, 15 is reserved (the CoAP option encoding, RFC 7252 §3.1, which
 *   this layout follows). Nothing follows the last option.
 *
 *   1 SERVER-ID           String  UTF-8, no NUL, 1..GW_DM2_PKG0_MAX_SERVER_ID bytes
 *   2 PREFERRED-CON-TYPE  Opaque  1 byte: 0 any, 1 cellular, 2 WLAN, 3 wireline
 *   3 NOTIFICATION-ID     Uint    exactly 2 bytes
 *   4 SHA256-DIGEST       Opaque  exactly 32 bytes:
 *                         SHA256(server secret | notification with a zero digest | auth data)
 *                         (secret and auth data: the DMAcc's <x>/Auth/Noti/Secret and /Data)
 *   5 TIMESTAMP           Opaque  POSIX time (seconds), 4 or 8 bytes big-endian ([R]: the text
 *                         says "POSIX format" and no length)
 *   6 REQ-MOS             Null    length 0: the client lists its MOs in Package #1
 *
 * Each option at most once; unknown option numbers, a wrong length, a count that does not
 * match, reserved bits set (logged, accepted) … see gw_dm2_pkg0_parse().
 *
 * VER ([R]): the text names the field and not its value. Built as 1; 0 and 1 are accepted
 * (logged at debug level), anything else is refused.
 */

#define GW_DM2_PKG0_VERSION 1
/* the whole notification: an SMS-sized message in practice; room for every option at its
 * largest legal size here */
#define GW_DM2_PKG0_MAX_SIZE 1024
#define GW_DM2_PKG0_MAX_SERVER_ID 255
#define GW_DM2_PKG0_DIGEST_LEN 32

typedef enum {
	GW_DM2_PKG0_OPT_SERVER_ID = 1,
	GW_DM2_PKG0_OPT_PREFERRED_CON_TYPE = 2,
	GW_DM2_PKG0_OPT_NOTIFICATION_ID = 3,
	GW_DM2_PKG0_OPT_SHA256_DIGEST = 4,
	GW_DM2_PKG0_OPT_TIMESTAMP = 5,
	GW_DM2_PKG0_OPT_REQ_MOS = 6,
} GwDm2Pkg0Option;

typedef enum {
	GW_DM2_PKG0_CON_ANY = 0,
	GW_DM2_PKG0_CON_CELLULAR = 1,
	GW_DM2_PKG0_CON_WLAN = 2,
	GW_DM2_PKG0_CON_WIRELINE = 3,
} GwDm2Pkg0ConType;

typedef struct {
	guint version;    /* 0 or 1 (see above); built as GW_DM2_PKG0_VERSION when 0 */
	gchar *server_id; /* required */
	gboolean has_con_type;
	guint con_type; /* GwDm2Pkg0ConType */
	gboolean has_notification_id;
	guint16 notification_id;
	gboolean has_digest; /* parse: whether the option was there; build: always written */
	guint8 digest[GW_DM2_PKG0_DIGEST_LEN];
	gboolean has_timestamp;
	guint64 timestamp; /* seconds since the epoch */
	gboolean req_mos;
} GwDm2Pkg0;

GwDm2Pkg0 *
gw_dm2_pkg0_new(void);
void
gw_dm2_pkg0_free(GwDm2Pkg0 *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2Pkg0, gw_dm2_pkg0_free)

/*
 * Serialises @n with a SHA256-DIGEST signed with @secret and @auth_data (each nullable:
 * empty). The digest option is always written (the DM Server MUST set it). Programmer errors
 * (no/empty/too long server id, con_type > 3, version > 15) → NULL with a critical.
 */
GBytes *
gw_dm2_pkg0_build(const GwDm2Pkg0 *n, GBytes *secret, GBytes *auth_data);

/*
 * Parses without checking the digest. Refuses with GW_ERROR_PROTOCOL: more than
 * GW_DM2_PKG0_MAX_SIZE bytes, under 2 bytes, a VER other than 0/1, an option running past the
 * end or a reserved nibble (15), an option number 0, above 6, repeated or out of order, a
 * length its type does not allow, a SERVER-ID that is empty or not UTF-8 or holds a NUL, a
 * PREFERRED-CON-TYPE above 3, fewer or more options than OC, bytes after the last option, no
 * SERVER-ID. Non-zero reserved bits are logged and accepted.
 */
GwDm2Pkg0 *
gw_dm2_pkg0_parse(const guint8 *data, gsize len, GError **error);

/*
 * Parses @data as gw_dm2_pkg0_parse() does (same GW_ERROR_PROTOCOL cases) and checks the
 * SHA256-DIGEST against @secret and @auth_data in constant time: no digest option or a
 * mismatch → GW_ERROR_AUTH_FAILED. On success returns the parsed notification.
 */
G_GNUC_WARN_UNUSED_RESULT GwDm2Pkg0 *
gw_dm2_pkg0_verify(const guint8 *data,
                   gsize len,
                   GBytes *secret,
                   GBytes *auth_data,
                   GError **error);

G_END_DECLS
