/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Package #0 delivery to End Devices (OMA-DM.md §1.2.5, GWMO.md §3): the link that wakes a
 * device (Proxy mode) or relays a DM Server's notification to it (Transparent mode). A
 * notification address is http:// or https:// (one POST of application/vnd.syncml.notification,
 * 10 s, one retry) or udp://host:port (one datagram; a host name is resolved first). Fire and
 * forget: delivery failures are logged, rate-limited; what the Package #0 says is the
 * enabler's business.
 */

#define GW_TYPE_NOTIFIER (gw_notifier_get_type())
G_DECLARE_FINAL_TYPE(GwNotifier, gw_notifier, GW, NOTIFIER, GObject)

GwNotifier *
gw_notifier_new(GError **error);
/* TRUE for an address the notifier can deliver to: http://, https:// or udp:// */
gboolean
gw_notifier_address_is_valid(const gchar *address);
/* sends @pkg0 to @address; FALSE with @error (GW_ERROR_INVALID_ARGS, GW_ERROR_NOT_SUPPORTED)
 * when there is nowhere to send it */
gboolean
gw_notifier_send(GwNotifier *self, const gchar *address, GBytes *pkg0, GError **error);

G_END_DECLS
