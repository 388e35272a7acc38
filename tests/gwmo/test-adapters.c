/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The adapter registry (gw-adapters.c) with the test plugin (plugins/test, loaded with GModule
 * as the loader will load it), on a DM tree without a network:
 *  - GwMO-AMoDe-001, GwMO-MOO-001 mode 3: a plugin's devices become inventory records
 *    (Protocol Test, Mode 3, Attached, Address, DevInfo) and Detached when lost; SupportedModes
 *    lists 3 while the adapter is registered; the lease never detaches them; a record of an
 *    adapter that is not loaded is Detached at start and its commands answer 503;
 *  - GwMO-IOP-001: a command is checked against the tree the adapter declared (400, 404, 405,
 *    415, 418), ./DevInfo, interior and static Gets are answered by the gateway without the
 *    plugin; the rest reaches the plugin; a GError becomes 500 with its message, a call past
 *    its deadline 408 (the plugin's cancellable is cancelled, a late answer ignored), and the
 *    main loop runs meanwhile;
 *  - a DeviceID another protocol holds is refused.
 */

#include "config.h"

#include <gmodule.h>
#include <string.h>

#include "gw-adapters.h"
#include "gw-gwmo-mo.h"
#include "gw-plugin-private.h"

static const gchar *plugin_path; /* argv[1]: libgw_plugin_test.so */

static const GwDmDeviceInfo gw_info = {
    .dev_id = "gw-0001",
    .man = "Example Corp",
    .mod = "GW-1",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "Example OEM",
    .fwv = "1.0",
    .swv = "0.1.0",
    .hwv = "rev-b",
};

/* g_test_expect_message() does not see structured log messages with GLib 2.74: the registry's
 * warnings are counted here, any other warning fails the test */
static guint adapters_warnings = 0;
static gchar *last_adapters_warning = NULL;

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	const gchar *domain = NULL;
	const gchar *message = NULL;

	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
		else if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
	}
	if ((level & G_LOG_LEVEL_WARNING) && g_strcmp0(domain, "GwAdapters") == 0) {
		adapters_warnings++;
		g_free(last_adapters_warning);
		last_adapters_warning = g_strdup(message);
		g_test_message("warning: %s", message);
		return G_LOG_WRITER_HANDLED;
	}
	if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
		g_test_fail();
	return g_log_writer_default(level, fields, n_fields, user_data);
}

typedef struct {
	GwDmTree *tree;
	GwConfig *config;
	GwInventory *inv;
	GwAdapters *adapters;
	GwPlugin *plugin;
	GPtrArray *events;
} Fixture;

static void
on_attached(GwInventory *inv, const gchar *uri, const gchar *id, gboolean is_new, Fixture *fx)
{
	g_ptr_array_add(fx->events, g_strdup_printf("attached %s", id));
}

static void
on_detached(GwInventory *inv, const gchar *uri, const gchar *id, Fixture *fx)
{
	g_ptr_array_add(fx->events, g_strdup_printf("detached %s", id));
}

static gboolean
has_event(Fixture *fx, const gchar *event)
{
	for (guint i = 0; i < fx->events->len; i++) {
		if (g_strcmp0(g_ptr_array_index(fx->events, i), event) == 0)
			return TRUE;
	}
	return FALSE;
}

/* runs the main loop until @event was seen (10 s at most) */
static void
wait_event(Fixture *fx, const gchar *event)
{
	gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (!has_event(fx, event) && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	if (!has_event(fx, event))
		g_error("no event '%s'", event);
}

static GwPlugin *
load_test_plugin(GKeyFile *config)
{
	static GModule *module = NULL;
	GType (*query_type)(void) = NULL;
	const guint32 *api = NULL;
	GwPlugin *plugin;

	if (module == NULL) {
		module = g_module_open(plugin_path, G_MODULE_BIND_LOCAL);
		if (module == NULL)
			g_error("%s: %s", plugin_path, g_module_error());
		g_module_make_resident(module);
	}
	g_assert_true(g_module_symbol(module, "gw_plugin_api_version", (gpointer *)&api));
	g_assert_cmpuint(*api, ==, GW_PLUGIN_API_VERSION);
	g_assert_true(g_module_symbol(module, "gw_plugin_query_type", (gpointer *)&query_type));
	plugin = g_object_new(query_type(), NULL);
	gw_plugin_set_name(plugin, "test");
	gw_plugin_set_config(plugin, config);
	return plugin;
}

static gchar *
leaf(Fixture *fx, const gchar *record, const gchar *name)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record, name);
	return gw_dm_tree_dup_string(fx->tree, uri);
}

