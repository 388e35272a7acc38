/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DM 2.0 Package #0: golden bytes written here by hand from the layout (gw-dm2-pkg0.h), the
 * digest computed here with GChecksum as the text defines it, then parsed, verified and
 * compared with what the builder makes; every refusal.
 */

#include "config.h"

#include <string.h>

#include "gw-dm2-pkg0.h"
#include "gw-error.h"

#define SECRET "srv-noti-secret"
#define AUTH_DATA "noti-auth-data"
#define SERVER_ID "gwmo-test-server" /* 16 bytes */

/* the hand-made notification; offset of the digest value */
#define GOLDEN_DIGEST_OFFSET (2 + 2 + 16 + 2 + 3 + 2)

static GByteArray *
golden_bytes(void)
{
	static const guint8 head[] = {
	    0x13, 0x00, /* VER 1, OC 6, reserved 0: 0001 00110 0000000 */
	    0x1d, 0x03, /* SERVER-ID: delta 1, length 13+3 = 16 */
	    'g',  'w',  'm',  'o', '-', 't', 'e',  's',  't', '-',
	    's',  'e',  'r',  'v', 'e', 'r', 0x11, 0x02, /* PREFERRED-CON-TYPE: delta 1, length 1,
	                                                    WLAN */
	    0x12, 0x12, 0x34, /* NOTIFICATION-ID: delta 1, length 2, 0x1234 */
	    0x1d, 0x13,       /* SHA256-DIGEST: delta 1, length 13+19 = 32 */
	};
	static const guint8 tail[] = {
	    0x14,
	    0x5f,
	    0x5e,
	    0x10,
	    0x00, /* TIMESTAMP: delta 1, length 4, 1600000000 */
	    0x10, /* REQ-MOS: delta 1, length 0 */
	};
	static const guint8 zeros[32] = {0};
	GByteArray *buf = g_byte_array_new();
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 digest[32];
	gsize digest_len = sizeof(digest);

	g_byte_array_append(buf, head, sizeof(head));
	g_assert_cmpuint(buf->len, ==, GOLDEN_DIGEST_OFFSET);
	g_byte_array_append(buf, zeros, sizeof(zeros));
	g_byte_array_append(buf, tail, sizeof(tail));
	/* Digest = SHA256(server secret | notification with a zero digest | auth data) */
	g_checksum_update(sum, (const guchar *)SECRET, strlen(SECRET));
	g_checksum_update(sum, buf->data, buf->len);
	g_checksum_update(sum, (const guchar *)AUTH_DATA, strlen(AUTH_DATA));
	g_checksum_get_digest(sum, digest, &digest_len);
	memcpy(buf->data + GOLDEN_DIGEST_OFFSET, digest, sizeof(digest));
	return buf;
}

static GBytes *
str_bytes(const gchar *s)
{
	return g_bytes_new_static(s, strlen(s));
}

static void
test_golden(void)
{
	g_autoptr(GByteArray) golden = golden_bytes();
	g_autoptr(GBytes) secret = str_bytes(SECRET);
	g_autoptr(GBytes) auth = str_bytes(AUTH_DATA);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2Pkg0) n =
	    gw_dm2_pkg0_verify(golden->data, golden->len, secret, auth, &error);
	g_autoptr(GBytes) built = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(n);
	g_assert_cmpuint(n->version, ==, 1);
	g_assert_cmpstr(n->server_id, ==, SERVER_ID);
	g_assert_true(n->has_con_type);
	g_assert_cmpuint(n->con_type, ==, GW_DM2_PKG0_CON_WLAN);
	g_assert_true(n->has_notification_id);
	g_assert_cmpuint(n->notification_id, ==, 0x1234);
	g_assert_true(n->has_digest);
	g_assert_cmpmem(n->digest, 32, golden->data + GOLDEN_DIGEST_OFFSET, 32);
	g_assert_true(n->has_timestamp);
	g_assert_cmpuint(n->timestamp, ==, 1600000000);
	g_assert_true(n->req_mos);

	/* the builder makes the same bytes from the same fields */
	built = gw_dm2_pkg0_build(n, secret, auth);
	g_assert_cmpmem(
	    g_bytes_get_data(built, NULL), g_bytes_get_size(built), golden->data, golden->len);
}

