/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The real gwmod's listeners when descriptors run out (issue 11 §4): gwmod starts with a soft
 * RLIMIT_NOFILE of 256 and a hard one of 512; it raises the soft limit to 512 (and logs it).
 * 1,100 idle TCP connections to the southbound listener then take every descriptor it has
 * (EMFILE); once they are closed, the listener accepts again and answers, plain and TLS, gwmod
 * still answers on D-Bus, and its descriptor count is back where it was. The descriptors and
 * RSS of gwmod are printed before, during and after.
 * And gwmod.conf's [http] reaches both: a connection that sends nothing is closed after
 * header-timeout, a peer gets max-connections-per-peer connections, and kept-alive connections
 * their clients closed are closed at once (no CLOSE-WAIT), plain and TLS.
 */

#include "config.h"

#include <string.h>
#include <sys/resource.h>

#include "gw-test-abuse.h"
#include "gw-test-daemon.h"

#define FLOOD 1100
#define GWMOD_SOFT 256
#define GWMOD_HARD 512

static GPid
gwmod_pid(GwTestDaemon *d)
{
	const gchar *id = g_subprocess_get_identifier(d->daemon);
	g_assert_nonnull(id);
	return (GPid)g_ascii_strtoll(id, NULL, 10);
}

typedef struct {
	GPid pid;
	guint last;
	gint64 since;
} Settle;

/* the descriptor count of gwmod stopped moving for 500 ms */
static gboolean
fds_settled(gpointer user_data)
{
	Settle *s = user_data;
	guint n = gw_abuse_count_fds(s->pid, FALSE);
	gint64 now = g_get_monotonic_time();

	if (n != s->last) {
		s->last = n;
		s->since = now;
		return FALSE;
	}
	return now - s->since >= 500000;
}

typedef struct {
	GPid pid;
	guint at_most;
} FdsBack;

static gboolean
fds_back(gpointer user_data)
{
	FdsBack *b = user_data;
	return gw_abuse_count_fds(b->pid, FALSE) <= b->at_most;
}

static void
report(GwTestDaemon *d, const gchar *when)
{
	GPid pid = gwmod_pid(d);
	g_test_message("gwmod %s: %u descriptors (%u sockets), VmRSS %" G_GUINT64_FORMAT " KiB",
	               when,
	               gw_abuse_count_fds(pid, FALSE),
	               gw_abuse_count_fds(pid, TRUE),
	               gw_abuse_rss_kib(pid));
}

static guint
one_request(guint16 port, gboolean tls)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwAbuseClient) c = gw_abuse_client_connect(port, tls, &error);
	if (c == NULL) {
		g_test_message("connect to %u: %s", port, error->message);
		return 0;
	}
	return gw_abuse_request(c, "GET", "/nothing-here", NULL, FALSE, 10000);
}

static void
test_emfile_flood(void)
{
	guint16 port = gw_test_free_port();
	guint16 tls_port = gw_test_free_port();
	g_autofree gchar *conf = g_strdup_printf("[northbound]\nlisten=\n"
	                                         "[southbound]\nlisten=http://127.0.0.1:%u,"
	                                         "https://127.0.0.1:%u\n"
	                                         "[http]\nmax-connections=100000\n"
	                                         "max-connections-per-peer=100000\n"
	                                         "header-timeout=300\n",
	                                         port,
	                                         tls_port);
	GwTestDaemon *d = gw_test_daemon_new_with_config(conf);
	g_autoptr(GPtrArray) flood =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_abuse_client_free);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = NULL;
	Settle settle = {0};
	FdsBack back = {0};
	guint baseline;
	guint peak;
	struct rlimit own;

	/* this process opens the flood: it needs more than the flood */
	gw_abuse_raise_fd_limit();
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &own), ==, 0);
	if (own.rlim_cur < FLOOD + 200) {
		g_test_skip("this process may not open 1,300 descriptors");
		gw_test_daemon_free(d);
		return;
	}
	d->nofile_soft = GWMOD_SOFT;
	d->nofile_hard = GWMOD_HARD;
	gw_test_daemon_start(d, NULL);
	g_assert_cmpuint(one_request(port, FALSE), ==, 404);
	g_assert_cmpuint(one_request(tls_port, TRUE), ==, 404);
	baseline = gw_abuse_count_fds(gwmod_pid(d), FALSE);
	report(d, "before the flood");

	/* 1,100 connections that send nothing: more than gwmod has descriptors for */
	for (guint i = 0; i < FLOOD; i++) {
		GwAbuseClient *c = gw_abuse_client_connect_raw(port, &error);
		g_assert_no_error(error);
		g_ptr_array_add(flood, c);
	}
	settle.pid = gwmod_pid(d);
	g_assert_true(gw_abuse_wait(fds_settled, &settle, 30000));
	peak = gw_abuse_count_fds(gwmod_pid(d), FALSE);
	report(d, "with the flood open");

	/* the flood goes; the listeners serve again and gwmod gives every descriptor back */
	g_ptr_array_set_size(flood, 0);
	back.pid = gwmod_pid(d);
	back.at_most = baseline;
	g_assert_true(gw_abuse_wait(fds_back, &back, 30000));
	g_assert_cmpuint(one_request(port, FALSE), ==, 404);
	g_assert_cmpuint(one_request(tls_port, TRUE), ==, 404);
	reply = gw_test_call(d, "GetNode", g_variant_new("(s)", "./DevInfo/DevId"), NULL, &error);
	g_assert_no_error(error);
	g_assert_true(gw_abuse_wait(fds_back, &back, 10000));
	report(d, "after the flood");

	/* it ran out of descriptors at its raised limit, said so once, and recovered */
	log = gw_test_daemon_read_log(d);
	{
		g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
		for (guint i = 0; lines[i] != NULL; i++) {
			if (strstr(lines[i], "descriptor") != NULL ||
			    strstr(lines[i], "accept") != NULL)
				g_test_message("gwmod log: %s", lines[i]);
		}
	}
	g_assert_nonnull(
	    strstr(log, "raised the descriptor limit (RLIMIT_NOFILE) from 256 to 512"));
	g_assert_cmpuint(peak, >, GWMOD_HARD - 20);
	g_assert_nonnull(strstr(log, "cannot accept: Too many open files"));
	g_assert_nonnull(strstr(log, "accepts again"));
	g_assert_null(strstr(strstr(log, "cannot accept") + 1, "cannot accept"));
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

