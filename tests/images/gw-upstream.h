/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small upstream image server for the image-store tests and benchmark: plain HTTP/1.1 on
 * 127.0.0.1 (free port), blocking I/O in its own threads, so the test's main thread may block.
 * Serves one blob at /image with Range support; can cut the first full-body response after
 * N bytes, throttle, and counts what it was asked.
 */

#pragma once

#include <gio/gio.h>

typedef struct _GwUpstream GwUpstream;

GwUpstream *
gw_upstream_new(GBytes *blob);
void
gw_upstream_free(GwUpstream *self);
/* "http://127.0.0.1:PORT/image" */
const gchar *
gw_upstream_get_url(GwUpstream *self);
/* the next response carrying body byte 0 is cut after @bytes (once) */
void
gw_upstream_drop_once_after(GwUpstream *self, gsize bytes);
/* sleep @ms after every 64 KiB written (0 = full speed) */
void
gw_upstream_set_throttle(GwUpstream *self, guint ms);
/* requests for /image (GET), and those of them that carried a Range starting above 0 */
guint
gw_upstream_get_requests(GwUpstream *self);
guint
gw_upstream_get_range_requests(GwUpstream *self);
/* the largest Range start seen */
guint64
gw_upstream_get_max_range_start(GwUpstream *self);
