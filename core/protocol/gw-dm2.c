/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OMA DM 2.0 JSON codec: json-glib parses, a GString writer generates (the generator is a
 * tenth of the code json-glib's JsonGenerator needs a node tree for, and about twice as fast).
 */

#define G_LOG_DOMAIN "GwDm2"

#include "config.h"

#include <math.h>
#include <string.h>

#include "gw-dm2.h"

/* ---- names ---- */

static const gchar *const gw_dm2_cmd_names[] = {
    [GW_DM2_CMD_HGET] = "HGET",
    [GW_DM2_CMD_HPUT] = "HPUT",
    [GW_DM2_CMD_HPOST] = "HPOST",
    [GW_DM2_CMD_DELETE] = "DELETE",
    [GW_DM2_CMD_EXEC] = "EXEC",
    [GW_DM2_CMD_GET] = "GET",
    [GW_DM2_CMD_SHOW] = "SHOW",
    [GW_DM2_CMD_CONT] = "CONT",
    [GW_DM2_CMD_END] = "END",
    [GW_DM2_CMD_DEFAULT] = "DEFAULT",
    [GW_DM2_CMD_SUB] = "SUB",
    [GW_DM2_CMD_UNSUB] = "UNSUB",
};

/*
 * What each command carries (OMA-DM.md §1.3; argument order in gw-dm2.h): a ServerURI
 * (0 none, 1 optional, 2 required), ClientURIs (min..max), a MOID (0 none, 2 required), and a
 * description of the arguments for error messages.
 */
typedef struct {
	guint8 server;
	guint client_min;
	guint client_max;
	guint8 moid;
	const gchar *usage;
} GwDm2CmdShape;

static const GwDm2CmdShape gw_dm2_cmd_shapes[] = {
    [GW_DM2_CMD_HGET] = {2, 0, 1, 0, "a ServerURI and at most one ClientURI"},
    [GW_DM2_CMD_HPUT] = {2, 1, G_MAXUINT, 0, "a ServerURI and at least one ClientURI"},
    [GW_DM2_CMD_HPOST] = {2, 1, G_MAXUINT, 0, "a ServerURI and at least one ClientURI"},
    [GW_DM2_CMD_DELETE] = {0, 1, 1, 0, "one ClientURI"},
    [GW_DM2_CMD_EXEC] = {1, 1, 1, 0, "a ClientURI and an optional ServerURI"},
    [GW_DM2_CMD_GET] = {0, 1, 1, 0, "one ClientURI"},
    [GW_DM2_CMD_SHOW] = {2, 0, 0, 0, "one ServerURI"},
    [GW_DM2_CMD_CONT] = {2, 0, 0, 0, "one ServerURI"},
    [GW_DM2_CMD_END] = {0, 0, 0, 0, "no argument"},
    [GW_DM2_CMD_DEFAULT] = {2, 0, 0, 2, "a MOID and a ServerURI"},
    [GW_DM2_CMD_SUB] = {2, 1, 1, 0, "a ClientURI and a ServerURI"},
    [GW_DM2_CMD_UNSUB] = {0, 1, 1, 0, "one ClientURI"},
};

static const gchar *const gw_dm2_marks[] =
    {"fatal", "critical", "minor", "warning", "informational", "harmless", "indeterminate"};

const gchar *
gw_dm2_cmd_type_to_string(GwDm2CmdType type)
{
	g_return_val_if_fail((guint)type < G_N_ELEMENTS(gw_dm2_cmd_names), NULL);
	return gw_dm2_cmd_names[type];
}

gboolean
gw_dm2_cmd_type_from_string(const gchar *name, GwDm2CmdType *type)
{
	if (name == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(gw_dm2_cmd_names); i++) {
		if (strcmp(gw_dm2_cmd_names[i], name) == 0) {
			if (type != NULL)
				*type = (GwDm2CmdType)i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
gw_dm2_mark_is_valid(const gchar *mark)
{
	if (mark == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(gw_dm2_marks); i++) {
		if (strcmp(gw_dm2_marks[i], mark) == 0)
			return TRUE;
	}
	return FALSE;
}

const gchar *
gw_dm2_package_to_content_type(GwDm2Package package)
{
	switch (package) {
	case GW_DM2_PACKAGE_INITIATION:
		return GW_DM2_CONTENT_TYPE_INITIATION;
	case GW_DM2_PACKAGE_REQUEST:
		return GW_DM2_CONTENT_TYPE_REQUEST;
	case GW_DM2_PACKAGE_RESPONSE:
		return GW_DM2_CONTENT_TYPE_RESPONSE;
	default:
		g_return_val_if_reached(NULL);
	}
}

GwDm2Package
gw_dm2_package_from_content_type(const gchar *content_type)
{
	static const GwDm2Package packages[] = {
	    GW_DM2_PACKAGE_INITIATION, GW_DM2_PACKAGE_REQUEST, GW_DM2_PACKAGE_RESPONSE};
	gsize len;

	if (content_type == NULL)
		return 0;
	len = strcspn(content_type, ";");
	while (len > 0 && g_ascii_isspace(content_type[len - 1]))
		len--;
	for (guint i = 0; i < G_N_ELEMENTS(packages); i++) {
		const gchar *mime = gw_dm2_package_to_content_type(packages[i]);
		if (strlen(mime) == len && g_ascii_strncasecmp(mime, content_type, len) == 0)
			return packages[i];
	}
	return 0;
}

/* ---- helpers ---- */

static GPtrArray *
gw_dm2_strv_copy(const GPtrArray *src)
{
	GPtrArray *dst;

	if (src == NULL)
		return NULL;
	dst = g_ptr_array_new_full(src->len, g_free);
	for (guint i = 0; i < src->len; i++)
		g_ptr_array_add(dst, g_strdup(g_ptr_array_index(src, i)));
	return dst;
}

static gboolean
gw_dm2_strv_equal(const GPtrArray *a, const GPtrArray *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->len != b->len)
		return FALSE;
	for (guint i = 0; i < a->len; i++) {
		if (g_strcmp0(g_ptr_array_index(a, i), g_ptr_array_index(b, i)) != 0)
			return FALSE;
	}
	return TRUE;
}

static gboolean
gw_dm2_node_equal(JsonNode *a, JsonNode *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return json_node_equal(a, b);
}

/* ---- commands ---- */

GwDm2Command *
gw_dm2_command_new(GwDm2CmdType type, const gchar *server_uri, const gchar *client_uri)
{
	GwDm2Command *cmd = g_new0(GwDm2Command, 1);

	cmd->type = type;
	cmd->server_uri = g_strdup(server_uri);
	cmd->client_uris = g_ptr_array_new_with_free_func(g_free);
	if (client_uri != NULL)
		g_ptr_array_add(cmd->client_uris, g_strdup(client_uri));
	return cmd;
}

void
gw_dm2_command_add_client_uri(GwDm2Command *cmd, const gchar *client_uri)
{
	g_return_if_fail(cmd != NULL);
	g_return_if_fail(client_uri != NULL);
	g_ptr_array_add(cmd->client_uris, g_strdup(client_uri));
}

const gchar *
gw_dm2_command_get_client_uri(const GwDm2Command *cmd, guint idx)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	return idx < cmd->client_uris->len ? g_ptr_array_index(cmd->client_uris, idx) : NULL;
}

gboolean
gw_dm2_command_is_async(const GwDm2Command *cmd)
{
	g_return_val_if_fail(cmd != NULL, FALSE);
	return cmd->type == GW_DM2_CMD_EXEC && cmd->server_uri != NULL;
}

GwDm2Command *
gw_dm2_command_copy(const GwDm2Command *cmd)
{
	GwDm2Command *copy;

	g_return_val_if_fail(cmd != NULL, NULL);
	copy = g_new0(GwDm2Command, 1);
	copy->type = cmd->type;
	copy->server_uri = g_strdup(cmd->server_uri);
	copy->client_uris = gw_dm2_strv_copy(cmd->client_uris);
	copy->moid = g_strdup(cmd->moid);
	return copy;
}

void
gw_dm2_command_free(GwDm2Command *cmd)
{
	if (cmd == NULL)
		return;
	g_free(cmd->server_uri);
	if (cmd->client_uris != NULL)
		g_ptr_array_unref(cmd->client_uris);
	g_free(cmd->moid);
	g_free(cmd);
}

gboolean
gw_dm2_command_equal(const GwDm2Command *a, const GwDm2Command *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->type == b->type && g_strcmp0(a->server_uri, b->server_uri) == 0 &&
	       g_strcmp0(a->moid, b->moid) == 0 &&
	       gw_dm2_strv_equal(a->client_uris, b->client_uris);
}

/* ---- alerts ---- */

GwDm2Alert *
gw_dm2_alert_new(const gchar *alert_type)
{
	GwDm2Alert *alert;

	g_return_val_if_fail(alert_type != NULL, NULL);
	alert = g_new0(GwDm2Alert, 1);
	alert->alert_type = g_strdup(alert_type);
	return alert;
}

GwDm2Alert *
gw_dm2_alert_new_server_initiated(guint16 notification_id)
{
	GwDm2Alert *alert = gw_dm2_alert_new(GW_DM2_ALERT_SERVER_INITIATED);
	g_autoptr(JsonObject) obj = json_object_new();

	json_object_set_int_member(obj, GW_DM2_ALERT_NOTIFICATION_ID, notification_id);
	alert->data = json_node_init_object(json_node_alloc(), obj);
	return alert;
}

gboolean
gw_dm2_alert_get_notification_id(const GwDm2Alert *alert, guint16 *notification_id)
{
	JsonObject *obj;
	JsonNode *member;
	gint64 value;

	g_return_val_if_fail(alert != NULL, FALSE);
	if (g_strcmp0(alert->alert_type, GW_DM2_ALERT_SERVER_INITIATED) != 0 ||
	    alert->data == NULL || !JSON_NODE_HOLDS_OBJECT(alert->data))
		return FALSE;
	obj = json_node_get_object(alert->data);
	member = json_object_get_member(obj, GW_DM2_ALERT_NOTIFICATION_ID);
	if (member == NULL || !JSON_NODE_HOLDS_VALUE(member) ||
	    json_node_get_value_type(member) != G_TYPE_INT64)
		return FALSE;
	value = json_node_get_int(member);
	if (value < 0 || value > G_MAXUINT16)
		return FALSE;
	if (notification_id != NULL)
		*notification_id = (guint16)value;
	return TRUE;
}

void
gw_dm2_alert_set_data(GwDm2Alert *alert, JsonNode *data)
{
	g_return_if_fail(alert != NULL);
	g_clear_pointer(&alert->data, json_node_unref);
	if (data != NULL)
		alert->data = json_node_copy(data);
}

GwDm2Alert *
gw_dm2_alert_copy(const GwDm2Alert *alert)
{
	GwDm2Alert *copy;

	g_return_val_if_fail(alert != NULL, NULL);
	copy = gw_dm2_alert_new(alert->alert_type);
	copy->source_uri = g_strdup(alert->source_uri);
	copy->target_uri = g_strdup(alert->target_uri);
	copy->mark = g_strdup(alert->mark);
	copy->data_type = g_strdup(alert->data_type);
	if (alert->data != NULL)
		copy->data = json_node_copy(alert->data);
	return copy;
}

void
gw_dm2_alert_free(GwDm2Alert *alert)
{
	if (alert == NULL)
		return;
	g_free(alert->alert_type);
	g_free(alert->source_uri);
	g_free(alert->target_uri);
	g_free(alert->mark);
	g_free(alert->data_type);
	if (alert->data != NULL)
		json_node_unref(alert->data);
	g_free(alert);
}

gboolean
gw_dm2_alert_equal(const GwDm2Alert *a, const GwDm2Alert *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return g_strcmp0(a->alert_type, b->alert_type) == 0 &&
	       g_strcmp0(a->source_uri, b->source_uri) == 0 &&
	       g_strcmp0(a->target_uri, b->target_uri) == 0 && g_strcmp0(a->mark, b->mark) == 0 &&
	       g_strcmp0(a->data_type, b->data_type) == 0 && gw_dm2_node_equal(a->data, b->data);
}

/* ---- MOS entries and statuses ---- */

GwDm2Mo *
gw_dm2_mo_new(const gchar *ddf, const gchar *moid)
{
	GwDm2Mo *mo = g_new0(GwDm2Mo, 1);

	mo->ddf = g_strdup(ddf);
	mo->moid = g_strdup(moid);
	mo->miids = g_ptr_array_new_with_free_func(g_free);
	return mo;
}

void
gw_dm2_mo_add_miid(GwDm2Mo *mo, const gchar *miid)
{
	g_return_if_fail(mo != NULL);
	g_return_if_fail(miid != NULL);
	g_ptr_array_add(mo->miids, g_strdup(miid));
}

void
gw_dm2_mo_free(GwDm2Mo *mo)
{
	if (mo == NULL)
		return;
	g_free(mo->ddf);
	g_free(mo->moid);
	if (mo->miids != NULL)
		g_ptr_array_unref(mo->miids);
	g_free(mo);
}

static gboolean
gw_dm2_mo_equal(const GwDm2Mo *a, const GwDm2Mo *b)
{
	return g_strcmp0(a->ddf, b->ddf) == 0 && g_strcmp0(a->moid, b->moid) == 0 &&
	       gw_dm2_strv_equal(a->miids, b->miids);
}

GwDm2Status *
gw_dm2_status_new(guint sc)
{
	GwDm2Status *status = g_new0(GwDm2Status, 1);

	status->sc = sc;
	return status;
}

void
gw_dm2_status_add_uri(GwDm2Status *status, const gchar *uri)
{
	g_return_if_fail(status != NULL);
	g_return_if_fail(uri != NULL);
	if (status->uris == NULL)
		status->uris = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(status->uris, g_strdup(uri));
}

void
gw_dm2_status_set_data(GwDm2Status *status, JsonNode *data)
{
	g_return_if_fail(status != NULL);
	g_clear_pointer(&status->data, json_node_unref);
	if (data != NULL)
		status->data = json_node_copy(data);
}

void
gw_dm2_status_free(GwDm2Status *status)
{
	if (status == NULL)
		return;
	if (status->uris != NULL)
		g_ptr_array_unref(status->uris);
	if (status->data != NULL)
		json_node_unref(status->data);
	g_free(status);
}

static gboolean
gw_dm2_status_equal(const GwDm2Status *a, const GwDm2Status *b)
{
	return a->sc == b->sc && gw_dm2_strv_equal(a->uris, b->uris) &&
	       gw_dm2_node_equal(a->data, b->data);
}

/* ---- messages ---- */

GwDm2Message *
gw_dm2_message_new(GwDm2Package package)
{
	GwDm2Message *msg;

	g_return_val_if_fail(
	    package >= GW_DM2_PACKAGE_INITIATION && package <= GW_DM2_PACKAGE_RESPONSE, NULL);
	msg = g_new0(GwDm2Message, 1);
	msg->package = package;
	switch (package) {
	case GW_DM2_PACKAGE_INITIATION:
		msg->alerts = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_alert_free);
		break;
	case GW_DM2_PACKAGE_REQUEST:
		msg->commands = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_command_free);
		break;
	case GW_DM2_PACKAGE_RESPONSE:
		msg->statuses = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_status_free);
		msg->alerts = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_alert_free);
		break;
	default:
		break;
	}
	return msg;
}

