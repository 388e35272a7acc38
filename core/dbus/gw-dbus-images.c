/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include <string.h>

#include "gw-daemon.h"
#include "gw-dbus-generated.h"
#include "gw-dbus-images.h"
#include "gw-dbus-manager.h"
#include "gw-error.h"
#include "gw-gwmo-names.h"
#include "gw-image-store.h"

typedef struct {
	gchar *uri;
	GwDbusGenObjectSkeleton *object;
	GwDbusGenImage *image;
} GwDbusImageEntry;

struct _GwDbusImages {
	GObject parent_instance;
	GwDaemon *daemon; /* not owned */
	GwImageStore *store;
	GwDmTree *tree;
	GDBusObjectManagerServer *object_manager;
	GwDbusAuthorizeFunc authorize;
	gpointer authorize_data;
	GHashTable *images; /* object path → GwDbusImageEntry */
	gulong tree_changed_id;
	gulong image_changed_id;
	guint resync_id;
};

G_DEFINE_TYPE(GwDbusImages, gw_dbus_images, G_TYPE_OBJECT)

static void
gw_dbus_image_entry_free(GwDbusImageEntry *entry)
{
	g_free(entry->uri);
	g_clear_object(&entry->image);
	g_clear_object(&entry->object);
	g_free(entry);
}

/* ./GwMO/Images/<x>[/…] → <x> */
static gchar *
gw_dbus_images_name_of(const gchar *uri)
{
	const gchar *base = GW_GWMO_IMAGES "/";
	const gchar *name;
	const gchar *slash;

	if (uri == NULL || !g_str_has_prefix(uri, base))
		return NULL;
	name = uri + strlen(base);
	if (name[0] == '\0' || name[0] == '/')
		return NULL;
	slash = strchr(name, '/');
	return slash != NULL ? g_strndup(name, (gsize)(slash - name)) : g_strdup(name);
}

static gchar *
gw_dbus_images_path_for(const gchar *name)
{
	g_autofree gchar *escaped = g_dbus_escape_object_path(name);
	return g_strdup_printf(GW_DBUS_IMAGES_PATH "/%s", escaped);
}

static gchar *
gw_dbus_images_leaf(GwDbusImages *self, const gchar *entry_uri, const gchar *leaf)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", entry_uri, leaf);
	gchar *value = gw_dm_tree_dup_string(self->tree, uri);
	return value != NULL ? value : g_strdup("");
}

static void
gw_dbus_images_fill(GwDbusImages *self, GwDbusImageEntry *entry)
{
	g_autofree gchar *name = gw_dbus_images_leaf(self, entry->uri, "Name");
	g_autofree gchar *version = gw_dbus_images_leaf(self, entry->uri, "Version");
	g_autofree gchar *hash = gw_dbus_images_leaf(self, entry->uri, "Hash");
	g_autofree gchar *size = gw_dbus_images_leaf(self, entry->uri, "Size");
	g_autofree gchar *state = gw_dbus_images_leaf(self, entry->uri, "State");
	g_autofree gchar *progress = gw_dbus_images_leaf(self, entry->uri, "Progress");
	g_autofree gchar *local = gw_dbus_images_leaf(self, entry->uri, "LocalURI");
	guint64 size_v = g_ascii_strtoull(size, NULL, 10);
	guint progress_v = (guint)MIN(g_ascii_strtoull(progress, NULL, 10), 100);
	GwDbusGenImage *img = entry->image;

	/* only what changed: each set emits PropertiesChanged */
	if (g_strcmp0(gw_dbus_gen_image_get_name(img), name) != 0)
		gw_dbus_gen_image_set_name(img, name);
	if (g_strcmp0(gw_dbus_gen_image_get_version(img), version) != 0)
		gw_dbus_gen_image_set_version(img, version);
	if (g_strcmp0(gw_dbus_gen_image_get_hash(img), hash) != 0)
		gw_dbus_gen_image_set_hash(img, hash);
	if (gw_dbus_gen_image_get_size(img) != size_v)
		gw_dbus_gen_image_set_size(img, size_v);
	if (g_strcmp0(gw_dbus_gen_image_get_state(img), state) != 0)
		gw_dbus_gen_image_set_state(img, state);
	if (gw_dbus_gen_image_get_progress(img) != progress_v)
		gw_dbus_gen_image_set_progress(img, progress_v);
	if (g_strcmp0(gw_dbus_gen_image_get_local_uri(img), local) != 0)
		gw_dbus_gen_image_set_local_uri(img, local);
	if (g_strcmp0(gw_dbus_gen_image_get_image_uri(img), entry->uri) != 0)
		gw_dbus_gen_image_set_image_uri(img, entry->uri);
}

