/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwGateway"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "gw-adapters.h"
#include "gw-discovered.h"
#include "gw-ed-bootstrap.h"
#include "gw-edtrigger.h"
#include "gw-fanout.h"
#include "gw-gateway.h"
#include "gw-gwmo-mo.h"
#include "gw-gwmo-names.h"
#include "gw-image-store.h"
#include "gw-log.h"
#include "gw-northbound.h"
#include "gw-omadm-adapter.h"
#include "gw-plugin-http-host.h"
#include "gw-plugins-mo.h"
#include "gw-tnds.h"

struct _GwGateway {
	GObject parent_instance;
	GwConfig *config;
	gchar *state_dir;
	GwDmTree *tree;
	GwDmStore *store;
	GwInventory *inventory;
	GwSouthbound *southbound;
	GwNorthbound *northbound;
	GwImageStore *images;
	GwEdTrigger *edtrigger;
	GwFanout *fanout;
	GwAdapters *adapters;
	gchar **plugin_dirs;     /* NULL: gw_plugin_loader_dirs_from_env() */
	GwPluginLoader *plugins; /* the plugin host */
	GwPluginsMo *plugins_mo; /* ./GwMO/Config/Adapters */
	GwPluginHttpHost *plugin_http; /* the paths plugins serve on the southbound listener */
	GwDiscovery *discovery;        /* mDNS: _gwmo._tcp published, _omadm._tcp browsed */
	GwEdBootstrap *ed_bootstrap;   /* GET /bootstrap: the gateway bootstraps End Devices */
	GwDiscovered *discovered;      /* what is browsed becomes Discovered records */
};

G_DEFINE_FINAL_TYPE(GwGateway, gw_gateway, G_TYPE_OBJECT)

static gchar *
gw_gateway_default_dev_id(void)
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
gw_gateway_config_uint(GwGateway *self, const gchar *key)
{
	return (guint)gw_config_get_int(self->config, "device", key);
}

/* the adapters: the host hands each plugin to the registry before its startup() (the devices
 * it reports from there must find it listening) and takes it back after a failed startup,
 * when Enabled is set to false, and at the stop */
static gboolean
gw_gateway_plugin_attach(GwPlugin *plugin, gpointer user_data, GError **error)
{
	GwGateway *self = GW_GATEWAY(user_data);
	if (!gw_adapters_register(self->adapters, plugin, GW_ADAPTER_FLAG_NONE, error))
		return FALSE;
	/* its paths on the southbound listener (gw_plugin_add_http_handler() from startup()) */
	gw_plugin_http_host_attach(self->plugin_http, plugin);
	return TRUE;
}

static void
gw_gateway_plugin_detach(GwPlugin *plugin, gpointer user_data)
{
	GwGateway *self = GW_GATEWAY(user_data);
	gw_adapters_unregister(self->adapters, gw_plugin_get_protocol(plugin));
}

/* the plugin host: loads the plugins (the crash guard in the state directory) and starts them */
static void
gw_gateway_start_plugins(GwGateway *self)
{
	g_autofree gchar *guard = g_build_filename(self->state_dir, "plugins.guard", NULL);

	self->plugins = gw_plugin_loader_new((const gchar *const *)self->plugin_dirs);
	gw_plugin_loader_set_guard_file(self->plugins, guard);
	self->plugins_mo = gw_plugins_mo_new(self->tree, self->config, self->plugins);
	gw_plugin_loader_set_handlers(
	    self->plugins, gw_gateway_plugin_attach, gw_gateway_plugin_detach, self);
	gw_plugin_loader_load(self->plugins);
	gw_plugins_mo_sync(self->plugins_mo);
	gw_plugin_loader_start(self->plugins);
}

void
gw_gateway_set_plugin_dirs(GwGateway *self, const gchar *const *dirs)
{
	g_return_if_fail(GW_IS_GATEWAY(self));
	g_strfreev(self->plugin_dirs);
	self->plugin_dirs = g_strdupv((gchar **)dirs);
}

