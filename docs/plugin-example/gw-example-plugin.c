/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: MIT
 *
 * An example adapter plugin for gwmo: "file devices".
 *
 * Its protocol is as small as a protocol gets: each device is a key file `<anything>.device`
 * in a directory the plugin watches ([example] directory= in gwmod.conf):
 *
 *   [device]
 *   id=lamp-1            the DeviceID (required)
 *   manufacturer=ACME    DevInfo/Man
 *   model=Lamp 2000      DevInfo/Mod
 *   firmware=1.0.4       DevInfo/FwV
 *   [values]
 *   power=off            ./Example/Values/power     (chr, Get and Replace)
 *   brightness=40        ./Example/Values/brightness
 *
 * A new file is a device found, a changed file a device found again (its record and tree are
 * refreshed), a deleted file a device lost. A Replace of ./Example/Values/<key> writes the
 * value back into the file (atomically: a new file renamed over the old one); a Get reads it
 * from the file. ./Example/File is a static leaf (the file's name), which the gateway answers
 * itself. Everything else (404, 405, 415) the gateway checks against the declared tree before
 * the plugin sees a command.
 *
 * What it shows: the module entry points (GW_PLUGIN_DEFINE_MODULE), no failable work in init,
 * configuration through gw_plugin_get_config_value(), startup() that fails with a reason,
 * discovery reported with gw_plugin_device_found()/lost(), a declared GwDeviceTree,
 * run_command as a GTask that honours its GCancellable, rate-limited logging of what a
 * (hostile) device can provoke, and limits on what it accepts.
 */

#include <gw-plugin-sdk.h>
#include <string.h>

/* what one device file may hold */
#define GW_EXAMPLE_MAX_FILE_SIZE (64 * 1024)
#define GW_EXAMPLE_MAX_VALUES 64
#define GW_EXAMPLE_MAX_DEVICES 1024

#define GW_TYPE_EXAMPLE_PLUGIN (gw_example_plugin_get_type())
G_DECLARE_FINAL_TYPE(GwExamplePlugin, gw_example_plugin, GW, EXAMPLE_PLUGIN, GwPlugin)

struct _GwExamplePlugin {
	GwPlugin parent_instance;
	gchar *directory;
	GFileMonitor *monitor;
	GHashTable *files; /* file path → device id: the devices reported */
};

G_DEFINE_TYPE(GwExamplePlugin, gw_example_plugin, GW_TYPE_PLUGIN)

/* a key of [values] becomes a node name: keep it to letters, digits, '-' and '_' */
static gboolean
gw_example_key_is_valid(const gchar *key)
{
	if (key[0] == '\0' || strlen(key) > 64)
		return FALSE;
	for (const gchar *p = key; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return FALSE;
	}
	return TRUE;
}

/* the device file @path, read and checked; NULL (with @error) when it is not one */
static GKeyFile *
gw_example_load(const gchar *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree gchar *data = NULL;
	g_autofree gchar *id = NULL;
	g_auto(GStrv) keys = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, error))
		return NULL;
	if (len > GW_EXAMPLE_MAX_FILE_SIZE) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%" G_GSIZE_FORMAT " bytes, more than %u",
		            len,
		            (guint)GW_EXAMPLE_MAX_FILE_SIZE);
		return NULL;
	}
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, error))
		return NULL;
	id = g_key_file_get_string(kf, "device", "id", NULL);
	if (id == NULL || id[0] == '\0' || !g_utf8_validate(id, -1, NULL) || strlen(id) > 128) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "no [device] id");
		return NULL;
	}
	keys = g_key_file_get_keys(kf, "values", NULL, NULL);
	if (keys != NULL && g_strv_length(keys) > GW_EXAMPLE_MAX_VALUES) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "more than %u values",
		            (guint)GW_EXAMPLE_MAX_VALUES);
		return NULL;
	}
	return g_steal_pointer(&kf);
}

