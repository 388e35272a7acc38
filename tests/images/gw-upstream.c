/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "gw-upstream.h"

struct _GwUpstream {
	GSocketService *service;
	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	GCond cond;
	gboolean ready;
	GBytes *blob;
	gchar *url;
	gint drop_after; /* -1: none */
	gint throttle_ms;
	gint requests;
	gint range_requests;
	guint64 max_range_start;
	GMutex lock;
};

static gboolean
gw_upstream_write(GOutputStream *out, const void *data, gsize len)
{
	return g_output_stream_write_all(out, data, len, NULL, NULL, NULL);
}

static gboolean
gw_upstream_run_cb(GThreadedSocketService *service,
                   GSocketConnection *connection,
                   GObject *source,
                   gpointer user_data)
{
	GwUpstream *self = user_data;
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
	g_autoptr(GDataInputStream) data = g_data_input_stream_new(in);
	g_autofree gchar *request_line = NULL;
	gboolean head = FALSE;
	gboolean has_range = FALSE;
	guint64 start = 0;
	gsize size = 0;
	const guchar *blob = g_bytes_get_data(self->blob, &size);
	guint64 end = size > 0 ? size - 1 : 0;
	g_autoptr(GString) hdr = g_string_new(NULL);
	gint drop = -1;

	g_data_input_stream_set_newline_type(data, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
	request_line = g_data_input_stream_read_line(data, NULL, NULL, NULL);
	if (request_line == NULL)
		return TRUE;
	head = g_str_has_prefix(request_line, "HEAD ");
	for (;;) {
		g_autofree gchar *line = g_data_input_stream_read_line(data, NULL, NULL, NULL);
		if (line == NULL || line[0] == '\0')
			break;
		if (g_ascii_strncasecmp(line, "Range: bytes=", 13) == 0) {
			gchar *endp = NULL;
			start = g_ascii_strtoull(line + 13, &endp, 10);
			if (endp != NULL && *endp == '-' && endp[1] != '\0')
				end = MIN(g_ascii_strtoull(endp + 1, NULL, 10), end);
			has_range = TRUE;
		}
	}
	if (strstr(request_line, " /image ") == NULL) {
		const gchar *nf =
		    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		gw_upstream_write(out, nf, strlen(nf));
		return TRUE;
	}
	g_mutex_lock(&self->lock);
	self->requests++;
	if (has_range && start > 0) {
		self->range_requests++;
		self->max_range_start = MAX(self->max_range_start, start);
	}
	if ((!has_range || start == 0) && self->drop_after >= 0) {
		drop = self->drop_after;
		self->drop_after = -1;
	}
	g_mutex_unlock(&self->lock);

	if (has_range && start >= size) {
		g_string_printf(
		    hdr,
		    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%zu\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n",
		    size);
		gw_upstream_write(out, hdr->str, hdr->len);
		return TRUE;
	}
	if (has_range)
		g_string_printf(
		    hdr,
		    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %" G_GUINT64_FORMAT
		    "-%" G_GUINT64_FORMAT "/%zu\r\n"
		    "Content-Length: %" G_GUINT64_FORMAT "\r\n",
		    start,
		    end,
		    size,
		    end - start + 1);
	else
		g_string_printf(hdr, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n", size);
	g_string_append(hdr,
	                "Content-Type: application/octet-stream\r\nAccept-Ranges: "
	                "bytes\r\nConnection: close\r\n\r\n");
	if (!gw_upstream_write(out, hdr->str, hdr->len) || head)
		return TRUE;
	for (guint64 pos = start; pos <= end && size > 0;) {
		gsize piece = (gsize)MIN((guint64)65536, end + 1 - pos);
		if (drop >= 0 && pos + piece > (guint64)drop)
			piece = (gsize)((guint64)drop - pos);
		if (piece > 0 && !gw_upstream_write(out, blob + pos, piece))
			return TRUE;
		pos += piece;
		if (drop >= 0 && pos >= (guint64)drop) {
			/* cut mid-body: the client sees a short body */
			g_output_stream_flush(out, NULL, NULL);
			g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
			return TRUE;
		}
		if (g_atomic_int_get(&self->throttle_ms) > 0)
			g_usleep((gulong)g_atomic_int_get(&self->throttle_ms) * 1000);
	}
	return TRUE;
}

/* the accept loop runs in its own thread and context: the test's main thread may block */
static gpointer
gw_upstream_thread(gpointer data)
{
	GwUpstream *self = data;
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) effective = NULL;
	g_autoptr(GError) error = NULL;

	g_main_context_push_thread_default(self->context);
	self->service = g_threaded_socket_service_new(64);
	g_socket_listener_add_address(G_SOCKET_LISTENER(self->service),
	                              addr,
	                              G_SOCKET_TYPE_STREAM,
	                              G_SOCKET_PROTOCOL_TCP,
	                              NULL,
	                              &effective,
	                              &error);
	g_assert_no_error(error);
	g_signal_connect(self->service, "run", G_CALLBACK(gw_upstream_run_cb), self);
	g_socket_service_start(self->service);
	g_mutex_lock(&self->lock);
	self->url =
	    g_strdup_printf("http://127.0.0.1:%u/image",
	                    g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective)));
	self->ready = TRUE;
	g_cond_signal(&self->cond);
	g_mutex_unlock(&self->lock);
	g_main_loop_run(self->loop);
	g_socket_service_stop(self->service);
	g_socket_listener_close(G_SOCKET_LISTENER(self->service));
	g_clear_object(&self->service);
	g_main_context_pop_thread_default(self->context);
	return NULL;
}

