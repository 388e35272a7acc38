/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test adapter (protocol "Test"): a few fake devices with a declared tree, built against
 * the SDK alone and never installed. It drives the adapter registry end to end in the tests:
 * every answer the registry must give for it, and every way a plugin can answer (a value, a
 * fault, an error, nothing until cancelled, too late).
 *
 * [test] devices=N (default 2): devices TEST-DEV-1 … TEST-DEV-N, reported from an idle after
 * startup, each with DevInfo Man=gwmo, Mod=test-plugin, FwV=1.0.<i>, DevTyp=fake, address
 * test://TEST-DEV-<i>, and the tree:
 *   ./Test/Name                static chr "Fake device <i>"
 *   ./Test/Switch              bool, Get Replace        (starts "false")
 *   ./Test/Level               int, Get Replace         (starts "0")
 *   ./Test/Secret              chr, Replace only
 *   ./Test/Items               dynamic: Add, Delete, Get of <name> (chr values)
 *   ./Test/Operations/Echo     Exec: one result item, the data
 *   ./Test/Operations/Fail     Exec: a GError "the device refused: <data>"
 *   ./Test/Operations/Fault    Exec: status 500 with "fault: <data>" as data
 *   ./Test/Operations/Hang     Exec: no answer until cancelled (then G_IO_ERROR_CANCELLED)
 *   ./Test/Operations/Late     Exec: ignores cancellation, answers 200 after [test] late-ms
 *                              (default 1500)
 *   ./Test/Operations/Leave    Exec: answers 200, then the device is lost
 * [test] delay-ms=N (default 0): every other answer comes after N ms.
 * Property "calls" (guint, read-only): the commands the plugin was handed.
 */

#include <gw-plugin-sdk.h>
#include <string.h>

#define GW_TYPE_TEST_PLUGIN (gw_test_plugin_get_type())
G_DECLARE_FINAL_TYPE(GwTestPlugin, gw_test_plugin, GW, TEST_PLUGIN, GwPlugin)

typedef struct {
	gchar *id;
	gboolean present;
	gchar *switch_value;
	gchar *level;
	gchar *secret;
	GHashTable *items; /* name → value */
} GwTestDevice;

struct _GwTestPlugin {
	GwPlugin parent_instance;
	GHashTable *devices; /* id → GwTestDevice */
	guint announce_id;
	guint calls;
	guint delay_ms;
	guint late_ms;
	GCancellable *cancellable; /* shutdown */
};

G_DEFINE_FINAL_TYPE(GwTestPlugin, gw_test_plugin, GW_TYPE_PLUGIN)

enum { PROP_0, PROP_CALLS, PROP_LAST };

#define GW_TEST_PREFIX "./Test/"

static void
gw_test_device_free(gpointer data)
{
	GwTestDevice *dev = data;
	g_free(dev->id);
	g_free(dev->switch_value);
	g_free(dev->level);
	g_free(dev->secret);
	g_hash_table_unref(dev->items);
	g_free(dev);
}

static GwDeviceTree *
gw_test_plugin_tree(guint index)
{
	GwDeviceTree *tree = gw_device_tree_new();
	g_autofree gchar *name = g_strdup_printf("Fake device %u", index);

	gw_device_tree_add_static(tree, "./Test/Name", "chr", name);
	gw_device_tree_add_leaf(
	    tree, "./Test/Switch", "bool", GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE, NULL);
	gw_device_tree_add_leaf(
	    tree, "./Test/Level", "int", GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE, NULL);
	gw_device_tree_add_leaf(tree, "./Test/Secret", "chr", GW_DEVICE_ACCESS_REPLACE, NULL);
	gw_device_tree_add_dynamic(
	    tree, "./Test/Items", GW_DEVICE_ACCESS_ADD | GW_DEVICE_ACCESS_DELETE);
	gw_device_tree_add_leaf(tree, "./Test/Operations/Echo", "chr", GW_DEVICE_ACCESS_EXEC, NULL);
	gw_device_tree_add_leaf(tree, "./Test/Operations/Fail", "chr", GW_DEVICE_ACCESS_EXEC, NULL);
	gw_device_tree_add_leaf(
	    tree, "./Test/Operations/Fault", "chr", GW_DEVICE_ACCESS_EXEC, NULL);
	gw_device_tree_add_leaf(
	    tree, "./Test/Operations/Hang", "null", GW_DEVICE_ACCESS_EXEC, NULL);
	gw_device_tree_add_leaf(
	    tree, "./Test/Operations/Late", "null", GW_DEVICE_ACCESS_EXEC, NULL);
	gw_device_tree_add_leaf(
	    tree, "./Test/Operations/Leave", "null", GW_DEVICE_ACCESS_EXEC, NULL);
	return tree;
}

