/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwNorthbound"

#include "config.h"

#include <string.h>

#include "gw-bootstrap.h"
#include "gw-dm-auth.h"
#include "gw-dm2-pkg0.h"
#include "gw-dm2-session.h"
#include "gw-dm2-uri.h"
#include "gw-error.h"
#include "gw-gwmo-names.h"
#include "gw-http-client.h"
#include "gw-http-server.h"
#include "gw-log.h"
#include "gw-northbound.h"
#include "gw-pkg0.h"
#include "gw-server-bootstrap.h"
#include "gw-server-link.h"
#include "gw-wbxml.h"

struct _GwNorthbound {
	GObject parent_instance;
	GwConfig *config;
	GwDmTree *tree;
	GwDmStore *store;
	gchar *state_dir;
	GwHttpClient *client;
	GwHttpServer *server;
	GwAlertQueue *alerts;
	GwPkg0ReplayGuard *replay;
	GHashTable *links;            /* DMAcc URI → GwServerLink */
	GHashTable *account_of;       /* ServerID → the DMAcc URI it was last found at */
	GHashTable *pending_checkins; /* DMAcc URI → TRUE */
	guint schedule_id;
	guint checkin_handler;
	GwInventory *inventory;     /* nullable */
	GwSouthbound *southbound;   /* nullable */
	GHashTable *alert_sessions; /* ServerID → source id of the coalescing timeout */
	GHashTable *alert_retry;    /* ServerID → seconds before the next retry after a failure */
	GHashTable *bootstrap_servers; /* ServerID → secret: who may POST /bootstrap */
	GHashTable *bootstrap_pins;    /* ServerID → its client certificate pins (GStrv) */
	GwServerBootstrap *server_bootstrap; /* seed 001 work flows */
	GCancellable *cancellable;
};

G_DEFINE_TYPE(GwNorthbound, gw_northbound, G_TYPE_OBJECT)

enum { SIGNAL_SESSION_FINISHED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

/* whether @server_id is listed in [northbound] dm2-servers (read for every session) */
static gboolean
gw_northbound_server_is_dm2(GwNorthbound *self, const gchar *server_id)
{
	g_autofree gchar *text = gw_config_get_string(self->config, "northbound", "dm2-servers");
	g_auto(GStrv) ids = g_strsplit_set(text != NULL ? text : "", ";, ", -1);

	for (guint i = 0; server_id != NULL && ids[i] != NULL; i++) {
		if (g_strcmp0(ids[i], server_id) == 0)
			return TRUE;
	}
	return FALSE;
}

/* whether @link's server speaks DM 2.0: listed in dm2-servers, or its account is in the
 * DMAcc 2.0 layout (SrvID, no ServerID); an account with ServerID (DM 1.x, or both
 * layouts) speaks DM 1.x unless listed */
static gboolean
gw_northbound_link_is_dm2(GwNorthbound *self, GwServerLink *link, const gchar *server_id)
{
	return gw_northbound_server_is_dm2(self, server_id) ||
	       gw_server_link_account_is_dm2(self->tree, gw_server_link_get_dmacc_uri(link));
}

/* a queued alert as a DM 2.0 Generic Alert ([R]: a tree LocURI becomes its ClientURI, the
 * DM 1.x data travels as "Data":{"DM1x":…} as in the codec's golden messages, the correlator
 * (an asynchronous EXEC's ServerURI) is the TargetURI when the alert names none) */
static GwDm2Alert *
gw_northbound_dm2_alert(GwNorthbound *self, const GwAlert *a)
{
	GwDm2Alert *alert = gw_dm2_alert_new(a->type);

	if (a->source != NULL && g_str_has_prefix(a->source, "./")) {
		alert->source_uri = gw_dm2_client_uri_from_tree_uri(self->tree, a->source, NULL);
		if (alert->source_uri == NULL)
			alert->source_uri = g_strdup(a->source);
	} else {
		alert->source_uri = g_strdup(a->source);
	}
	/* an alert answering an asynchronous DM 2.0 EXEC carries its ServerURI as correlator */
	alert->target_uri = g_strdup(a->target != NULL ? a->target : a->correlator);
	if (a->mark != NULL && gw_dm2_mark_is_valid(a->mark))
		alert->mark = g_strdup(a->mark);
	if (a->data != NULL) {
		g_autoptr(JsonObject) obj = json_object_new();
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

		alert->data_type =
		    g_strdup(g_strcmp0(a->format, "xml") == 0 ? "text/xml" : "text/plain");
		json_object_set_string_member(obj, "DM1x", a->data);
		json_node_set_object(node, obj);
		gw_dm2_alert_set_data(alert, node);
	}
	return alert;
}

static void
gw_northbound_run(GwNorthbound *self,
                  GwServerLink *link,
                  guint alert_code,
                  const gchar *session_id,
                  GTask *task);

/* ---- accounts ---- */

static void
gw_northbound_link_delivered_cb(GwServerLink *link, guint id, gpointer user_data)
{
	GwNorthbound *self = GW_NORTHBOUND(user_data);
	g_autoptr(GError) error = NULL;
	if (!gw_alert_queue_ack(self->alerts, id, &error))
		g_warning("%s", error->message);
}

/* the acknowledgements a server message brought are stored before the gateway's next message
 * (issue 16): only a crash between the server's Status and this write sends an alert again,
 * and the alert's identity (EMI) lets the server recognise it */
static void
gw_northbound_link_executed_cb(GwServerLink *link, gpointer user_data)
{
	GwNorthbound *self = GW_NORTHBOUND(user_data);
	g_autoptr(GError) error = NULL;
	if (!gw_alert_queue_flush(self->alerts, &error))
		g_warning("%s", error->message);
}

/* a Generic Alert for queued alert @a, its identity in the Item's EMI */
static GwSyncmlCommand *
gw_northbound_syncml_alert(const GwAlert *a, gchar *emi)
{
	GwSyncmlCommand *cmd = gw_syncml_alert_new_generic(a->correlator,
	                                                   a->source != NULL ? a->source : ".",
	                                                   a->target,
	                                                   a->type,
	                                                   a->format,
	                                                   a->mark,
	                                                   a->data);
	GwSyncmlItem *item = g_ptr_array_index(cmd->items, 0);
	item->meta.emi = emi;
	return cmd;
}

static GwServerLink *
gw_northbound_get_link(GwNorthbound *self, const gchar *dmacc_uri)
{
	GwServerLink *link = g_hash_table_lookup(self->links, dmacc_uri);
	if (link != NULL)
		return link;
	link = gw_server_link_new(self->tree, self->client, dmacc_uri);
	g_signal_connect(
	    link, "alert-delivered", G_CALLBACK(gw_northbound_link_delivered_cb), self);
	g_signal_connect(
	    link, "message-executed", G_CALLBACK(gw_northbound_link_executed_cb), self);
	/* each server message's changes are durable before the reply (group commit) */
	gw_server_link_set_store(link, self->store);
	g_hash_table_insert(self->links, g_strdup(dmacc_uri), link);
	return link;
}

static gboolean
gw_northbound_account_is(GwNorthbound *self, const gchar *dmacc_uri, const gchar *server_id)
{
	g_autofree gchar *sid = gw_server_link_dup_account_server_id(self->tree, dmacc_uri);
	return g_strcmp0(sid, server_id) == 0;
}

/* the link of the ./DMAcc/<x> whose ServerID is @server_id */
static GwServerLink *
gw_northbound_find_link(GwNorthbound *self, const gchar *server_id)
{
	g_auto(GStrv) accounts = NULL;
	const gchar *known = g_hash_table_lookup(self->account_of, server_id);

	/* where it was last time, if the tree still says so */
	if (known != NULL) {
		if (gw_northbound_account_is(self, known, server_id))
			return gw_northbound_get_link(self, known);
		g_hash_table_remove(self->account_of, server_id);
	}
	accounts = gw_dm_tree_list_children(self->tree, "./DMAcc");
	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *uri = g_strdup_printf("./DMAcc/%s", accounts[i]);
		if (gw_northbound_account_is(self, uri, server_id)) {
			g_hash_table_replace(self->account_of, g_strdup(server_id), g_strdup(uri));
			return gw_northbound_get_link(self, uri);
		}
	}
	return NULL;
}

