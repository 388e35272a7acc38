/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwPluginLoader"

#include "config.h"

#include <errno.h>
#include <gmodule.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw-error.h"
#include "gw-plugin-guard.h"
#include "gw-plugin-loader.h"

#define GW_PLUGIN_FILE_PREFIX "libgw_plugin_"
#define GW_PLUGIN_FILE_SUFFIX "." G_MODULE_SUFFIX
/* the protocol of the built-in OMA DM adapter */
#define GW_PLUGIN_RESERVED_PROTOCOL "OMA-DM"

struct _GwPluginRecord {
	gchar *name;
	gchar *path;
	GwPluginState state;
	gchar *error;
	gchar *protocol;
	gchar *version;
	gboolean enabled;
	gboolean locked;  /* disabled in gwmod.conf */
	gboolean shipped; /* carries this build's id */
	GModule *module;  /* resident once opened; NULL before */
	GType type;
	GwPlugin *plugin; /* while Loaded or Running */
	gint *counter;    /* the crash guard's slot, NULL without */
};

struct _GwPluginLoader {
	GObject parent_instance;
	gchar **dirs;
	GKeyFile *config; /* gwmod.conf: each plugin reads its group */
	gchar **disabled; /* by configuration */
	GHashTable *preset_disabled;
	gchar *guard_path;
	GwPluginGuard *guard;
	gboolean require_root;
	gboolean loaded;
	gboolean tainted;
	GPtrArray *records; /* GwPluginRecord, by name */
	GwPluginAttachFunc attach;
	GwPluginDetachFunc detach;
	gpointer handlers_data;
};

G_DEFINE_TYPE(GwPluginLoader, gw_plugin_loader, G_TYPE_OBJECT)

