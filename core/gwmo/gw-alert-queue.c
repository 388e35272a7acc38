/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwAlerts"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gw-alert-queue.h"
#include "gw-error.h"

#define GW_ALERT_QUEUE_VERSION 1

struct _GwAlertQueue {
	GObject parent_instance;
	gchar *path;
	GPtrArray *alerts; /* GwAlert *, oldest first */
	guint next_id;
	gchar *instance; /* random, made with the file: part of every alert's uid */
	gboolean dirty; /* changed since the last save */
	guint save_id;  /* the batched save */
};

G_DEFINE_TYPE(GwAlertQueue, gw_alert_queue, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
gw_alert_queue_changed(GwAlertQueue *self)
{
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

void
gw_alert_free(GwAlert *alert)
{
	g_free(alert->server_id);
	g_free(alert->type);
	g_free(alert->source);
	g_free(alert->target);
	g_free(alert->format);
	g_free(alert->mark);
	g_free(alert->data);
	g_free(alert->correlator);
	g_free(alert->uid);
	g_free(alert);
}

gchar *
gw_alert_dup_emi(const GwAlert *alert)
{
	return alert->uid != NULL ? g_strconcat(GW_ALERT_EMI_PREFIX, alert->uid, NULL) : NULL;
}

/* 128 random bits in hex: a queue's instance */
static gchar *
gw_alert_queue_new_instance(void)
{
	GString *s = g_string_sized_new(32);
	for (guint i = 0; i < 4; i++)
		g_string_append_printf(s, "%08x", g_random_int());
	return g_string_free(s, FALSE);
}

static void
gw_alert_queue_assign_uid(GwAlertQueue *self, GwAlert *alert)
{
	g_free(alert->uid);
	alert->uid = g_strdup_printf("%s-%u", self->instance, alert->id);
}

static GwAlert *
gw_alert_copy(const GwAlert *a)
{
	GwAlert *c = g_new0(GwAlert, 1);
	c->id = a->id;
	c->server_id = g_strdup(a->server_id);
	c->type = g_strdup(a->type);
	c->source = g_strdup(a->source);
	c->target = g_strdup(a->target);
	c->format = g_strdup(a->format);
	c->mark = g_strdup(a->mark);
	c->data = g_strdup(a->data);
	c->correlator = g_strdup(a->correlator);
	c->uid = g_strdup(a->uid);
	return c;
}

static void
gw_alert_queue_add_member(JsonBuilder *b, const gchar *name, const gchar *value)
{
	if (value == NULL)
		return;
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

static gboolean
gw_alert_queue_save(GwAlertQueue *self, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *text = NULL;
	gsize len = 0;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "version");
	json_builder_add_int_value(b, GW_ALERT_QUEUE_VERSION);
	json_builder_set_member_name(b, "next_id");
	json_builder_add_int_value(b, self->next_id);
	json_builder_set_member_name(b, "instance");
	json_builder_add_string_value(b, self->instance);
	json_builder_set_member_name(b, "alerts");
	json_builder_begin_array(b);
	for (guint i = 0; i < self->alerts->len; i++) {
		GwAlert *a = g_ptr_array_index(self->alerts, i);
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "id");
		json_builder_add_int_value(b, a->id);
		gw_alert_queue_add_member(b, "server", a->server_id);
		gw_alert_queue_add_member(b, "type", a->type);
		gw_alert_queue_add_member(b, "source", a->source);
		gw_alert_queue_add_member(b, "target", a->target);
		gw_alert_queue_add_member(b, "format", a->format);
		gw_alert_queue_add_member(b, "mark", a->mark);
		gw_alert_queue_add_member(b, "data", a->data);
		gw_alert_queue_add_member(b, "correlator", a->correlator);
		gw_alert_queue_add_member(b, "uid", a->uid);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	text = json_generator_to_data(gen, &len);
	if (!g_file_set_contents_full(self->path,
	                              text,
	                              (gssize)len,
	                              G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
	                              0600,
	                              error)) {
		g_prefix_error(error, "cannot store the alert queue: ");
		return FALSE;
	}
	self->dirty = FALSE;
	return TRUE;
}

static gboolean
gw_alert_queue_save_cb(gpointer user_data)
{
	GwAlertQueue *self = GW_ALERT_QUEUE(user_data);
	g_autoptr(GError) error = NULL;

	self->save_id = 0;
	if (self->dirty && !gw_alert_queue_save(self, &error))
		g_warning("%s", error->message); /* dirty still: the next change tries again */
	return G_SOURCE_REMOVE;
}

static void
gw_alert_queue_schedule_save(GwAlertQueue *self)
{
	self->dirty = TRUE;
	if (self->save_id != 0)
		return;
	/* no reference: disposing the queue stores what is pending (a clean shutdown) */
	self->save_id =
	    g_idle_add_full(GW_ALERT_QUEUE_SAVE_PRIORITY, gw_alert_queue_save_cb, self, NULL);
}

static gchar *
gw_alert_queue_get_member(JsonObject *o, const gchar *name)
{
	JsonNode *n = json_object_get_member(o, name);
	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return g_strdup(json_node_get_string(n));
}

/* *@upgraded: alerts of a file without identities were given one (to be stored at once) */
static gboolean
gw_alert_queue_parse(GwAlertQueue *self,
                     const gchar *text,
                     gsize len,
                     gboolean *upgraded,
                     GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonNode *root;
	JsonObject *o;
	JsonArray *arr;
	JsonNode *n;

	if (!json_parser_load_from_data(parser, text, (gssize)len, error))
		return FALSE;
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "not a JSON object");
		return FALSE;
	}
	o = json_node_get_object(root);
	n = json_object_get_member(o, "version");
	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
	    json_node_get_int(n) != GW_ALERT_QUEUE_VERSION) {
		g_set_error(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "unknown version");
		return FALSE;
	}
	n = json_object_get_member(o, "next_id");
	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
	    json_node_get_int(n) < 1 || json_node_get_int(n) > G_MAXUINT32) {
		g_set_error(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "bad next_id");
		return FALSE;
	}
	self->next_id = (guint)json_node_get_int(n);
	/* files written before alerts had identities have no instance: one is made */
	g_free(self->instance);
	self->instance = gw_alert_queue_get_member(o, "instance");
	if (self->instance == NULL || self->instance[0] == '\0') {
		g_free(self->instance);
		self->instance = gw_alert_queue_new_instance();
		*upgraded = TRUE;
	}
	n = json_object_get_member(o, "alerts");
	if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n)) {
		g_set_error(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "no alerts array");
		return FALSE;
	}
	arr = json_node_get_array(n);
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonNode *e = json_array_get_element(arr, i);
		JsonObject *ao;
		JsonNode *idn;
		g_autoptr(GwAlert) a = g_new0(GwAlert, 1);
		if (!JSON_NODE_HOLDS_OBJECT(e)) {
			g_set_error(
			    error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "alert %u is no object", i);
			return FALSE;
		}
		ao = json_node_get_object(e);
		idn = json_object_get_member(ao, "id");
		if (idn == NULL || !JSON_NODE_HOLDS_VALUE(idn) ||
		    json_node_get_value_type(idn) != G_TYPE_INT64 || json_node_get_int(idn) < 1 ||
		    json_node_get_int(idn) >= self->next_id) {
			g_set_error(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "alert %u: bad id", i);
			return FALSE;
		}
		a->id = (guint)json_node_get_int(idn);
		a->server_id = gw_alert_queue_get_member(ao, "server");
		a->type = gw_alert_queue_get_member(ao, "type");
		if (a->server_id == NULL || a->type == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_CORRUPT_STATE,
			            "alert %u: no server or type",
			            i);
			return FALSE;
		}
		a->source = gw_alert_queue_get_member(ao, "source");
		a->target = gw_alert_queue_get_member(ao, "target");
		a->format = gw_alert_queue_get_member(ao, "format");
		a->mark = gw_alert_queue_get_member(ao, "mark");
		a->data = gw_alert_queue_get_member(ao, "data");
		a->correlator = gw_alert_queue_get_member(ao, "correlator");
		a->uid = gw_alert_queue_get_member(ao, "uid");
		if (a->uid == NULL) {
			gw_alert_queue_assign_uid(self, a);
			*upgraded = TRUE;
		}
		g_ptr_array_add(self->alerts, g_steal_pointer(&a));
	}
	return TRUE;
}

