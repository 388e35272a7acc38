/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, POST /bootstrap on the northbound listener (issue 14 §1, seed 001 work flow 2):
 * the real gwmod on a private bus, configured with one authorised bootstrap server
 * ([bootstrap] servers, secrets-file), over HTTPS on 127.0.0.1.
 *  - an authorised bootstrap (XML, SyncHdr auth-md5 Cred) adds a DMAcc: GetNode reads it, a
 *    Server object with its ServerID appears, its AAuthSecret is NotAllowed, absent from
 *    ExportTree and from the log; the account's ACL is Get and Replace for its own server;
 *  - the same in WBXML (encoded by Debian's xml2wbxml), authenticated by x-syncml-hmac;
 *  - no credentials, a wrong secret, a forged or replayed-on-another-body HMAC, auth-basic, a
 *    server that is not a bootstrap server, malformed XML, a Delete, a node outside ./DMAcc, a
 *    query, a bad format or a node the DMAcc DDF does not have among valid commands: each is
 *    refused with its status and ExportTree(".") is the same before and after;
 *  - a signed body applied before is refused when POSTed again (409, nothing changed), also
 *    after a SIGKILL and restart; a new body applies;
 *  - a bootstrap server with a certificate pin ([bootstrap] certificates-file): accepted with
 *    its pinned TLS client certificate only (another certificate, none: 403, nothing changed,
 *    the log names the ServerID and the fingerprint seen); a server without a pin is accepted
 *    without a certificate, and a DM Server's notification and session on the same listener
 *    need none.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "gw-crypto.h"
#include "gw-dm-auth.h"
#include "gw-e2e.h"
#include "gw-http-client.h"

#define BS_ID "bs.example"
#define BS_SECRET "bootstrap-secret-9"
#define NEW_SERVER "srv2.example"
#define NEW_SECRET "new-account-secret-2"

/* ---- messages ---- */

static gchar *
item_cmd(const gchar *cmd, guint id, const gchar *uri, const gchar *format, const gchar *data)
{
	return g_strdup_printf("<%s><CmdID>%u</CmdID><Item><Target><LocURI>%s</LocURI></Target>"
	                       "<Meta><Format xmlns=\"syncml:metinf\">%s</Format></Meta>"
	                       "%s%s%s</Item></%s>",
	                       cmd,
	                       id,
	                       uri,
	                       format,
	                       data != NULL ? "<Data>" : "",
	                       data != NULL ? data : "",
	                       data != NULL ? "</Data>" : "",
	                       cmd);
}

/* an Atomic adding the account ./DMAcc/@name for ServerID @server_id, then @extra commands */
static gchar *
account_cmds(const gchar *name, const gchar *server_id, const gchar *extra)
{
	g_autoptr(GString) s = g_string_new("<Atomic><CmdID>1</CmdID>");
	struct {
		const gchar *rel, *format, *data;
	} nodes[] = {
	    {"", "node", NULL},
	    {"/AppID", "chr", "w7"},
	    {"/ServerID", "chr", server_id},
	    {"/Name", "chr", "bootstrapped"},
	    {"/AppAddr/1/Addr", "chr", "https://127.0.0.1:9/dm"},
	    {"/AppAddr/1/AddrType", "chr", "URI"},
	    {"/AppAuth/1/AAuthLevel", "chr", "CLCRED"},
	    {"/AppAuth/1/AAuthType", "chr", "DIGEST"},
	    {"/AppAuth/1/AAuthName", "chr", "gateway-2"},
	    {"/AppAuth/1/AAuthSecret", "chr", NEW_SECRET},
	};
	for (guint i = 0; i < G_N_ELEMENTS(nodes); i++) {
		g_autofree gchar *uri = g_strdup_printf("./DMAcc/%s%s", name, nodes[i].rel);
		g_autofree gchar *c = item_cmd("Add", i + 2, uri, nodes[i].format, nodes[i].data);
		g_string_append(s, c);
	}
	g_string_append(s, "</Atomic>");
	if (extra != NULL)
		g_string_append(s, extra);
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static gchar *
md5_cred(const gchar *user, const gchar *secret)
{
	g_autofree gchar *digest = gw_dm_auth_md5_digest(user, secret, NULL, 0);
	return g_strdup_printf("<Cred><Meta><Format xmlns=\"syncml:metinf\">b64</Format>"
	                       "<Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type></Meta>"
	                       "<Data>%s</Data></Cred>",
	                       digest);
}

static gchar *
message(const gchar *source_name, const gchar *cred, const gchar *body)
{
	return g_strdup_printf(
	    "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
	    "<VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>"
	    "<Target><LocURI>GW-TEST-0001</LocURI></Target>"
	    "<Source><LocURI>https://bs.example/bootstrap</LocURI><LocName>%s</LocName></Source>"
	    "%s</SyncHdr><SyncBody>%s<Final/></SyncBody></SyncML>",
	    source_name,
	    cred != NULL ? cred : "",
	    body);
}

/* ---- HTTP ---- */

typedef struct {
	GMainLoop *loop;
	GwHttpResponse *response;
	GError *error;
} Post;

static void
post_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Post *p = user_data;
	p->response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &p->error);
	g_main_loop_quit(p->loop);
}

