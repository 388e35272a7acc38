/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwServerBootstrap"

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "gw-bootstrap.h"
#include "gw-dm-acl.h"
#include "gw-dm-auth.h"
#include "gw-error.h"
#include "gw-gwmo-names.h"
#include "gw-http-client.h"
#include "gw-log.h"
#include "gw-server-bootstrap.h"
#include "gw-wbxml.h"

#define GW_SERVER_BOOTSTRAP_CMD_TIMEOUT 60

typedef enum {
	GW_WORKFLOW_BOTH,
	GW_WORKFLOW_URI,
	GW_WORKFLOW_REQUEST,
} GwWorkflow;

struct _GwServerBootstrap {
	GObject parent_instance;
	GwDmTree *tree;
	GwDmStore *store;
	GHashTable *servers; /* ServerID → secret */
	GHashTable *pins;    /* ServerID → its certificate pins ([bootstrap] certificates-file) */
	GwHttpClient *client;
	GwSouthbound *southbound; /* nullable */
	gchar *gateway_url;
	GwWorkflow workflow;
	gboolean allow_http_loopback;
	gchar *
	    *fetch_hosts; /* [bootstrap] fetch-hosts (normalised) + the host of [bootstrap] url */
	guint fetch_timeout;
	gsize fetch_max_size;
	guint request_timeout;
	GHashTable *flows; /* "<DeviceID>\n<ServerID>" → GwFlow */
	GCancellable *cancellable;
};

G_DEFINE_TYPE(GwServerBootstrap, gw_server_bootstrap, G_TYPE_OBJECT)

enum { SIGNAL_APPLIED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

typedef struct {
	GwServerBootstrap *self; /* borrowed: flows end before the object (cancellable) */
	gchar *key;
	gchar *device_id;
	gchar *server_id;
	gchar *account; /* the device's ./DMAcc/<x> of server_id */
	guint timeout_id;
} GwFlow;

static void
gw_flow_free(gpointer data)
{
	GwFlow *f = data;
	g_clear_handle_id(&f->timeout_id, g_source_remove);
	g_free(f->key);
	g_free(f->device_id);
	g_free(f->server_id);
	g_free(f->account);
	g_free(f);
}

static gchar *
gw_flow_key(const gchar *device_id, const gchar *server_id)
{
	return g_strdup_printf("%s\n%s", device_id, server_id);
}

/* ends @f (it is removed and freed) with a log line */
static void
gw_flow_end(GwFlow *f, gboolean ok, const gchar *why)
{
	if (ok)
		g_message(
		    "bootstrap for ServerID %s (device %s): %s", f->server_id, f->device_id, why);
	else
		gw_warning_ratelimited("bootstrap for ServerID %s (device %s) failed: %s",
		                       f->server_id,
		                       f->device_id,
		                       why);
	g_hash_table_remove(f->self->flows, f->key);
}

/* the flow of @key if it still runs (a reply may come after it ended) */
static GwFlow *
gw_flow_lookup(GwServerBootstrap *self, const gchar *key)
{
	return g_hash_table_lookup(self->flows, key);
}

/* ---- fetch (work flow 1) ---- */

static gboolean
gw_server_bootstrap_host_is_loopback(const gchar *host)
{
	g_autoptr(GInetAddress) addr = NULL;
	if (host == NULL)
		return FALSE;
	if (g_ascii_strcasecmp(host, "localhost") == 0)
		return TRUE;
	addr = g_inet_address_new_from_string(host);
	return addr != NULL && g_inet_address_get_is_loopback(addr);
}

gboolean
gw_server_bootstrap_uri_is_allowed(const gchar *uri, gboolean allow_http_loopback, GError **error)
{
	g_autoptr(GUri) parsed = NULL;
	g_autofree gchar *shown = NULL;
	const gchar *scheme;

	if (uri == NULL || uri[0] == '\0') {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "no BootstrapURI");
		return FALSE;
	}
	/* a device wrote it: escaped and cut for the log */
	{
		g_autofree gchar *cut = g_strndup(uri, 200);
		shown = g_strescape(cut, NULL);
	}
	if (!g_utf8_validate(uri, -1, NULL)) {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "BootstrapURI is not UTF-8");
		return FALSE;
	}
	parsed = g_uri_parse(uri, G_URI_FLAGS_NONE, NULL);
	if (parsed == NULL || g_uri_get_host(parsed) == NULL || g_uri_get_host(parsed)[0] == '\0') {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "BootstrapURI '%s' is not a URL",
		            shown);
		return FALSE;
	}
	if (g_uri_get_userinfo(parsed) != NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "BootstrapURI with user information refused");
		return FALSE;
	}
	scheme = g_uri_get_scheme(parsed);
	if (g_ascii_strcasecmp(scheme, "https") == 0)
		return TRUE;
	if (g_ascii_strcasecmp(scheme, "http") == 0 && allow_http_loopback &&
	    gw_server_bootstrap_host_is_loopback(g_uri_get_host(parsed)))
		return TRUE;
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_PERMISSION_DENIED,
	            "BootstrapURI '%s' refused: https only%s",
	            shown,
	            allow_http_loopback ? " (or http to a loopback address)" : "");
	return FALSE;
}

