/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, the Device Inventory and Transparent mode through the tree: real gwmod processes
 * (each on its own private bus, state dir and ports) with reference DM Servers (HTTPS, MD5)
 * north and reference End Devices south (HTTP on 127.0.0.1). Each test names its GwMO labels:
 *  - edtrigger: the EDTrigger MO, flow Z' (GwMO-TMode-001);
 *  - lease: attach, detach by lease, re-attach; one server asked for alerts, one did not
 *    (GwMO-DI-003/004/005);
 *  - nomadic: a device moves between two gateways (GwMO-HLF-002, B.4);
 *  - acl-isolation: two servers, a group and a device of one, the owner's grant
 *    (GwMO-SECARIZE-001, GwMO-Group-001), one device's record and the Summary (DI-001/002);
 *  - crash: SIGKILL with undelivered alerts, each delivered once after the restart;
 *  - crash-in-flight: SIGKILL while eight registrations run;
 *  - alert-retry: the server was down when the device registered.
 * Registration kinds: AddDevice then the device's first session (lease, crash: a provisioned
 * device is Detached until that session), the DeviceRegistration alert (edtrigger,
 * acl-isolation, crash), the implicit Proxy session (nomadic at gateway B, crash).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "gw-e2e.h"
#include "gw-pkg0.h"

/* a second DM Server of the same gateway */
#define SERVER_B_ID "srv2.example"
#define SRV_B_SECRET "srv-secret-2"
#define CL_B_NAME "gateway-1-b"
#define CL_B_SECRET "client-secret-2"

typedef struct {
	const gchar *node;
	const gchar *server_id;
	const gchar *srv_secret;
	const gchar *client_name;
	const gchar *client_secret;
	guint16 port;
} Account;

typedef struct {
	gchar *dir;
	gchar *cert;
	gchar *key;
} World;

typedef struct {
	GwTestDaemon *d;
	guint16 south_port;
	gchar *dev_id;
} Gateway;

typedef struct {
	GSubprocess *proc;
	gchar *record;
	gchar *dm_url;
} RefServer;

/* ---- set-up ---- */

static World *
world_new(void)
{
	World *w = g_new0(World, 1);

	w->dir = e2e_make_dir_with_cert("gwmo-e2e-inv-XXXXXX", &w->cert, &w->key);
	return w;
}

static void
world_free(World *w)
{
	e2e_rm_rf(w->dir);
	g_free(w->dir);
	g_free(w->cert);
	g_free(w->key);
	g_free(w);
}

/* the gateway's DMAcc entries, one per account (CLCRED and SRVCRED DIGEST) */
static gchar *
accounts_tnds(const Account *accounts, guint n)
{
	GString *s = g_string_new("<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>");
	for (guint i = 0; i < n; i++) {
		const Account *a = &accounts[i];
		g_string_append_printf(
		    s,
		    "<Node><NodeName>%s</NodeName><Path>./DMAcc</Path>"
		    "<RTProperties><ACL>Get=%s&amp;Replace=%s</ACL><Format><node/></Format></"
		    "RTProperties>"
		    "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"
		    "<Node><NodeName>ServerID</NodeName><Value>%s</Value></Node>"
		    "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
		    "<Node><NodeName>Addr</NodeName><Value>https://127.0.0.1:%u/dm</Value></Node>"
		    "<Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
		    "<Node><NodeName>AppAuth</NodeName>"
		    "<Node><NodeName>1</NodeName>"
		    "<Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
		    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
		    "<Node><NodeName>AAuthName</NodeName><Value>%s</Value></Node>"
		    "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format></"
		    "RTProperties>"
		    "<DFProperties><AccessType><Replace/></AccessType></DFProperties><Value>%s</"
		    "Value></Node>"
		    "</Node>"
		    "<Node><NodeName>2</NodeName>"
		    "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"
		    "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
		    "<Node><NodeName>AAuthName</NodeName><Value>%s</Value></Node>"
		    "<Node><NodeName>AAuthSecret</NodeName><RTProperties><Format><chr/></Format></"
		    "RTProperties>"
		    "<DFProperties><AccessType><Replace/></AccessType></DFProperties><Value>%s</"
		    "Value></Node>"
		    "</Node></Node></Node>",
		    a->node,
		    a->server_id,
		    a->server_id,
		    a->server_id,
		    a->port,
		    a->client_name,
		    a->client_secret,
		    a->server_id,
		    a->srv_secret);
	}
	g_string_append(s, "</MgmtTree>");
	return g_string_free(s, FALSE);
}

/* a gwmod with its own bus, state dir and ports, bootstrapped to @accounts */
static Gateway *
gateway_new(World *w,
            const gchar *dev_id,
            const Account *accounts,
            guint n,
            gboolean open_registration,
            const gchar *extra)
{
	Gateway *g = g_new0(Gateway, 1);
	g_autofree gchar *conf = NULL;
	g_autofree gchar *tnds = accounts_tnds(accounts, n);
	g_autofree gchar *name = g_strdup_printf("%s-bootstrap.xml", dev_id);
	g_autofree gchar *tnds_path = g_build_filename(w->dir, name, NULL);
	const gchar *args[3] = {"--bootstrap", NULL, NULL};

	g->dev_id = g_strdup(dev_id);
	g->south_port = free_port();
	conf = g_strdup_printf(
	    "[southbound]\nlisten=http://127.0.0.1:%u\nopen-registration=%s\n"
	    "[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\ntimeout=20\n%s",
	    g->south_port,
	    open_registration ? "true" : "false",
	    w->cert,
	    extra != NULL ? extra : "");
	g->d = gw_test_daemon_new_with_dev_id(dev_id, conf);
	g_assert_true(g_file_set_contents(tnds_path, tnds, -1, NULL));
	args[1] = tnds_path;
	gw_test_daemon_start(g->d, args);
	return g;
}

static void
gateway_free(Gateway *g)
{
	gw_test_daemon_free(g->d);
	g_free(g->dev_id);
	g_free(g);
}

/* a reference DM Server for @a; @client_name NULL accepts any name with the secret; runs until
 * ref_server_stop() unless "--sessions=N" is among the NULL-terminated extra args */
