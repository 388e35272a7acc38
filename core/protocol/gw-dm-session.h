/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "gw-dm-auth.h"
#include "gw-dm-tree.h"
#include "gw-syncml.h"

G_BEGIN_DECLS

/*
 * One OMA DM 1.2/1.3 management session, in either role. No sockets: a link hands it the bytes
 * it received and sends the bytes it returns (ARCHITECTURE.md: protocol never touches sockets).
 *
 * CLIENT role (the gateway towards a DM Server; the reference End Device towards the gateway):
 *   gw_dm_session_start() builds Package #1 (Alert 1201 or 1200, the Replace of ./DevInfo/<leaf>
 *   read from the tree, queued Generic Alerts, Cred). Each gw_dm_session_receive() of a server
 *   package executes its commands on the tree as @server_id (ACLs and access types enforced,
 *   Atomic with rollback, Sequence, Get → Results) and returns the next client message, or
 *   NULL when the server's package held nothing that needs a reply (the session is FINISHED).
 *   Commands of a server that did not authenticate itself (when peer credentials are set) are
 *   answered 401/407 and never executed.
 * SERVER role (the reference DM Server; the gateway towards End Devices in Proxy mode):
 *   commands queued with gw_dm_session_queue_command() are sent after the client is
 *   authenticated; gw_dm_session_receive() of each client message returns the server's reply.
 *   When every queued command has its Status, the reply carries only Status + Final and the
 *   session is FINISHED.
 *
 * Both roles: authentication (syncml:auth-basic, syncml:auth-md5 with nonces: 401/407 with
 * Chal, 212, NextNonce; x-syncml-hmac at transport level), multi-message packages (no Final +
 * Alert 1222 to ask for more, 1223 abort), MaxMsgSize splitting of outgoing packages, large
 * objects (MoreData chunks answered 213; Meta Size checked on the last chunk, 424 on mismatch;
 * chunks sized to fit MaxMsgSize), XML or WBXML chosen by content type (the reply uses the
 * encoding of the last message received; start() uses the configured encoding).
 * Malformed input gives GW_ERROR_PROTOCOL and the session FAILS; nothing is executed from a
 * message that does not parse.
 */

typedef enum {
	GW_DM_SESSION_ROLE_CLIENT,
	GW_DM_SESSION_ROLE_SERVER,
} GwDmSessionRole;

typedef enum {
	GW_DM_SESSION_STATE_NEW,
	GW_DM_SESSION_STATE_ACTIVE,
	GW_DM_SESSION_STATE_FINISHED,
	GW_DM_SESSION_STATE_FAILED,
} GwDmSessionState;

typedef enum {
	GW_DM_ENCODING_XML,
	GW_DM_ENCODING_WBXML,
} GwDmEncoding;

/* one side's credentials: what we present (local) or what we check (peer) */
typedef struct {
	GwDmAuthType type; /* NONE, BASIC, MD5; HMAC = MD5 digest carried in x-syncml-hmac */
	gchar *name;       /* AAuthName (user name / ServerID) */
	gchar *secret;     /* AAuthSecret */
	GBytes *nonce;     /* AAuthData: the nonce the digest is computed with */
} GwDmCredentials;

void
gw_dm_credentials_clear(GwDmCredentials *creds);
void
gw_dm_credentials_copy_into(GwDmCredentials *dest, const GwDmCredentials *src);

typedef struct {
	GwDmSessionRole role;
	GwSyncmlVersion version; /* default DM 1.2 */
	GwDmEncoding encoding;
	gchar
	    *session_id;  /* SyncHdr SessionID; NULL: generated (client role) or taken from Pkg#1 */
	gchar *local_uri; /* our Source LocURI: the client's DevId, the server's URI or ServerID */
	gchar *remote_uri; /* the Target LocURI (server URL in the client role); server role: NULL =
	                    * learned from Package #1 */
	gchar *server_id;  /* client role: ServerID the server's commands run as (ACL principal) */
	GwDmCredentials local; /* what we send */
	GwDmCredentials peer;  /* what we require from the peer; type NONE = no check */
	guint32 max_msg_size;  /* what we announce we accept; 0 = 16384 */
	guint32 max_obj_size;  /* 0 = 1 MiB */
} GwDmSessionConfig;

