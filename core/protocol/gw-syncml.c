/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SyncML DM message model: constructors, copies, equality and the builders a DM session
 * uses. The XML codec and the size estimate live in gw-syncml-xml.c.
 */

#define G_LOG_DOMAIN "GwSyncml"

#include "config.h"

#include <string.h>

#include "gw-syncml.h"

static const gchar *const cmd_type_names[] = {
    [GW_SYNCML_CMD_UNKNOWN] = NULL,
    [GW_SYNCML_CMD_ADD] = "Add",
    [GW_SYNCML_CMD_ALERT] = "Alert",
    [GW_SYNCML_CMD_ATOMIC] = "Atomic",
    [GW_SYNCML_CMD_COPY] = "Copy",
    [GW_SYNCML_CMD_DELETE] = "Delete",
    [GW_SYNCML_CMD_EXEC] = "Exec",
    [GW_SYNCML_CMD_GET] = "Get",
    [GW_SYNCML_CMD_REPLACE] = "Replace",
    [GW_SYNCML_CMD_RESULTS] = "Results",
    [GW_SYNCML_CMD_SEQUENCE] = "Sequence",
    [GW_SYNCML_CMD_STATUS] = "Status",
};

const gchar *
gw_syncml_version_to_string(GwSyncmlVersion version)
{
	return version == GW_SYNCML_VERSION_DM_1_3 ? "DM/1.3" : "DM/1.2";
}

const gchar *
gw_syncml_cmd_type_to_string(GwSyncmlCmdType type)
{
	if ((guint)type >= G_N_ELEMENTS(cmd_type_names))
		return NULL;
	return cmd_type_names[type];
}

GwSyncmlCmdType
gw_syncml_cmd_type_from_string(const gchar *name)
{
	if (name == NULL)
		return GW_SYNCML_CMD_UNKNOWN;
	for (guint i = 1; i < G_N_ELEMENTS(cmd_type_names); i++) {
		if (strcmp(name, cmd_type_names[i]) == 0)
			return (GwSyncmlCmdType)i;
	}
	return GW_SYNCML_CMD_UNKNOWN;
}

/* ---- Meta ---- */

void
gw_syncml_meta_init(GwSyncmlMeta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->size = -1;
	meta->max_msg_size = -1;
	meta->max_obj_size = -1;
}

void
gw_syncml_meta_clear(GwSyncmlMeta *meta)
{
	g_free(meta->format);
	g_free(meta->type);
	g_free(meta->mark);
	g_free(meta->next_nonce);
	g_free(meta->emi);
	gw_syncml_meta_init(meta);
}

void
gw_syncml_meta_copy_into(GwSyncmlMeta *dest, const GwSyncmlMeta *src)
{
	if (dest == src)
		return;
	gw_syncml_meta_clear(dest);
	dest->format = g_strdup(src->format);
	dest->type = g_strdup(src->type);
	dest->mark = g_strdup(src->mark);
	dest->next_nonce = g_strdup(src->next_nonce);
	dest->emi = g_strdup(src->emi);
	dest->size = src->size;
	dest->max_msg_size = src->max_msg_size;
	dest->max_obj_size = src->max_obj_size;
}

gboolean
gw_syncml_meta_is_empty(const GwSyncmlMeta *meta)
{
	return meta->format == NULL && meta->type == NULL && meta->mark == NULL &&
	       meta->next_nonce == NULL && meta->emi == NULL && meta->size < 0 &&
	       meta->max_msg_size < 0 && meta->max_obj_size < 0;
}

gboolean
gw_syncml_meta_equal(const GwSyncmlMeta *a, const GwSyncmlMeta *b)
{
	if (a == b)
		return TRUE;
	if (a == NULL || b == NULL)
		return FALSE;
	return g_strcmp0(a->format, b->format) == 0 && g_strcmp0(a->type, b->type) == 0 &&
	       g_strcmp0(a->mark, b->mark) == 0 && g_strcmp0(a->next_nonce, b->next_nonce) == 0 &&
	       g_strcmp0(a->emi, b->emi) == 0 && a->size == b->size &&
	       a->max_msg_size == b->max_msg_size && a->max_obj_size == b->max_obj_size;
}

