/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-config.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-http-server.h"
#include "gw-inventory.h"
#include "gw-southbound.h"
#include "gw-syncml.h"

G_BEGIN_DECLS

/*
 * The gateway bootstraps its End Devices (seed 004, GwMO-HLF-005/006; spec/GWMO.md §4).
 *
 * GET /bootstrap?dev=<DeviceID> on the southbound listener (its connection and body limits run
 * first) is the local DM Bootstrap Server: 200 with a SyncML DM 1.2 message
 * (application/vnd.syncml.dm+xml, or +wbxml when the Accept header prefers it) holding one Add
 * of ./DMAcc/gwmo-<GwID> (AppID w7, ServerID <GwID>, Name, AppAddr/1/{Addr = the southbound
 * /dm URL the request came in on, AddrType URI}, AAuthPref syncml:auth-md5, AppAuth/1 CLCRED
 * DIGEST <DeviceID> <new secret>, AppAuth/2 SRVCRED DIGEST <GwID> <new secret>, and
 * Ext/LapseTimer <seconds> when the bootstrap is not trusted). The same secrets become the
 * record's Credentials (DIGEST), stored before the answer goes out.
 *
 * Who gets one: nobody while ./GwMO/Config/Bootstrap/EDBootstrap is false (403); a device a
 * DM Server approved (Exec of Devices/<x>/Operations/Bootstrap): trusted, no lapse, may replace
 * the credentials the record held; otherwise with [southbound] auto-bootstrap true a device
 * whose record holds no credentials (409 when it does: a non-trusted bootstrap never replaces a
 * pre-existing account): not trusted, lapsing; with auto-bootstrap false 403. 400 for a
 * missing or invalid dev. At most GW_ED_BOOTSTRAP_LAPSING_PER_PEER lapsing bootstraps per
 * client and GW_ED_BOOTSTRAP_LAPSING_MAX in all (503, Retry-After). Every refusal is logged
 * (rate-limited); secrets never are.
 *
 * Lapse: a non-trusted bootstrap writes Credentials/LapseAt (unix seconds, never readable)
 * = now + ./GwMO/Config/Bootstrap/LapseTimer, and Credentials/BootstrapAccounts (the ServerIDs
 * of the accounts made through it, "+"-separated: the gateway's own). The device's first
 * authenticated POST /dm cancels it. When the deadline passes first (checked by a timer for the
 * nearest deadline, restored from the records at start), the record's Credentials (the
 * gateway account of the device) go, with every ServerID of BootstrapAccounts in its
 * ServerIDs, and the record turns Detached; a record the bootstrap itself made
 * (Credentials/BootstrapCreated) goes whole. The device's later POST /dm with the old secrets
 * gets 403.
 *
 * Server-assisted (seed 004 §8.x.1): Exec of Devices/<x>/Operations/Bootstrap by a DM Server
 * the record's ACL gives Replace (the owner always): on a record holding credentials that are
 * not trusted (a local bootstrap, an open registration) it validates them (Trusted true, lapse
 * cancelled); otherwise it approves the device's next GET /bootstrap
 * (Credentials/BootstrapApproved). 200; 404 for no record; 425 for a server without Replace.
 *
 * A DM Server's decision on a Discovered device (issue 14 §4): a record with Status
 * Discovered, no ServerIDs and no credentials is readable by every server ("Get=*"), which
 * heard of it in a DeviceDiscovered alert; any server that may Get it may Exec its
 * Operations/Bootstrap, which approves it and makes that server its first ServerID (the
 * record's ACL then follows, so a second server's Exec is 425). A provisioned record without
 * ServerIDs stays the owner's to approve (the owner made it).
 *
 * To a DM Server too (GwMO-HLF-006, seed 004 §8.x.1 "MAY also bootstrap the End Device to
 * other DM Servers"): the Exec's Data (GW_GWMO_ED_EXEC_* form) names a DM Server of the
 * gateway, the caller itself (the owner may name any; another one: 425; not one of the
 * gateway's: 404; a malformed form: 400, nothing changed). The bootstrap is trusted, so:
 *  - a device without credentials (approved, its GET /bootstrap to come): the request waits in
 *    Credentials/ServerAccounts (secrets without Get) and the device's bootstrap message
 *    carries a second Add, of ./DMAcc/<ServerID>, after the gateway's; then it is deleted;
 *    200;
 *  - a device holding the gateway's account (not trusted: the same Exec validates it first):
 *    the Add goes over its next session (gw_southbound_send_command_async: notified, or
 *    waiting for its own session, up to GW_ED_BOOTSTRAP_DELIVERY_TIMEOUT s); 202 at once,
 *    Operations/BootstrapStatus tells the outcome, and the log; the request stays in
 *    Credentials/ServerAccounts until the device answered, and is sent again after a restart.
 * Either way, once the account is on its way (the message) or applied (Status 200), the
 * ServerID joins the record's ServerIDs. The secrets are never logged nor stored readable.
 */