void
gw_dm2_message_free(GwDm2Message *msg)
{
	if (msg == NULL)
		return;
	g_clear_pointer(&msg->mos, g_ptr_array_unref);
	g_clear_pointer(&msg->alerts, g_ptr_array_unref);
	g_clear_pointer(&msg->commands, g_ptr_array_unref);
	g_clear_pointer(&msg->statuses, g_ptr_array_unref);
	g_free(msg);
}

typedef gboolean (*GwDm2EqualFunc)(gconstpointer a, gconstpointer b);

static gboolean
gw_dm2_array_equal(const GPtrArray *a, const GPtrArray *b, GwDm2EqualFunc equal)
{
	guint alen = a != NULL ? a->len : 0;
	guint blen = b != NULL ? b->len : 0;

	if (alen != blen)
		return FALSE;
	for (guint i = 0; i < alen; i++) {
		if (!equal(g_ptr_array_index(a, i), g_ptr_array_index(b, i)))
			return FALSE;
	}
	return TRUE;
}

gboolean
gw_dm2_message_equal(const GwDm2Message *a, const GwDm2Message *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	/* "MOS" absent and "MOS":[] are different messages */
	if ((a->mos == NULL) != (b->mos == NULL))
		return FALSE;
	return a->package == b->package &&
	       gw_dm2_array_equal(a->mos, b->mos, (GwDm2EqualFunc)gw_dm2_mo_equal) &&
	       gw_dm2_array_equal(a->alerts, b->alerts, (GwDm2EqualFunc)gw_dm2_alert_equal) &&
	       gw_dm2_array_equal(a->commands, b->commands, (GwDm2EqualFunc)gw_dm2_command_equal) &&
	       gw_dm2_array_equal(a->statuses, b->statuses, (GwDm2EqualFunc)gw_dm2_status_equal);
}

