/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwHttp"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "gw-error.h"
#include "gw-http-download.h"

#define GW_DOWNLOAD_PIECE (256u * 1024u)
#define GW_DOWNLOAD_PROGRESS_US (200 * G_TIME_SPAN_MILLISECOND)

/* shared by the worker and the main-context progress callbacks */
typedef struct {
	gint refcount;
	GwHttpDownloadProgressFunc func;
	gpointer data;
	GDestroyNotify destroy;
	gint done; /* atomic: the task returned, progress is dropped */
} GwDownloadProgress;

static GwDownloadProgress *
gw_download_progress_ref(GwDownloadProgress *p)
{
	g_atomic_int_inc(&p->refcount);
	return p;
}

static void
gw_download_progress_unref(gpointer data)
{
	GwDownloadProgress *p = data;
	if (!g_atomic_int_dec_and_test(&p->refcount))
		return;
	if (p->destroy != NULL)
		p->destroy(p->data);
	g_free(p);
}

typedef struct {
	gchar *uri;
	gchar *path;
	gchar *ca_file;
	guint retries;
	guint backoff_ms;
	guint timeout_s;
	GwDownloadProgress *progress; /* nullable */
	GMainContext *context;
	gint64 last_progress;
} GwDownload;

static void
gw_download_free(gpointer data)
{
	GwDownload *d = data;
	g_free(d->uri);
	g_free(d->path);
	g_free(d->ca_file);
	if (d->progress != NULL) {
		g_atomic_int_set(&d->progress->done, 1);
		gw_download_progress_unref(d->progress);
	}
	g_main_context_unref(d->context);
	g_free(d);
}

void
gw_http_download_result_clear(GwHttpDownloadResult *result)
{
	g_clear_pointer(&result->sha256, g_free);
}

typedef struct {
	GwDownloadProgress *progress;
	guint64 received;
	guint64 total;
} GwDownloadProgressCall;

static gboolean
gw_download_progress_cb(gpointer user_data)
{
	GwDownloadProgressCall *c = user_data;
	if (!g_atomic_int_get(&c->progress->done) && c->progress->func != NULL)
		c->progress->func(c->received, c->total, c->progress->data);
	return G_SOURCE_REMOVE;
}

static void
gw_download_progress_call_free(gpointer data)
{
	GwDownloadProgressCall *c = data;
	gw_download_progress_unref(c->progress);
	g_free(c);
}

static void
gw_download_report(GwDownload *d, guint64 received, guint64 total, gboolean force)
{
	gint64 now = g_get_monotonic_time();
	GwDownloadProgressCall *c;

	if (d->progress == NULL)
		return;
	if (!force && now - d->last_progress < GW_DOWNLOAD_PROGRESS_US)
		return;
	d->last_progress = now;
	c = g_new0(GwDownloadProgressCall, 1);
	c->progress = gw_download_progress_ref(d->progress);
	c->received = received;
	c->total = total;
	g_main_context_invoke_full(d->context,
	                           G_PRIORITY_DEFAULT,
	                           gw_download_progress_cb,
	                           c,
	                           gw_download_progress_call_free);
}

gchar *
gw_http_download_sha256_file(const gchar *path, GCancellable *cancellable, GError **error)
{
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_autoptr(GFileInputStream) in = g_file_read(file, cancellable, error);
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree guchar *buf = NULL;

	if (in == NULL)
		return NULL;
	buf = g_malloc(GW_DOWNLOAD_PIECE);
	for (;;) {
		gssize n = g_input_stream_read(
		    G_INPUT_STREAM(in), buf, GW_DOWNLOAD_PIECE, cancellable, error);
		if (n < 0)
			return NULL;
		if (n == 0)
			break;
		g_checksum_update(sum, buf, (gsize)n);
	}
	return g_strdup(g_checksum_get_string(sum));
}

static gboolean
gw_download_is_retryable(const GError *error)
{
	if (error->domain == G_TLS_ERROR)
		return FALSE;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return FALSE;
	return error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR ||
	       g_error_matches(error, GW_ERROR, GW_ERROR_NETWORK);
}

static guint64
gw_download_file_size(const gchar *path)
{
	GStatBuf st;
	if (g_stat(path, &st) != 0)
		return 0;
	return (guint64)st.st_size;
}

