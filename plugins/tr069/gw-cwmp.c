/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "gw-cwmp.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "gw-error.h"

#define GW_CWMP_NS_PREFIX "urn:dslforum-org:cwmp-1-"

static const gchar *const gw_cwmp_namespaces[] = {
    GW_CWMP_NS_PREFIX "0",
    GW_CWMP_NS_PREFIX "1",
    GW_CWMP_NS_PREFIX "2",
    GW_CWMP_NS_PREFIX "3",
    GW_CWMP_NS_PREFIX "4",
};

const gchar *
gw_cwmp_namespace(guint minor)
{
	return gw_cwmp_namespaces[MIN(minor, GW_CWMP_VERSION_MAX)];
}

/* ---- the pre-scan ---- */

static gboolean
gw_cwmp_scan_fail(GError **error, const gchar *what)
{
	g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "CWMP message %s", what);
	return FALSE;
}

/* skips to just after @end from @p; NULL when it never comes */
static const gchar *
gw_cwmp_skip_past(const gchar *p, const gchar *stop, const gchar *end)
{
	gsize n = strlen(end);

	for (; p + n <= stop; p++) {
		if (memcmp(p, end, n) == 0)
			return p + n;
	}
	return NULL;
}

gboolean
gw_cwmp_prescan(const gchar *data, gsize len, GError **error)
{
	const gchar *p = data;
	const gchar *stop = data + len;
	guint depth = 0;
	guint elements = 0;

	if (len > GW_CWMP_MAX_MESSAGE)
		return gw_cwmp_scan_fail(error, "is over the size cap");
	while (p < stop) {
		const gchar *lt = memchr(p, '<', (gsize)(stop - p));
		gboolean closing;
		guint attributes = 0;
		gchar quote = 0;

		if (lt == NULL)
			break;
		p = lt + 1;
		if (p >= stop)
			return gw_cwmp_scan_fail(error, "ends inside a tag");
		if (*p == '!') {
			if (stop - p >= 3 && memcmp(p, "!--", 3) == 0)
				p = gw_cwmp_skip_past(p + 3, stop, "-->");
			else if (stop - p >= 8 && memcmp(p, "![CDATA[", 8) == 0)
				p = gw_cwmp_skip_past(p + 8, stop, "]]>");
			else
				return gw_cwmp_scan_fail(error, "has a DOCTYPE");
			if (p == NULL)
				return gw_cwmp_scan_fail(error, "ends inside a comment or CDATA");
			continue;
		}
		if (*p == '?') {
			p = gw_cwmp_skip_past(p + 1, stop, "?>");
			if (p == NULL)
				return gw_cwmp_scan_fail(error,
				                         "ends inside a processing instruction");
			continue;
		}
		closing = *p == '/';
		/* the tag up to its '>', outside quotes */
		for (; p < stop; p++) {
			if (quote != 0) {
				if (*p == quote)
					quote = 0;
			} else if (*p == '"' || *p == '\'') {
				quote = *p;
			} else if (*p == '=') {
				if (++attributes > GW_CWMP_MAX_ATTRIBUTES)
					return gw_cwmp_scan_fail(error, "has too many attributes");
			} else if (*p == '>') {
				break;
			}
		}
		if (p >= stop)
			return gw_cwmp_scan_fail(error, "ends inside a tag");
		if (closing) {
			if (depth == 0)
				return gw_cwmp_scan_fail(error, "closes more than it opens");
			depth--;
		} else {
			if (++elements > GW_CWMP_MAX_ELEMENTS)
				return gw_cwmp_scan_fail(error, "has too many elements");
			if (p[-1] != '/' && ++depth > GW_CWMP_MAX_DEPTH)
				return gw_cwmp_scan_fail(error, "is nested too deep");
		}
		p++;
	}
	return TRUE;
}

/* ---- reading ---- */

