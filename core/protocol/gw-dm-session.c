/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One OMA DM 1.2/1.3 management session (client or server role), OMA-DM.md §1.2.
 *
 * Shape of the engine:
 *  - every received message is decoded (WBXML → XML), parsed, authenticated (Cred or
 *    x-syncml-hmac), then its Status commands are applied (our own credentials, the commands we
 *    sent), then its other commands are executed (client role) or handled (server role);
 *  - what we answer goes to two queues: responses (Status, Results) and commands (Package #1,
 *    the server's queued commands). Messages are cut from the queues so that each fits the
 *    peer's MaxMsgSize; an item that cannot fit into any message is sent in chunks (MoreData);
 *  - a message that does not close the peer's package is answered with the "Next Message"
 *    response (Status for SyncHdr, 213 for buffered chunks, Alert 1222, no Final); a message
 *    that asks for more (or any message while our package is incomplete) is answered with the
 *    next part of our package.
 */

#define G_LOG_DOMAIN "GwSession"

#include "config.h"

#include <string.h>

#include "gw-dm-session.h"
#include "gw-wbxml.h"

#define GW_DM_SESSION_DEFAULT_MAX_MSG_SIZE 16384
#define GW_DM_SESSION_DEFAULT_MAX_OBJ_SIZE (1024 * 1024)
/* failed authentication attempts of the peer before the session fails */
#define GW_DM_SESSION_MAX_AUTH_FAILURES 3
/* times we send our credentials again after a 401/407 */
#define GW_DM_SESSION_MAX_AUTH_RETRIES 2
/* smallest chunk of a large object worth a message */
#define GW_DM_SESSION_MIN_CHUNK 128

#define GW_SYNCML_ALERT_NO_END_OF_DATA 1225

/* ---- internal types ---- */

/* a command queued in the server role; pub is what the API hands out */
typedef struct {
	GwDmSessionResult pub;
	gboolean sent;     /* at least one part went out since it was (re)queued */
	gboolean done;     /* every part answered (or NoResp) */
	gboolean emitted;  /* "result" emitted */
	guint n_unsent;    /* parts still in the outgoing queues */
	guint n_waiting;   /* parts sent, Status not yet received */
	gboolean requeued; /* sent again after the peer rejected our credentials */
} GwDmResultEntry;

/* something to send: one command, or an item in chunks */
typedef struct {
	GwSyncmlCommand *cmd;
	GwDmResultEntry *result; /* server role: the queued command this is (part of) */
	guint alert_id;          /* client role: Generic Alert id */
	gboolean has_alert_id;
	/* large object: the Data text of the single item, sent from lo_offset on */
	gchar *lo_data;
	gsize lo_len;
	gsize lo_offset;
} GwDmOut;

/* what a (MsgID, CmdID) we sent stands for */
typedef struct {
	GwDmResultEntry *result; /* borrowed, nullable */
	gboolean top;            /* the queued command itself, not one of its children */
	gboolean chunk;          /* a chunk followed by more (answered 213) */
	gboolean answered;
	guint alert_id;
	gboolean has_alert_id;
} GwDmSentCmd;

/* a large object being received */
typedef struct {
	GwSyncmlCmdType type;
	gchar *target_uri;
	gchar *source_uri;
	gint64 size; /* Meta Size of the first chunk, -1 when absent */
	GString *data;
	GwSyncmlMeta meta; /* Format/Type of the first chunk */
	guint failed;      /* status for the remaining chunks (413), 0 while fine */
} GwDmIncoming;

typedef struct {
	guint id;
	GwSyncmlCommand *alert;
} GwDmQueuedAlert;

typedef enum {
	GW_DM_ASSEMBLY_NONE,  /* a complete item, not part of a large object */
	GW_DM_ASSEMBLY_CHUNK, /* buffered: answer 213 */
	GW_DM_ASSEMBLY_DONE,  /* the last chunk: the reassembled item is returned */
	GW_DM_ASSEMBLY_ERROR, /* answer with the returned status */
} GwDmAssembly;

struct _GwDmSession {
	GObject parent_instance;

	GwDmSessionConfig cfg; /* deep copy; the nonces follow the session */
	GwDmTree *tree;
	GwDmSessionState state;
	GError *error;
	gchar *session_id;
	gchar *peer_uri;
	gchar *resp_uri;
	gchar *our_uri;
	GwSyncmlVersion version;
	GwDmEncoding encoding;
	GwDmSessionStats stats;

	guint32 next_msg_id;
	guint32 last_sent_msg_id;
	guint32 max_msg_size;
	guint32 max_obj_size;
	gint64 peer_max_msg_size; /* -1: not announced (no limit) */
	gint64 peer_max_obj_size;

	/* authentication */
	gboolean peer_authenticated;
	/* the NextNonce in the Chal of the message being built: the peer's nonce from the moment
	 * that message is handed out to be sent, never when it is dropped (a session that ends
	 * with nothing to send keeps the nonce the peer has) */
	GBytes *issued_nonce;
	guint peer_auth_failures;
	gboolean local_accepted; /* the peer answered our SyncHdr with 2xx */
	guint local_retries;

	/* the package we send */
	GQueue out_status;       /* GwDmOut: Status and Results */
	GQueue out_cmds;         /* GwDmOut: commands */
	GPtrArray *immediate;    /* GwSyncmlCommand: goes into the very next message (213, 1225) */
	gboolean out_partial;    /* a message of our package went out without Final */
	gboolean built_final;    /* the last message built carried Final */
	gboolean built_requests; /* ... and commands other than Status/Results */
	GwDmOut *chunk_out;      /* the large object being sent, in one of the queues */
	GHashTable *sent;        /* gint64 (MsgID << 32 | CmdID) → GwDmSentCmd */
	GwDmIncoming *incoming;

	/* client role */
	GPtrArray *generic_alerts; /* GwDmQueuedAlert */
	guint alert_code;
	gboolean hold_reply;              /* the next reply to a server package waits */
	gboolean reply_held;              /* ... and it is waiting now */
	GwSyncmlCommand *held_hdr_status; /* the SyncHdr Status of the held reply */

	/* server role */
	GPtrArray *results; /* GwDmResultEntry, owned, queue order */
	GQueue pending;     /* GwDmResultEntry waiting to be sent */
	guint next_ref;
	GHashTable *peer_devinfo;
	guint alert_status;
	gboolean in_alert_emission;
};

G_DEFINE_FINAL_TYPE(GwDmSession, gw_dm_session, G_TYPE_OBJECT)

enum {
	SIGNAL_NONCE_CHANGED,
	SIGNAL_PEER_AUTHENTICATED,
	SIGNAL_GENERIC_ALERT,
	SIGNAL_ALERT_DELIVERED,
	SIGNAL_RESULT,
	SIGNAL_FINISHED,
	SIGNAL_LAST
};
static guint signals[SIGNAL_LAST] = {0};

/* ---- credentials and configuration ---- */

void
gw_dm_credentials_clear(GwDmCredentials *creds)
{
	if (creds == NULL)
		return;
	g_clear_pointer(&creds->name, g_free);
	if (creds->secret != NULL) {
		memset(creds->secret, 0, strlen(creds->secret));
		g_clear_pointer(&creds->secret, g_free);
	}
	g_clear_pointer(&creds->nonce, g_bytes_unref);
	creds->type = GW_DM_AUTH_TYPE_NONE;
}

void
gw_dm_credentials_copy_into(GwDmCredentials *dest, const GwDmCredentials *src)
{
	g_return_if_fail(dest != NULL);
	g_return_if_fail(src != NULL);
	if (dest == src)
		return;
	gw_dm_credentials_clear(dest);
	dest->type = src->type;
	dest->name = g_strdup(src->name);
	dest->secret = g_strdup(src->secret);
	dest->nonce = src->nonce != NULL ? g_bytes_ref(src->nonce) : NULL;
}

void
gw_dm_session_config_clear(GwDmSessionConfig *cfg)
{
	if (cfg == NULL)
		return;
	g_free(cfg->session_id);
	g_free(cfg->local_uri);
	g_free(cfg->remote_uri);
	g_free(cfg->server_id);
	gw_dm_credentials_clear(&cfg->local);
	gw_dm_credentials_clear(&cfg->peer);
	memset(cfg, 0, sizeof(*cfg));
}

static void
gw_dm_session_config_copy_into(GwDmSessionConfig *dest, const GwDmSessionConfig *src)
{
	memset(dest, 0, sizeof(*dest));
	dest->role = src->role;
	dest->version = src->version;
	dest->encoding = src->encoding;
	dest->session_id = g_strdup(src->session_id);
	dest->local_uri = g_strdup(src->local_uri);
	dest->remote_uri = g_strdup(src->remote_uri);
	dest->server_id = g_strdup(src->server_id);
	gw_dm_credentials_copy_into(&dest->local, &src->local);
	gw_dm_credentials_copy_into(&dest->peer, &src->peer);
	dest->max_msg_size = src->max_msg_size;
	dest->max_obj_size = src->max_obj_size;
}

/* ---- small helpers ---- */

static const gchar *
gw_dm_session_role_to_string(GwDmSessionRole role)
{
	return role == GW_DM_SESSION_ROLE_CLIENT ? "client" : "server";
}

static gint64 *
gw_dm_sent_key_new(guint32 msg_id, guint32 cmd_id)
{
	gint64 *key = g_new(gint64, 1);
	*key = (gint64)(((guint64)msg_id << 32) | cmd_id);
	return key;
}

static GwDmSentCmd *
gw_dm_session_lookup_sent(GwDmSession *self, guint32 msg_ref, guint32 cmd_ref)
{
	gint64 key;
	if (msg_ref == 0)
		msg_ref = self->last_sent_msg_id;
	key = (gint64)(((guint64)msg_ref << 32) | cmd_ref);
	return g_hash_table_lookup(self->sent, &key);
}

static void
gw_dm_out_free(GwDmOut *out)
{
	if (out == NULL)
		return;
	gw_syncml_command_free(out->cmd);
	g_free(out->lo_data);
	g_free(out);
}

static GwDmOut *
gw_dm_out_new(GwSyncmlCommand *cmd)
{
	GwDmOut *out = g_new0(GwDmOut, 1);
	out->cmd = cmd;
	return out;
}

static void
gw_dm_result_entry_free(GwDmResultEntry *entry)
{
	if (entry == NULL)
		return;
	gw_syncml_command_free(entry->pub.command);
	g_ptr_array_unref(entry->pub.results);
	g_free(entry);
}

static void
gw_dm_incoming_free(GwDmIncoming *in)
{
	if (in == NULL)
		return;
	g_free(in->target_uri);
	g_free(in->source_uri);
	g_string_free(in->data, TRUE);
	gw_syncml_meta_clear(&in->meta);
	g_free(in);
}

static void
gw_dm_queued_alert_free(GwDmQueuedAlert *qa)
{
	gw_syncml_command_free(qa->alert);
	g_free(qa);
}

/* numbers @cmd and its children from @next on; returns the next free CmdID */
static guint32
gw_dm_session_number(GwSyncmlCommand *cmd, guint32 next)
{
	cmd->cmd_id = next++;
	if (cmd->children != NULL) {
		for (guint i = 0; i < cmd->children->len; i++)
			next = gw_dm_session_number(g_ptr_array_index(cmd->children, i), next);
	}
	return next;
}

/* copies the CmdIDs of @src (as sent) into @dest where the shapes agree */
static void
gw_dm_session_copy_ids(GwSyncmlCommand *dest, const GwSyncmlCommand *src)
{
	dest->cmd_id = src->cmd_id;
	if (dest->children == NULL || src->children == NULL ||
	    dest->children->len != src->children->len)
		return;
	for (guint i = 0; i < dest->children->len; i++)
		gw_dm_session_copy_ids(g_ptr_array_index(dest->children, i),
		                       g_ptr_array_index(src->children, i));
}

static gboolean
gw_dm_session_is_b64_text(const gchar *text)
{
	for (const gchar *p = text; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' && *p != '=' &&
		    !g_ascii_isspace(*p))
			return FALSE;
	}
	return TRUE;
}

