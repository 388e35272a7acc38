/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the end-to-end tests: the real gwmod (tests/dbus harness) bootstrapped to the
 * reference DM Server, HTTPS with MD5 both ways, and the southbound listener on a free port.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "gw-test-daemon.h"

#define SERVER_ID  "srv1.example"
#define SRV_SECRET "srv-secret-1"
#define CL_NAME	   "gateway-1"
#define CL_SECRET  "client-secret-1"

/* set by main() from the command line */
/* the gateway and its Proxy devices (e2e_add_proxy_device(), e2e_proxy_device_start()) */
#define E2E_GW_ID "GW-TEST-0001"
#define E2E_GW_SECRET "gw-secret-x"
#define E2E_DEV_SECRET "dev-secret-x"

extern const gchar *server_binary;
extern const gchar *device_binary;

typedef struct {
	gchar *dir;
	gchar *cert;
	gchar *key;
	guint16 port;
	guint16 south_port;
	gchar *dm_url;
	GwTestDaemon *d;
} Env;

guint16
free_port(void);
gchar *
bootstrap_tnds(const gchar *dm_url);
Env *
env_new(void);
/* the same with more configuration groups appended (e.g. "[fanout]\nsync-wait=0\n") */
Env *
env_new_with_config(const gchar *extra);
/* the same with @southbound_extra ("key=value\n" lines) in [southbound], and @extra */
Env *
env_new_full(const gchar *southbound_extra, const gchar *extra);
/* the same with the DM Server at a clear-text http:// address (DMAcc AppAddr and the reference
 * server's listener), @extra appended to the configuration */
Env *
env_new_clear_text(const gchar *extra);
void
env_free(Env *e);
/* a new directory from @tmpl (g_dir_make_tmp()) holding a self-signed certificate of the DM
 * Server for 127.0.0.1, *@cert and *@key */
gchar *
e2e_make_dir_with_cert(const gchar *tmpl, gchar **cert, gchar **key);
/* starts e->d with @tnds as its --bootstrap file (e->dir/bootstrap.xml) */
void
e2e_start_bootstrapped(Env *e, const gchar *tnds);
/* removes @path and all below it */
void
e2e_rm_rf(const gchar *path);
void
child_setup(gpointer user_data);
/* the reference End Device (device_binary) with the arguments of @prefix (NULL-terminated, or
 * NULL) and then those of @args (NULL-terminated), its stderr in @dir/@log_name */
GSubprocess *
e2e_device_spawn_valist(const gchar *dir,
                        const gchar *log_name,
                        const gchar *const *prefix,
                        va_list args);
/* waits up to @timeout_s for @proc to exit by itself: its exit status; -1 when it was killed
 * (then by this, at the deadline) */
gint
e2e_device_wait(GSubprocess *proc, guint timeout_s);
GSubprocess *
server_start(Env *e, const gchar *script, const gchar *record, const gchar *client_secret, ...)
    G_GNUC_NULL_TERMINATED;
GSubprocess *
e2e_server_start_as(Env *e,
                    const gchar *tag,
                    guint16 port,
                    const gchar *script,
                    const gchar *record,
                    const gchar *const *identity);
void
server_wait(GSubprocess *proc);
JsonArray *
record_sessions(const gchar *path, JsonParser **parser_out);
/* TRUE when the device record @path shows @cmd on @uri answered 200 (with @data, when set) */
gboolean
record_executed(const gchar *path, const gchar *cmd, const gchar *uri, const gchar *data);
/* the first Generic Alert of @type in a session of a server record, or NULL */
JsonObject *
session_alert(JsonObject *session, const gchar *type);
/* how often @needle occurs in @haystack */
guint
count_substr(const gchar *haystack, const gchar *needle);
JsonObject *
result_for(JsonObject *session, const gchar *cmd, const gchar *uri);
gint64
status_of(JsonObject *session, const gchar *cmd, const gchar *uri);
gchar *
get_value(GwTestDaemon *d, const gchar *uri, gchar **error_name);
guint
pending_alerts(GwTestDaemon *d);
/* POSTs @body to @url (trusting @ca), with X-GwMO-Target when @target is set; the HTTP status */
guint
notify(const gchar *url, const gchar *ca, GBytes *body, const gchar *content_type, const gchar *target);
/* a Package #0 signed as by a server that has no nonce from the gateway: the all-zero nonce */
GBytes *
make_pkg0(const gchar *server_id, const gchar *secret, guint16 session_id);
gchar *
notify_url(GwTestDaemon *d);

