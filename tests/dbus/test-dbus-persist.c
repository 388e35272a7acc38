/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kill -9 during a burst of SetNode calls: every change the daemon acknowledged is present
 * after a restart, and the state file is valid (header, length and sha256 checked here
 * independently of the daemon's own loader). Each acknowledged batch is one record appended
 * to tree.journal, so the kill lands while records are being appended; the journal is checked
 * here too (its header names the state body's sha256, every record's checksum holds, only
 * the last one may be cut short). A second daemon with a tiny journal-limit compacts many
 * times during the burst, so the kill also lands after (and between) compactions; a clean
 * stop folds the journal into the state.
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
	g_assert_cmpstr(fields[1], ==, "3");
	g_assert_true(g_str_has_prefix(fields[2], "length="));
	g_assert_true(g_str_has_prefix(fields[3], "sha256="));
	body_len = g_ascii_strtoull(fields[2] + 7, NULL, 10);
	g_assert_cmpuint(body_len, ==, len - (gsize)(nl + 1 - data));
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)nl + 1, body_len);
	g_assert_cmpstr(sum, ==, fields[3] + 7);
}

/* returns the sha256 of the state body (binary: the journal's encoding of the whole tree) */
static gchar *
state_body_sha256(const gchar *state_dir, GBytes **body_out)
{
	g_autofree gchar *path = g_build_filename(state_dir, "tree.state", NULL);
	g_autofree gchar *data = NULL;
	gsize len = 0;
	const gchar *nl;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	nl = memchr(data, '\n', len);
	g_assert_nonnull(nl);
	if (body_out != NULL)
		*body_out = g_bytes_new(nl + 1, len - (gsize)(nl + 1 - data));
	return g_compute_checksum_for_data(
	    G_CHECKSUM_SHA256, (const guchar *)nl + 1, len - (gsize)(nl + 1 - data));
}

static guint32
le32(const guchar *p)
{
	return (guint32)p[0] | ((guint32)p[1] << 8) | ((guint32)p[2] << 16) | ((guint32)p[3] << 24);
}

/* the journal's framing, checked independently: "GWMO-JOURNAL 1 state=<sha>\n", then
 * "GWJR" | u32le length | u64le sequence | payload | sha256 of all that; returns the number
 * of complete records; only the last record may be cut short */
static guint
assert_journal_valid(const gchar *state_dir, gboolean *torn)
{
	g_autofree gchar *path = g_build_filename(state_dir, "tree.journal", NULL);
	g_autofree gchar *data = NULL;
	g_autofree gchar *sha = state_body_sha256(state_dir, NULL);
	g_autofree gchar *header = g_strdup_printf("GWMO-JOURNAL 1 state=%s\n", sha);
	const guchar *p;
	gsize len = 0;
	gsize off;
	guint n = 0;

	*torn = FALSE;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	/* after a kill between a compaction's two renames the journal names the old state;
	 * the daemon skips it then, and it holds no record the new state lacks */
	if (len < strlen(header) || memcmp(data, header, strlen(header)) != 0) {
		g_test_message("journal names another state (killed inside a compaction)");
		g_assert_true(g_str_has_prefix(data, "GWMO-JOURNAL 1 state="));
		return 0;
	}
	p = (const guchar *)data;
	off = strlen(header);
	while (off < len) {
		guint32 plen;
		guint64 seq;
		g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
		guint8 digest[32];
		gsize dlen = sizeof(digest);

		if (len - off < 16 || len - off < 16 + (gsize)le32(p + off + 4) + 32) {
			*torn = TRUE;
			break;
		}
		g_assert_cmpmem(p + off, 4, "GWJR", 4);
		plen = le32(p + off + 4);
		seq = le32(p + off + 8) | ((guint64)le32(p + off + 12) << 32);
		g_assert_cmpuint(seq, ==, n + 1);
		g_checksum_update(sum, p + off, 16 + plen);
		g_checksum_get_digest(sum, digest, &dlen);
		if (off + 16 + plen + 32 == len && memcmp(digest, p + off + 16 + plen, 32) != 0) {
			*torn = TRUE;
			break;
		}
		g_assert_cmpmem(digest, 32, p + off + 16 + plen, 32);
		off += 16 + plen + 32;
		n++;
	}
	return n;
}

/* @compacting: the daemon compacts during the burst (small journal-limit) */
static void
run_round_full(GwTestDaemon *d, guint kill_after, guint round, gboolean compacting)
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
	{
		gboolean torn = FALSE;
		guint records = assert_journal_valid(d->state_dir, &torn);
		g_test_message("round %u: journal holds %u record(s)%s",
			       round,
			       records,
			       torn ? " and a torn one" : "");
	}
	if (compacting) {
		/* a value only this burst wrote (the first half of it, long before the kill) is
		 * in the state file itself: compactions ran during the burst */
		g_autoptr(GBytes) body = NULL;
		g_autofree gchar *sha = state_body_sha256(d->state_dir, &body);
		g_autofree gchar *value = g_strdup_printf("value-%u", kill_after / 2);
		gsize vlen = strlen(value);
		guint8 want[32] = {0, (guint8)vlen};
		gsize len = 0;
		const guint8 *p = g_bytes_get_data(body, &len);
		gboolean found = FALSE;
		/* the value as state format 3 encodes it the first time: string reference 0, a
		 * varint length (one byte here), then the bytes */
		memcpy(want + 2, value, vlen);
		for (gsize i = 0; !found && i + 2 + vlen <= len; i++)
			found = memcmp(p + i, want, 2 + vlen) == 0;
		g_assert_true(found);
	}

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
	/* a clean stop folds the journal into the state: no records left */
	{
		gboolean torn = TRUE;
		g_assert_cmpuint(assert_journal_valid(d->state_dir, &torn), ==, 0);
		g_assert_false(torn);
	}
	g_hash_table_unref(ctx.acked);
	g_main_loop_unref(ctx.loop);
}

static void
run_round(GwTestDaemon *d, guint kill_after, guint round)
{
	run_round_full(d, kill_after, round, FALSE);
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

/* the same with compactions all through the burst (a few dozen records each) */
static void
test_sigkill_with_compactions(void)
{
	GwTestDaemon *d = gw_test_daemon_new_with_config(
	    "[northbound]\nlisten=\n[southbound]\nlisten=\n[daemon]\njournal-limit=4096\n");

	/* the keys of round 2 beyond 447 were never written by round 1 */
	run_round_full(d, 400, 1, TRUE);
	run_round_full(d, 1800, 2, TRUE);
	gw_test_daemon_free(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dbus/persist/sigkill-during-burst", test_sigkill_during_burst);
	g_test_add_func("/gw/dbus/persist/sigkill-with-compactions", test_sigkill_with_compactions);
	return g_test_run();
}
