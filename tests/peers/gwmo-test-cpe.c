/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmo-test-cpe: a reference CWMP device (TR-069 CPE) for the TR-069 adapter's tests. Its own
 * CWMP code (libsoup + libxml2), independent of the adapter's codec on purpose: a TR-181
 * (`Device.`) or TR-098 (`InternetGatewayDevice.`) subset, a Connection Request listener with
 * digest auth, an Inform at start (1 BOOT, 0 BOOTSTRAP with --bootstrap), on a Connection
 * Request (6 CONNECTION REQUEST), periodically (2 PERIODIC, --periodic) and after a Reboot
 * (1 BOOT, M Reboot).
 *
 * On stdout, one line each, for the tests to wait on:
 *   READY <connection request URL>
 *   INFORM <event codes, comma-separated>
 *   RPC <method>                      an ACS request it answered
 *   SESSION-END                       the ACS ended the session (204)
 *   REBOOT
 *   ERROR <text>                      a session failed
 */

#include "config.h"

#include <glib-unix.h>
#include <libsoup/soup.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	gchar *value;
	const gchar *type;
	gboolean writable;
} GwCpeParam;

typedef struct {
	GMainLoop *loop;
	SoupSession *session;
	/* file transfers: a client of their own, so that the ACS's credentials (libsoup reuses
	 * them for its host) never go with a download from the gateway's image endpoint */
	SoupSession *transfers;
	SoupServer *cr_server;
	gchar *acs_url;
	gchar *username;
	gchar *password;
	gchar *cr_username;
	gchar *cr_password;
	gchar *root; /* "Device." or "InternetGatewayDevice." */
	guint version;
	gboolean silent;    /* never answer a Connection Request */
	GHashTable *params; /* name -> GwCpeParam */
	GTree *objects;     /* object path ("Device.NAT.PortMapping.") -> next instance */
	gboolean in_session;
	GPtrArray *pending_events; /* for the next session */
	gboolean reboot_after;
	guint cwmp_id;
	/* a Download accepted (Status 1): fetched after the session, then TransferComplete */
	gchar *download_key;
	gchar *download_url;
	guint download_fault;     /* --download-fault: reported instead of fetching */
	gchar *transfer_complete; /* the TransferComplete to send in the next session */
	/* --count: many CPEs share the HTTP client, so each keeps its session cookie itself */
	gboolean own_cookie;
	gchar *cookie;
} GwCpe;

static void
gw_cpe_param_free(GwCpeParam *p)
{
	g_free(p->value);
	g_free(p);
}

static void
gw_cpe_set(GwCpe *cpe, const gchar *suffix, const gchar *value, const gchar *type, gboolean w)
{
	GwCpeParam *p = g_new0(GwCpeParam, 1);

	p->value = g_strdup(value);
	p->type = type;
	p->writable = w;
	g_hash_table_replace(cpe->params, g_strconcat(cpe->root, suffix, NULL), p);
}

static const gchar *
gw_cpe_get(GwCpe *cpe, const gchar *suffix)
{
	g_autofree gchar *name = g_strconcat(cpe->root, suffix, NULL);
	GwCpeParam *p = g_hash_table_lookup(cpe->params, name);

	return p != NULL ? p->value : NULL;
}

/* ---- building what the CPE sends ---- */

static GString *
gw_cpe_open(GwCpe *cpe, const gchar *id)
{
	GString *out = g_string_new(NULL);
	g_autofree gchar *escaped = g_markup_escape_text(id != NULL ? id : "", -1);

	/* prefixes of its own, as real CPEs pick theirs */
	g_string_append_printf(
	    out,
	    "<?xml version=\"1.0\"?>\n<soapenv:Envelope "
	    "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	    "xmlns:soapenc=\"http://schemas.xmlsoap.org/soap/encoding/\" "
	    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
	    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	    "xmlns:cwmp=\"urn:dslforum-org:cwmp-1-%u\">\n"
	    "  <soapenv:Header><cwmp:ID soapenv:mustUnderstand=\"1\">%s</cwmp:ID>"
	    "</soapenv:Header>\n  <soapenv:Body>\n",
	    cpe->version,
	    escaped);
	return out;
}

static gchar *
gw_cpe_close(GString *out)
{
	g_string_append(out, "  </soapenv:Body>\n</soapenv:Envelope>\n");
	return g_string_free(out, FALSE);
}

static void
gw_cpe_append_value(GString *out, const gchar *name, const GwCpeParam *p)
{
	g_autofree gchar *n = g_markup_escape_text(name, -1);
	g_autofree gchar *v = g_markup_escape_text(p->value, -1);

	g_string_append_printf(out,
	                       "<ParameterValueStruct><Name>%s</Name><Value xsi:type=\"%s\">%s"
	                       "</Value></ParameterValueStruct>\n",
	                       n,
	                       p->type,
	                       v);
}