void
gw_cwmp_param_free(GwCwmpParam *param)
{
	if (param == NULL)
		return;
	g_free(param->name);
	g_free(param->value);
	g_free(param->type);
	g_free(param);
}

void
gw_cwmp_message_free(GwCwmpMessage *msg)
{
	if (msg == NULL)
		return;
	g_free(msg->id);
	g_free(msg->method);
	g_free(msg->manufacturer);
	g_free(msg->oui);
	g_free(msg->product_class);
	g_free(msg->serial_number);
	g_clear_pointer(&msg->events, g_ptr_array_unref);
	g_clear_pointer(&msg->command_keys, g_ptr_array_unref);
	g_clear_pointer(&msg->params, g_ptr_array_unref);
	g_free(msg->fault_string);
	g_free(msg->fault_parameter);
	g_free(msg->command_key);
	g_free(msg);
}

static gboolean
gw_cwmp_is(const xmlNode *n, const gchar *local)
{
	return n != NULL && n->type == XML_ELEMENT_NODE &&
	       g_strcmp0((const gchar *)n->name, local) == 0;
}

static xmlNode *
gw_cwmp_first_element(xmlNode *n)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE)
			return n;
	}
	return NULL;
}

static xmlNode *
gw_cwmp_child(xmlNode *parent, const gchar *local)
{
	if (parent == NULL)
		return NULL;
	for (xmlNode *n = parent->children; n != NULL; n = n->next) {
		if (gw_cwmp_is(n, local))
			return n;
	}
	return NULL;
}

/* the element's text, whitespace stripped, NULL past @max bytes or when @n is NULL */
static gchar *
gw_cwmp_text(xmlNode *n, gsize max)
{
	xmlChar *content;
	gchar *text;

	if (n == NULL)
		return NULL;
	content = xmlNodeGetContent(n);
	if (content == NULL)
		return g_strdup("");
	text = g_strstrip(g_strdup((const gchar *)content));
	xmlFree(content);
	if (strlen(text) > max || !g_utf8_validate(text, -1, NULL)) {
		g_free(text);
		return NULL;
	}
	return text;
}

static gchar *
gw_cwmp_child_text(xmlNode *parent, const gchar *local, gsize max)
{
	return gw_cwmp_text(gw_cwmp_child(parent, local), max);
}

static gboolean
gw_cwmp_child_uint(xmlNode *parent, const gchar *local, guint *out)
{
	g_autofree gchar *text = gw_cwmp_child_text(parent, local, 32);
	guint64 v;

	if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &v, NULL))
		return FALSE;
	*out = (guint)v;
	return TRUE;
}

/* the minor version of a cwmp namespace href; -1 when @href is not one */
static gint
gw_cwmp_version_of(const xmlNs *ns)
{
	const gchar *href = ns != NULL ? (const gchar *)ns->href : NULL;
	guint64 minor;

	if (href == NULL || !g_str_has_prefix(href, GW_CWMP_NS_PREFIX))
		return -1;
	if (!g_ascii_string_to_unsigned(href + strlen(GW_CWMP_NS_PREFIX), 10, 0, 99, &minor, NULL))
		return -1;
	return (gint)MIN(minor, GW_CWMP_VERSION_MAX);
}

