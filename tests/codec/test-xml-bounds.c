/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bounds on XML and WBXML from outside (core/tree/gw-xml-bounds.h, issue 11 §4): each one
 * just under passes and just over is refused with GW_ERROR_PROTOCOL, at the first byte past it
 * (the work is counted, not timed); the hostile messages that took minutes are refused after a
 * few hundred bytes; well-formed documents with every construct the scan skips are never
 * refused; the SyncML parser, the WBXML decoder and the TNDS importer apply them; and the
 * message decoder runs in a worker thread.
 */

#define G_LOG_DOMAIN "GwXmlBoundsTest"

#include "config.h"

#include <libxml/parser.h>
#include <string.h>

#include "gw-syncml.h"
#include "gw-tnds.h"
#include "gw-wbxml.h"
#include "gw-xml-bounds.h"

#define HDR                                                                                \
	"<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID>" \
	"<MsgID>1</MsgID><Target><LocURI>gw</LocURI></Target><Source><LocURI>dev</LocURI>" \
	"</Source></SyncHdr>"

/* a SyncML message whose root has @n_attributes more attributes, with @body in SyncBody */
static gchar *
message(guint n_attributes, const gchar *body)
{
	GString *s = g_string_new("<SyncML xmlns=\"SYNCML:SYNCML1.2\"");

	for (guint i = 0; i < n_attributes; i++)
		g_string_append_printf(s, " a%u=\"v\"", i);
	g_string_append_printf(s, ">" HDR "<SyncBody>%s<Final/></SyncBody></SyncML>", body);
	return g_string_free(s, FALSE);
}

static GwXmlScanStats
check_ok(const GwXmlBounds *bounds, const gchar *xml, gsize len)
{
	g_autoptr(GError) error = NULL;
	GwXmlScanStats stats;

	if (!gw_xml_bounds_check(bounds, xml, len, &stats, &error))
		g_printerr("refused: %s\n", error->message);
	g_assert_no_error(error);
	g_assert_cmpint(stats.bound, ==, GW_XML_BOUND_NONE);
	g_assert_cmpuint(stats.scanned, ==, len);
	return stats;
}

static GwXmlScanStats
check_refused(const GwXmlBounds *bounds, const gchar *xml, gsize len, GwXmlBound bound)
{
	g_autoptr(GError) error = NULL;
	GwXmlScanStats stats;

	g_assert_false(gw_xml_bounds_check(bounds, xml, len, &stats, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_test_message("refused (%s): %s", gw_xml_bound_to_string(stats.bound), error->message);
	g_assert_cmpint(stats.bound, ==, bound);
	g_assert_cmpuint(stats.scanned, <=, len);
	return stats;
}

static void
assert_parses(const gchar *xml)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwSyncmlMessage) msg =
	    gw_syncml_message_parse_xml((const guint8 *)xml, strlen(xml), &error);
	g_assert_no_error(error);
	g_assert_nonnull(msg);
}

static void
assert_parse_refused(const gchar *xml, gsize len, const gchar *why)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwSyncmlMessage) msg =
	    gw_syncml_message_parse_xml((const guint8 *)xml, len, &error);
	g_assert_null(msg);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, why));
}

/* ---- each bound of a SyncML message ---- */

static void
test_attributes(void)
{
	/* the root has xmlns already: GW_SYNCML_MAX_ATTRIBUTES - 1 more is the bound */
	g_autofree gchar *under = message(GW_SYNCML_MAX_ATTRIBUTES - 1, "");
	g_autofree gchar *over = message(GW_SYNCML_MAX_ATTRIBUTES, "");
	GwXmlScanStats stats;

	stats = check_ok(&gw_xml_bounds_syncml, under, strlen(under));
	g_assert_cmpuint(stats.attributes, ==, GW_SYNCML_MAX_ATTRIBUTES);
	assert_parses(under);
	stats = check_refused(&gw_xml_bounds_syncml, over, strlen(over), GW_XML_BOUND_ATTRIBUTES);
	/* it stopped at the attribute past the bound: the rest was never looked at */
	g_assert_cmpuint(stats.scanned, <, strstr(over, ">") - over);
	assert_parse_refused(over, strlen(over), "too many attributes");
}

static void
test_depth(void)
{
	g_autoptr(GString) under = g_string_new(NULL);
	g_autoptr(GString) over = g_string_new(NULL);

	for (guint i = 0; i < GW_SYNCML_MAX_XML_DEPTH; i++)
		g_string_append(under, "<a>");
	for (guint i = 0; i < GW_SYNCML_MAX_XML_DEPTH; i++)
		g_string_append(under, "</a>");
	g_string_append_printf(over, "<b>%s</b>", under->str);
	g_assert_cmpuint(check_ok(&gw_xml_bounds_syncml, under->str, under->len).depth,
	                 ==,
	                 GW_SYNCML_MAX_XML_DEPTH);
	check_refused(&gw_xml_bounds_syncml, over->str, over->len, GW_XML_BOUND_DEPTH);
	/* an empty element one level too deep counts as well */
	g_string_truncate(over, 0);
	for (guint i = 0; i < GW_SYNCML_MAX_XML_DEPTH; i++)
		g_string_append(over, "<a>");
	g_string_append(over, "<e/>");
	check_refused(&gw_xml_bounds_syncml, over->str, over->len, GW_XML_BOUND_DEPTH);
}