static RefServer *
ref_server_start(World *w, const Account *a, gboolean any_client_name, const gchar *script, ...)
{
	RefServer *rs = g_new0(RefServer, 1);
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ready = g_strdup_printf("%s/%s.ready", w->dir, a->server_id);
	g_autofree gchar *script_path = g_strdup_printf("%s/%s.script.json", w->dir, a->server_id);
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", w->dir, a->server_id);
	const gchar *arg;
	va_list ap;

	rs->record = g_strdup_printf("%s/%s.record.json", w->dir, a->server_id);
	rs->dm_url = g_strdup_printf("https://127.0.0.1:%u/dm", a->port);
	g_remove(ready);
	g_remove(rs->record);
	g_assert_true(g_file_set_contents(script_path, script, -1, NULL));
	g_ptr_array_add(argv, g_strdup(server_binary));
	g_ptr_array_add(argv, g_strdup_printf("--listen=https://127.0.0.1:%u", a->port));
	g_ptr_array_add(argv, g_strdup_printf("--cert=%s", w->cert));
	g_ptr_array_add(argv, g_strdup_printf("--key=%s", w->key));
	g_ptr_array_add(argv, g_strdup_printf("--server-id=%s", a->server_id));
	g_ptr_array_add(argv, g_strdup_printf("--server-name=%s", a->server_id));
	g_ptr_array_add(argv, g_strdup_printf("--server-secret=%s", a->srv_secret));
	if (!any_client_name)
		g_ptr_array_add(argv, g_strdup_printf("--client-name=%s", a->client_name));
	g_ptr_array_add(argv, g_strdup_printf("--client-secret=%s", a->client_secret));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	g_ptr_array_add(argv, g_strdup_printf("--script=%s", script_path));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", rs->record));
	g_ptr_array_add(argv, g_strdup_printf("--ready-file=%s", ready));
	va_start(ap, script);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);

	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	rs->proc =
	    g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 400 && !g_file_test(ready, G_FILE_TEST_EXISTS); i++) {
		if (g_subprocess_get_identifier(rs->proc) == NULL)
			break;
		g_usleep(50 * 1000);
	}
	if (!g_file_test(ready, G_FILE_TEST_EXISTS)) {
		g_autofree gchar *text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		g_printerr("reference server did not start:\n%s\n", text);
		g_assert_not_reached();
	}
	return rs;
}

/* SIGTERM; the server writes its record on the way out */
static void
ref_server_stop(RefServer *rs)
{
	if (g_subprocess_get_identifier(rs->proc) != NULL) {
		g_subprocess_send_signal(rs->proc, SIGTERM);
		g_subprocess_wait(rs->proc, NULL, NULL);
	}
}

static void
ref_server_free(RefServer *rs)
{
	ref_server_stop(rs);
	g_object_unref(rs->proc);
	g_free(rs->record);
	g_free(rs->dm_url);
	g_free(rs);
}

/* the reference device against @g's southbound listener; NULL-terminated extra args */
static GSubprocess *
device_spawn(World *w, Gateway *g, const gchar *log_name, ...)
{
	g_autofree gchar *server =
	    g_strdup_printf("--server=http://127.0.0.1:%u/dm", g->south_port);
	const gchar *prefix[] = {server, NULL};
	GSubprocess *proc;
	va_list ap;

	va_start(ap, log_name);
	proc = e2e_device_spawn_valist(w->dir, log_name, prefix, ap);
	va_end(ap);
	return proc;
}

static gint
device_wait(GSubprocess *proc)
{
	return e2e_device_wait(proc, 60);
}

/* device @id (provisioned with @secret) opens its DM session with @g: a provisioned device is
 * Detached until then, and its DeviceAttached goes out with its address then (issue 11 §5) */
static void
connect_device(World *w, Gateway *g, const gchar *id, const gchar *secret)
{
	g_autofree gchar *log = g_strdup_printf("%s-connect.log", id);
	g_autofree gchar *id_arg = g_strdup_printf("--dev-id=%s", id);
	g_autofree gchar *secret_arg = g_strdup_printf("--client-secret=%s", secret);
	g_autofree gchar *server_arg = g_strdup_printf("--server-id=%s", g->dev_id);
	g_autoptr(GSubprocess) device = device_spawn(w,
	                                             g,
	                                             log,
	                                             id_arg,
	                                             "--auth=md5",
	                                             secret_arg,
	                                             server_arg,
	                                             "--notify-addr=udp://127.0.0.1:9",
	                                             NULL);
	g_assert_cmpint(device_wait(device), ==, 0);
}

/* ---- D-Bus ---- */

static gchar *
add_device(GwTestDaemon *d, const gchar *device_id, guint mode, const gchar *secret)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder b;
	gchar *path = NULL;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(device_id));
	g_variant_builder_add(&b, "{sv}", "Mode", g_variant_new_uint32(mode));
	g_variant_builder_add(&b, "{sv}", "AuthType", g_variant_new_string("DIGEST"));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(device_id));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(secret));
	reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &path);
	return path;
}

static void
set_node(GwTestDaemon *d, const gchar *uri, const gchar *format, GVariant *value)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(d, "SetNode", g_variant_new("(ssv)", uri, format, value), "()", &error);
	g_assert_no_error(error);
}

/* waits (30 s at most) until the record of DeviceID @device_id exists with @field = @value */
static gchar *
wait_record(GwTestDaemon *d, const gchar *device_id, const gchar *field, const gchar *value)
{
	for (guint i = 0; i < 600; i++) {
		g_auto(GStrv) names = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r =
		    gw_test_call(d,
		                 "ListChildren",
		                 g_variant_new("(s)", "./GwMO/Inventory/Devices"),
		                 "(as)",
		                 &error);
		if (r != NULL)
			g_variant_get(r, "(^as)", &names);
		for (guint j = 0; names != NULL && names[j] != NULL; j++) {
			g_autofree gchar *rec =
			    g_strdup_printf("./GwMO/Inventory/Devices/%s", names[j]);
			g_autofree gchar *id_uri = g_strdup_printf("%s/DeviceID", rec);
			g_autofree gchar *f_uri = g_strdup_printf("%s/%s", rec, field);
			g_autofree gchar *id = get_value(d, id_uri, NULL);
			g_autofree gchar *v = NULL;
			if (g_strcmp0(id, device_id) != 0)
				continue;
			v = get_value(d, f_uri, NULL);
			if (value == NULL || g_strcmp0(v, value) == 0)
				return g_steal_pointer(&rec);
		}
		g_usleep(50 * 1000);
	}
	g_printerr("device %s never had %s = %s\n", device_id, field, value);
	g_assert_not_reached();
	return NULL;
}

/* ---- the server's record ---- */

typedef struct {
	gchar *type;
	gchar *peer; /* the gateway's DevId */
	gchar *data;
	guint session;
} SeenAlert;

static void
seen_alert_free(gpointer p)
{
	SeenAlert *a = p;
	g_free(a->type);
	g_free(a->peer);
	g_free(a->data);
	g_free(a);
}

/* (element-type SeenAlert) the Generic Alerts of every session, in order; NULL when the record
 * is not (yet) readable */
static GPtrArray *
seen_alerts(const gchar *record)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	GPtrArray *out;
	JsonArray *sessions;
	JsonNode *root;

	if (!json_parser_load_from_file(parser, record, NULL))
		return NULL;
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
		return NULL;
	sessions = json_object_get_array_member(json_node_get_object(root), "sessions");
	out = g_ptr_array_new_with_free_func(seen_alert_free);
	for (guint i = 0; sessions != NULL && i < json_array_get_length(sessions); i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		JsonArray *alerts = json_object_get_array_member(s, "generic_alerts");
		for (guint j = 0; alerts != NULL && j < json_array_get_length(alerts); j++) {
			JsonObject *o = json_array_get_object_element(alerts, j);
			SeenAlert *a = g_new0(SeenAlert, 1);
			a->type =
			    g_strdup(json_object_get_string_member_with_default(o, "type", ""));
			a->data =
			    g_strdup(json_object_get_string_member_with_default(o, "data", ""));
			a->peer =
			    g_strdup(json_object_get_string_member_with_default(s, "peer", ""));
			a->session = i;
			g_ptr_array_add(out, a);
		}
	}
	return out;
}

