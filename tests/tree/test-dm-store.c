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

#include "gw-dm-journal.h"
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
static guint store_messages = 0;
static gchar *last_store_message = NULL;

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
	if ((level & G_LOG_LEVEL_MESSAGE) && g_strcmp0(domain, "GwStore") == 0) {
		store_messages++;
		g_free(last_store_message);
		last_store_message = g_strdup(message);
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
	store_warnings = 0;
	store_messages = 0;
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

/* the state body is binary (it holds NULs): strstr() does not do */
static gboolean
mem_contains(const gchar *data, gsize len, const gchar *needle)
{
	gsize n = strlen(needle);

	for (gsize i = 0; n <= len && i <= len - n; i++) {
		if (memcmp(data + i, needle, n) == 0)
			return TRUE;
	}
	return FALSE;
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

	/* header: "GWMO-STATE 3 length=<n> sha256=<hex>\n" + exactly n bytes */
	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	nl = strchr(contents, '\n');
	g_assert_nonnull(nl);
	{
		g_autofree gchar *line = g_strndup(contents, nl - contents);
		header = g_strsplit(line, " ", -1);
	}
	g_assert_cmpuint(g_strv_length(header), ==, 4);
	g_assert_cmpstr(header[0], ==, "GWMO-STATE");
	g_assert_cmpstr(header[1], ==, "3");
	g_assert_true(g_str_has_prefix(header[2], "length="));
	g_assert_cmpuint(g_ascii_strtoull(header[2] + 7, NULL, 10), ==, len - (nl + 1 - contents));
	expected_sum = g_compute_checksum_for_data(
	    G_CHECKSUM_SHA256, (const guchar *)nl + 1, len - (nl + 1 - contents));
	g_assert_true(g_str_has_prefix(header[3], "sha256="));
	g_assert_cmpstr(header[3] + 7, ==, expected_sum);
	/* the body is the whole tree as one journal payload: a compact 'T' of "." with its
	 * subtree */
	g_assert_cmpint(nl[1], ==, 'T');
	g_assert_cmpmem(nl + 2, 5, "\x01\0\0\0.", 5);

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
	CORRUPT_VALID_SUM_BAD_SNAPSHOT,
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
		g_assert_true(g_str_has_prefix(contents, "GWMO-STATE 3 "));
		out = g_memdup2(contents, len);
		out[strlen("GWMO-STATE ")] = '4';
		out_len = len;
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
		out_len = len + 14;
		out = g_malloc(out_len);
		memcpy(out, contents, len);
		memcpy(out + len, "<!-- extra -->", 14);
		break;
	}
	case CORRUPT_VALID_SUM_BAD_SNAPSHOT: {
		/* version 2, checksum right, payload cut inside its first operation */
		const gchar body[] = "A\x01\0\0\0.\0\0\0";
		g_autofree gchar *sum = g_compute_checksum_for_data(
		    G_CHECKSUM_SHA256, (const guchar *)body, sizeof(body) - 1);
		g_autofree gchar *head =
		    g_strdup_printf("GWMO-STATE 2 length=%zu sha256=%s\n", sizeof(body) - 1, sum);
		out_len = strlen(head) + sizeof(body) - 1;
		out = g_malloc(out_len);
		memcpy(out, head, strlen(head));
		memcpy(out + strlen(head), body, sizeof(body) - 1);
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


/* ---- the journal ---- */

static gchar *
read_file(const gchar *path, gsize *len)
{
	gchar *data = NULL;
	g_assert_true(g_file_get_contents(path, &data, len, NULL));
	return data;
}

static void
write_file(const gchar *path, const gchar *data, gsize len)
{
	g_assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
}

static gsize
file_size(const gchar *path)
{
	GStatBuf st;
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	return (gsize)st.st_size;
}

/* a fresh tree loaded from @dir */
static GwDmTree *
load_fresh(const gchar *dir)
{
	GwDmTree *tree = gw_dm_tree_new();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, dir);
	g_autoptr(GError) error = NULL;
	g_assert_true(gw_dm_store_load(store, &error));
	g_assert_no_error(error);
	return tree;
}

static void
assert_same_tree(GwDmTree *a, GwDmTree *b)
{
	g_autofree gchar *da = dump(a);
	g_autofree gchar *db = dump(b);
	g_assert_cmpstr(da, ==, db);
}

static GBytes *
bytes_str(const gchar *s)
{
	return g_bytes_new(s, strlen(s));
}

/* every kind of mutation, each batch flushed as one record; the reloaded tree is the same,
 * down to the order of children after a rename */
static void
test_journal_replay(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) v1 = bytes_str("one");
	g_autoptr(GBytes) v2 = bytes_str("two");
	g_autoptr(GBytes) name = bytes_str("Renamed");
	g_autoptr(GBytes) acl = bytes_str("Get=srv1&Replace=srv1");
	g_autoptr(GBytes) title = bytes_str("a title");
	g_autofree gchar *state_before = NULL;
	g_autofree gchar *state_after = NULL;
	GStatBuf st;
	gsize len = 0;

	g_assert_true(gw_dm_store_save(store, &error));
	state_before = read_file(gw_dm_store_get_path(store), &len);

	/* batch 1: DM commands */
	g_assert_cmpuint(gw_dm_tree_add(tree, NULL, "./R/A/x", GW_DM_FORMAT_CHR, "text/plain", v1),
	                 ==,
	                 200);
	g_assert_cmpuint(gw_dm_tree_add(tree, NULL, "./R/B", GW_DM_FORMAT_NODE, NULL, NULL), ==, 200);
	g_assert_cmpuint(gw_dm_tree_add(tree, NULL, "./R/C/y", GW_DM_FORMAT_INT, NULL, NULL), ==, 200);
	g_assert_cmpuint(gw_dm_tree_replace(tree, NULL, "./R/A/x", GW_DM_FORMAT_INVALID, NULL, v2),
	                 ==,
	                 200);
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_no_error(error);
	/* batch 2: properties, rename (keeps its place), copy, delete */
	g_assert_cmpuint(gw_dm_tree_replace(tree, NULL, "./R/A?prop=ACL", GW_DM_FORMAT_INVALID, NULL, acl),
	                 ==,
	                 200);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, "./R/B?prop=Title", GW_DM_FORMAT_INVALID, NULL, title),
	    ==,
	    200);
	g_assert_cmpuint(
	    gw_dm_tree_replace(tree, NULL, "./R/A?prop=Name", GW_DM_FORMAT_INVALID, NULL, name),
	    ==,
	    200);
	g_assert_cmpuint(gw_dm_tree_copy(tree, NULL, "./R/Renamed/x", "./R/B/copy"), ==, 200);
	g_assert_cmpuint(gw_dm_tree_delete(tree, NULL, "./R/C"), ==, 200);
	g_assert_true(gw_dm_store_flush(store, &error));
	/* batch 3: owner API, a delete and re-add of the same name in one batch */
	g_assert_true(gw_dm_tree_set_mime_type(tree, "./R/B", "urn:example:mo", NULL));
	g_assert_true(gw_dm_tree_set_permanent(tree, "./R/B", TRUE, NULL));
	g_assert_true(gw_dm_tree_set_properties(tree, "./R/B/copy", GW_DM_ACCESS_GET, NULL, NULL, NULL));
	g_assert_true(gw_dm_tree_remove(tree, "./R/Renamed", NULL));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./R/Renamed/z", GW_DM_FORMAT_CHR, "new", NULL));
	g_assert_true(gw_dm_tree_set_leaf(
	    tree, "./DMAcc/srv1/AppAuth/1/AAuthData", GW_DM_FORMAT_BIN, NULL, v1, NULL));
	g_assert_true(gw_dm_tree_set_properties(tree, ".", GW_DM_ACCESS_NONE, "Get=*&Add=*&Replace=srv1", NULL, NULL));
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 3);
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);

	/* tree.state did not change; the journal holds it all, mode 0600 */
	state_after = read_file(gw_dm_store_get_path(store), &len);
	g_assert_cmpstr(state_before, ==, state_after);
	g_assert_cmpint(g_stat(gw_dm_store_get_journal_path(store), &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		g_auto(GStrv) children = gw_dm_tree_list_children(back, "./R");
		g_autofree gchar *joined = g_strjoinv(",", children);
		assert_same_tree(tree, back);
		/* the renamed node went away and came back last; B kept its place */
		g_assert_cmpstr(joined, ==, "B,Renamed");
		g_assert_true(gw_dm_node_get_permanent(gw_dm_tree_lookup(back, "./R/B")));
		g_assert_cmpint(gw_dm_node_get_access(gw_dm_tree_lookup(back, "./R/B/copy")),
		                ==,
		                GW_DM_ACCESS_GET);
	}
	/* a rename alone keeps the sibling order */
	g_assert_cmpuint(gw_dm_tree_add(tree, NULL, "./R/D", GW_DM_FORMAT_NODE, NULL, NULL), ==, 200);
	{
		/* an interior node with children: they move with it */
		g_autoptr(GBytes) mid = bytes_str("Mid");
		g_assert_cmpuint(
		    gw_dm_tree_replace(tree, NULL, "./R/Renamed?prop=Name", GW_DM_FORMAT_INVALID, NULL, mid),
		    ==,
		    200);
	}
	g_assert_true(gw_dm_store_flush(store, &error));
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		g_auto(GStrv) children = gw_dm_tree_list_children(back, "./R");
		g_autofree gchar *joined = g_strjoinv(",", children);
		g_autofree gchar *z = gw_dm_tree_dup_string(back, "./R/Mid/z");
		g_assert_cmpstr(z, ==, "new");
		g_assert_cmpstr(joined, ==, "B,Mid,D");
		assert_same_tree(tree, back);
	}
	/* a whole-tree rollback cannot be journalled: a new state file instead */
	{
		g_autoptr(GwDmSnapshot) snap = gw_dm_tree_snapshot(tree);
		g_assert_true(gw_dm_tree_set_leaf_string(tree, "./R/gone", GW_DM_FORMAT_CHR, "x", NULL));
		gw_dm_tree_rollback(tree, snap);
		g_assert_true(gw_dm_store_flush(store, &error));
		g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 2);
		g_assert_cmpuint(file_size(gw_dm_store_get_journal_path(store)), <, 100);
	}
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		assert_same_tree(tree, back);
		g_assert_null(gw_dm_tree_lookup(back, "./R/gone"));
	}
	if (store_warnings != 0)
		g_test_message("warning: %s", last_store_warning);
	g_assert_cmpuint(store_warnings, ==, 0);
}