static void
test_elements(void)
{
	g_autoptr(GString) doc = g_string_new("<r>");
	GwXmlScanStats stats;

	for (guint i = 1; i < GW_SYNCML_MAX_ELEMENTS; i++)
		g_string_append(doc, "<x/>");
	g_string_append(doc, "</r>");
	stats = check_ok(&gw_xml_bounds_syncml, doc->str, doc->len);
	g_assert_cmpuint(stats.elements, ==, GW_SYNCML_MAX_ELEMENTS);
	g_string_insert(doc, 3, "<y/>");
	stats = check_refused(&gw_xml_bounds_syncml, doc->str, doc->len, GW_XML_BOUND_ELEMENTS);
	g_assert_cmpuint(stats.elements, ==, GW_SYNCML_MAX_ELEMENTS + 1);
	g_assert_cmpuint(stats.scanned, ==, doc->len - 4 - 4);
}

static void
test_text(void)
{
	gsize n = GW_SYNCML_MAX_TEXT;
	g_autofree gchar *text = g_malloc(n + 2);
	g_autofree gchar *under = NULL;
	g_autofree gchar *over = NULL;
	g_autofree gchar *split = NULL;
	g_autofree gchar *attr = NULL;

	memset(text, 'A', n + 1);
	text[n + 1] = '\0';
	over = g_strdup_printf("<r><d>%s</d></r>", text);
	text[n] = '\0';
	under = g_strdup_printf("<r><d>%s</d><d>x</d></r>", text);
	g_assert_cmpuint(check_ok(&gw_xml_bounds_syncml, under, strlen(under)).text, ==, n);
	check_refused(&gw_xml_bounds_syncml, over, strlen(over), GW_XML_BOUND_TEXT);
	/* text and CDATA of one element are counted together (libxml2 merges them) */
	text[n / 2] = '\0';
	split = g_strdup_printf("<r>%s<![CDATA[%s]]></r>", text, text);
	g_assert_cmpuint(check_ok(&gw_xml_bounds_syncml, split, strlen(split)).text, ==, n);
	g_free(split);
	split = g_strdup_printf("<r>%s<!-- c --><![CDATA[%s]]>A</r>", text, text);
	check_refused(&gw_xml_bounds_syncml, split, strlen(split), GW_XML_BOUND_TEXT);
	/* an attribute value */
	text[n / 2] = 'A';
	text[n] = 'A';
	attr = g_strdup_printf("<r a=\"%s\"/>", text);
	check_refused(&gw_xml_bounds_syncml, attr, strlen(attr), GW_XML_BOUND_TEXT);
}

/* references count as the character they stand for: what the gateway escapes when it writes
 * a message it parses back */
static void
test_text_references(void)
{
	const GwXmlBounds small = {"test document", G_MAXSIZE, 8, 8, 2, 8, 8};
	gsize n = 600 * 1024;
	g_autofree gchar *cdata = g_malloc(n + 1);
	g_autofree gchar *body = NULL;
	g_autofree gchar *xml = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GwSyncmlMessage) again = NULL;
	g_autoptr(GBytes) out = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const guint8 *data;

	g_assert_cmpuint(check_ok(&small, "<r>&lt;&#x3C;&#60;&amp;1234</r>", 31).text, ==, 8);
	check_refused(&small, "<r>&lt;&#x3C;&#60;&amp;12345</r>", 32, GW_XML_BOUND_TEXT);
	g_assert_cmpuint(check_ok(&small, "<r a='&quot;&apos;345678'/>", 28).text, ==, 8);
	check_refused(&small, "<r a='&quot;&apos;3456789'/>", 29, GW_XML_BOUND_TEXT);

	/* 600 KiB of "<" in CDATA: written back as 2.4 MiB of "&lt;", and parsed again */
	memset(cdata, '<', n);
	cdata[n] = '\0';
	body = g_strdup_printf("<Replace><CmdID>1</CmdID><Item><Target><LocURI>./a</LocURI>"
	                       "</Target><Data><![CDATA[%s]]></Data></Item></Replace>",
	                       cdata);
	xml = message(0, body);
	msg = gw_syncml_message_parse_xml((const guint8 *)xml, strlen(xml), &error);
	g_assert_no_error(error);
	out = gw_syncml_message_to_xml(msg);
	data = g_bytes_get_data(out, &len);
	g_assert_cmpuint(len, >, GW_SYNCML_MAX_TEXT);
	again = gw_syncml_message_parse_xml(data, len, &error);
	g_assert_no_error(error);
	g_assert_true(gw_syncml_message_equal(msg, again));
}

static void
test_size(void)
{
	gsize n = GW_SYNCML_MAX_MESSAGE_SIZE + 1;
	g_autofree gchar *big = g_malloc(n);

	/* "<r><!--   …   --></r>" */
	memset(big, ' ', n);
	memcpy(big, "<r><!--", 7);
	memcpy(big + n - 7, "--></r>", 7);
	check_refused(&gw_xml_bounds_syncml, big, n, GW_XML_BOUND_SIZE);
	memcpy(big + n - 8, "--></r>", 7);
	check_ok(&gw_xml_bounds_syncml, big, n - 1);
}

/* namespace declarations are bounded in scope (libxml2 walks that stack for every name), not
 * per document: one on each of many siblings is what SyncML's MetInf looks like */
