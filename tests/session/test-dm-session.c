/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OMA DM session engine: a CLIENT session on a real GwDmTree against a SERVER session, bytes
 * passed back and forth in memory. Every assertion is on observable behaviour: the tree, the
 * statuses and results the server collects, and the messages on the wire.
 */

#define G_LOG_DOMAIN "GwSessionTest"

#include "config.h"

#include <string.h>

#include "gw-dm-session.h"
#include "gw-dm-tree.h"
#include "gw-wbxml.h"

#define SERVER_ID "srv1"
#define DEV_ID "IMEI:493005100592800"
#define SERVER_URI "http://dm.example/dm"
#define CLIENT_USER "dev"
#define CLIENT_PWD "devpwd"
#define SERVER_USER SERVER_ID
#define SERVER_PWD "srvpwd"
#define SRV_ACL "Add=srv1&Delete=srv1&Exec=srv1&Get=srv1&Replace=srv1"
#define BIG_SIZE 8000 /* 4 × MaxMsgSize of the large object tests */

/* ---- fixture ---- */

typedef struct _Fixture Fixture;
typedef GBytes *(*TamperFunc)(Fixture *f, GBytes *msg, guint index);

struct _Fixture {
	GwDmTree *tree;
	GwDmSession *client;
	GwDmSession *server;
	GError *client_error;
	GError *server_error;
	GPtrArray *to_server; /* GwSyncmlMessage, as parsed */
	GPtrArray *to_client;
	GPtrArray *sizes_to_server; /* GUINT_TO_POINTER(bytes) */
	GPtrArray *sizes_to_client;
	GPtrArray *content_types;    /* const gchar *, every message both ways */
	GPtrArray *client_nonces[2]; /* [local] GBytes */
	GPtrArray *server_nonces[2];
	GPtrArray *generic_alerts; /* gchar * "type|data" */
	GArray *delivered;         /* guint */
	gchar *exec_data;
	gchar *exec_correlator;
	guint exec_calls;
	TamperFunc tamper_server; /* server → client messages */
	TamperFunc tamper_client;
	guint tampered;
};

static GwDmTree *
make_tree(void)
{
	GwDmDeviceInfo info = {
	    .dev_id = DEV_ID,
	    .man = "gwmo",
	    .mod = "test-gateway",
	    .dmv = "1.2",
	    .lang = "en-US",
	    .dev_typ = "gateway",
	    .oem = "gwmo",
	    .fwv = "1.0",
	    .swv = "1.0",
	    .hwv = "1.0",
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) blob = NULL;
	g_autoptr(GString) big = g_string_new(NULL);
	guint8 raw[256];
	GwDmTree *tree = gw_dm_tree_new();

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &info, &error));
	g_assert_no_error(error);
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DevInfo/Ext/GwRole", GW_DM_FORMAT_CHR, "gateway", &error));

	/* GwMO-SECARIZE-001: ./Vendor is open to srv1 only, ./Secret to another server only */
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./Vendor", &error));
	g_assert_true(
	    gw_dm_tree_set_properties(tree, "./Vendor", GW_DM_ACCESS_NONE, SRV_ACL, NULL, &error));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Vendor/Name", GW_DM_FORMAT_CHR, "alpha", &error));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Vendor/Count", GW_DM_FORMAT_INT, "42", &error));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Vendor/ToDelete", GW_DM_FORMAT_CHR, "bye", &error));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Vendor/Ops/Reboot", GW_DM_FORMAT_CHR, "", &error));
	for (guint i = 0; i < sizeof(raw); i++)
		raw[i] = (guint8)(255 - i);
	blob = g_bytes_new(raw, sizeof(raw));
	g_assert_true(gw_dm_tree_set_leaf(
	    tree, "./Vendor/Blob", GW_DM_FORMAT_BIN, "application/octet-stream", blob, &error));
	/* printable text with characters XML must escape */
	for (guint i = 0; big->len < BIG_SIZE; i++)
		g_string_append_printf(big, "<v%u a=\"&%u\"/>", i, i * 7);
	g_string_truncate(big, BIG_SIZE);
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Vendor/Big", GW_DM_FORMAT_CHR, big->str, &error));
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./Secret", &error));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./Secret", GW_DM_ACCESS_NONE, "Get=other&Replace=other", NULL, &error));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Secret/Key", GW_DM_FORMAT_CHR, "k", &error));
	g_assert_no_error(error);
	return tree;
}

static guint
exec_handler(GwDmTree *tree,
             const gchar *server_id,
             const gchar *uri,
             GBytes *data,
             const gchar *correlator,
             gpointer user_data)
{
	Fixture *f = user_data;
	gsize len = 0;
	const gchar *raw = data != NULL ? g_bytes_get_data(data, &len) : NULL;

	g_assert_cmpstr(server_id, ==, SERVER_ID);
	g_assert_cmpstr(uri, ==, "./Vendor/Ops/Reboot");
	g_free(f->exec_data);
	g_free(f->exec_correlator);
	f->exec_data = raw != NULL ? g_strndup(raw, len) : NULL;
	f->exec_correlator = g_strdup(correlator);
	f->exec_calls++;
	return GW_DM_STATUS_OK;
}

static Fixture *
fixture_new(void)
{
	Fixture *f = g_new0(Fixture, 1);

	f->tree = make_tree();
	gw_dm_tree_add_exec_handler(f->tree, "./Vendor/Ops/Reboot", exec_handler, f, NULL);
	f->to_server = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_message_free);
	f->to_client = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_message_free);
	f->sizes_to_server = g_ptr_array_new();
	f->sizes_to_client = g_ptr_array_new();
	f->content_types = g_ptr_array_new();
	for (guint i = 0; i < 2; i++) {
		f->client_nonces[i] = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
		f->server_nonces[i] = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	}
	f->generic_alerts = g_ptr_array_new_with_free_func(g_free);
	f->delivered = g_array_new(FALSE, FALSE, sizeof(guint));
	return f;
}

static void
fixture_free(Fixture *f)
{
	g_clear_object(&f->client);
	g_clear_object(&f->server);
	g_clear_object(&f->tree);
	g_clear_error(&f->client_error);
	g_clear_error(&f->server_error);
	g_ptr_array_unref(f->to_server);
	g_ptr_array_unref(f->to_client);
	g_ptr_array_unref(f->sizes_to_server);
	g_ptr_array_unref(f->sizes_to_client);
	g_ptr_array_unref(f->content_types);
	for (guint i = 0; i < 2; i++) {
		g_ptr_array_unref(f->client_nonces[i]);
		g_ptr_array_unref(f->server_nonces[i]);
	}
	g_ptr_array_unref(f->generic_alerts);
	g_array_unref(f->delivered);
	g_free(f->exec_data);
	g_free(f->exec_correlator);
	g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fixture, fixture_free)

static void
client_config_init(GwDmSessionConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = GW_DM_SESSION_ROLE_CLIENT;
	cfg->local_uri = g_strdup(DEV_ID);
	cfg->remote_uri = g_strdup(SERVER_URI);
	cfg->server_id = g_strdup(SERVER_ID);
	cfg->local.type = GW_DM_AUTH_TYPE_BASIC;
	cfg->local.name = g_strdup(CLIENT_USER);
	cfg->local.secret = g_strdup(CLIENT_PWD);
}

static void
server_config_init(GwDmSessionConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = GW_DM_SESSION_ROLE_SERVER;
	cfg->local_uri = g_strdup(SERVER_URI);
	cfg->peer.type = GW_DM_AUTH_TYPE_BASIC;
	cfg->peer.name = g_strdup(CLIENT_USER);
	cfg->peer.secret = g_strdup(CLIENT_PWD);
}

static void
on_nonce_changed(GwDmSession *session, gboolean local, GBytes *nonce, gpointer user_data)
{
	GPtrArray **arrays = user_data;
	g_ptr_array_add(arrays[local ? 1 : 0], g_bytes_ref(nonce));
}

static void
on_generic_alert(GwDmSession *session, gpointer alert, gpointer user_data)
{
	Fixture *f = user_data;
	GwSyncmlCommand *cmd = alert;
	GwSyncmlItem *item;

	g_assert_cmpuint(cmd->alert_code, ==, GW_SYNCML_ALERT_GENERIC);
	g_assert_cmpuint(cmd->items->len, ==, 1);
	item = g_ptr_array_index(cmd->items, 0);
	g_ptr_array_add(f->generic_alerts, g_strdup_printf("%s|%s", item->meta.type, item->data));
}

static void
on_alert_delivered(GwDmSession *session, guint id, gpointer user_data)
{
	Fixture *f = user_data;
	g_array_append_val(f->delivered, id);
}

/* takes the configs */
static void
fixture_sessions(Fixture *f, GwDmSessionConfig *client_cfg, GwDmSessionConfig *server_cfg)
{
	f->client = gw_dm_session_new(client_cfg, f->tree);
	f->server = gw_dm_session_new(server_cfg, NULL);
	gw_dm_session_config_clear(client_cfg);
	gw_dm_session_config_clear(server_cfg);
	g_signal_connect(
	    f->client, "nonce-changed", G_CALLBACK(on_nonce_changed), f->client_nonces);
	g_signal_connect(
	    f->server, "nonce-changed", G_CALLBACK(on_nonce_changed), f->server_nonces);
	g_signal_connect(f->server, "generic-alert", G_CALLBACK(on_generic_alert), f);
	g_signal_connect(f->client, "alert-delivered", G_CALLBACK(on_alert_delivered), f);
}

static void
fixture_default_sessions(Fixture *f)
{
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	client_config_init(&ccfg);
	server_config_init(&scfg);
	fixture_sessions(f, &ccfg, &scfg);
}

static GwSyncmlMessage *
decode(GBytes *bytes, const gchar *content_type)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	GwSyncmlMessage *msg;

	if (gw_wbxml_is_wbxml_content_type(content_type)) {
		gsize xml_len = 0;
		g_autofree gchar *xml = gw_wbxml_to_xml(data, len, &xml_len, &error);
		g_assert_no_error(error);
		msg = gw_syncml_message_parse_xml((const guint8 *)xml, xml_len, &error);
	} else {
		msg = gw_syncml_message_parse_xml(data, len, &error);
	}
	g_assert_no_error(error);
	return msg;
}

