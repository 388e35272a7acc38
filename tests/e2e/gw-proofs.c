/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "gw-proofs.h"

/* the gateway's account at the reference server: CLCRED and SRVCRED of @auth_type */
static gchar *
proof_bootstrap_tnds(const gchar *dm_url, const gchar *auth_type)
{
	return g_strdup_printf(
	    "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>srv1</NodeName><Path>./DMAcc</Path>"
	    "<RTProperties><ACL>Get=" SERVER_ID "&amp;Replace=" SERVER_ID
	    "</ACL><Format><node/></Format></RTProperties>"
	    "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"
	    "<Node><NodeName>ServerID</NodeName><Value>" SERVER_ID "</Value></Node>"
	    "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	    "<Node><NodeName>Addr</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
	    "<Node><NodeName>AppAuth</NodeName>"
	    "<Node><NodeName>1</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>" CL_NAME "</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><DFProperties><AccessType><Replace/>"
	    "</AccessType></DFProperties><Value>" CL_SECRET "</Value></Node>"
	    "</Node>"
	    "<Node><NodeName>2</NodeName>"
	    "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"
	    "<Node><NodeName>AAuthType</NodeName><Value>%s</Value></Node>"
	    "<Node><NodeName>AAuthName</NodeName><Value>" SERVER_ID "</Value></Node>"
	    "<Node><NodeName>AAuthSecret</NodeName><DFProperties><AccessType><Replace/>"
	    "</AccessType></DFProperties><Value>" SRV_SECRET "</Value></Node>"
	    "</Node></Node></Node>"
	    "<Node><NodeName>srv1</NodeName><Path>./GwMO/Config/Ext</Path>"
	    "<RTProperties><ACL>Add=" SERVER_ID "&amp;Delete=" SERVER_ID "&amp;Exec=" SERVER_ID
	    "&amp;Get=" SERVER_ID "&amp;Replace=" SERVER_ID
	    "</ACL><Format><node/></Format></RTProperties>"
	    "<Node><NodeName>Keep</NodeName><Value>kept</Value></Node>"
	    "</Node>"
	    /* the gateway's owner lets the server choose the default mode (GwMO-MOO-001) */
	    "<Node><NodeName>Mode</NodeName><Path>./GwMO/Config</Path>"
	    "<RTProperties><ACL>Get=*&amp;Replace=" SERVER_ID
	    "</ACL><Format><int/></Format></RTProperties><Value>2</Value></Node>"
	    "</MgmtTree>",
	    dm_url,
	    auth_type,
	    auth_type);
}

Env *
proof_env_new(const ProofConfig *config)
{
	Env *e = g_new0(Env, 1);
	g_autoptr(GString) conf = g_string_new(NULL);
	g_autofree gchar *tnds = NULL;

	e->dir = e2e_make_dir_with_cert("gwmo-proofs-XXXXXX", &e->cert, &e->key);
	e->port = gw_test_free_port();
	e->dm_url = g_strdup_printf("https://127.0.0.1:%u/dm", e->port);
	e->south_port = gw_test_free_port();
	g_string_append(conf, "[southbound]\n");
	if (config->south_listen == NULL)
		g_string_append_printf(conf, "listen=http://127.0.0.1:%u\n", e->south_port);
	else if (config->south_listen[0] != '\0')
		g_string_append_printf(conf, "listen=%s\n", config->south_listen);
	if (config->south_extra != NULL)
		g_string_append(conf, config->south_extra);
	g_string_append_printf(conf,
	                       "[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\n"
	                       "timeout=20\n",
	                       e->cert);
	if (config->extra != NULL)
		g_string_append(conf, config->extra);
	e->d = gw_test_daemon_new_with_dev_id(PROOF_GW_ID, conf->str);
	tnds = proof_bootstrap_tnds(e->dm_url,
	                            config->auth_type != NULL ? config->auth_type : "DIGEST");
	e2e_start_bootstrapped(e, tnds);
	if (!config->inventory_alerts)
		proof_set_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	return e;
}

