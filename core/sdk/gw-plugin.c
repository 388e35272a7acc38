/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwPlugin"

#include "config.h"

#include <string.h>

#include "gw-error.h"
#include "gw-plugin-private.h"

typedef struct {
	gchar *name;
	gchar *protocol;
	gchar *version;
	GKeyFile *config; /* nullable */
	gint *calls;      /* the crash guard's counter, or &calls_local */
	gint calls_local;
	/* the HTTP seam: path -> GwPluginHttpEntry, and the gateway's side */
	GHashTable *http;
	GwPluginHttpClaimFunc http_claim;
	GwPluginHttpUrisFunc http_uris;
	gpointer http_data;
} GwPluginPrivate;

typedef struct {
	GwPluginHttpHandler handler;
	gpointer user_data;
	GDestroyNotify destroy;
} GwPluginHttpEntry;

static void
gw_plugin_http_entry_free(gpointer data)
{
	GwPluginHttpEntry *entry = data;
	if (entry->destroy != NULL)
		entry->destroy(entry->user_data);
	g_free(entry);
}

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(GwPlugin, gw_plugin, G_TYPE_OBJECT)

enum { SIGNAL_DEVICE_FOUND, SIGNAL_DEVICE_LOST, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

#define GET_PRIVATE(o) ((GwPluginPrivate *)gw_plugin_get_instance_private(o))

/* ---- the crash guard's counter (gw-plugin-private.h) ---- */

void
gw_plugin_set_call_counter(GwPlugin *self, gint *counter)
{
	GwPluginPrivate *priv = GET_PRIVATE(self);
	gint in_flight;

	g_return_if_fail(GW_IS_PLUGIN(self));
	/* the calls in flight (none, normally: the loader sets it before any call) move along */
	in_flight = *priv->calls;
	*priv->calls -= in_flight;
	priv->calls = counter != NULL ? counter : &priv->calls_local;
	*priv->calls += in_flight;
}

gint
gw_plugin_get_calls_in_flight(GwPlugin *self)
{
	g_return_val_if_fail(GW_IS_PLUGIN(self), 0);
	return *GET_PRIVATE(self)->calls;
}

/* a plain increment of a shared mapping: no system call, nothing to wait for */
static void
gw_plugin_call_enter(GwPlugin *self)
{
	(*GET_PRIVATE(self)->calls)++;
}

static void
gw_plugin_call_leave(GwPlugin *self)
{
	GwPluginPrivate *priv = GET_PRIVATE(self);
	if (*priv->calls > 0)
		(*priv->calls)--;
}

/* an async call into the plugin: the caller's callback, run once the plugin completed */
typedef struct {
	GwPlugin *plugin;
	GAsyncReadyCallback callback;
	gpointer user_data;
} GwPluginCall;

static GwPluginCall *
gw_plugin_call_new(GwPlugin *self, GAsyncReadyCallback callback, gpointer user_data)
{
	GwPluginCall *call = g_new0(GwPluginCall, 1);
	call->plugin = g_object_ref(self);
	call->callback = callback;
	call->user_data = user_data;
	gw_plugin_call_enter(self);
	return call;
}

static void
gw_plugin_call_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwPluginCall *call = user_data;

	gw_plugin_call_leave(call->plugin);
	if (call->callback != NULL)
		call->callback(source, res, call->user_data);
	g_object_unref(call->plugin);
	g_free(call);
}

/* ---- the build id of a module gwmo's build compiled (gw-plugin-private.h) ---- */

static gchar *gw_plugin_module_build_id = NULL;

void
gw_plugin_module_note_build_id(const char *id)
{
	g_free(gw_plugin_module_build_id);
	gw_plugin_module_build_id = g_strdup(id);
}

gchar *
gw_plugin_module_take_build_id(void)
{
	return g_steal_pointer(&gw_plugin_module_build_id);
}

void
gw_plugin_set_protocol(GwPlugin *self, const gchar *protocol)
{
	GwPluginPrivate *priv = GET_PRIVATE(self);

	g_return_if_fail(GW_IS_PLUGIN(self));
	g_free(priv->protocol);
	priv->protocol = g_strdup(protocol);
}

const gchar *
gw_plugin_get_protocol(GwPlugin *self)
{
	g_return_val_if_fail(GW_IS_PLUGIN(self), NULL);
	return GET_PRIVATE(self)->protocol;
}