/* only SERVER-ID and the digest: the delta jumps from 1 to 4 */
static void
test_minimal(void)
{
	static const guint8 head[] = {0x01, 0x00, 0x11, 'S', 0x3d, 0x13};
	g_autoptr(GByteArray) buf = g_byte_array_new();
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(GwDm2Pkg0) n = NULL;
	g_autoptr(GwDm2Pkg0) built_n = gw_dm2_pkg0_new();
	g_autoptr(GBytes) built = NULL;
	g_autoptr(GError) error = NULL;
	guint8 zeros[32] = {0};
	gsize len = 32;

	g_byte_array_append(buf, head, sizeof(head));
	g_byte_array_append(buf, zeros, sizeof(zeros));
	/* no secret, no auth data: the digest of the notification alone */
	g_checksum_update(sum, buf->data, buf->len);
	g_checksum_get_digest(sum, buf->data + sizeof(head), &len);
	/* VER 0 is accepted ([R]) */
	n = gw_dm2_pkg0_verify(buf->data, buf->len, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(n->version, ==, 0);
	g_assert_cmpstr(n->server_id, ==, "S");
	g_assert_false(n->has_con_type || n->has_notification_id || n->has_timestamp || n->req_mos);

	/* built with VER 1: the same options after the first byte */
	built_n->server_id = g_strdup("S");
	built = gw_dm2_pkg0_build(built_n, NULL, NULL);
	g_assert_cmpuint(g_bytes_get_size(built), ==, buf->len);
	g_assert_cmpuint(((const guint8 *)g_bytes_get_data(built, NULL))[0], ==, 0x11);
	g_assert_cmpmem((const guint8 *)g_bytes_get_data(built, NULL) + 1, 5, head + 1, 5);
}

static void
test_verify_refusals(void)
{
	g_autoptr(GByteArray) golden = golden_bytes();
	g_autoptr(GBytes) secret = str_bytes(SECRET);
	g_autoptr(GBytes) wrong = str_bytes("another-secret");
	g_autoptr(GBytes) auth = str_bytes(AUTH_DATA);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2Pkg0) n = NULL;
	static const guint8 no_digest[] = {0x10, 0x80, 0x11, 'S'};

	n = gw_dm2_pkg0_verify(golden->data, golden->len, wrong, auth, &error);
	g_assert_null(n);
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_assert_nonnull(strstr(error->message, "gwmo-test-server"));
	g_assert_null(strstr(error->message, SECRET));
	g_clear_error(&error);
	n = gw_dm2_pkg0_verify(golden->data, golden->len, secret, NULL, &error);
	g_assert_null(n);
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	/* any byte changed: here the connection type (WLAN → wireline), then the reserved bits */
	golden->data[21] ^= 1;
	n = gw_dm2_pkg0_verify(golden->data, golden->len, secret, auth, &error);
	g_assert_null(n);
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	golden->data[21] ^= 1;
	golden->data[1] |= 0x01;
	n = gw_dm2_pkg0_parse(golden->data, golden->len, &error); /* reserved: accepted */
	g_assert_no_error(error);
	g_clear_pointer(&n, gw_dm2_pkg0_free);
	n = gw_dm2_pkg0_verify(golden->data, golden->len, secret, auth, &error);
	g_assert_null(n);
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	/* no digest option */
	n = gw_dm2_pkg0_verify(no_digest, sizeof(no_digest), secret, auth, &error);
	g_assert_null(n);
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_assert_nonnull(strstr(error->message, "no SHA256-DIGEST"));
	g_clear_error(&error);
	/* a parse error stays a parse error */
	n = gw_dm2_pkg0_verify(no_digest, 3, secret, auth, &error);
	g_assert_null(n);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
}

