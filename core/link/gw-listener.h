/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-http-server.h"

G_BEGIN_DECLS

/*
 * The one way the gateway opens a listener (northbound POST /notify, southbound POST /dm and
 * GET /images/): a GwHttpServer with @limits, listening on every URI of @listen (separated by
 * commas or spaces; empty: none). https:// URIs present the gateway's one TLS identity,
 * @cert_path and @key_path (PEM), made on first use (a self-signed ECDSA certificate with CN
 * @common_name, gw_crypto_load_or_create()); it is loaded only when an https:// URI needs it.
 * Handlers are added to the returned server afterwards (connections are served from the main
 * loop).
 */
GwHttpServer *
gw_listener_open(const gchar *listen,
                 const gchar *cert_path,
                 const gchar *key_path,
                 const gchar *common_name,
                 const GwHttpServerLimits *limits,
                 GError **error);

G_END_DECLS
