/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "gw-dm2-session.h"
#include "gw-dm2-uri.h"
#include "gw-error.h"

/* interior nodes a GET serialises below the addressed node (the tree is bounded by
 * DevDetail/URI/MaxDepth in practice; this keeps one Status bounded too) */
#define GW_DM2_GET_MAX_DEPTH 16

typedef struct {
	guint id;
	gchar *identity; /* GW_DM2_HEADER_ALERT_ID, nullable */
	GwDm2Alert *alert;
} GwDm2QueuedAlert;

static void
gw_dm2_queued_alert_free(GwDm2QueuedAlert *q)
{
	gw_dm2_alert_free(q->alert);
	g_free(q->identity);
	g_free(q);
}

struct _GwDm2Session {
	GObject parent_instance;

	GwDm2SessionConfig config;
	GwDmTree *tree;
	GwDm2SessionState state;
	GError *error;
	GPtrArray *queued_alerts; /* GwDm2QueuedAlert *, until the first Package #2 */
	gsize alert_id_len;       /* of the GW_DM2_HEADER_ALERT_ID value they make */
	gchar *alert_id_header;   /* Package #1's, made by start() */

	GwDm2Message *request; /* the Package #2 being run */
	guint cursor;          /* next command of @request */
	GwDm2Message *response;
	gboolean has_transfer;
	GwDm2Transfer transfer;
	gchar *transfer_url;
	gboolean transfer_done;
	guint transfer_status;
	GBytes *transfer_body;
	gchar *next_url;

	GwDm2SessionStats stats;
};

G_DEFINE_FINAL_TYPE(GwDm2Session, gw_dm2_session, G_TYPE_OBJECT)

enum {
	SIGNAL_ALERT_DELIVERED,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

void
gw_dm2_session_config_clear(GwDm2SessionConfig *cfg)
{
	g_clear_pointer(&cfg->server_id, g_free);
	g_clear_pointer(&cfg->dev_id, g_free);
}

static void
gw_dm2_session_clear_transfer(GwDm2Session *self)
{
	self->has_transfer = FALSE;
	self->transfer_done = FALSE;
	self->transfer_status = 0;
	g_clear_pointer(&self->transfer_url, g_free);
	g_clear_pointer(&self->transfer.body, g_bytes_unref);
	g_clear_pointer(&self->transfer_body, g_bytes_unref);
	memset(&self->transfer, 0, sizeof(self->transfer));
}

static void
gw_dm2_session_finalize(GObject *object)
{
	GwDm2Session *self = GW_DM2_SESSION(object);

	gw_dm2_session_clear_transfer(self);
	gw_dm2_session_config_clear(&self->config);
	g_clear_object(&self->tree);
	g_clear_error(&self->error);
	g_clear_pointer(&self->queued_alerts, g_ptr_array_unref);
	g_clear_pointer(&self->alert_id_header, g_free);
	g_clear_pointer(&self->request, gw_dm2_message_free);
	g_clear_pointer(&self->response, gw_dm2_message_free);
	g_clear_pointer(&self->next_url, g_free);
	G_OBJECT_CLASS(gw_dm2_session_parent_class)->finalize(object);
}

static void
gw_dm2_session_class_init(GwDm2SessionClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = gw_dm2_session_finalize;
	signals[SIGNAL_ALERT_DELIVERED] = g_signal_new("alert-delivered",
	                                               G_TYPE_FROM_CLASS(klass),
	                                               G_SIGNAL_RUN_LAST,
	                                               0,
	                                               NULL,
	                                               NULL,
	                                               NULL,
	                                               G_TYPE_NONE,
	                                               1,
	                                               G_TYPE_UINT);
}

static void
gw_dm2_session_init(GwDm2Session *self)
{
	self->queued_alerts =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_queued_alert_free);
}