/* ---- sessions ---- */

typedef struct {
	GwNorthbound *self;
	GwServerLink *link;
	GTask *task; /* nullable: nobody waits */
	gchar *server_id;
	/* the outcome, kept while its last changes are made durable */
	gboolean ok;
	GwDmSessionStats stats;
	GError *error;
} GwNorthboundRun;

static gboolean
gw_northbound_checkin_idle_cb(gpointer user_data);
static void
gw_northbound_schedule_alert_session(GwNorthbound *self, const gchar *server_id, guint delay_ms);

#define GW_NORTHBOUND_ALERT_RETRY_MAX 3600 /* seconds */

/* a failed session left alerts undelivered: try again later, backing off (none queued: forget) */
static void
gw_northbound_retry_alerts(GwNorthbound *self, const gchar *server_id, gboolean ok)
{
	guint base = (guint)gw_config_get_int(self->config, "northbound", "alert-retry-interval");
	g_autoptr(GPtrArray) queued = gw_alert_queue_list(self->alerts, server_id);
	GwServerLink *link = gw_northbound_find_link(self, server_id);
	guint delay;

	/* a DM 2.0 session that went well delivered every alert it carried (the first Package #2
	 * acknowledges them all); alerts still queued did not fit its Package #1, or came during
	 * it: the next session follows at once, and each one empties the queue further */
	if (ok && queued->len > 0 && link != NULL && gw_server_link_get_dm2(link)) {
		g_hash_table_remove(self->alert_retry, server_id);
		gw_northbound_schedule_alert_session(self, server_id, 0);
		return;
	}
	if (ok || queued->len == 0 || base == 0) {
		g_hash_table_remove(self->alert_retry, server_id);
		return;
	}
	delay = GPOINTER_TO_UINT(g_hash_table_lookup(self->alert_retry, server_id));
	if (delay == 0)
		delay = base;
	g_message(
	    "%u alert(s) for %s undelivered: trying again in %u s", queued->len, server_id, delay);
	gw_northbound_schedule_alert_session(self, server_id, delay * 1000);
	g_hash_table_insert(
	    self->alert_retry,
	    g_strdup(server_id),
	    GUINT_TO_POINTER(MIN(delay * 2, MAX(base, GW_NORTHBOUND_ALERT_RETRY_MAX))));
}

static void
gw_northbound_session_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
gw_northbound_session_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwNorthboundRun *run = user_data;

	run->ok = gw_server_link_run_session_finish(
	    GW_SERVER_LINK(source), res, &run->stats, &run->error);
	/* what the last message changed (the server's next nonce) is durable before anyone
	 * hears the session is over; concurrent sessions share the append */
	gw_dm_store_commit_async(run->self->store, gw_northbound_session_committed_cb, run);
}

static void
gw_northbound_session_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwNorthboundRun *run = user_data;
	GwNorthbound *self = run->self;
	GwDmSessionStats stats = run->stats;
	g_autoptr(GError) error = g_steal_pointer(&run->error);
	g_autoptr(GError) store_error = NULL;
	gboolean ok = run->ok;

	if (!gw_dm_store_commit_finish(GW_DM_STORE(source), res, &store_error))
		g_warning("cannot store the DM tree after a session: %s", store_error->message);
	if (ok) {
		/* sessions can come thousands a second: the log line is informational */
		g_info("session with %s finished: %u message(s) in, %u out, %u command(s) run",
		       run->server_id,
		       stats.messages_in,
		       stats.messages_out,
		       stats.commands_executed);
	} else {
		g_warning("session with %s failed: %s", run->server_id, error->message);
	}
	gw_northbound_retry_alerts(self, run->server_id, ok);
	g_signal_emit(self,
	              signals[SIGNAL_SESSION_FINISHED],
	              0,
	              run->server_id,
	              ok,
	              ok ? "" : error->message);
	if (run->task != NULL) {
		GwDmSessionStats *copy = g_memdup2(&stats, sizeof(stats));
		if (ok)
			g_task_return_pointer(run->task, copy, g_free);
		else {
			g_free(copy);
			g_task_return_error(run->task, g_steal_pointer(&error));
		}
		g_object_unref(run->task);
	}
	/* a CheckIn asked while this session ran */
	if (g_hash_table_contains(self->pending_checkins, gw_server_link_get_dmacc_uri(run->link)))
		g_idle_add_full(G_PRIORITY_DEFAULT,
		                gw_northbound_checkin_idle_cb,
		                g_object_ref(run->link),
		                g_object_unref);
	g_free(run->server_id);
	g_object_unref(run->link);
	g_object_unref(self);
	g_free(run);
}

static void
gw_northbound_run(GwNorthbound *self,
                  GwServerLink *link,
                  guint alert_code,
                  const gchar *session_id,
                  GTask *task)
{
	GwNorthboundRun *run = g_new0(GwNorthboundRun, 1);
	g_autoptr(GPtrArray) queued = NULL;
	g_autoptr(GPtrArray) alerts =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_server_link_alert_free);

	run->self = g_object_ref(self);
	run->link = g_object_ref(link);
	run->task = task;
	run->server_id = gw_server_link_dup_server_id(link);
	/* read for every session: a configuration reload applies to the next one */
	gw_server_link_set_allow_insecure_http(
	    link, gw_config_get_bool(self->config, "northbound", "allow-insecure-http"));
	gw_server_link_set_dm2(link, gw_northbound_link_is_dm2(self, link, run->server_id));
	/* an alert goes out only once it is stored: its identity is never handed out again */
	{
		g_autoptr(GError) error = NULL;
		if (!gw_alert_queue_flush(self->alerts, &error))
			g_warning("%s", error->message);
	}
	queued = gw_alert_queue_list(self->alerts, run->server_id);
	for (guint i = 0; i < queued->len; i++) {
		GwAlert *a = g_ptr_array_index(queued, i);
		GwServerLinkAlert *la = g_new0(GwServerLinkAlert, 1);
		la->id = a->id;
		la->alert = gw_northbound_syncml_alert(a, gw_alert_dup_emi(a));
		la->dm2_alert = gw_northbound_dm2_alert(self, a);
		la->identity = gw_alert_dup_emi(a);
		g_ptr_array_add(alerts, la);
	}
	gw_server_link_run_session_async(
	    link, alert_code, session_id, alerts, NULL, gw_northbound_session_done_cb, run);
}

void
gw_northbound_start_session_async(GwNorthbound *self,
                                  const gchar *server_id,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	GwServerLink *link = gw_northbound_find_link(self, server_id);

	if (link == NULL) {
		g_task_return_new_error(task,
		                        GW_ERROR,
		                        GW_ERROR_NOT_FOUND,
		                        "no ./DMAcc entry has ServerID '%s'",
		                        server_id);
		g_object_unref(task);
		return;
	}
	if (gw_server_link_is_busy(link)) {
		g_task_return_new_error(task,
		                        GW_ERROR,
		                        GW_ERROR_IN_PROGRESS,
		                        "a session with %s is already running",
		                        server_id);
		g_object_unref(task);
		return;
	}
	gw_northbound_run(self, link, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, NULL, task);
}

gboolean
gw_northbound_start_session_finish(GwNorthbound *self,
                                   GAsyncResult *res,
                                   GwDmSessionStats *stats,
                                   GError **error)
{
	g_autofree GwDmSessionStats *s = g_task_propagate_pointer(G_TASK(res), error);
	if (s == NULL)
		return FALSE;
	if (stats != NULL)
		*stats = *s;
	return TRUE;
}

guint
gw_northbound_queue_alert(GwNorthbound *self, const GwAlert *alert, GError **error)
{
	if (gw_northbound_find_link(self, alert->server_id) == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_FOUND,
		            "no ./DMAcc entry has ServerID '%s'",
		            alert->server_id);
		return 0;
	}
	return gw_alert_queue_push(self->alerts, alert, error);
}

/* ---- flow Y: the reply held for a job, alerts in the running session ---- */

guint
gw_northbound_hold_reply(GwNorthbound *self, const gchar *server_id)
{
	GwServerLink *link;

	g_return_val_if_fail(GW_IS_NORTHBOUND(self), 0);
	if (server_id == NULL || (link = gw_northbound_find_link(self, server_id)) == NULL)
		return 0;
	return gw_server_link_hold_reply(link);
}

