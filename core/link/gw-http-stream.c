/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GwHttpStream and its input stream (a private type of this file: it only exists inside a
 * GwHttpStream).
 */

#define G_LOG_DOMAIN "GwHttp"

#include "config.h"

#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include "gw-http-stream.h"

/* ---- the input: a pollable pass-through that hides the end of the input ---- */

#define GW_TYPE_HTTP_INPUT (gw_http_input_get_type())
G_DECLARE_FINAL_TYPE(GwHttpInput, gw_http_input, GW, HTTP_INPUT, GInputStream)

struct _GwHttpInput {
	GInputStream parent_instance;
	GInputStream *base;   /* ref; pollable */
	GwHttpStream *stream; /* owner, not a ref */
	gboolean gone;
};

static void
gw_http_input_pollable_iface_init(GPollableInputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE(GwHttpInput,
                        gw_http_input,
                        G_TYPE_INPUT_STREAM,
                        G_IMPLEMENT_INTERFACE(G_TYPE_POLLABLE_INPUT_STREAM,
                                              gw_http_input_pollable_iface_init))

/* ---- the output: a pollable pass-through that sends file bodies from the file ---- */

#define GW_TYPE_HTTP_OUTPUT (gw_http_output_get_type())
G_DECLARE_FINAL_TYPE(GwHttpOutput, gw_http_output, GW, HTTP_OUTPUT, GOutputStream)

struct _GwHttpOutput {
	GOutputStream parent_instance;
	GOutputStream *base;  /* ref; pollable */
	GwHttpStream *stream; /* owner, not a ref */
	gint fd;              /* the TCP socket when nothing is between it and us, else -1 */
	/* a body that is the bytes of a file (gw_http_stream_set_file_body()) */
	GBytes *file_body; /* ref, nullable */
	const guint8 *file_data;
	gsize file_len;
	gint file_fd;
	goffset file_offset;
	gboolean more; /* what is written before the file body is sent with MSG_MORE */
};

static void
gw_http_output_pollable_iface_init(GPollableOutputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE(GwHttpOutput,
                        gw_http_output,
                        G_TYPE_OUTPUT_STREAM,
                        G_IMPLEMENT_INTERFACE(G_TYPE_POLLABLE_OUTPUT_STREAM,
                                              gw_http_output_pollable_iface_init))

struct _GwHttpStream {
	GIOStream parent_instance;
	GIOStream *base; /* ref */
	GwHttpInput *input;
	GwHttpOutput *output;
	GwHttpStreamFunc gone_func;
	GwHttpStreamFunc close_func;
	GwHttpStreamFunc wrote_func;
	gpointer user_data;
	gboolean closed;
};

G_DEFINE_TYPE(GwHttpStream, gw_http_stream, G_TYPE_IO_STREAM)

static void
gw_http_input_set_gone(GwHttpInput *self)
{
	GwHttpStream *stream = self->stream;

	if (self->gone)
		return;
	self->gone = TRUE;
	if (stream != NULL && stream->gone_func != NULL)
		stream->gone_func(stream->user_data);
}

/* a read that ended the input: tell the owner, and let the reader wait (see the header) */
static gssize
gw_http_input_hide_end(GwHttpInput *self, GError *error_local, GError **error)
{
	if (error_local != NULL)
		g_debug("connection input ended: %s", error_local->message);
	gw_http_input_set_gone(self);
	g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "the connection is closing");
	return -1;
}

static gssize
gw_http_input_read_nonblocking(GPollableInputStream *pollable,
                               void *buffer,
                               gsize count,
                               GError **error)
{
	GwHttpInput *self = GW_HTTP_INPUT(pollable);
	g_autoptr(GError) error_local = NULL;
	gssize n;

	if (self->gone) {
		g_set_error_literal(
		    error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "the connection is closing");
		return -1;
	}
	n = g_pollable_input_stream_read_nonblocking(
	    G_POLLABLE_INPUT_STREAM(self->base), buffer, count, NULL, &error_local);
	if (n > 0 || (n == 0 && count == 0))
		return n;
	if (n < 0 && g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return -1;
	}
	return gw_http_input_hide_end(self, error_local, error);
}

/* blocking reads (libsoup's server never makes them) report the end as it is */
static gssize
gw_http_input_read(GInputStream *stream,
                   void *buffer,
                   gsize count,
                   GCancellable *cancellable,
                   GError **error)
{
	GwHttpInput *self = GW_HTTP_INPUT(stream);
	gssize n;

	if (self->gone)
		return 0;
	n = g_input_stream_read(self->base, buffer, count, cancellable, error);
	if (n <= 0 && count > 0)
		gw_http_input_set_gone(self);
	return n;
}

static gboolean
gw_http_input_can_poll(GPollableInputStream *pollable)
{
	GwHttpInput *self = GW_HTTP_INPUT(pollable);
	return g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(self->base));
}

