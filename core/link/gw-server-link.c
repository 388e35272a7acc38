/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwServerLink"

#include "config.h"

#include <string.h>

#include "gw-dm-auth.h"
#include "gw-dm2-session.h"
#include "gw-error.h"
#include "gw-log.h"
#include "gw-server-link.h"

struct _GwServerLink {
	GObject parent_instance;
	GwDmTree *tree;
	GwHttpClient *client;
	gchar *dmacc_uri;
	gboolean busy;
	GwDmStore *store;             /* nullable: group commit before each reply */
	GTask *current;               /* the running session's task (borrowed), NULL when idle */
	guint holds;                  /* gw_server_link_hold_reply() not yet released */
	guint serial;                 /* of the running session, > 0: the hold token */
	gboolean allow_insecure_http; /* [northbound] allow-insecure-http */
	gboolean dm2;                 /* the server speaks DM 2.0 ([northbound] dm2-servers) */
};

G_DEFINE_TYPE(GwServerLink, gw_server_link, G_TYPE_OBJECT)

enum { SIGNAL_ALERT_DELIVERED, SIGNAL_MESSAGE_EXECUTED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

typedef struct {
	GwDmSession *session;
	gchar *uri;
	gchar *clcred_uri; /* AppAuth/<x> of the CLCRED entry, for nonce updates */
	gchar *srvcred_uri;
	gulong nonce_id;
	gulong delivered_id;
	GBytes *next; /* the reply waiting for the commit */
	/* a commit is on its way: a released hold is honoured when it is back (the store's
	 * writer thread makes that window as long as an fdatasync) */
	gboolean committing;
	/* DM 2.0 (gw_server_link_run_dm2()) */
	GwDm2Session *dm2;
	gulong dm2_delivered_id;
	gchar *origin;        /* scheme://host:port of the account's address */
	gchar *authorization; /* "Basic …" from CLCRED, nullable */
	GwHttpClientAuth auth; /* HTTP Digest or client certificate (strings owned) */
	gchar *dev_id;
} GwServerLinkRun;

static void
gw_server_link_run_free(gpointer data)
{
	GwServerLinkRun *run = data;
	if (run->session != NULL) {
		g_signal_handler_disconnect(run->session, run->nonce_id);
		g_signal_handler_disconnect(run->session, run->delivered_id);
		g_object_unref(run->session);
	}
	if (run->next != NULL)
		g_bytes_unref(run->next);
	if (run->dm2 != NULL) {
		g_signal_handler_disconnect(run->dm2, run->dm2_delivered_id);
		g_object_unref(run->dm2);
	}
	g_free(run->origin);
	if (run->authorization != NULL)
		memset(run->authorization, 0, strlen(run->authorization));
	g_free(run->authorization);
	g_free((gchar *)run->auth.digest_user);
	if (run->auth.digest_secret != NULL)
		memset((gchar *)run->auth.digest_secret, 0, strlen(run->auth.digest_secret));
	g_free((gchar *)run->auth.digest_secret);
	g_free(run->dev_id);
	g_free(run->uri);
	g_free(run->clcred_uri);
	g_free(run->srvcred_uri);
	g_free(run);
}

void
gw_server_link_alert_free(GwServerLinkAlert *alert)
{
	if (alert->alert != NULL)
		gw_syncml_command_free(alert->alert);
	if (alert->dm2_alert != NULL)
		gw_dm2_alert_free(alert->dm2_alert);
	g_free(alert->identity);
	g_free(alert);
}

static gchar *
gw_server_link_child(GwServerLink *self, const gchar *rel)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", self->dmacc_uri, rel);
	return gw_dm_tree_dup_string(self->tree, uri);
}

/* ---- the two DMAcc layouts (gw-server-link.h): DM 1.x ServerID/AppAddr/AppAuth, DM 2.0
 * SrvID/SrvURI/Auth (OMA-TS-DM_Protocol-V2_0 §11.2) ---- */

static gboolean
gw_server_link_account_has(GwDmTree *tree, const gchar *dmacc_uri, const gchar *rel)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", dmacc_uri, rel);
	return gw_dm_tree_lookup(tree, uri) != NULL;
}

gchar *
gw_server_link_dup_account_server_id(GwDmTree *tree, const gchar *dmacc_uri)
{
	g_autofree gchar *sid_uri = g_strdup_printf("%s/ServerID", dmacc_uri);
	g_autofree gchar *srvid_uri = NULL;
	gchar *sid = gw_dm_tree_dup_string(tree, sid_uri);

	if (sid != NULL)
		return sid;
	srvid_uri = g_strdup_printf("%s/SrvID", dmacc_uri);
	return gw_dm_tree_dup_string(tree, srvid_uri);
}

gboolean
gw_server_link_account_is_dm2(GwDmTree *tree, const gchar *dmacc_uri)
{
	return gw_server_link_account_has(tree, dmacc_uri, "SrvID") &&
	       !gw_server_link_account_has(tree, dmacc_uri, "ServerID");
}

gchar *
gw_server_link_dup_server_id(GwServerLink *self)
{
	return gw_server_link_dup_account_server_id(self->tree, self->dmacc_uri);
}

static GBytes *
gw_server_link_leaf_bytes(GwServerLink *self, const gchar *uri)
{
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
	GBytes *value;
	if (node == NULL || !gw_dm_node_is_leaf(node))
		return NULL;
	value = gw_dm_node_get_value(node);
	return value != NULL ? g_bytes_ref(value) : NULL;
}

/* a secret's bytes, wiped when the GBytes holding them goes */
typedef struct {
	gsize len;
	guint8 data[];
} GwServerLinkSecret;

static void
gw_server_link_secret_free(gpointer data)
{
	GwServerLinkSecret *secret = data;
	memset(secret->data, 0, secret->len);
	g_free(secret);
}