static gchar *
gw_cpe_build_inform(GwCpe *cpe, GPtrArray *events)
{
	g_autofree gchar *id = g_strdup_printf("cpe-%u", ++cpe->cwmp_id);
	GString *out = gw_cpe_open(cpe, id);
	static const gchar *const inform_params[] = {
	    "DeviceInfo.HardwareVersion",
	    "DeviceInfo.SoftwareVersion",
	    "DeviceInfo.ModelName",
	    "ManagementServer.ConnectionRequestURL",
	    "ManagementServer.ParameterKey",
	};

	g_string_append_printf(out,
	                       "<cwmp:Inform>\n<DeviceId><Manufacturer>%s</Manufacturer>"
	                       "<OUI>%s</OUI><ProductClass>%s</ProductClass>"
	                       "<SerialNumber>%s</SerialNumber></DeviceId>\n"
	                       "<Event soapenc:arrayType=\"cwmp:EventStruct[%u]\">\n",
	                       gw_cpe_get(cpe, "DeviceInfo.Manufacturer"),
	                       gw_cpe_get(cpe, "DeviceInfo.ManufacturerOUI"),
	                       gw_cpe_get(cpe, "DeviceInfo.ProductClass"),
	                       gw_cpe_get(cpe, "DeviceInfo.SerialNumber"),
	                       events->len);
	for (guint i = 0; i < events->len; i++) {
		const gchar *code = g_ptr_array_index(events, i);
		g_string_append_printf(out,
		                       "<EventStruct><EventCode>%s</EventCode><CommandKey>%s"
		                       "</CommandKey></EventStruct>\n",
		                       code,
		                       g_str_equal(code, "M Reboot") ? "reboot" : "");
	}
	g_string_append_printf(
	    out,
	    "</Event>\n<MaxEnvelopes>1</MaxEnvelopes>\n<CurrentTime>"
	    "2026-01-01T00:00:00Z</CurrentTime>\n<RetryCount>0</RetryCount>\n"
	    "<ParameterList soapenc:arrayType=\"cwmp:ParameterValueStruct[%u]\">\n",
	    (guint)G_N_ELEMENTS(inform_params));
	for (guint i = 0; i < G_N_ELEMENTS(inform_params); i++) {
		g_autofree gchar *name = g_strconcat(cpe->root, inform_params[i], NULL);
		gw_cpe_append_value(out, name, g_hash_table_lookup(cpe->params, name));
	}
	g_string_append(out, "</ParameterList>\n</cwmp:Inform>\n");
	return gw_cpe_close(out);
}

static gchar *
gw_cpe_build_fault(GwCpe *cpe, const gchar *id, guint code, const gchar *text, const gchar *param)
{
	GString *out = gw_cpe_open(cpe, id);

	g_string_append_printf(out,
	                       "<soapenv:Fault><faultcode>Client</faultcode><faultstring>CWMP fault"
	                       "</faultstring><detail><cwmp:Fault><FaultCode>%u</FaultCode>"
	                       "<FaultString>%s</FaultString>",
	                       param != NULL ? 9003u : code,
	                       param != NULL ? "Invalid arguments" : text);
	if (param != NULL)
		g_string_append_printf(out,
		                       "<SetParameterValuesFault><ParameterName>%s</ParameterName>"
		                       "<FaultCode>%u</FaultCode><FaultString>%s</FaultString>"
		                       "</SetParameterValuesFault>",
		                       param,
		                       code,
		                       text);
	g_string_append(out, "</cwmp:Fault></detail></soapenv:Fault>\n");
	return gw_cpe_close(out);
}

/* ---- reading what the ACS sends ---- */

static xmlNode *
gw_cpe_child(xmlNode *parent, const gchar *name)
{
	for (xmlNode *n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && g_str_equal((const gchar *)n->name, name))
			return n;
	}
	return NULL;
}

static gchar *
gw_cpe_text(xmlNode *n)
{
	xmlChar *c = n != NULL ? xmlNodeGetContent(n) : NULL;
	gchar *text = g_strstrip(g_strdup(c != NULL ? (const gchar *)c : ""));

	xmlFree(c);
	return text;
}