GwDm2Mo *
gw_dm2_message_add_mo(GwDm2Message *msg, GwDm2Mo *mo)
{
	g_return_val_if_fail(msg != NULL && msg->package == GW_DM2_PACKAGE_INITIATION, NULL);
	g_return_val_if_fail(mo != NULL, NULL);
	if (msg->mos == NULL)
		msg->mos = g_ptr_array_new_with_free_func((GDestroyNotify)gw_dm2_mo_free);
	g_ptr_array_add(msg->mos, mo);
	return mo;
}

GwDm2Alert *
gw_dm2_message_add_alert(GwDm2Message *msg, GwDm2Alert *alert)
{
	g_return_val_if_fail(msg != NULL && msg->alerts != NULL, NULL);
	g_return_val_if_fail(alert != NULL, NULL);
	g_ptr_array_add(msg->alerts, alert);
	return alert;
}

GwDm2Command *
gw_dm2_message_add_command(GwDm2Message *msg, GwDm2Command *cmd)
{
	g_return_val_if_fail(msg != NULL && msg->commands != NULL, NULL);
	g_return_val_if_fail(cmd != NULL, NULL);
	g_ptr_array_add(msg->commands, cmd);
	return cmd;
}

GwDm2Status *
gw_dm2_message_add_status(GwDm2Message *msg, GwDm2Status *status)
{
	g_return_val_if_fail(msg != NULL && msg->statuses != NULL, NULL);
	g_return_val_if_fail(status != NULL, NULL);
	g_ptr_array_add(msg->statuses, status);
	return status;
}

static gboolean
gw_dm2_is_session_alert(const gchar *type)
{
	return g_strcmp0(type, GW_DM2_ALERT_CLIENT_INITIATED) == 0 ||
	       g_strcmp0(type, GW_DM2_ALERT_SERVER_INITIATED) == 0 ||
	       g_strcmp0(type, GW_DM2_ALERT_BOOTSTRAP_COMPLETE) == 0;
}

const GwDm2Alert *
gw_dm2_message_get_session_alert(const GwDm2Message *msg)
{
	g_return_val_if_fail(msg != NULL, NULL);
	if (msg->package != GW_DM2_PACKAGE_INITIATION || msg->alerts == NULL)
		return NULL;
	for (guint i = 0; i < msg->alerts->len; i++) {
		const GwDm2Alert *alert = g_ptr_array_index(msg->alerts, i);
		if (gw_dm2_is_session_alert(alert->alert_type))
			return alert;
	}
	return NULL;
}

gboolean
gw_dm2_message_has_end(const GwDm2Message *msg)
{
	g_return_val_if_fail(msg != NULL, FALSE);
	if (msg->commands == NULL)
		return FALSE;
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwDm2Command *cmd = g_ptr_array_index(msg->commands, i);
		if (cmd->type == GW_DM2_CMD_END)
			return TRUE;
	}
	return FALSE;
}

/* ---- command shape (shared by the parser and the generator) ---- */

/*
 * Fills @args (room for 2 + client URIs) with @cmd's arguments in wire order; refuses a
 * command whose fields do not fit its shape (GW_ERROR_INVALID_ARGS).
 */
