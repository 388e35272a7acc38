/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwStore"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw-dm-journal.h"
#include "gw-dm-store.h"
#include "gw-tnds.h"

#define GW_DM_STORE_FILE "tree.state"
#define GW_DM_STORE_MAGIC "GWMO-STATE"
/* what gw_dm_store_save() writes; versions 2 (a journal 'A' payload) and 1 (TNDS) are still
 * read */
#define GW_DM_STORE_VERSION 3
#define GW_DM_STORE_VERSION_PAYLOAD 2
#define GW_DM_STORE_VERSION_TNDS 1
#define GW_DM_STORE_MAX_HEADER 256
/* compaction: when the journal outgrows MAX(this, 2 × the state file) */
#define GW_DM_STORE_JOURNAL_LIMIT (256 * 1024)
/* a batch bigger than this is written as a new state file instead */
#define GW_DM_STORE_MAX_PENDING (4 * 1024 * 1024)
/* a batch that grew past it is dropped for a state file before it is framed, so every record
 * the store writes is one the reader takes back (it refuses longer ones as corrupt) */
G_STATIC_ASSERT(GW_DM_STORE_MAX_PENDING <= GW_DM_JOURNAL_MAX_PAYLOAD);

struct _GwDmStore {
	GObject parent_instance;
	GwDmTree *tree;
	gchar *state_dir;
	gchar *path;
	guint64 saved_generation;
	gboolean has_saved_generation;
	guint64 save_count;
	gboolean autosave;
	gulong changed_id;
	guint idle_id;
	/* the journal */
	gchar *journal_path;
	gchar state_sha[65]; /* body checksum of the state file the journal continues */
	int journal_fd;      /* open for appending when the journal on disk is valid, else -1 */
	gsize journal_size;
	guint64 journal_seq; /* sequence of the last record in the file */
	gsize state_size;
	gsize journal_limit; /* 0: the default */
	GByteArray *pending; /* encoded changes since the last append/save */
	gboolean needs_full; /* a change the journal cannot express (rollback of the whole tree) */
	gboolean replaying;  /* loading: the changes come from the disk */
	guint64 append_count;
	GPtrArray *commits; /* GTask waiting for the next group commit */
	guint commit_id;
	/* the group commit the writer thread is appending and fdatasyncing, NULL when none;
	 * write_busy (under write_lock) is TRUE until the thread is done with the fd */
	struct _GwDmStoreWrite *writing;
	GMutex write_lock;
	GCond write_cond;
	gboolean write_busy;
};

/* one journal record on its way to the disk */
typedef struct _GwDmStoreWrite {
	int fd;
	GByteArray *record;
	guint64 sequence;
	guint64 generation; /* of the tree when the record was framed */
	GPtrArray *tasks;   /* (element-type GTask) the commits it makes durable */
	gchar *failure;     /* set by the thread: why the append failed */
	gboolean settled;   /* the main thread has taken the outcome into account */
} GwDmStoreWrite;

static void
gw_dm_store_write_free(GwDmStoreWrite *w)
{
	g_byte_array_unref(w->record);
	if (w->tasks != NULL)
		g_ptr_array_unref(w->tasks);
	g_free(w->failure);
	g_free(w);
}

G_DEFINE_FINAL_TYPE(GwDmStore, gw_dm_store, G_TYPE_OBJECT)

static void
gw_dm_store_wait_writer(GwDmStore *self);

static void
gw_dm_store_dispose(GObject *object)
{
	GwDmStore *self = GW_DM_STORE(object);

	if (self->idle_id != 0) {
		g_source_remove(self->idle_id);
		self->idle_id = 0;
	}
	if (self->commit_id != 0) {
		g_source_remove(self->commit_id);
		self->commit_id = 0;
	}
	if (self->commits != NULL) {
		/* nobody may think these are durable */
		g_autoptr(GPtrArray) tasks = g_steal_pointer(&self->commits);
		for (guint i = 0; i < tasks->len; i++)
			g_task_return_new_error(g_ptr_array_index(tasks, i),
			                        GW_ERROR,
			                        GW_ERROR_FAILED,
			                        "the store went away before the commit");
	}
	if (self->tree != NULL && self->changed_id != 0) {
		g_signal_handler_disconnect(self->tree, self->changed_id);
		self->changed_id = 0;
	}
	/* a write in flight holds a reference: none is left when disposing */
	if (self->journal_fd >= 0) {
		close(self->journal_fd);
		self->journal_fd = -1;
	}
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(gw_dm_store_parent_class)->dispose(object);
}

static void
gw_dm_store_finalize(GObject *object)
{
	GwDmStore *self = GW_DM_STORE(object);

	g_free(self->state_dir);
	g_free(self->path);
	g_free(self->journal_path);
	g_byte_array_unref(self->pending);
	g_mutex_clear(&self->write_lock);
	g_cond_clear(&self->write_cond);
	G_OBJECT_CLASS(gw_dm_store_parent_class)->finalize(object);
}

static void
gw_dm_store_class_init(GwDmStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_dm_store_dispose;
	object_class->finalize = gw_dm_store_finalize;
}

static void
gw_dm_store_init(GwDmStore *self)
{
	self->journal_fd = -1;
	self->pending = g_byte_array_new();
	g_mutex_init(&self->write_lock);
	g_cond_init(&self->write_cond);
}

static void
gw_dm_store_changed_cb(GwDmTree *tree,
                       const gchar *uri,
                       guint change,
                       const gchar *server_id,
                       gpointer user_data);

