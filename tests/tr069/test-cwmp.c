/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The TR-069 adapter's CWMP SOAP codec (plugins/tr069/gw-cwmp.c) alone: what CPEs send, read
 * liberally and within bounds; what the ACS sends, strictly, in the CPE's namespace version.
 */

#include "config.h"

#include <gw-plugin-sdk.h>
#include <string.h>

#include "gw-cwmp.h"

static gchar *
read_data(const gchar *name, gsize *len)
{
	g_autofree gchar *path = g_build_filename(g_getenv("GWMO_TEST_DATA"), "tr069", name, NULL);
	g_autoptr(GError) error = NULL;
	gchar *data = NULL;

	g_file_get_contents(path, &data, len, &error);
	g_assert_no_error(error);
	return data;
}

static GwCwmpMessage *
parse_ok(const gchar *data)
{
	g_autoptr(GError) error = NULL;
	GwCwmpMessage *msg = gw_cwmp_parse(data, strlen(data), &error);

	g_assert_no_error(error);
	g_assert_nonnull(msg);
	return msg;
}

/* a 1-2 Inform with prefixes of its own and whitespace around values: every field read */
static void
test_inform(void)
{
	gsize len = 0;
	g_autofree gchar *data = read_data("inform-boot.xml", &len);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwCwmpMessage) msg = gw_cwmp_parse(data, len, &error);
	g_autofree gchar *id = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(msg->kind, ==, GW_CWMP_MSG_INFORM);
	g_assert_cmpuint(msg->version, ==, 2);
	g_assert_cmpstr(msg->id, ==, "1234");
	g_assert_cmpstr(msg->manufacturer, ==, "Example Networks");
	g_assert_cmpstr(msg->serial_number, ==, "SN0001");
	id = gw_cwmp_device_id(msg);
	g_assert_cmpstr(id, ==, "00D09E-HG%20100-SN0001");
	g_assert_cmpuint(msg->events->len, ==, 2);
	g_assert_true(gw_cwmp_message_has_event(msg, "1 BOOT"));
	g_assert_true(gw_cwmp_message_has_event(msg, "M Reboot"));
	g_assert_false(gw_cwmp_message_has_event(msg, "0 BOOTSTRAP"));
	g_assert_cmpstr(g_ptr_array_index(msg->command_keys, 1), ==, "k1");
	g_assert_cmpuint(msg->max_envelopes, ==, 1);
	g_assert_cmpuint(msg->params->len, ==, 4);
	g_assert_cmpstr(
	    gw_cwmp_message_lookup(msg, "Device.DeviceInfo.SoftwareVersion"), ==, "2.3.4");
	g_assert_cmpstr(
	    gw_cwmp_message_lookup(msg, "Device.ManagementServer.ParameterKey"), ==, "");
	g_assert_null(gw_cwmp_message_lookup(msg, "Device.Nope"));
}

/* default namespace, no prefixes, a 1-0 fault whose SetParameterValuesFault code wins */
static void
test_fault(void)
{
	gsize len = 0;
	g_autofree gchar *data = read_data("fault-spv.xml", &len);
	g_autoptr(GwCwmpMessage) msg = parse_ok(data);

	g_assert_cmpint(msg->kind, ==, GW_CWMP_MSG_FAULT);
	g_assert_cmpuint(msg->version, ==, 0);
	g_assert_cmpstr(msg->id, ==, "7");
	g_assert_cmpuint(msg->fault_code, ==, 9008);
	g_assert_cmpstr(msg->fault_parameter, ==, "Device.DeviceInfo.SoftwareVersion");
	g_assert_cmpuint(gw_cwmp_fault_to_status(msg->fault_code), ==, 405);
	g_assert_cmpuint(gw_cwmp_fault_to_status(9005), ==, 404);
	g_assert_cmpuint(gw_cwmp_fault_to_status(9000), ==, 501);
	g_assert_cmpuint(gw_cwmp_fault_to_status(9007), ==, 400);
	g_assert_cmpuint(gw_cwmp_fault_to_status(9002), ==, 500);
	g_assert_cmpuint(gw_cwmp_fault_to_status(9850), ==, 500);
}

