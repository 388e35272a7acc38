/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The image store (./GwMO/Images) of the real gwmod on a private bus, with a real upstream
 * HTTP server (tests/images/gw-upstream.c) and real HTTPS clients on 127.0.0.1 trusting the
 * gateway's certificate (devices present HTTP Basic over TLS only, DM-SECONF-001):
 *  - an interrupted transfer resumes with Range and the stored file is verified (DCIS-001);
 *  - a wrong hash: Failed, nothing kept, GET → 404 (DCIS-001);
 *  - 20 devices fetch one image downloaded once; two entries, one hash, one file (DCIS-002);
 *  - Targets (devices and groups) → 403 for others, 401 for wrong/missing credentials, and
 *    the owning server's ImageStore=false refuses download and serving (DCIS-003);
 *  - Range, HEAD, ETag/If-None-Match;
 *  - over plain HTTP (signed URLs, bodies sent from the file): whole bodies, ranges, HEAD,
 *    two images in turn on one kept-alive connection;
 *  - an image replaced while a device downloads it: that download ends with the old image
 *    whole, the old hash is 404 at once, the new image is served once downloaded;
 *  - a restart keeps Available images and resumes a partial download with Range;
 *  - D-Bus AddImage/Download/Remove, Progress through PropertiesChanged, InvalidArgs.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "gw-e2e.h"
#include "gw-upstream.h"

#define IMAGE_IFACE "org.gwmo.Gateway1.Image"
#define DEVICE_SECRET "dev-secret-"

/* the running gwmod's certificate (state-dir/tls.crt): the devices' HTTP Basic goes over TLS
 * only (DM-SECONF-001), so they fetch from the https listener and trust it */
static gchar *gateway_cert = NULL;

typedef struct {
	GwTestDaemon *d;
	guint16 south_port;
	GBytes *blob;
	gchar *sha;
	gchar *hash; /* "sha256:<sha>" */
	GwUpstream *up;
} Fx;

static GBytes *
random_blob(gsize size, guint32 seed)
{
	g_autoptr(GRand) r = g_rand_new_with_seed(seed);
	guint32 *data = g_malloc(size + 4);
	for (gsize i = 0; i < size / 4 + 1; i++)
		data[i] = g_rand_int(r);
	return g_bytes_new_take(data, size);
}

static gchar *
sha_of(GBytes *b)
{
	return g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, b);
}

/* @also_listen: more southbound listen URIs (",http://127.0.0.1:<port>"), nullable */
static Fx *
fx_new_listen(gsize size,
              const gchar *also_listen,
              const gchar *extra_conf,
              const gchar *const *args)
{
	Fx *f = g_new0(Fx, 1);
	g_autofree gchar *conf = NULL;

	f->south_port = free_port();
	conf = g_strdup_printf(
	    "[northbound]\nlisten=\n[southbound]\nlisten=https://127.0.0.1:%u%s\n%s",
	    f->south_port,
	    also_listen != NULL ? also_listen : "",
	    extra_conf != NULL ? extra_conf : "");
	f->blob = random_blob(size, (guint32)size);
	f->sha = sha_of(f->blob);
	f->hash = g_strconcat("sha256:", f->sha, NULL);
	/* the private bus first: GTestDBus sets environment variables, before any thread runs */
	f->d = gw_test_daemon_new_with_config(conf);
	f->up = gw_upstream_new(f->blob);
	gw_test_daemon_start(f->d, args);
	g_free(gateway_cert);
	gateway_cert = g_build_filename(f->d->state_dir, "tls.crt", NULL);
	return f;
}

static Fx *
fx_new_full(gsize size, const gchar *extra_conf, const gchar *const *args)
{
	return fx_new_listen(size, NULL, extra_conf, args);
}

static Fx *
fx_new(gsize size)
{
	return fx_new_full(size, NULL, NULL);
}

static void
fx_free(Fx *f)
{
	/* an orderly stop: exit status 0 (under ASan: no leaks) */
	if (gw_test_daemon_is_running(f->d))
		gw_test_daemon_stop(f->d);
	gw_test_daemon_free(f->d);
	gw_upstream_free(f->up);
	g_bytes_unref(f->blob);
	g_free(f->sha);
	g_free(f->hash);
	g_free(f);
}

static gchar *
leaf(GwTestDaemon *d, const gchar *uri)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    gw_test_call(d, "GetNode", g_variant_new("(s)", uri), "(ssv)", &error);
	g_autoptr(GVariant) v = NULL;
	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(ssv)", NULL, NULL, &v);
	if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
		return g_variant_dup_string(v, NULL);
	return g_variant_print(v, FALSE);
}

static gchar *
entry_leaf(GwTestDaemon *d, const gchar *entry, const gchar *name)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", entry, name);
	return leaf(d, uri);
}

/* waits for State == @state (fails on the other final state) */
static void
wait_state(GwTestDaemon *d, const gchar *entry, const gchar *state, guint timeout_s)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	g_autofree gchar *s = NULL;
	while (g_get_monotonic_time() < deadline) {
		g_free(s);
		s = entry_leaf(d, entry, "State");
		if (g_strcmp0(s, state) == 0)
			return;
		g_usleep(20 * 1000);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(d);
		g_printerr("%s State %s, wanted %s; gwmod log:\n%s\n", entry, s, state, log);
	}
	g_assert_cmpstr(s, ==, state);
}

static gchar *
add_device(GwTestDaemon *d, const gchar *id, guint n)
{
	GVariantBuilder b;
	g_autofree gchar *secret = g_strdup_printf(DEVICE_SECRET "%u", n);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar *path = NULL;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "ClientName", g_variant_new_string(id));
	g_variant_builder_add(&b, "{sv}", "ClientSecret", g_variant_new_string(secret));
	reply = gw_test_call(d, "AddDevice", g_variant_new("(a{sv})", &b), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &path);
	return path;
}

static GVariant *
image_dict(const gchar *name, const gchar *uri, const gchar *hash, const gchar *const *targets)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(name));
	g_variant_builder_add(&b, "{sv}", "Version", g_variant_new_string("1.0"));
	g_variant_builder_add(&b, "{sv}", "Kind", g_variant_new_string("firmware"));
	g_variant_builder_add(&b, "{sv}", "ExternalURI", g_variant_new_string(uri));
	g_variant_builder_add(&b, "{sv}", "Hash", g_variant_new_string(hash));
	if (targets != NULL)
		g_variant_builder_add(&b, "{sv}", "Targets", g_variant_new_strv(targets, -1));
	return g_variant_builder_end(&b);
}

static gchar *
add_image(Fx *f, const gchar *hash, const gchar *const *targets)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = gw_test_call(
	    f->d,
	    "AddImage",
	    g_variant_new("(@a{sv})", image_dict("fw", gw_upstream_get_url(f->up), hash, targets)),
	    "(o)",
	    &error);
	gchar *path = NULL;
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &path);
	return path;
}