GwSyncmlMeta *
gw_syncml_meta_new(void)
{
	GwSyncmlMeta *meta = g_new(GwSyncmlMeta, 1);
	gw_syncml_meta_init(meta);
	return meta;
}

static GwSyncmlMeta *
gw_syncml_meta_dup(const GwSyncmlMeta *meta)
{
	GwSyncmlMeta *copy;
	if (meta == NULL)
		return NULL;
	copy = gw_syncml_meta_new();
	gw_syncml_meta_copy_into(copy, meta);
	return copy;
}

void
gw_syncml_meta_free(GwSyncmlMeta *meta)
{
	if (meta == NULL)
		return;
	gw_syncml_meta_clear(meta);
	g_free(meta);
}

/* ---- Cred ---- */

GwSyncmlCred *
gw_syncml_cred_new(const gchar *type, const gchar *format, const gchar *data)
{
	GwSyncmlCred *cred;

	g_return_val_if_fail(data != NULL, NULL);
	cred = g_new0(GwSyncmlCred, 1);
	gw_syncml_meta_init(&cred->meta);
	cred->meta.type = g_strdup(type);
	cred->meta.format = g_strdup(format);
	cred->data = g_strdup(data);
	return cred;
}

GwSyncmlCred *
gw_syncml_cred_copy(const GwSyncmlCred *cred)
{
	GwSyncmlCred *copy;
	if (cred == NULL)
		return NULL;
	copy = g_new0(GwSyncmlCred, 1);
	gw_syncml_meta_init(&copy->meta);
	gw_syncml_meta_copy_into(&copy->meta, &cred->meta);
	copy->data = g_strdup(cred->data);
	return copy;
}

void
gw_syncml_cred_free(GwSyncmlCred *cred)
{
	if (cred == NULL)
		return;
	gw_syncml_meta_clear(&cred->meta);
	g_free(cred->data);
	g_free(cred);
}

gboolean
gw_syncml_cred_equal(const GwSyncmlCred *a, const GwSyncmlCred *b)
{
	if (a == b)
		return TRUE;
	if (a == NULL || b == NULL)
		return FALSE;
	return gw_syncml_meta_equal(&a->meta, &b->meta) && g_strcmp0(a->data, b->data) == 0;
}

/* ---- Item ---- */

GwSyncmlItem *
gw_syncml_item_new(const gchar *target_uri, const gchar *source_uri)
{
	GwSyncmlItem *item = g_new0(GwSyncmlItem, 1);
	gw_syncml_meta_init(&item->meta);
	item->target_uri = g_strdup(target_uri);
	item->source_uri = g_strdup(source_uri);
	return item;
}

void
gw_syncml_item_set_data(GwSyncmlItem *item,
                        const gchar *format,
                        const gchar *type,
                        const gchar *data)
{
	g_return_if_fail(item != NULL);
	if (format != NULL) {
		g_free(item->meta.format);
		item->meta.format = g_strdup(format);
	}
	if (type != NULL) {
		g_free(item->meta.type);
		item->meta.type = g_strdup(type);
	}
	g_free(item->data);
	item->data = g_strdup(data);
}

GwSyncmlItem *
gw_syncml_item_new_from_dm_item(const GwDmItem *dm_item)
{
	GwSyncmlItem *item;
	g_autofree gchar *text = NULL;
	const gchar *format;

	g_return_val_if_fail(dm_item != NULL, NULL);
	item = gw_syncml_item_new(NULL, dm_item->uri);
	format = gw_dm_format_to_string(dm_item->format);
	if (dm_item->format == GW_DM_FORMAT_BIN) {
		gsize len = 0;
		const guchar *bytes = NULL;
		if (dm_item->data != NULL)
			bytes = g_bytes_get_data(dm_item->data, &len);
		text = g_base64_encode(bytes, len);
		format = "b64";
	} else if (dm_item->data != NULL) {
		gsize len = 0;
		const gchar *bytes = g_bytes_get_data(dm_item->data, &len);
		text = g_strndup(bytes, len);
	}
	item->meta.format = g_strdup(format);
	item->meta.type = g_strdup(dm_item->mime_type);
	item->data = g_steal_pointer(&text);
	return item;
}