GwDm2Session *
gw_dm2_session_new(const GwDm2SessionConfig *config, GwDmTree *tree)
{
	GwDm2Session *self;

	g_return_val_if_fail(config != NULL && config->server_id != NULL, NULL);
	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	self = g_object_new(GW_TYPE_DM2_SESSION, NULL);
	self->config.server_id = g_strdup(config->server_id);
	self->config.dev_id = g_strdup(config->dev_id);
	self->config.max_msg_size =
	    config->max_msg_size != 0 ? config->max_msg_size : GW_DM2_MAX_MESSAGE_SIZE;
	self->config.max_commands =
	    config->max_commands != 0 ? config->max_commands : GW_DM2_SESSION_DEFAULT_MAX_COMMANDS;
	self->config.max_packages =
	    config->max_packages != 0 ? config->max_packages : GW_DM2_SESSION_DEFAULT_MAX_PACKAGES;
	self->tree = g_object_ref(tree);
	return self;
}

GwDm2SessionState
gw_dm2_session_get_state(GwDm2Session *self)
{
	g_return_val_if_fail(GW_IS_DM2_SESSION(self), GW_DM2_SESSION_STATE_FAILED);
	return self->state;
}

const GError *
gw_dm2_session_get_error(GwDm2Session *self)
{
	g_return_val_if_fail(GW_IS_DM2_SESSION(self), NULL);
	return self->error;
}

const gchar *
gw_dm2_session_get_dev_id(GwDm2Session *self)
{
	g_return_val_if_fail(GW_IS_DM2_SESSION(self), NULL);
	return self->config.dev_id;
}

const gchar *
gw_dm2_session_get_next_url(GwDm2Session *self)
{
	g_return_val_if_fail(GW_IS_DM2_SESSION(self), NULL);
	return self->next_url;
}

void
gw_dm2_session_get_stats(GwDm2Session *self, GwDm2SessionStats *stats)
{
	g_return_if_fail(GW_IS_DM2_SESSION(self) && stats != NULL);
	*stats = self->stats;
}

void
gw_dm2_session_queue_alert(GwDm2Session *self, guint id, GwDm2Alert *alert)
{
	g_return_if_fail(GW_IS_DM2_SESSION(self) && alert != NULL);
	gw_dm2_session_queue_identified_alert(self, id, NULL, alert);
}

gboolean
gw_dm2_session_queue_identified_alert(GwDm2Session *self,
                                      guint id,
                                      const gchar *identity,
                                      GwDm2Alert *alert)
{
	GwDm2QueuedAlert *q;
	gsize entry = 0;

	g_return_val_if_fail(GW_IS_DM2_SESSION(self) && alert != NULL, FALSE);
	g_return_val_if_fail(self->state == GW_DM2_SESSION_STATE_NEW, FALSE);
	if (identity != NULL && !gw_dm2_alert_id_is_valid(identity)) {
		/* a hand-edited queue file: the alert still goes, at least once */
		g_warning("alert %u: identity unfit for " GW_DM2_HEADER_ALERT_ID ", sent without",
		          id);
		identity = NULL;
	}
	if (identity != NULL) {
		/* ", " <index> "=" <identity>; index 0 is the session alert */
		g_autofree gchar *index = g_strdup_printf("%u", self->queued_alerts->len + 1);
		entry = 2 + strlen(index) + 1 + strlen(identity);
		if (self->queued_alerts->len > 0 &&
		    self->alert_id_len + entry > GW_DM2_ALERT_ID_HEADER_MAX) {
			gw_dm2_alert_free(alert);
			return FALSE;
		}
	}
	q = g_new0(GwDm2QueuedAlert, 1);
	q->id = id;
	q->identity = g_strdup(identity);
	q->alert = alert;
	g_ptr_array_add(self->queued_alerts, q);
	self->alert_id_len += entry;
	return TRUE;
}

const gchar *
gw_dm2_session_get_alert_id_header(GwDm2Session *self)
{
	g_return_val_if_fail(GW_IS_DM2_SESSION(self), NULL);
	return self->alert_id_header;
}

