/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwPeer"

#include "config.h"

#include <string.h>

#include "gw-peer-common.h"
#include "gw-wbxml.h"

gboolean
gw_peer_parse_auth_type(const gchar *name, GwDmAuthType *type, GError **error)
{
	static const struct {
		const gchar *name;
		GwDmAuthType type;
	} map[] = {
	    {"none", GW_DM_AUTH_TYPE_NONE},
	    {"basic", GW_DM_AUTH_TYPE_BASIC},
	    {"md5", GW_DM_AUTH_TYPE_MD5},
	    {"hmac", GW_DM_AUTH_TYPE_HMAC},
	};

	if (name == NULL) {
		*type = GW_DM_AUTH_TYPE_NONE;
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(map); i++) {
		if (g_ascii_strcasecmp(name, map[i].name) == 0) {
			*type = map[i].type;
			return TRUE;
		}
	}
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_INVALID_ARGS,
	            "unknown auth type '%s' (none, basic, md5 or hmac)",
	            name);
	return FALSE;
}

const gchar *
gw_peer_auth_type_to_string(GwDmAuthType type)
{
	switch (type) {
	case GW_DM_AUTH_TYPE_BASIC:
		return "basic";
	case GW_DM_AUTH_TYPE_MD5:
		return "md5";
	case GW_DM_AUTH_TYPE_HMAC:
		return "hmac";
	case GW_DM_AUTH_TYPE_NONE:
	default:
		return "none";
	}
}

GBytes *
gw_peer_parse_nonce(const gchar *text, GError **error)
{
	g_autoptr(GByteArray) raw = NULL;
	const gchar *hex;
	gsize len;

	if (!g_str_has_prefix(text, "hex:"))
		return g_bytes_new(text, strlen(text));
	hex = text + 4;
	len = strlen(hex);
	if (len % 2 != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "nonce '%s': odd number of hex digits",
		            text);
		return NULL;
	}
	raw = g_byte_array_sized_new(len / 2);
	for (gsize i = 0; i < len; i += 2) {
		gint hi = g_ascii_xdigit_value(hex[i]);
		gint lo = g_ascii_xdigit_value(hex[i + 1]);
		guint8 byte;
		if (hi < 0 || lo < 0) {
			g_set_error(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "nonce '%s': not hex", text);
			return NULL;
		}
		byte = (guint8)(hi * 16 + lo);
		g_byte_array_append(raw, &byte, 1);
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&raw));
}

gchar *
gw_peer_expand_index(const gchar *pattern, guint index)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (const gchar *p = pattern; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			g_string_append_printf(out, "%u", index);
			p++;
		} else if (p[0] == '%' && p[1] == '0' && g_ascii_isdigit(p[2]) && p[3] == 'u') {
			/* "%05u": zero-padded to that width (one digit) */
			g_string_append_printf(out, "%0*u", p[2] - '0', index);
			p += 3;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

GwSyncmlMessage *
gw_peer_decode(GBytes *bytes, const gchar *content_type, GError **error)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	gboolean wbxml;

	if (content_type != NULL)
		wbxml = gw_wbxml_is_wbxml_content_type(content_type);
	else
		wbxml = len > 0 && data[0] <= 0x03; /* WBXML version byte, XML starts with text */
	if (wbxml) {
		gsize xml_len = 0;
		g_autofree gchar *xml = gw_wbxml_to_xml(data, len, &xml_len, error);
		if (xml == NULL)
			return NULL;
		return gw_syncml_message_parse_xml((const guint8 *)xml, xml_len, error);
	}
	return gw_syncml_message_parse_xml(data, len, error);
}

static void
gw_peer_post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(res);
}

