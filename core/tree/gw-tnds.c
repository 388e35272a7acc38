/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwTnds"

#include "config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "gw-tnds.h"
#include "gw-xml-bounds.h"

#define GW_TNDS_NS "syncml:dmddf1.2"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* DFProperties/AccessType children, in TNDS DTD order */
static const struct {
	const gchar *name;
	GwDmAccess access;
} gw_tnds_access_names[] = {
    {"Add", GW_DM_ACCESS_ADD},
    {"Copy", GW_DM_ACCESS_COPY},
    {"Delete", GW_DM_ACCESS_DELETE},
    {"Exec", GW_DM_ACCESS_EXEC},
    {"Get", GW_DM_ACCESS_GET},
    {"Replace", GW_DM_ACCESS_REPLACE},
};

/* ---- export ---- */

/*
 * The exporter writes straight into a GString: the state file is the whole tree exported after
 * every change batch, and libxml2's text writer spent most of a DM session's CPU doing it
 * (measured with callgrind: xmlBufAdd/xmlOutputBufferWrite). The output is the same shape the
 * text writer produced (one-space indentation, text-only elements on one line).
 */
typedef struct {
	GString *out;
	const gchar *server_id;
	GwTndsExportFlags flags;
	guint depth;
	gboolean failed;
	GError *error;
} GwTndsExport;

static void
gw_tnds_indent(GwTndsExport *ctx)
{
	static const gchar spaces[] =
	    "\n                                                                ";
	guint n = ctx->depth;

	g_string_append_len(ctx->out, spaces, MIN(n, sizeof(spaces) - 2) + 1);
	for (; n > sizeof(spaces) - 2; n--)
		g_string_append_c(ctx->out, ' ');
}

