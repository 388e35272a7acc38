/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * WBXML codec tests. The oracle is Debian's libwbxml2-utils (xml2wbxml / wbxml2xml) run as
 * separate programs; tests that need them skip when they are not installed. Documents are
 * compared after normalisation with libxml2 (element names + namespaces + attributes +
 * merged text/CDATA, whitespace-only text dropped).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "gw-error.h"
#include "gw-wbxml.h"

static const gchar *golden_files[] = {
    "pkg1-client-init.xml",
    "pkg2-server-chal.xml",
    "pkg2-server-commands.xml",
    "pkg3-generic-alert.xml",
};

static gchar *
load_data(const gchar *name, gsize *len)
{
	g_autofree gchar *path = g_test_build_filename(G_TEST_DIST, "data", "wire", name, NULL);
	g_autoptr(GError) error = NULL;
	gchar *data = NULL;

	g_file_get_contents(path, &data, len, &error);
	g_assert_no_error(error);
	return data;
}

/* ---- normalisation ---- */

static gboolean
is_blank(const gchar *s)
{
	for (; *s != '\0'; s++) {
		if (!g_ascii_isspace(*s))
			return FALSE;
	}
	return TRUE;
}

static void
canon_nodes(xmlNode *node, GString *out)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (xmlNode *n = node; n != NULL; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content != NULL)
				g_string_append(text, (const gchar *)n->content);
			continue;
		}
		if (text->len > 0 && !is_blank(text->str))
			g_string_append_printf(out, "\"%s\"", text->str);
		g_string_truncate(text, 0);
		if (n->type != XML_ELEMENT_NODE)
			continue;
		g_string_append_printf(out,
		                       "<{%s}%s",
		                       n->ns != NULL ? (const gchar *)n->ns->href : "",
		                       (const gchar *)n->name);
		for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
			xmlChar *v = xmlNodeGetContent((xmlNode *)a);
			g_string_append_printf(out, " %s=\"%s\"", a->name, (const gchar *)v);
			xmlFree(v);
		}
		g_string_append_c(out, '>');
		canon_nodes(n->children, out);
		g_string_append(out, "</>");
	}
	if (text->len > 0 && !is_blank(text->str))
		g_string_append_printf(out, "\"%s\"", text->str);
}

static gchar *
canon_xml(const gchar *xml, gsize len)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET);
	GString *out = g_string_new(NULL);

	g_assert_nonnull(doc);
	canon_nodes(xmlDocGetRootElement(doc), out);
	xmlFreeDoc(doc);
	return g_string_free(out, FALSE);
}

/* ---- oracle programs ---- */

static gboolean
have_oracle(void)
{
	g_autofree gchar *a = g_find_program_in_path("xml2wbxml");
	g_autofree gchar *b = g_find_program_in_path("wbxml2xml");
	if (a == NULL || b == NULL) {
		g_test_skip("xml2wbxml/wbxml2xml (libwbxml2-utils) not installed");
		return FALSE;
	}
	return TRUE;
}

static void
run_tool(const gchar *const *argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	gint status = 0;

	g_spawn_sync(NULL,
	             (gchar **)argv,
	             NULL,
	             G_SPAWN_SEARCH_PATH,
	             NULL,
	             NULL,
	             &out,
	             &err,
	             &status,
	             &error);
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL))
		g_printerr("%s failed: %s %s\n", argv[0], out, err);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
}

static gchar *
make_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("gw-test-wbxml-XXXXXX", &error);
	g_assert_no_error(error);
	return dir;
}

static void
rm_tmpdir(const gchar *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const gchar *name;
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree gchar *p = g_build_filename(dir, name, NULL);
		g_unlink(p);
	}
	g_rmdir(dir);
}

static void
assert_syncml12_header(GBytes *wbxml)
{
	gsize len = 0;
	const guint8 *d = g_bytes_get_data(wbxml, &len);
	/* WBXML 1.2, public id 0x1201 as mb_u_int32 (a4 01), charset UTF-8 (6a) */
	g_assert_cmpuint(len, >, 4);
	g_assert_cmpuint(d[0], ==, 0x02);
	g_assert_cmpuint(d[1], ==, 0xa4);
	g_assert_cmpuint(d[2], ==, 0x01);
	g_assert_cmpuint(d[3], ==, 0x6a);
}

