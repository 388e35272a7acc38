/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DM 2.0 JSON codec: the golden messages of tests/data/dm2 (written from the spec text, see
 * its README.md), round trips, exact generator output, and every refusal of the parser and
 * of the generator.
 */

#include "config.h"

#include <string.h>

#include "gw-dm2.h"

static GBytes *
load_golden(const gchar *name)
{
	g_autofree gchar *path = g_test_build_filename(G_TEST_DIST, "data", "dm2", name, NULL);
	g_autofree gchar *contents = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_get_contents(path, &contents, &len, &error));
	g_assert_no_error(error);
	return g_bytes_new_take(g_steal_pointer(&contents), len);
}

static GwDm2Message *
parse_golden(GwDm2Package package, const gchar *name)
{
	g_autoptr(GBytes) bytes = load_golden(name);
	g_autoptr(GError) error = NULL;
	GwDm2Message *msg = gw_dm2_message_parse(
	    package, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), 0, &error);

	g_assert_no_error(error);
	g_assert_nonnull(msg);
	return msg;
}

static GwDm2Message *
parse_str(GwDm2Package package, const gchar *json, GError **error)
{
	return gw_dm2_message_parse(package, (const guint8 *)json, strlen(json), 0, error);
}

/* generate, parse back: equal, and generating again gives the same bytes */
static void
assert_round_trip(const GwDm2Message *msg)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) json = gw_dm2_message_to_json(msg, &error);
	g_autoptr(GBytes) json2 = NULL;
	g_autoptr(GwDm2Message) back = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(json);
	back = gw_dm2_message_parse(
	    msg->package, g_bytes_get_data(json, NULL), g_bytes_get_size(json), 0, &error);
	g_assert_no_error(error);
	g_assert_true(gw_dm2_message_equal(msg, back));
	json2 = gw_dm2_message_to_json(back, &error);
	g_assert_no_error(error);
	g_assert_true(g_bytes_equal(json, json2));
}

static void
test_golden_pkg1(void)
{
	g_autoptr(GwDm2Message) ci =
	    parse_golden(GW_DM2_PACKAGE_INITIATION, "pkg1-client-initiated.json");
	g_autoptr(GwDm2Message) si =
	    parse_golden(GW_DM2_PACKAGE_INITIATION, "pkg1-server-initiated.json");
	g_autoptr(GwDm2Message) bc =
	    parse_golden(GW_DM2_PACKAGE_INITIATION, "pkg1-bootstrap-complete.json");
	const GwDm2Mo *mo;
	const GwDm2Alert *alert;
	guint16 nid = 0;

	g_assert_cmpuint(ci->mos->len, ==, 2);
	mo = g_ptr_array_index(ci->mos, 1);
	g_assert_cmpstr(mo->ddf, ==, "http://www.vendor.com/DDF/oma-sessioninfomo1.0.ddf");
	g_assert_cmpstr(mo->moid, ==, "urn:oma:mo:oma-sessioninfomo:1.0");
	g_assert_cmpuint(mo->miids->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(mo->miids, 0), ==, "miid1");
	alert = gw_dm2_message_get_session_alert(ci);
	g_assert_nonnull(alert);
	g_assert_cmpstr(alert->alert_type, ==, GW_DM2_ALERT_CLIENT_INITIATED);
	g_assert_false(gw_dm2_alert_get_notification_id(alert, &nid));

	alert = gw_dm2_message_get_session_alert(si);
	g_assert_cmpstr(alert->alert_type, ==, GW_DM2_ALERT_SERVER_INITIATED);
	g_assert_true(gw_dm2_alert_get_notification_id(alert, &nid));
	g_assert_cmpuint(nid, ==, 0x1234);
	g_assert_cmpuint(si->alerts->len, ==, 2);
	alert = g_ptr_array_index(si->alerts, 1);
	g_assert_cmpstr(alert->alert_type, ==, "urn:oma:at:scomo:1.0:OperationComplete");
	g_assert_cmpstr(alert->mark, ==, "warning");
	g_assert_cmpstr(alert->data_type, ==, "text/xml");
	g_assert_cmpstr(
	    alert->target_uri, ==, "urn:oma:mo:oma-scomo:1.0/SCOMO1/Inventory/Deployed/Component1");
	g_assert_true(JSON_NODE_HOLDS_OBJECT(alert->data));
	g_assert_true(g_str_has_prefix(
	    json_object_get_string_member(json_node_get_object(alert->data), "DM1x"),
	    "<ResultCode>1200"));

	g_assert_null(bc->mos);
	g_assert_cmpstr(
	    gw_dm2_message_get_session_alert(bc)->alert_type, ==, GW_DM2_ALERT_BOOTSTRAP_COMPLETE);

	assert_round_trip(ci);
	assert_round_trip(si);
	assert_round_trip(bc);
}

