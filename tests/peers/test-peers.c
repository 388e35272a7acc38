/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reference peers end to end: gwmo-test-server and gwmo-test-device as real processes on
 * 127.0.0.1, checked through their exit codes, output and JSON records.
 * Arguments: the paths of gwmo-test-server and gwmo-test-device (meson passes them).
 */

#define G_LOG_DOMAIN "GwPeersTest"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "gw-error.h"
#include "gw-http-client.h"
#include "gw-http-server.h"
#include "gw-pkg0.h"
#include "gw-wbxml.h"

#define PROC_TIMEOUT_S 60

static const gchar *server_bin;
static const gchar *device_bin;

/* ---- processes ---- */

typedef struct {
	gchar *name;
	GSubprocess *proc;
	GString *out;
	GString *err;
	guint open_pipes;
	gboolean exited;
} Proc;

static void
proc_free(Proc *p)
{
	if (p->proc != NULL && !p->exited)
		g_subprocess_force_exit(p->proc);
	/* let the pending reads see EOF before the streams go */
	while (p->proc != NULL && (!p->exited || p->open_pipes > 0))
		g_main_context_iteration(NULL, TRUE);
	g_clear_object(&p->proc);
	g_string_free(p->out, TRUE);
	g_string_free(p->err, TRUE);
	g_free(p->name);
	g_free(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Proc, proc_free)

typedef struct {
	Proc *proc;
	GString *buf;
} ProcPipe;

static void
proc_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ProcPipe *pipe = user_data;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	g_autofree gchar *line = g_data_input_stream_read_line_finish_utf8(
	    G_DATA_INPUT_STREAM(source), res, &len, &error);

	if (line == NULL) {
		pipe->proc->open_pipes--;
		g_object_unref(source);
		g_free(pipe);
		return;
	}
	g_string_append_printf(pipe->buf, "%s\n", line);
	g_printerr(
	    "  [%s%s] %s\n", pipe->proc->name, pipe->buf == pipe->proc->err ? " err" : "", line);
	g_data_input_stream_read_line_async(
	    G_DATA_INPUT_STREAM(source), G_PRIORITY_DEFAULT, NULL, proc_read_cb, pipe);
}

static void
proc_wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Proc *p = user_data;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_subprocess_wait_finish(G_SUBPROCESS(source), res, &error));
	g_assert_no_error(error);
	p->exited = TRUE;
}

static void
proc_read(Proc *p, GInputStream *stream, GString *buf)
{
	ProcPipe *pipe = g_new0(ProcPipe, 1);
	GDataInputStream *data = g_data_input_stream_new(stream);

	pipe->proc = p;
	pipe->buf = buf;
	p->open_pipes++;
	g_data_input_stream_read_line_async(data, G_PRIORITY_DEFAULT, NULL, proc_read_cb, pipe);
}

/* a failed assertion aborts the test without cleanup: the peers must not outlive it */
static void
proc_child_setup(gpointer user_data)
{
#ifdef __linux__
	prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

static Proc *
proc_spawn(const gchar *name, GPtrArray *argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autofree gchar *cmdline = NULL;
	Proc *p = g_new0(Proc, 1);

	g_ptr_array_add(argv, NULL);
	cmdline = g_strjoinv(" ", (gchar **)argv->pdata);
	g_test_message("spawn %s: %s", name, cmdline);
	p->name = g_strdup(name);
	p->out = g_string_new(NULL);
	p->err = g_string_new(NULL);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
	                                     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_set_child_setup(launcher, proc_child_setup, NULL, NULL);
	p->proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	proc_read(p, g_subprocess_get_stdout_pipe(p->proc), p->out);
	proc_read(p, g_subprocess_get_stderr_pipe(p->proc), p->err);
	g_subprocess_wait_async(p->proc, NULL, proc_wait_cb, p);
	return p;
}

static gboolean
timeout_cb(gpointer user_data)
{
	gboolean *expired = user_data;
	*expired = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean
tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* iterates the main context until @done(@data) or the timeout; FALSE on timeout. A tick
 * wakes the loop up now and then for conditions that are not events (a file appearing). */
static gboolean
run_until(gboolean (*done)(gpointer data), gpointer data, guint timeout_s)
{
	gboolean expired = FALSE;
	guint id = g_timeout_add_seconds(timeout_s, timeout_cb, &expired);
	guint tick = g_timeout_add(20, tick_cb, NULL);

	while (!done(data) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(id);
	g_source_remove(tick);
	return !expired;
}

static gboolean
proc_is_done(gpointer data)
{
	Proc *p = data;
	return p->exited && p->open_pipes == 0;
}

/* waits for the exit (killing the process after the timeout) and returns the exit status */
static gint
proc_wait(Proc *p)
{
	if (!run_until(proc_is_done, p, PROC_TIMEOUT_S)) {
		g_test_message("%s did not exit within %u s", p->name, PROC_TIMEOUT_S);
		g_subprocess_force_exit(p->proc);
		run_until(proc_is_done, p, 10);
		g_test_fail();
		return -1;
	}
	if (!g_subprocess_get_if_exited(p->proc))
		return -1;
	return g_subprocess_get_exit_status(p->proc);
}

typedef struct {
	Proc *proc;
	const gchar *prefix;
} LineWait;

static gboolean
line_is_there(gpointer data)
{
	LineWait *w = data;
	g_autofree gchar *needle = g_strdup_printf("\n%s", w->prefix);
	g_autofree gchar *text = g_strdup_printf("\n%s", w->proc->out->str);
	return strstr(text, needle) != NULL || proc_is_done(w->proc);
}

/* the rest of the first stdout line starting with @prefix */
static gchar *
proc_wait_line(Proc *p, const gchar *prefix)
{
	LineWait w = {p, prefix};
	g_autofree gchar *text = NULL;
	g_autofree gchar *needle = g_strdup_printf("\n%s", prefix);
	const gchar *at;

	g_assert_true(run_until(line_is_there, &w, PROC_TIMEOUT_S));
	text = g_strdup_printf("\n%s", p->out->str);
	at = strstr(text, needle);
	g_assert_nonnull(at);
	at += strlen(needle);
	return g_strndup(at, strcspn(at, "\n"));
}

/* ---- fixture ---- */

typedef struct {
	gchar *dir;
} Fixture;

static void
rm_rf(const gchar *path)
{
	if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
		const gchar *name;
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			rm_rf(child);
		}
		g_rmdir(path);
	} else {
		g_unlink(path);
	}
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	f->dir = g_dir_make_tmp("gwmo-test-peers-XXXXXX", &error);
	g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	rm_rf(f->dir);
	g_free(f->dir);
}

static gchar *
fpath(Fixture *f, const gchar *name)
{
	return g_build_filename(f->dir, name, NULL);
}

static gchar *
data_path(const gchar *name)
{
	return g_test_build_filename(G_TEST_DIST, "data", "peers", name, NULL);
}

static GPtrArray *
args_new(const gchar *bin)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(argv, g_strdup(bin));
	return argv;
}

