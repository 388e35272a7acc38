/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * What XML (and WBXML) from outside may contain, in one place, and the linear pre-scan that
 * enforces it before libxml2 or libwbxml2 see a byte.
 *
 * Why a pre-scan: libxml2 checks a start tag's attributes for duplicates pairwise before any
 * SAX callback runs (one 1 MB element with 100,000 attributes took 117 s), and libwbxml2 walks
 * a list by index for every attribute and every child of an element (100,000 sibling elements
 * in 100 KB of WBXML took 39 s). Element counts and depth were already checked while parsing,
 * which is too late for the first and does not reach the second. The scan looks at each byte
 * once (quotes, comments, CDATA, processing instructions and DOCTYPE aware), stops at the first
 * bound passed, and refuses what is not well formed at the level it reads (a start tag that is
 * not Name, then Name="…" pairs); it never refuses a well-formed document within the bounds.
 *
 * The values, and why each is enough for real SyncML DM and TNDS:
 */

/* ---- SyncML DM messages (XML; WBXML once decoded) ---- */

/* one message: MaxMsgSize as announced by the gateway; larger objects come as large objects */
#ifndef GW_SYNCML_MAX_MESSAGE_SIZE
#define GW_SYNCML_MAX_MESSAGE_SIZE (4 * 1024 * 1024) /* bytes */
#endif
/* Atomic/Sequence inside each other: real servers nest one level, the DTD allows any */
#ifndef GW_SYNCML_MAX_NESTING
#define GW_SYNCML_MAX_NESTING 32
#endif
/* element depth: SyncML/SyncBody, 32 Atomic/Sequence levels, a command, Item/Meta/Type is
 * under 40 levels; the rest is room for XML nested in a Data element (DevInf, TNDS) */
#ifndef GW_SYNCML_MAX_XML_DEPTH
#define GW_SYNCML_MAX_XML_DEPTH 128
#endif
/* elements per message: a command with one item is about 10 elements, so this is 10,000
 * commands in one message; servers send tens to hundreds (MaxMsgSize is a few KiB to 64 KiB) */
#ifndef GW_SYNCML_MAX_ELEMENTS
#define GW_SYNCML_MAX_ELEMENTS 100000
#endif
/* attributes (namespace declarations included) per element: SyncML uses at most xmlns on the
 * root and on MetInf elements; the rest is room for XML nested in Data. It bounds libxml2's
 * pairwise check: 4 MiB of 5-byte attributes in elements of 32 cost 27 million comparisons */
#ifndef GW_SYNCML_MAX_ATTRIBUTES
#define GW_SYNCML_MAX_ATTRIBUTES 32
#endif
/* namespace declarations in scope at any point (those of the open elements): libxml2 looks up
 * every element's and every prefixed attribute's namespace by walking that stack, so 127 nested
 * elements of 31 declarations each made a 4 MiB message cost 8 s (libxml2 2.9.14). SyncML has
 * two in scope at most (SyncML on the root, MetInf on a Meta child: a declaration per Meta, but
 * never nested), TNDS one; the rest is room for XML nested in Data. Per document would be
 * wrong: a message of 500 commands carries 500 MetInf declarations, each gone at its end tag */
#ifndef GW_SYNCML_MAX_NAMESPACES
#define GW_SYNCML_MAX_NAMESPACES 64
#endif
/* character data of one element (text and CDATA together) or one attribute value, counted as
 * parsed (a reference like "&lt;" is one character, so an escaped value counts what it holds,
 * and what the gateway serialises it parses back): the largest
 * object the gateway accepts is MaxObjSize (1 MiB, GW_DM_MAX_VALUE_SIZE); as base64 it is
 * 1.4 MiB. A larger Data could only be refused (413) */
#ifndef GW_SYNCML_MAX_TEXT
#define GW_SYNCML_MAX_TEXT (2 * 1024 * 1024) /* bytes */
#endif

/* ---- WBXML (the same message before decoding) ---- */

/* WBXML is smaller than the XML it decodes to: the same byte bound as XML */
#define GW_WBXML_MAX_INPUT (4u * 1024u * 1024u)
/* the strings of the decoded document (inline, string-table entries as often as they are
 * referenced, literal names, opaque data): the XML they make is held to
 * GW_SYNCML_MAX_MESSAGE_SIZE when it is parsed, so more could only be refused after libwbxml2
 * built it (a string-table entry referenced 20,000 times cost 242 MiB) */
