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

#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw-test-daemon.h"

#define GW_TEST_WAIT_S 20

static gboolean netns_ok;
static gchar *netns_why_not;

/* this process (and so every child) in a network namespace whose only interface is lo, and a
 * mount namespace of its own with a private /run/avahi-daemon (avahi-daemon's pid file path is
 * fixed); first thing in main(), before any thread */
static gboolean
enter_netns(gchar **why_not)
{
	struct ifreq req;
	int fd;

	if (geteuid() != 0) {
		*why_not = g_strdup("needs root for namespaces of its own");
		return FALSE;
	}
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
		*why_not = g_strdup_printf("no namespaces: unshare: %s", g_strerror(errno));
		return FALSE;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		*why_not = g_strdup_printf("mount --make-rprivate /: %s", g_strerror(errno));
		return FALSE;
	}
	if (g_mkdir_with_parents("/run/avahi-daemon", 0755) != 0 ||
	    mount("tmpfs", "/run/avahi-daemon", "tmpfs", 0, "mode=0755") != 0) {
		*why_not = g_strdup_printf("tmpfs on /run/avahi-daemon: %s", g_strerror(errno));
		return FALSE;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why_not = g_strdup_printf("socket: %s", g_strerror(errno));
		return FALSE;
	}
	memset(&req, 0, sizeof(req));
	g_strlcpy(req.ifr_name, "lo", sizeof(req.ifr_name));
	if (ioctl(fd, SIOCGIFFLAGS, &req) != 0 ||
	    (req.ifr_flags |= IFF_UP | IFF_MULTICAST, ioctl(fd, SIOCSIFFLAGS, &req)) != 0) {
		*why_not = g_strdup_printf("lo up: %s", g_strerror(errno));
		close(fd);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

static gchar *
find_program(const gchar *name)
{
	const gchar *dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
	gchar *path = g_find_program_in_path(name);
	for (guint i = 0; path == NULL && i < G_N_ELEMENTS(dirs); i++) {
		g_autofree gchar *p = g_build_filename(dirs[i], name, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE))
			path = g_steal_pointer(&p);
	}
	return path;
}

static void
child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* a child with stdout and stderr into @log (nullable: silenced) */
static GSubprocess *
spawn(const gchar *log, const gchar *const *argv)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GError) error = NULL;
	GSubprocess *child;

	launcher = g_subprocess_launcher_new(log != NULL ? G_SUBPROCESS_FLAGS_STDERR_MERGE
	                                                 : G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
	                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	if (log != NULL)
		g_subprocess_launcher_set_stdout_file_path(launcher, log);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	child = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	return child;
}

static void
stop_child(GSubprocess **child)
{
	if (*child == NULL)
		return;
	g_subprocess_send_signal(*child, SIGTERM);
	g_subprocess_wait(*child, NULL, NULL);
	g_clear_object(child);
}

/* ---- the private system bus and avahi-daemon ---- */

typedef struct {
	gchar *dir;
	gchar *address;
	GSubprocess *bus;
	GDBusConnection *connection; /* to the system bus, for avahi-daemon's state */
	GSubprocess *avahi;
	gchar *avahi_conf;
	gchar *avahi_log;
} Services;