/* client ⇄ server until one side has nothing to send */
static void
fixture_run(Fixture *f)
{
	GBytes *msg =
	    gw_dm_session_start(f->client, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, &f->client_error);

	g_assert_no_error(f->client_error);
	g_assert_nonnull(msg);
	for (guint round = 0; msg != NULL; round++) {
		const gchar *ct = gw_dm_session_get_content_type(f->client);
		g_autofree gchar *hmac = NULL;
		g_autofree gchar *hmac2 = NULL;
		GBytes *reply;

		g_assert_cmpuint(round, <, 100);
		hmac = gw_dm_session_get_hmac_header(f->client, msg);
		g_ptr_array_add(f->to_server, decode(msg, ct));
		g_ptr_array_add(f->sizes_to_server, GSIZE_TO_POINTER(g_bytes_get_size(msg)));
		g_ptr_array_add(f->content_types, (gpointer)ct);
		if (f->tamper_client != NULL)
			msg = f->tamper_client(f, msg, f->to_server->len - 1);
		reply = gw_dm_session_receive(f->server, msg, ct, hmac, &f->server_error);
		g_bytes_unref(msg);
		if (reply == NULL)
			break;
		ct = gw_dm_session_get_content_type(f->server);
		hmac2 = gw_dm_session_get_hmac_header(f->server, reply);
		g_ptr_array_add(f->to_client, decode(reply, ct));
		g_ptr_array_add(f->sizes_to_client, GSIZE_TO_POINTER(g_bytes_get_size(reply)));
		g_ptr_array_add(f->content_types, (gpointer)ct);
		if (f->tamper_server != NULL)
			reply = f->tamper_server(f, reply, f->to_client->len - 1);
		msg = gw_dm_session_receive(f->client, reply, ct, hmac2, &f->client_error);
		g_bytes_unref(reply);
	}
}

static void
assert_finished(Fixture *f)
{
	g_assert_no_error(f->client_error);
	g_assert_no_error(f->server_error);
	g_assert_cmpint(gw_dm_session_get_state(f->client), ==, GW_DM_SESSION_STATE_FINISHED);
	g_assert_cmpint(gw_dm_session_get_state(f->server), ==, GW_DM_SESSION_STATE_FINISHED);
}

static GwDmSessionResult *
get_result(Fixture *f, guint ref)
{
	GPtrArray *results = gw_dm_session_get_results(f->server);
	for (guint i = 0; i < results->len; i++) {
		GwDmSessionResult *r = g_ptr_array_index(results, i);
		if (r->ref == ref)
			return r;
	}
	g_assert_not_reached();
	return NULL;
}

static guint
result_status(Fixture *f, guint ref)
{
	return get_result(f, ref)->status;
}

static const gchar *
result_data(Fixture *f, guint ref, guint idx)
{
	GwDmSessionResult *r = get_result(f, ref);
	GwSyncmlItem *item;
	g_assert_cmpuint(r->results->len, >, idx);
	item = g_ptr_array_index(r->results, idx);
	return item->data;
}

static gchar *
tree_string(Fixture *f, const gchar *uri)
{
	return gw_dm_tree_dup_string(f->tree, uri);
}

/* the Status the client sent for command @cmd_id of server message @msg_ref */
static guint
client_status_for(Fixture *f, guint32 msg_ref, guint32 cmd_ref)
{
	for (guint i = 0; i < f->to_server->len; i++) {
		GwSyncmlMessage *m = g_ptr_array_index(f->to_server, i);
		GwSyncmlCommand *s = gw_syncml_message_find_status(m, msg_ref, cmd_ref);
		if (s != NULL && s->msg_ref == msg_ref)
			return s->status_code;
	}
	return 0;
}

/* the MsgID of the server message that carried the command queued as @ref */
static guint32
server_msg_of(Fixture *f, guint ref)
{
	GwDmSessionResult *r = get_result(f, ref);
	for (guint i = 0; i < f->to_client->len; i++) {
		GwSyncmlMessage *m = g_ptr_array_index(f->to_client, i);
		GwSyncmlCommand *c = gw_syncml_message_find_command(m, r->command->cmd_id);
		if (c != NULL && c->type == r->command->type)
			return m->hdr.msg_id;
	}
	return 0;
}

static GwSyncmlCommand *
cmd_item(GwSyncmlCmdType type, const gchar *uri, const gchar *format, const gchar *data)
{
	GwSyncmlCommand *cmd = gw_syncml_command_new(type);
	GwSyncmlItem *item = gw_syncml_command_add_item(cmd, gw_syncml_item_new(uri, NULL));
	if (format != NULL || data != NULL)
		gw_syncml_item_set_data(item, format, NULL, data);
	return cmd;
}

static GwSyncmlCommand *
cmd_get(const gchar *uri)
{
	return cmd_item(GW_SYNCML_CMD_GET, uri, NULL, NULL);
}

static guint
count_commands(GPtrArray *messages, GwSyncmlCmdType type, guint alert_code)
{
	guint n = 0;
	for (guint i = 0; i < messages->len; i++) {
		GwSyncmlMessage *m = g_ptr_array_index(messages, i);
		for (guint j = 0; j < m->commands->len; j++) {
			GwSyncmlCommand *c = g_ptr_array_index(m->commands, j);
			if (c->type == type && (alert_code == 0 || c->alert_code == alert_code))
				n++;
		}
	}
	return n;
}

static guint
count_status_code(GPtrArray *messages, guint code)
{
	guint n = 0;
	for (guint i = 0; i < messages->len; i++) {
		GwSyncmlMessage *m = g_ptr_array_index(messages, i);
		for (guint j = 0; j < m->commands->len; j++) {
			GwSyncmlCommand *c = g_ptr_array_index(m->commands, j);
			if (c->type == GW_SYNCML_CMD_STATUS && c->status_code == code)
				n++;
		}
	}
	return n;
}

static guint
count_more_data(GPtrArray *messages)
{
	guint n = 0;
	for (guint i = 0; i < messages->len; i++) {
		GwSyncmlMessage *m = g_ptr_array_index(messages, i);
		for (guint j = 0; j < m->commands->len; j++) {
			GwSyncmlCommand *c = g_ptr_array_index(m->commands, j);
			for (guint k = 0; k < c->items->len; k++) {
				GwSyncmlItem *item = g_ptr_array_index(c->items, k);
				if (item->more_data)
					n++;
			}
		}
	}
	return n;
}

static GwSyncmlCommand *
header_status(GwSyncmlMessage *m)
{
	GwSyncmlCommand *c;
	g_assert_cmpuint(m->commands->len, >, 0);
	c = g_ptr_array_index(m->commands, 0);
	g_assert_cmpint(c->type, ==, GW_SYNCML_CMD_STATUS);
	g_assert_cmpuint(c->cmd_ref, ==, 0);
	g_assert_cmpstr(c->cmd, ==, "SyncHdr");
	return c;
}

static gboolean
bytes_equal_nonce(GBytes *a, GBytes *b)
{
	return a != NULL && b != NULL && g_bytes_equal(a, b);
}

static void
on_result(GwDmSession *session, gpointer result, gpointer user_data)
{
	guint *n = user_data;
	GwDmSessionResult *r = result;
	g_assert_cmpuint(r->ref, ==, *n + 1);
	g_assert_cmpuint(r->status, !=, 0);
	(*n)++;
}

/* ---- every command type, end to end ---- */

