/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDm2"

#include "config.h"

#include <string.h>

#include "gw-dm2-uri.h"

/* ---- parser ---- */

static void
gw_dm2_segment_free(GwDm2Segment *seg)
{
	if (seg == NULL)
		return;
	g_free(seg->name);
	g_free(seg);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2Segment, gw_dm2_segment_free)

static void
gw_dm2_nv_filter_free(GwDm2NvFilter *nv)
{
	if (nv == NULL)
		return;
	g_free(nv->xname);
	g_strfreev(nv->path);
	g_free(nv->value);
	g_free(nv);
}

void
gw_dm2_client_uri_free(GwDm2ClientUri *uri)
{
	if (uri == NULL)
		return;
	g_free(uri->moid);
	g_free(uri->instance.name);
	g_ptr_array_unref(uri->path);
	g_ptr_array_unref(uri->nv);
	g_free(uri->cv);
	g_free(uri);
}

static gboolean
gw_dm2_is_xname(const gchar *s, gsize len)
{
	return len == 3 && s[0] == '(' && g_ascii_isalpha(s[1]) && s[2] == ')';
}

/* percent-decodes [s, s+len); NULL (with an error naming @offset) when malformed, when it
 * decodes to NUL or, for @illegal, to one of those characters */
static gchar *
gw_dm2_decode(const gchar *text,
              const gchar *s,
              gsize len,
              const gchar *illegal,
              const gchar *what,
              GError **error)
{
	gchar *out = g_uri_unescape_segment(s, s + len, illegal);

	if (out == NULL || !g_utf8_validate(out, -1, NULL)) {
		g_free(out);
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_URI,
		            "ClientURI: bad percent-encoding in the %s at offset %" G_GSIZE_FORMAT,
		            what,
		            (gsize)(s - text));
		return NULL;
	}
	return out;
}

/* a segment of the instance or path part; @allow_empty for the instance part */
static GwDm2Segment *
gw_dm2_parse_segment(const gchar *text,
                     const gchar *s,
                     gsize len,
                     gboolean allow_empty,
                     GError **error)
{
	g_autoptr(GwDm2Segment) seg = g_new0(GwDm2Segment, 1);

	if (len == 0) {
		if (!allow_empty) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "ClientURI: empty path segment at offset %" G_GSIZE_FORMAT,
			            (gsize)(s - text));
			return NULL;
		}
		seg->kind = GW_DM2_SEGMENT_EMPTY;
	} else if (len == 1 && s[0] == '*') {
		seg->kind = GW_DM2_SEGMENT_WILDCARD;
	} else if (gw_dm2_is_xname(s, len)) {
		seg->kind = GW_DM2_SEGMENT_XNAME;
		seg->name = g_strndup(s + 1, 1);
	} else {
		seg->kind = GW_DM2_SEGMENT_NAME;
		seg->name = gw_dm2_decode(text, s, len, "/", "node name", error);
		if (seg->name == NULL)
			return NULL;
		if (strcmp(seg->name, ".") == 0 || strcmp(seg->name, "..") == 0) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "ClientURI: \"%s\" is not a node name (offset %" G_GSIZE_FORMAT
			            ")",
			            seg->name,
			            (gsize)(s - text));
			return NULL;
		}
	}
	return g_steal_pointer(&seg);
}

