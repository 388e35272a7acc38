/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The UPnP adapter's parsers: description documents, SCPDs, Exec argument data. Everything a
 * LAN host sends passes here first, bounded (gw-upnp-description.h).
 */

#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "GwPluginUpnp"
#endif

#include "gw-upnp-description.h"

#include <gw-plugin-sdk.h>
#include <libxml/parser.h>
#include <math.h>
#include <string.h>

#define GW_UPNP_MAX_TEXT 256        /* bytes kept of a description field */
#define GW_UPNP_MAX_NAME 64         /* bytes of a node name */
#define GW_UPNP_MAX_UDN 128         /* bytes of a UDN */
#define GW_UPNP_MAX_URL 1024        /* bytes of a URL in a description */
#define GW_UPNP_MAX_ARGS_DATA 65536 /* bytes of an Exec's data */
#define GW_UPNP_MAX_VALUE 16384     /* bytes of one argument value */

void
gw_upnp_limits_init(GwUpnpLimits *limits)
{
	limits->max_document = 128 * 1024;
	limits->max_elements = 8192;
	limits->max_services = 32;
	limits->max_embedded = 3;
	limits->max_actions = 64;
	limits->max_arguments = 32;
	limits->max_variables = 128;
}

/* ---- XML helpers (elements are matched by local name: UPnP documents use a default
 * namespace, and devices disagree on it) ---- */

static gboolean
gw_upnp_is_element(const xmlNode *node, const gchar *name)
{
	return node->type == XML_ELEMENT_NODE && xmlStrcmp(node->name, BAD_CAST name) == 0;
}

static xmlNode *
gw_upnp_child(const xmlNode *parent, const gchar *name)
{
	for (xmlNode *n = parent->children; n != NULL; n = n->next) {
		if (gw_upnp_is_element(n, name))
			return n;
	}
	return NULL;
}

/* @text stripped, control characters replaced, cut at @max bytes on a character boundary;
 * NULL when empty */
static gchar *
gw_upnp_clean_text(const gchar *text, gsize max)
{
	g_autofree gchar *copy = NULL;
	const gchar *end = NULL;
	gsize len;

	if (text == NULL)
		return NULL;
	copy = g_strstrip(g_strdup(text));
	if (!g_utf8_validate(copy, -1, &end))
		*(gchar *)end = '\0';
	len = strlen(copy);
	if (len > max) {
		/* back to the start of the character that straddles @max */
		gchar *cut = copy + max;
		while (cut > copy && ((guchar)*cut & 0xC0) == 0x80)
			cut--;
		*cut = '\0';
	}
	for (gchar *p = copy; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	if (copy[0] == '\0')
		return NULL;
	return g_steal_pointer(&copy);
}

static gchar *
gw_upnp_child_text(const xmlNode *parent, const gchar *name, gsize max)
{
	xmlNode *n = gw_upnp_child(parent, name);
	xmlChar *content;
	gchar *text;

	if (n == NULL)
		return NULL;
	content = xmlNodeGetContent(n);
	text = gw_upnp_clean_text((const gchar *)content, max);
	xmlFree(content);
	return text;
}

static guint
gw_upnp_count_elements(const xmlNode *node, guint limit)
{
	guint count = 0;

	for (const xmlNode *n = node; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		count++;
		if (count > limit)
			return count;
		count += gw_upnp_count_elements(n->children, limit - count + 1);
		if (count > limit)
			return count;
	}
	return count;
}

/* parses @data as a standalone XML document: no DTD, no network, no entity expansion,
 * libxml2's own depth and size bounds, at most @limits->max_elements elements */
static xmlDoc *
gw_upnp_read_xml(const gchar *data,
                 gsize len,
                 const gchar *url,
                 const GwUpnpLimits *limits,
                 const gchar *what,
                 GError **error)
{
	xmlParserCtxt *ctxt;
	xmlDoc *doc;

	if (len > limits->max_document) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s of %" G_GSIZE_FORMAT " bytes is over the cap of %" G_GSIZE_FORMAT,
		            what,
		            len,
		            limits->max_document);
		return NULL;
	}
	if (len == 0 || len > G_MAXINT) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "%s is empty", what);
		return NULL;
	}
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_INTERNAL, "no XML parser");
		return NULL;
	}
	doc = xmlCtxtReadMemory(ctxt,
	                        data,
	                        (int)len,
	                        url,
	                        NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                            XML_PARSE_NOCDATA);
	if (doc == NULL || !ctxt->wellFormed) {
		const xmlError *xerr = xmlCtxtGetLastError(ctxt);
		g_autofree gchar *msg = xerr != NULL && xerr->message != NULL
		                            ? g_strstrip(g_strdup(xerr->message))
		                            : g_strdup("not well-formed");
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "%s is not XML: %s", what, msg);
		if (doc != NULL)
			xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return NULL;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "%s has a DOCTYPE", what);
		xmlFreeDoc(doc);
		return NULL;
	}
	if (gw_upnp_count_elements(xmlDocGetRootElement(doc), limits->max_elements) >
	    limits->max_elements) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s has more than %u elements",
		            what,
		            limits->max_elements);
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* ---- names ---- */

