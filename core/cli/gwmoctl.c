/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmoctl: the command-line face of the org.gwmo.Gateway1 D-Bus API.
 */

#define G_LOG_DOMAIN "GwCtl"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "gw-dm-types.h"

#define GW_DBUS_NAME	  "org.gwmo.Gateway1"
#define GW_DBUS_PATH	  "/org/gwmo/Gateway1"
#define GW_DBUS_MANAGER	  "org.gwmo.Gateway1.Manager"
#define GW_CALL_TIMEOUT	  30000

/* exit codes, documented in docs/man/gwmoctl.1.md */
enum {
	GW_EXIT_OK = 0,
	GW_EXIT_FAILED = 1,
	GW_EXIT_USAGE = 2,
	GW_EXIT_UNREACHABLE = 3,
	GW_EXIT_NOT_FOUND = 4,
};

typedef struct {
	gboolean session;
	gboolean system;
	gboolean json;
	GDBusConnection *connection;
} GwCtl;

typedef struct {
	const gchar *name;
	const gchar *args;
	const gchar *summary;
	gint (*func)(GwCtl *ctl, gint argc, gchar **argv);
} GwCtlCommand;

static gint
gw_ctl_error(GError *error, const gchar *what)
{
	g_autofree gchar *remote = g_dbus_error_get_remote_error(error);
	gint code = GW_EXIT_FAILED;

	if (error->domain == G_IO_ERROR || error->domain == G_DBUS_ERROR) {
		if (g_strcmp0(remote, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
		    g_strcmp0(remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0 ||
		    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
		    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
		    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) {
			g_printerr(_("gwmoctl: gwmod is not running on this bus (%s)\n"),
				   error->message);
			return GW_EXIT_UNREACHABLE;
		}
	}
	if (g_strcmp0(remote, "org.gwmo.Gateway1.Error.NotFound") == 0)
		code = GW_EXIT_NOT_FOUND;
	g_dbus_error_strip_remote_error(error);
	if (remote != NULL)
		g_printerr(_("gwmoctl: %s (%s)\n"), error->message, remote);
	else
		g_printerr(_("gwmoctl: %s: %s\n"), what, error->message);
	return code;
}

static gboolean
gw_ctl_connect(GwCtl *ctl, GError **error)
{
	GBusType bus_type = G_BUS_TYPE_SYSTEM;

	if (ctl->session || (!ctl->system && g_strcmp0(g_getenv("GWMO_BUS"), "session") == 0))
		bus_type = G_BUS_TYPE_SESSION;
	ctl->connection = g_bus_get_sync(bus_type, NULL, error);
	return ctl->connection != NULL;
}

static GVariant *
gw_ctl_call(GwCtl *ctl,
	    const gchar *method,
	    GVariant *parameters,
	    const gchar *reply_type,
	    GError **error)
{
	if (ctl->connection == NULL && !gw_ctl_connect(ctl, error)) {
		g_variant_unref(g_variant_ref_sink(parameters));
		return NULL;
	}
	return g_dbus_connection_call_sync(ctl->connection,
					   GW_DBUS_NAME,
					   GW_DBUS_PATH,
					   GW_DBUS_MANAGER,
					   method,
					   parameters,
					   reply_type != NULL ? G_VARIANT_TYPE(reply_type) : NULL,
					   G_DBUS_CALL_FLAGS_NONE,
					   GW_CALL_TIMEOUT,
					   NULL,
					   error);
}

static void
gw_ctl_print_json(JsonBuilder *builder)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	g_autofree gchar *text = NULL;

	json_generator_set_pretty(gen, TRUE);
	json_generator_set_root(gen, root);
	text = json_generator_to_data(gen, NULL);
	g_print("%s\n", text);
}

/* the value as text for humans: strings raw, bytes as base64, arrays one per line */
static gchar *
gw_ctl_value_to_text(GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return g_variant_dup_string(value, NULL);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTESTRING)) {
		gsize len = 0;
		const guint8 *data = g_variant_get_fixed_array(value, &len, 1);
		return g_base64_encode(data, len);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_autofree const gchar **strv = g_variant_get_strv(value, NULL);
		return g_strjoinv("\n", (gchar **)strv);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return g_strdup(g_variant_get_boolean(value) ? "true" : "false");
	return g_variant_print(value, FALSE);
}

