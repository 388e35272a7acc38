/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwWbxml"

#include "config.h"

#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>
#include <wbxml/wbxml.h>

#include "gw-error.h"
#include "gw-wbxml.h"

#define GW_WBXML_SYNCML12_DOCTYPE                                    \
	"<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" " \
	"\"http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd\">"

typedef struct {
	gsize root_offset; /* offset of the '<' of the root element */
	gboolean has_doctype;
	gboolean root_is_syncml;
} GwWbxmlProlog;

static gboolean
gw_wbxml_is_well_formed(const gchar *xml, gsize len, const gchar *encoding);

static gboolean
gw_wbxml_is_space(gchar c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static gboolean
gw_wbxml_has_prefix(const gchar *xml, gsize len, gsize pos, const gchar *prefix)
{
	gsize plen = strlen(prefix);
	return pos <= len && len - pos >= plen && memcmp(xml + pos, prefix, plen) == 0;
}

/* offset just after @needle found at or after @pos, or 0 if absent */
static gsize
gw_wbxml_skip_past(const gchar *xml, gsize len, gsize pos, const gchar *needle)
{
	const gchar *hit;
	if (pos >= len)
		return 0;
	hit = g_strstr_len(xml + pos, (gssize)(len - pos), needle);
	if (hit == NULL)
		return 0;
	return (gsize)(hit - xml) + strlen(needle);
}

/*
 * Walks the XML prolog (BOM, XML declaration, PIs, comments, DOCTYPE) up to the root element.
 * This is not a validating parser: it only needs to find where a DOCTYPE may be inserted and
 * whether one exists; expat (inside libwbxml2) checks everything else.
 */
static gboolean
gw_wbxml_scan_prolog(const gchar *xml, gsize len, GwWbxmlProlog *prolog, GError **error)
{
	gsize pos = 0;

	memset(prolog, 0, sizeof(*prolog));
	if (gw_wbxml_has_prefix(xml, len, 0, "\xef\xbb\xbf"))
		pos = 3;
	for (;;) {
		gsize next;

		while (pos < len && gw_wbxml_is_space(xml[pos]))
			pos++;
		if (pos >= len || xml[pos] != '<') {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_PROTOCOL, "XML document has no root element");
			return FALSE;
		}
		if (gw_wbxml_has_prefix(xml, len, pos, "<?")) {
			next = gw_wbxml_skip_past(xml, len, pos + 2, "?>");
		} else if (gw_wbxml_has_prefix(xml, len, pos, "<!--")) {
			next = gw_wbxml_skip_past(xml, len, pos + 4, "-->");
		} else if (gw_wbxml_has_prefix(xml, len, pos, "<!DOCTYPE")) {
			gchar quote = '\0';
			next = 0;
			for (gsize i = pos + 9; i < len; i++) {
				gchar c = xml[i];
				if (quote != '\0') {
					if (c == quote)
						quote = '\0';
				} else if (c == '"' || c == '\'') {
					quote = c;
				} else if (c == '[') {
					g_set_error_literal(error,
					                    GW_ERROR,
					                    GW_ERROR_PROTOCOL,
					                    "XML DOCTYPE with an internal subset "
					                    "is not accepted");
					return FALSE;
				} else if (c == '>') {
					next = i + 1;
					break;
				}
			}
			prolog->has_doctype = TRUE;
		} else if (gw_wbxml_has_prefix(xml, len, pos, "<!")) {
			g_set_error_literal(error,
			                    GW_ERROR,
			                    GW_ERROR_PROTOCOL,
			                    "unexpected markup before the XML root element");
			return FALSE;
		} else {
			gsize end = pos + 1;
			while (end < len && !gw_wbxml_is_space(xml[end]) && xml[end] != '>' &&
			       xml[end] != '/')
				end++;
			prolog->root_offset = pos;
			prolog->root_is_syncml =
			    end - (pos + 1) == 6 && memcmp(xml + pos + 1, "SyncML", 6) == 0;
			return TRUE;
		}
		if (next == 0) {
			g_set_error_literal(error,
			                    GW_ERROR,
			                    GW_ERROR_PROTOCOL,
			                    "unterminated markup in the XML prolog");
			return FALSE;
		}
		pos = next;
	}
}

static void
gw_wbxml_free_cb(gpointer data)
{
	free(data);
}

