/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, the proofs of issue 11 §6 on the southbound side: the real gwmod driven by the
 * reference DM Server, reference End Devices talking to it, an upstream image server. Each
 * case names the requirement it proves:
 *  - southbound-https-default: DM-SECONF-001, with no [southbound] listen the device talks
 *    HTTPS to the gateway, trusting the gateway's certificate;
 *  - southbound-http-warning: DM-SECONF-001, a configured http:// listener is warned about;
 *  - image-urls: DM-SECONF-001 (spec/GWMO.md §9), each device receives its own signed,
 *    expiring image URL; expired, another device's, tampered → 403; HTTP Basic over TLS only;
 *  - image-store-switch: GwMO-DCIS-003, the server turns its ImageStore off and on;
 *  - nomadic-read: GwMO-HLF-002, a device moved to another gateway is read through it.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-proofs.h"
#include "gw-upstream.h"

#if defined(__SANITIZE_ADDRESS__)
#define JOB_TIMEOUT 60
#else
#define JOB_TIMEOUT 20
#endif

/* the default southbound listener (spec/GWMO.md §4) */
#define DEFAULT_SOUTH_PORT 7444

/* a Proxy device registering (ServerIDs srv1) at @dm_url, trusting @ca_file for its sessions
 * and its fetches, answering @count notified sessions */
static GSubprocess *
proxy_device(Env *e,
             const gchar *id,
             const gchar *dm_url,
             const gchar *ca_file,
             guint count,
             const gchar *record)
{
	g_autofree gchar *server_arg = g_strdup_printf("--server=%s", dm_url);
	g_autofree gchar *id_arg = g_strdup_printf("--dev-id=%s", id);
	g_autofree gchar *count_arg = g_strdup_printf("--count=%u", count);
	g_autofree gchar *record_arg = g_strdup_printf("--record=%s", record);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", ca_file != NULL ? ca_file : "");
	g_autofree gchar *log = g_strdup_printf("%s.log", id);

	return proof_device_spawn(e,
	                          log,
	                          server_arg,
	                          id_arg,
	                          "--auth=md5",
	                          "--client-secret=" PROOF_DEV_SECRET,
	                          "--server-name=" PROOF_GW_ID,
	                          "--server-secret=" PROOF_GW_SECRET,
	                          "--server-id=" PROOF_GW_ID,
	                          "--register",
	                          "--mode=2",
	                          "--server-ids=" SERVER_ID,
	                          "--listen-notify=http://127.0.0.1:0",
	                          count_arg,
	                          record_arg,
	                          ca_file != NULL ? ca_arg : NULL,
	                          NULL);
}

/* waits until the record of @device_id has an http:// NotifyAddr (its registration is in) */
static void
wait_registered(GwTestDaemon *d, const gchar *device_id)
{
	for (guint i = 0; i < 1200; i++) {
		g_autofree gchar *rec = proof_find_record(d, device_id);
		g_autofree gchar *na_uri =
		    rec != NULL ? g_strdup_printf("%s/NotifyAddr", rec) : NULL;
		g_autofree gchar *na = na_uri != NULL ? get_value(d, na_uri, NULL) : NULL;
		if (na != NULL && g_str_has_prefix(na, "http://127.0.0.1:"))
			return;
		g_usleep(50 * 1000);
	}
	g_printerr("%s never registered a NotifyAddr\n", device_id);
	g_assert_not_reached();
}

/* the Fanout job @name: Exec ./Ext/Fetch with @url on the NULL-terminated DeviceIDs */
static gchar *
fetch_job(const gchar *name, const gchar *const *ids, const gchar *url, const gchar *correlator)
{
	GString *s = g_string_new(NULL);
	g_string_append_printf(
	    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s\",\"format\":\"node\"},", name);
	for (guint i = 0; ids[i] != NULL; i++)
		g_string_append_printf(
		    s,
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/Devices/"
		    "%u\",\"data\":\"%s\"},",
		    name,
		    i + 1,
		    ids[i]);
	g_string_append_printf(
	    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Command\",\"data\":\"Exec\"},", name);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/TargetURI\",\"data\":\"./Ext/Fetch\"},",
	    name);
	g_string_append_printf(
	    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Data\",\"data\":\"%s\"},", name, url);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Timeout\",\"format\":"
	                       "\"int\",\"data\":\"%u\"},",
	                       name,
	                       JOB_TIMEOUT);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Fanout/%s/Operations/Start\","
	                       "\"correlator\":\"%s\"}",
	                       name,
	                       correlator);
	return g_string_free(s, FALSE);
}

