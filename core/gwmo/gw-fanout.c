/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwFanout"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gw-alert-queue.h"
#include "gw-dm-owner.h"
#include "gw-error.h"
#include "gw-fanout.h"
#include "gw-gwmo-names.h"

/*
 * Fanout jobs. The DM tree is the only store: a job's spec, its frozen target list
 * (Results/<n>/DeviceID), each device's outcome, State, Summary and the reporting marks
 * (Ext/…). The runtime part of a running job (what is in flight, the cancellable, the held
 * reply) lives in a GwFanoutJob while it runs.
 *
 * Every write goes through the module's GwDmOwner, so the tree's "changed"
 * handler only sees what the DM Servers do (a job Added or Deleted, a rollback).
 */

#define ACCESS_GET GW_DM_ACCESS_GET
#define ACCESS_GET_REPLACE (GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE)
#define ACCESS_GET_EXEC (GW_DM_ACCESS_GET | GW_DM_ACCESS_EXEC)
#define ACCESS_JOB \
	(GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_DELETE | GW_DM_ACCESS_REPLACE)
#define GW_FANOUT_MAX_DATA (64 * 1024)

typedef struct _GwFanoutJob GwFanoutJob;

struct _GwFanout {
	GObject parent_instance;
	GwConfig *config;
	GwDmTree *tree;
	GwDmStore *store;
	GwInventory *inventory;
	GwAdapters *adapters;     /* every device command goes through its adapter */
	GwNorthbound *northbound; /* nullable */
	GwImageStore *images;     /* nullable: signs the image URLs each device gets */
	GHashTable *jobs;         /* job node name → GwFanoutJob (running) */
	gulong changed_id;
	guint start_handler;
	guint cancel_handler;
	GwDmOwner owner; /* the writes of the module itself */
	guint flush_id;
	gboolean started;
};

G_DEFINE_TYPE(GwFanout, gw_fanout, G_TYPE_OBJECT)

enum { SIGNAL_JOB_ADDED, SIGNAL_JOB_CHANGED, SIGNAL_JOB_FINISHED, SIGNAL_JOB_REMOVED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

struct _GwFanoutJob {
	gint ref_count;
	GwFanout *self; /* borrowed; cleared when the job is dropped */
	gchar *name;
	gchar *uri;
	gchar *owner;      /* ServerID, NULL for the local owner */
	gchar *correlator; /* of the Start Exec */
	GwDeviceOp op;
	gchar *target_uri;
	gchar *data;
	gchar *format;
	gchar *type;
	guint timeout;
	guint max_in_flight;
	GQueue todo; /* result node names (owned) still to drive */
	guint in_flight;
	guint total;
	guint succeeded;
	guint failed;
	guint pending;
	GCancellable *cancellable;
	guint hold_token;
	guint hold_timer;
	guint pump_id;
	gboolean finished;
	gboolean summary_dirty; /* results recorded since Summary was last written */
};

/* ---- small helpers ---- */

void
gw_fanout_spec_clear(GwFanoutSpec *spec)
{
	g_clear_pointer(&spec->group, g_free);
	g_clear_pointer(&spec->devices, g_strfreev);
	g_clear_pointer(&spec->command, g_free);
	g_clear_pointer(&spec->target_uri, g_free);
	g_clear_pointer(&spec->data, g_free);
	g_clear_pointer(&spec->format, g_free);
	g_clear_pointer(&spec->type, g_free);
	g_clear_pointer(&spec->aggregate, g_free);
}

void
gw_fanout_job_info_clear(GwFanoutJobInfo *info)
{
	g_clear_pointer(&info->state, g_free);
}

static GwFanoutJob *
gw_fanout_job_ref(GwFanoutJob *job)
{
	g_atomic_int_inc(&job->ref_count);
	return job;
}

static void
gw_fanout_job_unref(GwFanoutJob *job)
{
	if (!g_atomic_int_dec_and_test(&job->ref_count))
		return;
	g_queue_clear_full(&job->todo, g_free);
	g_clear_object(&job->cancellable);
	g_free(job->name);
	g_free(job->uri);
	g_free(job->owner);
	g_free(job->correlator);
	g_free(job->target_uri);
	g_free(job->data);
	g_free(job->format);
	g_free(job->type);
	g_free(job);
}

static gchar *
gw_fanout_job_uri(const gchar *name)
{
	return g_strdup_printf(GW_GWMO_FANOUT "/%s", name);
}

static gchar *
gw_fanout_dup(GwFanout *self, const gchar *job_uri, const gchar *rel)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", job_uri, rel);
	return gw_dm_tree_dup_string(self->tree, uri);
}

static guint
gw_fanout_dup_uint(GwFanout *self, const gchar *job_uri, const gchar *rel, guint fallback)
{
	g_autofree gchar *text = gw_fanout_dup(self, job_uri, rel);
	guint64 v = 0;
	if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &v, NULL))
		return fallback;
	return (guint)v;
}

/* Timeout (seconds per device) and MaxInFlight (devices driven at once) of a job: 0 would
 * never drive a device (or time every command out at once), so a job asks for at least 1;
 * a day per device and 65,536 at once are far beyond any real fan-out */
#define GW_FANOUT_TIMEOUT_MAX 86400
#define GW_FANOUT_MAX_IN_FLIGHT_MAX 65536

/* a job's Timeout or MaxInFlight as a DM Server wrote it: absent, or 1 … @max */
static gboolean
gw_fanout_limit_is_valid(GwFanout *self, const gchar *job_uri, const gchar *rel, guint max)
{
	g_autofree gchar *text = gw_fanout_dup(self, job_uri, rel);
	return text == NULL || g_ascii_string_to_unsigned(text, 10, 1, max, NULL, NULL);
}

static gboolean
gw_fanout_write_leaf(GwFanout *self,
                     const gchar *job_uri,
                     const gchar *rel,
                     GwDmFormat format,
                     const gchar *value,
                     GwDmAccess access,
                     GError **error)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", job_uri, rel);
	return gw_dm_owner_set_leaf(&self->owner, uri, format, NULL, value, access, error);
}

static void
gw_fanout_write(GwFanout *self,
                const gchar *job_uri,
                const gchar *rel,
                GwDmFormat format,
                const gchar *value)
{
	g_autoptr(GError) error = NULL;
	if (!gw_fanout_write_leaf(self, job_uri, rel, format, value, ACCESS_GET, &error))
		g_warning("cannot write %s/%s: %s", job_uri, rel, error->message);
}

static void
gw_fanout_write_uint(GwFanout *self, const gchar *job_uri, const gchar *rel, guint value)
{
	g_autofree gchar *text = g_strdup_printf("%u", value);
	g_autofree gchar *current = gw_fanout_dup(self, job_uri, rel);
	if (g_strcmp0(current, text) != 0)
		gw_fanout_write(self, job_uri, rel, GW_DM_FORMAT_INT, text);
}

static gboolean
gw_fanout_write_interior(GwFanout *self,
                         const gchar *uri,
                         GwDmAccess access,
                         const gchar *acl,
                         GError **error)
{
	return gw_dm_owner_ensure_interior(&self->owner, uri, access, acl, error);
}

static void
gw_fanout_remove(GwFanout *self, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	if (gw_dm_tree_lookup(self->tree, uri) == NULL)
		return;
	if (!gw_dm_owner_remove(&self->owner, uri, &error))
		g_warning("cannot remove %s: %s", uri, error->message);
}

static void
gw_fanout_flush(GwFanout *self)
{
	g_autoptr(GError) error = NULL;
	if (!gw_dm_store_flush(self->store, &error))
		g_warning("cannot store the DM tree: %s", error->message);
}

static void
gw_fanout_write_summary(GwFanout *self, GwFanoutJob *job);

static gboolean
gw_fanout_flush_idle_cb(gpointer user_data)
{
	GwFanout *self = GW_FANOUT(user_data);
	g_autoptr(GPtrArray) dirty = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer value;

	self->flush_id = 0;
	/* Summary and the job-changed signal once per batch of results, not per device */
	g_hash_table_iter_init(&iter, self->jobs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GwFanoutJob *job = value;
		if (job->summary_dirty && !job->finished) {
			job->summary_dirty = FALSE;
			gw_fanout_write_summary(self, job);
			g_ptr_array_add(dirty, g_strdup(job->uri));
		}
	}
	gw_fanout_flush(self);
	for (guint i = 0; i < dirty->len; i++)
		g_signal_emit(self, signals[SIGNAL_JOB_CHANGED], 0, g_ptr_array_index(dirty, i));
	return G_SOURCE_REMOVE;
}