static void
gw_ctl_json_add_value(JsonBuilder *builder, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTESTRING)) {
		g_autofree gchar *text = gw_ctl_value_to_text(value);
		json_builder_add_string_value(builder, text);
		return;
	}
	json_builder_add_value(builder, json_gvariant_serialize(value));
}

/* ---- commands ---- */

static gint
gw_ctl_cmd_status(GwCtl *ctl, gint argc, gchar **argv)
{
	const gchar *props[] =
	    {"Version", "GwID", "DefaultMode", "Tainted", "StateFile", "ListenURIs", "PendingAlerts"};
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonBuilder) builder = json_builder_new();

	if (argc != 0) {
		g_printerr(_("gwmoctl: status takes no arguments\n"));
		return GW_EXIT_USAGE;
	}
	if (ctl->connection == NULL && !gw_ctl_connect(ctl, &error))
		return gw_ctl_error(error, _("cannot connect to the bus"));
	json_builder_begin_object(builder);
	for (guint i = 0; i < G_N_ELEMENTS(props); i++) {
		g_autoptr(GVariant) reply = NULL;
		g_autoptr(GVariant) value = NULL;
		g_autofree gchar *text = NULL;
		reply = g_dbus_connection_call_sync(ctl->connection,
						    GW_DBUS_NAME,
						    GW_DBUS_PATH,
						    "org.freedesktop.DBus.Properties",
						    "Get",
						    g_variant_new("(ss)", GW_DBUS_MANAGER, props[i]),
						    G_VARIANT_TYPE("(v)"),
						    G_DBUS_CALL_FLAGS_NONE,
						    GW_CALL_TIMEOUT,
						    NULL,
						    &error);
		if (reply == NULL)
			return gw_ctl_error(error, _("cannot read the gateway status"));
		g_variant_get(reply, "(v)", &value);
		json_builder_set_member_name(builder, props[i]);
		gw_ctl_json_add_value(builder, value);
		text = gw_ctl_value_to_text(value);
		if (!ctl->json)
			g_print("%-12s %s\n", props[i], text);
	}
	json_builder_end_object(builder);
	if (ctl->json)
		gw_ctl_print_json(builder);
	return GW_EXIT_OK;
}

static gint
gw_ctl_cmd_get(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	const gchar *format = NULL;
	const gchar *type = NULL;

	if (argc != 1) {
		g_printerr(_("gwmoctl: get takes one URI\n"));
		return GW_EXIT_USAGE;
	}
	reply = gw_ctl_call(ctl, "GetNode", g_variant_new("(s)", argv[0]), "(ssv)", &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	g_variant_get(reply, "(&s&sv)", &format, &type, &value);
	if (ctl->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "uri");
		json_builder_add_string_value(builder, argv[0]);
		json_builder_set_member_name(builder, "format");
		json_builder_add_string_value(builder, format);
		json_builder_set_member_name(builder, "type");
		json_builder_add_string_value(builder, type);
		json_builder_set_member_name(builder, "value");
		gw_ctl_json_add_value(builder, value);
		json_builder_end_object(builder);
		gw_ctl_print_json(builder);
	} else {
		g_autofree gchar *text = gw_ctl_value_to_text(value);
		g_print("%s\n", text);
	}
	return GW_EXIT_OK;
}