gchar *
gw_upnp_node_name(const gchar *name, gboolean is_service_id, GHashTable *taken)
{
	const gchar *p = name != NULL ? name : "";
	g_autoptr(GString) base = g_string_new(NULL);
	g_autofree gchar *candidate = NULL;

	if (is_service_id) {
		const gchar *s = strstr(p, ":serviceId:");
		if (s != NULL)
			p = s + strlen(":serviceId:");
	}
	for (; *p != '\0' && base->len < GW_UPNP_MAX_NAME; p++) {
		gchar c = *p;
		g_string_append_c(base, g_ascii_isalnum(c) || c == '_' || c == '-' ? c : '_');
	}
	if (base->len == 0)
		g_string_append(base, is_service_id ? "Service" : "Node");
	candidate = g_strdup(base->str);
	for (guint n = 2; taken != NULL && g_hash_table_contains(taken, candidate); n++) {
		g_free(candidate);
		candidate = g_strdup_printf("%s_%u", base->str, n);
	}
	if (taken != NULL)
		g_hash_table_add(taken, g_strdup(candidate));
	return g_steal_pointer(&candidate);
}

/* ---- the description ---- */

static void
gw_upnp_service_desc_free(GwUpnpServiceDesc *s)
{
	g_free(s->service_type);
	g_free(s->service_id);
	g_free(s->node_name);
	g_free(s->udn);
	g_free(s->scpd_url);
	g_free(s->control_url);
	g_free(s->event_url);
	g_free(s);
}

void
gw_upnp_description_free(GwUpnpDescription *desc)
{
	if (desc == NULL)
		return;
	if (desc->doc != NULL)
		xmlFreeDoc(desc->doc);
	g_free(desc->location);
	g_free(desc->udn);
	g_free(desc->device_type);
	g_free(desc->friendly_name);
	g_free(desc->manufacturer);
	g_free(desc->model_name);
	g_free(desc->model_number);
	g_free(desc->serial_number);
	g_free(desc->url_base);
	g_ptr_array_unref(desc->services);
	g_free(desc);
}

xmlDoc *
gw_upnp_description_steal_doc(GwUpnpDescription *desc)
{
	return g_steal_pointer(&desc->doc);
}

