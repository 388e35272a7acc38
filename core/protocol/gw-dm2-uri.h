/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-tree.h"
#include "gw-dm2.h"
#include "gw-error.h"

G_BEGIN_DECLS

/*
 * DM 2.0 ClientURI addressing (../shared/spec/OMA-DM.md §1.3; DM 2.0 TS §5.2–5.3 in the public
 * transcription):
 *
 *   ClientURI = MOID "/" mo-inst "/" path-from-moroot [ "?" query ]
 *   mo-inst   = MIID | x-name | "" (the only instance of MOID) | "*" (every instance)
 *   path      = segment *( "/" segment ), each a node name, an x-name or "*"; may be empty
 *               (the instance root); one trailing "/" is allowed
 *   x-name    = "(" ALPHA ")", unique within one ClientURI, resolved by its nv fields
 *   query     = field *( "&" field ), field = "nv=" x-name [ "/" relative-path ] ":" value
 *               (the leaf at relative-path below the x-named node holds value; several nv
 *               of one x-name must all hold) | "cv=" cache-validator (at most one)
 *
 * Node names, relative paths and values are percent-decoded (RFC 3986). The nv value starts
 * after the first ":" following the x-name (node names with ":" cannot be nv paths; values may
 * hold ":").
 *
 * How the gateway's tree maps to it: an MO instance is an interior node whose DDFName (the
 * type of an interior node, gw_dm_tree_set_mime_type()) is the MOID, e.g. ./DevInfo
 * (urn:oma:mo:oma-dm-devinfo:1.0) or ./GwMO/Inventory (urn:oma:mo:oma-gwmo-deviceinventory:1.0).
 * MIID (our choice): the node name of the instance root ("DevInfo", "Inventory"). Instances
 * may nest (an instance below another one is found too). Two instances of one MOID with the
 * same node name would share a MIID: addressing that MIID is refused as ambiguous, and
 * gw_dm2_tree_list_instances() lists it once.
 */

/* longest ClientURI accepted (bytes) */
#define GW_DM2_CLIENT_URI_MAX_LEN 4096

typedef enum {
	GW_DM2_SEGMENT_NAME,     /* a node name (MIID for the instance part) */
	GW_DM2_SEGMENT_XNAME,    /* "(x)": name holds "x" */
	GW_DM2_SEGMENT_WILDCARD, /* "*" */
	GW_DM2_SEGMENT_EMPTY,    /* "": the instance part only */
} GwDm2SegmentKind;

typedef struct {
	GwDm2SegmentKind kind;
	gchar *name; /* decoded node name, the x-name letter, NULL for the others */
} GwDm2Segment;

typedef struct {
	gchar *xname; /* the letter */
	gchar **path; /* relative path below the x-named node (decoded names), may be empty */
	gchar *value; /* decoded */
} GwDm2NvFilter;

typedef struct {
	gchar *moid;
	GwDm2Segment instance;
	GPtrArray *path; /* GwDm2Segment *, never NULL */
	GPtrArray *nv;   /* GwDm2NvFilter *, never NULL */
	gchar *cv;       /* cache validator, nullable */
} GwDm2ClientUri;

/* GW_ERROR_INVALID_URI naming what is wrong and where (byte offset) */
G_GNUC_WARN_UNUSED_RESULT GwDm2ClientUri *
gw_dm2_client_uri_parse(const gchar *text, GError **error);
void
gw_dm2_client_uri_free(GwDm2ClientUri *uri);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2ClientUri, gw_dm2_client_uri_free)

/*
 * The DM tree URIs ("./DevInfo/DevId") @uri addresses in @tree, in tree order. No ACL is
 * checked (the engine runs each command on each URI through the tree, which checks them).
 * Errors: GW_ERROR_NOT_FOUND (no instance of the MOID, no such MIID, or nothing matches),
 * GW_ERROR_INVALID_URI (an empty mo-inst while the MOID has several instances, an ambiguous
 * MIID). The walk is linear in the tree's size (instances are found by their DDFName).
 */
G_GNUC_WARN_UNUSED_RESULT GPtrArray *
gw_dm2_client_uri_resolve(const GwDm2ClientUri *uri, GwDmTree *tree, GError **error);

/* one MO instance of the tree */
typedef struct {
	gchar *moid;
	gchar *miid;
	gchar *uri; /* of the instance root, "./DevInfo" */
} GwDm2MoInstance;

void
gw_dm2_mo_instance_free(GwDm2MoInstance *instance);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2MoInstance, gw_dm2_mo_instance_free)

/* every MO instance of @tree (of @moid only, when not NULL), in tree order; a MIID two
 * instances of one MOID share is listed once (the first). For Package #1's MOS. */
GPtrArray *
gw_dm2_tree_list_instances(GwDmTree *tree, const gchar *moid);

/* the MOS list of a Package #1 for @tree: one GwDm2Mo per MOID (in the order of its first
 * instance) with every MIID of it, DDF unset (the caller knows the DDF URLs it publishes) */
GPtrArray *
gw_dm2_tree_list_mos(GwDmTree *tree);

/*
 * The ClientURI "MOID/MIID/path" of the tree node @tree_uri ("./DevInfo/DevId" →
 * "urn:oma:mo:oma-dm-devinfo:1.0/DevInfo/DevId"), through its nearest enclosing MO instance;
 * names percent-encoded where needed. GW_ERROR_NOT_FOUND when no MO instance encloses it.
 * For the URIs a Status reports (HGET).
 */
gchar *
gw_dm2_client_uri_from_tree_uri(GwDmTree *tree, const gchar *tree_uri, GError **error);

G_END_DECLS