/* a device file appeared or changed: report the device (again) */
static void
gw_example_report(GwExamplePlugin *self, const gchar *path)
{
	GwPlugin *plugin = GW_PLUGIN(self);
	g_autoptr(GError) error = NULL;
	g_autoptr(GKeyFile) kf = gw_example_load(path, &error);
	g_autoptr(GwDeviceInfo) info = NULL;
	g_autoptr(GwDeviceTree) tree = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *base = NULL;
	g_auto(GStrv) keys = NULL;
	const gchar *known;
	static const struct {
		const gchar *key;
		const gchar *leaf;
	} devinfo[] = {{"manufacturer", "Man"}, {"model", "Mod"}, {"firmware", "FwV"}};

	if (kf == NULL) {
		/* a file anyone can write: at most a few lines per half minute */
		gw_warning_ratelimited("%s: not a device file: %s", path, error->message);
		return;
	}
	id = g_key_file_get_string(kf, "device", "id", NULL);
	known = g_hash_table_lookup(self->files, path);
	if (known != NULL && g_strcmp0(known, id) != 0) {
		/* the same file now describes another device: the old one is gone */
		gw_plugin_device_lost(plugin, known);
		g_hash_table_remove(self->files, path);
	}
	if (known == NULL && g_hash_table_size(self->files) >= GW_EXAMPLE_MAX_DEVICES) {
		gw_warning_ratelimited(
		    "%s: more than %u devices, ignored", path, (guint)GW_EXAMPLE_MAX_DEVICES);
		return;
	}

	info = gw_device_info_new(id);
	gw_device_info_set_address(info, path);
	for (guint i = 0; i < G_N_ELEMENTS(devinfo); i++) {
		g_autofree gchar *value = g_key_file_get_string(kf, "device", devinfo[i].key, NULL);
		if (value != NULL && g_utf8_validate(value, -1, NULL))
			gw_device_info_set_devinfo(info, devinfo[i].leaf, value);
	}
	gw_device_info_set_devinfo(info, "DevTyp", "example-file-device");

	tree = gw_device_tree_new();
	base = g_path_get_basename(path);
	gw_device_tree_add_static(tree, "./Example/File", "chr", base);
	keys = g_key_file_get_keys(kf, "values", NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_autofree gchar *uri = NULL;
		if (!gw_example_key_is_valid(keys[i])) {
			gw_warning_ratelimited(
			    "%s: value '%s' is not a node name, ignored", path, keys[i]);
			continue;
		}
		uri = g_strdup_printf("./Example/Values/%s", keys[i]);
		gw_device_tree_add_leaf(tree,
		                        uri,
		                        "chr",
		                        GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE,
		                        "text/plain");
	}
	g_hash_table_replace(self->files, g_strdup(path), g_strdup(id));
	g_debug("%s: device %s", path, id);
	gw_plugin_device_found(plugin, info, tree);
}

static void
gw_example_forget(GwExamplePlugin *self, const gchar *path)
{
	const gchar *id = g_hash_table_lookup(self->files, path);

	if (id == NULL)
		return;
	g_debug("%s: device %s gone", path, id);
	gw_plugin_device_lost(GW_PLUGIN(self), id);
	g_hash_table_remove(self->files, path);
}

