/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-alert-queue.h"
#include "gw-config.h"
#include "gw-dm-session.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-inventory.h"
#include "gw-southbound.h"

G_BEGIN_DECLS

/*
 * The gateway as DM Client of its DM Servers (one per ./DMAcc/<x>):
 *  - client-initiated sessions on demand (D-Bus StartSession, the CheckIn Exec, the
 *    [northbound] session-interval schedule) and server-initiated ones after a valid Package #0
 *    on the northbound listener's POST /notify (digest checked with the server's SRVCRED secret
 *    and nonce; a forged or replayed notification starts nothing and gets 401/409);
 *  - queued Generic Alerts delivered in the next session with their server and removed when
 *    acknowledged;
 *  - the tree is stored after every server message, before the reply leaves.
 * Signals: "session-finished" (const gchar *server_id, gboolean ok, const gchar *message)
 */

#define GW_TYPE_NORTHBOUND (gw_northbound_get_type())
G_DECLARE_FINAL_TYPE(GwNorthbound, gw_northbound, GW, NORTHBOUND, GObject)

GwNorthbound *
gw_northbound_new(GwConfig *config,
                  GwDmTree *tree,
                  GwDmStore *store,
                  const gchar *state_dir,
                  GError **error);
/* loads the TLS identity (generated in the state dir on first start), listens, schedules */
gboolean
gw_northbound_start(GwNorthbound *self, GError **error);
/* the listening URIs (free with g_strfreev) */
gchar **
gw_northbound_get_listen_uris(GwNorthbound *self);
GwAlertQueue *
gw_northbound_get_alert_queue(GwNorthbound *self);

/* a client-initiated session with the account whose ServerID is @server_id */
void
gw_northbound_start_session_async(GwNorthbound *self,
                                  const gchar *server_id,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean
gw_northbound_start_session_finish(GwNorthbound *self,
                                   GAsyncResult *res,
                                   GwDmSessionStats *stats,
                                   GError **error);

/*
 * Inventory alerts (GwMO-DI-004, flow X.2): DeviceAttached / DeviceDetached Generic Alerts with
 * the <GwMODevice> document go to every server gw_inventory_alert_servers() names (and
 * DeviceDiscovered for a new Discovered record while [southbound] auto-bootstrap is false,
 * spec/GWMO.md §9); they are
 * queued durably, and a session with each such server follows shortly (bursts coalesce).
 */
void
gw_northbound_watch_inventory(GwNorthbound *self, GwInventory *inventory);

/*
 * Transparent mode (flow Z', GwMO-TMode-001): a Package #0 on POST /notify with the header
 * X-GwMO-Target: <DeviceID> is verified against the sending server's credentials, the server
 * must be allowed to see the device, and the same bytes are forwarded to the device's
 * NotifyAddr through the southbound side. Answers: 202 forwarded, 400 malformed, 401 bad digest
 * (or unknown server), 403 device not visible to that server, 404 unknown device, 409 the device
 * has no NotifyAddr or is not in Transparent mode (GwMO-MOO-001: a Proxy device is driven by the
 * gateway, never notified on a server's behalf). The EDTrigger MO (gw-edtrigger.h) takes the
 * same path.
 */
void
gw_northbound_set_southbound(GwNorthbound *self, GwSouthbound *southbound);

typedef enum {
	GW_NORTHBOUND_RELAY_FORWARDED,       /* handed to the southbound side (HTTP POST / UDP) */
	GW_NORTHBOUND_RELAY_MALFORMED,       /* not a Package #0 */
	GW_NORTHBOUND_RELAY_BAD_DIGEST,      /* unknown server, another server's, or forged */
	GW_NORTHBOUND_RELAY_NOT_VISIBLE,     /* the server may not Get the device's record */
	GW_NORTHBOUND_RELAY_UNKNOWN_DEVICE,  /* no record with that DeviceID */
	GW_NORTHBOUND_RELAY_NO_NOTIFY_ADDR,  /* the device gave no (usable) NotifyAddr */
	GW_NORTHBOUND_RELAY_NOT_TRANSPARENT, /* the device's Mode is not 1 (Transparent) */
} GwNorthboundRelay;

/*
 * The one Transparent-mode relay (flow Z'): @pkg0 must parse as a Package #0 whose digest
 * verifies with the credentials (SRVCRED secret, stored or empty nonce) of the gateway's account
 * for @server_id, or, when @server_id is NULL, of the server the Package #0 names; a Package #0
 * naming another server than @server_id is refused as a bad digest. The server must be allowed
 * to Get the device's inventory record, the device must be in Transparent mode; then the same
 * bytes go to the device's NotifyAddr
 * (gw_southbound_notify_device). Nothing is forwarded unless the result is FORWARDED. @error
 * says why otherwise (and is logged by the caller).
 */
GwNorthboundRelay
gw_northbound_relay_notification(GwNorthbound *self,
                                 const gchar *server_id,
                                 const gchar *device_id,
                                 GBytes *pkg0,
                                 GError **error);

/* queues a Generic Alert for @server_id (must exist); returns its id or 0 */
guint
gw_northbound_queue_alert(GwNorthbound *self, const GwAlert *alert, GError **error);
/* (added) as gw_northbound_queue_alert, and a session with that server follows shortly
 * (bursts share one session), as for the inventory alerts: the image store's and Fanout's
 * completion alerts (flow Y') */
guint
gw_northbound_send_alert(GwNorthbound *self, const GwAlert *alert, GError **error);

/*
 * (added) Flow Y: called while a session with @server_id runs (from an Exec handler of one of
 * its commands), holds the gateway's reply to the server's package (gw-server-link.h). Returns
 * a token for release, 0 when no session with that server is running.
 * gw_northbound_release_reply() releases it; @alert (nullable) is queued durably first and
 * goes in the held reply when that session still runs, else in a new session soon (Y').
 * Returns the alert id (with @alert), 1 without, 0 when the alert could not be queued.
 */
guint
gw_northbound_hold_reply(GwNorthbound *self, const gchar *server_id);
guint
gw_northbound_release_reply(GwNorthbound *self,
                            const gchar *server_id,
                            guint token,
                            const GwAlert *alert,
                            GError **error);

G_END_DECLS
