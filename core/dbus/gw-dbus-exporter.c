/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include <string.h>

#include "gw-dbus-exporter.h"
#include "gw-dbus-generated.h"
#include "gw-error.h"

typedef struct {
	gchar *uri;
	GDBusObjectSkeleton *object;
	GDBusInterfaceSkeleton *iface;
} GwDbusExporterEntry;

struct _GwDbusExporter {
	GObject parent_instance;
	GwDmTree *tree;
	GDBusObjectManagerServer *object_manager;
	gchar *base; /* base URI without "./" and without a trailing slash */
	gchar *path_prefix;
	gchar *id_leaf; /* NULL: the entry node itself */
	GwDbusExporterFlags flags;
	GwDbusExporterFuncs funcs;
	gpointer user_data;
	GHashTable *entries; /* object path → GwDbusExporterEntry */
	gulong tree_changed_id;
	guint resync_id;
	/* GW_DBUS_EXPORTER_FLAGS_BATCH: the entries (names) changed in the tree, looked at
	 * together once the change settles. A record is written leaf by leaf, and exporting or
	 * filling it per leaf (or re-listing every entry for a new one) made a burst of 1,000
	 * device registrations cost O(N²) */
	GHashTable *dirty;
	guint dirty_id;
};

G_DEFINE_TYPE(GwDbusExporter, gw_dbus_exporter, G_TYPE_OBJECT)

static void
gw_dbus_exporter_entry_free(GwDbusExporterEntry *entry)
{
	g_free(entry->uri);
	g_clear_object(&entry->iface);
	g_clear_object(&entry->object);
	g_free(entry);
}

static const gchar *
gw_dbus_exporter_relative(const gchar *uri)
{
	if (g_strcmp0(uri, ".") == 0)
		return "";
	return g_str_has_prefix(uri, "./") ? uri + 2 : uri;
}

/* <x> when @uri is the entry @base/<x> or below it (@base relative); @exact: it is the entry
 * itself */
static gchar *
gw_dbus_exporter_split_base(const gchar *base, const gchar *uri, gboolean *exact)
{
	gsize base_len = strlen(base);
	const gchar *name;
	const gchar *slash;

	if (uri == NULL)
		return NULL;
	uri = gw_dbus_exporter_relative(uri);
	if (strncmp(uri, base, base_len) != 0 || uri[base_len] != '/')
		return NULL;
	name = uri + base_len + 1;
	slash = strchr(name, '/');
	if (slash == name || name[0] == '\0')
		return NULL;
	if (exact != NULL)
		*exact = slash == NULL;
	return slash != NULL ? g_strndup(name, (gsize)(slash - name)) : g_strdup(name);
}

static gchar *
gw_dbus_exporter_split(GwDbusExporter *self, const gchar *uri, gboolean *exact)
{
	return gw_dbus_exporter_split_base(self->base, uri, exact);
}

static gchar *
gw_dbus_exporter_path_of_prefix(const gchar *path_prefix, const gchar *name)
{
	g_autofree gchar *escaped = g_dbus_escape_object_path(name);
	return g_strdup_printf("%s/%s", path_prefix, escaped);
}

static gchar *
gw_dbus_exporter_path_of_name(GwDbusExporter *self, const gchar *name)
{
	return gw_dbus_exporter_path_of_prefix(self->path_prefix, name);
}

gchar *
gw_dbus_exporter_path_of(const gchar *base_uri, const gchar *path_prefix, const gchar *uri)
{
	gboolean exact = FALSE;
	g_autofree gchar *name = NULL;

	g_return_val_if_fail(base_uri != NULL && path_prefix != NULL, NULL);
	name = gw_dbus_exporter_split_base(gw_dbus_exporter_relative(base_uri), uri, &exact);
	if (name == NULL || !exact)
		return NULL;
	return gw_dbus_exporter_path_of_prefix(path_prefix, name);
}

