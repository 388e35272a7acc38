/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Persistence of the DM tree (STATE_DIR/tree.state): format, atomic writes, mode 0600,
 * corruption handling, flush and autosave.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gw-dm-store.h"
#include "gw-tnds.h"

static const GwDmDeviceInfo test_info = {
    .dev_id = "IMEI:004999010640000",
    .man = "Example Corp",
    .mod = "GW-1",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "OEM",
    .fwv = "1.0",
    .swv = "0.1",
    .hwv = "A",
    .max_depth = 20,
    .max_tot_len = 255,
    .max_seg_len = 64,
};

/* g_test_expect_message() does not see structured log messages with GLib 2.74: count the
 * store's warnings with a writer of our own, and let every other message through */
static guint store_warnings = 0;
static gchar *last_store_warning = NULL;

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	const gchar *domain = NULL;
	const gchar *message = NULL;

	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
		else if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
	}
	if ((level & G_LOG_LEVEL_WARNING) && g_strcmp0(domain, "GwStore") == 0) {
		store_warnings++;
		g_free(last_store_warning);
		last_store_warning = g_strdup(message);
		return G_LOG_WRITER_HANDLED;
	}
	if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
		g_test_fail();
	return g_log_writer_default(level, fields, n_fields, user_data);
}

typedef struct {
	gchar *tmpdir;
	gchar *state_dir;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	f->tmpdir = g_dir_make_tmp("gw-store-XXXXXX", &error);
	g_assert_no_error(error);
	/* does not exist yet: the store creates it */
	f->state_dir = g_build_filename(f->tmpdir, "state", NULL);
}

static void
rm_rf(const gchar *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const gchar *name;

	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			rm_rf(child);
		}
		g_dir_close(dir);
		g_rmdir(path);
	} else {
		g_unlink(path);
	}
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	rm_rf(f->tmpdir);
	g_free(f->tmpdir);
	g_free(f->state_dir);
}

