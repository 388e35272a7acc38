/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The protocol-neutral face of an End Device, as the gateway and its adapters share it.
 *
 * A DM Server addresses every End Device the same way, whatever protocol the device speaks:
 * a command (Get, Replace, Add, Delete, Exec) on a node of the device's own tree, rooted at
 * "./" ("./DevInfo/FwV", "./UPnP/SwitchPower/Target"). The gateway hands such a command to the
 * adapter of the device's protocol as a GwDeviceCommand and gets a GwDeviceResult back: an
 * OMA DM status code and, for a Get or an Exec, result items.
 *
 * Formats are the OMA DM DDF format names: "node", "chr", "int", "bool", "bin", "b64",
 * "xml", "float", "date", "time", "null".
 */

/**
 * GwDeviceOp:
 * @GW_DEVICE_OP_GET: read a node (a leaf's value; an interior node's child names)
 * @GW_DEVICE_OP_REPLACE: set a leaf's value
 * @GW_DEVICE_OP_ADD: create a node (an instance of an unnamed node)
 * @GW_DEVICE_OP_DELETE: delete a node
 * @GW_DEVICE_OP_EXEC: run an operation node (the data are its arguments)
 *
 * Since: 1.0
 */
typedef enum {
	GW_DEVICE_OP_GET,
	GW_DEVICE_OP_REPLACE,
	GW_DEVICE_OP_ADD,
	GW_DEVICE_OP_DELETE,
	GW_DEVICE_OP_EXEC,
} GwDeviceOp;

/**
 * GwDeviceAccess:
 *
 * The OMA DM access types of a node of a device's tree (what the DDF allows).
 *
 * Since: 1.0
 */
typedef enum {
	GW_DEVICE_ACCESS_NONE = 0,
	GW_DEVICE_ACCESS_GET = 1 << 0,
	GW_DEVICE_ACCESS_ADD = 1 << 1,
	GW_DEVICE_ACCESS_REPLACE = 1 << 2,
	GW_DEVICE_ACCESS_DELETE = 1 << 3,
	GW_DEVICE_ACCESS_EXEC = 1 << 4,
} GwDeviceAccess;

/*
 * The OMA DM status codes an adapter answers with (SyncML RepPro §10). These are results, not
 * errors: a device that does not answer in time is a GwDeviceResult with 408, not a GError.
 *
 * Since: 1.0
 */
#define GW_DEVICE_STATUS_OK 200
#define GW_DEVICE_STATUS_ACCEPTED 202 /* an Exec that goes on after the answer */
#define GW_DEVICE_STATUS_BAD_REQUEST 400
#define GW_DEVICE_STATUS_NOT_FOUND 404
#define GW_DEVICE_STATUS_NOT_ALLOWED 405
#define GW_DEVICE_STATUS_TIMEOUT 408
#define GW_DEVICE_STATUS_UNSUPPORTED_FORMAT 415
#define GW_DEVICE_STATUS_FAILED 500 /* a protocol fault: its text is the result's data */
#define GW_DEVICE_STATUS_NOT_IMPLEMENTED 501

/* ---- a command for one device ---- */

/**
 * GwDeviceCommand:
 *
 * One command for one device: immutable, reference counted.
 *
 * Since: 1.0
 */
typedef struct _GwDeviceCommand GwDeviceCommand;

GType
gw_device_command_get_type(void) G_GNUC_CONST;
#define GW_TYPE_DEVICE_COMMAND (gw_device_command_get_type())

/* @uri: the node on the device ("./…"); @format, @type (MIME), @data: nullable (the payload of
 * Replace, Add and Exec) */
GwDeviceCommand *
gw_device_command_new(GwDeviceOp op,
                      const gchar *uri,
                      const gchar *format,
                      const gchar *type,
                      GBytes *data);
GwDeviceCommand *
gw_device_command_ref(GwDeviceCommand *cmd);
void
gw_device_command_unref(GwDeviceCommand *cmd);
GwDeviceOp
gw_device_command_get_op(GwDeviceCommand *cmd);
/* "Get", "Replace", "Add", "Delete", "Exec" */
const gchar *
gw_device_command_get_op_name(GwDeviceCommand *cmd);
const gchar *
gw_device_command_get_uri(GwDeviceCommand *cmd);
/* nullable */
const gchar *
gw_device_command_get_format(GwDeviceCommand *cmd);
/* nullable */
const gchar *
gw_device_command_get_mime_type(GwDeviceCommand *cmd);
/* nullable */
GBytes *
gw_device_command_get_data(GwDeviceCommand *cmd);
/* the data as a NUL-terminated string (empty when there are none); valid as long as @cmd */
const gchar *
gw_device_command_get_data_string(GwDeviceCommand *cmd);

/* ---- what the device answered ---- */

/**
 * GwDeviceResult:
 *
 * The outcome of a GwDeviceCommand: an OMA DM status code and zero or more result items
 * (the value of a Get, the output of an Exec). Reference counted.
 *
 * Since: 1.0
 */
typedef struct _GwDeviceResult GwDeviceResult;

GType
gw_device_result_get_type(void) G_GNUC_CONST;
#define GW_TYPE_DEVICE_RESULT (gw_device_result_get_type())

GwDeviceResult *
gw_device_result_new(guint status);
/* a result with one item: the value of @uri (what a Get of a leaf answers) */
GwDeviceResult *
gw_device_result_new_value(const gchar *uri, const gchar *format, const gchar *value);
/* status GW_DEVICE_STATUS_FAILED (or @status) with @message as a chr item: a protocol fault */
GwDeviceResult *
gw_device_result_new_fault(guint status, const gchar *uri, const gchar *message);
GwDeviceResult *
gw_device_result_ref(GwDeviceResult *result);
void
gw_device_result_unref(GwDeviceResult *result);
guint
gw_device_result_get_status(GwDeviceResult *result);
void
gw_device_result_set_status(GwDeviceResult *result, guint status);
/* @format, @type (MIME), @data nullable */
void
gw_device_result_add_item(GwDeviceResult *result,
                          const gchar *uri,
                          const gchar *format,
                          const gchar *type,
                          GBytes *data);