static gboolean
gw_dm2_command_to_args(const GwDm2Command *cmd, const gchar **args, guint *n_args, GError **error)
{
	const GwDm2CmdShape *shape;
	const gchar *name;
	guint nc;
	guint n = 0;

	if ((guint)cmd->type >= G_N_ELEMENTS(gw_dm2_cmd_shapes)) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown command type %d", cmd->type);
		return FALSE;
	}
	shape = &gw_dm2_cmd_shapes[cmd->type];
	name = gw_dm2_cmd_names[cmd->type];
	nc = cmd->client_uris->len;
	if ((shape->server == 2 && cmd->server_uri == NULL) ||
	    (shape->server == 0 && cmd->server_uri != NULL) || nc < shape->client_min ||
	    nc > shape->client_max || (shape->moid == 2) != (cmd->moid != NULL)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s takes %s (server URI %s, %u client URIs, MOID %s)",
		            name,
		            shape->usage,
		            cmd->server_uri != NULL ? "set" : "unset",
		            nc,
		            cmd->moid != NULL ? "set" : "unset");
		return FALSE;
	}
	switch (cmd->type) {
	case GW_DM2_CMD_DELETE:
	case GW_DM2_CMD_EXEC:
	case GW_DM2_CMD_GET:
	case GW_DM2_CMD_SUB:
	case GW_DM2_CMD_UNSUB:
		/* ClientURI first, then the (optional) ServerURI */
		args[n++] = g_ptr_array_index(cmd->client_uris, 0);
		if (cmd->server_uri != NULL)
			args[n++] = cmd->server_uri;
		break;
	case GW_DM2_CMD_DEFAULT:
		args[n++] = cmd->moid;
		args[n++] = cmd->server_uri;
		break;
	default:
		/* ServerURI first, then the ClientURIs */
		if (cmd->server_uri != NULL)
			args[n++] = cmd->server_uri;
		for (guint i = 0; i < nc; i++)
			args[n++] = g_ptr_array_index(cmd->client_uris, i);
		break;
	}
	for (guint i = 0; i < n; i++) {
		if (*args[i] == '\0') {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "%s argument %u is empty",
			            name,
			            i + 1);
			return FALSE;
		}
	}
	*n_args = n;
	return TRUE;
}

/* @args: the strings after the name (borrowed); their number is checked here */
static GwDm2Command *
gw_dm2_command_from_args(GwDm2CmdType type,
                         const gchar *const *args,
                         guint n,
                         guint index,
                         GError **error)
{
	const GwDm2CmdShape *shape = &gw_dm2_cmd_shapes[type];
	guint min = (shape->server == 2 ? 1 : 0) + shape->client_min + (shape->moid == 2 ? 1 : 0);
	guint max = (shape->server != 0 ? 1 : 0) + (shape->moid != 0 ? 1 : 0);
	g_autoptr(GwDm2Command) cmd = NULL;

	max = shape->client_max == G_MAXUINT ? G_MAXUINT : max + shape->client_max;
	if (n < min || n > max) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "CMD[%u]: %s takes %s, got %u argument%s",
		            index,
		            gw_dm2_cmd_names[type],
		            shape->usage,
		            n,
		            n == 1 ? "" : "s");
		return NULL;
	}
	cmd = gw_dm2_command_new(type, NULL, NULL);
	switch (type) {
	case GW_DM2_CMD_DELETE:
	case GW_DM2_CMD_EXEC:
	case GW_DM2_CMD_GET:
	case GW_DM2_CMD_SUB:
	case GW_DM2_CMD_UNSUB:
		g_ptr_array_add(cmd->client_uris, g_strdup(args[0]));
		if (n > 1)
			cmd->server_uri = g_strdup(args[1]);
		break;
	case GW_DM2_CMD_DEFAULT:
		cmd->moid = g_strdup(args[0]);
		cmd->server_uri = g_strdup(args[1]);
		break;
	default:
		for (guint i = 0; i < n; i++) {
			if (i == 0 && shape->server != 0)
				cmd->server_uri = g_strdup(args[0]);
			else
				g_ptr_array_add(cmd->client_uris, g_strdup(args[i]));
		}
		break;
	}
	return g_steal_pointer(&cmd);
}

/* ---- parser ---- */

/* digits of the longest integer literal accepted: json-glib 1.6 reads a longer one that does
 * not fit in 64 bits as -1, silently (int64 holds every 18-digit number) */
#define GW_DM2_MAX_INT_DIGITS 18

typedef enum {
	GW_DM2_SCAN_OK,
	GW_DM2_SCAN_TOO_DEEP,
	GW_DM2_SCAN_LONG_INTEGER,
} GwDm2Scan;

/* one linear pass over the raw bytes, before json-glib: nesting and integer literals */
static GwDm2Scan
gw_dm2_json_prescan(const gchar *data, gsize len, guint max_nesting)
{
	guint depth = 0;
	gboolean in_string = FALSE;
	guint digits = 0;          /* digits of the number being read */
	gboolean fraction = FALSE; /* it has '.', 'e' or 'E' */

	for (gsize i = 0; i < len; i++) {
		gchar c = data[i];

		if (in_string) {
			if (c == '\\')
				i++; /* the escaped character, whatever it is */
			else if (c == '"')
				in_string = FALSE;
			continue;
		}
		if (g_ascii_isdigit(c)) {
			if (++digits > GW_DM2_MAX_INT_DIGITS && !fraction) {
				/* a fraction or exponent may still follow: look ahead */
				gsize j = i;
				while (j < len && g_ascii_isdigit(data[j]))
					j++;
				if (j >= len ||
				    (data[j] != '.' && data[j] != 'e' && data[j] != 'E'))
					return GW_DM2_SCAN_LONG_INTEGER;
				fraction = TRUE;
			}
			continue;
		}
		if (digits > 0 && (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
			fraction = fraction || c != '-';
			continue;
		}
		digits = 0;
		fraction = FALSE;
		if (c == '"') {
			in_string = TRUE;
		} else if (c == '[' || c == '{') {
			if (++depth > max_nesting)
				return GW_DM2_SCAN_TOO_DEEP;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return GW_DM2_SCAN_OK;
}

gboolean
gw_dm2_json_nesting_ok(const gchar *data, gsize len, guint max_nesting)
{
	return gw_dm2_json_prescan(data, len, max_nesting) != GW_DM2_SCAN_TOO_DEEP;
}

static const gchar *
gw_dm2_node_type_name(JsonNode *node)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT:
		return "an object";
	case JSON_NODE_ARRAY:
		return "an array";
	case JSON_NODE_NULL:
		return "null";
	default:
		break;
	}
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return "a string";
	case G_TYPE_BOOLEAN:
		return "a boolean";
	default:
		return "a number";
	}
}

/*
 * TRUE when every number in @node is finite: json-glib reads 1e400 as infinity and writes it
 * back as "inf", which is not JSON, so such a Data would not survive being passed on. Depth is
 * bounded by GW_DM2_MAX_NESTING (checked before parsing).
 */
static gboolean
gw_dm2_node_is_finite(JsonNode *node)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT: {
		JsonObjectIter iter;
		JsonNode *member;

		json_object_iter_init(&iter, json_node_get_object(node));
		while (json_object_iter_next(&iter, NULL, &member)) {
			if (!gw_dm2_node_is_finite(member))
				return FALSE;
		}
		return TRUE;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array(node);
		guint len = json_array_get_length(array);

		for (guint i = 0; i < len; i++) {
			if (!gw_dm2_node_is_finite(json_array_get_element(array, i)))
				return FALSE;
		}
		return TRUE;
	}
	case JSON_NODE_VALUE:
		return json_node_get_value_type(node) != G_TYPE_DOUBLE ||
		       isfinite(json_node_get_double(node));
	default:
		return TRUE;
	}
}

