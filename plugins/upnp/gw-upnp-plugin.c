/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The UPnP adapter: discovery (GSSDP), bounded description and SCPD fetches (libsoup, our own
 * parsers), SOAP actions and GENA events (GUPnP service proxies), the device tree of
 * plugins/upnp/README.md. Built against the plugin SDK only.
 */

#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "GwPluginUpnp"
#endif

#include "gw-upnp-plugin.h"

#include <gw-plugin-sdk.h>
#include <libgupnp/gupnp.h>
#include <libsoup/soup.h>
#include <string.h>

#include "gw-upnp-description.h"

#define GW_UPNP_FETCH_SLOTS 4      /* description pipelines in flight */
#define GW_UPNP_FETCH_TIMEOUT_S 15 /* one description or SCPD, whole */
#define GW_UPNP_FETCH_CHUNK 16384  /* bytes read at a time */
#define GW_UPNP_BACKOFF_MIN_S 60   /* a refused device is not fetched again before */
#define GW_UPNP_BACKOFF_MAX_S 3600 /* ... doubling up to this */
#define GW_UPNP_FORGET_S 600       /* a gone device's record is kept this long */
#define GW_UPNP_RESUBSCRIBE_S 30   /* after a GENA subscription was lost */
#define GW_UPNP_MAX_LOCATION 1024  /* bytes of an SSDP LOCATION */

typedef enum {
	GW_UPNP_DEVICE_IDLE,     /* nothing fetched (new, or dropped after a loss) */
	GW_UPNP_DEVICE_FETCHING, /* queued or fetching its description and SCPDs */
	GW_UPNP_DEVICE_READY,    /* described: proxies, tree */
	GW_UPNP_DEVICE_REFUSED,  /* its documents were refused: not again before retry_after */
} GwUpnpDeviceState;

typedef struct _GwUpnpDevice GwUpnpDevice;

typedef struct {
	GwUpnpDevice *device;
	GwUpnpServiceDesc *desc; /* belongs to device->desc */
	GwUpnpScpd *scpd;        /* NULL: its SCPD was refused, the service is left out */
	GUPnPServiceProxy *proxy;
	GHashTable *evented; /* variable name -> last evented value */
	gboolean notifying;  /* its evented variables have our notify callback */
	guint resubscribe_id;
} GwUpnpService;

/* what a node of the device's tree runs */
typedef struct {
	GwUpnpService *service;
	const GwUpnpAction *exec; /* Exec: this action, the data are its in-arguments */
	const GwUpnpAction *set;  /* Replace: this action, the data are its in-argument */
	const GwUpnpAction *get;  /* Get: this action's out-argument get_index */
	guint get_index;
	const GwUpnpVariable *variable; /* the value's type; Get: its evented value first */
	gboolean evented_first;
	const gchar *format;
} GwUpnpBinding;

struct _GwUpnpDevice {
	GwUpnpPlugin *plugin;
	gchar *udn;
	gchar *location;
	GUPnPContext *context; /* where location was announced */
	GHashTable *seen_on;   /* GUPnPContext* -> location: the contexts that see it now */
	GwUpnpDeviceState state;
	gboolean attached; /* reported found and not lost since */
	gboolean queued;
	gboolean in_pipeline;
	GCancellable *cancellable; /* the running pipeline */
	guint pending;             /* its SCPD fetches */
	guint lost_id;
	guint forget_id;
	guint retry_id; /* a refused device that is still announced is fetched again then */
	gint64 retry_after;
	guint refusals;
	GwUpnpDescription *desc;
	GUPnPXMLDoc *doc;
	GPtrArray *services; /* of GwUpnpService */
	GwDeviceInfo *info;
	GwDeviceTree *tree;
	GHashTable *bindings; /* uri -> GwUpnpBinding */
};

struct _GwUpnpPlugin {
	GwPlugin parent_instance;

	GwUpnpLimits limits;
	guint max_nodes;
	guint max_devices;
	guint lost_delay_ms;
	gboolean events;
	gboolean ipv6;
	gchar **interfaces; /* NULL: every interface but loopback */

	GUPnPContextManager *manager;
	GHashTable *browsers; /* GUPnPContext* (ref) -> GSSDPResourceBrowser* */
	GHashTable *devices;  /* udn -> GwUpnpDevice */
	SoupSession *session; /* descriptions and SCPDs */
	GQueue queue;         /* devices waiting for a fetch slot */
	guint fetches;
	guint pump_id;
	GCancellable *cancellable; /* every command; cancelled at shutdown */
};

G_DEFINE_FINAL_TYPE(GwUpnpPlugin, gw_upnp_plugin, GW_TYPE_PLUGIN)

static void
gw_upnp_device_fetch(GwUpnpDevice *dev);
static void
gw_upnp_plugin_pump(GwUpnpPlugin *self);

/* ---- services and the device model ---- */

static void
gw_upnp_service_notify_cb(GUPnPServiceProxy *proxy,
                          const char *variable,
                          GValue *value,
                          gpointer user_data);

static void
gw_upnp_service_free(GwUpnpService *svc)
{
	g_clear_handle_id(&svc->resubscribe_id, g_source_remove);
	if (svc->proxy != NULL) {
		g_signal_handlers_disconnect_by_data(svc->proxy, svc);
		if (svc->notifying) {
			for (guint i = 0; i < svc->scpd->variables->len; i++) {
				GwUpnpVariable *v = g_ptr_array_index(svc->scpd->variables, i);
				if (v->send_events)
					gupnp_service_proxy_remove_notify(
					    svc->proxy, v->name, gw_upnp_service_notify_cb, svc);
			}
		}
		g_clear_object(&svc->proxy);
	}
	gw_upnp_scpd_free(svc->scpd);
	g_clear_pointer(&svc->evented, g_hash_table_unref);
	g_free(svc);
}

/* forgets everything fetched for @dev (not its identity nor its presence) */
static void
gw_upnp_device_clear_model(GwUpnpDevice *dev)
{
	g_clear_pointer(&dev->bindings, g_hash_table_unref);
	g_clear_pointer(&dev->services, g_ptr_array_unref);
	g_clear_pointer(&dev->tree, gw_device_tree_unref);
	g_clear_pointer(&dev->info, gw_device_info_unref);
	g_clear_object(&dev->doc);
	g_clear_pointer(&dev->desc, gw_upnp_description_free);
}

/* cancels what @dev has in flight and gives its fetch slot back */
static void
gw_upnp_device_stop_pipeline(GwUpnpDevice *dev)
{
	GwUpnpPlugin *self = dev->plugin;

	if (dev->cancellable != NULL) {
		g_cancellable_cancel(dev->cancellable);
		g_clear_object(&dev->cancellable);
	}
	if (dev->queued) {
		g_queue_remove(&self->queue, dev);
		dev->queued = FALSE;
	}
	if (dev->in_pipeline) {
		dev->in_pipeline = FALSE;
		self->fetches--;
		gw_upnp_plugin_pump(self);
	}
	dev->pending = 0;
}

static void
gw_upnp_device_free(GwUpnpDevice *dev)
{
	gw_upnp_device_stop_pipeline(dev);
	g_clear_handle_id(&dev->lost_id, g_source_remove);
	g_clear_handle_id(&dev->forget_id, g_source_remove);
	g_clear_handle_id(&dev->retry_id, g_source_remove);
	gw_upnp_device_clear_model(dev);
	g_clear_pointer(&dev->seen_on, g_hash_table_unref);
	g_clear_object(&dev->context);
	g_free(dev->udn);
	g_free(dev->location);
	g_free(dev);
}

static void
gw_upnp_device_report_lost(GwUpnpDevice *dev)
{
	if (!dev->attached)
		return;
	dev->attached = FALSE;
	g_info("%s lost", dev->udn);
	gw_plugin_device_lost(GW_PLUGIN(dev->plugin), dev->udn);
}

static void
gw_upnp_device_request_fetch(GwUpnpDevice *dev);

