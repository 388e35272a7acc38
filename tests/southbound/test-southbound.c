/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GwSouthbound, the gateway as DM Server of its End Devices: the endpoint runs in-process on
 * 127.0.0.1 (tree and store in a temporary directory, a real GwInventory), the End Devices are
 * real gwmo-test-device processes.
 *  - a provisioned device opens a session: implicit registration, Attached, Mode 2, DevInfo,
 *    NotifyAddr (GwMO-PMoDe-001, GwMO-HLF-003);
 *  - a wrong client secret: refused (401), the record untouched (GwMO-SECACATE-001);
 *  - an unknown device: 403, nothing registered; open-registration: Trusted=false;
 *  - explicit registration with the DeviceRegistration alert (GwMO-TMode-001);
 *  - Proxy Get and Replace through Package #0 and the session the device opens
 *    (GwMO-PMoDe-001); a silent device: 408, the endpoint still serves; unknown: 404;
 *  - malformed messages: 400;
 *  - a burst of registrations is acknowledged only once stored, with shared saves (group
 *    commit); [southbound] max-sessions answers 503 and a retrying device gets in later;
 *  - issue 11: a session broken by a malformed message ends at once and the device's next
 *    Package #1 with the same SessionID runs the pending command; MsgID 1 with Alert 1201
 *    starts a new session on the key of an open one; a flood of wrong credentials holds a few
 *    sessions and never blocks the real device; the Package #0 is signed with the device's
 *    nonce; a provisioned device is Detached until its first session; refusals are logged.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "gw-dm-auth.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-gwmo-mo.h"
#include "gw-http-client.h"
#include "gw-inventory.h"
#include "gw-log-private.h"
#include "gw-southbound.h"
#include "gw-syncml.h"
#include "gw-wbxml.h"

#define GW_ID "gw-test-gateway"
#define CL_SECRET "device-secret-1"
#define SRV_SECRET "gateway-secret-1"

static const gchar *device_binary = NULL;

typedef struct {
	gchar *dir;
	GwConfig *config;
	GwDmTree *tree;
	GwDmStore *store;
	GwInventory *inventory;
	GwSouthbound *south;
	gchar *dm_url;
	guint sessions_finished;
} Fixture;

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		rm_rf(child);
	}
	g_remove(path);
}

static void
session_finished_cb(GwSouthbound *south, const gchar *device_id, gboolean ok, gpointer user_data)
{
	Fixture *f = user_data;
	f->sessions_finished++;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) uris = NULL;
	GwDmDeviceInfo info = {
	    .dev_id = GW_ID,
	    .man = "gwmo",
	    .mod = "test-gateway",
	    .dmv = "1.3",
	    .lang = "en-US",
	    .dev_typ = "gateway",
	    .oem = "gwmo",
	    .fwv = "1.0",
	    .swv = "1.0",
	    .hwv = "1.0",
	};

	f->dir = g_dir_make_tmp("gwmo-southbound-XXXXXX", &error);
	g_assert_no_error(error);
	f->config = gw_config_new();
	gw_config_set_string(f->config, "southbound", "listen", "http://127.0.0.1:0");
	f->tree = gw_dm_tree_new();
	g_assert_true(gw_dm_tree_install_standard_objects(f->tree, &info, &error));
	g_assert_no_error(error);
	g_assert_true(gw_gwmo_install_objects(f->tree, GW_ID, GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);
	f->store = gw_dm_store_new(f->tree, f->dir);
	f->inventory = gw_inventory_new(f->tree, f->config);
	g_assert_true(gw_inventory_start(f->inventory, &error));
	g_assert_no_error(error);
	f->south = gw_southbound_new(f->config, f->tree, f->store, f->inventory, f->dir, &error);
	g_assert_no_error(error);
	g_assert_true(gw_southbound_start(f->south, &error));
	g_assert_no_error(error);
	g_signal_connect(f->south, "session-finished", G_CALLBACK(session_finished_cb), f);
	uris = gw_southbound_get_listen_uris(f->south);
	g_assert_nonnull(uris[0]);
	g_assert_true(g_str_has_suffix(uris[0], "/"));
	f->dm_url = g_strdup_printf("%sdm", uris[0]);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->south);
	g_clear_object(&f->inventory);
	g_clear_object(&f->store);
	g_clear_object(&f->tree);
	g_clear_object(&f->config);
	/* let pending idles and sockets settle */
	while (g_main_context_iteration(NULL, FALSE))
		;
	rm_rf(f->dir);
	g_free(f->dir);
	g_free(f->dm_url);
}

/* ---- helpers ---- */

/* a record with DIGEST credentials both ways, as AddDevice makes it */
static void
provision(Fixture *f, const gchar *device_id, guint mode, const gchar *notify_addr)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = NULL;
	GwInventoryDevice info = {0};

	info.device_id = g_strdup(device_id);
	info.mode = mode;
	info.notify_addr = g_strdup(notify_addr);
	info.trusted = TRUE;
	info.auth_type = g_strdup("DIGEST");
	info.client_name = g_strdup(device_id);
	info.client_secret = g_strdup(CL_SECRET);
	info.server_secret = g_strdup(SRV_SECRET);
	record = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	g_assert_nonnull(record);
	gw_inventory_device_clear(&info);
}

static void
child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* spawns gwmo-test-device with --server, --dev-id and the NULL-terminated extra args; its
 * output goes to <dir>/<dev_id>.log */
static GSubprocess *
device_spawn(Fixture *f, const gchar *dev_id, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", f->dir, dev_id);
	GSubprocess *proc;
	const gchar *arg;
	va_list ap;

	g_ptr_array_add(argv, g_strdup(device_binary));
	g_ptr_array_add(argv, g_strdup_printf("--server=%s", f->dm_url));
	g_ptr_array_add(argv, g_strdup_printf("--dev-id=%s", dev_id));
	g_ptr_array_add(argv, g_strdup("--server-id=" GW_ID));
	va_start(ap, dev_id);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return proc;
}

static void
wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *done = user_data;
	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	*done = TRUE;
}

static gboolean
timeout_flag_cb(gpointer user_data)
{
	gboolean *flag = user_data;
	*flag = TRUE;
	return G_SOURCE_REMOVE;
}

/* runs the main loop (the gateway is in-process) until the device exits; its exit status */
static gint
device_wait(GSubprocess *proc)
{
	gboolean done = FALSE;
	gboolean timed_out = FALSE;
	guint id = g_timeout_add_seconds(40, timeout_flag_cb, &timed_out);

	g_subprocess_wait_async(proc, NULL, wait_cb, &done);
	while (!done && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(id);
	if (!done) {
		g_subprocess_force_exit(proc);
		while (!done)
			g_main_context_iteration(NULL, TRUE);
		g_test_message("device did not exit in time");
		return -1;
	}
	return g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
}

static gchar *
device_log(Fixture *f, const gchar *dev_id)
{
	g_autofree gchar *path = g_strdup_printf("%s/%s.log", f->dir, dev_id);
	gchar *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

/* iterates the main context until @cond(@data) or @seconds pass */
static gboolean
wait_until(gboolean (*cond)(gpointer), gpointer data, guint seconds)
{
	gboolean timed_out = FALSE;
	guint id = g_timeout_add_seconds(seconds, timeout_flag_cb, &timed_out);
	while (!cond(data) && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(id);
	return cond(data);
}

static gboolean
file_exists_cond(gpointer data)
{
	return g_file_test(data, G_FILE_TEST_EXISTS);
}

typedef struct {
	gboolean done;
	gboolean ok;
	guint status;
	GPtrArray *results;
	gint64 elapsed_us;
	gint64 start_us;
	gboolean cancelled; /* ended by its GCancellable */
} CmdResult;

static void
cmd_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	CmdResult *r = user_data;
	g_autoptr(GError) error = NULL;
	r->ok = gw_southbound_send_command_finish(
	    GW_SOUTHBOUND(source), res, &r->status, &r->results, &error);
	r->cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	if (!r->cancelled)
		g_assert_no_error(error);
	r->elapsed_us = g_get_monotonic_time() - r->start_us;
	r->done = TRUE;
}

static gboolean
cmd_done_cond(gpointer data)
{
	return ((CmdResult *)data)->done;
}

static void
cmd_result_clear(CmdResult *r)
{
	g_clear_pointer(&r->results, g_ptr_array_unref);
}

static void
send_cmd(Fixture *f, const gchar *dev_id, GwSyncmlCommand *cmd, guint timeout_s, CmdResult *r)
{
	memset(r, 0, sizeof(*r));
	r->start_us = g_get_monotonic_time();
	gw_southbound_send_command_async(f->south, dev_id, cmd, timeout_s, NULL, cmd_done_cb, r);
}

static GwSyncmlCommand *
make_get(const gchar *uri)
{
	GwSyncmlCommand *get = gw_syncml_command_new(GW_SYNCML_CMD_GET);
	gw_syncml_command_add_item(get, gw_syncml_item_new(uri, NULL));
	return get;
}

static GwSyncmlCommand *
make_replace(const gchar *uri, const gchar *value)
{
	GwSyncmlCommand *replace = gw_syncml_command_new(GW_SYNCML_CMD_REPLACE);
	GwSyncmlItem *item = gw_syncml_command_add_item(replace, gw_syncml_item_new(uri, NULL));
	gw_syncml_item_set_data(item, "chr", "text/plain", value);
	return replace;
}

static guint16
free_udp_port(GSocket **keep)
{
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) a = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	*keep = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, NULL);
	g_assert_true(g_socket_bind(*keep, a, TRUE, NULL));
	bound = g_socket_get_local_address(*keep, NULL);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

#define DEVICE_AUTH                                                                \
	"--auth=md5", "--client-secret=" CL_SECRET, "--server-secret=" SRV_SECRET, \
	    "--server-name=" GW_ID

/* ---- tests ---- */

/* GwMO-PMoDe-001, GwMO-HLF-003: a provisioned device opens a session with the gateway; it is
 * registered from its Package #1 DevInfo (Attached, Mode 2, Man/Mod, NotifyAddr) */
static void
test_provisioned_implicit(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *status = NULL;
	GwInventoryDevice info = {0};
	gint rc;

	provision(f, "dev-prov", GW_GWMO_MODE_PROXY, NULL);
	g_assert_true(gw_inventory_detach(f->inventory, "dev-prov", &error));
	g_assert_no_error(error);

	proc = device_spawn(f, "dev-prov", DEVICE_AUTH, "--notify-addr=udp://127.0.0.1:9", NULL);
	rc = device_wait(proc);
	if (rc != 0) {
		g_autofree gchar *log = device_log(f, "dev-prov");
		g_test_message("device output:\n%s", log);
	}
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpuint(f->sessions_finished, ==, 1);
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 0);

	g_assert_true(gw_inventory_get_device(f->inventory, "dev-prov", &info));
	g_assert_cmpuint(info.mode, ==, GW_GWMO_MODE_PROXY);
	g_assert_cmpstr(info.notify_addr, ==, "udp://127.0.0.1:9");
	g_assert_nonnull(info.devinfo);
	g_assert_cmpstr(g_hash_table_lookup(info.devinfo, "Man"), ==, "gwmo test device");
	g_assert_cmpstr(g_hash_table_lookup(info.devinfo, "Mod"), ==, "ref-device");
	g_assert_true(info.trusted);
	g_assert_cmpstr(info.client_secret, ==, CL_SECRET); /* credentials kept */
	gw_inventory_device_clear(&info);
	record = gw_inventory_find(f->inventory, "dev-prov");
	g_assert_nonnull(record);
	{
		g_autofree gchar *uri = g_strdup_printf("%s/Status", record);
		status = gw_dm_tree_dup_string(f->tree, uri);
	}
	g_assert_cmpstr(status, ==, "Attached");
}