void
gw_plugin_set_version(GwPlugin *self, const gchar *version)
{
	GwPluginPrivate *priv = GET_PRIVATE(self);

	g_return_if_fail(GW_IS_PLUGIN(self));
	g_free(priv->version);
	priv->version = g_strdup(version);
}

const gchar *
gw_plugin_get_version(GwPlugin *self)
{
	g_return_val_if_fail(GW_IS_PLUGIN(self), NULL);
	return GET_PRIVATE(self)->version;
}

void
gw_plugin_set_name(GwPlugin *self, const gchar *name)
{
	GwPluginPrivate *priv = GET_PRIVATE(self);

	g_return_if_fail(GW_IS_PLUGIN(self));
	g_free(priv->name);
	priv->name = g_strdup(name);
}

const gchar *
gw_plugin_get_name(GwPlugin *self)
{
	g_return_val_if_fail(GW_IS_PLUGIN(self), NULL);
	return GET_PRIVATE(self)->name;
}

void
gw_plugin_set_config(GwPlugin *self, GKeyFile *config)
{
	GwPluginPrivate *priv = GET_PRIVATE(self);

	g_return_if_fail(GW_IS_PLUGIN(self));
	g_clear_pointer(&priv->config, g_key_file_unref);
	priv->config = config != NULL ? g_key_file_ref(config) : NULL;
}

gchar *
gw_plugin_get_config_value(GwPlugin *self, const gchar *key)
{
	GwPluginPrivate *priv = GET_PRIVATE(self);
	gchar *value;

	g_return_val_if_fail(GW_IS_PLUGIN(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);
	if (priv->config == NULL || priv->name == NULL)
		return NULL;
	value = g_key_file_get_string(priv->config, priv->name, key, NULL);
	if (value != NULL)
		g_strstrip(value);
	return value;
}

gboolean
gw_plugin_get_config_boolean(GwPlugin *self, const gchar *key, gboolean fallback)
{
	g_autofree gchar *value = gw_plugin_get_config_value(self, key);

	if (value == NULL)
		return fallback;
	if (g_ascii_strcasecmp(value, "true") == 0 || g_strcmp0(value, "1") == 0)
		return TRUE;
	if (g_ascii_strcasecmp(value, "false") == 0 || g_strcmp0(value, "0") == 0)
		return FALSE;
	g_warning("[%s] %s=%s is not a boolean; using %s",
	          gw_plugin_get_name(self),
	          key,
	          value,
	          fallback ? "true" : "false");
	return fallback;
}

gint64
gw_plugin_get_config_int(GwPlugin *self, const gchar *key, gint64 fallback)
{
	g_autofree gchar *value = gw_plugin_get_config_value(self, key);
	gint64 v = 0;

	if (value == NULL)
		return fallback;
	if (!g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &v, NULL)) {
		g_warning("[%s] %s=%s is not an integer; using %" G_GINT64_FORMAT,
		          gw_plugin_get_name(self),
		          key,
		          value,
		          fallback);
		return fallback;
	}
	return v;
}

void
gw_plugin_device_found(GwPlugin *self, GwDeviceInfo *info, GwDeviceTree *tree)
{
	g_return_if_fail(GW_IS_PLUGIN(self));
	g_return_if_fail(info != NULL);
	g_signal_emit(self, signals[SIGNAL_DEVICE_FOUND], 0, info, tree);
}

void
gw_plugin_device_lost(GwPlugin *self, const gchar *device_id)
{
	g_return_if_fail(GW_IS_PLUGIN(self));
	g_return_if_fail(device_id != NULL);
	g_signal_emit(self, signals[SIGNAL_DEVICE_LOST], 0, device_id);
}

/* ---- the gateway's side ---- */

gboolean
gw_plugin_startup(GwPlugin *self, GError **error)
{
	GwPluginClass *klass;
	gboolean ok;

	g_return_val_if_fail(GW_IS_PLUGIN(self), FALSE);
	klass = GW_PLUGIN_GET_CLASS(self);
	if (gw_plugin_get_protocol(self) == NULL || gw_plugin_get_protocol(self)[0] == '\0') {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "plugin %s names no protocol (gw_plugin_set_protocol())",
		            gw_plugin_get_name(self));
		return FALSE;
	}
	if (klass->run_command_async == NULL || klass->run_command_finish == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "plugin %s has no run_command vfuncs",
		            gw_plugin_get_name(self));
		return FALSE;
	}
	if (klass->startup == NULL)
		return TRUE;
	gw_plugin_call_enter(self);
	ok = klass->startup(self, error);
	gw_plugin_call_leave(self);
	if (!ok) {
		if (error != NULL && *error == NULL)
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_FAILED,
			            "plugin %s failed to start without saying why",
			            gw_plugin_get_name(self));
		return FALSE;
	}
	return TRUE;
}