/* the answer to one ACS request */
static gchar *
gw_cpe_answer(GwCpe *cpe, xmlNode *rpc, const gchar *id)
{
	const gchar *method = (const gchar *)rpc->name;
	GString *out;

	g_print("RPC %s\n", method);
	if (g_str_equal(method, "GetParameterValues")) {
		xmlNode *names = gw_cpe_child(rpc, "ParameterNames");
		g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
		for (xmlNode *n = names != NULL ? names->children : NULL; n != NULL; n = n->next) {
			g_autofree gchar *name = NULL;
			if (n->type != XML_ELEMENT_NODE)
				continue;
			name = gw_cpe_text(n);
			if (g_hash_table_lookup(cpe->params, name) != NULL) {
				g_ptr_array_add(found, g_steal_pointer(&name));
				continue;
			}
			if (g_str_has_suffix(name, ".")) {
				GHashTableIter iter;
				gpointer key;
				guint before = found->len;
				g_hash_table_iter_init(&iter, cpe->params);
				while (g_hash_table_iter_next(&iter, &key, NULL)) {
					if (g_str_has_prefix(key, name))
						g_ptr_array_add(found, g_strdup(key));
				}
				if (found->len > before)
					continue;
			}
			return gw_cpe_build_fault(cpe, id, 9005, "Invalid parameter name", NULL);
		}
		out = gw_cpe_open(cpe, id);
		g_string_append_printf(out,
		                       "<cwmp:GetParameterValuesResponse><ParameterList "
		                       "soapenc:arrayType=\"cwmp:ParameterValueStruct[%u]\">\n",
		                       found->len);
		for (guint i = 0; i < found->len; i++) {
			const gchar *name = g_ptr_array_index(found, i);
			gw_cpe_append_value(out, name, g_hash_table_lookup(cpe->params, name));
		}
		g_string_append(out, "</ParameterList></cwmp:GetParameterValuesResponse>\n");
		return gw_cpe_close(out);
	}
	if (g_str_equal(method, "GetParameterNames")) {
		g_autofree gchar *path = gw_cpe_text(gw_cpe_child(rpc, "ParameterPath"));
		g_autoptr(GHashTable) seen =
		    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		GHashTableIter iter;
		gpointer key;
		gpointer value;
		out = gw_cpe_open(cpe, id);
		g_string_append(out, "<cwmp:GetParameterNamesResponse><ParameterList>\n");
		g_hash_table_iter_init(&iter, cpe->params);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			const gchar *rest;
			const gchar *dot;
			g_autofree gchar *child = NULL;
			if (!g_str_has_prefix(key, path))
				continue;
			rest = (const gchar *)key + strlen(path);
			dot = strchr(rest, '.');
			child = g_strndup(
			    key,
			    strlen(path) + (dot != NULL ? (gsize)(dot - rest + 1) : strlen(rest)));
			if (!g_hash_table_add(seen, g_strdup(child)))
				continue;
			g_string_append_printf(out,
			                       "<ParameterInfoStruct><Name>%s</Name><Writable>%d"
			                       "</Writable></ParameterInfoStruct>\n",
			                       child,
			                       dot == NULL && ((GwCpeParam *)value)->writable);
		}
		if (g_hash_table_size(seen) == 0) {
			g_string_free(out, TRUE);
			return gw_cpe_build_fault(cpe, id, 9005, "Invalid parameter name", NULL);
		}
		g_string_append(out, "</ParameterList></cwmp:GetParameterNamesResponse>\n");
		return gw_cpe_close(out);
	}
	if (g_str_equal(method, "SetParameterValues")) {
		xmlNode *list = gw_cpe_child(rpc, "ParameterList");
		g_autofree gchar *key = gw_cpe_text(gw_cpe_child(rpc, "ParameterKey"));
		/* all or nothing: check every one first */
		for (xmlNode *n = list != NULL ? list->children : NULL; n != NULL; n = n->next) {
			g_autofree gchar *name = NULL;
			GwCpeParam *p;
			if (n->type != XML_ELEMENT_NODE)
				continue;
			name = gw_cpe_text(gw_cpe_child(n, "Name"));
			p = g_hash_table_lookup(cpe->params, name);
			if (p == NULL)
				return gw_cpe_build_fault(
				    cpe, id, 9005, "Invalid parameter name", name);
			if (!p->writable)
				return gw_cpe_build_fault(
				    cpe, id, 9008, "Attempt to set a non-writable parameter", name);
		}
		for (xmlNode *n = list != NULL ? list->children : NULL; n != NULL; n = n->next) {
			g_autofree gchar *name = NULL;
			GwCpeParam *p;
			if (n->type != XML_ELEMENT_NODE)
				continue;
			name = gw_cpe_text(gw_cpe_child(n, "Name"));
			p = g_hash_table_lookup(cpe->params, name);
			g_free(p->value);
			p->value = gw_cpe_text(gw_cpe_child(n, "Value"));
		}
		gw_cpe_set(cpe, "ManagementServer.ParameterKey", key, "xsd:string", FALSE);
		out = gw_cpe_open(cpe, id);
		g_string_append(out,
		                "<cwmp:SetParameterValuesResponse><Status>0</Status>"
		                "</cwmp:SetParameterValuesResponse>\n");
		return gw_cpe_close(out);
	}
	if (g_str_equal(method, "AddObject") || g_str_equal(method, "DeleteObject")) {
		g_autofree gchar *object = gw_cpe_text(gw_cpe_child(rpc, "ObjectName"));
		gboolean add = method[0] == 'A';
		out = gw_cpe_open(cpe, id);
		if (add) {
			gpointer next = g_tree_lookup(cpe->objects, object);
			guint n = GPOINTER_TO_UINT(next);
			g_autofree gchar *base = NULL;
			g_autofree gchar *name = NULL;
			if (n == 0) {
				g_string_free(out, TRUE);
				return gw_cpe_build_fault(
				    cpe, id, 9005, "Invalid parameter name", NULL);
			}
			g_tree_insert(cpe->objects, g_strdup(object), GUINT_TO_POINTER(n + 1));
			name = g_strdup_printf("%s%u.Enable", object, n);
			base = g_strdup(name + strlen(cpe->root));
			gw_cpe_set(cpe, base, "false", "xsd:boolean", TRUE);
			g_string_append_printf(
			    out,
			    "<cwmp:AddObjectResponse><InstanceNumber>%u</InstanceNumber>"
			    "<Status>0</Status></cwmp:AddObjectResponse>\n",
			    n);
		} else {
			GHashTableIter iter;
			gpointer key;
			guint removed = 0;
			g_hash_table_iter_init(&iter, cpe->params);
			while (g_hash_table_iter_next(&iter, &key, NULL)) {
				if (g_str_has_prefix(key, object)) {
					g_hash_table_iter_remove(&iter);
					removed++;
				}
			}
			if (removed == 0) {
				g_string_free(out, TRUE);
				return gw_cpe_build_fault(
				    cpe, id, 9005, "Invalid parameter name", NULL);
			}
			g_string_append(out,
			                "<cwmp:DeleteObjectResponse><Status>0</Status>"
			                "</cwmp:DeleteObjectResponse>\n");
		}
		return gw_cpe_close(out);
	}
	if (g_str_equal(method, "Download")) {
		if (cpe->download_key != NULL)
			return gw_cpe_build_fault(cpe, id, 9004, "Resources exceeded", NULL);
		cpe->download_key = gw_cpe_text(gw_cpe_child(rpc, "CommandKey"));
		cpe->download_url = gw_cpe_text(gw_cpe_child(rpc, "URL"));
		out = gw_cpe_open(cpe, id);
		g_string_append(out,
		                "<cwmp:DownloadResponse><Status>1</Status>"
		                "<StartTime>0001-01-01T00:00:00Z</StartTime>"
		                "<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>"
		                "</cwmp:DownloadResponse>\n");
		return gw_cpe_close(out);
	}
	if (g_str_equal(method, "Reboot")) {
		cpe->reboot_after = TRUE;
		out = gw_cpe_open(cpe, id);
		g_string_append(out, "<cwmp:RebootResponse/>\n");
		return gw_cpe_close(out);
	}
	return gw_cpe_build_fault(cpe, id, 9000, "Method not supported", NULL);
}