/* the data of the last Exec of @uri in a device's record (a command sent again after a
 * refused message appears twice), NULL if none; its status in @status */
static gchar *
device_exec_data(const gchar *record, const gchar *uri, guint *status)
{
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions = record_sessions(record, &parser);
	gchar *data = NULL;

	for (guint s = 0; s < json_array_get_length(sessions); s++) {
		JsonArray *cmds = json_object_get_array_member(
		    json_array_get_object_element(sessions, s), "commands");
		for (guint i = 0; cmds != NULL && i < json_array_get_length(cmds); i++) {
			JsonObject *c = json_array_get_object_element(cmds, i);
			if (g_strcmp0(json_object_get_string_member(c, "cmd"), "Exec") == 0 &&
			    g_strcmp0(json_object_get_string_member(c, "uri"), uri) == 0) {
				if (status != NULL)
					*status = (guint)json_object_get_int_member(c, "status");
				g_free(data);
				data = g_strdup(json_object_get_string_member(c, "data"));
			}
		}
	}
	return data;
}

/* @url with the value of query parameter @name set to @value */
static gchar *
with_param(const gchar *url, const gchar *name, const gchar *value)
{
	g_autofree gchar *needle = g_strdup_printf("%s=", name);
	const gchar *q = strchr(url, '?');
	const gchar *start;
	const gchar *end;

	g_assert_nonnull(q);
	start = strstr(q, needle);
	g_assert_nonnull(start);
	start += strlen(needle);
	end = strchr(start, '&');
	if (end == NULL)
		end = start + strlen(start);
	return g_strdup_printf("%.*s%s%s", (gint)(start - url), url, value, end);
}

/* the query parameter @name of @url */
static gchar *
param_of(const gchar *url, const gchar *name)
{
	g_autoptr(GHashTable) params =
	    g_uri_parse_params(strchr(url, '?') + 1, -1, "&", G_URI_PARAMS_NONE, NULL);
	g_assert_nonnull(params);
	return g_strdup(g_hash_table_lookup(params, name));
}

/* the URL of image @sha for @device_id expiring at @exp, signed with the gateway's key as
 * spec/GWMO.md §9 says (what a device of the test may hold after a while, or forge) */
static gchar *
sign_url(GwTestDaemon *d, const gchar *base, const gchar *sha, const gchar *device_id, gint64 exp)
{
	g_autofree gchar *key_path = g_build_filename(d->state_dir, "image-url.key", NULL);
	g_autofree gchar *key = NULL;
	g_autofree gchar *text = g_strdup_printf("%s|%s|%" G_GINT64_FORMAT, sha, device_id, exp);
	g_autofree gchar *sig = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(key_path, &key, &len, NULL));
	g_assert_cmpuint(len, ==, 32);
	sig = g_compute_hmac_for_data(
	    G_CHECKSUM_SHA256, (const guchar *)key, len, (const guchar *)text, strlen(text));
	return g_strdup_printf(
	    "%s/images/%s?dev=%s&exp=%" G_GINT64_FORMAT "&sig=%s", base, sha, device_id, exp, sig);
}

static gchar *
basic(const gchar *user, const gchar *secret)
{
	g_autofree gchar *pair = g_strdup_printf("%s:%s", user, secret);
	g_autofree gchar *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
	return g_strconcat("Basic ", b64, NULL);
}

/* a free port on 0.0.0.0 right now, or FALSE */
static gboolean
port_is_free(guint16 port)
{
	g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
	g_autoptr(GInetAddress) any = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) a = g_inet_socket_address_new(any, port);
	return s != NULL && g_socket_bind(s, a, TRUE, NULL);
}

