/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmoctl: the command-line face of the org.gwmo.Gateway1 D-Bus API.
 */

#define G_LOG_DOMAIN "GwCtl"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwmoctl.h"

gint
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

gboolean
gw_ctl_connect(GwCtl *ctl, GError **error)
{
	GBusType bus_type = G_BUS_TYPE_SYSTEM;

	if (ctl->session || (!ctl->system && g_strcmp0(g_getenv("GWMO_BUS"), "session") == 0))
		bus_type = G_BUS_TYPE_SESSION;
	ctl->connection = g_bus_get_sync(bus_type, NULL, error);
	return ctl->connection != NULL;
}

GVariant *
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

void
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
gchar *
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

void
gw_ctl_json_add_value(JsonBuilder *builder, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTESTRING)) {
		g_autofree gchar *text = gw_ctl_value_to_text(value);
		json_builder_add_string_value(builder, text);
		return;
	}
	json_builder_add_value(builder, json_gvariant_serialize(value));
}

/* ---- waiting ---- */

void
gw_ctl_progress_init(GwCtlProgress *progress, GwCtl *ctl)
{
	progress->quiet = ctl->json;
	progress->tty = !ctl->json && isatty(STDOUT_FILENO);
	progress->last_percent = -1;
	progress->last_detail = NULL;
	progress->last_width = 0;
}

void
gw_ctl_progress_show(GwCtlProgress *progress, guint percent, const gchar *detail)
{
	percent = MIN(percent, 100);
	if (progress->quiet)
		return;
	if (progress->tty) {
		/* like apt and fwupdmgr: one line, redrawn in place, the old text blanked */
		g_autoptr(GString) line = g_string_new("[");
		guint filled = percent * 30 / 100;
		glong width;
		for (guint i = 0; i < 30; i++)
			g_string_append(line, i < filled ? "#" : "-");
		g_string_append_printf(line, "] %3u%%", percent);
		if (detail != NULL && detail[0] != '\0')
			g_string_append_printf(line, "  %s", detail);
		width = g_utf8_strlen(line->str, -1);
		for (glong w = width; w < progress->last_width; w++)
			g_string_append_c(line, ' ');
		g_print("\r%s", line->str);
		fflush(stdout);
		progress->last_width = width;
	} else if ((gint)percent != progress->last_percent ||
	           g_strcmp0(detail, progress->last_detail) != 0) {
		if (detail != NULL && detail[0] != '\0')
			g_print("%u%%  %s\n", percent, detail);
		else
			g_print("%u%%\n", percent);
	}
	progress->last_percent = (gint)percent;
	g_free(progress->last_detail);
	progress->last_detail = g_strdup(detail);
}

void
gw_ctl_progress_end(GwCtlProgress *progress)
{
	if (progress->tty && progress->last_width > 0) {
		g_print("\n");
		fflush(stdout);
	}
	progress->last_width = 0;
	g_clear_pointer(&progress->last_detail, g_free);
}

static gboolean
gw_ctl_interrupt_cb(gpointer user_data)
{
	gboolean *flag = user_data;
	*flag = TRUE;
	g_main_context_wakeup(NULL);
	return G_SOURCE_CONTINUE;
}

void
gw_ctl_interrupt_watch(gboolean *flag, guint ids[2])
{
	ids[0] = g_unix_signal_add(SIGINT, gw_ctl_interrupt_cb, flag);
	ids[1] = g_unix_signal_add(SIGTERM, gw_ctl_interrupt_cb, flag);
}

void
gw_ctl_interrupt_unwatch(guint ids[2])
{
	for (guint i = 0; i < 2; i++) {
		if (ids[i] != 0)
			g_source_remove(ids[i]);
		ids[i] = 0;
	}
}

/* ---- commands ---- */

