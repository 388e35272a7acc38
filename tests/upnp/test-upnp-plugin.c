/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The UPnP adapter as the gateway sees it: its built module loaded with GModule the way the
 * loader loads plugins, driven through the gateway's side of GwPlugin (gw-plugin-private.h)
 * against real UPnP devices in a loopback-only network namespace of the test's own:
 * tests/peers/gwmo-test-light, Debian's gupnp-network-light (under Xvfb, where installed),
 * and hostile "devices" the test plays itself.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libgssdp/gssdp.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "gw-log-private.h"
#include "gw-plugin-kit.h"
#include "gw-upnp-test.h"

static gchar *skip_reason;
static GType plugin_type;
/* ---- a fake gateway ---- */

typedef struct {
	GwPlugin *plugin;
	GHashTable *info;  /* udn -> GwDeviceInfo, the last reported */
	GHashTable *trees; /* udn -> GwDeviceTree */
	GPtrArray *events; /* "found <udn>", "lost <udn>", in order */
} GwGateway;

static void
on_found(GwPlugin *plugin, GwDeviceInfo *info, GwDeviceTree *tree, gpointer user_data)
{
	GwGateway *gw = user_data;
	const gchar *udn = gw_device_info_get_device_id(info);

	g_assert_nonnull(tree);
	g_hash_table_insert(gw->info, g_strdup(udn), gw_device_info_ref(info));
	g_hash_table_insert(gw->trees, g_strdup(udn), gw_device_tree_ref(tree));
	g_ptr_array_add(gw->events, g_strdup_printf("found %s", udn));
}

static void
on_lost(GwPlugin *plugin, const gchar *udn, gpointer user_data)
{
	GwGateway *gw = user_data;

	g_ptr_array_add(gw->events, g_strdup_printf("lost %s", udn));
}

static GwGateway *
gateway_start_full(const gchar *const *config, gboolean loopback)
{
	GwGateway *gw = g_new0(GwGateway, 1);
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) error = NULL;
	guint mark = gw_plugin_kit_log_mark();

	if (loopback)
		g_key_file_set_string(keyfile, "upnp", "interfaces", "lo");
	g_key_file_set_string(keyfile, "upnp", "lost-delay-ms", "300");
	gw_plugin_kit_set_config(keyfile, "upnp", config);
	gw->info = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_device_info_unref);
	gw->trees = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_device_tree_unref);
	gw->events = g_ptr_array_new_with_free_func(g_free);
	gw->plugin = g_object_new(plugin_type, NULL);
	gw_plugin_set_name(gw->plugin, "upnp");
	gw_plugin_set_config(gw->plugin, keyfile);
	g_assert_cmpstr(gw_plugin_get_protocol(gw->plugin), ==, "UPnP");
	g_signal_connect(gw->plugin, "device-found", G_CALLBACK(on_found), gw);
	g_signal_connect(gw->plugin, "device-lost", G_CALLBACK(on_lost), gw);
	g_assert_true(gw_plugin_startup(gw->plugin, &error));
	g_assert_no_error(error);
	/* browsing on lo before a light speaks, so its first alive is heard */
	if (loopback)
		g_assert_true(gw_plugin_kit_wait_logged(
		    mark, "browsing for UPnP root devices on lo", NULL, 30));
	return gw;
}

static GwGateway *
gateway_start(const gchar *const *config)
{
	return gateway_start_full(config, TRUE);
}

static void
gateway_stop(GwGateway *gw)
{
	gw_plugin_shutdown(gw->plugin);
	g_signal_handlers_disconnect_by_data(gw->plugin, gw);
	g_object_unref(gw->plugin);
	g_hash_table_unref(gw->info);
	g_hash_table_unref(gw->trees);
	g_ptr_array_unref(gw->events);
	/* what the shutdown cancelled finishes in the main loop */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_free(gw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwGateway, gateway_stop)

static guint
count_events(GwGateway *gw, const gchar *what, const gchar *udn)
{
	g_autofree gchar *event = g_strdup_printf("%s %s", what, udn);
	guint n = 0;

	for (guint i = 0; i < gw->events->len; i++) {
		if (g_strcmp0(g_ptr_array_index(gw->events, i), event) == 0)
			n++;
	}
	return n;
}

typedef struct {
	GwGateway *gw;
	const gchar *what;
	const gchar *udn;
	guint n;
} GwEventWait;

static gboolean
event_seen(gpointer data)
{
	GwEventWait *w = data;

	return count_events(w->gw, w->what, w->udn) >= w->n;
}

/* waits for the @n-th "@what @udn" event */
static gboolean
wait_event(GwGateway *gw, const gchar *what, const gchar *udn, guint n, guint timeout_s)
{
	GwEventWait w = {gw, what, udn, n};

	return gw_plugin_kit_wait(event_seen, &w, timeout_s);
}

/* ---- running commands ---- */

/* runs @op on @uri of @udn and waits for the answer; @deadline_ms 0: none */
static GwDeviceResult *
run_full(GwGateway *gw,
         const gchar *udn,
         GwDeviceOp op,
         const gchar *uri,
         const gchar *data,
         guint deadline_ms,
         GCancellable *cancellable,
         GError **error,
         gint64 *took)
{
	g_autoptr(GBytes) bytes = data != NULL ? g_bytes_new(data, strlen(data)) : NULL;
	g_autoptr(GwDeviceCommand) cmd = gw_device_command_new(
	    op, uri, data != NULL ? "chr" : NULL, data != NULL ? "text/plain" : NULL, bytes);
	gint64 start = g_get_monotonic_time();
	gint64 deadline = deadline_ms > 0 ? start + (gint64)deadline_ms * 1000 : 0;
	GwDeviceResult *result =
	    gw_plugin_kit_run(gw->plugin, udn, cmd, deadline, cancellable, 60, error);

	if (took != NULL)
		*took = g_get_monotonic_time() - start;
	return result;
}

static GwDeviceResult *
run(GwGateway *gw, const gchar *udn, GwDeviceOp op, const gchar *uri, const gchar *data)
{
	g_autoptr(GError) error = NULL;
	GwDeviceResult *result = run_full(gw, udn, op, uri, data, 0, NULL, &error, NULL);

	g_assert_no_error(error);
	g_assert_nonnull(result);
	return result;
}

/* the text of item @i (NULL when it has no data) */
static gchar *
item_text(GwDeviceResult *result, guint i)
{
	GBytes *data = NULL;

	g_assert_cmpuint(gw_device_result_get_n_items(result), >, i);
	gw_device_result_get_item(result, i, NULL, NULL, NULL, &data);
	if (data == NULL)
		return NULL;
	return g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
}

/* asserts @status, and for a value the item's text */
static void
assert_result(GwDeviceResult *result, guint status, const gchar *value)
{
	g_assert_cmpuint(gw_device_result_get_status(result), ==, status);
	if (value != NULL) {
		g_autofree gchar *text = item_text(result, 0);
		g_assert_cmpstr(text, ==, value);
	}
}

static gchar *
new_udn(void)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	return g_strdup_printf("uuid:%s", uuid);
}

