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
	/* skeleton objects */
	GDBusObjectSkeleton *object;
	GDBusInterfaceSkeleton *iface;
	/* GW_DBUS_EXPORTER_FLAGS_ON_DEMAND: a hash of each property's value as last shown, in
	 * the order of the interface info (0: none) */
	guint32 *hashes;
} GwDbusExporterEntry;

struct _GwDbusExporter {
	GObject parent_instance;
	GwDmTree *tree;
	GwDbusObjectManager *object_manager;
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
	/* GW_DBUS_EXPORTER_FLAGS_ON_DEMAND */
	GDBusInterfaceInfo *info;
	guint n_properties;
	guint subtree_id;
	/* the first export: no client knows the bus name yet, so no InterfacesAdded */
	gboolean constructing;
};

G_DEFINE_TYPE(GwDbusExporter, gw_dbus_exporter, G_TYPE_OBJECT)

static void
gw_dbus_exporter_entry_free(GwDbusExporterEntry *entry)
{
	g_free(entry->uri);
	g_free(entry->hashes);
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
	if (entry->iface == NULL) {
		const gchar *names[] = {self->info->name, NULL};
		g_autofree gchar *owned = g_strdup(path);

		g_hash_table_remove(self->entries, owned);
		gw_dbus_object_manager_emit_interfaces_removed(self->object_manager, owned, names);
		return;
	}
	g_signal_handlers_disconnect_by_data(entry->iface, self->user_data);
	gw_dbus_object_manager_unexport(self->object_manager, path);
	g_hash_table_remove(self->entries, path);
}

/* ---- objects served on demand ---- */

static gboolean
gw_dbus_exporter_on_demand(GwDbusExporter *self)
{
	return (self->flags & GW_DBUS_EXPORTER_FLAGS_ON_DEMAND) != 0;
}

/* FNV-1a over the value's type and serialised bytes; never 0 ("not shown") */
static guint32
gw_dbus_exporter_hash_value(GVariant *value)
{
	const guchar *type = (const guchar *)g_variant_get_type_string(value);
	const guchar *data;
	gsize size;
	guint32 hash = 2166136261u;

	for (; *type != '\0'; type++)
		hash = (hash ^ *type) * 16777619u;
	size = g_variant_get_size(value);
	data = g_variant_get_data(value);
	for (gsize i = 0; data != NULL && i < size; i++)
		hash = (hash ^ data[i]) * 16777619u;
	return hash != 0 ? hash : 1;
}

/* the entry's properties now; (transfer full) a{sv} */
static GVariant *
gw_dbus_exporter_dup_properties(GwDbusExporter *self, const gchar *uri)
{
	return g_variant_ref_sink(self->funcs.properties(self, uri, self->user_data));
}

/* refreshes the hashes of @entry from @properties; the changed properties go to @changed
 * (a{sv}) when it is not NULL */
static guint
gw_dbus_exporter_rehash(GwDbusExporter *self,
                        GwDbusExporterEntry *entry,
                        GVariant *properties,
                        GVariantBuilder *changed)
{
	GVariantDict dict;
	guint n_changed = 0;

	g_variant_dict_init(&dict, properties);
	for (guint i = 0; i < self->n_properties; i++) {
		const gchar *name = self->info->properties[i]->name;
		g_autoptr(GVariant) value = g_variant_dict_lookup_value(&dict, name, NULL);
		guint32 hash = value != NULL ? gw_dbus_exporter_hash_value(value) : 0;

		if (entry->hashes[i] == hash)
			continue;
		entry->hashes[i] = hash;
		if (value != NULL && changed != NULL) {
			g_variant_builder_add(changed, "{sv}", name, value);
			n_changed++;
		}
	}
	g_variant_dict_clear(&dict);
	return n_changed;
}

