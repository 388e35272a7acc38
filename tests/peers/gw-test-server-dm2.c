/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmo-test-server --dm2: the reference DM Server in its OMA DM 2.0 (REST/JSON) mode, written
 * from the seed 003 call flows and ../shared/spec/OMA-DM.md §1.3 through the codec
 * (gw-dm2.h) only — never from the gateway's session code.
 *
 *   POST /dm   Package #1 (application/vnd.oma.dm.initiation+json) starts a session for its
 *              OMADM-DevID; Package #3 (…response+json) continues it. Each is answered 200
 *              with a Package #2 (…request+json): the script's next package, and a last
 *              [["END"]] (no Package #3 follows it). With --client-name/--client-secret the
 *              request must carry that HTTP Basic Authorization (else 401).
 *   --auth=digest   the same name/secret, by RFC 7616 HTTP Digest (libsoup's
 *              SoupAuthDomainDigest) on /dm and /files/ instead of Basic.
 *   --client-cert-sha256=<hex>   every request must come over TLS (--listen=https://…,
 *              --tls-cert/--tls-key) from a client presenting a certificate whose DER bytes
 *              have that SHA-256 (else 403, nothing runs).
 *              With either option a front libsoup SoupServer does the check (RFC 7616,
 *              RFC 8446 CertificateRequest) and forwards what passes to the server above on a
 *              private 127.0.0.1 port.
 *   /files/…   the targets of HGET (GET answers the script's "files" content, 404 if none)
 *              and HPUT/HPOST (the body is recorded, answered 204).
 *
 * Script (--script): {"files": {"/files/x": "content", …},
 *                     "sessions": [{"packages": [[cmd, …], …]} | {"raw": "text"}, …]}
 * a cmd is a DM 2.0 command array (["HGET", ServerURI, ClientURI], …) in which "{base}" is
 * replaced by this server's base URL; "raw" is sent verbatim as the Package #2 (malformed
 * input for the gateway). Session N uses entry N, the last one repeating.
 *
 * Generic Alerts are deduplicated by the identity gwmod names for each in the Package #1 header
 * X-GwMO-Alert-ID (gw-dm2.h): an alert with an identity this server accepted before from the
 * same OMADM-DevID (in any session of its lifetime) is recorded with "duplicate": true (a
 * resend it suppressed); each recorded alert has "identity" (or null) and "duplicate". A
 * malformed header is answered 400.
 *
 * Record (--record): {"sessions": [{"index", "dev_id", "authorized", "alerts": [alert…],
 * "mos": [MOID…], "statuses": [[status…] per Package #3], "transfers": [{"method", "path",
 * "body"}…], "state": "finished"|"failed", "error"}]}; each status {"sc", "URI"?, "Data"?}.
 */

#define G_LOG_DOMAIN "GwTestServer"

#include "config.h"

#include <glib-unix.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#include "gw-dm2-pkg0.h"
#include "gw-dm2-session.h"
#include "gw-dm2.h"
#include "gw-error.h"
#include "gw-http-client.h"
#include "gw-http-server.h"
#include "gw-log-private.h"
#include "gw-peer-common.h"

#define GW_TEST_DM2_QUIT_DELAY_MS 200

typedef struct {
	guint index;
	gchar *dev_id;
	gboolean authorized;
	JsonArray *alerts;
	JsonArray *mos;
	JsonArray *statuses;
	JsonArray *transfers;
	guint next_package; /* of the script entry */
	gboolean done;
	gchar *state;
	gchar *error;
} GwTestDm2Session;

typedef struct {
	gchar *listen;
	gchar *server_id;
	gchar *script_path;
	gchar *record_path;
	gchar *client_name;
	gchar *client_secret;
	gchar *ready_file;
	gchar *notify_url;
	gchar *notify_secret;
	gchar *notify_auth_data; /* the digest's auth data (DMAcc 2.0 Auth/Noti/Data), nullable */
	gchar *ca_file;
	gint notify_id;
	gint sessions;
	gboolean verbose;

	JsonNode *script;
	gchar *base_url;
	GwHttpServer *http;
	GMainLoop *loop;
	GPtrArray *all;           /* GwTestDm2Session * */
	GwTestDm2Session *active; /* the running session, or NULL */
	GHashTable *alert_ids;    /* dev_id "|" identity of every Generic Alert accepted */
	guint duplicates;
	guint n_done;
	guint quit_id;
	gint exit_code;
	GwHttpClient *client;
	/* the authenticating front (--auth=digest, --client-cert-sha256) */
	gchar *auth;
	gchar *client_cert_sha256;
	gchar *tls_cert;
	gchar *tls_key;
	SoupServer *front;
	SoupSession *forward;
	gchar *backend_url;
} GwTestDm2Server;

static void
gw_test_dm2_session_free(gpointer data)
{
	GwTestDm2Session *s = data;

	g_free(s->dev_id);
	json_array_unref(s->alerts);
	json_array_unref(s->mos);
	json_array_unref(s->statuses);
	json_array_unref(s->transfers);
	g_free(s->state);
	g_free(s->error);
	g_free(s);
}