GwDmStore *
gw_dm_store_new(GwDmTree *tree, const gchar *state_dir)
{
	GwDmStore *self;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(state_dir != NULL, NULL);

	self = g_object_new(GW_TYPE_DM_STORE, NULL);
	self->tree = g_object_ref(tree);
	self->state_dir = g_strdup(state_dir);
	self->path = g_build_filename(state_dir, GW_DM_STORE_FILE, NULL);
	self->journal_path = g_build_filename(state_dir, GW_DM_JOURNAL_FILE, NULL);
	/* every change is recorded for the journal, autosave or not */
	self->changed_id =
	    g_signal_connect(tree, "changed", G_CALLBACK(gw_dm_store_changed_cb), self);
	return self;
}

const gchar *
gw_dm_store_get_path(GwDmStore *self)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), NULL);
	return self->path;
}

const gchar *
gw_dm_store_get_journal_path(GwDmStore *self)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), NULL);
	return self->journal_path;
}

guint64
gw_dm_store_get_save_count(GwDmStore *self)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), 0);
	return self->save_count;
}

guint64
gw_dm_store_get_append_count(GwDmStore *self)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), 0);
	return self->append_count;
}

void
gw_dm_store_set_journal_limit(GwDmStore *self, gsize bytes)
{
	g_return_if_fail(GW_IS_DM_STORE(self));
	self->journal_limit = bytes;
}

static gsize
gw_dm_store_journal_bound(GwDmStore *self)
{
	if (self->journal_limit > 0)
		return self->journal_limit;
	return MAX((gsize)GW_DM_STORE_JOURNAL_LIMIT, 2 * self->state_size);
}

/* ---- load ---- */

static gchar *
gw_dm_store_sha256(const gchar *data, gsize len)
{
	guint8 digest[32];

	/* GnuTLS (nettle) has an optimised SHA-256; GLib's GChecksum cost a third of gwmod's CPU
	 * per DM session when the state file is written after every change batch */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest) < 0)
		return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
	{
		gchar *hex = g_new(gchar, 65);
		for (guint i = 0; i < sizeof(digest); i++) {
			hex[2 * i] = "0123456789abcdef"[digest[i] >> 4];
			hex[2 * i + 1] = "0123456789abcdef"[digest[i] & 0xf];
		}
		hex[64] = '\0';
		return hex;
	}
}

/* parses "GWMO-STATE <version> length=<n> sha256=<hex>\n"; returns the body offset or 0 */
static gsize
gw_dm_store_parse_header(const gchar *data,
                         gsize len,
                         guint *version_out,
                         guint64 *length,
                         gchar *sha,
                         GError **error)
{
	const gchar *nl = memchr(data, '\n', MIN(len, (gsize)GW_DM_STORE_MAX_HEADER));
	g_autofree gchar *header = NULL;
	g_auto(GStrv) fields = NULL;
	guint64 version = 0;

	if (nl == NULL) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "no header line");
		return 0;
	}
	header = g_strndup(data, nl - data);
	fields = g_strsplit(header, " ", -1);
	if (g_strv_length(fields) != 4 || g_strcmp0(fields[0], GW_DM_STORE_MAGIC) != 0) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "bad magic");
		return 0;
	}
	if (!g_ascii_string_to_unsigned(fields[1], 10, 0, G_MAXUINT, &version, NULL) ||
	    (version != GW_DM_STORE_VERSION && version != GW_DM_STORE_VERSION_PAYLOAD &&
	     version != GW_DM_STORE_VERSION_TNDS)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "unsupported version");
		return 0;
	}
	if (!g_str_has_prefix(fields[2], "length=") ||
	    !g_ascii_string_to_unsigned(fields[2] + 7, 10, 0, G_MAXSIZE, length, NULL)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "bad length");
		return 0;
	}
	if (!g_str_has_prefix(fields[3], "sha256=") || strlen(fields[3] + 7) != 64) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "bad checksum field");
		return 0;
	}
	for (const gchar *p = fields[3] + 7; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p)) {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "bad checksum field");
			return 0;
		}
	}
	memcpy(sha, fields[3] + 7, 65);
	*version_out = (guint)version;
	return (gsize)(nl - data) + 1;
}

/* a copy of @path (@data) that the tree did not take whole, kept for a human: the next
 * compaction writes the tree without what was refused. Named by its checksum, so loading the
 * same file again keeps no second copy. */
static gchar *
gw_dm_store_keep_refused(const gchar *path, const gchar *data, gsize len)
{
	g_autofree gchar *sum = gw_dm_store_sha256(data, len);
	g_autofree gchar *copy = g_strdup_printf("%s.refused-%.16s", path, sum);
	g_autoptr(GError) error = NULL;

	if (!g_file_test(copy, G_FILE_TEST_EXISTS) &&
	    !g_file_set_contents_full(
	        copy, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
		g_warning("cannot keep a copy of %s: %s", path, error->message);
		return NULL;
	}
	return g_steal_pointer(&copy);
}

/* a version 2 or 3 body: the whole tree as one journal payload. It must decode entirely (else it is
 * corrupt and nothing is applied); a node the tree refuses now (its rules grew stricter since it
 * was written) is left out, its descendants restored, with a warning and a copy of the file
 * (@file) kept aside, instead of throwing the whole state away */
static gboolean
gw_dm_store_load_snapshot(GwDmStore *self,
                          const gchar *file,
                          gsize file_len,
                          const gchar *body,
                          gsize len,
                          GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *copy = NULL;

	if (len == 0) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "empty body");
		return FALSE;
	}
	if (gw_dm_journal_apply(self->tree, (const guint8 *)body, len, &error_local))
		return TRUE;
	if (g_error_matches(error_local, GW_ERROR, GW_ERROR_CORRUPT_STATE)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "body does not decode: %s",
		            error_local->message);
		return FALSE;
	}
	copy = gw_dm_store_keep_refused(self->path, file, file_len);
	g_warning("state file %s: not every node was restored (%s); the file is kept as %s",
	          self->path,
	          error_local->message,
	          copy != NULL ? copy : "(copy failed)");
	return TRUE;
}

