/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-config.h"
#include "gw-dm-tree.h"
#include "gw-groups.h"
#include "gw-gwmo-names.h"

G_BEGIN_DECLS

/*
 * The Device Inventory MO (./GwMO/Inventory, spec/GWMO.md §1 and §3) and the per-server part of
 * the Config MO (./GwMO/Config/Servers/<x>). Records live in the DM tree, so they are persisted
 * with it and visible to DM Servers under their ACLs.
 *
 * A record ./GwMO/Inventory/Devices/<x> (x = "1", "2", … never reused) holds DeviceID,
 * ComponentType, Protocol, Mode, Status (Attached | Detached | Discovered), Address, NotifyAddr,
 * LastSeen (RFC 3339, UTC), Trusted, ServerIDs/<n>, DevInfo/<leaf>, Groups/<n>, and the credentials
 * the gateway uses with the device in Credentials/ (AuthType, ClientName, ClientSecret and
 * ServerSecret, and the nonces of the last session, ClientNonce and ServerNonce, without Get
 * access: never readable by a DM Server or over D-Bus).
 *
 * Visibility (GwMO-SECARIZE-001): a record's ACL gives Get (and Replace of Mode) to the DM
 * Servers of the gateway named in its ServerIDs; a record with no matching ServerIDs is
 * readable by every server of the gateway ("Get=*"). Groups carry the ACL of the server that
 * created them (Add/Delete/Get/Replace for it alone); groups made over D-Bus are "Get=*".
 *
 * Summary/<leaf> is computed when read (a Get hook). A device not seen for [inventory]
 * detach-after seconds becomes Detached (checked every [inventory] lease-check-interval seconds,
 * or every detach-after seconds when that is shorter, and by gw_inventory_check_leases).
 *
 * Signals:
 *  "device-attached" (const gchar *record_uri, const gchar *device_id, gboolean is_new):
 *      a device registered, or came back from Detached (GwMO-DI-004, X.2).
 *  "device-detached" (const gchar *record_uri, const gchar *device_id)
 *  "device-removed"  (const gchar *record_uri, const gchar *device_id)
 *  "device-discovered" (const gchar *record_uri, const gchar *device_id): a Discovered
 *      record was made (gw_inventory_discover); not emitted when it is only seen again.
 *
 * Discovered records (issue 14 §4): a device that announced itself on the LAN (mDNS
 * _omadm._tcp) and never registered has a record with Status "Discovered", no credentials,
 * no ServerIDs (so every server may read it). It is not managed: not counted as Attached or
 * Detached (Summary/Discovered counts it, and Total), never detached by the lease check, and
 * gw_inventory_touch_unchanged() does not take it. Its registration (gw_inventory_register,
 * gw_inventory_touch) makes it Attached with "device-attached" (is_new FALSE); provisioning
 * (gw_inventory_provision) makes it Detached with the credentials given.
 */

#define GW_TYPE_INVENTORY (gw_inventory_get_type())
G_DECLARE_FINAL_TYPE(GwInventory, gw_inventory, GW, INVENTORY, GObject)

typedef struct {
	gchar *device_id;      /* required: DevInfo/DevId, UDN, IEEE address, OUI-Serial */
	guint mode;            /* GwGwmoMode; 0 = ./GwMO/Config/Mode */
	gchar *protocol;       /* default "OMA-DM" */
	gchar *component_type; /* default "EndDevice" */
	gchar *address;        /* nullable */
	gchar *notify_addr;    /* http(s)://… or udp://host:port, nullable */
	gchar **server_ids;    /* nullable, NULL-terminated */
	GHashTable *devinfo;   /* nullable; leaf name (Man, Mod, FwV, SwV, HwV, DevTyp) → value */
	gboolean trusted;
	/* credentials (kept when NULL on an update) */
	gchar *auth_type;   /* "BASIC" | "DIGEST" | "HMAC" | NULL */
	gchar *client_name; /* what the device presents to the gateway */
	gchar *client_secret;
	gchar *server_secret; /* what the gateway presents to the device */
} GwInventoryDevice;

void
gw_inventory_device_clear(GwInventoryDevice *info);

GwInventory *
gw_inventory_new(GwDmTree *tree, GwConfig *config);
/* installs the Get hook for Summary, the lease timer, and syncs Config/Servers */
gboolean
gw_inventory_start(GwInventory *self, GError **error);

/* creates or updates the record of info->device_id: Status Attached, LastSeen now. Emits
 * "device-attached" when the record is new or was Detached. Returns the record URI. */
gchar *
gw_inventory_register(GwInventory *self, const GwInventoryDevice *info, GError **error);
/* (added) a record for a device that has never connected (D-Bus AddDevice): the same leaves as
 * gw_inventory_register writes, but Status Detached and no "device-attached" — a provisioned
 * device is attached by its first authenticated session, which registers it with its address
 * (GwMO-HLF-003, GwMO-DI-004). GW_ERROR_ALREADY_EXISTS when the device has a record. */