#define SKIP_WITHOUT_NETNS()                      \
	G_STMT_START                              \
	{                                         \
		if (skip_reason != NULL) {        \
			g_test_skip(skip_reason); \
			return;                   \
		}                                 \
	}                                         \
	G_STMT_END

/* ---- cases ---- */

static void
assert_leaf(GwDeviceTree *tree, const gchar *uri, const gchar *format, GwDeviceAccess access)
{
	const gchar *f = NULL;
	GwDeviceAccess a = GW_DEVICE_ACCESS_NONE;

	if (!gw_device_tree_lookup(tree, uri, &f, &a, NULL))
		g_error("%s is not in the tree", uri);
	g_assert_cmpstr(f, ==, format);
	g_assert_cmpint(a, ==, access);
}

static void
assert_children(GwDeviceTree *tree, const gchar *uri, const gchar *joined)
{
	g_auto(GStrv) children = gw_device_tree_list_children(tree, uri);
	g_autofree gchar *text = NULL;

	g_assert_nonnull(children);
	text = g_strjoinv(",", children);
	g_assert_cmpstr(text, ==, joined);
}

/* found: DevInfo and the declared tree of a DimmableLight */
static void
test_found(void)
{
	g_autofree gchar *udn = new_udn();
	g_autofree gchar *location = NULL;
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	GwDeviceInfo *info;
	GwDeviceTree *tree;
	const gchar *p = "./UPnP/Services/SwitchPower";

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(NULL);
	light = gw_upnp_test_light(udn, 1800, &location);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));

	info = g_hash_table_lookup(gw->info, udn);
	g_assert_cmpstr(gw_device_info_get_device_id(info), ==, udn);
	g_assert_cmpstr(gw_device_info_get_address(info), ==, location);
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "Man"), ==, "gwmo test peers");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "Mod"), ==, "gwmo-test-light");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "FwV"), ==, "1.0");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "DevTyp"),
	                ==,
	                "urn:schemas-upnp-org:device:DimmableLight:1");

	tree = g_hash_table_lookup(gw->trees, udn);
	assert_children(tree,
	                "./UPnP",
	                "DeviceType,Dimming,FriendlyName,Manufacturer,ModelName,"
	                "Services,SwitchPower,UDN");
	gw_plugin_kit_assert_static(tree, "./UPnP/UDN", udn);
	gw_plugin_kit_assert_static(tree, "./UPnP/FriendlyName", "gwmo test light");
	gw_plugin_kit_assert_static(tree, "./UPnP/Manufacturer", "gwmo test peers");
	gw_plugin_kit_assert_static(tree, "./UPnP/ModelName", "gwmo-test-light");
	gw_plugin_kit_assert_static(
	    tree, "./UPnP/DeviceType", "urn:schemas-upnp-org:device:DimmableLight:1");
	/* serviceIds sanitised into node names */
	assert_children(tree, "./UPnP/Services", "Dimming,SwitchPower,TestControl");
	assert_children(tree, p, "Actions,ServiceId,ServiceType,StateVariables");
	gw_plugin_kit_assert_static(
	    tree, "./UPnP/Services/SwitchPower/ServiceId", "urn:upnp-org:serviceId:SwitchPower");
	assert_children(
	    tree, "./UPnP/Services/SwitchPower/Actions", "GetStatus,GetTarget,SetTarget");
	assert_leaf(
	    tree, "./UPnP/Services/SwitchPower/Actions/SetTarget", "chr", GW_DEVICE_ACCESS_EXEC);
	assert_leaf(
	    tree, "./UPnP/Services/SwitchPower/StateVariables/Status", "int", GW_DEVICE_ACCESS_GET);
	assert_leaf(tree,
	            "./UPnP/Services/TestControl/StateVariables/LastText",
	            "chr",
	            GW_DEVICE_ACCESS_GET);
	assert_leaf(tree,
	            "./UPnP/SwitchPower/Target",
	            "int",
	            GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE);
	assert_leaf(tree, "./UPnP/SwitchPower/Status", "int", GW_DEVICE_ACCESS_GET);
	assert_leaf(tree,
	            "./UPnP/Dimming/LoadLevelTarget",
	            "int",
	            GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE);
	assert_leaf(tree, "./UPnP/Dimming/LoadLevelStatus", "int", GW_DEVICE_ACCESS_GET);
	g_assert_cmpuint(count_events(gw, "found", udn), ==, 1);
}