gchar *
gw_dbus_exporter_path_for(GwDbusExporter *self, const gchar *uri)
{
	g_return_val_if_fail(GW_IS_DBUS_EXPORTER(self), NULL);
	return gw_dbus_exporter_path_of(self->base, self->path_prefix, uri);
}

gchar *
gw_dbus_exporter_dup_leaf(GwDbusExporter *self, const gchar *uri, const gchar *leaf)
{
	g_autofree gchar *leaf_uri = g_strdup_printf("%s/%s", uri, leaf);
	gchar *value = gw_dm_tree_dup_string(self->tree, leaf_uri);

	if (value == NULL || !g_utf8_validate(value, -1, NULL)) {
		g_free(value);
		return g_strdup("");
	}
	return value;
}

void
gw_dbus_exporter_fill_strings(GwDbusExporter *self,
                              const gchar *uri,
                              GDBusInterfaceSkeleton *iface,
                              const GwDbusExporterLeaf *leaves,
                              gsize n_leaves)
{
	g_return_if_fail(GW_IS_DBUS_EXPORTER(self));
	for (gsize i = 0; i < n_leaves; i++) {
		g_autofree gchar *value = gw_dbus_exporter_dup_leaf(self, uri, leaves[i].leaf);
		g_autofree gchar *shown = NULL;

		g_object_get(iface, leaves[i].property, &shown, NULL);
		if (g_strcmp0(shown, value) != 0)
			g_object_set(iface, leaves[i].property, value, NULL);
	}
}

static void
gw_dbus_exporter_unexport(GwDbusExporter *self, const gchar *path)
{
	GwDbusExporterEntry *entry = g_hash_table_lookup(self->entries, path);

	if (entry == NULL)
		return;
	g_debug("unexporting %s (%s)", path, entry->uri);
	g_signal_handlers_disconnect_by_data(entry->iface, self->user_data);
	g_dbus_object_manager_server_unexport(self->object_manager, path);
	g_hash_table_remove(self->entries, path);
}

/* exports, refreshes or (when the entry is gone or incomplete) unexports */
static gchar *
gw_dbus_exporter_export_name(GwDbusExporter *self, const gchar *name)
{
	g_autofree gchar *path = gw_dbus_exporter_path_of_name(self, name);
	g_autofree gchar *uri = g_strdup_printf("./%s/%s", self->base, name);
	GwDbusExporterEntry *entry = g_hash_table_lookup(self->entries, path);
	gboolean complete;

	if (self->id_leaf != NULL) {
		/* "A|B": the first of the leaves that has a value */
		g_auto(GStrv) leaves = g_strsplit(self->id_leaf, "|", -1);
		complete = FALSE;
		for (guint i = 0; leaves[i] != NULL && !complete; i++) {
			g_autofree gchar *id = gw_dbus_exporter_dup_leaf(self, uri, leaves[i]);
			complete = id[0] != '\0';
		}
	} else {
		complete = gw_dm_tree_lookup(self->tree, uri) != NULL;
	}
	if (!complete) {
		gw_dbus_exporter_unexport(self, path);
		return NULL;
	}
	if (entry != NULL) {
		self->funcs.fill(self, entry->uri, entry->iface, self->user_data);
		return g_steal_pointer(&path);
	}
	entry = g_new0(GwDbusExporterEntry, 1);
	entry->uri = g_steal_pointer(&uri);
	entry->object = G_DBUS_OBJECT_SKELETON(gw_dbus_gen_object_skeleton_new(path));
	entry->iface = self->funcs.create(self, entry->uri, self->user_data);
	/* the properties are right before InterfacesAdded announces them */
	self->funcs.fill(self, entry->uri, entry->iface, self->user_data);
	g_dbus_object_skeleton_add_interface(entry->object, entry->iface);
	g_dbus_object_manager_server_export(self->object_manager, entry->object);
	g_debug("exported %s (%s)", path, entry->uri);
	g_hash_table_insert(self->entries, g_strdup(path), entry);
	return g_steal_pointer(&path);
}

