/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwCrypto"

#include "config.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>

#include "gw-crypto.h"
#include "gw-error.h"

G_DEFINE_AUTO_CLEANUP_FREE_FUNC(gnutls_x509_privkey_t, gnutls_x509_privkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)

static gboolean
gw_crypto_check(int rc, const gchar *what, GError **error)
{
	if (rc >= 0)
		return TRUE;
	g_set_error(error, GW_ERROR, GW_ERROR_FAILED, "%s: %s", what, gnutls_strerror(rc));
	return FALSE;
}

static gboolean
gw_crypto_write_datum(const gchar *path, const gnutls_datum_t *datum, gint mode, GError **error)
{
	return g_file_set_contents_full(path,
	                                (const gchar *)datum->data,
	                                datum->size,
	                                G_FILE_SET_CONTENTS_CONSISTENT,
	                                mode,
	                                error);
}

gboolean
gw_crypto_generate_self_signed(const gchar *cert_path,
                               const gchar *key_path,
                               const gchar *common_name,
                               const gchar *const *dns_names,
                               const gchar *const *ip_addresses,
                               guint days,
                               GError **error)
{
	g_auto(gnutls_x509_privkey_t) key = NULL;
	g_auto(gnutls_x509_crt_t) crt = NULL;
	gnutls_datum_t key_pem = {NULL, 0};
	gnutls_datum_t crt_pem = {NULL, 0};
	guint8 serial[16];
	time_t now = time(NULL);
	gboolean ok;

	g_return_val_if_fail(cert_path != NULL && key_path != NULL, FALSE);
	g_return_val_if_fail(common_name != NULL, FALSE);

	if (!gw_crypto_check(gnutls_x509_privkey_init(&key), "key init", error) ||
	    !gw_crypto_check(
	        gnutls_x509_privkey_generate(
	            key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	        "key generation",
	        error))
		return FALSE;
	if (!gw_crypto_check(gnutls_x509_crt_init(&crt), "certificate init", error))
		return FALSE;
	if (!gw_crypto_check(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)), "serial", error))
		return FALSE;
	serial[0] &= 0x7f; /* a positive INTEGER */
	if (!gw_crypto_check(gnutls_x509_crt_set_version(crt, 3), "version", error) ||
	    !gw_crypto_check(
	        gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "serial", error) ||
	    !gw_crypto_check(
	        gnutls_x509_crt_set_activation_time(crt, now - 3600), "activation", error) ||
	    !gw_crypto_check(gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400),
	                     "expiration",
	                     error) ||
	    !gw_crypto_check(
	        gnutls_x509_crt_set_dn_by_oid(
	            crt, GNUTLS_OID_X520_COMMON_NAME, 0, common_name, strlen(common_name)),
	        "common name",
	        error) ||
	    !gw_crypto_check(gnutls_x509_crt_set_key(crt, key), "public key", error) ||
	    !gw_crypto_check(
	        gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "basic constraints", error) ||
	    !gw_crypto_check(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
	                     "key usage",
	                     error) ||
	    !gw_crypto_check(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
	                     "key purpose",
	                     error) ||
	    !gw_crypto_check(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0),
	                     "key purpose",
	                     error))
		return FALSE;
	for (guint i = 0; dns_names != NULL && dns_names[i] != NULL; i++) {
		if (!gw_crypto_check(gnutls_x509_crt_set_subject_alt_name(crt,
		                                                          GNUTLS_SAN_DNSNAME,
		                                                          dns_names[i],
		                                                          strlen(dns_names[i]),
		                                                          GNUTLS_FSAN_APPEND),
		                     "DNS name",
		                     error))
			return FALSE;
	}
	for (guint i = 0; ip_addresses != NULL && ip_addresses[i] != NULL; i++) {
		guint8 addr[16];
		gsize len = 0;
		if (inet_pton(AF_INET, ip_addresses[i], addr) == 1)
			len = 4;
		else if (inet_pton(AF_INET6, ip_addresses[i], addr) == 1)
			len = 16;
		if (len == 0) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "'%s' is not an IP address",
			            ip_addresses[i]);
			return FALSE;
		}
		if (!gw_crypto_check(gnutls_x509_crt_set_subject_alt_name(
		                         crt, GNUTLS_SAN_IPADDRESS, addr, len, GNUTLS_FSAN_APPEND),
		                     "IP address",
		                     error))
			return FALSE;
	}
	if (!gw_crypto_check(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0),
	                     "self-signature",
	                     error))
		return FALSE;
	if (!gw_crypto_check(gnutls_x509_privkey_export2_pkcs8(
	                         key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &key_pem),
	                     "key export",
	                     error))
		return FALSE;
	if (!gw_crypto_check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &crt_pem),
	                     "certificate export",
	                     error)) {
		gnutls_free(key_pem.data);
		return FALSE;
	}
	ok = gw_crypto_write_datum(key_path, &key_pem, 0600, error) &&
	     gw_crypto_write_datum(cert_path, &crt_pem, 0644, error);
	gnutls_free(key_pem.data);
	gnutls_free(crt_pem.data);
	return ok;
}

GTlsCertificate *
gw_crypto_load_or_create(const gchar *cert_path,
                         const gchar *key_path,
                         const gchar *common_name,
                         GError **error)
{
	gboolean have_cert = g_file_test(cert_path, G_FILE_TEST_EXISTS);
	gboolean have_key = g_file_test(key_path, G_FILE_TEST_EXISTS);

	if (have_cert != have_key) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "%s exists without %s: refusing to replace half a TLS identity",
		            have_cert ? cert_path : key_path,
		            have_cert ? key_path : cert_path);
		return NULL;
	}
	if (!have_cert) {
		const gchar *dns[] = {"localhost", g_get_host_name(), NULL};
		const gchar *ips[] = {"127.0.0.1", "::1", NULL};
		if (!gw_crypto_generate_self_signed(
		        cert_path, key_path, common_name, dns, ips, 3650, error))
			return NULL;
		g_message(
		    "generated a self-signed TLS certificate %s (CN %s)", cert_path, common_name);
	}
	return g_tls_certificate_new_from_files(cert_path, key_path, error);
}

gchar *
gw_crypto_certificate_fingerprint(GTlsCertificate *certificate)
{
	g_autoptr(GByteArray) der = NULL;
	g_autofree gchar *hex = NULL;

	g_object_get(certificate, "certificate", &der, NULL);
	if (der == NULL)
		return NULL;
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
	return g_strdup_printf("sha256:%s", hex);
}