typedef struct {
	GwGateway *gw;
	const gchar *udn;
	const gchar *uri;
	const gchar *want;
} GwValueWait;

static gboolean
value_is(gpointer data)
{
	GwValueWait *w = data;
	g_autoptr(GwDeviceResult) r = run(w->gw, w->udn, GW_DEVICE_OP_GET, w->uri, NULL);
	g_autofree gchar *text = NULL;

	if (gw_device_result_get_status(r) != GW_DEVICE_STATUS_OK)
		return FALSE;
	text = item_text(r, 0);
	return g_strcmp0(text, w->want) == 0;
}

/* Replace SwitchPower/Target → SetTarget; Status read back, from the action and from GENA */
static void
test_switch(void)
{
	g_autofree gchar *udn = new_udn();
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GwDeviceResult) r = NULL;
	g_autofree gchar *set = g_strdup_printf("SET %s Target 1", udn);
	GwValueWait evented = {NULL, udn, "./UPnP/Services/SwitchPower/StateVariables/Status", "1"};

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(NULL);
	light = gw_upnp_test_light(udn, 1800, NULL);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));
	evented.gw = gw;

	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/SwitchPower/Status", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "0");
	g_clear_pointer(&r, gw_device_result_unref);

	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/SwitchPower/Target", "1");
	assert_result(r, GW_DEVICE_STATUS_OK, NULL);
	g_assert_cmpuint(gw_device_result_get_n_items(r), ==, 0);
	g_clear_pointer(&r, gw_device_result_unref);
	g_assert_nonnull(gw_upnp_child_wait_line(light, 0, set, 10, NULL));

	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/SwitchPower/Status", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "1");
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/SwitchPower/Target", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "1");
	g_clear_pointer(&r, gw_device_result_unref);
	/* a non-evented variable is read through the action that returns it (GetTarget) */
	r = run(
	    gw, udn, GW_DEVICE_OP_GET, "./UPnP/Services/SwitchPower/StateVariables/Target", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "1");
	g_clear_pointer(&r, gw_device_result_unref);
	/* an evented one answers the last GENA event: "1" once the light's NOTIFY is in */
	g_assert_true(gw_plugin_kit_wait(value_is, &evented, 30));

	/* values that are no UPnP boolean 0/1 never reach the light */
	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/SwitchPower/Target", "2");
	assert_result(r, GW_DEVICE_STATUS_BAD_REQUEST, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/SwitchPower/Target", "on");
	assert_result(r, GW_DEVICE_STATUS_BAD_REQUEST, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	g_assert_cmpuint(gw_upnp_child_count(light, "SET "), ==, 1);

	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/SwitchPower/Target", "0");
	assert_result(r, GW_DEVICE_STATUS_OK, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/SwitchPower/Status", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "0");
}

/* Exec of an action with its in-arguments as data; out-arguments as one item */
static void
test_exec(void)
{
	g_autofree gchar *udn = new_udn();
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GwDeviceResult) r = NULL;
	g_autofree gchar *set = g_strdup_printf("SET %s LoadLevelTarget 40", udn);
	const gchar *level = "./UPnP/Services/Dimming/Actions/SetLoadLevelTarget";
	const gchar *echo = "./UPnP/Services/TestControl/Actions/Echo";

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(NULL);
	light = gw_upnp_test_light(udn, 1800, NULL);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));

	r = run(gw, udn, GW_DEVICE_OP_EXEC, level, "newLoadlevelTarget=40");
	assert_result(r, GW_DEVICE_STATUS_OK, NULL);
	g_assert_cmpuint(gw_device_result_get_n_items(r), ==, 0);
	g_clear_pointer(&r, gw_device_result_unref);
	g_assert_nonnull(gw_upnp_child_wait_line(light, 0, set, 10, NULL));
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/Dimming/LoadLevelStatus", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "40");
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/Dimming/LoadLevelTarget", "65");
	assert_result(r, GW_DEVICE_STATUS_OK, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/Dimming/LoadLevelTarget", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "65");
	g_clear_pointer(&r, gw_device_result_unref);

	/* URL-encoded both ways, in any order; the result item is the out-arguments */
	r = run(gw, udn, GW_DEVICE_OP_EXEC, echo, "InNumber=-7&InText=a%26b%3Dc+d%C3%A9%2F");
	assert_result(r, GW_DEVICE_STATUS_OK, "OutText=a%26b%3Dc%20d%C3%A9%2F&OutNumber=-7");
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_EXEC, "./UPnP/Services/SwitchPower/Actions/GetStatus", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "ResultStatus=0");
	g_clear_pointer(&r, gw_device_result_unref);

	/* bad argument data: 400, and nothing reaches the light */
	{
		const gchar *bad[][2] = {
		    {level, "newLoadLevelTarget=40"}, /* no such argument (case) */
		    {level, ""},                      /* missing */
		    {level, "newLoadlevelTarget=40&newLoadlevelTarget=41"}, /* twice */
		    {level, "newLoadlevelTarget=256"},                      /* not a ui1 */
		    {level, "newLoadlevelTarget=-1"},
		    {level, "newLoadlevelTarget"},     /* no "=" */
		    {echo, "InText=x&InNumber=seven"}, /* not an i4 */
		    {echo, "InText=%ZZ&InNumber=1"},   /* bad escape */
		    {echo, "InText=%00&InNumber=1"},   /* NUL */
		    {echo, "InText=%FF&InNumber=1"},   /* not UTF-8 */
		    {echo, "InText=%01&InNumber=1"},   /* not XML text */
		    {"./UPnP/Services/SwitchPower/Actions/GetStatus", "x=1"},
		};
		guint http_before = gw_upnp_child_count(light, "HTTP POST");
		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_test_message("bad data %s", bad[i][1]);
			r = run(gw, udn, GW_DEVICE_OP_EXEC, bad[i][0], bad[i][1]);
			assert_result(r, GW_DEVICE_STATUS_BAD_REQUEST, NULL);
			g_assert_cmpuint(gw_device_result_get_n_items(r), ==, 1);
			g_clear_pointer(&r, gw_device_result_unref);
		}
		g_assert_cmpuint(gw_upnp_child_count(light, "HTTP POST"), ==, http_before);
	}
}