static gboolean
gw_test_dm2_write_record(GwTestDm2Server *self)
{
	g_autoptr(JsonArray) sessions = json_array_new();
	g_autoptr(GError) error = NULL;

	if (self->record_path == NULL)
		return TRUE;
	for (guint i = 0; i < self->all->len; i++) {
		GwTestDm2Session *s = g_ptr_array_index(self->all, i);
		JsonObject *o = json_object_new();

		json_object_set_int_member(o, "index", s->index);
		gw_peer_json_set_string(o, "dev_id", s->dev_id);
		json_object_set_boolean_member(o, "authorized", s->authorized);
		json_object_set_array_member(o, "alerts", json_array_ref(s->alerts));
		json_object_set_array_member(o, "mos", json_array_ref(s->mos));
		json_object_set_array_member(o, "statuses", json_array_ref(s->statuses));
		json_object_set_array_member(o, "transfers", json_array_ref(s->transfers));
		gw_peer_json_set_string(o, "state", s->state != NULL ? s->state : "active");
		gw_peer_json_set_string(o, "error", s->error);
		json_array_add_object_element(sessions, o);
	}
	if (!gw_peer_write_record(self->record_path, sessions, &error)) {
		g_printerr("gwmo-test-server: %s\n", error->message);
		self->exit_code = GW_PEER_EXIT_FAILED;
		return FALSE;
	}
	return TRUE;
}

static gboolean
gw_test_dm2_quit_cb(gpointer user_data)
{
	GwTestDm2Server *self = user_data;

	self->quit_id = 0;
	g_main_loop_quit(self->loop);
	return G_SOURCE_REMOVE;
}

static void
gw_test_dm2_session_done(GwTestDm2Server *self,
                         GwTestDm2Session *s,
                         const gchar *state,
                         const gchar *error)
{
	if (s->done)
		return;
	s->done = TRUE;
	g_free(s->state);
	s->state = g_strdup(state);
	g_free(s->error);
	s->error = g_strdup(error);
	if (self->active == s)
		self->active = NULL;
	self->n_done++;
	g_message("DM 2.0 session %u with %s %s%s%s",
	          s->index,
	          s->dev_id,
	          state,
	          error != NULL ? ": " : "",
	          error != NULL ? error : "");
	gw_test_dm2_write_record(self);
	if (self->sessions > 0 && self->n_done >= (guint)self->sessions && self->quit_id == 0)
		self->quit_id = g_timeout_add(GW_TEST_DM2_QUIT_DELAY_MS, gw_test_dm2_quit_cb, self);
}

static void
gw_test_dm2_respond_text(GwHttpRequest *request, guint status, const gchar *text)
{
	g_autoptr(GBytes) body = g_bytes_new(text, strlen(text));
	gw_http_request_respond(request, status, "text/plain", body);
}

/* the script entry of session @index (0-based), the last one repeating; NULL when none */
static JsonObject *
gw_test_dm2_script_entry(GwTestDm2Server *self, guint index)
{
	JsonObject *root;
	JsonArray *sessions;
	guint n;

	if (self->script == NULL)
		return NULL;
	root = json_node_get_object(self->script);
	if (!json_object_has_member(root, "sessions"))
		return NULL;
	sessions = json_object_get_array_member(root, "sessions");
	n = json_array_get_length(sessions);
	if (n == 0)
		return NULL;
	return json_array_get_object_element(sessions, MIN(index, n - 1));
}

static gchar *
gw_test_dm2_expand(GwTestDm2Server *self, const gchar *text)
{
	g_auto(GStrv) parts = g_strsplit(text, "{base}", -1);
	return g_strjoinv(self->base_url, parts);
}