/* ---- a session ---- */

static void
gw_cpe_session_start(GwCpe *cpe);

static gboolean
gw_cpe_authenticate_cb(SoupMessage *msg, SoupAuth *auth, gboolean retrying, gpointer data)
{
	GwCpe *cpe = data;

	if (retrying)
		return FALSE;
	soup_auth_authenticate(auth, cpe->username, cpe->password);
	return TRUE;
}

static void
gw_cpe_post(GwCpe *cpe, gchar *body);
static void
gw_cpe_fetch(GwCpe *cpe);

static void
gw_cpe_session_done(GwCpe *cpe, const gchar *error)
{
	cpe->in_session = FALSE;
	g_clear_pointer(&cpe->cookie, g_free);
	if (error != NULL)
		g_print("ERROR %s\n", error);
	else
		g_print("SESSION-END\n");
	if (cpe->reboot_after) {
		cpe->reboot_after = FALSE;
		g_print("REBOOT\n");
		g_ptr_array_add(cpe->pending_events, g_strdup("1 BOOT"));
		g_ptr_array_add(cpe->pending_events, g_strdup("M Reboot"));
	}
	if (error == NULL && cpe->download_url != NULL) {
		gw_cpe_fetch(cpe);
		return;
	}
	if (cpe->pending_events->len > 0)
		gw_cpe_session_start(cpe);
}

static gchar *
gw_cpe_build_transfer_complete(GwCpe *cpe, const gchar *key, guint fault, const gchar *text)
{
	g_autofree gchar *id = g_strdup_printf("cpe-%u", ++cpe->cwmp_id);
	g_autofree gchar *k = g_markup_escape_text(key, -1);
	g_autofree gchar *t = g_markup_escape_text(text, -1);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree gchar *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	GString *out = gw_cpe_open(cpe, id);

	g_string_append_printf(
	    out,
	    "<cwmp:TransferComplete><CommandKey>%s</CommandKey><FaultStruct>"
	    "<FaultCode>%u</FaultCode><FaultString>%s</FaultString></FaultStruct>"
	    "<StartTime>%s</StartTime><CompleteTime>%s</CompleteTime>"
	    "</cwmp:TransferComplete>\n",
	    k,
	    fault,
	    t,
	    stamp,
	    stamp);
	return gw_cpe_close(out);
}

static gboolean
gw_cpe_accept_cert_cb(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags e, gpointer d)
{
	return TRUE; /* the gateway's self-signed identity on a test bench */
}

/* the file fetched: its outcome goes to the ACS in a new session (7 TRANSFER COMPLETE) */
static void
gw_cpe_fetched_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	GwCpe *cpe = data;
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body =
	    soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	guint status = msg != NULL ? soup_message_get_status(msg) : 0;
	g_autofree gchar *key = g_steal_pointer(&cpe->download_key);

	g_clear_pointer(&cpe->download_url, g_free);
	if (error == NULL && status == SOUP_STATUS_OK) {
		g_autofree gchar *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, body);
		g_print("DOWNLOADED %" G_GSIZE_FORMAT " %s\n", g_bytes_get_size(body), sha);
		cpe->transfer_complete = gw_cpe_build_transfer_complete(cpe, key, 0, "");
	} else {
		g_autofree gchar *why = g_strdup_printf("HTTP %u%s%s",
		                                        status,
		                                        error != NULL ? ": " : "",
		                                        error != NULL ? error->message : "");
		g_print("DOWNLOAD-FAILED %s\n", why);
		cpe->transfer_complete =
		    gw_cpe_build_transfer_complete(cpe, key, 9010, "Download failure");
	}
	g_ptr_array_add(cpe->pending_events, g_strdup("7 TRANSFER COMPLETE"));
	g_ptr_array_add(cpe->pending_events, g_strdup("M Download"));
	gw_cpe_session_start(cpe);
}