/* ./GwMO/Images/N of /org/gwmo/Gateway1/Images/N */
static gchar *
entry_of(const gchar *path)
{
	return g_strdup_printf("./GwMO/Images/%s", strrchr(path, '/') + 1);
}

static void
image_call(Fx *f, const gchar *path, const gchar *method, GError **error)
{
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(f->d->connection,
	                                                        "org.gwmo.Gateway1",
	                                                        path,
	                                                        IMAGE_IFACE,
	                                                        method,
	                                                        NULL,
	                                                        NULL,
	                                                        G_DBUS_CALL_FLAGS_NONE,
	                                                        10000,
	                                                        NULL,
	                                                        error);
}

static GVariant *
image_prop(Fx *f, const gchar *path, const gchar *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_sync(f->d->connection,
	                                "org.gwmo.Gateway1",
	                                path,
	                                "org.freedesktop.DBus.Properties",
	                                "Get",
	                                g_variant_new("(ss)", IMAGE_IFACE, name),
	                                G_VARIANT_TYPE("(v)"),
	                                G_DBUS_CALL_FLAGS_NONE,
	                                10000,
	                                NULL,
	                                &error);
	GVariant *v = NULL;
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &v);
	return v;
}

static gchar *
image_url(Fx *f, const gchar *sha)
{
	return g_strdup_printf("https://127.0.0.1:%u/images/%s", f->south_port, sha);
}

typedef struct {
	guint status;
	GBytes *body;
	SoupMessageHeaders *headers;
} Resp;

static void
resp_free(Resp *r)
{
	if (r->body != NULL)
		g_bytes_unref(r->body);
	if (r->headers != NULL)
		soup_message_headers_unref(r->headers);
	g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Resp, resp_free)

/* one request as a device (user NULL: no credentials); extra headers name, value, … NULL */
static Resp *
http(const gchar *method, const gchar *url, const gchar *user, const gchar *secret, ...)
{
	g_autoptr(SoupSession) session =
	    soup_session_new_with_options("proxy-resolver", NULL, "timeout", 30, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GError) error = NULL;
	Resp *r = g_new0(Resp, 1);
	va_list ap;
	const gchar *name;

	if (gateway_cert != NULL) {
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(gateway_cert, &error);
		g_assert_no_error(error);
		soup_session_set_tls_database(session, db);
	}
	if (user != NULL) {
		g_autofree gchar *pair = g_strdup_printf("%s:%s", user, secret);
		g_autofree gchar *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
		g_autofree gchar *value = g_strconcat("Basic ", b64, NULL);
		soup_message_headers_replace(
		    soup_message_get_request_headers(msg), "Authorization", value);
	}
	va_start(ap, secret);
	while ((name = va_arg(ap, const gchar *)) != NULL)
		soup_message_headers_replace(
		    soup_message_get_request_headers(msg), name, va_arg(ap, const gchar *));
	va_end(ap);
	r->body = soup_session_send_and_read(session, msg, NULL, &error);
	g_assert_no_error(error);
	r->status = soup_message_get_status(msg);
	r->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	return r;
}

static guint
count_files(const gchar *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	guint n = 0;
	while (d != NULL && g_dir_read_name(d) != NULL)
		n++;
	return n;
}

static gchar *
images_dir(Fx *f)
{
	return g_build_filename(f->d->state_dir, "images", NULL);
}

/* GwMO-DCIS-001: the upstream cuts the first transfer mid-body; the gateway resumes with
 * Range, verifies the sha256 and serves exactly the original bytes */
static void
test_resume_interrupted(void)
{
	Fx *f = fx_new(3 * 1024 * 1024 + 17);
	g_autofree gchar *dev = add_device(f->d, "dev-1", 1);
	g_autofree gchar *path = NULL;
	g_autofree gchar *entry = NULL;
	g_autofree gchar *file = NULL;
	g_autofree gchar *url = image_url(f, f->sha);
	g_autofree gchar *local = NULL;
	g_autofree gchar *size = NULL;
	g_autofree gchar *progress = NULL;
	g_autoptr(Resp) r = NULL;
	g_autofree gchar *content = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;

	gw_upstream_drop_once_after(f->up, 1024 * 1024 + 5);
	path = add_image(f, f->hash, NULL);
	entry = entry_of(path);
	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, entry, "Available", 60);

	g_assert_cmpuint(gw_upstream_get_requests(f->up), ==, 2);
	g_assert_cmpuint(gw_upstream_get_range_requests(f->up), ==, 1);
	g_assert_cmpuint(gw_upstream_get_max_range_start(f->up), ==, 1024 * 1024 + 5);
	file = g_build_filename(f->d->state_dir, "images", f->sha, NULL);
	g_assert_true(g_file_get_contents(file, &content, &len, NULL));
	g_assert_cmpuint(len, ==, g_bytes_get_size(f->blob));
	g_assert_true(memcmp(content, g_bytes_get_data(f->blob, NULL), len) == 0);
	local = entry_leaf(f->d, entry, "LocalURI");
	g_assert_cmpstr(local, ==, url);
	size = entry_leaf(f->d, entry, "Size");
	g_assert_cmpuint(g_ascii_strtoull(size, NULL, 10), ==, g_bytes_get_size(f->blob));
	progress = entry_leaf(f->d, entry, "Progress");
	g_assert_cmpstr(progress, ==, "100");

	r = http("GET", url, "dev-1", DEVICE_SECRET "1", NULL);
	g_assert_cmpuint(r->status, ==, 200);
	g_assert_true(g_bytes_equal(r->body, f->blob));
	fx_free(f);
}

/* GwMO-DCIS-001: a mismatching hash → Failed, no file kept, nothing served */
static void
test_wrong_hash(void)
{
	Fx *f = fx_new(200 * 1024);
	g_autofree gchar *dev = add_device(f->d, "dev-1", 1);
	g_autoptr(GBytes) other = random_blob(1000, 99);
	g_autofree gchar *other_sha = sha_of(other);
	g_autofree gchar *other_hash = g_strconcat("sha256:", other_sha, NULL);
	g_autofree gchar *path = add_image(f, other_hash, NULL);
	g_autofree gchar *entry = entry_of(path);
	g_autofree gchar *url = image_url(f, other_sha);
	g_autofree gchar *url2 = image_url(f, f->sha);
	g_autofree gchar *dir = images_dir(f);
	g_autoptr(Resp) r = NULL;
	g_autoptr(Resp) r2 = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) state = NULL;

	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, entry, "Failed", 30);
	state = image_prop(f, path, "State");
	g_assert_cmpstr(g_variant_get_string(state, NULL), ==, "Failed");
	g_assert_cmpuint(count_files(dir), ==, 0);
	r = http("GET", url, "dev-1", DEVICE_SECRET "1", NULL);
	g_assert_cmpuint(r->status, ==, 404);
	/* nor under the hash of what actually arrived */
	r2 = http("GET", url2, "dev-1", DEVICE_SECRET "1", NULL);
	g_assert_cmpuint(r2->status, ==, 404);
	fx_free(f);
}

