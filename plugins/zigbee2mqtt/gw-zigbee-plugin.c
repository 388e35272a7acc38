/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Zigbee adapter: a client of a zigbee2mqtt bridge's MQTT API. libmosquitto's socket is
 * driven from the GLib main loop (an fd watch, mosquitto_loop_read/write/misc; no mosquitto
 * thread); the payloads are parsed under bounds (gw-zigbee-json.c). Built against the plugin
 * SDK only.
 */

#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "GwPluginZigbee"
#endif

#include "gw-zigbee-plugin.h"

#include <glib-unix.h>
#include <gw-plugin-sdk.h>
#include <mosquitto.h>
#include <string.h>

#include "gw-zigbee-json.h"

#define GW_ZIGBEE_KEEPALIVE_S 30
#define GW_ZIGBEE_CONNECT_TIMEOUT_S 10 /* TCP + CONNACK */
#define GW_ZIGBEE_MISC_MS 1000         /* mosquitto_loop_misc: keepalive pings */
#define GW_ZIGBEE_LOG_EVERY_S 60       /* the broker's absence, at most this often */
#define GW_ZIGBEE_MAX_STATE_SIZE (64 * 1024)
#define GW_ZIGBEE_MAX_EVENT_SIZE (64 * 1024)

typedef struct {
	GwZigbeePlugin *plugin;
	GwZigbeeDeviceDesc *desc;
	gchar *signature;   /* what was reported: a changed one is reported again */
	GHashTable *state;  /* property -> state text (the last state message's) */
	gboolean available; /* <name>/availability did not say offline */
	gboolean attached;  /* reported found and not lost since */
	GwDeviceInfo *info;
	GwDeviceTree *tree;
} GwZigbeeDevice;

/* a command waiting for a state message */
typedef struct {
	GwZigbeePlugin *plugin;
	GTask *task;
	gchar *ieee;
	gchar *property;
	gchar *expected;    /* Replace: the state text that confirms it; Get: NULL (any) */
	gchar *transaction; /* a bridge request's (OTA update): answered by its response */
	gchar *uri;
	GwZigbeeExpose *expose; /* a copy of what is needed to answer (type, format, on/off) */
	guint deadline_id;
	GSource *cancel_source;
} GwZigbeeWaiter;

struct _GwZigbeePlugin {
	GwPlugin parent_instance;

	/* configuration */
	gchar *host;
	gint port;
	gboolean tls;
	gchar *tls_ca;
	gchar *username;
	gchar *password;
	gchar *base; /* base topic, no trailing slash */
	gsize max_message;
	guint max_devices;
	guint backoff_min_ms;
	guint backoff_max_ms;

	struct mosquitto *mosq;
	gint fd;
	GIOCondition io_cond;
	guint io_id;
	guint misc_id;
	guint reconnect_id;
	guint connect_timeout_id;
	guint backoff_ms;
	gboolean connected; /* CONNACK received */
	gboolean stopping;
	gboolean bridge_online;
	gchar *mosq_error;       /* libmosquitto's first error of this attempt (TLS: OpenSSL's) */
	gint64 last_absence_log; /* monotonic µs */
	guint absence_suppressed;
	gint64 last_bad_log;
	guint bad_suppressed;

	GHashTable *devices; /* ieee -> GwZigbeeDevice */
	GHashTable *names;   /* friendly_name -> GwZigbeeDevice (borrowed) */
	GList *waiters;      /* of GwZigbeeWaiter */
	guint transactions;  /* bridge requests sent */
};

G_DEFINE_FINAL_TYPE(GwZigbeePlugin, gw_zigbee_plugin, GW_TYPE_PLUGIN)

static void
gw_zigbee_schedule_reconnect(GwZigbeePlugin *self);
static void
gw_zigbee_update_watch(GwZigbeePlugin *self);

/* ---- logging of what a hostile or absent peer causes: rate-limited ---- */

static gboolean
gw_zigbee_rate_ok(gint64 *last, guint *suppressed)
{
	gint64 now = g_get_monotonic_time();

	if (*last != 0 && now - *last < GW_ZIGBEE_LOG_EVERY_S * G_USEC_PER_SEC) {
		(*suppressed)++;
		return FALSE;
	}
	*last = now;
	return TRUE;
}

static void
gw_zigbee_log_bad(GwZigbeePlugin *self, const gchar *topic, const gchar *why)
{
	if (!gw_zigbee_rate_ok(&self->last_bad_log, &self->bad_suppressed))
		return;
	g_warning(
	    "zigbee2mqtt: dropped a message on %s: %s (%u more dropped since the last report)",
	    topic,
	    why,
	    self->bad_suppressed);
	self->bad_suppressed = 0;
}

static void
gw_zigbee_log_absence(GwZigbeePlugin *self, const gchar *why)
{
	if (!gw_zigbee_rate_ok(&self->last_absence_log, &self->absence_suppressed))
		return;
	g_warning("zigbee2mqtt: the MQTT broker %s:%d is unreachable: %s (retrying; %u failed "
	          "attempts not reported since the last report)",
	          self->host,
	          self->port,
	          why,
	          self->absence_suppressed);
	self->absence_suppressed = 0;
}

/* the broker answered CONNECT with a refusal (MQTT 3.1.1 return code @rc): shares the
 * absence's rate limit, as each retry is refused again */
static void
gw_zigbee_log_refused(GwZigbeePlugin *self, int rc)
{
	const gchar *why;

	if (!gw_zigbee_rate_ok(&self->last_absence_log, &self->absence_suppressed))
		return;
	switch (rc) {
	case 1:
		why = "unacceptable protocol version";
		break;
	case 2:
		why = "client identifier rejected";
		break;
	case 3:
		why = "server unavailable";
		break;
	case 4:
		why = "bad user name or password (check [zigbee2mqtt] username and password)";
		break;
	case 5:
		why = "not authorised (check [zigbee2mqtt] username and password)";
		break;
	default:
		why = mosquitto_connack_string(rc);
		break;
	}
	g_warning("zigbee2mqtt: the MQTT broker %s:%d refused the connection: %s (retrying; %u "
	          "failed attempts not reported since the last report)",
	          self->host,
	          self->port,
	          why,
	          self->absence_suppressed);
	self->absence_suppressed = 0;
}

