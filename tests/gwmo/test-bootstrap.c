/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Who may bootstrap the gateway (gw-bootstrap.h), in-process: the [bootstrap] configuration
 * (servers, secrets-file) and the authentication of a bootstrap message by x-syncml-hmac (over
 * http and https) or an auth-md5 Cred (https only), against one configured bootstrap server;
 * the shared import of POST /bootstrap and work flow 1 (authenticate, apply, one flush, the
 * ServerIDs it brought) and which BootstrapURIs work flow 1 may fetch; the certificate pins
 * ([bootstrap] certificates-file) and their check.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-bootstrap.h"
#include "gw-dm-auth.h"
#include "gw-server-bootstrap.h"

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

/* gw_bootstrap_import(): nothing stored unless authenticated and applied; the new ServerIDs */
static void
test_bootstrap_import(void)
{
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-bs-XXXXXX", NULL);
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwDmStore) store = NULL;
	g_autoptr(GHashTable) servers =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GwSyncmlMessage) msg = message(BS, NULL, NULL);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *mac = NULL;
	g_autofree gchar *hmac = NULL;
	g_autofree gchar *forged = NULL;
	g_autofree gchar *sid = NULL;
	g_auto(GStrv) new_ids = NULL;
	GwDmDeviceInfo info = {.dev_id = "gw", .man = "m", .mod = "m", .dmv = "1.2"};
	GwSyncmlCommand *atomic = gw_syncml_command_new(GW_SYNCML_CMD_ATOMIC);
	const gchar *leaves[][2] = {{"./DMAcc/n/ServerID", "new.example"},
	                            {"./DMAcc/n/AppAddr/1/Addr", "https://127.0.0.1:9/dm"}};
	guint n_items = 0;

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &info, NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/old/ServerID", GW_DM_FORMAT_CHR, "old.example", NULL));
	store = gw_dm_store_new(tree, dir);
	g_hash_table_insert(servers, g_strdup(BS), g_strdup(SECRET));
	for (guint i = 0; i < G_N_ELEMENTS(leaves); i++) {
		GwSyncmlCommand *add = gw_syncml_command_new(GW_SYNCML_CMD_ADD);
		GwSyncmlItem *item = gw_syncml_item_new(leaves[i][0], NULL);
		gw_syncml_item_set_data(item, "chr", NULL, leaves[i][1]);
		gw_syncml_command_add_item(add, item);
		gw_syncml_command_add_child(atomic, add);
	}
	gw_syncml_message_add_command(msg, atomic);
	body = gw_syncml_message_to_xml(msg);
	mac = gw_dm_auth_hmac_compute(
	    BS, SECRET, NULL, 0, g_bytes_get_data(body, NULL), g_bytes_get_size(body));
	hmac = gw_dm_auth_hmac_header(BS, mac);
	forged = gw_dm_auth_hmac_header(BS, "AAAAAAAAAAAAAAAAAAAAAA==");

	/* a forged signature: refused, nothing applied, no ServerIDs */
	g_assert_cmpint(
	    gw_bootstrap_import(
	        servers, tree, store, msg, forged, body, FALSE, &sid, &n_items, &new_ids, &error),
	    ==,
	    GW_BOOTSTRAP_UNAUTHORIZED);
	g_assert_nonnull(error);
	g_clear_error(&error);
	g_assert_null(sid);
	g_assert_null(new_ids);
	g_assert_null(gw_dm_tree_lookup(tree, "./DMAcc/n"));
	/* signed: applied, stored, and it brought new.example (old.example was there) */
	g_assert_cmpint(
	    gw_bootstrap_import(
	        servers, tree, store, msg, hmac, body, FALSE, &sid, &n_items, &new_ids, &error),
	    ==,
	    GW_BOOTSTRAP_APPLIED);
	g_assert_no_error(error);
	g_assert_cmpstr(sid, ==, BS);
	g_assert_cmpuint(n_items, ==, 2);
	g_assert_nonnull(new_ids);
	g_assert_cmpstr(new_ids[0], ==, "new.example");
	g_assert_null(new_ids[1]);
	{
		g_autoptr(GwDmTree) again = gw_dm_tree_new();
		g_autoptr(GwDmStore) reread = NULL;
		g_autofree gchar *v = NULL;
		g_assert_true(gw_dm_tree_install_standard_objects(again, &info, NULL));
		reread = gw_dm_store_new(again, dir);
		g_assert_true(gw_dm_store_load(reread, &error));
		g_assert_no_error(error);
		v = gw_dm_tree_dup_string(again, "./DMAcc/n/ServerID");
		g_assert_cmpstr(v, ==, "new.example");
	}
	g_clear_object(&store);
	{
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		const gchar *name;
		while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
			g_autofree gchar *p = g_build_filename(dir, name, NULL);
			g_remove(p);
		}
	}
	g_rmdir(dir);
}

