/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-config.h"
#include "gw-dm-session.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-http-server.h"
#include "gw-inventory.h"

G_BEGIN_DECLS

/*
 * The gateway as DM Server of its End Devices (spec/GWMO.md §3, §4), on the southbound
 * listener ([southbound] listen, POST /dm, SyncML XML or WBXML):
 *  - sessions are keyed by (SyncHdr SessionID, Source LocURI = DeviceID); a device with a
 *    record and credentials in the inventory runs a SERVER-role GwDmSession with them (the
 *    gateway presents its DevId and the device's ServerSecret, the device its ClientName and
 *    ClientSecret); an unknown device, or one without credentials, is refused with HTTP 403
 *    unless [southbound] open-registration is true (then: no peer authentication, registered
 *    with Trusted=false). Until the device authenticates its session is a pending one (a few
 *    per peer address, no max-sessions slot, no queued command, no nonce kept); then it is the
 *    device's session and ends the device's older ones. MsgID 1 with Alert 1200/1201 starts a
 *    new session even on the key of an open one. Malformed messages get HTTP 400 and end the
 *    session they were meant for at once (when their SyncHdr can be read); sessions idle for
 *    [southbound] session-timeout seconds are dropped. Ended sessions give their unanswered
 *    commands back to the device's queue. Refusals are logged, rate-limited per reason.
 *  - explicit registration: a Generic Alert urn:oma:at:gwmo:1.0:DeviceRegistration carrying
 *    <GwMORegistration> (Transparent mode, GwMO-TMode-001); its DeviceID must be the session's.
 *  - implicit registration: an authenticated device's Package #1 DevInfo registers or
 *    updates its record (Mode 2 Proxy when new, NotifyAddr from ./DevInfo/Ext/NotifyAddr).
 *  - the Proxy path: gw_southbound_send_command_async() delivers one command to one device
 *    (in a running session, or after a Package #0 to its NotifyAddr, or in its next session).
 *    A Replace, Delete or Copy below ./DMAcc for a device whose record is not Trusted is
 *    answered 403 and never sent (seed 004 §8.x.2: a non-trusted Gateway Bootstrap does not
 *    change the device's pre-existing DMAcc; an Add of a new account passes).
 * Signals:
 *  "session-finished" (const gchar *device_id, gboolean ok): a device's session ended
 *      (finished, failed or dropped when idle).
 *  "device-registered" (const gchar *device_id, GStrv server_ids): (added, seed 001) a
 *      registration alert listing the device's ServerIDs was accepted (emitted while its
 *      message is handled: a handler defers what it does with the device's session).
 *  "device-authenticated" (const gchar *device_id): a device proved its credentials in a
 *      session (it leaves the pending ones); the local bootstrap's lapse ends there.
 */

#define GW_TYPE_SOUTHBOUND (gw_southbound_get_type())
G_DECLARE_FINAL_TYPE(GwSouthbound, gw_southbound, GW, SOUTHBOUND, GObject)

GwSouthbound *
gw_southbound_new(GwConfig *config,
                  GwDmTree *tree,
                  GwDmStore *store,
                  GwInventory *inventory,
                  const gchar *state_dir,
                  GError **error);
/* listens on [southbound] listen (comma-separated; https:// uses the gateway's identity
 * state_dir/tls.crt + tls.key, created on first use) */
gboolean
gw_southbound_start(GwSouthbound *self, GError **error);
/* the listening URIs with real ports (free with g_strfreev) */
gchar **
gw_southbound_get_listen_uris(GwSouthbound *self);
/* (added) the southbound listener, for other endpoints on it (GET /images/) */
GwHttpServer *
gw_southbound_get_http_server(GwSouthbound *self);
/* number of device sessions held: running ones and those waiting for their peer's
 * credentials */
guint
gw_southbound_get_session_count(GwSouthbound *self);
/* (added) how many of them wait for their peer's credentials (a few per peer address at most,
 * none a max-sessions slot) */
guint
gw_southbound_get_pending_count(GwSouthbound *self);

/*
 * Proxy mode, one command for one device (takes ownership of @cmd: Get, Replace, Add,
 * Delete, Exec, Copy, Atomic, Sequence). The command waits in the device's queue (several
 * commands per device go out in order) and joins a running session with the device, or the
 * device is sent a Package #0 (server id = the gateway's DevId, password = its ServerSecret,
 * nonce = the device's last NextNonce, or the all-zero nonce) and the command goes out in the
 * session it opens; a device without NotifyAddr
 * gets it in its next own session. Completes with the device's Status (and Results for a
 * Get); status 408 when nothing came back within @timeout_s seconds (0: 60) — a command not
 * sent yet is withdrawn; status 404 for an unknown device, 403 for a change below ./DMAcc
 * of an untrusted one (above). These are results, not errors: the finish function only fails
 * on cancellation.
 */
void
gw_southbound_send_command_async(GwSouthbound *self,
                                 const gchar *device_id,
                                 GwSyncmlCommand *cmd,
                                 guint timeout_s,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
/* @results: (out) (optional) (element-type GwSyncmlItem) the items of the device's Results */
gboolean
gw_southbound_send_command_finish(GwSouthbound *self,
                                  GAsyncResult *res,
                                  guint *status,
                                  GPtrArray **results,
                                  GError **error);

/*
 * Delivers @pkg0 (a Package #0, application/vnd.syncml.notification) to a device, fire and
 * forget: @device_id_or_notify_addr is a DeviceID of the inventory (its NotifyAddr is used)
 * or an address itself (http://, https://, udp://host:port). http(s): one POST, udp: one
 * datagram. Returns FALSE with @error when there is nowhere to send it (unknown device, no
 * NotifyAddr, unsupported or malformed address); delivery failures are logged.
 */
gboolean
gw_southbound_notify_device(GwSouthbound *self,
                            const gchar *device_id_or_notify_addr,
                            GBytes *pkg0,
                            GError **error);

G_END_DECLS