static GwDmTree *
build_tree(void)
{
	GwDmTree *tree = gw_dm_tree_new();
	const gchar nonce[] = {0, 1, 2, 3, (gchar)0xff};
	g_autoptr(GBytes) bin = g_bytes_new(nonce, sizeof(nonce));

	g_assert_true(gw_dm_tree_install_standard_objects(tree, &test_info, NULL));
	g_assert_true(gw_dm_tree_ensure_interior(tree, "./DMAcc/srv1/AppAuth/1", NULL));
	g_assert_true(
	    gw_dm_tree_set_mime_type(tree, "./DMAcc/srv1", "urn:oma:mo:oma-dm-dmacc:1.0", NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./DMAcc/srv1", GW_DM_ACCESS_NONE, "Get=srv1&Replace=srv1", "Server 1", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/srv1/ServerID", GW_DM_FORMAT_CHR, "srv1", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./DMAcc/srv1/AppAuth/1/AAuthSecret", GW_DM_FORMAT_CHR, "pa55", NULL));
	g_assert_true(gw_dm_tree_set_properties(
	    tree, "./DMAcc/srv1/AppAuth/1/AAuthSecret", GW_DM_ACCESS_REPLACE, NULL, NULL, NULL));
	g_assert_true(gw_dm_tree_set_leaf(
	    tree, "./DMAcc/srv1/AppAuth/1/AAuthData", GW_DM_FORMAT_BIN, NULL, bin, NULL));
	g_assert_true(gw_dm_tree_set_permanent(tree, "./DMAcc/srv1/ServerID", TRUE, NULL));
	return tree;
}

static gchar *
dump(GwDmTree *tree)
{
	gchar *xml = gw_tnds_export(tree,
	                            ".",
	                            NULL,
	                            GW_TNDS_EXPORT_VALUES | GW_TNDS_EXPORT_SECRETS |
	                                GW_TNDS_EXPORT_DF_PROPERTIES,
	                            NULL);
	g_assert_nonnull(xml);
	return xml;
}

static void
test_save_load(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GwDmTree) tree2 = gw_dm_tree_new();
	g_autoptr(GwDmStore) store2 = gw_dm_store_new(tree2, f->state_dir);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_build_filename(f->state_dir, "tree.state", NULL);
	g_autofree gchar *contents = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *secret = NULL;
	g_autofree gchar *expected_sum = NULL;
	g_auto(GStrv) header = NULL;
	const gchar *nl;
	gsize len = 0;
	GStatBuf st;

	g_assert_cmpstr(gw_dm_store_get_path(store), ==, path);
	/* nothing to load yet */
	g_assert_true(gw_dm_store_load(store2, &error));
	g_assert_no_error(error);

	g_assert_true(gw_dm_store_save(store, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);

	/* modes */
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(g_stat(f->state_dir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);

	/* header: "GWMO-STATE 1 length=<n> sha256=<hex>\n" + exactly n bytes */
	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	nl = strchr(contents, '\n');
	g_assert_nonnull(nl);
	{
		g_autofree gchar *line = g_strndup(contents, nl - contents);
		header = g_strsplit(line, " ", -1);
	}
	g_assert_cmpuint(g_strv_length(header), ==, 4);
	g_assert_cmpstr(header[0], ==, "GWMO-STATE");
	g_assert_cmpstr(header[1], ==, "1");
	g_assert_true(g_str_has_prefix(header[2], "length="));
	g_assert_cmpuint(g_ascii_strtoull(header[2] + 7, NULL, 10), ==, len - (nl + 1 - contents));
	expected_sum = g_compute_checksum_for_data(
	    G_CHECKSUM_SHA256, (const guchar *)nl + 1, len - (nl + 1 - contents));
	g_assert_true(g_str_has_prefix(header[3], "sha256="));
	g_assert_cmpstr(header[3] + 7, ==, expected_sum);
	g_assert_true(g_str_has_prefix(nl + 1, "<?xml"));

	/* load into a fresh tree: same content, secrets and properties included */
	g_assert_true(gw_dm_store_load(store2, &error));
	g_assert_no_error(error);
	before = dump(tree);
	after = dump(tree2);
	g_assert_cmpstr(before, ==, after);
	secret = gw_dm_tree_dup_string(tree2, "./DMAcc/srv1/AppAuth/1/AAuthSecret");
	g_assert_cmpstr(secret, ==, "pa55");
	g_assert_cmpint(
	    gw_dm_node_get_access(gw_dm_tree_lookup(tree2, "./DMAcc/srv1/AppAuth/1/AAuthSecret")),
	    ==,
	    GW_DM_ACCESS_REPLACE);
	g_assert_true(gw_dm_node_get_permanent(gw_dm_tree_lookup(tree2, "./DMAcc/srv1/ServerID")));
	g_assert_cmpuint(gw_dm_tree_get_uri_limits(tree2).max_depth, ==, 20);
	/* restart order: load, then install the standard objects again */
	g_assert_true(gw_dm_tree_install_standard_objects(tree2, &test_info, &error));
	g_assert_no_error(error);
	g_clear_pointer(&after, g_free);
	after = dump(tree2);
	g_assert_cmpstr(before, ==, after);
	/* loading does not make the next flush write */
	g_assert_true(gw_dm_store_flush(store2, &error));
	g_assert_cmpuint(gw_dm_store_get_save_count(store2), ==, 0);
}

static guint
count_files(const gchar *dir, const gchar *prefix)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const gchar *name;
	guint n = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		if (g_str_has_prefix(name, prefix))
			n++;
	}
	return n;
}

typedef enum {
	CORRUPT_TRUNCATE,
	CORRUPT_FLIP_BODY,
	CORRUPT_FLIP_SUM,
	CORRUPT_VERSION,
	CORRUPT_GARBAGE,
	CORRUPT_EMPTY,
	CORRUPT_LENGTH,
	CORRUPT_VALID_SUM_BAD_BODY,
	CORRUPT_NO_NEWLINE,
	CORRUPT_LAST,
} CorruptKind;

static void
write_corrupt(const gchar *path, CorruptKind kind)
{
	g_autofree gchar *contents = NULL;
	g_autofree gchar *out = NULL;
	gsize len = 0;
	gsize out_len = 0;
	gchar *nl;

	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	nl = strchr(contents, '\n');
	switch (kind) {
	case CORRUPT_TRUNCATE:
		out_len = len - 10;
		out = g_memdup2(contents, out_len);
		break;
	case CORRUPT_FLIP_BODY:
		contents[len - 40] ^= 0x01;
		out_len = len;
		out = g_memdup2(contents, len);
		break;
	case CORRUPT_FLIP_SUM:
		nl[-1] = nl[-1] == '0' ? '1' : '0';
		out_len = len;
		out = g_memdup2(contents, len);
		break;
	case CORRUPT_VERSION:
		out = g_strdup_printf("GWMO-STATE 2%s", contents + strlen("GWMO-STATE 1"));
		out_len = strlen(out);
		break;
	case CORRUPT_GARBAGE:
		out = g_strdup("\x7f"
		               "ELF\x02\x01\x01 garbage garbage garbage\n\x00\x01");
		out_len = strlen(out);
		break;
	case CORRUPT_EMPTY:
		out = g_strdup("");
		out_len = 0;
		break;
	case CORRUPT_LENGTH: {
		/* a body appended after the declared length */
		out = g_strconcat(contents, "<!-- extra -->", NULL);
		out_len = strlen(out);
		break;
	}
	case CORRUPT_VALID_SUM_BAD_BODY: {
		const gchar *body =
		    "<MgmtTree "
		    "xmlns=\"syncml:dmddf1.2\"><Node><NodeName>a/b</NodeName></Node></MgmtTree>";
		g_autofree gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, body, -1);
		out = g_strdup_printf(
		    "GWMO-STATE 1 length=%zu sha256=%s\n%s", strlen(body), sum, body);
		out_len = strlen(out);
		break;
	}
	case CORRUPT_NO_NEWLINE:
		out = g_strdup("GWMO-STATE 1 length=0 sha256=");
		out_len = strlen(out);
		break;
	default:
		g_assert_not_reached();
	}
	g_assert_true(g_file_set_contents(path, out, out_len, NULL));
}