guint
gw_northbound_send_alert(GwNorthbound *self, const GwAlert *alert, GError **error)
{
	guint id;

	g_return_val_if_fail(GW_IS_NORTHBOUND(self), 0);
	id = gw_northbound_queue_alert(self, alert, error);
	if (id != 0)
		gw_northbound_schedule_alert_session(self, alert->server_id, 500);
	return id;
}

guint
gw_northbound_release_reply(GwNorthbound *self,
                            const gchar *server_id,
                            guint token,
                            const GwAlert *alert,
                            GError **error)
{
	GwServerLink *link;
	guint id = 0;

	g_return_val_if_fail(GW_IS_NORTHBOUND(self), 0);
	link = server_id != NULL ? gw_northbound_find_link(self, server_id) : NULL;
	if (alert != NULL) {
		/* durable first: if the held reply never reaches the server, the next session
		 * delivers it */
		id = gw_northbound_queue_alert(self, alert, error);
		if (id == 0) {
			if (link != NULL)
				gw_server_link_release_reply(link, token);
			return 0;
		}
		if (link == NULL || token == 0 ||
		    !gw_server_link_add_alert(link,
		                              id,
		                              gw_northbound_syncml_alert(
		                                  alert, gw_alert_queue_dup_emi(self->alerts, id))))
			gw_northbound_schedule_alert_session(self, alert->server_id, 500);
	}
	if (link != NULL && token != 0)
		gw_server_link_release_reply(link, token);
	return alert != NULL ? id : 1;
}

/* ---- inventory alerts ---- */

typedef struct {
	GwNorthbound *self;
	gchar *server_id;
} GwNorthboundAlertRun;

static void
gw_northbound_alert_run_free(gpointer data)
{
	GwNorthboundAlertRun *r = data;
	g_free(r->server_id);
	g_free(r);
}

static gboolean
gw_northbound_alert_session_cb(gpointer user_data)
{
	GwNorthboundAlertRun *r = user_data;
	GwNorthbound *self = r->self;
	GwServerLink *link = gw_northbound_find_link(self, r->server_id);

	g_hash_table_remove(self->alert_sessions, r->server_id);
	if (link == NULL)
		return G_SOURCE_REMOVE;
	if (gw_server_link_is_busy(link)) {
		/* the alerts wait for the next session; ask for one after this */
		g_object_set_data(G_OBJECT(link), "gw-northbound", self);
		g_hash_table_add(self->pending_checkins,
		                 g_strdup(gw_server_link_get_dmacc_uri(link)));
		return G_SOURCE_REMOVE;
	}
	gw_northbound_run(self, link, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, NULL, NULL);
	return G_SOURCE_REMOVE;
}

/* a session with @server_id in @delay_ms; a burst of alerts shares one session */
static void
gw_northbound_schedule_alert_session(GwNorthbound *self, const gchar *server_id, guint delay_ms)
{
	GwNorthboundAlertRun *r;
	guint id;

	if (g_hash_table_contains(self->alert_sessions, server_id))
		return;
	r = g_new0(GwNorthboundAlertRun, 1);
	r->self = self;
	r->server_id = g_strdup(server_id);
	id = g_timeout_add_full(G_PRIORITY_DEFAULT,
	                        delay_ms,
	                        gw_northbound_alert_session_cb,
	                        r,
	                        gw_northbound_alert_run_free);
	g_hash_table_insert(self->alert_sessions, g_strdup(server_id), GUINT_TO_POINTER(id));
}

/* @only: (nullable) the alert goes to these of the record's servers alone */
static void
gw_northbound_inventory_alert_to(GwNorthbound *self,
                                 const gchar *record_uri,
                                 const gchar *type,
                                 const gchar *const *only)
{
	g_auto(GStrv) servers = gw_inventory_alert_servers(self->inventory, record_uri);
	g_auto(GStrv) uris = gw_northbound_get_listen_uris(self);
	g_autofree gchar *doc = gw_inventory_device_document(
	    self->inventory, record_uri, uris[0] != NULL ? uris[0] : "");

	for (guint i = 0; servers != NULL && servers[i] != NULL; i++) {
		GwAlert alert = {0};
		if (only != NULL && !g_strv_contains(only, servers[i]))
			continue;
		alert.server_id = servers[i];
		alert.type = (gchar *)type;
		alert.source = (gchar *)record_uri;
		alert.format = (gchar *)"xml";
		alert.data = doc;
		/* stored before the registration is answered (see GW_ALERT_QUEUE_SAVE_PRIORITY) */
		gw_alert_queue_push_batched(self->alerts, &alert);
		gw_northbound_schedule_alert_session(self, servers[i], 500);
	}
}

static void
gw_northbound_inventory_alert(GwNorthbound *self, const gchar *record_uri, const gchar *type)
{
	gw_northbound_inventory_alert_to(self, record_uri, type, NULL);
}

static void
gw_northbound_device_attached_cb(GwInventory *inventory,
                                 const gchar *record_uri,
                                 const gchar *device_id,
                                 gboolean is_new,
                                 gpointer user_data)
{
	gw_northbound_inventory_alert(
	    GW_NORTHBOUND(user_data), record_uri, GW_GWMO_ALERT_DEVICE_ATTACHED);
}

static void
gw_northbound_device_detached_cb(GwInventory *inventory,
                                 const gchar *record_uri,
                                 const gchar *device_id,
                                 gpointer user_data)
{
	gw_northbound_inventory_alert(
	    GW_NORTHBOUND(user_data), record_uri, GW_GWMO_ALERT_DEVICE_DETACHED);
}

/* seed 001 step 3 once the gateway holds the account of a server a device named (work flow 1
 * or 2, or any bootstrap): the records naming one of @server_ids are that server's now (their
 * ACL follows at once), and it hears DeviceAttached for each attached one */
static void
gw_northbound_servers_bootstrapped(GwNorthbound *self, const gchar *const *server_ids)
{
	g_autoptr(GPtrArray) records = NULL;

	if (server_ids == NULL || server_ids[0] == NULL)
		return;
	if (self->server_bootstrap != NULL)
		gw_server_bootstrap_servers_added(self->server_bootstrap, server_ids);
	if (self->inventory == NULL)
		return;
	gw_inventory_sync_servers(self->inventory);
	records = gw_inventory_list(self->inventory);
	for (guint i = 0; i < records->len; i++) {
		const gchar *uri = g_ptr_array_index(records, i);
		g_autofree gchar *status_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_STATUS, uri);
		g_autofree gchar *status = gw_dm_tree_dup_string(self->tree, status_uri);
		g_autofree gchar *ids_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_SERVER_IDS, uri);
		g_auto(GStrv) ids = gw_dm_tree_list_children(self->tree, ids_uri);
		g_autoptr(GStrvBuilder) named = g_strv_builder_new();
		g_auto(GStrv) to = NULL;

		if (g_strcmp0(status, GW_GWMO_STATUS_ATTACHED) != 0)
			continue;
		for (guint j = 0; ids != NULL && ids[j] != NULL; j++) {
			g_autofree gchar *id_uri = g_strdup_printf("%s/%s", ids_uri, ids[j]);
			g_autofree gchar *sid = gw_dm_tree_dup_string(self->tree, id_uri);
			if (sid != NULL && g_strv_contains(server_ids, sid))
				g_strv_builder_add(named, sid);
		}
		to = g_strv_builder_end(named);
		if (to[0] == NULL)
			continue;
		g_message(
		    "%s names newly bootstrapped server %s: DeviceAttached to it", uri, to[0]);
		gw_northbound_inventory_alert_to(
		    self, uri, GW_GWMO_ALERT_DEVICE_ATTACHED, (const gchar *const *)to);
	}
}

static void
gw_northbound_fetch_applied_cb(GwServerBootstrap *sb, GStrv new_server_ids, gpointer user_data)
{
	gw_northbound_servers_bootstrapped(GW_NORTHBOUND(user_data),
	                                   (const gchar *const *)new_server_ids);
}

typedef struct {
	GwNorthbound *self;
	gchar *device_id;
	GStrv server_ids;
} GwNorthboundRegistered;