/* checks the file and imports it; on failure @error is GW_ERROR_CORRUPT_STATE */
static gboolean
gw_dm_store_load_data(GwDmStore *self, const gchar *data, gsize len, gchar *sha_out, GError **error)
{
	g_autofree gchar *sum = NULL;
	g_autoptr(GError) error_local = NULL;
	gchar sha[65] = {0};
	guint64 length = 0;
	guint version = 0;
	gsize offset;

	offset = gw_dm_store_parse_header(data, len, &version, &length, sha, error);
	if (offset == 0)
		return FALSE;
	if (length != len - offset) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "length mismatch: header says %" G_GUINT64_FORMAT
		            ", file has %" G_GSIZE_FORMAT,
		            length,
		            len - offset);
		return FALSE;
	}
	sum = gw_dm_store_sha256(data + offset, len - offset);
	if (g_strcmp0(sum, sha) != 0) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "checksum mismatch");
		return FALSE;
	}
	if (version == GW_DM_STORE_VERSION || version == GW_DM_STORE_VERSION_PAYLOAD) {
		if (!gw_dm_store_load_snapshot(self, data, len, data + offset, len - offset, error))
			return FALSE;
	} else if (!gw_tnds_import(self->tree,
	                           ".",
	                           data + offset,
	                           len - offset,
	                           GW_TNDS_IMPORT_REPLACE | GW_TNDS_IMPORT_RESTORE,
	                           &error_local)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "body does not import: %s",
		            error_local->message);
		return FALSE;
	}
	memcpy(sha_out, sha, 65);
	return TRUE;
}

static gchar *
gw_dm_store_corrupt_name(const gchar *path)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree gchar *target = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, path, now);

	/* never overwrite an earlier corrupt file kept in the same second */
	for (guint i = 1; g_file_test(target, G_FILE_TEST_EXISTS) && i < 1000; i++) {
		g_free(target);
		target = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT ".%u", path, now, i);
	}
	return g_steal_pointer(&target);
}

static gchar *
gw_dm_store_keep_corrupt(const gchar *path)
{
	g_autofree gchar *target = gw_dm_store_corrupt_name(path);

	if (g_rename(path, target) != 0) {
		g_warning("cannot rename %s to %s: %s", path, target, g_strerror(errno));
		return NULL;
	}
	return g_steal_pointer(&target);
}

static void
gw_dm_store_close_journal(GwDmStore *self)
{
	gw_dm_store_wait_writer(self);
	if (self->journal_fd >= 0) {
		close(self->journal_fd);
		self->journal_fd = -1;
	}
}

/* "GWMO-JOURNAL …" cut short by a crash while a fresh journal was being written */
static gboolean
gw_dm_store_is_header_prefix(const gchar *data, gsize len)
{
	static const gchar magic[] = "GWMO-JOURNAL ";
	return memchr(data, '\n', len) == NULL &&
	       memcmp(data, magic, MIN(len, sizeof(magic) - 1)) == 0;
}

static gboolean
gw_dm_store_truncate_journal(GwDmStore *self, gsize size, GError **error)
{
	int fd = open(self->journal_path, O_WRONLY | O_CLOEXEC);
	gboolean ok;

	if (fd < 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot open %s: %s",
		            self->journal_path,
		            g_strerror(errno));
		return FALSE;
	}
	ok = ftruncate(fd, (off_t)size) == 0 && fdatasync(fd) == 0;
	if (!ok)
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot truncate %s: %s",
		            self->journal_path,
		            g_strerror(errno));
	close(fd);
	return ok;
}

/*
 * Replays tree.journal on top of the state just loaded (self->state_sha). Leaves the journal
 * open for appending when it is valid; otherwise journal_fd stays -1 and the next flush
 * writes a new state file and a new journal. Errors here never fail the load: what was
 * replayed stays, the rest is logged.
 */