static void
gw_tnds_escape(GString *out, const gchar *text, gsize len)
{
	const gchar *run = text;

	for (gsize i = 0; i < len; i++) {
		const gchar *rep;
		switch (text[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '\r':
			rep = "&#13;";
			break;
		default:
			continue;
		}
		g_string_append_len(out, run, (text + i) - run);
		g_string_append(out, rep);
		run = text + i + 1;
	}
	g_string_append_len(out, run, (text + len) - run);
}

static void
gw_tnds_start(GwTndsExport *ctx, const gchar *name)
{
	gw_tnds_indent(ctx);
	g_string_append_c(ctx->out, '<');
	g_string_append(ctx->out, name);
	g_string_append_c(ctx->out, '>');
	ctx->depth++;
}

static void
gw_tnds_end(GwTndsExport *ctx, const gchar *name)
{
	ctx->depth--;
	gw_tnds_indent(ctx);
	g_string_append(ctx->out, "</");
	g_string_append(ctx->out, name);
	g_string_append_c(ctx->out, '>');
}

static void
gw_tnds_element_len(GwTndsExport *ctx, const gchar *name, const gchar *text, gsize len)
{
	gw_tnds_indent(ctx);
	g_string_append_c(ctx->out, '<');
	g_string_append(ctx->out, name);
	g_string_append_c(ctx->out, '>');
	gw_tnds_escape(ctx->out, text, len);
	g_string_append(ctx->out, "</");
	g_string_append(ctx->out, name);
	g_string_append_c(ctx->out, '>');
}

static void
gw_tnds_element(GwTndsExport *ctx, const gchar *name, const gchar *text)
{
	gw_tnds_element_len(ctx, name, text, strlen(text));
}

static void
gw_tnds_empty(GwTndsExport *ctx, const gchar *name)
{
	gw_tnds_indent(ctx);
	g_string_append_c(ctx->out, '<');
	g_string_append(ctx->out, name);
	g_string_append(ctx->out, "/>");
}

static void
gw_tnds_write_value(GwTndsExport *ctx, GwDmNode *node)
{
	GBytes *value = gw_dm_node_get_value(node);
	const gchar *data;
	gsize len = 0;

	if (value == NULL)
		return;
	data = g_bytes_get_data(value, &len);
	if (gw_dm_node_get_format(node) == GW_DM_FORMAT_BIN) {
		g_autofree gchar *b64 = g_base64_encode((const guchar *)data, len);
		gw_tnds_element(ctx, "Value", b64);
		return;
	}
	if (len > 0 && !gw_dm_text_is_xml_safe(data, len)) {
		g_autofree gchar *uri = gw_dm_node_dup_uri(node);
		if (!ctx->failed)
			g_set_error(&ctx->error,
			            GW_ERROR,
			            GW_ERROR_NOT_SUPPORTED,
			            "value of %s cannot be written as XML",
			            uri);
		ctx->failed = TRUE;
		return;
	}
	gw_tnds_element_len(ctx, "Value", data != NULL ? data : "", len);
}

static void
gw_tnds_write_node(GwTndsExport *ctx, GwDmNode *node, const gchar *path, const GwDmAcl *inherited)
{
	g_autofree gchar *acl_text = gw_dm_node_has_acl(node) ? gw_dm_node_dup_acl(node) : NULL;
	g_autoptr(GwDmAcl) own = NULL;
	const GwDmAcl *effective = inherited;
	GwDmFormat format = gw_dm_node_get_format(node);
	const gchar *mime = gw_dm_node_get_mime_type(node);
	const gchar *title = gw_dm_node_get_title(node);
	GwDmAccess access = gw_dm_node_get_access(node);
	GPtrArray *children;

	if (ctx->failed)
		return;
	/* ACLs are evaluated only for a server-scoped export */
	if (ctx->server_id != NULL) {
		if (acl_text != NULL) {
			own = gw_dm_acl_parse(acl_text, NULL);
			if (own != NULL)
				effective = own;
		}
		if (effective == NULL ||
		    !gw_dm_acl_allows(effective, GW_DM_ACCESS_GET, ctx->server_id))
			return;
	}

	gw_tnds_start(ctx, "Node");
	gw_tnds_element(ctx, "NodeName", gw_dm_node_get_name(node));
	if (path != NULL)
		gw_tnds_element(ctx, "Path", path);

	gw_tnds_start(ctx, "RTProperties");
	if (acl_text != NULL)
		gw_tnds_element(ctx, "ACL", acl_text);
	else if (gw_dm_node_get_parent(node) == NULL)
		/* the root of a fresh tree has a default ACL: an empty one must say so, or an
		 * import (the state file at start) would bring the default back */
		gw_tnds_element(ctx, "ACL", "");
	gw_tnds_start(ctx, "Format");
	gw_tnds_empty(ctx, gw_dm_format_to_string(format));
	gw_tnds_end(ctx, "Format");
	if (title != NULL)
		gw_tnds_element(ctx, "Title", title);
	if (mime != NULL) {
		gw_tnds_start(ctx, "Type");
		gw_tnds_element(ctx, format == GW_DM_FORMAT_NODE ? "DDFName" : "MIME", mime);
		gw_tnds_end(ctx, "Type");
	}
	gw_tnds_end(ctx, "RTProperties");

	if (ctx->flags & GW_TNDS_EXPORT_DF_PROPERTIES) {
		gw_tnds_start(ctx, "DFProperties");
		gw_tnds_start(ctx, "AccessType");
		for (guint i = 0; i < G_N_ELEMENTS(gw_tnds_access_names); i++) {
			if (access & gw_tnds_access_names[i].access)
				gw_tnds_empty(ctx, gw_tnds_access_names[i].name);
		}
		gw_tnds_end(ctx, "AccessType");
		gw_tnds_start(ctx, "Scope");
		gw_tnds_empty(ctx, gw_dm_node_get_permanent(node) ? "Permanent" : "Dynamic");
		gw_tnds_end(ctx, "Scope");
		gw_tnds_end(ctx, "DFProperties");
	}

	if (format != GW_DM_FORMAT_NODE && (ctx->flags & GW_TNDS_EXPORT_VALUES) &&
	    ((access & GW_DM_ACCESS_GET) || (ctx->flags & GW_TNDS_EXPORT_SECRETS)))
		gw_tnds_write_value(ctx, node);

	children = gw_dm_node_get_children(node);
	for (guint i = 0; i < children->len && !ctx->failed; i++)
		gw_tnds_write_node(ctx, g_ptr_array_index(children, i), NULL, effective);
	gw_tnds_end(ctx, "Node");
}

/* the effective ACL above @node as a parsed copy, NULL when none */
static GwDmAcl *
gw_tnds_inherited_acl(GwDmNode *node)
{
	for (GwDmNode *n = gw_dm_node_get_parent(node); n != NULL; n = gw_dm_node_get_parent(n)) {
		g_autofree gchar *text = gw_dm_node_dup_acl(n);
		if (text[0] != '\0')
			return gw_dm_acl_parse(text, NULL);
	}
	return NULL;
}

gchar *
gw_tnds_export(GwDmTree *tree,
               const gchar *uri,
               const gchar *server_id,
               GwTndsExportFlags flags,
               GError **error)
{
	g_autofree gchar *normalized = NULL;
	g_autofree gchar *parent = NULL;
	g_autoptr(GwDmAcl) inherited = NULL;
	GwTndsExport ctx = {NULL, server_id, flags, 0, FALSE, NULL};
	GwDmNode *node;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(uri != NULL, NULL);

	normalized = gw_dm_uri_normalize(uri, NULL, NULL, error);
	if (normalized == NULL)
		return NULL;
	node = gw_dm_tree_lookup(tree, normalized);
	if (node == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "no node %s", normalized);
		return NULL;
	}
	if (server_id != NULL &&
	    !gw_dm_tree_check_acl(tree, normalized, GW_DM_ACCESS_GET, server_id)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "%s may not read %s",
		            server_id,
		            normalized);
		return NULL;
	}
	parent = gw_dm_uri_parent(normalized);
	if (server_id != NULL)
		inherited = gw_tnds_inherited_acl(node);

	ctx.out = g_string_sized_new(16384);
	g_string_append(ctx.out,
	                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MgmtTree xmlns=\"" GW_TNDS_NS
	                "\">");
	ctx.depth = 1;
	gw_tnds_element(&ctx, "VerDTD", "1.2");
	gw_tnds_write_node(&ctx, node, parent, inherited);
	g_string_append(ctx.out, "\n</MgmtTree>\n");
	if (ctx.failed) {
		g_string_free(ctx.out, TRUE);
		g_propagate_error(error, ctx.error);
		return NULL;
	}
	return g_string_free(ctx.out, FALSE);
}