/* SSDP says nothing new of a device it already announced: try a refused one again here */
static gboolean
gw_upnp_device_retry_cb(gpointer user_data)
{
	GwUpnpDevice *dev = user_data;

	dev->retry_id = 0;
	if (dev->state == GW_UPNP_DEVICE_REFUSED && g_hash_table_size(dev->seen_on) > 0)
		gw_upnp_device_request_fetch(dev);
	return G_SOURCE_REMOVE;
}

static void
gw_upnp_device_refuse(GwUpnpDevice *dev, const gchar *why)
{
	guint backoff = GW_UPNP_BACKOFF_MIN_S;

	for (guint i = 1; i < dev->refusals && backoff < GW_UPNP_BACKOFF_MAX_S; i++)
		backoff *= 2;
	backoff = MIN(backoff, GW_UPNP_BACKOFF_MAX_S);
	dev->refusals++;
	dev->retry_after = g_get_monotonic_time() + (gint64)backoff * G_USEC_PER_SEC;
	gw_warning_ratelimited("UPnP device %s at %s refused (not fetched again for %u s): %s",
	                       dev->udn,
	                       dev->location,
	                       backoff,
	                       why);
	gw_upnp_device_stop_pipeline(dev);
	gw_upnp_device_clear_model(dev);
	dev->state = GW_UPNP_DEVICE_REFUSED;
	g_clear_handle_id(&dev->retry_id, g_source_remove);
	dev->retry_id = g_timeout_add_seconds(backoff, gw_upnp_device_retry_cb, dev);
	gw_upnp_device_report_lost(dev);
}

/* ---- bounded HTTP GETs ---- */

typedef void (*GwUpnpFetchDone)(GwUpnpDevice *dev,
                                GwUpnpService *svc,
                                GBytes *body,
                                const GError *error);

typedef struct {
	GwUpnpDevice *device; /* valid while pipeline is not cancelled */
	GwUpnpService *service;
	GCancellable *pipeline;    /* the device's, when the fetch began */
	GCancellable *cancellable; /* this fetch: the pipeline's, or its timeout */
	gulong pipeline_handler;
	guint timeout_id;
	gboolean timed_out;
	GInputStream *stream;
	GByteArray *body;
	gsize cap;
	GwUpnpFetchDone done;
} GwUpnpFetch;

static void
gw_upnp_fetch_cancel_cb(GCancellable *pipeline, gpointer user_data)
{
	g_cancellable_cancel(G_CANCELLABLE(user_data));
}

static gboolean
gw_upnp_fetch_timeout_cb(gpointer user_data)
{
	GwUpnpFetch *fetch = user_data;

	fetch->timeout_id = 0;
	fetch->timed_out = TRUE;
	g_cancellable_cancel(fetch->cancellable);
	return G_SOURCE_REMOVE;
}

static void
gw_upnp_fetch_finish(GwUpnpFetch *fetch, GError *error)
{
	g_autoptr(GError) err = error;
	g_autoptr(GBytes) body = NULL;

	g_clear_handle_id(&fetch->timeout_id, g_source_remove);
	g_cancellable_disconnect(fetch->pipeline, fetch->pipeline_handler);
	if (!g_cancellable_is_cancelled(fetch->pipeline)) {
		if (err == NULL)
			body = g_byte_array_free_to_bytes(g_steal_pointer(&fetch->body));
		else if (fetch->timed_out)
			g_prefix_error(
			    &err, "no complete answer in %u s: ", GW_UPNP_FETCH_TIMEOUT_S);
		fetch->done(fetch->device, fetch->service, body, err);
	}
	g_clear_object(&fetch->stream);
	if (fetch->body != NULL)
		g_byte_array_unref(fetch->body);
	g_object_unref(fetch->cancellable);
	g_object_unref(fetch->pipeline);
	g_free(fetch);
}

static void
gw_upnp_fetch_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwUpnpFetch *fetch = user_data;
	GError *error = NULL;
	g_autoptr(GBytes) chunk =
	    g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);

	if (chunk == NULL) {
		gw_upnp_fetch_finish(fetch, error);
		return;
	}
	if (g_bytes_get_size(chunk) == 0) {
		gw_upnp_fetch_finish(fetch, NULL);
		return;
	}
	if (fetch->body->len + g_bytes_get_size(chunk) > fetch->cap) {
		gw_upnp_fetch_finish(fetch,
		                     g_error_new(GW_ERROR,
		                                 GW_ERROR_PROTOCOL,
		                                 "document is over the cap of %" G_GSIZE_FORMAT
		                                 " bytes",
		                                 fetch->cap));
		return;
	}
	g_byte_array_append(
	    fetch->body, g_bytes_get_data(chunk, NULL), (guint)g_bytes_get_size(chunk));
	g_input_stream_read_bytes_async(fetch->stream,
	                                GW_UPNP_FETCH_CHUNK,
	                                G_PRIORITY_DEFAULT,
	                                fetch->cancellable,
	                                gw_upnp_fetch_read_cb,
	                                fetch);
}

static void
gw_upnp_fetch_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwUpnpFetch *fetch = user_data;
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
	GError *error = NULL;
	goffset length;

	fetch->stream = soup_session_send_finish(SOUP_SESSION(source), res, &error);
	if (fetch->stream == NULL) {
		gw_upnp_fetch_finish(fetch, error);
		return;
	}
	if (soup_message_get_status(msg) != SOUP_STATUS_OK) {
		gw_upnp_fetch_finish(fetch,
		                     g_error_new(GW_ERROR,
		                                 GW_ERROR_PROTOCOL,
		                                 "HTTP status %u",
		                                 soup_message_get_status(msg)));
		return;
	}
	length = soup_message_headers_get_content_length(soup_message_get_response_headers(msg));
	if (length > 0 && (guint64)length > fetch->cap) {
		gw_upnp_fetch_finish(fetch,
		                     g_error_new(GW_ERROR,
		                                 GW_ERROR_PROTOCOL,
		                                 "document of %" G_GOFFSET_FORMAT
		                                 " bytes is over the cap of %" G_GSIZE_FORMAT,
		                                 length,
		                                 fetch->cap));
		return;
	}
	g_input_stream_read_bytes_async(fetch->stream,
	                                GW_UPNP_FETCH_CHUNK,
	                                G_PRIORITY_DEFAULT,
	                                fetch->cancellable,
	                                gw_upnp_fetch_read_cb,
	                                fetch);
}

/* GETs @url (no redirects, no proxy) into at most max_document bytes, then calls @done
 * unless @dev's pipeline was cancelled meanwhile */
static void
gw_upnp_fetch(GwUpnpDevice *dev, GwUpnpService *svc, const gchar *url, GwUpnpFetchDone done)
{
	GwUpnpPlugin *self = dev->plugin;
	g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_GET, url);
	GwUpnpFetch *fetch;

	if (msg == NULL) {
		g_autoptr(GError) error =
		    g_error_new(GW_ERROR, GW_ERROR_PROTOCOL, "%s is not a URL", url);
		done(dev, svc, NULL, error);
		return;
	}
	soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
	fetch = g_new0(GwUpnpFetch, 1);
	fetch->device = dev;
	fetch->service = svc;
	fetch->pipeline = g_object_ref(dev->cancellable);
	fetch->cancellable = g_cancellable_new();
	fetch->pipeline_handler = g_cancellable_connect(
	    fetch->pipeline, G_CALLBACK(gw_upnp_fetch_cancel_cb), fetch->cancellable, NULL);
	fetch->body = g_byte_array_new();
	fetch->cap = self->limits.max_document;
	fetch->done = done;
	fetch->timeout_id =
	    g_timeout_add_seconds(GW_UPNP_FETCH_TIMEOUT_S, gw_upnp_fetch_timeout_cb, fetch);
	soup_session_send_async(self->session,
	                        msg,
	                        G_PRIORITY_DEFAULT,
	                        fetch->cancellable,
	                        gw_upnp_fetch_sent_cb,
	                        fetch);
}

/* ---- GENA ---- */

static gboolean
gw_upnp_service_resubscribe_cb(gpointer user_data);

