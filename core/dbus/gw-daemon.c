/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDaemon"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "gw-daemon.h"
#include "gw-dbus-manager.h"
#include "gw-edtrigger.h"
#include "gw-fanout.h"
#include "gw-gwmo-mo.h"
#include "gw-image-store.h"
#include "gw-log.h"
#include "gw-northbound.h"
#include "gw-plugins-mo.h"
#include "gw-tnds.h"

struct _GwDaemon {
	GObject parent_instance;
	GwConfig *config;
	gchar *state_dir;
	GwDmTree *tree;
	GwDmStore *store;
	GwDbusManager *manager;
	GwInventory *inventory;
	GwSouthbound *southbound;
	GwNorthbound *northbound;
	GwImageStore *images;
	GwEdTrigger *edtrigger;
	GwFanout *fanout;
	gchar **plugin_dirs;     /* NULL: gw_plugin_loader_dirs_from_env() */
	GwPluginLoader *plugins; /* the plugin host */
	GwPluginsMo *plugins_mo; /* ./GwMO/Config/Adapters */
	GBusType bus_type;
	guint owner_id;
};

G_DEFINE_TYPE(GwDaemon, gw_daemon, G_TYPE_OBJECT)

enum { SIGNAL_QUIT, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

static gchar *
gw_daemon_default_dev_id(void)
{
	g_autofree gchar *machine_id = NULL;
	g_autofree gchar *uuid = NULL;

	if (g_file_get_contents("/etc/machine-id", &machine_id, NULL, NULL)) {
		g_strstrip(machine_id);
		if (strlen(machine_id) >= 16)
			return g_strdup_printf("GW-%.16s", machine_id);
	}
	uuid = g_uuid_string_random();
	return g_strdup_printf("GW-%s", uuid);
}

static guint
gw_daemon_config_uint(GwDaemon *self, const gchar *key)
{
	return (guint)gw_config_get_int(self->config, "device", key);
}

/* the adapters: the host hands each plugin to the gateway before its startup() and takes it
 * back after a failed startup, when Enabled is set to false, and at the stop */
static gboolean
gw_daemon_plugin_attach(GwPlugin *plugin, gpointer user_data, GError **error)
{
	gw_gwmo_adapter_register(gw_plugin_get_protocol(plugin));
	return TRUE;
}

static void
gw_daemon_plugin_detach(GwPlugin *plugin, gpointer user_data)
{
	gw_gwmo_adapter_unregister(gw_plugin_get_protocol(plugin));
}

/* the plugin host: loads the plugins (the crash guard in the state directory) and starts them */
static void
gw_daemon_start_plugins(GwDaemon *self)
{
	g_autofree gchar *guard = g_build_filename(self->state_dir, "plugins.guard", NULL);

	self->plugins = gw_plugin_loader_new((const gchar *const *)self->plugin_dirs);
	gw_plugin_loader_set_guard_file(self->plugins, guard);
	self->plugins_mo = gw_plugins_mo_new(self->tree, self->config, self->plugins);
	gw_plugin_loader_set_handlers(
	    self->plugins, gw_daemon_plugin_attach, gw_daemon_plugin_detach, self);
	gw_plugin_loader_load(self->plugins);
	gw_plugins_mo_sync(self->plugins_mo);
	gw_plugin_loader_start(self->plugins);
}

void
gw_daemon_set_plugin_dirs(GwDaemon *self, const gchar *const *dirs)
{
	g_return_if_fail(GW_IS_DAEMON(self));
	g_strfreev(self->plugin_dirs);
	self->plugin_dirs = g_strdupv((gchar **)dirs);
}

GwPluginLoader *
gw_daemon_get_plugin_loader(GwDaemon *self)
{
	g_return_val_if_fail(GW_IS_DAEMON(self), NULL);
	return self->plugins;
}

gboolean
gw_daemon_setup(GwDaemon *self, GError **error)
{
	g_autofree gchar *dev_id = gw_config_get_string(self->config, "device", "dev-id");
	g_autofree gchar *man = gw_config_get_string(self->config, "device", "manufacturer");
	g_autofree gchar *mod = gw_config_get_string(self->config, "device", "model");
	g_autofree gchar *devtyp = gw_config_get_string(self->config, "device", "device-type");
	g_autofree gchar *lang = gw_config_get_string(self->config, "device", "language");
	g_autofree gchar *hwv = gw_config_get_string(self->config, "device", "hardware-version");
	g_autoptr(GError) error_local = NULL;
	GwDmDeviceInfo info = {0};

	g_return_val_if_fail(GW_IS_DAEMON(self), FALSE);

	if (g_mkdir_with_parents(self->state_dir, 0700) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot create state directory %s: %s",
		            self->state_dir,
		            g_strerror(errno));
		return FALSE;
	}
	gw_dm_store_set_journal_limit(
	    self->store, (gsize)gw_config_get_int(self->config, "daemon", "journal-limit"));
	if (!gw_dm_store_load(self->store, &error_local)) {
		if (!g_error_matches(error_local, GW_ERROR, GW_ERROR_CORRUPT_STATE)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
		/* kept aside by the store; start from the factory state, loudly */
		g_warning("starting from factory state: %s", error_local->message);
	}

	/* the DevId: configured, else what the state remembers, else derived once */
	if (dev_id == NULL || dev_id[0] == '\0') {
		g_free(dev_id);
		dev_id = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
		if (dev_id == NULL || dev_id[0] == '\0') {
			g_free(dev_id);
			dev_id = gw_daemon_default_dev_id();
		}
	}
	info.dev_id = dev_id;
	info.man = man;
	info.mod = mod;
	info.dmv = "1.3";
	info.lang = lang;
	info.dev_typ = devtyp;
	info.oem = man;
	info.fwv = PACKAGE_VERSION;
	info.swv = PACKAGE_VERSION;
	info.hwv = hwv;
	info.max_depth = gw_daemon_config_uint(self, "max-uri-depth");
	info.max_tot_len = gw_daemon_config_uint(self, "max-uri-length");
	info.max_seg_len = gw_daemon_config_uint(self, "max-segment-length");
	if (!gw_dm_tree_install_standard_objects(self->tree, &info, error))
		return FALSE;
	if (!gw_gwmo_install_objects(
	        self->tree,
	        dev_id,
	        (GwGwmoMode)gw_config_get_int(self->config, "gateway", "default-mode"),
	        error))
		return FALSE;
	self->inventory = gw_inventory_new(self->tree, self->config);
	if (!gw_inventory_start(self->inventory, error))
		return FALSE;
	if (!gw_dm_store_flush(self->store, error))
		return FALSE;
	gw_dm_store_set_autosave(self->store, TRUE);
	self->northbound =
	    gw_northbound_new(self->config, self->tree, self->store, self->state_dir, error);
	if (self->northbound == NULL)
		return FALSE;
	self->southbound = gw_southbound_new(
	    self->config, self->tree, self->store, self->inventory, self->state_dir, error);
	if (self->southbound == NULL)
		return FALSE;
	/* inventory alerts go north (X.2); transparent notifications go south (Z') */
	gw_northbound_watch_inventory(self->northbound, self->inventory);
	gw_northbound_set_southbound(self->northbound, self->southbound);
	/* the image store (./GwMO/Images): downloads north, serves south */
	self->images =
	    gw_image_store_new(self->config, self->tree, self->inventory, self->state_dir, error);
	if (self->images == NULL)
		return FALSE;
	gw_image_store_set_northbound(self->images, self->northbound);
	if (!gw_image_store_start(self->images, error))
		return FALSE;
	/* the EDTrigger MO takes the same relay as X-GwMO-Target */
	self->edtrigger = gw_edtrigger_new(self->tree, self->northbound, error);
	if (self->edtrigger == NULL)
		return FALSE;
	/* Fanout jobs (GwMO-FORA-001/002); InProgress ones resume once the loop runs */
	self->fanout = gw_fanout_new(self->config,
	                             self->tree,
	                             self->store,
	                             self->inventory,
	                             self->southbound,
	                             self->northbound);
	gw_fanout_set_image_store(self->fanout, self->images);
	if (!gw_fanout_start(self->fanout, error))
		return FALSE;
	gw_daemon_start_plugins(self);
	g_message("DM tree ready: DevId %s, state %s",
	          gw_log_redact(dev_id),
	          gw_dm_store_get_path(self->store));
	return TRUE;
}

gboolean
gw_daemon_bootstrap_data(GwDaemon *self,
                         const gchar *tnds,
                         gsize len,
                         const gchar *parent_uri,
                         gboolean replace,
                         GError **error)
{
	g_return_val_if_fail(GW_IS_DAEMON(self), FALSE);
	if (!gw_tnds_import(self->tree,
	                    parent_uri != NULL ? parent_uri : ".",
	                    tnds,
	                    len,
	                    replace ? GW_TNDS_IMPORT_REPLACE : GW_TNDS_IMPORT_NONE,
	                    error)) {
		g_prefix_error(error, "bootstrap refused: ");
		return FALSE;
	}
	return gw_dm_store_flush(self->store, error);
}

gboolean
gw_daemon_bootstrap_file(GwDaemon *self, const gchar *path, GError **error)
{
	g_autofree gchar *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, error))
		return FALSE;
	if (!gw_daemon_bootstrap_data(self, data, len, ".", TRUE, error)) {
		g_prefix_error(error, "%s: ", path);
		return FALSE;
	}
	g_message("factory bootstrap applied from %s", path);
	return TRUE;
}

