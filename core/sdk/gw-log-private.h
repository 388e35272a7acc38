/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-log.h"

G_BEGIN_DECLS

/*
 * gwmod's side of the logging (not installed; version node GW_PLUGIN_PRIVATE of
 * libgwmo-plugin, which no plugin may use): the writer and its filters belong to the daemon,
 * a plugin only logs.
 */

/*
 * Installs gwmo's structured log writer: messages, warnings and criticals always; info with
 * @verbose; debug for the comma-separated @debug_domains ("all" for every domain) or what
 * G_MESSAGES_DEBUG names. Output goes to the journal when stderr is connected to it, else to
 * stderr. May be called again (configuration reload) to change the filters.
 *
 * Since: 1.0
 */
void
gw_log_setup(gboolean verbose, const gchar *debug_domains);

/* for tests: another interval (milliseconds) and burst for every call site; 0, 0: the defaults */
void
gw_log_ratelimit_set_policy(guint interval_ms, guint burst);

G_END_DECLS