enum { SIGNAL_PLUGIN_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

const gchar *
gw_plugin_state_to_string(GwPluginState state)
{
	switch (state) {
	case GW_PLUGIN_STATE_LOADED:
		return "Loaded";
	case GW_PLUGIN_STATE_RUNNING:
		return "Running";
	case GW_PLUGIN_STATE_FAILED:
		return "Failed";
	case GW_PLUGIN_STATE_DISABLED:
		return "Disabled";
	case GW_PLUGIN_STATE_QUARANTINED:
		return "Quarantined";
	default:
		return "Failed";
	}
}

/* ---- records ---- */

const gchar *
gw_plugin_record_get_name(GwPluginRecord *record)
{
	return record->name;
}

const gchar *
gw_plugin_record_get_path(GwPluginRecord *record)
{
	return record->path;
}

GwPluginState
gw_plugin_record_get_state(GwPluginRecord *record)
{
	return record->state;
}

const gchar *
gw_plugin_record_get_error(GwPluginRecord *record)
{
	return record->error;
}

const gchar *
gw_plugin_record_get_protocol(GwPluginRecord *record)
{
	return record->protocol != NULL ? record->protocol : "";
}

const gchar *
gw_plugin_record_get_version(GwPluginRecord *record)
{
	return record->version != NULL ? record->version : "";
}

gboolean
gw_plugin_record_get_enabled(GwPluginRecord *record)
{
	return record->enabled;
}

gboolean
gw_plugin_record_get_locked(GwPluginRecord *record)
{
	return record->locked;
}

gboolean
gw_plugin_record_get_shipped(GwPluginRecord *record)
{
	return record->shipped;
}

GwPlugin *
gw_plugin_record_get_plugin(GwPluginRecord *record)
{
	return record->plugin;
}

static void
gw_plugin_record_free(GwPluginRecord *record)
{
	if (record->plugin != NULL) {
		gw_plugin_set_call_counter(record->plugin, NULL);
		g_object_unref(record->plugin);
	}
	g_free(record->name);
	g_free(record->path);
	g_free(record->error);
	g_free(record->protocol);
	g_free(record->version);
	g_free(record);
}

static gint
gw_plugin_record_compare(gconstpointer a, gconstpointer b)
{
	const GwPluginRecord *ra = *(const GwPluginRecord *const *)a;
	const GwPluginRecord *rb = *(const GwPluginRecord *const *)b;
	return g_strcmp0(ra->name, rb->name);
}

static void
gw_plugin_loader_set_state(GwPluginLoader *self,
                           GwPluginRecord *record,
                           GwPluginState state,
                           const gchar *error)
{
	if (record->state == state && g_strcmp0(record->error, error) == 0)
		return;
	record->state = state;
	g_free(record->error);
	record->error = g_strdup(error);
	g_signal_emit(self, signals[SIGNAL_PLUGIN_CHANGED], 0, record->name);
}

/* the record fails for @reason (logged) */
static void
gw_plugin_loader_fail(GwPluginLoader *self, GwPluginRecord *record, const gchar *reason)
{
	g_warning("plugin %s (%s) not loaded: %s", record->name, record->path, reason);
	gw_plugin_loader_set_state(self, record, GW_PLUGIN_STATE_FAILED, reason);
}

/* the instance goes (after a failed start, a shutdown, a failed check) */
static void
gw_plugin_loader_drop_instance(GwPluginRecord *record)
{
	if (record->plugin == NULL)
		return;
	gw_plugin_set_call_counter(record->plugin, NULL);
	g_clear_object(&record->plugin);
}

/* ---- directories ---- */

gchar **
gw_plugin_loader_dirs_from_env(const gchar *const *option_dirs)
{
	const gchar *env = g_getenv("GWMO_PLUGIN_DIR");
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	if (option_dirs != NULL && option_dirs[0] != NULL)
		return g_strdupv((gchar **)option_dirs);
	if (env != NULL) {
		g_auto(GStrv) parts = g_strsplit(env, ":", -1);
		for (guint i = 0; parts[i] != NULL; i++) {
			if (parts[i][0] != '\0')
				g_strv_builder_add(builder, parts[i]);
		}
		return g_strv_builder_end(builder);
	}
	g_strv_builder_add(builder, GW_PLUGINDIR);
	return g_strv_builder_end(builder);
}

/* "upnp" from "libgw_plugin_upnp.so"; NULL when the name is not one */
static gchar *
gw_plugin_loader_name_of(const gchar *filename)
{
	gsize len = strlen(filename);
	gsize prefix = strlen(GW_PLUGIN_FILE_PREFIX);
	gsize suffix = strlen(GW_PLUGIN_FILE_SUFFIX);
	g_autofree gchar *name = NULL;

	if (!g_str_has_prefix(filename, GW_PLUGIN_FILE_PREFIX) ||
	    !g_str_has_suffix(filename, GW_PLUGIN_FILE_SUFFIX) || len <= prefix + suffix)
		return NULL;
	name = g_strndup(filename + prefix, len - prefix - suffix);
	if (strlen(name) > GW_PLUGIN_GUARD_NAME_MAX)
		return NULL;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return NULL;
	}
	return g_steal_pointer(&name);
}

/* ---- loading one ---- */

/* NetworkManager's nm_utils_validate_plugin(), for a gwmod that runs as root: nothing that
 * someone other than root could have written */
static gboolean
gw_plugin_loader_validate_file(GwPluginLoader *self, const gchar *path, GError **error)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		gint saved = errno;
		g_set_error(error, GW_ERROR, GW_ERROR_FAILED, "cannot stat: %s", g_strerror(saved));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PERMISSION_DENIED, "not a regular file");
		return FALSE;
	}
	if (st.st_mode & (S_ISUID | S_ISGID)) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PERMISSION_DENIED, "setuid or setgid");
		return FALSE;
	}
	if (!self->require_root)
		return TRUE;
	if (st.st_uid != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "owned by uid %u, not root",
		            (guint)st.st_uid);
		return FALSE;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "writable by %s (mode %04o)",
		            (st.st_mode & S_IWOTH) ? "others" : "its group",
		            (guint)(st.st_mode & 07777));
		return FALSE;
	}
	return TRUE;
}

