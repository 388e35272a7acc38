/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-config.h"
#include "gw-discovery.h"
#include "gw-inventory.h"

G_BEGIN_DECLS

/*
 * Discovered records (issue 14 §4, spec/GWMO.md §9): what GwDiscovery browses (_omadm._tcp)
 * becomes inventory records with Status Discovered (gw_inventory_discover).
 *
 * An announcement is taken when its TXT has a valid devid= (the DeviceID: 1 to 128 printable
 * ASCII characters, no space) and, when present, a valid path= (an absolute URL path of at most
 * 255 bytes, no query, no fragment, no space or control character); the record's Address is
 * "<resolved address>:<port><path>" ("[v6]:port" for IPv6). Anything else is ignored, with one
 * rate-limited log line per service name. At most [discovery] max-discovered Discovered
 * records exist at once: further new devices are refused (rate-limited log) until some go, so
 * a flooded LAN costs bounded memory, and sends at most that many DeviceDiscovered alerts. A
 * record of any other status is left alone (gw_inventory_discover).
 *
 * When every service naming a DeviceID is withdrawn, its Discovered record is removed
 * [discovery] forget-after seconds later (0: at once), unless it is announced again, or
 * registered, or provisioned meanwhile. The same holds for every Discovered record while
 * avahi-daemon is away (it reports what it sees again once it is back), and for those of an
 * earlier run of gwmod. The records' Status, Summary and alerts are gw-inventory.h's and
 * gw-northbound.h's.
 */

#define GW_TYPE_DISCOVERED (gw_discovered_get_type())
G_DECLARE_FINAL_TYPE(GwDiscovered, gw_discovered, GW, DISCOVERED, GObject)

GwDiscovered *
gw_discovered_new(GwConfig *config, GwInventory *inventory);
/* follows @discovery's "device-found" and "device-lost" */
void
gw_discovered_watch(GwDiscovered *self, GwDiscovery *discovery);

/* the DeviceID (devid=) and path (path=, NULL when absent) of a TXT record ("key=value"
 * strings); GW_ERROR_INVALID_ARGS when devid= is missing or a value is not valid */
gboolean
gw_discovered_parse_txt(const gchar *const *txt, gchar **device_id, gchar **path, GError **error);

G_END_DECLS
