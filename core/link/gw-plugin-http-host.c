/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwPluginHttp"

#include "config.h"

#include <string.h>

#include "gw-error.h"
#include "gw-log.h"
#include "gw-plugin-http-host.h"

/* one path a plugin claimed; the listener's handler holds a reference */
typedef struct {
	gint refcount;
	gchar *path;
	GWeakRef plugin;
	gchar *plugin_name;
	guint64 *n_requests; /* the host's counter; NULL once the host is gone */
	gboolean served;     /* its handler is on the server */
} GwPluginHttpClaim;

struct _GwPluginHttpHost {
	GObject parent_instance;
	GwHttpServer *server; /* nullable */
	GPtrArray *reserved;  /* gchar* */
	GHashTable *claims;   /* path -> GwPluginHttpClaim */
	GPtrArray *attached;  /* GWeakRef* of the plugins that may claim */
	guint64 n_requests;
};

G_DEFINE_FINAL_TYPE(GwPluginHttpHost, gw_plugin_http_host, G_TYPE_OBJECT)

static GwPluginHttpClaim *
gw_plugin_http_claim_ref(GwPluginHttpClaim *claim)
{
	claim->refcount++;
	return claim;
}

static void
gw_plugin_http_claim_unref(gpointer data)
{
	GwPluginHttpClaim *claim = data;

	if (--claim->refcount > 0)
		return;
	g_weak_ref_clear(&claim->plugin);
	g_free(claim->path);
	g_free(claim->plugin_name);
	g_free(claim);
}

/* ---- the request a plugin sees, over the listener's ---- */

static const gchar *
gw_plugin_http_backend_get_header(gpointer impl, const gchar *name)
{
	return gw_http_request_get_header(impl, name);
}

static void
gw_plugin_http_backend_add_header(gpointer impl, const gchar *name, const gchar *value)
{
	gw_http_request_add_header(impl, name, value);
}

static void
gw_plugin_http_backend_respond(gpointer impl, guint status, const gchar *content_type, GBytes *body)
{
	gw_http_request_respond(impl, status, content_type, body);
}

static gboolean
gw_plugin_http_backend_is_closed(gpointer impl)
{
	return gw_http_request_is_closed(impl);
}

static void
gw_plugin_http_backend_free(gpointer impl)
{
	gw_http_request_unref(impl);
}

static const GwPluginHttpBackend gw_plugin_http_backend = {
    gw_plugin_http_backend_get_header,
    gw_plugin_http_backend_add_header,
    gw_plugin_http_backend_respond,
    gw_plugin_http_backend_is_closed,
    gw_plugin_http_backend_free,
};

/* the listener's handler of a claimed path: every bound of the listener passed already */
static void
gw_plugin_http_host_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwPluginHttpClaim *claim = user_data;
	g_autoptr(GwPlugin) plugin = g_weak_ref_get(&claim->plugin);
	g_autoptr(GwPluginHttpRequest) preq = NULL;

	if (plugin == NULL || !gw_plugin_http_serves(plugin, claim->path)) {
		gw_http_request_respond(request, 404, NULL, NULL);
		return;
	}
	if (claim->n_requests != NULL)
		(*claim->n_requests)++;
	g_debug("%s %s from %s to plugin %s",
	        gw_http_request_get_method(request),
	        gw_http_request_get_path(request),
	        gw_http_request_get_remote_host(request),
	        claim->plugin_name);
	preq = gw_plugin_http_request_new(&gw_plugin_http_backend,
	                                  gw_http_request_ref(request),
	                                  gw_http_request_get_method(request),
	                                  gw_http_request_get_path(request),
	                                  gw_http_request_get_body(request),
	                                  gw_http_request_get_remote_host(request),
	                                  gw_http_request_is_tls(request));
	if (!gw_plugin_http_dispatch(plugin, claim->path, preq))
		gw_plugin_http_request_respond(preq, 404, NULL, NULL);
}

