/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwTree"

#include "config.h"

#include <string.h>

#include "gw-dm-types.h"
#include "gw-dm-uri.h"

static gboolean
gw_dm_uri_fail(guint *status, GError **error, guint code, const gchar *uri, const gchar *why)
{
	if (status != NULL)
		*status = code;
	g_set_error(error, GW_ERROR, GW_ERROR_INVALID_URI, "invalid DM URI: %s", why);
	(void)uri; /* never echo untrusted bytes into messages */
	return FALSE;
}

/* a node name: non-empty, not "." or "..", no "/" or "?", UTF-8 without control characters */
static gboolean
gw_dm_uri_segment_is_valid(const gchar *seg, gsize len)
{
	if (len == 0)
		return FALSE;
	if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
		return FALSE;
	for (const gchar *p = seg; p < seg + len; p = g_utf8_next_char(p)) {
		gunichar c;
		/* ASCII, the usual case: printable is valid ("/" cannot occur, "?" can) */
		if ((guchar)*p >= 0x20 && (guchar)*p < 0x7f) {
			if (*p == '?')
				return FALSE;
			continue;
		}
		c = g_utf8_get_char(p);
		if (c == '/' || c == '?' || g_unichar_iscntrl(c) || c == 0xfffe || c == 0xffff)
			return FALSE;
	}
	return TRUE;
}

gboolean
gw_dm_uri_name_is_valid(const gchar *name)
{
	return name != NULL && g_utf8_validate(name, -1, NULL) &&
	       gw_dm_uri_segment_is_valid(name, strlen(name));
}

gchar *
gw_dm_uri_normalize(const gchar *uri, const GwDmUriLimits *limits, guint *status, GError **error)
{
	const gchar *path;
	const gchar *end = NULL;
	gsize total;
	gsize max_seg = 0;
	guint depth = 0;

	if (uri == NULL || uri[0] == '\0') {
		gw_dm_uri_fail(status, error, GW_DM_STATUS_BAD_REQUEST, uri, "empty URI");
		return NULL;
	}
	if (!g_utf8_validate(uri, -1, &end)) {
		gw_dm_uri_fail(status, error, GW_DM_STATUS_BAD_REQUEST, uri, "not UTF-8");
		return NULL;
	}
	if (g_strcmp0(uri, ".") == 0) {
		if (status != NULL)
			*status = GW_DM_STATUS_OK;
		return g_strdup(".");
	}
	path = g_str_has_prefix(uri, "./") ? uri + 2 : uri;
	if (path[0] == '\0') {
		/* "./" */
		gw_dm_uri_fail(status, error, GW_DM_STATUS_BAD_REQUEST, uri, "trailing separator");
		return NULL;
	}

	/* syntax first: a malformed URI is 400 even when it is also too long */
	for (const gchar *seg = path;;) {
		const gchar *slash = strchr(seg, '/');
		gsize len = slash != NULL ? (gsize)(slash - seg) : strlen(seg);
		if (!gw_dm_uri_segment_is_valid(seg, len)) {
			gw_dm_uri_fail(status,
			               error,
			               GW_DM_STATUS_BAD_REQUEST,
			               uri,
			               len == 0 ? "empty segment" : "invalid segment");
			return NULL;
		}
		depth++;
		max_seg = MAX(max_seg, len);
		if (slash == NULL)
			break;
		seg = slash + 1;
	}

	/* MaxTotLen counts the normalised form including the leading "./" */
	total = strlen(path) + 2;
	if (limits != NULL && limits->max_seg_len > 0 && max_seg > limits->max_seg_len) {
		gw_dm_uri_fail(status, error, GW_DM_STATUS_URI_TOO_LONG, uri, "segment too long");
		return NULL;
	}
	if (limits != NULL && limits->max_depth > 0 && depth > limits->max_depth) {
		gw_dm_uri_fail(status, error, GW_DM_STATUS_URI_TOO_LONG, uri, "URI too deep");
		return NULL;
	}
	if (limits != NULL && limits->max_tot_len > 0 && total > limits->max_tot_len) {
		gw_dm_uri_fail(status, error, GW_DM_STATUS_URI_TOO_LONG, uri, "URI too long");
		return NULL;
	}
	if (status != NULL)
		*status = GW_DM_STATUS_OK;
	return g_strconcat("./", path, NULL);
}