static gboolean
gw_cwmp_read_params(GwCwmpMessage *msg, xmlNode *list, gboolean names, GError **error)
{
	if (list == NULL)
		return TRUE;
	for (xmlNode *n = list->children; n != NULL; n = n->next) {
		GwCwmpParam *param;
		xmlNode *value;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (msg->params->len >= GW_CWMP_MAX_PARAMS) {
			g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "too many parameters");
			return FALSE;
		}
		param = g_new0(GwCwmpParam, 1);
		param->name = gw_cwmp_child_text(n, "Name", GW_CWMP_MAX_NAME);
		if (param->name == NULL || param->name[0] == '\0') {
			gw_cwmp_param_free(param);
			g_set_error(
			    error, GW_ERROR, GW_ERROR_PROTOCOL, "a parameter without a Name");
			return FALSE;
		}
		if (names) {
			g_autofree gchar *w = gw_cwmp_child_text(n, "Writable", 8);
			param->writable =
			    w != NULL && (g_str_equal(w, "1") || g_str_equal(w, "true"));
		} else {
			xmlChar *type;

			value = gw_cwmp_child(n, "Value");
			param->value = gw_cwmp_text(value, GW_CWMP_MAX_VALUE);
			if (param->value == NULL) {
				gw_cwmp_param_free(param);
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_PROTOCOL,
				            "a parameter without a Value (or one over the cap)");
				return FALSE;
			}
			/* xsi:type, whatever its prefix */
			type = NULL;
			for (xmlAttr *a = value->properties; a != NULL; a = a->next) {
				if (g_strcmp0((const gchar *)a->name, "type") == 0) {
					type = xmlNodeGetContent((xmlNode *)a);
					break;
				}
			}
			if (type != NULL) {
				if (strlen((const gchar *)type) <= GW_CWMP_MAX_NAME)
					param->type = g_strdup((const gchar *)type);
				xmlFree(type);
			}
		}
		g_ptr_array_add(msg->params, param);
	}
	return TRUE;
}

static gboolean
gw_cwmp_read_inform(GwCwmpMessage *msg, xmlNode *rpc, GError **error)
{
	xmlNode *dev = gw_cwmp_child(rpc, "DeviceId");
	xmlNode *events = gw_cwmp_child(rpc, "Event");

	if (dev == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "an Inform without a DeviceId");
		return FALSE;
	}
	msg->manufacturer = gw_cwmp_child_text(dev, "Manufacturer", GW_CWMP_MAX_IDENT);
	msg->oui = gw_cwmp_child_text(dev, "OUI", GW_CWMP_MAX_IDENT);
	msg->product_class = gw_cwmp_child_text(dev, "ProductClass", GW_CWMP_MAX_IDENT);
	msg->serial_number = gw_cwmp_child_text(dev, "SerialNumber", GW_CWMP_MAX_IDENT);
	if (msg->oui == NULL || msg->oui[0] == '\0' || msg->serial_number == NULL ||
	    msg->serial_number[0] == '\0') {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "an Inform's DeviceId without OUI or SerialNumber");
		return FALSE;
	}
	for (xmlNode *n = events != NULL ? events->children : NULL; n != NULL; n = n->next) {
		gchar *code;
		gchar *key;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (msg->events->len >= GW_CWMP_MAX_PARAMS) {
			g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "too many events");
			return FALSE;
		}
		code = gw_cwmp_child_text(n, "EventCode", GW_CWMP_MAX_IDENT);
		if (code == NULL || code[0] == '\0') {
			g_free(code);
			g_set_error(
			    error, GW_ERROR, GW_ERROR_PROTOCOL, "an event without an EventCode");
			return FALSE;
		}
		key = gw_cwmp_child_text(n, "CommandKey", 32 * 4);
		g_ptr_array_add(msg->events, code);
		g_ptr_array_add(msg->command_keys, key != NULL ? key : g_strdup(""));
	}
	if (!gw_cwmp_child_uint(rpc, "MaxEnvelopes", &msg->max_envelopes))
		msg->max_envelopes = 1;
	if (!gw_cwmp_child_uint(rpc, "RetryCount", &msg->retry_count))
		msg->retry_count = 0;
	return gw_cwmp_read_params(msg, gw_cwmp_child(rpc, "ParameterList"), FALSE, error);
}