GBytes *
gw_wbxml_from_xml(const gchar *xml, gsize len, GError **error)
{
	GwWbxmlProlog prolog;
	g_autoptr(GString) buf = NULL;
	WBXMLConvXML2WBXML *conv = NULL;
	WB_UTINY *wbxml = NULL;
	WB_ULONG wbxml_len = 0;
	WBXMLError ret;

	g_return_val_if_fail(xml != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (len == 0) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_PROTOCOL, "empty XML document");
		return NULL;
	}
	if (len > GW_WBXML_MAX_INPUT) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "XML document too large (%" G_GSIZE_FORMAT " bytes, limit %u)",
		            len,
		            GW_WBXML_MAX_INPUT);
		return NULL;
	}
	if (memchr(xml, '\0', len) != NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "XML document contains a NUL byte");
		return NULL;
	}
	if (!gw_wbxml_scan_prolog(xml, len, &prolog, error))
		return NULL;
	/* expat inside libwbxml2 accepts any depth and libwbxml2's encoder then recurses once per
	 * level: let libxml2 (depth limit 256) check the document first */
	if (!gw_wbxml_is_well_formed(xml, len, NULL)) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_PROTOCOL,
		                    "XML document is not well-formed (or nested deeper than 256)");
		return NULL;
	}

	buf = g_string_sized_new(len + sizeof(GW_WBXML_SYNCML12_DOCTYPE));
	if (prolog.root_is_syncml && !prolog.has_doctype) {
		g_string_append_len(buf, xml, (gssize)prolog.root_offset);
		g_string_append(buf, GW_WBXML_SYNCML12_DOCTYPE);
		g_string_append_len(
		    buf, xml + prolog.root_offset, (gssize)(len - prolog.root_offset));
	} else {
		g_string_append_len(buf, xml, (gssize)len);
	}

	ret = wbxml_conv_xml2wbxml_create(&conv);
	if (ret != WBXML_OK) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INTERNAL,
		            "cannot create the WBXML encoder: %s",
		            (const gchar *)wbxml_errors_string(ret));
		return NULL;
	}
	wbxml_conv_xml2wbxml_set_version(conv, WBXML_VERSION_12);
	ret = wbxml_conv_xml2wbxml_run(
	    conv, (WB_UTINY *)buf->str, (WB_ULONG)buf->len, &wbxml, &wbxml_len);
	wbxml_conv_xml2wbxml_destroy(conv);
	if (ret != WBXML_OK || wbxml == NULL || wbxml_len == 0) {
		free(wbxml);
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "cannot encode XML as WBXML: %s",
		            ret != WBXML_OK ? (const gchar *)wbxml_errors_string(ret)
		                            : "empty result");
		return NULL;
	}
	g_debug("XML %" G_GSIZE_FORMAT " B -> WBXML %lu B%s",
	        len,
	        (gulong)wbxml_len,
	        prolog.root_is_syncml && !prolog.has_doctype ? " (SyncML 1.2 DOCTYPE added)" : "");
	return g_bytes_new_with_free_func(wbxml, wbxml_len, gw_wbxml_free_cb, wbxml);
}

/*
 * Pre-scan of untrusted WBXML before libwbxml2 sees it.
 *
 * libwbxml2 0.11.8 aborts the process on an ENTITY code >= 0x80000000 (an assert() in
 * parse_entity) and recurses once per element level (a few hundred thousand levels overflow the
 * stack, in the parser and in the XML writer). Both are reachable from the network, so the
 * document is walked first with the same token grammar as libwbxml2's parser
 * (src/wbxml_parser.c: parse_element/parse_content/parse_attribute/parse_attr_value) and refused
 * when it nests deeper than GW_WBXML_MAX_DEPTH or carries such an entity. Strings and opaque
 * data are also scanned as embedded WBXML documents, because libwbxml2 parses the <Data> of
 * "application/vnd.syncml-devinf+wbxml" and "application/vnd.syncml.dmtnds+wbxml" items as a
 * nested document (with the nested document's depth added to the outer one). On top of that,
 * every 0x02 byte of the whole input followed by a multi-byte integer >= 0x80000000 is refused,
 * whatever its context, so the assert cannot be reached through bytes that are passed on
 * verbatim (the only charsets accepted are UTF-8 and US-ASCII, which libwbxml2 does not convert).
 *
 * What the document decodes to is counted as well: libwbxml2 copies a string-table entry
 * wherever it is referenced (STR_T in content or an attribute value, a LITERAL tag or attribute
 * name), so 44 KB of references to one 4,000-byte entry made it build 80 MB of XML (242 MiB of
 * memory at its peak; 4 MiB of them would exhaust it). Each string is counted where it lands:
 * toward the text of its element or attribute value (GW_SYNCML_MAX_TEXT, the bound the decoded
 * XML is held to) and toward the whole document (GW_WBXML_MAX_DECODED), before libwbxml2 runs.
 */

#define GW_WBXML_MAX_EMBED 2 /* nested documents scanned inside nested documents */

#define GW_WBXML_SWITCH_PAGE 0x00
#define GW_WBXML_END 0x01
#define GW_WBXML_ENTITY 0x02
#define GW_WBXML_STR_I 0x03
#define GW_WBXML_LITERAL 0x04
#define GW_WBXML_PI 0x43
#define GW_WBXML_LITERAL_C 0x44
#define GW_WBXML_STR_T 0x83
#define GW_WBXML_LITERAL_A 0x84
#define GW_WBXML_OPAQUE 0xC3
#define GW_WBXML_LITERAL_AC 0xC4

typedef enum {
	GW_WBXML_SCAN_OK,
	GW_WBXML_SCAN_MALFORMED, /* libwbxml2 will fail on it too */
	GW_WBXML_SCAN_DANGEROUS, /* would crash libwbxml2 */
} GwWbxmlScanResult;

/* how the extension tokens of a language consume operands in libwbxml2's parse_extension() */
typedef enum {
	GW_WBXML_EXT_NONE, /* SyncML, DM DDF, everything else: token only */
	GW_WBXML_EXT_WML,  /* WML/WTA: EXT_I termstr, EXT_T index */
	GW_WBXML_EXT_WV,   /* Wireless Village: EXT_T_0 index */
} GwWbxmlExtMode;

typedef struct {
	const guint8 *d;
	gsize len;
	gsize pos;
	const guint8 *strtbl;
	gsize strtbl_len;
	GwWbxmlExtMode ext_mode;
	guint depth;
	guint embed;
	gsize *budget;   /* bytes that nested scans may still look at */
	guint *elements; /* elements so far, nested documents included */
	/* content items (elements, strings, opaque data, entities) of the open element at each
	 * depth: libwbxml2's cost is quadratic in it (gw-xml-bounds.h) */
	guint children[GW_WBXML_MAX_DEPTH + 2];
	/* the text libwbxml2 writes into the open element at each depth (strings it expands
	 * included) */
	gsize text[GW_WBXML_MAX_DEPTH + 2];
	/* strings of the decoded document so far (GW_WBXML_MAX_DECODED) */
	gsize decoded;
	/* gw_wbxml_peek_session(): the open elements (code page << 8 | tag) and what it found */
	struct _GwWbxmlPeek *peek;
	guint page;
	guint16 tag;
	guint16 path[GW_WBXML_MAX_DEPTH + 2];
	const gchar *reason;
} GwWbxmlScanner;