/* builds a state and a journal of @n records (./J/k<i> = v<i>, one per record); returns the
 * offsets where each record starts, then the end (n + 1 entries) */
static GArray *
make_journal(Fixture *f, GwDmTree *tree, guint n)
{
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GError) error = NULL;
	GArray *offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
	g_autofree gchar *journal = g_build_filename(f->state_dir, "tree.journal", NULL);
	gsize off;

	g_assert_true(gw_dm_store_save(store, &error));
	g_assert_no_error(error);
	off = file_size(journal);
	g_array_append_val(offsets, off);
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *uri = g_strdup_printf("./J/k%u", i);
		g_autofree gchar *value = g_strdup_printf("v%u", i);
		g_assert_true(gw_dm_tree_set_leaf_string(tree, uri, GW_DM_FORMAT_CHR, value, NULL));
		g_assert_true(gw_dm_store_flush(store, &error));
		g_assert_no_error(error);
		off = file_size(journal);
		g_array_append_val(offsets, off);
	}
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, n);
	return offsets;
}

static guint
count_keys(GwDmTree *tree)
{
	g_auto(GStrv) keys = gw_dm_tree_list_children(tree, "./J");
	return keys != NULL ? g_strv_length(keys) : 0;
}

/* a crash while the last record was appended: the file ends anywhere inside it. Every
 * earlier record is replayed, the torn one is not, the file is cut back to the last good
 * record (logged), and the next append continues from there */
