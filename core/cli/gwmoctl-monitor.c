/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmoctl monitor: gwmod's events as they happen, one line each, until Ctrl-C. The events are
 * what the D-Bus API announces: the ObjectManager's InterfacesAdded/InterfacesRemoved,
 * PropertiesChanged of every object, Job.Finished, and gwmod itself coming and going.
 * A server's session shows as the change of its LastSession/LastSessionResult (set when the
 * session ended).
 */

#define G_LOG_DOMAIN "GwCtl"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "gwmoctl.h"

#define GW_DBUS_IFACE_PREFIX "org.gwmo.Gateway1."

typedef struct {
	GwCtl *ctl;
	gboolean interrupted;
	gboolean appeared_once; /* the name watcher's first report is the state at start */
} GwCtlMonitor;

/* "Device" for org.gwmo.Gateway1.Device; NULL for an interface that is not ours */
static const gchar *
gw_ctl_monitor_kind(const gchar *iface)
{
	if (!g_str_has_prefix(iface, GW_DBUS_IFACE_PREFIX))
		return NULL;
	return iface + strlen(GW_DBUS_IFACE_PREFIX);
}

/* "device-added" for ("Device", "added") */
static gchar *
gw_ctl_monitor_event_name(const gchar *kind, const gchar *what)
{
	g_autofree gchar *lower = g_ascii_strdown(kind, -1);
	return g_strdup_printf("%s-%s", lower, what);
}

/* one event: a line "TIME EVENT PATH KEY=VALUE…", or one JSON object per line */
static void
gw_ctl_monitor_print(GwCtlMonitor *m,
                     const gchar *event,
                     const gchar *path,
                     const gchar *iface,
                     GVariant *props, /* nullable a{sv} */
                     const gchar *const *invalidated,
                     const gchar *extra_key,
                     const gchar *extra_value)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree gchar *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
	/* microseconds are more than anyone reads: keep milliseconds */
	g_autofree gchar *time = g_strdup_printf("%.23sZ", stamp);
	GVariantIter iter;
	const gchar *key;
	GVariant *value_raw;

	if (m->ctl->json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonGenerator) gen = json_generator_new();
		g_autoptr(JsonNode) root = NULL;
		g_autofree gchar *text = NULL;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "Time");
		json_builder_add_string_value(b, time);
		json_builder_set_member_name(b, "Event");
		json_builder_add_string_value(b, event);
		if (path != NULL) {
			json_builder_set_member_name(b, "ObjectPath");
			json_builder_add_string_value(b, path);
		}
		if (iface != NULL) {
			json_builder_set_member_name(b, "Interface");
			json_builder_add_string_value(b, iface);
		}
		if (props != NULL) {
			json_builder_set_member_name(b, "Properties");
			json_builder_begin_object(b);
			g_variant_iter_init(&iter, props);
			while (g_variant_iter_next(&iter, "{&sv}", &key, &value_raw)) {
				g_autoptr(GVariant) value = value_raw;
				json_builder_set_member_name(b, key);
				gw_ctl_json_add_value(b, value);
			}
			json_builder_end_object(b);
		}
		if (invalidated != NULL && invalidated[0] != NULL) {
			json_builder_set_member_name(b, "Invalidated");
			json_builder_begin_array(b);
			for (guint i = 0; invalidated[i] != NULL; i++)
				json_builder_add_string_value(b, invalidated[i]);
			json_builder_end_array(b);
		}
		if (extra_key != NULL) {
			json_builder_set_member_name(b, extra_key);
			json_builder_add_string_value(b, extra_value);
		}
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		json_generator_set_root(gen, root);
		text = json_generator_to_data(gen, NULL);
		g_print("%s\n", text);
	} else {
		g_autoptr(GString) line = g_string_new(NULL);
		g_string_append_printf(line, "%s %-16s", time, event);
		if (path != NULL)
			g_string_append_printf(line, " %s", path);
		if (props != NULL) {
			g_variant_iter_init(&iter, props);
			while (g_variant_iter_next(&iter, "{&sv}", &key, &value_raw)) {
				g_autoptr(GVariant) value = value_raw;
				g_autofree gchar *text = NULL;
				guint32 mode = 0;
				if (g_strcmp0(key, "Mode") == 0 &&
				    g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
					mode = g_variant_get_uint32(value);
					text = g_strdup(gw_ctl_mode_name(mode));
				} else if (g_variant_is_of_type(value,
				                                G_VARIANT_TYPE_STRING_ARRAY)) {
					g_autofree const gchar **strv =
					    g_variant_get_strv(value, NULL);
					text = g_strjoinv(",", (gchar **)strv);
				} else {
					text = gw_ctl_value_to_text(value);
				}
				if (strchr(text, ' ') != NULL || text[0] == '\0')
					g_string_append_printf(line, " %s=\"%s\"", key, text);
				else
					g_string_append_printf(line, " %s=%s", key, text);
			}
		}
		if (extra_key != NULL)
			g_string_append_printf(line, " %s=%s", extra_key, extra_value);
		g_print("%s\n", line->str);
	}
	/* a pipe (| grep, a log file) sees each event when it happens */
	fflush(stdout);
}