static void
test_namespaces(void)
{
	g_autoptr(GString) doc = g_string_new(NULL);
	g_autoptr(GString) siblings = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *hostile = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	GwXmlScanStats stats;
	gint64 start;

	/* two levels of GW_SYNCML_MAX_NAMESPACES / 2 declarations: at the bound */
	for (guint level = 0; level < 2; level++) {
		g_string_append(doc, "<e");
		for (guint i = 0; i < GW_SYNCML_MAX_NAMESPACES / 2; i++)
			g_string_append_printf(doc, " xmlns:p%u_%u=\"u\"", level, i);
		g_string_append(doc, ">");
	}
	g_string_append(doc, "<p0_0:a p1_0:b=\"\"/></e>");
	/* a sibling declares as much again: the first level's went out of scope */
	g_string_append(doc, "<e");
	for (guint i = 0; i < GW_SYNCML_MAX_NAMESPACES / 2; i++)
		g_string_append_printf(doc, " xmlns:q%u=\"u\"", i);
	g_string_append(doc, "/><e xmlns=\"d\"/></e>");
	stats = check_ok(&gw_xml_bounds_syncml, doc->str, doc->len);
	g_assert_cmpuint(stats.namespaces, ==, GW_SYNCML_MAX_NAMESPACES);
	/* one more in scope (on an empty element, or a default namespace) is one too many */
	g_string_insert(doc, doc->len - 4, "<x xmlns=\"d\"/>");
	check_ok(&gw_xml_bounds_syncml, doc->str, doc->len);
	g_string_insert(doc, strstr(doc->str, "<p0_0:a") - doc->str, "<x xmlns=\"d\"/>");
	stats = check_refused(&gw_xml_bounds_syncml, doc->str, doc->len, GW_XML_BOUND_NAMESPACES);
	g_assert_cmpuint(stats.namespaces, ==, GW_SYNCML_MAX_NAMESPACES + 1);

	/* 2,000 commands, each with its MetInf declaration: passes and parses */
	for (guint i = 1; i <= 2000; i++)
		g_string_append_printf(
		    siblings,
		    "<Replace><CmdID>%u</CmdID><Meta><Format "
		    "xmlns=\"syncml:metinf\">chr</Format></Meta><Item><Target>"
		    "<LocURI>./a</LocURI></Target><Data>%u</Data></Item></Replace>",
		    i,
		    i);
	{
		g_autofree gchar *xml = message(0, siblings->str);
		g_assert_cmpuint(
		    check_ok(&gw_xml_bounds_syncml, xml, strlen(xml)).namespaces, ==, 2);
		assert_parses(xml);
	}

	/* the review's message: 126 nested elements of 31 declarations, then 4 MiB of elements
	 * named with the outermost prefix (8 s in libxml2 2.9.14) */
	g_string_assign(doc, "<SyncML xmlns=\"SYNCML:SYNCML1.2\">");
	for (guint d = 0; d < 126; d++) {
		g_string_append(doc, "<e");
		for (guint i = 0; i < 31; i++)
			g_string_append_printf(doc, " xmlns:p%u_%u=\"u\"", d, i);
		g_string_append(doc, ">");
	}
	while (doc->len < GW_SYNCML_MAX_MESSAGE_SIZE - 200 - 126 * 5) {
		g_string_append(doc, "<p0_0:a");
		for (guint i = 0; i < 31 && doc->len < GW_SYNCML_MAX_MESSAGE_SIZE - 300 - 126 * 5;
		     i++)
			g_string_append_printf(doc, " p0_0:b%u=\"\"", i);
		g_string_append(doc, "/>");
	}
	for (guint d = 0; d < 126; d++)
		g_string_append(doc, "</e>");
	g_string_append(doc, "</SyncML>");
	hostile = g_string_free(g_steal_pointer(&doc), FALSE);
	stats =
	    check_refused(&gw_xml_bounds_syncml, hostile, strlen(hostile), GW_XML_BOUND_NAMESPACES);
	g_assert_cmpuint(stats.scanned, <, 2000);
	start = g_get_monotonic_time();
	msg = gw_syncml_message_parse_xml((const guint8 *)hostile, strlen(hostile), &error);
	g_test_message("%" G_GSIZE_FORMAT
	               " bytes with 3,907 nested declarations refused in %.3f ms",
	               strlen(hostile),
	               (g_get_monotonic_time() - start) / 1000.0);
	g_assert_null(msg);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "namespace declarations"));
}

/* ---- the hostile messages of issue 11 §4 ---- */

static void
test_hostile_attributes(void)
{
	g_autofree gchar *xml = message(100000, "");
	gsize len = strlen(xml);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	GwXmlScanStats stats;
	gint64 start;

	g_assert_cmpuint(len, >, 1000000);
	stats = check_refused(&gw_xml_bounds_syncml, xml, len, GW_XML_BOUND_ATTRIBUTES);
	/* 117 s of libxml2's pairwise check before; the scan stops at the 33rd attribute */
	g_assert_cmpuint(stats.scanned, <, 400);
	g_assert_cmpuint(stats.attributes, ==, GW_SYNCML_MAX_ATTRIBUTES + 1);
	start = g_get_monotonic_time();
	msg = gw_syncml_message_parse_xml((const guint8 *)xml, len, &error);
	g_test_message("%" G_GSIZE_FORMAT " bytes with 100,000 attributes refused in %.3f ms",
	               len,
	               (g_get_monotonic_time() - start) / 1000.0);
	g_assert_null(msg);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "too many attributes"));
	g_clear_error(&error);
	/* the same with namespace declarations (libxml2 checks those pairwise too) */
	{
		GString *s = g_string_new("<SyncML xmlns=\"SYNCML:SYNCML1.2\"");
		g_autofree gchar *ns = NULL;
		for (guint i = 0; i < 50000; i++)
			g_string_append_printf(s, " xmlns:p%u=\"u%u\"", i, i);
		g_string_append(s, ">" HDR "<SyncBody><Final/></SyncBody></SyncML>");
		ns = g_string_free(s, FALSE);
		stats =
		    check_refused(&gw_xml_bounds_syncml, ns, strlen(ns), GW_XML_BOUND_ATTRIBUTES);
		g_assert_cmpuint(stats.scanned, <, 1000);
	}
}