static void
gw_northbound_registered_free(gpointer data)
{
	GwNorthboundRegistered *r = data;
	g_object_unref(r->self);
	g_free(r->device_id);
	g_strfreev(r->server_ids);
	g_free(r);
}

static gboolean
gw_northbound_registered_idle_cb(gpointer user_data)
{
	GwNorthboundRegistered *r = user_data;
	if (r->self->server_bootstrap != NULL)
		gw_server_bootstrap_device_registered(
		    r->self->server_bootstrap, r->device_id, (const gchar *const *)r->server_ids);
	return G_SOURCE_REMOVE;
}

/* (seed 001 steps 2-4) after the registration's message is handled */
static void
gw_northbound_device_registered_cb(GwSouthbound *southbound,
                                   const gchar *device_id,
                                   GStrv server_ids,
                                   gpointer user_data)
{
	GwNorthboundRegistered *r = g_new0(GwNorthboundRegistered, 1);
	r->self = g_object_ref(GW_NORTHBOUND(user_data));
	r->device_id = g_strdup(device_id);
	r->server_ids = g_strdupv(server_ids);
	g_idle_add_full(G_PRIORITY_DEFAULT_IDLE,
	                gw_northbound_registered_idle_cb,
	                r,
	                gw_northbound_registered_free);
}

/* spec/GWMO.md §9: a device that announced itself waits for a DM Server's decision, unless
 * the gateway bootstraps it by itself ([southbound] auto-bootstrap) */
static void
gw_northbound_device_discovered_cb(GwInventory *inventory,
                                   const gchar *record_uri,
                                   const gchar *device_id,
                                   gpointer user_data)
{
	GwNorthbound *self = GW_NORTHBOUND(user_data);

	if (gw_config_get_bool(self->config, "southbound", "auto-bootstrap"))
		return;
	gw_northbound_inventory_alert(self, record_uri, GW_GWMO_ALERT_DEVICE_DISCOVERED);
}

void
gw_northbound_set_southbound(GwNorthbound *self, GwSouthbound *southbound)
{
	g_set_object(&self->southbound, southbound);
	if (southbound == NULL || self->server_bootstrap == NULL)
		return;
	gw_server_bootstrap_set_southbound(self->server_bootstrap, southbound);
	g_signal_connect_object(southbound,
	                        "device-registered",
	                        G_CALLBACK(gw_northbound_device_registered_cb),
	                        self,
	                        0);
}

void
gw_northbound_watch_inventory(GwNorthbound *self, GwInventory *inventory)
{
	g_return_if_fail(self->inventory == NULL);
	self->inventory = g_object_ref(inventory);
	g_signal_connect_object(
	    inventory, "device-attached", G_CALLBACK(gw_northbound_device_attached_cb), self, 0);
	g_signal_connect_object(
	    inventory, "device-detached", G_CALLBACK(gw_northbound_device_detached_cb), self, 0);
	g_signal_connect_object(inventory,
	                        "device-discovered",
	                        G_CALLBACK(gw_northbound_device_discovered_cb),
	                        self,
	                        0);
}

/* ---- CheckIn: a DM Server asks the gateway to open a session with a server ---- */

static gboolean
gw_northbound_checkin_idle_cb(gpointer user_data)
{
	GwServerLink *link = GW_SERVER_LINK(user_data);
	GwNorthbound *self = g_object_get_data(G_OBJECT(link), "gw-northbound");
	if (self == NULL || gw_server_link_is_busy(link))
		return G_SOURCE_REMOVE; /* runs again when the current session ends */
	g_hash_table_remove(self->pending_checkins, gw_server_link_get_dmacc_uri(link));
	gw_northbound_run(self, link, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static guint
gw_northbound_checkin_exec(GwDmTree *tree,
                           const gchar *server_id,
                           const gchar *uri,
                           GBytes *data,
                           const gchar *correlator,
                           gpointer user_data)
{
	GwNorthbound *self = GW_NORTHBOUND(user_data);
	g_autofree gchar *target = NULL;
	GwServerLink *link;

	if (data != NULL && g_bytes_get_size(data) > 0)
		target = g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
	else
		target = g_strdup(server_id);
	if (target == NULL)
		return GW_DM_STATUS_BAD_REQUEST;
	link = gw_northbound_find_link(self, target);
	if (link == NULL) {
		g_info("CheckIn by %s names unknown server %s", server_id, target);
		return GW_DM_STATUS_NOT_FOUND;
	}
	g_info("CheckIn by %s: a session with %s follows",
	       server_id != NULL ? server_id : "owner",
	       target);
	g_object_set_data(G_OBJECT(link), "gw-northbound", self);
	g_hash_table_add(self->pending_checkins, g_strdup(gw_server_link_get_dmacc_uri(link)));
	if (!gw_server_link_is_busy(link))
		g_idle_add_full(G_PRIORITY_DEFAULT,
		                gw_northbound_checkin_idle_cb,
		                g_object_ref(link),
		                g_object_unref);
	return GW_DM_STATUS_ACCEPTED;
}

/* ---- POST /notify: Package #0 ---- */

/* (GwMO-SECACATE-001) the digest with the account's SRVCRED secret and the nonce the gateway
 * last gave the server (AAuthData), then, as the documented fallback, the all-zero nonce (each
 * use logged); an empty nonce is not accepted */
static gboolean
gw_northbound_verify_pkg0(GwNorthbound *self, GwServerLink *link, GBytes *body, GError **error)
{
	g_autofree gchar *secret = NULL;
	g_autoptr(GBytes) nonce = NULL;
	gboolean fallback = FALSE;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);

	if (!gw_server_link_get_server_credentials(link, &secret, &nonce) || secret == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "%s has no SRVCRED secret to check notifications with",
		            gw_server_link_get_dmacc_uri(link));
		return FALSE;
	}
	if (!gw_pkg0_verify_with_fallback(data, len, secret, nonce, &fallback, error))
		return FALSE;
	if (fallback)
		g_message("Package #0 of %s verified with the all-zero nonce (%s)",
		          gw_server_link_get_dmacc_uri(link),
		          nonce != NULL && g_bytes_get_size(nonce) > 0
		              ? "the stored nonce did not match"
		              : "no nonce stored for the server");
	return TRUE;
}

static void
gw_northbound_respond_text(GwHttpRequest *request, guint status, const gchar *text)
{
	g_autoptr(GBytes) body = g_bytes_new(text, strlen(text));
	gw_http_request_respond(request, status, "text/plain", body);
}

GwNorthboundRelay
gw_northbound_relay_notification(GwNorthbound *self,
                                 const gchar *server_id,
                                 const gchar *device_id,
                                 GBytes *pkg0_bytes,
                                 GError **error)
{
	g_autoptr(GwPkg0) pkg0 = NULL;
	g_autofree gchar *record = NULL;
	GwInventoryDevice info = {0};
	gboolean has_addr;
	guint mode;
	GwServerLink *link;

	g_return_val_if_fail(GW_IS_NORTHBOUND(self), GW_NORTHBOUND_RELAY_MALFORMED);
	g_return_val_if_fail(device_id != NULL, GW_NORTHBOUND_RELAY_MALFORMED);
	g_return_val_if_fail(pkg0_bytes != NULL, GW_NORTHBOUND_RELAY_MALFORMED);

	pkg0 =
	    gw_pkg0_parse(g_bytes_get_data(pkg0_bytes, NULL), g_bytes_get_size(pkg0_bytes), error);
	if (pkg0 == NULL)
		return GW_NORTHBOUND_RELAY_MALFORMED;
	if (server_id != NULL && g_strcmp0(pkg0->server_id, server_id) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "the Package #0 names server '%s', not '%s'",
		            pkg0->server_id,
		            server_id);
		return GW_NORTHBOUND_RELAY_BAD_DIGEST;
	}
	link = gw_northbound_find_link(self, pkg0->server_id);
	if (link == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "no ./DMAcc entry has ServerID '%s'",
		            pkg0->server_id);
		return GW_NORTHBOUND_RELAY_BAD_DIGEST;
	}
	if (!gw_northbound_verify_pkg0(self, link, pkg0_bytes, error))
		return GW_NORTHBOUND_RELAY_BAD_DIGEST;
	if (self->inventory == NULL || self->southbound == NULL ||
	    (record = gw_inventory_find(self->inventory, device_id)) == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "unknown device '%s'", device_id);
		return GW_NORTHBOUND_RELAY_UNKNOWN_DEVICE;
	}
	if (!gw_dm_tree_check_acl(self->tree, record, GW_DM_ACCESS_GET, pkg0->server_id)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "server %s may not see device %s",
		            pkg0->server_id,
		            device_id);
		return GW_NORTHBOUND_RELAY_NOT_VISIBLE;
	}
	has_addr = gw_inventory_get_device(self->inventory, device_id, &info) &&
	           info.notify_addr != NULL && info.notify_addr[0] != '\0';
	mode = info.mode;
	gw_inventory_device_clear(&info);
	/* GwMO-MOO-001: the relay is Transparent mode; a Proxy device is the gateway's to drive */
	if (mode != GW_GWMO_MODE_TRANSPARENT) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_WRONG_STATE,
		            "device %s is in mode %u, not Transparent",
		            device_id,
		            mode);
		return GW_NORTHBOUND_RELAY_NOT_TRANSPARENT;
	}
	if (!has_addr) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_NOT_FOUND, "device %s has no NotifyAddr", device_id);
		return GW_NORTHBOUND_RELAY_NO_NOTIFY_ADDR;
	}
	if (!gw_southbound_notify_device(self->southbound, device_id, pkg0_bytes, error))
		return GW_NORTHBOUND_RELAY_NO_NOTIFY_ADDR;
	g_message("Package #0 of %s (session %04X) forwarded to device %s (transparent mode)",
	          pkg0->server_id,
	          pkg0->session_id,
	          device_id);
	return GW_NORTHBOUND_RELAY_FORWARDED;
}

