/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reference End Device's ./Ext/Fetch (B.8, the device side of image distribution): an
 * Exec whose data is a URL (typically an image's LocalURI on the gateway, or the URL the
 * gateway signed for this device). The device GETs it (https trusting --ca-file): a signed URL
 * (…?dev=…&exp=…&sig=…) as it is, any other https URL with HTTP Basic using its own credentials
 * (the ClientName/ClientSecret it presents to its DM server, which are what the gateway's
 * inventory holds for it), never credentials over plain http; it streams the body through
 * SHA-256, and records the outcome in ./Ext/Fetched/{URL,Status,Size,SHA256} (Get) and on
 * stdout ("FETCH <status> <size> <sha256> <url>"). Exec status: 200 when the GET gave 200,
 * 500 otherwise (the Fetched leaves say why). The GET runs synchronously inside the Exec.
 */

#pragma once

#include "gw-dm-tree.h"

/* creates ./Ext/Fetch and its Exec handler; call before any catch-all Exec handler */
gboolean
gw_test_fetch_install(GwDmTree *tree,
                      const gchar *user,
                      const gchar *secret,
                      const gchar *ca_file,
                      GError **error);