/* FAILED with @error (copied into *@out) */
static void
gw_dm2_session_fail(GwDm2Session *self, GError *error, GError **out)
{
	self->state = GW_DM2_SESSION_STATE_FAILED;
	gw_dm2_session_clear_transfer(self);
	g_clear_pointer(&self->request, gw_dm2_message_free);
	g_clear_pointer(&self->response, gw_dm2_message_free);
	g_clear_error(&self->error);
	self->error = g_error_copy(error);
	g_propagate_error(out, error);
}

GBytes *
gw_dm2_session_start(GwDm2Session *self,
                     gboolean server_initiated,
                     guint16 notification_id,
                     GError **error)
{
	g_autoptr(GwDm2Message) msg = NULL;
	g_autoptr(GPtrArray) mos = NULL;
	g_autofree const gchar **ids = NULL;
	GError *local_error = NULL;
	GBytes *bytes;

	g_return_val_if_fail(GW_IS_DM2_SESSION(self), NULL);
	if (self->state != GW_DM2_SESSION_STATE_NEW) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_WRONG_STATE, "DM 2.0 session started already");
		return NULL;
	}
	msg = gw_dm2_message_new(GW_DM2_PACKAGE_INITIATION);
	mos = gw_dm2_tree_list_mos(self->tree);
	msg->mos = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_mo_free);
	for (guint i = 0; i < mos->len; i++)
		gw_dm2_message_add_mo(msg, g_steal_pointer(&g_ptr_array_index(mos, i)));
	gw_dm2_message_add_alert(msg,
	                         server_initiated
	                             ? gw_dm2_alert_new_server_initiated(notification_id)
	                             : gw_dm2_alert_new(GW_DM2_ALERT_CLIENT_INITIATED));
	ids = g_new0(const gchar *, self->queued_alerts->len + 1);
	for (guint i = 0; i < self->queued_alerts->len; i++) {
		GwDm2QueuedAlert *q = g_ptr_array_index(self->queued_alerts, i);
		gw_dm2_message_add_alert(msg, gw_dm2_alert_copy(q->alert));
		ids[i + 1] = q->identity; /* the position in "Alert" */
	}
	g_free(self->alert_id_header);
	self->alert_id_header = gw_dm2_alert_ids_to_header(ids, self->queued_alerts->len + 1);
	bytes = gw_dm2_message_to_json(msg, &local_error);
	if (bytes == NULL) {
		gw_dm2_session_fail(self, local_error, error);
		return NULL;
	}
	self->state = GW_DM2_SESSION_STATE_ACTIVE;
	self->stats.packages_out++;
	self->stats.bytes_out += g_bytes_get_size(bytes);
	return bytes;
}

gboolean
gw_dm2_session_receive(GwDm2Session *self,
                       GBytes *package,
                       const gchar *content_type,
                       GError **error)
{
	g_autoptr(GwDm2Message) msg = NULL;
	GError *local_error = NULL;
	gsize len = 0;
	const guint8 *data;

	g_return_val_if_fail(GW_IS_DM2_SESSION(self) && package != NULL, FALSE);
	if (self->state != GW_DM2_SESSION_STATE_ACTIVE || self->request != NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_WRONG_STATE,
		            "DM 2.0 session is not waiting for a Package #2");
		return FALSE;
	}
	data = g_bytes_get_data(package, &len);
	self->stats.bytes_in += len;
	if (self->stats.packages_in >= self->config.max_packages) {
		gw_dm2_session_fail(
		    self,
		    g_error_new(GW_ERROR,
		                GW_ERROR_PROTOCOL,
		                "DM 2.0 server sent more than %u packages in one session",
		                self->config.max_packages),
		    error);
		return FALSE;
	}
	self->stats.packages_in++;
	if (content_type != NULL &&
	    gw_dm2_package_from_content_type(content_type) != GW_DM2_PACKAGE_REQUEST) {
		gw_dm2_session_fail(
		    self,
		    g_error_new(GW_ERROR,
		                GW_ERROR_PROTOCOL,
		                "DM 2.0 server answered with content type \"%s\", not %s",
		                content_type,
		                GW_DM2_CONTENT_TYPE_REQUEST),
		    error);
		return FALSE;
	}
	msg = gw_dm2_message_parse(
	    GW_DM2_PACKAGE_REQUEST, data, len, self->config.max_msg_size, &local_error);
	if (msg == NULL) {
		g_prefix_error(&local_error, "DM 2.0 Package #2: ");
		gw_dm2_session_fail(self, local_error, error);
		return FALSE;
	}
	if (msg->commands->len > self->config.max_commands) {
		gw_dm2_session_fail(self,
		                    g_error_new(GW_ERROR,
		                                GW_ERROR_PROTOCOL,
		                                "DM 2.0 Package #2 holds %u commands, more than %u",
		                                msg->commands->len,
		                                self->config.max_commands),
		                    error);
		return FALSE;
	}
	/* the server answered Package #1: its Generic Alerts arrived */
	if (self->stats.packages_in == 1) {
		g_autoptr(GPtrArray) delivered = g_steal_pointer(&self->queued_alerts);

		self->queued_alerts =
		    g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_queued_alert_free);
		for (guint i = 0; i < delivered->len; i++) {
			GwDm2QueuedAlert *q = g_ptr_array_index(delivered, i);
			g_signal_emit(self, signals[SIGNAL_ALERT_DELIVERED], 0, q->id);
		}
	}
	self->request = g_steal_pointer(&msg);
	self->cursor = 0;
	self->response = gw_dm2_message_new(GW_DM2_PACKAGE_RESPONSE);
	return TRUE;
}