/* GwMO-PMoDe-001: a device that speaks WBXML registers through its session as in XML (the
 * listener decodes each message once, to find the session, and hands the decoded message and
 * its encoding on; the reply is encoded the same way) */
static void
test_wbxml_session(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	GwInventoryDevice info = {0};
	gint rc;

	provision(f, "dev-wbxml", GW_GWMO_MODE_PROXY, NULL);
	g_assert_true(gw_inventory_detach(f->inventory, "dev-wbxml", &error));
	g_assert_no_error(error);
	proc = device_spawn(
	    f, "dev-wbxml", DEVICE_AUTH, "--wbxml", "--notify-addr=udp://127.0.0.1:9", NULL);
	rc = device_wait(proc);
	if (rc != 0) {
		g_autofree gchar *log = device_log(f, "dev-wbxml");
		g_test_message("device output:\n%s", log);
	}
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpuint(f->sessions_finished, ==, 1);
	g_assert_true(gw_inventory_get_device(f->inventory, "dev-wbxml", &info));
	g_assert_cmpstr(info.notify_addr, ==, "udp://127.0.0.1:9");
	g_assert_nonnull(info.devinfo);
	g_assert_cmpstr(g_hash_table_lookup(info.devinfo, "Mod"), ==, "ref-device");
	gw_inventory_device_clear(&info);
}

static guint registered_logs; /* "device … registered (…)" lines gwmod logged */
static GPtrArray *warnings;   /* the warnings logged, in order */

static GLogWriterOutput
count_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "MESSAGE") != 0 || fields[i].length >= 0)
			continue;
		if (g_str_has_prefix(fields[i].value, "device ") &&
		    strstr(fields[i].value, " registered (") != NULL)
			registered_logs++;
		if ((level & G_LOG_LEVEL_WARNING) != 0)
			g_ptr_array_add(warnings, g_strdup(fields[i].value));
	}
	return g_log_writer_default(level, fields, n_fields, user_data);
}

/* how many warnings logged since @from contain @needle */
static guint
count_warnings(guint from, const gchar *needle)
{
	guint n = 0;
	for (guint i = from; i < warnings->len; i++)
		n += strstr(g_ptr_array_index(warnings, i), needle) != NULL;
	return n;
}

static void
record_changed_cb(GwDmTree *tree, const gchar *uri, guint change, gpointer sid, gpointer data)
{
	GPtrArray *changed = data;
	const gchar *record = g_ptr_array_index(changed, 0);
	/* every session leaves its nonces in the record (a restart must not cost a challenge):
	 * not a registration */
	if (g_str_has_suffix(uri, "/Credentials/ClientNonce") ||
	    g_str_has_suffix(uri, "/Credentials/ServerNonce"))
		return;
	if (g_str_has_prefix(uri, record) && uri[strlen(record)] == '/')
		g_ptr_array_add(changed, g_strdup(uri + strlen(record) + 1));
}

static gchar *
changed_list(GPtrArray *changed)
{
	g_autoptr(GString) s = g_string_new(NULL);
	for (guint i = 1; i < changed->len; i++)
		g_string_append_printf(s, "%s%s", i > 1 ? " " : "", (gchar *)changed->pdata[i]);
	g_ptr_array_set_size(changed, 1);
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static void
session_of(Fixture *f, const gchar *dev_id, const gchar *notify_addr)
{
	g_autofree gchar *arg = g_strdup_printf("--notify-addr=%s", notify_addr);
	g_autoptr(GSubprocess) proc = device_spawn(f, dev_id, DEVICE_AUTH, arg, NULL);
	g_assert_cmpint(device_wait(proc), ==, 0);
}

/* GwMO-DI-003, GwMO-PMoDe-001: the usual session of a registered device reports what its
 * record holds: LastSeen alone is written, no registration (its reply is not held for the
 * disk); a session that reports a new NotifyAddr or DevInfo registers the device again */
static void
test_unchanged_session(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *last_seen = NULL;
	g_autofree gchar *mod = NULL;
	g_autofree gchar *list = NULL;
	guint before;
	gulong id;

	provision(f, "dev-same", GW_GWMO_MODE_PROXY, NULL);
	before = registered_logs;
	session_of(f, "dev-same", "udp://127.0.0.1:9"); /* NotifyAddr new: a registration */
	g_assert_cmpuint(registered_logs, ==, before + 1);
	record = gw_inventory_find(f->inventory, "dev-same");
	g_assert_nonnull(record);
	last_seen = g_strdup_printf("%s/LastSeen", record);
	mod = g_strdup_printf("%s/DevInfo/Mod", record);
	g_assert_true(gw_dm_tree_set_leaf_string(
	    f->tree, last_seen, GW_DM_FORMAT_DATE, "2020-01-01T00:00:00Z", &error));
	g_assert_no_error(error);
	g_ptr_array_add(changed, g_strdup(record));
	id = g_signal_connect(f->tree, "changed", G_CALLBACK(record_changed_cb), changed);

	/* the same again: LastSeen alone, no registration */
	session_of(f, "dev-same", "udp://127.0.0.1:9");
	list = changed_list(changed);
	g_assert_cmpstr(list, ==, "LastSeen");
	g_assert_cmpuint(registered_logs, ==, before + 1);
	{
		g_autofree gchar *seen = gw_dm_tree_dup_string(f->tree, last_seen);
		g_assert_cmpstr(seen, !=, "2020-01-01T00:00:00Z");
	}

	/* a new NotifyAddr: registered again, the record follows */
	session_of(f, "dev-same", "udp://127.0.0.1:10");
	g_assert_cmpuint(registered_logs, ==, before + 2);
	g_clear_pointer(&list, g_free);
	list = changed_list(changed);
	g_assert_nonnull(strstr(list, "NotifyAddr"));
	{
		g_autofree gchar *uri = g_strdup_printf("%s/NotifyAddr", record);
		g_autofree gchar *value = gw_dm_tree_dup_string(f->tree, uri);
		g_assert_cmpstr(value, ==, "udp://127.0.0.1:10");
	}

	/* a DevInfo leaf that differs from what the device reports: registered again */
	g_assert_true(
	    gw_dm_tree_set_leaf_string(f->tree, mod, GW_DM_FORMAT_CHR, "old-model", &error));
	g_assert_no_error(error);
	g_ptr_array_set_size(changed, 1);
	session_of(f, "dev-same", "udp://127.0.0.1:10");
	g_assert_cmpuint(registered_logs, ==, before + 3);
	{
		g_autofree gchar *value = gw_dm_tree_dup_string(f->tree, mod);
		g_assert_cmpstr(value, ==, "ref-device");
	}
	g_signal_handler_disconnect(f->tree, id);
}

/* GwMO-SECACATE-001: a wrong client secret is refused (401) and the record is not updated */
static void
test_wrong_secret(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree gchar *log = NULL;
	GwInventoryDevice info = {0};

	provision(f, "dev-wrong", GW_GWMO_MODE_PROXY, NULL);
	proc = device_spawn(f,
	                    "dev-wrong",
	                    "--auth=md5",
	                    "--client-secret=not-the-secret",
	                    "--server-secret=" SRV_SECRET,
	                    "--server-name=" GW_ID,
	                    "--notify-addr=udp://127.0.0.1:9",
	                    NULL);
	g_assert_cmpint(device_wait(proc), !=, 0);
	log = device_log(f, "dev-wrong");
	g_test_message("%s", log);
	g_assert_nonnull(strstr(log, "failed"));

	g_assert_true(gw_inventory_get_device(f->inventory, "dev-wrong", &info));
	g_assert_null(info.notify_addr);
	g_assert_true(info.devinfo == NULL || g_hash_table_lookup(info.devinfo, "Man") == NULL);
	gw_inventory_device_clear(&info);
}

/* an unknown device is refused with 403 and nothing is registered */
static void
test_unknown_device(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GPtrArray) records = NULL;
	g_autofree gchar *log = NULL;

	proc = device_spawn(f, "dev-stranger", NULL);
	g_assert_cmpint(device_wait(proc), !=, 0);
	log = device_log(f, "dev-stranger");
	g_assert_nonnull(strstr(log, "HTTP 403"));
	g_assert_null(gw_inventory_find(f->inventory, "dev-stranger"));
	records = gw_inventory_list(f->inventory);
	g_assert_cmpuint(records->len, ==, 0);
}

/* [southbound] open-registration=true: an unknown device is registered with Trusted=false */
static void
test_open_registration(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	GwInventoryDevice info = {0};

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	proc = device_spawn(f, "dev-open", NULL);
	g_assert_cmpint(device_wait(proc), ==, 0);
	g_assert_true(gw_inventory_get_device(f->inventory, "dev-open", &info));
	g_assert_false(info.trusted);
	g_assert_cmpuint(info.mode, ==, GW_GWMO_MODE_PROXY);
	g_assert_cmpstr(g_hash_table_lookup(info.devinfo, "Mod"), ==, "ref-device");
	gw_inventory_device_clear(&info);
}

/* GwMO-TMode-001 (seed 000 X.1): the DeviceRegistration Generic Alert registers the device with
 * the Mode, NotifyAddr and ServerIDs of its document; a document naming another DeviceID or
 * not well-formed registers nothing */
static void
test_explicit_registration(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GSubprocess) liar = NULL;
	g_autoptr(GSubprocess) broken = NULL;
	g_autofree gchar *liar_log = NULL;
	GwInventoryDevice info = {0};

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	proc = device_spawn(f,
	                    "dev-tmode",
	                    "--register",
	                    "--mode=1",
	                    "--server-ids=srv1.example,srv2.example",
	                    "--notify-addr=http://127.0.0.1:9/notify",
	                    NULL);
	g_assert_cmpint(device_wait(proc), ==, 0);
	g_assert_true(gw_inventory_get_device(f->inventory, "dev-tmode", &info));
	g_assert_cmpuint(info.mode, ==, GW_GWMO_MODE_TRANSPARENT);
	g_assert_cmpstr(info.notify_addr, ==, "http://127.0.0.1:9/notify");
	g_assert_nonnull(info.server_ids);
	g_assert_cmpuint(g_strv_length(info.server_ids), ==, 2);
	g_assert_cmpstr(info.server_ids[0], ==, "srv1.example");
	g_assert_cmpstr(info.server_ids[1], ==, "srv2.example");
	g_assert_false(info.trusted);
	gw_inventory_device_clear(&info);

	/* another DeviceID in the document: 403, "dev-other" not registered */
	liar = device_spawn(f,
	                    "dev-liar",
	                    "--alert=urn:oma:at:gwmo:1.0:DeviceRegistration",
	                    "--alert-data=<GwMORegistration><DeviceID>dev-other</DeviceID>"
	                    "<Mode>1</Mode></GwMORegistration>",
	                    NULL);
	g_assert_cmpint(device_wait(liar), ==, 0);
	liar_log = device_log(f, "dev-liar");
	g_assert_null(strstr(liar_log, "Generic Alert 1 delivered"));
	g_assert_null(gw_inventory_find(f->inventory, "dev-other"));

	/* a document that is not a registration: 400, mode stays as the implicit one */
	broken = device_spawn(f,
	                      "dev-broken",
	                      "--alert=urn:oma:at:gwmo:1.0:DeviceRegistration",
	                      "--alert-data=<NotARegistration/>",
	                      NULL);
	g_assert_cmpint(device_wait(broken), ==, 0);
	g_assert_true(gw_inventory_get_device(f->inventory, "dev-broken", &info));
	g_assert_cmpuint(info.mode, ==, GW_GWMO_MODE_PROXY);
	gw_inventory_device_clear(&info);
}