/* the next Package #2 of @s: the script's next package, then [["END"]] */
static GBytes *
gw_test_dm2_next_package(GwTestDm2Server *self, GwTestDm2Session *s, gboolean *is_end)
{
	JsonObject *entry = gw_test_dm2_script_entry(self, s->index - 1);
	JsonArray *packages = NULL;
	g_autoptr(GwDm2Message) msg = gw_dm2_message_new(GW_DM2_PACKAGE_REQUEST);
	g_autoptr(GError) error = NULL;
	GBytes *bytes;

	*is_end = FALSE;
	if (entry != NULL && json_object_has_member(entry, "raw") && s->next_package == 0) {
		s->next_package++;
		return g_bytes_new(json_object_get_string_member(entry, "raw"),
		                   strlen(json_object_get_string_member(entry, "raw")));
	}
	if (entry != NULL && json_object_has_member(entry, "packages"))
		packages = json_object_get_array_member(entry, "packages");
	if (packages != NULL && s->next_package < json_array_get_length(packages)) {
		JsonArray *cmds = json_array_get_array_element(packages, s->next_package);

		for (guint i = 0; i < json_array_get_length(cmds); i++) {
			JsonArray *args = json_array_get_array_element(cmds, i);
			GwDm2CmdType type;
			GwDm2Command *cmd;
			g_autofree gchar *a1 = NULL;
			g_autofree gchar *a2 = NULL;

			if (!gw_dm2_cmd_type_from_string(json_array_get_string_element(args, 0),
			                                 &type)) {
				g_warning("script: unknown DM 2.0 command %s: skipped",
				          json_array_get_string_element(args, 0));
				continue;
			}
			cmd = gw_dm2_command_new(type, NULL, NULL);
			/* the argument order of gw-dm2.h */
			for (guint j = 1; j < json_array_get_length(args); j++) {
				g_autofree gchar *arg = gw_test_dm2_expand(
				    self, json_array_get_string_element(args, j));
				gboolean server_first =
				    type == GW_DM2_CMD_HGET || type == GW_DM2_CMD_HPUT ||
				    type == GW_DM2_CMD_HPOST || type == GW_DM2_CMD_SHOW ||
				    type == GW_DM2_CMD_CONT;

				if (type == GW_DM2_CMD_DEFAULT && j == 1)
					cmd->moid = g_steal_pointer(&arg);
				else if ((server_first && j == 1) ||
				         ((type == GW_DM2_CMD_EXEC || type == GW_DM2_CMD_SUB ||
				           type == GW_DM2_CMD_DEFAULT) &&
				          j == 2))
					cmd->server_uri = g_steal_pointer(&arg);
				else
					gw_dm2_command_add_client_uri(cmd, arg);
			}
			gw_dm2_message_add_command(msg, cmd);
		}
		s->next_package++;
	} else {
		gw_dm2_message_add_command(msg, gw_dm2_command_new(GW_DM2_CMD_END, NULL, NULL));
	}
	*is_end = gw_dm2_message_has_end(msg);
	bytes = gw_dm2_message_to_json(msg, &error);
	if (bytes == NULL) {
		/* a script mistake: the session ends here */
		g_warning("script: %s: sending END", error->message);
		*is_end = TRUE;
		return g_bytes_new_static("{\"CMD\":[[\"END\"]]}", 16);
	}
	return bytes;
}

static JsonObject *
gw_test_dm2_alert_to_json(const GwDm2Alert *a)
{
	JsonObject *o = json_object_new();

	json_object_set_string_member(o, "AlertType", a->alert_type);
	gw_peer_json_set_string(o, "SourceURI", a->source_uri);
	gw_peer_json_set_string(o, "TargetURI", a->target_uri);
	gw_peer_json_set_string(o, "Mark", a->mark);
	gw_peer_json_set_string(o, "DataType", a->data_type);
	if (a->data != NULL)
		json_object_set_member(o, "Data", json_node_copy(a->data));
	else
		json_object_set_null_member(o, "Data");
	return o;
}

static gboolean
gw_test_dm2_authorized(GwTestDm2Server *self, GwHttpRequest *request)
{
	const gchar *auth = gw_http_request_get_header(request, "Authorization");
	g_autofree gchar *pair = NULL;
	g_autofree gchar *b64 = NULL;
	g_autofree gchar *expected = NULL;

	if (self->client_name == NULL || self->front != NULL)
		return TRUE; /* no credentials required, or the front checked them */
	pair = g_strconcat(self->client_name, ":", self->client_secret, NULL);
	b64 = g_base64_encode((const guchar *)pair, strlen(pair));
	expected = g_strconcat("Basic ", b64, NULL);
	return g_strcmp0(auth, expected) == 0;
}