GwAlertQueue *
gw_alert_queue_new(const gchar *state_dir, GError **error)
{
	g_autoptr(GwAlertQueue) self = g_object_new(GW_TYPE_ALERT_QUEUE, NULL);
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error_local = NULL;
	gboolean upgraded = FALSE;
	gsize len = 0;

	self->path = g_build_filename(state_dir, "alerts.json", NULL);
	if (!g_file_get_contents(self->path, &text, &len, NULL))
		return g_steal_pointer(&self);
	if (!gw_alert_queue_parse(self, text, len, &upgraded, &error_local)) {
		g_autofree gchar *aside = g_strdup_printf(
		    "%s.corrupt-%" G_GINT64_FORMAT, self->path, g_get_real_time() / G_USEC_PER_SEC);
		g_ptr_array_set_size(self->alerts, 0);
		self->next_id = 1;
		/* a new instance: the identities of the lost file's alerts are never reused */
		g_free(self->instance);
		self->instance = gw_alert_queue_new_instance();
		upgraded = FALSE;
		if (g_rename(self->path, aside) != 0) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_CORRUPT_STATE,
			            "%s is corrupt (%s) and cannot be kept aside",
			            self->path,
			            error_local->message);
			return NULL;
		}
		g_warning("%s is corrupt (%s); kept as %s, starting with an empty alert queue",
		          self->path,
		          error_local->message,
		          aside);
	}
	/* an identity is stable before the alert is first sent */
	if (upgraded && !gw_alert_queue_save(self, error)) {
		g_prefix_error(error, "giving the queued alerts their identities: ");
		return NULL;
	}
	if (self->alerts->len > 0)
		g_message("%u undelivered alert(s) loaded from %s", self->alerts->len, self->path);
	return g_steal_pointer(&self);
}

