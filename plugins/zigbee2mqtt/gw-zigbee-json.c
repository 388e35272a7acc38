/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The zigbee2mqtt payloads, parsed with json-glib under bounds (gw-zigbee-json.h).
 */

#include "gw-zigbee-json.h"

#include <gw-plugin-sdk.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

void
gw_zigbee_expose_free(GwZigbeeExpose *expose)
{
	if (expose == NULL)
		return;
	g_free(expose->property);
	g_free(expose->value_on);
	g_free(expose->value_off);
	g_free(expose->value_on_json);
	g_free(expose->value_off_json);
	g_strfreev(expose->values);
	g_free(expose);
}

void
gw_zigbee_device_desc_free(GwZigbeeDeviceDesc *desc)
{
	if (desc == NULL)
		return;
	g_free(desc->ieee);
	g_free(desc->friendly_name);
	g_free(desc->type);
	g_free(desc->vendor);
	g_free(desc->model);
	g_free(desc->description);
	g_free(desc->power_source);
	g_free(desc->software_build_id);
	g_clear_pointer(&desc->exposes, g_ptr_array_unref);
	g_free(desc);
}

void
gw_zigbee_response_free(GwZigbeeResponse *response)
{
	if (response == NULL)
		return;
	g_free(response->error);
	g_free(response->transaction);
	g_free(response);
}

void
gw_zigbee_event_free(GwZigbeeEvent *event)
{
	if (event == NULL)
		return;
	g_free(event->type);
	g_free(event->ieee);
	g_free(event->friendly_name);
	g_free(event);
}

gboolean
gw_zigbee_name_is_valid(const gchar *name)
{
	gsize len;

	if (name == NULL)
		return FALSE;
	len = strlen(name);
	if (len == 0 || len > 64 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
			return FALSE;
	}
	return TRUE;
}

/* a printable UTF-8 string of at most GW_ZIGBEE_MAX_STRING bytes, or NULL */
static gchar *
gw_zigbee_dup_string(JsonObject *obj, const gchar *member)
{
	JsonNode *node = json_object_get_member(obj, member);
	const gchar *s;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	s = json_node_get_string(node);
	if (s == NULL || strlen(s) > GW_ZIGBEE_MAX_STRING || !g_utf8_validate(s, -1, NULL))
		return NULL;
	for (const gchar *p = s; *p != '\0'; p++) {
		if ((guchar)*p < 0x20)
			return NULL;
	}
	return g_strdup(s);
}

static gboolean
gw_zigbee_get_number(JsonObject *obj, const gchar *member, gdouble *out)
{
	JsonNode *node = json_object_get_member(obj, member);
	GType t;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return FALSE;
	t = json_node_get_value_type(node);
	if (t == G_TYPE_INT64)
		*out = (gdouble)json_node_get_int(node);
	else if (t == G_TYPE_DOUBLE)
		*out = json_node_get_double(node);
	else
		return FALSE;
	return isfinite(*out);
}

/* the state text of a JSON value: strings as they are, booleans true/false, numbers as JSON
 * writes them, anything else its JSON text; NULL when longer than GW_ZIGBEE_MAX_STRING */
static gchar *
gw_zigbee_node_text(JsonNode *node)
{
	g_autofree gchar *text = NULL;

	GType t = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;

	if (t == G_TYPE_STRING) {
		text = g_strdup(json_node_get_string(node));
	} else if (t == G_TYPE_BOOLEAN) {
		text = g_strdup(json_node_get_boolean(node) ? "true" : "false");
	} else if (t == G_TYPE_INT64) {
		text = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
	} else if (t == G_TYPE_DOUBLE) {
		/* not json_to_string(): json-glib 1.6 writes 1e308 as "1e+308.0" */
		gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
		if (!isfinite(json_node_get_double(node)))
			return NULL;
		text = g_strdup(g_ascii_dtostr(buf, sizeof buf, json_node_get_double(node)));
	} else {
		text = json_to_string(node, FALSE);
	}
	if (text == NULL || strlen(text) > GW_ZIGBEE_MAX_STRING)
		return NULL;
	return g_steal_pointer(&text);
}