/* waits (30 s at most) until the record holds @n Generic Alerts */
static GPtrArray *
wait_alerts(const gchar *record, guint n)
{
	for (guint i = 0; i < 600; i++) {
		GPtrArray *seen = seen_alerts(record);
		if (seen != NULL && seen->len >= n)
			return seen;
		if (seen != NULL)
			g_ptr_array_unref(seen);
		g_usleep(50 * 1000);
	}
	g_printerr("the server's record %s never held %u alerts\n", record, n);
	g_assert_not_reached();
	return NULL;
}

static gboolean
doc_has(const gchar *doc, const gchar *element, const gchar *value)
{
	g_autofree gchar *needle = g_strdup_printf("<%s>%s</%s>", element, value, element);
	return strstr(doc, needle) != NULL;
}

#define ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"
#define DETACHED "urn:oma:at:gwmo:1.0:DeviceDetached"

/* the one session of @record with @peer as Source whose index is @nth among those (0-based) */
static JsonObject *
session_of(JsonArray *sessions, const gchar *peer, guint nth)
{
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		if (g_strcmp0(json_object_get_string_member_with_default(s, "peer", ""), peer) != 0)
			continue;
		if (nth-- == 0)
			return s;
	}
	g_printerr("no session %u of %s\n", nth, peer);
	g_assert_not_reached();
	return NULL;
}

static const gchar *
item_data(JsonObject *result, guint i)
{
	JsonArray *items = json_object_get_array_member(result, "items");
	g_assert_nonnull(items);
	g_assert_cmpuint(json_array_get_length(items), >, i);
	return json_object_get_string_member(json_array_get_object_element(items, i), "data");
}

/* ---- tests ---- */

static void
ref_server_wait(RefServer *rs)
{
	server_wait(rs->proc);
}

static gchar *
b64_of(GBytes *bytes)
{
	gsize len = 0;
	const guchar *data = g_bytes_get_data(bytes, &len);
	return g_base64_encode(data, len);
}

/*
 * GwMO-TMode-001 (flow Z' through the EDTrigger MO): the DM Server writes an entry and Execs
 * Trigger; a forged Package #0 gives Status 401 and reaches nobody; the genuine one reaches the
 * Transparent device, which opens its session with the DM Server directly. An unknown device
 * gives 404, a device without NotifyAddr 410; the entry carries its creator's ACL
 * (GwMO-SECARIZE-001).
 */
static void
test_edtrigger(void)
{
	World *w = world_new();
	Account a = {"srv1", SERVER_ID, SRV_SECRET, CL_NAME, CL_SECRET, free_port()};
	Gateway *g = gateway_new(w, "GW-TEST-0001", &a, 1, FALSE, NULL);
	g_autoptr(GBytes) good = make_pkg0(SERVER_ID, SRV_SECRET, 0x7E57);
	g_autoptr(GBytes) forged = make_pkg0(SERVER_ID, "not-the-secret", 0x0BAD);
	g_autofree gchar *good64 = b64_of(good);
	g_autofree gchar *forged64 = b64_of(forged);
	g_autofree gchar *ready = g_build_filename(w->dir, "device-ready", NULL);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *dev_record = g_build_filename(w->dir, "device3.json", NULL);
	g_autofree gchar *dev_record_arg = g_strdup_printf("--record=%s", dev_record);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", w->cert);
	g_autofree gchar *script = NULL;
	g_autofree gchar *notified_arg = NULL;
	g_autofree gchar *path3 = NULL;
	g_autofree gchar *path4 = NULL;
	g_autofree gchar *rec = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) dparser = NULL;
	JsonArray *sessions;
	JsonArray *dsessions;
	JsonObject *s;
	RefServer *rs;
	const gchar *acl;

	script = g_strdup_printf(
	    "{\"sessions\":["
	    /* 1: a forged notification, an unknown device, a device without NotifyAddr */
	    "{\"commands\":["
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/EDTrigger/t1\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/EDTrigger/t1/DeviceID\",\"data\":\"dev-3\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/EDTrigger/t1/"
	    "Notification\",\"format\":\"b64\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/EDTrigger/t1/Operations/Trigger\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/EDTrigger/t1/Status\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/EDTrigger/t1?prop=ACL\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/EDTrigger/t2/"
	    "DeviceID\",\"data\":\"no-such-device\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/EDTrigger/t2/"
	    "Notification\",\"format\":\"b64\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/EDTrigger/t2/Operations/Trigger\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/EDTrigger/t2/Status\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/EDTrigger/t3\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/EDTrigger/t3/DeviceID\",\"data\":\"dev-4\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/EDTrigger/t3/"
	    "Notification\",\"format\":\"b64\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/EDTrigger/t3/Operations/Trigger\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/EDTrigger/t3/Status\"}]},"
	    /* 2: the genuine notification */
	    "{\"commands\":["
	    "{\"cmd\":\"Replace\",\"uri\":\"./GwMO/EDTrigger/t1/"
	    "Notification\",\"format\":\"b64\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/EDTrigger/t1/Operations/Trigger\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/EDTrigger/t1/Status\"}]},"
	    /* 3: the device's own session */
	    "{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./DevInfo/DevId\"}]}]}",
	    forged64,
	    good64,
	    good64,
	    good64);
	/* the device's DM account at the server has its own name and the account's secret */
	rs = ref_server_start(w, &a, TRUE, script, "--sessions=3", NULL);
	notified_arg = g_strdup_printf("--notified-server=%s", rs->dm_url);
	/* no inventory alerts here: the server's sessions are the ones the test starts */
	set_node(g->d,
	         "./GwMO/Config/Servers/srv1/InventoryAlert",
	         "bool",
	         g_variant_new_boolean(FALSE));
	path3 = add_device(g->d, "dev-3", 1, CL_SECRET);
	path4 = add_device(g->d, "dev-4", 1, "dev-4-secret");
	/* a Transparent device that does not check digests itself: whatever the gateway forwarded
	 * would open a session */
	device = device_spawn(w,
	                      g,
	                      "device3.log",
	                      "--dev-id=dev-3",
	                      "--auth=md5",
	                      "--client-secret=" CL_SECRET,
	                      "--server-name=" SERVER_ID,
	                      "--server-id=" SERVER_ID,
	                      "--listen-notify=http://127.0.0.1:0",
	                      ready_arg,
	                      "--register",
	                      "--mode=1",
	                      "--server-ids=" SERVER_ID,
	                      "--count=1",
	                      dev_record_arg,
	                      notified_arg,
	                      ca_arg,
	                      NULL);
	rec = wait_record(g->d, "dev-3", "Mode", "1");
	{
		g_autofree gchar *na_uri = g_strdup_printf("%s/NotifyAddr", rec);
		for (guint i = 0; i < 400; i++) {
			g_autofree gchar *v = get_value(g->d, na_uri, NULL);
			if (v != NULL && g_str_has_prefix(v, "http://127.0.0.1:"))
				break;
			g_usleep(50 * 1000);
		}
	}

	e2e_start_session_with(g->d, SERVER_ID);
	/* nothing was forwarded: the device is still waiting, with its registration session only */
	g_usleep(500 * 1000);
	g_assert_nonnull(g_subprocess_get_identifier(device));
	e2e_start_session_with(g->d, SERVER_ID);
	g_assert_cmpint(device_wait(device), ==, 0);
	ref_server_wait(rs);

	sessions = record_sessions(rs->record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
	s = session_of(sessions, "GW-TEST-0001", 0);
	g_assert_cmpint(status_of(s, "Add", "./GwMO/EDTrigger/t1"), ==, 200);
	g_assert_cmpint(status_of(s, "Add", "./GwMO/EDTrigger/t1/Notification"), ==, 200);
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/EDTrigger/t1/Operations/Trigger"), ==, 401);
	g_assert_cmpstr(
	    item_data(result_for(s, "Get", "./GwMO/EDTrigger/t1/Status"), 0), ==, "401");
	acl = item_data(result_for(s, "Get", "./GwMO/EDTrigger/t1?prop=ACL"), 0);
	g_assert_cmpstr(acl,
	                ==,
	                "Add=" SERVER_ID "&Delete=" SERVER_ID "&Exec=" SERVER_ID "&Get=" SERVER_ID
	                "&Replace=" SERVER_ID);
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/EDTrigger/t2/Operations/Trigger"), ==, 404);
	g_assert_cmpstr(
	    item_data(result_for(s, "Get", "./GwMO/EDTrigger/t2/Status"), 0), ==, "404");
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/EDTrigger/t3/Operations/Trigger"), ==, 410);
	g_assert_cmpstr(
	    item_data(result_for(s, "Get", "./GwMO/EDTrigger/t3/Status"), 0), ==, "410");

	s = session_of(sessions, "GW-TEST-0001", 1);
	g_assert_cmpint(status_of(s, "Replace", "./GwMO/EDTrigger/t1/Notification"), ==, 200);
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/EDTrigger/t1/Operations/Trigger"), ==, 200);
	g_assert_cmpstr(
	    item_data(result_for(s, "Get", "./GwMO/EDTrigger/t1/Status"), 0), ==, "200");

	/* Z'.3: the device opened the notified session with the DM Server itself */
	s = session_of(sessions, "dev-3", 0);
	g_assert_cmpint(json_object_get_int_member(s, "alert"), ==, 1200);
	g_assert_cmpstr(json_object_get_string_member(s, "session_id"), ==, "7E57");
	g_assert_cmpstr(json_object_get_string_member(s, "state"), ==, "finished");
	g_assert_cmpstr(item_data(result_for(s, "Get", "./DevInfo/DevId"), 0), ==, "dev-3");

	/* the device saw exactly one notification, the genuine one (a forwarded forged one would
	 * have opened a session 0BAD first) */
	dsessions = record_sessions(dev_record, &dparser);
	g_assert_cmpuint(json_array_get_length(dsessions), ==, 2);
	s = json_array_get_object_element(dsessions, 1);
	g_assert_cmpint(json_object_get_int_member(s, "alert"), ==, 1200);
	g_assert_cmpstr(json_object_get_string_member(s, "session_id"), ==, "7E57");
	g_assert_true(gw_test_daemon_is_running(g->d));

	gw_test_daemon_stop(g->d);
	ref_server_free(rs);
	gateway_free(g);
	world_free(w);
}

