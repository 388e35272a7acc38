/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, the DMAcc secrets (issue 11 §1; GwMO-SECARIZE-001, GwMO-SECACATE-001): the real
 * gwmod, factory-bootstrapped with a TNDS that gives AAuthSecret no <AccessType> (as new users
 * write it) and asks for <Get/> on another one, and the reference DM Server driving a session:
 *  - its Get of either secret is answered 405;
 *  - it Adds a new ./DMAcc/<x>/AppAuth/3 with AAuthSecret and AAuthData: both are then 405 for
 *    it, NotAllowed over D-Bus and absent from every export;
 *  - its ?list=StructData and ?list=TNDS of the account carry no secret value;
 *  - the DDF's formats and names hold (an int AAuthLevel 415, an unknown node 405);
 *  - no value reaches gwmod's log.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "gw-e2e.h"

#define ACC "./DMAcc/srv1"
#define ADDED "added-secret-3"
#define ADDED_NONCE "added-nonce-3"
#define ADDED_NONCE_B64 "YWRkZWQtbm9uY2UtMw=="

/* every secret value of the test, as text and base64 (how bin values travel) */
static const gchar *const secret_values[] = {
    CL_SECRET,
    SRV_SECRET,
    ADDED,
    ADDED_NONCE,
    "YWRkZWQtbm9uY2UtMw",
    NULL,
};

/* the server's account with the gateway: CLCRED and SRVCRED DIGEST, the first secret without
 * <AccessType> or <Format>, the second asking for Get; the server may Add below its account */
static gchar *
secrets_tnds(const gchar *dm_url)
{
	return g_strdup_printf(
	    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>srv1</NodeName><Path>./DMAcc</Path>"
	    "<RTProperties><ACL>Add=" SERVER_ID "&amp;Get=" SERVER_ID "&amp;Replace=" SERVER_ID
	    "</ACL></RTProperties>"
	    "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"
	    "<Node><NodeName>ServerID</NodeName><Value>" SERVER_ID "</Value></Node>"
	    "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	    "<Node><NodeName>Addr</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
	    "<Node><NodeName>AppAuth</NodeName>"
	    "<Node><NodeName>1</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>" CL_NAME "</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><Value>" CL_SECRET "</Value></Node>"
	    "</Node>"
	    "<Node><NodeName>2</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>" SERVER_ID "</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName>"
	    "<DFProperties><AccessType><Get/><Replace/></AccessType></DFProperties>"
	    "<Value>" SRV_SECRET "</Value></Node>"
	    "</Node></Node></Node>"
	    "</MgmtTree>",
	    dm_url);
}

/* env_new() with this bootstrap instead of the usual one */
static Env *
env_new_secrets(void)
{
	Env *e = g_new0(Env, 1);
	g_autofree gchar *conf = NULL;
	g_autofree gchar *tnds = NULL;

	e->dir = e2e_make_dir_with_cert("gwmo-e2e-secrets-XXXXXX", &e->cert, &e->key);
	e->port = free_port();
	e->dm_url = g_strdup_printf("https://127.0.0.1:%u/dm", e->port);
	e->south_port = free_port();
	/* every log domain at debug level: no line of any of them may carry a secret */
	conf = g_strdup_printf("[daemon]\ndebug-domains=all\n"
	                       "[southbound]\nlisten=http://127.0.0.1:%u\n"
	                       "[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\n"
	                       "timeout=20\n",
	                       e->south_port,
	                       e->cert);
	e->d = gw_test_daemon_new_with_config(conf);
	tnds = secrets_tnds(e->dm_url);
	e2e_start_bootstrapped(e, tnds);
	return e;
}

static void
assert_no_secret(const gchar *text)
{
	for (guint i = 0; text != NULL && secret_values[i] != NULL; i++) {
		if (strstr(text, secret_values[i]) != NULL) {
			g_printerr("%s found in:\n%s\n", secret_values[i], text);
			g_assert_not_reached();
		}
	}
}

/* the items the gateway returned for @cmd on @uri */
static JsonArray *
items_of(JsonObject *session, const gchar *uri)
{
	return json_object_get_array_member(result_for(session, "Get", uri), "items");
}

static const gchar *SCRIPT =
    "{\"sessions\":[{\"commands\":["
    "{\"cmd\":\"Get\",\"uri\":\"" ACC "/AppAuth/1/AAuthSecret\"},"
    "{\"cmd\":\"Get\",\"uri\":\"" ACC "/AppAuth/2/AAuthSecret\"},"
    "{\"cmd\":\"Add\",\"uri\":\"" ACC "/AppAuth/3/AAuthLevel\",\"data\":\"HTTP\"},"
    "{\"cmd\":\"Add\",\"uri\":\"" ACC "/AppAuth/3/AAuthSecret\",\"data\":\"" ADDED "\"},"
    "{\"cmd\":\"Add\",\"uri\":\"" ACC "/AppAuth/3/AAuthData\",\"format\":\"b64\","
    "\"data\":\"" ADDED_NONCE_B64 "\"},"
    "{\"cmd\":\"Get\",\"uri\":\"" ACC "/AppAuth/3/AAuthSecret\"},"
    "{\"cmd\":\"Get\",\"uri\":\"" ACC "/AppAuth/3/AAuthData\"},"
    "{\"cmd\":\"Get\",\"uri\":\"" ACC "/AppAuth/3/AAuthLevel\"},"
    "{\"cmd\":\"Get\",\"uri\":\"" ACC "?list=StructData\"},"
    "{\"cmd\":\"Get\",\"uri\":\"" ACC "?list=TNDS\"},"
    "{\"cmd\":\"Get\",\"uri\":\"" ACC "/AppAuth/3/AAuthSecret?prop=Size\"},"
    "{\"cmd\":\"Add\",\"uri\":\"" ACC "/AppAuth/4/AAuthLevel\",\"format\":\"int\",\"data\":\"1\"},"
    "{\"cmd\":\"Add\",\"uri\":\"" ACC "/Password\",\"data\":\"x\"}"
    "]}]}";