/*
 * DM-SECONF-001: with no [southbound] listen configured, gwmod serves the End Devices on
 * https://0.0.0.0:7444 with its own identity (state-dir/tls.crt) and logs no clear-text
 * warning; a reference End Device that trusts that certificate registers over HTTPS.
 */
static void
test_southbound_https_default(void)
{
	ProofConfig config = {.south_listen = ""};
	Env *e = NULL;
	g_autofree gchar *gw_cert = NULL;
	g_autofree gchar *dm_url = g_strdup_printf("https://127.0.0.1:%u/dm", DEFAULT_SOUTH_PORT);
	g_autofree gchar *record = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *rec = NULL;
	g_autofree gchar *v = NULL;
	g_autoptr(GSubprocess) device = NULL;

	if (!port_is_free(DEFAULT_SOUTH_PORT)) {
		g_test_skip("port 7444 (the default southbound listener) is in use");
		return;
	}
	e = proof_env_new(&config);
	gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	record = g_build_filename(e->dir, "dev-s.json", NULL);
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "southbound listener on https://0.0.0.0:7444/"));
	g_assert_null(strstr(log, "is plain HTTP"));

	/* it trusts the gateway's certificate and nothing else, and talks https only */
	rec = proof_add_device(e->d, "dev-s", 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL);
	device = proxy_device(e, "dev-s", dm_url, gw_cert, 1, record);
	wait_registered(e->d, "dev-s");
	{
		g_autofree gchar *uri = g_strdup_printf("%s/Status", rec);
		v = get_value(e->d, uri, NULL);
		g_assert_cmpstr(v, ==, "Attached");
	}
	proof_device_stop(device);
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
}

/* DM-SECONF-001: plain http only when configured, and then with a warning naming it */
static void
test_southbound_http_warning(void)
{
	ProofConfig config = {0};
	Env *e = proof_env_new(&config);
	g_autofree gchar *log = gw_test_daemon_read_log(e->d);
	g_autofree gchar *needle = g_strdup_printf(
	    "southbound listener http://127.0.0.1:%u/ is plain HTTP", e->south_port);

	g_assert_nonnull(strstr(log, needle));
	g_assert_nonnull(strstr(log, "WARNING"));
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
}

/*
 * DM-SECONF-001 and spec/GWMO.md §9: device credentials never cross in clear. gwmod listens on
 * http and https; the DM Server adds an image for dev-a and dev-b, has it downloaded and fans
 * an Exec of ./Ext/Fetch with the image's LocalURI out to both. Each device receives its own
 * URL (…/images/<sha256>?dev=<its DeviceID>&exp=…&sig=…), fetches the image with it (no
 * credentials) and holds its sha256. Then, as a client on the LAN would:
 *  - a device's URL works, over https and over plain http;
 *  - another device's (dev=dev-b on dev-a's signature), a tampered signature, an expired URL
 *    (signed with the gateway's key, exp in the past) and a URL for a device not among the
 *    image's Targets: 403;
 *  - HTTP Basic with a device's credentials: 200 over https, refused (403) over http; over http
 *    without a signature nothing asks for credentials (403, no challenge).
 * The key is 32 bytes in the state directory, mode 0600.
 */
