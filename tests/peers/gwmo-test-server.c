/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmo-test-server: a reference OMA DM Server for end-to-end tests, benchmarks and the README
 * demo (never installed). It listens for SyncML DM on POST /dm, runs one SERVER-role
 * GwDmSession per (SessionID, Source LocURI), sends the commands of a JSON script, records
 * everything it learns in a JSON file (with each session's start time, "started_us") and can
 * send one Package #0 when it starts (or after its N-th session, --notify-after), signed as a
 * DM Server signs it: with the nonce the peer last gave it (its SRVCRED nonce), the all-zero
 * nonce when it has none, or --notify-nonce. --tamper-from/--tamper-to change one of its
 * replies after its x-syncml-hmac was computed: a message altered in transit (GwMO-SECDI-001).
 * Generic Alerts are deduplicated by the identity gwmod puts in their Item's EMI (MetInf
 * Extended Meta Information): a second alert with an identity it accepted before (in any
 * session of its lifetime) is answered 200 and recorded with "duplicate": true, so a record
 * tells the alerts the server accepted from the resends it suppressed.
 */

#define G_LOG_DOMAIN "GwTestServer"

#include "config.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw-crypto.h"
#include "gw-dm-session.h"
#include "gw-http-server.h"
#include "gw-log-private.h"
#include "gw-peer-common.h"
#include "gw-pkg0.h"
#include "gw-wbxml.h"

/* gw-test-server-dm2.c: the --dm2 mode */
int
gw_test_server_dm2_main(int argc, char **argv);

#define GW_TEST_SERVER_QUIT_DELAY_MS 200 /* lets the last answer leave before exiting */
/* a Package #0 answered 503 (the receiver is in a session) is sent again this often */
#define GW_TEST_SERVER_NOTIFY_RETRIES 50
#define GW_TEST_SERVER_NOTIFY_RETRY_MS 100

typedef struct _GwTestServer GwTestServer;

/* nonces per device (its Source LocURI), kept across sessions */
typedef struct {
	GBytes *peer;  /* the device digests with it (we issued it) */
	GBytes *local; /* we digest with it (the device issued it) */
} GwTestNonces;

typedef struct {
	GwTestServer *server; /* borrowed */
	guint index;          /* 1, 2, … in start order */
	gchar *key;           /* SessionID "|" Source LocURI */
	gchar *session_id;
	gchar *peer;
	gchar *content_type; /* of the device's last message */
	guint alert;         /* 1200/1201 from Package #1, 0 when none */
	guint auth_status;   /* our Status for the device's SyncHdr, last one before 212/200 */
	GArray *cred_statuses; /* guint: the device's Status for our SyncHdr, up to the first 2xx */
	GwDmSession *session;
	GPtrArray *generic_alerts; /* JsonObject */
	gchar *error;              /* our own failure reason (timeout, stop) */
	gint64 started_us;         /* real time of its first message */
	gboolean done;
	guint idle_id;
} GwTestSession;

struct _GwTestServer {
	/* options */
	gchar *listen;
	gchar *cert;
	gchar *key;
	gchar *server_id;
	gchar *server_name;
	gchar *server_secret;
	gchar *client_name;
	gchar *client_secret;
	gchar *auth;
	gchar *server_auth;
	gchar *script_path;
	gchar *record_path;
	gint sessions;
	gchar *notify_url;
	gchar *notify_secret;
	gchar *notify_session;
	gchar *notify_nonce;
	gboolean notify_forge;
	gint notify_after;    /* send the Package #0 once this many sessions ended (0: at start) */
	GBytes *notify_body;  /* the Package #0 sent, for a retry after HTTP 503 */
	guint notify_busy;    /* 503 answers so far */
	gchar *notify_target; /* X-GwMO-Target: a Package #0 the gateway forwards (flow Z') */
	gchar *ca_file;
	gchar *tamper_from; /* the first reply holding it is changed after its MAC was computed */
	gchar *tamper_to;
	gint max_msg_size;
	gboolean wbxml;
	gchar *ready_file;
	gint session_timeout;
	gint alert_status;

	GwDmAuthType auth_type;
	GwDmAuthType server_auth_type;
	JsonNode *script; /* validated */
	GMainLoop *loop;
	GwHttpServer *http;
	GwHttpClient *notifier;
	GCancellable *cancellable;
	gchar *dm_url;
	gchar *tmp_dir;
	gchar *cert_path;
	GPtrArray *all;     /* GwTestSession, start order, owned */
	GHashTable *active; /* key → GwTestSession (borrowed) */
	GHashTable *nonces; /* peer → GwTestNonces */
	GHashTable *alert_ids; /* peer "|" EMI of every Generic Alert accepted */
	guint duplicates;      /* Generic Alerts suppressed as resends */
	guint n_done;
	guint quit_id;
	gboolean notify_pending;
	gboolean tampered;
	gint exit_code;
};

/* ---- nonces ---- */

static void
gw_test_nonces_free(gpointer data)
{
	GwTestNonces *n = data;
	g_clear_pointer(&n->peer, g_bytes_unref);
	g_clear_pointer(&n->local, g_bytes_unref);
	g_free(n);
}

static GwTestNonces *
gw_test_server_nonces(GwTestServer *self, const gchar *peer)
{
	GwTestNonces *n = g_hash_table_lookup(self->nonces, peer);
	if (n == NULL) {
		n = g_new0(GwTestNonces, 1);
		g_hash_table_insert(self->nonces, g_strdup(peer), n);
	}
	return n;
}

/* ---- the script ---- */

static gboolean
gw_test_script_error(GError **error, const gchar *where, const gchar *what)
{
	g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s: %s", where, what);
	return FALSE;
}

/* a string member; @required: absent is an error */
static gboolean
gw_test_script_string(JsonObject *o,
                      const gchar *member,
                      gboolean required,
                      const gchar *where,
                      const gchar **out,
                      GError **error)
{
	JsonNode *node = json_object_get_member(o, member);

	*out = NULL;
	if (node == NULL) {
		if (!required)
			return TRUE;
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s: \"%s\" is missing", where, member);
		return FALSE;
	}
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s: \"%s\" must be a string",
		            where,
		            member);
		return FALSE;
	}
	*out = json_node_get_string(node);
	if (required && (*out)[0] == '\0') {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s: \"%s\" is empty", where, member);
		return FALSE;
	}
	return TRUE;
}

static GwSyncmlCommand *
gw_test_script_command(JsonNode *node, const gchar *where, GError **error);

static gboolean
gw_test_script_children(GwSyncmlCommand *container,
                        JsonObject *o,
                        const gchar *where,
                        GError **error)
{
	JsonNode *node = json_object_get_member(o, "commands");
	JsonArray *array;

	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
		return gw_test_script_error(error, where, "\"commands\" must be an array");
	array = json_node_get_array(node);
	if (json_array_get_length(array) == 0)
		return gw_test_script_error(error, where, "\"commands\" is empty");
	for (guint i = 0; i < json_array_get_length(array); i++) {
		g_autofree gchar *child_where = g_strdup_printf("%s.commands[%u]", where, i);
		GwSyncmlCommand *child =
		    gw_test_script_command(json_array_get_element(array, i), child_where, error);
		if (child == NULL)
			return FALSE;
		gw_syncml_command_add_child(container, child);
	}
	return TRUE;
}

