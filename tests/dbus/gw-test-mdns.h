/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The mDNS test harness (issue 14 §4), shared by test-dbus-discovery and test-e2e-discovered:
 * a private system-type bus (a dbus-daemon of the test's own, a filesystem socket) and a real
 * avahi-daemon on the lo of a network namespace the test makes (so nothing reaches a real
 * interface), with Debian's avahi-browse and avahi-publish as the independent peers.
 * mdns_enter_netns() runs first thing in main(), before any thread; mdns_have_avahi() says
 * whether the rest can run (root, namespaces, the programs). Every wait is bounded
 * (MDNS_WAIT_S) and waits for the event.
 */

#pragma once

#include <gio/gio.h>

#define MDNS_WAIT_S 20

extern gboolean mdns_netns_ok;
extern gchar *mdns_netns_why_not;

typedef struct {
	gchar *dir;
	gchar *address;
	GSubprocess *bus;
	GDBusConnection *connection; /* to the system bus, for avahi-daemon's state */
	GSubprocess *avahi;
	gchar *avahi_conf;
	gchar *avahi_log;
} MdnsServices;

gboolean
mdns_enter_netns(gchar **why_not);
gchar *
mdns_find_program(const gchar *name);
void
mdns_child_setup(gpointer user_data);
GSubprocess *
mdns_spawn(const gchar *log, const gchar *const *argv);
void
mdns_stop_child(GSubprocess **child);
void
mdns_services_start_bus(MdnsServices *s);
gint
mdns_services_avahi_state(MdnsServices *s);
void
mdns_services_start_avahi(MdnsServices *s);
MdnsServices *
mdns_services_new(void);
void
mdns_services_free(MdnsServices *s);
gchar *
mdns_escape_label(const gchar *name);
gchar *
mdns_browse_once(const gchar *type, const gchar *name);
gchar *
mdns_browse_wait(const gchar *type, const gchar *name);
void
mdns_browse_wait_gone(const gchar *type, const gchar *name);
GSubprocess *
mdns_publish(const gchar *name, const gchar *type, const gchar *port, const gchar *txt);
GSubprocess *
mdns_publish_full(const gchar *name, const gchar *type, const gchar *port, const gchar *const *txt);
gboolean
mdns_have_avahi(gboolean skip);
