/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-tree.h"
#include "gw-northbound.h"

G_BEGIN_DECLS

/*
 * The EDTrigger MO (./GwMO/EDTrigger, spec/GWMO.md §1): Transparent mode through the tree, the
 * alternative to the X-GwMO-Target header (flow Z', GwMO-TMode-001).
 *
 * A DM Server Adds an entry ./GwMO/EDTrigger/<x> (any server may: the root is "Add=*&Get=*");
 * the entry then carries that server's ACL (Add, Delete, Exec, Get, Replace for it alone), so
 * no other server sees or fires it. The gateway adds Operations/Trigger (null, Exec) and Status
 * (int, Get; 0 until the first Trigger). The server Adds (later Replaces) DeviceID (chr) and
 * Notification (bin: a Package #0 for the End Device, sent with Format b64) and Execs
 * Operations/Trigger. The gateway then runs gw_northbound_relay_notification() — the same
 * check as POST /notify with X-GwMO-Target: the Package #0 must name the executing server and
 * its digest must verify with that server's credentials — and on success forwards the bytes
 * unchanged to the device's NotifyAddr. The device then opens its session with the DM Server
 * directly.
 *
 * Status (also the Exec's status): 200 forwarded (the HTTP POST or UDP datagram left; a
 * delivery failure after that is only logged), 400 no or malformed Notification, 401 the digest
 * does not verify or the Package #0 names another server (nothing forwarded), 403 the server may
 * not see the device, 404 no DeviceID or unknown device, 405 the device is not in Transparent
 * mode (GwMO-MOO-001), 410 (Gone) the device has no NotifyAddr.
 */

#define GW_TYPE_EDTRIGGER (gw_edtrigger_get_type())
G_DECLARE_FINAL_TYPE(GwEdTrigger, gw_edtrigger, GW, EDTRIGGER, GObject)

/* registers the Exec handler and watches entries being added; @northbound does the relaying */
GwEdTrigger *
gw_edtrigger_new(GwDmTree *tree, GwNorthbound *northbound, GError **error);

G_END_DECLS