static void
assert_leaf(Fixture *fx, const gchar *record, const gchar *name, const gchar *want)
{
	g_autofree gchar *value = leaf(fx, record, name);
	g_assert_cmpstr(value, ==, want);
}

static guint
plugin_calls(Fixture *fx)
{
	guint calls = 0;
	g_object_get(fx->plugin, "calls", &calls, NULL);
	return calls;
}

/* a tree, an inventory, a registry; the test plugin loaded and registered but not started */
static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GKeyFile) kf = g_key_file_new();

	fx->tree = gw_dm_tree_new();
	g_assert_true(gw_dm_tree_install_standard_objects(fx->tree, &gw_info, &error));
	g_assert_true(gw_gwmo_install_objects(fx->tree, "gw-0001", GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);
	fx->config = gw_config_new();
	fx->inv = gw_inventory_new(fx->tree, fx->config);
	fx->events = g_ptr_array_new_with_free_func(g_free);
	g_signal_connect(fx->inv, "device-attached", G_CALLBACK(on_attached), fx);
	g_signal_connect(fx->inv, "device-detached", G_CALLBACK(on_detached), fx);
	g_assert_true(gw_inventory_start(fx->inv, &error));
	fx->adapters = gw_adapters_new(fx->tree, fx->inv);
	g_key_file_set_string(kf, "test", "devices", "2");
	g_key_file_set_string(kf, "test", "late-ms", "300");
	fx->plugin = load_test_plugin(kf);
}

/* gw_adapters_start(), the plugin registered and started, its devices reported */
static void
fixture_start(Fixture *fx)
{
	g_autoptr(GError) error = NULL;

	gw_adapters_start(fx->adapters);
	g_assert_true(gw_adapters_register(fx->adapters, fx->plugin, GW_ADAPTER_FLAG_NONE, &error));
	g_assert_no_error(error);
	g_assert_true(gw_plugin_startup(fx->plugin, &error));
	g_assert_no_error(error);
	wait_event(fx, "attached TEST-DEV-2");
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	gw_plugin_shutdown(fx->plugin);
	g_clear_object(&fx->adapters);
	g_clear_object(&fx->plugin);
	g_clear_object(&fx->inv);
	g_clear_object(&fx->config);
	g_clear_object(&fx->tree);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_ptr_array_unref(fx->events);
	gw_gwmo_adapter_unregister("Test");
}

typedef struct {
	GwDeviceResult *result;
	GError *error;
	gboolean done;
	guint iterations; /* main-loop turns while waiting: the loop never waits on a plugin */
} Call;

static void
call_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Call *call = user_data;
	g_assert_false(call->done);
	call->result = gw_adapters_run_command_finish(GW_ADAPTERS(source), res, &call->error);
	call->done = TRUE;
}

static gboolean
tick_cb(gpointer user_data)
{
	Call *call = user_data;
	call->iterations++;
	return G_SOURCE_CONTINUE;
}

