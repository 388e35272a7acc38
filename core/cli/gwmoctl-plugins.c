/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmoctl plugins: the org.gwmo.Gateway1.Plugin objects, Plugin.Reset, and the plugins'
 * Enabled leaves (./GwMO/Config/Adapters/NAME/Enabled through Manager.SetNode).
 */

#define G_LOG_DOMAIN "GwCtl"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "gwmoctl.h"

#define GW_DBUS_PLUGIN "org.gwmo.Gateway1.Plugin"
#define GW_DBUS_PLUGINS_PATH "/org/gwmo/Gateway1/Plugins"
#define GW_CTL_ADAPTERS "./GwMO/Config/Adapters"

static gchar **
gw_ctl_plugin_row(GwCtlObject *obj, gpointer user_data)
{
	gchar **row = g_new0(gchar *, 8);
	gboolean enabled = FALSE;
	gboolean shipped = FALSE;
	g_autofree gchar *error_text = gw_ctl_prop_text(obj->props, "Error");

	g_variant_lookup(obj->props, "Enabled", "b", &enabled);
	g_variant_lookup(obj->props, "Shipped", "b", &shipped);
	row[0] = gw_ctl_prop_text(obj->props, "Name");
	row[1] = gw_ctl_prop_text(obj->props, "State");
	row[2] = g_strdup(enabled ? _("yes") : _("no"));
	row[3] = gw_ctl_prop_text(obj->props, "Protocol");
	row[4] = gw_ctl_prop_text(obj->props, "Version");
	/* unknown until the module was loaded (it names its protocol then) */
	row[5] = g_strdup(row[3][0] == '\0' ? "-" : shipped ? _("yes") : _("no"));
	/* why it does not run says more than where it is */
	row[6] = error_text[0] != '\0' ? g_steal_pointer(&error_text)
	                               : gw_ctl_prop_text(obj->props, "Path");
	return row;
}

static gint
gw_ctl_plugins_list(GwCtl *ctl)
{
	static const gchar *const headers[] = {N_("NAME"),
	                                       N_("STATE"),
	                                       N_("ENABLED"),
	                                       N_("PROTOCOL"),
	                                       N_("VERSION"),
	                                       N_("SHIPPED"),
	                                       N_("PATH OR ERROR"),
	                                       NULL};
	return gw_ctl_print_listing(
	    ctl, GW_DBUS_PLUGIN, headers, gw_ctl_plugin_row, NULL, _("cannot list the plugins"));
}

/* a plugin name: what libgw_plugin_NAME.so says (the object path and the node use it) */
static gboolean
gw_ctl_plugin_name_is_valid(const gchar *name)
{
	if (name[0] == '\0')
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return FALSE;
	}
	return TRUE;
}

/* the object path of plugin @name; FALSE (printed) when gwmod has no such plugin */
static gboolean
gw_ctl_plugins_lookup(GwCtl *ctl, const gchar *name, gchar **path, gint *rc)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *escaped = g_dbus_escape_object_path(name);
	g_autofree gchar *remote = NULL;

	*path = g_strdup_printf(GW_DBUS_PLUGINS_PATH "/%s", escaped);
	if (ctl->connection == NULL && !gw_ctl_connect(ctl, &error)) {
		*rc = gw_ctl_error(error, _("cannot connect to the bus"));
		return FALSE;
	}
	reply = g_dbus_connection_call_sync(ctl->connection,
	                                    GW_DBUS_NAME,
	                                    *path,
	                                    "org.freedesktop.DBus.Properties",
	                                    "Get",
	                                    g_variant_new("(ss)", GW_DBUS_PLUGIN, "Name"),
	                                    G_VARIANT_TYPE("(v)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    GW_CALL_TIMEOUT,
	                                    NULL,
	                                    &error);
	if (reply != NULL)
		return TRUE;
	remote = g_dbus_error_get_remote_error(error);
	if (g_strcmp0(remote, "org.freedesktop.DBus.Error.UnknownObject") == 0 ||
	    g_strcmp0(remote, "org.freedesktop.DBus.Error.UnknownInterface") == 0 ||
	    g_strcmp0(remote, "org.freedesktop.DBus.Error.UnknownMethod") == 0 ||
	    g_strcmp0(remote, "org.freedesktop.DBus.Error.InvalidArgs") == 0) {
		g_printerr(_("gwmoctl: no plugin %s\n"), name);
		*rc = GW_EXIT_NOT_FOUND;
		return FALSE;
	}
	*rc = gw_ctl_error(error, name);
	return FALSE;
}

static gint
gw_ctl_plugins_reset(GwCtl *ctl, const gchar *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *path = NULL;
	gint rc = GW_EXIT_OK;

	if (!gw_ctl_plugins_lookup(ctl, name, &path, &rc))
		return rc;
	reply = g_dbus_connection_call_sync(ctl->connection,
	                                    GW_DBUS_NAME,
	                                    path,
	                                    GW_DBUS_PLUGIN,
	                                    "Reset",
	                                    NULL,
	                                    G_VARIANT_TYPE("()"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    GW_CALL_TIMEOUT,
	                                    NULL,
	                                    &error);
	if (reply == NULL)
		return gw_ctl_error(error, name);
	return GW_EXIT_OK;
}

static gint
gw_ctl_plugins_set_enabled(GwCtl *ctl, const gchar *name, gboolean enabled)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *uri = g_strdup_printf(GW_CTL_ADAPTERS "/%s/Enabled", name);
	g_autofree gchar *path = NULL;
	g_autofree gchar *remote = NULL;
	gint rc = GW_EXIT_OK;

	if (!gw_ctl_plugins_lookup(ctl, name, &path, &rc))
		return rc;
	reply = gw_ctl_call(ctl,
	                    "SetNode",
	                    g_variant_new("(ssv)", uri, "bool", g_variant_new_boolean(enabled)),
	                    "()",
	                    &error);
	if (reply != NULL)
		return GW_EXIT_OK;
	remote = g_dbus_error_get_remote_error(error);
	if (g_strcmp0(remote, "org.gwmo.Gateway1.Error.NotAllowed") == 0 && enabled) {
		g_printerr(_("gwmoctl: plugin %s is disabled in gwmod.conf ([daemon] "
		             "plugins-disabled)\n"),
		           name);
		return GW_EXIT_FAILED;
	}
	return gw_ctl_error(error, name);
}

gint
gw_ctl_cmd_plugins(GwCtl *ctl, gint argc, gchar **argv)
{
	if (argc == 0)
		return gw_ctl_plugins_list(ctl);
	if (argc == 2 && gw_ctl_plugin_name_is_valid(argv[1])) {
		if (g_strcmp0(argv[0], "reset") == 0)
			return gw_ctl_plugins_reset(ctl, argv[1]);
		if (g_strcmp0(argv[0], "enable") == 0)
			return gw_ctl_plugins_set_enabled(ctl, argv[1], TRUE);
		if (g_strcmp0(argv[0], "disable") == 0)
			return gw_ctl_plugins_set_enabled(ctl, argv[1], FALSE);
	}
	g_printerr(_("gwmoctl: use 'plugins', 'plugins enable NAME', 'plugins disable NAME' or "
	             "'plugins reset NAME'\n"));
	return GW_EXIT_USAGE;
}