/* ---- well-formed documents are never refused; tricks do not hide what is counted ---- */

static void
test_well_formed(void)
{
	static const struct {
		const gchar *xml;
		guint elements;
		guint attributes;
		guint depth;
	} docs[] = {
	    {"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r/>", 1, 0, 1},
	    {"<r><!-- <a b=\"1\" c=\"2\"> --><x/></r>", 2, 0, 2},
	    {"<r><![CDATA[<a b=\"1\"><c/>]]></r>", 1, 0, 1},
	    {"<r><?pi <a b='1'> ?></r>", 1, 0, 1},
	    {"<r a='x\"y>' b = \"/>'\"\n\tc\n=\n'3'/>", 1, 3, 1},
	    {"<r\n><x\ta=\"1\"  /></r\n>", 2, 1, 2},
	    {"<!DOCTYPE r [ <!-- ]> --> <!ELEMENT r ANY> <?pi ]> ?> <!ATTLIST r a CDATA \"]>\"> ]>"
	     "<r a=\"1\"/>",
	     1,
	     1,
	     1},
	    {"<!DOCTYPE r SYSTEM \"a>b\"><r/>", 1, 0, 1},
	    {"<r>a &gt; b &amp; c ]]&gt; d > e</r>", 1, 0, 1},
	    {"<\xc3\xa9l\xc3\xa9ment \xc3\xa0=\"1\"/>", 1, 1, 1},
	    {"<r><x></x><x/></r><!-- after --><?pi after?>", 3, 0, 2},
	};

	for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
		xmlDocPtr doc =
		    xmlReadMemory(docs[i].xml,
		                  (int)strlen(docs[i].xml),
		                  NULL,
		                  NULL,
		                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		GwXmlScanStats stats;
		g_test_message("%s", docs[i].xml);
		/* libxml2 takes it: it is well formed */
		g_assert_nonnull(doc);
		xmlFreeDoc(doc);
		stats = check_ok(&gw_xml_bounds_syncml, docs[i].xml, strlen(docs[i].xml));
		g_assert_cmpuint(stats.elements, ==, docs[i].elements);
		g_assert_cmpuint(stats.attributes, ==, docs[i].attributes);
		g_assert_cmpuint(stats.depth, ==, docs[i].depth);
	}
}

static void
test_malformed(void)
{
	static const gchar *const docs[] = {
	    "<r a>",
	    "<r a=1/>",
	    "<r a=\"1/>",
	    "< r/>",
	    "<r><!-- x</r>",
	    "<r><![CDATA[x</r>",
	    "<r><? x</r>",
	    "</r>",
	    "<r><!FOO></r>",
	    "<r/><!DOCTYPE r>",
	    "<r =\"1\"/>",
	    "<r a\"1\"/>",
	    "<!DOCTYPE r [ <!ENTITY x \"y> ]><r/>",
	};

	for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
		xmlDocPtr doc =
		    xmlReadMemory(docs[i],
		                  (int)strlen(docs[i]),
		                  NULL,
		                  NULL,
		                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		g_test_message("%s", docs[i]);
		/* libxml2 refuses it too: refusing it first changes nothing */
		g_assert_null(doc);
		check_refused(
		    &gw_xml_bounds_syncml, docs[i], strlen(docs[i]), GW_XML_BOUND_MALFORMED);
	}
}

/* attributes written without white space between them are counted all the same */
static void
test_attributes_packed(void)
{
	GString *s = g_string_new("<r");
	g_autofree gchar *xml = NULL;

	for (guint i = 0; i <= GW_SYNCML_MAX_ATTRIBUTES; i++)
		g_string_append_printf(s, "%sa%u='1'", i == 0 ? " " : "", i);
	g_string_append(s, "/>");
	xml = g_string_free(s, FALSE);
	check_refused(&gw_xml_bounds_syncml, xml, strlen(xml), GW_XML_BOUND_ATTRIBUTES);
}

/* ---- WBXML ---- */

static void
put_mb(GByteArray *a, guint32 v)
{
	guint8 b[5];
	guint n = 0;

	b[4 - n++] = v & 0x7f;
	for (v >>= 7; v != 0; v >>= 7)
		b[4 - n++] = 0x80 | (v & 0x7f);
	g_byte_array_append(a, b + 5 - n, n);
}

/* WBXML 1.2, SyncML 1.2, UTF-8: <SyncML> holding <SyncBody> with @children <Final/>, the root
 * carrying @attributes literal attributes (names from the string table) */
static GByteArray *
wbxml_doc(guint children, guint attributes)
{
	GByteArray *a = g_byte_array_new();
	GString *strtbl = g_string_new(NULL);
	g_autoptr(GArray) idx = g_array_new(FALSE, FALSE, sizeof(guint32));
	const guint8 head[] = {0x02, 0xa4, 0x01, 0x6a};

	for (guint i = 0; i < attributes; i++) {
		guint32 at = (guint32)strtbl->len;
		g_array_append_val(idx, at);
		g_string_append_printf(strtbl, "a%u", i);
		g_string_append_c(strtbl, '\0');
	}
	g_byte_array_append(a, head, sizeof(head));
	put_mb(a, (guint32)strtbl->len);
	g_byte_array_append(a, (const guint8 *)strtbl->str, (guint)strtbl->len);
	g_byte_array_append(a, (const guint8 *)(attributes > 0 ? "\xed" : "\x6d"), 1);
	for (guint i = 0; i < attributes; i++) {
		g_byte_array_append(a, (const guint8 *)"\x04", 1);
		put_mb(a, g_array_index(idx, guint32, i));
		g_byte_array_append(a, (const guint8 *)"\x03x", 3); /* STR_I "x" */
	}
	if (attributes > 0)
		g_byte_array_append(a, (const guint8 *)"\x01", 1);
	g_byte_array_append(a, (const guint8 *)"\x6b", 1);
	for (guint i = 0; i < children; i++)
		g_byte_array_append(a, (const guint8 *)"\x12", 1);
	g_byte_array_append(a, (const guint8 *)"\x01\x01", 2);
	g_string_free(strtbl, TRUE);
	return a;
}