static void
test_journal_torn_every_offset(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GArray) offsets = make_journal(f, tree, 3);
	g_autofree gchar *journal = g_build_filename(f->state_dir, "tree.journal", NULL);
	g_autofree gchar *full = NULL;
	gsize full_len = 0;
	gsize last = g_array_index(offsets, gsize, 2);
	gsize end = g_array_index(offsets, gsize, 3);

	full = read_file(journal, &full_len);
	g_assert_cmpuint(full_len, ==, end);
	for (gsize cut = last; cut <= end; cut++) {
		g_autoptr(GwDmTree) back = gw_dm_tree_new();
		g_autoptr(GwDmStore) store = gw_dm_store_new(back, f->state_dir);
		g_autoptr(GError) error = NULL;
		g_autofree gchar *v = NULL;

		write_file(journal, full, cut);
		store_messages = 0;
		g_assert_true(gw_dm_store_load(store, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(store_warnings, ==, 0);
		if (cut == end) {
			g_assert_cmpuint(count_keys(back), ==, 3);
			g_assert_cmpuint(store_messages, ==, 0);
			continue;
		}
		g_assert_cmpuint(count_keys(back), ==, 2);
		g_assert_null(gw_dm_tree_lookup(back, "./J/k2"));
		/* only a partial record is torn; nothing left over is silent */
		g_assert_cmpuint(store_messages, ==, cut > last ? 1 : 0);
		if (cut > last)
			g_assert_nonnull(strstr(last_store_message, "torn"));
		g_assert_cmpuint(file_size(journal), ==, last);
		/* appending goes on after the last good record */
		g_assert_true(gw_dm_tree_set_leaf_string(back, "./J/after", GW_DM_FORMAT_CHR, "yes", NULL));
		g_assert_true(gw_dm_store_flush(store, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 1);
		{
			g_autoptr(GwDmTree) again = load_fresh(f->state_dir);
			v = gw_dm_tree_dup_string(again, "./J/after");
			g_assert_cmpstr(v, ==, "yes");
			g_assert_cmpuint(count_keys(again), ==, 3);
			assert_same_tree(back, again);
		}
	}
	/* zeros after the last record (a size that reached the disk before the data) */
	{
		g_autoptr(GwDmTree) back = gw_dm_tree_new();
		g_autoptr(GwDmStore) store = gw_dm_store_new(back, f->state_dir);
		g_autofree gchar *zeros = g_malloc0(end + 64);
		memcpy(zeros, full, end);
		write_file(journal, zeros, end + 64);
		store_messages = 0;
		g_assert_true(gw_dm_store_load(store, NULL));
		g_assert_cmpuint(count_keys(back), ==, 3);
		g_assert_cmpuint(store_messages, ==, 1);
		g_assert_cmpuint(file_size(journal), ==, end);
	}
}

/* a record in the middle whose checksum fails: the replay stops before it, a warning says
 * where, a copy of the journal is kept, and the later records are not applied */
static void
test_journal_corrupt_middle(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GArray) offsets = make_journal(f, tree, 4);
	g_autofree gchar *journal = g_build_filename(f->state_dir, "tree.journal", NULL);
	g_autofree gchar *full = NULL;
	g_autoptr(GwDmTree) back = gw_dm_tree_new();
	g_autoptr(GwDmStore) store = gw_dm_store_new(back, f->state_dir);
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	gsize second = g_array_index(offsets, gsize, 1);

	full = read_file(journal, &len);
	/* a byte of the second record's payload */
	full[second + 20] ^= 0x40;
	write_file(journal, full, len);
	store_warnings = 0;
	g_assert_true(gw_dm_store_load(store, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count_keys(back), ==, 1);
	g_assert_nonnull(gw_dm_tree_lookup(back, "./J/k0"));
	g_assert_null(gw_dm_tree_lookup(back, "./J/k3"));
	g_assert_cmpuint(store_warnings, ==, 1);
	g_assert_nonnull(strstr(last_store_warning, "corrupt at offset"));
	g_assert_nonnull(strstr(last_store_warning, "bad checksum"));
	g_assert_cmpuint(count_files(f->state_dir, "tree.journal.corrupt-"), ==, 1);
	g_assert_cmpuint(file_size(journal), ==, second);
	store_warnings = 0;

	/* a record from another journal (right checksum, wrong sequence) also stops it */
	{
		g_autoptr(GByteArray) ops = g_byte_array_new();
		g_autoptr(GByteArray) rec = NULL;
		g_autofree gchar *good = read_file(journal, &len);
		g_autofree gchar *bad = NULL;
		gw_dm_journal_encode_delete(ops, "./J/k0");
		rec = gw_dm_journal_frame(7, ops->data, ops->len);
		bad = g_malloc(len + rec->len + 8);
		memcpy(bad, good, len);
		memcpy(bad + len, rec->data, rec->len);
		memcpy(bad + len + rec->len, "trailing", 8);
		write_file(journal, bad, len + rec->len + 8);
		{
			g_autoptr(GwDmTree) t = load_fresh(f->state_dir);
			g_assert_nonnull(gw_dm_tree_lookup(t, "./J/k0"));
		}
		g_assert_cmpuint(store_warnings, ==, 1);
		g_assert_nonnull(strstr(last_store_warning, "sequence"));
	}
	store_warnings = 0;
}

/* compaction: past the limit the journal is folded into tree.state and starts over; a crash
 * between the two renames (new state, old journal) replays nothing twice */
static void
test_journal_compaction(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *old_journal = NULL;
	g_autofree gchar *state_text = NULL;
	gsize old_len = 0;
	gsize len = 0;
	guint i;

	gw_dm_store_set_journal_limit(store, 2048);
	g_assert_true(gw_dm_store_save(store, &error));
	for (i = 0; gw_dm_store_get_save_count(store) < 2; i++) {
		g_autofree gchar *v = g_strdup_printf("value %u", i);
		g_assert_cmpuint(i, <, 1000);
		g_assert_true(gw_dm_tree_set_leaf_string(tree, "./J/counter", GW_DM_FORMAT_CHR, v, NULL));
		g_assert_true(gw_dm_store_flush(store, &error));
		g_assert_no_error(error);
		if (gw_dm_store_get_save_count(store) < 2) {
			g_clear_pointer(&old_journal, g_free);
			old_journal = read_file(gw_dm_store_get_journal_path(store), &old_len);
		}
	}
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, i);
	/* the journal is empty again (header only), the state has the last value */
	g_assert_cmpuint(file_size(gw_dm_store_get_journal_path(store)), <, 100);
	state_text = read_file(gw_dm_store_get_path(store), &len);
	{
		g_autofree gchar *want = g_strdup_printf("value %u", i - 1);
		g_assert_true(mem_contains(state_text, len, want));
	}
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		assert_same_tree(tree, back);
	}
	/* more records after the compaction */
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./J/after", GW_DM_FORMAT_CHR, "1", NULL));
	g_assert_true(gw_dm_store_flush(store, &error));
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		assert_same_tree(tree, back);
	}
	/* crash between the renames: the new state with the journal of the old one */
	g_clear_object(&store);
	{
		g_autoptr(GwDmStore) s2 = gw_dm_store_new(tree, f->state_dir);
		g_assert_true(gw_dm_store_save(s2, &error));
	}
	{
		g_autofree gchar *journal = g_build_filename(f->state_dir, "tree.journal", NULL);
		write_file(journal, old_journal, old_len);
	}
	store_messages = 0;
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		assert_same_tree(tree, back);
	}
	g_assert_cmpuint(store_messages, ==, 1);
	g_assert_nonnull(strstr(last_store_message, "another state"));
	g_assert_cmpuint(store_warnings, ==, 0);
	/* that journal is not appended to: the next flush writes a fresh pair */
	{
		g_autoptr(GwDmTree) back = gw_dm_tree_new();
		g_autoptr(GwDmStore) s3 = gw_dm_store_new(back, f->state_dir);
		g_assert_true(gw_dm_store_load(s3, &error));
		g_assert_true(gw_dm_tree_set_leaf_string(back, "./J/x", GW_DM_FORMAT_CHR, "2", NULL));
		g_assert_true(gw_dm_store_flush(s3, &error));
		g_assert_cmpuint(gw_dm_store_get_save_count(s3), ==, 1);
		g_assert_cmpuint(gw_dm_store_get_append_count(s3), ==, 0);
		{
			g_autoptr(GwDmTree) again = load_fresh(f->state_dir);
			assert_same_tree(back, again);
		}
	}
}