/* one request; FALSE with @error on failure (the partial file stays) */
static gboolean
gw_download_attempt(GwDownload *d,
                    SoupSession *session,
                    GCancellable *cancellable,
                    gboolean *resumed,
                    GError **error)
{
	guint64 have = gw_download_file_size(d->path);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", d->uri);
	g_autoptr(GInputStream) in = NULL;
	g_autoptr(GFile) file = NULL;
	g_autoptr(GFileOutputStream) out = NULL;
	g_autofree guchar *buf = NULL;
	SoupMessageHeaders *rh;
	guint status;
	guint64 total = 0;
	guint64 received;
	goffset start = 0, end = 0, length = 0;

	*resumed = FALSE;
	if (msg == NULL) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "'%s' is not an http(s) URI", d->uri);
		return FALSE;
	}
	if (have > 0)
		soup_message_headers_set_range(
		    soup_message_get_request_headers(msg), (goffset)have, -1);
	in = soup_session_send(session, msg, cancellable, error);
	if (in == NULL)
		return FALSE;
	status = soup_message_get_status(msg);
	rh = soup_message_get_response_headers(msg);
	file = g_file_new_for_path(d->path);
	if (status == SOUP_STATUS_PARTIAL_CONTENT && have > 0) {
		if (!soup_message_headers_get_content_range(rh, &start, &end, &length) ||
		    (guint64)start != have) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "GET %s: 206 with a Content-Range that does not continue at "
			            "%" G_GUINT64_FORMAT,
			            d->uri,
			            have);
			return FALSE;
		}
		total = length > 0 ? (guint64)length : 0;
		out = g_file_append_to(file, G_FILE_CREATE_NONE, cancellable, error);
		*resumed = TRUE;
		received = have;
		g_info("GET %s: resuming at %" G_GUINT64_FORMAT, d->uri, have);
	} else if (status == SOUP_STATUS_OK) {
		goffset cl = soup_message_headers_get_content_length(rh);
		total = cl > 0 ? (guint64)cl : 0;
		out = g_file_replace(file, NULL, FALSE, G_FILE_CREATE_NONE, cancellable, error);
		received = 0;
	} else if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && have > 0) {
		const gchar *cr = soup_message_headers_get_one(rh, "Content-Range");
		g_autofree gchar *want = g_strdup_printf("bytes */%" G_GUINT64_FORMAT, have);
		if (g_strcmp0(cr, want) == 0) {
			gw_download_report(d, have, have, TRUE);
			return TRUE; /* complete already */
		}
		/* the partial file does not fit the resource: start over */
		g_info("GET %s: 416 for a %" G_GUINT64_FORMAT " byte partial file, starting over",
		       d->uri,
		       have);
		if (g_unlink(d->path) != 0 && errno != ENOENT) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_FAILED,
			            "cannot remove %s: %s",
			            d->path,
			            g_strerror(errno));
			return FALSE;
		}
		g_set_error(
		    error, GW_ERROR, GW_ERROR_NETWORK, "GET %s: 416, retrying from zero", d->uri);
		return FALSE;
	} else {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "GET %s: HTTP %u %s",
		            d->uri,
		            status,
		            soup_message_get_reason_phrase(msg) != NULL
		                ? soup_message_get_reason_phrase(msg)
		                : "");
		return FALSE;
	}
	if (out == NULL) {
		g_prefix_error(error, "%s: ", d->path);
		return FALSE;
	}
	buf = g_malloc(GW_DOWNLOAD_PIECE);
	gw_download_report(d, received, total, TRUE);
	for (;;) {
		gsize got = 0;
		gssize n;
		if (!g_input_stream_read_all(
		        in, buf, GW_DOWNLOAD_PIECE, &got, cancellable, error)) {
			/* keep what arrived: the next attempt resumes after it */
			if (got > 0)
				g_output_stream_write_all(
				    G_OUTPUT_STREAM(out), buf, got, NULL, NULL, NULL);
			g_output_stream_close(G_OUTPUT_STREAM(out), NULL, NULL);
			return FALSE;
		}
		n = (gssize)got;
		if (n == 0)
			break;
		if (!g_output_stream_write_all(
		        G_OUTPUT_STREAM(out), buf, (gsize)n, NULL, cancellable, error)) {
			g_prefix_error(error, "%s: ", d->path);
			return FALSE;
		}
		received += (guint64)n;
		gw_download_report(d, received, total, FALSE);
		if ((gsize)n < GW_DOWNLOAD_PIECE)
			break;
	}
	if (!g_output_stream_close(G_OUTPUT_STREAM(out), cancellable, error))
		return FALSE;
	if (total > 0 && received != total) {
		/* the peer closed early without an error from the stream */
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NETWORK,
		            "GET %s: connection ended at %" G_GUINT64_FORMAT
		            " of %" G_GUINT64_FORMAT " bytes",
		            d->uri,
		            received,
		            total);
		return FALSE;
	}
	gw_download_report(d, received, total != 0 ? total : received, TRUE);
	return TRUE;
}