static GBytes *
gw_server_link_secret_new(const void *data, gsize len)
{
	GwServerLinkSecret *secret = g_malloc(sizeof(GwServerLinkSecret) + len + 1);

	secret->len = len;
	if (len > 0)
		memcpy(secret->data, data, len);
	secret->data[len] = 0;
	return g_bytes_new_with_free_func(secret->data, len, gw_server_link_secret_free, secret);
}

static GwDmAuthType
gw_server_link_auth_type(const gchar *aauth_type)
{
	if (g_strcmp0(aauth_type, "BASIC") == 0 || g_strcmp0(aauth_type, "HTTP-BASIC") == 0)
		return GW_DM_AUTH_TYPE_BASIC;
	if (g_strcmp0(aauth_type, "DIGEST") == 0 || g_strcmp0(aauth_type, "HTTP-DIGEST") == 0)
		return GW_DM_AUTH_TYPE_MD5;
	if (g_strcmp0(aauth_type, "HMAC") == 0)
		return GW_DM_AUTH_TYPE_HMAC;
	return GW_DM_AUTH_TYPE_NONE;
}

/* finds AppAuth/<x> with AAuthLevel @level; fills @creds; returns the entry's URI */
static gchar *
gw_server_link_read_creds(GwServerLink *self, const gchar *level, GwDmCredentials *creds)
{
	g_autofree gchar *appauth = g_strdup_printf("%s/AppAuth", self->dmacc_uri);
	g_auto(GStrv) children = gw_dm_tree_list_children(self->tree, appauth);

	for (guint i = 0; children != NULL && children[i] != NULL; i++) {
		g_autofree gchar *entry = g_strdup_printf("%s/%s", appauth, children[i]);
		g_autofree gchar *lvl_uri = g_strdup_printf("%s/AAuthLevel", entry);
		g_autofree gchar *lvl = gw_dm_tree_dup_string(self->tree, lvl_uri);
		g_autofree gchar *type_uri = NULL;
		g_autofree gchar *type = NULL;
		g_autofree gchar *name_uri = NULL;
		g_autofree gchar *secret_uri = NULL;
		g_autofree gchar *data_uri = NULL;

		if (g_strcmp0(lvl, level) != 0)
			continue;
		type_uri = g_strdup_printf("%s/AAuthType", entry);
		type = gw_dm_tree_dup_string(self->tree, type_uri);
		name_uri = g_strdup_printf("%s/AAuthName", entry);
		secret_uri = g_strdup_printf("%s/AAuthSecret", entry);
		data_uri = g_strdup_printf("%s/AAuthData", entry);
		creds->type = gw_server_link_auth_type(type);
		creds->name = gw_dm_tree_dup_string(self->tree, name_uri);
		creds->secret = gw_dm_tree_dup_string(self->tree, secret_uri);
		creds->nonce = gw_server_link_leaf_bytes(self, data_uri);
		return g_steal_pointer(&entry);
	}
	return NULL;
}

gboolean
gw_server_link_get_server_credentials(GwServerLink *self, gchar **secret, GBytes **nonce)
{
	GwDmCredentials creds = {0};
	g_autofree gchar *entry = gw_server_link_read_creds(self, "SRVCRED", &creds);
	if (entry == NULL)
		return FALSE;
	*secret = g_steal_pointer(&creds.secret);
	*nonce = g_steal_pointer(&creds.nonce);
	gw_dm_credentials_clear(&creds);
	return TRUE;
}

/* a copy of @uri's value whose bytes are wiped when it is freed (a secret), NULL if none */
static GBytes *
gw_server_link_secret_bytes(GwServerLink *self, const gchar *uri)
{
	g_autoptr(GBytes) value = gw_server_link_leaf_bytes(self, uri);
	gsize len = 0;
	const guint8 *data;

	if (value == NULL)
		return NULL;
	data = g_bytes_get_data(value, &len);
	return gw_server_link_secret_new(data, len);
}

gboolean
gw_server_link_get_notification_credentials(GwServerLink *self, GBytes **secret, GBytes **auth_data)
{
	g_autofree gchar *secret_uri = g_strdup_printf("%s/Auth/Noti/Secret", self->dmacc_uri);
	g_autofree gchar *data_uri = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(GBytes) nonce = NULL;

	if (gw_dm_tree_lookup(self->tree, secret_uri) != NULL) {
		data_uri = g_strdup_printf("%s/Auth/Noti/Data", self->dmacc_uri);
		*secret = gw_server_link_secret_bytes(self, secret_uri);
		*auth_data = gw_server_link_leaf_bytes(self, data_uri);
		return *secret != NULL;
	}
	if (!gw_server_link_get_server_credentials(self, &text, &nonce) || text == NULL)
		return FALSE;
	*secret = gw_server_link_secret_new(text, strlen(text));
	memset(text, 0, strlen(text));
	*auth_data = g_steal_pointer(&nonce);
	return TRUE;
}

/* the first AppAddr/<x>/Addr; for a DM 2.0 session (@dm2) the DMAcc 2.0 SrvURI first */
static gchar *
gw_server_link_read_address(GwServerLink *self, gboolean dm2)
{
	g_autofree gchar *appaddr = g_strdup_printf("%s/AppAddr", self->dmacc_uri);
	g_autofree gchar *srv_uri = dm2 ? gw_server_link_child(self, "SrvURI") : NULL;
	g_auto(GStrv) children = NULL;

	if (srv_uri != NULL && srv_uri[0] != '\0')
		return g_steal_pointer(&srv_uri);
	children = gw_dm_tree_list_children(self->tree, appaddr);
	if (children == NULL || children[0] == NULL)
		return NULL;
	{
		g_autofree gchar *addr_uri = g_strdup_printf("%s/%s/Addr", appaddr, children[0]);
		return gw_dm_tree_dup_string(self->tree, addr_uri);
	}
}