/* libmosquitto's own log: its errors say why a TLS handshake failed (OpenSSL's reason),
 * which mosquitto_loop_read() only reports as MOSQ_ERR_TLS */
static void
gw_zigbee_mosquitto_log_cb(struct mosquitto *mosq, void *user_data, int level, const char *str)
{
	GwZigbeePlugin *self = user_data;

	if (level == MOSQ_LOG_ERR && str != NULL && self->mosq_error == NULL)
		self->mosq_error = g_utf8_make_valid(str, -1);
}

/* ---- waiters ---- */

static GwZigbeeExpose *
gw_zigbee_expose_copy(const GwZigbeeExpose *e)
{
	GwZigbeeExpose *c = g_new0(GwZigbeeExpose, 1);

	c->property = g_strdup(e->property);
	c->type = e->type;
	c->access = e->access;
	c->format = e->format;
	c->value_on = g_strdup(e->value_on);
	c->value_off = g_strdup(e->value_off);
	return c;
}

static void
gw_zigbee_waiter_free(GwZigbeeWaiter *w)
{
	g_clear_handle_id(&w->deadline_id, g_source_remove);
	if (w->cancel_source != NULL) {
		g_source_destroy(w->cancel_source);
		g_source_unref(w->cancel_source);
	}
	g_clear_object(&w->task);
	g_free(w->ieee);
	g_free(w->property);
	g_free(w->expected);
	g_free(w->transaction);
	g_free(w->uri);
	gw_zigbee_expose_free(w->expose);
	g_free(w);
}

/* answers @w with @result (or @error) and forgets it */
static void
gw_zigbee_waiter_finish(GwZigbeeWaiter *w, GwDeviceResult *result, GError *error)
{
	GwZigbeePlugin *self = w->plugin;
	g_autoptr(GTask) task = g_steal_pointer(&w->task);

	self->waiters = g_list_remove(self->waiters, w);
	gw_zigbee_waiter_free(w);
	if (result != NULL)
		g_task_return_pointer(task, result, (GDestroyNotify)gw_device_result_unref);
	else
		g_task_return_error(task, error);
}

static gboolean
gw_zigbee_waiter_deadline_cb(gpointer user_data)
{
	GwZigbeeWaiter *w = user_data;

	w->deadline_id = 0;
	gw_zigbee_waiter_finish(
	    w,
	    gw_device_result_new_fault(
	        GW_DEVICE_STATUS_TIMEOUT,
	        w->uri,
	        w->expected != NULL ? "no state message confirmed the value before the deadline"
	                            : "the device did not report the value before the deadline"),
	    NULL);
	return G_SOURCE_REMOVE;
}

static gboolean
gw_zigbee_waiter_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	GwZigbeeWaiter *w = user_data;

	gw_zigbee_waiter_finish(
	    w,
	    NULL,
	    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "the command was cancelled"));
	return G_SOURCE_REMOVE;
}

static void
gw_zigbee_waiter_start(GwZigbeePlugin *self,
                       GTask *task,
                       GwZigbeeDevice *dev,
                       const GwZigbeeExpose *expose,
                       const gchar *expected,
                       const gchar *uri,
                       gint64 deadline)
{
	GwZigbeeWaiter *w = g_new0(GwZigbeeWaiter, 1);
	GCancellable *cancellable = g_task_get_cancellable(task);

	w->plugin = self;
	w->task = g_object_ref(task);
	w->ieee = g_strdup(dev->desc->ieee);
	w->property = expose != NULL ? g_strdup(expose->property) : NULL;
	w->expected = g_strdup(expected);
	w->uri = g_strdup(uri);
	w->expose = expose != NULL ? gw_zigbee_expose_copy(expose) : NULL;
	if (deadline > 0) {
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		w->deadline_id = g_timeout_add(
		    (guint)CLAMP(left_ms, 0, G_MAXINT32), gw_zigbee_waiter_deadline_cb, w);
	}
	if (cancellable != NULL) {
		/* a source, not a handler: the callback runs from the main loop, where finishing
		 * (and disconnecting) is safe */
		w->cancel_source = g_cancellable_source_new(cancellable);
		g_source_set_callback(
		    w->cancel_source, G_SOURCE_FUNC(gw_zigbee_waiter_cancelled_cb), w, NULL);
		g_source_attach(w->cancel_source, g_main_context_get_thread_default());
	}
	self->waiters = g_list_append(self->waiters, w);
}

/* a state message of @dev arrived: answers the waiters it satisfies */
static void
gw_zigbee_waiters_check(GwZigbeePlugin *self, GwZigbeeDevice *dev, GHashTable *state)
{
	GList *l = self->waiters;

	while (l != NULL) {
		GwZigbeeWaiter *w = l->data;
		const gchar *value;
		l = l->next;
		if (w->property == NULL || strcmp(w->ieee, dev->desc->ieee) != 0)
			continue;
		value = g_hash_table_lookup(state, w->property);
		if (value == NULL)
			continue;
		if (w->expected == NULL) {
			g_autofree gchar *dm = gw_zigbee_value_to_dm(w->expose, value);
			gw_zigbee_waiter_finish(
			    w, gw_device_result_new_value(w->uri, w->expose->format, dm), NULL);
		} else if (gw_zigbee_state_text_equal(value, w->expected)) {
			gw_zigbee_waiter_finish(w, gw_device_result_new(GW_DEVICE_STATUS_OK), NULL);
		}
	}
}

/* every waiter of @ieee (NULL: all) ends with @status */
static void
gw_zigbee_waiters_fail(GwZigbeePlugin *self, const gchar *ieee, guint status, const gchar *why)
{
	GList *l = self->waiters;

	while (l != NULL) {
		GwZigbeeWaiter *w = l->data;
		l = l->next;
		if (ieee == NULL || strcmp(w->ieee, ieee) == 0)
			gw_zigbee_waiter_finish(
			    w, gw_device_result_new_fault(status, w->uri, why), NULL);
	}
}