static void
test_corrupt(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autofree gchar *path = g_build_filename(f->state_dir, "tree.state", NULL);

	for (CorruptKind kind = 0; kind < CORRUPT_LAST; kind++) {
		g_autoptr(GwDmTree) other = gw_dm_tree_new();
		g_autoptr(GwDmStore) store2 = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *before = NULL;
		g_autofree gchar *after = NULL;
		guint64 gen;

		g_test_message("corruption kind %d", kind);
		g_assert_true(gw_dm_tree_set_leaf_string(
		    other, "./Mine/Leaf", GW_DM_FORMAT_CHR, "untouched", NULL));
		store2 = gw_dm_store_new(other, f->state_dir);
		g_assert_true(gw_dm_store_save(store, &error));
		g_assert_no_error(error);
		write_corrupt(path, kind);

		before = dump(other);
		gen = gw_dm_tree_get_generation(other);
		store_warnings = 0;
		g_assert_false(gw_dm_store_load(store2, &error));
		g_assert_cmpuint(store_warnings, ==, 1);
		g_assert_nonnull(strstr(last_store_warning, "is corrupt"));
		g_assert_nonnull(strstr(last_store_warning, "tree.state.corrupt-"));
		g_assert_error(error, GW_ERROR, GW_ERROR_CORRUPT_STATE);
		g_assert_nonnull(strstr(error->message, "tree.state.corrupt-"));
		after = dump(other);
		g_assert_cmpstr(before, ==, after);
		g_assert_cmpuint(gw_dm_tree_get_generation(other), ==, gen);
		/* the file was put aside */
		g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
		g_assert_cmpuint(count_files(f->state_dir, "tree.state.corrupt-"), ==, kind + 1);
		/* and the next load starts from nothing */
		g_clear_error(&error);
		g_assert_true(gw_dm_store_load(store2, &error));
		g_assert_no_error(error);
	}
}

static void
test_flush(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GError) error = NULL;

	/* never saved: flush writes the whole tree */
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 0);
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	/* reads do not count */
	g_assert_cmpuint(
	    gw_dm_tree_get(tree, "srv1", "./DMAcc/srv1?list=StructData", NULL), ==, 200);
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 0);
	/* a change after that is one journal record, not a new state file */
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./X", GW_DM_FORMAT_CHR, "1", NULL));
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 1);
	/* save always writes the whole tree */
	g_assert_true(gw_dm_store_save(store, &error));
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 2);
	/* compact: nothing to fold in right after a save */
	g_assert_true(gw_dm_store_compact(store, &error));
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 2);
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./X", GW_DM_FORMAT_CHR, "2", NULL));
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 2);
	g_assert_true(gw_dm_store_compact(store, &error));
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 3);
	/* no temporary files left behind: the state and its journal */
	g_assert_cmpuint(count_files(f->state_dir, ""), ==, 2);
	g_assert_cmpuint(count_files(f->state_dir, "tree.journal"), ==, 1);
}

