/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The stream GwHttpServer hands to libsoup for one accepted connection: a pass-through over the
 * TCP or TLS stream that keeps the connection's end from libsoup. libsoup 3.2 never closes an
 * idle kept-alive connection whose peer hung up (fixed in 3.3.0), so the end of the input (EOF
 * or a read error) is reported to @gone_func, once, and libsoup reads "would block" from then
 * on and waits on a source that never fires, until the server closes the connection itself.
 * Closing this stream (libsoup does it synchronously) calls @close_func, once, and never blocks:
 * it never writes a TLS close_notify, which could wait on a peer that does not read.
 */

#define GW_TYPE_HTTP_STREAM (gw_http_stream_get_type())
G_DECLARE_FINAL_TYPE(GwHttpStream, gw_http_stream, GW, HTTP_STREAM, GIOStream)

typedef void (*GwHttpStreamFunc)(gpointer user_data);

/* @base: a pollable GIOStream (GSocketConnection or GTlsConnection); both functions run on the
 * thread that reads the stream, from inside libsoup: they must not call back into libsoup */
GwHttpStream *
gw_http_stream_new(GIOStream *base,
                   GwHttpStreamFunc gone_func,
                   GwHttpStreamFunc close_func,
                   gpointer user_data);
/* the two functions are not called any more (the owner goes away first) */
void
gw_http_stream_detach(GwHttpStream *self);
/* @wrote_func (nullable) runs after every write that moved bytes (from inside libsoup) */
void
gw_http_stream_set_wrote_func(GwHttpStream *self, GwHttpStreamFunc wrote_func);
/*
 * The response body libsoup is about to write is @body, the bytes of the file @fd from
 * @offset (@body maps them; @fd stays open while @body lives, the stream holds a reference).
 * Over plain TCP libsoup's writes from @body then go with sendfile() from @fd (no copy through
 * the process), and what is written before them (the headers) with MSG_MORE, so that both
 * leave in one segment. FALSE (nothing set) over TLS: the bytes are written from @body as
 * any other. Set for one response; a new one or gw_http_stream_clear_file_body() replaces it.
 */
gboolean
gw_http_stream_set_file_body(GwHttpStream *self, GBytes *body, gint fd, goffset offset);
void
gw_http_stream_clear_file_body(GwHttpStream *self);
/* whether the input ended (EOF or error) */
gboolean
gw_http_stream_is_gone(GwHttpStream *self);

G_END_DECLS