/* ---- devices ---- */

static void
gw_zigbee_device_free(GwZigbeeDevice *dev)
{
	gw_zigbee_device_desc_free(dev->desc);
	g_free(dev->signature);
	g_hash_table_unref(dev->state);
	g_clear_pointer(&dev->info, gw_device_info_unref);
	g_clear_pointer(&dev->tree, gw_device_tree_unref);
	g_free(dev);
}

static gchar *
gw_zigbee_desc_signature(const GwZigbeeDeviceDesc *d)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s,
	                       "%s|%s|%s|%s|%s|%s|%s|%s",
	                       d->ieee,
	                       d->friendly_name,
	                       d->type,
	                       d->vendor != NULL ? d->vendor : "",
	                       d->model != NULL ? d->model : "",
	                       d->power_source != NULL ? d->power_source : "",
	                       d->software_build_id != NULL ? d->software_build_id : "",
	                       d->description != NULL ? d->description : "");
	for (guint i = 0; i < d->exposes->len; i++) {
		const GwZigbeeExpose *e = g_ptr_array_index(d->exposes, i);
		g_string_append_printf(
		    s, "|%s:%d:%u:%s", e->property, e->type, e->access, e->format);
	}
	return g_string_free(s, FALSE);
}

static const GwZigbeeExpose *
gw_zigbee_device_expose(GwZigbeeDevice *dev, const gchar *property)
{
	for (guint i = 0; i < dev->desc->exposes->len; i++) {
		const GwZigbeeExpose *e = g_ptr_array_index(dev->desc->exposes, i);
		if (strcmp(e->property, property) == 0)
			return e;
	}
	return NULL;
}

/* the DeviceInfo and tree of spec/GWMO.md §9 from what bridge/devices said */
static void
gw_zigbee_device_build(GwZigbeeDevice *dev)
{
	const GwZigbeeDeviceDesc *d = dev->desc;
	GwDeviceInfo *info = gw_device_info_new(d->ieee);
	GwDeviceTree *tree = gw_device_tree_new();

	gw_device_info_set_address(info, d->ieee);
	gw_device_info_set_devinfo(info, "Man", d->vendor);
	gw_device_info_set_devinfo(info, "Mod", d->model);
	gw_device_info_set_devinfo(info, "FwV", d->software_build_id);
	gw_device_info_set_devinfo(info, "DevTyp", d->type);
	gw_device_tree_add_static(tree, "./Zigbee/Info/IEEE", "chr", d->ieee);
	gw_device_tree_add_static(tree, "./Zigbee/Info/FriendlyName", "chr", d->friendly_name);
	gw_device_tree_add_static(
	    tree, "./Zigbee/Info/Model", "chr", d->model != NULL ? d->model : "");
	gw_device_tree_add_static(
	    tree, "./Zigbee/Info/Vendor", "chr", d->vendor != NULL ? d->vendor : "");
	gw_device_tree_add_static(tree,
	                          "./Zigbee/Info/PowerSource",
	                          "chr",
	                          d->power_source != NULL ? d->power_source : "");
	gw_device_tree_add_leaf(
	    tree, "./Zigbee/Info/LinkQuality", "int", GW_DEVICE_ACCESS_GET, "text/plain");
	if (d->supports_ota)
		gw_device_tree_add_leaf(tree,
		                        "./Zigbee/Operations/OTAUpdate",
		                        "chr",
		                        GW_DEVICE_ACCESS_EXEC,
		                        "text/plain");
	for (guint i = 0; i < d->exposes->len; i++) {
		const GwZigbeeExpose *e = g_ptr_array_index(d->exposes, i);
		GwDeviceAccess access = GW_DEVICE_ACCESS_NONE;
		g_autofree gchar *uri = g_strdup_printf("./Zigbee/Exposes/%s", e->property);
		if (e->access & (GW_ZIGBEE_ACCESS_STATE | GW_ZIGBEE_ACCESS_GET))
			access |= GW_DEVICE_ACCESS_GET;
		if (e->access & GW_ZIGBEE_ACCESS_SET)
			access |= GW_DEVICE_ACCESS_REPLACE;
		if (access != GW_DEVICE_ACCESS_NONE)
			gw_device_tree_add_leaf(tree, uri, e->format, access, "text/plain");
	}
	g_clear_pointer(&dev->info, gw_device_info_unref);
	g_clear_pointer(&dev->tree, gw_device_tree_unref);
	dev->info = info;
	dev->tree = tree;
}

/* reports @dev found or lost as its presence now says; @changed: found again even when it
 * is attached already (its tree or identity changed) */
static void
gw_zigbee_device_update(GwZigbeeDevice *dev, gboolean changed)
{
	GwZigbeePlugin *self = dev->plugin;
	gboolean present = self->connected && self->bridge_online && dev->available;

	if (present && (!dev->attached || changed)) {
		dev->attached = TRUE;
		g_info("%s (%s) found", dev->desc->ieee, dev->desc->friendly_name);
		gw_plugin_device_found(GW_PLUGIN(self), dev->info, dev->tree);
	} else if (!present && dev->attached) {
		dev->attached = FALSE;
		g_info("%s (%s) lost", dev->desc->ieee, dev->desc->friendly_name);
		gw_zigbee_waiters_fail(
		    self, dev->desc->ieee, GW_DEVICE_STATUS_TIMEOUT, "the device went offline");
		gw_plugin_device_lost(GW_PLUGIN(self), dev->desc->ieee);
	}
}

static void
gw_zigbee_device_remove(GwZigbeePlugin *self, GwZigbeeDevice *dev)
{
	dev->available = FALSE;
	gw_zigbee_device_update(dev, FALSE);
	if (g_hash_table_lookup(self->names, dev->desc->friendly_name) == dev)
		g_hash_table_remove(self->names, dev->desc->friendly_name);
	g_hash_table_remove(self->devices, dev->desc->ieee);
}

static void
gw_zigbee_update_all(GwZigbeePlugin *self)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		gw_zigbee_device_update(value, FALSE);
}

