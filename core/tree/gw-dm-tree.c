/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwTree"

#include "config.h"

#include <string.h>

#include "gw-dm-ddf.h"
#include "gw-dm-tree.h"
#include "gw-tnds.h"

#define GW_DM_ROOT_DEFAULT_ACL "Add=*&Get=*"
#define GW_DM_URI_LIMITS_URI "./DevDetail/URI"

/* what few nodes have: kept out of GwDmNode so that the common node is 56 bytes */
typedef struct {
	GHashTable *index; /* name → child (borrowed), once the node has INDEX_MIN children */
	gchar *title;      /* nullable */
	GwDmAcl *acl;      /* own ACL, NULL = inherit (never an empty one) */
} GwDmNodeExtra;

/*
 * A tree holds some 20 nodes per inventoried device, so a node is kept small (issue 16): its
 * name and MIME type are pooled strings (the same dozen names and types repeat in every
 * record), a leaf has no children array, a node with few children no index (a linear scan of
 * a handful of pooled names is as fast as hashing), and the rare parts (index, title, ACL) are
 * in an extra block allocated only when one is set.
 */
struct _GwDmNode {
	const gchar *name; /* pooled (gw_dm_str_ref) */
	GwDmNode *parent;
	GPtrArray *children;    /* (element-type GwDmNode) owned, insertion order; NULL until
	                           the first child */
	const gchar *mime_type; /* pooled, nullable */
	GBytes *value;          /* leaves only, nullable */
	GwDmNodeExtra *extra;   /* nullable */
	guint8 format;          /* GwDmFormat; GW_DM_FORMAT_NODE for interior nodes */
	guint8 access;          /* GwDmAccess */
	guint8 permanent;
};

/* children a node must have before lookups use a hash index instead of a scan */
#define GW_DM_NODE_INDEX_MIN 32

struct _GwDmSnapshot {
	GwDmNode *root;
};

typedef enum {
	GW_DM_HANDLER_EXEC,
	GW_DM_HANDLER_GET_HOOK,
	GW_DM_HANDLER_VALUE_CHECK,
} GwDmHandlerKind;

typedef struct {
	gint ref;
	guint id;
	GwDmHandlerKind kind;
	gchar *pattern;
	GwDmExecFunc exec_func;
	GwDmGetHookFunc hook_func;
	GwDmValueCheckFunc check_func;
	gpointer user_data;
	GDestroyNotify destroy;
} GwDmHandler;

/* a node an upper layer described (gw_dm_tree_add_ddf_node) */
typedef struct {
	gchar *pattern; /* normalised, "*" for any one segment */
	GwDmFormat format;
	GwDmAccess access;
} GwDmTreeDdf;

struct _GwDmTree {
	GObject parent_instance;
	GwDmNode *root;
	guint64 generation;
	GwDmUriLimits limits;
	gboolean limits_valid;
	GPtrArray *handlers; /* (element-type GwDmHandler) */
	guint next_handler_id;
	GPtrArray *ddf_nodes; /* (element-type GwDmTreeDdf) */
};

G_DEFINE_FINAL_TYPE(GwDmTree, gw_dm_tree, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

/* ---- pooled strings (node names, MIME types) ---- */

typedef struct {
	guint ref;
	gchar str[];
} GwDmPooledStr;

static GMutex gw_dm_str_lock;
static GHashTable *gw_dm_str_pool; /* (element-type utf8) the str of each GwDmPooledStr */

static GwDmPooledStr *
gw_dm_str_block(const gchar *str)
{
	return (GwDmPooledStr *)(gpointer)(str - G_STRUCT_OFFSET(GwDmPooledStr, str));
}

/* the pooled copy of @str (nullable), one more reference to it */
static const gchar *
gw_dm_str_ref(const gchar *str)
{
	GwDmPooledStr *block;
	const gchar *pooled;

	if (str == NULL)
		return NULL;
	g_mutex_lock(&gw_dm_str_lock);
	if (gw_dm_str_pool == NULL)
		gw_dm_str_pool = g_hash_table_new(g_str_hash, g_str_equal);
	pooled = g_hash_table_lookup(gw_dm_str_pool, str);
	if (pooled != NULL) {
		block = gw_dm_str_block(pooled);
	} else {
		gsize len = strlen(str);
		block = g_malloc(sizeof(GwDmPooledStr) + len + 1);
		block->ref = 0;
		memcpy(block->str, str, len + 1);
		g_hash_table_add(gw_dm_str_pool, block->str);
	}
	block->ref++;
	g_mutex_unlock(&gw_dm_str_lock);
	return block->str;
}

static void
gw_dm_str_unref(const gchar *pooled)
{
	GwDmPooledStr *block;

	if (pooled == NULL)
		return;
	block = gw_dm_str_block(pooled);
	g_mutex_lock(&gw_dm_str_lock);
	if (--block->ref == 0) {
		g_hash_table_remove(gw_dm_str_pool, block->str);
		g_free(block);
	}
	g_mutex_unlock(&gw_dm_str_lock);
}

/* replaces the pooled string in @slot by @str (nullable) */
static void
gw_dm_str_set(const gchar **slot, const gchar *str)
{
	const gchar *old = *slot;

	if (old == str || (old != NULL && str != NULL && strcmp(old, str) == 0))
		return;
	*slot = gw_dm_str_ref(str);
	gw_dm_str_unref(old);
}

/* ---- pooled values ---- */

/* short values repeat across device records ("Attached", "OMA-DM", "false", "2"): a node holds
 * the one shared GBytes of its content; longer ones are its own */
#define GW_DM_VALUE_POOL_MAX 24

static GMutex gw_dm_value_lock;
static GHashTable *gw_dm_value_pool; /* GBytes (owned) → guint *, the nodes holding it */

/* a reference to the shared GBytes with the content of @value (nullable) */
static GBytes *
gw_dm_value_ref(GBytes *value)
{
	gpointer key = NULL;
	gpointer count = NULL;

	if (value == NULL || g_bytes_get_size(value) > GW_DM_VALUE_POOL_MAX)
		return value != NULL ? g_bytes_ref(value) : NULL;
	g_mutex_lock(&gw_dm_value_lock);
	if (gw_dm_value_pool == NULL)
		gw_dm_value_pool = g_hash_table_new_full(
		    g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref, g_free);
	if (!g_hash_table_lookup_extended(gw_dm_value_pool, value, &key, &count)) {
		key = g_bytes_ref(value);
		count = g_new0(guint, 1);
		g_hash_table_insert(gw_dm_value_pool, key, count);
	}
	(*(guint *)count)++;
	g_mutex_unlock(&gw_dm_value_lock);
	return g_bytes_ref(key);
}

static void
gw_dm_value_unref(GBytes *value)
{
	gpointer key = NULL;
	gpointer count = NULL;

	if (value == NULL)
		return;
	if (g_bytes_get_size(value) <= GW_DM_VALUE_POOL_MAX) {
		g_mutex_lock(&gw_dm_value_lock);
		if (gw_dm_value_pool != NULL &&
		    g_hash_table_lookup_extended(gw_dm_value_pool, value, &key, &count) &&
		    key == value && --(*(guint *)count) == 0)
			g_hash_table_remove(gw_dm_value_pool, key);
		g_mutex_unlock(&gw_dm_value_lock);
	}
	g_bytes_unref(value);
}

/* replaces the value of @node by (the shared copy of) @value (nullable) */
static void
gw_dm_node_set_value(GwDmNode *node, GBytes *value)
{
	GBytes *old = node->value;

	node->value = gw_dm_value_ref(value);
	gw_dm_value_unref(old);
}

/* ---- nodes ---- */

static void
gw_dm_node_free(GwDmNode *node);

static GwDmNode *
gw_dm_node_new(const gchar *name, GwDmFormat format)
{
	GwDmNode *node = g_new0(GwDmNode, 1);
	node->name = gw_dm_str_ref(name);
	node->format = (guint8)format;
	node->access = GW_DM_ACCESS_ALL;
	return node;
}

static GwDmNodeExtra *
gw_dm_node_extra(GwDmNode *node)
{
	if (node->extra == NULL)
		node->extra = g_new0(GwDmNodeExtra, 1);
	return node->extra;
}

/* frees the extra block once nothing is left in it */
static void
gw_dm_node_extra_trim(GwDmNode *node)
{
	GwDmNodeExtra *extra = node->extra;

	if (extra != NULL && extra->index == NULL && extra->title == NULL && extra->acl == NULL)
		g_clear_pointer(&node->extra, g_free);
}

static GwDmAcl *
gw_dm_node_acl(const GwDmNode *node)
{
	return node->extra != NULL ? node->extra->acl : NULL;
}

static const gchar *
gw_dm_node_title(const GwDmNode *node)
{
	return node->extra != NULL ? node->extra->title : NULL;
}

/* takes @acl (nullable; an empty one is freed: inherit) */
static void
gw_dm_node_take_acl(GwDmNode *node, GwDmAcl *acl)
{
	if (acl != NULL && gw_dm_acl_is_empty(acl))
		g_clear_pointer(&acl, gw_dm_acl_free);
	if (acl == NULL && node->extra == NULL)
		return;
	gw_dm_acl_free(gw_dm_node_extra(node)->acl);
	node->extra->acl = acl;
	gw_dm_node_extra_trim(node);
}

/* @title: nullable; "" is none */
static void
gw_dm_node_set_title(GwDmNode *node, const gchar *title)
{
	if (title != NULL && title[0] == '\0')
		title = NULL;
	if (title == NULL && node->extra == NULL)
		return;
	g_free(gw_dm_node_extra(node)->title);
	node->extra->title = g_strdup(title);
	gw_dm_node_extra_trim(node);
}

static guint
gw_dm_node_n_children(const GwDmNode *node)
{
	return node->children != NULL ? node->children->len : 0;
}

static void
gw_dm_node_free(GwDmNode *node)
{
	if (node == NULL)
		return;
	if (node->extra != NULL) {
		if (node->extra->index != NULL)
			g_hash_table_unref(node->extra->index);
		g_free(node->extra->title);
		gw_dm_acl_free(node->extra->acl);
		g_free(node->extra);
	}
	if (node->children != NULL)
		g_ptr_array_unref(node->children);
	gw_dm_str_unref(node->name);
	gw_dm_str_unref(node->mime_type);
	gw_dm_value_unref(node->value);
	g_free(node);
}

/* the child of @node named @name (a scan of the names, or the index of a big node) */
static GwDmNode *
gw_dm_node_find_child(const GwDmNode *node, const gchar *name)
{
	if (node->children == NULL)
		return NULL;
	if (node->extra != NULL && node->extra->index != NULL)
		return g_hash_table_lookup(node->extra->index, name);
	for (guint i = 0; i < gw_dm_node_n_children(node); i++) {
		GwDmNode *child = g_ptr_array_index(node->children, i);
		if (strcmp(child->name, name) == 0)
			return child;
	}
	return NULL;
}

static void
gw_dm_node_append_child(GwDmNode *parent, GwDmNode *child)
{
	GHashTable *index;

	if (parent->children == NULL)
		parent->children = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm_node_free);
	child->parent = parent;
	g_ptr_array_add(parent->children, child);
	index = parent->extra != NULL ? parent->extra->index : NULL;
	if (index != NULL) {
		g_hash_table_insert(index, (gpointer)child->name, child);
	} else if (parent->children->len >= GW_DM_NODE_INDEX_MIN) {
		index = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < parent->children->len; i++) {
			GwDmNode *c = g_ptr_array_index(parent->children, i);
			g_hash_table_insert(index, (gpointer)c->name, c);
		}
		gw_dm_node_extra(parent)->index = index;
	}
}