/* a device's SOAP fault is 500 with its text; what the plugin cannot do: 404, 405, 501 */
static void
test_fault(void)
{
	g_autofree gchar *udn = new_udn();
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GwDeviceResult) r = NULL;
	g_autofree gchar *text = NULL;

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(NULL);
	light = gw_upnp_test_light(udn, 1800, NULL);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));

	r = run(gw,
	        udn,
	        GW_DEVICE_OP_EXEC,
	        "./UPnP/Services/Dimming/Actions/SetLoadLevelTarget",
	        "newLoadlevelTarget=150");
	g_assert_cmpuint(gw_device_result_get_status(r), ==, GW_DEVICE_STATUS_FAILED);
	text = item_text(r, 0);
	g_assert_cmpstr(text, ==, "UPnP error 601: Argument Value Out of Range");
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/Dimming/LoadLevelTarget", "101");
	assert_result(r, GW_DEVICE_STATUS_FAILED, "UPnP error 601: Argument Value Out of Range");
	g_clear_pointer(&r, gw_device_result_unref);

	r = run(
	    gw, udn, GW_DEVICE_OP_GET, "./UPnP/Services/TestControl/StateVariables/LastText", NULL);
	g_assert_cmpuint(gw_device_result_get_status(r), ==, GW_DEVICE_STATUS_NOT_IMPLEMENTED);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/Services/Nope/Actions/X", NULL);
	assert_result(r, GW_DEVICE_STATUS_NOT_FOUND, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/SwitchPower/Status", "1");
	assert_result(r, GW_DEVICE_STATUS_NOT_ALLOWED, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/Services/SwitchPower/Actions/GetStatus", NULL);
	assert_result(r, GW_DEVICE_STATUS_NOT_ALLOWED, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/FriendlyName", "x");
	assert_result(r, GW_DEVICE_STATUS_NOT_ALLOWED, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, "uuid:not-a-device", GW_DEVICE_OP_GET, "./UPnP/SwitchPower/Status", NULL);
	assert_result(r, GW_DEVICE_STATUS_NOT_FOUND, NULL);
}

typedef struct {
	gboolean available;
	guint unavailable;
	guint available_again;
} GwBrowse;

static void
on_browse_available(GSSDPResourceBrowser *browser, const char *usn, GList *locs, gpointer data)
{
	GwBrowse *b = data;

	if (b->unavailable > 0)
		b->available_again++;
	b->available = TRUE;
}

static void
on_browse_unavailable(GSSDPResourceBrowser *browser, const char *usn, gpointer data)
{
	((GwBrowse *)data)->unavailable++;
}

/* without [upnp] interfaces, every interface but loopback: lo, the namespace's only one, is
 * left alone */
static void
test_loopback_default(void)
{
	g_autoptr(GwGateway) gw = NULL;
	guint mark = gw_plugin_kit_log_mark();

	SKIP_WITHOUT_NETNS();
	gw = gateway_start_full(NULL, FALSE);
	g_assert_true(gw_plugin_kit_wait_logged(mark, "lo skipped: loopback", NULL, 30));
	g_assert_false(gw_plugin_kit_wait_logged(mark, "browsing for UPnP root devices", NULL, 1));
}

/* ssdp:byebye: lost, after lost-delay-ms; later commands answer 408 */
static void
test_byebye(void)
{
	g_autofree gchar *udn = new_udn();
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GwDeviceResult) r = NULL;

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(NULL);
	light = gw_upnp_test_light(udn, 1800, NULL);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));
	g_assert_cmpint(gw_upnp_child_stop(light, SIGTERM), ==, 0);
	g_assert_nonnull(gw_upnp_child_wait_line(light, 0, "BYEBYE", 10, NULL));
	/* max-age is 1800 s: only the byebye can make it lost this soon */
	g_assert_true(wait_event(gw, "lost", udn, 1, 30));
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/SwitchPower/Status", NULL);
	g_assert_cmpuint(gw_device_result_get_status(r), ==, GW_DEVICE_STATUS_TIMEOUT);
	g_assert_cmpuint(count_events(gw, "found", udn), ==, 1);
}