void
gw_dm_session_config_clear(GwDmSessionConfig *cfg);

/* result of one command queued in the server role */
typedef struct {
	guint ref;                /* what gw_dm_session_queue_command() returned */
	GwSyncmlCommand *command; /* the command as sent (CmdID set) */
	guint status;             /* the client's Status (0 while pending) */
	GPtrArray *results;       /* GwSyncmlItem * from the client's Results (Get), reassembled */
} GwDmSessionResult;

#define GW_TYPE_DM_SESSION (gw_dm_session_get_type())
G_DECLARE_FINAL_TYPE(GwDmSession, gw_dm_session, GW, DM_SESSION, GObject)

/*
 * Signals:
 *  "nonce-changed" (gboolean local, GBytes *nonce): the peer sent a NextNonce for our next
 *      digest (local TRUE), or we issued a new one for the peer (local FALSE). Persist it
 *      (DMAcc AppAuth/<x>/AAuthData). A nonce we issue counts from the moment the message that
 *      carries it is returned to be sent: when a session ends with nothing to send (client
 *      role, a server package that needs no answer) the NextNonce its answer would have
 *      carried is not issued and the peer's nonce stays as it was. Check
 *      gw_dm_session_get_peer_authenticated() to tell a NextNonce given to (or taken from) an
 *      authenticated peer from one in a challenge of a peer that has not proved who it is.
 *  "peer-authenticated": the peer's credentials were accepted for the first time in this
 *      session (not emitted when none are required). Emitted inside receive(), before the
 *      message's commands are handled and the reply is planned: a server-role handler may
 *      queue commands for this peer and they go out in this reply.
 *  "generic-alert" (GwSyncmlCommand *alert): a Generic Alert (1226) arrived (server role: from a
 *      device, e.g. urn:oma:at:gwmo:1.0:DeviceRegistration). Answered 200 unless a handler
 *      returned another status through gw_dm_session_set_alert_status() during emission.
 *  "alert-delivered" (guint id): client role: the server acknowledged (Status 200) a Generic
 *      Alert queued with that id.
 *  "result" (GwDmSessionResult *result): server role: a queued command got its Status (and
 *      Results).
 *  "finished": the session reached FINISHED or FAILED.
 */

/* @tree: client role: the tree commands act on (required); server role: NULL */
GwDmSession *
gw_dm_session_new(const GwDmSessionConfig *config, GwDmTree *tree);

GwDmSessionRole
gw_dm_session_get_role(GwDmSession *self);
GwDmSessionState
gw_dm_session_get_state(GwDmSession *self);
const gchar *
gw_dm_session_get_session_id(GwDmSession *self);
/* the peer's Source LocURI once known (client: the server; server: the device's DevId) */
const gchar *
gw_dm_session_get_peer_uri(GwDmSession *self);
/* (added) the RespURI of the peer's last SyncHdr, where the link sends the next message; NULL
 * when the peer gave none (keep the current URL) */
const gchar *
gw_dm_session_get_resp_uri(GwDmSession *self);
/* TRUE once the peer's credentials were accepted (or none are required) */
gboolean
gw_dm_session_get_peer_authenticated(GwDmSession *self);
/* the reason of FAILED, or NULL */
const GError *
gw_dm_session_get_error(GwDmSession *self);

/* content type of what the session sends now: application/vnd.syncml.dm+xml or +wbxml */
const gchar *
gw_dm_session_get_content_type(GwDmSession *self);
/* x-syncml-hmac header value for an outgoing @message when local.type is HMAC, else NULL */
gchar *
gw_dm_session_get_hmac_header(GwDmSession *self, GBytes *message);