/* runs @op on @uri of @device_id through the registry and waits for the answer */
static GwDeviceResult *
run_full(Fixture *fx,
         const gchar *device_id,
         GwDeviceOp op,
         const gchar *uri,
         const gchar *format,
         const gchar *data,
         guint timeout_ms,
         GCancellable *cancellable,
         guint *iterations,
         GError **error)
{
	g_autoptr(GBytes) bytes = data != NULL ? g_bytes_new(data, strlen(data)) : NULL;
	g_autoptr(GwDeviceCommand) cmd = gw_device_command_new(op, uri, format, NULL, bytes);
	gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	Call call = {0};
	guint tick = g_timeout_add(10, tick_cb, &call);

	gw_adapters_run_command_async(
	    fx->adapters, device_id, cmd, timeout_ms, cancellable, call_done_cb, &call);
	while (!call.done && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
	g_assert_true(call.done);
	if (iterations != NULL)
		*iterations = call.iterations;
	if (call.error != NULL)
		g_propagate_error(error, call.error);
	return call.result;
}

static const gchar *const op_names[] = {"Get", "Replace", "Add", "Delete", "Exec"};

/* the status of @op on @uri; @value (optional): the first item's data */
static guint
run(Fixture *fx,
    const gchar *device_id,
    GwDeviceOp op,
    const gchar *uri,
    const gchar *format,
    const gchar *data,
    gchar **value)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDeviceResult) result =
	    run_full(fx, device_id, op, uri, format, data, 2000, NULL, NULL, &error);
	guint status;

	g_assert_no_error(error);
	g_assert_nonnull(result);
	status = gw_device_result_get_status(result);
	if (value != NULL) {
		GBytes *bytes = NULL;
		*value = NULL;
		if (gw_device_result_get_n_items(result) > 0) {
			gw_device_result_get_item(result, 0, NULL, NULL, NULL, &bytes);
			if (bytes != NULL)
				*value = g_strndup(g_bytes_get_data(bytes, NULL),
				                   g_bytes_get_size(bytes));
		}
	}
	g_test_message("%s %s on %s: %u", op_names[op], uri, device_id, status);
	return status;
}

/* GwMO-AMoDe-001, GwMO-MOO-001 mode 3: found → a Mode 3 record; lost → Detached */
static void
test_found_lost(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *record = NULL;
	g_autofree gchar *modes = NULL;

	modes = gw_dm_tree_dup_string(fx->tree, GW_GWMO_CONFIG_SUPPORTED_MODES);
	g_assert_cmpstr(modes, ==, "1,2");
	g_clear_pointer(&modes, g_free);
	fixture_start(fx);
	modes = gw_dm_tree_dup_string(fx->tree, GW_GWMO_CONFIG_SUPPORTED_MODES);
	g_assert_cmpstr(modes, ==, "1,2,3");
	g_assert_true(gw_gwmo_mode_is_available("Test", GW_GWMO_MODE_ADAPTATION));
	g_assert_false(gw_gwmo_mode_is_available(GW_GWMO_PROTOCOL_OMA_DM, GW_GWMO_MODE_ADAPTATION));

	record = gw_inventory_find(fx->inv, "TEST-DEV-1");
	g_assert_nonnull(record);
	assert_leaf(fx, record, "Protocol", "Test");
	assert_leaf(fx, record, "Mode", "3");
	assert_leaf(fx, record, "Status", "Attached");
	assert_leaf(fx, record, "Address", "test://TEST-DEV-1");
	assert_leaf(fx, record, "DevInfo/Man", "gwmo");
	assert_leaf(fx, record, "DevInfo/Mod", "test-plugin");
	assert_leaf(fx, record, "DevInfo/FwV", "1.0.1");
	assert_leaf(fx, record, "DevInfo/DevTyp", "fake");
	g_assert_nonnull(gw_adapters_get_device_tree(fx->adapters, "TEST-DEV-1"));
	g_assert_true(gw_adapters_lookup(fx->adapters, "Test") == fx->plugin);

	/* the device leaves: Detached, DeviceDetached for the servers (the inventory's signal) */
	g_assert_cmpuint(
	    run(fx, "TEST-DEV-1", GW_DEVICE_OP_EXEC, "./Test/Operations/Leave", NULL, NULL, NULL),
	    ==,
	    200);
	wait_event(fx, "detached TEST-DEV-1");
	assert_leaf(fx, record, "Status", "Detached");
	g_assert_null(gw_adapters_get_device_tree(fx->adapters, "TEST-DEV-1"));
	/* a device its adapter lost: 410, the plugin is not asked */
	{
		guint calls = plugin_calls(fx);
		g_assert_cmpuint(
		    run(fx, "TEST-DEV-1", GW_DEVICE_OP_GET, "./Test/Switch", NULL, NULL, NULL),
		    ==,
		    410);
		g_assert_cmpuint(plugin_calls(fx), ==, calls);
	}
	/* the other one is still there */
	g_assert_cmpuint(
	    run(fx, "TEST-DEV-2", GW_DEVICE_OP_GET, "./Test/Switch", NULL, NULL, NULL), ==, 200);

	/* the adapter goes: its devices are Detached, Adaptation is no longer offered */
	g_assert_true(gw_adapters_unregister(fx->adapters, "Test"));
	wait_event(fx, "detached TEST-DEV-2");
	g_clear_pointer(&modes, g_free);
	modes = gw_dm_tree_dup_string(fx->tree, GW_GWMO_CONFIG_SUPPORTED_MODES);
	g_assert_cmpstr(modes, ==, "1,2");
	g_assert_false(gw_gwmo_mode_is_available("Test", GW_GWMO_MODE_ADAPTATION));
	/* its records stay; their commands answer 503 */
	g_assert_cmpuint(
	    run(fx, "TEST-DEV-2", GW_DEVICE_OP_GET, "./Test/Switch", NULL, NULL, NULL), ==, 503);
	g_assert_cmpuint(
	    run(fx, "NO-SUCH-DEV", GW_DEVICE_OP_GET, "./Test/Switch", NULL, NULL, NULL), ==, 404);
}

