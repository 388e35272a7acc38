/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include "gw-dbus-authority.h"
#include "gw-dbus-exporter.h"
#include "gw-dbus-generated.h"
#include "gw-dbus-manager.h"
#include "gw-dbus-servers.h"
#include "gw-gateway.h"
#include "gw-gwmo-names.h"
#include "gw-server-link.h"

#define GW_DBUS_SERVERS_DMACC "./DMAcc"

/* what the northbound side told us of the last session with a server */
typedef struct {
	gchar *when;
	gchar *result;
} GwDbusServerSession;

struct _GwDbusServers {
	GObject parent_instance;
	GwGateway *gateway; /* not owned: it outlives the D-Bus service that owns the manager that
	                       owns us */
	GwDmTree *tree;
	GwNorthbound *northbound;
	GwDbusExporter *exporter;
	GwDbusAuthorizeFunc authorize;
	gpointer authorize_data;
	GHashTable *sessions; /* ServerID → GwDbusServerSession */
	gulong session_finished_id;
	gulong tree_changed_id;
};

G_DEFINE_TYPE(GwDbusServers, gw_dbus_servers, G_TYPE_OBJECT)

static void
gw_dbus_server_session_free(GwDbusServerSession *s)
{
	g_free(s->when);
	g_free(s->result);
	g_free(s);
}

/* the value of the first child of @uri/@interior that has @leaf (AppAddr/<x>/Addr) or whose
 * @match_leaf equals @match_value (AppAuth/<x> with AAuthLevel CLCRED) */
static gchar *
gw_dbus_servers_find(GwDbusServers *self,
                     GwDbusExporter *exporter,
                     const gchar *uri,
                     const gchar *interior,
                     const gchar *match_leaf,
                     const gchar *match_value,
                     const gchar *leaf)
{
	g_autofree gchar *parent = g_strdup_printf("%s/%s", uri, interior);
	g_auto(GStrv) children = gw_dm_tree_list_children(self->tree, parent);

	for (guint i = 0; children != NULL && children[i] != NULL; i++) {
		g_autofree gchar *child = g_strdup_printf("%s/%s", parent, children[i]);
		g_autofree gchar *value = NULL;
		if (match_leaf != NULL) {
			g_autofree gchar *m =
			    gw_dbus_exporter_dup_leaf(exporter, child, match_leaf);
			if (g_strcmp0(m, match_value) != 0)
				continue;
		}
		value = gw_dbus_exporter_dup_leaf(exporter, child, leaf);
		if (value[0] != '\0')
			return g_steal_pointer(&value);
	}
	return g_strdup("");
}

static gboolean
gw_dbus_servers_config_flag(GwDbusExporter *exporter, const gchar *account_uri, const gchar *leaf)
{
	g_autofree gchar *name = g_path_get_basename(account_uri);
	g_autofree gchar *uri = g_strdup_printf(GW_GWMO_CONFIG_SERVERS "/%s", name);
	g_autofree gchar *value = gw_dbus_exporter_dup_leaf(exporter, uri, leaf);

	/* both default to true (spec/GWMO.md §1) until the Config entry exists */
	return g_strcmp0(value, "false") != 0;
}

