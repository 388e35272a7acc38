/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwAdapters"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gw-adapters.h"
#include "gw-dm-uri.h"
#include "gw-error.h"
#include "gw-gwmo-mo.h"
#include "gw-log.h"
#include "gw-plugin-private.h"

#define GW_ADAPTERS_DEFAULT_TIMEOUT_MS (60 * 1000)
#define GW_ADAPTERS_DEVINFO "./DevInfo"
#define GW_ADAPTERS_DEVINFO_DEV_ID "DevId"

typedef struct {
	GwPlugin *plugin;
	GwAdapterFlags flags;
	gulong found_id;
	gulong lost_id;
} GwAdapter;

/* a device a plugin reported in this run */
typedef struct {
	gchar *protocol;
	GwDeviceInfo *info;
	GwDeviceTree *tree; /* nullable: ./DevInfo only */
	gboolean present;   /* found and not lost since */
} GwAdaptedDevice;

struct _GwAdapters {
	GObject parent_instance;
	GwDmTree *tree;
	GwInventory *inventory;
	GHashTable *adapters; /* protocol → GwAdapter */
	GHashTable *devices;  /* DeviceID → GwAdaptedDevice */
};

G_DEFINE_FINAL_TYPE(GwAdapters, gw_adapters, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

static void
gw_adapter_free(gpointer data)
{
	GwAdapter *adapter = data;
	if (adapter->found_id != 0)
		g_signal_handler_disconnect(adapter->plugin, adapter->found_id);
	if (adapter->lost_id != 0)
		g_signal_handler_disconnect(adapter->plugin, adapter->lost_id);
	g_object_unref(adapter->plugin);
	g_free(adapter);
}

static void
gw_adapted_device_free(gpointer data)
{
	GwAdaptedDevice *dev = data;
	g_free(dev->protocol);
	gw_device_info_unref(dev->info);
	g_clear_pointer(&dev->tree, gw_device_tree_unref);
	g_free(dev);
}

static gboolean
gw_adapters_is_oma_dm(const gchar *protocol)
{
	return protocol == NULL || protocol[0] == '\0' ||
	       g_strcmp0(protocol, GW_GWMO_PROTOCOL_OMA_DM) == 0;
}

static gchar *
gw_adapters_record_leaf(GwAdapters *self, const gchar *record_uri, const gchar *leaf)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record_uri, leaf);
	return gw_dm_tree_dup_string(self->tree, uri);
}

/* the Protocol of a record ("" or none: OMA-DM) */
static gchar *
gw_adapters_record_protocol(GwAdapters *self, const gchar *record_uri)
{
	g_autofree gchar *protocol =
	    gw_adapters_record_leaf(self, record_uri, GW_GWMO_DEVICE_PROTOCOL);
	if (gw_adapters_is_oma_dm(protocol))
		return g_strdup(GW_GWMO_PROTOCOL_OMA_DM);
	return g_steal_pointer(&protocol);
}

/* ---- devices found and lost ---- */

