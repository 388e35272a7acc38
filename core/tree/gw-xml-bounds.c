/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bounds on XML from outside and the linear pre-scan (gw-xml-bounds.h says why).
 */

#define G_LOG_DOMAIN "GwXml"

#include "config.h"

#include <string.h>

#include "gw-error.h"
#include "gw-xml-bounds.h"

const GwXmlBounds gw_xml_bounds_syncml = {
    .what = "SyncML message",
    .max_size = GW_SYNCML_MAX_MESSAGE_SIZE,
    .max_depth = GW_SYNCML_MAX_XML_DEPTH,
    .max_elements = GW_SYNCML_MAX_ELEMENTS,
    .max_attributes = GW_SYNCML_MAX_ATTRIBUTES,
    .max_text = GW_SYNCML_MAX_TEXT,
    .max_namespaces = GW_SYNCML_MAX_NAMESPACES,
};

/* what libwbxml2 made of a WBXML message that passed its own token scan (gw-wbxml.c): the same
 * bounds, the message's XML form is checked again as a SyncML message when it is parsed */
const GwXmlBounds gw_xml_bounds_wbxml_decoded = {
    .what = "decoded WBXML document",
    .max_size = GW_SYNCML_MAX_MESSAGE_SIZE, /* what the SyncML parser takes */
    .max_depth = GW_WBXML_MAX_DEPTH,
    .max_elements = GW_WBXML_MAX_ELEMENTS,
    .max_attributes = GW_SYNCML_MAX_ATTRIBUTES,
    .max_text = GW_SYNCML_MAX_TEXT,
    .max_namespaces = GW_SYNCML_MAX_NAMESPACES,
};

const GwXmlBounds gw_xml_bounds_tnds = {
    .what = "TNDS document",
    .max_size = GW_TNDS_MAX_SIZE,
    .max_depth = GW_TNDS_MAX_XML_DEPTH,
    .max_elements = GW_TNDS_MAX_ELEMENTS,
    .max_attributes = GW_TNDS_MAX_ATTRIBUTES,
    .max_text = GW_TNDS_MAX_TEXT,
    .max_namespaces = GW_TNDS_MAX_NAMESPACES,
};

const gchar *
gw_xml_bound_to_string(GwXmlBound bound)
{
	switch (bound) {
	case GW_XML_BOUND_NONE:
		return "none";
	case GW_XML_BOUND_SIZE:
		return "size";
	case GW_XML_BOUND_DEPTH:
		return "element depth";
	case GW_XML_BOUND_ELEMENTS:
		return "elements";
	case GW_XML_BOUND_ATTRIBUTES:
		return "attributes per element";
	case GW_XML_BOUND_TEXT:
		return "text size";
	case GW_XML_BOUND_CHILDREN:
		return "children per element";
	case GW_XML_BOUND_MALFORMED:
		return "malformed";
	case GW_XML_BOUND_NAMESPACES:
		return "namespace declarations in scope";
	default:
		return "?";
	}
}

typedef struct {
	const GwXmlBounds *bounds;
	const gchar *xml;
	gsize len;
	gsize pos;
	guint depth;
	gsize text; /* character data of the current element so far */
	/* the depth of the element of each namespace declaration in scope, innermost last */
	guint *ns_depth;
	guint n_ns;
	GwXmlScanStats stats;
	GwXmlBound bound;
	const gchar *why; /* malformed: what was wrong */
	gsize at;         /* byte where it stopped */
} GwXmlScan;

static gboolean
gw_xml_scan_stop(GwXmlScan *s, GwXmlBound bound, const gchar *why)
{
	s->bound = bound;
	s->why = why;
	s->at = s->pos;
	return FALSE;
}