GwPluginLoader *
gw_gateway_get_plugin_loader(GwGateway *self)
{
	g_return_val_if_fail(GW_IS_GATEWAY(self), NULL);
	return self->plugins;
}

gboolean
gw_gateway_setup(GwGateway *self, GError **error)
{
	g_autofree gchar *dev_id = gw_config_get_string(self->config, "device", "dev-id");
	g_autofree gchar *man = gw_config_get_string(self->config, "device", "manufacturer");
	g_autofree gchar *mod = gw_config_get_string(self->config, "device", "model");
	g_autofree gchar *devtyp = gw_config_get_string(self->config, "device", "device-type");
	g_autofree gchar *lang = gw_config_get_string(self->config, "device", "language");
	g_autofree gchar *hwv = gw_config_get_string(self->config, "device", "hardware-version");
	g_autoptr(GError) error_local = NULL;
	GwDmDeviceInfo info = {0};

	g_return_val_if_fail(GW_IS_GATEWAY(self), FALSE);

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
			dev_id = gw_gateway_default_dev_id();
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
	info.max_depth = gw_gateway_config_uint(self, "max-uri-depth");
	info.max_tot_len = gw_gateway_config_uint(self, "max-uri-length");
	info.max_seg_len = gw_gateway_config_uint(self, "max-segment-length");
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
	/* every device command goes through the adapter of the device's Protocol; OMA DM's is
	 * built in */
	self->adapters = gw_adapters_new(self->tree, self->inventory);
	gw_adapters_start(self->adapters);
	{
		g_autoptr(GwPlugin) omadm = gw_omadm_adapter_new(self->southbound);
		if (!gw_adapters_register(self->adapters, omadm, GW_ADAPTER_FLAG_OWN_TREE, error))
			return FALSE;
	}
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
	                             self->adapters,
	                             self->northbound);
	gw_fanout_set_image_store(self->fanout, self->images);
	if (!gw_fanout_start(self->fanout, error))
		return FALSE;
	/* the gateway as local DM Bootstrap Server of its End Devices (seed 004) */
	self->ed_bootstrap = gw_ed_bootstrap_new(
	    self->config, self->tree, self->store, self->inventory, self->southbound);
	if (!gw_ed_bootstrap_start(self->ed_bootstrap, error))
		return FALSE;
	/* the southbound listener's own paths are no plugin's */
	self->plugin_http = gw_plugin_http_host_new();
	gw_plugin_http_host_reserve(self->plugin_http, GW_GWMO_HTTP_DM);
	gw_plugin_http_host_reserve(self->plugin_http, GW_GWMO_HTTP_IMAGES);
	gw_plugin_http_host_reserve(self->plugin_http, GW_GWMO_HTTP_BOOTSTRAP);
	gw_plugin_http_host_reserve(self->plugin_http, GW_GWMO_HTTP_NOTIFY);
	gw_gateway_start_plugins(self);
	/* started with the network (it publishes the southbound port) */
	self->discovery = gw_discovery_new();
	self->discovered = gw_discovered_new(self->config, self->inventory);
	gw_discovered_watch(self->discovered, self->discovery);
	g_message("DM tree ready: DevId %s, state %s",
	          gw_log_redact(dev_id),
	          gw_dm_store_get_path(self->store));
	return TRUE;
}

gboolean
gw_gateway_bootstrap_data(GwGateway *self,
                          const gchar *tnds,
                          gsize len,
                          const gchar *parent_uri,
                          gboolean replace,
                          GError **error)
{
	g_return_val_if_fail(GW_IS_GATEWAY(self), FALSE);
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
gw_gateway_bootstrap_file(GwGateway *self, const gchar *path, GError **error)
{
	g_autofree gchar *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, error))
		return FALSE;
	if (!gw_gateway_bootstrap_data(self, data, len, ".", TRUE, error)) {
		g_prefix_error(error, "%s: ", path);
		return FALSE;
	}
	g_message("factory bootstrap applied from %s", path);
	return TRUE;
}