static void
test_commands(void)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autofree gchar *name = NULL;
	g_autofree gchar *count = NULL;
	g_autofree gchar *copy = NULL;
	g_autofree gchar *added = NULL;
	g_autofree gchar *a1 = NULL;
	g_autofree gchar *blob_b64 = NULL;
	g_autoptr(GwSyncmlCommand) seq = NULL;
	GwSyncmlCommand *atomic;
	GwSyncmlCommand *exec;
	GwSyncmlCommand *copy_cmd;
	GwSyncmlItem *item;
	GwDmSessionStats stats;
	guint r_get, r_list, r_replace, r_add, r_delete, r_copy, r_exec, r_seq, r_atomic, r_blob;
	guint r_get_after, r_add_bin, r_two;
	guint n_results = 0;
	GwSyncmlCommand *two;
	GwDmSessionResult *res;
	gboolean saw_count = FALSE;
	gboolean saw_name = FALSE;
	guint8 bin[] = {0, 1, 2, 0xfe, 0xff, '<', '&'};

	fixture_default_sessions(f);
	r_get = gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Name"));
	r_list = gw_dm_session_queue_command(f->server, cmd_get("./Vendor?list=Struct"));
	r_blob = gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Blob"));
	r_replace = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "beta"));
	r_add = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_ADD, "./Vendor/New", "int", "7"));
	blob_b64 = g_base64_encode(bin, sizeof(bin));
	r_add_bin = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_ADD, "./Vendor/NewBin", "b64", blob_b64));
	r_delete = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_DELETE, "./Vendor/ToDelete", NULL, NULL));
	copy_cmd = gw_syncml_command_new(GW_SYNCML_CMD_COPY);
	item = gw_syncml_command_add_item(copy_cmd,
	                                  gw_syncml_item_new("./Vendor/NameCopy", "./Vendor/Name"));
	r_copy = gw_dm_session_queue_command(f->server, copy_cmd);
	exec = cmd_item(GW_SYNCML_CMD_EXEC, "./Vendor/Ops/Reboot", "chr", "now");
	exec->correlator = g_strdup("corr-1");
	r_exec = gw_dm_session_queue_command(f->server, exec);
	seq = gw_syncml_command_new(GW_SYNCML_CMD_SEQUENCE);
	gw_syncml_command_add_child(seq,
	                            cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Count", "int", "43"));
	gw_syncml_command_add_child(seq, cmd_get("./Vendor/Count"));
	r_seq = gw_dm_session_queue_command(f->server, g_steal_pointer(&seq));
	atomic = gw_syncml_command_new(GW_SYNCML_CMD_ATOMIC);
	gw_syncml_command_add_child(atomic,
	                            cmd_item(GW_SYNCML_CMD_ADD, "./Vendor/A1", "chr", "one"));
	gw_syncml_command_add_child(
	    atomic, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "gamma"));
	r_atomic = gw_dm_session_queue_command(f->server, atomic);
	r_get_after = gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Name"));
	two = cmd_get("./Vendor/Count");
	gw_syncml_command_add_item(two, gw_syncml_item_new("./Vendor/Nope", NULL));
	gw_syncml_command_add_item(two, gw_syncml_item_new("./DevInfo/Lang", NULL));
	r_two = gw_dm_session_queue_command(f->server, two);
	g_signal_connect(f->server, "result", G_CALLBACK(on_result), &n_results);

	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(n_results, ==, r_two);
	/* several items: one Status per item (the worst wins), one Results with the found ones */
	res = get_result(f, r_two);
	g_assert_cmpuint(res->status, ==, GW_DM_STATUS_NOT_FOUND);
	g_assert_cmpuint(res->results->len, ==, 2);
	g_assert_cmpstr(
	    ((GwSyncmlItem *)g_ptr_array_index(res->results, 0))->source_uri, ==, "./Vendor/Count");
	g_assert_cmpstr(((GwSyncmlItem *)g_ptr_array_index(res->results, 1))->data, ==, "en-US");
	/* GwMO-SECACATE-001: basic credentials accepted with 212 */
	g_assert_true(gw_dm_session_get_peer_authenticated(f->server));
	g_assert_cmpuint(header_status(g_ptr_array_index(f->to_client, 0))->status_code,
	                 ==,
	                 GW_DM_STATUS_AUTH_ACCEPTED);
	g_assert_cmpstr(gw_dm_session_get_peer_uri(f->server), ==, DEV_ID);
	g_assert_cmpstr(
	    gw_dm_session_get_session_id(f->server), ==, gw_dm_session_get_session_id(f->client));
	/* Package #1 carried DevInfo, Ext leaves included */
	g_assert_cmpstr(
	    g_hash_table_lookup(gw_dm_session_get_peer_devinfo(f->server), "./DevInfo/DevId"),
	    ==,
	    DEV_ID);
	g_assert_cmpstr(
	    g_hash_table_lookup(gw_dm_session_get_peer_devinfo(f->server), "./DevInfo/Man"),
	    ==,
	    "gwmo");
	g_assert_cmpstr(
	    g_hash_table_lookup(gw_dm_session_get_peer_devinfo(f->server), "./DevInfo/Ext/GwRole"),
	    ==,
	    "gateway");

	for (guint ref = 1; ref < r_two; ref++)
		g_assert_cmpuint(result_status(f, ref), ==, GW_DM_STATUS_OK);
	/* Get: Results data equal to the tree values (read before the Replace) */
	g_assert_cmpstr(result_data(f, r_get, 0), ==, "alpha");
	/* ?list=Struct: every node below ./Vendor */
	res = get_result(f, r_list);
	g_assert_cmpuint(res->results->len, >=, 7);
	for (guint i = 0; i < res->results->len; i++) {
		GwSyncmlItem *it = g_ptr_array_index(res->results, i);
		saw_name |= g_strcmp0(it->source_uri, "./Vendor/Name") == 0;
		saw_count |= g_strcmp0(it->source_uri, "./Vendor/Count") == 0;
	}
	g_assert_true(saw_name);
	g_assert_true(saw_count);
	/* bin nodes travel as b64 */
	item = g_ptr_array_index(get_result(f, r_blob)->results, 0);
	g_assert_cmpstr(item->meta.format, ==, "b64");
	{
		gsize len = 0;
		g_autofree guchar *raw = g_base64_decode(item->data, &len);
		GBytes *value = gw_dm_node_get_value(gw_dm_tree_lookup(f->tree, "./Vendor/Blob"));
		g_assert_cmpmem(raw, len, g_bytes_get_data(value, NULL), g_bytes_get_size(value));
	}
	/* Add of b64 data stores the decoded bytes in a bin node */
	{
		GwDmNode *node = gw_dm_tree_lookup(f->tree, "./Vendor/NewBin");
		g_assert_nonnull(node);
		g_assert_cmpint(gw_dm_node_get_format(node), ==, GW_DM_FORMAT_BIN);
		g_assert_cmpmem(g_bytes_get_data(gw_dm_node_get_value(node), NULL),
		                g_bytes_get_size(gw_dm_node_get_value(node)),
		                bin,
		                sizeof(bin));
	}
	/* Replace, Add, Delete, Copy, Atomic */
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "gamma");
	copy = tree_string(f, "./Vendor/NameCopy");
	g_assert_cmpstr(copy, ==, "beta");
	added = tree_string(f, "./Vendor/New");
	g_assert_cmpstr(added, ==, "7");
	g_assert_cmpint(gw_dm_node_get_format(gw_dm_tree_lookup(f->tree, "./Vendor/New")),
	                ==,
	                GW_DM_FORMAT_INT);
	g_assert_null(gw_dm_tree_lookup(f->tree, "./Vendor/ToDelete"));
	a1 = tree_string(f, "./Vendor/A1");
	g_assert_cmpstr(a1, ==, "one");
	g_assert_cmpstr(result_data(f, r_get_after, 0), ==, "gamma");
	/* Exec: the handler saw data and correlator */
	g_assert_cmpuint(f->exec_calls, ==, 1);
	g_assert_cmpstr(f->exec_data, ==, "now");
	g_assert_cmpstr(f->exec_correlator, ==, "corr-1");
	/* Sequence: in order, the Get inside saw the Replace before it */
	count = tree_string(f, "./Vendor/Count");
	g_assert_cmpstr(count, ==, "43");
	g_assert_cmpstr(result_data(f, r_seq, 0), ==, "43");
	(void)r_replace;
	(void)r_add;
	(void)r_delete;
	(void)r_copy;
	(void)r_exec;
	(void)r_atomic;
	(void)r_add_bin;

	gw_dm_session_get_stats(f->client, &stats);
	g_assert_cmpuint(stats.messages_out, ==, f->to_server->len);
	g_assert_cmpuint(stats.commands_executed, >=, 13);
	gw_dm_session_get_stats(f->server, &stats);
	g_assert_cmpuint(stats.commands_sent, ==, r_two);
	g_assert_cmpuint(stats.messages_in, ==, f->to_server->len);
}

/* Atomic with a failing child: rollback, 507, 216 for what ran, 215 for what did not */
static void
test_atomic_rollback(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwSyncmlCommand *atomic = gw_syncml_command_new(GW_SYNCML_CMD_ATOMIC);
	g_autofree gchar *name = NULL;
	g_autofree gchar *count = NULL;
	GwDmSessionResult *res;
	guint64 generation;
	guint32 msg_ref;
	guint ref;

	fixture_default_sessions(f);
	gw_syncml_command_add_child(
	    atomic, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "changed"));
	gw_syncml_command_add_child(atomic, cmd_item(GW_SYNCML_CMD_ADD, "./Vendor/X", "chr", "x"));
	gw_syncml_command_add_child(atomic,
	                            cmd_item(GW_SYNCML_CMD_ADD, "./Vendor/Name", "chr", "dup"));
	gw_syncml_command_add_child(atomic,
	                            cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Count", "int", "1"));
	ref = gw_dm_session_queue_command(f->server, atomic);
	generation = gw_dm_tree_get_generation(f->tree);

	fixture_run(f);
	assert_finished(f);
	res = get_result(f, ref);
	g_assert_cmpuint(res->status, ==, GW_DM_STATUS_ATOMIC_FAILED);
	msg_ref = server_msg_of(f, ref);
	g_assert_cmpuint(msg_ref, >, 0);
	g_assert_cmpuint(
	    client_status_for(f, msg_ref, res->command->cmd_id), ==, GW_DM_STATUS_ATOMIC_FAILED);
	g_assert_cmpuint(
	    client_status_for(
	        f,
	        msg_ref,
	        ((GwSyncmlCommand *)g_ptr_array_index(res->command->children, 0))->cmd_id),
	    ==,
	    GW_DM_STATUS_ATOMIC_ROLLBACK_OK);
	g_assert_cmpuint(
	    client_status_for(
	        f,
	        msg_ref,
	        ((GwSyncmlCommand *)g_ptr_array_index(res->command->children, 1))->cmd_id),
	    ==,
	    GW_DM_STATUS_ATOMIC_ROLLBACK_OK);
	g_assert_cmpuint(
	    client_status_for(
	        f,
	        msg_ref,
	        ((GwSyncmlCommand *)g_ptr_array_index(res->command->children, 2))->cmd_id),
	    ==,
	    GW_DM_STATUS_ALREADY_EXISTS);
	g_assert_cmpuint(
	    client_status_for(
	        f,
	        msg_ref,
	        ((GwSyncmlCommand *)g_ptr_array_index(res->command->children, 3))->cmd_id),
	    ==,
	    GW_DM_STATUS_NOT_EXECUTED);
	/* the tree is unchanged */
	g_assert_cmpuint(gw_dm_tree_get_generation(f->tree), >, generation);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "alpha");
	count = tree_string(f, "./Vendor/Count");
	g_assert_cmpstr(count, ==, "42");
	g_assert_null(gw_dm_tree_lookup(f->tree, "./Vendor/X"));
}

/* status codes through the session (GwMO-SECARIZE-001: ACLs, access types) */
static void
test_status_codes(void)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autofree gchar *man = NULL;
	g_autofree gchar *key = NULL;
	g_autofree gchar *count = NULL;
	g_autofree gchar *quiet = NULL;
	GwSyncmlCommand *seq;
	GwSyncmlCommand *noresp;
	GwDmSessionResult *res;
	guint32 msg_ref;
	guint r404, r405_delete, r405_replace, r418, r425, r425_replace, r_ok, r_seq, r_noresp,
	    r415;

	fixture_default_sessions(f);
	r404 = gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Nope"));
	r405_delete = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_DELETE, "./DevInfo/DevId", NULL, NULL));
	r405_replace = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./DevInfo/Man", "chr", "evil"));
	r418 = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_ADD, "./Vendor/Name", "chr", "again"));
	r425 = gw_dm_session_queue_command(f->server, cmd_get("./Secret/Key"));
	r425_replace = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Secret/Key", "chr", "stolen"));
	r_ok = gw_dm_session_queue_command(f->server, cmd_get("./DevInfo/DevId"));
	/* Sequence: a failing command does not stop the ones after it (DM 1.2) */
	seq = gw_syncml_command_new(GW_SYNCML_CMD_SEQUENCE);
	gw_syncml_command_add_child(seq, cmd_get("./Vendor/Nope"));
	gw_syncml_command_add_child(seq,
	                            cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Count", "int", "99"));
	r_seq = gw_dm_session_queue_command(f->server, seq);
	/* NoResp: executed, never answered */
	noresp = cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/ToDelete", "chr", "quiet");
	noresp->no_resp = TRUE;
	r_noresp = gw_dm_session_queue_command(f->server, noresp);
	/* a bad int value: 415 from the tree */
	r415 = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Count", "int", "forty"));

	fixture_run(f);
	assert_finished(f);
	res = get_result(f, r_seq);
	g_assert_cmpuint(res->status, ==, GW_DM_STATUS_OK);
	msg_ref = server_msg_of(f, r_seq);
	g_assert_cmpuint(
	    client_status_for(
	        f,
	        msg_ref,
	        ((GwSyncmlCommand *)g_ptr_array_index(res->command->children, 0))->cmd_id),
	    ==,
	    GW_DM_STATUS_NOT_FOUND);
	g_assert_cmpuint(
	    client_status_for(
	        f,
	        msg_ref,
	        ((GwSyncmlCommand *)g_ptr_array_index(res->command->children, 1))->cmd_id),
	    ==,
	    GW_DM_STATUS_OK);
	count = tree_string(f, "./Vendor/Count");
	g_assert_cmpstr(count, ==, "99");
	g_assert_cmpuint(result_status(f, r_noresp), ==, 0);
	g_assert_cmpuint(client_status_for(f,
	                                   server_msg_of(f, r_noresp),
	                                   get_result(f, r_noresp)->command->cmd_id),
	                 ==,
	                 0);
	quiet = tree_string(f, "./Vendor/ToDelete");
	g_assert_cmpstr(quiet, ==, "quiet");
	g_assert_cmpuint(result_status(f, r415), ==, GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE);
	g_assert_cmpuint(result_status(f, r404), ==, GW_DM_STATUS_NOT_FOUND);
	g_assert_cmpuint(result_status(f, r405_delete), ==, GW_DM_STATUS_COMMAND_NOT_ALLOWED);
	g_assert_cmpuint(result_status(f, r405_replace), ==, GW_DM_STATUS_COMMAND_NOT_ALLOWED);
	g_assert_cmpuint(result_status(f, r418), ==, GW_DM_STATUS_ALREADY_EXISTS);
	g_assert_cmpuint(result_status(f, r425), ==, GW_DM_STATUS_PERMISSION_DENIED);
	g_assert_cmpuint(result_status(f, r425_replace), ==, GW_DM_STATUS_PERMISSION_DENIED);
	g_assert_cmpuint(result_status(f, r_ok), ==, GW_DM_STATUS_OK);
	/* no Results for failed Gets, and nothing changed */
	g_assert_cmpuint(get_result(f, r404)->results->len, ==, 0);
	g_assert_cmpuint(get_result(f, r425)->results->len, ==, 0);
	g_assert_cmpstr(result_data(f, r_ok, 0), ==, DEV_ID);
	man = tree_string(f, "./DevInfo/Man");
	g_assert_cmpstr(man, ==, "gwmo");
	key = tree_string(f, "./Secret/Key");
	g_assert_cmpstr(key, ==, "k");
	g_assert_nonnull(gw_dm_tree_lookup(f->tree, "./DevInfo/DevId"));
}