static void
gw_test_plugin_announce(GwTestPlugin *self, GwTestDevice *dev, guint index)
{
	g_autoptr(GwDeviceInfo) info = gw_device_info_new(dev->id);
	g_autoptr(GwDeviceTree) tree = gw_test_plugin_tree(index);
	g_autofree gchar *address = g_strdup_printf("test://%s", dev->id);
	g_autofree gchar *fwv = g_strdup_printf("1.0.%u", index);

	gw_device_info_set_address(info, address);
	gw_device_info_set_devinfo(info, "Man", "gwmo");
	gw_device_info_set_devinfo(info, "Mod", "test-plugin");
	gw_device_info_set_devinfo(info, "FwV", fwv);
	gw_device_info_set_devinfo(info, "DevTyp", "fake");
	dev->present = TRUE;
	gw_plugin_device_found(GW_PLUGIN(self), info, tree);
}

static gboolean
gw_test_plugin_announce_cb(gpointer user_data)
{
	GwTestPlugin *self = GW_TEST_PLUGIN(user_data);
	guint n = g_hash_table_size(self->devices);

	self->announce_id = 0;
	for (guint i = 1; i <= n; i++) {
		g_autofree gchar *id = g_strdup_printf("TEST-DEV-%u", i);
		gw_test_plugin_announce(self, g_hash_table_lookup(self->devices, id), i);
	}
	g_message("%u fake device(s) reported", n);
	return G_SOURCE_REMOVE;
}

static gboolean
gw_test_plugin_startup(GwPlugin *plugin, GError **error)
{
	GwTestPlugin *self = GW_TEST_PLUGIN(plugin);
	gint64 n = gw_plugin_get_config_int(plugin, "devices", 2);

	if (n < 0 || n > 100000) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "[test] devices=%" G_GINT64_FORMAT " is not 0 to 100000",
		            n);
		return FALSE;
	}
	self->delay_ms = (guint)CLAMP(gw_plugin_get_config_int(plugin, "delay-ms", 0), 0, 60000);
	self->late_ms = (guint)CLAMP(gw_plugin_get_config_int(plugin, "late-ms", 1500), 0, 60000);
	for (gint64 i = 1; i <= n; i++) {
		GwTestDevice *dev = g_new0(GwTestDevice, 1);
		dev->id = g_strdup_printf("TEST-DEV-%" G_GINT64_FORMAT, i);
		dev->switch_value = g_strdup("false");
		dev->level = g_strdup("0");
		dev->secret = g_strdup("");
		dev->items = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_hash_table_insert(self->devices, g_strdup(dev->id), dev);
	}
	/* as a real adapter: devices turn up after startup, never inside it */
	self->announce_id = g_idle_add(gw_test_plugin_announce_cb, self);
	return TRUE;
}

static void
gw_test_plugin_shutdown(GwPlugin *plugin)
{
	GwTestPlugin *self = GW_TEST_PLUGIN(plugin);
	g_clear_handle_id(&self->announce_id, g_source_remove);
	g_cancellable_cancel(self->cancellable);
}

/* ---- commands ---- */

typedef struct {
	GTask *task;
	GwDeviceResult *result; /* nullable: then error */
	GError *error;
	gchar *leave; /* DeviceID to report lost once answered */
} GwTestAnswer;

static gboolean
gw_test_plugin_answer_cb(gpointer user_data)
{
	GwTestAnswer *answer = user_data;
	GwTestPlugin *self = GW_TEST_PLUGIN(g_task_get_source_object(answer->task));

	if (answer->result != NULL)
		g_task_return_pointer(answer->task,
		                      g_steal_pointer(&answer->result),
		                      (GDestroyNotify)gw_device_result_unref);
	else
		g_task_return_error(answer->task, g_steal_pointer(&answer->error));
	if (answer->leave != NULL) {
		GwTestDevice *dev = g_hash_table_lookup(self->devices, answer->leave);
		if (dev != NULL && dev->present) {
			dev->present = FALSE;
			gw_plugin_device_lost(GW_PLUGIN(self), answer->leave);
		}
	}
	g_object_unref(answer->task);
	g_free(answer->leave);
	g_free(answer);
	return G_SOURCE_REMOVE;
}