/* POST /notify with X-GwMO-Target (flow Z') */
static void
gw_northbound_forward(GwNorthbound *self, GwHttpRequest *request, const gchar *device_id)
{
	static const struct {
		guint status;
		const gchar *text;
	} answers[] = {
	    [GW_NORTHBOUND_RELAY_FORWARDED] = {202, "forwarded\n"},
	    [GW_NORTHBOUND_RELAY_MALFORMED] = {400, "malformed notification\n"},
	    [GW_NORTHBOUND_RELAY_BAD_DIGEST] = {401, "digest does not verify\n"},
	    [GW_NORTHBOUND_RELAY_NOT_VISIBLE] = {403, "device not visible to this server\n"},
	    [GW_NORTHBOUND_RELAY_UNKNOWN_DEVICE] = {404, "unknown device\n"},
	    [GW_NORTHBOUND_RELAY_NO_NOTIFY_ADDR] = {409, "device cannot be notified\n"},
	    [GW_NORTHBOUND_RELAY_NOT_TRANSPARENT] = {409, "device is not in Transparent mode\n"},
	};
	g_autoptr(GError) error = NULL;
	const gchar *peer = gw_http_request_get_remote_host(request);
	GwNorthboundRelay r = gw_northbound_relay_notification(
	    self, NULL, device_id, gw_http_request_get_body(request), &error);

	if (r != GW_NORTHBOUND_RELAY_FORWARDED)
		gw_warning_ratelimited("POST /notify from %s for device '%s' refused (%u): %s",
		                       peer,
		                       g_utf8_validate(device_id, -1, NULL) ? device_id : "?",
		                       answers[r].status,
		                       error->message);
	gw_northbound_respond_text(request, answers[r].status, answers[r].text);
}

/* a verified Package #0 (DM 1.x or 2.0) of @server_id starts a session unless one with that
 * server runs (503) or @id was seen already (409: one session per notification); checked in
 * that order, so a notification refused while busy started nothing and may be sent again */
static gboolean
gw_northbound_admit_notification(GwNorthbound *self,
                                 GwHttpRequest *request,
                                 GwServerLink *link,
                                 const gchar *peer,
                                 const gchar *server_id,
                                 guint16 id,
                                 const gchar *what)
{
	/* DM 1.x session ids are shown in hex, as everywhere in the log */
	g_autofree gchar *id_text = g_str_has_prefix(what, "DM 2.0") ? g_strdup_printf("%u", id)
	                                                             : g_strdup_printf("%04X", id);

	if (gw_server_link_is_busy(link)) {
		gw_warning_ratelimited("POST /notify from %s refused (503): a session with %s is "
		                       "running",
		                       peer,
		                       server_id);
		gw_northbound_respond_text(request, 503, "a session with this server is running\n");
		return FALSE;
	}
	if (!gw_pkg0_replay_guard_check_and_remember(
	        self->replay, server_id, id, g_get_monotonic_time())) {
		gw_warning_ratelimited("POST /notify from %s refused (409): %s %s of %s repeated, "
		                       "one session only",
		                       peer,
		                       what,
		                       id_text,
		                       server_id);
		gw_northbound_respond_text(request, 409, "session already started\n");
		return FALSE;
	}
	return TRUE;
}

/* a DM 2.0 Package #0 (gw-dm2-pkg0.h): the same checks as DM 1.x's, for a DM 2.0 server
 * (dm2-servers or a DMAcc 2.0 account); the digest is checked with the account's
 * Auth/Noti/Secret and Auth/Noti/Data, else its SRVCRED secret and AAuthData (empty when
 * none), as the TS's server secret and auth data */
static void
gw_northbound_notify_dm2(GwNorthbound *self, GwHttpRequest *request, const gchar *peer)
{
	GBytes *body = gw_http_request_get_body(request);
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);
	g_autoptr(GwDm2Pkg0) pkg0 = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) nonce = NULL;
	g_autoptr(GBytes) secret_bytes = NULL;
	g_autoptr(GwDm2Pkg0) verified = NULL;
	g_autofree gchar *notification_id = NULL;
	GwServerLink *link;

	pkg0 = gw_dm2_pkg0_parse(data, len, &error);
	if (pkg0 == NULL) {
		gw_warning_ratelimited(
		    "POST /notify from %s refused (400): malformed DM 2.0 Package #0: %s",
		    peer,
		    error->message);
		gw_northbound_respond_text(request, 400, "malformed notification\n");
		return;
	}
	link = gw_northbound_find_link(self, pkg0->server_id);
	if (link == NULL || !gw_northbound_link_is_dm2(self, link, pkg0->server_id)) {
		gw_warning_ratelimited(
		    "POST /notify from %s refused (403): DM 2.0 Package #0 names "
		    "server '%s', %s",
		    peer,
		    pkg0->server_id,
		    link == NULL ? "unknown" : "a DM 1.x one (not listed in dm2-servers)");
		gw_northbound_respond_text(request, 403, "unknown server\n");
		return;
	}
	if (!gw_server_link_get_notification_credentials(link, &secret_bytes, &nonce)) {
		gw_warning_ratelimited(
		    "POST /notify from %s refused (401): %s has no Auth/Noti/Secret nor SRVCRED "
		    "secret",
		    peer,
		    gw_server_link_get_dmacc_uri(link));
		gw_northbound_respond_text(request, 401, "digest does not verify\n");
		return;
	}
	verified = gw_dm2_pkg0_verify(data, len, secret_bytes, nonce, &error);
	if (verified == NULL) {
		gw_warning_ratelimited(
		    "POST /notify from %s refused (401): forged DM 2.0 Package #0 "
		    "for server '%s': %s",
		    peer,
		    pkg0->server_id,
		    error->message);
		gw_northbound_respond_text(request, 401, "digest does not verify\n");
		return;
	}
	if (!gw_northbound_admit_notification(self,
	                                      request,
	                                      link,
	                                      peer,
	                                      pkg0->server_id,
	                                      pkg0->notification_id,
	                                      "DM 2.0 NOTIFICATION-ID"))
		return;
	notification_id = g_strdup_printf("%u", pkg0->notification_id);
	g_message("DM 2.0 Package #0 from %s (server %s, notification %s): starting a session",
	          peer,
	          pkg0->server_id,
	          notification_id);
	gw_northbound_respond_text(request, 202, "session started\n");
	gw_northbound_run(self, link, GW_SYNCML_ALERT_SERVER_INITIATED_MGMT, notification_id, NULL);
}

