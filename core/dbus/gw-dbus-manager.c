/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "gw-dbus-authority.h"
#include "gw-dbus-generated.h"
#include "gw-dbus-images.h"
#include "gw-dbus-inventory.h"
#include "gw-dbus-jobs.h"
#include "gw-dbus-manager.h"
#include "gw-dbus-plugins.h"
#include "gw-dbus-servers.h"
#include "gw-dm-auth.h"
#include "gw-gateway.h"
#include "gw-gwmo-mo.h"
#include "gw-inventory.h"
#include "gw-northbound.h"
#include "gw-tnds.h"

struct _GwDbusManager {
	GObject parent_instance;
	GwGateway *gateway; /* not owned: it outlives the D-Bus service that owns us */
	GDBusConnection *connection;
	GwDbusGenManager *skeleton;
	GwDbusObjectManager *object_manager;
	GwDbusInventory *inventory; /* the Devices/ and Groups/ objects */
	GwDbusServers *servers;     /* the Servers/ objects */
	GwDbusImages *images;       /* the Images/ objects */
	GwDbusJobs *jobs;           /* the Jobs/ objects */
	GwDbusPlugins *plugins;     /* the Plugins/ objects, Tainted */
	gulong tree_changed_id;
	gulong session_finished_id;
	gulong alerts_changed_id; /* the alert queue's "changed": PendingAlerts follows it */
	gulong discovery_id;
	GwDbusAuthority *authority; /* who may change what */
};

G_DEFINE_TYPE(GwDbusManager, gw_dbus_manager, G_TYPE_OBJECT)

void
gw_dbus_return_error(GDBusMethodInvocation *invocation, const GError *error)
{
	g_autoptr(GError) normalized = NULL;

	if (error->domain == GW_ERROR) {
		normalized = g_error_copy(error);
	} else if (error->domain == G_KEY_FILE_ERROR || error->domain == G_MARKUP_ERROR) {
		normalized = g_error_new(GW_ERROR, GW_ERROR_INVALID_ARGS, "%s", error->message);
	} else {
		normalized = g_error_new(GW_ERROR, GW_ERROR_FAILED, "%s", error->message);
	}
	g_debug("%s failed: %s",
	        g_dbus_method_invocation_get_method_name(invocation),
	        normalized->message);
	g_dbus_method_invocation_return_gerror(invocation, normalized);
}

gboolean
gw_dbus_return_status(GDBusMethodInvocation *invocation, guint status, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	if (gw_dm_status_is_success(status))
		return FALSE;
	gw_dm_status_set_error(&error, status, uri);
	gw_dbus_return_error(invocation, error);
	return TRUE;
}

/* ---- caller authorisation: GwDbusAuthority (polkit on the system bus) ---- */

static gboolean
gw_dbus_manager_authorize(GwDbusManager *self,
                          GDBusMethodInvocation *invocation,
                          const gchar *action_id)
{
	return gw_dbus_authority_check(self->authority, invocation, action_id);
}

/* ---- value mapping ---- */

GVariant *
gw_dbus_value_to_variant(GwDmFormat format, GBytes *value, gchar **children)
{
	g_autofree gchar *str = NULL;
	gsize len = 0;
	const gchar *data = value != NULL ? g_bytes_get_data(value, &len) : NULL;

	if (format == GW_DM_FORMAT_NODE)
		return g_variant_new_strv((const gchar *const *)children, -1);
	if (format == GW_DM_FORMAT_BIN) {
		return g_variant_new_fixed_array(
		    G_VARIANT_TYPE_BYTE, data != NULL ? data : "", len, 1);
	}
	str = g_strndup(data != NULL ? data : "", len);
	if (format == GW_DM_FORMAT_INT) {
		gint64 v = 0;
		if (g_ascii_string_to_signed(str, 10, G_MININT64, G_MAXINT64, &v, NULL))
			return g_variant_new_int64(v);
		return g_variant_new_string(g_utf8_validate(str, -1, NULL) ? str : "");
	}
	if (format == GW_DM_FORMAT_BOOL)
		return g_variant_new_boolean(g_strcmp0(str, "true") == 0);
	if (format == GW_DM_FORMAT_FLOAT)
		return g_variant_new_double(g_ascii_strtod(str, NULL));
	if (!g_utf8_validate(str, -1, NULL))
		return g_variant_new_string("");
	return g_variant_new_string(str);
}

static gboolean
gw_dbus_variant_get_integer(GVariant *value, gint64 *out)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTE))
		*out = g_variant_get_byte(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT16))
		*out = g_variant_get_int16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16))
		*out = g_variant_get_uint16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		*out = g_variant_get_int32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		*out = g_variant_get_uint32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		*out = g_variant_get_int64(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64) &&
	         g_variant_get_uint64(value) <= G_MAXINT64)
		*out = (gint64)g_variant_get_uint64(value);
	else
		return FALSE;
	return TRUE;
}