static void
gw_dm_store_replay_journal(GwDmStore *self)
{
	g_autofree gchar *data = NULL;
	g_autoptr(GError) error = NULL;
	gchar sha[65] = {0};
	gsize len = 0;
	gsize offset;
	guint64 seq = 0;
	guint replayed = 0;
	GStatBuf st;

	gw_dm_store_close_journal(self);
	if (g_stat(self->journal_path, &st) != 0) {
		g_debug("no journal %s", self->journal_path);
		return;
	}
	/* no bound on the size: every record in it was acknowledged (only memory limits it) */
	if (!S_ISREG(st.st_mode)) {
		g_autofree gchar *kept = gw_dm_store_keep_corrupt(self->journal_path);
		g_warning("journal %s is not a regular file; kept as %s",
		          self->journal_path,
		          kept != NULL ? kept : "(rename failed)");
		return;
	}
	if (!g_file_get_contents(self->journal_path, &data, &len, &error)) {
		g_warning("cannot read the journal: %s", error->message);
		return;
	}
	offset = gw_dm_journal_parse_header((const guint8 *)data, len, sha, &error);
	if (offset == 0) {
		if (gw_dm_store_is_header_prefix(data, len)) {
			/* a crash while a compaction wrote the new journal: the state has it all */
			g_message("journal %s has no complete header (%" G_GSIZE_FORMAT
			          " bytes); nothing to replay",
			          self->journal_path,
			          len);
		} else {
			g_autofree gchar *kept = gw_dm_store_keep_corrupt(self->journal_path);
			g_warning("journal %s is corrupt (%s); kept as %s",
			          self->journal_path,
			          error->message,
			          kept != NULL ? kept : "(rename failed)");
		}
		return;
	}
	if (strcmp(sha, self->state_sha) != 0) {
		/* a crash after a compaction renamed the new state file into place: the journal
		 * belongs to the state before, whose changes the new one holds */
		g_message("journal %s continues another state file; nothing to replay",
		          self->journal_path);
		return;
	}
	for (;;) {
		const guint8 *payload = NULL;
		gsize payload_len = 0;
		gsize next = 0;
		g_autoptr(GError) record_error = NULL;
		GwDmJournalRecordStatus status;

		status = gw_dm_journal_read_record((const guint8 *)data,
		                                   len,
		                                   offset,
		                                   seq + 1,
		                                   &payload,
		                                   &payload_len,
		                                   &next,
		                                   &record_error);
		if (status == GW_DM_JOURNAL_RECORD_END)
			break;
		if (status == GW_DM_JOURNAL_RECORD_TORN) {
			g_message("journal %s: torn last record dropped (%s); %" G_GSIZE_FORMAT
			          " bytes cut",
			          self->journal_path,
			          record_error->message,
			          len - offset);
			break;
		}
		if (status == GW_DM_JOURNAL_RECORD_CORRUPT) {
			g_autofree gchar *copy = gw_dm_store_corrupt_name(self->journal_path);
			g_autoptr(GError) copy_error = NULL;
			if (!g_file_set_contents_full(copy,
			                              data,
			                              (gssize)len,
			                              G_FILE_SET_CONTENTS_CONSISTENT,
			                              0600,
			                              &copy_error)) {
				g_clear_pointer(&copy, g_free);
			}
			g_warning("journal %s is corrupt at offset %" G_GSIZE_FORMAT
			          " (%s): replay stops after %u record(s), %" G_GSIZE_FORMAT
			          " bytes dropped; a copy is kept as %s",
			          self->journal_path,
			          offset,
			          record_error->message,
			          replayed,
			          len - offset,
			          copy != NULL ? copy : "(copy failed)");
			break;
		}
		if (!gw_dm_journal_apply(self->tree, payload, payload_len, &record_error)) {
			/* the record is intact (its checksum holds): keep going with the next */
			g_autofree gchar *copy =
			    gw_dm_store_keep_refused(self->journal_path, data, len);
			g_warning("journal %s: record %" G_GUINT64_FORMAT
			          " not fully applied (%s); the journal is kept as %s",
			          self->journal_path,
			          seq + 1,
			          record_error->message,
			          copy != NULL ? copy : "(copy failed)");
		}
		seq++;
		replayed++;
		offset = next;
	}
	if (offset < len && !gw_dm_store_truncate_journal(self, offset, &error)) {
		g_warning("%s", error->message);
		return;
	}
	self->journal_fd = open(self->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (self->journal_fd < 0) {
		g_warning("cannot open %s: %s", self->journal_path, g_strerror(errno));
		return;
	}
	self->journal_size = offset;
	self->journal_seq = seq;
	g_debug("replayed %u journal record(s) from %s", replayed, self->journal_path);
}

/*
 * ".tree.state.tmp-XXXXXX", ".tree.journal.tmp-XXXXXX": what g_mkstemp_full() made of our
 * templates (GW_DM_STORE_TEMP). Hidden and marked, so that no name an administrator gives a
 * copy ("tree.state.backup", "tree.state.old123") is ever taken for one. The pattern before
 * (a bare "tree.state.XXXXXX") is not removed: it cannot be told from such a copy, and only a
 * kill during a compaction of a build before this one left it.
 */
#define GW_DM_STORE_TEMP_PREFIX "."
#define GW_DM_STORE_TEMP_SUFFIX ".tmp-"

static gboolean
gw_dm_store_is_temporary(const gchar *name)
{
	static const gchar *const prefixes[] = {
	    GW_DM_STORE_TEMP_PREFIX GW_DM_STORE_FILE GW_DM_STORE_TEMP_SUFFIX,
	    GW_DM_STORE_TEMP_PREFIX GW_DM_JOURNAL_FILE GW_DM_STORE_TEMP_SUFFIX,
	};

	for (guint i = 0; i < G_N_ELEMENTS(prefixes); i++) {
		const gchar *rest;
		if (!g_str_has_prefix(name, prefixes[i]))
			continue;
		rest = name + strlen(prefixes[i]);
		if (strlen(rest) != 6)
			return FALSE;
		for (const gchar *p = rest; *p != '\0'; p++) {
			if (!g_ascii_isalnum(*p))
				return FALSE;
		}
		return TRUE;
	}
	return FALSE;
}

/*
 * A kill while a compaction wrote its temporary files leaves them behind: nothing else would
 * ever remove them. Only regular files of our own naming pattern go (never *.corrupt-*, which
 * are kept for a human), each with a log line.
 */
static void
gw_dm_store_remove_temporaries(GwDmStore *self)
{
	g_autoptr(GDir) dir = g_dir_open(self->state_dir, 0, NULL);
	const gchar *name;

	if (dir == NULL)
		return;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = NULL;
		GStatBuf st;

		if (!gw_dm_store_is_temporary(name))
			continue;
		path = g_build_filename(self->state_dir, name, NULL);
		if (g_lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (g_unlink(path) != 0) {
			g_warning("cannot remove the stale temporary file %s: %s",
			          path,
			          g_strerror(errno));
			continue;
		}
		g_message("removed %s (%" G_GINT64_FORMAT " bytes), left by a write that was "
		          "interrupted",
		          path,
		          (gint64)st.st_size);
	}
}

gboolean
gw_dm_store_load(GwDmStore *self, GError **error)
{
	g_autofree gchar *data = NULL;
	g_autofree gchar *kept = NULL;
	g_autofree gchar *kept_journal = NULL;
	g_autoptr(GError) error_local = NULL;
	gchar sha[65] = {0};
	GStatBuf st;
	gsize len = 0;
	gboolean ok;

	g_return_val_if_fail(GW_IS_DM_STORE(self), FALSE);

	gw_dm_store_close_journal(self);
	gw_dm_store_remove_temporaries(self);
	if (g_stat(self->path, &st) != 0) {
		if (errno == ENOENT) {
			g_debug("no state file %s", self->path);
			return TRUE;
		}
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot stat %s: %s",
		            self->path,
		            g_strerror(errno));
		return FALSE;
	}
	/* no bound on the size: whatever was acknowledged is loaded again (the limits are checked
	 * when a change is made; only memory limits what the file may hold) */
	if (!S_ISREG(st.st_mode)) {
		g_set_error_literal(
		    &error_local, GW_ERROR, GW_ERROR_CORRUPT_STATE, "not a regular file");
	} else if (!g_file_get_contents(self->path, &data, &len, &error_local)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot read %s: %s",
		            self->path,
		            error_local->message);
		return FALSE;
	} else {
		/* what the disk holds is not a change to record */
		self->replaying = TRUE;
		ok = gw_dm_store_load_data(self, data, len, sha, &error_local);
		if (ok) {
			memcpy(self->state_sha, sha, sizeof(sha));
			self->state_size = len;
			gw_dm_store_replay_journal(self);
		}
		self->replaying = FALSE;
		if (ok) {
			g_byte_array_set_size(self->pending, 0);
			self->needs_full = FALSE;
			self->saved_generation = gw_dm_tree_get_generation(self->tree);
			self->has_saved_generation = TRUE;
			g_debug("loaded %s (%" G_GSIZE_FORMAT " bytes)", self->path, len);
			return TRUE;
		}
	}

	kept = gw_dm_store_keep_corrupt(self->path);
	/* the journal continues the corrupt state: it goes aside with it */
	if (g_file_test(self->journal_path, G_FILE_TEST_EXISTS))
		kept_journal = gw_dm_store_keep_corrupt(self->journal_path);
	g_warning("state file %s is corrupt (%s); kept as %s%s%s",
	          self->path,
	          error_local->message,
	          kept != NULL ? kept : "(rename failed)",
	          kept_journal != NULL ? ", its journal as " : "",
	          kept_journal != NULL ? kept_journal : "");
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_CORRUPT_STATE,
	            "state file %s is corrupt (%s); kept as %s",
	            self->path,
	            error_local->message,
	            kept != NULL ? kept : "(rename failed)");
	return FALSE;
}