static void
gw_ctl_monitor_added(GwCtlMonitor *m, GVariant *params)
{
	const gchar *path = NULL;
	g_autoptr(GVariant) ifaces = NULL;
	GVariantIter iter;
	const gchar *iface;
	GVariant *props_raw;

	g_variant_get(params, "(&o@a{sa{sv}})", &path, &ifaces);
	g_variant_iter_init(&iter, ifaces);
	while (g_variant_iter_next(&iter, "{&s@a{sv}}", &iface, &props_raw)) {
		g_autoptr(GVariant) props = props_raw;
		const gchar *kind = gw_ctl_monitor_kind(iface);
		g_autofree gchar *event = NULL;
		if (kind == NULL)
			continue;
		event = gw_ctl_monitor_event_name(kind, "added");
		gw_ctl_monitor_print(m, event, path, iface, props, NULL, NULL, NULL);
	}
}

static void
gw_ctl_monitor_removed(GwCtlMonitor *m, GVariant *params)
{
	const gchar *path = NULL;
	g_autofree const gchar **ifaces = NULL;

	g_variant_get(params, "(&o^a&s)", &path, &ifaces);
	for (guint i = 0; ifaces[i] != NULL; i++) {
		const gchar *kind = gw_ctl_monitor_kind(ifaces[i]);
		g_autofree gchar *event = NULL;
		if (kind == NULL)
			continue;
		event = gw_ctl_monitor_event_name(kind, "removed");
		gw_ctl_monitor_print(m, event, path, ifaces[i], NULL, NULL, NULL, NULL);
	}
}

static gboolean
gw_ctl_monitor_has(GVariant *props, const gchar *key)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(props, key, NULL);
	return value != NULL;
}