/* group commit: the results that came in during one main-loop turn share one write (an
 * fsync per device would bound a job to some tens of devices per second) */
static void
gw_fanout_schedule_flush(GwFanout *self)
{
	if (self->flush_id == 0)
		self->flush_id =
		    g_idle_add_full(G_PRIORITY_DEFAULT, gw_fanout_flush_idle_cb, self, NULL);
}

/* the commands a job may fan out, by GwDeviceOp */
static const gchar *const gw_fanout_commands[] = {
    [GW_DEVICE_OP_GET] = "Get",
    [GW_DEVICE_OP_REPLACE] = "Replace",
    [GW_DEVICE_OP_ADD] = "Add",
    [GW_DEVICE_OP_DELETE] = "Delete",
    [GW_DEVICE_OP_EXEC] = "Exec",
};

static gboolean
gw_fanout_command_is_valid(const gchar *command, GwDeviceOp *op)
{
	for (guint i = 0; command != NULL && i < G_N_ELEMENTS(gw_fanout_commands); i++) {
		if (g_strcmp0(gw_fanout_commands[i], command) == 0) {
			if (op != NULL)
				*op = (GwDeviceOp)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* ---- the gateway-managed nodes of a job ---- */

/* Operations, State, Summary, Results, AggregatedResult, Ext; @owner: the creator */
static gboolean
gw_fanout_init_job_nodes(GwFanout *self, const gchar *job_uri, const gchar *owner, GError **error)
{
	g_autofree gchar *acl = gw_dm_acl_owner_text(owner, GW_DM_ACCESS_ALL & ~GW_DM_ACCESS_COPY);
	g_autofree gchar *ops = g_strdup_printf("%s/" GW_GWMO_FANOUT_OPERATIONS, job_uri);
	g_autofree gchar *summary = g_strdup_printf("%s/" GW_GWMO_FANOUT_SUMMARY, job_uri);
	g_autofree gchar *results = g_strdup_printf("%s/" GW_GWMO_FANOUT_RESULTS, job_uri);
	g_autofree gchar *ext = g_strdup_printf("%s/" GW_GWMO_FANOUT_EXT, job_uri);
	const gchar *sums[] = {"Total", "Succeeded", "Failed", "Pending"};
	g_autofree gchar *state = gw_fanout_dup(self, job_uri, GW_GWMO_FANOUT_STATE);

	if (!gw_fanout_write_interior(self, job_uri, ACCESS_JOB, acl, error) ||
	    !gw_fanout_write_interior(self, ops, ACCESS_GET, NULL, error) ||
	    !gw_fanout_write_leaf(self,
	                          job_uri,
	                          GW_GWMO_FANOUT_START,
	                          GW_DM_FORMAT_NULL,
	                          NULL,
	                          ACCESS_GET_EXEC,
	                          error) ||
	    !gw_fanout_write_leaf(self,
	                          job_uri,
	                          GW_GWMO_FANOUT_CANCEL,
	                          GW_DM_FORMAT_NULL,
	                          NULL,
	                          ACCESS_GET_EXEC,
	                          error) ||
	    !gw_fanout_write_interior(self, summary, ACCESS_GET, NULL, error) ||
	    !gw_fanout_write_interior(self, results, ACCESS_GET, NULL, error) ||
	    !gw_fanout_write_interior(self, ext, ACCESS_GET, NULL, error))
		return FALSE;
	if (state == NULL && !gw_fanout_write_leaf(self,
	                                           job_uri,
	                                           GW_GWMO_FANOUT_STATE,
	                                           GW_DM_FORMAT_CHR,
	                                           GW_GWMO_FANOUT_STATE_IDLE,
	                                           ACCESS_GET,
	                                           error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(sums); i++) {
		g_autofree gchar *rel = g_strdup_printf(GW_GWMO_FANOUT_SUMMARY "/%s", sums[i]);
		g_autofree gchar *cur = gw_fanout_dup(self, job_uri, rel);
		if (cur == NULL &&
		    !gw_fanout_write_leaf(
		        self, job_uri, rel, GW_DM_FORMAT_INT, "0", ACCESS_GET, error))
			return FALSE;
	}
	if (!gw_fanout_write_leaf(self,
	                          job_uri,
	                          GW_GWMO_FANOUT_EXT_OWNER,
	                          GW_DM_FORMAT_CHR,
	                          owner != NULL ? owner : "",
	                          ACCESS_GET,
	                          error))
		return FALSE;
	return TRUE;
}

/* ---- the AggregatedResult document (spec/GWMO.md §2) ---- */

typedef struct {
	gboolean count, min, max, sum, distinct;
} GwFanoutAggregate;

static void
gw_fanout_parse_aggregate(const gchar *text, GwFanoutAggregate *agg)
{
	g_auto(GStrv) parts = g_strsplit(text != NULL ? text : "", ",", -1);
	memset(agg, 0, sizeof(*agg));
	for (guint i = 0; parts[i] != NULL; i++) {
		g_strstrip(parts[i]);
		if (g_strcmp0(parts[i], "count") == 0)
			agg->count = TRUE;
		else if (g_strcmp0(parts[i], "min") == 0)
			agg->min = TRUE;
		else if (g_strcmp0(parts[i], "max") == 0)
			agg->max = TRUE;
		else if (g_strcmp0(parts[i], "sum") == 0)
			agg->sum = TRUE;
		else if (g_strcmp0(parts[i], "distinct") == 0)
			agg->distinct = TRUE;
	}
}

static gboolean
gw_fanout_aggregate_is_valid(const gchar *text)
{
	g_auto(GStrv) parts = g_strsplit(text != NULL ? text : "", ",", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		const gchar *p = g_strstrip(parts[i]);
		if (g_strcmp0(p, "count") != 0 && g_strcmp0(p, "min") != 0 &&
		    g_strcmp0(p, "max") != 0 && g_strcmp0(p, "sum") != 0 &&
		    g_strcmp0(p, "distinct") != 0)
			return FALSE;
	}
	return TRUE;
}

static gboolean
gw_fanout_parse_number(const gchar *text, gdouble *out)
{
	gchar *end = NULL;
	if (text == NULL || *text == '\0')
		return FALSE;
	*out = g_ascii_strtod(text, &end);
	return end != NULL && *end == '\0';
}

static void
gw_fanout_append_number(GString *doc, const gchar *name, gdouble v)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
	g_string_append_printf(doc, " %s=\"%s\"", name, g_ascii_dtostr(buf, sizeof(buf), v));
}

static gchar *
gw_fanout_build_document(GwFanout *self, const gchar *job_uri, const gchar *state)
{
	g_autofree gchar *results = g_strdup_printf("%s/" GW_GWMO_FANOUT_RESULTS, job_uri);
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, results);
	g_autofree gchar *agg_text = gw_fanout_dup(self, job_uri, GW_GWMO_FANOUT_AGGREGATE);
	g_autoptr(GHashTable) distinct =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GString) body = g_string_new(NULL);
	g_autoptr(GString) doc = g_string_new(NULL);
	g_autofree gchar *job_attr = g_markup_escape_text(job_uri, -1);
	guint total = 0, ok = 0, failed = 0, count = 0, numeric = 0;
	gdouble min = 0, max = 0, sum = 0;

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *rel_id = g_strdup_printf(
		    GW_GWMO_FANOUT_RESULTS "/%s/" GW_GWMO_FANOUT_RESULT_DEVICE_ID, names[i]);
		g_autofree gchar *rel_st = g_strdup_printf(
		    GW_GWMO_FANOUT_RESULTS "/%s/" GW_GWMO_FANOUT_RESULT_STATUS, names[i]);
		g_autofree gchar *rel_data = g_strdup_printf(
		    GW_GWMO_FANOUT_RESULTS "/%s/" GW_GWMO_FANOUT_RESULT_DATA, names[i]);
		g_autofree gchar *rel_fmt = g_strdup_printf(
		    GW_GWMO_FANOUT_RESULTS "/%s/" GW_GWMO_FANOUT_RESULT_FORMAT, names[i]);
		g_autofree gchar *id = gw_fanout_dup(self, job_uri, rel_id);
		guint status = gw_fanout_dup_uint(self, job_uri, rel_st, 0);
		g_autofree gchar *data = gw_fanout_dup(self, job_uri, rel_data);
		g_autofree gchar *fmt = gw_fanout_dup(self, job_uri, rel_fmt);
		g_autofree gchar *id_attr = g_markup_escape_text(id != NULL ? id : "", -1);

		total++;
		if (gw_dm_status_is_success(status))
			ok++;
		else if (status != 0)
			failed++;
		if (data == NULL) {
			g_string_append_printf(
			    body, "  <Device id=\"%s\" status=\"%u\"/>\n", id_attr, status);
			continue;
		}
		{
			g_autofree gchar *fmt_attr =
			    g_markup_escape_text(fmt != NULL && *fmt ? fmt : "chr", -1);
			g_autofree gchar *data_text = g_markup_escape_text(data, -1);
			g_string_append_printf(body,
			                       "  <Device id=\"%s\" status=\"%u\"><Data "
			                       "format=\"%s\">%s</Data></Device>\n",
			                       id_attr,
			                       status,
			                       fmt_attr,
			                       data_text);
		}
		if (gw_dm_status_is_success(status)) {
			gdouble v;
			count++;
			g_hash_table_add(distinct, g_strdup(data));
			if (gw_fanout_parse_number(data, &v)) {
				if (numeric == 0 || v < min)
					min = v;
				if (numeric == 0 || v > max)
					max = v;
				sum += v;
				numeric++;
			}
		}
	}
	g_string_append_printf(
	    doc,
	    "<" GW_GWMO_FANOUT_RESULT_ELEMENT
	    " job=\"%s\" state=\"%s\" total=\"%u\" succeeded=\"%u\" failed=\"%u\">\n",
	    job_attr,
	    state,
	    total,
	    ok,
	    failed);
	if (agg_text != NULL && *agg_text != '\0') {
		GwFanoutAggregate agg;
		gw_fanout_parse_aggregate(agg_text, &agg);
		g_string_append(doc, "  <Aggregate");
		if (agg.count)
			g_string_append_printf(doc, " count=\"%u\" numeric=\"%u\"", count, numeric);
		if (agg.min && numeric > 0)
			gw_fanout_append_number(doc, "min", min);
		if (agg.max && numeric > 0)
			gw_fanout_append_number(doc, "max", max);
		if (agg.sum)
			gw_fanout_append_number(doc, "sum", sum);
		if (agg.distinct)
			g_string_append_printf(
			    doc, " distinct=\"%u\"", g_hash_table_size(distinct));
		g_string_append(doc, "/>\n");
	}
	g_string_append(doc, body->str);
	g_string_append(doc, "</" GW_GWMO_FANOUT_RESULT_ELEMENT ">");
	return g_string_free(g_steal_pointer(&doc), FALSE);
}