/* ---- save ---- */

static gboolean
gw_dm_store_write_all(int fd, const gchar *data, gsize len, GError **error)
{
	while (len > 0) {
		gssize n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_FAILED,
			            "write failed: %s",
			            g_strerror(errno));
			return FALSE;
		}
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

static gboolean
gw_dm_store_fsync_dir(const gchar *dir, GError **error)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_FAILED, "cannot open %s: %s", dir, g_strerror(errno));
		return FALSE;
	}
	rc = fsync(fd);
	close(fd);
	if (rc != 0 && errno != EINVAL) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_FAILED, "cannot sync %s: %s", dir, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* writes a temporary file in the state directory and fsyncs it; returns its fd (open, for
 * appending when @keep_open) or -1 */
static int
gw_dm_store_write_temp(GwDmStore *self,
                       const gchar *name,
                       const gchar *header,
                       const gchar *body,
                       gsize body_len,
                       gboolean keep_open,
                       gchar **tmp_out,
                       GError **error)
{
	g_autofree gchar *templ =
	    g_strconcat(GW_DM_STORE_TEMP_PREFIX, name, GW_DM_STORE_TEMP_SUFFIX "XXXXXX", NULL);
	g_autofree gchar *tmp = g_build_filename(self->state_dir, templ, NULL);
	int fd;

	fd = g_mkstemp_full(tmp, O_RDWR | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot create a temporary file in %s: %s",
		            self->state_dir,
		            g_strerror(errno));
		return -1;
	}
	if (!gw_dm_store_write_all(fd, header, strlen(header), error) ||
	    !gw_dm_store_write_all(fd, body, body_len, error)) {
		close(fd);
		g_unlink(tmp);
		return -1;
	}
	if (fsync(fd) != 0) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_FAILED, "fsync failed: %s", g_strerror(errno));
		close(fd);
		g_unlink(tmp);
		return -1;
	}
	if (!keep_open) {
		if (close(fd) != 0) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_FAILED,
			            "close failed: %s",
			            g_strerror(errno));
			g_unlink(tmp);
			return -1;
		}
		fd = G_MAXINT;
	}
	*tmp_out = g_steal_pointer(&tmp);
	return fd;
}

static gboolean
gw_dm_store_rename(const gchar *from, const gchar *to, GError **error)
{
	if (g_rename(from, to) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot rename %s to %s: %s",
		            from,
		            to,
		            g_strerror(errno));
		g_unlink(from);
		return FALSE;
	}
	return TRUE;
}