guint
gw_device_result_get_n_items(GwDeviceResult *result);
/* every out argument is optional (NULL); the strings and bytes belong to @result */
void
gw_device_result_get_item(GwDeviceResult *result,
                          guint index,
                          const gchar **uri,
                          const gchar **format,
                          const gchar **type,
                          GBytes **data);

/* ---- who the device is ---- */

/**
 * GwDeviceInfo:
 *
 * What an adapter knows of a device it found: its DeviceID (the public identifier: a UPnP
 * UDN, an IEEE address, "OUI-ProductClass-SerialNumber"), how the gateway reaches it, and the
 * identity its protocol reports. The gateway keeps it in the inventory record and answers
 * "./DevInfo/DevId", "Man", "Mod", "FwV", "SwV", "HwV" and "DevTyp" of the device from it,
 * whatever the protocol (spec/GWMO.md §9). Reference counted; set everything before handing
 * it to gw_plugin_device_found().
 *
 * Since: 1.0
 */
typedef struct _GwDeviceInfo GwDeviceInfo;

GType
gw_device_info_get_type(void) G_GNUC_CONST;
#define GW_TYPE_DEVICE_INFO (gw_device_info_get_type())

GwDeviceInfo *
gw_device_info_new(const gchar *device_id);
GwDeviceInfo *
gw_device_info_ref(GwDeviceInfo *info);
void
gw_device_info_unref(GwDeviceInfo *info);
const gchar *
gw_device_info_get_device_id(GwDeviceInfo *info);
/* how the gateway reaches the device (a URL, a UDN, an IEEE address) */
void
gw_device_info_set_address(GwDeviceInfo *info, const gchar *address);
const gchar *
gw_device_info_get_address(GwDeviceInfo *info);
/* a DevInfo/DevDetail leaf: "Man", "Mod", "FwV", "SwV", "HwV", "DevTyp"; NULL unsets */
void
gw_device_info_set_devinfo(GwDeviceInfo *info, const gchar *leaf, const gchar *value);
/* nullable */
const gchar *
gw_device_info_get_devinfo(GwDeviceInfo *info, const gchar *leaf);
/* the leaves set, in a stable order (free the array, not the strings) */
const gchar **
gw_device_info_list_devinfo(GwDeviceInfo *info);

/* ---- the device's tree, declared instead of hand-built ---- */

/**
 * GwDeviceTree:
 *
 * The tree of nodes a device answers, declared by its adapter: each node's path below "./",
 * its format and its access types. The gateway checks every command against it before the
 * adapter sees it (404 for a node that is not declared, 405 for an access type it does not
 * have, 415 for a value that is not of its format), answers a Get of an interior node (its
 * child names) and of a static leaf itself, and calls the adapter only for dynamic leaves.
 * Interior nodes are implied by the paths of their children. "./DevInfo" is always answered
 * from the device's GwDeviceInfo and needs no declaration. Reference counted; not changed
 * after it is handed to gw_plugin_device_found().
 *
 * Since: 1.0
 */
typedef struct _GwDeviceTree GwDeviceTree;

GType
gw_device_tree_get_type(void) G_GNUC_CONST;
#define GW_TYPE_DEVICE_TREE (gw_device_tree_get_type())

GwDeviceTree *
gw_device_tree_new(void);
GwDeviceTree *
gw_device_tree_ref(GwDeviceTree *tree);
void
gw_device_tree_unref(GwDeviceTree *tree);
/* a leaf the adapter answers (@uri "./UPnP/SwitchPower/Target"); @format a DDF format name;
 * @type (MIME) nullable. Returns FALSE (programmer error, logged) for a malformed path or a
 * path that is already declared. */
gboolean
gw_device_tree_add_leaf(GwDeviceTree *tree,
                        const gchar *uri,
                        const gchar *format,
                        GwDeviceAccess access,
                        const gchar *type);
/* a Get-only leaf whose value the gateway answers itself (a description field) */
gboolean
gw_device_tree_add_static(GwDeviceTree *tree,
                          const gchar *uri,
                          const gchar *format,
                          const gchar *value);
/* an interior node whose children the adapter creates and deletes (Add/Delete on
 * "<uri>/<name>"): @access says which of Add, Delete, Get are allowed on them */
gboolean
gw_device_tree_add_dynamic(GwDeviceTree *tree, const gchar *uri, GwDeviceAccess access);
/* what is declared at @uri: TRUE and its format and access (and static value, or NULL) when
 * the node exists (interior nodes: format "node", access Get); every out argument optional */
gboolean
gw_device_tree_lookup(GwDeviceTree *tree,
                      const gchar *uri,
                      const gchar **format,
                      GwDeviceAccess *access,
                      const gchar **static_value);
/* TRUE when @uri was declared with gw_device_tree_add_dynamic(): what is below it is the
 * adapter's to answer (the gateway passes such commands through unchecked) */
gboolean
gw_device_tree_is_dynamic(GwDeviceTree *tree, const gchar *uri);
/* the names of the children of interior node @uri, sorted (NULL when it is not one; free the
 * array with g_strfreev); empty for a dynamic node (ask the adapter) */
gchar **
gw_device_tree_list_children(GwDeviceTree *tree, const gchar *uri);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDeviceCommand, gw_device_command_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDeviceResult, gw_device_result_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDeviceInfo, gw_device_info_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDeviceTree, gw_device_tree_unref)

G_END_DECLS