/* opens the module once: the ABI check before anything of it is called, resident after it */
static gboolean
gw_plugin_loader_open_module(GwPluginLoader *self, GwPluginRecord *record, GError **error)
{
	GModule *module;
	gpointer symbol = NULL;
	guint32 api_version;
	GType (*query_type)(void) = NULL;
	g_autofree gchar *build_id = NULL;

	if (record->module != NULL)
		return TRUE;
	if (!gw_plugin_loader_validate_file(self, record->path, error))
		return FALSE;
	/* not G_MODULE_BIND_LAZY: a symbol the SDK does not have fails now, with its name */
	module = g_module_open(record->path, G_MODULE_BIND_LOCAL);
	if (module == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_SUPPORTED, "%s", g_module_error());
		return FALSE;
	}
	if (!g_module_symbol(module, "gw_plugin_api_version", &symbol) || symbol == NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_NOT_SUPPORTED,
		                    "no gw_plugin_api_version: not a gwmo plugin "
		                    "(GW_PLUGIN_DEFINE_MODULE)");
		g_module_close(module);
		return FALSE;
	}
	api_version = *(const guint32 *)symbol;
	if (api_version != GW_PLUGIN_API_VERSION) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "built for plugin API %u; this gwmod has API %u",
		            api_version,
		            (guint)GW_PLUGIN_API_VERSION);
		g_module_close(module);
		return FALSE;
	}
	if (!g_module_symbol(module, "gw_plugin_query_type", (gpointer *)&query_type) ||
	    query_type == NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_NOT_SUPPORTED,
		                    "no gw_plugin_query_type (GW_PLUGIN_DEFINE_MODULE)");
		g_module_close(module);
		return FALSE;
	}
	/* from here its GTypes may be registered: they cannot be unloaded (gnome-software) */
	g_module_make_resident(module);
	record->module = module;

	g_free(gw_plugin_module_take_build_id());
	record->type = query_type();
	build_id = gw_plugin_module_take_build_id();
	record->shipped = g_strcmp0(build_id, GW_BUILD_ID) == 0;
	if (!record->shipped && !self->tainted) {
		self->tainted = TRUE;
		g_message("plugin %s was not built with this gwmod: tainted", record->name);
	}
	return TRUE;
}

/* a protocol another loaded plugin already serves, or the built-in one */
static const gchar *
gw_plugin_loader_protocol_owner(GwPluginLoader *self, GwPluginRecord *record, const gchar *protocol)
{
	if (g_strcmp0(protocol, GW_PLUGIN_RESERVED_PROTOCOL) == 0)
		return "gwmod's built-in adapter";
	for (guint i = 0; i < self->records->len; i++) {
		GwPluginRecord *other = g_ptr_array_index(self->records, i);
		if (other != record && other->plugin != NULL &&
		    g_strcmp0(other->protocol, protocol) == 0)
			return other->name;
	}
	return NULL;
}

