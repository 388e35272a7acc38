/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SyncML DM XML codec throughput: parse + serialise of one message (default: the golden
 * Package #2) with gw_syncml_message_parse_xml()/gw_syncml_message_to_xml(), against raw
 * libxml2 xmlReadMemory() + xmlDocDumpMemory() + xmlFreeDoc() of the same bytes, in the same
 * process. Prints msgs/s for both and the ratio ours/raw (target >= 0.6).
 *
 * usage: bench-syncml [FILE]   (GW_BENCH_SECONDS, default 2, sets the approximate run time;
 *                                GW_BENCH_ENFORCE=1 makes a ratio below 0.6 fail)
 */

#define G_LOG_DOMAIN "GwSyncmlBench"

#include "config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>

#include "gw-syncml.h"

#define ROUNDS 4
#define TARGET_RATIO 0.6

static gsize
run_ours(const guint8 *data, gsize len, guint n)
{
	gsize out_len = 0;

	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GwSyncmlMessage) msg = gw_syncml_message_parse_xml(data, len, &error);
		g_autoptr(GBytes) xml = NULL;

		if (msg == NULL) {
			g_printerr("parse failed: %s\n", error->message);
			exit(EXIT_FAILURE);
		}
		xml = gw_syncml_message_to_xml(msg);
		out_len = g_bytes_get_size(xml);
	}
	return out_len;
}

static gsize
run_raw(const guint8 *data, gsize len, guint n)
{
	int out_len = 0;

	for (guint i = 0; i < n; i++) {
		xmlDocPtr doc = xmlReadMemory(
		    (const char *)data, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
		xmlChar *out = NULL;

		if (doc == NULL) {
			g_printerr("xmlReadMemory failed\n");
			exit(EXIT_FAILURE);
		}
		xmlDocDumpMemory(doc, &out, &out_len);
		xmlFree(out);
		xmlFreeDoc(doc);
	}
	return (gsize)out_len;
}

/* msgs/s of @n runs */
static gdouble
rate(gint64 start, gint64 end, guint n)
{
	gdouble secs = (gdouble)(end - start) / G_USEC_PER_SEC;
	return secs > 0 ? n / secs : 0;
}

int
main(int argc, char **argv)
{
	g_autofree gchar *default_path = NULL;
	const gchar *path;
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *env;
	gdouble seconds = 2.0;
	gdouble best_ours = 0;
	gdouble best_raw = 0;
	gdouble per_msg;
	gsize len = 0;
	gsize ours_out;
	gsize raw_out;
	guint n;
	gint64 t0;
	gdouble ratio;

	if (argc > 1) {
		path = argv[1];
	} else {
		const gchar *srcdir = g_getenv("G_TEST_SRCDIR");
		default_path = g_build_filename(
		    srcdir != NULL ? srcdir : "tests", "data", "syncml", "pkg2-server.xml", NULL);
		path = default_path;
	}
	if (!g_file_get_contents(path, &contents, &len, &error)) {
		g_printerr("%s\n", error->message);
		return EXIT_FAILURE;
	}
	env = g_getenv("GW_BENCH_SECONDS");
	if (env != NULL && g_ascii_strtod(env, NULL) > 0)
		seconds = g_ascii_strtod(env, NULL);
	xmlInitParser();

	/* warm up, then calibrate N so that all rounds of both loops take about @seconds */
	ours_out = run_ours((const guint8 *)contents, len, 200);
	raw_out = run_raw((const guint8 *)contents, len, 200);
	t0 = g_get_monotonic_time();
	run_ours((const guint8 *)contents, len, 500);
	run_raw((const guint8 *)contents, len, 500);
	per_msg = (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC / 1000;
	n = (guint)CLAMP(seconds / ROUNDS / 2 / MAX(per_msg, 1e-9), 100, 10000000);

	/* alternate the two loops and keep each one's best round: less noise from the machine */
	for (guint r = 0; r < ROUNDS; r++) {
		gint64 start = g_get_monotonic_time();
		gint64 mid;
		run_ours((const guint8 *)contents, len, n);
		mid = g_get_monotonic_time();
		run_raw((const guint8 *)contents, len, n);
		best_ours = MAX(best_ours, rate(start, mid, n));
		best_raw = MAX(best_raw, rate(mid, g_get_monotonic_time(), n));
	}
	ratio = best_raw > 0 ? best_ours / best_raw : 0;

	g_print("input:        %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
	g_print("iterations:   %u per round, %u rounds, best round counted\n", n, ROUNDS);
	g_print("gw_syncml:    %10.0f msgs/s  (%6.2f us/msg)  out %" G_GSIZE_FORMAT " bytes\n",
	        best_ours,
	        1e6 / best_ours,
	        ours_out);
	g_print("raw libxml2:  %10.0f msgs/s  (%6.2f us/msg)  out %" G_GSIZE_FORMAT " bytes\n",
	        best_raw,
	        1e6 / best_raw,
	        raw_out);
	g_print("ratio ours/raw: %.2f (target >= %.2f)\n", ratio, TARGET_RATIO);

	if (ratio < TARGET_RATIO && g_strcmp0(g_getenv("GW_BENCH_ENFORCE"), "1") == 0)
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}