static void
gw_adapters_device_found_cb(GwPlugin *plugin,
                            GwDeviceInfo *info,
                            GwDeviceTree *tree,
                            gpointer user_data)
{
	GwAdapters *self = GW_ADAPTERS(user_data);
	const gchar *protocol = gw_plugin_get_protocol(plugin);
	const gchar *device_id = gw_device_info_get_device_id(info);
	g_autofree const gchar **leaves = gw_device_info_list_devinfo(info);
	g_autoptr(GHashTable) devinfo =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autofree gchar *record = gw_inventory_find(self->inventory, device_id);
	g_autofree gchar *uri = NULL;
	g_autoptr(GError) error = NULL;
	GwAdaptedDevice *dev = g_hash_table_lookup(self->devices, device_id);
	GwInventoryDevice entry = {0};

	if (dev != NULL && g_strcmp0(dev->protocol, protocol) != 0) {
		gw_warning_ratelimited("%s reported device %s, which %s reported: refused",
		                       protocol,
		                       device_id,
		                       dev->protocol);
		return;
	}
	if (record != NULL) {
		g_autofree gchar *held = gw_adapters_record_protocol(self, record);
		if (g_strcmp0(held, protocol) != 0) {
			gw_warning_ratelimited("%s reported device %s, whose record %s is of "
			                       "protocol %s: refused",
			                       protocol,
			                       device_id,
			                       record,
			                       held);
			return;
		}
	}
	for (guint i = 0; leaves[i] != NULL; i++)
		g_hash_table_insert(devinfo,
		                    g_strdup(leaves[i]),
		                    g_strdup(gw_device_info_get_devinfo(info, leaves[i])));

	/* a device seen again, the same as its Attached record: LastSeen only */
	if (record == NULL || !gw_inventory_touch_unchanged(self->inventory,
	                                                    device_id,
	                                                    gw_device_info_get_address(info) != NULL
	                                                        ? gw_device_info_get_address(info)
	                                                        : "",
	                                                    NULL,
	                                                    devinfo)) {
		entry.device_id = (gchar *)device_id;
		entry.mode = GW_GWMO_MODE_ADAPTATION;
		entry.protocol = (gchar *)protocol;
		entry.address = (gchar *)gw_device_info_get_address(info);
		entry.devinfo = devinfo;
		uri = gw_inventory_register(self->inventory, &entry, &error);
		if (uri == NULL) {
			gw_warning_ratelimited(
			    "%s reported device %s, which cannot be registered: %s",
			    protocol,
			    device_id,
			    error->message);
			return;
		}
	}
	if (dev == NULL) {
		dev = g_new0(GwAdaptedDevice, 1);
		dev->protocol = g_strdup(protocol);
		g_hash_table_insert(self->devices, g_strdup(device_id), dev);
		g_info("%s device %s found", protocol, device_id);
	}
	if (dev->info != NULL)
		gw_device_info_unref(dev->info);
	dev->info = gw_device_info_ref(info);
	g_clear_pointer(&dev->tree, gw_device_tree_unref);
	dev->tree = tree != NULL ? gw_device_tree_ref(tree) : NULL;
	dev->present = TRUE;
}

static void
gw_adapters_detach(GwAdapters *self, const gchar *device_id)
{
	g_autoptr(GError) error = NULL;
	if (!gw_inventory_detach(self->inventory, device_id, &error))
		g_info("device %s: %s", device_id, error->message);
}

static void
gw_adapters_device_lost_cb(GwPlugin *plugin, const gchar *device_id, gpointer user_data)
{
	GwAdapters *self = GW_ADAPTERS(user_data);
	GwAdaptedDevice *dev = g_hash_table_lookup(self->devices, device_id);

	if (dev == NULL || g_strcmp0(dev->protocol, gw_plugin_get_protocol(plugin)) != 0) {
		gw_info_ratelimited("%s lost device %s, which it did not report",
		                    gw_plugin_get_protocol(plugin),
		                    device_id);
		return;
	}
	if (!dev->present)
		return;
	dev->present = FALSE;
	g_info("%s device %s lost", dev->protocol, device_id);
	gw_adapters_detach(self, device_id);
}

/* ---- the registry ---- */

void
gw_adapters_start(GwAdapters *self)
{
	g_autoptr(GPtrArray) records = NULL;

	g_return_if_fail(GW_IS_ADAPTERS(self));
	records = gw_inventory_list(self->inventory);
	for (guint i = 0; i < records->len; i++) {
		const gchar *record = g_ptr_array_index(records, i);
		g_autofree gchar *mode = gw_adapters_record_leaf(self, record, GW_GWMO_DEVICE_MODE);
		g_autofree gchar *status =
		    gw_adapters_record_leaf(self, record, GW_GWMO_DEVICE_STATUS);
		g_autofree gchar *device_id =
		    gw_adapters_record_leaf(self, record, GW_GWMO_DEVICE_DEVICE_ID);

		if (g_strcmp0(mode, "3") != 0 || g_strcmp0(status, GW_GWMO_STATUS_ATTACHED) != 0 ||
		    device_id == NULL || g_hash_table_contains(self->devices, device_id))
			continue;
		/* its adapter reports it again when it is still there */
		g_info("%s: Detached until its adapter reports it", record);
		gw_adapters_detach(self, device_id);
	}
}

