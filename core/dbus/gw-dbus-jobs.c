/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbusJobs"

#include "config.h"

#include <string.h>

#include "gw-dbus-generated.h"
#include "gw-dbus-jobs.h"
#include "gw-dbus-manager.h"
#include "gw-error.h"
#include "gw-fanout.h"
#include "gw-gwmo-names.h"

typedef struct {
	gchar *uri;
	GwDbusGenObjectSkeleton *object;
	GwDbusGenJob *job;
	gulong cancel_id;
} GwDbusJobEntry;

struct _GwDbusJobs {
	GObject parent_instance;
	GwDaemon *daemon; /* not owned */
	GwFanout *fanout;
	GDBusObjectManagerServer *object_manager;
	GwDbusAuthorizeFunc authorize;
	gpointer authorize_data;
	GHashTable *entries; /* object path → GwDbusJobEntry */
	gulong added_id;
	gulong changed_id;
	gulong finished_id;
	gulong removed_id;
};

G_DEFINE_TYPE(GwDbusJobs, gw_dbus_jobs, G_TYPE_OBJECT)

gchar *
gw_dbus_jobs_path(const gchar *job_uri)
{
	const gchar *name;
	g_autofree gchar *escaped = NULL;

	if (job_uri == NULL || !g_str_has_prefix(job_uri, GW_GWMO_FANOUT "/"))
		return NULL;
	name = job_uri + strlen(GW_GWMO_FANOUT) + 1;
	if (*name == '\0' || strchr(name, '/') != NULL)
		return NULL;
	escaped = g_dbus_escape_object_path(name);
	return g_strdup_printf(GW_DBUS_JOBS_PATH "/%s", escaped);
}

static void
gw_dbus_job_entry_free(gpointer data)
{
	GwDbusJobEntry *entry = data;
	if (entry->cancel_id != 0)
		g_signal_handler_disconnect(entry->job, entry->cancel_id);
	g_clear_object(&entry->job);
	g_clear_object(&entry->object);
	g_free(entry->uri);
	g_free(entry);
}

static void
gw_dbus_jobs_refresh(GwDbusJobs *self, GwDbusJobEntry *entry)
{
	GwFanoutJobInfo info = {0};
	guint progress = 0;

	if (!gw_fanout_get_job_info(self->fanout, entry->uri, &info))
		return;
	if (info.total > 0)
		progress = (guint)(((guint64)(info.total - MIN(info.pending, info.total)) * 100) /
		                   info.total);
	else if (g_strcmp0(info.state, GW_GWMO_FANOUT_STATE_IDLE) != 0 &&
	         g_strcmp0(info.state, GW_GWMO_FANOUT_STATE_IN_PROGRESS) != 0)
		progress = 100;
	gw_dbus_gen_job_set_state(entry->job, info.state);
	gw_dbus_gen_job_set_total(entry->job, info.total);
	gw_dbus_gen_job_set_succeeded(entry->job, info.succeeded);
	gw_dbus_gen_job_set_failed(entry->job, info.failed);
	gw_dbus_gen_job_set_pending(entry->job, info.pending);
	gw_dbus_gen_job_set_progress(entry->job, progress);
	gw_dbus_gen_job_set_job_uri(entry->job, entry->uri);
	gw_fanout_job_info_clear(&info);
}

