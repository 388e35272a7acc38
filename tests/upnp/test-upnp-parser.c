/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The UPnP adapter's parsers alone (plugins/upnp/gw-upnp-description.c): descriptions, SCPDs,
 * node names, value types and Exec argument data, bounded against what a LAN host may send.
 */

#include "config.h"

#include <gw-plugin-sdk.h>
#include <string.h>

#include "gw-upnp-description.h"

static gchar *
read_data(const gchar *name, gsize *len)
{
	g_autofree gchar *path = g_build_filename(g_getenv("GWMO_TEST_DATA"), "upnp", name, NULL);
	g_autoptr(GError) error = NULL;
	gchar *data = NULL;

	g_file_get_contents(path, &data, len, &error);
	g_assert_no_error(error);
	return data;
}

static GwUpnpScpd *
scpd_from_file(const gchar *name)
{
	GwUpnpLimits limits;
	gsize len = 0;
	g_autofree gchar *data = read_data(name, &len);
	g_autoptr(GError) error = NULL;
	GwUpnpScpd *scpd;

	gw_upnp_limits_init(&limits);
	scpd = gw_upnp_scpd_parse(data, len, &limits, &error);
	g_assert_no_error(error);
	return scpd;
}

static void
test_description(void)
{
	GwUpnpLimits limits;
	gsize len = 0;
	g_autofree gchar *template = read_data("light-desc.xml.in", &len);
	g_autoptr(GString) doc = g_string_new(template);
	g_autoptr(GwUpnpDescription) desc = NULL;
	g_autoptr(GError) error = NULL;
	GwUpnpServiceDesc *s;
	xmlDoc *doc_tree;

	gw_upnp_limits_init(&limits);
	g_string_replace(doc, "@UDN@", "uuid:1234-abcd", 0);
	g_string_replace(doc, "@NAME@", "Kitchen\tlight", 0);
	g_string_replace(doc, "@SERIAL@", "42", 0);
	desc = gw_upnp_description_parse(
	    doc->str, doc->len, "http://10.0.0.7:4444/desc.xml", &limits, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(desc->udn, ==, "uuid:1234-abcd");
	g_assert_cmpstr(desc->device_type, ==, "urn:schemas-upnp-org:device:DimmableLight:1");
	/* control characters never reach the tree */
	g_assert_cmpstr(desc->friendly_name, ==, "Kitchen light");
	g_assert_cmpstr(desc->manufacturer, ==, "gwmo test peers");
	g_assert_cmpstr(desc->model_name, ==, "gwmo-test-light");
	g_assert_cmpstr(desc->model_number, ==, "1.0");
	g_assert_cmpstr(desc->url_base, ==, "http://10.0.0.7:4444/desc.xml");
	g_assert_cmpuint(desc->services->len, ==, 3);
	s = g_ptr_array_index(desc->services, 0);
	g_assert_cmpstr(s->node_name, ==, "SwitchPower");
	g_assert_cmpstr(s->service_id, ==, "urn:upnp-org:serviceId:SwitchPower");
	g_assert_cmpstr(s->scpd_url, ==, "http://10.0.0.7:4444/SwitchPower-scpd.xml");
	g_assert_cmpstr(s->control_url, ==, "http://10.0.0.7:4444/SwitchPower/Control");
	g_assert_cmpstr(s->event_url, ==, "http://10.0.0.7:4444/SwitchPower/Events");
	g_assert_cmpstr(s->udn, ==, "uuid:1234-abcd");
	g_assert_nonnull(s->element);
	s = g_ptr_array_index(desc->services, 2);
	g_assert_cmpstr(s->node_name, ==, "TestControl");
	doc_tree = gw_upnp_description_steal_doc(desc);
	g_assert_nonnull(doc_tree);
	g_assert_null(desc->doc);
	xmlFreeDoc(doc_tree);
}

static GwUpnpDescription *
parse_desc(const gchar *doc, GError **error)
{
	GwUpnpLimits limits;

	gw_upnp_limits_init(&limits);
	return gw_upnp_description_parse(
	    doc, strlen(doc), "http://192.168.1.20:80/d/desc.xml", &limits, error);
}

#define ROOT(device) \
	"<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">" device "</root>"
#define ROOT_OPEN "<?xml version=\"1.0\"?><root><device><UDN>uuid:w</UDN><serviceList>"
#define SVC(id, scpd, ctl, ev)                                                \
	"<service><serviceType>urn:x:service:S:1</serviceType><serviceId>" id \
	"</serviceId><SCPDURL>" scpd "</SCPDURL><controlURL>" ctl "</controlURL>" ev "</service>"

static void
test_description_refused(void)
{
	const struct {
		const gchar *doc;
		const gchar *why;
	} cases[] = {
	    {"", "empty"},
	    {"<root><device>", "not XML"},
	    {"<?xml version=\"1.0\"?><!DOCTYPE root [<!ENTITY a \"x\">]><root><device>"
	     "<UDN>uuid:a</UDN></device></root>",
	     "DOCTYPE"},
	    {"<?xml version=\"1.0\"?><!DOCTYPE root SYSTEM \"http://192.0.2.1/x.dtd\"><root/>",
	     "DOCTYPE"},
	    {"<scpd/>", "no <root>"},
	    {ROOT(""), "no <device>"},
	    {ROOT("<device/>"), "no valid UDN"},
	    {ROOT("<device><UDN>urn:a</UDN></device>"), "no valid UDN"},
	    {ROOT("<device><UDN>uuid:a/../b</UDN></device>"), "no valid UDN"},
	    {ROOT("<device><UDN>uuid:</UDN></device>"), "no valid UDN"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GwUpnpDescription) desc = parse_desc(cases[i].doc, &error);
		g_assert_null(desc);
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_nonnull(strstr(error->message, cases[i].why));
	}
}

/* URLs resolve against URLBase only when it stays on the location's host; services whose
 * URLs leave it are left out; names are sanitised and unique */
static void
test_description_services(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwUpnpDescription) desc = parse_desc(
	    ROOT(
	        "<URLBase>http://192.168.1.20:8080/base/</URLBase>"
	        "<device><UDN>uuid:dev</UDN><serviceList>" SVC(
	            "urn:upnp-org:serviceId:Switch.Power:1", "scpd.xml", "/ctl", "")
	            SVC("urn:upnp-org:serviceId:Switch.Power:1",
	                "scpd.xml",
	                "ctl",
	                "<eventSubURL>ev</eventSubURL>") SVC("urn:x:serviceId:Far",
	                                                     "http://192.0.2.1/s.xml",
	                                                     "/c",
	                                                     "")
	                SVC("urn:x:serviceId:FarCtl", "/s.xml", "https://192.168.1.20/c", "") SVC(
	                    "urn:x:serviceId:FarEvent",
	                    "/s.xml",
	                    "/c",
	                    "<eventSubURL>//192.0.2.1/e</eventSubURL>")
	                    SVC("",
	                        "/s.xml",
	                        "/c",
	                        "") "</serviceList>"
	                            "<deviceList><device><UDN>uuid:embedded</UDN><serviceList>" SVC(
	                                "plain",
	                                "/e.xml",
	                                "/ec",
	                                "") "</serviceList></device></deviceList>"
	                                    "</device>"),
	    &error);
	GwUpnpServiceDesc *s;

	g_assert_no_error(error);
	g_assert_cmpstr(desc->url_base, ==, "http://192.168.1.20:8080/base/");
	g_assert_cmpuint(desc->services->len, ==, 3);
	s = g_ptr_array_index(desc->services, 0);
	g_assert_cmpstr(s->node_name, ==, "Switch_Power_1");
	g_assert_cmpstr(s->scpd_url, ==, "http://192.168.1.20:8080/base/scpd.xml");
	g_assert_cmpstr(s->control_url, ==, "http://192.168.1.20:8080/ctl");
	g_assert_null(s->event_url);
	s = g_ptr_array_index(desc->services, 1);
	g_assert_cmpstr(s->node_name, ==, "Switch_Power_1_2");
	g_assert_cmpstr(s->event_url, ==, "http://192.168.1.20:8080/base/ev");
	/* an embedded device's services are the root's too, with their own UDN */
	s = g_ptr_array_index(desc->services, 2);
	g_assert_cmpstr(s->node_name, ==, "plain");
	g_assert_cmpstr(s->udn, ==, "uuid:embedded");
}