/* lower case, no trailing dot, no IPv6 brackets */
static gchar *
gw_server_bootstrap_normalize_host(const gchar *host)
{
	gsize len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len > 1 && host[len - 1] == '.')
		len--;
	return g_ascii_strdown(host, (gssize)len);
}

gboolean
gw_server_bootstrap_host_matches(const gchar *const *patterns, const gchar *host)
{
	g_autofree gchar *h = NULL;
	gboolean is_ip;

	if (patterns == NULL || host == NULL || host[0] == '\0')
		return FALSE;
	h = gw_server_bootstrap_normalize_host(host);
	is_ip = g_hostname_is_ip_address(h);
	for (guint i = 0; patterns[i] != NULL; i++) {
		const gchar *p = patterns[i];
		if (strcmp(p, "*") == 0 || strcmp(p, h) == 0)
			return TRUE;
		/* "*.example.com": a name below example.com, never an address */
		if (!is_ip && p[0] == '*' && p[1] == '.' && g_str_has_suffix(h, p + 1) &&
		    strlen(h) > strlen(p + 1))
			return TRUE;
	}
	return FALSE;
}

gchar **
gw_server_bootstrap_parse_fetch_hosts(const gchar *text, GError **error)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) parts = g_strsplit_set(text != NULL ? text : "", ";,", -1);

	for (guint i = 0; parts[i] != NULL; i++) {
		g_autofree gchar *p = NULL;
		const gchar *name;
		const gchar *raw = g_strstrip(parts[i]);

		if (raw[0] == '\0')
			continue;
		p = gw_server_bootstrap_normalize_host(raw);
		name = g_str_has_prefix(p, "*.") ? p + 2 : p;
		if ((strcmp(p, "*") == 0) != (strcmp(raw, "*") == 0) ||
		    (strcmp(p, "*") != 0 &&
		     (name[0] == '\0' || name[0] == '.' || strchr(name, '*') != NULL ||
		      strpbrk(name, "/?#@ \t") != NULL))) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "[bootstrap] fetch-hosts: '%s' is not a host name, an address, "
			            "*.<domain> or *",
			            raw);
			return NULL;
		}
		g_strv_builder_add(builder, p);
	}
	return g_strv_builder_end(builder);
}

/* the host of @uri (one that gw_server_bootstrap_uri_is_allowed() accepted) is one the gateway
 * may connect to ([bootstrap] fetch-hosts); FALSE with @error saying why */
static gboolean
gw_server_bootstrap_host_is_allowed(GwServerBootstrap *self, const gchar *uri, GError **error)
{
	g_autoptr(GUri) parsed = g_uri_parse(uri, G_URI_FLAGS_NONE, NULL);
	const gchar *host = parsed != NULL ? g_uri_get_host(parsed) : NULL;
	g_autofree gchar *cut = NULL;
	g_autofree gchar *shown = NULL;

	if (gw_server_bootstrap_host_matches((const gchar *const *)self->fetch_hosts, host))
		return TRUE;
	cut = g_strndup(host != NULL ? host : "", 100);
	shown = g_strescape(cut, NULL);
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_PERMISSION_DENIED,
	            "BootstrapURI host '%s' is not in [bootstrap] fetch-hosts: not fetched",
	            shown);
	return FALSE;
}

