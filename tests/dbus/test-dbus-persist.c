/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kill -9 during a burst of SetNode calls: every change the daemon acknowledged is present
 * after a restart, and the state file is valid (header, length and sha256 checked here
 * independently of the daemon's own loader).
 */

#include "config.h"

#include <string.h>

#include "gw-test-daemon.h"

#define BURST	     4000
#define IN_FLIGHT    48

typedef struct {
	GwTestDaemon *d;
	GMainLoop *loop;
	guint next;
	guint in_flight;
	guint kill_after;
	gboolean killed;
	GHashTable *acked; /* index → TRUE */
	guint failed;
} BurstCtx;

static void burst_send_more(BurstCtx *ctx);

typedef struct {
	BurstCtx *ctx;
	guint idx;
} CallData;

static void
burst_call_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree CallData *cd = user_data;
	BurstCtx *ctx = cd->ctx;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	ctx->in_flight--;
	if (reply != NULL && !ctx->killed) {
		g_hash_table_add(ctx->acked, GUINT_TO_POINTER(cd->idx + 1));
		if (g_hash_table_size(ctx->acked) == ctx->kill_after) {
			/* kill in the middle of the burst: more calls are in flight now */
			gw_test_daemon_kill(ctx->d);
			ctx->killed = TRUE;
		}
	} else if (reply == NULL) {
		ctx->failed++;
	}
	burst_send_more(ctx);
	if (ctx->in_flight == 0 && (ctx->killed || ctx->next >= BURST))
		g_main_loop_quit(ctx->loop);
}

static void
burst_send_more(BurstCtx *ctx)
{
	while (!ctx->killed && ctx->in_flight < IN_FLIGHT && ctx->next < BURST) {
		g_autofree gchar *uri = g_strdup_printf("./GwMO/Config/Ext/k%u", ctx->next);
		g_autofree gchar *value = g_strdup_printf("value-%u", ctx->next);
		CallData *cd = g_new0(CallData, 1);
		cd->ctx = ctx;
		cd->idx = ctx->next;
		g_dbus_connection_call(ctx->d->connection,
				       "org.gwmo.Gateway1",
				       "/org/gwmo/Gateway1",
				       "org.gwmo.Gateway1.Manager",
				       "SetNode",
				       g_variant_new("(ssv)", uri, "chr", g_variant_new_string(value)),
				       G_VARIANT_TYPE("()"),
				       G_DBUS_CALL_FLAGS_NONE,
				       60000,
				       NULL,
				       burst_call_done,
				       cd);
		ctx->next++;
		ctx->in_flight++;
	}
}

/* the state file's own integrity, computed here, not by the daemon's loader */
static void
assert_state_file_valid(const gchar *state_dir)
{
	g_autofree gchar *path = g_build_filename(state_dir, "tree.state", NULL);
	g_autofree gchar *data = NULL;
	g_autofree gchar *sum = NULL;
	g_auto(GStrv) fields = NULL;
	gsize len = 0;
	const gchar *nl;
	guint64 body_len = 0;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	nl = memchr(data, '\n', len);
	g_assert_nonnull(nl);
	{
		g_autofree gchar *header = g_strndup(data, nl - data);
		fields = g_strsplit(header, " ", -1);
	}
	g_assert_cmpuint(g_strv_length(fields), ==, 4);
	g_assert_cmpstr(fields[0], ==, "GWMO-STATE");
	g_assert_cmpstr(fields[1], ==, "1");
	g_assert_true(g_str_has_prefix(fields[2], "length="));
	g_assert_true(g_str_has_prefix(fields[3], "sha256="));
	body_len = g_ascii_strtoull(fields[2] + 7, NULL, 10);
	g_assert_cmpuint(body_len, ==, len - (gsize)(nl + 1 - data));
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)nl + 1, body_len);
	g_assert_cmpstr(sum, ==, fields[3] + 7);
}

static void
run_round(GwTestDaemon *d, guint kill_after, guint round)
{
	BurstCtx ctx = {0};
	GHashTableIter iter;
	gpointer key;
	guint checked = 0;

	ctx.d = d;
	ctx.loop = g_main_loop_new(NULL, FALSE);
	ctx.kill_after = kill_after;
	ctx.acked = g_hash_table_new(g_direct_hash, g_direct_equal);

	gw_test_daemon_start(d, NULL);
	burst_send_more(&ctx);
	g_main_loop_run(ctx.loop);
	g_assert_true(ctx.killed);
	g_test_message("round %u: %u acknowledged before SIGKILL, %u calls sent, %u unanswered",
		       round,
		       g_hash_table_size(ctx.acked),
		       ctx.next,
		       ctx.failed);

	assert_state_file_valid(d->state_dir);

	/* restart on the same state: every acknowledged value is there */
	gw_test_daemon_start(d, NULL);
	{
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		g_assert_null(strstr(log, "corrupt"));
	}
	g_hash_table_iter_init(&iter, ctx.acked);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		guint idx = GPOINTER_TO_UINT(key) - 1;
		g_autofree gchar *uri = g_strdup_printf("./GwMO/Config/Ext/k%u", idx);
		g_autofree gchar *want = g_strdup_printf("value-%u", idx);
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_autoptr(GVariant) value = NULL;
		reply = gw_test_call(d, "GetNode", g_variant_new("(s)", uri), "(ssv)", &error);
		g_assert_no_error(error);
		g_variant_get(reply, "(&s&sv)", NULL, NULL, &value);
		g_assert_cmpstr(g_variant_get_string(value, NULL), ==, want);
		checked++;
	}
	g_assert_cmpuint(checked, ==, kill_after);
	gw_test_daemon_stop(d);
	g_hash_table_unref(ctx.acked);
	g_main_loop_unref(ctx.loop);
}

static void
test_sigkill_during_burst(void)
{
	GwTestDaemon *d = gw_test_daemon_new();
	/* three kill points; every round writes new keys over the previous ones' */
	run_round(d, 150, 1);
	run_round(d, 700, 2);
	run_round(d, 1500, 3);
	gw_test_daemon_free(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dbus/persist/sigkill-during-burst", test_sigkill_during_burst);
	return g_test_run();
}