/* (DM-SECONF-001, issue 11 §4) a DM Server is reached over TLS: an http:// address would carry
 * the credentials (BASIC ones as they are) and the whole session in clear, so it is refused
 * unless [northbound] allow-insecure-http says otherwise, and then every use is logged */
static gboolean
gw_server_link_check_address(GwServerLink *self, const gchar *addr, GError **error)
{
	if (g_ascii_strncasecmp(addr, "https://", strlen("https://")) == 0)
		return TRUE;
	if (g_ascii_strncasecmp(addr, "http://", strlen("http://")) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s: the DM Server address %s is not an https:// URL",
		            self->dmacc_uri,
		            addr);
		return FALSE;
	}
	if (!self->allow_insecure_http) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "%s: the DM Server address %s is clear text (http://): the gateway's "
		            "credentials and the session would cross unencrypted; use https://, or "
		            "set [northbound] allow-insecure-http=true",
		            self->dmacc_uri,
		            addr);
		return FALSE;
	}
	g_warning("%s: DM Server address %s is clear text (http://, [northbound] "
	          "allow-insecure-http): the credentials and the session cross unencrypted",
	          self->dmacc_uri,
	          addr);
	return TRUE;
}

void
gw_server_link_set_allow_insecure_http(GwServerLink *self, gboolean allow)
{
	g_return_if_fail(GW_IS_SERVER_LINK(self));
	self->allow_insecure_http = allow;
}

static void
gw_server_link_nonce_changed_cb(GwDmSession *session,
                                gboolean local,
                                GBytes *nonce,
                                gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwServerLink *self = g_task_get_source_object(task);
	GwServerLinkRun *run = g_task_get_task_data(task);
	const gchar *entry = local ? run->clcred_uri : run->srvcred_uri;
	g_autofree gchar *uri = NULL;
	g_autoptr(GError) error = NULL;

	if (entry == NULL)
		return;
	uri = g_strdup_printf("%s/AAuthData", entry);
	/* AAuthData is never readable (DMAcc DDF: no Get) */
	if (!gw_dm_tree_set_leaf(self->tree, uri, GW_DM_FORMAT_BIN, NULL, nonce, &error) ||
	    !gw_dm_tree_set_properties(self->tree, uri, GW_DM_ACCESS_REPLACE, NULL, NULL, &error))
		g_warning("cannot store the new nonce in %s: %s", uri, error->message);
}

static void
gw_server_link_delivered_cb(GwDmSession *session, guint id, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	g_signal_emit(g_task_get_source_object(task), signals[SIGNAL_ALERT_DELIVERED], 0, id);
}

static void
gw_server_link_post(GTask *task, GBytes *message);
static void
gw_server_link_continue(GTask *task, GBytes *next);
static void
gw_server_link_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data);
static void
gw_server_link_finish(GTask *task, GError *error);

/* builds the held reply and sends it, or ends the run when nothing is left to say */
static void
gw_server_link_send_held(GTask *task)
{
	GwServerLinkRun *run = g_task_get_task_data(task);
	g_autoptr(GBytes) next = NULL;
	GError *error = NULL;

	next = gw_dm_session_release_reply(run->session, &error);
	if (error != NULL) {
		gw_server_link_finish(task, error);
		return;
	}
	if (next == NULL) {
		gw_server_link_finish(task, NULL);
		return;
	}
	g_info("held reply to %s sent", run->uri);
	gw_server_link_post(task, next);
}

guint
gw_server_link_hold_reply(GwServerLink *self)
{
	GwServerLinkRun *run;

	g_return_val_if_fail(GW_IS_SERVER_LINK(self), 0);
	if (self->current == NULL)
		return 0;
	run = g_task_get_task_data(self->current);
	/* DM 2.0 has no held reply: an EXEC with a ServerURI is the asynchronous form */
	if (run->session == NULL ||
	    gw_dm_session_get_state(run->session) != GW_DM_SESSION_STATE_ACTIVE)
		return 0;
	gw_dm_session_hold_reply(run->session);
	self->holds++;
	return self->serial;
}

void
gw_server_link_release_reply(GwServerLink *self, guint token)
{
	GwServerLinkRun *run;

	g_return_if_fail(GW_IS_SERVER_LINK(self));
	if (self->current == NULL || self->holds == 0 || token != self->serial)
		return;
	if (--self->holds > 0)
		return;
	run = g_task_get_task_data(self->current);
	if (run->session == NULL)
		return;
	/* while the server's message is being stored, gw_server_link_continue() sends it */
	if (gw_dm_session_is_reply_held(run->session) && !run->committing)
		gw_server_link_send_held(self->current);
}

gboolean
gw_server_link_add_alert(GwServerLink *self, guint id, GwSyncmlCommand *alert)
{
	GwServerLinkRun *run;

	g_return_val_if_fail(GW_IS_SERVER_LINK(self), FALSE);
	if (self->current == NULL) {
		gw_syncml_command_free(alert);
		return FALSE;
	}
	run = g_task_get_task_data(self->current);
	if (run->session == NULL ||
	    gw_dm_session_get_state(run->session) != GW_DM_SESSION_STATE_ACTIVE) {
		gw_syncml_command_free(alert);
		return FALSE;
	}
	gw_dm_session_queue_generic_alert(run->session, id, alert);
	return TRUE;
}

static void
gw_server_link_finish(GTask *task, GError *error)
{
	GwServerLink *self = g_task_get_source_object(task);
	self->busy = FALSE;
	self->current = NULL;
	self->holds = 0;
	if (error != NULL)
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
	g_object_unref(task);
}

/* the MaxMsgSize the gateway announces to its DM Servers (the sessions' default); every
 * package of theirs is held to it, so a bigger one is refused before it is parsed */
#define GW_SERVER_LINK_MAX_MSG_SIZE 16384

