/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwConfig"

#include "config.h"

#include "gw-config.h"
#include "gw-listener.h"

typedef enum {
	GW_CONFIG_TYPE_STRING,
	GW_CONFIG_TYPE_INT,
	GW_CONFIG_TYPE_BOOL,
} GwConfigType;

typedef struct {
	const gchar *group;
	const gchar *key;
	GwConfigType type;
	const gchar *default_value; /* NULL: unset */
	gint64 min;
	gint64 max;
} GwConfigKey;

/* every key gwmod knows, with its default; documented in docs/man/gwmod.conf.5.md */
static const GwConfigKey gw_config_keys[] = {
    {"daemon", "state-dir", GW_CONFIG_TYPE_STRING, GW_STATEDIR, 0, 0},
    {"daemon", "debug-domains", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"daemon", "journal-limit", GW_CONFIG_TYPE_INT, "0", 0, 1024 * 1024 * 1024},
    {"daemon", "max-dbus-reply", GW_CONFIG_TYPE_INT, "31457280", 4096, 128 * 1024 * 1024},
    /* plugin names, separated by ";" or "," */
    {"daemon", "plugins-disabled", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"device", "dev-id", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"device", "manufacturer", GW_CONFIG_TYPE_STRING, "gwmo project", 0, 0},
    {"device", "model", GW_CONFIG_TYPE_STRING, "gwmod", 0, 0},
    {"device", "device-type", GW_CONFIG_TYPE_STRING, "gateway", 0, 0},
    {"device", "language", GW_CONFIG_TYPE_STRING, "en-US", 0, 0},
    {"device", "hardware-version", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"device", "max-uri-depth", GW_CONFIG_TYPE_INT, "16", 0, 65535},
    {"device", "max-uri-length", GW_CONFIG_TYPE_INT, "1024", 0, 65535},
    {"device", "max-segment-length", GW_CONFIG_TYPE_INT, "64", 0, 65535},
    {"gateway", "default-mode", GW_CONFIG_TYPE_INT, "2", 1, 3},
    {"northbound", "listen", GW_CONFIG_TYPE_STRING, "https://0.0.0.0:7443", 0, 0},
    {"northbound", "tls-certificate", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"northbound", "tls-key", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"northbound", "ca-file", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"northbound", "session-interval", GW_CONFIG_TYPE_INT, "0", 0, 31 * 86400},
    {"northbound", "timeout", GW_CONFIG_TYPE_INT, "30", 1, 3600},
    {"northbound", "retries", GW_CONFIG_TYPE_INT, "3", 0, 20},
    {"northbound", "max-in-flight", GW_CONFIG_TYPE_INT, "8", 1, 1024},
    {"northbound", "notify-replay-window", GW_CONFIG_TYPE_INT, "300", 1, 86400},
    {"northbound", "alert-retry-interval", GW_CONFIG_TYPE_INT, "60", 0, 86400},
    {"northbound", "allow-insecure-http", GW_CONFIG_TYPE_BOOL, "false", 0, 0},
    /* ServerIDs whose DM Server speaks OMA DM 2.0 (REST/JSON), separated by ";" or "," */
    {"northbound", "dm2-servers", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"inventory", "detach-after", GW_CONFIG_TYPE_INT, "3600", 1, 365 * 86400},
    {"inventory", "lease-check-interval", GW_CONFIG_TYPE_INT, "60", 1, 86400},
    {"southbound", "listen", GW_CONFIG_TYPE_STRING, "https://0.0.0.0:7444", 0, 0},
    {"southbound", "open-registration", GW_CONFIG_TYPE_BOOL, "false", 0, 0},
    {"southbound", "auto-bootstrap", GW_CONFIG_TYPE_BOOL, "false", 0, 0},
    {"southbound", "session-timeout", GW_CONFIG_TYPE_INT, "120", 1, 86400},
    {"images", "dir", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"images", "quota", GW_CONFIG_TYPE_INT, "0", 0, G_MAXINT64},
    {"images", "base-url", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"images", "url-lifetime", GW_CONFIG_TYPE_INT, "86400", 1, 365 * 86400},
    {"southbound", "max-sessions", GW_CONFIG_TYPE_INT, "4096", 1, 1000000},
    /* GET /bootstrap (gw-ed-bootstrap.h): answer a device at once (not trusted, lapses), or only
     * once a DM Server approved it (Exec of Devices/<x>/Operations/Bootstrap) */
    /* mDNS through avahi-daemon: publish _gwmo._tcp, browse _omadm._tcp */
    {"discovery", "enabled", GW_CONFIG_TYPE_BOOL, "true", 0, 0},
    /* Discovered records held at once (a flooded LAN), and how long one whose announcement
     * was withdrawn stays before it is forgotten */
    {"discovery", "max-discovered", GW_CONFIG_TYPE_INT, "256", 0, 100000},
    {"discovery", "forget-after", GW_CONFIG_TYPE_INT, "300", 0, 86400},
    {"fanout", "sync-wait", GW_CONFIG_TYPE_INT, "30", 0, 3600},
    /* POST /bootstrap (gw-bootstrap.h): the ServerIDs allowed to bootstrap the gateway,
     * separated by ";", and the key file holding their secrets */
    {"bootstrap", "servers", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"bootstrap", "secrets-file", GW_CONFIG_TYPE_STRING, "", 0, 0},
    /* their TLS client certificate pins (gw-bootstrap.h) */
    {"bootstrap", "certificates-file", GW_CONFIG_TYPE_STRING, "", 0, 0},
    /* seed 001 work flows (gw-server-bootstrap.h) */
    {"bootstrap", "workflow", GW_CONFIG_TYPE_STRING, "both", 0, 0},
    {"bootstrap", "allow-http-loopback", GW_CONFIG_TYPE_BOOL, "false", 0, 0},
    {"bootstrap", "fetch-hosts", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"bootstrap", "fetch-timeout", GW_CONFIG_TYPE_INT, "30", 1, 3600},
    {"bootstrap", "fetch-max-size", GW_CONFIG_TYPE_INT, "65536", 1024, 16 * 1024 * 1024},
    {"bootstrap", "request-timeout", GW_CONFIG_TYPE_INT, "600", 1, 86400},
    {"bootstrap", "url", GW_CONFIG_TYPE_STRING, "", 0, 0},
    {"bootstrap", "gateway-url", GW_CONFIG_TYPE_STRING, "", 0, 0},
    /* both listeners (GwHttpServerLimits) */
    {"http", "header-timeout", GW_CONFIG_TYPE_INT, "10", 1, 3600},
    {"http", "body-timeout", GW_CONFIG_TYPE_INT, "60", 1, 86400},
    {"http", "idle-timeout", GW_CONFIG_TYPE_INT, "30", 1, 86400},
    {"http", "handshake-timeout", GW_CONFIG_TYPE_INT, "10", 1, 3600},
    {"http", "max-connections", GW_CONFIG_TYPE_INT, "4096", 1, 1000000},
    {"http", "max-connections-per-peer", GW_CONFIG_TYPE_INT, "64", 1, 1000000},
    {"http", "handler-timeout", GW_CONFIG_TYPE_INT, "60", 1, 3600},
    {"http", "max-body-buffer", GW_CONFIG_TYPE_INT, "64", 4, 65536}, /* MiB */
};