#define GW_ED_BOOTSTRAP_DELIVERY_TIMEOUT 86400

#define GW_ED_BOOTSTRAP_LAPSING_PER_PEER 8
#define GW_ED_BOOTSTRAP_LAPSING_MAX 1024
/* bytes of random secret (hex-encoded, twice as many characters) */
#define GW_ED_BOOTSTRAP_SECRET_BYTES 16

/* what one bootstrap message carries */
typedef struct {
	const gchar *gw_id;         /* ServerID of the account, AAuthName of SRVCRED */
	const gchar *device_id;     /* Target of the message, AAuthName of CLCRED */
	const gchar *dm_url;        /* AppAddr/1/Addr */
	const gchar *client_secret; /* CLCRED: what the device presents */
	const gchar *server_secret; /* SRVCRED: what the gateway presents */
	guint lapse_timer;          /* seconds; 0: trusted, no Ext/LapseTimer */
} GwEdBootstrapAccount;

/* a DM Server's account the gateway puts on a device (GwMO-HLF-006): the Data of the Exec of
 * Operations/Bootstrap, GW_GWMO_ED_EXEC_* in gw-gwmo-names.h */
typedef struct {
	gchar *server_id;     /* ServerID, AAuthName of SRVCRED */
	gchar *addr;          /* AppAddr/1/Addr; NULL: the gateway's own DMAcc's */
	gchar *name;          /* AAuthName of CLCRED: what the device presents to the server */
	gchar *secret;        /* AAuthSecret of CLCRED */
	gchar *server_secret; /* AAuthSecret of SRVCRED */
} GwEdServerAccount;

void
gw_ed_server_account_clear(GwEdServerAccount *account);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(GwEdServerAccount, gw_ed_server_account_clear)
/* parses the form (server, name, secret, server-secret required; addr optional, http(s)://);
 * every value 1…255 bytes of UTF-8 without control characters; an unknown or repeated key
 * refuses it (GW_ERROR_INVALID_ARGS, whose message never holds a value) */
gboolean
gw_ed_bootstrap_parse_server_request(const gchar *data,
                                     gsize len,
                                     GwEdServerAccount *account,
                                     GError **error);
/* the DMAcc node name of a DM Server's account on a device: its ServerID with every byte
 * outside [A-Za-z0-9._-] as '_' */
gchar *
gw_ed_bootstrap_server_account_name(const gchar *server_id);
/* the Add of ./DMAcc/<that name> with its DM 1.2 DMAcc leaves (trusted: no Ext/LapseTimer);
 * @account->addr must be set */
GwSyncmlCommand *
gw_ed_bootstrap_build_server_add(const GwEdServerAccount *account);

/* the DMAcc node name of the gateway's account on a device: "gwmo-<GwID>" with every byte
 * outside [A-Za-z0-9._-] as '_' */
gchar *
gw_ed_bootstrap_account_name(const gchar *gw_id);
/* the bootstrap message (pure) */
GwSyncmlMessage *
gw_ed_bootstrap_build_message(const GwEdBootstrapAccount *account);
/* its bytes: XML, or WBXML with @wbxml */
GBytes *
gw_ed_bootstrap_encode(const GwSyncmlMessage *msg, gboolean wbxml, GError **error);
/* whether an Accept header value prefers application/vnd.syncml.dm+wbxml over +xml (higher q,
 * or equal q and listed first; absent: XML) */
gboolean
gw_ed_bootstrap_accept_prefers_wbxml(const gchar *accept);
/* the dev query value checked: a DeviceID the inventory accepts (UTF-8 XML text, 1…255 bytes,
 * no control characters); GW_ERROR_INVALID_ARGS otherwise */
gboolean
gw_ed_bootstrap_validate_device_id(const gchar *dev, GError **error);
/* "<scheme>://<host>/dm" from the request's Host header when it is a plain host[:port]
 * (letters, digits, . - : [ ], at most 255 bytes), else NULL */
gchar *
gw_ed_bootstrap_dm_url(const gchar *host_header, gboolean tls);

#define GW_TYPE_ED_BOOTSTRAP (gw_ed_bootstrap_get_type())
G_DECLARE_FINAL_TYPE(GwEdBootstrap, gw_ed_bootstrap, GW, ED_BOOTSTRAP, GObject)

GwEdBootstrap *
gw_ed_bootstrap_new(GwConfig *config,
                    GwDmTree *tree,
                    GwDmStore *store,
                    GwInventory *inventory,
                    GwSouthbound *southbound);
/* the Operations/Bootstrap nodes and their Exec handler, the lapse deadlines of the records */
gboolean
gw_ed_bootstrap_start(GwEdBootstrap *self, GError **error);
/* serves GET /bootstrap on @server (the southbound listener) */
void
gw_ed_bootstrap_attach(GwEdBootstrap *self, GwHttpServer *server);
/* lapses every non-trusted bootstrap whose deadline passed; returns how many */
guint
gw_ed_bootstrap_check_lapses(GwEdBootstrap *self);

G_END_DECLS
