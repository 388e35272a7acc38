/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Full OMA DM sessions per second on loopback: a DM Server in this process (GwHttpServer over
 * HTTPS, one SERVER-role GwDmSession per SessionID) against the real gwmod on a private bus,
 * each session started with the D-Bus StartSession. Every session: Package #1 from gwmod, MD5
 * authentication both ways (nonces rotate every session, as in production), a Get of
 * ./DevInfo/DevId and a Replace of ./GwMO/Config/Ext/Bench (~100 bytes), normal end.
 *
 * The baseline, in the same run: a raw libsoup 3 client POSTing to a raw SoupServer (both in
 * this process, HTTPS with the same certificate, one keep-alive connection) the same sequence
 * of (request size, response size) round trips per pseudo-session, with fixed bodies.
 * Prints sessions/s of both and the ratio ours/raw (target >= 0.5), first one session at a
 * time (latency-bound: three processes, a D-Bus hop and an fdatasync per session against one
 * process that only moves bytes), then with K sessions in flight for each K in
 * GW_BENCH_CONCURRENCY (K DMAcc accounts, each with one session at a time, against K parallel
 * raw keep-alive connections), with the CPU each process used per session; the last line
 * compares the peak rate of each side. A benchmark: speed never fails it; a broken session
 * (wrong status, wrong result, D-Bus error) exits 1.
 *
 * usage: bench-session   (GWMO_TEST_GWMOD: the gwmod binary, default ../../core/gwmod next
 *                         to this program; GW_BENCH_SECONDS, default 8, sets the approximate
 *                         time of the measured gwmod sessions; GW_BENCH_CONCURRENCY, default
 *                         "1 4 16", the levels of sessions in flight, at most 32)
 */

#define G_LOG_DOMAIN "GwSessionBench"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw-crypto.h"
#include "gw-dm-session.h"
#include "gw-http-server.h"
#include "gw-syncml.h"
#include "gw-test-daemon.h"
#include "gw-wbxml.h"

#define ROUNDS 3
#define MIN_SESSIONS 200 /* per round */
#define TARGET_RATIO 0.5
#define WARMUP_SESSIONS 10
#define CALIBRATION_SESSIONS 30
#define DBUS_CALLS 200
#define DISK_SAVES 50
/* the second figure: sessions in flight, each level in turn (GW_BENCH_CONCURRENCY, a list) */
#define CONCURRENCY "1 4 16"
#define MAX_CONCURRENCY 32

#define SERVER_ID "bench.example"
#define SERVER_SECRET "s3cret-server"
#define CLIENT_NAME "gateway-bench"
#define CLIENT_SECRET "s3cret-client"
#define DEV_ID "GW-TEST-0001" /* gw_test_daemon_new_with_config() */
#define BENCH_URI "./GwMO/Config/Ext/Bench"
#define BENCH_VALUE_LEN 100
#define DM_CONTENT_TYPE "application/vnd.syncml.dm+xml"

/* ---- failures: print and exit 1 ---- */

static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) bench_fail(const gchar *format, ...)
{
	va_list ap;
	g_autofree gchar *msg = NULL;

	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_printerr("bench-session: FAILED: %s\n", msg);
	exit(EXIT_FAILURE);
}

/* ---- one HTTP round trip ---- */

typedef struct {
	gsize request;
	gsize response;
} BenchPair;

/* ---- the DM Server ---- */

/* one DMAcc account of the gateway as the server side sees it: account 0 is SERVER_ID at
 * /dm, account k > 0 (the concurrent figure) is "bench<k>.example" at /dm/<k> and replaces
 * its own node BENCH_URI<k> */
typedef struct {
	gchar *server_id;
	gchar *uri;          /* what its sessions Replace */
	GBytes *local_nonce; /* for our next digest (the gateway's NextNonce) */
	GBytes *peer_nonce;  /* what we expect the gateway's next digest over */
} BenchAccount;

typedef struct {
	GwDmSession *session;
	BenchAccount *account;
	GArray *pairs; /* BenchPair */
	guint get_ref;
	guint replace_ref;
	gchar *value; /* what the Replace sends */
} BenchServerSession;

typedef struct {
	GwHttpServer *http;
	gchar *url;
	GHashTable *sessions; /* "<account>/<SessionID>" → BenchServerSession */
	GPtrArray *accounts;  /* BenchAccount, [0] = SERVER_ID */
	guint counter;        /* sessions created, makes every Replace value different */
	gchar *last_value;    /* Replace value of the last finished session */
	/* statistics of finished sessions */
	guint finished;
	guint64 round_trips;
	guint64 bytes;
	guint64 min_bytes; /* of one session */
	guint64 max_bytes;
	GArray *reference; /* BenchPair of the first session counted, NULL until then */
	gboolean counting;
	gint64 handler_us; /* time spent in the handler (our server side) */
	gchar *error;      /* first functional failure on the HTTP side */
} BenchServer;

static void
bench_server_session_free(gpointer data)
{
	BenchServerSession *s = data;
	g_object_unref(s->session);
	g_array_unref(s->pairs);
	g_free(s->value);
	g_free(s);
}

static void
bench_server_set_error(BenchServer *server, gchar *message)
{
	if (server->error == NULL)
		server->error = message;
	else
		g_free(message);
}

static void
bench_nonce_changed_cb(GwDmSession *session, gboolean local, GBytes *nonce, gpointer user_data)
{
	BenchAccount *account = user_data;
	GBytes **slot = local ? &account->local_nonce : &account->peer_nonce;

	g_clear_pointer(slot, g_bytes_unref);
	*slot = g_bytes_ref(nonce);
}

/* the SyncHdr SessionID, without parsing the whole message (XML, as gwmod sends it; WBXML
 * and odd XML go through the real parser) */
static gchar *
bench_session_id(GBytes *body, const gchar *content_type)
{
	static const gchar open_tag[] = "<SessionID>";
	gsize len = 0;
	const gchar *data = g_bytes_get_data(body, &len);
	const gchar *start = NULL;
	const gchar *end = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autofree gchar *xml = NULL;
	gsize xml_len = 0;

	if (data == NULL)
		return NULL;
	if (!gw_wbxml_is_wbxml_content_type(content_type)) {
		start = g_strstr_len(data, (gssize)len, open_tag);
		if (start != NULL) {
			start += strlen(open_tag);
			end = g_strstr_len(
			    start, (gssize)(len - (gsize)(start - data)), "</SessionID>");
			if (end != NULL)
				return g_strndup(start, (gsize)(end - start));
		}
		msg = gw_syncml_message_parse_xml((const guint8 *)data, len, NULL);
	} else {
		xml = gw_wbxml_to_xml((const guint8 *)data, len, &xml_len, NULL);
		if (xml != NULL)
			msg = gw_syncml_message_parse_xml((const guint8 *)xml, xml_len, NULL);
	}
	return msg != NULL ? g_strdup(gw_syncml_message_get_session_id(msg)) : NULL;
}

static GwSyncmlCommand *
bench_command(GwSyncmlCmdType type, const gchar *uri, const gchar *data)
{
	GwSyncmlCommand *cmd = gw_syncml_command_new(type);
	GwSyncmlItem *item = gw_syncml_command_add_item(cmd, gw_syncml_item_new(uri, NULL));

	if (data != NULL)
		gw_syncml_item_set_data(item, "chr", "text/plain", data);
	return cmd;
}