static void
gw_dbus_servers_fill(GwDbusExporter *exporter,
                     const gchar *uri,
                     GDBusInterfaceSkeleton *iface,
                     gpointer user_data)
{
	GwDbusServers *self = GW_DBUS_SERVERS(user_data);
	GwDbusGenServer *server = GW_DBUS_GEN_SERVER(iface);
	/* a DMAcc 2.0 account (SrvID, SrvURI) too */
	g_autofree gchar *account_id = gw_server_link_dup_account_server_id(self->tree, uri);
	const gchar *server_id = account_id != NULL ? account_id : "";
	g_autofree gchar *srv_uri = gw_dbus_exporter_dup_leaf(exporter, uri, "SrvURI");
	g_autofree gchar *address =
	    srv_uri[0] != '\0'
	        ? g_steal_pointer(&srv_uri)
	        : gw_dbus_servers_find(self, exporter, uri, "AppAddr", NULL, NULL, "Addr");
	g_autofree gchar *auth_type = gw_dbus_servers_find(
	    self, exporter, uri, "AppAuth", "AAuthLevel", "CLCRED", "AAuthType");
	GwDbusServerSession *s = g_hash_table_lookup(self->sessions, server_id);
	const gchar *when = s != NULL ? s->when : "";
	const gchar *result = s != NULL ? s->result : "";
	gboolean inventory_alert =
	    gw_dbus_servers_config_flag(exporter, uri, GW_GWMO_SERVER_INVENTORY_ALERT);
	gboolean image_store =
	    gw_dbus_servers_config_flag(exporter, uri, GW_GWMO_SERVER_IMAGE_STORE);

	if (g_strcmp0(gw_dbus_gen_server_get_server_id(server), server_id) != 0)
		gw_dbus_gen_server_set_server_id(server, server_id);
	if (g_strcmp0(gw_dbus_gen_server_get_address(server), address) != 0)
		gw_dbus_gen_server_set_address(server, address);
	if (g_strcmp0(gw_dbus_gen_server_get_auth_type(server), auth_type) != 0)
		gw_dbus_gen_server_set_auth_type(server, auth_type);
	if (g_strcmp0(gw_dbus_gen_server_get_last_session(server), when) != 0)
		gw_dbus_gen_server_set_last_session(server, when);
	if (g_strcmp0(gw_dbus_gen_server_get_last_session_result(server), result) != 0)
		gw_dbus_gen_server_set_last_session_result(server, result);
	if (gw_dbus_gen_server_get_inventory_alert(server) != inventory_alert)
		gw_dbus_gen_server_set_inventory_alert(server, inventory_alert);
	if (gw_dbus_gen_server_get_image_store(server) != image_store)
		gw_dbus_gen_server_set_image_store(server, image_store);
}