static void
gw_download_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	GwDownload *d = task_data;
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GTlsDatabase) db = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree GwHttpDownloadResult *result = g_new0(GwHttpDownloadResult, 1);

	if (d->ca_file != NULL && d->ca_file[0] != '\0') {
		db = g_tls_file_database_new(d->ca_file, &error);
		if (db == NULL) {
			g_task_return_new_error(task,
			                        GW_ERROR,
			                        GW_ERROR_FAILED,
			                        "CA file %s: %s",
			                        d->ca_file,
			                        error->message);
			return;
		}
	}
	/* as GwHttpClient: no proxy resolver, verification against the CA file or system trust */
	session = soup_session_new_with_options("proxy-resolver",
	                                        NULL,
	                                        "timeout",
	                                        d->timeout_s,
	                                        "user-agent",
	                                        "gwmo/" PACKAGE_VERSION,
	                                        NULL);
	if (db != NULL)
		soup_session_set_tls_database(session, db);

	for (guint attempt = 0;; attempt++) {
		gboolean resumed = FALSE;
		g_clear_error(&error);
		result->attempts++;
		if (gw_download_attempt(d, session, cancellable, &resumed, &error)) {
			if (resumed)
				result->resumed++;
			break;
		}
		if (resumed)
			result->resumed++;
		if (!gw_download_is_retryable(error) || attempt >= d->retries ||
		    g_cancellable_is_cancelled(cancellable)) {
			if (error->domain == G_TLS_ERROR)
				g_task_return_new_error(task,
				                        GW_ERROR,
				                        GW_ERROR_NETWORK,
				                        "TLS with %s failed: %s",
				                        d->uri,
				                        error->message);
			else if (error->domain == GW_ERROR)
				g_task_return_error(task, g_steal_pointer(&error));
			else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
				g_task_return_error(task, g_steal_pointer(&error));
			else
				g_task_return_new_error(task,
				                        GW_ERROR,
				                        GW_ERROR_NETWORK,
				                        "GET %s failed: %s",
				                        d->uri,
				                        error->message);
			return;
		}
		{
			guint delay = MIN(d->backoff_ms << MIN(attempt, 10u), 30000u);
			g_info("GET %s: %s; retry %u in %u ms",
			       d->uri,
			       error->message,
			       attempt + 1,
			       delay);
			/* sleep in slices so a cancellation is seen */
			for (guint slept = 0;
			     slept < delay && !g_cancellable_is_cancelled(cancellable);
			     slept += 20)
				g_usleep(20 * 1000);
		}
	}
	result->size = gw_download_file_size(d->path);
	result->sha256 = gw_http_download_sha256_file(d->path, cancellable, &error);
	if (result->sha256 == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&result), NULL);
}

void
gw_http_download_async(const GwHttpDownloadOptions *options,
                       GwHttpDownloadProgressFunc progress,
                       gpointer progress_data,
                       GDestroyNotify progress_destroy,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	GwDownload *d = g_new0(GwDownload, 1);

	d->uri = g_strdup(options->uri);
	d->path = g_strdup(options->path);
	d->ca_file = g_strdup(options->ca_file);
	d->retries = options->retries;
	d->backoff_ms = options->backoff_ms > 0 ? options->backoff_ms : 200;
	d->timeout_s = options->timeout_s > 0 ? options->timeout_s : 30;
	d->context = g_main_context_ref_thread_default();
	if (progress != NULL || progress_destroy != NULL) {
		d->progress = g_new0(GwDownloadProgress, 1);
		d->progress->refcount = 1;
		d->progress->func = progress;
		d->progress->data = progress_data;
		d->progress->destroy = progress_destroy;
	}
	g_task_set_source_tag(task, gw_http_download_async);
	g_task_set_task_data(task, d, gw_download_free);
	g_task_run_in_thread(task, gw_download_thread);
}

gboolean
gw_http_download_finish(GAsyncResult *res, GwHttpDownloadResult *result, GError **error)
{
	g_autofree GwHttpDownloadResult *r = g_task_propagate_pointer(G_TASK(res), error);
	if (r == NULL)
		return FALSE;
	if (result != NULL)
		*result = *r;
	else
		g_free(r->sha256);
	return TRUE;
}