/* (a) our encoder, decoded by wbxml2xml, gives back the original content */
static void
test_wbxml_encode_vs_oracle(void)
{
	g_autofree gchar *dir = NULL;

	if (!have_oracle())
		return;
	dir = make_tmpdir();
	for (guint i = 0; i < G_N_ELEMENTS(golden_files); i++) {
		gsize len = 0;
		g_autofree gchar *xml = load_data(golden_files[i], &len);
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(xml, len, &error);
		g_autofree gchar *in = g_build_filename(dir, "ours.wbxml", NULL);
		g_autofree gchar *out = g_build_filename(dir, "oracle.xml", NULL);
		g_autofree gchar *back = NULL;
		gsize back_len = 0;
		g_autofree gchar *c1 = NULL;
		g_autofree gchar *c2 = NULL;
		const gchar *argv[] = {"wbxml2xml", "-m", "0", "-o", out, in, NULL};

		g_assert_no_error(error);
		g_assert_nonnull(wbxml);
		assert_syncml12_header(wbxml);
		g_file_set_contents(
		    in, g_bytes_get_data(wbxml, NULL), (gssize)g_bytes_get_size(wbxml), &error);
		g_assert_no_error(error);
		run_tool(argv);
		g_file_get_contents(out, &back, &back_len, &error);
		g_assert_no_error(error);
		c1 = canon_xml(xml, len);
		c2 = canon_xml(back, back_len);
		g_assert_cmpstr(c1, ==, c2);
		g_test_message("%s: XML %" G_GSIZE_FORMAT " B -> WBXML %" G_GSIZE_FORMAT " B",
		               golden_files[i],
		               len,
		               g_bytes_get_size(wbxml));
	}
	rm_tmpdir(dir);
}

/* (b) a file produced by `xml2wbxml -v 1.2` is decoded by us to the same content, and our
 * encoder produces the very same bytes */
static void
test_wbxml_decode_vs_oracle(void)
{
	g_autofree gchar *dir = NULL;

	if (!have_oracle())
		return;
	dir = make_tmpdir();
	for (guint i = 0; i < G_N_ELEMENTS(golden_files); i++) {
		gsize len = 0;
		g_autofree gchar *xml = load_data(golden_files[i], &len);
		g_autofree gchar *in = g_build_filename(dir, "in.xml", NULL);
		g_autofree gchar *out = g_build_filename(dir, "oracle.wbxml", NULL);
		g_autofree gchar *wbxml = NULL;
		gsize wbxml_len = 0;
		g_autofree gchar *back = NULL;
		gsize back_len = 0;
		g_autofree gchar *c1 = NULL;
		g_autofree gchar *c2 = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) ours = NULL;
		const gchar *argv[] = {"xml2wbxml", "-v", "1.2", "-o", out, in, NULL};

		g_file_set_contents(in, xml, (gssize)len, &error);
		g_assert_no_error(error);
		run_tool(argv);
		g_file_get_contents(out, &wbxml, &wbxml_len, &error);
		g_assert_no_error(error);

		back = gw_wbxml_to_xml((const guint8 *)wbxml, wbxml_len, &back_len, &error);
		g_assert_no_error(error);
		g_assert_nonnull(back);
		g_assert_cmpuint(strlen(back), ==, back_len);
		c1 = canon_xml(xml, len);
		c2 = canon_xml(back, back_len);
		g_assert_cmpstr(c1, ==, c2);

		ours = gw_wbxml_from_xml(xml, len, &error);
		g_assert_no_error(error);
		g_assert_cmpmem(
		    g_bytes_get_data(ours, NULL), g_bytes_get_size(ours), wbxml, wbxml_len);
	}
	rm_tmpdir(dir);
}