/* one command of the script; validates everything (unknown members are errors, to catch
 * typos) */
static GwSyncmlCommand *
gw_test_script_command(JsonNode *node, const gchar *where, GError **error)
{
	static const gchar *const known[] = {
	    "cmd", "uri", "source", "format", "type", "data", "correlator", "commands", NULL};
	g_autoptr(GwSyncmlCommand) cmd = NULL;
	g_autoptr(GList) members = NULL;
	JsonObject *o;
	const gchar *name = NULL;
	const gchar *uri = NULL;
	const gchar *source = NULL;
	const gchar *format = NULL;
	const gchar *type = NULL;
	const gchar *data = NULL;
	const gchar *correlator = NULL;
	GwSyncmlCmdType cmd_type;
	GwSyncmlItem *item;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		gw_test_script_error(error, where, "a command must be an object");
		return NULL;
	}
	o = json_node_get_object(node);
	members = json_object_get_members(o);
	for (GList *l = members; l != NULL; l = l->next) {
		if (!g_strv_contains(known, l->data)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "%s: unknown member \"%s\"",
			            where,
			            (const gchar *)l->data);
			return NULL;
		}
	}
	if (!gw_test_script_string(o, "cmd", TRUE, where, &name, error))
		return NULL;
	cmd_type = gw_syncml_cmd_type_from_string(name);
	switch (cmd_type) {
	case GW_SYNCML_CMD_GET:
	case GW_SYNCML_CMD_REPLACE:
	case GW_SYNCML_CMD_ADD:
	case GW_SYNCML_CMD_DELETE:
	case GW_SYNCML_CMD_EXEC:
	case GW_SYNCML_CMD_COPY:
	case GW_SYNCML_CMD_ATOMIC:
	case GW_SYNCML_CMD_SEQUENCE:
		break;
	default:
		g_set_error(
		    error,
		    GW_ERROR,
		    GW_ERROR_INVALID_ARGS,
		    "%s: unknown cmd \"%s\" (Get, Replace, Add, Delete, Exec, Copy, Atomic, "
		    "Sequence)",
		    where,
		    name);
		return NULL;
	}
	cmd = gw_syncml_command_new(cmd_type);
	if (gw_syncml_command_is_container(cmd)) {
		for (GList *l = members; l != NULL; l = l->next) {
			if (g_strcmp0(l->data, "cmd") != 0 && g_strcmp0(l->data, "commands") != 0) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_INVALID_ARGS,
				            "%s: %s takes only \"commands\", not \"%s\"",
				            where,
				            name,
				            (const gchar *)l->data);
				return NULL;
			}
		}
		if (!gw_test_script_children(cmd, o, where, error))
			return NULL;
		return g_steal_pointer(&cmd);
	}
	if (json_object_has_member(o, "commands")) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s: %s takes no \"commands\"",
		            where,
		            name);
		return NULL;
	}
	if (!gw_test_script_string(o, "uri", TRUE, where, &uri, error) ||
	    !gw_test_script_string(
	        o, "source", cmd_type == GW_SYNCML_CMD_COPY, where, &source, error) ||
	    !gw_test_script_string(o, "format", FALSE, where, &format, error) ||
	    !gw_test_script_string(o, "type", FALSE, where, &type, error) ||
	    !gw_test_script_string(o, "data", FALSE, where, &data, error) ||
	    !gw_test_script_string(o, "correlator", FALSE, where, &correlator, error))
		return NULL;
	if (source != NULL && cmd_type != GW_SYNCML_CMD_COPY) {
		gw_test_script_error(error, where, "only Copy takes a \"source\"");
		return NULL;
	}
	if (correlator != NULL && cmd_type != GW_SYNCML_CMD_EXEC) {
		gw_test_script_error(error, where, "only Exec takes a \"correlator\"");
		return NULL;
	}
	if ((data != NULL || format != NULL || type != NULL) &&
	    (cmd_type == GW_SYNCML_CMD_GET || cmd_type == GW_SYNCML_CMD_DELETE ||
	     cmd_type == GW_SYNCML_CMD_COPY)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s: %s takes no \"data\", \"format\" or \"type\"",
		            where,
		            name);
		return NULL;
	}
	if (format != NULL && gw_dm_format_from_string(format) == GW_DM_FORMAT_INVALID) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s: unknown format \"%s\"",
		            where,
		            format);
		return NULL;
	}
	item = gw_syncml_command_add_item(cmd, gw_syncml_item_new(uri, source));
	if (data != NULL || format != NULL || type != NULL)
		gw_syncml_item_set_data(
		    item, format != NULL ? format : (data != NULL ? "chr" : NULL), type, data);
	cmd->correlator = g_strdup(correlator);
	return g_steal_pointer(&cmd);
}

/* the commands of session @index (0-based): entry @index, the last one repeating */
static GPtrArray *
gw_test_script_session(JsonNode *script, guint index, GError **error)
{
	g_autoptr(GPtrArray) cmds =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
	g_autofree gchar *where = NULL;
	JsonArray *sessions;
	JsonObject *entry;
	JsonNode *commands;
	g_autoptr(GList) members = NULL;
	guint n;

	if (script == NULL)
		return g_steal_pointer(&cmds);
	sessions = json_object_get_array_member(json_node_get_object(script), "sessions");
	n = json_array_get_length(sessions);
	if (n == 0)
		return g_steal_pointer(&cmds);
	index = MIN(index, n - 1);
	where = g_strdup_printf("sessions[%u]", index);
	if (!JSON_NODE_HOLDS_OBJECT(json_array_get_element(sessions, index))) {
		gw_test_script_error(error, where, "a session must be an object");
		return NULL;
	}
	entry = json_array_get_object_element(sessions, index);
	members = json_object_get_members(entry);
	for (GList *l = members; l != NULL; l = l->next) {
		if (g_strcmp0(l->data, "commands") != 0) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "%s: unknown member \"%s\"",
			            where,
			            (const gchar *)l->data);
			return NULL;
		}
	}
	commands = json_object_get_member(entry, "commands");
	if (commands == NULL)
		return g_steal_pointer(&cmds);
	if (!JSON_NODE_HOLDS_ARRAY(commands)) {
		gw_test_script_error(error, where, "\"commands\" must be an array");
		return NULL;
	}
	for (guint i = 0; i < json_array_get_length(json_node_get_array(commands)); i++) {
		g_autofree gchar *cmd_where = g_strdup_printf("%s.commands[%u]", where, i);
		GwSyncmlCommand *cmd = gw_test_script_command(
		    json_array_get_element(json_node_get_array(commands), i), cmd_where, error);
		if (cmd == NULL)
			return NULL;
		g_ptr_array_add(cmds, cmd);
	}
	return g_steal_pointer(&cmds);
}

