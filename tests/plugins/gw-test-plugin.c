/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test plugins of the loader (built, never installed), all from this file; meson picks the
 * variant:
 *   GW_TEST_TYPE           the GType's name (each module its own: they share a process)
 *   GW_TEST_PROTOCOL       the protocol it adapts
 *   GW_TEST_FAIL_STARTUP   startup() fails with an error
 *   GW_TEST_ABORT_STARTUP  startup() aborts gwmod
 *   GW_TEST_HANG           run_command never completes, cancelled or not
 *   GW_TEST_CRASH          run_command crashes gwmod
 *   GW_TEST_NO_PROTOCOL    names no protocol
 * Otherwise a good adapter: at startup it reports [<name>] devices= devices (default 1),
 * "<protocol>-dev-<n>", whose tree is ./Test/Value (chr, Get/Replace, kept in memory),
 * ./Test/Greeting (static: [<name>] greeting=, default "hello") and ./Test/Echo (Exec: answers
 * its data). Only the installed SDK is used (<gw-plugin-sdk.h>).
 */

#include <gw-plugin-sdk.h>
#include <stdlib.h>

#ifndef GW_TEST_TYPE
#define GW_TEST_TYPE GwTestPlugin
#endif
#ifndef GW_TEST_PROTOCOL
#define GW_TEST_PROTOCOL "Test"
#endif

#define GW_TEST_CLASS_(t) t##Class
#define GW_TEST_CLASS(t) GW_TEST_CLASS_(t)

typedef struct {
	GwPlugin parent_instance;
	GHashTable *values; /* device id → value of ./Test/Value */
	GPtrArray *hung;    /* GTask: the calls that never complete */
} GW_TEST_TYPE;

typedef struct {
	GwPluginClass parent_class;
} GW_TEST_CLASS(GW_TEST_TYPE);

GType
gw_test_plugin_get_type(void);
G_DEFINE_TYPE(GW_TEST_TYPE, gw_test_plugin, GW_TYPE_PLUGIN)

#define GW_TEST_PLUGIN(o) ((GW_TEST_TYPE *)(o))

static gboolean
gw_test_plugin_startup(GwPlugin *plugin, GError **error)
{
	GW_TEST_TYPE *self = GW_TEST_PLUGIN(plugin);
	g_autofree gchar *greeting = gw_plugin_get_config_value(plugin, "greeting");
	gint64 n_devices = gw_plugin_get_config_int(plugin, "devices", 1);

#ifdef GW_TEST_FAIL_STARTUP
	g_set_error_literal(error, GW_ERROR, GW_ERROR_FAILED, "the test says no");
	return FALSE;
#endif
#ifdef GW_TEST_ABORT_STARTUP
	g_message("plugin %s aborts in its startup", gw_plugin_get_name(plugin));
	abort();
#endif
	for (gint64 i = 1; i <= n_devices; i++) {
		g_autofree gchar *id =
		    g_strdup_printf("%s-dev-%" G_GINT64_FORMAT, GW_TEST_PROTOCOL, i);
		g_autoptr(GwDeviceInfo) info = gw_device_info_new(id);
		g_autoptr(GwDeviceTree) tree = gw_device_tree_new();

		gw_device_info_set_address(info, "test://here");
		gw_device_info_set_devinfo(info, "Man", "gwmo tests");
		gw_device_info_set_devinfo(info, "Mod", GW_TEST_PROTOCOL);
		gw_device_tree_add_leaf(tree,
		                        "./Test/Value",
		                        "chr",
		                        GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE,
		                        NULL);
		gw_device_tree_add_static(
		    tree, "./Test/Greeting", "chr", greeting != NULL ? greeting : "hello");
		gw_device_tree_add_leaf(tree, "./Test/Echo", "chr", GW_DEVICE_ACCESS_EXEC, NULL);
		g_hash_table_insert(self->values, g_strdup(id), g_strdup("0"));
		gw_plugin_device_found(plugin, info, tree);
	}
	return TRUE;
}