static gboolean
gw_upnp_udn_is_valid(const gchar *udn)
{
	gsize len = udn != NULL ? strlen(udn) : 0;

	if (len <= 5 || len > GW_UPNP_MAX_UDN || g_ascii_strncasecmp(udn, "uuid:", 5) != 0)
		return FALSE;
	for (const gchar *p = udn; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr(":._-", *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

/* @ref resolved against @base; NULL unless it is an http URL on @host */
static gchar *
gw_upnp_resolve(GUri *base, const gchar *ref, const gchar *host)
{
	g_autoptr(GUri) uri = NULL;

	if (ref == NULL || strlen(ref) > GW_UPNP_MAX_URL)
		return NULL;
	uri = g_uri_parse_relative(base, ref, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL || g_strcmp0(g_uri_get_scheme(uri), "http") != 0 ||
	    g_uri_get_host(uri) == NULL || g_ascii_strcasecmp(g_uri_get_host(uri), host) != 0)
		return NULL;
	return g_uri_to_string(uri);
}

typedef struct {
	GwUpnpDescription *desc;
	const GwUpnpLimits *limits;
	GUri *base;
	const gchar *host;
	GHashTable *taken; /* service node names */
	guint n_seen;      /* <service> elements, valid or not */
} GwUpnpWalk;

static gboolean
gw_upnp_collect_services(GwUpnpWalk *walk, xmlNode *device, guint depth, GError **error)
{
	g_autofree gchar *udn = gw_upnp_child_text(device, "UDN", GW_UPNP_MAX_UDN);
	xmlNode *list = gw_upnp_child(device, "serviceList");
	xmlNode *devices = gw_upnp_child(device, "deviceList");

	if (udn == NULL || !gw_upnp_udn_is_valid(udn)) {
		g_free(udn);
		udn = g_strdup(walk->desc->udn);
	}
	for (xmlNode *n = list != NULL ? list->children : NULL; n != NULL; n = n->next) {
		g_autoptr(GString) why = NULL;
		GwUpnpServiceDesc *s;
		g_autofree gchar *scpd = NULL;
		g_autofree gchar *control = NULL;
		g_autofree gchar *event = NULL;

		if (!gw_upnp_is_element(n, "service"))
			continue;
		if (++walk->n_seen > walk->limits->max_services) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "description has more than %u services",
			            walk->limits->max_services);
			return FALSE;
		}
		s = g_new0(GwUpnpServiceDesc, 1);
		s->service_type = gw_upnp_child_text(n, "serviceType", GW_UPNP_MAX_TEXT);
		s->service_id = gw_upnp_child_text(n, "serviceId", GW_UPNP_MAX_TEXT);
		scpd = gw_upnp_child_text(n, "SCPDURL", GW_UPNP_MAX_URL + 1);
		control = gw_upnp_child_text(n, "controlURL", GW_UPNP_MAX_URL + 1);
		event = gw_upnp_child_text(n, "eventSubURL", GW_UPNP_MAX_URL + 1);
		s->scpd_url = gw_upnp_resolve(walk->base, scpd, walk->host);
		s->control_url = gw_upnp_resolve(walk->base, control, walk->host);
		s->event_url =
		    event != NULL ? gw_upnp_resolve(walk->base, event, walk->host) : NULL;
		if (s->service_type == NULL || s->service_id == NULL)
			why = g_string_new("no serviceType or serviceId");
		else if (s->scpd_url == NULL || s->control_url == NULL ||
		         (event != NULL && s->event_url == NULL))
			why = g_string_new("a URL that is missing or leaves the device's host");
		if (why != NULL) {
			g_debug("%s: service %s left out: %s",
			        walk->desc->udn,
			        s->service_id != NULL ? s->service_id : "?",
			        why->str);
			gw_upnp_service_desc_free(s);
			continue;
		}
		s->udn = g_strdup(udn);
		s->node_name = gw_upnp_node_name(s->service_id, TRUE, walk->taken);
		s->element = n;
		g_ptr_array_add(walk->desc->services, s);
	}
	for (xmlNode *n = devices != NULL ? devices->children : NULL; n != NULL; n = n->next) {
		if (!gw_upnp_is_element(n, "device"))
			continue;
		if (depth + 1 > walk->limits->max_embedded) {
			g_debug("%s: embedded devices deeper than %u left out",
			        walk->desc->udn,
			        walk->limits->max_embedded);
			break;
		}
		if (!gw_upnp_collect_services(walk, n, depth + 1, error))
			return FALSE;
	}
	return TRUE;
}

GwUpnpDescription *
gw_upnp_description_parse(const gchar *data,
                          gsize len,
                          const gchar *location,
                          const GwUpnpLimits *limits,
                          GError **error)
{
	g_autoptr(GwUpnpDescription) desc = g_new0(GwUpnpDescription, 1);
	g_autoptr(GUri) loc = NULL;
	g_autoptr(GUri) base = NULL;
	g_autoptr(GHashTable) taken = NULL;
	g_autofree gchar *url_base = NULL;
	xmlNode *root;
	GwUpnpWalk walk = {0};

	desc->services = g_ptr_array_new_with_free_func((GDestroyNotify)gw_upnp_service_desc_free);
	desc->location = g_strdup(location);
	loc = g_uri_parse(location, G_URI_FLAGS_NONE, NULL);
	if (loc == NULL || g_strcmp0(g_uri_get_scheme(loc), "http") != 0 ||
	    g_uri_get_host(loc) == NULL || g_uri_get_host(loc)[0] == '\0') {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "location is not an http URL");
		return NULL;
	}
	desc->doc = gw_upnp_read_xml(data, len, location, limits, "description", error);
	if (desc->doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(desc->doc);
	if (root == NULL || !gw_upnp_is_element(root, "root")) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "description has no <root>");
		return NULL;
	}
	desc->device_element = gw_upnp_child(root, "device");
	if (desc->device_element == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "description has no <device>");
		return NULL;
	}
	desc->udn = gw_upnp_child_text(desc->device_element, "UDN", GW_UPNP_MAX_UDN + 1);
	if (!gw_upnp_udn_is_valid(desc->udn)) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "description has no valid UDN");
		return NULL;
	}
	desc->device_type =
	    gw_upnp_child_text(desc->device_element, "deviceType", GW_UPNP_MAX_TEXT);
	desc->friendly_name =
	    gw_upnp_child_text(desc->device_element, "friendlyName", GW_UPNP_MAX_TEXT);
	desc->manufacturer =
	    gw_upnp_child_text(desc->device_element, "manufacturer", GW_UPNP_MAX_TEXT);
	desc->model_name = gw_upnp_child_text(desc->device_element, "modelName", GW_UPNP_MAX_TEXT);
	desc->model_number =
	    gw_upnp_child_text(desc->device_element, "modelNumber", GW_UPNP_MAX_TEXT);
	desc->serial_number =
	    gw_upnp_child_text(desc->device_element, "serialNumber", GW_UPNP_MAX_TEXT);

	/* <URLBase> (UDA 1.0, deprecated) counts only when it stays on the location's host */
	url_base = gw_upnp_child_text(root, "URLBase", GW_UPNP_MAX_URL + 1);
	if (url_base != NULL) {
		g_autofree gchar *resolved = gw_upnp_resolve(loc, url_base, g_uri_get_host(loc));
		if (resolved != NULL)
			base = g_uri_parse(resolved, G_URI_FLAGS_NONE, NULL);
	}
	if (base == NULL)
		base = g_uri_ref(loc);
	desc->url_base = g_uri_to_string(base);

	taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	walk.desc = desc;
	walk.limits = limits;
	walk.base = base;
	walk.host = g_uri_get_host(loc);
	walk.taken = taken;
	if (!gw_upnp_collect_services(&walk, desc->device_element, 0, error))
		return NULL;
	return g_steal_pointer(&desc);
}