static void
gw_adapters_refresh_modes(GwAdapters *self)
{
	g_autoptr(GError) error = NULL;
	if (!gw_gwmo_refresh_supported_modes(self->tree, &error))
		g_warning("cannot update %s: %s", GW_GWMO_CONFIG_SUPPORTED_MODES, error->message);
}

gboolean
gw_adapters_register(GwAdapters *self, GwPlugin *plugin, GwAdapterFlags flags, GError **error)
{
	const gchar *protocol;
	GwAdapter *adapter;

	g_return_val_if_fail(GW_IS_ADAPTERS(self), FALSE);
	g_return_val_if_fail(GW_IS_PLUGIN(plugin), FALSE);

	protocol = gw_plugin_get_protocol(plugin);
	if (protocol == NULL || protocol[0] == '\0') {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "adapter %s names no protocol",
		            gw_plugin_get_name(plugin) != NULL ? gw_plugin_get_name(plugin) : "?");
		return FALSE;
	}
	if (g_hash_table_contains(self->adapters, protocol)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_ALREADY_EXISTS,
		            "protocol %s has an adapter already",
		            protocol);
		return FALSE;
	}
	adapter = g_new0(GwAdapter, 1);
	adapter->plugin = g_object_ref(plugin);
	adapter->flags = flags;
	if ((flags & GW_ADAPTER_FLAG_OWN_TREE) == 0) {
		adapter->found_id = g_signal_connect(
		    plugin, "device-found", G_CALLBACK(gw_adapters_device_found_cb), self);
		adapter->lost_id = g_signal_connect(
		    plugin, "device-lost", G_CALLBACK(gw_adapters_device_lost_cb), self);
	}
	g_hash_table_insert(self->adapters, g_strdup(protocol), adapter);
	if (!gw_adapters_is_oma_dm(protocol)) {
		gw_gwmo_adapter_register(protocol);
		gw_adapters_refresh_modes(self);
	}
	g_message("adapter for %s: %s %s",
	          protocol,
	          gw_plugin_get_name(plugin) != NULL ? gw_plugin_get_name(plugin) : "(built in)",
	          gw_plugin_get_version(plugin) != NULL ? gw_plugin_get_version(plugin) : "");
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0, protocol);
	return TRUE;
}

gboolean
gw_adapters_unregister(GwAdapters *self, const gchar *protocol)
{
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer key, value;

	g_return_val_if_fail(GW_IS_ADAPTERS(self), FALSE);
	if (protocol == NULL || !g_hash_table_remove(self->adapters, protocol))
		return FALSE;
	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		GwAdaptedDevice *dev = value;
		if (g_strcmp0(dev->protocol, protocol) == 0)
			g_ptr_array_add(gone, g_strdup(key));
	}
	for (guint i = 0; i < gone->len; i++) {
		const gchar *device_id = g_ptr_array_index(gone, i);
		g_hash_table_remove(self->devices, device_id);
		gw_adapters_detach(self, device_id);
	}
	if (!gw_adapters_is_oma_dm(protocol)) {
		gw_gwmo_adapter_unregister(protocol);
		gw_adapters_refresh_modes(self);
	}
	g_message("adapter for %s removed (%u device(s) detached)", protocol, gone->len);
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0, protocol);
	return TRUE;
}

GwPlugin *
gw_adapters_lookup(GwAdapters *self, const gchar *protocol)
{
	GwAdapter *adapter;

	g_return_val_if_fail(GW_IS_ADAPTERS(self), NULL);
	adapter = g_hash_table_lookup(
	    self->adapters, gw_adapters_is_oma_dm(protocol) ? GW_GWMO_PROTOCOL_OMA_DM : protocol);
	return adapter != NULL ? adapter->plugin : NULL;
}

