/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * mDNS for the reference End Device (issue 14 §4, contract point 4), through avahi-client on
 * the default GLib main context, as a DM-capable device on a LAN would do it:
 *  - announce: publish "_omadm._tcp" NAME on PORT with TXT devid=<DeviceID> and path=<path>
 *    (or many such services from one client, as a flood of devices); withdrawn when freed (or when
 * the process ends: avahi-daemon drops a client's records);
 *  - discover: browse and resolve "_gwmo._tcp" and build the gateway's local bootstrap URL
 *    <scheme>://<host>:<port><bootstrap>?dev=<DeviceID> from the TXT scheme= (default https)
 *    and bootstrap= of the first gateway resolved.
 */

typedef struct _GwPeerMdns GwPeerMdns;

/* publishes the services (one per entry of @names and @dev_ids, NULL-terminated, the same
 * length) in one entry group and waits (running the default main context, @timeout_s at most)
 * until avahi-daemon established them; NULL and @error when it cannot */
GwPeerMdns *
gw_peer_mdns_announce(const gchar *const *names,
                      const gchar *const *dev_ids,
                      guint16 port,
                      const gchar *path,
                      guint timeout_s,
                      GError **error);
/* withdraws the service */
void
gw_peer_mdns_free(GwPeerMdns *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwPeerMdns, gw_peer_mdns_free)

/* the bootstrap URL of the first _gwmo._tcp gateway resolved within @timeout_s, for @dev_id
 * (escaped in the query) */
gchar *
gw_peer_mdns_discover_bootstrap(const gchar *dev_id, guint timeout_s, GError **error);

/* the URL from a resolved gateway (exposed for the unit test): @host is an address (IPv6 gets
 * brackets); NULL and GW_ERROR_PROTOCOL when the TXT has no usable bootstrap= or scheme= */
gchar *
gw_peer_mdns_bootstrap_url(const gchar *host,
                           guint16 port,
                           const gchar *const *txt,
                           const gchar *dev_id,
                           GError **error);

G_END_DECLS