static void
test_secrets_dm_session(void)
{
	Env *e = env_new_secrets();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *level = NULL;
	g_autofree gchar *err_name = NULL;
	g_autofree gchar *log = NULL;
	JsonArray *sessions;
	JsonArray *items;
	JsonObject *s1;
	const gchar *tnds;
	guint found = 0;

	server = server_start(e, SCRIPT, record, CL_SECRET, "--sessions=1", NULL);
	reply = gw_test_call(e->d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
	g_assert_no_error(error);
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	s1 = json_array_get_object_element(sessions, 0);
	/* the secrets authenticated the session: the gateway has them */
	g_assert_true(json_object_get_boolean_member(s1, "authenticated"));
	g_assert_cmpstr(json_object_get_string_member(s1, "state"), ==, "finished");

	/* bootstrapped without AccessType, or asking for Get: 405 */
	g_assert_cmpint(status_of(s1, "Get", ACC "/AppAuth/1/AAuthSecret"), ==, 405);
	g_assert_cmpint(status_of(s1, "Get", ACC "/AppAuth/2/AAuthSecret"), ==, 405);
	/* added by the server in a DM session: 405 as well */
	g_assert_cmpint(status_of(s1, "Add", ACC "/AppAuth/3/AAuthLevel"), ==, 200);
	g_assert_cmpint(status_of(s1, "Add", ACC "/AppAuth/3/AAuthSecret"), ==, 200);
	g_assert_cmpint(status_of(s1, "Add", ACC "/AppAuth/3/AAuthData"), ==, 200);
	g_assert_cmpint(status_of(s1, "Get", ACC "/AppAuth/3/AAuthSecret"), ==, 405);
	g_assert_cmpint(status_of(s1, "Get", ACC "/AppAuth/3/AAuthData"), ==, 405);
	g_assert_cmpint(status_of(s1, "Get", ACC "/AppAuth/3/AAuthSecret?prop=Size"), ==, 405);
	g_assert_cmpint(status_of(s1, "Get", ACC "/AppAuth/3/AAuthLevel"), ==, 200);
	/* the DDF's formats and names */
	g_assert_cmpint(status_of(s1, "Add", ACC "/AppAuth/4/AAuthLevel"), ==, 415);
	g_assert_cmpint(status_of(s1, "Add", ACC "/Password"), ==, 405);

	/* list queries: every node of the account, no secret value */
	g_assert_cmpint(status_of(s1, "Get", ACC "?list=StructData"), ==, 200);
	items = items_of(s1, ACC "?list=StructData");
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *item = json_array_get_object_element(items, i);
		const gchar *uri = json_object_get_string_member(item, "uri");
		const gchar *data = json_object_get_null_member(item, "data")
		                        ? NULL
		                        : json_object_get_string_member(item, "data");
		if (g_str_has_suffix(uri, "/AAuthSecret")) {
			found++;
			g_assert_true(data == NULL || data[0] == '\0');
		}
		assert_no_secret(data);
	}
	g_assert_cmpuint(found, ==, 3);
	g_assert_cmpint(status_of(s1, "Get", ACC "?list=TNDS"), ==, 200);
	tnds = json_object_get_string_member(
	    json_array_get_object_element(items_of(s1, ACC "?list=TNDS"), 0), "data");
	g_assert_nonnull(strstr(tnds, "<NodeName>AAuthSecret</NodeName>"));
	assert_no_secret(tnds);
	/* (the server's own commands carry ADDED: only what the gateway answered is checked) */
	level = get_value(e->d, ACC "/AppAuth/3/AAuthLevel", NULL);
	g_assert_cmpstr(level, ==, "HTTP");

	/* the owner's side: NotAllowed, absent from the exports */
	{
		const gchar *uris[] = {ACC "/AppAuth/1/AAuthSecret",
		                       ACC "/AppAuth/2/AAuthSecret",
		                       ACC "/AppAuth/3/AAuthSecret",
		                       ACC "/AppAuth/3/AAuthData"};
		const gchar *exports[] = {ACC, "."};
		for (guint i = 0; i < G_N_ELEMENTS(uris); i++) {
			g_autofree gchar *v = get_value(e->d, uris[i], &err_name);
			g_assert_null(v);
			g_assert_cmpstr(err_name, ==, "org.gwmo.Gateway1.Error.NotAllowed");
			g_clear_pointer(&err_name, g_free);
		}
		for (guint i = 0; i < G_N_ELEMENTS(exports); i++) {
			g_autoptr(GVariant) r = gw_test_call(
			    e->d, "ExportTree", g_variant_new("(s)", exports[i]), "(s)", &error);
			const gchar *xml = NULL;
			g_assert_no_error(error);
			g_variant_get(r, "(&s)", &xml);
			g_assert_nonnull(strstr(xml, "AppAuth"));
			assert_no_secret(xml);
		}
	}
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "received message")); /* debug lines are in it */
	assert_no_secret(log);
	env_free(e);
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
	g_test_add_func("/gw/e2e/secrets-dm-session", test_secrets_dm_session);
	return g_test_run();
}
