/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-http-server.h"
#include "gw-plugin-private.h"

G_BEGIN_DECLS

/*
 * The gateway's side of the SDK's HTTP seam (gw-plugin-http.h): the paths plugins serve on
 * one GwHttpServer (the southbound listener). A plugin attached here may claim a path that is
 * neither one of the gateway's own (reserved), nor contains or lies below one, nor another
 * live plugin's; the path is served once the server is set (plugins start before the
 * listener), with every bound of the listener applied before the plugin sees a request. A
 * path whose plugin stopped serving it (shutdown, or gone) answers 404 and may be claimed
 * again.
 */

#define GW_TYPE_PLUGIN_HTTP_HOST (gw_plugin_http_host_get_type())
G_DECLARE_FINAL_TYPE(GwPluginHttpHost, gw_plugin_http_host, GW, PLUGIN_HTTP_HOST, GObject)

GwPluginHttpHost *
gw_plugin_http_host_new(void);
/* a path of the gateway's own ("/dm", or a prefix "/images/") */
void
gw_plugin_http_host_reserve(GwPluginHttpHost *self, const gchar *path);
/* the listener; the paths claimed so far are served from now on (once) */
void
gw_plugin_http_host_set_server(GwPluginHttpHost *self, GwHttpServer *server);
/* lets @plugin claim paths (before its startup()) */
void
gw_plugin_http_host_attach(GwPluginHttpHost *self, GwPlugin *plugin);
/* requests handed to plugins so far */
guint64
gw_plugin_http_host_get_n_requests(GwPluginHttpHost *self);

G_END_DECLS