/* work flow 1 fetches https only (http to loopback only when allowed, for tests) */
static void
test_bootstrap_uri_allowed(void)
{
	const struct {
		const gchar *uri;
		gboolean allow_http;
		gboolean ok;
	} cases[] = {
	    {"https://bs.example/bootstrap", FALSE, TRUE},
	    {"HTTPS://bs.example:8443/b?x=1", FALSE, TRUE},
	    {"http://bs.example/bootstrap", FALSE, FALSE},
	    {"http://bs.example/bootstrap", TRUE, FALSE},
	    {"http://127.0.0.1:8080/bootstrap", FALSE, FALSE},
	    {"http://127.0.0.1:8080/bootstrap", TRUE, TRUE},
	    {"http://[::1]:8080/bootstrap", TRUE, TRUE},
	    {"http://localhost/bootstrap", TRUE, TRUE},
	    {"https://user:pw@bs.example/", FALSE, FALSE},
	    {"ftp://bs.example/", TRUE, FALSE},
	    {"file:///etc/passwd", TRUE, FALSE},
	    {"http://evil.example/\nfake log line", TRUE, FALSE},
	    {"https://bs.example/\xff", FALSE, FALSE},
	    {"bs.example/bootstrap", TRUE, FALSE},
	    {"", TRUE, FALSE},
	    {NULL, TRUE, FALSE},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		gboolean ok =
		    gw_server_bootstrap_uri_is_allowed(cases[i].uri, cases[i].allow_http, &error);
		/* the case escaped: a test message must stay valid UTF-8 TAP */
		g_autofree gchar *shown =
		    cases[i].uri != NULL ? g_strescape(cases[i].uri, NULL) : g_strdup("(null)");
		g_test_message("%s (http %d): %s",
		               shown,
		               cases[i].allow_http,
		               error != NULL ? error->message : "ok");
		g_assert_cmpint(ok, ==, cases[i].ok);
		g_assert_true(ok == (error == NULL));
		if (cases[i].uri != NULL && strchr(cases[i].uri, '@') != NULL)
			g_assert_null(strstr(error->message, "pw"));
		if (error != NULL)
			g_assert_null(strchr(error->message, '\n'));
	}
}

#define PIN_A "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define PIN_B "sha256:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static GHashTable *
load_pins(GHashTable *servers, const gchar *dir, const gchar *content, GError **error)
{
	g_autoptr(GwConfig) config = gw_config_new();
	g_autofree gchar *path = g_build_filename(dir, "certificates", NULL);
	if (content != NULL)
		g_assert_true(g_file_set_contents(path, content, -1, NULL));
	else
		g_remove(path);
	gw_config_set_string(config, "bootstrap", "certificates-file", path);
	return gw_bootstrap_load_pins(config, servers, error);
}