static SeenAlert *
alert_at(GPtrArray *seen, guint i)
{
	g_assert_cmpuint(seen->len, >, i);
	return g_ptr_array_index(seen, i);
}

static guint
count_alerts(GPtrArray *seen, const gchar *type, const gchar *device_id)
{
	guint n = 0;
	for (guint i = 0; i < seen->len; i++) {
		SeenAlert *a = g_ptr_array_index(seen, i);
		if (g_strcmp0(a->type, type) == 0 && doc_has(a->data, "DeviceID", device_id))
			n++;
	}
	return n;
}

/*
 * GwMO-DI-003 (a real device going silent is detached by its lease and comes back),
 * GwMO-DI-004 (each change reaches the server with the <GwMODevice> document, in sessions the
 * gateway opens), GwMO-DI-005 (a second server with InventoryAlert off hears nothing).
 * Registration kinds: AddDevice (B.6) provisions, the device's first session attaches it, its
 * own Proxy session re-attaches it.
 */
static void
test_lease(void)
{
	World *w = world_new();
	Account acc[2] = {{"srv1", SERVER_ID, SRV_SECRET, CL_NAME, CL_SECRET, free_port()},
	                  {"srv2", SERVER_B_ID, SRV_B_SECRET, CL_B_NAME, CL_B_SECRET, free_port()}};
	Gateway *g = gateway_new(w, "GW-TEST-0001", acc, 2, FALSE, "[inventory]\ndetach-after=2\n");
	RefServer *ra = ref_server_start(w, &acc[0], FALSE, "{\"sessions\":[]}", NULL);
	RefServer *rb = ref_server_start(w, &acc[1], FALSE, "{\"sessions\":[]}", NULL);
	g_autoptr(GPtrArray) seen = NULL;
	g_autoptr(GPtrArray) seen_b = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *rec = NULL;

	set_node(g->d,
	         "./GwMO/Config/Servers/srv2/InventoryAlert",
	         "bool",
	         g_variant_new_boolean(FALSE));
	path = add_device(g->d, "dev-L", 2, "dev-L-secret");
	connect_device(w, g, "dev-L", "dev-L-secret");
	seen = wait_alerts(ra->record, 1);
	/* the device says nothing for longer than detach-after */
	rec = wait_record(g->d, "dev-L", "Status", "Detached");
	g_clear_pointer(&seen, g_ptr_array_unref);
	seen = wait_alerts(ra->record, 2);
	/* and comes back with a session of its own */
	device = device_spawn(w,
	                      g,
	                      "deviceL.log",
	                      "--dev-id=dev-L",
	                      "--auth=md5",
	                      "--client-secret=dev-L-secret",
	                      "--server-id=GW-TEST-0001",
	                      "--notify-addr=udp://127.0.0.1:9",
	                      NULL);
	g_assert_cmpint(device_wait(device), ==, 0);
	g_clear_pointer(&seen, g_ptr_array_unref);
	seen = wait_alerts(ra->record, 3);
	ref_server_stop(ra);
	ref_server_stop(rb);
	g_clear_pointer(&seen, g_ptr_array_unref);
	seen = seen_alerts(ra->record);
	g_assert_nonnull(seen);

	g_assert_cmpstr(alert_at(seen, 0)->type, ==, ATTACHED);
	g_assert_cmpstr(alert_at(seen, 1)->type, ==, DETACHED);
	g_assert_cmpstr(alert_at(seen, 2)->type, ==, ATTACHED);
	for (guint i = 0; i < 3; i++) {
		SeenAlert *a = alert_at(seen, i);
		g_assert_true(doc_has(a->data, "GatewayID", "GW-TEST-0001"));
		g_assert_true(doc_has(a->data, "DeviceID", "dev-L"));
		g_assert_true(doc_has(a->data, "InventoryURI", rec));
		g_assert_true(doc_has(a->data, "Status", i == 1 ? "Detached" : "Attached"));
		/* attached by its own sessions, from where they came */
		if (i != 1)
			g_assert_true(doc_has(a->data, "DeviceAddress", "127.0.0.1"));
		/* each change in a session of its own, in order */
		if (i > 0)
			g_assert_cmpuint(a->session, >, alert_at(seen, i - 1)->session);
	}
	/* the lease may run out once more before the server stopped: only detaches follow */
	for (guint i = 3; i < seen->len; i++)
		g_assert_cmpstr(alert_at(seen, i)->type, ==, DETACHED);
	/* GwMO-DI-005: the server that said no heard nothing */
	seen_b = seen_alerts(rb->record);
	g_assert_nonnull(seen_b);
	g_assert_cmpuint(seen_b->len, ==, 0);

	gw_test_daemon_stop(g->d);
	ref_server_free(ra);
	ref_server_free(rb);
	gateway_free(g);
	world_free(w);
}

