/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Package #0 (OMA-DM.md §1.2.5).
 * GwMO-SECACATE-001 (authentication): the notification digest is checked, forged packages
 * are refused, replays start one session only.
 */

#include "config.h"

#include <string.h>

#include "gw-error.h"
#include "gw-pkg0.h"

#define SERVER_ID "dmsrv.example"
#define SERVER_PW "srvpwd"

static const guint8 nonce0[] = {0x00, 0x00, 0x00, 0x00};
static const guint8 vendor_body[] = {'V', 'E', 'N', 'D', 'O', 'R', 0x00, 0x01};

static GBytes *
build_sample(guint version)
{
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	n->version = version;
	n->ui_mode = GW_PKG0_UI_MODE_INFORMATIVE;
	n->server_initiated = TRUE;
	n->session_id = 0x1A2B;
	n->server_id = g_strdup(SERVER_ID);
	n->vendor = g_bytes_new_static(vendor_body, sizeof(vendor_body));
	return gw_pkg0_build(n, SERVER_PW, nonce0, sizeof(nonce0));
}

static void
test_pkg0_roundtrip(void)
{
	g_autoptr(GBytes) pkg = build_sample(11);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwPkg0) n = NULL;
	gsize len = 0;
	const guint8 *d = g_bytes_get_data(pkg, &len);
	/* written out by hand: version 11 (0000001011), ui-mode 10, initiator 1, future 0,
	 * session 0x1A2B, server-id length 13:
	 * 0000 0010 1110 1000 0000 ... 0001 1010 0010 1011 0000 1101 */
	const guint8 header[] = {0x02, 0xE8, 0x00, 0x00, 0x00, 0x1A, 0x2B, 0x0D};

	g_assert_cmpuint(len, ==, 16 + 8 + strlen(SERVER_ID) + sizeof(vendor_body));
	g_assert_cmpmem(d + 16, 8, header, sizeof(header));
	g_assert_cmpmem(d + 24, strlen(SERVER_ID), SERVER_ID, strlen(SERVER_ID));
	g_assert_cmpmem(
	    d + 24 + strlen(SERVER_ID), sizeof(vendor_body), vendor_body, sizeof(vendor_body));

	n = gw_pkg0_parse(d, len, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(n->version, ==, 11);
	g_assert_cmpuint(n->ui_mode, ==, GW_PKG0_UI_MODE_INFORMATIVE);
	g_assert_true(n->server_initiated);
	g_assert_cmpuint(n->session_id, ==, 0x1A2B);
	g_assert_cmpstr(n->server_id, ==, SERVER_ID);
	g_assert_nonnull(n->vendor);
	g_assert_cmpmem(g_bytes_get_data(n->vendor, NULL),
	                g_bytes_get_size(n->vendor),
	                vendor_body,
	                sizeof(vendor_body));

	g_assert_true(gw_pkg0_verify(d, len, SERVER_PW, nonce0, sizeof(nonce0), &error));
	g_assert_no_error(error);
}

static void
test_pkg0_defaults(void)
{
	g_autoptr(GwPkg0) in = gw_pkg0_new();
	g_autoptr(GwPkg0) out = NULL;
	g_autoptr(GBytes) pkg = NULL;
	g_autoptr(GError) error = NULL;

	/* version 0 = default 11, no vendor body, client initiated, empty nonce */
	in->server_id = g_strdup("s");
	in->session_id = 1;
	pkg = gw_pkg0_build(in, "", NULL, 0);
	g_assert_cmpuint(g_bytes_get_size(pkg), ==, 25);
	out = gw_pkg0_parse(g_bytes_get_data(pkg, NULL), g_bytes_get_size(pkg), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(out->version, ==, GW_PKG0_VERSION_DEFAULT);
	g_assert_cmpuint(out->version, ==, 11);
	g_assert_false(out->server_initiated);
	g_assert_cmpuint(out->ui_mode, ==, 0);
	g_assert_null(out->vendor);
	g_assert_true(gw_pkg0_verify(
	    g_bytes_get_data(pkg, NULL), g_bytes_get_size(pkg), "", NULL, 0, &error));
	g_assert_no_error(error);
}

static gchar *
md5_b64(const guint8 *data, gsize len)
{
	g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_MD5);
	guint8 digest[16];
	gsize dlen = sizeof(digest);
	g_checksum_update(c, data, (gssize)len);
	g_checksum_get_digest(c, digest, &dlen);
	g_assert_cmpuint(dlen, ==, 16);
	return g_base64_encode(digest, dlen);
}