/* a journal whose header is cut short (crash while a compaction wrote it) is skipped
 * quietly; one with a garbage header is kept aside with a warning */
static void
test_journal_bad_header(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GArray) offsets = make_journal(f, tree, 1);
	g_autofree gchar *journal = g_build_filename(f->state_dir, "tree.journal", NULL);

	write_file(journal, "GWMO-JOURNAL 1 sta", 18);
	store_messages = 0;
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		g_assert_null(gw_dm_tree_lookup(back, "./J/k0"));
	}
	g_assert_cmpuint(store_messages, ==, 1);
	g_assert_cmpuint(store_warnings, ==, 0);
	write_file(journal, "garbage\n", 8);
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
	}
	g_assert_cmpuint(store_warnings, ==, 1);
	g_assert_cmpuint(count_files(f->state_dir, "tree.journal.corrupt-"), ==, 1);
	store_warnings = 0;
}


static void
commit_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	guint *done = user_data;
	g_autoptr(GError) error = NULL;
	g_assert_true(gw_dm_store_commit_finish(GW_DM_STORE(source), res, &error));
	g_assert_no_error(error);
	(*done)++;
}

/* group commit: the commits asked for before the main loop goes idle share one record;
 * each callback runs only once its changes are in the journal */
static void
test_journal_group_commit(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GError) error = NULL;
	guint done = 0;

	g_assert_true(gw_dm_store_save(store, &error));
	for (guint i = 0; i < 5; i++) {
		g_autofree gchar *uri = g_strdup_printf("./G/k%u", i);
		g_assert_true(gw_dm_tree_set_leaf_string(tree, uri, GW_DM_FORMAT_CHR, "v", NULL));
		gw_dm_store_commit_async(store, commit_done_cb, &done);
	}
	/* nothing is acknowledged before it is written */
	g_assert_cmpuint(done, ==, 0);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 0);
	while (done < 5)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 1);
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		g_assert_nonnull(gw_dm_tree_lookup(back, "./G/k4"));
		assert_same_tree(tree, back);
	}
	/* a commit with nothing new succeeds without writing */
	gw_dm_store_commit_async(store, commit_done_cb, &done);
	while (done < 6)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 1);
}

/* the writer thread: what changes while a record is on its way to the disk goes into the next
 * record, and its commit is answered only after that one; a synchronous flush meanwhile waits
 * for the writer and appends after it */
static void
test_journal_commit_while_writing(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GError) error = NULL;
	guint done = 0;

	g_assert_true(gw_dm_store_save(store, &error));
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./G/a", GW_DM_FORMAT_CHR, "1", NULL));
	gw_dm_store_commit_async(store, commit_done_cb, &done);
	/* the record is framed (counted) when the writer gets it */
	while (gw_dm_store_get_append_count(store) < 1)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./G/b", GW_DM_FORMAT_CHR, "2", NULL));
	gw_dm_store_commit_async(store, commit_done_cb, &done);
	while (done < 1)
		g_main_context_iteration(NULL, TRUE);
	/* the second commit needs a record of its own */
	while (done < 2) {
		g_assert_cmpuint(gw_dm_store_get_append_count(store), >=, 1);
		g_main_context_iteration(NULL, TRUE);
	}
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 2);
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		g_assert_nonnull(gw_dm_tree_lookup(back, "./G/b"));
		assert_same_tree(tree, back);
	}

	/* a synchronous flush while a record is in flight */
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./G/c", GW_DM_FORMAT_CHR, "3", NULL));
	gw_dm_store_commit_async(store, commit_done_cb, &done);
	while (gw_dm_store_get_append_count(store) < 3)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(gw_dm_tree_set_leaf_string(tree, "./G/d", GW_DM_FORMAT_CHR, "4", NULL));
	g_assert_true(gw_dm_store_flush(store, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 4);
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		g_assert_nonnull(gw_dm_tree_lookup(back, "./G/d"));
		assert_same_tree(tree, back);
	}
	while (done < 3)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(gw_dm_store_get_append_count(store), ==, 4);
}