/* the northbound URI of a gateway, as its <GwMODevice> documents give it */
static gchar *
gateway_address(GwTestDaemon *d)
{
	g_autofree gchar *url = notify_url(d);
	g_assert_true(g_str_has_suffix(url, "notify"));
	url[strlen(url) - strlen("notify")] = '\0';
	return g_steal_pointer(&url);
}

/*
 * GwMO-HLF-002 (use case B.4, a nomadic device): two gateways (two gwmod processes, each on its
 * own bus, state and ports) bootstrapped to the same DM Server. A device registered at gateway A
 * moves to gateway B and registers there with the same DeviceID (implicitly: B has open
 * registration); B sends DeviceAttached with its GatewayID and address, A detaches it when its
 * lease runs out and says so; the server learns the new route from the documents.
 */
static void
test_nomadic(void)
{
	World *w = world_new();
	Account acc = {"srv1", SERVER_ID, SRV_SECRET, CL_NAME, CL_SECRET, free_port()};
	Gateway *ga = gateway_new(
	    w, "GW-A", &acc, 1, FALSE, "[inventory]\ndetach-after=3\nlease-check-interval=1\n");
	Gateway *gb = gateway_new(w, "GW-B", &acc, 1, TRUE, NULL);
	RefServer *rs = ref_server_start(w, &acc, FALSE, "{\"sessions\":[]}", NULL);
	g_autofree gchar *addr_a = gateway_address(ga->d);
	g_autofree gchar *addr_b = gateway_address(gb->d);
	g_autoptr(GPtrArray) seen = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *rec_a = NULL;
	g_autofree gchar *rec_b = NULL;
	g_autofree gchar *v = NULL;
	SeenAlert *at_a = NULL;
	SeenAlert *at_b = NULL;
	SeenAlert *gone_a = NULL;

	g_assert_cmpstr(addr_a, !=, addr_b);
	/* at home behind gateway A */
	path = add_device(ga->d, "dev-N", 2, "dev-N-secret");
	device = device_spawn(w,
	                      ga,
	                      "deviceN-a.log",
	                      "--dev-id=dev-N",
	                      "--auth=md5",
	                      "--client-secret=dev-N-secret",
	                      "--server-id=GW-A",
	                      "--notify-addr=udp://127.0.0.1:9",
	                      NULL);
	g_assert_cmpint(device_wait(device), ==, 0);
	g_clear_object(&device);
	seen = wait_alerts(rs->record, 1);
	/* it moves: gone from A, it opens its next session with B */
	device = device_spawn(w,
	                      gb,
	                      "deviceN-b.log",
	                      "--dev-id=dev-N",
	                      "--server-id=GW-B",
	                      "--notify-addr=udp://127.0.0.1:9",
	                      NULL);
	g_assert_cmpint(device_wait(device), ==, 0);
	rec_b = wait_record(gb->d, "dev-N", "Status", "Attached");
	rec_a = wait_record(ga->d, "dev-N", "Status", "Detached");
	g_clear_pointer(&seen, g_ptr_array_unref);
	seen = wait_alerts(rs->record, 3);
	ref_server_stop(rs);
	g_clear_pointer(&seen, g_ptr_array_unref);
	seen = seen_alerts(rs->record);

	for (guint i = 0; i < seen->len; i++) {
		SeenAlert *a = g_ptr_array_index(seen, i);
		g_assert_true(doc_has(a->data, "DeviceID", "dev-N"));
		/* the alert comes from the gateway it names */
		g_assert_true(doc_has(a->data, "GatewayID", a->peer));
		if (g_strcmp0(a->peer, "GW-A") == 0 && g_strcmp0(a->type, ATTACHED) == 0 &&
		    at_a == NULL)
			at_a = a;
		else if (g_strcmp0(a->peer, "GW-B") == 0 && g_strcmp0(a->type, ATTACHED) == 0)
			at_b = a;
		else if (g_strcmp0(a->peer, "GW-A") == 0 && g_strcmp0(a->type, DETACHED) == 0)
			gone_a = a;
	}
	g_assert_cmpuint(seen->len, ==, 3);
	g_assert_nonnull(at_a);
	g_assert_nonnull(at_b);
	g_assert_nonnull(gone_a);
	g_assert_true(at_a == alert_at(seen, 0));
	/* the new route: gateway B, its address, its record */
	g_assert_true(doc_has(at_a->data, "GatewayAddress", addr_a));
	/* sent when its session attached it, not when it was provisioned: with its address */
	g_assert_true(doc_has(at_a->data, "DeviceAddress", "127.0.0.1"));
	g_assert_true(doc_has(at_b->data, "GatewayAddress", addr_b));
	g_assert_true(doc_has(at_b->data, "Status", "Attached"));
	g_assert_true(doc_has(at_b->data, "InventoryURI", rec_b));
	g_assert_true(doc_has(at_b->data, "DeviceAddress", "127.0.0.1"));
	g_assert_true(doc_has(gone_a->data, "Status", "Detached"));
	g_assert_true(doc_has(gone_a->data, "InventoryURI", rec_a));
	/* B learnt it without credentials: an open registration is not trusted */
	{
		g_autofree gchar *t_uri = g_strdup_printf("%s/Trusted", rec_b);
		v = get_value(gb->d, t_uri, NULL);
		g_assert_cmpstr(v, ==, "false");
	}

	gw_test_daemon_stop(ga->d);
	gw_test_daemon_stop(gb->d);
	ref_server_free(rs);
	gateway_free(ga);
	gateway_free(gb);
	world_free(w);
}

