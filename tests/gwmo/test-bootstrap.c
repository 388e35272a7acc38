/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Who may bootstrap the gateway (gw-bootstrap.h), in-process: the [bootstrap] configuration
 * (servers, secrets-file) and the authentication of a bootstrap message by x-syncml-hmac (over
 * http and https) or an auth-md5 Cred (https only), against one configured bootstrap server.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-bootstrap.h"
#include "gw-dm-auth.h"

#define BS "bs.example"
#define SECRET "bs-secret"

static gchar *
write_secrets(const gchar *dir, const gchar *content)
{
	gchar *path = g_build_filename(dir, "secrets", NULL);
	g_assert_true(g_file_set_contents(path, content, -1, NULL));
	return path;
}

static GHashTable *
load(const gchar *servers, const gchar *secrets_file, GError **error)
{
	g_autoptr(GwConfig) config = gw_config_new();
	gw_config_set_string(config, "bootstrap", "servers", servers);
	gw_config_set_string(config, "bootstrap", "secrets-file", secrets_file);
	return gw_bootstrap_load_servers(config, error);
}

static void
test_bootstrap_config(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-bs-XXXXXX", NULL);
	g_autofree gchar *path = write_secrets(dir, "[secrets]\n" BS "=" SECRET "\nb2=s2\n");
	g_autofree gchar *missing = g_build_filename(dir, "missing", NULL);
	g_autoptr(GHashTable) none = load("", "", &error);
	g_autoptr(GHashTable) two = NULL;

	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(none), ==, 0);
	two = load(" " BS " ; b2 ;", path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(two), ==, 2);
	g_assert_cmpstr(g_hash_table_lookup(two, BS), ==, SECRET);
	/* a server without a secret, no file, an unreadable file: errors, never "anyone" */
	g_assert_null(load(BS ";b3", path, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "b3"));
	g_assert_null(strstr(error->message, SECRET));
	g_clear_error(&error);
	g_assert_null(load(BS, "", &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_assert_null(load(BS, missing, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	g_remove(path);
	g_rmdir(dir);
}

static GwSyncmlMessage *
message(const gchar *source_name, const gchar *cred_type, const gchar *cred_data)
{
	g_autoptr(GwSyncmlMessage) msg =
	    gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, "1", 1, "gw", "https://bs.example/");
	msg->hdr.source_name = g_strdup(source_name);
	if (cred_type != NULL)
		gw_syncml_message_set_cred(msg, cred_type, "b64", cred_data);
	return g_steal_pointer(&msg);
}

static GwBootstrapOutcome
auth(GHashTable *servers,
     GwSyncmlMessage *msg,
     const gchar *hmac,
     GBytes *body,
     gboolean tls,
     gchar **sid)
{
	g_autoptr(GError) error = NULL;
	GwBootstrapOutcome o =
	    gw_bootstrap_authenticate(servers, msg, hmac, body, tls, sid, &error);
	g_assert_true((o == GW_BOOTSTRAP_APPLIED) == (error == NULL));
	if (error != NULL)
		g_assert_null(strstr(error->message, SECRET));
	return o;
}

static void
test_bootstrap_authenticate(void)
{
	g_autoptr(GHashTable) servers = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GBytes) body = g_bytes_new_static("<SyncML/>", 9);
	g_autoptr(GBytes) other_body = g_bytes_new_static("<SyncML />", 10);
	g_autofree gchar *digest = gw_dm_auth_md5_digest(BS, SECRET, NULL, 0);
	g_autofree gchar *wrong = gw_dm_auth_md5_digest(BS, "nope", NULL, 0);
	g_autofree gchar *mac =
	    gw_dm_auth_hmac_compute(BS, SECRET, NULL, 0, (const guint8 *)"<SyncML/>", 9);
	g_autofree gchar *hmac = gw_dm_auth_hmac_header(BS, mac);
	g_autofree gchar *stranger_mac =
	    gw_dm_auth_hmac_compute("stranger", SECRET, NULL, 0, (const guint8 *)"<SyncML/>", 9);
	g_autofree gchar *stranger = gw_dm_auth_hmac_header("stranger", stranger_mac);
	g_autofree gchar *basic = gw_dm_auth_basic_encode(BS, SECRET);
	g_autoptr(GwSyncmlMessage) md5 = message(BS, "syncml:auth-md5", digest);
	g_autoptr(GwSyncmlMessage) md5_wrong = message(BS, "syncml:auth-md5", wrong);
	g_autoptr(GwSyncmlMessage) md5_no_name = message(NULL, "syncml:auth-md5", digest);
	g_autoptr(GwSyncmlMessage) md5_stranger = message("stranger", "syncml:auth-md5", digest);
	g_autoptr(GwSyncmlMessage) basic_msg = message(BS, "syncml:auth-basic", basic);
	g_autoptr(GwSyncmlMessage) none = message(BS, NULL, NULL);
	g_autofree gchar *sid = NULL;

	g_hash_table_insert(servers, (gpointer)BS, (gpointer)SECRET);
	/* an auth-md5 Cred: over TLS only */
	g_assert_cmpint(auth(servers, md5, NULL, body, TRUE, &sid), ==, GW_BOOTSTRAP_APPLIED);
	g_assert_cmpstr(sid, ==, BS);
	g_clear_pointer(&sid, g_free);
	g_assert_cmpint(auth(servers, md5, NULL, body, FALSE, NULL), ==, GW_BOOTSTRAP_UNAUTHORIZED);
	g_assert_cmpint(
	    auth(servers, md5_wrong, NULL, body, TRUE, NULL), ==, GW_BOOTSTRAP_UNAUTHORIZED);
	g_assert_cmpint(
	    auth(servers, md5_no_name, NULL, body, TRUE, NULL), ==, GW_BOOTSTRAP_UNAUTHORIZED);
	g_assert_cmpint(
	    auth(servers, md5_stranger, NULL, body, TRUE, NULL), ==, GW_BOOTSTRAP_FORBIDDEN);
	g_assert_cmpint(
	    auth(servers, basic_msg, NULL, body, TRUE, NULL), ==, GW_BOOTSTRAP_UNAUTHORIZED);
	g_assert_cmpint(auth(servers, none, NULL, body, TRUE, NULL), ==, GW_BOOTSTRAP_UNAUTHORIZED);
	/* x-syncml-hmac: binds the body, so plain http is fine; it wins over any Cred */
	g_assert_cmpint(auth(servers, none, hmac, body, FALSE, &sid), ==, GW_BOOTSTRAP_APPLIED);
	g_assert_cmpstr(sid, ==, BS);
	g_assert_cmpint(
	    auth(servers, md5_wrong, hmac, body, FALSE, NULL), ==, GW_BOOTSTRAP_APPLIED);
	g_assert_cmpint(
	    auth(servers, none, hmac, other_body, TRUE, NULL), ==, GW_BOOTSTRAP_UNAUTHORIZED);
	g_assert_cmpint(auth(servers, md5, stranger, body, TRUE, NULL), ==, GW_BOOTSTRAP_FORBIDDEN);
	g_assert_cmpint(
	    auth(servers, none, "mac=abc", body, TRUE, NULL), ==, GW_BOOTSTRAP_UNAUTHORIZED);
	g_assert_cmpint(auth(servers, none, "username=\"\xff\", mac=abc", body, TRUE, NULL),
	                ==,
	                GW_BOOTSTRAP_UNAUTHORIZED);
	g_assert_cmpuint(gw_bootstrap_outcome_to_http(GW_BOOTSTRAP_UNAUTHORIZED), ==, 401);
	g_assert_cmpuint(gw_bootstrap_outcome_to_http(GW_BOOTSTRAP_FORBIDDEN), ==, 403);
	g_assert_cmpuint(gw_bootstrap_outcome_to_http(GW_BOOTSTRAP_REFUSED), ==, 400);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/bootstrap/config", test_bootstrap_config);
	g_test_add_func("/gw/bootstrap/authenticate", test_bootstrap_authenticate);
	return g_test_run();
}
