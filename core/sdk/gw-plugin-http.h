/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-plugin.h"

G_BEGIN_DECLS

/*
 * The HTTP seam: a plugin serves a path of the gateway's southbound listener (the one End
 * Devices reach: http and https, the gateway's own TLS certificate), for protocols whose
 * devices call in (TR-069's CPEs POST to their ACS).
 *
 * The listener's own bounds apply before a plugin sees a request: the body size limit, the
 * body budget, the header and body deadlines, the per-peer connection limits ([http] and
 * [southbound] in gwmod.conf). A handler only ever gets a request whose whole body was read
 * within them; a plugin cannot widen them. No libsoup type crosses the seam.
 *
 * Everything here runs on the gateway's main thread.
 *
 * Since: 1.0
 */

typedef struct _GwPluginHttpRequest GwPluginHttpRequest;

/*
 * Called once the whole body is read. Answer with gw_plugin_http_request_respond(), now or
 * later (keep a reference: gw_plugin_http_request_ref()); the listener gives up on an
 * answer after its handler deadline ([http] handler-ms). A request whose last reference goes
 * unanswered is answered 500.
 */
typedef void (*GwPluginHttpHandler)(GwPlugin *plugin,
                                    GwPluginHttpRequest *request,
                                    gpointer user_data);

/*
 * Serves @path ("/cwmp"; a prefix when it ends in "/": "/cwmp/") on the southbound listener,
 * from now until the plugin is shut down. Refused with @error (GW_ERROR_INVALID_ARGS) when
 * @path is not an absolute path of plain segments, and (GW_ERROR_ALREADY_EXISTS) when it is,
 * contains or lies below a path of the gateway's own (/dm, /images/, /bootstrap, …) or of
 * another plugin. GW_ERROR_NOT_SUPPORTED when the gateway has no listener for plugins.
 * Call it from startup().
 */
gboolean
gw_plugin_add_http_handler(GwPlugin *self,
                           const gchar *path,
                           GwPluginHttpHandler handler,
                           gpointer user_data,
                           GDestroyNotify destroy,
                           GError **error);
/*
 * The URLs a peer reaches @path at ("https://192.0.2.1:7443/cwmp"), NULL-terminated (free
 * with g_strfreev); empty until the listener is up (after startup() returned).
 */
gchar **
gw_plugin_get_http_uris(GwPlugin *self, const gchar *path);

GwPluginHttpRequest *
gw_plugin_http_request_ref(GwPluginHttpRequest *request);
void
gw_plugin_http_request_unref(GwPluginHttpRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwPluginHttpRequest, gw_plugin_http_request_unref)

/* "POST", "GET", … */
const gchar *
gw_plugin_http_request_get_method(GwPluginHttpRequest *request);
/* the request's path, without its query */
const gchar *
gw_plugin_http_request_get_path(GwPluginHttpRequest *request);
/* a request header (case-insensitive name), nullable */
const gchar *
gw_plugin_http_request_get_header(GwPluginHttpRequest *request, const gchar *name);
/* the whole body (empty, never NULL) */
GBytes *
gw_plugin_http_request_get_body(GwPluginHttpRequest *request);
/* the peer's address ("192.0.2.7") */
const gchar *
gw_plugin_http_request_get_remote_host(GwPluginHttpRequest *request);
/* TRUE when the request came over TLS (https) */
gboolean
gw_plugin_http_request_is_tls(GwPluginHttpRequest *request);
/* TRUE once the answer cannot reach the peer any more (it left, or the listener gave up) */
gboolean
gw_plugin_http_request_is_closed(GwPluginHttpRequest *request);

/* a response header; a name may be added more than once (Set-Cookie, WWW-Authenticate) */
void
gw_plugin_http_request_add_header(GwPluginHttpRequest *request,
                                  const gchar *name,
                                  const gchar *value);
/* the answer, once (twice is a programmer error); @body nullable (204, 401) */
void
gw_plugin_http_request_respond(GwPluginHttpRequest *request,
                               guint status,
                               const gchar *content_type,
                               GBytes *body);

G_END_DECLS