static gboolean
gw_dbus_servers_handle_start_session(GwDbusGenServer *server,
                                     GDBusMethodInvocation *invocation,
                                     gpointer user_data)
{
	GwDbusServers *self = GW_DBUS_SERVERS(user_data);
	const gchar *uri = gw_dbus_exporter_invocation_uri(self->exporter, invocation);

	if (uri == NULL) {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_NOT_FOUND, "the account is gone");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (self->authorize != NULL &&
	    !self->authorize(invocation, GW_DBUS_ACTION_RUN_JOBS, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	g_debug("Server.StartSession(%s)", gw_dbus_gen_server_get_server_id(server));
	gw_dbus_start_session_and_reply(
	    self->gateway, gw_dbus_gen_server_get_server_id(server), invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GDBusInterfaceSkeleton *
gw_dbus_servers_create(GwDbusExporter *exporter, const gchar *uri, gpointer user_data)
{
	GwDbusGenServer *server = gw_dbus_gen_server_skeleton_new();

	g_signal_connect(server,
	                 "handle-start-session",
	                 G_CALLBACK(gw_dbus_servers_handle_start_session),
	                 user_data);
	return G_DBUS_INTERFACE_SKELETON(server);
}

static void
gw_dbus_servers_session_finished_cb(GwNorthbound *nb,
                                    const gchar *server_id,
                                    gboolean ok,
                                    const gchar *message,
                                    gpointer user_data)
{
	GwDbusServers *self = GW_DBUS_SERVERS(user_data);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	GwDbusServerSession *s = g_new0(GwDbusServerSession, 1);

	g_autoptr(GPtrArray) entries = NULL;

	s->when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	s->result = ok ? g_strdup("ok") : g_strdup(message != NULL ? message : "failed");
	g_hash_table_replace(self->sessions, g_strdup(server_id), s);
	/* only that server's object shows it (LastSession, LastSessionResult) */
	entries = gw_dbus_exporter_list(self->exporter);
	for (guint i = 0; i < entries->len; i++) {
		const gchar *uri = g_ptr_array_index(entries, i);
		GwDbusGenServer *server =
		    GW_DBUS_GEN_SERVER(gw_dbus_exporter_get_interface(self->exporter, uri));
		if (server == NULL ||
		    g_strcmp0(gw_dbus_gen_server_get_server_id(server), server_id) != 0)
			continue;
		if (g_strcmp0(gw_dbus_gen_server_get_last_session(server), s->when) != 0)
			gw_dbus_gen_server_set_last_session(server, s->when);
		if (g_strcmp0(gw_dbus_gen_server_get_last_session_result(server), s->result) != 0)
			gw_dbus_gen_server_set_last_session_result(server, s->result);
	}
}

/* InventoryAlert and ImageStore live in ./GwMO/Config/Servers, outside the accounts */
static void
gw_dbus_servers_tree_changed_cb(GwDmTree *tree,
                                const gchar *uri,
                                guint change,
                                const gchar *server_id,
                                gpointer user_data)
{
	GwDbusServers *self = GW_DBUS_SERVERS(user_data);

	if (uri != NULL && g_str_has_prefix(uri, GW_GWMO_CONFIG_SERVERS))
		gw_dbus_exporter_refresh_all(self->exporter);
}

/* the credentials below an account are not shown; AAuthData (the nonce) changes every session */
static gboolean
gw_dbus_servers_concerns(GwDbusExporter *exporter, const gchar *uri, gpointer user_data)
{
	return !g_str_has_suffix(uri, "/AAuthData") && !g_str_has_suffix(uri, "/AAuthSecret") &&
	       !g_str_has_suffix(uri, "/AAuthName");
}

static const GwDbusExporterFuncs gw_dbus_servers_funcs = {
    .create = gw_dbus_servers_create,
    .fill = gw_dbus_servers_fill,
    .concerns = gw_dbus_servers_concerns,
};

static void
gw_dbus_servers_dispose(GObject *object)
{
	GwDbusServers *self = GW_DBUS_SERVERS(object);

	if (self->northbound != NULL)
		g_clear_signal_handler(&self->session_finished_id, self->northbound);
	if (self->tree != NULL)
		g_clear_signal_handler(&self->tree_changed_id, self->tree);
	g_clear_object(&self->exporter);
	g_clear_object(&self->northbound);
	g_clear_object(&self->tree);
	g_clear_pointer(&self->sessions, g_hash_table_unref);
	G_OBJECT_CLASS(gw_dbus_servers_parent_class)->dispose(object);
}

static void
gw_dbus_servers_class_init(GwDbusServersClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_servers_dispose;
}

static void
gw_dbus_servers_init(GwDbusServers *self)
{
	self->sessions = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_dbus_server_session_free);
}

GwDbusServers *
gw_dbus_servers_new(GwGateway *gateway,
                    GwDbusObjectManager *object_manager,
                    GwDbusAuthorizeFunc authorize,
                    gpointer authorize_data)
{
	GwDbusServers *self = g_object_new(GW_TYPE_DBUS_SERVERS, NULL);

	self->gateway = gateway;
	self->tree = g_object_ref(gw_gateway_get_tree(gateway));
	self->northbound = g_object_ref(gw_gateway_get_northbound(gateway));
	self->authorize = authorize;
	self->authorize_data = authorize_data;
	self->exporter = gw_dbus_exporter_new(self->tree,
	                                      object_manager,
	                                      GW_DBUS_SERVERS_DMACC,
	                                      GW_DBUS_SERVERS_PATH,
	                                      "ServerID|SrvID",
	                                      &gw_dbus_servers_funcs,
	                                      self);
	self->session_finished_id =
	    g_signal_connect(self->northbound,
	                     "session-finished",
	                     G_CALLBACK(gw_dbus_servers_session_finished_cb),
	                     self);
	self->tree_changed_id = g_signal_connect(
	    self->tree, "changed", G_CALLBACK(gw_dbus_servers_tree_changed_cb), self);
	return self;
}
