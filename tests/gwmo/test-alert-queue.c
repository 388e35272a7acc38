/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The alert queue's identities (issue 16): each alert gets one when queued, it survives a
 * reload, is never handed out twice (not after a reset by a corrupt file either), and a file
 * written before identities existed gets them, stored before the queue is used.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-alert-queue.h"

/* g_test_expect_message() does not see structured log messages with GLib 2.74: the queue's
 * warnings are counted by a writer of our own, every other message goes through */
static guint queue_warnings = 0;

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	const gchar *domain = NULL;

	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
	}
	if ((level & G_LOG_LEVEL_WARNING) && g_strcmp0(domain, "GwAlerts") == 0) {
		queue_warnings++;
		return G_LOG_WRITER_HANDLED;
	}
	if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
		g_test_fail();
	return g_log_writer_default(level, fields, n_fields, user_data);
}

static gchar *
tmp_dir(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("gwmo-alert-queue-XXXXXX", &error);
	g_assert_no_error(error);
	return dir;
}

static void
rm_dir(const gchar *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const gchar *name;
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree gchar *p = g_build_filename(dir, name, NULL);
		g_remove(p);
	}
	g_rmdir(dir);
}

static guint
push(GwAlertQueue *q, const gchar *source)
{
	g_autoptr(GError) error = NULL;
	GwAlert a = {0};
	guint id;

	a.server_id = (gchar *)"srv";
	a.type = (gchar *)"urn:oma:at:test";
	a.source = (gchar *)source;
	id = gw_alert_queue_push(q, &a, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(id, >, 0);
	return id;
}

static gchar *
emi_of(GwAlertQueue *q, guint index)
{
	g_autoptr(GPtrArray) list = gw_alert_queue_list(q, "srv");
	g_assert_cmpuint(list->len, >, index);
	return gw_alert_dup_emi(g_ptr_array_index(list, index));
}

static void
test_identity_stable(void)
{
	g_autofree gchar *dir = tmp_dir();
	g_autoptr(GError) error = NULL;
	g_autoptr(GwAlertQueue) q = gw_alert_queue_new(dir, &error);
	g_autoptr(GwAlertQueue) again = NULL;
	g_autofree gchar *e1 = NULL;
	g_autofree gchar *e2 = NULL;
	g_autofree gchar *e1_again = NULL;
	g_autofree gchar *e3 = NULL;
	guint id1;

	g_assert_no_error(error);
	id1 = push(q, "./a");
	push(q, "./b");
	e1 = emi_of(q, 0);
	e2 = emi_of(q, 1);
	g_assert_true(g_str_has_prefix(e1, GW_ALERT_EMI_PREFIX));
	g_assert_cmpstr(e1, !=, e2);
	{
		g_autofree gchar *by_id = gw_alert_queue_dup_emi(q, id1);
		g_assert_cmpstr(by_id, ==, e1);
	}
	g_assert_null(gw_alert_queue_dup_emi(q, 999));
	g_clear_object(&q);

	/* a restart: the same identities */
	again = gw_alert_queue_new(dir, &error);
	g_assert_no_error(error);
	e1_again = emi_of(again, 0);
	g_assert_cmpstr(e1_again, ==, e1);
	/* acknowledged and gone; a new alert never takes an identity handed out before */
	g_assert_true(gw_alert_queue_ack(again, id1, &error));
	g_assert_true(gw_alert_queue_flush(again, &error));
	push(again, "./c");
	e3 = emi_of(again, 1);
	g_assert_cmpstr(e3, !=, e1);
	g_assert_cmpstr(e3, !=, e2);
	g_clear_object(&again);
	rm_dir(dir);
}

/* a corrupt file resets the ids: the new instance keeps the identities apart */
static void
test_identity_after_reset(void)
{
	g_autofree gchar *dir = tmp_dir();
	g_autofree gchar *path = g_build_filename(dir, "alerts.json", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwAlertQueue) q = gw_alert_queue_new(dir, &error);
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;

	g_assert_no_error(error);
	push(q, "./a");
	before = emi_of(q, 0);
	g_clear_object(&q);
	g_assert_true(g_file_set_contents(path, "{ not json", -1, NULL));
	queue_warnings = 0;
	q = gw_alert_queue_new(dir, &error);
	g_assert_cmpuint(queue_warnings, ==, 1);
	g_assert_no_error(error);
	g_assert_cmpuint(gw_alert_queue_get_length(q), ==, 0);
	/* id 1 again, another identity */
	g_assert_cmpuint(push(q, "./b"), ==, 1);
	after = emi_of(q, 0);
	g_assert_cmpstr(after, !=, before);
	g_clear_object(&q);
	rm_dir(dir);
}

/* a queue stored before identities existed: they are given and stored at once */
static void
test_identity_upgrade(void)
{
	g_autofree gchar *dir = tmp_dir();
	g_autofree gchar *path = g_build_filename(dir, "alerts.json", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwAlertQueue) q = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *emi = NULL;
	g_autofree gchar *emi_again = NULL;

	g_assert_true(g_file_set_contents(
	    path,
	    "{\"version\":1,\"next_id\":3,\"alerts\":[{\"id\":2,\"server\":\"srv\",\"type\":"
	    "\"urn:oma:at:test\",\"source\":\"./old\"}]}",
	    -1,
	    NULL));
	q = gw_alert_queue_new(dir, &error);
	g_assert_no_error(error);
	emi = emi_of(q, 0);
	g_assert_true(g_str_has_suffix(emi, "-2"));
	/* stored before anything could send it */
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "\"instance\""));
	g_assert_nonnull(strstr(text, emi + strlen(GW_ALERT_EMI_PREFIX)));
	g_clear_object(&q);
	q = gw_alert_queue_new(dir, &error);
	g_assert_no_error(error);
	emi_again = emi_of(q, 0);
	g_assert_cmpstr(emi_again, ==, emi);
	g_clear_object(&q);
	rm_dir(dir);
}