static JsonNode *
gw_test_script_load(const gchar *path, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(JsonNode) root = NULL;
	JsonNode *sessions;
	g_autoptr(GList) members = NULL;

	if (!json_parser_load_from_file(parser, path, error))
		return NULL;
	root = json_parser_steal_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "the top level must be an object");
		return NULL;
	}
	members = json_object_get_members(json_node_get_object(root));
	for (GList *l = members; l != NULL; l = l->next) {
		if (g_strcmp0(l->data, "sessions") != 0) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "unknown top-level member \"%s\" (only \"sessions\")",
			            (const gchar *)l->data);
			return NULL;
		}
	}
	sessions = json_object_get_member(json_node_get_object(root), "sessions");
	if (sessions == NULL || !JSON_NODE_HOLDS_ARRAY(sessions)) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "\"sessions\" must be an array");
		return NULL;
	}
	/* build every entry once so that mistakes show before anything listens */
	for (guint i = 0; i < json_array_get_length(json_node_get_array(sessions)); i++) {
		g_autoptr(GPtrArray) cmds = gw_test_script_session(root, i, error);
		if (cmds == NULL)
			return NULL;
	}
	return g_steal_pointer(&root);
}

/* ---- sessions ---- */

static void
gw_test_session_free(gpointer data)
{
	GwTestSession *s = data;

	if (s->idle_id != 0)
		g_source_remove(s->idle_id);
	if (s->session != NULL)
		g_signal_handlers_disconnect_by_data(s->session, s);
	g_clear_object(&s->session);
	g_ptr_array_unref(s->generic_alerts);
	g_array_unref(s->cred_statuses);
	g_free(s->key);
	g_free(s->session_id);
	g_free(s->peer);
	g_free(s->content_type);
	g_free(s->error);
	g_free(s);
}

static const gchar *
gw_test_session_state(GwTestSession *s)
{
	switch (gw_dm_session_get_state(s->session)) {
	case GW_DM_SESSION_STATE_FINISHED:
		return "finished";
	case GW_DM_SESSION_STATE_FAILED:
		return "failed";
	default:
		return s->error != NULL ? "failed" : "active";
	}
}

static const gchar *
gw_test_session_error(GwTestSession *s)
{
	const GError *error = gw_dm_session_get_error(s->session);
	if (error != NULL)
		return error->message;
	return s->error;
}

static JsonObject *
gw_test_session_to_json(GwTestSession *s)
{
	JsonObject *o = json_object_new();
	JsonObject *devinfo = json_object_new();
	JsonArray *results = json_array_new();
	JsonArray *alerts = json_array_new();
	GHashTable *peer_devinfo = gw_dm_session_get_peer_devinfo(s->session);
	GPtrArray *session_results = gw_dm_session_get_results(s->session);
	g_autoptr(GList) keys = g_hash_table_get_keys(peer_devinfo);
	GwDmSessionStats stats;

	json_object_set_int_member(o, "index", s->index);
	json_object_set_int_member(o, "started_us", s->started_us);
	gw_peer_json_set_string(o, "session_id", s->session_id);
	gw_peer_json_set_string(o, "peer", s->peer);
	if (s->alert != 0)
		json_object_set_int_member(o, "alert", s->alert);
	else
		json_object_set_null_member(o, "alert");
	json_object_set_boolean_member(
	    o, "authenticated", gw_dm_session_get_peer_authenticated(s->session));
	json_object_set_int_member(o, "auth_status", s->auth_status);
	{
		JsonArray *codes = json_array_new();
		for (guint i = 0; i < s->cred_statuses->len; i++)
			json_array_add_int_element(codes,
			                           g_array_index(s->cred_statuses, guint, i));
		json_object_set_array_member(o, "cred_statuses", codes);
	}
	gw_peer_json_set_string(o, "content_type", s->content_type);

	keys = g_list_sort(keys, (GCompareFunc)g_strcmp0);
	for (GList *l = keys; l != NULL; l = l->next)
		json_object_set_string_member(
		    devinfo, l->data, g_hash_table_lookup(peer_devinfo, l->data));
	json_object_set_object_member(o, "devinfo", devinfo);

	for (guint i = 0; i < session_results->len; i++) {
		GwDmSessionResult *r = g_ptr_array_index(session_results, i);
		JsonObject *entry = gw_peer_command_to_json(r->command);
		JsonArray *items = json_array_new();

		json_object_set_int_member(entry, "status", r->status);
		for (guint j = 0; r->results != NULL && j < r->results->len; j++)
			json_array_add_object_element(
			    items, gw_peer_item_to_json(g_ptr_array_index(r->results, j)));
		json_object_set_array_member(entry, "items", items);
		json_array_add_object_element(results, entry);
	}
	json_object_set_array_member(o, "results", results);

	for (guint i = 0; i < s->generic_alerts->len; i++)
		json_array_add_object_element(
		    alerts, json_object_ref(g_ptr_array_index(s->generic_alerts, i)));
	json_object_set_array_member(o, "generic_alerts", alerts);

	gw_dm_session_get_stats(s->session, &stats);
	json_object_set_int_member(o, "messages_in", stats.messages_in);
	json_object_set_int_member(o, "messages_out", stats.messages_out);
	json_object_set_string_member(o, "state", gw_test_session_state(s));
	gw_peer_json_set_string(o, "error", gw_test_session_error(s));
	return o;
}

static gboolean
gw_test_server_write_record(GwTestServer *self)
{
	g_autoptr(JsonArray) sessions = json_array_new();
	g_autoptr(GError) error = NULL;

	if (self->record_path == NULL)
		return TRUE;
	for (guint i = 0; i < self->all->len; i++)
		json_array_add_object_element(
		    sessions, gw_test_session_to_json(g_ptr_array_index(self->all, i)));
	if (!gw_peer_write_record(self->record_path, sessions, &error)) {
		g_printerr("gwmo-test-server: %s\n", error->message);
		self->exit_code = GW_PEER_EXIT_FAILED;
		return FALSE;
	}
	return TRUE;
}

static gboolean
gw_test_server_quit_cb(gpointer user_data)
{
	GwTestServer *self = user_data;
	self->quit_id = 0;
	g_main_loop_quit(self->loop);
	return G_SOURCE_REMOVE;
}

static void
gw_test_server_maybe_quit(GwTestServer *self)
{
	if (self->sessions <= 0 || self->n_done < (guint)self->sessions || self->quit_id != 0)
		return;
	if (self->notify_pending)
		return; /* gw_test_server_notify_cb() comes back here */
	g_message("%u sessions done, exiting", self->n_done);
	self->quit_id = g_timeout_add(GW_TEST_SERVER_QUIT_DELAY_MS, gw_test_server_quit_cb, self);
}

static gboolean
gw_test_server_notify(GwTestServer *self, GError **error);

/* the session ended (any state): log, record, count */
static void
gw_test_session_done(GwTestSession *s)
{
	GwTestServer *self = s->server;
	GwDmSessionStats stats;
	const gchar *error;

	if (s->done)
		return;
	s->done = TRUE;
	if (s->idle_id != 0) {
		g_source_remove(s->idle_id);
		s->idle_id = 0;
	}
	g_hash_table_remove(self->active, s->key);
	gw_dm_session_get_stats(s->session, &stats);
	error = gw_test_session_error(s);
	g_message("session %s from %s: %s%s%s (%u messages in, %u out)",
	          s->session_id,
	          s->peer,
	          gw_test_session_state(s),
	          error != NULL ? ": " : "",
	          error != NULL ? error : "",
	          stats.messages_in,
	          stats.messages_out);
	self->n_done++;
	gw_test_server_write_record(self);
	if (self->notify_url != NULL && self->notify_after > 0 &&
	    self->n_done == (guint)self->notify_after) {
		g_autoptr(GError) notify_error = NULL;
		if (!gw_test_server_notify(self, &notify_error)) {
			g_printerr("gwmo-test-server: %s\n", notify_error->message);
			self->exit_code = GW_PEER_EXIT_FAILED;
		}
	}
	gw_test_server_maybe_quit(self);
}