static gboolean
gw_dbus_jobs_handle_cancel(GwDbusGenJob *job, GDBusMethodInvocation *invocation, gpointer user_data)
{
	GwDbusJobs *self = GW_DBUS_JOBS(user_data);
	const gchar *uri = gw_dbus_gen_job_get_job_uri(job);
	g_autoptr(GError) error = NULL;

	if (!self->authorize(invocation, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!gw_fanout_cancel_job(self->fanout, uri, &error)) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("Cancel %s by %s", uri, g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_gen_job_complete_cancel(job, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gchar *
gw_dbus_jobs_export(GwDbusJobs *self, const gchar *job_uri)
{
	g_autofree gchar *path = gw_dbus_jobs_path(job_uri);
	GwDbusJobEntry *entry;

	if (path == NULL)
		return NULL;
	entry = g_hash_table_lookup(self->entries, path);
	if (entry == NULL) {
		entry = g_new0(GwDbusJobEntry, 1);
		entry->uri = g_strdup(job_uri);
		entry->object = gw_dbus_gen_object_skeleton_new(path);
		entry->job = gw_dbus_gen_job_skeleton_new();
		entry->cancel_id = g_signal_connect(
		    entry->job, "handle-cancel", G_CALLBACK(gw_dbus_jobs_handle_cancel), self);
		gw_dbus_gen_object_skeleton_set_job(entry->object, entry->job);
		gw_dbus_jobs_refresh(self, entry);
		g_hash_table_insert(self->entries, g_strdup(path), entry);
		g_dbus_object_manager_server_export(self->object_manager,
		                                    G_DBUS_OBJECT_SKELETON(entry->object));
		g_debug("exported %s (%s)", path, job_uri);
	} else {
		gw_dbus_jobs_refresh(self, entry);
	}
	return g_steal_pointer(&path);
}

static void
gw_dbus_jobs_added_cb(GwFanout *fanout, const gchar *uri, gpointer user_data)
{
	g_autofree gchar *path = gw_dbus_jobs_export(GW_DBUS_JOBS(user_data), uri);
}

static void
gw_dbus_jobs_changed_cb(GwFanout *fanout, const gchar *uri, gpointer user_data)
{
	g_autofree gchar *path = gw_dbus_jobs_export(GW_DBUS_JOBS(user_data), uri);
}

static void
gw_dbus_jobs_finished_cb(GwFanout *fanout, const gchar *uri, const gchar *xml, gpointer user_data)
{
	GwDbusJobs *self = GW_DBUS_JOBS(user_data);
	g_autofree gchar *path = gw_dbus_jobs_export(self, uri);
	GwDbusJobEntry *entry = path != NULL ? g_hash_table_lookup(self->entries, path) : NULL;

	if (entry != NULL) {
		/* the properties first, so a client that reads them on Finished sees the end */
		g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(entry->job));
		gw_dbus_gen_job_emit_finished(entry->job, xml != NULL ? xml : "");
	}
}

static void
gw_dbus_jobs_removed_cb(GwFanout *fanout, const gchar *uri, gpointer user_data)
{
	GwDbusJobs *self = GW_DBUS_JOBS(user_data);
	g_autofree gchar *path = gw_dbus_jobs_path(uri);

	if (path == NULL || !g_hash_table_contains(self->entries, path))
		return;
	g_dbus_object_manager_server_unexport(self->object_manager, path);
	g_hash_table_remove(self->entries, path);
}

/* ---- Manager.Fanout ---- */

typedef struct {
	const gchar *key;
	const gchar *type;
} GwDbusJobsKey;

static const GwDbusJobsKey gw_dbus_jobs_keys[] = {
    {"Group", "s"},
    {"Devices", "as"},
    {"Command", "s"},
    {"TargetURI", "s"},
    {"Data", "s"},
    {"Format", "s"},
    {"Type", "s"},
    {"Timeout", "u"},
    {"MaxInFlight", "u"},
    {"Aggregate", "s"},
};

typedef GwFanoutSpec GwDbusJobsSpec;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(GwDbusJobsSpec, gw_fanout_spec_clear)

static gboolean
gw_dbus_jobs_parse_spec(GVariant *dict, GwFanoutSpec *spec, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GVariantIter iter;
	const gchar *key;
	GVariant *value_raw;

	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value_raw)) {
		g_autoptr(GVariant) value = value_raw;
		const GwDbusJobsKey *k = NULL;

		for (guint i = 0; i < G_N_ELEMENTS(gw_dbus_jobs_keys); i++) {
			if (g_strcmp0(key, gw_dbus_jobs_keys[i].key) == 0)
				k = &gw_dbus_jobs_keys[i];
		}
		if (k == NULL) {
			g_set_error(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown key '%s'", key);
			return FALSE;
		}
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE(k->type))) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "%s takes a value of type %s, not %s",
			            key,
			            k->type,
			            g_variant_get_type_string(value));
			return FALSE;
		}
		if (!g_hash_table_add(seen, (gpointer)k->key)) {
			g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s given twice", key);
			return FALSE;
		}
		if (g_strcmp0(key, "Group") == 0)
			spec->group = g_variant_dup_string(value, NULL);
		else if (g_strcmp0(key, "Devices") == 0)
			spec->devices = g_variant_dup_strv(value, NULL);
		else if (g_strcmp0(key, "Command") == 0)
			spec->command = g_variant_dup_string(value, NULL);
		else if (g_strcmp0(key, "TargetURI") == 0)
			spec->target_uri = g_variant_dup_string(value, NULL);
		else if (g_strcmp0(key, "Data") == 0)
			spec->data = g_variant_dup_string(value, NULL);
		else if (g_strcmp0(key, "Format") == 0)
			spec->format = g_variant_dup_string(value, NULL);
		else if (g_strcmp0(key, "Type") == 0)
			spec->type = g_variant_dup_string(value, NULL);
		else if (g_strcmp0(key, "Timeout") == 0)
			spec->timeout = g_variant_get_uint32(value);
		else if (g_strcmp0(key, "MaxInFlight") == 0)
			spec->max_in_flight = g_variant_get_uint32(value);
		else if (g_strcmp0(key, "Aggregate") == 0)
			spec->aggregate = g_variant_dup_string(value, NULL);
	}
	return TRUE;
}

