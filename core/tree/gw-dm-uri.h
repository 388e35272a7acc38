/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* limits from ./DevDetail/URI/{MaxDepth,MaxTotLen,MaxSegLen}; 0 = unlimited */
typedef struct {
	guint max_depth;
	guint max_tot_len;
	guint max_seg_len;
} GwDmUriLimits;

/*
 * Validates and normalises a DM tree URI (without query):
 *   "." is the root; "./A/B" and "A/B" name the same node, normalised to "./A/B";
 *   no empty segments ("A//B", trailing "/"), no "." or ".." segments after the root,
 *   valid UTF-8 without control characters, limits honoured.
 * On failure returns NULL, sets @error (GW_ERROR_INVALID_URI) and, when @status is given,
 * the SyncML status: 414 for over-long (depth, total length, segment length), 400 otherwise.
 */
gchar *
gw_dm_uri_normalize(const gchar *uri, const GwDmUriLimits *limits, guint *status, GError **error);

/* splits a *normalised* URI into its segments after "." (root → empty vector) */
gchar **
gw_dm_uri_split(const gchar *normalized);

/* "./A/B?list=Struct" → path "./A/B" (not yet normalised), query "list=Struct" (NULL if none) */
void
gw_dm_uri_split_query(const gchar *uri, gchar **path, gchar **query);

/* parent of a normalised URI ("./A/B" → "./A", "./A" → "."); NULL for "." */
gchar *
gw_dm_uri_parent(const gchar *normalized);
/* one segment of a normalised URI (UTF-8, not empty, not "." or "..", no "/", "?" or
 * control characters) */
gboolean
gw_dm_uri_name_is_valid(const gchar *name);
/* last segment of a normalised URI ("./A/B" → "B"; "." → ".") */
const gchar *
gw_dm_uri_basename(const gchar *normalized);
/* joins a normalised parent and a child name */
gchar *
gw_dm_uri_join(const gchar *parent, const gchar *child);

/* pattern match of normalised URIs: a "*" segment matches exactly one segment,
 * a trailing "**" any number (≥ 0) of segments; "./GwMO/Fanout/STAR/Operations/Start" */
gboolean
gw_dm_uri_match(const gchar *pattern, const gchar *normalized);

/* TRUE when @uri equals @ancestor or lies below it (both normalised) */
gboolean
gw_dm_uri_is_below(const gchar *uri, const gchar *ancestor);

G_END_DECLS