static void
gw_server_link_received(GTask *task, GBytes *next, GError *error);

/* ---- big packages are decoded in a worker thread ---- */

typedef struct {
	GTask *task;
	GwHttpResponse *response;
} GwServerLinkDecode;

static void
gw_server_link_decoded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree GwServerLinkDecode *dec = user_data;
	g_autoptr(GwHttpResponse) response = dec->response;
	GwServerLinkRun *run = g_task_get_task_data(dec->task);
	GwSyncmlMessage *msg;
	GBytes *next = NULL;
	GError *error = NULL;
	gboolean wbxml = FALSE;

	msg = gw_syncml_message_decode_finish(res, &wbxml, &error);
	if (msg != NULL)
		next = gw_dm_session_receive_parsed(
		    run->session,
		    msg,
		    response->body,
		    wbxml,
		    g_hash_table_lookup(response->headers, "x-syncml-hmac"),
		    &error);
	else
		g_prefix_error(&error, "%s: ", run->uri);
	gw_server_link_received(dec->task, next, error);
}

static void
gw_server_link_decode_async(GTask *task, GwHttpResponse *response)
{
	GwServerLinkDecode *dec = g_new0(GwServerLinkDecode, 1);

	dec->task = task;
	dec->response = response;
	gw_syncml_message_decode_async(response->body,
	                               response->content_type,
	                               g_task_get_cancellable(task),
	                               gw_server_link_decoded_cb,
	                               dec);
}

static void
gw_server_link_posted_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwServerLinkRun *run = g_task_get_task_data(task);
	g_autoptr(GwHttpResponse) response = NULL;
	g_autoptr(GBytes) next = NULL;
	GError *error = NULL;
	const gchar *hmac;

	response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL) {
		gw_server_link_finish(task, error);
		return;
	}
	if (response->status != 200) {
		gw_server_link_finish(task,
		                      g_error_new(GW_ERROR,
		                                  GW_ERROR_NETWORK,
		                                  "%s answered HTTP %u",
		                                  run->uri,
		                                  response->status));
		return;
	}
	if (g_bytes_get_size(response->body) > GW_SERVER_LINK_MAX_MSG_SIZE) {
		/* the session would refuse it once parsed: not even parsed */
		gw_server_link_finish(task,
		                      g_error_new(GW_ERROR,
		                                  GW_ERROR_PROTOCOL,
		                                  "%s sent %" G_GSIZE_FORMAT
		                                  " bytes, over the MaxMsgSize "
		                                  "%u the gateway announced",
		                                  run->uri,
		                                  g_bytes_get_size(response->body),
		                                  (guint)GW_SERVER_LINK_MAX_MSG_SIZE));
		return;
	}
	if (gw_syncml_message_decode_is_slow(response->body, response->content_type)) {
		/* decoded in a worker thread: the main loop goes on meanwhile */
		gw_server_link_decode_async(task, g_steal_pointer(&response));
		return;
	}
	hmac = g_hash_table_lookup(response->headers, "x-syncml-hmac");
	next = gw_dm_session_receive(
	    run->session, response->body, response->content_type, hmac, &error);
	gw_server_link_received(task, g_steal_pointer(&next), error);
}

/* the server's package went through the session (@next: the reply, or NULL) */
static void
gw_server_link_received(GTask *task, GBytes *next_in, GError *error)
{
	GwServerLink *self = g_task_get_source_object(task);
	GwServerLinkRun *run = g_task_get_task_data(task);
	g_autoptr(GBytes) next = next_in;

	if (error != NULL) {
		gw_server_link_finish(task, error);
		return;
	}
	/* the server's commands ran: make them durable before the server hears of them */
	g_signal_emit(self, signals[SIGNAL_MESSAGE_EXECUTED], 0);
	if (self->store != NULL) {
		run->next = g_steal_pointer(&next);
		run->committing = TRUE;
		gw_dm_store_commit_async(self->store, gw_server_link_committed_cb, task);
		return;
	}
	gw_server_link_continue(task, next);
}

/* after the commands of a server message ran (and are durable): answer or finish */
static void
gw_server_link_continue(GTask *task, GBytes *next)
{
	GwServerLink *self = g_task_get_source_object(task);
	GwServerLinkRun *run = g_task_get_task_data(task);

	if (next == NULL && gw_dm_session_is_reply_held(run->session)) {
		/* flow Y: the reply waits for gw_server_link_release_reply() */
		g_info("reply to %s held", run->uri);
		if (self->holds == 0)
			gw_server_link_send_held(task);
		return;
	}
	if (next == NULL) {
		if (gw_dm_session_get_state(run->session) == GW_DM_SESSION_STATE_FAILED) {
			const GError *e = gw_dm_session_get_error(run->session);
			gw_server_link_finish(
			    task,
			    e != NULL ? g_error_copy(e)
			              : g_error_new(GW_ERROR, GW_ERROR_FAILED, "session failed"));
			return;
		}
		gw_server_link_finish(task, NULL);
		return;
	}
	/* a failed session may still have a last answer (a third 401): it is delivered, and the
	 * server's reply to it ends the run through receive() */
	gw_server_link_post(task, next);
}

static void
gw_server_link_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwServerLinkRun *run = g_task_get_task_data(task);
	g_autoptr(GBytes) next = g_steal_pointer(&run->next);
	GError *error = NULL;

	run->committing = FALSE;
	if (!gw_dm_store_commit_finish(GW_DM_STORE(source), res, &error)) {
		/* the server must not hear of changes that are not on disk */
		g_prefix_error(&error, "cannot store the DM tree during the session: ");
		gw_server_link_finish(task, error);
		return;
	}
	gw_server_link_continue(task, next);
}