static void
assert_wbxml(GByteArray *doc, const gchar *refused_because)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *xml = gw_wbxml_to_xml(doc->data, doc->len, NULL, &error);

	if (refused_because == NULL) {
		g_assert_no_error(error);
		g_assert_nonnull(xml);
		return;
	}
	g_assert_null(xml);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, refused_because));
}

static void
test_wbxml(void)
{
	g_autoptr(GByteArray) children_ok = wbxml_doc(GW_WBXML_MAX_CHILDREN, 0);
	g_autoptr(GByteArray) children_over = wbxml_doc(GW_WBXML_MAX_CHILDREN + 1, 0);
	g_autoptr(GByteArray) attrs_ok = wbxml_doc(1, GW_SYNCML_MAX_ATTRIBUTES);
	g_autoptr(GByteArray) attrs_over = wbxml_doc(1, GW_SYNCML_MAX_ATTRIBUTES + 1);
	/* the hostile ones: 100,000 attributes took libwbxml2 66 s, 100,000 children 39 s */
	g_autoptr(GByteArray) attrs_hostile = wbxml_doc(1, 100000);
	g_autoptr(GByteArray) children_hostile = wbxml_doc(100000, 0);
	g_autoptr(GByteArray) elements = g_byte_array_new();
	gint64 start;

	assert_wbxml(children_ok, NULL);
	assert_wbxml(children_over, "too many children");
	assert_wbxml(attrs_ok, NULL);
	assert_wbxml(attrs_over, "too many attributes");
	start = g_get_monotonic_time();
	assert_wbxml(attrs_hostile, "too many attributes");
	assert_wbxml(children_hostile, "too many children");
	g_test_message("both hostile WBXML documents refused in %.3f ms",
	               (g_get_monotonic_time() - start) / 1000.0);

	/* elements: SyncML > SyncBody > Atomic (0x48) x k > Final x 2,000 each */
	for (guint total = GW_WBXML_MAX_ELEMENTS; total <= GW_WBXML_MAX_ELEMENTS + 1; total++) {
		const guint8 head[] = {0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x6b};
		guint left = total - 2;
		g_byte_array_set_size(elements, 0);
		g_byte_array_append(elements, head, sizeof(head));
		while (left > 0) {
			guint n = MIN(left - 1, (guint)GW_WBXML_MAX_CHILDREN);
			g_byte_array_append(elements, (const guint8 *)"\x48", 1);
			for (guint i = 0; i < n; i++)
				g_byte_array_append(elements, (const guint8 *)"\x12", 1);
			g_byte_array_append(elements, (const guint8 *)"\x01", 1);
			left -= n + 1;
		}
		g_byte_array_append(elements, (const guint8 *)"\x01\x01", 2);
		assert_wbxml(elements, total > GW_WBXML_MAX_ELEMENTS ? "too many elements" : NULL);
	}
}

/* a WBXML SyncML 1.2 document whose string table holds the public id and @entry_len bytes of
 * 'A' (at @entry), and whose body @body_fn writes */
typedef void (*WbxmlBodyFunc)(GByteArray *a, guint32 entry, gconstpointer data);

static GByteArray *
wbxml_with_entry(gsize entry_len, WbxmlBodyFunc body_fn, gconstpointer data)
{
	const gchar *pid = "-//SYNCML//DTD SyncML 1.2//EN";
	GByteArray *a = g_byte_array_new();
	g_autoptr(GByteArray) strtbl = g_byte_array_new();
	guint32 entry;

	g_byte_array_append(strtbl, (const guint8 *)pid, (guint)strlen(pid) + 1);
	entry = strtbl->len;
	g_byte_array_set_size(strtbl, entry + (guint)entry_len + 1);
	memset(strtbl->data + entry, 'A', entry_len);
	strtbl->data[strtbl->len - 1] = '\0';
	/* WBXML 1.2, public id: string table index 0, UTF-8 */
	g_byte_array_append(a, (const guint8 *)"\x02\x00\x00\x6a", 4);
	put_mb(a, strtbl->len);
	g_byte_array_append(a, strtbl->data, strtbl->len);
	body_fn(a, entry, data);
	return a;
}

typedef struct {
	guint elements;
	guint refs;
} RefsShape;

/* <SyncML> holding @elements <Data> of @refs STR_T references each */
static void
wbxml_refs_body(GByteArray *a, guint32 entry, gconstpointer data)
{
	const RefsShape *shape = data;

	g_byte_array_append(a, (const guint8 *)"\x6d", 1);
	for (guint e = 0; e < shape->elements; e++) {
		g_byte_array_append(a, (const guint8 *)"\x4f", 1);
		for (guint r = 0; r < shape->refs; r++) {
			g_byte_array_append(a, (const guint8 *)"\x83", 1);
			put_mb(a, entry);
		}
		g_byte_array_append(a, (const guint8 *)"\x01", 1);
	}
	g_byte_array_append(a, (const guint8 *)"\x01", 1);
}