GwDmFormat
gw_syncml_item_get_format(const GwSyncmlItem *item)
{
	g_return_val_if_fail(item != NULL, GW_DM_FORMAT_INVALID);
	if (item->meta.format == NULL)
		return GW_DM_FORMAT_CHR;
	return gw_dm_format_from_string(item->meta.format);
}

GwSyncmlItem *
gw_syncml_item_copy(const GwSyncmlItem *item)
{
	GwSyncmlItem *copy;
	if (item == NULL)
		return NULL;
	copy = gw_syncml_item_new(item->target_uri, item->source_uri);
	copy->target_name = g_strdup(item->target_name);
	copy->source_name = g_strdup(item->source_name);
	gw_syncml_meta_copy_into(&copy->meta, &item->meta);
	copy->data = g_strdup(item->data);
	copy->more_data = item->more_data;
	return copy;
}

void
gw_syncml_item_free(GwSyncmlItem *item)
{
	if (item == NULL)
		return;
	g_free(item->target_uri);
	g_free(item->target_name);
	g_free(item->source_uri);
	g_free(item->source_name);
	gw_syncml_meta_clear(&item->meta);
	g_free(item->data);
	g_free(item);
}

gboolean
gw_syncml_item_equal(const GwSyncmlItem *a, const GwSyncmlItem *b)
{
	if (a == b)
		return TRUE;
	if (a == NULL || b == NULL)
		return FALSE;
	return g_strcmp0(a->target_uri, b->target_uri) == 0 &&
	       g_strcmp0(a->target_name, b->target_name) == 0 &&
	       g_strcmp0(a->source_uri, b->source_uri) == 0 &&
	       g_strcmp0(a->source_name, b->source_name) == 0 &&
	       gw_syncml_meta_equal(&a->meta, &b->meta) && g_strcmp0(a->data, b->data) == 0 &&
	       !a->more_data == !b->more_data;
}

/* ---- Command ---- */

GwSyncmlCommand *
gw_syncml_command_new(GwSyncmlCmdType type)
{
	GwSyncmlCommand *cmd = g_new0(GwSyncmlCommand, 1);
	cmd->type = type;
	gw_syncml_meta_init(&cmd->meta);
	cmd->items = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_item_free);
	if (type == GW_SYNCML_CMD_ATOMIC || type == GW_SYNCML_CMD_SEQUENCE)
		cmd->children =
		    g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
	return cmd;
}

GwSyncmlCommand *
gw_syncml_command_new_unknown(const gchar *name)
{
	GwSyncmlCommand *cmd;
	g_return_val_if_fail(name != NULL, NULL);
	cmd = gw_syncml_command_new(GW_SYNCML_CMD_UNKNOWN);
	cmd->name = g_strdup(name);
	return cmd;
}

const gchar *
gw_syncml_command_get_name(const GwSyncmlCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	if (cmd->type == GW_SYNCML_CMD_UNKNOWN)
		return cmd->name;
	return gw_syncml_cmd_type_to_string(cmd->type);
}

gboolean
gw_syncml_command_is_container(const GwSyncmlCommand *cmd)
{
	g_return_val_if_fail(cmd != NULL, FALSE);
	return cmd->type == GW_SYNCML_CMD_ATOMIC || cmd->type == GW_SYNCML_CMD_SEQUENCE;
}

GwSyncmlItem *
gw_syncml_command_add_item(GwSyncmlCommand *cmd, GwSyncmlItem *item)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	g_return_val_if_fail(item != NULL, NULL);
	g_ptr_array_add(cmd->items, item);
	return item;
}

GwSyncmlCommand *
gw_syncml_command_add_child(GwSyncmlCommand *cmd, GwSyncmlCommand *child)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	g_return_val_if_fail(child != NULL, NULL);
	g_return_val_if_fail(cmd->children != NULL, NULL);
	g_ptr_array_add(cmd->children, child);
	return child;
}

static void
add_ref(GPtrArray **refs, const gchar *uri)
{
	if (*refs == NULL)
		*refs = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(*refs, g_strdup(uri));
}

