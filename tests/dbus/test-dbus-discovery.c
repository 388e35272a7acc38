/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mDNS discovery of the real gwmod (issue 14 §4) against a real avahi-daemon: a private
 * system-type bus (a dbus-daemon of the test's own, a filesystem socket) and avahi-daemon on
 * the lo of a network namespace the test makes (so nothing reaches a real interface), with
 * Debian's avahi-browse and avahi-publish as the independent peers:
 *  - gwmod publishes _gwmo._tcp on its southbound port with the TXT of spec/GWMO.md §4, under
 *    the next free name when its own is taken;
 *  - a service announced with avahi-publish -s NAME _omadm._tcp PORT is seen by gwmod, and
 *    its withdrawal too;
 *  - avahi-daemon killed and started again: Manager.Discovery goes running →
 *    no-daemon → running (one log line each: "waiting-for-daemon", "running"), publication
 *    and browsing come back;
 *  - no system bus at all: gwmod keeps running with Discovery "no-daemon" (the log says
 *    "unavailable"); when the bus and
 *    then avahi-daemon appear later, it gets to "running" by itself;
 *  - [discovery] enabled=false: "disabled".
 * Needs root and network namespaces for avahi-daemon (skips otherwise, and where avahi-daemon,
 * avahi-utils or dbus-daemon are not installed). Every wait is bounded and waits for the event.
 */

#include "config.h"

#include <string.h>

#include "gw-test-avahi.h"
#include "gw-test-daemon.h"

#define GW_TEST_AVAHI_WAIT_S 20

/* ---- gwmod ---- */

static gchar *
get_discovery(GwTestDaemon *d)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	g_autoptr(GError) error = NULL;
	reply = g_dbus_connection_call_sync(
	    d->connection,
	    "org.gwmo.Gateway1",
	    "/org/gwmo/Gateway1",
	    "org.freedesktop.DBus.Properties",
	    "Get",
	    g_variant_new("(ss)", "org.gwmo.Gateway1.Manager", "Discovery"),
	    G_VARIANT_TYPE("(v)"),
	    G_DBUS_CALL_FLAGS_NONE,
	    10000,
	    NULL,
	    &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &value);
	return g_variant_dup_string(value, NULL);
}

static void
wait_discovery(GwTestDaemon *d, const gchar *want)
{
	for (guint i = 0; i < GW_TEST_AVAHI_WAIT_S * 20; i++) {
		g_autofree gchar *state = get_discovery(d);
		if (g_strcmp0(state, want) == 0)
			return;
		g_assert_true(gw_test_daemon_is_running(d));
		g_usleep(50 * 1000);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		g_autofree gchar *state = get_discovery(d);
		g_printerr("Discovery is %s, not %s; gwmod's log:\n%s\n", state, want, log);
	}
	g_assert_not_reached();
}

