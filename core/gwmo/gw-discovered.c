/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDiscovered"

#include "config.h"

#include <string.h>

#include "gw-discovered.h"
#include "gw-gwmo-names.h"
#include "gw-log.h"

#define GW_DISCOVERED_MAX_DEVID 128
#define GW_DISCOVERED_MAX_PATH 255
/* service names remembered as ignored (each logged once); beyond, the log's rate limit holds */
#define GW_DISCOVERED_MAX_IGNORED 1024

struct _GwDiscovered {
	GObject parent_instance;
	GwConfig *config;
	GwInventory *inventory;
	GwDiscovery *discovery;
	gulong found_id;
	gulong lost_id;
	gulong state_id;
	/* service name → DeviceID, for the announcements taken (at most GwDiscovery's own
	 * bound of instances) */
	GHashTable *services;
	/* service names whose announcement was ignored (logged once each) */
	GHashTable *ignored;
	/* DeviceID → GSource id of its pending removal */
	GHashTable *forget;
};

G_DEFINE_FINAL_TYPE(GwDiscovered, gw_discovered, G_TYPE_OBJECT)

/* ---- TXT ---- */

static gboolean
gw_discovered_devid_is_valid(const gchar *value)
{
	gsize len = strlen(value);

	if (len == 0 || len > GW_DISCOVERED_MAX_DEVID)
		return FALSE;
	for (const gchar *p = value; *p != '\0'; p++) {
		if (!g_ascii_isgraph(*p))
			return FALSE;
	}
	return TRUE;
}

static gboolean
gw_discovered_path_is_valid(const gchar *value)
{
	gsize len = strlen(value);

	if (len == 0 || len > GW_DISCOVERED_MAX_PATH || value[0] != '/')
		return FALSE;
	for (const gchar *p = value; *p != '\0'; p++) {
		/* RFC 3986 path characters: unreserved, pct-encoded, sub-delims, ':', '@', '/' */
		if (!g_ascii_isalnum(*p) && strchr("-._~%!$&'()*+,;=:@/", *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

gboolean
gw_discovered_parse_txt(const gchar *const *txt, gchar **device_id, gchar **path, GError **error)
{
	const gchar *devid_value = NULL;
	const gchar *path_value = NULL;
	gboolean devid_seen = FALSE;
	gboolean path_seen = FALSE;

	g_return_val_if_fail(device_id != NULL && path != NULL, FALSE);
	*device_id = NULL;
	*path = NULL;
	/* RFC 6763 §6.4: keys are case-insensitive, only the first of a key counts; a key
	 * without '=' has no value */
	for (guint i = 0; txt != NULL && txt[i] != NULL; i++) {
		const gchar *eq = strchr(txt[i], '=');
		gsize key_len = eq != NULL ? (gsize)(eq - txt[i]) : strlen(txt[i]);
		if (key_len == strlen(GW_GWMO_MDNS_TXT_DEVID) &&
		    g_ascii_strncasecmp(txt[i], GW_GWMO_MDNS_TXT_DEVID, key_len) == 0) {
			if (!devid_seen)
				devid_value = eq != NULL ? eq + 1 : NULL;
			devid_seen = TRUE;
		} else if (key_len == strlen(GW_GWMO_MDNS_TXT_PATH) &&
		           g_ascii_strncasecmp(txt[i], GW_GWMO_MDNS_TXT_PATH, key_len) == 0) {
			if (!path_seen)
				path_value = eq != NULL ? eq + 1 : NULL;
			path_seen = TRUE;
		}
	}
	if (!devid_seen) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "no devid= in its TXT");
		return FALSE;
	}
	if (devid_value == NULL || !gw_discovered_devid_is_valid(devid_value)) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "devid= is not 1 to 128 printable ASCII characters");
		return FALSE;
	}
	if (path_seen && (path_value == NULL || !gw_discovered_path_is_valid(path_value))) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "path= is not an absolute URL path of at most 255 bytes");
		return FALSE;
	}
	*device_id = g_strdup(devid_value);
	*path = g_strdup(path_value);
	return TRUE;
}

/* ---- forgetting ---- */

typedef struct {
	GwDiscovered *self;
	gchar *device_id;
} GwDiscoveredForget;

static void
gw_discovered_forget_free(gpointer data)
{
	GwDiscoveredForget *f = data;
	g_free(f->device_id);
	g_free(f);
}

static void
gw_discovered_forget_now(GwDiscovered *self, const gchar *device_id)
{
	if (gw_inventory_forget_discovered(self->inventory, device_id))
		g_message("mDNS: Discovered record of %s removed (no longer announced)",
		          gw_log_redact(device_id));
}