static gint
gw_ctl_cmd_status(GwCtl *ctl, gint argc, gchar **argv)
{
	const gchar *props[] = {"Version",
	                        "GwID",
	                        "DefaultMode",
	                        "Tainted",
	                        "StateFile",
	                        "ListenURIs",
	                        "PendingAlerts"};
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
		reply =
		    g_dbus_connection_call_sync(ctl->connection,
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

/* the OMA DM formats SetNode takes, and the variant type each is sent as */
typedef enum {
	GW_CTL_FORMAT_INVALID,
	GW_CTL_FORMAT_STRING, /* node, chr, b64, xml, date, time, null */
	GW_CTL_FORMAT_INT,
	GW_CTL_FORMAT_BOOL,
	GW_CTL_FORMAT_FLOAT,
	GW_CTL_FORMAT_BIN,
} GwCtlFormat;

static GwCtlFormat
gw_ctl_format_from_string(const gchar *format)
{
	static const struct {
		const gchar *name;
		GwCtlFormat format;
	} formats[] = {
	    {"node", GW_CTL_FORMAT_STRING},
	    {"chr", GW_CTL_FORMAT_STRING},
	    {"b64", GW_CTL_FORMAT_STRING},
	    {"xml", GW_CTL_FORMAT_STRING},
	    {"date", GW_CTL_FORMAT_STRING},
	    {"time", GW_CTL_FORMAT_STRING},
	    {"null", GW_CTL_FORMAT_STRING},
	    {"int", GW_CTL_FORMAT_INT},
	    {"bool", GW_CTL_FORMAT_BOOL},
	    {"float", GW_CTL_FORMAT_FLOAT},
	    {"bin", GW_CTL_FORMAT_BIN},
	};
	for (guint i = 0; format != NULL && i < G_N_ELEMENTS(formats); i++) {
		if (g_strcmp0(formats[i].name, format) == 0)
			return formats[i].format;
	}
	return GW_CTL_FORMAT_INVALID;
}

static GVariant *
gw_ctl_parse_value(const gchar *format, const gchar *text, GError **error)
{
	switch (gw_ctl_format_from_string(format)) {
	case GW_CTL_FORMAT_INT: {
		gint64 v = 0;
		if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &v, error))
			return NULL;
		return g_variant_new_int64(v);
	}
	case GW_CTL_FORMAT_BOOL:
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
	case GW_CTL_FORMAT_FLOAT: {
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
	case GW_CTL_FORMAT_BIN: {
		gsize len = 0;
		g_autofree guchar *data = g_base64_decode(text, &len);
		return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, data, len, 1);
	}
	case GW_CTL_FORMAT_INVALID:
		g_set_error(error,
		            G_IO_ERROR,
		            G_IO_ERROR_INVALID_ARGUMENT,
		            _("unknown format '%s' (node, chr, int, bool, bin, b64, xml, date, "
		              "time, float, null)"),
		            format);
		return NULL;
	case GW_CTL_FORMAT_STRING:
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
	reply = gw_ctl_call(
	    ctl, "SetNode", g_variant_new("(ssv)", argv[0], format, value), "()", &error);
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
		/* one object per child, like every other listing */
		json_builder_begin_array(builder);
		for (guint i = 0; children[i] != NULL; i++) {
			g_autofree gchar *child_uri =
			    g_strcmp0(uri, ".") == 0 ? g_strdup_printf("./%s", children[i])
			                             : g_strdup_printf("%s/%s", uri, children[i]);
			json_builder_begin_object(builder);
			json_builder_set_member_name(builder, "Name");
			json_builder_add_string_value(builder, children[i]);
			json_builder_set_member_name(builder, "URI");
			json_builder_add_string_value(builder, child_uri);
			json_builder_end_object(builder);
		}
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
	doc =
	    xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
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
		g_variant_builder_add(
		    &b, "{sv}", "Correlator", g_variant_new_string(opt_alert_correlator));
	reply =
	    gw_ctl_call(ctl, "QueueAlert", g_variant_new("(sa{sv})", argv[0], &b), "(u)", &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	g_variant_get(reply, "(u)", &id);
	if (ctl->json)
		g_print("{ \"id\" : %u }\n", id);
	else
		g_print(_("Alert %u queued for %s.\n"), id, argv[0]);
	return GW_EXIT_OK;
}

/* ---- the inventory: devices and groups, through the ObjectManager ---- */

#define GW_DBUS_DEVICE "org.gwmo.Gateway1.Device"
#define GW_DBUS_GROUP "org.gwmo.Gateway1.Group"
#define GW_DBUS_SERVER "org.gwmo.Gateway1.Server"

void
gw_ctl_object_free(GwCtlObject *obj)
{
	g_free(obj->path);
	g_variant_unref(obj->props);
	g_free(obj);
}

/* objects named .../1, .../2, .../10 in numeric order, others after them by name */
static gint
gw_ctl_object_compare(gconstpointer a, gconstpointer b)
{
	const GwCtlObject *oa = *(const GwCtlObject *const *)a;
	const GwCtlObject *ob = *(const GwCtlObject *const *)b;
	const gchar *na = strrchr(oa->path, '/');
	const gchar *nb = strrchr(ob->path, '/');
	guint64 va = 0;
	guint64 vb = 0;
	gboolean numa = g_ascii_string_to_unsigned(na + 1, 10, 0, G_MAXUINT64, &va, NULL);
	gboolean numb = g_ascii_string_to_unsigned(nb + 1, 10, 0, G_MAXUINT64, &vb, NULL);

	if (numa && numb)
		return va < vb ? -1 : va > vb ? 1 : 0;
	if (numa != numb)
		return numa ? -1 : 1;
	return g_strcmp0(oa->path, ob->path);
}

/* (element-type GwCtlObject) the objects that implement @iface, sorted */
GPtrArray *
gw_ctl_list_objects(GwCtl *ctl, const gchar *iface, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) objects = NULL;
	g_autoptr(GPtrArray) result =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_ctl_object_free);
	GVariantIter iter;
	const gchar *path;
	GVariant *ifaces_raw;

	if (ctl->connection == NULL && !gw_ctl_connect(ctl, error))
		return NULL;
	reply = g_dbus_connection_call_sync(ctl->connection,
	                                    GW_DBUS_NAME,
	                                    GW_DBUS_PATH,
	                                    "org.freedesktop.DBus.ObjectManager",
	                                    "GetManagedObjects",
	                                    NULL,
	                                    G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    GW_CALL_TIMEOUT,
	                                    NULL,
	                                    error);
	if (reply == NULL)
		return NULL;
	objects = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, objects);
	while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &ifaces_raw)) {
		g_autoptr(GVariant) ifaces = ifaces_raw;
		GVariant *props = g_variant_lookup_value(ifaces, iface, G_VARIANT_TYPE("a{sv}"));
		GwCtlObject *obj;

		if (props == NULL)
			continue;
		obj = g_new0(GwCtlObject, 1);
		obj->path = g_strdup(path);
		obj->props = props;
		g_ptr_array_add(result, obj);
	}
	g_ptr_array_sort(result, gw_ctl_object_compare);
	return g_steal_pointer(&result);
}