GwHttpResponse *
gw_peer_post_sync(GwHttpClient *client,
                  const gchar *uri,
                  const gchar *content_type,
                  GBytes *body,
                  const gchar *const *headers,
                  GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;

	gw_http_client_post_async(
	    client, uri, content_type, body, headers, NULL, gw_peer_post_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	return gw_http_client_post_finish(client, res, error);
}

gchar *
gw_peer_quote(const gchar *text)
{
	g_autofree gchar *cut = NULL;
	g_autofree gchar *escaped = NULL;
	gboolean long_text;

	if (text == NULL)
		return g_strdup("");
	long_text = g_utf8_validate(text, -1, NULL) && g_utf8_strlen(text, -1) > 60;
	cut = long_text ? g_utf8_substring(text, 0, 60) : g_strdup(text);
	escaped = g_strescape(cut, NULL);
	return g_strdup_printf("\"%s%s\"", escaped, long_text ? "…" : "");
}

const gchar *
gw_peer_command_uri(const GwSyncmlCommand *cmd)
{
	const GwSyncmlItem *item;

	if (cmd->items == NULL || cmd->items->len == 0)
		return NULL;
	item = g_ptr_array_index(cmd->items, 0);
	return item->target_uri != NULL ? item->target_uri : item->source_uri;
}

void
gw_peer_json_set_string(JsonObject *object, const gchar *member, const gchar *value)
{
	if (value != NULL)
		json_object_set_string_member(object, member, value);
	else
		json_object_set_null_member(object, member);
}

JsonObject *
gw_peer_item_to_json(const GwSyncmlItem *item)
{
	JsonObject *o = json_object_new();

	gw_peer_json_set_string(
	    o, "uri", item->source_uri != NULL ? item->source_uri : item->target_uri);
	gw_peer_json_set_string(o, "format", item->meta.format);
	gw_peer_json_set_string(o, "type", item->meta.type);
	gw_peer_json_set_string(o, "data", item->data);
	return o;
}

JsonObject *
gw_peer_command_to_json(const GwSyncmlCommand *cmd)
{
	JsonObject *o = json_object_new();
	const GwSyncmlItem *item =
	    cmd->items != NULL && cmd->items->len > 0 ? g_ptr_array_index(cmd->items, 0) : NULL;

	gw_peer_json_set_string(o, "cmd", gw_syncml_command_get_name(cmd));
	if (gw_syncml_command_is_container(cmd)) {
		JsonArray *children = json_array_new();
		for (guint i = 0; i < cmd->children->len; i++)
			json_array_add_object_element(
			    children, gw_peer_command_to_json(g_ptr_array_index(cmd->children, i)));
		json_object_set_array_member(o, "commands", children);
		return o;
	}
	gw_peer_json_set_string(o, "uri", item != NULL ? item->target_uri : NULL);
	if (item != NULL && item->source_uri != NULL)
		json_object_set_string_member(o, "source", item->source_uri);
	if (item != NULL && item->data != NULL) {
		gw_peer_json_set_string(o, "format", item->meta.format);
		if (item->meta.type != NULL)
			json_object_set_string_member(o, "type", item->meta.type);
		json_object_set_string_member(o, "data", item->data);
	}
	if (cmd->correlator != NULL)
		json_object_set_string_member(o, "correlator", cmd->correlator);
	if (cmd->items != NULL && cmd->items->len > 1) {
		JsonArray *uris = json_array_new();
		for (guint i = 0; i < cmd->items->len; i++) {
			const GwSyncmlItem *it = g_ptr_array_index(cmd->items, i);
			json_array_add_string_element(uris,
			                              it->target_uri != NULL ? it->target_uri : "");
		}
		json_object_set_array_member(o, "uris", uris);
	}
	return o;
}

gboolean
gw_peer_write_record(const gchar *path, JsonArray *sessions, GError **error)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonObject) object = json_object_new();
	g_autofree gchar *text = NULL;

	json_object_set_array_member(object, "sessions", json_array_ref(sessions));
	json_node_set_object(root, object);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	/* g_file_set_contents() writes a temporary file and renames it over @path */
	if (!g_file_set_contents(path, text, -1, error)) {
		g_prefix_error(error, "record %s: ", path);
		return FALSE;
	}
	return TRUE;
}