static void
gw_cpe_fetch(GwCpe *cpe)
{
	g_autoptr(SoupMessage) msg = NULL;

	if (cpe->download_fault != 0) {
		g_autofree gchar *key = g_steal_pointer(&cpe->download_key);
		g_clear_pointer(&cpe->download_url, g_free);
		g_print("DOWNLOAD-FAILED fault %u\n", cpe->download_fault);
		cpe->transfer_complete = gw_cpe_build_transfer_complete(
		    cpe, key, cpe->download_fault, "Download failure");
		g_ptr_array_add(cpe->pending_events, g_strdup("7 TRANSFER COMPLETE"));
		g_ptr_array_add(cpe->pending_events, g_strdup("M Download"));
		gw_cpe_session_start(cpe);
		return;
	}
	g_print("FETCH %s\n", cpe->download_url);
	msg = soup_message_new(SOUP_METHOD_GET, cpe->download_url);
	if (msg == NULL) {
		g_autofree gchar *key = g_steal_pointer(&cpe->download_key);
		g_clear_pointer(&cpe->download_url, g_free);
		cpe->transfer_complete = gw_cpe_build_transfer_complete(cpe, key, 9010, "Bad URL");
		g_ptr_array_add(cpe->pending_events, g_strdup("7 TRANSFER COMPLETE"));
		gw_cpe_session_start(cpe);
		return;
	}
	g_signal_connect(msg, "accept-certificate", G_CALLBACK(gw_cpe_accept_cert_cb), NULL);
	soup_session_send_and_read_async(
	    cpe->transfers, msg, G_PRIORITY_DEFAULT, NULL, gw_cpe_fetched_cb, cpe);
}

static void
gw_cpe_posted_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	GwCpe *cpe = data;
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body =
	    soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	guint status = soup_message_get_status(msg);
	gsize len = 0;
	const gchar *data_ = body != NULL ? g_bytes_get_data(body, &len) : NULL;
	xmlDoc *doc;
	xmlNode *root;
	xmlNode *header;
	xmlNode *rpc;
	g_autofree gchar *id = NULL;

	if (cpe->own_cookie && msg != NULL) {
		const gchar *set = soup_message_headers_get_one(
		    soup_message_get_response_headers(msg), "Set-Cookie");
		if (set != NULL) {
			g_free(cpe->cookie);
			cpe->cookie = g_strndup(set, strcspn(set, ";"));
		}
	}
	if (error != NULL) {
		gw_cpe_session_done(cpe, error->message);
		return;
	}
	if (status == SOUP_STATUS_NO_CONTENT || (status == SOUP_STATUS_OK && len == 0)) {
		gw_cpe_session_done(cpe, NULL);
		return;
	}
	if (status != SOUP_STATUS_OK) {
		g_autofree gchar *why = g_strdup_printf("HTTP %u from the ACS", status);
		gw_cpe_session_done(cpe, why);
		return;
	}
	doc = xmlReadMemory(data_,
	                    (int)len,
	                    "acs.xml",
	                    NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	header = gw_cpe_child(root, "Header");
	for (rpc = gw_cpe_child(root, "Body") != NULL ? gw_cpe_child(root, "Body")->children : NULL;
	     rpc != NULL && rpc->type != XML_ELEMENT_NODE;
	     rpc = rpc->next)
		;
	if (rpc == NULL) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		gw_cpe_session_done(cpe, "an ACS message without an RPC");
		return;
	}
	id = gw_cpe_text(gw_cpe_child(header, "ID"));
	if (g_str_equal((const gchar *)rpc->name, "InformResponse") ||
	    g_str_equal((const gchar *)rpc->name, "TransferCompleteResponse")) {
		gboolean inform = g_str_equal((const gchar *)rpc->name, "InformResponse");
		xmlFreeDoc(doc);
		/* after the InformResponse, a TransferComplete owed goes first */
		if (inform && cpe->transfer_complete != NULL) {
			g_print("TRANSFER-COMPLETE\n");
			gw_cpe_post(cpe, g_steal_pointer(&cpe->transfer_complete));
			return;
		}
		gw_cpe_post(cpe, NULL);
		return;
	}
	if (header == NULL || gw_cpe_child(header, "ID") == NULL) {
		xmlFreeDoc(doc);
		gw_cpe_session_done(cpe, "an ACS request without cwmp:ID");
		return;
	}
	gw_cpe_post(cpe, gw_cpe_answer(cpe, rpc, id));
	xmlFreeDoc(doc);
}

/* libsoup 3.2 resends a message restarted by a 401 with an empty body: give it its body again */
static void
gw_cpe_restarted_cb(SoupMessage *msg, gpointer data)
{
	GBytes *bytes = g_object_get_data(G_OBJECT(msg), "gw-cpe-body");

	if (bytes != NULL)
		soup_message_set_request_body_from_bytes(msg, "text/xml; charset=utf-8", bytes);
}