/* the object whose @key property is @value, or NULL */
static GwCtlObject *
gw_ctl_find_object(GPtrArray *objects, const gchar *key, const gchar *value)
{
	for (guint i = 0; i < objects->len; i++) {
		GwCtlObject *obj = g_ptr_array_index(objects, i);
		const gchar *v = NULL;
		if (g_variant_lookup(obj->props, key, "&s", &v) && g_strcmp0(v, value) == 0)
			return obj;
	}
	return NULL;
}

gchar *
gw_ctl_prop_text(GVariant *props, const gchar *key)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(props, key, NULL);

	if (value == NULL)
		return g_strdup("");
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_autofree const gchar **strv = g_variant_get_strv(value, NULL);
		return g_strjoinv(",", (gchar **)strv);
	}
	return gw_ctl_value_to_text(value);
}

const gchar *
gw_ctl_mode_name(guint mode)
{
	switch (mode) {
	case 1:
		return "Transparent";
	case 2:
		return "Proxy";
	case 3:
		return "Adaptation";
	default:
		return "?";
	}
}

/* a table with a header line; cells are padded to the widest one of their column */
void
gw_ctl_print_table(const gchar *const *headers, GPtrArray *rows)
{
	guint ncols = g_strv_length((gchar **)headers);
	g_autofree glong *widths = g_new0(glong, ncols);

	for (guint c = 0; c < ncols; c++)
		widths[c] = g_utf8_strlen(headers[c], -1);
	for (guint r = 0; r < rows->len; r++) {
		gchar **row = g_ptr_array_index(rows, r);
		for (guint c = 0; c < ncols; c++)
			widths[c] = MAX(widths[c], g_utf8_strlen(row[c], -1));
	}
	for (guint r = 0; r <= rows->len; r++) {
		const gchar *const *row =
		    r == 0 ? headers : (const gchar *const *)g_ptr_array_index(rows, r - 1);
		g_autoptr(GString) line = g_string_new(NULL);
		for (guint c = 0; c < ncols; c++) {
			g_string_append(line, row[c]);
			if (c + 1 < ncols) {
				for (glong w = g_utf8_strlen(row[c], -1); w < widths[c] + 2; w++)
					g_string_append_c(line, ' ');
			}
		}
		g_print("%s\n", line->str);
	}
}

static void
gw_ctl_json_add_object(JsonBuilder *builder, GwCtlObject *obj)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value_raw;

	json_builder_begin_object(builder);
	/* every key but these is a D-Bus property; "Path" names the object too, for the
	 * scripts written before ObjectPath, unless the interface has a Path of its own (a
	 * plugin's file) */
	json_builder_set_member_name(builder, "ObjectPath");
	json_builder_add_string_value(builder, obj->path);
	if (!g_variant_lookup(obj->props, "Path", "&s", NULL)) {
		json_builder_set_member_name(builder, "Path");
		json_builder_add_string_value(builder, obj->path);
	}
	g_variant_iter_init(&iter, obj->props);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value_raw)) {
		g_autoptr(GVariant) value = value_raw;
		json_builder_set_member_name(builder, key);
		gw_ctl_json_add_value(builder, value);
	}
}

/* the objects of a listing (devices, groups) as one JSON array of their properties */
void
gw_ctl_print_objects_json(GPtrArray *objects)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	json_builder_begin_array(builder);
	for (guint i = 0; i < objects->len; i++) {
		gw_ctl_json_add_object(builder, g_ptr_array_index(objects, i));
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	gw_ctl_print_json(builder);
}