/* <SyncML> holding @data (a guint) elements whose literal name is the entry */
static void
wbxml_literal_tags_body(GByteArray *a, guint32 entry, gconstpointer data)
{
	g_byte_array_append(a, (const guint8 *)"\x6d", 1);
	for (guint e = 0; e < GPOINTER_TO_UINT(data); e++) {
		g_byte_array_append(a, (const guint8 *)"\x04", 1); /* LITERAL, no content */
		put_mb(a, entry);
	}
	g_byte_array_append(a, (const guint8 *)"\x01", 1);
}

/* <SyncML> with one attribute, named by the entry, whose value is @data (a guint) references
 * to the entry */
static void
wbxml_attribute_body(GByteArray *a, guint32 entry, gconstpointer data)
{
	g_byte_array_append(a, (const guint8 *)"\xed\x04", 2); /* SyncML, attributes; LITERAL */
	put_mb(a, entry);
	for (guint r = 0; r < GPOINTER_TO_UINT(data); r++) {
		g_byte_array_append(a, (const guint8 *)"\x83", 1);
		put_mb(a, entry);
	}
	g_byte_array_append(a, (const guint8 *)"\x01\x01", 2);
}

/* issue 11 review: libwbxml2 copies a string-table entry wherever it is referenced. What that
 * makes is counted before libwbxml2 runs (the refusal names the pre-scan, "refusing WBXML"):
 * 20,000 references to a 4,000-byte entry in 44 KB (80 MB of XML, 242 MiB at libwbxml2's peak),
 * references that stay under the text bound of each element but not the document's, literal
 * tag names, an attribute value; what stays under every bound decodes */
