/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwPlugin"

#include "config.h"

#include <string.h>

#include "gw-device.h"

/* ---- GwDeviceCommand ---- */

struct _GwDeviceCommand {
	gatomicrefcount ref;
	GwDeviceOp op;
	gchar *uri;
	gchar *format;
	gchar *type;
	GBytes *data;
	gchar *data_string; /* made on demand */
};

G_DEFINE_BOXED_TYPE(GwDeviceCommand,
                    gw_device_command,
                    gw_device_command_ref,
                    gw_device_command_unref)

static const gchar *const gw_device_op_names[] = {"Get", "Replace", "Add", "Delete", "Exec"};

GwDeviceCommand *
gw_device_command_new(GwDeviceOp op,
                      const gchar *uri,
                      const gchar *format,
                      const gchar *type,
                      GBytes *data)
{
	GwDeviceCommand *cmd;

	g_return_val_if_fail((guint)op < G_N_ELEMENTS(gw_device_op_names), NULL);
	g_return_val_if_fail(uri != NULL, NULL);

	cmd = g_new0(GwDeviceCommand, 1);
	g_atomic_ref_count_init(&cmd->ref);
	cmd->op = op;
	cmd->uri = g_strdup(uri);
	cmd->format = g_strdup(format);
	cmd->type = g_strdup(type);
	cmd->data = data != NULL ? g_bytes_ref(data) : NULL;
	return cmd;
}

GwDeviceCommand *
gw_device_command_ref(GwDeviceCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	g_atomic_ref_count_inc(&cmd->ref);
	return cmd;
}

void
gw_device_command_unref(GwDeviceCommand *cmd)
{
	g_return_if_fail(cmd != NULL);
	if (!g_atomic_ref_count_dec(&cmd->ref))
		return;
	g_free(cmd->uri);
	g_free(cmd->format);
	g_free(cmd->type);
	g_clear_pointer(&cmd->data, g_bytes_unref);
	g_free(cmd->data_string);
	g_free(cmd);
}

GwDeviceOp
gw_device_command_get_op(GwDeviceCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, GW_DEVICE_OP_GET);
	return cmd->op;
}

const gchar *
gw_device_command_get_op_name(GwDeviceCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	return gw_device_op_names[cmd->op];
}

const gchar *
gw_device_command_get_uri(GwDeviceCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	return cmd->uri;
}

const gchar *
gw_device_command_get_format(GwDeviceCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	return cmd->format;
}

const gchar *
gw_device_command_get_mime_type(GwDeviceCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	return cmd->type;
}

GBytes *
gw_device_command_get_data(GwDeviceCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	return cmd->data;
}

const gchar *
gw_device_command_get_data_string(GwDeviceCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	if (cmd->data_string == NULL) {
		gsize len = 0;
		const gchar *p = cmd->data != NULL ? g_bytes_get_data(cmd->data, &len) : NULL;
		/* commands are immutable and handled in the main thread: made once */
		cmd->data_string = g_strndup(p != NULL ? p : "", len);
	}
	return cmd->data_string;
}

/* ---- GwDeviceResult ---- */

typedef struct {
	gchar *uri;
	gchar *format;
	gchar *type;
	GBytes *data;
} GwDeviceItem;

struct _GwDeviceResult {
	gatomicrefcount ref;
	guint status;
	GArray *items; /* GwDeviceItem */
};

G_DEFINE_BOXED_TYPE(GwDeviceResult, gw_device_result, gw_device_result_ref, gw_device_result_unref)

static void
gw_device_item_clear(gpointer data)
{
	GwDeviceItem *item = data;
	g_free(item->uri);
	g_free(item->format);
	g_free(item->type);
	g_clear_pointer(&item->data, g_bytes_unref);
}

GwDeviceResult *
gw_device_result_new(guint status)
{
	GwDeviceResult *result = g_new0(GwDeviceResult, 1);

	g_atomic_ref_count_init(&result->ref);
	result->status = status;
	result->items = g_array_new(FALSE, TRUE, sizeof(GwDeviceItem));
	g_array_set_clear_func(result->items, gw_device_item_clear);
	return result;
}