static void
gw_upnp_service_notify_cb(GUPnPServiceProxy *proxy,
                          const char *variable,
                          GValue *value,
                          gpointer user_data)
{
	GwUpnpService *svc = user_data;
	const gchar *text = G_VALUE_HOLDS_STRING(value) ? g_value_get_string(value) : NULL;

	if (text == NULL || strlen(text) > 16384)
		return;
	g_hash_table_insert(svc->evented, g_strdup(variable), g_strdup(text));
}

static void
gw_upnp_service_subscription_lost_cb(GUPnPServiceProxy *proxy,
                                     const GError *reason,
                                     gpointer user_data)
{
	GwUpnpService *svc = user_data;

	gw_info_ratelimited("%s: GENA subscription to %s lost (%s); again in %u s",
	                    svc->device->udn,
	                    svc->desc->service_id,
	                    reason != NULL ? reason->message : "?",
	                    GW_UPNP_RESUBSCRIBE_S);
	/* values evented before may be stale now: a Get falls back to an action */
	g_hash_table_remove_all(svc->evented);
	if (svc->resubscribe_id == 0)
		svc->resubscribe_id = g_timeout_add_seconds(
		    GW_UPNP_RESUBSCRIBE_S, gw_upnp_service_resubscribe_cb, svc);
}

static gboolean
gw_upnp_service_resubscribe_cb(gpointer user_data)
{
	GwUpnpService *svc = user_data;

	svc->resubscribe_id = 0;
	gupnp_service_proxy_set_subscribed(svc->proxy, FALSE);
	gupnp_service_proxy_set_subscribed(svc->proxy, TRUE);
	return G_SOURCE_REMOVE;
}

static void
gw_upnp_service_subscribe(GwUpnpService *svc)
{
	guint n = 0;

	if (svc->desc->event_url == NULL)
		return;
	for (guint i = 0; i < svc->scpd->variables->len; i++) {
		GwUpnpVariable *v = g_ptr_array_index(svc->scpd->variables, i);
		if (!v->send_events)
			continue;
		gupnp_service_proxy_add_notify(
		    svc->proxy, v->name, G_TYPE_STRING, gw_upnp_service_notify_cb, svc);
		n++;
	}
	if (n == 0)
		return;
	g_signal_connect(
	    svc->proxy, "subscription-lost", G_CALLBACK(gw_upnp_service_subscription_lost_cb), svc);
	gupnp_service_proxy_set_subscribed(svc->proxy, TRUE);
}

/* ---- the device's tree ---- */

static void
gw_upnp_bind(GwUpnpDevice *dev, const gchar *uri, GwUpnpBinding *binding)
{
	g_hash_table_insert(dev->bindings, g_strdup(uri), g_memdup2(binding, sizeof(*binding)));
}

static const gchar *
gw_upnp_in_type(const GwUpnpService *svc, const GwUpnpAction *action)
{
	for (guint i = 0; i < action->arguments->len; i++) {
		const GwUpnpArgument *a = g_ptr_array_index(action->arguments, i);
		if (!a->out) {
			const GwUpnpVariable *v = gw_upnp_scpd_find_variable(svc->scpd, a->related);
			return v != NULL ? v->data_type : "string";
		}
	}
	return "string";
}

/* index of the first out-argument of @action (-1: none) */
static gint
gw_upnp_first_out(const GwUpnpAction *action)
{
	for (guint i = 0; i < action->arguments->len; i++) {
		const GwUpnpArgument *a = g_ptr_array_index(action->arguments, i);
		if (a->out)
			return (gint)i;
	}
	return -1;
}

/* ./UPnP/<group>/<leaf> over the first service of @type_prefix: Replace through @set (one
 * in-argument), Get through @get (no in-argument, its first out-argument) */
static guint
gw_upnp_add_convenience(GwUpnpDevice *dev,
                        const gchar *type_prefix,
                        const gchar *group,
                        const gchar *leaf,
                        const gchar *set_name,
                        const gchar *get_name)
{
	for (guint i = 0; i < dev->services->len; i++) {
		GwUpnpService *svc = g_ptr_array_index(dev->services, i);
		GwUpnpBinding b = {0};
		GwDeviceAccess access = GW_DEVICE_ACCESS_NONE;
		g_autofree gchar *uri = NULL;
		gint out;

		if (svc->scpd == NULL || !g_str_has_prefix(svc->desc->service_type, type_prefix))
			continue;
		b.service = svc;
		b.format = "int";
		if (set_name != NULL) {
			b.set = gw_upnp_scpd_find_action(svc->scpd, set_name);
			if (b.set != NULL && b.set->n_in == 1)
				access |= GW_DEVICE_ACCESS_REPLACE;
			else
				b.set = NULL;
		}
		if (get_name != NULL) {
			b.get = gw_upnp_scpd_find_action(svc->scpd, get_name);
			out = b.get != NULL ? gw_upnp_first_out(b.get) : -1;
			if (b.get != NULL && b.get->n_in == 0 && out >= 0) {
				const GwUpnpArgument *a = g_ptr_array_index(b.get->arguments, out);
				access |= GW_DEVICE_ACCESS_GET;
				b.get_index = (guint)out;
				b.variable = gw_upnp_scpd_find_variable(svc->scpd, a->related);
			} else {
				b.get = NULL;
			}
		}
		if (b.variable == NULL && b.set != NULL) {
			for (guint j = 0; j < b.set->arguments->len; j++) {
				const GwUpnpArgument *a = g_ptr_array_index(b.set->arguments, j);
				if (!a->out)
					b.variable =
					    gw_upnp_scpd_find_variable(svc->scpd, a->related);
			}
		}
		if (access == GW_DEVICE_ACCESS_NONE)
			return 0;
		uri = g_strdup_printf("./UPnP/%s/%s", group, leaf);
		gw_device_tree_add_leaf(dev->tree, uri, "int", access, "text/plain");
		gw_upnp_bind(dev, uri, &b);
		return 1;
	}
	return 0;
}