static void
gw_test_dm2_dm_cb(GwHttpServer *http, GwHttpRequest *request, gpointer user_data)
{
	GwTestDm2Server *self = user_data;
	GBytes *body = gw_http_request_get_body(request);
	GwDm2Package package =
	    gw_dm2_package_from_content_type(gw_http_request_get_content_type(request));
	const gchar *dev_id = gw_http_request_get_header(request, GW_DM2_HEADER_DEVID);
	g_autoptr(GwDm2Message) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	GwTestDm2Session *s = NULL;
	gboolean is_end = FALSE;
	gsize len = 0;
	const guint8 *data;

	if (g_strcmp0(gw_http_request_get_method(request), "POST") != 0) {
		gw_test_dm2_respond_text(request, 405, "POST only\n");
		return;
	}
	if (!gw_test_dm2_authorized(self, request)) {
		g_message("POST /dm: wrong or missing HTTP Basic credentials (401)");
		gw_http_request_set_header(
		    request, "WWW-Authenticate", "Basic realm=\"gwmo-test\"");
		gw_test_dm2_respond_text(request, 401, "unauthorized\n");
		return;
	}
	if (package != GW_DM2_PACKAGE_INITIATION && package != GW_DM2_PACKAGE_RESPONSE) {
		gw_test_dm2_respond_text(request, 415, "not a DM 2.0 Package #1 or #3\n");
		return;
	}
	data = g_bytes_get_data(body, &len);
	msg = gw_dm2_message_parse(package, data, len, 0, &error);
	if (msg == NULL) {
		g_message("POST /dm: %s", error->message);
		if (self->active != NULL)
			gw_test_dm2_session_done(self, self->active, "failed", error->message);
		gw_test_dm2_respond_text(request, 400, "malformed package\n");
		return;
	}
	if (package == GW_DM2_PACKAGE_INITIATION) {
		ids = gw_dm2_alert_ids_parse(
		    gw_http_request_get_header(request, GW_DM2_HEADER_ALERT_ID),
		    msg->alerts->len,
		    &error);
		if (ids == NULL) {
			g_message("POST /dm: %s", error->message);
			gw_test_dm2_respond_text(
			    request, 400, "malformed " GW_DM2_HEADER_ALERT_ID "\n");
			return;
		}
		if (self->active != NULL)
			gw_test_dm2_session_done(
			    self, self->active, "failed", "a new Package #1 came before the END");
		s = g_new0(GwTestDm2Session, 1);
		s->index = self->all->len + 1;
		s->dev_id = g_strdup(dev_id);
		s->authorized = self->client_name != NULL || self->client_cert_sha256 != NULL;
		s->alerts = json_array_new();
		s->mos = json_array_new();
		s->statuses = json_array_new();
		s->transfers = json_array_new();
		g_ptr_array_add(self->all, s);
		self->active = s;
		for (guint i = 0; i < msg->alerts->len; i++) {
			JsonObject *o =
			    gw_test_dm2_alert_to_json(g_ptr_array_index(msg->alerts, i));
			const gchar *identity = g_ptr_array_index(ids, i);
			gboolean dup = FALSE;

			gw_peer_json_set_string(o, "identity", identity);
			if (identity != NULL) {
				g_autofree gchar *key = g_strdup_printf("%s|%s", dev_id, identity);
				dup = g_hash_table_contains(self->alert_ids, key);
				if (dup) {
					self->duplicates++;
					g_message(
					    "DM 2.0 session %u from %s: Generic Alert %s is a "
					    "resend: suppressed (%u so far)",
					    s->index,
					    dev_id,
					    identity,
					    self->duplicates);
				} else {
					g_hash_table_add(self->alert_ids, g_steal_pointer(&key));
				}
			}
			json_object_set_boolean_member(o, "duplicate", dup);
			json_array_add_object_element(s->alerts, o);
		}
		for (guint i = 0; msg->mos != NULL && i < msg->mos->len; i++) {
			GwDm2Mo *mo = g_ptr_array_index(msg->mos, i);
			if (mo->moid != NULL)
				json_array_add_string_element(s->mos, mo->moid);
		}
		g_message("DM 2.0 session %u from %s: Package #1 with %u alert(s)",
		          s->index,
		          dev_id,
		          msg->alerts->len);
	} else {
		JsonArray *statuses = json_array_new();

		s = self->active;
		if (s == NULL || g_strcmp0(s->dev_id, dev_id) != 0) {
			json_array_unref(statuses);
			gw_test_dm2_respond_text(request, 409, "no session for this device\n");
			return;
		}
		for (guint i = 0; i < msg->statuses->len; i++) {
			GwDm2Status *st = g_ptr_array_index(msg->statuses, i);
			JsonObject *o = json_object_new();

			json_object_set_int_member(o, "sc", st->sc);
			if (st->uris != NULL) {
				JsonArray *uris = json_array_new();
				for (guint j = 0; j < st->uris->len; j++)
					json_array_add_string_element(
					    uris, g_ptr_array_index(st->uris, j));
				json_object_set_array_member(o, "URI", uris);
			}
			if (st->data != NULL)
				json_object_set_member(o, "Data", json_node_copy(st->data));
			json_array_add_object_element(statuses, o);
		}
		json_array_add_array_element(s->statuses, statuses);
		for (guint i = 0; msg->alerts != NULL && i < msg->alerts->len; i++)
			json_array_add_object_element(
			    s->alerts,
			    gw_test_dm2_alert_to_json(g_ptr_array_index(msg->alerts, i)));
	}
	reply = gw_test_dm2_next_package(self, s, &is_end);
	gw_http_request_respond(request, 200, GW_DM2_CONTENT_TYPE_REQUEST, reply);
	if (is_end)
		gw_test_dm2_session_done(self, s, "finished", NULL);
	else
		gw_test_dm2_write_record(self);
}

/* /files/…: HGET targets (GET) and HPUT/HPOST targets (PUT/POST, recorded) */
static void
gw_test_dm2_files_cb(GwHttpServer *http, GwHttpRequest *request, gpointer user_data)
{
	GwTestDm2Server *self = user_data;
	const gchar *method = gw_http_request_get_method(request);
	const gchar *path = gw_http_request_get_path(request);
	JsonObject *files = NULL;

	if (self->script != NULL &&
	    json_object_has_member(json_node_get_object(self->script), "files"))
		files = json_object_get_object_member(json_node_get_object(self->script), "files");
	if (g_strcmp0(method, "GET") == 0) {
		const gchar *content = files != NULL && json_object_has_member(files, path)
		                           ? json_object_get_string_member(files, path)
		                           : NULL;
		g_autoptr(GBytes) body = NULL;

		if (content == NULL) {
			gw_test_dm2_respond_text(request, 404, "no such file\n");
			return;
		}
		body = g_bytes_new(content, strlen(content));
		gw_http_request_respond(request, 200, "application/octet-stream", body);
		return;
	}
	if (g_strcmp0(method, "PUT") == 0 || g_strcmp0(method, "POST") == 0) {
		GBytes *body = gw_http_request_get_body(request);
		gsize len = 0;
		const gchar *data = g_bytes_get_data(body, &len);
		g_autofree gchar *text = g_strndup(data, len);
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "method", method);
		json_object_set_string_member(o, "path", path);
		json_object_set_string_member(o, "body", text);
		if (self->active != NULL)
			json_array_add_object_element(self->active->transfers, o);
		else
			json_object_unref(o);
		gw_http_request_respond(request, 204, NULL, NULL);
		return;
	}
	gw_test_dm2_respond_text(request, 405, "GET, PUT or POST\n");
}