/* ---- command helpers ---- */

/* the tree URIs of @client_uri, or a status */
static GPtrArray *
gw_dm2_session_resolve(GwDm2Session *self, const gchar *client_uri, guint *status)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2ClientUri) uri = gw_dm2_client_uri_parse(client_uri, &error);
	GPtrArray *uris;

	if (uri == NULL) {
		g_debug("DM 2.0: ClientURI \"%s\": %s", client_uri, error->message);
		*status = 400;
		return NULL;
	}
	uris = gw_dm2_client_uri_resolve(uri, self->tree, &error);
	if (uris == NULL) {
		g_debug("DM 2.0: ClientURI \"%s\": %s", client_uri, error->message);
		*status = g_error_matches(error, GW_ERROR, GW_ERROR_NOT_FOUND) ? 404 : 400;
	}
	return uris;
}

/* the value of @tree_uri for a GET, as the server may see it; NULL with a status */
static JsonNode *
gw_dm2_session_get_node(GwDm2Session *self, const gchar *tree_uri, guint depth, guint *status)
{
	g_autoptr(GPtrArray) results = NULL;
	GwDmNode *node;
	guint sc;

	sc = gw_dm_tree_get(self->tree, self->config.server_id, tree_uri, &results);
	if (!gw_dm_status_is_success(sc)) {
		*status = sc;
		return NULL;
	}
	node = gw_dm_tree_lookup(self->tree, tree_uri);
	if (node != NULL && gw_dm_node_get_format(node) == GW_DM_FORMAT_NODE) {
		g_auto(GStrv) children = gw_dm_tree_list_children(self->tree, tree_uri);
		g_autoptr(JsonObject) obj = json_object_new();
		JsonNode *ret;

		for (guint i = 0; children != NULL && children[i] != NULL; i++) {
			g_autofree gchar *child = g_strconcat(tree_uri, "/", children[i], NULL);
			guint child_status = 0;
			JsonNode *value;

			if (depth >= GW_DM2_GET_MAX_DEPTH)
				break;
			value = gw_dm2_session_get_node(self, child, depth + 1, &child_status);
			/* children the server may not Get are left out, as a TNDS export does */
			if (value != NULL)
				json_object_set_member(obj, children[i], value);
		}
		ret = json_node_new(JSON_NODE_OBJECT);
		json_node_set_object(ret, obj);
		return ret;
	}
	if (results == NULL || results->len == 0) {
		return json_node_new(JSON_NODE_NULL);
	} else {
		g_autofree gchar *value = gw_dm_item_dup_string(g_ptr_array_index(results, 0));
		JsonNode *ret = json_node_new(JSON_NODE_VALUE);

		if (value != NULL && g_utf8_validate(value, -1, NULL)) {
			json_node_set_string(ret, value);
		} else {
			/* binary: base64 */
			GwDmItem *item = g_ptr_array_index(results, 0);
			gsize len = 0;
			const guint8 *data =
			    item->data != NULL ? g_bytes_get_data(item->data, &len) : NULL;
			g_autofree gchar *b64 = g_base64_encode(data, len);
			json_node_set_string(ret, b64);
		}
		return ret;
	}
}