static gboolean
gw_dm2_node_is_string(JsonNode *node)
{
	return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

/*
 * Optional string member @name of @obj: absent → TRUE with *out NULL; present but not a
 * string (null included) → error naming @where and @name.
 */
static gboolean
gw_dm2_get_string(JsonObject *obj,
                  const gchar *name,
                  gboolean required,
                  gchar **out,
                  const gchar *where,
                  guint index,
                  GError **error)
{
	JsonNode *node = json_object_get_member(obj, name);

	*out = NULL;
	if (node == NULL) {
		if (!required)
			return TRUE;
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s[%u]: member \"%s\" is missing",
		            where,
		            index,
		            name);
		return FALSE;
	}
	if (!gw_dm2_node_is_string(node)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s[%u].%s: must be a string, not %s",
		            where,
		            index,
		            name,
		            gw_dm2_node_type_name(node));
		return FALSE;
	}
	*out = g_strdup(json_node_get_string(node));
	return TRUE;
}

/* array of strings at @node → new GPtrArray; error names "@where[@index].@name[i]" */
static GPtrArray *
gw_dm2_get_string_array(JsonNode *node,
                        const gchar *where,
                        guint index,
                        const gchar *name,
                        GError **error)
{
	JsonArray *array;
	g_autoptr(GPtrArray) out = NULL;
	guint len;

	if (!JSON_NODE_HOLDS_ARRAY(node)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s[%u].%s: must be an array of strings, not %s",
		            where,
		            index,
		            name,
		            gw_dm2_node_type_name(node));
		return NULL;
	}
	array = json_node_get_array(node);
	len = json_array_get_length(array);
	out = g_ptr_array_new_full(len, g_free);
	for (guint i = 0; i < len; i++) {
		JsonNode *element = json_array_get_element(array, i);
		if (!gw_dm2_node_is_string(element)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "%s[%u].%s[%u]: must be a string, not %s",
			            where,
			            index,
			            name,
			            i,
			            gw_dm2_node_type_name(element));
			return NULL;
		}
		g_ptr_array_add(out, g_strdup(json_node_get_string(element)));
	}
	return g_steal_pointer(&out);
}

/* the array member @name of the root; absent → *out NULL (error if @required) */
static gboolean
gw_dm2_get_root_array(JsonObject *root,
                      const gchar *name,
                      gboolean required,
                      JsonArray **out,
                      GError **error)
{
	JsonNode *node = json_object_get_member(root, name);

	*out = NULL;
	if (node == NULL) {
		if (!required)
			return TRUE;
		g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "member \"%s\" is missing", name);
		return FALSE;
	}
	if (!JSON_NODE_HOLDS_ARRAY(node)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "\"%s\" must be an array, not %s",
		            name,
		            gw_dm2_node_type_name(node));
		return FALSE;
	}
	*out = json_node_get_array(node);
	return TRUE;
}

static JsonObject *
gw_dm2_element_object(JsonArray *array, guint i, const gchar *where, GError **error)
{
	JsonNode *node = json_array_get_element(array, i);

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s[%u]: must be an object, not %s",
		            where,
		            i,
		            gw_dm2_node_type_name(node));
		return NULL;
	}
	return json_node_get_object(node);
}

static gboolean
gw_dm2_parse_alerts(JsonArray *array, GPtrArray *out, GError **error)
{
	guint len = json_array_get_length(array);

	for (guint i = 0; i < len; i++) {
		JsonObject *obj = gw_dm2_element_object(array, i, "Alert", error);
		g_autoptr(GwDm2Alert) alert = NULL;
		JsonNode *data;

		if (obj == NULL)
			return FALSE;
		alert = g_new0(GwDm2Alert, 1);
		if (!gw_dm2_get_string(
		        obj, "AlertType", TRUE, &alert->alert_type, "Alert", i, error) ||
		    !gw_dm2_get_string(
		        obj, "SourceURI", FALSE, &alert->source_uri, "Alert", i, error) ||
		    !gw_dm2_get_string(
		        obj, "TargetURI", FALSE, &alert->target_uri, "Alert", i, error) ||
		    !gw_dm2_get_string(obj, "Mark", FALSE, &alert->mark, "Alert", i, error) ||
		    !gw_dm2_get_string(
		        obj, "DataType", FALSE, &alert->data_type, "Alert", i, error))
			return FALSE;
		if (*alert->alert_type == '\0') {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "Alert[%u].AlertType: must not be empty",
			            i);
			return FALSE;
		}
		if (alert->mark != NULL && !gw_dm2_mark_is_valid(alert->mark)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "Alert[%u].Mark: \"%s\" is not a severity (fatal, critical, "
			            "minor, warning, informational, harmless, indeterminate)",
			            i,
			            alert->mark);
			return FALSE;
		}
		data = json_object_get_member(obj, "Data");
		if (data != NULL) {
			if (!JSON_NODE_HOLDS_OBJECT(data)) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_PROTOCOL,
				            "Alert[%u].Data: must be an object, not %s",
				            i,
				            gw_dm2_node_type_name(data));
				return FALSE;
			}
			if (!gw_dm2_node_is_finite(data)) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_PROTOCOL,
				            "Alert[%u].Data: holds a number out of range",
				            i);
				return FALSE;
			}
			alert->data = json_node_copy(data);
		}
		if (g_strcmp0(alert->alert_type, GW_DM2_ALERT_SERVER_INITIATED) == 0 &&
		    !gw_dm2_alert_get_notification_id(alert, NULL)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "Alert[%u]: %s needs Data.%s, an integer 0..65535",
			            i,
			            GW_DM2_ALERT_SERVER_INITIATED,
			            GW_DM2_ALERT_NOTIFICATION_ID);
			return FALSE;
		}
		g_ptr_array_add(out, g_steal_pointer(&alert));
	}
	return TRUE;
}

