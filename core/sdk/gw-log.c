/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwLog"

#include "config.h"

#include <stdio.h>

#include "gw-log-private.h"

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
		g_autofree gchar *line = g_log_writer_format_fields(
		    level, fields, n_fields, g_log_writer_supports_color(fileno(stderr)));
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

static GMutex gw_log_ratelimit_lock;
static guint gw_log_ratelimit_interval_ms = 0; /* 0: GW_LOG_RATELIMIT_INTERVAL s */
static guint gw_log_ratelimit_burst = 0;       /* 0: GW_LOG_RATELIMIT_BURST */

void
gw_log_ratelimit_set_policy(guint interval_ms, guint burst)
{
	g_mutex_lock(&gw_log_ratelimit_lock);
	gw_log_ratelimit_interval_ms = interval_ms;
	gw_log_ratelimit_burst = burst;
	g_mutex_unlock(&gw_log_ratelimit_lock);
}

static void
gw_log_ratelimited_write(const gchar *log_domain,
                         GLogLevelFlags level,
                         const gchar *file,
                         const gchar *line,
                         const gchar *func,
                         const gchar *message)
{
	g_log_structured(log_domain,
	                 level,
	                 "CODE_FILE",
	                 file,
	                 "CODE_LINE",
	                 line,
	                 "CODE_FUNC",
	                 func,
	                 "MESSAGE",
	                 "%s",
	                 message);
}

void
gw_log_ratelimited(GwLogRatelimit *state,
                   const gchar *log_domain,
                   GLogLevelFlags level,
                   const gchar *file,
                   const gchar *line,
                   const gchar *func,
                   const gchar *format,
                   ...)
{
	gint64 now = g_get_monotonic_time();
	gint64 interval_us;
	guint burst;
	guint suppressed = 0;
	gboolean last = FALSE;
	g_autofree gchar *message = NULL;
	va_list args;

	g_return_if_fail(state != NULL);
	g_return_if_fail(format != NULL);

	g_mutex_lock(&gw_log_ratelimit_lock);
	interval_us = gw_log_ratelimit_interval_ms > 0
	                  ? (gint64)gw_log_ratelimit_interval_ms * 1000
	                  : (gint64)GW_LOG_RATELIMIT_INTERVAL * G_USEC_PER_SEC;
	burst = gw_log_ratelimit_burst > 0 ? gw_log_ratelimit_burst : GW_LOG_RATELIMIT_BURST;
	if (state->window_start == 0 || now - state->window_start >= interval_us) {
		suppressed = state->n_suppressed;
		state->window_start = now;
		state->n_logged = 0;
		state->n_suppressed = 0;
	}
	if (state->n_logged >= burst) {
		state->n_suppressed++;
		g_mutex_unlock(&gw_log_ratelimit_lock);
		return;
	}
	state->n_logged++;
	last = state->n_logged == burst;
	g_mutex_unlock(&gw_log_ratelimit_lock);

	if (suppressed > 0) {
		g_autofree gchar *note =
		    g_strdup_printf("%u similar messages suppressed", suppressed);
		gw_log_ratelimited_write(log_domain, level, file, line, func, note);
	}
	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	if (last) {
		g_autofree gchar *with_note =
		    g_strdup_printf("%s (similar messages suppressed for %g s)",
		                    message,
		                    (gdouble)interval_us / G_USEC_PER_SEC);
		gw_log_ratelimited_write(log_domain, level, file, line, func, with_note);
		return;
	}
	gw_log_ratelimited_write(log_domain, level, file, line, func, message);
}