gint
gw_ctl_print_listing(GwCtl *ctl,
                     const gchar *iface,
                     const gchar *const *headers,
                     GwCtlRowFunc row_func,
                     gpointer user_data,
                     const gchar *what)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) objects = gw_ctl_list_objects(ctl, iface, &error);
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GPtrArray) translated = g_ptr_array_new();

	if (objects == NULL)
		return gw_ctl_error(error, what);
	if (ctl->json) {
		gw_ctl_print_objects_json(objects);
		return GW_EXIT_OK;
	}
	for (guint c = 0; headers[c] != NULL; c++)
		g_ptr_array_add(translated, (gpointer)_(headers[c]));
	g_ptr_array_add(translated, NULL);
	rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	for (guint i = 0; i < objects->len; i++) {
		gchar **row = row_func(g_ptr_array_index(objects, i), user_data);
		for (guint c = 0; row[c] != NULL; c++) {
			if (row[c][0] == '\0') {
				g_free(row[c]);
				row[c] = g_strdup("-");
			}
		}
		g_ptr_array_add(rows, row);
	}
	gw_ctl_print_table((const gchar *const *)translated->pdata, rows);
	return GW_EXIT_OK;
}

/* one column of a listing: a property of the objects */
typedef struct {
	const gchar *header;
	const gchar *prop;
} GwCtlColumn;

static gchar **
gw_ctl_columns_row(GwCtlObject *obj, gpointer user_data)
{
	const GwCtlColumn *columns = user_data;
	guint ncols = 0;
	gchar **row;

	while (columns[ncols].header != NULL)
		ncols++;
	row = g_new0(gchar *, ncols + 1);
	for (guint c = 0; c < ncols; c++) {
		guint32 mode = 0;
		if (g_strcmp0(columns[c].prop, "Mode") == 0 &&
		    g_variant_lookup(obj->props, "Mode", "u", &mode))
			row[c] = g_strdup(gw_ctl_mode_name(mode));
		else
			row[c] = gw_ctl_prop_text(obj->props, columns[c].prop);
	}
	return row;
}

/* the objects implementing @iface, a property per column */
static gint
gw_ctl_list_command(GwCtl *ctl,
                    gint argc,
                    const gchar *command,
                    const gchar *iface,
                    const GwCtlColumn *columns,
                    const gchar *what)
{
	g_autoptr(GPtrArray) headers = g_ptr_array_new();

	if (argc != 0) {
		g_printerr(_("gwmoctl: %s takes no arguments\n"), command);
		return GW_EXIT_USAGE;
	}
	for (guint c = 0; columns[c].header != NULL; c++)
		g_ptr_array_add(headers, (gpointer)columns[c].header);
	g_ptr_array_add(headers, NULL);
	return gw_ctl_print_listing(ctl,
	                            iface,
	                            (const gchar *const *)headers->pdata,
	                            gw_ctl_columns_row,
	                            (gpointer)columns,
	                            what);
}

static gint
gw_ctl_cmd_devices(GwCtl *ctl, gint argc, gchar **argv)
{
	static const GwCtlColumn columns[] = {{N_("DEVICEID"), "DeviceID"},
	                                      {N_("MODE"), "Mode"},
	                                      {N_("STATUS"), "Status"},
	                                      {N_("PROTOCOL"), "Protocol"},
	                                      {N_("ADAPTER"), "Adapter"},
	                                      {N_("ADDRESS"), "Address"},
	                                      {N_("LASTSEEN"), "LastSeen"},
	                                      {NULL, NULL}};
	return gw_ctl_list_command(
	    ctl, argc, "devices", GW_DBUS_DEVICE, columns, _("cannot list the devices"));
}

static gint
gw_ctl_cmd_servers(GwCtl *ctl, gint argc, gchar **argv)
{
	static const GwCtlColumn columns[] = {{N_("SERVERID"), "ServerID"},
	                                      {N_("ADDRESS"), "Address"},
	                                      {N_("AUTH"), "AuthType"},
	                                      {N_("INVENTORYALERT"), "InventoryAlert"},
	                                      {N_("LASTSESSION"), "LastSession"},
	                                      {N_("RESULT"), "LastSessionResult"},
	                                      {NULL, NULL}};
	return gw_ctl_list_command(
	    ctl, argc, "servers", GW_DBUS_SERVER, columns, _("cannot list the DM Server accounts"));
}