static gboolean
gw_discovered_forget_cb(gpointer user_data)
{
	GwDiscoveredForget *f = user_data;
	g_autofree gchar *device_id = g_strdup(f->device_id);
	GwDiscovered *self = f->self;

	/* frees f */
	g_hash_table_remove(self->forget, device_id);
	gw_discovered_forget_now(self, device_id);
	return G_SOURCE_REMOVE;
}

static void
gw_discovered_schedule_forget(GwDiscovered *self, const gchar *device_id)
{
	gint64 delay = gw_config_get_int(self->config, "discovery", "forget-after");
	GwDiscoveredForget *f;
	guint id;

	if (g_hash_table_contains(self->forget, device_id))
		return;
	if (delay <= 0) {
		gw_discovered_forget_now(self, device_id);
		return;
	}
	f = g_new0(GwDiscoveredForget, 1);
	f->self = self;
	f->device_id = g_strdup(device_id);
	id = g_timeout_add_seconds_full(G_PRIORITY_DEFAULT,
	                                (guint)MIN(delay, G_MAXUINT),
	                                gw_discovered_forget_cb,
	                                f,
	                                gw_discovered_forget_free);
	g_hash_table_insert(self->forget, g_strdup(device_id), GUINT_TO_POINTER(id));
}

static void
gw_discovered_cancel_forget(GwDiscovered *self, const gchar *device_id)
{
	gpointer id;

	if (!g_hash_table_lookup_extended(self->forget, device_id, NULL, &id))
		return;
	g_source_remove(GPOINTER_TO_UINT(id));
	g_hash_table_remove(self->forget, device_id);
}

static gboolean
gw_discovered_devid_announced(GwDiscovered *self, const gchar *device_id)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->services);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (g_strcmp0(value, device_id) == 0)
			return TRUE;
	}
	return FALSE;
}

/* ---- GwDiscovery's signals ---- */

static void
gw_discovered_ignore(GwDiscovered *self, const gchar *name, const gchar *why)
{
	g_autofree gchar *name_log = NULL;

	/* once per service name (GwDiscovery emits again on every resolution) */
	if (g_hash_table_contains(self->ignored, name))
		return;
	if (g_hash_table_size(self->ignored) < GW_DISCOVERED_MAX_IGNORED)
		g_hash_table_add(self->ignored, g_strdup(name));
	name_log = g_strescape(name, NULL);
	gw_message_ratelimited("mDNS: device '%s' ignored: %s", name_log, why);
}

static void
gw_discovered_found_cb(GwDiscovery *discovery,
                       const gchar *name,
                       const gchar *host,
                       const gchar *address,
                       guint port,
                       const gchar *const *txt,
                       gpointer user_data)
{
	GwDiscovered *self = GW_DISCOVERED(user_data);
	g_autofree gchar *device_id = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *name_log = NULL;
	g_autoptr(GError) error = NULL;
	GwInventoryDevice info = {0};
	const gchar *old;
	gboolean created = FALSE;
	guint max = (guint)gw_config_get_int(self->config, "discovery", "max-discovered");

	if (!gw_discovered_parse_txt(txt, &device_id, &path, &error)) {
		gw_discovered_ignore(self, name, error->message);
		return;
	}
	if (address == NULL || address[0] == '\0' || port == 0) {
		gw_discovered_ignore(self, name, "no address");
		return;
	}
	/* the resolved address, not the announced host name */
	info.address = g_strdup_printf(strchr(address, ':') != NULL ? "[%s]:%u%s" : "%s:%u%s",
	                               address,
	                               port,
	                               path != NULL ? path : "");
	info.device_id = g_strdup(device_id);
	info.protocol = g_strdup(GW_GWMO_PROTOCOL_OMA_DM);
	uri = gw_inventory_discover(self->inventory, &info, max, &created, &error);
	gw_inventory_device_clear(&info);
	name_log = g_strescape(name, NULL);
	if (uri == NULL) {
		if (g_error_matches(error, GW_ERROR, GW_ERROR_WRONG_STATE))
			/* a flooded LAN: the gateway goes on, a message (not a warning) */
			gw_message_ratelimited(
			    "mDNS: device '%s' not recorded: %s", name_log, error->message);
		else
			gw_discovered_ignore(self, name, error->message);
		return;
	}
	g_hash_table_remove(self->ignored, name);
	old = g_hash_table_lookup(self->services, name);
	if (old != NULL && g_strcmp0(old, device_id) != 0) {
		/* the service now names another device: the former may go */
		g_autofree gchar *former = g_strdup(old);
		g_hash_table_remove(self->services, name);
		if (!gw_discovered_devid_announced(self, former))
			gw_discovered_schedule_forget(self, former);
	}
	g_hash_table_replace(self->services, g_strdup(name), g_strdup(device_id));
	gw_discovered_cancel_forget(self, device_id);
	if (created)
		g_message("mDNS: device '%s' recorded as Discovered at %s (DeviceID %s)",
		          name_log,
		          uri,
		          gw_log_redact(device_id));
}