static gchar *
gw_server_bootstrap_dup_gw_id(GwServerBootstrap *self)
{
	return gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
}

typedef struct {
	gchar *uri;
} GwFetch;

static void
gw_fetch_free(gpointer data)
{
	GwFetch *fe = data;
	g_free(fe->uri);
	g_free(fe);
}

static void
gw_server_bootstrap_got_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GwServerBootstrap *self = g_task_get_source_object(task);
	GwFetch *fe = g_task_get_task_data(task);
	g_autoptr(GwHttpResponse) response = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *server_id = NULL;
	g_auto(GStrv) new_ids = NULL;
	GwBootstrapOutcome outcome;
	const gchar *hmac;
	guint n_items = 0;
	gboolean wbxml = FALSE;

	response = gw_http_client_get_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (response->status != 200) {
		g_task_return_new_error(task,
		                        GW_ERROR,
		                        GW_ERROR_PROTOCOL,
		                        "GET %s answered HTTP %u",
		                        fe->uri,
		                        response->status);
		return;
	}
	msg = gw_syncml_message_decode(response->body, response->content_type, &wbxml, &error);
	if (msg == NULL) {
		g_task_return_new_error(task,
		                        GW_ERROR,
		                        GW_ERROR_PROTOCOL,
		                        "GET %s: not a DM message: %s",
		                        fe->uri,
		                        error->message);
		return;
	}
	hmac = g_hash_table_lookup(response->headers, "x-syncml-hmac");
	/* a pinned bootstrap server's answer must come with one of its pinned certificates */
	if (g_hash_table_size(self->pins) > 0) {
		gboolean tls = response->peer_fingerprint != NULL;
		outcome = gw_bootstrap_authenticate(
		    self->servers, msg, hmac, response->body, tls, &server_id, &error);
		if (outcome == GW_BOOTSTRAP_APPLIED)
			outcome = gw_bootstrap_check_pin(
			    self->pins, server_id, response->peer_fingerprint, tls, &error);
		if (outcome != GW_BOOTSTRAP_APPLIED) {
			g_prefix_error(&error, "GET %s: nothing changed: ", fe->uri);
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_clear_pointer(&server_id, g_free);
	}
	outcome = gw_bootstrap_import(self->servers,
	                              self->tree,
	                              self->store,
	                              msg,
	                              hmac,
	                              response->body,
	                              g_str_has_prefix(fe->uri, "https:") ||
	                                  g_str_has_prefix(fe->uri, "HTTPS:"),
	                              &server_id,
	                              &n_items,
	                              &new_ids,
	                              &error);
	if (outcome != GW_BOOTSTRAP_APPLIED) {
		g_prefix_error(&error, "GET %s: nothing changed: ", fe->uri);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_message("bootstrap fetched from %s applied (bootstrap server %s, %s, %u items)",
	          fe->uri,
	          server_id,
	          wbxml ? "WBXML" : "XML",
	          n_items);
	g_signal_emit(self, signals[SIGNAL_APPLIED], 0, new_ids);
	g_task_return_pointer(task, g_steal_pointer(&new_ids), (GDestroyNotify)g_strfreev);
}

void
gw_server_bootstrap_fetch_async(GwServerBootstrap *self,
                                const gchar *uri,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *gw_id = NULL;
	g_autofree gchar *escaped = NULL;
	GwFetch *fe;
	static const gchar *const accept[] = {
	    "Accept", GW_SYNCML_DM_XML_TYPE ", " GW_SYNCML_DM_WBXML_TYPE, NULL};

	g_return_if_fail(GW_IS_SERVER_BOOTSTRAP(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, gw_server_bootstrap_fetch_async);
	/* nothing is connected to unless the URL and its host are allowed */
	if (!gw_server_bootstrap_uri_is_allowed(uri, self->allow_http_loopback, &error) ||
	    !gw_server_bootstrap_host_is_allowed(self, uri, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (g_hash_table_size(self->servers) == 0) {
		g_task_return_new_error(task,
		                        GW_ERROR,
		                        GW_ERROR_PERMISSION_DENIED,
		                        "no bootstrap server is configured ([bootstrap] servers)");
		return;
	}
	gw_id = gw_server_bootstrap_dup_gw_id(self);
	escaped = g_uri_escape_string(gw_id != NULL ? gw_id : "", NULL, FALSE);
	fe = g_new0(GwFetch, 1);
	fe->uri =
	    g_strdup_printf("%s%cgwid=%s", uri, strchr(uri, '?') != NULL ? '&' : '?', escaped);
	g_task_set_task_data(task, fe, gw_fetch_free);
	g_info("GET %s (bootstrap of the gateway, work flow 1)", fe->uri);
	gw_http_client_get_async(self->client,
	                         fe->uri,
	                         accept,
	                         self->fetch_max_size,
	                         self->fetch_timeout,
	                         cancellable,
	                         gw_server_bootstrap_got_cb,
	                         g_steal_pointer(&task));
}

gchar **
gw_server_bootstrap_fetch_finish(GwServerBootstrap *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- the work flows ---- */

static void
gw_flow_send(GwFlow *f, GwSyncmlCommand *cmd, GAsyncReadyCallback callback);

static void
gw_flow_fetched_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree gchar *key = user_data;
	GwServerBootstrap *self = GW_SERVER_BOOTSTRAP(source);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) ids = gw_server_bootstrap_fetch_finish(self, res, &error);
	GwFlow *f;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	f = gw_flow_lookup(self, key);
	if (f == NULL)
		return;
	if (ids == NULL) {
		gw_flow_end(f, FALSE, error->message);
		return;
	}
	if (!g_strv_contains((const gchar *const *)ids, f->server_id)) {
		gw_flow_end(f, FALSE, "the bootstrap applied brought no account for this ServerID");
		return;
	}
	/* "applied" made the server's alerts; servers_added() ended the flow already */
	if (gw_flow_lookup(self, key) != NULL)
		gw_flow_end(f, TRUE, "work flow 1 done");
}

static gboolean
gw_flow_timeout_cb(gpointer user_data)
{
	GwFlow *f = user_data;
	f->timeout_id = 0;
	gw_flow_end(f, FALSE, "no bootstrap came for it in time ([bootstrap] request-timeout)");
	return G_SOURCE_REMOVE;
}

static void
gw_flow_requested_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree gchar *key = user_data;
	GwServerBootstrap *self = NULL;
	g_autoptr(GError) error = NULL;
	guint status = 0;
	GwFlow *f;

	if (!gw_southbound_send_command_finish(GW_SOUTHBOUND(source), res, &status, NULL, &error))
		return; /* cancelled: the object is going */
	self = g_object_get_data(source, "gw-server-bootstrap");
	if (self == NULL || (f = gw_flow_lookup(self, key)) == NULL)
		return;
	if (!gw_dm_status_is_success(status)) {
		g_autofree gchar *why = g_strdup_printf(
		    "the device answered the Exec of %s/" GW_SERVER_BOOTSTRAP_EXT_REQUEST
		    " with %u",
		    f->account,
		    status);
		gw_flow_end(f, FALSE, why);
		return;
	}
	g_message("bootstrap for ServerID %s (device %s): work flow 2 requested, waiting for "
	          "its bootstrap server's POST " GW_GWMO_HTTP_BOOTSTRAP,
	          f->server_id,
	          f->device_id);
	f->timeout_id = g_timeout_add_seconds(self->request_timeout, gw_flow_timeout_cb, f);
}

static void
gw_flow_request(GwFlow *f)
{
	GwServerBootstrap *self = f->self;
	g_autofree gchar *gw_id = gw_server_bootstrap_dup_gw_id(self);
	g_autofree gchar *e_id = g_uri_escape_string(gw_id != NULL ? gw_id : "", NULL, FALSE);
	g_autofree gchar *e_addr =
	    g_uri_escape_string(self->gateway_url != NULL ? self->gateway_url : "", NULL, FALSE);
	g_autofree gchar *e_sid = g_uri_escape_string(f->server_id, NULL, FALSE);
	g_autofree gchar *data = g_strdup_printf("gwid=%s&addr=%s&server=%s", e_id, e_addr, e_sid);
	g_autofree gchar *target =
	    g_strdup_printf("%s/" GW_SERVER_BOOTSTRAP_EXT_REQUEST, f->account);
	GwSyncmlCommand *cmd;
	GwSyncmlItem *item;

	if (self->gateway_url == NULL) {
		gw_flow_end(f, FALSE, "the gateway has no POST /bootstrap URL to give");
		return;
	}
	cmd = gw_syncml_command_new(GW_SYNCML_CMD_EXEC);
	item = gw_syncml_item_new(target, NULL);
	gw_syncml_item_set_data(item, "chr", "application/x-www-form-urlencoded", data);
	gw_syncml_command_add_item(cmd, item);
	g_info("Exec %s on device %s", target, f->device_id);
	gw_flow_send(f, cmd, gw_flow_requested_cb);
}

static void
gw_flow_got_uri_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree gchar *key = user_data;
	GwServerBootstrap *self;
	g_autoptr(GPtrArray) results = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *uri = NULL;
	guint status = 0;
	GwFlow *f;

	if (!gw_southbound_send_command_finish(
	        GW_SOUTHBOUND(source), res, &status, &results, &error))
		return;
	self = g_object_get_data(source, "gw-server-bootstrap");
	if (self == NULL || (f = gw_flow_lookup(self, key)) == NULL)
		return;
	if (status == GW_DM_STATUS_OK && results != NULL && results->len > 0) {
		const GwSyncmlItem *item = g_ptr_array_index(results, 0);
		if (item->data != NULL && item->data[0] != '\0')
			uri = item->data;
	}
	if (uri != NULL && self->workflow != GW_WORKFLOW_REQUEST) {
		g_autoptr(GError) refused = NULL;
		if (!gw_server_bootstrap_uri_is_allowed(uri, self->allow_http_loopback, &refused)) {
			gw_flow_end(f, FALSE, refused->message);
			return;
		}
		/* a host the owner did not list is not connected to (a device's BootstrapURI
		 * must not make the gateway a request forger); with workflow=both the device's
		 * bootstrap server is asked through the device instead (work flow 2) */
		if (!gw_server_bootstrap_host_is_allowed(self, uri, &refused)) {
			if (self->workflow == GW_WORKFLOW_URI) {
				gw_flow_end(f, FALSE, refused->message);
				return;
			}
			gw_warning_ratelimited("bootstrap for ServerID %s (device %s): %s; work "
			                       "flow 2 instead",
			                       f->server_id,
			                       f->device_id,
			                       refused->message);
			gw_flow_request(f);
			return;
		}
		g_message("bootstrap for ServerID %s (device %s): work flow 1 from %s",
		          f->server_id,
		          f->device_id,
		          uri);
		gw_server_bootstrap_fetch_async(
		    self, uri, self->cancellable, gw_flow_fetched_cb, g_strdup(f->key));
		return;
	}
	if (self->workflow == GW_WORKFLOW_URI) {
		g_autofree gchar *why =
		    g_strdup_printf("the device gives no %s/" GW_SERVER_BOOTSTRAP_EXT_URI
		                    " (status %u) and [bootstrap] workflow is uri",
		                    f->account,
		                    status);
		gw_flow_end(f, FALSE, why);
		return;
	}
	gw_flow_request(f);
}

static void
gw_flow_got_accounts_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree gchar *key = user_data;
	GwServerBootstrap *self;
	g_autoptr(GPtrArray) results = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *target = NULL;
	guint status = 0;
	GwSyncmlCommand *cmd;
	GwFlow *f;

	if (!gw_southbound_send_command_finish(
	        GW_SOUTHBOUND(source), res, &status, &results, &error))
		return;
	self = g_object_get_data(source, "gw-server-bootstrap");
	if (self == NULL || (f = gw_flow_lookup(self, key)) == NULL)
		return;
	for (guint i = 0; results != NULL && i < results->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(results, i);
		const gchar *uri = item->source_uri != NULL ? item->source_uri : item->target_uri;
		if (uri == NULL || item->data == NULL || strcmp(item->data, f->server_id) != 0 ||
		    !g_str_has_prefix(uri, "./DMAcc/") || !g_str_has_suffix(uri, "/ServerID"))
			continue;
		f->account = g_strndup(uri, strlen(uri) - strlen("/ServerID"));
		break;
	}
	if (f->account == NULL || strchr(f->account + strlen("./DMAcc/"), '/') != NULL) {
		g_autofree gchar *why = g_strdup_printf(
		    "the device has no ./DMAcc account with this ServerID (status %u)", status);
		g_clear_pointer(&f->account, g_free);
		gw_flow_end(f, FALSE, why);
		return;
	}
	target = g_strdup_printf("%s/" GW_SERVER_BOOTSTRAP_EXT_URI, f->account);
	cmd = gw_syncml_command_new(GW_SYNCML_CMD_GET);
	gw_syncml_command_add_item(cmd, gw_syncml_item_new(target, NULL));
	gw_flow_send(f, cmd, gw_flow_got_uri_cb);
}

