/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmoctl images: the org.gwmo.Gateway1.Image objects and Manager.AddImage.
 */

#define G_LOG_DOMAIN "GwCtl"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "gwmoctl.h"

#define GW_DBUS_IMAGE "org.gwmo.Gateway1.Image"
#define GW_DBUS_IMAGES_PATH "/org/gwmo/Gateway1/Images"

static gchar *opt_image_name = NULL;
static gchar *opt_image_uri = NULL;
static gchar *opt_image_hash = NULL;
static gchar *opt_image_kind = NULL;
static gchar *opt_image_version = NULL;
static gchar **opt_image_targets = NULL;
static gboolean opt_image_wait = FALSE;

const GOptionEntry gw_ctl_images_entries[] = {
    {"name", 'n', 0, G_OPTION_ARG_STRING, &opt_image_name, N_("add: name of the image"), "NAME"},
    {"uri",
     'u',
     0,
     G_OPTION_ARG_STRING,
     &opt_image_uri,
     N_("add: where the gateway downloads it from (http:// or https://)"),
     "URL"},
    {"hash",
     0,
     0,
     G_OPTION_ARG_STRING,
     &opt_image_hash,
     N_("add: its SHA-256 as sha256:HEX, checked after the download"),
     "sha256:HEX"},
    {"kind",
     'k',
     0,
     G_OPTION_ARG_STRING,
     &opt_image_kind,
     N_("add: firmware, software or config"),
     "KIND"},
    {"version",
     0,
     0,
     G_OPTION_ARG_STRING,
     &opt_image_version,
     N_("add: version of the image"),
     "VERSION"},
    {"target",
     't',
     0,
     G_OPTION_ARG_STRING_ARRAY,
     &opt_image_targets,
     N_("add: a DeviceID or GroupID allowed to fetch it (repeatable; none: every device)"),
     "ID"},
    {"wait",
     'w',
     0,
     G_OPTION_ARG_NONE,
     &opt_image_wait,
     N_("download: wait for the end and show the progress"),
     NULL},
    {NULL}};

void
gw_ctl_images_free_options(void)
{
	g_free(opt_image_name);
	g_free(opt_image_uri);
	g_free(opt_image_hash);
	g_free(opt_image_kind);
	g_free(opt_image_version);
	g_strfreev(opt_image_targets);
}

/* "3" or "/org/gwmo/Gateway1/Images/3" → the object path */
static gchar *
gw_ctl_image_path(const gchar *id)
{
	if (g_str_has_prefix(id, GW_DBUS_IMAGES_PATH "/"))
		return g_strdup(id);
	if (!g_variant_is_object_path(id) && strchr(id, '/') == NULL) {
		g_autofree gchar *escaped = g_dbus_escape_object_path(id);
		return g_strdup_printf(GW_DBUS_IMAGES_PATH "/%s", escaped);
	}
	return NULL;
}

static gchar **
gw_ctl_image_row(GwCtlObject *obj, gpointer user_data)
{
	gchar **row = g_new0(gchar *, 9);
	guint32 progress = 0;
	guint64 size = 0;
	g_autofree gchar *hash = gw_ctl_prop_text(obj->props, "Hash");

	g_variant_lookup(obj->props, "Progress", "u", &progress);
	g_variant_lookup(obj->props, "Size", "t", &size);
	row[0] = g_strdup(strrchr(obj->path, '/') + 1);
	row[1] = gw_ctl_prop_text(obj->props, "Name");
	row[2] = gw_ctl_prop_text(obj->props, "Version");
	row[3] = gw_ctl_prop_text(obj->props, "State");
	row[4] = g_strdup_printf("%u%%", progress);
	row[5] = g_format_size_full(size, G_FORMAT_SIZE_IEC_UNITS);
	/* sha256:0123456789ab… is enough to tell images apart */
	row[6] = strlen(hash) > 19 ? g_strdup_printf("%.19s…", hash) : g_strdup(hash);
	row[7] = gw_ctl_prop_text(obj->props, "LocalURI");
	return row;
}

static gint
gw_ctl_images_list(GwCtl *ctl)
{
	static const gchar *const headers[] = {N_("ID"),
	                                       N_("NAME"),
	                                       N_("VERSION"),
	                                       N_("STATE"),
	                                       N_("PROGRESS"),
	                                       N_("SIZE"),
	                                       N_("HASH"),
	                                       N_("LOCALURI"),
	                                       NULL};
	return gw_ctl_print_listing(
	    ctl, GW_DBUS_IMAGE, headers, gw_ctl_image_row, NULL, _("cannot list the images"));
}