static void
test_wbxml_references(void)
{
	const RefsShape reviewer = {10, 2000};
	const RefsShape element_ok = {1, GW_SYNCML_MAX_TEXT / 4000};
	const RefsShape element_over = {1, GW_SYNCML_MAX_TEXT / 4000 + 1};
	const RefsShape document_ok = {GW_WBXML_MAX_DECODED / (GW_SYNCML_MAX_TEXT / 2) - 1,
	                               GW_SYNCML_MAX_TEXT / 2 / 4000};
	const RefsShape document_over = {GW_WBXML_MAX_DECODED / (GW_SYNCML_MAX_TEXT / 2) + 1,
	                                 GW_SYNCML_MAX_TEXT / 2 / 4000};
	/* the 4 MiB form: 4,000 elements of 500 references (8 GB of XML) */
	const RefsShape flood = {4000, 500};
	struct {
		const gchar *what;
		GByteArray *doc;
		const gchar *refused_because;
	} cases[] = {
	    {"the reviewer's 44 KB",
	     wbxml_with_entry(4000, wbxml_refs_body, &reviewer),
	     "refusing WBXML: text of one element"},
	    {"one element at the text bound",
	     wbxml_with_entry(4000, wbxml_refs_body, &element_ok),
	     NULL},
	    {"one element past it",
	     wbxml_with_entry(4000, wbxml_refs_body, &element_over),
	     "refusing WBXML: text of one element"},
	    {"elements under the text bound, the document under its bound",
	     wbxml_with_entry(4000, wbxml_refs_body, &document_ok),
	     NULL},
	    {"elements under the text bound, the document over its bound",
	     wbxml_with_entry(4000, wbxml_refs_body, &document_over),
	     "refusing WBXML: the decoded document would be too large"},
	    {"4 MiB of references",
	     wbxml_with_entry(4000, wbxml_refs_body, &flood),
	     "refusing WBXML: the decoded document would be too large"},
	    {"literal tag names",
	     wbxml_with_entry(4000, wbxml_literal_tags_body, GUINT_TO_POINTER(1000)),
	     "refusing WBXML: the decoded document would be too large"},
	    {"an attribute value",
	     wbxml_with_entry(4000, wbxml_attribute_body, GUINT_TO_POINTER(1000)),
	     "refusing WBXML: text of one element or attribute value"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *xml = NULL;
		gsize xml_len = 0;
		gint64 start = g_get_monotonic_time();

		xml = gw_wbxml_to_xml(cases[i].doc->data, cases[i].doc->len, &xml_len, &error);
		g_test_message("%s (%u bytes): %s in %.1f ms",
		               cases[i].what,
		               cases[i].doc->len,
		               xml != NULL ? "decoded" : error->message,
		               (g_get_monotonic_time() - start) / 1000.0);
		if (cases[i].refused_because == NULL) {
			g_assert_no_error(error);
			g_assert_cmpuint(xml_len, <=, GW_SYNCML_MAX_MESSAGE_SIZE);
		} else {
			g_assert_null(xml);
			g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
			g_assert_nonnull(strstr(error->message, cases[i].refused_because));
		}
		g_byte_array_unref(cases[i].doc);
	}
}

/* the SyncHdr of a WBXML message that does not decode (cut short) still names its session;
 * strings in the string table count too; a message cut before its Source names none */
static void
test_wbxml_peek_session(void)
{
	g_autofree gchar *xml = message(0, "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>");
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(xml, strlen(xml), &error);
	const guint8 *data;
	gsize len = 0;
	gsize source_end = 0;

	g_assert_no_error(error);
	data = g_bytes_get_data(wbxml, &len);
	for (gsize cut = len; cut > 0; cut--) {
		g_autofree gchar *sid = NULL;
		g_autofree gchar *src = NULL;
		if (!gw_wbxml_peek_session(data, cut, &sid, &src))
			break;
		g_assert_cmpstr(sid, ==, "1");
		g_assert_cmpstr(src, ==, "dev");
		source_end = cut;
	}
	/* cut anywhere after the Source's string: named, the SyncBody and the ends need not be
	 * there */
	g_test_message("the session is named down to %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
	               " bytes",
	               source_end,
	               len);
	for (gsize i = 0; i + 4 <= len; i++) {
		if (memcmp(data + i, "dev", 4) == 0) {
			g_assert_cmpuint(source_end, ==, i + 4);
			break;
		}
	}
	{
		/* by string table reference: SyncML > SyncHdr > SessionID "7" (STR_T), Source >
		 * LocURI (STR_T) "dev-9" */
		static const guint8 doc[] = {0x02, 0xa4, 0x01, 0x6a, 0x08, '7',  0,    'd',  'e',
		                             'v',  '-',  '9',  0,    0x6d, 0x6c, 0x65, 0x83, 0,
		                             0x01, 0x67, 0x57, 0x83, 2,    0x01, 0x01};
		g_autofree gchar *sid = NULL;
		g_autofree gchar *src = NULL;
		g_assert_true(gw_wbxml_peek_session(doc, sizeof(doc), &sid, &src));
		g_assert_cmpstr(sid, ==, "7");
		g_assert_cmpstr(src, ==, "dev-9");
		g_clear_pointer(&sid, g_free);
		g_clear_pointer(&src, g_free);
		g_assert_false(gw_wbxml_peek_session(doc, 19, &sid, &src));
	}
}

/* ---- TNDS ---- */

static void
test_tnds(void)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	GString *s = g_string_new("<MgmtTree xmlns=\"syncml:dmddf1.2\"");
	g_autofree gchar *hostile = NULL;
	g_autofree gchar *doc_ok = NULL;
	g_autofree gchar *doc_over = NULL;
	g_autoptr(GString) many = g_string_new("<r>");
	const gchar *tail = "><VerDTD>1.2</VerDTD><Node><NodeName>x</NodeName></Node></MgmtTree>";
	GwXmlScanStats stats;

	for (guint i = 0; i < 100000; i++)
		g_string_append_printf(s, " a%u=\"\"", i);
	g_string_append(s, tail);
	hostile = g_string_free(s, FALSE);
	g_assert_false(gw_tnds_import(tree, ".", hostile, strlen(hostile), 0, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "too many attributes"));
	g_clear_error(&error);
	stats =
	    check_refused(&gw_xml_bounds_tnds, hostile, strlen(hostile), GW_XML_BOUND_ATTRIBUTES);
	g_assert_cmpuint(stats.scanned, <, 200);

	/* 16 attributes in all pass, 17 not, except in the gateway's own state file */
	s = g_string_new("<MgmtTree xmlns=\"syncml:dmddf1.2\"");
	for (guint i = 1; i < GW_TNDS_MAX_ATTRIBUTES; i++)
		g_string_append_printf(s, " a%u=\"\"", i);
	doc_ok = g_strconcat(s->str, tail, NULL);
	g_string_append(s, " over=\"\"");
	doc_over = g_strconcat(s->str, tail, NULL);
	g_string_free(s, TRUE);
	g_assert_true(gw_tnds_import(tree, ".", doc_ok, strlen(doc_ok), 0, &error));
	g_assert_no_error(error);
	g_assert_false(gw_tnds_import(tree, ".", doc_over, strlen(doc_over), 0, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_clear_error(&error);
	g_assert_true(gw_tnds_import(tree,
	                             ".",
	                             doc_over,
	                             strlen(doc_over),
	                             GW_TNDS_IMPORT_REPLACE | GW_TNDS_IMPORT_RESTORE,
	                             &error));
	g_assert_no_error(error);

	/* elements */
	for (guint i = 1; i < GW_TNDS_MAX_ELEMENTS; i++)
		g_string_append(many, "<x/>");
	g_string_append(many, "</r>");
	check_ok(&gw_xml_bounds_tnds, many->str, many->len);
	g_string_insert(many, 3, "<y/>");
	check_refused(&gw_xml_bounds_tnds, many->str, many->len, GW_XML_BOUND_ELEMENTS);
}

/* ---- decoding in a worker thread ---- */

typedef struct {
	GMainLoop *loop;
	GwSyncmlMessage *msg;
	gboolean wbxml;
	GError *error;
	GThread *thread; /* where the callback ran */
} DecodeResult;

static void
decoded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	DecodeResult *r = user_data;
	r->msg = gw_syncml_message_decode_finish(res, &r->wbxml, &r->error);
	r->thread = g_thread_self();
	g_main_loop_quit(r->loop);
}

static void
decode_async(GBytes *bytes, const gchar *content_type, GCancellable *cancellable, DecodeResult *r)
{
	r->loop = g_main_loop_new(NULL, FALSE);
	gw_syncml_message_decode_async(bytes, content_type, cancellable, decoded_cb, r);
	g_main_loop_run(r->loop);
	g_main_loop_unref(r->loop);
}

static void
test_decode_async(void)
{
	g_autoptr(GString) body = g_string_new(NULL);
	g_autofree gchar *xml = NULL;
	g_autofree gchar *hostile = message(100000, "");
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GBytes) wbxml = NULL;
	g_autoptr(GBytes) hostile_bytes = NULL;
	g_autoptr(GwSyncmlMessage) sync_msg = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GError) error = NULL;
	DecodeResult r = {0};

	for (guint i = 1; i <= 500; i++)
		g_string_append_printf(
		    body,
		    "<Replace><CmdID>%u</CmdID><Item><Target><LocURI>./a/%u</LocURI>"
		    "</Target><Data>value %u</Data></Item></Replace>",
		    i,
		    i,
		    i);
	xml = message(0, body->str);
	bytes = g_bytes_new(xml, strlen(xml));
	g_assert_cmpuint(g_bytes_get_size(bytes), >=, GW_SYNCML_ASYNC_PARSE_SIZE);
	sync_msg = gw_syncml_message_decode(bytes, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);

	decode_async(bytes, GW_SYNCML_DM_XML_TYPE, NULL, &r);
	g_assert_no_error(r.error);
	g_assert_false(r.wbxml);
	g_assert_true(r.thread == g_thread_self());
	g_assert_true(gw_syncml_message_equal(r.msg, sync_msg));
	g_clear_pointer(&r.msg, gw_syncml_message_free);

	/* WBXML, told by the content type, or guessed from the bytes without one */
	wbxml = gw_wbxml_from_xml(xml, strlen(xml), &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 2; i++) {
		decode_async(wbxml, i == 0 ? GW_SYNCML_DM_WBXML_TYPE : NULL, NULL, &r);
		g_assert_no_error(r.error);
		g_assert_true(r.wbxml);
		g_assert_true(gw_syncml_message_equal(r.msg, sync_msg));
		g_clear_pointer(&r.msg, gw_syncml_message_free);
	}

	/* refused in the thread, reported to the callback */
	hostile_bytes = g_bytes_new(hostile, strlen(hostile));
	decode_async(hostile_bytes, GW_SYNCML_DM_XML_TYPE, NULL, &r);
	g_assert_null(r.msg);
	g_assert_error(r.error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_clear_error(&r.error);

	/* cancelled before it ran */
	g_cancellable_cancel(cancellable);
	decode_async(bytes, GW_SYNCML_DM_XML_TYPE, cancellable, &r);
	g_assert_null(r.msg);
	g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_clear_error(&r.error);
}