static void
gw_flow_got_children_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree gchar *key = user_data;
	GwServerBootstrap *self;
	g_autoptr(GPtrArray) results = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) children = NULL;
	guint status = 0;
	guint n = 0;
	GwSyncmlCommand *cmd;
	GwFlow *f;

	if (!gw_southbound_send_command_finish(
	        GW_SOUTHBOUND(source), res, &status, &results, &error))
		return;
	self = g_object_get_data(source, "gw-server-bootstrap");
	if (self == NULL || (f = gw_flow_lookup(self, key)) == NULL)
		return;
	if (status != GW_DM_STATUS_OK || results == NULL || results->len == 0 ||
	    ((const GwSyncmlItem *)g_ptr_array_index(results, 0))->data == NULL) {
		g_autofree gchar *why =
		    g_strdup_printf("Get ./DMAcc on the device answered %u", status);
		gw_flow_end(f, FALSE, why);
		return;
	}
	children = g_strsplit(((const GwSyncmlItem *)g_ptr_array_index(results, 0))->data, "/", -1);
	cmd = gw_syncml_command_new(GW_SYNCML_CMD_GET);
	for (guint i = 0; children[i] != NULL && n < GW_SERVER_BOOTSTRAP_MAX_ACCOUNTS; i++) {
		g_autofree gchar *uri = NULL;
		if (children[i][0] == '\0' || strchr(children[i], '?') != NULL)
			continue;
		uri = g_strdup_printf("./DMAcc/%s/ServerID", children[i]);
		gw_syncml_command_add_item(cmd, gw_syncml_item_new(uri, NULL));
		n++;
	}
	if (n == 0) {
		gw_syncml_command_free(cmd);
		gw_flow_end(f, FALSE, "the device has no ./DMAcc account");
		return;
	}
	gw_flow_send(f, cmd, gw_flow_got_accounts_cb);
}