static BenchServerSession *
bench_server_session_new(BenchServer *server, BenchAccount *account)
{
	BenchServerSession *s = g_new0(BenchServerSession, 1);
	GwDmSessionConfig cfg = {0};
	g_autoptr(GString) value = g_string_new(NULL);

	cfg.role = GW_DM_SESSION_ROLE_SERVER;
	cfg.version = GW_SYNCML_VERSION_DM_1_2;
	cfg.encoding = GW_DM_ENCODING_XML;
	cfg.local_uri = g_strdup(server->url);
	cfg.local.type = GW_DM_AUTH_TYPE_MD5;
	cfg.local.name = g_strdup(account->server_id);
	cfg.local.secret = g_strdup(SERVER_SECRET);
	cfg.local.nonce = account->local_nonce != NULL ? g_bytes_ref(account->local_nonce) : NULL;
	cfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	cfg.peer.name = g_strdup(CLIENT_NAME);
	cfg.peer.secret = g_strdup(CLIENT_SECRET);
	cfg.peer.nonce = account->peer_nonce != NULL ? g_bytes_ref(account->peer_nonce) : NULL;
	s->session = gw_dm_session_new(&cfg, NULL);
	s->account = account;
	gw_dm_session_config_clear(&cfg);
	g_signal_connect(s->session, "nonce-changed", G_CALLBACK(bench_nonce_changed_cb), account);

	/* a fixed-size value that differs every session: the gateway really writes it */
	g_string_printf(value, "bench-value-%08u-", ++server->counter);
	while (value->len < BENCH_VALUE_LEN)
		g_string_append_c(value, (gchar)('a' + value->len % 26));
	s->value = g_string_free(g_steal_pointer(&value), FALSE);
	s->get_ref = gw_dm_session_queue_command(
	    s->session, bench_command(GW_SYNCML_CMD_GET, "./DevInfo/DevId", NULL));
	s->replace_ref = gw_dm_session_queue_command(
	    s->session, bench_command(GW_SYNCML_CMD_REPLACE, account->uri, s->value));
	s->pairs = g_array_new(FALSE, FALSE, sizeof(BenchPair));
	return s;
}

/* what a finished session must have collected */
static gchar *
bench_server_session_check(BenchServerSession *s)
{
	GPtrArray *results = gw_dm_session_get_results(s->session);

	if (gw_dm_session_get_state(s->session) != GW_DM_SESSION_STATE_FINISHED) {
		const GError *e = gw_dm_session_get_error(s->session);
		return g_strdup_printf("server session failed: %s", e != NULL ? e->message : "?");
	}
	if (results->len != 2)
		return g_strdup_printf("%u results instead of 2", results->len);
	for (guint i = 0; i < results->len; i++) {
		GwDmSessionResult *r = g_ptr_array_index(results, i);
		if (r->status != GW_DM_STATUS_OK)
			return g_strdup_printf(
			    "%s answered %u", r->ref == s->get_ref ? "Get" : "Replace", r->status);
		if (r->ref == s->get_ref) {
			GwSyncmlItem *item = r->results != NULL && r->results->len == 1
			                         ? g_ptr_array_index(r->results, 0)
			                         : NULL;
			if (item == NULL || g_strcmp0(item->data, DEV_ID) != 0)
				return g_strdup_printf("Get ./DevInfo/DevId gave %s",
				                       item != NULL ? item->data : "no result");
		}
	}
	return NULL;
}

static void
bench_server_session_done(BenchServer *server, BenchServerSession *s)
{
	gchar *problem = bench_server_session_check(s);
	guint64 bytes = 0;

	if (problem != NULL) {
		bench_server_set_error(server, problem);
		return;
	}
	if (s->account == g_ptr_array_index(server->accounts, 0)) {
		g_free(server->last_value);
		server->last_value = g_strdup(s->value);
	}
	server->finished++;
	if (!server->counting)
		return;
	server->round_trips += s->pairs->len;
	for (guint i = 0; i < s->pairs->len; i++) {
		BenchPair *p = &g_array_index(s->pairs, BenchPair, i);
		bytes += p->request + p->response;
	}
	server->bytes += bytes;
	server->min_bytes = server->min_bytes == 0 ? bytes : MIN(server->min_bytes, bytes);
	server->max_bytes = MAX(server->max_bytes, bytes);
	if (server->reference == NULL)
		server->reference = g_array_ref(s->pairs);
}

static void
bench_server_handler(GwHttpServer *http, GwHttpRequest *request, gpointer user_data)
{
	BenchServer *server = user_data;
	GBytes *body = gw_http_request_get_body(request);
	const gchar *ctype = gw_http_request_get_content_type(request);
	g_autofree gchar *session_id = NULL;
	g_autofree gchar *key = NULL;
	const gchar *path = gw_http_request_get_path(request);
	BenchAccount *account = g_ptr_array_index(server->accounts, 0);
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	BenchServerSession *s;
	BenchPair pair;
	GwDmSessionState state;
	gint64 start = g_get_monotonic_time();

	if (g_strcmp0(gw_http_request_get_method(request), "POST") != 0) {
		gw_http_request_respond(request, 405, NULL, NULL);
		return;
	}
	session_id = bench_session_id(body, ctype);
	if (session_id == NULL) {
		bench_server_set_error(server, g_strdup("a POST without a SessionID"));
		gw_http_request_respond(request, 400, NULL, NULL);
		return;
	}
	if (path != NULL && g_str_has_prefix(path, "/dm/")) {
		guint64 k = 0;
		if (!g_ascii_string_to_unsigned(path + 4, 10, 1, server->accounts->len - 1, &k, NULL)) {
			gw_http_request_respond(request, 404, NULL, NULL);
			return;
		}
		account = g_ptr_array_index(server->accounts, k);
	}
	key = g_strconcat(account->server_id, "/", session_id, NULL);
	s = g_hash_table_lookup(server->sessions, key);
	if (s == NULL) {
		s = bench_server_session_new(server, account);
		g_hash_table_insert(server->sessions, g_strdup(key), s);
	}
	reply = gw_dm_session_receive(
	    s->session, body, ctype, gw_http_request_get_header(request, "x-syncml-hmac"), &error);
	if (reply == NULL) {
		bench_server_set_error(
		    server,
		    g_strdup_printf(
		        "session %s: %s", session_id, error != NULL ? error->message : "no reply"));
		gw_http_request_respond(request, 500, NULL, NULL);
		g_hash_table_remove(server->sessions, key);
		return;
	}
	pair.request = g_bytes_get_size(body);
	pair.response = g_bytes_get_size(reply);
	g_array_append_val(s->pairs, pair);
	gw_http_request_respond(request, 200, gw_dm_session_get_content_type(s->session), reply);

	state = gw_dm_session_get_state(s->session);
	if (state == GW_DM_SESSION_STATE_FINISHED || state == GW_DM_SESSION_STATE_FAILED) {
		bench_server_session_done(server, s);
		g_hash_table_remove(server->sessions, key);
	}
	server->handler_us += g_get_monotonic_time() - start;
}

/* ---- D-Bus calls on the main loop (this process also serves the HTTP side) ---- */

typedef struct {
	GVariant *reply;
	GError *error;
	gboolean done;
} BenchCall;

static void
bench_call_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BenchCall *call = user_data;
	call->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &call->error);
	call->done = TRUE;
}

