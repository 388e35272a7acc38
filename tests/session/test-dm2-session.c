/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The DM 2.0 client session state machine (gw-dm2-session.h) with canned packages: Package #1
 * content, each command of a Package #2 on a real GwDmTree (ACLs enforced), the transfers
 * HGET/HPUT ask the link for, Package #3 in command order, END, malformed and oversized input.
 */

#include "config.h"

#include <string.h>

#include "gw-dm2-session.h"
#include "gw-error.h"

#define APP_MOID "urn:oma:mo:test-app:1.0"
#define SRV "srv1"

typedef struct {
	GwDmTree *tree;
	guint exec_calls;
	gchar *exec_server_id;
	gchar *exec_correlator;
} Fixture;

static guint
exec_run(GwDmTree *tree,
         const gchar *server_id,
         const gchar *uri,
         GBytes *data,
         const gchar *correlator,
         gpointer user_data)
{
	Fixture *fx = user_data;

	fx->exec_calls++;
	g_free(fx->exec_server_id);
	fx->exec_server_id = g_strdup(server_id);
	g_free(fx->exec_correlator);
	fx->exec_correlator = g_strdup(correlator);
	return 200;
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	GwDmDeviceInfo info = {.dev_id = "IMEI:493005100592800",
	                       .man = "gwmo",
	                       .mod = "test",
	                       .dmv = "2.0",
	                       .lang = "en",
	                       .dev_typ = "gateway",
	                       .oem = "gwmo",
	                       .fwv = "1",
	                       .swv = "1",
	                       .hwv = "1"};
	GwDmTree *tree = gw_dm_tree_new();

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &info, NULL));
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./Vendor/App", NULL));
	g_assert_true(gw_dm_tree_set_mime_type(tree, "./Vendor/App", APP_MOID, NULL));
	g_assert_true(gw_dm_tree_set_properties(tree,
	                                        "./Vendor/App",
	                                        GW_DM_ACCESS_NONE,
	                                        "Get=" SRV "&Add=" SRV "&Replace=" SRV
	                                        "&Delete=" SRV "&Exec=" SRV,
	                                        NULL,
	                                        NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./Vendor/App/Name", GW_DM_FORMAT_CHR, "gateway-app", NULL));
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./Vendor/App/Conf", GW_DM_FORMAT_CHR, "old", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./Vendor/App/Old", GW_DM_FORMAT_CHR, "to-delete", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./Vendor/App/Secret", GW_DM_FORMAT_CHR, "s3cret", NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./Vendor/App/Secret", GW_DM_ACCESS_NONE, "Get=other", NULL, NULL));
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./Vendor/App/Operations/Run", NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./Vendor/App/Operations/Run", GW_DM_ACCESS_ALL, NULL, NULL, NULL));
	g_assert_cmpuint(
	    gw_dm_tree_add_exec_handler(tree, "./Vendor/App/Operations/Run", exec_run, fx, NULL),
	    >,
	    0);
	fx->tree = tree;
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	g_clear_object(&fx->tree);
	g_clear_pointer(&fx->exec_server_id, g_free);
	g_clear_pointer(&fx->exec_correlator, g_free);
}

static GwDm2Session *
new_session(Fixture *fx, guint max_commands, guint max_packages)
{
	GwDm2SessionConfig cfg = {.server_id = (gchar *)SRV,
	                          .dev_id = (gchar *)"IMEI:493005100592800",
	                          .max_commands = max_commands,
	                          .max_packages = max_packages};
	return gw_dm2_session_new(&cfg, fx->tree);
}

static GBytes *
bytes(const gchar *text)
{
	return g_bytes_new(text, strlen(text));
}

static GwDm2Message *
parse(GwDm2Package package, GBytes *b)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(b, &len);
	GwDm2Message *msg = gw_dm2_message_parse(package, data, len, 0, &error);

	g_assert_no_error(error);
	g_assert_nonnull(msg);
	return msg;
}

