/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, seed 001 (a DM Server bootstrapping on the gateway, issue 14 §1-§2): the real
 * gwmod bootstrapped to srv1 only, the reference DM Server of a second server srv2 (which the
 * gateway does not know), the reference DM Bootstrap Server (tests/peers/
 * gwmo-test-bootstrap-server) that bootstraps the gateway to srv2, and the reference End
 * Device with an account for srv2 whose Ext/BootstrapURI names that bootstrap server.
 *  - work flow 1: the device registers naming srv2; the gateway reads the device's
 *    BootstrapURI, GETs its bootstrap over HTTPS and ends holding srv2's account (ExportTree,
 *    D-Bus Server object); srv2 hears DeviceAttached for the device and may read its record;
 *    then a second device naming srv2 only is matched: DeviceAttached to srv2 and not to srv1,
 *    and no work flow starts;
 *  - work flow 2 ([bootstrap] workflow=request): the gateway Execs GatewayBootstrapRequest
 *    on the device, which has its bootstrap server POST the bootstrap to the gateway's
 *    /bootstrap; the same ending;
 *  - refusals: a BootstrapURI whose server is not an authorised bootstrap server, a forged
 *    signature, an http:// URI, an oversize answer and a slow answer: each ends with a log line
 *    and the gateway's ./DMAcc exactly as before;
 *  - [bootstrap] fetch-hosts: a BootstrapURI on a host outside it makes no connection (a
 *    listener that never accepts has nothing in its backlog), a listed host is fetched; with
 *    workflow=both an unlisted host is not fetched and work flow 2 brings the bootstrap;
 *  - bounded: a device naming many unknown ServerIDs starts at most
 *    GW_SERVER_BOOTSTRAP_MAX_PER_DEVICE (4) work flows, and says so;
 *  - [bootstrap] url: a gwmod that holds no DMAcc GETs its own bootstrap at start-up; with the
 *    bootstrap server pinned ([bootstrap] certificates-file) only when its certificate is the
 *    pinned one (another: nothing applied, a log line naming the ServerID and the fingerprint);
 *    a replayed answer (the same bytes again, after a SIGKILL and a restart without the tree)
 *    is refused as a replay, nothing applied.
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw-crypto.h"
#include "gw-e2e.h"

#define GW_ID E2E_GW_ID
#define GW_SECRET E2E_GW_SECRET
#define DEV_SECRET E2E_DEV_SECRET
#define BS_ID "bs.example"
#define BS_SECRET "bootstrap-secret-9"
#define SRV2 "srv2.example"
#define SRV2_SECRET "srv2-secret"
#define GW2_NAME "gateway-at-srv2"
#define GW2_SECRET "gateway-secret-at-srv2"
#define ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"

static const gchar *bs_binary = NULL;

typedef struct {
	Env *e;
	gchar *secrets;
	GPtrArray *procs; /* GSubprocess, killed at the end */
	gchar *srv1_record;
	gchar *srv2_record;
	guint16 srv2_port;
} World;

/* ---- processes ---- */

static GSubprocess *
spawn(World *w, const gchar *log_name, GPtrArray *argv)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_build_filename(w->e->dir, log_name, NULL);
	GSubprocess *proc;

	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_ptr_array_add(w->procs, proc);
	return proc;
}

static gboolean
file_exists(gpointer data)
{
	return g_file_test(data, G_FILE_TEST_EXISTS);
}

static void
wait_ready(const gchar *ready)
{
	g_assert_true(e2e_wait(file_exists, (gpointer)ready, 30));
}

/* the reference DM Server of srv2 (it accepts the credentials its bootstrap gives) */
static void
srv2_start(World *w)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *ready = g_build_filename(w->e->dir, "srv2.ready", NULL);
	g_autofree gchar *script = g_build_filename(w->e->dir, "srv2.script.json", NULL);

	w->srv2_port = free_port();
	w->srv2_record = g_build_filename(w->e->dir, "srv2.record.json", NULL);
	g_assert_true(g_file_set_contents(script, "{\"sessions\":[]}", -1, NULL));
	g_ptr_array_add(argv, g_strdup(server_binary));
	g_ptr_array_add(argv, g_strdup_printf("--listen=https://127.0.0.1:%u", w->srv2_port));
	g_ptr_array_add(argv, g_strdup_printf("--cert=%s", w->e->cert));
	g_ptr_array_add(argv, g_strdup_printf("--key=%s", w->e->key));
	g_ptr_array_add(argv, g_strdup("--server-id=" SRV2));
	g_ptr_array_add(argv, g_strdup("--server-name=" SRV2));
	g_ptr_array_add(argv, g_strdup("--server-secret=" SRV2_SECRET));
	g_ptr_array_add(argv, g_strdup("--client-name=" GW2_NAME));
	g_ptr_array_add(argv, g_strdup("--client-secret=" GW2_SECRET));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	g_ptr_array_add(argv, g_strdup_printf("--script=%s", script));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", w->srv2_record));
	g_ptr_array_add(argv, g_strdup_printf("--ready-file=%s", ready));
	spawn(w, "srv2.log", argv);
	wait_ready(ready);
}