/* ---- import ---- */

typedef struct _GwTndsNode GwTndsNode;
struct _GwTndsNode {
	gchar *name;
	gchar *path;         /* top-level only, nullable */
	gboolean is_self;    /* NodeName "." or "" at the top: the import point itself */
	GwDmFormat format;   /* resolved */
	gboolean has_format; /* <Format> given; else @format is inferred, the DDF may change it */
	gchar *acl;          /* nullable: not given */
	gchar *title;        /* nullable: not given */
	gchar *mime;         /* nullable: not given */
	gboolean has_access;
	GwDmAccess access;
	gboolean has_scope;
	gboolean permanent;
	GBytes *value; /* nullable: no <Value> */
	GPtrArray *children;
};

static void
gw_tnds_node_free(GwTndsNode *node)
{
	if (node == NULL)
		return;
	g_free(node->name);
	g_free(node->path);
	g_free(node->acl);
	g_free(node->title);
	g_free(node->mime);
	if (node->value != NULL)
		g_bytes_unref(node->value);
	g_ptr_array_unref(node->children);
	g_free(node);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwTndsNode, gw_tnds_node_free)

static GwTndsNode *
gw_tnds_node_new(void)
{
	GwTndsNode *node = g_new0(GwTndsNode, 1);
	node->format = GW_DM_FORMAT_INVALID;
	node->children = g_ptr_array_new_with_free_func((GDestroyNotify)gw_tnds_node_free);
	return node;
}

static gboolean
gw_tnds_fail(GError **error, const gchar *why)
{
	g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "invalid TNDS document: %s", why);
	return FALSE;
}

/* whitespace-only text between elements (indentation that NOBLANKS kept) */
static gboolean
gw_tnds_is_blank(xmlNode *node)
{
	if (node->type != XML_TEXT_NODE && node->type != XML_CDATA_SECTION_NODE)
		return FALSE;
	for (const xmlChar *p = node->content; p != NULL && *p != '\0'; p++) {
		if (!g_ascii_isspace(*p))
			return FALSE;
	}
	return TRUE;
}

/* text where only elements belong */
static gboolean
gw_tnds_is_stray_text(xmlNode *node)
{
	return (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) &&
	       !gw_tnds_is_blank(node);
}

static gboolean
gw_tnds_is(xmlNode *node, const gchar *name)
{
	return node->type == XML_ELEMENT_NODE && g_strcmp0((const gchar *)node->name, name) == 0;
}

/* text content of an element that must hold text only; NULL + error otherwise */
static gchar *
gw_tnds_text(xmlNode *element, GError **error)
{
	g_autoptr(GString) str = g_string_new(NULL);

	for (xmlNode *c = element->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content != NULL)
				g_string_append(str, (const gchar *)c->content);
		} else if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE) {
			continue;
		} else {
			gw_tnds_fail(error, "unexpected content in a text element");
			return NULL;
		}
	}
	return g_string_free(g_steal_pointer(&str), FALSE);
}