/* ---- progress ---- */

static void
gw_fanout_write_summary(GwFanout *self, GwFanoutJob *job)
{
	gw_fanout_write_uint(self, job->uri, GW_GWMO_FANOUT_SUMMARY "/Total", job->total);
	gw_fanout_write_uint(self, job->uri, GW_GWMO_FANOUT_SUMMARY "/Succeeded", job->succeeded);
	gw_fanout_write_uint(self, job->uri, GW_GWMO_FANOUT_SUMMARY "/Failed", job->failed);
	gw_fanout_write_uint(self, job->uri, GW_GWMO_FANOUT_SUMMARY "/Pending", job->pending);
}

static void
gw_fanout_drop_hold(GwFanout *self, GwFanoutJob *job)
{
	if (job->hold_timer != 0) {
		g_source_remove(job->hold_timer);
		job->hold_timer = 0;
	}
}

/* reports a DM Server's job once (Ext/Reported); in the held reply when there is one */
static void
gw_fanout_report(GwFanout *self, const gchar *job_uri, const gchar *doc, guint hold_token)
{
	g_autofree gchar *owner = gw_fanout_dup(self, job_uri, GW_GWMO_FANOUT_EXT_OWNER);
	g_autofree gchar *correlator = gw_fanout_dup(self, job_uri, GW_GWMO_FANOUT_EXT_CORRELATOR);
	g_autofree gchar *reported = gw_fanout_dup(self, job_uri, GW_GWMO_FANOUT_EXT_REPORTED);
	g_autoptr(GError) error = NULL;
	GwAlert alert = {0};
	guint id;

	if (owner == NULL || *owner == '\0' || self->northbound == NULL ||
	    g_strcmp0(reported, "true") == 0) {
		if (hold_token != 0 && self->northbound != NULL)
			gw_northbound_release_reply(
			    self->northbound, owner, hold_token, NULL, NULL);
		return;
	}
	alert.server_id = owner;
	alert.type = (gchar *)GW_GWMO_ALERT_FANOUT_COMPLETE;
	alert.source = (gchar *)job_uri;
	alert.format = (gchar *)"xml";
	alert.data = (gchar *)doc;
	alert.correlator = correlator != NULL && *correlator != '\0' ? correlator : NULL;
	if (hold_token != 0)
		id = gw_northbound_release_reply(
		    self->northbound, owner, hold_token, &alert, &error);
	else
		id = gw_northbound_send_alert(self->northbound, &alert, &error);
	if (id == 0) {
		g_warning("cannot report %s to %s: %s",
		          job_uri,
		          owner,
		          error != NULL ? error->message : "?");
		return;
	}
	g_message("%s reported to %s (%s)",
	          job_uri,
	          owner,
	          hold_token != 0 ? "in the held reply" : "in a new session");
	gw_fanout_write(self, job_uri, GW_GWMO_FANOUT_EXT_REPORTED, GW_DM_FORMAT_BOOL, "true");
	gw_fanout_flush(self);
}

static void
gw_fanout_finish(GwFanout *self, GwFanoutJob *job, gboolean cancelled)
{
	const gchar *state;
	g_autofree gchar *doc = NULL;
	guint token = job->hold_token;

	if (job->finished)
		return;
	job->finished = TRUE;
	job->hold_token = 0;
	gw_fanout_drop_hold(self, job);
	if (job->pump_id != 0) {
		g_source_remove(job->pump_id);
		job->pump_id = 0;
	}
	g_cancellable_cancel(job->cancellable);
	if (cancelled)
		state = GW_GWMO_FANOUT_STATE_CANCELLED;
	else if (job->succeeded == job->total)
		state = GW_GWMO_FANOUT_STATE_COMPLETE;
	else
		state = GW_GWMO_FANOUT_STATE_PARTIAL;
	job->summary_dirty = FALSE;
	gw_fanout_write_summary(self, job);
	gw_fanout_write(self, job->uri, GW_GWMO_FANOUT_STATE, GW_DM_FORMAT_CHR, state);
	doc = gw_fanout_build_document(self, job->uri, state);
	gw_fanout_write(self, job->uri, GW_GWMO_FANOUT_AGGREGATED, GW_DM_FORMAT_XML, doc);
	gw_fanout_flush(self);
	g_message("%s %s: %u of %u succeeded, %u failed",
	          job->uri,
	          state,
	          job->succeeded,
	          job->total,
	          job->failed);
	gw_fanout_report(self, job->uri, doc, token);
	g_signal_emit(self, signals[SIGNAL_JOB_CHANGED], 0, job->uri);
	g_signal_emit(self, signals[SIGNAL_JOB_FINISHED], 0, job->uri, doc);
	g_hash_table_remove(self->jobs, job->name);
}

/* ---- driving devices ---- */

typedef struct {
	GwFanoutJob *job;
	gchar *result; /* result node name */
} GwFanoutCall;

static void
gw_fanout_pump(GwFanout *self, GwFanoutJob *job);

