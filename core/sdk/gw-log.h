/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Returns @value, or "<redacted>" unless the environment has GWMO_LOG_SECRETS=1. For values
 * that identify people or carry credentials (DevId, ServerID secrets, nonces).
 *
 * Since: 1.0
 */
const gchar *
gw_log_redact(const gchar *value);

/*
 * Rate-limited logging, for lines a peer can provoke (a flood of bad requests must not fill the
 * journal). Each call site has its own budget: GW_LOG_RATELIMIT_BURST lines per
 * GW_LOG_RATELIMIT_INTERVAL seconds; the last line of a budget says that similar ones are
 * suppressed, and the first line after the interval is preceded by "N similar messages
 * suppressed". Use the gw_*_ratelimited() macros; gw_log_ratelimited() with a GwLogRatelimit of
 * your own limits per key (per peer, per device) instead of per call site.
 *
 * Since: 1.0
 */
#define GW_LOG_RATELIMIT_INTERVAL 30
#define GW_LOG_RATELIMIT_BURST 10

typedef struct {
	gint64 window_start; /* monotonic µs; 0: never logged */
	guint n_logged;
	guint n_suppressed;
} GwLogRatelimit;

void
gw_log_ratelimited(GwLogRatelimit *state,
                   const gchar *log_domain,
                   GLogLevelFlags level,
                   const gchar *file,
                   const gchar *line,
                   const gchar *func,
                   const gchar *format,
                   ...) G_GNUC_PRINTF(7, 8);

#define gw_log_ratelimited_here(level, ...)                   \
	G_STMT_START                                          \
	{                                                     \
		static GwLogRatelimit gw_log_ratelimit_site_; \
		gw_log_ratelimited(&gw_log_ratelimit_site_,   \
		                   G_LOG_DOMAIN,              \
		                   level,                     \
		                   __FILE__,                  \
		                   G_STRINGIFY(__LINE__),     \
		                   G_STRFUNC,                 \
		                   __VA_ARGS__);              \
	}                                                     \
	G_STMT_END
#define gw_warning_ratelimited(...) gw_log_ratelimited_here(G_LOG_LEVEL_WARNING, __VA_ARGS__)
#define gw_message_ratelimited(...) gw_log_ratelimited_here(G_LOG_LEVEL_MESSAGE, __VA_ARGS__)
#define gw_info_ratelimited(...) gw_log_ratelimited_here(G_LOG_LEVEL_INFO, __VA_ARGS__)

G_END_DECLS
