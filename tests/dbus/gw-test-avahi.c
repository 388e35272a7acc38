/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include "gw-test-avahi.h"

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

static gboolean netns_ok;
static gchar *netns_why_not;

gboolean
gw_test_avahi_enter_netns(gchar **why_not)
{
	struct ifreq req;
	int fd;

	netns_ok = FALSE;
	g_clear_pointer(&netns_why_not, g_free);
	if (geteuid() != 0) {
		netns_why_not = g_strdup("needs root for namespaces of its own");
	} else if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
		netns_why_not = g_strdup_printf("no namespaces: unshare: %s", g_strerror(errno));
	} else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		netns_why_not = g_strdup_printf("mount --make-rprivate /: %s", g_strerror(errno));
	} else if (g_mkdir_with_parents("/run/avahi-daemon", 0755) != 0 ||
	           mount("tmpfs", "/run/avahi-daemon", "tmpfs", 0, "mode=0755") != 0) {
		/* avahi-daemon's pid file path is fixed */
		netns_why_not = g_strdup_printf("tmpfs on /run/avahi-daemon: %s", g_strerror(errno));
	} else if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		netns_why_not = g_strdup_printf("socket: %s", g_strerror(errno));
	} else {
		memset(&req, 0, sizeof(req));
		g_strlcpy(req.ifr_name, "lo", sizeof(req.ifr_name));
		if (ioctl(fd, SIOCGIFFLAGS, &req) != 0 ||
		    (req.ifr_flags |= IFF_UP | IFF_MULTICAST, ioctl(fd, SIOCSIFFLAGS, &req)) != 0)
			netns_why_not = g_strdup_printf("lo up: %s", g_strerror(errno));
		else
			netns_ok = TRUE;
		close(fd);
	}
	if (why_not != NULL)
		*why_not = g_strdup(netns_why_not);
	return netns_ok;
}

gchar *
gw_test_avahi_find_program(const gchar *name)
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

gboolean
gw_test_avahi_available(gboolean skip)
{
	const gchar *progs[] = {"avahi-daemon", "avahi-browse", "avahi-publish", "dbus-daemon"};
	if (!netns_ok) {
		if (skip)
			g_test_skip(netns_why_not != NULL ? netns_why_not
			                                  : "gw_test_avahi_enter_netns() not called");
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(progs); i++) {
		g_autofree gchar *path = gw_test_avahi_find_program(progs[i]);
		if (path == NULL) {
			g_autofree gchar *why = g_strdup_printf("%s is not installed", progs[i]);
			if (skip)
				g_test_skip(why);
			return FALSE;
		}
	}
	return TRUE;
}

static void
child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocess *
gw_test_avahi_spawn(const gchar *log, const gchar *const *argv)
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

void
gw_test_avahi_stop_child(GSubprocess **child)
{
	if (*child == NULL)
		return;
	g_subprocess_send_signal(*child, SIGTERM);
	g_subprocess_wait(*child, NULL, NULL);
	g_clear_object(child);
}

GwTestAvahi *
gw_test_avahi_new(void)
{
	GwTestAvahi *s = g_new0(GwTestAvahi, 1);
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
	/* gwmod, the peers, avahi-browse and avahi-publish find the bus there */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", s->address, TRUE);
	return s;
}

void
gw_test_avahi_start_bus(GwTestAvahi *s)
{
	g_autofree gchar *conf = g_build_filename(s->dir, "system-bus.conf", NULL);
	g_autofree gchar *socket = g_build_filename(s->dir, "system_bus_socket", NULL);
	g_autofree gchar *conf_arg = g_strconcat("--config-file=", conf, NULL);
	g_autofree gchar *dbus_daemon = gw_test_avahi_find_program("dbus-daemon");
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
	s->bus = gw_test_avahi_spawn(NULL, argv);
	for (guint i = 0; i < GW_TEST_AVAHI_WAIT_S * 20 && s->connection == NULL; i++) {
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
avahi_state(GwTestAvahi *s)
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

void
gw_test_avahi_start_daemon(GwTestAvahi *s)
{
	g_autofree gchar *avahi_daemon = gw_test_avahi_find_program("avahi-daemon");
	const gchar *argv[] = {avahi_daemon,
	                       "-f",
	                       s->avahi_conf,
	                       "--no-drop-root",
	                       "--no-chroot",
	                       "--no-rlimits",
	                       "--no-proc-title",
	                       NULL};
	g_assert_null(s->avahi);
	s->avahi = gw_test_avahi_spawn(s->avahi_log, argv);
	for (guint i = 0; i < GW_TEST_AVAHI_WAIT_S * 20; i++) {
		if (avahi_state(s) == 2)
			return;
		g_assert_nonnull(g_subprocess_get_identifier(s->avahi));
		g_usleep(50 * 1000);
	}
	g_assert_not_reached();
}

void
gw_test_avahi_stop_daemon(GwTestAvahi *s)
{
	gw_test_avahi_stop_child(&s->avahi);
}

void
gw_test_avahi_free(GwTestAvahi *s)
{
	g_autofree gchar *conf = g_build_filename(s->dir, "system-bus.conf", NULL);
	g_autofree gchar *socket = g_build_filename(s->dir, "system_bus_socket", NULL);

	gw_test_avahi_stop_child(&s->avahi);
	g_clear_object(&s->connection);
	gw_test_avahi_stop_child(&s->bus);
	g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	g_remove(s->avahi_conf);
	g_remove(s->avahi_log);
	g_remove(conf);
	g_remove(socket);
	g_rmdir(s->dir);
	g_free(s->dir);
	g_free(s->address);
	g_free(s->avahi_conf);
	g_free(s->avahi_log);
	g_free(s);
}

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

gchar *
gw_test_avahi_browse_once(const gchar *type, const gchar *name)
{
	g_autofree gchar *avahi_browse = gw_test_avahi_find_program("avahi-browse");
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

gchar *
gw_test_avahi_browse_wait(const gchar *type, const gchar *name)
{
	gint64 deadline = g_get_monotonic_time() + GW_TEST_AVAHI_WAIT_S * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline) {
		gchar *line = gw_test_avahi_browse_once(type, name);
		if (line != NULL)
			return line;
		g_usleep(200 * 1000);
	}
	g_printerr("avahi-browse never saw %s '%s'\n", type, name);
	g_assert_not_reached();
}

void
gw_test_avahi_browse_wait_gone(const gchar *type, const gchar *name)
{
	gint64 deadline = g_get_monotonic_time() + GW_TEST_AVAHI_WAIT_S * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline) {
		g_autofree gchar *line = gw_test_avahi_browse_once(type, name);
		if (line == NULL)
			return;
		g_usleep(200 * 1000);
	}
	g_printerr("avahi-browse still sees %s '%s'\n", type, name);
	g_assert_not_reached();
}

GSubprocess *
gw_test_avahi_publish(const gchar *name, const gchar *type, const gchar *port, ...)
{
	g_autofree gchar *avahi_publish = gw_test_avahi_find_program("avahi-publish");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	const gchar *txt;
	va_list ap;

	g_ptr_array_add(argv, avahi_publish);
	g_ptr_array_add(argv, (gpointer) "-s");
	g_ptr_array_add(argv, (gpointer)name);
	g_ptr_array_add(argv, (gpointer)type);
	g_ptr_array_add(argv, (gpointer)port);
	va_start(ap, port);
	while ((txt = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, (gpointer)txt);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	return gw_test_avahi_spawn(NULL, (const gchar *const *)argv->pdata);
}