GwUpstream *
gw_upstream_new(GBytes *blob)
{
	GwUpstream *self = g_new0(GwUpstream, 1);

	g_mutex_init(&self->lock);
	g_cond_init(&self->cond);
	self->blob = g_bytes_ref(blob);
	self->drop_after = -1;
	self->context = g_main_context_new();
	self->loop = g_main_loop_new(self->context, FALSE);
	self->thread = g_thread_new("upstream", gw_upstream_thread, self);
	g_mutex_lock(&self->lock);
	while (!self->ready)
		g_cond_wait(&self->cond, &self->lock);
	g_mutex_unlock(&self->lock);
	return self;
}

static gboolean
gw_upstream_quit_cb(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

void
gw_upstream_free(GwUpstream *self)
{
	g_main_context_invoke(self->context, gw_upstream_quit_cb, self->loop);
	g_thread_join(self->thread);
	g_main_loop_unref(self->loop);
	g_main_context_unref(self->context);
	g_bytes_unref(self->blob);
	g_free(self->url);
	g_mutex_clear(&self->lock);
	g_cond_clear(&self->cond);
	g_free(self);
}

const gchar *
gw_upstream_get_url(GwUpstream *self)
{
	return self->url;
}

void
gw_upstream_drop_once_after(GwUpstream *self, gsize bytes)
{
	g_mutex_lock(&self->lock);
	self->drop_after = (gint)bytes;
	g_mutex_unlock(&self->lock);
}

void
gw_upstream_set_throttle(GwUpstream *self, guint ms)
{
	g_atomic_int_set(&self->throttle_ms, (gint)ms);
}

guint
gw_upstream_get_requests(GwUpstream *self)
{
	guint n;
	g_mutex_lock(&self->lock);
	n = (guint)self->requests;
	g_mutex_unlock(&self->lock);
	return n;
}

guint
gw_upstream_get_range_requests(GwUpstream *self)
{
	guint n;
	g_mutex_lock(&self->lock);
	n = (guint)self->range_requests;
	g_mutex_unlock(&self->lock);
	return n;
}

guint64
gw_upstream_get_max_range_start(GwUpstream *self)
{
	guint64 n;
	g_mutex_lock(&self->lock);
	n = self->max_range_start;
	g_mutex_unlock(&self->lock);
	return n;
}