/* a leaf of @size pseudo-random bytes (format bin) */
static void
set_big_leaf(GwDmTree *tree, const gchar *uri, gsize size, guint seed)
{
	g_autoptr(GBytes) value = NULL;
	guint8 *data = g_malloc(size);

	for (gsize i = 0; i < size; i++)
		data[i] = (guint8)((i * 2654435761u + seed) >> 13);
	value = g_bytes_new_take(data, size);
	g_assert_true(gw_dm_tree_set_leaf(tree, uri, GW_DM_FORMAT_BIN, NULL, value, NULL));
}

/*
 * What the store acknowledged it loads again, however big (issue 11 §4: a state over 16 MiB
 * was called corrupt at the next start, a journal over 64 MiB was thrown away): a state of
 * 20 MiB, then a journal of 70 MiB on top of it (the compaction bound raised so it grows).
 */
static void
test_large(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *uri = g_strdup_printf("./Big/s%u", i);
		set_big_leaf(tree, uri, GW_DM_MAX_VALUE_SIZE, i);
	}
	g_assert_true(gw_dm_store_save(store, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(file_size(gw_dm_store_get_path(store)), >, 20 * GW_DM_MAX_VALUE_SIZE);
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		assert_same_tree(tree, back);
	}
	gw_dm_store_set_journal_limit(store, G_MAXSIZE);
	for (guint i = 0; i < 70; i++) {
		g_autofree gchar *uri = g_strdup_printf("./Big/j%u", i);
		set_big_leaf(tree, uri, GW_DM_MAX_VALUE_SIZE, 100 + i);
		g_assert_true(gw_dm_store_flush(store, &error));
		g_assert_no_error(error);
	}
	g_assert_cmpuint(gw_dm_store_get_save_count(store), ==, 1);
	g_assert_cmpuint(
	    file_size(gw_dm_store_get_journal_path(store)), >, 70 * GW_DM_MAX_VALUE_SIZE);
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		assert_same_tree(tree, back);
	}
	g_assert_cmpuint(store_warnings, ==, 0);
}

/* a state file of format version 1 (TNDS, what gwmod wrote before version 2) still loads,
 * with no bound on its size: this one is over 16 MiB */
static void
test_load_version1(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *body = NULL;
	g_autofree gchar *sum = NULL;
	g_autofree gchar *header = NULL;
	g_autofree gchar *path = g_build_filename(f->state_dir, "tree.state", NULL);
	g_autoptr(GString) file = NULL;

	/* 13 MiB of bin values: over 17 MiB of base64 in the TNDS body */
	set_big_leaf(tree, "./Big/v1", 12 * 1024 * 1024, 7);
	set_big_leaf(tree, "./Big/v2", 1024 * 1024, 8);
	body = dump(tree);
	g_assert_cmpuint(strlen(body), >, 16 * 1024 * 1024);
	sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, body, -1);
	header = g_strdup_printf("GWMO-STATE 1 length=%zu sha256=%s\n", strlen(body), sum);
	file = g_string_new(header);
	g_string_append(file, body);
	g_assert_cmpint(g_mkdir_with_parents(f->state_dir, 0700), ==, 0);
	write_file(path, file->str, file->len);
	{
		g_autoptr(GwDmTree) back = gw_dm_tree_new();
		g_autoptr(GwDmStore) store = gw_dm_store_new(back, f->state_dir);
		g_autofree gchar *contents = NULL;
		g_assert_true(gw_dm_store_load(store, &error));
		g_assert_no_error(error);
		assert_same_tree(tree, back);
		/* the next save writes version 3 */
		g_assert_true(gw_dm_tree_set_leaf_string(back, "./x", GW_DM_FORMAT_CHR, "y", NULL));
		g_assert_true(gw_dm_store_flush(store, &error));
		g_assert_true(gw_dm_store_compact(store, &error));
		contents = read_file(path, NULL);
		g_assert_true(g_str_has_prefix(contents, "GWMO-STATE 3 "));
		{
			g_autoptr(GwDmTree) again = load_fresh(f->state_dir);
			assert_same_tree(back, again);
		}
	}
	g_assert_cmpuint(store_warnings, ==, 0);
}

/* @n records shaped like the gateway's Device Inventory records (22 nodes each: what
 * gw-inventory.c writes for a registered End Device), each with values of its own */
