/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-config.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-fanout.h"
#include "gw-image-store.h"
#include "gw-inventory.h"
#include "gw-northbound.h"
#include "gw-plugin-loader.h"

G_BEGIN_DECLS

#define GW_DBUS_NAME "org.gwmo.Gateway1"
#define GW_DBUS_PATH "/org/gwmo/Gateway1"

#define GW_TYPE_DAEMON (gw_daemon_get_type())
G_DECLARE_FINAL_TYPE(GwDaemon, gw_daemon, GW, DAEMON, GObject)

/*
 * The daemon: owns the configuration, the DM tree and its store, and the D-Bus face.
 * Signals: "quit" when the bus name is lost or cannot be acquired.
 */
GwDaemon *
gw_daemon_new(GwConfig *config, const gchar *state_dir);
/* where the plugins are (gwmod --plugin-dir); before gw_daemon_setup(). Default:
 * gw_plugin_loader_dirs_from_env(NULL) */
void
gw_daemon_set_plugin_dirs(GwDaemon *self, const gchar *const *dirs);
/* the plugin host; NULL before gw_daemon_setup() */
GwPluginLoader *
gw_daemon_get_plugin_loader(GwDaemon *self);
/* loads the state file, installs the standard objects and the GwMO MOs, stores the result, and
 * loads and starts the plugins */
gboolean
gw_daemon_setup(GwDaemon *self, GError **error);
/* factory bootstrap from a TNDS file (existing leaves are replaced) */
gboolean
gw_daemon_bootstrap_file(GwDaemon *self, const gchar *path, GError **error);
gboolean
gw_daemon_bootstrap_data(GwDaemon *self,
                         const gchar *tnds,
                         gsize len,
                         const gchar *parent_uri,
                         gboolean replace,
                         GError **error);
/* the northbound listener (TLS identity, POST /notify), the session schedule and the southbound
 * listener (POST /dm for End Devices) */
gboolean
gw_daemon_start_network(GwDaemon *self, GError **error);
GwNorthbound *
gw_daemon_get_northbound(GwDaemon *self);
GwFanout *
gw_daemon_get_fanout(GwDaemon *self);
/* owns org.gwmo.Gateway1 on @bus_type and exports the objects */
void
gw_daemon_start_bus(GwDaemon *self, GBusType bus_type);
/* flushes the tree; called on SIGTERM before the loop ends */
gboolean
gw_daemon_shutdown(GwDaemon *self, GError **error);

GwDmTree *
gw_daemon_get_tree(GwDaemon *self);
GwDmStore *
gw_daemon_get_store(GwDaemon *self);
GwConfig *
gw_daemon_get_config(GwDaemon *self);
/* the Device Inventory MO (./GwMO/Inventory); NULL before gw_daemon_setup */
GwInventory *
gw_daemon_get_inventory(GwDaemon *self);
GBusType
gw_daemon_get_bus_type(GwDaemon *self);
/* (added) the image store (./GwMO/Images); NULL before gw_daemon_setup */
GwImageStore *
gw_daemon_get_image_store(GwDaemon *self);

/*
 * Makes the changes made so far durable: changes requested within one main-loop iteration
 * share one write (a batch). The callback runs after the state file is on disk.
 */
void
gw_daemon_commit_async(GwDaemon *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean
gw_daemon_commit_finish(GwDaemon *self, GAsyncResult *res, GError **error);

G_END_DECLS
