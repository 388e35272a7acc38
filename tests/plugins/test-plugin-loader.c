/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plugin host in-process (core/link/gw-plugin-loader.c, gw-plugin-guard.c) with the test
 * modules of tests/plugins: what it loads, what it refuses and why, the order, the directories,
 * disabling, the root-only file checks, the taint, and the crash guard's quarantine.
 *
 * Argument: the directory of the built test modules. A case links the modules it wants into a
 * directory of its own (symbolic links: a module opened twice from two copies would register
 * its GType twice in this process).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw-error.h"
#include "gw-plugin-guard.h"
#include "gw-plugin-loader.h"

static gchar *modules_dir;
/* the warnings logged so far: a refused plugin is a warning, not a failure of the test */
static GPtrArray *warnings;

static GLogWriterOutput
test_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) != 0)
		return g_log_writer_default(level, fields, n_fields, user_data);
	if ((level & G_LOG_LEVEL_WARNING) == 0)
		return G_LOG_WRITER_HANDLED;
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			g_ptr_array_add(warnings, g_strdup(fields[i].value));
	}
	return G_LOG_WRITER_HANDLED;
}

/* asserts that a warning since the last call contains each of the NULL-terminated parts,
 * in this order, and forgets them */
static void
assert_warned(const gchar *first, ...)
{
	va_list args;
	guint at = 0;

	va_start(args, first);
	for (const gchar *part = first; part != NULL; part = va_arg(args, const gchar *)) {
		while (at < warnings->len && strstr(g_ptr_array_index(warnings, at), part) == NULL)
			at++;
		if (at == warnings->len)
			g_printerr("no warning contains \"%s\"\n", part);
		g_assert_cmpuint(at, <, warnings->len);
		at++;
	}
	va_end(args);
	g_ptr_array_set_size(warnings, 0);
}

typedef struct {
	gchar *dir;
	GPtrArray *attached; /* GwPlugin */
	guint detached;
	gboolean refuse;
} Fixture;

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		rm_rf(child);
	}
	g_remove(path);
}

static gchar *
module_path(const gchar *name)
{
	g_autofree gchar *file = g_strdup_printf("libgw_plugin_%s.so", name);
	return g_build_filename(modules_dir, file, NULL);
}

/* @name's module in @dir (as @as, or its own name) */
static void
link_module(const gchar *dir, const gchar *name, const gchar *as)
{
	g_autofree gchar *target = module_path(name);
	g_autofree gchar *file = g_strdup_printf("libgw_plugin_%s.so", as != NULL ? as : name);
	g_autofree gchar *link = g_build_filename(dir, file, NULL);

	g_assert_cmpint(symlink(target, link), ==, 0);
}

/* a real copy (for ownership and mode checks: such a copy is never opened) */
static gchar *
copy_module(const gchar *dir, const gchar *name, const gchar *as)
{
	g_autofree gchar *source = module_path(name);
	g_autofree gchar *file = g_strdup_printf("libgw_plugin_%s.so", as);
	gchar *copy = g_build_filename(dir, file, NULL);
	g_autofree gchar *data = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(source, &data, &len, NULL));
	g_assert_true(
	    g_file_set_contents_full(copy, data, len, G_FILE_SET_CONTENTS_NONE, 0755, NULL));
	g_assert_cmpint(g_chmod(copy, 0755), ==, 0);
	return copy;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->dir = g_dir_make_tmp("gwmo-loader-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->attached = g_ptr_array_new_with_free_func(g_object_unref);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_ptr_array_set_size(warnings, 0);
	rm_rf(f->dir);
	g_free(f->dir);
	g_ptr_array_unref(f->attached);
}

static gboolean
attach_cb(GwPlugin *plugin, gpointer user_data, GError **error)
{
	Fixture *f = user_data;

	if (f->refuse) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS, "not today");
		return FALSE;
	}
	g_ptr_array_add(f->attached, g_object_ref(plugin));
	return TRUE;
}

static void
detach_cb(GwPlugin *plugin, gpointer user_data)
{
	Fixture *f = user_data;

	g_assert_true(g_ptr_array_remove(f->attached, plugin));
	f->detached++;
}