static gboolean
gw_test_session_idle_cb(gpointer user_data)
{
	GwTestSession *s = user_data;

	s->idle_id = 0;
	g_free(s->error);
	s->error =
	    g_strdup_printf("no message from the device for %d s", s->server->session_timeout);
	gw_test_session_done(s);
	return G_SOURCE_REMOVE;
}

static void
gw_test_session_touch(GwTestSession *s)
{
	if (s->server->session_timeout <= 0 || s->done)
		return;
	if (s->idle_id != 0)
		g_source_remove(s->idle_id);
	s->idle_id =
	    g_timeout_add_seconds((guint)s->server->session_timeout, gw_test_session_idle_cb, s);
}

static void
gw_test_session_nonce_cb(GwDmSession *session, gboolean local, GBytes *nonce, gpointer user_data)
{
	GwTestSession *s = user_data;
	GwTestNonces *n = gw_test_server_nonces(s->server, s->peer);
	GBytes **slot = local ? &n->local : &n->peer;

	g_clear_pointer(slot, g_bytes_unref);
	*slot = g_bytes_ref(nonce);
}

static void
gw_test_session_result_cb(GwDmSession *session, gpointer result, gpointer user_data)
{
	GwTestSession *s = user_data;
	GwDmSessionResult *r = result;
	const GwSyncmlCommand *cmd = r->command;
	g_autofree gchar *what = NULL;
	g_autofree gchar *data = NULL;

	if (gw_syncml_command_is_container(cmd)) {
		what = g_strdup_printf(
		    "%s (%u commands)", gw_syncml_command_get_name(cmd), cmd->children->len);
	} else if (cmd->type == GW_SYNCML_CMD_COPY) {
		const GwSyncmlItem *item =
		    cmd->items->len > 0 ? g_ptr_array_index(cmd->items, 0) : NULL;
		what = g_strdup_printf(
		    "Copy %s to %s",
		    item != NULL && item->source_uri != NULL ? item->source_uri : "(no source)",
		    item != NULL && item->target_uri != NULL ? item->target_uri : "(no uri)");
	} else {
		const GwSyncmlItem *item =
		    cmd->items->len > 0 ? g_ptr_array_index(cmd->items, 0) : NULL;
		g_autofree gchar *value = NULL;
		if (item != NULL && item->data != NULL)
			value = gw_peer_quote(item->data);
		what = g_strdup_printf("%s %s%s%s",
		                       gw_syncml_command_get_name(cmd),
		                       gw_peer_command_uri(cmd) != NULL ? gw_peer_command_uri(cmd)
		                                                        : "(no uri)",
		                       value != NULL ? " = " : "",
		                       value != NULL ? value : "");
	}
	if (r->results != NULL && r->results->len > 0) {
		const GwSyncmlItem *item = g_ptr_array_index(r->results, 0);
		g_autofree gchar *quoted = gw_peer_quote(item->data);
		data = r->results->len > 1
		           ? g_strdup_printf(" %s (+%u items)", quoted, r->results->len - 1)
		           : g_strdup_printf(" %s", quoted);
	}
	g_message("session %s from %s: %s -> %u%s",
	          s->session_id,
	          s->peer,
	          what,
	          r->status,
	          data != NULL ? data : "");
}

static void
gw_test_session_alert_cb(GwDmSession *session, gpointer alert, gpointer user_data)
{
	GwTestSession *s = user_data;
	const GwSyncmlCommand *cmd = alert;
	const GwSyncmlItem *item = cmd->items->len > 0 ? g_ptr_array_index(cmd->items, 0) : NULL;
	JsonObject *o = json_object_new();
	guint status = (guint)s->server->alert_status;
	g_autofree gchar *quoted = NULL;

	gw_peer_json_set_string(o, "type", item != NULL ? item->meta.type : NULL);
	gw_peer_json_set_string(o, "source", item != NULL ? item->source_uri : NULL);
	gw_peer_json_set_string(o, "target", item != NULL ? item->target_uri : NULL);
	gw_peer_json_set_string(o, "format", item != NULL ? item->meta.format : NULL);
	gw_peer_json_set_string(o, "mark", item != NULL ? item->meta.mark : NULL);
	gw_peer_json_set_string(o, "data", item != NULL ? item->data : NULL);
	gw_peer_json_set_string(o, "correlator", cmd->correlator);
	gw_peer_json_set_string(o, "emi", item != NULL ? item->meta.emi : NULL);
	json_object_set_int_member(o, "status", status);
	/* a resend of an alert accepted before: acknowledged, not accepted twice */
	if (item != NULL && item->meta.emi != NULL && status == GW_DM_STATUS_OK) {
		g_autofree gchar *key = g_strdup_printf("%s|%s", s->peer, item->meta.emi);
		gboolean dup = g_hash_table_contains(s->server->alert_ids, key);
		json_object_set_boolean_member(o, "duplicate", dup);
		if (dup) {
			s->server->duplicates++;
			g_message(
			    "session %s from %s: Generic Alert %s is a resend: suppressed (%u so "
			    "far)",
			    s->session_id,
			    s->peer,
			    item->meta.emi,
			    s->server->duplicates);
		} else {
			g_hash_table_add(s->server->alert_ids, g_steal_pointer(&key));
		}
	} else {
		json_object_set_boolean_member(o, "duplicate", FALSE);
	}
	g_ptr_array_add(s->generic_alerts, o);
	if (status != GW_DM_STATUS_OK)
		gw_dm_session_set_alert_status(session, status);
	quoted = gw_peer_quote(item != NULL ? item->data : NULL);
	g_message("session %s from %s: Generic Alert %s from %s %s -> %u",
	          s->session_id,
	          s->peer,
	          item != NULL && item->meta.type != NULL ? item->meta.type : "(no type)",
	          item != NULL && item->source_uri != NULL ? item->source_uri : "(no source)",
	          quoted,
	          status);
}