/* GET's Data for @client_uri into @data (an array); a failure status or 200 */
static guint
gw_dm2_session_get_data(GwDm2Session *self, const gchar *client_uri, JsonArray *data)
{
	g_autoptr(GPtrArray) uris = NULL;
	guint status = 200;

	uris = gw_dm2_session_resolve(self, client_uri, &status);
	if (uris == NULL)
		return status;
	for (guint i = 0; i < uris->len; i++) {
		const gchar *tree_uri = g_ptr_array_index(uris, i);
		g_autoptr(GError) error = NULL;
		g_autofree gchar *cu =
		    gw_dm2_client_uri_from_tree_uri(self->tree, tree_uri, &error);
		g_autoptr(JsonObject) entry = json_object_new();
		g_autoptr(JsonObject) mo_data = json_object_new();
		const gchar *name = strrchr(tree_uri, '/');
		JsonNode *value = gw_dm2_session_get_node(self, tree_uri, 0, &status);

		if (value == NULL)
			return status;
		json_object_set_member(mo_data, name != NULL ? name + 1 : tree_uri, value);
		json_object_set_string_member(entry, "ClientURI", cu != NULL ? cu : client_uri);
		json_object_set_object_member(entry, "MOData", g_steal_pointer(&mo_data));
		json_array_add_object_element(data, g_steal_pointer(&entry));
	}
	return 200;
}

static GwDm2Status *
gw_dm2_session_cmd_get(GwDm2Session *self, const GwDm2Command *cmd)
{
	g_autoptr(JsonArray) data = json_array_new();
	g_autoptr(JsonNode) node = NULL;
	GwDm2Status *st;
	guint status = gw_dm2_session_get_data(self, gw_dm2_command_get_client_uri(cmd, 0), data);

	if (status != 200)
		return gw_dm2_status_new(status);
	st = gw_dm2_status_new(200);
	node = json_node_new(JSON_NODE_ARRAY);
	json_node_set_array(node, data);
	gw_dm2_status_set_data(st, node);
	return st;
}

static guint
gw_dm2_session_cmd_delete(GwDm2Session *self, const GwDm2Command *cmd)
{
	g_autoptr(GPtrArray) uris = NULL;
	guint status = 200;

	uris = gw_dm2_session_resolve(self, gw_dm2_command_get_client_uri(cmd, 0), &status);
	if (uris == NULL)
		return status;
	/* last first: a wildcard may name a node and nodes below it */
	for (guint i = uris->len; i > 0; i--) {
		const gchar *tree_uri = g_ptr_array_index(uris, i - 1);
		guint sc;

		if (gw_dm_tree_lookup(self->tree, tree_uri) == NULL)
			continue;
		sc = gw_dm_tree_delete(self->tree, self->config.server_id, tree_uri);
		if (!gw_dm_status_is_success(sc))
			return sc;
	}
	return 200;
}

static guint
gw_dm2_session_cmd_exec(GwDm2Session *self, const GwDm2Command *cmd)
{
	g_autoptr(GPtrArray) uris = NULL;
	guint status = 200;

	uris = gw_dm2_session_resolve(self, gw_dm2_command_get_client_uri(cmd, 0), &status);
	if (uris == NULL)
		return status;
	for (guint i = 0; i < uris->len; i++) {
		/* an asynchronous EXEC's ServerURI is its correlator ([R]): a handler that reports
		 * later itself (a Fanout Start) addresses its Generic Alert there */
		guint sc = gw_dm_tree_exec(self->tree,
		                           self->config.server_id,
		                           g_ptr_array_index(uris, i),
		                           NULL,
		                           gw_dm2_command_is_async(cmd) ? cmd->server_uri : NULL);
		if (!gw_dm_status_is_success(sc))
			return sc;
		status = sc;
	}
	return status;
}

