/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SyncML DM authentication (OMA-DM.md §1.2.4).
 * GwMO-SECACATE-001 (authentication): basic/md5 credentials are built and checked.
 * GwMO-SECDI-001 (HMAC integrity): x-syncml-hmac is computed, parsed and verified; a
 * tampered body is refused.
 */

#include "config.h"

#include <string.h>

#include "gw-dm-auth.h"
#include "gw-error.h"

#define USER "gwuser"
#define PASS "gw-secret"
#define BODY "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr/></SyncML>"

/* 16 bytes: 01 02 03 04 "nonce-16byte" */
static const guint8 nonce[] =
    {0x01, 0x02, 0x03, 0x04, 'n', 'o', 'n', 'c', 'e', '-', '1', '6', 'b', 'y', 't', 'e'};

static gchar *
md5_b64(const gchar *data, gsize len)
{
	g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_MD5);
	guint8 digest[16];
	gsize dlen = sizeof(digest);
	g_checksum_update(c, (const guchar *)data, (gssize)len);
	g_checksum_get_digest(c, digest, &dlen);
	g_assert_cmpuint(dlen, ==, 16);
	return g_base64_encode(digest, dlen);
}

static void
test_auth_types(void)
{
	g_assert_cmpstr(gw_dm_auth_type_to_string(GW_DM_AUTH_TYPE_BASIC), ==, "syncml:auth-basic");
	g_assert_cmpstr(gw_dm_auth_type_to_string(GW_DM_AUTH_TYPE_MD5), ==, "syncml:auth-md5");
	g_assert_cmpstr(gw_dm_auth_type_to_string(GW_DM_AUTH_TYPE_HMAC), ==, "syncml:auth-MAC");
	g_assert_null(gw_dm_auth_type_to_string(GW_DM_AUTH_TYPE_NONE));
	g_assert_cmpint(
	    gw_dm_auth_type_from_string("syncml:auth-basic"), ==, GW_DM_AUTH_TYPE_BASIC);
	g_assert_cmpint(gw_dm_auth_type_from_string("syncml:auth-md5"), ==, GW_DM_AUTH_TYPE_MD5);
	g_assert_cmpint(gw_dm_auth_type_from_string("syncml:auth-MAC"), ==, GW_DM_AUTH_TYPE_HMAC);
	g_assert_cmpint(gw_dm_auth_type_from_string("syncml:auth-mac"), ==, GW_DM_AUTH_TYPE_HMAC);
	g_assert_cmpint(gw_dm_auth_type_from_string(" BASIC "), ==, GW_DM_AUTH_TYPE_BASIC);
	g_assert_cmpint(gw_dm_auth_type_from_string("DIGEST"), ==, GW_DM_AUTH_TYPE_MD5);
	g_assert_cmpint(gw_dm_auth_type_from_string("HMAC"), ==, GW_DM_AUTH_TYPE_HMAC);
	g_assert_cmpint(gw_dm_auth_type_from_string("HTTP-DIGEST"), ==, GW_DM_AUTH_TYPE_NONE);
	g_assert_cmpint(gw_dm_auth_type_from_string("X509"), ==, GW_DM_AUTH_TYPE_NONE);
	g_assert_cmpint(gw_dm_auth_type_from_string(""), ==, GW_DM_AUTH_TYPE_NONE);
	g_assert_cmpint(gw_dm_auth_type_from_string(NULL), ==, GW_DM_AUTH_TYPE_NONE);
	g_assert_cmpstr(gw_dm_auth_type_to_aauth_type(GW_DM_AUTH_TYPE_MD5), ==, "DIGEST");
	g_assert_cmpstr(gw_dm_auth_type_to_aauth_type(GW_DM_AUTH_TYPE_BASIC), ==, "BASIC");
	g_assert_cmpstr(gw_dm_auth_type_to_aauth_type(GW_DM_AUTH_TYPE_HMAC), ==, "HMAC");
}