/* the committed fixture was made with `xml2wbxml -v 1.2` (no tool needed at test time) */
static void
test_wbxml_decode_fixture(void)
{
	gsize xml_len = 0;
	gsize wbxml_len = 0;
	g_autofree gchar *xml = load_data("pkg2-server-commands.xml", &xml_len);
	g_autofree gchar *wbxml = load_data("pkg2-server-commands.wbxml", &wbxml_len);
	g_autoptr(GError) error = NULL;
	gsize back_len = 0;
	g_autofree gchar *back =
	    gw_wbxml_to_xml((const guint8 *)wbxml, wbxml_len, &back_len, &error);
	g_autofree gchar *c1 = NULL;
	g_autofree gchar *c2 = NULL;

	g_assert_no_error(error);
	c1 = canon_xml(xml, xml_len);
	c2 = canon_xml(back, back_len);
	g_assert_cmpstr(c1, ==, c2);
	/* the text with markup characters and spaces survives exactly */
	g_assert_nonnull(strstr(c2, "\"  lamp & fan <hall> \"é\"  \""));
}

/* (c) round trip through our two functions; output shape documented in gw-wbxml.h */
static void
test_wbxml_roundtrip(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(golden_files); i++) {
		gsize len = 0;
		g_autofree gchar *xml = load_data(golden_files[i], &len);
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(xml, len, &error);
		g_autoptr(GBytes) wbxml2 = NULL;
		g_autofree gchar *back = NULL;
		g_autofree gchar *c1 = NULL;
		g_autofree gchar *c2 = NULL;
		gsize back_len = 0;

		g_assert_no_error(error);
		back = gw_wbxml_to_xml(
		    g_bytes_get_data(wbxml, NULL), g_bytes_get_size(wbxml), &back_len, &error);
		g_assert_no_error(error);
		g_assert_true(g_str_has_prefix(back, "<?xml version=\"1.0\"?><SyncML"));
		g_assert_null(strstr(back, "<!DOCTYPE"));
		g_assert_null(strstr(back, "\n"));
		c1 = canon_xml(xml, len);
		c2 = canon_xml(back, back_len);
		g_assert_cmpstr(c1, ==, c2);
		g_assert_nonnull(strstr(c2, "<{syncml:metinf}Format>"));

		/* stable: encoding the decoded text gives the same bytes */
		wbxml2 = gw_wbxml_from_xml(back, back_len, &error);
		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(wbxml, wbxml2));
		g_test_message("%s: XML %" G_GSIZE_FORMAT " B -> WBXML %" G_GSIZE_FORMAT
		               " B -> XML %" G_GSIZE_FORMAT " B",
		               golden_files[i],
		               len,
		               g_bytes_get_size(wbxml),
		               back_len);
	}
}

/* a SyncML root is always encoded as SyncML 1.2, whatever its xmlns says */
static void
test_wbxml_forces_syncml12(void)
{
	const gchar *docs[] = {
	    "<SyncML xmlns=\"SYNCML:SYNCML1.1\"><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr></SyncML>",
	    "<SyncML><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr><SyncBody><Final/></SyncBody></SyncML>",
	    "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<SyncML "
	    "xmlns=\"SYNCML:SYNCML1.2\"><SyncBody/></SyncML>",
	    "<?xml version=\"1.0\"?><!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" "
	    "\"http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd\">"
	    "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncBody/></SyncML>",
	};
	for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(docs[i], strlen(docs[i]), &error);
		g_assert_no_error(error);
		assert_syncml12_header(wbxml);
	}
}

/* a TNDS document keeps its own language (DM DDF 1.2) */
static void
test_wbxml_tnds(void)
{
	const gchar *xml = "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node>"
	                   "<NodeName>A</NodeName><Value>x</Value></Node></MgmtTree>";
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(xml, strlen(xml), &error);
	g_autofree gchar *back = NULL;
	g_autofree gchar *c1 = NULL;
	g_autofree gchar *c2 = NULL;
	gsize back_len = 0;

	g_assert_no_error(error);
	back = gw_wbxml_to_xml(
	    g_bytes_get_data(wbxml, NULL), g_bytes_get_size(wbxml), &back_len, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(back, "<?xml version=\"1.0\"?><MgmtTree"));
	c1 = canon_xml(xml, strlen(xml));
	c2 = canon_xml(back, back_len);
	g_assert_cmpstr(c1, ==, c2);
}