static void
test_description_bounds(void)
{
	GwUpnpLimits limits;
	g_autoptr(GString) wide = g_string_new(ROOT_OPEN);
	g_autoptr(GString) deep = g_string_new(NULL);
	g_autoptr(GString) big = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwUpnpDescription) desc = NULL;

	gw_upnp_limits_init(&limits);
	for (guint i = 0; i < limits.max_services + 1; i++)
		g_string_append(wide, SVC("urn:x:serviceId:S", "/s.xml", "/c", ""));
	g_string_append(wide, "</serviceList></device></root>");
	desc = gw_upnp_description_parse(wide->str, wide->len, "http://10.0.0.1/", &limits, &error);
	g_assert_null(desc);
	g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "more than 32 services"));
	g_clear_error(&error);

	/* embedded devices below max_embedded are left out, not refused */
	g_string_append(deep, "<root><device><UDN>uuid:d0</UDN>");
	for (guint i = 1; i <= 6; i++)
		g_string_append_printf(
		    deep,
		    "<serviceList>" SVC("urn:x:serviceId:S%u",
		                        "/s",
		                        "/c",
		                        "") "</serviceList><deviceList><device><UDN>uuid:d%u</UDN>",
		    i,
		    i);
	for (guint i = 1; i <= 6; i++)
		g_string_append(deep, "</device></deviceList>");
	g_string_append(deep, "</device></root>");
	desc = gw_upnp_description_parse(deep->str, deep->len, "http://10.0.0.1/", &limits, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(desc->services->len, ==, limits.max_embedded + 1);
	g_clear_pointer(&desc, gw_upnp_description_free);

	g_string_append(big, "<root><device><UDN>uuid:big</UDN>");
	while (big->len <= limits.max_document)
		g_string_append(big, "<x/>");
	g_string_append(big, "</device></root>");
	desc = gw_upnp_description_parse(big->str, big->len, "http://10.0.0.1/", &limits, &error);
	g_assert_null(desc);
	g_assert_nonnull(strstr(error->message, "over the cap"));
	g_clear_error(&error);

	limits.max_document = 1024 * 1024;
	desc = gw_upnp_description_parse(big->str, big->len, "http://10.0.0.1/", &limits, &error);
	g_assert_null(desc);
	g_assert_nonnull(strstr(error->message, "elements"));
	g_clear_error(&error);

	desc = gw_upnp_description_parse("<root/>", 7, "ftp://10.0.0.1/", &limits, &error);
	g_assert_null(desc);
	g_assert_nonnull(strstr(error->message, "not an http URL"));
}

