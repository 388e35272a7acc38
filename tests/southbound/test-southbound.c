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
 *    commit); [southbound] max-sessions answers 503 and a retrying device gets in later.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-gwmo-mo.h"
#include "gw-http-client.h"
#include "gw-inventory.h"
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
	GwDeviceInfo info = {0};

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
	gw_device_info_clear(&info);
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
} CmdResult;

static void
cmd_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	CmdResult *r = user_data;
	g_autoptr(GError) error = NULL;
	r->ok = gw_southbound_send_command_finish(
	    GW_SOUTHBOUND(source), res, &r->status, &r->results, &error);
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
	GwDeviceInfo info = {0};
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
	gw_device_info_clear(&info);
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
	GwDeviceInfo info = {0};
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
	gw_device_info_clear(&info);
}

static guint registered_logs; /* "device … registered (…)" lines gwmod logged */

static GLogWriterOutput
count_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0 &&
		    g_str_has_prefix(fields[i].value, "device ") &&
		    strstr(fields[i].value, " registered (") != NULL)
			registered_logs++;
	}
	return g_log_writer_default(level, fields, n_fields, user_data);
}

static void
record_changed_cb(GwDmTree *tree, const gchar *uri, guint change, gpointer sid, gpointer data)
{
	GPtrArray *changed = data;
	const gchar *record = g_ptr_array_index(changed, 0);
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
	GwDeviceInfo info = {0};

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
	gw_device_info_clear(&info);
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
	GwDeviceInfo info = {0};

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	proc = device_spawn(f, "dev-open", NULL);
	g_assert_cmpint(device_wait(proc), ==, 0);
	g_assert_true(gw_inventory_get_device(f->inventory, "dev-open", &info));
	g_assert_false(info.trusted);
	g_assert_cmpuint(info.mode, ==, GW_GWMO_MODE_PROXY);
	g_assert_cmpstr(g_hash_table_lookup(info.devinfo, "Mod"), ==, "ref-device");
	gw_device_info_clear(&info);
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
	GwDeviceInfo info = {0};

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
	gw_device_info_clear(&info);

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
	gw_device_info_clear(&info);
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
	GwDeviceInfo info = {0};
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
	gw_device_info_clear(&info);

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
	GwDeviceInfo info = {0};

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
	gw_device_info_clear(&info);
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
	GwDeviceInfo info = {0};
	CmdResult get = {0};

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	gw_config_set_string(f->config, "southbound", "session-timeout", "1");
	info.device_id = g_strdup("dev-poll");
	info.mode = GW_GWMO_MODE_PROXY;
	record = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	gw_device_info_clear(&info);

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
	GwDeviceInfo info = {0};
	CmdResult get = {0};

	gw_config_set_string(f->config, "southbound", "open-registration", "true");
	gw_config_set_string(f->config, "southbound", "session-timeout", "1");
	gw_config_set_string(f->config, "southbound", "max-sessions", "1");
	/* one session that stays open: the gateway waits for the Status of a Get */
	info.device_id = g_strdup("dev-busy");
	info.mode = GW_GWMO_MODE_PROXY;
	record = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	gw_device_info_clear(&info);
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
		GwDeviceInfo info = {0};
		g_assert_true(gw_inventory_get_device(f->inventory, id, &info));
		g_assert_cmpstr(info.notify_addr, ==, expected);
		gw_device_info_clear(&info);
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
	g_log_set_writer_func(count_writer, NULL, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
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
#undef ADD
	return g_test_run();
}