static void
assert_basic(const gchar *b64, const gchar *user, const gchar *password)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *u = NULL;
	g_autofree gchar *p = NULL;
	g_assert_true(gw_dm_auth_basic_decode(b64, &u, &p, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(u, ==, user);
	g_assert_cmpstr(p, ==, password);
}

static void
assert_basic_bad(const gchar *b64)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *u = NULL;
	g_autofree gchar *p = NULL;
	g_assert_false(gw_dm_auth_basic_decode(b64, &u, &p, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_null(u);
	g_assert_null(p);
}

/* GwMO-SECACATE-001 */
static void
test_auth_basic(void)
{
	g_autofree gchar *b1 = gw_dm_auth_basic_encode("user", "pass");
	g_autofree gchar *b2 = gw_dm_auth_basic_encode("funambol", "pa:ss:w0rd");
	g_autofree gchar *b3 = gw_dm_auth_basic_encode("", "");
	g_autofree gchar *b4 = gw_dm_auth_basic_encode("üser", "päss");

	g_assert_cmpstr(b1, ==, "dXNlcjpwYXNz"); /* RFC 7617 style, by hand */
	assert_basic(b1, "user", "pass");
	assert_basic(b2, "funambol", "pa:ss:w0rd");
	assert_basic(b3, "", "");
	assert_basic(b4, "üser", "päss");
	assert_basic("  dXNlcjpwYXNz\r\n", "user", "pass");
	assert_basic("dXNlcjo=", "user", ""); /* "user:" */

	assert_basic_bad(NULL);
	assert_basic_bad("");
	assert_basic_bad("!!!!");
	assert_basic_bad("dXNlcjpwYXNz="); /* bad length */
	assert_basic_bad("dXNl cjpwYXNz"); /* space inside */
	assert_basic_bad("dXNlcjpw=XNz");  /* '=' inside */
	assert_basic_bad("dXNlcg==");      /* "user": no colon */
	assert_basic_bad("/w==");          /* 0xff: not UTF-8 */
	assert_basic_bad("dQA6cA==");      /* "u\0:p": NUL */
}

/* B64(H(B64(H(user:password)):nonce)) written out step by step */
static gchar *
expected_md5(const gchar *user, const gchar *password, const guint8 *n, gsize n_len)
{
	g_autofree gchar *up = g_strconcat(user, ":", password, NULL);
	g_autofree gchar *s1 = md5_b64(up, strlen(up));
	g_autoptr(GByteArray) inner = g_byte_array_new();
	g_byte_array_append(inner, (const guint8 *)s1, (guint)strlen(s1));
	g_byte_array_append(inner, (const guint8 *)":", 1);
	g_byte_array_append(inner, n, (guint)n_len);
	return md5_b64((const gchar *)inner->data, inner->len);
}

/* GwMO-SECACATE-001 */
static void
test_auth_md5(void)
{
	g_autofree gchar *digest = gw_dm_auth_md5_digest(USER, PASS, nonce, sizeof(nonce));
	g_autofree gchar *expected = expected_md5(USER, PASS, nonce, sizeof(nonce));
	g_autofree gchar *empty_nonce = gw_dm_auth_md5_digest(USER, PASS, NULL, 0);
	g_autofree gchar *empty_expected = expected_md5(USER, PASS, NULL, 0);
	g_autofree gchar *padded = NULL;

	g_assert_cmpstr(digest, ==, expected);
	/* same vector from Python hashlib/base64 */
	g_assert_cmpstr(digest, ==, "A9G6yfxjhs0tAI7ZHcwj7Q==");
	g_assert_cmpstr(empty_nonce, ==, empty_expected);
	g_assert_cmpstr(empty_nonce, !=, digest);

	g_assert_true(gw_dm_auth_md5_verify(digest, USER, PASS, nonce, sizeof(nonce)));
	padded = g_strdup_printf(" %s\n", digest);
	g_assert_true(gw_dm_auth_md5_verify(padded, USER, PASS, nonce, sizeof(nonce)));
	g_assert_false(gw_dm_auth_md5_verify(digest, USER, "gw-secreT", nonce, sizeof(nonce)));
	g_assert_false(gw_dm_auth_md5_verify(digest, "gwuseR", PASS, nonce, sizeof(nonce)));
	g_assert_false(gw_dm_auth_md5_verify(digest, USER, PASS, nonce, sizeof(nonce) - 1));
	g_assert_false(gw_dm_auth_md5_verify(digest, USER, PASS, NULL, 0));
	g_assert_false(gw_dm_auth_md5_verify("", USER, PASS, nonce, sizeof(nonce)));
	g_assert_false(gw_dm_auth_md5_verify("A9G6yfxjhs0tAI7ZHcwj7Q", USER, PASS, nonce, 16));
	g_assert_false(gw_dm_auth_md5_verify("B9G6yfxjhs0tAI7ZHcwj7Q==", USER, PASS, nonce, 16));
	g_assert_false(gw_dm_auth_md5_verify(NULL, USER, PASS, nonce, sizeof(nonce)));
}

/* B64(H(B64(H(user:password)):nonce:B64(H(body)))) written out step by step */
static gchar *
expected_hmac(const gchar *user,
              const gchar *password,
              const guint8 *n,
              gsize n_len,
              const gchar *body,
              gsize body_len)
{
	g_autofree gchar *up = g_strconcat(user, ":", password, NULL);
	g_autofree gchar *s1 = md5_b64(up, strlen(up));
	g_autofree gchar *s3 = md5_b64(body, body_len);
	g_autoptr(GByteArray) inner = g_byte_array_new();
	g_byte_array_append(inner, (const guint8 *)s1, (guint)strlen(s1));
	g_byte_array_append(inner, (const guint8 *)":", 1);
	g_byte_array_append(inner, n, (guint)n_len);
	g_byte_array_append(inner, (const guint8 *)":", 1);
	g_byte_array_append(inner, (const guint8 *)s3, (guint)strlen(s3));
	return md5_b64((const gchar *)inner->data, inner->len);
}

/* GwMO-SECDI-001 */
static void
test_auth_hmac_compute(void)
{
	g_autofree gchar *mac = gw_dm_auth_hmac_compute(
	    USER, PASS, nonce, sizeof(nonce), (const guint8 *)BODY, strlen(BODY));
	g_autofree gchar *expected =
	    expected_hmac(USER, PASS, nonce, sizeof(nonce), BODY, strlen(BODY));
	g_autofree gchar *empty = gw_dm_auth_hmac_compute(USER, PASS, NULL, 0, NULL, 0);
	g_autofree gchar *empty_expected = expected_hmac(USER, PASS, NULL, 0, "", 0);
	guint8 raw[GW_DM_AUTH_DIGEST_LEN];
	g_autofree gchar *raw_b64 = NULL;

	g_assert_cmpstr(mac, ==, expected);
	/* same vector from Python hashlib/base64 */
	g_assert_cmpstr(mac, ==, "H8xH/GwVk7ZTWVuVNqz0KA==");
	g_assert_cmpstr(empty, ==, empty_expected);
	gw_dm_auth_hmac_compute_raw(
	    USER, PASS, nonce, sizeof(nonce), (const guint8 *)BODY, strlen(BODY), raw);
	raw_b64 = g_base64_encode(raw, sizeof(raw));
	g_assert_cmpstr(raw_b64, ==, mac);
}

static void
assert_header(const gchar *value, const gchar *user, const gchar *mac)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *a = NULL;
	g_autofree gchar *u = NULL;
	g_autofree gchar *m = NULL;
	g_assert_true(gw_dm_auth_hmac_parse_header(value, &a, &u, &m, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(a, ==, "MD5");
	g_assert_cmpstr(u, ==, user);
	g_assert_cmpstr(m, ==, mac);
}

static void
assert_header_bad(const gchar *value, gint code)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *a = NULL;
	g_autofree gchar *u = NULL;
	g_autofree gchar *m = NULL;
	g_assert_false(gw_dm_auth_hmac_parse_header(value, &a, &u, &m, &error));
	g_assert_error(error, GW_ERROR, code);
	g_assert_null(a);
	g_assert_null(u);
	g_assert_null(m);
}

/* GwMO-SECDI-001 */
static void
test_auth_hmac_header(void)
{
	const gchar *mac = "H8xH/GwVk7ZTWVuVNqz0KA==";
	g_autofree gchar *h = gw_dm_auth_hmac_header(USER, mac);
	g_autofree gchar *hq = gw_dm_auth_hmac_header("we\"ird\\user", mac);

	g_assert_cmpstr(h, ==, "algorithm=MD5, username=\"gwuser\", mac=H8xH/GwVk7ZTWVuVNqz0KA==");
	assert_header(h, USER, mac);
	assert_header(hq, "we\"ird\\user", mac);

	/* orders, spaces, quoting, case */
	assert_header(
	    "mac=H8xH/GwVk7ZTWVuVNqz0KA==, username=\"gwuser\", algorithm=MD5", USER, mac);
	assert_header("username=gwuser,mac=H8xH/GwVk7ZTWVuVNqz0KA==", USER, mac);
	assert_header(
	    "  algorithm = md5 ,username = \"gwuser\" ,  mac = \"H8xH/GwVk7ZTWVuVNqz0KA==\" ",
	    USER,
	    mac);
	assert_header(
	    "Algorithm=MD5, UserName=\"gwuser\", MAC=H8xH/GwVk7ZTWVuVNqz0KA==", USER, mac);
	assert_header("username=\"gw user\", mac=H8xH/GwVk7ZTWVuVNqz0KA==", "gw user", mac);
	assert_header("username=gwuser, x-extra=1, mac=H8xH/GwVk7ZTWVuVNqz0KA==,", USER, mac);

	/* missing / empty mandatory parameters */
	assert_header_bad("algorithm=MD5, username=\"gwuser\"", GW_ERROR_PROTOCOL);
	assert_header_bad("algorithm=MD5, mac=H8xH/GwVk7ZTWVuVNqz0KA==", GW_ERROR_PROTOCOL);
	assert_header_bad("username=\"\", mac=H8xH/GwVk7ZTWVuVNqz0KA==", GW_ERROR_PROTOCOL);
	assert_header_bad("username=gwuser, mac=", GW_ERROR_PROTOCOL);
	assert_header_bad("", GW_ERROR_PROTOCOL);
	assert_header_bad(NULL, GW_ERROR_PROTOCOL);
	/* syntax */
	assert_header_bad("username=\"gwuser, mac=abc", GW_ERROR_PROTOCOL);
	assert_header_bad("username gwuser, mac=abc", GW_ERROR_PROTOCOL);
	assert_header_bad("username=gw user, mac=abc", GW_ERROR_PROTOCOL);
	assert_header_bad("=x, username=gwuser, mac=abc", GW_ERROR_PROTOCOL);
	assert_header_bad("username=a, username=b, mac=abc", GW_ERROR_PROTOCOL);
	assert_header_bad("username=gw\"user, mac=abc", GW_ERROR_PROTOCOL);
	/* unknown algorithm */
	assert_header_bad("algorithm=SHA-256, username=gwuser, mac=abc", GW_ERROR_NOT_SUPPORTED);
	assert_header_bad("algorithm=\"\", username=gwuser, mac=abc", GW_ERROR_NOT_SUPPORTED);
}

/* GwMO-SECDI-001 */
static void
test_auth_hmac_verify(void)
{
	g_autofree gchar *mac = gw_dm_auth_hmac_compute(
	    USER, PASS, nonce, sizeof(nonce), (const guint8 *)BODY, strlen(BODY));
	g_autofree gchar *header = gw_dm_auth_hmac_header(USER, mac);
	g_autofree gchar *other_user = gw_dm_auth_hmac_header("intruder", mac);
	g_autofree gchar *tampered = g_strdup(BODY);
	g_autoptr(GError) error = NULL;

	g_assert_true(gw_dm_auth_hmac_verify(
	    header, USER, PASS, nonce, sizeof(nonce), (const guint8 *)BODY, strlen(BODY), &error));
	g_assert_no_error(error);

	/* one character of the body changed */
	tampered[10] ^= 0x01;
	g_assert_false(gw_dm_auth_hmac_verify(header,
	                                      USER,
	                                      PASS,
	                                      nonce,
	                                      sizeof(nonce),
	                                      (const guint8 *)tampered,
	                                      strlen(tampered),
	                                      &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	/* body truncated by one byte */
	g_assert_false(gw_dm_auth_hmac_verify(header,
	                                      USER,
	                                      PASS,
	                                      nonce,
	                                      sizeof(nonce),
	                                      (const guint8 *)BODY,
	                                      strlen(BODY) - 1,
	                                      &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	/* wrong password, wrong nonce, other username in the header */
	g_assert_false(gw_dm_auth_hmac_verify(header,
	                                      USER,
	                                      "nope",
	                                      nonce,
	                                      sizeof(nonce),
	                                      (const guint8 *)BODY,
	                                      strlen(BODY),
	                                      &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	g_assert_false(gw_dm_auth_hmac_verify(
	    header, USER, PASS, nonce, 8, (const guint8 *)BODY, strlen(BODY), &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	g_assert_false(gw_dm_auth_hmac_verify(other_user,
	                                      USER,
	                                      PASS,
	                                      nonce,
	                                      sizeof(nonce),
	                                      (const guint8 *)BODY,
	                                      strlen(BODY),
	                                      &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_clear_error(&error);
	/* malformed header: a syntax error, not an auth failure */
	g_assert_false(gw_dm_auth_hmac_verify("username=gwuser",
	                                      USER,
	                                      PASS,
	                                      nonce,
	                                      sizeof(nonce),
	                                      (const guint8 *)BODY,
	                                      strlen(BODY),
	                                      &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
}

static void
test_auth_secure_equal(void)
{
	const guint8 a[] = {1, 2, 3, 4};
	const guint8 b[] = {1, 2, 3, 5};
	g_assert_true(gw_dm_auth_secure_equal(a, a, sizeof(a)));
	g_assert_false(gw_dm_auth_secure_equal(a, b, sizeof(a)));
	g_assert_true(gw_dm_auth_secure_equal(a, b, 3));
	g_assert_true(gw_dm_auth_secure_equal(NULL, NULL, 0));
}

static void
test_auth_nonce(void)
{
	g_autoptr(GBytes) n1 = gw_dm_auth_new_nonce();
	g_autoptr(GBytes) n2 = gw_dm_auth_new_nonce();
	g_assert_nonnull(n1);
	g_assert_nonnull(n2);
	g_assert_cmpuint(g_bytes_get_size(n1), ==, 16);
	g_assert_cmpuint(g_bytes_get_size(n2), ==, 16);
	g_assert_false(g_bytes_equal(n1, n2));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dm-auth/types", test_auth_types);
	g_test_add_func("/gw/dm-auth/basic", test_auth_basic);
	g_test_add_func("/gw/dm-auth/md5", test_auth_md5);
	g_test_add_func("/gw/dm-auth/hmac-compute", test_auth_hmac_compute);
	g_test_add_func("/gw/dm-auth/hmac-header", test_auth_hmac_header);
	g_test_add_func("/gw/dm-auth/hmac-verify", test_auth_hmac_verify);
	g_test_add_func("/gw/dm-auth/secure-equal", test_auth_secure_equal);
	g_test_add_func("/gw/dm-auth/nonce", test_auth_nonce);
	return g_test_run();
}