static void
test_image_urls(void)
{
	guint16 https_port = gw_test_free_port();
	ProofConfig config = {.extra = "[fanout]\nsync-wait=120\n"};
	g_autofree gchar *listen = NULL;
	Env *e = NULL;
	g_autoptr(GRand) rand = g_rand_new_with_seed(11);
	gsize size = 1024 * 1024;
	guint32 *raw = g_malloc(size);
	g_autoptr(GBytes) blob = NULL;
	g_autofree gchar *sha = NULL;
	g_autofree gchar *gw_cert = NULL;
	g_autofree gchar *https_base = g_strdup_printf("https://127.0.0.1:%u", https_port);
	g_autofree gchar *http_base = NULL;
	g_autofree gchar *local = NULL;
	g_autofree gchar *dm_url = g_strdup_printf("%s/dm", https_base);
	g_autofree gchar *job = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *url_a = NULL;
	g_autofree gchar *url_b = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	GSubprocess *devs[2];
	gchar *records[2];
	const gchar *ids[] = {"dev-a", "dev-b", NULL};
	GwUpstream *up;
	JsonArray *sessions;
	JsonObject *s;
	const gchar *doc;

	for (gsize i = 0; i < size / 4; i++)
		raw[i] = g_rand_int(rand);
	blob = g_bytes_new_take(raw, size);
	sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, blob);
	up = gw_upstream_new(blob);
	/* ≈3 s: the Download's session is over before the download ends */
	gw_upstream_set_throttle(up, 200);

	listen = g_strdup_printf("http://127.0.0.1:%u,https://127.0.0.1:%u", 0, https_port);
	config.south_listen = listen;
	e = proof_env_new(&config);
	/* the http listener took a port of its own: the image URLs use https, the one given */
	gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	local = g_strdup_printf("%s/images/%s", https_base, sha);
	record = g_build_filename(e->dir, "record.json", NULL);
	{
		g_autofree gchar *log = gw_test_daemon_read_log(e->d);
		const gchar *p = strstr(log, "southbound listener on http://127.0.0.1:");
		g_assert_nonnull(p);
		p += strlen("southbound listener on ");
		http_base = g_strndup(p, (gsize)(strchr(p + strlen("http://"), '/') - p));
		/* only the http listener is warned about */
		g_assert_cmpuint(count_substr(log, "is plain HTTP"), ==, 1);
		g_assert_nonnull(strstr(log, "serving images from"));
	}
	g_test_message("http listener %s, https listener %s", http_base, https_base);

	for (guint i = 0; i < 2; i++) {
		g_autofree gchar *name = g_strdup_printf("%s.json", ids[i]);
		g_free(proof_add_device(e->d, ids[i], 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL));
		records[i] = g_build_filename(e->dir, name, NULL);
		devs[i] = proxy_device(e, ids[i], dm_url, gw_cert, 1, records[i]);
	}
	/* a device of the inventory the image is not for */
	g_free(proof_add_device(e->d, "dev-c", 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL));
	for (guint i = 0; i < 2; i++)
		wait_registered(e->d, ids[i]);

	job = fetch_job("fetch", ids, local, "corr-fetch");
	script = g_strdup_printf(
	    "{\"sessions\":["
	    "{\"commands\":["
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Name\",\"data\":\"lamp-fw\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/ExternalURI\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Hash\",\"data\":\"sha256:%s\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Targets/1\",\"data\":\"dev-a\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Targets/2\",\"data\":\"dev-b\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Images/fw/Operations/Download\"}]},"
	    /* the ImageDownloadComplete session */
	    "{\"commands\":[{\"cmd\":\"Get\",\"uri\":\"./GwMO/Images/fw/LocalURI\"}]},"
	    "{\"commands\":[%s]}]}",
	    gw_upstream_get_url(up),
	    sha,
	    job);
	server = server_start(e, script, record, CL_SECRET, "--sessions=3", NULL);
	proof_start_session(e->d);
	proof_wait_value(e->d, "./GwMO/Images/fw/State", "Available");
	for (guint i = 0; i < 600 && pending_alerts(e->d) > 0; i++)
		g_usleep(50 * 1000);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	proof_start_session(e->d);
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
	s = json_array_get_object_element(sessions, 1);
	g_assert_cmpstr(
	    proof_item_data(result_for(s, "Get", "./GwMO/Images/fw/LocalURI"), 0), ==, local);
	s = json_array_get_object_element(sessions, 2);
	doc = proof_fanout_document(s, "corr-fetch");
	g_assert_true(proof_doc_device_status(doc, "dev-a", 200));
	g_assert_true(proof_doc_device_status(doc, "dev-b", 200));

	/* each device received its own URL, and fetched the image with it */
	for (guint i = 0; i < 2; i++) {
		g_autofree gchar *prefix = g_strdup_printf("%s?dev=%s&exp=", local, ids[i]);
		guint status = 0;
		gchar *url;
		g_assert_cmpint(proof_device_wait(devs[i]), ==, 0);
		url = device_exec_data(records[i], "./Ext/Fetch", &status);
		g_assert_nonnull(url);
		g_test_message("%s received %s", ids[i], url);
		g_assert_true(g_str_has_prefix(url, prefix));
		g_assert_nonnull(strstr(url, "&sig="));
		g_assert_cmpuint(status, ==, 200);
		if (i == 0)
			url_a = url;
		else
			url_b = url;
	}
	g_assert_cmpstr(url_a, !=, url_b);
	{
		g_autofree gchar *sig_a = param_of(url_a, "sig");
		g_autofree gchar *sig_b = param_of(url_b, "sig");
		g_assert_cmpstr(sig_a, !=, sig_b);
	}

	/* as a client on the LAN would */
	{
		g_autofree gchar *got = NULL;
		g_autofree gchar *over_http =
		    g_strconcat(http_base, url_a + strlen(https_base), NULL);
		g_autofree gchar *other = with_param(url_a, "dev", "dev-b");
		g_autofree gchar *sig = param_of(url_a, "sig");
		g_autofree gchar *bad_sig = NULL;
		g_autofree gchar *tampered = NULL;
		gint64 now = g_get_real_time() / G_USEC_PER_SEC;
		g_autofree gchar *expired = sign_url(e->d, https_base, sha, "dev-a", now - 10);
		g_autofree gchar *fresh = sign_url(e->d, https_base, sha, "dev-a", now + 600);
		g_autofree gchar *not_target = sign_url(e->d, https_base, sha, "dev-c", now + 600);
		g_autofree gchar *unknown = sign_url(e->d, https_base, sha, "dev-x", now + 600);
		g_autofree gchar *cred = basic("dev-a", PROOF_DEV_SECRET);
		g_autofree gchar *plain_local = g_strdup_printf("%s/images/%s", http_base, sha);

		sig[strlen(sig) - 1] = sig[strlen(sig) - 1] == '0' ? '1' : '0';
		bad_sig = g_strdup(sig);
		tampered = with_param(url_a, "sig", bad_sig);

		g_assert_cmpuint(proof_http_get(url_a, gw_cert, NULL, &got), ==, 200);
		g_assert_cmpstr(got, ==, sha);
		g_assert_cmpuint(proof_http_get(over_http, NULL, NULL, NULL), ==, 200);
		g_assert_cmpuint(proof_http_get(other, gw_cert, NULL, NULL), ==, 403);
		g_assert_cmpuint(proof_http_get(tampered, gw_cert, NULL, NULL), ==, 403);
		g_assert_cmpuint(proof_http_get(expired, gw_cert, NULL, NULL), ==, 403);
		/* the test signs as the gateway does: the same URL not expired is served */
		g_assert_cmpuint(proof_http_get(fresh, gw_cert, NULL, NULL), ==, 200);
		g_assert_cmpuint(proof_http_get(not_target, gw_cert, NULL, NULL), ==, 403);
		g_assert_cmpuint(proof_http_get(unknown, gw_cert, NULL, NULL), ==, 403);
		/* HTTP Basic over TLS only */
		g_assert_cmpuint(proof_http_get(local, gw_cert, cred, NULL), ==, 200);
		g_assert_cmpuint(proof_http_get(local, gw_cert, NULL, NULL), ==, 401);
		g_assert_cmpuint(proof_http_get(plain_local, NULL, cred, NULL), ==, 403);
		g_assert_cmpuint(proof_http_get(plain_local, NULL, NULL, NULL), ==, 403);
	}
	{
		g_autofree gchar *log = gw_test_daemon_read_log(e->d);
		g_assert_nonnull(strstr(log, "image URL expired"));
		g_assert_nonnull(strstr(log, "image URL signature does not verify"));
		g_assert_nonnull(strstr(log, "credentials are not accepted over plain HTTP"));
		/* the secret is nowhere in the log */
		g_assert_null(strstr(log, PROOF_DEV_SECRET));
	}
	{
		g_autofree gchar *key_path =
		    g_build_filename(e->d->state_dir, "image-url.key", NULL);
		GStatBuf st;
		g_assert_cmpint(g_stat(key_path, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 0777, ==, 0600);
		g_assert_cmpint(st.st_size, ==, 32);
	}
	for (guint i = 0; i < 2; i++) {
		g_object_unref(devs[i]);
		g_free(records[i]);
	}
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
	gw_upstream_free(up);
}