/* ---- SCPD ---- */

static void
gw_upnp_argument_free(GwUpnpArgument *arg)
{
	g_free(arg->name);
	g_free(arg->related);
	g_free(arg);
}

static void
gw_upnp_action_free(GwUpnpAction *action)
{
	g_free(action->name);
	g_free(action->node_name);
	g_ptr_array_unref(action->arguments);
	g_free(action);
}

static void
gw_upnp_variable_free(GwUpnpVariable *var)
{
	g_free(var->name);
	g_free(var->node_name);
	g_free(var->data_type);
	g_free(var);
}

void
gw_upnp_scpd_free(GwUpnpScpd *scpd)
{
	if (scpd == NULL)
		return;
	g_ptr_array_unref(scpd->actions);
	g_ptr_array_unref(scpd->variables);
	g_free(scpd);
}

static GwUpnpAction *
gw_upnp_parse_action(xmlNode *node, const GwUpnpLimits *limits, GError **error)
{
	g_autofree gchar *name = gw_upnp_child_text(node, "name", GW_UPNP_MAX_TEXT);
	xmlNode *list = gw_upnp_child(node, "argumentList");
	GwUpnpAction *action;
	g_autoptr(GHashTable) names = NULL;

	if (name == NULL)
		return NULL; /* left out */
	action = g_new0(GwUpnpAction, 1);
	action->name = g_steal_pointer(&name);
	action->arguments = g_ptr_array_new_with_free_func((GDestroyNotify)gw_upnp_argument_free);
	names = g_hash_table_new(g_str_hash, g_str_equal);
	for (xmlNode *n = list != NULL ? list->children : NULL; n != NULL; n = n->next) {
		GwUpnpArgument *arg;
		g_autofree gchar *direction = NULL;

		if (!gw_upnp_is_element(n, "argument"))
			continue;
		if (action->arguments->len >= limits->max_arguments) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "action %s has more than %u arguments",
			            action->name,
			            limits->max_arguments);
			gw_upnp_action_free(action);
			return NULL;
		}
		arg = g_new0(GwUpnpArgument, 1);
		arg->name = gw_upnp_child_text(n, "name", GW_UPNP_MAX_TEXT);
		direction = gw_upnp_child_text(n, "direction", 8);
		arg->related = gw_upnp_child_text(n, "relatedStateVariable", GW_UPNP_MAX_TEXT);
		arg->retval = gw_upnp_child(n, "retval") != NULL;
		if (arg->name == NULL || direction == NULL ||
		    (g_ascii_strcasecmp(direction, "in") != 0 &&
		     g_ascii_strcasecmp(direction, "out") != 0) ||
		    g_hash_table_contains(names, arg->name)) {
			g_set_error(
			    error,
			    GW_ERROR,
			    GW_ERROR_PROTOCOL,
			    "action %s has an argument without a name or direction, or twice",
			    action->name);
			gw_upnp_argument_free(arg);
			gw_upnp_action_free(action);
			return NULL;
		}
		arg->out = g_ascii_strcasecmp(direction, "out") == 0;
		if (arg->out)
			action->n_out++;
		else
			action->n_in++;
		g_hash_table_add(names, arg->name);
		g_ptr_array_add(action->arguments, arg);
	}
	return action;
}