/* POSTs @body to /bootstrap (with an x-syncml-hmac header when @hmac); the HTTP status */
static guint
post(Env *e, const gchar *content_type, GBytes *body, const gchar *hmac)
{
	g_autofree gchar *ca = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *bs_url = NULL;
	g_autoptr(GwHttpClient) client = gw_http_client_new(ca, NULL);
	const gchar *headers[] = {GW_DM_AUTH_HMAC_HEADER, hmac, NULL};
	Post p = {0};
	guint status;

	/* notify_url() is ".../notify" */
	url[strlen(url) - strlen("notify")] = '\0';
	bs_url = g_strconcat(url, "bootstrap", NULL);
	gw_http_client_set_retries(client, 0, 10);
	p.loop = g_main_loop_new(NULL, FALSE);
	gw_http_client_post_async(client,
	                          bs_url,
	                          content_type,
	                          body,
	                          hmac != NULL ? headers : NULL,
	                          NULL,
	                          post_done_cb,
	                          &p);
	g_main_loop_run(p.loop);
	g_main_loop_unref(p.loop);
	g_assert_no_error(p.error);
	status = p.response->status;
	gw_http_response_free(p.response);
	return status;
}

static guint
post_xml(Env *e, const gchar *xml, const gchar *hmac)
{
	g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
	return post(e, "application/vnd.syncml.dm+xml", body, hmac);
}

static gchar *
hmac_for(const gchar *user, const gchar *secret, GBytes *body)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);
	g_autofree gchar *mac = gw_dm_auth_hmac_compute(user, secret, NULL, 0, data, len);
	return gw_dm_auth_hmac_header(user, mac);
}

/* ---- the gateway ---- */

static gchar *secrets_dir = NULL;

static Env *
bootstrap_env(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *secrets = NULL;
	g_autofree gchar *conf = NULL;

	secrets_dir = g_dir_make_tmp("gwmo-bs-XXXXXX", &error);
	g_assert_no_error(error);
	secrets = g_build_filename(secrets_dir, "bootstrap-secrets", NULL);
	g_assert_true(g_file_set_contents(
	    secrets, "[secrets]\n" BS_ID "=" BS_SECRET "\nother.example=other-secret\n", -1, NULL));
	g_chmod(secrets, 0600);
	conf = g_strdup_printf("[bootstrap]\nservers=" BS_ID "\nsecrets-file=%s\n", secrets);
	return env_new_with_config(conf);
}

static void
bootstrap_env_free(Env *e)
{
	g_autofree gchar *secrets = g_build_filename(secrets_dir, "bootstrap-secrets", NULL);
	env_free(e);
	g_remove(secrets);
	g_rmdir(secrets_dir);
	g_clear_pointer(&secrets_dir, g_free);
}

static gchar *
export_tree(GwTestDaemon *d, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(d, "ExportTree", g_variant_new("(s)", uri), "(s)", &error);
	gchar *xml = NULL;
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &xml);
	return xml;
}

typedef struct {
	GwTestDaemon *d;
	const gchar *path;
} ServerWait;