static void
add_device_records(GwDmTree *tree, guint n)
{
	static const struct {
		const gchar *rel;
		GwDmFormat format;
		const gchar *value; /* "#": the record number (or a secret) in it */
	} leaves[] = {
	    {"DeviceID", GW_DM_FORMAT_CHR, "bench-#"},
	    {"ComponentType", GW_DM_FORMAT_CHR, "EndDevice"},
	    {"Protocol", GW_DM_FORMAT_CHR, "OMA-DM"},
	    {"Mode", GW_DM_FORMAT_INT, "2"},
	    {"Status", GW_DM_FORMAT_CHR, "Attached"},
	    {"Address", GW_DM_FORMAT_CHR, "192.168.#"},
	    {"NotifyAddr", GW_DM_FORMAT_CHR, "udp://10.0.0.#:5000"},
	    {"LastSeen", GW_DM_FORMAT_DATE, "2026-12-07T14:#Z"},
	    {"Trusted", GW_DM_FORMAT_BOOL, "false"},
	    {"DevInfo/Man", GW_DM_FORMAT_CHR, "gwmo test device"},
	    {"DevInfo/Mod", GW_DM_FORMAT_CHR, "ref-device"},
	    {"Credentials/AuthType", GW_DM_FORMAT_CHR, "DIGEST"},
	    {"Credentials/ClientName", GW_DM_FORMAT_CHR, "client-#"},
	    {"Credentials/ClientSecret", GW_DM_FORMAT_CHR, "c3cr3t-#"},
	    {"Credentials/ServerSecret", GW_DM_FORMAT_CHR, "s3cr3t-#"},
	};

	for (guint i = 1; i <= n; i++) {
		g_autofree gchar *record = g_strdup_printf("./GwMO/Inventory/Devices/%u", i);
		for (guint k = 0; k < G_N_ELEMENTS(leaves); k++) {
			g_autofree gchar *uri = g_strdup_printf("%s/%s", record, leaves[k].rel);
			g_auto(GStrv) parts = g_strsplit(leaves[k].value, "#", 2);
			g_autofree gchar *number = NULL;
			g_autofree gchar *value = NULL;

			if (g_str_has_suffix(leaves[k].rel, "Secret"))
				number = g_strdup_printf("%08x", g_str_hash(uri));
			else if (leaves[k].format == GW_DM_FORMAT_DATE)
				number = g_strdup_printf("%02u", i % 60);
			else
				number = g_strdup_printf("%05u", i);
			value = g_strjoinv(number, parts);
			g_assert_true(
			    gw_dm_tree_set_leaf_string(tree, uri, leaves[k].format, value, NULL));
			if (g_str_has_suffix(uri, "Secret"))
				g_assert_true(gw_dm_tree_set_properties(
				    tree, uri, GW_DM_ACCESS_REPLACE, NULL, NULL, NULL));
		}
		for (guint k = 0; k < 3; k++) {
			static const gchar *interior[] = {"ServerIDs", "Groups", "Operations"};
			g_autofree gchar *uri = g_strdup_printf("%s/%s", record, interior[k]);
			g_assert_true(gw_dm_tree_ensure_interior(tree, uri, NULL));
		}
		g_assert_true(gw_dm_tree_set_properties(
		    tree, record, GW_DM_ACCESS_NONE, "Get=*", NULL, NULL));
	}
}

/* the body of the state file in @dir and its version */
static gchar *
read_state_body(const gchar *dir, gsize *body_len, guint *version)
{
	g_autofree gchar *path = g_build_filename(dir, "tree.state", NULL);
	g_autofree gchar *contents = NULL;
	gsize len = 0;
	const gchar *nl;

	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	nl = memchr(contents, '\n', len);
	g_assert_nonnull(nl);
	g_assert_true(g_str_has_prefix(contents, "GWMO-STATE "));
	*version = (guint)g_ascii_strtoull(contents + strlen("GWMO-STATE "), NULL, 10);
	*body_len = len - (gsize)(nl + 1 - contents);
	return g_memdup2(nl + 1, *body_len);
}

/* issue 16: the state of a device record is at most 512 bytes (version 2 took 1,100: every
 * node spelled out its URI relative to the root and fixed-size fields), and it loads back the
 * same */
static void
test_compact_records(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) base = build_tree();
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *base_body = NULL;
	g_autofree gchar *body = NULL;
	gsize base_len = 0, len = 0;
	guint version = 0;
	const guint n = 500;

	{
		g_autoptr(GwDmStore) store = gw_dm_store_new(base, f->state_dir);
		g_assert_true(gw_dm_store_save(store, &error));
		g_assert_no_error(error);
		base_body = read_state_body(f->state_dir, &base_len, &version);
	}
	add_device_records(tree, n);
	{
		g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
		g_assert_true(gw_dm_store_save(store, &error));
		g_assert_no_error(error);
		body = read_state_body(f->state_dir, &len, &version);
	}
	g_test_message("%u records: %" G_GSIZE_FORMAT " bytes of state, %.0f per record",
	               n,
	               len,
	               (gdouble)(len - base_len) / n);
	g_assert_cmpuint((len - base_len) / n, <=, 512);
	g_assert_cmpuint(version, ==, 3);
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		assert_same_tree(tree, back);
		g_assert_cmpint(gw_dm_node_get_access(gw_dm_tree_lookup(
		                    back, "./GwMO/Inventory/Devices/7/Credentials/ServerSecret")),
		                ==,
		                GW_DM_ACCESS_REPLACE);
	}
	g_assert_cmpuint(store_warnings, ==, 0);
}

/* a state file of format version 2 (what gwmod wrote before issue 16: one 'A' operation)
 * still loads, journal and all; the next compaction writes version 3 */