static void
test_scpd(void)
{
	g_autoptr(GwUpnpScpd) scpd = scpd_from_file("TestControl-scpd.xml");
	g_autoptr(GwUpnpScpd) power = scpd_from_file("SwitchPower-scpd.xml");
	const GwUpnpAction *echo = gw_upnp_scpd_find_action(scpd, "Echo");
	const GwUpnpVariable *v;
	const GwUpnpAction *getter;
	guint index = 99;

	g_assert_nonnull(echo);
	g_assert_cmpuint(echo->n_in, ==, 2);
	g_assert_cmpuint(echo->n_out, ==, 2);
	g_assert_cmpstr(echo->node_name, ==, "Echo");
	v = gw_upnp_scpd_find_variable(scpd, "A_ARG_TYPE_Number");
	g_assert_cmpstr(v->data_type, ==, "i4");
	g_assert_false(v->send_events);
	/* LastText: no action without in-arguments returns it */
	g_assert_null(gw_upnp_scpd_find_getter(scpd, "LastText", NULL));
	getter = gw_upnp_scpd_find_getter(power, "Target", &index);
	g_assert_cmpstr(getter->name, ==, "GetTarget");
	g_assert_cmpuint(index, ==, 0);
	v = gw_upnp_scpd_find_variable(power, "Status");
	g_assert_true(v->send_events);
	g_assert_cmpstr(gw_upnp_data_type_format(v->data_type), ==, "int");
}