gchar **
gw_dm_uri_split(const gchar *normalized)
{
	const gchar *path;

	g_return_val_if_fail(normalized != NULL, NULL);

	if (g_strcmp0(normalized, ".") == 0 || normalized[0] == '\0')
		return g_new0(gchar *, 1);
	path = g_str_has_prefix(normalized, "./") ? normalized + 2 : normalized;
	if (path[0] == '\0')
		return g_new0(gchar *, 1);
	return g_strsplit(path, "/", -1);
}

void
gw_dm_uri_split_query(const gchar *uri, gchar **path, gchar **query)
{
	const gchar *q;

	g_return_if_fail(uri != NULL);

	q = strchr(uri, '?');
	if (q == NULL) {
		if (path != NULL)
			*path = g_strdup(uri);
		if (query != NULL)
			*query = NULL;
		return;
	}
	if (path != NULL)
		*path = g_strndup(uri, q - uri);
	if (query != NULL)
		*query = g_strdup(q + 1);
}

gchar *
gw_dm_uri_parent(const gchar *normalized)
{
	const gchar *slash;

	g_return_val_if_fail(normalized != NULL, NULL);

	if (g_strcmp0(normalized, ".") == 0)
		return NULL;
	slash = strrchr(normalized, '/');
	if (slash == NULL)
		return g_strdup(".");
	if (slash == normalized)
		return g_strdup(".");
	return g_strndup(normalized, slash - normalized);
}

const gchar *
gw_dm_uri_basename(const gchar *normalized)
{
	const gchar *slash;

	g_return_val_if_fail(normalized != NULL, NULL);

	slash = strrchr(normalized, '/');
	if (slash == NULL)
		return normalized;
	return slash + 1;
}

gchar *
gw_dm_uri_join(const gchar *parent, const gchar *child)
{
	g_return_val_if_fail(parent != NULL, NULL);
	g_return_val_if_fail(child != NULL, NULL);

	if (g_strcmp0(parent, ".") == 0)
		return g_strconcat("./", child, NULL);
	return g_strconcat(parent, "/", child, NULL);
}

gboolean
gw_dm_uri_match(const gchar *pattern, const gchar *normalized)
{
	g_auto(GStrv) pat = NULL;
	g_auto(GStrv) segs = NULL;
	guint npat;
	guint nsegs;

	g_return_val_if_fail(pattern != NULL, FALSE);
	g_return_val_if_fail(normalized != NULL, FALSE);

	pat = gw_dm_uri_split(pattern);
	segs = gw_dm_uri_split(normalized);
	npat = g_strv_length(pat);
	nsegs = g_strv_length(segs);
	for (guint i = 0; i < npat; i++) {
		if (i == npat - 1 && g_strcmp0(pat[i], "**") == 0)
			return TRUE;
		if (i >= nsegs)
			return FALSE;
		if (g_strcmp0(pat[i], "*") == 0)
			continue;
		if (g_strcmp0(pat[i], segs[i]) != 0)
			return FALSE;
	}
	return npat == nsegs;
}

gboolean
gw_dm_uri_is_below(const gchar *uri, const gchar *ancestor)
{
	gsize len;

	g_return_val_if_fail(uri != NULL, FALSE);
	g_return_val_if_fail(ancestor != NULL, FALSE);

	if (g_strcmp0(ancestor, ".") == 0)
		return TRUE;
	len = strlen(ancestor);
	return strncmp(uri, ancestor, len) == 0 && (uri[len] == '\0' || uri[len] == '/');
}