/* a killed light says nothing: lost once its max-age has expired */
static void
test_expire(void)
{
	g_autofree gchar *udn = new_udn();
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	gint64 killed;
	gint64 took;

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(NULL);
	light = gw_upnp_test_light(udn, 7, NULL);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));
	gw_upnp_child_stop(light, SIGKILL);
	killed = g_get_monotonic_time();
	g_assert_true(wait_event(gw, "lost", udn, 1, 60));
	took = g_get_monotonic_time() - killed;
	g_test_message("lost %" G_GINT64_FORMAT " ms after SIGKILL", took / 1000);
	/* no byebye: not before the last announcement's max-age (7 s, re-announced every 1 s) */
	g_assert_cmpint(took, >=, 5 * G_USEC_PER_SEC);
	g_assert_cmpuint(gw_upnp_child_count(light, "BYEBYE"), ==, 0);
}

/* a pending action is cancelled on the wire; a deadline answers 408 */
static void
test_cancel(void)
{
	g_autofree gchar *udn = new_udn();
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GwDeviceResult) r = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GwDeviceCommand) cmd = NULL;
	g_autoptr(GBytes) data = g_bytes_new_static("DelayMs=60000", 13);
	g_autofree gchar *stall = NULL;
	const gchar *uri = "./UPnP/Services/TestControl/Actions/Stall";
	GwPluginKitRun pending = {0};
	guint line = 0;
	gint64 took = 0;
	g_autoptr(GError) error = NULL;

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(NULL);
	light = gw_upnp_test_light(udn, 1800, NULL);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));
	stall = g_strdup_printf("STALL-BEGIN %s", udn);

	cmd = gw_device_command_new(GW_DEVICE_OP_EXEC, uri, "chr", "text/plain", data);
	gw_plugin_run_command_async(
	    gw->plugin, udn, cmd, 0, cancellable, gw_plugin_kit_run_cb, &pending);
	g_assert_nonnull(gw_upnp_child_wait_line(light, 0, stall, 30, &line));
	g_assert_false(pending.done);
	g_cancellable_cancel(cancellable);
	g_assert_true(gw_plugin_kit_wait(gw_plugin_kit_run_done, &pending, 10));
	g_assert_null(pending.result);
	g_assert_error(pending.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_clear_error(&pending.error);
	/* the light sees its client go away: the action was cancelled, not just forgotten */
	g_assert_nonnull(gw_upnp_child_wait_line(light, line, "STALL-ABANDONED", 30, NULL));

	/* the deadline: 408 at it, the action cancelled too */
	r = run_full(gw, udn, GW_DEVICE_OP_EXEC, uri, "DelayMs=60000", 500, NULL, &error, &took);
	g_assert_no_error(error);
	assert_result(r, GW_DEVICE_STATUS_TIMEOUT, "no answer before the deadline");
	g_assert_cmpint(took, <, 10 * G_USEC_PER_SEC);
	g_clear_pointer(&r, gw_device_result_unref);
	g_assert_nonnull(gw_upnp_child_wait_line(light, line + 1, "STALL-ABANDONED", 30, NULL));

	/* the device still answers */
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/SwitchPower/Status", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "0");
	g_assert_cmpuint(gw_upnp_child_count(light, "STALL-END"), ==, 0);
}

/* ---- flapping and hostile LANs ---- */

/* sends an ssdp:byebye for @udn's root device to the SSDP group on lo, as anyone can */
static void
send_byebye(const gchar *udn)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) sock = g_socket_new(
	    G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
	g_autoptr(GInetAddress) group = g_inet_address_new_from_string("239.255.255.250");
	g_autoptr(GSocketAddress) to = g_inet_socket_address_new(group, 1900);
	struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
	g_autofree gchar *msg = g_strdup_printf("NOTIFY * HTTP/1.1\r\n"
	                                        "Host: 239.255.255.250:1900\r\n"
	                                        "NT: upnp:rootdevice\r\n"
	                                        "NTS: ssdp:byebye\r\n"
	                                        "USN: %s::upnp:rootdevice\r\n\r\n",
	                                        udn);

	g_assert_no_error(error);
	g_assert_cmpint(
	    setsockopt(g_socket_get_fd(sock), IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo)), ==, 0);
	g_socket_send_to(sock, to, msg, strlen(msg), NULL, &error);
	g_assert_no_error(error);
}

static gboolean
browse_seen(gpointer data)
{
	return ((GwBrowse *)data)->available;
}

static gboolean
browse_back(gpointer data)
{
	GwBrowse *b = data;
	return b->unavailable > 0 && b->available_again >= b->unavailable;
}

static gboolean
timer_done(gpointer data)
{
	return g_get_monotonic_time() >= *(gint64 *)data;
}

/* bye-byes that an alive follows within lost-delay-ms change nothing: no lost, no second
 * found, no second description fetch */