static gchar *
server_id_of(GwTestDaemon *d, const gchar *path)
{
	g_autoptr(GVariant) r = NULL;
	g_autoptr(GVariant) v = NULL;
	r = g_dbus_connection_call_sync(
	    d->connection,
	    "org.gwmo.Gateway1",
	    path,
	    "org.freedesktop.DBus.Properties",
	    "Get",
	    g_variant_new("(ss)", "org.gwmo.Gateway1.Server", "ServerID"),
	    G_VARIANT_TYPE("(v)"),
	    G_DBUS_CALL_FLAGS_NONE,
	    -1,
	    NULL,
	    NULL);
	if (r == NULL)
		return NULL;
	g_variant_get(r, "(v)", &v);
	return g_variant_dup_string(v, NULL);
}

static gboolean
server_appeared(gpointer data)
{
	ServerWait *w = data;
	g_autofree gchar *sid = server_id_of(w->d, w->path);
	return g_strcmp0(sid, NEW_SERVER) == 0;
}

/* the account ./DMAcc/@name made by a bootstrap: readable, a Server object, secret hidden */
static void
assert_account(Env *e, const gchar *name)
{
	g_autofree gchar *sid_uri = g_strdup_printf("./DMAcc/%s/ServerID", name);
	g_autofree gchar *addr_uri = g_strdup_printf("./DMAcc/%s/AppAddr/1/Addr", name);
	g_autofree gchar *secret_uri = g_strdup_printf("./DMAcc/%s/AppAuth/1/AAuthSecret", name);
	g_autofree gchar *path = g_strdup_printf("/org/gwmo/Gateway1/Servers/%s", name);
	g_autofree gchar *sid = get_value(e->d, sid_uri, NULL);
	g_autofree gchar *addr = get_value(e->d, addr_uri, NULL);
	g_autofree gchar *error_name = NULL;
	g_autofree gchar *secret = get_value(e->d, secret_uri, &error_name);
	g_autofree gchar *xml = export_tree(e->d, ".");
	g_autofree gchar *log = NULL;
	ServerWait w = {e->d, path};

	g_assert_cmpstr(sid, ==, NEW_SERVER);
	g_assert_cmpstr(addr, ==, "https://127.0.0.1:9/dm");
	g_assert_null(secret);
	g_assert_cmpstr(error_name, ==, "org.gwmo.Gateway1.Error.NotAllowed");
	g_assert_true(e2e_wait(server_appeared, &w, 20));
	g_assert_nonnull(strstr(xml, NEW_SERVER));
	g_assert_null(strstr(xml, NEW_SECRET));
	/* the new account is its server's alone */
	g_assert_nonnull(strstr(xml, "<ACL>Get=" NEW_SERVER "&amp;Replace=" NEW_SERVER "</ACL>"));
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "bootstrap applied from 127.0.0.1"));
	g_assert_null(strstr(log, NEW_SECRET));
	g_assert_null(strstr(log, BS_SECRET));
}

/* XML with the auth-md5 Cred of the bootstrap server */
static void
test_bootstrap_authorised(void)
{
	Env *e = bootstrap_env();
	g_autofree gchar *cred = md5_cred(BS_ID, BS_SECRET);
	g_autofree gchar *cmds = account_cmds("bs2", NEW_SERVER, NULL);
	g_autofree gchar *xml = message(BS_ID, cred, cmds);

	g_assert_cmpuint(post_xml(e, xml, NULL), ==, 200);
	assert_account(e, "bs2");
	/* it survives a restart (stored before the answer) */
	gw_test_daemon_stop(e->d);
	gw_test_daemon_start(e->d, NULL);
	{
		g_autofree gchar *sid = get_value(e->d, "./DMAcc/bs2/ServerID", NULL);
		g_assert_cmpstr(sid, ==, NEW_SERVER);
	}
	bootstrap_env_free(e);
}