/* digest = H(B64(H(server-id:password)):nonce:B64(H(trigger))), computed step by step */
static void
test_pkg0_digest_vector(void)
{
	g_autoptr(GBytes) pkg = build_sample(11);
	gsize len = 0;
	const guint8 *d = g_bytes_get_data(pkg, &len);
	const gchar *cred = SERVER_ID ":" SERVER_PW;
	g_autofree gchar *s1 = md5_b64((const guint8 *)cred, strlen(cred));
	g_autofree gchar *s3 = md5_b64(d + 16, len - 16);
	g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_MD5);
	guint8 expected[16];
	gsize elen = sizeof(expected);
	/* the same vector from an independent implementation (Python hashlib/base64) */
	const guint8 python[] = {0xfa,
	                         0x2d,
	                         0xb7,
	                         0xcd,
	                         0x65,
	                         0x02,
	                         0x14,
	                         0x96,
	                         0xad,
	                         0xf3,
	                         0x1a,
	                         0x1b,
	                         0xd6,
	                         0x59,
	                         0xab,
	                         0xcb};

	g_checksum_update(c, (const guchar *)s1, (gssize)strlen(s1));
	g_checksum_update(c, (const guchar *)":", 1);
	g_checksum_update(c, nonce0, sizeof(nonce0));
	g_checksum_update(c, (const guchar *)":", 1);
	g_checksum_update(c, (const guchar *)s3, (gssize)strlen(s3));
	g_checksum_get_digest(c, expected, &elen);

	g_assert_cmpmem(d, 16, expected, sizeof(expected));
	g_assert_cmpmem(d, 16, python, sizeof(python));
}

static void
assert_verify_fails(const guint8 *d,
                    gsize len,
                    const gchar *pw,
                    const guint8 *nonce,
                    gsize nonce_len,
                    gint code)
{
	g_autoptr(GError) error = NULL;
	g_assert_false(gw_pkg0_verify(d, len, pw, nonce, nonce_len, &error));
	g_assert_error(error, GW_ERROR, code);
}

static void
test_pkg0_forged(void)
{
	g_autoptr(GBytes) pkg = build_sample(11);
	gsize len = 0;
	g_autofree guint8 *d = g_memdup2(g_bytes_get_data(pkg, &len), g_bytes_get_size(pkg));
	const guint8 other_nonce[] = {0x00, 0x00, 0x00, 0x01};
	/* bytes in the digest, the header (future bits, session id), the server id, the vendor
	 * body */
	const gsize positions[] = {0, 7, 15, 19, 21, 22, 24, 30, len - 1};

	for (guint i = 0; i < G_N_ELEMENTS(positions); i++) {
		for (guint bit = 0; bit < 8; bit += 7) {
			d[positions[i]] ^= (guint8)(1u << bit);
			/* a flip in the server id may also make it non-UTF-8: then PROTOCOL */
			if (positions[i] >= 24 && positions[i] < 24 + strlen(SERVER_ID) &&
			    bit == 7) {
				assert_verify_fails(
				    d, len, SERVER_PW, nonce0, sizeof(nonce0), GW_ERROR_PROTOCOL);
			} else {
				assert_verify_fails(d,
				                    len,
				                    SERVER_PW,
				                    nonce0,
				                    sizeof(nonce0),
				                    GW_ERROR_AUTH_FAILED);
			}
			d[positions[i]] ^= (guint8)(1u << bit);
		}
	}
	/* untouched again */
	g_assert_true(gw_pkg0_verify(d, len, SERVER_PW, nonce0, sizeof(nonce0), NULL));
	assert_verify_fails(d, len, "srvpwD", nonce0, sizeof(nonce0), GW_ERROR_AUTH_FAILED);
	assert_verify_fails(d, len, "", nonce0, sizeof(nonce0), GW_ERROR_AUTH_FAILED);
	assert_verify_fails(
	    d, len, SERVER_PW, other_nonce, sizeof(other_nonce), GW_ERROR_AUTH_FAILED);
	assert_verify_fails(d, len, SERVER_PW, NULL, 0, GW_ERROR_AUTH_FAILED);
	/* appending to the vendor body changes the trigger */
	{
		g_autofree guint8 *longer = g_malloc(len + 1);
		memcpy(longer, d, len);
		longer[len] = 'x';
		assert_verify_fails(
		    longer, len + 1, SERVER_PW, nonce0, sizeof(nonce0), GW_ERROR_AUTH_FAILED);
	}
}

