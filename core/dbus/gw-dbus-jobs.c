/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbusJobs"

#include "config.h"

#include "gw-dbus-authority.h"
#include "gw-dbus-exporter.h"
#include "gw-dbus-generated.h"
#include "gw-dbus-jobs.h"
#include "gw-dbus-manager.h"
#include "gw-error.h"
#include "gw-fanout.h"
#include "gw-gwmo-names.h"

struct _GwDbusJobs {
	GObject parent_instance;
	GwGateway *gateway; /* not owned */
	GwFanout *fanout;
	GwDbusExporter *exporter; /* ./GwMO/Fanout/<x> → /org/gwmo/Gateway1/Jobs/<x> */
	GwDbusAuthorizeFunc authorize;
	gpointer authorize_data;
	gulong added_id;
	gulong changed_id;
	gulong finished_id;
	gulong removed_id;
};

G_DEFINE_TYPE(GwDbusJobs, gw_dbus_jobs, G_TYPE_OBJECT)

gchar *
gw_dbus_jobs_path(const gchar *job_uri)
{
	return gw_dbus_exporter_path_of(GW_GWMO_FANOUT, GW_DBUS_JOBS_PATH, job_uri);
}

static void
gw_dbus_jobs_fill(GwDbusExporter *exporter,
                  const gchar *uri,
                  GDBusInterfaceSkeleton *iface,
                  gpointer user_data)
{
	GwDbusJobs *self = GW_DBUS_JOBS(user_data);
	GwDbusGenJob *job = GW_DBUS_GEN_JOB(iface);
	GwFanoutJobInfo info = {0};
	guint progress = 0;

	if (!gw_fanout_get_job_info(self->fanout, uri, &info))
		return;
	if (info.total > 0)
		progress = (guint)(((guint64)(info.total - MIN(info.pending, info.total)) * 100) /
		                   info.total);
	else if (g_strcmp0(info.state, GW_GWMO_FANOUT_STATE_IDLE) != 0 &&
	         g_strcmp0(info.state, GW_GWMO_FANOUT_STATE_IN_PROGRESS) != 0)
		progress = 100;
	gw_dbus_gen_job_set_state(job, info.state);
	gw_dbus_gen_job_set_total(job, info.total);
	gw_dbus_gen_job_set_succeeded(job, info.succeeded);
	gw_dbus_gen_job_set_failed(job, info.failed);
	gw_dbus_gen_job_set_pending(job, info.pending);
	gw_dbus_gen_job_set_progress(job, progress);
	gw_dbus_gen_job_set_job_uri(job, uri);
	gw_fanout_job_info_clear(&info);
}