static gboolean
gw_upnp_device_build(GwUpnpDevice *dev, GError **error)
{
	GwUpnpPlugin *self = dev->plugin;
	GwUpnpDescription *d = dev->desc;
	guint n = 7; /* ., UPnP, its five description leaves */
	struct {
		const gchar *leaf;
		const gchar *value;
	} statics[] = {
	    {"DeviceType", d->device_type},
	    {"FriendlyName", d->friendly_name},
	    {"Manufacturer", d->manufacturer},
	    {"ModelName", d->model_name},
	    {"UDN", d->udn},
	};

	dev->tree = gw_device_tree_new();
	dev->bindings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < G_N_ELEMENTS(statics); i++) {
		g_autofree gchar *uri = g_strdup_printf("./UPnP/%s", statics[i].leaf);
		gw_device_tree_add_static(
		    dev->tree, uri, "chr", statics[i].value != NULL ? statics[i].value : "");
	}
	for (guint i = 0; i < dev->services->len; i++) {
		GwUpnpService *svc = g_ptr_array_index(dev->services, i);
		g_autofree gchar *base = NULL;
		g_autofree gchar *uri = NULL;

		if (svc->scpd == NULL)
			continue;
		n += 5 + svc->scpd->actions->len + svc->scpd->variables->len;
		if (n > self->max_nodes)
			break;
		base = g_strdup_printf("./UPnP/Services/%s", svc->desc->node_name);
		uri = g_strdup_printf("%s/ServiceType", base);
		gw_device_tree_add_static(dev->tree, uri, "chr", svc->desc->service_type);
		g_free(uri);
		uri = g_strdup_printf("%s/ServiceId", base);
		gw_device_tree_add_static(dev->tree, uri, "chr", svc->desc->service_id);
		for (guint j = 0; j < svc->scpd->actions->len; j++) {
			const GwUpnpAction *a = g_ptr_array_index(svc->scpd->actions, j);
			GwUpnpBinding b = {.service = svc, .exec = a, .format = "chr"};
			g_free(uri);
			uri = g_strdup_printf("%s/Actions/%s", base, a->node_name);
			gw_device_tree_add_leaf(
			    dev->tree, uri, "chr", GW_DEVICE_ACCESS_EXEC, "text/plain");
			gw_upnp_bind(dev, uri, &b);
		}
		for (guint j = 0; j < svc->scpd->variables->len; j++) {
			const GwUpnpVariable *v = g_ptr_array_index(svc->scpd->variables, j);
			GwUpnpBinding b = {.service = svc,
			                   .variable = v,
			                   .evented_first = v->send_events,
			                   .format = gw_upnp_data_type_format(v->data_type)};
			b.get = gw_upnp_scpd_find_getter(svc->scpd, v->name, &b.get_index);
			g_free(uri);
			uri = g_strdup_printf("%s/StateVariables/%s", base, v->node_name);
			gw_device_tree_add_leaf(
			    dev->tree, uri, b.format, GW_DEVICE_ACCESS_GET, "text/plain");
			gw_upnp_bind(dev, uri, &b);
		}
	}
	n += 4;
	if (n > self->max_nodes) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "its tree would have more than %u nodes",
		            self->max_nodes);
		return FALSE;
	}
	gw_upnp_add_convenience(dev,
	                        "urn:schemas-upnp-org:service:SwitchPower:",
	                        "SwitchPower",
	                        "Target",
	                        "SetTarget",
	                        "GetTarget");
	gw_upnp_add_convenience(dev,
	                        "urn:schemas-upnp-org:service:SwitchPower:",
	                        "SwitchPower",
	                        "Status",
	                        NULL,
	                        "GetStatus");
	gw_upnp_add_convenience(dev,
	                        "urn:schemas-upnp-org:service:Dimming:",
	                        "Dimming",
	                        "LoadLevelTarget",
	                        "SetLoadLevelTarget",
	                        "GetLoadLevelTarget");
	gw_upnp_add_convenience(dev,
	                        "urn:schemas-upnp-org:service:Dimming:",
	                        "Dimming",
	                        "LoadLevelStatus",
	                        NULL,
	                        "GetLoadLevelStatus");

	dev->info = gw_device_info_new(dev->udn);
	gw_device_info_set_address(dev->info, dev->location);
	gw_device_info_set_devinfo(dev->info, "Man", d->manufacturer);
	gw_device_info_set_devinfo(dev->info, "Mod", d->model_name);
	/* UPnP has no firmware version: modelNumber is what vendors put it in */
	gw_device_info_set_devinfo(dev->info, "FwV", d->model_number);
	gw_device_info_set_devinfo(dev->info, "DevTyp", d->device_type);
	return TRUE;
}

/* ---- the description pipeline ---- */

static void
gw_upnp_device_ready(GwUpnpDevice *dev)
{
	GwUpnpPlugin *self = dev->plugin;
	g_autoptr(GError) error = NULL;
	g_autoptr(GUri) url_base = g_uri_parse(dev->desc->url_base, G_URI_FLAGS_NONE, NULL);

	dev->doc = gupnp_xml_doc_new(gw_upnp_description_steal_doc(dev->desc));
	for (guint i = 0; i < dev->services->len; i++) {
		GwUpnpService *svc = g_ptr_array_index(dev->services, i);
		if (svc->scpd == NULL)
			continue;
		/* the construct properties GUPnP's own resource factory sets (checked in startup):
		 * a proxy over the description we fetched and parsed under our caps */
		svc->proxy = g_object_new(GUPNP_TYPE_SERVICE_PROXY,
		                          "context",
		                          dev->context,
		                          "location",
		                          dev->location,
		                          "udn",
		                          svc->desc->udn,
		                          "service-type",
		                          svc->desc->service_type,
		                          "url-base",
		                          url_base,
		                          "document",
		                          dev->doc,
		                          "element",
		                          svc->desc->element,
		                          NULL);
	}
	if (!gw_upnp_device_build(dev, &error)) {
		gw_upnp_device_refuse(dev, error->message);
		return;
	}
	gw_upnp_device_stop_pipeline(dev);
	dev->state = GW_UPNP_DEVICE_READY;
	dev->refusals = 0;
	if (self->events) {
		for (guint i = 0; i < dev->services->len; i++) {
			GwUpnpService *svc = g_ptr_array_index(dev->services, i);
			if (svc->proxy != NULL)
				gw_upnp_service_subscribe(svc);
		}
	}
	/* gone again while it was being fetched: the lost timer decides */
	if (g_hash_table_size(dev->seen_on) == 0)
		return;
	dev->attached = TRUE;
	g_info("%s found at %s (%s)",
	       dev->udn,
	       dev->location,
	       dev->desc->friendly_name != NULL ? dev->desc->friendly_name : "");
	gw_plugin_device_found(GW_PLUGIN(self), dev->info, dev->tree);
}

static void
gw_upnp_scpd_done(GwUpnpDevice *dev, GwUpnpService *svc, GBytes *body, const GError *error)
{
	g_autoptr(GError) local = NULL;

	if (error == NULL) {
		gsize len = 0;
		const gchar *data = g_bytes_get_data(body, &len);
		svc->scpd = gw_upnp_scpd_parse(data, len, &dev->plugin->limits, &local);
	}
	if (svc->scpd == NULL)
		gw_warning_ratelimited("UPnP device %s: service %s left out, its SCPD %s: %s",
		                       dev->udn,
		                       svc->desc->service_id,
		                       svc->desc->scpd_url,
		                       error != NULL ? error->message : local->message);
	if (--dev->pending == 0)
		gw_upnp_device_ready(dev);
}

static void
gw_upnp_description_done(GwUpnpDevice *dev,
                         GwUpnpService *unused,
                         GBytes *body,
                         const GError *error)
{
	g_autoptr(GError) local = NULL;
	gsize len = 0;
	const gchar *data;

	if (error != NULL) {
		gw_upnp_device_refuse(dev, error->message);
		return;
	}
	data = g_bytes_get_data(body, &len);
	dev->desc =
	    gw_upnp_description_parse(data, len, dev->location, &dev->plugin->limits, &local);
	if (dev->desc == NULL) {
		gw_upnp_device_refuse(dev, local->message);
		return;
	}
	if (g_ascii_strcasecmp(dev->desc->udn, dev->udn) != 0) {
		g_autofree gchar *why =
		    g_strdup_printf("its description names another UDN (%s)", dev->desc->udn);
		gw_upnp_device_refuse(dev, why);
		return;
	}
	dev->services = g_ptr_array_new_with_free_func((GDestroyNotify)gw_upnp_service_free);
	for (guint i = 0; i < dev->desc->services->len; i++) {
		GwUpnpService *svc = g_new0(GwUpnpService, 1);
		svc->device = dev;
		svc->desc = g_ptr_array_index(dev->desc->services, i);
		svc->evented = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_ptr_array_add(dev->services, svc);
	}
	if (dev->services->len == 0) {
		gw_upnp_device_ready(dev);
		return;
	}
	dev->pending = dev->services->len;
	for (guint i = 0; i < dev->services->len; i++) {
		GwUpnpService *svc = g_ptr_array_index(dev->services, i);
		gw_upnp_fetch(dev, svc, svc->desc->scpd_url, gw_upnp_scpd_done);
		if (dev->cancellable == NULL || g_cancellable_is_cancelled(dev->cancellable))
			return; /* refused synchronously */
	}
}

static void
gw_upnp_device_fetch(GwUpnpDevice *dev)
{
	GwUpnpPlugin *self = dev->plugin;

	dev->in_pipeline = TRUE;
	self->fetches++;
	dev->cancellable = g_cancellable_new();
	g_debug("%s: fetching %s", dev->udn, dev->location);
	gw_upnp_fetch(dev, NULL, dev->location, gw_upnp_description_done);
}

static gboolean
gw_upnp_plugin_pump_cb(gpointer user_data)
{
	GwUpnpPlugin *self = user_data;

	self->pump_id = 0;
	while (self->fetches < GW_UPNP_FETCH_SLOTS && !g_queue_is_empty(&self->queue)) {
		GwUpnpDevice *dev = g_queue_pop_head(&self->queue);
		dev->queued = FALSE;
		gw_upnp_device_fetch(dev);
	}
	return G_SOURCE_REMOVE;
}