typedef struct {
	Fixture *f;
	guint count;
} SessionsCond;

static gboolean
sessions_cond(gpointer data)
{
	SessionsCond *c = data;
	return c->f->sessions_finished >= c->count;
}

/* the last command of that name and URI the device recorded (a command the device refused
 * once, e.g. 401 before the gateway answered its challenge, is recorded twice) */
static JsonObject *
find_command(JsonNode *root, const gchar *cmd_name, const gchar *uri)
{
	JsonObject *found = NULL;
	JsonArray *sessions = json_object_get_array_member(json_node_get_object(root), "sessions");
	for (guint i = 0; i < json_array_get_length(sessions); i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		JsonArray *cmds = json_object_get_array_member(s, "commands");
		for (guint j = 0; j < json_array_get_length(cmds); j++) {
			JsonObject *c = json_array_get_object_element(cmds, j);
			if (g_strcmp0(json_object_get_string_member(c, "cmd"), cmd_name) == 0 &&
			    g_strcmp0(json_object_get_string_member(c, "uri"), uri) == 0)
				found = c;
		}
	}
	return found;
}

/* GwMO-PMoDe-001: Proxy Get and Replace. The device registers (its notification URL), the
 * gateway queues a Get of ./DevInfo/Mod and a Replace of ./Vendor/Name, sends the device a
 * Package #0, the device opens its session and the results come back */
static void
test_proxy_get_replace(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *ready = g_build_filename(f->dir, "notify-ready", NULL);
	g_autofree gchar *rec = g_build_filename(f->dir, "proxy-record.json", NULL);
	g_autofree gchar *tree =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "peers", "device-tree.xml", NULL);
	g_autofree gchar *url = NULL;
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *rec_arg = g_strdup_printf("--record=%s", rec);
	g_autofree gchar *tree_arg = g_strdup_printf("--tree=%s", tree);
	SessionsCond first = {f, 1};
	CmdResult get = {0};
	CmdResult replace = {0};
	GwInventoryDevice info = {0};
	const GwSyncmlItem *item;
	JsonObject *cmd;
	gint rc;

	provision(f, "dev-proxy", GW_GWMO_MODE_PROXY, NULL);
	proc = device_spawn(f,
	                    "dev-proxy",
	                    DEVICE_AUTH,
	                    "--listen-notify=http://127.0.0.1:0",
	                    ready_arg,
	                    "--register",
	                    "--mode=2",
	                    "--count=1",
	                    rec_arg,
	                    tree_arg,
	                    NULL);
	g_assert_true(wait_until(file_exists_cond, ready, 20));
	g_assert_true(wait_until(sessions_cond, &first, 20));
	g_assert_true(g_file_get_contents(ready, &url, NULL, NULL));
	g_strstrip(url);
	/* GwMO-HLF-003: the gateway knows where to notify the device */
	g_assert_true(gw_inventory_get_device(f->inventory, "dev-proxy", &info));
	g_assert_cmpstr(info.notify_addr, ==, url);
	g_assert_cmpuint(info.mode, ==, GW_GWMO_MODE_PROXY);
	gw_inventory_device_clear(&info);

	send_cmd(f, "dev-proxy", make_get("./DevInfo/Mod"), 20, &get);
	send_cmd(f, "dev-proxy", make_replace("./Vendor/Name", "beta"), 20, &replace);
	g_assert_true(wait_until(cmd_done_cond, &get, 25));
	g_assert_true(wait_until(cmd_done_cond, &replace, 25));
	rc = device_wait(proc);
	if (rc != 0) {
		g_autofree gchar *log = device_log(f, "dev-proxy");
		g_test_message("device output:\n%s", log);
	}
	g_assert_cmpint(rc, ==, 0);

	g_assert_true(get.ok);
	g_assert_cmpuint(get.status, ==, 200);
	g_assert_cmpuint(get.results->len, ==, 1);
	item = g_ptr_array_index(get.results, 0);
	g_assert_cmpstr(item->data, ==, "ref-device");
	g_assert_true(replace.ok);
	g_assert_cmpuint(replace.status, ==, 200);

	/* the device's record: the Replace ran in the notified session */
	g_assert_true(json_parser_load_from_file(parser, rec, &error));
	g_assert_no_error(error);
	cmd = find_command(json_parser_get_root(parser), "Replace", "./Vendor/Name");
	g_assert_nonnull(cmd);
	g_assert_cmpint(json_object_get_int_member(cmd, "status"), ==, 200);
	g_assert_cmpstr(json_object_get_string_member(cmd, "data"), ==, "beta");
	cmd_result_clear(&get);
	cmd_result_clear(&replace);
}

/* a device that never answers: 408 after the 2 s timeout; the endpoint then serves the next
 * device; a command for an unknown device is answered 404 */
static void
test_proxy_timeout(Fixture *f, gconstpointer data)
{
	g_autoptr(GSocket) udp = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree gchar *addr = NULL;
	CmdResult silent = {0};
	CmdResult unknown = {0};
	guint16 port = free_udp_port(&udp);
	GwInventoryDevice info = {0};

	addr = g_strdup_printf("udp://127.0.0.1:%u", port);
	provision(f, "dev-silent", GW_GWMO_MODE_PROXY, addr);
	send_cmd(f, "dev-silent", make_get("./DevInfo/Mod"), 2, &silent);
	send_cmd(f, "dev-nowhere", make_get("./DevInfo/Mod"), 2, &unknown);
	g_assert_true(wait_until(cmd_done_cond, &unknown, 5));
	g_assert_true(unknown.ok);
	g_assert_cmpuint(unknown.status, ==, 404);
	g_assert_true(wait_until(cmd_done_cond, &silent, 10));
	g_assert_true(silent.ok);
	g_assert_cmpuint(silent.status, ==, 408);
	g_assert_cmpint(silent.elapsed_us, >=, 1500 * 1000);
	{
		/* the Package #0 went out as one datagram */
		guint8 buf[512];
		gssize n;
		g_socket_set_blocking(udp, FALSE);
		n = g_socket_receive(udp, (gchar *)buf, sizeof(buf), NULL, NULL);
		g_assert_cmpint(n, >, 24);
	}

	provision(f, "dev-next", GW_GWMO_MODE_PROXY, NULL);
	proc = device_spawn(f, "dev-next", DEVICE_AUTH, NULL);
	g_assert_cmpint(device_wait(proc), ==, 0);
	g_assert_true(gw_inventory_get_device(f->inventory, "dev-next", &info));
	g_assert_cmpstr(g_hash_table_lookup(info.devinfo, "Man"), ==, "gwmo test device");
	gw_inventory_device_clear(&info);
	cmd_result_clear(&silent);
	cmd_result_clear(&unknown);
}

typedef struct {
	gboolean done;
	GwHttpResponse *response;
} PostResult;

static void
post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	PostResult *r = user_data;
	g_autoptr(GError) error = NULL;
	r->response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	g_assert_no_error(error);
	r->done = TRUE;
}

static gboolean
post_done_cond(gpointer data)
{
	return ((PostResult *)data)->done;
}

/* POSTs to /dm; @reply: (out) (optional) the answer's body */
static guint
post(Fixture *f, const gchar *content_type, const gchar *body, gsize len, GBytes **reply)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpClient) client = gw_http_client_new(NULL, &error);
	g_autoptr(GBytes) bytes = g_bytes_new(body, len);
	PostResult r = {0};
	guint status;

	g_assert_no_error(error);
	gw_http_client_post_async(client, f->dm_url, content_type, bytes, NULL, NULL, post_cb, &r);
	g_assert_true(wait_until(post_done_cond, &r, 20));
	status = r.response->status;
	if (reply != NULL)
		*reply = g_bytes_ref(r.response->body);
	gw_http_response_free(r.response);
	return status;
}

/* malformed SyncML or WBXML: HTTP 400, nothing registered, the endpoint keeps serving */
static void
test_malformed(Fixture *f, gconstpointer data)
{
	static const gchar xml[] = "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2";
	static const gchar not_syncml[] = "<html><body>hello</body></html>";
	static const gchar wbxml[] = "\x03\x01\x6a\x00\x6d\x6c\xff\xff\xff";
	g_autoptr(GPtrArray) records = NULL;

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	g_assert_cmpuint(post(f, GW_SYNCML_DM_XML_TYPE, xml, sizeof(xml) - 1, NULL), ==, 400);
	g_assert_cmpuint(
	    post(f, GW_SYNCML_DM_XML_TYPE, not_syncml, sizeof(not_syncml) - 1, NULL), ==, 400);
	g_assert_cmpuint(post(f, GW_SYNCML_DM_WBXML_TYPE, wbxml, sizeof(wbxml) - 1, NULL), ==, 400);
	g_assert_cmpuint(post(f, "text/plain", "x", 1, NULL), ==, 415);
	records = gw_inventory_list(f->inventory);
	g_assert_cmpuint(records->len, ==, 0);
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 0);
}

static gboolean
no_session_cond(gpointer data)
{
	Fixture *f = data;
	return gw_southbound_get_session_count(f->south) == 0;
}

/* a polling device (no NotifyAddr) gets a queued Get in its own next session; a session that
 * stays idle for [southbound] session-timeout is dropped, the Get goes back to the queue and
 * ends with 408 */
