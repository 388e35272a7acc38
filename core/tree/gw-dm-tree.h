/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "gw-dm-acl.h"
#include "gw-dm-ddf.h"
#include "gw-dm-types.h"
#include "gw-dm-uri.h"

G_BEGIN_DECLS

#define GW_TYPE_DM_TREE (gw_dm_tree_get_type())
G_DECLARE_FINAL_TYPE(GwDmTree, gw_dm_tree, GW, DM_TREE, GObject)

/*
 * The DM tree.
 *
 * Two kinds of callers:
 *  - DM commands (gw_dm_tree_get/add/replace/delete/exec/copy) carry the ServerID of the DM
 *    Server (or End Device session) they come from and return a SyncML status. ACLs and DDF
 *    access types are enforced. @server_id NULL means the local owner (root over D-Bus, the
 *    factory bootstrap): ACLs are not checked, access types still are.
 *  - The owner API (gw_dm_tree_ensure_interior, gw_dm_tree_set_leaf, …) is for upper layers
 *    building their MOs; it checks nothing but URI syntax and formats.
 *
 * Standard definitions (gw-dm-ddf.h): a node below ./DMAcc, ./DevInfo or ./DevDetail, or one an
 * upper layer described with gw_dm_tree_add_ddf_node(), never has an access type its DDF does
 * not give it, whoever creates it or sets its properties (DM command, owner API, TNDS import,
 * journal): AAuthSecret, AAuthData and the device credentials are never readable, DevInfo and
 * DevDetail never writable. DM commands (so D-Bus SetNode too) and imported documents are also
 * refused a node the DDF does not have (405) or a format it does not give the node (415); the
 * owner API and restores (journal, state file) are not, so that a state an older gwmod wrote
 * still loads.
 *
 * A Get on an interior node returns one item whose data is the child names joined by "/"
 * (format node). Queries: "?list=Struct" (every node below, no data), "?list=StructData"
 * (every node, with leaf data), "?list=TNDS" (one item, format xml, type
 * application/vnd.syncml.dmtnds+xml, only nodes the server may Get; leaves without Get
 * access type are exported without value), "?prop=ACL|Format|Type|Title|Name|Size".
 * Replace with "?prop=ACL" / "?prop=Title" / "?prop=Name" changes that property; changing an
 * ACL needs Replace on the node for an interior node and on its parent for a leaf.
 *
 * Add needs Add on the parent's effective ACL and creates missing interior parents (each
 * needs Add on its own parent). Delete needs Delete on the node and removes the subtree;
 * permanent nodes give 405. Copy needs Get on the source and Add on the target's parent
 * (new target) or Replace on the target (existing leaf).
 *
 * The effective ACL of a node is its own ACL or, when empty, its parent's effective ACL.
 * The root's default ACL is "Add=*&Get=*".
 *
 * Status codes: 200, 400 (bad URI, bad query), 404 (no node), 405 (access type or permanent
 * node, or Exec without a handler, or a node the DDF of a standard MO does not have), 406
 * (unknown query/property), 413 (a value over GW_DM_MAX_VALUE_SIZE), 414 (URI beyond
 * DevDetail/URI limits), 415 (the value is not one of its format, see
 * gw_dm_format_validate_value(), or the format does not fit the node or its DDF), 418 (Add of
 * an existing node), 425 (ACL), 500 (handler failed), and whatever an Exec handler returns.
 *
 * Signals:
 *  "changed" (const gchar *uri, guint GwDmChange, const gchar *server_id or NULL) after
 *  every successful mutation, including owner API calls.
 */

/*
 * The largest leaf value (bytes) a DM command (Add, Replace: a DM Server's, or D-Bus SetNode)
 * may set; above it the command gets 413. The same as the MaxObjSize the DM sessions announce
 * and enforce (1 MiB), so every value in the tree can be read by a DM Server in one object.
 * The limit is checked when a value is set, never when the state is loaded again: the owner
 * API and the state loader take what they are given.
 */