static GwDm2NvFilter *
gw_dm2_parse_nv(const gchar *text, const gchar *s, gsize len, GError **error)
{
	g_autoptr(GPtrArray) path = g_ptr_array_new_with_free_func(g_free);
	GwDm2NvFilter *nv;
	const gchar *end = s + len;
	const gchar *colon;
	const gchar *p;
	gchar *value;

	if (len < 4 || !gw_dm2_is_xname(s, 3) || (s[3] != '/' && s[3] != ':')) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_URI,
		            "ClientURI: nv field at offset %" G_GSIZE_FORMAT
		            " must be (x)[/path]:value",
		            (gsize)(s - text));
		return NULL;
	}
	colon = memchr(s + 3, ':', len - 3);
	if (colon == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_URI,
		            "ClientURI: nv field at offset %" G_GSIZE_FORMAT " has no \":value\"",
		            (gsize)(s - text));
		return NULL;
	}
	p = s + 3;
	if (*p == '/') {
		p++;
		while (p <= colon) {
			const gchar *slash = memchr(p, '/', colon - p);
			const gchar *seg_end = slash != NULL ? slash : colon;
			gchar *name;

			if (seg_end == p) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_INVALID_URI,
				            "ClientURI: empty segment in the nv path at offset "
				            "%" G_GSIZE_FORMAT,
				            (gsize)(p - text));
				return NULL;
			}
			name = gw_dm2_decode(text, p, seg_end - p, "/", "nv path", error);
			if (name == NULL)
				return NULL;
			g_ptr_array_add(path, name);
			p = seg_end + 1;
		}
	}
	value = gw_dm2_decode(text, colon + 1, end - colon - 1, NULL, "nv value", error);
	if (value == NULL)
		return NULL;
	g_ptr_array_add(path, NULL);
	nv = g_new0(GwDm2NvFilter, 1);
	nv->xname = g_strndup(s + 1, 1);
	nv->path = (gchar **)g_ptr_array_free(g_steal_pointer(&path), FALSE);
	nv->value = value;
	return nv;
}

static gboolean
gw_dm2_parse_query(const gchar *text, const gchar *q, GwDm2ClientUri *uri, GError **error)
{
	const gchar *p = q;

	for (;;) {
		const gchar *amp = strchr(p, '&');
		gsize len = amp != NULL ? (gsize)(amp - p) : strlen(p);

		if (len > 3 && strncmp(p, "nv=", 3) == 0) {
			GwDm2NvFilter *nv = gw_dm2_parse_nv(text, p + 3, len - 3, error);
			if (nv == NULL)
				return FALSE;
			g_ptr_array_add(uri->nv, nv);
		} else if (len > 3 && strncmp(p, "cv=", 3) == 0) {
			if (uri->cv != NULL) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_INVALID_URI,
				            "ClientURI: second cv field at offset %" G_GSIZE_FORMAT,
				            (gsize)(p - text));
				return FALSE;
			}
			uri->cv = gw_dm2_decode(text, p + 3, len - 3, NULL, "cv value", error);
			if (uri->cv == NULL)
				return FALSE;
		} else {
			g_autofree gchar *shown = g_strndup(p, MIN(len, 32));
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "ClientURI: query field \"%s\" at offset %" G_GSIZE_FORMAT
			            " is not nv=… or cv=…",
			            shown,
			            (gsize)(p - text));
			return FALSE;
		}
		if (amp == NULL)
			return TRUE;
		p = amp + 1;
	}
}

/* every x-name is used once and has an nv field; every nv names an x-name of the URI */
static gboolean
gw_dm2_check_xnames(const GwDm2ClientUri *uri, GError **error)
{
	gchar seen[64] = {0};
	guint n_seen = 0;

	if (uri->instance.kind == GW_DM2_SEGMENT_XNAME)
		seen[n_seen++] = uri->instance.name[0];
	for (guint i = 0; i < uri->path->len; i++) {
		const GwDm2Segment *seg = g_ptr_array_index(uri->path, i);
		if (seg->kind != GW_DM2_SEGMENT_XNAME)
			continue;
		if (memchr(seen, seg->name[0], n_seen) != NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "ClientURI: x-name (%s) is used twice",
			            seg->name);
			return FALSE;
		}
		if (n_seen < sizeof(seen))
			seen[n_seen++] = seg->name[0];
	}
	for (guint i = 0; i < uri->nv->len; i++) {
		const GwDm2NvFilter *nv = g_ptr_array_index(uri->nv, i);
		if (memchr(seen, nv->xname[0], n_seen) == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "ClientURI: nv field names (%s), which the path does not have",
			            nv->xname);
			return FALSE;
		}
	}
	for (guint i = 0; i < n_seen; i++) {
		gboolean found = FALSE;
		for (guint j = 0; j < uri->nv->len && !found; j++) {
			const GwDm2NvFilter *nv = g_ptr_array_index(uri->nv, j);
			found = nv->xname[0] == seen[i];
		}
		if (!found) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "ClientURI: x-name (%c) has no nv field",
			            seen[i]);
			return FALSE;
		}
	}
	return TRUE;
}

