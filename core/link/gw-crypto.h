/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The gateway's own TLS identity. Everything that needs GnuTLS directly lives here; the rest of
 * gwmo uses TLS through GIO (glib-networking, itself GnuTLS).
 */

/* writes a new ECDSA P-256 key (PKCS#8 PEM, mode 0600) and a self-signed X.509 v3 certificate
 * (PEM, mode 0644) with CN @common_name, the given DNS names and IP addresses as SANs, usable
 * as TLS server and client certificate, valid @days days. Files are written atomically. */
gboolean
gw_crypto_generate_self_signed(const gchar *cert_path,
                               const gchar *key_path,
                               const gchar *common_name,
                               const gchar *const *dns_names,
                               const gchar *const *ip_addresses,
                               guint days,
                               GError **error);

/* loads the certificate+key; when neither file exists, generates them first (CN @common_name,
 * SANs localhost, 127.0.0.1, ::1 and the host name). One file without the other is an error. */
GTlsCertificate *
gw_crypto_load_or_create(const gchar *cert_path,
                         const gchar *key_path,
                         const gchar *common_name,
                         GError **error);

/* "sha256:<hex>" of the certificate's DER bytes */
gchar *
gw_crypto_certificate_fingerprint(GTlsCertificate *certificate);

G_END_DECLS