static void
test_bootstrap_pins(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-bs-pins-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "certificates", NULL);
	g_autoptr(GHashTable) servers = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) none = NULL;
	g_autoptr(GHashTable) pins = NULL;
	g_autoptr(GwConfig) unset = gw_config_new();
	const gchar *const *own;
	const gchar *bad[] = {
	    "[certificates]\n" BS "=sha1:0011\n",
	    "[certificates]\n" BS "=sha256:0011\n",
	    "[certificates]\n" BS "=" PIN_A "00\n",
	    "[certificates]\n" BS
	    "=sha256:zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
	    "[certificates]\n" BS "=\n",
	    "[certificates]\n" BS "=" PIN_A "\nstranger=" PIN_B "\n",
	};

	g_hash_table_insert(servers, (gpointer)BS, (gpointer)SECRET);
	g_hash_table_insert(servers, (gpointer) "open.example", (gpointer) "s2");
	/* the key not set: no pin for anyone */
	none = gw_bootstrap_load_pins(unset, servers, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(none), ==, 0);
	/* two pins, one in openssl's "SHA256 Fingerprint=AA:BB:…" form */
	pins =
	    load_pins(servers,
	              dir,
	              "[certificates]\n" BS "=" PIN_A " , SHA256:FF:EE:DD:CC:BB:AA:99:88:77:66:55:"
	              "44:33:22:11:00:FF:EE:DD:CC:BB:AA:99:88:77:66:55:44:33:22:11:00\n",
	              &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(pins), ==, 1);
	own = g_hash_table_lookup(pins, BS);
	g_assert_cmpuint(g_strv_length((gchar **)own), ==, 2);
	g_assert_cmpstr(own[0], ==, PIN_A);
	g_assert_cmpstr(own[1], ==, PIN_B);
	/* malformed pins, an empty one, a server that may not bootstrap, no file: errors */
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GHashTable) t = load_pins(servers, dir, bad[i], &error);
		g_test_message("bad pins file %u", i);
		g_assert_null(t);
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
		g_clear_error(&error);
	}
	g_assert_null(load_pins(servers, dir, NULL, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);

	/* the check: a pinned server over https with one of its pins only */
	g_assert_cmpint(
	    gw_bootstrap_check_pin(pins, BS, PIN_A, TRUE, &error), ==, GW_BOOTSTRAP_APPLIED);
	g_assert_no_error(error);
	g_assert_cmpint(
	    gw_bootstrap_check_pin(pins, BS, PIN_B, TRUE, &error), ==, GW_BOOTSTRAP_APPLIED);
	g_assert_no_error(error);
	g_assert_cmpint(gw_bootstrap_check_pin(pins,
	                                       BS,
	                                       "sha256:0000000000000000000000000000000000000000"
	                                       "000000000000000000000000",
	                                       TRUE,
	                                       &error),
	                ==,
	                GW_BOOTSTRAP_FORBIDDEN);
	g_assert_error(error, GW_ERROR, GW_ERROR_PERMISSION_DENIED);
	g_assert_nonnull(strstr(error->message, "'" BS "'"));
	g_assert_nonnull(strstr(error->message, "sha256:00000000"));
	g_clear_error(&error);
	g_assert_cmpint(
	    gw_bootstrap_check_pin(pins, BS, NULL, TRUE, &error), ==, GW_BOOTSTRAP_FORBIDDEN);
	g_assert_nonnull(strstr(error->message, "no client certificate"));
	g_clear_error(&error);
	/* over http a pinned server is refused whatever it claims */
	g_assert_cmpint(
	    gw_bootstrap_check_pin(pins, BS, PIN_A, FALSE, &error), ==, GW_BOOTSTRAP_FORBIDDEN);
	g_assert_nonnull(strstr(error->message, "https only"));
	g_clear_error(&error);
	/* a server without a pin: as before, with or without a certificate, http or https */
	g_assert_cmpint(gw_bootstrap_check_pin(pins, "open.example", NULL, FALSE, &error),
	                ==,
	                GW_BOOTSTRAP_APPLIED);
	g_assert_cmpint(gw_bootstrap_check_pin(pins, "open.example", PIN_B, TRUE, &error),
	                ==,
	                GW_BOOTSTRAP_APPLIED);
	g_assert_cmpint(
	    gw_bootstrap_check_pin(none, BS, NULL, FALSE, &error), ==, GW_BOOTSTRAP_APPLIED);
	g_assert_no_error(error);
	g_remove(path);
	g_rmdir(dir);
}

/* a new account in the DMAcc 2.0 layout (SrvID, no ServerID) is its server's like a DM 1.x
 * one: Get and Replace for its SrvID, and the SrvID counts among the gateway's ServerIDs */