static void
test_golden_pkg2(void)
{
	g_autoptr(GwDm2Message) req = parse_golden(GW_DM2_PACKAGE_REQUEST, "pkg2-request.json");
	g_autoptr(GwDm2Message) all =
	    parse_golden(GW_DM2_PACKAGE_REQUEST, "pkg2-all-commands.json");
	const GwDm2Command *cmd;
	static const GwDm2CmdType order[] = {GW_DM2_CMD_HGET,
	                                     GW_DM2_CMD_HPUT,
	                                     GW_DM2_CMD_HPOST,
	                                     GW_DM2_CMD_DELETE,
	                                     GW_DM2_CMD_EXEC,
	                                     GW_DM2_CMD_EXEC,
	                                     GW_DM2_CMD_GET,
	                                     GW_DM2_CMD_SHOW,
	                                     GW_DM2_CMD_CONT,
	                                     GW_DM2_CMD_DEFAULT,
	                                     GW_DM2_CMD_SUB,
	                                     GW_DM2_CMD_UNSUB,
	                                     GW_DM2_CMD_END};

	g_assert_cmpuint(req->commands->len, ==, 3);
	cmd = g_ptr_array_index(req->commands, 0);
	g_assert_cmpint(cmd->type, ==, GW_DM2_CMD_HPOST);
	g_assert_cmpstr(cmd->server_uri, ==, "https://DMcontent.DMserver.operator.com/[DevID]");
	g_assert_cmpuint(cmd->client_uris->len, ==, 2);
	g_assert_cmpstr(
	    gw_dm2_command_get_client_uri(cmd, 1), ==, "urn:oma:mo:oma-sessioninfomo:1.0//");
	g_assert_null(gw_dm2_command_get_client_uri(cmd, 2));
	cmd = g_ptr_array_index(req->commands, 1);
	g_assert_cmpint(cmd->type, ==, GW_DM2_CMD_HGET);
	g_assert_cmpstr(cmd->server_uri, ==, "https://DMcontent.DMserver.operator.com/new_mo");
	g_assert_cmpuint(cmd->client_uris->len, ==, 0);
	cmd = g_ptr_array_index(req->commands, 2);
	g_assert_cmpint(cmd->type, ==, GW_DM2_CMD_GET);
	g_assert_null(cmd->server_uri);
	g_assert_cmpstr(
	    gw_dm2_command_get_client_uri(cmd, 0), ==, "urn:oma:mo:oma-sessioninfomo:1.0//CBT");
	g_assert_false(gw_dm2_message_has_end(req));

	g_assert_cmpuint(all->commands->len, ==, G_N_ELEMENTS(order));
	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		cmd = g_ptr_array_index(all->commands, i);
		g_assert_cmpint(cmd->type, ==, order[i]);
	}
	/* EXEC without and with a ServerURI: synchronous, then asynchronous */
	cmd = g_ptr_array_index(all->commands, 4);
	g_assert_false(gw_dm2_command_is_async(cmd));
	cmd = g_ptr_array_index(all->commands, 5);
	g_assert_true(gw_dm2_command_is_async(cmd));
	g_assert_cmpstr(cmd->server_uri, ==, "https://dm.example/alerts/job2");
	g_assert_cmpstr(gw_dm2_command_get_client_uri(cmd, 0),
	                ==,
	                "urn:oma:mo:oma-gwmo-fanout:1.0/Fanout/job2/Operations/Start");
	cmd = g_ptr_array_index(all->commands, 9);
	g_assert_cmpstr(cmd->moid, ==, "urn:oma:mo:oma-gwmo-gwconfig:1.0");
	g_assert_cmpstr(cmd->server_uri, ==, "https://dm.example/defaults/gwconfig");
	cmd = g_ptr_array_index(all->commands, 10);
	g_assert_cmpstr(gw_dm2_command_get_client_uri(cmd, 0),
	                ==,
	                "urn:oma:mo:oma-gwmo-deviceinventory:1.0//Devices");
	g_assert_cmpstr(cmd->server_uri, ==, "https://dm.example/changes");
	g_assert_true(gw_dm2_message_has_end(all));

	assert_round_trip(req);
	assert_round_trip(all);
}