/* @result: the device's answer, nullable (a status the job gave without driving it) */
static void
gw_fanout_record(GwFanout *self,
                 GwFanoutJob *job,
                 const gchar *result,
                 guint status,
                 GwDeviceResult *answer)
{
	g_autofree gchar *base = g_strdup_printf(GW_GWMO_FANOUT_RESULTS "/%s", result);
	g_autofree gchar *rel_st = g_strdup_printf("%s/" GW_GWMO_FANOUT_RESULT_STATUS, base);
	g_autofree gchar *status_text = g_strdup_printf("%u", status);

	if (answer != NULL && gw_device_result_get_n_items(answer) > 0) {
		const gchar *format = NULL;
		GBytes *bytes = NULL;
		gw_device_result_get_item(answer, 0, NULL, &format, NULL, &bytes);
		if (bytes != NULL) {
			g_autofree gchar *rel_data =
			    g_strdup_printf("%s/" GW_GWMO_FANOUT_RESULT_DATA, base);
			g_autofree gchar *rel_fmt =
			    g_strdup_printf("%s/" GW_GWMO_FANOUT_RESULT_FORMAT, base);
			gsize len = 0;
			const gchar *text = g_bytes_get_data(bytes, &len);
			g_autofree gchar *data =
			    g_strndup(text != NULL ? text : "", MIN(len, GW_FANOUT_MAX_DATA));
			gw_fanout_write(self, job->uri, rel_data, GW_DM_FORMAT_CHR, data);
			gw_fanout_write(self,
			                job->uri,
			                rel_fmt,
			                GW_DM_FORMAT_CHR,
			                format != NULL ? format : "chr");
		}
	}
	/* last: a StatusCode other than 0 marks the device done (resume) */
	gw_fanout_write(self, job->uri, rel_st, GW_DM_FORMAT_INT, status_text);
	if (gw_dm_status_is_success(status))
		job->succeeded++;
	else
		job->failed++;
	if (job->pending > 0)
		job->pending--;
	/* Summary, the store and job-changed follow in the batch's flush (or the job's end) */
	job->summary_dirty = TRUE;
	gw_fanout_schedule_flush(self);
}

static void
gw_fanout_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwFanoutCall *call = user_data;
	GwFanoutJob *job = call->job;
	GwFanout *self = job->self;
	g_autoptr(GwDeviceResult) answer = NULL;
	g_autoptr(GError) error = NULL;
	guint status = 0;

	answer = gw_adapters_run_command_finish(GW_ADAPTERS(source), res, &error);
	if (answer != NULL)
		status = gw_device_result_get_status(answer);
	if (self != NULL && !job->finished) {
		job->in_flight--;
		if (status != 0) {
			gw_fanout_record(self, job, call->result, status, answer);
		} else {
			g_info("%s: result %s without status: %s",
			       job->uri,
			       call->result,
			       error != NULL ? error->message : "cancelled");
		}
		gw_fanout_pump(self, job);
	}
	gw_fanout_job_unref(job);
	g_free(call->result);
	g_free(call);
}

/* the command for @device_id; an image URL of the gateway in Data becomes the one signed for
 * that device (DM-SECONF-001, spec/GWMO.md §9) */
static GwDeviceCommand *
gw_fanout_build_command(GwFanout *self, GwFanoutJob *job, const gchar *device_id)
{
	g_autofree gchar *signed_data = NULL;
	g_autoptr(GBytes) data = NULL;
	const gchar *text;

	if (job->data == NULL || job->op == GW_DEVICE_OP_GET || job->op == GW_DEVICE_OP_DELETE)
		return gw_device_command_new(job->op, job->target_uri, NULL, NULL, NULL);
	if (self->images != NULL && g_strcmp0(job->format, "b64") != 0 &&
	    g_strcmp0(job->format, "bin") != 0)
		signed_data = gw_image_store_localize(self->images, job->data, device_id);
	text = signed_data != NULL ? signed_data : job->data;
	data = g_bytes_new(text, strlen(text));
	/* no Format: the adapter's default (chr for OMA DM, the node's for a declared tree) */
	return gw_device_command_new(job->op,
	                             job->target_uri,
	                             job->format != NULL && *job->format ? job->format : NULL,
	                             job->type != NULL && *job->type ? job->type : NULL,
	                             data);
}

/* the status a device gets without being driven, or 0 when it is to be driven */
static guint
gw_fanout_precheck(GwFanout *self, GwFanoutJob *job, const gchar *device_id)
{
	g_autofree gchar *record = gw_inventory_find(self->inventory, device_id);
	g_autofree gchar *mode_uri = NULL;
	g_autofree gchar *mode = NULL;

	if (record == NULL)
		return GW_DM_STATUS_NOT_FOUND;
	if (job->owner != NULL &&
	    !gw_dm_tree_check_acl(self->tree, record, GW_DM_ACCESS_GET, job->owner))
		return GW_DM_STATUS_NOT_FOUND;
	mode_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_MODE, record);
	mode = gw_dm_tree_dup_string(self->tree, mode_uri);
	/* Proxy and Adaptation devices are the gateway's to drive, through their adapter; a
	 * Transparent one is its DM Server's (Z/Z') */
	if (g_strcmp0(mode, "2") != 0 && g_strcmp0(mode, "3") != 0)
		return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED;
	return 0;
}

static void
gw_fanout_pump(GwFanout *self, GwFanoutJob *job)
{
	while (!job->finished && job->in_flight < job->max_in_flight &&
	       !g_queue_is_empty(&job->todo)) {
		g_autofree gchar *result = g_queue_pop_head(&job->todo);
		g_autofree gchar *rel_id = g_strdup_printf(
		    GW_GWMO_FANOUT_RESULTS "/%s/" GW_GWMO_FANOUT_RESULT_DEVICE_ID, result);
		g_autofree gchar *device_id = gw_fanout_dup(self, job->uri, rel_id);
		GwFanoutCall *call;
		guint status;

		if (device_id == NULL)
			continue;
		status = gw_fanout_precheck(self, job, device_id);
		if (status != 0) {
			g_info("%s: device %s not driven: %u", job->uri, device_id, status);
			gw_fanout_record(self, job, result, status, NULL);
			continue;
		}
		call = g_new0(GwFanoutCall, 1);
		call->job = gw_fanout_job_ref(job);
		call->result = g_strdup(result);
		job->in_flight++;
		{
			g_autoptr(GwDeviceCommand) cmd =
			    gw_fanout_build_command(self, job, device_id);
			gw_adapters_run_command_async(self->adapters,
			                              device_id,
			                              cmd,
			                              job->timeout * 1000,
			                              job->cancellable,
			                              gw_fanout_sent_cb,
			                              call);
		}
	}
	if (!job->finished && job->in_flight == 0 && g_queue_is_empty(&job->todo))
		gw_fanout_finish(self, job, FALSE);
}

static gboolean
gw_fanout_pump_idle_cb(gpointer user_data)
{
	GwFanoutJob *job = user_data;
	job->pump_id = 0;
	if (job->self != NULL)
		gw_fanout_pump(job->self, job);
	return G_SOURCE_REMOVE;
}

static gboolean
gw_fanout_hold_timeout_cb(gpointer user_data)
{
	GwFanoutJob *job = user_data;
	GwFanout *self = job->self;

	job->hold_timer = 0;
	if (self != NULL && job->hold_token != 0 && self->northbound != NULL) {
		g_info("%s still running after the sync wait: the reply goes out, the result "
		       "follows (Y')",
		       job->uri);
		gw_northbound_release_reply(
		    self->northbound, job->owner, job->hold_token, NULL, NULL);
	}
	job->hold_token = 0;
	return G_SOURCE_REMOVE;
}

/* loads the spec of a job from the tree into a runtime job; NULL with @status on a bad spec */
static GwFanoutJob *
gw_fanout_load_job(GwFanout *self, const gchar *name, guint *status)
{
	g_autofree gchar *uri = gw_fanout_job_uri(name);
	g_autofree gchar *command = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_COMMAND);
	g_autofree gchar *target = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_TARGET_URI);
	g_autofree gchar *owner = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_EXT_OWNER);
	GwDeviceOp op;
	GwFanoutJob *job;

	if (!gw_fanout_command_is_valid(command, &op) || target == NULL || *target == '\0') {
		g_info("%s: Command '%s' / TargetURI '%s' cannot run",
		       uri,
		       command ? command : "",
		       target ? target : "");
		*status = GW_DM_STATUS_BAD_REQUEST;
		return NULL;
	}
	job = g_new0(GwFanoutJob, 1);
	job->ref_count = 1;
	job->self = self;
	job->name = g_strdup(name);
	job->uri = g_steal_pointer(&uri);
	job->owner = owner != NULL && *owner != '\0' ? g_strdup(owner) : NULL;
	job->correlator = gw_fanout_dup(self, job->uri, GW_GWMO_FANOUT_EXT_CORRELATOR);
	job->op = op;
	job->target_uri = g_steal_pointer(&target);
	job->data = gw_fanout_dup(self, job->uri, GW_GWMO_FANOUT_DATA);
	job->format = gw_fanout_dup(self, job->uri, GW_GWMO_FANOUT_FORMAT);
	job->type = gw_fanout_dup(self, job->uri, GW_GWMO_FANOUT_TYPE);
	job->timeout = gw_fanout_dup_uint(
	    self, job->uri, GW_GWMO_FANOUT_TIMEOUT, GW_GWMO_FANOUT_TIMEOUT_DEFAULT);
	if (job->timeout == 0)
		job->timeout = GW_GWMO_FANOUT_TIMEOUT_DEFAULT;
	job->max_in_flight = gw_fanout_dup_uint(
	    self, job->uri, GW_GWMO_FANOUT_MAX_IN_FLIGHT, GW_GWMO_FANOUT_MAX_IN_FLIGHT_DEFAULT);
	if (job->max_in_flight == 0)
		job->max_in_flight = GW_GWMO_FANOUT_MAX_IN_FLIGHT_DEFAULT;
	job->cancellable = g_cancellable_new();
	g_queue_init(&job->todo);
	return job;
}