static void
test_bootstrap_import_dmacc2(void)
{
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-bs-XXXXXX", NULL);
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwDmStore) store = NULL;
	g_autoptr(GHashTable) servers = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GwSyncmlMessage) msg = message(BS, NULL, NULL);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *mac = NULL;
	g_autofree gchar *hmac = NULL;
	g_autofree gchar *sid = NULL;
	g_autofree gchar *acl = NULL;
	g_auto(GStrv) new_ids = NULL;
	g_auto(GStrv) all_ids = NULL;
	GwDmDeviceInfo info = {.dev_id = "gw", .man = "m", .mod = "m", .dmv = "1.2"};
	GwSyncmlCommand *add = gw_syncml_command_new(GW_SYNCML_CMD_ADD);
	GwSyncmlItem *item = gw_syncml_item_new("./DMAcc/v2/SrvID", NULL);

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &info, NULL));
	store = gw_dm_store_new(tree, dir);
	g_hash_table_insert(servers, (gpointer)BS, (gpointer)SECRET);
	gw_syncml_item_set_data(item, "chr", NULL, "dm2.example");
	gw_syncml_command_add_item(add, item);
	gw_syncml_message_add_command(msg, add);
	body = gw_syncml_message_to_xml(msg);
	mac = gw_dm_auth_hmac_compute(
	    BS, SECRET, NULL, 0, g_bytes_get_data(body, NULL), g_bytes_get_size(body));
	hmac = gw_dm_auth_hmac_header(BS, mac);
	g_assert_cmpint(
	    gw_bootstrap_import(
	        servers, tree, store, msg, hmac, body, FALSE, &sid, NULL, &new_ids, &error),
	    ==,
	    GW_BOOTSTRAP_APPLIED);
	g_assert_no_error(error);
	g_assert_nonnull(new_ids);
	g_assert_cmpstr(new_ids[0], ==, "dm2.example");
	acl = gw_dm_node_dup_acl(gw_dm_tree_lookup(tree, "./DMAcc/v2"));
	g_assert_cmpstr(acl, ==, "Get=dm2.example&Replace=dm2.example");
	all_ids = gw_bootstrap_dup_account_server_ids(tree);
	g_assert_true(g_strv_contains((const gchar *const *)all_ids, "dm2.example"));
	g_clear_object(&store);
	{
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		const gchar *name;
		while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
			g_autofree gchar *p = g_build_filename(dir, name, NULL);
			g_remove(p);
		}
	}
	g_rmdir(dir);
}

/* a Replace of ./DMAcc/old/Name with "name-<n>", signed; its body in *@body */
static GwSyncmlMessage *
rename_message(guint n, GBytes **body, gchar **hmac)
{
	GwSyncmlMessage *msg = message(BS, NULL, NULL);
	GwSyncmlCommand *replace = gw_syncml_command_new(GW_SYNCML_CMD_REPLACE);
	GwSyncmlItem *item = gw_syncml_item_new("./DMAcc/old/Name", NULL);
	g_autofree gchar *name = g_strdup_printf("name-%u", n);
	g_autofree gchar *mac = NULL;

	gw_syncml_item_set_data(item, "chr", NULL, name);
	gw_syncml_command_add_item(replace, item);
	gw_syncml_message_add_command(msg, replace);
	*body = gw_syncml_message_to_xml(msg);
	mac = gw_dm_auth_hmac_compute(
	    BS, SECRET, NULL, 0, g_bytes_get_data(*body, NULL), g_bytes_get_size(*body));
	*hmac = gw_dm_auth_hmac_header(BS, mac);
	return msg;
}

static GwBootstrapOutcome
import_rename(GHashTable *servers, GwDmTree *tree, GwDmStore *store, guint n)
{
	g_autoptr(GBytes) body = NULL;
	g_autofree gchar *hmac = NULL;
	g_autoptr(GwSyncmlMessage) msg = rename_message(n, &body, &hmac);
	g_autoptr(GError) error = NULL;
	GwBootstrapOutcome outcome = gw_bootstrap_import(
	    servers, tree, store, msg, hmac, body, FALSE, NULL, NULL, NULL, &error);
	g_assert_true((outcome == GW_BOOTSTRAP_APPLIED) == (error == NULL));
	if (outcome == GW_BOOTSTRAP_REPLAYED)
		g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	return outcome;
}

/* the replay record: a body applied before is refused (409) and changes nothing; the last
 * GW_BOOTSTRAP_SEEN_MAX per server are remembered, older ones forgotten */
