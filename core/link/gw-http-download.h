/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * A resumable HTTP(S) GET into a file (libsoup 3), for large downloads such as images.
 * - runs in a worker thread with its own SoupSession (sync API), streaming the body into
 *   @path in 256 KiB pieces; nothing is held in memory;
 * - when @path exists with N bytes the request carries "Range: bytes=N-": a 206 whose
 *   Content-Range starts at N is appended, a 200 restarts the file from zero, a 416 with
 *   "bytes * /N" means the file is complete already;
 * - a network failure (refused, reset, cut mid-body, timeout) is retried up to @retries times
 *   with exponential backoff from @backoff_ms, each retry resuming with Range; HTTP error
 *   statuses are not retried (GW_ERROR_FAILED naming the status);
 * - TLS peers are verified against @ca_file, or the system trust store when NULL/"" — the
 *   same policy as GwHttpClient; a certificate that does not verify fails (GW_ERROR_NETWORK,
 *   not retried). Verification is never skipped.
 * - at the end the file's SHA-256 is computed (hex, lower case).
 * @progress runs in the caller's main context, at most every 200 ms.
 */

typedef struct {
	const gchar *uri;
	const gchar *path;
	const gchar *ca_file; /* nullable */
	guint retries;        /* network failures retried; default when 0: none */
	guint backoff_ms;     /* first retry delay (doubles); 0 = 200 */
	guint timeout_s;      /* socket timeout; 0 = 30 */
} GwHttpDownloadOptions;

typedef struct {
	guint64 size;   /* bytes in the file */
	gchar *sha256;  /* hex */
	guint attempts; /* requests sent */
	guint resumed;  /* requests that continued a partial file with Range */
} GwHttpDownloadResult;

void
gw_http_download_result_clear(GwHttpDownloadResult *result);

typedef void (*GwHttpDownloadProgressFunc)(guint64 received, guint64 total, gpointer user_data);

void
gw_http_download_async(const GwHttpDownloadOptions *options,
                       GwHttpDownloadProgressFunc progress,
                       gpointer progress_data,
                       GDestroyNotify progress_destroy,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data);
gboolean
gw_http_download_finish(GAsyncResult *res, GwHttpDownloadResult *result, GError **error);

/* SHA-256 (hex) of a file, streamed; NULL with @error when unreadable */
gchar *
gw_http_download_sha256_file(const gchar *path, GCancellable *cancellable, GError **error);

G_END_DECLS
