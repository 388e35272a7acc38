/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "gw-http-server.h"

G_BEGIN_DECLS

#define GW_TYPE_CONFIG (gw_config_get_type())
G_DECLARE_FINAL_TYPE(GwConfig, gw_config, GW, CONFIG, GObject)

/*
 * gwmod.conf (GKeyFile). Defaults live in code (gw-config.c, one table); a missing file is not
 * an error. Files are read in this order, later keys winning:
 *   the main file (/etc/gwmo/gwmod.conf or --config), then <dir of main file>/conf.d/ *.conf
 *   in lexical order.
 * An unknown key of one of gwmod's groups is logged with g_warning and ignored; a group gwmod
 * has no key in belongs to a plugin (its name) and is kept, unchecked, for the plugin. A value
 * of the wrong type is an error (G_KEY_FILE_ERROR_INVALID_VALUE) naming the file, group and
 * key.
 * Every key is documented in docs/man/gwmod.conf.5.md.
 */
GwConfig *
gw_config_new(void);
gboolean
gw_config_load(GwConfig *self, const gchar *path, GError **error);
/* the files that were read, in order */
GPtrArray *
gw_config_get_files(GwConfig *self);
/* the merged values (defaults not included): the groups of plugins ([upnp] …) are kept as
 * they are, unchecked, for gw_plugin_set_config() */
GKeyFile *
gw_config_get_key_file(GwConfig *self);

gchar *
gw_config_get_string(GwConfig *self, const gchar *group, const gchar *key);
gint64
gw_config_get_int(GwConfig *self, const gchar *group, const gchar *key);
gboolean
gw_config_get_bool(GwConfig *self, const gchar *group, const gchar *key);
/* for tests and command-line overrides */
void
gw_config_set_string(GwConfig *self, const gchar *group, const gchar *key, const gchar *value);

/* a listener as configured (gw_listener_open()): [@group] listen, the [http] deadlines and
 * connection caps, and for https:// the gateway's one TLS identity, [northbound]
 * tls-certificate and tls-key, by default @state_dir/tls.crt and tls.key (made on first use,
 * CN @common_name), whichever listener asks */
/* the paths of the gateway's TLS identity (tls-certificate, tls-key or their defaults) */
void
gw_config_get_tls_identity(GwConfig *self, const gchar *state_dir, gchar **cert, gchar **key);

GwHttpServer *
gw_config_open_listener(GwConfig *self,
                        const gchar *group,
                        const gchar *state_dir,
                        const gchar *common_name,
                        GError **error);

/* the whole effective configuration, defaults included, as key-file text */
gchar *
gw_config_to_data(GwConfig *self);

G_END_DECLS