static void
gw_cwmp_read_fault_struct(GwCwmpMessage *msg, xmlNode *fault)
{
	xmlNode *spv;

	if (fault == NULL)
		return;
	gw_cwmp_child_uint(fault, "FaultCode", &msg->fault_code);
	msg->fault_string = gw_cwmp_child_text(fault, "FaultString", GW_CWMP_MAX_VALUE);
	spv = gw_cwmp_child(fault, "SetParameterValuesFault");
	if (spv != NULL) {
		guint code = 0;

		msg->fault_parameter = gw_cwmp_child_text(spv, "ParameterName", GW_CWMP_MAX_NAME);
		/* the parameter's own code is the more precise one */
		if (gw_cwmp_child_uint(spv, "FaultCode", &code) && code != 0)
			msg->fault_code = code;
	}
}

static gboolean
gw_cwmp_read_body(GwCwmpMessage *msg, xmlNode *rpc, GError **error)
{
	const gchar *name = (const gchar *)rpc->name;
	gint v = gw_cwmp_version_of(rpc->ns);

	if (v >= 0)
		msg->version = (guint)v;
	msg->method = g_strndup(name, GW_CWMP_MAX_IDENT);
	if (g_str_equal(name, "Inform")) {
		msg->kind = GW_CWMP_MSG_INFORM;
		return gw_cwmp_read_inform(msg, rpc, error);
	}
	if (g_str_equal(name, "Fault")) {
		/* SOAP Fault: detail/cwmp:Fault */
		xmlNode *detail = gw_cwmp_child(rpc, "detail");
		xmlNode *fault = gw_cwmp_child(detail, "Fault");

		msg->kind = GW_CWMP_MSG_FAULT;
		if (fault != NULL) {
			v = gw_cwmp_version_of(fault->ns);
			if (v >= 0)
				msg->version = (guint)v;
		}
		gw_cwmp_read_fault_struct(msg, fault);
		if (msg->fault_code == 0) {
			g_autofree gchar *s = gw_cwmp_child_text(rpc, "faultstring", 256);
			msg->fault_code = 9002;
			if (msg->fault_string == NULL)
				msg->fault_string = g_strdup(s != NULL ? s : "SOAP Fault");
		}
		return TRUE;
	}
	if (g_str_equal(name, "TransferComplete")) {
		msg->kind = GW_CWMP_MSG_TRANSFER_COMPLETE;
		msg->command_key = gw_cwmp_child_text(rpc, "CommandKey", 32 * 4);
		gw_cwmp_read_fault_struct(msg, gw_cwmp_child(rpc, "FaultStruct"));
		return TRUE;
	}
	if (g_str_equal(name, "GetRPCMethods")) {
		msg->kind = GW_CWMP_MSG_GET_RPC_METHODS;
		return TRUE;
	}
	if (g_str_equal(name, "GetParameterValuesResponse")) {
		msg->kind = GW_CWMP_MSG_GET_PARAMETER_VALUES_RESPONSE;
		return gw_cwmp_read_params(msg, gw_cwmp_child(rpc, "ParameterList"), FALSE, error);
	}
	if (g_str_equal(name, "GetParameterNamesResponse")) {
		msg->kind = GW_CWMP_MSG_GET_PARAMETER_NAMES_RESPONSE;
		return gw_cwmp_read_params(msg, gw_cwmp_child(rpc, "ParameterList"), TRUE, error);
	}
	if (g_str_equal(name, "SetParameterValuesResponse") ||
	    g_str_equal(name, "DeleteObjectResponse") || g_str_equal(name, "DownloadResponse") ||
	    g_str_equal(name, "AddObjectResponse")) {
		guint status;

		if (name[0] == 'S')
			msg->kind = GW_CWMP_MSG_SET_PARAMETER_VALUES_RESPONSE;
		else if (name[0] == 'A')
			msg->kind = GW_CWMP_MSG_ADD_OBJECT_RESPONSE;
		else if (name[1] == 'e')
			msg->kind = GW_CWMP_MSG_DELETE_OBJECT_RESPONSE;
		else
			msg->kind = GW_CWMP_MSG_DOWNLOAD_RESPONSE;
		if (gw_cwmp_child_uint(rpc, "Status", &status) && status <= 1)
			msg->status = (gint)status;
		if (msg->kind == GW_CWMP_MSG_ADD_OBJECT_RESPONSE &&
		    !gw_cwmp_child_uint(rpc, "InstanceNumber", &msg->instance_number)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "an AddObjectResponse without an InstanceNumber");
			return FALSE;
		}
		return TRUE;
	}
	if (g_str_equal(name, "RebootResponse")) {
		msg->kind = GW_CWMP_MSG_REBOOT_RESPONSE;
		return TRUE;
	}
	msg->kind = GW_CWMP_MSG_OTHER;
	return TRUE;
}

