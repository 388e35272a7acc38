/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plugin SDK's own types: commands, results, device identities, declared device trees and
 * a GwPlugin subclass's configuration and signals (core/sdk).
 */

#include "config.h"

#include <string.h>

#include "gw-plugin-private.h"
#include "gw-plugin-sdk.h"

/* warnings and criticals a case expects are recorded here; any other one fails the test */
static gboolean expecting;
static GPtrArray *logged;

static GLogWriterOutput
test_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	if ((level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) == 0)
		return g_log_writer_default(level, fields, n_fields, user_data);
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0) {
			if (!expecting) {
				g_printerr("unexpected: %s\n", (const gchar *)fields[i].value);
				g_abort();
			}
			g_ptr_array_add(logged, g_strdup(fields[i].value));
		}
	}
	return G_LOG_WRITER_HANDLED;
}

/* runs with the messages of @block recorded; returns how many there were and whether the
 * last one contains @needle */
#define EXPECT_LOGGED(needle, block)                                                          \
	G_STMT_START                                                                          \
	{                                                                                     \
		guint before_ = logged->len;                                                  \
		expecting = TRUE;                                                             \
		block;                                                                        \
		expecting = FALSE;                                                            \
		g_assert_cmpuint(logged->len, ==, before_ + 1);                               \
		g_assert_nonnull(strstr(g_ptr_array_index(logged, logged->len - 1), needle)); \
	}                                                                                     \
	G_STMT_END

static void
test_command(void)
{
	g_autoptr(GBytes) data = g_bytes_new_static("1", 1);
	g_autoptr(GwDeviceCommand) cmd = gw_device_command_new(
	    GW_DEVICE_OP_REPLACE, "./UPnP/SwitchPower/Target", "bool", "text/plain", data);
	g_autoptr(GwDeviceCommand) get =
	    gw_device_command_new(GW_DEVICE_OP_GET, "./DevInfo/Man", NULL, NULL, NULL);

	g_assert_cmpint(gw_device_command_get_op(cmd), ==, GW_DEVICE_OP_REPLACE);
	g_assert_cmpstr(gw_device_command_get_op_name(cmd), ==, "Replace");
	g_assert_cmpstr(gw_device_command_get_uri(cmd), ==, "./UPnP/SwitchPower/Target");
	g_assert_cmpstr(gw_device_command_get_format(cmd), ==, "bool");
	g_assert_cmpstr(gw_device_command_get_mime_type(cmd), ==, "text/plain");
	g_assert_cmpstr(gw_device_command_get_data_string(cmd), ==, "1");
	g_assert_true(g_bytes_equal(gw_device_command_get_data(cmd), data));
	g_assert_cmpstr(gw_device_command_get_op_name(get), ==, "Get");
	g_assert_null(gw_device_command_get_data(get));
	g_assert_cmpstr(gw_device_command_get_data_string(get), ==, "");
}

static void
test_result(void)
{
	g_autoptr(GwDeviceResult) value = gw_device_result_new_value("./A/B", "int", "42");
	g_autoptr(GwDeviceResult) fault =
	    gw_device_result_new_fault(GW_DEVICE_STATUS_FAILED, "./A", "UPnPError 501");
	const gchar *uri = NULL;
	const gchar *format = NULL;
	GBytes *data = NULL;

	g_assert_cmpuint(gw_device_result_get_status(value), ==, 200);
	g_assert_cmpuint(gw_device_result_get_n_items(value), ==, 1);
	gw_device_result_get_item(value, 0, &uri, &format, NULL, &data);
	g_assert_cmpstr(uri, ==, "./A/B");
	g_assert_cmpstr(format, ==, "int");
	g_assert_cmpmem(g_bytes_get_data(data, NULL), g_bytes_get_size(data), "42", 2);
	g_assert_cmpuint(gw_device_result_get_status(fault), ==, 500);
	gw_device_result_get_item(fault, 0, NULL, &format, NULL, &data);
	g_assert_cmpstr(format, ==, "chr");
	g_assert_cmpmem(g_bytes_get_data(data, NULL), g_bytes_get_size(data), "UPnPError 501", 13);
	gw_device_result_set_status(fault, 408);
	g_assert_cmpuint(gw_device_result_get_status(fault), ==, 408);
}