/* NULL-terminated list of arguments */
static void
args_add(GPtrArray *argv, ...) G_GNUC_NULL_TERMINATED;

static void
args_add(GPtrArray *argv, ...)
{
	va_list ap;
	const gchar *arg;

	va_start(ap, argv);
	while ((arg = va_arg(ap, const gchar *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
}

/* reads the ready file the server writes once listening: line 1 the DM URL, line 2
 * "cert PATH" for https */
typedef struct {
	const gchar *path;
	Proc *proc;
} ReadyWait;

static gboolean
ready_is_there(gpointer data)
{
	ReadyWait *w = data;
	return g_file_test(w->path, G_FILE_TEST_EXISTS) || proc_is_done(w->proc);
}

static void
wait_ready(Proc *server, const gchar *ready_file, gchar **url, gchar **cert)
{
	ReadyWait w = {ready_file, server};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) lines = NULL;

	g_assert_true(run_until(ready_is_there, &w, PROC_TIMEOUT_S));
	g_assert_false(proc_is_done(server));
	g_assert_true(g_file_get_contents(ready_file, &contents, NULL, &error));
	g_assert_no_error(error);
	lines = g_strsplit(contents, "\n", -1);
	g_assert_true(g_str_has_prefix(lines[0], "http"));
	g_assert_true(g_str_has_suffix(lines[0], "/dm"));
	*url = g_strdup(lines[0]);
	if (cert != NULL) {
		g_assert_nonnull(lines[1]);
		g_assert_true(g_str_has_prefix(lines[1], "cert "));
		*cert = g_strdup(lines[1] + 5);
		g_assert_true(g_file_test(*cert, G_FILE_TEST_EXISTS));
	}
}

static JsonNode *
load_json(const gchar *path)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	g_assert_true(json_parser_load_from_file(parser, path, &error));
	g_assert_no_error(error);
	return json_parser_steal_root(parser);
}

static JsonArray *
record_sessions(JsonNode *root)
{
	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	return json_object_get_array_member(json_node_get_object(root), "sessions");
}

static const gchar *
obj_str(JsonObject *o, const gchar *member)
{
	if (!json_object_has_member(o, member) || json_object_get_null_member(o, member))
		return NULL;
	return json_object_get_string_member(o, member);
}

/* first item's data of result @i of a server session record */
static const gchar *
result_data(JsonObject *session, guint i)
{
	JsonArray *results = json_object_get_array_member(session, "results");
	JsonObject *r = json_array_get_object_element(results, i);
	JsonArray *items = json_object_get_array_member(r, "items");
	g_assert_cmpuint(json_array_get_length(items), >=, 1);
	return obj_str(json_array_get_object_element(items, 0), "data");
}

static gint64
result_status(JsonObject *session, guint i)
{
	JsonArray *results = json_object_get_array_member(session, "results");
	return json_object_get_int_member(json_array_get_object_element(results, i), "status");
}

static const gchar *
result_cmd(JsonObject *session, guint i)
{
	JsonArray *results = json_object_get_array_member(session, "results");
	return obj_str(json_array_get_object_element(results, i), "cmd");
}

/* ---- tests ---- */

#define DEV_ID "IMEI:493005100592800"

static void
test_https_md5(Fixture *f, gconstpointer data)
{
	g_autofree gchar *ready = fpath(f, "ready");
	g_autofree gchar *srec = fpath(f, "server.json");
	g_autofree gchar *drec = fpath(f, "device.json");
	g_autofree gchar *script = data_path("script-basic.json");
	g_autofree gchar *tree = data_path("device-tree.xml");
	g_autofree gchar *url = NULL;
	g_autofree gchar *cert = NULL;
	g_autoptr(GPtrArray) sargs = args_new(server_bin);
	g_autoptr(GPtrArray) dargs = args_new(device_bin);
	g_autoptr(Proc) server = NULL;
	g_autoptr(Proc) device = NULL;
	g_autoptr(JsonNode) sroot = NULL;
	g_autoptr(JsonNode) droot = NULL;
	JsonObject *s;
	JsonObject *d;
	JsonObject *devinfo;
	JsonArray *cmds;
	JsonObject *atomic;
	gboolean saw_replace = FALSE;

	/* clang-format off */
	args_add(sargs, "--listen", "https://127.0.0.1:0", "--server-id", "srv1", "--server-secret",
	         "srvpwd", "--client-name", "dev", "--client-secret", "devpwd", "--auth", "md5",
	         "--script", script, "--record", srec, "--sessions", "1", "--ready-file", ready,
	         NULL);
	/* clang-format on */
	server = proc_spawn("server", sargs);
	wait_ready(server, ready, &url, &cert);
	g_assert_true(g_str_has_prefix(url, "https://127.0.0.1:"));

	/* clang-format off */
	args_add(dargs, "--server", url, "--ca-file", cert, "--dev-id", DEV_ID, "--client-name",
	         "dev", "--client-secret", "devpwd", "--server-name", "srv1", "--server-secret",
	         "srvpwd", "--auth", "md5", "--server-id", "srv1", "--tree", tree, "--record", drec,
	         NULL);
	/* clang-format on */
	device = proc_spawn("device", dargs);
	g_assert_cmpint(proc_wait(device), ==, 0);
	g_assert_cmpint(proc_wait(server), ==, 0);
	g_assert_nonnull(strstr(device->out->str, "Replace ./Vendor/Name = \"beta\" -> 200"));
	g_assert_nonnull(strstr(device->out->str, ": finished"));
	g_assert_nonnull(strstr(server->err->str, "Get ./DevInfo/DevId -> 200 \"" DEV_ID "\""));

	/* the server's record */
	sroot = load_json(srec);
	g_assert_cmpuint(json_array_get_length(record_sessions(sroot)), ==, 1);
	s = json_array_get_object_element(record_sessions(sroot), 0);
	g_assert_cmpstr(obj_str(s, "state"), ==, "finished");
	g_assert_null(obj_str(s, "error"));
	g_assert_cmpstr(obj_str(s, "peer"), ==, DEV_ID);
	g_assert_true(json_object_get_boolean_member(s, "authenticated"));
	g_assert_cmpint(json_object_get_int_member(s, "auth_status"), ==, 212);
	g_assert_cmpint(json_object_get_int_member(s, "alert"), ==, 1201);
	devinfo = json_object_get_object_member(s, "devinfo");
	g_assert_cmpstr(obj_str(devinfo, "./DevInfo/DevId"), ==, DEV_ID);
	g_assert_cmpstr(obj_str(devinfo, "./DevInfo/Man"), ==, "gwmo test device");
	g_assert_cmpstr(obj_str(devinfo, "./DevInfo/Mod"), ==, "ref-device");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(s, "results")), ==, 4);
	for (guint i = 0; i < 4; i++)
		g_assert_cmpint(result_status(s, i), ==, 200);
	g_assert_cmpstr(result_cmd(s, 0), ==, "Get");
	g_assert_cmpstr(result_data(s, 0), ==, DEV_ID);
	g_assert_cmpstr(result_cmd(s, 2), ==, "Atomic");
	atomic = json_array_get_object_element(json_object_get_array_member(s, "results"), 2);
	g_assert_cmpuint(
	    json_array_get_length(json_object_get_array_member(atomic, "commands")), ==, 2);
	g_assert_cmpstr(result_data(s, 3), ==, "beta"); /* Get after the Replace */

	/* the device's record */
	droot = load_json(drec);
	g_assert_cmpuint(json_array_get_length(record_sessions(droot)), ==, 1);
	d = json_array_get_object_element(record_sessions(droot), 0);
	g_assert_cmpstr(obj_str(d, "state"), ==, "finished");
	g_assert_true(json_object_get_boolean_member(d, "server_authenticated"));
	g_assert_cmpstr(obj_str(d, "session_id"), ==, obj_str(s, "session_id"));
	cmds = json_object_get_array_member(d, "commands");
	g_assert_cmpuint(json_array_get_length(cmds), ==, 4);
	for (guint i = 0; i < json_array_get_length(cmds); i++) {
		JsonObject *c = json_array_get_object_element(cmds, i);
		g_assert_cmpint(json_object_get_int_member(c, "status"), ==, 200);
		if (g_strcmp0(obj_str(c, "cmd"), "Replace") == 0) {
			g_assert_cmpstr(obj_str(c, "uri"), ==, "./Vendor/Name");
			g_assert_cmpstr(obj_str(c, "data"), ==, "beta");
			saw_replace = TRUE;
		}
	}
	g_assert_true(saw_replace);
	atomic = json_array_get_object_element(cmds, 2);
	g_assert_cmpstr(obj_str(atomic, "cmd"), ==, "Atomic");
	cmds = json_object_get_array_member(atomic, "commands");
	g_assert_cmpuint(json_array_get_length(cmds), ==, 2);
	g_assert_cmpstr(obj_str(json_array_get_object_element(cmds, 1), "uri"), ==, "./Vendor/A2");
	g_assert_cmpint(
	    json_object_get_int_member(json_array_get_object_element(cmds, 1), "status"), ==, 200);
}