/* the whole way from a file to an instance (state Loaded), or the reason it stops */
static void
gw_plugin_loader_load_one(GwPluginLoader *self, GwPluginRecord *record)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwPlugin) plugin = NULL;
	const gchar *protocol;
	const gchar *owner;

	if (record->plugin != NULL)
		return;
	if (record->locked) {
		gw_plugin_loader_set_state(self,
		                           record,
		                           GW_PLUGIN_STATE_DISABLED,
		                           "disabled in gwmod.conf ([daemon] plugins-disabled)");
		return;
	}
	if (!record->enabled) {
		g_autofree gchar *why =
		    g_strdup_printf("disabled (./GwMO/Config/Adapters/%s/Enabled)", record->name);
		gw_plugin_loader_set_state(self, record, GW_PLUGIN_STATE_DISABLED, why);
		return;
	}
	if (self->guard != NULL && gw_plugin_guard_is_quarantined(self->guard, record->name)) {
		g_autofree gchar *why = g_strdup_printf(
		    "quarantined: gwmod stopped %u times in a row while a call into it was in "
		    "flight; 'gwmoctl plugins reset %s' loads it again (or delete %s while "
		    "gwmod is stopped)",
		    gw_plugin_guard_get_deaths(self->guard, record->name),
		    record->name,
		    gw_plugin_guard_get_path(self->guard));
		g_warning("plugin %s not loaded: %s", record->name, why);
		gw_plugin_loader_set_state(self, record, GW_PLUGIN_STATE_QUARANTINED, why);
		return;
	}
	if (!gw_plugin_loader_open_module(self, record, &error)) {
		gw_plugin_loader_fail(self, record, error->message);
		return;
	}
	if (!g_type_is_a(record->type, GW_TYPE_PLUGIN)) {
		g_autofree gchar *why = g_strdup_printf(
		    "gw_plugin_query_type() returned %s, not a subclass of GwPlugin",
		    record->type != G_TYPE_INVALID ? g_type_name(record->type) : "G_TYPE_INVALID");
		gw_plugin_loader_fail(self, record, why);
		return;
	}
	if (G_TYPE_IS_ABSTRACT(record->type)) {
		g_autofree gchar *why =
		    g_strdup_printf("gw_plugin_query_type() returned %s, an abstract type",
		                    g_type_name(record->type));
		gw_plugin_loader_fail(self, record, why);
		return;
	}
	plugin = g_object_new(record->type, NULL);
	gw_plugin_set_name(plugin, record->name);
	gw_plugin_set_config(plugin, self->config);
	protocol = gw_plugin_get_protocol(plugin);
	g_free(record->protocol);
	record->protocol = g_strdup(protocol);
	g_free(record->version);
	record->version = g_strdup(gw_plugin_get_version(plugin));
	if (protocol == NULL || protocol[0] == '\0') {
		gw_plugin_loader_fail(self,
		                      record,
		                      "it names no protocol (gw_plugin_set_protocol() in its "
		                      "instance init)");
		return;
	}
	owner = gw_plugin_loader_protocol_owner(self, record, protocol);
	if (owner != NULL) {
		g_autofree gchar *why =
		    g_strdup_printf("protocol %s is served by %s already", protocol, owner);
		gw_plugin_loader_fail(self, record, why);
		return;
	}
	if (self->guard != NULL && record->counter == NULL)
		record->counter = gw_plugin_guard_get_counter(self->guard, record->name);
	gw_plugin_set_call_counter(plugin, record->counter);
	record->plugin = g_steal_pointer(&plugin);
	g_info("plugin %s %s (%s) loaded from %s%s",
	       record->name,
	       gw_plugin_record_get_version(record),
	       record->protocol,
	       record->path,
	       record->shipped ? "" : ", not built with this gwmod");
	gw_plugin_loader_set_state(self, record, GW_PLUGIN_STATE_LOADED, NULL);
}

/* startup() of a Loaded plugin; the gateway takes it first, so that what startup() reports
 * finds it listening */
static void
gw_plugin_loader_start_one(GwPluginLoader *self, GwPluginRecord *record)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwPlugin) plugin = NULL;

	if (record->state != GW_PLUGIN_STATE_LOADED || record->plugin == NULL)
		return;
	plugin = g_object_ref(record->plugin);
	if (self->attach != NULL && !self->attach(plugin, self->handlers_data, &error)) {
		g_autofree gchar *why =
		    g_strdup_printf("refused by the gateway: %s", error->message);
		gw_plugin_loader_drop_instance(record);
		g_warning("plugin %s (%s) not started: %s", record->name, record->path, why);
		gw_plugin_loader_set_state(self, record, GW_PLUGIN_STATE_FAILED, why);
		return;
	}
	if (!gw_plugin_startup(plugin, &error)) {
		g_autofree gchar *why = g_strdup_printf("startup failed: %s", error->message);
		if (self->detach != NULL)
			self->detach(plugin, self->handlers_data);
		gw_plugin_loader_drop_instance(record);
		g_warning(
		    "plugin %s (%s) not started: %s", record->name, record->path, error->message);
		gw_plugin_loader_set_state(self, record, GW_PLUGIN_STATE_FAILED, why);
		return;
	}
	g_message("plugin %s %s running (protocol %s)",
	          record->name,
	          gw_plugin_record_get_version(record),
	          record->protocol);
	gw_plugin_loader_set_state(self, record, GW_PLUGIN_STATE_RUNNING, NULL);
}

