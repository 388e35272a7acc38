/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SyncML DM XML codec throughput: parse + serialise of one message (default: the golden
 * Package #2) with gw_syncml_message_parse_xml()/gw_syncml_message_to_xml(), against raw
 * libxml2 xmlReadMemory() + xmlDocDumpMemory() + xmlFreeDoc() of the same bytes, in the same
 * process. Prints msgs/s for both and the ratio ours/raw (target >= 0.6).
 *
 * A second row does the same for the DM 2.0 JSON codec: gw_dm2_message_parse() +
 * gw_dm2_message_to_json() of a Package #2 (default: the golden one with all twelve commands)
 * against raw json-glib JsonParser + JsonGenerator of the same bytes (issue 15: >= 0.6).
 *
 * usage: bench-syncml [FILE [DM2-FILE]]   (GW_BENCH_SECONDS, default 2, sets the approximate
 *                                run time of each row; GW_BENCH_ENFORCE=1 makes a ratio below 0.6
 *                                fail)
 */

#define G_LOG_DOMAIN "GwSyncmlBench"

#include "config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>

#include "gw-dm2.h"
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

static gsize
run_dm2_ours(const guint8 *data, gsize len, guint n)
{
	gsize out_len = 0;

	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GwDm2Message) msg =
		    gw_dm2_message_parse(GW_DM2_PACKAGE_REQUEST, data, len, 0, &error);
		g_autoptr(GBytes) json = NULL;

		if (msg == NULL) {
			g_printerr("DM 2.0 parse failed: %s\n", error->message);
			exit(EXIT_FAILURE);
		}
		json = gw_dm2_message_to_json(msg, &error);
		if (json == NULL) {
			g_printerr("DM 2.0 generate failed: %s\n", error->message);
			exit(EXIT_FAILURE);
		}
		out_len = g_bytes_get_size(json);
	}
	return out_len;
}

static gsize
run_dm2_raw(const guint8 *data, gsize len, guint n)
{
	gsize out_len = 0;

	for (guint i = 0; i < n; i++) {
		g_autoptr(JsonParser) parser = json_parser_new_immutable();
		g_autoptr(JsonGenerator) generator = NULL;
		g_autofree gchar *out = NULL;

		if (!json_parser_load_from_data(parser, (const gchar *)data, (gssize)len, NULL)) {
			g_printerr("json_parser_load_from_data failed\n");
			exit(EXIT_FAILURE);
		}
		generator = json_generator_new();
		json_generator_set_root(generator, json_parser_get_root(parser));
		out = json_generator_to_data(generator, &out_len);
	}
	return out_len;
}

typedef gsize (*BenchFunc)(const guint8 *data, gsize len, guint n);

/* msgs/s of @n runs */
static gdouble
rate(gint64 start, gint64 end, guint n)
{
	gdouble secs = (gdouble)(end - start) / G_USEC_PER_SEC;
	return secs > 0 ? n / secs : 0;
}

/* alternates @ours and @raw, keeps each one's best round; prints both rows and the ratio */
static gdouble
bench_pair(const gchar *label_ours,
           const gchar *label_raw,
           const gchar *path,
           const guint8 *data,
           gsize len,
           gdouble seconds,
           BenchFunc ours,
           BenchFunc raw)
{
	gdouble best_ours = 0;
	gdouble best_raw = 0;
	gsize ours_out;
	gsize raw_out;
	gdouble per_msg;
	gdouble ratio;
	gint64 t0;
	guint n;

	/* warm up, then calibrate N so that all rounds of both loops take about @seconds */
	ours_out = ours(data, len, 200);
	raw_out = raw(data, len, 200);
	t0 = g_get_monotonic_time();
	ours(data, len, 500);
	raw(data, len, 500);
	per_msg = (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC / 1000;
	n = (guint)CLAMP(seconds / ROUNDS / 2 / MAX(per_msg, 1e-9), 100, 10000000);

	for (guint r = 0; r < ROUNDS; r++) {
		gint64 start = g_get_monotonic_time();
		gint64 mid;
		ours(data, len, n);
		mid = g_get_monotonic_time();
		raw(data, len, n);
		best_ours = MAX(best_ours, rate(start, mid, n));
		best_raw = MAX(best_raw, rate(mid, g_get_monotonic_time(), n));
	}
	ratio = best_raw > 0 ? best_ours / best_raw : 0;

	g_print("input:        %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
	g_print("iterations:   %u per round, %u rounds, best round counted\n", n, ROUNDS);
	g_print("%-13s %10.0f msgs/s  (%6.2f us/msg)  out %" G_GSIZE_FORMAT " bytes\n",
	        label_ours,
	        best_ours,
	        1e6 / best_ours,
	        ours_out);
	g_print("%-13s %10.0f msgs/s  (%6.2f us/msg)  out %" G_GSIZE_FORMAT " bytes\n",
	        label_raw,
	        best_raw,
	        1e6 / best_raw,
	        raw_out);
	g_print("ratio ours/raw: %.2f (target >= %.2f)\n", ratio, TARGET_RATIO);
	return ratio;
}

static gchar *
default_input(const gchar *dir, const gchar *name)
{
	const gchar *srcdir = g_getenv("G_TEST_SRCDIR");
	return g_build_filename(srcdir != NULL ? srcdir : "tests", "data", dir, name, NULL);
}

int
main(int argc, char **argv)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *dm2_path = NULL;
	g_autofree gchar *contents = NULL;
	g_autofree gchar *dm2_contents = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *env;
	gdouble seconds = 2.0;
	gsize len = 0;
	gsize dm2_len = 0;
	gdouble ratio;
	gdouble dm2_ratio;

	path = argc > 1 ? g_strdup(argv[1]) : default_input("syncml", "pkg2-server.xml");
	dm2_path = argc > 2 ? g_strdup(argv[2]) : default_input("dm2", "pkg2-all-commands.json");
	if (!g_file_get_contents(path, &contents, &len, &error) ||
	    !g_file_get_contents(dm2_path, &dm2_contents, &dm2_len, &error)) {
		g_printerr("%s\n", error->message);
		return EXIT_FAILURE;
	}
	env = g_getenv("GW_BENCH_SECONDS");
	if (env != NULL && g_ascii_strtod(env, NULL) > 0)
		seconds = g_ascii_strtod(env, NULL);
	xmlInitParser();

	g_print("== SyncML DM XML parse+generate\n");
	ratio = bench_pair("gw_syncml:",
	                   "raw libxml2:",
	                   path,
	                   (const guint8 *)contents,
	                   len,
	                   seconds,
	                   run_ours,
	                   run_raw);
	g_print("== DM 2.0 JSON parse+generate\n");
	dm2_ratio = bench_pair("gw_dm2:",
	                       "raw json-glib:",
	                       dm2_path,
	                       (const guint8 *)dm2_contents,
	                       dm2_len,
	                       seconds,
	                       run_dm2_ours,
	                       run_dm2_raw);

	if ((ratio < TARGET_RATIO || dm2_ratio < TARGET_RATIO) &&
	    g_strcmp0(g_getenv("GW_BENCH_ENFORCE"), "1") == 0)
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}
