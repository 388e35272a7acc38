/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The image URLs handed to devices (DM-SECONF-001, spec/GWMO.md §9), in-process: the key file,
 * the signature of gw_image_store_sign_url() checked against the spec's formula, and what
 * gw_image_store_localize() rewrites in a command's data (and what it leaves alone). The
 * serving side is proven end to end in /gw/e2e/proofs/image-urls.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-gwmo-mo.h"
#include "gw-http-server.h"
#include "gw-image-store.h"
#include "gw-inventory.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const GwDmDeviceInfo gw_info = {
    .dev_id = "gw-0001",
    .man = "gwmo",
    .mod = "unit",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "gwmo",
    .fwv = "1",
    .swv = "1",
    .hwv = "1",
};

typedef struct {
	gchar *dir;
	GwConfig *config;
	GwDmTree *tree;
	GwInventory *inventory;
	GwHttpServer *http;
	GwImageStore *store;
	gchar *base; /* "http://127.0.0.1:<port>" */
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

static GwImageStore *
new_store(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	GwImageStore *store = gw_image_store_new(f->config, f->tree, f->inventory, f->dir, &error);
	g_assert_no_error(error);
	g_assert_true(gw_image_store_start(store, &error));
	g_assert_no_error(error);
	gw_image_store_attach(store, f->http);
	return store;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) uris = NULL;

	f->dir = g_dir_make_tmp("gwmo-image-urls-XXXXXX", &error);
	g_assert_no_error(error);
	f->config = gw_config_new();
	f->tree = gw_dm_tree_new();
	g_assert_true(gw_dm_tree_install_standard_objects(f->tree, &gw_info, &error));
	g_assert_true(gw_gwmo_install_objects(f->tree, "gw-0001", GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);
	f->inventory = gw_inventory_new(f->tree, f->config);
	g_assert_true(gw_inventory_start(f->inventory, &error));
	g_assert_no_error(error);
	f->http = gw_http_server_new(NULL);
	g_assert_true(gw_http_server_listen(f->http, "http://127.0.0.1:0", &error));
	g_assert_no_error(error);
	uris = gw_http_server_get_uris(f->http);
	f->base = g_strndup(uris[0], strlen(uris[0]) - 1); /* no trailing "/" */
	f->store = new_store(f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->store);
	gw_http_server_disconnect(f->http);
	g_clear_object(&f->http);
	g_clear_object(&f->inventory);
	g_clear_object(&f->tree);
	g_clear_object(&f->config);
	while (g_main_context_iteration(NULL, FALSE))
		;
	rm_rf(f->dir);
	g_free(f->dir);
	g_free(f->base);
}

static GBytes *
read_key(Fixture *f)
{
	g_autofree gchar *path = g_build_filename(f->dir, "image-url.key", NULL);
	gchar *data = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	return g_bytes_new_take(data, len);
}

/* the query parameter @name of @url (decoded) */
static gchar *
param(const gchar *url, const gchar *name)
{
	g_autoptr(GHashTable) params = NULL;
	const gchar *q = strchr(url, '?');
	g_assert_nonnull(q);
	params = g_uri_parse_params(q + 1, -1, "&", G_URI_PARAMS_NONE, NULL);
	g_assert_nonnull(params);
	return g_strdup(g_hash_table_lookup(params, name));
}

/* the key: 32 bytes, mode 0600, kept across starts */
static void
test_key(Fixture *f, gconstpointer data)
{
	g_autofree gchar *path = g_build_filename(f->dir, "image-url.key", NULL);
	g_autoptr(GBytes) key = read_key(f);
	g_autoptr(GBytes) again = NULL;
	g_autoptr(GwImageStore) second = NULL;
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpuint(g_bytes_get_size(key), ==, 32);
	second = new_store(f);
	again = read_key(f);
	g_assert_true(g_bytes_equal(key, again));
}

/* sig = hex HMAC-SHA256(key, "<sha256>|<DeviceID>|<exp>"), the DeviceID escaped in the URL */
static void
test_sign(Fixture *f, gconstpointer data)
{
	g_autoptr(GBytes) key = read_key(f);
	g_autofree gchar *url = gw_image_store_sign_url(f->store, SHA_A, "dev a&b");
	g_autofree gchar *prefix = g_strdup_printf("%s/images/" SHA_A "?dev=", f->base);
	g_autofree gchar *dev = param(url, "dev");
	g_autofree gchar *exp = param(url, "exp");
	g_autofree gchar *sig = param(url, "sig");
	g_autofree gchar *text = g_strdup_printf(SHA_A "|%s|%s", dev, exp);
	g_autofree gchar *want = g_compute_hmac_for_data(G_CHECKSUM_SHA256,
	                                                 g_bytes_get_data(key, NULL),
	                                                 g_bytes_get_size(key),
	                                                 (const guchar *)text,
	                                                 strlen(text));
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	gint64 expires = g_ascii_strtoll(exp, NULL, 10);

	g_assert_true(g_str_has_prefix(url, prefix));
	g_assert_nonnull(strstr(url, "?dev=dev%20a%26b&exp="));
	g_assert_cmpstr(dev, ==, "dev a&b");
	g_assert_cmpstr(sig, ==, want);
	/* [images] url-lifetime, default one day */
	g_assert_cmpint(expires, >=, now + 86400 - 5);
	g_assert_cmpint(expires, <=, now + 86400 + 5);
}

/* every unsigned image URL of the gateway in a command's data, and nothing else */
static void
test_localize(Fixture *f, gconstpointer data)
{
	g_autofree gchar *a = g_strdup_printf("%s/images/" SHA_A, f->base);
	g_autofree gchar *b = g_strdup_printf("%s/images/" SHA_B, f->base);
	g_autofree gchar *text = g_strdup_printf("fetch %s then %s.", a, b);
	g_autofree gchar *out = gw_image_store_localize(f->store, text, "dev-1");
	g_autofree gchar *signed_a = NULL;
	g_autofree gchar *twice = NULL;
	g_autofree gchar *other_host = NULL;
	g_autofree gchar *longer = NULL;
	g_autofree gchar *short_sha = NULL;
	g_auto(GStrv) words = NULL;

	g_assert_nonnull(out);
	words = g_strsplit(out, " ", -1);
	g_assert_cmpstr(words[0], ==, "fetch");
	g_assert_true(g_str_has_prefix(words[1], a));
	g_assert_true(g_str_has_prefix(words[1] + strlen(a), "?dev=dev-1&exp="));
	g_assert_cmpstr(words[2], ==, "then");
	g_assert_true(g_str_has_prefix(words[3], b));
	g_assert_true(g_str_has_suffix(words[3], "."));
	g_assert_nonnull(strstr(words[3], "&sig="));

	/* already signed: left as it is */
	signed_a = gw_image_store_sign_url(f->store, SHA_A, "dev-2");
	g_assert_null(gw_image_store_localize(f->store, signed_a, "dev-1"));
	/* the whole text: one URL */
	twice = gw_image_store_localize(f->store, a, "dev-1");
	g_assert_true(g_str_has_prefix(twice, a));
	g_assert_cmpuint(strlen(twice), >, strlen(a) + 64);
	/* not ours, not a whole hash, not a hash: nothing */
	other_host = g_strdup_printf("http://192.0.2.1:1/images/" SHA_A);
	g_assert_null(gw_image_store_localize(f->store, other_host, "dev-1"));
	longer = g_strdup_printf("%s/images/" SHA_A "a", f->base);
	g_assert_null(gw_image_store_localize(f->store, longer, "dev-1"));
	short_sha = g_strdup_printf("%s/images/abc", f->base);
	g_assert_null(gw_image_store_localize(f->store, short_sha, "dev-1"));
	g_assert_null(gw_image_store_localize(f->store, "no URL here", "dev-1"));
	g_assert_null(gw_image_store_localize(f->store, NULL, "dev-1"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/images/urls/key", Fixture, NULL, fixture_setup, test_key, fixture_teardown);
	g_test_add("/images/urls/sign", Fixture, NULL, fixture_setup, test_sign, fixture_teardown);
	g_test_add(
	    "/images/urls/localize", Fixture, NULL, fixture_setup, test_localize, fixture_teardown);
	return g_test_run();
}