static void
test_polling_idle_session(Fixture *f, gconstpointer data)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *text = NULL;
	GwInventoryDevice info = {0};
	CmdResult get = {0};

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	gw_config_set_string(f->config, "southbound", "session-timeout", "1");
	info.device_id = g_strdup("dev-poll");
	info.mode = GW_GWMO_MODE_PROXY;
	record = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	gw_inventory_device_clear(&info);

	send_cmd(f, "dev-poll", make_get("./DevInfo/Mod"), 5, &get);
	msg = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, "7", 1, f->dm_url, "dev-poll");
	gw_syncml_message_add_command(msg,
	                              gw_syncml_alert_new(GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT));
	msg->final = TRUE;
	pkg1 = gw_syncml_message_to_xml(msg);
	g_assert_cmpuint(post(f,
	                      GW_SYNCML_DM_XML_TYPE,
	                      g_bytes_get_data(pkg1, NULL),
	                      g_bytes_get_size(pkg1),
	                      &reply),
	                 ==,
	                 200);
	text = g_strndup(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply));
	g_assert_nonnull(strstr(text, "<Get>"));
	g_assert_nonnull(strstr(text, "./DevInfo/Mod"));
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 1);
	g_assert_false(get.done);
	/* the device never answers: dropped after about a second */
	g_assert_true(wait_until(no_session_cond, f, 4));
	g_assert_cmpuint(f->sessions_finished, ==, 1);
	g_assert_true(wait_until(cmd_done_cond, &get, 8));
	g_assert_cmpuint(get.status, ==, 408);
	cmd_result_clear(&get);
}

static gboolean
no_session_then(gpointer data)
{
	Fixture *f = data;
	return gw_southbound_get_session_count(f->south) == 0;
}

/* a burst of registrations: every reply that acknowledges one goes out only after the store
 * saved it (the state file has all of them the moment the devices are done), and the burst
 * shares saves instead of one per registration */
static void
test_group_commit(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GwDmTree) reloaded = gw_dm_tree_new();
	g_autoptr(GwDmStore) reader = NULL;
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) names = NULL;
	guint64 saves_before;
	guint64 saves;

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	g_assert_true(gw_dm_store_save(f->store, &error));
	g_assert_no_error(error);
	/* a write is a journal append or (rarely) a compaction */
	saves_before = gw_dm_store_get_save_count(f->store) + gw_dm_store_get_append_count(f->store);
	proc = device_spawn(f, "burst-%03u", "--count=64", "--parallel=16", "--quiet", NULL);
	g_assert_cmpint(device_wait(proc), ==, 0);
	records = gw_inventory_list(f->inventory);
	g_assert_cmpuint(records->len, ==, 64);
	saves = gw_dm_store_get_save_count(f->store) + gw_dm_store_get_append_count(f->store) -
		saves_before;
	g_test_message("64 registrations, %" G_GUINT64_FORMAT " store writes", saves);
	g_assert_cmpuint(saves, >=, 1);
	g_assert_cmpuint(saves, <, 64);

	/* what the devices were told is on disk (no main-loop turn since the last reply) */
	reader = gw_dm_store_new(reloaded, f->dir);
	g_assert_true(gw_dm_store_load(reader, &error));
	g_assert_no_error(error);
	names = gw_dm_tree_list_children(reloaded, "./GwMO/Inventory/Devices");
	g_assert_nonnull(names);
	g_assert_cmpuint(g_strv_length(names), ==, 64);
}

/* [southbound] max-sessions: a device that would open one session too many gets 503 (and gives
 * up without retries); with retries it gets in once a running session is gone */
static void
test_max_sessions(Fixture *f, gconstpointer data)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) refused = NULL;
	g_autoptr(GSubprocess) patient = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *patient_record = NULL;
	g_autofree gchar *log = NULL;
	GwInventoryDevice info = {0};
	CmdResult get = {0};

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	gw_config_set_string(f->config, "southbound", "session-timeout", "1");
	gw_config_set_string(f->config, "southbound", "max-sessions", "1");
	/* one session that stays open: the gateway waits for the Status of a Get */
	info.device_id = g_strdup("dev-busy");
	info.mode = GW_GWMO_MODE_PROXY;
	record = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	gw_inventory_device_clear(&info);
	send_cmd(f, "dev-busy", make_get("./DevInfo/Mod"), 10, &get);
	msg = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, "9", 1, f->dm_url, "dev-busy");
	gw_syncml_message_add_command(msg,
	                              gw_syncml_alert_new(GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT));
	msg->final = TRUE;
	pkg1 = gw_syncml_message_to_xml(msg);
	g_assert_cmpuint(post(f,
	                      GW_SYNCML_DM_XML_TYPE,
	                      g_bytes_get_data(pkg1, NULL),
	                      g_bytes_get_size(pkg1),
	                      NULL),
	                 ==,
	                 200);
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 1);

	refused = device_spawn(f, "dev-refused", "--parallel=1", "--retries=0", NULL);
	g_assert_cmpint(device_wait(refused), ==, 1);
	log = device_log(f, "dev-refused");
	g_assert_nonnull(strstr(log, "HTTP 503"));
	g_assert_null(gw_inventory_find(f->inventory, "dev-refused"));

	/* the held session is dropped after a second; the retrying device gets in then */
	patient = device_spawn(f, "dev-patient", "--parallel=1", NULL);
	g_assert_cmpint(device_wait(patient), ==, 0);
	g_assert_true(wait_until(no_session_then, f, 4));
	patient_record = gw_inventory_find(f->inventory, "dev-patient");
	g_assert_nonnull(patient_record);
	g_assert_true(wait_until(cmd_done_cond, &get, 12));
	cmd_result_clear(&get);
}

/* the Proxy path to many simulated devices of one process (what a fan-out drives): each gets
 * its own Package #0 at <listen>/notify/<DeviceID>, opens its own session and answers its Get */
static void
test_proxy_simulated_devices(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree gchar *ready = g_build_filename(f->dir, "sim-ready", NULL);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *base = NULL;
	CmdResult gets[20];
	gint rc;

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	proc = device_spawn(f,
	                    "sim-%02u",
	                    "--count=20",
	                    "--parallel=8",
	                    "--server-name=" GW_ID,
	                    "--listen-notify=http://127.0.0.1:0",
	                    "--notifications=20",
	                    ready_arg,
	                    "--quiet",
	                    NULL);
	/* written once all 20 had their registration session */
	g_assert_true(wait_until(file_exists_cond, ready, 30));
	g_assert_true(g_file_get_contents(ready, &base, NULL, NULL));
	g_strstrip(base);
	for (guint i = 0; i < G_N_ELEMENTS(gets); i++) {
		g_autofree gchar *id = g_strdup_printf("sim-%02u", i + 1);
		g_autofree gchar *expected = g_strdup_printf("%s/%s", base, id);
		GwInventoryDevice info = {0};
		g_assert_true(gw_inventory_get_device(f->inventory, id, &info));
		g_assert_cmpstr(info.notify_addr, ==, expected);
		gw_inventory_device_clear(&info);
		send_cmd(f, id, make_get("./DevInfo/DevId"), 20, &gets[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(gets); i++) {
		g_autofree gchar *id = g_strdup_printf("sim-%02u", i + 1);
		const GwSyncmlItem *item;
		g_assert_true(wait_until(cmd_done_cond, &gets[i], 25));
		g_assert_cmpuint(gets[i].status, ==, 200);
		g_assert_cmpuint(gets[i].results->len, ==, 1);
		item = g_ptr_array_index(gets[i].results, 0);
		/* each answer comes from the device it was meant for */
		g_assert_cmpstr(item->data, ==, id);
		cmd_result_clear(&gets[i]);
	}
	rc = device_wait(proc);
	if (rc != 0) {
		g_autofree gchar *log = device_log(f, "sim-%02u");
		g_test_message("device output:\n%s", log);
	}
	g_assert_cmpint(rc, ==, 0);
}

/* ---- issue 11 ---- */

/* a Package #1 of @dev_id (MsgID 1, Alert 1201) in session @sid; @cred_secret: an MD5 Cred
 * with that secret and an empty nonce, NULL: none */
static GBytes *
package1(Fixture *f, const gchar *dev_id, const gchar *sid, const gchar *cred_secret)
{
	g_autoptr(GwSyncmlMessage) msg =
	    gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, sid, 1, f->dm_url, dev_id);

	gw_syncml_message_add_command(msg,
	                              gw_syncml_alert_new(GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT));
	if (cred_secret != NULL) {
		g_autofree gchar *digest = gw_dm_auth_md5_digest(dev_id, cred_secret, NULL, 0);
		gw_syncml_message_set_cred(msg, "syncml:auth-md5", "b64", digest);
	}
	msg->final = TRUE;
	return gw_syncml_message_to_xml(msg);
}

static guint
post_bytes(Fixture *f, GBytes *body, GBytes **reply)
{
	return post(
	    f, GW_SYNCML_DM_XML_TYPE, g_bytes_get_data(body, NULL), g_bytes_get_size(body), reply);
}

/* issue 11 §2: a device (SessionID hard-coded to 1, as real clients do) gets the queued Get in
 * its session, then sends a malformed message: HTTP 400, and the gateway ends that session at
 * once (the Get goes back to the device's queue, nothing waits for session-timeout). Its next
 * Package #1, with the same SessionID 1, is a new session: authenticated, and it runs the Get.
 * @data non-NULL: the device speaks WBXML (the review: the session of a malformed WBXML message
 * was never found, its SyncHdr is read from the tokens now) */
static void
test_broken_session_same_id(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *rec = g_build_filename(f->dir, "broken-record.json", NULL);
	g_autofree gchar *rec_arg = g_strdup_printf("--record=%s", rec);
	g_autofree gchar *log = NULL;
	JsonArray *sessions;
	JsonObject *first;
	JsonObject *second;
	CmdResult get = {0};
	const GwSyncmlItem *item;
	guint before = warnings->len;

	/* the default session-timeout (120 s) is far beyond this test's deadlines */
	provision(f, "dev-broken-1", GW_GWMO_MODE_PROXY, NULL);
	send_cmd(f, "dev-broken-1", make_get("./DevInfo/Mod"), 60, &get);
	proc = device_spawn(f,
	                    "dev-broken-1",
	                    DEVICE_AUTH,
	                    "--session-id=1",
	                    "--count=2",
	                    "--truncate-message=2",
	                    rec_arg,
	                    data != NULL ? "--wbxml" : NULL,
	                    NULL);
	/* the first session fails (its HTTP 400), the second finishes */
	g_assert_cmpint(device_wait(proc), ==, 1);
	log = device_log(f, "dev-broken-1");
	g_test_message("device output:\n%s", log);
	g_assert_nonnull(strstr(log, "message 2 sent truncated"));
	g_assert_nonnull(strstr(log, "HTTP 400"));

	/* the Get ran in the second session, long before any timeout */
	g_assert_true(wait_until(cmd_done_cond, &get, 10));
	g_assert_cmpuint(get.status, ==, 200);
	g_assert_cmpuint(get.results->len, ==, 1);
	item = g_ptr_array_index(get.results, 0);
	g_assert_cmpstr(item->data, ==, "ref-device");
	/* far from the session-timeout (120 s) it would have waited for */
	g_assert_cmpint(get.elapsed_us, <, 40 * G_USEC_PER_SEC);
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 0);
	/* the broken session ended at once, logged with its reason */
	g_assert_cmpuint(count_warnings(before, "malformed message (HTTP 400)"), ==, 1);

	g_assert_true(json_parser_load_from_file(parser, rec, &error));
	g_assert_no_error(error);
	sessions = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
	                                        "sessions");
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	first = json_array_get_object_element(sessions, 0);
	second = json_array_get_object_element(sessions, 1);
	g_assert_cmpstr(json_object_get_string_member(first, "session_id"), ==, "1");
	g_assert_cmpstr(json_object_get_string_member(first, "state"), ==, "failed");
	g_assert_cmpstr(json_object_get_string_member(second, "session_id"), ==, "1");
	g_assert_cmpstr(json_object_get_string_member(second, "state"), ==, "finished");
	g_assert_true(json_object_get_boolean_member(second, "server_authenticated"));
	g_assert_cmpint(json_object_get_int_member(second, "commands_executed"), ==, 1);
	cmd_result_clear(&get);
}

