/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-tree.h"

G_BEGIN_DECLS

#define GW_TNDS_MIME_TYPE "application/vnd.syncml.dmtnds+xml"

/*
 * OMA DM Tree and Description Serialization (TNDS), namespace "syncml:dmddf1.2":
 *   <MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>…</NodeName>
 *     <Path>…</Path>? <RTProperties><ACL/>?<Format><chr/></Format><Title/>?<Type><MIME/> or
 *     <DDFName/></Type></RTProperties> <DFProperties><AccessType><Get/>…</AccessType>
 *     </DFProperties>? <Value>…</Value>? <Node>…</Node>* </Node></MgmtTree>
 * The exporter writes full RTProperties so a round trip is lossless; bin values are base64.
 */
typedef enum {
	GW_TNDS_EXPORT_NONE = 0,
	GW_TNDS_EXPORT_VALUES = 1 << 0,  /* leaf values */
	GW_TNDS_EXPORT_SECRETS = 1 << 1, /* values of leaves without Get access (persistence) */
	GW_TNDS_EXPORT_DF_PROPERTIES = 1 << 2, /* AccessType, Permanent (persistence) */
} GwTndsExportFlags;

/* exports @uri and everything below it. With @server_id non-NULL only nodes the server may
 * Get are written. The top <Node> carries <Path> = parent URI of @uri (absent for the root). */
gchar *
gw_tnds_export(GwDmTree *tree,
               const gchar *uri,
               const gchar *server_id,
               GwTndsExportFlags flags,
               GError **error);

typedef enum {
	GW_TNDS_IMPORT_NONE = 0,
	GW_TNDS_IMPORT_REPLACE = 1 << 0, /* existing leaves get the imported value (else 418) */
	/* (added) the document is the gateway's own persisted state (tree.state): values are
	 * checked with gw_dm_format_validate_stored() and the DDF's names and formats are not
	 * enforced, so a state an older gwmod wrote still loads (access types still are) */
	GW_TNDS_IMPORT_RESTORE = 1 << 1,
} GwTndsImportFlags;

/*
 * Imports a TNDS document below @parent_uri with the owner API (no ACL checks). A top-level
 * <Node> with <Path> goes under that path (relative paths are relative to @parent_uri).
 * Accepts documents in the wild: RTProperties/Format absent (a node with children or without
 * Value is interior, one with Value is a chr leaf), Type/DDFName, Type/MIME.
 * Parsing is bounded (size ≤ 16 MiB, depth ≤ 64, no network, no entity expansion, no DTD);
 * malformed input gives GW_ERROR_PROTOCOL and leaves the tree unchanged (all or nothing).
 *
 * Standard MOs (gw-dm-ddf.h; unless GW_TNDS_IMPORT_RESTORE): a node without <Format> takes the
 * format of its DDF node (AAuthData: bin, its Value base64); a node the DDF does not have
 * (GW_ERROR_NOT_ALLOWED), a format it does not give (GW_ERROR_NOT_SUPPORTED), or a changed
 * value of a node the DDF makes read only (./DevInfo/DevId: GW_ERROR_NOT_ALLOWED, as SetNode)
 * refuses the whole document. Access types the DDF does not allow are not given, with a log
 * line naming the node: no <AccessType>, or <Get/>, leaves AAuthSecret and AAuthData
 * unreadable all the same.
 */
gboolean
gw_tnds_import(GwDmTree *tree,
               const gchar *parent_uri,
               const gchar *xml,
               gsize len,
               GwTndsImportFlags flags,
               GError **error);

G_END_DECLS