/* WBXML from an independent encoder, authenticated by x-syncml-hmac over the bytes sent */
static void
test_bootstrap_wbxml(void)
{
	g_autofree gchar *tool = g_find_program_in_path("xml2wbxml");
	g_autofree gchar *cmds = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *in = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *wbxml = NULL;
	g_autofree gchar *hmac = NULL;
	g_autofree gchar *forged = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	gint status = 0;
	Env *e;

	if (tool == NULL) {
		g_test_skip("xml2wbxml (libwbxml2-utils) not installed");
		return;
	}
	e = bootstrap_env();
	cmds = account_cmds("bs2", NEW_SERVER, NULL);
	/* no Cred: the HMAC header authenticates */
	xml = message(BS_ID, NULL, cmds);
	in = g_build_filename(secrets_dir, "bootstrap.xml", NULL);
	out = g_build_filename(secrets_dir, "bootstrap.wbxml", NULL);
	g_assert_true(g_file_set_contents(in, xml, -1, NULL));
	{
		const gchar *argv[] = {tool, "-v", "1.2", "-o", out, in, NULL};
		g_spawn_sync(NULL,
		             (gchar **)argv,
		             NULL,
		             G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
		             NULL,
		             NULL,
		             NULL,
		             NULL,
		             &status,
		             &error);
		g_assert_no_error(error);
		g_assert_true(g_spawn_check_wait_status(status, NULL));
	}
	g_assert_true(g_file_get_contents(out, &wbxml, &len, NULL));
	g_assert_cmpuint(len, >, 0);
	g_assert_cmpint(wbxml[0], !=, '<');
	body = g_bytes_new(wbxml, len);
	/* a MAC by another secret first: refused, nothing changed */
	forged = hmac_for(BS_ID, "not-the-secret", body);
	g_assert_cmpuint(post(e, "application/vnd.syncml.dm+wbxml", body, forged), ==, 401);
	g_assert_null(get_value(e->d, "./DMAcc/bs2/ServerID", NULL));
	hmac = hmac_for(BS_ID, BS_SECRET, body);
	g_assert_cmpuint(post(e, "application/vnd.syncml.dm+wbxml", body, hmac), ==, 200);
	assert_account(e, "bs2");
	g_remove(in);
	g_remove(out);
	bootstrap_env_free(e);
}