static void
gw_plugin_http_host_serve(GwPluginHttpHost *self, GwPluginHttpClaim *claim)
{
	if (self->server == NULL || claim->served)
		return;
	claim->served = TRUE;
	gw_http_server_add_handler(self->server,
	                           claim->path,
	                           gw_plugin_http_host_handler,
	                           gw_plugin_http_claim_ref(claim),
	                           gw_plugin_http_claim_unref);
}

/* ---- claims ---- */

/* @a and @b name the same place, or one lies below the other ("/dm" and "/dm/x/") */
static gboolean
gw_plugin_http_paths_overlap(const gchar *a, const gchar *b)
{
	gsize la = strlen(a);
	gsize lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	if (la > lb) {
		const gchar *t = a;
		gsize lt = la;
		a = b;
		la = lb;
		b = t;
		lb = lt;
	}
	/* a is the shorter: b equals it or continues it with a new segment */
	return strncmp(a, b, la) == 0 && (lb == la || b[la] == '/');
}

static gboolean
gw_plugin_http_host_claim(GwPlugin *plugin, const gchar *path, gpointer data, GError **error)
{
	GwPluginHttpHost *self = GW_PLUGIN_HTTP_HOST(data);
	GwPluginHttpClaim *claim;
	GHashTableIter iter;
	gpointer value;

	for (guint i = 0; i < self->reserved->len; i++) {
		const gchar *own = g_ptr_array_index(self->reserved, i);
		if (gw_plugin_http_paths_overlap(own, path)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_ALREADY_EXISTS,
			            "plugin %s may not serve %s: the gateway serves %s",
			            gw_plugin_get_name(plugin),
			            path,
			            own);
			return FALSE;
		}
	}
	g_hash_table_iter_init(&iter, self->claims);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GwPluginHttpClaim *other = value;
		g_autoptr(GwPlugin) owner = g_weak_ref_get(&other->plugin);

		if (owner == NULL || !gw_plugin_http_serves(owner, other->path))
			continue; /* stale: its plugin stopped serving it */
		if (gw_plugin_http_paths_overlap(other->path, path)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_ALREADY_EXISTS,
			            "plugin %s may not serve %s: plugin %s serves %s",
			            gw_plugin_get_name(plugin),
			            path,
			            other->plugin_name,
			            other->path);
			return FALSE;
		}
	}
	claim = g_hash_table_lookup(self->claims, path);
	if (claim == NULL) {
		claim = g_new0(GwPluginHttpClaim, 1);
		claim->refcount = 1;
		claim->path = g_strdup(path);
		claim->n_requests = &self->n_requests;
		g_weak_ref_init(&claim->plugin, NULL);
		g_hash_table_insert(self->claims, claim->path, claim);
	}
	g_weak_ref_set(&claim->plugin, plugin);
	g_free(claim->plugin_name);
	claim->plugin_name = g_strdup(gw_plugin_get_name(plugin));
	gw_plugin_http_host_serve(self, claim);
	g_message(
	    "plugin %s serves %s on the southbound listener", claim->plugin_name, claim->path);
	return TRUE;
}

static gchar **
gw_plugin_http_host_uris(GwPlugin *plugin, const gchar *path, gpointer data)
{
	GwPluginHttpHost *self = GW_PLUGIN_HTTP_HOST(data);
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();

	if (self->server != NULL) {
		g_auto(GStrv) uris = gw_http_server_get_uris(self->server);
		for (guint i = 0; uris[i] != NULL; i++) {
			gsize len = strlen(uris[i]);
			g_autofree gchar *uri = NULL;
			if (len > 0 && uris[i][len - 1] == '/')
				uris[i][len - 1] = '\0';
			uri = g_strconcat(uris[i], path, NULL);
			g_strv_builder_add(b, uri);
		}
	}
	return g_strv_builder_end(b);
}