static gint
gw_ctl_images_add(GwCtl *ctl, gint argc)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const gchar *path = NULL;
	GVariantBuilder b;

	if (argc != 0 || opt_image_name == NULL || opt_image_uri == NULL ||
	    opt_image_hash == NULL) {
		g_printerr(_("gwmoctl: use 'images add --name NAME --uri URL --hash sha256:HEX "
		             "[--kind KIND] [--version V] [--target ID…]'\n"));
		return GW_EXIT_USAGE;
	}
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(opt_image_name));
	g_variant_builder_add(&b, "{sv}", "ExternalURI", g_variant_new_string(opt_image_uri));
	g_variant_builder_add(&b, "{sv}", "Hash", g_variant_new_string(opt_image_hash));
	if (opt_image_kind != NULL)
		g_variant_builder_add(&b, "{sv}", "Kind", g_variant_new_string(opt_image_kind));
	if (opt_image_version != NULL)
		g_variant_builder_add(
		    &b, "{sv}", "Version", g_variant_new_string(opt_image_version));
	if (opt_image_targets != NULL)
		g_variant_builder_add(
		    &b,
		    "{sv}",
		    "Targets",
		    g_variant_new_strv((const gchar *const *)opt_image_targets, -1));
	reply = gw_ctl_call(ctl, "AddImage", g_variant_new("(a{sv})", &b), "(o)", &error);
	if (reply == NULL)
		return gw_ctl_error(error, opt_image_name);
	g_variant_get(reply, "(&o)", &path);
	gw_ctl_print_path(ctl, "Name", opt_image_name, path);
	return GW_EXIT_OK;
}

static GVariant *
gw_ctl_image_call(GwCtl *ctl, const gchar *path, const gchar *method, GError **error)
{
	if (ctl->connection == NULL && !gw_ctl_connect(ctl, error))
		return NULL;
	return g_dbus_connection_call_sync(ctl->connection,
	                                   GW_DBUS_NAME,
	                                   path,
	                                   GW_DBUS_IMAGE,
	                                   method,
	                                   NULL,
	                                   G_VARIANT_TYPE("()"),
	                                   G_DBUS_CALL_FLAGS_NONE,
	                                   GW_CALL_TIMEOUT,
	                                   NULL,
	                                   error);
}

static GVariant *
gw_ctl_image_props(GwCtl *ctl, const gchar *path, GError **error)
{
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(ctl->connection,
	                                                        GW_DBUS_NAME,
	                                                        path,
	                                                        "org.freedesktop.DBus.Properties",
	                                                        "GetAll",
	                                                        g_variant_new("(s)", GW_DBUS_IMAGE),
	                                                        G_VARIANT_TYPE("(a{sv})"),
	                                                        G_DBUS_CALL_FLAGS_NONE,
	                                                        GW_CALL_TIMEOUT,
	                                                        NULL,
	                                                        error);
	if (reply == NULL)
		return NULL;
	return g_variant_get_child_value(reply, 0);
}

typedef struct {
	GwCtlProgress progress;
	gchar *state;
	guint64 size;
	gboolean done;        /* Available, Failed or NotDownloaded, or gwmod went away */
	gboolean interrupted; /* Ctrl-C */
} GwCtlWait;

static void
gw_ctl_wait_update(GwCtlWait *w, GVariant *props)
{
	guint32 progress = 0;
	const gchar *state = NULL;

	g_variant_lookup(props, "Size", "t", &w->size);
	if (g_variant_lookup(props, "Progress", "u", &progress)) {
		g_autofree gchar *size = NULL;
		/* on a terminal the bar says how big the image is; the plain lines stay "N%" */
		if (w->progress.tty && w->size > 0)
			size = g_format_size_full(w->size, G_FORMAT_SIZE_IEC_UNITS);
		gw_ctl_progress_show(&w->progress, progress, size);
	}
	if (g_variant_lookup(props, "State", "&s", &state)) {
		g_free(w->state);
		w->state = g_strdup(state);
		if (g_strcmp0(state, "Available") == 0 || g_strcmp0(state, "Failed") == 0 ||
		    g_strcmp0(state, "NotDownloaded") == 0)
			w->done = TRUE;
	}
}

static void
gw_ctl_wait_changed_cb(GDBusConnection *c,
                       const gchar *sender,
                       const gchar *path,
                       const gchar *iface,
                       const gchar *signal,
                       GVariant *params,
                       gpointer user_data)
{
	GwCtlWait *w = user_data;
	const gchar *name = NULL;
	g_autoptr(GVariant) changed = NULL;

	g_variant_get(params, "(&s@a{sv}@as)", &name, &changed, NULL);
	if (g_strcmp0(name, GW_DBUS_IMAGE) == 0)
		gw_ctl_wait_update(w, changed);
}

static void
gw_ctl_wait_vanished_cb(GDBusConnection *c, const gchar *name, gpointer user_data)
{
	GwCtlWait *w = user_data;
	g_free(w->state);
	w->state = g_strdup("gone");
	w->done = TRUE;
}