typedef struct _GwWbxmlPeek {
	gchar *session_id;
	gchar *source_uri;
} GwWbxmlPeek;

typedef struct {
	guint8 version;
	gboolean public_id_is_index;
	guint64 public_id; /* token, or string table index */
	guint64 charset;
	gsize strtbl_offset;
	gsize strtbl_len;
	gsize body_offset;
} GwWbxmlHeader;

static GwWbxmlScanResult
gw_wbxml_scan_document(GwWbxmlScanner *s);

static GwWbxmlScanResult
gw_wbxml_scan_fail(GwWbxmlScanner *s, GwWbxmlScanResult r, const gchar *reason)
{
	if (s->reason == NULL)
		s->reason = reason;
	return r;
}

/* @n bytes of a string libwbxml2 writes @times into the decoded document; @text (nullable):
 * the element text or attribute value they belong to */
static GwWbxmlScanResult
gw_wbxml_scan_expand(GwWbxmlScanner *s, gsize *text, gsize n, guint times)
{
	if (text != NULL) {
		*text += n;
		if (*text > GW_SYNCML_MAX_TEXT)
			return gw_wbxml_scan_fail(
			    s,
			    GW_WBXML_SCAN_DANGEROUS,
			    "text of one element or attribute value too long");
	}
	if (n > (GW_WBXML_MAX_DECODED - s->decoded) / times)
		return gw_wbxml_scan_fail(
		    s, GW_WBXML_SCAN_DANGEROUS, "the decoded document would be too large");
	s->decoded += n * times;
	return GW_WBXML_SCAN_OK;
}

/* the text of the open element */
static gsize *
gw_wbxml_scan_content_text(GwWbxmlScanner *s)
{
	return &s->text[s->depth];
}

/* SyncML code page 0 (SyncML 1.1 and 1.2, as libwbxml2's tables) */
#define GW_WBXML_TAG_LOCURI 0x17
#define GW_WBXML_TAG_SESSIONID 0x25
#define GW_WBXML_TAG_SOURCE 0x27
#define GW_WBXML_TAG_SYNCHDR 0x2C
#define GW_WBXML_TAG_SYNCML 0x2D

/* @str (@len bytes) is content of the open element: kept when it is the SyncHdr's SessionID or
 * Source LocURI (the first of each) */
static void
gw_wbxml_scan_capture(GwWbxmlScanner *s, const guint8 *str, gsize len)
{
	static const guint16 session_id[] = {
	    GW_WBXML_TAG_SYNCML, GW_WBXML_TAG_SYNCHDR, GW_WBXML_TAG_SESSIONID};
	static const guint16 source[] = {
	    GW_WBXML_TAG_SYNCML, GW_WBXML_TAG_SYNCHDR, GW_WBXML_TAG_SOURCE, GW_WBXML_TAG_LOCURI};
	gchar **out = NULL;

	if (s->peek == NULL)
		return;
	if (s->depth == G_N_ELEMENTS(session_id) &&
	    memcmp(s->path + 1, session_id, sizeof(session_id)) == 0)
		out = &s->peek->session_id;
	else if (s->depth == G_N_ELEMENTS(source) &&
	         memcmp(s->path + 1, source, sizeof(source)) == 0)
		out = &s->peek->source_uri;
	if (out != NULL && *out == NULL)
		*out = g_strndup((const gchar *)str, len);
}