/* ---- messages ---- */

static void
gw_zigbee_on_devices(GwZigbeePlugin *self, const gchar *topic, const gchar *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) gone = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;
	guint skipped = 0;

	list = gw_zigbee_parse_devices(
	    data, len, self->max_message, self->max_devices, &skipped, &error);
	if (list == NULL) {
		gw_zigbee_log_bad(self, topic, error->message);
		return;
	}
	if (skipped > 0)
		gw_zigbee_log_bad(
		    self, topic, "malformed, duplicate or surplus device entries skipped");
	for (guint i = 0; i < list->len; i++)
		g_hash_table_add(listed, ((GwZigbeeDeviceDesc *)g_ptr_array_index(list, i))->ieee);
	/* who is no longer listed has left */
	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GwZigbeeDevice *dev = value;
		if (!g_hash_table_contains(listed, dev->desc->ieee))
			g_ptr_array_add(gone, dev);
	}
	for (guint i = 0; i < gone->len; i++)
		gw_zigbee_device_remove(self, g_ptr_array_index(gone, i));
	g_hash_table_remove_all(self->names);
	for (guint i = 0; i < list->len; i++) {
		GwZigbeeDeviceDesc *d = g_ptr_array_index(list, i);
		GwZigbeeDevice *dev = g_hash_table_lookup(self->devices, d->ieee);
		g_autofree gchar *signature = gw_zigbee_desc_signature(d);
		gboolean changed = FALSE;

		list->pdata[i] = NULL; /* taken */
		if (dev == NULL) {
			dev = g_new0(GwZigbeeDevice, 1);
			dev->plugin = self;
			dev->available = TRUE;
			dev->state = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
			dev->desc = d;
			g_hash_table_insert(self->devices, d->ieee, dev);
			changed = TRUE;
		} else if (g_strcmp0(signature, dev->signature) != 0) {
			/* renamed, re-interviewed: the same record (same IEEE), a new tree */
			g_hash_table_steal(self->devices, dev->desc->ieee);
			gw_zigbee_device_desc_free(dev->desc);
			dev->desc = d;
			g_hash_table_insert(self->devices, d->ieee, dev);
			changed = TRUE;
		} else {
			gw_zigbee_device_desc_free(d);
		}
		g_hash_table_insert(self->names, dev->desc->friendly_name, dev);
		if (changed) {
			g_free(dev->signature);
			dev->signature = g_steal_pointer(&signature);
			gw_zigbee_device_build(dev);
		}
		gw_zigbee_device_update(dev, changed);
	}
}

static void
gw_zigbee_on_event(GwZigbeePlugin *self, const gchar *topic, const gchar *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	GwZigbeeEvent *ev = gw_zigbee_parse_event(data, len, GW_ZIGBEE_MAX_EVENT_SIZE, &error);
	GwZigbeeDevice *dev;

	if (ev == NULL) {
		gw_zigbee_log_bad(self, topic, error->message);
		return;
	}
	/* joins and interviews are followed by a new bridge/devices; a leave is final */
	if (strcmp(ev->type, "device_leave") == 0 && ev->ieee != NULL) {
		dev = g_hash_table_lookup(self->devices, ev->ieee);
		if (dev != NULL) {
			g_info("%s left the Zigbee network", ev->ieee);
			gw_zigbee_device_remove(self, dev);
		}
	}
	gw_zigbee_event_free(ev);
}

static void
gw_zigbee_on_device_message(GwZigbeePlugin *self,
                            const gchar *topic,
                            const gchar *rest,
                            const gchar *data,
                            gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = NULL;
	GwZigbeeDevice *dev;
	gsize rest_len = strlen(rest);
	GHashTableIter iter;
	gpointer key, value;

	if (g_str_has_suffix(rest, "/availability")) {
		gboolean online = FALSE;
		name = g_strndup(rest, rest_len - strlen("/availability"));
		dev = g_hash_table_lookup(self->names, name);
		if (dev == NULL)
			return;
		if (!gw_zigbee_parse_online(data, len, &online, &error)) {
			gw_zigbee_log_bad(self, topic, error->message);
			return;
		}
		dev->available = online;
		gw_zigbee_device_update(dev, FALSE);
		return;
	}
	dev = g_hash_table_lookup(self->names, rest);
	if (dev == NULL)
		return; /* /set, /get, groups, devices not (yet) listed */
	{
		g_autoptr(GHashTable) state =
		    gw_zigbee_parse_state(data, len, GW_ZIGBEE_MAX_STATE_SIZE, &error);
		if (state == NULL) {
			gw_zigbee_log_bad(self, topic, error->message);
			return;
		}
		g_hash_table_iter_init(&iter, state);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			if (g_hash_table_size(dev->state) >= GW_ZIGBEE_MAX_STATE_KEYS &&
			    !g_hash_table_contains(dev->state, key))
				continue;
			g_hash_table_insert(dev->state, g_strdup(key), g_strdup(value));
		}
		gw_zigbee_waiters_check(self, dev, state);
	}
}

/* the bridge's answer to an OTA update request: the Exec's result */
static void
gw_zigbee_on_ota_response(GwZigbeePlugin *self, const gchar *topic, const gchar *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwZigbeeResponse) r =
	    gw_zigbee_parse_response(data, len, GW_ZIGBEE_MAX_EVENT_SIZE, &error);

	if (r == NULL) {
		gw_zigbee_log_bad(self, topic, error->message);
		return;
	}
	for (GList *l = self->waiters; l != NULL && r->transaction != NULL; l = l->next) {
		GwZigbeeWaiter *w = l->data;
		if (g_strcmp0(w->transaction, r->transaction) != 0)
			continue;
		gw_zigbee_waiter_finish(
		    w,
		    r->ok ? gw_device_result_new(GW_DEVICE_STATUS_OK)
		          : gw_device_result_new_fault(GW_DEVICE_STATUS_FAILED,
		                                       w->uri,
		                                       r->error != NULL ? r->error
		                                                        : "the update failed"),
		    NULL);
		return;
	}
}