/* client role: a Generic Alert to deliver in this session (takes ownership of @alert); @id is
 * reported by "alert-delivered" when the server answers 200. Before start() it goes into
 * Package #1; (added) later it goes into the next message built (e.g. a held reply). */
void
gw_dm_session_queue_generic_alert(GwDmSession *self, guint id, GwSyncmlCommand *alert);
/*
 * (added) Client role, holding the reply (flow Y of GwMO: the gateway answers in the same
 * session once a job is done). After gw_dm_session_hold_reply() — typically called by an Exec
 * handler while receive() runs the server's commands — the receive() of the server's next
 * complete package executes it as usual but returns NULL without error and builds nothing:
 * the session stays ACTIVE and gw_dm_session_is_reply_held() is TRUE. Generic Alerts queued
 * meanwhile join the reply. gw_dm_session_release_reply() builds it and returns it (NULL
 * without error when nothing is to be sent: the session is FINISHED; NULL with @error when no
 * reply was held or it could not be built).
 */
void
gw_dm_session_hold_reply(GwDmSession *self);
gboolean
gw_dm_session_is_reply_held(GwDmSession *self);
GBytes *
gw_dm_session_release_reply(GwDmSession *self, GError **error);

/* client role: Package #1. @alert_code 1201 (client-initiated) or 1200 (server-initiated) */
GBytes *
gw_dm_session_start(GwDmSession *self, guint alert_code, GError **error);

/* server role: a command to send (Get, Replace, Add, Delete, Exec, Copy, Atomic, Sequence,
 * Alert); takes ownership; returns a ref > 0 */
guint
gw_dm_session_queue_command(GwDmSession *self, GwSyncmlCommand *command);
/* server role: (element-type GwDmSessionResult) in queue order; owned by the session */
GPtrArray *
gw_dm_session_get_results(GwDmSession *self);
/* server role: ./DevInfo/<leaf> → value from the client's Package #1 (owned by the session) */
GHashTable *
gw_dm_session_get_peer_devinfo(GwDmSession *self);
/* during "generic-alert" emission: the Status to answer it with */
void
gw_dm_session_set_alert_status(GwDmSession *self, guint status);

/*
 * Feeds one received message. Returns the message to send back, or NULL: without @error when
 * the session is FINISHED and nothing is to be sent (client role), with @error on failure
 * (FAILED). @hmac_header: the received x-syncml-hmac header or NULL (required when peer.type is
 * HMAC). In the server role a reply is always returned while the session is not FAILED.
 * When the peer fails to authenticate for the third time, the reply (with its 401/407) is still
 * returned, without @error, and the session is FAILED (see gw_dm_session_get_error()).
 */
GBytes *
gw_dm_session_receive(GwDmSession *self,
                      GBytes *message,
                      const gchar *content_type,
                      const gchar *hmac_header,
                      GError **error);
/*
 * The same for a message the caller decoded already (a DM Server reads the SyncHdr to find the
 * session first): @msg (transfer full) was parsed from @message, which is still needed for its
 * size and its HMAC; @wbxml says how @message is encoded (the reply uses the same encoding).
 */
GBytes *
gw_dm_session_receive_parsed(GwDmSession *self,
                             GwSyncmlMessage *msg,
                             GBytes *message,
                             gboolean wbxml,
                             const gchar *hmac_header,
                             GError **error);

/* statistics for logs and benchmarks */
typedef struct {
	guint messages_in;
	guint messages_out;
	guint commands_executed; /* client role */
	guint commands_sent;     /* server role */
	guint64 bytes_in;
	guint64 bytes_out;
} GwDmSessionStats;
void
gw_dm_session_get_stats(GwDmSession *self, GwDmSessionStats *stats);

G_END_DECLS