static void
test_golden_pkg3(void)
{
	g_autoptr(GwDm2Message) rsp = parse_golden(GW_DM2_PACKAGE_RESPONSE, "pkg3-response.json");
	g_autoptr(GwDm2Message) async =
	    parse_golden(GW_DM2_PACKAGE_RESPONSE, "pkg3-exec-async.json");
	const GwDm2Status *status;
	const GwDm2Alert *alert;

	g_assert_cmpuint(rsp->statuses->len, ==, 3);
	status = g_ptr_array_index(rsp->statuses, 0);
	g_assert_cmpuint(status->sc, ==, 200);
	g_assert_null(status->uris);
	status = g_ptr_array_index(rsp->statuses, 1);
	g_assert_cmpuint(status->uris->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(status->uris, 1), ==, "urn:oma:mo:oma-mo:1.0/miid2/");
	g_assert_cmpuint(rsp->alerts->len, ==, 1);
	alert = g_ptr_array_index(rsp->alerts, 0);
	g_assert_cmpstr(alert->data_type, ==, "int");
	g_assert_cmpint(
	    json_object_get_int_member(json_node_get_object(alert->data), "DM1x"), ==, 1404);

	g_assert_cmpuint(async->statuses->len, ==, 3);
	status = g_ptr_array_index(async->statuses, 0);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(status->data));
	status = g_ptr_array_index(async->statuses, 1);
	g_assert_cmpuint(status->sc, ==, 202);
	g_assert_null(status->data);
	status = g_ptr_array_index(async->statuses, 2);
	g_assert_cmpuint(status->sc, ==, 404);
	g_assert_cmpuint(async->alerts->len, ==, 0);

	assert_round_trip(rsp);
	assert_round_trip(async);
}

/* the generator's bytes, exactly */
static void
test_build(void)
{
	g_autoptr(GwDm2Message) p1 = gw_dm2_message_new(GW_DM2_PACKAGE_INITIATION);
	g_autoptr(GwDm2Message) p2 = gw_dm2_message_new(GW_DM2_PACKAGE_REQUEST);
	g_autoptr(GwDm2Message) p3 = gw_dm2_message_new(GW_DM2_PACKAGE_RESPONSE);
	g_autoptr(GBytes) json = NULL;
	g_autoptr(GError) error = NULL;
	GwDm2Mo *mo;
	GwDm2Command *cmd;
	GwDm2Status *status;
	GwDm2Alert *alert;

	mo = gw_dm2_message_add_mo(p1, gw_dm2_mo_new(NULL, "urn:oma:mo:oma-dm-devinfo:1.0"));
	gw_dm2_mo_add_miid(mo, "DevInfo");
	gw_dm2_message_add_alert(p1, gw_dm2_alert_new_server_initiated(65535));
	json = gw_dm2_message_to_json(p1, &error);
	g_assert_no_error(error);
	g_assert_cmpmem(
	    g_bytes_get_data(json, NULL),
	    g_bytes_get_size(json),
	    "{\"MOS\":[{\"MOID\":\"urn:oma:mo:oma-dm-devinfo:1.0\",\"MIID\":[\"DevInfo\"]}],"
	    "\"Alert\":[{\"AlertType\":\"urn:oma:at:dm:2.0:ServerInitiatedMgmt\","
	    "\"Data\":{\"NotificationID\":65535}}]}",
	    strlen("{\"MOS\":[{\"MOID\":\"urn:oma:mo:oma-dm-devinfo:1.0\",\"MIID\":[\"DevInfo\"]}],"
	           "\"Alert\":[{\"AlertType\":\"urn:oma:at:dm:2.0:ServerInitiatedMgmt\","
	           "\"Data\":{\"NotificationID\":65535}}]}"));
	g_clear_pointer(&json, g_bytes_unref);
	assert_round_trip(p1);

	cmd = gw_dm2_message_add_command(p2,
	                                 gw_dm2_command_new(GW_DM2_CMD_HPUT, "https://s/x", "m//"));
	gw_dm2_command_add_client_uri(cmd, "n/i/a");
	gw_dm2_message_add_command(p2,
	                           gw_dm2_command_new(GW_DM2_CMD_EXEC, "https://s/a", "m/i/Op"));
	cmd = gw_dm2_message_add_command(
	    p2, gw_dm2_command_new(GW_DM2_CMD_DEFAULT, "https://s/d", NULL));
	cmd->moid = g_strdup("urn:x");
	gw_dm2_message_add_command(p2, gw_dm2_command_new(GW_DM2_CMD_END, NULL, NULL));
	json = gw_dm2_message_to_json(p2, &error);
	g_assert_no_error(error);
	g_assert_cmpmem(
	    g_bytes_get_data(json, NULL),
	    g_bytes_get_size(json),
	    "{\"CMD\":[[\"HPUT\",\"https://s/x\",\"m//\",\"n/i/a\"],"
	    "[\"EXEC\",\"m/i/Op\",\"https://s/a\"],[\"DEFAULT\",\"urn:x\",\"https://s/d\"],"
	    "[\"END\"]]}",
	    strlen("{\"CMD\":[[\"HPUT\",\"https://s/x\",\"m//\",\"n/i/a\"],"
	           "[\"EXEC\",\"m/i/Op\",\"https://s/a\"],[\"DEFAULT\",\"urn:x\",\"https://s/d\"],"
	           "[\"END\"]]}"));
	g_clear_pointer(&json, g_bytes_unref);
	assert_round_trip(p2);

	status = gw_dm2_message_add_status(p3, gw_dm2_status_new(200));
	gw_dm2_status_add_uri(status, "m/i/");
	gw_dm2_message_add_status(p3, gw_dm2_status_new(425));
	alert = gw_dm2_message_add_alert(p3, gw_dm2_alert_new("urn:x:y"));
	alert->mark = g_strdup("critical");
	json = gw_dm2_message_to_json(p3, &error);
	g_assert_no_error(error);
	g_assert_cmpmem(g_bytes_get_data(json, NULL),
	                g_bytes_get_size(json),
	                "{\"Status\":[{\"sc\":200,\"URI\":[\"m/i/\"]},{\"sc\":425}],"
	                "\"Alert\":[{\"AlertType\":\"urn:x:y\",\"Mark\":\"critical\"}]}",
	                strlen("{\"Status\":[{\"sc\":200,\"URI\":[\"m/i/\"]},{\"sc\":425}],"
	                       "\"Alert\":[{\"AlertType\":\"urn:x:y\",\"Mark\":\"critical\"}]}"));
	assert_round_trip(p3);
}