static void
test_save_error(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *file = g_build_filename(f->tmpdir, "not-a-dir", NULL);

	g_assert_true(g_file_set_contents(file, "x", 1, NULL));
	store = gw_dm_store_new(tree, file);
	g_assert_false(gw_dm_store_save(store, &error));
	g_assert_nonnull(error);
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 0);
}

static void
drain(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void
test_autosave(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GwDmTree) check = gw_dm_tree_new();
	g_autoptr(GwDmStore) check_store = gw_dm_store_new(check, f->state_dir);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *v = NULL;

	gw_dm_store_set_autosave(store, TRUE);
	for (guint i = 0; i < 100; i++) {
		g_autofree gchar *uri = g_strdup_printf("./Burst/n%u", i);
		g_assert_cmpuint(
		    gw_dm_tree_add(tree, NULL, uri, GW_DM_FORMAT_CHR, NULL, NULL), ==, 200);
	}
	/* nothing is written before the main loop runs */
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 0);
	drain();
	/* never saved: the first flush writes the whole tree */
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	drain();
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);

	g_assert_true(gw_dm_store_load(check_store, &error));
	g_assert_no_error(error);
	g_assert_nonnull(gw_dm_tree_lookup(check, "./Burst/n99"));

	/* a second batch: one journal record (group commit) */
	for (guint i = 0; i < 10; i++)
		g_assert_true(gw_dm_tree_set_leaf_string(
		    tree, "./Burst/n0", GW_DM_FORMAT_CHR, i % 2 ? "a" : "b", NULL));
	drain();
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 1);

	/* off: nothing written until asked */
	gw_dm_store_set_autosave(store, FALSE);
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./Burst/n1", GW_DM_FORMAT_CHR, "x", NULL));
	drain();
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 1);
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 2);
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	{
		g_autoptr(GwDmTree) check2 = gw_dm_tree_new();
		g_autoptr(GwDmStore) check_store2 = gw_dm_store_new(check2, f->state_dir);
		g_autofree gchar *n0 = NULL;
		g_autofree gchar *n1 = NULL;
		g_assert_true(gw_dm_store_load(check_store2, &error));
		g_assert_no_error(error);
		n0 = gw_dm_tree_dup_string(check2, "./Burst/n0");
		n1 = gw_dm_tree_dup_string(check2, "./Burst/n1");
		g_assert_cmpstr(n0, ==, "a");
		g_assert_cmpstr(n1, ==, "x");
	}

	/* a pending save is cancelled when the store goes away */
	gw_dm_store_set_autosave(store, TRUE);
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./Burst/n1", GW_DM_FORMAT_CHR, "y", NULL));
	g_clear_object(&store);
	drain();
	v = gw_dm_tree_dup_string(tree, "./Burst/n1");
	g_assert_cmpstr(v, ==, "y");
}

int
main(int argc, char **argv)
{
	/* no G_TEST_OPTION_ISOLATE_DIRS: the store never touches XDG directories (every file lives
	 * in a g_dir_make_tmp() directory removed by the fixture), and GLib 2.74's
	 * g_set_user_dirs() leaks its strings, which fails the LeakSanitizer run (tests/lsan.supp
	 * does not cover it) */
	g_test_init(&argc, &argv, NULL);
	g_log_set_writer_func(log_writer, NULL, NULL);
	/* store warnings are expected and counted; any other warning fails the test in the writer
	 */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_test_add("/gw/dm-store/save-load",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_save_load,
	           fixture_teardown);
	g_test_add(
	    "/gw/dm-store/corrupt", Fixture, NULL, fixture_setup, test_corrupt, fixture_teardown);
	g_test_add(
	    "/gw/dm-store/flush", Fixture, NULL, fixture_setup, test_flush, fixture_teardown);
	g_test_add("/gw/dm-store/save-error",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_save_error,
	           fixture_teardown);
	g_test_add(
	    "/gw/dm-store/autosave", Fixture, NULL, fixture_setup, test_autosave, fixture_teardown);
	{
		int rc = g_test_run();
		g_free(last_store_warning);
		return rc;
	}
}
