/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmo-test-bootstrap-server: a reference DM Bootstrap Server for the end-to-end tests of
 * seed 001 (never installed). It bootstraps a DM Gateway with one DM account (DMAcc) for a
 * DM Server (--server-id, --app-addr, --client-name/--client-secret: the credentials the
 * gateway presents, --server-secret: those the server presents), as the two work flows of
 * seed 001 §8.X.1 have it:
 *
 *  - work flow 1: the gateway GETs its bootstrap from the URL the device reported
 *    (./DMAcc/<x>/Ext/BootstrapURI): GET <path>?gwid=<GwID> is answered 200 with the bootstrap;
 *  - work flow 2: the device forwards the gateway's GatewayBootstrapRequest to it: POST
 *    <path> with the Exec's Data "gwid=<GwID>&addr=<URL>&server=<ServerID>"
 *    (application/x-www-form-urlencoded) is answered 202 (404 when the ServerID is not the one
 *    it bootstraps for, 400 when a field is missing), then it POSTs the bootstrap to addr.
 *
 * The bootstrap is a DM-profile bootstrap message (OMA-DM.md §1.2.7: a normal DM message, here
 * XML, application/vnd.syncml.dm+xml): SyncHdr Target = the GwID, Source = this server's URL
 * with LocName = its own ServerID (--bs-id); SyncBody = one Atomic of Adds creating
 * ./DMAcc/<--account> with AppID w7, ServerID, Name, AppAddr/1/{Addr,AddrType=URI}, AAuthPref
 * syncml:auth-md5, AppAuth/1 (CLCRED, DIGEST, the gateway's name and secret) and AppAuth/2
 * (SRVCRED, DIGEST, the server's name and secret). It is signed with the x-syncml-hmac header
 * (username = --bs-id, MAC over the exact body with --bs-secret and an empty nonce:
 * OMA-DM.md §1.2.4); --forge signs it with another secret. Each message has a fresh
 * SessionID, so no two are the same bytes (the gateway refuses a body it applied before).
 *
 * Misbehaviour for the tests: --oversize N adds N bytes of comment to the GET answer, --slow S
 * waits S seconds before answering a GET, --fixed-session sends SessionID 1 every time (the
 * same bytes for the same GwID, as an attacker replaying a captured body would).
 *
 * What happened goes to --events FILE, one line each: "get <gwid>", "trigger <gwid> <server>",
 * "pushed <HTTP status>" or "push-failed <why>". --ready-file gets the listening URL (and the
 * bootstrap URL, <listen>/bootstrap) once it listens.
 */

#define G_LOG_DOMAIN "GwTestBootstrapServer"

#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "gw-crypto.h"
#include "gw-dm-auth.h"
#include "gw-error.h"
#include "gw-http-client.h"
#include "gw-http-server.h"
#include "gw-peer-common.h"
#include "gw-syncml.h"
#include "gw-wbxml.h"

#define BS_PATH "/bootstrap"

typedef struct {
	gchar *listen;
	gchar *cert;
	gchar *key;
	gchar *ca_file;
	gchar *bs_id;
	gchar *bs_secret;
	gchar *server_id;
	gchar *account;
	gchar *app_addr;
	gchar *client_name;
	gchar *client_secret;
	gchar *server_secret;
	gchar *events;
	gchar *ready_file;
	gboolean forge;
	gint oversize;
	gint slow;
	gboolean fixed_session;

	guint session; /* the last SessionID sent */
	gchar *url;
	GwHttpServer *http;
	GwHttpClient *client;
	GMainLoop *loop;
} BsServer;

static void
bs_event(BsServer *self, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
bs_event(BsServer *self, const gchar *format, ...)
{
	g_autofree gchar *line = NULL;
	va_list ap;
	FILE *f;

	va_start(ap, format);
	line = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_message("%s", line);
	if (self->events == NULL)
		return;
	f = fopen(self->events, "a");
	if (f == NULL)
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

/* ---- the bootstrap message ---- */

static void
bs_add(GwSyncmlCommand *atomic, const gchar *account, const gchar *rel, const gchar *value)
{
	g_autofree gchar *uri = g_strdup_printf("./DMAcc/%s%s", account, rel);
	GwSyncmlCommand *add = gw_syncml_command_new(GW_SYNCML_CMD_ADD);
	GwSyncmlItem *item = gw_syncml_item_new(uri, NULL);
	if (value != NULL)
		gw_syncml_item_set_data(item, "chr", "text/plain", value);
	else
		gw_syncml_item_set_data(item, "node", NULL, NULL);
	gw_syncml_command_add_item(add, item);
	gw_syncml_command_add_child(atomic, add);
}

static GBytes *
bs_message(BsServer *self, const gchar *gw_id)
{
	g_autofree gchar *session = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	GwSyncmlCommand *atomic;
	const gchar *a = self->account;

	/* a fresh SessionID per message: the gateway refuses a body it applied before (a
	 * replay); --fixed-session answers the same bytes each time, as a replayed capture */
	if (self->fixed_session)
		self->session = 1;
	else if (self->session == 0)
		self->session = (guint)g_random_int_range(1, 0x8000);
	else
		self->session = self->session % 0xFFFF + 1;
	session = g_strdup_printf("%X", self->session);
	msg = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, session, 1, gw_id, self->url);
	atomic = gw_syncml_command_new(GW_SYNCML_CMD_ATOMIC);

	msg->hdr.source_name = g_strdup(self->bs_id);
	bs_add(atomic, a, "", NULL);
	bs_add(atomic, a, "/AppID", "w7");
	bs_add(atomic, a, "/ServerID", self->server_id);
	bs_add(atomic, a, "/Name", "bootstrapped by gwmo-test-bootstrap-server");
	bs_add(atomic, a, "/AppAddr/1/Addr", self->app_addr);
	bs_add(atomic, a, "/AppAddr/1/AddrType", "URI");
	bs_add(atomic, a, "/AAuthPref", "syncml:auth-md5");
	bs_add(atomic, a, "/AppAuth/1/AAuthLevel", "CLCRED");
	bs_add(atomic, a, "/AppAuth/1/AAuthType", "DIGEST");
	bs_add(atomic, a, "/AppAuth/1/AAuthName", self->client_name);
	bs_add(atomic, a, "/AppAuth/1/AAuthSecret", self->client_secret);
	bs_add(atomic, a, "/AppAuth/2/AAuthLevel", "SRVCRED");
	bs_add(atomic, a, "/AppAuth/2/AAuthType", "DIGEST");
	bs_add(atomic, a, "/AppAuth/2/AAuthName", self->server_id);
	bs_add(atomic, a, "/AppAuth/2/AAuthSecret", self->server_secret);
	gw_syncml_message_add_command(msg, atomic);
	msg->final = TRUE;
	return gw_syncml_message_to_xml(msg);
}

/* the x-syncml-hmac header of @body */
static gchar *
bs_sign(BsServer *self, GBytes *body)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);
	g_autofree gchar *mac = gw_dm_auth_hmac_compute(
	    self->bs_id, self->forge ? "not-the-secret" : self->bs_secret, NULL, 0, data, len);
	return gw_dm_auth_hmac_header(self->bs_id, mac);
}

/* ---- work flow 1: GET ---- */

typedef struct {
	BsServer *self;
	GwHttpRequest *request;
	gchar *gw_id;
} BsAnswer;

static gboolean
bs_answer_cb(gpointer user_data)
{
	BsAnswer *a = user_data;
	BsServer *self = a->self;
	g_autoptr(GBytes) body = bs_message(self, a->gw_id);
	g_autofree gchar *hmac = NULL;

	if (self->oversize > 0) {
		g_autoptr(GString) big =
		    g_string_new_len(g_bytes_get_data(body, NULL), (gssize)g_bytes_get_size(body));
		g_string_append(big, "<!--");
		for (gint i = 0; i < self->oversize; i++)
			g_string_append_c(big, 'x');
		g_string_append(big, "-->");
		g_bytes_unref(body);
		body = g_string_free_to_bytes(g_steal_pointer(&big));
	}
	hmac = bs_sign(self, body);
	if (!gw_http_request_is_closed(a->request)) {
		gw_http_request_set_header(a->request, GW_DM_AUTH_HMAC_HEADER, hmac);
		gw_http_request_respond(a->request, 200, GW_SYNCML_DM_XML_TYPE, body);
	}
	gw_http_request_unref(a->request);
	g_free(a->gw_id);
	g_free(a);
	return G_SOURCE_REMOVE;
}

static void
bs_get(BsServer *self, GwHttpRequest *request)
{
	const gchar *gw_id = gw_http_request_get_query(request, "gwid");
	BsAnswer *a;

	if (gw_id == NULL || gw_id[0] == '\0') {
		gw_http_request_respond(
		    request, 400, "text/plain", g_bytes_new_static("gwid missing\n", 13));
		return;
	}
	bs_event(self, "get %s", gw_id);
	a = g_new0(BsAnswer, 1);
	a->self = self;
	a->request = gw_http_request_ref(request);
	a->gw_id = g_strdup(gw_id);
	if (self->slow > 0)
		g_timeout_add_seconds((guint)self->slow, bs_answer_cb, a);
	else
		bs_answer_cb(a);
}

/* ---- work flow 2: the device's trigger, then POST to the gateway ---- */

static void
bs_pushed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BsServer *self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpResponse) response =
	    gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL)
		bs_event(self, "push-failed %s", error->message);
	else
		bs_event(self, "pushed %u", response->status);
}