static void
count_changed(GwAlertQueue *q, gpointer user_data)
{
	(*(guint *)user_data)++;
}

/* "changed" (PendingAlerts follows it): each push, each acknowledgement that removes an alert,
 * with the new length already in place; none for an id not queued */
static void
test_changed_signal(void)
{
	g_autofree gchar *dir = tmp_dir();
	g_autoptr(GError) error = NULL;
	g_autoptr(GwAlertQueue) q = gw_alert_queue_new(dir, &error);
	GwAlert a = {.server_id = (gchar *)"srv", .type = (gchar *)"urn:oma:at:test"};
	guint changed = 0;
	guint id1;
	guint id2;

	g_assert_no_error(error);
	g_signal_connect(q, "changed", G_CALLBACK(count_changed), &changed);
	id1 = push(q, "./a");
	g_assert_cmpuint(changed, ==, 1);
	id2 = gw_alert_queue_push_batched(q, &a);
	g_assert_cmpuint(changed, ==, 2);
	g_assert_cmpuint(gw_alert_queue_get_length(q), ==, 2);
	g_assert_true(gw_alert_queue_ack(q, id1, &error));
	g_assert_cmpuint(changed, ==, 3);
	g_assert_cmpuint(gw_alert_queue_get_length(q), ==, 1);
	g_assert_true(gw_alert_queue_ack(q, id1, &error)); /* not queued any more */
	g_assert_cmpuint(changed, ==, 3);
	g_assert_true(gw_alert_queue_ack(q, id2, &error));
	g_assert_cmpuint(changed, ==, 4);
	g_assert_cmpuint(gw_alert_queue_get_length(q), ==, 0);
	g_assert_true(gw_alert_queue_flush(q, &error));
	g_assert_no_error(error);
	g_clear_object(&q);
	rm_dir(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_log_set_writer_func(log_writer, NULL, NULL);
	g_test_add_func("/gw/alert-queue/identity-stable", test_identity_stable);
	g_test_add_func("/gw/alert-queue/identity-after-reset", test_identity_after_reset);
	g_test_add_func("/gw/alert-queue/identity-upgrade", test_identity_upgrade);
	g_test_add_func("/gw/alert-queue/changed-signal", test_changed_signal);
	return g_test_run();
}
