/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

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

/*
 * Returns @value, or "<redacted>" unless the environment has GWMO_LOG_SECRETS=1. For values
 * that identify people or carry credentials (DevId, ServerID secrets, nonces).
 *
 * Since: 1.0
 */
const gchar *
gw_log_redact(const gchar *value);

G_END_DECLS