/* a hand-written server message with an element nobody knows: 406 */
static void
test_unknown_command(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) crafted = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *name = NULL;
	GwSyncmlCommand *status;
	GError *error = NULL;

	client_config_init(&ccfg);
	ccfg.local.type = GW_DM_AUTH_TYPE_NONE;
	server_config_init(&scfg);
	fixture_sessions(f, &ccfg, &scfg);
	pkg1 = gw_dm_session_start(f->client, GW_SYNCML_ALERT_SERVER_INITIATED_MGMT, &error);
	g_assert_no_error(error);
	msg = decode(pkg1, GW_SYNCML_DM_XML_TYPE);
	/* Package #1 shape: Alert 1200, Replace of DevInfo, Final, no Cred for auth type NONE */
	g_assert_true(msg->final);
	g_assert_null(msg->hdr.cred);
	g_assert_cmpstr(msg->hdr.target_uri, ==, SERVER_URI);
	g_assert_cmpstr(msg->hdr.source_uri, ==, DEV_ID);
	g_assert_cmpint(msg->hdr.meta.max_msg_size, ==, 16384);
	g_assert_cmpuint(
	    ((GwSyncmlCommand *)g_ptr_array_index(msg->commands, 0))->alert_code, ==, 1200);
	g_assert_cmpint(((GwSyncmlCommand *)g_ptr_array_index(msg->commands, 1))->type,
	                ==,
	                GW_SYNCML_CMD_REPLACE);

	xml = g_strdup_printf(
	    "<SyncML "
	    "xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
	    "<SessionID>%s</SessionID><MsgID>1</MsgID><Target><LocURI>%s</LocURI></Target>"
	    "<Source><LocURI>%s</LocURI></Source><RespURI>" SERVER_URI "?s=1</RespURI>"
	    "</SyncHdr><SyncBody>"
	    "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</"
	    "Cmd><Data>200</Data></Status>"
	    "<Frobnicate><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/Name</LocURI></Target></"
	    "Item></Frobnicate>"
	    "<Replace><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/Name</LocURI></"
	    "Target><Data>hand</Data></Item></Replace>"
	    "<Final/></SyncBody></SyncML>",
	    gw_dm_session_get_session_id(f->client),
	    DEV_ID,
	    SERVER_URI);
	crafted = g_bytes_new(xml, strlen(xml));
	reply = gw_dm_session_receive(f->client, crafted, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
	g_clear_pointer(&msg, gw_syncml_message_free);
	msg = decode(reply, GW_SYNCML_DM_XML_TYPE);
	g_assert_cmpuint(header_status(msg)->status_code, ==, GW_DM_STATUS_OK);
	g_assert_cmpuint(header_status(msg)->msg_ref, ==, 1);
	status = gw_syncml_message_find_status(msg, 1, 2);
	g_assert_nonnull(status);
	g_assert_cmpstr(status->cmd, ==, "Frobnicate");
	g_assert_cmpuint(status->status_code, ==, GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED);
	/* the known command after it still ran, its Status carries the TargetRef */
	status = gw_syncml_message_find_status(msg, 1, 3);
	g_assert_nonnull(status);
	g_assert_cmpuint(status->status_code, ==, GW_DM_STATUS_OK);
	g_assert_cmpstr(gw_syncml_command_get_target_ref(status, 0), ==, "./Vendor/Name");
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "hand");
	g_assert_cmpstr(gw_dm_session_get_resp_uri(f->client), ==, SERVER_URI "?s=1");
	g_assert_cmpuint(msg->hdr.msg_id, ==, 2);
	g_assert_true(msg->final);
}

/* ---- authentication (GwMO-SECACATE-001) ---- */

static void
test_auth_basic(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *name = NULL;
	GwSyncmlMessage *pkg1;
	GwSyncmlMessage *pkg2;
	g_autofree gchar *expected = gw_dm_auth_basic_encode(CLIENT_USER, CLIENT_PWD);

	client_config_init(&ccfg);
	server_config_init(&scfg);
	/* the server presents its own credentials (SRVCRED) and the client checks them */
	scfg.local.type = GW_DM_AUTH_TYPE_BASIC;
	scfg.local.name = g_strdup(SERVER_USER);
	scfg.local.secret = g_strdup(SERVER_PWD);
	ccfg.peer.type = GW_DM_AUTH_TYPE_BASIC;
	ccfg.peer.name = g_strdup(SERVER_USER);
	ccfg.peer.secret = g_strdup(SERVER_PWD);
	fixture_sessions(f, &ccfg, &scfg);
	gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "basic"));

	fixture_run(f);
	assert_finished(f);
	pkg1 = g_ptr_array_index(f->to_server, 0);
	g_assert_nonnull(pkg1->hdr.cred);
	g_assert_cmpstr(pkg1->hdr.cred->meta.type, ==, "syncml:auth-basic");
	g_assert_cmpstr(pkg1->hdr.cred->meta.format, ==, "b64");
	g_assert_cmpstr(pkg1->hdr.cred->data, ==, expected);
	g_assert_cmpstr(pkg1->hdr.source_name, ==, CLIENT_USER);
	pkg2 = g_ptr_array_index(f->to_client, 0);
	g_assert_nonnull(pkg2->hdr.cred);
	g_assert_cmpuint(header_status(pkg2)->status_code, ==, GW_DM_STATUS_AUTH_ACCEPTED);
	/* the client accepted the server: 212, and the server stops sending Cred */
	g_assert_cmpuint(header_status(g_ptr_array_index(f->to_server, 1))->status_code,
	                 ==,
	                 GW_DM_STATUS_AUTH_ACCEPTED);
	g_assert_null(
	    ((GwSyncmlMessage *)g_ptr_array_index(f->to_client, f->to_client->len - 1))->hdr.cred);
	g_assert_null(((GwSyncmlMessage *)g_ptr_array_index(f->to_server, 1))->hdr.cred);
	g_assert_true(gw_dm_session_get_peer_authenticated(f->client));
	g_assert_true(gw_dm_session_get_peer_authenticated(f->server));
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "basic");
}

static void
test_auth_md5(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autoptr(GBytes) nonce_c = g_bytes_new_static("client-nonce", 12);
	g_autoptr(GBytes) nonce_s = g_bytes_new_static("server-nonce", 12);
	g_autofree gchar *expected =
	    gw_dm_auth_md5_digest(CLIENT_USER, CLIENT_PWD, (const guint8 *)"client-nonce", 12);
	g_autofree gchar *name = NULL;
	GwSyncmlMessage *pkg1;
	GwSyncmlCommand *st;
	guint ref;

	client_config_init(&ccfg);
	ccfg.local.type = GW_DM_AUTH_TYPE_MD5;
	ccfg.local.nonce = g_bytes_ref(nonce_c);
	ccfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	ccfg.peer.name = g_strdup(SERVER_USER);
	ccfg.peer.secret = g_strdup(SERVER_PWD);
	ccfg.peer.nonce = g_bytes_ref(nonce_s);
	server_config_init(&scfg);
	scfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	scfg.peer.nonce = g_bytes_ref(nonce_c);
	scfg.local.type = GW_DM_AUTH_TYPE_MD5;
	scfg.local.name = g_strdup(SERVER_USER);
	scfg.local.secret = g_strdup(SERVER_PWD);
	scfg.local.nonce = g_bytes_ref(nonce_s);
	fixture_sessions(f, &ccfg, &scfg);
	ref = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "md5"));

	fixture_run(f);
	assert_finished(f);
	pkg1 = g_ptr_array_index(f->to_server, 0);
	g_assert_cmpstr(pkg1->hdr.cred->meta.type, ==, "syncml:auth-md5");
	g_assert_cmpstr(pkg1->hdr.cred->meta.format, ==, "b64");
	g_assert_cmpstr(pkg1->hdr.cred->data, ==, expected);
	/* 212 with a NextNonce for the next session, both ways; "nonce-changed" on both sides */
	st = header_status(g_ptr_array_index(f->to_client, 0));
	g_assert_cmpuint(st->status_code, ==, GW_DM_STATUS_AUTH_ACCEPTED);
	g_assert_nonnull(st->chal);
	g_assert_cmpstr(st->chal->type, ==, "syncml:auth-md5");
	g_assert_cmpstr(st->chal->format, ==, "b64");
	g_assert_nonnull(st->chal->next_nonce);
	g_assert_cmpuint(f->server_nonces[0]->len, ==, 1);
	g_assert_cmpuint(f->client_nonces[1]->len, ==, 1);
	g_assert_true(bytes_equal_nonce(g_ptr_array_index(f->server_nonces[0], 0),
	                                g_ptr_array_index(f->client_nonces[1], 0)));
	g_assert_cmpuint(f->client_nonces[0]->len, ==, 1);
	g_assert_cmpuint(f->server_nonces[1]->len, ==, 1);
	g_assert_true(bytes_equal_nonce(g_ptr_array_index(f->client_nonces[0], 0),
	                                g_ptr_array_index(f->server_nonces[1], 0)));
	g_assert_false(g_bytes_equal(g_ptr_array_index(f->client_nonces[1], 0), nonce_c));
	g_assert_cmpuint(result_status(f, ref), ==, GW_DM_STATUS_OK);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "md5");
}