static void
gw_upnp_plugin_pump(GwUpnpPlugin *self)
{
	if (self->pump_id == 0 && !g_queue_is_empty(&self->queue))
		self->pump_id = g_idle_add(gw_upnp_plugin_pump_cb, self);
}

/* (re)describes @dev from scratch */
static void
gw_upnp_device_request_fetch(GwUpnpDevice *dev)
{
	g_clear_handle_id(&dev->retry_id, g_source_remove);
	gw_upnp_device_stop_pipeline(dev);
	gw_upnp_device_clear_model(dev);
	dev->state = GW_UPNP_DEVICE_FETCHING;
	dev->queued = TRUE;
	g_queue_push_tail(&dev->plugin->queue, dev);
	gw_upnp_plugin_pump(dev->plugin);
}

/* ---- presence ---- */

static gboolean
gw_upnp_device_forget_cb(gpointer user_data)
{
	GwUpnpDevice *dev = user_data;

	dev->forget_id = 0;
	g_hash_table_remove(dev->plugin->devices, dev->udn);
	return G_SOURCE_REMOVE;
}

static gboolean
gw_upnp_device_lost_cb(gpointer user_data)
{
	GwUpnpDevice *dev = user_data;
	guint forget = GW_UPNP_FORGET_S;

	dev->lost_id = 0;
	gw_upnp_device_report_lost(dev);
	/* what it described may change before it comes back: describe it again then */
	if (dev->state != GW_UPNP_DEVICE_REFUSED) {
		gw_upnp_device_stop_pipeline(dev);
		gw_upnp_device_clear_model(dev);
		dev->state = GW_UPNP_DEVICE_IDLE;
	} else {
		gint64 left = (dev->retry_after - g_get_monotonic_time()) / G_USEC_PER_SEC;
		forget = (guint)MAX((gint64)forget, left);
	}
	dev->forget_id = g_timeout_add_seconds(forget, gw_upnp_device_forget_cb, dev);
	return G_SOURCE_REMOVE;
}

/* @dev is announced nowhere now: lost unless it comes back within lost-delay-ms */
static void
gw_upnp_device_gone(GwUpnpDevice *dev)
{
	if (dev->lost_id != 0 || dev->forget_id != 0)
		return;
	dev->lost_id = g_timeout_add(dev->plugin->lost_delay_ms, gw_upnp_device_lost_cb, dev);
}

/* frees a device that is announced nowhere, to make room */
static gboolean
gw_upnp_plugin_evict_gone(GwUpnpPlugin *self)
{
	GHashTableIter iter;
	GwUpnpDevice *dev;

	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&dev)) {
		if (g_hash_table_size(dev->seen_on) == 0 && !dev->attached) {
			g_hash_table_iter_remove(&iter);
			return TRUE;
		}
	}
	return FALSE;
}

/* "uuid:…" of "uuid:…::upnp:rootdevice"; NULL when malformed */
static gchar *
gw_upnp_udn_from_usn(const gchar *usn)
{
	const gchar *end = usn != NULL ? strstr(usn, "::") : NULL;
	gsize len = end != NULL ? (gsize)(end - usn) : 0;

	if (len <= 5 || len > 128 || g_ascii_strncasecmp(usn, "uuid:", 5) != 0)
		return NULL;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(usn[i]) && strchr(":._-", usn[i]) == NULL)
			return NULL;
	}
	return g_strndup(usn, len);
}

/* the first location that is an http URL with a literal address this context can reach */
static const gchar *
gw_upnp_pick_location(GSSDPClient *client, GList *locations)
{
	for (GList *l = locations; l != NULL; l = l->next) {
		const gchar *location = l->data;
		g_autoptr(GUri) uri = NULL;
		g_autoptr(GSocketAddress) addr = NULL;
		const gchar *host;
		gint port;

		if (location == NULL || strlen(location) > GW_UPNP_MAX_LOCATION)
			continue;
		uri = g_uri_parse(location, G_URI_FLAGS_NONE, NULL);
		if (uri == NULL || g_strcmp0(g_uri_get_scheme(uri), "http") != 0)
			continue;
		host = g_uri_get_host(uri);
		port = g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : 80;
		if (host == NULL || !g_hostname_is_ip_address(host))
			continue;
		addr = g_inet_socket_address_new_from_string(host, (guint)port);
		if (addr != NULL && gssdp_client_can_reach(client, G_INET_SOCKET_ADDRESS(addr)))
			return location;
	}
	return NULL;
}

static void
gw_upnp_resource_available_cb(GSSDPResourceBrowser *browser,
                              const char *usn,
                              GList *locations,
                              gpointer user_data)
{
	GwUpnpPlugin *self = user_data;
	GSSDPClient *client = gssdp_resource_browser_get_client(browser);
	g_autofree gchar *udn = gw_upnp_udn_from_usn(usn);
	const gchar *location;
	GwUpnpDevice *dev;

	if (udn == NULL) {
		gw_info_ratelimited("SSDP announcement with a malformed USN ignored");
		return;
	}
	location = gw_upnp_pick_location(client, locations);
	if (location == NULL) {
		gw_warning_ratelimited("UPnP device %s ignored: no LOCATION is an http URL with an "
		                       "address on %s",
		                       udn,
		                       gssdp_client_get_interface(client));
		return;
	}
	dev = g_hash_table_lookup(self->devices, udn);
	if (dev == NULL) {
		if (g_hash_table_size(self->devices) >= self->max_devices &&
		    !gw_upnp_plugin_evict_gone(self)) {
			gw_warning_ratelimited(
			    "UPnP device %s ignored: %u devices already (max-devices)",
			    udn,
			    self->max_devices);
			return;
		}
		dev = g_new0(GwUpnpDevice, 1);
		dev->plugin = self;
		dev->udn = g_strdup(udn);
		dev->seen_on = g_hash_table_new_full(NULL, NULL, NULL, g_free);
		g_hash_table_insert(self->devices, dev->udn, dev);
	}
	g_hash_table_insert(dev->seen_on, client, g_strdup(location));
	g_clear_handle_id(&dev->lost_id, g_source_remove);
	g_clear_handle_id(&dev->forget_id, g_source_remove);
	if (g_strcmp0(dev->location, location) != 0 || dev->context == NULL) {
		/* new, or moved: what it serves now is what counts */
		g_free(dev->location);
		dev->location = g_strdup(location);
		g_set_object(&dev->context, GUPNP_CONTEXT(client));
		if (dev->state != GW_UPNP_DEVICE_REFUSED ||
		    g_get_monotonic_time() >= dev->retry_after)
			gw_upnp_device_request_fetch(dev);
		return;
	}
	switch (dev->state) {
	case GW_UPNP_DEVICE_IDLE:
		gw_upnp_device_request_fetch(dev);
		break;
	case GW_UPNP_DEVICE_REFUSED:
		if (g_get_monotonic_time() >= dev->retry_after)
			gw_upnp_device_request_fetch(dev);
		break;
	case GW_UPNP_DEVICE_READY:
		/* back within lost-delay-ms: nothing changed for the gateway */
		if (!dev->attached) {
			dev->attached = TRUE;
			gw_plugin_device_found(GW_PLUGIN(self), dev->info, dev->tree);
		}
		break;
	case GW_UPNP_DEVICE_FETCHING:
	default:
		break;
	}
}

static void
gw_upnp_resource_unavailable_cb(GSSDPResourceBrowser *browser, const char *usn, gpointer user_data)
{
	GwUpnpPlugin *self = user_data;
	g_autofree gchar *udn = gw_upnp_udn_from_usn(usn);
	GwUpnpDevice *dev = udn != NULL ? g_hash_table_lookup(self->devices, udn) : NULL;

	if (dev == NULL)
		return;
	g_hash_table_remove(dev->seen_on, gssdp_resource_browser_get_client(browser));
	if (g_hash_table_size(dev->seen_on) == 0) {
		g_debug("%s: bye-bye or max-age expired", dev->udn);
		gw_upnp_device_gone(dev);
	}
}