static void
test_info(void)
{
	g_autoptr(GwDeviceInfo) info = gw_device_info_new("uuid:1234");
	g_autofree const gchar **leaves = NULL;

	gw_device_info_set_address(info, "http://192.0.2.7:49152/desc.xml");
	gw_device_info_set_devinfo(info, "Mod", "BinaryLight");
	gw_device_info_set_devinfo(info, "Man", "gwmo tests");
	g_assert_cmpstr(gw_device_info_get_device_id(info), ==, "uuid:1234");
	g_assert_cmpstr(gw_device_info_get_address(info), ==, "http://192.0.2.7:49152/desc.xml");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "Man"), ==, "gwmo tests");
	g_assert_null(gw_device_info_get_devinfo(info, "FwV"));
	g_assert_null(gw_device_info_get_devinfo(info, "Nonsense"));
	leaves = gw_device_info_list_devinfo(info);
	g_assert_cmpuint(g_strv_length((gchar **)leaves), ==, 2);
	g_assert_cmpstr(leaves[0], ==, "Man");
	g_assert_cmpstr(leaves[1], ==, "Mod");
	gw_device_info_set_devinfo(info, "Man", NULL);
	g_assert_null(gw_device_info_get_devinfo(info, "Man"));
}

/* a leaf an adapter may not set is a programmer error, said and ignored */
static void
test_info_bad_leaf(void)
{
	g_autoptr(GwDeviceInfo) info = gw_device_info_new("x");

	EXPECT_LOGGED("not a DevInfo leaf", gw_device_info_set_devinfo(info, "DevId", "y"));
	g_assert_null(gw_device_info_get_devinfo(info, "DevId"));
}

static void
test_tree(void)
{
	g_autoptr(GwDeviceTree) tree = gw_device_tree_new();
	g_auto(GStrv) root = NULL;
	g_auto(GStrv) upnp = NULL;
	g_auto(GStrv) dyn = NULL;
	const gchar *format = NULL;
	const gchar *value = NULL;
	GwDeviceAccess access = 0;

	g_assert_true(gw_device_tree_add_leaf(tree,
	                                      "./UPnP/SwitchPower/Target",
	                                      "bool",
	                                      GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE,
	                                      NULL));
	g_assert_true(gw_device_tree_add_static(tree, "./UPnP/UDN", "chr", "uuid:1234"));
	g_assert_true(gw_device_tree_add_dynamic(
	    tree, "./UPnP/Rules", GW_DEVICE_ACCESS_ADD | GW_DEVICE_ACCESS_DELETE));

	g_assert_true(
	    gw_device_tree_lookup(tree, "./UPnP/SwitchPower/Target", &format, &access, &value));
	g_assert_cmpstr(format, ==, "bool");
	g_assert_cmpint(access, ==, GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE);
	g_assert_null(value);
	g_assert_true(gw_device_tree_lookup(tree, "./UPnP/UDN", &format, &access, &value));
	g_assert_cmpstr(value, ==, "uuid:1234");
	g_assert_cmpint(access, ==, GW_DEVICE_ACCESS_GET);
	/* interior nodes are implied */
	g_assert_true(gw_device_tree_lookup(tree, "./UPnP/SwitchPower", &format, &access, NULL));
	g_assert_cmpstr(format, ==, "node");
	g_assert_cmpint(access, ==, GW_DEVICE_ACCESS_GET);
	g_assert_false(gw_device_tree_lookup(tree, "./UPnP/Nothing", NULL, NULL, NULL));
	g_assert_true(gw_device_tree_is_dynamic(tree, "./UPnP/Rules"));
	g_assert_false(gw_device_tree_is_dynamic(tree, "./UPnP"));

	root = gw_device_tree_list_children(tree, ".");
	g_assert_cmpstrv(root, ((const gchar *const[]){"UPnP", NULL}));
	upnp = gw_device_tree_list_children(tree, "./UPnP");
	g_assert_cmpstrv(upnp, ((const gchar *const[]){"Rules", "SwitchPower", "UDN", NULL}));
	dyn = gw_device_tree_list_children(tree, "./UPnP/Rules");
	g_assert_nonnull(dyn);
	g_assert_cmpuint(g_strv_length(dyn), ==, 0);
	g_assert_null(gw_device_tree_list_children(tree, "./UPnP/UDN"));
}

/* every misuse is refused with a critical naming it, and leaves the tree as it was */
static void
test_tree_misuse(void)
{
	static const struct {
		const gchar *uri;
		const gchar *format;
	} bad[] = {
	    {"UPnP/X", "chr"},      /* not rooted at ./ */
	    {"./UPnP//X", "chr"},   /* empty segment */
	    {"./UPnP/../X", "chr"}, /* .. */
	    {"./UPnP/X/", "chr"},   /* trailing / */
	    {"./UPnP/X", "text"},   /* not a DDF format */
	    {"./UPnP/X", "node"},   /* a leaf cannot be a node */
	    {"./UPnP/Leaf", "chr"}, /* declared twice */
	    {"./UPnP/Leaf/Below", "chr"},
	};

	g_autoptr(GwDeviceTree) tree = gw_device_tree_new();
	g_auto(GStrv) children = NULL;

	g_assert_true(
	    gw_device_tree_add_leaf(tree, "./UPnP/Leaf", "chr", GW_DEVICE_ACCESS_GET, NULL));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		EXPECT_LOGGED(bad[i].uri,
		              g_assert_false(gw_device_tree_add_leaf(
		                  tree, bad[i].uri, bad[i].format, GW_DEVICE_ACCESS_GET, NULL)));
	}
	children = gw_device_tree_list_children(tree, "./UPnP");
	g_assert_cmpstrv(children, ((const gchar *const[]){"Leaf", NULL}));
	g_assert_false(gw_device_tree_lookup(tree, "./UPnP/X", NULL, NULL, NULL));
}

