/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw-upnp-test.h"

gboolean
gw_upnp_test_enter_netns(gchar **why_not)
{
	struct ifreq req;
	int fd;

	if (geteuid() != 0) {
		*why_not = g_strdup("needs root for a network namespace of its own");
		return FALSE;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		*why_not = g_strdup_printf("no network namespace: unshare: %s", g_strerror(errno));
		return FALSE;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why_not = g_strdup_printf("socket: %s", g_strerror(errno));
		return FALSE;
	}
	memset(&req, 0, sizeof(req));
	g_strlcpy(req.ifr_name, "lo", sizeof(req.ifr_name));
	if (ioctl(fd, SIOCGIFFLAGS, &req) != 0) {
		*why_not = g_strdup_printf("lo: %s", g_strerror(errno));
		close(fd);
		return FALSE;
	}
	req.ifr_flags |= IFF_UP | IFF_MULTICAST;
	if (ioctl(fd, SIOCSIFFLAGS, &req) != 0) {
		*why_not = g_strdup_printf("lo up: %s", g_strerror(errno));
		close(fd);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

/* ---- children ---- */

static void
gw_upnp_child_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwUpnpChild *child = user_data;
	g_autoptr(GError) error = NULL;
	gchar *line = g_data_input_stream_read_line_finish_utf8(
	    G_DATA_INPUT_STREAM(source), res, NULL, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (line == NULL) {
		child->eof = TRUE;
		return;
	}
	g_test_message("child: %s", line);
	g_ptr_array_add(child->lines, line);
	g_data_input_stream_read_line_async(
	    child->out, G_PRIORITY_DEFAULT, child->cancellable, gw_upnp_child_read_cb, child);
}

/* in the child: die with the test, even when it aborts (a light left running would hold the
 * test runner's pipes and the namespace) */
static void
gw_upnp_child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GwUpnpChild *
gw_upnp_child_spawn(const gchar *const *argv, const gchar *const *env, GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE);
	GwUpnpChild *child;
	GSubprocess *process;

	g_subprocess_launcher_set_child_setup(launcher, gw_upnp_child_setup, NULL, NULL);
	for (guint i = 0; env != NULL && env[i] != NULL; i++) {
		g_auto(GStrv) kv = g_strsplit(env[i], "=", 2);
		g_subprocess_launcher_setenv(launcher, kv[0], kv[1] != NULL ? kv[1] : "", TRUE);
	}
	process = g_subprocess_launcher_spawnv(launcher, argv, error);
	if (process == NULL)
		return NULL;
	child = g_new0(GwUpnpChild, 1);
	child->process = process;
	child->cancellable = g_cancellable_new();
	child->lines = g_ptr_array_new_with_free_func(g_free);
	child->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(process));
	g_data_input_stream_read_line_async(
	    child->out, G_PRIORITY_DEFAULT, child->cancellable, gw_upnp_child_read_cb, child);
	return child;
}

typedef struct {
	GwUpnpChild *child;
	guint from;
	const gchar *prefix;
	gint found;
} GwUpnpLineWait;

static gboolean
gw_upnp_line_found(gpointer data)
{
	GwUpnpLineWait *w = data;

	for (guint i = w->from; w->found < 0 && i < w->child->lines->len; i++) {
		if (g_str_has_prefix(g_ptr_array_index(w->child->lines, i), w->prefix))
			w->found = (gint)i;
	}
	return w->found >= 0 || w->child->eof;
}

const gchar *
gw_upnp_child_wait_line(GwUpnpChild *child,
                        guint from,
                        const gchar *prefix,
                        guint timeout_s,
                        guint *index)
{
	GwUpnpLineWait w = {child, from, prefix, -1};

	gw_plugin_kit_wait(gw_upnp_line_found, &w, timeout_s);
	if (w.found < 0)
		return NULL;
	if (index != NULL)
		*index = (guint)w.found;
	return g_ptr_array_index(child->lines, (guint)w.found);
}

guint
gw_upnp_child_count(GwUpnpChild *child, const gchar *prefix)
{
	guint n = 0;

	for (guint i = 0; i < child->lines->len; i++) {
		if (g_str_has_prefix(g_ptr_array_index(child->lines, i), prefix))
			n++;
	}
	return n;
}

static void
gw_upnp_child_waited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *done = user_data;

	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	*done = TRUE;
}

static gboolean
gw_upnp_flag_set(gpointer data)
{
	return *(gboolean *)data;
}