static void
gw_server_link_post(GTask *task, GBytes *message)
{
	GwServerLink *self = g_task_get_source_object(task);
	GwServerLinkRun *run = g_task_get_task_data(task);
	g_autofree gchar *hmac = gw_dm_session_get_hmac_header(run->session, message);
	const gchar *resp_uri = gw_dm_session_get_resp_uri(run->session);
	const gchar *headers[] = {hmac != NULL ? GW_DM_AUTH_HMAC_HEADER : NULL, hmac, NULL};

	if (resp_uri != NULL && g_strcmp0(resp_uri, run->uri) != 0 &&
	    (g_str_has_prefix(resp_uri, "http://") || g_str_has_prefix(resp_uri, "https://"))) {
		GError *error = NULL;
		/* the server may move the session, not out of TLS */
		if (!gw_server_link_check_address(self, resp_uri, &error)) {
			g_prefix_error(&error, "RespURI: ");
			gw_server_link_finish(task, error);
			return;
		}
		g_free(run->uri);
		run->uri = g_strdup(resp_uri);
	}
	gw_http_client_post_async(self->client,
	                          run->uri,
	                          gw_dm_session_get_content_type(run->session),
	                          message,
	                          hmac != NULL ? headers : NULL,
	                          g_task_get_cancellable(task),
	                          gw_server_link_posted_cb,
	                          task);
}

/* ---- DM 2.0 (gw-dm2-session.h): the same account, REST/JSON packages ---- */

/* the largest Package #2 and HGET body a DM 2.0 server may send (a tree value is at most
 * GW_DM_MAX_VALUE_SIZE; a package carries a little more than one) */
#define GW_SERVER_LINK_DM2_MAX_MSG_SIZE ((gsize)GW_DM_MAX_VALUE_SIZE + 64 * 1024)

static void
gw_server_link_dm2_step(GTask *task);

static void
gw_server_link_dm2_delivered_cb(GwDm2Session *session, guint id, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	g_signal_emit(g_task_get_source_object(task), signals[SIGNAL_ALERT_DELIVERED], 0, id);
}

/* "scheme://host:port" of @uri, or NULL */
static gchar *
gw_server_link_origin(const gchar *uri)
{
	g_autoptr(GUri) parsed = g_uri_parse(uri, G_URI_FLAGS_NONE, NULL);
	const gchar *scheme;
	gint port;

	if (parsed == NULL || g_uri_get_host(parsed) == NULL)
		return NULL;
	scheme = g_uri_get_scheme(parsed);
	port = g_uri_get_port(parsed);
	if (port < 0)
		port = g_ascii_strcasecmp(scheme, "https") == 0 ? 443 : 80;
	return g_strdup_printf("%s://%s:%d", scheme, g_uri_get_host(parsed), port);
}

static void
gw_server_link_dm2_posted_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwServerLinkRun *run = g_task_get_task_data(task);
	g_autoptr(GwHttpResponse) response = NULL;
	GError *error = NULL;

	response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL) {
		gw_server_link_finish(task, error);
		return;
	}
	if (response->status != 200) {
		gw_server_link_finish(task,
		                      g_error_new(GW_ERROR,
		                                  response->status == 401 || response->status == 403
		                                      ? GW_ERROR_AUTH_FAILED
		                                      : GW_ERROR_NETWORK,
		                                  "%s answered HTTP %u",
		                                  run->uri,
		                                  response->status));
		return;
	}
	if (!gw_dm2_session_receive(run->dm2, response->body, response->content_type, &error)) {
		/* malformed or oversized: nothing of it ran; the session ends here */
		g_warning("DM 2.0 session with %s ended: %s", run->uri, error->message);
		g_prefix_error(&error, "%s: ", run->uri);
		gw_server_link_finish(task, error);
		return;
	}
	gw_server_link_dm2_step(task);
}

static void
gw_server_link_dm2_post(GTask *task, GBytes *package, const gchar *content_type)
{
	GwServerLink *self = g_task_get_source_object(task);
	GwServerLinkRun *run = g_task_get_task_data(task);
	const gchar *next_url = gw_dm2_session_get_next_url(run->dm2);
	/* Package #1 names its Generic Alerts' identities (gw-dm2.h) */
	const gchar *alert_ids = g_strcmp0(content_type, GW_DM2_CONTENT_TYPE_INITIATION) == 0
	                             ? gw_dm2_session_get_alert_id_header(run->dm2)
	                             : NULL;
	const gchar *headers[9] = {
	    GW_DM2_HEADER_DEVID, run->dev_id, "Accept", GW_DM2_CONTENT_TYPE_REQUEST, NULL};
	guint n = 4;

	if (run->authorization != NULL) {
		headers[n++] = "Authorization";
		headers[n++] = run->authorization;
	}
	if (alert_ids != NULL) {
		headers[n++] = GW_DM2_HEADER_ALERT_ID;
		headers[n++] = alert_ids;
	}

	if (next_url != NULL && g_strcmp0(next_url, run->uri) != 0) {
		GError *error = NULL;
		g_autofree gchar *origin = gw_server_link_origin(next_url);

		/* CONT may move the session, not out of TLS nor to another server */
		if (!gw_server_link_check_address(self, next_url, &error)) {
			g_prefix_error(&error, "CONT: ");
			gw_server_link_finish(task, error);
			return;
		}
		if (g_strcmp0(origin, run->origin) != 0) {
			gw_server_link_finish(task,
			                      g_error_new(GW_ERROR,
			                                  GW_ERROR_PROTOCOL,
			                                  "%s: CONT to another server (%s)",
			                                  run->uri,
			                                  next_url));
			return;
		}
		g_free(run->uri);
		run->uri = g_strdup(next_url);
	}
	gw_http_client_request_auth_async(self->client,
	                                  "POST",
	                                  run->uri,
	                                  content_type,
	                                  package,
	                                  headers,
	                                  &run->auth,
	                                  g_task_get_cancellable(task),
	                                  gw_server_link_dm2_posted_cb,
	                                  task);
}