/* the name of the single empty child element (<Format><chr/></Format>) */
static const gchar *
gw_tnds_single_child(xmlNode *element, GError **error)
{
	const gchar *name = NULL;

	for (xmlNode *c = element->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			if (name != NULL) {
				gw_tnds_fail(error, "more than one child element");
				return NULL;
			}
			name = (const gchar *)c->name;
		} else if (gw_tnds_is_stray_text(c)) {
			gw_tnds_fail(error, "text where an element is expected");
			return NULL;
		}
	}
	if (name == NULL)
		gw_tnds_fail(error, "missing child element");
	return name;
}

static gboolean
gw_tnds_mime_is_valid(const gchar *mime)
{
	return strlen(mime) <= 255 && gw_dm_text_is_xml_safe(mime, -1) &&
	       strpbrk(mime, "\t\r\n") == NULL;
}

static gboolean
gw_tnds_parse_rt_properties(xmlNode *element, GwTndsNode *node, GError **error)
{
	for (xmlNode *c = element->children; c != NULL; c = c->next) {
		if (gw_tnds_is(c, "ACL")) {
			g_autoptr(GwDmAcl) acl = NULL;
			g_free(node->acl);
			node->acl = gw_tnds_text(c, error);
			if (node->acl == NULL)
				return FALSE;
			acl = gw_dm_acl_parse(node->acl, NULL);
			if (acl == NULL)
				return gw_tnds_fail(error, "invalid ACL");
		} else if (gw_tnds_is(c, "Format")) {
			const gchar *name = gw_tnds_single_child(c, error);
			if (name == NULL)
				return FALSE;
			node->format = gw_dm_format_from_string(name);
			if (node->format == GW_DM_FORMAT_INVALID)
				return gw_tnds_fail(error, "unknown format");
		} else if (gw_tnds_is(c, "Title")) {
			g_free(node->title);
			node->title = gw_tnds_text(c, error);
			if (node->title == NULL)
				return FALSE;
			if (node->title[0] != '\0' && !gw_dm_text_is_xml_safe(node->title, -1))
				return gw_tnds_fail(error, "invalid title");
		} else if (gw_tnds_is(c, "Type")) {
			for (xmlNode *t = c->children; t != NULL; t = t->next) {
				if (!gw_tnds_is(t, "MIME") && !gw_tnds_is(t, "DDFName"))
					continue;
				g_free(node->mime);
				node->mime = gw_tnds_text(t, error);
				if (node->mime == NULL)
					return FALSE;
				if (!gw_tnds_mime_is_valid(node->mime))
					return gw_tnds_fail(error, "invalid type");
			}
		}
		/* Name, Size, TStamp, VerNo: computed by the tree, ignored */
	}
	return TRUE;
}

static gboolean
gw_tnds_parse_df_properties(xmlNode *element, GwTndsNode *node, GError **error)
{
	for (xmlNode *c = element->children; c != NULL; c = c->next) {
		if (gw_tnds_is(c, "AccessType")) {
			node->has_access = TRUE;
			node->access = GW_DM_ACCESS_NONE;
			for (xmlNode *a = c->children; a != NULL; a = a->next) {
				if (a->type != XML_ELEMENT_NODE)
					continue;
				for (guint i = 0; i < G_N_ELEMENTS(gw_tnds_access_names); i++) {
					if (gw_tnds_is(a, gw_tnds_access_names[i].name))
						node->access |= gw_tnds_access_names[i].access;
				}
			}
		} else if (gw_tnds_is(c, "Scope")) {
			const gchar *name = gw_tnds_single_child(c, error);
			if (name == NULL)
				return FALSE;
			if (g_strcmp0(name, "Permanent") == 0)
				node->permanent = TRUE;
			else if (g_strcmp0(name, "Dynamic") == 0)
				node->permanent = FALSE;
			else
				return gw_tnds_fail(error, "unknown scope");
			node->has_scope = TRUE;
		}
		/* Description, DFFormat, Occurrence, DFTitle, DFType, CaseSense: ignored */
	}
	return TRUE;
}

static gboolean
gw_tnds_name_is_valid(const gchar *name)
{
	g_autofree gchar *normalized = NULL;

	if (strchr(name, '/') != NULL || g_strcmp0(name, ".") == 0)
		return FALSE;
	normalized = gw_dm_uri_normalize(name, NULL, NULL, NULL);
	return normalized != NULL;
}