/* ---- contexts ---- */

static void
gw_upnp_context_available_cb(GUPnPContextManager *manager,
                             GUPnPContext *context,
                             gpointer user_data)
{
	GwUpnpPlugin *self = user_data;
	GSSDPClient *client = GSSDP_CLIENT(context);
	GSSDPResourceBrowser *browser;

	if (self->interfaces == NULL &&
	    g_inet_address_get_is_loopback(gssdp_client_get_address(client))) {
		g_info("%s skipped: loopback (name it in [upnp] interfaces to use it)",
		        gssdp_client_get_interface(client));
		return;
	}
	g_info("browsing for UPnP root devices on %s (%s)",
	       gssdp_client_get_interface(client),
	       gssdp_client_get_host_ip(client));
	browser = gssdp_resource_browser_new(client, "upnp:rootdevice");
	g_signal_connect(
	    browser, "resource-available", G_CALLBACK(gw_upnp_resource_available_cb), self);
	g_signal_connect(
	    browser, "resource-unavailable", G_CALLBACK(gw_upnp_resource_unavailable_cb), self);
	g_hash_table_insert(self->browsers, g_object_ref(context), browser);
	gssdp_resource_browser_set_active(browser, TRUE);
}

static void
gw_upnp_context_unavailable_cb(GUPnPContextManager *manager,
                               GUPnPContext *context,
                               gpointer user_data)
{
	GwUpnpPlugin *self = user_data;
	GHashTableIter iter;
	GwUpnpDevice *dev;

	if (!g_hash_table_contains(self->browsers, context))
		return;
	g_info("%s gone", gssdp_client_get_interface(GSSDP_CLIENT(context)));
	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&dev)) {
		g_hash_table_remove(dev->seen_on, context);
		if (dev->context == context) {
			/* its proxies live on this context: describe it again where it is seen */
			GHashTableIter seen;
			gpointer other = NULL;
			gpointer location = NULL;
			g_clear_object(&dev->context);
			g_hash_table_iter_init(&seen, dev->seen_on);
			if (g_hash_table_iter_next(&seen, &other, &location)) {
				g_free(dev->location);
				dev->location = g_strdup(location);
				dev->context = g_object_ref(GUPNP_CONTEXT(other));
				gw_upnp_device_request_fetch(dev);
			} else {
				gw_upnp_device_stop_pipeline(dev);
				gw_upnp_device_clear_model(dev);
				if (dev->state != GW_UPNP_DEVICE_REFUSED)
					dev->state = GW_UPNP_DEVICE_IDLE;
			}
		}
		if (g_hash_table_size(dev->seen_on) == 0)
			gw_upnp_device_gone(dev);
	}
	g_hash_table_remove(self->browsers, context);
}

static void
gw_upnp_browser_free(gpointer data)
{
	GSSDPResourceBrowser *browser = data;

	g_signal_handlers_disconnect_matched(
	    browser, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, gw_upnp_resource_available_cb, NULL);
	g_signal_handlers_disconnect_matched(
	    browser, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, gw_upnp_resource_unavailable_cb, NULL);
	gssdp_resource_browser_set_active(browser, FALSE);
	g_object_unref(browser);
}

/* ---- commands ---- */

typedef struct {
	GwUpnpPlugin *plugin;
	GUPnPServiceProxy *proxy;
	GUPnPServiceProxyAction *action;
	gchar *uri;
	gchar *format;
	GList *out_names;          /* of gchar*, owned */
	gint value_index;          /* >= 0: a Get answers this out-argument's value alone */
	gboolean boolean;          /* normalise the value to 0/1 */
	GCancellable *cancellable; /* the action's own */
	GCancellable *caller;
	gulong caller_handler;
	gulong plugin_handler;
	guint deadline_id;
	gboolean timed_out;
} GwUpnpCall;

static void
gw_upnp_call_free(GwUpnpCall *call)
{
	g_clear_handle_id(&call->deadline_id, g_source_remove);
	if (call->caller != NULL)
		g_cancellable_disconnect(call->caller, call->caller_handler);
	g_cancellable_disconnect(call->plugin->cancellable, call->plugin_handler);
	g_clear_object(&call->caller);
	g_clear_object(&call->cancellable);
	g_clear_object(&call->proxy);
	g_clear_pointer(&call->action, gupnp_service_proxy_action_unref);
	g_list_free_full(call->out_names, g_free);
	g_free(call->uri);
	g_free(call->format);
	g_free(call);
}

static void
gw_upnp_call_cancel_cb(GCancellable *source, gpointer user_data)
{
	g_cancellable_cancel(G_CANCELLABLE(user_data));
}

static gboolean
gw_upnp_call_deadline_cb(gpointer user_data)
{
	GwUpnpCall *call = user_data;

	call->deadline_id = 0;
	call->timed_out = TRUE;
	g_cancellable_cancel(call->cancellable);
	return G_SOURCE_REMOVE;
}

/* what a failed action becomes: a device's fault 500, a device that does not answer 408 */
static GwDeviceResult *
gw_upnp_error_result(const gchar *uri, const GError *error)
{
	g_autofree gchar *text = NULL;

	if (error->domain == GUPNP_CONTROL_ERROR) {
		text = g_strdup_printf("UPnP error %d: %s", error->code, error->message);
		return gw_device_result_new_fault(GW_DEVICE_STATUS_FAILED, uri, text);
	}
	if (error->domain == GUPNP_SERVER_ERROR || error->domain == GUPNP_XML_ERROR) {
		text = g_strdup_printf("invalid answer: %s", error->message);
		return gw_device_result_new_fault(GW_DEVICE_STATUS_FAILED, uri, text);
	}
	text = g_strdup_printf("device unreachable: %s", error->message);
	return gw_device_result_new_fault(GW_DEVICE_STATUS_TIMEOUT, uri, text);
}

static void
gw_upnp_call_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	GwUpnpCall *call = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	GUPnPServiceProxyAction *action;
	GList *types = NULL;
	GList *values = NULL;
	g_autoptr(GwDeviceResult) result = NULL;

	action = gupnp_service_proxy_call_action_finish(GUPNP_SERVICE_PROXY(source), res, &error);
	if (action == NULL) {
		if (call->timed_out) {
			g_task_return_pointer(
			    task,
			    gw_device_result_new_fault(GW_DEVICE_STATUS_TIMEOUT,
			                               call->uri,
			                               "no answer before the deadline"),
			    (GDestroyNotify)gw_device_result_unref);
		} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_task_return_error(task, g_steal_pointer(&error));
		} else {
			g_task_return_pointer(task,
			                      gw_upnp_error_result(call->uri, error),
			                      (GDestroyNotify)gw_device_result_unref);
		}
		return;
	}
	for (GList *l = call->out_names; l != NULL; l = l->next)
		types = g_list_append(types, GSIZE_TO_POINTER(G_TYPE_STRING));
	if (!gupnp_service_proxy_action_get_result_list(
	        action, call->out_names, types, &values, &error)) {
		g_list_free(types);
		g_task_return_pointer(task,
		                      gw_upnp_error_result(call->uri, error),
		                      (GDestroyNotify)gw_device_result_unref);
		return;
	}
	g_list_free(types);
	if (call->value_index >= 0) {
		GValue *v = g_list_nth_data(values, (guint)call->value_index);
		const gchar *text = v != NULL ? g_value_get_string(v) : NULL;
		if (text == NULL)
			text = "";
		if (call->boolean && gw_upnp_boolean_normalize(text) != NULL)
			text = gw_upnp_boolean_normalize(text);
		result = gw_device_result_new_value(call->uri, call->format, text);
	} else {
		result = gw_device_result_new(GW_DEVICE_STATUS_OK);
		if (call->out_names != NULL) {
			guint n = g_list_length(call->out_names);
			g_autofree const gchar **names = g_new0(const gchar *, n + 1);
			g_autofree const gchar **texts = g_new0(const gchar *, n + 1);
			g_autofree gchar *encoded = NULL;
			g_autoptr(GBytes) data = NULL;
			GList *l = call->out_names;
			GList *v = values;
			for (guint i = 0; i < n; i++, l = l->next, v = v->next) {
				names[i] = l->data;
				texts[i] = g_value_get_string(v->data);
			}
			encoded = gw_upnp_args_encode(names, texts);
			data = g_bytes_new(encoded, strlen(encoded));
			gw_device_result_add_item(result, call->uri, "chr", "text/plain", data);
		}
	}
	for (GList *l = values; l != NULL; l = l->next) {
		g_value_unset(l->data);
		g_free(l->data);
	}
	g_list_free(values);
	g_task_return_pointer(
	    task, g_steal_pointer(&result), (GDestroyNotify)gw_device_result_unref);
}