#define TEST_TYPE_PLUGIN (test_plugin_get_type())
G_DECLARE_FINAL_TYPE(TestPlugin, test_plugin, TEST, PLUGIN, GwPlugin)
struct _TestPlugin {
	GwPlugin parent_instance;
	guint started;
};
G_DEFINE_TYPE(TestPlugin, test_plugin, GW_TYPE_PLUGIN)

/* what the call counter said while startup() ran */
static gint calls_seen_in_startup = -1;

static gboolean
test_plugin_startup(GwPlugin *plugin, GError **error)
{
	TEST_PLUGIN(plugin)->started++;
	calls_seen_in_startup = gw_plugin_get_calls_in_flight(plugin);
	return TRUE;
}

static void
test_plugin_run_command_async(GwPlugin *plugin,
                              const gchar *device_id,
                              GwDeviceCommand *cmd,
                              gint64 deadline,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(plugin, cancellable, callback, user_data);
	g_task_return_pointer(
	    task,
	    gw_device_result_new_value(gw_device_command_get_uri(cmd), "chr", device_id),
	    (GDestroyNotify)gw_device_result_unref);
}

static GwDeviceResult *
test_plugin_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
test_plugin_class_init(TestPluginClass *klass)
{
	GwPluginClass *plugin_class = GW_PLUGIN_CLASS(klass);
	plugin_class->startup = test_plugin_startup;
	plugin_class->run_command_async = test_plugin_run_command_async;
	plugin_class->run_command_finish = test_plugin_run_command_finish;
}

static void
test_plugin_init(TestPlugin *self)
{
	gw_plugin_set_protocol(GW_PLUGIN(self), "Test");
	gw_plugin_set_version(GW_PLUGIN(self), "0.1");
}

static void
found_cb(GwPlugin *plugin, GwDeviceInfo *info, GwDeviceTree *tree, gpointer user_data)
{
	g_assert_null(*(gpointer *)user_data);
	*(gchar **)user_data = g_strdup(gw_device_info_get_device_id(info));
	g_assert_nonnull(tree);
}

static void
lost_cb(GwPlugin *plugin, const gchar *device_id, gpointer user_data)
{
	*(gchar **)user_data = g_strdup(device_id);
}

static void
result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	*(GwDeviceResult **)user_data = gw_plugin_run_command_finish(GW_PLUGIN(source), res, NULL);
}