/* answers @task (takes it, and @result or @error) from the main loop, after @delay_ms; then
 * reports the device @leave lost when set */
static void
gw_test_plugin_answer(GTask *task,
                      GwDeviceResult *result,
                      GError *error,
                      guint delay_ms,
                      const gchar *leave)
{
	GwTestAnswer *answer = g_new0(GwTestAnswer, 1);
	answer->task = task;
	answer->result = result;
	answer->error = error;
	answer->leave = g_strdup(leave);
	if (delay_ms > 0)
		g_timeout_add(delay_ms, gw_test_plugin_answer_cb, answer);
	else
		g_idle_add(gw_test_plugin_answer_cb, answer);
}

static void
gw_test_plugin_hang_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	GTask *task = user_data;
	/* the task completes from an idle: a cancellable's handler runs inside cancel() */
	gw_test_plugin_answer(
	    task,
	    NULL,
	    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "the Hang was cancelled"),
	    0,
	    NULL);
}

static gint
gw_test_cmp_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static GwDeviceResult *
gw_test_plugin_run(GwTestPlugin *self,
                   GwTestDevice *dev,
                   GwDeviceCommand *cmd,
                   GError **error,
                   gboolean *leave)
{
	const gchar *uri = gw_device_command_get_uri(cmd);
	const gchar *data = gw_device_command_get_data_string(cmd);
	GwDeviceOp op = gw_device_command_get_op(cmd);
	gchar **slot = NULL;
	const gchar *format = NULL;

	if (g_strcmp0(uri, "./Test/Switch") == 0)
		slot = &dev->switch_value, format = "bool";
	else if (g_strcmp0(uri, "./Test/Level") == 0)
		slot = &dev->level, format = "int";
	else if (g_strcmp0(uri, "./Test/Secret") == 0)
		slot = &dev->secret, format = "chr";
	if (slot != NULL && op == GW_DEVICE_OP_GET)
		return gw_device_result_new_value(uri, format, *slot);
	if (slot != NULL && op == GW_DEVICE_OP_REPLACE) {
		g_free(*slot);
		*slot = g_strdup(data);
		return gw_device_result_new(GW_DEVICE_STATUS_OK);
	}
	if (g_str_has_prefix(uri, "./Test/Items")) {
		const gchar *name = uri + strlen("./Test/Items");
		const gchar *value;
		if (name[0] == '\0' && op == GW_DEVICE_OP_GET) {
			g_autofree gpointer *keys =
			    g_hash_table_get_keys_as_array(dev->items, NULL);
			g_autofree gchar *joined = NULL;
			qsort(keys,
			      g_hash_table_size(dev->items),
			      sizeof(gpointer),
			      gw_test_cmp_names);
			joined = g_strjoinv("/", (gchar **)keys);
			return gw_device_result_new_value(uri, "node", joined);
		}
		if (name[0] != '/' || strchr(name + 1, '/') != NULL)
			return gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND);
		name++;
		value = g_hash_table_lookup(dev->items, name);
		switch (op) {
		case GW_DEVICE_OP_ADD:
			if (value != NULL)
				return gw_device_result_new(418);
			g_hash_table_insert(dev->items, g_strdup(name), g_strdup(data));
			return gw_device_result_new(GW_DEVICE_STATUS_OK);
		case GW_DEVICE_OP_DELETE:
			if (value == NULL)
				return gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND);
			g_hash_table_remove(dev->items, name);
			return gw_device_result_new(GW_DEVICE_STATUS_OK);
		case GW_DEVICE_OP_GET:
			if (value == NULL)
				return gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND);
			return gw_device_result_new_value(uri, "chr", value);
		default:
			return gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED);
		}
	}
	if (g_strcmp0(uri, "./Test/Operations/Echo") == 0) {
		GwDeviceResult *result = gw_device_result_new(GW_DEVICE_STATUS_OK);
		gw_device_result_add_item(
		    result, uri, "chr", "text/plain", gw_device_command_get_data(cmd));
		return result;
	}
	if (g_strcmp0(uri, "./Test/Operations/Fail") == 0) {
		g_set_error(error, GW_ERROR, GW_ERROR_FAILED, "the device refused: %s", data);
		return NULL;
	}
	if (g_strcmp0(uri, "./Test/Operations/Fault") == 0) {
		g_autofree gchar *text = g_strdup_printf("fault: %s", data);
		return gw_device_result_new_fault(GW_DEVICE_STATUS_FAILED, uri, text);
	}
	if (g_strcmp0(uri, "./Test/Operations/Leave") == 0) {
		*leave = TRUE;
		return gw_device_result_new(GW_DEVICE_STATUS_OK);
	}
	/* the registry let through something the tree does not have: a bug there */
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_INTERNAL,
	            "%s %s reached the test plugin",
	            gw_device_command_get_op_name(cmd),
	            uri);
	return NULL;
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
	GwTestPlugin *self = GW_TEST_PLUGIN(plugin);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	GwTestDevice *dev = g_hash_table_lookup(self->devices, device_id);
	const gchar *uri = gw_device_command_get_uri(cmd);
	GError *error = NULL;
	GwDeviceResult *result;
	gboolean leave = FALSE;

	self->calls++;
	g_object_notify(G_OBJECT(self), "calls");
	if (dev == NULL || !dev->present) {
		gw_test_plugin_answer(task,
		                      gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND),
		                      NULL,
		                      self->delay_ms,
		                      NULL);
		return;
	}
	if (g_strcmp0(uri, "./Test/Operations/Hang") == 0) {
		/* no answer until the gateway cancels (at its deadline); the handler takes the
		 * task (when @cancellable is cancelled already, it runs at once) */
		if (cancellable == NULL) {
			g_warning("Hang for %s without a cancellable: never answered", device_id);
			return;
		}
		g_cancellable_connect(
		    cancellable, G_CALLBACK(gw_test_plugin_hang_cancelled_cb), task, NULL);
		return;
	}
	if (g_strcmp0(uri, "./Test/Operations/Late") == 0) {
		gw_test_plugin_answer(task,
		                      gw_device_result_new(GW_DEVICE_STATUS_OK),
		                      NULL,
		                      MAX(self->late_ms, 1),
		                      NULL);
		return;
	}
	result = gw_test_plugin_run(self, dev, cmd, &error, &leave);
	gw_test_plugin_answer(task, result, error, self->delay_ms, leave ? device_id : NULL);
}