/*
 * GwMO-SECARIZE-001 and GwMO-Group-001: server A registers a group (DM Add with members) and
 * owns a device (registered with ServerIDs = A); server B's Get on them is refused with 425
 * until the gateway's owner grants B over D-Bus (gwmoctl set …?prop=ACL for the group,
 * SetNode of the ACL property for the device); then B reads them, also after the device
 * registered again. GwMO-DI-001 and GwMO-DI-002: server A queries its device by the record of its
 * DeviceID and reads the Summary. Registration kind: the explicit DeviceRegistration alert (open
 * registration, no AddDevice), which alerts A (who may see the device) and not B.
 */
static void
test_acl_isolation(void)
{
	World *w = world_new();
	Account acc[2] = {{"srv1", SERVER_ID, SRV_SECRET, CL_NAME, CL_SECRET, free_port()},
	                  {"srv2", SERVER_B_ID, SRV_B_SECRET, CL_B_NAME, CL_B_SECRET, free_port()}};
	Gateway *g = gateway_new(w, "GW-TEST-0001", acc, 2, TRUE, NULL);
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(GPtrArray) seen = NULL;
	g_autoptr(GPtrArray) seen_b = NULL;
	g_autoptr(JsonParser) pa = NULL;
	g_autoptr(JsonParser) pb = NULL;
	g_autofree gchar *script_a = NULL;
	g_autofree gchar *script_b = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *acl_uri = NULL;
	g_autofree gchar *v = NULL;
	RefServer *ra;
	RefServer *rb;
	JsonArray *sessions;
	JsonObject *s;
	JsonObject *r;

	/* the device registers itself for server A */
	device = device_spawn(w,
	                      g,
	                      "deviceA1.log",
	                      "--dev-id=dev-A1",
	                      "--server-id=GW-TEST-0001",
	                      "--register",
	                      "--mode=1",
	                      "--server-ids=" SERVER_ID,
	                      "--notify-addr=udp://127.0.0.1:9",
	                      NULL);
	g_assert_cmpint(device_wait(device), ==, 0);
	rec = wait_record(g->d, "dev-A1", "Status", "Attached");
	script_a = g_strdup_printf(
	    "{\"sessions\":[{\"commands\":["
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Inventory/Groups/g1\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Inventory/Groups/g1/GroupID\",\"data\":\"lights\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Inventory/Groups/g1/"
	    "Description\",\"data\":\"hall\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Inventory/Groups/g1/Members/"
	    "1\",\"data\":\"dev-A1\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Groups/g1/Members/1\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"%s?list=StructData\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Summary/Total\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Summary/Attached\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Summary/Transparent\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Summary/Proxy\"}]}]}",
	    rec);
	script_b =
	    g_strdup_printf("{\"sessions\":[{\"commands\":["
	                    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Inventory/Groups/g1/GroupID\"},"
	                    "{\"cmd\":\"Get\",\"uri\":\"%s/DeviceID\"}]}]}",
	                    rec);
	ra = ref_server_start(w, &acc[0], FALSE, script_a, NULL);
	rb = ref_server_start(w, &acc[1], FALSE, script_b, NULL);
	/* A's session: the one its DeviceAttached alert brings */
	e2e_start_session_with(g->d, SERVER_ID);
	e2e_start_session_with(g->d, SERVER_B_ID);
	/* the owner grants B */
	acl_uri = g_strdup_printf("%s?prop=ACL", rec);
	{
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;
		gint rc =
		    gw_test_run_gwmoctl(g->d,
		                        &out,
		                        &err,
		                        "set",
		                        "./GwMO/Inventory/Groups/g1?prop=ACL",
		                        "Add=" SERVER_ID "&Delete=" SERVER_ID "&Get=" SERVER_ID
		                        "+" SERVER_B_ID "&Replace=" SERVER_ID,
		                        NULL);
		if (rc != 0)
			g_printerr("gwmoctl: %s%s\n", out, err);
		g_assert_cmpint(rc, ==, 0);
	}
	set_node(g->d,
	         acl_uri,
	         "chr",
	         g_variant_new_string("Get=" SERVER_ID "+" SERVER_B_ID "&Replace=" SERVER_ID));
	e2e_start_session_with(g->d, SERVER_B_ID);
	/* the grant outlives the device's next registration */
	g_clear_object(&device);
	device = device_spawn(w,
	                      g,
	                      "deviceA1-again.log",
	                      "--dev-id=dev-A1",
	                      "--server-id=GW-TEST-0001",
	                      "--register",
	                      "--mode=1",
	                      "--server-ids=" SERVER_ID,
	                      "--notify-addr=udp://127.0.0.1:9",
	                      NULL);
	g_assert_cmpint(device_wait(device), ==, 0);
	e2e_start_session_with(g->d, SERVER_B_ID);
	ref_server_stop(ra);
	ref_server_stop(rb);

	/* A: its group and its device */
	sessions = record_sessions(ra->record, &pa);
	s = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s, "Add", "./GwMO/Inventory/Groups/g1"), ==, 200);
	g_assert_cmpint(status_of(s, "Add", "./GwMO/Inventory/Groups/g1/Members/1"), ==, 200);
	g_assert_cmpstr(item_data(result_for(s, "Get", "./GwMO/Inventory/Groups/g1/Members/1"), 0),
	                ==,
	                "dev-A1");
	/* GwMO-DI-001: one device's record, read by the DM Server */
	{
		g_autofree gchar *q = g_strdup_printf("%s?list=StructData", rec);
		g_autofree gchar *want_id = g_strdup_printf("%s/DeviceID", rec);
		g_autofree gchar *want_mode = g_strdup_printf("%s/Mode", rec);
		g_autofree gchar *want_status = g_strdup_printf("%s/Status", rec);
		g_autofree gchar *want_sid = g_strdup_printf("%s/ServerIDs/1", rec);
		g_autofree gchar *want_cred = g_strdup_printf("%s/Credentials/ClientSecret", rec);
		JsonArray *items;
		guint found = 0;
		r = result_for(s, "Get", q);
		g_assert_cmpint(json_object_get_int_member(r, "status"), ==, 200);
		items = json_object_get_array_member(r, "items");
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonObject *it = json_array_get_object_element(items, i);
			const gchar *src =
			    json_object_get_string_member_with_default(it, "uri", "");
			const gchar *data =
			    json_object_get_string_member_with_default(it, "data", NULL);
			if (g_strcmp0(src, want_id) == 0 && g_strcmp0(data, "dev-A1") == 0)
				found |= 1;
			else if (g_strcmp0(src, want_mode) == 0 && g_strcmp0(data, "1") == 0)
				found |= 2;
			else if (g_strcmp0(src, want_status) == 0 &&
			         g_strcmp0(data, "Attached") == 0)
				found |= 4;
			else if (g_strcmp0(src, want_sid) == 0 && g_strcmp0(data, SERVER_ID) == 0)
				found |= 8;
			/* secrets never leave the gateway */
			g_assert_false(g_strcmp0(src, want_cred) == 0 && data != NULL &&
			               data[0] != '\0');
		}
		g_assert_cmpuint(found, ==, 15);
	}
	/* GwMO-DI-002 */
	g_assert_cmpstr(
	    item_data(result_for(s, "Get", "./GwMO/Inventory/Summary/Total"), 0), ==, "1");
	g_assert_cmpstr(
	    item_data(result_for(s, "Get", "./GwMO/Inventory/Summary/Attached"), 0), ==, "1");
	g_assert_cmpstr(
	    item_data(result_for(s, "Get", "./GwMO/Inventory/Summary/Transparent"), 0), ==, "1");
	g_assert_cmpstr(
	    item_data(result_for(s, "Get", "./GwMO/Inventory/Summary/Proxy"), 0), ==, "0");
	/* the explicit registration alerted A (in that same session), not B */
	seen = seen_alerts(ra->record);
	g_assert_cmpuint(seen->len, ==, 1);
	g_assert_cmpstr(alert_at(seen, 0)->type, ==, ATTACHED);
	g_assert_true(doc_has(alert_at(seen, 0)->data, "DeviceID", "dev-A1"));
	g_assert_true(doc_has(alert_at(seen, 0)->data, "Mode", "1"));
	seen_b = seen_alerts(rb->record);
	g_assert_cmpuint(seen_b->len, ==, 0);

	/* B: refused, then granted */
	{
		g_autofree gchar *dev_uri = g_strdup_printf("%s/DeviceID", rec);
		sessions = record_sessions(rb->record, &pb);
		g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
		s = json_array_get_object_element(sessions, 0);
		g_assert_cmpint(status_of(s, "Get", "./GwMO/Inventory/Groups/g1/GroupID"), ==, 425);
		g_assert_cmpint(status_of(s, "Get", dev_uri), ==, 425);
		s = json_array_get_object_element(sessions, 1);
		g_assert_cmpint(status_of(s, "Get", "./GwMO/Inventory/Groups/g1/GroupID"), ==, 200);
		g_assert_cmpstr(
		    item_data(result_for(s, "Get", "./GwMO/Inventory/Groups/g1/GroupID"), 0),
		    ==,
		    "lights");
		g_assert_cmpint(status_of(s, "Get", dev_uri), ==, 200);
		g_assert_cmpstr(item_data(result_for(s, "Get", dev_uri), 0), ==, "dev-A1");
		s = json_array_get_object_element(sessions, 2);
		g_assert_cmpint(status_of(s, "Get", dev_uri), ==, 200);
		g_assert_cmpint(status_of(s, "Get", "./GwMO/Inventory/Groups/g1/GroupID"), ==, 200);
	}
	v = get_value(g->d, "./GwMO/Inventory/Devices/1/Grants", NULL);
	g_assert_cmpstr(v, ==, SERVER_B_ID);
	g_clear_pointer(&v, g_free);
	/* the group is known on D-Bus too, with its member */
	v = get_value(g->d, "./GwMO/Inventory/Groups/g1/GroupID", NULL);
	g_assert_cmpstr(v, ==, "lights");

	gw_test_daemon_stop(g->d);
	ref_server_free(ra);
	ref_server_free(rb);
	gateway_free(g);
	world_free(w);
}