static void
test_wrong_secret(Fixture *f, gconstpointer data)
{
	g_autofree gchar *ready = fpath(f, "ready");
	g_autofree gchar *srec = fpath(f, "server.json");
	g_autofree gchar *drec = fpath(f, "device.json");
	g_autofree gchar *script = data_path("script-basic.json");
	g_autofree gchar *url = NULL;
	g_autoptr(GPtrArray) sargs = args_new(server_bin);
	g_autoptr(GPtrArray) dargs = args_new(device_bin);
	g_autoptr(Proc) server = NULL;
	g_autoptr(Proc) device = NULL;
	g_autoptr(JsonNode) sroot = NULL;
	g_autoptr(JsonNode) droot = NULL;
	JsonObject *s;
	JsonObject *d;

	/* clang-format off */
	args_add(sargs, "--listen", "http://127.0.0.1:0", "--server-id", "srv1", "--server-secret",
	         "srvpwd", "--client-name", "dev", "--client-secret", "devpwd", "--auth", "md5",
	         "--script", script, "--record", srec, "--sessions", "1", "--ready-file", ready,
	         NULL);
	/* clang-format on */
	server = proc_spawn("server", sargs);
	wait_ready(server, ready, &url, NULL);
	/* clang-format off */
	args_add(dargs, "--server", url, "--dev-id", DEV_ID, "--client-name", "dev",
	         "--client-secret", "wrong", "--server-secret", "srvpwd", "--auth", "md5",
	         "--server-id", "srv1", "--record", drec, NULL);
	/* clang-format on */
	device = proc_spawn("device", dargs);
	g_assert_cmpint(proc_wait(device), ==, 1);
	g_assert_cmpint(proc_wait(server), ==, 0);
	g_assert_nonnull(strstr(device->out->str, "failed: "));
	g_assert_nonnull(strstr(device->out->str, "credentials"));

	sroot = load_json(srec);
	s = json_array_get_object_element(record_sessions(sroot), 0);
	g_assert_false(json_object_get_boolean_member(s, "authenticated"));
	g_assert_cmpint(json_object_get_int_member(s, "auth_status"), ==, 401);
	g_assert_cmpstr(obj_str(s, "state"), ==, "failed");
	g_assert_nonnull(obj_str(s, "error"));
	for (guint i = 0; i < json_array_get_length(json_object_get_array_member(s, "results"));
	     i++)
		g_assert_cmpint(result_status(s, i), ==, 0);
	g_assert_cmpuint(json_object_get_size(json_object_get_object_member(s, "devinfo")), ==, 0);

	droot = load_json(drec);
	d = json_array_get_object_element(record_sessions(droot), 0);
	g_assert_cmpstr(obj_str(d, "state"), ==, "failed");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(d, "commands")), ==, 0);
	g_assert_cmpint(json_object_get_int_member(d, "commands_executed"), ==, 0);
}