/* frees @child */
static void
gw_dm_node_remove_child(GwDmNode *parent, GwDmNode *child)
{
	if (parent->extra != NULL && parent->extra->index != NULL)
		g_hash_table_remove(parent->extra->index, child->name);
	g_ptr_array_remove(parent->children, child);
}

/* gives @child (a child of its parent) the name @name */
static void
gw_dm_node_rename(GwDmNode *child, const gchar *name)
{
	GHashTable *index = child->parent->extra != NULL ? child->parent->extra->index : NULL;

	if (index != NULL)
		g_hash_table_remove(index, child->name);
	gw_dm_str_set(&child->name, name);
	if (index != NULL)
		g_hash_table_insert(index, (gpointer)child->name, child);
}

static GwDmNode *
gw_dm_node_copy_deep(const GwDmNode *node)
{
	GwDmNode *copy = gw_dm_node_new(node->name, node->format);
	if (gw_dm_node_acl(node) != NULL)
		gw_dm_node_take_acl(copy, gw_dm_acl_copy(gw_dm_node_acl(node)));
	gw_dm_node_set_title(copy, gw_dm_node_title(node));
	copy->mime_type = gw_dm_str_ref(node->mime_type);
	copy->access = node->access;
	copy->permanent = node->permanent;
	gw_dm_node_set_value(copy, node->value);
	for (guint i = 0; i < gw_dm_node_n_children(node); i++)
		gw_dm_node_append_child(copy,
		                        gw_dm_node_copy_deep(g_ptr_array_index(node->children, i)));
	return copy;
}

static gboolean
gw_dm_node_has_permanent(const GwDmNode *node)
{
	if (node->permanent)
		return TRUE;
	for (guint i = 0; i < gw_dm_node_n_children(node); i++) {
		if (gw_dm_node_has_permanent(g_ptr_array_index(node->children, i)))
			return TRUE;
	}
	return FALSE;
}

static void
gw_dm_node_clear_permanent(GwDmNode *node)
{
	node->permanent = FALSE;
	for (guint i = 0; i < gw_dm_node_n_children(node); i++)
		gw_dm_node_clear_permanent(g_ptr_array_index(node->children, i));
}

static const GwDmAcl *
gw_dm_node_effective_acl(GwDmNode *node)
{
	for (GwDmNode *n = node; n != NULL; n = n->parent) {
		if (gw_dm_node_acl(n) != NULL)
			return gw_dm_node_acl(n);
	}
	return NULL;
}

static gboolean
gw_dm_node_acl_allows(GwDmNode *node, GwDmAccess access, const gchar *server_id)
{
	const GwDmAcl *acl;

	if (server_id == NULL)
		return TRUE;
	acl = gw_dm_node_effective_acl(node);
	return acl != NULL && gw_dm_acl_allows(acl, access, server_id);
}

static GwDmNode *
gw_dm_node_lookup_segments(GwDmNode *root, gchar **segs, guint n)
{
	GwDmNode *node = root;
	for (guint i = 0; i < n && segs[i] != NULL; i++) {
		node = gw_dm_node_find_child(node, segs[i]);
		if (node == NULL)
			return NULL;
	}
	return node;
}

static gboolean
gw_dm_value_equal(GBytes *a, GBytes *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return g_bytes_equal(a, b);
}

/* ---- tree internals ---- */

/* @uri must be normalised; walks it segment by segment without splitting it into a vector
 * (lookups are the tree's hottest path) */
static GwDmNode *
gw_dm_tree_lookup_normalized(GwDmTree *self, const gchar *uri)
{
	gchar stack[256];
	g_autofree gchar *heap = NULL;
	const gchar *path = g_str_has_prefix(uri, "./") ? uri + 2 : uri;
	GwDmNode *node = self->root;
	gsize len;
	gchar *seg;

	if (path[0] == '\0' || strcmp(uri, ".") == 0)
		return node;
	len = strlen(path);
	seg = len < sizeof(stack) ? stack : (heap = g_malloc(len + 1));
	memcpy(seg, path, len + 1);
	while (seg != NULL) {
		gchar *slash = strchr(seg, '/');
		if (slash != NULL)
			*slash = '\0';
		node = gw_dm_node_find_child(node, seg);
		if (node == NULL)
			return NULL;
		seg = slash != NULL ? slash + 1 : NULL;
	}
	return node;
}

static void
gw_dm_tree_emit_changed(GwDmTree *self, const gchar *uri, GwDmChange change, const gchar *server_id)
{
	self->generation++;
	if (gw_dm_uri_is_below(uri, GW_DM_URI_LIMITS_URI) ||
	    gw_dm_uri_is_below(GW_DM_URI_LIMITS_URI, uri))
		self->limits_valid = FALSE;
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0, uri, (guint)change, server_id);
}

static guint
gw_dm_tree_read_limit(GwDmTree *self, const gchar *name)
{
	g_autofree gchar *uri = g_strdup_printf(GW_DM_URI_LIMITS_URI "/%s", name);
	GwDmNode *node = gw_dm_tree_lookup_normalized(self, uri);
	g_autofree gchar *text = NULL;
	const gchar *data;
	gsize len = 0;
	guint64 value = 0;

	if (node == NULL || node->format == GW_DM_FORMAT_NODE || node->value == NULL)
		return 0;
	data = g_bytes_get_data(node->value, &len);
	text = g_strndup(data, len);
	if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &value, NULL))
		return 0;
	return (guint)value;
}

GwDmUriLimits
gw_dm_tree_get_uri_limits(GwDmTree *self)
{
	GwDmUriLimits none = {0, 0, 0};

	g_return_val_if_fail(GW_IS_DM_TREE(self), none);

	if (!self->limits_valid) {
		self->limits.max_depth = gw_dm_tree_read_limit(self, "MaxDepth");
		self->limits.max_tot_len = gw_dm_tree_read_limit(self, "MaxTotLen");
		self->limits.max_seg_len = gw_dm_tree_read_limit(self, "MaxSegLen");
		self->limits_valid = TRUE;
	}
	return self->limits;
}

/* splits off the query and normalises the path with the DevDetail limits */
static guint
gw_dm_tree_parse_uri(GwDmTree *self, const gchar *uri, gchar **path_out, gchar **query_out)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *query = NULL;
	g_autofree gchar *normalized = NULL;
	GwDmUriLimits limits;
	guint status = GW_DM_STATUS_BAD_REQUEST;

	if (uri == NULL)
		return GW_DM_STATUS_BAD_REQUEST;
	gw_dm_uri_split_query(uri, &path, &query);
	limits = gw_dm_tree_get_uri_limits(self);
	normalized = gw_dm_uri_normalize(path, &limits, &status, NULL);
	if (normalized == NULL)
		return status;
	*path_out = g_steal_pointer(&normalized);
	if (query_out != NULL)
		*query_out = g_steal_pointer(&query);
	else if (query != NULL)
		return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
	return GW_DM_STATUS_OK;
}

/* for the owner API: syntax only, no limits */
static gchar *
gw_dm_tree_normalize_owner(const gchar *uri, GError **error)
{
	if (uri == NULL) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_URI, "no URI");
		return NULL;
	}
	return gw_dm_uri_normalize(uri, NULL, NULL, error);
}

/* ---- standard definitions (DDF) ---- */

static void
gw_dm_tree_ddf_free(GwDmTreeDdf *ddf)
{
	g_free(ddf->pattern);
	g_free(ddf);
}

GwDmDdfMatch
gw_dm_tree_ddf_lookup(GwDmTree *self, const gchar *uri, GwDmFormat *format, GwDmAccess *access)
{
	GwDmFormat f = GW_DM_FORMAT_INVALID;
	GwDmAccess a = GW_DM_ACCESS_NONE;
	GwDmDdfMatch match = GW_DM_DDF_FREE;

	g_return_val_if_fail(GW_IS_DM_TREE(self), GW_DM_DDF_FREE);
	g_return_val_if_fail(uri != NULL, GW_DM_DDF_FREE);

	for (guint i = 0; i < self->ddf_nodes->len; i++) {
		GwDmTreeDdf *ddf = g_ptr_array_index(self->ddf_nodes, i);
		if (gw_dm_ddf_pattern_matches(ddf->pattern, uri)) {
			f = ddf->format;
			a = ddf->access;
			match = GW_DM_DDF_DESCRIBED;
			break;
		}
	}
	if (match == GW_DM_DDF_FREE)
		match = gw_dm_std_ddf_match(uri, &f, &a);
	if (format != NULL)
		*format = f;
	if (access != NULL)
		*access = a;
	return match;
}

/*
 * @wanted as the DDF lets a node at @uri have it: the access types it does not allow are
 * taken away; when none is left, the node keeps Replace (a secret can still be set) or what
 * the DDF allows (Get for DevInfo). @log: a line naming the node when some were taken away
 * (never its value).
 */
static GwDmAccess
gw_dm_tree_ddf_access(GwDmTree *self, const gchar *uri, GwDmAccess wanted, gboolean log)
{
	GwDmAccess allowed = GW_DM_ACCESS_NONE;
	GwDmAccess access;

	if (gw_dm_tree_ddf_lookup(self, uri, NULL, &allowed) != GW_DM_DDF_DESCRIBED ||
	    (wanted & ~allowed) == 0)
		return wanted;
	access = wanted & allowed;
	if (access == GW_DM_ACCESS_NONE)
		access = (allowed & GW_DM_ACCESS_REPLACE) != 0 ? GW_DM_ACCESS_REPLACE : allowed;
	if (log) {
		g_autofree gchar *refused = gw_dm_access_to_string(wanted & ~allowed);
		g_autofree gchar *kept = gw_dm_access_to_string(access);
		g_message("%s: its standard definition (DDF) does not allow %s; access types %s",
		          uri,
		          refused,
		          kept);
	}
	return access;
}

/* a node (and the subtree of a copy or a rename) just placed at @uri takes the DDF's access
 * types; nobody asked for more, so nothing is logged */
static void
gw_dm_tree_ddf_place(GwDmTree *self, GwDmNode *node, const gchar *uri)
{
	node->access = gw_dm_tree_ddf_access(self, uri, node->access, FALSE);
	for (guint i = 0; i < gw_dm_node_n_children(node); i++) {
		GwDmNode *child = g_ptr_array_index(node->children, i);
		g_autofree gchar *child_uri = gw_dm_uri_join(uri, child->name);
		gw_dm_tree_ddf_place(self, child, child_uri);
	}
}

/*
 * The status of a DM command that puts a node of @format at @uri: 200, 405 where the DDF of a
 * standard MO has no such node (the command is not allowed there), 415 for a format the DDF
 * does not give that node (RepPro: the format is not supported by the recipient).
 */
