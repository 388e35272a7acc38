/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-config.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-southbound.h"

G_BEGIN_DECLS

/*
 * DM Servers bootstrapping the gateway on behalf of an End Device (seed 001 §8.X.1, work
 * flows 1 and 2; spec/GWMO.md §5).
 *
 * A device's registration alert lists the ServerIDs of its DMAcc accounts (step 1-4; only the
 * alert is used: a device that registers implicitly, or gives no ServerIDs, is not matched).
 * ServerIDs the gateway holds an account for are matched (step 3: the record's ACL and
 * DeviceAttached go to them, GwInventory). For each one it does not hold (step 4), a work flow
 * starts, at most one per (device, ServerID) at a time, at most
 * GW_SERVER_BOOTSTRAP_MAX_PER_DEVICE per device and GW_SERVER_BOOTSTRAP_MAX_RUNNING in all
 * (more are refused with a rate-limited log line: a hostile device may list thousands):
 *
 *  1. over the device's session (gw_southbound_send_command_async) the gateway Gets the
 *     device's ./DMAcc children and their ServerID leaves (one Get, at most
 *     GW_SERVER_BOOTSTRAP_MAX_ACCOUNTS items) to find the account <x> of that ServerID, then
 *     ./DMAcc/<x>/Ext/BootstrapURI;
 *  2. [bootstrap] workflow = "uri" | "request" | "both" (default "both") chooses:
 *     - work flow 1 ("uri", or "both" with a BootstrapURI): an HTTP GET of
 *       <BootstrapURI>?gwid=<GwID> (https only; http:// only to a loopback address and only
 *       with [bootstrap] allow-http-loopback, for tests), CA-verified ([northbound] ca-file),
 *       at most [bootstrap] fetch-max-size bytes and [bootstrap] fetch-timeout seconds. The
 *       answer (a DM message, XML or WBXML, x-syncml-hmac of an authorised bootstrap server
 *       over the body, or a Cred over https) is imported exactly as a POST /bootstrap is
 *       (gw_bootstrap_import: same servers, same all-or-nothing apply, one store flush);
 *     - work flow 2 ("request", or "both" without a BootstrapURI): an Exec of
 *       ./DMAcc/<x>/Ext/GatewayBootstrapRequest on the device with Data
 *       "gwid=<GwID>&addr=<the gateway's POST /bootstrap URL>&server=<ServerID>"
 *       (form-urlencoded); the device has its bootstrap server POST a signed bootstrap to
 *       the gateway. The flow counts as running until an account with that ServerID appears
 *       (gw_server_bootstrap_servers_added) or [bootstrap] request-timeout seconds pass.
 * Every step and every refusal is logged; nothing a device or a bootstrap server sends is
 * applied unless gw_bootstrap_import() accepts it.
 *
 * Signals:
 *  "applied" (GStrv new_server_ids): a work flow 1 (or gw_server_bootstrap_fetch_async)
 *      bootstrap was imported; the ServerIDs of the accounts it brought.
 */

#define GW_SERVER_BOOTSTRAP_MAX_PER_DEVICE 4
#define GW_SERVER_BOOTSTRAP_MAX_RUNNING 32
#define GW_SERVER_BOOTSTRAP_MAX_ACCOUNTS 16

#define GW_SERVER_BOOTSTRAP_EXT_URI "Ext/BootstrapURI"
#define GW_SERVER_BOOTSTRAP_EXT_REQUEST "Ext/GatewayBootstrapRequest"

#define GW_TYPE_SERVER_BOOTSTRAP (gw_server_bootstrap_get_type())
G_DECLARE_FINAL_TYPE(GwServerBootstrap, gw_server_bootstrap, GW, SERVER_BOOTSTRAP, GObject)

/* @servers: the authorised bootstrap servers (gw_bootstrap_load_servers), kept */
GwServerBootstrap *
gw_server_bootstrap_new(GwConfig *config,
                        GwDmTree *tree,
                        GwDmStore *store,
                        GHashTable *servers,
                        GError **error);
/* where work flows 1 and 2 reach devices */
void
gw_server_bootstrap_set_southbound(GwServerBootstrap *self, GwSouthbound *southbound);
/* the gateway's POST /bootstrap URL sent in work flow 2 (the Data's addr=) */
void
gw_server_bootstrap_set_gateway_url(GwServerBootstrap *self, const gchar *url);
/* a device registered listing @server_ids (steps 2-4) */
void
gw_server_bootstrap_device_registered(GwServerBootstrap *self,
                                      const gchar *device_id,
                                      const gchar *const *server_ids);
/* accounts with these ServerIDs were bootstrapped (by any path): their flows are done */
void
gw_server_bootstrap_servers_added(GwServerBootstrap *self, const gchar *const *server_ids);
/* flows running now (for tests and logs) */
guint
gw_server_bootstrap_get_running(GwServerBootstrap *self);

/*
 * Work flow 1's fetch alone: GETs @uri (?gwid=<GwID> added) under the rules above and imports
 * the answer. Emits "applied" on success. Completes with the ServerIDs the bootstrap brought
 * (maybe none), or an error saying why nothing was applied. Also used at start-up with
 * [bootstrap] url when the gateway holds no DMAcc.
 */
void
gw_server_bootstrap_fetch_async(GwServerBootstrap *self,
                                const gchar *uri,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gchar **
gw_server_bootstrap_fetch_finish(GwServerBootstrap *self, GAsyncResult *res, GError **error);

/* whether @uri may be fetched ("https://…", or "http://" to a loopback address when
 * @allow_http_loopback); FALSE with @error saying why */
gboolean
gw_server_bootstrap_uri_is_allowed(const gchar *uri, gboolean allow_http_loopback, GError **error);

/*
 * Host allow-list of work flow 1 ([bootstrap] fetch-hosts): the gateway connects for a
 * bootstrap only to a host the owner listed, or to the host of [bootstrap] url; anything else
 * is refused before any connection (a device's BootstrapURI must not make the gateway GET
 * arbitrary URLs on the LAN or WAN). Empty (the default): no host a device names is fetched.
 * A pattern is a host name or an address (compared without case, a trailing dot and IPv6
 * brackets), "*.<domain>" for any name below <domain> (not <domain> itself, never an address)
 * or "*" for any host.
 */
/* the normalised patterns of @text (";" or "," separated), NULL with @error on a malformed one */
gchar **
gw_server_bootstrap_parse_fetch_hosts(const gchar *text, GError **error);
/* whether @host (a URL's host) matches one of @patterns (normalised, nullable) */
gboolean
gw_server_bootstrap_host_matches(const gchar *const *patterns, const gchar *host);

G_END_DECLS