static void
services_start_bus(Services *s)
{
	g_autofree gchar *conf = g_build_filename(s->dir, "system-bus.conf", NULL);
	g_autofree gchar *socket = g_build_filename(s->dir, "system_bus_socket", NULL);
	g_autofree gchar *conf_arg = g_strconcat("--config-file=", conf, NULL);
	g_autofree gchar *dbus_daemon = find_program("dbus-daemon");
	g_autofree gchar *text = g_strdup_printf(
	    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
	    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	    "<busconfig>\n"
	    "  <type>system</type>\n"
	    "  <listen>unix:path=%s</listen>\n"
	    "  <auth>EXTERNAL</auth>\n"
	    "  <includedir>/usr/share/dbus-1/system.d</includedir>\n"
	    "  <policy context=\"default\">\n"
	    "    <allow user=\"*\"/> <allow own=\"*\"/>\n"
	    "    <allow send_destination=\"*\"/> <allow receive_sender=\"*\"/>\n"
	    "  </policy>\n"
	    "</busconfig>\n",
	    socket);
	const gchar *argv[] = {dbus_daemon, conf_arg, "--nofork", NULL};
	g_autoptr(GError) error = NULL;

	g_file_set_contents(conf, text, -1, &error);
	g_assert_no_error(error);
	s->bus = spawn(NULL, argv);
	for (guint i = 0; i < GW_TEST_WAIT_S * 20 && s->connection == NULL; i++) {
		g_clear_error(&error);
		s->connection = g_dbus_connection_new_for_address_sync(
		    s->address,
		    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		    NULL,
		    NULL,
		    &error);
		if (s->connection == NULL)
			g_usleep(50 * 1000);
	}
	g_assert_no_error(error);
}

/* avahi-daemon's org.freedesktop.Avahi.Server.GetState: 2 is AVAHI_SERVER_RUNNING */
static gint
services_avahi_state(Services *s)
{
	g_autoptr(GVariant) reply = NULL;
	gint state = -1;
	reply = g_dbus_connection_call_sync(s->connection,
	                                    "org.freedesktop.Avahi",
	                                    "/",
	                                    "org.freedesktop.Avahi.Server",
	                                    "GetState",
	                                    NULL,
	                                    G_VARIANT_TYPE("(i)"),
	                                    G_DBUS_CALL_FLAGS_NO_AUTO_START,
	                                    2000,
	                                    NULL,
	                                    NULL);
	if (reply != NULL)
		g_variant_get(reply, "(i)", &state);
	return state;
}

static void
services_start_avahi(Services *s)
{
	g_autofree gchar *avahi_daemon = find_program("avahi-daemon");
	const gchar *argv[] = {avahi_daemon,
	                       "-f",
	                       s->avahi_conf,
	                       "--no-drop-root",
	                       "--no-chroot",
	                       "--no-rlimits",
	                       "--no-proc-title",
	                       NULL};
	g_assert_null(s->avahi);
	s->avahi = spawn(s->avahi_log, argv);
	for (guint i = 0; i < GW_TEST_WAIT_S * 20; i++) {
		if (services_avahi_state(s) == 2)
			return;
		g_assert_nonnull(g_subprocess_get_identifier(s->avahi));
		g_usleep(50 * 1000);
	}
	g_assert_not_reached();
}

static Services *
services_new(void)
{
	Services *s = g_new0(Services, 1);
	g_autoptr(GError) error = NULL;

	s->dir = g_dir_make_tmp("gwmo-mdns-XXXXXX", &error);
	g_assert_no_error(error);
	/* reachable for avahi-daemon and gwmod alike */
	g_chmod(s->dir, 0755);
	s->address = g_strdup_printf("unix:path=%s/system_bus_socket", s->dir);
	s->avahi_conf = g_build_filename(s->dir, "avahi-daemon.conf", NULL);
	s->avahi_log = g_build_filename(s->dir, "avahi-daemon.log", NULL);
	g_file_set_contents(s->avahi_conf,
	                    "[server]\n"
	                    "host-name=gwmo-mdns-test\n"
	                    "use-ipv4=yes\n"
	                    "use-ipv6=no\n"
	                    "allow-interfaces=lo\n"
	                    "enable-dbus=yes\n"
	                    "[wide-area]\n"
	                    "enable-wide-area=no\n"
	                    "[publish]\n"
	                    "publish-hinfo=no\n"
	                    "publish-workstation=no\n",
	                    -1,
	                    &error);
	g_assert_no_error(error);
	/* gwmod, avahi-browse and avahi-publish find the bus there */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", s->address, TRUE);
	return s;
}