static gboolean
gw_test_dm2_signal_cb(gpointer user_data)
{
	GwTestDm2Server *self = user_data;
	g_message("stopping on signal");
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

static void
gw_test_dm2_notified_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwTestDm2Server *self = user_data;
	g_autoptr(GwHttpResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL) {
		g_printerr("gwmo-test-server: --notify: %s\n", error->message);
		self->exit_code = GW_PEER_EXIT_FAILED;
		g_main_loop_quit(self->loop);
		return;
	}
	g_message("DM 2.0 Package #0 answered %u", response->status);
	g_print("notified %u\n", response->status);
	fflush(stdout);
}

/* --notify: one DM 2.0 Package #0 (gw-dm2-pkg0.h) signed with --notify-secret and the auth
 * data --notify-auth-data (empty when not given), NOTIFICATION-ID --notify-id, TIMESTAMP now */
static gboolean
gw_test_dm2_notify(GwTestDm2Server *self, GError **error)
{
	g_autoptr(GwDm2Pkg0) n = gw_dm2_pkg0_new();
	g_autoptr(GBytes) secret = NULL;
	g_autoptr(GBytes) auth_data = NULL;
	g_autoptr(GBytes) body = NULL;

	self->client = gw_http_client_new(self->ca_file, error);
	if (self->client == NULL)
		return FALSE;
	n->server_id = g_strdup(self->server_id);
	n->has_notification_id = TRUE;
	n->notification_id = (guint16)self->notify_id;
	n->has_timestamp = TRUE;
	n->timestamp = (guint64)(g_get_real_time() / G_USEC_PER_SEC);
	secret = g_bytes_new(self->notify_secret, strlen(self->notify_secret));
	if (self->notify_auth_data != NULL)
		auth_data = g_bytes_new(self->notify_auth_data, strlen(self->notify_auth_data));
	body = gw_dm2_pkg0_build(n, secret, auth_data);
	if (body == NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "cannot build Package #0");
		return FALSE;
	}
	gw_http_client_post_async(self->client,
	                          self->notify_url,
	                          GW_DM2_CONTENT_TYPE_NOTIFICATION,
	                          body,
	                          NULL,
	                          NULL,
	                          gw_test_dm2_notified_cb,
	                          self);
	return TRUE;
}

/* ---- the authenticating front: libsoup's own server, written from RFC 7616 / RFC 8446 ---- */

typedef struct {
	GwTestDm2Server *self;
	SoupServerMessage *msg;
	SoupMessage *fwd;
} GwTestDm2Forward;

static gchar *
gw_test_dm2_digest_cb(SoupAuthDomain *domain,
                      SoupServerMessage *msg,
                      const char *username,
                      gpointer user_data)
{
	GwTestDm2Server *self = user_data;
	if (g_strcmp0(username, self->client_name) != 0) {
		g_message("%s: Digest for unknown user %s",
		          g_uri_get_path(soup_server_message_get_uri(msg)),
		          username);
		return NULL;
	}
	return soup_auth_domain_digest_encode_password(username, "gwmo-test", self->client_secret);
}

static gboolean
gw_test_dm2_accept_certificate_cb(SoupServerMessage *msg,
                                  GTlsCertificate *certificate,
                                  GTlsCertificateFlags errors,
                                  gpointer user_data)
{
	/* any certificate completes the handshake: the handler pins its fingerprint */
	return TRUE;
}

static void
gw_test_dm2_request_started_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	g_signal_connect(
	    msg, "accept-certificate", G_CALLBACK(gw_test_dm2_accept_certificate_cb), NULL);
}

/* whether the request's TLS peer presented the pinned certificate */
static gboolean
gw_test_dm2_peer_pinned(GwTestDm2Server *self, SoupServerMessage *msg)
{
	GTlsCertificate *peer = soup_server_message_get_tls_peer_certificate(msg);
	GSocket *socket = soup_server_message_get_socket(msg);
	g_autoptr(GByteArray) der = NULL;
	g_autofree gchar *hex = NULL;
	const gchar *want = self->client_cert_sha256;

	/* libsoup 3.2 gives the handshake's peer certificate to the first request of a
	 * connection only: the connection (its socket) keeps it for the next ones */
	if (peer != NULL && socket != NULL)
		g_object_set_data_full(
		    G_OBJECT(socket), "gw-test-peer", g_object_ref(peer), g_object_unref);
	else if (socket != NULL)
		peer = g_object_get_data(G_OBJECT(socket), "gw-test-peer");
	if (peer == NULL) {
		g_message("%s: no TLS client certificate (403)",
		          g_uri_get_path(soup_server_message_get_uri(msg)));
		return FALSE;
	}
	g_object_get(peer, "certificate", &der, NULL);
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
	if (g_str_has_prefix(want, "sha256:"))
		want += strlen("sha256:");
	if (g_ascii_strcasecmp(hex, want) != 0) {
		g_message("%s: TLS client certificate sha256:%s is not the pinned one (403)",
		          g_uri_get_path(soup_server_message_get_uri(msg)),
		          hex);
		return FALSE;
	}
	return TRUE;
}