struct _GwConfig {
	GObject parent_instance;
	GKeyFile *keyfile; /* merged values, defaults not included */
	GPtrArray *files;
};

G_DEFINE_TYPE(GwConfig, gw_config, G_TYPE_OBJECT)

static const GwConfigKey *
gw_config_find_key(const gchar *group, const gchar *key)
{
	for (guint i = 0; i < G_N_ELEMENTS(gw_config_keys); i++) {
		if (g_strcmp0(gw_config_keys[i].group, group) == 0 &&
		    g_strcmp0(gw_config_keys[i].key, key) == 0)
			return &gw_config_keys[i];
	}
	return NULL;
}

/* a group gwmod has keys in; the others belong to plugins ([upnp], [test]) */
static gboolean
gw_config_is_gwmod_group(const gchar *group)
{
	for (guint i = 0; i < G_N_ELEMENTS(gw_config_keys); i++) {
		if (g_strcmp0(gw_config_keys[i].group, group) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean
gw_config_check_value(const GwConfigKey *def, const gchar *path, GKeyFile *kf, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (def->type == GW_CONFIG_TYPE_INT) {
		gint64 v = g_key_file_get_int64(kf, def->group, def->key, &error_local);
		if (error_local != NULL || v < def->min || v > def->max) {
			g_set_error(error,
			            G_KEY_FILE_ERROR,
			            G_KEY_FILE_ERROR_INVALID_VALUE,
			            "%s: [%s] %s must be an integer from %" G_GINT64_FORMAT
			            " to %" G_GINT64_FORMAT,
			            path,
			            def->group,
			            def->key,
			            def->min,
			            def->max);
			return FALSE;
		}
	} else if (def->type == GW_CONFIG_TYPE_BOOL) {
		g_key_file_get_boolean(kf, def->group, def->key, &error_local);
		if (error_local != NULL) {
			g_set_error(error,
			            G_KEY_FILE_ERROR,
			            G_KEY_FILE_ERROR_INVALID_VALUE,
			            "%s: [%s] %s must be true or false",
			            path,
			            def->group,
			            def->key);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
gw_config_merge_file(GwConfig *self, const gchar *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_auto(GStrv) groups = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "%s: ", path);
		return FALSE;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[i], NULL, NULL);
		for (guint j = 0; keys != NULL && keys[j] != NULL; j++) {
			const GwConfigKey *def = gw_config_find_key(groups[i], keys[j]);
			g_autofree gchar *value = NULL;
			if (def == NULL && !gw_config_is_gwmod_group(groups[i])) {
				/* a plugin's group: the plugin reads and checks it */
				value = g_key_file_get_string(kf, groups[i], keys[j], NULL);
				g_key_file_set_string(self->keyfile, groups[i], keys[j], value);
				continue;
			}
			if (def == NULL) {
				g_warning(
				    "%s: unknown key [%s] %s ignored", path, groups[i], keys[j]);
				continue;
			}
			if (!gw_config_check_value(def, path, kf, error))
				return FALSE;
			value = g_key_file_get_string(kf, groups[i], keys[j], NULL);
			g_key_file_set_string(self->keyfile, groups[i], keys[j], value);
		}
	}
	g_ptr_array_add(self->files, g_strdup(path));
	return TRUE;
}

static gint
gw_config_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

gboolean
gw_config_load(GwConfig *self, const gchar *path, GError **error)
{
	g_autofree gchar *dropin_dir = NULL;
	g_autofree gchar *dirname = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const gchar *name;

	g_return_val_if_fail(GW_IS_CONFIG(self), FALSE);
	g_return_val_if_fail(path != NULL, FALSE);

	if (g_file_test(path, G_FILE_TEST_EXISTS)) {
		if (!gw_config_merge_file(self, path, error))
			return FALSE;
	} else {
		g_debug("no configuration file %s, using defaults", path);
	}

	dirname = g_path_get_dirname(path);
	dropin_dir = g_build_filename(dirname, "conf.d", NULL);
	dir = g_dir_open(dropin_dir, 0, NULL);
	if (dir == NULL)
		return TRUE;
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(name, ".conf"))
			g_ptr_array_add(names, g_build_filename(dropin_dir, name, NULL));
	}
	g_ptr_array_sort(names, gw_config_compare_names);
	for (guint i = 0; i < names->len; i++) {
		if (!gw_config_merge_file(self, g_ptr_array_index(names, i), error))
			return FALSE;
	}
	return TRUE;
}

GKeyFile *
gw_config_get_key_file(GwConfig *self)
{
	g_return_val_if_fail(GW_IS_CONFIG(self), NULL);
	return self->keyfile;
}

GPtrArray *
gw_config_get_files(GwConfig *self)
{
	g_return_val_if_fail(GW_IS_CONFIG(self), NULL);
	return self->files;
}

gchar *
gw_config_get_string(GwConfig *self, const gchar *group, const gchar *key)
{
	const GwConfigKey *def = gw_config_find_key(group, key);
	gchar *value;

	g_return_val_if_fail(GW_IS_CONFIG(self), NULL);
	g_return_val_if_fail(def != NULL, NULL);

	value = g_key_file_get_string(self->keyfile, group, key, NULL);
	if (value != NULL)
		return value;
	return g_strdup(def->default_value);
}

gint64
gw_config_get_int(GwConfig *self, const gchar *group, const gchar *key)
{
	g_autofree gchar *value = gw_config_get_string(self, group, key);
	gint64 v = 0;

	if (value == NULL)
		return 0;
	if (!g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &v, NULL))
		return 0;
	return v;
}