static GwDeviceResult *
gw_test_plugin_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, plugin), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- GObject ---- */

static void
gw_test_plugin_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	GwTestPlugin *self = GW_TEST_PLUGIN(object);
	switch (prop_id) {
	case PROP_CALLS:
		g_value_set_uint(value, self->calls);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
gw_test_plugin_finalize(GObject *object)
{
	GwTestPlugin *self = GW_TEST_PLUGIN(object);
	g_clear_handle_id(&self->announce_id, g_source_remove);
	g_hash_table_unref(self->devices);
	g_object_unref(self->cancellable);
	G_OBJECT_CLASS(gw_test_plugin_parent_class)->finalize(object);
}

static void
gw_test_plugin_class_init(GwTestPluginClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GwPluginClass *plugin_class = GW_PLUGIN_CLASS(klass);

	object_class->get_property = gw_test_plugin_get_property;
	object_class->finalize = gw_test_plugin_finalize;
	plugin_class->startup = gw_test_plugin_startup;
	plugin_class->shutdown = gw_test_plugin_shutdown;
	plugin_class->run_command_async = gw_test_plugin_run_command_async;
	plugin_class->run_command_finish = gw_test_plugin_run_command_finish;
	g_object_class_install_property(
	    object_class,
	    PROP_CALLS,
	    g_param_spec_uint(
	        "calls", NULL, NULL, 0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void
gw_test_plugin_init(GwTestPlugin *self)
{
	gw_plugin_set_protocol(GW_PLUGIN(self), "Test");
	gw_plugin_set_version(GW_PLUGIN(self), "1.0");
	self->devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_test_device_free);
	self->cancellable = g_cancellable_new();
}

GW_PLUGIN_DEFINE_MODULE(GW_TYPE_TEST_PLUGIN)
