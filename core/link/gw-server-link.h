/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-session.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-dm2.h"
#include "gw-http-client.h"

G_BEGIN_DECLS

/*
 * The northbound link to one DM Server, described by one ./DMAcc/<x> entry: ServerID,
 * AppAddr/<x>/Addr, AppAuth/<x> with AAuthLevel CLCRED (what the gateway presents) and SRVCRED
 * (what the server must present), AAuthType BASIC | DIGEST | HMAC, AAuthName, AAuthSecret,
 * AAuthData (the nonce). The entry is read afresh for every session, so a DM Server that changes
 * the account is honoured from the next session on.
 *
 * A session is the client-role GwDmSession driven over HTTP(S) POSTs until the server's package
 * needs no reply. One session at a time per link.
 *
 * Signals:
 *  "alert-delivered" (guint id): the server acknowledged a queued Generic Alert.
 *  "message-executed": the commands of a server message ran on the tree; emitted before the
 *      reply is sent, so a handler can make the changes durable first.
 */

#define GW_TYPE_SERVER_LINK (gw_server_link_get_type())
G_DECLARE_FINAL_TYPE(GwServerLink, gw_server_link, GW, SERVER_LINK, GObject)

typedef struct {
	guint id;
	GwSyncmlCommand *alert; /* a Generic Alert (gw_syncml_alert_new_generic) */
	GwDm2Alert *dm2_alert;  /* (added) the same for a DM 2.0 server, nullable */
	/* (added) its identity, nullable: a DM 2.0 Package #1 carries it in
	 * GW_DM2_HEADER_ALERT_ID (a DM 1.x alert has it in its Item's EMI already). A DM 2.0
	 * Package #1 takes as many alerts as that header has room for; the rest stay queued. */
	gchar *identity;
} GwServerLinkAlert;

void
gw_server_link_alert_free(GwServerLinkAlert *alert);

GwServerLink *
gw_server_link_new(GwDmTree *tree, GwHttpClient *client, const gchar *dmacc_uri);
/* (added) with a store, each server message's changes are committed through
 * gw_dm_store_commit_async() (group commit with whatever else is pending) before the reply
 * goes out; a failed commit ends the run with that error. NULL: no commit of its own. */
void
gw_server_link_set_store(GwServerLink *self, GwDmStore *store);
const gchar *
gw_server_link_get_dmacc_uri(GwServerLink *self);
/* ./DMAcc/<x>/ServerID now, or NULL */
gchar *
gw_server_link_dup_server_id(GwServerLink *self);
gboolean
gw_server_link_is_busy(GwServerLink *self);

/*
 * Runs one session: @alert_code 1201 (client-initiated) or 1200 (after a Package #0, with its
 * @session_id). @alerts (element-type GwServerLinkAlert, nullable) are delivered in it.
 * Fails with GW_ERROR_IN_PROGRESS when a session runs, GW_ERROR_INVALID_ARGS when the account
 * is incomplete or its address not http(s), GW_ERROR_PERMISSION_DENIED for a clear-text http://
 * address that is not allowed, GW_ERROR_NETWORK/TIMED_OUT for transport, GW_ERROR_AUTH_FAILED,
 * PROTOCOL.
 */
void
gw_server_link_run_session_async(GwServerLink *self,
                                 guint alert_code,
                                 const gchar *session_id,
                                 GPtrArray *alerts,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean
gw_server_link_run_session_finish(GwServerLink *self,
                                  GAsyncResult *res,
                                  GwDmSessionStats *stats,
                                  GError **error);

/*
 * (added) Flow Y of GwMO, the reply held in the running session: gw_server_link_hold_reply()
 * (from an Exec handler while the server's commands run) makes the gateway's reply to the
 * server's package wait — the commands are executed and stored ("message-executed"), nothing is
 * sent — until every hold is released with gw_server_link_release_reply(). Alerts added with
 * gw_server_link_add_alert() meanwhile go in that reply ("alert-delivered" when acknowledged).
 * hold returns a token (> 0) for release, which ignores a token of a session that ended; hold
 * returns 0 and add_alert FALSE when no session is running (add_alert frees @alert then).
 * The caller bounds the wait (the server's own session timeout is the limit).
 */
guint
gw_server_link_hold_reply(GwServerLink *self);
void
gw_server_link_release_reply(GwServerLink *self, guint token);
gboolean
gw_server_link_add_alert(GwServerLink *self, guint id, GwSyncmlCommand *alert);

/* (added) whether an http:// server address (AppAddr, RespURI) is allowed; FALSE (the default):
 * a session with such an address fails with GW_ERROR_PERMISSION_DENIED naming the account;
 * TRUE: it runs, and each use is logged as a warning ([northbound] allow-insecure-http) */
void
gw_server_link_set_allow_insecure_http(GwServerLink *self, gboolean allow);

/* (added) whether the account's server speaks OMA DM 2.0 (REST/JSON, gw-dm2-session.h)
 * rather than DM 1.x; default FALSE. Read at the start of each session. A DM 2.0 session
 * authenticates over TLS with the account's credentials (below), sent to the
 * account's own origin only; HGET/HPUT/HPOST transfers go through the same GwHttpClient
 * (its deadline and retries per exchange); a Package #2 or HGET body is bounded
 * (GW_DM_MAX_VALUE_SIZE + 64 KiB / GW_DM_MAX_VALUE_SIZE); a malformed Package #2 ends the run
 * with GW_ERROR_PROTOCOL and a log line. No held reply: hold_reply() returns 0. */
void
gw_server_link_set_dm2(GwServerLink *self, gboolean dm2);
gboolean
gw_server_link_get_dm2(GwServerLink *self);

/* the account's SRVCRED secret and nonce, for Package #0 digests (owner access) */
gboolean
gw_server_link_get_server_credentials(GwServerLink *self, gchar **secret, GBytes **nonce);

/*
 * (added) The DMAcc 2.0 layout (OMA-TS-DM_Protocol-V2_0 §11.2): SrvID, SrvURI, Name,
 * Auth/Trsp/{Data,Secret}, Auth/Noti/{Type,Data,Secret}, Perm, Push (gw-dm-std.c has its DDF).
 * An account's identity is its ServerID, else its SrvID. A DM 2.0 session goes to its SrvURI,
 * else its first AppAddr/<x>/Addr (a DM 1.x session: AppAddr only), and authenticates with
 * Auth/Trsp/Data (user name) and Auth/Trsp/Secret (password) as Ext/TrspAuthType says
 * (HTTP-BASIC when absent, HTTP-DIGEST, X509: the gateway's TLS identity) when the account has
 * Auth/Trsp or Ext/TrspAuthType, else with its CLCRED entry.
 */
gchar *
gw_server_link_dup_account_server_id(GwDmTree *tree, const gchar *dmacc_uri);
/* TRUE for an account in the DMAcc 2.0 layout only: a SrvID and no ServerID */
gboolean
gw_server_link_account_is_dm2(GwDmTree *tree, const gchar *dmacc_uri);
/* the DM 2.0 Package #0 digest's server secret and auth data: Auth/Noti/Secret and
 * Auth/Noti/Data (@auth_data NULL when absent) when the account has Auth/Noti/Secret, else its
 * SRVCRED secret and nonce; FALSE when it has neither. The secret's bytes are wiped when
 * *@secret is freed. Auth/Noti/Type is not read (the TS text defines no values for it). */
gboolean
gw_server_link_get_notification_credentials(GwServerLink *self,
                                            GBytes **secret,
                                            GBytes **auth_data);

G_END_DECLS