static void
test_load_version2(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) body = g_byte_array_new();
	g_autoptr(GByteArray) ops = g_byte_array_new();
	g_autoptr(GByteArray) record = NULL;
	g_autofree gchar *path = g_build_filename(f->state_dir, "tree.state", NULL);
	g_autofree gchar *journal = g_build_filename(f->state_dir, "tree.journal", NULL);
	g_autofree gchar *sum = NULL;
	g_autofree gchar *jheader = NULL;
	g_autoptr(GString) file = g_string_new(NULL);
	g_autoptr(GString) jfile = NULL;
	gsize v2_len;

	add_device_records(tree, 20);
	gw_dm_journal_encode_subtree(body, ".", gw_dm_tree_get_root(tree));
	v2_len = body->len;
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, body->data, body->len);
	g_string_printf(file, "GWMO-STATE 2 length=%u sha256=%s\n", body->len, sum);
	g_string_append_len(file, (const gchar *)body->data, (gssize)body->len);
	g_assert_cmpint(g_mkdir_with_parents(f->state_dir, 0700), ==, 0);
	write_file(path, file->str, file->len);
	/* and a journal record after it, as a version 2 gwmod killed in flight left it */
	g_assert_true(gw_dm_tree_set_leaf_string(
	    tree, "./GwMO/Inventory/Devices/3/Status", GW_DM_FORMAT_CHR, "Detached", NULL));
	gw_dm_journal_encode_node(ops,
	                          "./GwMO/Inventory/Devices/3/Status",
	                          gw_dm_tree_lookup(tree, "./GwMO/Inventory/Devices/3/Status"));
	record = gw_dm_journal_frame(1, ops->data, ops->len);
	jheader = gw_dm_journal_header(sum);
	jfile = g_string_new(jheader);
	g_string_append_len(jfile, (const gchar *)record->data, (gssize)record->len);
	write_file(journal, jfile->str, jfile->len);
	{
		g_autoptr(GwDmTree) back = gw_dm_tree_new();
		g_autoptr(GwDmStore) store = gw_dm_store_new(back, f->state_dir);
		g_autofree gchar *v3 = NULL;
		gsize v3_len = 0;
		guint version = 0;

		g_assert_true(gw_dm_store_load(store, &error));
		g_assert_no_error(error);
		assert_same_tree(tree, back);
		g_assert_true(gw_dm_store_compact(store, &error));
		g_assert_no_error(error);
		v3 = read_state_body(f->state_dir, &v3_len, &version);
		g_assert_cmpuint(version, ==, 3);
		g_assert_cmpuint(v3_len, <, v2_len / 2);
		{
			g_autoptr(GwDmTree) again = load_fresh(f->state_dir);
			assert_same_tree(tree, again);
		}
	}
	g_assert_cmpuint(store_warnings, ==, 0);
}

/* a version 3 body cut anywhere, or with a string reference past its table, does not
 * decode: the tree is left as it was */
static void
test_tree_op_truncated(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GByteArray) body = g_byte_array_new();
	g_autoptr(GwDmTree) target = gw_dm_tree_new();
	g_autofree gchar *before = dump(target);

	add_device_records(tree, 2);
	gw_dm_journal_encode_tree(body, ".", gw_dm_tree_get_root(tree));
	for (guint cut = 0; cut < body->len; cut++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *after = NULL;
		g_assert_false(gw_dm_journal_apply(target, body->data, cut, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_CORRUPT_STATE);
		after = dump(target);
		g_assert_cmpstr(before, ==, after);
	}
	/* the whole body applies */
	{
		g_autoptr(GError) error = NULL;
		g_assert_true(gw_dm_journal_apply(target, body->data, body->len, &error));
		g_assert_no_error(error);
		assert_same_tree(tree, target);
	}
}

/* every node of @node's subtree with its value, one "uri=base64" line each */
static void
list_values(GwDmNode *node, const gchar *uri, GString *out)
{
	GPtrArray *children = gw_dm_node_get_children(node);
	GBytes *value = gw_dm_node_get_value(node);
	g_autofree gchar *b64 = NULL;

	if (value != NULL)
		b64 = g_base64_encode(g_bytes_get_data(value, NULL), g_bytes_get_size(value));
	g_string_append_printf(out, "%s=%s\n", uri, b64 != NULL ? b64 : "");
	for (guint i = 0; i < children->len; i++) {
		GwDmNode *child = g_ptr_array_index(children, i);
		g_autofree gchar *child_uri =
		    g_strconcat(uri, "/", gw_dm_node_get_name(child), NULL);
		list_values(child, child_uri, out);
	}
}

static gchar *
tree_values(GwDmTree *tree)
{
	GString *out = g_string_new(NULL);
	list_values(gw_dm_tree_get_root(tree), ".", out);
	return g_string_free(out, FALSE);
}

/* issue 11 review: a subtree whose root's properties the tree refuses when it is loaded (here
 * no access type at all, as a state written under other rules could hold) keeps its
 * descendants, in the state file (the root ".") and in a journal record (./DMAcc/srv1); each
 * refusal is a warning, and the file is kept aside once, since the next compaction writes the
 * tree without what was refused */
static void
test_refused_subtree_root(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) ops = g_byte_array_new();
	g_autoptr(GByteArray) record = NULL;
	g_autofree gchar *path = g_build_filename(f->state_dir, "tree.state", NULL);
	g_autofree gchar *journal = g_build_filename(f->state_dir, "tree.journal", NULL);
	g_autofree gchar *contents = NULL;
	g_autofree gchar *sum = NULL;
	g_autofree gchar *jheader = NULL;
	g_autoptr(GString) file = NULL;
	g_autoptr(GString) jfile = NULL;
	const gchar *srv1 = "./DMAcc/srv1";
	gsize len = 0;
	gchar *body;
	gsize body_len;

	/* a version 2 state file: "A" "." position, then the root's format, flags, access */
	{
		g_autoptr(GByteArray) whole = g_byte_array_new();
		gw_dm_journal_encode_subtree(whole, ".", gw_dm_tree_get_root(tree));
		len = whole->len;
		contents = g_memdup2(whole->data, len);
	}
	body_len = len;
	body = contents;
	g_assert_cmpint(g_mkdir_with_parents(f->state_dir, 0700), ==, 0);
	g_assert_cmpint(body[0], ==, 'A');
	g_assert_cmpint(body[5], ==, '.');
	body[1 + 4 + 1 + 4 + 2] = 0;
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)body, body_len);
	file = g_string_new(NULL);
	g_string_printf(file, "GWMO-STATE 2 length=%zu sha256=%s\n", body_len, sum);
	g_string_append_len(file, body, (gssize)body_len);
	write_file(path, file->str, file->len);

	/* the journal: one record replacing ./DMAcc/srv1 (with one more leaf) */
	g_assert_true(
	    gw_dm_tree_set_leaf_string(tree, "./DMAcc/srv1/Name", GW_DM_FORMAT_CHR, "one", NULL));
	gw_dm_journal_encode_subtree(ops, srv1, gw_dm_tree_lookup(tree, srv1));
	ops->data[1 + 4 + strlen(srv1) + 4 + 2] = 0;
	record = gw_dm_journal_frame(1, ops->data, ops->len);
	jheader = gw_dm_journal_header(sum);
	jfile = g_string_new(jheader);
	g_string_append_len(jfile, (const gchar *)record->data, (gssize)record->len);
	write_file(journal, jfile->str, jfile->len);

	for (guint load = 0; load < 2; load++) {
		g_autoptr(GwDmTree) back = NULL;
		g_autofree gchar *want = NULL;
		g_autofree gchar *got = NULL;

		store_warnings = 0;
		back = load_fresh(f->state_dir);
		/* every node is there with its value (only the two roots' properties are not) */
		want = tree_values(tree);
		got = tree_values(back);
		g_assert_cmpstr(got, ==, want);
		g_assert_nonnull(strstr(got, "./DMAcc/srv1/Name=b25l\n"));
		g_assert_cmpuint(store_warnings, ==, 2);
		g_assert_nonnull(strstr(last_store_warning, "1 node(s) refused"));
		g_assert_nonnull(strstr(last_store_warning, "kept as"));
		/* kept once, however often it is loaded */
		g_assert_cmpuint(count_files(f->state_dir, "tree.state.refused-"), ==, 1);
		g_assert_cmpuint(count_files(f->state_dir, "tree.journal.refused-"), ==, 1);
	}
}