/* mb_u_int32 exactly as libwbxml2 reads it: at most 5 bytes, into a 64-bit value */
static gboolean
gw_wbxml_read_mb(const guint8 *d, gsize len, gsize *pos, guint64 *out)
{
	guint64 v = 0;
	for (guint i = 0; i < 5; i++) {
		guint8 b;
		if (*pos >= len)
			return FALSE;
		b = d[(*pos)++];
		v = (v << 7) | (b & 0x7f);
		if ((b & 0x80) == 0) {
			*out = v;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
gw_wbxml_parse_header(const guint8 *d, gsize len, GwWbxmlHeader *h)
{
	gsize pos = 0;
	guint64 strtbl_len = 0;

	memset(h, 0, sizeof(*h));
	if (len < 4)
		return FALSE;
	h->version = d[pos++];
	if (h->version > WBXML_VERSION_13)
		return FALSE;
	if (d[pos] == 0x00) {
		pos++;
		h->public_id_is_index = TRUE;
	}
	if (!gw_wbxml_read_mb(d, len, &pos, &h->public_id))
		return FALSE;
	if (h->version != WBXML_VERSION_10 && !gw_wbxml_read_mb(d, len, &pos, &h->charset))
		return FALSE;
	if (!gw_wbxml_read_mb(d, len, &pos, &strtbl_len))
		return FALSE;
	if (strtbl_len > len - pos)
		return FALSE;
	h->strtbl_offset = pos;
	h->strtbl_len = (gsize)strtbl_len;
	h->body_offset = pos + (gsize)strtbl_len;
	return h->body_offset < len;
}

static GwWbxmlScanResult
gw_wbxml_scan_mb(GwWbxmlScanner *s, guint64 *out)
{
	if (!gw_wbxml_read_mb(s->d, s->len, &s->pos, out))
		return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_MALFORMED, "bad multi-byte integer");
	return GW_WBXML_SCAN_OK;
}

static GwWbxmlScanResult
gw_wbxml_scan_u8(GwWbxmlScanner *s, guint8 *out)
{
	if (s->pos >= s->len)
		return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_MALFORMED, "unexpected end of WBXML");
	*out = s->d[s->pos++];
	return GW_WBXML_SCAN_OK;
}

static gboolean
gw_wbxml_scan_peek(GwWbxmlScanner *s, gsize ahead, guint8 *out)
{
	if (s->pos + ahead >= s->len)
		return FALSE;
	*out = s->d[s->pos + ahead];
	return TRUE;
}

static gboolean
gw_wbxml_scan_is(GwWbxmlScanner *s, guint8 token)
{
	guint8 b;
	return gw_wbxml_scan_peek(s, 0, &b) && b == token;
}

/* tries @piece (counted already as a string of the document) as an embedded WBXML document:
 * what libwbxml2 may parse as a nested tree, whose strings then replace it in the decoded
 * document */
static GwWbxmlScanResult
gw_wbxml_scan_embedded(GwWbxmlScanner *s, const guint8 *piece, gsize piece_len)
{
	GwWbxmlHeader h;
	const GwWbxmlExtMode modes[] = {GW_WBXML_EXT_NONE, GW_WBXML_EXT_WML, GW_WBXML_EXT_WV};
	const gsize without = s->decoded - piece_len;

	if (s->embed >= GW_WBXML_MAX_EMBED || !gw_wbxml_parse_header(piece, piece_len, &h))
		return GW_WBXML_SCAN_OK;
	/* the nested language is not known here: try every extension-token convention */
	for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
		GwWbxmlScanner sub = {0};
		GwWbxmlScanResult r;

		if (piece_len > *s->budget)
			return gw_wbxml_scan_fail(
			    s, GW_WBXML_SCAN_DANGEROUS, "too much embedded WBXML content");
		*s->budget -= piece_len;
		sub.d = piece;
		sub.len = piece_len;
		sub.pos = h.body_offset;
		sub.strtbl = piece + h.strtbl_offset;
		sub.strtbl_len = h.strtbl_len;
		sub.ext_mode = modes[i];
		sub.depth = s->depth;
		sub.embed = s->embed + 1;
		sub.budget = s->budget;
		sub.elements = s->elements;
		sub.decoded = without;
		r = gw_wbxml_scan_document(&sub);
		if (r == GW_WBXML_SCAN_DANGEROUS)
			return gw_wbxml_scan_fail(s, r, sub.reason);
		s->decoded = MAX(s->decoded, sub.decoded);
	}
	return GW_WBXML_SCAN_OK;
}

/* termstr after STR_I/EXT_I, written into @text (nullable: a name); @content: it is element
 * content (an embedded document candidate) */
static GwWbxmlScanResult
gw_wbxml_scan_termstr(GwWbxmlScanner *s, gsize *text, gboolean content)
{
	const guint8 *start = s->d + s->pos;
	const guint8 *nul = s->pos < s->len ? memchr(start, 0, s->len - s->pos) : NULL;
	GwWbxmlScanResult r;

	if (nul == NULL)
		return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_MALFORMED, "unterminated string");
	s->pos += (gsize)(nul - start) + 1;
	r = gw_wbxml_scan_expand(s, text, (gsize)(nul - start), 1);
	if (r == GW_WBXML_SCAN_OK && content) {
		gw_wbxml_scan_capture(s, start, (gsize)(nul - start));
		return gw_wbxml_scan_embedded(s, start, (gsize)(nul - start));
	}
	return r;
}

/* index after STR_T/EXT_T/LITERAL: libwbxml2 copies the entry @times into the decoded document,
 * into @text (nullable: a name); @content: it is element content (an embedded document
 * candidate) */
static GwWbxmlScanResult
gw_wbxml_scan_tableref(GwWbxmlScanner *s, gsize *text, guint times, gboolean content)
{
	guint64 index = 0;
	GwWbxmlScanResult r = gw_wbxml_scan_mb(s, &index);
	const guint8 *start;
	const guint8 *nul;
	gsize len;

	if (r != GW_WBXML_SCAN_OK)
		return r;
	if (index >= s->strtbl_len)
		return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_MALFORMED, "bad string table index");
	start = s->strtbl + index;
	nul = memchr(start, 0, s->strtbl_len - (gsize)index);
	len = nul != NULL ? (gsize)(nul - start) : s->strtbl_len - (gsize)index;
	r = gw_wbxml_scan_expand(s, text, len, times);
	if (r == GW_WBXML_SCAN_OK && content) {
		gw_wbxml_scan_capture(s, start, len);
		return gw_wbxml_scan_embedded(s, start, len);
	}
	return r;
}

static GwWbxmlScanResult
gw_wbxml_scan_entity(GwWbxmlScanner *s, gsize *text)
{
	guint64 code = 0;
	GwWbxmlScanResult r;

	s->pos++;
	r = gw_wbxml_scan_mb(s, &code);
	if (r != GW_WBXML_SCAN_OK)
		return r;
	if (code >= 0x80000000u)
		return gw_wbxml_scan_fail(
		    s, GW_WBXML_SCAN_DANGEROUS, "character entity out of range");
	/* one character (a reference "&#…;" at most) */
	return gw_wbxml_scan_expand(s, text, 1, 1);
}