/*
 * The tree URI an HGET writes to: the existing leaf, or a new leaf below the deepest existing
 * node of its path; the interior nodes missing in between are made by the Add, as a DM 1.x Add
 * makes them ([R]: how a DM 2.0 Server creates an instance below an MO, e.g. a GwMO Fanout job
 * "MOID/Fanout/j1/Command", is not in the public text). Only plain names below the instance
 * root ("MOID/MIID/") are created: no wildcard, x-name or query.
 */
static gchar *
gw_dm2_session_hget_target(GwDm2Session *self, const gchar *client_uri, guint *status)
{
	g_autoptr(GPtrArray) uris = NULL;
	g_autoptr(GwDm2ClientUri) parsed = NULL;
	g_autoptr(GPtrArray) names = NULL;
	gsize end = strlen(client_uri);

	uris = gw_dm2_session_resolve(self, client_uri, status);
	if (uris != NULL) {
		if (uris->len != 1) {
			*status = 400; /* one leaf only */
			return NULL;
		}
		return g_strdup(g_ptr_array_index(uris, 0));
	}
	if (*status != 404 || strchr(client_uri, '?') != NULL)
		return NULL;
	parsed = gw_dm2_client_uri_parse(client_uri, NULL);
	if (parsed == NULL || parsed->instance.kind != GW_DM2_SEGMENT_NAME)
		return NULL;
	names = g_ptr_array_new_with_free_func(g_free);
	/* from the leaf up, at most to the instance root */
	for (guint i = 0; i < parsed->path->len; i++) {
		const gchar *slash = g_strrstr_len(client_uri, (gssize)end, "/");
		g_autofree gchar *seg = NULL;
		g_autofree gchar *name = NULL;
		g_autofree gchar *parent = NULL;
		g_autoptr(GPtrArray) parent_uris = NULL;
		guint parent_status = 404;

		if (slash == NULL)
			return NULL;
		seg = g_strndup(slash + 1, client_uri + end - (slash + 1));
		if (*seg == '\0' || strpbrk(seg, "*()") != NULL)
			return NULL;
		name = g_uri_unescape_string(seg, NULL);
		if (name == NULL || *name == '\0' || strchr(name, '/') != NULL) {
			*status = 400;
			return NULL;
		}
		g_ptr_array_insert(names, 0, g_steal_pointer(&name));
		/* keep the "/": "MOID/MIID/" is the instance root */
		parent = g_strndup(client_uri, slash + 1 - client_uri);
		parent_uris = gw_dm2_session_resolve(self, parent, &parent_status);
		if (parent_uris != NULL) {
			g_autoptr(GString) target = NULL;

			if (parent_uris->len != 1) {
				*status = 400;
				return NULL;
			}
			target = g_string_new(g_ptr_array_index(parent_uris, 0));
			for (guint k = 0; k < names->len; k++)
				g_string_append_printf(
				    target, "/%s", (const gchar *)g_ptr_array_index(names, k));
			return g_string_free(g_steal_pointer(&target), FALSE);
		}
		if (parent_status != 404) {
			*status = parent_status;
			return NULL;
		}
		end = (gsize)(slash - client_uri);
	}
	return NULL;
}