static void
gw_discovered_lost_cb(GwDiscovery *discovery, const gchar *name, gpointer user_data)
{
	GwDiscovered *self = GW_DISCOVERED(user_data);
	g_autofree gchar *device_id = NULL;

	g_hash_table_remove(self->ignored, name);
	device_id = g_strdup(g_hash_table_lookup(self->services, name));
	if (device_id == NULL)
		return;
	g_hash_table_remove(self->services, name);
	if (!gw_discovered_devid_announced(self, device_id) &&
	    gw_inventory_is_discovered(self->inventory, device_id))
		gw_discovered_schedule_forget(self, device_id);
}

/* avahi-daemon went away: GwDiscovery forgot what it saw and reports it again once the daemon
 * is back; until then every device counts as withdrawn (and is forgotten after the grace) */
static void
gw_discovered_state_cb(GwDiscovery *discovery, gpointer user_data)
{
	GwDiscovered *self = GW_DISCOVERED(user_data);
	g_autoptr(GHashTable) services = NULL;
	GHashTableIter iter;
	gpointer value;

	/* DISABLED: gwmod stops; the records stay for the next start */
	if (gw_discovery_get_state(discovery) == GW_DISCOVERY_STATE_RUNNING ||
	    gw_discovery_get_state(discovery) == GW_DISCOVERY_STATE_DISABLED)
		return;
	services = g_steal_pointer(&self->services);
	self->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_remove_all(self->ignored);
	g_hash_table_iter_init(&iter, services);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (gw_inventory_is_discovered(self->inventory, value))
			gw_discovered_schedule_forget(self, value);
	}
}

void
gw_discovered_watch(GwDiscovered *self, GwDiscovery *discovery)
{
	g_return_if_fail(GW_IS_DISCOVERED(self));
	g_return_if_fail(GW_IS_DISCOVERY(discovery));
	g_return_if_fail(self->discovery == NULL);

	self->discovery = g_object_ref(discovery);
	self->found_id =
	    g_signal_connect(discovery, "device-found", G_CALLBACK(gw_discovered_found_cb), self);
	self->lost_id =
	    g_signal_connect(discovery, "device-lost", G_CALLBACK(gw_discovered_lost_cb), self);
	self->state_id =
	    g_signal_connect(discovery, "state-changed", G_CALLBACK(gw_discovered_state_cb), self);
	/* the Discovered records of an earlier run: forgotten unless announced again */
	{
		g_auto(GStrv) ids = gw_inventory_list_discovered(self->inventory);
		for (guint i = 0; ids[i] != NULL; i++)
			gw_discovered_schedule_forget(self, ids[i]);
	}
}

/* ---- GObject ---- */

static void
gw_discovered_dispose(GObject *object)
{
	GwDiscovered *self = GW_DISCOVERED(object);
	GHashTableIter iter;
	gpointer id;

	if (self->discovery != NULL) {
		g_clear_signal_handler(&self->found_id, self->discovery);
		g_clear_signal_handler(&self->lost_id, self->discovery);
		g_clear_signal_handler(&self->state_id, self->discovery);
		g_clear_object(&self->discovery);
	}
	g_hash_table_iter_init(&iter, self->forget);
	while (g_hash_table_iter_next(&iter, NULL, &id))
		g_source_remove(GPOINTER_TO_UINT(id));
	g_hash_table_remove_all(self->forget);
	g_clear_object(&self->inventory);
	g_clear_object(&self->config);
	G_OBJECT_CLASS(gw_discovered_parent_class)->dispose(object);
}

static void
gw_discovered_finalize(GObject *object)
{
	GwDiscovered *self = GW_DISCOVERED(object);
	g_hash_table_unref(self->services);
	g_hash_table_unref(self->ignored);
	g_hash_table_unref(self->forget);
	G_OBJECT_CLASS(gw_discovered_parent_class)->finalize(object);
}

static void
gw_discovered_class_init(GwDiscoveredClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_discovered_dispose;
	object_class->finalize = gw_discovered_finalize;
}

static void
gw_discovered_init(GwDiscovered *self)
{
	self->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->ignored = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->forget = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

GwDiscovered *
gw_discovered_new(GwConfig *config, GwInventory *inventory)
{
	GwDiscovered *self;

	g_return_val_if_fail(GW_IS_CONFIG(config), NULL);
	g_return_val_if_fail(GW_IS_INVENTORY(inventory), NULL);
	self = g_object_new(GW_TYPE_DISCOVERED, NULL);
	self->config = g_object_ref(config);
	self->inventory = g_object_ref(inventory);
	return self;
}