/* issue 11 §2: MsgID 1 with Alert 1201 on the SessionID and Source of an open session (the
 * device restarted; it hard-codes its SessionID) is a new session: the old one ends and the
 * command it was waiting on goes out again in the new one */
static void
test_new_session_same_id(Fixture *f, gconstpointer data)
{
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) reply1 = NULL;
	g_autoptr(GBytes) reply2 = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwSyncmlMessage) r1 = NULL;
	g_autoptr(GwSyncmlMessage) r2 = NULL;
	g_autofree gchar *record = NULL;
	GwInventoryDevice info = {0};
	CmdResult get = {0};
	g_autoptr(GCancellable) cancellable = g_cancellable_new();

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	info.device_id = g_strdup("dev-restart");
	info.mode = GW_GWMO_MODE_PROXY;
	record = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	gw_inventory_device_clear(&info);
	get.start_us = g_get_monotonic_time();
	gw_southbound_send_command_async(
	    f->south, "dev-restart", make_get("./DevInfo/Mod"), 20, cancellable, cmd_done_cb, &get);

	pkg1 = package1(f, "dev-restart", "1", NULL);
	g_assert_cmpuint(post_bytes(f, pkg1, &reply1), ==, 200);
	r1 = gw_syncml_message_parse_xml(
	    g_bytes_get_data(reply1, NULL), g_bytes_get_size(reply1), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 1);

	/* the device starts over: the same bytes, MsgID 1, SessionID 1 */
	g_assert_cmpuint(post_bytes(f, pkg1, &reply2), ==, 200);
	r2 = gw_syncml_message_parse_xml(
	    g_bytes_get_data(reply2, NULL), g_bytes_get_size(reply2), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(f->sessions_finished, ==, 1); /* the old one */
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 1);
	/* the new session's first message, and it carries the Get again */
	g_assert_cmpuint(r2->hdr.msg_id, ==, 1);
	for (guint m = 0; m < 2; m++) {
		GwSyncmlMessage *r = m == 0 ? r1 : r2;
		gboolean has_get = FALSE;
		for (guint i = 0; i < r->commands->len; i++) {
			GwSyncmlCommand *c = g_ptr_array_index(r->commands, i);
			has_get |= c->type == GW_SYNCML_CMD_GET;
		}
		g_assert_true(has_get);
	}
	g_assert_false(get.done);
	/* the command still waits on the device: it must not outlive @get (its callback would
	 * write into a later test's stack at its 20 s timeout) */
	g_cancellable_cancel(cancellable);
	g_assert_true(wait_until(cmd_done_cond, &get, 5));
	g_assert_true(get.cancelled);
	cmd_result_clear(&get);
}

/* the Status a reply gives the device's SyncHdr */
static GwSyncmlCommand *
reply_header_status(GwSyncmlMessage *reply)
{
	for (guint i = 0; i < reply->commands->len; i++) {
		GwSyncmlCommand *c = g_ptr_array_index(reply->commands, i);
		if (c->type == GW_SYNCML_CMD_STATUS && c->cmd_ref == 0)
			return c;
	}
	g_assert_not_reached();
	return NULL;
}

/* a client that answers a challenge by sending its Package #1 again with MsgID 1 (not a new
 * MsgID): the retry goes on in the session that issued the challenge, so the digest over the
 * challenge's nonce is accepted */
static void
test_challenge_retry_msgid_1(Fixture *f, gconstpointer data)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GwSyncmlMessage) r1 = NULL;
	g_autoptr(GwSyncmlMessage) r2 = NULL;
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) retry = NULL;
	g_autoptr(GBytes) reply1 = NULL;
	g_autoptr(GBytes) reply2 = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *stale = NULL;
	g_autofree gchar *fresh = NULL;
	g_autofree guchar *nonce = NULL;
	GwSyncmlCommand *st;
	gsize nonce_len = 0;

	provision(f, "dev-retry", GW_GWMO_MODE_PROXY, NULL);
	/* the right secret over a nonce the gateway never gave: 401 with a challenge */
	msg = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, "1", 1, f->dm_url, "dev-retry");
	gw_syncml_message_add_command(msg,
	                              gw_syncml_alert_new(GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT));
	stale = gw_dm_auth_md5_digest("dev-retry", CL_SECRET, (const guint8 *)"stale", 5);
	gw_syncml_message_set_cred(msg, "syncml:auth-md5", "b64", stale);
	msg->final = TRUE;
	pkg1 = gw_syncml_message_to_xml(msg);
	g_assert_cmpuint(post_bytes(f, pkg1, &reply1), ==, 200);
	r1 = gw_syncml_message_parse_xml(
	    g_bytes_get_data(reply1, NULL), g_bytes_get_size(reply1), &error);
	g_assert_no_error(error);
	st = reply_header_status(r1);
	g_assert_cmpuint(st->status_code, ==, GW_DM_STATUS_INVALID_CREDENTIALS);
	g_assert_nonnull(st->chal);
	g_assert_nonnull(st->chal->next_nonce);
	g_assert_cmpuint(gw_southbound_get_pending_count(f->south), ==, 1);

	/* the same Package #1, MsgID 1 again, digest over the challenge's nonce */
	nonce = g_base64_decode(st->chal->next_nonce, &nonce_len);
	fresh = gw_dm_auth_md5_digest("dev-retry", CL_SECRET, nonce, nonce_len);
	gw_syncml_message_set_cred(msg, "syncml:auth-md5", "b64", fresh);
	retry = gw_syncml_message_to_xml(msg);
	g_assert_cmpuint(post_bytes(f, retry, &reply2), ==, 200);
	r2 = gw_syncml_message_parse_xml(
	    g_bytes_get_data(reply2, NULL), g_bytes_get_size(reply2), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(reply_header_status(r2)->status_code, ==, GW_DM_STATUS_AUTH_ACCEPTED);
	g_assert_cmpuint(gw_southbound_get_pending_count(f->south), ==, 0);
}

/* the flood's size: FLOOD_MAX requests, or what FLOOD_BUDGET_S allows (a sanitizer build is
 * much slower), but never fewer than FLOOD_MIN, several times max-sessions */
#define FLOOD_MAX 1000
#define FLOOD_MIN 200
#define FLOOD_BUDGET_S 5
#define FLOOD_IN_FLIGHT 32

typedef struct {
	Fixture *f;
	GwHttpClient *client;
	const gchar *dev_id;
	gint64 start;
	guint sent;
	guint done;
	guint ok200;
	guint busy503;
	guint other;
	gboolean stopped; /* no more to send */
} Flood;

static void
flood_send(Flood *fl);

static void
flood_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Flood *fl = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpResponse) r =
	    gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	fl->done++;
	if (r == NULL)
		fl->other++;
	else if (r->status == 200)
		fl->ok200++;
	else if (r->status == 503)
		fl->busy503++;
	else
		fl->other++;
	flood_send(fl);
}

/* the next Package #1 naming the device with wrong credentials, its own SessionID */
static void
flood_send(Flood *fl)
{
	g_autofree gchar *sid = NULL;
	g_autoptr(GBytes) body = NULL;
	gint64 elapsed = g_get_monotonic_time() - fl->start;

	if (fl->sent >= FLOOD_MAX ||
	    (fl->sent >= FLOOD_MIN && elapsed > FLOOD_BUDGET_S * G_USEC_PER_SEC)) {
		fl->stopped = TRUE;
		return;
	}
	sid = g_strdup_printf("%X", fl->sent + 0x100);
	body = package1(fl->f, fl->dev_id, sid, "not-the-secret");
	fl->sent++;
	gw_http_client_post_async(
	    fl->client, fl->f->dm_url, GW_SYNCML_DM_XML_TYPE, body, NULL, NULL, flood_cb, fl);
}

static gboolean
flood_done_cond(gpointer data)
{
	Flood *fl = data;
	return fl->stopped && fl->done == fl->sent;
}

static void
flood_wrong_credentials(Fixture *f, const gchar *dev_id, Flood *fl)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpClient) client = gw_http_client_new(NULL, &error);

	g_assert_no_error(error);
	gw_http_client_set_max_in_flight(client, FLOOD_IN_FLIGHT);
	gw_http_client_set_retries(client, 0, 10);
	memset(fl, 0, sizeof(*fl));
	fl->f = f;
	fl->client = client;
	fl->dev_id = dev_id;
	fl->start = g_get_monotonic_time();
	for (guint i = 0; i < FLOOD_IN_FLIGHT; i++)
		flood_send(fl);
	g_assert_true(wait_until(flood_done_cond, fl, 60));
	fl->client = NULL;
}

/* issue 11 §4: a flood of Package #1s naming a provisioned DeviceID (not a secret) with wrong
 * credentials and distinct SessionIDs: each is answered (401 in SyncML), a few unauthenticated
 * sessions are kept per address, none takes a max-sessions slot, the device's queued command
 * or its nonce; the real device's session then succeeds at once and runs its command */
static void
test_unauthenticated_flood(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree gchar *log = NULL;
	CmdResult get = {0};
	Flood fl;
	gint64 start;
	gdouble flood_s;
	guint before = warnings->len;

	gw_config_set_string(f->config, "southbound", "max-sessions", "16");
	provision(f, "dev-victim", GW_GWMO_MODE_PROXY, NULL);
	/* a first session: the device and the gateway agree on nonces */
	session_of(f, "dev-victim", "udp://127.0.0.1:9");
	send_cmd(f, "dev-victim", make_get("./DevInfo/Mod"), 30, &get);
	g_test_message("sessions before the flood: %u", gw_southbound_get_session_count(f->south));
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 0);

	start = g_get_monotonic_time();
	flood_wrong_credentials(f, "dev-victim", &fl);
	flood_s = (g_get_monotonic_time() - start) / 1e6;
	g_test_message("%u wrong-credential Package #1s in %.2f s: %u answered 200, %u 503, "
	               "%u other; sessions held after: %u (%u unauthenticated)",
	               fl.sent,
	               flood_s,
	               fl.ok200,
	               fl.busy503,
	               fl.other,
	               gw_southbound_get_session_count(f->south),
	               gw_southbound_get_pending_count(f->south));
	g_assert_cmpuint(fl.sent, >=, FLOOD_MIN);
	g_assert_cmpuint(fl.ok200, ==, fl.sent);
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), <=, 4);
	g_assert_cmpuint(gw_southbound_get_pending_count(f->south),
	                 ==,
	                 gw_southbound_get_session_count(f->south));
	g_assert_false(get.done);
	/* the refusals are logged, rate-limited: not a thousand lines */
	g_assert_cmpuint(
	    count_warnings(before, "credentials of device dev-victim from 127.0.0.1"), >=, 1);
	g_assert_cmpuint(count_warnings(before, "credentials of device dev-victim"),
	                 <=,
	                 (GW_LOG_RATELIMIT_BURST + 1) *
	                     (1 + (guint)(flood_s / GW_LOG_RATELIMIT_INTERVAL)));

	/* the real device at once: authenticated on its first message, the Get runs */
	start = g_get_monotonic_time();
	proc = device_spawn(f, "dev-victim", DEVICE_AUTH, "--notify-addr=udp://127.0.0.1:9", NULL);
	if (device_wait(proc) != 0) {
		log = device_log(f, "dev-victim");
		g_test_message("device output:\n%s", log);
		g_assert_not_reached();
	}
	g_test_message("the real device's session after the flood: %.3f s",
	               (g_get_monotonic_time() - start) / 1e6);
	g_assert_true(wait_until(cmd_done_cond, &get, 5));
	g_assert_cmpuint(get.status, ==, 200);
	cmd_result_clear(&get);
}