static GwDm2Status *
gw_dm2_session_hget_done(GwDm2Session *self, const GwDm2Command *cmd)
{
	const gchar *client_uri = gw_dm2_command_get_client_uri(cmd, 0);
	g_autofree gchar *target = NULL;
	GwDm2Status *st;
	GwDmFormat format;
	gsize len = 0;
	const gchar *body;
	guint status = 200;
	guint sc;

	if (self->transfer_status < 200 || self->transfer_status > 299)
		return gw_dm2_status_new(self->transfer_status != 0 ? self->transfer_status : 502);
	target = gw_dm2_session_hget_target(self, client_uri, &status);
	if (target == NULL)
		return gw_dm2_status_new(status);
	body = self->transfer_body != NULL ? g_bytes_get_data(self->transfer_body, &len) : NULL;
	format = (body == NULL || g_utf8_validate(body, (gssize)len, NULL)) ? GW_DM_FORMAT_CHR
	                                                                    : GW_DM_FORMAT_BIN;
	if (gw_dm_tree_lookup(self->tree, target) != NULL)
		sc = gw_dm_tree_replace(self->tree,
		                        self->config.server_id,
		                        target,
		                        GW_DM_FORMAT_INVALID,
		                        NULL,
		                        self->transfer_body);
	else
		sc = gw_dm_tree_add(
		    self->tree, self->config.server_id, target, format, NULL, self->transfer_body);
	if (!gw_dm_status_is_success(sc))
		return gw_dm2_status_new(sc);
	st = gw_dm2_status_new(200);
	gw_dm2_status_add_uri(st, client_uri);
	return st;
}

/* HPUT/HPOST: the body, or a failure status */
static GBytes *
gw_dm2_session_hput_body(GwDm2Session *self, const GwDm2Command *cmd, guint *status)
{
	g_autoptr(JsonArray) data = json_array_new();
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
	gchar *text;
	gsize len = 0;

	for (guint i = 0; i < cmd->client_uris->len; i++) {
		*status =
		    gw_dm2_session_get_data(self, gw_dm2_command_get_client_uri(cmd, i), data);
		if (*status != 200)
			return NULL;
	}
	json_node_set_array(node, data);
	text = json_to_string(node, FALSE);
	len = strlen(text);
	return g_bytes_new_take(text, len);
}

static void
gw_dm2_session_request_transfer(GwDm2Session *self,
                                GwDm2TransferMethod method,
                                const gchar *url,
                                GBytes *body)
{
	gw_dm2_session_clear_transfer(self);
	self->has_transfer = TRUE;
	self->transfer_url = g_strdup(url);
	self->transfer.method = method;
	self->transfer.url = self->transfer_url;
	self->transfer.body = body;
	self->transfer.content_type = body != NULL ? GW_DM2_CONTENT_TYPE_MO_DATA : NULL;
	self->stats.transfers++;
}

const GwDm2Transfer *
gw_dm2_session_get_transfer(GwDm2Session *self)
{
	g_return_val_if_fail(GW_IS_DM2_SESSION(self), NULL);
	return self->has_transfer && !self->transfer_done ? &self->transfer : NULL;
}

void
gw_dm2_session_complete_transfer(GwDm2Session *self, guint http_status, GBytes *body)
{
	g_return_if_fail(GW_IS_DM2_SESSION(self));
	g_return_if_fail(self->has_transfer && !self->transfer_done);
	self->transfer_done = TRUE;
	self->transfer_status = http_status;
	self->transfer_body = body != NULL ? g_bytes_ref(body) : NULL;
}