static void
gw_northbound_notify_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwNorthbound *self = GW_NORTHBOUND(user_data);
	GBytes *body = gw_http_request_get_body(request);
	const gchar *peer = gw_http_request_get_remote_host(request);
	g_autoptr(GwPkg0) pkg0 = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *session_id = NULL;
	const gchar *target = gw_http_request_get_header(request, GW_GWMO_HTTP_TARGET_HEADER);
	GwServerLink *link;

	if (peer == NULL)
		peer = "(unknown)";
	if (g_strcmp0(gw_http_request_get_method(request), "POST") != 0) {
		gw_warning_ratelimited("%s /notify from %s refused (405): only POST",
		                       gw_http_request_get_method(request),
		                       peer);
		gw_northbound_respond_text(request, 405, "POST a Package #0 here\n");
		return;
	}
	if (g_strcmp0(gw_http_request_get_content_type(request),
	              GW_DM2_CONTENT_TYPE_NOTIFICATION) == 0 &&
	    target == NULL) {
		gw_northbound_notify_dm2(self, request, peer);
		return;
	}
	if (g_strcmp0(gw_http_request_get_content_type(request), GW_PKG0_CONTENT_TYPE) != 0) {
		const gchar *ct = gw_http_request_get_content_type(request);
		gw_warning_ratelimited("POST /notify from %s refused (415): Content-Type %s, not "
		                       "%s",
		                       peer,
		                       ct == NULL                      ? "(none)"
		                       : g_utf8_validate(ct, -1, NULL) ? ct
		                                                       : "(not UTF-8)",
		                       GW_PKG0_CONTENT_TYPE);
		gw_northbound_respond_text(request, 415, "expected " GW_PKG0_CONTENT_TYPE "\n");
		return;
	}
	if (target != NULL) {
		gw_northbound_forward(self, request, target);
		return;
	}
	pkg0 = gw_pkg0_parse(g_bytes_get_data(body, NULL), g_bytes_get_size(body), &error);
	if (pkg0 == NULL) {
		gw_warning_ratelimited(
		    "POST /notify from %s refused (400): malformed Package #0: %s",
		    peer,
		    error->message);
		gw_northbound_respond_text(request, 400, "malformed notification\n");
		return;
	}
	link = gw_northbound_find_link(self, pkg0->server_id);
	if (link == NULL) {
		gw_warning_ratelimited("POST /notify from %s refused (403): Package #0 names "
		                       "unknown server '%s'",
		                       peer,
		                       pkg0->server_id);
		gw_northbound_respond_text(request, 403, "unknown server\n");
		return;
	}
	if (!gw_northbound_verify_pkg0(self, link, body, &error)) {
		gw_warning_ratelimited(
		    "POST /notify from %s refused (401): forged or stale Package "
		    "#0 for server '%s': %s",
		    peer,
		    pkg0->server_id,
		    error->message);
		gw_northbound_respond_text(request, 401, "digest does not verify\n");
		return;
	}
	if (!gw_northbound_admit_notification(
	        self, request, link, peer, pkg0->server_id, pkg0->session_id, "Package #0 session"))
		return;
	session_id = gw_pkg0_session_id_to_string(pkg0->session_id);
	g_message("Package #0 from %s (server %s, session %s): starting a session",
	          peer,
	          pkg0->server_id,
	          session_id);
	gw_northbound_respond_text(request, 202, "session started\n");
	gw_northbound_run(self, link, GW_SYNCML_ALERT_SERVER_INITIATED_MGMT, session_id, NULL);
}

/* ---- POST /bootstrap: server-initiated bootstrap (gw-bootstrap.h) ---- */

typedef struct {
	GwNorthbound *self;
	GwHttpRequest *request;
	gchar *peer;
	gchar *hmac;
	gchar *fingerprint; /* of the TLS client certificate, nullable */
} GwNorthboundBootstrap;

static void
gw_northbound_bootstrap_free(GwNorthboundBootstrap *b)
{
	g_object_unref(b->self);
	gw_http_request_unref(b->request);
	g_free(b->peer);
	g_free(b->hmac);
	g_free(b->fingerprint);
	g_free(b);
}

static void
gw_northbound_bootstrap_refuse(GwNorthboundBootstrap *b,
                               GwBootstrapOutcome outcome,
                               const gchar *text,
                               const GError *error)
{
	guint status = gw_bootstrap_outcome_to_http(outcome);
	gw_warning_ratelimited("POST %s from %s refused (%u): %s; nothing changed",
	                       GW_GWMO_HTTP_BOOTSTRAP,
	                       b->peer,
	                       status,
	                       error != NULL ? error->message : text);
	gw_northbound_respond_text(b->request, status, text);
}

static void
gw_northbound_bootstrap_decoded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwNorthboundBootstrap *b = user_data;
	GwNorthbound *self = b->self;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *server_id = NULL;
	g_auto(GStrv) new_server_ids = NULL;
	GwBootstrapOutcome outcome;
	gboolean wbxml = FALSE;
	guint n_items = 0;

	msg = gw_syncml_message_decode_finish(res, &wbxml, &error);
	if (gw_http_request_is_closed(b->request)) {
		gw_northbound_bootstrap_free(b);
		return;
	}
	if (msg == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY)) {
			gw_warning_ratelimited("POST %s from %s refused (503): %s",
			                       GW_GWMO_HTTP_BOOTSTRAP,
			                       b->peer,
			                       error->message);
			gw_northbound_respond_text(b->request, 503, "busy, try again later\n");
		} else {
			gw_northbound_bootstrap_refuse(
			    b, GW_BOOTSTRAP_MALFORMED, "malformed DM message\n", error);
		}
		gw_northbound_bootstrap_free(b);
		return;
	}
	/* who it is first, then whether its certificate is one of its pins (gw-bootstrap.h) */
	outcome = gw_bootstrap_authenticate(self->bootstrap_servers,
	                                    msg,
	                                    b->hmac,
	                                    gw_http_request_get_body(b->request),
	                                    gw_http_request_is_tls(b->request),
	                                    &server_id,
	                                    &error);
	if (outcome == GW_BOOTSTRAP_APPLIED)
		outcome = gw_bootstrap_check_pin(self->bootstrap_pins,
		                                 server_id,
		                                 b->fingerprint,
		                                 gw_http_request_is_tls(b->request),
		                                 &error);
	if (outcome == GW_BOOTSTRAP_APPLIED) {
		g_clear_pointer(&server_id, g_free);
		outcome = gw_bootstrap_import(self->bootstrap_servers,
		                              self->tree,
		                              self->store,
		                              msg,
		                              b->hmac,
		                              gw_http_request_get_body(b->request),
		                              gw_http_request_is_tls(b->request),
		                              &server_id,
		                              &n_items,
		                              &new_server_ids,
		                              &error);
	}
	if (outcome == GW_BOOTSTRAP_FAILED) {
		g_warning("POST %s from %s: %s", GW_GWMO_HTTP_BOOTSTRAP, b->peer, error->message);
		gw_northbound_respond_text(b->request, 500, "bootstrap could not be stored\n");
		gw_northbound_bootstrap_free(b);
		return;
	}
	if (outcome != GW_BOOTSTRAP_APPLIED) {
		g_autofree gchar *text = NULL;
		if (outcome == GW_BOOTSTRAP_UNAUTHORIZED)
			text = g_strdup("credentials missing or wrong\n");
		else if (outcome == GW_BOOTSTRAP_FORBIDDEN && server_id == NULL &&
		         g_error_matches(error, GW_ERROR, GW_ERROR_PERMISSION_DENIED))
			text = g_strdup("not an authorised bootstrap server\n");
		else
			text = g_strdup_printf("bootstrap refused: %s\n", error->message);
		gw_northbound_bootstrap_refuse(b, outcome, text, error);
		gw_northbound_bootstrap_free(b);
		return;
	}
	g_message("bootstrap applied from %s (bootstrap server %s, %s, %u items)",
	          b->peer,
	          server_id,
	          wbxml ? "WBXML" : "XML",
	          n_items);
	gw_northbound_servers_bootstrapped(self, (const gchar *const *)new_server_ids);
	gw_northbound_respond_text(b->request, 200, "bootstrap applied\n");
	gw_northbound_bootstrap_free(b);
}