static gint
gw_adapters_cmp_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

gchar **
gw_adapters_list_protocols(GwAdapters *self)
{
	g_autofree gpointer *keys = NULL;
	guint n = 0;
	GPtrArray *out = g_ptr_array_new();

	g_return_val_if_fail(GW_IS_ADAPTERS(self), NULL);
	keys = g_hash_table_get_keys_as_array(self->adapters, &n);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(out, g_strdup(keys[i]));
	g_ptr_array_sort(out, gw_adapters_cmp_names);
	g_ptr_array_add(out, NULL);
	return (gchar **)g_ptr_array_free(out, FALSE);
}

GwDeviceTree *
gw_adapters_get_device_tree(GwAdapters *self, const gchar *device_id)
{
	GwAdaptedDevice *dev;

	g_return_val_if_fail(GW_IS_ADAPTERS(self), NULL);
	dev = device_id != NULL ? g_hash_table_lookup(self->devices, device_id) : NULL;
	return dev != NULL && dev->present ? dev->tree : NULL;
}

/* ---- checking a command against what the adapter declared ---- */

static GwDeviceResult *
gw_adapters_answer_children(const gchar *uri, gchar **names)
{
	g_autofree gchar *joined = g_strjoinv("/", names);
	GwDeviceResult *result = gw_device_result_new_value(uri, "node", joined);
	return result;
}

/* ./DevInfo and its leaves, from what the adapter reported */
static GwDeviceResult *
gw_adapters_answer_devinfo(GwAdaptedDevice *dev, GwDeviceCommand *cmd, const gchar *uri)
{
	const gchar *leaf;
	const gchar *value;

	if (gw_device_command_get_op(cmd) != GW_DEVICE_OP_GET)
		return gw_device_result_new(GW_DM_STATUS_COMMAND_NOT_ALLOWED);
	if (g_strcmp0(uri, GW_ADAPTERS_DEVINFO) == 0) {
		g_autofree const gchar **leaves = gw_device_info_list_devinfo(dev->info);
		g_autoptr(GPtrArray) names = g_ptr_array_new();
		g_ptr_array_add(names, (gpointer)GW_ADAPTERS_DEVINFO_DEV_ID);
		for (guint i = 0; leaves[i] != NULL; i++)
			g_ptr_array_add(names, (gpointer)leaves[i]);
		g_ptr_array_add(names, NULL);
		return gw_adapters_answer_children(uri, (gchar **)names->pdata);
	}
	leaf = uri + strlen(GW_ADAPTERS_DEVINFO "/");
	if (g_strcmp0(leaf, GW_ADAPTERS_DEVINFO_DEV_ID) == 0)
		return gw_device_result_new_value(
		    uri, "chr", gw_device_info_get_device_id(dev->info));
	value = strchr(leaf, '/') == NULL ? gw_device_info_get_devinfo(dev->info, leaf) : NULL;
	if (value == NULL)
		return gw_device_result_new(GW_DM_STATUS_NOT_FOUND);
	return gw_device_result_new_value(uri, "chr", value);
}

/* the nearest ancestor of @uri (not @uri itself) declared dynamic, or NULL */
static gchar *
gw_adapters_dynamic_ancestor(GwDeviceTree *tree, const gchar *uri)
{
	g_autofree gchar *parent = gw_dm_uri_parent(uri);

	while (parent != NULL && g_strcmp0(parent, ".") != 0) {
		gchar *next;
		if (gw_device_tree_is_dynamic(tree, parent))
			return g_steal_pointer(&parent);
		next = gw_dm_uri_parent(parent);
		g_free(parent);
		parent = next;
	}
	return NULL;
}