/*
 * TRUE when no array or object of @data (JSON or not) nests deeper than GW_ZIGBEE_MAX_NESTING.
 * json-glib's parser recurses once per level with no limit of its own: 100,000 '[' (100 KB,
 * well under max-message-size) overflowed gwmod's stack. Brackets inside strings do not count.
 */
static gboolean
gw_zigbee_nesting_ok(const gchar *data, gsize len)
{
	guint depth = 0;
	gboolean in_string = FALSE;

	for (gsize i = 0; i < len; i++) {
		gchar c = data[i];

		if (in_string) {
			if (c == '\\')
				i++; /* the escaped character, whatever it is */
			else if (c == '"')
				in_string = FALSE;
		} else if (c == '"') {
			in_string = TRUE;
		} else if (c == '[' || c == '{') {
			if (++depth > GW_ZIGBEE_MAX_NESTING)
				return FALSE;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return TRUE;
}

static gboolean
gw_zigbee_parse_root(const gchar *data,
                     gsize len,
                     gsize max_size,
                     JsonParser **parser_out,
                     JsonNode **root,
                     GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) local = NULL;

	if (len > max_size) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "payload of %" G_GSIZE_FORMAT
		            " bytes is over the limit of %" G_GSIZE_FORMAT,
		            len,
		            max_size);
		return FALSE;
	}
	if (len > G_MAXSSIZE || (data == NULL && len > 0)) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "no payload");
		return FALSE;
	}
	if (!gw_zigbee_nesting_ok(data, len)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "JSON nested deeper than %u levels",
		            GW_ZIGBEE_MAX_NESTING);
		return FALSE;
	}
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, data != NULL ? data : "", (gssize)len, &local)) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "not JSON: %s", local->message);
		return FALSE;
	}
	*root = json_parser_get_root(parser);
	if (*root == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "empty payload");
		return FALSE;
	}
	*parser_out = g_steal_pointer(&parser);
	return TRUE;
}

/* ---- exposes ---- */

/* a whole number an int leaf can hold exactly (no libm: the project links none) */
static gboolean
gw_zigbee_is_integral(gdouble v)
{
	return isfinite(v) && v > -1e15 && v < 1e15 && v == (gdouble)(gint64)v;
}

static void
gw_zigbee_add_exposes(JsonArray *array, guint depth, GPtrArray *out);