/* decoded length of base64 text (whitespace ignored) */
static gsize
gw_dm_session_b64_decoded_len(const gchar *text, gsize len)
{
	gsize n = 0;
	gsize pad = 0;
	for (gsize i = 0; i < len; i++) {
		if (g_ascii_isspace(text[i]))
			continue;
		n++;
		if (text[i] == '=')
			pad++;
	}
	return n / 4 * 3 - MIN(pad, 2);
}

/* ---- state changes ---- */

static void
gw_dm_session_finish(GwDmSession *self)
{
	if (self->state == GW_DM_SESSION_STATE_FINISHED ||
	    self->state == GW_DM_SESSION_STATE_FAILED)
		return;
	self->state = GW_DM_SESSION_STATE_FINISHED;
	g_info("%s session %s finished (%u messages in, %u out)",
	       gw_dm_session_role_to_string(self->cfg.role),
	       self->session_id != NULL ? self->session_id : "?",
	       self->stats.messages_in,
	       self->stats.messages_out);
	g_signal_emit(self, signals[SIGNAL_FINISHED], 0);
}

/* takes @error */
static void
gw_dm_session_fail(GwDmSession *self, GError *error)
{
	if (self->state == GW_DM_SESSION_STATE_FINISHED ||
	    self->state == GW_DM_SESSION_STATE_FAILED) {
		g_error_free(error);
		return;
	}
	self->state = GW_DM_SESSION_STATE_FAILED;
	g_clear_error(&self->error);
	self->error = error;
	g_info("%s session %s failed: %s",
	       gw_dm_session_role_to_string(self->cfg.role),
	       self->session_id != NULL ? self->session_id : "?",
	       error->message);
	g_signal_emit(self, signals[SIGNAL_FINISHED], 0);
}

/* fails the session and returns NULL with a copy of the reason in @error */
static GBytes *
gw_dm_session_fail_return(GwDmSession *self, GError *reason, GError **error)
{
	gw_dm_session_fail(self, reason);
	if (self->error != NULL)
		g_propagate_error(error, g_error_copy(self->error));
	return NULL;
}

static GBytes *
gw_dm_session_fail_protocol(GwDmSession *self, GError *cause, GError **error)
{
	GError *reason = g_error_new(GW_ERROR,
	                             GW_ERROR_PROTOCOL,
	                             "malformed message from the peer: %s",
	                             cause != NULL ? cause->message : "unknown error");
	return gw_dm_session_fail_return(self, reason, error);
}

/* ---- nonces and credentials ---- */

static void
gw_dm_session_set_nonce(GwDmSession *self, gboolean local, GBytes *nonce)
{
	GwDmCredentials *creds = local ? &self->cfg.local : &self->cfg.peer;
	g_clear_pointer(&creds->nonce, g_bytes_unref);
	creds->nonce = g_bytes_ref(nonce);
	g_signal_emit(self, signals[SIGNAL_NONCE_CHANGED], 0, local, nonce);
}

static const guint8 *
gw_dm_credentials_nonce(const GwDmCredentials *creds, gsize *len)
{
	*len = 0;
	if (creds->nonce == NULL)
		return NULL;
	return g_bytes_get_data(creds->nonce, len);
}

/* (GwMO-SECACATE-001) the Cred we present in SyncHdr until the peer accepted it */
static void
gw_dm_session_set_cred(GwDmSession *self, GwSyncmlMessage *msg)
{
	const GwDmCredentials *local = &self->cfg.local;
	const gchar *name = local->name != NULL ? local->name : "";
	const gchar *secret = local->secret != NULL ? local->secret : "";
	g_autofree gchar *data = NULL;

	if (self->local_accepted)
		return;
	if (local->type == GW_DM_AUTH_TYPE_BASIC) {
		data = gw_dm_auth_basic_encode(name, secret);
	} else if (local->type == GW_DM_AUTH_TYPE_MD5) {
		gsize nonce_len;
		const guint8 *nonce = gw_dm_credentials_nonce(local, &nonce_len);
		data = gw_dm_auth_md5_digest(name, secret, nonce, nonce_len);
	}
	if (data != NULL)
		gw_syncml_message_set_cred(
		    msg, gw_dm_auth_type_to_string(local->type), "b64", data);
}

/* (GwMO-SECACATE-001) 0 when @cred is what the peer must present, else 401 or 407 */
static guint
gw_dm_session_check_cred(GwDmSession *self, const GwSyncmlMessage *msg)
{
	const GwDmCredentials *peer = &self->cfg.peer;
	const GwSyncmlCred *cred = msg->hdr.cred;
	const gchar *user = peer->name != NULL ? peer->name : msg->hdr.source_name;
	const gchar *secret = peer->secret != NULL ? peer->secret : "";
	GwDmAuthType type;

	if (cred == NULL || cred->data == NULL)
		return GW_DM_STATUS_MISSING_CREDENTIALS;
	/* Meta Type defaults to syncml:auth-basic */
	type = cred->meta.type != NULL ? gw_dm_auth_type_from_string(cred->meta.type)
	                               : GW_DM_AUTH_TYPE_BASIC;
	if (type != peer->type) {
		g_debug("peer credentials of type %s, %s required",
		        cred->meta.type != NULL ? cred->meta.type : "(none)",
		        gw_dm_auth_type_to_string(peer->type));
		return GW_DM_STATUS_INVALID_CREDENTIALS;
	}
	if (type == GW_DM_AUTH_TYPE_BASIC) {
		g_autofree gchar *got_user = NULL;
		g_autofree gchar *got_secret = NULL;
		gsize len;
		gboolean ok;

		if (!gw_dm_auth_basic_decode(cred->data, &got_user, &got_secret, NULL))
			return GW_DM_STATUS_INVALID_CREDENTIALS;
		len = strlen(got_secret);
		ok = g_strcmp0(got_user, user) == 0 && len == strlen(secret) &&
		     gw_dm_auth_secure_equal(
		         (const guint8 *)got_secret, (const guint8 *)secret, len);
		memset(got_secret, 0, len);
		return ok ? 0 : GW_DM_STATUS_INVALID_CREDENTIALS;
	}
	if (type == GW_DM_AUTH_TYPE_MD5) {
		gsize nonce_len;
		const guint8 *nonce = gw_dm_credentials_nonce(peer, &nonce_len);
		return gw_dm_auth_md5_verify(
		           cred->data, user != NULL ? user : "", secret, nonce, nonce_len)
		           ? 0
		           : GW_DM_STATUS_INVALID_CREDENTIALS;
	}
	return GW_DM_STATUS_INVALID_CREDENTIALS;
}

/*
 * (GwMO-SECACATE-001, GwMO-SECDI-001) the Status code for the peer's SyncHdr: 200, 212 (first
 * acceptance), 401 or 407. HMAC is checked on every message; Cred until it was accepted once.
 */
static guint
gw_dm_session_check_peer(GwDmSession *self,
                         const GwSyncmlMessage *msg,
                         const gchar *hmac_header,
                         const guint8 *body,
                         gsize body_len)
{
	const GwDmCredentials *peer = &self->cfg.peer;
	guint code = 0;

	switch (peer->type) {
	case GW_DM_AUTH_TYPE_NONE:
		self->peer_authenticated = TRUE;
		return GW_DM_STATUS_OK;
	case GW_DM_AUTH_TYPE_HMAC: {
		g_autoptr(GError) error = NULL;
		const gchar *user = peer->name != NULL ? peer->name : msg->hdr.source_name;
		gsize nonce_len;
		const guint8 *nonce = gw_dm_credentials_nonce(peer, &nonce_len);

		if (hmac_header == NULL) {
			code = GW_DM_STATUS_MISSING_CREDENTIALS;
		} else if (!gw_dm_auth_hmac_verify(hmac_header,
		                                   user != NULL ? user : "",
		                                   peer->secret != NULL ? peer->secret : "",
		                                   nonce,
		                                   nonce_len,
		                                   body,
		                                   body_len,
		                                   &error)) {
			/* the error text is not logged: keep MACs out of the logs */
			g_debug("x-syncml-hmac of message %u rejected (%s)",
			        msg->hdr.msg_id,
			        g_quark_to_string(error->domain));
			code = GW_DM_STATUS_INVALID_CREDENTIALS;
		}
		break;
	}
	case GW_DM_AUTH_TYPE_BASIC:
	case GW_DM_AUTH_TYPE_MD5:
		if (self->peer_authenticated)
			return GW_DM_STATUS_OK;
		code = gw_dm_session_check_cred(self, msg);
		break;
	default:
		code = GW_DM_STATUS_INVALID_CREDENTIALS;
		break;
	}
	if (code != 0)
		return code;
	if (self->peer_authenticated)
		return GW_DM_STATUS_OK;
	self->peer_authenticated = TRUE;
	g_debug("peer authenticated (%s)", gw_dm_auth_type_to_string(peer->type));
	/* before the message's commands run and the reply is planned: a server can queue what
	 * waits for this peer so that it goes out in this reply */
	g_signal_emit(self, signals[SIGNAL_PEER_AUTHENTICATED], 0);
	return GW_DM_STATUS_AUTH_ACCEPTED;
}

/* (GwMO-SECACATE-001) Chal with a fresh NextNonce for md5/HMAC; the nonce becomes the peer's
 * when the message that carries it is built (gw_dm_session_issue_nonce) */
static void
gw_dm_session_add_chal(GwDmSession *self, GwSyncmlCommand *status)
{
	GwDmAuthType type = self->cfg.peer.type;
	g_autofree gchar *next_nonce = NULL;

	if (type == GW_DM_AUTH_TYPE_MD5 || type == GW_DM_AUTH_TYPE_HMAC) {
		g_autoptr(GBytes) nonce = gw_dm_auth_new_nonce();
		if (nonce != NULL) {
			gsize len;
			const guint8 *raw = g_bytes_get_data(nonce, &len);
			next_nonce = g_base64_encode(raw, len);
			g_clear_pointer(&self->issued_nonce, g_bytes_unref);
			self->issued_nonce = g_steal_pointer(&nonce);
		}
	}
	gw_syncml_status_set_chal(status, gw_dm_auth_type_to_string(type), "b64", next_nonce);
}

/* the message carrying our Chal is on its way: its NextNonce is the one the peer digests with
 * next (its next message in this session, its next session) */
static void
gw_dm_session_issue_nonce(GwDmSession *self)
{
	g_autoptr(GBytes) nonce = g_steal_pointer(&self->issued_nonce);

	if (nonce != NULL)
		gw_dm_session_set_nonce(self, FALSE, nonce);
}

/* the message carrying our Chal is dropped (nothing is sent): the peer keeps its nonce */
static void
gw_dm_session_drop_nonce(GwDmSession *self)
{
	if (self->issued_nonce == NULL)
		return;
	g_debug("no message carries the NextNonce for the peer: its nonce stays as it is");
	g_clear_pointer(&self->issued_nonce, g_bytes_unref);
}

static GwSyncmlCommand *
gw_dm_session_header_status(GwDmSession *self, const GwSyncmlMessage *msg, guint code)
{
	GwSyncmlCommand *status = gw_syncml_status_new_for_header(msg, code);
	if (code == GW_DM_STATUS_INVALID_CREDENTIALS || code == GW_DM_STATUS_MISSING_CREDENTIALS ||
	    (code == GW_DM_STATUS_AUTH_ACCEPTED && self->cfg.peer.type == GW_DM_AUTH_TYPE_MD5))
		gw_dm_session_add_chal(self, status);
	return status;
}