void
gw_syncml_command_add_target_ref(GwSyncmlCommand *cmd, const gchar *uri)
{
	g_return_if_fail(cmd != NULL);
	g_return_if_fail(uri != NULL);
	add_ref(&cmd->target_refs, uri);
}

void
gw_syncml_command_add_source_ref(GwSyncmlCommand *cmd, const gchar *uri)
{
	g_return_if_fail(cmd != NULL);
	g_return_if_fail(uri != NULL);
	add_ref(&cmd->source_refs, uri);
}

static const gchar *
get_ref(const GPtrArray *refs, guint idx)
{
	if (refs == NULL || idx >= refs->len)
		return NULL;
	return g_ptr_array_index(refs, idx);
}

const gchar *
gw_syncml_command_get_target_ref(const GwSyncmlCommand *cmd, guint idx)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	return get_ref(cmd->target_refs, idx);
}

const gchar *
gw_syncml_command_get_source_ref(const GwSyncmlCommand *cmd, guint idx)
{
	g_return_val_if_fail(cmd != NULL, NULL);
	return get_ref(cmd->source_refs, idx);
}

static GPtrArray *
copy_refs(const GPtrArray *refs)
{
	GPtrArray *copy;
	if (refs == NULL)
		return NULL;
	copy = g_ptr_array_new_full(refs->len, g_free);
	for (guint i = 0; i < refs->len; i++)
		g_ptr_array_add(copy, g_strdup(g_ptr_array_index(refs, i)));
	return copy;
}

GwSyncmlCommand *
gw_syncml_command_copy(const GwSyncmlCommand *cmd)
{
	GwSyncmlCommand *copy;

	if (cmd == NULL)
		return NULL;
	copy = gw_syncml_command_new(cmd->type);
	copy->name = g_strdup(cmd->name);
	copy->cmd_id = cmd->cmd_id;
	copy->no_resp = cmd->no_resp;
	gw_syncml_meta_copy_into(&copy->meta, &cmd->meta);
	for (guint i = 0; i < cmd->items->len; i++)
		g_ptr_array_add(copy->items, gw_syncml_item_copy(g_ptr_array_index(cmd->items, i)));
	copy->alert_code = cmd->alert_code;
	copy->correlator = g_strdup(cmd->correlator);
	copy->msg_ref = cmd->msg_ref;
	copy->cmd_ref = cmd->cmd_ref;
	copy->cmd = g_strdup(cmd->cmd);
	copy->target_refs = copy_refs(cmd->target_refs);
	copy->source_refs = copy_refs(cmd->source_refs);
	copy->chal = gw_syncml_meta_dup(cmd->chal);
	copy->status_code = cmd->status_code;
	if (cmd->children != NULL) {
		if (copy->children == NULL)
			copy->children =
			    g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
		for (guint i = 0; i < cmd->children->len; i++)
			g_ptr_array_add(
			    copy->children,
			    gw_syncml_command_copy(g_ptr_array_index(cmd->children, i)));
	}
	return copy;
}

void
gw_syncml_command_free(GwSyncmlCommand *cmd)
{
	if (cmd == NULL)
		return;
	g_free(cmd->name);
	gw_syncml_meta_clear(&cmd->meta);
	g_ptr_array_unref(cmd->items);
	g_free(cmd->correlator);
	g_free(cmd->cmd);
	if (cmd->target_refs != NULL)
		g_ptr_array_unref(cmd->target_refs);
	if (cmd->source_refs != NULL)
		g_ptr_array_unref(cmd->source_refs);
	gw_syncml_meta_free(cmd->chal);
	if (cmd->children != NULL)
		g_ptr_array_unref(cmd->children);
	g_free(cmd);
}

/* NULL and empty arrays are the same thing */
static gboolean
refs_equal(const GPtrArray *a, const GPtrArray *b)
{
	guint na = a != NULL ? a->len : 0;
	guint nb = b != NULL ? b->len : 0;
	if (na != nb)
		return FALSE;
	for (guint i = 0; i < na; i++) {
		if (g_strcmp0(g_ptr_array_index(a, i), g_ptr_array_index(b, i)) != 0)
			return FALSE;
	}
	return TRUE;
}