static guint
gw_dm_tree_ddf_status(GwDmTree *self, const gchar *uri, GwDmFormat format)
{
	GwDmFormat ddf_format = GW_DM_FORMAT_INVALID;

	switch (gw_dm_tree_ddf_lookup(self, uri, &ddf_format, NULL)) {
	case GW_DM_DDF_UNKNOWN:
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	case GW_DM_DDF_DESCRIBED:
		return format == ddf_format ? GW_DM_STATUS_OK : GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	case GW_DM_DDF_FREE:
	default:
		return GW_DM_STATUS_OK;
	}
}

/* the same for @node and its subtree placed at @uri (Copy, rename) */
static guint
gw_dm_tree_ddf_status_subtree(GwDmTree *self, GwDmNode *node, const gchar *uri)
{
	guint status = gw_dm_tree_ddf_status(self, uri, node->format);

	for (guint i = 0; i < gw_dm_node_n_children(node) && status == GW_DM_STATUS_OK; i++) {
		GwDmNode *child = g_ptr_array_index(node->children, i);
		g_autofree gchar *child_uri = gw_dm_uri_join(uri, child->name);
		status = gw_dm_tree_ddf_status_subtree(self, child, child_uri);
	}
	return status;
}

gboolean
gw_dm_tree_ddf_check(GwDmTree *self, const gchar *uri, GwDmFormat format, GError **error)
{
	GwDmFormat ddf_format = GW_DM_FORMAT_INVALID;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);
	g_return_val_if_fail(uri != NULL, FALSE);

	switch (gw_dm_tree_ddf_lookup(self, uri, &ddf_format, NULL)) {
	case GW_DM_DDF_UNKNOWN:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_ALLOWED,
		            "%s is not a node of its standard definition (DDF)",
		            uri);
		return FALSE;
	case GW_DM_DDF_DESCRIBED:
		if (format == ddf_format)
			return TRUE;
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "%s is %s in its standard definition (DDF), not %s",
		            uri,
		            gw_dm_format_to_string(ddf_format),
		            gw_dm_format_to_string(format));
		return FALSE;
	case GW_DM_DDF_FREE:
	default:
		return TRUE;
	}
}

/* applies a new DDF node to the nodes matching @segs (from @i) below @node at @uri */
static void
gw_dm_tree_ddf_apply_existing(GwDmTree *self,
                              GwDmNode *node,
                              const gchar *uri,
                              gchar **segs,
                              guint i,
                              GwDmAccess allowed)
{
	if (segs[i] == NULL) {
		GwDmAccess access;
		/* access types the new node allows were clamped already by the definitions that
		 * govern the node (when it was made, or when they were added): only a node with
		 * more than the new one allows can change (10,000 records: one lookup per node
		 * instead of one per node and pattern) */
		if ((node->access & ~allowed) == 0)
			return;
		access = gw_dm_tree_ddf_access(self, uri, node->access, TRUE);
		if (access != node->access) {
			node->access = access;
			gw_dm_tree_emit_changed(self, uri, GW_DM_CHANGE_PROPERTIES, NULL);
		}
		return;
	}
	if (strcmp(segs[i], "*") == 0) {
		/* collect first: emitting "changed" may let handlers change the tree */
		g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
		for (guint c = 0; c < gw_dm_node_n_children(node); c++) {
			GwDmNode *child = g_ptr_array_index(node->children, c);
			g_ptr_array_add(names, g_strdup(child->name));
		}
		for (guint c = 0; c < names->len; c++) {
			GwDmNode *child = gw_dm_node_get_child(node, g_ptr_array_index(names, c));
			g_autofree gchar *child_uri = NULL;
			if (child == NULL)
				continue;
			child_uri = gw_dm_uri_join(uri, child->name);
			gw_dm_tree_ddf_apply_existing(self, child, child_uri, segs, i + 1, allowed);
		}
	} else {
		GwDmNode *child = gw_dm_node_get_child(node, segs[i]);
		g_autofree gchar *child_uri = NULL;
		if (child == NULL)
			return;
		child_uri = gw_dm_uri_join(uri, child->name);
		gw_dm_tree_ddf_apply_existing(self, child, child_uri, segs, i + 1, allowed);
	}
}

void
gw_dm_tree_add_ddf_node(GwDmTree *self, const gchar *pattern, GwDmFormat format, GwDmAccess access)
{
	g_autofree gchar *normalized = NULL;
	g_auto(GStrv) segs = NULL;
	GwDmTreeDdf *ddf = NULL;

	g_return_if_fail(GW_IS_DM_TREE(self));
	g_return_if_fail(pattern != NULL);
	g_return_if_fail(format < GW_DM_FORMAT_INVALID);
	g_return_if_fail(access != GW_DM_ACCESS_NONE && (access & ~GW_DM_ACCESS_ALL) == 0);

	normalized = gw_dm_uri_normalize(pattern, NULL, NULL, NULL);
	if (normalized == NULL || strcmp(normalized, ".") == 0) {
		g_critical("invalid DDF pattern %s", pattern);
		return;
	}
	for (guint i = 0; i < self->ddf_nodes->len && ddf == NULL; i++) {
		GwDmTreeDdf *old = g_ptr_array_index(self->ddf_nodes, i);
		if (strcmp(old->pattern, normalized) == 0)
			ddf = old;
	}
	if (ddf == NULL) {
		ddf = g_new0(GwDmTreeDdf, 1);
		ddf->pattern = g_strdup(normalized);
		g_ptr_array_add(self->ddf_nodes, ddf);
	}
	ddf->format = format;
	ddf->access = access;
	/* nodes that exist already (loaded from the state) follow it too */
	segs = gw_dm_uri_split(normalized);
	gw_dm_tree_ddf_apply_existing(self, self->root, ".", segs, 0, access);
}

/* ---- handlers ---- */

static GwDmHandler *
gw_dm_handler_ref(GwDmHandler *handler)
{
	handler->ref++;
	return handler;
}

static void
gw_dm_handler_unref(GwDmHandler *handler)
{
	if (--handler->ref > 0)
		return;
	if (handler->destroy != NULL)
		handler->destroy(handler->user_data);
	g_free(handler->pattern);
	g_free(handler);
}

static guint
gw_dm_tree_add_handler(GwDmTree *self, GwDmHandler *handler, const gchar *pattern)
{
	g_autofree gchar *normalized = gw_dm_uri_normalize(pattern, NULL, NULL, NULL);

	if (normalized == NULL) {
		g_critical("invalid handler pattern %s", pattern);
		gw_dm_handler_unref(handler);
		return 0;
	}
	handler->pattern = g_steal_pointer(&normalized);
	handler->id = ++self->next_handler_id;
	g_ptr_array_add(self->handlers, handler);
	return handler->id;
}

/* a handler of @kind holding one reference; the caller sets its function */
static GwDmHandler *
gw_dm_handler_new(GwDmHandlerKind kind, gpointer user_data, GDestroyNotify destroy)
{
	GwDmHandler *handler = g_new0(GwDmHandler, 1);

	handler->ref = 1;
	handler->kind = kind;
	handler->user_data = user_data;
	handler->destroy = destroy;
	return handler;
}

guint
gw_dm_tree_add_exec_handler(GwDmTree *self,
                            const gchar *pattern,
                            GwDmExecFunc func,
                            gpointer user_data,
                            GDestroyNotify destroy)
{
	GwDmHandler *handler;

	g_return_val_if_fail(GW_IS_DM_TREE(self), 0);
	g_return_val_if_fail(pattern != NULL, 0);
	g_return_val_if_fail(func != NULL, 0);

	handler = gw_dm_handler_new(GW_DM_HANDLER_EXEC, user_data, destroy);
	handler->exec_func = func;
	return gw_dm_tree_add_handler(self, handler, pattern);
}

guint
gw_dm_tree_add_get_hook(GwDmTree *self,
                        const gchar *pattern,
                        GwDmGetHookFunc func,
                        gpointer user_data,
                        GDestroyNotify destroy)
{
	GwDmHandler *handler;

	g_return_val_if_fail(GW_IS_DM_TREE(self), 0);
	g_return_val_if_fail(pattern != NULL, 0);
	g_return_val_if_fail(func != NULL, 0);

	handler = gw_dm_handler_new(GW_DM_HANDLER_GET_HOOK, user_data, destroy);
	handler->hook_func = func;
	return gw_dm_tree_add_handler(self, handler, pattern);
}

guint
gw_dm_tree_add_value_check(GwDmTree *self,
                           const gchar *pattern,
                           GwDmValueCheckFunc func,
                           gpointer user_data,
                           GDestroyNotify destroy)
{
	GwDmHandler *handler;

	g_return_val_if_fail(GW_IS_DM_TREE(self), 0);
	g_return_val_if_fail(pattern != NULL, 0);
	g_return_val_if_fail(func != NULL, 0);

	handler = gw_dm_handler_new(GW_DM_HANDLER_VALUE_CHECK, user_data, destroy);
	handler->check_func = func;
	return gw_dm_tree_add_handler(self, handler, pattern);
}

void
gw_dm_tree_remove_handler(GwDmTree *self, guint id)
{
	g_return_if_fail(GW_IS_DM_TREE(self));

	for (guint i = 0; i < self->handlers->len; i++) {
		GwDmHandler *handler = g_ptr_array_index(self->handlers, i);
		if (handler->id == id) {
			g_ptr_array_remove_index(self->handlers, i);
			return;
		}
	}
}

/* (element-type GwDmHandler) referenced handlers of @kind matching @uri, in registration order */
static GPtrArray *
gw_dm_tree_find_handlers(GwDmTree *self, GwDmHandlerKind kind, const gchar *uri)
{
	GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm_handler_unref);
	for (guint i = 0; i < self->handlers->len; i++) {
		GwDmHandler *handler = g_ptr_array_index(self->handlers, i);
		if (handler->kind == kind && gw_dm_uri_match(handler->pattern, uri))
			g_ptr_array_add(found, gw_dm_handler_ref(handler));
	}
	return found;
}

static gboolean
gw_dm_tree_has_handlers(GwDmTree *self, GwDmHandlerKind kind)
{
	for (guint i = 0; i < self->handlers->len; i++) {
		GwDmHandler *handler = g_ptr_array_index(self->handlers, i);
		if (handler->kind == kind)
			return TRUE;
	}
	return FALSE;
}

/* GW_DM_STATUS_OK, or the status of the first value check that refuses @data for @path */
static guint
gw_dm_tree_run_value_checks(GwDmTree *self, const gchar *server_id, const gchar *path, GBytes *data)
{
	g_autoptr(GPtrArray) checks =
	    gw_dm_tree_find_handlers(self, GW_DM_HANDLER_VALUE_CHECK, path);
	for (guint i = 0; i < checks->len; i++) {
		GwDmHandler *handler = g_ptr_array_index(checks, i);
		guint status = handler->check_func(self, server_id, path, data, handler->user_data);
		if (status != GW_DM_STATUS_OK)
			return status;
	}
	return GW_DM_STATUS_OK;
}

static void
gw_dm_tree_run_get_hooks(GwDmTree *self, const gchar *uri)
{
	g_autoptr(GPtrArray) hooks = gw_dm_tree_find_handlers(self, GW_DM_HANDLER_GET_HOOK, uri);
	for (guint i = 0; i < hooks->len; i++) {
		GwDmHandler *handler = g_ptr_array_index(hooks, i);
		handler->hook_func(self, uri, handler->user_data);
	}
}