/* PropertiesChanged for what changed since the object was last shown */
static void
gw_dbus_exporter_refresh_on_demand(GwDbusExporter *self,
                                   const gchar *path,
                                   GwDbusExporterEntry *entry)
{
	g_autoptr(GVariant) properties = gw_dbus_exporter_dup_properties(self, entry->uri);
	GDBusConnection *connection = gw_dbus_object_manager_get_connection(self->object_manager);
	GVariantBuilder changed;
	g_autoptr(GError) error = NULL;

	g_variant_builder_init(&changed, G_VARIANT_TYPE_VARDICT);
	if (gw_dbus_exporter_rehash(self, entry, properties, &changed) == 0 || connection == NULL) {
		g_variant_builder_clear(&changed);
		return;
	}
	if (!g_dbus_connection_emit_signal(
	        connection,
	        NULL,
	        path,
	        "org.freedesktop.DBus.Properties",
	        "PropertiesChanged",
	        g_variant_new(
	            "(sa{sv}@as)", self->info->name, &changed, g_variant_new_strv(NULL, 0)),
	        &error))
		g_warning("cannot emit PropertiesChanged on %s: %s", path, error->message);
}

static GwDbusExporterEntry *
gw_dbus_exporter_add_on_demand(GwDbusExporter *self, const gchar *path, gchar *uri)
{
	GwDbusExporterEntry *entry = g_new0(GwDbusExporterEntry, 1);
	g_autoptr(GVariant) properties = NULL;
	GVariantBuilder interfaces;

	entry->uri = uri;
	entry->hashes = g_new0(guint32, self->n_properties);
	properties = gw_dbus_exporter_dup_properties(self, entry->uri);
	gw_dbus_exporter_rehash(self, entry, properties, NULL);
	g_hash_table_insert(self->entries, g_strdup(path), entry);
	if (self->constructing)
		return entry;
	g_variant_builder_init(&interfaces, G_VARIANT_TYPE("a{sa{sv}}"));
	g_variant_builder_add(&interfaces, "{s@a{sv}}", self->info->name, properties);
	gw_dbus_object_manager_emit_interfaces_added(
	    self->object_manager, path, g_variant_builder_end(&interfaces));
	return entry;
}

/* fills a skeleton object, or sends what changed of one served on demand */
static void
gw_dbus_exporter_refresh_entry(GwDbusExporter *self, const gchar *path, GwDbusExporterEntry *entry)
{
	if (entry->iface == NULL)
		gw_dbus_exporter_refresh_on_demand(self, path, entry);
	else
		self->funcs.fill(self, entry->uri, entry->iface, self->user_data);
}

/* GetManagedObjects: every object served on demand, properties read now */
static void
gw_dbus_exporter_provide(GVariantBuilder *builder, gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);
	GHashTableIter iter;
	gpointer key;
	gpointer value;

	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		GwDbusExporterEntry *entry = value;
		g_variant_builder_open(builder, G_VARIANT_TYPE("{oa{sa{sv}}}"));
		g_variant_builder_add(builder, "o", key);
		g_variant_builder_open(builder, G_VARIANT_TYPE("a{sa{sv}}"));
		g_variant_builder_add(builder,
		                      "{s@a{sv}}",
		                      self->info->name,
		                      self->funcs.properties(self, entry->uri, self->user_data));
		g_variant_builder_close(builder);
		g_variant_builder_close(builder);
	}
}

static void
gw_dbus_exporter_subtree_method_call(GDBusConnection *connection,
                                     const gchar *sender,
                                     const gchar *object_path,
                                     const gchar *interface_name,
                                     const gchar *method_name,
                                     GVariant *parameters,
                                     GDBusMethodInvocation *invocation,
                                     gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);
	const gchar *uri = gw_dbus_exporter_invocation_target(self, invocation);

	if (uri == NULL)
		return;
	if (self->funcs.method_call == NULL) {
		g_dbus_method_invocation_return_error(invocation,
		                                      G_DBUS_ERROR,
		                                      G_DBUS_ERROR_UNKNOWN_METHOD,
		                                      "no method %s",
		                                      method_name);
		return;
	}
	self->funcs.method_call(self, uri, invocation, self->user_data);
}