static GwPluginLoader *
new_loader(Fixture *f)
{
	const gchar *dirs[] = {f->dir, NULL};
	GwPluginLoader *loader = gw_plugin_loader_new(dirs);

	gw_plugin_loader_set_handlers(loader, attach_cb, detach_cb, f);
	return loader;
}

static GwPluginRecord *
lookup(GwPluginLoader *loader, const gchar *name)
{
	GwPluginRecord *record = gw_plugin_loader_lookup(loader, name);
	g_assert_nonnull(record);
	return record;
}

static void
assert_state(GwPluginLoader *loader,
             const gchar *name,
             GwPluginState state,
             const gchar *error_part)
{
	GwPluginRecord *record = lookup(loader, name);
	const gchar *error = gw_plugin_record_get_error(record);

	if (gw_plugin_record_get_state(record) != state ||
	    (error_part != NULL && (error == NULL || strstr(error, error_part) == NULL)))
		g_printerr("%s: %s (%s), expected %s (%s)\n",
		           name,
		           gw_plugin_state_to_string(gw_plugin_record_get_state(record)),
		           error != NULL ? error : "no error",
		           gw_plugin_state_to_string(state),
		           error_part != NULL ? error_part : "no error");
	g_assert_cmpstr(gw_plugin_state_to_string(gw_plugin_record_get_state(record)),
	                ==,
	                gw_plugin_state_to_string(state));
	if (error_part != NULL)
		g_assert_nonnull(strstr(error, error_part));
	else
		g_assert_null(error);
}

/* a good plugin: loaded with its name, configuration and crash-guard counter, attached before
 * its startup (which reports its devices), detached and shut down at the stop */
static void
test_good(Fixture *f, gconstpointer data)
{
	g_autoptr(GwPluginLoader) loader = new_loader(f);
	g_autoptr(GKeyFile) config = g_key_file_new();
	g_autofree gchar *guard = g_build_filename(f->dir, "plugins.guard", NULL);
	g_autofree gchar *path = NULL;
	g_autofree gchar *greeting = NULL;
	GwPluginRecord *record;
	GwPlugin *plugin;

	link_module(f->dir, "good", NULL);
	g_key_file_set_string(config, "good", "greeting", "salut");
	g_key_file_set_string(config, "good", "devices", "3");
	gw_plugin_loader_set_config(loader, config, NULL);
	gw_plugin_loader_set_guard_file(loader, guard);
	gw_plugin_loader_load(loader);

	g_assert_cmpuint(gw_plugin_loader_get_records(loader)->len, ==, 1);
	record = lookup(loader, "good");
	assert_state(loader, "good", GW_PLUGIN_STATE_LOADED, NULL);
	path = g_build_filename(f->dir, "libgw_plugin_good.so", NULL);
	g_assert_cmpstr(gw_plugin_record_get_path(record), ==, path);
	g_assert_cmpstr(gw_plugin_record_get_protocol(record), ==, "TestGood");
	g_assert_cmpstr(gw_plugin_record_get_version(record), ==, "1.2.3");
	g_assert_true(gw_plugin_record_get_enabled(record));
	g_assert_true(gw_plugin_record_get_shipped(record));
	g_assert_false(gw_plugin_loader_get_tainted(loader));
	plugin = gw_plugin_record_get_plugin(record);
	g_assert_nonnull(plugin);
	g_assert_cmpstr(gw_plugin_get_name(plugin), ==, "good");
	greeting = gw_plugin_get_config_value(plugin, "greeting");
	g_assert_cmpstr(greeting, ==, "salut");
	/* nothing of the plugin ran but its instance init */
	g_assert_cmpuint(f->attached->len, ==, 0);

	gw_plugin_loader_start(loader);
	assert_state(loader, "good", GW_PLUGIN_STATE_RUNNING, NULL);
	g_assert_cmpuint(f->attached->len, ==, 1);
	g_assert_true(g_ptr_array_index(f->attached, 0) == plugin);

	gw_plugin_loader_stop(loader);
	g_assert_cmpuint(f->detached, ==, 1);
	g_assert_null(gw_plugin_record_get_plugin(record));
}