static gboolean
gw_http_input_is_readable(GPollableInputStream *pollable)
{
	GwHttpInput *self = GW_HTTP_INPUT(pollable);
	if (self->gone)
		return FALSE;
	return g_pollable_input_stream_is_readable(G_POLLABLE_INPUT_STREAM(self->base));
}

static GSource *
gw_http_input_create_source(GPollableInputStream *pollable, GCancellable *cancellable)
{
	GwHttpInput *self = GW_HTTP_INPUT(pollable);

	/* once the input ended: a source with nothing to wait on, which never fires (the base's
	 * would fire at once and for ever: an ended socket stays readable) */
	if (self->gone)
		return g_pollable_source_new_full(self, NULL, cancellable);
	/* the base's own source, not one more layer around it: every source of every waiting
	 * connection is visited on each main-loop iteration (libsoup's readers only use it as a
	 * child; its callback would be given the base stream) */
	return g_pollable_input_stream_create_source(G_POLLABLE_INPUT_STREAM(self->base),
	                                             cancellable);
}

static gboolean
gw_http_input_close(GInputStream *stream, GCancellable *cancellable, GError **error)
{
	/* the connection is closed as a whole, by GwHttpStream */
	return TRUE;
}

static void
gw_http_input_finalize(GObject *object)
{
	GwHttpInput *self = GW_HTTP_INPUT(object);
	g_clear_object(&self->base);
	G_OBJECT_CLASS(gw_http_input_parent_class)->finalize(object);
}

static void
gw_http_input_pollable_iface_init(GPollableInputStreamInterface *iface)
{
	iface->can_poll = gw_http_input_can_poll;
	iface->is_readable = gw_http_input_is_readable;
	iface->create_source = gw_http_input_create_source;
	iface->read_nonblocking = gw_http_input_read_nonblocking;
}

static void
gw_http_input_class_init(GwHttpInputClass *klass)
{
	GInputStreamClass *input_class = G_INPUT_STREAM_CLASS(klass);
	G_OBJECT_CLASS(klass)->finalize = gw_http_input_finalize;
	input_class->read_fn = gw_http_input_read;
	input_class->close_fn = gw_http_input_close;
}

static void
gw_http_input_init(GwHttpInput *self)
{
}

static void
gw_http_output_clear_file_body(GwHttpOutput *self)
{
	g_clear_pointer(&self->file_body, g_bytes_unref);
	self->file_data = NULL;
	self->file_len = 0;
	self->file_fd = -1;
	self->file_offset = 0;
	self->more = FALSE;
}

static gssize
gw_http_output_errno(gint errsv, GError **error)
{
	g_set_error_literal(error, G_IO_ERROR, g_io_error_from_errno(errsv), g_strerror(errsv));
	return -1;
}

