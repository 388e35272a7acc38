/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the UPnP adapter's tests: a loopback-only network namespace of the test's own,
 * the headless test lights as child processes, and waiting for what they print (with
 * gw_plugin_kit_wait(), tests/plugins/gw-plugin-kit.h).
 */

#pragma once

#include <gio/gio.h>

#include "gw-plugin-kit.h" /* gw_plugin_kit_wait() */

G_BEGIN_DECLS

/*
 * Moves this process into a network namespace of its own whose only interface is lo, up and
 * multicast, so SSDP never reaches a real interface. Call first in main(), before any socket,
 * bus or thread is made. FALSE (with the reason) when not root or namespaces are unavailable:
 * the tests then skip.
 */
gboolean
gw_upnp_test_enter_netns(gchar **why_not);

/* ---- a child process whose stdout lines are collected ---- */

typedef struct {
	GSubprocess *process;
	GDataInputStream *out;
	GCancellable *cancellable;
	GPtrArray *lines; /* every line so far */
	gboolean eof;
	gchar *state_dir; /* removed with the child when set */
} GwUpnpChild;

/* starts @argv (NULL-terminated) with @env additions ("K=V", nullable), stdout collected;
 * its stdin a pipe that stays open (no EOF) until the child is stopped */
GwUpnpChild *
gw_upnp_child_spawn(const gchar *const *argv, const gchar *const *env, GError **error);
/* the first line after line @from that starts with @prefix; waits up to @timeout_s. Its index
 * in *@index when found */
const gchar *
gw_upnp_child_wait_line(GwUpnpChild *child,
                        guint from,
                        const gchar *prefix,
                        guint timeout_s,
                        guint *index);
/* how many lines so far start with @prefix */
guint
gw_upnp_child_count(GwUpnpChild *child, const gchar *prefix);
/* sends @signum (0: none) and waits up to 10 s for the exit (then SIGKILL); the exit status
 * as waitpid() gives it */
gint
gw_upnp_child_stop(GwUpnpChild *child, gint signum);
/* SIGKILL when still running; frees */
void
gw_upnp_child_free(GwUpnpChild *child);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwUpnpChild, gw_upnp_child_free)

/* starts gwmo-test-light (GWMO_TEST_LIGHT) with @udn and @max_age on lo and waits for its
 * READY line; *@location is its description URL */
GwUpnpChild *
gw_upnp_test_light(const gchar *udn, guint max_age, gchar **location);

/* ---- Debian's gupnp-network-light (gupnp-tools), an independent UPnP implementation ---- */

/* an Xvfb of its own (it picks a free display) for gupnp-network-light; NULL with the reason
 * in @why_not when Xvfb or gupnp-network-light is not installed. *@display is its number */
GwUpnpChild *
gw_upnp_test_xvfb(gchar **display, gchar **why_not);
/* gupnp-network-light on lo, IPv4, headless (-x), on the Xvfb @display */
GwUpnpChild *
gw_upnp_test_network_light(const gchar *display);

G_END_DECLS