static gboolean
gw_dm2_parse_initiation(JsonObject *root, GwDm2Message *msg, GError **error)
{
	JsonArray *mos = NULL;
	JsonArray *alerts = NULL;

	if (!gw_dm2_get_root_array(root, "MOS", FALSE, &mos, error) ||
	    !gw_dm2_get_root_array(root, "Alert", TRUE, &alerts, error))
		return FALSE;
	if (mos != NULL) {
		guint len = json_array_get_length(mos);

		msg->mos = g_ptr_array_new_full(len, (GDestroyNotify)gw_dm2_mo_free);
		for (guint i = 0; i < len; i++) {
			JsonObject *obj = gw_dm2_element_object(mos, i, "MOS", error);
			g_autoptr(GwDm2Mo) mo = NULL;
			JsonNode *miids;

			if (obj == NULL)
				return FALSE;
			mo = g_new0(GwDm2Mo, 1);
			if (!gw_dm2_get_string(obj, "DDF", FALSE, &mo->ddf, "MOS", i, error) ||
			    !gw_dm2_get_string(obj, "MOID", FALSE, &mo->moid, "MOS", i, error))
				return FALSE;
			miids = json_object_get_member(obj, "MIID");
			if (miids == NULL) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_PROTOCOL,
				            "MOS[%u]: member \"MIID\" is missing",
				            i);
				return FALSE;
			}
			mo->miids = gw_dm2_get_string_array(miids, "MOS", i, "MIID", error);
			if (mo->miids == NULL)
				return FALSE;
			g_ptr_array_add(msg->mos, g_steal_pointer(&mo));
		}
	}
	if (!gw_dm2_parse_alerts(alerts, msg->alerts, error))
		return FALSE;
	if (gw_dm2_message_get_session_alert(msg) == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "Alert: none of %s, %s or %s (Package #1 needs one)",
		            GW_DM2_ALERT_CLIENT_INITIATED,
		            GW_DM2_ALERT_SERVER_INITIATED,
		            GW_DM2_ALERT_BOOTSTRAP_COMPLETE);
		return FALSE;
	}
	return TRUE;
}

static gboolean
gw_dm2_parse_request(JsonObject *root, GwDm2Message *msg, GError **error)
{
	JsonArray *cmds = NULL;
	guint len;

	if (!gw_dm2_get_root_array(root, "CMD", TRUE, &cmds, error))
		return FALSE;
	len = json_array_get_length(cmds);
	for (guint i = 0; i < len; i++) {
		JsonNode *node = json_array_get_element(cmds, i);
		JsonArray *array;
		const gchar *args[8];
		g_autofree const gchar **heap_args = NULL;
		const gchar **argv = args;
		const gchar *name;
		GwDm2CmdType type;
		GwDm2Command *cmd;
		guint n;

		if (!JSON_NODE_HOLDS_ARRAY(node)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "CMD[%u]: must be an array of strings, not %s",
			            i,
			            gw_dm2_node_type_name(node));
			return FALSE;
		}
		array = json_node_get_array(node);
		n = json_array_get_length(array);
		if (n == 0) {
			g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "CMD[%u]: is empty", i);
			return FALSE;
		}
		if (n - 1 > G_N_ELEMENTS(args))
			argv = heap_args = g_new(const gchar *, n - 1);
		for (guint j = 0; j < n; j++) {
			JsonNode *element = json_array_get_element(array, j);
			const gchar *s;

			if (!gw_dm2_node_is_string(element)) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_PROTOCOL,
				            "CMD[%u][%u]: must be a string, not %s",
				            i,
				            j,
				            gw_dm2_node_type_name(element));
				return FALSE;
			}
			s = json_node_get_string(element);
			if (j > 0 && *s == '\0') {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_PROTOCOL,
				            "CMD[%u][%u]: argument is empty",
				            i,
				            j);
				return FALSE;
			}
			if (j > 0)
				argv[j - 1] = s;
		}
		name = json_array_get_string_element(array, 0);
		if (!gw_dm2_cmd_type_from_string(name, &type)) {
			g_autofree gchar *shown = g_strndup(name, 64);
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "CMD[%u][0]: unknown command \"%s\"",
			            i,
			            shown);
			return FALSE;
		}
		cmd = gw_dm2_command_from_args(type, argv, n - 1, i, error);
		if (cmd == NULL)
			return FALSE;
		g_ptr_array_add(msg->commands, cmd);
	}
	return TRUE;
}

static gboolean
gw_dm2_parse_response(JsonObject *root, GwDm2Message *msg, GError **error)
{
	JsonArray *statuses = NULL;
	JsonArray *alerts = NULL;
	guint len;

	if (!gw_dm2_get_root_array(root, "Status", TRUE, &statuses, error) ||
	    !gw_dm2_get_root_array(root, "Alert", FALSE, &alerts, error))
		return FALSE;
	len = json_array_get_length(statuses);
	for (guint i = 0; i < len; i++) {
		JsonObject *obj = gw_dm2_element_object(statuses, i, "Status", error);
		g_autoptr(GwDm2Status) status = NULL;
		JsonNode *sc;
		JsonNode *uris;
		JsonNode *data;
		gint64 code;

		if (obj == NULL)
			return FALSE;
		sc = json_object_get_member(obj, "sc");
		if (sc == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "Status[%u]: member \"sc\" is missing",
			            i);
			return FALSE;
		}
		if (!JSON_NODE_HOLDS_VALUE(sc) || json_node_get_value_type(sc) != G_TYPE_INT64) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "Status[%u].sc: must be an integer, not %s",
			            i,
			            gw_dm2_node_type_name(sc));
			return FALSE;
		}
		code = json_node_get_int(sc);
		if (code < 100 || code > 599) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "Status[%u].sc: %" G_GINT64_FORMAT " is not a status code",
			            i,
			            code);
			return FALSE;
		}
		status = gw_dm2_status_new((guint)code);
		uris = json_object_get_member(obj, "URI");
		if (uris != NULL) {
			status->uris = gw_dm2_get_string_array(uris, "Status", i, "URI", error);
			if (status->uris == NULL)
				return FALSE;
		}
		data = json_object_get_member(obj, "Data");
		if (data != NULL && !gw_dm2_node_is_finite(data)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "Status[%u].Data: holds a number out of range",
			            i);
			return FALSE;
		}
		if (data != NULL)
			status->data = json_node_copy(data);
		g_ptr_array_add(msg->statuses, g_steal_pointer(&status));
	}
	if (alerts != NULL && !gw_dm2_parse_alerts(alerts, msg->alerts, error))
		return FALSE;
	return TRUE;
}

static void
gw_dm2_log_unknown_members(JsonObject *root, const gchar *const *known)
{
	g_autoptr(GList) members = NULL;

	if (!g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN) &&
	    json_object_get_size(root) > 0) {
		members = json_object_get_members(root);
		for (GList *l = members; l != NULL; l = l->next) {
			if (!g_strv_contains(known, l->data))
				g_debug("DM 2.0 message member \"%s\" ignored",
				        (const gchar *)l->data);
		}
	}
}

