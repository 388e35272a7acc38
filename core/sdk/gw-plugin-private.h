/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-plugin-http.h"
#include "gw-plugin.h"

G_BEGIN_DECLS

/*
 * The gateway's side of GwPlugin (not installed): exported by libgwmo-plugin in the version
 * node GW_PLUGIN_PRIVATE, which no plugin may use.
 *
 * Signals of GwPlugin:
 *  "device-found" (GwDeviceInfo *info, GwDeviceTree *tree or NULL)
 *  "device-lost" (const gchar *device_id)
 */

void
gw_plugin_set_name(GwPlugin *self, const gchar *name);

/*
 * The crash guard (gw-plugin-guard.h): @counter counts the calls into the plugin that are in
 * flight (startup, shutdown, run_command and deliver_image until their callback). The
 * wrappers below raise it before they call the plugin and lower it when the plugin has
 * returned (startup, shutdown) or completed (the async calls), whatever the caller does with
 * the result. It is shared memory the loader keeps in a file: when gwmod dies, what was in
 * flight is still there for the next start to read. NULL: an internal counter.
 */
void
gw_plugin_set_call_counter(GwPlugin *self, gint *counter);
/* the calls in flight now */
gint
gw_plugin_get_calls_in_flight(GwPlugin *self);

/*
 * What GW_PLUGIN_DEFINE_MODULE() notes when gwmo's build compiled the module (see
 * GW_PLUGIN_BUILD_ID in gw-plugin.h): the loader clears it, calls gw_plugin_query_type() and
 * takes it. Main thread only.
 */
void
gw_plugin_module_note_build_id(const char *id);
/* (transfer full) the build id noted since the last call, or NULL */
gchar *
gw_plugin_module_take_build_id(void);
/* the gateway's configuration; the plugin reads its own group ("upnp") */
void
gw_plugin_set_config(GwPlugin *self, GKeyFile *config);

gboolean
gw_plugin_startup(GwPlugin *self, GError **error);
void
gw_plugin_shutdown(GwPlugin *self);
void
gw_plugin_run_command_async(GwPlugin *self,
                            const gchar *device_id,
                            GwDeviceCommand *cmd,
                            gint64 deadline,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
GwDeviceResult *
gw_plugin_run_command_finish(GwPlugin *self, GAsyncResult *res, GError **error);
gboolean
gw_plugin_can_deliver_images(GwPlugin *self);
void
gw_plugin_deliver_image_async(GwPlugin *self,
                              const gchar *device_id,
                              const gchar *uri,
                              const gchar *sha256,
                              guint64 size,
                              gint64 deadline,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
GwDeviceResult *
gw_plugin_deliver_image_finish(GwPlugin *self, GAsyncResult *res, GError **error);

/*
 * The HTTP seam, the gateway's side (gw-plugin-http.h). The gateway wraps each request of a
 * plugin's path in a GwPluginHttpRequest over its own request (@impl) and the backend's
 * functions, and hands it to gw_plugin_http_dispatch().
 */
typedef struct {
	const gchar *(*get_header)(gpointer impl, const gchar *name);
	void (*add_header)(gpointer impl, const gchar *name, const gchar *value);
	void (*respond)(gpointer impl, guint status, const gchar *content_type, GBytes *body);
	gboolean (*is_closed)(gpointer impl);
	void (*free)(gpointer impl);
} GwPluginHttpBackend;

/* (transfer full) @backend: static; @impl: freed with backend->free with the last reference */
GwPluginHttpRequest *
gw_plugin_http_request_new(const GwPluginHttpBackend *backend,
                           gpointer impl,
                           const gchar *method,
                           const gchar *path,
                           GBytes *body,
                           const gchar *remote_host,
                           gboolean tls);
gboolean
gw_plugin_http_request_is_answered(GwPluginHttpRequest *request);

/* what gw_plugin_add_http_handler() asks the gateway: take @path on its listener for @plugin
 * (FALSE with @error when it is the gateway's or another plugin's) */
typedef gboolean (*GwPluginHttpClaimFunc)(GwPlugin *plugin,
                                          const gchar *path,
                                          gpointer data,
                                          GError **error);
/* the URLs of @path (NULL-terminated, transfer full) */
typedef gchar **(*GwPluginHttpUrisFunc)(GwPlugin *plugin, const gchar *path, gpointer data);
/* set by the gateway before startup(); without it gw_plugin_add_http_handler() refuses */
void
gw_plugin_set_http_host(GwPlugin *self,
                        GwPluginHttpClaimFunc claim,
                        GwPluginHttpUrisFunc uris,
                        gpointer data);
/* TRUE while the plugin serves @path (a path it added; shutdown() drops them all) */
gboolean
gw_plugin_http_serves(GwPlugin *self, const gchar *path);
/* runs the handler of @path (the path as added) on @request; FALSE when the plugin does not
 * serve it (any more): the caller answers 404 */
gboolean
gw_plugin_http_dispatch(GwPlugin *self, const gchar *path, GwPluginHttpRequest *request);

G_END_DECLS