/* what the loader refuses, each with its reason; the good one runs all the same */
static void
test_refused(Fixture *f, gconstpointer data)
{
	g_autoptr(GwPluginLoader) loader = new_loader(f);
	g_autofree gchar *text = NULL;

	link_module(f->dir, "good", NULL);
	link_module(f->dir, "wrongabi", NULL);
	link_module(f->dir, "missingsym", NULL);
	link_module(f->dir, "notaplugin", NULL);
	link_module(f->dir, "abstract", NULL);
	link_module(f->dir, "failstart", NULL);
	link_module(f->dir, "noproto", NULL);
	/* a second plugin for the same protocol, and files that are no plugin names */
	link_module(f->dir, "good", "zgood");
	link_module(f->dir, "good", "bad.name");
	g_assert_true(g_file_set_contents(
	    (text = g_build_filename(f->dir, "libgw_plugin_notes.txt", NULL)), "x", 1, NULL));

	gw_plugin_loader_load(loader);
	gw_plugin_loader_start(loader);
	g_assert_cmpuint(gw_plugin_loader_get_records(loader)->len, ==, 8);
	assert_state(loader, "good", GW_PLUGIN_STATE_RUNNING, NULL);
	assert_state(loader,
	             "wrongabi",
	             GW_PLUGIN_STATE_FAILED,
	             "built for plugin API 42; this gwmod has API 1");
	assert_state(loader,
	             "missingsym",
	             GW_PLUGIN_STATE_FAILED,
	             "undefined symbol: gw_plugin_set_something_new");
	assert_state(loader,
	             "notaplugin",
	             GW_PLUGIN_STATE_FAILED,
	             "returned GObject, not a subclass of GwPlugin");
	assert_state(
	    loader, "abstract", GW_PLUGIN_STATE_FAILED, "returned GwPlugin, an abstract type");
	assert_state(
	    loader, "failstart", GW_PLUGIN_STATE_FAILED, "startup failed: the test says no");
	assert_state(loader, "noproto", GW_PLUGIN_STATE_FAILED, "names no protocol");
	assert_state(
	    loader, "zgood", GW_PLUGIN_STATE_FAILED, "protocol TestGood is served by good already");
	/* a refused plugin is never attached; a failed startup is detached again */
	g_assert_cmpuint(f->attached->len, ==, 1);
	g_assert_cmpuint(f->detached, ==, 1);
	g_assert_null(gw_plugin_record_get_plugin(lookup(loader, "failstart")));
	/* each said so, with its path */
	assert_warned("plugin abstract (",
	              "plugin missingsym (",
	              "plugin noproto (",
	              "plugin notaplugin (",
	              "plugin wrongabi (",
	              "plugin zgood (",
	              NULL);
	gw_plugin_loader_stop(loader);
}