static GVariant *
gw_ctl_parse_value(const gchar *format, const gchar *text, GError **error)
{
	GwDmFormat fmt = gw_dm_format_from_string(format);

	switch (fmt) {
	case GW_DM_FORMAT_INT: {
		gint64 v = 0;
		if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &v, error))
			return NULL;
		return g_variant_new_int64(v);
	}
	case GW_DM_FORMAT_BOOL:
		if (g_strcmp0(text, "true") == 0)
			return g_variant_new_boolean(TRUE);
		if (g_strcmp0(text, "false") == 0)
			return g_variant_new_boolean(FALSE);
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_ARGUMENT,
			    _("a bool is true or false, not '%s'"),
			    text);
		return NULL;
	case GW_DM_FORMAT_FLOAT: {
		gchar *end = NULL;
		gdouble d = g_ascii_strtod(text, &end);
		if (end == text || *end != '\0') {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_ARGUMENT,
				    _("'%s' is not a number"),
				    text);
			return NULL;
		}
		return g_variant_new_double(d);
	}
	case GW_DM_FORMAT_BIN: {
		gsize len = 0;
		g_autofree guchar *data = g_base64_decode(text, &len);
		return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, data, len, 1);
	}
	case GW_DM_FORMAT_INVALID:
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_ARGUMENT,
			    _("unknown format '%s' (node, chr, int, bool, bin, b64, xml, date, "
			      "time, float, null)"),
			    format);
		return NULL;
	case GW_DM_FORMAT_NODE:
	case GW_DM_FORMAT_CHR:
	case GW_DM_FORMAT_B64:
	case GW_DM_FORMAT_XML:
	case GW_DM_FORMAT_DATE:
	case GW_DM_FORMAT_TIME:
	case GW_DM_FORMAT_NULL:
	default:
		return g_variant_new_string(text != NULL ? text : "");
	}
}

static gchar *opt_set_format = NULL;

