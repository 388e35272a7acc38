/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwOmadm"

#include "config.h"

#include <string.h>

#include "gw-gwmo-names.h"
#include "gw-omadm-adapter.h"
#include "gw-plugin-private.h"

struct _GwOmadmAdapter {
	GwPlugin parent_instance;
	GwSouthbound *southbound;
};

G_DEFINE_FINAL_TYPE(GwOmadmAdapter, gw_omadm_adapter, GW_TYPE_PLUGIN)

static const GwSyncmlCmdType gw_omadm_types[] = {
    [GW_DEVICE_OP_GET] = GW_SYNCML_CMD_GET,
    [GW_DEVICE_OP_REPLACE] = GW_SYNCML_CMD_REPLACE,
    [GW_DEVICE_OP_ADD] = GW_SYNCML_CMD_ADD,
    [GW_DEVICE_OP_DELETE] = GW_SYNCML_CMD_DELETE,
    [GW_DEVICE_OP_EXEC] = GW_SYNCML_CMD_EXEC,
};

/* one item for the command's node; its data (default format chr) when the command has any */
static GwSyncmlCommand *
gw_omadm_adapter_to_syncml(GwDeviceCommand *cmd)
{
	GwSyncmlCommand *syncml =
	    gw_syncml_command_new(gw_omadm_types[gw_device_command_get_op(cmd)]);
	GwSyncmlItem *item = gw_syncml_item_new(gw_device_command_get_uri(cmd), NULL);
	const gchar *format = gw_device_command_get_format(cmd);
	const gchar *type = gw_device_command_get_mime_type(cmd);

	if (gw_device_command_get_data(cmd) != NULL)
		gw_syncml_item_set_data(item,
		                        format != NULL && format[0] != '\0' ? format : "chr",
		                        type != NULL && type[0] != '\0' ? type : NULL,
		                        gw_device_command_get_data_string(cmd));
	gw_syncml_command_add_item(syncml, item);
	return syncml;
}

static void
gw_omadm_adapter_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	g_autoptr(GPtrArray) items = NULL;
	g_autoptr(GError) error = NULL;
	GwDeviceResult *result;
	guint status = 0;

	if (!gw_southbound_send_command_finish(
	        GW_SOUTHBOUND(source), res, &status, &items, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	result = gw_device_result_new(status);
	for (guint i = 0; items != NULL && i < items->len; i++) {
		GwSyncmlItem *item = g_ptr_array_index(items, i);
		g_autoptr(GBytes) data =
		    item->data != NULL ? g_bytes_new(item->data, strlen(item->data)) : NULL;
		gw_device_result_add_item(result,
		                          item->source_uri != NULL ? item->source_uri
		                                                   : item->target_uri,
		                          item->meta.format,
		                          item->meta.type,
		                          data);
	}
	g_task_return_pointer(task, result, (GDestroyNotify)gw_device_result_unref);
}

static void
gw_omadm_adapter_run_command_async(GwPlugin *plugin,
                                   const gchar *device_id,
                                   GwDeviceCommand *cmd,
                                   gint64 deadline,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
	GwOmadmAdapter *self = GW_OMADM_ADAPTER(plugin);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	gint64 left = deadline - g_get_monotonic_time();
	/* whole seconds, rounded up: the registry's timer answers at the deadline itself */
	guint timeout_s = (guint)CLAMP((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1, G_MAXUINT);

	g_task_set_source_tag(task, gw_omadm_adapter_run_command_async);
	gw_southbound_send_command_async(self->southbound,
	                                 device_id,
	                                 gw_omadm_adapter_to_syncml(cmd),
	                                 timeout_s,
	                                 cancellable,
	                                 gw_omadm_adapter_sent_cb,
	                                 task);
}

static GwDeviceResult *
gw_omadm_adapter_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, plugin), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
gw_omadm_adapter_dispose(GObject *object)
{
	GwOmadmAdapter *self = GW_OMADM_ADAPTER(object);
	g_clear_object(&self->southbound);
	G_OBJECT_CLASS(gw_omadm_adapter_parent_class)->dispose(object);
}

static void
gw_omadm_adapter_class_init(GwOmadmAdapterClass *klass)
{
	GwPluginClass *plugin_class = GW_PLUGIN_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = gw_omadm_adapter_dispose;
	plugin_class->run_command_async = gw_omadm_adapter_run_command_async;
	plugin_class->run_command_finish = gw_omadm_adapter_run_command_finish;
}

static void
gw_omadm_adapter_init(GwOmadmAdapter *self)
{
	gw_plugin_set_protocol(GW_PLUGIN(self), GW_GWMO_PROTOCOL_OMA_DM);
	gw_plugin_set_version(GW_PLUGIN(self), PACKAGE_VERSION);
}

GwPlugin *
gw_omadm_adapter_new(GwSouthbound *southbound)
{
	GwOmadmAdapter *self;

	g_return_val_if_fail(GW_IS_SOUTHBOUND(southbound), NULL);
	self = g_object_new(GW_TYPE_OMADM_ADAPTER, NULL);
	self->southbound = g_object_ref(southbound);
	gw_plugin_set_name(GW_PLUGIN(self), "omadm");
	return GW_PLUGIN(self);
}