static void
test_scpd_refused(void)
{
	GwUpnpLimits limits;
	g_autoptr(GString) many = g_string_new("<scpd><actionList>");
	g_autoptr(GString) args = g_string_new("<scpd><actionList><action><name>A</name>"
	                                       "<argumentList>");
	g_autoptr(GString) vars = g_string_new("<scpd><serviceStateTable>");
	const gchar *bad[] = {
	    "<root/>",
	    "<scpd><actionList><action><name>A</name></action><action><name>A</name></action>"
	    "</actionList></scpd>",
	    "<scpd><actionList><action><name>A</name><argumentList><argument><name>x</name>"
	    "<direction>sideways</direction></argument></argumentList></action></actionList>"
	    "</scpd>",
	    "<scpd><actionList><action><name>A</name><argumentList><argument><name>x</name>"
	    "<direction>in</direction></argument><argument><name>x</name><direction>out"
	    "</direction></argument></argumentList></action></actionList></scpd>",
	};

	gw_upnp_limits_init(&limits);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GwUpnpScpd) scpd =
		    gw_upnp_scpd_parse(bad[i], strlen(bad[i]), &limits, &error);
		g_assert_null(scpd);
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	}
	for (guint i = 0; i <= limits.max_actions; i++)
		g_string_append_printf(many, "<action><name>A%u</name></action>", i);
	g_string_append(many, "</actionList></scpd>");
	for (guint i = 0; i <= limits.max_arguments; i++)
		g_string_append_printf(
		    args, "<argument><name>a%u</name><direction>in</direction></argument>", i);
	g_string_append(args, "</argumentList></action></actionList></scpd>");
	for (guint i = 0; i <= limits.max_variables; i++)
		g_string_append_printf(vars, "<stateVariable><name>v%u</name></stateVariable>", i);
	g_string_append(vars, "</serviceStateTable></scpd>");
	{
		GString *docs[] = {many, args, vars};
		const gchar *why[] = {"actions", "arguments", "state variables"};
		for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(GwUpnpScpd) scpd =
			    gw_upnp_scpd_parse(docs[i]->str, docs[i]->len, &limits, &error);
			g_assert_null(scpd);
			g_assert_nonnull(strstr(error->message, why[i]));
		}
	}
}