/* the southbound port End Devices reach: the first https:// listener, else the first */
static guint16
gw_gateway_southbound_port(GwGateway *self, const gchar **scheme)
{
	g_auto(GStrv) uris = gw_southbound_get_listen_uris(self->southbound);
	guint16 port = 0;

	for (guint i = 0; uris != NULL && uris[i] != NULL; i++) {
		g_autoptr(GUri) uri = g_uri_parse(uris[i], G_URI_FLAGS_NONE, NULL);
		gboolean https;
		if (uri == NULL || g_uri_get_port(uri) <= 0)
			continue;
		https = g_strcmp0(g_uri_get_scheme(uri), "https") == 0;
		if (port == 0 || https) {
			port = (guint16)g_uri_get_port(uri);
			*scheme = https ? "https" : "http";
		}
		if (https)
			break;
	}
	return port;
}

/* mDNS (spec/GWMO.md §4): _gwmo._tcp on the southbound port, TXT path, gwid, bootstrap,
 * txtvers (and scheme); browses _omadm._tcp */
static void
gw_gateway_start_discovery(GwGateway *self)
{
	g_autofree gchar *dev_id = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
	g_autofree gchar *name = NULL;
	g_autofree gchar *gwid = NULL;
	g_autofree gchar *scheme_txt = NULL;
	const gchar *scheme = "https";
	guint16 port;

	if (!gw_config_get_bool(self->config, "discovery", "enabled")) {
		g_message("mDNS discovery disabled ([discovery] enabled=false)");
		return;
	}
	port = gw_gateway_southbound_port(self, &scheme);
	name = g_strdup_printf("gwmo %s", dev_id != NULL ? dev_id : "");
	gwid = g_strdup_printf("gwid=%s", dev_id != NULL ? dev_id : "");
	scheme_txt = g_strdup_printf("scheme=%s", scheme);
	{
		const gchar *txt[] = {"txtvers=1",
		                      "path=" GW_GWMO_HTTP_DM,
		                      gwid,
		                      "bootstrap=" GW_GWMO_HTTP_BOOTSTRAP,
		                      scheme_txt,
		                      NULL};
		gw_discovery_set_service(self->discovery, name, "_gwmo._tcp", port, txt);
	}
	if (port == 0)
		g_message("mDNS: no southbound listener, _gwmo._tcp not published");
	gw_discovery_set_browse_type(self->discovery, "_omadm._tcp");
	gw_discovery_start(self->discovery);
}

gboolean
gw_gateway_start_network(GwGateway *self, GError **error)
{
	g_return_val_if_fail(GW_IS_GATEWAY(self), FALSE);
	if (!gw_northbound_start(self->northbound, error) ||
	    !gw_southbound_start(self->southbound, error))
		return FALSE;
	gw_image_store_attach(self->images, gw_southbound_get_http_server(self->southbound));
	gw_ed_bootstrap_attach(self->ed_bootstrap, gw_southbound_get_http_server(self->southbound));
	gw_plugin_http_host_set_server(self->plugin_http,
	                               gw_southbound_get_http_server(self->southbound));
	gw_gateway_start_discovery(self);
	return TRUE;
}

GwDiscovery *
gw_gateway_get_discovery(GwGateway *self)
{
	g_return_val_if_fail(GW_IS_GATEWAY(self), NULL);
	return self->discovery;
}

GwImageStore *
gw_gateway_get_image_store(GwGateway *self)
{
	return self->images;
}

GwNorthbound *
gw_gateway_get_northbound(GwGateway *self)
{
	return self->northbound;
}

GwFanout *
gw_gateway_get_fanout(GwGateway *self)
{
	return self->fanout;
}