static void
gw_server_link_dm2_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwServerLinkRun *run = g_task_get_task_data(task);
	g_autoptr(GBytes) next = g_steal_pointer(&run->next);
	GError *error = NULL;

	run->committing = FALSE;
	if (source != NULL && !gw_dm_store_commit_finish(GW_DM_STORE(source), res, &error)) {
		/* the server must not hear of changes that are not on disk */
		g_prefix_error(&error, "cannot store the DM tree during the session: ");
		gw_server_link_finish(task, error);
		return;
	}
	if (next == NULL) {
		gw_server_link_finish(task, NULL);
		return;
	}
	gw_server_link_dm2_post(task, next, GW_DM2_CONTENT_TYPE_RESPONSE);
}

/* the package's commands ran (@next: Package #3, or NULL after an END): durable, then sent */
static void
gw_server_link_dm2_executed(GTask *task, GBytes *next)
{
	GwServerLink *self = g_task_get_source_object(task);
	GwServerLinkRun *run = g_task_get_task_data(task);

	g_signal_emit(self, signals[SIGNAL_MESSAGE_EXECUTED], 0);
	run->next = next;
	if (self->store != NULL) {
		run->committing = TRUE;
		gw_dm_store_commit_async(self->store, gw_server_link_dm2_committed_cb, task);
		return;
	}
	gw_server_link_dm2_committed_cb(NULL, NULL, task);
}

static void
gw_server_link_dm2_transferred_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	GwServerLinkRun *run = g_task_get_task_data(task);
	g_autoptr(GwHttpResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			gw_server_link_finish(task, g_steal_pointer(&error));
			return;
		}
		g_info("DM 2.0 transfer for %s failed: %s", run->uri, error->message);
		gw_dm2_session_complete_transfer(run->dm2, 0, NULL);
	} else if (g_bytes_get_size(response->body) > GW_DM_MAX_VALUE_SIZE) {
		g_info("DM 2.0 transfer for %s: %" G_GSIZE_FORMAT " bytes, over the value limit",
		       run->uri,
		       g_bytes_get_size(response->body));
		gw_dm2_session_complete_transfer(run->dm2, 413, NULL);
	} else {
		gw_dm2_session_complete_transfer(run->dm2, response->status, response->body);
	}
	gw_server_link_dm2_step(task);
}

/* runs the package's commands until a transfer, Package #3 or the END */
static void
gw_server_link_dm2_step(GTask *task)
{
	GwServerLink *self = g_task_get_source_object(task);
	GwServerLinkRun *run = g_task_get_task_data(task);
	const GwDm2Transfer *transfer;
	GError *error = NULL;
	GBytes *next;
	static const gchar *const methods[] = {"GET", "PUT", "POST"};

	next = gw_dm2_session_run(run->dm2, &error);
	if (next != NULL || gw_dm2_session_get_state(run->dm2) == GW_DM2_SESSION_STATE_FINISHED) {
		gw_server_link_dm2_executed(task, next);
		return;
	}
	if (error != NULL) {
		gw_server_link_finish(task, error);
		return;
	}
	transfer = gw_dm2_session_get_transfer(run->dm2);
	g_assert(transfer != NULL);
	if (!gw_server_link_check_address(self, transfer->url, &error)) {
		g_info("DM 2.0 transfer refused: %s", error->message);
		g_clear_error(&error);
		gw_dm2_session_complete_transfer(run->dm2, 403, NULL);
		gw_server_link_dm2_step(task);
		return;
	} else {
		/* the account's credentials go only to the account's own server */
		g_autofree gchar *origin = gw_server_link_origin(transfer->url);
		gboolean same = origin != NULL && g_strcmp0(origin, run->origin) == 0;
		const gchar *headers[] = {GW_DM2_HEADER_DEVID,
		                          run->dev_id,
		                          same && run->authorization != NULL ? "Authorization"
		                                                             : NULL,
		                          run->authorization,
		                          NULL};

		/* the client answers a Digest challenge or presents the certificate only at
		 * run->auth.origin */
		gw_http_client_request_auth_async(self->client,
		                                  methods[transfer->method],
		                                  transfer->url,
		                                  transfer->content_type,
		                                  transfer->body,
		                                  headers,
		                                  &run->auth,
		                                  g_task_get_cancellable(task),
		                                  gw_server_link_dm2_transferred_cb,
		                                  task);
	}
}

/* the DMAcc 2.0 transport credentials: Auth/Trsp/Data (the HTTP user name) and
 * Auth/Trsp/Secret (its password), and the type a DMAcc 2.0 has no node for, the account's
 * vendor extension Ext/TrspAuthType (HTTP-BASIC when absent); FALSE when the account has
 * neither Auth/Trsp nor Ext/TrspAuthType (a DM 1.x account: its CLCRED entry counts) */
static gboolean
gw_server_link_read_trsp(GwServerLink *self, gchar **type, GwDmCredentials *creds)
{
	g_autofree gchar *trsp = g_strdup_printf("%s/Auth/Trsp", self->dmacc_uri);
	g_autofree gchar *data_uri = g_strdup_printf("%s/Data", trsp);
	g_autofree gchar *secret_uri = g_strdup_printf("%s/Secret", trsp);

	*type = gw_server_link_child(self, "Ext/TrspAuthType");
	if (*type == NULL && gw_dm_tree_lookup(self->tree, trsp) == NULL)
		return FALSE;
	creds->type = GW_DM_AUTH_TYPE_BASIC;
	creds->name = gw_dm_tree_dup_string(self->tree, data_uri);
	creds->secret = gw_dm_tree_dup_string(self->tree, secret_uri);
	return TRUE;
}