/* wrong client password: 401 + Chal, nothing executed, the session fails after the retries */
static void
test_auth_wrong_password(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *name = NULL;
	GwSyncmlCommand *st;
	guint ref;

	client_config_init(&ccfg);
	ccfg.local.type = GW_DM_AUTH_TYPE_MD5;
	g_free(ccfg.local.secret);
	ccfg.local.secret = g_strdup("wrong");
	server_config_init(&scfg);
	scfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	fixture_sessions(f, &ccfg, &scfg);
	ref = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "never"));

	fixture_run(f);
	/* three attempts: Package #1 and two retries with a new MsgID each */
	g_assert_cmpuint(f->to_server->len, ==, 3);
	g_assert_cmpuint(
	    ((GwSyncmlMessage *)g_ptr_array_index(f->to_server, 1))->hdr.msg_id, ==, 2);
	g_assert_cmpuint(
	    ((GwSyncmlMessage *)g_ptr_array_index(f->to_server, 2))->hdr.msg_id, ==, 3);
	for (guint i = 0; i < f->to_client->len; i++) {
		GwSyncmlMessage *m = g_ptr_array_index(f->to_client, i);
		st = header_status(m);
		g_assert_cmpuint(st->status_code, ==, GW_DM_STATUS_INVALID_CREDENTIALS);
		g_assert_nonnull(st->chal);
		g_assert_cmpstr(st->chal->type, ==, "syncml:auth-md5");
		g_assert_cmpstr(st->chal->format, ==, "b64");
		g_assert_nonnull(st->chal->next_nonce);
		/* after an auth failure the response holds only Status commands */
		for (guint j = 0; j < m->commands->len; j++)
			g_assert_cmpint(
			    ((GwSyncmlCommand *)g_ptr_array_index(m->commands, j))->type,
			    ==,
			    GW_SYNCML_CMD_STATUS);
	}
	g_assert_cmpuint(count_commands(f->to_client, GW_SYNCML_CMD_REPLACE, 0), ==, 0);
	/* the client took each NextNonce */
	g_assert_cmpuint(f->client_nonces[1]->len, ==, 3);
	g_assert_cmpuint(f->server_nonces[0]->len, ==, 3);
	g_assert_error(f->client_error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_assert_cmpint(gw_dm_session_get_state(f->client), ==, GW_DM_SESSION_STATE_FAILED);
	g_assert_cmpint(gw_dm_session_get_state(f->server), ==, GW_DM_SESSION_STATE_FAILED);
	g_assert_error(
	    (GError *)gw_dm_session_get_error(f->server), GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_assert_false(gw_dm_session_get_peer_authenticated(f->server));
	g_assert_cmpuint(result_status(f, ref), ==, 0);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "alpha");
	g_assert_cmpuint(g_hash_table_size(gw_dm_session_get_peer_devinfo(f->server)), ==, 0);
}

/* no Cred at all: 407 with Chal */
static void
test_auth_missing(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	GwSyncmlCommand *st;

	client_config_init(&ccfg);
	ccfg.local.type = GW_DM_AUTH_TYPE_NONE;
	server_config_init(&scfg);
	fixture_sessions(f, &ccfg, &scfg);
	gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Name"));

	fixture_run(f);
	g_assert_null(((GwSyncmlMessage *)g_ptr_array_index(f->to_server, 0))->hdr.cred);
	st = header_status(g_ptr_array_index(f->to_client, 0));
	g_assert_cmpuint(st->status_code, ==, GW_DM_STATUS_MISSING_CREDENTIALS);
	g_assert_nonnull(st->chal);
	g_assert_cmpstr(st->chal->type, ==, "syncml:auth-basic");
	/* the Alert and the Replace of Package #1 are not processed either */
	g_assert_cmpuint(count_status_code(f->to_client, GW_DM_STATUS_MISSING_CREDENTIALS), >=, 3);
	g_assert_cmpuint(count_commands(f->to_client, GW_SYNCML_CMD_GET, 0), ==, 0);
	g_assert_cmpint(gw_dm_session_get_state(f->client), ==, GW_DM_SESSION_STATE_FAILED);
	g_assert_cmpint(gw_dm_session_get_state(f->server), ==, GW_DM_SESSION_STATE_FAILED);
}

/* a stale nonce: 401 + Chal, the client retries with the NextNonce and gets in */
static void
test_auth_nonce_update(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *name = NULL;
	g_autofree gchar *expected = NULL;
	GBytes *issued;
	GwSyncmlMessage *retry;
	gsize len;
	const guint8 *raw;
	guint ref;

	client_config_init(&ccfg);
	ccfg.local.type = GW_DM_AUTH_TYPE_MD5;
	ccfg.local.nonce = g_bytes_new_static("stale", 5);
	server_config_init(&scfg);
	scfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	scfg.peer.nonce = g_bytes_new_static("fresh", 5);
	fixture_sessions(f, &ccfg, &scfg);
	ref = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "retried"));

	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(header_status(g_ptr_array_index(f->to_client, 0))->status_code,
	                 ==,
	                 GW_DM_STATUS_INVALID_CREDENTIALS);
	g_assert_cmpuint(header_status(g_ptr_array_index(f->to_client, 1))->status_code,
	                 ==,
	                 GW_DM_STATUS_AUTH_ACCEPTED);
	/* "nonce-changed" fired with the bytes the server issued */
	g_assert_cmpuint(f->server_nonces[0]->len, >=, 1);
	g_assert_cmpuint(f->client_nonces[1]->len, >=, 1);
	issued = g_ptr_array_index(f->server_nonces[0], 0);
	g_assert_cmpuint(g_bytes_get_size(issued), ==, GW_DM_AUTH_NONCE_LEN);
	g_assert_true(g_bytes_equal(issued, g_ptr_array_index(f->client_nonces[1], 0)));
	/* the retry is Package #1 again with a new MsgID and a digest over the new nonce */
	retry = g_ptr_array_index(f->to_server, 1);
	g_assert_cmpuint(retry->hdr.msg_id, ==, 2);
	g_assert_cmpuint(
	    ((GwSyncmlCommand *)g_ptr_array_index(retry->commands, 1))->alert_code, ==, 1201);
	raw = g_bytes_get_data(issued, &len);
	expected = gw_dm_auth_md5_digest(CLIENT_USER, CLIENT_PWD, raw, len);
	g_assert_cmpstr(retry->hdr.cred->data, ==, expected);
	g_assert_cmpuint(result_status(f, ref), ==, GW_DM_STATUS_OK);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "retried");
}

/* one client session against a server with nothing to send (@server_cmd NULL) or one command;
 * the client checks the server's MD5 SRVCRED with @nonce, the server digests with it */
static Fixture *
run_server_auth(GBytes *nonce, GwSyncmlCommand *server_cmd)
{
	Fixture *f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;

	client_config_init(&ccfg);
	ccfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	ccfg.peer.name = g_strdup(SERVER_USER);
	ccfg.peer.secret = g_strdup(SERVER_PWD);
	ccfg.peer.nonce = g_bytes_ref(nonce);
	server_config_init(&scfg);
	scfg.local.type = GW_DM_AUTH_TYPE_MD5;
	scfg.local.name = g_strdup(SERVER_USER);
	scfg.local.secret = g_strdup(SERVER_PWD);
	scfg.local.nonce = g_bytes_ref(nonce);
	fixture_sessions(f, &ccfg, &scfg);
	if (server_cmd != NULL)
		gw_dm_session_queue_command(f->server, server_cmd);
	fixture_run(f);
	assert_finished(f);
	return f;
}

/* GwMO-SECACATE-001 (issue 11 §3): the client accepts the server's credentials with 212 and a
 * NextNonce, but a server package that needs no answer ends the session without any message:
 * the NextNonce never reached the server, so the client does not rotate its nonce ("nonce-
 * changed" not emitted), and the server's next session, digesting with the nonce it has,
 * authenticates at its first message. When the answer goes out, the nonce it carries is the
 * one the client keeps. */
static void
test_auth_nonce_unsent(void)
{
	g_autoptr(GBytes) nonce = g_bytes_new_static("agreed", 6);
	g_autoptr(Fixture) quiet = NULL;
	g_autoptr(Fixture) next = NULL;
	g_autoptr(Fixture) busy = NULL;
	GwSyncmlCommand *st;
	guchar *raw;
	gsize len = 0;

	/* a session in which the server has nothing to ask */
	quiet = run_server_auth(nonce, NULL);
	g_assert_cmpuint(quiet->to_server->len, ==, 1);
	g_assert_true(gw_dm_session_get_peer_authenticated(quiet->client));
	g_assert_cmpuint(quiet->client_nonces[0]->len, ==, 0);

	/* the next one, both sides with the nonce they kept: 212 for the server's first message */
	next = run_server_auth(nonce, cmd_get("./DevInfo/DevId"));
	st = header_status(g_ptr_array_index(next->to_server, 1));
	g_assert_cmpuint(st->status_code, ==, GW_DM_STATUS_AUTH_ACCEPTED);
	g_assert_cmpuint(
	    count_status_code(next->to_server, GW_DM_STATUS_INVALID_CREDENTIALS), ==, 0);

	/* an answer that goes out carries the NextNonce, and that is the nonce the client keeps */
	busy = run_server_auth(nonce, cmd_get("./DevInfo/DevId"));
	st = header_status(g_ptr_array_index(busy->to_server, 1));
	g_assert_nonnull(st->chal);
	g_assert_nonnull(st->chal->next_nonce);
	g_assert_cmpuint(busy->client_nonces[0]->len, ==, 1);
	raw = g_base64_decode(st->chal->next_nonce, &len);
	g_assert_cmpmem(raw,
	                len,
	                g_bytes_get_data(g_ptr_array_index(busy->client_nonces[0], 0), NULL),
	                g_bytes_get_size(g_ptr_array_index(busy->client_nonces[0], 0)));
	g_free(raw);
	g_assert_cmpuint(busy->server_nonces[1]->len, ==, 1);
	g_assert_true(g_bytes_equal(g_ptr_array_index(busy->server_nonces[1], 0),
	                            g_ptr_array_index(busy->client_nonces[0], 0)));
}

static void
on_peer_authenticated(GwDmSession *session, gpointer user_data)
{
	guint *calls = user_data;
	(*calls)++;
	g_assert_true(gw_dm_session_get_peer_authenticated(session));
	/* queued while the client's first accepted message is being handled */
	gw_dm_session_queue_command(session, cmd_get("./Vendor/Name"));
}

/* "peer-authenticated" is emitted once, when the credentials are first accepted (here after a
 * 401 and the client's retry), early enough for what a handler queues to go out in the reply to
 * that very message */