static GwWbxmlScanResult
gw_wbxml_scan_opaque(GwWbxmlScanner *s, gsize *text, gboolean content)
{
	guint64 len = 0;
	const guint8 *start;
	GwWbxmlScanResult r;

	s->pos++;
	r = gw_wbxml_scan_mb(s, &len);
	if (r != GW_WBXML_SCAN_OK)
		return r;
	if (len > s->len - s->pos)
		return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_MALFORMED, "opaque data past the end");
	start = s->d + s->pos;
	s->pos += (gsize)len;
	r = gw_wbxml_scan_expand(s, text, (gsize)len, 1);
	if (r == GW_WBXML_SCAN_OK && content) {
		gw_wbxml_scan_capture(s, start, (gsize)len);
		return gw_wbxml_scan_embedded(s, start, (gsize)len);
	}
	return r;
}

static gboolean
gw_wbxml_is_ext_token(guint8 b)
{
	return (b >= 0x40 && b <= 0x42) || (b >= 0x80 && b <= 0x82) || (b >= 0xC0 && b <= 0xC2);
}

/* libwbxml2 is_extension(): a SWITCH_PAGE is looked through */
static gboolean
gw_wbxml_scan_is_extension(GwWbxmlScanner *s)
{
	guint8 b;
	if (!gw_wbxml_scan_peek(s, 0, &b))
		return FALSE;
	if (b == GW_WBXML_SWITCH_PAGE && !gw_wbxml_scan_peek(s, 2, &b))
		return FALSE;
	return gw_wbxml_is_ext_token(b);
}

static GwWbxmlScanResult
gw_wbxml_scan_extension(GwWbxmlScanner *s, gsize *text)
{
	guint8 token = 0;
	GwWbxmlScanResult r;

	if (gw_wbxml_scan_is(s, GW_WBXML_SWITCH_PAGE))
		s->pos += 2;
	r = gw_wbxml_scan_u8(s, &token);
	if (r != GW_WBXML_SCAN_OK)
		return r;
	switch (s->ext_mode) {
	case GW_WBXML_EXT_WML:
		if (token >= 0x40 && token <= 0x42)
			return gw_wbxml_scan_termstr(s, text, FALSE);
		if (token >= 0x80 && token <= 0x82)
			return gw_wbxml_scan_tableref(s, text, 1, FALSE);
		if (token >= 0xC0 && token <= 0xC2)
			return GW_WBXML_SCAN_OK;
		return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_MALFORMED, "unknown extension");
	case GW_WBXML_EXT_WV:
		if (token == 0x80) {
			guint64 v = 0;
			return gw_wbxml_scan_mb(s, &v);
		}
		return GW_WBXML_SCAN_OK;
	case GW_WBXML_EXT_NONE:
	default:
		return GW_WBXML_SCAN_OK;
	}
}

/* libwbxml2 parse_attr_start() */
static GwWbxmlScanResult
gw_wbxml_scan_attr_start(GwWbxmlScanner *s)
{
	guint8 b = 0;
	if (gw_wbxml_scan_is(s, GW_WBXML_LITERAL)) {
		s->pos++;
		return gw_wbxml_scan_tableref(s, NULL, 1, FALSE);
	}
	if (gw_wbxml_scan_is(s, GW_WBXML_SWITCH_PAGE))
		s->pos += 2;
	return gw_wbxml_scan_u8(s, &b);
}

/* libwbxml2 is_attr_value() */
static gboolean
gw_wbxml_scan_is_attr_value(GwWbxmlScanner *s)
{
	guint8 b;
	guint8 next;

	if (!gw_wbxml_scan_peek(s, 0, &b))
		return FALSE;
	if (b == GW_WBXML_SWITCH_PAGE) {
		if (!gw_wbxml_scan_peek(s, 2, &next))
			return FALSE;
		if ((next & 0x80) != 0)
			return TRUE;
	}
	return (b & 0x80) != 0 || b == GW_WBXML_STR_I || b == GW_WBXML_ENTITY ||
	       gw_wbxml_scan_is_extension(s);
}

/* libwbxml2 parse_attr_value(): one piece of the value @value */
static GwWbxmlScanResult
gw_wbxml_scan_attr_value(GwWbxmlScanner *s, gsize *value)
{
	guint8 b = 0;

	if (gw_wbxml_scan_is_extension(s))
		return gw_wbxml_scan_extension(s, value);
	if (gw_wbxml_scan_is(s, GW_WBXML_ENTITY))
		return gw_wbxml_scan_entity(s, value);
	if (gw_wbxml_scan_is(s, GW_WBXML_STR_I)) {
		s->pos++;
		return gw_wbxml_scan_termstr(s, value, FALSE);
	}
	if (gw_wbxml_scan_is(s, GW_WBXML_STR_T)) {
		s->pos++;
		return gw_wbxml_scan_tableref(s, value, 1, FALSE);
	}
	if (gw_wbxml_scan_is(s, GW_WBXML_OPAQUE))
		return gw_wbxml_scan_opaque(s, value, FALSE);
	if (gw_wbxml_scan_is(s, GW_WBXML_SWITCH_PAGE))
		s->pos += 2;
	return gw_wbxml_scan_u8(s, &b);
}

/* libwbxml2 parse_pi(): PI attrStart *attrValue END */
static GwWbxmlScanResult
gw_wbxml_scan_pi(GwWbxmlScanner *s)
{
	GwWbxmlScanResult r;
	gsize value = 0;

	s->pos++;
	r = gw_wbxml_scan_attr_start(s);
	while (r == GW_WBXML_SCAN_OK && !gw_wbxml_scan_is(s, GW_WBXML_END)) {
		if (s->pos >= s->len)
			return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_MALFORMED, "unterminated PI");
		r = gw_wbxml_scan_attr_value(s, &value);
	}
	if (r == GW_WBXML_SCAN_OK)
		s->pos++;
	return r;
}