static void
test_wbxml(Fixture *f, gconstpointer data)
{
	g_autofree gchar *srec = fpath(f, "server.json");
	g_autofree gchar *drec = fpath(f, "device.json");
	g_autofree gchar *script = data_path("script-wbxml.json");
	g_autofree gchar *tree = data_path("device-tree.xml");
	g_autofree gchar *url = NULL;
	g_autoptr(GPtrArray) sargs = args_new(server_bin);
	g_autoptr(GPtrArray) dargs = args_new(device_bin);
	g_autoptr(Proc) server = NULL;
	g_autoptr(Proc) device = NULL;
	g_autoptr(JsonNode) sroot = NULL;
	g_autoptr(JsonNode) droot = NULL;
	JsonArray *cmds;
	JsonObject *s;
	guint n;

	/* basic auth, the URL taken from stdout this time */
	/* clang-format off */
	args_add(sargs, "--listen", "http://127.0.0.1:0", "--server-id", "srv-w", "--auth", "basic",
	         "--client-secret", "pw", "--script", script, "--record", srec, "--sessions", "1",
	         "--wbxml", NULL);
	/* clang-format on */
	server = proc_spawn("server", sargs);
	url = proc_wait_line(server, "listening ");
	/* clang-format off */
	args_add(dargs, "--server", url, "--dev-id", "wbxml-dev", "--auth", "basic",
	         "--client-secret", "pw", "--server-id", "srv-w", "--tree", tree, "--wbxml",
	         "--record", drec, NULL);
	/* clang-format on */
	device = proc_spawn("device", dargs);
	g_assert_cmpint(proc_wait(device), ==, 0);
	g_assert_cmpint(proc_wait(server), ==, 0);

	sroot = load_json(srec);
	s = json_array_get_object_element(record_sessions(sroot), 0);
	g_assert_cmpstr(obj_str(s, "state"), ==, "finished");
	g_assert_cmpstr(obj_str(s, "content_type"), ==, GW_SYNCML_DM_WBXML_TYPE);
	n = json_array_get_length(json_object_get_array_member(s, "results"));
	g_assert_cmpuint(n, ==, 6);
	for (guint i = 0; i < n; i++)
		g_assert_cmpint(result_status(s, i), ==, 200);
	g_assert_cmpstr(result_data(s, 0), ==, "gwmo test device");
	g_assert_cmpstr(result_cmd(s, 5), ==, "Sequence");

	droot = load_json(drec);
	cmds = json_object_get_array_member(
	    json_array_get_object_element(record_sessions(droot), 0), "commands");
	g_assert_cmpuint(json_array_get_length(cmds), ==, 6);
	/* the Get in the Sequence read the copy of the replaced value */
	{
		JsonObject *seq = json_array_get_object_element(cmds, 5);
		JsonObject *get =
		    json_array_get_object_element(json_object_get_array_member(seq, "commands"), 0);
		JsonObject *item =
		    json_array_get_object_element(json_object_get_array_member(get, "results"), 0);
		g_assert_cmpstr(obj_str(item, "data"), ==, "wbxml <&>");
	}
	g_assert_cmpstr(obj_str(json_array_get_object_element(cmds, 3), "correlator"), ==, "c-1");
}