static void
gw_dm_node_collect_uris(GwDmNode *node, const gchar *uri, GPtrArray *uris)
{
	g_ptr_array_add(uris, g_strdup(uri));
	for (guint i = 0; i < gw_dm_node_n_children(node); i++) {
		GwDmNode *child = g_ptr_array_index(node->children, i);
		g_autofree gchar *child_uri = gw_dm_uri_join(uri, child->name);
		gw_dm_node_collect_uris(child, child_uri, uris);
	}
}

/* hooks for @uri itself (it may not exist yet: hooks can create computed nodes), then, for
 * list queries, for every node below it */
static void
gw_dm_tree_run_get_hooks_for(GwDmTree *self, const gchar *uri, gboolean recursive)
{
	g_autoptr(GPtrArray) uris = NULL;
	GwDmNode *node;

	if (!gw_dm_tree_has_handlers(self, GW_DM_HANDLER_GET_HOOK))
		return;
	gw_dm_tree_run_get_hooks(self, uri);
	if (!recursive)
		return;
	node = gw_dm_tree_lookup_normalized(self, uri);
	if (node == NULL)
		return;
	/* collect first: hooks may change the tree while we walk it */
	uris = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < gw_dm_node_n_children(node); i++) {
		GwDmNode *child = g_ptr_array_index(node->children, i);
		g_autofree gchar *child_uri = gw_dm_uri_join(uri, child->name);
		gw_dm_node_collect_uris(child, child_uri, uris);
	}
	for (guint i = 0; i < uris->len; i++)
		gw_dm_tree_run_get_hooks(self, g_ptr_array_index(uris, i));
}

/* ---- GObject ---- */

static void
gw_dm_tree_finalize(GObject *object)
{
	GwDmTree *self = GW_DM_TREE(object);

	g_ptr_array_unref(self->handlers);
	g_ptr_array_unref(self->ddf_nodes);
	gw_dm_node_free(self->root);
	G_OBJECT_CLASS(gw_dm_tree_parent_class)->finalize(object);
}

/* "changed" is emitted once per node when a state file loads (220,000 times for 10,000
 * devices): marshallers of its own instead of the generic (libffi) one */
typedef void (*GwDmTreeChangedFunc)(gpointer instance,
                                    const gchar *uri,
                                    guint change,
                                    const gchar *server_id,
                                    gpointer user_data);

static void
gw_dm_tree_marshal_changed(GClosure *closure,
                           GValue *return_value,
                           guint n_param_values,
                           const GValue *param_values,
                           gpointer invocation_hint,
                           gpointer marshal_data)
{
	GCClosure *cc = (GCClosure *)closure;
	gpointer data1 = closure->data;
	gpointer data2 = g_value_peek_pointer(param_values + 0);
	GwDmTreeChangedFunc callback;

	g_return_if_fail(n_param_values == 4);
	if (!G_CCLOSURE_SWAP_DATA(closure)) {
		data1 = g_value_peek_pointer(param_values + 0);
		data2 = closure->data;
	}
	callback = (GwDmTreeChangedFunc)(marshal_data != NULL ? marshal_data : cc->callback);
	callback(data1,
	         g_value_get_string(param_values + 1),
	         g_value_get_uint(param_values + 2),
	         g_value_get_string(param_values + 3),
	         data2);
}

static void
gw_dm_tree_marshal_changed_va(GClosure *closure,
                              GValue *return_value,
                              gpointer instance,
                              va_list args,
                              gpointer marshal_data,
                              int n_params,
                              GType *param_types)
{
	GCClosure *cc = (GCClosure *)closure;
	gpointer data1 = closure->data;
	gpointer data2 = instance;
	GwDmTreeChangedFunc callback;
	const gchar *uri;
	const gchar *server_id;
	guint change;
	va_list copy;

	G_VA_COPY(copy, args);
	uri = va_arg(copy, const gchar *);
	change = va_arg(copy, guint);
	server_id = va_arg(copy, const gchar *);
	va_end(copy);
	if (!G_CCLOSURE_SWAP_DATA(closure)) {
		data1 = instance;
		data2 = closure->data;
	}
	callback = (GwDmTreeChangedFunc)(marshal_data != NULL ? marshal_data : cc->callback);
	callback(data1, uri, change, server_id, data2);
}

static void
gw_dm_tree_class_init(GwDmTreeClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = gw_dm_tree_finalize;

	/**
	 * GwDmTree::changed:
	 * @uri: normalised URI of the changed node (or subtree)
	 * @change: a #GwDmChange
	 * @server_id: (nullable): the server that made the change, NULL for the owner
	 */
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
	                                       G_TYPE_FROM_CLASS(klass),
	                                       G_SIGNAL_RUN_LAST,
	                                       0,
	                                       NULL,
	                                       NULL,
	                                       gw_dm_tree_marshal_changed,
	                                       G_TYPE_NONE,
	                                       3,
	                                       G_TYPE_STRING,
	                                       G_TYPE_UINT,
	                                       G_TYPE_STRING);
	g_signal_set_va_marshaller(
	    signals[SIGNAL_CHANGED], G_TYPE_FROM_CLASS(klass), gw_dm_tree_marshal_changed_va);
}

static GwDmNode *
gw_dm_tree_new_root(void)
{
	GwDmNode *root = gw_dm_node_new(".", GW_DM_FORMAT_NODE);
	gw_dm_node_take_acl(root, gw_dm_acl_parse(GW_DM_ROOT_DEFAULT_ACL, NULL));
	root->permanent = TRUE;
	return root;
}

static void
gw_dm_tree_init(GwDmTree *self)
{
	self->root = gw_dm_tree_new_root();
	self->handlers = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm_handler_unref);
	self->ddf_nodes = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm_tree_ddf_free);
}

GwDmTree *
gw_dm_tree_new(void)
{
	return g_object_new(GW_TYPE_DM_TREE, NULL);
}

guint64
gw_dm_tree_get_generation(GwDmTree *self)
{
	g_return_val_if_fail(GW_IS_DM_TREE(self), 0);
	return self->generation;
}

/* ---- Get ---- */

typedef enum {
	GW_DM_QUERY_NONE,
	GW_DM_QUERY_LIST_STRUCT,
	GW_DM_QUERY_LIST_STRUCT_DATA,
	GW_DM_QUERY_LIST_TNDS,
	GW_DM_QUERY_PROP_ACL,
	GW_DM_QUERY_PROP_FORMAT,
	GW_DM_QUERY_PROP_TYPE,
	GW_DM_QUERY_PROP_TITLE,
	GW_DM_QUERY_PROP_NAME,
	GW_DM_QUERY_PROP_SIZE,
} GwDmQuery;

/* 400 for a query that is not "key=value", 406 for an unknown key or value */
static guint
gw_dm_query_parse(const gchar *query, GwDmQuery *out)
{
	static const struct {
		const gchar *text;
		GwDmQuery query;
	} known[] = {
	    {"list=Struct", GW_DM_QUERY_LIST_STRUCT},
	    {"list=StructData", GW_DM_QUERY_LIST_STRUCT_DATA},
	    {"list=TNDS", GW_DM_QUERY_LIST_TNDS},
	    {"prop=ACL", GW_DM_QUERY_PROP_ACL},
	    {"prop=Format", GW_DM_QUERY_PROP_FORMAT},
	    {"prop=Type", GW_DM_QUERY_PROP_TYPE},
	    {"prop=Title", GW_DM_QUERY_PROP_TITLE},
	    {"prop=Name", GW_DM_QUERY_PROP_NAME},
	    {"prop=Size", GW_DM_QUERY_PROP_SIZE},
	};
	const gchar *eq;

	*out = GW_DM_QUERY_NONE;
	if (query == NULL)
		return GW_DM_STATUS_OK;
	eq = strchr(query, '=');
	if (eq == NULL || eq == query || eq[1] == '\0')
		return GW_DM_STATUS_BAD_REQUEST;
	for (guint i = 0; i < G_N_ELEMENTS(known); i++) {
		if (g_strcmp0(query, known[i].text) == 0) {
			*out = known[i].query;
			return GW_DM_STATUS_OK;
		}
	}
	return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
}

static GBytes *
gw_dm_node_children_bytes(GwDmNode *node)
{
	g_autoptr(GString) str = g_string_new(NULL);
	gsize len;

	for (guint i = 0; i < gw_dm_node_n_children(node); i++) {
		GwDmNode *child = g_ptr_array_index(node->children, i);
		if (i > 0)
			g_string_append_c(str, '/');
		g_string_append(str, child->name);
	}
	len = str->len;
	return g_bytes_new_take(g_string_free(g_steal_pointer(&str), FALSE), len);
}

static GwDmItem *
gw_dm_item_new_take_string(const gchar *uri, gchar *text)
{
	gsize len = strlen(text);
	g_autoptr(GBytes) bytes = g_bytes_new_take(text, len);
	return gw_dm_item_new(uri, GW_DM_FORMAT_CHR, "text/plain", bytes);
}

static void
gw_dm_tree_list_node(GwDmNode *node,
                     const gchar *uri,
                     const GwDmAcl *inherited,
                     const gchar *server_id,
                     gboolean with_data,
                     GPtrArray *results)
{
	const GwDmAcl *effective = gw_dm_node_acl(node) == NULL ? inherited : gw_dm_node_acl(node);
	GBytes *data = NULL;

	if (server_id != NULL &&
	    (effective == NULL || !gw_dm_acl_allows(effective, GW_DM_ACCESS_GET, server_id)))
		return;
	if (with_data && node->format != GW_DM_FORMAT_NODE && (node->access & GW_DM_ACCESS_GET))
		data = node->value;
	g_ptr_array_add(results, gw_dm_item_new(uri, node->format, node->mime_type, data));
	for (guint i = 0; i < gw_dm_node_n_children(node); i++) {
		GwDmNode *child = g_ptr_array_index(node->children, i);
		g_autofree gchar *child_uri = gw_dm_uri_join(uri, child->name);
		gw_dm_tree_list_node(child, child_uri, effective, server_id, with_data, results);
	}
}