GwUpnpScpd *
gw_upnp_scpd_parse(const gchar *data, gsize len, const GwUpnpLimits *limits, GError **error)
{
	g_autoptr(GwUpnpScpd) scpd = g_new0(GwUpnpScpd, 1);
	g_autoptr(GHashTable) action_nodes = NULL;
	g_autoptr(GHashTable) var_nodes = NULL;
	xmlDoc *doc;
	xmlNode *root;
	xmlNode *actions;
	xmlNode *table;
	gboolean ok = TRUE;

	scpd->actions = g_ptr_array_new_with_free_func((GDestroyNotify)gw_upnp_action_free);
	scpd->variables = g_ptr_array_new_with_free_func((GDestroyNotify)gw_upnp_variable_free);
	doc = gw_upnp_read_xml(data, len, NULL, limits, "SCPD", error);
	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !gw_upnp_is_element(root, "scpd")) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "SCPD has no <scpd>");
		xmlFreeDoc(doc);
		return NULL;
	}
	action_nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	var_nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	actions = gw_upnp_child(root, "actionList");
	for (xmlNode *n = actions != NULL ? actions->children : NULL; ok && n != NULL;
	     n = n->next) {
		g_autoptr(GError) local = NULL;
		GwUpnpAction *action;

		if (!gw_upnp_is_element(n, "action"))
			continue;
		if (scpd->actions->len >= limits->max_actions) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "SCPD has more than %u actions",
			            limits->max_actions);
			ok = FALSE;
			break;
		}
		action = gw_upnp_parse_action(n, limits, &local);
		if (local != NULL) {
			g_propagate_error(error, g_steal_pointer(&local));
			ok = FALSE;
			break;
		}
		if (action == NULL)
			continue;
		if (gw_upnp_scpd_find_action(scpd, action->name) != NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "action %s is there twice",
			            action->name);
			gw_upnp_action_free(action);
			ok = FALSE;
			break;
		}
		action->node_name = gw_upnp_node_name(action->name, FALSE, action_nodes);
		g_ptr_array_add(scpd->actions, action);
	}
	table = gw_upnp_child(root, "serviceStateTable");
	for (xmlNode *n = table != NULL ? table->children : NULL; ok && n != NULL; n = n->next) {
		GwUpnpVariable *var;
		xmlChar *events;

		if (!gw_upnp_is_element(n, "stateVariable"))
			continue;
		if (scpd->variables->len >= limits->max_variables) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "SCPD has more than %u state variables",
			            limits->max_variables);
			ok = FALSE;
			break;
		}
		var = g_new0(GwUpnpVariable, 1);
		var->name = gw_upnp_child_text(n, "name", GW_UPNP_MAX_TEXT);
		if (var->name == NULL || gw_upnp_scpd_find_variable(scpd, var->name) != NULL) {
			gw_upnp_variable_free(var);
			continue;
		}
		var->data_type = gw_upnp_child_text(n, "dataType", 32);
		if (var->data_type == NULL)
			var->data_type = g_strdup("string");
		/* UDA 1.0 §2.5: sendEvents defaults to "yes" */
		events = xmlGetProp(n, BAD_CAST "sendEvents");
		var->send_events = events == NULL || xmlStrcasecmp(events, BAD_CAST "no") != 0;
		xmlFree(events);
		var->node_name = gw_upnp_node_name(var->name, FALSE, var_nodes);
		g_ptr_array_add(scpd->variables, var);
	}
	xmlFreeDoc(doc);
	if (!ok)
		return NULL;
	return g_steal_pointer(&scpd);
}