gchar *
gw_dbus_exporter_update(GwDbusExporter *self, const gchar *uri)
{
	gboolean exact = FALSE;
	g_autofree gchar *name = NULL;

	g_return_val_if_fail(GW_IS_DBUS_EXPORTER(self), NULL);
	name = gw_dbus_exporter_split(self, uri, &exact);
	if (name == NULL || !exact)
		return NULL;
	return gw_dbus_exporter_export_name(self, name);
}

void
gw_dbus_exporter_remove(GwDbusExporter *self, const gchar *uri)
{
	g_autofree gchar *path = NULL;

	g_return_if_fail(GW_IS_DBUS_EXPORTER(self));
	path = gw_dbus_exporter_path_for(self, uri);
	if (path != NULL)
		gw_dbus_exporter_unexport(self, path);
}

/* the names of the entries a resync exports, in order */
static GStrv
gw_dbus_exporter_list_names(GwDbusExporter *self)
{
	g_autofree gchar *base_uri = NULL;
	g_autoptr(GPtrArray) uris = NULL;
	g_autoptr(GStrvBuilder) builder = NULL;

	if (self->funcs.list == NULL) {
		base_uri = g_strdup_printf("./%s", self->base);
		return gw_dm_tree_list_children(self->tree, base_uri);
	}
	uris = self->funcs.list(self, self->user_data);
	builder = g_strv_builder_new();
	for (guint i = 0; uris != NULL && i < uris->len; i++) {
		gboolean exact = FALSE;
		g_autofree gchar *name =
		    gw_dbus_exporter_split(self, g_ptr_array_index(uris, i), &exact);
		if (name != NULL && exact)
			g_strv_builder_add(builder, name);
	}
	return g_strv_builder_end(builder);
}

void
gw_dbus_exporter_resync(GwDbusExporter *self)
{
	g_auto(GStrv) children = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer key;

	g_return_if_fail(GW_IS_DBUS_EXPORTER(self));
	children = gw_dbus_exporter_list_names(self);
	for (guint i = 0; children != NULL && children[i] != NULL; i++) {
		gchar *path = gw_dbus_exporter_export_name(self, children[i]);
		if (path != NULL)
			g_hash_table_add(seen, path);
	}
	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(seen, key))
			g_ptr_array_add(stale, g_strdup(key));
	}
	for (guint i = 0; i < stale->len; i++)
		gw_dbus_exporter_unexport(self, g_ptr_array_index(stale, i));
}

void
gw_dbus_exporter_refresh_all(GwDbusExporter *self)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail(GW_IS_DBUS_EXPORTER(self));
	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GwDbusExporterEntry *entry = value;
		self->funcs.fill(self, entry->uri, entry->iface, self->user_data);
	}
}

const gchar *
gw_dbus_exporter_lookup(GwDbusExporter *self, const gchar *object_path)
{
	GwDbusExporterEntry *entry;

	g_return_val_if_fail(GW_IS_DBUS_EXPORTER(self), NULL);
	if (object_path == NULL)
		return NULL;
	entry = g_hash_table_lookup(self->entries, object_path);
	return entry != NULL ? entry->uri : NULL;
}

GDBusInterfaceSkeleton *
gw_dbus_exporter_get_interface(GwDbusExporter *self, const gchar *uri)
{
	g_autofree gchar *path = NULL;
	GwDbusExporterEntry *entry;

	g_return_val_if_fail(GW_IS_DBUS_EXPORTER(self), NULL);
	path = gw_dbus_exporter_path_for(self, uri);
	entry = path != NULL ? g_hash_table_lookup(self->entries, path) : NULL;
	return entry != NULL ? entry->iface : NULL;
}

const gchar *
gw_dbus_exporter_invocation_uri(GwDbusExporter *self, GDBusMethodInvocation *invocation)
{
	return gw_dbus_exporter_lookup(self, g_dbus_method_invocation_get_object_path(invocation));
}

const gchar *
gw_dbus_exporter_invocation_target(GwDbusExporter *self, GDBusMethodInvocation *invocation)
{
	const gchar *path = g_dbus_method_invocation_get_object_path(invocation);
	const gchar *uri = gw_dbus_exporter_lookup(self, path);

	if (uri == NULL) {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_NOT_FOUND, "%s is gone", path);
	}
	return uri;
}