void
gw_dbus_jobs_handle_fanout(GwDbusJobs *self, GDBusMethodInvocation *invocation, GVariant *dict)
{
	g_auto(GwDbusJobsSpec) spec = {0};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *path = NULL;

	/* shape first, then who asks, then state */
	if (!gw_dbus_jobs_parse_spec(dict, &spec, &error)) {
		gw_dbus_return_error(invocation, error);
		return;
	}
	if (!self->authorize(invocation, self->authorize_data))
		return;
	if (spec.group != NULL && spec.group[0] != '\0') {
		g_autofree gchar *group_uri =
		    gw_inventory_find_group(gw_daemon_get_inventory(self->daemon), spec.group);
		if (group_uri == NULL) {
			g_dbus_method_invocation_return_error(
			    invocation, GW_ERROR, GW_ERROR_NOT_FOUND, "no group %s", spec.group);
			return;
		}
	}
	uri = gw_fanout_create_job(self->fanout, &spec, NULL, &error);
	if (uri == NULL) {
		gw_dbus_return_error(invocation, error);
		return;
	}
	if (!gw_fanout_start_job(self->fanout, uri, &error)) {
		gw_dbus_return_error(invocation, error);
		return;
	}
	path = gw_dbus_jobs_export(self, uri);
	if (!gw_dm_store_flush(gw_daemon_get_store(self->daemon), &error)) {
		gw_dbus_return_error(invocation, error);
		return;
	}
	g_info("Fanout %s (%s) by %s", uri, path, g_dbus_method_invocation_get_sender(invocation));
	g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", path));
}

/* ---- GObject ---- */

static void
gw_dbus_jobs_dispose(GObject *object)
{
	GwDbusJobs *self = GW_DBUS_JOBS(object);
	if (self->fanout != NULL) {
		g_signal_handler_disconnect(self->fanout, self->added_id);
		g_signal_handler_disconnect(self->fanout, self->changed_id);
		g_signal_handler_disconnect(self->fanout, self->finished_id);
		g_signal_handler_disconnect(self->fanout, self->removed_id);
		g_clear_object(&self->fanout);
	}
	if (self->entries != NULL) {
		GHashTableIter iter;
		gpointer key;
		g_hash_table_iter_init(&iter, self->entries);
		while (g_hash_table_iter_next(&iter, &key, NULL))
			g_dbus_object_manager_server_unexport(self->object_manager, key);
		g_hash_table_remove_all(self->entries);
	}
	g_clear_object(&self->object_manager);
	G_OBJECT_CLASS(gw_dbus_jobs_parent_class)->dispose(object);
}

static void
gw_dbus_jobs_finalize(GObject *object)
{
	GwDbusJobs *self = GW_DBUS_JOBS(object);
	g_hash_table_unref(self->entries);
	G_OBJECT_CLASS(gw_dbus_jobs_parent_class)->finalize(object);
}

static void
gw_dbus_jobs_class_init(GwDbusJobsClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_jobs_dispose;
	G_OBJECT_CLASS(klass)->finalize = gw_dbus_jobs_finalize;
}

static void
gw_dbus_jobs_init(GwDbusJobs *self)
{
	self->entries =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_dbus_job_entry_free);
}

GwDbusJobs *
gw_dbus_jobs_new(GwDaemon *daemon,
                 GDBusObjectManagerServer *object_manager,
                 GwDbusAuthorizeFunc authorize,
                 gpointer authorize_data)
{
	GwDbusJobs *self = g_object_new(GW_TYPE_DBUS_JOBS, NULL);
	g_autoptr(GPtrArray) jobs = NULL;

	self->daemon = daemon;
	self->fanout = g_object_ref(gw_daemon_get_fanout(daemon));
	self->object_manager = g_object_ref(object_manager);
	self->authorize = authorize;
	self->authorize_data = authorize_data;
	self->added_id =
	    g_signal_connect(self->fanout, "job-added", G_CALLBACK(gw_dbus_jobs_added_cb), self);
	self->changed_id = g_signal_connect(
	    self->fanout, "job-changed", G_CALLBACK(gw_dbus_jobs_changed_cb), self);
	self->finished_id = g_signal_connect(
	    self->fanout, "job-finished", G_CALLBACK(gw_dbus_jobs_finished_cb), self);
	self->removed_id = g_signal_connect(
	    self->fanout, "job-removed", G_CALLBACK(gw_dbus_jobs_removed_cb), self);
	jobs = gw_fanout_list_jobs(self->fanout);
	for (guint i = 0; i < jobs->len; i++) {
		g_autofree gchar *path = gw_dbus_jobs_export(self, g_ptr_array_index(jobs, i));
	}
	return self;
}
