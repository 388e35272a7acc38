/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmod: options, logging, main loop. Everything else lives in the core library.
 */

#define G_LOG_DOMAIN "GwMain"

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "gw-config.h"
#include "gw-dbus-service.h"
#include "gw-gateway.h"
#include "gw-log-private.h"
#include "gw-plugin-loader.h"

typedef struct {
	GMainLoop *loop;
	gint exit_code;
	const gchar *config_path;
	gboolean verbose;
	const gchar *debug_domains_option; /* nullable: --debug-domains */
} GwMainContext;

/* SIGHUP (systemctl reload): re-read the configuration for what can change at run time, the
 * log settings; everything else needs a restart, and the log says so */
static gboolean
gw_main_reload_cb(gpointer user_data)
{
	GwMainContext *ctx = user_data;
	g_autoptr(GwConfig) config = gw_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *domains = NULL;

	if (!gw_config_load(config, ctx->config_path, &error)) {
		g_warning("reload: %s; keeping the running configuration", error->message);
		return G_SOURCE_CONTINUE;
	}
	domains = ctx->debug_domains_option != NULL
	              ? g_strdup(ctx->debug_domains_option)
	              : gw_config_get_string(config, "daemon", "debug-domains");
	gw_log_setup(ctx->verbose, domains);
	g_message("reloaded %s: log settings applied; listeners, state and device settings "
	          "change on restart",
	          ctx->config_path);
	return G_SOURCE_CONTINUE;
}

/* every connection to a listener is a descriptor: the soft limit (1,024 by default, for select()
 * users; gwmod polls) goes up to the hard one, as systemd recommends for daemons that need it */
static void
gw_main_raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t old;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		g_warning("cannot read the descriptor limit: %s", g_strerror(errno));
		return;
	}
	if (rl.rlim_cur >= rl.rlim_max) {
		g_info("descriptor limit (RLIMIT_NOFILE): %ju", (uintmax_t)rl.rlim_cur);
		return;
	}
	old = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		g_warning("cannot raise the descriptor limit from %ju to %ju: %s",
		          (uintmax_t)old,
		          (uintmax_t)rl.rlim_max,
		          g_strerror(errno));
		return;
	}
	g_info("raised the descriptor limit (RLIMIT_NOFILE) from %ju to %ju",
	       (uintmax_t)old,
	       (uintmax_t)rl.rlim_cur);
}

static gboolean
gw_main_signal_cb(gpointer user_data)
{
	GwMainContext *ctx = user_data;
	g_message("stopping on signal");
	g_main_loop_quit(ctx->loop);
	return G_SOURCE_CONTINUE;
}

static void
gw_main_quit_cb(GwDbusService *service, gpointer user_data)
{
	GwMainContext *ctx = user_data;
	ctx->exit_code = EXIT_FAILURE;
	g_main_loop_quit(ctx->loop);
}