/* libwbxml2 parse_element() up to its content: [switchPage] stag [1*attribute END] */
static GwWbxmlScanResult
gw_wbxml_scan_stag(GwWbxmlScanner *s, gboolean *has_content)
{
	guint8 tag = 0;
	guint8 mask;
	GwWbxmlScanResult r;

	if (gw_wbxml_scan_is(s, GW_WBXML_SWITCH_PAGE)) {
		guint8 page = 0;
		if (gw_wbxml_scan_peek(s, 1, &page))
			s->page = page;
		s->pos += 2;
	}
	r = gw_wbxml_scan_u8(s, &tag);
	if (r != GW_WBXML_SCAN_OK)
		return r;
	s->tag = (guint16)(s->page << 8 | (tag & 0x3f));
	if (++*s->elements > GW_WBXML_MAX_ELEMENTS)
		return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_DANGEROUS, "too many elements");
	switch (tag) {
	case GW_WBXML_LITERAL:
	case GW_WBXML_LITERAL_A:
	case GW_WBXML_LITERAL_C:
	case GW_WBXML_LITERAL_AC:
		/* the name, in the start tag and the end tag */
		r = gw_wbxml_scan_tableref(s, NULL, 2, FALSE);
		if (r != GW_WBXML_SCAN_OK)
			return r;
		mask = tag & 0xC0;
		break;
	default:
		mask = tag & 0xC0;
		break;
	}
	if ((mask & 0x80) != 0) {
		guint attributes = 0;
		do {
			gsize value = 0;
			if (++attributes > GW_SYNCML_MAX_ATTRIBUTES)
				return gw_wbxml_scan_fail(s,
				                          GW_WBXML_SCAN_DANGEROUS,
				                          "too many attributes on one element");
			r = gw_wbxml_scan_attr_start(s);
			while (r == GW_WBXML_SCAN_OK && gw_wbxml_scan_is_attr_value(s))
				r = gw_wbxml_scan_attr_value(s, &value);
			if (r != GW_WBXML_SCAN_OK)
				return r;
			if (s->pos >= s->len)
				return gw_wbxml_scan_fail(
				    s, GW_WBXML_SCAN_MALFORMED, "unterminated attribute list");
		} while (!gw_wbxml_scan_is(s, GW_WBXML_END));
		s->pos++;
	}
	*has_content = (mask & 0x40) != 0;
	return GW_WBXML_SCAN_OK;
}

static GwWbxmlScanResult
gw_wbxml_scan_enter(GwWbxmlScanner *s)
{
	s->depth++;
	if (s->depth > GW_WBXML_MAX_DEPTH)
		return gw_wbxml_scan_fail(s, GW_WBXML_SCAN_DANGEROUS, "elements nested too deeply");
	s->children[s->depth] = 0;
	s->text[s->depth] = 0;
	s->path[s->depth] = s->tag;
	return GW_WBXML_SCAN_OK;
}

/* one more content item in the open element */
static GwWbxmlScanResult
gw_wbxml_scan_child(GwWbxmlScanner *s)
{
	if (++s->children[s->depth] > GW_WBXML_MAX_CHILDREN)
		return gw_wbxml_scan_fail(
		    s, GW_WBXML_SCAN_DANGEROUS, "too many children of one element");
	return GW_WBXML_SCAN_OK;
}

/* body = *pi element *pi, iteratively (this scanner must not recurse per element) */
static GwWbxmlScanResult
gw_wbxml_scan_document(GwWbxmlScanner *s)
{
	const guint base = s->depth; /* depth of the enclosing document, if any */
	gboolean has_content = FALSE;
	GwWbxmlScanResult r = GW_WBXML_SCAN_OK;

	while (r == GW_WBXML_SCAN_OK && gw_wbxml_scan_is(s, GW_WBXML_PI))
		r = gw_wbxml_scan_pi(s);
	if (r == GW_WBXML_SCAN_OK)
		r = gw_wbxml_scan_stag(s, &has_content);
	if (r == GW_WBXML_SCAN_OK && has_content)
		r = gw_wbxml_scan_enter(s);
	while (r == GW_WBXML_SCAN_OK && s->depth > base) {
		guint8 b = 0;

		if (!gw_wbxml_scan_peek(s, 0, &b))
			return gw_wbxml_scan_fail(
			    s, GW_WBXML_SCAN_MALFORMED, "unexpected end of WBXML");
		if (b == GW_WBXML_END) {
			s->pos++;
			s->depth--;
			continue;
		}
		if (b != GW_WBXML_SWITCH_PAGE) {
			r = gw_wbxml_scan_child(s);
			if (r != GW_WBXML_SCAN_OK)
				break;
		}
		if (gw_wbxml_scan_is_extension(s)) {
			r = gw_wbxml_scan_extension(s, gw_wbxml_scan_content_text(s));
		} else if (b == GW_WBXML_ENTITY) {
			r = gw_wbxml_scan_entity(s, gw_wbxml_scan_content_text(s));
		} else if (b == GW_WBXML_STR_I) {
			s->pos++;
			r = gw_wbxml_scan_termstr(s, gw_wbxml_scan_content_text(s), TRUE);
		} else if (b == GW_WBXML_STR_T) {
			s->pos++;
			r = gw_wbxml_scan_tableref(s, gw_wbxml_scan_content_text(s), 1, TRUE);
		} else if (b == GW_WBXML_OPAQUE) {
			r = gw_wbxml_scan_opaque(s, gw_wbxml_scan_content_text(s), TRUE);
		} else if (b == GW_WBXML_PI) {
			r = gw_wbxml_scan_pi(s);
		} else if (b == GW_WBXML_SWITCH_PAGE) {
			guint8 page = 0;
			if (gw_wbxml_scan_peek(s, 1, &page))
				s->page = page;
			s->pos += 2;
		} else {
			r = gw_wbxml_scan_stag(s, &has_content);
			if (r == GW_WBXML_SCAN_OK && has_content)
				r = gw_wbxml_scan_enter(s);
		}
	}
	while (r == GW_WBXML_SCAN_OK && gw_wbxml_scan_is(s, GW_WBXML_PI))
		r = gw_wbxml_scan_pi(s);
	return r;
}