gboolean
gw_config_get_bool(GwConfig *self, const gchar *group, const gchar *key)
{
	g_autofree gchar *value = gw_config_get_string(self, group, key);
	return g_strcmp0(value, "true") == 0;
}

void
gw_config_set_string(GwConfig *self, const gchar *group, const gchar *key, const gchar *value)
{
	g_return_if_fail(GW_IS_CONFIG(self));
	g_return_if_fail(gw_config_find_key(group, key) != NULL);
	g_key_file_set_string(self->keyfile, group, key, value);
}

gchar *
gw_config_to_data(GwConfig *self)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	g_return_val_if_fail(GW_IS_CONFIG(self), NULL);
	for (guint i = 0; i < G_N_ELEMENTS(gw_config_keys); i++) {
		const GwConfigKey *def = &gw_config_keys[i];
		g_autofree gchar *value = gw_config_get_string(self, def->group, def->key);
		g_key_file_set_string(kf, def->group, def->key, value != NULL ? value : "");
	}
	return g_key_file_to_data(kf, NULL, NULL);
}

static void
gw_config_finalize(GObject *object)
{
	GwConfig *self = GW_CONFIG(object);
	g_key_file_unref(self->keyfile);
	g_ptr_array_unref(self->files);
	G_OBJECT_CLASS(gw_config_parent_class)->finalize(object);
}

