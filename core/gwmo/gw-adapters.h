/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dm-tree.h"
#include "gw-inventory.h"
#include "gw-plugin.h"

G_BEGIN_DECLS

/*
 * The adapter registry: the one way from the enabler to End Devices (GwMO-AMoDe-001,
 * GwMO-IOP-001). Fan-out jobs (and so the one-device Proxy path) hand every device command to
 * gw_adapters_run_command_async(); the registry finds the device's record, its Protocol, and the
 * adapter registered for that protocol (a GwPlugin: the built-in OMA DM adapter, "OMA-DM", or
 * a plugin's).
 *
 * Devices of a plugin. The registry listens to each plugin's "device-found" and "device-lost":
 *  - found: the inventory registers or refreshes the device's record (Protocol = the plugin's
 *    protocol, Mode 3 Adaptation, Status Attached, Address and DevInfo/<leaf> from the
 *    GwDeviceInfo); the device's GwDeviceTree is kept in memory. A DeviceID whose record, or
 *    whose report, belongs to another protocol is refused (logged, rate-limited).
 *  - lost: the record becomes Detached ("device-detached": DeviceDetached to the servers that
 *    asked). An adapter's device is Attached as long as its adapter says so: the inventory's
 *    lease does not detach it, and gw_adapters_start() detaches at start the records of
 *    adapted devices nobody reported in this run.
 *
 * A command for an adapted device is checked before its plugin sees it:
 *  - 503 (Service unavailable): no adapter is loaded for the record's Protocol (the record
 *    stays, Detached; a later start with the plugin brings it back);
 *  - 410 (Gone): the adapter has not reported the device in this run, or reported it lost;
 *  - ./DevInfo, ./DevInfo/DevId and ./DevInfo/<leaf>: a Get is answered from the GwDeviceInfo
 *    (404 for a leaf the adapter did not give; 405 for any other command);
 *  - other URIs against the device's GwDeviceTree: 400 for a malformed URI, 404 for a node it
 *    does not declare, 405 for an access type it does not have (418 for an Add of a node it
 *    declares: it exists), 415 for a Replace whose value
 *    is not of the node's format (gw_dm_format_validate_value()) or whose Format names
 *    another; a Get of an interior node (its child names, format node) or of a static leaf is
 *    answered by the registry itself. Below a node declared dynamic the commands pass
 *    through unchecked, but Add/Delete of its direct children need its Add/Delete access.
 * Then the adapter's run_command runs with a deadline (now + @timeout_ms): at the deadline the
 * registry cancels the call's GCancellable and answers 408 itself, whatever the plugin does
 * (a late completion is ignored); a GError from the plugin becomes 500 with its message as
 * the result's data. The main loop never waits on a plugin.
 *
 * The OMA DM adapter is registered with GW_ADAPTER_FLAG_OWN_TREE: its devices answer for
 * their own tree (./DevInfo included), so its commands go to it unchecked.
 *
 * Operation modes: registering an adapter other than OMA DM makes Adaptation (3) available
 * for its protocol (gw_gwmo_adapter_register()) and rewrites ./GwMO/Config/SupportedModes.
 */

typedef enum {
	GW_ADAPTER_FLAG_NONE = 0,
	/* the adapter's devices answer for their whole tree themselves (OMA DM): the registry
	 * checks nothing and answers nothing for them; its devices' records are not Mode 3 */
	GW_ADAPTER_FLAG_OWN_TREE = 1 << 0,
} GwAdapterFlags;

#define GW_TYPE_ADAPTERS (gw_adapters_get_type())
G_DECLARE_FINAL_TYPE(GwAdapters, gw_adapters, GW, ADAPTERS, GObject)

GwAdapters *
gw_adapters_new(GwDmTree *tree, GwInventory *inventory);
/* detaches the records of adapted devices (Mode 3) that no adapter reported in this run: call
 * once, before plugins start */
void
gw_adapters_start(GwAdapters *self);

/* adds @plugin (started already) as the adapter of its protocol; GW_ERROR_ALREADY_EXISTS when
 * the protocol has one, GW_ERROR_INVALID_ARGS when it names none */
gboolean
gw_adapters_register(GwAdapters *self, GwPlugin *plugin, GwAdapterFlags flags, GError **error);
/* removes the adapter of @protocol (its devices become Detached); FALSE when there is none */
gboolean
gw_adapters_unregister(GwAdapters *self, const gchar *protocol);
/* the adapter of @protocol (NULL: OMA-DM), or NULL. GwAdapters::changed (protocol) says when
 * an adapter came or went */
GwPlugin *
gw_adapters_lookup(GwAdapters *self, const gchar *protocol);
/* the protocols with an adapter, sorted (free with g_strfreev) */
gchar **
gw_adapters_list_protocols(GwAdapters *self);
/* the tree an adapter declared for @device_id (NULL: none, or not reported in this run) */
GwDeviceTree *
gw_adapters_get_device_tree(GwAdapters *self, const gchar *device_id);

/*
 * Runs @cmd on @device_id through its adapter (@timeout_ms 0: 60 s). Completes with the
 * device's answer (a status and items), never with an error except G_IO_ERROR_CANCELLED when
 * @cancellable is cancelled first; 404 for a device without record.
 */
void
gw_adapters_run_command_async(GwAdapters *self,
                              const gchar *device_id,
                              GwDeviceCommand *cmd,
                              guint timeout_ms,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
GwDeviceResult *
gw_adapters_run_command_finish(GwAdapters *self, GAsyncResult *res, GError **error);

G_END_DECLS