guint
gw_dm_tree_get(GwDmTree *self, const gchar *server_id, const gchar *uri, GPtrArray **results)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *query_text = NULL;
	g_autoptr(GPtrArray) items = NULL;
	g_autofree gchar *prop_uri = NULL;
	GwDmQuery query = GW_DM_QUERY_NONE;
	GwDmNode *node;
	guint status;

	g_return_val_if_fail(GW_IS_DM_TREE(self), GW_DM_STATUS_COMMAND_FAILED);

	if (results != NULL)
		*results = NULL;
	status = gw_dm_tree_parse_uri(self, uri, &path, &query_text);
	if (status != GW_DM_STATUS_OK)
		return status;
	status = gw_dm_query_parse(query_text, &query);
	if (status != GW_DM_STATUS_OK)
		return status;

	gw_dm_tree_run_get_hooks_for(self,
	                             path,
	                             query == GW_DM_QUERY_LIST_STRUCT ||
	                                 query == GW_DM_QUERY_LIST_STRUCT_DATA ||
	                                 query == GW_DM_QUERY_LIST_TNDS);

	node = gw_dm_tree_lookup_normalized(self, path);
	if (node == NULL)
		return GW_DM_STATUS_NOT_FOUND;
	if ((node->access & GW_DM_ACCESS_GET) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if (!gw_dm_node_acl_allows(node, GW_DM_ACCESS_GET, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;

	items = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm_item_free);
	/* property results name the node with its query, as requested */
	if (query_text != NULL)
		prop_uri = g_strconcat(path, "?", query_text, NULL);
	switch (query) {
	case GW_DM_QUERY_NONE:
		if (node->format == GW_DM_FORMAT_NODE) {
			g_autoptr(GBytes) names = gw_dm_node_children_bytes(node);
			g_ptr_array_add(
			    items, gw_dm_item_new(path, GW_DM_FORMAT_NODE, node->mime_type, names));
		} else {
			g_ptr_array_add(
			    items,
			    gw_dm_item_new(path, node->format, node->mime_type, node->value));
		}
		break;
	case GW_DM_QUERY_LIST_STRUCT:
	case GW_DM_QUERY_LIST_STRUCT_DATA:
		gw_dm_tree_list_node(node,
		                     path,
		                     node->parent != NULL ? gw_dm_node_effective_acl(node->parent)
		                                          : NULL,
		                     server_id,
		                     query == GW_DM_QUERY_LIST_STRUCT_DATA,
		                     items);
		break;
	case GW_DM_QUERY_LIST_TNDS: {
		g_autoptr(GError) error = NULL;
		gchar *xml = gw_tnds_export(self, path, server_id, GW_TNDS_EXPORT_VALUES, &error);
		if (xml == NULL) {
			g_debug("TNDS export of %s failed: %s", path, error->message);
			return GW_DM_STATUS_COMMAND_FAILED;
		}
		g_ptr_array_add(
		    items, gw_dm_item_new_string(path, GW_DM_FORMAT_XML, GW_TNDS_MIME_TYPE, xml));
		g_free(xml);
		break;
	}
	case GW_DM_QUERY_PROP_ACL:
		g_ptr_array_add(items,
		                gw_dm_item_new_take_string(
		                    prop_uri, gw_dm_acl_to_string(gw_dm_node_acl(node))));
		break;
	case GW_DM_QUERY_PROP_FORMAT:
		g_ptr_array_add(items,
		                gw_dm_item_new_take_string(
		                    prop_uri, g_strdup(gw_dm_format_to_string(node->format))));
		break;
	case GW_DM_QUERY_PROP_TYPE:
		g_ptr_array_add(
		    items,
		    gw_dm_item_new_take_string(
		        prop_uri, g_strdup(node->mime_type != NULL ? node->mime_type : "")));
		break;
	case GW_DM_QUERY_PROP_TITLE:
		g_ptr_array_add(
		    items,
		    gw_dm_item_new_take_string(
		        prop_uri,
		        g_strdup(gw_dm_node_title(node) != NULL ? gw_dm_node_title(node) : "")));
		break;
	case GW_DM_QUERY_PROP_NAME:
		g_ptr_array_add(items, gw_dm_item_new_take_string(prop_uri, g_strdup(node->name)));
		break;
	case GW_DM_QUERY_PROP_SIZE:
		/* Size is a leaf property */
		if (node->format == GW_DM_FORMAT_NODE)
			return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
		g_ptr_array_add(
		    items,
		    gw_dm_item_new_take_string(
		        prop_uri,
		        g_strdup_printf("%" G_GSIZE_FORMAT,
		                        node->value != NULL ? g_bytes_get_size(node->value) : 0)));
		break;
	default:
		return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
	}
	if (results != NULL)
		*results = g_steal_pointer(&items);
	return GW_DM_STATUS_OK;
}

/* ---- Add ---- */

/* the deepest existing node on the way to @segs; *@depth = number of segments matched */
static GwDmNode *
gw_dm_tree_deepest(GwDmTree *self, gchar **segs, guint *depth)
{
	GwDmNode *node = self->root;
	guint i = 0;

	for (; segs[i] != NULL; i++) {
		GwDmNode *child = gw_dm_node_find_child(node, segs[i]);
		if (child == NULL)
			break;
		node = child;
	}
	*depth = i;
	return node;
}

static gboolean
gw_dm_mime_is_valid(const gchar *mime_type)
{
	return mime_type == NULL ||
	       (strlen(mime_type) <= 255 && gw_dm_text_is_xml_safe(mime_type, -1) &&
	        strchr(mime_type, '\n') == NULL && strchr(mime_type, '\r') == NULL &&
	        strchr(mime_type, '\t') == NULL);
}

/* gw_dm_tree_ddf_status() for the nodes @segs[from..n-1] a command creates: interior ones on
 * the way, a node of @format last */
static guint
gw_dm_tree_ddf_status_path(GwDmTree *self, gchar **segs, guint from, guint n, GwDmFormat format)
{
	g_autoptr(GString) uri = g_string_new(".");

	for (guint i = 0; i < n; i++) {
		guint status;
		g_string_append_c(uri, '/');
		g_string_append(uri, segs[i]);
		if (i < from)
			continue;
		status =
		    gw_dm_tree_ddf_status(self, uri->str, i == n - 1 ? format : GW_DM_FORMAT_NODE);
		if (status != GW_DM_STATUS_OK)
			return status;
	}
	return GW_DM_STATUS_OK;
}

/* creates interior nodes segs[from..n-2] below @node and returns the last one; emits "changed"
 * for each created node */
static GwDmNode *
gw_dm_tree_create_path(GwDmTree *self,
                       GwDmNode *node,
                       gchar **segs,
                       guint from,
                       guint n,
                       const gchar *server_id)
{
	for (guint i = from; i < n; i++) {
		GwDmNode *child = gw_dm_node_new(segs[i], GW_DM_FORMAT_NODE);
		g_autofree gchar *uri = NULL;
		gw_dm_node_append_child(node, child);
		node = child;
		uri = gw_dm_node_dup_uri(node);
		gw_dm_tree_ddf_place(self, node, uri);
		gw_dm_tree_emit_changed(self, uri, GW_DM_CHANGE_ADDED, server_id);
	}
	return node;
}

/*
 * Add below a leaf gives 405: the deepest existing node on the path is not interior, so the
 * Add command is not allowed there (404 would suggest that the path could be created).
 */
guint
gw_dm_tree_add(GwDmTree *self,
               const gchar *server_id,
               const gchar *uri,
               GwDmFormat format,
               const gchar *mime_type,
               GBytes *data)
{
	g_autofree gchar *path = NULL;
	g_auto(GStrv) segs = NULL;
	GwDmNode *ancestor;
	GwDmNode *parent;
	GwDmNode *node;
	guint depth = 0;
	guint n;
	guint status;

	g_return_val_if_fail(GW_IS_DM_TREE(self), GW_DM_STATUS_COMMAND_FAILED);

	status = gw_dm_tree_parse_uri(self, uri, &path, NULL);
	if (status != GW_DM_STATUS_OK)
		return status;
	segs = gw_dm_uri_split(path);
	n = g_strv_length(segs);
	if (n == 0)
		return GW_DM_STATUS_ALREADY_EXISTS;
	ancestor = gw_dm_tree_deepest(self, segs, &depth);
	if (depth == n)
		return GW_DM_STATUS_ALREADY_EXISTS;
	if (ancestor->format != GW_DM_FORMAT_NODE)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if ((ancestor->access & GW_DM_ACCESS_ADD) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	/* missing interior parents inherit the ancestor's ACL, so Add on it covers them all */
	if (!gw_dm_node_acl_allows(ancestor, GW_DM_ACCESS_ADD, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;
	if (format == GW_DM_FORMAT_INVALID || !gw_dm_mime_is_valid(mime_type))
		return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	if (data != NULL && g_bytes_get_size(data) > GW_DM_MAX_VALUE_SIZE)
		return GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE;
	if (!gw_dm_format_validate_value(format, data, NULL))
		return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	/* the standard MOs' DDF: every node this Add creates must be one of it, of its format */
	status = gw_dm_tree_ddf_status_path(self, segs, depth, n, format);
	if (status != GW_DM_STATUS_OK)
		return status;
	if (format != GW_DM_FORMAT_NODE &&
	    (status = gw_dm_tree_run_value_checks(self, server_id, path, data)) != GW_DM_STATUS_OK)
		return status;

	parent = gw_dm_tree_create_path(self, ancestor, segs, depth, n - 1, server_id);
	node = gw_dm_node_new(segs[n - 1], format);
	node->mime_type = gw_dm_str_ref(mime_type);
	if (format != GW_DM_FORMAT_NODE && data != NULL)
		gw_dm_node_set_value(node, data);
	gw_dm_node_append_child(parent, node);
	gw_dm_tree_ddf_place(self, node, path);
	gw_dm_tree_emit_changed(self, path, GW_DM_CHANGE_ADDED, server_id);
	return GW_DM_STATUS_OK;
}

/* ---- Replace ---- */

static guint
gw_dm_tree_rename(GwDmTree *self,
                  const gchar *server_id,
                  GwDmNode *node,
                  const gchar *path,
                  GBytes *data)
{
	g_autofree gchar *name = NULL;
	g_autofree gchar *parent_uri = NULL;
	g_autofree gchar *new_uri = NULL;
	g_autofree gchar *normalized = NULL;
	GwDmUriLimits limits = gw_dm_tree_get_uri_limits(self);
	const gchar *raw;
	gsize len = 0;
	guint status = GW_DM_STATUS_BAD_REQUEST;

	if (node->parent == NULL || node->permanent)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if ((node->access & GW_DM_ACCESS_REPLACE) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if (!gw_dm_node_acl_allows(node, GW_DM_ACCESS_REPLACE, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;
	if (data == NULL)
		return GW_DM_STATUS_BAD_REQUEST;
	raw = g_bytes_get_data(data, &len);
	if (len == 0 || memchr(raw, '\0', len) != NULL || memchr(raw, '/', len) != NULL)
		return GW_DM_STATUS_BAD_REQUEST;
	name = g_strndup(raw, len);
	parent_uri = gw_dm_uri_parent(path);
	new_uri = gw_dm_uri_join(parent_uri, name);
	normalized = gw_dm_uri_normalize(new_uri, &limits, &status, NULL);
	if (normalized == NULL)
		return status;
	if (g_strcmp0(name, node->name) == 0)
		return GW_DM_STATUS_OK;
	if (gw_dm_node_find_child(node->parent, name) != NULL)
		return GW_DM_STATUS_ALREADY_EXISTS;
	/* under its new name the node and its subtree follow the DDF there (renaming a secret
	 * to a readable name keeps it unreadable: access types are only ever taken away) */
	status = gw_dm_tree_ddf_status_subtree(self, node, normalized);
	if (status != GW_DM_STATUS_OK)
		return status;

	gw_dm_node_rename(node, name);
	gw_dm_tree_ddf_place(self, node, normalized);
	gw_dm_tree_emit_changed(self, path, GW_DM_CHANGE_DELETED, server_id);
	gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_ADDED, server_id);
	return GW_DM_STATUS_OK;
}

static guint
gw_dm_tree_replace_acl(GwDmTree *self,
                       const gchar *server_id,
                       GwDmNode *node,
                       const gchar *path,
                       GBytes *data)
{
	g_autofree gchar *text = NULL;
	GwDmAcl *acl;
	GwDmNode *guard;
	const gchar *raw = "";
	gsize len = 0;

	/* the ACL of a leaf is governed by its parent, that of an interior node by itself */
	guard = node->format == GW_DM_FORMAT_NODE || node->parent == NULL ? node : node->parent;
	if (!gw_dm_node_acl_allows(guard, GW_DM_ACCESS_REPLACE, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;
	if (data != NULL)
		raw = g_bytes_get_data(data, &len);
	if (len > 0 && memchr(raw, '\0', len) != NULL)
		return GW_DM_STATUS_BAD_REQUEST;
	text = g_strndup(raw != NULL ? raw : "", len);
	acl = gw_dm_acl_parse(text, NULL);
	if (acl == NULL)
		return GW_DM_STATUS_BAD_REQUEST;
	gw_dm_node_take_acl(node, acl);
	gw_dm_tree_emit_changed(self, path, GW_DM_CHANGE_PROPERTIES, server_id);
	return GW_DM_STATUS_OK;
}

static guint
gw_dm_tree_replace_title(GwDmTree *self,
                         const gchar *server_id,
                         GwDmNode *node,
                         const gchar *path,
                         GBytes *data)
{
	const gchar *raw = "";
	gsize len = 0;

	if ((node->access & GW_DM_ACCESS_REPLACE) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if (!gw_dm_node_acl_allows(node, GW_DM_ACCESS_REPLACE, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;
	if (data != NULL)
		raw = g_bytes_get_data(data, &len);
	if (len > 0 && !gw_dm_text_is_xml_safe(raw, len))
		return GW_DM_STATUS_BAD_REQUEST;
	{
		g_autofree gchar *title = len > 0 ? g_strndup(raw, len) : NULL;
		gw_dm_node_set_title(node, title);
	}
	gw_dm_tree_emit_changed(self, path, GW_DM_CHANGE_PROPERTIES, server_id);
	return GW_DM_STATUS_OK;
}

guint
gw_dm_tree_replace(GwDmTree *self,
                   const gchar *server_id,
                   const gchar *uri,
                   GwDmFormat format,
                   const gchar *mime_type,
                   GBytes *data)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *query_text = NULL;
	GwDmQuery query = GW_DM_QUERY_NONE;
	GwDmNode *node;
	GwDmFormat new_format;
	guint status;

	g_return_val_if_fail(GW_IS_DM_TREE(self), GW_DM_STATUS_COMMAND_FAILED);

	status = gw_dm_tree_parse_uri(self, uri, &path, &query_text);
	if (status != GW_DM_STATUS_OK)
		return status;
	status = gw_dm_query_parse(query_text, &query);
	if (status != GW_DM_STATUS_OK)
		return status;
	if (query != GW_DM_QUERY_NONE && query != GW_DM_QUERY_PROP_ACL &&
	    query != GW_DM_QUERY_PROP_TITLE && query != GW_DM_QUERY_PROP_NAME)
		return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
	node = gw_dm_tree_lookup_normalized(self, path);
	if (node == NULL)
		return GW_DM_STATUS_NOT_FOUND;

	switch (query) {
	case GW_DM_QUERY_PROP_ACL:
		return gw_dm_tree_replace_acl(self, server_id, node, path, data);
	case GW_DM_QUERY_PROP_TITLE:
		return gw_dm_tree_replace_title(self, server_id, node, path, data);
	case GW_DM_QUERY_PROP_NAME:
		return gw_dm_tree_rename(self, server_id, node, path, data);
	default:
		break;
	}

	if ((node->access & GW_DM_ACCESS_REPLACE) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if (!gw_dm_node_acl_allows(node, GW_DM_ACCESS_REPLACE, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;
	if (!gw_dm_mime_is_valid(mime_type))
		return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;

	if (node->format == GW_DM_FORMAT_NODE) {
		/* an interior node has no value: only its type may be replaced */
		if ((data != NULL && g_bytes_get_size(data) > 0) ||
		    (format != GW_DM_FORMAT_INVALID && format != GW_DM_FORMAT_NODE))
			return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
		if (mime_type != NULL && g_strcmp0(mime_type, node->mime_type) != 0) {
			gw_dm_str_set(&node->mime_type, mime_type);
			gw_dm_tree_emit_changed(self, path, GW_DM_CHANGE_PROPERTIES, server_id);
		}
		return GW_DM_STATUS_OK;
	}

	new_format = format == GW_DM_FORMAT_INVALID ? node->format : format;
	if (new_format == GW_DM_FORMAT_NODE)
		return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	if (data != NULL && g_bytes_get_size(data) > GW_DM_MAX_VALUE_SIZE)
		return GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE;
	if (!gw_dm_format_validate_value(new_format, data, NULL))
		return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	if (new_format != node->format) {
		status = gw_dm_tree_ddf_status(self, path, new_format);
		if (status != GW_DM_STATUS_OK)
			return status;
	}
	status = gw_dm_tree_run_value_checks(self, server_id, path, data);
	if (status != GW_DM_STATUS_OK)
		return status;
	node->format = new_format;
	if (mime_type != NULL) {
		gw_dm_str_set(&node->mime_type, mime_type);
	}
	gw_dm_node_set_value(node, data);
	gw_dm_tree_emit_changed(self, path, GW_DM_CHANGE_REPLACED, server_id);
	return GW_DM_STATUS_OK;
}

/* ---- Delete ---- */

guint
gw_dm_tree_delete(GwDmTree *self, const gchar *server_id, const gchar *uri)
{
	g_autofree gchar *path = NULL;
	GwDmNode *node;
	guint status;

	g_return_val_if_fail(GW_IS_DM_TREE(self), GW_DM_STATUS_COMMAND_FAILED);

	status = gw_dm_tree_parse_uri(self, uri, &path, NULL);
	if (status != GW_DM_STATUS_OK)
		return status;
	node = gw_dm_tree_lookup_normalized(self, path);
	if (node == NULL)
		return GW_DM_STATUS_NOT_FOUND;
	if (node->parent == NULL || gw_dm_node_has_permanent(node))
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if ((node->access & GW_DM_ACCESS_DELETE) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if (!gw_dm_node_acl_allows(node, GW_DM_ACCESS_DELETE, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;
	gw_dm_node_remove_child(node->parent, node);
	gw_dm_tree_emit_changed(self, path, GW_DM_CHANGE_DELETED, server_id);
	return GW_DM_STATUS_OK;
}

/* ---- Exec ---- */

guint
gw_dm_tree_exec(GwDmTree *self,
                const gchar *server_id,
                const gchar *uri,
                GBytes *data,
                const gchar *correlator)
{
	g_autofree gchar *path = NULL;
	g_autoptr(GPtrArray) handlers = NULL;
	GwDmHandler *handler;
	GwDmNode *node;
	guint status;

	g_return_val_if_fail(GW_IS_DM_TREE(self), GW_DM_STATUS_COMMAND_FAILED);

	status = gw_dm_tree_parse_uri(self, uri, &path, NULL);
	if (status != GW_DM_STATUS_OK)
		return status;
	node = gw_dm_tree_lookup_normalized(self, path);
	if (node == NULL)
		return GW_DM_STATUS_NOT_FOUND;
	handlers = gw_dm_tree_find_handlers(self, GW_DM_HANDLER_EXEC, path);
	if (handlers->len == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if ((node->access & GW_DM_ACCESS_EXEC) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if (!gw_dm_node_acl_allows(node, GW_DM_ACCESS_EXEC, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;
	/* the first registered handler wins; it holds a reference while it runs */
	handler = g_ptr_array_index(handlers, 0);
	return handler->exec_func(self, server_id, path, data, correlator, handler->user_data);
}

/* ---- Copy ---- */

/*
 * The source needs the Get access type (so secrets cannot be copied to a readable place) and
 * Get in its ACL. A new target is a dynamic copy: no node of it is permanent, the top node
 * gets access ALL and an empty (inherited) ACL; nodes below keep their access types (a secret
 * stays unreadable) and ACLs; format, type, title and values are copied. An existing target
 * must be a leaf and the source a leaf; its value, format and type are replaced.
 */
guint
gw_dm_tree_copy(GwDmTree *self,
                const gchar *server_id,
                const gchar *source_uri,
                const gchar *target_uri)
{
	g_autofree gchar *source = NULL;
	g_autofree gchar *target = NULL;
	g_auto(GStrv) segs = NULL;
	GwDmNode *src;
	GwDmNode *dst;
	GwDmNode *ancestor;
	GwDmNode *parent;
	GwDmNode *copy;
	guint depth = 0;
	guint n;
	guint status;

	g_return_val_if_fail(GW_IS_DM_TREE(self), GW_DM_STATUS_COMMAND_FAILED);

	status = gw_dm_tree_parse_uri(self, source_uri, &source, NULL);
	if (status != GW_DM_STATUS_OK)
		return status;
	status = gw_dm_tree_parse_uri(self, target_uri, &target, NULL);
	if (status != GW_DM_STATUS_OK)
		return status;
	src = gw_dm_tree_lookup_normalized(self, source);
	if (src == NULL)
		return GW_DM_STATUS_NOT_FOUND;
	if ((src->access & GW_DM_ACCESS_GET) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if (!gw_dm_node_acl_allows(src, GW_DM_ACCESS_GET, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;

	dst = gw_dm_tree_lookup_normalized(self, target);
	if (dst != NULL) {
		if (dst == src)
			return GW_DM_STATUS_OK;
		if (dst->format == GW_DM_FORMAT_NODE || src->format == GW_DM_FORMAT_NODE)
			return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
		if ((dst->access & GW_DM_ACCESS_REPLACE) == 0)
			return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
		if (!gw_dm_node_acl_allows(dst, GW_DM_ACCESS_REPLACE, server_id))
			return GW_DM_STATUS_PERMISSION_DENIED;
		if (src->format != dst->format) {
			status = gw_dm_tree_ddf_status(self, target, src->format);
			if (status != GW_DM_STATUS_OK)
				return status;
		}
		status = gw_dm_tree_run_value_checks(self, server_id, target, src->value);
		if (status != GW_DM_STATUS_OK)
			return status;
		dst->format = src->format;
		gw_dm_str_set(&dst->mime_type, src->mime_type);
		gw_dm_node_set_value(dst, src->value);
		gw_dm_tree_emit_changed(self, target, GW_DM_CHANGE_REPLACED, server_id);
		return GW_DM_STATUS_OK;
	}

	if (gw_dm_uri_is_below(target, source))
		return GW_DM_STATUS_BAD_REQUEST;
	segs = gw_dm_uri_split(target);
	n = g_strv_length(segs);
	ancestor = gw_dm_tree_deepest(self, segs, &depth);
	if (ancestor->format != GW_DM_FORMAT_NODE)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if ((ancestor->access & GW_DM_ACCESS_ADD) == 0)
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	if (!gw_dm_node_acl_allows(ancestor, GW_DM_ACCESS_ADD, server_id))
		return GW_DM_STATUS_PERMISSION_DENIED;
	/* the parents to create and the copied subtree must fit the DDF at the target */
	status = gw_dm_tree_ddf_status_path(self, segs, depth, n - 1, GW_DM_FORMAT_NODE);
	if (status != GW_DM_STATUS_OK)
		return status;
	status = gw_dm_tree_ddf_status_subtree(self, src, target);
	if (status != GW_DM_STATUS_OK)
		return status;

	copy = gw_dm_node_copy_deep(src);
	gw_dm_str_set(&copy->name, segs[n - 1]);
	gw_dm_node_take_acl(copy, NULL);
	copy->access = GW_DM_ACCESS_ALL;
	gw_dm_node_clear_permanent(copy);
	parent = gw_dm_tree_create_path(self, ancestor, segs, depth, n - 1, server_id);
	gw_dm_node_append_child(parent, copy);
	gw_dm_tree_ddf_place(self, copy, target);
	gw_dm_tree_emit_changed(self, target, GW_DM_CHANGE_ADDED, server_id);
	return GW_DM_STATUS_OK;
}

/* ---- snapshots ---- */

GwDmSnapshot *
gw_dm_tree_snapshot(GwDmTree *self)
{
	GwDmSnapshot *snapshot;

	g_return_val_if_fail(GW_IS_DM_TREE(self), NULL);

	snapshot = g_new0(GwDmSnapshot, 1);
	snapshot->root = gw_dm_node_copy_deep(self->root);
	return snapshot;
}

/* the snapshot stays valid (and can be rolled back to again); the generation moves forward */
void
gw_dm_tree_rollback(GwDmTree *self, GwDmSnapshot *snapshot)
{
	g_return_if_fail(GW_IS_DM_TREE(self));
	g_return_if_fail(snapshot != NULL);

	gw_dm_node_free(self->root);
	self->root = gw_dm_node_copy_deep(snapshot->root);
	self->limits_valid = FALSE;
	gw_dm_tree_emit_changed(self, ".", GW_DM_CHANGE_REPLACED, NULL);
}

void
gw_dm_snapshot_free(GwDmSnapshot *snapshot)
{
	if (snapshot == NULL)
		return;
	gw_dm_node_free(snapshot->root);
	g_free(snapshot);
}

/* ---- owner API ---- */

GwDmNode *
gw_dm_tree_lookup(GwDmTree *self, const gchar *uri)
{
	g_autofree gchar *normalized = NULL;

	g_return_val_if_fail(GW_IS_DM_TREE(self), NULL);

	normalized = gw_dm_tree_normalize_owner(uri, NULL);
	if (normalized == NULL)
		return NULL;
	return gw_dm_tree_lookup_normalized(self, normalized);
}

GwDmNode *
gw_dm_tree_get_root(GwDmTree *self)
{
	g_return_val_if_fail(GW_IS_DM_TREE(self), NULL);
	return self->root;
}

/* creates the interior nodes of @segs[0..n-1]; an existing leaf on the way is an error */
static GwDmNode *
gw_dm_tree_ensure_path(GwDmTree *self, gchar **segs, guint n, GError **error)
{
	GwDmNode *node = self->root;

	for (guint i = 0; i < n; i++) {
		GwDmNode *child = gw_dm_node_find_child(node, segs[i]);
		if (child == NULL) {
			g_autofree gchar *uri = NULL;
			child = gw_dm_node_new(segs[i], GW_DM_FORMAT_NODE);
			gw_dm_node_append_child(node, child);
			uri = gw_dm_node_dup_uri(child);
			gw_dm_tree_ddf_place(self, child, uri);
			gw_dm_tree_emit_changed(self, uri, GW_DM_CHANGE_ADDED, NULL);
		} else if (child->format != GW_DM_FORMAT_NODE) {
			g_autofree gchar *uri = gw_dm_node_dup_uri(child);
			g_set_error(error,
			            GW_ERROR,
			            i == n - 1 ? GW_ERROR_ALREADY_EXISTS : GW_ERROR_NOT_ALLOWED,
			            "%s is a leaf",
			            uri);
			return NULL;
		}
		node = child;
	}
	return node;
}

/* an existing leaf at @uri gives GW_ERROR_ALREADY_EXISTS, a leaf above it GW_ERROR_NOT_ALLOWED */
gboolean
gw_dm_tree_ensure_interior(GwDmTree *self, const gchar *uri, GError **error)
{
	g_autofree gchar *normalized = NULL;
	g_auto(GStrv) segs = NULL;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);

	normalized = gw_dm_tree_normalize_owner(uri, error);
	if (normalized == NULL)
		return FALSE;
	segs = gw_dm_uri_split(normalized);
	return gw_dm_tree_ensure_path(self, segs, g_strv_length(segs), error) != NULL;
}

/* @mime_type NULL keeps the type of an existing leaf; an unchanged leaf emits nothing */
gboolean
gw_dm_tree_set_leaf(GwDmTree *self,
                    const gchar *uri,
                    GwDmFormat format,
                    const gchar *mime_type,
                    GBytes *value,
                    GError **error)
{
	g_autofree gchar *normalized = NULL;
	g_auto(GStrv) segs = NULL;
	GwDmNode *parent;
	GwDmNode *node;
	guint n;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);

	if (format == GW_DM_FORMAT_NODE || format == GW_DM_FORMAT_INVALID) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s is not a leaf format",
		            gw_dm_format_to_string(format));
		return FALSE;
	}
	if (!gw_dm_mime_is_valid(mime_type)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid MIME type");
		return FALSE;
	}
	if (!gw_dm_format_validate_stored(format, value, error))
		return FALSE;
	normalized = gw_dm_tree_normalize_owner(uri, error);
	if (normalized == NULL)
		return FALSE;
	segs = gw_dm_uri_split(normalized);
	n = g_strv_length(segs);
	if (n == 0) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_ALREADY_EXISTS, "the root is interior");
		return FALSE;
	}
	node = gw_dm_node_lookup_segments(self->root, segs, n);
	if (node != NULL) {
		if (node->format == GW_DM_FORMAT_NODE) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_ALREADY_EXISTS,
			            "%s is an interior node",
			            normalized);
			return FALSE;
		}
		if (node->format == format && gw_dm_value_equal(node->value, value) &&
		    (mime_type == NULL || g_strcmp0(mime_type, node->mime_type) == 0))
			return TRUE;
		node->format = format;
		if (mime_type != NULL) {
			gw_dm_str_set(&node->mime_type, mime_type);
		}
		gw_dm_node_set_value(node, value);
		gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_REPLACED, NULL);
		return TRUE;
	}
	parent = gw_dm_tree_ensure_path(self, segs, n - 1, error);
	if (parent == NULL)
		return FALSE;
	node = gw_dm_node_new(segs[n - 1], format);
	node->mime_type = gw_dm_str_ref(mime_type);
	gw_dm_node_set_value(node, value);
	gw_dm_node_append_child(parent, node);
	gw_dm_tree_ddf_place(self, node, normalized);
	gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_ADDED, NULL);
	return TRUE;
}

gboolean
gw_dm_tree_set_leaf_string(GwDmTree *self,
                           const gchar *uri,
                           GwDmFormat format,
                           const gchar *value,
                           GError **error)
{
	g_autoptr(GBytes) bytes = NULL;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);

	if (value != NULL)
		bytes = g_bytes_new(value, strlen(value));
	return gw_dm_tree_set_leaf(self, uri, format, NULL, bytes, error);
}

static GwDmNode *
gw_dm_tree_lookup_owner(GwDmTree *self, const gchar *uri, gchar **normalized_out, GError **error)
{
	g_autofree gchar *normalized = gw_dm_tree_normalize_owner(uri, error);
	GwDmNode *node;

	if (normalized == NULL)
		return NULL;
	node = gw_dm_tree_lookup_normalized(self, normalized);
	if (node == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "no node %s", normalized);
		return NULL;
	}
	if (normalized_out != NULL)
		*normalized_out = g_steal_pointer(&normalized);
	return node;
}

/* @title "" clears the title; emits "changed" only when something changed */
gboolean
gw_dm_tree_set_properties(GwDmTree *self,
                          const gchar *uri,
                          GwDmAccess access,
                          const gchar *acl,
                          const gchar *title,
                          GError **error)
{
	g_autofree gchar *normalized = NULL;
	g_autoptr(GwDmAcl) new_acl = NULL;
	GwDmNode *node;
	gboolean changed = FALSE;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);
	g_return_val_if_fail((access & ~GW_DM_ACCESS_ALL) == 0, FALSE);

	node = gw_dm_tree_lookup_owner(self, uri, &normalized, error);
	if (node == NULL)
		return FALSE;
	if (acl != NULL) {
		new_acl = gw_dm_acl_parse(acl, error);
		if (new_acl == NULL)
			return FALSE;
	}
	if (title != NULL && title[0] != '\0' && !gw_dm_text_is_xml_safe(title, -1)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid title");
		return FALSE;
	}
	if (access != GW_DM_ACCESS_NONE)
		access = gw_dm_tree_ddf_access(self, normalized, access, TRUE);
	if (access != GW_DM_ACCESS_NONE && access != node->access) {
		node->access = access;
		changed = TRUE;
	}
	if (new_acl != NULL) {
		g_autofree gchar *old_text = gw_dm_acl_to_string(gw_dm_node_acl(node));
		g_autofree gchar *new_text = gw_dm_acl_to_string(new_acl);
		if (g_strcmp0(old_text, new_text) != 0) {
			gw_dm_node_take_acl(node, g_steal_pointer(&new_acl));
			changed = TRUE;
		}
	}
	if (title != NULL) {
		const gchar *new_title = title[0] != '\0' ? title : NULL;
		if (g_strcmp0(new_title, gw_dm_node_title(node)) != 0) {
			gw_dm_node_set_title(node, new_title);
			changed = TRUE;
		}
	}
	if (changed)
		gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_PROPERTIES, NULL);
	return TRUE;
}

/* (added) @mime_type "" clears; for interior nodes this is the DDFName (MO identifier) */
gboolean
gw_dm_tree_set_mime_type(GwDmTree *self, const gchar *uri, const gchar *mime_type, GError **error)
{
	g_autofree gchar *normalized = NULL;
	const gchar *new_type;
	GwDmNode *node;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);
	g_return_val_if_fail(mime_type != NULL, FALSE);

	node = gw_dm_tree_lookup_owner(self, uri, &normalized, error);
	if (node == NULL)
		return FALSE;
	if (!gw_dm_mime_is_valid(mime_type)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid MIME type");
		return FALSE;
	}
	new_type = mime_type[0] != '\0' ? mime_type : NULL;
	if (g_strcmp0(new_type, node->mime_type) == 0)
		return TRUE;
	gw_dm_str_set(&node->mime_type, new_type);
	gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_PROPERTIES, NULL);
	return TRUE;
}

gboolean
gw_dm_tree_set_permanent(GwDmTree *self, const gchar *uri, gboolean permanent, GError **error)
{
	g_autofree gchar *normalized = NULL;
	GwDmNode *node;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);

	node = gw_dm_tree_lookup_owner(self, uri, &normalized, error);
	if (node == NULL)
		return FALSE;
	permanent = !!permanent;
	if (node->permanent == permanent)
		return TRUE;
	node->permanent = permanent;
	gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_PROPERTIES, NULL);
	return TRUE;
}

/* removes a subtree even when it holds permanent nodes; the root cannot be removed */
gboolean
gw_dm_tree_remove(GwDmTree *self, const gchar *uri, GError **error)
{
	g_autofree gchar *normalized = NULL;
	GwDmNode *node;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);

	node = gw_dm_tree_lookup_owner(self, uri, &normalized, error);
	if (node == NULL)
		return FALSE;
	if (node->parent == NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_NOT_ALLOWED, "cannot remove the root");
		return FALSE;
	}
	gw_dm_node_remove_child(node->parent, node);
	gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_DELETED, NULL);
	return TRUE;
}

/* a leaf without value gives "" */
gchar *
gw_dm_tree_dup_string(GwDmTree *self, const gchar *uri)
{
	GwDmNode *node;
	const gchar *data;
	gsize len = 0;

	g_return_val_if_fail(GW_IS_DM_TREE(self), NULL);

	node = gw_dm_tree_lookup(self, uri);
	if (node == NULL || node->format == GW_DM_FORMAT_NODE)
		return NULL;
	if (node->value == NULL)
		return g_strdup("");
	data = g_bytes_get_data(node->value, &len);
	return g_strndup(data != NULL ? data : "", len);
}

gchar **
gw_dm_tree_list_children(GwDmTree *self, const gchar *uri)
{
	GwDmNode *node;
	GStrvBuilder *builder;
	gchar **names;

	g_return_val_if_fail(GW_IS_DM_TREE(self), NULL);

	node = gw_dm_tree_lookup(self, uri);
	if (node == NULL || node->format != GW_DM_FORMAT_NODE)
		return NULL;
	builder = g_strv_builder_new();
	for (guint i = 0; i < gw_dm_node_n_children(node); i++) {
		GwDmNode *child = g_ptr_array_index(node->children, i);
		g_strv_builder_add(builder, child->name);
	}
	names = g_strv_builder_end(builder);
	g_strv_builder_unref(builder);
	return names;
}

gboolean
gw_dm_tree_check_acl(GwDmTree *self, const gchar *uri, GwDmAccess access, const gchar *server_id)
{
	GwDmNode *node;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);

	node = gw_dm_tree_lookup(self, uri);
	if (node == NULL)
		return FALSE;
	return gw_dm_node_acl_allows(node, access, server_id);
}

/* ---- node accessors ---- */

const gchar *
gw_dm_node_get_name(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	return node->name;
}

gchar *
gw_dm_node_dup_uri(GwDmNode *node)
{
	g_autoptr(GPtrArray) names = NULL;
	GString *str;

	g_return_val_if_fail(node != NULL, NULL);

	if (node->parent == NULL)
		return g_strdup(".");
	names = g_ptr_array_new();
	for (GwDmNode *n = node; n->parent != NULL; n = n->parent)
		g_ptr_array_add(names, (gpointer)n->name);
	str = g_string_new(".");
	for (guint i = names->len; i > 0; i--) {
		g_string_append_c(str, '/');
		g_string_append(str, g_ptr_array_index(names, i - 1));
	}
	return g_string_free(str, FALSE);
}

GwDmNode *
gw_dm_node_get_parent(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	return node->parent;
}

gboolean
gw_dm_node_is_leaf(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, FALSE);
	return node->format != GW_DM_FORMAT_NODE;
}