GPtrArray *
gw_dbus_exporter_list(GwDbusExporter *self)
{
	GPtrArray *uris = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;

	g_return_val_if_fail(GW_IS_DBUS_EXPORTER(self), uris);
	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(uris, ((GwDbusExporterEntry *)value)->uri);
	return uris;
}

static gboolean
gw_dbus_exporter_resync_cb(gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);

	self->resync_id = 0;
	gw_dbus_exporter_resync(self);
	return G_SOURCE_REMOVE;
}

/* an entry is built leaf by leaf within one main-loop iteration: look at the result once
 * it has settled */
static void
gw_dbus_exporter_schedule_resync(GwDbusExporter *self)
{
	if (self->resync_id != 0)
		return;
	/* no reference: dispose removes the source, and an idle that kept the exporter alive
	 * past its owner would call the owner's funcs after it is gone */
	self->resync_id =
	    g_idle_add_full(G_PRIORITY_DEFAULT, gw_dbus_exporter_resync_cb, self, NULL);
}

/* an entry the tree changed below: export it when it is new (and complete), unexport it when
 * its node is gone, refresh it otherwise */
static void
gw_dbus_exporter_settle_name(GwDbusExporter *self, const gchar *name)
{
	g_autofree gchar *path = gw_dbus_exporter_path_of_name(self, name);
	GwDbusExporterEntry *entry = g_hash_table_lookup(self->entries, path);

	if (entry == NULL) {
		g_autofree gchar *exported = gw_dbus_exporter_export_name(self, name);
	} else if (gw_dm_tree_lookup(self->tree, entry->uri) == NULL) {
		gw_dbus_exporter_unexport(self, path);
	} else {
		self->funcs.fill(self, entry->uri, entry->iface, self->user_data);
	}
}

static gboolean
gw_dbus_exporter_dirty_cb(gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);
	g_autoptr(GHashTable) dirty = g_steal_pointer(&self->dirty);
	GHashTableIter iter;
	gpointer key;

	self->dirty_id = 0;
	self->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_hash_table_iter_init(&iter, dirty);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		gw_dbus_exporter_settle_name(self, key);
	return G_SOURCE_REMOVE;
}

static void
gw_dbus_exporter_mark_dirty(GwDbusExporter *self, gchar *name)
{
	g_hash_table_add(self->dirty, name);
	if (self->dirty_id != 0)
		return;
	self->dirty_id = g_idle_add_full(G_PRIORITY_DEFAULT, gw_dbus_exporter_dirty_cb, self, NULL);
}

static void
gw_dbus_exporter_tree_changed_cb(GwDmTree *tree,
                                 const gchar *uri,
                                 guint change,
                                 const gchar *server_id,
                                 gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);
	g_autofree gchar *name = NULL;
	g_autofree gchar *path = NULL;
	const gchar *rel;
	gsize rel_len;
	gboolean exact = FALSE;

	if (uri == NULL)
		return;
	if (change == GW_DM_CHANGE_PROPERTIES &&
	    (self->flags & GW_DBUS_EXPORTER_FLAGS_IGNORE_PROPERTIES) != 0)
		return;
	name = gw_dbus_exporter_split(self, uri, &exact);
	if (name != NULL && !exact && self->funcs.concerns != NULL &&
	    !self->funcs.concerns(self, uri, self->user_data))
		return;
	if (name != NULL) {
		if ((self->flags & GW_DBUS_EXPORTER_FLAGS_BATCH) != 0) {
			gw_dbus_exporter_mark_dirty(self, g_steal_pointer(&name));
			return;
		}
		path = gw_dbus_exporter_path_of_name(self, name);
		/* a new entry is exported once the iteration that builds it is through */
		if (!g_hash_table_contains(self->entries, path))
			gw_dbus_exporter_schedule_resync(self);
		else
			gw_dbus_exporter_settle_name(self, name);
		return;
	}
	/* the base itself or a node above it (a rollback of ".", a delete of the base …) */
	rel = gw_dbus_exporter_relative(uri);
	rel_len = strlen(rel);
	if (rel_len == 0 || (strncmp(self->base, rel, rel_len) == 0 &&
	                     (self->base[rel_len] == '\0' || self->base[rel_len] == '/')))
		gw_dbus_exporter_schedule_resync(self);
}

