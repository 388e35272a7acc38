/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmo-test-light: headless UPnP DimmableLight:1 root devices (SwitchPower:1, Dimming:1 and
 * a test service) on GUPnP 1.6, for the UPnP adapter's tests and benchmark. No X needed.
 *
 *   gwmo-test-light [--interface=lo] [--udn=uuid:…] [--count=N] [--contexts=K] [--max-age=S] [--name=…]
 *                   [--data-dir=tests/data/upnp] [--state-dir=DIR]
 *
 * Prints one line per event on stdout, for the test that runs it:
 *   READY <udn> <description URL>     a light is announced
 *   SET <udn> <Target|LoadLevelTarget> <value>
 *   STALL-BEGIN <udn> / STALL-END <udn> / STALL-ABANDONED <udn>
 *   HTTP <method> <path>              a request came in (descriptions, SCPDs, SOAP, GENA)
 *   BYEBYE                            every light said ssdp:byebye (on SIGTERM or SIGINT)
 * SIGTERM/SIGINT: ssdp:byebye for every light, then exit 0. SIGKILL leaves the lights to
 * expire after --max-age.
 */

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libgupnp/gupnp.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define GW_LIGHT_MESSAGE_DELAY_MS 10

typedef struct {
	gchar *udn;
	GUPnPRootDevice *root;
	GUPnPServiceInfo *switch_power;
	GUPnPServiceInfo *dimming;
	GUPnPServiceInfo *test;
	gboolean target;
	gboolean status;
	guint level_target;
	guint level_status;
} GwLight;

typedef struct {
	GwLight *light;
	GUPnPServiceAction *action;
	guint timeout_id;
	gulong disconnect_id;
	SoupServerMessage *msg;
	GSource *hangup; /* the client's end of the connection, watched while we stall */
	gboolean abandoned;
} GwStall;

static GMainLoop *loop;

static void
gw_light_free(GwLight *light)
{
	g_clear_object(&light->switch_power);
	g_clear_object(&light->dimming);
	g_clear_object(&light->test);
	g_clear_object(&light->root);
	g_free(light->udn);
	g_free(light);
}

static void
gw_light_say(const gchar *format, ...) G_GNUC_PRINTF(1, 2);

static void
gw_light_say(const gchar *format, ...)
{
	va_list args;

	va_start(args, format);
	vprintf(format, args);
	va_end(args);
	putchar('\n');
	fflush(stdout);
}

/* ---- SwitchPower:1 ---- */

static void
on_set_target(GUPnPService *service, GUPnPServiceAction *action, gpointer user_data)
{
	GwLight *light = user_data;
	gboolean value = FALSE;

	gupnp_service_action_get(action, "newTargetValue", G_TYPE_BOOLEAN, &value, NULL);
	light->target = value;
	light->status = value;
	gw_light_say("SET %s Target %d", light->udn, value ? 1 : 0);
	gupnp_service_action_return_success(action);
	gupnp_service_notify(service, "Status", G_TYPE_BOOLEAN, light->status, NULL);
}

static void
on_get_target(GUPnPService *service, GUPnPServiceAction *action, gpointer user_data)
{
	GwLight *light = user_data;

	gupnp_service_action_set(action, "RetTargetValue", G_TYPE_BOOLEAN, light->target, NULL);
	gupnp_service_action_return_success(action);
}

static void
on_get_status(GUPnPService *service, GUPnPServiceAction *action, gpointer user_data)
{
	GwLight *light = user_data;

	gupnp_service_action_set(action, "ResultStatus", G_TYPE_BOOLEAN, light->status, NULL);
	gupnp_service_action_return_success(action);
}

static void
on_query_status(GUPnPService *service, const char *variable, GValue *value, gpointer user_data)
{
	GwLight *light = user_data;

	g_value_init(value, G_TYPE_BOOLEAN);
	g_value_set_boolean(value, light->status);
}

/* ---- Dimming:1 ---- */

static void
on_set_level(GUPnPService *service, GUPnPServiceAction *action, gpointer user_data)
{
	GwLight *light = user_data;
	guint value = 0;

	gupnp_service_action_get(action, "newLoadlevelTarget", G_TYPE_UINT, &value, NULL);
	if (value > 100) {
		gupnp_service_action_return_error(action, 601, "Argument Value Out of Range");
		return;
	}
	light->level_target = value;
	light->level_status = value;
	gw_light_say("SET %s LoadLevelTarget %u", light->udn, value);
	gupnp_service_action_return_success(action);
	gupnp_service_notify(service, "LoadLevelStatus", G_TYPE_UINT, light->level_status, NULL);
}

static void
on_get_level_target(GUPnPService *service, GUPnPServiceAction *action, gpointer user_data)
{
	GwLight *light = user_data;

	gupnp_service_action_set(
	    action, "retLoadlevelTarget", G_TYPE_UINT, light->level_target, NULL);
	gupnp_service_action_return_success(action);
}