/* (GwMO-SECACATE-001) a Chal in the Status for our SyncHdr: auth type and NextNonce */
static void
gw_dm_session_take_chal(GwDmSession *self, const GwSyncmlMeta *chal)
{
	GwDmCredentials *local = &self->cfg.local;

	if (chal->type != NULL) {
		GwDmAuthType type = gw_dm_auth_type_from_string(chal->type);
		/* switch between basic and md5 only: NONE has nothing to present, HMAC is
		 * transport level */
		if ((type == GW_DM_AUTH_TYPE_BASIC || type == GW_DM_AUTH_TYPE_MD5) &&
		    (local->type == GW_DM_AUTH_TYPE_BASIC || local->type == GW_DM_AUTH_TYPE_MD5) &&
		    type != local->type) {
			g_info("peer asks for %s credentials", chal->type);
			local->type = type;
		}
	}
	if (chal->next_nonce != NULL) {
		g_autoptr(GBytes) nonce = NULL;
		if (chal->format == NULL || g_ascii_strcasecmp(chal->format, "b64") == 0) {
			gsize len = 0;
			guchar *raw = g_base64_decode(chal->next_nonce, &len);
			nonce = g_bytes_new_take(raw, len);
		} else {
			nonce = g_bytes_new(chal->next_nonce, strlen(chal->next_nonce));
		}
		gw_dm_session_set_nonce(self, TRUE, nonce);
	}
}

/* ---- GObject ---- */

static void
gw_dm_session_finalize(GObject *object)
{
	GwDmSession *self = GW_DM_SESSION(object);

	gw_dm_session_config_clear(&self->cfg);
	g_clear_pointer(&self->issued_nonce, g_bytes_unref);
	g_clear_object(&self->tree);
	g_clear_error(&self->error);
	g_free(self->session_id);
	g_free(self->peer_uri);
	g_free(self->resp_uri);
	g_free(self->our_uri);
	g_queue_clear_full(&self->out_status, (GDestroyNotify)gw_dm_out_free);
	g_queue_clear_full(&self->out_cmds, (GDestroyNotify)gw_dm_out_free);
	g_ptr_array_unref(self->immediate);
	g_hash_table_unref(self->sent);
	gw_dm_incoming_free(self->incoming);
	g_ptr_array_unref(self->generic_alerts);
	g_clear_pointer(&self->held_hdr_status, gw_syncml_command_free);
	g_queue_clear(&self->pending);
	g_ptr_array_unref(self->results);
	g_hash_table_unref(self->peer_devinfo);

	G_OBJECT_CLASS(gw_dm_session_parent_class)->finalize(object);
}

static void
gw_dm_session_class_init(GwDmSessionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = gw_dm_session_finalize;

	signals[SIGNAL_NONCE_CHANGED] = g_signal_new("nonce-changed",
	                                             G_TYPE_FROM_CLASS(klass),
	                                             G_SIGNAL_RUN_LAST,
	                                             0,
	                                             NULL,
	                                             NULL,
	                                             NULL,
	                                             G_TYPE_NONE,
	                                             2,
	                                             G_TYPE_BOOLEAN,
	                                             G_TYPE_BYTES);
	signals[SIGNAL_PEER_AUTHENTICATED] = g_signal_new("peer-authenticated",
	                                                  G_TYPE_FROM_CLASS(klass),
	                                                  G_SIGNAL_RUN_LAST,
	                                                  0,
	                                                  NULL,
	                                                  NULL,
	                                                  NULL,
	                                                  G_TYPE_NONE,
	                                                  0);
	signals[SIGNAL_GENERIC_ALERT] = g_signal_new("generic-alert",
	                                             G_TYPE_FROM_CLASS(klass),
	                                             G_SIGNAL_RUN_LAST,
	                                             0,
	                                             NULL,
	                                             NULL,
	                                             NULL,
	                                             G_TYPE_NONE,
	                                             1,
	                                             G_TYPE_POINTER);
	signals[SIGNAL_ALERT_DELIVERED] = g_signal_new("alert-delivered",
	                                               G_TYPE_FROM_CLASS(klass),
	                                               G_SIGNAL_RUN_LAST,
	                                               0,
	                                               NULL,
	                                               NULL,
	                                               NULL,
	                                               G_TYPE_NONE,
	                                               1,
	                                               G_TYPE_UINT);
	signals[SIGNAL_RESULT] = g_signal_new("result",
	                                      G_TYPE_FROM_CLASS(klass),
	                                      G_SIGNAL_RUN_LAST,
	                                      0,
	                                      NULL,
	                                      NULL,
	                                      NULL,
	                                      G_TYPE_NONE,
	                                      1,
	                                      G_TYPE_POINTER);
	signals[SIGNAL_FINISHED] = g_signal_new("finished",
	                                        G_TYPE_FROM_CLASS(klass),
	                                        G_SIGNAL_RUN_LAST,
	                                        0,
	                                        NULL,
	                                        NULL,
	                                        NULL,
	                                        G_TYPE_NONE,
	                                        0);
}

static void
gw_dm_session_init(GwDmSession *self)
{
	g_queue_init(&self->out_status);
	g_queue_init(&self->out_cmds);
	g_queue_init(&self->pending);
	self->immediate = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
	self->sent = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	self->generic_alerts =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm_queued_alert_free);
	self->results = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm_result_entry_free);
	self->peer_devinfo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->next_msg_id = 1;
	self->peer_max_msg_size = -1;
	self->peer_max_obj_size = -1;
}

GwDmSession *
gw_dm_session_new(const GwDmSessionConfig *config, GwDmTree *tree)
{
	GwDmSession *self;

	g_return_val_if_fail(config != NULL, NULL);
	g_return_val_if_fail(config->role != GW_DM_SESSION_ROLE_CLIENT || GW_IS_DM_TREE(tree),
	                     NULL);
	g_return_val_if_fail(tree == NULL || GW_IS_DM_TREE(tree), NULL);

	self = g_object_new(GW_TYPE_DM_SESSION, NULL);
	gw_dm_session_config_copy_into(&self->cfg, config);
	self->tree = tree != NULL ? g_object_ref(tree) : NULL;
	self->version = config->version;
	self->encoding = config->encoding;
	self->max_msg_size =
	    config->max_msg_size != 0 ? config->max_msg_size : GW_DM_SESSION_DEFAULT_MAX_MSG_SIZE;
	self->max_obj_size =
	    config->max_obj_size != 0 ? config->max_obj_size : GW_DM_SESSION_DEFAULT_MAX_OBJ_SIZE;
	self->our_uri = g_strdup(config->local_uri);
	if (config->role == GW_DM_SESSION_ROLE_CLIENT) {
		/* Package #0 style: 1–4 upper-case hex digits, no leading zeros */
		self->session_id =
		    config->session_id != NULL
		        ? g_strdup(config->session_id)
		        : g_strdup_printf("%X", (guint)g_random_int_range(1, 0x10000));
	} else {
		self->session_id = g_strdup(config->session_id);
		self->peer_uri = g_strdup(config->remote_uri);
	}
	if (config->peer.type == GW_DM_AUTH_TYPE_NONE)
		self->peer_authenticated = TRUE;
	return self;
}

/* ---- getters ---- */

GwDmSessionRole
gw_dm_session_get_role(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), GW_DM_SESSION_ROLE_CLIENT);
	return self->cfg.role;
}

GwDmSessionState
gw_dm_session_get_state(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), GW_DM_SESSION_STATE_FAILED);
	return self->state;
}

const gchar *
gw_dm_session_get_session_id(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	return self->session_id;
}

const gchar *
gw_dm_session_get_peer_uri(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	return self->peer_uri;
}

const gchar *
gw_dm_session_get_resp_uri(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	return self->resp_uri;
}

gboolean
gw_dm_session_get_peer_authenticated(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), FALSE);
	return self->peer_authenticated;
}

const GError *
gw_dm_session_get_error(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	return self->error;
}

const gchar *
gw_dm_session_get_content_type(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	return self->encoding == GW_DM_ENCODING_WBXML ? GW_SYNCML_DM_WBXML_TYPE
	                                              : GW_SYNCML_DM_XML_TYPE;
}

/* (GwMO-SECDI-001) */
gchar *
gw_dm_session_get_hmac_header(GwDmSession *self, GBytes *message)
{
	const GwDmCredentials *local;
	g_autofree gchar *mac = NULL;
	const guint8 *body;
	const guint8 *nonce;
	gsize body_len;
	gsize nonce_len;

	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	g_return_val_if_fail(message != NULL, NULL);

	local = &self->cfg.local;
	if (local->type != GW_DM_AUTH_TYPE_HMAC)
		return NULL;
	body = g_bytes_get_data(message, &body_len);
	nonce = gw_dm_credentials_nonce(local, &nonce_len);
	mac = gw_dm_auth_hmac_compute(local->name != NULL ? local->name : "",
	                              local->secret != NULL ? local->secret : "",
	                              nonce,
	                              nonce_len,
	                              body,
	                              body_len);
	return gw_dm_auth_hmac_header(local->name != NULL ? local->name : "", mac);
}

GPtrArray *
gw_dm_session_get_results(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	return self->results;
}

GHashTable *
gw_dm_session_get_peer_devinfo(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	return self->peer_devinfo;
}

void
gw_dm_session_set_alert_status(GwDmSession *self, guint status)
{
	g_return_if_fail(GW_IS_DM_SESSION(self));
	g_return_if_fail(self->in_alert_emission);
	self->alert_status = status;
}

void
gw_dm_session_get_stats(GwDmSession *self, GwDmSessionStats *stats)
{
	g_return_if_fail(GW_IS_DM_SESSION(self));
	g_return_if_fail(stats != NULL);
	*stats = self->stats;
}

/* ---- queueing ---- */

static gboolean
gw_dm_session_queues_empty(GwDmSession *self);
static GBytes *
gw_dm_session_build(GwDmSession *self,
                    GwSyncmlCommand *hdr_status,
                    gboolean next_request,
                    GError **error);

void
gw_dm_session_queue_generic_alert(GwDmSession *self, guint id, GwSyncmlCommand *alert)
{
	GwDmQueuedAlert *qa;

	g_return_if_fail(GW_IS_DM_SESSION(self));
	g_return_if_fail(alert != NULL);
	g_return_if_fail(self->cfg.role == GW_DM_SESSION_ROLE_CLIENT);

	if (self->state != GW_DM_SESSION_STATE_NEW) {
		/* a running session: the alert joins the next message built */
		GwDmOut *out = gw_dm_out_new(alert);
		out->alert_id = id;
		out->has_alert_id = TRUE;
		g_queue_push_tail(&self->out_cmds, out);
		return;
	}
	qa = g_new0(GwDmQueuedAlert, 1);
	qa->id = id;
	qa->alert = alert;
	g_ptr_array_add(self->generic_alerts, qa);
}

void
gw_dm_session_hold_reply(GwDmSession *self)
{
	g_return_if_fail(GW_IS_DM_SESSION(self));
	g_return_if_fail(self->cfg.role == GW_DM_SESSION_ROLE_CLIENT);
	self->hold_reply = TRUE;
}

gboolean
gw_dm_session_is_reply_held(GwDmSession *self)
{
	g_return_val_if_fail(GW_IS_DM_SESSION(self), FALSE);
	return self->reply_held;
}

GBytes *
gw_dm_session_release_reply(GwDmSession *self, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	GBytes *reply;

	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	self->hold_reply = FALSE;
	if (!self->reply_held) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_WRONG_STATE, "no reply is held in this session");
		return NULL;
	}
	self->reply_held = FALSE;
	if (self->state != GW_DM_SESSION_STATE_ACTIVE) {
		g_clear_pointer(&self->held_hdr_status, gw_syncml_command_free);
		gw_dm_session_drop_nonce(self);
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_WRONG_STATE, "the DM session is over");
		return NULL;
	}
	if (gw_dm_session_queues_empty(self)) {
		g_clear_pointer(&self->held_hdr_status, gw_syncml_command_free);
		gw_dm_session_drop_nonce(self);
		gw_dm_session_finish(self);
		return NULL;
	}
	reply =
	    gw_dm_session_build(self, g_steal_pointer(&self->held_hdr_status), FALSE, &local_error);
	if (reply == NULL)
		return gw_dm_session_fail_return(self, g_steal_pointer(&local_error), error);
	return reply;
}

guint
gw_dm_session_queue_command(GwDmSession *self, GwSyncmlCommand *command)
{
	GwDmResultEntry *entry;

	g_return_val_if_fail(GW_IS_DM_SESSION(self), 0);
	g_return_val_if_fail(command != NULL, 0);
	g_return_val_if_fail(self->cfg.role == GW_DM_SESSION_ROLE_SERVER, 0);

	entry = g_new0(GwDmResultEntry, 1);
	entry->pub.ref = ++self->next_ref;
	entry->pub.command = command;
	entry->pub.results = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_item_free);
	g_ptr_array_add(self->results, entry);
	g_queue_push_tail(&self->pending, entry);
	return entry->pub.ref;
}