/* ---- shared by the adapters' end-to-end tests (UPnP, Zigbee, TR-069, all together) ---- */

/* runs the default main context until @done(@data) or @timeout_s seconds (@done is asked
 * every 50 ms too, for what no event tells); FALSE on timeout */
gboolean
e2e_wait(gboolean (*done)(gpointer data), gpointer data, guint timeout_s);
void
e2e_set_node_bool(GwTestDaemon *d, const gchar *uri, gboolean value);
/* D-Bus StartSession with the DM Server @server_id (after the one running, if any) */
void
e2e_start_session_with(GwTestDaemon *d, const gchar *server_id);
/* the same with SERVER_ID */
void
e2e_start_session(GwTestDaemon *d);
/*
 * In a DM Server script (tests/peers/gwmo-test-server): the commands that create Fanout job
 * @name over @targets (Targets commands, each comma-terminated: e2e_fanout_*_target()),
 * @command on @uri (@format and @data nullable), with Timeout @timeout_s, and Exec its Start
 * (correlator "c-<name>")
 */
gchar *
e2e_fanout_job(const gchar *name,
               const gchar *targets,
               const gchar *command,
               const gchar *uri,
               const gchar *format,
               const gchar *data,
               guint timeout_s);
gchar *
e2e_fanout_group_target(const gchar *name, const gchar *group);
/* Targets/Devices/@n of job @name */
gchar *
e2e_fanout_device_target(const gchar *name, guint n, const gchar *device);
/* the aggregated result of job @name, as the FanoutComplete alert of @session carried it
 * (logged); a test error when the session carried none */
const gchar *
e2e_fanout_document(JsonObject *session, const gchar *name);
/*
 * An OMA DM Proxy device (tests/peers/gwmo-test-device, device_binary) provisioned over D-Bus
 * in @group (nullable), MD5 both ways; it registers its HTTP notification listener with the
 * southbound listener and answers @sessions notified sessions, then exits. Its record URI in
 * *@record_uri; e2e_wait_registered() waits for its registration.
 */
/* AddDevice @id in @mode (1 Transparent, 2 Proxy) with DIGEST credentials (ClientSecret
 * @client_secret, ServerSecret @server_secret), @notify_addr and in @group (each when not
 * NULL); its record URI */
gchar *
e2e_add_device(GwTestDaemon *d,
               const gchar *id,
               guint mode,
               const gchar *client_secret,
               const gchar *server_secret,
               const gchar *notify_addr,
               const gchar *group);
/* AddDevice @id as a Proxy device (Mode 2, DIGEST both ways with the secrets
 * e2e_proxy_device_start() gives the reference device), with @notify_addr and in @group when
 * not NULL; its record URI */
gchar *
e2e_add_proxy_device(GwTestDaemon *d,
                     const gchar *id,
                     const gchar *notify_addr,
                     const gchar *group);
GSubprocess *
e2e_proxy_device_start(Env *e,
                       const gchar *id,
                       const gchar *group,
                       guint sessions,
                       gchar **record_uri);
void
e2e_wait_registered(GwTestDaemon *d, const gchar *record_uri);
/* Group.AddMember of @group_path */
void
e2e_group_add_member(GwTestDaemon *d, const gchar *group_path, const gchar *device_id);
/* the ObjectManager client of gwmod's objects on @d's bus */
GDBusObjectManager *
e2e_object_manager(GwTestDaemon *d);
/* a string property of @proxy as cached, or NULL */
gchar *
e2e_proxy_string(GDBusProxy *proxy, const gchar *name);
/* the inventory record ("./GwMO/Inventory/Devices/N") of the Device object whose @key
 * property is @value (and Status @status, when set), as the ObjectManager signals told this
 * process so far; NULL when none */
gchar *
e2e_device_record(GDBusObjectManager *objects,
                  const gchar *key,
                  const gchar *value,
                  const gchar *status);
/* the same, waited for (InterfacesAdded, PropertiesChanged) up to @timeout_s; a test error
 * when it does not come */
gchar *
e2e_wait_device_record(GDBusObjectManager *objects,
                       const gchar *key,
                       const gchar *value,
                       const gchar *status,
                       guint timeout_s);