/* returns the reply; exits 1 on a D-Bus error */
static GVariant *
bench_call(GwTestDaemon *d, const gchar *method, GVariant *parameters, const gchar *reply_type)
{
	BenchCall call = {0};

	g_dbus_connection_call(d->connection,
	                       "org.gwmo.Gateway1",
	                       "/org/gwmo/Gateway1",
	                       "org.gwmo.Gateway1.Manager",
	                       method,
	                       parameters,
	                       G_VARIANT_TYPE(reply_type),
	                       G_DBUS_CALL_FLAGS_NONE,
	                       60000,
	                       NULL,
	                       bench_call_cb,
	                       &call);
	while (!call.done)
		g_main_context_iteration(NULL, TRUE);
	if (call.reply == NULL) {
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		gsize len = strlen(log);
		/* the end of gwmod's log says why */
		g_printerr("gwmod log (tail):\n%s\n", len > 4000 ? log + len - 4000 : log);
		bench_fail("%s: %s", method, call.error->message);
	}
	return call.reply;
}

/* one full session; checks what gwmod and the server side report */
static void
bench_one_session(GwTestDaemon *d, BenchServer *server)
{
	guint before = server->finished;
	g_autoptr(GVariant) reply =
	    bench_call(d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)");
	guint messages = 0;
	guint commands = 0;

	g_variant_get(reply, "(uu)", &messages, &commands);
	if (server->error != NULL)
		bench_fail("%s", server->error);
	if (server->finished != before + 1)
		bench_fail("StartSession returned but the server side did not finish a session");
	if (commands != 2)
		bench_fail("gwmod executed %u commands instead of 2", commands);
	if (g_hash_table_size(server->sessions) != 0)
		bench_fail("%u server sessions left open", g_hash_table_size(server->sessions));
}

/* seconds for @n sessions; each one's duration (us, gdouble) appended to @latencies */
static gdouble
bench_sessions(GwTestDaemon *d, BenchServer *server, guint n, GArray *latencies)
{
	gint64 start = g_get_monotonic_time();
	gint64 last = start;

	for (guint i = 0; i < n; i++) {
		gint64 now;
		gdouble us;

		bench_one_session(d, server);
		now = g_get_monotonic_time();
		us = (gdouble)(now - last);
		if (latencies != NULL)
			g_array_append_val(latencies, us);
		last = now;
	}
	return (gdouble)(last - start) / G_USEC_PER_SEC;
}

/* ---- the raw libsoup baseline ---- */

typedef struct {
	SoupServer *server;
	SoupSession *session;
	gchar *url;
	guint8 *buffer; /* request and response bodies are slices of it */
	gsize buffer_size;
	guint64 bytes;
} BenchRaw;

static void
bench_raw_handler(SoupServer *soup_server,
                  SoupServerMessage *msg,
                  const char *path,
                  GHashTable *query,
                  gpointer user_data)
{
	BenchRaw *raw = user_data;
	const gchar *size_header = soup_message_headers_get_one(
	    soup_server_message_get_request_headers(msg), "X-Bench-Size");
	guint64 size = 0;

	if (size_header == NULL ||
	    !g_ascii_string_to_unsigned(size_header, 10, 0, raw->buffer_size, &size, NULL)) {
		soup_server_message_set_status(msg, SOUP_STATUS_BAD_REQUEST, NULL);
		return;
	}
	soup_server_message_set_response(
	    msg, DM_CONTENT_TYPE, SOUP_MEMORY_STATIC, (const char *)raw->buffer, (gsize)size);
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
bench_raw_init(BenchRaw *raw, GTlsCertificate *certificate, const gchar *ca_file, gsize max_size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsDatabase) db = NULL;
	GSList *uris;

	raw->buffer_size = max_size;
	raw->buffer = g_malloc(max_size);
	for (gsize i = 0; i < max_size; i++)
		raw->buffer[i] = (guint8)('a' + i % 26);

	raw->server = soup_server_new("tls-certificate", certificate, NULL);
	soup_server_add_handler(raw->server, "/raw", bench_raw_handler, raw, NULL);
	if (!soup_server_listen_local(
	        raw->server, 0, SOUP_SERVER_LISTEN_HTTPS | SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
		bench_fail("raw SoupServer: %s", error->message);
	uris = soup_server_get_uris(raw->server);
	if (uris == NULL)
		bench_fail("raw SoupServer has no URI");
	{
		g_autofree gchar *base = g_uri_to_string(uris->data);
		raw->url = g_strconcat(base, g_str_has_suffix(base, "/") ? "" : "/", "raw", NULL);
	}
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);

	db = g_tls_file_database_new(ca_file, &error);
	if (db == NULL)
		bench_fail("%s: %s", ca_file, error->message);
	/* enough connections for the concurrent figure; the sequential loop uses one */
	raw->session = soup_session_new_with_options(
	    "proxy-resolver", NULL, "max-conns-per-host", 64, "max-conns", 64, NULL);
	soup_session_set_tls_database(raw->session, db);
}

static void
bench_raw_clear(BenchRaw *raw)
{
	g_clear_object(&raw->session);
	if (raw->server != NULL)
		soup_server_disconnect(raw->server);
	g_clear_object(&raw->server);
	g_clear_pointer(&raw->url, g_free);
	g_clear_pointer(&raw->buffer, g_free);
}

typedef struct {
	GBytes *body;
	GError *error;
	gboolean done;
} BenchRawPost;

static void
bench_raw_post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BenchRawPost *post = user_data;
	post->body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &post->error);
	post->done = TRUE;
}

static void
bench_raw_round_trip(BenchRaw *raw, const BenchPair *pair)
{
	g_autoptr(SoupMessage) msg = soup_message_new("POST", raw->url);
	g_autoptr(GBytes) request = g_bytes_new_static(raw->buffer, pair->request);
	g_autofree gchar *size = g_strdup_printf("%" G_GSIZE_FORMAT, pair->response);
	BenchRawPost post = {0};

	soup_message_add_flags(msg, SOUP_MESSAGE_IDEMPOTENT);
	soup_message_set_request_body_from_bytes(msg, DM_CONTENT_TYPE, request);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "X-Bench-Size", size);
	soup_session_send_and_read_async(
	    raw->session, msg, G_PRIORITY_DEFAULT, NULL, bench_raw_post_cb, &post);
	while (!post.done)
		g_main_context_iteration(NULL, TRUE);
	if (post.body == NULL)
		bench_fail("raw POST: %s", post.error->message);
	if (soup_message_get_status(msg) != SOUP_STATUS_OK ||
	    g_bytes_get_size(post.body) != pair->response)
		bench_fail("raw POST: HTTP %u, %" G_GSIZE_FORMAT " bytes",
		           soup_message_get_status(msg),
		           g_bytes_get_size(post.body));
	raw->bytes += pair->request + pair->response;
	g_bytes_unref(post.body);
}

static gdouble
bench_raw_sessions(BenchRaw *raw, GArray *pairs, guint n, GArray *latencies)
{
	gint64 start = g_get_monotonic_time();
	gint64 last = start;

	for (guint i = 0; i < n; i++) {
		gint64 now;
		gdouble us;

		for (guint j = 0; j < pairs->len; j++)
			bench_raw_round_trip(raw, &g_array_index(pairs, BenchPair, j));
		now = g_get_monotonic_time();
		us = (gdouble)(now - last);
		if (latencies != NULL)
			g_array_append_val(latencies, us);
		last = now;
	}
	return (gdouble)(last - start) / G_USEC_PER_SEC;
}