GwDmFormat
gw_dm_node_get_format(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, GW_DM_FORMAT_INVALID);
	return node->format;
}

const gchar *
gw_dm_node_get_mime_type(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	return node->mime_type;
}

const gchar *
gw_dm_node_get_title(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	return gw_dm_node_title(node);
}

gchar *
gw_dm_node_dup_acl(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	return gw_dm_acl_to_string(gw_dm_node_acl(node));
}

gboolean
gw_dm_node_has_acl(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, FALSE);
	return gw_dm_node_acl(node) != NULL;
}

GwDmAccess
gw_dm_node_get_access(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, GW_DM_ACCESS_NONE);
	return node->access;
}

gboolean
gw_dm_node_get_permanent(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, FALSE);
	return node->permanent;
}

GBytes *
gw_dm_node_get_value(GwDmNode *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	return node->value;
}

GPtrArray *
gw_dm_node_get_children(GwDmNode *node)
{
	static GPtrArray *none = NULL; /* what a node without children gives */

	g_return_val_if_fail(node != NULL, NULL);
	if (node->children != NULL)
		return node->children;
	if (g_once_init_enter(&none))
		g_once_init_leave(&none, g_ptr_array_new());
	return none;
}

GwDmNode *
gw_dm_node_get_child(GwDmNode *node, const gchar *name)
{
	g_return_val_if_fail(node != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);
	return gw_dm_node_find_child(node, name);
}