static void
gw_zigbee_add_expose(JsonObject *obj, guint depth, GPtrArray *out)
{
	g_autofree gchar *type = gw_zigbee_dup_string(obj, "type");
	JsonNode *features = json_object_get_member(obj, "features");
	g_autoptr(GwZigbeeExpose) e = NULL;
	gdouble access = 0;
	gboolean is_int;
	gdouble step = 0;

	if (type == NULL)
		return;
	/* a specific expose (light, switch, lock, climate, …) or a composite: its features are
	 * the leaves; a composite with a property of its own is set as a whole, kept as JSON */
	if (features != NULL && JSON_NODE_HOLDS_ARRAY(features) &&
	    (strcmp(type, "composite") != 0 || !json_object_has_member(obj, "property"))) {
		if (depth < GW_ZIGBEE_MAX_DEPTH)
			gw_zigbee_add_exposes(json_node_get_array(features), depth + 1, out);
		return;
	}
	if (out->len >= GW_ZIGBEE_MAX_EXPOSES)
		return;
	e = g_new0(GwZigbeeExpose, 1);
	e->property = gw_zigbee_dup_string(obj, "property");
	if (!gw_zigbee_name_is_valid(e->property))
		return;
	for (guint i = 0; i < out->len; i++) {
		if (strcmp(((GwZigbeeExpose *)g_ptr_array_index(out, i))->property, e->property) ==
		    0)
			return; /* the first one wins */
	}
	if (!gw_zigbee_get_number(obj, "access", &access) || access < 0 || access > 7)
		return;
	e->access = (guint)access;
	if (strcmp(type, "binary") == 0) {
		JsonNode *on = json_object_get_member(obj, "value_on");
		JsonNode *off = json_object_get_member(obj, "value_off");
		if (on == NULL || off == NULL || !JSON_NODE_HOLDS_VALUE(on) ||
		    !JSON_NODE_HOLDS_VALUE(off))
			return;
		e->type = GW_ZIGBEE_EXPOSE_BINARY;
		e->format = "bool";
		e->value_on = gw_zigbee_node_text(on);
		e->value_off = gw_zigbee_node_text(off);
		e->value_on_json = json_to_string(on, FALSE);
		e->value_off_json = json_to_string(off, FALSE);
		if (e->value_on == NULL || e->value_off == NULL || e->value_on_json == NULL ||
		    e->value_off_json == NULL || strcmp(e->value_on, e->value_off) == 0)
			return;
	} else if (strcmp(type, "numeric") == 0) {
		e->type = GW_ZIGBEE_EXPOSE_NUMERIC;
		e->has_min = gw_zigbee_get_number(obj, "value_min", &e->value_min);
		e->has_max = gw_zigbee_get_number(obj, "value_max", &e->value_max);
		is_int = e->has_min && e->has_max && gw_zigbee_is_integral(e->value_min) &&
		         gw_zigbee_is_integral(e->value_max);
		if (gw_zigbee_get_number(obj, "value_step", &step) && !gw_zigbee_is_integral(step))
			is_int = FALSE;
		e->format = is_int ? "int" : "float";
	} else if (strcmp(type, "enum") == 0) {
		JsonNode *values = json_object_get_member(obj, "values");
		g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
		JsonArray *array;
		if (values == NULL || !JSON_NODE_HOLDS_ARRAY(values))
			return;
		array = json_node_get_array(values);
		for (guint i = 0; i < json_array_get_length(array) && i < GW_ZIGBEE_MAX_ENUM; i++) {
			gchar *text = gw_zigbee_node_text(json_array_get_element(array, i));
			if (text != NULL)
				g_ptr_array_add(list, text);
		}
		g_ptr_array_add(list, NULL);
		e->values = (gchar **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
		e->type = GW_ZIGBEE_EXPOSE_ENUM;
		e->format = "chr";
	} else if (strcmp(type, "text") == 0) {
		e->type = GW_ZIGBEE_EXPOSE_TEXT;
		e->format = "chr";
	} else {
		e->type = GW_ZIGBEE_EXPOSE_OTHER;
		e->format = "chr";
	}
	g_ptr_array_add(out, g_steal_pointer(&e));
}

static void
gw_zigbee_add_exposes(JsonArray *array, guint depth, GPtrArray *out)
{
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *node = json_array_get_element(array, i);
		if (JSON_NODE_HOLDS_OBJECT(node))
			gw_zigbee_add_expose(json_node_get_object(node), depth, out);
		if (out->len >= GW_ZIGBEE_MAX_EXPOSES)
			return;
	}
}

/* "0x" and 16 hex digits */
static gboolean
gw_zigbee_ieee_is_valid(const gchar *ieee)
{
	if (ieee == NULL || strlen(ieee) != 18 || ieee[0] != '0' || ieee[1] != 'x')
		return FALSE;
	for (guint i = 2; i < 18; i++) {
		if (!g_ascii_isxdigit(ieee[i]))
			return FALSE;
	}
	return TRUE;
}