static GwDeviceAccess
gw_adapters_access_of(GwDeviceOp op)
{
	switch (op) {
	case GW_DEVICE_OP_GET:
		return GW_DEVICE_ACCESS_GET;
	case GW_DEVICE_OP_REPLACE:
		return GW_DEVICE_ACCESS_REPLACE;
	case GW_DEVICE_OP_ADD:
		return GW_DEVICE_ACCESS_ADD;
	case GW_DEVICE_OP_DELETE:
		return GW_DEVICE_ACCESS_DELETE;
	case GW_DEVICE_OP_EXEC:
		return GW_DEVICE_ACCESS_EXEC;
	default:
		return GW_DEVICE_ACCESS_NONE;
	}
}

/* a Replace's value against the node's format */
static guint
gw_adapters_check_value(GwDeviceCommand *cmd, const gchar *node_format)
{
	const gchar *format = gw_device_command_get_format(cmd);
	GwDmFormat dm_format = gw_dm_format_from_string(node_format);
	g_autoptr(GBytes) empty = NULL;
	GBytes *data = gw_device_command_get_data(cmd);
	g_autoptr(GError) error = NULL;

	if (format != NULL && format[0] != '\0' && g_strcmp0(format, node_format) != 0)
		return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	if (data == NULL)
		data = empty = g_bytes_new_static("", 0);
	if (!gw_dm_format_validate_value(dm_format, data, &error)) {
		g_info("%s %s: %s",
		       gw_device_command_get_op_name(cmd),
		       gw_device_command_get_uri(cmd),
		       error->message);
		return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	}
	return GW_DM_STATUS_OK;
}

/*
 * The registry's part of a command for an adapted device: a result when the registry answers
 * it (a refusal, a DevInfo or interior or static Get), or NULL when the adapter is to run it
 */
static GwDeviceResult *
gw_adapters_check(GwAdaptedDevice *dev, GwDeviceCommand *cmd)
{
	GwDeviceOp op = gw_device_command_get_op(cmd);
	GwDeviceAccess want = gw_adapters_access_of(op);
	g_autofree gchar *uri = NULL;
	g_autofree gchar *dynamic = NULL;
	const gchar *format = NULL;
	const gchar *static_value = NULL;
	GwDeviceAccess access = GW_DEVICE_ACCESS_NONE;
	guint status = GW_DM_STATUS_OK;

	uri = gw_dm_uri_normalize(gw_device_command_get_uri(cmd), NULL, &status, NULL);
	if (uri == NULL)
		return gw_device_result_new(status);
	if (gw_dm_uri_is_below(uri, GW_ADAPTERS_DEVINFO))
		return gw_adapters_answer_devinfo(dev, cmd, uri);
	if (dev->tree == NULL) {
		/* no tree: ./DevInfo and its root */
		if (g_strcmp0(uri, ".") == 0 && op == GW_DEVICE_OP_GET) {
			const gchar *names[] = {"DevInfo", NULL};
			return gw_adapters_answer_children(uri, (gchar **)names);
		}
		return gw_device_result_new(GW_DM_STATUS_NOT_FOUND);
	}
	dynamic = gw_adapters_dynamic_ancestor(dev->tree, uri);
	if (dynamic != NULL) {
		g_autofree gchar *parent = gw_dm_uri_parent(uri);
		/* the adapter answers below it; making and removing its children needs the
		 * access the adapter declared */
		if (g_strcmp0(parent, dynamic) == 0 &&
		    (op == GW_DEVICE_OP_ADD || op == GW_DEVICE_OP_DELETE ||
		     op == GW_DEVICE_OP_GET)) {
			gw_device_tree_lookup(dev->tree, dynamic, NULL, &access, NULL);
			if ((access & want) == 0)
				return gw_device_result_new(GW_DM_STATUS_COMMAND_NOT_ALLOWED);
		}
		return NULL;
	}
	if (!gw_device_tree_lookup(dev->tree, uri, &format, &access, &static_value)) {
		if (g_strcmp0(uri, ".") == 0)
			format = "node", access = GW_DEVICE_ACCESS_GET;
		else
			return gw_device_result_new(GW_DM_STATUS_NOT_FOUND);
	}
	/* an Add of a declared node: it exists already */
	if ((access & want) == 0)
		return gw_device_result_new(op == GW_DEVICE_OP_ADD
		                                ? GW_DM_STATUS_ALREADY_EXISTS
		                                : GW_DM_STATUS_COMMAND_NOT_ALLOWED);
	if (op == GW_DEVICE_OP_REPLACE) {
		status = gw_adapters_check_value(cmd, format);
		if (status != GW_DM_STATUS_OK)
			return gw_device_result_new(status);
		return NULL;
	}
	if (op != GW_DEVICE_OP_GET)
		return NULL;
	if (static_value != NULL)
		return gw_device_result_new_value(uri, format, static_value);
	if (g_strcmp0(format, "node") == 0 && !gw_device_tree_is_dynamic(dev->tree, uri)) {
		g_auto(GStrv) names = gw_device_tree_list_children(dev->tree, uri);
		g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
		g_auto(GStrv) all = NULL;
		if (g_strcmp0(uri, ".") == 0 &&
		    (names == NULL || !g_strv_contains((const gchar *const *)names, "DevInfo")))
			g_strv_builder_add(builder, "DevInfo");
		if (names != NULL)
			g_strv_builder_addv(builder, (const gchar **)names);
		all = g_strv_builder_end(builder);
		if (g_strcmp0(uri, ".") == 0)
			qsort(all, g_strv_length(all), sizeof(gchar *), gw_adapters_cmp_names);
		return gw_adapters_answer_children(uri, all);
	}
	return NULL;
}