/* ---- Package #0 ---- */

typedef struct {
	gchar *content_type;
	GBytes *body;
} Received;

static void
notify_cb(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	Received *r = user_data;
	g_autoptr(GBytes) empty = g_bytes_new_static("", 0);

	g_assert_cmpstr(gw_http_request_get_method(request), ==, "POST");
	g_assert_null(r->body);
	r->content_type = g_strdup(gw_http_request_get_content_type(request));
	r->body = g_bytes_ref(gw_http_request_get_body(request));
	gw_http_request_respond(request, 200, "text/plain", empty);
}

static gboolean
received(gpointer data)
{
	Received *r = data;
	return r->body != NULL;
}

static void
run_notify(Fixture *f, gboolean forge)
{
	g_autoptr(GwHttpServer) receiver = gw_http_server_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) sargs = args_new(server_bin);
	g_autoptr(Proc) server = NULL;
	g_autoptr(GwPkg0) pkg0 = NULL;
	g_autoptr(JsonNode) sroot = NULL;
	g_autofree gchar *srec = fpath(f, "server.json");
	g_autofree gchar *notify_url = NULL;
	g_autofree gchar *notified = NULL;
	Received r = {NULL, NULL};
	const guint8 *raw;
	gsize len = 0;
	gboolean ok;

	gw_http_server_add_handler(receiver, "/notify", notify_cb, &r, NULL);
	g_assert_true(gw_http_server_listen(receiver, "http://127.0.0.1:0", &error));
	g_assert_no_error(error);
	notify_url =
	    g_strdup_printf("http://127.0.0.1:%u/notify", gw_http_server_get_port(receiver, FALSE));
	/* clang-format off */
	args_add(sargs, "--listen", "http://127.0.0.1:0", "--server-id", "srv-notify", "--notify",
	         notify_url, "--notify-secret", "s3cret", "--notify-session", "1A2B", "--record",
	         srec, NULL);
	/* clang-format on */
	if (forge)
		args_add(sargs, "--notify-forge", NULL);
	server = proc_spawn("server", sargs);
	g_assert_true(run_until(received, &r, PROC_TIMEOUT_S));
	notified = proc_wait_line(server, "notified ");
	g_assert_cmpstr(notified, ==, "200");
	/* without --sessions it runs until SIGTERM, then writes its record and exits 0 */
	g_subprocess_send_signal(server->proc, SIGTERM);
	g_assert_cmpint(proc_wait(server), ==, 0);
	sroot = load_json(srec);
	g_assert_cmpuint(json_array_get_length(record_sessions(sroot)), ==, 0);

	g_assert_cmpstr(r.content_type, ==, GW_PKG0_CONTENT_TYPE);
	raw = g_bytes_get_data(r.body, &len);
	pkg0 = gw_pkg0_parse(raw, len, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(pkg0->session_id, ==, 0x1A2B);
	g_assert_cmpstr(pkg0->server_id, ==, "srv-notify");
	g_assert_true(pkg0->server_initiated);
	g_assert_cmpuint(pkg0->ui_mode, ==, GW_PKG0_UI_MODE_BACKGROUND);
	g_assert_cmpuint(pkg0->version, ==, GW_PKG0_VERSION_DM12);
	/* no nonce from the receiver yet: signed with the all-zero nonce */
	ok = gw_pkg0_verify(raw, len, "s3cret", gw_pkg0_zero_nonce, GW_PKG0_ZERO_NONCE_LEN, &error);
	if (forge) {
		g_assert_error(error, GW_ERROR, GW_ERROR_AUTH_FAILED);
		g_assert_false(ok);
	} else {
		g_assert_no_error(error);
		g_assert_true(ok);
	}
	g_free(r.content_type);
	g_bytes_unref(r.body);
}