static GwZigbeeDeviceDesc *
gw_zigbee_parse_device(JsonObject *obj)
{
	g_autoptr(GwZigbeeDeviceDesc) d = g_new0(GwZigbeeDeviceDesc, 1);
	JsonNode *def = json_object_get_member(obj, "definition");
	JsonNode *build = json_object_get_member(obj, "software_build_id");

	d->ieee = gw_zigbee_dup_string(obj, "ieee_address");
	d->friendly_name = gw_zigbee_dup_string(obj, "friendly_name");
	d->type = gw_zigbee_dup_string(obj, "type");
	if (!gw_zigbee_ieee_is_valid(d->ieee) || d->friendly_name == NULL ||
	    d->friendly_name[0] == '\0' || d->type == NULL)
		return NULL;
	/* lower case: one DeviceID per device whatever the bridge's spelling */
	for (gchar *p = d->ieee; *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	d->power_source = gw_zigbee_dup_string(obj, "power_source");
	if (build != NULL && JSON_NODE_HOLDS_VALUE(build))
		d->software_build_id = gw_zigbee_node_text(build);
	d->exposes = g_ptr_array_new_with_free_func((GDestroyNotify)gw_zigbee_expose_free);
	if (def != NULL && JSON_NODE_HOLDS_OBJECT(def)) {
		JsonObject *dobj = json_node_get_object(def);
		JsonNode *exposes = json_object_get_member(dobj, "exposes");
		JsonNode *ota = json_object_get_member(dobj, "supports_ota");
		d->vendor = gw_zigbee_dup_string(dobj, "vendor");
		d->model = gw_zigbee_dup_string(dobj, "model");
		d->description = gw_zigbee_dup_string(dobj, "description");
		d->supports_ota = ota != NULL && JSON_NODE_HOLDS_VALUE(ota) &&
		                  json_node_get_value_type(ota) == G_TYPE_BOOLEAN &&
		                  json_node_get_boolean(ota);
		if (exposes != NULL && JSON_NODE_HOLDS_ARRAY(exposes))
			gw_zigbee_add_exposes(json_node_get_array(exposes), 0, d->exposes);
	}
	/* an unsupported device has no definition: what it told of itself */
	if (d->vendor == NULL)
		d->vendor = gw_zigbee_dup_string(obj, "manufacturer");
	if (d->model == NULL)
		d->model = gw_zigbee_dup_string(obj, "model_id");
	return g_steal_pointer(&d);
}

GPtrArray *
gw_zigbee_parse_devices(const gchar *data,
                        gsize len,
                        gsize max_size,
                        guint max_devices,
                        guint *skipped,
                        GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonNode *root = NULL;
	JsonArray *array;
	g_autoptr(GPtrArray) out = NULL;
	guint bad = 0;

	if (!gw_zigbee_parse_root(data, len, max_size, &parser, &root, error))
		return NULL;
	if (!JSON_NODE_HOLDS_ARRAY(root)) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "bridge/devices is not an array");
		return NULL;
	}
	array = json_node_get_array(root);
	if (json_array_get_length(array) > max_devices + 1) { /* + the Coordinator */
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "bridge/devices lists %u devices, over the limit of %u",
		            json_array_get_length(array),
		            max_devices);
		return NULL;
	}
	out = g_ptr_array_new_with_free_func((GDestroyNotify)gw_zigbee_device_desc_free);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *node = json_array_get_element(array, i);
		GwZigbeeDeviceDesc *d = NULL;
		gboolean dup = FALSE;
		if (JSON_NODE_HOLDS_OBJECT(node))
			d = gw_zigbee_parse_device(json_node_get_object(node));
		if (d == NULL) {
			/* the list is the bridge's word on who is there: one that names a device
			 * it cannot be read of would detach every device it does not name
			 * ("[1,2,3]" all of them); a bridge never sends it, so it is dropped */
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "bridge/devices entry %u has no valid ieee_address, "
			            "friendly_name or type",
			            i);
			return NULL;
		}
		if (strcmp(d->type, "Coordinator") == 0) {
			gw_zigbee_device_desc_free(d);
			continue;
		}
		for (guint j = 0; j < out->len && !dup; j++) {
			GwZigbeeDeviceDesc *o = g_ptr_array_index(out, j);
			dup = strcmp(o->ieee, d->ieee) == 0 ||
			      strcmp(o->friendly_name, d->friendly_name) == 0;
		}
		if (dup || out->len >= max_devices) {
			bad++;
			gw_zigbee_device_desc_free(d);
			continue;
		}
		g_ptr_array_add(out, d);
	}
	if (skipped != NULL)
		*skipped = bad;
	return g_steal_pointer(&out);
}

