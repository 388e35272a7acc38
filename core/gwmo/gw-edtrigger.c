/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwEdTrigger"

#include "config.h"

#include <string.h>

#include "gw-dm-owner.h"
#include "gw-edtrigger.h"
#include "gw-error.h"
#include "gw-gwmo-names.h"

#define GW_EDTRIGGER_MIME "text/plain"
#define ACCESS_ENTRY \
	(GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_DELETE | GW_DM_ACCESS_REPLACE)
#define ACCESS_GET_REPLACE (GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE)

struct _GwEdTrigger {
	GObject parent_instance;
	GwDmTree *tree;
	GwNorthbound *northbound;
	gulong changed_id;
	guint exec_id;
	GwDmOwner owner; /* the writes of the module itself */
};

G_DEFINE_TYPE(GwEdTrigger, gw_edtrigger, G_TYPE_OBJECT)

/* ---- entries ---- */

static gboolean
gw_edtrigger_set_leaf(GwEdTrigger *self,
                      const gchar *uri,
                      GwDmFormat format,
                      const gchar *value,
                      GwDmAccess access,
                      GError **error)
{
	return gw_dm_owner_set_leaf(
	    &self->owner, uri, format, GW_EDTRIGGER_MIME, value, access, error);
}

/* the entry @name was made by @server_id (a DM Add): its ACL, Operations/Trigger and Status */
static gboolean
gw_edtrigger_setup_entry(GwEdTrigger *self,
                         const gchar *name,
                         const gchar *server_id,
                         GError **error)
{
	g_autofree gchar *uri = g_strdup_printf(GW_GWMO_EDTRIGGER "/%s", name);
	g_autofree gchar *ops = g_strdup_printf("%s/" GW_GWMO_EDTRIGGER_OPERATIONS, uri);
	g_autofree gchar *trigger = g_strdup_printf("%s/" GW_GWMO_EDTRIGGER_TRIGGER, ops);
	g_autofree gchar *status = g_strdup_printf("%s/" GW_GWMO_EDTRIGGER_STATUS, uri);
	g_autofree gchar *acl = NULL;
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
	gboolean ok = TRUE;

	if (node == NULL || gw_dm_node_is_leaf(node)) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s is not an interior node", uri);
		return FALSE;
	}
	if (gw_dm_tree_lookup(self->tree, trigger) != NULL)
		return TRUE; /* set up already */
	/* the creator's alone (GwMO-SECARIZE-001); an entry of the local owner stays "Get=*" */
	if (server_id != NULL && gw_dm_acl_server_id_is_valid(server_id))
		acl = gw_dm_acl_owner_text(server_id, GW_DM_ACCESS_ALL & ~GW_DM_ACCESS_COPY);
	ok = gw_dm_owner_set_properties(&self->owner, uri, ACCESS_ENTRY, acl, error) &&
	     gw_dm_owner_ensure_interior(&self->owner, ops, GW_DM_ACCESS_GET, NULL, error) &&
	     gw_dm_owner_set_leaf(&self->owner,
	                          trigger,
	                          GW_DM_FORMAT_NULL,
	                          NULL,
	                          NULL,
	                          GW_DM_ACCESS_GET | GW_DM_ACCESS_EXEC,
	                          error);
	if (!ok)
		return FALSE;
	/* not permanent (the creator Deletes the whole entry), but no Delete or Replace access:
	 * only the gateway writes them */
	return gw_edtrigger_set_leaf(self, status, GW_DM_FORMAT_INT, "0", GW_DM_ACCESS_GET, error);
}