/* ---- the host ---- */

GwPluginHttpHost *
gw_plugin_http_host_new(void)
{
	return g_object_new(GW_TYPE_PLUGIN_HTTP_HOST, NULL);
}

void
gw_plugin_http_host_reserve(GwPluginHttpHost *self, const gchar *path)
{
	g_return_if_fail(GW_IS_PLUGIN_HTTP_HOST(self));
	g_return_if_fail(path != NULL && path[0] == '/');
	g_ptr_array_add(self->reserved, g_strdup(path));
}

void
gw_plugin_http_host_set_server(GwPluginHttpHost *self, GwHttpServer *server)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail(GW_IS_PLUGIN_HTTP_HOST(self));
	g_return_if_fail(self->server == NULL);
	self->server = g_object_ref(server);
	g_hash_table_iter_init(&iter, self->claims);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		gw_plugin_http_host_serve(self, value);
}

void
gw_plugin_http_host_attach(GwPluginHttpHost *self, GwPlugin *plugin)
{
	GWeakRef *ref;

	g_return_if_fail(GW_IS_PLUGIN_HTTP_HOST(self));
	g_return_if_fail(GW_IS_PLUGIN(plugin));
	for (guint i = 0; i < self->attached->len; i++) {
		g_autoptr(GwPlugin) p = g_weak_ref_get(g_ptr_array_index(self->attached, i));
		if (p == plugin)
			return;
	}
	ref = g_new0(GWeakRef, 1);
	g_weak_ref_init(ref, plugin);
	g_ptr_array_add(self->attached, ref);
	gw_plugin_set_http_host(plugin, gw_plugin_http_host_claim, gw_plugin_http_host_uris, self);
}

guint64
gw_plugin_http_host_get_n_requests(GwPluginHttpHost *self)
{
	g_return_val_if_fail(GW_IS_PLUGIN_HTTP_HOST(self), 0);
	return self->n_requests;
}

static void
gw_plugin_http_weak_ref_free(gpointer data)
{
	g_weak_ref_clear(data);
	g_free(data);
}

static void
gw_plugin_http_host_dispose(GObject *object)
{
	GwPluginHttpHost *self = GW_PLUGIN_HTTP_HOST(object);
	GHashTableIter iter;
	gpointer value;

	/* plugins that outlive the host can claim nothing more */
	for (guint i = 0; i < self->attached->len; i++) {
		g_autoptr(GwPlugin) p = g_weak_ref_get(g_ptr_array_index(self->attached, i));
		if (p != NULL)
			gw_plugin_set_http_host(p, NULL, NULL, NULL);
	}
	g_ptr_array_set_size(self->attached, 0);
	g_hash_table_iter_init(&iter, self->claims);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		((GwPluginHttpClaim *)value)->n_requests = NULL;
	g_hash_table_remove_all(self->claims);
	g_clear_object(&self->server);
	G_OBJECT_CLASS(gw_plugin_http_host_parent_class)->dispose(object);
}

static void
gw_plugin_http_host_finalize(GObject *object)
{
	GwPluginHttpHost *self = GW_PLUGIN_HTTP_HOST(object);

	g_ptr_array_unref(self->reserved);
	g_ptr_array_unref(self->attached);
	g_hash_table_unref(self->claims);
	G_OBJECT_CLASS(gw_plugin_http_host_parent_class)->finalize(object);
}

static void
gw_plugin_http_host_class_init(GwPluginHttpHostClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_plugin_http_host_dispose;
	G_OBJECT_CLASS(klass)->finalize = gw_plugin_http_host_finalize;
}

static void
gw_plugin_http_host_init(GwPluginHttpHost *self)
{
	self->reserved = g_ptr_array_new_with_free_func(g_free);
	self->attached = g_ptr_array_new_with_free_func(gw_plugin_http_weak_ref_free);
	self->claims =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, gw_plugin_http_claim_unref);
}
