/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-plugin.h"

G_BEGIN_DECLS

/*
 * The gateway's side of GwPlugin (not installed): exported by libgwmo-plugin in the version
 * node GW_PLUGIN_PRIVATE, which no plugin may use.
 *
 * Signals of GwPlugin:
 *  "device-found" (GwDeviceInfo *info, GwDeviceTree *tree or NULL)
 *  "device-lost" (const gchar *device_id)
 */

void
gw_plugin_set_name(GwPlugin *self, const gchar *name);
/* the gateway's configuration; the plugin reads its own group ("upnp") */
void
gw_plugin_set_config(GwPlugin *self, GKeyFile *config);

gboolean
gw_plugin_startup(GwPlugin *self, GError **error);
void
gw_plugin_shutdown(GwPlugin *self);
void
gw_plugin_run_command_async(GwPlugin *self,
                            const gchar *device_id,
                            GwDeviceCommand *cmd,
                            gint64 deadline,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
GwDeviceResult *
gw_plugin_run_command_finish(GwPlugin *self, GAsyncResult *res, GError **error);
gboolean
gw_plugin_can_deliver_images(GwPlugin *self);
void
gw_plugin_deliver_image_async(GwPlugin *self,
                              const gchar *device_id,
                              const gchar *uri,
                              const gchar *sha256,
                              guint64 size,
                              gint64 deadline,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
GwDeviceResult *
gw_plugin_deliver_image_finish(GwPlugin *self, GAsyncResult *res, GError **error);

G_END_DECLS