/* the DeviceIDs a job targets (visible group members, or Targets/Devices); NULL with @status */
static GPtrArray *
gw_fanout_resolve_targets(GwFanout *self, GwFanoutJob *job, guint *status)
{
	g_autofree gchar *group = gw_fanout_dup(self, job->uri, GW_GWMO_FANOUT_GROUP);
	g_autofree gchar *devices_uri = g_strdup_printf("%s/" GW_GWMO_FANOUT_DEVICES, job->uri);
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, devices_uri);
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	if (group != NULL && *group != '\0') {
		g_autofree gchar *group_uri =
		    gw_groups_find(gw_inventory_get_groups(self->inventory), group);
		g_auto(GStrv) members = NULL;
		if (group_uri == NULL ||
		    (job->owner != NULL &&
		     !gw_dm_tree_check_acl(self->tree, group_uri, GW_DM_ACCESS_GET, job->owner))) {
			g_info("%s: group '%s' unknown to %s",
			       job->uri,
			       group,
			       job->owner ? job->owner : "owner");
			*status = GW_DM_STATUS_NOT_FOUND;
			return NULL;
		}
		members = gw_groups_members(gw_inventory_get_groups(self->inventory), group);
		for (guint i = 0; members != NULL && members[i] != NULL; i++)
			g_ptr_array_add(ids, g_strdup(members[i]));
	}
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *uri = g_strdup_printf("%s/%s", devices_uri, names[i]);
		gchar *id = gw_dm_tree_dup_string(self->tree, uri);
		if (id == NULL || *id == '\0') {
			g_free(id);
			continue;
		}
		g_ptr_array_add(ids, id);
	}
	/* one result per device, first occurrence */
	for (guint i = 0; i < ids->len;) {
		const gchar *id = g_ptr_array_index(ids, i);
		if (!g_hash_table_add(seen, (gpointer)id)) {
			g_ptr_array_remove_index(ids, i);
			continue;
		}
		i++;
	}
	if (group == NULL && (names == NULL || names[0] == NULL)) {
		g_info("%s: no Targets", job->uri);
		*status = GW_DM_STATUS_BAD_REQUEST;
		return NULL;
	}
	return g_steal_pointer(&ids);
}

/* counts the recorded results and queues the pending ones */
static void
gw_fanout_scan_results(GwFanout *self, GwFanoutJob *job)
{
	g_autofree gchar *results = g_strdup_printf("%s/" GW_GWMO_FANOUT_RESULTS, job->uri);
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, results);

	job->total = job->succeeded = job->failed = job->pending = 0;
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *rel = g_strdup_printf(
		    GW_GWMO_FANOUT_RESULTS "/%s/" GW_GWMO_FANOUT_RESULT_STATUS, names[i]);
		guint status = gw_fanout_dup_uint(self, job->uri, rel, 0);
		job->total++;
		if (status == 0) {
			job->pending++;
			g_queue_push_tail(&job->todo, g_strdup(names[i]));
		} else if (gw_dm_status_is_success(status)) {
			job->succeeded++;
		} else {
			job->failed++;
		}
	}
}

static void
gw_fanout_run(GwFanout *self, GwFanoutJob *job)
{
	g_hash_table_replace(self->jobs, g_strdup(job->name), job);
	gw_fanout_write_summary(self, job);
	g_signal_emit(self, signals[SIGNAL_JOB_CHANGED], 0, job->uri);
	/* from an idle: the Start's Status leaves first */
	job->pump_id = g_idle_add_full(G_PRIORITY_DEFAULT,
	                               gw_fanout_pump_idle_cb,
	                               gw_fanout_job_ref(job),
	                               (GDestroyNotify)gw_fanout_job_unref);
}

/* Start: @server_id the caller (NULL: local owner). Returns a SyncML status */
static guint
gw_fanout_start_name(GwFanout *self,
                     const gchar *name,
                     const gchar *server_id,
                     const gchar *correlator)
{
	g_autofree gchar *uri = gw_fanout_job_uri(name);
	g_autofree gchar *results = g_strdup_printf("%s/" GW_GWMO_FANOUT_RESULTS, uri);
	g_autoptr(GPtrArray) targets = NULL;
	g_autoptr(GError) error = NULL;
	GwFanoutJob *job;
	guint status = GW_DM_STATUS_OK;
	gint64 sync_wait;

	if (g_hash_table_contains(self->jobs, name)) {
		g_info("%s: Start while it runs", uri);
		return GW_DM_STATUS_CONFLICT;
	}
	/* nodes a server's Add made before the handler saw them, or a job from an older state */
	{
		g_autofree gchar *owner = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_EXT_OWNER);
		if (!gw_fanout_init_job_nodes(
		        self, uri, owner != NULL && *owner ? owner : server_id, &error)) {
			g_warning("%s: %s", uri, error->message);
			return GW_DM_STATUS_COMMAND_FAILED;
		}
	}
	job = gw_fanout_load_job(self, name, &status);
	if (job == NULL)
		return status;
	{
		g_autofree gchar *agg = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_AGGREGATE);
		if (agg != NULL && *agg != '\0' && !gw_fanout_aggregate_is_valid(agg)) {
			g_info("%s: bad Aggregate '%s'", uri, agg);
			gw_fanout_job_unref(job);
			return GW_DM_STATUS_BAD_REQUEST;
		}
	}
	if (!gw_fanout_limit_is_valid(self, uri, GW_GWMO_FANOUT_TIMEOUT, GW_FANOUT_TIMEOUT_MAX) ||
	    !gw_fanout_limit_is_valid(
	        self, uri, GW_GWMO_FANOUT_MAX_IN_FLIGHT, GW_FANOUT_MAX_IN_FLIGHT_MAX)) {
		g_info("%s: Timeout must be 1 to %u, MaxInFlight 1 to %u",
		       uri,
		       GW_FANOUT_TIMEOUT_MAX,
		       GW_FANOUT_MAX_IN_FLIGHT_MAX);
		gw_fanout_job_unref(job);
		return GW_DM_STATUS_BAD_REQUEST;
	}
	targets = gw_fanout_resolve_targets(self, job, &status);
	if (targets == NULL) {
		gw_fanout_job_unref(job);
		return status;
	}
	/* a fresh run: the frozen target list, nothing recorded */
	gw_fanout_remove(self, results);
	{
		g_autofree gchar *agg_uri = g_strdup_printf("%s/" GW_GWMO_FANOUT_AGGREGATED, uri);
		gw_fanout_remove(self, agg_uri);
	}
	if (!gw_fanout_write_interior(self, results, ACCESS_GET, NULL, &error)) {
		g_warning("%s: %s", uri, error->message);
		gw_fanout_job_unref(job);
		return GW_DM_STATUS_COMMAND_FAILED;
	}
	for (guint i = 0; i < targets->len; i++) {
		g_autofree gchar *rel_id = g_strdup_printf(
		    GW_GWMO_FANOUT_RESULTS "/%u/" GW_GWMO_FANOUT_RESULT_DEVICE_ID, i + 1);
		g_autofree gchar *rel_st = g_strdup_printf(
		    GW_GWMO_FANOUT_RESULTS "/%u/" GW_GWMO_FANOUT_RESULT_STATUS, i + 1);
		gw_fanout_write(self, uri, rel_id, GW_DM_FORMAT_CHR, g_ptr_array_index(targets, i));
		gw_fanout_write(self, uri, rel_st, GW_DM_FORMAT_INT, "0");
	}
	g_free(job->correlator);
	job->correlator = g_strdup(correlator);
	gw_fanout_write(self,
	                uri,
	                GW_GWMO_FANOUT_EXT_CORRELATOR,
	                GW_DM_FORMAT_CHR,
	                correlator != NULL ? correlator : "");
	gw_fanout_write(self, uri, GW_GWMO_FANOUT_EXT_REPORTED, GW_DM_FORMAT_BOOL, "false");
	gw_fanout_write(
	    self, uri, GW_GWMO_FANOUT_STATE, GW_DM_FORMAT_CHR, GW_GWMO_FANOUT_STATE_IN_PROGRESS);
	gw_fanout_scan_results(self, job);
	g_message("%s started by %s: %s %s on %u device(s), %u at once, timeout %u s",
	          uri,
	          server_id != NULL ? server_id : "the owner",
	          gw_fanout_commands[job->op],
	          job->target_uri,
	          job->total,
	          job->max_in_flight,
	          job->timeout);

	/* flow Y: hold the reply in the server's session while the job may end in time */
	sync_wait =
	    self->config != NULL ? gw_config_get_int(self->config, "fanout", "sync-wait") : 0;
	if (server_id != NULL && job->owner != NULL && sync_wait > 0 && self->northbound != NULL) {
		job->hold_token = gw_northbound_hold_reply(self->northbound, server_id);
		if (job->hold_token != 0)
			job->hold_timer =
			    g_timeout_add_seconds_full(G_PRIORITY_DEFAULT,
			                               (guint)sync_wait,
			                               gw_fanout_hold_timeout_cb,
			                               gw_fanout_job_ref(job),
			                               (GDestroyNotify)gw_fanout_job_unref);
	}
	gw_fanout_run(self, job);
	return GW_DM_STATUS_ACCEPTED;
}