static GVariant *
gw_dbus_exporter_subtree_get_property(GDBusConnection *connection,
                                      const gchar *sender,
                                      const gchar *object_path,
                                      const gchar *interface_name,
                                      const gchar *property_name,
                                      GError **error,
                                      gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);
	const gchar *uri = gw_dbus_exporter_lookup(self, object_path);
	g_autoptr(GVariant) properties = NULL;
	GVariantDict dict;
	GVariant *value;

	if (uri == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "%s is gone", object_path);
		return NULL;
	}
	properties = gw_dbus_exporter_dup_properties(self, uri);
	g_variant_dict_init(&dict, properties);
	value = g_variant_dict_lookup_value(&dict, property_name, NULL);
	g_variant_dict_clear(&dict);
	if (value == NULL)
		g_set_error(error,
		            G_DBUS_ERROR,
		            G_DBUS_ERROR_INVALID_ARGS,
		            "no property %s on %s",
		            property_name,
		            object_path);
	return value;
}

static const GDBusInterfaceVTable gw_dbus_exporter_method_vtable = {
    .method_call = gw_dbus_exporter_subtree_method_call,
    .get_property = gw_dbus_exporter_subtree_get_property,
};

const GDBusInterfaceVTable *
gw_dbus_exporter_get_method_vtable(void)
{
	return &gw_dbus_exporter_method_vtable;
}

static gchar **
gw_dbus_exporter_subtree_enumerate(GDBusConnection *connection,
                                   const gchar *sender,
                                   const gchar *object_path,
                                   gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);
	gsize prefix_len = strlen(self->path_prefix);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_strv_builder_add(builder, (const gchar *)key + prefix_len + 1);
	return g_strv_builder_end(builder);
}

static GDBusInterfaceInfo **
gw_dbus_exporter_subtree_introspect(GDBusConnection *connection,
                                    const gchar *sender,
                                    const gchar *object_path,
                                    const gchar *node,
                                    gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);
	g_autofree gchar *path = NULL;
	GDBusInterfaceInfo **infos;

	if (node == NULL)
		return NULL;
	path = g_strdup_printf("%s/%s", self->path_prefix, node);
	if (!g_hash_table_contains(self->entries, path))
		return NULL;
	infos = g_new0(GDBusInterfaceInfo *, 2);
	infos[0] = g_dbus_interface_info_ref(self->info);
	return infos;
}

static const GDBusInterfaceVTable *
gw_dbus_exporter_subtree_dispatch(GDBusConnection *connection,
                                  const gchar *sender,
                                  const gchar *object_path,
                                  const gchar *interface_name,
                                  const gchar *node,
                                  gpointer *out_user_data,
                                  gpointer user_data)
{
	GwDbusExporter *self = GW_DBUS_EXPORTER(user_data);
	g_autofree gchar *path = NULL;

	if (node == NULL || g_strcmp0(interface_name, self->info->name) != 0)
		return NULL;
	path = g_strdup_printf("%s/%s", self->path_prefix, node);
	if (!g_hash_table_contains(self->entries, path))
		return NULL;
	*out_user_data = self;
	return &gw_dbus_exporter_method_vtable;
}