/* @strict: values as gw_dm_format_validate_value(), else as gw_dm_format_validate_stored() */
static GwTndsNode *
gw_tnds_parse_node(xmlNode *element, guint depth, gboolean top, gboolean strict, GError **error)
{
	g_autoptr(GwTndsNode) node = gw_tnds_node_new();
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree gchar *value_text = NULL;
	gboolean has_format;
	gboolean has_name = FALSE;

	if (depth > GW_TNDS_MAX_DEPTH) {
		gw_tnds_fail(error, "too deep");
		return NULL;
	}
	for (xmlNode *c = element->children; c != NULL; c = c->next) {
		if (gw_tnds_is_stray_text(c)) {
			gw_tnds_fail(error, "text inside Node");
			return NULL;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (gw_tnds_is(c, "NodeName")) {
			if (has_name) {
				gw_tnds_fail(error, "two NodeName");
				return NULL;
			}
			node->name = gw_tnds_text(c, error);
			if (node->name == NULL)
				return NULL;
			has_name = TRUE;
		} else if (gw_tnds_is(c, "Path")) {
			if (!top) {
				gw_tnds_fail(error, "Path below the top level");
				return NULL;
			}
			g_free(node->path);
			node->path = gw_tnds_text(c, error);
			if (node->path == NULL)
				return NULL;
		} else if (gw_tnds_is(c, "RTProperties")) {
			if (!gw_tnds_parse_rt_properties(c, node, error))
				return NULL;
		} else if (gw_tnds_is(c, "DFProperties")) {
			if (!gw_tnds_parse_df_properties(c, node, error))
				return NULL;
		} else if (gw_tnds_is(c, "Value")) {
			if (value_text != NULL) {
				gw_tnds_fail(error, "two Value");
				return NULL;
			}
			value_text = gw_tnds_text(c, error);
			if (value_text == NULL)
				return NULL;
		} else if (gw_tnds_is(c, "Node")) {
			GwTndsNode *child = gw_tnds_parse_node(c, depth + 1, FALSE, strict, error);
			if (child == NULL)
				return NULL;
			g_ptr_array_add(node->children, child);
			if (!g_hash_table_add(names, child->name)) {
				gw_tnds_fail(error, "two nodes with the same name");
				return NULL;
			}
		}
		/* unknown elements are ignored (documents in the wild) */
	}

	if (!has_name) {
		gw_tnds_fail(error, "Node without NodeName");
		return NULL;
	}
	if (top && (node->name[0] == '\0' || g_strcmp0(node->name, ".") == 0)) {
		node->is_self = TRUE;
	} else if (!gw_tnds_name_is_valid(node->name)) {
		gw_tnds_fail(error, "invalid NodeName");
		return NULL;
	}

	/* in the wild: no Format means interior unless there is a Value (then chr) */
	has_format = node->format != GW_DM_FORMAT_INVALID;
	node->has_format = has_format;
	if (!has_format)
		node->format = value_text != NULL && node->children->len == 0 ? GW_DM_FORMAT_CHR
		                                                              : GW_DM_FORMAT_NODE;
	if (node->format == GW_DM_FORMAT_NODE && value_text != NULL) {
		gw_tnds_fail(error, "interior node with a Value");
		return NULL;
	}
	if (node->format != GW_DM_FORMAT_NODE && node->children->len > 0) {
		gw_tnds_fail(error, "leaf with children");
		return NULL;
	}
	if (node->is_self && node->format != GW_DM_FORMAT_NODE) {
		gw_tnds_fail(error, "the import point must be interior");
		return NULL;
	}
	if (value_text != NULL) {
		gsize len = strlen(value_text);
		if (node->format == GW_DM_FORMAT_BIN) {
			g_autoptr(GBytes) encoded = g_bytes_new_static(value_text, len);
			guchar *decoded;
			gsize decoded_len = 0;
			if (!gw_dm_format_validate_value(GW_DM_FORMAT_B64, encoded, NULL)) {
				gw_tnds_fail(error, "bin value is not base64");
				return NULL;
			}
			decoded = g_base64_decode(value_text, &decoded_len);
			node->value = g_bytes_new_take(decoded, decoded_len);
		} else {
			node->value = g_bytes_new_take(g_steal_pointer(&value_text), len);
		}
		if (!(strict ? gw_dm_format_validate_value(node->format, node->value, NULL)
		             : gw_dm_format_validate_stored(node->format, node->value, NULL))) {
			gw_tnds_fail(error, "value does not fit the format");
			return NULL;
		}
	}
	return g_steal_pointer(&node);
}

/* (element-type GwTndsNode) the top-level nodes */
static GPtrArray *
gw_tnds_parse(const gchar *xml, gsize len, gboolean strict, GError **error)
{
	const gboolean state = !strict; /* the gateway's own state: not bounded */
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(GPtrArray) nodes = NULL;
	xmlNode *root;
	const gchar *end = NULL;

	if (xml == NULL || len == 0) {
		gw_tnds_fail(error, "empty");
		return NULL;
	}
	if ((!state && len > GW_TNDS_MAX_SIZE) || len > G_MAXINT) {
		gw_tnds_fail(error, "too large");
		return NULL;
	}
	/* UTF-8 only (no UTF-16 detour around the DTD check below), no NUL */
	if (!g_utf8_validate_len(xml, len, &end)) {
		gw_tnds_fail(error, "not UTF-8");
		return NULL;
	}
	/* what a document from outside holds is bounded before libxml2 sees it (its pairwise
	 * attribute check alone is quadratic); the gateway's own state is not bounded */
	if (!state && !gw_xml_bounds_check(&gw_xml_bounds_tnds, xml, len, NULL, error))
		return NULL;
	/* no DTD at all: no entity declarations, no external subsets */
	if (g_strstr_len(xml, len, "<!DOCTYPE") != NULL ||
	    g_strstr_len(xml, len, "<!ENTITY") != NULL) {
		gw_tnds_fail(error, "DTDs are not accepted");
		return NULL;
	}
	doc = xmlReadMemory(xml,
	                    (int)len,
	                    "tnds.xml",
	                    "UTF-8",
	                    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
	                        XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
	                        (state ? XML_PARSE_HUGE : 0));
	if (doc == NULL) {
		gw_tnds_fail(error, "malformed XML");
		return NULL;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		gw_tnds_fail(error, "DTDs are not accepted");
		return NULL;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !gw_tnds_is(root, "MgmtTree")) {
		gw_tnds_fail(error, "root element is not MgmtTree");
		return NULL;
	}
	if (root->ns != NULL && g_strcmp0((const gchar *)root->ns->href, GW_TNDS_NS) != 0) {
		gw_tnds_fail(error, "wrong namespace");
		return NULL;
	}
	nodes = g_ptr_array_new_with_free_func((GDestroyNotify)gw_tnds_node_free);
	for (xmlNode *c = root->children; c != NULL; c = c->next) {
		if (gw_tnds_is_stray_text(c)) {
			gw_tnds_fail(error, "text inside MgmtTree");
			return NULL;
		}
		if (gw_tnds_is(c, "Node")) {
			GwTndsNode *node = gw_tnds_parse_node(c, 1, TRUE, strict, error);
			if (node == NULL)
				return NULL;
			g_ptr_array_add(nodes, node);
		}
		/* VerDTD, Man, Mod: informative */
	}
	return g_steal_pointer(&nodes);
}

/* the normalised URI a top-level node lands on */
static gchar *
gw_tnds_target_uri(const gchar *parent_uri, GwTndsNode *node, GError **error)
{
	g_autofree gchar *base = NULL;
	g_autofree gchar *joined = NULL;
	gchar *normalized;

	if (node->path != NULL) {
		g_autofree gchar *path = g_strdup(node->path);
		gsize plen = strlen(path);
		/* tolerate a trailing "/" on Path ("./A/") */
		if (plen > 1 && path[plen - 1] == '/')
			path[plen - 1] = '\0';
		if (g_strcmp0(path, ".") == 0 || g_str_has_prefix(path, "./"))
			base = g_strdup(path);
		else
			base = g_strconcat(parent_uri, "/", path, NULL);
	} else {
		base = g_strdup(parent_uri);
	}
	joined = node->is_self ? g_strdup(base) : g_strconcat(base, "/", node->name, NULL);
	normalized = gw_dm_uri_normalize(joined, NULL, NULL, NULL);
	if (normalized == NULL)
		gw_tnds_fail(error, "invalid Path");
	return normalized;
}

/* a node without <Format> takes the format of its DDF node (the in-the-wild default, chr or
 * node, is only a guess); a bin value is base64 in TNDS */
static gboolean
gw_tnds_take_ddf_format(GwTndsNode *node, GwDmFormat ddf_format, const gchar *uri, GError **error)
{
	if (node->has_format || node->format == ddf_format)
		return TRUE;
	if (ddf_format == GW_DM_FORMAT_NODE) {
		/* a Value: the document says leaf; the format check refuses it */
		if (node->value == NULL)
			node->format = GW_DM_FORMAT_NODE;
		return TRUE;
	}
	if (node->children->len > 0)
		return TRUE; /* interior in the document: refused by the format check */
	if (ddf_format == GW_DM_FORMAT_BIN && node->value != NULL) {
		gsize len = 0;
		const gchar *text = g_bytes_get_data(node->value, &len);
		g_autofree gchar *copy = g_strndup(text != NULL ? text : "", len);
		guchar *decoded;
		gsize decoded_len = 0;
		if (!gw_dm_format_validate_value(GW_DM_FORMAT_B64, node->value, NULL)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "invalid TNDS document: %s is bin, its value is not base64",
			            uri);
			return FALSE;
		}
		decoded = g_base64_decode(copy, &decoded_len);
		g_bytes_unref(node->value);
		node->value = g_bytes_new_take(decoded, decoded_len);
	}
	if (!gw_dm_format_validate_value(ddf_format, node->value, NULL)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "%s is %s in its standard definition (DDF); the value does not fit",
		            uri,
		            gw_dm_format_to_string(ddf_format));
		return FALSE;
	}
	node->format = ddf_format;
	return TRUE;
}

