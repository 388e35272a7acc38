/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: DM URI normalisation, splitting and pattern matching. The first line of the
 * input is a URI, an optional second line a pattern; limits come from the first bytes.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-dm-uri.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree gchar *copy = g_strndup((const gchar *)data, size);
	g_autofree gchar *normalized = NULL;
	g_autofree gchar *pattern_norm = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *query = NULL;
	g_autoptr(GError) error = NULL;
	GwDmUriLimits limits = {0, 0, 0};
	gchar *nl;
	const gchar *pattern = NULL;
	guint status = 0;

	if (size > 64 * 1024)
		return 0;
	if (size >= 3) {
		limits.max_depth = data[0] % 16;
		limits.max_seg_len = data[1] % 32;
		limits.max_tot_len = data[2];
	}
	nl = strchr(copy, '\n');
	if (nl != NULL) {
		*nl = '\0';
		pattern = nl + 1;
	}

	gw_dm_uri_split_query(copy, &path, &query);
	normalized = gw_dm_uri_normalize(path, NULL, &status, &error);
	g_assert((normalized != NULL) == (error == NULL));
	g_clear_error(&error);
	{
		g_autofree gchar *limited = gw_dm_uri_normalize(copy, &limits, &status, &error);
		g_assert(limited != NULL || status == 400 || status == 414);
		g_clear_error(&error);
	}
	if (normalized == NULL)
		return 0;
	{
		g_auto(GStrv) segs = gw_dm_uri_split(normalized);
		g_autofree gchar *parent = gw_dm_uri_parent(normalized);
		g_autofree gchar *joined = NULL;
		g_autofree gchar *again = gw_dm_uri_normalize(normalized, NULL, NULL, NULL);

		/* normalisation is idempotent */
		g_assert(g_strcmp0(again, normalized) == 0);
		g_assert(gw_dm_uri_match(normalized, normalized));
		g_assert(gw_dm_uri_is_below(normalized, "."));
		if (parent != NULL) {
			joined = gw_dm_uri_join(parent, gw_dm_uri_basename(normalized));
			g_assert(g_strcmp0(joined, normalized) == 0);
			g_assert(g_strv_length(segs) > 0);
		}
	}
	if (pattern != NULL) {
		pattern_norm = gw_dm_uri_normalize(pattern, NULL, NULL, NULL);
		if (pattern_norm != NULL) {
			gw_dm_uri_match(pattern_norm, normalized);
			gw_dm_uri_is_below(normalized, pattern_norm);
		}
	}
	return 0;
}