static void
gw_ctl_monitor_changed(GwCtlMonitor *m, const gchar *path, GVariant *params)
{
	const gchar *iface = NULL;
	g_autoptr(GVariant) changed = NULL;
	g_autofree const gchar **invalidated = NULL;
	const gchar *kind;
	g_autofree gchar *event = NULL;

	g_variant_get(params, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
	kind = gw_ctl_monitor_kind(iface);
	if (kind == NULL)
		return;
	if (g_strcmp0(kind, "Job") == 0 || g_strcmp0(kind, "Image") == 0) {
		/* a job's counts and an image's download move forward: "progress" */
		event = gw_ctl_monitor_event_name(
		    kind, gw_ctl_monitor_has(changed, "Progress") ? "progress" : "changed");
	} else if (g_strcmp0(kind, "Server") == 0 && gw_ctl_monitor_has(changed, "LastSession")) {
		/* LastSession is set when a session with that server ends */
		event = g_strdup("session-finished");
	} else {
		event = gw_ctl_monitor_event_name(kind, "changed");
	}
	gw_ctl_monitor_print(
	    m, event, path, iface, changed, (const gchar *const *)invalidated, NULL, NULL);
}

static void
gw_ctl_monitor_signal_cb(GDBusConnection *c,
                         const gchar *sender,
                         const gchar *path,
                         const gchar *iface,
                         const gchar *signal,
                         GVariant *params,
                         gpointer user_data)
{
	GwCtlMonitor *m = user_data;

	if (g_strcmp0(signal, "InterfacesAdded") == 0 &&
	    g_variant_is_of_type(params, G_VARIANT_TYPE("(oa{sa{sv}})")))
		gw_ctl_monitor_added(m, params);
	else if (g_strcmp0(signal, "InterfacesRemoved") == 0 &&
	         g_variant_is_of_type(params, G_VARIANT_TYPE("(oas)")))
		gw_ctl_monitor_removed(m, params);
	else if (g_strcmp0(signal, "PropertiesChanged") == 0 &&
	         g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)")))
		gw_ctl_monitor_changed(m, path, params);
	else if (g_strcmp0(signal, "Finished") == 0 &&
	         g_strcmp0(iface, "org.gwmo.Gateway1.Job") == 0 &&
	         g_variant_is_of_type(params, G_VARIANT_TYPE("(s)"))) {
		const gchar *xml = NULL;
		g_autofree gchar *state = NULL;
		g_variant_get(params, "(&s)", &xml);
		/* the document's state="…": the one word a reader of the line wants */
		{
			const gchar *p = strstr(xml, "state=\"");
			const gchar *end = p != NULL ? strchr(p + 7, '"') : NULL;
			if (end != NULL)
				state = g_strndup(p + 7, (gsize)(end - p - 7));
		}
		gw_ctl_monitor_print(m,
		                     "job-finished",
		                     path,
		                     iface,
		                     NULL,
		                     NULL,
		                     "State",
		                     state != NULL ? state : "");
	}
}

static void
gw_ctl_monitor_appeared_cb(GDBusConnection *c,
                           const gchar *name,
                           const gchar *owner,
                           gpointer user_data)
{
	GwCtlMonitor *m = user_data;
	if (m->appeared_once)
		gw_ctl_monitor_print(m, "daemon-started", NULL, NULL, NULL, NULL, "Owner", owner);
	m->appeared_once = TRUE;
}

static void
gw_ctl_monitor_vanished_cb(GDBusConnection *c, const gchar *name, gpointer user_data)
{
	GwCtlMonitor *m = user_data;
	if (m->appeared_once)
		gw_ctl_monitor_print(m, "daemon-stopped", NULL, NULL, NULL, NULL, NULL, NULL);
	m->appeared_once = TRUE;
}

gint
gw_ctl_cmd_monitor(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ping = NULL;
	GwCtlMonitor m = {.ctl = ctl};
	guint sub;
	guint watch;
	guint interrupt_ids[2] = {0, 0};

	if (argc != 0) {
		g_printerr(_("gwmoctl: monitor takes no arguments\n"));
		return GW_EXIT_USAGE;
	}
	if (ctl->connection == NULL && !gw_ctl_connect(ctl, &error))
		return gw_ctl_error(error, _("cannot connect to the bus"));
	/* every signal gwmod sends: the ObjectManager's, PropertiesChanged, Job.Finished */
	sub = g_dbus_connection_signal_subscribe(ctl->connection,
	                                         GW_DBUS_NAME,
	                                         NULL,
	                                         NULL,
	                                         NULL,
	                                         NULL,
	                                         G_DBUS_SIGNAL_FLAGS_NONE,
	                                         gw_ctl_monitor_signal_cb,
	                                         &m,
	                                         NULL);
	watch = g_bus_watch_name_on_connection(ctl->connection,
	                                       GW_DBUS_NAME,
	                                       G_BUS_NAME_WATCHER_FLAGS_NONE,
	                                       gw_ctl_monitor_appeared_cb,
	                                       gw_ctl_monitor_vanished_cb,
	                                       &m,
	                                       NULL);
	/* a round trip through the bus after the match rules: once it returns, no event is
	 * missed, which "monitoring" on stderr says (scripts and tests wait for it) */
	ping = g_dbus_connection_call_sync(ctl->connection,
	                                   "org.freedesktop.DBus",
	                                   "/org/freedesktop/DBus",
	                                   "org.freedesktop.DBus",
	                                   "GetId",
	                                   NULL,
	                                   G_VARIANT_TYPE("(s)"),
	                                   G_DBUS_CALL_FLAGS_NONE,
	                                   GW_CALL_TIMEOUT,
	                                   NULL,
	                                   &error);
	if (ping == NULL) {
		g_dbus_connection_signal_unsubscribe(ctl->connection, sub);
		g_bus_unwatch_name(watch);
		return gw_ctl_error(error, _("cannot connect to the bus"));
	}
	g_printerr(_("gwmoctl: monitoring %s; Ctrl-C stops\n"), GW_DBUS_NAME);
	gw_ctl_interrupt_watch(&m.interrupted, interrupt_ids);
	while (!m.interrupted)
		g_main_context_iteration(NULL, TRUE);
	gw_ctl_interrupt_unwatch(interrupt_ids);
	g_dbus_connection_signal_unsubscribe(ctl->connection, sub);
	g_bus_unwatch_name(watch);
	return GW_EXIT_OK;
}