#define STORE_FLAG "./GwMO/Config/Servers/srv1/ImageStore"

/*
 * GwMO-DCIS-003 (the DM Server configures whether its data may be stored on the gateway for
 * local retrieval), each switch a Replace in the server's own session:
 *  1. ImageStore false: its Download Exec is refused (403), the image stays NotDownloaded;
 *  2. ImageStore true: the Download is accepted (202) and the image becomes Available;
 *  3. (the ImageDownloadComplete session) ImageStore false, then a fan-out of ./Ext/Fetch with
 *     the LocalURI: the device's GET is refused (403), its Fetch fails (500);
 *  4. ImageStore true, the same fan-out: the device fetches the image (200, its sha256).
 */
static void
test_image_store_switch(void)
{
	ProofConfig config = {.extra = "[fanout]\nsync-wait=120\n"};
	Env *e = proof_env_new(&config);
	g_autoptr(GRand) rand = g_rand_new_with_seed(12);
	gsize size = 1024 * 1024;
	guint32 *raw = g_malloc(size);
	g_autoptr(GBytes) blob = NULL;
	g_autofree gchar *sha = NULL;
	g_autofree gchar *local = NULL;
	g_autofree gchar *dm_url = g_strdup_printf("http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *dev_record = g_build_filename(e->dir, "dev-i.json", NULL);
	g_autofree gchar *job1 = NULL;
	g_autofree gchar *job2 = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *log = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(JsonParser) dparser = NULL;
	const gchar *ids[] = {"dev-i", NULL};
	GwUpstream *up;
	JsonArray *sessions;
	JsonArray *dsessions;
	JsonObject *s;
	const gchar *doc;
	guint statuses[2] = {0, 0};
	guint n_fetch = 0;

	for (gsize i = 0; i < size / 4; i++)
		raw[i] = g_rand_int(rand);
	blob = g_bytes_new_take(raw, size);
	sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, blob);
	up = gw_upstream_new(blob);
	/* ≈3 s: the Download's session is over before the download ends */
	gw_upstream_set_throttle(up, 200);
	local = g_strdup_printf("http://127.0.0.1:%u/images/%s", e->south_port, sha);

	g_free(proof_add_device(e->d, "dev-i", 2, PROOF_DEV_SECRET, PROOF_GW_SECRET, NULL));
	device = proxy_device(e, "dev-i", dm_url, NULL, 2, dev_record);
	wait_registered(e->d, "dev-i");

	job1 = fetch_job("f1", ids, local, "corr-off");
	job2 = fetch_job("f2", ids, local, "corr-on");
	script = g_strdup_printf(
	    "{\"sessions\":["
	    "{\"commands\":["
	    "{\"cmd\":\"Replace\",\"uri\":\"" STORE_FLAG
	    "\",\"format\":\"bool\",\"data\":\"false\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Name\",\"data\":\"lamp-fw\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/ExternalURI\",\"data\":\"%s\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Images/fw/Hash\",\"data\":\"sha256:%s\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Images/fw/Operations/Download\"},"
	    "{\"cmd\":\"Get\",\"uri\":\"./GwMO/Images/fw/State\"}]},"
	    "{\"commands\":["
	    "{\"cmd\":\"Replace\",\"uri\":\"" STORE_FLAG
	    "\",\"format\":\"bool\",\"data\":\"true\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Images/fw/Operations/Download\"}]},"
	    /* the ImageDownloadComplete session */
	    "{\"commands\":["
	    "{\"cmd\":\"Replace\",\"uri\":\"" STORE_FLAG
	    "\",\"format\":\"bool\",\"data\":\"false\"},"
	    "%s]},"
	    "{\"commands\":["
	    "{\"cmd\":\"Replace\",\"uri\":\"" STORE_FLAG
	    "\",\"format\":\"bool\",\"data\":\"true\"},"
	    "%s]}]}",
	    gw_upstream_get_url(up),
	    sha,
	    job1,
	    job2);
	server = server_start(e, script, record, CL_SECRET, "--sessions=4", NULL);

	proof_start_session(e->d);
	g_assert_cmpuint(gw_upstream_get_requests(up), ==, 0);
	proof_start_session(e->d);
	/* the download, then its alert session (3), which runs the first fan-out */
	proof_wait_value(e->d, "./GwMO/Fanout/f1/State", "PartialFailure");
	for (guint i = 0; i < 600 && pending_alerts(e->d) > 0; i++)
		g_usleep(50 * 1000);
	proof_start_session(e->d);
	server_wait(server);
	g_assert_cmpint(proof_device_wait(device), ==, 0);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 4);
	s = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s, "Replace", STORE_FLAG), ==, 200);
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/Images/fw/Operations/Download"), ==, 403);
	g_assert_cmpstr(proof_item_data(result_for(s, "Get", "./GwMO/Images/fw/State"), 0),
	                ==,
	                "NotDownloaded");
	s = json_array_get_object_element(sessions, 1);
	g_assert_cmpint(status_of(s, "Replace", STORE_FLAG), ==, 200);
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/Images/fw/Operations/Download"), ==, 202);
	s = json_array_get_object_element(sessions, 2);
	g_assert_nonnull(session_alert(s, "urn:oma:at:gwmo:1.0:ImageDownloadComplete"));
	doc = proof_fanout_document(s, "corr-off");
	g_assert_true(proof_doc_device_status(doc, "dev-i", 500));
	s = json_array_get_object_element(sessions, 3);
	doc = proof_fanout_document(s, "corr-on");
	g_assert_true(proof_doc_device_status(doc, "dev-i", 200));
	g_assert_cmpuint(gw_upstream_get_requests(up), ==, 1);

	/* what the device saw: 403 from the gateway while off, the image while on */
	dsessions = record_sessions(dev_record, &dparser);
	for (guint i = 0; i < json_array_get_length(dsessions); i++) {
		JsonArray *cmds = json_object_get_array_member(
		    json_array_get_object_element(dsessions, i), "commands");
		for (guint j = 0; cmds != NULL && j < json_array_get_length(cmds); j++) {
			JsonObject *c = json_array_get_object_element(cmds, j);
			/* (a command the device refused with 401 came again in the next message) */
			if (g_strcmp0(json_object_get_string_member(c, "uri"), "./Ext/Fetch") !=
			        0 ||
			    json_object_get_int_member(c, "status") == 401)
				continue;
			if (n_fetch < G_N_ELEMENTS(statuses))
				statuses[n_fetch] = (guint)json_object_get_int_member(c, "status");
			n_fetch++;
		}
	}
	g_assert_cmpuint(n_fetch, ==, 2);
	g_assert_cmpuint(statuses[0], ==, 500);
	g_assert_cmpuint(statuses[1], ==, 200);
	log = gw_test_daemon_read_log(e->d);
	g_assert_nonnull(strstr(log, "the owning server does not allow local retrieval"));
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
	gw_upstream_free(up);
}