GwDm2Message *
gw_dm2_message_parse(GwDm2Package package,
                     const guint8 *data,
                     gsize len,
                     gsize max_size,
                     GError **error)
{
	static const gchar *const known[] = {"MOS", "Alert", "CMD", "Status", NULL};
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) local = NULL;
	g_autoptr(GwDm2Message) msg = NULL;
	JsonNode *root;
	gboolean ok = FALSE;

	g_return_val_if_fail(
	    package >= GW_DM2_PACKAGE_INITIATION && package <= GW_DM2_PACKAGE_RESPONSE, NULL);
	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (max_size == 0)
		max_size = GW_DM2_MAX_MESSAGE_SIZE;
	if (len > max_size || len > G_MAXSSIZE) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 message of %" G_GSIZE_FORMAT
		            " bytes is over the limit of %" G_GSIZE_FORMAT,
		            len,
		            max_size);
		return NULL;
	}
	switch (gw_dm2_json_prescan((const gchar *)data, len, GW_DM2_MAX_NESTING)) {
	case GW_DM2_SCAN_TOO_DEEP:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 message nested deeper than %u levels",
		            (guint)GW_DM2_MAX_NESTING);
		return NULL;
	case GW_DM2_SCAN_LONG_INTEGER:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 message holds an integer of more than %u digits",
		            (guint)GW_DM2_MAX_INT_DIGITS);
		return NULL;
	default:
		break;
	}
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(
	        parser, len > 0 ? (const gchar *)data : "", (gssize)len, &local)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 message is not JSON: %s",
		            local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 Package #%d must be a JSON object, not %s",
		            package,
		            root == NULL ? "empty" : gw_dm2_node_type_name(root));
		return NULL;
	}
	msg = gw_dm2_message_new(package);
	switch (package) {
	case GW_DM2_PACKAGE_INITIATION:
		ok = gw_dm2_parse_initiation(json_node_get_object(root), msg, &local);
		break;
	case GW_DM2_PACKAGE_REQUEST:
		ok = gw_dm2_parse_request(json_node_get_object(root), msg, &local);
		break;
	case GW_DM2_PACKAGE_RESPONSE:
		ok = gw_dm2_parse_response(json_node_get_object(root), msg, &local);
		break;
	default:
		break;
	}
	if (!ok) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 Package #%d: %s",
		            package,
		            local->message);
		return NULL;
	}
	gw_dm2_log_unknown_members(json_node_get_object(root), known);
	return g_steal_pointer(&msg);
}

/* ---- generator ---- */

static void
gw_dm2_append_string(GString *out, const gchar *s)
{
	g_autofree gchar *valid = NULL;
	const gchar *run;

	if (!g_utf8_validate(s, -1, NULL))
		s = valid = g_utf8_make_valid(s, -1);
	g_string_append_c(out, '"');
	run = s;
	for (const gchar *p = s; *p != '\0'; p++) {
		guchar c = (guchar)*p;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		g_string_append_len(out, run, p - run);
		switch (c) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			g_string_append_printf(out, "\\u%04x", c);
			break;
		}
		run = p + 1;
	}
	g_string_append(out, run);
	g_string_append_c(out, '"');
}

/* ,"name":"value" (the comma when @comma) */
static void
gw_dm2_append_member(GString *out, gboolean *comma, const gchar *name, const gchar *value)
{
	if (value == NULL)
		return;
	if (*comma)
		g_string_append_c(out, ',');
	*comma = TRUE;
	g_string_append_c(out, '"');
	g_string_append(out, name);
	g_string_append(out, "\":");
	gw_dm2_append_string(out, value);
}

static void
gw_dm2_append_strv(GString *out, const GPtrArray *strv)
{
	g_string_append_c(out, '[');
	for (guint i = 0; i < strv->len; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		gw_dm2_append_string(out, g_ptr_array_index(strv, i));
	}
	g_string_append_c(out, ']');
}

/*
 * Writes @node as JSON. Not json_to_string(): json-glib 1.6 writes 1e-300 as "1e-300.0", which
 * is not JSON. Doubles keep a '.' or an exponent so that they parse back as doubles; the parser
 * has refused non-finite ones.
 */
static void
gw_dm2_append_node(GString *out, JsonNode *node)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT: {
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		gboolean first = TRUE;

		g_string_append_c(out, '{');
		json_object_iter_init(&iter, json_node_get_object(node));
		while (json_object_iter_next(&iter, &name, &member)) {
			if (!first)
				g_string_append_c(out, ',');
			first = FALSE;
			gw_dm2_append_string(out, name);
			g_string_append_c(out, ':');
			gw_dm2_append_node(out, member);
		}
		g_string_append_c(out, '}');
		break;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array(node);
		guint len = json_array_get_length(array);

		g_string_append_c(out, '[');
		for (guint i = 0; i < len; i++) {
			if (i > 0)
				g_string_append_c(out, ',');
			gw_dm2_append_node(out, json_array_get_element(array, i));
		}
		g_string_append_c(out, ']');
		break;
	}
	case JSON_NODE_VALUE:
		switch (json_node_get_value_type(node)) {
		case G_TYPE_STRING:
			gw_dm2_append_string(out, json_node_get_string(node));
			break;
		case G_TYPE_BOOLEAN:
			g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
			break;
		case G_TYPE_INT64:
			g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
			break;
		case G_TYPE_DOUBLE: {
			gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
			gdouble d = json_node_get_double(node);

			if (!isfinite(d)) {
				/* only a caller-built node can get here */
				g_string_append(out, "null");
				break;
			}
			g_ascii_dtostr(buf, sizeof(buf), d);
			g_string_append(out, buf);
			if (strpbrk(buf, ".eE") == NULL)
				g_string_append(out, ".0");
			break;
		}
		default:
			g_string_append(out, "null");
			break;
		}
		break;
	case JSON_NODE_NULL:
	default:
		g_string_append(out, "null");
		break;
	}
}

static gboolean
gw_dm2_append_alerts(GString *out, const GPtrArray *alerts, GError **error)
{
	g_string_append(out, "\"Alert\":[");
	for (guint i = 0; i < alerts->len; i++) {
		const GwDm2Alert *alert = g_ptr_array_index(alerts, i);
		gboolean comma = FALSE;

		if (alert->alert_type == NULL || *alert->alert_type == '\0' ||
		    (alert->mark != NULL && !gw_dm2_mark_is_valid(alert->mark)) ||
		    (alert->data != NULL && !JSON_NODE_HOLDS_OBJECT(alert->data)) ||
		    (g_strcmp0(alert->alert_type, GW_DM2_ALERT_SERVER_INITIATED) == 0 &&
		     !gw_dm2_alert_get_notification_id(alert, NULL))) {
			g_set_error(
			    error,
			    GW_ERROR,
			    GW_ERROR_INVALID_ARGS,
			    "Alert[%u]: needs an AlertType, a valid Mark, an object as Data "
			    "and, for %s, a NotificationID",
			    i,
			    GW_DM2_ALERT_SERVER_INITIATED);
			return FALSE;
		}
		if (i > 0)
			g_string_append_c(out, ',');
		g_string_append_c(out, '{');
		gw_dm2_append_member(out, &comma, "AlertType", alert->alert_type);
		gw_dm2_append_member(out, &comma, "SourceURI", alert->source_uri);
		gw_dm2_append_member(out, &comma, "TargetURI", alert->target_uri);
		gw_dm2_append_member(out, &comma, "Mark", alert->mark);
		gw_dm2_append_member(out, &comma, "DataType", alert->data_type);
		if (alert->data != NULL) {
			g_string_append(out, ",\"Data\":");
			gw_dm2_append_node(out, alert->data);
		}
		g_string_append_c(out, '}');
	}
	g_string_append_c(out, ']');
	return TRUE;
}