static void
test_notify(Fixture *f, gconstpointer data)
{
	run_notify(f, FALSE);
}

static void
test_notify_forged(Fixture *f, gconstpointer data)
{
	run_notify(f, TRUE);
}

/* ---- one process, many devices ---- */

static void
test_count(Fixture *f, gconstpointer data)
{
	g_autofree gchar *ready = fpath(f, "ready");
	g_autofree gchar *srec = fpath(f, "server.json");
	g_autofree gchar *script = fpath(f, "script.json");
	g_autofree gchar *url = NULL;
	g_autoptr(GPtrArray) sargs = args_new(server_bin);
	g_autoptr(GPtrArray) dargs = args_new(device_bin);
	g_autoptr(Proc) server = NULL;
	g_autoptr(Proc) device = NULL;
	g_autoptr(JsonNode) sroot = NULL;
	g_autoptr(GHashTable) peers = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	JsonArray *sessions;

	g_assert_true(g_file_set_contents(
	    script,
	    "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./DevInfo/DevId\"}]}]}",
	    -1,
	    &error));
	/* no --client-name: each device authenticates with its own LocName */
	/* clang-format off */
	args_add(sargs, "--listen", "http://127.0.0.1:0", "--server-id", "srv-n", "--auth", "md5",
	         "--client-secret", "pw", "--script", script, "--record", srec, "--sessions", "20",
	         "--ready-file", ready, NULL);
	/* clang-format on */
	server = proc_spawn("server", sargs);
	wait_ready(server, ready, &url, NULL);
	/* clang-format off */
	args_add(dargs, "--server", url, "--dev-id", "dev-%u", "--auth", "md5", "--client-secret",
	         "pw", "--server-id", "srv-n", "--count", "20", NULL);
	/* clang-format on */
	device = proc_spawn("device", dargs);
	g_assert_cmpint(proc_wait(device), ==, 0);
	g_assert_cmpint(proc_wait(server), ==, 0);
	g_assert_nonnull(strstr(device->out->str, "sessions: 20 finished, 0 failed"));
	g_assert_nonnull(strstr(device->out->str, "sessions/s"));

	sroot = load_json(srec);
	sessions = record_sessions(sroot);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 20);
	for (guint i = 0; i < 20; i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		const gchar *peer = obj_str(s, "peer");
		g_assert_cmpstr(obj_str(s, "state"), ==, "finished");
		g_assert_true(g_str_has_prefix(peer, "dev-"));
		g_assert_cmpstr(result_data(s, 0), ==, peer);
		g_hash_table_add(peers, (gpointer)peer);
	}
	g_assert_cmpuint(g_hash_table_size(peers), ==, 20);
}

/* ---- --parallel: many devices at once, one notification listener ---- */

typedef struct {
	GwHttpResponse *response;
	GError *error;
	gboolean done;
} PostWait;

static void
post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	PostWait *w = user_data;
	w->response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &w->error);
	w->done = TRUE;
}

static gboolean
post_is_done(gpointer data)
{
	return ((PostWait *)data)->done;
}

/* POSTs a Package #0 of @server_id signed with @secret to @url; the HTTP status */
static guint
post_pkg0(const gchar *url, const gchar *server_id, const gchar *secret, guint16 session_id)
{
	g_autoptr(GwHttpClient) client = gw_http_client_new(NULL, NULL);
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	g_autoptr(GBytes) body = NULL;
	PostWait w = {NULL, NULL, FALSE};
	guint status;

	n->version = GW_PKG0_VERSION_DEFAULT;
	n->ui_mode = GW_PKG0_UI_MODE_BACKGROUND;
	n->server_initiated = TRUE;
	n->session_id = session_id;
	n->server_id = g_strdup(server_id);
	/* signed as a DM Server that has no nonce from the device signs it */
	body = gw_pkg0_build_with_nonce(n, secret, NULL);
	g_assert_nonnull(body);
	gw_http_client_post_async(client, url, GW_PKG0_CONTENT_TYPE, body, NULL, NULL, post_cb, &w);
	g_assert_true(run_until(post_is_done, &w, PROC_TIMEOUT_S));
	g_assert_no_error(w.error);
	status = w.response->status;
	gw_http_response_free(w.response);
	return status;
}

