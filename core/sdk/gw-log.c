/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwLog"

#include "config.h"

#include <stdio.h>

#include "gw-log.h"

static gboolean gw_log_verbose = FALSE;
static gchar **gw_log_debug_domains = NULL;
static gboolean gw_log_debug_all = FALSE;
static gboolean gw_log_installed = FALSE;

static const gchar *
gw_log_field_domain(const GLogField *fields, gsize n_fields)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
			return fields[i].value;
	}
	return NULL;
}

static GLogWriterOutput
gw_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	const gchar *domain;

	if (level & G_LOG_LEVEL_DEBUG) {
		if (!gw_log_debug_all) {
			domain = gw_log_field_domain(fields, n_fields);
			if (domain == NULL || gw_log_debug_domains == NULL ||
			    !g_strv_contains((const gchar *const *)gw_log_debug_domains, domain))
				return G_LOG_WRITER_HANDLED;
		}
	} else if (level & G_LOG_LEVEL_INFO) {
		if (!gw_log_verbose && !gw_log_debug_all)
			return G_LOG_WRITER_HANDLED;
	}
	/* not g_log_writer_default(): it would filter debug/info again by G_MESSAGES_DEBUG */
	if (g_log_writer_is_journald(fileno(stderr)))
		return g_log_writer_journald(level, fields, n_fields, user_data);
	{
		/* a daemon's stdout is not a log: everything goes to stderr */
		g_autofree gchar *line =
		    g_log_writer_format_fields(level,
					       fields,
					       n_fields,
					       g_log_writer_supports_color(fileno(stderr)));
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
	}
	return G_LOG_WRITER_HANDLED;
}

void
gw_log_setup(gboolean verbose, const gchar *debug_domains)
{
	const gchar *env = g_getenv("G_MESSAGES_DEBUG");
	g_autofree gchar *joined = NULL;

	gw_log_verbose = verbose;
	if (env != NULL && env[0] != '\0' && debug_domains != NULL && debug_domains[0] != '\0')
		joined = g_strdup_printf("%s,%s", env, debug_domains);
	else if (env != NULL && env[0] != '\0')
		joined = g_strdup(env);
	else
		joined = g_strdup(debug_domains != NULL ? debug_domains : "");
	g_strfreev(gw_log_debug_domains);
	gw_log_debug_domains = g_strsplit_set(joined, ", ", -1);
	gw_log_debug_all = g_strv_contains((const gchar *const *)gw_log_debug_domains, "all");
	/* GLib accepts one writer per process; later calls (SIGHUP) only change the filters */
	if (!gw_log_installed) {
		g_log_set_writer_func(gw_log_writer, NULL, NULL);
		gw_log_installed = TRUE;
	}
}

const gchar *
gw_log_redact(const gchar *value)
{
	if (value == NULL)
		return "(null)";
	if (g_strcmp0(g_getenv("GWMO_LOG_SECRETS"), "1") == 0)
		return value;
	return "<redacted>";
}