static void
gw_edtrigger_tree_changed_cb(GwDmTree *tree,
                             const gchar *uri,
                             guint change,
                             const gchar *server_id,
                             gpointer user_data)
{
	GwEdTrigger *self = GW_EDTRIGGER(user_data);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) segs = NULL;
	guint depth;

	if (gw_dm_owner_is_writing(&self->owner) || uri == NULL || change != GW_DM_CHANGE_ADDED ||
	    !gw_dm_uri_is_below(uri, GW_GWMO_EDTRIGGER) || g_strcmp0(uri, GW_GWMO_EDTRIGGER) == 0)
		return;
	segs = g_strsplit(uri + strlen(GW_GWMO_EDTRIGGER) + 1, "/", 3);
	depth = g_strv_length(segs);
	/* Add of the entry itself, or of a leaf whose missing entry the tree created */
	if (!gw_edtrigger_setup_entry(self, segs[0], server_id, &error)) {
		g_warning("cannot set up EDTrigger entry %s: %s", segs[0], error->message);
		return;
	}
	if (depth == 2 && (g_strcmp0(segs[1], GW_GWMO_EDTRIGGER_DEVICE_ID) == 0 ||
	                   g_strcmp0(segs[1], GW_GWMO_EDTRIGGER_NOTIFICATION) == 0)) {
		GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
		if (node == NULL || !gw_dm_node_is_leaf(node))
			return;
		if (!gw_dm_owner_set_properties(
		        &self->owner, uri, ACCESS_GET_REPLACE, NULL, &error))
			g_warning("cannot set the access types of %s: %s", uri, error->message);
	}
}

/* ---- Operations/Trigger ---- */

static guint
gw_edtrigger_status_of(GwNorthboundRelay relay)
{
	switch (relay) {
	case GW_NORTHBOUND_RELAY_FORWARDED:
		return GW_DM_STATUS_OK;
	case GW_NORTHBOUND_RELAY_MALFORMED:
		return GW_DM_STATUS_BAD_REQUEST;
	case GW_NORTHBOUND_RELAY_BAD_DIGEST:
		return GW_DM_STATUS_INVALID_CREDENTIALS;
	case GW_NORTHBOUND_RELAY_NOT_VISIBLE:
		return GW_DM_STATUS_FORBIDDEN;
	case GW_NORTHBOUND_RELAY_UNKNOWN_DEVICE:
		return GW_DM_STATUS_NOT_FOUND;
	case GW_NORTHBOUND_RELAY_NO_NOTIFY_ADDR:
		return GW_DM_STATUS_GONE;
	case GW_NORTHBOUND_RELAY_NOT_TRANSPARENT:
		return GW_DM_STATUS_COMMAND_NOT_ALLOWED;
	}
	return GW_DM_STATUS_COMMAND_FAILED;
}

static guint
gw_edtrigger_exec(GwDmTree *tree,
                  const gchar *server_id,
                  const gchar *uri,
                  GBytes *data,
                  const gchar *correlator,
                  gpointer user_data)
{
	GwEdTrigger *self = GW_EDTRIGGER(user_data);
	g_auto(GStrv) segs = g_strsplit(uri + strlen(GW_GWMO_EDTRIGGER) + 1, "/", 2);
	g_autofree gchar *entry = g_strdup_printf(GW_GWMO_EDTRIGGER "/%s", segs[0]);
	g_autofree gchar *id_uri = g_strdup_printf("%s/" GW_GWMO_EDTRIGGER_DEVICE_ID, entry);
	g_autofree gchar *n_uri = g_strdup_printf("%s/" GW_GWMO_EDTRIGGER_NOTIFICATION, entry);
	g_autofree gchar *status_uri = g_strdup_printf("%s/" GW_GWMO_EDTRIGGER_STATUS, entry);
	g_autofree gchar *device_id = gw_dm_tree_dup_string(tree, id_uri);
	g_autofree gchar *status_text = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) write_error = NULL;
	GwDmNode *n_node = gw_dm_tree_lookup(tree, n_uri);
	GBytes *pkg0 = n_node != NULL ? gw_dm_node_get_value(n_node) : NULL;
	guint status;

	if (device_id == NULL || device_id[0] == '\0') {
		g_info("EDTrigger %s fired by %s without a DeviceID", entry, server_id);
		status = GW_DM_STATUS_NOT_FOUND;
	} else if (pkg0 == NULL || g_bytes_get_size(pkg0) == 0) {
		g_info("EDTrigger %s fired by %s without a Notification", entry, server_id);
		status = GW_DM_STATUS_BAD_REQUEST;
	} else {
		GwNorthboundRelay r = gw_northbound_relay_notification(
		    self->northbound, server_id, device_id, pkg0, &error);
		status = gw_edtrigger_status_of(r);
		if (r == GW_NORTHBOUND_RELAY_FORWARDED)
			g_message("EDTrigger %s of %s: notification forwarded to %s",
			          entry,
			          server_id,
			          device_id);
		else if (r == GW_NORTHBOUND_RELAY_BAD_DIGEST ||
		         r == GW_NORTHBOUND_RELAY_NOT_VISIBLE || r == GW_NORTHBOUND_RELAY_MALFORMED)
			g_warning("EDTrigger %s of %s for device '%s' refused (%u): %s",
			          entry,
			          server_id,
			          device_id,
			          status,
			          error->message);
		else
			g_info("EDTrigger %s of %s for device '%s' not forwarded (%u): %s",
			       entry,
			       server_id,
			       device_id,
			       status,
			       error->message);
	}
	status_text = g_strdup_printf("%u", status);
	if (!gw_edtrigger_set_leaf(
	        self, status_uri, GW_DM_FORMAT_INT, status_text, GW_DM_ACCESS_GET, &write_error))
		g_warning("cannot write %s: %s", status_uri, write_error->message);
	return status;
}