static void
gw_dm_session_push_out(GQueue *queue, GwSyncmlCommand *cmd)
{
	g_queue_push_tail(queue, gw_dm_out_new(cmd));
}

/* server role: a result is complete when every part was sent and answered */
static void
gw_dm_session_check_done(GwDmResultEntry *entry)
{
	if (!entry->done && entry->sent && entry->n_unsent == 0 && entry->n_waiting == 0)
		entry->done = TRUE;
}

static void
gw_dm_session_merge_status(GwDmResultEntry *entry, guint code)
{
	if (code == GW_DM_STATUS_CHUNK_ACCEPTED)
		return;
	if (entry->pub.status == 0 ||
	    (gw_dm_status_is_success(entry->pub.status) && !gw_dm_status_is_success(code)))
		entry->pub.status = code;
}

/* ---- Package #1 (client role) ---- */

static void
gw_dm_session_collect_leaves(GwDmNode *node, GwSyncmlCommand *replace)
{
	GPtrArray *children = gw_dm_node_get_children(node);

	for (guint i = 0; i < children->len; i++) {
		GwDmNode *child = g_ptr_array_index(children, i);
		if (gw_dm_node_is_leaf(child)) {
			g_autofree gchar *uri = gw_dm_node_dup_uri(child);
			g_autoptr(GwDmItem) item = gw_dm_item_new(uri,
			                                          gw_dm_node_get_format(child),
			                                          gw_dm_node_get_mime_type(child),
			                                          gw_dm_node_get_value(child));
			gw_syncml_command_add_item(replace, gw_syncml_item_new_from_dm_item(item));
		} else {
			gw_dm_session_collect_leaves(child, replace);
		}
	}
}

static void
gw_dm_session_queue_package1(GwDmSession *self)
{
	GwSyncmlCommand *replace = gw_syncml_command_new(GW_SYNCML_CMD_REPLACE);
	GwDmNode *devinfo = gw_dm_tree_lookup(self->tree, "./DevInfo");

	gw_dm_session_push_out(&self->out_cmds, gw_syncml_alert_new(self->alert_code));
	if (devinfo != NULL && !gw_dm_node_is_leaf(devinfo))
		gw_dm_session_collect_leaves(devinfo, replace);
	else
		g_warning("the tree has no ./DevInfo to send in Package #1");
	if (replace->items->len > 0)
		gw_dm_session_push_out(&self->out_cmds, replace);
	else
		gw_syncml_command_free(replace);
	for (guint i = 0; i < self->generic_alerts->len; i++) {
		GwDmQueuedAlert *qa = g_ptr_array_index(self->generic_alerts, i);
		GwDmOut *out = gw_dm_out_new(gw_syncml_command_copy(qa->alert));
		out->alert_id = qa->id;
		out->has_alert_id = TRUE;
		g_queue_push_tail(&self->out_cmds, out);
	}
}

static void
gw_dm_session_clear_outgoing(GwDmSession *self)
{
	g_queue_clear_full(&self->out_status, (GDestroyNotify)gw_dm_out_free);
	g_queue_clear_full(&self->out_cmds, (GDestroyNotify)gw_dm_out_free);
	g_ptr_array_set_size(self->immediate, 0);
	self->chunk_out = NULL;
	self->out_partial = FALSE;
}

/* ---- building messages ---- */

static GwSyncmlMessage *
gw_dm_session_new_message(GwDmSession *self)
{
	const gchar *target =
	    self->cfg.role == GW_DM_SESSION_ROLE_CLIENT ? self->cfg.remote_uri : self->peer_uri;
	GwSyncmlMessage *msg =
	    gw_syncml_message_new(self->version,
	                          self->session_id != NULL ? self->session_id : "0",
	                          self->next_msg_id++,
	                          target != NULL ? target : "",
	                          self->our_uri != NULL ? self->our_uri : "");
	msg->hdr.source_name = g_strdup(self->cfg.local.name);
	msg->hdr.meta.max_msg_size = self->max_msg_size;
	msg->hdr.meta.max_obj_size = self->max_obj_size;
	gw_dm_session_set_cred(self, msg);
	return msg;
}

static void
gw_dm_session_register_one(GwDmSession *self,
                           guint32 msg_id,
                           const GwSyncmlCommand *cmd,
                           const GwDmOut *out,
                           gboolean top,
                           gboolean chunk)
{
	GwDmSentCmd *sent = g_new0(GwDmSentCmd, 1);

	sent->result = out->result;
	sent->top = top;
	sent->chunk = chunk;
	sent->alert_id = out->alert_id;
	sent->has_alert_id = out->has_alert_id && top;
	g_hash_table_replace(self->sent, gw_dm_sent_key_new(msg_id, cmd->cmd_id), sent);
	if (out->result != NULL && cmd->children != NULL) {
		for (guint i = 0; i < cmd->children->len; i++)
			gw_dm_session_register_one(
			    self, msg_id, g_ptr_array_index(cmd->children, i), out, FALSE, FALSE);
	}
}

/* adds @cmd (owned) that stands for @out to @msg and remembers what it was */
static void
gw_dm_session_add_out(GwDmSession *self,
                      GwSyncmlMessage *msg,
                      GwDmOut *out,
                      GwSyncmlCommand *cmd,
                      gboolean chunk)
{
	gw_syncml_message_add_command(msg, cmd);
	if (out->result != NULL || out->has_alert_id || chunk)
		gw_dm_session_register_one(self, msg->hdr.msg_id, cmd, out, TRUE, chunk);
	if (out->result != NULL) {
		out->result->sent = TRUE;
		gw_dm_session_copy_ids(out->result->pub.command, cmd);
		if (!chunk) {
			self->stats.commands_sent++;
			if (!cmd->no_resp)
				out->result->n_waiting++;
		}
	}
}

/* removes the head of @queue, which was sent completely */
static void
gw_dm_session_pop_out(GwDmSession *self, GQueue *queue)
{
	GwDmOut *out = g_queue_pop_head(queue);

	if (out == self->chunk_out)
		self->chunk_out = NULL;
	if (out->result != NULL) {
		if (out->result->n_unsent > 0)
			out->result->n_unsent--;
		gw_dm_session_check_done(out->result);
	}
	gw_dm_out_free(out);
}

static gboolean
gw_dm_session_is_splittable(const GwSyncmlCommand *cmd)
{
	switch (cmd->type) {
	case GW_SYNCML_CMD_ADD:
	case GW_SYNCML_CMD_REPLACE:
	case GW_SYNCML_CMD_DELETE:
	case GW_SYNCML_CMD_GET:
	case GW_SYNCML_CMD_COPY:
	case GW_SYNCML_CMD_RESULTS:
		return TRUE;
	default:
		return FALSE;
	}
}

static gboolean
gw_dm_session_is_chunkable(const GwSyncmlCommand *cmd)
{
	const GwSyncmlItem *item;

	if (cmd->type != GW_SYNCML_CMD_ADD && cmd->type != GW_SYNCML_CMD_REPLACE &&
	    cmd->type != GW_SYNCML_CMD_RESULTS && cmd->type != GW_SYNCML_CMD_EXEC)
		return FALSE;
	if (cmd->items->len != 1)
		return FALSE;
	item = g_ptr_array_index(cmd->items, 0);
	return item->data != NULL && item->data[0] != '\0';
}

/* the head of @queue has several items and does not fit any message: one command per part */
static void
gw_dm_session_split_out(GQueue *queue, GwDmOut *out)
{
	GwDmOut *rest = gw_dm_out_new(gw_syncml_command_copy(out->cmd));

	g_ptr_array_remove_index(rest->cmd->items, 0);
	g_ptr_array_remove_range(out->cmd->items, 1, out->cmd->items->len - 1);
	rest->result = out->result;
	rest->alert_id = out->alert_id;
	rest->has_alert_id = out->has_alert_id;
	if (rest->result != NULL)
		rest->result->n_unsent++;
	g_queue_insert_after(queue, g_queue_peek_head_link(queue), rest);
}

/* moves @n back to the start of a UTF-8 character of @text (never below 1) */
static gsize
gw_dm_session_utf8_floor(const gchar *text, gsize n, gsize remaining)
{
	gsize m = n;
	while (m > 0 && m < remaining && ((guchar)text[m] & 0xC0) == 0x80)
		m--;
	if (m > 0)
		return m;
	m = MIN(n, remaining);
	while (m < remaining && ((guchar)text[m] & 0xC0) == 0x80)
		m++;
	return MAX(m, 1);
}

/*
 * The next chunk of the large object of @out, numbered from @first_id, sized for @room bytes.
 * NULL when @room is too small for a useful chunk and the message holds other commands.
 */
static GwSyncmlCommand *
gw_dm_session_make_chunk(GwDmOut *out,
                         guint32 first_id,
                         gsize room,
                         gboolean payload,
                         gboolean *last)
{
	g_autoptr(GwSyncmlCommand) chunk = gw_syncml_command_copy(out->cmd);
	GwSyncmlItem *item = g_ptr_array_index(chunk->items, 0);
	const gchar *text = out->lo_data + out->lo_offset;
	gsize remaining = out->lo_len - out->lo_offset;
	gsize base;
	gsize used = 0;
	gsize n;

	item->more_data = TRUE;
	item->meta.size = out->lo_offset == 0 ? (gint64)out->lo_len : -1;
	g_free(item->data);
	item->data = g_strdup("");
	gw_dm_session_number(chunk, first_id);
	base = gw_syncml_command_estimate_size(chunk);
	if (room < base + GW_DM_SESSION_MIN_CHUNK) {
		if (payload)
			return NULL;
		n = GW_DM_SESSION_MIN_CHUNK;
	} else {
		n = room - base;
	}
	n = MIN(n, remaining);
	for (guint attempt = 0; attempt < 16; attempt++) {
		gsize est;
		used = gw_dm_session_utf8_floor(text, n, remaining);
		*last = used >= remaining;
		item->more_data = !*last;
		g_free(item->data);
		item->data = g_strndup(text, used);
		est = gw_syncml_command_estimate_size(chunk);
		if (est <= room || used <= GW_DM_SESSION_MIN_CHUNK || room <= base)
			break;
		/* escaping made it grow: scale down by the ratio seen (est > room >= base) */
		n = (gsize)((guint64)(room - base) * used / (est - base));
		n = MAX(MIN(n, used - 1), GW_DM_SESSION_MIN_CHUNK);
	}
	/* what went into the chunk, whatever the last attempt computed */
	out->lo_offset += used;
	return g_steal_pointer(&chunk);
}

/* starts sending the single item of the head of @queue in chunks; FALSE if it may not be sent */
static gboolean
gw_dm_session_start_large_object(GwDmSession *self, GQueue *queue, GwDmOut *out)
{
	GwSyncmlItem *item = g_ptr_array_index(out->cmd->items, 0);
	gsize len = strlen(item->data);

	if (self->peer_max_obj_size > 0 && (gint64)len > self->peer_max_obj_size) {
		g_info("object of %" G_GSIZE_FORMAT
		       " bytes exceeds the peer's MaxObjSize %" G_GINT64_FORMAT "; not sent",
		       len,
		       self->peer_max_obj_size);
		if (out->result != NULL) {
			out->result->sent = TRUE;
			gw_dm_session_merge_status(out->result,
			                           GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE);
		}
		gw_dm_session_pop_out(self, queue);
		return FALSE;
	}
	out->lo_data = g_steal_pointer(&item->data);
	out->lo_len = len;
	out->lo_offset = 0;
	g_debug("sending an object of %" G_GSIZE_FORMAT " bytes in chunks", len);
	return TRUE;
}

/*
 * Moves as much of the outgoing queues into @msg as fits the peer's MaxMsgSize. Returns TRUE
 * when the queues are empty (the message closes the package).
 */