static void
gw_flow_send(GwFlow *f, GwSyncmlCommand *cmd, GAsyncReadyCallback callback)
{
	GwServerBootstrap *self = f->self;
	gw_southbound_send_command_async(self->southbound,
	                                 f->device_id,
	                                 cmd,
	                                 GW_SERVER_BOOTSTRAP_CMD_TIMEOUT,
	                                 self->cancellable,
	                                 callback,
	                                 g_strdup(f->key));
}

static guint
gw_server_bootstrap_count_device(GwServerBootstrap *self, const gchar *device_id)
{
	GHashTableIter iter;
	gpointer value;
	guint n = 0;
	g_hash_table_iter_init(&iter, self->flows);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const GwFlow *f = value;
		if (strcmp(f->device_id, device_id) == 0)
			n++;
	}
	return n;
}

void
gw_server_bootstrap_device_registered(GwServerBootstrap *self,
                                      const gchar *device_id,
                                      const gchar *const *server_ids)
{
	g_auto(GStrv) own = NULL;
	guint refused = 0;

	g_return_if_fail(GW_IS_SERVER_BOOTSTRAP(self));

	if (self->southbound == NULL || device_id == NULL || server_ids == NULL)
		return;
	own = gw_bootstrap_dup_account_server_ids(self->tree);
	for (guint i = 0; server_ids[i] != NULL; i++) {
		const gchar *sid = server_ids[i];
		g_autofree gchar *key = NULL;
		GwFlow *f;
		GwSyncmlCommand *cmd;

		if (!gw_dm_acl_server_id_is_valid(sid) ||
		    g_strv_contains((const gchar *const *)own, sid))
			continue; /* matched (step 3), or not a ServerID at all */
		key = gw_flow_key(device_id, sid);
		if (g_hash_table_contains(self->flows, key))
			continue; /* once per (device, ServerID) while one runs */
		if (gw_server_bootstrap_count_device(self, device_id) >=
		        GW_SERVER_BOOTSTRAP_MAX_PER_DEVICE ||
		    g_hash_table_size(self->flows) >= GW_SERVER_BOOTSTRAP_MAX_RUNNING) {
			refused++;
			continue;
		}
		f = g_new0(GwFlow, 1);
		f->self = self;
		f->key = g_steal_pointer(&key);
		f->device_id = g_strdup(device_id);
		f->server_id = g_strdup(sid);
		g_hash_table_insert(self->flows, f->key, f);
		g_message("device %s names ServerID %s the gateway has no account for: asking the "
		          "device for its bootstrap (workflow %s)",
		          device_id,
		          sid,
		          self->workflow == GW_WORKFLOW_URI       ? "uri"
		          : self->workflow == GW_WORKFLOW_REQUEST ? "request"
		                                                  : "both");
		cmd = gw_syncml_command_new(GW_SYNCML_CMD_GET);
		gw_syncml_command_add_item(cmd, gw_syncml_item_new("./DMAcc", NULL));
		gw_flow_send(f, cmd, gw_flow_got_children_cb);
	}
	if (refused > 0)
		gw_warning_ratelimited("device %s names %u more ServerID(s) the gateway has no "
		                       "account for: no bootstrap started for them (%u running, at "
		                       "most %u per device and %u in all)",
		                       device_id,
		                       refused,
		                       g_hash_table_size(self->flows),
		                       GW_SERVER_BOOTSTRAP_MAX_PER_DEVICE,
		                       GW_SERVER_BOOTSTRAP_MAX_RUNNING);
}