/*
 * Compaction: the whole tree goes into a new tree.state, then an empty journal naming that
 * state replaces tree.journal. Each rename is made durable (fsync of the directory) before
 * the next step: a crash in between leaves either the old pair (old state + its journal, all
 * records acknowledged so far) or the new state with a journal that names the old one, which
 * the next load skips.
 */
gboolean
gw_dm_store_save(GwDmStore *self, GError **error)
{
	g_autoptr(GByteArray) snapshot = g_byte_array_new();
	g_autofree gchar *sum = NULL;
	g_autofree gchar *header = NULL;
	g_autofree gchar *journal_header = NULL;
	g_autofree gchar *state_tmp = NULL;
	g_autofree gchar *journal_tmp = NULL;
	const gchar *body;
	guint64 generation;
	gsize len;
	int fd;

	g_return_val_if_fail(GW_IS_DM_STORE(self), FALSE);

	gw_dm_store_wait_writer(self);
	generation = gw_dm_tree_get_generation(self->tree);
	/* the whole tree as one compact journal operation: a fraction of TNDS's size, loaded back
	 * without an XML parser (20,000 devices: 136 MiB of TNDS took 10 s and 1 GiB to load);
	 * names, types, ACLs and common values spelled out once (issue 16: 1,389 bytes per
	 * device in version 2) */
	gw_dm_journal_encode_tree(snapshot, ".", gw_dm_tree_get_root(self->tree));
	body = (const gchar *)snapshot->data;
	len = snapshot->len;
	sum = gw_dm_store_sha256(body, len);
	header = g_strdup_printf(GW_DM_STORE_MAGIC " %u length=%" G_GSIZE_FORMAT " sha256=%s\n",
	                         (guint)GW_DM_STORE_VERSION,
	                         len,
	                         sum);
	journal_header = gw_dm_journal_header(sum);
	if (g_mkdir_with_parents(self->state_dir, 0700) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot create %s: %s",
		            self->state_dir,
		            g_strerror(errno));
		return FALSE;
	}
	if (gw_dm_store_write_temp(
	        self, GW_DM_STORE_FILE, header, body, len, FALSE, &state_tmp, error) < 0)
		return FALSE;
	fd = gw_dm_store_write_temp(
	    self, GW_DM_JOURNAL_FILE, journal_header, "", 0, TRUE, &journal_tmp, error);
	if (fd < 0) {
		g_unlink(state_tmp);
		return FALSE;
	}
	if (!gw_dm_store_rename(state_tmp, self->path, error) ||
	    !gw_dm_store_fsync_dir(self->state_dir, error)) {
		close(fd);
		g_unlink(journal_tmp);
		return FALSE;
	}
	/* the old journal is no longer needed from here on, whatever happens next */
	gw_dm_store_close_journal(self);
	memcpy(self->state_sha, sum, sizeof(self->state_sha));
	self->state_size = strlen(header) + len;
	self->saved_generation = generation;
	self->has_saved_generation = TRUE;
	self->save_count++;
	g_byte_array_set_size(self->pending, 0);
	self->needs_full = FALSE;
	g_debug("saved %s (%" G_GSIZE_FORMAT " bytes, generation %" G_GUINT64_FORMAT ")",
	        self->path,
	        len,
	        generation);
	if (!gw_dm_store_rename(journal_tmp, self->journal_path, error) ||
	    !gw_dm_store_fsync_dir(self->state_dir, error)) {
		/* the state is safe; the next flush writes everything again */
		close(fd);
		self->needs_full = TRUE;
		return FALSE;
	}
	self->journal_fd = fd;
	self->journal_size = strlen(journal_header);
	self->journal_seq = 0;
	return TRUE;
}

/* the pending changes can go to the journal as a record (else a whole-tree save it is) */
static gboolean
gw_dm_store_can_append(GwDmStore *self)
{
	return self->has_saved_generation && !self->needs_full && self->journal_fd >= 0 &&
	       self->pending->len > 0;
}

/* after a durable append: folds the journal into tree.state once it outgrew its bound */
static void
gw_dm_store_bound_journal(GwDmStore *self)
{
	g_autoptr(GError) error = NULL;

	if (self->journal_size > gw_dm_store_journal_bound(self) && !gw_dm_store_save(self, &error))
		g_warning("cannot compact the journal: %s", error->message);
}

/* appends the pending changes as one record and makes it durable */
static gboolean
gw_dm_store_append(GwDmStore *self, GError **error)
{
	g_autoptr(GByteArray) record = NULL;
	guint64 generation = gw_dm_tree_get_generation(self->tree);

	record =
	    gw_dm_journal_frame(self->journal_seq + 1, self->pending->data, self->pending->len);
	if (!gw_dm_store_write_all(
	        self->journal_fd, (const gchar *)record->data, record->len, error) ||
	    fdatasync(self->journal_fd) != 0) {
		if (error != NULL && *error == NULL)
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_FAILED,
			            "fdatasync of %s failed: %s",
			            self->journal_path,
			            g_strerror(errno));
		/* a part of the record may be in the file: never append after it; the next
		 * flush writes a new state file and journal */
		g_prefix_error(error, "%s: ", self->journal_path);
		gw_dm_store_close_journal(self);
		self->needs_full = TRUE;
		return FALSE;
	}
	self->journal_seq++;
	self->journal_size += record->len;
	self->append_count++;
	self->saved_generation = generation;
	g_byte_array_set_size(self->pending, 0);
	g_debug("appended journal record %" G_GUINT64_FORMAT
	        " (%u bytes, generation %" G_GUINT64_FORMAT ")",
	        self->journal_seq,
	        record->len,
	        generation);
	return TRUE;
}