GwAdapters *
gw_gateway_get_adapters(GwGateway *self)
{
	return self->adapters;
}

gboolean
gw_gateway_shutdown(GwGateway *self, GError **error)
{
	g_autoptr(GError) alerts_error = NULL;
	gboolean alerts_stored = TRUE;

	g_return_val_if_fail(GW_IS_GATEWAY(self), FALSE);
	/* the service withdrawn (goodbye packets) before anything else goes */
	if (self->discovery != NULL)
		gw_discovery_stop(self->discovery);
	/* the plugins stop first: a clean stop for the crash guard */
	if (self->plugins != NULL)
		gw_plugin_loader_stop(self->plugins);
	/* their stop detached their devices and queued DeviceDetached for the servers that ask:
	 * stored now, the queue's batched save is an idle source and the main loop has ended */
	if (self->northbound != NULL)
		alerts_stored = gw_alert_queue_flush(
		    gw_northbound_get_alert_queue(self->northbound), &alerts_error);
	/* fold the journal into tree.state: the next start has nothing to replay */
	if (!gw_dm_store_compact(self->store, error))
		return FALSE;
	if (!alerts_stored) {
		g_propagate_prefixed_error(
		    error, g_steal_pointer(&alerts_error), "the pending alerts: ");
		return FALSE;
	}
	return TRUE;
}

static void
gw_gateway_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
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
gw_gateway_commit_async(GwGateway *self, GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(self, NULL, callback, user_data);
	gw_dm_store_commit_async(self->store, gw_gateway_committed_cb, task);
}

gboolean
gw_gateway_commit_finish(GwGateway *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

GwDmTree *
gw_gateway_get_tree(GwGateway *self)
{
	return self->tree;
}

GwDmStore *
gw_gateway_get_store(GwGateway *self)
{
	return self->store;
}

GwConfig *
gw_gateway_get_config(GwGateway *self)
{
	return self->config;
}

GwInventory *
gw_gateway_get_inventory(GwGateway *self)
{
	return self->inventory;
}

static void
gw_gateway_dispose(GObject *object)
{
	GwGateway *self = GW_GATEWAY(object);
	g_clear_object(&self->discovered);
	g_clear_object(&self->discovery);
	g_clear_object(&self->ed_bootstrap);
	g_clear_object(&self->plugins_mo);
	g_clear_object(&self->plugins);
	g_clear_object(&self->plugin_http);
	g_clear_object(&self->edtrigger);
	g_clear_object(&self->fanout);
	g_clear_object(&self->adapters);
	g_clear_object(&self->northbound);
	g_clear_object(&self->images);
	g_clear_object(&self->southbound);
	g_clear_object(&self->inventory);
	G_OBJECT_CLASS(gw_gateway_parent_class)->dispose(object);
}

static void
gw_gateway_finalize(GObject *object)
{
	GwGateway *self = GW_GATEWAY(object);
	g_object_unref(self->store);
	g_object_unref(self->tree);
	g_object_unref(self->config);
	g_free(self->state_dir);
	g_strfreev(self->plugin_dirs);
	G_OBJECT_CLASS(gw_gateway_parent_class)->finalize(object);
}

static void
gw_gateway_class_init(GwGatewayClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_gateway_dispose;
	object_class->finalize = gw_gateway_finalize;
}

static void
gw_gateway_init(GwGateway *self)
{
}

GwGateway *
gw_gateway_new(GwConfig *config, const gchar *state_dir)
{
	GwGateway *self;

	g_return_val_if_fail(GW_IS_CONFIG(config), NULL);
	g_return_val_if_fail(state_dir != NULL, NULL);

	self = g_object_new(GW_TYPE_GATEWAY, NULL);
	self->config = g_object_ref(config);
	self->state_dir = g_strdup(state_dir);
	self->tree = gw_dm_tree_new();
	self->store = gw_dm_store_new(self->tree, state_dir);
	return self;
}