void
gw_server_bootstrap_servers_added(GwServerBootstrap *self, const gchar *const *server_ids)
{
	g_autoptr(GPtrArray) done = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail(GW_IS_SERVER_BOOTSTRAP(self));
	if (server_ids == NULL)
		return;
	g_hash_table_iter_init(&iter, self->flows);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GwFlow *f = value;
		if (g_strv_contains(server_ids, f->server_id))
			g_ptr_array_add(done, f);
	}
	for (guint i = 0; i < done->len; i++)
		gw_flow_end(g_ptr_array_index(done, i), TRUE, "the gateway holds its account now");
}

guint
gw_server_bootstrap_get_running(GwServerBootstrap *self)
{
	g_return_val_if_fail(GW_IS_SERVER_BOOTSTRAP(self), 0);
	return g_hash_table_size(self->flows);
}

void
gw_server_bootstrap_set_southbound(GwServerBootstrap *self, GwSouthbound *southbound)
{
	g_return_if_fail(GW_IS_SERVER_BOOTSTRAP(self));
	if (self->southbound != NULL)
		g_object_set_data(G_OBJECT(self->southbound), "gw-server-bootstrap", NULL);
	g_set_object(&self->southbound, southbound);
	/* the replies find the flows through it (they may come after this object is gone) */
	if (southbound != NULL)
		g_object_set_data(G_OBJECT(southbound), "gw-server-bootstrap", self);
}