static void
test_node_names(void)
{
	g_autoptr(GHashTable) taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree gchar *long_name = g_strnfill(100, 'a');
	const struct {
		const gchar *in;
		gboolean service_id;
		const gchar *out;
	} cases[] = {
	    {"urn:upnp-org:serviceId:SwitchPower", TRUE, "SwitchPower"},
	    {"urn:upnp-org:serviceId:SwitchPower", TRUE, "SwitchPower_2"},
	    {"urn:upnp-org:serviceId:SwitchPower.0001", TRUE, "SwitchPower_0001"},
	    {"SetTarget", FALSE, "SetTarget"},
	    {"../..", FALSE, "_____"},
	    {"a/b?c#d", FALSE, "a_b_c_d"},
	    {"", FALSE, "Node"},
	    {"urn:x:serviceId:", TRUE, "Service"},
	    {"caf\xc3\xa9", FALSE, "caf__"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *name = gw_upnp_node_name(cases[i].in, cases[i].service_id, taken);
		g_assert_cmpstr(name, ==, cases[i].out);
	}
	{
		g_autofree gchar *name = gw_upnp_node_name(long_name, FALSE, NULL);
		g_assert_cmpuint(strlen(name), ==, 64);
	}
}

static void
test_values(void)
{
	const struct {
		const gchar *type;
		const gchar *value;
		gboolean ok;
	} cases[] = {
	    {"ui1", "0", TRUE},         {"ui1", "255", TRUE},         {"ui1", "256", FALSE},
	    {"ui1", "-1", FALSE},       {"ui1", "+3", TRUE},          {"ui1", "", FALSE},
	    {"ui1", "1.5", FALSE},      {"ui2", "65535", TRUE},       {"ui4", "4294967296", FALSE},
	    {"i1", "-128", TRUE},       {"i1", "-129", FALSE},        {"i4", "-7", TRUE},
	    {"i4", "seven", FALSE},     {"int", "-9000000000", TRUE}, {"boolean", "1", TRUE},
	    {"boolean", "yes", TRUE},   {"boolean", "TRUE", TRUE},    {"boolean", "2", FALSE},
	    {"r8", "1.5e3", TRUE},      {"r8", "nan", FALSE},         {"r8", " 1", FALSE},
	    {"char", "\xc3\xa9", TRUE}, {"char", "ab", FALSE},        {"string", "a\tb\n", TRUE},
	    {"string", "a\x01", FALSE}, {"string", "\xff", FALSE},    {"uri", "http://x/", TRUE},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		{
			g_autofree gchar *shown = g_strescape(cases[i].value, NULL);
			g_test_message("%s %s", cases[i].type, shown);
		}
		g_assert_cmpint(
		    gw_upnp_value_is_valid(cases[i].type, cases[i].value), ==, cases[i].ok);
	}
	g_assert_cmpstr(gw_upnp_boolean_normalize("true"), ==, "1");
	g_assert_cmpstr(gw_upnp_boolean_normalize("No"), ==, "0");
	g_assert_null(gw_upnp_boolean_normalize("on"));
	g_assert_cmpstr(gw_upnp_data_type_format("r4"), ==, "float");
	g_assert_cmpstr(gw_upnp_data_type_format("uuid"), ==, "chr");
}

static void
test_args(void)
{
	g_autoptr(GwUpnpScpd) scpd = scpd_from_file("TestControl-scpd.xml");
	const GwUpnpAction *echo = gw_upnp_scpd_find_action(scpd, "Echo");
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) values = NULL;
	g_autofree gchar *encoded = NULL;
	const gchar *names[] = {"Out Text", "n", NULL};
	const gchar *texts[] = {"a&b=c d\xc3\xa9/+", "-1", NULL};
	const gchar *bad[] = {
	    "InText=a",                     /* missing */
	    "InText=a&InNumber=1&InText=b", /* twice */
	    "InText=a&InNumber=1&Other=2",  /* unknown */
	    "InText=a&InNumber=x",          /* not an i4 */
	    "InText=%G1&InNumber=1",        /* escape */
	    "InText=%00&InNumber=1",
	    "InText=%C3&InNumber=1", /* not UTF-8 */
	    "InNumber=1&InText=%C3", /* ... after a good one (found by fuzzing: it leaked) */
	    "InNumber=1&In\xbaText=a",
	    "InText&InNumber=1", /* no "=" */
	};

	values = gw_upnp_args_parse(scpd, echo, "InNumber=%2B5&&InText=a+b%26c", 29, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(values[0], ==, "a b&c");
	g_assert_cmpstr(values[1], ==, "+5");
	g_assert_null(values[2]);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_auto(GStrv) v = gw_upnp_args_parse(scpd, echo, bad[i], strlen(bad[i]), &error);
		g_assert_null(v);
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
		g_clear_error(&error);
	}
	{
		/* a NUL inside the data, and data over 64 KiB */
		g_autofree gchar *huge = g_strnfill(65537, 'a');
		g_auto(GStrv) v =
		    gw_upnp_args_parse(scpd, echo, "InText=a\0&InNumber=1", 20, &error);
		g_assert_null(v);
		g_clear_error(&error);
		v = gw_upnp_args_parse(scpd, echo, huge, strlen(huge), &error);
		g_assert_null(v);
		g_clear_error(&error);
	}
	{
		const GwUpnpAction *stall = gw_upnp_scpd_find_action(scpd, "Stall");
		g_auto(GStrv) v = gw_upnp_args_parse(scpd, stall, "DelayMs=4294967295", 18, &error);
		g_assert_no_error(error);
		g_clear_pointer(&v, g_strfreev);
		v = gw_upnp_args_parse(scpd, stall, "DelayMs=4294967296", 18, &error);
		g_assert_null(v);
		g_clear_error(&error);
	}
	encoded = gw_upnp_args_encode(names, texts);
	g_assert_cmpstr(encoded, ==, "Out%20Text=a%26b%3Dc%20d%C3%A9%2F%2B&n=-1");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/upnp/parser/description", test_description);
	g_test_add_func("/upnp/parser/description-refused", test_description_refused);
	g_test_add_func("/upnp/parser/description-services", test_description_services);
	g_test_add_func("/upnp/parser/description-bounds", test_description_bounds);
	g_test_add_func("/upnp/parser/scpd", test_scpd);
	g_test_add_func("/upnp/parser/scpd-refused", test_scpd_refused);
	g_test_add_func("/upnp/parser/node-names", test_node_names);
	g_test_add_func("/upnp/parser/values", test_values);
	g_test_add_func("/upnp/parser/args", test_args);
	return g_test_run();
}