static GwTestSession *
gw_test_session_new(GwTestServer *self, const GwSyncmlMessage *pkg1, GError **error)
{
	g_autoptr(GPtrArray) cmds = NULL;
	GwDmSessionConfig cfg;
	GwTestSession *s;
	GwTestNonces *nonces;

	cmds = gw_test_script_session(self->script, self->all->len, error);
	if (cmds == NULL)
		return NULL;
	s = g_new0(GwTestSession, 1);
	s->server = self;
	s->index = self->all->len + 1;
	s->started_us = g_get_real_time();
	s->session_id = g_strdup(pkg1->hdr.session_id);
	s->peer = g_strdup(pkg1->hdr.source_uri);
	s->key = g_strdup_printf("%s|%s", s->session_id, s->peer);
	s->generic_alerts = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
	s->cred_statuses = g_array_new(FALSE, FALSE, sizeof(guint));
	for (guint i = 0; i < pkg1->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(pkg1->commands, i);
		if (cmd->type == GW_SYNCML_CMD_ALERT &&
		    (cmd->alert_code == GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT ||
		     cmd->alert_code == GW_SYNCML_ALERT_SERVER_INITIATED_MGMT)) {
			s->alert = cmd->alert_code;
			break;
		}
	}

	nonces = gw_test_server_nonces(self, s->peer);
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = GW_DM_SESSION_ROLE_SERVER;
	cfg.max_msg_size = (guint32)MAX(self->max_msg_size, 0);
	/* what we present (SRVCRED) */
	if (self->server_secret != NULL) {
		cfg.local.type = self->server_auth_type;
		cfg.local.name = g_strdup(self->server_name);
		cfg.local.secret = g_strdup(self->server_secret);
		cfg.local.nonce = nonces->local != NULL ? g_bytes_ref(nonces->local) : NULL;
	}
	/* what we require (CLCRED); no client name: the device's LocName */
	cfg.peer.type = self->auth_type;
	cfg.peer.name = g_strdup(self->client_name);
	cfg.peer.secret = g_strdup(self->client_secret);
	cfg.peer.nonce = nonces->peer != NULL ? g_bytes_ref(nonces->peer) : NULL;
	s->session = gw_dm_session_new(&cfg, NULL);
	gw_dm_session_config_clear(&cfg);

	g_signal_connect(s->session, "nonce-changed", G_CALLBACK(gw_test_session_nonce_cb), s);
	g_signal_connect(s->session, "result", G_CALLBACK(gw_test_session_result_cb), s);
	g_signal_connect(s->session, "generic-alert", G_CALLBACK(gw_test_session_alert_cb), s);
	for (guint i = 0; i < cmds->len; i++)
		gw_dm_session_queue_command(s->session,
		                            g_steal_pointer(&g_ptr_array_index(cmds, i)));
	g_message("session %s from %s: started (#%u, Alert %u, %u commands queued)",
	          s->session_id,
	          s->peer,
	          s->index,
	          s->alert,
	          cmds->len);
	g_ptr_array_add(self->all, s);
	g_hash_table_insert(self->active, s->key, s);
	return s;
}

/* our Status for the device's SyncHdr, until the device is authenticated */
static void
gw_test_session_note_auth(GwTestSession *s, GBytes *reply, guint32 msg_id)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	GwSyncmlCommand *status;

	if (s->auth_status == GW_DM_STATUS_AUTH_ACCEPTED || s->auth_status == GW_DM_STATUS_OK)
		return;
	msg = gw_peer_decode(reply, gw_dm_session_get_content_type(s->session), NULL);
	if (msg == NULL)
		return;
	status = gw_syncml_message_find_status(msg, msg_id, 0);
	if (status == NULL)
		return;
	s->auth_status = status->status_code;
	if (!gw_dm_status_is_success(status->status_code))
		g_message("session %s from %s: credentials refused -> %u",
		          s->session_id,
		          s->peer,
		          status->status_code);
	else if (status->status_code == GW_DM_STATUS_AUTH_ACCEPTED)
		g_message("session %s from %s: authenticated -> 212", s->session_id, s->peer);
}

/* the device's Status for our SyncHdr (our credentials: 212/200 accepted, 401/407 not), until
 * it first accepted them */
static void
gw_test_session_note_cred(GwTestSession *s, const GwSyncmlMessage *msg)
{
	guint n = s->cred_statuses->len;

	if (n > 0 && gw_dm_status_is_success(g_array_index(s->cred_statuses, guint, n - 1)))
		return;
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);
		if (cmd->type == GW_SYNCML_CMD_STATUS && cmd->cmd_ref == 0) {
			guint code = cmd->status_code;
			g_array_append_val(s->cred_statuses, code);
			return;
		}
	}
}

static void
gw_test_server_respond_text(GwHttpRequest *request, guint status, const gchar *text)
{
	g_autoptr(GBytes) body = g_bytes_new(text, strlen(text));
	gw_http_request_respond(request, status, "text/plain", body);
}

/* --tamper-from/--tamper-to: @reply with the first occurrence replaced, or NULL (no change);
 * only once per run, so the message the peer asks for again goes through unchanged */
static GBytes *
gw_test_server_tamper(GwTestServer *self, GBytes *reply)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(reply, &len);
	g_autofree gchar *text = g_strndup(data, len);
	const gchar *hit;
	GString *out;

	if (strlen(text) != len || (hit = strstr(text, self->tamper_from)) == NULL)
		return NULL; /* WBXML, or not in this message */
	self->tampered = TRUE;
	out = g_string_new_len(text, hit - text);
	g_string_append(out, self->tamper_to);
	g_string_append(out, hit + strlen(self->tamper_from));
	return g_string_free_to_bytes(out);
}

static void
gw_test_server_dm_cb(GwHttpServer *http, GwHttpRequest *request, gpointer user_data)
{
	GwTestServer *self = user_data;
	GBytes *body = gw_http_request_get_body(request);
	const gchar *ct = gw_http_request_get_content_type(request);
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *key = NULL;
	g_autofree gchar *hmac = NULL;
	GwTestSession *s;
	GwDmSessionState state;

	if (g_strcmp0(gw_http_request_get_method(request), "POST") != 0) {
		gw_test_server_respond_text(request, 405, "POST only\n");
		return;
	}
	msg = gw_peer_decode(body, ct, &error);
	if (msg == NULL) {
		g_message("POST /dm from %s: not a SyncML DM message: %s",
		          gw_http_request_get_remote_host(request),
		          error->message);
		gw_test_server_respond_text(request, 400, "not a SyncML DM message\n");
		return;
	}
	key = g_strdup_printf("%s|%s", msg->hdr.session_id, msg->hdr.source_uri);
	s = g_hash_table_lookup(self->active, key);
	if (s == NULL) {
		s = gw_test_session_new(self, msg, &error);
		if (s == NULL) {
			g_message("POST /dm: %s", error->message);
			gw_test_server_respond_text(request, 500, "script error\n");
			return;
		}
	}
	g_free(s->content_type);
	s->content_type = g_strdup(ct);
	gw_test_session_note_cred(s, msg);
	reply = gw_dm_session_receive(s->session,
	                              body,
	                              ct,
	                              gw_http_request_get_header(request, GW_DM_AUTH_HMAC_HEADER),
	                              &error);
	if (reply == NULL) {
		g_autofree gchar *text = g_strdup_printf("%s\n", error->message);
		g_message("session %s from %s: message %u refused: %s",
		          s->session_id,
		          s->peer,
		          msg->hdr.msg_id,
		          error->message);
		gw_test_server_respond_text(request, 400, text);
	} else {
		gw_test_session_note_auth(s, reply, msg->hdr.msg_id);
		hmac = gw_dm_session_get_hmac_header(s->session, reply);
		if (hmac != NULL)
			gw_http_request_set_header(request, GW_DM_AUTH_HMAC_HEADER, hmac);
		if (self->tamper_from != NULL && !self->tampered) {
			GBytes *changed = gw_test_server_tamper(self, reply);
			if (changed != NULL) {
				g_message(
				    "session %s from %s: reply to message %u altered after its "
				    "MAC was computed (\"%s\" -> \"%s\")",
				    s->session_id,
				    s->peer,
				    msg->hdr.msg_id,
				    self->tamper_from,
				    self->tamper_to);
				g_bytes_unref(reply);
				reply = changed;
			}
		}
		gw_http_request_respond(
		    request, 200, gw_dm_session_get_content_type(s->session), reply);
	}
	state = gw_dm_session_get_state(s->session);
	if (state == GW_DM_SESSION_STATE_FINISHED || state == GW_DM_SESSION_STATE_FAILED)
		gw_test_session_done(s);
	else
		gw_test_session_touch(s);
}