static gint
gw_ctl_cmd_set(GwCtl *ctl, gint argc, gchar **argv)
{
	const gchar *format = opt_set_format != NULL ? opt_set_format : "chr";
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariant *value;

	if (argc != 2 && !(argc == 1 && g_strcmp0(format, "node") == 0)) {
		g_printerr(_("gwmoctl: set takes a URI and a value\n"));
		return GW_EXIT_USAGE;
	}
	value = gw_ctl_parse_value(format, argc == 2 ? argv[1] : "", &error);
	if (value == NULL) {
		g_printerr("gwmoctl: %s\n", error->message);
		return GW_EXIT_USAGE;
	}
	reply = gw_ctl_call(ctl,
			    "SetNode",
			    g_variant_new("(ssv)", argv[0], format, value),
			    "()",
			    &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	return GW_EXIT_OK;
}

static gint
gw_ctl_cmd_rm(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	if (argc != 1) {
		g_printerr(_("gwmoctl: rm takes one URI\n"));
		return GW_EXIT_USAGE;
	}
	reply = gw_ctl_call(ctl, "DeleteNode", g_variant_new("(s)", argv[0]), "()", &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	return GW_EXIT_OK;
}

static gint
gw_ctl_cmd_ls(GwCtl *ctl, gint argc, gchar **argv)
{
	const gchar *uri = argc > 0 ? argv[0] : ".";
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree const gchar **children = NULL;

	if (argc > 1) {
		g_printerr(_("gwmoctl: ls takes at most one URI\n"));
		return GW_EXIT_USAGE;
	}
	reply = gw_ctl_call(ctl, "ListChildren", g_variant_new("(s)", uri), "(as)", &error);
	if (reply == NULL)
		return gw_ctl_error(error, uri);
	g_variant_get(reply, "(^a&s)", &children);
	if (ctl->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_array(builder);
		for (guint i = 0; children[i] != NULL; i++)
			json_builder_add_string_value(builder, children[i]);
		json_builder_end_array(builder);
		gw_ctl_print_json(builder);
	} else {
		for (guint i = 0; children[i] != NULL; i++)
			g_print("%s\n", children[i]);
	}
	return GW_EXIT_OK;
}

/* ---- tree: pretty print of the TNDS the daemon exports ---- */

static xmlNode *
gw_ctl_xml_child(xmlNode *node, const gchar *name)
{
	for (xmlNode *c = node != NULL ? node->children : NULL; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && g_strcmp0((const gchar *)c->name, name) == 0)
			return c;
	}
	return NULL;
}

static gchar *
gw_ctl_xml_text(xmlNode *node)
{
	xmlChar *content;
	gchar *text;
	if (node == NULL)
		return NULL;
	content = xmlNodeGetContent(node);
	text = g_strdup((const gchar *)content);
	xmlFree(content);
	return text;
}

static gchar *
gw_ctl_xml_format(xmlNode *node)
{
	xmlNode *fmt = gw_ctl_xml_child(gw_ctl_xml_child(node, "RTProperties"), "Format");
	for (xmlNode *c = fmt != NULL ? fmt->children : NULL; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			return g_strdup((const gchar *)c->name);
	}
	return NULL;
}

static void
gw_ctl_tree_print_node(xmlNode *node, guint depth, JsonBuilder *builder)
{
	xmlNode *name_node = gw_ctl_xml_child(node, "NodeName");
	g_autofree gchar *name = gw_ctl_xml_text(name_node);
	g_autofree gchar *value = gw_ctl_xml_text(gw_ctl_xml_child(node, "Value"));
	g_autofree gchar *format = gw_ctl_xml_format(node);
	gboolean has_children = gw_ctl_xml_child(node, "Node") != NULL;

	if (builder != NULL) {
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "name");
		json_builder_add_string_value(builder, name != NULL ? name : "");
		json_builder_set_member_name(builder, "format");
		json_builder_add_string_value(builder,
					      format != NULL ? format
					      : has_children ? "node"
							     : "chr");
		if (value != NULL) {
			json_builder_set_member_name(builder, "value");
			json_builder_add_string_value(builder, value);
		}
		if (has_children) {
			json_builder_set_member_name(builder, "children");
			json_builder_begin_array(builder);
		}
	} else {
		g_autofree gchar *indent = g_strnfill(depth * 2, ' ');
		if (value != NULL)
			g_print("%s%s = %s\n", indent, name != NULL ? name : "?", value);
		else if (format != NULL && g_strcmp0(format, "node") != 0)
			g_print("%s%s (%s)\n", indent, name != NULL ? name : "?", format);
		else
			g_print("%s%s/\n", indent, name != NULL ? name : "?");
	}
	for (xmlNode *c = node->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && g_strcmp0((const gchar *)c->name, "Node") == 0)
			gw_ctl_tree_print_node(c, depth + 1, builder);
	}
	if (builder != NULL) {
		if (has_children)
			json_builder_end_array(builder);
		json_builder_end_object(builder);
	}
}

static gboolean opt_tree_tnds = FALSE;

static gint
gw_ctl_cmd_tree(GwCtl *ctl, gint argc, gchar **argv)
{
	const gchar *uri = argc > 0 ? argv[0] : ".";
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonBuilder) builder = NULL;
	const gchar *xml = NULL;
	xmlDoc *doc;
	xmlNode *root;

	if (argc > 1) {
		g_printerr(_("gwmoctl: tree takes at most one URI\n"));
		return GW_EXIT_USAGE;
	}
	reply = gw_ctl_call(ctl, "ExportTree", g_variant_new("(s)", uri), "(s)", &error);
	if (reply == NULL)
		return gw_ctl_error(error, uri);
	g_variant_get(reply, "(&s)", &xml);
	if (opt_tree_tnds) {
		g_print("%s\n", xml);
		return GW_EXIT_OK;
	}
	doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	if (doc == NULL) {
		g_printerr(_("gwmoctl: the daemon sent TNDS that does not parse\n"));
		return GW_EXIT_FAILED;
	}
	root = xmlDocGetRootElement(doc);
	if (ctl->json) {
		builder = json_builder_new();
		json_builder_begin_array(builder);
	}
	for (xmlNode *c = root != NULL ? root->children : NULL; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && g_strcmp0((const gchar *)c->name, "Node") == 0)
			gw_ctl_tree_print_node(c, 0, builder);
	}
	xmlFreeDoc(doc);
	if (builder != NULL) {
		json_builder_end_array(builder);
		gw_ctl_print_json(builder);
	}
	return GW_EXIT_OK;
}

