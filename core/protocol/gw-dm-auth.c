/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwAuth"

#include "config.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>
#include <sys/random.h>

#include "gw-dm-auth.h"
#include "gw-error.h"

/* secrets and digests never reach a log call in this file */

typedef struct {
	GwDmAuthType type;
	const gchar *syncml;
	const gchar *aauth;
} GwDmAuthTypeName;

static const GwDmAuthTypeName gw_dm_auth_type_names[] = {
    {GW_DM_AUTH_TYPE_BASIC, "syncml:auth-basic", "BASIC"},
    {GW_DM_AUTH_TYPE_MD5, "syncml:auth-md5", "DIGEST"},
    {GW_DM_AUTH_TYPE_HMAC, "syncml:auth-MAC", "HMAC"},
};

const gchar *
gw_dm_auth_type_to_string(GwDmAuthType type)
{
	for (guint i = 0; i < G_N_ELEMENTS(gw_dm_auth_type_names); i++) {
		if (gw_dm_auth_type_names[i].type == type)
			return gw_dm_auth_type_names[i].syncml;
	}
	return NULL;
}

const gchar *
gw_dm_auth_type_to_aauth_type(GwDmAuthType type)
{
	for (guint i = 0; i < G_N_ELEMENTS(gw_dm_auth_type_names); i++) {
		if (gw_dm_auth_type_names[i].type == type)
			return gw_dm_auth_type_names[i].aauth;
	}
	return NULL;
}

GwDmAuthType
gw_dm_auth_type_from_string(const gchar *str)
{
	g_autofree gchar *tmp = NULL;

	if (str == NULL)
		return GW_DM_AUTH_TYPE_NONE;
	tmp = g_strstrip(g_strdup(str));
	for (guint i = 0; i < G_N_ELEMENTS(gw_dm_auth_type_names); i++) {
		if (g_ascii_strcasecmp(tmp, gw_dm_auth_type_names[i].syncml) == 0 ||
		    g_ascii_strcasecmp(tmp, gw_dm_auth_type_names[i].aauth) == 0)
			return gw_dm_auth_type_names[i].type;
	}
	return GW_DM_AUTH_TYPE_NONE;
}

gboolean
gw_dm_auth_secure_equal(const guint8 *a, const guint8 *b, gsize len)
{
	volatile guint8 diff = 0;

	g_return_val_if_fail(a != NULL || len == 0, FALSE);
	g_return_val_if_fail(b != NULL || len == 0, FALSE);

	for (gsize i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* compares two NUL-terminated texts; only the (public) lengths leak through timing */
static gboolean
gw_dm_auth_secure_streq(const gchar *a, const gchar *b)
{
	gsize la = strlen(a);
	gsize lb = strlen(b);
	if (la != lb)
		return FALSE;
	return gw_dm_auth_secure_equal((const guint8 *)a, (const guint8 *)b, la);
}

static void
gw_dm_auth_checksum_digest(GChecksum *checksum, guint8 out[GW_DM_AUTH_DIGEST_LEN])
{
	gsize len = GW_DM_AUTH_DIGEST_LEN;
	g_checksum_get_digest(checksum, out, &len);
	g_warn_if_fail(len == GW_DM_AUTH_DIGEST_LEN);
}

/* B64(H(data)) */
static gchar *
gw_dm_auth_md5_b64(const guint8 *data, gsize len)
{
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_MD5);
	guint8 digest[GW_DM_AUTH_DIGEST_LEN];

	if (len > 0)
		g_checksum_update(checksum, data, (gssize)len);
	gw_dm_auth_checksum_digest(checksum, digest);
	return g_base64_encode(digest, sizeof(digest));
}

/* B64(H(user ":" password)) */
static gchar *
gw_dm_auth_cred_b64(const gchar *user, const gchar *password)
{
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_MD5);
	guint8 digest[GW_DM_AUTH_DIGEST_LEN];
	gchar *result;

	g_checksum_update(checksum, (const guchar *)user, (gssize)strlen(user));
	g_checksum_update(checksum, (const guchar *)":", 1);
	g_checksum_update(checksum, (const guchar *)password, (gssize)strlen(password));
	gw_dm_auth_checksum_digest(checksum, digest);
	result = g_base64_encode(digest, sizeof(digest));
	memset(digest, 0, sizeof(digest));
	return result;
}