static void
gw_zigbee_message_cb(struct mosquitto *mosq, void *user_data, const struct mosquitto_message *msg)
{
	GwZigbeePlugin *self = user_data;
	gsize base_len = strlen(self->base);
	const gchar *rest;
	gsize len = msg->payloadlen > 0 ? (gsize)msg->payloadlen : 0;

	if (msg->topic == NULL || strncmp(msg->topic, self->base, base_len) != 0 ||
	    msg->topic[base_len] != '/')
		return;
	rest = msg->topic + base_len + 1;
	if (len == 0)
		return; /* a retained message cleared (a renamed or removed device's) */
	if (len > self->max_message) {
		gw_zigbee_log_bad(self, msg->topic, "the message is over max-message-size");
		return;
	}
	if (strcmp(rest, "bridge/state") == 0) {
		g_autoptr(GError) error = NULL;
		gboolean online = FALSE;
		if (!gw_zigbee_parse_online(msg->payload, len, &online, &error)) {
			gw_zigbee_log_bad(self, msg->topic, error->message);
			return;
		}
		if (online != self->bridge_online)
			g_info("the zigbee2mqtt bridge is %s", online ? "online" : "offline");
		self->bridge_online = online;
		gw_zigbee_update_all(self);
	} else if (strcmp(rest, "bridge/devices") == 0) {
		gw_zigbee_on_devices(self, msg->topic, msg->payload, len);
	} else if (strcmp(rest, "bridge/event") == 0) {
		gw_zigbee_on_event(self, msg->topic, msg->payload, len);
	} else if (strcmp(rest, "bridge/response/device/ota_update/update") == 0) {
		gw_zigbee_on_ota_response(self, msg->topic, msg->payload, len);
	} else if (g_str_has_prefix(rest, "bridge/")) {
		return;
	} else {
		gw_zigbee_on_device_message(self, msg->topic, rest, msg->payload, len);
	}
}

/* ---- the connection, on the GLib main loop ---- */

static void
gw_zigbee_connection_lost(GwZigbeePlugin *self, const gchar *why)
{
	GHashTableIter iter;
	gpointer value;
	gboolean was = self->connected;
	g_autofree gchar *reason = self->mosq_error != NULL
	                               ? g_strdup_printf("%s (%s)", why, self->mosq_error)
	                               : g_strdup(why);

	g_clear_pointer(&self->mosq_error, g_free);
	g_clear_handle_id(&self->io_id, g_source_remove);
	g_clear_handle_id(&self->connect_timeout_id, g_source_remove);
	self->fd = -1;
	self->connected = FALSE;
	if (was)
		g_warning(
		    "zigbee2mqtt: lost the MQTT broker %s:%d: %s", self->host, self->port, reason);
	else
		gw_zigbee_log_absence(self, reason);
	/* the devices cannot be reached: lost; the bridge lists them again on reconnect */
	gw_zigbee_waiters_fail(
	    self, NULL, GW_DEVICE_STATUS_TIMEOUT, "the MQTT broker is unreachable");
	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		gw_zigbee_device_update(value, FALSE);
	g_hash_table_remove_all(self->names);
	g_hash_table_remove_all(self->devices);
	if (!self->stopping)
		gw_zigbee_schedule_reconnect(self);
}

static gboolean
gw_zigbee_io_cb(gint fd, GIOCondition cond, gpointer user_data)
{
	GwZigbeePlugin *self = user_data;
	int rc = MOSQ_ERR_SUCCESS;

	if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
		rc = mosquitto_loop_read(self->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && (cond & G_IO_OUT))
		rc = mosquitto_loop_write(self->mosq, 1);
	if (self->io_id == 0)
		return G_SOURCE_REMOVE; /* a callback dropped the connection */
	if (rc != MOSQ_ERR_SUCCESS) {
		self->io_id = 0;
		gw_zigbee_connection_lost(
		    self, rc == MOSQ_ERR_ERRNO ? g_strerror(errno) : mosquitto_strerror(rc));
		return G_SOURCE_REMOVE;
	}
	if (mosquitto_socket(self->mosq) == self->fd &&
	    ((mosquitto_want_write(self->mosq) ? G_IO_OUT : 0) == (self->io_cond & G_IO_OUT)))
		return G_SOURCE_CONTINUE;
	self->io_id = 0;
	gw_zigbee_update_watch(self);
	return G_SOURCE_REMOVE;
}

/* watches the socket for reading, and for writing while libmosquitto has bytes queued */
static void
gw_zigbee_update_watch(GwZigbeePlugin *self)
{
	gint fd = self->mosq != NULL ? mosquitto_socket(self->mosq) : -1;
	GIOCondition cond = G_IO_IN | G_IO_HUP | G_IO_ERR;

	if (fd >= 0 && mosquitto_want_write(self->mosq))
		cond |= G_IO_OUT;
	if (self->io_id != 0 && fd == self->fd && cond == self->io_cond)
		return;
	g_clear_handle_id(&self->io_id, g_source_remove);
	self->fd = fd;
	self->io_cond = cond;
	if (fd >= 0)
		self->io_id = g_unix_fd_add(fd, cond, gw_zigbee_io_cb, self);
}

static gboolean
gw_zigbee_misc_cb(gpointer user_data)
{
	GwZigbeePlugin *self = user_data;
	int rc;

	if (self->io_id == 0)
		return G_SOURCE_CONTINUE; /* not connected */
	rc = mosquitto_loop_misc(self->mosq);
	if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(self->mosq) < 0)
		gw_zigbee_connection_lost(self, "the broker stopped answering");
	else
		gw_zigbee_update_watch(self);
	return G_SOURCE_CONTINUE;
}

static gboolean
gw_zigbee_connect_timeout_cb(gpointer user_data)
{
	GwZigbeePlugin *self = user_data;

	self->connect_timeout_id = 0;
	mosquitto_disconnect(self->mosq);
	gw_zigbee_connection_lost(self, "no CONNACK in time");
	return G_SOURCE_REMOVE;
}