static void
test_flap(void)
{
	g_autofree gchar *udn = new_udn();
	g_autofree gchar *desc_get = NULL;
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSSDPClient) client = NULL;
	g_autoptr(GSSDPResourceBrowser) browser = NULL;
	g_autofree gchar *location = NULL;
	const gchar *config[] = {"lost-delay-ms=4000", NULL};
	GwBrowse seen = {0};
	gint64 until;

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(config);
	/* max-age 7: the light announces itself every second */
	light = gw_upnp_test_light(udn, 7, &location);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));
	desc_get = g_strdup_printf("HTTP GET %s", strrchr(location, '/'));
	g_assert_cmpuint(gw_upnp_child_count(light, desc_get), ==, 1);

	/* a browser of the test's own sees what the plugin sees */
	client = gssdp_client_new_full("lo", NULL, 0, GSSDP_UDA_VERSION_1_0, &error);
	g_assert_no_error(error);
	browser = gssdp_resource_browser_new(client, "upnp:rootdevice");
	g_signal_connect(browser, "resource-available", G_CALLBACK(on_browse_available), &seen);
	g_signal_connect(browser, "resource-unavailable", G_CALLBACK(on_browse_unavailable), &seen);
	gssdp_resource_browser_set_active(browser, TRUE);
	g_assert_true(gw_plugin_kit_wait(browse_seen, &seen, 30));

	for (guint i = 0; i < 3; i++) {
		send_byebye(udn);
		/* gone, then back with its next announcement */
		g_assert_true(gw_plugin_kit_wait(browse_back, &seen, 30));
	}
	/* lost-delay-ms after the last bye-bye, nothing happened */
	until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	gw_plugin_kit_wait(timer_done, &until, 10);
	g_assert_cmpuint(count_events(gw, "lost", udn), ==, 0);
	g_assert_cmpuint(count_events(gw, "found", udn), ==, 1);
	g_assert_cmpuint(gw_upnp_child_count(light, desc_get), ==, 1);
}

/* ---- hostile devices the test plays ---- */

typedef struct {
	gsize written;
	gboolean finished;
	gsize total;
} GwStream;

static void
on_chunk_written(SoupServerMessage *msg, gpointer user_data)
{
	GwStream *s = user_data;
	static gchar block[65536];

	if (s->written >= s->total) {
		soup_message_body_complete(soup_server_message_get_response_body(msg));
		return;
	}
	memset(block, ' ', sizeof(block));
	soup_message_body_append(
	    soup_server_message_get_response_body(msg), SOUP_MEMORY_STATIC, block, sizeof(block));
	s->written += sizeof(block);
}

static void
on_stream_finished(SoupServerMessage *msg, gpointer user_data)
{
	((GwStream *)user_data)->finished = TRUE;
}

static gboolean
stream_finished(gpointer data)
{
	return ((GwStream *)data)->finished;
}

static GwStream endless = {0, FALSE, 64 * 1024 * 1024};

static gchar *
description(const gchar *udn, const gchar *services)
{
	return g_strdup_printf("<?xml version=\"1.0\"?>"
	                       "<root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
	                       "<specVersion><major>1</major><minor>0</minor></specVersion>"
	                       "<device><deviceType>urn:x:device:Evil:1</deviceType>"
	                       "<friendlyName>evil</friendlyName><UDN>%s</UDN>"
	                       "<serviceList>%s</serviceList></device></root>",
	                       udn,
	                       services);
}

static void
hostile_handler(SoupServer *server,
                SoupServerMessage *msg,
                const char *path,
                GHashTable *query,
                gpointer user_data)
{
	GHashTable *docs = user_data;
	const gchar *doc = g_hash_table_lookup(docs, path);

	if (g_strcmp0(path, "/endless.xml") == 0) {
		SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
		soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
		soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
		g_signal_connect(msg, "wrote-chunk", G_CALLBACK(on_chunk_written), &endless);
		g_signal_connect(msg, "finished", G_CALLBACK(on_stream_finished), &endless);
		on_chunk_written(msg, &endless);
		return;
	}
	if (doc == NULL) {
		soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
		return;
	}
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg, "text/xml", SOUP_MEMORY_COPY, doc, strlen(doc));
}

/* descriptions that are huge, endless, malformed, entity bombs, absurdly wide or lying about
 * their UDN are refused with a log line; a LOCATION off the LAN is not even fetched; the
 * device cap holds; a real light next to them is found all the same */