static gchar *opt_bootstrap_parent = NULL;
static gboolean opt_bootstrap_replace = FALSE;

static gint
gw_ctl_cmd_bootstrap(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *data = NULL;
	gsize len = 0;

	if (argc != 1) {
		g_printerr(_("gwmoctl: bootstrap takes one TNDS file\n"));
		return GW_EXIT_USAGE;
	}
	if (!g_file_get_contents(argv[0], &data, &len, &error)) {
		g_printerr("gwmoctl: %s\n", error->message);
		return GW_EXIT_FAILED;
	}
	if (!g_utf8_validate(data, (gssize)len, NULL) || strlen(data) != len) {
		g_printerr(_("gwmoctl: %s is not UTF-8 text\n"), argv[0]);
		return GW_EXIT_FAILED;
	}
	reply = gw_ctl_call(ctl,
			    "Bootstrap",
			    g_variant_new("(sss)",
					  data,
					  opt_bootstrap_parent != NULL ? opt_bootstrap_parent : ".",
					  opt_bootstrap_replace ? "replace" : ""),
			    "()",
			    &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	if (!ctl->json)
		g_print(_("Bootstrap from %s applied.\n"), argv[0]);
	return GW_EXIT_OK;
}

static gint
gw_ctl_cmd_session(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint messages = 0;
	guint commands = 0;

	if (argc != 2 || g_strcmp0(argv[0], "start") != 0) {
		g_printerr(_("gwmoctl: use 'session start SERVER-ID'\n"));
		return GW_EXIT_USAGE;
	}
	argv++;
	reply = gw_ctl_call(ctl, "StartSession", g_variant_new("(s)", argv[0]), "(uu)", &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	g_variant_get(reply, "(uu)", &messages, &commands);
	if (ctl->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "server");
		json_builder_add_string_value(builder, argv[0]);
		json_builder_set_member_name(builder, "messages");
		json_builder_add_int_value(builder, messages);
		json_builder_set_member_name(builder, "commands");
		json_builder_add_int_value(builder, commands);
		json_builder_end_object(builder);
		gw_ctl_print_json(builder);
	} else {
		g_print(_("Session with %s done: %u messages, %u commands executed.\n"),
			argv[0],
			messages,
			commands);
	}
	return GW_EXIT_OK;
}

static gchar *opt_alert_source = NULL;
static gchar *opt_alert_format = NULL;
static gchar *opt_alert_mark = NULL;
static gchar *opt_alert_correlator = NULL;

static gint
gw_ctl_cmd_alert(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder b;
	guint id = 0;

	if (argc != 2 && argc != 3) {
		g_printerr(_("gwmoctl: alert takes a ServerID, a type and optional data\n"));
		return GW_EXIT_USAGE;
	}
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Type", g_variant_new_string(argv[1]));
	if (argc == 3)
		g_variant_builder_add(&b, "{sv}", "Data", g_variant_new_string(argv[2]));
	if (opt_alert_source != NULL)
		g_variant_builder_add(&b, "{sv}", "Source", g_variant_new_string(opt_alert_source));
	if (opt_alert_format != NULL)
		g_variant_builder_add(&b, "{sv}", "Format", g_variant_new_string(opt_alert_format));
	if (opt_alert_mark != NULL)
		g_variant_builder_add(&b, "{sv}", "Mark", g_variant_new_string(opt_alert_mark));
	if (opt_alert_correlator != NULL)
		g_variant_builder_add(&b,
				      "{sv}",
				      "Correlator",
				      g_variant_new_string(opt_alert_correlator));
	reply = gw_ctl_call(ctl,
			    "QueueAlert",
			    g_variant_new("(sa{sv})", argv[0], &b),
			    "(u)",
			    &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	g_variant_get(reply, "(u)", &id);
	if (ctl->json)
		g_print("{ \"id\" : %u }\n", id);
	else
		g_print(_("Alert %u queued for %s.\n"), id, argv[0]);
	return GW_EXIT_OK;
}

static const GwCtlCommand gw_ctl_commands[] = {
    {"status", "", N_("Show the gateway's version, GwID, default mode and state file"),
     gw_ctl_cmd_status},
    {"get", "URI", N_("Print the value of a node (an interior node lists its children)"),
     gw_ctl_cmd_get},
    {"set", "URI [VALUE]", N_("Create or replace a node"), gw_ctl_cmd_set},
    {"rm", "URI", N_("Delete a node and everything below it"), gw_ctl_cmd_rm},
    {"ls", "[URI]", N_("List the children of an interior node"), gw_ctl_cmd_ls},
    {"tree", "[URI]", N_("Print a subtree (default: the whole tree)"), gw_ctl_cmd_tree},
    {"bootstrap", "FILE", N_("Load a TNDS file (e.g. DMAcc entries) into the tree"),
     gw_ctl_cmd_bootstrap},
    {"session", "start SERVER-ID", N_("Open a management session with a DM Server and wait for it"),
     gw_ctl_cmd_session},
    {"alert", "SERVER-ID TYPE [DATA]",
     N_("Queue a Generic Alert for a DM Server (sent in its next session)"), gw_ctl_cmd_alert},
};

static gchar *
gw_ctl_commands_description(void)
{
	GString *s = g_string_new(_("Commands:"));
	g_string_append_c(s, '\n');
	for (guint i = 0; i < G_N_ELEMENTS(gw_ctl_commands); i++) {
		g_autofree gchar *head = g_strdup_printf("%s %s",
							 gw_ctl_commands[i].name,
							 gw_ctl_commands[i].args);
		g_string_append_printf(s, "  %-22s %s\n", head, _(gw_ctl_commands[i].summary));
	}
	g_string_append(s, _("\nRun 'gwmoctl COMMAND --help' for the options of a command.\n"));
	return g_string_free(s, FALSE);
}

int
main(int argc, char **argv)
{
	GwCtl ctl = {0};
	gboolean opt_version = FALSE;
	const GwCtlCommand *cmd = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *description = NULL;
	g_autofree gchar *param = NULL;
	gint rc;
	const GOptionEntry global_entries[] = {
	    {"session", 0, 0, G_OPTION_ARG_NONE, &ctl.session,
	     N_("Talk to gwmod on the session bus"), NULL},
	    {"system", 0, 0, G_OPTION_ARG_NONE, &ctl.system,
	     N_("Talk to gwmod on the system bus (default)"), NULL},
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &ctl.json, N_("Print JSON"), NULL},
	    {NULL}};
	const GOptionEntry main_entries[] = {
	    {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"),
	     NULL},
	    {NULL}};
	const GOptionEntry set_entries[] = {
	    {"format", 'f', 0, G_OPTION_ARG_STRING, &opt_set_format,
	     N_("DDF format of the node: chr (default), int, bool, float, bin (base64 "
		"argument), b64, xml, date, time, null, node"),
	     "FORMAT"},
	    {NULL}};
	const GOptionEntry tree_entries[] = {
	    {"tnds", 0, 0, G_OPTION_ARG_NONE, &opt_tree_tnds, N_("Print the raw TNDS XML"), NULL},
	    {NULL}};
	const GOptionEntry alert_entries[] = {
	    {"source", 0, 0, G_OPTION_ARG_STRING, &opt_alert_source,
	     N_("LocURI the alert is about (default \".\")"), "URI"},
	    {"format", 'f', 0, G_OPTION_ARG_STRING, &opt_alert_format,
	     N_("Format of the data (default chr)"), "FORMAT"},
	    {"mark", 0, 0, G_OPTION_ARG_STRING, &opt_alert_mark, N_("Severity mark"), "MARK"},
	    {"correlator", 0, 0, G_OPTION_ARG_STRING, &opt_alert_correlator,
	     N_("Correlator of an earlier Exec"), "ID"},
	    {NULL}};
	const GOptionEntry bootstrap_entries[] = {
	    {"parent", 'p', 0, G_OPTION_ARG_STRING, &opt_bootstrap_parent,
	     N_("Where top-level nodes without a Path go (default \".\")"), "URI"},
	    {"replace", 'r', 0, G_OPTION_ARG_NONE, &opt_bootstrap_replace,
	     N_("Overwrite existing leaves"), NULL},
	    {NULL}};

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	/* find the command: the first argument that is not an option */
	for (gint i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		for (guint j = 0; j < G_N_ELEMENTS(gw_ctl_commands); j++) {
			if (g_strcmp0(argv[i], gw_ctl_commands[j].name) == 0)
				cmd = &gw_ctl_commands[j];
		}
		if (cmd == NULL) {
			g_printerr(_("gwmoctl: unknown command '%s' (see gwmoctl --help)\n"),
				   argv[i]);
			return GW_EXIT_USAGE;
		}
		/* drop the command word; what remains are its options and arguments */
		memmove(&argv[i], &argv[i + 1], sizeof(gchar *) * (gsize)(argc - i));
		argc--;
		break;
	}

	if (cmd == NULL) {
		context = g_option_context_new(_("COMMAND [ARGUMENT…]"));
		description = gw_ctl_commands_description();
		g_option_context_set_description(context, description);
		g_option_context_add_main_entries(context, main_entries, GETTEXT_PACKAGE);
	} else {
		param = g_strdup_printf("%s %s", cmd->name, cmd->args);
		context = g_option_context_new(param);
		g_option_context_set_summary(context, _(cmd->summary));
		if (cmd->func == gw_ctl_cmd_set)
			g_option_context_add_main_entries(context, set_entries, GETTEXT_PACKAGE);
		else if (cmd->func == gw_ctl_cmd_tree)
			g_option_context_add_main_entries(context, tree_entries, GETTEXT_PACKAGE);
		else if (cmd->func == gw_ctl_cmd_alert)
			g_option_context_add_main_entries(context, alert_entries, GETTEXT_PACKAGE);
		else if (cmd->func == gw_ctl_cmd_bootstrap)
			g_option_context_add_main_entries(context,
							  bootstrap_entries,
							  GETTEXT_PACKAGE);
	}
	g_option_context_add_main_entries(context, global_entries, GETTEXT_PACKAGE);
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("gwmoctl: %s\n", error->message);
		return GW_EXIT_USAGE;
	}
	if (opt_version) {
		g_print("gwmoctl %s\n", PACKAGE_VERSION);
		return GW_EXIT_OK;
	}
	if (cmd == NULL) {
		g_autofree gchar *help = g_option_context_get_help(context, TRUE, NULL);
		g_printerr("%s", help);
		return GW_EXIT_USAGE;
	}
	if (ctl.session && ctl.system) {
		g_printerr(_("gwmoctl: --session and --system exclude each other\n"));
		return GW_EXIT_USAGE;
	}
	rc = cmd->func(&ctl, argc - 1, argv + 1);
	g_clear_object(&ctl.connection);
	g_free(opt_set_format);
	g_free(opt_bootstrap_parent);
	g_free(opt_alert_source);
	g_free(opt_alert_format);
	g_free(opt_alert_mark);
	g_free(opt_alert_correlator);
	return rc;
}
