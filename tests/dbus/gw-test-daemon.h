/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Test harness: a private dbus-daemon (GTestDBus) and the real gwmod binary on it.
 */

#pragma once

#include <gio/gio.h>

typedef struct {
	GTestDBus *bus;
	GDBusConnection *connection;
	gchar *tmpdir;
	gchar *state_dir;
	gchar *config_path;
	gchar *log_path;
	GSubprocess *daemon;
	guint starts;
	gboolean quiet; /* start gwmod without --verbose (benchmarks measure what ships) */
	/* RLIMIT_NOFILE gwmod starts with (soft, hard); 0, 0: this process's */
	guint64 nofile_soft;
	guint64 nofile_hard;
} GwTestDaemon;

/* a private session bus, a temporary state dir and config (dev-id GW-TEST-0001) */
GwTestDaemon *
gw_test_daemon_new(void);
/* the same with @extra appended to the configuration (groups other than [device]/[gateway]) */
GwTestDaemon *
gw_test_daemon_new_with_config(const gchar *extra);
/* the same with another DevId (several gateways in one test, each on its own private bus) */
GwTestDaemon *
gw_test_daemon_new_with_dev_id(const gchar *dev_id, const gchar *extra);
/* starts gwmod --session with extra args (NULL-terminated), waits until it owns the name */
void
gw_test_daemon_start(GwTestDaemon *self, const gchar *const *extra_args);
void
gw_test_daemon_stop(GwTestDaemon *self);      /* SIGTERM and wait; asserts exit status 0 */
void
gw_test_daemon_kill(GwTestDaemon *self);      /* SIGKILL and wait */
gboolean
gw_test_daemon_is_running(GwTestDaemon *self);
/* the log of the current (or last) run */
gchar *
gw_test_daemon_read_log(GwTestDaemon *self);
void
gw_test_daemon_free(GwTestDaemon *self);

/* synchronous Manager call; returns NULL and sets @error on failure */
GVariant *
gw_test_call(GwTestDaemon *self,
	     const gchar *method,
	     GVariant *parameters,
	     const gchar *reply_type,
	     GError **error);
/* object path → the a{sv} of @iface, for every object of the gateway's ObjectManager that
 * has @iface (one GetManagedObjects; asserts that it succeeds) */
GHashTable *
gw_test_managed_objects(GwTestDaemon *self, const gchar *iface);
/* asserts that the call fails with the D-Bus error @error_name */
void
gw_test_assert_dbus_error(GwTestDaemon *self,
			  const gchar *method,
			  GVariant *parameters,
			  const gchar *error_name);
/*
 * A TCP port on 127.0.0.1 free right now, for a listener a test starts later (a child process,
 * or a URL that must be known in advance). Chosen at random below the kernel's ephemeral range
 * (net.ipv4.ip_local_port_range), so no socket bound to port 0 or connecting out (other tests,
 * gwmod, libsoup clients running in parallel) can take it in the meantime.
 */
guint16
gw_test_free_port(void);
/* runs gwmoctl --session ARGS… ; returns the exit status, output in @out/@err */
gint
gw_test_run_gwmoctl(GwTestDaemon *self, gchar **out, gchar **err, ...) G_GNUC_NULL_TERMINATED;