static gint
bench_cmp_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

/* the @q quantile (0..1) of @values, sorted in place */
static gdouble
bench_quantile(GArray *values, gdouble q)
{
	guint i;

	if (values->len == 0)
		return 0;
	g_array_sort(values, bench_cmp_double);
	i = (guint)CLAMP(q * (values->len - 1) + 0.5, 0, values->len - 1);
	return g_array_index(values, gdouble, i);
}

/* ---- setup ---- */

static gchar *
bench_bootstrap_tnds(const gchar *url)
{
	g_autofree gchar *addr = g_markup_escape_text(url, -1);

	return g_strdup_printf(
	    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>\n"
	    "<Node><NodeName>bench</NodeName><Path>./DMAcc</Path>\n"
	    " <RTProperties><ACL>Get=" SERVER_ID "&amp;Replace=" SERVER_ID "</ACL>"
	    "<Format><node/></Format>"
	    "<Type><DDFName>urn:oma:mo:oma-dm-dmacc:1.0</DDFName></Type></RTProperties>\n"
	    " <Node><NodeName>AppID</NodeName><RTProperties><Format><chr/></Format></RTProperties>"
	    "<Value>w7</Value></Node>\n"
	    " <Node><NodeName>ServerID</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>" SERVER_ID "</Value></Node>\n"
	    " <Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>\n"
	    "  <Node><NodeName>Addr</NodeName><RTProperties><Format><chr/></Format></RTProperties>"
	    "<Value>%s</Value></Node>\n"
	    "  <Node><NodeName>AddrType</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>URI</Value></Node>\n"
	    " </Node></Node>\n"
	    " <Node><NodeName>AAuthPref</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>DIGEST</Value></Node>\n"
	    " <Node><NodeName>AppAuth</NodeName>\n"
	    "  <Node><NodeName>1</NodeName>\n"
	    "   <Node><NodeName>AAuthLevel</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>CLCRED</Value></Node>\n"
	    "   <Node><NodeName>AAuthType</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>DIGEST</Value></Node>\n"
	    "   <Node><NodeName>AAuthName</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>" CLIENT_NAME "</Value></Node>\n"
	    "   <Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><DFProperties><AccessType><Replace/></AccessType></DFProperties>"
	    "<Value>" CLIENT_SECRET "</Value></Node>\n"
	    "  </Node>\n"
	    "  <Node><NodeName>2</NodeName>\n"
	    "   <Node><NodeName>AAuthLevel</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>SRVCRED</Value></Node>\n"
	    "   <Node><NodeName>AAuthType</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>DIGEST</Value></Node>\n"
	    "   <Node><NodeName>AAuthName</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><Value>" SERVER_ID "</Value></Node>\n"
	    "   <Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format>"
	    "</RTProperties><DFProperties><AccessType><Replace/></AccessType></DFProperties>"
	    "<Value>" SERVER_SECRET "</Value></Node>\n"
	    "  </Node>\n"
	    " </Node>\n"
	    "</Node>\n"
	    "<Node><NodeName>Bench</NodeName><Path>"
	    "./GwMO/Config/Ext"
	    "</Path>\n"
	    " <RTProperties><ACL>Get=" SERVER_ID "&amp;Replace=" SERVER_ID "</ACL>"
	    "<Format><chr/></Format></RTProperties>\n"
	    " <DFProperties><AccessType><Get/><Replace/></AccessType></DFProperties>"
	    "<Value>initial</Value></Node>\n"
	    "</MgmtTree>\n",
	    addr);
}

/* account k > 0: the same DMAcc under another name, ServerID and address, with its own
 * node to replace (the concurrent figure) */
static gchar *
bench_bootstrap_account_tnds(const gchar *url, guint k)
{
	g_autofree gchar *account_url = g_strdup_printf("%s/%u", url, k);
	g_autofree gchar *tnds = bench_bootstrap_tnds(account_url);
	g_autofree gchar *server_id = g_strdup_printf("bench%u.example", k);
	g_autofree gchar *acc = g_strdup_printf("<NodeName>bench%u</NodeName>", k);
	g_autofree gchar *node = g_strdup_printf("<NodeName>Bench%u</NodeName>", k);
	GString *out = g_string_new(tnds);

	g_string_replace(out, SERVER_ID, server_id, 0);
	g_string_replace(out, "<NodeName>bench</NodeName>", acc, 0);
	g_string_replace(out, "<NodeName>Bench</NodeName>", node, 0);
	return g_string_free(out, FALSE);
}

static BenchAccount *
bench_account_new(guint k)
{
	BenchAccount *a = g_new0(BenchAccount, 1);
	a->server_id = k == 0 ? g_strdup(SERVER_ID) : g_strdup_printf("bench%u.example", k);
	a->uri = k == 0 ? g_strdup(BENCH_URI) : g_strdup_printf(BENCH_URI "%u", k);
	return a;
}

static void
bench_account_free(gpointer data)
{
	BenchAccount *a = data;
	g_free(a->server_id);
	g_free(a->uri);
	g_clear_pointer(&a->local_nonce, g_bytes_unref);
	g_clear_pointer(&a->peer_nonce, g_bytes_unref);
	g_free(a);
}

/* ---- K sessions in flight ---- */

typedef struct {
	GwTestDaemon *d;
	BenchServer *server;
	guint started;
	guint done;
	guint n;
	guint in_flight;
	gchar *error;
} BenchConcurrent;

typedef struct {
	BenchConcurrent *c;
	guint account;
} BenchConcurrentCall;

static void bench_concurrent_start(BenchConcurrent *c, guint account);

static void
bench_concurrent_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree BenchConcurrentCall *call = user_data;
	BenchConcurrent *c = call->c;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);

	c->in_flight--;
	c->done++;
	if (reply == NULL) {
		if (c->error == NULL)
			c->error = g_strdup_printf("StartSession: %s", error->message);
	} else {
		guint messages = 0;
		guint commands = 0;
		g_variant_get(reply, "(uu)", &messages, &commands);
		if (commands != 2 && c->error == NULL)
			c->error = g_strdup_printf("gwmod executed %u commands instead of 2", commands);
	}
	if (c->started < c->n && c->error == NULL)
		bench_concurrent_start(c, call->account);
}

static void
bench_concurrent_start(BenchConcurrent *c, guint account)
{
	BenchConcurrentCall *call = g_new0(BenchConcurrentCall, 1);
	BenchAccount *a = g_ptr_array_index(c->server->accounts, account);

	call->c = c;
	call->account = account;
	c->started++;
	c->in_flight++;
	g_dbus_connection_call(c->d->connection,
	                       "org.gwmo.Gateway1",
	                       "/org/gwmo/Gateway1",
	                       "org.gwmo.Gateway1.Manager",
	                       "StartSession",
	                       g_variant_new("(s)", a->server_id),
	                       G_VARIANT_TYPE("(uu)"),
	                       G_DBUS_CALL_FLAGS_NONE,
	                       60000,
	                       NULL,
	                       bench_concurrent_done_cb,
	                       call);
}