static guint
gw_fanout_cancel_name(GwFanout *self, const gchar *name)
{
	GwFanoutJob *job = g_hash_table_lookup(self->jobs, name);
	if (job == NULL)
		return GW_DM_STATUS_OK; /* nothing runs: nothing to stop */
	g_message("%s cancelled (%u device(s) outstanding)", job->uri, job->pending);
	gw_fanout_finish(self, job, TRUE);
	return GW_DM_STATUS_OK;
}

/* ---- Exec handlers ---- */

static gchar *
gw_fanout_name_of(const gchar *uri)
{
	const gchar *rel = uri + strlen(GW_GWMO_FANOUT) + 1;
	const gchar *slash = strchr(rel, '/');
	return slash != NULL ? g_strndup(rel, slash - rel) : g_strdup(rel);
}

static guint
gw_fanout_start_exec(GwDmTree *tree,
                     const gchar *server_id,
                     const gchar *uri,
                     GBytes *data,
                     const gchar *correlator,
                     gpointer user_data)
{
	g_autofree gchar *name = gw_fanout_name_of(uri);
	return gw_fanout_start_name(GW_FANOUT(user_data), name, server_id, correlator);
}

static guint
gw_fanout_cancel_exec(GwDmTree *tree,
                      const gchar *server_id,
                      const gchar *uri,
                      GBytes *data,
                      const gchar *correlator,
                      gpointer user_data)
{
	g_autofree gchar *name = gw_fanout_name_of(uri);
	return gw_fanout_cancel_name(GW_FANOUT(user_data), name);
}

/* ---- tree events ---- */

static void
gw_fanout_job_added(GwFanout *self, const gchar *name, const gchar *server_id)
{
	g_autofree gchar *uri = gw_fanout_job_uri(name);
	g_autoptr(GError) error = NULL;
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);

	if (node == NULL || gw_dm_node_is_leaf(node))
		return;
	if (!gw_fanout_init_job_nodes(self, uri, server_id, &error)) {
		g_warning("cannot prepare %s: %s", uri, error->message);
		return;
	}
	g_info("job %s added by %s", uri, server_id != NULL ? server_id : "the owner");
	g_signal_emit(self, signals[SIGNAL_JOB_ADDED], 0, uri);
}

static void
gw_fanout_drop_job(GwFanout *self, const gchar *name)
{
	GwFanoutJob *job = g_hash_table_lookup(self->jobs, name);
	g_autofree gchar *uri = gw_fanout_job_uri(name);

	if (job != NULL) {
		guint token = job->hold_token;
		job->finished = TRUE;
		job->hold_token = 0;
		gw_fanout_drop_hold(self, job);
		if (token != 0 && self->northbound != NULL)
			gw_northbound_release_reply(
			    self->northbound, job->owner, token, NULL, NULL);
		g_cancellable_cancel(job->cancellable);
		g_hash_table_remove(self->jobs, name);
	}
	g_signal_emit(self, signals[SIGNAL_JOB_REMOVED], 0, uri);
}

/* after a rollback: running jobs whose node went away stop */
static void
gw_fanout_recheck(GwFanout *self)
{
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, self->jobs);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		g_autofree gchar *uri = gw_fanout_job_uri(key);
		if (gw_dm_tree_lookup(self->tree, uri) == NULL)
			g_ptr_array_add(gone, g_strdup(key));
	}
	for (guint i = 0; i < gone->len; i++)
		gw_fanout_drop_job(self, g_ptr_array_index(gone, i));
}

static void
gw_fanout_tree_changed_cb(GwDmTree *tree,
                          const gchar *uri,
                          guint change,
                          const gchar *server_id,
                          gpointer user_data)
{
	GwFanout *self = GW_FANOUT(user_data);
	const gchar *rel;

	if (uri == NULL || gw_dm_owner_is_writing(&self->owner))
		return;
	if (!gw_dm_uri_is_below(uri, GW_GWMO_FANOUT) || g_strcmp0(uri, GW_GWMO_FANOUT) == 0) {
		if (change != GW_DM_CHANGE_PROPERTIES && gw_dm_uri_is_below(GW_GWMO_FANOUT, uri))
			gw_fanout_recheck(self);
		return;
	}
	rel = uri + strlen(GW_GWMO_FANOUT) + 1;
	if (strchr(rel, '/') != NULL)
		return;
	if (change == GW_DM_CHANGE_ADDED)
		gw_fanout_job_added(self, rel, server_id);
	else if (change == GW_DM_CHANGE_DELETED)
		gw_fanout_drop_job(self, rel);
}

/* ---- public API ---- */

static gboolean
gw_fanout_check_spec(const GwFanoutSpec *spec, GError **error)
{
	gboolean has_devices = spec->devices != NULL && spec->devices[0] != NULL;
	gboolean has_group = spec->group != NULL && spec->group[0] != '\0';

	if (has_devices == has_group) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "give either Group or Devices");
		return FALSE;
	}
	for (guint i = 0; has_devices && spec->devices[i] != NULL; i++) {
		if (spec->devices[i][0] == '\0' || !g_utf8_validate(spec->devices[i], -1, NULL)) {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "an empty or invalid DeviceID");
			return FALSE;
		}
	}
	if (!gw_fanout_command_is_valid(spec->command, NULL)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "Command must be Get, Replace, Add, Delete or Exec, not '%s'",
		            spec->command != NULL ? spec->command : "");
		return FALSE;
	}
	if (spec->target_uri == NULL || !g_str_has_prefix(spec->target_uri, ".")) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "TargetURI must be a node path (./…)");
		return FALSE;
	}
	if (spec->format != NULL &&
	    gw_dm_format_from_string(spec->format) == GW_DM_FORMAT_INVALID) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown Format '%s'", spec->format);
		return FALSE;
	}
	if (spec->aggregate != NULL && !gw_fanout_aggregate_is_valid(spec->aggregate)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "Aggregate is a list of count,min,max,sum,distinct");
		return FALSE;
	}
	if (spec->timeout > GW_FANOUT_TIMEOUT_MAX ||
	    spec->max_in_flight > GW_FANOUT_MAX_IN_FLIGHT_MAX) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "Timeout must be 1 to %u, MaxInFlight 1 to %u",
		            GW_FANOUT_TIMEOUT_MAX,
		            GW_FANOUT_MAX_IN_FLIGHT_MAX);
		return FALSE;
	}
	return TRUE;
}