/* ---- running a command ---- */

typedef struct {
	gint ref_count;
	GTask *task; /* NULL once answered */
	gchar *device_id;
	GwDeviceCommand *cmd;
	GwPlugin *plugin;
	GCancellable *call_cancellable; /* the plugin's */
	GCancellable *caller;           /* nullable */
	gulong caller_id;
	guint timer_id;
	guint cancel_idle_id;
} GwAdapterCall;

static GwAdapterCall *
gw_adapter_call_ref(GwAdapterCall *call)
{
	call->ref_count++;
	return call;
}

static void
gw_adapter_call_unref(GwAdapterCall *call)
{
	if (--call->ref_count > 0)
		return;
	g_assert(call->task == NULL);
	g_free(call->device_id);
	gw_device_command_unref(call->cmd);
	g_clear_object(&call->plugin);
	g_clear_object(&call->call_cancellable);
	g_clear_object(&call->caller);
	g_free(call);
}

/* the call is answered: no timer, no interest in the caller's cancellable any more */
static GTask *
gw_adapter_call_settle(GwAdapterCall *call)
{
	g_clear_handle_id(&call->timer_id, g_source_remove);
	g_clear_handle_id(&call->cancel_idle_id, g_source_remove);
	if (call->caller != NULL && call->caller_id != 0) {
		g_cancellable_disconnect(call->caller, call->caller_id);
		call->caller_id = 0;
	}
	return g_steal_pointer(&call->task);
}

static void
gw_adapter_call_return(GwAdapterCall *call, GwDeviceResult *result)
{
	g_autoptr(GTask) task = gw_adapter_call_settle(call);
	g_task_return_pointer(task, result, (GDestroyNotify)gw_device_result_unref);
}