GwTestDaemon *
proof_gateway_new(Env *e, const gchar *dev_id, guint16 south_port, const gchar *south_extra)
{
	g_autofree gchar *conf = g_strdup_printf(
	    "[southbound]\nlisten=http://127.0.0.1:%u\n%s"
	    "[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\ntimeout=20\n",
	    south_port,
	    south_extra != NULL ? south_extra : "",
	    e->cert);
	g_autofree gchar *tnds = proof_bootstrap_tnds(e->dm_url, "DIGEST");
	g_autofree gchar *name = g_strdup_printf("%s-bootstrap.xml", dev_id);
	g_autofree gchar *tnds_path = g_build_filename(e->dir, name, NULL);
	const gchar *args[3] = {"--bootstrap", tnds_path, NULL};
	GwTestDaemon *d = gw_test_daemon_new_with_dev_id(dev_id, conf);

	g_assert_true(g_file_set_contents(tnds_path, tnds, -1, NULL));
	gw_test_daemon_start(d, args);
	return d;
}

void
proof_env_free(Env *e)
{
	/* GWMO_PROOFS_VERBOSE=1: the logs of the server, the devices and gwmod on stderr */
	if (g_getenv("GWMO_PROOFS_VERBOSE") != NULL) {
		g_autoptr(GDir) dir = g_dir_open(e->dir, 0, NULL);
		g_autofree gchar *log = gw_test_daemon_read_log(e->d);
		const gchar *name;
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *path = g_build_filename(e->dir, name, NULL);
			if (g_str_has_suffix(name, ".log") || g_str_has_suffix(name, ".json"))
				proof_dump(path);
		}
		g_printerr("gwmod log:\n%s\n", log);
	}
	env_free(e);
}

GSubprocess *
proof_device_spawn(Env *e, const gchar *log_name, ...)
{
	GSubprocess *proc;
	va_list ap;

	va_start(ap, log_name);
	proc = e2e_device_spawn_valist(e->dir, log_name, NULL, ap);
	va_end(ap);
	return proc;
}

gint
proof_device_wait(GSubprocess *proc)
{
	return e2e_device_wait(proc, 60);
}

void
proof_device_stop(GSubprocess *proc)
{
	if (proc != NULL && g_subprocess_get_identifier(proc) != NULL) {
		g_subprocess_force_exit(proc);
		g_subprocess_wait(proc, NULL, NULL);
	}
}

gchar *
proof_add_device(GwTestDaemon *d,
                 const gchar *device_id,
                 guint mode,
                 const gchar *client_secret,
                 const gchar *server_secret,
                 const gchar *notify_addr)
{
	return e2e_add_device(d, device_id, mode, client_secret, server_secret, notify_addr, NULL);
}

gchar *
proof_find_record(GwTestDaemon *d, const gchar *device_id)
{
	g_auto(GStrv) names = NULL;
	g_autoptr(GVariant) r = gw_test_call(
	    d, "ListChildren", g_variant_new("(s)", "./GwMO/Inventory/Devices"), "(as)", NULL);

	if (r != NULL)
		g_variant_get(r, "(^as)", &names);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *rec = g_strdup_printf("./GwMO/Inventory/Devices/%s", names[i]);
		g_autofree gchar *id_uri = g_strdup_printf("%s/DeviceID", rec);
		g_autofree gchar *id = get_value(d, id_uri, NULL);
		if (g_strcmp0(id, device_id) == 0)
			return g_steal_pointer(&rec);
	}
	return NULL;
}

void
proof_wait_value(GwTestDaemon *d, const gchar *uri, const gchar *value)
{
	g_autofree gchar *last = NULL;

	for (guint i = 0; i < 1200; i++) {
		g_free(last);
		last = get_value(d, uri, NULL);
		if (last != NULL && (value == NULL || g_strcmp0(last, value) == 0))
			return;
		g_usleep(50 * 1000);
	}
	g_printerr("%s never read %s (last: %s)\n", uri, value, last);
	g_assert_not_reached();
}

void
proof_set_bool(GwTestDaemon *d, const gchar *uri, gboolean value)
{
	e2e_set_node_bool(d, uri, value);
}