static void
on_get_level_status(GUPnPService *service, GUPnPServiceAction *action, gpointer user_data)
{
	GwLight *light = user_data;

	gupnp_service_action_set(
	    action, "retLoadlevelStatus", G_TYPE_UINT, light->level_status, NULL);
	gupnp_service_action_return_success(action);
}

static void
on_query_level(GUPnPService *service, const char *variable, GValue *value, gpointer user_data)
{
	GwLight *light = user_data;

	g_value_init(value, G_TYPE_UINT);
	g_value_set_uint(value, light->level_status);
}

/* ---- TestControl:1 ---- */

static void
gw_stall_free(GwStall *stall)
{
	if (stall->hangup != NULL) {
		g_source_destroy(stall->hangup);
		g_source_unref(stall->hangup);
	}
	if (stall->disconnect_id != 0)
		g_signal_handler_disconnect(stall->msg, stall->disconnect_id);
	g_clear_object(&stall->msg);
	g_free(stall);
}

static gboolean
on_stall_done(gpointer user_data)
{
	GwStall *stall = user_data;

	stall->timeout_id = 0;
	gw_light_say("STALL-END %s", stall->light->udn);
	gupnp_service_action_return_success(stall->action);
	gw_stall_free(stall);
	return G_SOURCE_REMOVE;
}

static void
gw_stall_abandoned(GwStall *stall)
{
	if (stall->abandoned || stall->timeout_id == 0)
		return;
	stall->abandoned = TRUE;
	gw_light_say("STALL-ABANDONED %s", stall->light->udn);
}

static void
on_stall_disconnected(SoupServerMessage *msg, gpointer user_data)
{
	gw_stall_abandoned(user_data);
}