static void
test_plugin(void)
{
	g_autoptr(GwPlugin) plugin = g_object_new(TEST_TYPE_PLUGIN, NULL);
	g_autoptr(GKeyFile) config = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDeviceInfo) info = gw_device_info_new("dev-1");
	g_autoptr(GwDeviceTree) tree = gw_device_tree_new();
	g_autoptr(GwDeviceCommand) cmd =
	    gw_device_command_new(GW_DEVICE_OP_GET, "./X", NULL, NULL, NULL);
	g_autoptr(GwDeviceResult) result = NULL;
	g_autofree gchar *found = NULL;
	g_autofree gchar *lost = NULL;
	g_autofree gchar *value = NULL;

	g_assert_true(g_key_file_load_from_data(
	    config,
	    "[test]\niface = lo \nenabled=false\nport=80x\n[other]\niface=eth0\n",
	    -1,
	    0,
	    &error));
	gw_plugin_set_name(plugin, "test");
	gw_plugin_set_config(plugin, config);
	g_assert_cmpstr(gw_plugin_get_name(plugin), ==, "test");
	g_assert_cmpstr(gw_plugin_get_protocol(plugin), ==, "Test");
	g_assert_cmpstr(gw_plugin_get_version(plugin), ==, "0.1");
	value = gw_plugin_get_config_value(plugin, "iface");
	g_assert_cmpstr(value, ==, "lo");
	g_assert_null(gw_plugin_get_config_value(plugin, "missing"));
	g_assert_false(gw_plugin_get_config_boolean(plugin, "enabled", TRUE));
	g_assert_true(gw_plugin_get_config_boolean(plugin, "missing", TRUE));
	EXPECT_LOGGED("port=80x is not an integer",
	              g_assert_cmpint(gw_plugin_get_config_int(plugin, "port", 7), ==, 7));

	g_assert_true(gw_plugin_startup(plugin, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(TEST_PLUGIN(plugin)->started, ==, 1);
	g_assert_false(gw_plugin_can_deliver_images(plugin));

	g_signal_connect(plugin, "device-found", G_CALLBACK(found_cb), &found);
	g_signal_connect(plugin, "device-lost", G_CALLBACK(lost_cb), &lost);
	gw_plugin_device_found(plugin, info, tree);
	gw_plugin_device_lost(plugin, "dev-1");
	g_assert_cmpstr(found, ==, "dev-1");
	g_assert_cmpstr(lost, ==, "dev-1");

	gw_plugin_run_command_async(plugin, "dev-1", cmd, 0, NULL, result_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(gw_device_result_get_status(result), ==, 200);
}

typedef struct {
	gint *counter;
	gboolean done;
} CountedCall;

static void
counted_result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	CountedCall *call = user_data;

	/* the caller's callback runs once the plugin completed: this call no longer counts,
	 * the other one (without a callback) may */
	g_assert_cmpint(*call->counter, <=, 1);
	gw_device_result_unref(gw_plugin_run_command_finish(GW_PLUGIN(source), res, NULL));
	call->done = TRUE;
}

/* the crash guard's counter: every call into the plugin is counted while it is in flight, in
 * the counter the gateway gives (shared memory in gwmod), and moved along when it changes */
static void
test_plugin_call_counter(void)
{
	g_autoptr(GwPlugin) plugin = g_object_new(TEST_TYPE_PLUGIN, NULL);
	g_autoptr(GwDeviceCommand) cmd =
	    gw_device_command_new(GW_DEVICE_OP_GET, "./X", NULL, NULL, NULL);
	g_autoptr(GError) error = NULL;
	gint counter = 0;
	gint other = 0;
	CountedCall call = {&counter, FALSE};

	gw_plugin_set_name(plugin, "test");
	gw_plugin_set_call_counter(plugin, &counter);
	g_assert_true(gw_plugin_startup(plugin, &error));
	g_assert_cmpint(calls_seen_in_startup, ==, 1);
	g_assert_cmpint(counter, ==, 0);

	gw_plugin_run_command_async(plugin, "dev-1", cmd, 0, NULL, counted_result_cb, &call);
	gw_plugin_run_command_async(plugin, "dev-2", cmd, 0, NULL, NULL, NULL);
	g_assert_cmpint(counter, ==, 2);
	g_assert_cmpint(gw_plugin_get_calls_in_flight(plugin), ==, 2);
	/* the calls in flight move to a new counter, and back */
	gw_plugin_set_call_counter(plugin, &other);
	g_assert_cmpint(counter, ==, 0);
	g_assert_cmpint(other, ==, 2);
	gw_plugin_set_call_counter(plugin, &counter);
	g_assert_cmpint(other, ==, 0);
	g_assert_cmpint(counter, ==, 2);
	/* both complete in the next iterations, the one without a callback too */
	for (guint i = 0; i < 100 && (counter > 0 || !call.done); i++)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(call.done);
	g_assert_cmpint(counter, ==, 0);
	g_assert_cmpint(gw_plugin_get_calls_in_flight(plugin), ==, 0);
}

/* a plugin that names no protocol does not start */
static void
test_plugin_no_protocol(void)
{
	g_autoptr(GwPlugin) plugin = g_object_new(TEST_TYPE_PLUGIN, NULL);
	g_autoptr(GError) error = NULL;

	gw_plugin_set_protocol(plugin, NULL);
	gw_plugin_set_name(plugin, "test");
	g_assert_false(gw_plugin_startup(plugin, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_SUPPORTED);
	g_assert_cmpuint(TEST_PLUGIN(plugin)->started, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	logged = g_ptr_array_new_with_free_func(g_free);
	g_log_set_writer_func(test_writer, NULL, NULL);
	g_test_add_func("/gw/sdk/command", test_command);
	g_test_add_func("/gw/sdk/result", test_result);
	g_test_add_func("/gw/sdk/info", test_info);
	g_test_add_func("/gw/sdk/info-bad-leaf", test_info_bad_leaf);
	g_test_add_func("/gw/sdk/tree", test_tree);
	g_test_add_func("/gw/sdk/tree-misuse", test_tree_misuse);
	g_test_add_func("/gw/sdk/plugin", test_plugin);
	g_test_add_func("/gw/sdk/plugin-no-protocol", test_plugin_no_protocol);
	g_test_add_func("/gw/sdk/plugin-call-counter", test_plugin_call_counter);
	return g_test_run();
}