static void
test_pkg0_versions(void)
{
	const struct {
		guint version;
		gboolean ok;
	} cases[] = {{10, FALSE}, {11, TRUE}, {12, TRUE}, {13, FALSE}, {1, FALSE}, {1023, FALSE}};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GBytes) pkg = build_sample(cases[i].version);
		g_autoptr(GError) error = NULL;
		g_autoptr(GwPkg0) n =
		    gw_pkg0_parse(g_bytes_get_data(pkg, NULL), g_bytes_get_size(pkg), &error);
		if (cases[i].ok) {
			g_assert_no_error(error);
			g_assert_cmpuint(n->version, ==, cases[i].version);
			g_assert_true(gw_pkg0_verify(g_bytes_get_data(pkg, NULL),
			                             g_bytes_get_size(pkg),
			                             SERVER_PW,
			                             nonce0,
			                             sizeof(nonce0),
			                             NULL));
		} else {
			g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
			g_assert_null(n);
			assert_verify_fails(g_bytes_get_data(pkg, NULL),
			                    g_bytes_get_size(pkg),
			                    SERVER_PW,
			                    nonce0,
			                    sizeof(nonce0),
			                    GW_ERROR_PROTOCOL);
		}
	}
}

static void
test_pkg0_future_bits(void)
{
	g_autoptr(GBytes) pkg = build_sample(12);
	gsize len = 0;
	g_autofree guint8 *d = g_memdup2(g_bytes_get_data(pkg, &len), g_bytes_get_size(pkg));
	g_autoptr(GError) error = NULL;
	g_autoptr(GwPkg0) n = NULL;

	/* future bits are bits 50..24 of the header: set some in header bytes 2..4 */
	d[16 + 2] |= 0x21;
	d[16 + 4] |= 0x80;
	n = gw_pkg0_parse(d, len, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(n->version, ==, 12);
	g_assert_cmpuint(n->session_id, ==, 0x1A2B);
	g_assert_cmpuint(n->ui_mode, ==, GW_PKG0_UI_MODE_INFORMATIVE);
	g_assert_true(n->server_initiated);
	g_assert_cmpstr(n->server_id, ==, SERVER_ID);
}

static void
assert_parse_protocol(const guint8 *d, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwPkg0) n = gw_pkg0_parse(d, len, &error);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_null(n);
	assert_verify_fails(d, len, SERVER_PW, nonce0, sizeof(nonce0), GW_ERROR_PROTOCOL);
}

static void
test_pkg0_malformed(void)
{
	g_autoptr(GBytes) pkg = build_sample(11);
	gsize len = 0;
	g_autofree guint8 *d = g_memdup2(g_bytes_get_data(pkg, &len), g_bytes_get_size(pkg));

	/* truncated anywhere inside the header or the server id */
	for (gsize cut = 0; cut < 24 + strlen(SERVER_ID); cut++)
		assert_parse_protocol(d, cut);
	assert_parse_protocol(NULL, 0);

	/* server-id-length beyond the end */
	d[23] = 0xff;
	assert_parse_protocol(d, len);
	d[23] = (guint8)(len - 24 + 1);
	assert_parse_protocol(d, len);
	d[23] = (guint8)(len - 24); /* exactly to the end: the vendor body becomes server id */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GwPkg0) n = gw_pkg0_parse(d, len, &error);
		/* the vendor body has a NUL: not a valid server id */
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_null(n);
	}

	/* empty server id */
	d[23] = 0;
	assert_parse_protocol(d, len);
	d[23] = (guint8)strlen(SERVER_ID);

	/* non-UTF-8 and NUL in the server id */
	d[24] = 0xff;
	assert_parse_protocol(d, len);
	d[24] = 0xc3; /* truncated 2-byte sequence followed by 'm' */
	assert_parse_protocol(d, len);
	d[24] = 0x00;
	assert_parse_protocol(d, len);
	d[24] = 'd';
	g_assert_true(gw_pkg0_verify(d, len, SERVER_PW, nonce0, sizeof(nonce0), NULL));
}

