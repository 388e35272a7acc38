/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwPlugin"

#include "config.h"

#include <string.h>

#include "gw-plugin-private.h"

/* a plugin's view of one request of the gateway's listener: a snapshot of what it asked, and
 * the backend's functions to answer it */
struct _GwPluginHttpRequest {
	gint refcount;
	const GwPluginHttpBackend *backend;
	gpointer impl;
	gchar *method;
	gchar *path;
	GBytes *body;
	gchar *remote_host;
	gboolean tls;
	gboolean answered;
};

GwPluginHttpRequest *
gw_plugin_http_request_new(const GwPluginHttpBackend *backend,
                           gpointer impl,
                           const gchar *method,
                           const gchar *path,
                           GBytes *body,
                           const gchar *remote_host,
                           gboolean tls)
{
	GwPluginHttpRequest *request;

	g_return_val_if_fail(backend != NULL, NULL);
	g_return_val_if_fail(backend->respond != NULL, NULL);
	request = g_new0(GwPluginHttpRequest, 1);
	request->refcount = 1;
	request->backend = backend;
	request->impl = impl;
	request->method = g_strdup(method != NULL ? method : "");
	request->path = g_strdup(path != NULL ? path : "/");
	request->body = body != NULL ? g_bytes_ref(body) : g_bytes_new_static("", 0);
	request->remote_host = g_strdup(remote_host != NULL ? remote_host : "");
	request->tls = tls;
	return request;
}

GwPluginHttpRequest *
gw_plugin_http_request_ref(GwPluginHttpRequest *request)
{
	g_return_val_if_fail(request != NULL, NULL);
	request->refcount++;
	return request;
}

void
gw_plugin_http_request_unref(GwPluginHttpRequest *request)
{
	g_return_if_fail(request != NULL);
	if (--request->refcount > 0)
		return;
	if (!request->answered) {
		/* never leave the peer hanging */
		g_warning("plugin request %s dropped unanswered; sending 500", request->path);
		request->answered = TRUE;
		request->backend->respond(request->impl, 500, NULL, NULL);
	}
	if (request->backend->free != NULL)
		request->backend->free(request->impl);
	g_free(request->method);
	g_free(request->path);
	g_bytes_unref(request->body);
	g_free(request->remote_host);
	g_free(request);
}

const gchar *
gw_plugin_http_request_get_method(GwPluginHttpRequest *request)
{
	g_return_val_if_fail(request != NULL, NULL);
	return request->method;
}

const gchar *
gw_plugin_http_request_get_path(GwPluginHttpRequest *request)
{
	g_return_val_if_fail(request != NULL, NULL);
	return request->path;
}

const gchar *
gw_plugin_http_request_get_header(GwPluginHttpRequest *request, const gchar *name)
{
	g_return_val_if_fail(request != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);
	if (request->backend->get_header == NULL)
		return NULL;
	return request->backend->get_header(request->impl, name);
}

GBytes *
gw_plugin_http_request_get_body(GwPluginHttpRequest *request)
{
	g_return_val_if_fail(request != NULL, NULL);
	return request->body;
}

const gchar *
gw_plugin_http_request_get_remote_host(GwPluginHttpRequest *request)
{
	g_return_val_if_fail(request != NULL, NULL);
	return request->remote_host;
}

gboolean
gw_plugin_http_request_is_tls(GwPluginHttpRequest *request)
{
	g_return_val_if_fail(request != NULL, FALSE);
	return request->tls;
}

gboolean
gw_plugin_http_request_is_closed(GwPluginHttpRequest *request)
{
	g_return_val_if_fail(request != NULL, TRUE);
	if (request->backend->is_closed == NULL)
		return FALSE;
	return request->backend->is_closed(request->impl);
}

gboolean
gw_plugin_http_request_is_answered(GwPluginHttpRequest *request)
{
	g_return_val_if_fail(request != NULL, FALSE);
	return request->answered;
}

void
gw_plugin_http_request_add_header(GwPluginHttpRequest *request,
                                  const gchar *name,
                                  const gchar *value)
{
	g_return_if_fail(request != NULL);
	g_return_if_fail(name != NULL && value != NULL);
	g_return_if_fail(!request->answered);
	/* a header line is one line: a value that would start another is a programmer error */
	g_return_if_fail(strpbrk(name, "\r\n:") == NULL && strpbrk(value, "\r\n") == NULL);
	if (request->backend->add_header != NULL)
		request->backend->add_header(request->impl, name, value);
}

void
gw_plugin_http_request_respond(GwPluginHttpRequest *request,
                               guint status,
                               const gchar *content_type,
                               GBytes *body)
{
	g_return_if_fail(request != NULL);
	g_return_if_fail(status >= 100 && status <= 599);
	g_return_if_fail(!request->answered);
	request->answered = TRUE;
	request->backend->respond(request->impl, status, content_type, body);
}