/*
 * Durability (GwMO-DI-003/004 across a crash): gwmod is SIGKILLed right after registrations
 * whose alerts could not be delivered yet (the DM Server is down). After the restart every
 * registered device is there and every alert is delivered in the first session, each
 * DeviceAttached exactly once, and nothing is sent again in a later session. Registration
 * kinds: AddDevice and the device's first session, the explicit DeviceRegistration alert, the
 * implicit Proxy session.
 */
static void
test_crash(void)
{
	World *w = world_new();
	Account acc = {"srv1", SERVER_ID, SRV_SECRET, CL_NAME, CL_SECRET, free_port()};
	Gateway *g = gateway_new(w, "GW-TEST-0001", &acc, 1, TRUE, NULL);
	const gchar *ids[] = {"dev-K1", "dev-K2", "dev-K3", "dev-K4"};
	g_autoptr(GSubprocess) d3 = NULL;
	g_autoptr(GSubprocess) d4 = NULL;
	g_autoptr(GPtrArray) seen = NULL;
	g_autofree gchar *p1 = NULL;
	g_autofree gchar *p2 = NULL;
	RefServer *rs;

	/* the server is down: every alert stays queued */
	p1 = add_device(g->d, "dev-K1", 2, "k1-secret");
	p2 = add_device(g->d, "dev-K2", 2, "k2-secret");
	/* provisioned, then attached by their first sessions */
	connect_device(w, g, "dev-K1", "k1-secret");
	connect_device(w, g, "dev-K2", "k2-secret");
	d3 = device_spawn(w,
	                  g,
	                  "deviceK3.log",
	                  "--dev-id=dev-K3",
	                  "--server-id=GW-TEST-0001",
	                  "--register",
	                  "--mode=1",
	                  "--server-ids=" SERVER_ID,
	                  "--notify-addr=udp://127.0.0.1:9",
	                  NULL);
	d4 = device_spawn(w,
	                  g,
	                  "deviceK4.log",
	                  "--dev-id=dev-K4",
	                  "--server-id=GW-TEST-0001",
	                  "--notify-addr=udp://127.0.0.1:9",
	                  NULL);
	g_assert_cmpint(device_wait(d3), ==, 0);
	g_assert_cmpint(device_wait(d4), ==, 0);
	/* every registration was answered: kill the gateway now, mid-flight */
	gw_test_daemon_kill(g->d);

	rs = ref_server_start(w, &acc, FALSE, "{\"sessions\":[]}", NULL);
	gw_test_daemon_start(g->d, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_autofree gchar *rec = wait_record(g->d, ids[i], "Status", "Attached");
		g_assert_nonnull(rec);
	}
	/* the restarted gateway delivers what it owed without being asked */
	seen = wait_alerts(rs->record, G_N_ELEMENTS(ids));
	for (guint i = 0; i < 200 && pending_alerts(g->d) > 0; i++)
		g_usleep(50 * 1000);
	g_assert_cmpuint(pending_alerts(g->d), ==, 0);
	/* a later session carries nothing again */
	e2e_start_session_with(g->d, SERVER_ID);
	ref_server_stop(rs);
	g_clear_pointer(&seen, g_ptr_array_unref);
	seen = seen_alerts(rs->record);
	g_assert_cmpuint(seen->len, ==, G_N_ELEMENTS(ids));
	for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_assert_cmpuint(count_alerts(seen, ATTACHED, ids[i]), ==, 1);
		/* all in the first session after the restart */
		g_assert_cmpuint(alert_at(seen, i)->session, ==, 0);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(g->d);
		g_assert_nonnull(strstr(log, "undelivered alert(s)"));
	}

	gw_test_daemon_stop(g->d);
	ref_server_free(rs);
	gateway_free(g);
	world_free(w);
}