gboolean
gw_dm_store_flush(GwDmStore *self, GError **error)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), FALSE);

	gw_dm_store_wait_writer(self);
	if (self->has_saved_generation &&
	    self->saved_generation == gw_dm_tree_get_generation(self->tree))
		return TRUE;
	if (!gw_dm_store_can_append(self))
		return gw_dm_store_save(self, error);
	if (!gw_dm_store_append(self, error))
		return FALSE;
	/* the change is durable; the compaction only bounds the journal */
	gw_dm_store_bound_journal(self);
	return TRUE;
}

gboolean
gw_dm_store_compact(GwDmStore *self, GError **error)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), FALSE);

	if (self->has_saved_generation &&
	    self->saved_generation == gw_dm_tree_get_generation(self->tree) &&
	    self->journal_fd >= 0 && self->journal_seq == 0 && !self->needs_full)
		return TRUE;
	return gw_dm_store_save(self, error);
}

/* ---- group commit ---- */

/*
 * The append and fdatasync of a group commit run in a thread of GTask's pool, one at a time:
 * the main loop goes on serving sessions while the disk works, and whatever they change
 * meanwhile waits in `pending` for the next record. A commit is answered only after the
 * fdatasync of a record that holds its changes returned (or a whole-tree save did).
 */

/* main thread: takes the outcome of @w into the bookkeeping, once */
static void
gw_dm_store_settle(GwDmStore *self, GwDmStoreWrite *w)
{
	if (w->settled)
		return;
	w->settled = TRUE;
	if (w->failure == NULL) {
		if (!self->has_saved_generation || w->generation > self->saved_generation)
			self->saved_generation = w->generation;
		self->has_saved_generation = TRUE;
		g_debug("appended journal record %" G_GUINT64_FORMAT
		        " (%u bytes, generation %" G_GUINT64_FORMAT ")",
		        w->sequence,
		        w->record->len,
		        w->generation);
		return;
	}
	g_warning("%s", w->failure);
	/* a part of the record may be in the file: never append after it; the changes it held
	 * are only in memory now, the next flush writes a new state file and journal */
	if (self->journal_fd == w->fd) {
		close(self->journal_fd);
		self->journal_fd = -1;
	}
	self->needs_full = TRUE;
	g_byte_array_set_size(self->pending, 0);
}

/* main thread: blocks until the writer thread is done with the journal fd */
static void
gw_dm_store_wait_writer(GwDmStore *self)
{
	if (self->writing == NULL)
		return;
	g_mutex_lock(&self->write_lock);
	while (self->write_busy)
		g_cond_wait(&self->write_cond, &self->write_lock);
	g_mutex_unlock(&self->write_lock);
	gw_dm_store_settle(self, self->writing);
}

static void
gw_dm_store_write_thread(GTask *task,
                         gpointer source,
                         gpointer task_data,
                         GCancellable *cancellable)
{
	GwDmStore *self = GW_DM_STORE(source);
	GwDmStoreWrite *w = task_data;
	g_autoptr(GError) error = NULL;

	if (!gw_dm_store_write_all(w->fd, (const gchar *)w->record->data, w->record->len, &error))
		w->failure =
		    g_strdup_printf("cannot append to %s: %s", self->journal_path, error->message);
	else if (fdatasync(w->fd) != 0)
		w->failure = g_strdup_printf(
		    "fdatasync of %s failed: %s", self->journal_path, g_strerror(errno));
	g_mutex_lock(&self->write_lock);
	self->write_busy = FALSE;
	g_cond_broadcast(&self->write_cond);
	g_mutex_unlock(&self->write_lock);
	g_task_return_boolean(task, TRUE);
}

static void
gw_dm_store_return_commits(GPtrArray *tasks, const GError *error)
{
	for (guint i = 0; tasks != NULL && i < tasks->len; i++) {
		GTask *task = g_ptr_array_index(tasks, i);
		if (error == NULL)
			g_task_return_boolean(task, TRUE);
		else
			g_task_return_error(task, g_error_copy(error));
	}
}

static gboolean
gw_dm_store_commit_cb(gpointer user_data);

static void
gw_dm_store_schedule_commit(GwDmStore *self)
{
	if (self->commit_id != 0 || self->writing != NULL)
		return;
	/* below the default priority: what arrived together (bus calls, server messages of
	 * concurrent sessions) runs first and shares the append + fdatasync */
	self->commit_id = g_idle_add_full(
	    G_PRIORITY_DEFAULT_IDLE, gw_dm_store_commit_cb, g_object_ref(self), g_object_unref);
}

static void
gw_dm_store_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwDmStore *self = GW_DM_STORE(source);
	GwDmStoreWrite *w = g_task_get_task_data(G_TASK(res));
	g_autoptr(GError) error = NULL;
	gboolean failed;

	gw_dm_store_settle(self, w);
	failed = w->failure != NULL;
	self->writing = NULL;
	/* the record's changes are only in memory: a whole-tree save holds them (and all since) */
	if (failed && !gw_dm_store_flush(self, &error))
		g_warning("cannot store the DM tree: %s", error->message);
	/* the changes are durable; the compaction only bounds the journal */
	if (!failed)
		gw_dm_store_bound_journal(self);
	gw_dm_store_return_commits(w->tasks, error);
	/* what changed while the disk worked */
	if ((self->commits != NULL && self->commits->len > 0) ||
	    (self->autosave && (!self->has_saved_generation ||
	                        self->saved_generation != gw_dm_tree_get_generation(self->tree))))
		gw_dm_store_schedule_commit(self);
}