/* issue 11 §3: the Package #0 the gateway sends a device is signed with the nonce the device
 * gave it (the NextNonce in the Chal of its Status), the all-zero nonce while it has none; the
 * reference device checks it with the nonce it keeps and says which one verified */
static void
test_pkg0_device_nonce(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree gchar *ready = g_build_filename(f->dir, "nonce-ready", NULL);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *log = NULL;
	SessionsCond registered = {f, 1};
	CmdResult first = {0};
	CmdResult second = {0};
	gint rc;

	provision(f, "dev-nonce", GW_GWMO_MODE_PROXY, NULL);
	proc = device_spawn(f,
	                    "dev-nonce",
	                    DEVICE_AUTH,
	                    "--listen-notify=http://127.0.0.1:0",
	                    ready_arg,
	                    "--register",
	                    "--count=2",
	                    NULL);
	g_assert_true(wait_until(file_exists_cond, ready, 20));
	g_assert_true(wait_until(sessions_cond, &registered, 20));
	/* woken once: no nonce from the device yet; in that session the device answers the Get
	 * and gives the gateway its NextNonce */
	send_cmd(f, "dev-nonce", make_get("./DevInfo/Mod"), 20, &first);
	g_assert_true(wait_until(cmd_done_cond, &first, 25));
	g_assert_cmpuint(first.status, ==, 200);
	/* woken again: signed with that nonce */
	send_cmd(f, "dev-nonce", make_get("./DevInfo/Man"), 20, &second);
	g_assert_true(wait_until(cmd_done_cond, &second, 25));
	g_assert_cmpuint(second.status, ==, 200);
	rc = device_wait(proc);
	log = device_log(f, "dev-nonce");
	g_test_message("device output:\n%s", log);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(
	    strstr(log,
	           "notification for dev-nonce verified with the all-zero nonce (no nonce "
	           "stored)"));
	g_assert_nonnull(strstr(log, "notification for dev-nonce verified with the stored nonce"));
	g_assert_null(strstr(log, "refused"));
	cmd_result_clear(&first);
	cmd_result_clear(&second);
}

typedef struct {
	guint calls;
	gchar *address; /* the record's Address when "device-attached" came */
} Attached;

static void
attached_cb(GwInventory *inventory,
            const gchar *record_uri,
            const gchar *device_id,
            gboolean is_new,
            gpointer user_data)
{
	Attached *a = user_data;
	GwInventoryDevice info = {0};
	a->calls++;
	g_assert_true(gw_inventory_get_device(inventory, device_id, &info));
	g_free(a->address);
	a->address = g_strdup(info.address);
	gw_inventory_device_clear(&info);
}

/* issue 11 §5 (GwMO-HLF-003, GwMO-DI-004): a provisioned device is Detached, and nothing says it
 * is attached, until its first authenticated session; then it is Attached with its address and
 * "device-attached" (what DeviceAttached alerts follow) comes once, with the address set */
static void
test_provisioned_detached(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) wrong = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *status_uri = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *address = NULL;
	Attached a = {0};
	GwInventoryDevice info = {0};
	gulong id;

	id = g_signal_connect(f->inventory, "device-attached", G_CALLBACK(attached_cb), &a);
	info.device_id = g_strdup("dev-prov-5");
	info.mode = GW_GWMO_MODE_PROXY;
	info.trusted = TRUE;
	info.auth_type = g_strdup("DIGEST");
	info.client_secret = g_strdup(CL_SECRET);
	info.server_secret = g_strdup(SRV_SECRET);
	record = gw_inventory_provision(f->inventory, &info, &error);
	g_assert_no_error(error);
	/* provisioning the same device again is refused */
	g_assert_null(gw_inventory_provision(f->inventory, &info, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_ALREADY_EXISTS);
	g_clear_error(&error);
	gw_inventory_device_clear(&info);
	status_uri = g_strdup_printf("%s/Status", record);
	status = gw_dm_tree_dup_string(f->tree, status_uri);
	g_assert_cmpstr(status, ==, "Detached");
	g_assert_cmpuint(a.calls, ==, 0);

	/* a peer naming it with wrong credentials attaches nothing */
	wrong = device_spawn(f,
	                     "dev-prov-5",
	                     "--auth=md5",
	                     "--client-secret=not-the-secret",
	                     "--server-secret=" SRV_SECRET,
	                     "--server-name=" GW_ID,
	                     NULL);
	g_assert_cmpint(device_wait(wrong), !=, 0);
	g_clear_pointer(&status, g_free);
	status = gw_dm_tree_dup_string(f->tree, status_uri);
	g_assert_cmpstr(status, ==, "Detached");
	g_assert_cmpuint(a.calls, ==, 0);

	/* its first authenticated session */
	proc = device_spawn(f, "dev-prov-5", DEVICE_AUTH, NULL);
	g_assert_cmpint(device_wait(proc), ==, 0);
	g_clear_pointer(&status, g_free);
	status = gw_dm_tree_dup_string(f->tree, status_uri);
	g_assert_cmpstr(status, ==, "Attached");
	g_assert_cmpuint(a.calls, ==, 1);
	g_assert_cmpstr(a.address, ==, "127.0.0.1");
	{
		g_autofree gchar *uri = g_strdup_printf("%s/Address", record);
		address = gw_dm_tree_dup_string(f->tree, uri);
	}
	g_assert_cmpstr(address, ==, "127.0.0.1");

	/* the same for a device whose Package #1 carries no DevInfo */
	provision(f, "dev-prov-6", GW_GWMO_MODE_PROXY, NULL);
	g_assert_true(gw_inventory_detach(f->inventory, "dev-prov-6", &error));
	g_assert_no_error(error);
	a.calls = 0;
	{
		g_autoptr(GBytes) pkg1 = package1(f, "dev-prov-6", "6", CL_SECRET);
		g_autofree gchar *uri = NULL;
		g_autofree gchar *value = NULL;
		g_autofree gchar *record6 = gw_inventory_find(f->inventory, "dev-prov-6");
		g_assert_cmpuint(post_bytes(f, pkg1, NULL), ==, 200);
		uri = g_strdup_printf("%s/Status", record6);
		value = gw_dm_tree_dup_string(f->tree, uri);
		g_assert_cmpstr(value, ==, "Attached");
	}
	g_assert_cmpuint(a.calls, ==, 1);
	g_assert_cmpstr(a.address, ==, "127.0.0.1");
	g_signal_handler_disconnect(f->inventory, id);
	g_free(a.address);
}

/* issue 11 §2: every refused request is logged with its reason and the peer's address, once per
 * reason in a while however many come */
static void
test_refusals_logged(Fixture *f, gconstpointer data)
{
	static const gchar junk[] = "<html><body>hello</body></html>";
	g_autoptr(GBytes) stranger = NULL;
	guint before = warnings->len;

	/* one line per call site in a long interval, so the second 415 must be suppressed */
	gw_log_ratelimit_set_policy(60 * 1000, 1);
	g_assert_cmpuint(post(f, "text/plain", "x", 1, NULL), ==, 415);
	g_assert_cmpuint(post(f, "application/json", "{}", 2, NULL), ==, 415);
	g_assert_cmpuint(post(f, GW_SYNCML_DM_XML_TYPE, junk, sizeof(junk) - 1, NULL), ==, 400);
	stranger = package1(f, "dev-nobody", "5", NULL);
	g_assert_cmpuint(post_bytes(f, stranger, NULL), ==, 403);
	g_assert_cmpuint(
	    count_warnings(before,
	                   "POST /dm from 127.0.0.1 refused (415): Content-Type text/plain"),
	    ==,
	    1);
	/* the second 415 within the interval is counted, not logged */
	g_assert_cmpuint(count_warnings(before, "refused (415)"), ==, 1);
	g_assert_cmpuint(
	    count_warnings(before, "POST /dm from 127.0.0.1 refused (400): malformed DM message"),
	    ==,
	    1);
	g_assert_cmpuint(
	    count_warnings(before,
	                   "POST /dm from 127.0.0.1 refused (403): unknown device dev-nobody"),
	    ==,
	    1);
	gw_log_ratelimit_set_policy(0, 0);
}

/* ---- issue 11 review ---- */

/* raw POSTs to /dm from other loopback addresses (other peers), in a thread while the main
 * loop serves them */
typedef struct {
	guint16 port;
	GPtrArray *from;   /* (element-type utf8) the address of each request */
	GPtrArray *bodies; /* (element-type GBytes) */
	const gchar *content_type;
	gsize send_limit;   /* >0: send the headers and this much of each body, then wait for EOF */
	GArray *statuses;   /* guint, 0 when no answer */
	GPtrArray *answers; /* (element-type utf8) what came back */
	gint done;
} RawPosts;

static guint
raw_post_one(RawPosts *rp, const gchar *from, GBytes *body)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GInetAddress) la = g_inet_address_new_from_string(from);
	g_autoptr(GSocketAddress) local = g_inet_socket_address_new(la, 0);
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *head = NULL;
	g_autofree gchar *host = g_strdup_printf("127.0.0.1:%u", rp->port);
	GString *answer = g_string_new(NULL);
	gchar buf[4096];
	gssize n;
	gsize len = g_bytes_get_size(body);

	g_socket_client_set_local_address(client, local);
	g_socket_client_set_timeout(client, 20);
	conn = g_socket_client_connect_to_host(client, host, 0, NULL, &error);
	g_assert_no_error(error);
	head = g_strdup_printf("POST /dm HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
	                       "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	                       rp->content_type,
	                       len);
	g_output_stream_write_all(
	    g_io_stream_get_output_stream(G_IO_STREAM(conn)), head, strlen(head), NULL, NULL, NULL);
	g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
	                          g_bytes_get_data(body, NULL),
	                          rp->send_limit > 0 ? MIN(rp->send_limit, len) : len,
	                          NULL,
	                          NULL,
	                          NULL);
	while (
	    (n = g_input_stream_read(
	         g_io_stream_get_input_stream(G_IO_STREAM(conn)), buf, sizeof(buf), NULL, NULL)) >
	    0)
		g_string_append_len(answer, buf, n);
	g_ptr_array_add(rp->answers, g_string_free(answer, FALSE));
	{
		const gchar *a = g_ptr_array_index(rp->answers, rp->answers->len - 1);
		return strlen(a) > 12 && g_str_has_prefix(a, "HTTP/1.1 ") ? (guint)atoi(a + 9) : 0;
	}
}