/* ---- Package #0 ---- */

static void
gw_test_server_notify_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
gw_test_server_notify_post(GwTestServer *self)
{
	const gchar *headers[3] = {NULL, NULL, NULL};

	headers[0] = self->notify_target != NULL ? "X-GwMO-Target" : NULL;
	headers[1] = self->notify_target;
	gw_http_client_post_async(self->notifier,
	                          self->notify_url,
	                          GW_PKG0_CONTENT_TYPE,
	                          self->notify_body,
	                          headers,
	                          self->cancellable,
	                          gw_test_server_notify_cb,
	                          self);
}

static gboolean
gw_test_server_notify_again_cb(gpointer user_data)
{
	gw_test_server_notify_post(user_data);
	return G_SOURCE_REMOVE;
}

static void
gw_test_server_notify_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwTestServer *self = user_data;
	g_autoptr(GwHttpResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (response != NULL && response->status == 503 &&
	    self->notify_busy++ < GW_TEST_SERVER_NOTIFY_RETRIES) {
		/* the receiver is busy with a session (with us): the same notification again */
		g_message("notification to %s answered 503, again in %u ms",
		          self->notify_url,
		          (guint)GW_TEST_SERVER_NOTIFY_RETRY_MS);
		g_timeout_add(GW_TEST_SERVER_NOTIFY_RETRY_MS, gw_test_server_notify_again_cb, self);
		return;
	}
	self->notify_pending = FALSE;
	if (response == NULL) {
		g_printerr("gwmo-test-server: notification to %s failed: %s\n",
		           self->notify_url,
		           error->message);
		g_print("notified 0\n");
	} else {
		g_message("notification to %s answered %u", self->notify_url, response->status);
		g_print("notified %u\n", response->status);
	}
	fflush(stdout);
	gw_test_server_maybe_quit(self);
}

static gboolean
gw_test_server_notify(GwTestServer *self, GError **error)
{
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	g_autoptr(GBytes) nonce = NULL;
	g_autoptr(GBytes) pkg0 = NULL;
	g_autofree gchar *sid = NULL;
	const guint8 *nonce_data = NULL;
	const gchar *what = NULL;
	gsize nonce_len = 0;
	guint64 session_id;

	if (self->notify_session != NULL) {
		gchar *end = NULL;
		session_id = g_ascii_strtoull(self->notify_session, &end, 16);
		if (end == self->notify_session || *end != '\0' || session_id == 0 ||
		    session_id > 0xFFFF) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "--notify-session '%s': 1 to 4 hex digits, not 0",
			            self->notify_session);
			return FALSE;
		}
	} else {
		session_id = (guint64)g_random_int_range(1, 0x10000);
	}
	if (self->notify_nonce != NULL) {
		nonce = gw_peer_parse_nonce(self->notify_nonce, error);
		if (nonce == NULL)
			return FALSE;
		nonce_data = g_bytes_get_data(nonce, &nonce_len);
		what = "--notify-nonce";
	} else {
		/* as a DM Server signs it: with the NextNonce the peer (the --notify-target device,
		 * else the one of the last session) gave us, or the all-zero nonce */
		GwTestSession *last =
		    self->all->len > 0 ? g_ptr_array_index(self->all, self->all->len - 1) : NULL;
		const gchar *peer = self->notify_target != NULL ? self->notify_target
		                    : last != NULL              ? last->peer
		                                                : NULL;
		GwTestNonces *known = peer != NULL ? g_hash_table_lookup(self->nonces, peer) : NULL;
		if (known != NULL && known->local != NULL && g_bytes_get_size(known->local) > 0) {
			nonce = g_bytes_ref(known->local);
			nonce_data = g_bytes_get_data(nonce, &nonce_len);
			what = "the peer's NextNonce";
		} else {
			nonce_data = gw_pkg0_zero_nonce;
			nonce_len = GW_PKG0_ZERO_NONCE_LEN;
			what = "the all-zero nonce";
		}
	}
	n->version = GW_PKG0_VERSION_DEFAULT;
	n->ui_mode = GW_PKG0_UI_MODE_BACKGROUND;
	n->server_initiated = TRUE;
	n->session_id = (guint16)session_id;
	n->server_id = g_strdup(self->server_id);
	pkg0 = gw_pkg0_build(n, self->notify_secret, nonce_data, nonce_len);
	if (pkg0 == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "cannot build a Package #0 for server id '%s'",
		            self->server_id);
		return FALSE;
	}
	if (self->notify_forge) {
		gsize len = 0;
		const guint8 *raw = g_bytes_get_data(pkg0, &len);
		g_autofree guint8 *copy = g_memdup2(raw, len);
		copy[0] ^= 0x01; /* one bit of the digest */
		g_bytes_unref(pkg0);
		pkg0 = g_bytes_new_take(g_steal_pointer(&copy), len);
	}
	self->notifier = gw_http_client_new(self->ca_file, error);
	if (self->notifier == NULL)
		return FALSE;
	sid = gw_pkg0_session_id_to_string((guint16)session_id);
	g_message("notifying %s (session %s, %s%s)",
	          self->notify_url,
	          sid,
	          what,
	          self->notify_forge ? ", forged digest" : "");
	self->notify_pending = TRUE;
	g_clear_pointer(&self->notify_body, g_bytes_unref);
	self->notify_body = g_steal_pointer(&pkg0);
	gw_test_server_notify_post(self);
	return TRUE;
}

/* ---- listening ---- */

static gboolean
gw_test_server_identity(GwTestServer *self, GTlsCertificate **identity, GError **error)
{
	g_autofree gchar *key_path = NULL;

	if (self->cert != NULL) {
		*identity =
		    gw_crypto_load_or_create(self->cert, self->key, "gwmo-test-server", error);
		self->cert_path = g_strdup(self->cert);
		return *identity != NULL;
	}
	self->tmp_dir = g_dir_make_tmp("gwmo-test-server-XXXXXX", error);
	if (self->tmp_dir == NULL)
		return FALSE;
	self->cert_path = g_build_filename(self->tmp_dir, "cert.pem", NULL);
	key_path = g_build_filename(self->tmp_dir, "key.pem", NULL);
	*identity = gw_crypto_load_or_create(self->cert_path, key_path, "gwmo-test-server", error);
	return *identity != NULL;
}

