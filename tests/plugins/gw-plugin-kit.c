/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "gw-plugin-kit.h"

#include <gmodule.h>
#include <string.h>

GType
gw_plugin_kit_load(const gchar *env_var, gchar **why_not)
{
	const gchar *path = g_getenv(env_var);
	GModule *module;
	const guint32 *api = NULL;
	GType (*query)(void) = NULL;
	GType type;

	if (path == NULL) {
		*why_not = g_strdup_printf("%s is not set", env_var);
		return G_TYPE_INVALID;
	}
	module = g_module_open(path, G_MODULE_BIND_LOCAL);
	if (module == NULL) {
		*why_not = g_strdup(g_module_error());
		return G_TYPE_INVALID;
	}
	/* the ABI version before anything else */
	g_assert_true(g_module_symbol(module, "gw_plugin_api_version", (gpointer *)&api));
	g_assert_cmpuint(*api, ==, GW_PLUGIN_API_VERSION);
	g_assert_true(g_module_symbol(module, "gw_plugin_query_type", (gpointer *)&query));
	g_module_make_resident(module);
	type = query();
	g_assert_true(g_type_is_a(type, GW_TYPE_PLUGIN));
	return type;
}

static gboolean
gw_plugin_kit_timeout_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

gboolean
gw_plugin_kit_wait(gboolean (*done)(gpointer data), gpointer data, guint timeout_s)
{
	gboolean expired = FALSE;
	guint id = g_timeout_add_seconds(timeout_s, gw_plugin_kit_timeout_cb, &expired);

	while (!done(data) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(id);
	return done(data);
}

void
gw_plugin_kit_set_config(GKeyFile *keyfile, const gchar *group, const gchar *const *config)
{
	for (guint i = 0; config != NULL && config[i] != NULL; i++) {
		g_auto(GStrv) kv = g_strsplit(config[i], "=", 2);
		g_key_file_set_string(keyfile, group, kv[0], kv[1]);
	}
}

void
gw_plugin_kit_assert_static(GwDeviceTree *tree, const gchar *uri, const gchar *value)
{
	const gchar *v = NULL;

	g_assert_true(gw_device_tree_lookup(tree, uri, NULL, NULL, &v));
	g_assert_cmpstr(v, ==, value);
}

/* ---- the log ---- */

static GPtrArray *logged; /* "<domain>: <message>" of every message, warning and info */

static GLogWriterOutput
gw_plugin_kit_writer(GLogLevelFlags level,
                     const GLogField *fields,
                     gsize n_fields,
                     gpointer user_data)
{
	const gchar *domain = "";
	const gchar *message = "";

	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
		else if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
	}
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
		g_printerr("critical: %s: %s\n", domain, message);
		g_abort();
	}
	if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) {
		g_ptr_array_add(logged, g_strdup_printf("%s: %s", domain, message));
		if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE))
			g_test_message("logged: %s: %s", domain, message);
		return G_LOG_WRITER_HANDLED;
	}
	/* debug: as G_MESSAGES_DEBUG says */
	return g_log_writer_default(level, fields, n_fields, user_data);
}

void
gw_plugin_kit_log_capture(void)
{
	g_assert_null(logged);
	logged = g_ptr_array_new_with_free_func(g_free);
	g_log_set_writer_func(gw_plugin_kit_writer, NULL, NULL);
}

guint
gw_plugin_kit_log_mark(void)
{
	return logged->len;
}

static gboolean
gw_plugin_kit_line_has(guint i, const gchar *needle, const gchar *also)
{
	const gchar *line = g_ptr_array_index(logged, i);

	return strstr(line, needle) != NULL && (also == NULL || strstr(line, also) != NULL);
}

guint
gw_plugin_kit_count_logged(guint from, const gchar *needle)
{
	guint n = 0;

	for (guint i = from; i < logged->len; i++)
		n += gw_plugin_kit_line_has(i, needle, NULL);
	return n;
}

typedef struct {
	guint from;
	const gchar *needle;
	const gchar *also;
} GwPluginKitLogWait;

static gboolean
gw_plugin_kit_log_seen(gpointer data)
{
	GwPluginKitLogWait *w = data;

	for (guint i = w->from; i < logged->len; i++) {
		if (gw_plugin_kit_line_has(i, w->needle, w->also))
			return TRUE;
	}
	return FALSE;
}

gboolean
gw_plugin_kit_wait_logged(guint from, const gchar *needle, const gchar *also, guint timeout_s)
{
	GwPluginKitLogWait w = {from, needle, also};

	return gw_plugin_kit_wait(gw_plugin_kit_log_seen, &w, timeout_s);
}

/* ---- commands ---- */

void
gw_plugin_kit_run_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwPluginKitRun *run = user_data;

	run->result = gw_plugin_run_command_finish(GW_PLUGIN(source), res, &run->error);
	run->done = TRUE;
}

gboolean
gw_plugin_kit_run_done(gpointer data)
{
	return ((GwPluginKitRun *)data)->done;
}

GwDeviceResult *
gw_plugin_kit_run(GwPlugin *plugin,
                  const gchar *device_id,
                  GwDeviceCommand *cmd,
                  gint64 deadline,
                  GCancellable *cancellable,
                  guint timeout_s,
                  GError **error)
{
	GwPluginKitRun run = {0};

	gw_plugin_run_command_async(
	    plugin, device_id, cmd, deadline, cancellable, gw_plugin_kit_run_cb, &run);
	g_assert_true(gw_plugin_kit_wait(gw_plugin_kit_run_done, &run, timeout_s));
	if (run.error != NULL)
		g_propagate_error(error, run.error);
	return run.result;
}