/* ---- GObject ---- */

static void
gw_edtrigger_dispose(GObject *object)
{
	GwEdTrigger *self = GW_EDTRIGGER(object);

	if (self->tree != NULL) {
		if (self->changed_id != 0)
			g_signal_handler_disconnect(self->tree, self->changed_id);
		if (self->exec_id != 0)
			gw_dm_tree_remove_handler(self->tree, self->exec_id);
	}
	self->changed_id = 0;
	self->exec_id = 0;
	g_clear_object(&self->northbound);
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(gw_edtrigger_parent_class)->dispose(object);
}

static void
gw_edtrigger_class_init(GwEdTriggerClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_edtrigger_dispose;
}

static void
gw_edtrigger_init(GwEdTrigger *self)
{
}

GwEdTrigger *
gw_edtrigger_new(GwDmTree *tree, GwNorthbound *northbound, GError **error)
{
	g_autoptr(GwEdTrigger) self = NULL;
	g_auto(GStrv) entries = NULL;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(GW_IS_NORTHBOUND(northbound), NULL);

	self = g_object_new(GW_TYPE_EDTRIGGER, NULL);
	self->tree = g_object_ref(tree);
	gw_dm_owner_init(&self->owner, self->tree);
	self->northbound = g_object_ref(northbound);
	/* any DM Server may make an entry; the entry then carries its creator's ACL */
	if (!gw_dm_tree_ensure_interior(tree, GW_GWMO_EDTRIGGER, error) ||
	    !gw_dm_tree_set_properties(tree,
	                               GW_GWMO_EDTRIGGER,
	                               GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD,
	                               "Add=*&Get=*",
	                               NULL,
	                               error))
		return NULL;
	/* entries restored from the state file made before their set-up ran (a crash) */
	entries = gw_dm_tree_list_children(tree, GW_GWMO_EDTRIGGER);
	for (guint i = 0; entries != NULL && entries[i] != NULL; i++) {
		g_autoptr(GError) local = NULL;
		g_autofree gchar *uri = g_strdup_printf(GW_GWMO_EDTRIGGER "/%s", entries[i]);
		GwDmNode *node = gw_dm_tree_lookup(tree, uri);
		if (node != NULL && !gw_dm_node_is_leaf(node) &&
		    !gw_edtrigger_setup_entry(self, entries[i], NULL, &local))
			g_warning(
			    "cannot set up EDTrigger entry %s: %s", entries[i], local->message);
	}
	self->exec_id = gw_dm_tree_add_exec_handler(
	    tree,
	    GW_GWMO_EDTRIGGER "/*/" GW_GWMO_EDTRIGGER_OPERATIONS "/" GW_GWMO_EDTRIGGER_TRIGGER,
	    gw_edtrigger_exec,
	    self,
	    NULL);
	self->changed_id =
	    g_signal_connect(tree, "changed", G_CALLBACK(gw_edtrigger_tree_changed_cb), self);
	return g_steal_pointer(&self);
}