/* the reference DM Server of srv1 (the gateway's own account) */
static void
srv1_start(World *w)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *ready = g_build_filename(w->e->dir, "srv1.ready", NULL);
	g_autofree gchar *script = g_build_filename(w->e->dir, "srv1.script.json", NULL);

	w->srv1_record = g_build_filename(w->e->dir, "srv1.record.json", NULL);
	g_assert_true(g_file_set_contents(script, "{\"sessions\":[]}", -1, NULL));
	g_ptr_array_add(argv, g_strdup(server_binary));
	g_ptr_array_add(argv, g_strdup_printf("--listen=https://127.0.0.1:%u", w->e->port));
	g_ptr_array_add(argv, g_strdup_printf("--cert=%s", w->e->cert));
	g_ptr_array_add(argv, g_strdup_printf("--key=%s", w->e->key));
	g_ptr_array_add(argv, g_strdup("--server-id=" SERVER_ID));
	g_ptr_array_add(argv, g_strdup("--server-name=" SERVER_ID));
	g_ptr_array_add(argv, g_strdup("--server-secret=" SRV_SECRET));
	g_ptr_array_add(argv, g_strdup("--client-name=" CL_NAME));
	g_ptr_array_add(argv, g_strdup("--client-secret=" CL_SECRET));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	g_ptr_array_add(argv, g_strdup_printf("--script=%s", script));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", w->srv1_record));
	g_ptr_array_add(argv, g_strdup_printf("--ready-file=%s", ready));
	spawn(w, "srv1.log", argv);
	wait_ready(ready);
}

/* a reference bootstrap server (@name: its files) signing as @bs_id/@bs_secret, NULL-terminated
 * extra args; returns its bootstrap URL */