static gint
gw_ctl_images_download(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) props = NULL;
	g_autofree gchar *path = NULL;
	GwCtlWait w = {0};
	guint sub = 0;
	guint watch = 0;
	guint interrupt_ids[2] = {0, 0};
	gint rc;

	if (argc != 1 || (path = gw_ctl_image_path(argv[0])) == NULL) {
		g_printerr(_("gwmoctl: use 'images download ID [--wait]'\n"));
		return GW_EXIT_USAGE;
	}
	if (ctl->connection == NULL && !gw_ctl_connect(ctl, &error))
		return gw_ctl_error(error, argv[0]);
	gw_ctl_progress_init(&w.progress, ctl);
	if (opt_image_wait) {
		/* subscribe first: no change can slip between the call and the watch */
		sub = g_dbus_connection_signal_subscribe(ctl->connection,
		                                         GW_DBUS_NAME,
		                                         "org.freedesktop.DBus.Properties",
		                                         "PropertiesChanged",
		                                         path,
		                                         GW_DBUS_IMAGE,
		                                         G_DBUS_SIGNAL_FLAGS_NONE,
		                                         gw_ctl_wait_changed_cb,
		                                         &w,
		                                         NULL);
		watch = g_bus_watch_name_on_connection(ctl->connection,
		                                       GW_DBUS_NAME,
		                                       G_BUS_NAME_WATCHER_FLAGS_NONE,
		                                       NULL,
		                                       gw_ctl_wait_vanished_cb,
		                                       &w,
		                                       NULL);
	}
	reply = gw_ctl_image_call(ctl, path, "Download", &error);
	if (reply == NULL) {
		rc = gw_ctl_error(error, argv[0]);
		goto out;
	}
	if (!opt_image_wait) {
		rc = GW_EXIT_OK;
		goto out;
	}
	/* before the first line: whoever sees it may interrupt */
	gw_ctl_interrupt_watch(&w.interrupted, interrupt_ids);
	props = gw_ctl_image_props(ctl, path, &error);
	if (props == NULL) {
		rc = gw_ctl_error(error, argv[0]);
		goto out;
	}
	gw_ctl_wait_update(&w, props);
	while (g_strcmp0(w.state, "Downloading") == 0 && !w.done && !w.interrupted)
		g_main_context_iteration(NULL, TRUE);
	gw_ctl_progress_end(&w.progress);
	if (w.interrupted && !w.done) {
		g_printerr(_("gwmoctl: interrupted; the download of %s goes on in gwmod (see "
		             "gwmoctl images)\n"),
		           path);
		rc = GW_EXIT_INTERRUPTED;
		goto out;
	}
	rc = g_strcmp0(w.state, "Available") == 0 ? GW_EXIT_OK : GW_EXIT_FAILED;
	if (ctl->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "Path");
		json_builder_add_string_value(builder, path);
		json_builder_set_member_name(builder, "State");
		json_builder_add_string_value(builder, w.state != NULL ? w.state : "");
		json_builder_end_object(builder);
		gw_ctl_print_json(builder);
	} else if (rc != GW_EXIT_OK) {
		g_printerr(_("gwmoctl: image %s: %s\n"), argv[0], w.state != NULL ? w.state : "?");
	}
out:
	gw_ctl_interrupt_unwatch(interrupt_ids);
	if (sub != 0)
		g_dbus_connection_signal_unsubscribe(ctl->connection, sub);
	if (watch != 0)
		g_bus_unwatch_name(watch);
	gw_ctl_progress_end(&w.progress);
	g_free(w.state);
	return rc;
}

static gint
gw_ctl_images_rm(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *path = NULL;

	if (argc != 1 || (path = gw_ctl_image_path(argv[0])) == NULL) {
		g_printerr(_("gwmoctl: use 'images rm ID'\n"));
		return GW_EXIT_USAGE;
	}
	reply = gw_ctl_image_call(ctl, path, "Remove", &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	return GW_EXIT_OK;
}

gint
gw_ctl_cmd_images(GwCtl *ctl, gint argc, gchar **argv)
{
	if (argc == 0)
		return gw_ctl_images_list(ctl);
	if (g_strcmp0(argv[0], "add") == 0)
		return gw_ctl_images_add(ctl, argc - 1);
	if (g_strcmp0(argv[0], "download") == 0)
		return gw_ctl_images_download(ctl, argc - 1, argv + 1);
	if (g_strcmp0(argv[0], "rm") == 0)
		return gw_ctl_images_rm(ctl, argc - 1, argv + 1);
	g_printerr(
	    _("gwmoctl: use 'images', 'images add', 'images download ID' or 'images rm ID'\n"));
	return GW_EXIT_USAGE;
}