static void
test_responses(void)
{
	g_autoptr(GwCwmpMessage) empty = parse_ok(" \r\n");
	g_autoptr(GwCwmpMessage) add =
	    parse_ok("<e:Envelope xmlns:e='http://schemas.xmlsoap.org/soap/envelope/' "
	             "xmlns:c='urn:dslforum-org:cwmp-1-3'><e:Body><c:AddObjectResponse>"
	             "<InstanceNumber> 12 </InstanceNumber><Status>1</Status></c:AddObjectResponse>"
	             "</e:Body></e:Envelope>");
	g_autoptr(GwCwmpMessage) tc = parse_ok(
	    "<Envelope><Body><TransferComplete xmlns='urn:dslforum-org:cwmp-1-1'><CommandKey>dl"
	    "</CommandKey><FaultStruct><FaultCode>9010</FaultCode><FaultString>download failed"
	    "</FaultString></FaultStruct></TransferComplete></Body></Envelope>");
	g_autoptr(GwCwmpMessage) other = parse_ok(
	    "<Envelope><Body><Kicked xmlns='urn:dslforum-org:cwmp-1-0'/></Body></Envelope>");
	g_autoptr(GError) error = NULL;
	g_autoptr(GwCwmpMessage) bad = NULL;

	g_assert_cmpint(empty->kind, ==, GW_CWMP_MSG_EMPTY);
	g_assert_cmpint(add->kind, ==, GW_CWMP_MSG_ADD_OBJECT_RESPONSE);
	g_assert_cmpuint(add->version, ==, 3);
	g_assert_cmpuint(add->instance_number, ==, 12);
	g_assert_cmpint(add->status, ==, 1);
	g_assert_cmpint(tc->kind, ==, GW_CWMP_MSG_TRANSFER_COMPLETE);
	g_assert_cmpstr(tc->command_key, ==, "dl");
	g_assert_cmpuint(tc->fault_code, ==, 9010);
	g_assert_cmpuint(tc->version, ==, 1);
	g_assert_cmpint(other->kind, ==, GW_CWMP_MSG_OTHER);
	g_assert_cmpstr(other->method, ==, "Kicked");

	bad = gw_cwmp_parse("<Envelope><Body/></Envelope>", 28, &error);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_null(bad);
	g_clear_error(&error);
	bad = gw_cwmp_parse("<Envelope><Body><Inform/></Body></Envelope>", 43, &error);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_clear_error(&error);
	bad = gw_cwmp_parse("<Envelope><Body>", 16, &error);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
}

