/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-config.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-syncml.h"

G_BEGIN_DECLS

/*
 * Server-initiated bootstrap of the gateway (DM profile, OMA-DM.md §1.2.7; seed 001 work flow
 * 2): a DM message, XML or WBXML, POSTed to the northbound listener's /bootstrap.
 *
 * Who may bootstrap the gateway is the owner's choice (the DM 1.2 bootstrap text leaves it to
 * the implementation): the ServerIDs of [bootstrap] servers in gwmod.conf, each with a secret
 * in [bootstrap] secrets-file (a key file, group [secrets], "<ServerID>=<secret>", readable
 * by gwmod only). A message is authenticated by either
 *   - the x-syncml-hmac header (username = the bootstrap server's ServerID, MAC over the exact
 *     body with its secret and an empty nonce), which binds the credentials to the content; or
 *   - a SyncHdr Cred of type syncml:auth-md5 for user = SyncHdr Source LocName, with the
 *     secret and an empty nonce (there is no session in which to hand out a nonce, so this
 *     digest does not change between messages and does not cover the body: it is accepted
 *     over TLS only, @over_tls).
 * syncml:auth-basic is refused (it would carry the secret itself).
 *
 * The message may hold Add and Replace commands (inside Atomic or Sequence too) whose items
 * target nodes strictly below ./DMAcc (the account and its connectivity references,
 * PrefConRef and ToConRef; the gateway has no ConnMO of its own: its network is the host's),
 * without a query ("?prop=ACL" and the like). Everything else refuses the whole message. The
 * items are applied as the local owner (ACLs not checked; the DMAcc DDF, formats and access
 * types are, as for every DM command: AAuthSecret and AAuthData stay unreadable), all or
 * nothing: one refused item rolls back every change. An account the message creates without an
 * ACL of its own gets "Get=<ServerID>&Replace=<ServerID>" (OMA Client Provisioning's rule for
 * provisioned accounts: its own server's only).
 */

#define GW_BOOTSTRAP_SECRETS_GROUP "secrets"

/*
 * Certificate pins ([bootstrap] certificates-file: a key file, group [certificates],
 * "<ServerID>=sha256:<hex>[,sha256:<hex>…]", the SHA-256 of a TLS client certificate's DER,
 * readable by gwmod only). A bootstrap server with a pin may POST /bootstrap over https only,
 * presenting a client certificate that is one of its pins; a server without a pin is
 * authenticated by its credentials alone.
 */
#define GW_BOOTSTRAP_CERTIFICATES_GROUP "certificates"

typedef enum {
	GW_BOOTSTRAP_APPLIED,   /* 200: every command applied */
	GW_BOOTSTRAP_MALFORMED, /* 400: not a DM message, or a command a bootstrap may not hold */
	GW_BOOTSTRAP_UNAUTHORIZED, /* 401: no credentials, or they do not verify */
	GW_BOOTSTRAP_FORBIDDEN,    /* 403: not an authorised bootstrap server; a node outside
	                            * ./DMAcc */
	GW_BOOTSTRAP_REFUSED,      /* 400: the tree refused a command (DDF, format, 418…) */
	GW_BOOTSTRAP_FAILED,       /* 500: applied but could not be stored (rolled back) */
	GW_BOOTSTRAP_REPLAYED,     /* 409: this exact body was applied before */
} GwBootstrapOutcome;

/*
 * Replay record. The MAC of a bootstrap has an empty nonce, so a captured body verifies for
 * ever; the gateway remembers a digest of each body it applied (HMAC-SHA256 of the exact body
 * bytes keyed with the bootstrap server's secret, so the file gives nothing to guess the
 * account secrets in the body with), the last GW_BOOTSTRAP_SEEN_MAX per bootstrap server
 * (the oldest forgotten), in <state-dir>/bootstrap.seen (a key file, group [seen],
 * "<ServerID>=<hex>;…", oldest first, mode 0600, replaced atomically and fsynced with its
 * directory). A body found there is refused with GW_BOOTSTRAP_REPLAYED (409), nothing
 * changed; a bootstrap server makes every bootstrap it sends differ (a fresh SessionID).
 * The digest is stored before the tree: a kill in between loses that bootstrap but never
 * lets its body apply twice. An unreadable record refuses every bootstrap (500) until it is
 * repaired or removed.
 */
#define GW_BOOTSTRAP_SEEN_FILE "bootstrap.seen"
#define GW_BOOTSTRAP_SEEN_GROUP "seen"
#define GW_BOOTSTRAP_SEEN_MAX 64