static void
gw_test_dm2_forwarded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwTestDm2Forward *f = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body =
	    soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);

	if (body == NULL) {
		g_message("forwarding failed: %s", error->message);
		soup_server_message_set_status(f->msg, 502, NULL);
	} else {
		gsize len = 0;
		const gchar *data = g_bytes_get_data(body, &len);
		const gchar *type = soup_message_headers_get_content_type(
		    soup_message_get_response_headers(f->fwd), NULL);

		soup_server_message_set_status(f->msg, soup_message_get_status(f->fwd), NULL);
		if (type != NULL || len > 0)
			soup_server_message_set_response(f->msg,
			                                 type != NULL ? type
			                                              : "application/octet-stream",
			                                 SOUP_MEMORY_COPY,
			                                 data,
			                                 len);
	}
	soup_server_message_unpause(f->msg);
	g_object_unref(f->msg);
	g_object_unref(f->fwd);
	g_free(f);
}

static void
gw_test_dm2_front_cb(SoupServer *server,
                     SoupServerMessage *msg,
                     const char *path,
                     GHashTable *query,
                     gpointer user_data)
{
	GwTestDm2Server *self = user_data;
	SoupMessageHeaders *in = soup_server_message_get_request_headers(msg);
	g_autoptr(GBytes) body =
	    soup_message_body_flatten(soup_server_message_get_request_body(msg));
	GUri *uri = soup_server_message_get_uri(msg);
	g_autofree gchar *target =
	    g_strdup_printf("%s%s%s%s",
	                    self->backend_url,
	                    path,
	                    g_uri_get_query(uri) != NULL ? "?" : "",
	                    g_uri_get_query(uri) != NULL ? g_uri_get_query(uri) : "");
	GwTestDm2Forward *f;
	SoupMessageHeadersIter iter;
	const char *name;
	const char *value;

	if (self->client_cert_sha256 != NULL && !gw_test_dm2_peer_pinned(self, msg)) {
		soup_server_message_set_status(msg, 403, NULL);
		return;
	}
	f = g_new0(GwTestDm2Forward, 1);
	f->self = self;
	f->msg = g_object_ref(msg);
	f->fwd = soup_message_new(soup_server_message_get_method(msg), target);
	soup_message_headers_iter_init(&iter, in);
	while (soup_message_headers_iter_next(&iter, &name, &value))
		if (g_ascii_strcasecmp(name, "Host") != 0 &&
		    g_ascii_strcasecmp(name, "Authorization") != 0 &&
		    g_ascii_strcasecmp(name, "Content-Length") != 0 &&
		    g_ascii_strcasecmp(name, "Connection") != 0)
			soup_message_headers_append(
			    soup_message_get_request_headers(f->fwd), name, value);
	if (g_bytes_get_size(body) > 0)
		soup_message_set_request_body_from_bytes(
		    f->fwd, soup_message_headers_get_content_type(in, NULL), body);
	soup_server_message_pause(msg);
	soup_session_send_and_read_async(
	    self->forward, f->fwd, G_PRIORITY_DEFAULT, NULL, gw_test_dm2_forwarded_cb, f);
}