/* each refused message changes nothing */
static void
test_bootstrap_refused(void)
{
	Env *e = bootstrap_env();
	g_autofree gchar *before = export_tree(e->d, ".");
	g_autofree gchar *after = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *good = md5_cred(BS_ID, BS_SECRET);
	g_autofree gchar *wrong = md5_cred(BS_ID, "wrong-secret");
	g_autofree gchar *other = md5_cred("other.example", "other-secret");
	g_autofree gchar *basic_data = gw_dm_auth_basic_encode(BS_ID, BS_SECRET);
	g_autofree gchar *basic =
	    g_strdup_printf("<Cred><Meta><Format xmlns=\"syncml:metinf\">b64</Format>"
	                    "<Type xmlns=\"syncml:metinf\">syncml:auth-basic</Type></Meta>"
	                    "<Data>%s</Data></Cred>",
	                    basic_data);
	g_autofree gchar *account = account_cmds("bs3", NEW_SERVER, NULL);
	struct {
		const gchar *what;
		gchar *xml;
		guint status;
	} cases[] = {
	    {"no credentials", message(BS_ID, NULL, account), 401},
	    {"wrong secret", message(BS_ID, wrong, account), 401},
	    {"auth-basic", message(BS_ID, basic, account), 401},
	    /* other.example has a secret in the file but is not in [bootstrap] servers */
	    {"not a bootstrap server", message("other.example", other, account), 403},
	    {"malformed XML", g_strdup("<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>"), 400},
	    {"not SyncML", g_strdup("<MgmtTree/>"), 400},
	    {"a Delete",
	     message(BS_ID,
	             good,
	             "<Delete><CmdID>1</CmdID><Item><Target><LocURI>./DMAcc/srv1</LocURI>"
	             "</Target></Item></Delete>"),
	     400},
	    {"no command", message(BS_ID, good, ""), 400},
	};
	g_autofree gchar *outside_cmd = item_cmd("Replace", 20, "./GwMO/Config/Mode", "int", "1");
	g_autofree gchar *query_cmd =
	    item_cmd("Replace", 20, "./DMAcc/srv1?prop=ACL", "chr", "Get=*");
	g_autofree gchar *format_cmd =
	    item_cmd("Add", 20, "./DMAcc/bs3/AppAuth/2/AAuthLevel", "int", "3");
	g_autofree gchar *ddf_cmd = item_cmd("Add", 20, "./DMAcc/bs3/Bogus", "chr", "x");
	g_autofree gchar *exists_cmd = item_cmd("Add", 20, "./DMAcc/srv1/AppID", "chr", "w7");
	g_autofree gchar *dmacc_cmd = item_cmd("Replace", 20, "./DMAcc", "node", NULL);
	/* valid commands first, then one that is not: nothing of them stays */
	struct {
		const gchar *what;
		const gchar *cmd;
		guint status;
	} partly[] = {
	    {"a node outside ./DMAcc", outside_cmd, 403},
	    {"a query", query_cmd, 403},
	    {"./DMAcc itself", dmacc_cmd, 403},
	    {"an int AAuthLevel", format_cmd, 400},
	    {"a node the DDF does not have", ddf_cmd, 400},
	    {"an Add of an existing node", exists_cmd, 400},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s", cases[i].what);
		g_assert_cmpuint(post_xml(e, cases[i].xml, NULL), ==, cases[i].status);
		g_free(cases[i].xml);
	}
	for (guint i = 0; i < G_N_ELEMENTS(partly); i++) {
		g_autofree gchar *cmds = account_cmds("bs3", NEW_SERVER, partly[i].cmd);
		g_autofree gchar *xml = message(BS_ID, good, cmds);
		g_test_message("%s", partly[i].what);
		g_assert_cmpuint(post_xml(e, xml, NULL), ==, partly[i].status);
	}
	/* an HMAC made for another body */
	{
		g_autofree gchar *xml = message(BS_ID, NULL, account);
		g_autofree gchar *xml2 = message(BS_ID, NULL, "");
		g_autoptr(GBytes) b = g_bytes_new(xml2, strlen(xml2));
		g_autofree gchar *hmac = hmac_for(BS_ID, BS_SECRET, b);
		g_assert_cmpuint(post_xml(e, xml, hmac), ==, 401);
	}
	/* not a DM message type, not a POST */
	{
		g_autofree gchar *xml = message(BS_ID, good, account);
		g_autoptr(GBytes) b = g_bytes_new(xml, strlen(xml));
		g_assert_cmpuint(post(e, "text/xml", b, NULL), ==, 415);
		g_assert_cmpuint(post(e, "application/vnd.syncml.dm+xmlx", b, NULL), ==, 415);
	}

	after = export_tree(e->d, ".");
	g_assert_cmpstr(before, ==, after);
	g_assert_null(get_value(e->d, "./DMAcc/bs3/ServerID", NULL));
	g_assert_true(gw_test_daemon_is_running(e->d));
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "/bootstrap from 127.0.0.1 refused (401)"));
	g_assert_nonnull(strstr(log, "refused (403)"));
	g_assert_nonnull(strstr(log, "refused (400)"));
	g_assert_null(strstr(log, "bootstrap applied from 127.0.0.1"));
	g_assert_null(strstr(log, BS_SECRET));
	g_assert_null(strstr(log, NEW_SECRET));
	bootstrap_env_free(e);
}

/* POSTs @xml signed by the bootstrap server (x-syncml-hmac over its bytes); the HTTP status */
static guint
post_signed(Env *e, const gchar *xml)
{
	g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
	g_autofree gchar *hmac = hmac_for(BS_ID, BS_SECRET, body);
	return post(e, "application/vnd.syncml.dm+xml", body, hmac);
}

/* a bootstrap renaming the gateway's credentials of ./DMAcc/bs2 (as a rotation would) */
static gchar *
rename_message(guint n)
{
	g_autofree gchar *name = g_strdup_printf("gateway-%u", n);
	g_autofree gchar *cmd =
	    item_cmd("Replace", 1, "./DMAcc/bs2/AppAuth/1/AAuthName", "chr", name);
	return message(BS_ID, NULL, cmd);
}

static void
assert_auth_name(Env *e, guint n)
{
	g_autofree gchar *want = g_strdup_printf("gateway-%u", n);
	g_autofree gchar *name = get_value(e->d, "./DMAcc/bs2/AppAuth/1/AAuthName", NULL);
	g_assert_cmpstr(name, ==, want);
}

/* a captured signed body POSTed again is refused (409, nothing changed), before and after a
 * SIGKILL and restart; a new body still applies */
