/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the gwmoctl command files share: the command table's types and the D-Bus/printing
 * helpers of gwmoctl.c (which also holds main()).
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#define GW_DBUS_NAME "org.gwmo.Gateway1"
#define GW_DBUS_PATH "/org/gwmo/Gateway1"
#define GW_DBUS_MANAGER "org.gwmo.Gateway1.Manager"
#define GW_CALL_TIMEOUT 30000

/* exit codes, documented in docs/man/gwmoctl.1.md */
enum {
	GW_EXIT_OK = 0,
	GW_EXIT_FAILED = 1,
	GW_EXIT_USAGE = 2,
	GW_EXIT_UNREACHABLE = 3,
	GW_EXIT_NOT_FOUND = 4,
	/* Ctrl-C while waiting (--wait, monitor ends with 0): the job or download goes on */
	GW_EXIT_INTERRUPTED = 130,
};

typedef struct {
	gboolean session;
	gboolean system;
	gboolean json;
	GDBusConnection *connection;
} GwCtl;

typedef struct {
	const gchar *name;
	const gchar *args;
	const gchar *summary;
	gint (*func)(GwCtl *ctl, gint argc, gchar **argv);
} GwCtlCommand;

typedef struct {
	gchar *path;
	GVariant *props; /* a{sv} */
} GwCtlObject;

/* gwmoctl.c */
gint
gw_ctl_error(GError *error, const gchar *what);
gboolean
gw_ctl_connect(GwCtl *ctl, GError **error);
GVariant *
gw_ctl_call(GwCtl *ctl,
            const gchar *method,
            GVariant *parameters,
            const gchar *reply_type,
            GError **error);
void
gw_ctl_print_json(JsonBuilder *builder);
gchar *
gw_ctl_value_to_text(GVariant *value);
void
gw_ctl_object_free(GwCtlObject *obj);
/* (element-type GwCtlObject) the objects that implement @iface, sorted */
GPtrArray *
gw_ctl_list_objects(GwCtl *ctl, const gchar *iface, GError **error);
gchar *
gw_ctl_prop_text(GVariant *props, const gchar *key);
void
gw_ctl_print_table(const gchar *const *headers, GPtrArray *rows);
void
gw_ctl_print_objects_json(GPtrArray *objects);
/* the cells of one row of a listing for @obj (NULL-terminated, one per header) */
typedef gchar **(*GwCtlRowFunc)(GwCtlObject *obj, gpointer user_data);
/* the objects implementing @iface as a table, one row each from @row_func, under @headers
 * (untranslated N_() strings, NULL-terminated; empty cells show "-"), or as JSON with --json;
 * @what says what failed when they cannot be listed */
gint
gw_ctl_print_listing(GwCtl *ctl,
                     const gchar *iface,
                     const gchar *const *headers,
                     GwCtlRowFunc row_func,
                     gpointer user_data,
                     const gchar *what);
void
gw_ctl_print_path(GwCtl *ctl, const gchar *what, const gchar *id, const gchar *path);
/* a JSON value for a property (bytes as base64, like the listings) */
void
gw_ctl_json_add_value(JsonBuilder *builder, GVariant *value);
/* the mode's name: Transparent, Proxy, Adaptation, or "?" */
const gchar *
gw_ctl_mode_name(guint mode);

/* ---- waiting: progress display and Ctrl-C (gwmoctl.c) ---- */

/* the progress of a --wait: a bar redrawn with \r on a terminal, one line per change
 * otherwise, nothing with --json */
typedef struct {
	gboolean tty;
	gboolean quiet;
	gint last_percent;
	gchar *last_detail;
	glong last_width;
} GwCtlProgress;

void
gw_ctl_progress_init(GwCtlProgress *progress, GwCtl *ctl);
/* @detail (nullable): what follows the percentage, e.g. the device counts */
void
gw_ctl_progress_show(GwCtlProgress *progress, guint percent, const gchar *detail);
/* ends the bar's line; frees what it holds */
void
gw_ctl_progress_end(GwCtlProgress *progress);
/* sets *@flag and wakes the default main context on SIGINT or SIGTERM; returns the two
 * source ids to remove with gw_ctl_interrupt_unwatch() */
void
gw_ctl_interrupt_watch(gboolean *flag, guint ids[2]);
void
gw_ctl_interrupt_unwatch(guint ids[2]);

/* gwmoctl-monitor.c: `gwmoctl monitor` */
gint
gw_ctl_cmd_monitor(GwCtl *ctl, gint argc, gchar **argv);

/* gwmoctl-images.c: `gwmoctl images [add|download|rm]` */
extern const GOptionEntry gw_ctl_images_entries[];
gint
gw_ctl_cmd_images(GwCtl *ctl, gint argc, gchar **argv);
void
gw_ctl_images_free_options(void);

/* gwmoctl-plugins.c: `gwmoctl plugins [enable|disable|reset NAME]` */
gint
gw_ctl_cmd_plugins(GwCtl *ctl, gint argc, gchar **argv);

/* gwmoctl-fanout.c: `gwmoctl fanout`, `gwmoctl jobs` */
extern const GOptionEntry gw_ctl_fanout_entries[];
gint
gw_ctl_cmd_fanout(GwCtl *ctl, gint argc, gchar **argv);
gint
gw_ctl_cmd_jobs(GwCtl *ctl, gint argc, gchar **argv);