/* the nodes of a record, depth first; secrets (no Get) are marked, never read */
static void
gw_ctl_collect_nodes(GwCtl *ctl, const gchar *uri, const gchar *rel, GPtrArray *out)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *format = NULL;
	const gchar *type = NULL;

	reply = gw_ctl_call(ctl, "GetNode", g_variant_new("(s)", uri), "(ssv)", &error);
	if (reply == NULL) {
		/* a secret (no Get access type) or a node that went away meanwhile */
		if (rel[0] != '\0') {
			g_ptr_array_add(out, g_strdup(rel));
			g_ptr_array_add(out, NULL);
		}
		return;
	}
	g_variant_get(reply, "(&s&sv)", &format, &type, &value);
	if (g_strcmp0(format, "node") == 0) {
		g_autoptr(GVariant) children_reply = NULL;
		g_autofree const gchar **children = NULL;
		children_reply =
		    gw_ctl_call(ctl, "ListChildren", g_variant_new("(s)", uri), "(as)", NULL);
		if (children_reply == NULL)
			return;
		g_variant_get(children_reply, "(^a&s)", &children);
		for (guint i = 0; children[i] != NULL; i++) {
			g_autofree gchar *child_uri = g_strdup_printf("%s/%s", uri, children[i]);
			g_autofree gchar *child_rel =
			    rel[0] != '\0' ? g_strdup_printf("%s/%s", rel, children[i])
			                   : g_strdup(children[i]);
			gw_ctl_collect_nodes(ctl, child_uri, child_rel, out);
		}
		return;
	}
	g_ptr_array_add(out, g_strdup(rel));
	g_ptr_array_add(out, gw_ctl_value_to_text(value));
}

static gint
gw_ctl_cmd_device(GwCtl *ctl, gint argc, gchar **argv)
{
	const gchar *props[] = {
	    "DeviceID", "Protocol", "Adapter", "Mode", "Status", "Address", "LastSeen", "Trusted", "Groups"};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) devices = NULL;
	g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *name = NULL;
	g_autofree gchar *record_uri = NULL;
	GwCtlObject *obj;

	if (argc != 1) {
		g_printerr(_("gwmoctl: device takes one DeviceID\n"));
		return GW_EXIT_USAGE;
	}
	devices = gw_ctl_list_objects(ctl, GW_DBUS_DEVICE, &error);
	if (devices == NULL)
		return gw_ctl_error(error, _("cannot list the devices"));
	obj = gw_ctl_find_object(devices, "DeviceID", argv[0]);
	if (obj == NULL) {
		g_printerr(_("gwmoctl: no device %s\n"), argv[0]);
		return GW_EXIT_NOT_FOUND;
	}
	/* the record's node name is the last element of the object path */
	name = (gchar *)g_dbus_unescape_object_path(strrchr(obj->path, '/') + 1);
	if (name == NULL)
		name = g_strdup(strrchr(obj->path, '/') + 1);
	record_uri = g_strdup_printf("./GwMO/Inventory/Devices/%s", name);
	gw_ctl_collect_nodes(ctl, record_uri, "", nodes);

	if (ctl->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		gw_ctl_json_add_object(builder, obj);
		json_builder_set_member_name(builder, "URI");
		json_builder_add_string_value(builder, record_uri);
		json_builder_set_member_name(builder, "Nodes");
		json_builder_begin_object(builder);
		for (guint i = 0; i + 1 < nodes->len; i += 2) {
			const gchar *value = g_ptr_array_index(nodes, i + 1);
			json_builder_set_member_name(builder, g_ptr_array_index(nodes, i));
			if (value != NULL)
				json_builder_add_string_value(builder, value);
			else
				json_builder_add_null_value(builder);
		}
		json_builder_end_object(builder);
		json_builder_end_object(builder);
		gw_ctl_print_json(builder);
		return GW_EXIT_OK;
	}
	g_print("%-10s %s\n", "Path", obj->path);
	g_print("%-10s %s\n", "URI", record_uri);
	for (guint i = 0; i < G_N_ELEMENTS(props); i++) {
		g_autofree gchar *text = NULL;
		if (g_strcmp0(props[i], "Mode") == 0) {
			guint32 mode = 0;
			g_variant_lookup(obj->props, "Mode", "u", &mode);
			text = g_strdup_printf("%u (%s)", mode, gw_ctl_mode_name(mode));
		} else {
			text = gw_ctl_prop_text(obj->props, props[i]);
		}
		g_print("%-10s %s\n", props[i], text);
	}
	g_print("%s\n", _("Nodes:"));
	for (guint i = 0; i + 1 < nodes->len; i += 2) {
		const gchar *value = g_ptr_array_index(nodes, i + 1);
		g_print("  %s = %s\n",
		        (const gchar *)g_ptr_array_index(nodes, i),
		        value != NULL ? value : _("(not readable)"));
	}
	return GW_EXIT_OK;
}

static gint
gw_ctl_cmd_groups(GwCtl *ctl, gint argc, gchar **argv)
{
	static const GwCtlColumn columns[] = {{N_("GROUPID"), "GroupID"},
	                                      {N_("DESCRIPTION"), "Description"},
	                                      {N_("MEMBERS"), "Members"},
	                                      {NULL, NULL}};
	return gw_ctl_list_command(
	    ctl, argc, "groups", GW_DBUS_GROUP, columns, _("cannot list the groups"));
}