typedef struct {
	GPid pid;
	guint at_most;
} SocketsBack;

static gboolean
sockets_back(gpointer user_data)
{
	SocketsBack *b = user_data;
	return gw_abuse_count_fds(b->pid, TRUE) <= b->at_most;
}

static void
test_http_config(void)
{
	guint16 port = gw_test_free_port();
	guint16 tls_port = gw_test_free_port();
	g_autofree gchar *conf = g_strdup_printf("[northbound]\nlisten=\n"
	                                         "[southbound]\nlisten=http://127.0.0.1:%u,"
	                                         "https://127.0.0.1:%u\n"
	                                         "[http]\nheader-timeout=2\n"
	                                         "max-connections-per-peer=3\n",
	                                         port,
	                                         tls_port);
	GwTestDaemon *d = gw_test_daemon_new_with_config(conf);
	g_autoptr(GError) error = NULL;
	SocketsBack back = {0};
	gint64 start;
	gdouble seconds;

	gw_test_daemon_start(d, NULL);
	back.pid = gwmod_pid(d);
	back.at_most = gw_abuse_count_fds(back.pid, TRUE);
	report(d, "before");

	/* kept-alive connections their clients close: gwmod closes them too, long before
	 * idle-timeout (30 s) */
	for (guint i = 0; i < 20; i++) {
		g_autoptr(GwAbuseClient) c =
		    gw_abuse_client_connect(i % 2 ? tls_port : port, i % 2, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(
		    gw_abuse_request(c, "GET", "/nothing-here", NULL, TRUE, 10000), ==, 404);
		g_assert_cmpuint(
		    gw_abuse_request(c, "GET", "/nothing-here", NULL, TRUE, 10000), ==, 404);
	}
	g_assert_true(gw_abuse_wait(sockets_back, &back, 15000));
	report(d, "after 20 kept-alive connections closed by their clients");

	/* three connections that send nothing: the fourth is closed at once, the three after
	 * header-timeout */
	{
		g_autoptr(GPtrArray) silent =
		    g_ptr_array_new_with_free_func((GDestroyNotify)gw_abuse_client_free);
		g_autoptr(GwAbuseClient) fourth = NULL;

		start = g_get_monotonic_time();
		for (guint i = 0; i < 3; i++) {
			g_ptr_array_add(silent, gw_abuse_client_connect(port, FALSE, &error));
			g_assert_no_error(error);
		}
		fourth = gw_abuse_client_connect_raw(tls_port, &error);
		g_assert_no_error(error);
		g_assert_true(gw_abuse_client_wait_closed(fourth, 1500));
		for (guint i = 0; i < 3; i++) {
			GwAbuseClient *c = g_ptr_array_index(silent, i);
			g_assert_true(gw_abuse_client_wait_closed(c, 10000));
		}
		seconds = (gdouble)(g_get_monotonic_time() - start) / 1e6;
		g_test_message("silent connections closed after %.1f s", seconds);
		g_assert_cmpfloat(seconds, >=, 1.9);
	}
	g_assert_true(gw_abuse_wait(sockets_back, &back, 5000));
	report(d, "after");
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	gw_abuse_raise_fd_limit();
	g_test_add_func("/gw/dbus/listeners/emfile-flood", test_emfile_flood);
	g_test_add_func("/gw/dbus/listeners/http-config", test_http_config);
	return g_test_run();
}