static void
test_bootstrap_import_replay(void)
{
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-bs-XXXXXX", NULL);
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GwDmStore) store = NULL;
	g_autoptr(GHashTable) servers =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autofree gchar *seen_path = NULL;
	g_autofree gchar *name = NULL;
	g_autoptr(GKeyFile) seen = g_key_file_new();
	g_auto(GStrv) digests = NULL;
	GwDmDeviceInfo info = {.dev_id = "gw", .man = "m", .mod = "m", .dmv = "1.2"};

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &info, NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/old/ServerID", GW_DM_FORMAT_CHR, "old.example", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/old/Name", GW_DM_FORMAT_CHR, "factory", NULL));
	store = gw_dm_store_new(tree, dir);
	g_hash_table_insert(servers, g_strdup(BS), g_strdup(SECRET));
	g_assert_cmpuint(gw_bootstrap_outcome_to_http(GW_BOOTSTRAP_REPLAYED), ==, 409);

	g_assert_cmpint(import_rename(servers, tree, store, 0), ==, GW_BOOTSTRAP_APPLIED);
	g_assert_cmpint(import_rename(servers, tree, store, 1), ==, GW_BOOTSTRAP_APPLIED);
	g_assert_cmpint(import_rename(servers, tree, store, 0), ==, GW_BOOTSTRAP_REPLAYED);
	name = gw_dm_tree_dup_string(tree, "./DMAcc/old/Name");
	g_assert_cmpstr(name, ==, "name-1");
	/* 64 newer ones: 0 and 1 are forgotten, 2 is the oldest remembered */
	for (guint n = 2; n < 2 + GW_BOOTSTRAP_SEEN_MAX; n++)
		g_assert_cmpint(import_rename(servers, tree, store, n), ==, GW_BOOTSTRAP_APPLIED);
	seen_path = gw_bootstrap_seen_path(store);
	g_assert_true(g_key_file_load_from_file(seen, seen_path, G_KEY_FILE_NONE, NULL));
	digests = g_key_file_get_string_list(seen, GW_BOOTSTRAP_SEEN_GROUP, BS, NULL, NULL);
	g_assert_nonnull(digests);
	g_assert_cmpuint(g_strv_length(digests), ==, GW_BOOTSTRAP_SEEN_MAX);
	g_assert_cmpint(import_rename(servers, tree, store, 2), ==, GW_BOOTSTRAP_REPLAYED);
	g_assert_cmpint(import_rename(servers, tree, store, 1 + GW_BOOTSTRAP_SEEN_MAX),
	                ==,
	                GW_BOOTSTRAP_REPLAYED);
	g_assert_cmpint(import_rename(servers, tree, store, 0), ==, GW_BOOTSTRAP_APPLIED);
	g_clear_pointer(&name, g_free);
	name = gw_dm_tree_dup_string(tree, "./DMAcc/old/Name");
	g_assert_cmpstr(name, ==, "name-0");
	/* another bootstrap server's bodies are its own: the same bytes signed by it apply */
	g_hash_table_insert(servers, g_strdup("bs2.example"), g_strdup("bs2-secret"));
	{
		g_autoptr(GwSyncmlMessage) msg = message("bs2.example", NULL, NULL);
		GwSyncmlCommand *replace = gw_syncml_command_new(GW_SYNCML_CMD_REPLACE);
		GwSyncmlItem *item = gw_syncml_item_new("./DMAcc/old/Name", NULL);
		g_autoptr(GBytes) body = NULL;
		g_autofree gchar *mac = NULL;
		g_autofree gchar *hmac = NULL;
		g_autoptr(GError) error = NULL;

		gw_syncml_item_set_data(item, "chr", NULL, "name-bs2");
		gw_syncml_command_add_item(replace, item);
		gw_syncml_message_add_command(msg, replace);
		body = gw_syncml_message_to_xml(msg);
		mac = gw_dm_auth_hmac_compute("bs2.example",
		                              "bs2-secret",
		                              NULL,
		                              0,
		                              g_bytes_get_data(body, NULL),
		                              g_bytes_get_size(body));
		hmac = gw_dm_auth_hmac_header("bs2.example", mac);
		g_assert_cmpint(
		    gw_bootstrap_import(
		        servers, tree, store, msg, hmac, body, FALSE, NULL, NULL, NULL, &error),
		    ==,
		    GW_BOOTSTRAP_APPLIED);
		g_assert_cmpint(
		    gw_bootstrap_import(
		        servers, tree, store, msg, hmac, body, FALSE, NULL, NULL, NULL, &error),
		    ==,
		    GW_BOOTSTRAP_REPLAYED);
	}
	g_clear_object(&store);
	{
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		const gchar *entry;
		while (d != NULL && (entry = g_dir_read_name(d)) != NULL) {
			g_autofree gchar *p = g_build_filename(dir, entry, NULL);
			g_remove(p);
		}
	}
	g_rmdir(dir);
}