static gint opt_device_mode = 0;
static gchar *opt_device_protocol = NULL;
static gchar *opt_device_auth = NULL;
static gchar *opt_device_client_name = NULL;
static gchar *opt_device_client_secret = NULL;
static gchar *opt_device_server_secret = NULL;
static gchar *opt_device_notify_addr = NULL;
static gchar **opt_device_groups = NULL;

void
gw_ctl_print_path(GwCtl *ctl, const gchar *what, const gchar *id, const gchar *path)
{
	if (ctl->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, what);
		json_builder_add_string_value(builder, id);
		json_builder_set_member_name(builder, "Path");
		json_builder_add_string_value(builder, path);
		json_builder_end_object(builder);
		gw_ctl_print_json(builder);
	} else {
		g_print("%s\n", path);
	}
}

static gint
gw_ctl_cmd_device_add(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const gchar *path = NULL;
	GVariantBuilder b;

	if (argc != 1) {
		g_printerr(_("gwmoctl: device-add takes one DeviceID\n"));
		return GW_EXIT_USAGE;
	}
	if (opt_device_mode < 0) {
		g_printerr(_("gwmoctl: --mode is 1 (Transparent), 2 (Proxy) or 3 (Adaptation)\n"));
		return GW_EXIT_USAGE;
	}
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(argv[0]));
	if (opt_device_mode != 0)
		g_variant_builder_add(
		    &b, "{sv}", "Mode", g_variant_new_uint32((guint32)opt_device_mode));
	if (opt_device_protocol != NULL)
		g_variant_builder_add(
		    &b, "{sv}", "Protocol", g_variant_new_string(opt_device_protocol));
	if (opt_device_auth != NULL)
		g_variant_builder_add(
		    &b, "{sv}", "AuthType", g_variant_new_string(opt_device_auth));
	if (opt_device_client_name != NULL)
		g_variant_builder_add(
		    &b, "{sv}", "ClientName", g_variant_new_string(opt_device_client_name));
	if (opt_device_client_secret != NULL)
		g_variant_builder_add(
		    &b, "{sv}", "ClientSecret", g_variant_new_string(opt_device_client_secret));
	if (opt_device_server_secret != NULL)
		g_variant_builder_add(
		    &b, "{sv}", "ServerSecret", g_variant_new_string(opt_device_server_secret));
	if (opt_device_notify_addr != NULL)
		g_variant_builder_add(
		    &b, "{sv}", "NotifyAddr", g_variant_new_string(opt_device_notify_addr));
	if (opt_device_groups != NULL)
		g_variant_builder_add(
		    &b,
		    "{sv}",
		    "Groups",
		    g_variant_new_strv((const gchar *const *)opt_device_groups, -1));
	reply = gw_ctl_call(ctl, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	g_variant_get(reply, "(&o)", &path);
	gw_ctl_print_path(ctl, "DeviceID", argv[0], path);
	return GW_EXIT_OK;
}

static gint
gw_ctl_cmd_device_rm(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) devices = NULL;
	g_autoptr(GVariant) reply = NULL;
	GwCtlObject *obj;

	if (argc != 1) {
		g_printerr(_("gwmoctl: device-rm takes one DeviceID\n"));
		return GW_EXIT_USAGE;
	}
	devices = gw_ctl_list_objects(ctl, GW_DBUS_DEVICE, &error);
	if (devices == NULL)
		return gw_ctl_error(error, _("cannot list the devices"));
	obj = gw_ctl_find_object(devices, "DeviceID", argv[0]);
	if (obj == NULL) {
		g_printerr(_("gwmoctl: no device %s\n"), argv[0]);
		return GW_EXIT_NOT_FOUND;
	}
	reply = gw_ctl_call(ctl, "RemoveDevice", g_variant_new("(o)", obj->path), "()", &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	return GW_EXIT_OK;
}

static gint
gw_ctl_cmd_group_add(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const gchar *path = NULL;

	if (argc != 1 && argc != 2) {
		g_printerr(_("gwmoctl: group-add takes a GroupID and an optional description\n"));
		return GW_EXIT_USAGE;
	}
	reply = gw_ctl_call(ctl,
	                    "CreateGroup",
	                    g_variant_new("(ss)", argv[0], argc == 2 ? argv[1] : ""),
	                    "(o)",
	                    &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[0]);
	g_variant_get(reply, "(&o)", &path);
	gw_ctl_print_path(ctl, "GroupID", argv[0], path);
	return GW_EXIT_OK;
}