static gboolean
commands_equal(const GPtrArray *a, const GPtrArray *b)
{
	guint na = a != NULL ? a->len : 0;
	guint nb = b != NULL ? b->len : 0;
	if (na != nb)
		return FALSE;
	for (guint i = 0; i < na; i++) {
		if (!gw_syncml_command_equal(g_ptr_array_index(a, i), g_ptr_array_index(b, i)))
			return FALSE;
	}
	return TRUE;
}

gboolean
gw_syncml_command_equal(const GwSyncmlCommand *a, const GwSyncmlCommand *b)
{
	if (a == b)
		return TRUE;
	if (a == NULL || b == NULL)
		return FALSE;
	if (a->type != b->type || g_strcmp0(a->name, b->name) != 0 || a->cmd_id != b->cmd_id ||
	    !a->no_resp != !b->no_resp || !gw_syncml_meta_equal(&a->meta, &b->meta))
		return FALSE;
	if (a->items->len != b->items->len)
		return FALSE;
	for (guint i = 0; i < a->items->len; i++) {
		if (!gw_syncml_item_equal(g_ptr_array_index(a->items, i),
		                          g_ptr_array_index(b->items, i)))
			return FALSE;
	}
	return a->alert_code == b->alert_code && g_strcmp0(a->correlator, b->correlator) == 0 &&
	       a->msg_ref == b->msg_ref && a->cmd_ref == b->cmd_ref &&
	       g_strcmp0(a->cmd, b->cmd) == 0 && refs_equal(a->target_refs, b->target_refs) &&
	       refs_equal(a->source_refs, b->source_refs) &&
	       gw_syncml_meta_equal(a->chal, b->chal) && a->status_code == b->status_code &&
	       commands_equal(a->children, b->children);
}

/* ---- builders ---- */

GwSyncmlCommand *
gw_syncml_status_new(guint32 msg_ref, guint32 cmd_ref, const gchar *cmd_name, guint status_code)
{
	GwSyncmlCommand *status;

	g_return_val_if_fail(cmd_name != NULL, NULL);
	status = gw_syncml_command_new(GW_SYNCML_CMD_STATUS);
	status->msg_ref = msg_ref;
	status->cmd_ref = cmd_ref;
	status->cmd = g_strdup(cmd_name);
	status->status_code = status_code;
	return status;
}

GwSyncmlCommand *
gw_syncml_status_new_for_command(guint32 msg_ref, const GwSyncmlCommand *cmd, guint status_code)
{
	const gchar *name;

	g_return_val_if_fail(cmd != NULL, NULL);
	name = gw_syncml_command_get_name(cmd);
	return gw_syncml_status_new(msg_ref, cmd->cmd_id, name != NULL ? name : "", status_code);
}

GwSyncmlCommand *
gw_syncml_status_new_for_item(guint32 msg_ref,
                              const GwSyncmlCommand *cmd,
                              const GwSyncmlItem *item,
                              guint status_code)
{
	GwSyncmlCommand *status;

	g_return_val_if_fail(cmd != NULL, NULL);
	g_return_val_if_fail(item != NULL, NULL);
	status = gw_syncml_status_new_for_command(msg_ref, cmd, status_code);
	if (item->target_uri != NULL)
		gw_syncml_command_add_target_ref(status, item->target_uri);
	if (item->source_uri != NULL)
		gw_syncml_command_add_source_ref(status, item->source_uri);
	return status;
}

void
gw_syncml_status_set_chal(GwSyncmlCommand *status,
                          const gchar *type,
                          const gchar *format,
                          const gchar *next_nonce)
{
	g_return_if_fail(status != NULL);
	gw_syncml_meta_free(status->chal);
	status->chal = gw_syncml_meta_new();
	status->chal->type = g_strdup(type);
	status->chal->format = g_strdup(format);
	status->chal->next_nonce = g_strdup(next_nonce);
}

GwSyncmlCommand *
gw_syncml_results_new_for_get(guint32 msg_ref, const GwSyncmlCommand *get)
{
	GwSyncmlCommand *results;

	g_return_val_if_fail(get != NULL, NULL);
	results = gw_syncml_command_new(GW_SYNCML_CMD_RESULTS);
	results->msg_ref = msg_ref;
	results->cmd_ref = get->cmd_id;
	return results;
}