/* the DDF of the standard MOs for one node of the document at @uri (@existing: what is there) */
static gboolean
gw_tnds_validate_ddf(GwDmTree *tree,
                     GwDmNode *existing,
                     GwTndsNode *node,
                     const gchar *uri,
                     GwTndsImportFlags flags,
                     GError **error)
{
	GwDmFormat ddf_format = GW_DM_FORMAT_INVALID;
	GwDmAccess ddf_access = GW_DM_ACCESS_NONE;
	GBytes *old_value;

	switch (gw_dm_tree_ddf_lookup(tree, uri, &ddf_format, &ddf_access)) {
	case GW_DM_DDF_FREE:
		return TRUE;
	case GW_DM_DDF_UNKNOWN:
		return gw_dm_tree_ddf_check(tree, uri, node->format, error);
	case GW_DM_DDF_DESCRIBED:
	default:
		break;
	}
	if (!gw_tnds_take_ddf_format(node, ddf_format, uri, error) ||
	    !gw_dm_tree_ddf_check(tree, uri, node->format, error))
		return FALSE;
	/* what the DDF makes read only (DevInfo, DevDetail) keeps its value: SetNode and a DM
	 * Replace get 405 there, and so does a bootstrap */
	if (existing == NULL || (ddf_access & GW_DM_ACCESS_REPLACE) != 0 ||
	    !gw_dm_node_is_leaf(existing) || (flags & GW_TNDS_IMPORT_REPLACE) == 0 ||
	    node->value == NULL)
		return TRUE;
	old_value = gw_dm_node_get_value(existing);
	if (gw_dm_node_get_format(existing) == node->format &&
	    (old_value != NULL ? g_bytes_equal(old_value, node->value)
	                       : g_bytes_get_size(node->value) == 0))
		return TRUE;
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_NOT_ALLOWED,
	            "%s is read only (its standard definition allows Get only)",
	            uri);
	return FALSE;
}