#define GW_DM_MAX_VALUE_SIZE (1024 * 1024)

typedef enum {
	GW_DM_CHANGE_ADDED,
	GW_DM_CHANGE_REPLACED,
	GW_DM_CHANGE_DELETED,
	GW_DM_CHANGE_PROPERTIES,
} GwDmChange;

/* borrowed; valid until the next mutation of the tree */
typedef struct _GwDmNode GwDmNode;

GwDmTree *
gw_dm_tree_new(void);

/* DevInfo/DevDetail/DMAcc of the gateway (OMA DM standard objects) */
typedef struct {
	const gchar *dev_id;
	const gchar *man;
	const gchar *mod;
	const gchar *dmv;  /* "1.3" */
	const gchar *lang; /* "en-US" */
	const gchar *dev_typ;
	const gchar *oem;
	const gchar *fwv;
	const gchar *swv;
	const gchar *hwv;
	guint max_depth; /* DevDetail/URI limits, 0 = unlimited */
	guint max_tot_len;
	guint max_seg_len;
} GwDmDeviceInfo;

/* creates ./DevInfo (DevId, Man, Mod, DmV, Lang, Ext), ./DevDetail (URI/MaxDepth,
 * URI/MaxTotLen, URI/MaxSegLen, DevTyp, OEM, FwV, SwV, HwV, LrgObj) as Get-only permanent
 * nodes, and the empty permanent ./DMAcc; keeps values that exist already (restart). */
gboolean
gw_dm_tree_install_standard_objects(GwDmTree *self, const GwDmDeviceInfo *info, GError **error);

GwDmUriLimits
gw_dm_tree_get_uri_limits(GwDmTree *self);

/* ---- DM commands ---- */
/* @results: (out) (element-type GwDmItem) filled on success */
guint
gw_dm_tree_get(GwDmTree *self, const gchar *server_id, const gchar *uri, GPtrArray **results);
guint
gw_dm_tree_add(GwDmTree *self,
               const gchar *server_id,
               const gchar *uri,
               GwDmFormat format,
               const gchar *mime_type,
               GBytes *data);
/* @format GW_DM_FORMAT_INVALID keeps the node's format; @mime_type NULL keeps the type */
guint
gw_dm_tree_replace(GwDmTree *self,
                   const gchar *server_id,
                   const gchar *uri,
                   GwDmFormat format,
                   const gchar *mime_type,
                   GBytes *data);
guint
gw_dm_tree_delete(GwDmTree *self, const gchar *server_id, const gchar *uri);
guint
gw_dm_tree_exec(GwDmTree *self,
                const gchar *server_id,
                const gchar *uri,
                GBytes *data,
                const gchar *correlator);
guint
gw_dm_tree_copy(GwDmTree *self,
                const gchar *server_id,
                const gchar *source_uri,
                const gchar *target_uri);

/* ---- hooks for upper layers ---- */
typedef guint (*GwDmExecFunc)(GwDmTree *tree,
                              const gchar *server_id,
                              const gchar *uri,
                              GBytes *data,
                              const gchar *correlator,
                              gpointer user_data);
/* called before a Get reads nodes matching the pattern (computed values, e.g. Summary) */
typedef void (*GwDmGetHookFunc)(GwDmTree *tree, const gchar *uri, gpointer user_data);
/* called before a DM Replace (or Add) stores @data in a leaf matching the pattern, once access
 * type, ACL and format passed: GW_DM_STATUS_OK lets it through, any other status refuses the
 * command with that status and nothing changes (values only the enabler can judge, e.g. a Mode
 * no adapter can serve). Owner API writes are not checked. */
typedef guint (*GwDmValueCheckFunc)(GwDmTree *tree,
                                    const gchar *server_id,
                                    const gchar *uri,
                                    GBytes *data,
                                    gpointer user_data);

