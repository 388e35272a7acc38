/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "gw-xml-bounds.h"

G_BEGIN_DECLS

/*
 * SyncML DM XML <-> WBXML conversion through libwbxml2 (OMA-DM.md §1.2.8).
 *
 * Both directions reject input larger than GW_WBXML_MAX_INPUT with GW_ERROR_PROTOCOL; every
 * conversion failure (garbage, truncation, unknown tokens, unknown language) is reported as
 * GW_ERROR_PROTOCOL with libwbxml2's reason in the message.
 */

#define GW_SYNCML_DM_XML_TYPE "application/vnd.syncml.dm+xml"
#define GW_SYNCML_DM_WBXML_TYPE "application/vnd.syncml.dm+wbxml"

/* inputs above GW_WBXML_MAX_INPUT (bytes) are refused before any parsing; that and the other
 * bounds (GW_WBXML_MAX_*) are in gw-xml-bounds.h */

/*
 * XML -> WBXML 1.2, UTF-8 (charset 0x6a), string table on, ignorable whitespace dropped.
 *
 * A <SyncML> document without a DOCTYPE (the usual case) is encoded with the SyncML 1.2 public
 * id "-//SYNCML//DTD SyncML 1.2//EN" (0x1201): the SyncML 1.2 DOCTYPE is inserted before the
 * root element first (libwbxml2 would otherwise pick the language from the root's xmlns, e.g.
 * SyncML 1.1 for "SYNCML:SYNCML1.1"). An explicit DOCTYPE is respected. Other roots (e.g. a
 * TNDS <MgmtTree>, DM DDF 1.2) are left to libwbxml2's detection from the DOCTYPE or the root
 * element. A DOCTYPE with an internal subset ("[ ... ]", entity declarations) is refused;
 * the external DTD is never loaded (libwbxml2 parses with expat). The document is checked
 * with libxml2 first (well-formed, at most 256 levels deep: libwbxml2's encoder recurses per
 * level). Unknown elements inside SyncML are encoded as LITERAL tags, not refused.
 *
 * Returns: (transfer full): the WBXML bytes, or NULL with @error set.
 */
GBytes *
gw_wbxml_from_xml(const gchar *xml, gsize len, GError **error);

/*
 * WBXML -> compact XML (no indentation, no added whitespace), UTF-8, NUL-terminated.
 *
 * Untrusted input: before libwbxml2 runs, the token stream is walked with libwbxml2's own
 * grammar and refused (GW_ERROR_PROTOCOL) when it
 *  - nests elements deeper than 256 levels, embedded WBXML documents in <Data> included
 *    (libwbxml2 recurses per level and overflows the stack somewhere above 20,000);
 *  - carries a character ENTITY >= 0x80000000 (libwbxml2 0.11.8 assert()s and aborts);
 *  - declares a charset other than UTF-8/US-ASCII (or none), or a malformed header/body.
 * The language is chosen here, never by libwbxml2 from the public id: SyncML 1.1 (0x0FD3) and
 * 1.0 (0x0FD1) tokens and the textual SyncML 1.x / "-//OMA//DTD-DM-DDF 1.2//EN" (TNDS) ids are
 * honoured; every other public id, including the anonymous 0x01 some DM clients send, is
 * decoded as SyncML 1.2. (Embedded documents inside opaque data are still parsed by libwbxml2
 * with their own public id; they are only scanned for the two crash conditions above.)
 *
 * libwbxml2 always writes an XML prolog of the form
 *   <?xml version="1.0"?><!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "http://…dtd">
 * This function **removes that DOCTYPE** and returns "<?xml version=\"1.0\"?>" followed by the
 * root element, so consumers never see an external DTD reference (parse with
 * XML_PARSE_NONET anyway; never with DTDLOAD/NOENT). The namespaces (xmlns="SYNCML:SYNCML1.2",
 * xmlns="syncml:metinf" on MetInf elements) are kept on the elements.
 *
 * OPAQUE content (typically <Data>) is written by libwbxml2 as a CDATA section without any
 * escaping; opaque bytes that are not valid XML text (binary, not UTF-8, containing "]]>")
 * cannot be represented and are rejected with GW_ERROR_PROTOCOL. The result is checked with
 * libxml2 before it is returned, so a non-NULL result is always well-formed XML.
 *
 * @out_len: (out) (optional): length of the result without the terminating NUL.
 * Returns: (transfer full): the XML text (g_free), or NULL with @error set.
 */
gchar *
gw_wbxml_to_xml(const guint8 *data, gsize len, gsize *out_len, GError **error);

/* the SessionID and Source LocURI of the SyncHdr of a SyncML message in WBXML, read from its
 * tokens without libwbxml2: what a message that does not decode (cut short, malformed past its
 * header) still says of the session it was meant for. Inline, string-table and opaque strings
 * are taken; FALSE when either is not there. */
gboolean
gw_wbxml_peek_session(const guint8 *data, gsize len, gchar **session_id, gchar **source_uri);

/* TRUE for "application/vnd.syncml.dm+wbxml" (case-insensitive, parameters such as
 * "; charset=…" and surrounding spaces ignored); FALSE for anything else, including NULL */
gboolean
gw_wbxml_is_wbxml_content_type(const gchar *content_type);
/* how a DM message is encoded: @content_type when it names WBXML, else a guess from the bytes
 * (an XML message starts with "<" or a UTF-8 BOM after optional white space) */
gboolean
gw_wbxml_message_is_wbxml(const gchar *content_type, const guint8 *data, gsize len);

G_END_DECLS