static void
gw_example_monitor_cb(GFileMonitor *monitor,
                      GFile *file,
                      GFile *other,
                      GFileMonitorEvent event,
                      gpointer user_data)
{
	GwExamplePlugin *self = GW_EXAMPLE_PLUGIN(user_data);
	g_autofree gchar *path = g_file_get_path(file);
	g_autofree gchar *other_path = other != NULL ? g_file_get_path(other) : NULL;

	if (path == NULL)
		return;
	switch (event) {
	/* written and closed (a new file is CREATED, then this) */
	case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
	case G_FILE_MONITOR_EVENT_MOVED_IN:
		if (g_str_has_suffix(path, ".device"))
			gw_example_report(self, path);
		break;
	case G_FILE_MONITOR_EVENT_RENAMED:
		/* a file written atomically (ours too) is renamed over the device file */
		gw_example_forget(self, path);
		if (other_path != NULL && g_str_has_suffix(other_path, ".device"))
			gw_example_report(self, other_path);
		break;
	case G_FILE_MONITOR_EVENT_DELETED:
	case G_FILE_MONITOR_EVENT_MOVED_OUT:
		gw_example_forget(self, path);
		break;
	case G_FILE_MONITOR_EVENT_CREATED:
	case G_FILE_MONITOR_EVENT_CHANGED:
	case G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED:
	case G_FILE_MONITOR_EVENT_PRE_UNMOUNT:
	case G_FILE_MONITOR_EVENT_UNMOUNTED:
	case G_FILE_MONITOR_EVENT_MOVED:
	default:
		break;
	}
}

/* no blocking, no failable work in init: startup() does it and says why it cannot */
static gboolean
gw_example_plugin_startup(GwPlugin *plugin, GError **error)
{
	GwExamplePlugin *self = GW_EXAMPLE_PLUGIN(plugin);
	g_autoptr(GFile) dir = NULL;
	g_autoptr(GDir) handle = NULL;
	const gchar *name;

	self->directory = gw_plugin_get_config_value(plugin, "directory");
	if (self->directory == NULL || self->directory[0] == '\0') {
		g_set_error_literal(
		    error,
		    GW_ERROR,
		    GW_ERROR_INVALID_ARGS,
		    "no directory to watch: set [example] directory= in gwmod.conf");
		return FALSE;
	}
	dir = g_file_new_for_path(self->directory);
	/* watch first, then read what is there: nothing falls between the two */
	self->monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
	if (self->monitor == NULL)
		return FALSE;
	g_signal_connect(self->monitor, "changed", G_CALLBACK(gw_example_monitor_cb), self);
	handle = g_dir_open(self->directory, 0, error);
	if (handle == NULL)
		return FALSE;
	while ((name = g_dir_read_name(handle)) != NULL) {
		g_autofree gchar *path = NULL;
		if (!g_str_has_suffix(name, ".device"))
			continue;
		path = g_build_filename(self->directory, name, NULL);
		gw_example_report(self, path);
	}
	g_message("watching %s: %u device%s",
	          self->directory,
	          g_hash_table_size(self->files),
	          g_hash_table_size(self->files) == 1 ? "" : "s");
	return TRUE;
}

static void
gw_example_plugin_shutdown(GwPlugin *plugin)
{
	GwExamplePlugin *self = GW_EXAMPLE_PLUGIN(plugin);

	if (self->monitor != NULL) {
		g_file_monitor_cancel(self->monitor);
		g_clear_object(&self->monitor);
	}
	g_hash_table_remove_all(self->files);
}

/* the device file of @device_id */
static const gchar *
gw_example_find(GwExamplePlugin *self, const gchar *device_id)
{
	GHashTableIter iter;
	gpointer path;
	gpointer id;

	g_hash_table_iter_init(&iter, self->files);
	while (g_hash_table_iter_next(&iter, &path, &id)) {
		if (g_strcmp0(id, device_id) == 0)
			return path;
	}
	return NULL;
}

/*
 * A command the gateway checked against the declared tree already: only Get and Replace of
 * ./Example/Values/<key> come here. Local file I/O is quick; a plugin whose device is across
 * a network starts the exchange here and returns the GTask from its callback, and cancels the
 * exchange when @cancellable is cancelled (the gateway cancels it at @deadline and answers 408
 * itself).
 */