static gpointer
raw_posts_thread(gpointer data)
{
	RawPosts *rp = data;
	for (guint i = 0; i < rp->bodies->len; i++) {
		guint status = raw_post_one(
		    rp, g_ptr_array_index(rp->from, i), g_ptr_array_index(rp->bodies, i));
		g_array_append_val(rp->statuses, status);
	}
	g_atomic_int_set(&rp->done, TRUE);
	return NULL;
}

static gboolean
raw_posts_done(gpointer data)
{
	return g_atomic_int_get(&((RawPosts *)data)->done);
}

static void
raw_posts_init(RawPosts *rp, Fixture *f)
{
	g_autoptr(GUri) uri = g_uri_parse(f->dm_url, G_URI_FLAGS_NONE, NULL);
	memset(rp, 0, sizeof(*rp));
	rp->port = (guint16)g_uri_get_port(uri);
	rp->from = g_ptr_array_new_with_free_func(g_free);
	rp->bodies = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	rp->content_type = GW_SYNCML_DM_XML_TYPE;
	rp->statuses = g_array_new(FALSE, TRUE, sizeof(guint));
	rp->answers = g_ptr_array_new_with_free_func(g_free);
}

static void
raw_posts_add(RawPosts *rp, const gchar *from, GBytes *body)
{
	g_ptr_array_add(rp->from, g_strdup(from));
	g_ptr_array_add(rp->bodies, g_bytes_ref(body));
}

/* runs them all (the main loop serves meanwhile); their statuses in rp->statuses */
static void
raw_posts_run(RawPosts *rp, guint seconds)
{
	GThread *t = g_thread_new("raw-posts", raw_posts_thread, rp);
	g_assert_true(wait_until(raw_posts_done, rp, seconds));
	g_thread_join(t);
}

static void
raw_posts_clear(RawPosts *rp)
{
	g_ptr_array_unref(rp->from);
	g_ptr_array_unref(rp->bodies);
	g_array_unref(rp->statuses);
	g_ptr_array_unref(rp->answers);
}

/* one POST from @from, its status */
static guint
post_from(Fixture *f, const gchar *from, GBytes *body)
{
	RawPosts rp;
	guint status;

	raw_posts_init(&rp, f);
	raw_posts_add(&rp, from, body);
	raw_posts_run(&rp, 30);
	status = g_array_index(rp.statuses, guint, 0);
	raw_posts_clear(&rp);
	return status;
}

/* a Package #1 of @dev_id in session @sid whose MD5 Cred is over @nonce (NULL: a nonce the
 * gateway never gave), the message itself in @msg_out to send again */
static GBytes *
package1_md5(Fixture *f,
             const gchar *dev_id,
             const gchar *sid,
             const guint8 *nonce,
             gsize nonce_len,
             GwSyncmlMessage **msg_out)
{
	g_autoptr(GwSyncmlMessage) msg =
	    gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, sid, 1, f->dm_url, dev_id);
	g_autofree gchar *digest =
	    nonce != NULL ? gw_dm_auth_md5_digest(dev_id, CL_SECRET, nonce, nonce_len)
	                  : gw_dm_auth_md5_digest(dev_id, CL_SECRET, (const guint8 *)"stale", 5);
	GBytes *bytes;

	gw_syncml_message_add_command(msg,
	                              gw_syncml_alert_new(GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT));
	gw_syncml_message_set_cred(msg, "syncml:auth-md5", "b64", digest);
	msg->final = TRUE;
	bytes = gw_syncml_message_to_xml(msg);
	if (msg_out != NULL)
		*msg_out = g_steal_pointer(&msg);
	return bytes;
}

/* the header Status of the reply @reply, and the challenge's nonce (decoded) in @nonce */
static guint
reply_status(GBytes *reply, guchar **nonce, gsize *nonce_len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwSyncmlMessage) r = gw_syncml_message_parse_xml(
	    g_bytes_get_data(reply, NULL), g_bytes_get_size(reply), &error);
	GwSyncmlCommand *st;

	g_assert_no_error(error);
	st = reply_header_status(r);
	if (nonce != NULL) {
		g_assert_nonnull(st->chal);
		*nonce = g_base64_decode(st->chal->next_nonce, nonce_len);
	}
	return st->status_code;
}

/* review: an unauthenticated peer at another address naming a device and the SessionID of its
 * session made a pending session that shadowed the device's authenticated one (its next message
 * got 403), or ended the device's pending session between its challenge and its retry. Pending
 * sessions are found only from their own address now. */
static void
test_unauthenticated_peer_shadow(Fixture *f, gconstpointer data)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GwSyncmlMessage) msg2 = NULL;
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) retry = NULL;
	g_autoptr(GBytes) reply1 = NULL;
	g_autoptr(GBytes) reply2 = NULL;
	g_autoptr(GBytes) attack = NULL;
	g_autoptr(GBytes) next = NULL;
	g_autofree guchar *nonce = NULL;
	g_autofree gchar *fresh = NULL;
	gsize nonce_len = 0;

	provision(f, "dev-h", GW_GWMO_MODE_PROXY, NULL);

	/* the device: challenged, then attacked from another address before its retry */
	pkg1 = package1_md5(f, "dev-h", "1", NULL, 0, &msg);
	g_assert_cmpuint(post_bytes(f, pkg1, &reply1), ==, 200);
	g_assert_cmpuint(
	    reply_status(reply1, &nonce, &nonce_len), ==, GW_DM_STATUS_INVALID_CREDENTIALS);
	attack = package1(f, "dev-h", "1", "wrong-secret");
	g_assert_cmpuint(post_from(f, "127.0.0.2", attack), ==, 200);
	g_assert_cmpuint(gw_southbound_get_pending_count(f->south), ==, 2);
	/* its retry goes on in its own pending session */
	fresh = gw_dm_auth_md5_digest("dev-h", CL_SECRET, nonce, nonce_len);
	gw_syncml_message_set_cred(msg, "syncml:auth-md5", "b64", fresh);
	retry = gw_syncml_message_to_xml(msg);
	g_assert_cmpuint(post_bytes(f, retry, &reply2), ==, 200);
	g_assert_cmpuint(reply_status(reply2, NULL, NULL), ==, GW_DM_STATUS_AUTH_ACCEPTED);

	/* attacked again, the session authenticated: the device's next message is served */
	g_assert_cmpuint(post_from(f, "127.0.0.2", attack), ==, 200);
	msg2 = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, "1", 2, f->dm_url, "dev-h");
	msg2->final = TRUE;
	next = gw_syncml_message_to_xml(msg2);
	g_assert_cmpuint(post_bytes(f, next, NULL), ==, 200);
}

/* review: a pending session table full of unauthenticated sessions from many peers made room by
 * ending the oldest, a real device's between its challenge and its retry. A full table now
 * refuses the newcomer (503, Retry-After); a peer only ever makes room with its own */
static void
test_pending_full_refuses(Fixture *f, gconstpointer data)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) reply1 = NULL;
	g_autoptr(GBytes) reply2 = NULL;
	g_autoptr(GBytes) retry = NULL;
	g_autofree guchar *nonce = NULL;
	g_autofree gchar *fresh = NULL;
	gsize nonce_len = 0;
	RawPosts rp;
	guint refused = 0;
	const guint peers = 1024 / 4 + 8;

	provision(f, "dev-q", GW_GWMO_MODE_PROXY, NULL);
	provision(f, "dev-flooded", GW_GWMO_MODE_PROXY, NULL);
	pkg1 = package1_md5(f, "dev-q", "1", NULL, 0, &msg);
	g_assert_cmpuint(post_bytes(f, pkg1, &reply1), ==, 200);
	g_assert_cmpuint(
	    reply_status(reply1, &nonce, &nonce_len), ==, GW_DM_STATUS_INVALID_CREDENTIALS);

	/* 4 unauthenticated sessions from each of many addresses: more than the table holds */
	raw_posts_init(&rp, f);
	for (guint p = 0; p < peers; p++) {
		g_autofree gchar *from = g_strdup_printf("127.0.%u.%u", 10 + p / 200, 2 + p % 200);
		for (guint i = 0; i < 4; i++) {
			g_autofree gchar *sid = g_strdup_printf("%X", 0x100 + p * 4 + i);
			g_autoptr(GBytes) body = package1(f, "dev-flooded", sid, "not-the-secret");
			raw_posts_add(&rp, from, body);
		}
	}
	raw_posts_run(&rp, 120);
	for (guint i = 0; i < rp.statuses->len; i++) {
		guint status = g_array_index(rp.statuses, guint, i);
		if (status == 503) {
			g_assert_nonnull(
			    strstr(g_ptr_array_index(rp.answers, i), "Retry-After: 1"));
			refused++;
		} else {
			g_assert_cmpuint(status, ==, 200);
		}
	}
	g_test_message("%u unauthenticated Package #1s from %u addresses: %u refused (503), %u "
	               "pending",
	               rp.statuses->len,
	               peers,
	               refused,
	               gw_southbound_get_pending_count(f->south));
	g_assert_cmpuint(gw_southbound_get_pending_count(f->south), ==, 1024);
	g_assert_cmpuint(refused, ==, rp.statuses->len - 1023);
	raw_posts_clear(&rp);

	/* the device's retry: its pending session is still there */
	fresh = gw_dm_auth_md5_digest("dev-q", CL_SECRET, nonce, nonce_len);
	gw_syncml_message_set_cred(msg, "syncml:auth-md5", "b64", fresh);
	retry = gw_syncml_message_to_xml(msg);
	g_assert_cmpuint(post_bytes(f, retry, &reply2), ==, 200);
	g_assert_cmpuint(reply_status(reply2, NULL, NULL), ==, GW_DM_STATUS_AUTH_ACCEPTED);
}

/* review: a message refused by the HTTP layer before the handler saw it (here one whose body
 * stopped: the body deadline) never reached the session it belonged to, which waited for
 * session-timeout. It ends at once now, found from the body's first bytes and the address */