GBytes *
gw_dbus_value_from_variant(GwDmFormat format, GVariant *value, GError **error)
{
	const gchar *expected = NULL;

	switch (format) {
	case GW_DM_FORMAT_NODE:
		return NULL;
	case GW_DM_FORMAT_INT: {
		gint64 v = 0;
		g_autofree gchar *s = NULL;
		if (!gw_dbus_variant_get_integer(value, &v)) {
			expected = "an integer type";
			break;
		}
		s = g_strdup_printf("%" G_GINT64_FORMAT, v);
		return g_bytes_new(s, strlen(s));
	}
	case GW_DM_FORMAT_BOOL: {
		const gchar *s;
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
			expected = "b";
			break;
		}
		s = g_variant_get_boolean(value) ? "true" : "false";
		return g_bytes_new_static(s, strlen(s));
	}
	case GW_DM_FORMAT_FLOAT: {
		gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
			expected = "d";
			break;
		}
		/* a DDF float is a decimal number: NaN and infinity are none */
		if (!isfinite(g_variant_get_double(value))) {
			g_set_error_literal(
			    error,
			    GW_ERROR,
			    GW_ERROR_INVALID_ARGS,
			    "format float takes a finite number, not NaN or infinity");
			return NULL;
		}
		g_ascii_dtostr(buf, sizeof(buf), g_variant_get_double(value));
		return g_bytes_new(buf, strlen(buf));
	}
	case GW_DM_FORMAT_BIN: {
		gsize len = 0;
		const guint8 *data;
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE_BYTESTRING)) {
			expected = "ay";
			break;
		}
		data = g_variant_get_fixed_array(value, &len, 1);
		return g_bytes_new(data, len);
	}
	case GW_DM_FORMAT_NULL:
		return NULL;
	case GW_DM_FORMAT_CHR:
	case GW_DM_FORMAT_B64:
	case GW_DM_FORMAT_XML:
	case GW_DM_FORMAT_DATE:
	case GW_DM_FORMAT_TIME: {
		const gchar *s;
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
			expected = "s";
			break;
		}
		s = g_variant_get_string(value, NULL);
		return g_bytes_new(s, strlen(s));
	}
	case GW_DM_FORMAT_INVALID:
	default:
		break;
	}
	if (expected == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown format");
		return NULL;
	}
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_INVALID_ARGS,
	            "format %s takes a value of type %s, not %s",
	            gw_dm_format_to_string(format),
	            expected,
	            g_variant_get_type_string(value));
	return NULL;
}

/* ---- handlers ---- */

typedef struct {
	GDBusMethodInvocation *invocation;
	GVariant *reply;
} GwDbusCommitReply;

static void
gw_dbus_commit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwDbusCommitReply *data = user_data;
	g_autoptr(GError) error = NULL;

	if (!gw_gateway_commit_finish(GW_GATEWAY(source), res, &error))
		gw_dbus_return_error(data->invocation, error);
	else
		g_dbus_method_invocation_return_value(data->invocation, data->reply);
	g_object_unref(data->invocation);
	g_clear_pointer(&data->reply, g_variant_unref);
	g_free(data);
}

void
gw_dbus_commit_and_reply(GwGateway *gateway, GDBusMethodInvocation *invocation, GVariant *reply)
{
	GwDbusCommitReply *data = g_new0(GwDbusCommitReply, 1);

	data->invocation = g_object_ref(invocation);
	data->reply = reply != NULL ? g_variant_ref_sink(reply) : NULL;
	gw_gateway_commit_async(gateway, gw_dbus_commit_cb, data);
}

/* GetNode and ListChildren: the Get of a node URI (DM queries, ?list= and ?prop=, are for DM
 * Servers); TRUE when it failed and @invocation is answered */
static gboolean
gw_dbus_manager_get_refused(GwDbusManager *self,
                            GDBusMethodInvocation *invocation,
                            const gchar *uri,
                            GPtrArray **results)
{
	guint status;

	g_debug("%s(%s)", g_dbus_method_invocation_get_method_name(invocation), uri);
	if (strchr(uri, '?') != NULL) {
		g_dbus_method_invocation_return_error(
		    invocation,
		    GW_ERROR,
		    GW_ERROR_INVALID_URI,
		    "%s takes a plain node URI, not a query",
		    g_dbus_method_invocation_get_method_name(invocation));
		return TRUE;
	}
	status = gw_dm_tree_get(gw_gateway_get_tree(self->gateway), NULL, uri, results);
	return gw_dbus_return_status(invocation, status, uri);
}