void
proof_start_session(GwTestDaemon *d)
{
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

	for (;;) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = gw_test_call(
		    d, "StartSession", g_variant_new("(s)", SERVER_ID), "(uu)", &error);
		g_autofree gchar *name = NULL;
		if (reply != NULL)
			return;
		name = g_dbus_error_get_remote_error(error);
		if (g_strcmp0(name, "org.gwmo.Gateway1.Error.InProgress") != 0 ||
		    g_get_monotonic_time() >= deadline)
			g_assert_no_error(error);
		g_usleep(100 * 1000);
	}
}

const gchar *
proof_item_data(JsonObject *result, guint i)
{
	JsonArray *items = json_object_get_array_member(result, "items");
	g_assert_nonnull(items);
	g_assert_cmpuint(json_array_get_length(items), >, i);
	return json_object_get_string_member(json_array_get_object_element(items, i), "data");
}

JsonObject *
proof_session_of(JsonArray *sessions, const gchar *peer, guint nth)
{
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		if (g_strcmp0(json_object_get_string_member_with_default(s, "peer", ""), peer) != 0)
			continue;
		if (nth-- == 0)
			return s;
	}
	return NULL;
}

guint
proof_count_alerts(JsonArray *sessions, const gchar *type, const gchar *device_id)
{
	g_autofree gchar *needle = g_strdup_printf("<DeviceID>%s</DeviceID>", device_id);
	guint n = 0;

	for (guint s = 0; s < json_array_get_length(sessions); s++) {
		JsonArray *alerts = json_object_get_array_member(
		    json_array_get_object_element(sessions, s), "generic_alerts");
		for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
			JsonObject *a = json_array_get_object_element(alerts, i);
			const gchar *data =
			    json_object_get_string_member_with_default(a, "data", "");
			if (g_strcmp0(json_object_get_string_member(a, "type"), type) == 0 &&
			    data != NULL && strstr(data, needle) != NULL)
				n++;
		}
	}
	return n;
}

void
proof_dump(const gchar *path)
{
	g_autofree gchar *text = NULL;
	if (g_file_get_contents(path, &text, NULL, NULL))
		g_printerr("%s:\n%s\n", path, text);
}

guint
proof_http_get(const gchar *url, const gchar *ca_file, const gchar *authorization, gchar **sha256)
{
	g_autoptr(SoupSession) session =
	    soup_session_new_with_options("proxy-resolver", NULL, "timeout", 30, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(msg);
	if (ca_file != NULL) {
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca_file, &error);
		g_assert_no_error(error);
		soup_session_set_tls_database(session, db);
	}
	if (authorization != NULL)
		soup_message_headers_replace(
		    soup_message_get_request_headers(msg), "Authorization", authorization);
	body = soup_session_send_and_read(session, msg, NULL, &error);
	if (body == NULL) {
		g_test_message("GET %s: %s", url, error->message);
		return 0;
	}
	if (sha256 != NULL)
		*sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, body);
	return soup_message_get_status(msg);
}

const gchar *
proof_fanout_document(JsonObject *session, const gchar *correlator)
{
	JsonArray *alerts = json_object_get_array_member(session, "generic_alerts");
	for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
		JsonObject *a = json_array_get_object_element(alerts, i);
		if (g_strcmp0(json_object_get_string_member(a, "type"),
		              "urn:oma:at:gwmo:1.0:FanoutComplete") == 0 &&
		    g_strcmp0(json_object_get_string_member(a, "correlator"), correlator) == 0)
			return json_object_get_string_member(a, "data");
	}
	g_printerr("no FanoutComplete %s in the session\n", correlator);
	g_assert_not_reached();
	return NULL;
}

gboolean
proof_doc_device_status(const gchar *doc, const gchar *id, guint status)
{
	g_autofree gchar *el = g_strdup_printf("<Device id=\"%s\" status=\"%u\"", id, status);
	if (strstr(doc, el) != NULL)
		return TRUE;
	g_test_message("%s not in %s", el, doc);
	return FALSE;
}