GwZigbeeEvent *
gw_zigbee_parse_event(const gchar *data, gsize len, gsize max_size, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonNode *root = NULL;
	JsonObject *obj;
	JsonNode *dnode;
	GwZigbeeEvent *ev;

	if (!gw_zigbee_parse_root(data, len, max_size, &parser, &root, error))
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "bridge/event is not an object");
		return NULL;
	}
	obj = json_node_get_object(root);
	ev = g_new0(GwZigbeeEvent, 1);
	ev->type = gw_zigbee_dup_string(obj, "type");
	dnode = json_object_get_member(obj, "data");
	if (dnode != NULL && JSON_NODE_HOLDS_OBJECT(dnode)) {
		JsonObject *d = json_node_get_object(dnode);
		ev->ieee = gw_zigbee_dup_string(d, "ieee_address");
		ev->friendly_name = gw_zigbee_dup_string(d, "friendly_name");
		if (ev->ieee != NULL && !gw_zigbee_ieee_is_valid(ev->ieee))
			g_clear_pointer(&ev->ieee, g_free);
		for (gchar *p = ev->ieee; p != NULL && *p != '\0'; p++)
			*p = g_ascii_tolower(*p);
	}
	if (ev->type == NULL) {
		gw_zigbee_event_free(ev);
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "bridge/event without a type");
		return NULL;
	}
	return ev;
}

GwZigbeeResponse *
gw_zigbee_parse_response(const gchar *data, gsize len, gsize max_size, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonNode *root = NULL;
	JsonObject *obj;
	JsonNode *tr;
	g_autofree gchar *status = NULL;
	GwZigbeeResponse *r;

	if (!gw_zigbee_parse_root(data, len, max_size, &parser, &root, error))
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "a response is not an object");
		return NULL;
	}
	obj = json_node_get_object(root);
	status = gw_zigbee_dup_string(obj, "status");
	if (g_strcmp0(status, "ok") != 0 && g_strcmp0(status, "error") != 0) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "a response without a status");
		return NULL;
	}
	r = g_new0(GwZigbeeResponse, 1);
	r->ok = g_strcmp0(status, "ok") == 0;
	r->error = gw_zigbee_dup_string(obj, "error");
	tr = json_object_get_member(obj, "transaction");
	if (tr != NULL && JSON_NODE_HOLDS_VALUE(tr))
		r->transaction = gw_zigbee_node_text(tr);
	return r;
}

gboolean
gw_zigbee_parse_online(const gchar *data, gsize len, gboolean *online, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonNode *root = NULL;
	g_autofree gchar *state = NULL;

	/* the legacy plain text */
	if (data != NULL && len == 6 && memcmp(data, "online", 6) == 0) {
		*online = TRUE;
		return TRUE;
	}
	if (data != NULL && len == 7 && memcmp(data, "offline", 7) == 0) {
		*online = FALSE;
		return TRUE;
	}
	if (!gw_zigbee_parse_root(data, len, 4096, &parser, &root, error))
		return FALSE;
	if (JSON_NODE_HOLDS_OBJECT(root))
		state = gw_zigbee_dup_string(json_node_get_object(root), "state");
	if (g_strcmp0(state, "online") == 0 || g_strcmp0(state, "offline") == 0) {
		*online = g_strcmp0(state, "online") == 0;
		return TRUE;
	}
	g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "neither online nor offline");
	return FALSE;
}

GHashTable *
gw_zigbee_parse_state(const gchar *data, gsize len, gsize max_size, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonNode *root = NULL;
	JsonObject *obj;
	g_autoptr(GHashTable) out = NULL;
	JsonObjectIter iter;
	const gchar *name;
	JsonNode *node;

	if (!gw_zigbee_parse_root(data, len, max_size, &parser, &root, error))
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "a state message is not an object");
		return NULL;
	}
	obj = json_node_get_object(root);
	out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	json_object_iter_init(&iter, obj);
	while (json_object_iter_next(&iter, &name, &node)) {
		gchar *text;
		if (!gw_zigbee_name_is_valid(name) || JSON_NODE_HOLDS_NULL(node))
			continue;
		if (g_hash_table_size(out) >= GW_ZIGBEE_MAX_STATE_KEYS)
			break;
		text = gw_zigbee_node_text(node);
		if (text != NULL)
			g_hash_table_insert(out, g_strdup(name), text);
	}
	return g_steal_pointer(&out);
}