static void
gw_daemon_bus_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	GwDaemon *self = GW_DAEMON(user_data);
	g_autoptr(GError) error = NULL;

	self->manager = gw_dbus_manager_new(self, connection, &error);
	if (self->manager == NULL) {
		g_warning("cannot export %s: %s", GW_DBUS_PATH, error->message);
		g_signal_emit(self, signals[SIGNAL_QUIT], 0);
	}
}

static void
gw_daemon_name_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	g_message("acquired the name %s on the %s bus",
	          name,
	          GW_DAEMON(user_data)->bus_type == G_BUS_TYPE_SESSION ? "session" : "system");
}

static void
gw_daemon_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	GwDaemon *self = GW_DAEMON(user_data);
	if (connection == NULL)
		g_warning("cannot connect to the %s bus",
		          self->bus_type == G_BUS_TYPE_SESSION ? "session" : "system");
	else
		g_warning("lost or could not acquire the name %s", name);
	g_signal_emit(self, signals[SIGNAL_QUIT], 0);
}

gboolean
gw_daemon_start_network(GwDaemon *self, GError **error)
{
	g_return_val_if_fail(GW_IS_DAEMON(self), FALSE);
	if (!gw_northbound_start(self->northbound, error) ||
	    !gw_southbound_start(self->southbound, error))
		return FALSE;
	gw_image_store_attach(self->images, gw_southbound_get_http_server(self->southbound));
	return TRUE;
}