typedef struct {
	GMainLoop *loop;
	guint pending;
	guint ok;
	GBytes *expect;
} Many;

static void
many_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Many *m = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body =
	    soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);

	g_assert_no_error(error);
	if (soup_message_get_status(msg) == 200 && g_bytes_equal(body, m->expect))
		m->ok++;
	if (--m->pending == 0)
		g_main_loop_quit(m->loop);
}

/* GwMO-DCIS-002: 20 devices fetch one image the gateway downloaded once; two entries with
 * the same hash share one file */
static void
test_twenty_devices_one_download(void)
{
	Fx *f = fx_new(1024 * 1024);
	g_autofree gchar *p1 = NULL;
	g_autofree gchar *p2 = NULL;
	g_autofree gchar *e1 = NULL;
	g_autofree gchar *e2 = NULL;
	g_autofree gchar *url = image_url(f, f->sha);
	g_autofree gchar *dir = images_dir(f);
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GError) error = NULL;
	Many m = {0};

	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *id = g_strdup_printf("dev-%u", i);
		g_autofree gchar *p = add_device(f->d, id, i);
	}
	p1 = add_image(f, f->hash, NULL);
	p2 = add_image(f, f->hash, NULL);
	e1 = entry_of(p1);
	e2 = entry_of(p2);
	g_assert_cmpstr(e1, !=, e2);
	image_call(f, p1, "Download", &error);
	g_assert_no_error(error);
	image_call(f, p2, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, e1, "Available", 30);
	wait_state(f->d, e2, "Available", 30);
	g_assert_cmpuint(gw_upstream_get_requests(f->up), ==, 1);
	g_assert_cmpuint(count_files(dir), ==, 1);

	session = soup_session_new_with_options(
	    "proxy-resolver", NULL, "max-conns", 64, "max-conns-per-host", 32, NULL);
	{
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(gateway_cert, &error);
		g_assert_no_error(error);
		soup_session_set_tls_database(session, db);
	}
	m.loop = g_main_loop_new(NULL, FALSE);
	m.expect = f->blob;
	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *pair = g_strdup_printf("dev-%u:" DEVICE_SECRET "%u", i, i);
		g_autofree gchar *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
		g_autofree gchar *auth = g_strconcat("Basic ", b64, NULL);
		g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
		soup_message_headers_replace(
		    soup_message_get_request_headers(msg), "Authorization", auth);
		m.pending++;
		soup_session_send_and_read_async(
		    session, msg, G_PRIORITY_DEFAULT, NULL, many_done_cb, &m);
	}
	g_main_loop_run(m.loop);
	g_main_loop_unref(m.loop);
	g_assert_cmpuint(m.ok, ==, 20);
	/* still one upstream download, one file */
	g_assert_cmpuint(gw_upstream_get_requests(f->up), ==, 1);
	g_assert_cmpuint(count_files(dir), ==, 1);

	/* removing one entry keeps the file for the other; removing both evicts it */
	image_call(f, p1, "Remove", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(count_files(dir), ==, 1);
	image_call(f, p2, "Remove", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(count_files(dir), ==, 0);
	fx_free(f);
}

/* GwMO-DCIS-003: only devices in Targets (directly or via a group), with their credentials */
static void
test_targets(void)
{
	Fx *f = fx_new(64 * 1024);
	g_autofree gchar *a = add_device(f->d, "dev-a", 1);
	g_autofree gchar *b = add_device(f->d, "dev-b", 2);
	g_autofree gchar *c = add_device(f->d, "dev-c", 3);
	const gchar *targets[] = {"dev-a", "lights", NULL};
	g_autofree gchar *path = NULL;
	g_autofree gchar *entry = NULL;
	g_autofree gchar *url = image_url(f, f->sha);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *group = NULL;

	reply =
	    gw_test_call(f->d, "CreateGroup", g_variant_new("(ss)", "lights", ""), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &group);
	g_clear_pointer(&reply, g_variant_unref);
	reply = g_dbus_connection_call_sync(f->d->connection,
	                                    "org.gwmo.Gateway1",
	                                    group,
	                                    "org.gwmo.Gateway1.Group",
	                                    "AddMember",
	                                    g_variant_new("(s)", "dev-c"),
	                                    NULL,
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    10000,
	                                    NULL,
	                                    &error);
	g_assert_no_error(error);

	path = add_image(f, f->hash, targets);
	entry = entry_of(path);
	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, entry, "Available", 30);
	{
		g_autoptr(Resp) ra = http("GET", url, "dev-a", DEVICE_SECRET "1", NULL);
		g_autoptr(Resp) rc = http("GET", url, "dev-c", DEVICE_SECRET "3", NULL);
		g_autoptr(Resp) rb = http("GET", url, "dev-b", DEVICE_SECRET "2", NULL);
		g_autoptr(Resp) rw = http("GET", url, "dev-a", "wrong", NULL);
		g_autoptr(Resp) rn = http("GET", url, NULL, NULL, NULL);
		g_autoptr(Resp) ru = http("GET", url, "stranger", "x", NULL);
		g_assert_cmpuint(ra->status, ==, 200);
		g_assert_true(g_bytes_equal(ra->body, f->blob));
		g_assert_cmpuint(rc->status, ==, 200);
		g_assert_cmpuint(rb->status, ==, 403);
		g_assert_cmpuint(rw->status, ==, 401);
		g_assert_cmpuint(rn->status, ==, 401);
		g_assert_nonnull(soup_message_headers_get_one(rn->headers, "WWW-Authenticate"));
		g_assert_cmpuint(ru->status, ==, 401);
	}
	fx_free(f);
}