guint
gw_alert_queue_push(GwAlertQueue *self, const GwAlert *alert, GError **error)
{
	GwAlert *copy = gw_alert_copy(alert);

	copy->id = self->next_id++;
	gw_alert_queue_assign_uid(self, copy);
	g_ptr_array_add(self->alerts, copy);
	if (!gw_alert_queue_save(self, error)) {
		g_ptr_array_remove(self->alerts, copy);
		self->next_id--;
		return 0;
	}
	g_info("alert %u (%s) queued for %s", copy->id, copy->type, copy->server_id);
	gw_alert_queue_changed(self);
	return copy->id;
}

guint
gw_alert_queue_push_batched(GwAlertQueue *self, const GwAlert *alert)
{
	GwAlert *copy = gw_alert_copy(alert);

	copy->id = self->next_id++;
	gw_alert_queue_assign_uid(self, copy);
	g_ptr_array_add(self->alerts, copy);
	gw_alert_queue_schedule_save(self);
	g_info("alert %u (%s) queued for %s", copy->id, copy->type, copy->server_id);
	gw_alert_queue_changed(self);
	return copy->id;
}

gboolean
gw_alert_queue_flush(GwAlertQueue *self, GError **error)
{
	g_clear_handle_id(&self->save_id, g_source_remove);
	return !self->dirty || gw_alert_queue_save(self, error);
}

GPtrArray *
gw_alert_queue_list(GwAlertQueue *self, const gchar *server_id)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gw_alert_free);
	for (guint i = 0; i < self->alerts->len; i++) {
		GwAlert *a = g_ptr_array_index(self->alerts, i);
		if (g_strcmp0(a->server_id, server_id) == 0)
			g_ptr_array_add(out, gw_alert_copy(a));
	}
	return out;
}

gboolean
gw_alert_queue_ack(GwAlertQueue *self, guint id, GError **error)
{
	for (guint i = 0; i < self->alerts->len; i++) {
		GwAlert *a = g_ptr_array_index(self->alerts, i);
		if (a->id == id) {
			g_info("alert %u acknowledged by %s", id, a->server_id);
			g_ptr_array_remove_index(self->alerts, i);
			gw_alert_queue_schedule_save(self);
			gw_alert_queue_changed(self);
			return TRUE;
		}
	}
	return TRUE;
}

guint
gw_alert_queue_get_length(GwAlertQueue *self)
{
	return self->alerts->len;
}

gchar *
gw_alert_queue_dup_emi(GwAlertQueue *self, guint id)
{
	for (guint i = 0; i < self->alerts->len; i++) {
		GwAlert *a = g_ptr_array_index(self->alerts, i);
		if (a->id == id)
			return gw_alert_dup_emi(a);
	}
	return NULL;
}

static void
gw_alert_queue_dispose(GObject *object)
{
	GwAlertQueue *self = GW_ALERT_QUEUE(object);
	g_autoptr(GError) error = NULL;

	if (self->path != NULL && !gw_alert_queue_flush(self, &error))
		g_warning("%s", error->message);
	G_OBJECT_CLASS(gw_alert_queue_parent_class)->dispose(object);
}

static void
gw_alert_queue_finalize(GObject *object)
{
	GwAlertQueue *self = GW_ALERT_QUEUE(object);
	g_ptr_array_unref(self->alerts);
	g_free(self->path);
	g_free(self->instance);
	G_OBJECT_CLASS(gw_alert_queue_parent_class)->finalize(object);
}

static void
gw_alert_queue_class_init(GwAlertQueueClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_alert_queue_dispose;
	G_OBJECT_CLASS(klass)->finalize = gw_alert_queue_finalize;
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
	                                       G_TYPE_FROM_CLASS(klass),
	                                       G_SIGNAL_RUN_LAST,
	                                       0,
	                                       NULL,
	                                       NULL,
	                                       NULL,
	                                       G_TYPE_NONE,
	                                       0);
}

static void
gw_alert_queue_init(GwAlertQueue *self)
{
	self->alerts = g_ptr_array_new_with_free_func((GDestroyNotify)gw_alert_free);
	self->next_id = 1;
	self->instance = gw_alert_queue_new_instance();
}