/* GwMO-IOP-001: what the gateway answers, refuses, and hands on */
static void
test_checks(Fixture *fx, gconstpointer data)
{
	static const struct {
		GwDeviceOp op;
		const gchar *uri;
		const gchar *format;
		const gchar *data;
		guint status;
		const gchar *value; /* NULL: not checked */
		gboolean plugin;    /* the plugin was asked */
	} cases[] = {
	    /* answered by the gateway */
	    {GW_DEVICE_OP_GET, "./DevInfo", NULL, NULL, 200, "DevId/Man/Mod/FwV/DevTyp", FALSE},
	    {GW_DEVICE_OP_GET, "./DevInfo/DevId", NULL, NULL, 200, "TEST-DEV-1", FALSE},
	    {GW_DEVICE_OP_GET, "./DevInfo/Man", NULL, NULL, 200, "gwmo", FALSE},
	    {GW_DEVICE_OP_GET, "DevInfo/FwV", NULL, NULL, 200, "1.0.1", FALSE},
	    {GW_DEVICE_OP_GET, "./DevInfo/SwV", NULL, NULL, 404, NULL, FALSE},
	    {GW_DEVICE_OP_REPLACE, "./DevInfo/Man", NULL, "x", 405, NULL, FALSE},
	    {GW_DEVICE_OP_GET, ".", NULL, NULL, 200, "DevInfo/Test", FALSE},
	    {GW_DEVICE_OP_GET,
	     "./Test",
	     NULL,
	     NULL,
	     200,
	     "Items/Level/Name/Operations/Secret/Switch",
	     FALSE},
	    {GW_DEVICE_OP_GET, "./Test/Name", NULL, NULL, 200, "Fake device 1", FALSE},
	    /* refused by the gateway */
	    {GW_DEVICE_OP_GET, "./Test/Nope", NULL, NULL, 404, NULL, FALSE},
	    {GW_DEVICE_OP_GET, "./Nope/Deeper", NULL, NULL, 404, NULL, FALSE},
	    {GW_DEVICE_OP_GET, "./Test//Switch", NULL, NULL, 400, NULL, FALSE},
	    {GW_DEVICE_OP_GET, "./Test/../Test/Switch", NULL, NULL, 400, NULL, FALSE},
	    {GW_DEVICE_OP_GET, "./Test/Secret", NULL, NULL, 405, NULL, FALSE},
	    {GW_DEVICE_OP_REPLACE, "./Test/Name", NULL, "y", 405, NULL, FALSE},
	    {GW_DEVICE_OP_REPLACE, "./Test", NULL, "y", 405, NULL, FALSE},
	    {GW_DEVICE_OP_EXEC, "./Test/Switch", NULL, NULL, 405, NULL, FALSE},
	    {GW_DEVICE_OP_DELETE, "./Test/Level", NULL, NULL, 405, NULL, FALSE},
	    {GW_DEVICE_OP_GET, "./Test/Operations/Echo", NULL, NULL, 405, NULL, FALSE},
	    {GW_DEVICE_OP_ADD, "./Test/Name", NULL, "z", 418, NULL, FALSE},
	    {GW_DEVICE_OP_REPLACE, "./Test/Switch", NULL, "maybe", 415, NULL, FALSE},
	    {GW_DEVICE_OP_REPLACE, "./Test/Switch", "int", "1", 415, NULL, FALSE},
	    {GW_DEVICE_OP_REPLACE, "./Test/Level", NULL, "ten", 415, NULL, FALSE},
	    /* handed to the plugin */
	    {GW_DEVICE_OP_GET, "./Test/Switch", NULL, NULL, 200, "false", TRUE},
	    {GW_DEVICE_OP_REPLACE, "./Test/Switch", NULL, "true", 200, NULL, TRUE},
	    {GW_DEVICE_OP_REPLACE, "./Test/Level", "int", "42", 200, NULL, TRUE},
	    {GW_DEVICE_OP_GET, "./Test/Switch", NULL, NULL, 200, "true", TRUE},
	    {GW_DEVICE_OP_GET, "./Test/Level", NULL, NULL, 200, "42", TRUE},
	    {GW_DEVICE_OP_REPLACE, "./Test/Secret", NULL, "s3", 200, NULL, TRUE},
	    {GW_DEVICE_OP_EXEC, "./Test/Operations/Echo", NULL, "hello", 200, "hello", TRUE},
	    /* below a dynamic node: the plugin answers, Add/Delete need the node's access */
	    {GW_DEVICE_OP_ADD, "./Test/Items/a", NULL, "one", 200, NULL, TRUE},
	    {GW_DEVICE_OP_ADD, "./Test/Items/b", NULL, "two", 200, NULL, TRUE},
	    {GW_DEVICE_OP_GET, "./Test/Items/a", NULL, NULL, 200, "one", TRUE},
	    {GW_DEVICE_OP_GET, "./Test/Items", NULL, NULL, 200, "a/b", TRUE},
	    {GW_DEVICE_OP_DELETE, "./Test/Items/b", NULL, NULL, 200, NULL, TRUE},
	    {GW_DEVICE_OP_GET, "./Test/Items/b", NULL, NULL, 404, NULL, TRUE},
	    /* the plugin's faults: a GError is 500 with its message, a fault is the plugin's */
	    {GW_DEVICE_OP_EXEC,
	     "./Test/Operations/Fail",
	     NULL,
	     "no",
	     500,
	     "the device refused: no",
	     TRUE},
	    {GW_DEVICE_OP_EXEC, "./Test/Operations/Fault", NULL, "x", 500, "fault: x", TRUE},
	};

	fixture_start(fx);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *value = NULL;
		guint before = plugin_calls(fx);
		guint status = run(fx,
		                   "TEST-DEV-1",
		                   cases[i].op,
		                   cases[i].uri,
		                   cases[i].format,
		                   cases[i].data,
		                   &value);
		g_test_message(
		    "case %u: %s → %u '%s'", i, cases[i].uri, status, value ? value : "");
		g_assert_cmpuint(status, ==, cases[i].status);
		if (cases[i].value != NULL)
			g_assert_cmpstr(value, ==, cases[i].value);
		g_assert_cmpuint(plugin_calls(fx), ==, before + (cases[i].plugin ? 1 : 0));
	}
	/* the other device has its own state */
	{
		g_autofree gchar *value = NULL;
		g_assert_cmpuint(
		    run(fx, "TEST-DEV-2", GW_DEVICE_OP_GET, "./Test/Switch", NULL, NULL, &value),
		    ==,
		    200);
		g_assert_cmpstr(value, ==, "false");
	}
}