/* [bootstrap] fetch-hosts: exact names and addresses, *.<domain> below the domain only, * */
static void
test_bootstrap_fetch_hosts(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) patterns = gw_server_bootstrap_parse_fetch_hosts(
	    " BS.Example.com. ; *.boot.example , 192.0.2.7,[2001:db8::1]", &error);
	g_auto(GStrv) any = gw_server_bootstrap_parse_fetch_hosts("*", &error);
	g_auto(GStrv) none = gw_server_bootstrap_parse_fetch_hosts("", &error);
	struct {
		const gchar *host;
		gboolean ok;
	} cases[] = {
	    {"bs.example.com", TRUE},
	    {"BS.EXAMPLE.COM.", TRUE},
	    {"x.bs.example.com", FALSE},
	    {"a.boot.example", TRUE},
	    {"a.b.boot.example", TRUE},
	    {"boot.example", FALSE},
	    {"evilboot.example", FALSE},
	    {"192.0.2.7", TRUE},
	    {"192.0.2.70", FALSE},
	    {"2001:db8::1", TRUE},
	    {"[2001:db8::1]", TRUE},
	    {"127.0.0.1", FALSE},
	    {"", FALSE},
	    {NULL, FALSE},
	};
	const gchar *bad[] = {"*.", "a*.example", "*", "**.example", "a/b", "x@y", "*.*.example"};

	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s", cases[i].host != NULL ? cases[i].host : "(null)");
		g_assert_cmpint(
		    gw_server_bootstrap_host_matches((const gchar *const *)patterns, cases[i].host),
		    ==,
		    cases[i].ok);
		g_assert_false(
		    gw_server_bootstrap_host_matches((const gchar *const *)none, cases[i].host));
	}
	g_assert_true(gw_server_bootstrap_host_matches((const gchar *const *)any, "a.example"));
	g_assert_true(gw_server_bootstrap_host_matches((const gchar *const *)any, "10.0.0.1"));
	/* an address never matches a wildcard */
	{
		g_auto(GStrv) p = gw_server_bootstrap_parse_fetch_hosts("*.0.0.1", &error);
		g_assert_no_error(error);
		g_assert_false(
		    gw_server_bootstrap_host_matches((const gchar *const *)p, "127.0.0.1"));
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) local = NULL;
		g_auto(GStrv) p = NULL;
		/* "*" alone is valid: only as a part of another pattern is it refused */
		if (g_str_equal(bad[i], "*"))
			continue;
		p = gw_server_bootstrap_parse_fetch_hosts(bad[i], &local);
		g_test_message("%s: %s", bad[i], local != NULL ? local->message : "accepted");
		g_assert_null(p);
		g_assert_error(local, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/bootstrap/config", test_bootstrap_config);
	g_test_add_func("/gw/bootstrap/authenticate", test_bootstrap_authenticate);
	g_test_add_func("/gw/bootstrap/import", test_bootstrap_import);
	g_test_add_func("/gw/bootstrap/import-dmacc2", test_bootstrap_import_dmacc2);
	g_test_add_func("/gw/bootstrap/import-replay", test_bootstrap_import_replay);
	g_test_add_func("/gw/bootstrap/uri-allowed", test_bootstrap_uri_allowed);
	g_test_add_func("/gw/bootstrap/pins", test_bootstrap_pins);
	g_test_add_func("/gw/bootstrap/fetch-hosts", test_bootstrap_fetch_hosts);
	return g_test_run();
}