static gint
gw_ctl_cmd_group_member(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) groups = NULL;
	g_autoptr(GVariant) reply = NULL;
	GwCtlObject *obj;
	gboolean add;

	if (argc != 3 || (g_strcmp0(argv[0], "add") != 0 && g_strcmp0(argv[0], "remove") != 0)) {
		g_printerr(_("gwmoctl: use 'group-member add|remove GROUP DEVICEID'\n"));
		return GW_EXIT_USAGE;
	}
	add = g_strcmp0(argv[0], "add") == 0;
	groups = gw_ctl_list_objects(ctl, GW_DBUS_GROUP, &error);
	if (groups == NULL)
		return gw_ctl_error(error, _("cannot list the groups"));
	obj = gw_ctl_find_object(groups, "GroupID", argv[1]);
	if (obj == NULL) {
		g_printerr(_("gwmoctl: no group %s\n"), argv[1]);
		return GW_EXIT_NOT_FOUND;
	}
	reply = g_dbus_connection_call_sync(ctl->connection,
	                                    GW_DBUS_NAME,
	                                    obj->path,
	                                    GW_DBUS_GROUP,
	                                    add ? "AddMember" : "RemoveMember",
	                                    g_variant_new("(s)", argv[2]),
	                                    G_VARIANT_TYPE("()"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    GW_CALL_TIMEOUT,
	                                    NULL,
	                                    &error);
	if (reply == NULL)
		return gw_ctl_error(error, argv[2]);
	return GW_EXIT_OK;
}

static const GwCtlCommand gw_ctl_commands[] = {
    {"status",
     "",
     N_("Show the gateway's version, GwID, default mode and state file"),
     gw_ctl_cmd_status},
    {"get",
     "URI",
     N_("Print the value of a node (an interior node lists its children)"),
     gw_ctl_cmd_get},
    {"set", "URI [VALUE]", N_("Create or replace a node"), gw_ctl_cmd_set},
    {"rm", "URI", N_("Delete a node and everything below it"), gw_ctl_cmd_rm},
    {"ls", "[URI]", N_("List the children of an interior node"), gw_ctl_cmd_ls},
    {"tree", "[URI]", N_("Print a subtree (default: the whole tree)"), gw_ctl_cmd_tree},
    {"bootstrap",
     "FILE",
     N_("Load a TNDS file (e.g. DMAcc entries) into the tree"),
     gw_ctl_cmd_bootstrap},
    {"servers", "", N_("List the DM Server accounts and their last sessions"), gw_ctl_cmd_servers},
    {"session",
     "start SERVER-ID",
     N_("Open a management session with a DM Server and wait for it"),
     gw_ctl_cmd_session},
    {"alert",
     "SERVER-ID TYPE [DATA]",
     N_("Queue a Generic Alert for a DM Server (sent in its next session)"),
     gw_ctl_cmd_alert},
    {"devices", "", N_("List the End Devices of the inventory"), gw_ctl_cmd_devices},
    {"device",
     "DEVICEID",
     N_("Show a device: its properties and the nodes of its record"),
     gw_ctl_cmd_device},
    {"device-add",
     "DEVICEID",
     N_("Provision a device with its credentials"),
     gw_ctl_cmd_device_add},
    {"device-rm", "DEVICEID", N_("Remove a device and its record"), gw_ctl_cmd_device_rm},
    {"groups", "", N_("List the device groups"), gw_ctl_cmd_groups},
    {"group-add", "ID [DESCRIPTION]", N_("Create a device group"), gw_ctl_cmd_group_add},
    {"group-member",
     "add|remove GROUP DEVICEID",
     N_("Add a device to a group or remove it"),
     gw_ctl_cmd_group_member},
    {"images",
     "[add|download ID|rm ID]",
     N_("List the images stored for End Devices, add one, download it, remove it"),
     gw_ctl_cmd_images},
    {"fanout",
     "(--group G | --device D…) (--get URI | --replace URI --data V | --exec URI)",
     N_("Send one command to many devices and aggregate their answers"),
     gw_ctl_cmd_fanout},
    {"jobs", "", N_("List the fan-out jobs"), gw_ctl_cmd_jobs},
    {"monitor",
     "",
     N_("Print device, job, image, plugin and session events as they happen"),
     gw_ctl_cmd_monitor},
    {"plugins",
     "[enable NAME|disable NAME|reset NAME]",
     N_("List the adapter plugins and their state; enable, disable or un-quarantine one"),
     gw_ctl_cmd_plugins},
};