static guint
count(const gchar *haystack, const gchar *needle)
{
	guint n = 0;
	for (const gchar *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* waits until gwmod's log holds @needle @times times */
static void
wait_log(GwTestDaemon *d, const gchar *needle, guint times)
{
	for (guint i = 0; i < GW_TEST_AVAHI_WAIT_S * 20; i++) {
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		if (count(log, needle) >= times)
			return;
		g_usleep(50 * 1000);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		g_printerr("no \"%s\" (x%u) in gwmod's log:\n%s\n", needle, times, log);
	}
	g_assert_not_reached();
}

static guint
log_count(GwTestDaemon *d, const gchar *needle)
{
	g_autofree gchar *log = gw_test_daemon_read_log(d);
	return count(log, needle);
}

/* ---- the independent peers (avahi-utils) ---- */

/* gwmod's _gwmo._tcp as avahi-browse sees it: @name, @port and the TXT of spec/GWMO.md §4 */
static void
assert_published(const gchar *name, guint16 port)
{
	g_autofree gchar *line = gw_test_avahi_browse_wait("_gwmo._tcp", name);
	g_auto(GStrv) f = g_strsplit(line, ";", 10);
	g_autofree gchar *port_str = g_strdup_printf("%u", (guint)port);

	g_test_message("avahi-browse: %s", line);
	g_assert_cmpstr(f[4], ==, "_gwmo._tcp");
	g_assert_cmpstr(f[7], ==, "127.0.0.1");
	g_assert_cmpstr(f[8], ==, port_str);
	g_assert_nonnull(strstr(f[9], "\"path=/dm\""));
	g_assert_nonnull(strstr(f[9], "\"gwid=GW-TEST-0001\""));
	g_assert_nonnull(strstr(f[9], "\"bootstrap=/bootstrap\""));
	g_assert_nonnull(strstr(f[9], "\"txtvers=1\""));
	g_assert_nonnull(strstr(f[9], "\"scheme=http\""));
}

static GwTestDaemon *
new_daemon(guint16 port)
{
	g_autofree gchar *conf = g_strdup_printf(
	    "[northbound]\nlisten=\n[southbound]\nlisten=http://127.0.0.1:%u\n", (guint)port);
	return gw_test_daemon_new_with_config(conf);
}

/* ---- the tests ---- */

static void
test_avahi(void)
{
	GwTestAvahi *s;
	GwTestDaemon *d;
	g_autoptr(GSubprocess) squatter = NULL;
	g_autoptr(GSubprocess) device1 = NULL;
	g_autoptr(GSubprocess) device2 = NULL;
	g_autofree gchar *line = NULL;
	guint16 port = gw_test_free_port();

	if (!gw_test_avahi_available(TRUE))
		return;
	s = gw_test_avahi_new();
	gw_test_avahi_start_bus(s);
	gw_test_avahi_start_daemon(s);

	/* the name gwmod wants is taken: it publishes under the next free one */
	squatter =
	    gw_test_avahi_publish("gwmo GW-TEST-0001", "_gwmo._tcp", "9", "squatter=1", NULL);
	g_free(gw_test_avahi_browse_wait("_gwmo._tcp", "gwmo GW-TEST-0001"));

	d = new_daemon(port);
	gw_test_daemon_start(d, NULL);
	wait_discovery(d, "running");
	assert_published("gwmo GW-TEST-0001 #2", port);
	wait_log(d, "renamed to 'gwmo GW-TEST-0001 #2'", 1);

	/* a DM-capable device announces itself, then goes */
	device1 = gw_test_avahi_publish("omadm-dev-1", "_omadm._tcp", "4443", "devid=DEV-1", NULL);
	wait_log(
	    d,
	    "mDNS: device 'omadm-dev-1' announced at gwmo-mdns-test.local (127.0.0.1 port 4443)",
	    1);
	gw_test_avahi_stop_child(&device1);
	wait_log(d, "mDNS: device 'omadm-dev-1' withdrawn", 1);

	/* avahi-daemon goes away (the squatter with it), and comes back */
	gw_test_avahi_stop_child(&squatter);
	gw_test_avahi_stop_daemon(s);
	wait_discovery(d, "no-daemon");
	wait_log(d, "mDNS discovery waiting-for-daemon", 1);
	gw_test_avahi_start_daemon(s);
	wait_discovery(d, "running");
	assert_published("gwmo GW-TEST-0001 #2", port);
	device2 = gw_test_avahi_publish("omadm-dev-2", "_omadm._tcp", "4444", "devid=DEV-2", NULL);
	wait_log(
	    d,
	    "mDNS: device 'omadm-dev-2' announced at gwmo-mdns-test.local (127.0.0.1 port 4444)",
	    1);
	/* one log line per change of state */
	g_assert_cmpuint(log_count(d, "mDNS discovery running"), ==, 2);
	g_assert_cmpuint(log_count(d, "mDNS discovery waiting-for-daemon"), ==, 1);
	g_assert_cmpuint(log_count(d, "mDNS discovery unavailable"), ==, 0);

	/* a clean stop withdraws the service */
	gw_test_daemon_stop(d);
	gw_test_avahi_browse_wait_gone("_gwmo._tcp", "gwmo GW-TEST-0001 #2");

	gw_test_avahi_stop_child(&device2);
	gw_test_daemon_free(d);
	gw_test_avahi_free(s);
}

static void
test_no_system_bus(void)
{
	GwTestAvahi *s =
	    gw_test_avahi_new(); /* DBUS_SYSTEM_BUS_ADDRESS: a socket nobody listens on */
	guint16 port = gw_test_free_port();
	GwTestDaemon *d = new_daemon(port);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;

	gw_test_daemon_start(d, NULL);
	wait_discovery(d, "no-daemon");
	/* the rest of gwmod works */
	reply =
	    gw_test_call(d, "GetNode", g_variant_new("(s)", "./DevInfo/DevId"), "(ssv)", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(log_count(d, "mDNS discovery unavailable"), ==, 1);

	/* the bus appears, then avahi-daemon: gwmod finds both by itself */
	if (gw_test_avahi_available(FALSE)) {
		gw_test_avahi_start_bus(s);
		/* the bus is noticed: still no daemon, but the log says gwmod waits for it */
		wait_log(d, "mDNS discovery waiting-for-daemon", 1);
		{
			g_autofree gchar *state = get_discovery(d);
			g_assert_cmpstr(state, ==, "no-daemon");
		}
		gw_test_avahi_start_daemon(s);
		wait_discovery(d, "running");
		assert_published("gwmo GW-TEST-0001", port);
		g_assert_cmpuint(log_count(d, "mDNS discovery unavailable"), ==, 1);
	} else {
		g_test_message("the late bus and avahi-daemon not tried: no network namespace, or "
		               "avahi-daemon, avahi-utils or dbus-daemon missing");
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
	gw_test_avahi_free(s);
}

static void
test_disabled(void)
{
	GwTestDaemon *d = gw_test_daemon_new_with_config(
	    "[northbound]\nlisten=\n[southbound]\nlisten=\n[discovery]\nenabled=false\n");
	gw_test_daemon_start(d, NULL);
	{
		g_autofree gchar *state = get_discovery(d);
		g_assert_cmpstr(state, ==, "disabled");
	}
	g_assert_cmpuint(log_count(d, "mDNS discovery disabled"), ==, 1);
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gw_test_avahi_enter_netns(NULL);
	g_test_add_func("/discovery/avahi-daemon", test_avahi);
	g_test_add_func("/discovery/no-system-bus", test_no_system_bus);
	g_test_add_func("/discovery/disabled", test_disabled);
	return g_test_run();
}
