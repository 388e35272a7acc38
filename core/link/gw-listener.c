/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwHttp"

#include "config.h"

#include "gw-crypto.h"
#include "gw-listener.h"

GwHttpServer *
gw_listener_open(const gchar *listen,
                 const gchar *cert_path,
                 const gchar *key_path,
                 const gchar *common_name,
                 const GwHttpServerLimits *limits,
                 GError **error)
{
	g_auto(GStrv) uris = g_strsplit_set(listen != NULL ? listen : "", ", ", -1);
	g_autoptr(GTlsCertificate) identity = NULL;
	g_autoptr(GwHttpServer) server = NULL;
	gboolean need_tls = FALSE;

	g_return_val_if_fail(cert_path != NULL && key_path != NULL, NULL);
	for (guint i = 0; uris[i] != NULL; i++)
		need_tls |= g_str_has_prefix(uris[i], "https:");
	if (need_tls) {
		identity = gw_crypto_load_or_create(
		    cert_path, key_path, common_name != NULL ? common_name : "gwmod", error);
		if (identity == NULL)
			return NULL;
	}
	server = gw_http_server_new(identity);
	if (limits != NULL)
		gw_http_server_set_limits(server, limits);
	for (guint i = 0; uris[i] != NULL; i++) {
		if (uris[i][0] == '\0')
			continue;
		if (!gw_http_server_listen(server, uris[i], error))
			return NULL;
	}
	return g_steal_pointer(&server);
}