static void
gw_zigbee_connect(GwZigbeePlugin *self)
{
	int rc;

	g_clear_pointer(&self->mosq_error, g_free);
	rc = mosquitto_connect_async(self->mosq, self->host, self->port, GW_ZIGBEE_KEEPALIVE_S);

	if (rc != MOSQ_ERR_SUCCESS) {
		gw_zigbee_connection_lost(
		    self, rc == MOSQ_ERR_ERRNO ? g_strerror(errno) : mosquitto_strerror(rc));
		return;
	}
	self->connect_timeout_id =
	    g_timeout_add_seconds(GW_ZIGBEE_CONNECT_TIMEOUT_S, gw_zigbee_connect_timeout_cb, self);
	gw_zigbee_update_watch(self);
}

static gboolean
gw_zigbee_reconnect_cb(gpointer user_data)
{
	GwZigbeePlugin *self = user_data;

	self->reconnect_id = 0;
	gw_zigbee_connect(self);
	return G_SOURCE_REMOVE;
}

static void
gw_zigbee_schedule_reconnect(GwZigbeePlugin *self)
{
	if (self->reconnect_id != 0)
		return;
	self->reconnect_id = g_timeout_add(self->backoff_ms, gw_zigbee_reconnect_cb, self);
	self->backoff_ms = MIN(self->backoff_ms * 2, self->backoff_max_ms);
}

static void
gw_zigbee_connect_cb(struct mosquitto *mosq, void *user_data, int rc)
{
	GwZigbeePlugin *self = user_data;
	g_autofree gchar *topic = NULL;

	g_clear_handle_id(&self->connect_timeout_id, g_source_remove);
	if (rc != 0) {
		/* refused (credentials, protocol): the io callback sees the close */
		gw_zigbee_log_refused(self, rc);
		return;
	}
	g_message("zigbee2mqtt: connected to the MQTT broker %s:%d (base topic %s)",
	          self->host,
	          self->port,
	          self->base);
	self->connected = TRUE;
	g_clear_pointer(&self->mosq_error, g_free); /* the handshake's, if any: it succeeded */
	self->bridge_online = TRUE; /* until bridge/state says otherwise */
	self->backoff_ms = self->backoff_min_ms;
	self->last_absence_log = 0;
	/* one subscription for bridge/state, bridge/devices, bridge/event, <friendly_name> and
	 * <friendly_name>/availability: friendly names may hold '/' */
	topic = g_strdup_printf("%s/#", self->base);
	mosquitto_subscribe(mosq, NULL, topic, 0);
}

static void
gw_zigbee_disconnect_cb(struct mosquitto *mosq, void *user_data, int rc)
{
	/* the io or misc callback that saw it handles the loss */
}

/* ---- commands ---- */

static void
gw_zigbee_return(GTask *task, GwDeviceResult *result)
{
	g_task_return_pointer(task, result, (GDestroyNotify)gw_device_result_unref);
}

static gboolean
gw_zigbee_publish(GwZigbeePlugin *self,
                  GwZigbeeDevice *dev,
                  const gchar *suffix,
                  const gchar *payload)
{
	g_autofree gchar *topic =
	    g_strdup_printf("%s/%s/%s", self->base, dev->desc->friendly_name, suffix);
	int rc =
	    mosquitto_publish(self->mosq, NULL, topic, (int)strlen(payload), payload, 0, false);

	if (rc != MOSQ_ERR_SUCCESS) {
		g_warning("zigbee2mqtt: cannot publish on %s: %s", topic, mosquitto_strerror(rc));
		return FALSE;
	}
	gw_zigbee_update_watch(self);
	return TRUE;
}

