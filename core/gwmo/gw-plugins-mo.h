/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-config.h"
#include "gw-dm-tree.h"
#include "gw-plugin-loader.h"

G_BEGIN_DECLS

/*
 * ./GwMO/Config/Adapters/<x> (spec/GWMO.md §1): one entry per plugin the host found, named
 * after the plugin, kept in step with its record:
 *   Name, Protocol, Version  chr  Get
 *   State                    chr  Get          Loaded | Running | Failed | Disabled | Quarantined
 *   Enabled                  bool Get,Replace
 * A Replace of Enabled (a DM Server the owner granted it, or the owner: D-Bus SetNode, gwmoctl
 * plugins enable|disable) stops or starts the plugin at once; the value is kept with the tree,
 * so a plugin disabled this way stays disabled at the next start. A plugin disabled in gwmod.conf
 * ([daemon] plugins-disabled) cannot be enabled from the tree (405). Entries of plugins that are
 * no longer installed go at the next start.
 *
 * gw_plugins_mo_new() gives the loader its configuration (the plugins' groups, plugins-disabled)
 * and the Enabled values the tree kept; call it before gw_plugin_loader_load().
 */
#define GW_TYPE_PLUGINS_MO (gw_plugins_mo_get_type())
G_DECLARE_FINAL_TYPE(GwPluginsMo, gw_plugins_mo, GW, PLUGINS_MO, GObject)

GwPluginsMo *
gw_plugins_mo_new(GwDmTree *tree, GwConfig *config, GwPluginLoader *loader);
/* after gw_plugin_loader_load(): drops the entries of plugins that are gone */
void
gw_plugins_mo_sync(GwPluginsMo *self);

G_END_DECLS
