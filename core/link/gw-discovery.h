/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * mDNS/DNS-SD through avahi-daemon (avahi-client on the GLib main loop, spec/GWMO.md §4):
 * publishes one service (the gateway's _gwmo._tcp on its southbound port, with its TXT
 * record; renamed with avahi_alternative_service_name() when another host has the name) and
 * browses one service type (_omadm._tcp), resolving each instance announced.
 *
 * It survives avahi-daemon being absent, starting late or restarting, and the system bus
 * being absent: the avahi client is made with AVAHI_CLIENT_NO_FAIL (it waits for the daemon on
 * the bus), made again when the daemon goes away, and while there is no system bus at all
 * (avahi_client_new() fails) it is retried on a timer with back-off. Every time the client
 * runs again the service is published and the browser made again. One log line per state
 * change.
 *
 * Signals:
 *  "state-changed" (void): gw_discovery_get_state() changed.
 *  "device-found" (const gchar *name, const gchar *host, const gchar *address, guint port,
 *      const gchar *const *txt): an instance of the browsed type was resolved (txt: its TXT
 *      strings, "key=value", valid UTF-8). Emitted again when it is resolved again (another
 *      interface or protocol, a restarted daemon).
 *  "device-lost" (const gchar *name): the instance was withdrawn (on every interface).
 */

typedef enum {
	GW_DISCOVERY_STATE_DISABLED,    /* not started */
	GW_DISCOVERY_STATE_UNAVAILABLE, /* no system bus: retried on a timer */
	GW_DISCOVERY_STATE_WAITING,     /* the bus is there, avahi-daemon is not (yet) running */
	GW_DISCOVERY_STATE_RUNNING,     /* published (when there is a port) and browsing */
} GwDiscoveryState;

#define GW_TYPE_DISCOVERY (gw_discovery_get_type())
G_DECLARE_FINAL_TYPE(GwDiscovery, gw_discovery, GW, DISCOVERY, GObject)

GwDiscovery *
gw_discovery_new(void);
/* what to publish, before gw_discovery_start(): @name (cut to 63 bytes), @type
 * ("_gwmo._tcp"), @port (0: publish nothing), @txt ("key=value" strings, nullable) */
void
gw_discovery_set_service(GwDiscovery *self,
                         const gchar *name,
                         const gchar *type,
                         guint16 port,
                         const gchar *const *txt);
/* the service type to browse ("_omadm._tcp"; NULL: none), before gw_discovery_start() */
void
gw_discovery_set_browse_type(GwDiscovery *self, const gchar *type);
/* the longest wait between two attempts while there is no system bus (default 10 s) */
void
gw_discovery_set_max_retry_interval(GwDiscovery *self, guint seconds);
void
gw_discovery_start(GwDiscovery *self);
/* withdraws the service, stops browsing; the state is DISABLED again */
void
gw_discovery_stop(GwDiscovery *self);

GwDiscoveryState
gw_discovery_get_state(GwDiscovery *self);
/* "disabled", "unavailable", "waiting-for-daemon", "running" (the log's words) */
const gchar *
gw_discovery_state_to_string(GwDiscoveryState state);
/* the D-Bus Manager property Discovery (spec/GWMO.md §9): "running", "no-daemon" (waiting for
 * avahi-daemon, or no system bus at all) or "disabled" */
const gchar *
gw_discovery_state_to_dbus(GwDiscoveryState state);
/* the name published (after renames), NULL when nothing is published */
const gchar *
gw_discovery_get_service_name(GwDiscovery *self);

G_END_DECLS