static void
gw_adapters_plugin_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwAdapterCall *call = user_data;
	g_autoptr(GError) error = NULL;
	GwDeviceResult *result = gw_plugin_run_command_finish(GW_PLUGIN(source), res, &error);

	if (call->task == NULL) {
		/* answered already (408 at the deadline, or the caller cancelled) */
		g_debug("%s: late answer of %s for %s ignored",
		        gw_plugin_get_protocol(call->plugin),
		        gw_device_command_get_op_name(call->cmd),
		        call->device_id);
		g_clear_pointer(&result, gw_device_result_unref);
	} else if (result == NULL) {
		const gchar *message = error != NULL
		                           ? error->message
		                           : "the adapter gave neither a result nor an error";
		g_info("%s for %s: %s failed: %s",
		       gw_device_command_get_op_name(call->cmd),
		       call->device_id,
		       gw_plugin_get_protocol(call->plugin),
		       message);
		gw_adapter_call_return(
		    call,
		    gw_device_result_new_fault(GW_DM_STATUS_COMMAND_FAILED,
		                               gw_device_command_get_uri(call->cmd),
		                               message));
	} else {
		gw_adapter_call_return(call, result);
	}
	gw_adapter_call_unref(call);
}

static gboolean
gw_adapters_deadline_cb(gpointer user_data)
{
	GwAdapterCall *call = user_data;

	call->timer_id = 0;
	g_info("%s for device %s: no answer from the %s adapter in time",
	       gw_device_command_get_op_name(call->cmd),
	       call->device_id,
	       gw_plugin_get_protocol(call->plugin));
	g_cancellable_cancel(call->call_cancellable);
	if (call->task != NULL)
		gw_adapter_call_return(call, gw_device_result_new(GW_DM_STATUS_REQUEST_TIMEOUT));
	return G_SOURCE_REMOVE;
}

static gboolean
gw_adapters_caller_cancel_idle_cb(gpointer user_data)
{
	GwAdapterCall *call = user_data;
	g_autoptr(GTask) task = NULL;

	call->cancel_idle_id = 0;
	g_cancellable_cancel(call->call_cancellable);
	if (call->task == NULL)
		return G_SOURCE_REMOVE;
	task = gw_adapter_call_settle(call);
	g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
	return G_SOURCE_REMOVE;
}

/* the caller cancelled (in the main thread): answered from an idle, as a cancellable's
 * handler may not disconnect itself */
static void
gw_adapters_caller_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	GwAdapterCall *call = user_data;
	if (call->cancel_idle_id == 0)
		call->cancel_idle_id = g_idle_add_full(G_PRIORITY_DEFAULT,
		                                       gw_adapters_caller_cancel_idle_cb,
		                                       gw_adapter_call_ref(call),
		                                       (GDestroyNotify)gw_adapter_call_unref);
}

static void
gw_adapters_return_now(GTask *task, GwDeviceResult *result)
{
	g_task_return_pointer(task, result, (GDestroyNotify)gw_device_result_unref);
}