/* a DM 2.0 session: Package #1, then each Package #2 answered by a Package #3 until END */
static void
gw_server_link_run_dm2(GwServerLink *self,
                       GTask *task,
                       guint alert_code,
                       const gchar *session_id,
                       GPtrArray *alerts)
{
	GwServerLinkRun *run = g_task_get_task_data(task);
	GwDm2SessionConfig cfg = {0};
	GwDmCredentials local = {0};
	g_autofree gchar *address = gw_server_link_read_address(self, TRUE);
	g_autofree gchar *type = NULL;
	g_autoptr(GBytes) first = NULL;
	GError *error = NULL;
	guint64 notification_id = 0;

	cfg.server_id = gw_server_link_dup_server_id(self);
	cfg.dev_id = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
	cfg.max_msg_size = GW_SERVER_LINK_DM2_MAX_MSG_SIZE;
	if (address == NULL || cfg.server_id == NULL || cfg.dev_id == NULL) {
		gw_dm2_session_config_clear(&cfg);
		gw_server_link_finish(task,
		                      g_error_new(GW_ERROR,
		                                  GW_ERROR_INVALID_ARGS,
		                                  "%s lacks ServerID or SrvID, or an "
		                                  "address (SrvURI, AppAddr/<x>/Addr)",
		                                  self->dmacc_uri));
		return;
	}
	if (!gw_server_link_check_address(self, address, &error)) {
		gw_dm2_session_config_clear(&cfg);
		gw_server_link_finish(task, error);
		return;
	}
	/* DM 2.0 authenticates at the HTTP level over TLS, as the account's type says (the
	 * DMAcc 2.0 Ext/TrspAuthType, else the CLCRED entry's AAuthType):
	 * HTTP-DIGEST: RFC 7616 Digest with its name and secret (libsoup answers the server's
	 * challenge); X509: the gateway's TLS identity as client certificate, no Authorization
	 * (https only); anything else (BASIC, HTTP-BASIC, and the DM 1.x SyncML-level DIGEST or
	 * HMAC, which have no DM 2.0 meaning): HTTP Basic with its name and secret */
	run->origin = gw_server_link_origin(address);
	run->auth.origin = run->origin;
	if (!gw_server_link_read_trsp(self, &type, &local)) {
		run->clcred_uri = gw_server_link_read_creds(self, "CLCRED", &local);
		if (run->clcred_uri != NULL) {
			g_autofree gchar *type_uri =
			    g_strdup_printf("%s/AAuthType", run->clcred_uri);
			type = gw_dm_tree_dup_string(self->tree, type_uri);
		}
	}
	if (g_strcmp0(type, "X509") == 0) {
		if (!g_str_has_prefix(address, "https://")) {
			gw_dm_credentials_clear(&local);
			gw_dm2_session_config_clear(&cfg);
			gw_server_link_finish(task,
			                      g_error_new(GW_ERROR,
			                                  GW_ERROR_AUTH_FAILED,
			                                  "%s: X509 (client certificate) needs an "
			                                  "https:// address, not %s",
			                                  self->dmacc_uri,
			                                  address));
			return;
		}
		run->auth.client_certificate = TRUE;
	} else if (g_strcmp0(type, "HTTP-DIGEST") == 0) {
		run->auth.digest_user = g_strdup(local.name);
		run->auth.digest_secret = g_strdup(local.secret);
	} else if (local.name != NULL && local.secret != NULL) {
		g_autofree gchar *pair = g_strconcat(local.name, ":", local.secret, NULL);
		g_autofree gchar *b64 = g_base64_encode((const guchar *)pair, strlen(pair));

		run->authorization = g_strconcat("Basic ", b64, NULL);
		memset(pair, 0, strlen(pair));
	}
	gw_dm_credentials_clear(&local);
	run->uri = g_strdup(address);
	run->dev_id = g_strdup(cfg.dev_id);
	run->dm2 = gw_dm2_session_new(&cfg, self->tree);
	run->dm2_delivered_id = g_signal_connect(
	    run->dm2, "alert-delivered", G_CALLBACK(gw_server_link_dm2_delivered_cb), task);
	for (guint i = 0; alerts != NULL && i < alerts->len; i++) {
		GwServerLinkAlert *a = g_ptr_array_index(alerts, i);
		if (a->dm2_alert == NULL)
			continue;
		if (!gw_dm2_session_queue_identified_alert(
		        run->dm2, a->id, a->identity, gw_dm2_alert_copy(a->dm2_alert))) {
			/* Package #1 is full: the rest wait for the next session */
			g_info("DM 2.0 session with %s: %u alert(s) left for the next session",
			       cfg.server_id,
			       alerts->len - i);
			break;
		}
	}
	if (alert_code == 1200 && session_id != NULL)
		notification_id = g_ascii_strtoull(session_id, NULL, 10);
	g_info("DM 2.0 session with %s (%s) starting, %s, %u queued alert(s)",
	       cfg.server_id,
	       address,
	       alert_code == 1200 ? "server-initiated" : "client-initiated",
	       alerts != NULL ? alerts->len : 0);
	gw_dm2_session_config_clear(&cfg);
	first = gw_dm2_session_start(
	    run->dm2, alert_code == 1200, (guint16)MIN(notification_id, G_MAXUINT16), &error);
	if (first == NULL) {
		gw_server_link_finish(task, error);
		return;
	}
	gw_server_link_dm2_post(task, first, GW_DM2_CONTENT_TYPE_INITIATION);
}

void
gw_server_link_set_dm2(GwServerLink *self, gboolean dm2)
{
	g_return_if_fail(GW_IS_SERVER_LINK(self));
	self->dm2 = dm2;
}

gboolean
gw_server_link_get_dm2(GwServerLink *self)
{
	g_return_val_if_fail(GW_IS_SERVER_LINK(self), FALSE);
	return self->dm2;
}