static void
test_bootstrap_replay(void)
{
	Env *e = bootstrap_env();
	g_autofree gchar *cmds = account_cmds("bs2", NEW_SERVER, NULL);
	g_autofree gchar *create = message(BS_ID, NULL, cmds);
	g_autofree gchar *first = rename_message(3);
	g_autofree gchar *second = rename_message(4);
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *seen = g_build_filename(e->d->state_dir, "bootstrap.seen", NULL);
	g_autofree gchar *seen_text = NULL;
	GStatBuf st;

	g_assert_cmpuint(post_signed(e, create), ==, 200);
	assert_account(e, "bs2");
	g_assert_cmpuint(post_signed(e, first), ==, 200);
	assert_auth_name(e, 3);
	g_assert_cmpuint(post_signed(e, second), ==, 200);
	assert_auth_name(e, 4);
	/* the first rename again (a captured body rolling the account back), the creation again */
	before = export_tree(e->d, ".");
	g_assert_cmpuint(post_signed(e, first), ==, 409);
	g_assert_cmpuint(post_signed(e, create), ==, 409);
	assert_auth_name(e, 4);
	after = export_tree(e->d, ".");
	g_assert_cmpstr(before, ==, after);
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "/bootstrap from 127.0.0.1 refused (409)"));
	g_assert_nonnull(strstr(log, "applied before (a replay)"));
	g_assert_null(strstr(log, BS_SECRET));
	g_assert_null(strstr(log, NEW_SECRET));
	/* the record: owner-only, no secret in it */
	g_assert_cmpint(g_stat(seen, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_true(g_file_get_contents(seen, &seen_text, NULL, NULL));
	g_assert_null(strstr(seen_text, NEW_SECRET));
	g_assert_null(strstr(seen_text, BS_SECRET));

	/* killed and restarted: still refused */
	gw_test_daemon_kill(e->d);
	gw_test_daemon_start(e->d, NULL);
	g_assert_cmpuint(post_signed(e, first), ==, 409);
	g_assert_cmpuint(post_signed(e, create), ==, 409);
	assert_auth_name(e, 4);
	g_clear_pointer(&after, g_free);
	after = export_tree(e->d, ".");
	g_assert_cmpstr(before, ==, after);
	/* a new body applies */
	{
		g_autofree gchar *third = rename_message(5);
		g_assert_cmpuint(post_signed(e, third), ==, 200);
		assert_auth_name(e, 5);
	}
	/* (the bound, 64 per server, is checked by tests/gwmo/test-bootstrap.c /import-replay) */
	bootstrap_env_free(e);
}

/* without [bootstrap] servers nobody may bootstrap the gateway */
static void
test_bootstrap_disabled(void)
{
	Env *e = env_new();
	g_autofree gchar *cred = md5_cred(BS_ID, BS_SECRET);
	g_autofree gchar *cmds = account_cmds("bs2", NEW_SERVER, NULL);
	g_autofree gchar *xml = message(BS_ID, cred, cmds);

	g_assert_cmpuint(post_xml(e, xml, NULL), ==, 403);
	g_assert_null(get_value(e->d, "./DMAcc/bs2/ServerID", NULL));
	env_free(e);
}

/* ---- certificate pins ---- */

#define PINNED_UNPINNED "open.example"
#define OPEN_SECRET "open-secret-4"

/* a self-signed client certificate made in @dir; *@fingerprint its "sha256:<hex>" over DER */
static GTlsCertificate *
client_certificate(const gchar *dir, const gchar *name, gchar **fingerprint)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *cert = g_strdup_printf("%s/%s.crt", dir, name);
	g_autofree gchar *key = g_strdup_printf("%s/%s.key", dir, name);
	g_autoptr(GByteArray) der = NULL;
	g_autofree gchar *hex = NULL;
	GTlsCertificate *c;

	g_assert_true(gw_crypto_generate_self_signed(cert, key, name, NULL, NULL, 2, &error));
	g_assert_no_error(error);
	c = g_tls_certificate_new_from_files(cert, key, &error);
	g_assert_no_error(error);
	g_object_get(c, "certificate", &der, NULL);
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
	*fingerprint = g_strconcat("sha256:", hex, NULL);
	g_remove(cert);
	g_remove(key);
	return c;
}