/* a Running plugin stops; a Loaded one only loses its instance */
static void
gw_plugin_loader_stop_one(GwPluginLoader *self, GwPluginRecord *record)
{
	g_autoptr(GwPlugin) plugin = NULL;

	if (record->plugin == NULL)
		return;
	plugin = g_object_ref(record->plugin);
	if (record->state == GW_PLUGIN_STATE_RUNNING) {
		if (self->detach != NULL)
			self->detach(plugin, self->handlers_data);
		gw_plugin_shutdown(plugin);
	}
	gw_plugin_loader_drop_instance(record);
}

/* ---- the host ---- */

void
gw_plugin_loader_set_config(GwPluginLoader *self, GKeyFile *config, const gchar *const *disabled)
{
	g_return_if_fail(GW_IS_PLUGIN_LOADER(self));
	g_clear_pointer(&self->config, g_key_file_unref);
	self->config = config != NULL ? g_key_file_ref(config) : NULL;
	g_strfreev(self->disabled);
	self->disabled = g_strdupv((gchar **)disabled);
}

void
gw_plugin_loader_set_handlers(GwPluginLoader *self,
                              GwPluginAttachFunc attach,
                              GwPluginDetachFunc detach,
                              gpointer user_data)
{
	g_return_if_fail(GW_IS_PLUGIN_LOADER(self));
	self->attach = attach;
	self->detach = detach;
	self->handlers_data = user_data;
}

void
gw_plugin_loader_set_guard_file(GwPluginLoader *self, const gchar *path)
{
	g_return_if_fail(GW_IS_PLUGIN_LOADER(self));
	g_return_if_fail(!self->loaded);
	g_free(self->guard_path);
	self->guard_path = g_strdup(path);
}

void
gw_plugin_loader_preset_enabled(GwPluginLoader *self, const gchar *name, gboolean enabled)
{
	g_return_if_fail(GW_IS_PLUGIN_LOADER(self));
	g_return_if_fail(!self->loaded);
	if (enabled)
		g_hash_table_remove(self->preset_disabled, name);
	else
		g_hash_table_add(self->preset_disabled, g_strdup(name));
}

void
gw_plugin_loader_set_require_root(GwPluginLoader *self, gboolean require_root)
{
	g_return_if_fail(GW_IS_PLUGIN_LOADER(self));
	self->require_root = require_root;
}

const gchar *const *
gw_plugin_loader_get_dirs(GwPluginLoader *self)
{
	g_return_val_if_fail(GW_IS_PLUGIN_LOADER(self), NULL);
	return (const gchar *const *)self->dirs;
}

static gint
gw_plugin_loader_compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* the files of one directory that name a plugin, sorted */
static void
gw_plugin_loader_scan(GwPluginLoader *self, const gchar *dir, GHashTable *seen)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) handle = g_dir_open(dir, 0, &error);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	const gchar *filename;

	if (handle == NULL) {
		if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_info("no plugin directory %s", dir);
		else
			g_warning("cannot read the plugin directory %s: %s", dir, error->message);
		return;
	}
	while ((filename = g_dir_read_name(handle)) != NULL) {
		if (g_str_has_prefix(filename, GW_PLUGIN_FILE_PREFIX))
			g_ptr_array_add(files, g_strdup(filename));
	}
	g_ptr_array_sort(files, gw_plugin_loader_compare_strings);
	for (guint i = 0; i < files->len; i++) {
		const gchar *file = g_ptr_array_index(files, i);
		g_autofree gchar *name = gw_plugin_loader_name_of(file);
		GwPluginRecord *first;
		GwPluginRecord *record;

		if (name == NULL) {
			if (g_str_has_suffix(file, GW_PLUGIN_FILE_SUFFIX))
				g_warning(
				    "%s/%s: not a plugin name (letters, digits, '-' and '_', at "
				    "most %u): ignored",
				    dir,
				    file,
				    (guint)GW_PLUGIN_GUARD_NAME_MAX);
			continue;
		}
		first = g_hash_table_lookup(seen, name);
		if (first != NULL) {
			g_warning("%s/%s: plugin %s is loaded from %s: ignored",
			          dir,
			          file,
			          name,
			          first->path);
			continue;
		}
		record = g_new0(GwPluginRecord, 1);
		record->name = g_strdup(name);
		record->path = g_build_filename(dir, file, NULL);
		record->state = GW_PLUGIN_STATE_FAILED;
		record->locked = self->disabled != NULL &&
		                 g_strv_contains((const gchar *const *)self->disabled, name);
		record->enabled =
		    !record->locked && !g_hash_table_contains(self->preset_disabled, name);
		g_hash_table_insert(seen, record->name, record);
		g_ptr_array_add(self->records, record);
	}
}