static void
test_auth_peer_authenticated_signal(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	GwSyncmlMessage *reply;
	guint calls = 0;

	client_config_init(&ccfg);
	ccfg.local.type = GW_DM_AUTH_TYPE_MD5;
	ccfg.local.nonce = g_bytes_new_static("stale", 5);
	server_config_init(&scfg);
	scfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	scfg.peer.nonce = g_bytes_new_static("fresh", 5);
	fixture_sessions(f, &ccfg, &scfg);
	g_signal_connect(
	    f->server, "peer-authenticated", G_CALLBACK(on_peer_authenticated), &calls);

	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(calls, ==, 1);
	/* 401 first, no command; then 212 and the Get in the same message */
	reply = g_ptr_array_index(f->to_client, 0);
	g_assert_cmpuint(header_status(reply)->status_code, ==, GW_DM_STATUS_INVALID_CREDENTIALS);
	g_assert_cmpuint(count_commands(f->to_client, GW_SYNCML_CMD_GET, 0), ==, 1);
	reply = g_ptr_array_index(f->to_client, 1);
	g_assert_cmpuint(header_status(reply)->status_code, ==, GW_DM_STATUS_AUTH_ACCEPTED);
	{
		g_autoptr(GPtrArray) one = g_ptr_array_new();
		g_ptr_array_add(one, reply);
		g_assert_cmpuint(count_commands(one, GW_SYNCML_CMD_GET, 0), ==, 1);
	}
	g_assert_cmpuint(count_commands(f->to_server, GW_SYNCML_CMD_RESULTS, 0), ==, 1);
	g_assert_cmpstr(result_data(f, 1, 0), ==, "alpha");
}

/* the server presents a wrong SRVCRED: the client answers 401 and executes nothing */
static void
test_auth_bad_server(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *name = NULL;
	GwSyncmlMessage *answer;
	GwDmSessionStats stats;
	guint ref;

	client_config_init(&ccfg);
	ccfg.peer.type = GW_DM_AUTH_TYPE_MD5;
	ccfg.peer.name = g_strdup(SERVER_USER);
	ccfg.peer.secret = g_strdup(SERVER_PWD);
	server_config_init(&scfg);
	scfg.local.type = GW_DM_AUTH_TYPE_MD5;
	scfg.local.name = g_strdup(SERVER_USER);
	scfg.local.secret = g_strdup("not-the-srvpwd");
	fixture_sessions(f, &ccfg, &scfg);
	ref = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "evil"));
	gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Name"));

	fixture_run(f);
	answer = g_ptr_array_index(f->to_server, 1);
	g_assert_cmpuint(header_status(answer)->status_code, ==, GW_DM_STATUS_INVALID_CREDENTIALS);
	g_assert_nonnull(header_status(answer)->chal);
	g_assert_nonnull(header_status(answer)->chal->next_nonce);
	g_assert_cmpuint(count_commands(f->to_server, GW_SYNCML_CMD_RESULTS, 0), ==, 0);
	g_assert_cmpuint(count_status_code(f->to_server, GW_DM_STATUS_OK), ==, 0);
	g_assert_cmpuint(count_status_code(f->to_server, GW_DM_STATUS_INVALID_CREDENTIALS), >=, 3);
	/* the server retried with each NextNonce, then gave up */
	g_assert_cmpuint(f->server_nonces[1]->len, >=, 2);
	g_assert_error(f->server_error, GW_ERROR, GW_ERROR_AUTH_FAILED);
	g_assert_cmpint(gw_dm_session_get_state(f->server), ==, GW_DM_SESSION_STATE_FAILED);
	g_assert_cmpint(gw_dm_session_get_state(f->client), ==, GW_DM_SESSION_STATE_FAILED);
	g_assert_false(gw_dm_session_get_peer_authenticated(f->client));
	gw_dm_session_get_stats(f->client, &stats);
	g_assert_cmpuint(stats.commands_executed, ==, 0);
	g_assert_cmpuint(result_status(f, ref), ==, 0);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "alpha");
}

/* ---- HMAC (GwMO-SECDI-001) ---- */

static void
hmac_configs(GwDmSessionConfig *ccfg, GwDmSessionConfig *scfg)
{
	client_config_init(ccfg);
	ccfg->local.type = GW_DM_AUTH_TYPE_HMAC;
	ccfg->local.nonce = g_bytes_new_static("cn", 2);
	ccfg->peer.type = GW_DM_AUTH_TYPE_HMAC;
	ccfg->peer.name = g_strdup(SERVER_USER);
	ccfg->peer.secret = g_strdup(SERVER_PWD);
	ccfg->peer.nonce = g_bytes_new_static("sn", 2);
	server_config_init(scfg);
	scfg->peer.type = GW_DM_AUTH_TYPE_HMAC;
	scfg->peer.nonce = g_bytes_new_static("cn", 2);
	scfg->local.type = GW_DM_AUTH_TYPE_HMAC;
	scfg->local.name = g_strdup(SERVER_USER);
	scfg->local.secret = g_strdup(SERVER_PWD);
	scfg->local.nonce = g_bytes_new_static("sn", 2);
}

static void
test_hmac(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *name = NULL;
	guint r_get;

	hmac_configs(&ccfg, &scfg);
	fixture_sessions(f, &ccfg, &scfg);
	gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "hmac"));
	r_get = gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Count"));

	fixture_run(f);
	assert_finished(f);
	/* no Cred in SyncHdr with HMAC: the MAC travels in the transport header */
	for (guint i = 0; i < f->to_server->len; i++)
		g_assert_null(((GwSyncmlMessage *)g_ptr_array_index(f->to_server, i))->hdr.cred);
	for (guint i = 0; i < f->to_client->len; i++)
		g_assert_null(((GwSyncmlMessage *)g_ptr_array_index(f->to_client, i))->hdr.cred);
	g_assert_cmpuint(header_status(g_ptr_array_index(f->to_client, 0))->status_code,
	                 ==,
	                 GW_DM_STATUS_AUTH_ACCEPTED);
	g_assert_cmpuint(header_status(g_ptr_array_index(f->to_server, 1))->status_code,
	                 ==,
	                 GW_DM_STATUS_AUTH_ACCEPTED);
	g_assert_cmpstr(result_data(f, r_get, 0), ==, "42");
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "hmac");
}

static GBytes *
tamper_first_replace(Fixture *f, GBytes *msg, guint index)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(msg, &len);
	g_autofree gchar *copy = g_strndup(data, len);
	gchar *hit = g_strstr_len(copy, (gssize)len, "<Data>hmac</Data>");

	if (f->tampered > 0 || hit == NULL)
		return msg;
	f->tampered++;
	hit[7] = 'X'; /* "hXac": same length, still well-formed */
	g_bytes_unref(msg);
	return g_bytes_new(copy, len);
}

static GBytes *
tamper_pkg1(Fixture *f, GBytes *msg, guint index)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(msg, &len);
	g_autofree gchar *copy = g_strndup(data, len);
	gchar *hit = g_strstr_len(copy, (gssize)len, "gwmo");

	if (index != 0 || hit == NULL)
		return msg;
	f->tampered++;
	hit[0] = 'G';
	g_bytes_unref(msg);
	return g_bytes_new(copy, len);
}

static void
test_hmac_tampered(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *name = NULL;
	GwSyncmlMessage *answer;
	guint32 tampered_msg;
	guint ref;

	/* a tampered server message: the client answers 401 for it and runs nothing from it */
	hmac_configs(&ccfg, &scfg);
	fixture_sessions(f, &ccfg, &scfg);
	f->tamper_server = tamper_first_replace;
	ref = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "hmac"));

	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(f->tampered, ==, 1);
	tampered_msg = ((GwSyncmlMessage *)g_ptr_array_index(f->to_client, 0))->hdr.msg_id;
	answer = g_ptr_array_index(f->to_server, 1);
	g_assert_cmpuint(header_status(answer)->status_code, ==, GW_DM_STATUS_INVALID_CREDENTIALS);
	g_assert_cmpuint(header_status(answer)->msg_ref, ==, tampered_msg);
	g_assert_cmpstr(header_status(answer)->chal->type, ==, "syncml:auth-MAC");
	g_assert_cmpuint(count_status_code(f->to_server, GW_DM_STATUS_INVALID_CREDENTIALS), >=, 2);
	/* the tampered value never reached the tree; the resent command did */
	g_assert_cmpuint(result_status(f, ref), ==, GW_DM_STATUS_OK);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "hmac");
	g_assert_cmpuint(f->client_nonces[0]->len, >=, 1);
	g_assert_cmpuint(f->server_nonces[1]->len, >=, 1);
	g_assert_true(g_bytes_equal(g_ptr_array_index(f->client_nonces[0], 0),
	                            g_ptr_array_index(f->server_nonces[1], 0)));
	g_clear_pointer(&f, fixture_free);

	/* a tampered Package #1: 401 from the server, DevInfo not taken */
	f = fixture_new();
	hmac_configs(&ccfg, &scfg);
	fixture_sessions(f, &ccfg, &scfg);
	f->tamper_client = tamper_pkg1;
	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(f->tampered, ==, 1);
	g_assert_cmpuint(header_status(g_ptr_array_index(f->to_client, 0))->status_code,
	                 ==,
	                 GW_DM_STATUS_INVALID_CREDENTIALS);
	g_assert_cmpstr(
	    g_hash_table_lookup(gw_dm_session_get_peer_devinfo(f->server), "./DevInfo/Man"),
	    ==,
	    "gwmo");
}

/* ---- multi-message packages ---- */