/* records come by name; the first directory that has a name wins */
static void
test_dirs(Fixture *f, gconstpointer data)
{
	g_autofree gchar *second = g_build_filename(f->dir, "second", NULL);
	g_autofree gchar *first = g_build_filename(f->dir, "first", NULL);
	const gchar *dirs[] = {first, second, "/nonexistent/gwmo", NULL};
	g_autoptr(GwPluginLoader) loader = gw_plugin_loader_new(dirs);
	g_autofree gchar *expected = NULL;
	GPtrArray *records;

	g_assert_cmpint(g_mkdir(first, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(second, 0755), ==, 0);
	link_module(second, "good", NULL);
	link_module(second, "wrongabi", "alpha");
	link_module(first, "foreign", "good");
	gw_plugin_loader_load(loader);
	records = gw_plugin_loader_get_records(loader);
	g_assert_cmpuint(records->len, ==, 2);
	g_assert_cmpstr(gw_plugin_record_get_name(g_ptr_array_index(records, 0)), ==, "alpha");
	g_assert_cmpstr(gw_plugin_record_get_name(g_ptr_array_index(records, 1)), ==, "good");
	expected = g_build_filename(first, "libgw_plugin_good.so", NULL);
	g_assert_cmpstr(gw_plugin_record_get_path(lookup(loader, "good")), ==, expected);
	g_assert_cmpstr(gw_plugin_record_get_protocol(lookup(loader, "good")), ==, "TestForeign");
}

/* --plugin-dir, then $GWMO_PLUGIN_DIR (set but empty: none), then GW_PLUGINDIR */
static void
test_dirs_from_env(void)
{
	const gchar *option[] = {"/a", "/b", NULL};
	g_auto(GStrv) from_option = NULL;
	g_auto(GStrv) from_env = NULL;
	g_auto(GStrv) empty = NULL;
	g_auto(GStrv) fallback = NULL;

	g_setenv("GWMO_PLUGIN_DIR", "/c::/d", TRUE);
	from_option = gw_plugin_loader_dirs_from_env(option);
	g_assert_cmpstrv(from_option, option);
	from_env = gw_plugin_loader_dirs_from_env(NULL);
	g_assert_cmpstrv(from_env, ((const gchar *const[]){"/c", "/d", NULL}));
	g_setenv("GWMO_PLUGIN_DIR", "", TRUE);
	empty = gw_plugin_loader_dirs_from_env(NULL);
	g_assert_cmpuint(g_strv_length(empty), ==, 0);
	g_unsetenv("GWMO_PLUGIN_DIR");
	fallback = gw_plugin_loader_dirs_from_env(NULL);
	g_assert_cmpstrv(fallback, ((const gchar *const[]){GW_PLUGINDIR, NULL}));
}

/* disabled by configuration: never opened, cannot be enabled; disabled through Enabled: stops
 * and starts at run time */
static void
test_disabled(Fixture *f, gconstpointer data)
{
	g_autoptr(GwPluginLoader) loader = new_loader(f);
	const gchar *disabled[] = {"foreign", NULL};
	g_autoptr(GError) error = NULL;

	link_module(f->dir, "good", NULL);
	link_module(f->dir, "foreign", NULL);
	gw_plugin_loader_set_config(loader, NULL, disabled);
	gw_plugin_loader_preset_enabled(loader, "good", FALSE);
	gw_plugin_loader_load(loader);
	gw_plugin_loader_start(loader);
	assert_state(loader, "foreign", GW_PLUGIN_STATE_DISABLED, "[daemon] plugins-disabled");
	assert_state(loader, "good", GW_PLUGIN_STATE_DISABLED, "Adapters/good/Enabled");
	/* not opened: a foreign module would have tainted */
	g_assert_false(gw_plugin_loader_get_tainted(loader));
	g_assert_true(gw_plugin_record_get_locked(lookup(loader, "foreign")));
	g_assert_cmpuint(f->attached->len, ==, 0);

	g_assert_false(gw_plugin_loader_set_enabled(loader, "foreign", TRUE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED);
	g_clear_error(&error);
	g_assert_false(gw_plugin_loader_set_enabled(loader, "nosuch", TRUE, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
	g_clear_error(&error);

	g_assert_true(gw_plugin_loader_set_enabled(loader, "good", TRUE, &error));
	g_assert_no_error(error);
	assert_state(loader, "good", GW_PLUGIN_STATE_RUNNING, NULL);
	g_assert_cmpuint(f->attached->len, ==, 1);
	g_assert_true(gw_plugin_loader_set_enabled(loader, "good", FALSE, &error));
	assert_state(loader, "good", GW_PLUGIN_STATE_DISABLED, "Adapters/good/Enabled");
	g_assert_cmpuint(f->attached->len, ==, 0);
	g_assert_cmpuint(f->detached, ==, 1);
	g_assert_false(gw_plugin_record_get_enabled(lookup(loader, "good")));
	/* and again: a new instance of the resident module */
	g_assert_true(gw_plugin_loader_set_enabled(loader, "good", TRUE, &error));
	assert_state(loader, "good", GW_PLUGIN_STATE_RUNNING, NULL);
	gw_plugin_loader_stop(loader);
}

/* the gateway may refuse a plugin: it does not start */
static void
test_refused_by_gateway(Fixture *f, gconstpointer data)
{
	g_autoptr(GwPluginLoader) loader = new_loader(f);

	link_module(f->dir, "good", NULL);
	f->refuse = TRUE;
	gw_plugin_loader_load(loader);
	gw_plugin_loader_start(loader);
	assert_state(loader, "good", GW_PLUGIN_STATE_FAILED, "refused by the gateway: not today");
	g_assert_null(gw_plugin_record_get_plugin(lookup(loader, "good")));
}

/* a module not built by this build taints, once loaded */
static void
test_tainted(Fixture *f, gconstpointer data)
{
	g_autoptr(GwPluginLoader) loader = new_loader(f);

	link_module(f->dir, "good", NULL);
	link_module(f->dir, "foreign", NULL);
	gw_plugin_loader_load(loader);
	g_assert_true(gw_plugin_loader_get_tainted(loader));
	g_assert_true(gw_plugin_record_get_shipped(lookup(loader, "good")));
	g_assert_false(gw_plugin_record_get_shipped(lookup(loader, "foreign")));
}

/* NetworkManager's rules for a daemon that runs as root: a plugin file must be a regular file
 * owned by root, not group/world-writable, never setuid */
static void
test_file_checks(Fixture *f, gconstpointer data)
{
	g_autoptr(GwPluginLoader) loader = new_loader(f);
	g_autofree gchar *setuid_copy = copy_module(f->dir, "good", "setuid");
	g_autofree gchar *other_copy = copy_module(f->dir, "good", "other");
	g_autofree gchar *writable_copy = NULL;
	g_autofree gchar *group_copy = NULL;
	g_autofree gchar *fifo = g_build_filename(f->dir, "libgw_plugin_fifo.so", NULL);
	gboolean root = geteuid() == 0;

	gw_plugin_loader_set_require_root(loader, TRUE);
	g_assert_cmpint(g_chmod(setuid_copy, 04755), ==, 0);
	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	if (root) {
		/* owned by nobody */
		g_assert_cmpint(chown(other_copy, 65534, 65534), ==, 0);
		writable_copy = copy_module(f->dir, "good", "writable");
		g_assert_cmpint(g_chmod(writable_copy, 0757), ==, 0);
		group_copy = copy_module(f->dir, "good", "group");
		g_assert_cmpint(g_chmod(group_copy, 0775), ==, 0);
	}
	gw_plugin_loader_load(loader);
	assert_state(loader, "setuid", GW_PLUGIN_STATE_FAILED, "setuid");
	assert_state(loader, "fifo", GW_PLUGIN_STATE_FAILED, "not a regular file");
	assert_state(loader, "other", GW_PLUGIN_STATE_FAILED, ", not root");
	if (root) {
		assert_state(loader, "writable", GW_PLUGIN_STATE_FAILED, "writable by others");
		assert_state(loader, "group", GW_PLUGIN_STATE_FAILED, "writable by its group");
	} else {
		g_test_message("not root: group/world-writable files of root not checked");
	}
}

/* the guard file: deaths in a row while a call was in flight, quarantine at the second, a
 * clean stop or a reset forgets them, a malformed file starts afresh */
static void
test_guard(Fixture *f, gconstpointer data)
{
	g_autofree gchar *path = g_build_filename(f->dir, "plugins.guard", NULL);
	g_autoptr(GError) error = NULL;
	GwPluginGuard *guard;
	gint *counter;

	guard = gw_plugin_guard_open(path, &error);
	g_assert_no_error(error);
	counter = gw_plugin_guard_get_counter(guard, "p");
	g_assert_nonnull(counter);
	g_assert_cmpint(*counter, ==, 0);
	(*counter)++;
	/* gwmod dies: the mapping goes without a clean stop */
	gw_plugin_guard_free(guard);

	guard = gw_plugin_guard_open(path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(gw_plugin_guard_get_deaths(guard, "p"), ==, 1);
	g_assert_false(gw_plugin_guard_is_quarantined(guard, "p"));
	counter = gw_plugin_guard_get_counter(guard, "p");
	g_assert_cmpint(*counter, ==, 0);
	*counter = 3;
	gw_plugin_guard_free(guard);

	guard = gw_plugin_guard_open(path, &error);
	g_assert_cmpuint(gw_plugin_guard_get_deaths(guard, "p"), ==, 2);
	g_assert_true(gw_plugin_guard_is_quarantined(guard, "p"));
	gw_plugin_guard_free(guard);

	/* quarantine holds without new deaths */
	guard = gw_plugin_guard_open(path, &error);
	g_assert_true(gw_plugin_guard_is_quarantined(guard, "p"));
	gw_plugin_guard_reset(guard, "p");
	g_assert_false(gw_plugin_guard_is_quarantined(guard, "p"));
	/* one death, then a clean stop: the next start forgets it */
	counter = gw_plugin_guard_get_counter(guard, "p");
	(*counter)++;
	gw_plugin_guard_free(guard);
	guard = gw_plugin_guard_open(path, &error);
	g_assert_cmpuint(gw_plugin_guard_get_deaths(guard, "p"), ==, 1);
	counter = gw_plugin_guard_get_counter(guard, "p");
	(*counter)++;
	gw_plugin_guard_mark_clean(guard);
	gw_plugin_guard_free(guard);
	guard = gw_plugin_guard_open(path, &error);
	g_assert_cmpuint(gw_plugin_guard_get_deaths(guard, "p"), ==, 0);
	g_assert_false(gw_plugin_guard_is_quarantined(guard, "p"));
	gw_plugin_guard_free(guard);

	/* a name that does not fit a slot runs without a guard */
	guard = gw_plugin_guard_open(path, &error);
	g_assert_null(gw_plugin_guard_get_counter(
	    guard, "a-name-that-is-far-too-long-for-a-slot-of-the-guard-file"));
	gw_plugin_guard_free(guard);

	/* garbage: started afresh (logged) */
	g_assert_true(g_file_set_contents(path, "garbage", -1, NULL));
	guard = gw_plugin_guard_open(path, &error);
	assert_warned("has 7 bytes, not 4160: starting afresh", NULL);
	g_assert_no_error(error);
	g_assert_cmpuint(gw_plugin_guard_get_deaths(guard, "p"), ==, 0);
	gw_plugin_guard_free(guard);
}

/* the loader and the guard: a plugin with a call in flight when "gwmod died" twice is
 * quarantined at the next load, with how to lift it; a reset loads and starts it */
static void
test_quarantine(Fixture *f, gconstpointer data)
{
	g_autofree gchar *path = g_build_filename(f->dir, "plugins.guard", NULL);
	/* the loaders of the runs that "died": never stopped nor freed while the test looks */
	g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GwDeviceCommand) cmd =
	    gw_device_command_new(GW_DEVICE_OP_GET, "./Test/Value", NULL, NULL, NULL);

	link_module(f->dir, "good", NULL);
	for (guint run = 0; run < 3; run++) {
		g_autoptr(GwPluginLoader) loader = new_loader(f);
		GwPlugin *plugin;

		gw_plugin_loader_set_guard_file(loader, path);
		gw_plugin_loader_load(loader);
		if (run == 1)
			assert_warned("call into plugin good was in flight (1 time in a row)",
			              NULL);
		if (run < 2) {
			assert_state(loader, "good", GW_PLUGIN_STATE_LOADED, NULL);
			/* a call in flight (never dispatched: no main loop runs here) when the
			 * process goes */
			plugin = gw_plugin_record_get_plugin(lookup(loader, "good"));
			gw_plugin_run_command_async(plugin, "x", cmd, 0, NULL, NULL, NULL);
			g_assert_cmpint(gw_plugin_get_calls_in_flight(plugin), ==, 1);
			g_ptr_array_add(dead, g_steal_pointer(&loader));
			continue;
		}
		assert_warned("call into plugin good was in flight (2 times in a row)",
		              "plugin good is quarantined",
		              "plugin good not loaded: quarantined",
		              NULL);
		assert_state(loader,
		             "good",
		             GW_PLUGIN_STATE_QUARANTINED,
		             "'gwmoctl plugins reset good' loads it again");
		g_assert_null(gw_plugin_record_get_plugin(lookup(loader, "good")));
		g_assert_true(gw_plugin_loader_reset(loader, "good", NULL));
		assert_state(loader, "good", GW_PLUGIN_STATE_RUNNING, NULL);
		gw_plugin_loader_stop(loader);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(argc, ==, 2);
	modules_dir = g_canonicalize_filename(argv[1], NULL);
	warnings = g_ptr_array_new_with_free_func(g_free);
	g_log_set_writer_func(test_writer, NULL, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/plugin-loader/good", test_good);
	ADD("/plugin-loader/refused", test_refused);
	ADD("/plugin-loader/dirs", test_dirs);
	g_test_add_func("/plugin-loader/dirs-from-env", test_dirs_from_env);
	ADD("/plugin-loader/disabled", test_disabled);
	ADD("/plugin-loader/refused-by-gateway", test_refused_by_gateway);
	ADD("/plugin-loader/tainted", test_tainted);
	ADD("/plugin-loader/file-checks", test_file_checks);
	ADD("/plugin-loader/guard", test_guard);
	ADD("/plugin-loader/quarantine", test_quarantine);
#undef ADD
	return g_test_run();
}