/* GwMO-DCIS-003: the owning DM Server's ImageStore decides whether its data is kept and served */
static void
test_image_store_switch(void)
{
	g_autoptr(GBytes) blob = random_blob(32 * 1024, 7);
	g_autofree gchar *sha = sha_of(blob);
	GwUpstream *up = gw_upstream_new(blob);
	g_autofree gchar *dir = g_dir_make_tmp("gwmo-img-XXXXXX", NULL);
	g_autofree gchar *tnds_path = g_build_filename(dir, "bootstrap.xml", NULL);
	g_autofree gchar *acct = bootstrap_tnds("https://127.0.0.1:9/dm");
	g_autofree gchar *tnds = NULL;
	const gchar *args[] = {"--bootstrap", tnds_path, NULL};
	Fx *f;
	g_autofree gchar *url = NULL;
	g_auto(GStrv) servers = NULL;
	g_autofree gchar *flag_uri = NULL;
	g_autofree gchar *dev = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *images = NULL;

	/* the account of srv1 and an entry it owns (as its Add would leave it) */
	tnds =
	    g_strdup_printf("%.*s"
	                    "<Node><NodeName>9</NodeName><Path>./GwMO/Images</Path>"
	                    "<RTProperties><ACL>Add=" SERVER_ID "&amp;Delete=" SERVER_ID
	                    "&amp;Exec=" SERVER_ID "&amp;Get=" SERVER_ID "&amp;Replace=" SERVER_ID
	                    "</ACL><Format><node/></Format></RTProperties>"
	                    "<Node><NodeName>Name</NodeName><Value>fw</Value></Node>"
	                    "<Node><NodeName>ExternalURI</NodeName><Value>%s</Value></Node>"
	                    "<Node><NodeName>Hash</NodeName><Value>sha256:%s</Value></Node>"
	                    "</Node></MgmtTree>",
	                    (int)(strstr(acct, "</MgmtTree>") - acct),
	                    acct,
	                    gw_upstream_get_url(up),
	                    sha);
	g_assert_true(g_file_set_contents(tnds_path, tnds, -1, NULL));
	f = fx_new_full(16, NULL, args);
	url = image_url(f, sha);
	dev = add_device(f->d, "dev-1", 1);

	reply = gw_test_call(
	    f->d, "ListChildren", g_variant_new("(s)", "./GwMO/Config/Servers"), "(as)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(^as)", &servers);
	g_assert_cmpuint(g_strv_length(servers), ==, 1);
	flag_uri = g_strdup_printf("./GwMO/Config/Servers/%s/ImageStore", servers[0]);

	/* off: the gateway does not fetch the server's data */
	g_clear_pointer(&reply, g_variant_unref);
	reply = gw_test_call(f->d,
	                     "SetNode",
	                     g_variant_new("(ssv)", flag_uri, "bool", g_variant_new_boolean(FALSE)),
	                     NULL,
	                     &error);
	g_assert_no_error(error);
	image_call(f, "/org/gwmo/Gateway1/Images/9", "Download", &error);
	g_assert_nonnull(error);
	{
		g_autofree gchar *name = g_dbus_error_get_remote_error(error);
		g_assert_cmpstr(name, ==, "org.gwmo.Gateway1.Error.PermissionDenied");
	}
	g_clear_error(&error);
	g_assert_cmpuint(gw_upstream_get_requests(up), ==, 0);

	/* on: fetched and served */
	g_clear_pointer(&reply, g_variant_unref);
	reply = gw_test_call(f->d,
	                     "SetNode",
	                     g_variant_new("(ssv)", flag_uri, "bool", g_variant_new_boolean(TRUE)),
	                     NULL,
	                     &error);
	g_assert_no_error(error);
	image_call(f, "/org/gwmo/Gateway1/Images/9", "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, "./GwMO/Images/9", "Available", 30);
	{
		g_autoptr(Resp) r = http("GET", url, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_true(g_bytes_equal(r->body, blob));
	}
	/* off again: no longer served */
	g_clear_pointer(&reply, g_variant_unref);
	reply = gw_test_call(f->d,
	                     "SetNode",
	                     g_variant_new("(ssv)", flag_uri, "bool", g_variant_new_boolean(FALSE)),
	                     NULL,
	                     &error);
	g_assert_no_error(error);
	{
		g_autoptr(Resp) r = http("GET", url, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 403);
	}
	images = entry_leaf(f->d, "./GwMO/Images/9", "State");
	g_assert_cmpstr(images, ==, "Available");
	fx_free(f);
	gw_upstream_free(up);
	g_remove(tnds_path);
	g_remove(dir);
}

/* GwMO-DCIS-002 (configurable): [images] quota; an image that does not fit fails and leaves
 * nothing; removing the entry of another frees its space */
static void
test_quota(void)
{
	Fx *f = fx_new_full(100000, "[images]\nquota=150000\n", NULL);
	g_autoptr(GBytes) blob_b = random_blob(100000, 4242);
	g_autofree gchar *sha_b = sha_of(blob_b);
	g_autofree gchar *hash_b = g_strconcat("sha256:", sha_b, NULL);
	GwUpstream *up_b = gw_upstream_new(blob_b);
	g_autofree gchar *dev = add_device(f->d, "dev-1", 1);
	g_autofree gchar *pa = add_image(f, f->hash, NULL);
	g_autofree gchar *ea = entry_of(pa);
	g_autofree gchar *pb = NULL;
	g_autofree gchar *eb = NULL;
	g_autofree gchar *dir = images_dir(f);
	g_autofree gchar *url_a = image_url(f, f->sha);
	g_autofree gchar *url_b = image_url(f, sha_b);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	image_call(f, pa, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, ea, "Available", 30);
	reply = gw_test_call(
	    f->d,
	    "AddImage",
	    g_variant_new("(@a{sv})", image_dict("b", gw_upstream_get_url(up_b), hash_b, NULL)),
	    "(o)",
	    &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(o)", &pb);
	eb = entry_of(pb);
	image_call(f, pb, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, eb, "Failed", 30);
	g_assert_cmpuint(count_files(dir), ==, 1);
	{
		g_autoptr(Resp) ra = http("GET", url_a, "dev-1", DEVICE_SECRET "1", NULL);
		g_autoptr(Resp) rb = http("GET", url_b, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(ra->status, ==, 200);
		g_assert_cmpuint(rb->status, ==, 404);
	}
	/* A goes: its file is evicted, B fits */
	image_call(f, pa, "Remove", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(count_files(dir), ==, 0);
	image_call(f, pb, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, eb, "Available", 30);
	{
		g_autoptr(Resp) rb = http("GET", url_b, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(rb->status, ==, 200);
		g_assert_true(g_bytes_equal(rb->body, blob_b));
	}
	fx_free(f);
	gw_upstream_free(up_b);
}

/* Range, HEAD, ETag and If-None-Match on /images/<sha256> */
static void
test_range_head_etag(void)
{
	Fx *f = fx_new(100000);
	g_autofree gchar *dev = add_device(f->d, "dev-1", 1);
	g_autofree gchar *path = add_image(f, f->hash, NULL);
	g_autofree gchar *entry = entry_of(path);
	g_autofree gchar *url = image_url(f, f->sha);
	g_autofree gchar *etag = g_strdup_printf("\"%s\"", f->sha);
	const guchar *data = g_bytes_get_data(f->blob, NULL);
	g_autoptr(GError) error = NULL;

	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, entry, "Available", 30);
	{
		g_autoptr(Resp) r = http("HEAD", url, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_cmpint(soup_message_headers_get_content_length(r->headers), ==, 100000);
		g_assert_cmpstr(soup_message_headers_get_one(r->headers, "ETag"), ==, etag);
		g_assert_cmpstr(
		    soup_message_headers_get_one(r->headers, "Accept-Ranges"), ==, "bytes");
		g_assert_cmpuint(g_bytes_get_size(r->body), ==, 0);
	}
	{
		g_autoptr(Resp) r =
		    http("GET", url, "dev-1", DEVICE_SECRET "1", "Range", "bytes=10-19", NULL);
		g_assert_cmpuint(r->status, ==, 206);
		g_assert_cmpstr(soup_message_headers_get_one(r->headers, "Content-Range"),
		                ==,
		                "bytes 10-19/100000");
		g_assert_cmpuint(g_bytes_get_size(r->body), ==, 10);
		g_assert_true(memcmp(g_bytes_get_data(r->body, NULL), data + 10, 10) == 0);
	}
	{
		g_autoptr(Resp) r =
		    http("GET", url, "dev-1", DEVICE_SECRET "1", "Range", "bytes=-5", NULL);
		g_assert_cmpuint(r->status, ==, 206);
		g_assert_cmpuint(g_bytes_get_size(r->body), ==, 5);
		g_assert_true(memcmp(g_bytes_get_data(r->body, NULL), data + 99995, 5) == 0);
	}
	{
		g_autoptr(Resp) r =
		    http("GET", url, "dev-1", DEVICE_SECRET "1", "Range", "bytes=99990-", NULL);
		g_assert_cmpuint(r->status, ==, 206);
		g_assert_cmpuint(g_bytes_get_size(r->body), ==, 10);
	}
	{
		g_autoptr(Resp) r =
		    http("HEAD", url, "dev-1", DEVICE_SECRET "1", "Range", "bytes=0-99", NULL);
		g_assert_cmpuint(r->status, ==, 206);
		g_assert_cmpint(soup_message_headers_get_content_length(r->headers), ==, 100);
	}
	{
		g_autoptr(Resp) r =
		    http("GET", url, "dev-1", DEVICE_SECRET "1", "Range", "bytes=100000-", NULL);
		g_assert_cmpuint(r->status, ==, 416);
		g_assert_cmpstr(soup_message_headers_get_one(r->headers, "Content-Range"),
		                ==,
		                "bytes */100000");
	}
	{
		/* several ranges: the whole body */
		g_autoptr(Resp) r =
		    http("GET", url, "dev-1", DEVICE_SECRET "1", "Range", "bytes=0-1,5-6", NULL);
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_true(g_bytes_equal(r->body, f->blob));
	}
	{
		g_autoptr(Resp) r =
		    http("GET", url, "dev-1", DEVICE_SECRET "1", "If-None-Match", etag, NULL);
		g_assert_cmpuint(r->status, ==, 304);
		g_assert_cmpuint(g_bytes_get_size(r->body), ==, 0);
	}
	{
		g_autoptr(Resp) r = http(
		    "GET", url, "dev-1", DEVICE_SECRET "1", "If-None-Match", "\"other\"", NULL);
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_true(g_bytes_equal(r->body, f->blob));
	}
	{
		g_autoptr(Resp) r = http("POST", url, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 405);
	}
	fx_free(f);
}

/* a restart keeps Available images and resumes a partial download with Range */
static void
test_restart(void)
{
	Fx *f = fx_new(4 * 1024 * 1024);
	g_autoptr(GBytes) small = random_blob(5000, 5);
	g_autofree gchar *small_sha = sha_of(small);
	g_autofree gchar *dev = add_device(f->d, "dev-1", 1);
	g_autofree gchar *path = NULL;
	g_autofree gchar *entry = NULL;
	g_autofree gchar *url = image_url(f, f->sha);
	g_autofree gchar *partial = NULL;
	g_autoptr(GError) error = NULL;
	gint64 deadline;
	guint64 progress = 0;

	gw_upstream_set_throttle(f->up, 40); /* ≈1.6 MB/s: a few seconds */
	path = add_image(f, f->hash, NULL);
	entry = entry_of(path);
	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (progress < 15 && g_get_monotonic_time() < deadline) {
		g_autofree gchar *p = entry_leaf(f->d, entry, "Progress");
		progress = g_ascii_strtoull(p != NULL ? p : "0", NULL, 10);
		g_usleep(20 * 1000);
	}
	g_assert_cmpuint(progress, >=, 15);
	g_usleep(300 * 1000); /* the state file catches up */
	gw_test_daemon_kill(f->d);
	partial = g_strdup_printf("%s/images/%s.partial", f->d->state_dir, f->sha);
	g_assert_true(g_file_test(partial, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(gw_upstream_get_range_requests(f->up), ==, 0);

	gw_upstream_set_throttle(f->up, 0);
	gw_test_daemon_start(f->d, NULL);
	wait_state(f->d, entry, "Available", 60);
	g_assert_cmpuint(gw_upstream_get_range_requests(f->up), ==, 1);
	g_assert_cmpuint(gw_upstream_get_max_range_start(f->up), >, 0);
	g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
	{
		g_autoptr(Resp) r = http("GET", url, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_true(g_bytes_equal(r->body, f->blob));
	}
	(void)small_sha;
	/* an orderly restart keeps the Available image: no new download */
	gw_test_daemon_stop(f->d);
	gw_test_daemon_start(f->d, NULL);
	{
		g_autofree gchar *state = entry_leaf(f->d, entry, "State");
		g_autoptr(Resp) r = http("GET", url, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpstr(state, ==, "Available");
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_true(g_bytes_equal(r->body, f->blob));
	}
	g_assert_cmpuint(gw_upstream_get_requests(f->up), ==, 2);
	fx_free(f);
}

typedef struct {
	GArray *progress;
	gchar *state;
	GMainLoop *loop;
} Watch;

static void
props_changed_cb(GDBusConnection *c,
                 const gchar *sender,
                 const gchar *path,
                 const gchar *iface,
                 const gchar *signal,
                 GVariant *params,
                 gpointer user_data)
{
	Watch *w = user_data;
	g_autoptr(GVariant) changed = NULL;
	const gchar *name;
	GVariant *value;
	GVariantIter iter;

	g_variant_get(params, "(&s@a{sv}@as)", &name, &changed, NULL);
	if (g_strcmp0(name, IMAGE_IFACE) != 0)
		return;
	g_variant_iter_init(&iter, changed);
	while (g_variant_iter_loop(&iter, "{&sv}", &name, &value)) {
		if (g_strcmp0(name, "Progress") == 0) {
			guint p = g_variant_get_uint32(value);
			g_array_append_val(w->progress, p);
		} else if (g_strcmp0(name, "State") == 0) {
			g_free(w->state);
			w->state = g_variant_dup_string(value, NULL);
			if (g_strcmp0(w->state, "Available") == 0 ||
			    g_strcmp0(w->state, "Failed") == 0)
				g_main_loop_quit(w->loop);
		}
	}
}

static gboolean
watch_timeout_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

/* D-Bus: AddImage, Download with Progress in PropertiesChanged, Remove; bad arguments */
static void
test_dbus(void)
{
	Fx *f = fx_new(2 * 1024 * 1024);
	g_autofree gchar *path = NULL;
	g_autofree gchar *entry = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) v = NULL;
	g_autofree gchar *dir = images_dir(f);
	Watch w = {0};
	guint sub;
	guint timeout;
	const gchar *bad = "org.gwmo.Gateway1.Error.InvalidArgs";
	GVariantBuilder b;

	/* bad arguments */
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string("x"));
	g_variant_builder_add(&b, "{sv}", "Colour", g_variant_new_string("red"));
	gw_test_assert_dbus_error(f->d, "AddImage", g_variant_new("(a{sv})", &b), bad);
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_uint32(3));
	g_variant_builder_add(
	    &b, "{sv}", "ExternalURI", g_variant_new_string("http://127.0.0.1:1/x"));
	g_variant_builder_add(&b, "{sv}", "Hash", g_variant_new_string(f->hash));
	gw_test_assert_dbus_error(f->d, "AddImage", g_variant_new("(a{sv})", &b), bad);
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string("x"));
	g_variant_builder_add(
	    &b, "{sv}", "ExternalURI", g_variant_new_string("http://127.0.0.1:1/x"));
	g_variant_builder_add(&b, "{sv}", "Hash", g_variant_new_string(f->hash));
	g_variant_builder_add(&b, "{sv}", "Targets", g_variant_new_string("dev-1"));
	gw_test_assert_dbus_error(f->d, "AddImage", g_variant_new("(a{sv})", &b), bad);
	gw_test_assert_dbus_error(
	    f->d,
	    "AddImage",
	    g_variant_new("(@a{sv})", image_dict("x", "http://127.0.0.1:1/x", "sha256:1234", NULL)),
	    bad);
	gw_test_assert_dbus_error(
	    f->d,
	    "AddImage",
	    g_variant_new("(@a{sv})", image_dict("x", "ftp://127.0.0.1/x", f->hash, NULL)),
	    bad);
	gw_test_assert_dbus_error(
	    f->d,
	    "AddImage",
	    g_variant_new("(@a{sv})", image_dict("x", "http://127.0.0.1:1/x", "md5:abc", NULL)),
	    bad);

	path = add_image(f, f->hash, NULL);
	g_assert_cmpstr(path, ==, "/org/gwmo/Gateway1/Images/1");
	entry = entry_of(path);
	v = image_prop(f, path, "ImageURI");
	g_assert_cmpstr(g_variant_get_string(v, NULL), ==, entry);
	g_clear_pointer(&v, g_variant_unref);
	v = image_prop(f, path, "State");
	g_assert_cmpstr(g_variant_get_string(v, NULL), ==, "NotDownloaded");
	g_clear_pointer(&v, g_variant_unref);
	v = image_prop(f, path, "Hash");
	g_assert_cmpstr(g_variant_get_string(v, NULL), ==, f->hash);
	g_clear_pointer(&v, g_variant_unref);

	w.progress = g_array_new(FALSE, FALSE, sizeof(guint));
	w.loop = g_main_loop_new(NULL, FALSE);
	sub = g_dbus_connection_signal_subscribe(f->d->connection,
	                                         NULL,
	                                         "org.freedesktop.DBus.Properties",
	                                         "PropertiesChanged",
	                                         path,
	                                         NULL,
	                                         G_DBUS_SIGNAL_FLAGS_NONE,
	                                         props_changed_cb,
	                                         &w,
	                                         NULL);
	gw_upstream_set_throttle(f->up, 25); /* ≈2.5 MB/s: progress is seen on the way */
	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	timeout = g_timeout_add_seconds(60, watch_timeout_cb, w.loop);
	g_main_loop_run(w.loop);
	g_source_remove(timeout);
	g_dbus_connection_signal_unsubscribe(f->d->connection, sub);
	g_assert_cmpstr(w.state, ==, "Available");
	/* intermediate values, rising, ending at 100 */
	g_assert_cmpuint(w.progress->len, >=, 3);
	for (guint i = 1; i < w.progress->len; i++)
		g_assert_cmpuint(g_array_index(w.progress, guint, i),
		                 >=,
		                 g_array_index(w.progress, guint, i - 1));
	g_assert_cmpuint(g_array_index(w.progress, guint, w.progress->len - 1), ==, 100);
	g_assert_cmpuint(g_array_index(w.progress, guint, 0), <, 100);
	v = image_prop(f, path, "Size");
	g_assert_cmpuint(g_variant_get_uint64(v), ==, 2 * 1024 * 1024);
	g_clear_pointer(&v, g_variant_unref);
	v = image_prop(f, path, "LocalURI");
	g_assert_true(g_str_has_suffix(g_variant_get_string(v, NULL), f->sha));
	g_clear_pointer(&v, g_variant_unref);
	g_assert_cmpuint(count_files(dir), ==, 1);

	/* Remove: the object, the entry and the file go */
	image_call(f, path, "Remove", &error);
	g_assert_no_error(error);
	{
		g_autofree gchar *state = entry_leaf(f->d, entry, "State");
		g_assert_null(state);
	}
	image_call(f, path, "Download", &error);
	g_assert_nonnull(error);
	g_clear_error(&error);
	g_assert_cmpuint(count_files(dir), ==, 0);
	g_array_unref(w.progress);
	g_main_loop_unref(w.loop);
	g_free(w.state);
	fx_free(f);
}

/* gwmoctl images: add, list (table and JSON), download --wait (percentage lines when not on
 * a tty), rm */
static void
test_gwmoctl(void)
{
	Fx *f = fx_new(1024 * 1024);
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = images_dir(f);
	JsonArray *arr;
	gint rc;

	rc = gw_test_run_gwmoctl(f->d,
	                         &out,
	                         &err,
	                         "images",
	                         "add",
	                         "--name",
	                         "fw-a",
	                         "--uri",
	                         gw_upstream_get_url(f->up),
	                         "--hash",
	                         f->hash,
	                         "--kind",
	                         "firmware",
	                         "--version",
	                         "2.1",
	                         "--target",
	                         "dev-1",
	                         "--target",
	                         "lights",
	                         NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpstr(g_strstrip(out), ==, "/org/gwmo/Gateway1/Images/1");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* a missing --hash is a usage error, a malformed one InvalidArgs */
	rc = gw_test_run_gwmoctl(
	    f->d, &out, &err, "images", "add", "--name", "x", "--uri", "http://127.0.0.1:1/", NULL);
	g_assert_cmpint(rc, ==, 2);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = gw_test_run_gwmoctl(f->d,
	                         &out,
	                         &err,
	                         "images",
	                         "add",
	                         "--name",
	                         "x",
	                         "--uri",
	                         "http://127.0.0.1:1/",
	                         "--hash",
	                         "sha256:zz",
	                         NULL);
	g_assert_cmpint(rc, ==, 1);
	g_assert_nonnull(strstr(err, "InvalidArgs"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	gw_upstream_set_throttle(f->up, 30);
	rc = gw_test_run_gwmoctl(f->d, &out, &err, "images", "download", "1", "--wait", NULL);
	g_assert_cmpint(rc, ==, 0);
	/* plain percentage lines, ending with 100% */
	g_assert_null(strchr(out, '\r'));
	g_assert_true(g_str_has_suffix(out, "100%\n"));
	g_assert_nonnull(strstr(out, "0%\n"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(f->d, &out, &err, "images", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(out, "fw-a"));
	g_assert_nonnull(strstr(out, "Available"));
	g_assert_nonnull(strstr(out, "2.1"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(f->d, &out, &err, "--json", "images", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
	g_assert_no_error(error);
	arr = json_node_get_array(json_parser_get_root(parser));
	g_assert_cmpuint(json_array_get_length(arr), ==, 1);
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(arr, 0), "State"),
	    ==,
	    "Available");
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(arr, 0), "Hash"),
	    ==,
	    f->hash);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = gw_test_run_gwmoctl(f->d, &out, &err, "images", "rm", "1", NULL);
	g_assert_cmpint(rc, ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpuint(count_files(dir), ==, 0);
	rc = gw_test_run_gwmoctl(f->d, &out, &err, "images", "rm", "1", NULL);
	g_assert_cmpint(rc, !=, 0);
	fx_free(f);
}

/* an image replaced (its entry's Hash and ExternalURI) while a device downloads it: the
 * download that runs ends with the old image whole, its file goes, a new GET of the old hash
 * is 404 at once (nothing kept from before is served), and the new image is served once it
 * is downloaded */
static void
test_replace_while_serving(void)
{
	/* more than the loopback socket buffers of both ends hold: the body is still being
	 * written when the image is replaced */
	Fx *f = fx_new(24 * 1024 * 1024);
	g_autoptr(GBytes) blob_b = random_blob(70000, 77);
	g_autofree gchar *sha_b = sha_of(blob_b);
	g_autofree gchar *hash_b = g_strconcat("sha256:", sha_b, NULL);
	GwUpstream *up_b = gw_upstream_new(blob_b);
	g_autofree gchar *dev = add_device(f->d, "dev-1", 1);
	g_autofree gchar *path = add_image(f, f->hash, NULL);
	g_autofree gchar *entry = entry_of(path);
	g_autofree gchar *url_a = image_url(f, f->sha);
	g_autofree gchar *url_b = image_url(f, sha_b);
	g_autofree gchar *file_a = NULL;
	g_autofree gchar *hash_uri = g_strdup_printf("%s/Hash", entry);
	g_autofree gchar *ext_uri = g_strdup_printf("%s/ExternalURI", entry);
	g_autoptr(SoupSession) session =
	    soup_session_new_with_options("proxy-resolver", NULL, "timeout", 30, NULL);
	g_autoptr(GTlsDatabase) db = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GInputStream) in = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *pair = g_strdup("dev-1:" DEVICE_SECRET "1");
	g_autofree gchar *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
	g_autofree gchar *basic = g_strconcat("Basic ", b64, NULL);
	gsize total = g_bytes_get_size(f->blob);
	guchar *got = g_malloc(total);
	gsize n = 0;
	gint64 deadline;

	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, entry, "Available", 60);
	file_a = g_strdup_printf("%s/images/%s", f->d->state_dir, f->sha);
	g_assert_true(g_file_test(file_a, G_FILE_TEST_EXISTS));
	{
		/* served once: whatever the gateway keeps to serve it is there now */
		g_autoptr(Resp) r =
		    http("GET", url_a, "dev-1", DEVICE_SECRET "1", "Range", "bytes=0-9", NULL);
		g_assert_cmpuint(r->status, ==, 206);
	}

	/* a device starts the download and reads a little of it */
	db = g_tls_file_database_new(gateway_cert, &error);
	g_assert_no_error(error);
	soup_session_set_tls_database(session, db);
	msg = soup_message_new("GET", url_a);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", basic);
	in = soup_session_send(session, msg, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
	g_assert_cmpint(
	    soup_message_headers_get_content_length(soup_message_get_response_headers(msg)),
	    ==,
	    (goffset)total);
	g_assert_true(g_input_stream_read_all(in, got, 65536, &n, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 65536);

	/* the entry is replaced: the old image loses its last entry and its file goes */
	reply = gw_test_call(
	    f->d,
	    "SetNode",
	    g_variant_new("(ssv)", ext_uri, "chr", g_variant_new_string(gw_upstream_get_url(up_b))),
	    NULL,
	    &error);
	g_assert_no_error(error);
	g_clear_pointer(&reply, g_variant_unref);
	reply = gw_test_call(f->d,
	                     "SetNode",
	                     g_variant_new("(ssv)", hash_uri, "chr", g_variant_new_string(hash_b)),
	                     NULL,
	                     &error);
	g_assert_no_error(error);
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (g_file_test(file_a, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
		g_usleep(20 * 1000);
	g_assert_false(g_file_test(file_a, G_FILE_TEST_EXISTS));

	/* a new request for the old hash: nothing to serve */
	{
		g_autoptr(Resp) r = http("GET", url_a, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 404);
	}
	{
		g_autoptr(Resp) r = http("HEAD", url_a, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 404);
	}

	/* the download that ran ends with the old image, whole: neither torn nor mixed */
	g_assert_true(g_input_stream_read_all(in, got + n, total - n, &n, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, total - 65536);
	g_assert_true(memcmp(got, g_bytes_get_data(f->blob, NULL), total) == 0);
	g_input_stream_close(in, NULL, NULL);

	/* the new image, once downloaded */
	{
		g_autoptr(Resp) r = http("GET", url_b, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 404);
	}
	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, entry, "Available", 30);
	{
		g_autoptr(Resp) r = http("GET", url_b, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_true(g_bytes_equal(r->body, blob_b));
	}
	{
		g_autoptr(Resp) r = http("GET", url_a, "dev-1", DEVICE_SECRET "1", NULL);
		g_assert_cmpuint(r->status, ==, 404);
	}
	g_free(got);
	fx_free(f);
	gw_upstream_free(up_b);
}

/* @url signed for @device_id as the gateway signs it (spec/GWMO.md §9), with the key from
 * its state directory */
static gchar *
signed_url(Fx *f, const gchar *url, const gchar *sha, const gchar *device_id)
{
	g_autofree gchar *key_path = g_build_filename(f->d->state_dir, "image-url.key", NULL);
	g_autofree gchar *key = NULL;
	gsize key_len = 0;
	gint64 exp = g_get_real_time() / G_USEC_PER_SEC + 3600;
	g_autofree gchar *text = g_strdup_printf("%s|%s|%" G_GINT64_FORMAT, sha, device_id, exp);
	g_autofree gchar *sig = NULL;

	g_assert_true(g_file_get_contents(key_path, &key, &key_len, NULL));
	sig = g_compute_hmac_for_data(
	    G_CHECKSUM_SHA256, (const guchar *)key, key_len, (const guchar *)text, strlen(text));
	return g_strdup_printf(
	    "%s?dev=%s&exp=%" G_GINT64_FORMAT "&sig=%s", url, device_id, exp, sig);
}

/* one request on @session (its connection kept alive between calls); @range nullable */
static Resp *
http_on(SoupSession *session, const gchar *method, const gchar *url, const gchar *range)
{
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GError) error = NULL;
	Resp *r = g_new0(Resp, 1);

	if (range != NULL)
		soup_message_headers_replace(soup_message_get_request_headers(msg), "Range", range);
	r->body = soup_session_send_and_read(session, msg, NULL, &error);
	g_assert_no_error(error);
	r->status = soup_message_get_status(msg);
	r->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	return r;
}

/* over plain HTTP (a signed URL) a body up to 1 MiB leaves from the file (sendfile()), a
 * larger one from the mapping: the whole image, ranges at any offset, HEAD and 304 between them on
 * one kept-alive connection, two images in turn on it, and a signature the gateway keeps as
 * verified still bound to its device */
static void
test_plain_http_bodies(void)
{
	guint16 http_port = free_port();
	g_autofree gchar *also = g_strdup_printf(",http://127.0.0.1:%u", http_port);
	/* several socket buffers: the kernel takes it in parts */
	Fx *f = fx_new_listen(5 * 1024 * 1024 + 17, also, NULL, NULL);
	g_autoptr(GBytes) small = random_blob(3001, 31);
	g_autofree gchar *small_sha = sha_of(small);
	g_autofree gchar *small_hash = g_strconcat("sha256:", small_sha, NULL);
	GwUpstream *up_small = gw_upstream_new(small);
	g_autofree gchar *dev1 = add_device(f->d, "dev-1", 1);
	g_autofree gchar *dev2 = add_device(f->d, "dev-2", 2);
	g_autofree gchar *path = add_image(f, f->hash, NULL);
	g_autofree gchar *entry = entry_of(path);
	g_autofree gchar *small_path = NULL;
	g_autofree gchar *base =
	    g_strdup_printf("http://127.0.0.1:%u/images/%s", http_port, f->sha);
	g_autofree gchar *small_base =
	    g_strdup_printf("http://127.0.0.1:%u/images/%s", http_port, small_sha);
	g_autofree gchar *url = NULL;
	g_autofree gchar *small_url = NULL;
	g_autoptr(SoupSession) session = soup_session_new_with_options(
	    "proxy-resolver", NULL, "timeout", 30, "max-conns", 1, NULL);
	const guint8 *data = g_bytes_get_data(f->blob, NULL);
	gsize size = g_bytes_get_size(f->blob);
	g_autoptr(GError) error = NULL;

	{
		g_autoptr(GError) e = NULL;
		g_autoptr(GVariant) reply = gw_test_call(
		    f->d,
		    "AddImage",
		    g_variant_new(
		        "(@a{sv})",
		        image_dict("small", gw_upstream_get_url(up_small), small_hash, NULL)),
		    "(o)",
		    &e);
		g_assert_no_error(e);
		g_variant_get(reply, "(o)", &small_path);
	}
	image_call(f, path, "Download", &error);
	g_assert_no_error(error);
	image_call(f, small_path, "Download", &error);
	g_assert_no_error(error);
	wait_state(f->d, entry, "Available", 60);
	{
		g_autofree gchar *small_entry = entry_of(small_path);
		wait_state(f->d, small_entry, "Available", 30);
	}
	url = signed_url(f, base, f->sha, "dev-1");
	small_url = signed_url(f, small_base, small_sha, "dev-1");

	for (guint round = 0; round < 2; round++) {
		{
			g_autoptr(Resp) r = http_on(session, "GET", url, NULL);
			g_assert_cmpuint(r->status, ==, 200);
			g_assert_true(g_bytes_equal(r->body, f->blob));
		}
		{
			/* a range small enough to leave with sendfile(), at an odd offset */
			g_autoptr(Resp) r = http_on(session, "GET", url, "bytes=4097-528387");
			g_assert_cmpuint(r->status, ==, 206);
			g_assert_cmpuint(g_bytes_get_size(r->body), ==, 524291);
			g_assert_true(
			    memcmp(g_bytes_get_data(r->body, NULL), data + 4097, 524291) == 0);
		}
		{
			g_autoptr(Resp) r = http_on(session, "GET", url, "bytes=-7");
			g_assert_cmpuint(r->status, ==, 206);
			g_assert_cmpuint(g_bytes_get_size(r->body), ==, 7);
			g_assert_true(memcmp(g_bytes_get_data(r->body, NULL), data + size - 7, 7) ==
			              0);
		}
		{
			g_autoptr(Resp) r = http_on(session, "HEAD", url, NULL);
			g_assert_cmpuint(r->status, ==, 200);
			g_assert_cmpint(
			    soup_message_headers_get_content_length(r->headers), ==, size);
			g_assert_cmpuint(g_bytes_get_size(r->body), ==, 0);
		}
		{
			g_autoptr(Resp) r = http_on(session, "GET", small_url, NULL);
			g_assert_cmpuint(r->status, ==, 200);
			g_assert_true(g_bytes_equal(r->body, small));
		}
		{
			g_autoptr(Resp) r = http_on(session, "GET", small_url, "bytes=1000-1999");
			g_assert_cmpuint(r->status, ==, 206);
			g_assert_true(memcmp(g_bytes_get_data(r->body, NULL),
			                     (const guint8 *)g_bytes_get_data(small, NULL) + 1000,
			                     1000) == 0);
		}
	}
	/* a signature verified (and kept) for dev-1 does not hold for dev-2 */
	{
		g_autofree gchar *forged = g_strdup(url);
		gchar *dev = strstr(forged, "dev=dev-1");
		g_autoptr(Resp) r = NULL;
		g_assert_nonnull(dev);
		dev[8] = '2';
		r = http_on(session, "GET", forged, NULL);
		g_assert_cmpuint(r->status, ==, 403);
	}
	fx_free(f);
	gw_upstream_free(up_small);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc > 1)
		server_binary = argv[1];
	if (argc > 2)
		device_binary = argv[2];
	g_test_add_func("/images/resume-interrupted", test_resume_interrupted);
	g_test_add_func("/images/wrong-hash", test_wrong_hash);
	g_test_add_func("/images/twenty-devices-one-download", test_twenty_devices_one_download);
	g_test_add_func("/images/targets", test_targets);
	g_test_add_func("/images/image-store-switch", test_image_store_switch);
	g_test_add_func("/images/quota", test_quota);
	g_test_add_func("/images/range-head-etag", test_range_head_etag);
	g_test_add_func("/images/replace-while-serving", test_replace_while_serving);
	g_test_add_func("/images/plain-http-bodies", test_plain_http_bodies);
	g_test_add_func("/images/restart", test_restart);
	g_test_add_func("/images/dbus", test_dbus);
	g_test_add_func("/images/gwmoctl", test_gwmoctl);
	return g_test_run();
}