static void
gw_config_class_init(GwConfigClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = gw_config_finalize;
}

static void
gw_config_init(GwConfig *self)
{
	self->keyfile = g_key_file_new();
	self->files = g_ptr_array_new_with_free_func(g_free);
}

GwConfig *
gw_config_new(void)
{
	return g_object_new(GW_TYPE_CONFIG, NULL);
}

static void
gw_config_get_http_limits(GwConfig *self, GwHttpServerLimits *limits)
{
	limits->header_ms = (guint)gw_config_get_int(self, "http", "header-timeout") * 1000;
	limits->body_ms = (guint)gw_config_get_int(self, "http", "body-timeout") * 1000;
	limits->idle_ms = (guint)gw_config_get_int(self, "http", "idle-timeout") * 1000;
	limits->handshake_ms = (guint)gw_config_get_int(self, "http", "handshake-timeout") * 1000;
	limits->max_connections = (guint)gw_config_get_int(self, "http", "max-connections");
	limits->max_per_peer = (guint)gw_config_get_int(self, "http", "max-connections-per-peer");
	limits->handler_ms = (guint)gw_config_get_int(self, "http", "handler-timeout") * 1000;
	limits->max_body_buffer =
	    (gsize)gw_config_get_int(self, "http", "max-body-buffer") * 1024 * 1024;
}

void
gw_config_get_tls_identity(GwConfig *self, const gchar *state_dir, gchar **cert, gchar **key)
{
	/* the gateway's one TLS identity, for every listener (and DM 2.0 X509 accounts) */
	*cert = gw_config_get_string(self, "northbound", "tls-certificate");
	*key = gw_config_get_string(self, "northbound", "tls-key");
	if (*cert == NULL || (*cert)[0] == '\0') {
		g_free(*cert);
		*cert = g_build_filename(state_dir, "tls.crt", NULL);
	}
	if (*key == NULL || (*key)[0] == '\0') {
		g_free(*key);
		*key = g_build_filename(state_dir, "tls.key", NULL);
	}
}

GwHttpServer *
gw_config_open_listener(GwConfig *self,
                        const gchar *group,
                        const gchar *state_dir,
                        const gchar *common_name,
                        GError **error)
{
	g_autofree gchar *listen = NULL;
	g_autofree gchar *cert = NULL;
	g_autofree gchar *key = NULL;
	GwHttpServerLimits limits = {0};

	g_return_val_if_fail(GW_IS_CONFIG(self), NULL);
	g_return_val_if_fail(state_dir != NULL, NULL);
	listen = gw_config_get_string(self, group, "listen");
	gw_config_get_tls_identity(self, state_dir, &cert, &key);
	gw_config_get_http_limits(self, &limits);
	return gw_listener_open(listen, cert, key, common_name, &limits, error);
}