static void
test_pkg0_session_id_string(void)
{
	const struct {
		guint16 id;
		const gchar *text;
	} cases[] = {{1, "1"}, {0xABC, "ABC"}, {0xFFFF, "FFFF"}, {0x0100, "100"}, {0x1A2B, "1A2B"}};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *s = gw_pkg0_session_id_to_string(cases[i].id);
		g_assert_cmpstr(s, ==, cases[i].text);
	}
}

/* GwMO-SECACATE-001: a repeated session id starts one session only */
static void
test_pkg0_replay_window(void)
{
	g_autoptr(GwPkg0ReplayGuard) guard = gw_pkg0_replay_guard_new(60, 0);
	const gint64 t0 = 1000 * G_USEC_PER_SEC;

	g_assert_true(gw_pkg0_replay_guard_check_and_remember(guard, SERVER_ID, 0x1A2B, t0));
	g_assert_false(gw_pkg0_replay_guard_check_and_remember(guard, SERVER_ID, 0x1A2B, t0));
	g_assert_false(
	    gw_pkg0_replay_guard_check_and_remember(guard, SERVER_ID, 0x1A2B, t0 + G_USEC_PER_SEC));
	/* other session, other server: fresh */
	g_assert_true(gw_pkg0_replay_guard_check_and_remember(guard, SERVER_ID, 0x1A2C, t0 + 1));
	g_assert_true(gw_pkg0_replay_guard_check_and_remember(guard, "other", 0x1A2B, t0 + 2));
	g_assert_cmpuint(gw_pkg0_replay_guard_get_size(guard), ==, 3);
	/* just inside the window, still a replay (the first sighting's time counts) */
	g_assert_false(gw_pkg0_replay_guard_check_and_remember(
	    guard, SERVER_ID, 0x1A2B, t0 + 60 * G_USEC_PER_SEC - 1));
	/* after the window: accepted once more, then a replay again */
	g_assert_true(gw_pkg0_replay_guard_check_and_remember(
	    guard, SERVER_ID, 0x1A2B, t0 + 60 * G_USEC_PER_SEC));
	g_assert_false(gw_pkg0_replay_guard_check_and_remember(
	    guard, SERVER_ID, 0x1A2B, t0 + 61 * G_USEC_PER_SEC));
	/* the other two expired meanwhile */
	g_assert_cmpuint(gw_pkg0_replay_guard_get_size(guard), ==, 1);
}

static void
test_pkg0_replay_bounded(void)
{
	g_autoptr(GwPkg0ReplayGuard) small = gw_pkg0_replay_guard_new(3600, 4);
	g_autoptr(GwPkg0ReplayGuard) dflt = gw_pkg0_replay_guard_new(3600, 0);

	for (guint16 i = 1; i <= 5; i++)
		g_assert_true(gw_pkg0_replay_guard_check_and_remember(small, "s", i, i));
	g_assert_cmpuint(gw_pkg0_replay_guard_get_size(small), ==, 4);
	/* the oldest (1) was evicted, the newest are remembered */
	g_assert_false(gw_pkg0_replay_guard_check_and_remember(small, "s", 5, 10));
	g_assert_false(gw_pkg0_replay_guard_check_and_remember(small, "s", 2, 10));
	g_assert_true(gw_pkg0_replay_guard_check_and_remember(small, "s", 1, 10));
	g_assert_cmpuint(gw_pkg0_replay_guard_get_size(small), ==, 4);

	for (guint i = 0; i < 10000; i++) {
		g_autofree gchar *sid = g_strdup_printf("srv%u", i % 7);
		gw_pkg0_replay_guard_check_and_remember(dflt, sid, (guint16)i, (gint64)i);
	}
	g_assert_cmpuint(
	    gw_pkg0_replay_guard_get_size(dflt), ==, GW_PKG0_REPLAY_DEFAULT_MAX_ENTRIES);
}