static gssize
gw_http_output_write_nonblocking(GPollableOutputStream *pollable,
                                 const void *buffer,
                                 gsize count,
                                 GError **error)
{
	GwHttpOutput *self = GW_HTTP_OUTPUT(pollable);
	const guint8 *p = buffer;
	gssize n;

	if (self->fd >= 0 && self->file_data != NULL && p >= self->file_data &&
	    p < self->file_data + self->file_len) {
		/* libsoup writes from the file body: the kernel sends it from the file */
		off_t offset = (off_t)(self->file_offset + (p - self->file_data));
		gsize len = MIN(count, (gsize)(self->file_data + self->file_len - p));
		do
			n = sendfile(self->fd, self->file_fd, &offset, len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return gw_http_output_errno(errno, error);
		if (n == 0) {
			/* the file is shorter than it was when it was mapped: never sent short */
			g_set_error_literal(
			    error, G_IO_ERROR, G_IO_ERROR_FAILED, "the file shrank");
			return -1;
		}
		self->more = FALSE;
	} else if (self->fd >= 0 && self->more) {
		/* the headers of a file body: in the same segment as its first bytes */
		do
			n = send(self->fd, buffer, count, MSG_MORE | MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return gw_http_output_errno(errno, error);
	} else {
		n = g_pollable_output_stream_write_nonblocking(
		    G_POLLABLE_OUTPUT_STREAM(self->base), buffer, count, NULL, error);
	}
	if (n > 0 && self->stream != NULL && self->stream->wrote_func != NULL)
		self->stream->wrote_func(self->stream->user_data);
	return n;
}

/* blocking writes (libsoup's server never makes them) go to the base as they are */
static gssize
gw_http_output_write(GOutputStream *stream,
                     const void *buffer,
                     gsize count,
                     GCancellable *cancellable,
                     GError **error)
{
	GwHttpOutput *self = GW_HTTP_OUTPUT(stream);
	gssize n = g_output_stream_write(self->base, buffer, count, cancellable, error);
	if (n > 0 && self->stream != NULL && self->stream->wrote_func != NULL)
		self->stream->wrote_func(self->stream->user_data);
	return n;
}

static gboolean
gw_http_output_flush(GOutputStream *stream, GCancellable *cancellable, GError **error)
{
	return g_output_stream_flush(GW_HTTP_OUTPUT(stream)->base, cancellable, error);
}

static gboolean
gw_http_output_can_poll(GPollableOutputStream *pollable)
{
	return g_pollable_output_stream_can_poll(
	    G_POLLABLE_OUTPUT_STREAM(GW_HTTP_OUTPUT(pollable)->base));
}

static gboolean
gw_http_output_is_writable(GPollableOutputStream *pollable)
{
	return g_pollable_output_stream_is_writable(
	    G_POLLABLE_OUTPUT_STREAM(GW_HTTP_OUTPUT(pollable)->base));
}

static GSource *
gw_http_output_create_source(GPollableOutputStream *pollable, GCancellable *cancellable)
{
	/* the base's own source (see gw_http_input_create_source()) */
	return g_pollable_output_stream_create_source(
	    G_POLLABLE_OUTPUT_STREAM(GW_HTTP_OUTPUT(pollable)->base), cancellable);
}

static gboolean
gw_http_output_close(GOutputStream *stream, GCancellable *cancellable, GError **error)
{
	/* the connection is closed as a whole, by GwHttpStream */
	return TRUE;
}

static void
gw_http_output_finalize(GObject *object)
{
	GwHttpOutput *self = GW_HTTP_OUTPUT(object);
	gw_http_output_clear_file_body(self);
	g_clear_object(&self->base);
	G_OBJECT_CLASS(gw_http_output_parent_class)->finalize(object);
}

static void
gw_http_output_pollable_iface_init(GPollableOutputStreamInterface *iface)
{
	iface->can_poll = gw_http_output_can_poll;
	iface->is_writable = gw_http_output_is_writable;
	iface->create_source = gw_http_output_create_source;
	iface->write_nonblocking = gw_http_output_write_nonblocking;
}

static void
gw_http_output_class_init(GwHttpOutputClass *klass)
{
	GOutputStreamClass *output_class = G_OUTPUT_STREAM_CLASS(klass);
	G_OBJECT_CLASS(klass)->finalize = gw_http_output_finalize;
	output_class->write_fn = gw_http_output_write;
	output_class->flush = gw_http_output_flush;
	output_class->close_fn = gw_http_output_close;
}

static void
gw_http_output_init(GwHttpOutput *self)
{
	self->fd = -1;
	self->file_fd = -1;
}

/* ---- the stream ---- */

static GInputStream *
gw_http_stream_get_input_stream(GIOStream *stream)
{
	return G_INPUT_STREAM(GW_HTTP_STREAM(stream)->input);
}

static GOutputStream *
gw_http_stream_get_output_stream(GIOStream *stream)
{
	return G_OUTPUT_STREAM(GW_HTTP_STREAM(stream)->output);
}

static gboolean
gw_http_stream_close(GIOStream *stream, GCancellable *cancellable, GError **error)
{
	GwHttpStream *self = GW_HTTP_STREAM(stream);

	if (self->closed)
		return TRUE;
	self->closed = TRUE;
	if (self->close_func != NULL)
		self->close_func(self->user_data);
	return TRUE;
}

/* GIOStream's own would close in a worker thread; closing never blocks here */
static void
gw_http_stream_close_async(GIOStream *stream,
                           int io_priority,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(stream, cancellable, callback, user_data);
	g_task_set_source_tag(task, gw_http_stream_close_async);
	gw_http_stream_close(stream, cancellable, NULL);
	g_task_return_boolean(task, TRUE);
}

static gboolean
gw_http_stream_close_finish(GIOStream *stream, GAsyncResult *result, GError **error)
{
	return g_task_propagate_boolean(G_TASK(result), error);
}

static void
gw_http_stream_finalize(GObject *object)
{
	GwHttpStream *self = GW_HTTP_STREAM(object);
	self->input->stream = NULL;
	g_clear_object(&self->input);
	self->output->stream = NULL;
	g_clear_object(&self->output);
	g_clear_object(&self->base);
	G_OBJECT_CLASS(gw_http_stream_parent_class)->finalize(object);
}

static void
gw_http_stream_class_init(GwHttpStreamClass *klass)
{
	GIOStreamClass *stream_class = G_IO_STREAM_CLASS(klass);
	G_OBJECT_CLASS(klass)->finalize = gw_http_stream_finalize;
	stream_class->get_input_stream = gw_http_stream_get_input_stream;
	stream_class->get_output_stream = gw_http_stream_get_output_stream;
	stream_class->close_fn = gw_http_stream_close;
	stream_class->close_async = gw_http_stream_close_async;
	stream_class->close_finish = gw_http_stream_close_finish;
}

static void
gw_http_stream_init(GwHttpStream *self)
{
}

GwHttpStream *
gw_http_stream_new(GIOStream *base,
                   GwHttpStreamFunc gone_func,
                   GwHttpStreamFunc close_func,
                   gpointer user_data)
{
	GwHttpStream *self;

	g_return_val_if_fail(G_IS_IO_STREAM(base), NULL);
	g_return_val_if_fail(G_IS_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(base)), NULL);

	self = g_object_new(GW_TYPE_HTTP_STREAM, NULL);
	self->base = g_object_ref(base);
	self->input = g_object_new(GW_TYPE_HTTP_INPUT, NULL);
	self->input->base = g_object_ref(g_io_stream_get_input_stream(base));
	self->input->stream = self;
	self->output = g_object_new(GW_TYPE_HTTP_OUTPUT, NULL);
	self->output->base = g_object_ref(g_io_stream_get_output_stream(base));
	self->output->stream = self;
	/* plain TCP: file bodies go with sendfile() on its descriptor */
	if (G_IS_SOCKET_CONNECTION(base))
		self->output->fd =
		    g_socket_get_fd(g_socket_connection_get_socket(G_SOCKET_CONNECTION(base)));
	self->gone_func = gone_func;
	self->close_func = close_func;
	self->user_data = user_data;
	return self;
}

void
gw_http_stream_detach(GwHttpStream *self)
{
	g_return_if_fail(GW_IS_HTTP_STREAM(self));
	self->gone_func = NULL;
	self->close_func = NULL;
	self->wrote_func = NULL;
	self->user_data = NULL;
}

void
gw_http_stream_set_wrote_func(GwHttpStream *self, GwHttpStreamFunc wrote_func)
{
	g_return_if_fail(GW_IS_HTTP_STREAM(self));
	self->wrote_func = wrote_func;
}

gboolean
gw_http_stream_set_file_body(GwHttpStream *self, GBytes *body, gint fd, goffset offset)
{
	GwHttpOutput *out;

	g_return_val_if_fail(GW_IS_HTTP_STREAM(self), FALSE);
	out = self->output;
	gw_http_output_clear_file_body(out);
	if (body == NULL || fd < 0 || out->fd < 0 || g_bytes_get_size(body) == 0)
		return FALSE;
	out->file_body = g_bytes_ref(body);
	out->file_data = g_bytes_get_data(body, &out->file_len);
	out->file_fd = fd;
	out->file_offset = offset;
	out->more = TRUE;
	return TRUE;
}

void
gw_http_stream_clear_file_body(GwHttpStream *self)
{
	g_return_if_fail(GW_IS_HTTP_STREAM(self));
	gw_http_output_clear_file_body(self->output);
}

gboolean
gw_http_stream_is_gone(GwHttpStream *self)
{
	g_return_val_if_fail(GW_IS_HTTP_STREAM(self), FALSE);
	return self->input->gone;
}