/* the deadline: 408 from the registry, the plugin's call cancelled, a late answer ignored, and
 * the main loop turns all the while */
static void
test_deadline(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDeviceResult) hang = NULL;
	g_autoptr(GwDeviceResult) late = NULL;
	gint64 t0;
	gint64 elapsed;
	guint iterations = 0;

	fixture_start(fx);
	/* a call that never answers until it is cancelled */
	t0 = g_get_monotonic_time();
	hang = run_full(fx,
	                "TEST-DEV-1",
	                GW_DEVICE_OP_EXEC,
	                "./Test/Operations/Hang",
	                NULL,
	                NULL,
	                200,
	                NULL,
	                &iterations,
	                &error);
	elapsed = g_get_monotonic_time() - t0;
	g_assert_no_error(error);
	g_assert_cmpuint(gw_device_result_get_status(hang), ==, 408);
	g_test_message(
	    "Hang: 408 after %" G_GINT64_FORMAT " ms, %u ticks", elapsed / 1000, iterations);
	g_assert_cmpint(elapsed, >=, 200 * 1000);
	g_assert_cmpint(elapsed, <, 5 * G_USEC_PER_SEC);
	/* a 10 ms timer kept firing: nothing waited on the plugin */
	g_assert_cmpuint(iterations, >=, 5);

	/* a call that answers after its deadline whatever happens (late-ms 300) */
	late = run_full(fx,
	                "TEST-DEV-1",
	                GW_DEVICE_OP_EXEC,
	                "./Test/Operations/Late",
	                NULL,
	                NULL,
	                50,
	                NULL,
	                NULL,
	                &error);
	g_assert_no_error(error);
	g_assert_cmpuint(gw_device_result_get_status(late), ==, 408);
	/* its answer comes and is dropped (call_done_cb asserts it is not called twice) */
	{
		gint64 end = g_get_monotonic_time() + 600 * 1000;
		while (g_get_monotonic_time() < end) {
			if (!g_main_context_iteration(NULL, FALSE))
				g_usleep(1000);
		}
	}
	/* and the plugin still works */
	g_assert_cmpuint(
	    run(fx, "TEST-DEV-1", GW_DEVICE_OP_GET, "./Test/Level", NULL, NULL, NULL), ==, 200);
}