static gboolean
gw_dbus_manager_handle_get_node(GwDbusGenManager *skeleton,
                                GDBusMethodInvocation *invocation,
                                const gchar *uri,
                                gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	GwDmTree *tree = gw_gateway_get_tree(self->gateway);
	g_autoptr(GPtrArray) results = NULL;
	g_auto(GStrv) children = NULL;
	GwDmItem *item;

	if (gw_dbus_manager_get_refused(self, invocation, uri, &results))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (results == NULL || results->len == 0) {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_INTERNAL, "Get of %s returned nothing", uri);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	item = g_ptr_array_index(results, 0);
	if (item->format == GW_DM_FORMAT_NODE)
		children = gw_dm_tree_list_children(tree, uri);
	gw_dbus_gen_manager_complete_get_node(
	    skeleton,
	    invocation,
	    gw_dm_format_to_string(item->format),
	    item->mime_type != NULL ? item->mime_type : "",
	    g_variant_new_variant(gw_dbus_value_to_variant(item->format, item->data, children)));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_set_node(GwDbusGenManager *skeleton,
                                GDBusMethodInvocation *invocation,
                                const gchar *uri,
                                const gchar *format_str,
                                GVariant *value,
                                gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	GwDmTree *tree = gw_gateway_get_tree(self->gateway);
	GwDmFormat format = gw_dm_format_from_string(format_str);
	g_autoptr(GVariant) inner = g_variant_get_variant(value);
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GError) error = NULL;
	GwDmNode *node;
	guint status;

	g_debug("SetNode(%s, %s)", uri, format_str);
	/* shape first, then who asks, then state */
	if (format == GW_DM_FORMAT_INVALID) {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown format '%s'", format_str);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	bytes = gw_dbus_value_from_variant(format, inner, &error);
	/* a value that is not one of its format (a malformed date or xml, "nan") is a bad
	 * argument; a property ("?prop=") takes its own text */
	if (error == NULL && strchr(uri, '?') == NULL &&
	    !gw_dm_format_validate_value(format, bytes, &error)) {
		g_prefix_error(&error, "%s: ", uri);
		error->code = GW_ERROR_INVALID_ARGS;
	}
	if (error != NULL) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (!gw_dbus_manager_authorize(self, invocation, GW_DBUS_ACTION_CHANGE_TREE))
		return G_DBUS_METHOD_INVOCATION_HANDLED;

	node = strchr(uri, '?') == NULL ? gw_dm_tree_lookup(tree, uri) : NULL;
	if (strchr(uri, '?') != NULL)
		/* a property ("?prop=ACL", "?prop=Title"): the owner grants or revokes access */
		status = gw_dm_tree_replace(tree, NULL, uri, format, NULL, bytes);
	else if (node == NULL)
		status = gw_dm_tree_add(tree, NULL, uri, format, NULL, bytes);
	else if (format == GW_DM_FORMAT_NODE && !gw_dm_node_is_leaf(node))
		status = GW_DM_STATUS_OK; /* the interior node exists: nothing to do */
	else
		status = gw_dm_tree_replace(tree, NULL, uri, format, NULL, bytes);
	if (status == GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE) {
		/* the format does not fit the node (its DDF, or an interior node): the caller's
		 * arguments are wrong, as for a value that does not fit its format */
		g_autoptr(GError) ddf_error = NULL;
		g_autofree gchar *normalized = gw_dm_uri_normalize(uri, NULL, NULL, NULL);
		if (normalized == NULL ||
		    gw_dm_tree_ddf_check(tree, normalized, format, &ddf_error))
			g_set_error(&ddf_error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "%s cannot take a value of format %s",
			            uri,
			            format_str);
		ddf_error->code = GW_ERROR_INVALID_ARGS;
		gw_dbus_return_error(invocation, ddf_error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (gw_dbus_return_status(invocation, status, uri))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	g_info("SetNode %s (%s) by %s",
	       uri,
	       format_str,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, NULL);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_delete_node(GwDbusGenManager *skeleton,
                                   GDBusMethodInvocation *invocation,
                                   const gchar *uri,
                                   gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	guint status;

	g_debug("DeleteNode(%s)", uri);
	if (!gw_dbus_manager_authorize(self, invocation, GW_DBUS_ACTION_CHANGE_TREE))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	status = gw_dm_tree_delete(gw_gateway_get_tree(self->gateway), NULL, uri);
	if (gw_dbus_return_status(invocation, status, uri))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	g_info("DeleteNode %s by %s", uri, g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, NULL);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_list_children(GwDbusGenManager *skeleton,
                                     GDBusMethodInvocation *invocation,
                                     const gchar *uri,
                                     gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	GwDmTree *tree = gw_gateway_get_tree(self->gateway);
	g_autoptr(GPtrArray) results = NULL;
	g_auto(GStrv) children = NULL;
	GwDmItem *item;

	if (gw_dbus_manager_get_refused(self, invocation, uri, &results))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	item = results != NULL && results->len > 0 ? g_ptr_array_index(results, 0) : NULL;
	if (item == NULL || item->format != GW_DM_FORMAT_NODE) {
		g_dbus_method_invocation_return_error(invocation,
		                                      GW_ERROR,
		                                      GW_ERROR_INVALID_ARGS,
		                                      "%s is a leaf, not an interior node",
		                                      uri);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	children = gw_dm_tree_list_children(tree, uri);
	gw_dbus_gen_manager_complete_list_children(
	    skeleton, invocation, (const gchar *const *)children);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_export_tree(GwDbusGenManager *skeleton,
                                   GDBusMethodInvocation *invocation,
                                   const gchar *uri,
                                   gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *xml = NULL;

	g_debug("ExportTree(%s)", uri);
	xml = gw_tnds_export(
	    gw_gateway_get_tree(self->gateway), uri, NULL, GW_TNDS_EXPORT_VALUES, &error);
	if (xml == NULL) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (gw_dbus_refuse_large_reply(invocation,
	                               strlen(xml),
	                               gw_dbus_object_manager_get_max_reply(self->object_manager)))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	gw_dbus_gen_manager_complete_export_tree(skeleton, invocation, xml);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_bootstrap(GwDbusGenManager *skeleton,
                                 GDBusMethodInvocation *invocation,
                                 const gchar *tnds,
                                 const gchar *parent_uri,
                                 const gchar *flags,
                                 gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	g_autoptr(GError) error = NULL;
	gboolean replace;

	g_debug("Bootstrap(parent=%s, flags=%s, %zu bytes)", parent_uri, flags, strlen(tnds));
	if (g_strcmp0(flags, "") != 0 && g_strcmp0(flags, "replace") != 0) {
		g_dbus_method_invocation_return_error(
		    invocation,
		    GW_ERROR,
		    GW_ERROR_INVALID_ARGS,
		    "unknown flags '%s' (use \"\" or \"replace\")",
		    flags);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	replace = g_strcmp0(flags, "replace") == 0;
	if (!gw_dbus_manager_authorize(self, invocation, GW_DBUS_ACTION_BOOTSTRAP))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!gw_tnds_import(gw_gateway_get_tree(self->gateway),
	                    parent_uri[0] != '\0' ? parent_uri : ".",
	                    tnds,
	                    strlen(tnds),
	                    replace ? GW_TNDS_IMPORT_REPLACE : GW_TNDS_IMPORT_NONE,
	                    &error)) {
		g_prefix_error(&error, "bootstrap refused: ");
		g_warning("%s (from %s)",
		          error->message,
		          g_dbus_method_invocation_get_sender(invocation));
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_message("bootstrap applied below %s by %s",
	          parent_uri[0] != '\0' ? parent_uri : ".",
	          g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, NULL);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- northbound sessions and alerts ---- */

/* the skeleton sends one PropertiesChanged per main-loop turn for what changed in it */
static void
gw_dbus_manager_refresh_pending_alerts(GwDbusManager *self)
{
	GwNorthbound *nb = gw_gateway_get_northbound(self->gateway);
	guint pending = gw_alert_queue_get_length(gw_northbound_get_alert_queue(nb));

	if (gw_dbus_gen_manager_get_pending_alerts(self->skeleton) != pending)
		gw_dbus_gen_manager_set_pending_alerts(self->skeleton, pending);
}

static void
gw_dbus_manager_alerts_changed_cb(GwAlertQueue *queue, gpointer user_data)
{
	gw_dbus_manager_refresh_pending_alerts(GW_DBUS_MANAGER(user_data));
}

static void
gw_dbus_manager_refresh_northbound(GwDbusManager *self)
{
	GwNorthbound *nb = gw_gateway_get_northbound(self->gateway);
	g_auto(GStrv) uris = gw_northbound_get_listen_uris(nb);
	const gchar *const *old = gw_dbus_gen_manager_get_listen_uris(self->skeleton);

	if (old == NULL || !g_strv_equal(old, (const gchar *const *)uris))
		gw_dbus_gen_manager_set_listen_uris(self->skeleton, (const gchar *const *)uris);
	gw_dbus_manager_refresh_pending_alerts(self);
}

static void
gw_dbus_manager_session_finished_cb(GwNorthbound *nb,
                                    const gchar *server_id,
                                    gboolean ok,
                                    const gchar *message,
                                    gpointer user_data)
{
	gw_dbus_manager_refresh_northbound(GW_DBUS_MANAGER(user_data));
}

static void
gw_dbus_session_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;
	GwDmSessionStats stats = {0};

	if (!gw_northbound_start_session_finish(GW_NORTHBOUND(source), res, &stats, &error)) {
		gw_dbus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(
	    invocation,
	    g_variant_new("(uu)", stats.messages_in + stats.messages_out, stats.commands_executed));
}

void
gw_dbus_start_session_and_reply(GwGateway *gateway,
                                const gchar *server_id,
                                GDBusMethodInvocation *invocation)
{
	gw_northbound_start_session_async(gw_gateway_get_northbound(gateway),
	                                  server_id,
	                                  NULL,
	                                  gw_dbus_session_done_cb,
	                                  g_object_ref(invocation));
}

static gboolean
gw_dbus_manager_handle_start_session(GwDbusGenManager *skeleton,
                                     GDBusMethodInvocation *invocation,
                                     const gchar *server_id,
                                     gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);

	g_debug("StartSession(%s)", server_id);
	if (!gw_dbus_manager_authorize(self, invocation, GW_DBUS_ACTION_RUN_JOBS))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	gw_dbus_start_session_and_reply(self->gateway, server_id, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_queue_alert(GwDbusGenManager *skeleton,
                                   GDBusMethodInvocation *invocation,
                                   const gchar *server_id,
                                   GVariant *dict,
                                   gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	const gchar *keys[] = {"Type", "Source", "Target", "Format", "Mark", "Data", "Correlator"};
	g_autoptr(GHashTable) values = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_autoptr(GError) error = NULL;
	GVariantIter iter;
	const gchar *key;
	GVariant *value;
	GwAlert alert = {0};
	guint id;

	g_debug("QueueAlert(%s)", server_id);
	/* shape first: only known keys, all strings; Type is mandatory */
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		gboolean known = FALSE;
		for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
			if (g_strcmp0(key, keys[i]) != 0)
				continue;
			known = TRUE;
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
				g_variant_unref(value);
				g_dbus_method_invocation_return_error(invocation,
				                                      GW_ERROR,
				                                      GW_ERROR_INVALID_ARGS,
				                                      "%s must be a string",
				                                      key);
				return G_DBUS_METHOD_INVOCATION_HANDLED;
			}
			g_hash_table_replace(
			    values, (gpointer)keys[i], g_variant_dup_string(value, NULL));
		}
		g_variant_unref(value);
		if (!known) {
			g_dbus_method_invocation_return_error(
			    invocation, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown key '%s'", key);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
	}
	alert.type = g_hash_table_lookup(values, "Type");
	if (alert.type == NULL || alert.type[0] == '\0') {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_INVALID_ARGS, "Type is required");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (!gw_dbus_manager_authorize(self, invocation, GW_DBUS_ACTION_RUN_JOBS))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	alert.server_id = (gchar *)server_id;
	alert.source = g_hash_table_lookup(values, "Source");
	alert.target = g_hash_table_lookup(values, "Target");
	alert.format = g_hash_table_lookup(values, "Format");
	if (alert.format == NULL)
		alert.format = (gchar *)"chr";
	alert.mark = g_hash_table_lookup(values, "Mark");
	alert.data = g_hash_table_lookup(values, "Data");
	alert.correlator = g_hash_table_lookup(values, "Correlator");
	id = gw_northbound_queue_alert(gw_gateway_get_northbound(self->gateway), &alert, &error);
	if (id == 0) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	gw_dbus_manager_refresh_northbound(self);
	gw_dbus_gen_manager_complete_queue_alert(skeleton, invocation, id);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- the inventory: AddDevice, RemoveDevice, CreateGroup ---- */

static gboolean
gw_dbus_manager_authorize_cb(GDBusMethodInvocation *invocation,
                             const gchar *action_id,
                             gpointer user_data)
{
	return gw_dbus_manager_authorize(GW_DBUS_MANAGER(user_data), invocation, action_id);
}

gboolean
gw_dbus_parse_dict(GVariant *dict,
                   const GwDbusDictKey *keys,
                   gsize n_keys,
                   GwDbusDictFunc func,
                   gpointer user_data,
                   GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GVariantIter iter;
	const gchar *key;
	GVariant *value_raw;

	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value_raw)) {
		g_autoptr(GVariant) value = value_raw;
		const GwDbusDictKey *spec = NULL;

		for (gsize i = 0; i < n_keys; i++) {
			if (g_strcmp0(key, keys[i].key) == 0)
				spec = &keys[i];
		}
		if (spec == NULL) {
			g_set_error(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown key '%s'", key);
			return FALSE;
		}
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE(spec->type))) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "%s takes a value of type %s, not %s",
			            key,
			            spec->type,
			            g_variant_get_type_string(value));
			return FALSE;
		}
		if (!g_hash_table_add(seen, (gpointer)spec->key)) {
			g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s given twice", key);
			return FALSE;
		}
		if (!func(spec->key, value, user_data, error))
			return FALSE;
	}
	return TRUE;
}

/* a local name, so the cleanup does not clash with one gw-inventory.h may declare */
typedef GwInventoryDevice GwDbusManagerDeviceInfo;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(GwDbusManagerDeviceInfo, gw_inventory_device_clear)

/* the AddDevice dictionary (data/org.gwmo.Gateway1.Manager.xml) */
static const GwDbusDictKey gw_dbus_manager_device_keys[] = {
    {"DeviceID", "s"},
    {"Mode", "u"},
    {"Protocol", "s"},
    {"AuthType", "s"},
    {"ClientName", "s"},
    {"ClientSecret", "s"},
    {"ServerSecret", "s"},
    {"NotifyAddr", "s"},
    {"Groups", "as"},
};

typedef struct {
	GwInventoryDevice *info;
	GStrv *groups;
} GwDbusManagerDevice;

static gboolean
gw_dbus_manager_device_key(const gchar *key, GVariant *value, gpointer user_data, GError **error)
{
	GwDbusManagerDevice *device = user_data;
	GwInventoryDevice *info = device->info;
	GStrv *groups = device->groups;

	if (g_strcmp0(key, "DeviceID") == 0) {
		info->device_id = g_variant_dup_string(value, NULL);
	} else if (g_strcmp0(key, "Mode") == 0) {
		info->mode = g_variant_get_uint32(value);
		if (info->mode < GW_GWMO_MODE_TRANSPARENT || info->mode > GW_GWMO_MODE_ADAPTATION) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "Mode %u is not 1 (Transparent), 2 (Proxy) or 3 "
			            "(Adaptation)",
			            info->mode);
			return FALSE;
		}
	} else if (g_strcmp0(key, "Protocol") == 0) {
		info->protocol = g_variant_dup_string(value, NULL);
		if (info->protocol[0] == '\0') {
			g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "Protocol is empty");
			return FALSE;
		}
	} else if (g_strcmp0(key, "AuthType") == 0) {
		GwDmAuthType type = gw_dm_auth_type_from_string(g_variant_get_string(value, NULL));
		if (type == GW_DM_AUTH_TYPE_NONE) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "AuthType '%s' is not BASIC, DIGEST or HMAC",
			            g_variant_get_string(value, NULL));
			return FALSE;
		}
		info->auth_type = g_strdup(gw_dm_auth_type_to_aauth_type(type));
	} else if (g_strcmp0(key, "ClientName") == 0) {
		info->client_name = g_variant_dup_string(value, NULL);
	} else if (g_strcmp0(key, "ClientSecret") == 0) {
		info->client_secret = g_variant_dup_string(value, NULL);
	} else if (g_strcmp0(key, "ServerSecret") == 0) {
		info->server_secret = g_variant_dup_string(value, NULL);
	} else if (g_strcmp0(key, "NotifyAddr") == 0) {
		const gchar *addr = g_variant_get_string(value, NULL);
		g_autofree gchar *scheme = g_uri_parse_scheme(addr);
		if (scheme == NULL || (g_ascii_strcasecmp(scheme, "http") != 0 &&
		                       g_ascii_strcasecmp(scheme, "https") != 0 &&
		                       g_ascii_strcasecmp(scheme, "udp") != 0)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "NotifyAddr must be an http(s):// or udp:// URL");
			return FALSE;
		}
		info->notify_addr = g_strdup(addr);
	} else if (g_strcmp0(key, "Groups") == 0) {
		g_auto(GStrv) strv = g_variant_dup_strv(value, NULL);
		for (guint i = 0; strv[i] != NULL; i++) {
			if (strv[i][0] == '\0') {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_INVALID_ARGS,
				            "Groups holds an empty GroupID");
				return FALSE;
			}
		}
		*groups = g_steal_pointer(&strv);
	}
	return TRUE;
}