GwImageStore *
gw_daemon_get_image_store(GwDaemon *self)
{
	return self->images;
}

GwNorthbound *
gw_daemon_get_northbound(GwDaemon *self)
{
	return self->northbound;
}

GwFanout *
gw_daemon_get_fanout(GwDaemon *self)
{
	return self->fanout;
}

void
gw_daemon_start_bus(GwDaemon *self, GBusType bus_type)
{
	g_return_if_fail(GW_IS_DAEMON(self));
	g_return_if_fail(self->owner_id == 0);
	self->bus_type = bus_type;
	self->owner_id = g_bus_own_name(bus_type,
	                                GW_DBUS_NAME,
	                                G_BUS_NAME_OWNER_FLAGS_NONE,
	                                gw_daemon_bus_acquired_cb,
	                                gw_daemon_name_acquired_cb,
	                                gw_daemon_name_lost_cb,
	                                self,
	                                NULL);
}

gboolean
gw_daemon_shutdown(GwDaemon *self, GError **error)
{
	g_return_val_if_fail(GW_IS_DAEMON(self), FALSE);
	/* the plugins stop first: a clean stop for the crash guard */
	if (self->plugins != NULL)
		gw_plugin_loader_stop(self->plugins);
	/* fold the journal into tree.state: the next start has nothing to replay */
	return gw_dm_store_compact(self->store, error);
}