static gboolean
gw_dm_session_fill(GwDmSession *self, GwSyncmlMessage *msg)
{
	gsize limit = self->peer_max_msg_size > 0 ? (gsize)self->peer_max_msg_size : G_MAXSIZE;
	GQueue *queues[] = {&self->out_status, &self->out_cmds};
	gboolean payload = FALSE;
	gsize empty_size;
	gsize size;

	msg->final = TRUE; /* counted while sizing */
	size = gw_syncml_message_estimate_size(msg);
	empty_size = size;

	for (guint q = 0; q < G_N_ELEMENTS(queues); q++) {
		GQueue *queue = queues[q];
		GwDmOut *out;

		while ((out = g_queue_peek_head(queue)) != NULL) {
			GwSyncmlCommand *chunk;
			gboolean last = FALSE;

			if (out->lo_data == NULL) {
				gsize csize;

				gw_dm_session_number(out->cmd, msg->last_cmd_id + 1);
				csize = gw_syncml_command_estimate_size(out->cmd);
				if (size + csize <= limit) {
					gw_dm_session_add_out(
					    self, msg, out, g_steal_pointer(&out->cmd), FALSE);
					gw_dm_session_pop_out(self, queue);
					size += csize;
					payload = TRUE;
					continue;
				}
				/* the next message will have room for it */
				if (payload && empty_size + csize <= limit)
					return FALSE;
				if (out->cmd->items->len > 1 &&
				    gw_dm_session_is_splittable(out->cmd)) {
					gw_dm_session_split_out(queue, out);
					continue;
				}
				if (!gw_dm_session_is_chunkable(out->cmd)) {
					if (payload)
						return FALSE;
					g_warning("%s of %" G_GSIZE_FORMAT
					          " bytes does not fit the peer's MaxMsgSize "
					          "%" G_GSIZE_FORMAT "; sent anyway",
					          gw_syncml_command_get_name(out->cmd),
					          csize,
					          limit);
					gw_dm_session_add_out(
					    self, msg, out, g_steal_pointer(&out->cmd), FALSE);
					gw_dm_session_pop_out(self, queue);
					size += csize;
					payload = TRUE;
					continue;
				}
				if (!gw_dm_session_start_large_object(self, queue, out))
					continue;
			}
			chunk = gw_dm_session_make_chunk(out,
			                                 msg->last_cmd_id + 1,
			                                 limit > size ? limit - size : 0,
			                                 payload,
			                                 &last);
			if (chunk == NULL)
				return FALSE;
			size += gw_syncml_command_estimate_size(chunk);
			gw_dm_session_add_out(self, msg, out, chunk, !last);
			payload = TRUE;
			if (!last) {
				/* the receiver answers 213 before the next chunk goes out */
				self->chunk_out = out;
				return FALSE;
			}
			gw_dm_session_pop_out(self, queue);
		}
	}
	return TRUE;
}

static GBytes *
gw_dm_session_encode(GwDmSession *self, const GwSyncmlMessage *msg, GError **error)
{
	g_autoptr(GBytes) xml = gw_syncml_message_to_xml(msg);
	GBytes *bytes;
	gsize len;

	if (self->encoding == GW_DM_ENCODING_WBXML) {
		const gchar *text = g_bytes_get_data(xml, &len);
		bytes = gw_wbxml_from_xml(text, len, error);
		if (bytes == NULL)
			return NULL;
	} else {
		bytes = g_bytes_ref(xml);
	}
	len = g_bytes_get_size(bytes);
	self->last_sent_msg_id = msg->hdr.msg_id;
	self->stats.messages_out++;
	self->stats.bytes_out += len;
	g_debug("sent message %u%s: %u commands, %" G_GSIZE_FORMAT " bytes (%s)",
	        msg->hdr.msg_id,
	        msg->final ? " (final)" : "",
	        msg->commands->len,
	        len,
	        self->encoding == GW_DM_ENCODING_WBXML ? "WBXML" : "XML");
	return bytes;
}

/*
 * The next message: Status for the peer's SyncHdr (@hdr_status, owned, nullable), the
 * immediate answers, then either Alert 1222 (@next_request) or the next part of our package.
 */
static GBytes *
gw_dm_session_build(GwDmSession *self,
                    GwSyncmlCommand *hdr_status,
                    gboolean next_request,
                    GError **error)
{
	g_autoptr(GwSyncmlMessage) msg = gw_dm_session_new_message(self);
	gpointer *immediate;
	gsize n_immediate = 0;
	GBytes *bytes;

	if (hdr_status != NULL)
		gw_syncml_message_add_command(msg, hdr_status);
	immediate = g_ptr_array_steal(self->immediate, &n_immediate);
	for (gsize i = 0; i < n_immediate; i++)
		gw_syncml_message_add_command(msg, immediate[i]);
	g_free(immediate);
	if (next_request) {
		gw_syncml_message_add_command(msg,
		                              gw_syncml_alert_new(GW_SYNCML_ALERT_NEXT_MESSAGE));
		msg->final = FALSE;
	} else {
		gboolean complete = gw_dm_session_fill(self, msg);
		msg->final = complete;
		self->out_partial = !complete;
	}
	self->built_final = msg->final;
	self->built_requests = FALSE;
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);
		if (cmd->type != GW_SYNCML_CMD_STATUS && cmd->type != GW_SYNCML_CMD_RESULTS)
			self->built_requests = TRUE;
	}
	bytes = gw_dm_session_encode(self, msg, error);
	if (bytes != NULL)
		gw_dm_session_issue_nonce(self);
	return bytes;
}

/* ---- large objects (receiving) ---- */

static gboolean
gw_dm_session_continues_incoming(GwDmSession *self, const GwSyncmlCommand *cmd)
{
	const GwSyncmlItem *item;

	if (cmd->type != self->incoming->type || cmd->items->len == 0)
		return FALSE;
	item = g_ptr_array_index(cmd->items, 0);
	return g_strcmp0(item->target_uri, self->incoming->target_uri) == 0 &&
	       g_strcmp0(item->source_uri, self->incoming->source_uri) == 0;
}

/* a new command before the last chunk of the previous object: Alert 1225, object dropped */
static void
gw_dm_session_interrupt_incoming(GwDmSession *self)
{
	GwSyncmlCommand *alert = gw_syncml_alert_new(GW_SYNCML_ALERT_NO_END_OF_DATA);
	gw_syncml_command_add_item(
	    alert, gw_syncml_item_new(self->incoming->target_uri, self->incoming->source_uri));
	g_ptr_array_add(self->immediate, alert);
	g_debug("large object interrupted before its last chunk");
	g_clear_pointer(&self->incoming, gw_dm_incoming_free);
}

/* one item of @cmd: complete, a buffered chunk, or the last chunk (reassembled in *@full) */
static GwDmAssembly
gw_dm_session_assemble(GwDmSession *self,
                       const GwSyncmlCommand *cmd,
                       const GwSyncmlItem *item,
                       GwSyncmlItem **full,
                       guint *status)
{
	GwDmIncoming *in = self->incoming;
	gsize len = item->data != NULL ? strlen(item->data) : 0;
	gboolean size_ok;

	*full = NULL;
	*status = GW_DM_STATUS_OK;
	if (in == NULL && !item->more_data) {
		if (len > self->max_obj_size) {
			*status = GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE;
			return GW_DM_ASSEMBLY_ERROR;
		}
		return GW_DM_ASSEMBLY_NONE;
	}
	if (in == NULL) {
		in = g_new0(GwDmIncoming, 1);
		in->type = cmd->type;
		in->target_uri = g_strdup(item->target_uri);
		in->source_uri = g_strdup(item->source_uri);
		in->size = item->meta.size >= 0 ? item->meta.size : cmd->meta.size;
		in->data = g_string_new(NULL);
		gw_syncml_meta_init(&in->meta);
		gw_syncml_meta_copy_into(&in->meta, &item->meta);
		in->meta.size = -1;
		if (in->size > (gint64)self->max_obj_size)
			in->failed = GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE;
		self->incoming = in;
	}
	if (in->failed == 0 && in->data->len + len > self->max_obj_size)
		in->failed = GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE;
	if (in->failed != 0) {
		*status = in->failed;
		if (!item->more_data)
			g_clear_pointer(&self->incoming, gw_dm_incoming_free);
		return GW_DM_ASSEMBLY_ERROR;
	}
	if (item->data != NULL)
		g_string_append_len(in->data, item->data, (gssize)len);
	if (item->more_data) {
		*status = GW_DM_STATUS_CHUNK_ACCEPTED;
		return GW_DM_ASSEMBLY_CHUNK;
	}

	/* the last chunk: Size counts the Data as carried; for b64 the decoded size is accepted */
	size_ok = in->size < 0 || (gsize)in->size == in->data->len;
	if (!size_ok && g_strcmp0(in->meta.format, "b64") == 0)
		size_ok =
		    (gsize)in->size == gw_dm_session_b64_decoded_len(in->data->str, in->data->len);
	if (!size_ok) {
		g_debug("large object of %" G_GSIZE_FORMAT
		        " bytes, Meta Size said %" G_GINT64_FORMAT,
		        in->data->len,
		        in->size);
		*status = GW_DM_STATUS_SIZE_MISMATCH;
		g_clear_pointer(&self->incoming, gw_dm_incoming_free);
		return GW_DM_ASSEMBLY_ERROR;
	}
	*full = gw_syncml_item_copy(item);
	if ((*full)->meta.format == NULL)
		(*full)->meta.format = g_strdup(in->meta.format);
	if ((*full)->meta.type == NULL)
		(*full)->meta.type = g_strdup(in->meta.type);
	(*full)->meta.size = -1;
	g_free((*full)->data);
	(*full)->data = g_string_free(g_steal_pointer(&in->data), FALSE);
	in->data = g_string_new(NULL);
	g_clear_pointer(&self->incoming, gw_dm_incoming_free);
	return GW_DM_ASSEMBLY_DONE;
}

/* ---- executing commands (client role) ---- */

static gboolean
gw_dm_session_node_is_b64(GwDmSession *self, const gchar *uri)
{
	GwDmNode *node;
	if (uri == NULL || strchr(uri, '?') != NULL)
		return FALSE;
	node = gw_dm_tree_lookup(self->tree, uri);
	return node != NULL && gw_dm_node_get_format(node) == GW_DM_FORMAT_B64;
}

/* the value of @item as the tree takes it; returns 200 or the status to answer */
static guint
gw_dm_session_item_value(GwDmSession *self,
                         const GwSyncmlCommand *cmd,
                         const GwSyncmlItem *item,
                         gboolean keep_format,
                         GwDmFormat *format,
                         const gchar **mime_type,
                         GBytes **data)
{
	const gchar *fmt = item->meta.format != NULL ? item->meta.format : cmd->meta.format;
	gsize len = item->data != NULL ? strlen(item->data) : 0;

	*mime_type = item->meta.type != NULL ? item->meta.type : cmd->meta.type;
	*data = NULL;
	if (len > self->max_obj_size)
		return GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE;
	if (fmt == NULL) {
		*format = keep_format ? GW_DM_FORMAT_INVALID : GW_DM_FORMAT_CHR;
	} else if (strcmp(fmt, "b64") == 0 && !gw_dm_session_node_is_b64(self, item->target_uri)) {
		/* binary data travels base64-encoded */
		gsize raw_len = 0;
		guchar *raw;
		if (item->data != NULL && !gw_dm_session_is_b64_text(item->data))
			return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
		raw = g_base64_decode(item->data != NULL ? item->data : "", &raw_len);
		*data = g_bytes_new_take(raw, raw_len);
		*format = GW_DM_FORMAT_BIN;
		return GW_DM_STATUS_OK;
	} else {
		*format = gw_dm_format_from_string(fmt);
		if (*format == GW_DM_FORMAT_INVALID)
			return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	}
	if (item->data != NULL)
		*data = g_bytes_new(item->data, len);
	return GW_DM_STATUS_OK;
}

