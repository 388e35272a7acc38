/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-adapters.h"
#include "gw-config.h"
#include "gw-discovery.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-fanout.h"
#include "gw-image-store.h"
#include "gw-inventory.h"
#include "gw-northbound.h"
#include "gw-plugin-loader.h"

G_BEGIN_DECLS

#define GW_TYPE_GATEWAY (gw_gateway_get_type())
G_DECLARE_FINAL_TYPE(GwGateway, gw_gateway, GW, GATEWAY, GObject)

/*
 * The gateway, the composition root of the enabler: owns the configuration, the DM tree and
 * its store, the inventory, both links (the northbound DM client, the southbound DM server),
 * the adapter registry (the built-in OMA DM adapter and the plugins'), fan-out, the image
 * store and the EDTrigger MO, and wires them together. It knows nothing of D-Bus: the D-Bus
 * face (core/dbus, GwDbusService) exports it.
 */
GwGateway *
gw_gateway_new(GwConfig *config, const gchar *state_dir);
/* where the plugins are (gwmod --plugin-dir); before gw_gateway_setup(). Default:
 * gw_plugin_loader_dirs_from_env(NULL) */
void
gw_gateway_set_plugin_dirs(GwGateway *self, const gchar *const *dirs);
/* loads the state file, installs the standard objects and the GwMO MOs, makes every part,
 * stores the result, then loads and starts the plugins */
gboolean
gw_gateway_setup(GwGateway *self, GError **error);
/* factory bootstrap from a TNDS file (existing leaves are replaced) */
gboolean
gw_gateway_bootstrap_file(GwGateway *self, const gchar *path, GError **error);
gboolean
gw_gateway_bootstrap_data(GwGateway *self,
                          const gchar *tnds,
                          gsize len,
                          const gchar *parent_uri,
                          gboolean replace,
                          GError **error);
/* the northbound listener (TLS identity, POST /notify), the session schedule and the southbound
 * listener (POST /dm for End Devices) */
gboolean
gw_gateway_start_network(GwGateway *self, GError **error);
/* stops the plugins, flushes the tree; called on SIGTERM before the loop ends */
gboolean
gw_gateway_shutdown(GwGateway *self, GError **error);

GwDmTree *
gw_gateway_get_tree(GwGateway *self);
GwDmStore *
gw_gateway_get_store(GwGateway *self);
GwConfig *
gw_gateway_get_config(GwGateway *self);
/* the parts; NULL before gw_gateway_setup */
GwInventory *
gw_gateway_get_inventory(GwGateway *self);
GwNorthbound *
gw_gateway_get_northbound(GwGateway *self);
GwFanout *
gw_gateway_get_fanout(GwGateway *self);
GwImageStore *
gw_gateway_get_image_store(GwGateway *self);
GwAdapters *
gw_gateway_get_adapters(GwGateway *self);
/* mDNS ([discovery] enabled): publishes _gwmo._tcp on the southbound port once the network
 * is started, browses _omadm._tcp; NULL before gw_gateway_setup */
GwDiscovery *
gw_gateway_get_discovery(GwGateway *self);
/* the plugin host */
GwPluginLoader *
gw_gateway_get_plugin_loader(GwGateway *self);

/*
 * Makes the changes made so far durable: changes requested within one main-loop iteration
 * share one write (a batch). The callback runs after the state file is on disk.
 */
void
gw_gateway_commit_async(GwGateway *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean
gw_gateway_commit_finish(GwGateway *self, GAsyncResult *res, GError **error);

G_END_DECLS