void
gw_server_bootstrap_set_gateway_url(GwServerBootstrap *self, const gchar *url)
{
	g_return_if_fail(GW_IS_SERVER_BOOTSTRAP(self));
	g_free(self->gateway_url);
	self->gateway_url = g_strdup(url);
}

/* ---- object ---- */

static void
gw_server_bootstrap_dispose(GObject *object)
{
	GwServerBootstrap *self = GW_SERVER_BOOTSTRAP(object);
	g_cancellable_cancel(self->cancellable);
	if (self->southbound != NULL)
		g_object_set_data(G_OBJECT(self->southbound), "gw-server-bootstrap", NULL);
	g_clear_object(&self->southbound);
	g_hash_table_remove_all(self->flows);
	G_OBJECT_CLASS(gw_server_bootstrap_parent_class)->dispose(object);
}

static void
gw_server_bootstrap_finalize(GObject *object)
{
	GwServerBootstrap *self = GW_SERVER_BOOTSTRAP(object);
	g_hash_table_unref(self->flows);
	g_clear_pointer(&self->servers, g_hash_table_unref);
	g_clear_pointer(&self->pins, g_hash_table_unref);
	g_clear_object(&self->client);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->store);
	g_clear_object(&self->tree);
	g_free(self->gateway_url);
	g_strfreev(self->fetch_hosts);
	G_OBJECT_CLASS(gw_server_bootstrap_parent_class)->finalize(object);
}