/* @pattern as gw_dm_uri_match(); the node must exist and allow Exec. Returns an id > 0 */
guint
gw_dm_tree_add_exec_handler(GwDmTree *self,
                            const gchar *pattern,
                            GwDmExecFunc func,
                            gpointer user_data,
                            GDestroyNotify destroy);
guint
gw_dm_tree_add_get_hook(GwDmTree *self,
                        const gchar *pattern,
                        GwDmGetHookFunc func,
                        gpointer user_data,
                        GDestroyNotify destroy);
guint
gw_dm_tree_add_value_check(GwDmTree *self,
                           const gchar *pattern,
                           GwDmValueCheckFunc func,
                           gpointer user_data,
                           GDestroyNotify destroy);
void
gw_dm_tree_remove_handler(GwDmTree *self, guint id);

/* ---- atomic support (SyncML Atomic) ---- */
/* deep copy of the whole tree content, restored by gw_dm_tree_rollback() */
typedef struct _GwDmSnapshot GwDmSnapshot;
GwDmSnapshot *
gw_dm_tree_snapshot(GwDmTree *self);
void
gw_dm_tree_rollback(GwDmTree *self, GwDmSnapshot *snapshot); /* emits "changed" for "." */
void
gw_dm_snapshot_free(GwDmSnapshot *snapshot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDmSnapshot, gw_dm_snapshot_free)

/* ---- standard definitions (DDF), see gw-dm-ddf.h ---- */
/* what the DDF says about the normalised @uri: the nodes added with gw_dm_tree_add_ddf_node()
 * first, then the standard objects. @format, @access (nullable) are set when DESCRIBED. */
GwDmDdfMatch
gw_dm_tree_ddf_lookup(GwDmTree *self, const gchar *uri, GwDmFormat *format, GwDmAccess *access);
/* describes the nodes matching @pattern (a URI whose "*" segments match any one segment):
 * @format, and at most @access (a secret: GW_DM_DDF_SECRET_ACCESS). Existing nodes lose the
 * access types it does not allow at once (with a log line). */
void
gw_dm_tree_add_ddf_node(GwDmTree *self, const gchar *pattern, GwDmFormat format, GwDmAccess access);
/* TRUE when a node of @format may be at the normalised @uri; else GW_ERROR_NOT_ALLOWED (the
 * DDF has no such node) or GW_ERROR_NOT_SUPPORTED (another format), naming the node */
gboolean
gw_dm_tree_ddf_check(GwDmTree *self, const gchar *uri, GwDmFormat format, GError **error);

/* bumped on every mutation; the store saves when it differs from the last save */
guint64
gw_dm_tree_get_generation(GwDmTree *self);

/* ---- owner API (no ACL, no access-type checks) ---- */
GwDmNode *
gw_dm_tree_lookup(GwDmTree *self, const gchar *uri);
GwDmNode *
gw_dm_tree_get_root(GwDmTree *self);
gboolean
gw_dm_tree_ensure_interior(GwDmTree *self, const gchar *uri, GError **error);
/* creates parents as interior nodes; replaces value/format/type of an existing leaf;
 * an existing interior node at @uri is an error (GW_ERROR_ALREADY_EXISTS) */
gboolean
gw_dm_tree_set_leaf(GwDmTree *self,
                    const gchar *uri,
                    GwDmFormat format,
                    const gchar *mime_type,
                    GBytes *value,
                    GError **error);
gboolean
gw_dm_tree_set_leaf_string(GwDmTree *self,
                           const gchar *uri,
                           GwDmFormat format,
                           const gchar *value,
                           GError **error);
/* @acl NULL keeps; "" clears. @title NULL keeps. @access GW_DM_ACCESS_NONE keeps. */
gboolean
gw_dm_tree_set_properties(GwDmTree *self,
                          const gchar *uri,
                          GwDmAccess access,
                          const gchar *acl,
                          const gchar *title,
                          GError **error);
