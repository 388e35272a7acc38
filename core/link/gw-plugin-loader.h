/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "gw-plugin-private.h"

G_BEGIN_DECLS

/*
 * The plugin host (ARCHITECTURE.md "links"): finds the adapter plugins, loads them with
 * GModule, starts and stops them, and keeps a record of each, whatever became of it.
 *
 * Where: the directories given (gwmod --plugin-dir), else those of $GWMO_PLUGIN_DIR
 * (colon-separated; set but empty: none), else GW_PLUGINDIR ($libdir/gwmo/plugins-1). A file
 * libgw_plugin_<name>.so is the plugin <name> (letters, digits, "-", "_"; at most 47); the
 * first directory that has a name wins, later ones are logged and ignored. Plugins are loaded
 * in the order of their names.
 *
 * How, for each (the first failure is the record's Error, logged; the host goes on):
 *  - disabled ([daemon] plugins-disabled, or its Enabled set to false): not opened;
 *  - quarantined by the crash guard (gw-plugin-guard.h): not opened;
 *  - when gwmod runs as root, the file must be a regular file owned by root, not writable by
 *    group or others; never setuid (NetworkManager's nm_utils_validate_plugin());
 *  - g_module_open() with G_MODULE_BIND_LOCAL (not lazy: a symbol the SDK lacks fails here);
 *  - gw_plugin_api_version must equal GW_PLUGIN_API_VERSION, read before any function of the
 *    module is called; then the module is made resident (its types stay registered);
 *  - gw_plugin_query_type() must return a non-abstract subclass of GW_TYPE_PLUGIN; one
 *    instance is made, given its name, its configuration group and its crash-guard counter;
 *  - it must name a protocol that no other plugin serves, and not "OMA-DM" (built in);
 *  - gw_plugin_loader_start(): the attach handler takes the plugin (the gateway's adapter
 *    registry), then startup() runs; a refusal or a failed startup() is the record's Error.
 *
 * States: Loaded (instance made, not started), Running, Failed, Disabled, Quarantined.
 *
 * Signals:
 *  "plugin-changed" (const gchar *name): a record changed (state, error, enabled)
 */

/* the gateway takes @plugin just before its startup() (what startup() reports must find it
 * listening); FALSE with @error refuses it (the plugin does not start) */
typedef gboolean (*GwPluginAttachFunc)(GwPlugin *plugin, gpointer user_data, GError **error);
/* the gateway lets @plugin go: after a failed startup(), and before the shutdown() of a plugin
 * disabled at run time or of every plugin when the host stops */
typedef void (*GwPluginDetachFunc)(GwPlugin *plugin, gpointer user_data);

typedef enum {
	GW_PLUGIN_STATE_LOADED,
	GW_PLUGIN_STATE_RUNNING,
	GW_PLUGIN_STATE_FAILED,
	GW_PLUGIN_STATE_DISABLED,
	GW_PLUGIN_STATE_QUARANTINED,
} GwPluginState;

/* "Loaded", "Running", "Failed", "Disabled", "Quarantined" */
const gchar *
gw_plugin_state_to_string(GwPluginState state);

/* what the host knows of one plugin; owned by the host, valid as long as it */
typedef struct _GwPluginRecord GwPluginRecord;

const gchar *
gw_plugin_record_get_name(GwPluginRecord *record);
const gchar *
gw_plugin_record_get_path(GwPluginRecord *record);
GwPluginState
gw_plugin_record_get_state(GwPluginRecord *record);
/* why it is Failed, Disabled or Quarantined; NULL otherwise */
const gchar *
gw_plugin_record_get_error(GwPluginRecord *record);
/* "" until the module was loaded */
const gchar *
gw_plugin_record_get_protocol(GwPluginRecord *record);
const gchar *
gw_plugin_record_get_version(GwPluginRecord *record);
gboolean
gw_plugin_record_get_enabled(GwPluginRecord *record);
/* disabled in gwmod.conf: Enabled cannot be set at run time */
gboolean
gw_plugin_record_get_locked(GwPluginRecord *record);
/* built by this gwmo build (GW_PLUGIN_BUILD_ID); FALSE until loaded */
gboolean
gw_plugin_record_get_shipped(GwPluginRecord *record);
/* (transfer none) the instance while Loaded or Running, else NULL */
GwPlugin *
gw_plugin_record_get_plugin(GwPluginRecord *record);