void
gw_plugin_shutdown(GwPlugin *self)
{
	GwPluginClass *klass;

	g_return_if_fail(GW_IS_PLUGIN(self));
	klass = GW_PLUGIN_GET_CLASS(self);
	if (klass->shutdown != NULL) {
		gw_plugin_call_enter(self);
		klass->shutdown(self);
		gw_plugin_call_leave(self);
	}
	/* its paths go with it (after shutdown(): it may still answer from there) */
	g_hash_table_remove_all(GET_PRIVATE(self)->http);
}

void
gw_plugin_run_command_async(GwPlugin *self,
                            const gchar *device_id,
                            GwDeviceCommand *cmd,
                            gint64 deadline,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
	g_return_if_fail(GW_IS_PLUGIN(self));
	GW_PLUGIN_GET_CLASS(self)->run_command_async(self,
	                                             device_id,
	                                             cmd,
	                                             deadline,
	                                             cancellable,
	                                             gw_plugin_call_done_cb,
	                                             gw_plugin_call_new(self, callback, user_data));
}

GwDeviceResult *
gw_plugin_run_command_finish(GwPlugin *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(GW_IS_PLUGIN(self), NULL);
	return GW_PLUGIN_GET_CLASS(self)->run_command_finish(self, res, error);
}

gboolean
gw_plugin_can_deliver_images(GwPlugin *self)
{
	GwPluginClass *klass;

	g_return_val_if_fail(GW_IS_PLUGIN(self), FALSE);
	klass = GW_PLUGIN_GET_CLASS(self);
	return klass->deliver_image_async != NULL && klass->deliver_image_finish != NULL;
}

void
gw_plugin_deliver_image_async(GwPlugin *self,
                              const gchar *device_id,
                              const gchar *uri,
                              const gchar *sha256,
                              guint64 size,
                              gint64 deadline,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
	g_return_if_fail(GW_IS_PLUGIN(self));
	g_return_if_fail(gw_plugin_can_deliver_images(self));
	GW_PLUGIN_GET_CLASS(self)->deliver_image_async(
	    self,
	    device_id,
	    uri,
	    sha256,
	    size,
	    deadline,
	    cancellable,
	    gw_plugin_call_done_cb,
	    gw_plugin_call_new(self, callback, user_data));
}

GwDeviceResult *
gw_plugin_deliver_image_finish(GwPlugin *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(GW_IS_PLUGIN(self), NULL);
	return GW_PLUGIN_GET_CLASS(self)->deliver_image_finish(self, res, error);
}

static void
gw_plugin_finalize(GObject *object)
{
	GwPluginPrivate *priv = GET_PRIVATE(GW_PLUGIN(object));

	g_free(priv->name);
	g_free(priv->protocol);
	g_free(priv->version);
	g_clear_pointer(&priv->config, g_key_file_unref);
	g_hash_table_unref(priv->http);
	G_OBJECT_CLASS(gw_plugin_parent_class)->finalize(object);
}