/* runs @cmd; NULL when it waits for a transfer */
static GwDm2Status *
gw_dm2_session_run_command(GwDm2Session *self, const GwDm2Command *cmd)
{
	guint status = 200;

	switch (cmd->type) {
	case GW_DM2_CMD_GET:
		return gw_dm2_session_cmd_get(self, cmd);
	case GW_DM2_CMD_DELETE:
		return gw_dm2_status_new(gw_dm2_session_cmd_delete(self, cmd));
	case GW_DM2_CMD_EXEC:
		status = gw_dm2_session_cmd_exec(self, cmd);
		if (gw_dm2_command_is_async(cmd)) {
			g_autoptr(JsonObject) obj = json_object_new();
			g_autoptr(JsonNode) data = json_node_new(JSON_NODE_OBJECT);
			GwDm2Alert *alert = gw_dm2_alert_new(GW_DM2_ALERT_EXEC_RESULT);

			alert->source_uri = g_strdup(gw_dm2_command_get_client_uri(cmd, 0));
			alert->target_uri = g_strdup(cmd->server_uri);
			json_object_set_int_member(obj, "sc", status);
			json_node_set_object(data, obj);
			gw_dm2_alert_set_data(alert, data);
			gw_dm2_message_add_alert(self->response, alert);
			return gw_dm2_status_new(202);
		}
		return gw_dm2_status_new(status);
	case GW_DM2_CMD_HGET:
		if (cmd->client_uris->len == 0)
			return gw_dm2_status_new(501);
		if (!self->has_transfer) {
			gw_dm2_session_request_transfer(
			    self, GW_DM2_TRANSFER_GET, cmd->server_uri, NULL);
			return NULL;
		}
		return gw_dm2_session_hget_done(self, cmd);
	case GW_DM2_CMD_HPUT:
	case GW_DM2_CMD_HPOST:
		if (!self->has_transfer) {
			GBytes *body = gw_dm2_session_hput_body(self, cmd, &status);

			if (body == NULL)
				return gw_dm2_status_new(status);
			gw_dm2_session_request_transfer(self,
			                                cmd->type == GW_DM2_CMD_HPUT
			                                    ? GW_DM2_TRANSFER_PUT
			                                    : GW_DM2_TRANSFER_POST,
			                                cmd->server_uri,
			                                body);
			return NULL;
		}
		status = self->transfer_status;
		return gw_dm2_status_new(status == 0                       ? 502
		                         : (status >= 200 && status < 300) ? 200
		                                                           : status);
	case GW_DM2_CMD_CONT:
		g_free(self->next_url);
		self->next_url = g_strdup(cmd->server_uri);
		return gw_dm2_status_new(200);
	case GW_DM2_CMD_SHOW:
	case GW_DM2_CMD_DEFAULT:
	case GW_DM2_CMD_SUB:
	case GW_DM2_CMD_UNSUB:
	case GW_DM2_CMD_END:
	default:
		g_debug("DM 2.0: %s not supported by the gateway: 501",
		        gw_dm2_cmd_type_to_string(cmd->type));
		return gw_dm2_status_new(501);
	}
}

GBytes *
gw_dm2_session_run(GwDm2Session *self, GError **error)
{
	GError *local_error = NULL;
	GBytes *bytes;

	g_return_val_if_fail(GW_IS_DM2_SESSION(self), NULL);
	if (self->state != GW_DM2_SESSION_STATE_ACTIVE || self->request == NULL) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_WRONG_STATE, "DM 2.0 session has no package to run");
		return NULL;
	}
	if (self->has_transfer && !self->transfer_done) {
		g_set_error(error, GW_ERROR, GW_ERROR_WRONG_STATE, "DM 2.0 transfer still pending");
		return NULL;
	}
	while (self->cursor < self->request->commands->len) {
		const GwDm2Command *cmd = g_ptr_array_index(self->request->commands, self->cursor);
		GwDm2Status *st;

		if (cmd->type == GW_DM2_CMD_END) {
			self->state = GW_DM2_SESSION_STATE_FINISHED;
			g_clear_pointer(&self->request, gw_dm2_message_free);
			g_clear_pointer(&self->response, gw_dm2_message_free);
			return NULL;
		}
		st = gw_dm2_session_run_command(self, cmd);
		if (st == NULL)
			return NULL; /* a transfer to do */
		gw_dm2_session_clear_transfer(self);
		gw_dm2_message_add_status(self->response, st);
		self->stats.commands_executed++;
		self->cursor++;
	}
	bytes = gw_dm2_message_to_json(self->response, &local_error);
	g_clear_pointer(&self->request, gw_dm2_message_free);
	g_clear_pointer(&self->response, gw_dm2_message_free);
	if (bytes == NULL) {
		gw_dm2_session_fail(self, local_error, error);
		return NULL;
	}
	self->stats.packages_out++;
	self->stats.bytes_out += g_bytes_get_size(bytes);
	return bytes;
}