#define GW_TYPE_PLUGIN_LOADER (gw_plugin_loader_get_type())
G_DECLARE_FINAL_TYPE(GwPluginLoader, gw_plugin_loader, GW, PLUGIN_LOADER, GObject)

/* (transfer full) the directories to search: @option_dirs when there are any, else
 * $GWMO_PLUGIN_DIR's, else GW_PLUGINDIR */
gchar **
gw_plugin_loader_dirs_from_env(const gchar *const *option_dirs);

/* @dirs NULL: gw_plugin_loader_dirs_from_env(NULL) */
GwPluginLoader *
gw_plugin_loader_new(const gchar *const *dirs);
const gchar *const *
gw_plugin_loader_get_dirs(GwPluginLoader *self);

/* the configuration the plugins read (each its own group, named after it) and the names
 * disabled by configuration; before gw_plugin_loader_load() */
void
gw_plugin_loader_set_config(GwPluginLoader *self, GKeyFile *config, const gchar *const *disabled);
/* who takes the plugins; before gw_plugin_loader_start() (without: they run unattached) */
void
gw_plugin_loader_set_handlers(GwPluginLoader *self,
                              GwPluginAttachFunc attach,
                              GwPluginDetachFunc detach,
                              gpointer user_data);
/* the crash guard's file (plugins.guard in the state directory); before
 * gw_plugin_loader_load(); without one, no quarantine. A file that cannot be used is logged. */
void
gw_plugin_loader_set_guard_file(GwPluginLoader *self, const gchar *path);
/* before gw_plugin_loader_load(): @name starts disabled (its Enabled was set to false) */
void
gw_plugin_loader_preset_enabled(GwPluginLoader *self, const gchar *name, gboolean enabled);
/* for tests: whether files must be root's (default: when running as root) */
void
gw_plugin_loader_set_require_root(GwPluginLoader *self, gboolean require_root);

/* finds and loads every plugin (nothing of a plugin runs but its GType and instance init) */
void
gw_plugin_loader_load(GwPluginLoader *self);
/* starts every Loaded plugin */
void
gw_plugin_loader_start(GwPluginLoader *self);
/* shuts every Running plugin down (reverse order) and tells the crash guard it was a clean
 * stop */
void
gw_plugin_loader_stop(GwPluginLoader *self);

/* (element-type GwPluginRecord) (transfer none) every plugin found, by name */
GPtrArray *
gw_plugin_loader_get_records(GwPluginLoader *self);
GwPluginRecord *
gw_plugin_loader_lookup(GwPluginLoader *self, const gchar *name);
/* TRUE once a plugin that this build did not ship was loaded (sticky: its code stays) */
gboolean
gw_plugin_loader_get_tainted(GwPluginLoader *self);

/* Enabled at run time: FALSE detaches and shuts a running plugin down (Disabled); TRUE loads
 * and starts one that is Disabled or Failed. GW_ERROR_NOT_FOUND, GW_ERROR_NOT_ALLOWED (disabled
 * in gwmod.conf). Setting the value it has already does nothing. */
gboolean
gw_plugin_loader_set_enabled(GwPluginLoader *self,
                             const gchar *name,
                             gboolean enabled,
                             GError **error);
/* lifts a quarantine (and forgets the deaths in a row) and loads and starts the plugin when it
 * is enabled. GW_ERROR_NOT_FOUND */
gboolean
gw_plugin_loader_reset(GwPluginLoader *self, const gchar *name, GError **error);

G_END_DECLS