static gboolean
file_is_there(gpointer data)
{
	return g_file_test(data, G_FILE_TEST_EXISTS);
}

static void
test_parallel(Fixture *f, gconstpointer data)
{
	g_autofree gchar *ready = fpath(f, "ready");
	g_autofree gchar *dready = fpath(f, "device-ready");
	g_autofree gchar *srec = fpath(f, "server.json");
	g_autofree gchar *summary = fpath(f, "summary.json");
	g_autofree gchar *script = fpath(f, "script.json");
	g_autofree gchar *url = NULL;
	g_autofree gchar *base = NULL;
	g_autofree gchar *u2 = NULL;
	g_autofree gchar *u5 = NULL;
	g_autofree gchar *u3 = NULL;
	g_autofree gchar *unknown = NULL;
	g_autoptr(GPtrArray) sargs = args_new(server_bin);
	g_autoptr(GPtrArray) dargs = args_new(device_bin);
	g_autoptr(Proc) server = NULL;
	g_autoptr(Proc) device = NULL;
	g_autoptr(JsonNode) sroot = NULL;
	g_autoptr(JsonNode) sum = NULL;
	g_autoptr(GHashTable) peers = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	JsonObject *o;
	JsonArray *sessions;
	guint notified = 0;

	g_assert_true(g_file_set_contents(script,
	                                  "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"uri\":"
	                                  "\"./DevInfo/Ext/NotifyAddr\"}]}]}",
	                                  -1,
	                                  &error));
	/* 6 registrations, then 2 notified sessions */
	/* clang-format off */
	args_add(sargs, "--listen", "http://127.0.0.1:0", "--server-id", "srv-p", "--auth", "md5",
	         "--client-secret", "pw", "--script", script, "--record", srec, "--sessions", "8",
	         "--ready-file", ready, NULL);
	/* clang-format on */
	server = proc_spawn("server", sargs);
	wait_ready(server, ready, &url, NULL);
	/* clang-format off */
	args_add(dargs, "--server", url, "--dev-id", "dev-%03u", "--auth", "md5", "--client-secret",
	         "pw", "--server-id", "srv-p", "--count", "6", "--parallel", "3", "--register",
	         "--listen-notify", "http://127.0.0.1:0", "--notify-secret", "n0t-%u",
	         "--notifications", "2", "--ready-file", dready, "--summary", summary, NULL);
	/* clang-format on */
	device = proc_spawn("device", dargs);
	/* the ready file is written once every device had its registration session */
	g_assert_true(run_until(file_is_there, dready, PROC_TIMEOUT_S));
	g_assert_true(g_file_get_contents(dready, &base, NULL, &error));
	g_strstrip(base);
	g_assert_true(g_str_has_suffix(base, "/notify"));
	sum = load_json(summary);
	o = json_node_get_object(sum);
	g_assert_cmpint(json_object_get_int_member(o, "devices"), ==, 6);
	g_assert_cmpint(json_object_get_int_member(o, "registered"), ==, 6);
	g_assert_cmpint(json_object_get_int_member(o, "failed"), ==, 0);

	/* one listener, one path per device, each checked with that device's secret */
	u2 = g_strdup_printf("%s/dev-002", base);
	u5 = g_strdup_printf("%s/dev-005", base);
	u3 = g_strdup_printf("%s/dev-003", base);
	unknown = g_strdup_printf("%s/dev-999", base);
	g_assert_cmpuint(post_pkg0(u3, "srv-p", "n0t-2", 0x0B03), ==, 401); /* dev-002's secret */
	g_assert_cmpuint(post_pkg0(unknown, "srv-p", "n0t-999", 0x0B04), ==, 404);
	g_assert_cmpuint(post_pkg0(u2, "srv-p", "n0t-2", 0x0A02), ==, 200);
	g_assert_cmpuint(post_pkg0(u5, "srv-p", "n0t-5", 0x0A05), ==, 200);
	g_assert_cmpint(proc_wait(device), ==, 0);
	g_assert_cmpint(proc_wait(server), ==, 0);
	g_assert_nonnull(strstr(device->out->str, "notified sessions: 2 finished, 0 failed"));

	sroot = load_json(srec);
	sessions = record_sessions(sroot);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 8);
	for (guint i = 0; i < 8; i++) {
		JsonObject *s = json_array_get_object_element(sessions, i);
		const gchar *peer = obj_str(s, "peer");
		g_autofree gchar *addr = g_strdup_printf("%s/%s", base, peer);
		g_assert_cmpstr(obj_str(s, "state"), ==, "finished");
		/* every device reports its own notification address */
		g_assert_cmpstr(result_data(s, 0), ==, addr);
		g_hash_table_add(peers, (gpointer)peer);
		if (json_object_get_int_member(s, "alert") == 1200) {
			notified++;
			if (g_strcmp0(obj_str(s, "session_id"), "A02") == 0 ||
			    g_strcmp0(obj_str(s, "session_id"), "0A02") == 0)
				g_assert_cmpstr(peer, ==, "dev-002");
			else
				g_assert_cmpstr(peer, ==, "dev-005");
		}
	}
	g_assert_cmpuint(notified, ==, 2);
	g_assert_cmpuint(g_hash_table_size(peers), ==, 6);
}