const GwUpnpAction *
gw_upnp_scpd_find_action(const GwUpnpScpd *scpd, const gchar *name)
{
	for (guint i = 0; i < scpd->actions->len; i++) {
		const GwUpnpAction *a = g_ptr_array_index(scpd->actions, i);
		if (g_strcmp0(a->name, name) == 0)
			return a;
	}
	return NULL;
}

const GwUpnpVariable *
gw_upnp_scpd_find_variable(const GwUpnpScpd *scpd, const gchar *name)
{
	for (guint i = 0; name != NULL && i < scpd->variables->len; i++) {
		const GwUpnpVariable *v = g_ptr_array_index(scpd->variables, i);
		if (g_strcmp0(v->name, name) == 0)
			return v;
	}
	return NULL;
}

const GwUpnpAction *
gw_upnp_scpd_find_getter(const GwUpnpScpd *scpd, const gchar *variable, guint *out_index)
{
	const GwUpnpAction *best = NULL;
	guint best_index = 0;

	for (guint i = 0; i < scpd->actions->len; i++) {
		const GwUpnpAction *a = g_ptr_array_index(scpd->actions, i);
		if (a->n_in != 0)
			continue;
		for (guint j = 0; j < a->arguments->len; j++) {
			const GwUpnpArgument *arg = g_ptr_array_index(a->arguments, j);
			if (!arg->out || g_strcmp0(arg->related, variable) != 0)
				continue;
			if (best == NULL || (a->n_out == 1 && best->n_out != 1)) {
				best = a;
				best_index = j;
			}
		}
	}
	if (out_index != NULL)
		*out_index = best_index;
	return best;
}

/* ---- values ---- */

const gchar *
gw_upnp_boolean_normalize(const gchar *value)
{
	if (value == NULL)
		return NULL;
	if (g_strcmp0(value, "1") == 0 || g_ascii_strcasecmp(value, "true") == 0 ||
	    g_ascii_strcasecmp(value, "yes") == 0)
		return "1";
	if (g_strcmp0(value, "0") == 0 || g_ascii_strcasecmp(value, "false") == 0 ||
	    g_ascii_strcasecmp(value, "no") == 0)
		return "0";
	return NULL;
}