/* "application/vnd.syncml.dm+xml", parameters (";…") and case aside */
static gboolean
gw_northbound_is_dm_xml_type(const gchar *ct)
{
	gsize n = strlen(GW_SYNCML_DM_XML_TYPE);
	if (ct == NULL)
		return FALSE;
	while (g_ascii_isspace(*ct))
		ct++;
	if (g_ascii_strncasecmp(ct, GW_SYNCML_DM_XML_TYPE, n) != 0)
		return FALSE;
	ct += n;
	while (g_ascii_isspace(*ct))
		ct++;
	return *ct == '\0' || *ct == ';';
}

static void
gw_northbound_bootstrap_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwNorthbound *self = GW_NORTHBOUND(user_data);
	const gchar *peer = gw_http_request_get_remote_host(request);
	const gchar *ct = gw_http_request_get_content_type(request);
	GwNorthboundBootstrap *b;

	if (peer == NULL)
		peer = "(unknown)";
	if (g_strcmp0(gw_http_request_get_method(request), "POST") != 0) {
		gw_warning_ratelimited("%s %s from %s refused (405): only POST",
		                       gw_http_request_get_method(request),
		                       GW_GWMO_HTTP_BOOTSTRAP,
		                       peer);
		gw_northbound_respond_text(request, 405, "POST a DM bootstrap message here\n");
		return;
	}
	if (!gw_wbxml_is_wbxml_content_type(ct) && !gw_northbound_is_dm_xml_type(ct)) {
		gw_warning_ratelimited("POST %s from %s refused (415): Content-Type %s",
		                       GW_GWMO_HTTP_BOOTSTRAP,
		                       peer,
		                       ct == NULL                      ? "(none)"
		                       : g_utf8_validate(ct, -1, NULL) ? ct
		                                                       : "(not UTF-8)");
		gw_northbound_respond_text(request,
		                           415,
		                           "expected " GW_SYNCML_DM_XML_TYPE
		                           " or " GW_SYNCML_DM_WBXML_TYPE "\n");
		return;
	}
	if (g_hash_table_size(self->bootstrap_servers) == 0) {
		gw_warning_ratelimited("POST %s from %s refused (403): no bootstrap server is "
		                       "configured ([bootstrap] servers)",
		                       GW_GWMO_HTTP_BOOTSTRAP,
		                       peer);
		gw_northbound_respond_text(request, 403, "bootstrap not enabled\n");
		return;
	}
	b = g_new0(GwNorthboundBootstrap, 1);
	b->self = g_object_ref(self);
	b->request = gw_http_request_ref(request);
	b->peer = g_strdup(peer);
	b->hmac = g_strdup(gw_http_request_get_header(request, GW_DM_AUTH_HMAC_HEADER));
	b->fingerprint = g_strdup(gw_http_request_get_peer_fingerprint(request));
	/* decoded off the main loop (bounded: gw-xml-bounds.h, the decode pool's queue) */
	gw_syncml_message_decode_async(
	    gw_http_request_get_body(request), ct, NULL, gw_northbound_bootstrap_decoded_cb, b);
}

/* ---- schedule ---- */

static gboolean
gw_northbound_schedule_cb(gpointer user_data)
{
	GwNorthbound *self = GW_NORTHBOUND(user_data);
	g_auto(GStrv) accounts = gw_dm_tree_list_children(self->tree, "./DMAcc");
	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *uri = g_strdup_printf("./DMAcc/%s", accounts[i]);
		GwServerLink *link = gw_northbound_get_link(self, uri);
		if (!gw_server_link_is_busy(link))
			gw_northbound_run(
			    self, link, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, NULL, NULL);
	}
	return G_SOURCE_CONTINUE;
}

/* ---- set-up ---- */

/* an inventory alert is queued (and saved) while the registration runs, the record is saved
 * right after it: a crash in between leaves an alert about a record the restarted gateway does
 * not have (the registration was never answered; the device registers again). Such alerts
 * are dropped, so the server never hears of a record the gateway forgot. */
static gboolean
gw_northbound_alert_is_orphan(GwNorthbound *self, const GwAlert *a)
{
	g_autofree gchar *id_uri = NULL;
	g_autofree gchar *device_id = NULL;
	g_autofree gchar *escaped = NULL;
	g_autofree gchar *needle = NULL;

	if (g_strcmp0(a->type, GW_GWMO_ALERT_DEVICE_ATTACHED) != 0 &&
	    g_strcmp0(a->type, GW_GWMO_ALERT_DEVICE_DETACHED) != 0)
		return FALSE;
	if (a->source == NULL || !gw_dm_uri_is_below(a->source, GW_GWMO_INVENTORY_DEVICES))
		return FALSE;
	id_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_DEVICE_ID, a->source);
	device_id = gw_dm_tree_dup_string(self->tree, id_uri);
	if (device_id == NULL)
		return TRUE;
	escaped = g_markup_escape_text(device_id, -1);
	needle = g_strdup_printf("<DeviceID>%s</DeviceID>", escaped);
	return a->data == NULL || strstr(a->data, needle) == NULL;
}

static void
gw_northbound_drop_orphan_alerts(GwNorthbound *self, const gchar *server_id)
{
	g_autoptr(GPtrArray) queued = gw_alert_queue_list(self->alerts, server_id);

	for (guint i = 0; i < queued->len; i++) {
		GwAlert *a = g_ptr_array_index(queued, i);
		g_autoptr(GError) error = NULL;
		if (!gw_northbound_alert_is_orphan(self, a))
			continue;
		g_warning("dropping alert %u (%s about %s) for %s: the record was not saved before "
		          "the gateway stopped",
		          a->id,
		          a->type,
		          a->source,
		          server_id);
		if (!gw_alert_queue_ack(self->alerts, a->id, &error))
			g_warning("%s", error->message);
	}
}

/* alerts left undelivered by the last run (a crash, a server that was down): a session with
 * each of their servers soon after start, not only when the next alert or schedule comes */
static void
gw_northbound_schedule_undelivered(GwNorthbound *self)
{
	g_auto(GStrv) accounts = gw_dm_tree_list_children(self->tree, "./DMAcc");

	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *uri = g_strdup_printf("./DMAcc/%s", accounts[i]);
		g_autofree gchar *sid = gw_server_link_dup_account_server_id(self->tree, uri);
		g_autoptr(GPtrArray) queued = NULL;

		if (sid == NULL)
			continue;
		gw_northbound_drop_orphan_alerts(self, sid);
		queued = gw_alert_queue_list(self->alerts, sid);
		if (queued->len == 0)
			continue;
		g_message("%u undelivered alert(s) for %s: a session follows", queued->len, sid);
		gw_northbound_schedule_alert_session(self, sid, 500);
	}
}

static void
gw_northbound_own_bootstrap_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) ids =
	    gw_server_bootstrap_fetch_finish(GW_SERVER_BOOTSTRAP(source), res, &error);
	if (ids == NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		g_warning("[bootstrap] url: %s", error->message);
}

/* [bootstrap] url: a gateway without any DMAcc GETs its bootstrap at start-up (as work flow 1
 * does, beside the factory file) */
static void
gw_northbound_fetch_own_bootstrap(GwNorthbound *self)
{
	g_autofree gchar *url = gw_config_get_string(self->config, "bootstrap", "url");
	g_auto(GStrv) accounts = NULL;

	if (url == NULL || url[0] == '\0')
		return;
	accounts = gw_dm_tree_list_children(self->tree, "./DMAcc");
	if (accounts != NULL && accounts[0] != NULL) {
		g_info("[bootstrap] url not fetched: the gateway holds a DMAcc");
		return;
	}
	g_message("the gateway holds no DMAcc: fetching its bootstrap from %s", url);
	gw_server_bootstrap_fetch_async(
	    self->server_bootstrap, url, self->cancellable, gw_northbound_own_bootstrap_cb, NULL);
}

