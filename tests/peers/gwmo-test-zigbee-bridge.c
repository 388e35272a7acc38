/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmo-test-zigbee-bridge: a zigbee2mqtt bridge emulator for the Zigbee adapter's tests. It
 * speaks zigbee2mqtt's published MQTT API (https://www.zigbee2mqtt.io/guide/usage/
 * mqtt_topics_and_messages.html) to a real broker: the retained "bridge/state"
 * ({"state":"online"}) and "bridge/devices" (a Coordinator, a dimmable bulb, a plug that
 * meters power, a temperature sensor), each device's retained state and availability, and it
 * answers "<name>/set" and "<name>/get" as those devices would. It republishes everything after
 * every (re)connection, as zigbee2mqtt does.
 *
 * Usage: gwmo-test-zigbee-bridge --port N [--base-topic T] [--count N]
 *                                [--username U --password P]
 * (--count N: N bulbs named bulb-0 … bulb-<N-1> instead, for bench-fanout)
 * Commands on stdin, one a line (the test drives it):
 *   leave NAME | offline NAME | online NAME | rename OLD NEW | mute NAME | unmute NAME |
 *   temperature VALUE | garbage | hostile | quit
 * It prints "connected" on stdout after each (re)connection has published everything, and
 * "ok <command>" once a command is done, "ignored <name>/set|get" when a muted device drops one.
 */

#include <glib.h>
#include <json-glib/json-glib.h>
#include <mosquitto.h>
#include <stdio.h>
#include <string.h>

typedef enum { KIND_BULB, KIND_PLUG, KIND_SENSOR } DeviceKind;

typedef struct {
	const gchar *ieee;
	gchar *name;
	const gchar *type;
	const gchar *power_source;
	const gchar *definition; /* JSON */
	gboolean present;
	gboolean online;
	gboolean muted; /* ignores /set and /get */
	/* the state */
	gboolean on;
	gint brightness;
	gdouble power;
	gdouble temperature;
	gdouble humidity;
	gint battery;
	gint linkquality;
	DeviceKind kind;
} Device;

static GMutex lock;
static struct mosquitto *mosq;
static const gchar *base = "zigbee2mqtt";
static Device *devices;
static guint n_devices;

#define BULB_DEF                                                                                  \
	"{\"model\":\"LED1545G12\",\"vendor\":\"IKEA\",\"description\":\"TRADFRI LED bulb E27 "   \
	"980 lumen, dimmable, white spectrum, opal white\",\"supports_ota\":true,\"options\":[]," \
	"\"exposes\":[{\"type\":\"light\",\"features\":[{\"type\":\"binary\",\"name\":\"state\"," \
	"\"label\":\"State\",\"property\":\"state\",\"access\":7,\"value_on\":\"ON\",\"value_"    \
	"off\":\"OFF\",\"value_toggle\":\"TOGGLE\",\"description\":\"On/off state of this "       \
	"light\"},{\"type\":\"numeric\",\"name\":\"brightness\",\"label\":\"Brightness\","        \
	"\"property\":\"brightness\",\"access\":7,\"value_min\":0,\"value_max\":254,"             \
	"\"description\":\"Brightness of this light\"}]},{\"type\":\"numeric\",\"name\":"         \
	"\"linkquality\",\"label\":\"Linkquality\",\"property\":\"linkquality\",\"access\":1,"    \
	"\"unit\":\"lqi\",\"value_min\":0,\"value_max\":255,\"category\":\"diagnostic\"}]}"