void
gw_server_link_run_session_async(GwServerLink *self,
                                 guint alert_code,
                                 const gchar *session_id,
                                 GPtrArray *alerts,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	GwServerLinkRun *run = g_new0(GwServerLinkRun, 1);
	GwDmSessionConfig cfg = {0};
	g_autoptr(GBytes) first = NULL;
	GError *error = NULL;

	g_task_set_task_data(task, run, gw_server_link_run_free);
	if (self->busy) {
		g_task_return_new_error(task,
		                        GW_ERROR,
		                        GW_ERROR_IN_PROGRESS,
		                        "a session with %s is already running",
		                        self->dmacc_uri);
		g_object_unref(task);
		return;
	}
	if (self->dm2) {
		self->busy = TRUE;
		self->current = task;
		self->holds = 0;
		if (++self->serial == 0)
			self->serial = 1;
		gw_server_link_run_dm2(self, task, alert_code, session_id, alerts);
		return;
	}
	cfg.role = GW_DM_SESSION_ROLE_CLIENT;
	cfg.version = GW_SYNCML_VERSION_DM_1_2;
	cfg.encoding = GW_DM_ENCODING_XML;
	cfg.max_msg_size = GW_SERVER_LINK_MAX_MSG_SIZE;
	cfg.session_id = g_strdup(session_id);
	cfg.local_uri = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
	cfg.remote_uri = gw_server_link_read_address(self, FALSE);
	cfg.server_id = gw_server_link_dup_server_id(self);
	run->clcred_uri = gw_server_link_read_creds(self, "CLCRED", &cfg.local);
	run->srvcred_uri = gw_server_link_read_creds(self, "SRVCRED", &cfg.peer);
	if (cfg.remote_uri == NULL || cfg.server_id == NULL || cfg.local_uri == NULL) {
		g_task_return_new_error(task,
		                        GW_ERROR,
		                        GW_ERROR_INVALID_ARGS,
		                        "%s lacks ServerID or AppAddr/<x>/Addr",
		                        self->dmacc_uri);
		gw_dm_session_config_clear(&cfg);
		g_object_unref(task);
		return;
	}
	if (!gw_server_link_check_address(self, cfg.remote_uri, &error)) {
		g_task_return_error(task, error);
		gw_dm_session_config_clear(&cfg);
		g_object_unref(task);
		return;
	}
	run->uri = g_strdup(cfg.remote_uri);
	run->session = gw_dm_session_new(&cfg, self->tree);
	run->nonce_id = g_signal_connect(
	    run->session, "nonce-changed", G_CALLBACK(gw_server_link_nonce_changed_cb), task);
	run->delivered_id = g_signal_connect(
	    run->session, "alert-delivered", G_CALLBACK(gw_server_link_delivered_cb), task);
	for (guint i = 0; alerts != NULL && i < alerts->len; i++) {
		GwServerLinkAlert *a = g_ptr_array_index(alerts, i);
		gw_dm_session_queue_generic_alert(
		    run->session, a->id, gw_syncml_command_copy(a->alert));
	}
	g_info("session %s with %s (%s) starting, alert %u, %u queued alert(s)",
	       gw_dm_session_get_session_id(run->session),
	       cfg.server_id,
	       cfg.remote_uri,
	       alert_code,
	       alerts != NULL ? alerts->len : 0);
	gw_dm_session_config_clear(&cfg);
	first = gw_dm_session_start(run->session, alert_code, &error);
	if (first == NULL) {
		g_task_return_error(task, error);
		g_object_unref(task);
		return;
	}
	self->busy = TRUE;
	self->current = task;
	self->holds = 0;
	if (++self->serial == 0)
		self->serial = 1;
	gw_server_link_post(task, first);
}

gboolean
gw_server_link_run_session_finish(GwServerLink *self,
                                  GAsyncResult *res,
                                  GwDmSessionStats *stats,
                                  GError **error)
{
	GwServerLinkRun *run = g_task_get_task_data(G_TASK(res));
	if (stats != NULL && run->session != NULL)
		gw_dm_session_get_stats(run->session, stats);
	if (stats != NULL && run->dm2 != NULL) {
		GwDm2SessionStats s2;

		gw_dm2_session_get_stats(run->dm2, &s2);
		memset(stats, 0, sizeof(*stats));
		stats->messages_in = s2.packages_in;
		stats->messages_out = s2.packages_out;
		stats->commands_executed = s2.commands_executed;
		stats->bytes_in = s2.bytes_in;
		stats->bytes_out = s2.bytes_out;
	}
	return g_task_propagate_boolean(G_TASK(res), error);
}

void
gw_server_link_set_store(GwServerLink *self, GwDmStore *store)
{
	g_return_if_fail(GW_IS_SERVER_LINK(self));
	g_set_object(&self->store, store);
}

const gchar *
gw_server_link_get_dmacc_uri(GwServerLink *self)
{
	return self->dmacc_uri;
}

gboolean
gw_server_link_is_busy(GwServerLink *self)
{
	return self->busy;
}

static void
gw_server_link_finalize(GObject *object)
{
	GwServerLink *self = GW_SERVER_LINK(object);
	g_object_unref(self->tree);
	g_object_unref(self->client);
	g_clear_object(&self->store);
	g_free(self->dmacc_uri);
	G_OBJECT_CLASS(gw_server_link_parent_class)->finalize(object);
}

static void
gw_server_link_class_init(GwServerLinkClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = gw_server_link_finalize;
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
	signals[SIGNAL_MESSAGE_EXECUTED] = g_signal_new("message-executed",
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
gw_server_link_init(GwServerLink *self)
{
}

GwServerLink *
gw_server_link_new(GwDmTree *tree, GwHttpClient *client, const gchar *dmacc_uri)
{
	GwServerLink *self = g_object_new(GW_TYPE_SERVER_LINK, NULL);
	self->tree = g_object_ref(tree);
	self->client = g_object_ref(client);
	self->dmacc_uri = g_strdup(dmacc_uri);
	return self;
}