static gchar *
bs_start(World *w, const gchar *name, const gchar *bs_id, const gchar *bs_secret, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *ready = g_strdup_printf("%s/%s.ready", w->e->dir, name);
	g_autofree gchar *log = g_strdup_printf("%s.log", name);
	g_autofree gchar *url = NULL;
	const gchar *arg;
	va_list ap;

	g_ptr_array_add(argv, g_strdup(bs_binary));
	g_ptr_array_add(argv, g_strdup("--listen=https://127.0.0.1:0"));
	g_ptr_array_add(argv, g_strdup_printf("--cert=%s", w->e->cert));
	g_ptr_array_add(argv, g_strdup_printf("--key=%s", w->e->key));
	g_ptr_array_add(argv, g_strdup_printf("--ca-file=%s/tls.crt", w->e->d->state_dir));
	g_ptr_array_add(argv, g_strdup_printf("--bs-id=%s", bs_id));
	g_ptr_array_add(argv, g_strdup_printf("--bs-secret=%s", bs_secret));
	g_ptr_array_add(argv, g_strdup("--server-id=" SRV2));
	g_ptr_array_add(argv, g_strdup_printf("--app-addr=https://127.0.0.1:%u/dm", w->srv2_port));
	g_ptr_array_add(argv, g_strdup("--client-name=" GW2_NAME));
	g_ptr_array_add(argv, g_strdup("--client-secret=" GW2_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-secret=" SRV2_SECRET));
	g_ptr_array_add(argv, g_strdup_printf("--events=%s/%s.events", w->e->dir, name));
	g_ptr_array_add(argv, g_strdup_printf("--ready-file=%s", ready));
	va_start(ap, bs_secret);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	spawn(w, log, argv);
	wait_ready(ready);
	g_assert_true(g_file_get_contents(ready, &url, NULL, NULL));
	return g_strdup(g_strstrip(url));
}

/* the device's tree: an account for srv2 naming @bs_url as its bootstrap server */
static gchar *
device_tree(World *w, const gchar *id, const gchar *bs_url)
{
	g_autofree gchar *xml =
	    g_strdup_printf("<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	                    "<Node><NodeName>srv2acc</NodeName><Path>./DMAcc</Path>"
	                    "<Node><NodeName>AppID</NodeName><Value>w7</Value></Node>"
	                    "<Node><NodeName>ServerID</NodeName><Value>" SRV2 "</Value></Node>"
	                    "<Node><NodeName>Ext</NodeName>"
	                    "<Node><NodeName>BootstrapURI</NodeName><Value>%s</Value></Node>"
	                    "</Node></Node></MgmtTree>",
	                    bs_url);
	gchar *path = g_strdup_printf("%s/%s-tree.xml", w->e->dir, id);
	g_assert_true(g_file_set_contents(path, xml, -1, NULL));
	return path;
}

/* device @id provisioned over D-Bus, registering with @server_ids; its record URI */
static gchar *
device_start(World *w, const gchar *id, const gchar *server_ids, const gchar *tree)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *log = g_strdup_printf("%s.log", id);
	gchar *record = e2e_add_proxy_device(w->e->d, id, NULL, NULL);

	g_ptr_array_add(argv, g_strdup(device_binary));
	g_ptr_array_add(argv, g_strdup_printf("--server=http://127.0.0.1:%u/dm", w->e->south_port));
	g_ptr_array_add(argv, g_strdup_printf("--dev-id=%s", id));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	g_ptr_array_add(argv, g_strdup("--client-secret=" DEV_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-name=" GW_ID));
	g_ptr_array_add(argv, g_strdup("--server-secret=" GW_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-id=" GW_ID));
	g_ptr_array_add(argv, g_strdup_printf("--ca-file=%s", w->e->cert));
	g_ptr_array_add(argv, g_strdup("--listen-notify=http://127.0.0.1:0"));
	g_ptr_array_add(argv, g_strdup("--register"));
	g_ptr_array_add(argv, g_strdup("--mode=2"));
	g_ptr_array_add(argv, g_strdup_printf("--server-ids=%s", server_ids));
	g_ptr_array_add(argv, g_strdup("--count=10"));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s/%s.json", w->e->dir, id));
	if (tree != NULL)
		g_ptr_array_add(argv, g_strdup_printf("--tree=%s", tree));
	spawn(w, log, argv);
	return record;
}

static World *
world_new_with_hosts(const gchar *extra, const gchar *fetch_hosts);

static World *
world_new(const gchar *extra)
{
	/* the reference bootstrap servers listen on 127.0.0.1 */
	return world_new_with_hosts(extra, "127.0.0.1");
}

static World *
world_new_with_hosts(const gchar *extra, const gchar *fetch_hosts)
{
	World *w = g_new0(World, 1);
	g_autofree gchar *dir = NULL;
	g_autofree gchar *conf = NULL;
	g_autoptr(GError) error = NULL;

	dir = g_dir_make_tmp("gwmo-wf-XXXXXX", &error);
	g_assert_no_error(error);
	w->secrets = g_build_filename(dir, "bootstrap-secrets", NULL);
	g_assert_true(
	    g_file_set_contents(w->secrets, "[secrets]\n" BS_ID "=" BS_SECRET "\n", -1, NULL));
	g_chmod(w->secrets, 0600);
	conf = g_strdup_printf("[bootstrap]\nservers=" BS_ID "\nsecrets-file=%s\n"
	                       "fetch-hosts=%s\n%s",
	                       w->secrets,
	                       fetch_hosts,
	                       extra != NULL ? extra : "");
	w->e = env_new_with_config(conf);
	w->procs = g_ptr_array_new_with_free_func(g_object_unref);
	return w;
}

static void
world_free(World *w)
{
	g_autofree gchar *dir = g_path_get_dirname(w->secrets);
	/* a clean stop with whatever work flow still runs (exit status 0, sanitizers' reports) */
	gw_test_daemon_stop(w->e->d);
	for (guint i = 0; i < w->procs->len; i++) {
		GSubprocess *p = g_ptr_array_index(w->procs, i);
		if (g_subprocess_get_identifier(p) != NULL) {
			g_subprocess_send_signal(p, SIGTERM);
			g_subprocess_wait(p, NULL, NULL);
		}
	}
	g_ptr_array_unref(w->procs);
	env_free(w->e);
	g_remove(w->secrets);
	g_rmdir(dir);
	g_free(w->secrets);
	g_free(w->srv1_record);
	g_free(w->srv2_record);
	g_free(w);
}

/* ---- what the gateway holds ---- */

static gchar *
export_tree(GwTestDaemon *d, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(d, "ExportTree", g_variant_new("(s)", uri), "(s)", &error);
	gchar *xml = NULL;
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &xml);
	return xml;
}

/* the names of ./DMAcc/<x>, "/"-separated */
static gchar *
dmacc_accounts(GwTestDaemon *d)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(d, "ListChildren", g_variant_new("(s)", "./DMAcc"), "(as)", &error);
	g_auto(GStrv) names = NULL;
	g_assert_no_error(error);
	g_variant_get(r, "(^as)", &names);
	return g_strjoinv("/", names);
}

static gboolean
holds_srv2(gpointer data)
{
	World *w = data;
	g_autofree gchar *xml = export_tree(w->e->d, "./DMAcc");
	return strstr(xml, "<Value>" SRV2 "</Value>") != NULL;
}

typedef struct {
	const gchar *path;
	const gchar *needle;
} FileWait;

static gboolean
file_has(gpointer data)
{
	FileWait *f = data;
	g_autofree gchar *text = NULL;
	return g_file_get_contents(f->path, &text, NULL, NULL) && strstr(text, f->needle) != NULL;
}

typedef struct {
	GwTestDaemon *d;
	const gchar *needle;
} LogWait;

static gboolean
log_has(gpointer data)
{
	LogWait *l = data;
	g_autofree gchar *log = gw_test_daemon_read_log(l->d);
	return log != NULL && strstr(log, l->needle) != NULL;
}

/* how many DeviceAttached alerts for @device_id the server @record holds */
static guint
attached_count(const gchar *record, const gchar *device_id)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree gchar *needle = g_strdup_printf("<DeviceID>%s</DeviceID>", device_id);
	JsonArray *sessions;
	JsonNode *root;
	guint n = 0;

	if (!json_parser_load_from_file(parser, record, NULL))
		return 0;
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
		return 0;
	sessions = json_object_get_array_member(json_node_get_object(root), "sessions");
	for (guint i = 0; sessions != NULL && i < json_array_get_length(sessions); i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		JsonArray *alerts = json_object_get_array_member(s, "generic_alerts");
		for (guint j = 0; alerts != NULL && j < json_array_get_length(alerts); j++) {
			JsonObject *o = json_array_get_object_element(alerts, j);
			if (g_strcmp0(json_object_get_string_member_with_default(o, "type", ""),
			              ATTACHED) == 0 &&
			    strstr(json_object_get_string_member_with_default(o, "data", ""),
			           needle) != NULL)
				n++;
		}
	}
	return n;
}

typedef struct {
	const gchar *record;
	const gchar *device_id;
} AttachedWait;

static gboolean
attached(gpointer data)
{
	AttachedWait *a = data;
	return attached_count(a->record, a->device_id) > 0;
}

/* the gateway holds srv2's account from the bootstrap, and srv2 heard of @device_id, whose
 * record is now srv2's */
static void
assert_bootstrapped(World *w, const gchar *device_id, const gchar *record_uri)
{
	g_autofree gchar *xml = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *acl = NULL;
	g_autofree gchar *log = NULL;
	AttachedWait a = {w->srv2_record, device_id};

	g_assert_true(e2e_wait(holds_srv2, w, 60));
	xml = export_tree(w->e->d, "./DMAcc");
	g_assert_nonnull(strstr(xml, "<NodeName>acc-srv2-example</NodeName>"));
	g_assert_nonnull(strstr(xml, "<ACL>Get=" SRV2 "&amp;Replace=" SRV2 "</ACL>"));
	g_assert_null(strstr(xml, GW2_SECRET));
	/* srv2 heard DeviceAttached for the device in a session the gateway opened */
	g_assert_true(e2e_wait(attached, &a, 60));
	/* the record is srv2's now */
	rec = export_tree(w->e->d, record_uri);
	g_assert_nonnull(strstr(rec, "Get=" SRV2));
	log = gw_test_daemon_read_log(w->e->d);
	g_assert_null(strstr(log, GW2_SECRET));
	g_assert_null(strstr(log, BS_SECRET));
}

/* ---- tests ---- */

/* work flow 1; then a matched device */
static void
test_workflow_uri(void)
{
	World *w = world_new("workflow=uri\n");
	g_autofree gchar *bs_url = NULL;
	g_autofree gchar *tree = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *rec2 = NULL;
	g_autofree gchar *events = g_build_filename(w->e->dir, "bs.events", NULL);
	g_autofree gchar *log = NULL;
	FileWait got = {events, "get " GW_ID};
	AttachedWait a2 = {NULL, "dev-wf1-b"};
	guint to_srv1;

	srv1_start(w);
	srv2_start(w);
	bs_url = bs_start(w, "bs", BS_ID, BS_SECRET, NULL);
	tree = device_tree(w, "dev-wf1", bs_url);
	rec = device_start(w, "dev-wf1", SRV2, tree);
	assert_bootstrapped(w, "dev-wf1", rec);
	/* the gateway fetched it itself (work flow 1), with its GwID */
	g_assert_true(file_has(&got));
	log = gw_test_daemon_read_log(w->e->d);
	g_assert_nonnull(strstr(log, "bootstrap fetched from "));

	/* a device naming srv2 only is matched now: srv2 hears of it, srv1 does not, and no work
	 * flow starts for it */
	g_clear_pointer(&log, g_free);
	log = gw_test_daemon_read_log(w->e->d);
	to_srv1 = count_substr(log, "(" ATTACHED ") queued for " SERVER_ID);
	/* dev-wf1 named srv2 alone: srv1, which the gateway had an account for, never heard of it
	 * (its record named srv2 from the registration on: no server of the gateway's read it
	 * before srv2 bootstrapped the gateway) */
	g_assert_cmpuint(to_srv1, ==, 0);
	rec2 = device_start(w, "dev-wf1-b", SRV2, NULL);
	a2.record = w->srv2_record;
	g_assert_true(e2e_wait(attached, &a2, 60));
	{
		/* the record of a device naming srv2 alone is srv2's alone */
		g_autofree gchar *rec_xml = export_tree(w->e->d, rec2);
		g_assert_nonnull(strstr(rec_xml, "Get=" SRV2));
		g_assert_null(strstr(rec_xml, "Get=*"));
	}
	g_assert_cmpuint(attached_count(w->srv1_record, "dev-wf1-b"), ==, 0);
	/* srv2's alert was queued with whatever the registration queued: nothing for srv1 */
	g_clear_pointer(&log, g_free);
	log = gw_test_daemon_read_log(w->e->d);
	g_assert_cmpuint(count_substr(log, "(" ATTACHED ") queued for " SERVER_ID), ==, to_srv1);
	g_assert_cmpuint(count_substr(log, "(" ATTACHED ") queued for " SRV2), ==, 2);
	g_assert_null(strstr(log, "device dev-wf1-b names ServerID"));
	world_free(w);
}

/* work flow 2 */
static void
test_workflow_request(void)
{
	World *w = world_new("workflow=request\n");
	g_autofree gchar *bs_url = NULL;
	g_autofree gchar *tree = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *events = g_build_filename(w->e->dir, "bs.events", NULL);
	FileWait trigger = {events, "trigger " GW_ID " " SRV2};
	FileWait pushed = {events, "pushed 200"};
	FileWait no_get = {events, "get "};

	srv1_start(w);
	srv2_start(w);
	bs_url = bs_start(w, "bs", BS_ID, BS_SECRET, NULL);
	tree = device_tree(w, "dev-wf2", bs_url);
	rec = device_start(w, "dev-wf2", SRV2, tree);
	assert_bootstrapped(w, "dev-wf2", rec);
	/* the device forwarded the gateway's request, the server POSTed to /bootstrap */
	g_assert_true(e2e_wait(file_has, &trigger, 10));
	g_assert_true(e2e_wait(file_has, &pushed, 10));
	g_assert_false(file_has(&no_get));
	world_free(w);
}

/* a bootstrap that must not be applied: ./DMAcc unchanged, a log line */
static void
test_workflow_refused(void)
{
	World *w = world_new("workflow=uri\nfetch-timeout=10\nfetch-max-size=4096\n");
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	struct {
		const gchar *name;
		const gchar *bs_id;
		const gchar *bs_secret;
		const gchar *arg;
		const gchar *expect;
	} cases[] = {
	    {"rogue",
	     "rogue.example",
	     "rogue-secret",
	     NULL,
	     "is not an authorised bootstrap server"},
	    {"forged", BS_ID, BS_SECRET, "--forge", "nothing changed"},
	    {"oversize", BS_ID, BS_SECRET, "--oversize=8000", "bytes"},
	    {"slow", BS_ID, BS_SECRET, "--slow=120", "no whole answer in 10 s"},
	    {"clear", BS_ID, BS_SECRET, NULL, "https only"},
	};

	srv1_start(w);
	srv2_start(w);
	/* (srv1's own sessions may change its account's nonce: the accounts are compared) */
	before = dmacc_accounts(w->e->d);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *url = bs_start(
		    w, cases[i].name, cases[i].bs_id, cases[i].bs_secret, cases[i].arg, NULL);
		g_autofree gchar *id = g_strdup_printf("dev-%s", cases[i].name);
		g_autofree gchar *tree = NULL;
		g_autofree gchar *rec = NULL;
		g_autofree gchar *needle =
		    g_strdup_printf("bootstrap for ServerID " SRV2 " (device %s) failed", id);
		LogWait failed = {w->e->d, needle};
		g_autofree gchar *log = NULL;
		gchar *line;

		if (g_str_equal(cases[i].name, "clear")) {
			/* the same server named over http:// */
			g_autofree gchar *http = g_strconcat("http", url + strlen("https"), NULL);
			g_free(url);
			url = g_steal_pointer(&http);
		}
		tree = device_tree(w, id, url);
		rec = device_start(w, id, SRV2, tree);
		g_assert_true(e2e_wait(log_has, &failed, 60));
		log = gw_test_daemon_read_log(w->e->d);
		line = strstr(log, needle);
		g_assert_nonnull(line);
		if (strchr(line, '\n') != NULL)
			*strchr(line, '\n') = '\0';
		g_test_message("%s: %s", cases[i].name, line);
		g_assert_nonnull(strstr(line, cases[i].expect));
	}
	after = dmacc_accounts(w->e->d);
	g_assert_cmpstr(before, ==, after);
	g_assert_cmpstr(after, ==, "srv1");
	g_assert_false(holds_srv2(w));
	world_free(w);
}

/* a device naming 10 ServerIDs the gateway does not know: 4 work flows, a log line */
static void
test_workflow_bounded(void)
{
	World *w = world_new("workflow=uri\n");
	g_autofree gchar *rec = NULL;
	g_autofree gchar *log = NULL;
	LogWait refused = {NULL, "no bootstrap started"};

	refused.d = w->e->d;
	rec = device_start(w,
	                   "dev-many",
	                   "a.example,b.example,c.example,d.example,e.example,f.example,"
	                   "g.example,h.example,i.example,j.example",
	                   NULL);
	g_assert_true(e2e_wait(log_has, &refused, 60));
	log = gw_test_daemon_read_log(w->e->d);
	g_assert_cmpuint(count_substr(log, "asking the device for its bootstrap"), ==, 4);
	world_free(w);
}

/* a TCP listener on 127.0.0.2 that never accepts: a connection made to it waits in its
 * backlog, so it shows whether the gateway connected; its port in *@port */
static int
idle_listener(guint16 *port)
{
	struct sockaddr_in sa = {0};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	g_assert_cmpint(fd, >=, 0);
	sa.sin_family = AF_INET;
	g_assert_cmpint(inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr), ==, 1);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
	g_assert_cmpint(listen(fd, 16), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* [bootstrap] fetch-hosts: a BootstrapURI on a host outside the list (127.0.0.2) makes no
 * connection at all, the flow ends with a log line; one on a listed host (127.0.0.1) is
 * fetched and applied */
static void
test_workflow_fetch_hosts(void)
{
	/* (a short fetch-timeout: without the list the refused flow would end after it) */
	World *w = world_new("workflow=uri\nfetch-timeout=5\n");
	LogWait failed = {NULL, "bootstrap for ServerID " SRV2 " (device dev-elsewhere) failed"};
	struct pollfd pfd = {0};
	g_autofree gchar *url = NULL;
	g_autofree gchar *tree = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *bs_url = NULL;
	g_autofree gchar *tree2 = NULL;
	g_autofree gchar *rec2 = NULL;
	g_autofree gchar *log = NULL;
	gchar *line;
	guint16 port = 0;
	int fd = idle_listener(&port);

	failed.d = w->e->d;
	url = g_strdup_printf("https://127.0.0.2:%u/bootstrap", port);
	tree = device_tree(w, "dev-elsewhere", url);
	rec = device_start(w, "dev-elsewhere", SRV2, tree);
	g_assert_true(e2e_wait(log_has, &failed, 60));
	/* no connection ever reached the listener */
	pfd.fd = fd;
	pfd.events = POLLIN;
	g_assert_cmpint(poll(&pfd, 1, 0), ==, 0);
	g_assert_cmpint(accept(fd, NULL, NULL), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
	close(fd);
	log = gw_test_daemon_read_log(w->e->d);
	line = strstr(log, failed.needle);
	g_assert_nonnull(line);
	if (strchr(line, '\n') != NULL)
		*strchr(line, '\n') = '\0';
	g_test_message("%s", line);
	g_assert_nonnull(strstr(line, "'127.0.0.2' is not in [bootstrap] fetch-hosts"));
	g_assert_null(strstr(log, "work flow 1 from https://127.0.0.2"));
	g_assert_false(holds_srv2(w));

	/* a listed host */
	srv2_start(w);
	bs_url = bs_start(w, "bs", BS_ID, BS_SECRET, NULL);
	g_assert_true(g_str_has_prefix(bs_url, "https://127.0.0.1:"));
	tree2 = device_tree(w, "dev-listed", bs_url);
	rec2 = device_start(w, "dev-listed", SRV2, tree2);
	g_assert_true(e2e_wait(holds_srv2, w, 60));
	world_free(w);
}

/* workflow=both and a BootstrapURI outside fetch-hosts: the gateway does not GET it but asks
 * through the device (work flow 2), and the bootstrap still arrives */
static void
test_workflow_fetch_hosts_both(void)
{
	World *w = world_new_with_hosts("workflow=both\n", "bs.example.com");
	g_autofree gchar *bs_url = NULL;
	g_autofree gchar *tree = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *events = g_build_filename(w->e->dir, "bs.events", NULL);
	FileWait pushed = {events, "pushed 200"};
	FileWait no_get = {events, "get "};

	srv2_start(w);
	bs_url = bs_start(w, "bs", BS_ID, BS_SECRET, NULL);
	tree = device_tree(w, "dev-both", bs_url);
	rec = device_start(w, "dev-both", SRV2, tree);
	g_assert_true(e2e_wait(holds_srv2, w, 60));
	g_assert_true(e2e_wait(file_has, &pushed, 10));
	g_assert_false(file_has(&no_get));
	log = gw_test_daemon_read_log(w->e->d);
	g_assert_nonnull(strstr(log,
	                        "BootstrapURI host '127.0.0.1' is not in [bootstrap] "
	                        "fetch-hosts: not fetched; work flow 2 instead"));
	world_free(w);
}

/* [bootstrap] url: the gateway without DMAcc GETs its own bootstrap when it starts */
typedef enum { PIN_NONE, PIN_RIGHT, PIN_WRONG } PinMode;

/* "sha256:<hex>" of the certificate in @path */
static gchar *
fingerprint_of(const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsCertificate) c = g_tls_certificate_new_from_file(path, &error);
	g_autoptr(GByteArray) der = NULL;
	g_autofree gchar *hex = NULL;
	g_assert_no_error(error);
	g_object_get(c, "certificate", &der, NULL);
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
	return g_strconcat("sha256:", hex, NULL);
}

/* the [bootstrap] url fetch of this run ended: applied or refused as a replay */
static gboolean
url_fetch_done(gpointer data)
{
	GwTestDaemon *d = data;
	g_autofree gchar *log = gw_test_daemon_read_log(d);
	return log != NULL && (strstr(log, "applied before (a replay)") != NULL ||
	                       strstr(log, "bootstrap fetched from ") != NULL);
}

/* removes the stored tree of @d (stopped): it starts again with no DMAcc, its other state kept */
static void
forget_tree(GwTestDaemon *d)
{
	g_autoptr(GDir) dir = g_dir_open(d->state_dir, 0, NULL);
	const gchar *name;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = g_build_filename(d->state_dir, name, NULL);
		if (g_str_has_prefix(name, "tree."))
			g_assert_cmpint(g_remove(path), ==, 0);
	}
}

/* @replay: the bootstrap server answers the same bytes each time (--fixed-session, as a
 * replayed capture); once applied, the gateway is killed, loses its tree and starts again:
 * its second GET brings the same body, refused as a replay */
static void
bootstrap_url_run(PinMode pin, gboolean replay)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-wf-url-XXXXXX", &error);
	g_autofree gchar *cert = g_build_filename(dir, "server.crt", NULL);
	g_autofree gchar *key = g_build_filename(dir, "server.key", NULL);
	g_autofree gchar *secrets = g_build_filename(dir, "secrets", NULL);
	g_autofree gchar *pins = g_build_filename(dir, "certificates", NULL);
	g_autofree gchar *pins_conf = NULL;
	g_autofree gchar *fp = NULL;
	g_autofree gchar *ready = g_build_filename(dir, "bs.ready", NULL);
	g_autofree gchar *events = g_build_filename(dir, "bs.events", NULL);
	g_autofree gchar *url = NULL;
	g_autofree gchar *conf = NULL;
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GSubprocess) bs = NULL;
	GwTestDaemon *d;
	World fake = {0};
	Env env = {0};
	FileWait got = {events, "get GW-TEST-0001"};

	g_assert_no_error(error);
	g_assert_true(gw_crypto_generate_self_signed(
	    cert, key, "bs", NULL, (const gchar *const[]){"127.0.0.1", NULL}, 2, &error));
	g_assert_no_error(error);
	g_assert_true(
	    g_file_set_contents(secrets, "[secrets]\n" BS_ID "=" BS_SECRET "\n", -1, NULL));
	g_chmod(secrets, 0600);
	fp = fingerprint_of(cert);
	if (pin != PIN_NONE) {
		g_autofree gchar *text = g_strdup_printf(
		    "[certificates]\n" BS_ID "=%s\n",
		    pin == PIN_RIGHT
		        ? fp
		        : "sha256:"
		          "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
		g_assert_true(g_file_set_contents(pins, text, -1, NULL));
		g_chmod(pins, 0600);
		pins_conf = g_strdup_printf("certificates-file=%s\n", pins);
	}
	{
		g_autofree gchar *cert_arg = g_strdup_printf("--cert=%s", cert);
		g_autofree gchar *key_arg = g_strdup_printf("--key=%s", key);
		g_autofree gchar *events_arg = g_strdup_printf("--events=%s", events);
		g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
		const gchar *argv[] = {bs_binary,
		                       "--listen=https://127.0.0.1:0",
		                       cert_arg,
		                       key_arg,
		                       "--bs-id=" BS_ID,
		                       "--bs-secret=" BS_SECRET,
		                       "--server-id=" SRV2,
		                       "--app-addr=https://127.0.0.1:9/dm",
		                       "--client-name=" GW2_NAME,
		                       "--client-secret=" GW2_SECRET,
		                       "--server-secret=" SRV2_SECRET,
		                       events_arg,
		                       ready_arg,
		                       replay ? "--fixed-session" : NULL,
		                       NULL};
		g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
		bs = g_subprocess_launcher_spawnv(launcher, argv, &error);
		g_assert_no_error(error);
	}
	wait_ready(ready);
	g_assert_true(g_file_get_contents(ready, &url, NULL, NULL));
	g_strstrip(url);
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\n"
	                       "[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\n"
	                       "[bootstrap]\nservers=" BS_ID "\nsecrets-file=%s\nurl=%s\n%s",
	                       free_port(),
	                       cert,
	                       secrets,
	                       url,
	                       pins_conf != NULL ? pins_conf : "");
	d = gw_test_daemon_new_with_config(conf);
	gw_test_daemon_start(d, NULL);
	env.d = d;
	fake.e = &env;
	if (pin == PIN_WRONG) {
		LogWait refused = {d, "is not one of its pins"};
		g_autofree gchar *log = NULL;
		g_assert_true(e2e_wait(log_has, &refused, 60));
		g_assert_false(holds_srv2(&fake));
		log = gw_test_daemon_read_log(d);
		g_assert_nonnull(strstr(log, "'" BS_ID "'"));
		g_assert_nonnull(strstr(log, fp));
		g_assert_null(strstr(log, BS_SECRET));
	} else {
		g_assert_true(e2e_wait(holds_srv2, &fake, 60));
	}
	g_assert_true(file_has(&got));
	if (replay) {
		g_autofree gchar *log = NULL;
		g_autofree gchar *ev = NULL;

		gw_test_daemon_kill(d);
		forget_tree(d);
		/* the next gwmod writes its log from the start without truncating it (GSubprocess
		 * opens it O_CREAT | O_WRONLY): empty it, so what is read is this run's alone */
		g_assert_true(g_file_set_contents(d->log_path, "", 0, NULL));
		gw_test_daemon_start(d, NULL);
		g_assert_true(e2e_wait(url_fetch_done, d, 60));
		log = gw_test_daemon_read_log(d);
		g_assert_null(strstr(log, "bootstrap fetched from "));
		g_assert_nonnull(strstr(log, "applied before (a replay)"));
		g_assert_false(holds_srv2(&fake));
		g_assert_null(strstr(log, BS_SECRET));
		/* it was the same answer to a second GET */
		g_assert_true(g_file_get_contents(events, &ev, NULL, NULL));
		g_assert_cmpuint(count_substr(ev, "get GW-TEST-0001"), ==, 2);
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
	g_subprocess_send_signal(bs, SIGTERM);
	g_subprocess_wait(bs, NULL, NULL);
	g_remove(cert);
	g_remove(key);
	g_remove(secrets);
	g_remove(pins);
	g_remove(ready);
	g_remove(events);
	g_rmdir(dir);
}