static void
gw_example_plugin_run_command_async(GwPlugin *plugin,
                                    const gchar *device_id,
                                    GwDeviceCommand *cmd,
                                    gint64 deadline,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
	GwExamplePlugin *self = GW_EXAMPLE_PLUGIN(plugin);
	g_autoptr(GTask) task = g_task_new(plugin, cancellable, callback, user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GKeyFile) kf = NULL;
	const gchar *uri = gw_device_command_get_uri(cmd);
	const gchar *prefix = "./Example/Values/";
	const gchar *path = gw_example_find(self, device_id);
	const gchar *key;
	g_autofree gchar *value = NULL;

	if (g_task_return_error_if_cancelled(task))
		return;
	if (path == NULL || !g_str_has_prefix(uri, prefix)) {
		g_task_return_pointer(task,
		                      gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND),
		                      (GDestroyNotify)gw_device_result_unref);
		return;
	}
	key = uri + strlen(prefix);
	kf = gw_example_load(path, &error);
	if (kf == NULL) {
		/* the device broke: a protocol fault, its text as the result's data */
		g_task_return_pointer(
		    task,
		    gw_device_result_new_fault(GW_DEVICE_STATUS_FAILED, uri, error->message),
		    (GDestroyNotify)gw_device_result_unref);
		return;
	}
	switch (gw_device_command_get_op(cmd)) {
	case GW_DEVICE_OP_GET:
		value = g_key_file_get_string(kf, "values", key, NULL);
		if (value == NULL) {
			g_task_return_pointer(task,
			                      gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND),
			                      (GDestroyNotify)gw_device_result_unref);
			return;
		}
		g_task_return_pointer(task,
		                      gw_device_result_new_value(uri, "chr", value),
		                      (GDestroyNotify)gw_device_result_unref);
		return;
	case GW_DEVICE_OP_REPLACE:
		g_key_file_set_string(kf, "values", key, gw_device_command_get_data_string(cmd));
		/* g_key_file_save_to_file() writes a new file and renames it over the old one */
		if (!g_key_file_save_to_file(kf, path, &error)) {
			g_task_return_pointer(task,
			                      gw_device_result_new_fault(
			                          GW_DEVICE_STATUS_FAILED, uri, error->message),
			                      (GDestroyNotify)gw_device_result_unref);
			return;
		}
		g_info("%s: %s = %s", device_id, key, gw_device_command_get_data_string(cmd));
		g_task_return_pointer(task,
		                      gw_device_result_new(GW_DEVICE_STATUS_OK),
		                      (GDestroyNotify)gw_device_result_unref);
		return;
	case GW_DEVICE_OP_ADD:
	case GW_DEVICE_OP_DELETE:
	case GW_DEVICE_OP_EXEC:
	default:
		g_task_return_pointer(task,
		                      gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED),
		                      (GDestroyNotify)gw_device_result_unref);
		return;
	}
}

static GwDeviceResult *
gw_example_plugin_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
gw_example_plugin_finalize(GObject *object)
{
	GwExamplePlugin *self = GW_EXAMPLE_PLUGIN(object);

	g_clear_object(&self->monitor);
	g_hash_table_unref(self->files);
	g_free(self->directory);
	G_OBJECT_CLASS(gw_example_plugin_parent_class)->finalize(object);
}

static void
gw_example_plugin_class_init(GwExamplePluginClass *klass)
{
	GwPluginClass *plugin_class = GW_PLUGIN_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = gw_example_plugin_finalize;
	plugin_class->startup = gw_example_plugin_startup;
	plugin_class->shutdown = gw_example_plugin_shutdown;
	plugin_class->run_command_async = gw_example_plugin_run_command_async;
	plugin_class->run_command_finish = gw_example_plugin_run_command_finish;
}

static void
gw_example_plugin_init(GwExamplePlugin *self)
{
	self->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	/* what the plugin is: the protocol of its devices' inventory records, and its version */
	gw_plugin_set_protocol(GW_PLUGIN(self), "Example-Files");
	gw_plugin_set_version(GW_PLUGIN(self), "1.0.0");
}

GW_PLUGIN_DEFINE_MODULE(GW_TYPE_EXAMPLE_PLUGIN)
