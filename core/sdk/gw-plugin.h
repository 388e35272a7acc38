/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gmodule.h>

#include "gw-device.h"

G_BEGIN_DECLS

/*
 * GwPlugin: the base class of an adapter (Adaptation mode, GwMO-AMoDe-001).
 *
 * An adapter lets the gateway manage End Devices that speak another protocol than OMA DM. It
 * discovers the devices of its protocol and reports them (gw_plugin_device_found() and
 * gw_plugin_device_lost()); the gateway keeps each in its Device Inventory (Protocol = the
 * adapter's protocol, Mode 3) and sends DeviceAttached/Detached to the DM Servers that ask.
 * A DM Server then manages them with the same Fanout jobs it uses for OMA DM devices: the
 * gateway checks each command against the tree the adapter declared for the device
 * (GwDeviceTree) and hands what is left to the adapter's run_command vfunc.
 *
 * A plugin is a shared module in $libdir/gwmo/plugins-1 that exports exactly what
 * GW_PLUGIN_DEFINE_MODULE() defines. The gateway checks the module's ABI version before
 * anything else, makes it resident, creates one instance of its type, and calls startup().
 * A plugin that fails any of these steps is reported and skipped; the gateway goes on.
 *
 * Threading: every vfunc is called in the gateway's main thread and must not block it (start
 * asynchronous work and return); every function of this header is called from the main thread.
 */

/* the ABI of this header; a plugin built against another one is not loaded */
#define GW_PLUGIN_API_VERSION 1

#define GW_TYPE_PLUGIN (gw_plugin_get_type())
G_DECLARE_DERIVABLE_TYPE(GwPlugin, gw_plugin, GW, PLUGIN, GObject)

/**
 * GwPluginClass:
 * @startup: start discovering and serving devices. Called once, after the instance is made
 *   and its configuration is readable. Must not block; returns FALSE with @error when the
 *   adapter cannot work at all (it is then reported as Failed). Optional.
 * @shutdown: stop: release sockets, cancel what runs. Devices need not be reported lost.
 *   Optional.
 * @run_command_async: run @cmd on the device @device_id. The gateway has already checked the
 *   command against the device's GwDeviceTree. @cancellable is cancelled when the job is
 *   cancelled or @deadline (g_get_monotonic_time() scale) passes; the gateway answers 408 at
 *   the deadline whatever the adapter does, and ignores a later completion. Required.
 * @run_command_finish: the device's answer. A GError means the adapter could not run the
 *   command at all (it becomes status 500); a device's refusal is a GwDeviceResult with its
 *   status. Required.
 * @deliver_image_async: hand the device an image the gateway stores (a firmware or software
 *   package): @uri is the device's own URL of it on the gateway, @sha256 its hash (hex), @size
 *   its size. Optional: adapters of protocols that cannot fetch images leave it NULL.
 * @deliver_image_finish: the outcome, as for run_command_finish.
 *
 * Since: 1.0
 */
struct _GwPluginClass {
	GObjectClass parent_class;

	gboolean (*startup)(GwPlugin *self, GError **error);
	void (*shutdown)(GwPlugin *self);
	void (*run_command_async)(GwPlugin *self,
	                          const gchar *device_id,
	                          GwDeviceCommand *cmd,
	                          gint64 deadline,
	                          GCancellable *cancellable,
	                          GAsyncReadyCallback callback,
	                          gpointer user_data);
	GwDeviceResult *(*run_command_finish)(GwPlugin *self, GAsyncResult *res, GError **error);
	void (*deliver_image_async)(GwPlugin *self,
	                            const gchar *device_id,
	                            const gchar *uri,
	                            const gchar *sha256,
	                            guint64 size,
	                            gint64 deadline,
	                            GCancellable *cancellable,
	                            GAsyncReadyCallback callback,
	                            gpointer user_data);
	GwDeviceResult *(*deliver_image_finish)(GwPlugin *self, GAsyncResult *res, GError **error);