/* POSTs @body (NULL: the empty POST) to the ACS */
static void
gw_cpe_post(GwCpe *cpe, gchar *body)
{
	g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_POST, cpe->acs_url);

	g_signal_connect(msg, "authenticate", G_CALLBACK(gw_cpe_authenticate_cb), cpe);
	if (cpe->own_cookie && cpe->cookie != NULL)
		soup_message_headers_replace(
		    soup_message_get_request_headers(msg), "Cookie", cpe->cookie);
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new_take(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, "text/xml; charset=utf-8", bytes);
		g_object_set_data_full(G_OBJECT(msg),
		                       "gw-cpe-body",
		                       g_bytes_ref(bytes),
		                       (GDestroyNotify)g_bytes_unref);
		g_signal_connect(msg, "restarted", G_CALLBACK(gw_cpe_restarted_cb), NULL);
		soup_message_headers_append(
		    soup_message_get_request_headers(msg), "SOAPAction", "");
	}
	soup_session_send_and_read_async(
	    cpe->session, msg, G_PRIORITY_DEFAULT, NULL, gw_cpe_posted_cb, cpe);
}

static void
gw_cpe_session_start(GwCpe *cpe)
{
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(GString) line = g_string_new(NULL);

	if (cpe->in_session)
		return;
	cpe->in_session = TRUE;
	events = g_steal_pointer(&cpe->pending_events);
	cpe->pending_events = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < events->len; i++)
		g_string_append_printf(line, "%s%s", i > 0 ? "," : "", (gchar *)events->pdata[i]);
	g_print("INFORM %s\n", line->str);
	gw_cpe_post(cpe, gw_cpe_build_inform(cpe, events));
}

static void
gw_cpe_queue_event(GwCpe *cpe, const gchar *code)
{
	for (guint i = 0; i < cpe->pending_events->len; i++) {
		if (g_str_equal(g_ptr_array_index(cpe->pending_events, i), code))
			return;
	}
	g_ptr_array_add(cpe->pending_events, g_strdup(code));
	gw_cpe_session_start(cpe);
}

static gboolean
gw_cpe_periodic_cb(gpointer data)
{
	gw_cpe_queue_event(data, "2 PERIODIC");
	return G_SOURCE_CONTINUE;
}

/* ---- the Connection Request listener ---- */

static char *
gw_cpe_cr_digest_cb(SoupAuthDomain *domain,
                    SoupServerMessage *msg,
                    const char *username,
                    gpointer data)
{
	GwCpe *cpe = data;

	if (g_strcmp0(username, cpe->cr_username) != 0)
		return NULL;
	return soup_auth_domain_digest_encode_password(username, "gwmo-test-cpe", cpe->cr_password);
}