static void
test_hostile(void)
{
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(SoupServer) server = soup_server_new(NULL, NULL);
	g_autoptr(GHashTable) docs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GSSDPClient) client = NULL;
	g_autoptr(GSSDPResourceGroup) group = NULL;
	g_autoptr(GString) wide = g_string_new(NULL);
	g_autoptr(GString) huge = g_string_new(NULL);
	g_autofree gchar *udn = new_udn();
	GSList *uris;
	guint port;
	guint mark = gw_plugin_kit_log_mark();
	const gchar *config[] = {"max-devices=12", NULL};
	struct {
		const gchar *name;
		const gchar *why; /* in the refusal's log line */
	} evil[] = {
	    {"huge", "over the cap"},
	    {"endless", "over the cap"},
	    {"notxml", "is not XML"},
	    {"bomb", "refused"}, /* libxml2's own amplification check may speak first */
	    {"doctype", "has a DOCTYPE"},
	    {"wide", "more than 32 services"},
	    {"liar", "names another UDN"},
	    {"nodevice", "no <device>"},
	};

	SKIP_WITHOUT_NETNS();
	gw = gateway_start(config);

	for (guint i = 0; i < 40; i++)
		g_string_append_printf(wide,
		                       "<service><serviceType>urn:x:service:S:1</serviceType>"
		                       "<serviceId>urn:x:serviceId:S%u</serviceId>"
		                       "<SCPDURL>/s.xml</SCPDURL><controlURL>/c</controlURL>"
		                       "</service>",
		                       i);
	g_string_append(huge, "<?xml version=\"1.0\"?><root><device><UDN>uuid:evil-huge</UDN>");
	while (huge->len < 1024 * 1024)
		g_string_append(huge, "<x>padding padding padding padding</x>");
	g_string_append(huge, "</device></root>");
	g_hash_table_insert(
	    docs, g_strdup("/huge.xml"), g_string_free(g_steal_pointer(&huge), FALSE));
	g_hash_table_insert(docs, g_strdup("/notxml.xml"), g_strdup("<root><device>"));
	g_hash_table_insert(docs,
	                    g_strdup("/bomb.xml"),
	                    g_strdup("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaa\">"
	                             "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
	                             "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
	                             "<root><device><UDN>uuid:evil-bomb</UDN>"
	                             "<friendlyName>&c;&c;&c;</friendlyName></device></root>"));
	g_hash_table_insert(docs,
	                    g_strdup("/doctype.xml"),
	                    g_strdup("<?xml version=\"1.0\"?><!DOCTYPE root [<!ENTITY a \"x\">]>"
	                             "<root><device><UDN>uuid:evil-doctype</UDN></device></root>"));
	g_hash_table_insert(docs, g_strdup("/wide.xml"), description("uuid:evil-wide", wide->str));
	g_hash_table_insert(docs, g_strdup("/liar.xml"), description(udn, ""));
	g_hash_table_insert(docs,
	                    g_strdup("/nodevice.xml"),
	                    g_strdup("<?xml version=\"1.0\"?><root><UDN>uuid:evil-nodevice</UDN>"
	                             "</root>"));
	/* a device whose control URL points off its host: found, without that service */
	g_hash_table_insert(
	    docs,
	    g_strdup("/offhost.xml"),
	    description("uuid:evil-offhost",
	                "<service><serviceType>urn:x:service:S:1</serviceType>"
	                "<serviceId>urn:x:serviceId:S</serviceId><SCPDURL>/s.xml</SCPDURL>"
	                "<controlURL>http://192.0.2.1/c</controlURL></service>"));
	soup_server_add_handler(server, NULL, hostile_handler, docs, NULL);
	soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
	g_assert_no_error(error);
	uris = soup_server_get_uris(server);
	port = (guint)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);

	client = gssdp_client_new_full("lo", NULL, 0, GSSDP_UDA_VERSION_1_0, &error);
	g_assert_no_error(error);
	group = gssdp_resource_group_new(client);
	gssdp_resource_group_set_message_delay(group, 5);
	for (guint i = 0; i < G_N_ELEMENTS(evil); i++) {
		g_autofree gchar *usn =
		    g_strdup_printf("uuid:evil-%s::upnp:rootdevice", evil[i].name);
		g_autofree gchar *loc =
		    g_strdup_printf("http://127.0.0.1:%u/%s.xml", port, evil[i].name);
		gssdp_resource_group_add_resource_simple(group, "upnp:rootdevice", usn, loc);
	}
	{
		g_autofree gchar *loc = g_strdup_printf("http://127.0.0.1:%u/offhost.xml", port);
		gssdp_resource_group_add_resource_simple(
		    group, "upnp:rootdevice", "uuid:evil-offhost::upnp:rootdevice", loc);
	}
	/* off the LAN, and not an address: never fetched */
	gssdp_resource_group_add_resource_simple(
	    group, "upnp:rootdevice", "uuid:evil-far::upnp:rootdevice", "http://192.0.2.1/d.xml");
	gssdp_resource_group_add_resource_simple(
	    group, "upnp:rootdevice", "uuid:evil-named::upnp:rootdevice", "http://localhost/d.xml");
	gssdp_resource_group_set_available(group, TRUE);

	for (guint i = 0; i < G_N_ELEMENTS(evil); i++) {
		g_autofree gchar *needle = g_strdup_printf("uuid:evil-%s at", evil[i].name);
		g_test_message("waiting for the refusal of %s", evil[i].name);
		g_assert_true(gw_plugin_kit_wait_logged(mark, needle, evil[i].why, 30));
	}
	g_assert_true(
	    gw_plugin_kit_wait_logged(mark, "uuid:evil-far ignored: no LOCATION", NULL, 30));
	g_assert_true(
	    gw_plugin_kit_wait_logged(mark, "uuid:evil-named ignored: no LOCATION", NULL, 30));
	/* the endless document was cut off: the server saw its client leave */
	g_assert_true(gw_plugin_kit_wait(stream_finished, &endless, 30));
	g_assert_cmpuint(endless.written, <, endless.total);
	g_test_message("the endless description was cut after %" G_GSIZE_FORMAT " bytes written",
	               endless.written);

	/* the one with an off-host control URL is there, without that service */
	g_assert_true(wait_event(gw, "found", "uuid:evil-offhost", 1, 30));
	{
		GwDeviceTree *tree = g_hash_table_lookup(gw->trees, "uuid:evil-offhost");
		g_auto(GStrv) children = gw_device_tree_list_children(tree, "./UPnP");
		g_assert_false(g_strv_contains((const gchar *const *)children, "Services"));
	}
	for (guint i = 0; i < G_N_ELEMENTS(evil); i++) {
		g_autofree gchar *u = g_strdup_printf("uuid:evil-%s", evil[i].name);
		g_assert_cmpuint(count_events(gw, "found", u), ==, 0);
	}

	/* a real light among them works (and the liar did not take its UDN) */
	light = gw_upnp_test_light(udn, 1800, NULL);
	g_assert_true(wait_event(gw, "found", udn, 1, 30));

	/* the device cap: 12 records are the 9 above, the light and two of these four */
	{
		g_autoptr(GSSDPResourceGroup) more = gssdp_resource_group_new(client);
		gssdp_resource_group_set_message_delay(more, 5);
		for (guint i = 0; i < 4; i++) {
			g_autofree gchar *usn = g_strdup_printf("uuid:more-%u::upnp:rootdevice", i);
			g_autofree gchar *loc =
			    g_strdup_printf("http://127.0.0.1:%u/more%u.xml", port, i);
			gssdp_resource_group_add_resource_simple(more, "upnp:rootdevice", usn, loc);
		}
		gssdp_resource_group_set_available(more, TRUE);
		g_assert_true(gw_plugin_kit_wait_logged(mark, "(max-devices)", NULL, 30));
		gssdp_resource_group_set_available(more, FALSE);
	}
	gssdp_resource_group_set_available(group, FALSE);
}