gboolean
gw_northbound_start(GwNorthbound *self, GError **error)
{
	g_autofree gchar *dev_id = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
	gint64 interval = gw_config_get_int(self->config, "northbound", "session-interval");

	self->server = gw_config_open_listener(
	    self->config, "northbound", self->state_dir, dev_id != NULL ? dev_id : "gwmod", error);
	if (self->server == NULL)
		return FALSE;
	/* a bootstrap server's certificate pin is checked per request; nobody else is asked for
	 * more than today (a client without a certificate connects as before) */
	if (g_hash_table_size(self->bootstrap_pins) > 0)
		gw_http_server_set_request_client_certificate(self->server, TRUE);
	gw_http_server_add_handler(
	    self->server, GW_GWMO_HTTP_NOTIFY, gw_northbound_notify_handler, self, NULL);
	gw_http_server_add_handler(
	    self->server, GW_GWMO_HTTP_BOOTSTRAP, gw_northbound_bootstrap_handler, self, NULL);
	{
		g_auto(GStrv) real = gw_http_server_get_uris(self->server);
		for (guint i = 0; real[i] != NULL; i++)
			g_message("northbound listener on %s (POST %s, POST %s: %u bootstrap "
			          "servers)",
			          real[i],
			          GW_GWMO_HTTP_NOTIFY,
			          GW_GWMO_HTTP_BOOTSTRAP,
			          g_hash_table_size(self->bootstrap_servers));
	}
	{
		/* work flow 2's addr=: [bootstrap] gateway-url, else the first listener's */
		g_auto(GStrv) real = gw_http_server_get_uris(self->server);
		g_autofree gchar *configured =
		    gw_config_get_string(self->config, "bootstrap", "gateway-url");
		if (configured != NULL && configured[0] != '\0') {
			gw_server_bootstrap_set_gateway_url(self->server_bootstrap, configured);
		} else if (real[0] != NULL) {
			g_autofree gchar *base = g_strdup(real[0]);
			g_autofree gchar *url = NULL;
			if (g_str_has_suffix(base, "/"))
				base[strlen(base) - 1] = '\0';
			url = g_strconcat(base, GW_GWMO_HTTP_BOOTSTRAP, NULL);
			gw_server_bootstrap_set_gateway_url(self->server_bootstrap, url);
		}
	}
	if (interval > 0)
		self->schedule_id =
		    g_timeout_add_seconds((guint)interval, gw_northbound_schedule_cb, self);
	gw_northbound_schedule_undelivered(self);
	gw_northbound_fetch_own_bootstrap(self);
	return TRUE;
}

gchar **
gw_northbound_get_listen_uris(GwNorthbound *self)
{
	if (self->server == NULL)
		return g_new0(gchar *, 1);
	return gw_http_server_get_uris(self->server);
}

GwAlertQueue *
gw_northbound_get_alert_queue(GwNorthbound *self)
{
	return self->alerts;
}

static void
gw_northbound_dispose(GObject *object)
{
	GwNorthbound *self = GW_NORTHBOUND(object);
	if (self->schedule_id != 0) {
		g_source_remove(self->schedule_id);
		self->schedule_id = 0;
	}
	if (self->checkin_handler != 0) {
		gw_dm_tree_remove_handler(self->tree, self->checkin_handler);
		self->checkin_handler = 0;
	}
	if (self->alert_sessions != NULL) {
		GHashTableIter iter;
		gpointer value;
		g_hash_table_iter_init(&iter, self->alert_sessions);
		while (g_hash_table_iter_next(&iter, NULL, &value))
			g_source_remove(GPOINTER_TO_UINT(value));
		g_hash_table_remove_all(self->alert_sessions);
	}
	g_cancellable_cancel(self->cancellable);
	/* its fetches and commands end now, not when their GTasks let it go */
	if (self->server_bootstrap != NULL)
		g_object_run_dispose(G_OBJECT(self->server_bootstrap));
	g_clear_object(&self->server_bootstrap);
	g_clear_object(&self->inventory);
	g_clear_object(&self->southbound);
	if (self->server != NULL)
		gw_http_server_disconnect(self->server);
	g_clear_object(&self->server);
	G_OBJECT_CLASS(gw_northbound_parent_class)->dispose(object);
}

static void
gw_northbound_finalize(GObject *object)
{
	GwNorthbound *self = GW_NORTHBOUND(object);
	g_hash_table_unref(self->links);
	g_hash_table_unref(self->account_of);
	g_hash_table_unref(self->pending_checkins);
	g_hash_table_unref(self->alert_sessions);
	g_hash_table_unref(self->alert_retry);
	g_clear_pointer(&self->bootstrap_servers, g_hash_table_unref);
	g_clear_pointer(&self->bootstrap_pins, g_hash_table_unref);
	g_clear_object(&self->cancellable);
	gw_pkg0_replay_guard_free(self->replay);
	g_clear_object(&self->alerts);
	g_clear_object(&self->client);
	g_object_unref(self->store);
	g_object_unref(self->tree);
	g_object_unref(self->config);
	g_free(self->state_dir);
	G_OBJECT_CLASS(gw_northbound_parent_class)->finalize(object);
}

static void
gw_northbound_class_init(GwNorthboundClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_northbound_dispose;
	object_class->finalize = gw_northbound_finalize;
	signals[SIGNAL_SESSION_FINISHED] = g_signal_new("session-finished",
	                                                G_TYPE_FROM_CLASS(klass),
	                                                G_SIGNAL_RUN_LAST,
	                                                0,
	                                                NULL,
	                                                NULL,
	                                                NULL,
	                                                G_TYPE_NONE,
	                                                3,
	                                                G_TYPE_STRING,
	                                                G_TYPE_BOOLEAN,
	                                                G_TYPE_STRING);
}

static void
gw_northbound_init(GwNorthbound *self)
{
	self->links = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->account_of = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->pending_checkins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->alert_sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->alert_retry = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->cancellable = g_cancellable_new();
}

GwNorthbound *
gw_northbound_new(GwConfig *config,
                  GwDmTree *tree,
                  GwDmStore *store,
                  const gchar *state_dir,
                  GError **error)
{
	g_autoptr(GwNorthbound) self = g_object_new(GW_TYPE_NORTHBOUND, NULL);
	g_autofree gchar *ca_file = gw_config_get_string(config, "northbound", "ca-file");

	self->config = g_object_ref(config);
	self->tree = g_object_ref(tree);
	self->store = g_object_ref(store);
	self->state_dir = g_strdup(state_dir);
	self->alerts = gw_alert_queue_new(state_dir, error);
	if (self->alerts == NULL)
		return NULL;
	self->client = gw_http_client_new(ca_file, error);
	if (self->client == NULL)
		return NULL;
	gw_http_client_set_timeout(self->client,
	                           (guint)gw_config_get_int(config, "northbound", "timeout"));
	gw_http_client_set_retries(
	    self->client, (guint)gw_config_get_int(config, "northbound", "retries"), 200);
	gw_http_client_set_max_in_flight(
	    self->client, (guint)gw_config_get_int(config, "northbound", "max-in-flight"));
	{
		/* DM 2.0 accounts with AAuthType X509 present the listeners' identity */
		g_autofree gchar *cert = NULL;
		g_autofree gchar *key = NULL;
		g_autofree gchar *dev_id = gw_dm_tree_dup_string(tree, "./DevInfo/DevId");

		gw_config_get_tls_identity(config, state_dir, &cert, &key);
		gw_http_client_set_identity_files(self->client, cert, key, dev_id);
	}
	self->replay = gw_pkg0_replay_guard_new(
	    (guint)gw_config_get_int(config, "northbound", "notify-replay-window"), 0);
	self->bootstrap_servers = gw_bootstrap_load_servers(config, error);
	if (self->bootstrap_servers == NULL)
		return NULL;
	self->bootstrap_pins = gw_bootstrap_load_pins(config, self->bootstrap_servers, error);
	if (self->bootstrap_pins == NULL)
		return NULL;
	self->server_bootstrap =
	    gw_server_bootstrap_new(config, tree, store, self->bootstrap_servers, error);
	if (self->server_bootstrap == NULL)
		return NULL;
	g_signal_connect_object(
	    self->server_bootstrap, "applied", G_CALLBACK(gw_northbound_fetch_applied_cb), self, 0);
	self->checkin_handler = gw_dm_tree_add_exec_handler(
	    tree, GW_GWMO_CONFIG_CHECKIN, gw_northbound_checkin_exec, self, NULL);
	return g_steal_pointer(&self);
}