static void
bs_trigger(BsServer *self, GwHttpRequest *request)
{
	GBytes *form = gw_http_request_get_body(request);
	g_autofree gchar *text = g_strndup(g_bytes_get_data(form, NULL), g_bytes_get_size(form));
	g_autoptr(GHashTable) fields = g_uri_parse_params(text, -1, "&", G_URI_PARAMS_NONE, NULL);
	const gchar *gw_id = fields != NULL ? g_hash_table_lookup(fields, "gwid") : NULL;
	const gchar *addr = fields != NULL ? g_hash_table_lookup(fields, "addr") : NULL;
	const gchar *server = fields != NULL ? g_hash_table_lookup(fields, "server") : NULL;
	g_autoptr(GBytes) body = NULL;
	g_autofree gchar *hmac = NULL;
	const gchar *headers[] = {GW_DM_AUTH_HMAC_HEADER, NULL, NULL};

	if (gw_id == NULL || addr == NULL || server == NULL) {
		gw_http_request_respond(request,
		                        400,
		                        "text/plain",
		                        g_bytes_new_static("gwid, addr and server expected\n", 31));
		return;
	}
	bs_event(self, "trigger %s %s", gw_id, server);
	if (g_strcmp0(server, self->server_id) != 0) {
		gw_http_request_respond(
		    request, 404, "text/plain", g_bytes_new_static("not my server\n", 14));
		return;
	}
	gw_http_request_respond(request, 202, "text/plain", g_bytes_new_static("ok\n", 3));
	body = bs_message(self, gw_id);
	hmac = bs_sign(self, body);
	headers[1] = hmac;
	gw_http_client_post_async(
	    self->client, addr, GW_SYNCML_DM_XML_TYPE, body, headers, NULL, bs_pushed_cb, self);
}