static void
test_parse_refusals(void)
{
	static const struct {
		const gchar *bytes; /* hex */
		const gchar *error;
	} cases[] = {
	    /* header 1080: VER 1, OC 1; 1100: VER 1, OC 2 */
	    {"", "too short (0 bytes"},
	    {"10", "too short (1 bytes"},
	    {"2080", "version 2 is not supported"},
	    {"f080", "version 15"},
	    {"1000", "has no SERVER-ID"},
	    {"1080", "announces 1 options, has 0"},
	    {"108011", "SERVER-ID of 1 bytes runs past the end (0 left)"},
	    {"10801153", NULL}, /* valid */
	    {"1080115300", "1 bytes after its 1 options"},
	    {"1100115301", "number 1 repeated"},
	    {"1080f0", "delta nibble 15 is reserved"},
	    {"10801f", "length nibble 15 is reserved"},
	    {"10801d", "extended length runs past the end"},
	    {"10801e00", "extended length runs past the end"},
	    {"1080d0", "extended delta runs past the end"},
	    {"1080d000", "number 13 is unknown"},
	    {"1080e00000", "number 269 is unknown"},
	    {"108070", "number 7 is unknown"},
	    {"108000", "number 0 repeated"},
	    {"108010", "SERVER-ID has length 0, must be 1..255"},
	    {"10801e0000", "SERVER-ID of 269 bytes runs past the end"},
	    {"1080120053", "SERVER-ID is not UTF-8 (or contains NUL)"},
	    {"108011ff", "SERVER-ID is not UTF-8"},
	    {"110011531104", "PREFERRED-CON-TYPE 4 is unknown"},
	    {"11001153120000", "PREFERRED-CON-TYPE has length 2, must be 1"},
	    {"1100115321ff", "NOTIFICATION-ID has length 1, must be 2"},
	    {"110011533100", "SHA256-DIGEST has length 1, must be 32"},
	    {"11001153430000ff", "TIMESTAMP has length 3, must be 4 or 8"},
	    {"110011535100", "REQ-MOS has length 1, must be 0"},
	    {"10802101", "has no SERVER-ID"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GwDm2Pkg0) n = NULL;
		gsize len = strlen(cases[i].bytes) / 2;
		g_autofree guint8 *data = g_malloc0(len + 1);

		for (gsize j = 0; j < len; j++)
			data[j] = (guint8)((g_ascii_xdigit_value(cases[i].bytes[2 * j]) << 4) |
			                   g_ascii_xdigit_value(cases[i].bytes[2 * j + 1]));
		n = gw_dm2_pkg0_parse(data, len, &error);
		if (cases[i].error == NULL) {
			g_assert_no_error(error);
			g_assert_nonnull(n);
			continue;
		}
		if (n != NULL || error == NULL || strstr(error->message, cases[i].error) == NULL)
			g_test_message("case %u (%s): expected \"%s\", got %s",
			               i,
			               cases[i].bytes,
			               cases[i].error,
			               error != NULL ? error->message : "success");
		g_assert_null(n);
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_nonnull(strstr(error->message, cases[i].error));
	}
}

static void
test_bounds(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2Pkg0) n = NULL;
	g_autofree guint8 *big = g_malloc0(GW_DM2_PKG0_MAX_SIZE + 1);
	guint8 sid[2 + 2 + 256];
	g_autoptr(GwDm2Pkg0) built_n = gw_dm2_pkg0_new();
	g_autoptr(GBytes) built = NULL;

	n = gw_dm2_pkg0_parse(big, GW_DM2_PKG0_MAX_SIZE + 1, &error);
	g_assert_null(n);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "over the limit"));
	g_clear_error(&error);

	/* SERVER-ID of 255 bytes (one-byte extended length 242) parses, 256 does not */
	sid[0] = 0x10; /* VER 1, OC 1 */
	sid[1] = 0x80;
	sid[2] = 0x1d;
	sid[3] = 255 - 13;
	memset(sid + 4, 'a', 256);
	n = gw_dm2_pkg0_parse(sid, 4 + 255, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(n->server_id), ==, 255);
	/* and the builder writes the same extended length */
	built_n->server_id = g_strdup(n->server_id);
	built = gw_dm2_pkg0_build(built_n, NULL, NULL);
	g_assert_cmpmem((const guint8 *)g_bytes_get_data(built, NULL) + 2, 2, sid + 2, 2);
	g_clear_pointer(&n, gw_dm2_pkg0_free);
	sid[3] = 256 - 13;
	n = gw_dm2_pkg0_parse(sid, 4 + 256, &error);
	g_assert_null(n);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "length 256, must be 1..255"));
}

/* a timestamp past 2106 takes 8 bytes */
static void
test_timestamp_8(void)
{
	g_autoptr(GwDm2Pkg0) n = gw_dm2_pkg0_new();
	g_autoptr(GwDm2Pkg0) back = NULL;
	g_autoptr(GBytes) built = NULL;
	g_autoptr(GBytes) secret = str_bytes(SECRET);

	n->server_id = g_strdup("S");
	n->has_timestamp = TRUE;
	n->timestamp = G_GUINT64_CONSTANT(0x100000000);
	built = gw_dm2_pkg0_build(n, secret, NULL);
	back = gw_dm2_pkg0_verify(
	    g_bytes_get_data(built, NULL), g_bytes_get_size(built), secret, NULL, NULL);
	g_assert_nonnull(back);
	g_assert_cmpuint(back->timestamp, ==, G_GUINT64_CONSTANT(0x100000000));
	/* 2 header + 1 + 1 (SERVER-ID) + 2 + 32 (digest) + 1 + 8 (TIMESTAMP) */
	g_assert_cmpuint(g_bytes_get_size(built), ==, 47);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dm2/pkg0/golden", test_golden);
	g_test_add_func("/dm2/pkg0/minimal", test_minimal);
	g_test_add_func("/dm2/pkg0/verify-refusals", test_verify_refusals);
	g_test_add_func("/dm2/pkg0/parse-refusals", test_parse_refusals);
	g_test_add_func("/dm2/pkg0/bounds", test_bounds);
	g_test_add_func("/dm2/pkg0/timestamp-8", test_timestamp_8);
	return g_test_run();
}