/* the front on --listen; the DM 2.0 server itself moves to a private http port */
static gboolean
gw_test_dm2_front_listen(GwTestDm2Server *self, GUri *uri, GError **error)
{
	gboolean https = g_strcmp0(g_uri_get_scheme(uri), "https") == 0;
	g_autoptr(GTlsCertificate) cert = NULL;
	GSList *uris;
	guint port;

	if (https) {
		if (self->tls_cert == NULL || self->tls_key == NULL) {
			g_set_error_literal(error,
			                    GW_ERROR,
			                    GW_ERROR_INVALID_ARGS,
			                    "https:// needs --tls-cert and --tls-key");
			return FALSE;
		}
		cert = g_tls_certificate_new_from_files(self->tls_cert, self->tls_key, error);
		if (cert == NULL)
			return FALSE;
	} else if (self->client_cert_sha256 != NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--client-cert-sha256 needs https://");
		return FALSE;
	}
	self->front = soup_server_new("server-header", "gwmo-test-server-dm2", NULL);
	if (cert != NULL)
		soup_server_set_tls_certificate(self->front, cert);
	if (self->client_cert_sha256 != NULL) {
		soup_server_set_tls_auth_mode(self->front, G_TLS_AUTHENTICATION_REQUESTED);
		g_signal_connect(self->front,
		                 "request-started",
		                 G_CALLBACK(gw_test_dm2_request_started_cb),
		                 NULL);
	}
	if (g_strcmp0(self->auth, "digest") == 0) {
		SoupAuthDomain *domain = soup_auth_domain_digest_new("realm", "gwmo-test", NULL);

		soup_auth_domain_add_path(domain, "/dm");
		soup_auth_domain_add_path(domain, "/files");
		soup_auth_domain_digest_set_auth_callback(
		    domain, gw_test_dm2_digest_cb, self, NULL);
		soup_server_add_auth_domain(self->front, domain);
		g_object_unref(domain);
	}
	soup_server_add_handler(self->front, NULL, gw_test_dm2_front_cb, self, NULL);
	if (!soup_server_listen_local(self->front,
	                              g_uri_get_port(uri) > 0 ? (guint)g_uri_get_port(uri) : 0,
	                              SOUP_SERVER_LISTEN_IPV4_ONLY |
	                                  (https ? SOUP_SERVER_LISTEN_HTTPS : 0),
	                              error))
		return FALSE;
	uris = soup_server_get_uris(self->front);
	port = (guint)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	self->forward = soup_session_new_with_options("proxy-resolver", NULL, NULL);
	soup_session_remove_feature_by_type(self->forward, SOUP_TYPE_AUTH_MANAGER);
	self->backend_url =
	    g_strdup_printf("http://127.0.0.1:%u", gw_http_server_get_port(self->http, FALSE));
	g_free(self->base_url);
	self->base_url =
	    g_strdup_printf("%s://%s:%u", g_uri_get_scheme(uri), g_uri_get_host(uri), port);
	return TRUE;
}

static gboolean
gw_test_dm2_listen(GwTestDm2Server *self, GError **error)
{
	g_autoptr(GUri) uri = g_uri_parse(self->listen, G_URI_FLAGS_NONE, error);
	gboolean front;
	guint16 port;

	if (uri == NULL)
		return FALSE;
	front = self->auth != NULL || self->client_cert_sha256 != NULL;
	if (!front && g_strcmp0(g_uri_get_scheme(uri), "http") != 0) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--dm2 listens on http:// only (https:// with --auth or "
		                    "--client-cert-sha256)");
		return FALSE;
	}
	self->http = gw_http_server_new(NULL);
	gw_http_server_add_handler(self->http, "/dm", gw_test_dm2_dm_cb, self, NULL);
	gw_http_server_add_handler(self->http, "/files/", gw_test_dm2_files_cb, self, NULL);
	if (!gw_http_server_listen(self->http, front ? "http://127.0.0.1:0" : self->listen, error))
		return FALSE;
	port = gw_http_server_get_port(self->http, FALSE);
	self->base_url = g_strdup_printf("http://%s:%u", g_uri_get_host(uri), port);
	if (front && !gw_test_dm2_front_listen(self, uri, error))
		return FALSE;
	g_print("listening %s/dm\n", self->base_url);
	fflush(stdout);
	if (self->ready_file != NULL) {
		g_autofree gchar *ready = g_strdup_printf("%s/dm\n", self->base_url);
		if (!g_file_set_contents(self->ready_file, ready, -1, error))
			return FALSE;
	}
	return TRUE;
}

int
gw_test_server_dm2_main(int argc, char **argv);