int
main(int argc, char **argv)
{
	gboolean opt_session = FALSE;
	gboolean opt_system = FALSE;
	gboolean opt_verbose = FALSE;
	gboolean opt_version = FALSE;
	gboolean opt_print_config = FALSE;
	g_autofree gchar *opt_config = NULL;
	g_autofree gchar *opt_state_dir = NULL;
	g_autofree gchar *opt_bootstrap = NULL;
	g_autofree gchar *opt_debug_domains = NULL;
	g_auto(GStrv) opt_plugin_dirs = NULL;
	g_auto(GStrv) plugin_dirs = NULL;
	g_autofree gchar *state_dir = NULL;
	g_autofree gchar *config_debug = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwConfig) config = NULL;
	g_autoptr(GwGateway) gateway = NULL;
	g_autoptr(GwDbusService) service = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	GwMainContext ctx = {0};
	const GOptionEntry entries[] = {
	    {"session",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &opt_session,
	     "Use the session bus (development and tests)",
	     NULL},
	    {"system", 0, 0, G_OPTION_ARG_NONE, &opt_system, "Use the system bus (default)", NULL},
	    {"config",
	     'c',
	     0,
	     G_OPTION_ARG_FILENAME,
	     &opt_config,
	     "Configuration file (default " GW_CONFDIR "/gwmod.conf)",
	     "FILE"},
	    {"state-dir",
	     's',
	     0,
	     G_OPTION_ARG_FILENAME,
	     &opt_state_dir,
	     "State directory (default $STATE_DIRECTORY or " GW_STATEDIR ")",
	     "DIR"},
	    {"bootstrap",
	     'b',
	     0,
	     G_OPTION_ARG_FILENAME,
	     &opt_bootstrap,
	     "Apply a factory bootstrap (TNDS file) at start",
	     "FILE"},
	    {"plugin-dir",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME_ARRAY,
	     &opt_plugin_dirs,
	     "Load plugins from DIR (repeatable) instead of $GWMO_PLUGIN_DIR or " GW_PLUGINDIR,
	     "DIR"},
	    {"verbose",
	     'v',
	     0,
	     G_OPTION_ARG_NONE,
	     &opt_verbose,
	     "Log informational messages",
	     NULL},
	    {"debug-domains",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_debug_domains,
	     "Log debug messages of these domains (comma separated, or \"all\")",
	     "DOMAINS"},
	    {"print-config",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &opt_print_config,
	     "Print the effective configuration and exit",
	     NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL},
	    {NULL}};

	/* without TZ, glibc stats /etc/localtime for every local time conversion, i.e. for every
	 * log line's timestamp (2% of gwmod's CPU per DM session in perf); ":/etc/localtime" is
	 * the same zone, read once (as systemd units often set it). Before any thread starts. */
	if (g_getenv("TZ") == NULL)
		g_setenv("TZ", ":/etc/localtime", FALSE);
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");

	context = g_option_context_new(NULL);
	g_option_context_set_summary(context,
	                             "The gwmo OMA DM Gateway daemon (GwMO 1.0). It holds the "
	                             "gateway's DM tree and serves it on D-Bus as "
	                             "org.gwmo.Gateway1.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("gwmod: %s\n", error->message);
		return 2;
	}
	if (opt_version) {
		g_print("gwmod %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (opt_session && opt_system) {
		g_printerr("gwmod: --session and --system exclude each other\n");
		return 2;
	}

	config = gw_config_new();
	if (!gw_config_load(
	        config, opt_config != NULL ? opt_config : GW_CONFDIR "/gwmod.conf", &error)) {
		g_printerr("gwmod: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (opt_print_config) {
		g_autofree gchar *data = gw_config_to_data(config);
		g_print("%s", data);
		return EXIT_SUCCESS;
	}
	config_debug = gw_config_get_string(config, "daemon", "debug-domains");
	ctx.debug_domains_option = opt_debug_domains;
	gw_log_setup(opt_verbose, opt_debug_domains != NULL ? opt_debug_domains : config_debug);
	gw_main_raise_fd_limit();

	if (opt_state_dir != NULL)
		state_dir = g_strdup(opt_state_dir);
	else if (g_getenv("STATE_DIRECTORY") != NULL)
		state_dir = g_strdup(g_getenv("STATE_DIRECTORY"));
	else
		state_dir = gw_config_get_string(config, "daemon", "state-dir");

	gateway = gw_gateway_new(config, state_dir);
	plugin_dirs = gw_plugin_loader_dirs_from_env((const gchar *const *)opt_plugin_dirs);
	gw_gateway_set_plugin_dirs(gateway, (const gchar *const *)plugin_dirs);
	if (!gw_gateway_setup(gateway, &error)) {
		g_printerr("gwmod: cannot start: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (opt_bootstrap != NULL && !gw_gateway_bootstrap_file(gateway, opt_bootstrap, &error)) {
		g_printerr("gwmod: %s\n", error->message);
		return EXIT_FAILURE;
	}

	if (!gw_gateway_start_network(gateway, &error)) {
		g_printerr("gwmod: %s\n", error->message);
		return EXIT_FAILURE;
	}

	loop = g_main_loop_new(NULL, FALSE);
	ctx.loop = loop;
	ctx.exit_code = EXIT_SUCCESS;
	ctx.config_path = opt_config != NULL ? opt_config : GW_CONFDIR "/gwmod.conf";
	ctx.verbose = opt_verbose;
	g_unix_signal_add(SIGTERM, gw_main_signal_cb, &ctx);
	g_unix_signal_add(SIGINT, gw_main_signal_cb, &ctx);
	g_unix_signal_add(SIGHUP, gw_main_reload_cb, &ctx);
	/* the D-Bus face exports the gateway */
	service = gw_dbus_service_new(gateway);
	g_signal_connect(service, "quit", G_CALLBACK(gw_main_quit_cb), &ctx);
	gw_dbus_service_start(service, opt_session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM);
	g_main_loop_run(loop);

	if (!gw_gateway_shutdown(gateway, &error)) {
		g_warning("cannot store the DM tree on exit: %s", error->message);
		ctx.exit_code = EXIT_FAILURE;
	}
	g_signal_handlers_disconnect_by_data(service, &ctx);
	g_clear_object(&service);
	g_message("stopped");
	return ctx.exit_code;
}