GwSyncmlCommand *
gw_syncml_alert_new(guint code)
{
	GwSyncmlCommand *alert = gw_syncml_command_new(GW_SYNCML_CMD_ALERT);
	alert->alert_code = code;
	return alert;
}

GwSyncmlCommand *
gw_syncml_alert_new_generic(const gchar *correlator,
                            const gchar *source_uri,
                            const gchar *target_uri,
                            const gchar *type,
                            const gchar *format,
                            const gchar *mark,
                            const gchar *data)
{
	GwSyncmlCommand *alert;
	GwSyncmlItem *item;

	g_return_val_if_fail(source_uri != NULL, NULL);
	g_return_val_if_fail(type != NULL, NULL);
	alert = gw_syncml_alert_new(GW_SYNCML_ALERT_GENERIC);
	alert->correlator = g_strdup(correlator);
	item = gw_syncml_command_add_item(alert, gw_syncml_item_new(target_uri, source_uri));
	item->meta.type = g_strdup(type);
	item->meta.format = g_strdup(format);
	item->meta.mark = g_strdup(mark);
	item->data = g_strdup(data);
	return alert;
}

/* ---- message ---- */

GwSyncmlMessage *
gw_syncml_message_new(GwSyncmlVersion version,
                      const gchar *session_id,
                      guint32 msg_id,
                      const gchar *target_uri,
                      const gchar *source_uri)
{
	GwSyncmlMessage *msg;

	g_return_val_if_fail(session_id != NULL, NULL);
	g_return_val_if_fail(target_uri != NULL, NULL);
	g_return_val_if_fail(source_uri != NULL, NULL);
	msg = g_new0(GwSyncmlMessage, 1);
	msg->hdr.version = version;
	msg->hdr.session_id = g_strdup(session_id);
	msg->hdr.msg_id = msg_id;
	msg->hdr.target_uri = g_strdup(target_uri);
	msg->hdr.source_uri = g_strdup(source_uri);
	gw_syncml_meta_init(&msg->hdr.meta);
	msg->commands = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
	return msg;
}

void
gw_syncml_message_free(GwSyncmlMessage *msg)
{
	if (msg == NULL)
		return;
	g_free(msg->hdr.session_id);
	g_free(msg->hdr.target_uri);
	g_free(msg->hdr.target_name);
	g_free(msg->hdr.source_uri);
	g_free(msg->hdr.source_name);
	g_free(msg->hdr.resp_uri);
	gw_syncml_cred_free(msg->hdr.cred);
	gw_syncml_meta_clear(&msg->hdr.meta);
	if (msg->commands != NULL)
		g_ptr_array_unref(msg->commands);
	g_free(msg);
}

gboolean
gw_syncml_message_equal(const GwSyncmlMessage *a, const GwSyncmlMessage *b)
{
	if (a == b)
		return TRUE;
	if (a == NULL || b == NULL)
		return FALSE;
	return a->hdr.version == b->hdr.version &&
	       g_strcmp0(a->hdr.session_id, b->hdr.session_id) == 0 &&
	       a->hdr.msg_id == b->hdr.msg_id &&
	       g_strcmp0(a->hdr.target_uri, b->hdr.target_uri) == 0 &&
	       g_strcmp0(a->hdr.target_name, b->hdr.target_name) == 0 &&
	       g_strcmp0(a->hdr.source_uri, b->hdr.source_uri) == 0 &&
	       g_strcmp0(a->hdr.source_name, b->hdr.source_name) == 0 &&
	       g_strcmp0(a->hdr.resp_uri, b->hdr.resp_uri) == 0 &&
	       !a->hdr.no_resp == !b->hdr.no_resp &&
	       gw_syncml_cred_equal(a->hdr.cred, b->hdr.cred) &&
	       gw_syncml_meta_equal(&a->hdr.meta, &b->hdr.meta) && !a->final == !b->final &&
	       commands_equal(a->commands, b->commands);
}