static gboolean
gw_test_server_listen(GwTestServer *self, GError **error)
{
	g_autoptr(GTlsCertificate) identity = NULL;
	g_autoptr(GUri) uri = g_uri_parse(self->listen, G_URI_FLAGS_NONE, error);
	g_autofree gchar *ready = NULL;
	const gchar *host;
	gboolean https;
	guint16 port;

	if (uri == NULL) {
		g_prefix_error(error, "--listen %s: ", self->listen);
		return FALSE;
	}
	https = g_strcmp0(g_uri_get_scheme(uri), "https") == 0;
	if (https && !gw_test_server_identity(self, &identity, error))
		return FALSE;
	self->http = gw_http_server_new(identity);
	{
		/* a test peer waits for its client: gwmod's first TLS handshake in a sanitizer
		 * build (slow unwinding on every malloc) under load takes seconds, past the 3 s
		 * a production server gives a ClientHello */
		GwHttpServerLimits limits = {0};
		limits.hello_ms = 30000;
		limits.handshake_ms = 30000;
		gw_http_server_set_limits(self->http, &limits);
	}
	gw_http_server_add_handler(self->http, "/dm", gw_test_server_dm_cb, self, NULL);
	if (!gw_http_server_listen(self->http, self->listen, error))
		return FALSE;
	port = gw_http_server_get_port(self->http, https);
	host = g_uri_get_host(uri);
	self->dm_url = g_strdup_printf("%s://%s%s%s:%u/dm",
	                               https ? "https" : "http",
	                               strchr(host, ':') != NULL ? "[" : "",
	                               host,
	                               strchr(host, ':') != NULL ? "]" : "",
	                               port);
	g_print("listening %s\n", self->dm_url);
	fflush(stdout);
	g_message("listening on %s (server id %s, client auth %s)",
	          self->dm_url,
	          self->server_id,
	          gw_peer_auth_type_to_string(self->auth_type));
	if (self->ready_file == NULL)
		return TRUE;
	ready = self->cert_path != NULL
	            ? g_strdup_printf("%s\ncert %s\n", self->dm_url, self->cert_path)
	            : g_strdup_printf("%s\n", self->dm_url);
	if (!g_file_set_contents(self->ready_file, ready, -1, error)) {
		g_prefix_error(error, "--ready-file %s: ", self->ready_file);
		return FALSE;
	}
	return TRUE;
}

static gboolean
gw_test_server_signal_cb(gpointer user_data)
{
	GwTestServer *self = user_data;
	g_message("stopping on signal");
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
gw_test_server_check_options(GwTestServer *self, GError **error)
{
	if (self->listen == NULL || self->server_id == NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--listen and --server-id are required");
		return FALSE;
	}
	if ((self->cert == NULL) != (self->key == NULL)) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--cert and --key go together");
		return FALSE;
	}
	if (!gw_peer_parse_auth_type(self->auth, &self->auth_type, error))
		return FALSE;
	if (self->server_auth != NULL) {
		if (!gw_peer_parse_auth_type(self->server_auth, &self->server_auth_type, error))
			return FALSE;
	} else {
		self->server_auth_type = self->auth_type;
	}
	if (self->auth_type != GW_DM_AUTH_TYPE_NONE && self->client_secret == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "--auth %s needs --client-secret",
		            self->auth);
		return FALSE;
	}
	if (self->server_secret != NULL && self->server_auth_type == GW_DM_AUTH_TYPE_NONE) {
		g_set_error_literal(
		    error,
		    GW_ERROR,
		    GW_ERROR_INVALID_ARGS,
		    "--server-secret needs --auth or --server-auth other than none");
		return FALSE;
	}
	if (self->server_name == NULL)
		self->server_name = g_strdup(self->server_id);
	if (self->notify_url != NULL && self->notify_secret == NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--notify needs --notify-secret");
		return FALSE;
	}
	if (self->notify_after < 0 || (self->notify_after > 0 && self->notify_url == NULL)) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--notify-after needs --notify and is not negative");
		return FALSE;
	}
	if (self->sessions < 0 || self->max_msg_size < 0 || self->alert_status < 100 ||
	    self->alert_status > 599) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--sessions and --max-msg-size must not be negative, "
		                    "--alert-status is a SyncML status (100..599)");
		return FALSE;
	}
	if (self->tamper_to != NULL && self->tamper_from == NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--tamper-to needs --tamper-from");
		return FALSE;
	}
	if (self->tamper_from != NULL && self->tamper_from[0] == '\0') {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--tamper-from must not be empty");
		return FALSE;
	}
	if (self->tamper_from != NULL && self->tamper_to == NULL)
		self->tamper_to = g_strnfill(strlen(self->tamper_from), 'X');
	if (self->script_path != NULL) {
		self->script = gw_test_script_load(self->script_path, error);
		if (self->script == NULL) {
			g_prefix_error(error, "script %s: ", self->script_path);
			return FALSE;
		}
	}
	return TRUE;
}

static void
gw_test_server_rmdir(const gchar *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const gchar *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree gchar *path = g_build_filename(dir, name, NULL);
		g_unlink(path);
	}
	g_rmdir(dir);
}