static gchar *
gw_ctl_commands_description(void)
{
	GString *s = g_string_new(_("Commands:"));
	g_string_append_c(s, '\n');
	for (guint i = 0; i < G_N_ELEMENTS(gw_ctl_commands); i++) {
		g_autofree gchar *head =
		    g_strdup_printf("%s %s", gw_ctl_commands[i].name, gw_ctl_commands[i].args);
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
	    {"session",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &ctl.session,
	     N_("Talk to gwmod on the session bus"),
	     NULL},
	    {"system",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &ctl.system,
	     N_("Talk to gwmod on the system bus (default)"),
	     NULL},
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &ctl.json, N_("Print JSON"), NULL},
	    {NULL}};
	const GOptionEntry main_entries[] = {{"version",
	                                      0,
	                                      0,
	                                      G_OPTION_ARG_NONE,
	                                      &opt_version,
	                                      N_("Print the version and exit"),
	                                      NULL},
	                                     {NULL}};
	const GOptionEntry set_entries[] = {
	    {"format",
	     'f',
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_set_format,
	     N_("DDF format of the node: chr (default), int, bool, float, bin (base64 "
	        "argument), b64, xml, date, time, null, node"),
	     "FORMAT"},
	    {NULL}};
	const GOptionEntry tree_entries[] = {
	    {"tnds", 0, 0, G_OPTION_ARG_NONE, &opt_tree_tnds, N_("Print the raw TNDS XML"), NULL},
	    {NULL}};
	const GOptionEntry alert_entries[] = {
	    {"source",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_alert_source,
	     N_("LocURI the alert is about (default \".\")"),
	     "URI"},
	    {"format",
	     'f',
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_alert_format,
	     N_("Format of the data (default chr)"),
	     "FORMAT"},
	    {"mark", 0, 0, G_OPTION_ARG_STRING, &opt_alert_mark, N_("Severity mark"), "MARK"},
	    {"correlator",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_alert_correlator,
	     N_("Correlator of an earlier Exec"),
	     "ID"},
	    {NULL}};
	const GOptionEntry device_add_entries[] = {
	    {"mode",
	     'm',
	     0,
	     G_OPTION_ARG_INT,
	     &opt_device_mode,
	     N_("Operation mode: 1 Transparent, 2 Proxy, 3 Adaptation (default: the gateway's "
	        "./GwMO/Config/Mode)"),
	     "N"},
	    {"protocol",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_device_protocol,
	     N_("Protocol of the device (default OMA-DM)"),
	     "NAME"},
	    {"auth",
	     'a',
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_device_auth,
	     N_("Authentication: BASIC, DIGEST (default) or HMAC"),
	     "TYPE"},
	    {"client-name",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_device_client_name,
	     N_("Name the device presents to the gateway"),
	     "NAME"},
	    {"client-secret",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_device_client_secret,
	     N_("Secret the device presents to the gateway"),
	     "SECRET"},
	    {"server-secret",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_device_server_secret,
	     N_("Secret the gateway presents to the device (default: generated)"),
	     "SECRET"},
	    {"notify-addr",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_device_notify_addr,
	     N_("Where notifications (Package #0) for the device go: http(s):// or udp://"),
	     "URL"},
	    {"group",
	     'g',
	     0,
	     G_OPTION_ARG_STRING_ARRAY,
	     &opt_device_groups,
	     N_("Make the device a member of an existing group (repeatable)"),
	     "GROUP"},
	    {NULL}};
	const GOptionEntry bootstrap_entries[] = {
	    {"parent",
	     'p',
	     0,
	     G_OPTION_ARG_STRING,
	     &opt_bootstrap_parent,
	     N_("Where top-level nodes without a Path go (default \".\")"),
	     "URI"},
	    {"replace",
	     'r',
	     0,
	     G_OPTION_ARG_NONE,
	     &opt_bootstrap_replace,
	     N_("Overwrite existing leaves"),
	     NULL},
	    {NULL}};

	setlocale(LC_ALL, "");
	/* GWMO_LOCALEDIR: the catalogs of a build tree (tests) instead of the installed ones */
	bindtextdomain(GETTEXT_PACKAGE,
	               g_getenv("GWMO_LOCALEDIR") != NULL && g_getenv("GWMO_LOCALEDIR")[0] != '\0'
	                   ? g_getenv("GWMO_LOCALEDIR")
	                   : LOCALEDIR);
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
			g_option_context_add_main_entries(
			    context, bootstrap_entries, GETTEXT_PACKAGE);
		else if (cmd->func == gw_ctl_cmd_device_add)
			g_option_context_add_main_entries(
			    context, device_add_entries, GETTEXT_PACKAGE);
		else if (cmd->func == gw_ctl_cmd_images)
			g_option_context_add_main_entries(
			    context, gw_ctl_images_entries, GETTEXT_PACKAGE);
		else if (cmd->func == gw_ctl_cmd_fanout)
			g_option_context_add_main_entries(
			    context, gw_ctl_fanout_entries, GETTEXT_PACKAGE);
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
	g_free(opt_device_protocol);
	g_free(opt_device_auth);
	g_free(opt_device_client_name);
	g_free(opt_device_client_secret);
	g_free(opt_device_server_secret);
	g_free(opt_device_notify_addr);
	g_strfreev(opt_device_groups);
	gw_ctl_images_free_options();
	return rc;
}