void
gw_plugin_loader_load(GwPluginLoader *self)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	g_return_if_fail(GW_IS_PLUGIN_LOADER(self));
	g_return_if_fail(!self->loaded);
	self->loaded = TRUE;

	if (self->guard_path != NULL) {
		g_autoptr(GError) error = NULL;
		self->guard = gw_plugin_guard_open(self->guard_path, &error);
		if (self->guard == NULL)
			g_warning("plugins run without a crash guard: %s", error->message);
	}
	for (guint i = 0; self->dirs[i] != NULL; i++)
		gw_plugin_loader_scan(self, self->dirs[i], seen);
	g_ptr_array_sort(self->records, gw_plugin_record_compare);
	for (guint i = 0; i < self->records->len; i++)
		gw_plugin_loader_load_one(self, g_ptr_array_index(self->records, i));

	for (guint i = 0; self->disabled != NULL && self->disabled[i] != NULL; i++) {
		if (!g_hash_table_contains(seen, self->disabled[i]))
			g_info("plugins-disabled names %s, which is not installed",
			       self->disabled[i]);
	}
	g_info("%u plugin%s found in %s",
	       self->records->len,
	       self->records->len == 1 ? "" : "s",
	       self->dirs[0] != NULL ? self->dirs[0] : "no directory");
}

void
gw_plugin_loader_start(GwPluginLoader *self)
{
	g_return_if_fail(GW_IS_PLUGIN_LOADER(self));
	for (guint i = 0; i < self->records->len; i++)
		gw_plugin_loader_start_one(self, g_ptr_array_index(self->records, i));
}

void
gw_plugin_loader_stop(GwPluginLoader *self)
{
	g_return_if_fail(GW_IS_PLUGIN_LOADER(self));
	for (guint i = self->records->len; i > 0; i--)
		gw_plugin_loader_stop_one(self, g_ptr_array_index(self->records, i - 1));
	/* what is still in flight (a call that never completed) did not crash anything */
	if (self->guard != NULL)
		gw_plugin_guard_mark_clean(self->guard);
}

GPtrArray *
gw_plugin_loader_get_records(GwPluginLoader *self)
{
	g_return_val_if_fail(GW_IS_PLUGIN_LOADER(self), NULL);
	return self->records;
}

GwPluginRecord *
gw_plugin_loader_lookup(GwPluginLoader *self, const gchar *name)
{
	g_return_val_if_fail(GW_IS_PLUGIN_LOADER(self), NULL);
	for (guint i = 0; i < self->records->len; i++) {
		GwPluginRecord *record = g_ptr_array_index(self->records, i);
		if (g_strcmp0(record->name, name) == 0)
			return record;
	}
	return NULL;
}

gboolean
gw_plugin_loader_get_tainted(GwPluginLoader *self)
{
	g_return_val_if_fail(GW_IS_PLUGIN_LOADER(self), FALSE);
	return self->tainted;
}

static GwPluginRecord *
gw_plugin_loader_lookup_or_error(GwPluginLoader *self, const gchar *name, GError **error)
{
	GwPluginRecord *record = gw_plugin_loader_lookup(self, name);
	if (record == NULL)
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "no plugin %s", name);
	return record;
}