GwDm2ClientUri *
gw_dm2_client_uri_parse(const gchar *text, GError **error)
{
	g_autoptr(GwDm2ClientUri) uri = NULL;
	g_autoptr(GwDm2Segment) instance = NULL;
	const gchar *query;
	const gchar *path_end;
	const gchar *slash;
	const gchar *p;
	gsize len;

	g_return_val_if_fail(text != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	len = strlen(text);
	if (len > GW_DM2_CLIENT_URI_MAX_LEN) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_URI,
		            "ClientURI of %" G_GSIZE_FORMAT " bytes is over the limit of %u",
		            len,
		            (guint)GW_DM2_CLIENT_URI_MAX_LEN);
		return NULL;
	}
	uri = g_new0(GwDm2ClientUri, 1);
	uri->path = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_segment_free);
	uri->nv = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_nv_filter_free);

	query = strchr(text, '?');
	path_end = query != NULL ? query : text + len;
	slash = memchr(text, '/', path_end - text);
	if (slash == NULL || slash == text) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_URI,
		            "ClientURI \"%.64s\" must start with MOID \"/\"",
		            text);
		return NULL;
	}
	uri->moid = g_strndup(text, slash - text);
	p = slash + 1;
	slash = memchr(p, '/', path_end - p);
	if (slash == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_URI,
		            "ClientURI \"%.64s\" needs MOID/instance/ (the \"/\" after the "
		            "instance is missing)",
		            text);
		return NULL;
	}
	instance = gw_dm2_parse_segment(text, p, slash - p, TRUE, error);
	if (instance == NULL)
		return NULL;
	uri->instance = *instance;
	instance->name = NULL;
	p = slash + 1;
	while (p < path_end) {
		const gchar *end = memchr(p, '/', path_end - p);
		GwDm2Segment *seg;

		if (end == NULL)
			end = path_end;
		seg = gw_dm2_parse_segment(text, p, end - p, FALSE, error);
		if (seg == NULL)
			return NULL;
		g_ptr_array_add(uri->path, seg);
		/* one trailing "/" is allowed */
		p = end + 1;
	}
	if (query != NULL && !gw_dm2_parse_query(text, query + 1, uri, error))
		return NULL;
	if (!gw_dm2_check_xnames(uri, error))
		return NULL;
	return g_steal_pointer(&uri);
}

/* ---- tree side ---- */

void
gw_dm2_mo_instance_free(GwDm2MoInstance *instance)
{
	if (instance == NULL)
		return;
	g_free(instance->moid);
	g_free(instance->miid);
	g_free(instance->uri);
	g_free(instance);
}

/* the MOID of @node when it is an MO instance root, else NULL */
static const gchar *
gw_dm2_node_moid(GwDmNode *node)
{
	const gchar *type;

	if (gw_dm_node_is_leaf(node))
		return NULL;
	type = gw_dm_node_get_mime_type(node);
	return type != NULL && *type != '\0' ? type : NULL;
}

/* every instance root of @moid (all when NULL), pre-order, as borrowed GwDmNode */
static GPtrArray *
gw_dm2_find_instance_nodes(GwDmTree *tree, const gchar *moid)
{
	g_autoptr(GPtrArray) stack = g_ptr_array_new();
	GPtrArray *found = g_ptr_array_new();

	g_ptr_array_add(stack, gw_dm_tree_get_root(tree));
	while (stack->len > 0) {
		GwDmNode *node = g_ptr_array_steal_index_fast(stack, stack->len - 1);
		const gchar *node_moid = gw_dm2_node_moid(node);
		GPtrArray *children;

		if (node_moid != NULL && (moid == NULL || strcmp(node_moid, moid) == 0))
			g_ptr_array_add(found, node);
		if (gw_dm_node_is_leaf(node))
			continue;
		children = gw_dm_node_get_children(node);
		for (guint i = children->len; i > 0; i--) {
			GwDmNode *child = g_ptr_array_index(children, i - 1);
			if (!gw_dm_node_is_leaf(child))
				g_ptr_array_add(stack, child);
		}
	}
	return found;
}

