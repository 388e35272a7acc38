/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A real avahi-daemon for tests (../shared/CI-NOTES.md): this process in a network namespace
 * whose only interface is lo (so no announcement reaches a real network), a private
 * system-type dbus-daemon on a filesystem socket (DBUS_SYSTEM_BUS_ADDRESS points there, for
 * gwmod, the peers and avahi-utils alike), and avahi-daemon on it. Debian's avahi-browse and
 * avahi-publish are the independent peers.
 */

#pragma once

#include <gio/gio.h>

#define GW_TEST_AVAHI_WAIT_S 20

/*
 * Puts this process (and so every child) in a network namespace with lo up and a mount
 * namespace with a private /run/avahi-daemon. First thing in main(), before any thread.
 * FALSE with @why_not when it cannot (not root, no namespaces).
 */
gboolean
gw_test_avahi_enter_netns(gchar **why_not);

/* TRUE when gw_test_avahi_enter_netns() succeeded and avahi-daemon, avahi-utils and
 * dbus-daemon are installed; else, when @skip, the running test is skipped with the reason */
gboolean
gw_test_avahi_available(gboolean skip);

/* @name from $PATH or the sbin/bin directories, or NULL */
gchar *
gw_test_avahi_find_program(const gchar *name);

/* a child (killed with this process) with stdout and stderr into @log, silenced when NULL */
GSubprocess *
gw_test_avahi_spawn(const gchar *log, const gchar *const *argv);
/* SIGTERM, wait, clear */
void
gw_test_avahi_stop_child(GSubprocess **child);

typedef struct {
	gchar *dir;
	gchar *address;
	GSubprocess *bus;
	GDBusConnection *connection; /* to the system bus, for avahi-daemon's state */
	GSubprocess *avahi;
	gchar *avahi_conf;
	gchar *avahi_log;
} GwTestAvahi;

/* the files and DBUS_SYSTEM_BUS_ADDRESS (nothing started yet: a bus nobody listens on) */
GwTestAvahi *
gw_test_avahi_new(void);
void
gw_test_avahi_start_bus(GwTestAvahi *self);
/* starts avahi-daemon and waits until it runs */
void
gw_test_avahi_start_daemon(GwTestAvahi *self);
/* SIGTERM to avahi-daemon, waited for */
void
gw_test_avahi_stop_daemon(GwTestAvahi *self);
void
gw_test_avahi_free(GwTestAvahi *self);

/* the resolved avahi-browse -rpt line ("=;lo;IPv4;NAME;TYPE;local;HOST;ADDRESS;PORT;TXT") of
 * service @name of @type, or NULL */
gchar *
gw_test_avahi_browse_once(const gchar *type, const gchar *name);
/* the same, waited for (a test error after GW_TEST_AVAHI_WAIT_S) */
gchar *
gw_test_avahi_browse_wait(const gchar *type, const gchar *name);
/* waits until avahi-browse no longer sees it */
void
gw_test_avahi_browse_wait_gone(const gchar *type, const gchar *name);
/* avahi-publish -s @name @type @port @txt… (NULL-terminated TXT strings) */
GSubprocess *
gw_test_avahi_publish(const gchar *name, const gchar *type, const gchar *port, ...)
    G_GNUC_NULL_TERMINATED;