/* ---- bad input ---- */

static void
expect_script_error(Fixture *f, const gchar *name, const gchar *json, const gchar *message)
{
	g_autofree gchar *script = fpath(f, name);
	g_autoptr(GPtrArray) sargs = args_new(server_bin);
	g_autoptr(Proc) server = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(script, json, -1, &error));
	/* clang-format off */
	args_add(sargs, "--listen", "http://127.0.0.1:0", "--server-id", "srv", "--script", script,
	         NULL);
	/* clang-format on */
	server = proc_spawn("server", sargs);
	g_assert_cmpint(proc_wait(server), ==, 2);
	g_assert_nonnull(strstr(server->err->str, name));
	g_assert_nonnull(strstr(server->err->str, message));
	g_assert_null(strstr(server->out->str, "listening"));
}

static void
test_bad_script(Fixture *f, gconstpointer data)
{
	expect_script_error(f, "syntax.json", "{\"sessions\": [", "syntax.json");
	expect_script_error(f,
	                    "unknown-cmd.json",
	                    "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./A\"},"
	                    "{\"cmd\":\"Frobnicate\",\"uri\":\"./A\"}]}]}",
	                    "sessions[0].commands[1]: unknown cmd \"Frobnicate\"");
	expect_script_error(f,
	                    "no-uri.json",
	                    "{\"sessions\":[{},{\"commands\":[{\"cmd\":\"Atomic\",\"commands\":"
	                    "[{\"cmd\":\"Replace\",\"data\":\"x\"}]}]}]}",
	                    "sessions[1].commands[0].commands[0]: \"uri\" is missing");
	expect_script_error(
	    f, "not-array.json", "{\"sessions\": 3}", "\"sessions\" must be an array");
	expect_script_error(f,
	                    "typo.json",
	                    "{\"sessions\":[{\"commands\":[{\"cmd\":\"Get\",\"url\":\"./A\"}]}]}",
	                    "unknown member \"url\"");
}

static void
test_usage(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) a1 = args_new(server_bin);
	g_autoptr(GPtrArray) a2 = args_new(device_bin);
	g_autoptr(GPtrArray) a3 = args_new(device_bin);
	g_autoptr(Proc) p1 = NULL;
	g_autoptr(Proc) p2 = NULL;
	g_autoptr(Proc) p3 = NULL;

	args_add(a1, "--help", NULL);
	p1 = proc_spawn("server", a1);
	g_assert_cmpint(proc_wait(p1), ==, 0);
	g_assert_nonnull(strstr(p1->out->str, "--notify-forge"));
	args_add(a2, "--server", "http://127.0.0.1:1/dm", NULL); /* no --dev-id */
	p2 = proc_spawn("device", a2);
	g_assert_cmpint(proc_wait(p2), ==, 2);
	g_assert_nonnull(strstr(p2->err->str, "--dev-id"));
	args_add(a3, "--server", "http://127.0.0.1:1/dm", "--dev-id", "x", "--auth", "sha1", NULL);
	p3 = proc_spawn("device", a3);
	g_assert_cmpint(proc_wait(p3), ==, 2);
	g_assert_nonnull(strstr(p3->err->str, "sha1"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	server_bin = argc > 1 ? argv[1] : g_getenv("GWMO_TEST_SERVER");
	device_bin = argc > 2 ? argv[2] : g_getenv("GWMO_TEST_DEVICE");
	if (server_bin == NULL || device_bin == NULL) {
		g_printerr("usage: %s GWMO-TEST-SERVER GWMO-TEST-DEVICE\n", argv[0]);
		return 2;
	}
	/* clang-format off */
	g_test_add("/gw/peers/https-md5", Fixture, NULL, fixture_setup, test_https_md5, fixture_teardown);
	g_test_add("/gw/peers/wrong-secret", Fixture, NULL, fixture_setup, test_wrong_secret, fixture_teardown);
	g_test_add("/gw/peers/wbxml", Fixture, NULL, fixture_setup, test_wbxml, fixture_teardown);
	g_test_add("/gw/peers/notify", Fixture, NULL, fixture_setup, test_notify, fixture_teardown);
	g_test_add("/gw/peers/notify-forged", Fixture, NULL, fixture_setup, test_notify_forged, fixture_teardown);
	g_test_add("/gw/peers/count", Fixture, NULL, fixture_setup, test_count, fixture_teardown);
	g_test_add("/gw/peers/parallel", Fixture, NULL, fixture_setup, test_parallel, fixture_teardown);
	g_test_add("/gw/peers/bad-script", Fixture, NULL, fixture_setup, test_bad_script, fixture_teardown);
	g_test_add("/gw/peers/usage", Fixture, NULL, fixture_setup, test_usage, fixture_teardown);
	/* clang-format on */
	return g_test_run();
}