gchar *
gw_fanout_create_job(GwFanout *self,
                     const GwFanoutSpec *spec,
                     const gchar *owner_server_id,
                     GError **error)
{
	g_autofree gchar *uri = NULL;
	g_autofree gchar *timeout = NULL;
	g_autofree gchar *mif = NULL;
	guint64 n = 1;

	g_return_val_if_fail(GW_IS_FANOUT(self), NULL);
	if (!gw_fanout_check_spec(spec, error))
		return NULL;
	for (;; n++) {
		g_autofree gchar *candidate =
		    g_strdup_printf(GW_GWMO_FANOUT "/%" G_GUINT64_FORMAT, n);
		if (gw_dm_tree_lookup(self->tree, candidate) == NULL) {
			uri = g_steal_pointer(&candidate);
			break;
		}
	}
	timeout = g_strdup_printf(
	    "%u", spec->timeout > 0 ? spec->timeout : GW_GWMO_FANOUT_TIMEOUT_DEFAULT);
	mif = g_strdup_printf("%u",
	                      spec->max_in_flight > 0 ? spec->max_in_flight
	                                              : GW_GWMO_FANOUT_MAX_IN_FLIGHT_DEFAULT);
	if (!gw_fanout_init_job_nodes(self, uri, owner_server_id, error))
		goto fail;
	if (spec->group != NULL && *spec->group != '\0' &&
	    !gw_fanout_write_leaf(self,
	                          uri,
	                          GW_GWMO_FANOUT_GROUP,
	                          GW_DM_FORMAT_CHR,
	                          spec->group,
	                          ACCESS_GET_REPLACE,
	                          error))
		goto fail;
	for (guint i = 0; spec->devices != NULL && spec->devices[i] != NULL; i++) {
		g_autofree gchar *rel = g_strdup_printf(GW_GWMO_FANOUT_DEVICES "/%u", i + 1);
		if (!gw_fanout_write_leaf(self,
		                          uri,
		                          rel,
		                          GW_DM_FORMAT_CHR,
		                          spec->devices[i],
		                          GW_DM_ACCESS_ALL & ~GW_DM_ACCESS_EXEC,
		                          error))
			goto fail;
	}
	if (!gw_fanout_write_leaf(self,
	                          uri,
	                          GW_GWMO_FANOUT_COMMAND,
	                          GW_DM_FORMAT_CHR,
	                          spec->command,
	                          ACCESS_GET_REPLACE,
	                          error) ||
	    !gw_fanout_write_leaf(self,
	                          uri,
	                          GW_GWMO_FANOUT_TARGET_URI,
	                          GW_DM_FORMAT_CHR,
	                          spec->target_uri,
	                          ACCESS_GET_REPLACE,
	                          error) ||
	    (spec->data != NULL && !gw_fanout_write_leaf(self,
	                                                 uri,
	                                                 GW_GWMO_FANOUT_DATA,
	                                                 GW_DM_FORMAT_CHR,
	                                                 spec->data,
	                                                 ACCESS_GET_REPLACE,
	                                                 error)) ||
	    (spec->format != NULL && !gw_fanout_write_leaf(self,
	                                                   uri,
	                                                   GW_GWMO_FANOUT_FORMAT,
	                                                   GW_DM_FORMAT_CHR,
	                                                   spec->format,
	                                                   ACCESS_GET_REPLACE,
	                                                   error)) ||
	    (spec->type != NULL && !gw_fanout_write_leaf(self,
	                                                 uri,
	                                                 GW_GWMO_FANOUT_TYPE,
	                                                 GW_DM_FORMAT_CHR,
	                                                 spec->type,
	                                                 ACCESS_GET_REPLACE,
	                                                 error)) ||
	    (spec->aggregate != NULL && !gw_fanout_write_leaf(self,
	                                                      uri,
	                                                      GW_GWMO_FANOUT_AGGREGATE,
	                                                      GW_DM_FORMAT_CHR,
	                                                      spec->aggregate,
	                                                      ACCESS_GET_REPLACE,
	                                                      error)) ||
	    !gw_fanout_write_leaf(self,
	                          uri,
	                          GW_GWMO_FANOUT_TIMEOUT,
	                          GW_DM_FORMAT_INT,
	                          timeout,
	                          ACCESS_GET_REPLACE,
	                          error) ||
	    !gw_fanout_write_leaf(self,
	                          uri,
	                          GW_GWMO_FANOUT_MAX_IN_FLIGHT,
	                          GW_DM_FORMAT_INT,
	                          mif,
	                          ACCESS_GET_REPLACE,
	                          error))
		goto fail;
	g_signal_emit(self, signals[SIGNAL_JOB_ADDED], 0, uri);
	return g_steal_pointer(&uri);
fail:
	gw_fanout_remove(self, uri);
	return NULL;
}

static gboolean
gw_fanout_name_from_uri(const gchar *job_uri, gchar **name, GError **error)
{
	if (job_uri == NULL || !g_str_has_prefix(job_uri, GW_GWMO_FANOUT "/") ||
	    strchr(job_uri + strlen(GW_GWMO_FANOUT) + 1, '/') != NULL ||
	    job_uri[strlen(GW_GWMO_FANOUT) + 1] == '\0') {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "'%s' is not a job",
		            job_uri ? job_uri : "");
		return FALSE;
	}
	*name = g_strdup(job_uri + strlen(GW_GWMO_FANOUT) + 1);
	return TRUE;
}

gboolean
gw_fanout_start_job(GwFanout *self, const gchar *job_uri, GError **error)
{
	g_autofree gchar *name = NULL;
	guint status;

	g_return_val_if_fail(GW_IS_FANOUT(self), FALSE);
	if (!gw_fanout_name_from_uri(job_uri, &name, error))
		return FALSE;
	if (gw_dm_tree_lookup(self->tree, job_uri) == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "no job %s", job_uri);
		return FALSE;
	}
	status = gw_fanout_start_name(self, name, NULL, NULL);
	if (gw_dm_status_is_success(status))
		return TRUE;
	g_set_error(error,
	            GW_ERROR,
	            status == GW_DM_STATUS_CONFLICT      ? GW_ERROR_IN_PROGRESS
	            : status == GW_DM_STATUS_NOT_FOUND   ? GW_ERROR_NOT_FOUND
	            : status == GW_DM_STATUS_BAD_REQUEST ? GW_ERROR_INVALID_ARGS
	                                                 : GW_ERROR_FAILED,
	            "%s cannot start (status %u)",
	            job_uri,
	            status);
	return FALSE;
}

gboolean
gw_fanout_cancel_job(GwFanout *self, const gchar *job_uri, GError **error)
{
	g_autofree gchar *name = NULL;

	g_return_val_if_fail(GW_IS_FANOUT(self), FALSE);
	if (!gw_fanout_name_from_uri(job_uri, &name, error))
		return FALSE;
	if (!g_hash_table_contains(self->jobs, name)) {
		g_set_error(error, GW_ERROR, GW_ERROR_WRONG_STATE, "%s is not running", job_uri);
		return FALSE;
	}
	gw_fanout_cancel_name(self, name);
	return TRUE;
}

GPtrArray *
gw_fanout_list_jobs(GwFanout *self)
{
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, GW_GWMO_FANOUT);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *uri = gw_fanout_job_uri(names[i]);
		GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
		if (node != NULL && !gw_dm_node_is_leaf(node))
			g_ptr_array_add(out, g_steal_pointer(&uri));
	}
	return out;
}

gboolean
gw_fanout_get_job_info(GwFanout *self, const gchar *job_uri, GwFanoutJobInfo *info)
{
	GwDmNode *node = gw_dm_tree_lookup(self->tree, job_uri);
	if (node == NULL || gw_dm_node_is_leaf(node))
		return FALSE;
	info->state = gw_fanout_dup(self, job_uri, GW_GWMO_FANOUT_STATE);
	if (info->state == NULL)
		info->state = g_strdup(GW_GWMO_FANOUT_STATE_IDLE);
	info->total = gw_fanout_dup_uint(self, job_uri, GW_GWMO_FANOUT_SUMMARY "/Total", 0);
	info->succeeded = gw_fanout_dup_uint(self, job_uri, GW_GWMO_FANOUT_SUMMARY "/Succeeded", 0);
	info->failed = gw_fanout_dup_uint(self, job_uri, GW_GWMO_FANOUT_SUMMARY "/Failed", 0);
	info->pending = gw_fanout_dup_uint(self, job_uri, GW_GWMO_FANOUT_SUMMARY "/Pending", 0);
	return TRUE;
}

gchar *
gw_fanout_dup_aggregated(GwFanout *self, const gchar *job_uri)
{
	return gw_fanout_dup(self, job_uri, GW_GWMO_FANOUT_AGGREGATED);
}