GwDeviceResult *
gw_device_result_new_value(const gchar *uri, const gchar *format, const gchar *value)
{
	GwDeviceResult *result = gw_device_result_new(GW_DEVICE_STATUS_OK);
	g_autoptr(GBytes) data =
	    g_bytes_new(value != NULL ? value : "", value != NULL ? strlen(value) : 0);

	gw_device_result_add_item(result, uri, format, "text/plain", data);
	return result;
}

GwDeviceResult *
gw_device_result_new_fault(guint status, const gchar *uri, const gchar *message)
{
	GwDeviceResult *result = gw_device_result_new(status);
	g_autoptr(GBytes) data = NULL;

	if (message != NULL) {
		data = g_bytes_new(message, strlen(message));
		gw_device_result_add_item(result, uri, "chr", "text/plain", data);
	}
	return result;
}

GwDeviceResult *
gw_device_result_ref(GwDeviceResult *result)
{
	g_return_val_if_fail(result != NULL, NULL);
	g_atomic_ref_count_inc(&result->ref);
	return result;
}

void
gw_device_result_unref(GwDeviceResult *result)
{
	g_return_if_fail(result != NULL);
	if (!g_atomic_ref_count_dec(&result->ref))
		return;
	g_array_unref(result->items);
	g_free(result);
}

guint
gw_device_result_get_status(GwDeviceResult *result)
{
	g_return_val_if_fail(result != NULL, 0);
	return result->status;
}

void
gw_device_result_set_status(GwDeviceResult *result, guint status)
{
	g_return_if_fail(result != NULL);
	result->status = status;
}

void
gw_device_result_add_item(GwDeviceResult *result,
                          const gchar *uri,
                          const gchar *format,
                          const gchar *type,
                          GBytes *data)
{
	GwDeviceItem item = {0};

	g_return_if_fail(result != NULL);
	item.uri = g_strdup(uri);
	item.format = g_strdup(format);
	item.type = g_strdup(type);
	item.data = data != NULL ? g_bytes_ref(data) : NULL;
	g_array_append_val(result->items, item);
}

guint
gw_device_result_get_n_items(GwDeviceResult *result)
{
	g_return_val_if_fail(result != NULL, 0);
	return result->items->len;
}

void
gw_device_result_get_item(GwDeviceResult *result,
                          guint index,
                          const gchar **uri,
                          const gchar **format,
                          const gchar **type,
                          GBytes **data)
{
	GwDeviceItem *item;

	g_return_if_fail(result != NULL);
	g_return_if_fail(index < result->items->len);
	item = &g_array_index(result->items, GwDeviceItem, index);
	if (uri != NULL)
		*uri = item->uri;
	if (format != NULL)
		*format = item->format;
	if (type != NULL)
		*type = item->type;
	if (data != NULL)
		*data = item->data;
}

/* ---- GwDeviceInfo ---- */

/* the DevInfo/DevDetail leaves an adapter may report, in the order they are listed */
static const gchar *const gw_device_info_leaves[] = {"Man", "Mod", "FwV", "SwV", "HwV", "DevTyp"};

struct _GwDeviceInfo {
	gatomicrefcount ref;
	gchar *device_id;
	gchar *address;
	gchar *values[G_N_ELEMENTS(gw_device_info_leaves)];
};

G_DEFINE_BOXED_TYPE(GwDeviceInfo, gw_device_info, gw_device_info_ref, gw_device_info_unref)

GwDeviceInfo *
gw_device_info_new(const gchar *device_id)
{
	GwDeviceInfo *info;

	g_return_val_if_fail(device_id != NULL && device_id[0] != '\0', NULL);
	info = g_new0(GwDeviceInfo, 1);
	g_atomic_ref_count_init(&info->ref);
	info->device_id = g_strdup(device_id);
	return info;
}

GwDeviceInfo *
gw_device_info_ref(GwDeviceInfo *info)
{
	g_return_val_if_fail(info != NULL, NULL);
	g_atomic_ref_count_inc(&info->ref);
	return info;
}