static gboolean
gw_cwmp_all_space(const gchar *data, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isspace(data[i]))
			return FALSE;
	}
	return TRUE;
}

GwCwmpMessage *
gw_cwmp_parse(const gchar *data, gsize len, GError **error)
{
	g_autoptr(GwCwmpMessage) msg = g_new0(GwCwmpMessage, 1);
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	xmlNode *root;
	xmlNode *header;
	xmlNode *body;
	xmlNode *rpc;
	gboolean ok;

	msg->version = GW_CWMP_VERSION_MAX;
	msg->status = -1;
	msg->max_envelopes = 1;
	msg->events = g_ptr_array_new_with_free_func(g_free);
	msg->command_keys = g_ptr_array_new_with_free_func(g_free);
	msg->params = g_ptr_array_new_with_free_func((GDestroyNotify)gw_cwmp_param_free);
	if (data == NULL || gw_cwmp_all_space(data, len)) {
		msg->kind = GW_CWMP_MSG_EMPTY;
		return g_steal_pointer(&msg);
	}
	if (!gw_cwmp_prescan(data, len, error))
		return NULL;
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_INTERNAL, "no XML parser");
		return NULL;
	}
	doc = xmlCtxtReadMemory(ctxt,
	                        data,
	                        (int)len,
	                        "cwmp.xml",
	                        NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                            XML_PARSE_NOCDATA);
	if (doc == NULL || !ctxt->wellFormed || doc->intSubset != NULL) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "CWMP message is not well-formed XML");
		if (doc != NULL)
			xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return NULL;
	}
	xmlFreeParserCtxt(ctxt);
	root = xmlDocGetRootElement(doc);
	if (!gw_cwmp_is(root, "Envelope")) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "CWMP message is not a SOAP Envelope");
		xmlFreeDoc(doc);
		return NULL;
	}
	header = gw_cwmp_child(root, "Header");
	if (header != NULL) {
		xmlNode *id = gw_cwmp_child(header, "ID");
		g_autofree gchar *hold = gw_cwmp_child_text(header, "HoldRequests", 8);
		gint v = id != NULL ? gw_cwmp_version_of(id->ns) : -1;

		msg->id = gw_cwmp_text(id, 256);
		if (v >= 0)
			msg->version = (guint)v;
		msg->hold_requests =
		    hold != NULL && (g_str_equal(hold, "1") || g_str_equal(hold, "true"));
	}
	body = gw_cwmp_child(root, "Body");
	rpc = body != NULL ? gw_cwmp_first_element(body->children) : NULL;
	if (rpc == NULL) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "CWMP envelope without an RPC in its Body");
		xmlFreeDoc(doc);
		return NULL;
	}
	ok = gw_cwmp_read_body(msg, rpc, error);
	xmlFreeDoc(doc);
	return ok ? g_steal_pointer(&msg) : NULL;
}

static void
gw_cwmp_escape_part(GString *out, const gchar *part)
{
	for (const gchar *p = part != NULL ? part : ""; *p != '\0'; p++) {
		if (g_ascii_isalnum(*p) || *p == '_' || *p == '.')
			g_string_append_c(out, *p);
		else
			g_string_append_printf(out, "%%%02X", (guchar)*p);
	}
}