gboolean
gw_plugin_loader_set_enabled(GwPluginLoader *self,
                             const gchar *name,
                             gboolean enabled,
                             GError **error)
{
	GwPluginRecord *record;

	g_return_val_if_fail(GW_IS_PLUGIN_LOADER(self), FALSE);
	record = gw_plugin_loader_lookup_or_error(self, name, error);
	if (record == NULL)
		return FALSE;
	if (enabled && record->locked) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_ALLOWED,
		            "plugin %s is disabled in gwmod.conf ([daemon] plugins-disabled)",
		            name);
		return FALSE;
	}
	if (record->enabled == enabled)
		return TRUE;
	record->enabled = enabled;
	if (!enabled) {
		g_autofree gchar *why =
		    g_strdup_printf("disabled (./GwMO/Config/Adapters/%s/Enabled)", record->name);
		g_message("plugin %s disabled", name);
		if (record->state == GW_PLUGIN_STATE_QUARANTINED) {
			g_signal_emit(self, signals[SIGNAL_PLUGIN_CHANGED], 0, record->name);
			return TRUE;
		}
		gw_plugin_loader_stop_one(self, record);
		gw_plugin_loader_set_state(self, record, GW_PLUGIN_STATE_DISABLED, why);
		return TRUE;
	}
	g_message("plugin %s enabled", name);
	if (record->state == GW_PLUGIN_STATE_QUARANTINED) {
		g_signal_emit(self, signals[SIGNAL_PLUGIN_CHANGED], 0, record->name);
		return TRUE;
	}
	gw_plugin_loader_load_one(self, record);
	gw_plugin_loader_start_one(self, record);
	return TRUE;
}

gboolean
gw_plugin_loader_reset(GwPluginLoader *self, const gchar *name, GError **error)
{
	GwPluginRecord *record;

	g_return_val_if_fail(GW_IS_PLUGIN_LOADER(self), FALSE);
	record = gw_plugin_loader_lookup_or_error(self, name, error);
	if (record == NULL)
		return FALSE;
	if (self->guard != NULL)
		gw_plugin_guard_reset(self->guard, name);
	if (record->state != GW_PLUGIN_STATE_QUARANTINED)
		return TRUE;
	g_message("plugin %s: quarantine lifted", name);
	gw_plugin_loader_load_one(self, record);
	gw_plugin_loader_start_one(self, record);
	return TRUE;
}

static void
gw_plugin_loader_dispose(GObject *object)
{
	GwPluginLoader *self = GW_PLUGIN_LOADER(object);

	/* the instances must not keep a counter in a mapping about to go */
	for (guint i = 0; i < self->records->len; i++)
		gw_plugin_loader_drop_instance(g_ptr_array_index(self->records, i));
	G_OBJECT_CLASS(gw_plugin_loader_parent_class)->dispose(object);
}

static void
gw_plugin_loader_finalize(GObject *object)
{
	GwPluginLoader *self = GW_PLUGIN_LOADER(object);

	g_ptr_array_unref(self->records);
	g_clear_pointer(&self->guard, gw_plugin_guard_free);
	g_strfreev(self->dirs);
	g_strfreev(self->disabled);
	g_clear_pointer(&self->config, g_key_file_unref);
	g_hash_table_unref(self->preset_disabled);
	g_free(self->guard_path);
	G_OBJECT_CLASS(gw_plugin_loader_parent_class)->finalize(object);
}

static void
gw_plugin_loader_class_init(GwPluginLoaderClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = gw_plugin_loader_dispose;
	object_class->finalize = gw_plugin_loader_finalize;
	signals[SIGNAL_PLUGIN_CHANGED] = g_signal_new("plugin-changed",
	                                              G_TYPE_FROM_CLASS(klass),
	                                              G_SIGNAL_RUN_LAST,
	                                              0,
	                                              NULL,
	                                              NULL,
	                                              NULL,
	                                              G_TYPE_NONE,
	                                              1,
	                                              G_TYPE_STRING);
}

static void
gw_plugin_loader_init(GwPluginLoader *self)
{
	self->records = g_ptr_array_new_with_free_func((GDestroyNotify)gw_plugin_record_free);
	self->preset_disabled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->require_root = geteuid() == 0;
}

GwPluginLoader *
gw_plugin_loader_new(const gchar *const *dirs)
{
	GwPluginLoader *self = g_object_new(GW_TYPE_PLUGIN_LOADER, NULL);
	self->dirs =
	    dirs != NULL ? g_strdupv((gchar **)dirs) : gw_plugin_loader_dirs_from_env(NULL);
	return self;
}