#define PLUG_DEF                                                                                 \
	"{\"model\":\"SP 120\",\"vendor\":\"Innr\",\"description\":\"Smart plug\",\"supports_"   \
	"ota\":true,\"options\":[],\"exposes\":[{\"type\":\"switch\",\"features\":[{\"type\":"   \
	"\"binary\",\"name\":\"state\",\"label\":\"State\",\"property\":\"state\",\"access\":7," \
	"\"value_on\":\"ON\",\"value_off\":\"OFF\",\"value_toggle\":\"TOGGLE\",\"description\":" \
	"\"On/off state of the switch\"}]},{\"type\":\"numeric\",\"name\":\"power\",\"label\":"  \
	"\"Power\",\"property\":\"power\",\"access\":5,\"unit\":\"W\",\"description\":"          \
	"\"Instantaneous measured power\"},{\"type\":\"numeric\",\"name\":\"linkquality\","      \
	"\"label\":\"Linkquality\",\"property\":\"linkquality\",\"access\":1,\"unit\":\"lqi\","  \
	"\"value_min\":0,\"value_max\":255}]}"
#define SENSOR_DEF                                                                                \
	"{\"model\":\"WSDCGQ11LM\",\"vendor\":\"Aqara\",\"description\":\"Temperature, humidity " \
	"and pressure sensor\",\"supports_ota\":false,\"options\":[],\"exposes\":[{\"type\":"     \
	"\"numeric\",\"name\":\"battery\",\"label\":\"Battery\",\"property\":\"battery\","        \
	"\"access\":1,\"unit\":\"%\",\"value_min\":0,\"value_max\":100},{\"type\":\"numeric\","   \
	"\"name\":\"temperature\",\"label\":\"Temperature\",\"property\":\"temperature\","        \
	"\"access\":1,\"unit\":\"°C\"},{\"type\":\"numeric\",\"name\":\"humidity\",\"label\":"   \
	"\"Humidity\",\"property\":\"humidity\",\"access\":1,\"unit\":\"%\"},{\"type\":"          \
	"\"numeric\",\"name\":\"linkquality\",\"label\":\"Linkquality\",\"property\":"            \
	"\"linkquality\",\"access\":1,\"unit\":\"lqi\",\"value_min\":0,\"value_max\":255}]}"

/* --count N: N bulbs "bulb-0"… (IEEE 0x00124b01000000…), for benchmarks */
static void
init_bulbs(guint n)
{
	n_devices = n;
	devices = g_new0(Device, n);
	for (guint i = 0; i < n; i++) {
		devices[i] = (Device){g_strdup_printf("0x00124b01%08x", i),
		                      g_strdup_printf("bulb-%u", i),
		                      "Router",
		                      "Mains (single phase)",
		                      BULB_DEF,
		                      TRUE,
		                      TRUE,
		                      FALSE,
		                      FALSE,
		                      128};
		devices[i].linkquality = 120;
		devices[i].kind = KIND_BULB;
	}
}

static void
init_devices(void)
{
	n_devices = 3;
	devices = g_new0(Device, n_devices);
	devices[0] = (Device){"0x00124b0000000001",
	                      g_strdup("bulb"),
	                      "Router",
	                      "Mains (single phase)",
	                      BULB_DEF,
	                      TRUE,
	                      TRUE,
	                      FALSE,
	                      FALSE,
	                      128};
	devices[0].linkquality = 120;
	devices[0].kind = KIND_BULB;
	devices[1] = (Device){"0x00124b0000000002",
	                      g_strdup("plug"),
	                      "Router",
	                      "Mains (single phase)",
	                      PLUG_DEF,
	                      TRUE,
	                      TRUE,
	                      FALSE,
	                      TRUE};
	devices[1].power = 12.5;
	devices[1].linkquality = 90;
	devices[1].kind = KIND_PLUG;
	devices[2] = (Device){"0x00124b0000000003",
	                      g_strdup("sensor"),
	                      "EndDevice",
	                      "Battery",
	                      SENSOR_DEF,
	                      TRUE,
	                      TRUE};
	devices[2].temperature = 21.5;
	devices[2].humidity = 40.25;
	devices[2].battery = 87;
	devices[2].linkquality = 60;
	devices[2].kind = KIND_SENSOR;
}

static void
publish(const gchar *sub, const gchar *payload, gboolean retain)
{
	g_autofree gchar *topic = g_strdup_printf("%s/%s", base, sub);

	mosquitto_publish(mosq, NULL, topic, (int)strlen(payload), payload, 1, retain);
}