gchar *
gw_cwmp_device_id(const GwCwmpMessage *inform)
{
	GString *id;

	if (inform == NULL || inform->oui == NULL || inform->serial_number == NULL ||
	    inform->oui[0] == '\0' || inform->serial_number[0] == '\0')
		return NULL;
	id = g_string_new(NULL);
	gw_cwmp_escape_part(id, inform->oui);
	g_string_append_c(id, '-');
	gw_cwmp_escape_part(id, inform->product_class);
	g_string_append_c(id, '-');
	gw_cwmp_escape_part(id, inform->serial_number);
	return g_string_free(id, FALSE);
}

const gchar *
gw_cwmp_message_lookup(const GwCwmpMessage *msg, const gchar *name)
{
	for (guint i = 0; msg != NULL && i < msg->params->len; i++) {
		const GwCwmpParam *p = g_ptr_array_index(msg->params, i);

		if (g_str_equal(p->name, name))
			return p->value;
	}
	return NULL;
}

gboolean
gw_cwmp_message_has_event(const GwCwmpMessage *msg, const gchar *code)
{
	for (guint i = 0; msg != NULL && i < msg->events->len; i++) {
		if (g_ascii_strcasecmp(g_ptr_array_index(msg->events, i), code) == 0)
			return TRUE;
	}
	return FALSE;
}

/* ---- writing ---- */

static void
gw_cwmp_append_escaped(GString *out, const gchar *text)
{
	g_autofree gchar *escaped = g_markup_escape_text(text != NULL ? text : "", -1);

	g_string_append(out, escaped);
}

static GString *
gw_cwmp_open(guint version, const gchar *id)
{
	GString *out = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");

	g_string_append_printf(out,
	                       "<SOAP-ENV:Envelope"
	                       " xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\""
	                       " xmlns:SOAP-ENC=\"http://schemas.xmlsoap.org/soap/encoding/\""
	                       " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
	                       " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
	                       " xmlns:cwmp=\"%s\">\n",
	                       gw_cwmp_namespace(version));
	g_string_append(out, "<SOAP-ENV:Header><cwmp:ID SOAP-ENV:mustUnderstand=\"1\">");
	gw_cwmp_append_escaped(out, id);
	g_string_append(out, "</cwmp:ID></SOAP-ENV:Header>\n<SOAP-ENV:Body>\n");
	return out;
}

static gchar *
gw_cwmp_close(GString *out)
{
	g_string_append(out, "</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n");
	return g_string_free(out, FALSE);
}

static void
gw_cwmp_element(GString *out, const gchar *name, const gchar *value)
{
	g_string_append_printf(out, "<%s>", name);
	gw_cwmp_append_escaped(out, value);
	g_string_append_printf(out, "</%s>", name);
}

gchar *
gw_cwmp_build_inform_response(guint version, const gchar *id, guint max_envelopes)
{
	GString *out = gw_cwmp_open(version, id);

	g_string_append_printf(out,
	                       "<cwmp:InformResponse><MaxEnvelopes>%u</MaxEnvelopes>"
	                       "</cwmp:InformResponse>\n",
	                       MAX(max_envelopes, 1u));
	return gw_cwmp_close(out);
}

gchar *
gw_cwmp_build_transfer_complete_response(guint version, const gchar *id)
{
	GString *out = gw_cwmp_open(version, id);

	g_string_append(out, "<cwmp:TransferCompleteResponse/>\n");
	return gw_cwmp_close(out);
}

gchar *
gw_cwmp_build_get_rpc_methods_response(guint version, const gchar *id)
{
	static const gchar *const methods[] = {"Inform", "GetRPCMethods", "TransferComplete"};
	GString *out = gw_cwmp_open(version, id);

	g_string_append_printf(out,
	                       "<cwmp:GetRPCMethodsResponse><MethodList "
	                       "SOAP-ENC:arrayType=\"xsd:string[%u]\">",
	                       (guint)G_N_ELEMENTS(methods));
	for (guint i = 0; i < G_N_ELEMENTS(methods); i++)
		gw_cwmp_element(out, "string", methods[i]);
	g_string_append(out, "</MethodList></cwmp:GetRPCMethodsResponse>\n");
	return gw_cwmp_close(out);
}