/* <the directory of @store's state>/GW_BOOTSTRAP_SEEN_FILE */
gchar *
gw_bootstrap_seen_path(GwDmStore *store);

/* the HTTP status answering @outcome */
guint
gw_bootstrap_outcome_to_http(GwBootstrapOutcome outcome);

/* ServerID → secret of the authorised bootstrap servers ([bootstrap] servers and
 * secrets-file); an empty table when none is configured. A configured server without a secret
 * in the file is an error (GW_ERROR_INVALID_ARGS), so is an unreadable file. */
GHashTable *
gw_bootstrap_load_servers(GwConfig *config, GError **error);

/* ServerID → its pins (NULL-terminated, "sha256:<64 lowercase hex>") from [bootstrap]
 * certificates-file; an empty table when the key is not set. An unreadable file, a pin that is
 * not "sha256:" and 64 hex digits (either case; ':' between bytes allowed), or a ServerID that
 * is not in @servers is an error (GW_ERROR_INVALID_ARGS). */
GHashTable *
gw_bootstrap_load_pins(GwConfig *config, GHashTable *servers, GError **error);

/* "sha256:<64 lowercase hex>" from @text (any case, ':' between bytes allowed), NULL when it is
 * not one */
gchar *
gw_bootstrap_normalize_pin(const gchar *text);

/*
 * The certificate check of the authenticated bootstrap server @server_id: GW_BOOTSTRAP_APPLIED
 * (meaning: passes) when it has no pin in @pins, or when @over_tls and @fingerprint (the
 * client certificate's, gw_http_request_get_peer_fingerprint(), nullable) is one of its pins;
 * else GW_BOOTSTRAP_FORBIDDEN with @error naming the ServerID and the fingerprint seen.
 */
GwBootstrapOutcome
gw_bootstrap_check_pin(GHashTable *pins,
                       const gchar *server_id,
                       const gchar *fingerprint,
                       gboolean over_tls,
                       GError **error);

/*
 * Authenticates @msg (as received: @body its exact bytes, @hmac_header the x-syncml-hmac
 * header or NULL) against @servers. Returns GW_BOOTSTRAP_APPLIED (meaning: authorised) and
 * sets *@server_id (optional) to the bootstrap server's ServerID, else the outcome to answer
 * with @error saying why (never with a secret or a digest in it).
 */
GwBootstrapOutcome
gw_bootstrap_authenticate(GHashTable *servers,
                          const GwSyncmlMessage *msg,
                          const gchar *hmac_header,
                          GBytes *body,
                          gboolean over_tls,
                          gchar **server_id,
                          GError **error);

/*
 * Checks and applies the commands of @msg to @tree as described above, all or nothing: on any
 * outcome but GW_BOOTSTRAP_APPLIED the tree is as it was. *@n_items (optional) is the number
 * of items applied. Does not store the tree (the caller commits once). Pure function of the
 * tree and the message (fuzzable).
 */
GwBootstrapOutcome
gw_bootstrap_apply(GwDmTree *tree, const GwSyncmlMessage *msg, guint *n_items, GError **error);

/* ServerIDs of the ./DMAcc/<x> accounts of @tree (valid ones, in order, no duplicates) */
gchar **
gw_bootstrap_dup_account_server_ids(GwDmTree *tree);

/*
 * The whole import of a received bootstrap, shared by POST /bootstrap (work flow 2) and the
 * gateway's own HTTPS GET (work flow 1): gw_bootstrap_authenticate(), then
 * gw_bootstrap_apply(), then one gw_dm_store_flush() of @store (GW_BOOTSTRAP_FAILED when it
 * fails), refusing a body applied before (GW_BOOTSTRAP_REPLAYED, see the replay record
 * above). On success *@server_id (optional) is the bootstrap server, *@n_items (optional) the
 * items applied and *@new_server_ids (optional, NULL-terminated) the ServerIDs of ./DMAcc that
 * the message brought (accounts whose ServerID the gateway did not hold before).
 */
GwBootstrapOutcome
gw_bootstrap_import(GHashTable *servers,
                    GwDmTree *tree,
                    GwDmStore *store,
                    const GwSyncmlMessage *msg,
                    const gchar *hmac_header,
                    GBytes *body,
                    gboolean over_tls,
                    gchar **server_id,
                    guint *n_items,
                    gchar ***new_server_ids,
                    GError **error);

G_END_DECLS