/* ---- Debian's gupnp-network-light, an independent implementation, under Xvfb ---- */

static gboolean
found_model(gpointer data)
{
	GwGateway *gw = data;
	GHashTableIter iter;
	GwDeviceInfo *info;

	g_hash_table_iter_init(&iter, gw->info);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&info)) {
		if (g_strcmp0(gw_device_info_get_devinfo(info, "Mod"), "Network Light") == 0)
			return TRUE;
	}
	return FALSE;
}

static void
test_network_light(void)
{
	g_autofree gchar *why_not = NULL;
	g_autoptr(GwGateway) gw = NULL;
	g_autoptr(GwUpnpChild) xvfb = NULL;
	g_autoptr(GwUpnpChild) light = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDeviceResult) r = NULL;
	g_autofree gchar *display = NULL;
	g_autofree gchar *leftover = NULL;
	GHashTableIter iter;
	const gchar *udn = NULL;
	GwDeviceInfo *info;

	SKIP_WITHOUT_NETNS();
	xvfb = gw_upnp_test_xvfb(&display, &why_not);
	if (xvfb == NULL) {
		g_test_skip(why_not);
		return;
	}
	gw = gateway_start(NULL);
	light = gw_upnp_test_network_light(display);
	g_assert_true(gw_plugin_kit_wait(found_model, gw, 60));
	g_hash_table_iter_init(&iter, gw->info);
	while (g_hash_table_iter_next(&iter, (gpointer *)&udn, (gpointer *)&info)) {
		if (g_strcmp0(gw_device_info_get_devinfo(info, "Mod"), "Network Light") == 0)
			break;
	}
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "Man"), ==, "GUPnP Developers");
	g_assert_cmpstr(gw_device_info_get_devinfo(info, "DevTyp"),
	                ==,
	                "urn:schemas-upnp-org:device:DimmableLight:1");
	leftover = g_strdup_printf("/tmp/gupnp-network-light-%s.xml", udn + 5);

	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/SwitchPower/Target", "1");
	assert_result(r, GW_DEVICE_STATUS_OK, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/SwitchPower/Status", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "1");
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_REPLACE, "./UPnP/Dimming/LoadLevelTarget", "30");
	assert_result(r, GW_DEVICE_STATUS_OK, NULL);
	g_clear_pointer(&r, gw_device_result_unref);
	r = run(gw, udn, GW_DEVICE_OP_GET, "./UPnP/Dimming/LoadLevelStatus", NULL);
	assert_result(r, GW_DEVICE_STATUS_OK, "30");

	gw_upnp_child_stop(light, SIGTERM);
	g_unlink(leftover);
	/* Xvfb removes its lock file on SIGTERM */
	gw_upnp_child_stop(xvfb, SIGTERM);
}

int
main(int argc, char **argv)
{
	gchar *why_not = NULL;

	/* before anything makes a socket or a thread */
	if (!gw_upnp_test_enter_netns(&why_not))
		skip_reason = why_not;
	g_test_init(&argc, &argv, NULL);
	gw_plugin_kit_log_capture();
	/* GUPnP and GSSDP log unstructured: through the writer too, and their warnings about
	 * what hostile peers send are not fatal here (criticals still are) */
	g_log_set_default_handler(g_log_default_handler, NULL);
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	/* every refusal of the hostile case is logged */
	gw_log_ratelimit_set_policy(30000, 1000);
	if (skip_reason == NULL) {
		plugin_type = gw_plugin_kit_load("GWMO_TEST_UPNP_PLUGIN", &why_not);
		if (plugin_type == G_TYPE_INVALID)
			g_error("cannot load the UPnP plugin: %s", why_not);
		g_assert_false(G_TYPE_IS_ABSTRACT(plugin_type));
	}
	if (skip_reason != NULL)
		g_test_message("skipped: %s", skip_reason);

	g_test_add_func("/upnp/plugin/found", test_found);
	g_test_add_func("/upnp/plugin/switch", test_switch);
	g_test_add_func("/upnp/plugin/exec", test_exec);
	g_test_add_func("/upnp/plugin/fault", test_fault);
	g_test_add_func("/upnp/plugin/loopback-default", test_loopback_default);
	g_test_add_func("/upnp/plugin/byebye", test_byebye);
	g_test_add_func("/upnp/plugin/expire", test_expire);
	g_test_add_func("/upnp/plugin/cancel", test_cancel);
	g_test_add_func("/upnp/plugin/flap", test_flap);
	g_test_add_func("/upnp/plugin/hostile", test_hostile);
	g_test_add_func("/upnp/network-light", test_network_light);
	return g_test_run();
}