static guint
status_at(GwDm2Message *msg, guint i)
{
	g_assert_cmpuint(i, <, msg->statuses->len);
	return ((GwDm2Status *)g_ptr_array_index(msg->statuses, i))->sc;
}

static void
on_alert_delivered(GwDm2Session *session, guint id, gpointer user_data)
{
	g_array_append_val((GArray *)user_data, id);
}

static GBytes *
start(GwDm2Session *session)
{
	g_autoptr(GError) error = NULL;
	GBytes *pkg1 = gw_dm2_session_start(session, FALSE, 0, &error);

	g_assert_no_error(error);
	g_assert_nonnull(pkg1);
	return pkg1;
}

/* Package #1: the MOs of the tree, ClientInitiatedMgmt first, then the queued Generic Alerts;
 * the answer to it delivers them */
static void
test_package1(Fixture *fx, gconstpointer data)
{
	g_autoptr(GwDm2Session) session = new_session(fx, 0, 0);
	g_autoptr(GArray) delivered = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GwDm2Message) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pkg2 = bytes("{\"CMD\":[[\"END\"]]}");
	GwDm2Alert *generic = gw_dm2_alert_new("urn:oma:at:gwmo:1.0:DeviceAttached");
	gboolean found_app = FALSE;

	generic->source_uri =
	    g_strdup("urn:oma:mo:oma-gwmo-deviceinventory:1.0/Inventory/Devices/d1");
	gw_dm2_session_queue_alert(session, 7, generic);
	g_signal_connect(session, "alert-delivered", G_CALLBACK(on_alert_delivered), delivered);
	pkg1 = start(session);
	msg = parse(GW_DM2_PACKAGE_INITIATION, pkg1);
	g_assert_cmpuint(msg->alerts->len, ==, 2);
	g_assert_cmpstr(((GwDm2Alert *)g_ptr_array_index(msg->alerts, 0))->alert_type,
	                ==,
	                GW_DM2_ALERT_CLIENT_INITIATED);
	g_assert_cmpstr(((GwDm2Alert *)g_ptr_array_index(msg->alerts, 1))->alert_type,
	                ==,
	                "urn:oma:at:gwmo:1.0:DeviceAttached");
	g_assert_nonnull(msg->mos);
	for (guint i = 0; i < msg->mos->len; i++) {
		GwDm2Mo *mo = g_ptr_array_index(msg->mos, i);
		if (g_strcmp0(mo->moid, APP_MOID) == 0) {
			g_assert_cmpuint(mo->miids->len, ==, 1);
			g_assert_cmpstr(g_ptr_array_index(mo->miids, 0), ==, "App");
			found_app = TRUE;
		}
	}
	g_assert_true(found_app);
	g_assert_cmpuint(delivered->len, ==, 0);
	g_assert_true(gw_dm2_session_receive(
	    session, pkg2, GW_DM2_CONTENT_TYPE_REQUEST "; charset=utf-8", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(delivered->len, ==, 1);
	g_assert_cmpuint(g_array_index(delivered, guint, 0), ==, 7);
	g_assert_null(gw_dm2_session_run(session, &error));
	g_assert_no_error(error);
	g_assert_cmpint(gw_dm2_session_get_state(session), ==, GW_DM2_SESSION_STATE_FINISHED);
}

/* identified alerts: Package #1's X-GwMO-Alert-ID names each by its position in "Alert"; the
 * package takes alerts while the header stays within GW_DM2_ALERT_ID_HEADER_MAX, the rest are
 * refused (they wait for another session) and are neither sent nor delivered */
static void
test_alert_ids(Fixture *fx, gconstpointer data)
{
	g_autoptr(GwDm2Session) session = new_session(fx, 0, 0);
	g_autoptr(GArray) delivered = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GwDm2Message) msg = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pkg2 = bytes("{\"CMD\":[[\"END\"]]}");
	const gchar *header;
	guint taken = 0;

	/* one without identity (sent, not named), then identified ones until the header is full */
	g_assert_true(gw_dm2_session_queue_identified_alert(
	    session, 1, NULL, gw_dm2_alert_new("urn:gwmo:test:Plain")));
	for (guint id = 2; id < 1000; id++) {
		g_autofree gchar *identity =
		    g_strdup_printf("gwmo-alert:0123456789abcdef0123456789abcdef-%u", id);
		if (!gw_dm2_session_queue_identified_alert(
		        session, id, identity, gw_dm2_alert_new("urn:gwmo:test:Named")))
			break;
		taken++;
	}
	g_assert_cmpuint(taken, >, 10);
	g_assert_cmpuint(taken, <, 998);
	g_signal_connect(session, "alert-delivered", G_CALLBACK(on_alert_delivered), delivered);
	pkg1 = start(session);
	header = gw_dm2_session_get_alert_id_header(session);
	g_assert_nonnull(header);
	g_assert_cmpuint(strlen(header), <=, GW_DM2_ALERT_ID_HEADER_MAX);
	msg = parse(GW_DM2_PACKAGE_INITIATION, pkg1);
	/* the session alert, the plain one, the identified ones that fitted */
	g_assert_cmpuint(msg->alerts->len, ==, 2 + taken);
	ids = gw_dm2_alert_ids_parse(header, msg->alerts->len, &error);
	g_assert_no_error(error);
	g_assert_null(g_ptr_array_index(ids, 0));
	g_assert_null(g_ptr_array_index(ids, 1));
	for (guint i = 2; i < msg->alerts->len; i++) {
		g_autofree gchar *want =
		    g_strdup_printf("gwmo-alert:0123456789abcdef0123456789abcdef-%u", i);
		g_assert_cmpstr(g_ptr_array_index(ids, i), ==, want);
	}
	g_assert_true(gw_dm2_session_receive(session, pkg2, GW_DM2_CONTENT_TYPE_REQUEST, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(delivered->len, ==, 1 + taken);
	g_assert_cmpuint(g_array_index(delivered, guint, delivered->len - 1), ==, 1 + taken);
}

static void
test_server_initiated(Fixture *fx, gconstpointer data)
{
	g_autoptr(GwDm2Session) session = new_session(fx, 0, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pkg1 = gw_dm2_session_start(session, TRUE, 4660, &error);
	g_autoptr(GwDm2Message) msg = NULL;
	guint16 nid = 0;

	g_assert_no_error(error);
	msg = parse(GW_DM2_PACKAGE_INITIATION, pkg1);
	g_assert_cmpstr(
	    gw_dm2_message_get_session_alert(msg)->alert_type, ==, GW_DM2_ALERT_SERVER_INITIATED);
	g_assert_true(
	    gw_dm2_alert_get_notification_id(gw_dm2_message_get_session_alert(msg), &nid));
	g_assert_cmpuint(nid, ==, 4660);
}

/* seed 003 B.1 steps 5–9: every command on the tree, statuses in command order, then END */
static void
test_commands(Fixture *fx, gconstpointer data)
{
	g_autoptr(GwDm2Session) session = new_session(fx, 0, 0);
	g_autoptr(GBytes) pkg1 = start(session);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pkg2 =
	    bytes("{\"CMD\":["
	          "[\"HGET\",\"https://dm.example/conf\",\"" APP_MOID "/App/Conf\"],"
	          "[\"HGET\",\"https://dm.example/new\",\"" APP_MOID "/App/New\"],"
	          "[\"HPUT\",\"https://dm.example/name\",\"" APP_MOID "/App/Name\"],"
	          "[\"GET\",\"" APP_MOID "/App/Name\"],"
	          "[\"DELETE\",\"" APP_MOID "/App/Old\"],"
	          "[\"EXEC\",\"" APP_MOID "/App/Operations/Run\"],"
	          "[\"EXEC\",\"" APP_MOID "/App/Operations/Run\",\"https://dm.example/alerts\"],"
	          "[\"GET\",\"" APP_MOID "/App/Secret\"],"
	          "[\"GET\",\"" APP_MOID "/App/Missing\"],"
	          "[\"SHOW\",\"https://dm.example/ui\"],"
	          "[\"SUB\",\"" APP_MOID "/App\",\"https://dm.example/changes\"]"
	          "]}");
	g_autoptr(GBytes) end =
	    bytes("{\"CMD\":[[\"END\"],[\"DELETE\",\"" APP_MOID "/App/Name\"]]}");
	g_autoptr(GBytes) pkg3 = NULL;
	g_autoptr(GwDm2Message) msg = NULL;
	g_autoptr(GBytes) hget_body = bytes("new-conf");
	g_autoptr(GBytes) hget_body2 = bytes("fresh");
	g_autofree gchar *value = NULL;
	const GwDm2Transfer *t;
	GwDm2Status *st;
	GwDm2Alert *alert;
	g_autofree gchar *data_json = NULL;
	gsize len = 0;
	const gchar *put_body;

	g_assert_true(gw_dm2_session_receive(session, pkg2, GW_DM2_CONTENT_TYPE_REQUEST, &error));
	g_assert_no_error(error);
	/* HGET of an existing leaf */
	g_assert_null(gw_dm2_session_run(session, &error));
	g_assert_no_error(error);
	t = gw_dm2_session_get_transfer(session);
	g_assert_nonnull(t);
	g_assert_cmpint(t->method, ==, GW_DM2_TRANSFER_GET);
	g_assert_cmpstr(t->url, ==, "https://dm.example/conf");
	g_assert_null(t->body);
	/* nothing ran before the transfer is done */
	value = gw_dm_tree_dup_string(fx->tree, "./Vendor/App/Conf");
	g_assert_cmpstr(value, ==, "old");
	g_clear_pointer(&value, g_free);
	gw_dm2_session_complete_transfer(session, 200, hget_body);
	g_assert_null(gw_dm2_session_get_transfer(session));
	/* HGET of a new leaf */
	g_assert_null(gw_dm2_session_run(session, &error));
	g_assert_no_error(error);
	t = gw_dm2_session_get_transfer(session);
	g_assert_nonnull(t);
	g_assert_cmpstr(t->url, ==, "https://dm.example/new");
	gw_dm2_session_complete_transfer(session, 200, hget_body2);
	/* HPUT of a leaf */
	g_assert_null(gw_dm2_session_run(session, &error));
	g_assert_no_error(error);
	t = gw_dm2_session_get_transfer(session);
	g_assert_nonnull(t);
	g_assert_cmpint(t->method, ==, GW_DM2_TRANSFER_PUT);
	g_assert_cmpstr(t->url, ==, "https://dm.example/name");
	g_assert_cmpstr(t->content_type, ==, GW_DM2_CONTENT_TYPE_MO_DATA);
	put_body = g_bytes_get_data(t->body, &len);
	data_json = g_strndup(put_body, len);
	g_assert_nonnull(strstr(data_json, "\"gateway-app\""));
	g_assert_nonnull(strstr(data_json, APP_MOID "/App/Name"));
	gw_dm2_session_complete_transfer(session, 204, NULL);
	/* the rest runs without transfers */
	pkg3 = gw_dm2_session_run(session, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pkg3);
	msg = parse(GW_DM2_PACKAGE_RESPONSE, pkg3);
	g_assert_cmpuint(msg->statuses->len, ==, 11);
	g_assert_cmpuint(status_at(msg, 0), ==, 200); /* HGET */
	st = g_ptr_array_index(msg->statuses, 0);
	g_assert_nonnull(st->uris);
	g_assert_cmpstr(g_ptr_array_index(st->uris, 0), ==, APP_MOID "/App/Conf");
	g_assert_cmpuint(status_at(msg, 1), ==, 200); /* HGET, new leaf */
	g_assert_cmpuint(status_at(msg, 2), ==, 200); /* HPUT: the server's 204 */
	g_assert_cmpuint(status_at(msg, 3), ==, 200); /* GET */
	st = g_ptr_array_index(msg->statuses, 3);
	g_assert_nonnull(st->data);
	g_clear_pointer(&data_json, g_free);
	data_json = json_to_string(st->data, FALSE);
	g_assert_cmpstr(data_json,
	                ==,
	                "[{\"MOData\":{\"Name\":\"gateway-app\"},\"ClientURI\":\"" APP_MOID
	                "/App/Name\"}]");
	g_assert_cmpuint(status_at(msg, 4), ==, 200);  /* DELETE */
	g_assert_cmpuint(status_at(msg, 5), ==, 200);  /* EXEC */
	g_assert_cmpuint(status_at(msg, 6), ==, 202);  /* EXEC, asynchronous */
	g_assert_cmpuint(status_at(msg, 7), ==, 425);  /* GET, ACL */
	g_assert_cmpuint(status_at(msg, 8), ==, 404);  /* GET, no node */
	g_assert_cmpuint(status_at(msg, 9), ==, 501);  /* SHOW */
	g_assert_cmpuint(status_at(msg, 10), ==, 501); /* SUB */
	g_assert_nonnull(msg->alerts);
	g_assert_cmpuint(msg->alerts->len, ==, 1);
	alert = g_ptr_array_index(msg->alerts, 0);
	g_assert_cmpstr(alert->alert_type, ==, GW_DM2_ALERT_EXEC_RESULT);
	g_assert_cmpstr(alert->source_uri, ==, APP_MOID "/App/Operations/Run");
	g_assert_cmpstr(alert->target_uri, ==, "https://dm.example/alerts");
	/* the tree as the commands left it */
	value = gw_dm_tree_dup_string(fx->tree, "./Vendor/App/Conf");
	g_assert_cmpstr(value, ==, "new-conf");
	g_clear_pointer(&value, g_free);
	value = gw_dm_tree_dup_string(fx->tree, "./Vendor/App/New");
	g_assert_cmpstr(value, ==, "fresh");
	g_assert_null(gw_dm_tree_lookup(fx->tree, "./Vendor/App/Old"));
	g_assert_cmpuint(fx->exec_calls, ==, 2);
	g_assert_cmpstr(fx->exec_server_id, ==, SRV);
	/* END: no Package #3, nothing after it runs */
	g_assert_true(gw_dm2_session_receive(session, end, NULL, &error));
	g_assert_no_error(error);
	g_assert_null(gw_dm2_session_run(session, &error));
	g_assert_no_error(error);
	g_assert_cmpint(gw_dm2_session_get_state(session), ==, GW_DM2_SESSION_STATE_FINISHED);
	g_assert_nonnull(gw_dm_tree_lookup(fx->tree, "./Vendor/App/Name"));
}

/* a failed transfer is the command's status; the tree is untouched */
static void
test_transfer_failure(Fixture *fx, gconstpointer data)
{
	g_autoptr(GwDm2Session) session = new_session(fx, 0, 0);
	g_autoptr(GBytes) pkg1 = start(session);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pkg2 =
	    bytes("{\"CMD\":[[\"HGET\",\"https://dm.example/a\",\"" APP_MOID "/App/Conf\"],"
	          "[\"HGET\",\"https://dm.example/b\",\"" APP_MOID "/App/Conf\"],"
	          "[\"HGET\",\"https://dm.example/c\",\"" APP_MOID "/App/Secret\"]]}");
	g_autoptr(GBytes) body = bytes("x");
	g_autoptr(GBytes) pkg3 = NULL;
	g_autoptr(GwDm2Message) msg = NULL;
	g_autofree gchar *value = NULL;

	g_assert_true(gw_dm2_session_receive(session, pkg2, NULL, &error));
	g_assert_null(gw_dm2_session_run(session, &error));
	gw_dm2_session_complete_transfer(session, 404, NULL);
	g_assert_null(gw_dm2_session_run(session, &error));
	gw_dm2_session_complete_transfer(session, 0, NULL);
	g_assert_null(gw_dm2_session_run(session, &error));
	gw_dm2_session_complete_transfer(session, 200, body);
	pkg3 = gw_dm2_session_run(session, &error);
	g_assert_no_error(error);
	msg = parse(GW_DM2_PACKAGE_RESPONSE, pkg3);
	g_assert_cmpuint(status_at(msg, 0), ==, 404);
	g_assert_cmpuint(status_at(msg, 1), ==, 502);
	/* Secret's own ACL "Get=other" grants srv1 no Replace: the tree's 425 */
	g_assert_cmpuint(status_at(msg, 2), ==, 425);
	value = gw_dm_tree_dup_string(fx->tree, "./Vendor/App/Conf");
	g_assert_cmpstr(value, ==, "old");
	g_clear_pointer(&value, g_free);
	value = gw_dm_tree_dup_string(fx->tree, "./Vendor/App/Secret");
	g_assert_cmpstr(value, ==, "s3cret");
}

/* HGET of a new leaf whose parents do not exist yet (a GwMO Fanout job "MOID/Fanout/j1/…"):
 * the missing interior nodes are made on the way, below the instance root only, by plain
 * names only; an asynchronous EXEC hands its ServerURI to the handler as correlator */
static void
test_hget_new_instance(Fixture *fx, gconstpointer data)
{
	g_autoptr(GwDm2Session) session = new_session(fx, 0, 0);
	g_autoptr(GBytes) pkg1 = start(session);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pkg2 =
	    bytes("{\"CMD\":["
	          "[\"HGET\",\"https://dm.example/a\",\"" APP_MOID "/App/Jobs/j1/Command\"],"
	          "[\"HGET\",\"https://dm.example/b\",\"" APP_MOID "/App/Jobs/j1/T/Devices/1\"],"
	          "[\"HGET\",\"https://dm.example/c\",\"" APP_MOID "/App/New2/*/X\"],"
	          "[\"HGET\",\"https://dm.example/d\",\"" APP_MOID "/App/Name/Sub/X\"],"
	          "[\"HGET\",\"https://dm.example/e\",\"" APP_MOID "/Nope/A/B\"],"
	          "[\"EXEC\",\"" APP_MOID "/App/Operations/Run\",\"https://dm.example/r1\"]"
	          "]}");
	g_autoptr(GBytes) body = bytes("Get");
	g_autoptr(GBytes) pkg3 = NULL;
	g_autoptr(GwDm2Message) msg = NULL;
	g_autofree gchar *value = NULL;
	GwDmNode *node;

	g_assert_true(gw_dm2_session_receive(session, pkg2, NULL, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < 5; i++) {
		g_assert_null(gw_dm2_session_run(session, &error));
		g_assert_no_error(error);
		g_assert_nonnull(gw_dm2_session_get_transfer(session));
		gw_dm2_session_complete_transfer(session, 200, body);
	}
	pkg3 = gw_dm2_session_run(session, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pkg3);
	msg = parse(GW_DM2_PACKAGE_RESPONSE, pkg3);
	g_assert_cmpuint(status_at(msg, 0), ==, 200);
	g_assert_cmpuint(status_at(msg, 1), ==, 200);
	g_assert_cmpuint(status_at(msg, 2), ==, 404); /* no wildcard in what is made */
	g_assert_null(gw_dm_tree_lookup(fx->tree, "./Vendor/App/New2"));
	g_assert_cmpuint(status_at(msg, 3), ==, 405); /* below a leaf */
	g_assert_cmpuint(status_at(msg, 4), ==, 404); /* no such MIID */
	g_assert_cmpuint(status_at(msg, 5), ==, 202);
	node = gw_dm_tree_lookup(fx->tree, "./Vendor/App/Jobs/j1");
	g_assert_nonnull(node);
	g_assert_cmpint(gw_dm_node_get_format(node), ==, GW_DM_FORMAT_NODE);
	value = gw_dm_tree_dup_string(fx->tree, "./Vendor/App/Jobs/j1/Command");
	g_assert_cmpstr(value, ==, "Get");
	g_clear_pointer(&value, g_free);
	value = gw_dm_tree_dup_string(fx->tree, "./Vendor/App/Jobs/j1/T/Devices/1");
	g_assert_cmpstr(value, ==, "Get");
	g_assert_null(gw_dm_tree_lookup(fx->tree, "./Vendor/App/Name/Sub"));
	g_assert_cmpstr(fx->exec_correlator, ==, "https://dm.example/r1");
}

/* malformed JSON, a wrong content type, too many commands, too many packages: FAILED with
 * GW_ERROR_PROTOCOL, nothing of the package ran */
static void
test_malformed(Fixture *fx, gconstpointer data)
{
	static const gchar *const bad[] = {
	    "{\"CMD\":[[\"DELETE\",\"" APP_MOID "/App/Old\"]",
	    "{\"CMD\":[[\"DELETE\"]]}",
	    "{\"CMD\":[[\"FROB\",\"x\"]]}",
	    "[]",
	    "",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GwDm2Session) session = new_session(fx, 0, 0);
		g_autoptr(GBytes) pkg1 = start(session);
		g_autoptr(GBytes) pkg2 = bytes(bad[i]);
		g_autoptr(GError) error = NULL;

		g_assert_false(gw_dm2_session_receive(session, pkg2, NULL, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_cmpint(gw_dm2_session_get_state(session), ==, GW_DM2_SESSION_STATE_FAILED);
		g_assert_nonnull(gw_dm2_session_get_error(session));
		g_clear_error(&error);
		g_assert_null(gw_dm2_session_run(session, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_WRONG_STATE);
	}
	g_assert_nonnull(gw_dm_tree_lookup(fx->tree, "./Vendor/App/Old"));
	{
		g_autoptr(GwDm2Session) session = new_session(fx, 0, 0);
		g_autoptr(GBytes) pkg1 = start(session);
		g_autoptr(GBytes) pkg2 = bytes("{\"CMD\":[[\"END\"]]}");
		g_autoptr(GError) error = NULL;

		g_assert_false(gw_dm2_session_receive(session, pkg2, "application/json", &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	}
	{
		g_autoptr(GwDm2Session) session = new_session(fx, 2, 0);
		g_autoptr(GBytes) pkg1 = start(session);
		g_autoptr(GBytes) pkg2 = bytes("{\"CMD\":[[\"DELETE\",\"" APP_MOID
		                               "/App/Old\"],[\"SHOW\",\"u\"],[\"END\"]]}");
		g_autoptr(GError) error = NULL;

		g_assert_false(gw_dm2_session_receive(session, pkg2, NULL, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_nonnull(gw_dm_tree_lookup(fx->tree, "./Vendor/App/Old"));
	}
	{
		g_autoptr(GwDm2Session) session = new_session(fx, 0, 2);
		g_autoptr(GBytes) pkg1 = start(session);
		g_autoptr(GBytes) pkg2 = bytes("{\"CMD\":[[\"SHOW\",\"u\"]]}");
		g_autoptr(GError) error = NULL;

		for (guint i = 0; i < 2; i++) {
			g_autoptr(GBytes) pkg3 = NULL;

			g_assert_true(gw_dm2_session_receive(session, pkg2, NULL, &error));
			pkg3 = gw_dm2_session_run(session, &error);
			g_assert_no_error(error);
			g_assert_nonnull(pkg3);
		}
		g_assert_false(gw_dm2_session_receive(session, pkg2, NULL, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add(
	    "/dm2-session/package1", Fixture, NULL, fixture_setup, test_package1, fixture_teardown);
	g_test_add("/dm2-session/alert-ids",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_alert_ids,
	           fixture_teardown);
	g_test_add("/dm2-session/server-initiated",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_server_initiated,
	           fixture_teardown);
	g_test_add(
	    "/dm2-session/commands", Fixture, NULL, fixture_setup, test_commands, fixture_teardown);
	g_test_add("/dm2-session/transfer-failure",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_transfer_failure,
	           fixture_teardown);
	g_test_add("/dm2-session/hget-new-instance",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_hget_new_instance,
	           fixture_teardown);
	g_test_add("/dm2-session/malformed",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_malformed,
	           fixture_teardown);
	return g_test_run();
}