/* (GwMO-SECARIZE-001) one item of a tree command, as @server_id; Get adds to *@results */
static guint
gw_dm_session_execute_item(GwDmSession *self,
                           guint32 msg_id,
                           const GwSyncmlCommand *cmd,
                           const GwSyncmlItem *item,
                           GwSyncmlCommand **results)
{
	const gchar *server_id = self->cfg.server_id;
	const gchar *target = item->target_uri;
	g_autoptr(GBytes) data = NULL;
	const gchar *mime_type = NULL;
	GwDmFormat format = GW_DM_FORMAT_INVALID;
	guint code;

	if (target == NULL && cmd->type != GW_SYNCML_CMD_COPY)
		return GW_DM_STATUS_BAD_REQUEST;
	switch (cmd->type) {
	case GW_SYNCML_CMD_GET: {
		g_autoptr(GPtrArray) items = NULL;
		g_autoptr(GPtrArray) converted =
		    g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_item_free);
		code = gw_dm_tree_get(self->tree, server_id, target, &items);
		if (!gw_dm_status_is_success(code) || items == NULL)
			return code;
		for (guint i = 0; i < items->len; i++) {
			GwSyncmlItem *sitem =
			    gw_syncml_item_new_from_dm_item(g_ptr_array_index(items, i));
			if (self->peer_max_obj_size > 0 && sitem->data != NULL &&
			    (gint64)strlen(sitem->data) > self->peer_max_obj_size) {
				gw_syncml_item_free(sitem);
				return GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE;
			}
			g_ptr_array_add(converted, sitem);
		}
		if (*results == NULL)
			*results = gw_syncml_results_new_for_get(msg_id, cmd);
		for (guint i = 0; i < converted->len; i++)
			gw_syncml_command_add_item(
			    *results, g_steal_pointer(&g_ptr_array_index(converted, i)));
		return code;
	}
	case GW_SYNCML_CMD_ADD:
	case GW_SYNCML_CMD_REPLACE:
		code = gw_dm_session_item_value(self,
		                                cmd,
		                                item,
		                                cmd->type == GW_SYNCML_CMD_REPLACE,
		                                &format,
		                                &mime_type,
		                                &data);
		if (code != GW_DM_STATUS_OK)
			return code;
		if (cmd->type == GW_SYNCML_CMD_ADD)
			return gw_dm_tree_add(
			    self->tree, server_id, target, format, mime_type, data);
		return gw_dm_tree_replace(self->tree, server_id, target, format, mime_type, data);
	case GW_SYNCML_CMD_DELETE:
		return gw_dm_tree_delete(self->tree, server_id, target);
	case GW_SYNCML_CMD_EXEC:
		code = gw_dm_session_item_value(self, cmd, item, TRUE, &format, &mime_type, &data);
		if (code != GW_DM_STATUS_OK)
			return code;
		return gw_dm_tree_exec(self->tree, server_id, target, data, cmd->correlator);
	case GW_SYNCML_CMD_COPY:
		if (target == NULL || item->source_uri == NULL)
			return GW_DM_STATUS_BAD_REQUEST;
		return gw_dm_tree_copy(self->tree, server_id, item->source_uri, target);
	default:
		return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
	}
}

static void
gw_dm_session_add_status(GPtrArray *statuses, const GwSyncmlCommand *cmd, GwSyncmlCommand *status)
{
	if (cmd->no_resp)
		gw_syncml_command_free(status);
	else
		g_ptr_array_add(statuses, status);
}

static guint
gw_dm_session_execute(GwDmSession *self,
                      guint32 msg_id,
                      const GwSyncmlCommand *cmd,
                      gboolean top,
                      gboolean in_atomic,
                      GPtrArray *statuses,
                      GPtrArray *results);

/* Atomic: all or nothing (DM 1.2: 507 for Atomic, 216 for what was rolled back, 215 for what
 * was not executed, the failing command keeps its own code) */
static guint
gw_dm_session_execute_atomic(GwDmSession *self,
                             guint32 msg_id,
                             const GwSyncmlCommand *cmd,
                             gboolean in_atomic,
                             GPtrArray *statuses,
                             GPtrArray *results)
{
	g_autoptr(GwDmSnapshot) snapshot = NULL;
	g_autoptr(GPtrArray) child_statuses =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
	g_autoptr(GPtrArray) child_results =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
	guint failed_at = G_MAXUINT;
	guint failed_code = GW_DM_STATUS_OK;

	/* a nested Atomic is covered by the outer snapshot */
	if (!in_atomic)
		snapshot = gw_dm_tree_snapshot(self->tree);
	for (guint i = 0; i < cmd->children->len; i++) {
		const GwSyncmlCommand *child = g_ptr_array_index(cmd->children, i);
		guint code = gw_dm_session_execute(
		    self, msg_id, child, FALSE, TRUE, child_statuses, child_results);
		if (!gw_dm_status_is_success(code)) {
			failed_at = i;
			failed_code = code;
			break;
		}
	}
	if (failed_at == G_MAXUINT) {
		gw_dm_session_add_status(
		    statuses, cmd, gw_syncml_status_new_for_command(msg_id, cmd, GW_DM_STATUS_OK));
		for (guint i = 0; i < child_statuses->len; i++)
			g_ptr_array_add(statuses,
			                g_steal_pointer(&g_ptr_array_index(child_statuses, i)));
		for (guint i = 0; i < child_results->len; i++)
			g_ptr_array_add(results,
			                g_steal_pointer(&g_ptr_array_index(child_results, i)));
		return GW_DM_STATUS_OK;
	}

	g_debug("Atomic %u failed (%u), rolling back", cmd->cmd_id, failed_code);
	if (snapshot != NULL)
		gw_dm_tree_rollback(self->tree, snapshot);
	gw_dm_session_add_status(
	    statuses,
	    cmd,
	    gw_syncml_status_new_for_command(msg_id, cmd, GW_DM_STATUS_ATOMIC_FAILED));
	for (guint i = 0; i < child_statuses->len; i++) {
		GwSyncmlCommand *status = g_steal_pointer(&g_ptr_array_index(child_statuses, i));
		if (gw_dm_status_is_success(status->status_code))
			status->status_code = GW_DM_STATUS_ATOMIC_ROLLBACK_OK;
		g_ptr_array_add(statuses, status);
	}
	for (guint i = failed_at + 1; i < cmd->children->len; i++) {
		const GwSyncmlCommand *child = g_ptr_array_index(cmd->children, i);
		gw_dm_session_add_status(
		    statuses,
		    child,
		    gw_syncml_status_new_for_command(msg_id, child, GW_DM_STATUS_NOT_EXECUTED));
	}
	return GW_DM_STATUS_ATOMIC_FAILED;
}

/* UI alerts and the like inside the server's package */
static guint
gw_dm_session_alert_code_status(guint alert_code)
{
	switch (alert_code) {
	case GW_SYNCML_ALERT_DISPLAY:
	case GW_SYNCML_ALERT_NEXT_MESSAGE:
		return GW_DM_STATUS_OK;
	default:
		return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
	}
}

/*
 * Executes @cmd on the tree; appends its Status commands (unless NoResp) to @statuses and Get
 * results to @results. Returns the command's outcome (the first failure of its items).
 */
static guint
gw_dm_session_execute(GwDmSession *self,
                      guint32 msg_id,
                      const GwSyncmlCommand *cmd,
                      gboolean top,
                      gboolean in_atomic,
                      GPtrArray *statuses,
                      GPtrArray *results)
{
	g_autoptr(GwSyncmlCommand) result_cmd = NULL;
	guint outcome = GW_DM_STATUS_OK;

	if (cmd->type == GW_SYNCML_CMD_STATUS || cmd->type == GW_SYNCML_CMD_RESULTS)
		return GW_DM_STATUS_OK;
	self->stats.commands_executed++;

	switch (cmd->type) {
	case GW_SYNCML_CMD_ATOMIC:
		return gw_dm_session_execute_atomic(
		    self, msg_id, cmd, in_atomic, statuses, results);
	case GW_SYNCML_CMD_SEQUENCE:
		/* DM 1.2: in order; a failure does not stop the commands after it */
		gw_dm_session_add_status(
		    statuses, cmd, gw_syncml_status_new_for_command(msg_id, cmd, GW_DM_STATUS_OK));
		for (guint i = 0; i < cmd->children->len; i++) {
			guint code = gw_dm_session_execute(self,
			                                   msg_id,
			                                   g_ptr_array_index(cmd->children, i),
			                                   FALSE,
			                                   in_atomic,
			                                   statuses,
			                                   results);
			if (!gw_dm_status_is_success(code) && gw_dm_status_is_success(outcome))
				outcome = code;
		}
		return outcome;
	case GW_SYNCML_CMD_ALERT:
		outcome = gw_dm_session_alert_code_status(cmd->alert_code);
		gw_dm_session_add_status(
		    statuses, cmd, gw_syncml_status_new_for_command(msg_id, cmd, outcome));
		return outcome;
	case GW_SYNCML_CMD_ADD:
	case GW_SYNCML_CMD_REPLACE:
	case GW_SYNCML_CMD_DELETE:
	case GW_SYNCML_CMD_EXEC:
	case GW_SYNCML_CMD_COPY:
	case GW_SYNCML_CMD_GET:
		break;
	default:
		/* an element we do not know (kept by the parser so that it gets a Status) */
		g_debug("unknown command <%s> answered 406",
		        gw_syncml_command_get_name(cmd) != NULL ? gw_syncml_command_get_name(cmd)
		                                                : "?");
		gw_dm_session_add_status(
		    statuses,
		    cmd,
		    gw_syncml_status_new_for_command(
		        msg_id, cmd, GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED));
		return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
	}

	if (cmd->items->len == 0) {
		gw_dm_session_add_status(
		    statuses,
		    cmd,
		    gw_syncml_status_new_for_command(msg_id, cmd, GW_DM_STATUS_BAD_REQUEST));
		return GW_DM_STATUS_BAD_REQUEST;
	}
	for (guint i = 0; i < cmd->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(cmd->items, i);
		g_autoptr(GwSyncmlItem) full = NULL;
		gboolean run = TRUE;
		guint code = GW_DM_STATUS_OK;

		if (item->more_data || (top && self->incoming != NULL)) {
			GwDmAssembly how = GW_DM_ASSEMBLY_ERROR;
			code = GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
			/* large objects: only top-level Add, Replace and Exec */
			if (top &&
			    (cmd->type == GW_SYNCML_CMD_ADD || cmd->type == GW_SYNCML_CMD_REPLACE ||
			     cmd->type == GW_SYNCML_CMD_EXEC))
				how = gw_dm_session_assemble(self, cmd, item, &full, &code);
			if (how == GW_DM_ASSEMBLY_CHUNK) {
				g_ptr_array_add(
				    self->immediate,
				    gw_syncml_status_new_for_item(msg_id, cmd, item, code));
				continue;
			}
			if (how == GW_DM_ASSEMBLY_DONE) {
				item = full;
			} else if (how == GW_DM_ASSEMBLY_ERROR && item->more_data) {
				/* at once, so that the sender stops sending chunks */
				g_ptr_array_add(
				    self->immediate,
				    gw_syncml_status_new_for_item(msg_id, cmd, item, code));
				if (gw_dm_status_is_success(outcome))
					outcome = code;
				continue;
			} else if (how == GW_DM_ASSEMBLY_ERROR) {
				run = FALSE;
			}
		} else if (item->data != NULL && strlen(item->data) > self->max_obj_size) {
			code = GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE;
			run = FALSE;
		}
		if (run)
			code = gw_dm_session_execute_item(self, msg_id, cmd, item, &result_cmd);
		gw_dm_session_add_status(
		    statuses, cmd, gw_syncml_status_new_for_item(msg_id, cmd, item, code));
		if (!gw_dm_status_is_success(code) && gw_dm_status_is_success(outcome))
			outcome = code;
	}
	if (result_cmd != NULL)
		g_ptr_array_add(results, g_steal_pointer(&result_cmd));
	return outcome;
}