#define GW_WBXML_MAX_DECODED ((gsize)GW_SYNCML_MAX_MESSAGE_SIZE)
/* libwbxml2 recurses once per level (a few hundred thousand overflow the stack); 256 is
 * libxml2's own default limit */
#define GW_WBXML_MAX_DEPTH 256
/* elements, embedded documents included: WBXML comes from constrained devices whose messages
 * are a few KiB (a few hundred elements); 20,000 is 2,000 commands */
#define GW_WBXML_MAX_ELEMENTS 20000
/* children (elements, strings, opaque data, entities) of one element: libwbxml2's cost is
 * quadratic in it (2,048 take about 10 ms; the 20,000 elements of a message at most 0.1 s).
 * A SyncBody of 2,048 commands is far beyond what a device sends in one message */
#define GW_WBXML_MAX_CHILDREN 2048

/* ---- TNDS documents from outside (bootstrap, D-Bus Bootstrap, a DM Add of a subtree) ---- */

/* the whole document; the gateway's own state file has no such bound (GW_TNDS_IMPORT_RESTORE) */
#define GW_TNDS_MAX_SIZE (16 * 1024 * 1024)
/* nested <Node> levels: DevDetail/URI/MaxDepth is 16 by default */
#define GW_TNDS_MAX_DEPTH 64
/* element depth: MgmtTree, 64 Node levels, RTProperties/Format/chr */
#define GW_TNDS_MAX_XML_DEPTH 128
/* elements: a real TNDS document spends about 32 bytes per element (the gateway's exports),
 * so 16 MiB of it is about 520,000 */
#define GW_TNDS_MAX_ELEMENTS 1000000
/* TNDS has no attributes but xmlns (and an xsi:schemaLocation now and then) */
#define GW_TNDS_MAX_ATTRIBUTES 16
/* namespace declarations in scope: MgmtTree's, and room (GW_SYNCML_MAX_NAMESPACES says why) */
#define GW_TNDS_MAX_NAMESPACES 64
/* one Value: the largest leaf value (GW_DM_MAX_VALUE_SIZE, 1 MiB) as base64 */
#define GW_TNDS_MAX_TEXT (2 * 1024 * 1024)

typedef enum {
	GW_XML_BOUND_NONE,
	GW_XML_BOUND_SIZE,
	GW_XML_BOUND_DEPTH,
	GW_XML_BOUND_ELEMENTS,
	GW_XML_BOUND_ATTRIBUTES,
	GW_XML_BOUND_TEXT,
	GW_XML_BOUND_CHILDREN,  /* WBXML only */
	GW_XML_BOUND_MALFORMED, /* not well-formed where the scan looked */
	GW_XML_BOUND_NAMESPACES,
} GwXmlBound;

typedef struct {
	const gchar *what; /* "SyncML message", for the error message */
	gsize max_size;
	guint max_depth;
	guint max_elements;
	guint max_attributes;
	gsize max_text;
	guint max_namespaces; /* declarations in scope */
} GwXmlBounds;

extern const GwXmlBounds gw_xml_bounds_syncml;
extern const GwXmlBounds gw_xml_bounds_wbxml_decoded;
extern const GwXmlBounds gw_xml_bounds_tnds;

/* what a scan saw (tests count the work with it) */
typedef struct {
	GwXmlBound bound; /* the one passed, GW_XML_BOUND_NONE when within all */
	guint elements;
	guint depth;      /* deepest */
	guint attributes; /* most on one element */
	gsize text;       /* longest character data of one element, or attribute value */
	guint namespaces; /* most declarations in scope */
	gsize scanned;    /* bytes looked at before it stopped */
} GwXmlScanStats;

/* a short name of @bound ("attributes per element", …) */
const gchar *
gw_xml_bound_to_string(GwXmlBound bound);

/*
 * Scans @xml once and checks it against @bounds. Returns FALSE with GW_ERROR_PROTOCOL
 * ("refused <what>: <why> (byte <n>)") at the first bound passed or the first byte that cannot
 * be well-formed XML. @stats (optional) says what was seen up to there. Pure and thread-safe.
 */
gboolean
gw_xml_bounds_check(const GwXmlBounds *bounds,
                    const gchar *xml,
                    gsize len,
                    GwXmlScanStats *stats,
                    GError **error);

G_END_DECLS