static inline gboolean
gw_xml_is_space(gchar c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline gboolean
gw_xml_has(GwXmlScan *s, const gchar *prefix, gsize n)
{
	return s->len - s->pos >= n && memcmp(s->xml + s->pos, prefix, n) == 0;
}

/* offset of @needle at or after @from, or the length when absent; linear: memchr jumps to
 * each candidate of the first byte and compares a few bytes there */
static gsize
gw_xml_find(GwXmlScan *s, gsize from, const gchar *needle, gsize n)
{
	while (from < s->len) {
		const gchar *p = memchr(s->xml + from, needle[0], s->len - from);
		if (p == NULL)
			break;
		from = (gsize)(p - s->xml);
		if (s->len - from >= n && memcmp(p, needle, n) == 0)
			return from;
		from++;
	}
	return s->len;
}

/* the length of @n bytes of character data once parsed: an entity or character reference
 * ("&lt;", "&#x3C;") is one character, so what a serialiser escapes counts what it stands for */
static gsize
gw_xml_text_length(const gchar *p, gsize n)
{
	const gchar *end = p + n;
	gsize len = n;

	while ((p = memchr(p, '&', (gsize)(end - p))) != NULL) {
		/* the longest reference a parser takes is short; a stray "&" is libxml2's to refuse
		 */
		const gchar *semi = memchr(p, ';', MIN((gsize)(end - p), (gsize)32));
		if (semi == NULL) {
			p++;
			continue;
		}
		len -= (gsize)(semi - p);
		p = semi + 1;
	}
	return len;
}

static gboolean
gw_xml_scan_add_text(GwXmlScan *s, gsize n)
{
	s->text += n;
	if (s->text > s->stats.text)
		s->stats.text = s->text;
	if (s->text > s->bounds->max_text)
		return gw_xml_scan_stop(s, GW_XML_BOUND_TEXT, NULL);
	return TRUE;
}

/* from "<" to past the matching terminator; @skip: length of the opener */
static gboolean
gw_xml_scan_skip_to(GwXmlScan *s, gsize skip, const gchar *end, gsize n, const gchar *what)
{
	gsize at = gw_xml_find(s, s->pos + skip, end, n);
	if (at >= s->len)
		return gw_xml_scan_stop(s, GW_XML_BOUND_MALFORMED, what);
	s->pos = at + n;
	return TRUE;
}

/* past a quoted literal starting at s->pos; its length in @len */
static gboolean
gw_xml_scan_quoted(GwXmlScan *s, gsize *len)
{
	gchar q = s->xml[s->pos];
	const gchar *end = memchr(s->xml + s->pos + 1, q, s->len - s->pos - 1);

	if (end == NULL)
		return gw_xml_scan_stop(s, GW_XML_BOUND_MALFORMED, "unterminated quoted value");
	*len = (gsize)(end - (s->xml + s->pos + 1));
	s->pos = (gsize)(end - s->xml) + 1;
	return TRUE;
}

/* <!DOCTYPE …>, with an internal subset in [ … ] (quotes, comments and PIs inside skipped) */
static gboolean
gw_xml_scan_doctype(GwXmlScan *s)
{
	gboolean subset = FALSE;
	gsize len;

	s->pos += 9;
	while (s->pos < s->len) {
		gchar c = s->xml[s->pos];
		if (c == '"' || c == '\'') {
			if (!gw_xml_scan_quoted(s, &len))
				return FALSE;
		} else if (subset && gw_xml_has(s, "<!--", 4)) {
			if (!gw_xml_scan_skip_to(s, 4, "-->", 3, "unterminated comment"))
				return FALSE;
		} else if (subset && gw_xml_has(s, "<?", 2)) {
			if (!gw_xml_scan_skip_to(
			        s, 2, "?>", 2, "unterminated processing instruction"))
				return FALSE;
		} else if (!subset && c == '[') {
			subset = TRUE;
			s->pos++;
		} else if (subset && c == ']') {
			subset = FALSE;
			s->pos++;
		} else if (!subset && c == '>') {
			s->pos++;
			return TRUE;
		} else {
			s->pos++;
		}
	}
	return gw_xml_scan_stop(s, GW_XML_BOUND_MALFORMED, "unterminated DOCTYPE");
}

/* "xmlns" or "xmlns:…" */
static gboolean
gw_xml_is_namespace_declaration(const gchar *name, gsize len)
{
	return len >= 5 && memcmp(name, "xmlns", 5) == 0 && (len == 5 || name[5] == ':');
}

/* a declaration on the start tag being scanned (its element is at s->depth + 1) */
static gboolean
gw_xml_scan_push_namespace(GwXmlScan *s)
{
	if (s->n_ns >= s->bounds->max_namespaces) {
		s->stats.namespaces = s->n_ns + 1;
		return gw_xml_scan_stop(s, GW_XML_BOUND_NAMESPACES, NULL);
	}
	s->ns_depth[s->n_ns++] = s->depth + 1;
	if (s->n_ns > s->stats.namespaces)
		s->stats.namespaces = s->n_ns;
	return TRUE;
}

/* the declarations of the elements deeper than s->depth go out of scope */
static void
gw_xml_scan_pop_namespaces(GwXmlScan *s)
{
	while (s->n_ns > 0 && s->ns_depth[s->n_ns - 1] > s->depth)
		s->n_ns--;
}

/* a start tag at s->pos ("<" then a name): attributes counted, depth and elements checked */
static gboolean
gw_xml_scan_start_tag(GwXmlScan *s)
{
	const GwXmlBounds *b = s->bounds;
	guint attributes = 0;

	s->stats.elements++;
	if (s->stats.elements > b->max_elements)
		return gw_xml_scan_stop(s, GW_XML_BOUND_ELEMENTS, NULL);
	if (s->depth + 1 > s->stats.depth)
		s->stats.depth = s->depth + 1;
	if (s->depth + 1 > b->max_depth)
		return gw_xml_scan_stop(s, GW_XML_BOUND_DEPTH, NULL);
	s->text = 0;
	s->pos++;
	/* the name: up to white space, "/", ">" (none of "<=\"'" may be in it) */
	{
		gsize start = s->pos;
		while (s->pos < s->len && !gw_xml_is_space(s->xml[s->pos]) &&
		       s->xml[s->pos] != '/' && s->xml[s->pos] != '>') {
			gchar c = s->xml[s->pos];
			if (c == '<' || c == '=' || c == '"' || c == '\'')
				return gw_xml_scan_stop(
				    s, GW_XML_BOUND_MALFORMED, "bad element name");
			s->pos++;
		}
		if (s->pos == start)
			return gw_xml_scan_stop(s, GW_XML_BOUND_MALFORMED, "no element name");
	}
	for (;;) {
		gsize value_len = 0;
		gsize name_start;

		while (s->pos < s->len && gw_xml_is_space(s->xml[s->pos]))
			s->pos++;
		if (s->pos >= s->len)
			break;
		if (s->xml[s->pos] == '>') {
			s->pos++;
			s->depth++;
			return TRUE;
		}
		if (gw_xml_has(s, "/>", 2)) {
			s->pos += 2;
			/* an empty element's declarations end with it */
			gw_xml_scan_pop_namespaces(s);
			return TRUE;
		}
		/* Name S? "=" S? quoted value */
		name_start = s->pos;
		while (s->pos < s->len && !gw_xml_is_space(s->xml[s->pos]) &&
		       s->xml[s->pos] != '=') {
			gchar c = s->xml[s->pos];
			if (c == '<' || c == '>' || c == '/' || c == '"' || c == '\'')
				return gw_xml_scan_stop(
				    s, GW_XML_BOUND_MALFORMED, "bad attribute name");
			s->pos++;
		}
		if (s->pos == name_start)
			return gw_xml_scan_stop(s, GW_XML_BOUND_MALFORMED, "no attribute name");
		if (gw_xml_is_namespace_declaration(s->xml + name_start, s->pos - name_start) &&
		    !gw_xml_scan_push_namespace(s))
			return FALSE;
		while (s->pos < s->len && gw_xml_is_space(s->xml[s->pos]))
			s->pos++;
		if (s->pos >= s->len || s->xml[s->pos] != '=')
			return gw_xml_scan_stop(s, GW_XML_BOUND_MALFORMED, "attribute without '='");
		s->pos++;
		while (s->pos < s->len && gw_xml_is_space(s->xml[s->pos]))
			s->pos++;
		if (s->pos >= s->len || (s->xml[s->pos] != '"' && s->xml[s->pos] != '\''))
			return gw_xml_scan_stop(
			    s, GW_XML_BOUND_MALFORMED, "attribute value without quotes");
		attributes++;
		if (attributes > s->stats.attributes)
			s->stats.attributes = attributes;
		if (attributes > b->max_attributes)
			return gw_xml_scan_stop(s, GW_XML_BOUND_ATTRIBUTES, NULL);
		if (!gw_xml_scan_quoted(s, &value_len))
			return FALSE;
		value_len = gw_xml_text_length(s->xml + s->pos - 1 - value_len, value_len);
		if (value_len > s->stats.text)
			s->stats.text = value_len;
		if (value_len > b->max_text)
			return gw_xml_scan_stop(s, GW_XML_BOUND_TEXT, NULL);
	}
	return gw_xml_scan_stop(s, GW_XML_BOUND_MALFORMED, "unterminated start tag");
}

static gboolean
gw_xml_scan(GwXmlScan *s)
{
	if (s->len > s->bounds->max_size)
		return gw_xml_scan_stop(s, GW_XML_BOUND_SIZE, NULL);
	if (gw_xml_has(s, "\xef\xbb\xbf", 3))
		s->pos = 3;
	while (s->pos < s->len) {
		const gchar *lt = memchr(s->xml + s->pos, '<', s->len - s->pos);
		gsize next = lt != NULL ? (gsize)(lt - s->xml) : s->len;

		/* character data up to the next markup */
		if (next > s->pos &&
		    !gw_xml_scan_add_text(s, gw_xml_text_length(s->xml + s->pos, next - s->pos)))
			return FALSE;
		s->pos = next;
		if (s->pos >= s->len)
			break;
		if (gw_xml_has(s, "<!--", 4)) {
			if (!gw_xml_scan_skip_to(s, 4, "-->", 3, "unterminated comment"))
				return FALSE;
		} else if (gw_xml_has(s, "<![CDATA[", 9)) {
			gsize start = s->pos + 9;
			if (!gw_xml_scan_skip_to(s, 9, "]]>", 3, "unterminated CDATA section"))
				return FALSE;
			if (!gw_xml_scan_add_text(s, s->pos - 3 - start))
				return FALSE;
		} else if (gw_xml_has(s, "<?", 2)) {
			if (!gw_xml_scan_skip_to(
			        s, 2, "?>", 2, "unterminated processing instruction"))
				return FALSE;
		} else if (gw_xml_has(s, "<!DOCTYPE", 9)) {
			if (s->depth > 0 || s->stats.elements > 0)
				return gw_xml_scan_stop(
				    s, GW_XML_BOUND_MALFORMED, "DOCTYPE after the root element");
			if (!gw_xml_scan_doctype(s))
				return FALSE;
		} else if (gw_xml_has(s, "<!", 2)) {
			return gw_xml_scan_stop(s, GW_XML_BOUND_MALFORMED, "unknown markup \"<!\"");
		} else if (gw_xml_has(s, "</", 2)) {
			const gchar *gt = memchr(s->xml + s->pos, '>', s->len - s->pos);
			if (gt == NULL)
				return gw_xml_scan_stop(
				    s, GW_XML_BOUND_MALFORMED, "unterminated end tag");
			if (s->depth == 0)
				return gw_xml_scan_stop(
				    s, GW_XML_BOUND_MALFORMED, "end tag without a start tag");
			s->depth--;
			s->text = 0;
			s->pos = (gsize)(gt - s->xml) + 1;
			gw_xml_scan_pop_namespaces(s);
		} else if (!gw_xml_scan_start_tag(s)) {
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
gw_xml_bounds_check(const GwXmlBounds *bounds,
                    const gchar *xml,
                    gsize len,
                    GwXmlScanStats *stats,
                    GError **error)
{
	GwXmlScan s = {0};
	gboolean ok;

	g_return_val_if_fail(bounds != NULL, FALSE);
	g_return_val_if_fail(xml != NULL || len == 0, FALSE);

	s.bounds = bounds;
	s.xml = xml;
	s.len = len;
	s.ns_depth = g_new(guint, bounds->max_namespaces + 1);
	ok = gw_xml_scan(&s);
	g_free(s.ns_depth);
	s.stats.bound = ok ? GW_XML_BOUND_NONE : s.bound;
	s.stats.scanned = ok ? len : s.at;
	if (stats != NULL)
		*stats = s.stats;
	if (ok)
		return TRUE;
	switch (s.bound) {
	case GW_XML_BOUND_SIZE:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "refused %s: %" G_GSIZE_FORMAT
		            " bytes exceeds the limit of %" G_GSIZE_FORMAT,
		            bounds->what,
		            len,
		            bounds->max_size);
		break;
	case GW_XML_BOUND_DEPTH:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "refused %s: elements nested too deeply (more than %u levels, byte "
		            "%" G_GSIZE_FORMAT ")",
		            bounds->what,
		            bounds->max_depth,
		            s.at);
		break;
	case GW_XML_BOUND_ELEMENTS:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "refused %s: too many elements (more than %u, byte %" G_GSIZE_FORMAT
		            ")",
		            bounds->what,
		            bounds->max_elements,
		            s.at);
		break;
	case GW_XML_BOUND_ATTRIBUTES:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "refused %s: too many attributes on one element (more than %u, byte "
		            "%" G_GSIZE_FORMAT ")",
		            bounds->what,
		            bounds->max_attributes,
		            s.at);
		break;
	case GW_XML_BOUND_TEXT:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "refused %s: text too long (more than %" G_GSIZE_FORMAT
		            " bytes of text or attribute value, byte %" G_GSIZE_FORMAT ")",
		            bounds->what,
		            bounds->max_text,
		            s.at);
		break;
	case GW_XML_BOUND_NAMESPACES:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "refused %s: too many namespace declarations in scope (more than %u, "
		            "byte %" G_GSIZE_FORMAT ")",
		            bounds->what,
		            bounds->max_namespaces,
		            s.at);
		break;
	case GW_XML_BOUND_MALFORMED:
	default:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "malformed %s: %s (byte %" G_GSIZE_FORMAT ")",
		            bounds->what,
		            s.why != NULL ? s.why : "?",
		            s.at);
		break;
	}
	return FALSE;
}