/* client role: one top-level command of the server's package */
static void
gw_dm_session_client_command(GwDmSession *self, guint32 msg_id, const GwSyncmlCommand *cmd)
{
	g_autoptr(GPtrArray) statuses =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
	g_autoptr(GPtrArray) results =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);

	if (cmd->type == GW_SYNCML_CMD_RESULTS) {
		g_debug("ignoring Results from the server");
		return;
	}
	gw_dm_session_execute(self, msg_id, cmd, TRUE, FALSE, statuses, results);
	for (guint i = 0; i < statuses->len; i++)
		gw_dm_session_push_out(&self->out_status,
		                       g_steal_pointer(&g_ptr_array_index(statuses, i)));
	for (guint i = 0; i < results->len; i++)
		gw_dm_session_push_out(&self->out_status,
		                       g_steal_pointer(&g_ptr_array_index(results, i)));
}

/* ---- handling the client's commands (server role) ---- */

static void
gw_dm_session_answer(GwDmSession *self, guint32 msg_id, const GwSyncmlCommand *cmd, guint code)
{
	if (!cmd->no_resp)
		gw_dm_session_push_out(&self->out_status,
		                       gw_syncml_status_new_for_command(msg_id, cmd, code));
}

/* Results of a Get we sent: items are kept (reassembled when chunked); no Status is sent for
 * Results except 213 for chunks and the refusal of a large object */
static void
gw_dm_session_handle_results(GwDmSession *self, guint32 msg_id, const GwSyncmlCommand *cmd)
{
	GwDmSentCmd *sent = gw_dm_session_lookup_sent(self, cmd->msg_ref, cmd->cmd_ref);
	GwDmResultEntry *entry = sent != NULL ? sent->result : NULL;

	if (entry == NULL)
		g_debug("Results for a command we did not send (CmdRef %u)", cmd->cmd_ref);
	for (guint i = 0; i < cmd->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(cmd->items, i);
		g_autoptr(GwSyncmlItem) full = NULL;
		guint code = GW_DM_STATUS_OK;

		switch (gw_dm_session_assemble(self, cmd, item, &full, &code)) {
		case GW_DM_ASSEMBLY_NONE:
			if (entry != NULL)
				g_ptr_array_add(entry->pub.results, gw_syncml_item_copy(item));
			break;
		case GW_DM_ASSEMBLY_DONE:
			if (entry != NULL)
				g_ptr_array_add(entry->pub.results, g_steal_pointer(&full));
			break;
		case GW_DM_ASSEMBLY_CHUNK:
			g_ptr_array_add(self->immediate,
			                gw_syncml_status_new_for_item(msg_id, cmd, item, code));
			break;
		case GW_DM_ASSEMBLY_ERROR:
		default:
			if (item->more_data)
				g_ptr_array_add(
				    self->immediate,
				    gw_syncml_status_new_for_item(msg_id, cmd, item, code));
			else
				gw_dm_session_push_out(
				    &self->out_status,
				    gw_syncml_status_new_for_item(msg_id, cmd, item, code));
			if (entry != NULL)
				gw_dm_session_merge_status(entry, code);
			break;
		}
	}
}

/* Package #1 Replace of ./DevInfo/<leaf> */
static void
gw_dm_session_handle_devinfo(GwDmSession *self, guint32 msg_id, const GwSyncmlCommand *cmd)
{
	for (guint i = 0; i < cmd->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(cmd->items, i);
		const gchar *uri = item->source_uri != NULL ? item->source_uri : item->target_uri;
		gchar *value = NULL;

		if (uri == NULL || !g_str_has_prefix(uri, "./DevInfo/")) {
			g_debug("ignoring a Replace of %s from the device",
			        uri != NULL ? uri : "(none)");
			continue;
		}
		if (g_strcmp0(item->meta.format, "b64") == 0 && item->data != NULL) {
			gsize len = 0;
			guchar *raw = g_base64_decode(item->data, &len);
			value = g_strndup((const gchar *)raw, len);
			g_free(raw);
		} else {
			value = g_strdup(item->data != NULL ? item->data : "");
		}
		g_hash_table_replace(self->peer_devinfo, g_strdup(uri), value);
	}
	gw_dm_session_answer(self, msg_id, cmd, GW_DM_STATUS_OK);
}

static void
gw_dm_session_server_command(GwDmSession *self, guint32 msg_id, const GwSyncmlCommand *cmd)
{
	switch (cmd->type) {
	case GW_SYNCML_CMD_ALERT:
		if (cmd->alert_code == GW_SYNCML_ALERT_GENERIC) {
			self->alert_status = GW_DM_STATUS_OK;
			self->in_alert_emission = TRUE;
			g_signal_emit(self, signals[SIGNAL_GENERIC_ALERT], 0, (gpointer)cmd);
			self->in_alert_emission = FALSE;
			gw_dm_session_answer(self, msg_id, cmd, self->alert_status);
		} else if (cmd->alert_code == GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT ||
		           cmd->alert_code == GW_SYNCML_ALERT_SERVER_INITIATED_MGMT ||
		           cmd->alert_code == GW_SYNCML_ALERT_NEXT_MESSAGE) {
			gw_dm_session_answer(self, msg_id, cmd, GW_DM_STATUS_OK);
		} else {
			gw_dm_session_answer(
			    self, msg_id, cmd, GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED);
		}
		break;
	case GW_SYNCML_CMD_RESULTS:
		gw_dm_session_handle_results(self, msg_id, cmd);
		break;
	case GW_SYNCML_CMD_REPLACE:
		gw_dm_session_handle_devinfo(self, msg_id, cmd);
		break;
	default:
		/* a DM server has no tree for a device to act on */
		gw_dm_session_answer(
		    self, msg_id, cmd, GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED);
		break;
	}
}

/* ---- statuses from the peer ---- */

static gint
gw_dm_result_entry_compare(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const GwDmResultEntry *ea = a;
	const GwDmResultEntry *eb = b;
	return ea->pub.ref < eb->pub.ref ? -1 : ea->pub.ref > eb->pub.ref ? 1 : 0;
}

/* server role: the client refused our credentials, so the command goes out again */
static void
gw_dm_session_requeue(GwDmSession *self, GwDmResultEntry *entry)
{
	if (entry->requeued)
		return;
	entry->requeued = TRUE;
	entry->sent = FALSE;
	entry->done = FALSE;
	entry->n_waiting = 0;
	entry->pub.status = 0;
	g_queue_insert_sorted(&self->pending, entry, gw_dm_result_entry_compare, NULL);
}

static void
gw_dm_session_abort_chunks(GwDmSession *self, guint code)
{
	GwDmOut *out = self->chunk_out;

	if (out == NULL)
		return;
	if (!g_queue_remove(&self->out_status, out))
		g_queue_remove(&self->out_cmds, out);
	self->chunk_out = NULL;
	if (out->result != NULL) {
		gw_dm_session_merge_status(out->result, code);
		if (out->result->n_unsent > 0)
			out->result->n_unsent--;
		gw_dm_session_check_done(out->result);
	}
	gw_dm_out_free(out);
}

static void
gw_dm_session_handle_command_status(GwDmSession *self,
                                    const GwSyncmlCommand *status,
                                    gboolean rejected)
{
	GwDmSentCmd *sent = gw_dm_session_lookup_sent(self, status->msg_ref, status->cmd_ref);
	guint code = status->status_code;
	GwDmResultEntry *entry;

	if (sent == NULL)
		return;
	if (sent->chunk) {
		if (code == GW_DM_STATUS_CHUNK_ACCEPTED)
			return;
		/* the receiver refused the object: the remaining chunks are not sent */
		g_debug(
		    "chunked %s refused with %u", status->cmd != NULL ? status->cmd : "?", code);
		gw_dm_session_abort_chunks(self, code);
		return;
	}
	if (sent->has_alert_id) {
		if (!sent->answered && gw_dm_status_is_success(code)) {
			sent->answered = TRUE;
			g_signal_emit(self, signals[SIGNAL_ALERT_DELIVERED], 0, sent->alert_id);
		}
		return;
	}
	entry = sent->result;
	if (entry == NULL || !sent->top)
		return;
	if (rejected && (code == GW_DM_STATUS_INVALID_CREDENTIALS ||
	                 code == GW_DM_STATUS_MISSING_CREDENTIALS)) {
		gw_dm_session_requeue(self, entry);
		return;
	}
	if (!sent->answered) {
		sent->answered = TRUE;
		if (entry->n_waiting > 0)
			entry->n_waiting--;
	}
	gw_dm_session_merge_status(entry, code);
	gw_dm_session_check_done(entry);
}

/* applies the peer's Status commands; TRUE when it rejected our credentials */
static gboolean
gw_dm_session_handle_statuses(GwDmSession *self, const GwSyncmlMessage *msg)
{
	gboolean rejected = FALSE;

	/* the Status for our SyncHdr decides what the others mean */
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);
		if (cmd->type != GW_SYNCML_CMD_STATUS || cmd->cmd_ref != 0)
			continue;
		if (cmd->chal != NULL)
			gw_dm_session_take_chal(self, cmd->chal);
		if (cmd->status_code == GW_DM_STATUS_INVALID_CREDENTIALS ||
		    cmd->status_code == GW_DM_STATUS_MISSING_CREDENTIALS) {
			g_info("the peer %s our credentials (%u)",
			       cmd->status_code == GW_DM_STATUS_INVALID_CREDENTIALS ? "rejected"
			                                                            : "wants",
			       cmd->status_code);
			rejected = TRUE;
		} else if (gw_dm_status_is_success(cmd->status_code)) {
			if (!self->local_accepted)
				g_debug("the peer accepted our SyncHdr (%u)", cmd->status_code);
			self->local_accepted = TRUE;
		} else {
			g_debug("Status %u for our SyncHdr", cmd->status_code);
		}
	}
	if (rejected)
		self->local_accepted = FALSE;
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);
		if (cmd->type == GW_SYNCML_CMD_STATUS && cmd->cmd_ref != 0)
			gw_dm_session_handle_command_status(self, cmd, rejected);
	}
	return rejected;
}

/* ---- server role: package planning ---- */

static gboolean
gw_dm_session_has_outstanding(GwDmSession *self)
{
	for (guint i = 0; i < self->results->len; i++) {
		GwDmResultEntry *entry = g_ptr_array_index(self->results, i);
		if (entry->sent && !entry->done)
			return TRUE;
	}
	return FALSE;
}

/* at the end of the client's package: every command sent has its answer (or never will) */
static void
gw_dm_session_emit_results(GwDmSession *self)
{
	for (guint i = 0; i < self->results->len; i++) {
		GwDmResultEntry *entry = g_ptr_array_index(self->results, i);
		if (entry->sent && !entry->done && entry->n_unsent == 0) {
			g_debug("command %u got no Status in the client's package", entry->pub.ref);
			entry->n_waiting = 0;
			entry->done = TRUE;
		}
		if (entry->done && !entry->emitted) {
			entry->emitted = TRUE;
			/* handlers may queue commands: the array can grow, entry stays valid */
			g_signal_emit(self, signals[SIGNAL_RESULT], 0, &entry->pub);
		}
	}
}

/* the next server package: queued commands once the client is authenticated and has
 * answered everything sent before */
static void
gw_dm_session_plan(GwDmSession *self, gboolean auth_ok)
{
	GwDmResultEntry *entry;

	if (!auth_ok || !self->peer_authenticated || gw_dm_session_has_outstanding(self))
		return;
	while ((entry = g_queue_pop_head(&self->pending)) != NULL) {
		GwDmOut *out = gw_dm_out_new(gw_syncml_command_copy(entry->pub.command));
		out->result = entry;
		entry->n_unsent = 1;
		entry->requeued = FALSE;
		g_queue_push_tail(&self->out_cmds, out);
	}
}

/* server role: a final message with only Status/Results while nothing is pending or
 * unanswered ends the session */
static gboolean
gw_dm_session_server_done(GwDmSession *self)
{
	return self->built_final && !self->built_requests && self->peer_authenticated &&
	       g_queue_is_empty(&self->pending) && !gw_dm_session_has_outstanding(self);
}

/* ---- receiving ---- */