gchar *
gw_inventory_provision(GwInventory *self, const GwInventoryDevice *info, GError **error);
/* a device announced itself (mDNS): a new record with Status Discovered, Address and LastSeen
 * from @info (credentials and ServerIDs left empty) and "device-discovered", *@created TRUE;
 * a Discovered record of the DeviceID gets the new Address and LastSeen; a record of any
 * other status is left alone (an announcement is not authenticated). GW_ERROR_WRONG_STATE
 * when a new record would make more than @max_discovered Discovered records. Returns the
 * record URI. */
gchar *
gw_inventory_discover(GwInventory *self,
                      const GwInventoryDevice *info,
                      guint max_discovered,
                      gboolean *created,
                      GError **error);
/* removes @device_id's record when its Status is Discovered (TRUE), else changes nothing */
gboolean
gw_inventory_forget_discovered(GwInventory *self, const gchar *device_id);
gboolean
gw_inventory_is_discovered(GwInventory *self, const gchar *device_id);
guint
gw_inventory_count_discovered(GwInventory *self);
/* the DeviceIDs of the Discovered records (NULL-terminated) */
gchar **
gw_inventory_list_discovered(GwInventory *self);
/* the device was seen (a session, a registration): LastSeen now; re-attaches a Detached one */
gboolean
gw_inventory_touch(GwInventory *self, const gchar *device_id, GError **error);
/* a session of a known device: when its record is Attached and what the session reported
 * (@address, @notify_addr: NULL = not reported; @devinfo: leaf name → value, nullable) is what
 * the record holds, writes LastSeen alone (gw_inventory_touch) and returns TRUE; returns FALSE
 * and writes nothing when the device is unknown or Detached or the record would change, and
 * the caller registers it (gw_inventory_register) */
gboolean
gw_inventory_touch_unchanged(GwInventory *self,
                             const gchar *device_id,
                             const gchar *address,
                             const gchar *notify_addr,
                             GHashTable *devinfo);
/* what the gateway needs to reach and authenticate a device, cheaper than
 * gw_inventory_get_device: device_id, notify_addr, auth_type, client_name, client_secret and
 * server_secret of @info are set, the rest is zeroed; FALSE when unknown */
gboolean
gw_inventory_get_contact(GwInventory *self, const gchar *device_id, GwInventoryDevice *info);
/* the nonces of @device_id's last authenticated session (Credentials/ClientNonce: the device
 * digests with it, ServerNonce: the gateway does; bin, never readable): each NULL when there is
 * none. FALSE for an unknown device */
gboolean
gw_inventory_get_nonces(GwInventory *self,
                        const gchar *device_id,
                        GBytes **client_nonce,
                        GBytes **server_nonce);
/* sets one of them (@client: ClientNonce); a value it already has changes nothing */
gboolean
gw_inventory_set_nonce(GwInventory *self,
                       const gchar *device_id,
                       gboolean client,
                       GBytes *nonce,
                       GError **error);
gboolean
gw_inventory_detach(GwInventory *self, const gchar *device_id, GError **error);
gboolean
gw_inventory_remove(GwInventory *self, const gchar *device_id, GError **error);
/* appends @server_id to the record's ServerIDs (nothing when it is there) and makes the record's
 * ACL again (that server may Get and Replace it); GW_ERROR_NOT_FOUND for an unknown device */
gboolean
gw_inventory_add_server_id(GwInventory *self,
                           const gchar *device_id,
                           const gchar *server_id,
                           GError **error);
/* record URI of a DeviceID, or NULL */
gchar *
gw_inventory_find(GwInventory *self, const gchar *device_id);
/* (element-type utf8) record URIs, in creation order */
GPtrArray *
gw_inventory_list(GwInventory *self);
/* reads a record back (credentials included); FALSE when unknown */
gboolean
gw_inventory_get_device(GwInventory *self, const gchar *device_id, GwInventoryDevice *info);
/* detaches every Attached device not seen for detach-after seconds; returns how many */
guint
gw_inventory_check_leases(GwInventory *self);

/* ./GwMO/Config/Servers/<x> for every ./DMAcc/<x> (ServerID, InventoryAlert, ImageStore) */
void
gw_inventory_sync_servers(GwInventory *self);
/* ServerIDs of the gateway's DMAcc entries whose InventoryAlert is true and that may Get the
 * record (GwMO-DI-004/005) */
gchar **
gw_inventory_alert_servers(GwInventory *self, const gchar *record_uri);
/* the <GwMODevice> document of spec/GWMO.md §2 for a record */
gchar *
gw_inventory_device_document(GwInventory *self,
                             const gchar *record_uri,
                             const gchar *gateway_address);

/* its groups (GwMO-Group-001, gw-groups.h) */
GwGroups *
gw_inventory_get_groups(GwInventory *self);

G_END_DECLS