static const GDBusSubtreeVTable gw_dbus_exporter_subtree_vtable = {
    .enumerate = gw_dbus_exporter_subtree_enumerate,
    .introspect = gw_dbus_exporter_subtree_introspect,
    .dispatch = gw_dbus_exporter_subtree_dispatch,
};

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
		gw_dbus_exporter_refresh_entry(self, path, entry);
		return g_steal_pointer(&path);
	}
	if (gw_dbus_exporter_on_demand(self)) {
		gw_dbus_exporter_add_on_demand(self, path, g_steal_pointer(&uri));
		g_debug("exported %s on demand", path);
		return g_steal_pointer(&path);
	}
	entry = g_new0(GwDbusExporterEntry, 1);
	entry->uri = g_steal_pointer(&uri);
	entry->object = G_DBUS_OBJECT_SKELETON(gw_dbus_gen_object_skeleton_new(path));
	entry->iface = self->funcs.create(self, entry->uri, self->user_data);
	/* the properties are right before InterfacesAdded announces them */
	self->funcs.fill(self, entry->uri, entry->iface, self->user_data);
	g_dbus_object_skeleton_add_interface(entry->object, entry->iface);
	gw_dbus_object_manager_export(self->object_manager, entry->object);
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
	gpointer key;
	gpointer value;

	g_return_if_fail(GW_IS_DBUS_EXPORTER(self));
	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, &key, &value))
		gw_dbus_exporter_refresh_entry(self, key, value);
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
		gw_dbus_exporter_refresh_entry(self, path, entry);
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
	if (self->object_manager != NULL && gw_dbus_exporter_on_demand(self)) {
		GDBusConnection *connection =
		    gw_dbus_object_manager_get_connection(self->object_manager);
		if (self->subtree_id != 0 && connection != NULL)
			g_dbus_connection_unregister_subtree(connection, self->subtree_id);
		self->subtree_id = 0;
		gw_dbus_object_manager_remove_provider(
		    self->object_manager, gw_dbus_exporter_provide, self);
	}
	/* objects served on demand go with the subtree, without a signal each */
	if (self->entries != NULL && gw_dbus_exporter_on_demand(self))
		g_hash_table_remove_all(self->entries);
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
	g_clear_pointer(&self->info, g_dbus_interface_info_unref);
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
                     GwDbusObjectManager *object_manager,
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
                          GwDbusObjectManager *object_manager,
                          const gchar *base_uri,
                          const gchar *path_prefix,
                          const gchar *id_leaf,
                          GwDbusExporterFlags flags,
                          const GwDbusExporterFuncs *funcs,
                          gpointer user_data)
{
	GwDbusExporter *self;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(GW_IS_DBUS_OBJECT_MANAGER(object_manager), NULL);
	if ((flags & GW_DBUS_EXPORTER_FLAGS_ON_DEMAND) != 0)
		g_return_val_if_fail(funcs != NULL && funcs->interface_info != NULL &&
		                         funcs->properties != NULL,
		                     NULL);
	else
		g_return_val_if_fail(funcs != NULL && funcs->create != NULL && funcs->fill != NULL,
		                     NULL);

	self = g_object_new(GW_TYPE_DBUS_EXPORTER, NULL);
	self->tree = g_object_ref(tree);
	self->object_manager = g_object_ref(object_manager);
	self->base = g_strdup(gw_dbus_exporter_relative(base_uri));
	self->path_prefix = g_strdup(path_prefix);
	self->id_leaf = g_strdup(id_leaf);
	self->flags = flags;
	self->funcs = *funcs;
	self->user_data = user_data;
	if (gw_dbus_exporter_on_demand(self)) {
		GDBusConnection *connection = gw_dbus_object_manager_get_connection(object_manager);

		self->info = g_dbus_interface_info_ref(funcs->interface_info());
		while (self->info->properties != NULL &&
		       self->info->properties[self->n_properties] != NULL)
			self->n_properties++;
		gw_dbus_object_manager_add_provider(object_manager, gw_dbus_exporter_provide, self);
		if (connection != NULL) {
			g_autoptr(GError) error = NULL;
			/* every node is an entry: no enumeration of 10,000 per call to find out */
			self->subtree_id = g_dbus_connection_register_subtree(
			    connection,
			    path_prefix,
			    &gw_dbus_exporter_subtree_vtable,
			    G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES,
			    self,
			    NULL,
			    &error);
			if (self->subtree_id == 0)
				g_warning("cannot serve %s: %s", path_prefix, error->message);
		}
	}
	self->tree_changed_id =
	    g_signal_connect(tree, "changed", G_CALLBACK(gw_dbus_exporter_tree_changed_cb), self);
	self->constructing = TRUE;
	gw_dbus_exporter_resync(self);
	self->constructing = FALSE;
	return self;
}