static gboolean
gw_dm_session_check_header(GwDmSession *self, const GwSyncmlMessage *msg, gsize len, GError **error)
{
	const GwSyncmlHeader *hdr = &msg->hdr;

	if (self->session_id == NULL) {
		self->session_id = g_strdup(hdr->session_id);
	} else if (g_ascii_strcasecmp(self->session_id, hdr->session_id) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "message for session %s in session %s",
		            hdr->session_id,
		            self->session_id);
		return FALSE;
	}
	/* the peer can only be held to a MaxMsgSize it was told */
	if (self->stats.messages_out > 0 && len > self->max_msg_size) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "message of %" G_GSIZE_FORMAT " bytes exceeds our MaxMsgSize %u",
		            len,
		            self->max_msg_size);
		return FALSE;
	}
	if (self->peer_uri == NULL) {
		self->peer_uri = g_strdup(hdr->source_uri);
	} else if (self->cfg.role == GW_DM_SESSION_ROLE_SERVER &&
	           g_strcmp0(self->peer_uri, hdr->source_uri) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "message from another device (Source LocURI changed)");
		return FALSE;
	}
	if (self->cfg.role == GW_DM_SESSION_ROLE_SERVER) {
		if (self->our_uri == NULL)
			self->our_uri = g_strdup(hdr->target_uri);
		if (self->state == GW_DM_SESSION_STATE_NEW)
			self->version = hdr->version;
	}
	if (hdr->resp_uri != NULL && hdr->resp_uri[0] != '\0') {
		g_free(self->resp_uri);
		self->resp_uri = g_strdup(hdr->resp_uri);
	}
	if (hdr->meta.max_msg_size > 0)
		self->peer_max_msg_size = hdr->meta.max_msg_size;
	if (hdr->meta.max_obj_size > 0)
		self->peer_max_obj_size = hdr->meta.max_obj_size;
	return TRUE;
}

static gboolean
gw_dm_session_queues_empty(GwDmSession *self)
{
	return g_queue_is_empty(&self->out_status) && g_queue_is_empty(&self->out_cmds) &&
	       self->immediate->len == 0;
}

/* a message may be fed while the session is not over (and, as a client, started) */
static gboolean
gw_dm_session_can_receive(GwDmSession *self, GBytes *message, GError **error)
{
	gsize len = 0;

	if (self->state == GW_DM_SESSION_STATE_FINISHED ||
	    self->state == GW_DM_SESSION_STATE_FAILED) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_WRONG_STATE, "the DM session is over");
		return FALSE;
	}
	if (self->cfg.role == GW_DM_SESSION_ROLE_CLIENT && self->state == GW_DM_SESSION_STATE_NEW) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_WRONG_STATE, "the DM client session was not started");
		return FALSE;
	}
	g_bytes_get_data(message, &len);
	self->stats.messages_in++;
	self->stats.bytes_in += len;
	return TRUE;
}

static GBytes *
gw_dm_session_receive_decoded(GwDmSession *self,
                              GwSyncmlMessage *decoded,
                              GBytes *message,
                              gboolean wbxml,
                              const gchar *hmac_header,
                              GError **error);

GBytes *
gw_dm_session_receive(GwDmSession *self,
                      GBytes *message,
                      const gchar *content_type,
                      const gchar *hmac_header,
                      GError **error)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GError) local_error = NULL;
	g_autofree gchar *xml = NULL;
	const guint8 *data;
	gsize len = 0;
	gboolean wbxml;

	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	g_return_val_if_fail(message != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!gw_dm_session_can_receive(self, message, error))
		return NULL;
	data = g_bytes_get_data(message, &len);

	/* decode: nothing is executed from a message that does not parse */
	wbxml = gw_wbxml_message_is_wbxml(content_type, data, len);
	if (wbxml) {
		gsize xml_len = 0;
		xml = gw_wbxml_to_xml(data, len, &xml_len, &local_error);
		if (xml != NULL)
			msg =
			    gw_syncml_message_parse_xml((const guint8 *)xml, xml_len, &local_error);
	} else {
		msg = gw_syncml_message_parse_xml(data, len, &local_error);
	}
	if (msg == NULL)
		return gw_dm_session_fail_protocol(self, local_error, error);
	return gw_dm_session_receive_decoded(
	    self, g_steal_pointer(&msg), message, wbxml, hmac_header, error);
}

GBytes *
gw_dm_session_receive_parsed(GwDmSession *self,
                             GwSyncmlMessage *msg,
                             GBytes *message,
                             gboolean wbxml,
                             const gchar *hmac_header,
                             GError **error)
{
	g_autoptr(GwSyncmlMessage) owned = msg;

	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	g_return_val_if_fail(msg != NULL && message != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!gw_dm_session_can_receive(self, message, error))
		return NULL;
	return gw_dm_session_receive_decoded(
	    self, g_steal_pointer(&owned), message, wbxml, hmac_header, error);
}

static GBytes *
gw_dm_session_receive_decoded(GwDmSession *self,
                              GwSyncmlMessage *decoded,
                              GBytes *message,
                              gboolean wbxml,
                              const gchar *hmac_header,
                              GError **error)
{
	g_autoptr(GwSyncmlMessage) msg = decoded;
	g_autoptr(GwSyncmlCommand) hdr_status = NULL;
	g_autoptr(GError) local_error = NULL;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(message, &len);
	gboolean was_accepted;
	gboolean auth_ok;
	guint auth_code;
	guint32 msg_id;
	GBytes *reply;

	self->encoding = wbxml ? GW_DM_ENCODING_WBXML : GW_DM_ENCODING_XML;
	if (!gw_dm_session_check_header(self, msg, len, &local_error))
		return gw_dm_session_fail_return(self, g_steal_pointer(&local_error), error);
	msg_id = msg->hdr.msg_id;
	g_debug("received message %u%s: %u commands, %" G_GSIZE_FORMAT " bytes (%s)",
	        msg_id,
	        msg->final ? " (final)" : "",
	        msg->commands->len,
	        len,
	        wbxml ? "WBXML" : "XML");
	if (self->state == GW_DM_SESSION_STATE_NEW) {
		self->state = GW_DM_SESSION_STATE_ACTIVE;
		g_info("server session %s started", self->session_id);
	}

	/* (GwMO-SECACATE-001, GwMO-SECDI-001) the peer's credentials */
	auth_code = gw_dm_session_check_peer(self, msg, hmac_header, data, len);
	auth_ok = gw_dm_status_is_success(auth_code);
	if (!auth_ok) {
		self->peer_auth_failures++;
		g_info("peer credentials %s in message %u (%u of %u attempts)",
		       auth_code == GW_DM_STATUS_MISSING_CREDENTIALS ? "missing" : "rejected",
		       msg_id,
		       self->peer_auth_failures,
		       (guint)GW_DM_SESSION_MAX_AUTH_FAILURES);
	}
	hdr_status = gw_dm_session_header_status(self, msg, auth_code);

	/* our own credentials and the commands we sent */
	was_accepted = self->local_accepted;
	if (gw_dm_session_handle_statuses(self, msg)) {
		if (self->local_retries >= GW_DM_SESSION_MAX_AUTH_RETRIES ||
		    (self->cfg.role == GW_DM_SESSION_ROLE_CLIENT && was_accepted))
			return gw_dm_session_fail_return(
			    self,
			    g_error_new_literal(GW_ERROR,
			                        GW_ERROR_AUTH_FAILED,
			                        "the peer rejected our credentials"),
			    error);
		self->local_retries++;
		if (self->cfg.role == GW_DM_SESSION_ROLE_CLIENT) {
			/* Package #1 again, with a new MsgID and a fresh digest */
			gw_dm_session_clear_outgoing(self);
			g_clear_pointer(&self->incoming, gw_dm_incoming_free);
			gw_dm_session_queue_package1(self);
			reply = gw_dm_session_build(
			    self, g_steal_pointer(&hdr_status), FALSE, &local_error);
			if (reply == NULL)
				return gw_dm_session_fail_return(
				    self, g_steal_pointer(&local_error), error);
			return reply;
		}
		/* server role: the rejected commands were queued again */
	}

	/* the commands */
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);

		if (cmd->type == GW_SYNCML_CMD_STATUS)
			continue;
		if (auth_ok && cmd->type == GW_SYNCML_CMD_ALERT &&
		    cmd->alert_code == GW_SYNCML_ALERT_SESSION_ABORT)
			return gw_dm_session_fail_return(
			    self,
			    g_error_new_literal(GW_ERROR,
			                        GW_ERROR_FAILED,
			                        "the peer aborted the session (Alert 1223)"),
			    error);
		if (self->incoming != NULL &&
		    !(cmd->type == GW_SYNCML_CMD_ALERT &&
		      cmd->alert_code == GW_SYNCML_ALERT_NEXT_MESSAGE) &&
		    !gw_dm_session_continues_incoming(self, cmd))
			gw_dm_session_interrupt_incoming(self);
		if (!auth_ok) {
			/* (GwMO-SECACATE-001) nothing runs for a peer that did not authenticate */
			if (cmd->type != GW_SYNCML_CMD_RESULTS)
				gw_dm_session_answer(self, msg_id, cmd, auth_code);
			continue;
		}
		if (self->cfg.role == GW_DM_SESSION_ROLE_CLIENT)
			gw_dm_session_client_command(self, msg_id, cmd);
		else
			gw_dm_session_server_command(self, msg_id, cmd);
	}

	/* the reply */
	if (self->out_partial) {
		/* the peer asks for the next message of our package */
		reply =
		    gw_dm_session_build(self, g_steal_pointer(&hdr_status), FALSE, &local_error);
	} else if (!msg->final) {
		/* the peer's package goes on: "Next Message" response */
		reply = gw_dm_session_build(self, g_steal_pointer(&hdr_status), TRUE, &local_error);
	} else if (self->cfg.role == GW_DM_SESSION_ROLE_CLIENT) {
		if (self->hold_reply) {
			/* the link sends it later, with what was queued meanwhile */
			g_clear_pointer(&self->held_hdr_status, gw_syncml_command_free);
			self->held_hdr_status = g_steal_pointer(&hdr_status);
			self->reply_held = TRUE;
			return NULL;
		}
		if (gw_dm_session_queues_empty(self)) {
			/* nothing in the server's package needs an answer: a NextNonce for the
			 * server that only this unsent answer would carry is not issued */
			gw_dm_session_drop_nonce(self);
			gw_dm_session_finish(self);
			return NULL;
		}
		reply =
		    gw_dm_session_build(self, g_steal_pointer(&hdr_status), FALSE, &local_error);
	} else {
		gw_dm_session_emit_results(self);
		gw_dm_session_plan(self, auth_ok);
		reply =
		    gw_dm_session_build(self, g_steal_pointer(&hdr_status), FALSE, &local_error);
	}
	if (reply == NULL)
		return gw_dm_session_fail_return(self, g_steal_pointer(&local_error), error);
	if (self->cfg.role == GW_DM_SESSION_ROLE_SERVER && auth_ok &&
	    gw_dm_session_server_done(self))
		gw_dm_session_finish(self);
	/* the reply still carries the 401/407 so that the peer learns why */
	if (!auth_ok && self->peer_auth_failures >= GW_DM_SESSION_MAX_AUTH_FAILURES)
		gw_dm_session_fail(self,
		                   g_error_new(GW_ERROR,
		                               GW_ERROR_AUTH_FAILED,
		                               "the peer failed to authenticate %u times",
		                               self->peer_auth_failures));
	return reply;
}

GBytes *
gw_dm_session_start(GwDmSession *self, guint alert_code, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	GBytes *bytes;

	g_return_val_if_fail(GW_IS_DM_SESSION(self), NULL);
	g_return_val_if_fail(self->cfg.role == GW_DM_SESSION_ROLE_CLIENT, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (self->state != GW_DM_SESSION_STATE_NEW) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_WRONG_STATE, "the DM session was started already");
		return NULL;
	}
	if (self->cfg.remote_uri == NULL || self->cfg.local_uri == NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "a DM client session needs remote_uri and local_uri");
		return NULL;
	}
	self->alert_code = alert_code;
	self->state = GW_DM_SESSION_STATE_ACTIVE;
	g_info("client session %s started (Alert %u)", self->session_id, alert_code);
	gw_dm_session_queue_package1(self);
	bytes = gw_dm_session_build(self, NULL, FALSE, &local_error);
	if (bytes == NULL)
		return gw_dm_session_fail_return(self, g_steal_pointer(&local_error), error);
	return bytes;
}