/* POSTs @xml to /bootstrap over https with libsoup, presenting @certificate (nullable) */
static guint
post_with_certificate(Env *e, const gchar *xml, GTlsCertificate *certificate)
{
	g_autofree gchar *ca = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *url = notify_url(e->d);
	g_autofree gchar *bs_url = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca, &error);
	g_autoptr(SoupSession) session = soup_session_new();
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
	g_autoptr(GBytes) answer = NULL;

	g_assert_no_error(error);
	url[strlen(url) - strlen("notify")] = '\0';
	bs_url = g_strconcat(url, "bootstrap", NULL);
	soup_session_set_tls_database(session, db);
	msg = soup_message_new("POST", bs_url);
	soup_message_set_request_body_from_bytes(msg, "application/vnd.syncml.dm+xml", body);
	if (certificate != NULL)
		soup_message_set_tls_client_certificate(msg, certificate);
	answer = soup_session_send_and_read(session, msg, NULL, &error);
	g_assert_no_error(error);
	return soup_message_get_status(msg);
}

static gchar *pins_dir = NULL;

/* BS_ID pinned to @pin (and an unused second pin), PINNED_UNPINNED without a pin */
static Env *
pinned_env(const gchar *pin)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *secrets = NULL;
	g_autofree gchar *pins = NULL;
	g_autofree gchar *pins_text = NULL;
	g_autofree gchar *conf = NULL;

	pins_dir = g_dir_make_tmp("gwmo-bs-pin-XXXXXX", &error);
	g_assert_no_error(error);
	secrets = g_build_filename(pins_dir, "bootstrap-secrets", NULL);
	pins = g_build_filename(pins_dir, "bootstrap-certificates", NULL);
	g_assert_true(g_file_set_contents(secrets,
	                                  "[secrets]\n" BS_ID "=" BS_SECRET "\n" PINNED_UNPINNED
	                                  "=" OPEN_SECRET "\n",
	                                  -1,
	                                  NULL));
	g_chmod(secrets, 0600);
	/* the pin in upper case with ':' between bytes, as openssl x509 -fingerprint prints it,
	 * after another pin */
	{
		g_autoptr(GString) printed = g_string_new("SHA256:");
		const gchar *hex = pin + strlen("sha256:");
		for (guint i = 0; hex[i] != '\0'; i += 2) {
			if (i > 0)
				g_string_append_c(printed, ':');
			g_string_append_c(printed, g_ascii_toupper(hex[i]));
			g_string_append_c(printed, g_ascii_toupper(hex[i + 1]));
		}
		pins_text = g_strdup_printf(
		    "[certificates]\n" BS_ID "=sha256:%s, %s\n",
		    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		    printed->str);
	}
	g_assert_true(g_file_set_contents(pins, pins_text, -1, NULL));
	g_chmod(pins, 0600);
	conf = g_strdup_printf("[bootstrap]\nservers=" BS_ID ";" PINNED_UNPINNED
	                       "\nsecrets-file=%s\ncertificates-file=%s\n",
	                       secrets,
	                       pins);
	return env_new_with_config(conf);
}

static void
pinned_env_free(Env *e)
{
	g_autofree gchar *secrets = g_build_filename(pins_dir, "bootstrap-secrets", NULL);
	g_autofree gchar *pins = g_build_filename(pins_dir, "bootstrap-certificates", NULL);
	env_free(e);
	g_remove(secrets);
	g_remove(pins);
	g_rmdir(pins_dir);
	g_clear_pointer(&pins_dir, g_free);
}