/* ---- journal support ---- */

guint
gw_dm_node_get_position(GwDmNode *node)
{
	guint index = 0;

	g_return_val_if_fail(node != NULL, 0);
	if (node->parent == NULL || !g_ptr_array_find(node->parent->children, node, &index))
		return 0;
	return index;
}

static gboolean
gw_dm_node_state_validate(const GwDmNodeState *state, GwDmAcl **acl_out, GError **error)
{
	if ((guint)state->format >= GW_DM_FORMAT_INVALID) {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "bad format %d", state->format);
		return FALSE;
	}
	/* no node of a live tree has no access type at all (the owner API keeps the old one
	 * for GW_DM_ACCESS_NONE, TNDS reads an empty AccessType as all of them) */
	if (state->access == GW_DM_ACCESS_NONE || (state->access & ~GW_DM_ACCESS_ALL) != 0) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "bad access 0x%x", state->access);
		return FALSE;
	}
	if (!gw_dm_mime_is_valid(state->mime_type)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid MIME type");
		return FALSE;
	}
	if (state->title != NULL && !gw_dm_text_is_xml_safe(state->title, -1)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid title");
		return FALSE;
	}
	if (state->format == GW_DM_FORMAT_NODE && state->value != NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "an interior node has no value");
		return FALSE;
	}
	if (state->format != GW_DM_FORMAT_NODE &&
	    !gw_dm_format_validate_stored(state->format, state->value, error))
		return FALSE;
	*acl_out = gw_dm_acl_parse(state->acl != NULL ? state->acl : "", error);
	return *acl_out != NULL;
}