GPtrArray *
gw_dm2_tree_list_instances(GwDmTree *tree, const gchar *moid)
{
	g_autoptr(GPtrArray) nodes = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_mo_instance_free);

	g_return_val_if_fail(GW_IS_DM_TREE(tree), out);
	nodes = gw_dm2_find_instance_nodes(tree, moid);
	for (guint i = 0; i < nodes->len; i++) {
		GwDmNode *node = g_ptr_array_index(nodes, i);
		GwDm2MoInstance *instance;
		gchar *key =
		    g_strconcat(gw_dm2_node_moid(node), "/", gw_dm_node_get_name(node), NULL);

		if (!g_hash_table_add(seen, key))
			continue;
		instance = g_new0(GwDm2MoInstance, 1);
		instance->moid = g_strdup(gw_dm2_node_moid(node));
		instance->miid = g_strdup(gw_dm_node_get_name(node));
		instance->uri = gw_dm_node_dup_uri(node);
		g_ptr_array_add(out, instance);
	}
	return out;
}

GPtrArray *
gw_dm2_tree_list_mos(GwDmTree *tree)
{
	g_autoptr(GPtrArray) instances = NULL;
	g_autoptr(GHashTable) by_moid = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_mo_free);

	g_return_val_if_fail(GW_IS_DM_TREE(tree), out);
	instances = gw_dm2_tree_list_instances(tree, NULL);
	for (guint i = 0; i < instances->len; i++) {
		const GwDm2MoInstance *instance = g_ptr_array_index(instances, i);
		GwDm2Mo *mo = g_hash_table_lookup(by_moid, instance->moid);

		if (mo == NULL) {
			mo = gw_dm2_mo_new(NULL, instance->moid);
			g_ptr_array_add(out, mo);
			g_hash_table_insert(by_moid, mo->moid, mo);
		}
		gw_dm2_mo_add_miid(mo, instance->miid);
	}
	return out;
}

/* the leaf at @path below @node holds exactly @value */
static gboolean
gw_dm2_nv_holds(GwDmNode *node, const GwDm2NvFilter *nv)
{
	GBytes *value;
	gsize len = 0;
	const guint8 *data;

	for (guint i = 0; nv->path[i] != NULL && node != NULL; i++) {
		if (gw_dm_node_is_leaf(node))
			return FALSE;
		node = gw_dm_node_get_child(node, nv->path[i]);
	}
	if (node == NULL || !gw_dm_node_is_leaf(node))
		return FALSE;
	value = gw_dm_node_get_value(node);
	data = value != NULL ? g_bytes_get_data(value, &len) : NULL;
	return len == strlen(nv->value) && (len == 0 || memcmp(data, nv->value, len) == 0);
}

static gboolean
gw_dm2_xname_holds(const GwDm2ClientUri *uri, const gchar *xname, GwDmNode *node)
{
	for (guint i = 0; i < uri->nv->len; i++) {
		const GwDm2NvFilter *nv = g_ptr_array_index(uri->nv, i);
		if (strcmp(nv->xname, xname) == 0 && !gw_dm2_nv_holds(node, nv))
			return FALSE;
	}
	return TRUE;
}