/* a pinned bootstrap server: its certificate only; an unpinned one and DM Servers need none */
static void
test_bootstrap_pinned(void)
{
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-bs-cert-XXXXXX", NULL);
	g_autofree gchar *right_fp = NULL;
	g_autofree gchar *wrong_fp = NULL;
	g_autoptr(GTlsCertificate) right = client_certificate(dir, "bs-right", &right_fp);
	g_autoptr(GTlsCertificate) wrong = client_certificate(dir, "bs-wrong", &wrong_fp);
	Env *e = pinned_env(right_fp);
	g_autofree gchar *cred = md5_cred(BS_ID, BS_SECRET);
	g_autofree gchar *cmds = account_cmds("bs2", NEW_SERVER, NULL);
	g_autofree gchar *xml = message(BS_ID, cred, cmds);
	g_autofree gchar *before = export_tree(e->d, ".");
	g_autofree gchar *log = NULL;

	/* right credentials, wrong certificate or none: refused, nothing changed */
	g_assert_cmpuint(post_with_certificate(e, xml, wrong), ==, 403);
	g_assert_cmpuint(post_with_certificate(e, xml, NULL), ==, 403);
	{
		/* the x-syncml-hmac path is pinned the same way (the gateway's own client) */
		g_autofree gchar *plain = message(BS_ID, NULL, cmds);
		g_autoptr(GBytes) b = g_bytes_new(plain, strlen(plain));
		g_autofree gchar *hmac = hmac_for(BS_ID, BS_SECRET, b);
		g_assert_cmpuint(post(e, "application/vnd.syncml.dm+xml", b, hmac), ==, 403);
	}
	{
		g_autofree gchar *after = export_tree(e->d, ".");
		g_assert_cmpstr(before, ==, after);
	}
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "refused (403)"));
	g_assert_nonnull(strstr(log, "'" BS_ID "'"));
	g_assert_nonnull(strstr(log, wrong_fp));
	g_assert_nonnull(strstr(log, "presented no client certificate"));
	g_assert_null(strstr(log, BS_SECRET));
	g_assert_null(strstr(log, "bootstrap applied from 127.0.0.1"));

	/* the pinned certificate: applied */
	g_assert_cmpuint(post_with_certificate(e, xml, right), ==, 200);
	assert_account(e, "bs2");

	/* a bootstrap server without a pin: credentials alone, no certificate */
	{
		g_autofree gchar *open_cred = md5_cred(PINNED_UNPINNED, OPEN_SECRET);
		g_autofree gchar *open_cmds = account_cmds("bs4", "srv4.example", NULL);
		g_autofree gchar *open_xml = message(PINNED_UNPINNED, open_cred, open_cmds);
		g_autofree gchar *sid = NULL;
		g_assert_cmpuint(post_with_certificate(e, open_xml, NULL), ==, 200);
		sid = get_value(e->d, "./DMAcc/bs4/ServerID", NULL);
		g_assert_cmpstr(sid, ==, "srv4.example");
	}

	/* a DM Server's notification on the same listener, without a certificate: its session */
	{
		g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
		g_autofree gchar *url = notify_url(e->d);
		g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
		g_autofree gchar *notify_arg = g_strdup_printf("--notify=%s", url);
		g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", gw_cert);
		g_autoptr(GSubprocess) server = NULL;
		g_autoptr(JsonParser) parser = NULL;
		JsonArray *sessions;
		JsonObject *s1;

		server = server_start(
		    e,
		    "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./DevInfo/Mod\"}]}]}",
		    record,
		    CL_SECRET,
		    "--sessions=1",
		    notify_arg,
		    "--notify-secret=" SRV_SECRET,
		    "--notify-session=1A2C",
		    ca_arg,
		    NULL);
		server_wait(server);
		sessions = record_sessions(record, &parser);
		g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
		s1 = json_array_get_object_element(sessions, 0);
		g_assert_cmpstr(json_object_get_string_member(s1, "session_id"), ==, "1A2C");
		g_assert_true(json_object_get_boolean_member(s1, "authenticated"));
		g_assert_cmpint(status_of(s1, "Get", "./DevInfo/Mod"), ==, 200);
	}
	g_assert_true(gw_test_daemon_is_running(e->d));
	g_rmdir(dir);
	pinned_env_free(e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 2) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server\n", argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argc > 2 ? argv[2] : NULL;
	g_test_add_func("/gw/e2e/bootstrap/authorised", test_bootstrap_authorised);
	g_test_add_func("/gw/e2e/bootstrap/wbxml", test_bootstrap_wbxml);
	g_test_add_func("/gw/e2e/bootstrap/refused", test_bootstrap_refused);
	g_test_add_func("/gw/e2e/bootstrap/replay", test_bootstrap_replay);
	g_test_add_func("/gw/e2e/bootstrap/disabled", test_bootstrap_disabled);
	g_test_add_func("/gw/e2e/bootstrap/pinned", test_bootstrap_pinned);
	return g_test_run();
}