static gboolean
cancel_cb(gpointer user_data)
{
	g_cancellable_cancel(user_data);
	return G_SOURCE_REMOVE;
}

/* the caller cancels: G_IO_ERROR_CANCELLED, and the plugin's call is cancelled too */
static void
test_caller_cancel(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GwDeviceResult) result = NULL;

	fixture_start(fx);
	g_timeout_add(50, cancel_cb, cancellable);
	result = run_full(fx,
	                  "TEST-DEV-2",
	                  GW_DEVICE_OP_EXEC,
	                  "./Test/Operations/Hang",
	                  NULL,
	                  NULL,
	                  5000,
	                  cancellable,
	                  NULL,
	                  &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(result);
	g_clear_error(&error);
	/* cancelled before it starts */
	result = run_full(fx,
	                  "TEST-DEV-2",
	                  GW_DEVICE_OP_GET,
	                  "./Test/Level",
	                  NULL,
	                  NULL,
	                  5000,
	                  cancellable,
	                  NULL,
	                  &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(result);
}

/* a DeviceID held by an OMA DM record is refused; the record is not touched */
static void
test_refused(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = NULL;
	GwInventoryDevice entry = {.device_id = (gchar *)"TEST-DEV-1", .mode = 2};

	record = gw_inventory_register(fx->inv, &entry, &error);
	g_assert_no_error(error);
	adapters_warnings = 0;
	fixture_start(fx);
	g_assert_cmpuint(adapters_warnings, ==, 1);
	g_assert_true(g_pattern_match_simple("*TEST-DEV-1*OMA-DM: refused", last_adapters_warning));
	assert_leaf(fx, record, "Protocol", "OMA-DM");
	assert_leaf(fx, record, "Mode", "2");
	g_assert_null(gw_adapters_get_device_tree(fx->adapters, "TEST-DEV-1"));
	g_assert_nonnull(gw_adapters_get_device_tree(fx->adapters, "TEST-DEV-2"));
	/* a second adapter for the protocol is refused too */
	{
		g_autoptr(GKeyFile) kf = g_key_file_new();
		g_autoptr(GwPlugin) other = load_test_plugin(kf);
		g_assert_false(
		    gw_adapters_register(fx->adapters, other, GW_ADAPTER_FLAG_NONE, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	}
}

/* records of adapted devices from an earlier run: Detached at start until their adapter
 * reports them; the lease never detaches them; an adapter not loaded: 503 */
static void
test_start_and_lease(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *stale = NULL;
	g_autofree gchar *zigbee = NULL;
	g_autofree gchar *omadm = NULL;
	g_autofree gchar *record = NULL;
	GwInventoryDevice entry = {0};

	/* as a state file from the last run holds them: Attached */
	gw_gwmo_adapter_register("Test");
	gw_gwmo_adapter_register("Zigbee");
	entry.mode = 3;
	entry.protocol = (gchar *)"Test";
	entry.device_id = (gchar *)"TEST-DEV-2";
	stale = gw_inventory_register(fx->inv, &entry, &error);
	g_assert_no_error(error);
	entry.protocol = (gchar *)"Zigbee";
	entry.device_id = (gchar *)"zb-1";
	zigbee = gw_inventory_register(fx->inv, &entry, &error);
	g_assert_no_error(error);
	gw_gwmo_adapter_unregister("Test");
	gw_gwmo_adapter_unregister("Zigbee");
	g_ptr_array_set_size(fx->events, 0);

	fixture_start(fx);
	g_assert_true(has_event(fx, "detached TEST-DEV-2"));
	g_assert_true(has_event(fx, "detached zb-1"));
	assert_leaf(fx, stale, "Status", "Attached"); /* reported again */
	assert_leaf(fx, zigbee, "Status", "Detached");
	g_assert_cmpuint(
	    run(fx, "zb-1", GW_DEVICE_OP_GET, "./Zigbee/Info/Model", NULL, NULL, NULL), ==, 503);

	/* the lease: an OMA DM device not seen goes, the adapter's devices stay */
	gw_config_set_string(fx->config, "inventory", "detach-after", "1");
	entry.mode = 2;
	entry.protocol = NULL;
	entry.device_id = (gchar *)"dm-1";
	omadm = gw_inventory_register(fx->inv, &entry, &error);
	g_assert_no_error(error);
	record = gw_inventory_find(fx->inv, "TEST-DEV-1");
	for (guint i = 0; i < 2; i++) {
		g_autofree gchar *uri =
		    g_strdup_printf("%s/LastSeen", i == 0 ? omadm : (const gchar *)record);
		g_assert_true(gw_dm_tree_set_leaf_string(
		    fx->tree, uri, GW_DM_FORMAT_DATE, "2020-01-01T00:00:00Z", &error));
		g_assert_no_error(error);
	}
	g_assert_cmpuint(gw_inventory_check_leases(fx->inv), ==, 1);
	assert_leaf(fx, omadm, "Status", "Detached");
	assert_leaf(fx, record, "Status", "Attached");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 2) {
		g_printerr("usage: %s PATH-OF-libgw_plugin_test.so\n", argv[0]);
		return 1;
	}
	plugin_path = argv[1];
	g_log_set_writer_func(log_writer, NULL, NULL);
#define ADD(path, func) \
	g_test_add("/adapters/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("found-lost", test_found_lost);
	ADD("checks", test_checks);
	ADD("deadline", test_deadline);
	ADD("caller-cancel", test_caller_cancel);
	ADD("refused", test_refused);
	ADD("start-and-lease", test_start_and_lease);
#undef ADD
	return g_test_run();
}