/* issue 11 §3: a Package #0 is signed with the receiver's last NextNonce, or the all-zero nonce
 * when none is known; the receiver accepts its stored nonce, then the all-zero nonce (and says
 * so), never the empty one */
static void
test_pkg0_nonce_fallback(void)
{
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	g_autoptr(GBytes) stored = g_bytes_new_static("next-nonce-16b!!", 16);
	g_autoptr(GBytes) other = g_bytes_new_static("another-nonce-16", 16);
	g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
	g_autoptr(GBytes) with_stored = NULL;
	g_autoptr(GBytes) with_zero = NULL;
	g_autoptr(GBytes) with_empty = NULL;
	g_autoptr(GBytes) explicit_zero = NULL;
	g_autoptr(GError) error = NULL;
	gboolean fallback = TRUE;
	gsize len = 0;
	const guint8 *d;

	n->server_id = g_strdup(SERVER_ID);
	n->session_id = 0x0ACE;
	with_stored = gw_pkg0_build_with_nonce(n, SERVER_PW, stored);
	with_zero = gw_pkg0_build_with_nonce(n, SERVER_PW, NULL);
	explicit_zero = gw_pkg0_build(n, SERVER_PW, nonce0, sizeof(nonce0));
	with_empty = gw_pkg0_build(n, SERVER_PW, NULL, 0);
	/* no nonce known: the all-zero one, also for an empty GBytes */
	g_assert_true(g_bytes_equal(with_zero, explicit_zero));
	{
		g_autoptr(GBytes) again = gw_pkg0_build_with_nonce(n, SERVER_PW, empty);
		g_assert_true(g_bytes_equal(again, explicit_zero));
	}

	/* the stored nonce verifies, no fallback */
	d = g_bytes_get_data(with_stored, &len);
	g_assert_true(gw_pkg0_verify_with_fallback(d, len, SERVER_PW, stored, &fallback, &error));
	g_assert_no_error(error);
	g_assert_false(fallback);
	/* signed with another nonce: refused, naming what was tried */
	g_assert_false(gw_pkg0_verify_with_fallback(d, len, SERVER_PW, other, &fallback, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_assert_nonnull(strstr(error->message, "all-zero"));
	g_clear_error(&error);

	/* the all-zero nonce: accepted as the fallback, with or without a stored nonce */
	d = g_bytes_get_data(with_zero, &len);
	g_assert_true(gw_pkg0_verify_with_fallback(d, len, SERVER_PW, stored, &fallback, &error));
	g_assert_true(fallback);
	fallback = FALSE;
	g_assert_true(gw_pkg0_verify_with_fallback(d, len, SERVER_PW, NULL, &fallback, &error));
	g_assert_true(fallback);
	g_assert_no_error(error);

	/* the empty nonce: never, stored nonce or not */
	d = g_bytes_get_data(with_empty, &len);
	g_assert_false(gw_pkg0_verify_with_fallback(d, len, SERVER_PW, stored, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	g_assert_false(gw_pkg0_verify_with_fallback(d, len, SERVER_PW, NULL, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	g_assert_false(gw_pkg0_verify_with_fallback(d, len, SERVER_PW, empty, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);

	/* malformed stays malformed */
	g_assert_false(gw_pkg0_verify_with_fallback(d, 10, SERVER_PW, stored, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/pkg0/roundtrip", test_pkg0_roundtrip);
	g_test_add_func("/gw/pkg0/defaults", test_pkg0_defaults);
	g_test_add_func("/gw/pkg0/digest-vector", test_pkg0_digest_vector);
	g_test_add_func("/gw/pkg0/forged", test_pkg0_forged);
	g_test_add_func("/gw/pkg0/nonce-fallback", test_pkg0_nonce_fallback);
	g_test_add_func("/gw/pkg0/versions", test_pkg0_versions);
	g_test_add_func("/gw/pkg0/future-bits", test_pkg0_future_bits);
	g_test_add_func("/gw/pkg0/malformed", test_pkg0_malformed);
	g_test_add_func("/gw/pkg0/session-id-string", test_pkg0_session_id_string);
	g_test_add_func("/gw/pkg0/replay-window", test_pkg0_replay_window);
	g_test_add_func("/gw/pkg0/replay-bounded", test_pkg0_replay_bounded);
	return g_test_run();
}