static gchar *
state_json(const Device *d)
{
	gchar a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];

	if (d->kind == KIND_BULB)
		return g_strdup_printf("{\"state\":\"%s\",\"brightness\":%d,\"linkquality\":%d}",
		                       d->on ? "ON" : "OFF",
		                       d->brightness,
		                       d->linkquality);
	if (d->kind == KIND_PLUG)
		return g_strdup_printf("{\"state\":\"%s\",\"power\":%s,\"linkquality\":%d}",
		                       d->on ? "ON" : "OFF",
		                       g_ascii_dtostr(a, sizeof a, d->power),
		                       d->linkquality);
	return g_strdup_printf(
	    "{\"battery\":%d,\"humidity\":%s,\"temperature\":%s,\"linkquality\":%d}",
	    d->battery,
	    g_ascii_dtostr(a, sizeof a, d->humidity),
	    g_ascii_dtostr(b, sizeof b, d->temperature),
	    d->linkquality);
}

static void
publish_state(const Device *d)
{
	g_autofree gchar *json = state_json(d);

	publish(d->name, json, TRUE);
}

static void
publish_availability(const Device *d)
{
	g_autofree gchar *sub = g_strdup_printf("%s/availability", d->name);

	publish(sub, d->online ? "{\"state\":\"online\"}" : "{\"state\":\"offline\"}", TRUE);
}

static void
publish_devices(void)
{
	GString *s = g_string_new(
	    "[{\"ieee_address\":\"0x00124b00000000ff\",\"type\":\"Coordinator\",\"network_"
	    "address\":0,\"supported\":true,\"disabled\":false,\"friendly_name\":\"Coordinator\","
	    "\"definition\":null,\"power_source\":null,\"interview_completed\":true,"
	    "\"interviewing\":false,\"endpoints\":{}}");

	for (guint i = 0; i < n_devices; i++) {
		const Device *d = &devices[i];
		if (!d->present)
			continue;
		g_string_append_printf(
		    s,
		    ",{\"ieee_address\":\"%s\",\"type\":\"%s\",\"network_address\":%u,"
		    "\"supported\":"
		    "true,\"disabled\":false,\"friendly_name\":\"%s\",\"description\":null,"
		    "\"definition\":%s,\"power_source\":\"%s\",\"software_build_id\":\"2.3.%u\","
		    "\"date_code\":\"20200101\",\"model_id\":\"model-%u\",\"manufacturer\":"
		    "\"maker\","
		    "\"interview_completed\":true,\"interviewing\":false,\"endpoints\":{}}",
		    d->ieee,
		    d->type,
		    0x1000 + i,
		    d->name,
		    d->definition,
		    d->power_source,
		    i,
		    i);
	}
	g_string_append(s, "]");
	publish("bridge/devices", s->str, TRUE);
	g_string_free(s, TRUE);
}

static Device *
find(const gchar *name)
{
	for (guint i = 0; i < n_devices; i++) {
		if (devices[i].present && strcmp(devices[i].name, name) == 0)
			return &devices[i];
	}
	return NULL;
}

static void
on_connect(struct mosquitto *m, void *data, int rc)
{
	g_autofree gchar *set = g_strdup_printf("%s/+/set", base);
	g_autofree gchar *get = g_strdup_printf("%s/+/get", base);
	g_autofree gchar *ota = g_strdup_printf("%s/bridge/request/device/ota_update/update", base);

	if (rc != 0)
		return;
	g_mutex_lock(&lock);
	mosquitto_subscribe(m, NULL, set, 1);
	mosquitto_subscribe(m, NULL, get, 1);
	mosquitto_subscribe(m, NULL, ota, 1);
	publish("bridge/state", "{\"state\":\"online\"}", TRUE);
	publish_devices();
	for (guint i = 0; i < n_devices; i++) {
		if (!devices[i].present)
			continue;
		publish_state(&devices[i]);
		publish_availability(&devices[i]);
	}
	g_mutex_unlock(&lock);
	printf("connected\n");
	fflush(stdout);
}