/* read-only check against the tree: the DDF, kind conflicts and existing values */
static gboolean
gw_tnds_validate(GwDmTree *tree,
                 GwDmNode *existing,
                 GwTndsNode *node,
                 const gchar *uri,
                 GwTndsImportFlags flags,
                 GError **error)
{
	if ((flags & GW_TNDS_IMPORT_RESTORE) != 0) {
		/* the state file: nothing to check below a node that is new */
		if (existing == NULL)
			return TRUE;
	} else if (!gw_tnds_validate_ddf(tree, existing, node, uri, flags, error)) {
		return FALSE;
	}
	if (existing != NULL &&
	    gw_dm_node_is_leaf(existing) != (node->format != GW_DM_FORMAT_NODE)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_ALLOWED,
		            "%s exists as %s node",
		            uri,
		            gw_dm_node_is_leaf(existing) ? "a leaf" : "an interior");
		return FALSE;
	}
	if (existing != NULL && node->value != NULL && (flags & GW_TNDS_IMPORT_REPLACE) == 0) {
		g_set_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS, "%s exists already", uri);
		return FALSE;
	}
	for (guint i = 0; i < node->children->len; i++) {
		GwTndsNode *child = g_ptr_array_index(node->children, i);
		g_autofree gchar *child_uri = gw_dm_uri_join(uri, child->name);
		if (!gw_tnds_validate(tree,
		                      existing != NULL ? gw_dm_node_get_child(existing, child->name)
		                                       : NULL,
		                      child,
		                      child_uri,
		                      flags,
		                      error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
gw_tnds_validate_top(GwDmTree *tree,
                     const gchar *target,
                     GwTndsNode *node,
                     GwTndsImportFlags flags,
                     GError **error)
{
	g_auto(GStrv) segs = gw_dm_uri_split(target);
	g_autoptr(GString) uri = g_string_new(".");
	GwDmNode *cursor = gw_dm_tree_get_root(tree);
	guint n = g_strv_length(segs);

	/* interior nodes created on the way must not collide with leaves, and must be nodes of
	 * the DDF where one applies */
	for (guint i = 0; i + 1 < n; i++) {
		g_string_append_c(uri, '/');
		g_string_append(uri, segs[i]);
		cursor = cursor != NULL ? gw_dm_node_get_child(cursor, segs[i]) : NULL;
		if (cursor != NULL && gw_dm_node_is_leaf(cursor)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NOT_ALLOWED,
			            "a leaf is on the way to %s",
			            target);
			return FALSE;
		}
		if (cursor == NULL && (flags & GW_TNDS_IMPORT_RESTORE) == 0 &&
		    !gw_dm_tree_ddf_check(tree, uri->str, GW_DM_FORMAT_NODE, error))
			return FALSE;
	}
	return gw_tnds_validate(tree, gw_dm_tree_lookup(tree, target), node, target, flags, error);
}

static gboolean
gw_tnds_apply(GwDmTree *tree,
              const gchar *uri,
              GwTndsNode *node,
              GwTndsImportFlags flags,
              GError **error)
{
	GwDmNode *existing = gw_dm_tree_lookup(tree, uri);
	gboolean replace = existing == NULL || (flags & GW_TNDS_IMPORT_REPLACE) != 0;

	if (node->format == GW_DM_FORMAT_NODE) {
		if (!gw_dm_tree_ensure_interior(tree, uri, error))
			return FALSE;
		if (replace && node->mime != NULL &&
		    !gw_dm_tree_set_mime_type(tree, uri, node->mime, error))
			return FALSE;
	} else if (existing == NULL || (replace && node->value != NULL)) {
		if (!gw_dm_tree_set_leaf(tree, uri, node->format, node->mime, node->value, error))
			return FALSE;
	} else if (replace) {
		/* keep the value, update format and type */
		if (!gw_dm_tree_set_leaf(
		        tree, uri, node->format, node->mime, gw_dm_node_get_value(existing), error))
			return FALSE;
	}
	if (replace) {
		if (!gw_dm_tree_set_properties(tree,
		                               uri,
		                               node->has_access ? node->access : GW_DM_ACCESS_NONE,
		                               node->acl,
		                               node->title,
		                               error))
			return FALSE;
		if (node->has_scope && !gw_dm_tree_set_permanent(tree, uri, node->permanent, error))
			return FALSE;
	}
	for (guint i = 0; i < node->children->len; i++) {
		GwTndsNode *child = g_ptr_array_index(node->children, i);
		g_autofree gchar *child_uri = gw_dm_uri_join(uri, child->name);
		if (!gw_tnds_apply(tree, child_uri, child, flags, error))
			return FALSE;
	}
	return TRUE;
}

gboolean
gw_tnds_import(GwDmTree *tree,
               const gchar *parent_uri,
               const gchar *xml,
               gsize len,
               GwTndsImportFlags flags,
               GError **error)
{
	g_autofree gchar *parent = NULL;
	g_autoptr(GPtrArray) nodes = NULL;
	g_autoptr(GPtrArray) targets = NULL;
	g_autoptr(GwDmSnapshot) snapshot = NULL;
	GwDmNode *parent_node;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), FALSE);
	g_return_val_if_fail(parent_uri != NULL, FALSE);

	parent = gw_dm_uri_normalize(parent_uri, NULL, NULL, error);
	if (parent == NULL)
		return FALSE;
	nodes = gw_tnds_parse(xml, len, (flags & GW_TNDS_IMPORT_RESTORE) == 0, error);
	if (nodes == NULL)
		return FALSE;
	parent_node = gw_dm_tree_lookup(tree, parent);
	if (parent_node != NULL && gw_dm_node_is_leaf(parent_node)) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_ALLOWED, "%s is a leaf", parent);
		return FALSE;
	}

	targets = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < nodes->len; i++) {
		GwTndsNode *node = g_ptr_array_index(nodes, i);
		gchar *target = gw_tnds_target_uri(parent, node, error);
		if (target == NULL)
			return FALSE;
		g_ptr_array_add(targets, target);
		if (!gw_tnds_validate_top(tree, target, node, flags, error))
			return FALSE;
	}

	/* validation covers conflicts with the tree; the snapshot covers conflicts between two
	 * top-level nodes of the same document (and anything unexpected) */
	snapshot = gw_dm_tree_snapshot(tree);
	for (guint i = 0; i < nodes->len; i++) {
		const gchar *target = g_ptr_array_index(targets, i);
		if (!gw_tnds_apply(tree, target, g_ptr_array_index(nodes, i), flags, error)) {
			gw_dm_tree_rollback(tree, snapshot);
			return FALSE;
		}
	}
	return TRUE;
}