int
gw_test_server_dm2_main(int argc, char **argv)
{
	GwTestDm2Server self_ = {0};
	GwTestDm2Server *self = &self_;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	gboolean dm2 = FALSE;
	guint sigterm_id;
	guint sigint_id;
	/* clang-format off */
	const GOptionEntry entries[] = {
	    {"dm2", 0, 0, G_OPTION_ARG_NONE, &dm2, "OMA DM 2.0 (REST/JSON) mode", NULL},
	    {"listen", 'l', 0, G_OPTION_ARG_STRING, &self->listen, "http://127.0.0.1:PORT", "URI"},
	    {"script", 0, 0, G_OPTION_ARG_FILENAME, &self->script_path, "DM 2.0 script (JSON)", "FILE"},
	    {"record", 0, 0, G_OPTION_ARG_FILENAME, &self->record_path, "Record (JSON)", "FILE"},
	    {"sessions", 'n', 0, G_OPTION_ARG_INT, &self->sessions, "Exit after N sessions", "N"},
	    {"client-name", 0, 0, G_OPTION_ARG_STRING, &self->client_name, "HTTP Basic user required", "NAME"},
	    {"client-secret", 0, 0, G_OPTION_ARG_STRING, &self->client_secret, "HTTP Basic password", "SECRET"},
	    {"auth", 0, 0, G_OPTION_ARG_STRING, &self->auth, "digest: HTTP Digest instead of Basic", "SCHEME"},
	    {"client-cert-sha256", 0, 0, G_OPTION_ARG_STRING, &self->client_cert_sha256, "Require this TLS client certificate", "HEX"},
	    {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &self->tls_cert, "Server certificate (https://)", "FILE"},
	    {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &self->tls_key, "Server key (https://)", "FILE"},
	    {"server-id", 0, 0, G_OPTION_ARG_STRING, &self->server_id, "SERVER-ID of --notify", "ID"},
	    {"notify", 0, 0, G_OPTION_ARG_STRING, &self->notify_url, "POST a DM 2.0 Package #0 there once listening", "URL"},
	    {"notify-secret", 0, 0, G_OPTION_ARG_STRING, &self->notify_secret, "Server secret of its digest", "SECRET"},
	    {"notify-auth-data", 0, 0, G_OPTION_ARG_STRING, &self->notify_auth_data, "Auth data of its digest (default: none)", "DATA"},
    {"notify-id", 0, 0, G_OPTION_ARG_INT, &self->notify_id, "Its NOTIFICATION-ID (0-65535)", "N"},
	    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &self->ca_file, "CA of the --notify URL", "FILE"},
	    {"ready-file", 0, 0, G_OPTION_ARG_FILENAME, &self->ready_file, "Written once listening", "FILE"},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &self->verbose, "More log", NULL},
	    {NULL}};
	/* clang-format on */

	context = g_option_context_new("--dm2 - OMA DM 2.0 Server for gwmo tests");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("gwmo-test-server: %s\n", error->message);
		return GW_PEER_EXIT_USAGE;
	}
	if (self->listen == NULL)
		self->listen = g_strdup("http://127.0.0.1:0");
	if (self->auth != NULL &&
	    (g_strcmp0(self->auth, "digest") != 0 || self->client_name == NULL)) {
		g_printerr("gwmo-test-server: --auth=digest (with --client-name/--client-secret) "
		           "is the only other scheme\n");
		return GW_PEER_EXIT_USAGE;
	}
	if ((self->client_name == NULL) != (self->client_secret == NULL)) {
		g_printerr("gwmo-test-server: --client-name and --client-secret go together\n");
		return GW_PEER_EXIT_USAGE;
	}
	if (self->script_path != NULL) {
		g_autoptr(JsonParser) parser = json_parser_new();

		if (!json_parser_load_from_file(parser, self->script_path, &error)) {
			g_printerr("gwmo-test-server: %s\n", error->message);
			return GW_PEER_EXIT_USAGE;
		}
		self->script = json_parser_steal_root(parser);
		if (self->script == NULL || !JSON_NODE_HOLDS_OBJECT(self->script)) {
			g_printerr("gwmo-test-server: the script's top level must be an object\n");
			return GW_PEER_EXIT_USAGE;
		}
	}
	gw_log_setup(self->verbose, NULL);
	self->loop = g_main_loop_new(NULL, FALSE);
	self->all = g_ptr_array_new_with_free_func(gw_test_dm2_session_free);
	self->alert_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (!gw_test_dm2_listen(self, &error)) {
		g_printerr("gwmo-test-server: %s\n", error->message);
		return GW_PEER_EXIT_FAILED;
	}
	if (self->notify_url != NULL) {
		if (self->server_id == NULL || self->notify_secret == NULL || self->notify_id < 0 ||
		    self->notify_id > 65535) {
			g_printerr(
			    "gwmo-test-server: --notify needs --server-id, --notify-secret and "
			    "--notify-id 0..65535\n");
			return GW_PEER_EXIT_USAGE;
		}
		if (!gw_test_dm2_notify(self, &error)) {
			g_printerr("gwmo-test-server: %s\n", error->message);
			return GW_PEER_EXIT_FAILED;
		}
	}
	sigterm_id = g_unix_signal_add(SIGTERM, gw_test_dm2_signal_cb, self);
	sigint_id = g_unix_signal_add(SIGINT, gw_test_dm2_signal_cb, self);
	g_main_loop_run(self->loop);
	g_source_remove(sigterm_id);
	g_source_remove(sigint_id);
	for (guint i = 0; i < self->all->len; i++) {
		GwTestDm2Session *s = g_ptr_array_index(self->all, i);
		if (!s->done) {
			g_free(s->state);
			s->state = g_strdup("failed");
			s->error = g_strdup("the server stopped before the session ended");
		}
	}
	gw_test_dm2_write_record(self);
	g_clear_pointer(&self->script, json_node_unref);
	if (self->front != NULL) {
		/* closes the front's connections (their sockets) before it goes */
		soup_server_disconnect(self->front);
		while (g_main_context_iteration(NULL, FALSE))
			;
	}
	g_clear_object(&self->front);
	g_clear_object(&self->forward);
	g_clear_object(&self->http);
	g_clear_object(&self->client);
	g_free(self->auth);
	g_free(self->client_cert_sha256);
	g_free(self->tls_cert);
	g_free(self->tls_key);
	g_free(self->backend_url);
	g_main_loop_unref(self->loop);
	g_free(self->server_id);
	g_free(self->notify_url);
	g_free(self->notify_secret);
	g_free(self->notify_auth_data);
	g_free(self->ca_file);
	g_ptr_array_unref(self->all);
	g_hash_table_unref(self->alert_ids);
	g_free(self->base_url);
	g_free(self->listen);
	g_free(self->script_path);
	g_free(self->record_path);
	g_free(self->client_name);
	g_free(self->client_secret);
	g_free(self->ready_file);
	return self->exit_code;
}