static void
gw_test_server_free(GwTestServer *self)
{
	if (self->quit_id != 0)
		g_source_remove(self->quit_id);
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	/* sessions first: their idle sources point at them */
	g_clear_pointer(&self->active, g_hash_table_unref);
	g_clear_pointer(&self->all, g_ptr_array_unref);
	g_clear_pointer(&self->nonces, g_hash_table_unref);
	g_clear_pointer(&self->alert_ids, g_hash_table_unref);
	g_clear_object(&self->http);
	g_clear_object(&self->notifier);
	g_clear_object(&self->cancellable);
	g_clear_pointer(&self->script, json_node_unref);
	g_clear_pointer(&self->loop, g_main_loop_unref);
	if (self->tmp_dir != NULL)
		gw_test_server_rmdir(self->tmp_dir);
	g_free(self->tmp_dir);
	g_free(self->cert_path);
	g_free(self->dm_url);
	g_free(self->listen);
	g_free(self->cert);
	g_free(self->key);
	g_free(self->server_id);
	g_free(self->server_name);
	g_free(self->server_secret);
	g_free(self->client_name);
	g_free(self->client_secret);
	g_free(self->auth);
	g_free(self->server_auth);
	g_free(self->script_path);
	g_free(self->record_path);
	g_free(self->notify_url);
	g_clear_pointer(&self->notify_body, g_bytes_unref);
	g_free(self->notify_secret);
	g_free(self->notify_session);
	g_free(self->notify_nonce);
	g_free(self->notify_target);
	g_free(self->ca_file);
	g_free(self->tamper_from);
	g_free(self->tamper_to);
	g_free(self->ready_file);
	g_free(self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwTestServer, gw_test_server_free)

int
main(int argc, char **argv)
{
	g_autoptr(GwTestServer) self = g_new0(GwTestServer, 1);
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	gboolean verbose = FALSE;
	guint sigterm_id;
	guint sigint_id;
	/* clang-format off */
	const GOptionEntry entries[] = {
	    {"listen", 'l', 0, G_OPTION_ARG_STRING, &self->listen,
	     "Listen URI, e.g. https://127.0.0.1:0 (port 0 picks one)", "URI"},
	    {"cert", 0, 0, G_OPTION_ARG_FILENAME, &self->cert,
	     "TLS certificate (PEM; made when missing); default: a self-signed one in a temporary "
	     "directory", "FILE"},
	    {"key", 0, 0, G_OPTION_ARG_FILENAME, &self->key, "TLS private key (PEM)", "FILE"},
	    {"server-id", 0, 0, G_OPTION_ARG_STRING, &self->server_id,
	     "ServerID (Package #0, default server name)", "ID"},
	    {"server-name", 0, 0, G_OPTION_ARG_STRING, &self->server_name,
	     "Name the server presents (SRVCRED AAuthName; default the server id)", "NAME"},
	    {"server-secret", 0, 0, G_OPTION_ARG_STRING, &self->server_secret,
	     "Secret the server presents (SRVCRED AAuthSecret); none: no server credentials",
	     "SECRET"},
	    {"client-name", 0, 0, G_OPTION_ARG_STRING, &self->client_name,
	     "Name required from the device (default: whatever LocName it sends)", "NAME"},
	    {"client-secret", 0, 0, G_OPTION_ARG_STRING, &self->client_secret,
	     "Secret required from the device (CLCRED)", "SECRET"},
	    {"auth", 0, 0, G_OPTION_ARG_STRING, &self->auth,
	     "Authentication required from the device: none, basic, md5, hmac (default none)",
	     "TYPE"},
	    {"server-auth", 0, 0, G_OPTION_ARG_STRING, &self->server_auth,
	     "Type of the server's own credentials (default: as --auth)", "TYPE"},
	    {"script", 0, 0, G_OPTION_ARG_FILENAME, &self->script_path,
	     "JSON script of the commands to send, per session", "FILE"},
	    {"record", 0, 0, G_OPTION_ARG_FILENAME, &self->record_path,
	     "JSON record of the sessions, rewritten after each one and on exit", "FILE"},
	    {"sessions", 'n', 0, G_OPTION_ARG_INT, &self->sessions,
	     "Exit after N sessions ended (any state); 0: run until SIGTERM/SIGINT", "N"},
	    {"session-timeout", 0, 0, G_OPTION_ARG_INT, &self->session_timeout,
	     "A session without a message for this long fails (default 60, 0 = never)", "SECONDS"},
	    {"alert-status", 0, 0, G_OPTION_ARG_INT, &self->alert_status,
	     "Status to answer Generic Alerts with (default 200)", "STATUS"},
	    {"notify", 0, 0, G_OPTION_ARG_STRING, &self->notify_url,
	     "Send one Package #0 to this URL once listening", "URL"},
	    {"notify-secret", 0, 0, G_OPTION_ARG_STRING, &self->notify_secret,
	     "Password of the Package #0 digest", "SECRET"},
	    {"notify-session", 0, 0, G_OPTION_ARG_STRING, &self->notify_session,
	     "Session id of the Package #0 (hex; default random)", "HEX"},
	    {"notify-nonce", 0, 0, G_OPTION_ARG_STRING, &self->notify_nonce,
	     "Nonce of the Package #0 digest (text, or hex:…; default: the NextNonce the peer gave "
	     "the server last, else the all-zero nonce)", "NONCE"},
	    {"notify-after", 0, 0, G_OPTION_ARG_INT, &self->notify_after,
	     "Send the --notify Package #0 once N sessions ended instead of at start", "N"},
	    {"notify-target", 0, 0, G_OPTION_ARG_STRING, &self->notify_target,
	     "Send the Package #0 with X-GwMO-Target: DEVICEID, for the gateway to forward to that "
	     "Transparent device", "DEVICEID"},
	    {"notify-forge", 0, 0, G_OPTION_ARG_NONE, &self->notify_forge,
	     "Flip one bit of the Package #0 digest", NULL},
	    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &self->ca_file,
	     "CA bundle to trust for --notify over https", "FILE"},
	    {"tamper-from", 0, 0, G_OPTION_ARG_STRING, &self->tamper_from,
	     "Change the first reply holding TEXT after its x-syncml-hmac was computed (a "
	     "message altered in transit; once per run, XML only)", "TEXT"},
	    {"tamper-to", 0, 0, G_OPTION_ARG_STRING, &self->tamper_to,
	     "What --tamper-from's TEXT becomes (default: the same length of 'X')", "TEXT"},
	    {"max-msg-size", 0, 0, G_OPTION_ARG_INT, &self->max_msg_size,
	     "MaxMsgSize to announce (default 16384)", "N"},
	    {"wbxml", 0, 0, G_OPTION_ARG_NONE, &self->wbxml,
	     "Accepted for compatibility: replies always use the device's encoding", NULL},
	    {"ready-file", 0, 0, G_OPTION_ARG_FILENAME, &self->ready_file,
	     "Once listening write the DM URL (and \"cert PATH\") to this file", "FILE"},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log the session engine's informational messages too", NULL},
	    {NULL}};
	/* clang-format on */

	/* the OMA DM 2.0 mode (REST/JSON): its own options, gw-test-server-dm2.c */
	for (gint i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--dm2") == 0)
			return gw_test_server_dm2_main(argc, argv);
	}
	self->session_timeout = 60;
	self->alert_status = GW_DM_STATUS_OK;
	context = g_option_context_new("- OMA DM Server for gwmo tests");
	g_option_context_set_summary(
	    context,
	    "Serves SyncML DM on POST /dm, sends the commands of --script and writes --record.\n"
	    "Prints \"listening URL\" once listening and \"notified STATUS\" after --notify.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("gwmo-test-server: %s\n", error->message);
		return GW_PEER_EXIT_USAGE;
	}
	if (!gw_test_server_check_options(self, &error)) {
		g_printerr("gwmo-test-server: %s\n", error->message);
		return GW_PEER_EXIT_USAGE;
	}
	gw_log_setup(verbose, NULL);

	self->loop = g_main_loop_new(NULL, FALSE);
	self->cancellable = g_cancellable_new();
	self->all = g_ptr_array_new_with_free_func(gw_test_session_free);
	self->active = g_hash_table_new(g_str_hash, g_str_equal);
	self->nonces = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_test_nonces_free);
	self->alert_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (!gw_test_server_listen(self, &error)) {
		g_printerr("gwmo-test-server: %s\n", error->message);
		return GW_PEER_EXIT_FAILED;
	}
	if (self->notify_url != NULL && self->notify_after == 0 &&
	    !gw_test_server_notify(self, &error)) {
		g_printerr("gwmo-test-server: %s\n", error->message);
		return GW_PEER_EXIT_USAGE;
	}
	sigterm_id = g_unix_signal_add(SIGTERM, gw_test_server_signal_cb, self);
	sigint_id = g_unix_signal_add(SIGINT, gw_test_server_signal_cb, self);
	g_main_loop_run(self->loop);
	g_source_remove(sigterm_id);
	g_source_remove(sigint_id);

	/* sessions still running are recorded as failed */
	for (guint i = 0; i < self->all->len; i++) {
		GwTestSession *s = g_ptr_array_index(self->all, i);
		if (!s->done && s->error == NULL)
			s->error = g_strdup("the server stopped before the session ended");
	}
	gw_test_server_write_record(self);
	return self->exit_code;
}