/* a kill while a compaction wrote its temporary files leaves them: the next load removes
 * those of our naming pattern (hidden, ".tmp-" and six letters or digits), logging each, and
 * nothing else: never an administrator's "tree.state.backup" (issue 11 review) */
static void
test_stale_temporaries(Fixture *f, gconstpointer data)
{
	g_autoptr(GwDmTree) tree = build_tree();
	g_autoptr(GError) error = NULL;
	static const gchar *const stale[] = {".tree.state.tmp-AbC123", ".tree.journal.tmp-x9Y8z7"};
	static const gchar *const kept[] = {
	    "tree.state.corrupt-1796600000",
	    ".tree.state.tmp-ABCDEFG",
	    ".tree.state.tmp-AB-123",
	    "tree.journal.corrupt-1796600000",
	    "other.AbC123",
	    ".other.tmp-AbC123",
	    /* an administrator's copies (the pattern of temporaries before) */
	    "tree.state.backup",
	    "tree.state.old123",
	    "tree.journal.AbC123",
	};

	{
		g_autoptr(GwDmStore) store = gw_dm_store_new(tree, f->state_dir);
		g_assert_true(gw_dm_store_save(store, &error));
	}
	for (guint i = 0; i < G_N_ELEMENTS(stale); i++) {
		g_autofree gchar *p = g_build_filename(f->state_dir, stale[i], NULL);
		write_file(p, "half a compaction", 17);
	}
	for (guint i = 0; i < G_N_ELEMENTS(kept); i++) {
		g_autofree gchar *p = g_build_filename(f->state_dir, kept[i], NULL);
		write_file(p, "keep me", 7);
	}
	{
		/* a directory of that pattern is not ours either */
		g_autofree gchar *p =
		    g_build_filename(f->state_dir, ".tree.state.tmp-dIr123", NULL);
		g_assert_cmpint(g_mkdir(p, 0700), ==, 0);
	}
	store_messages = 0;
	{
		g_autoptr(GwDmTree) back = load_fresh(f->state_dir);
		assert_same_tree(tree, back);
	}
	g_assert_cmpuint(store_messages, ==, G_N_ELEMENTS(stale));
	g_assert_nonnull(strstr(last_store_message, "removed"));
	g_assert_nonnull(strstr(last_store_message, "(17 bytes)"));
	for (guint i = 0; i < G_N_ELEMENTS(stale); i++) {
		g_autofree gchar *p = g_build_filename(f->state_dir, stale[i], NULL);
		g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
	}
	for (guint i = 0; i < G_N_ELEMENTS(kept); i++) {
		g_autofree gchar *p = g_build_filename(f->state_dir, kept[i], NULL);
		g_assert_true(g_file_test(p, G_FILE_TEST_IS_REGULAR));
	}
	{
		g_autofree gchar *p =
		    g_build_filename(f->state_dir, ".tree.state.tmp-dIr123", NULL);
		g_assert_true(g_file_test(p, G_FILE_TEST_IS_DIR));
	}
	g_assert_cmpuint(store_warnings, ==, 0);
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
	g_test_add("/gw/dm-store/journal/replay",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_journal_replay,
	           fixture_teardown);
	g_test_add("/gw/dm-store/journal/torn-every-offset",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_journal_torn_every_offset,
	           fixture_teardown);
	g_test_add("/gw/dm-store/journal/corrupt-middle",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_journal_corrupt_middle,
	           fixture_teardown);
	g_test_add("/gw/dm-store/journal/compaction",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_journal_compaction,
	           fixture_teardown);
	g_test_add("/gw/dm-store/journal/group-commit",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_journal_group_commit,
	           fixture_teardown);
	g_test_add("/gw/dm-store/journal/commit-while-writing",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_journal_commit_while_writing,
	           fixture_teardown);
	g_test_add(
	    "/gw/dm-store/large", Fixture, NULL, fixture_setup, test_large, fixture_teardown);
	g_test_add("/gw/dm-store/load-version1",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_load_version1,
	           fixture_teardown);
	g_test_add("/gw/dm-store/load-version2",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_load_version2,
	           fixture_teardown);
	g_test_add("/gw/dm-store/compact-records",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_compact_records,
	           fixture_teardown);
	g_test_add("/gw/dm-store/tree-op-truncated",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_tree_op_truncated,
	           fixture_teardown);
	g_test_add("/gw/dm-store/stale-temporaries",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_stale_temporaries,
	           fixture_teardown);
	g_test_add("/gw/dm-store/refused-subtree-root",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_refused_subtree_root,
	           fixture_teardown);
	g_test_add("/gw/dm-store/journal/bad-header",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_journal_bad_header,
	           fixture_teardown);
	{
		int rc = g_test_run();
		g_free(last_store_warning);
		g_free(last_store_message);
		return rc;
	}
}