gchar *
gw_zigbee_value_to_dm(const GwZigbeeExpose *expose, const gchar *state_text)
{
	if (expose->type == GW_ZIGBEE_EXPOSE_BINARY) {
		if (g_strcmp0(state_text, expose->value_on) == 0)
			return g_strdup("true");
		if (g_strcmp0(state_text, expose->value_off) == 0)
			return g_strdup("false");
	}
	return g_strdup(state_text);
}

static gboolean
gw_zigbee_parse_double(const gchar *text, gdouble *out)
{
	gchar *end = NULL;

	if (text == NULL || text[0] == '\0' || g_ascii_isspace(text[0]))
		return FALSE;
	*out = g_ascii_strtod(text, &end);
	return end != NULL && *end == '\0' && isfinite(*out);
}

gboolean
gw_zigbee_state_text_equal(const gchar *a, const gchar *b)
{
	gdouble x, y;

	if (a == NULL || b == NULL)
		return a == b;
	if (gw_zigbee_parse_double(a, &x) && gw_zigbee_parse_double(b, &y))
		return x == y;
	return strcmp(a, b) == 0;
}

static gchar *
gw_zigbee_json_string(const gchar *text)
{
	g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), text);

	return json_to_string(node, FALSE);
}

gchar *
gw_zigbee_value_to_json(const GwZigbeeExpose *expose, const gchar *dm_value, GError **error)
{
	gdouble v;

	if (dm_value == NULL || strlen(dm_value) > GW_ZIGBEE_MAX_STRING ||
	    !g_utf8_validate(dm_value, -1, NULL)) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "the value is too long or not UTF-8");
		return NULL;
	}
	switch (expose->type) {
	case GW_ZIGBEE_EXPOSE_BINARY:
		if (strcmp(dm_value, "true") == 0 || strcmp(dm_value, "1") == 0 ||
		    strcmp(dm_value, expose->value_on) == 0)
			return g_strdup(expose->value_on_json);
		if (strcmp(dm_value, "false") == 0 || strcmp(dm_value, "0") == 0 ||
		    strcmp(dm_value, expose->value_off) == 0)
			return g_strdup(expose->value_off_json);
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "the value is not a bool (true or false)");
		return NULL;
	case GW_ZIGBEE_EXPOSE_NUMERIC:
		if (!gw_zigbee_parse_double(dm_value, &v) ||
		    (strcmp(expose->format, "int") == 0 && !gw_zigbee_is_integral(v))) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "the value is not a valid %s",
			            expose->format);
			return NULL;
		}
		if ((expose->has_min && v < expose->value_min) ||
		    (expose->has_max && v > expose->value_max)) {
			g_set_error(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "the value is out of range");
			return NULL;
		}
		if (strcmp(expose->format, "int") == 0)
			return g_strdup_printf("%" G_GINT64_FORMAT, (gint64)v);
		{
			gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
			return g_strdup(g_ascii_dtostr(buf, sizeof buf, v));
		}
	case GW_ZIGBEE_EXPOSE_ENUM:
		if (expose->values == NULL ||
		    !g_strv_contains((const gchar *const *)expose->values, dm_value)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "the value is not one of the enum's");
			return NULL;
		}
		return gw_zigbee_json_string(dm_value);
	case GW_ZIGBEE_EXPOSE_TEXT:
		return gw_zigbee_json_string(dm_value);
	case GW_ZIGBEE_EXPOSE_OTHER:
	default: {
		/* the value as the DM Server wrote it once it is known to be JSON the adapter reads
		 * back (not re-serialised: json-glib 1.6 writes 1e308 as "1e+308.0") */
		g_autoptr(JsonParser) parser = json_parser_new_immutable();
		g_autofree gchar *wrapped = g_strdup_printf("{\"v\":%s}", dm_value);
		/* alone first: one value, not members smuggled into the /set object */
		if (!json_parser_load_from_data(parser, dm_value, -1, NULL) ||
		    json_parser_get_root(parser) == NULL ||
		    !json_parser_load_from_data(parser, wrapped, -1, NULL)) {
			g_set_error(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "the value is not JSON");
			return NULL;
		}
		return g_strdup(dm_value);
	}
	}
}