gchar *
gw_dm_auth_basic_encode(const gchar *user, const gchar *password)
{
	g_autofree gchar *plain = NULL;
	gchar *result;

	g_return_val_if_fail(user != NULL, NULL);
	g_return_val_if_fail(password != NULL, NULL);

	plain = g_strconcat(user, ":", password, NULL);
	result = g_base64_encode((const guchar *)plain, strlen(plain));
	memset(plain, 0, strlen(plain));
	return result;
}

static gboolean
gw_dm_auth_is_strict_base64(const gchar *s, gsize len)
{
	if (len == 0 || len % 4 != 0)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		gchar c = s[i];
		if (g_ascii_isalnum(c) || c == '+' || c == '/')
			continue;
		/* '=' only as one or two trailing pad characters */
		if (c == '=' && (i == len - 1 || (i == len - 2 && s[len - 1] == '=')))
			continue;
		return FALSE;
	}
	return TRUE;
}

gboolean
gw_dm_auth_basic_decode(const gchar *b64, gchar **user, gchar **password, GError **error)
{
	g_autofree gchar *text = NULL;
	g_autofree guchar *plain = NULL;
	gsize plain_len = 0;
	const gchar *colon;
	gboolean ok;

	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (b64 == NULL) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_PROTOCOL, "no basic credentials");
		return FALSE;
	}
	text = g_strstrip(g_strdup(b64));
	if (!gw_dm_auth_is_strict_base64(text, strlen(text))) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "basic credentials are not valid base64");
		return FALSE;
	}
	plain = g_base64_decode(text, &plain_len);
	ok = plain_len > 0 && memchr(plain, '\0', plain_len) == NULL &&
	     g_utf8_validate((const gchar *)plain, (gssize)plain_len, NULL);
	colon = ok ? memchr(plain, ':', plain_len) : NULL;
	if (colon == NULL) {
		memset(plain, 0, plain_len);
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_PROTOCOL,
		                    ok ? "basic credentials have no ':' separator"
		                       : "basic credentials are not UTF-8 text");
		return FALSE;
	}
	if (user != NULL)
		*user = g_strndup((const gchar *)plain, (gsize)(colon - (const gchar *)plain));
	if (password != NULL)
		*password =
		    g_strndup(colon + 1, plain_len - (gsize)(colon - (const gchar *)plain) - 1);
	memset(plain, 0, plain_len);
	return TRUE;
}

gchar *
gw_dm_auth_md5_digest(const gchar *user,
                      const gchar *password,
                      const guint8 *nonce,
                      gsize nonce_len)
{
	g_autofree gchar *cred = NULL;
	g_autoptr(GChecksum) checksum = NULL;
	guint8 digest[GW_DM_AUTH_DIGEST_LEN];

	g_return_val_if_fail(user != NULL, NULL);
	g_return_val_if_fail(password != NULL, NULL);
	g_return_val_if_fail(nonce != NULL || nonce_len == 0, NULL);

	cred = gw_dm_auth_cred_b64(user, password);
	checksum = g_checksum_new(G_CHECKSUM_MD5);
	g_checksum_update(checksum, (const guchar *)cred, (gssize)strlen(cred));
	g_checksum_update(checksum, (const guchar *)":", 1);
	if (nonce_len > 0)
		g_checksum_update(checksum, nonce, (gssize)nonce_len);
	gw_dm_auth_checksum_digest(checksum, digest);
	return g_base64_encode(digest, sizeof(digest));
}

gboolean
gw_dm_auth_md5_verify(const gchar *cred_b64,
                      const gchar *user,
                      const gchar *password,
                      const guint8 *nonce,
                      gsize nonce_len)
{
	g_autofree gchar *expected = NULL;
	g_autofree gchar *given = NULL;

	g_return_val_if_fail(nonce != NULL || nonce_len == 0, FALSE);

	if (cred_b64 == NULL || user == NULL || password == NULL)
		return FALSE;
	expected = gw_dm_auth_md5_digest(user, password, nonce, nonce_len);
	given = g_strstrip(g_strdup(cred_b64));
	return gw_dm_auth_secure_streq(given, expected);
}