void
gw_device_info_unref(GwDeviceInfo *info)
{
	g_return_if_fail(info != NULL);
	if (!g_atomic_ref_count_dec(&info->ref))
		return;
	g_free(info->device_id);
	g_free(info->address);
	for (guint i = 0; i < G_N_ELEMENTS(info->values); i++)
		g_free(info->values[i]);
	g_free(info);
}

const gchar *
gw_device_info_get_device_id(GwDeviceInfo *info)
{
	g_return_val_if_fail(info != NULL, NULL);
	return info->device_id;
}

void
gw_device_info_set_address(GwDeviceInfo *info, const gchar *address)
{
	g_return_if_fail(info != NULL);
	g_free(info->address);
	info->address = g_strdup(address);
}

const gchar *
gw_device_info_get_address(GwDeviceInfo *info)
{
	g_return_val_if_fail(info != NULL, NULL);
	return info->address;
}

static gint
gw_device_info_leaf_index(const gchar *leaf)
{
	for (guint i = 0; leaf != NULL && i < G_N_ELEMENTS(gw_device_info_leaves); i++) {
		if (strcmp(gw_device_info_leaves[i], leaf) == 0)
			return (gint)i;
	}
	return -1;
}

void
gw_device_info_set_devinfo(GwDeviceInfo *info, const gchar *leaf, const gchar *value)
{
	gint i = gw_device_info_leaf_index(leaf);

	g_return_if_fail(info != NULL);
	if (i < 0) {
		g_critical("%s: '%s' is not a DevInfo leaf an adapter may set", G_STRFUNC, leaf);
		return;
	}
	g_free(info->values[i]);
	info->values[i] = g_strdup(value);
}

const gchar *
gw_device_info_get_devinfo(GwDeviceInfo *info, const gchar *leaf)
{
	gint i = gw_device_info_leaf_index(leaf);

	g_return_val_if_fail(info != NULL, NULL);
	return i >= 0 ? info->values[i] : NULL;
}

const gchar **
gw_device_info_list_devinfo(GwDeviceInfo *info)
{
	GPtrArray *out = g_ptr_array_new();

	g_return_val_if_fail(info != NULL, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(gw_device_info_leaves); i++) {
		if (info->values[i] != NULL)
			g_ptr_array_add(out, (gpointer)gw_device_info_leaves[i]);
	}
	g_ptr_array_add(out, NULL);
	return (const gchar **)g_ptr_array_free(out, FALSE);
}

/* ---- GwDeviceTree ---- */

typedef enum {
	GW_DEVICE_NODE_INTERIOR,
	GW_DEVICE_NODE_LEAF,
	GW_DEVICE_NODE_STATIC,
	GW_DEVICE_NODE_DYNAMIC, /* an interior node whose children the adapter makes */
} GwDeviceNodeKind;

typedef struct {
	GwDeviceNodeKind kind;
	gchar *format;
	GwDeviceAccess access;
	gchar *type;
	gchar *value;
	GPtrArray *children; /* names (interior kinds), sorted on demand */
} GwDeviceNode;

struct _GwDeviceTree {
	gatomicrefcount ref;
	GHashTable *nodes; /* normalised uri ("./a/b") → GwDeviceNode */
};

G_DEFINE_BOXED_TYPE(GwDeviceTree, gw_device_tree, gw_device_tree_ref, gw_device_tree_unref)

static void
gw_device_node_free(gpointer data)
{
	GwDeviceNode *node = data;
	g_free(node->format);
	g_free(node->type);
	g_free(node->value);
	if (node->children != NULL)
		g_ptr_array_unref(node->children);
	g_free(node);
}