/* strings that need escaping, and a string that is not UTF-8 */
static void
test_escape(void)
{
	g_autoptr(GwDm2Message) p3 = gw_dm2_message_new(GW_DM2_PACKAGE_RESPONSE);
	g_autoptr(GwDm2Message) back = NULL;
	g_autoptr(GBytes) json = NULL;
	g_autoptr(GError) error = NULL;
	GwDm2Status *status = gw_dm2_message_add_status(p3, gw_dm2_status_new(200));
	const gchar *tricky = "q\"b\\s/\n\r\t\x01\x1f é ✓";
	const GwDm2Status *got;

	gw_dm2_status_add_uri(status, tricky);
	gw_dm2_status_add_uri(status, "bad \xff utf8");
	json = gw_dm2_message_to_json(p3, &error);
	g_assert_no_error(error);
	g_assert_true(g_utf8_validate(g_bytes_get_data(json, NULL), g_bytes_get_size(json), NULL));
	back = gw_dm2_message_parse(GW_DM2_PACKAGE_RESPONSE,
	                            g_bytes_get_data(json, NULL),
	                            g_bytes_get_size(json),
	                            0,
	                            &error);
	g_assert_no_error(error);
	got = g_ptr_array_index(back->statuses, 0);
	g_assert_cmpstr(g_ptr_array_index(got->uris, 0), ==, tricky);
	g_assert_cmpstr(g_ptr_array_index(got->uris, 1), ==, "bad \xef\xbf\xbd utf8");
}

typedef struct {
	GwDm2Package package;
	const gchar *json;
	const gchar *error; /* a substring of the message */
} Refusal;