/* seconds for @n sessions, @k at a time (accounts 1..k) */
static gdouble
bench_sessions_concurrent(GwTestDaemon *d, BenchServer *server, guint n, guint k)
{
	BenchConcurrent c = {d, server, 0, 0, n, 0, NULL};
	gint64 start = g_get_monotonic_time();
	guint finished_before = server->finished;

	for (guint i = 1; i <= k && c.started < n; i++)
		bench_concurrent_start(&c, i);
	while (c.in_flight > 0)
		g_main_context_iteration(NULL, TRUE);
	if (c.error != NULL)
		bench_fail("concurrent sessions: %s", c.error);
	if (server->error != NULL)
		bench_fail("%s", server->error);
	if (server->finished != finished_before + n)
		bench_fail("concurrent sessions: %u finished on the server side, not %u",
		           server->finished - finished_before,
		           n);
	return (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

typedef struct {
	BenchRaw *raw;
	GArray *pairs;
	guint started; /* pseudo-sessions */
	guint n;
	guint in_flight; /* chains */
	gchar *error;
} BenchRawConcurrent;

typedef struct {
	BenchRawConcurrent *c;
	SoupMessage *msg;
	guint step; /* round trip within the pseudo-session */
} BenchRawChain;

static void bench_raw_chain_next(BenchRawChain *chain);

static void
bench_raw_chain_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BenchRawChain *chain = user_data;
	BenchRawConcurrent *c = chain->c;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	const BenchPair *pair = &g_array_index(c->pairs, BenchPair, chain->step);

	if ((body == NULL || soup_message_get_status(chain->msg) != SOUP_STATUS_OK ||
	     g_bytes_get_size(body) != pair->response) &&
	    c->error == NULL)
		c->error = g_strdup_printf("raw POST: %s", error != NULL ? error->message : "bad reply");
	g_clear_object(&chain->msg);
	c->raw->bytes += pair->request + pair->response;
	chain->step++;
	if (chain->step == c->pairs->len) {
		chain->step = 0;
		if (c->started >= c->n || c->error != NULL) {
			c->in_flight--;
			g_free(chain);
			return;
		}
		c->started++;
	}
	bench_raw_chain_next(chain);
}

static void
bench_raw_chain_next(BenchRawChain *chain)
{
	BenchRawConcurrent *c = chain->c;
	const BenchPair *pair = &g_array_index(c->pairs, BenchPair, chain->step);
	g_autoptr(GBytes) request = g_bytes_new_static(c->raw->buffer, pair->request);
	g_autofree gchar *size = g_strdup_printf("%" G_GSIZE_FORMAT, pair->response);

	chain->msg = soup_message_new("POST", c->raw->url);
	soup_message_add_flags(chain->msg, SOUP_MESSAGE_IDEMPOTENT);
	soup_message_set_request_body_from_bytes(chain->msg, DM_CONTENT_TYPE, request);
	soup_message_headers_replace(
	    soup_message_get_request_headers(chain->msg), "X-Bench-Size", size);
	soup_session_send_and_read_async(
	    c->raw->session, chain->msg, G_PRIORITY_DEFAULT, NULL, bench_raw_chain_cb, chain);
}

/* seconds for @n pseudo-sessions on @k parallel keep-alive connections */
static gdouble
bench_raw_sessions_concurrent(BenchRaw *raw, GArray *pairs, guint n, guint k)
{
	BenchRawConcurrent c = {raw, pairs, 0, n, 0, NULL};
	gint64 start = g_get_monotonic_time();

	for (guint i = 0; i < k && c.started < n; i++) {
		BenchRawChain *chain = g_new0(BenchRawChain, 1);
		chain->c = &c;
		c.started++;
		c.in_flight++;
		bench_raw_chain_next(chain);
	}
	while (c.in_flight > 0)
		g_main_context_iteration(NULL, TRUE);
	if (c.error != NULL)
		bench_fail("%s", c.error);
	return (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

/* VmRSS of @pid in KiB, 0 if unknown */
static guint64
bench_rss_kib(const gchar *pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%s/status", pid);
	g_autofree gchar *status = NULL;
	const gchar *line;

	if (pid == NULL || !g_file_get_contents(path, &status, NULL, NULL))
		return 0;
	line = strstr(status, "\nVmRSS:");
	if (line == NULL)
		return 0;
	return g_ascii_strtoull(line + strlen("\nVmRSS:"), NULL, 10);
}

/* when run by hand from the build dir: gwmod is ../../core/gwmod relative to this program */
static void
bench_find_gwmod(const gchar *argv0)
{
	g_autofree gchar *dir = NULL;
	g_autofree gchar *path = NULL;

	if (g_getenv("GWMO_TEST_GWMOD") != NULL)
		return;
	dir = g_path_get_dirname(argv0);
	path = g_build_filename(dir, "..", "..", "core", "gwmod", NULL);
	if (!g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
		bench_fail("set GWMO_TEST_GWMOD to the gwmod binary (%s not found)", path);
	g_setenv("GWMO_TEST_GWMOD", path, TRUE);
}

/* what one save of gwmod's tree costs on this file system: the same steps as GwDmStore (write a
 * temporary file of the tree's size, fsync, rename over, fsync the directory); in microseconds */
static gdouble
bench_save_us(const gchar *dir, gsize size)
{
	g_autofree gchar *data = g_malloc(MAX(size, 1));
	g_autofree gchar *path = g_build_filename(dir, "bench-fsync.state", NULL);
	gint64 start;

	memset(data, 'x', MAX(size, 1));
	start = g_get_monotonic_time();
	for (guint i = 0; i < DISK_SAVES; i++) {
		g_autofree gchar *tmp = g_build_filename(dir, "bench-fsync.state.XXXXXX", NULL);
		int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
		int dir_fd;

		if (fd < 0 || write(fd, data, size) != (gssize)size || fsync(fd) != 0 ||
		    close(fd) != 0 || g_rename(tmp, path) != 0)
			bench_fail("disk estimate in %s: %s", dir, g_strerror(errno));
		dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir_fd < 0)
			bench_fail("disk estimate: %s: %s", dir, g_strerror(errno));
		fsync(dir_fd);
		close(dir_fd);
	}
	g_unlink(path);
	return (gdouble)(g_get_monotonic_time() - start) / DISK_SAVES;
}

/* one journal append as GwDmStore does it (write of @size bytes to an O_APPEND file,
 * fdatasync); in microseconds */
static gdouble
bench_append_us(const gchar *dir, gsize size)
{
	g_autofree gchar *data = g_malloc(MAX(size, 1));
	g_autofree gchar *path = g_build_filename(dir, "bench-fsync.journal", NULL);
	gint64 start;
	int fd;

	memset(data, 'x', MAX(size, 1));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		bench_fail("disk estimate in %s: %s", dir, g_strerror(errno));
	start = g_get_monotonic_time();
	for (guint i = 0; i < DISK_SAVES; i++) {
		if (write(fd, data, size) != (gssize)size || fdatasync(fd) != 0)
			bench_fail("disk estimate in %s: %s", dir, g_strerror(errno));
	}
	close(fd);
	g_unlink(path);
	return (gdouble)(g_get_monotonic_time() - start) / DISK_SAVES;
}

/* user+system CPU time of process @pid (NULL: this one) in seconds, 0 if unknown */
static gdouble
bench_cpu_seconds(const gchar *pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%s/stat", pid != NULL ? pid : "self");
	g_autofree gchar *stat = NULL;
	g_auto(GStrv) fields = NULL;
	const gchar *p;

	if (!g_file_get_contents(path, &stat, NULL, NULL))
		return 0;
	/* after "(comm) ": state is field 3, utime 14, stime 15 */
	p = strrchr(stat, ')');
	if (p == NULL || p[1] == '\0')
		return 0;
	fields = g_strsplit(p + 2, " ", 0);
	if (g_strv_length(fields) < 13)
		return 0;
	return (gdouble)(g_ascii_strtoull(fields[11], NULL, 10) +
	                 g_ascii_strtoull(fields[12], NULL, 10)) /
	       (gdouble)sysconf(_SC_CLK_TCK);
}

/* the PID of the private dbus-daemon (a child of this process), NULL if not found */
static gchar *
bench_find_bus_daemon(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
	g_autofree gchar *self = g_strdup_printf("%d", (int)getpid());
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = g_strdup_printf("/proc/%s/stat", name);
		g_autofree gchar *stat = NULL;
		g_auto(GStrv) fields = NULL;
		const gchar *p;

		if (!g_ascii_isdigit(name[0]) || !g_file_get_contents(path, &stat, NULL, NULL))
			continue;
		p = strrchr(stat, ')');
		if (strstr(stat, "(dbus-daemon)") == NULL || p == NULL || p[1] == '\0')
			continue;
		fields = g_strsplit(p + 2, " ", 3); /* state, ppid, … */
		if (g_strv_length(fields) >= 2 && g_strcmp0(fields[1], self) == 0)
			return g_strdup(name);
	}
	return NULL;
}

/* tree saves gwmod logged so far (--debug-domains GwStore) */
static guint
bench_count_saves(GwTestDaemon *d)
{
	g_autofree gchar *log = gw_test_daemon_read_log(d);
	guint n = 0;

	for (const gchar *p = strstr(log, "saved "); p != NULL; p = strstr(p + 1, "saved "))
		n++;
	return n;
}

/* journal records gwmod appended so far, and their bytes */
static guint
bench_count_appends(GwTestDaemon *d, guint64 *bytes)
{
	static const gchar tag[] = "appended journal record ";
	g_autofree gchar *log = gw_test_daemon_read_log(d);
	guint n = 0;

	*bytes = 0;
	for (const gchar *p = strstr(log, tag); p != NULL; p = strstr(p + 1, tag)) {
		const gchar *open = strchr(p, '(');
		n++;
		if (open != NULL)
			*bytes += g_ascii_strtoull(open + 1, NULL, 10);
	}
	return n;
}

static gdouble
rate(guint n, gdouble seconds)
{
	return seconds > 0 ? n / seconds : 0;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *tmpdir = NULL;
	g_autofree gchar *cert_path = NULL;
	g_autofree gchar *key_path = NULL;
	g_autofree gchar *extra = NULL;
	g_autofree gchar *tnds = NULL;
	g_autoptr(GTlsCertificate) certificate = NULL;
	g_auto(GStrv) uris = NULL;
	g_autoptr(GVariant) value = NULL;
	GwTestDaemon *d;
	BenchServer server = {0};
	BenchRaw raw = {0};
	const gchar *pid;
	const gchar *env;
	const gchar *const daemon_args[] = {"--debug-domains", "GwStore", NULL};
	g_autofree gchar *state_file = NULL;
	GStatBuf st;
	guint saves_before;
	gdouble gwmod_cpu = 0;
	gdouble ours_cpu_self = 0;
	gdouble raw_cpu = 0;
	g_autoptr(GArray) ours_lat = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GArray) raw_lat = g_array_new(FALSE, FALSE, sizeof(gdouble));
	gdouble ours_p50;
	gdouble raw_p50;
	guint saves_after;
	guint appends_before;
	guint appends_after;
	guint64 append_bytes_before = 0;
	guint64 append_bytes_after = 0;
	gdouble append_mean;
	gdouble append_us;
	gdouble save_us;
	gdouble seconds = 8.0;
	guint concurrency = 0; /* the highest level: that many accounts */
	guint levels[8];
	guint n_levels = 0;
	g_autofree gchar *bus_pid = NULL;
	gdouble calib;
	gdouble ours_time[ROUNDS];
	gdouble raw_time[ROUNDS];
	gdouble ours_total = 0;
	gdouble raw_total = 0;
	gdouble best_ours = 0;
	gdouble best_raw = 0;
	gdouble dbus_us;
	gdouble ratio;
	gsize max_size = 0;
	guint64 rss_before;
	guint64 rss_after;
	guint64 ref_bytes = 0;
	guint n;
	gint64 t0;

	bench_find_gwmod(argv[0]);
	env = g_getenv("GW_BENCH_SECONDS");
	if (env != NULL && g_ascii_strtod(env, NULL) > 0)
		seconds = g_ascii_strtod(env, NULL);

	/* the DM Server's identity; gwmod trusts it through [northbound] ca-file */
	tmpdir = g_dir_make_tmp("gwmo-bench-XXXXXX", &error);
	if (tmpdir == NULL)
		bench_fail("%s", error->message);
	cert_path = g_build_filename(tmpdir, "server.crt", NULL);
	key_path = g_build_filename(tmpdir, "server.key", NULL);
	certificate = gw_crypto_load_or_create(cert_path, key_path, "bench-dm-server", &error);
	if (certificate == NULL)
		bench_fail("server certificate: %s", error->message);

	env = g_getenv("GW_BENCH_CONCURRENCY");
	if (env == NULL || env[0] == '\0')
		env = CONCURRENCY;
	{
		g_auto(GStrv) words = g_strsplit_set(env, ", ", -1);
		for (guint i = 0; words[i] != NULL && n_levels < G_N_ELEMENTS(levels); i++) {
			guint64 k = g_ascii_strtoull(words[i], NULL, 10);
			if (k == 0)
				continue;
			levels[n_levels++] = (guint)MIN(k, MAX_CONCURRENCY);
			concurrency = MAX(concurrency, levels[n_levels - 1]);
		}
		if (n_levels == 0)
			bench_fail("GW_BENCH_CONCURRENCY: no level in \"%s\"", env);
	}
	server.accounts = g_ptr_array_new_with_free_func(bench_account_free);
	for (guint k = 0; k <= concurrency; k++)
		g_ptr_array_add(server.accounts, bench_account_new(k));
	server.sessions =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bench_server_session_free);
	server.http = gw_http_server_new(certificate);
	gw_http_server_add_handler(server.http, "/dm", bench_server_handler, &server, NULL);
	for (guint k = 1; k <= concurrency; k++) {
		g_autofree gchar *path = g_strdup_printf("/dm/%u", k);
		gw_http_server_add_handler(server.http, path, bench_server_handler, &server, NULL);
	}
	if (!gw_http_server_listen(server.http, "https://127.0.0.1:0", &error))
		bench_fail("DM Server listener: %s", error->message);
	uris = gw_http_server_get_uris(server.http);
	if (uris == NULL || uris[0] == NULL)
		bench_fail("DM Server listener has no URI");
	server.url = g_strconcat(uris[0], g_str_has_suffix(uris[0], "/") ? "" : "/", "dm", NULL);

	/* the real gwmod, no listener of its own */
	extra = g_strdup_printf("[northbound]\nlisten=\nca-file=%s\n[southbound]\nlisten=\n", cert_path);
	d = gw_test_daemon_new_with_config(extra);
	/* as it ships: warnings and messages only, no informational log lines */
	d->quiet = g_getenv("GW_BENCH_VERBOSE") == NULL;
	gw_test_daemon_start(d, daemon_args);
	pid = g_subprocess_get_identifier(d->daemon);
	bus_pid = bench_find_bus_daemon();
	tnds = bench_bootstrap_tnds(server.url);
	g_variant_unref(bench_call(d, "Bootstrap", g_variant_new("(sss)", tnds, ".", ""), "()"));
	for (guint k = 1; k <= concurrency; k++) {
		g_autofree gchar *more = bench_bootstrap_account_tnds(server.url, k);
		g_variant_unref(
		    bench_call(d, "Bootstrap", g_variant_new("(sss)", more, ".", ""), "()"));
	}

	/* warm-up (TLS handshake, first nonces), then calibrate N */
	bench_sessions(d, &server, WARMUP_SESSIONS, NULL);
	calib = bench_sessions(d, &server, CALIBRATION_SESSIONS, NULL) / CALIBRATION_SESSIONS;
	n = (guint)CLAMP(seconds / ROUNDS / MAX(calib, 1e-6), MIN_SESSIONS, 1000000);

	/* a trivial D-Bus call: what StartSession costs beyond the session itself */
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < DBUS_CALLS; i++)
		g_variant_unref(
		    bench_call(d, "GetNode", g_variant_new("(s)", "./DevInfo/DevId"), "(ssv)"));
	dbus_us = (gdouble)(g_get_monotonic_time() - t0) / DBUS_CALLS;

	/* the same round trips, raw; the first counted session gives the sizes */
	server.counting = TRUE;
	bench_one_session(d, &server);
	for (guint i = 0; i < server.reference->len; i++) {
		BenchPair *p = &g_array_index(server.reference, BenchPair, i);
		max_size = MAX(max_size, MAX(p->request, p->response));
		ref_bytes += p->request + p->response;
	}
	bench_raw_init(&raw, certificate, cert_path, max_size);
	bench_raw_sessions(&raw, server.reference, WARMUP_SESSIONS, NULL);
	server.round_trips = 0;
	server.bytes = 0;
	server.finished = 0;
	raw.bytes = 0;

	/* alternate the two loops; each one's best round and the overall mean are printed */
	rss_before = bench_rss_kib(pid);
	saves_before = bench_count_saves(d);
	appends_before = bench_count_appends(d, &append_bytes_before);
	server.handler_us = 0;
	for (guint r = 0; r < ROUNDS; r++) {
		gdouble g0 = bench_cpu_seconds(pid);
		gdouble s0 = bench_cpu_seconds(NULL);

		ours_time[r] = bench_sessions(d, &server, n, ours_lat);
		gwmod_cpu += bench_cpu_seconds(pid) - g0;
		ours_cpu_self += bench_cpu_seconds(NULL) - s0;
		s0 = bench_cpu_seconds(NULL);
		raw_time[r] = bench_raw_sessions(&raw, server.reference, n, raw_lat);
		raw_cpu += bench_cpu_seconds(NULL) - s0;
		ours_total += ours_time[r];
		raw_total += raw_time[r];
		best_ours = MAX(best_ours, rate(n, ours_time[r]));
		best_raw = MAX(best_raw, rate(n, raw_time[r]));
	}
	rss_after = bench_rss_kib(pid);
	saves_after = bench_count_saves(d);
	appends_after = bench_count_appends(d, &append_bytes_after);
	state_file = g_build_filename(d->state_dir, "tree.state", NULL);
	if (g_stat(state_file, &st) != 0)
		bench_fail("%s: %s", state_file, g_strerror(errno));
	save_us = bench_save_us(d->state_dir, (gsize)st.st_size);
	append_mean = appends_after > appends_before
	                  ? (gdouble)(append_bytes_after - append_bytes_before) /
	                        (appends_after - appends_before)
	                  : 0;
	append_us = bench_append_us(d->state_dir, (gsize)MAX(append_mean, 1));

	/* the tree holds what the last session wrote */
	value = bench_call(d, "GetNode", g_variant_new("(s)", BENCH_URI), "(ssv)");
	{
		g_autoptr(GVariant) v = NULL;
		g_variant_get(value, "(&s&sv)", NULL, NULL, &v);
		if (!g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ||
		    g_strcmp0(g_variant_get_string(v, NULL), server.last_value) != 0)
			bench_fail("%s does not hold the last Replace", BENCH_URI);
	}
	if (server.finished != n * ROUNDS)
		bench_fail("%u sessions finished instead of %u", server.finished, n * ROUNDS);
	ratio = rate(n * ROUNDS, raw_total) > 0
	            ? rate(n * ROUNDS, ours_total) / rate(n * ROUNDS, raw_total)
	            : 0;

	g_print("gwmod session benchmark: DM Server (this process) <-> real gwmod, HTTPS on "
	        "loopback\n");
	g_print("session:      Pkg#1 + MD5 both ways, Get ./DevInfo/DevId, Replace %s (%u bytes)\n",
	        BENCH_URI,
	        BENCH_VALUE_LEN);
	g_print(
	    "sessions:     %u per round, %u rounds, alternating with the raw loop\n", n, ROUNDS);
	g_print("round trips:  %u per session (mean %.2f)",
	        server.reference->len,
	        (gdouble)server.round_trips / server.finished);
	for (guint i = 0; i < server.reference->len; i++) {
		BenchPair *p = &g_array_index(server.reference, BenchPair, i);
		g_print("%s%" G_GSIZE_FORMAT "/%" G_GSIZE_FORMAT,
		        i == 0 ? "  req/resp bytes " : ", ",
		        p->request,
		        p->response);
	}
	g_print("\n");
	g_print("bytes:        %" G_GUINT64_FORMAT
	        " HTTP body bytes per session (the first counted;"
	        " the raw loop\n              moved %.0f per pseudo-session); all sessions: mean"
	        " %.0f, %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "\n              (gwmod's"
	        " SessionID has 1-4 hex digits)\n",
	        ref_bytes,
	        (gdouble)raw.bytes / (n * ROUNDS),
	        (gdouble)server.bytes / server.finished,
	        server.min_bytes,
	        server.max_bytes);
	g_print("\n");
	ours_p50 = bench_quantile(ours_lat, 0.5);
	raw_p50 = bench_quantile(raw_lat, 0.5);
	g_print("                   sessions/s  ms/session  best round/s   p50 ms  p90 ms  p99 ms"
	        "  max ms\n");
	g_print("gwmod (D-Bus+DM)   %10.1f  %10.3f  %12.1f  %7.3f %7.3f %7.3f %7.3f\n",
	        rate(n * ROUNDS, ours_total),
	        1e3 * ours_total / (n * ROUNDS),
	        best_ours,
	        ours_p50 / 1e3,
	        bench_quantile(ours_lat, 0.9) / 1e3,
	        bench_quantile(ours_lat, 0.99) / 1e3,
	        bench_quantile(ours_lat, 1.0) / 1e3);
	g_print("raw libsoup POSTs  %10.1f  %10.3f  %12.1f  %7.3f %7.3f %7.3f %7.3f\n",
	        rate(n * ROUNDS, raw_total),
	        1e3 * raw_total / (n * ROUNDS),
	        best_raw,
	        raw_p50 / 1e3,
	        bench_quantile(raw_lat, 0.9) / 1e3,
	        bench_quantile(raw_lat, 0.99) / 1e3,
	        bench_quantile(raw_lat, 1.0) / 1e3);
	g_print("ratio ours/raw     %10.2f  (target >= %.1f: %s); best rounds %.2f, medians %.2f\n",
	        ratio,
	        TARGET_RATIO,
	        ratio >= TARGET_RATIO ? "met" : "NOT met",
	        best_raw > 0 ? best_ours / best_raw : 0,
	        ours_p50 > 0 ? raw_p50 / ours_p50 : 0);
	g_print("\n");
	g_print("gwmod VmRSS:  %" G_GUINT64_FORMAT " KiB before, %" G_GUINT64_FORMAT
	        " KiB after the measured sessions (%+" G_GINT64_FORMAT " KiB)\n",
	        rss_before,
	        rss_after,
	        (gint64)rss_after - (gint64)rss_before);
	g_print("D-Bus:        a trivial call (GetNode) takes %.1f us round trip, %.1f%% of a "
	        "session\n",
	        dbus_us,
	        100.0 * dbus_us / (1e6 * ours_total / (n * ROUNDS)));
	g_print(
	    "CPU:          per session: gwmod %.0f us, this process %.0f us (DM Server\n"
	    "              handler %.0f us wall); per raw pseudo-session %.0f us (client+server)\n",
	    1e6 * gwmod_cpu / (n * ROUNDS),
	    1e6 * ours_cpu_self / (n * ROUNDS),
	    (gdouble)server.handler_us / (n * ROUNDS),
	    1e6 * raw_cpu / (n * ROUNDS));
	{
		gdouble saves_per = (gdouble)(saves_after - saves_before) / (n * ROUNDS);
		gdouble appends_per = (gdouble)(appends_after - appends_before) / (n * ROUNDS);
		gdouble disk_us = saves_per * save_us + appends_per * append_us;
		g_print("disk:         gwmod appended %.2f journal record(s) per session (mean %.0f"
		        " bytes);\n              one append + fdatasync takes %.0f us here;\n"
		        "              it saved its whole tree (%" G_GOFFSET_FORMAT
		        " bytes, compaction) %.4f times per session;\n"
		        "              one such save (write, fsync, rename, fsync dir) takes %.0f us;\n"
		        "              save cost per session %.0f us, about %.0f%% of a session\n",
		        appends_per,
		        append_mean,
		        append_us,
		        (goffset)st.st_size,
		        saves_per,
		        save_us,
		        disk_us,
		        100.0 * disk_us / (1e6 * ours_total / (n * ROUNDS)));
	}
	/* the second figure: K sessions in flight (K accounts) vs K parallel raw connections,
	 * for each K asked; the peak of each side is compared */
	{
		gdouble peak_ours = 0;
		gdouble peak_raw = 0;
		guint peak_ours_k = 0;
		guint peak_raw_k = 0;

		server.counting = FALSE;
		g_print("\nconcurrent:   K sessions in flight (K DMAcc accounts on the gateway, one session\n"
		        "              each at a time) vs K parallel raw keep-alive connections,\n"
		        "              %u sessions per round, %u rounds alternating\n"
		        "     K  gwmod sessions/s  raw sessions/s  ratio  best rounds  | CPU us/session:"
		        " gwmod  here  bus  | appends/session\n",
		        n,
		        ROUNDS);
		for (guint i = 0; i < n_levels; i++) {
			guint k = levels[i];
			gdouble c_ours = 0;
			gdouble c_raw = 0;
			gdouble c_cpu = 0;
			gdouble c_self = 0;
			gdouble c_bus = 0;
			gdouble c_best_ours = 0;
			gdouble c_best_raw = 0;
			guint64 c_bytes0 = 0;
			guint64 c_bytes1 = 0;
			guint c_app0;
			guint c_app1;

			bench_sessions_concurrent(d, &server, WARMUP_SESSIONS * k, k);
			bench_raw_sessions_concurrent(&raw, server.reference, WARMUP_SESSIONS * k, k);
			c_app0 = bench_count_appends(d, &c_bytes0);
			for (guint r = 0; r < ROUNDS; r++) {
				gdouble g0 = bench_cpu_seconds(pid);
				gdouble s0 = bench_cpu_seconds(NULL);
				gdouble b0 = bus_pid != NULL ? bench_cpu_seconds(bus_pid) : 0;
				gdouble t = bench_sessions_concurrent(d, &server, n, k);
				c_cpu += bench_cpu_seconds(pid) - g0;
				c_self += bench_cpu_seconds(NULL) - s0;
				c_bus += bus_pid != NULL ? bench_cpu_seconds(bus_pid) - b0 : 0;
				c_ours += t;
				c_best_ours = MAX(c_best_ours, rate(n, t));
				t = bench_raw_sessions_concurrent(&raw, server.reference, n, k);
				c_raw += t;
				c_best_raw = MAX(c_best_raw, rate(n, t));
			}
			c_app1 = bench_count_appends(d, &c_bytes1);
			g_print("  %4u  %16.1f  %14.1f  %5.2f  %11.2f  | %20.0f  %4.0f  %3.0f  | %.2f\n",
			        k,
			        rate(n * ROUNDS, c_ours),
			        rate(n * ROUNDS, c_raw),
			        c_ours > 0 ? c_raw / c_ours : 0,
			        c_best_raw > 0 ? c_best_ours / c_best_raw : 0,
			        1e6 * c_cpu / (n * ROUNDS),
			        1e6 * c_self / (n * ROUNDS),
			        1e6 * c_bus / (n * ROUNDS),
			        (gdouble)(c_app1 - c_app0) / (n * ROUNDS));
			if (rate(n * ROUNDS, c_ours) > peak_ours) {
				peak_ours = rate(n * ROUNDS, c_ours);
				peak_ours_k = k;
			}
			if (rate(n * ROUNDS, c_raw) > peak_raw) {
				peak_raw = rate(n * ROUNDS, c_raw);
				peak_raw_k = k;
			}
		}
		g_print("peak          gwmod %.1f sessions/s (K=%u), raw %.1f (K=%u): ratio %.2f"
		        " (target >= %.1f: %s)\n"
		        "              (\"here\" is this process: the DM Server and the D-Bus client;"
		        " \"bus\" the dbus-daemon)\n\n",
		        peak_ours,
		        peak_ours_k,
		        peak_raw,
		        peak_raw_k,
		        peak_raw > 0 ? peak_ours / peak_raw : 0,
		        TARGET_RATIO,
		        peak_raw > 0 && peak_ours / peak_raw >= TARGET_RATIO ? "met" : "NOT met");
	}

	g_print(
	    "notes:        ours includes the StartSession D-Bus call, gwmod's session engine and\n"
	    "              the DM Server side here (its GwDmSession per SessionID); gwmod makes\n"
	    "              every server message that changed its tree durable (a journal\n"
	    "              record, write + fdatasync) before it answers; it runs without\n"
	    "              --verbose (GW_BENCH_VERBOSE=1 turns it on); the raw loop has client and server in\n"
	    "              this one process and only moves fixed bytes.\n"
	    "              Both reuse one keep-alive TLS connection.\n");

	bench_raw_clear(&raw);
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
	gw_http_server_disconnect(server.http);
	g_object_unref(server.http);
	g_hash_table_unref(server.sessions);
	g_clear_pointer(&server.reference, g_array_unref);
	g_ptr_array_unref(server.accounts);
	g_free(server.last_value);
	g_free(server.url);
	g_free(server.error);
	g_remove(cert_path);
	g_remove(key_path);
	g_rmdir(tmpdir);
	return EXIT_SUCCESS;
}