static void
gw_cpe_cr_cb(SoupServer *server,
             SoupServerMessage *msg,
             const char *path,
             GHashTable *query,
             gpointer data)
{
	GwCpe *cpe = data;

	if (cpe->silent) {
		/* a CPE that does not come: the ACS's command must time out */
		soup_server_message_set_status(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	gw_cpe_queue_event(cpe, "6 CONNECTION REQUEST");
}

static gboolean
gw_cpe_quit_cb(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

static gboolean
gw_cpe_stdin_cb(gint fd, GIOCondition condition, gpointer data)
{
	gchar buf[64];

	/* the parent went away (or closed our stdin): no orphan CPE */
	if ((condition & (G_IO_HUP | G_IO_ERR)) != 0 || read(fd, buf, sizeof buf) <= 0) {
		g_main_loop_quit(data);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void
gw_cpe_load_model(GwCpe *cpe, const gchar *serial, const gchar *software, const gchar *cr_url)
{
	gw_cpe_set(cpe, "DeviceInfo.Manufacturer", "gwmo test", "xsd:string", FALSE);
	gw_cpe_set(cpe, "DeviceInfo.ManufacturerOUI", "00D09E", "xsd:string", FALSE);
	gw_cpe_set(cpe, "DeviceInfo.ModelName", "Test CPE", "xsd:string", FALSE);
	gw_cpe_set(cpe, "DeviceInfo.ProductClass", "TestCPE", "xsd:string", FALSE);
	gw_cpe_set(cpe, "DeviceInfo.SerialNumber", serial, "xsd:string", FALSE);
	gw_cpe_set(cpe, "DeviceInfo.HardwareVersion", "HW1", "xsd:string", FALSE);
	gw_cpe_set(cpe, "DeviceInfo.SoftwareVersion", software, "xsd:string", FALSE);
	gw_cpe_set(cpe, "DeviceInfo.UpTime", "42", "xsd:unsignedInt", FALSE);
	gw_cpe_set(cpe, "ManagementServer.URL", cpe->acs_url, "xsd:string", TRUE);
	gw_cpe_set(cpe, "ManagementServer.PeriodicInformEnable", "1", "xsd:boolean", TRUE);
	gw_cpe_set(cpe, "ManagementServer.PeriodicInformInterval", "300", "xsd:unsignedInt", TRUE);
	gw_cpe_set(cpe, "ManagementServer.ConnectionRequestURL", cr_url, "xsd:string", FALSE);
	gw_cpe_set(cpe,
	           "ManagementServer.ConnectionRequestUsername",
	           cpe->cr_username,
	           "xsd:string",
	           TRUE);
	gw_cpe_set(cpe, "ManagementServer.ParameterKey", "", "xsd:string", FALSE);
	if (g_str_equal(cpe->root, "Device.")) {
		gw_cpe_set(cpe, "Time.NTPServer1", "pool.ntp.org", "xsd:string", TRUE);
		gw_cpe_set(cpe, "Time.Enable", "1", "xsd:boolean", TRUE);
		gw_cpe_set(cpe, "NAT.PortMapping.1.Enable", "1", "xsd:boolean", TRUE);
		gw_cpe_set(cpe, "NAT.PortMapping.1.Description", "ssh", "xsd:string", TRUE);
		g_tree_insert(
		    cpe->objects, g_strdup("Device.NAT.PortMapping."), GUINT_TO_POINTER(2));
	} else {
		gw_cpe_set(cpe, "Time.NTPServer1", "pool.ntp.org", "xsd:string", TRUE);
		gw_cpe_set(cpe,
		           "WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMapping.1."
		           "PortMappingEnabled",
		           "1",
		           "xsd:boolean",
		           TRUE);
		g_tree_insert(cpe->objects,
		              g_strdup("InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1."
		                       "WANIPConnection.1.PortMapping."),
		              GUINT_TO_POINTER(2));
	}
}

int
main(int argc, char **argv)
{
	GwCpe cpe = {0};
	/* defaults after parsing: GOption replaces a string without freeing it */
	g_autofree gchar *serial = NULL;
	g_autofree gchar *software = NULL;
	g_autofree gchar *model = NULL;
	gboolean bootstrap = FALSE;
	gboolean no_cookies = FALSE;
	gboolean watch_stdin = FALSE;
	gint periodic = 0;
	gint version = 4;
	gint download_fault = 0;
	gint count = 1;
	GwCpe *many = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) context = g_option_context_new("- a reference TR-069 CPE");
	g_autoptr(SoupAuthDomain) domain = NULL;
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
	GSList *uris;
	g_autofree gchar *cr_url = NULL;
	GOptionEntry entries[] = {
	    {"acs", 'a', 0, G_OPTION_ARG_STRING, &cpe.acs_url, "the ACS URL", "URL"},
	    {"username", 'u', 0, G_OPTION_ARG_STRING, &cpe.username, "to the ACS", "USER"},
	    {"password", 'p', 0, G_OPTION_ARG_STRING, &cpe.password, "to the ACS", "PASS"},
	    {"cr-username",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &cpe.cr_username,
	     "Connection Requests",
	     "USER"},
	    {"cr-password",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &cpe.cr_password,
	     "Connection Requests",
	     "PASS"},
	    {"serial", 's', 0, G_OPTION_ARG_STRING, &serial, "SerialNumber (CPE0001)", "SN"},
	    {"software", 0, 0, G_OPTION_ARG_STRING, &software, "SoftwareVersion (1.0.0)", "V"},
	    {"model", 'm', 0, G_OPTION_ARG_STRING, &model, "tr181 or tr098 (tr181)", "M"},
	    {"cwmp-version", 0, 0, G_OPTION_ARG_INT, &version, "cwmp-1-N namespace (4)", "N"},
	    {"periodic", 0, 0, G_OPTION_ARG_INT, &periodic, "periodic Inform, seconds (off)", "S"},
	    {"bootstrap", 0, 0, G_OPTION_ARG_NONE, &bootstrap, "first Inform is 0 BOOTSTRAP", NULL},
	    {"no-cookies", 0, 0, G_OPTION_ARG_NONE, &no_cookies, "drop the ACS's cookies", NULL},
	    {"watch-stdin", 0, 0, G_OPTION_ARG_NONE, &watch_stdin, "exit when stdin closes", NULL},
	    {"silent", 0, 0, G_OPTION_ARG_NONE, &cpe.silent, "refuse Connection Requests", NULL},
	    {"count",
	     0,
	     0,
	     G_OPTION_ARG_INT,
	     &count,
	     "simulate N CPEs (serials SN0001…, one process, one HTTP client; for benchmarks)",
	     "N"},
	    {"download-fault",
	     0,
	     0,
	     G_OPTION_ARG_INT,
	     &download_fault,
	     "report this fault for a Download instead of fetching",
	     "CODE"},
	    {NULL},
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("gwmo-test-cpe: %s\n", error->message);
		return 2;
	}
	if (serial == NULL)
		serial = g_strdup("CPE0001");
	if (software == NULL)
		software = g_strdup("1.0.0");
	if (model == NULL)
		model = g_strdup("tr181");
	if (cpe.acs_url == NULL || cpe.username == NULL || cpe.password == NULL || version < 0 ||
	    version > 4 || (!g_str_equal(model, "tr181") && !g_str_equal(model, "tr098"))) {
		g_printerr("gwmo-test-cpe: --acs, --username and --password are needed\n");
		return 2;
	}
	if (cpe.cr_username == NULL)
		cpe.cr_username = g_strdup("acs");
	if (cpe.cr_password == NULL)
		cpe.cr_password = g_strdup("acs-secret");
	cpe.version = (guint)version;
	cpe.download_fault = (guint)MAX(download_fault, 0);
	cpe.root = g_strdup(g_str_equal(model, "tr181") ? "Device." : "InternetGatewayDevice.");
	cpe.loop = g_main_loop_new(NULL, FALSE);
	cpe.params = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_cpe_param_free);
	cpe.objects = g_tree_new_full((GCompareDataFunc)strcmp, NULL, g_free, NULL);
	cpe.pending_events = g_ptr_array_new_with_free_func(g_free);
	count = CLAMP(count, 1, 100000);
	/* --count: the CPEs share one client; enough connections that they do not wait on each
	 * other more than the ACS makes them */
	cpe.session = soup_session_new_with_options("timeout",
	                                            30,
	                                            "max-conns",
	                                            MAX(count, 10),
	                                            "max-conns-per-host",
	                                            count > 1 ? 32 : 2,
	                                            NULL);
	cpe.transfers = soup_session_new_with_options("timeout", 30, NULL);
	if (!no_cookies && count == 1)
		soup_session_add_feature_by_type(cpe.session, SOUP_TYPE_COOKIE_JAR);

	cpe.cr_server = soup_server_new(NULL, NULL);
	domain = soup_auth_domain_digest_new("realm", "gwmo-test-cpe", NULL);
	soup_auth_domain_add_path(domain, "/cr");
	soup_auth_domain_digest_set_auth_callback(domain, gw_cpe_cr_digest_cb, &cpe, NULL);
	soup_server_add_auth_domain(cpe.cr_server, domain);
	soup_server_add_handler(cpe.cr_server, "/cr", gw_cpe_cr_cb, &cpe, NULL);
	if (!soup_server_listen(cpe.cr_server, addr, 0, &error)) {
		g_printerr("gwmo-test-cpe: %s\n", error->message);
		return 1;
	}
	uris = soup_server_get_uris(cpe.cr_server);
	cr_url = g_strdup_printf("http://127.0.0.1:%d/cr", g_uri_get_port(uris->data));
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	if (count > 1) {
		many = g_new0(GwCpe, count);
		for (gint i = 0; i < count; i++) {
			g_autofree gchar *sn = g_strdup_printf("%s%04d", serial, i + 1);
			g_autofree gchar *path = g_strdup_printf("/cr/%d", i + 1);
			g_autofree gchar *url = g_strdup_printf("%s/%d", cr_url, i + 1);
			GwCpe *c = &many[i];

			*c = cpe;
			c->own_cookie = TRUE;
			c->root = g_strdup(cpe.root);
			c->params = g_hash_table_new_full(
			    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_cpe_param_free);
			c->objects = g_tree_new_full((GCompareDataFunc)strcmp, NULL, g_free, NULL);
			c->pending_events = g_ptr_array_new_with_free_func(g_free);
			soup_server_add_handler(cpe.cr_server, path, gw_cpe_cr_cb, c, NULL);
			gw_cpe_load_model(c, sn, software, url);
		}
	} else {
		gw_cpe_load_model(&cpe, serial, software, cr_url);
	}

	g_unix_signal_add(SIGTERM, gw_cpe_quit_cb, cpe.loop);
	g_unix_signal_add(SIGINT, gw_cpe_quit_cb, cpe.loop);
	if (watch_stdin)
		g_unix_fd_add(0, G_IO_IN | G_IO_HUP | G_IO_ERR, gw_cpe_stdin_cb, cpe.loop);
	g_print("READY %s\n", cr_url);
	if (bootstrap)
		g_ptr_array_add(cpe.pending_events, g_strdup("0 BOOTSTRAP"));
	g_ptr_array_add(cpe.pending_events, g_strdup("1 BOOT"));
	if (many == NULL)
		gw_cpe_session_start(&cpe);
	for (gint i = 0; many != NULL && i < count; i++) {
		g_ptr_array_add(many[i].pending_events, g_strdup("1 BOOT"));
		gw_cpe_session_start(&many[i]);
	}
	if (periodic > 0)
		g_timeout_add_seconds((guint)periodic, gw_cpe_periodic_cb, &cpe);
	g_main_loop_run(cpe.loop);

	for (gint i = 0; many != NULL && i < count; i++) {
		g_hash_table_unref(many[i].params);
		g_tree_unref(many[i].objects);
		g_ptr_array_unref(many[i].pending_events);
		g_free(many[i].root);
		g_free(many[i].cookie);
		g_free(many[i].download_key);
		g_free(many[i].download_url);
		g_free(many[i].transfer_complete);
	}
	g_free(many);
	soup_server_disconnect(cpe.cr_server);
	g_object_unref(cpe.cr_server);
	g_object_unref(cpe.session);
	g_object_unref(cpe.transfers);
	g_hash_table_unref(cpe.params);
	g_tree_unref(cpe.objects);
	g_ptr_array_unref(cpe.pending_events);
	g_main_loop_unref(cpe.loop);
	g_free(cpe.root);
	g_free(cpe.acs_url);
	g_free(cpe.username);
	g_free(cpe.password);
	g_free(cpe.cr_username);
	g_free(cpe.cr_password);
	g_free(cpe.download_key);
	g_free(cpe.download_url);
	g_free(cpe.transfer_complete);
	return 0;
}