static void
test_multi_message(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	guint refs[30];
	guint r_list;
	guint non_final_server = 0;
	guint non_final_client = 0;
	guint messages_with_gets = 0;

	client_config_init(&ccfg);
	ccfg.max_msg_size = 2000;
	server_config_init(&scfg);
	scfg.max_msg_size = 2000;
	fixture_sessions(f, &ccfg, &scfg);
	for (guint i = 0; i < G_N_ELEMENTS(refs); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *uri = g_strdup_printf("./Vendor/Item%02u", i);
		g_autofree gchar *value =
		    g_strdup_printf("value of item %u, padded to make results large", i);
		g_assert_true(
		    gw_dm_tree_set_leaf_string(f->tree, uri, GW_DM_FORMAT_CHR, value, &error));
		refs[i] = gw_dm_session_queue_command(f->server, cmd_get(uri));
	}
	/* one Get whose Results alone exceed a message: split over several Results */
	r_list = gw_dm_session_queue_command(f->server, cmd_get("./Vendor?list=StructData"));

	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(result_status(f, r_list), ==, GW_DM_STATUS_OK);
	g_assert_cmpuint(get_result(f, r_list)->results->len, >=, G_N_ELEMENTS(refs) + 7);
	g_assert_cmpuint(
	    count_commands(f->to_server, GW_SYNCML_CMD_RESULTS, 0), >, G_N_ELEMENTS(refs) + 1);
	for (guint i = 0; i < f->to_client->len; i++) {
		GwSyncmlMessage *m = g_ptr_array_index(f->to_client, i);
		gboolean gets = FALSE;
		g_assert_cmpuint(
		    GPOINTER_TO_SIZE(g_ptr_array_index(f->sizes_to_client, i)), <=, 2000);
		for (guint j = 0; j < m->commands->len; j++)
			gets |= ((GwSyncmlCommand *)g_ptr_array_index(m->commands, j))->type ==
			        GW_SYNCML_CMD_GET;
		messages_with_gets += gets;
		if (!m->final)
			non_final_server++;
	}
	for (guint i = 0; i < f->to_server->len; i++) {
		GwSyncmlMessage *m = g_ptr_array_index(f->to_server, i);
		if (i > 0)
			g_assert_cmpuint(
			    GPOINTER_TO_SIZE(g_ptr_array_index(f->sizes_to_server, i)), <=, 2000);
		if (!m->final)
			non_final_client++;
	}
	g_test_message(
	    "%u messages to the server, %u to the client", f->to_server->len, f->to_client->len);
	/* the Gets span several server messages, the Results several client messages */
	g_assert_cmpuint(messages_with_gets, >=, 2);
	g_assert_cmpuint(non_final_server, >=, 2);
	g_assert_cmpuint(non_final_client, >=, 2);
	g_assert_cmpuint(
	    count_commands(f->to_server, GW_SYNCML_CMD_ALERT, GW_SYNCML_ALERT_NEXT_MESSAGE), >=, 1);
	g_assert_cmpuint(
	    count_commands(f->to_client, GW_SYNCML_CMD_ALERT, GW_SYNCML_ALERT_NEXT_MESSAGE), >=, 1);
	for (guint i = 0; i < G_N_ELEMENTS(refs); i++) {
		g_autofree gchar *value =
		    g_strdup_printf("value of item %u, padded to make results large", i);
		g_assert_cmpuint(result_status(f, refs[i]), ==, GW_DM_STATUS_OK);
		g_assert_cmpstr(result_data(f, refs[i], 0), ==, value);
	}
}

/* ---- large objects ---- */

static gchar *
big_value(gsize size, guint seed)
{
	GString *str = g_string_new(NULL);
	for (guint i = 0; str->len < size; i++)
		g_string_append_printf(str, "[%u&%u<%u>é]", seed, i, i * 13);
	g_string_truncate(str, size);
	/* do not cut a UTF-8 sequence */
	while (!g_utf8_validate(str->str, (gssize)str->len, NULL))
		g_string_truncate(str, str->len - 1);
	while (str->len < size)
		g_string_append_c(str, 'z');
	return g_string_free(str, FALSE);
}

static void
test_large_object_replace(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *value = big_value(BIG_SIZE, 1);
	g_autofree gchar *got = NULL;
	g_autofree gchar *amps = NULL;
	g_autofree gchar *got_amps = NULL;
	GwDmNode *node;
	guint r_amps;
	guint ref;

	client_config_init(&ccfg);
	ccfg.max_msg_size = 2000;
	server_config_init(&scfg);
	fixture_sessions(f, &ccfg, &scfg);
	ref = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", value));
	/* a value made only of a character XML escapes: chunks shrink to fit */
	amps = g_strnfill(5000, '&');
	r_amps = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/ToDelete", "chr", amps));

	fixture_run(f);
	assert_finished(f);
	for (guint i = 0; i < f->to_client->len; i++)
		g_assert_cmpuint(
		    GPOINTER_TO_SIZE(g_ptr_array_index(f->sizes_to_client, i)), <=, 2000);
	g_assert_cmpuint(result_status(f, r_amps), ==, GW_DM_STATUS_OK);
	got_amps = tree_string(f, "./Vendor/ToDelete");
	g_assert_cmpstr(got_amps, ==, amps);
	g_assert_cmpuint(count_more_data(f->to_client), >=, 4);
	g_assert_cmpuint(count_status_code(f->to_server, GW_DM_STATUS_CHUNK_ACCEPTED),
	                 ==,
	                 count_more_data(f->to_client));
	g_assert_cmpuint(result_status(f, ref), ==, GW_DM_STATUS_OK);
	node = gw_dm_tree_lookup(f->tree, "./Vendor/Name");
	got = g_strndup(g_bytes_get_data(gw_dm_node_get_value(node), NULL),
	                g_bytes_get_size(gw_dm_node_get_value(node)));
	g_assert_cmpuint(strlen(got), ==, strlen(value));
	g_assert_cmpstr(got, ==, value);
}

static void
test_large_object_get(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bin = NULL;
	g_autofree guchar *decoded = NULL;
	g_autofree gchar *expected = NULL;
	guint8 raw[6000];
	GwSyncmlItem *item;
	gsize len = 0;
	guint r_big, r_bin;

	for (guint i = 0; i < sizeof(raw); i++)
		raw[i] = (guint8)(i * 31 + 7);
	bin = g_bytes_new(raw, sizeof(raw));
	client_config_init(&ccfg);
	server_config_init(&scfg);
	scfg.max_msg_size = 2000;
	fixture_sessions(f, &ccfg, &scfg);
	g_assert_true(
	    gw_dm_tree_set_leaf(f->tree, "./Vendor/BigBin", GW_DM_FORMAT_BIN, NULL, bin, &error));
	r_big = gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Big"));
	r_bin = gw_dm_session_queue_command(f->server, cmd_get("./Vendor/BigBin"));

	fixture_run(f);
	assert_finished(f);
	for (guint i = 1; i < f->to_server->len; i++)
		g_assert_cmpuint(
		    GPOINTER_TO_SIZE(g_ptr_array_index(f->sizes_to_server, i)), <=, 2000);
	g_assert_cmpuint(count_more_data(f->to_server), >=, 8);
	g_assert_cmpuint(count_status_code(f->to_client, GW_DM_STATUS_CHUNK_ACCEPTED),
	                 ==,
	                 count_more_data(f->to_server));
	g_assert_cmpuint(result_status(f, r_big), ==, GW_DM_STATUS_OK);
	expected = tree_string(f, "./Vendor/Big");
	g_assert_cmpuint(strlen(expected), ==, BIG_SIZE);
	g_assert_cmpuint(get_result(f, r_big)->results->len, ==, 1);
	g_assert_cmpstr(result_data(f, r_big, 0), ==, expected);
	item = g_ptr_array_index(get_result(f, r_bin)->results, 0);
	g_assert_cmpstr(item->meta.format, ==, "b64");
	g_assert_false(item->more_data);
	decoded = g_base64_decode(item->data, &len);
	g_assert_cmpmem(decoded, len, raw, sizeof(raw));
}

static GBytes *
tamper_size(Fixture *f, GBytes *msg, guint index)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(msg, &len);
	g_autofree gchar *copy = g_strndup(data, len);
	g_autofree gchar *needle =
	    g_strdup_printf("<Size xmlns=\"syncml:metinf\">%u</Size>", BIG_SIZE);
	gchar *hit = g_strstr_len(copy, (gssize)len, needle);

	if (hit == NULL)
		return msg;
	f->tampered++;
	hit[strlen("<Size xmlns=\"syncml:metinf\">") + 3] = '1'; /* 8000 → 8001 */
	g_bytes_unref(msg);
	return g_bytes_new(copy, len);
}

static void
test_large_object_size_mismatch(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *value = big_value(BIG_SIZE, 2);
	g_autofree gchar *name = NULL;
	guint ref;

	client_config_init(&ccfg);
	ccfg.max_msg_size = 2000;
	server_config_init(&scfg);
	fixture_sessions(f, &ccfg, &scfg);
	f->tamper_server = tamper_size;
	ref = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", value));

	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(f->tampered, ==, 1);
	g_assert_cmpuint(result_status(f, ref), ==, GW_DM_STATUS_SIZE_MISMATCH);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "alpha");
}

/* an object over the client's MaxObjSize: 413, the remaining chunks are not sent */
static void
test_large_object_too_big(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *value = big_value(BIG_SIZE, 3);
	g_autofree gchar *name = NULL;
	guint ref;

	client_config_init(&ccfg);
	ccfg.max_msg_size = 2000;
	ccfg.max_obj_size = 4000;
	server_config_init(&scfg);
	fixture_sessions(f, &ccfg, &scfg);
	ref = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", value));

	fixture_run(f);
	assert_finished(f);
	/* the sender respects the MaxObjSize the client announced */
	g_assert_cmpint(
	    ((GwSyncmlMessage *)g_ptr_array_index(f->to_server, 0))->hdr.meta.max_obj_size,
	    ==,
	    4000);
	g_assert_cmpuint(count_more_data(f->to_client), ==, 0);
	g_assert_cmpuint(result_status(f, ref), ==, GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "alpha");
}

/* the receiver side of 413: a first chunk announcing more than MaxObjSize, by hand */
static void
test_large_object_too_big_received(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) crafted = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *xml = NULL;
	g_autofree gchar *name = NULL;
	GwSyncmlCommand *status;

	client_config_init(&ccfg);
	ccfg.max_obj_size = 4000;
	server_config_init(&scfg);
	fixture_sessions(f, &ccfg, &scfg);
	pkg1 = gw_dm_session_start(f->client, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, &error);
	g_assert_no_error(error);
	xml = g_strdup_printf(
	    "<SyncML "
	    "xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
	    "<SessionID>%s</SessionID><MsgID>1</MsgID><Target><LocURI>%s</LocURI></Target>"
	    "<Source><LocURI>%s</LocURI></Source></SyncHdr><SyncBody>"
	    "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</"
	    "Cmd><Data>212</Data></Status>"
	    "<Replace><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/Name</LocURI></Target>"
	    "<Meta><Size xmlns=\"syncml:metinf\">9000</Size></Meta><Data>first "
	    "chunk</Data><MoreData/></Item></Replace>"
	    "</SyncBody></SyncML>",
	    gw_dm_session_get_session_id(f->client),
	    DEV_ID,
	    SERVER_URI);
	crafted = g_bytes_new(xml, strlen(xml));
	reply = gw_dm_session_receive(f->client, crafted, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);
	msg = decode(reply, GW_SYNCML_DM_XML_TYPE);
	/* answered at once in the "Next Message" response */
	g_assert_false(msg->final);
	status = gw_syncml_message_find_status(msg, 1, 2);
	g_assert_nonnull(status);
	g_assert_cmpuint(status->status_code, ==, GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE);
	g_assert_cmpuint(
	    ((GwSyncmlCommand *)g_ptr_array_index(msg->commands, msg->commands->len - 1))
	        ->alert_code,
	    ==,
	    GW_SYNCML_ALERT_NEXT_MESSAGE);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "alpha");
}

/* ---- WBXML ---- */