static GwDbusImageEntry *
gw_dbus_images_invocation_entry(GwDbusImages *self, GDBusMethodInvocation *invocation)
{
	const gchar *path = g_dbus_method_invocation_get_object_path(invocation);
	GwDbusImageEntry *entry = g_hash_table_lookup(self->images, path);

	if (entry == NULL)
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_NOT_FOUND, "%s is gone", path);
	return entry;
}

static void
gw_dbus_images_commit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;
	GVariant *reply = g_object_steal_data(G_OBJECT(invocation), "gw-reply");

	if (!gw_daemon_commit_finish(GW_DAEMON(source), res, &error)) {
		if (reply != NULL)
			g_variant_unref(reply);
		gw_dbus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, reply);
	if (reply != NULL)
		g_variant_unref(reply);
}

/* stores the tree, then answers @reply (floating or NULL) */
static void
gw_dbus_images_commit_and_reply(GwDbusImages *self,
                                GDBusMethodInvocation *invocation,
                                GVariant *reply)
{
	if (reply != NULL)
		g_object_set_data(G_OBJECT(invocation), "gw-reply", g_variant_ref_sink(reply));
	gw_daemon_commit_async(self->daemon, gw_dbus_images_commit_cb, g_object_ref(invocation));
}

static gboolean
gw_dbus_images_handle_download(GwDbusGenImage *image,
                               GDBusMethodInvocation *invocation,
                               gpointer user_data)
{
	GwDbusImages *self = GW_DBUS_IMAGES(user_data);
	GwDbusImageEntry *entry;
	g_autoptr(GError) error = NULL;

	if (self->authorize != NULL && !self->authorize(invocation, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	entry = gw_dbus_images_invocation_entry(self, invocation);
	if (entry == NULL)
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!gw_image_store_download(self->store, entry->uri, &error)) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("Download of %s by %s", entry->uri, g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_images_fill(self, entry);
	gw_dbus_images_commit_and_reply(self, invocation, NULL);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
gw_dbus_images_unexport(GwDbusImages *self, const gchar *path);

static gboolean
gw_dbus_images_handle_remove(GwDbusGenImage *image,
                             GDBusMethodInvocation *invocation,
                             gpointer user_data)
{
	GwDbusImages *self = GW_DBUS_IMAGES(user_data);
	GwDbusImageEntry *entry;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;

	if (self->authorize != NULL && !self->authorize(invocation, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	entry = gw_dbus_images_invocation_entry(self, invocation);
	if (entry == NULL)
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	uri = g_strdup(entry->uri);
	if (!gw_image_store_remove(self->store, uri, &error)) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("Remove of %s by %s", uri, g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_images_commit_and_reply(self, invocation, NULL);
	/* the object goes after the reply is queued (the invocation holds its path) */
	gw_dbus_images_unexport(self, g_dbus_method_invocation_get_object_path(invocation));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
gw_dbus_images_unexport(GwDbusImages *self, const gchar *path)
{
	g_autofree gchar *p = g_strdup(path);
	GwDbusImageEntry *entry = g_hash_table_lookup(self->images, p);

	if (entry == NULL)
		return;
	g_signal_handlers_disconnect_by_data(entry->image, self);
	g_dbus_object_manager_server_unexport(self->object_manager, p);
	g_hash_table_remove(self->images, p);
}

/* exports or refreshes the object of an entry; unexports it when the entry is gone */
static gchar *
gw_dbus_images_export(GwDbusImages *self, const gchar *entry_uri)
{
	g_autofree gchar *name = gw_dbus_images_name_of(entry_uri);
	g_autofree gchar *path = NULL;
	GwDbusImageEntry *entry;

	if (name == NULL)
		return NULL;
	path = gw_dbus_images_path_for(name);
	entry = g_hash_table_lookup(self->images, path);
	if (gw_dm_tree_lookup(self->tree, entry_uri) == NULL) {
		gw_dbus_images_unexport(self, path);
		return NULL;
	}
	if (entry != NULL) {
		gw_dbus_images_fill(self, entry);
		return g_steal_pointer(&path);
	}
	entry = g_new0(GwDbusImageEntry, 1);
	entry->uri = g_strdup_printf(GW_GWMO_IMAGES "/%s", name);
	entry->object = gw_dbus_gen_object_skeleton_new(path);
	entry->image = gw_dbus_gen_image_skeleton_new();
	gw_dbus_images_fill(self, entry);
	g_signal_connect(
	    entry->image, "handle-download", G_CALLBACK(gw_dbus_images_handle_download), self);
	g_signal_connect(
	    entry->image, "handle-remove", G_CALLBACK(gw_dbus_images_handle_remove), self);
	gw_dbus_gen_object_skeleton_set_image(entry->object, entry->image);
	g_dbus_object_manager_server_export(self->object_manager,
	                                    G_DBUS_OBJECT_SKELETON(entry->object));
	g_hash_table_insert(self->images, g_strdup(path), entry);
	return g_steal_pointer(&path);
}

static void
gw_dbus_images_resync(GwDbusImages *self)
{
	g_autoptr(GPtrArray) uris = gw_image_store_list(self->store);
	g_autoptr(GList) paths = g_hash_table_get_keys(self->images);
	g_autoptr(GHashTable) live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < uris->len; i++) {
		gchar *path = gw_dbus_images_export(self, g_ptr_array_index(uris, i));
		if (path != NULL)
			g_hash_table_add(live, path);
	}
	for (GList *l = paths; l != NULL; l = l->next) {
		if (!g_hash_table_contains(live, l->data))
			gw_dbus_images_unexport(self, l->data);
	}
}

static gboolean
gw_dbus_images_resync_cb(gpointer user_data)
{
	GwDbusImages *self = GW_DBUS_IMAGES(user_data);
	self->resync_id = 0;
	gw_dbus_images_resync(self);
	return G_SOURCE_REMOVE;
}

static void
gw_dbus_images_tree_changed_cb(GwDmTree *tree,
                               const gchar *uri,
                               guint change,
                               const gchar *server_id,
                               gpointer user_data)
{
	GwDbusImages *self = GW_DBUS_IMAGES(user_data);
	g_autofree gchar *name = NULL;
	g_autofree gchar *path = NULL;
	GwDbusImageEntry *entry;

	if (uri == NULL || change == GW_DM_CHANGE_PROPERTIES)
		return;
	if (!gw_dm_uri_is_below(uri, GW_GWMO_IMAGES) || g_strcmp0(uri, GW_GWMO_IMAGES) == 0) {
		if (gw_dm_uri_is_below(GW_GWMO_IMAGES, uri) && self->resync_id == 0)
			self->resync_id = g_idle_add(gw_dbus_images_resync_cb, self);
		return;
	}
	name = gw_dbus_images_name_of(uri);
	path = gw_dbus_images_path_for(name);
	entry = g_hash_table_lookup(self->images, path);
	if (entry != NULL && gw_dm_tree_lookup(self->tree, entry->uri) != NULL) {
		/* a value of a known entry: at once, so Progress is live */
		gw_dbus_images_fill(self, entry);
		return;
	}
	/* a new entry is exported once the message that made it is through; a gone one leaves */
	if (self->resync_id == 0)
		self->resync_id = g_idle_add(gw_dbus_images_resync_cb, self);
}

/* ---- Manager.AddImage ---- */

gboolean
gw_dbus_images_handle_add_image(GObject *skeleton,
                                GDBusMethodInvocation *invocation,
                                GVariant *dict,
                                gpointer user_data)
{
	GwDbusImages *self = GW_DBUS_IMAGES(user_data);
	static const gchar *string_keys[] = {"Name", "Version", "Kind", "ExternalURI", "Hash"};
	const gchar *values[G_N_ELEMENTS(string_keys)] = {NULL};
	g_autofree const gchar **targets = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *path = NULL;
	GwImageSpec spec = {0};
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_debug("AddImage(%zu keys)", g_variant_n_children(dict));
	/* shape first, then who asks, then state */
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
		gboolean known = FALSE;
		for (guint i = 0; i < G_N_ELEMENTS(string_keys); i++) {
			if (g_strcmp0(key, string_keys[i]) != 0)
				continue;
			known = TRUE;
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
				g_dbus_method_invocation_return_error(invocation,
				                                      GW_ERROR,
				                                      GW_ERROR_INVALID_ARGS,
				                                      "%s must be a string (s)",
				                                      key);
				g_variant_unref(value);
				return G_DBUS_METHOD_INVOCATION_HANDLED;
			}
			values[i] = g_variant_get_string(value, NULL);
		}
		if (g_strcmp0(key, "Targets") == 0) {
			known = TRUE;
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
				g_dbus_method_invocation_return_error(
				    invocation,
				    GW_ERROR,
				    GW_ERROR_INVALID_ARGS,
				    "Targets must be a string array (as)");
				g_variant_unref(value);
				return G_DBUS_METHOD_INVOCATION_HANDLED;
			}
			g_free(targets);
			targets = g_variant_get_strv(value, NULL);
		}
		if (!known) {
			g_dbus_method_invocation_return_error(
			    invocation, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown key '%s'", key);
			g_variant_unref(value);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
	}
	spec.name = values[0];
	spec.version = values[1];
	spec.kind = values[2];
	spec.external_uri = values[3];
	spec.hash = values[4];
	spec.targets = (const gchar *const *)targets;
	if (spec.name == NULL || spec.external_uri == NULL || spec.hash == NULL) {
		g_dbus_method_invocation_return_error(invocation,
		                                      GW_ERROR,
		                                      GW_ERROR_INVALID_ARGS,
		                                      "Name, ExternalURI and Hash are required");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (self->authorize != NULL && !self->authorize(invocation, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	uri = gw_image_store_add(self->store, &spec, &error);
	if (uri == NULL) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	path = gw_dbus_images_export(self, uri);
	g_info("AddImage %s (%s) by %s",
	       uri,
	       spec.name,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_images_commit_and_reply(self, invocation, g_variant_new("(o)", path));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- life cycle ---- */

static void
gw_dbus_images_dispose(GObject *object)
{
	GwDbusImages *self = GW_DBUS_IMAGES(object);

	g_clear_handle_id(&self->resync_id, g_source_remove);
	if (self->tree != NULL)
		g_clear_signal_handler(&self->tree_changed_id, self->tree);
	if (self->images != NULL && self->object_manager != NULL) {
		g_autoptr(GList) paths = g_hash_table_get_keys(self->images);
		for (GList *l = paths; l != NULL; l = l->next) {
			g_autofree gchar *p = g_strdup(l->data);
			gw_dbus_images_unexport(self, p);
		}
	}
	g_clear_pointer(&self->images, g_hash_table_unref);
	g_clear_object(&self->object_manager);
	g_clear_object(&self->store);
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(gw_dbus_images_parent_class)->dispose(object);
}

static void
gw_dbus_images_class_init(GwDbusImagesClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_images_dispose;
}

static void
gw_dbus_images_init(GwDbusImages *self)
{
	self->images = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_dbus_image_entry_free);
}

GwDbusImages *
gw_dbus_images_new(GwDaemon *daemon,
                   GDBusObjectManagerServer *object_manager,
                   GwDbusAuthorizeFunc authorize,
                   gpointer authorize_data)
{
	GwDbusImages *self;

	g_return_val_if_fail(GW_IS_DAEMON(daemon), NULL);
	g_return_val_if_fail(gw_daemon_get_image_store(daemon) != NULL, NULL);

	self = g_object_new(GW_TYPE_DBUS_IMAGES, NULL);
	self->daemon = daemon;
	self->store = g_object_ref(gw_daemon_get_image_store(daemon));
	self->tree = g_object_ref(gw_daemon_get_tree(daemon));
	self->object_manager = g_object_ref(object_manager);
	self->authorize = authorize;
	self->authorize_data = authorize_data;
	self->tree_changed_id = g_signal_connect(
	    self->tree, "changed", G_CALLBACK(gw_dbus_images_tree_changed_cb), self);
	gw_dbus_images_resync(self);
	return self;
}