static void
gw_zigbee_plugin_run_command_async(GwPlugin *plugin,
                                   const gchar *device_id,
                                   GwDeviceCommand *cmd,
                                   gint64 deadline,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
	GwZigbeePlugin *self = GW_ZIGBEE_PLUGIN(plugin);
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	GwZigbeeDevice *dev = g_hash_table_lookup(self->devices, device_id);
	const gchar *uri = gw_device_command_get_uri(cmd);
	GwDeviceOp op = gw_device_command_get_op(cmd);
	const gchar *format = NULL;
	const gchar *static_value = NULL;
	const GwZigbeeExpose *e;
	const gchar *last;

	g_task_set_source_tag(task, gw_zigbee_plugin_run_command_async);
	if (dev == NULL || !dev->attached) {
		gw_zigbee_return(task,
		                 gw_device_result_new_fault(GW_DEVICE_STATUS_TIMEOUT,
		                                            uri,
		                                            "device unreachable: not online"));
		return;
	}
	if (!gw_device_tree_lookup(dev->tree, uri, &format, NULL, &static_value)) {
		gw_zigbee_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND));
		return;
	}
	if (strcmp(uri, "./Zigbee/Info/LinkQuality") == 0 && op == GW_DEVICE_OP_GET) {
		last = g_hash_table_lookup(dev->state, "linkquality");
		gw_zigbee_return(task,
		                 last != NULL
		                     ? gw_device_result_new_value(uri, "int", last)
		                     : gw_device_result_new_fault(
		                           GW_DEVICE_STATUS_TIMEOUT,
		                           uri,
		                           "the device has not reported its link quality yet"));
		return;
	}
	if (op == GW_DEVICE_OP_EXEC && strcmp(uri, "./Zigbee/Operations/OTAUpdate") == 0 &&
	    dev->desc->supports_ota) {
		/* zigbee2mqtt's OTA request, answered on bridge/response/… with our transaction */
		g_autofree gchar *topic =
		    g_strdup_printf("%s/bridge/request/device/ota_update/update", self->base);
		g_autofree gchar *transaction = g_strdup_printf("gwmo-%u", ++self->transactions);
		g_autofree gchar *payload = g_strdup_printf(
		    "{\"id\":\"%s\",\"transaction\":\"%s\"}", dev->desc->ieee, transaction);
		GwZigbeeWaiter *w;
		if (mosquitto_publish(
		        self->mosq, NULL, topic, (int)strlen(payload), payload, 0, false) !=
		    MOSQ_ERR_SUCCESS) {
			gw_zigbee_return(
			    task,
			    gw_device_result_new_fault(
			        GW_DEVICE_STATUS_TIMEOUT, uri, "the MQTT broker is unreachable"));
			return;
		}
		gw_zigbee_update_watch(self);
		gw_zigbee_waiter_start(self, task, dev, NULL, NULL, uri, deadline);
		w = g_list_last(self->waiters)->data;
		w->transaction = g_steal_pointer(&transaction);
		return;
	}
	e = g_str_has_prefix(uri, "./Zigbee/Exposes/")
	        ? gw_zigbee_device_expose(dev, uri + strlen("./Zigbee/Exposes/"))
	        : NULL;
	if (e == NULL) {
		/* the description leaves and interior nodes (the gateway answers these itself) */
		if (op != GW_DEVICE_OP_GET) {
			gw_zigbee_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED));
		} else if (static_value != NULL) {
			gw_zigbee_return(task,
			                 gw_device_result_new_value(uri, format, static_value));
		} else {
			g_auto(GStrv) children = gw_device_tree_list_children(dev->tree, uri);
			g_autofree gchar *text =
			    children != NULL ? g_strjoinv("/", children) : NULL;
			gw_zigbee_return(task, gw_device_result_new_value(uri, "node", text));
		}
		return;
	}
	if (op == GW_DEVICE_OP_GET && (e->access & GW_ZIGBEE_ACCESS_GET)) {
		/* ask the device: {"<property>": ""} on <name>/get, answered by a state message */
		g_autofree gchar *key = g_strdup(e->property);
		g_autofree gchar *payload = g_strdup_printf("{\"%s\":\"\"}", key);
		if (!gw_zigbee_publish(self, dev, "get", payload)) {
			gw_zigbee_return(
			    task,
			    gw_device_result_new_fault(
			        GW_DEVICE_STATUS_TIMEOUT, uri, "the MQTT broker is unreachable"));
			return;
		}
		gw_zigbee_waiter_start(self, task, dev, e, NULL, uri, deadline);
		return;
	}
	if (op == GW_DEVICE_OP_GET && (e->access & GW_ZIGBEE_ACCESS_STATE)) {
		g_autofree gchar *dm = NULL;
		last = g_hash_table_lookup(dev->state, e->property);
		if (last == NULL) {
			gw_zigbee_return(
			    task,
			    gw_device_result_new_fault(GW_DEVICE_STATUS_TIMEOUT,
			                               uri,
			                               "the device has not reported it yet"));
			return;
		}
		dm = gw_zigbee_value_to_dm(e, last);
		gw_zigbee_return(task, gw_device_result_new_value(uri, e->format, dm));
		return;
	}
	if (op == GW_DEVICE_OP_REPLACE && (e->access & GW_ZIGBEE_ACCESS_SET)) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *json =
		    gw_zigbee_value_to_json(e, gw_device_command_get_data_string(cmd), &error);
		g_autofree gchar *payload = NULL;
		g_autoptr(GHashTable) expected = NULL;
		GBytes *bytes = gw_device_command_get_data(cmd);

		if (json == NULL || (bytes != NULL && memchr(g_bytes_get_data(bytes, NULL),
		                                             '\0',
		                                             g_bytes_get_size(bytes)) != NULL)) {
			gw_zigbee_return(task,
			                 gw_device_result_new_fault(GW_DEVICE_STATUS_BAD_REQUEST,
			                                            uri,
			                                            error != NULL
			                                                ? error->message
			                                                : "the value holds NUL"));
			return;
		}
		/* the property is a valid node name: no character that needs escaping */
		payload = g_strdup_printf("{\"%s\":%s}", e->property, json);
		expected = gw_zigbee_parse_state(payload, strlen(payload), G_MAXSIZE, NULL);
		if (!gw_zigbee_publish(self, dev, "set", payload)) {
			gw_zigbee_return(
			    task,
			    gw_device_result_new_fault(
			        GW_DEVICE_STATUS_TIMEOUT, uri, "the MQTT broker is unreachable"));
			return;
		}
		if (!(e->access & GW_ZIGBEE_ACCESS_STATE) || expected == NULL ||
		    g_hash_table_lookup(expected, e->property) == NULL) {
			/* write-only: no state message will ever confirm it */
			gw_zigbee_return(task, gw_device_result_new(GW_DEVICE_STATUS_ACCEPTED));
			return;
		}
		gw_zigbee_waiter_start(
		    self, task, dev, e, g_hash_table_lookup(expected, e->property), uri, deadline);
		return;
	}
	gw_zigbee_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED));
}

static GwDeviceResult *
gw_zigbee_plugin_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, plugin), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- life cycle ---- */

static guint
gw_zigbee_config_uint(GwZigbeePlugin *self, const gchar *key, guint fallback, guint min, guint max)
{
	gint64 v = gw_plugin_get_config_int(GW_PLUGIN(self), key, fallback);

	if (v < min || v > max) {
		g_warning("[zigbee2mqtt] %s=%" G_GINT64_FORMAT " is outside %u..%u; using %u",
		          key,
		          v,
		          min,
		          max,
		          fallback);
		return fallback;
	}
	return (guint)v;
}

static gboolean
gw_zigbee_parse_broker(GwZigbeePlugin *self, const gchar *url, GError **error)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	const gchar *scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;

	if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0' ||
	    (g_strcmp0(scheme, "mqtt") != 0 && g_strcmp0(scheme, "mqtts") != 0)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "[zigbee2mqtt] broker=%s is not an mqtt:// or mqtts:// URL",
		            url);
		return FALSE;
	}
	self->tls = g_strcmp0(scheme, "mqtts") == 0;
	self->host = g_strdup(g_uri_get_host(uri));
	self->port = g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : (self->tls ? 8883 : 1883);
	return TRUE;
}

