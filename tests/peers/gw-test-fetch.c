/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwTestDevice"

#include "config.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#include "gw-test-fetch.h"

#define FETCH_URI "./Ext/Fetch"
#define FETCHED_URI "./Ext/Fetched"

typedef struct {
	gchar *user;
	gchar *secret;
	gchar *ca_file;
} GwTestFetch;

static void
gw_test_fetch_free(gpointer data)
{
	GwTestFetch *f = data;
	g_free(f->user);
	g_free(f->secret);
	g_free(f->ca_file);
	g_free(f);
}

static void
gw_test_fetch_record(GwDmTree *tree, const gchar *leaf, GwDmFormat format, const gchar *value)
{
	g_autofree gchar *uri = g_strdup_printf(FETCHED_URI "/%s", leaf);
	g_autoptr(GError) error = NULL;
	if (!gw_dm_tree_set_leaf_string(tree, uri, format, value, &error) ||
	    !gw_dm_tree_set_properties(tree, uri, GW_DM_ACCESS_GET, NULL, NULL, &error))
		g_warning("%s: %s", uri, error->message);
}

/* the URL carries the gateway's signature (…?dev=…&exp=…&sig=…) */
static gboolean
gw_test_fetch_is_signed(SoupMessage *msg)
{
	const gchar *query = g_uri_get_query(soup_message_get_uri(msg));
	g_autoptr(GHashTable) params = NULL;

	if (query == NULL)
		return FALSE;
	params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL);
	return params != NULL && g_hash_table_contains(params, "sig");
}

/* GET @url as @f's device; the body is hashed as it streams, never kept */
static guint
gw_test_fetch_get(GwTestFetch *f, const gchar *url, guint64 *size, gchar **sha256, GError **error)
{
	g_autoptr(SoupSession) session =
	    soup_session_new_with_options("proxy-resolver", NULL, "timeout", 60, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GInputStream) in = NULL;
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree guchar *buf = g_malloc(65536);
	g_autofree gchar *pair = NULL;
	g_autofree gchar *b64 = NULL;
	g_autofree gchar *auth = NULL;

	*size = 0;
	if (msg == NULL) {
		g_set_error(error,
		            G_IO_ERROR,
		            G_IO_ERROR_INVALID_ARGUMENT,
		            "'%s' is not an http(s) URL",
		            url);
		return 0;
	}
	if (f->ca_file != NULL) {
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(f->ca_file, error);
		if (db == NULL)
			return 0;
		soup_session_set_tls_database(session, db);
	}
	/* a signed URL is the device's credential; else HTTP Basic, and only over TLS: the
	 * device's secret never crosses in clear (DM-SECONF-001) */
	if (!gw_test_fetch_is_signed(msg) &&
	    g_strcmp0(g_uri_get_scheme(soup_message_get_uri(msg)), "https") == 0) {
		pair = g_strdup_printf(
		    "%s:%s", f->user != NULL ? f->user : "", f->secret != NULL ? f->secret : "");
		b64 = g_base64_encode((const guchar *)pair, strlen(pair));
		auth = g_strconcat("Basic ", b64, NULL);
		soup_message_headers_replace(
		    soup_message_get_request_headers(msg), "Authorization", auth);
	}
	in = soup_session_send(session, msg, NULL, error);
	if (in == NULL)
		return 0;
	for (;;) {
		gssize n = g_input_stream_read(in, buf, 65536, NULL, error);
		if (n < 0)
			return 0;
		if (n == 0)
			break;
		g_checksum_update(sum, buf, (gsize)n);
		*size += (guint64)n;
	}
	*sha256 = g_strdup(g_checksum_get_string(sum));
	return soup_message_get_status(msg);
}

static guint
gw_test_fetch_exec_cb(GwDmTree *tree,
                      const gchar *server_id,
                      const gchar *uri,
                      GBytes *data,
                      const gchar *correlator,
                      gpointer user_data)
{
	GwTestFetch *f = user_data;
	g_autofree gchar *url = NULL;
	g_autofree gchar *sha = NULL;
	g_autofree gchar *status_text = NULL;
	g_autofree gchar *size_text = NULL;
	g_autoptr(GError) error = NULL;
	guint64 size = 0;
	guint status;

	if (data == NULL || g_bytes_get_size(data) == 0)
		return 400; /* no URL */
	url = g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
	g_strstrip(url);
	status = gw_test_fetch_get(f, url, &size, &sha, &error);
	if (error != NULL)
		g_warning("Fetch %s: %s", url, error->message);
	status_text = g_strdup_printf("%u", status);
	size_text = g_strdup_printf("%" G_GUINT64_FORMAT, size);
	gw_test_fetch_record(tree, "URL", GW_DM_FORMAT_CHR, url);
	gw_test_fetch_record(tree, "Status", GW_DM_FORMAT_INT, status_text);
	gw_test_fetch_record(tree, "Size", GW_DM_FORMAT_INT, size_text);
	gw_test_fetch_record(
	    tree, "SHA256", GW_DM_FORMAT_CHR, status == 200 && sha != NULL ? sha : "");
	g_print(
	    "FETCH %u %" G_GUINT64_FORMAT " %s %s\n", status, size, sha != NULL ? sha : "-", url);
	fflush(stdout);
	return status == 200 ? 200 : 500;
}

gboolean
gw_test_fetch_install(GwDmTree *tree,
                      const gchar *user,
                      const gchar *secret,
                      const gchar *ca_file,
                      GError **error)
{
	GwTestFetch *f;

	if (!gw_dm_tree_set_leaf(tree, FETCH_URI, GW_DM_FORMAT_NULL, NULL, NULL, error) ||
	    !gw_dm_tree_set_properties(
	        tree, FETCH_URI, GW_DM_ACCESS_GET | GW_DM_ACCESS_EXEC, NULL, NULL, error) ||
	    !gw_dm_tree_ensure_interior(tree, FETCHED_URI, error) ||
	    !gw_dm_tree_set_properties(tree, FETCHED_URI, GW_DM_ACCESS_GET, NULL, NULL, error))
		return FALSE;
	f = g_new0(GwTestFetch, 1);
	f->user = g_strdup(user);
	f->secret = g_strdup(secret);
	f->ca_file = g_strdup(ca_file);
	gw_dm_tree_add_exec_handler(tree, FETCH_URI, gw_test_fetch_exec_cb, f, gw_test_fetch_free);
	return TRUE;
}