/* public id 0x01 (unknown) is decoded as SyncML 1.2 */
static void
test_wbxml_anonymous(void)
{
	gsize len = 0;
	g_autofree gchar *xml = load_data("pkg3-generic-alert.xml", &len);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(xml, len, &error);
	gsize wlen = 0;
	const guint8 *w = g_bytes_get_data(wbxml, &wlen);
	g_autoptr(GByteArray) anon = g_byte_array_new();
	g_autofree gchar *back = NULL;
	g_autofree gchar *c1 = NULL;
	g_autofree gchar *c2 = NULL;
	gsize back_len = 0;
	const guint8 head[] = {0x02, 0x01};

	g_assert_no_error(error);
	/* replace the 2-byte public id a4 01 by 01 */
	g_byte_array_append(anon, head, sizeof(head));
	g_byte_array_append(anon, w + 3, (guint)(wlen - 3));
	back = gw_wbxml_to_xml(anon->data, anon->len, &back_len, &error);
	g_assert_no_error(error);
	c1 = canon_xml(xml, len);
	c2 = canon_xml(back, back_len);
	g_assert_cmpstr(c1, ==, c2);
}

static void
assert_wbxml_rejected(const guint8 *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	gsize out_len = 42;
	g_autofree gchar *xml = gw_wbxml_to_xml(data, len, &out_len, &error);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_null(xml);
	g_assert_cmpuint(out_len, ==, 0);
}

static void
assert_xml_rejected(const gchar *xml, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(xml, len, &error);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_null(wbxml);
}