GwDeviceTree *
gw_device_tree_new(void)
{
	GwDeviceTree *tree = g_new0(GwDeviceTree, 1);
	GwDeviceNode *root = g_new0(GwDeviceNode, 1);

	g_atomic_ref_count_init(&tree->ref);
	tree->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_device_node_free);
	root->kind = GW_DEVICE_NODE_INTERIOR;
	root->format = g_strdup("node");
	root->access = GW_DEVICE_ACCESS_GET;
	root->children = g_ptr_array_new_with_free_func(g_free);
	g_hash_table_insert(tree->nodes, g_strdup("."), root);
	return tree;
}

GwDeviceTree *
gw_device_tree_ref(GwDeviceTree *tree)
{
	g_return_val_if_fail(tree != NULL, NULL);
	g_atomic_ref_count_inc(&tree->ref);
	return tree;
}

void
gw_device_tree_unref(GwDeviceTree *tree)
{
	g_return_if_fail(tree != NULL);
	if (!g_atomic_ref_count_dec(&tree->ref))
		return;
	g_hash_table_unref(tree->nodes);
	g_free(tree);
}

/* "./a/b" with non-empty segments, no "." or ".." segments, no trailing "/" */
static gboolean
gw_device_tree_valid_uri(const gchar *uri)
{
	const gchar *p;

	if (uri == NULL || !g_str_has_prefix(uri, "./") || uri[2] == '\0')
		return FALSE;
	p = uri + 2;
	for (;;) {
		const gchar *end = strchr(p, '/');
		gsize len = end != NULL ? (gsize)(end - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return FALSE;
		if (memchr(p, '?', len) != NULL || memchr(p, '#', len) != NULL)
			return FALSE;
		if (end == NULL)
			return TRUE;
		p = end + 1;
	}
}

static const gchar *const gw_device_tree_formats[] =
    {"node", "chr", "int", "bool", "bin", "b64", "xml", "float", "date", "time", "null"};

static gboolean
gw_device_tree_valid_format(const gchar *format)
{
	return format != NULL && g_strv_contains(gw_device_tree_formats, format);
}

/* makes (or finds) the interior ancestors of @uri and links @uri's name into its parent */
static gboolean
gw_device_tree_link(GwDeviceTree *tree, const gchar *uri)
{
	g_autofree gchar *parent = NULL;
	const gchar *name = strrchr(uri, '/') + 1;
	GwDeviceNode *pnode;

	parent = g_strndup(uri, (gsize)(name - 1 - uri));
	pnode = g_hash_table_lookup(tree->nodes, parent);
	if (pnode == NULL) {
		if (!gw_device_tree_link(tree, parent))
			return FALSE;
		pnode = g_new0(GwDeviceNode, 1);
		pnode->kind = GW_DEVICE_NODE_INTERIOR;
		pnode->format = g_strdup("node");
		pnode->access = GW_DEVICE_ACCESS_GET;
		pnode->children = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(tree->nodes, g_strdup(parent), pnode);
	} else if (pnode->kind != GW_DEVICE_NODE_INTERIOR) {
		g_critical(
		    "%s: %s is below %s, which is not an interior node", G_STRFUNC, uri, parent);
		return FALSE;
	}
	g_ptr_array_add(pnode->children, g_strdup(name));
	return TRUE;
}

static gboolean
gw_device_tree_insert(GwDeviceTree *tree, const gchar *uri, GwDeviceNode *node)
{
	g_autoptr(GPtrArray) keep = NULL;

	if (!gw_device_tree_valid_uri(uri)) {
		g_critical("%s: '%s' is not a node path (\"./Name/…\")", G_STRFUNC, uri);
		gw_device_node_free(node);
		return FALSE;
	}
	if (g_hash_table_contains(tree->nodes, uri)) {
		g_critical("%s: %s is declared twice", G_STRFUNC, uri);
		gw_device_node_free(node);
		return FALSE;
	}
	if (!gw_device_tree_link(tree, uri)) {
		gw_device_node_free(node);
		return FALSE;
	}
	g_hash_table_insert(tree->nodes, g_strdup(uri), node);
	return TRUE;
}

gboolean
gw_device_tree_add_leaf(GwDeviceTree *tree,
                        const gchar *uri,
                        const gchar *format,
                        GwDeviceAccess access,
                        const gchar *type)
{
	GwDeviceNode *node;

	g_return_val_if_fail(tree != NULL, FALSE);
	if (!gw_device_tree_valid_format(format) || g_strcmp0(format, "node") == 0) {
		g_critical("%s: %s: '%s' is not a leaf format", G_STRFUNC, uri, format);
		return FALSE;
	}
	node = g_new0(GwDeviceNode, 1);
	node->kind = GW_DEVICE_NODE_LEAF;
	node->format = g_strdup(format);
	node->access = access & (GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_REPLACE |
	                         GW_DEVICE_ACCESS_DELETE | GW_DEVICE_ACCESS_EXEC);
	node->type = g_strdup(type);
	return gw_device_tree_insert(tree, uri, node);
}

gboolean
gw_device_tree_add_static(GwDeviceTree *tree,
                          const gchar *uri,
                          const gchar *format,
                          const gchar *value)
{
	GwDeviceNode *node;

	g_return_val_if_fail(tree != NULL, FALSE);
	if (!gw_device_tree_valid_format(format) || g_strcmp0(format, "node") == 0) {
		g_critical("%s: %s: '%s' is not a leaf format", G_STRFUNC, uri, format);
		return FALSE;
	}
	node = g_new0(GwDeviceNode, 1);
	node->kind = GW_DEVICE_NODE_STATIC;
	node->format = g_strdup(format);
	node->access = GW_DEVICE_ACCESS_GET;
	node->value = g_strdup(value != NULL ? value : "");
	return gw_device_tree_insert(tree, uri, node);
}

gboolean
gw_device_tree_add_dynamic(GwDeviceTree *tree, const gchar *uri, GwDeviceAccess access)
{
	GwDeviceNode *node;

	g_return_val_if_fail(tree != NULL, FALSE);
	node = g_new0(GwDeviceNode, 1);
	node->kind = GW_DEVICE_NODE_DYNAMIC;
	node->format = g_strdup("node");
	node->access =
	    GW_DEVICE_ACCESS_GET | (access & (GW_DEVICE_ACCESS_ADD | GW_DEVICE_ACCESS_DELETE));
	node->children = g_ptr_array_new_with_free_func(g_free);
	return gw_device_tree_insert(tree, uri, node);
}

gboolean
gw_device_tree_lookup(GwDeviceTree *tree,
                      const gchar *uri,
                      const gchar **format,
                      GwDeviceAccess *access,
                      const gchar **static_value)
{
	GwDeviceNode *node;

	g_return_val_if_fail(tree != NULL, FALSE);
	node = uri != NULL ? g_hash_table_lookup(tree->nodes, uri) : NULL;
	if (node == NULL)
		return FALSE;
	if (format != NULL)
		*format = node->format;
	if (access != NULL)
		*access = node->access;
	if (static_value != NULL)
		*static_value = node->value;
	return TRUE;
}

gboolean
gw_device_tree_is_dynamic(GwDeviceTree *tree, const gchar *uri)
{
	GwDeviceNode *node;

	g_return_val_if_fail(tree != NULL, FALSE);
	node = uri != NULL ? g_hash_table_lookup(tree->nodes, uri) : NULL;
	return node != NULL && node->kind == GW_DEVICE_NODE_DYNAMIC;
}

static gint
gw_device_tree_cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

gchar **
gw_device_tree_list_children(GwDeviceTree *tree, const gchar *uri)
{
	GwDeviceNode *node;
	GPtrArray *out;

	g_return_val_if_fail(tree != NULL, NULL);
	node = uri != NULL ? g_hash_table_lookup(tree->nodes, uri) : NULL;
	if (node == NULL || node->children == NULL)
		return NULL;
	out = g_ptr_array_new();
	for (guint i = 0; i < node->children->len; i++)
		g_ptr_array_add(out, g_strdup(g_ptr_array_index(node->children, i)));
	g_ptr_array_sort(out, gw_device_tree_cmp_names);
	g_ptr_array_add(out, NULL);
	return (gchar **)g_ptr_array_free(out, FALSE);
}