static void
number_command(GwSyncmlMessage *msg, GwSyncmlCommand *cmd)
{
	if (cmd->cmd_id == 0 && msg->last_cmd_id < G_MAXUINT32)
		cmd->cmd_id = ++msg->last_cmd_id;
	else if (cmd->cmd_id > msg->last_cmd_id)
		msg->last_cmd_id = cmd->cmd_id;
	if (cmd->children == NULL)
		return;
	for (guint i = 0; i < cmd->children->len; i++)
		number_command(msg, g_ptr_array_index(cmd->children, i));
}

GwSyncmlCommand *
gw_syncml_message_add_command(GwSyncmlMessage *msg, GwSyncmlCommand *cmd)
{
	g_return_val_if_fail(msg != NULL, NULL);
	g_return_val_if_fail(cmd != NULL, NULL);
	number_command(msg, cmd);
	g_ptr_array_add(msg->commands, cmd);
	return cmd;
}

void
gw_syncml_message_set_cred(GwSyncmlMessage *msg,
                           const gchar *type,
                           const gchar *format,
                           const gchar *data)
{
	g_return_if_fail(msg != NULL);
	g_clear_pointer(&msg->hdr.cred, gw_syncml_cred_free);
	if (data != NULL)
		msg->hdr.cred = gw_syncml_cred_new(type, format, data);
}

GwSyncmlVersion
gw_syncml_message_get_version(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, GW_SYNCML_VERSION_DM_1_2);
	return msg->hdr.version;
}

const gchar *
gw_syncml_message_get_session_id(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, NULL);
	return msg->hdr.session_id;
}

guint32
gw_syncml_message_get_msg_id(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, 0);
	return msg->hdr.msg_id;
}

const gchar *
gw_syncml_message_get_target_uri(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, NULL);
	return msg->hdr.target_uri;
}

const gchar *
gw_syncml_message_get_source_uri(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, NULL);
	return msg->hdr.source_uri;
}

gint64
gw_syncml_message_get_max_msg_size(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, -1);
	return msg->hdr.meta.max_msg_size;
}

const GwSyncmlCred *
gw_syncml_message_get_cred(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, NULL);
	return msg->hdr.cred;
}

GPtrArray *
gw_syncml_message_get_commands(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, NULL);
	return msg->commands;
}

gboolean
gw_syncml_message_get_final(const GwSyncmlMessage *msg)
{
	g_return_val_if_fail(msg != NULL, FALSE);
	return msg->final;
}

static GwSyncmlCommand *
find_command(const GPtrArray *cmds, guint32 cmd_id)
{
	for (guint i = 0; i < cmds->len; i++) {
		GwSyncmlCommand *cmd = g_ptr_array_index(cmds, i);
		if (cmd->cmd_id == cmd_id)
			return cmd;
		if (cmd->children != NULL) {
			GwSyncmlCommand *found = find_command(cmd->children, cmd_id);
			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

GwSyncmlCommand *
gw_syncml_message_find_command(const GwSyncmlMessage *msg, guint32 cmd_id)
{
	g_return_val_if_fail(msg != NULL, NULL);
	return find_command(msg->commands, cmd_id);
}

GwSyncmlCommand *
gw_syncml_message_find_status(const GwSyncmlMessage *msg, guint32 msg_ref, guint32 cmd_ref)
{
	g_return_val_if_fail(msg != NULL, NULL);
	for (guint i = 0; i < msg->commands->len; i++) {
		GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);
		if (cmd->type == GW_SYNCML_CMD_STATUS && cmd->cmd_ref == cmd_ref &&
		    (cmd->msg_ref == 0 || cmd->msg_ref == msg_ref))
			return cmd;
	}
	return NULL;
}

GwSyncmlCommand *
gw_syncml_status_new_for_header(const GwSyncmlMessage *received, guint status_code)
{
	GwSyncmlCommand *status;

	g_return_val_if_fail(received != NULL, NULL);
	status = gw_syncml_status_new(received->hdr.msg_id, 0, "SyncHdr", status_code);
	if (received->hdr.target_uri != NULL)
		gw_syncml_command_add_target_ref(status, received->hdr.target_uri);
	if (received->hdr.source_uri != NULL)
		gw_syncml_command_add_source_ref(status, received->hdr.source_uri);
	return status;
}