/* each bound refused before libxml2 parses: depth, elements, attributes, size, DOCTYPE */
static void
test_bounds(void)
{
	g_autoptr(GString) deep = g_string_new(NULL);
	g_autoptr(GString) wide = g_string_new("<a>");
	g_autoptr(GString) attrs = g_string_new("<a");
	g_autofree gchar *huge = g_malloc0(GW_CWMP_MAX_MESSAGE + 2);
	const gchar *doctype = "<!DOCTYPE a [<!ENTITY b 'c'>]><a>&b;</a>";
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < GW_CWMP_MAX_DEPTH + 1; i++)
		g_string_append(deep, "<a>");
	for (guint i = 0; i < GW_CWMP_MAX_DEPTH + 1; i++)
		g_string_append(deep, "</a>");
	g_assert_false(gw_cwmp_prescan(deep->str, deep->len, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_clear_error(&error);
	/* one level less passes the scan */
	g_assert_true(gw_cwmp_prescan(deep->str + 3, deep->len - 7, NULL));

	for (guint i = 0; i < GW_CWMP_MAX_ELEMENTS; i++)
		g_string_append(wide, "<b/>");
	g_string_append(wide, "</a>");
	g_assert_false(gw_cwmp_prescan(wide->str, wide->len, &error));
	g_clear_error(&error);

	for (guint i = 0; i < GW_CWMP_MAX_ATTRIBUTES + 1; i++)
		g_string_append_printf(attrs, " x%u='>'", i);
	g_string_append(attrs, "/>");
	g_assert_false(gw_cwmp_prescan(attrs->str, attrs->len, &error));
	g_clear_error(&error);

	memset(huge, ' ', GW_CWMP_MAX_MESSAGE + 1);
	huge[0] = '<';
	g_assert_null(gw_cwmp_parse(huge, GW_CWMP_MAX_MESSAGE + 1, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_clear_error(&error);

	g_assert_null(gw_cwmp_parse(doctype, strlen(doctype), &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
}

/* what the ACS sends: cwmp:ID with mustUnderstand, the CPE's version, escaped text; and it
 * parses back */
static void
test_build(void)
{
	const gchar *names[] = {"Device.DeviceInfo.SoftwareVersion", "Device.<&>", NULL};
	GwCwmpSetParam set[] = {{"Device.X.Y", "a<b", NULL},
	                        {"Device.X.Z", "7", "xsd:unsignedInt"}};
	GwCwmpDownload dl = {"k", "1 Firmware Upgrade Image", "http://h/i?a=1&b=2", NULL, NULL, 9};
	g_autofree gchar *gpv = gw_cwmp_build_get_parameter_values(1, "id&1", names);
	g_autofree gchar *spv = gw_cwmp_build_set_parameter_values(3, "s", set, 2, "pk");
	g_autofree gchar *ir = gw_cwmp_build_inform_response(0, "9", 0);
	g_autofree gchar *reboot = gw_cwmp_build_reboot(4, "r", "ck");
	g_autofree gchar *download = gw_cwmp_build_download(2, "d", &dl);
	g_autofree gchar *add = gw_cwmp_build_add_object(2, "a", "Device.NAT.PortMapping.", "");
	g_autofree gchar *del =
	    gw_cwmp_build_delete_object(2, "a", "Device.NAT.PortMapping.3.", "");
	g_autoptr(GwCwmpMessage) back = NULL;

	g_assert_nonnull(strstr(gpv, "xmlns:cwmp=\"urn:dslforum-org:cwmp-1-1\""));
	g_assert_nonnull(strstr(gpv, "<cwmp:ID SOAP-ENV:mustUnderstand=\"1\">id&amp;1</cwmp:ID>"));
	g_assert_nonnull(strstr(gpv, "<string>Device.&lt;&amp;&gt;</string>"));
	g_assert_nonnull(strstr(gpv, "xsd:string[2]"));
	g_assert_nonnull(strstr(spv, "cwmp-1-3"));
	g_assert_nonnull(strstr(spv, "<Value xsi:type=\"xsd:string\">a&lt;b</Value>"));
	g_assert_nonnull(strstr(spv, "<Value xsi:type=\"xsd:unsignedInt\">7</Value>"));
	g_assert_nonnull(strstr(spv, "<ParameterKey>pk</ParameterKey>"));
	g_assert_nonnull(strstr(ir, "cwmp-1-0"));
	g_assert_nonnull(strstr(ir, "<MaxEnvelopes>1</MaxEnvelopes>"));
	g_assert_nonnull(strstr(reboot, "<cwmp:Reboot><CommandKey>ck</CommandKey>"));
	g_assert_nonnull(strstr(download, "<URL>http://h/i?a=1&amp;b=2</URL>"));
	g_assert_nonnull(strstr(download, "<FileSize>9</FileSize>"));
	g_assert_nonnull(strstr(add, "<cwmp:AddObject><ObjectName>Device.NAT.PortMapping."));
	g_assert_nonnull(strstr(del, "<cwmp:DeleteObject>"));

	back = parse_ok(gpv);
	g_assert_cmpint(back->kind, ==, GW_CWMP_MSG_OTHER);
	g_assert_cmpstr(back->method, ==, "GetParameterValues");
	g_assert_cmpuint(back->version, ==, 1);
	g_assert_cmpstr(back->id, ==, "id&1");
}

static void
test_paths(void)
{
	struct {
		const gchar *uri;
		const gchar *path;
		gboolean interior;
	} ok[] = {
	    {"./TR069/Device/DeviceInfo/SoftwareVersion",
	     "Device.DeviceInfo.SoftwareVersion",
	     FALSE},
	    {"./TR069/InternetGatewayDevice/LANDevice/1/",
	     "InternetGatewayDevice.LANDevice.1.",
	     TRUE},
	};
	const gchar *bad[] = {"./UPnP/X", "./TR069/", "./TR069/a//b", "./TR069/a.b/c", "TR069/a"};

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		gboolean interior = !ok[i].interior;
		g_autofree gchar *path = gw_cwmp_uri_to_path(ok[i].uri, &interior);
		g_autofree gchar *uri = gw_cwmp_path_to_uri(ok[i].path);
		g_autofree gchar *trimmed = g_strdup(ok[i].uri);

		g_assert_cmpstr(path, ==, ok[i].path);
		g_assert_cmpint(interior, ==, ok[i].interior);
		if (ok[i].interior)
			trimmed[strlen(trimmed) - 1] = '\0';
		g_assert_cmpstr(uri, ==, trimmed);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree gchar *path = gw_cwmp_uri_to_path(bad[i], NULL);
		g_assert_null(path);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cwmp/inform", test_inform);
	g_test_add_func("/cwmp/fault", test_fault);
	g_test_add_func("/cwmp/responses", test_responses);
	g_test_add_func("/cwmp/bounds", test_bounds);
	g_test_add_func("/cwmp/build", test_build);
	g_test_add_func("/cwmp/paths", test_paths);
	return g_test_run();
}