typedef struct {
	guint done;
	guint busy;
	guint decoded;
} QueueCount;

static void
queued_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	QueueCount *c = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwSyncmlMessage) msg = gw_syncml_message_decode_finish(res, NULL, &error);

	c->done++;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY))
		c->busy++;
	else if (msg != NULL)
		c->decoded++;
}

/* issue 11 review: what waits for the decode pool is bounded (it was a GThreadPool queue of
 * any length): past GW_SYNCML_DECODE_MAX_QUEUED_BYTES the caller hears G_IO_ERROR_BUSY at
 * once, and what was decoded makes room again */
static void
test_decode_queue(void)
{
	g_autoptr(GString) body = g_string_new(NULL);
	g_autofree gchar *xml = NULL;
	g_autoptr(GBytes) bytes = NULL;
	QueueCount c = {0};
	guint n;

	for (guint i = 1; body->len < 3 * 1024 * 1024; i++)
		g_string_append_printf(
		    body,
		    "<Replace><CmdID>%u</CmdID><Item><Target><LocURI>./a/%u</LocURI>"
		    "</Target><Data>%0256u</Data></Item></Replace>",
		    i,
		    i,
		    i);
	xml = message(0, body->str);
	bytes = g_bytes_new(xml, strlen(xml));
	/* twice what fits, pushed faster than one of them decodes (tens of ms each) */
	n = 2 * (guint)(GW_SYNCML_DECODE_MAX_QUEUED_BYTES / g_bytes_get_size(bytes)) + 2;
	for (guint i = 0; i < n; i++)
		gw_syncml_message_decode_async(bytes, GW_SYNCML_DM_XML_TYPE, NULL, queued_cb, &c);
	while (c.done < n)
		g_main_context_iteration(NULL, TRUE);
	g_test_message("%u messages of %" G_GSIZE_FORMAT
	               " bytes pushed at once: %u decoded, %u busy",
	               n,
	               g_bytes_get_size(bytes),
	               c.decoded,
	               c.busy);
	g_assert_cmpuint(c.decoded + c.busy, ==, n);
	g_assert_cmpuint(c.decoded, >=, 1);
	g_assert_cmpuint(c.busy, >=, n / 2);
	/* the queue is empty again: the next one is taken */
	memset(&c, 0, sizeof(c));
	gw_syncml_message_decode_async(bytes, GW_SYNCML_DM_XML_TYPE, NULL, queued_cb, &c);
	while (c.done < 1)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(c.decoded, ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/xml-bounds/attributes", test_attributes);
	g_test_add_func("/gw/xml-bounds/attributes-packed", test_attributes_packed);
	g_test_add_func("/gw/xml-bounds/depth", test_depth);
	g_test_add_func("/gw/xml-bounds/elements", test_elements);
	g_test_add_func("/gw/xml-bounds/text", test_text);
	g_test_add_func("/gw/xml-bounds/text-references", test_text_references);
	g_test_add_func("/gw/xml-bounds/size", test_size);
	g_test_add_func("/gw/xml-bounds/namespaces", test_namespaces);
	g_test_add_func("/gw/xml-bounds/hostile-attributes", test_hostile_attributes);
	g_test_add_func("/gw/xml-bounds/well-formed", test_well_formed);
	g_test_add_func("/gw/xml-bounds/malformed", test_malformed);
	g_test_add_func("/gw/xml-bounds/wbxml", test_wbxml);
	g_test_add_func("/gw/xml-bounds/wbxml-references", test_wbxml_references);
	g_test_add_func("/gw/xml-bounds/wbxml-peek-session", test_wbxml_peek_session);
	g_test_add_func("/gw/xml-bounds/tnds", test_tnds);
	g_test_add_func("/gw/xml-bounds/decode-async", test_decode_async);
	g_test_add_func("/gw/xml-bounds/decode-queue", test_decode_queue);
	return g_test_run();
}