static gboolean
gw_upnp_int_in_range(const gchar *value, gint64 min, guint64 max)
{
	const gchar *digits = value;

	if (*digits == '+')
		digits++;
	if (value[0] == '-') {
		gint64 v = 0;
		return min < 0 && g_ascii_string_to_signed(value, 10, min, -1, &v, NULL);
	}
	if (!g_ascii_isdigit(*digits))
		return FALSE;
	return g_ascii_string_to_unsigned(digits, 10, 0, max, NULL, NULL);
}

static gboolean
gw_upnp_is_xml_text(const gchar *value)
{
	if (!g_utf8_validate(value, -1, NULL))
		return FALSE;
	for (const gchar *p = value; *p != '\0'; p++) {
		guchar c = (guchar)*p;
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return FALSE;
	}
	return TRUE;
}

gboolean
gw_upnp_value_is_valid(const gchar *data_type, const gchar *value)
{
	const gchar *t = data_type != NULL ? data_type : "string";

	if (value == NULL || strlen(value) > GW_UPNP_MAX_VALUE)
		return FALSE;
	if (g_strcmp0(t, "ui1") == 0)
		return gw_upnp_int_in_range(value, 0, G_MAXUINT8);
	if (g_strcmp0(t, "ui2") == 0)
		return gw_upnp_int_in_range(value, 0, G_MAXUINT16);
	if (g_strcmp0(t, "ui4") == 0)
		return gw_upnp_int_in_range(value, 0, G_MAXUINT32);
	if (g_strcmp0(t, "ui8") == 0)
		return gw_upnp_int_in_range(value, 0, G_MAXUINT64);
	if (g_strcmp0(t, "i1") == 0)
		return gw_upnp_int_in_range(value, G_MININT8, G_MAXINT8);
	if (g_strcmp0(t, "i2") == 0)
		return gw_upnp_int_in_range(value, G_MININT16, G_MAXINT16);
	if (g_strcmp0(t, "i4") == 0)
		return gw_upnp_int_in_range(value, G_MININT32, G_MAXINT32);
	if (g_strcmp0(t, "i8") == 0 || g_strcmp0(t, "int") == 0)
		return gw_upnp_int_in_range(value, G_MININT64, G_MAXINT64);
	if (g_strcmp0(t, "boolean") == 0)
		return gw_upnp_boolean_normalize(value) != NULL;
	if (g_strcmp0(t, "r4") == 0 || g_strcmp0(t, "r8") == 0 || g_strcmp0(t, "number") == 0 ||
	    g_strcmp0(t, "float") == 0 || g_strcmp0(t, "fixed.14.4") == 0) {
		gchar *end = NULL;
		gdouble d;
		if (value[0] == '\0' || g_ascii_isspace(value[0]))
			return FALSE;
		d = g_ascii_strtod(value, &end);
		return end != NULL && *end == '\0' && isfinite(d);
	}
	if (g_strcmp0(t, "char") == 0)
		return g_utf8_validate(value, -1, NULL) && g_utf8_strlen(value, -1) == 1 &&
		       gw_upnp_is_xml_text(value);
	return gw_upnp_is_xml_text(value);
}

const gchar *
gw_upnp_data_type_format(const gchar *data_type)
{
	static const gchar *const ints[] = {
	    "ui1", "ui2", "ui4", "ui8", "i1", "i2", "i4", "i8", "int", "boolean", NULL};
	static const gchar *const floats[] = {"r4", "r8", "number", "float", "fixed.14.4", NULL};

	if (data_type != NULL && g_strv_contains(ints, data_type))
		return "int";
	if (data_type != NULL && g_strv_contains(floats, data_type))
		return "float";
	return "chr";
}

/* ---- Exec data ---- */