static gboolean
gw_dm_store_commit_cb(gpointer user_data)
{
	GwDmStore *self = GW_DM_STORE(user_data);
	g_autoptr(GPtrArray) tasks = g_steal_pointer(&self->commits);
	g_autoptr(GError) error = NULL;
	g_autoptr(GTask) task = NULL;
	GwDmStoreWrite *w;
	guint64 generation = gw_dm_tree_get_generation(self->tree);

	self->commit_id = 0;
	if (self->idle_id != 0) {
		/* this commit writes what the autosave would */
		g_source_remove(self->idle_id);
		self->idle_id = 0;
	}
	if (self->writing != NULL) {
		/* one record at a time; gw_dm_store_written_cb() comes back here */
		self->commits = g_steal_pointer(&tasks);
		return G_SOURCE_REMOVE;
	}
	if (self->has_saved_generation && self->saved_generation == generation) {
		gw_dm_store_return_commits(tasks, NULL);
		return G_SOURCE_REMOVE;
	}
	if (!gw_dm_store_can_append(self)) {
		/* no journal to append to: a whole-tree save, here */
		if (!gw_dm_store_save(self, &error))
			g_warning("cannot store the DM tree: %s", error->message);
		gw_dm_store_return_commits(tasks, error);
		return G_SOURCE_REMOVE;
	}
	w = g_new0(GwDmStoreWrite, 1);
	w->fd = self->journal_fd;
	w->sequence = self->journal_seq + 1;
	w->generation = generation;
	w->record = gw_dm_journal_frame(w->sequence, self->pending->data, self->pending->len);
	w->tasks = g_steal_pointer(&tasks);
	self->journal_seq = w->sequence;
	self->journal_size += w->record->len;
	self->append_count++;
	g_byte_array_set_size(self->pending, 0);
	self->writing = w;
	self->write_busy = TRUE;
	task = g_task_new(self, NULL, gw_dm_store_written_cb, NULL);
	g_task_set_source_tag(task, gw_dm_store_commit_cb);
	g_task_set_task_data(task, w, (GDestroyNotify)gw_dm_store_write_free);
	g_task_run_in_thread(task, gw_dm_store_write_thread);
	return G_SOURCE_REMOVE;
}

void
gw_dm_store_commit_async(GwDmStore *self, GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task;

	g_return_if_fail(GW_IS_DM_STORE(self));

	task = g_task_new(self, NULL, callback, user_data);
	g_task_set_source_tag(task, gw_dm_store_commit_async);
	if (self->commits == NULL)
		self->commits = g_ptr_array_new_with_free_func(g_object_unref);
	g_ptr_array_add(self->commits, task);
	gw_dm_store_schedule_commit(self);
}

gboolean
gw_dm_store_commit_finish(GwDmStore *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* ---- recording and autosave ---- */

static gboolean
gw_dm_store_idle_cb(gpointer user_data)
{
	GwDmStore *self = GW_DM_STORE(user_data);
	g_autoptr(GError) error = NULL;

	self->idle_id = 0;
	/* the append and fdatasync run in the writer thread, as a group commit's */
	if (self->writing == NULL && gw_dm_store_can_append(self)) {
		gw_dm_store_schedule_commit(self);
		return G_SOURCE_REMOVE;
	}
	if (self->writing == NULL && !gw_dm_store_flush(self, &error))
		g_warning("cannot save the DM tree: %s", error->message);
	return G_SOURCE_REMOVE;
}

static void
gw_dm_store_record(GwDmStore *self, const gchar *uri, GwDmChange change)
{
	GwDmNode *node;

	if (self->needs_full)
		return;
	if (change == GW_DM_CHANGE_DELETED) {
		gw_dm_journal_encode_delete(self->pending, uri);
		return;
	}
	node = gw_dm_tree_lookup(self->tree, uri);
	if (node == NULL || (change != GW_DM_CHANGE_PROPERTIES && strcmp(uri, ".") == 0)) {
		/* the whole tree was replaced (Atomic rollback): a new state file it is */
		self->needs_full = TRUE;
	} else if (change == GW_DM_CHANGE_ADDED) {
		/* compact: a registration's record is a fifth of its 'A' size */
		gw_dm_journal_encode_tree(self->pending, uri, node);
	} else {
		gw_dm_journal_encode_node(self->pending, uri, node);
	}
	if (self->pending->len > GW_DM_STORE_MAX_PENDING)
		self->needs_full = TRUE;
	if (self->needs_full)
		g_byte_array_set_size(self->pending, 0);
}

static void
gw_dm_store_changed_cb(GwDmTree *tree,
                       const gchar *uri,
                       guint change,
                       const gchar *server_id,
                       gpointer user_data)
{
	GwDmStore *self = GW_DM_STORE(user_data);

	if (self->replaying)
		return;
	gw_dm_store_record(self, uri, (GwDmChange)change);
	if (!self->autosave || self->idle_id != 0)
		return;
	self->idle_id = g_idle_add(gw_dm_store_idle_cb, self);
}

/* the idle source does not hold a reference: disposing the store cancels a pending flush,
 * so call gw_dm_store_flush() before dropping the store on shutdown */
void
gw_dm_store_set_autosave(GwDmStore *self, gboolean autosave)
{
	g_return_if_fail(GW_IS_DM_STORE(self));

	self->autosave = !!autosave;
	if (!self->autosave && self->idle_id != 0) {
		g_source_remove(self->idle_id);
		self->idle_id = 0;
	}
}