/* any 0x02 followed by an mb_u_int32 >= 0x80000000, in any context */
static gboolean
gw_wbxml_has_wild_entity(const guint8 *d, gsize len)
{
	const guint8 *p = d;
	const guint8 *end = d + len;

	while ((p = memchr(p, GW_WBXML_ENTITY, (gsize)(end - p))) != NULL) {
		gsize pos = (gsize)(p - d) + 1;
		guint64 code = 0;
		if (gw_wbxml_read_mb(d, len, &pos, &code) && code >= 0x80000000u)
			return TRUE;
		p++;
	}
	return FALSE;
}

static const struct {
	const gchar *public_id;
	WBXMLLanguage lang;
} gw_wbxml_text_ids[] = {
    {"-//SYNCML//DTD SyncML 1.2//EN", WBXML_LANG_SYNCML_SYNCML12},
    {"-//SYNCML//DTD SyncML 1.1//EN", WBXML_LANG_SYNCML_SYNCML11},
    {"-//SYNCML//DTD SyncML 1.0//EN", WBXML_LANG_SYNCML_SYNCML10},
    {"-//OMA//DTD-DM-DDF 1.2//EN", WBXML_LANG_SYNCML_DMDDF12},
};

/*
 * Checks the header and the token stream and picks the language libwbxml2 must use: only
 * SyncML 1.0/1.1/1.2 and DM DDF 1.2 (TNDS) are decoded; any other public id (including the
 * anonymous 0x01) is decoded as SyncML 1.2, so libwbxml2's other languages are never used for
 * the outer document.
 */
static gboolean
gw_wbxml_check_input(const guint8 *data, gsize len, WBXMLLanguage *lang, GError **error)
{
	GwWbxmlHeader h;
	GwWbxmlScanner s = {0};
	gsize budget = 16 * len; /* bounds the work spent on embedded-document candidates */
	guint elements = 0;
	GwWbxmlScanResult r;

	if (!gw_wbxml_parse_header(data, len, &h)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_PROTOCOL, "malformed WBXML header");
		return FALSE;
	}
	if (h.charset != 0 && h.charset != WBXML_CHARSET_UTF_8 &&
	    h.charset != WBXML_CHARSET_US_ASCII) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "unsupported WBXML charset %" G_GUINT64_FORMAT " (UTF-8 only)",
		            h.charset);
		return FALSE;
	}
	*lang = WBXML_LANG_SYNCML_SYNCML12;
	if (!h.public_id_is_index) {
		if (h.public_id == 0x0FD3)
			*lang = WBXML_LANG_SYNCML_SYNCML11;
		else if (h.public_id == 0x0FD1)
			*lang = WBXML_LANG_SYNCML_SYNCML10;
	} else if (h.public_id < h.strtbl_len) {
		const gchar *id = (const gchar *)data + h.strtbl_offset + h.public_id;
		gsize max = h.strtbl_len - (gsize)h.public_id;
		for (guint i = 0; i < G_N_ELEMENTS(gw_wbxml_text_ids); i++) {
			gsize n = strlen(gw_wbxml_text_ids[i].public_id);
			if (max > n &&
			    g_ascii_strncasecmp(id, gw_wbxml_text_ids[i].public_id, n) == 0 &&
			    id[n] == '\0')
				*lang = gw_wbxml_text_ids[i].lang;
		}
	}

	if (gw_wbxml_has_wild_entity(data, len)) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "WBXML character entity out of range");
		return FALSE;
	}
	s.d = data;
	s.len = len;
	s.pos = h.body_offset;
	s.strtbl = data + h.strtbl_offset;
	s.strtbl_len = h.strtbl_len;
	s.ext_mode = GW_WBXML_EXT_NONE;
	s.budget = &budget;
	s.elements = &elements;
	r = gw_wbxml_scan_document(&s);
	if (r != GW_WBXML_SCAN_OK) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s WBXML: %s",
		            r == GW_WBXML_SCAN_DANGEROUS ? "refusing" : "malformed",
		            s.reason != NULL ? s.reason : "?");
		return FALSE;
	}
	return TRUE;
}

static WBXMLError
gw_wbxml_decode(const guint8 *data,
                gsize len,
                WBXMLLanguage lang,
                WB_UTINY **xml,
                WB_ULONG *xml_len)
{
	WBXMLConvWBXML2XML *conv = NULL;
	WBXMLError ret = wbxml_conv_wbxml2xml_create(&conv);

	if (ret != WBXML_OK)
		return ret;
	wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
	wbxml_conv_wbxml2xml_set_indent(conv, 0);
	wbxml_conv_wbxml2xml_set_charset(conv, WBXML_CHARSET_UTF_8);
	wbxml_conv_wbxml2xml_set_language(conv, lang);
	/* libwbxml2 does not write to its input */
	ret =
	    wbxml_conv_wbxml2xml_run(conv, (WB_UTINY *)(guintptr)data, (WB_ULONG)len, xml, xml_len);
	wbxml_conv_wbxml2xml_destroy(conv);
	return ret;
}