void
gw_dm_auth_hmac_compute_raw(const gchar *user,
                            const gchar *password,
                            const guint8 *nonce,
                            gsize nonce_len,
                            const guint8 *body,
                            gsize body_len,
                            guint8 out[GW_DM_AUTH_DIGEST_LEN])
{
	g_autofree gchar *cred = NULL;
	g_autofree gchar *body_b64 = NULL;
	g_autoptr(GChecksum) checksum = NULL;

	g_return_if_fail(user != NULL);
	g_return_if_fail(password != NULL);
	g_return_if_fail(nonce != NULL || nonce_len == 0);
	g_return_if_fail(body != NULL || body_len == 0);
	g_return_if_fail(out != NULL);

	cred = gw_dm_auth_cred_b64(user, password);
	body_b64 = gw_dm_auth_md5_b64(body, body_len);
	checksum = g_checksum_new(G_CHECKSUM_MD5);
	g_checksum_update(checksum, (const guchar *)cred, (gssize)strlen(cred));
	g_checksum_update(checksum, (const guchar *)":", 1);
	if (nonce_len > 0)
		g_checksum_update(checksum, nonce, (gssize)nonce_len);
	g_checksum_update(checksum, (const guchar *)":", 1);
	g_checksum_update(checksum, (const guchar *)body_b64, (gssize)strlen(body_b64));
	gw_dm_auth_checksum_digest(checksum, out);
}

gchar *
gw_dm_auth_hmac_compute(const gchar *user,
                        const gchar *password,
                        const guint8 *nonce,
                        gsize nonce_len,
                        const guint8 *body,
                        gsize body_len)
{
	guint8 digest[GW_DM_AUTH_DIGEST_LEN];

	g_return_val_if_fail(user != NULL, NULL);
	g_return_val_if_fail(password != NULL, NULL);
	g_return_val_if_fail(nonce != NULL || nonce_len == 0, NULL);
	g_return_val_if_fail(body != NULL || body_len == 0, NULL);

	gw_dm_auth_hmac_compute_raw(user, password, nonce, nonce_len, body, body_len, digest);
	return g_base64_encode(digest, sizeof(digest));
}

gchar *
gw_dm_auth_hmac_header(const gchar *user, const gchar *mac)
{
	GString *str;

	g_return_val_if_fail(user != NULL, NULL);
	g_return_val_if_fail(mac != NULL, NULL);

	str = g_string_new("algorithm=MD5, username=\"");
	for (const gchar *p = user; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(str, '\\');
		g_string_append_c(str, *p);
	}
	g_string_append(str, "\", mac=");
	g_string_append(str, mac);
	return g_string_free(str, FALSE);
}

static gboolean
gw_dm_auth_is_ws(gchar c)
{
	return c == ' ' || c == '\t';
}