/*
 * GwMO-DI-004 with a DM Server that is down when the device registers: the failed session is
 * retried ([northbound] alert-retry-interval) and the alert arrives once the server is up,
 * without a restart or anything else opening a session.
 */
static void
test_alert_retry(void)
{
	World *w = world_new();
	Account acc = {"srv1", SERVER_ID, SRV_SECRET, CL_NAME, CL_SECRET, free_port()};
	Gateway *g = gateway_new(
	    w, "GW-TEST-0001", &acc, 1, FALSE, "[northbound]\nalert-retry-interval=1\n");
	g_autoptr(GPtrArray) seen = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *log = NULL;
	RefServer *rs;

	path = add_device(g->d, "dev-R", 2, "dev-R-secret");
	connect_device(w, g, "dev-R", "dev-R-secret");
	/* the first session fails (nobody listens), a retry is planned */
	for (guint i = 0; i < 200; i++) {
		g_clear_pointer(&log, g_free);
		log = gw_test_daemon_read_log(g->d);
		if (strstr(log, "undelivered: trying again in") != NULL)
			break;
		g_usleep(50 * 1000);
	}
	g_assert_nonnull(strstr(log, "undelivered: trying again in 1 s"));
	g_assert_cmpuint(pending_alerts(g->d), ==, 1);
	rs = ref_server_start(w, &acc, FALSE, "{\"sessions\":[]}", NULL);
	seen = wait_alerts(rs->record, 1);
	g_assert_cmpstr(alert_at(seen, 0)->type, ==, ATTACHED);
	g_assert_true(doc_has(alert_at(seen, 0)->data, "DeviceID", "dev-R"));
	for (guint i = 0; i < 200 && pending_alerts(g->d) > 0; i++)
		g_usleep(50 * 1000);
	g_assert_cmpuint(pending_alerts(g->d), ==, 0);

	gw_test_daemon_stop(g->d);
	ref_server_free(rs);
	gateway_free(g);
	world_free(w);
}

/*
 * The same with registrations still in flight: eight devices register at once and gwmod is
 * SIGKILLed as soon as three of them were answered. After the restart every device that was
 * answered is in the inventory, every device in the inventory reaches the server exactly once
 * as DeviceAttached, and no alert names a device the gateway does not know.
 */
static void
test_crash_in_flight(void)
{
	World *w = world_new();
	Account acc = {"srv1", SERVER_ID, SRV_SECRET, CL_NAME, CL_SECRET, free_port()};
	Gateway *g = gateway_new(w, "GW-TEST-0001", &acc, 1, TRUE, NULL);
	GSubprocess *devices[8];
	gboolean answered[8] = {FALSE};
	g_autoptr(GPtrArray) seen = NULL;
	g_auto(GStrv) names = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autoptr(GError) error = NULL;
	guint done = 0;
	guint known = 0;
	RefServer *rs;

	for (guint i = 0; i < G_N_ELEMENTS(devices); i++) {
		g_autofree gchar *log = g_strdup_printf("deviceF%u.log", i);
		g_autofree gchar *id = g_strdup_printf("--dev-id=dev-F%u", i);
		devices[i] = device_spawn(w,
		                          g,
		                          log,
		                          id,
		                          "--server-id=GW-TEST-0001",
		                          "--register",
		                          "--mode=1",
		                          "--server-ids=" SERVER_ID,
		                          "--notify-addr=udp://127.0.0.1:9",
		                          NULL);
	}
	for (guint t = 0; t < 2000 && done < 3; t++) {
		done = 0;
		for (guint i = 0; i < G_N_ELEMENTS(devices); i++)
			done += g_subprocess_get_identifier(devices[i]) == NULL;
		if (done < 3)
			g_usleep(1000);
	}
	gw_test_daemon_kill(g->d);
	for (guint i = 0; i < G_N_ELEMENTS(devices); i++) {
		g_subprocess_wait(devices[i], NULL, NULL);
		answered[i] = g_subprocess_get_if_exited(devices[i]) &&
		              g_subprocess_get_exit_status(devices[i]) == 0;
		g_object_unref(devices[i]);
	}

	rs = ref_server_start(w, &acc, FALSE, "{\"sessions\":[]}", NULL);
	gw_test_daemon_start(g->d, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(devices); i++) {
		g_autofree gchar *id = g_strdup_printf("dev-F%u", i);
		if (answered[i]) {
			g_autofree gchar *rec = wait_record(g->d, id, "Status", "Attached");
			g_assert_nonnull(rec);
		}
	}
	r = gw_test_call(
	    g->d, "ListChildren", g_variant_new("(s)", "./GwMO/Inventory/Devices"), "(as)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(^as)", &names);
	known = g_strv_length(names);
	g_assert_cmpuint(known, >=, 3);
	if (known > 0) {
		g_autoptr(GPtrArray) first = wait_alerts(rs->record, known);
	}
	for (guint i = 0; i < 200 && pending_alerts(g->d) > 0; i++)
		g_usleep(50 * 1000);
	g_assert_cmpuint(pending_alerts(g->d), ==, 0);
	e2e_start_session_with(g->d, SERVER_ID);
	ref_server_stop(rs);
	seen = seen_alerts(rs->record);
	g_assert_cmpuint(seen->len, ==, known);
	for (guint j = 0; names[j] != NULL; j++) {
		g_autofree gchar *id_uri =
		    g_strdup_printf("./GwMO/Inventory/Devices/%s/DeviceID", names[j]);
		g_autofree gchar *id = get_value(g->d, id_uri, NULL);
		g_assert_cmpuint(count_alerts(seen, ATTACHED, id), ==, 1);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(g->d);
		g_test_message("%u of 8 answered before the kill, %u recorded; %s",
		               done,
		               known,
		               strstr(log, "dropping alert") != NULL
		                   ? "an alert about an unsaved record was dropped"
		                   : "no alert was orphaned");
	}

	gw_test_daemon_stop(g->d);
	ref_server_free(rs);
	gateway_free(g);
	world_free(w);
}

static void
add_tests(void)
{
	g_test_add_func("/gw/e2e/inventory/crash-in-flight", test_crash_in_flight);
	g_test_add_func("/gw/e2e/inventory/alert-retry", test_alert_retry);
	g_test_add_func("/gw/e2e/inventory/crash", test_crash);
	g_test_add_func("/gw/e2e/inventory/acl-isolation", test_acl_isolation);
	g_test_add_func("/gw/e2e/inventory/edtrigger", test_edtrigger);
	g_test_add_func("/gw/e2e/inventory/lease", test_lease);
	g_test_add_func("/gw/e2e/inventory/nomadic", test_nomadic);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 3) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device\n",
		           argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	add_tests();
	return g_test_run();
}