/* (d) garbage, truncation, huge input */
static void
test_wbxml_garbage(void)
{
	gsize len = 0;
	g_autofree gchar *xml = load_data("pkg2-server-commands.xml", &len);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(xml, len, &error);
	gsize wlen = 0;
	const guint8 *w = g_bytes_get_data(wbxml, &wlen);
	g_autofree guint8 *huge = NULL;
	g_autofree guint8 *copy = NULL;
	const guint8 junk1[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const guint8 junk2[] = {0x02, 0xa4, 0x01, 0x6a, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f};
	const guint8 junk3[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x03, 'a', 0x01};
	guint failed = 0;
	GRand *rand;

	g_assert_no_error(error);
	assert_wbxml_rejected(NULL, 0);
	assert_wbxml_rejected(w, 1);
	assert_wbxml_rejected(junk1, sizeof(junk1));
	assert_wbxml_rejected(junk2, sizeof(junk2));
	assert_wbxml_rejected(junk3, sizeof(junk3));
	assert_wbxml_rejected(w, wlen / 2);
	assert_wbxml_rejected(w, wlen - 2);

	/* every truncation either fails cleanly or gives well-formed XML */
	for (gsize cut = 0; cut < wlen; cut++) {
		g_autoptr(GError) e = NULL;
		g_autofree gchar *out = gw_wbxml_to_xml(w, cut, NULL, &e);
		if (out == NULL) {
			g_assert_error(e, GW_ERROR, GW_ERROR_PROTOCOL);
			failed++;
		}
	}
	g_test_message("%u of %" G_GSIZE_FORMAT " truncations rejected", failed, wlen);
	g_assert_cmpuint(failed, >, wlen * 9 / 10);

	/* random single-byte corruption: no crash, error or result, never both */
	copy = g_memdup2(w, wlen);
	rand = g_rand_new_with_seed(0x5eed);
	for (guint i = 0; i < 500; i++) {
		g_autoptr(GError) e = NULL;
		g_autofree gchar *out = NULL;
		gsize pos = (gsize)g_rand_int_range(rand, 0, (gint32)wlen);
		guint8 saved = copy[pos];
		copy[pos] = (guint8)g_rand_int_range(rand, 0, 256);
		out = gw_wbxml_to_xml(copy, wlen, NULL, &e);
		g_assert_true((out == NULL) != (e == NULL));
		if (e != NULL)
			g_assert_error(e, GW_ERROR, GW_ERROR_PROTOCOL);
		copy[pos] = saved;
	}
	g_rand_free(rand);

	/* huge: refused by size before parsing */
	huge = g_malloc0(GW_WBXML_MAX_INPUT + 1);
	memcpy(huge, w, wlen);
	assert_wbxml_rejected(huge, GW_WBXML_MAX_INPUT + 1);
	memset(huge, ' ', GW_WBXML_MAX_INPUT + 1);
	memcpy(huge, xml, len);
	assert_xml_rejected((const gchar *)huge, GW_WBXML_MAX_INPUT + 1);

	/* XML side */
	assert_xml_rejected("", 0);
	assert_xml_rejected("not xml at all", 14);
	assert_xml_rejected("<SyncML><SyncHdr>", 17);
	assert_xml_rejected("<foo/>", 6);
	assert_xml_rejected("<SyncML>\0</SyncML>", 18);
	assert_xml_rejected("<?xml version=\"1.0\"", 19);
	{
		const gchar *laughs =
		    "<?xml version=\"1.0\"?><!DOCTYPE SyncML [<!ENTITY a \"aaaaaaaaaa\">"
		    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><SyncML><SyncHdr><VerDTD>&b;"
		    "</VerDTD></SyncHdr></SyncML>";
		assert_xml_rejected(laughs, strlen(laughs));
	}
}

static GByteArray *
nested_wbxml(guint levels)
{
	/* WBXML 1.2, SyncML 1.2, UTF-8, no string table, <SyncML> then <SyncBody> x levels */
	const guint8 head[] = {0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d};
	const guint8 open = 0x6b;
	const guint8 end = 0x01;
	GByteArray *a = g_byte_array_new();

	g_byte_array_append(a, head, sizeof(head));
	for (guint i = 0; i < levels; i++)
		g_byte_array_append(a, &open, 1);
	for (guint i = 0; i <= levels; i++)
		g_byte_array_append(a, &end, 1);
	return a;
}

/* inputs that crash libwbxml2 itself (assert, stack overflow) are refused before it runs */
static void
test_wbxml_hostile(void)
{
	/* found by fuzzing: ENTITY with a code >= 0x80000000 aborts libwbxml2 */
	const guint8 crash[] = {0x01,
	                        0x02,
	                        0x6a,
	                        0x01,
	                        0x6a,
	                        0x00,
	                        0x00,
	                        0x9f,
	                        0x01,
	                        0x02,
	                        0xff,
	                        0xff,
	                        0xff,
	                        0xff,
	                        0x11};
	/* <SyncML><SyncBody><Data>ENTITY(code)</Data></SyncBody></SyncML> */
	const guint8 big_entity[] = {0x02,
	                             0xa4,
	                             0x01,
	                             0x6a,
	                             0x00,
	                             0x6d,
	                             0x6b,
	                             0x4f,
	                             0x02,
	                             0x88,
	                             0x80,
	                             0x80,
	                             0x80,
	                             0x00,
	                             0x01,
	                             0x01,
	                             0x01};
	const guint8 ok_entity[] = {0x02,
	                            0xa4,
	                            0x01,
	                            0x6a,
	                            0x00,
	                            0x6d,
	                            0x6b,
	                            0x4f,
	                            0x02,
	                            0x81,
	                            0x24,
	                            0x01,
	                            0x01,
	                            0x01}; /* U+00A4 */
	const guint8 latin1[] = {
	    0x02, 0xa4, 0x01, 0x04, 0x00, 0x6d, 0x6b, 0x4f, 0x03, 'a', 0x00, 0x01, 0x01, 0x01};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *xml = NULL;
	g_autoptr(GByteArray) deep_ok = nested_wbxml(200);
	g_autoptr(GByteArray) deep_bad = nested_wbxml(300);
	g_autoptr(GByteArray) embedded = g_byte_array_new();
	g_autoptr(GString) deep_xml = g_string_new("<SyncML xmlns=\"SYNCML:SYNCML1.2\">");

	assert_wbxml_rejected(crash, sizeof(crash));
	assert_wbxml_rejected(big_entity, sizeof(big_entity));
	assert_wbxml_rejected(latin1, sizeof(latin1));
	xml = gw_wbxml_to_xml(ok_entity, sizeof(ok_entity), NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(xml, "<Data>\xc2\xa4</Data>"));
	g_clear_pointer(&xml, g_free);

	/* depth: 1 + 200 levels decode, 1 + 300 are refused (libwbxml2 overflows its stack
	 * somewhere above 20,000) */
	xml = gw_wbxml_to_xml(deep_ok->data, deep_ok->len, NULL, &error);
	g_assert_no_error(error);
	assert_wbxml_rejected(deep_bad->data, deep_bad->len);

	/* the same deep document hidden in opaque <Data> (libwbxml2 parses embedded DevInf/TNDS) */
	{
		const guint8 head[] = {0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x6b, 0x4f, 0xc3};
		const guint8 tail[] = {0x01, 0x01, 0x01};
		guint8 mb[2] = {(guint8)(0x80 | (deep_bad->len >> 7)),
		                (guint8)(deep_bad->len & 0x7f)};
		g_assert_cmpuint(deep_bad->len, <, 0x4000);
		g_byte_array_append(embedded, head, sizeof(head));
		g_byte_array_append(embedded, mb, sizeof(mb));
		g_byte_array_append(embedded, deep_bad->data, deep_bad->len);
		g_byte_array_append(embedded, tail, sizeof(tail));
		assert_wbxml_rejected(embedded->data, embedded->len);
	}

	/* XML side: libwbxml2's encoder recurses per level too */
	for (guint i = 0; i < 300; i++)
		g_string_append(deep_xml, "<Item>");
	for (guint i = 0; i < 300; i++)
		g_string_append(deep_xml, "</Item>");
	g_string_append(deep_xml, "</SyncML>");
	assert_xml_rejected(deep_xml->str, deep_xml->len);
}

/* opaque data that XML cannot carry is refused instead of producing broken XML */
static void
test_wbxml_unrepresentable_opaque(void)
{
	const gchar *xml = "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncBody><Replace><CmdID>1</CmdID>"
	                   "<Item><Data>x]]&gt;y</Data></Item></Replace></SyncBody></SyncML>";
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wbxml = gw_wbxml_from_xml(xml, strlen(xml), &error);
	gsize wlen = 0;
	const guint8 *w;
	g_autofree guint8 *copy = NULL;
	guint8 *p;

	g_assert_no_error(error);
	w = g_bytes_get_data(wbxml, &wlen);
	assert_wbxml_rejected(w, wlen);

	/* the same opaque payload with a non-UTF-8 byte instead of ']]>' */
	copy = g_memdup2(w, wlen);
	p = memchr(copy, ']', wlen);
	g_assert_nonnull(p);
	p[0] = 0xff;
	p[1] = 0xfe;
	p[2] = 'z';
	assert_wbxml_rejected(copy, wlen);
}

static void
test_wbxml_content_type(void)
{
	g_assert_true(gw_wbxml_is_wbxml_content_type("application/vnd.syncml.dm+wbxml"));
	g_assert_true(gw_wbxml_is_wbxml_content_type("Application/VND.SyncML.DM+WBXML"));
	g_assert_true(gw_wbxml_is_wbxml_content_type(" application/vnd.syncml.dm+wbxml ; x=y"));
	g_assert_false(gw_wbxml_is_wbxml_content_type(GW_SYNCML_DM_XML_TYPE));
	g_assert_false(gw_wbxml_is_wbxml_content_type("application/vnd.syncml.dm+wbxmlx"));
	g_assert_false(gw_wbxml_is_wbxml_content_type(""));
	g_assert_false(gw_wbxml_is_wbxml_content_type(NULL));
	g_assert_cmpstr(GW_SYNCML_DM_XML_TYPE, ==, "application/vnd.syncml.dm+xml");
	g_assert_cmpstr(GW_SYNCML_DM_WBXML_TYPE, ==, "application/vnd.syncml.dm+wbxml");
}

/* sizes and timings, for the record (no thresholds: CI machines vary) */
static void
test_wbxml_timing(void)
{
	const guint rounds = 200;
	gsize len = 0;
	g_autofree gchar *xml = load_data("pkg2-server-commands.xml", &len);
	g_autoptr(GBytes) wbxml = NULL;
	gdouble enc;
	gdouble dec;

	g_test_timer_start();
	for (guint i = 0; i < rounds; i++) {
		g_autoptr(GBytes) b = gw_wbxml_from_xml(xml, len, NULL);
		g_assert_nonnull(b);
		if (i == 0)
			wbxml = g_bytes_ref(b);
	}
	enc = g_test_timer_elapsed() / rounds;
	g_test_timer_start();
	for (guint i = 0; i < rounds; i++) {
		g_autofree gchar *x = gw_wbxml_to_xml(
		    g_bytes_get_data(wbxml, NULL), g_bytes_get_size(wbxml), NULL, NULL);
		g_assert_nonnull(x);
	}
	dec = g_test_timer_elapsed() / rounds;
	g_test_message("XML %" G_GSIZE_FORMAT " B -> WBXML %" G_GSIZE_FORMAT
	               " B: encode %.1f us, decode (incl. libxml2 check) %.1f us",
	               len,
	               g_bytes_get_size(wbxml),
	               enc * 1e6,
	               dec * 1e6);
}

/* the encoding of a DM message: its Content-Type when given, else its first bytes */
static void
test_wbxml_message_is_wbxml(void)
{
	static const guint8 wbxml[] = {0x02, 0xa4, 0x01, 0x6a, 0x00};
	static const guint8 xml[] = " \r\n<SyncML/>";
	static const guint8 bom[] = "\xef\xbb\xbf<SyncML/>";

	g_assert_true(gw_wbxml_message_is_wbxml(NULL, wbxml, sizeof(wbxml)));
	g_assert_false(gw_wbxml_message_is_wbxml(NULL, xml, sizeof(xml) - 1));
	g_assert_false(gw_wbxml_message_is_wbxml(NULL, bom, sizeof(bom) - 1));
	g_assert_false(gw_wbxml_message_is_wbxml(NULL, xml, 0));
	/* a Content-Type decides, whatever the bytes */
	g_assert_true(gw_wbxml_message_is_wbxml(
	    "application/vnd.syncml.dm+wbxml; charset=utf-8", xml, sizeof(xml) - 1));
	g_assert_false(
	    gw_wbxml_message_is_wbxml("application/vnd.syncml.dm+xml", wbxml, sizeof(wbxml)));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/wbxml/encode-vs-oracle", test_wbxml_encode_vs_oracle);
	g_test_add_func("/gw/wbxml/decode-vs-oracle", test_wbxml_decode_vs_oracle);
	g_test_add_func("/gw/wbxml/decode-fixture", test_wbxml_decode_fixture);
	g_test_add_func("/gw/wbxml/roundtrip", test_wbxml_roundtrip);
	g_test_add_func("/gw/wbxml/message-is-wbxml", test_wbxml_message_is_wbxml);
	g_test_add_func("/gw/wbxml/forces-syncml12", test_wbxml_forces_syncml12);
	g_test_add_func("/gw/wbxml/tnds", test_wbxml_tnds);
	g_test_add_func("/gw/wbxml/anonymous", test_wbxml_anonymous);
	g_test_add_func("/gw/wbxml/garbage", test_wbxml_garbage);
	g_test_add_func("/gw/wbxml/hostile", test_wbxml_hostile);
	g_test_add_func("/gw/wbxml/unrepresentable-opaque", test_wbxml_unrepresentable_opaque);
	g_test_add_func("/gw/wbxml/content-type", test_wbxml_content_type);
	g_test_add_func("/gw/wbxml/timing", test_wbxml_timing);
	return g_test_run();
}