static void
gw_server_bootstrap_class_init(GwServerBootstrapClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_server_bootstrap_dispose;
	object_class->finalize = gw_server_bootstrap_finalize;
	signals[SIGNAL_APPLIED] = g_signal_new("applied",
	                                       G_TYPE_FROM_CLASS(klass),
	                                       G_SIGNAL_RUN_LAST,
	                                       0,
	                                       NULL,
	                                       NULL,
	                                       NULL,
	                                       G_TYPE_NONE,
	                                       1,
	                                       G_TYPE_STRV);
}

static void
gw_server_bootstrap_init(GwServerBootstrap *self)
{
	self->flows = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, gw_flow_free);
	self->cancellable = g_cancellable_new();
}

GwServerBootstrap *
gw_server_bootstrap_new(GwConfig *config,
                        GwDmTree *tree,
                        GwDmStore *store,
                        GHashTable *servers,
                        GError **error)
{
	g_autoptr(GwServerBootstrap) self = g_object_new(GW_TYPE_SERVER_BOOTSTRAP, NULL);
	g_autofree gchar *ca_file = gw_config_get_string(config, "northbound", "ca-file");
	g_autofree gchar *workflow = gw_config_get_string(config, "bootstrap", "workflow");

	self->tree = g_object_ref(tree);
	self->store = g_object_ref(store);
	self->servers = g_hash_table_ref(servers);
	self->pins = gw_bootstrap_load_pins(config, servers, error);
	if (self->pins == NULL)
		return NULL;
	if (workflow == NULL || workflow[0] == '\0' || g_strcmp0(workflow, "both") == 0) {
		self->workflow = GW_WORKFLOW_BOTH;
	} else if (g_strcmp0(workflow, "uri") == 0) {
		self->workflow = GW_WORKFLOW_URI;
	} else if (g_strcmp0(workflow, "request") == 0) {
		self->workflow = GW_WORKFLOW_REQUEST;
	} else {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "[bootstrap] workflow '%s': uri, request or both",
		            workflow);
		return NULL;
	}
	self->allow_http_loopback = gw_config_get_bool(config, "bootstrap", "allow-http-loopback");
	{
		g_autofree gchar *hosts = gw_config_get_string(config, "bootstrap", "fetch-hosts");
		g_autofree gchar *url = gw_config_get_string(config, "bootstrap", "url");
		g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
		g_auto(GStrv) listed = gw_server_bootstrap_parse_fetch_hosts(hosts, error);
		g_autoptr(GUri) parsed = NULL;

		if (listed == NULL)
			return NULL;
		g_strv_builder_addv(builder, (const gchar **)listed);
		/* the owner named [bootstrap] url's host: it is allowed */
		if (url != NULL && url[0] != '\0' &&
		    (parsed = g_uri_parse(url, G_URI_FLAGS_NONE, NULL)) != NULL &&
		    g_uri_get_host(parsed) != NULL && g_uri_get_host(parsed)[0] != '\0') {
			g_autofree gchar *own =
			    gw_server_bootstrap_normalize_host(g_uri_get_host(parsed));
			g_strv_builder_add(builder, own);
		}
		self->fetch_hosts = g_strv_builder_end(builder);
	}
	self->fetch_timeout = (guint)gw_config_get_int(config, "bootstrap", "fetch-timeout");
	self->fetch_max_size = (gsize)gw_config_get_int(config, "bootstrap", "fetch-max-size");
	self->request_timeout = (guint)gw_config_get_int(config, "bootstrap", "request-timeout");
	self->client = gw_http_client_new(ca_file, error);
	if (self->client == NULL)
		return NULL;
	return g_steal_pointer(&self);
}