static void
test_bootstrap_url(void)
{
	bootstrap_url_run(PIN_NONE, FALSE);
}

/* a replayed answer to work flow 1's GET: refused after a SIGKILL and restart */
static void
test_bootstrap_url_replay(void)
{
	bootstrap_url_run(PIN_NONE, TRUE);
}

/* work flow 1's GET under a certificate pin: the server certificate must be the pinned one */
static void
test_bootstrap_url_pinned(void)
{
	bootstrap_url_run(PIN_RIGHT, FALSE);
	bootstrap_url_run(PIN_WRONG, FALSE);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 4) {
		g_printerr("usage: %s SERVER DEVICE BOOTSTRAP-SERVER\n", argv[0]);
		return 1;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	bs_binary = argv[3];
	g_test_add_func("/gw/e2e/workflows/uri", test_workflow_uri);
	g_test_add_func("/gw/e2e/workflows/request", test_workflow_request);
	g_test_add_func("/gw/e2e/workflows/refused", test_workflow_refused);
	g_test_add_func("/gw/e2e/workflows/bounded", test_workflow_bounded);
	g_test_add_func("/gw/e2e/workflows/fetch-hosts", test_workflow_fetch_hosts);
	g_test_add_func("/gw/e2e/workflows/fetch-hosts-both", test_workflow_fetch_hosts_both);
	g_test_add_func("/gw/e2e/workflows/bootstrap-url", test_bootstrap_url);
	g_test_add_func("/gw/e2e/workflows/bootstrap-url-pinned", test_bootstrap_url_pinned);
	g_test_add_func("/gw/e2e/workflows/bootstrap-url-replay", test_bootstrap_url_replay);
	return g_test_run();
}