/* one side of a form field, decoded; NULL when malformed */
static gchar *
gw_upnp_form_decode(const gchar *start, gsize len)
{
	g_autofree gchar *raw = g_strndup(start, len);
	gchar *decoded;

	g_strdelimit(raw, "+", ' ');
	decoded = g_uri_unescape_string(raw, NULL);
	if (decoded != NULL && !g_utf8_validate(decoded, -1, NULL))
		g_clear_pointer(&decoded, g_free);
	return decoded;
}

gchar **
gw_upnp_args_parse(const GwUpnpScpd *scpd,
                   const GwUpnpAction *action,
                   const gchar *data,
                   gsize len,
                   GError **error)
{
	/* sparse until every argument is there: freed slot by slot, not as a GStrv */
	g_autoptr(GPtrArray) slots = g_ptr_array_new_full(action->n_in, g_free);
	gchar **values;
	g_autofree gchar *text = NULL;
	g_auto(GStrv) fields = NULL;
	guint pos = 0;

	if (len > GW_UPNP_MAX_ARGS_DATA) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "arguments of %" G_GSIZE_FORMAT " bytes are over %u",
		            len,
		            GW_UPNP_MAX_ARGS_DATA);
		return NULL;
	}
	if (len > 0 && memchr(data, '\0', len) != NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "arguments contain a NUL");
		return NULL;
	}
	g_ptr_array_set_size(slots, (gint)action->n_in);
	text = g_strndup(data != NULL ? data : "", len);
	fields = g_strsplit(text, "&", -1);
	for (guint f = 0; fields[f] != NULL; f++) {
		const gchar *eq = strchr(fields[f], '=');
		g_autofree gchar *name = NULL;
		g_autofree gchar *value = NULL;
		const GwUpnpArgument *arg = NULL;
		guint slot = 0;

		if (fields[f][0] == '\0')
			continue;
		if (eq == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "argument field %u has no \"=\"",
			            f + 1);
			return NULL;
		}
		name = gw_upnp_form_decode(fields[f], (gsize)(eq - fields[f]));
		value = gw_upnp_form_decode(eq + 1, strlen(eq + 1));
		if (name == NULL || value == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "argument field %u is not valid URL-encoded UTF-8",
			            f + 1);
			return NULL;
		}
		pos = 0;
		for (guint i = 0; i < action->arguments->len; i++) {
			const GwUpnpArgument *a = g_ptr_array_index(action->arguments, i);
			if (a->out)
				continue;
			if (g_strcmp0(a->name, name) == 0) {
				arg = a;
				slot = pos;
				break;
			}
			pos++;
		}
		if (arg == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "%s has no in-argument \"%.64s\"",
			            action->name,
			            name);
			return NULL;
		}
		if (g_ptr_array_index(slots, slot) != NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "argument %s is given twice",
			            arg->name);
			return NULL;
		}
		{
			const GwUpnpVariable *var = gw_upnp_scpd_find_variable(scpd, arg->related);
			const gchar *type = var != NULL ? var->data_type : "string";
			if (!gw_upnp_value_is_valid(type, value)) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_INVALID_ARGS,
				            "argument %s is not a valid %s",
				            arg->name,
				            type);
				return NULL;
			}
		}
		g_ptr_array_index(slots, slot) = g_steal_pointer(&value);
	}
	pos = 0;
	for (guint i = 0; i < action->arguments->len; i++) {
		const GwUpnpArgument *a = g_ptr_array_index(action->arguments, i);
		if (a->out)
			continue;
		if (g_ptr_array_index(slots, pos) == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "argument %s is missing",
			            a->name);
			return NULL;
		}
		pos++;
	}
	values = g_new0(gchar *, action->n_in + 1);
	for (guint i = 0; i < action->n_in; i++)
		values[i] = g_steal_pointer(&slots->pdata[i]);
	return values;
}

gchar *
gw_upnp_args_encode(const gchar *const *names, const gchar *const *values)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *n = g_uri_escape_string(names[i], NULL, FALSE);
		g_autofree gchar *v =
		    g_uri_escape_string(values[i] != NULL ? values[i] : "", NULL, FALSE);
		if (i > 0)
			g_string_append_c(out, '&');
		g_string_append_printf(out, "%s=%s", n, v);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}