static void
gw_dbus_exporter_dispose(GObject *object)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(object);

	g_clear_handle_id(&self->resync_id, g_source_remove);
	g_clear_handle_id(&self->dirty_id, g_source_remove);
	if (self->tree != NULL)
		g_clear_signal_handler(&self->tree_changed_id, self->tree);
	if (self->entries != NULL && self->object_manager != NULL) {
		g_autoptr(GList) paths = g_hash_table_get_keys(self->entries);
		g_autoptr(GPtrArray) copy = g_ptr_array_new_with_free_func(g_free);
		for (GList *l = paths; l != NULL; l = l->next)
			g_ptr_array_add(copy, g_strdup(l->data));
		for (guint i = 0; i < copy->len; i++)
			gw_dbus_exporter_unexport(self, g_ptr_array_index(copy, i));
	}
	g_clear_pointer(&self->entries, g_hash_table_unref);
	g_clear_pointer(&self->dirty, g_hash_table_unref);
	g_clear_object(&self->object_manager);
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(gw_dbus_exporter_parent_class)->dispose(object);
}

static void
gw_dbus_exporter_finalize(GObject *object)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(object);

	g_free(self->base);
	g_free(self->path_prefix);
	g_free(self->id_leaf);
	G_OBJECT_CLASS(gw_dbus_exporter_parent_class)->finalize(object);
}

static void
gw_dbus_exporter_class_init(GwDbusExporterClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = gw_dbus_exporter_dispose;
	object_class->finalize = gw_dbus_exporter_finalize;
}

static void
gw_dbus_exporter_init(GwDbusExporter *self)
{
	self->entries = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_dbus_exporter_entry_free);
	self->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

GwDbusExporter *
gw_dbus_exporter_new(GwDmTree *tree,
                     GDBusObjectManagerServer *object_manager,
                     const gchar *base_uri,
                     const gchar *path_prefix,
                     const gchar *id_leaf,
                     const GwDbusExporterFuncs *funcs,
                     gpointer user_data)
{
	g_return_val_if_fail(id_leaf != NULL, NULL);
	return gw_dbus_exporter_new_full(tree,
	                                 object_manager,
	                                 base_uri,
	                                 path_prefix,
	                                 id_leaf,
	                                 GW_DBUS_EXPORTER_FLAGS_NONE,
	                                 funcs,
	                                 user_data);
}

GwDbusExporter *
gw_dbus_exporter_new_full(GwDmTree *tree,
                          GDBusObjectManagerServer *object_manager,
                          const gchar *base_uri,
                          const gchar *path_prefix,
                          const gchar *id_leaf,
                          GwDbusExporterFlags flags,
                          const GwDbusExporterFuncs *funcs,
                          gpointer user_data)
{
	GwDbusExporter *self;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(funcs != NULL && funcs->create != NULL && funcs->fill != NULL, NULL);

	self = g_object_new(GW_TYPE_DBUS_EXPORTER, NULL);
	self->tree = g_object_ref(tree);
	self->object_manager = g_object_ref(object_manager);
	self->base = g_strdup(gw_dbus_exporter_relative(base_uri));
	self->path_prefix = g_strdup(path_prefix);
	self->id_leaf = g_strdup(id_leaf);
	self->flags = flags;
	self->funcs = *funcs;
	self->user_data = user_data;
	self->tree_changed_id =
	    g_signal_connect(tree, "changed", G_CALLBACK(gw_dbus_exporter_tree_changed_cb), self);
	gw_dbus_exporter_resync(self);
	return self;
}