/* removes libwbxml2's generated DOCTYPE (no internal subset, no '>' in its literals) */
static void
gw_wbxml_strip_doctype(GString *xml)
{
	const gchar *decl = "<?xml version=\"1.0\"?>";
	gsize pos = 0;
	const gchar *end;

	if (g_str_has_prefix(xml->str, decl))
		pos = strlen(decl);
	while (pos < xml->len && gw_wbxml_is_space(xml->str[pos]))
		pos++;
	if (!gw_wbxml_has_prefix(xml->str, xml->len, pos, "<!DOCTYPE"))
		return;
	end = memchr(xml->str + pos, '>', xml->len - pos);
	if (end == NULL)
		return;
	g_string_erase(xml, (gssize)pos, (gssize)((gsize)(end - xml->str) + 1 - pos));
}

/* well-formed for libxml2 (no network, no DTD loading, its default depth limit of 256) */
static gboolean
gw_wbxml_is_well_formed(const gchar *xml, gsize len, const gchar *encoding)
{
	xmlDocPtr doc;

	if (len > G_MAXINT)
		return FALSE;
	doc = xmlReadMemory(xml,
	                    (int)len,
	                    NULL,
	                    encoding,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return FALSE;
	xmlFreeDoc(doc);
	return TRUE;
}

gchar *
gw_wbxml_to_xml(const guint8 *data, gsize len, gsize *out_len, GError **error)
{
	WB_UTINY *xml = NULL;
	WB_ULONG xml_len = 0;
	WBXMLError ret;
	WBXMLLanguage lang = WBXML_LANG_SYNCML_SYNCML12;
	g_autoptr(GString) result = NULL;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (out_len != NULL)
		*out_len = 0;
	/* version, public id, charset, string table length, one tag: at least 5 bytes */
	if (len < 5) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "WBXML document too short (%" G_GSIZE_FORMAT " bytes)",
		            len);
		return NULL;
	}
	if (len > GW_WBXML_MAX_INPUT) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "WBXML document too large (%" G_GSIZE_FORMAT " bytes, limit %u)",
		            len,
		            GW_WBXML_MAX_INPUT);
		return NULL;
	}
	if (data[0] > WBXML_VERSION_13) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "unsupported WBXML version byte 0x%02x",
		            data[0]);
		return NULL;
	}

	if (!gw_wbxml_check_input(data, len, &lang, error))
		return NULL;
	ret = gw_wbxml_decode(data, len, lang, &xml, &xml_len);
	if (ret != WBXML_OK || xml == NULL || xml_len == 0) {
		free(xml);
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "cannot decode WBXML: %s",
		            ret != WBXML_OK ? (const gchar *)wbxml_errors_string(ret)
		                            : "empty result");
		return NULL;
	}
	result = g_string_new_len((const gchar *)xml, (gssize)xml_len);
	free(xml);

	gw_wbxml_strip_doctype(result);
	/* what libwbxml2 made of it (embedded documents included) is bounded again before
	 * libxml2 reads it */
	if (!gw_xml_bounds_check(
	        &gw_xml_bounds_wbxml_decoded, result->str, result->len, NULL, error))
		return NULL;
	if (!gw_wbxml_is_well_formed(result->str, result->len, "UTF-8")) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_PROTOCOL,
		                    "WBXML content cannot be represented as well-formed XML "
		                    "(opaque data that is binary, not UTF-8, or contains \"]]>\")");
		return NULL;
	}

	g_debug("WBXML %" G_GSIZE_FORMAT " B -> XML %" G_GSIZE_FORMAT " B", len, result->len);
	if (out_len != NULL)
		*out_len = result->len;
	return g_string_free(g_steal_pointer(&result), FALSE);
}

gboolean
gw_wbxml_peek_session(const guint8 *data, gsize len, gchar **session_id, gchar **source_uri)
{
	GwWbxmlHeader h;
	GwWbxmlScanner s = {0};
	GwWbxmlPeek peek = {0};
	gsize budget = 16 * len;
	guint elements = 0;

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(session_id != NULL && source_uri != NULL, FALSE);

	if (!gw_wbxml_parse_header(data, len, &h))
		return FALSE;
	s.d = data;
	s.len = len;
	s.pos = h.body_offset;
	s.strtbl = data + h.strtbl_offset;
	s.strtbl_len = h.strtbl_len;
	s.budget = &budget;
	s.elements = &elements;
	s.peek = &peek;
	/* whatever stops the scan (the cut, a bound) comes after the header, or the header is
	 * not to be had */
	gw_wbxml_scan_document(&s);
	if (peek.session_id == NULL || peek.source_uri == NULL || peek.session_id[0] == '\0' ||
	    peek.source_uri[0] == '\0') {
		g_free(peek.session_id);
		g_free(peek.source_uri);
		return FALSE;
	}
	*session_id = g_strstrip(peek.session_id);
	*source_uri = g_strstrip(peek.source_uri);
	return TRUE;
}

gboolean
gw_wbxml_message_is_wbxml(const gchar *content_type, const guint8 *data, gsize len)
{
	if (content_type != NULL)
		return gw_wbxml_is_wbxml_content_type(content_type);
	for (gsize i = 0; i < len; i++) {
		if (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')
			continue;
		return data[i] != '<' && data[i] != 0xEF;
	}
	return FALSE;
}

gboolean
gw_wbxml_is_wbxml_content_type(const gchar *content_type)
{
	const gchar *semi;
	g_autofree gchar *media = NULL;

	if (content_type == NULL)
		return FALSE;
	semi = strchr(content_type, ';');
	media = semi != NULL ? g_strndup(content_type, (gsize)(semi - content_type))
	                     : g_strdup(content_type);
	g_strstrip(media);
	return g_ascii_strcasecmp(media, GW_SYNCML_DM_WBXML_TYPE) == 0;
}