static Device *
find_id(const gchar *id)
{
	for (guint i = 0; i < n_devices; i++) {
		if (devices[i].present &&
		    (strcmp(devices[i].ieee, id) == 0 || strcmp(devices[i].name, id) == 0))
			return &devices[i];
	}
	return NULL;
}

/* bridge/request/device/ota_update/update {"id":…,"transaction":…}: the bulb updates, the
 * plug has no image, a muted device never answers */
static void
on_ota(const struct mosquitto_message *msg)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *obj;
	const gchar *id;
	const gchar *tr;
	Device *d;
	g_autofree gchar *answer = NULL;

	if (!json_parser_load_from_data(parser, msg->payload, msg->payloadlen, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
		return;
	obj = json_node_get_object(json_parser_get_root(parser));
	id = json_object_get_string_member_with_default(obj, "id", "");
	tr = json_object_get_string_member_with_default(obj, "transaction", "");
	d = find_id(id);
	if (d != NULL && d->muted)
		return;
	if (d != NULL && d->kind == KIND_BULB)
		answer = g_strdup_printf(
		    "{\"data\":{\"id\":\"%s\",\"from\":{\"software_build_id\":\"2.3.0\","
		    "\"date_code\":\"20200101\"},\"to\":{\"software_build_id\":\"2.3.1\","
		    "\"date_code\":\"20210101\"}},\"status\":\"ok\",\"transaction\":\"%s\"}",
		    id,
		    tr);
	else
		answer = g_strdup_printf(
		    "{\"data\":{\"id\":\"%s\"},\"status\":\"error\",\"error\":\"Update of '%s' "
		    "failed (No image currently available)\",\"transaction\":\"%s\"}",
		    id,
		    d != NULL ? d->name : id,
		    tr);
	publish("bridge/response/device/ota_update/update", answer, FALSE);
}

/* <name>/set {"state":"ON"} and <name>/get {"state":""}, as the device would answer */
static void
on_message(struct mosquitto *m, void *data, const struct mosquitto_message *msg)
{
	g_autofree gchar *prefix = g_strdup_printf("%s/", base);
	g_autofree gchar *name = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *obj;
	gboolean is_set;
	Device *d;

	if (!g_str_has_prefix(msg->topic, prefix))
		return;
	if (g_str_has_suffix(msg->topic, "/bridge/request/device/ota_update/update")) {
		g_mutex_lock(&lock);
		on_ota(msg);
		g_mutex_unlock(&lock);
		return;
	}
	is_set = g_str_has_suffix(msg->topic, "/set");
	if (!is_set && !g_str_has_suffix(msg->topic, "/get"))
		return;
	name = g_strndup(msg->topic + strlen(prefix), strlen(msg->topic) - strlen(prefix) - 4);
	g_mutex_lock(&lock);
	d = find(name);
	if (d != NULL && d->muted) {
		/* the test waits for this: the command is in flight at the gateway */
		printf("ignored %s/%s\n", d->name, is_set ? "set" : "get");
		fflush(stdout);
		g_mutex_unlock(&lock);
		return;
	}
	if (d == NULL || !d->online ||
	    !json_parser_load_from_data(parser, msg->payload, msg->payloadlen, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_mutex_unlock(&lock);
		return;
	}
	obj = json_node_get_object(json_parser_get_root(parser));
	if (is_set && d->kind != KIND_SENSOR && json_object_has_member(obj, "state")) {
		const gchar *v = json_object_get_string_member_with_default(obj, "state", "");
		if (g_ascii_strcasecmp(v, "ON") == 0)
			d->on = TRUE;
		else if (g_ascii_strcasecmp(v, "OFF") == 0)
			d->on = FALSE;
		else if (g_ascii_strcasecmp(v, "TOGGLE") == 0)
			d->on = !d->on;
		if (d->kind == KIND_PLUG)
			d->power = d->on ? 12.5 : 0;
	}
	if (is_set && d->kind == KIND_BULB && json_object_has_member(obj, "brightness")) {
		gint64 v = json_object_get_int_member_with_default(obj, "brightness", -1);
		if (v >= 0 && v <= 254) {
			d->brightness = (gint)v;
			d->on = v > 0;
		}
	}
	publish_state(d);
	g_mutex_unlock(&lock);
}

/* worse than "garbage": a payload over any sane size, nesting deeper than any parser's stack,
 * well-formed JSON of the wrong types on every topic the adapter reads; last, a valid state of
 * the bulb with linkquality 77, which the test waits for (everything before it was read) */
static void
hostile(void)
{
	const gsize huge = 1536 * 1024; /* over the test's max-message-size, 1 MiB */
	const gsize deep = 256 * 1024;  /* under it: the parser sees it */
	g_autofree gchar *big = NULL;
	g_autofree gchar *nested = g_malloc(deep + 1);
	g_autofree gchar *state = NULL;
	GString *s = g_string_sized_new(huge + 64);

	g_string_append(s, "[{\"ieee_address\":\"0x00124b00000000aa\",\"friendly_name\":\"");
	while (s->len < huge)
		g_string_append_c(s, 'A');
	g_string_append(s, "\",\"type\":\"Router\"}]");
	big = g_string_free(s, FALSE);
	publish("bridge/devices", big, FALSE);
	publish("bulb", big, FALSE);
	memset(nested, '[', deep);
	nested[deep] = '\0';
	publish("bridge/devices", nested, FALSE);
	memset(nested, '{', 1);
	publish("bridge/event", nested, FALSE);
	/* arrays and objects of the wrong types */
	publish("bridge/devices", "[1,2,3]", FALSE);
	publish("bridge/devices",
	        "[{\"ieee_address\":42,\"friendly_name\":[\"x\"],"
	        "\"type\":{},\"definition\":\"none\"}]",
	        FALSE);
	publish("bridge/devices", "null", FALSE);
	publish(
	    "bridge/event", "{\"type\":\"device_leave\",\"data\":{\"ieee_address\":12}}", FALSE);
	publish(
	    "bridge/event", "{\"type\":\"device_leave\",\"data\":\"0x00124b0000000001\"}", FALSE);
	publish("bridge/state", "[\"online\"]", FALSE);
	publish("bulb", "{\"state\":[1],\"brightness\":\"very\",\"linkquality\":{}}", FALSE);
	publish("bulb", "[]", FALSE);
	publish("bulb/availability", "{\"state\":7}", FALSE);
	publish("plug/availability", "{\"state\":null}", FALSE);
	publish("sensor", "\xff\xfe{\"temperature\":1}", FALSE);
	devices[0].linkquality = 77;
	state = state_json(&devices[0]);
	publish("bulb", state, TRUE);
}

static void
command(gchar *line)
{
	g_auto(GStrv) w = g_strsplit(g_strstrip(line), " ", 3);
	Device *d = w[0] != NULL && w[1] != NULL ? find(w[1]) : NULL;

	if (w[0] == NULL)
		return;
	if (strcmp(w[0], "leave") == 0 && d != NULL) {
		g_autofree gchar *ev = g_strdup_printf("{\"type\":\"device_leave\",\"data\":{"
		                                       "\"ieee_address\":\"%s\",\"friendly_name\":"
		                                       "\"%s\"}}",
		                                       d->ieee,
		                                       d->name);
		d->present = FALSE;
		publish(d->name, "", TRUE); /* clears the retained state */
		publish("bridge/event", ev, FALSE);
		publish_devices();
	} else if ((strcmp(w[0], "offline") == 0 || strcmp(w[0], "online") == 0) && d != NULL) {
		d->online = strcmp(w[0], "online") == 0;
		publish_availability(d);
	} else if (strcmp(w[0], "rename") == 0 && d != NULL && w[2] != NULL) {
		g_autofree gchar *old_avail = g_strdup_printf("%s/availability", d->name);
		publish(d->name, "", TRUE); /* the old name's retained messages go */
		publish(old_avail, "", TRUE);
		g_free(d->name);
		d->name = g_strdup(w[2]);
		publish_devices();
		publish_state(d);
		publish_availability(d);
	} else if (strcmp(w[0], "mute") == 0 && d != NULL) {
		d->muted = TRUE;
	} else if (strcmp(w[0], "unmute") == 0 && d != NULL) {
		d->muted = FALSE;
	} else if (strcmp(w[0], "temperature") == 0 && w[1] != NULL &&
	           devices[n_devices - 1].kind == KIND_SENSOR) {
		devices[n_devices - 1].temperature = g_ascii_strtod(w[1], NULL);
		publish_state(&devices[n_devices - 1]);
	} else if (strcmp(w[0], "garbage") == 0) {
		/* what a hostile LAN may send: none of it may hurt the adapter */
		publish("bridge/devices", "[{\"ieee_address\":", FALSE);
		publish("bridge/devices", "{\"not\":\"an array\"}", FALSE);
		publish("bridge/devices", "[1,2,3]", FALSE); /* read as "nobody", it detached all */
		publish("bridge/event", "[1,2,3]", FALSE);
		publish("bridge/state", "{\"state\":42}", FALSE);
		publish("bulb", "\"just a string\"", FALSE);
		publish("bulb", "{\"state\":", FALSE);
		publish("bulb/availability", "maybe", FALSE);
	} else if (strcmp(w[0], "hostile") == 0) {
		hostile();
	} else {
		printf("unknown %s\n", w[0]);
		fflush(stdout);
		return;
	}
	printf("ok %s\n", w[0]);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	gint port = 0;
	gint count = 0;
	gchar *base_opt = NULL;
	gchar *username = NULL;
	gchar *password = NULL;
	GOptionEntry entries[] = {
	    {"port", 0, 0, G_OPTION_ARG_INT, &port, "the broker's port on 127.0.0.1", "N"},
	    {"base-topic", 0, 0, G_OPTION_ARG_STRING, &base_opt, "the base topic", "T"},
	    {"count",
	     0,
	     0,
	     G_OPTION_ARG_INT,
	     &count,
	     "N bulbs instead of the bulb, plug, sensor",
	     "N"},
	    {"username", 0, 0, G_OPTION_ARG_STRING, &username, "the broker's user name", "U"},
	    {"password", 0, 0, G_OPTION_ARG_STRING, &password, "that user's password", "P"},
	    {NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- a zigbee2mqtt bridge emulator");
	g_autoptr(GError) error = NULL;
	gchar line[512];

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || port <= 0) {
		g_printerr("%s\n", error != NULL ? error->message : "--port is required");
		return 2;
	}
	if (base_opt != NULL)
		base = base_opt;
	if (count > 0)
		init_bulbs((guint)count);
	else
		init_devices();
	mosquitto_lib_init();
	mosq = mosquitto_new("gwmo-test-zigbee-bridge", true, NULL);
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_message_callback_set(mosq, on_message);
	if (username != NULL)
		mosquitto_username_pw_set(mosq, username, password);
	/* zigbee2mqtt's last will: the bridge is offline when it vanishes */
	{
		g_autofree gchar *will = g_strdup_printf("%s/bridge/state", base);
		const gchar *off = "{\"state\":\"offline\"}";
		mosquitto_will_set(mosq, will, (int)strlen(off), off, 1, true);
	}
	mosquitto_reconnect_delay_set(mosq, 1, 1, false);
	/* the broker may not be up yet: the loop thread retries */
	mosquitto_connect_async(mosq, "127.0.0.1", port, 10);
	mosquitto_loop_start(mosq);
	while (fgets(line, sizeof line, stdin) != NULL) {
		if (strncmp(line, "quit", 4) == 0)
			break;
		g_mutex_lock(&lock);
		command(line);
		g_mutex_unlock(&lock);
	}
	mosquitto_disconnect(mosq);
	mosquitto_loop_stop(mosq, false);
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	return 0;
}