static gboolean
gw_dbus_jobs_handle_cancel(GwDbusGenJob *job, GDBusMethodInvocation *invocation, gpointer user_data)
{
	GwDbusJobs *self = GW_DBUS_JOBS(user_data);
	const gchar *uri = gw_dbus_gen_job_get_job_uri(job);
	g_autoptr(GError) error = NULL;

	if (!self->authorize(invocation, GW_DBUS_ACTION_RUN_JOBS, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!gw_fanout_cancel_job(self->fanout, uri, &error)) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("Cancel %s by %s", uri, g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_gen_job_complete_cancel(job, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GDBusInterfaceSkeleton *
gw_dbus_jobs_create(GwDbusExporter *exporter, const gchar *uri, gpointer user_data)
{
	GwDbusGenJob *job = gw_dbus_gen_job_skeleton_new();

	g_signal_connect(job, "handle-cancel", G_CALLBACK(gw_dbus_jobs_handle_cancel), user_data);
	return G_DBUS_INTERFACE_SKELETON(job);
}

/* a resync exports the jobs GwFanout knows (interior nodes), in tree order */
static GPtrArray *
gw_dbus_jobs_list(GwDbusExporter *exporter, gpointer user_data)
{
	return gw_fanout_list_jobs(GW_DBUS_JOBS(user_data)->fanout);
}

static const GwDbusExporterFuncs gw_dbus_jobs_funcs = {
    .create = gw_dbus_jobs_create,
    .fill = gw_dbus_jobs_fill,
    .list = gw_dbus_jobs_list,
};

/* ---- following GwFanout (the tree's "changed" is the exporter's) ---- */

static void
gw_dbus_jobs_changed_cb(GwFanout *fanout, const gchar *uri, gpointer user_data)
{
	g_autofree gchar *path = gw_dbus_exporter_update(GW_DBUS_JOBS(user_data)->exporter, uri);
}

static void
gw_dbus_jobs_finished_cb(GwFanout *fanout, const gchar *uri, const gchar *xml, gpointer user_data)
{
	GwDbusJobs *self = GW_DBUS_JOBS(user_data);
	g_autofree gchar *path = gw_dbus_exporter_update(self->exporter, uri);
	GDBusInterfaceSkeleton *iface =
	    path != NULL ? gw_dbus_exporter_get_interface(self->exporter, uri) : NULL;

	if (iface != NULL) {
		/* the properties first, so a client that reads them on Finished sees the end */
		g_dbus_interface_skeleton_flush(iface);
		gw_dbus_gen_job_emit_finished(GW_DBUS_GEN_JOB(iface), xml != NULL ? xml : "");
	}
}

static void
gw_dbus_jobs_removed_cb(GwFanout *fanout, const gchar *uri, gpointer user_data)
{
	gw_dbus_exporter_remove(GW_DBUS_JOBS(user_data)->exporter, uri);
}

/* ---- Manager.Fanout ---- */

/* the Manager.Fanout dictionary (data/org.gwmo.Gateway1.Manager.xml) */
static const GwDbusDictKey gw_dbus_jobs_keys[] = {
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
gw_dbus_jobs_spec_key(const gchar *key, GVariant *value, gpointer user_data, GError **error)
{
	GwFanoutSpec *spec = user_data;

	/* 0 would never drive a device: at least 1 (the spec's 0 means "absent") */
	if ((g_strcmp0(key, "Timeout") == 0 || g_strcmp0(key, "MaxInFlight") == 0) &&
	    g_variant_get_uint32(value) == 0) {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "%s must be at least 1", key);
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
	return TRUE;
}

static gboolean
gw_dbus_jobs_parse_spec(GVariant *dict, GwFanoutSpec *spec, GError **error)
{
	return gw_dbus_parse_dict(dict,
	                          gw_dbus_jobs_keys,
	                          G_N_ELEMENTS(gw_dbus_jobs_keys),
	                          gw_dbus_jobs_spec_key,
	                          spec,
	                          error);
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
	if (!self->authorize(invocation, GW_DBUS_ACTION_RUN_JOBS, self->authorize_data))
		return;
	if (spec.group != NULL && spec.group[0] != '\0') {
		g_autofree gchar *group_uri = gw_groups_find(
		    gw_inventory_get_groups(gw_gateway_get_inventory(self->gateway)), spec.group);
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
	path = gw_dbus_exporter_update(self->exporter, uri);
	if (path == NULL) {
		g_dbus_method_invocation_return_error(
		    invocation, GW_ERROR, GW_ERROR_INTERNAL, "%s cannot be exported", uri);
		return;
	}
	g_info("Fanout %s (%s) by %s", uri, path, g_dbus_method_invocation_get_sender(invocation));
	/* the answer once the job is on disk, like every change made over D-Bus */
	gw_dbus_commit_and_reply(self->gateway, invocation, g_variant_new("(o)", path));
}

/* ---- GObject ---- */

static void
gw_dbus_jobs_dispose(GObject *object)
{
	GwDbusJobs *self = GW_DBUS_JOBS(object);

	if (self->fanout != NULL) {
		g_clear_signal_handler(&self->added_id, self->fanout);
		g_clear_signal_handler(&self->changed_id, self->fanout);
		g_clear_signal_handler(&self->finished_id, self->fanout);
		g_clear_signal_handler(&self->removed_id, self->fanout);
	}
	/* unexports every object */
	g_clear_object(&self->exporter);
	g_clear_object(&self->fanout);
	G_OBJECT_CLASS(gw_dbus_jobs_parent_class)->dispose(object);
}

static void
gw_dbus_jobs_class_init(GwDbusJobsClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_jobs_dispose;
}

static void
gw_dbus_jobs_init(GwDbusJobs *self)
{
}

GwDbusJobs *
gw_dbus_jobs_new(GwGateway *gateway,
                 GwDbusObjectManager *object_manager,
                 GwDbusAuthorizeFunc authorize,
                 gpointer authorize_data)
{
	GwDbusJobs *self = g_object_new(GW_TYPE_DBUS_JOBS, NULL);

	self->gateway = gateway;
	self->fanout = g_object_ref(gw_gateway_get_fanout(gateway));
	self->authorize = authorize;
	self->authorize_data = authorize_data;
	/* every job there is, persisted from earlier runs included. A job is shown once GwFanout
	 * has prepared its nodes (State is set); its results are written device by device, so
	 * the tree's changes are looked at once per main-loop turn, and its properties (ACL)
	 * do not show */
	self->exporter = gw_dbus_exporter_new_full(gw_gateway_get_tree(gateway),
	                                           object_manager,
	                                           GW_GWMO_FANOUT,
	                                           GW_DBUS_JOBS_PATH,
	                                           GW_GWMO_FANOUT_STATE,
	                                           GW_DBUS_EXPORTER_FLAGS_BATCH |
	                                               GW_DBUS_EXPORTER_FLAGS_IGNORE_PROPERTIES,
	                                           &gw_dbus_jobs_funcs,
	                                           self);
	/* GwFanout's signals come before the tree's settle: the objects follow them at once */
	self->added_id =
	    g_signal_connect(self->fanout, "job-added", G_CALLBACK(gw_dbus_jobs_changed_cb), self);
	self->changed_id = g_signal_connect(
	    self->fanout, "job-changed", G_CALLBACK(gw_dbus_jobs_changed_cb), self);
	self->finished_id = g_signal_connect(
	    self->fanout, "job-finished", G_CALLBACK(gw_dbus_jobs_finished_cb), self);
	self->removed_id = g_signal_connect(
	    self->fanout, "job-removed", G_CALLBACK(gw_dbus_jobs_removed_cb), self);
	return self;
}