/* ---- start-up: resume and report ---- */

static void
gw_fanout_resume(GwFanout *self)
{
	g_autoptr(GPtrArray) jobs = gw_fanout_list_jobs(self);

	for (guint i = 0; i < jobs->len; i++) {
		const gchar *uri = g_ptr_array_index(jobs, i);
		g_autofree gchar *name = g_strdup(uri + strlen(GW_GWMO_FANOUT) + 1);
		g_autofree gchar *state = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_STATE);
		g_autofree gchar *reported = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_EXT_REPORTED);
		g_autofree gchar *owner = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_EXT_OWNER);
		guint status = 0;
		GwFanoutJob *job;

		if (g_strcmp0(state, GW_GWMO_FANOUT_STATE_IN_PROGRESS) == 0) {
			job = gw_fanout_load_job(self, name, &status);
			if (job == NULL) {
				gw_fanout_write(self,
				                uri,
				                GW_GWMO_FANOUT_STATE,
				                GW_DM_FORMAT_CHR,
				                GW_GWMO_FANOUT_STATE_PARTIAL);
				continue;
			}
			gw_fanout_scan_results(self, job);
			g_message("%s resumes: %u of %u device(s) still to drive",
			          uri,
			          job->pending,
			          job->total);
			gw_fanout_run(self, job);
			continue;
		}
		/* ended but not reported (stopped in between): report now, once */
		if (owner != NULL && *owner != '\0' && g_strcmp0(reported, "false") == 0 &&
		    g_strcmp0(state, GW_GWMO_FANOUT_STATE_IDLE) != 0) {
			g_autofree gchar *doc = gw_fanout_dup(self, uri, GW_GWMO_FANOUT_AGGREGATED);
			GwAlertQueue *queue = self->northbound != NULL
			                          ? gw_northbound_get_alert_queue(self->northbound)
			                          : NULL;
			g_autoptr(GPtrArray) queued =
			    queue != NULL ? gw_alert_queue_list(queue, owner) : NULL;
			gboolean already = FALSE;
			for (guint k = 0; queued != NULL && k < queued->len; k++) {
				GwAlert *a = g_ptr_array_index(queued, k);
				if (g_strcmp0(a->type, GW_GWMO_ALERT_FANOUT_COMPLETE) == 0 &&
				    g_strcmp0(a->source, uri) == 0)
					already = TRUE;
			}
			if (already) {
				gw_fanout_write(self,
				                uri,
				                GW_GWMO_FANOUT_EXT_REPORTED,
				                GW_DM_FORMAT_BOOL,
				                "true");
				continue;
			}
			if (doc != NULL)
				gw_fanout_report(self, uri, doc, 0);
		}
	}
}

gboolean
gw_fanout_start(GwFanout *self, GError **error)
{
	g_return_val_if_fail(GW_IS_FANOUT(self), FALSE);
	g_return_val_if_fail(!self->started, FALSE);

	/* every DM Server may add jobs; each job then carries its creator's ACL */
	if (!gw_dm_owner_set_properties(&self->owner,
	                                GW_GWMO_FANOUT,
	                                GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD,
	                                "Add=*&Get=*",
	                                error))
		return FALSE;
	self->start_handler = gw_dm_tree_add_exec_handler(self->tree,
	                                                  GW_GWMO_FANOUT "/*/" GW_GWMO_FANOUT_START,
	                                                  gw_fanout_start_exec,
	                                                  self,
	                                                  NULL);
	self->cancel_handler =
	    gw_dm_tree_add_exec_handler(self->tree,
	                                GW_GWMO_FANOUT "/*/" GW_GWMO_FANOUT_CANCEL,
	                                gw_fanout_cancel_exec,
	                                self,
	                                NULL);
	self->changed_id =
	    g_signal_connect(self->tree, "changed", G_CALLBACK(gw_fanout_tree_changed_cb), self);
	self->started = TRUE;
	gw_fanout_resume(self);
	return TRUE;
}

/* ---- GObject ---- */

static void
gw_fanout_job_detach(gpointer data)
{
	GwFanoutJob *job = data;
	if (job->self != NULL) {
		gw_fanout_drop_hold(job->self, job);
		if (job->pump_id != 0) {
			g_source_remove(job->pump_id);
			job->pump_id = 0;
		}
	}
	job->self = NULL;
	g_cancellable_cancel(job->cancellable);
	gw_fanout_job_unref(job);
}

static void
gw_fanout_dispose(GObject *object)
{
	GwFanout *self = GW_FANOUT(object);
	if (self->changed_id != 0) {
		g_signal_handler_disconnect(self->tree, self->changed_id);
		self->changed_id = 0;
	}
	if (self->start_handler != 0) {
		gw_dm_tree_remove_handler(self->tree, self->start_handler);
		self->start_handler = 0;
	}
	if (self->cancel_handler != 0) {
		gw_dm_tree_remove_handler(self->tree, self->cancel_handler);
		self->cancel_handler = 0;
	}
	if (self->jobs != NULL)
		g_hash_table_remove_all(self->jobs);
	if (self->flush_id != 0) {
		g_source_remove(self->flush_id);
		self->flush_id = 0;
		gw_fanout_flush(self);
	}
	g_clear_object(&self->northbound);
	g_clear_object(&self->adapters);
	g_clear_object(&self->inventory);
	g_clear_object(&self->images);
	G_OBJECT_CLASS(gw_fanout_parent_class)->dispose(object);
}

static void
gw_fanout_finalize(GObject *object)
{
	GwFanout *self = GW_FANOUT(object);
	g_hash_table_unref(self->jobs);
	g_clear_object(&self->config);
	g_clear_object(&self->store);
	g_object_unref(self->tree);
	G_OBJECT_CLASS(gw_fanout_parent_class)->finalize(object);
}

static void
gw_fanout_class_init(GwFanoutClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_fanout_dispose;
	object_class->finalize = gw_fanout_finalize;
	signals[SIGNAL_JOB_ADDED] = g_signal_new("job-added",
	                                         G_TYPE_FROM_CLASS(klass),
	                                         G_SIGNAL_RUN_LAST,
	                                         0,
	                                         NULL,
	                                         NULL,
	                                         NULL,
	                                         G_TYPE_NONE,
	                                         1,
	                                         G_TYPE_STRING);
	signals[SIGNAL_JOB_CHANGED] = g_signal_new("job-changed",
	                                           G_TYPE_FROM_CLASS(klass),
	                                           G_SIGNAL_RUN_LAST,
	                                           0,
	                                           NULL,
	                                           NULL,
	                                           NULL,
	                                           G_TYPE_NONE,
	                                           1,
	                                           G_TYPE_STRING);
	signals[SIGNAL_JOB_FINISHED] = g_signal_new("job-finished",
	                                            G_TYPE_FROM_CLASS(klass),
	                                            G_SIGNAL_RUN_LAST,
	                                            0,
	                                            NULL,
	                                            NULL,
	                                            NULL,
	                                            G_TYPE_NONE,
	                                            2,
	                                            G_TYPE_STRING,
	                                            G_TYPE_STRING);
	signals[SIGNAL_JOB_REMOVED] = g_signal_new("job-removed",
	                                           G_TYPE_FROM_CLASS(klass),
	                                           G_SIGNAL_RUN_LAST,
	                                           0,
	                                           NULL,
	                                           NULL,
	                                           NULL,
	                                           G_TYPE_NONE,
	                                           1,
	                                           G_TYPE_STRING);
}

static void
gw_fanout_init(GwFanout *self)
{
	self->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_fanout_job_detach);
}

GwFanout *
gw_fanout_new(GwConfig *config,
              GwDmTree *tree,
              GwDmStore *store,
              GwInventory *inventory,
              GwAdapters *adapters,
              GwNorthbound *northbound)
{
	GwFanout *self = g_object_new(GW_TYPE_FANOUT, NULL);
	self->config = config != NULL ? g_object_ref(config) : NULL;
	self->tree = g_object_ref(tree);
	gw_dm_owner_init(&self->owner, self->tree);
	self->store = g_object_ref(store);
	self->inventory = g_object_ref(inventory);
	self->adapters = g_object_ref(adapters);
	self->northbound = northbound != NULL ? g_object_ref(northbound) : NULL;
	return self;
}

void
gw_fanout_set_image_store(GwFanout *self, GwImageStore *images)
{
	g_return_if_fail(GW_IS_FANOUT(self));
	g_set_object(&self->images, images);
}