static gboolean
gw_dm2_append_initiation(GString *out, const GwDm2Message *msg, GError **error)
{
	if (gw_dm2_message_get_session_alert(msg) == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "Package #1 needs a %s, %s or %s alert",
		            GW_DM2_ALERT_CLIENT_INITIATED,
		            GW_DM2_ALERT_SERVER_INITIATED,
		            GW_DM2_ALERT_BOOTSTRAP_COMPLETE);
		return FALSE;
	}
	g_string_append_c(out, '{');
	if (msg->mos != NULL) {
		g_string_append(out, "\"MOS\":[");
		for (guint i = 0; i < msg->mos->len; i++) {
			const GwDm2Mo *mo = g_ptr_array_index(msg->mos, i);
			gboolean comma = FALSE;

			if (i > 0)
				g_string_append_c(out, ',');
			g_string_append_c(out, '{');
			gw_dm2_append_member(out, &comma, "DDF", mo->ddf);
			gw_dm2_append_member(out, &comma, "MOID", mo->moid);
			g_string_append(out, comma ? ",\"MIID\":" : "\"MIID\":");
			gw_dm2_append_strv(out, mo->miids);
			g_string_append_c(out, '}');
		}
		g_string_append(out, "],");
	}
	if (!gw_dm2_append_alerts(out, msg->alerts, error))
		return FALSE;
	g_string_append_c(out, '}');
	return TRUE;
}

static gboolean
gw_dm2_append_request(GString *out, const GwDm2Message *msg, GError **error)
{
	g_string_append(out, "{\"CMD\":[");
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwDm2Command *cmd = g_ptr_array_index(msg->commands, i);
		g_autofree const gchar **args = g_new(const gchar *, 2 + cmd->client_uris->len);
		g_autoptr(GError) local = NULL;
		guint n = 0;

		if (!gw_dm2_command_to_args(cmd, args, &n, &local)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "CMD[%u]: %s",
			            i,
			            local->message);
			return FALSE;
		}
		if (i > 0)
			g_string_append_c(out, ',');
		g_string_append_c(out, '[');
		gw_dm2_append_string(out, gw_dm2_cmd_names[cmd->type]);
		for (guint j = 0; j < n; j++) {
			g_string_append_c(out, ',');
			gw_dm2_append_string(out, args[j]);
		}
		g_string_append_c(out, ']');
	}
	g_string_append(out, "]}");
	return TRUE;
}

static gboolean
gw_dm2_append_response(GString *out, const GwDm2Message *msg, GError **error)
{
	g_string_append(out, "{\"Status\":[");
	for (guint i = 0; i < msg->statuses->len; i++) {
		const GwDm2Status *status = g_ptr_array_index(msg->statuses, i);

		if (status->sc < 100 || status->sc > 599) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "Status[%u]: %u is not a status code",
			            i,
			            status->sc);
			return FALSE;
		}
		if (i > 0)
			g_string_append_c(out, ',');
		g_string_append_printf(out, "{\"sc\":%u", status->sc);
		if (status->uris != NULL) {
			g_string_append(out, ",\"URI\":");
			gw_dm2_append_strv(out, status->uris);
		}
		if (status->data != NULL) {
			g_string_append(out, ",\"Data\":");
			gw_dm2_append_node(out, status->data);
		}
		g_string_append_c(out, '}');
	}
	g_string_append_c(out, ']');
	if (msg->alerts != NULL && msg->alerts->len > 0) {
		g_string_append_c(out, ',');
		if (!gw_dm2_append_alerts(out, msg->alerts, error))
			return FALSE;
	}
	g_string_append_c(out, '}');
	return TRUE;
}

GBytes *
gw_dm2_message_to_json(const GwDm2Message *msg, GError **error)
{
	g_autoptr(GString) out = NULL;
	gboolean ok = FALSE;

	g_return_val_if_fail(msg != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	out = g_string_sized_new(256);
	switch (msg->package) {
	case GW_DM2_PACKAGE_INITIATION:
		ok = gw_dm2_append_initiation(out, msg, error);
		break;
	case GW_DM2_PACKAGE_REQUEST:
		ok = gw_dm2_append_request(out, msg, error);
		break;
	case GW_DM2_PACKAGE_RESPONSE:
		ok = gw_dm2_append_response(out, msg, error);
		break;
	default:
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "unknown DM 2.0 package %d",
		            msg->package);
		break;
	}
	if (!ok)
		return NULL;
	return g_string_free_to_bytes(g_steal_pointer(&out));
}

/* ---- the Generic Alerts' identities (GW_DM2_HEADER_ALERT_ID) ---- */

gboolean
gw_dm2_alert_id_is_valid(const gchar *identity)
{
	gsize len;

	if (identity == NULL)
		return FALSE;
	len = strlen(identity);
	if (len == 0 || len > GW_DM2_ALERT_ID_MAX_LEN)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		gchar c = identity[i];
		if (!g_ascii_isalnum(c) && c != ':' && c != '.' && c != '_' && c != '-')
			return FALSE;
	}
	return TRUE;
}

gchar *
gw_dm2_alert_ids_to_header(const gchar *const *ids, guint n)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < n; i++) {
		if (ids[i] == NULL)
			continue;
		g_return_val_if_fail(gw_dm2_alert_id_is_valid(ids[i]), NULL);
		g_string_append_printf(s, "%s%u=%s", s->len > 0 ? ", " : "", i, ids[i]);
	}
	if (s->len == 0) {
		g_string_free(s, TRUE);
		return NULL;
	}
	return g_string_free(s, FALSE);
}

GPtrArray *
gw_dm2_alert_ids_parse(const gchar *value, guint n_alerts, GError **error)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_full(n_alerts, g_free);
	g_auto(GStrv) entries = NULL;

	g_ptr_array_set_size(ids, n_alerts);
	if (value == NULL)
		return g_steal_pointer(&ids);
	entries = g_strsplit(value, ",", -1);
	for (guint i = 0; entries[i] != NULL; i++) {
		gchar *entry = g_strstrip(entries[i]);
		const gchar *eq = strchr(entry, '=');
		g_autofree gchar *index_text = NULL;
		guint64 index = 0;

		if (entry[0] == '\0')
			continue; /* HTTP lists allow empty elements */
		if (eq == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            GW_DM2_HEADER_ALERT_ID " entry %u has no '='",
			            i);
			return NULL;
		}
		index_text = g_strndup(entry, (gsize)(eq - entry));
		if (!g_ascii_string_to_unsigned(index_text, 10, 0, G_MAXUINT32, &index, NULL) ||
		    index >= n_alerts) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            GW_DM2_HEADER_ALERT_ID
			            " entry %u: index '%s' is not that of one "
			            "of the %u alerts",
			            i,
			            index_text,
			            n_alerts);
			return NULL;
		}
		if (!gw_dm2_alert_id_is_valid(eq + 1)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            GW_DM2_HEADER_ALERT_ID " entry %u: not an identity",
			            i);
			return NULL;
		}
		if (g_ptr_array_index(ids, index) != NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            GW_DM2_HEADER_ALERT_ID " names alert %u twice",
			            (guint)index);
			return NULL;
		}
		g_ptr_array_index(ids, index) = g_strdup(eq + 1);
	}
	return g_steal_pointer(&ids);
}