static void
services_free(Services *s)
{
	stop_child(&s->avahi);
	g_clear_object(&s->connection);
	stop_child(&s->bus);
	g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	g_remove(s->avahi_conf);
	g_remove(s->avahi_log);
	{
		g_autofree gchar *conf = g_build_filename(s->dir, "system-bus.conf", NULL);
		g_autofree gchar *socket = g_build_filename(s->dir, "system_bus_socket", NULL);
		g_remove(conf);
		g_remove(socket);
	}
	g_rmdir(s->dir);
	g_free(s->dir);
	g_free(s->address);
	g_free(s->avahi_conf);
	g_free(s->avahi_log);
	g_free(s);
}

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
	for (guint i = 0; i < GW_TEST_WAIT_S * 20; i++) {
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
	for (guint i = 0; i < GW_TEST_WAIT_S * 20; i++) {
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

/* avahi-browse -rpt's name field: the DNS label escaped as avahi_escape_label() does (a
 * space is \032, '#' \035) */
static gchar *
escape_label(const gchar *name)
{
	GString *out = g_string_new(NULL);
	for (const guchar *p = (const guchar *)name; *p != '\0'; p++) {
		if (*p == '.' || *p == '\\')
			g_string_append_printf(out, "\\%c", *p);
		else if (g_ascii_isalnum(*p) || *p == '_' || *p == '-')
			g_string_append_c(out, (gchar)*p);
		else
			g_string_append_printf(out, "\\%03u", (guint)*p);
	}
	return g_string_free(out, FALSE);
}

/* the resolved line ("=;lo;IPv4;NAME;TYPE;local;HOST;ADDRESS;PORT;TXT") of service @name
 * of @type as avahi-browse -rpt sees it, or NULL */
static gchar *
browse_once(const gchar *type, const gchar *name)
{
	g_autofree gchar *avahi_browse = find_program("avahi-browse");
	g_autofree gchar *out = NULL;
	g_autofree gchar *escaped = escape_label(name);
	g_auto(GStrv) lines = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *argv[] = {avahi_browse, "-rpt", type, NULL};
	gint status = 0;

	g_spawn_sync(NULL,
	             (gchar **)argv,
	             NULL,
	             G_SPAWN_STDERR_TO_DEV_NULL,
	             child_setup,
	             NULL,
	             &out,
	             NULL,
	             &status,
	             &error);
	g_assert_no_error(error);
	lines = g_strsplit(out != NULL ? out : "", "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], ";", 10);
		if (g_strv_length(f) == 10 && g_str_equal(f[0], "=") && g_str_equal(f[3], escaped))
			return g_strdup(lines[i]);
	}
	return NULL;
}

static gchar *
browse_wait(const gchar *type, const gchar *name)
{
	gint64 deadline = g_get_monotonic_time() + GW_TEST_WAIT_S * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline) {
		gchar *line = browse_once(type, name);
		if (line != NULL)
			return line;
		g_usleep(200 * 1000);
	}
	g_printerr("avahi-browse never saw %s '%s'\n", type, name);
	g_assert_not_reached();
}

static void
browse_wait_gone(const gchar *type, const gchar *name)
{
	gint64 deadline = g_get_monotonic_time() + GW_TEST_WAIT_S * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline) {
		g_autofree gchar *line = browse_once(type, name);
		if (line == NULL)
			return;
		g_usleep(200 * 1000);
	}
	g_printerr("avahi-browse still sees %s '%s'\n", type, name);
	g_assert_not_reached();
}

static GSubprocess *
publish(const gchar *name, const gchar *type, const gchar *port, const gchar *txt)
{
	g_autofree gchar *avahi_publish = find_program("avahi-publish");
	const gchar *argv[] = {avahi_publish, "-s", name, type, port, txt, NULL};
	return spawn(NULL, argv);
}