void
gw_adapters_run_command_async(GwAdapters *self,
                              const gchar *device_id,
                              GwDeviceCommand *cmd,
                              guint timeout_ms,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *protocol = NULL;
	GwAdapter *adapter;
	GwAdapterCall *call;
	gint64 deadline;

	g_return_if_fail(GW_IS_ADAPTERS(self));
	g_return_if_fail(device_id != NULL);
	g_return_if_fail(cmd != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, gw_adapters_run_command_async);
	if (g_cancellable_set_error_if_cancelled(cancellable, NULL)) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
		return;
	}
	record = gw_inventory_find(self->inventory, device_id);
	if (record == NULL) {
		g_info(
		    "%s for unknown device %s: 404", gw_device_command_get_op_name(cmd), device_id);
		gw_adapters_return_now(task, gw_device_result_new(GW_DM_STATUS_NOT_FOUND));
		return;
	}
	protocol = gw_adapters_record_protocol(self, record);
	adapter = g_hash_table_lookup(self->adapters, protocol);
	if (adapter == NULL) {
		gw_info_ratelimited("%s for device %s: no adapter for protocol %s is loaded: 503",
		                    gw_device_command_get_op_name(cmd),
		                    device_id,
		                    protocol);
		gw_adapters_return_now(task,
		                       gw_device_result_new(GW_DM_STATUS_SERVICE_UNAVAILABLE));
		return;
	}
	if ((adapter->flags & GW_ADAPTER_FLAG_OWN_TREE) == 0) {
		GwAdaptedDevice *dev = g_hash_table_lookup(self->devices, device_id);
		GwDeviceResult *answer;
		if (dev == NULL || !dev->present) {
			g_info("%s for device %s: its %s adapter does not report it: 410",
			       gw_device_command_get_op_name(cmd),
			       device_id,
			       protocol);
			gw_adapters_return_now(task, gw_device_result_new(GW_DM_STATUS_GONE));
			return;
		}
		answer = gw_adapters_check(dev, cmd);
		if (answer != NULL) {
			g_debug("%s %s for device %s answered by the gateway: %u",
			        gw_device_command_get_op_name(cmd),
			        gw_device_command_get_uri(cmd),
			        device_id,
			        gw_device_result_get_status(answer));
			gw_adapters_return_now(task, answer);
			return;
		}
	}

	call = g_new0(GwAdapterCall, 1);
	call->ref_count = 1;
	call->task = g_steal_pointer(&task);
	call->device_id = g_strdup(device_id);
	call->cmd = gw_device_command_ref(cmd);
	call->plugin = g_object_ref(adapter->plugin);
	call->call_cancellable = g_cancellable_new();
	if (timeout_ms == 0)
		timeout_ms = GW_ADAPTERS_DEFAULT_TIMEOUT_MS;
	deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	/* the timer and the cancellation handler borrow the call: both go when it is answered,
	 * and the plugin's callback holds it until then */
	call->timer_id =
	    g_timeout_add_full(G_PRIORITY_DEFAULT, timeout_ms, gw_adapters_deadline_cb, call, NULL);
	if (cancellable != NULL) {
		call->caller = g_object_ref(cancellable);
		call->caller_id = g_cancellable_connect(
		    cancellable, G_CALLBACK(gw_adapters_caller_cancelled_cb), call, NULL);
	}
	gw_plugin_run_command_async(call->plugin,
	                            device_id,
	                            cmd,
	                            deadline,
	                            call->call_cancellable,
	                            gw_adapters_plugin_done_cb,
	                            gw_adapter_call_ref(call));
	gw_adapter_call_unref(call);
}

GwDeviceResult *
gw_adapters_run_command_finish(GwAdapters *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- GObject ---- */

static void
gw_adapters_dispose(GObject *object)
{
	GwAdapters *self = GW_ADAPTERS(object);
	g_hash_table_remove_all(self->adapters);
	g_hash_table_remove_all(self->devices);
	g_clear_object(&self->inventory);
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(gw_adapters_parent_class)->dispose(object);
}

static void
gw_adapters_finalize(GObject *object)
{
	GwAdapters *self = GW_ADAPTERS(object);
	g_hash_table_unref(self->adapters);
	g_hash_table_unref(self->devices);
	G_OBJECT_CLASS(gw_adapters_parent_class)->finalize(object);
}

static void
gw_adapters_class_init(GwAdaptersClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_adapters_dispose;
	object_class->finalize = gw_adapters_finalize;

	/* GwAdapters::changed: the adapter of @protocol came or went (gw_adapters_register(),
	 * gw_adapters_unregister()) */
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
	                                       G_TYPE_FROM_CLASS(klass),
	                                       G_SIGNAL_RUN_LAST,
	                                       0,
	                                       NULL,
	                                       NULL,
	                                       NULL,
	                                       G_TYPE_NONE,
	                                       1,
	                                       G_TYPE_STRING);
}

static void
gw_adapters_init(GwAdapters *self)
{
	self->adapters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_adapter_free);
	self->devices =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_adapted_device_free);
}

GwAdapters *
gw_adapters_new(GwDmTree *tree, GwInventory *inventory)
{
	GwAdapters *self;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(GW_IS_INVENTORY(inventory), NULL);
	self = g_object_new(GW_TYPE_ADAPTERS, NULL);
	self->tree = g_object_ref(tree);
	self->inventory = g_object_ref(inventory);
	return self;
}