static void
gw_upnp_return_result(GTask *task, GwDeviceResult *result)
{
	g_task_return_pointer(task, result, (GDestroyNotify)gw_device_result_unref);
}

/* runs @action of @svc with @in_values (in-argument order); answers @value_index's out-value
 * alone (a Get) or every out-argument as one item (an Exec, a Replace) */
static void
gw_upnp_call(GwUpnpPlugin *self,
             GTask *task,
             GwUpnpService *svc,
             const GwUpnpAction *action,
             gchar **in_values,
             gint value_index,
             const gchar *format,
             gboolean boolean,
             const gchar *uri,
             gint64 deadline,
             GCancellable *caller)
{
	GwUpnpCall *call = g_new0(GwUpnpCall, 1);
	GList *in_names = NULL;
	GList *in_gvalues = NULL;
	guint k = 0;

	call->plugin = self;
	call->proxy = g_object_ref(svc->proxy);
	call->uri = g_strdup(uri);
	call->format = g_strdup(format);
	call->value_index = -1;
	call->boolean = boolean;
	for (guint i = 0; i < action->arguments->len; i++) {
		const GwUpnpArgument *a = g_ptr_array_index(action->arguments, i);
		if (a->out) {
			if ((gint)i == value_index)
				call->value_index = (gint)g_list_length(call->out_names);
			call->out_names = g_list_append(call->out_names, g_strdup(a->name));
		} else {
			GValue *v = g_new0(GValue, 1);
			g_value_init(v, G_TYPE_STRING);
			g_value_set_string(v, in_values != NULL ? in_values[k++] : "");
			in_names = g_list_append(in_names, a->name);
			in_gvalues = g_list_append(in_gvalues, v);
		}
	}
	call->action = gupnp_service_proxy_action_new_from_list(action->name, in_names, in_gvalues);
	g_list_free(in_names);
	for (GList *l = in_gvalues; l != NULL; l = l->next) {
		g_value_unset(l->data);
		g_free(l->data);
	}
	g_list_free(in_gvalues);
	if (value_index >= 0 && call->value_index < 0) {
		/* only answering one value, yet it is not an out-argument: a programming error */
		gw_upnp_call_free(call);
		gw_upnp_return_result(task,
		                      gw_device_result_new_fault(
		                          GW_DEVICE_STATUS_FAILED, uri, "no such out-argument"));
		return;
	}
	call->cancellable = g_cancellable_new();
	if (caller != NULL) {
		call->caller = g_object_ref(caller);
		call->caller_handler = g_cancellable_connect(
		    caller, G_CALLBACK(gw_upnp_call_cancel_cb), call->cancellable, NULL);
	}
	call->plugin_handler = g_cancellable_connect(
	    self->cancellable, G_CALLBACK(gw_upnp_call_cancel_cb), call->cancellable, NULL);
	if (deadline > 0) {
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		call->deadline_id = g_timeout_add(
		    (guint)CLAMP(left_ms, 0, G_MAXINT32), gw_upnp_call_deadline_cb, call);
	}
	g_task_set_task_data(task, call, (GDestroyNotify)gw_upnp_call_free);
	gupnp_service_proxy_call_action_async(
	    call->proxy, call->action, call->cancellable, gw_upnp_call_done_cb, g_object_ref(task));
}

static gchar *
gw_upnp_children_text(GwDeviceTree *tree, const gchar *uri)
{
	g_auto(GStrv) children = gw_device_tree_list_children(tree, uri);

	return children != NULL ? g_strjoinv("/", children) : NULL;
}

static void
gw_upnp_plugin_run_command_async(GwPlugin *plugin,
                                 const gchar *device_id,
                                 GwDeviceCommand *cmd,
                                 gint64 deadline,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
	GwUpnpPlugin *self = GW_UPNP_PLUGIN(plugin);
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	GwUpnpDevice *dev = g_hash_table_lookup(self->devices, device_id);
	const gchar *uri = gw_device_command_get_uri(cmd);
	GwDeviceOp op = gw_device_command_get_op(cmd);
	GBytes *bytes = gw_device_command_get_data(cmd);
	GwUpnpBinding *b;
	const gchar *static_value = NULL;
	const gchar *format = NULL;

	g_task_set_source_tag(task, gw_upnp_plugin_run_command_async);
	if (dev == NULL) {
		gw_upnp_return_result(task,
		                      gw_device_result_new_fault(
		                          GW_DEVICE_STATUS_NOT_FOUND, uri, "no such UPnP device"));
		return;
	}
	if (dev->state != GW_UPNP_DEVICE_READY || !dev->attached) {
		gw_upnp_return_result(
		    task,
		    gw_device_result_new_fault(
		        GW_DEVICE_STATUS_TIMEOUT, uri, "device unreachable: not announced"));
		return;
	}
	b = g_hash_table_lookup(dev->bindings, uri);
	if (b == NULL) {
		/* the description leaves and interior nodes (the gateway answers these itself) */
		if (!gw_device_tree_lookup(dev->tree, uri, &format, NULL, &static_value)) {
			gw_upnp_return_result(task,
			                      gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND));
		} else if (op != GW_DEVICE_OP_GET) {
			gw_upnp_return_result(task,
			                      gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED));
		} else if (static_value != NULL) {
			gw_upnp_return_result(
			    task, gw_device_result_new_value(uri, format, static_value));
		} else {
			g_autofree gchar *children = gw_upnp_children_text(dev->tree, uri);
			gw_upnp_return_result(task,
			                      gw_device_result_new_value(uri, "node", children));
		}
		return;
	}
	if (op == GW_DEVICE_OP_EXEC && b->exec != NULL) {
		g_autoptr(GError) error = NULL;
		gsize len = 0;
		const gchar *data = bytes != NULL ? g_bytes_get_data(bytes, &len) : NULL;
		g_auto(GStrv) values =
		    gw_upnp_args_parse(b->service->scpd, b->exec, data, len, &error);
		if (values == NULL) {
			gw_upnp_return_result(
			    task,
			    gw_device_result_new_fault(
			        GW_DEVICE_STATUS_BAD_REQUEST, uri, error->message));
			return;
		}
		gw_upnp_call(self,
		             task,
		             b->service,
		             b->exec,
		             values,
		             -1,
		             NULL,
		             FALSE,
		             uri,
		             deadline,
		             cancellable);
		return;
	}
	if (op == GW_DEVICE_OP_REPLACE && b->set != NULL) {
		const gchar *type = gw_upnp_in_type(b->service, b->set);
		const gchar *text = gw_device_command_get_data_string(cmd);
		gchar *values[2] = {NULL, NULL};
		g_autofree gchar *copy = NULL;

		if (bytes != NULL &&
		    memchr(g_bytes_get_data(bytes, NULL), '\0', g_bytes_get_size(bytes)) != NULL)
			text = NULL;
		if (text != NULL && g_strcmp0(type, "boolean") == 0)
			text = g_strcmp0(text, "0") == 0 || g_strcmp0(text, "1") == 0 ? text : NULL;
		if (text == NULL || !gw_upnp_value_is_valid(type, text)) {
			g_autofree gchar *why =
			    g_strdup_printf("the value is not a valid %s%s",
			                    type,
			                    g_strcmp0(type, "boolean") == 0 ? " (0 or 1)" : "");
			gw_upnp_return_result(
			    task,
			    gw_device_result_new_fault(GW_DEVICE_STATUS_BAD_REQUEST, uri, why));
			return;
		}
		copy = g_strdup(text);
		values[0] = copy;
		gw_upnp_call(self,
		             task,
		             b->service,
		             b->set,
		             values,
		             -1,
		             NULL,
		             FALSE,
		             uri,
		             deadline,
		             cancellable);
		/* a Replace answers no item */
		return;
	}
	if (op == GW_DEVICE_OP_GET && (b->get != NULL || b->variable != NULL)) {
		gboolean boolean =
		    b->variable != NULL && g_strcmp0(b->variable->data_type, "boolean") == 0;
		if (b->evented_first) {
			const gchar *value =
			    g_hash_table_lookup(b->service->evented, b->variable->name);
			if (value != NULL) {
				if (boolean && gw_upnp_boolean_normalize(value) != NULL)
					value = gw_upnp_boolean_normalize(value);
				gw_upnp_return_result(
				    task, gw_device_result_new_value(uri, b->format, value));
				return;
			}
		}
		if (b->get == NULL) {
			gw_upnp_return_result(task,
			                      gw_device_result_new_fault(
			                          GW_DEVICE_STATUS_NOT_IMPLEMENTED,
			                          uri,
			                          "no evented value and no action returns it"));
			return;
		}
		gw_upnp_call(self,
		             task,
		             b->service,
		             b->get,
		             NULL,
		             (gint)b->get_index,
		             b->format,
		             boolean,
		             uri,
		             deadline,
		             cancellable);
		return;
	}
	gw_upnp_return_result(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED));
}