static void
gw_plugin_class_init(GwPluginClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = gw_plugin_finalize;

	signals[SIGNAL_DEVICE_FOUND] = g_signal_new("device-found",
	                                            G_TYPE_FROM_CLASS(klass),
	                                            G_SIGNAL_RUN_LAST,
	                                            0,
	                                            NULL,
	                                            NULL,
	                                            NULL,
	                                            G_TYPE_NONE,
	                                            2,
	                                            GW_TYPE_DEVICE_INFO,
	                                            GW_TYPE_DEVICE_TREE);
	signals[SIGNAL_DEVICE_LOST] = g_signal_new("device-lost",
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
gw_plugin_init(GwPlugin *self)
{
	GwPluginPrivate *priv = GET_PRIVATE(self);
	priv->calls = &priv->calls_local;
	priv->http =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_plugin_http_entry_free);
}

/* ---- the HTTP seam (gw-plugin-http.h) ---- */

/* "/a/b" or "/a/b/": segments of [A-Za-z0-9._~-], none empty, "." or ".." */
static gboolean
gw_plugin_http_path_is_valid(const gchar *path)
{
	g_auto(GStrv) segments = NULL;
	gsize len;
	guint n;

	if (path == NULL || path[0] != '/' || (len = strlen(path)) < 2 || len > 128)
		return FALSE;
	segments = g_strsplit(path + 1, "/", -1);
	n = g_strv_length(segments);
	for (guint i = 0; i < n; i++) {
		const gchar *s = segments[i];
		if (s[0] == '\0') {
			/* only the last one, after a trailing "/" */
			if (i + 1 != n || i == 0)
				return FALSE;
			continue;
		}
		if (g_str_equal(s, ".") || g_str_equal(s, ".."))
			return FALSE;
		for (const gchar *c = s; *c != '\0'; c++) {
			if (!g_ascii_isalnum(*c) && strchr("._~-", *c) == NULL)
				return FALSE;
		}
	}
	return TRUE;
}

gboolean
gw_plugin_add_http_handler(GwPlugin *self,
                           const gchar *path,
                           GwPluginHttpHandler handler,
                           gpointer user_data,
                           GDestroyNotify destroy,
                           GError **error)
{
	GwPluginPrivate *priv;
	GwPluginHttpEntry *entry;

	g_return_val_if_fail(GW_IS_PLUGIN(self), FALSE);
	g_return_val_if_fail(handler != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
	priv = GET_PRIVATE(self);
	if (!gw_plugin_http_path_is_valid(path)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "plugin %s: \"%s\" is not a path it can serve",
		            gw_plugin_get_name(self),
		            path != NULL ? path : "(null)");
		return FALSE;
	}
	if (g_hash_table_contains(priv->http, path)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_ALREADY_EXISTS,
		            "plugin %s serves %s already",
		            gw_plugin_get_name(self),
		            path);
		return FALSE;
	}
	if (priv->http_claim == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "plugin %s: the gateway has no HTTP listener for plugins",
		            gw_plugin_get_name(self));
		return FALSE;
	}
	if (!priv->http_claim(self, path, priv->http_data, error))
		return FALSE;
	entry = g_new0(GwPluginHttpEntry, 1);
	entry->handler = handler;
	entry->user_data = user_data;
	entry->destroy = destroy;
	g_hash_table_insert(priv->http, g_strdup(path), entry);
	return TRUE;
}

gchar **
gw_plugin_get_http_uris(GwPlugin *self, const gchar *path)
{
	GwPluginPrivate *priv;

	g_return_val_if_fail(GW_IS_PLUGIN(self), NULL);
	g_return_val_if_fail(path != NULL, NULL);
	priv = GET_PRIVATE(self);
	if (priv->http_uris == NULL || !g_hash_table_contains(priv->http, path))
		return g_new0(gchar *, 1);
	return priv->http_uris(self, path, priv->http_data);
}

void
gw_plugin_set_http_host(GwPlugin *self,
                        GwPluginHttpClaimFunc claim,
                        GwPluginHttpUrisFunc uris,
                        gpointer data)
{
	GwPluginPrivate *priv;

	g_return_if_fail(GW_IS_PLUGIN(self));
	priv = GET_PRIVATE(self);
	priv->http_claim = claim;
	priv->http_uris = uris;
	priv->http_data = data;
}

gboolean
gw_plugin_http_serves(GwPlugin *self, const gchar *path)
{
	g_return_val_if_fail(GW_IS_PLUGIN(self), FALSE);
	return path != NULL && g_hash_table_contains(GET_PRIVATE(self)->http, path);
}

gboolean
gw_plugin_http_dispatch(GwPlugin *self, const gchar *path, GwPluginHttpRequest *request)
{
	GwPluginHttpEntry *entry;

	g_return_val_if_fail(GW_IS_PLUGIN(self), FALSE);
	g_return_val_if_fail(request != NULL, FALSE);
	entry = g_hash_table_lookup(GET_PRIVATE(self)->http, path);
	if (entry == NULL)
		return FALSE;
	g_object_ref(self);
	gw_plugin_call_enter(self);
	entry->handler(self, request, entry->user_data);
	gw_plugin_call_leave(self);
	g_object_unref(self);
	return TRUE;
}
