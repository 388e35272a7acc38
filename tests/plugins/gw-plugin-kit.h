/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the adapter plugins' tests (tests/upnp, tests/zigbee, tests/tr069): the built module
 * loaded the way the loader loads it, the log captured, the main loop run until an event, and a
 * command run through the gateway's side of GwPlugin to its answer.
 */

#pragma once

#include "gw-plugin-private.h"
#include "gw-plugin-sdk.h"

G_BEGIN_DECLS

/*
 * Opens the module named by the environment variable @env_var as the loader does (ABI version
 * first, then the type) and asserts its type is a GwPlugin. G_TYPE_INVALID, with the reason in
 * @why_not, when @env_var is unset or the module does not open: the tests then skip.
 */
GType
gw_plugin_kit_load(const gchar *env_var, gchar **why_not);

/* runs the default main context until @done(@data) or @timeout_s seconds; FALSE on timeout */
gboolean
gw_plugin_kit_wait(gboolean (*done)(gpointer data), gpointer data, guint timeout_s);

/* sets each "key=value" of @config (NULL-terminated, nullable) in @group of @keyfile */
void
gw_plugin_kit_set_config(GKeyFile *keyfile, const gchar *group, const gchar *const *config);

/* asserts @uri is a static leaf of @tree whose value is @value */
void
gw_plugin_kit_assert_static(GwDeviceTree *tree, const gchar *uri, const gchar *value);

/* ---- the log ---- */

/*
 * Installs a log writer that keeps "<domain>: <message>" of every message, warning and info
 * (messages and warnings also as test messages), aborts on a critical and leaves debug to
 * G_MESSAGES_DEBUG. Call once, in main().
 */
void
gw_plugin_kit_log_capture(void);
/* the number of lines kept so far: a mark for the calls below */
guint
gw_plugin_kit_log_mark(void);
/* the lines from index @from on that contain @needle */
guint
gw_plugin_kit_count_logged(guint from, const gchar *needle);
/* waits up to @timeout_s until a line from index @from on contains @needle and @also
 * (nullable: @needle alone); FALSE on timeout */
gboolean
gw_plugin_kit_wait_logged(guint from, const gchar *needle, const gchar *also, guint timeout_s);

/* ---- commands ---- */

/* a command (or image delivery) on its way: done when its callback ran */
typedef struct {
	gboolean done;
	GwDeviceResult *result; /* owned, NULL on error */
	GError *error;          /* owned */
} GwPluginKitRun;

/* gw_plugin_run_command_async()'s callback with a GwPluginKitRun as user data */
void
gw_plugin_kit_run_cb(GObject *source, GAsyncResult *res, gpointer user_data);
/* a gw_plugin_kit_wait() condition: the GwPluginKitRun @data is done */
gboolean
gw_plugin_kit_run_done(gpointer data);

/*
 * Runs @cmd on @device_id through @plugin's run_command vfunc with @deadline (monotonic µs,
 * 0: none) and @cancellable, and waits up to @timeout_s for the answer (asserting it came). The
 * result, or NULL with @error set.
 */
GwDeviceResult *
gw_plugin_kit_run(GwPlugin *plugin,
                  const gchar *device_id,
                  GwDeviceCommand *cmd,
                  gint64 deadline,
                  GCancellable *cancellable,
                  guint timeout_s,
                  GError **error);

G_END_DECLS