/*
 * GwMO-HLF-002 (continuous management of a device moved across networks; use case B.4): dev-n
 * lives behind gateway A (provisioned there, its own session), then moves behind gateway B
 * (another gwmod, open registration) and registers there implicitly, giving B its notification
 * address. B announces it with DeviceAttached (GatewayID GW-B) in a session it opens, and in
 * that session the DM Server reads a node of dev-n through B: a Fanout Get of ./DevInfo/Mod
 * answered by the device (200, "ref-device") in the same session (flow Y).
 */
static void
test_nomadic_read(void)
{
	ProofConfig config = {0};
	Env *e = proof_env_new(&config); /* gateway A, GW-TEST-0001, no inventory alerts */
	guint16 south_b = gw_test_free_port();
	GwTestDaemon *gb = proof_gateway_new(
	    e, "GW-B", south_b, "open-registration=true\n[fanout]\nsync-wait=120\n");
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *dev_record = g_build_filename(e->dir, "dev-n-b.json", NULL);
	g_autofree gchar *a_url = g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port);
	g_autofree gchar *b_url = g_strdup_printf("--server=http://127.0.0.1:%u/dm", south_b);
	g_autofree gchar *record_arg = g_strdup_printf("--record=%s", dev_record);
	g_autofree gchar *script = NULL;
	g_autofree gchar *rec_a = NULL;
	g_autofree gchar *rec_b = NULL;
	g_autoptr(GSubprocess) device = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	const gchar *doc;
	JsonArray *sessions;
	JsonObject *s;
	JsonObject *alert;

	/* B tells the server of new devices; A does not (its sessions would count) */
	script = g_strdup_printf(
	    "{\"sessions\":[{\"commands\":["
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/n1\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/n1/Targets/Devices/1\",\"data\":\"dev-n\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/n1/Command\",\"data\":\"Get\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/n1/TargetURI\",\"data\":\"./DevInfo/Mod\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/n1/"
	    "Timeout\",\"format\":\"int\",\"data\":\"%u\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Fanout/n1/Operations/"
	    "Start\",\"correlator\":\"corr-n\"}]}]}",
	    JOB_TIMEOUT);
	server = server_start(e, script, record, CL_SECRET, "--sessions=1", NULL);

	/* at home behind A */
	rec_a = proof_add_device(e->d, "dev-n", 2, PROOF_DEV_SECRET, NULL, NULL);
	device = proof_device_spawn(e,
	                            "dev-n-a.log",
	                            a_url,
	                            "--dev-id=dev-n",
	                            "--auth=md5",
	                            "--client-secret=" PROOF_DEV_SECRET,
	                            "--server-id=" PROOF_GW_ID,
	                            "--notify-addr=udp://127.0.0.1:9",
	                            NULL);
	g_assert_cmpint(proof_device_wait(device), ==, 0);
	g_clear_object(&device);
	{
		g_autofree gchar *uri = g_strdup_printf("%s/Status", rec_a);
		proof_wait_value(e->d, uri, "Attached");
	}
	/* it moves: its next session is with B (registering, Proxy), which may wake it */
	device = proof_device_spawn(e,
	                            "dev-n-b.log",
	                            b_url,
	                            "--dev-id=dev-n",
	                            "--server-id=GW-B",
	                            "--register",
	                            "--mode=2",
	                            "--listen-notify=http://127.0.0.1:0",
	                            "--count=1",
	                            record_arg,
	                            NULL);
	server_wait(server);
	g_assert_cmpint(proof_device_wait(device), ==, 0);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	s = json_array_get_object_element(sessions, 0);
	g_assert_cmpstr(json_object_get_string_member(s, "peer"), ==, "GW-B");
	/* the new route, from B */
	alert = session_alert(s, "urn:oma:at:gwmo:1.0:DeviceAttached");
	g_assert_nonnull(alert);
	g_assert_nonnull(
	    strstr(json_object_get_string_member(alert, "data"), "<DeviceID>dev-n</DeviceID>"));
	g_assert_nonnull(
	    strstr(json_object_get_string_member(alert, "data"), "<GatewayID>GW-B</GatewayID>"));
	/* the read through B, answered by the device */
	g_assert_cmpint(status_of(s, "Exec", "./GwMO/Fanout/n1/Operations/Start"), ==, 202);
	doc = proof_fanout_document(s, "corr-n");
	g_assert_nonnull(strstr(
	    doc,
	    "<Device id=\"dev-n\" status=\"200\"><Data format=\"chr\">ref-device</Data></Device>"));
	g_assert_true(record_executed(dev_record, "Get", "./DevInfo/Mod", NULL));
	rec_b = proof_find_record(gb, "dev-n");
	g_assert_nonnull(rec_b);

	gw_test_daemon_stop(gb);
	gw_test_daemon_free(gb);
	gw_test_daemon_stop(e->d);
	proof_env_free(e);
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
	g_test_add_func("/gw/e2e/proofs/southbound-https-default", test_southbound_https_default);
	g_test_add_func("/gw/e2e/proofs/southbound-http-warning", test_southbound_http_warning);
	g_test_add_func("/gw/e2e/proofs/image-urls", test_image_urls);
	g_test_add_func("/gw/e2e/proofs/image-store-switch", test_image_store_switch);
	g_test_add_func("/gw/e2e/proofs/nomadic-read", test_nomadic_read);
	return g_test_run();
}