static GwDeviceResult *
gw_upnp_plugin_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, plugin), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- life cycle ---- */

static guint
gw_upnp_config_uint(GwUpnpPlugin *self, const gchar *key, guint fallback, guint min, guint max)
{
	gint64 v = gw_plugin_get_config_int(GW_PLUGIN(self), key, fallback);

	if (v < min || v > max) {
		g_warning("[upnp] %s=%" G_GINT64_FORMAT " is outside %u..%u; using %u",
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
gw_upnp_plugin_startup(GwPlugin *plugin, GError **error)
{
	GwUpnpPlugin *self = GW_UPNP_PLUGIN(plugin);
	g_autofree gchar *interfaces = gw_plugin_get_config_value(plugin, "interfaces");
	g_autoptr(GTypeClass) klass = g_type_class_ref(GUPNP_TYPE_SERVICE_PROXY);
	g_autofree gchar *agent = NULL;

	/* the service proxies are built over our own parsed description (gw_upnp_device_ready) */
	if (g_object_class_find_property(G_OBJECT_CLASS(klass), "document") == NULL ||
	    g_object_class_find_property(G_OBJECT_CLASS(klass), "element") == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "this GUPnP has no \"document\" and \"element\" properties on its "
		            "service proxies");
		return FALSE;
	}
	if (interfaces != NULL && interfaces[0] != '\0') {
		g_auto(GStrv) parts = g_strsplit_set(interfaces, ",; \t", -1);
		g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; parts[i] != NULL; i++) {
			if (parts[i][0] != '\0')
				g_ptr_array_add(names, g_strdup(parts[i]));
		}
		g_ptr_array_add(names, NULL);
		self->interfaces = (gchar **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
		if (self->interfaces[0] == NULL)
			g_clear_pointer(&self->interfaces, g_strfreev);
	}
	self->ipv6 = gw_plugin_get_config_boolean(plugin, "ipv6", FALSE);
	self->events = gw_plugin_get_config_boolean(plugin, "events", TRUE);
	self->limits.max_document =
	    gw_upnp_config_uint(self, "max-document-size", 128 * 1024, 4096, 4 * 1024 * 1024);
	self->max_nodes = gw_upnp_config_uint(self, "max-nodes", 2048, 32, 65536);
	self->max_devices = gw_upnp_config_uint(self, "max-devices", 256, 1, 65536);
	self->lost_delay_ms = gw_upnp_config_uint(self, "lost-delay-ms", 3000, 0, 3600 * 1000);

	agent = g_strdup_printf("gwmo-upnp/%s", GW_UPNP_PLUGIN_VERSION);
	self->session = soup_session_new_with_options("user-agent",
	                                              agent,
	                                              "timeout",
	                                              GW_UPNP_FETCH_TIMEOUT_S,
	                                              "idle-timeout",
	                                              30,
	                                              "max-conns",
	                                              16,
	                                              "max-conns-per-host",
	                                              2,
	                                              "proxy-resolver",
	                                              NULL,
	                                              NULL);
	self->manager = gupnp_context_manager_create_full(
	    GSSDP_UDA_VERSION_1_0, self->ipv6 ? G_SOCKET_FAMILY_INVALID : G_SOCKET_FAMILY_IPV4, 0);
	if (self->interfaces != NULL) {
		GUPnPContextFilter *filter =
		    gupnp_context_manager_get_context_filter(self->manager);
		gupnp_context_filter_add_entryv(filter, self->interfaces);
		gupnp_context_filter_set_enabled(filter, TRUE);
	}
	g_signal_connect(
	    self->manager, "context-available", G_CALLBACK(gw_upnp_context_available_cb), self);
	g_signal_connect(
	    self->manager, "context-unavailable", G_CALLBACK(gw_upnp_context_unavailable_cb), self);
	g_info("UPnP adapter started (interfaces: %s, IPv6 %s)",
	       interfaces != NULL && interfaces[0] != '\0' ? interfaces : "all but loopback",
	       self->ipv6 ? "on" : "off");
	return TRUE;
}

static void
gw_upnp_plugin_shutdown(GwPlugin *plugin)
{
	GwUpnpPlugin *self = GW_UPNP_PLUGIN(plugin);

	g_cancellable_cancel(self->cancellable);
	if (self->manager != NULL)
		g_signal_handlers_disconnect_by_data(self->manager, self);
	g_hash_table_remove_all(self->devices);
	g_hash_table_remove_all(self->browsers);
	g_clear_handle_id(&self->pump_id, g_source_remove);
	g_clear_object(&self->manager);
	if (self->session != NULL)
		soup_session_abort(self->session);
	g_clear_object(&self->session);
}

static void
gw_upnp_plugin_finalize(GObject *object)
{
	GwUpnpPlugin *self = GW_UPNP_PLUGIN(object);

	gw_upnp_plugin_shutdown(GW_PLUGIN(self));
	g_hash_table_unref(self->devices);
	g_hash_table_unref(self->browsers);
	g_strfreev(self->interfaces);
	g_object_unref(self->cancellable);
	G_OBJECT_CLASS(gw_upnp_plugin_parent_class)->finalize(object);
}

static void
gw_upnp_plugin_class_init(GwUpnpPluginClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GwPluginClass *plugin_class = GW_PLUGIN_CLASS(klass);

	object_class->finalize = gw_upnp_plugin_finalize;
	plugin_class->startup = gw_upnp_plugin_startup;
	plugin_class->shutdown = gw_upnp_plugin_shutdown;
	plugin_class->run_command_async = gw_upnp_plugin_run_command_async;
	plugin_class->run_command_finish = gw_upnp_plugin_run_command_finish;
}

static void
gw_upnp_plugin_init(GwUpnpPlugin *self)
{
	gw_plugin_set_protocol(GW_PLUGIN(self), "UPnP");
	gw_plugin_set_version(GW_PLUGIN(self), GW_UPNP_PLUGIN_VERSION);
	gw_upnp_limits_init(&self->limits);
	self->max_nodes = 2048;
	self->max_devices = 256;
	self->lost_delay_ms = 3000;
	self->events = TRUE;
	self->cancellable = g_cancellable_new();
	self->browsers = g_hash_table_new_full(NULL, NULL, g_object_unref, gw_upnp_browser_free);
	self->devices = g_hash_table_new_full(
	    g_str_hash, g_str_equal, NULL, (GDestroyNotify)gw_upnp_device_free);
	g_queue_init(&self->queue);
}

GW_PLUGIN_DEFINE_MODULE(GW_TYPE_UPNP_PLUGIN)