static void
bs_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	BsServer *self = user_data;
	const gchar *method = gw_http_request_get_method(request);

	if (g_strcmp0(method, "GET") == 0)
		bs_get(self, request);
	else if (g_strcmp0(method, "POST") == 0)
		bs_trigger(self, request);
	else
		gw_http_request_respond(request, 405, NULL, NULL);
}

/* ---- main ---- */

static gboolean
bs_listen(BsServer *self, GError **error)
{
	g_autoptr(GTlsCertificate) identity = NULL;
	g_autoptr(GUri) uri = g_uri_parse(self->listen, G_URI_FLAGS_NONE, error);
	gboolean https;

	if (uri == NULL)
		return FALSE;
	https = g_strcmp0(g_uri_get_scheme(uri), "https") == 0;
	if (https) {
		if (self->cert == NULL || self->key == NULL) {
			g_set_error(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "https needs --cert and --key");
			return FALSE;
		}
		identity = gw_crypto_load_or_create(
		    self->cert, self->key, "gwmo-test-bootstrap-server", error);
		if (identity == NULL)
			return FALSE;
	}
	self->http = gw_http_server_new(identity);
	{
		GwHttpServerLimits limits = {0};
		limits.hello_ms = 30000;
		limits.handshake_ms = 30000;
		gw_http_server_set_limits(self->http, &limits);
	}
	gw_http_server_add_handler(self->http, BS_PATH, bs_handler, self, NULL);
	if (!gw_http_server_listen(self->http, self->listen, error))
		return FALSE;
	self->url = g_strdup_printf("%s://%s:%u" BS_PATH,
	                            https ? "https" : "http",
	                            g_uri_get_host(uri),
	                            gw_http_server_get_port(self->http, https));
	g_print("listening %s\n", self->url);
	fflush(stdout);
	if (self->ready_file != NULL) {
		g_autofree gchar *ready = g_strdup_printf("%s\n", self->url);
		if (!g_file_set_contents(self->ready_file, ready, -1, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
bs_signal_cb(gpointer user_data)
{
	BsServer *self = user_data;
	g_main_loop_quit(self->loop);
	return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
	BsServer self = {0};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	const GOptionEntry entries[] = {
	    {"listen",
	     'l',
	     0,
	     G_OPTION_ARG_STRING,
	     &self.listen,
	     "Listen on this URL (http(s)://127.0.0.1:PORT, 0 = any free port)",
	     "URL"},
	    {"cert", 0, 0, G_OPTION_ARG_FILENAME, &self.cert, "TLS certificate (PEM)", "FILE"},
	    {"key", 0, 0, G_OPTION_ARG_FILENAME, &self.key, "TLS private key (PEM)", "FILE"},
	    {"ca-file",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &self.ca_file,
	     "CA of the gateway's https listener (work flow 2)",
	     "FILE"},
	    {"bs-id",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &self.bs_id,
	     "This bootstrap server's ServerID (x-syncml-hmac username)",
	     "ID"},
	    {"bs-secret",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &self.bs_secret,
	     "Its secret (the gateway's [bootstrap] secrets-file)",
	     "SECRET"},
	    {"server-id",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &self.server_id,
	     "ServerID of the DM Server the account is for",
	     "ID"},
	    {"account",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &self.account,
	     "Name of the account node ./DMAcc/<name> (default: acc-<server-id>)",
	     "NAME"},
	    {"app-addr",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &self.app_addr,
	     "The DM Server's URL (AppAddr/1/Addr)",
	     "URL"},
	    {"client-name",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &self.client_name,
	     "The gateway's name with the server (CLCRED AAuthName)",
	     "NAME"},
	    {"client-secret",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &self.client_secret,
	     "The gateway's secret with the server (CLCRED AAuthSecret)",
	     "SECRET"},
	    {"server-secret",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &self.server_secret,
	     "The server's secret (SRVCRED AAuthSecret)",
	     "SECRET"},
	    {"events",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &self.events,
	     "Append what happens here",
	     "FILE"},
	    {"ready-file",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &self.ready_file,
	     "Once listening write the bootstrap URL to this file",
	     "FILE"},
	    {"forge", 0, 0, G_OPTION_ARG_NONE, &self.forge, "Sign with a wrong secret", NULL},
	    {"oversize",
	     0,
	     0,
	     G_OPTION_ARG_INT,
	     &self.oversize,
	     "Add N bytes of comment to the GET answer",
	     "N"},
	    {"slow", 0, 0, G_OPTION_ARG_INT, &self.slow, "Answer a GET after S seconds", "S"},
	    {"fixed-session",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &self.fixed_session,
	     "The same SessionID (the same bytes) in every message",
	     NULL},
	    G_OPTION_ENTRY_NULL};

	context = g_option_context_new("- reference DM Bootstrap Server (seed 001 work flows)");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("gwmo-test-bootstrap-server: %s\n", error->message);
		return 2;
	}
	if (self.listen == NULL || self.bs_id == NULL || self.bs_secret == NULL ||
	    self.server_id == NULL || self.app_addr == NULL || self.client_name == NULL ||
	    self.client_secret == NULL || self.server_secret == NULL) {
		g_printerr("gwmo-test-bootstrap-server: --listen, --bs-id, --bs-secret, "
		           "--server-id, --app-addr, --client-name, --client-secret and "
		           "--server-secret are required\n");
		return 2;
	}
	if (self.account == NULL)
		self.account = g_strdup_printf("acc-%s", self.server_id);
	g_strdelimit(self.account, ".", '-');
	self.client = gw_http_client_new(self.ca_file, &error);
	if (self.client == NULL || !bs_listen(&self, &error)) {
		g_printerr("gwmo-test-bootstrap-server: %s\n", error->message);
		return 1;
	}
	gw_http_client_set_retries(self.client, 0, 100);
	self.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGINT, bs_signal_cb, &self);
	g_unix_signal_add(SIGTERM, bs_signal_cb, &self);
	g_main_loop_run(self.loop);
	g_main_loop_unref(self.loop);
	if (self.http != NULL)
		gw_http_server_disconnect(self.http);
	g_clear_object(&self.http);
	g_clear_object(&self.client);
	g_free(self.url);
	return 0;
}