/* libsoup reads nothing while the message is paused: look at the socket ourselves */
static gboolean
on_stall_socket(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	GwStall *stall = user_data;
	gchar byte;
	gssize n = recv(g_socket_get_fd(socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n > 0)
		return G_SOURCE_CONTINUE; /* a next request: not ours to read */
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	gw_stall_abandoned(stall);
	g_clear_pointer(&stall->hangup, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void
on_stall(GUPnPService *service, GUPnPServiceAction *action, gpointer user_data)
{
	GwStall *stall = g_new0(GwStall, 1);
	guint delay = 0;

	gupnp_service_action_get(action, "DelayMs", G_TYPE_UINT, &delay, NULL);
	stall->light = user_data;
	stall->action = action;
	stall->msg = g_object_ref(gupnp_service_action_get_message(action));
	stall->disconnect_id =
	    g_signal_connect(stall->msg, "disconnected", G_CALLBACK(on_stall_disconnected), stall);
	stall->timeout_id = g_timeout_add(delay, on_stall_done, stall);
	if (soup_server_message_get_socket(stall->msg) != NULL) {
		stall->hangup = g_socket_create_source(soup_server_message_get_socket(stall->msg),
		                                       G_IO_IN | G_IO_HUP | G_IO_ERR,
		                                       NULL);
		g_source_set_callback(stall->hangup, G_SOURCE_FUNC(on_stall_socket), stall, NULL);
		g_source_attach(stall->hangup, NULL);
	}
	gw_light_say("STALL-BEGIN %s %u", stall->light->udn, delay);
}

static void
on_echo(GUPnPService *service, GUPnPServiceAction *action, gpointer user_data)
{
	g_autofree gchar *text = NULL;
	gint number = 0;

	gupnp_service_action_get(
	    action, "InText", G_TYPE_STRING, &text, "InNumber", G_TYPE_INT, &number, NULL);
	gupnp_service_action_set(action,
	                         "OutText",
	                         G_TYPE_STRING,
	                         text != NULL ? text : "",
	                         "OutNumber",
	                         G_TYPE_INT,
	                         number,
	                         NULL);
	gupnp_service_action_return_success(action);
}

/* ---- the lights ---- */

static GUPnPServiceInfo *
gw_light_service(GUPnPRootDevice *root, const gchar *type, GError **error)
{
	GUPnPServiceInfo *info = gupnp_device_info_get_service(GUPNP_DEVICE_INFO(root), type);

	if (info == NULL)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no service %s", type);
	return info;
}

static GwLight *
gw_light_new(GUPnPContext *context,
             const gchar *tmpdir,
             const gchar *data_dir,
             const gchar *template,
             const gchar *udn,
             const gchar *name,
             guint max_age,
             GError **error)
{
	g_autoptr(GString) desc = g_string_new(template);
	g_autofree gchar *file = NULL;
	g_autofree gchar *path = NULL;
	GwLight *light = g_new0(GwLight, 1);
	GSSDPResourceGroup *group;

	light->udn = g_strdup(udn);
	g_string_replace(desc, "@UDN@", udn, 0);
	g_string_replace(desc, "@NAME@", name, 0);
	g_string_replace(desc, "@SERIAL@", udn + 5, 0);
	file = g_strdup_printf("%s.xml", udn + 5);
	path = g_build_filename(tmpdir, file, NULL);
	if (!g_file_set_contents(path, desc->str, (gssize)desc->len, error)) {
		gw_light_free(light);
		return NULL;
	}
	light->root = gupnp_root_device_new(context, path, data_dir, error);
	if (light->root == NULL) {
		gw_light_free(light);
		return NULL;
	}
	light->switch_power =
	    gw_light_service(light->root, "urn:schemas-upnp-org:service:SwitchPower:1", error);
	if (light->switch_power != NULL)
		light->dimming =
		    gw_light_service(light->root, "urn:schemas-upnp-org:service:Dimming:1", error);
	if (light->dimming != NULL)
		light->test =
		    gw_light_service(light->root, "urn:gwmo-org:service:TestControl:1", error);
	if (light->test == NULL) {
		gw_light_free(light);
		return NULL;
	}
	g_signal_connect(
	    light->switch_power, "action-invoked::SetTarget", G_CALLBACK(on_set_target), light);
	g_signal_connect(
	    light->switch_power, "action-invoked::GetTarget", G_CALLBACK(on_get_target), light);
	g_signal_connect(
	    light->switch_power, "action-invoked::GetStatus", G_CALLBACK(on_get_status), light);
	g_signal_connect(
	    light->switch_power, "query-variable::Status", G_CALLBACK(on_query_status), light);
	g_signal_connect(
	    light->dimming, "action-invoked::SetLoadLevelTarget", G_CALLBACK(on_set_level), light);
	g_signal_connect(light->dimming,
	                 "action-invoked::GetLoadLevelTarget",
	                 G_CALLBACK(on_get_level_target),
	                 light);
	g_signal_connect(light->dimming,
	                 "action-invoked::GetLoadLevelStatus",
	                 G_CALLBACK(on_get_level_status),
	                 light);
	g_signal_connect(
	    light->dimming, "query-variable::LoadLevelStatus", G_CALLBACK(on_query_level), light);
	g_signal_connect(light->test, "action-invoked::Stall", G_CALLBACK(on_stall), light);
	g_signal_connect(light->test, "action-invoked::Echo", G_CALLBACK(on_echo), light);

	group = gupnp_root_device_get_ssdp_resource_group(light->root);
	gssdp_resource_group_set_max_age(group, max_age);
	gssdp_resource_group_set_message_delay(group, GW_LIGHT_MESSAGE_DELAY_MS);
	gupnp_root_device_set_available(light->root, TRUE);
	gw_light_say(
	    "READY %s %s", udn, gupnp_device_info_get_location(GUPNP_DEVICE_INFO(light->root)));
	return light;
}

static void
on_request_read(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	gw_light_say("HTTP %s %s",
	             soup_server_message_get_method(msg),
	             g_uri_get_path(soup_server_message_get_uri(msg)));
}

static gboolean
on_terminate(gpointer user_data)
{
	GPtrArray *lights = user_data;

	/* a GSSDP resource group disposed while available queues a byebye for each of its
	 * resources and sends its whole queue at once (set_available(FALSE) would drop what is
	 * still queued behind the first announcements) */
	g_ptr_array_set_size(lights, 0);
	gw_light_say("BYEBYE");
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
	g_autofree gchar *iface = NULL;
	g_autofree gchar *udn = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *data_dir = NULL;
	g_autofree gchar *state_dir = NULL;
	gboolean own_tmpdir = FALSE;
	gint count = 1;
	gint n_contexts = 1;
	gint max_age = 1800;
	GOptionEntry entries[] = {
	    {"interface", 'i', 0, G_OPTION_ARG_STRING, &iface, "network interface (lo)", "IFACE"},
	    {"udn",
	     'u',
	     0,
	     G_OPTION_ARG_STRING,
	     &udn,
	     "UDN (random); -<n> is appended with "
	     "--count",
	     "uuid:…"},
	    {"count", 'c', 0, G_OPTION_ARG_INT, &count, "lights in this process (1)", "N"},
	    {"max-age", 'm', 0, G_OPTION_ARG_INT, &max_age, "SSDP max-age (1800)", "S"},
	    {"contexts", 0, 0, G_OPTION_ARG_INT, &n_contexts,
	     "UPnP contexts (HTTP servers, ports) the lights are spread over (1)", "K"},
	    {"name", 'n', 0, G_OPTION_ARG_STRING, &name, "friendly name", "NAME"},
	    {"data-dir",
	     'd',
	     0,
	     G_OPTION_ARG_FILENAME,
	     &data_dir,
	     "description template and SCPDs ($GWMO_TEST_DATA/upnp)",
	     "DIR"},
	    {"state-dir",
	     's',
	     0,
	     G_OPTION_ARG_FILENAME,
	     &state_dir,
	     "where the descriptions are written (a temporary folder, removed at exit)",
	     "DIR"},
	    {NULL}};
	g_autoptr(GOptionContext) options = g_option_context_new("- headless UPnP test lights");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) contexts = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) lights = g_ptr_array_new_with_free_func((GDestroyNotify)gw_light_free);
	g_autofree gchar *template = NULL;
	g_autofree gchar *template_path = NULL;
	g_autofree gchar *tmpdir = NULL;

	g_option_context_add_main_entries(options, entries, NULL);
	if (!g_option_context_parse(options, &argc, &argv, &error)) {
		g_printerr("gwmo-test-light: %s\n", error->message);
		return 2;
	}
	if (count < 1 || count > 10000 || max_age < 1 || n_contexts < 1 || n_contexts > count) {
		g_printerr("gwmo-test-light: --count is 1..10000, --contexts 1..count, --max-age at "
		           "least 1\n");
		return 2;
	}
	if (data_dir == NULL && g_getenv("GWMO_TEST_DATA") != NULL)
		data_dir = g_build_filename(g_getenv("GWMO_TEST_DATA"), "upnp", NULL);
	if (data_dir == NULL) {
		g_printerr("gwmo-test-light: --data-dir or GWMO_TEST_DATA is needed\n");
		return 2;
	}
	template_path = g_build_filename(data_dir, "light-desc.xml.in", NULL);
	if (!g_file_get_contents(template_path, &template, NULL, &error)) {
		g_printerr("gwmo-test-light: %s\n", error->message);
		return 1;
	}
	for (gint i = 0; i < n_contexts; i++) {
		GUPnPContext *context = NULL;
		/* GUPnP 1.6 listens for HTTP on the TCP port of the number the kernel gave its SSDP
		 * (UDP) socket, which a TCP connection on lo may be using already ("Address already
		 * in use", seen in bench-fanout's UPnP rows): a new context gets a new number */
		for (guint attempt = 0; context == NULL && attempt < 16; attempt++) {
			g_clear_error(&error);
			context = gupnp_context_new_full(
			    iface != NULL ? iface : "lo", NULL, 0, GSSDP_UDA_VERSION_1_0, &error);
		}
		if (context == NULL) {
			g_printerr("gwmo-test-light: no UPnP context on %s: %s\n",
			           iface != NULL ? iface : "lo",
			           error->message);
			return 1;
		}
		g_signal_connect(gupnp_context_get_server(context),
		                 "request-read",
		                 G_CALLBACK(on_request_read),
		                 NULL);
		g_ptr_array_add(contexts, context);
	}
	if (state_dir != NULL) {
		tmpdir = g_strdup(state_dir);
	} else {
		tmpdir = g_dir_make_tmp("gwmo-light-XXXXXX", &error);
		own_tmpdir = TRUE;
	}
	if (tmpdir == NULL) {
		g_printerr("gwmo-test-light: %s\n", error->message);
		return 1;
	}
	loop = g_main_loop_new(NULL, FALSE);
	for (gint i = 0; i < count; i++) {
		g_autofree gchar *random = NULL;
		g_autofree gchar *this_udn = NULL;
		g_autofree gchar *this_name = NULL;
		GwLight *light;

		if (udn == NULL) {
			random = g_uuid_string_random();
			this_udn = g_strdup_printf("uuid:%s", random);
		} else {
			this_udn = count == 1 ? g_strdup(udn) : g_strdup_printf("%s-%d", udn, i);
		}
		this_name =
		    count == 1
		        ? g_strdup(name != NULL ? name : "gwmo test light")
		        : g_strdup_printf("%s %d", name != NULL ? name : "gwmo test light", i);
		light = gw_light_new(g_ptr_array_index(contexts, (guint)i % contexts->len),
		                     tmpdir,
		                     data_dir,
		                     template,
		                     this_udn,
		                     this_name,
		                     (guint)max_age,
		                     &error);
		if (light == NULL) {
			g_printerr("gwmo-test-light: %s: %s\n", this_udn, error->message);
			return 1;
		}
		g_ptr_array_add(lights, light);
	}
	g_unix_signal_add(SIGTERM, on_terminate, lights);
	g_unix_signal_add(SIGINT, on_terminate, lights);
	g_main_loop_run(loop);
	g_ptr_array_set_size(lights, 0);
	if (own_tmpdir) {
		/* the description files written above */
		g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
		const gchar *entry;
		while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *p = g_build_filename(tmpdir, entry, NULL);
			g_unlink(p);
		}
		g_rmdir(tmpdir);
	}
	g_main_loop_unref(loop);
	return 0;
}
