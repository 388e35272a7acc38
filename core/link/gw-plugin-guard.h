/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The crash guard of the plugin host: which plugin had a call in flight when gwmod died.
 *
 * A small file in the state directory (plugins.guard) mapped into gwmod's memory (MAP_SHARED).
 * Each plugin gets a slot whose counter the SDK's call wrappers raise before a call into the
 * plugin and lower when the plugin has returned or completed (gw_plugin_set_call_counter()).
 * A counter is a plain store to shared memory: no system call and no fsync per call. When
 * gwmod dies (a crash, an abort, SIGKILL) the page stays in the kernel's page cache, so the
 * next start reads what was in flight; only a power loss can forget it (then nothing crashed
 * because of a plugin).
 *
 * At open, for each slot: a call was in flight → one more death in a row, else the count
 * starts again from 0; GW_PLUGIN_GUARD_DEATHS deaths in a row quarantine the plugin: the
 * loader does not load it until gw_plugin_guard_reset() (gwmoctl plugins reset NAME) or until
 * the file is deleted while gwmod is stopped. A clean stop (gw_plugin_guard_mark_clean()) ends
 * with nothing in flight.
 */

/* deaths in a row (runs of gwmod that ended with a call into the plugin in flight) that
 * quarantine a plugin */
#define GW_PLUGIN_GUARD_DEATHS 2
/* plugins the file has room for; more are loaded without a guard (logged) */
#define GW_PLUGIN_GUARD_SLOTS 64
/* the longest plugin name a slot holds */
#define GW_PLUGIN_GUARD_NAME_MAX 47

typedef struct _GwPluginGuard GwPluginGuard;

/* maps @path (created when missing, started afresh when malformed: logged) and reads the last
 * run's verdicts */
GwPluginGuard *
gw_plugin_guard_open(const gchar *path, GError **error);
void
gw_plugin_guard_free(GwPluginGuard *self);
const gchar *
gw_plugin_guard_get_path(GwPluginGuard *self);

/* deaths in a row of @name, as read at open (0 for a name without a slot) */
guint
gw_plugin_guard_get_deaths(GwPluginGuard *self, const gchar *name);
gboolean
gw_plugin_guard_is_quarantined(GwPluginGuard *self, const gchar *name);
/* the counter of @name's slot (made when missing), NULL when the file is full or @name too
 * long; valid until gw_plugin_guard_free() */
gint *
gw_plugin_guard_get_counter(GwPluginGuard *self, const gchar *name);
/* lifts @name's quarantine and forgets its deaths (written through at once) */
void
gw_plugin_guard_reset(GwPluginGuard *self, const gchar *name);
/* a clean stop: nothing is in flight any more */
void
gw_plugin_guard_mark_clean(GwPluginGuard *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwPluginGuard, gw_plugin_guard_free)

G_END_DECLS