	/*< private >*/
	gpointer padding[26];
};

/* ---- what a plugin says of itself (call them in its instance init) ---- */

/* the protocol it adapts, as the inventory's Protocol shows it ("UPnP", "Zigbee", "TR-069");
 * required: one adapter per protocol */
void
gw_plugin_set_protocol(GwPlugin *self, const gchar *protocol);
const gchar *
gw_plugin_get_protocol(GwPlugin *self);
/* its version, free form ("1.0.2") */
void
gw_plugin_set_version(GwPlugin *self, const gchar *version);
const gchar *
gw_plugin_get_version(GwPlugin *self);
/* its name: the module's file name without "libgw_plugin_" and the suffix ("upnp"), set by
 * the gateway; also the name of its group in gwmod.conf */
const gchar *
gw_plugin_get_name(GwPlugin *self);

/* ---- what a plugin tells the gateway ---- */

/*
 * A device of this adapter's protocol is here (or is here again, or changed): the gateway
 * registers or refreshes its inventory record (Attached, Mode 3) and keeps @tree as the nodes
 * it answers (NULL: only ./DevInfo). The same DeviceID reported again updates the record; a
 * DeviceID another adapter reported is refused (logged).
 */
void
gw_plugin_device_found(GwPlugin *self, GwDeviceInfo *info, GwDeviceTree *tree);
/* the device left (bye-bye, leave, offline): its record becomes Detached */
void
gw_plugin_device_lost(GwPlugin *self, const gchar *device_id);

/* ---- what the gateway gives a plugin ---- */

/* @key of the plugin's own group in gwmod.conf ([upnp] interfaces=…), NULL when unset */
gchar *
gw_plugin_get_config_value(GwPlugin *self, const gchar *key);
/* the same as a boolean / integer, @fallback when unset or malformed (malformed is logged) */
gboolean
gw_plugin_get_config_boolean(GwPlugin *self, const gchar *key, gboolean fallback);
gint64
gw_plugin_get_config_int(GwPlugin *self, const gchar *key, gint64 fallback);

/*
 * Defines the two symbols the gateway looks for in a plugin module: the ABI version it was
 * built against, and the function that returns the plugin's GType (a subclass of
 * GW_TYPE_PLUGIN). Use it once, in one file of the module, and export nothing else (build
 * with hidden visibility and a version script that keeps only these two: see
 * docs/plugin-guide.md).
 *
 * Since: 1.0
 */
#define GW_PLUGIN_DEFINE_MODULE(plugin_gtype)                                        \
	G_MODULE_EXPORT const guint32 gw_plugin_api_version = GW_PLUGIN_API_VERSION; \
	GW_PLUGIN_DEFINE_MODULE_BUILD_ID_                                            \
	G_MODULE_EXPORT GType gw_plugin_query_type(void);                            \
	G_MODULE_EXPORT GType gw_plugin_query_type(void)                             \
	{                                                                            \
		GW_PLUGIN_DEFINE_MODULE_NOTE_BUILD_ID_;                              \
		return (plugin_gtype);                                               \
	}

/*< private >*/
/* gwmo's own build defines GW_PLUGIN_BUILD_ID for the plugins it ships, so that gwmod can tell
 * them from plugins built elsewhere (the Manager's Tainted property); third-party plugins
 * leave it undefined */
#ifdef GW_PLUGIN_BUILD_ID
#define GW_PLUGIN_DEFINE_MODULE_BUILD_ID_ void gw_plugin_module_note_build_id(const char *id);
#define GW_PLUGIN_DEFINE_MODULE_NOTE_BUILD_ID_ gw_plugin_module_note_build_id(GW_PLUGIN_BUILD_ID)
#else
#define GW_PLUGIN_DEFINE_MODULE_BUILD_ID_
#define GW_PLUGIN_DEFINE_MODULE_NOTE_BUILD_ID_ (void)0
#endif

G_END_DECLS