static gboolean
gw_dm_auth_is_name_char(gchar c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* reads a plain or quoted value at *pp; on success *pp points after it */
static gchar *
gw_dm_auth_read_value(const gchar **pp, GError **error)
{
	const gchar *p = *pp;
	g_autoptr(GString) value = g_string_new(NULL);

	if (*p == '"') {
		p++;
		for (;;) {
			if (*p == '\0') {
				g_set_error_literal(error,
				                    GW_ERROR,
				                    GW_ERROR_PROTOCOL,
				                    "unterminated quoted string in HMAC header");
				return NULL;
			}
			if (*p == '"') {
				p++;
				break;
			}
			if (*p == '\\' && p[1] != '\0')
				p++;
			g_string_append_c(value, *p);
			p++;
		}
	} else {
		while (*p != '\0' && *p != ',' && !gw_dm_auth_is_ws(*p)) {
			if (*p == '"') {
				g_set_error_literal(error,
				                    GW_ERROR,
				                    GW_ERROR_PROTOCOL,
				                    "stray quote in HMAC header");
				return NULL;
			}
			g_string_append_c(value, *p);
			p++;
		}
	}
	*pp = p;
	return g_string_free(g_steal_pointer(&value), FALSE);
}

gboolean
gw_dm_auth_hmac_parse_header(const gchar *value,
                             gchar **algorithm,
                             gchar **username,
                             gchar **mac,
                             GError **error)
{
	g_autofree gchar *alg_v = NULL;
	g_autofree gchar *user_v = NULL;
	g_autofree gchar *mac_v = NULL;
	const gchar *p = value;

	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (value == NULL) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_PROTOCOL, "no HMAC header");
		return FALSE;
	}
	while (*p != '\0') {
		const gchar *name_start;
		g_autofree gchar *name = NULL;
		g_autofree gchar *val = NULL;
		gchar **slot = NULL;

		while (gw_dm_auth_is_ws(*p))
			p++;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		name_start = p;
		while (gw_dm_auth_is_name_char(*p))
			p++;
		if (p == name_start) {
			g_set_error_literal(error,
			                    GW_ERROR,
			                    GW_ERROR_PROTOCOL,
			                    "HMAC header: parameter name expected");
			return FALSE;
		}
		name = g_strndup(name_start, (gsize)(p - name_start));
		while (gw_dm_auth_is_ws(*p))
			p++;
		if (*p != '=') {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "HMAC header: '=' expected after '%s'",
			            name);
			return FALSE;
		}
		p++;
		while (gw_dm_auth_is_ws(*p))
			p++;
		val = gw_dm_auth_read_value(&p, error);
		if (val == NULL)
			return FALSE;
		while (gw_dm_auth_is_ws(*p))
			p++;
		if (*p != ',' && *p != '\0') {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "HMAC header: ',' expected after the value of '%s'",
			            name);
			return FALSE;
		}

		if (g_ascii_strcasecmp(name, "algorithm") == 0)
			slot = &alg_v;
		else if (g_ascii_strcasecmp(name, "username") == 0)
			slot = &user_v;
		else if (g_ascii_strcasecmp(name, "mac") == 0)
			slot = &mac_v;
		if (slot == NULL) {
			g_debug("ignoring unknown HMAC header parameter '%s'", name);
			continue;
		}
		if (*slot != NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "HMAC header: duplicated parameter '%s'",
			            name);
			return FALSE;
		}
		*slot = g_steal_pointer(&val);
	}

	if (user_v == NULL || user_v[0] == '\0') {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "HMAC header: username missing");
		return FALSE;
	}
	if (mac_v == NULL || mac_v[0] == '\0') {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_PROTOCOL, "HMAC header: mac missing");
		return FALSE;
	}
	if (alg_v != NULL && g_ascii_strcasecmp(alg_v, "MD5") != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "HMAC header: unsupported algorithm '%s'",
		            alg_v);
		return FALSE;
	}
	if (algorithm != NULL)
		*algorithm = g_strdup("MD5");
	if (username != NULL)
		*username = g_steal_pointer(&user_v);
	if (mac != NULL)
		*mac = g_steal_pointer(&mac_v);
	return TRUE;
}

gboolean
gw_dm_auth_hmac_verify(const gchar *header_value,
                       const gchar *user,
                       const gchar *password,
                       const guint8 *nonce,
                       gsize nonce_len,
                       const guint8 *body,
                       gsize body_len,
                       GError **error)
{
	g_autofree gchar *username = NULL;
	g_autofree gchar *mac = NULL;
	g_autofree gchar *expected = NULL;

	g_return_val_if_fail(user != NULL, FALSE);
	g_return_val_if_fail(password != NULL, FALSE);
	g_return_val_if_fail(nonce != NULL || nonce_len == 0, FALSE);
	g_return_val_if_fail(body != NULL || body_len == 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!gw_dm_auth_hmac_parse_header(header_value, NULL, &username, &mac, error))
		return FALSE;
	expected = gw_dm_auth_hmac_compute(user, password, nonce, nonce_len, body, body_len);
	/* evaluate both checks so the timing does not tell which one failed */
	if (!(gw_dm_auth_secure_streq(mac, expected) & (g_strcmp0(username, user) == 0))) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_AUTH_FAILED, "HMAC of the message does not match");
		return FALSE;
	}
	return TRUE;
}

GBytes *
gw_dm_auth_new_nonce(void)
{
	guint8 buf[GW_DM_AUTH_NONCE_LEN];
	gint rc = gnutls_rnd(GNUTLS_RND_NONCE, buf, sizeof(buf));

	if (rc != 0) {
		gssize n;
		g_warning("gnutls_rnd failed: %s; using getrandom()", gnutls_strerror(rc));
		do {
			n = getrandom(buf, sizeof(buf), 0);
		} while (n < 0 && errno == EINTR);
		if (n != (gssize)sizeof(buf)) {
			g_warning("no randomness available for a nonce");
			return NULL;
		}
	}
	return g_bytes_new(buf, sizeof(buf));
}
