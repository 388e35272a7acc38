/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwNotifier"

#include "config.h"

#include "gw-error.h"
#include "gw-http-client.h"
#include "gw-notifier.h"
#include "gw-pkg0.h"

#define GW_NOTIFIER_TIMEOUT 10

struct _GwNotifier {
	GObject parent_instance;
	GwHttpClient *client;
};

G_DEFINE_FINAL_TYPE(GwNotifier, gw_notifier, G_TYPE_OBJECT)

gboolean
gw_notifier_address_is_valid(const gchar *address)
{
	return address != NULL &&
	       (g_str_has_prefix(address, "http://") || g_str_has_prefix(address, "https://") ||
	        g_str_has_prefix(address, "udp://"));
}

static void
gw_notifier_post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree gchar *addr = user_data;
	g_autoptr(GwHttpResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL)
		g_warning("Package #0 to %s not delivered: %s", addr, error->message);
	else if (response->status >= 300)
		g_warning("Package #0 to %s answered HTTP %u", addr, response->status);
	else
		g_debug("Package #0 to %s answered HTTP %u", addr, response->status);
}

static void
gw_notifier_send_datagram(GInetAddress *inet, guint16 port, GBytes *pkg0, const gchar *addr)
{
	g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(inet, port);
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GError) error = NULL;

	socket = g_socket_new(
	    g_inet_address_get_family(inet), G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
	if (socket == NULL ||
	    g_socket_send_to(
	        socket, sa, g_bytes_get_data(pkg0, NULL), g_bytes_get_size(pkg0), NULL, &error) <
	        0) {
		g_warning("Package #0 to %s not sent: %s", addr, error->message);
		return;
	}
	g_debug("Package #0 sent to %s", addr);
}

typedef struct {
	GBytes *pkg0;
	gchar *addr;
	guint16 port;
} GwNotifierResolve;

static void
gw_notifier_resolve_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwNotifierResolve *r = user_data;
	g_autoptr(GError) error = NULL;
	GList *addresses = g_resolver_lookup_by_name_finish(G_RESOLVER(source), res, &error);

	if (addresses == NULL)
		g_warning("Package #0 to %s not sent: %s", r->addr, error->message);
	else
		gw_notifier_send_datagram(addresses->data, r->port, r->pkg0, r->addr);
	g_resolver_free_addresses(addresses);
	g_bytes_unref(r->pkg0);
	g_free(r->addr);
	g_free(r);
}

gboolean
gw_notifier_send(GwNotifier *self, const gchar *addr, GBytes *pkg0, GError **error)
{
	g_return_val_if_fail(GW_IS_NOTIFIER(self), FALSE);
	g_return_val_if_fail(addr != NULL, FALSE);
	g_return_val_if_fail(pkg0 != NULL, FALSE);

	if (g_str_has_prefix(addr, "http://") || g_str_has_prefix(addr, "https://")) {
		gw_http_client_post_async(self->client,
		                          addr,
		                          GW_PKG0_CONTENT_TYPE,
		                          pkg0,
		                          NULL,
		                          NULL,
		                          gw_notifier_post_cb,
		                          g_strdup(addr));
		return TRUE;
	}
	if (g_str_has_prefix(addr, "udp://")) {
		g_autoptr(GUri) uri = g_uri_parse(addr, G_URI_FLAGS_NONE, NULL);
		g_autoptr(GInetAddress) inet = NULL;
		const gchar *host = uri != NULL ? g_uri_get_host(uri) : NULL;
		gint port = uri != NULL ? g_uri_get_port(uri) : -1;

		if (host == NULL || host[0] == '\0' || port <= 0 || port > 65535) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "malformed notification address %s (udp://host:port)",
			            addr);
			return FALSE;
		}
		inet = g_inet_address_new_from_string(host);
		if (inet != NULL) {
			gw_notifier_send_datagram(inet, (guint16)port, pkg0, addr);
		} else {
			GwNotifierResolve *r = g_new0(GwNotifierResolve, 1);
			g_autoptr(GResolver) resolver = g_resolver_get_default();
			r->pkg0 = g_bytes_ref(pkg0);
			r->addr = g_strdup(addr);
			r->port = (guint16)port;
			g_resolver_lookup_by_name_async(
			    resolver, host, NULL, gw_notifier_resolve_cb, r);
		}
		return TRUE;
	}
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_NOT_SUPPORTED,
	            "notification address %s: only http://, https:// and udp:// are supported",
	            addr);
	return FALSE;
}

static void
gw_notifier_dispose(GObject *object)
{
	GwNotifier *self = GW_NOTIFIER(object);
	g_clear_object(&self->client);
	G_OBJECT_CLASS(gw_notifier_parent_class)->dispose(object);
}

static void
gw_notifier_class_init(GwNotifierClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_notifier_dispose;
}

static void
gw_notifier_init(GwNotifier *self)
{
}

GwNotifier *
gw_notifier_new(GError **error)
{
	g_autoptr(GwNotifier) self = g_object_new(GW_TYPE_NOTIFIER, NULL);

	self->client = gw_http_client_new(NULL, error);
	if (self->client == NULL)
		return NULL;
	gw_http_client_set_timeout(self->client, GW_NOTIFIER_TIMEOUT);
	gw_http_client_set_retries(self->client, 1, 200);
	return g_steal_pointer(&self);
}