static gboolean
gw_zigbee_plugin_startup(GwPlugin *plugin, GError **error)
{
	GwZigbeePlugin *self = GW_ZIGBEE_PLUGIN(plugin);
	g_autofree gchar *broker = gw_plugin_get_config_value(plugin, "broker");
	g_autofree gchar *base = gw_plugin_get_config_value(plugin, "base-topic");
	int rc;

	if (!gw_zigbee_parse_broker(self,
	                            broker != NULL && broker[0] != '\0' ? broker
	                                                                : "mqtt://127.0.0.1:1883",
	                            error))
		return FALSE;
	if (base == NULL || base[0] == '\0')
		base = g_strdup("zigbee2mqtt");
	while (g_str_has_suffix(base, "/"))
		base[strlen(base) - 1] = '\0';
	if (base[0] == '\0' || strpbrk(base, "#+") != NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "[zigbee2mqtt] base-topic may not be empty nor hold a wildcard");
		return FALSE;
	}
	self->base = g_steal_pointer(&base);
	self->username = gw_plugin_get_config_value(plugin, "username");
	self->password = gw_plugin_get_config_value(plugin, "password");
	self->tls_ca = gw_plugin_get_config_value(plugin, "tls-ca");
	if (self->tls_ca != NULL && self->tls_ca[0] != '\0')
		self->tls = TRUE;
	self->max_message = gw_zigbee_config_uint(
	    self, "max-message-size", 4 * 1024 * 1024, 4096, 64 * 1024 * 1024);
	self->max_devices = gw_zigbee_config_uint(self, "max-devices", 512, 1, 65536);
	self->backoff_min_ms = gw_zigbee_config_uint(self, "reconnect-min-ms", 500, 10, 600000);
	self->backoff_max_ms = gw_zigbee_config_uint(self, "reconnect-max-ms", 30000, 10, 3600000);
	self->backoff_max_ms = MAX(self->backoff_max_ms, self->backoff_min_ms);
	self->backoff_ms = self->backoff_min_ms;

	mosquitto_lib_init();
	self->mosq = mosquitto_new(NULL, true, self);
	if (self->mosq == NULL) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_FAILED, "mosquitto_new: %s", g_strerror(errno));
		return FALSE;
	}
	mosquitto_int_option(self->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	if (self->username != NULL && self->username[0] != '\0')
		mosquitto_username_pw_set(self->mosq, self->username, self->password);
	if (self->tls) {
		gboolean has_ca = self->tls_ca != NULL && self->tls_ca[0] != '\0';
		rc = mosquitto_tls_set(self->mosq,
		                       has_ca ? self->tls_ca : NULL,
		                       has_ca ? NULL : "/etc/ssl/certs",
		                       NULL,
		                       NULL,
		                       NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "[zigbee2mqtt] TLS: %s",
			            mosquitto_strerror(rc));
			return FALSE;
		}
	}
	mosquitto_connect_callback_set(self->mosq, gw_zigbee_connect_cb);
	mosquitto_disconnect_callback_set(self->mosq, gw_zigbee_disconnect_cb);
	mosquitto_message_callback_set(self->mosq, gw_zigbee_message_cb);
	mosquitto_log_callback_set(self->mosq, gw_zigbee_mosquitto_log_cb);
	self->misc_id = g_timeout_add(GW_ZIGBEE_MISC_MS, gw_zigbee_misc_cb, self);
	g_info("Zigbee adapter started (broker %s:%d%s, base topic %s)",
	       self->host,
	       self->port,
	       self->tls ? " over TLS" : "",
	       self->base);
	/* the broker's absence is not fatal: logged, retried with back-off */
	gw_zigbee_connect(self);
	return TRUE;
}

static void
gw_zigbee_plugin_shutdown(GwPlugin *plugin)
{
	GwZigbeePlugin *self = GW_ZIGBEE_PLUGIN(plugin);

	self->stopping = TRUE;
	g_clear_handle_id(&self->io_id, g_source_remove);
	g_clear_handle_id(&self->misc_id, g_source_remove);
	g_clear_handle_id(&self->reconnect_id, g_source_remove);
	g_clear_handle_id(&self->connect_timeout_id, g_source_remove);
	while (self->waiters != NULL)
		gw_zigbee_waiter_finish(
		    self->waiters->data,
		    NULL,
		    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "the adapter stopped"));
	g_hash_table_remove_all(self->names);
	g_hash_table_remove_all(self->devices);
	if (self->mosq != NULL) {
		mosquitto_disconnect(self->mosq);
		mosquitto_destroy(self->mosq);
		self->mosq = NULL;
	}
	self->connected = FALSE;
}

static void
gw_zigbee_plugin_finalize(GObject *object)
{
	GwZigbeePlugin *self = GW_ZIGBEE_PLUGIN(object);

	gw_zigbee_plugin_shutdown(GW_PLUGIN(self));
	g_hash_table_unref(self->names);
	g_hash_table_unref(self->devices);
	g_free(self->host);
	g_free(self->tls_ca);
	g_free(self->username);
	g_free(self->password);
	g_free(self->mosq_error);
	g_free(self->base);
	G_OBJECT_CLASS(gw_zigbee_plugin_parent_class)->finalize(object);
}

static void
gw_zigbee_plugin_class_init(GwZigbeePluginClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GwPluginClass *plugin_class = GW_PLUGIN_CLASS(klass);

	object_class->finalize = gw_zigbee_plugin_finalize;
	plugin_class->startup = gw_zigbee_plugin_startup;
	plugin_class->shutdown = gw_zigbee_plugin_shutdown;
	plugin_class->run_command_async = gw_zigbee_plugin_run_command_async;
	plugin_class->run_command_finish = gw_zigbee_plugin_run_command_finish;
}

static void
gw_zigbee_plugin_init(GwZigbeePlugin *self)
{
	gw_plugin_set_protocol(GW_PLUGIN(self), "Zigbee");
	gw_plugin_set_version(GW_PLUGIN(self), GW_ZIGBEE_PLUGIN_VERSION);
	self->fd = -1;
	self->devices = g_hash_table_new_full(
	    g_str_hash, g_str_equal, NULL, (GDestroyNotify)gw_zigbee_device_free);
	self->names = g_hash_table_new(g_str_hash, g_str_equal);
}

GW_PLUGIN_DEFINE_MODULE(GW_TYPE_ZIGBEE_PLUGIN)
