/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The zigbee2mqtt payloads the adapter reads (its MQTT API, "bridge/devices", "bridge/event",
 * "bridge/state", "<friendly_name>", "<friendly_name>/availability"), parsed with bounds on
 * every dimension: the LAN the bridge lives on is not trusted. No MQTT here: the fuzz target
 * and the unit tests use these alone.
 */

#define GW_ZIGBEE_MAX_STRING 256 /* bytes of any name, model, vendor, value kept */
#define GW_ZIGBEE_MAX_EXPOSES 64 /* leaves per device (features flattened) */
#define GW_ZIGBEE_MAX_DEPTH 4    /* nesting of exposes' "features" */
#define GW_ZIGBEE_MAX_STATE_KEYS 256
#define GW_ZIGBEE_MAX_ENUM 64    /* values of an enum expose */
#define GW_ZIGBEE_MAX_NESTING 64 /* arrays and objects in one another, in any payload */

/* zigbee2mqtt's access bits of an expose */
#define GW_ZIGBEE_ACCESS_STATE 1 /* published in the state message */
#define GW_ZIGBEE_ACCESS_SET 2   /* settable with /set */
#define GW_ZIGBEE_ACCESS_GET 4   /* can be asked for with /get */

typedef enum {
	GW_ZIGBEE_EXPOSE_BINARY,
	GW_ZIGBEE_EXPOSE_NUMERIC,
	GW_ZIGBEE_EXPOSE_ENUM,
	GW_ZIGBEE_EXPOSE_TEXT,
	GW_ZIGBEE_EXPOSE_OTHER, /* composite, list, …: its JSON text, as chr */
} GwZigbeeExposeType;

typedef struct {
	gchar *property; /* the key in the state message and in /set */
	GwZigbeeExposeType type;
	guint access;        /* GW_ZIGBEE_ACCESS_* */
	const gchar *format; /* the DM format: bool, int, float, chr */
	gchar *value_on;     /* binary: the state text of the "on" value ("ON", "true") */
	gchar *value_off;
	gchar *value_on_json; /* ... and its JSON ("\"ON\"", "true") for /set */
	gchar *value_off_json;
	gboolean has_min, has_max;
	gdouble value_min, value_max;
	gchar **values; /* enum */
} GwZigbeeExpose;

typedef struct {
	gchar *ieee; /* "0x00124b0001020304" */
	gchar *friendly_name;
	gchar *type; /* "Router", "EndDevice" (the Coordinator is left out) */
	gchar *vendor;
	gchar *model;
	gchar *description;
	gchar *power_source;
	gchar *software_build_id;
	gboolean supports_ota; /* definition.supports_ota */
	GPtrArray *exposes;    /* of GwZigbeeExpose */
} GwZigbeeDeviceDesc;

/* a "bridge/response/…" message: {"data":…,"status":"ok"|"error","error":…,"transaction":…} */
typedef struct {
	gboolean ok;
	gchar *error;       /* "error" when not ok (nullable) */
	gchar *transaction; /* nullable */
} GwZigbeeResponse;

typedef struct {
	gchar *type; /* "device_joined", "device_leave", "device_interview", … */
	gchar *ieee;
	gchar *friendly_name;
} GwZigbeeEvent;

void
gw_zigbee_expose_free(GwZigbeeExpose *expose);
void
gw_zigbee_device_desc_free(GwZigbeeDeviceDesc *desc);
void
gw_zigbee_event_free(GwZigbeeEvent *event);
void
gw_zigbee_response_free(GwZigbeeResponse *response);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwZigbeeExpose, gw_zigbee_expose_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwZigbeeDeviceDesc, gw_zigbee_device_desc_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwZigbeeEvent, gw_zigbee_event_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwZigbeeResponse, gw_zigbee_response_free)

/* TRUE when @name may be a node name of the device's tree (and a key of a state message) */
gboolean
gw_zigbee_name_is_valid(const gchar *name);

/* "bridge/devices": every device but the Coordinator (duplicate and surplus entries are
 * skipped and counted in @skipped); NULL with @error when the payload is not a JSON array, is
 * larger than @max_size, holds more than @max_devices entries, or an entry that is not an
 * object with a valid ieee_address, friendly_name and type (the list says who is there: one
 * that cannot be read would detach the devices it hides) */
GPtrArray *
gw_zigbee_parse_devices(const gchar *data,
                        gsize len,
                        gsize max_size,
                        guint max_devices,
                        guint *skipped,
                        GError **error);
/* "bridge/event" */
GwZigbeeEvent *
gw_zigbee_parse_event(const gchar *data, gsize len, gsize max_size, GError **error);
/* "bridge/response/…" */
GwZigbeeResponse *
gw_zigbee_parse_response(const gchar *data, gsize len, gsize max_size, GError **error);
/* "bridge/state" and "<name>/availability": {"state":"online"} or the legacy plain "online";
 * TRUE with *online set, FALSE (with @error) for anything else */
gboolean
gw_zigbee_parse_online(const gchar *data, gsize len, gboolean *online, GError **error);
/* "<name>": the scalar members of a state object as DM text (property -> value: booleans
 * "true"/"false", numbers as JSON writes them, strings as they are, anything else its JSON
 * text), at most GW_ZIGBEE_MAX_STATE_KEYS */
GHashTable *
gw_zigbee_parse_state(const gchar *data, gsize len, gsize max_size, GError **error);

/* the state-message text of @expose's value as the DM value of its leaf ("ON" -> "true") */
gchar *
gw_zigbee_value_to_dm(const GwZigbeeExpose *expose, const gchar *state_text);
/* the JSON of a DM value for /set ("true" -> "\"ON\"", "128" -> "128"); NULL with @error for
 * a value that is not of the leaf's format or outside its range */
gchar *
gw_zigbee_value_to_json(const GwZigbeeExpose *expose, const gchar *dm_value, GError **error);

/* TRUE when two state texts are the same value (numbers compared as numbers) */
gboolean
gw_zigbee_state_text_equal(const gchar *a, const gchar *b);

G_END_DECLS