static void
gw_daemon_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GError *error = NULL;

	if (gw_dm_store_commit_finish(GW_DM_STORE(source), res, &error))
		g_task_return_boolean(task, TRUE);
	else
		g_task_return_error(task, error);
	g_object_unref(task);
}

/* one group commit of the store for the bus calls and the DM sessions together */
void
gw_daemon_commit_async(GwDaemon *self, GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(self, NULL, callback, user_data);
	gw_dm_store_commit_async(self->store, gw_daemon_committed_cb, task);
}

gboolean
gw_daemon_commit_finish(GwDaemon *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

GwDmTree *
gw_daemon_get_tree(GwDaemon *self)
{
	return self->tree;
}

GwDmStore *
gw_daemon_get_store(GwDaemon *self)
{
	return self->store;
}

GwConfig *
gw_daemon_get_config(GwDaemon *self)
{
	return self->config;
}

GwInventory *
gw_daemon_get_inventory(GwDaemon *self)
{
	return self->inventory;
}

GBusType
gw_daemon_get_bus_type(GwDaemon *self)
{
	return self->bus_type;
}

static void
gw_daemon_dispose(GObject *object)
{
	GwDaemon *self = GW_DAEMON(object);
	if (self->owner_id != 0) {
		g_bus_unown_name(self->owner_id);
		self->owner_id = 0;
	}
	g_clear_object(&self->manager);
	g_clear_object(&self->plugins_mo);
	g_clear_object(&self->plugins);
	g_clear_object(&self->edtrigger);
	g_clear_object(&self->fanout);
	g_clear_object(&self->northbound);
	g_clear_object(&self->images);
	g_clear_object(&self->southbound);
	g_clear_object(&self->inventory);
	G_OBJECT_CLASS(gw_daemon_parent_class)->dispose(object);
}

static void
gw_daemon_finalize(GObject *object)
{
	GwDaemon *self = GW_DAEMON(object);
	g_object_unref(self->store);
	g_object_unref(self->tree);
	g_object_unref(self->config);
	g_free(self->state_dir);
	g_strfreev(self->plugin_dirs);
	G_OBJECT_CLASS(gw_daemon_parent_class)->finalize(object);
}

static void
gw_daemon_class_init(GwDaemonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_daemon_dispose;
	object_class->finalize = gw_daemon_finalize;
	signals[SIGNAL_QUIT] = g_signal_new("quit",
	                                    G_TYPE_FROM_CLASS(klass),
	                                    G_SIGNAL_RUN_LAST,
	                                    0,
	                                    NULL,
	                                    NULL,
	                                    NULL,
	                                    G_TYPE_NONE,
	                                    0);
}

static void
gw_daemon_init(GwDaemon *self)
{
}

GwDaemon *
gw_daemon_new(GwConfig *config, const gchar *state_dir)
{
	GwDaemon *self;

	g_return_val_if_fail(GW_IS_CONFIG(config), NULL);
	g_return_val_if_fail(state_dir != NULL, NULL);

	self = g_object_new(GW_TYPE_DAEMON, NULL);
	self->config = g_object_ref(config);
	self->state_dir = g_strdup(state_dir);
	self->tree = gw_dm_tree_new();
	self->store = gw_dm_store_new(self->tree, state_dir);
	return self;
}