static void
gw_test_plugin_shutdown(GwPlugin *plugin)
{
	GW_TEST_TYPE *self = GW_TEST_PLUGIN(plugin);

	/* what hung is answered now, cancelled: the gateway gave up on it long ago, but a call
	 * counts as in flight (and its GTask lives) until it completes */
	for (guint i = 0; i < self->hung->len; i++)
		g_task_return_new_error(g_ptr_array_index(self->hung, i),
		                        G_IO_ERROR,
		                        G_IO_ERROR_CANCELLED,
		                        "the plugin stops");
	g_ptr_array_set_size(self->hung, 0);
}

static void
gw_test_plugin_run_command_async(GwPlugin *plugin,
                                 const gchar *device_id,
                                 GwDeviceCommand *cmd,
                                 gint64 deadline,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
	GW_TEST_TYPE *self = GW_TEST_PLUGIN(plugin);
	g_autoptr(GTask) task = g_task_new(plugin, cancellable, callback, user_data);
	const gchar *uri = gw_device_command_get_uri(cmd);
	const gchar *value;

#ifdef GW_TEST_CRASH
	g_message("plugin %s crashes on %s %s",
	          gw_plugin_get_name(plugin),
	          gw_device_command_get_op_name(cmd),
	          uri);
	abort();
#endif
#ifdef GW_TEST_HANG
	/* no answer, ever; cancellation is ignored too */
	g_message("plugin %s hangs on %s %s",
	          gw_plugin_get_name(plugin),
	          gw_device_command_get_op_name(cmd),
	          uri);
	g_ptr_array_add(self->hung, g_steal_pointer(&task));
	return;
#endif
	value = g_hash_table_lookup(self->values, device_id);
	if (value == NULL) {
		g_task_return_new_error(
		    task, GW_ERROR, GW_ERROR_NOT_FOUND, "no device %s here", device_id);
		return;
	}
	switch (gw_device_command_get_op(cmd)) {
	case GW_DEVICE_OP_GET:
		g_task_return_pointer(task,
		                      gw_device_result_new_value(uri, "chr", value),
		                      (GDestroyNotify)gw_device_result_unref);
		return;
	case GW_DEVICE_OP_REPLACE:
		g_hash_table_insert(self->values,
		                    g_strdup(device_id),
		                    g_strdup(gw_device_command_get_data_string(cmd)));
		g_task_return_pointer(task,
		                      gw_device_result_new(GW_DEVICE_STATUS_OK),
		                      (GDestroyNotify)gw_device_result_unref);
		return;
	case GW_DEVICE_OP_EXEC:
		g_task_return_pointer(
		    task,
		    gw_device_result_new_value(uri, "chr", gw_device_command_get_data_string(cmd)),
		    (GDestroyNotify)gw_device_result_unref);
		return;
	case GW_DEVICE_OP_ADD:
	case GW_DEVICE_OP_DELETE:
	default:
		g_task_return_pointer(task,
		                      gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED),
		                      (GDestroyNotify)gw_device_result_unref);
		return;
	}
}

static GwDeviceResult *
gw_test_plugin_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
gw_test_plugin_finalize(GObject *object)
{
	GW_TEST_TYPE *self = GW_TEST_PLUGIN(object);

	g_hash_table_unref(self->values);
	g_ptr_array_unref(self->hung);
	G_OBJECT_CLASS(gw_test_plugin_parent_class)->finalize(object);
}

static void
gw_test_plugin_class_init(GW_TEST_CLASS(GW_TEST_TYPE) * klass)
{
	GwPluginClass *plugin_class = GW_PLUGIN_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = gw_test_plugin_finalize;
	plugin_class->startup = gw_test_plugin_startup;
	plugin_class->shutdown = gw_test_plugin_shutdown;
	plugin_class->run_command_async = gw_test_plugin_run_command_async;
	plugin_class->run_command_finish = gw_test_plugin_run_command_finish;
}

static void
gw_test_plugin_init(GW_TEST_TYPE *self)
{
	self->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->hung = g_ptr_array_new_with_free_func(g_object_unref);
#ifndef GW_TEST_NO_PROTOCOL
	gw_plugin_set_protocol(GW_PLUGIN(self), GW_TEST_PROTOCOL);
#endif
	gw_plugin_set_version(GW_PLUGIN(self), "1.2.3");
}

GW_PLUGIN_DEFINE_MODULE(gw_test_plugin_get_type())