gint
gw_upnp_child_stop(GwUpnpChild *child, gint signum)
{
	gboolean done = FALSE;

	if (signum != 0)
		g_subprocess_send_signal(child->process, signum);
	g_subprocess_wait_async(child->process, NULL, gw_upnp_child_waited_cb, &done);
	if (!gw_plugin_kit_wait(gw_upnp_flag_set, &done, 10)) {
		g_subprocess_force_exit(child->process);
		gw_plugin_kit_wait(gw_upnp_flag_set, &done, 10);
	}
	/* the last lines it printed */
	while (!child->eof && g_main_context_iteration(NULL, FALSE))
		;
	return g_subprocess_get_status(child->process);
}

void
gw_upnp_child_free(GwUpnpChild *child)
{
	if (child == NULL)
		return;
	if (g_subprocess_get_identifier(child->process) != NULL)
		gw_upnp_child_stop(child, SIGKILL);
	g_cancellable_cancel(child->cancellable);
	g_object_unref(child->cancellable);
	g_object_unref(child->out);
	g_object_unref(child->process);
	g_ptr_array_unref(child->lines);
	if (child->state_dir != NULL) {
		g_autoptr(GDir) dir = g_dir_open(child->state_dir, 0, NULL);
		const gchar *name;
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *path = g_build_filename(child->state_dir, name, NULL);
			g_unlink(path);
		}
		g_rmdir(child->state_dir);
		g_free(child->state_dir);
	}
	g_free(child);
}

GwUpnpChild *
gw_upnp_test_light(const gchar *udn, guint max_age, gchar **location)
{
	g_autofree gchar *age = g_strdup_printf("--max-age=%u", max_age);
	g_autofree gchar *udn_arg = g_strdup_printf("--udn=%s", udn);
	g_autofree gchar *state_dir = g_dir_make_tmp("gwmo-light-XXXXXX", NULL);
	g_autofree gchar *state_arg = g_strdup_printf("--state-dir=%s", state_dir);
	const gchar *argv[] = {
	    g_getenv("GWMO_TEST_LIGHT"), "--interface=lo", udn_arg, age, state_arg, NULL};
	g_autoptr(GError) error = NULL;
	GwUpnpChild *light;
	const gchar *ready;
	g_autofree gchar *prefix = g_strdup_printf("READY %s ", udn);

	g_assert_nonnull(argv[0]);
	g_assert_nonnull(state_dir);
	light = gw_upnp_child_spawn(argv, NULL, &error);
	g_assert_no_error(error);
	light->state_dir = g_steal_pointer(&state_dir);
	ready = gw_upnp_child_wait_line(light, 0, prefix, 30, NULL);
	g_assert_nonnull(ready);
	if (location != NULL)
		*location = g_strdup(ready + strlen(prefix));
	return light;
}

GwUpnpChild *
gw_upnp_test_xvfb(gchar **display, gchar **why_not)
{
	g_autofree gchar *light_path = g_find_program_in_path("gupnp-network-light");
	g_autofree gchar *xvfb_path = g_find_program_in_path("Xvfb");
	g_autoptr(GError) error = NULL;
	GwUpnpChild *xvfb;

	if (light_path == NULL || xvfb_path == NULL) {
		*why_not =
		    g_strdup("gupnp-network-light or Xvfb is not installed (gupnp-tools, xvfb)");
		return NULL;
	}
	{
		/* Xvfb picks a free display and prints its number */
		const gchar *argv[] = {xvfb_path,
		                       "-displayfd",
		                       "1",
		                       "-nolisten",
		                       "tcp",
		                       "-screen",
		                       "0",
		                       "640x480x24",
		                       NULL};
		xvfb = gw_upnp_child_spawn(argv, NULL, &error);
	}
	g_assert_no_error(error);
	*display = g_strdup(gw_upnp_child_wait_line(xvfb, 0, "", 30, NULL));
	g_assert_nonnull(*display);
	return xvfb;
}

GwUpnpChild *
gw_upnp_test_network_light(const gchar *display)
{
	g_autofree gchar *light_path = g_find_program_in_path("gupnp-network-light");
	g_autofree gchar *display_env = g_strdup_printf("DISPLAY=:%s", display);
	g_autoptr(GError) error = NULL;
	const gchar *argv[] = {
	    light_path, "-i", "lo", "-4", "--no-v6", "-x", "-n", "gwmo network light", NULL};
	const gchar *env[] = {display_env, "NO_AT_BRIDGE=1", "GSETTINGS_BACKEND=memory", NULL};
	GwUpnpChild *light;

	g_assert_nonnull(light_path);
	light = gw_upnp_child_spawn(argv, env, &error);
	g_assert_no_error(error);
	return light;
}