/* gwmod's _gwmo._tcp as avahi-browse sees it: @name, @port and the TXT of spec/GWMO.md §4 */
static void
assert_published(const gchar *name, guint16 port)
{
	g_autofree gchar *line = browse_wait("_gwmo._tcp", name);
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

/* root, namespaces and the programs; @skip: the test is skipped when not */
static gboolean
have_avahi(gboolean skip)
{
	const gchar *progs[] = {"avahi-daemon", "avahi-browse", "avahi-publish", "dbus-daemon"};
	if (!netns_ok) {
		if (skip)
			g_test_skip(netns_why_not);
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(progs); i++) {
		g_autofree gchar *path = find_program(progs[i]);
		if (path == NULL) {
			g_autofree gchar *why = g_strdup_printf("%s is not installed", progs[i]);
			if (skip)
				g_test_skip(why);
			return FALSE;
		}
	}
	return TRUE;
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
	Services *s;
	GwTestDaemon *d;
	g_autoptr(GSubprocess) squatter = NULL;
	g_autoptr(GSubprocess) device1 = NULL;
	g_autoptr(GSubprocess) device2 = NULL;
	g_autofree gchar *line = NULL;
	guint16 port = gw_test_free_port();

	if (!have_avahi(TRUE))
		return;
	s = services_new();
	services_start_bus(s);
	services_start_avahi(s);

	/* the name gwmod wants is taken: it publishes under the next free one */
	squatter = publish("gwmo GW-TEST-0001", "_gwmo._tcp", "9", "squatter=1");
	g_free(browse_wait("_gwmo._tcp", "gwmo GW-TEST-0001"));

	d = new_daemon(port);
	gw_test_daemon_start(d, NULL);
	wait_discovery(d, "running");
	assert_published("gwmo GW-TEST-0001 #2", port);
	wait_log(d, "renamed to 'gwmo GW-TEST-0001 #2'", 1);

	/* a DM-capable device announces itself, then goes */
	device1 = publish("omadm-dev-1", "_omadm._tcp", "4443", "devid=DEV-1");
	wait_log(
	    d,
	    "mDNS: device 'omadm-dev-1' announced at gwmo-mdns-test.local (127.0.0.1 port 4443)",
	    1);
	stop_child(&device1);
	wait_log(d, "mDNS: device 'omadm-dev-1' withdrawn", 1);

	/* avahi-daemon goes away (the squatter with it), and comes back */
	stop_child(&squatter);
	stop_child(&s->avahi);
	wait_discovery(d, "no-daemon");
	wait_log(d, "mDNS discovery waiting-for-daemon", 1);
	services_start_avahi(s);
	wait_discovery(d, "running");
	assert_published("gwmo GW-TEST-0001 #2", port);
	device2 = publish("omadm-dev-2", "_omadm._tcp", "4444", "devid=DEV-2");
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
	browse_wait_gone("_gwmo._tcp", "gwmo GW-TEST-0001 #2");

	stop_child(&device2);
	gw_test_daemon_free(d);
	services_free(s);
}

static void
test_no_system_bus(void)
{
	Services *s = services_new(); /* DBUS_SYSTEM_BUS_ADDRESS: a socket nobody listens on */
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
	if (have_avahi(FALSE)) {
		services_start_bus(s);
		/* the bus is noticed: still no daemon, but the log says gwmod waits for it */
		wait_log(d, "mDNS discovery waiting-for-daemon", 1);
		{
			g_autofree gchar *state = get_discovery(d);
			g_assert_cmpstr(state, ==, "no-daemon");
		}
		services_start_avahi(s);
		wait_discovery(d, "running");
		assert_published("gwmo GW-TEST-0001", port);
		g_assert_cmpuint(log_count(d, "mDNS discovery unavailable"), ==, 1);
	} else {
		g_test_message("the late bus and avahi-daemon not tried: %s",
		               netns_ok ? "avahi-daemon, avahi-utils or dbus-daemon missing"
		                        : netns_why_not);
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
	services_free(s);
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
	netns_ok = enter_netns(&netns_why_not);
	g_test_add_func("/discovery/avahi-daemon", test_avahi);
	g_test_add_func("/discovery/no-system-bus", test_no_system_bus);
	g_test_add_func("/discovery/disabled", test_disabled);
	return g_test_run();
}