/* checks the shape of the AddDevice dictionary and fills @info and @groups from it */
static gboolean
gw_dbus_manager_parse_device(GVariant *dict, GwInventoryDevice *info, GStrv *groups, GError **error)
{
	GwDbusManagerDevice device = {info, groups};

	if (!gw_dbus_parse_dict(dict,
	                        gw_dbus_manager_device_keys,
	                        G_N_ELEMENTS(gw_dbus_manager_device_keys),
	                        gw_dbus_manager_device_key,
	                        &device,
	                        error))
		return FALSE;
	if (info->device_id == NULL || info->device_id[0] == '\0') {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "DeviceID is required");
		return FALSE;
	}
	return TRUE;
}

static gboolean
gw_dbus_manager_handle_add_device(GwDbusGenManager *skeleton,
                                  GDBusMethodInvocation *invocation,
                                  GVariant *dict,
                                  gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	GwInventory *inventory = gw_gateway_get_inventory(self->gateway);
	g_auto(GwDbusManagerDeviceInfo) info = {0};
	g_auto(GStrv) groups = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *existing = NULL;
	g_autofree gchar *record_uri = NULL;
	g_autofree gchar *path = NULL;

	g_debug("AddDevice(%zu keys)", g_variant_n_children(dict));
	/* shape first, then who asks, then state */
	if (!gw_dbus_manager_parse_device(dict, &info, &groups, &error)) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (!gw_dbus_manager_authorize(self, invocation, GW_DBUS_ACTION_MANAGE_DEVICES))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	existing = gw_inventory_find(inventory, info.device_id);
	if (existing != NULL) {
		g_dbus_method_invocation_return_error(invocation,
		                                      GW_ERROR,
		                                      GW_ERROR_ALREADY_EXISTS,
		                                      "device %s exists already (%s)",
		                                      info.device_id,
		                                      existing);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	for (guint i = 0; groups != NULL && groups[i] != NULL; i++) {
		g_autofree gchar *group_uri =
		    gw_groups_find(gw_inventory_get_groups(inventory), groups[i]);
		if (group_uri == NULL) {
			g_dbus_method_invocation_return_error(
			    invocation, GW_ERROR, GW_ERROR_NOT_FOUND, "no group %s", groups[i]);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
	}
	if (info.auth_type == NULL)
		info.auth_type = g_strdup(gw_dm_auth_type_to_aauth_type(GW_DM_AUTH_TYPE_MD5));
	if (info.server_secret == NULL) {
		g_autoptr(GBytes) nonce = gw_dm_auth_new_nonce();
		if (nonce == NULL) {
			g_dbus_method_invocation_return_error(invocation,
			                                      GW_ERROR,
			                                      GW_ERROR_FAILED,
			                                      "no randomness for a ServerSecret");
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
		info.server_secret =
		    g_base64_encode(g_bytes_get_data(nonce, NULL), g_bytes_get_size(nonce));
	}
	/* provisioned by the gateway's owner: trusted; Detached until its first session */
	info.trusted = TRUE;

	record_uri = gw_inventory_provision(inventory, &info, &error);
	if (record_uri == NULL) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	for (guint i = 0; groups != NULL && groups[i] != NULL; i++) {
		if (!gw_groups_add_member(
		        gw_inventory_get_groups(inventory), groups[i], info.device_id, &error)) {
			g_autoptr(GError) error_remove = NULL;
			/* all or nothing */
			if (!gw_inventory_remove(inventory, info.device_id, &error_remove))
				g_warning("cannot undo AddDevice %s: %s",
				          info.device_id,
				          error_remove->message);
			gw_dbus_return_error(invocation, error);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
	}
	path = gw_dbus_inventory_export_device(self->inventory, record_uri);
	if (path == NULL) {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_INTERNAL, "%s cannot be exported", record_uri);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("AddDevice %s (%s) by %s",
	       info.device_id,
	       record_uri,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, g_variant_new("(o)", path));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_remove_device(GwDbusGenManager *skeleton,
                                     GDBusMethodInvocation *invocation,
                                     const gchar *device_path,
                                     gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	g_autofree gchar *record_uri = NULL;
	g_autofree gchar *id_uri = NULL;
	g_autofree gchar *device_id = NULL;
	g_autoptr(GError) error = NULL;

	g_debug("RemoveDevice(%s)", device_path);
	if (!gw_dbus_manager_authorize(self, invocation, GW_DBUS_ACTION_MANAGE_DEVICES))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	record_uri = gw_dbus_inventory_lookup_device(self->inventory, device_path);
	if (record_uri != NULL) {
		id_uri = g_strdup_printf("%s/DeviceID", record_uri);
		device_id = gw_dm_tree_dup_string(gw_gateway_get_tree(self->gateway), id_uri);
	}
	if (device_id == NULL) {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_NOT_FOUND, "no device at %s", device_path);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (!gw_inventory_remove(gw_gateway_get_inventory(self->gateway), device_id, &error)) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("RemoveDevice %s (%s) by %s",
	       device_id,
	       record_uri,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, NULL);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_fanout(GwDbusGenManager *skeleton,
                              GDBusMethodInvocation *invocation,
                              GVariant *spec,
                              gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	g_debug("Fanout(%zu keys)", g_variant_n_children(spec));
	gw_dbus_jobs_handle_fanout(self->jobs, invocation, spec);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_manager_handle_create_group(GwDbusGenManager *skeleton,
                                    GDBusMethodInvocation *invocation,
                                    const gchar *group_id,
                                    const gchar *description,
                                    gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	GwInventory *inventory = gw_gateway_get_inventory(self->gateway);
	g_autofree gchar *existing = NULL;
	g_autofree gchar *group_uri = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(GError) error = NULL;

	g_debug("CreateGroup(%s)", group_id);
	if (group_id[0] == '\0') {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_INVALID_ARGS, "the GroupID is empty");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (!gw_dbus_manager_authorize(self, invocation, GW_DBUS_ACTION_MANAGE_DEVICES))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	existing = gw_groups_find(gw_inventory_get_groups(inventory), group_id);
	if (existing != NULL) {
		g_dbus_method_invocation_return_error(invocation,
		                                      GW_ERROR,
		                                      GW_ERROR_ALREADY_EXISTS,
		                                      "group %s exists already (%s)",
		                                      group_id,
		                                      existing);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	group_uri = gw_groups_create(
	    gw_inventory_get_groups(inventory), group_id, description, NULL, &error);
	if (group_uri == NULL) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	path = gw_dbus_inventory_export_group(self->inventory, group_uri);
	if (path == NULL) {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_INTERNAL, "%s cannot be exported", group_uri);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("CreateGroup %s (%s) by %s",
	       group_id,
	       group_uri,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, g_variant_new("(o)", path));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
gw_dbus_manager_refresh_properties(GwDbusManager *self)
{
	GwDmTree *tree = gw_gateway_get_tree(self->gateway);
	g_autofree gchar *gw_id = gw_dm_tree_dup_string(tree, "./DevInfo/DevId");
	guint mode = gw_gwmo_get_default_mode(tree);

	if (g_strcmp0(gw_dbus_gen_manager_get_gw_id(self->skeleton), gw_id != NULL ? gw_id : "") !=
	    0)
		gw_dbus_gen_manager_set_gw_id(self->skeleton, gw_id != NULL ? gw_id : "");
	if (gw_dbus_gen_manager_get_default_mode(self->skeleton) != mode)
		gw_dbus_gen_manager_set_default_mode(self->skeleton, mode);
}

static void
gw_dbus_manager_tree_changed_cb(GwDmTree *tree,
                                const gchar *uri,
                                guint change,
                                const gchar *server_id,
                                gpointer user_data)
{
	GwDbusManager *self = GW_DBUS_MANAGER(user_data);
	if (g_strcmp0(uri, ".") == 0 || g_str_has_prefix(uri, "./DevInfo") ||
	    g_str_has_prefix(uri, GW_GWMO_CONFIG_MODE))
		gw_dbus_manager_refresh_properties(self);
}

/* ---- mDNS ---- */

static void
gw_dbus_manager_refresh_discovery(GwDbusManager *self)
{
	GwDiscovery *discovery = gw_gateway_get_discovery(self->gateway);
	const gchar *state = gw_discovery_state_to_dbus(
	    discovery != NULL ? gw_discovery_get_state(discovery) : GW_DISCOVERY_STATE_DISABLED);

	if (g_strcmp0(gw_dbus_gen_manager_get_discovery(self->skeleton), state) != 0)
		gw_dbus_gen_manager_set_discovery(self->skeleton, state);
}

static void
gw_dbus_manager_discovery_cb(GwDiscovery *discovery, gpointer user_data)
{
	gw_dbus_manager_refresh_discovery(GW_DBUS_MANAGER(user_data));
}

static void
gw_dbus_manager_dispose(GObject *object)
{
	GwDbusManager *self = GW_DBUS_MANAGER(object);
	if (self->discovery_id != 0) {
		g_signal_handler_disconnect(gw_gateway_get_discovery(self->gateway),
		                            self->discovery_id);
		self->discovery_id = 0;
	}
	if (self->tree_changed_id != 0) {
		g_signal_handler_disconnect(gw_gateway_get_tree(self->gateway),
		                            self->tree_changed_id);
		self->tree_changed_id = 0;
	}
	if (self->session_finished_id != 0) {
		g_signal_handler_disconnect(gw_gateway_get_northbound(self->gateway),
		                            self->session_finished_id);
		self->session_finished_id = 0;
	}
	if (self->alerts_changed_id != 0) {
		g_signal_handler_disconnect(
		    gw_northbound_get_alert_queue(gw_gateway_get_northbound(self->gateway)),
		    self->alerts_changed_id);
		self->alerts_changed_id = 0;
	}
	g_clear_object(&self->jobs);
	g_clear_object(&self->plugins);
	g_clear_object(&self->inventory);
	g_clear_object(&self->servers);
	g_clear_object(&self->images);
	if (self->skeleton != NULL) {
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->skeleton));
		g_clear_object(&self->skeleton);
	}
	g_clear_object(&self->object_manager);
	g_clear_object(&self->connection);
	if (self->authority != NULL) {
		/* pending polkit checks answer their calls and dispatch nothing more */
		g_object_run_dispose(G_OBJECT(self->authority));
		g_clear_object(&self->authority);
	}
	G_OBJECT_CLASS(gw_dbus_manager_parent_class)->dispose(object);
}

static void
gw_dbus_manager_class_init(GwDbusManagerClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_manager_dispose;
}

static void
gw_dbus_manager_init(GwDbusManager *self)
{
}

GwDbusManager *
gw_dbus_manager_new(GwGateway *gateway,
                    GDBusConnection *connection,
                    gboolean use_polkit,
                    GError **error)
{
	g_autoptr(GwDbusManager) self = g_object_new(GW_TYPE_DBUS_MANAGER, NULL);

	self->gateway = gateway;
	self->connection = g_object_ref(connection);
	self->authority = gw_dbus_authority_new(connection, use_polkit);
	self->skeleton = gw_dbus_gen_manager_skeleton_new();
	gw_dbus_gen_manager_set_version(self->skeleton, PACKAGE_VERSION);
	gw_dbus_gen_manager_set_tainted(self->skeleton, FALSE);
	gw_dbus_gen_manager_set_state_file(self->skeleton,
	                                   gw_dm_store_get_path(gw_gateway_get_store(gateway)));
	gw_dbus_manager_refresh_properties(self);

	g_signal_connect(
	    self->skeleton, "handle-get-node", G_CALLBACK(gw_dbus_manager_handle_get_node), self);
	g_signal_connect(
	    self->skeleton, "handle-set-node", G_CALLBACK(gw_dbus_manager_handle_set_node), self);
	g_signal_connect(self->skeleton,
	                 "handle-delete-node",
	                 G_CALLBACK(gw_dbus_manager_handle_delete_node),
	                 self);
	g_signal_connect(self->skeleton,
	                 "handle-list-children",
	                 G_CALLBACK(gw_dbus_manager_handle_list_children),
	                 self);
	g_signal_connect(self->skeleton,
	                 "handle-export-tree",
	                 G_CALLBACK(gw_dbus_manager_handle_export_tree),
	                 self);
	g_signal_connect(
	    self->skeleton, "handle-bootstrap", G_CALLBACK(gw_dbus_manager_handle_bootstrap), self);
	g_signal_connect(self->skeleton,
	                 "handle-start-session",
	                 G_CALLBACK(gw_dbus_manager_handle_start_session),
	                 self);
	g_signal_connect(self->skeleton,
	                 "handle-queue-alert",
	                 G_CALLBACK(gw_dbus_manager_handle_queue_alert),
	                 self);
	g_signal_connect(self->skeleton,
	                 "handle-add-device",
	                 G_CALLBACK(gw_dbus_manager_handle_add_device),
	                 self);
	g_signal_connect(self->skeleton,
	                 "handle-remove-device",
	                 G_CALLBACK(gw_dbus_manager_handle_remove_device),
	                 self);
	g_signal_connect(self->skeleton,
	                 "handle-create-group",
	                 G_CALLBACK(gw_dbus_manager_handle_create_group),
	                 self);
	g_signal_connect(
	    self->skeleton, "handle-fanout", G_CALLBACK(gw_dbus_manager_handle_fanout), self);
	self->session_finished_id =
	    g_signal_connect(gw_gateway_get_northbound(gateway),
	                     "session-finished",
	                     G_CALLBACK(gw_dbus_manager_session_finished_cb),
	                     self);
	self->alerts_changed_id =
	    g_signal_connect(gw_northbound_get_alert_queue(gw_gateway_get_northbound(gateway)),
	                     "changed",
	                     G_CALLBACK(gw_dbus_manager_alerts_changed_cb),
	                     self);
	gw_dbus_manager_refresh_northbound(self);
	if (gw_gateway_get_discovery(gateway) != NULL)
		self->discovery_id = g_signal_connect(gw_gateway_get_discovery(gateway),
		                                      "state-changed",
		                                      G_CALLBACK(gw_dbus_manager_discovery_cb),
		                                      self);
	gw_dbus_manager_refresh_discovery(self);
	self->tree_changed_id = g_signal_connect(gw_gateway_get_tree(gateway),
	                                         "changed",
	                                         G_CALLBACK(gw_dbus_manager_tree_changed_cb),
	                                         self);

	/* children (devices, groups, jobs …) are exported below the root by the object
	 * manager; the Manager interface itself sits on the root path, as in ModemManager */
	self->object_manager = gw_dbus_object_manager_new(connection, GW_DBUS_PATH, error);
	if (self->object_manager == NULL)
		return NULL;
	gw_dbus_object_manager_set_max_reply(
	    self->object_manager,
	    (gsize)gw_config_get_int(gw_gateway_get_config(gateway), "daemon", "max-dbus-reply"));
	self->inventory = gw_dbus_inventory_new(
	    gateway, self->object_manager, gw_dbus_manager_authorize_cb, self);
	self->servers =
	    gw_dbus_servers_new(gateway, self->object_manager, gw_dbus_manager_authorize_cb, self);
	self->images =
	    gw_dbus_images_new(gateway, self->object_manager, gw_dbus_manager_authorize_cb, self);
	g_signal_connect(self->skeleton,
	                 "handle-add-image",
	                 G_CALLBACK(gw_dbus_images_handle_add_image),
	                 self->images);
	self->jobs =
	    gw_dbus_jobs_new(gateway, self->object_manager, gw_dbus_manager_authorize_cb, self);
	if (gw_gateway_get_plugin_loader(gateway) != NULL)
		self->plugins = gw_dbus_plugins_new(gw_gateway_get_plugin_loader(gateway),
		                                    self->object_manager,
		                                    self->skeleton,
		                                    gw_dbus_manager_authorize_cb,
		                                    self);
	if (!g_dbus_interface_skeleton_export(
	        G_DBUS_INTERFACE_SKELETON(self->skeleton), connection, GW_DBUS_PATH, error))
		return NULL;
	return g_steal_pointer(&self);
}
