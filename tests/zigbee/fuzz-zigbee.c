/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: what a zigbee2mqtt bridge (or anyone on its broker) hands the Zigbee adapter's
 * parsers (plugins/zigbee2mqtt/gw-zigbee-json.c), and what a DM Server hands its value
 * conversion. The first byte picks: 'D' bridge/devices, 'E' bridge/event, 'O' bridge/state or
 * availability, 'R' a bridge/response, 'S' a device's state message, anything else a DM value for
 * every expose of a fixed device (the rest of the input); the corpus is tests/fuzz/corpus/zigbee.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>

#include "../../plugins/zigbee2mqtt/gw-zigbee-json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const gchar fixed_devices[] =
    "[{\"ieee_address\":\"0x00124B0000000001\",\"type\":\"Router\",\"friendly_name\":\"d\","
    "\"definition\":{\"vendor\":\"V\",\"model\":\"M\",\"exposes\":[{\"type\":\"light\","
    "\"features\":[{\"type\":\"binary\",\"property\":\"state\",\"access\":7,\"value_on\":\"ON\","
    "\"value_off\":\"OFF\"},{\"type\":\"numeric\",\"property\":\"brightness\",\"access\":7,"
    "\"value_min\":0,\"value_max\":254}]},{\"type\":\"binary\",\"property\":\"occupancy\","
    "\"access\":1,\"value_on\":true,\"value_off\":false},{\"type\":\"numeric\",\"property\":"
    "\"temperature\",\"access\":1},{\"type\":\"enum\",\"property\":\"effect\",\"access\":2,"
    "\"values\":[\"blink\",\"breathe\"]},{\"type\":\"text\",\"property\":\"label\",\"access\":3},"
    "{\"type\":\"composite\",\"property\":\"color\",\"access\":7,\"features\":[]}]}}]";

static void
check_devices(GPtrArray *list)
{
	for (guint i = 0; list != NULL && i < list->len; i++) {
		GwZigbeeDeviceDesc *d = g_ptr_array_index(list, i);
		g_assert_cmpuint(strlen(d->ieee), ==, 18);
		g_assert_cmpstr(d->type, !=, "Coordinator");
		g_assert_cmpuint(d->exposes->len, <=, GW_ZIGBEE_MAX_EXPOSES);
		for (guint j = 0; d->ieee[j] != '\0'; j++)
			g_assert_false(g_ascii_isupper(d->ieee[j]));
		for (guint j = 0; j < d->exposes->len; j++) {
			GwZigbeeExpose *e = g_ptr_array_index(d->exposes, j);
			g_assert_true(gw_zigbee_name_is_valid(e->property));
			g_assert_nonnull(e->format);
			g_assert_cmpuint(e->access, <=, 7);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gchar *rest = (const gchar *)data + 1;
	gsize len = size > 0 ? size - 1 : 0;

	if (size == 0)
		return 0;
	if (data[0] == 'D') {
		g_autoptr(GPtrArray) list =
		    gw_zigbee_parse_devices(rest, len, 1024 * 1024, 64, NULL, NULL);
		check_devices(list);
	} else if (data[0] == 'E') {
		g_autoptr(GwZigbeeEvent) ev = gw_zigbee_parse_event(rest, len, 64 * 1024, NULL);
		if (ev != NULL)
			g_assert_nonnull(ev->type);
	} else if (data[0] == 'R') {
		g_autoptr(GwZigbeeResponse) r =
		    gw_zigbee_parse_response(rest, len, 64 * 1024, NULL);
		if (r != NULL && r->transaction != NULL)
			g_assert_cmpuint(strlen(r->transaction), <=, GW_ZIGBEE_MAX_STRING);
	} else if (data[0] == 'O') {
		gboolean online = FALSE;
		gw_zigbee_parse_online(rest, len, &online, NULL);
	} else if (data[0] == 'S') {
		g_autoptr(GHashTable) state = gw_zigbee_parse_state(rest, len, 64 * 1024, NULL);
		if (state != NULL)
			g_assert_cmpuint(g_hash_table_size(state), <=, GW_ZIGBEE_MAX_STATE_KEYS);
	} else {
		static GPtrArray *fixed;
		g_autofree gchar *value = g_strndup(rest, len);
		GwZigbeeDeviceDesc *d;

		if (fixed == NULL)
			fixed = gw_zigbee_parse_devices(
			    fixed_devices, strlen(fixed_devices), 65536, 4, NULL, NULL);
		g_assert_nonnull(fixed);
		g_assert_cmpuint(fixed->len, ==, 1);
		d = g_ptr_array_index(fixed, 0);
		g_assert_cmpuint(d->exposes->len, ==, 7);
		for (guint j = 0; j < d->exposes->len; j++) {
			GwZigbeeExpose *e = g_ptr_array_index(d->exposes, j);
			g_autofree gchar *json = gw_zigbee_value_to_json(e, value, NULL);
			g_autofree gchar *payload = NULL;
			g_autoptr(GHashTable) state = NULL;
			const gchar *text;
			g_autofree gchar *dm = NULL;
			if (json == NULL)
				continue;
			/* what the adapter publishes is JSON the adapter reads back to the same
			 * value */
			payload = g_strdup_printf("{\"%s\":%s}", e->property, json);
			state = gw_zigbee_parse_state(payload, strlen(payload), G_MAXSIZE, NULL);
			g_assert_nonnull(state);
			/* nothing but the property itself reaches the device */
			g_assert_cmpuint(g_hash_table_size(state), <=, 1);
			text = g_hash_table_lookup(state, e->property);
			if (text == NULL)
				continue; /* a JSON null, or longer than kept */
			dm = gw_zigbee_value_to_dm(e, text);
			if (e->type == GW_ZIGBEE_EXPOSE_BINARY)
				g_assert_true(g_strcmp0(dm, "true") == 0 ||
				              g_strcmp0(dm, "false") == 0);
			else if (e->type == GW_ZIGBEE_EXPOSE_ENUM ||
			         e->type == GW_ZIGBEE_EXPOSE_TEXT)
				g_assert_cmpstr(dm, ==, value);
			else if (e->type == GW_ZIGBEE_EXPOSE_NUMERIC)
				g_assert_true(gw_zigbee_state_text_equal(dm, value) ||
				              strcmp(e->format, "float") == 0);
		}
	}
	return 0;
}