static void
test_wbxml(void)
{
	g_autoptr(Fixture) f = fixture_new();
	GwDmSessionConfig ccfg;
	GwDmSessionConfig scfg;
	g_autofree gchar *name = NULL;
	guint r_get;
	guint r_replace;

	client_config_init(&ccfg);
	ccfg.encoding = GW_DM_ENCODING_WBXML;
	server_config_init(&scfg);
	fixture_sessions(f, &ccfg, &scfg);
	r_get = gw_dm_session_queue_command(f->server, cmd_get("./Vendor/Name"));
	r_replace = gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "wbxml <&>"));

	fixture_run(f);
	assert_finished(f);
	for (guint i = 0; i < f->content_types->len; i++)
		g_assert_cmpstr(
		    g_ptr_array_index(f->content_types, i), ==, GW_SYNCML_DM_WBXML_TYPE);
	g_assert_cmpstr(gw_dm_session_get_content_type(f->server), ==, GW_SYNCML_DM_WBXML_TYPE);
	g_assert_cmpuint(result_status(f, r_get), ==, GW_DM_STATUS_OK);
	g_assert_cmpstr(result_data(f, r_get, 0), ==, "alpha");
	g_assert_cmpuint(result_status(f, r_replace), ==, GW_DM_STATUS_OK);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "wbxml <&>");
}

/* ---- Generic Alert ---- */

static void
test_generic_alert(void)
{
	g_autoptr(Fixture) f = fixture_new();

	fixture_default_sessions(f);
	gw_dm_session_queue_generic_alert(
	    f->client,
	    7,
	    gw_syncml_alert_new_generic(NULL,
	                                "./Vendor",
	                                NULL,
	                                "urn:oma:at:gwmo:1.0:DeviceRegistration",
	                                "chr",
	                                "warning",
	                                "dev-a"));
	gw_dm_session_queue_generic_alert(
	    f->client,
	    8,
	    gw_syncml_alert_new_generic(
	        "c-8", "./Vendor/Name", NULL, "urn:oma:at:gwmo:1.0:Other", "chr", NULL, "dev-b"));

	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(
	    count_commands(f->to_server, GW_SYNCML_CMD_ALERT, GW_SYNCML_ALERT_GENERIC), ==, 2);
	g_assert_cmpuint(f->generic_alerts->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(f->generic_alerts, 0),
	                ==,
	                "urn:oma:at:gwmo:1.0:DeviceRegistration|dev-a");
	g_assert_cmpstr(
	    g_ptr_array_index(f->generic_alerts, 1), ==, "urn:oma:at:gwmo:1.0:Other|dev-b");
	g_assert_cmpuint(f->delivered->len, ==, 2);
	g_assert_cmpuint(g_array_index(f->delivered, guint, 0), ==, 7);
	g_assert_cmpuint(g_array_index(f->delivered, guint, 1), ==, 8);
}

static void
on_generic_alert_refuse(GwDmSession *session, gpointer alert, gpointer user_data)
{
	gw_dm_session_set_alert_status(session, GW_DM_STATUS_COMMAND_FAILED);
}

static void
test_generic_alert_refused(void)
{
	g_autoptr(Fixture) f = fixture_new();

	fixture_default_sessions(f);
	g_signal_connect(f->server, "generic-alert", G_CALLBACK(on_generic_alert_refuse), NULL);
	gw_dm_session_queue_generic_alert(
	    f->client,
	    9,
	    gw_syncml_alert_new_generic(NULL, "./Vendor", NULL, "urn:x", "chr", NULL, "d"));
	fixture_run(f);
	assert_finished(f);
	g_assert_cmpuint(count_status_code(f->to_client, GW_DM_STATUS_COMMAND_FAILED), ==, 1);
	g_assert_cmpuint(f->delivered->len, ==, 0);
}

/* (added) flow Y of GwMO: the client executes the server's package but holds its reply; a
 * Generic Alert queued meanwhile goes out with it when released */
static void
test_held_reply(void)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) pkg2 = NULL;
	g_autoptr(GBytes) pkg3 = NULL;
	g_autoptr(GBytes) pkg4 = NULL;
	g_autoptr(GBytes) none = NULL;
	g_autoptr(GBytes) end = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *value = NULL;

	fixture_default_sessions(f);
	/* nothing held yet */
	none = gw_dm_session_release_reply(f->client, &error);
	g_assert_null(none);
	g_assert_error(error, GW_ERROR, GW_ERROR_WRONG_STATE);
	g_clear_error(&error);

	gw_dm_session_queue_command(f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "held"));
	pkg1 = gw_dm_session_start(f->client, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, &error);
	g_assert_no_error(error);
	pkg2 = gw_dm_session_receive(f->server, pkg1, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);
	gw_dm_session_hold_reply(f->client);
	none = gw_dm_session_receive(f->client, pkg2, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);
	g_assert_null(none);
	/* executed, not answered */
	g_assert_cmpint(gw_dm_session_get_state(f->client), ==, GW_DM_SESSION_STATE_ACTIVE);
	g_assert_true(gw_dm_session_is_reply_held(f->client));
	value = gw_dm_tree_dup_string(f->tree, "./Vendor/Name");
	g_assert_cmpstr(value, ==, "held");

	gw_dm_session_queue_generic_alert(
	    f->client, 21, gw_syncml_alert_new_generic("c-21", "./GwMO/Fanout/1", NULL, "urn:oma:at:gwmo:1.0:FanoutComplete", "xml", NULL, "<r/>"));
	pkg3 = gw_dm_session_release_reply(f->client, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pkg3);
	g_assert_false(gw_dm_session_is_reply_held(f->client));
	pkg4 = gw_dm_session_receive(f->server, pkg3, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pkg4);
	g_assert_cmpuint(f->generic_alerts->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(f->generic_alerts, 0), ==, "urn:oma:at:gwmo:1.0:FanoutComplete|<r/>");
	end = gw_dm_session_receive(f->client, pkg4, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);
	g_assert_null(end);
	g_assert_cmpint(gw_dm_session_get_state(f->client), ==, GW_DM_SESSION_STATE_FINISHED);
	g_assert_cmpuint(f->delivered->len, ==, 1);
	g_assert_cmpuint(g_array_index(f->delivered, guint, 0), ==, 21);
	/* the held reply answered the Replace: the server has its 200 */
	{
		GPtrArray *results = gw_dm_session_get_results(f->server);
		GwDmSessionResult *r = g_ptr_array_index(results, 0);
		g_assert_cmpuint(r->status, ==, 200);
	}
}

/* ---- malformed input ---- */

static void
test_malformed(void)
{
	g_autoptr(Fixture) f = fixture_new();
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) pkg2 = NULL;
	g_autoptr(GBytes) cut = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = NULL;
	GwDmSessionStats stats;
	gsize len = 0;
	const gchar *data;

	fixture_default_sessions(f);
	gw_dm_session_queue_command(
	    f->server, cmd_item(GW_SYNCML_CMD_REPLACE, "./Vendor/Name", "chr", "should-not-apply"));
	pkg1 = gw_dm_session_start(f->client, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, &error);
	g_assert_no_error(error);
	pkg2 = gw_dm_session_receive(f->server, pkg1, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pkg2);
	/* the real Package #2 with its Replace, cut in the middle */
	data = g_bytes_get_data(pkg2, &len);
	g_assert_nonnull(g_strstr_len(data, (gssize)len, "should-not-apply"));
	cut = g_bytes_new(data, len - 40);
	reply = gw_dm_session_receive(f->client, cut, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_null(reply);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_cmpint(gw_dm_session_get_state(f->client), ==, GW_DM_SESSION_STATE_FAILED);
	g_assert_error((GError *)gw_dm_session_get_error(f->client), GW_ERROR, GW_ERROR_PROTOCOL);
	gw_dm_session_get_stats(f->client, &stats);
	g_assert_cmpuint(stats.commands_executed, ==, 0);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "alpha");
	/* nothing more is accepted */
	g_clear_error(&error);
	reply = gw_dm_session_receive(f->client, pkg2, GW_SYNCML_DM_XML_TYPE, NULL, &error);
	g_assert_null(reply);
	g_assert_error(error, GW_ERROR, GW_ERROR_WRONG_STATE);
	g_clear_pointer(&name, g_free);
	name = tree_string(f, "./Vendor/Name");
	g_assert_cmpstr(name, ==, "alpha");

	/* garbage into a server session, and WBXML garbage */
	g_clear_error(&error);
	{
		g_autoptr(GwDmSession) server = NULL;
		g_autoptr(GBytes) junk = g_bytes_new_static("\x03\x01\x6a\x00\xff\xff", 6);
		GwDmSessionConfig scfg;
		server_config_init(&scfg);
		server = gw_dm_session_new(&scfg, NULL);
		gw_dm_session_config_clear(&scfg);
		g_assert_null(
		    gw_dm_session_receive(server, junk, GW_SYNCML_DM_WBXML_TYPE, NULL, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_cmpint(gw_dm_session_get_state(server), ==, GW_DM_SESSION_STATE_FAILED);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/session/commands", test_commands);
	g_test_add_func("/gw/session/atomic-rollback", test_atomic_rollback);
	g_test_add_func("/gw/session/status-codes", test_status_codes);
	g_test_add_func("/gw/session/unknown-command", test_unknown_command);
	g_test_add_func("/gw/session/auth/basic", test_auth_basic);
	g_test_add_func("/gw/session/auth/md5", test_auth_md5);
	g_test_add_func("/gw/session/auth/wrong-password", test_auth_wrong_password);
	g_test_add_func("/gw/session/auth/missing", test_auth_missing);
	g_test_add_func("/gw/session/auth/nonce-update", test_auth_nonce_update);
	g_test_add_func("/gw/session/auth/nonce-unsent", test_auth_nonce_unsent);
	g_test_add_func("/gw/session/auth/peer-authenticated", test_auth_peer_authenticated_signal);
	g_test_add_func("/gw/session/auth/bad-server-cred", test_auth_bad_server);
	g_test_add_func("/gw/session/hmac", test_hmac);
	g_test_add_func("/gw/session/hmac-tampered", test_hmac_tampered);
	g_test_add_func("/gw/session/multi-message", test_multi_message);
	g_test_add_func("/gw/session/large-object/replace", test_large_object_replace);
	g_test_add_func("/gw/session/large-object/get", test_large_object_get);
	g_test_add_func("/gw/session/large-object/size-mismatch", test_large_object_size_mismatch);
	g_test_add_func("/gw/session/large-object/too-big", test_large_object_too_big);
	g_test_add_func("/gw/session/large-object/too-big-received",
	                test_large_object_too_big_received);
	g_test_add_func("/gw/session/wbxml", test_wbxml);
	g_test_add_func("/gw/session/generic-alert", test_generic_alert);
	g_test_add_func("/gw/session/generic-alert-refused", test_generic_alert_refused);
	g_test_add_func("/gw/session/malformed", test_malformed);
	g_test_add_func("/gw/session/held-reply", test_held_reply);
	return g_test_run();
}