static void
gw_dm_node_apply_state(GwDmNode *node, const GwDmNodeState *state, GwDmAcl *acl)
{
	node->format = (guint8)state->format;
	gw_dm_str_set(&node->mime_type, state->mime_type);
	gw_dm_node_set_title(node, state->title);
	gw_dm_node_take_acl(node, acl);
	node->access = state->access;
	node->permanent = !!state->permanent;
	gw_dm_node_set_value(node, state->value);
}

gboolean
gw_dm_tree_restore_node(GwDmTree *self,
                        const gchar *uri,
                        const GwDmNodeState *state,
                        gint position,
                        GError **error)
{
	g_autofree gchar *normalized = NULL;
	g_auto(GStrv) segs = NULL;
	GwDmNodeState clamped;
	GwDmAcl *acl = NULL;
	GwDmNode *parent;
	GwDmNode *node;
	guint n;

	g_return_val_if_fail(GW_IS_DM_TREE(self), FALSE);
	g_return_val_if_fail(state != NULL, FALSE);

	normalized = gw_dm_tree_normalize_owner(uri, error);
	if (normalized == NULL)
		return FALSE;
	if (!gw_dm_node_state_validate(state, &acl, error))
		return FALSE;
	/* a journal written before the DDF was enforced may give a secret Get: it loses it */
	clamped = *state;
	clamped.access = gw_dm_tree_ddf_access(self, normalized, state->access, TRUE);
	state = &clamped;
	segs = gw_dm_uri_split(normalized);
	n = g_strv_length(segs);
	node = gw_dm_node_lookup_segments(self->root, segs, n);
	if (n == 0 && state->format != GW_DM_FORMAT_NODE) {
		gw_dm_acl_free(acl);
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "the root is interior");
		return FALSE;
	}
	if (node != NULL &&
	    (node->format == GW_DM_FORMAT_NODE) == (state->format == GW_DM_FORMAT_NODE)) {
		gw_dm_node_apply_state(node, state, acl);
		gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_REPLACED, NULL);
		return TRUE;
	}
	if (node != NULL) {
		/* a leaf became interior or back: the node is replaced */
		gw_dm_node_remove_child(node->parent, node);
		gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_DELETED, NULL);
	}
	parent = gw_dm_tree_ensure_path(self, segs, n - 1, error);
	if (parent == NULL) {
		gw_dm_acl_free(acl);
		return FALSE;
	}
	node = gw_dm_node_new(segs[n - 1], state->format);
	gw_dm_node_apply_state(node, state, acl);
	gw_dm_node_append_child(parent, node);
	if (position >= 0 && (guint)position < parent->children->len - 1) {
		/* back to where it was among its siblings (a renamed node keeps its place) */
		g_ptr_array_steal_index(parent->children, parent->children->len - 1);
		g_ptr_array_insert(parent->children, position, node);
	}
	gw_dm_tree_emit_changed(self, normalized, GW_DM_CHANGE_ADDED, NULL);
	return TRUE;
}

GwDmNode *
gw_dm_tree_restore_child(GwDmTree *self,
                         GwDmNode *parent,
                         const gchar *parent_uri,
                         const gchar *name,
                         const GwDmNodeState *state,
                         GError **error)
{
	g_autofree gchar *uri = NULL;
	GwDmNodeState clamped;
	GwDmAcl *acl = NULL;
	GwDmNode *node;

	g_return_val_if_fail(GW_IS_DM_TREE(self), NULL);
	g_return_val_if_fail(parent != NULL && parent_uri != NULL, NULL);
	g_return_val_if_fail(state != NULL, NULL);

	if (!gw_dm_uri_name_is_valid(name)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_URI,
		            "invalid node name below %s",
		            parent_uri);
		return NULL;
	}
	if (parent->format != GW_DM_FORMAT_NODE) {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s is a leaf", parent_uri);
		return NULL;
	}
	uri = gw_dm_uri_join(parent_uri, name);
	if (!gw_dm_node_state_validate(state, &acl, error))
		return NULL;
	clamped = *state;
	clamped.access = gw_dm_tree_ddf_access(self, uri, state->access, TRUE);
	state = &clamped;
	node = gw_dm_node_find_child(parent, name);
	if (node != NULL &&
	    (node->format == GW_DM_FORMAT_NODE) == (state->format == GW_DM_FORMAT_NODE)) {
		gw_dm_node_apply_state(node, state, acl);
		gw_dm_tree_emit_changed(self, uri, GW_DM_CHANGE_REPLACED, NULL);
		return node;
	}
	if (node != NULL) {
		gw_dm_node_remove_child(parent, node);
		gw_dm_tree_emit_changed(self, uri, GW_DM_CHANGE_DELETED, NULL);
	}
	node = gw_dm_node_new(name, state->format);
	gw_dm_node_apply_state(node, state, acl);
	gw_dm_node_append_child(parent, node);
	gw_dm_tree_emit_changed(self, uri, GW_DM_CHANGE_ADDED, NULL);
	return node;
}