gchar *
gw_cwmp_build_get_parameter_values(guint version, const gchar *id, const gchar *const *names)
{
	GString *out = gw_cwmp_open(version, id);
	guint n = names != NULL ? g_strv_length((gchar **)names) : 0;

	g_string_append_printf(out,
	                       "<cwmp:GetParameterValues><ParameterNames "
	                       "SOAP-ENC:arrayType=\"xsd:string[%u]\">",
	                       n);
	for (guint i = 0; i < n; i++)
		gw_cwmp_element(out, "string", names[i]);
	g_string_append(out, "</ParameterNames></cwmp:GetParameterValues>\n");
	return gw_cwmp_close(out);
}

gchar *
gw_cwmp_build_get_parameter_names(guint version,
                                  const gchar *id,
                                  const gchar *path,
                                  gboolean next_level)
{
	GString *out = gw_cwmp_open(version, id);

	g_string_append(out, "<cwmp:GetParameterNames>");
	gw_cwmp_element(out, "ParameterPath", path);
	gw_cwmp_element(out, "NextLevel", next_level ? "1" : "0");
	g_string_append(out, "</cwmp:GetParameterNames>\n");
	return gw_cwmp_close(out);
}

gchar *
gw_cwmp_build_set_parameter_values(guint version,
                                   const gchar *id,
                                   const GwCwmpSetParam *params,
                                   guint n_params,
                                   const gchar *parameter_key)
{
	GString *out = gw_cwmp_open(version, id);

	g_string_append_printf(out,
	                       "<cwmp:SetParameterValues><ParameterList "
	                       "SOAP-ENC:arrayType=\"cwmp:ParameterValueStruct[%u]\">",
	                       n_params);
	for (guint i = 0; i < n_params; i++) {
		g_string_append(out, "<ParameterValueStruct>");
		gw_cwmp_element(out, "Name", params[i].name);
		g_string_append(out, "<Value xsi:type=\"");
		gw_cwmp_append_escaped(out, params[i].type != NULL ? params[i].type : "xsd:string");
		g_string_append(out, "\">");
		gw_cwmp_append_escaped(out, params[i].value);
		g_string_append(out, "</Value></ParameterValueStruct>");
	}
	g_string_append(out, "</ParameterList>");
	gw_cwmp_element(out, "ParameterKey", parameter_key);
	g_string_append(out, "</cwmp:SetParameterValues>\n");
	return gw_cwmp_close(out);
}

static gchar *
gw_cwmp_build_object(guint version,
                     const gchar *id,
                     const gchar *rpc,
                     const gchar *object_name,
                     const gchar *parameter_key)
{
	GString *out = gw_cwmp_open(version, id);

	g_string_append_printf(out, "<cwmp:%s>", rpc);
	gw_cwmp_element(out, "ObjectName", object_name);
	gw_cwmp_element(out, "ParameterKey", parameter_key);
	g_string_append_printf(out, "</cwmp:%s>\n", rpc);
	return gw_cwmp_close(out);
}

gchar *
gw_cwmp_build_add_object(guint version,
                         const gchar *id,
                         const gchar *object_name,
                         const gchar *parameter_key)
{
	return gw_cwmp_build_object(version, id, "AddObject", object_name, parameter_key);
}

gchar *
gw_cwmp_build_delete_object(guint version,
                            const gchar *id,
                            const gchar *object_name,
                            const gchar *parameter_key)
{
	return gw_cwmp_build_object(version, id, "DeleteObject", object_name, parameter_key);
}

gchar *
gw_cwmp_build_reboot(guint version, const gchar *id, const gchar *command_key)
{
	GString *out = gw_cwmp_open(version, id);

	g_string_append(out, "<cwmp:Reboot>");
	gw_cwmp_element(out, "CommandKey", command_key);
	g_string_append(out, "</cwmp:Reboot>\n");
	return gw_cwmp_close(out);
}