static void
test_refusals(void)
{
	static const Refusal cases[] = {
	    /* JSON and root */
	    {GW_DM2_PACKAGE_REQUEST, "", "must be a JSON object, not empty"},
	    {GW_DM2_PACKAGE_REQUEST, " \n", "must be a JSON object, not empty"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[", "not JSON"},
	    {GW_DM2_PACKAGE_REQUEST, "[]", "must be a JSON object, not an array"},
	    {GW_DM2_PACKAGE_REQUEST, "\"CMD\"", "must be a JSON object, not a string"},
	    /* Package #2 */
	    {GW_DM2_PACKAGE_REQUEST, "{}", "member \"CMD\" is missing"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":{}}", "\"CMD\" must be an array, not an object"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[\"END\"]}",
	     "CMD[0]: must be an array of strings, not a string"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[[\"END\"],[]]}", "CMD[1]: is empty"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"GET\",7]]}",
	     "CMD[0][1]: must be a string, not a number"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"GET\",null]]}",
	     "CMD[0][1]: must be a string, not null"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[[\"GET\",\"\"]]}", "CMD[0][1]: argument is empty"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"REPLACE\",\"a/b/\"]]}",
	     "CMD[0][0]: unknown command \"REPLACE\""},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[[\"get\",\"a/b/\"]]}", "unknown command \"get\""},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"GET\"]]}",
	     "CMD[0]: GET takes one ClientURI, got 0 arguments"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"GET\",\"a//\",\"b//\"]]}",
	     "GET takes one ClientURI, got 2"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"END\",\"x\"]]}",
	     "END takes no argument, got 1 argument"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"HGET\"]]}",
	     "HGET takes a ServerURI and at most one ClientURI"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[[\"HGET\",\"s\",\"a//\",\"b//\"]]}", "HGET takes"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"END\"],[\"HPUT\",\"s\"]]}",
	     "CMD[1]: HPUT takes a ServerURI and at least one ClientURI, got 1 argument"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[[\"HPOST\",\"s\"]]}", "HPOST takes"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[[\"DELETE\"]]}", "DELETE takes one ClientURI"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"EXEC\",\"a//\",\"s\",\"t\"]]}",
	     "EXEC takes a ClientURI and an optional ServerURI, got 3"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[[\"SHOW\"]]}", "SHOW takes one ServerURI"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"CONT\",\"a\",\"b\"]]}",
	     "CONT takes one ServerURI"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"DEFAULT\",\"urn:x\"]]}",
	     "DEFAULT takes a MOID and a ServerURI"},
	    {GW_DM2_PACKAGE_REQUEST,
	     "{\"CMD\":[[\"SUB\",\"a//\"]]}",
	     "SUB takes a ClientURI and a ServerURI"},
	    {GW_DM2_PACKAGE_REQUEST, "{\"CMD\":[[\"UNSUB\"]]}", "UNSUB takes one ClientURI"},
	    /* Package #3 */
	    {GW_DM2_PACKAGE_RESPONSE, "{\"Alert\":[]}", "member \"Status\" is missing"},
	    {GW_DM2_PACKAGE_RESPONSE, "{\"Status\":[{}]}", "Status[0]: member \"sc\" is missing"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[200]}",
	     "Status[0]: must be an object, not a number"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[{\"sc\":\"200\"}]}",
	     "Status[0].sc: must be an integer, not a string"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[{\"sc\":200.5}]}",
	     "Status[0].sc: must be an integer"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[{\"sc\":200},{\"sc\":99}]}",
	     "Status[1].sc: 99 is not a status code"},
	    {GW_DM2_PACKAGE_RESPONSE, "{\"Status\":[{\"sc\":600}]}", "600 is not a status code"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[{\"sc\":200,\"URI\":\"a//\"}]}",
	     "Status[0].URI: must be an array of strings, not a string"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[{\"sc\":200,\"URI\":[\"a\",1]}]}",
	     "Status[0].URI[1]: must be a string"},
	    {GW_DM2_PACKAGE_RESPONSE, "{\"Status\":[],\"Alert\":{}}", "\"Alert\" must be an array"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[{\"sc\":200,\"Data\":{\"a\":[1,1e400]}}]}",
	     "Status[0].Data: holds a number out of range"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[{\"sc\":200,\"Data\":[1234567890123456789]}]}",
	     "holds an integer of more than 18 digits"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[{\"sc\":200,\"Data\":-12345678901234567890}]}",
	     "more than 18 digits"},
	    /* alerts */
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[1]}",
	     "Alert[0]: must be an object"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{}]}",
	     "Alert[0]: member \"AlertType\" is missing"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{\"AlertType\":1}]}",
	     "Alert[0].AlertType: must be a string, not a number"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{\"AlertType\":\"\"}]}",
	     "Alert[0].AlertType: must not be empty"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{\"AlertType\":\"a\",\"SourceURI\":true}]}",
	     "Alert[0].SourceURI: must be a string, not a boolean"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{\"AlertType\":\"a\",\"TargetURI\":[]}]}",
	     "Alert[0].TargetURI: must be a string"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{\"AlertType\":\"a\",\"DataType\":{}}]}",
	     "Alert[0].DataType: must be a string"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{\"AlertType\":\"a\",\"Mark\":\"bad\"}]}",
	     "Alert[0].Mark: \"bad\" is not a severity"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{\"AlertType\":\"a\",\"Data\":\"x\"}]}",
	     "Alert[0].Data: must be an object, not a string"},
	    {GW_DM2_PACKAGE_RESPONSE,
	     "{\"Status\":[],\"Alert\":[{\"AlertType\":\"a\",\"Data\":{\"x\":-1e999}}]}",
	     "Alert[0].Data: holds a number out of range"},
	    /* Package #1 */
	    {GW_DM2_PACKAGE_INITIATION, "{\"MOS\":[]}", "member \"Alert\" is missing"},
	    {GW_DM2_PACKAGE_INITIATION, "{\"Alert\":[]}", "Alert: none of"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"Alert\":[{\"AlertType\":\"urn:oma:at:x\"}]}",
	     "Package #1 needs one"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"Alert\":[{\"AlertType\":\"urn:oma:at:dm:2.0:ServerInitiatedMgmt\"}]}",
	     "needs Data.NotificationID"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"Alert\":[{\"AlertType\":\"urn:oma:at:dm:2.0:ServerInitiatedMgmt\",\"Data\":{"
	     "\"NotificationID\":65536}}]}",
	     "an integer 0..65535"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"Alert\":[{\"AlertType\":\"urn:oma:at:dm:2.0:ServerInitiatedMgmt\",\"Data\":{"
	     "\"NotificationID\":\"7\"}}]}",
	     "Data.NotificationID"},
	    {GW_DM2_PACKAGE_INITIATION, "{\"MOS\":{},\"Alert\":[]}", "\"MOS\" must be an array"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"MOS\":[[]],\"Alert\":[]}",
	     "MOS[0]: must be an object, not an array"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"MOS\":[{\"MOID\":\"m\"}],\"Alert\":[]}",
	     "MOS[0]: member \"MIID\" is missing"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"MOS\":[{\"MIID\":\"x\"}],\"Alert\":[]}",
	     "MOS[0].MIID: must be an array of strings, not a string"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"MOS\":[{\"MIID\":[\"a\",{}]}],\"Alert\":[]}",
	     "MOS[0].MIID[1]: must be a string, not an object"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"MOS\":[{\"MIID\":[],\"DDF\":5}],\"Alert\":[]}",
	     "MOS[0].DDF: must be a string"},
	    {GW_DM2_PACKAGE_INITIATION,
	     "{\"MOS\":[{\"MIID\":[],\"MOID\":null}],\"Alert\":[]}",
	     "MOS[0].MOID: must be a string, not null"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GwDm2Message) msg = parse_str(cases[i].package, cases[i].json, &error);

		if (msg != NULL || error == NULL || strstr(error->message, cases[i].error) == NULL)
			g_test_message("case %u (%s): expected \"%s\", got %s",
			               i,
			               cases[i].json,
			               cases[i].error,
			               error != NULL ? error->message : "success");
		g_assert_null(msg);
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_nonnull(strstr(error->message, cases[i].error));
	}
}

/* numbers json-glib's own writer gets wrong (1e-300 as "1e-300.0") come back as they went */
static void
test_numbers(void)
{
	const gchar *json =
	    "{\"Status\":[{\"sc\":200,\"Data\":[1e-300,2.5,1.0,-0.0,"
	    "123456789012345678,-7,1.5e300,12345678901234567890.5,\"12345678901234567890\"]}]}";
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2Message) msg = parse_str(GW_DM2_PACKAGE_RESPONSE, json, &error);
	g_autoptr(GBytes) out = NULL;
	const GwDm2Status *status;
	JsonArray *array;

	g_assert_no_error(error);
	status = g_ptr_array_index(msg->statuses, 0);
	array = json_node_get_array(status->data);
	g_assert_cmpfloat(json_array_get_double_element(array, 0), ==, 1e-300);
	g_assert_cmpint(
	    json_array_get_int_element(array, 4), ==, G_GINT64_CONSTANT(123456789012345678));
	assert_round_trip(msg);
	out = gw_dm2_message_to_json(msg, &error);
	g_assert_no_error(error);
	g_assert_nonnull(g_strstr_len(g_bytes_get_data(out, NULL),
	                              g_bytes_get_size(out),
	                              "[1e-300,2.5,1.0,-0.0,123456789012345678,-7,"));
}

static void
test_bounds(void)
{
	g_autoptr(GString) deep = g_string_new("{\"Status\":[{\"sc\":200,\"Data\":");
	g_autoptr(GString) ok = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2Message) msg = NULL;
	const gchar *small = "{\"CMD\":[[\"END\"]]}";

	/* the size limit, counted in bytes */
	msg = gw_dm2_message_parse(GW_DM2_PACKAGE_REQUEST,
	                           (const guint8 *)small,
	                           strlen(small),
	                           strlen(small) - 1,
	                           &error);
	g_assert_null(msg);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "over the limit"));
	g_clear_error(&error);
	msg = gw_dm2_message_parse(
	    GW_DM2_PACKAGE_REQUEST, (const guint8 *)small, strlen(small), strlen(small), &error);
	g_assert_no_error(error);
	g_clear_pointer(&msg, gw_dm2_message_free);

	/* nesting: GW_DM2_MAX_NESTING levels parse, one more is refused before json-glib */
	ok = g_string_new("{\"Status\":[{\"sc\":200,\"Data\":");
	for (guint i = 0; i < GW_DM2_MAX_NESTING - 3; i++)
		g_string_append_c(ok, '[');
	for (guint i = 0; i < GW_DM2_MAX_NESTING - 3; i++)
		g_string_append_c(ok, ']');
	g_string_append(ok, "}]}");
	msg = parse_str(GW_DM2_PACKAGE_RESPONSE, ok->str, &error);
	g_assert_no_error(error);
	g_clear_pointer(&msg, gw_dm2_message_free);

	/* 100,000 '[' overflowed the stack of a json-glib user without the bound */
	for (guint i = 0; i < 100000; i++)
		g_string_append_c(deep, '[');
	msg = parse_str(GW_DM2_PACKAGE_RESPONSE, deep->str, &error);
	g_assert_null(msg);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "nested deeper than 64 levels"));

	/* brackets inside strings do not count, escaped quotes do not end them */
	g_assert_true(gw_dm2_json_nesting_ok("[\"[[[[\\\"[[[[\"]", 14, 1));
	g_assert_false(gw_dm2_json_nesting_ok("[[", 2, 1));
}

static void
test_generate_refusals(void)
{
	struct {
		GwDm2Command *cmd;
		const gchar *error;
	} bad[] = {
	    {gw_dm2_command_new(GW_DM2_CMD_GET, "https://s", "a//"), "GET takes one ClientURI"},
	    {gw_dm2_command_new(GW_DM2_CMD_HGET, NULL, NULL), "HGET takes a ServerURI"},
	    {gw_dm2_command_new(GW_DM2_CMD_HPUT, "https://s", NULL), "HPUT takes"},
	    {gw_dm2_command_new(GW_DM2_CMD_END, NULL, "a//"), "END takes no argument"},
	    {gw_dm2_command_new(GW_DM2_CMD_DEFAULT, "https://s", NULL), "DEFAULT takes a MOID"},
	    {gw_dm2_command_new(GW_DM2_CMD_DELETE, NULL, ""), "DELETE argument 1 is empty"},
	};
	g_autoptr(GwDm2Message) p1 = gw_dm2_message_new(GW_DM2_PACKAGE_INITIATION);
	g_autoptr(GwDm2Message) p3 = gw_dm2_message_new(GW_DM2_PACKAGE_RESPONSE);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) json = NULL;
	GwDm2Alert *alert;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GwDm2Message) p2 = gw_dm2_message_new(GW_DM2_PACKAGE_REQUEST);
		g_autoptr(GBytes) out = NULL;

		gw_dm2_message_add_command(p2, gw_dm2_command_new(GW_DM2_CMD_END, NULL, NULL));
		gw_dm2_message_add_command(p2, bad[i].cmd);
		out = gw_dm2_message_to_json(p2, &error);
		g_assert_null(out);
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
		g_assert_true(g_str_has_prefix(error->message, "CMD[1]: "));
		g_assert_nonnull(strstr(error->message, bad[i].error));
		g_clear_error(&error);
	}

	/* Package #1 without a session alert */
	gw_dm2_message_add_alert(p1, gw_dm2_alert_new("urn:oma:at:x"));
	json = gw_dm2_message_to_json(p1, &error);
	g_assert_null(json);
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_clear_error(&error);

	/* status code out of range, then a bad Mark */
	gw_dm2_message_add_status(p3, gw_dm2_status_new(1200));
	json = gw_dm2_message_to_json(p3, &error);
	g_assert_null(json);
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "1200 is not a status code"));
	g_clear_error(&error);
	((GwDm2Status *)g_ptr_array_index(p3->statuses, 0))->sc = 200;
	alert = gw_dm2_message_add_alert(p3, gw_dm2_alert_new("urn:x"));
	alert->mark = g_strdup("loud");
	json = gw_dm2_message_to_json(p3, &error);
	g_assert_null(json);
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
}

static void
test_names(void)
{
	GwDm2CmdType type;

	g_assert_cmpint(gw_dm2_package_from_content_type("application/vnd.oma.dm.request+json"),
	                ==,
	                GW_DM2_PACKAGE_REQUEST);
	g_assert_cmpint(gw_dm2_package_from_content_type(
	                    "Application/VND.oma.dm.initiation+json ; charset=utf-8"),
	                ==,
	                GW_DM2_PACKAGE_INITIATION);
	g_assert_cmpint(gw_dm2_package_from_content_type("application/vnd.oma.dm.response+json"),
	                ==,
	                GW_DM2_PACKAGE_RESPONSE);
	g_assert_cmpint(gw_dm2_package_from_content_type("application/json"), ==, 0);
	g_assert_cmpint(gw_dm2_package_from_content_type(NULL), ==, 0);
	g_assert_cmpstr(gw_dm2_package_to_content_type(GW_DM2_PACKAGE_RESPONSE),
	                ==,
	                GW_DM2_CONTENT_TYPE_RESPONSE);
	for (guint i = GW_DM2_CMD_HGET; i <= GW_DM2_CMD_UNSUB; i++) {
		g_assert_true(gw_dm2_cmd_type_from_string(gw_dm2_cmd_type_to_string(i), &type));
		g_assert_cmpint(type, ==, i);
	}
	g_assert_false(gw_dm2_cmd_type_from_string("Get", &type));
	g_assert_true(gw_dm2_mark_is_valid("indeterminate"));
	g_assert_false(gw_dm2_mark_is_valid("Warning"));
	g_assert_cmpstr(GW_DM2_HEADER_DEVID, ==, "OMADM-DevID");
}

/* X-GwMO-Alert-ID: what the gateway builds parses back to the same identities by position;
 * malformed values, indexes outside the package, twice the same index, bad identities refused */
static void
test_alert_ids(void)
{
	const gchar *ids[] = {NULL, "gwmo-alert:0a1b-7", NULL, "gwmo-alert:0a1b-9"};
	const gchar *bad[] = {"1",
	                      "x=gwmo-alert:a",
	                      "4=gwmo-alert:a",
	                      "-1=a",
	                      "1=",
	                      "1=a b",
	                      "1=a,1=b",
	                      "1=a;b",
	                      "99999999999=a"};
	g_autofree gchar *header = gw_dm2_alert_ids_to_header(ids, G_N_ELEMENTS(ids));
	g_autoptr(GPtrArray) parsed = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *long_id = g_strnfill(GW_DM2_ALERT_ID_MAX_LEN + 1, 'a');

	g_assert_cmpstr(header, ==, "1=gwmo-alert:0a1b-7, 3=gwmo-alert:0a1b-9");
	parsed = gw_dm2_alert_ids_parse(header, G_N_ELEMENTS(ids), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(parsed->len, ==, G_N_ELEMENTS(ids));
	for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
		g_assert_cmpstr(g_ptr_array_index(parsed, i), ==, ids[i]);
	g_clear_pointer(&parsed, g_ptr_array_unref);
	/* none: no header, and no header means no identities */
	g_assert_null(gw_dm2_alert_ids_to_header((const gchar *const[]){NULL, NULL}, 2));
	parsed = gw_dm2_alert_ids_parse(NULL, 2, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(parsed->len, ==, 2);
	g_assert_null(g_ptr_array_index(parsed, 0));
	g_clear_pointer(&parsed, g_ptr_array_unref);
	/* HTTP list syntax: empty elements and spaces are fine */
	parsed = gw_dm2_alert_ids_parse(" , 1=a:b ,,", 2, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(g_ptr_array_index(parsed, 1), ==, "a:b");
	g_clear_pointer(&parsed, g_ptr_array_unref);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		parsed = gw_dm2_alert_ids_parse(bad[i], 4, &error);
		g_assert_null(parsed);
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_clear_error(&error);
	}
	g_assert_false(gw_dm2_alert_id_is_valid(long_id));
	g_assert_false(gw_dm2_alert_id_is_valid(""));
	g_assert_false(gw_dm2_alert_id_is_valid("a=b"));
	g_assert_true(gw_dm2_alert_id_is_valid("gwmo-alert:00ff-1"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dm2/golden/pkg1", test_golden_pkg1);
	g_test_add_func("/dm2/golden/pkg2", test_golden_pkg2);
	g_test_add_func("/dm2/golden/pkg3", test_golden_pkg3);
	g_test_add_func("/dm2/build", test_build);
	g_test_add_func("/dm2/escape", test_escape);
	g_test_add_func("/dm2/refusals", test_refusals);
	g_test_add_func("/dm2/numbers", test_numbers);
	g_test_add_func("/dm2/bounds", test_bounds);
	g_test_add_func("/dm2/generate-refusals", test_generate_refusals);
	g_test_add_func("/dm2/names", test_names);
	g_test_add_func("/dm2/alert-ids", test_alert_ids);
	return g_test_run();
}