GPtrArray *
gw_dm2_client_uri_resolve(const GwDm2ClientUri *uri, GwDmTree *tree, GError **error)
{
	g_autoptr(GPtrArray) instances = NULL;
	g_autoptr(GPtrArray) current = g_ptr_array_new();
	GPtrArray *out;

	g_return_val_if_fail(uri != NULL, NULL);
	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	instances = gw_dm2_find_instance_nodes(tree, uri->moid);
	if (instances->len == 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_FOUND,
		            "no instance of MO %s in the tree",
		            uri->moid);
		return NULL;
	}
	switch (uri->instance.kind) {
	case GW_DM2_SEGMENT_EMPTY:
		if (instances->len > 1) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "MO %s has %u instances: the ClientURI must name one",
			            uri->moid,
			            instances->len);
			return NULL;
		}
		g_ptr_array_add(current, g_ptr_array_index(instances, 0));
		break;
	case GW_DM2_SEGMENT_NAME:
		for (guint i = 0; i < instances->len; i++) {
			GwDmNode *node = g_ptr_array_index(instances, i);
			if (strcmp(gw_dm_node_get_name(node), uri->instance.name) == 0)
				g_ptr_array_add(current, node);
		}
		if (current->len > 1) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "MIID %s of MO %s is ambiguous (%u instances have that name)",
			            uri->instance.name,
			            uri->moid,
			            current->len);
			return NULL;
		}
		break;
	case GW_DM2_SEGMENT_XNAME:
		for (guint i = 0; i < instances->len; i++) {
			GwDmNode *node = g_ptr_array_index(instances, i);
			if (gw_dm2_xname_holds(uri, uri->instance.name, node))
				g_ptr_array_add(current, node);
		}
		break;
	case GW_DM2_SEGMENT_WILDCARD:
	default:
		g_ptr_array_extend(current, instances, NULL, NULL);
		break;
	}

	for (guint s = 0; s < uri->path->len && current->len > 0; s++) {
		const GwDm2Segment *seg = g_ptr_array_index(uri->path, s);
		g_autoptr(GPtrArray) next = g_ptr_array_new();

		for (guint i = 0; i < current->len; i++) {
			GwDmNode *node = g_ptr_array_index(current, i);
			GPtrArray *children;

			if (gw_dm_node_is_leaf(node))
				continue;
			if (seg->kind == GW_DM2_SEGMENT_NAME) {
				GwDmNode *child = gw_dm_node_get_child(node, seg->name);
				if (child != NULL)
					g_ptr_array_add(next, child);
				continue;
			}
			children = gw_dm_node_get_children(node);
			for (guint j = 0; j < children->len; j++) {
				GwDmNode *child = g_ptr_array_index(children, j);
				if (seg->kind == GW_DM2_SEGMENT_WILDCARD ||
				    gw_dm2_xname_holds(uri, seg->name, child))
					g_ptr_array_add(next, child);
			}
		}
		g_ptr_array_unref(current);
		current = g_steal_pointer(&next);
	}
	if (current->len == 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_FOUND,
		            "no node of MO %s matches the ClientURI",
		            uri->moid);
		return NULL;
	}
	out = g_ptr_array_new_full(current->len, g_free);
	for (guint i = 0; i < current->len; i++)
		g_ptr_array_add(out, gw_dm_node_dup_uri(g_ptr_array_index(current, i)));
	return out;
}

#define GW_DM2_URI_ALLOWED ":@!$'+,;="

gchar *
gw_dm2_client_uri_from_tree_uri(GwDmTree *tree, const gchar *tree_uri, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GString) out = NULL;
	g_autofree gchar *miid = NULL;
	GwDmNode *node;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(tree_uri != NULL, NULL);

	node = gw_dm_tree_lookup(tree, tree_uri);
	if (node == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "no node %s", tree_uri);
		return NULL;
	}
	while (node != NULL && gw_dm2_node_moid(node) == NULL) {
		g_ptr_array_add(names, (gpointer)gw_dm_node_get_name(node));
		node = gw_dm_node_get_parent(node);
	}
	if (node == NULL) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_NOT_FOUND, "no MO instance encloses %s", tree_uri);
		return NULL;
	}
	out = g_string_new(gw_dm2_node_moid(node));
	g_string_append_c(out, '/');
	miid = g_uri_escape_string(gw_dm_node_get_name(node), GW_DM2_URI_ALLOWED, TRUE);
	g_string_append(out, miid);
	g_string_append_c(out, '/');
	for (guint i = names->len; i > 0; i--) {
		g_autofree gchar *name =
		    g_uri_escape_string(g_ptr_array_index(names, i - 1), GW_DM2_URI_ALLOWED, TRUE);
		g_string_append(out, name);
		if (i > 1)
			g_string_append_c(out, '/');
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}