gchar *
gw_cwmp_build_download(guint version, const gchar *id, const GwCwmpDownload *d)
{
	GString *out = gw_cwmp_open(version, id);
	g_autofree gchar *size = g_strdup_printf("%" G_GUINT64_FORMAT, d->file_size);
	g_autofree gchar *delay = g_strdup_printf("%u", d->delay_seconds);

	g_string_append(out, "<cwmp:Download>");
	gw_cwmp_element(out, "CommandKey", d->command_key);
	gw_cwmp_element(out, "FileType", d->file_type);
	gw_cwmp_element(out, "URL", d->url);
	gw_cwmp_element(out, "Username", d->username);
	gw_cwmp_element(out, "Password", d->password);
	gw_cwmp_element(out, "FileSize", size);
	gw_cwmp_element(out, "TargetFileName", d->target_file_name);
	gw_cwmp_element(out, "DelaySeconds", delay);
	gw_cwmp_element(out, "SuccessURL", NULL);
	gw_cwmp_element(out, "FailureURL", NULL);
	g_string_append(out, "</cwmp:Download>\n");
	return gw_cwmp_close(out);
}

gchar *
gw_cwmp_build_fault(guint version, const gchar *id, guint code, const gchar *string)
{
	GString *out = gw_cwmp_open(version, id);

	g_string_append(out,
	                "<SOAP-ENV:Fault><faultcode>Client</faultcode>"
	                "<faultstring>CWMP fault</faultstring><detail><cwmp:Fault>");
	g_string_append_printf(out, "<FaultCode>%u</FaultCode>", code);
	gw_cwmp_element(out, "FaultString", string);
	g_string_append(out, "</cwmp:Fault></detail></SOAP-ENV:Fault>\n");
	return gw_cwmp_close(out);
}

/* ---- paths ---- */

#define GW_CWMP_URI_ROOT "./TR069/"

gchar *
gw_cwmp_path_to_uri(const gchar *path)
{
	g_autofree gchar *copy = g_strdup(path != NULL ? path : "");
	gsize len = strlen(copy);

	if (len > 0 && copy[len - 1] == '.')
		copy[len - 1] = '\0';
	g_strdelimit(copy, ".", '/');
	return g_strconcat(GW_CWMP_URI_ROOT, copy, NULL);
}

gchar *
gw_cwmp_uri_to_path(const gchar *uri, gboolean *interior)
{
	g_autofree gchar *copy = NULL;
	g_auto(GStrv) parts = NULL;
	gsize len;
	gboolean trailing;

	if (uri == NULL || !g_str_has_prefix(uri, GW_CWMP_URI_ROOT))
		return NULL;
	copy = g_strdup(uri + strlen(GW_CWMP_URI_ROOT));
	len = strlen(copy);
	trailing = len > 0 && copy[len - 1] == '/';
	if (trailing)
		copy[len - 1] = '\0';
	if (copy[0] == '\0' || strlen(copy) > GW_CWMP_MAX_NAME)
		return NULL;
	parts = g_strsplit(copy, "/", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (parts[i][0] == '\0' || strchr(parts[i], '.') != NULL)
			return NULL;
	}
	if (interior != NULL)
		*interior = trailing;
	g_strdelimit(copy, "/", '.');
	return trailing ? g_strconcat(copy, ".", NULL) : g_steal_pointer(&copy);
}

/* ---- faults ---- */

guint
gw_cwmp_fault_to_status(guint fault_code)
{
	switch (fault_code) {
	case 0:
		return 200;
	case 9000:
		return 501;
	case 9001:
	case 9008:
		return 405;
	case 9003:
	case 9006:
	case 9007:
		return 400;
	case 9005:
		return 404;
	default:
		return 500;
	}
}