static void
test_refused_message_ends_session(Fixture *f, gconstpointer data)
{
	GwHttpServerLimits limits = {0};
	g_autoptr(GwSyncmlMessage) msg2 = NULL;
	g_autoptr(GBytes) pkg1 = NULL;
	g_autoptr(GBytes) next = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = NULL;
	GwInventoryDevice info = {0};
	CmdResult get = {0};
	RawPosts rp;

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	info.device_id = g_strdup("dev-cut");
	info.mode = GW_GWMO_MODE_PROXY;
	record = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	gw_inventory_device_clear(&info);
	send_cmd(f, "dev-cut", make_get("./DevInfo/Mod"), 3, &get);
	/* the session takes the Get */
	pkg1 = package1(f, "dev-cut", "7", NULL);
	g_assert_cmpuint(post_bytes(f, pkg1, &reply), ==, 200);
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 1);

	/* its next message stops halfway: the body deadline */
	limits.body_ms = 300;
	gw_http_server_set_limits(gw_southbound_get_http_server(f->south), &limits);
	msg2 = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, "7", 2, f->dm_url, "dev-cut");
	msg2->final = TRUE;
	next = gw_syncml_message_to_xml(msg2);
	raw_posts_init(&rp, f);
	/* its SyncHdr, not its end */
	g_assert_nonnull(g_strstr_len(g_bytes_get_data(next, NULL), -1, "</SyncHdr>"));
	rp.send_limit = (gsize)(g_strstr_len(g_bytes_get_data(next, NULL), -1, "</SyncHdr>") -
	                        (const gchar *)g_bytes_get_data(next, NULL));
	raw_posts_add(&rp, "127.0.0.1", next);
	raw_posts_run(&rp, 10);
	raw_posts_clear(&rp);
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 0);
	g_assert_cmpuint(f->sessions_finished, ==, 1);
	/* the Get waits for the device's next session (it has no NotifyAddr), or its timeout */
	g_assert_false(get.done);
	g_assert_true(wait_until(cmd_done_cond, &get, 10));
	g_assert_cmpuint(get.status, ==, 408);
	cmd_result_clear(&get);
}

/* review (and the "session broken while a command is in flight"): commands handed
 * back when a session ended waited with no Package #0 (one went out only for a queue's first
 * command), until their timeout. The device is woken again, after a back-off, and the command
 * completes in its next session without the device starting one by itself */
static void
test_broken_session_rewake(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree gchar *ready = g_build_filename(f->dir, "rewake-ready", NULL);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *url = NULL;
	g_autofree gchar *log = NULL;
	CmdResult get = {0};
	const GwSyncmlItem *item;

	proc = device_spawn(f,
	                    "dev-rewake",
	                    DEVICE_AUTH,
	                    "--listen-notify=http://127.0.0.1:0",
	                    ready_arg,
	                    "--count=2",
	                    "--truncate-message=2",
	                    NULL);
	g_assert_true(wait_until(file_exists_cond, ready, 20));
	g_assert_true(g_file_get_contents(ready, &url, NULL, NULL));
	g_strstrip(url);
	provision(f, "dev-rewake", GW_GWMO_MODE_PROXY, url);
	send_cmd(f, "dev-rewake", make_get("./DevInfo/Mod"), 30, &get);
	g_assert_true(wait_until(cmd_done_cond, &get, 35));
	log = device_log(f, "dev-rewake");
	g_test_message("device output:\n%s", log);
	g_assert_cmpuint(get.status, ==, 200);
	g_assert_cmpuint(get.results->len, ==, 1);
	item = g_ptr_array_index(get.results, 0);
	g_assert_cmpstr(item->data, ==, "ref-device");
	/* well before the command's timeout: a second Package #0 brought the device */
	g_assert_cmpint(get.elapsed_us, <, 20 * G_USEC_PER_SEC);
	g_assert_nonnull(strstr(log, "message 2 sent truncated"));
	g_assert_nonnull(strstr(strstr(log, "message 2 sent truncated"), "notified session"));
	/* the first session failed (HTTP 400): the device exits 1 */
	g_assert_cmpint(device_wait(proc), ==, 1);
	cmd_result_clear(&get);
}

/* a new gateway on the same state directory, port and configuration (gwmod restarted): the
 * tree is loaded back from the disk */
static void
restart_gateway(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GUri) uri = g_uri_parse(f->dm_url, G_URI_FLAGS_NONE, NULL);
	g_autofree gchar *listen = g_strdup_printf("http://127.0.0.1:%d", g_uri_get_port(uri));

	g_assert_true(gw_dm_store_flush(f->store, &error));
	g_assert_no_error(error);
	g_clear_object(&f->south);
	g_clear_object(&f->inventory);
	g_clear_object(&f->store);
	g_clear_object(&f->tree);
	while (g_main_context_iteration(NULL, FALSE))
		;
	f->tree = gw_dm_tree_new();
	f->store = gw_dm_store_new(f->tree, f->dir);
	g_assert_true(gw_dm_store_load(f->store, &error));
	g_assert_no_error(error);
	f->inventory = gw_inventory_new(f->tree, f->config);
	g_assert_true(gw_inventory_start(f->inventory, &error));
	g_assert_no_error(error);
	gw_config_set_string(f->config, "southbound", "listen", listen);
	f->south = gw_southbound_new(f->config, f->tree, f->store, f->inventory, f->dir, &error);
	g_assert_no_error(error);
	g_assert_true(gw_southbound_start(f->south, &error));
	g_assert_no_error(error);
	g_signal_connect(f->south, "session-finished", G_CALLBACK(session_finished_cb), f);
}

typedef struct {
	const gchar *path;
	guint n;
} RecordCond;

/* the device's --record file holds @n sessions (it is written once a session is over for the
 * device) */
static gboolean
record_sessions_cond(gpointer data)
{
	RecordCond *c = data;
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonNode *root;

	if (!json_parser_load_from_file(parser, c->path, NULL))
		return FALSE;
	root = json_parser_get_root(parser);
	return root != NULL && JSON_NODE_HOLDS_OBJECT(root) &&
	       json_object_has_member(json_node_get_object(root), "sessions") &&
	       json_array_get_length(
	           json_object_get_array_member(json_node_get_object(root), "sessions")) >= c->n;
}

/* review: the device nonces lived in memory only: after a restart the gateway signed the
 * device's Package #0 with the all-zero nonce and challenged its next Package #1, a round trip
 * more for every MD5 device. They are in its record now (Credentials/ClientNonce,
 * ServerNonce, never readable) */
static void
test_nonces_survive_restart(Fixture *f, gconstpointer data)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree gchar *ready = g_build_filename(f->dir, "persist-ready", NULL);
	g_autofree gchar *ready_arg = g_strdup_printf("--ready-file=%s", ready);
	g_autofree gchar *rec = g_build_filename(f->dir, "persist-record.json", NULL);
	g_autofree gchar *rec_arg = g_strdup_printf("--record=%s", rec);
	g_autofree gchar *log = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *nonce_uri = NULL;
	RecordCond sessions = {rec, 1};
	CmdResult get = {0};
	const gchar *last;
	gint rc;

	provision(f, "dev-persist", GW_GWMO_MODE_PROXY, NULL);
	proc = device_spawn(f,
	                    "dev-persist",
	                    DEVICE_AUTH,
	                    "--listen-notify=http://127.0.0.1:0",
	                    ready_arg,
	                    rec_arg,
	                    "--register",
	                    "--count=2",
	                    NULL);
	g_assert_true(wait_until(file_exists_cond, ready, 20));
	/* the registration, then a notified session: both sides have each other's nonce */
	g_assert_true(wait_until(record_sessions_cond, &sessions, 20));
	send_cmd(f, "dev-persist", make_get("./DevInfo/Mod"), 20, &get);
	g_assert_true(wait_until(cmd_done_cond, &get, 25));
	g_assert_cmpuint(get.status, ==, 200);
	cmd_result_clear(&get);
	sessions.n = 2;
	g_assert_true(wait_until(record_sessions_cond, &sessions, 20));
	/* in the record, and no DM Server or D-Bus client reads them */
	record = gw_inventory_find(f->inventory, "dev-persist");
	nonce_uri = g_strdup_printf("%s/Credentials/ClientNonce", record);
	g_assert_nonnull(gw_dm_tree_lookup(f->tree, nonce_uri));
	g_assert_false(gw_dm_node_get_access(gw_dm_tree_lookup(f->tree, nonce_uri)) &
	               GW_DM_ACCESS_GET);

	restart_gateway(f);
	send_cmd(f, "dev-persist", make_get("./DevInfo/Man"), 20, &get);
	g_assert_true(wait_until(cmd_done_cond, &get, 25));
	g_assert_cmpuint(get.status, ==, 200);
	rc = device_wait(proc);
	log = device_log(f, "dev-persist");
	g_test_message("device output:\n%s", log);
	g_assert_cmpint(rc, ==, 0);
	/* the Package #0 after the restart was signed with the nonce the device gave before it,
	 * and the device's first message was accepted: two messages, no challenge */
	last = g_strrstr(log, "notification for dev-persist verified");
	g_assert_nonnull(last);
	g_assert_true(
	    g_str_has_prefix(last, "notification for dev-persist verified with the stored nonce"));
	last = g_strrstr(log, "finished (");
	g_assert_nonnull(last);
	g_assert_true(g_str_has_prefix(last, "finished (1 commands executed, 2 messages sent)"));
	cmd_result_clear(&get);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* the endpoint warns about what peers do wrong; that is what the tests provoke */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	if (argc < 2) {
		g_printerr("usage: %s GWMO-TEST-DEVICE\n", argv[0]);
		return 2;
	}
	device_binary = argv[1];
	warnings = g_ptr_array_new_with_free_func(g_free);
	g_log_set_writer_func(count_writer, NULL, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	/* first: they count rate-limited warnings (one per reason per 10 s in this process) */
	ADD("/southbound/refusals-logged", test_refusals_logged);
	ADD("/southbound/unauthenticated-flood", test_unauthenticated_flood);
	ADD("/southbound/provisioned-implicit-registration", test_provisioned_implicit);
	ADD("/southbound/unchanged-session", test_unchanged_session);
	ADD("/southbound/wbxml-session", test_wbxml_session);
	ADD("/southbound/wrong-secret", test_wrong_secret);
	ADD("/southbound/unknown-device", test_unknown_device);
	ADD("/southbound/open-registration", test_open_registration);
	ADD("/southbound/explicit-registration", test_explicit_registration);
	ADD("/southbound/proxy-get-replace", test_proxy_get_replace);
	ADD("/southbound/proxy-timeout", test_proxy_timeout);
	ADD("/southbound/polling-idle-session", test_polling_idle_session);
	ADD("/southbound/malformed", test_malformed);
	ADD("/southbound/group-commit", test_group_commit);
	ADD("/southbound/max-sessions", test_max_sessions);
	ADD("/southbound/proxy-simulated-devices", test_proxy_simulated_devices);
	ADD("/southbound/broken-session-same-id", test_broken_session_same_id);
	ADD("/southbound/new-session-same-id", test_new_session_same_id);
	ADD("/southbound/challenge-retry-msgid-1", test_challenge_retry_msgid_1);
	ADD("/southbound/pkg0-device-nonce", test_pkg0_device_nonce);
	ADD("/southbound/provisioned-detached", test_provisioned_detached);
	g_test_add("/southbound/broken-session-same-id-wbxml",
	           Fixture,
	           "wbxml",
	           fixture_setup,
	           test_broken_session_same_id,
	           fixture_teardown);
	ADD("/southbound/unauthenticated-peer-shadow", test_unauthenticated_peer_shadow);
	ADD("/southbound/pending-full-refuses", test_pending_full_refuses);
	ADD("/southbound/refused-message-ends-session", test_refused_message_ends_session);
	ADD("/southbound/broken-session-rewake", test_broken_session_rewake);
	ADD("/southbound/nonces-survive-restart", test_nonces_survive_restart);
#undef ADD
	return g_test_run();
}