/* (added) @mime_type "" clears; for an interior node this is its DDFName (MO identifier) */
gboolean
gw_dm_tree_set_mime_type(GwDmTree *self, const gchar *uri, const gchar *mime_type, GError **error);
gboolean
gw_dm_tree_set_permanent(GwDmTree *self, const gchar *uri, gboolean permanent, GError **error);
gboolean
gw_dm_tree_remove(GwDmTree *self, const gchar *uri, GError **error);
/* value of a leaf as a string, NULL when missing or interior */
gchar *
gw_dm_tree_dup_string(GwDmTree *self, const gchar *uri);
/* children names in insertion order; NULL when missing or a leaf */
gchar **
gw_dm_tree_list_children(GwDmTree *self, const gchar *uri);
/* effective ACL check, as the DM commands do it */
gboolean
gw_dm_tree_check_acl(GwDmTree *self, const gchar *uri, GwDmAccess access, const gchar *server_id);

/* ---- nodes (borrowed pointers) ---- */
const gchar *
gw_dm_node_get_name(GwDmNode *node);
gchar *
gw_dm_node_dup_uri(GwDmNode *node);
GwDmNode *
gw_dm_node_get_parent(GwDmNode *node);
gboolean
gw_dm_node_is_leaf(GwDmNode *node);
GwDmFormat
gw_dm_node_get_format(GwDmNode *node);
const gchar *
gw_dm_node_get_mime_type(GwDmNode *node); /* nullable */
const gchar *
gw_dm_node_get_title(GwDmNode *node); /* nullable */
/* own ACL text ("" when inheriting) */
gchar *
gw_dm_node_dup_acl(GwDmNode *node);
/* TRUE when the node has an ACL of its own (cheap: no text is built) */
gboolean
gw_dm_node_has_acl(GwDmNode *node);
GwDmAccess
gw_dm_node_get_access(GwDmNode *node);
gboolean
gw_dm_node_get_permanent(GwDmNode *node);
GBytes *
gw_dm_node_get_value(GwDmNode *node); /* borrowed, nullable */
/* (element-type GwDmNode) borrowed; in insertion order */
GPtrArray *
gw_dm_node_get_children(GwDmNode *node);
GwDmNode *
gw_dm_node_get_child(GwDmNode *node, const gchar *name);

/* ---- journal support (GwDmStore) ---- */
/* the own fields of one node, as the store's journal records them */
typedef struct {
	GwDmFormat format;      /* GW_DM_FORMAT_NODE for interior nodes */
	const gchar *mime_type; /* nullable */
	const gchar *title;     /* nullable */
	const gchar *acl;       /* ACL text, "" or NULL inherits */
	GwDmAccess access;
	gboolean permanent;
	GBytes *value; /* nullable; leaves only */
} GwDmNodeState;

/* index of the node among its parent's children (0 for the root) */
guint
gw_dm_node_get_position(GwDmNode *node);
/* Sets every field of the node at @uri to @state (owner API: no ACL checks; formats, MIME
 * type, title and ACL syntax are checked). A missing node is created (missing parents as
 * interior nodes) and put at @position among its siblings (-1 or too large: last); a node of
 * the other kind (leaf vs. interior) is replaced. Children of an existing interior node stay.
 * Emits "changed". */
gboolean
gw_dm_tree_restore_node(GwDmTree *self,
                        const gchar *uri,
                        const GwDmNodeState *state,
                        gint position,
                        GError **error);

/* gw_dm_tree_restore_node() for the child @name of @parent (at @parent_uri, normalised):
 * the same checks and "changed", without walking the URI from the root (a state file
 * restores its nodes parent first). Returns the node, or NULL with @error set. */
GwDmNode *
gw_dm_tree_restore_child(GwDmTree *self,
                         GwDmNode *parent,
                         const gchar *parent_uri,
                         const gchar *name,
                         const GwDmNodeState *state,
                         GError **error);

G_END_DECLS
