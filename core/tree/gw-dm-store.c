/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwStore"

#include "config.h"

#include <gnutls/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw-dm-store.h"
#include "gw-tnds.h"

#define GW_DM_STORE_FILE "tree.state"
#define GW_DM_STORE_MAGIC "GWMO-STATE"
#define GW_DM_STORE_VERSION 1
#define GW_DM_STORE_MAX_HEADER 256
#define GW_DM_STORE_MAX_BODY (16 * 1024 * 1024)
#define GW_DM_STORE_EXPORT_FLAGS \
	(GW_TNDS_EXPORT_VALUES | GW_TNDS_EXPORT_SECRETS | GW_TNDS_EXPORT_DF_PROPERTIES)

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
};

G_DEFINE_FINAL_TYPE(GwDmStore, gw_dm_store, G_TYPE_OBJECT)

static void
gw_dm_store_dispose(GObject *object)
{
	GwDmStore *self = GW_DM_STORE(object);

	if (self->idle_id != 0) {
		g_source_remove(self->idle_id);
		self->idle_id = 0;
	}
	if (self->tree != NULL && self->changed_id != 0) {
		g_signal_handler_disconnect(self->tree, self->changed_id);
		self->changed_id = 0;
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
}

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
	return self;
}

const gchar *
gw_dm_store_get_path(GwDmStore *self)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), NULL);
	return self->path;
}

guint64
gw_dm_store_get_save_count(GwDmStore *self)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), 0);
	return self->save_count;
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

/* parses "GWMO-STATE 1 length=<n> sha256=<hex>\n"; returns the body offset or 0 */
static gsize
gw_dm_store_parse_header(const gchar *data, gsize len, guint64 *length, gchar *sha, GError **error)
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
	    version != GW_DM_STORE_VERSION) {
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
	return (gsize)(nl - data) + 1;
}

/* checks the file and imports it; on failure @error is GW_ERROR_CORRUPT_STATE */
static gboolean
gw_dm_store_load_data(GwDmStore *self, const gchar *data, gsize len, GError **error)
{
	g_autofree gchar *sum = NULL;
	g_autoptr(GError) error_local = NULL;
	gchar sha[65] = {0};
	guint64 length = 0;
	gsize offset;

	offset = gw_dm_store_parse_header(data, len, &length, sha, error);
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
	if (!gw_tnds_import(self->tree,
	                    ".",
	                    data + offset,
	                    len - offset,
	                    GW_TNDS_IMPORT_REPLACE,
	                    &error_local)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "body does not import: %s",
		            error_local->message);
		return FALSE;
	}
	return TRUE;
}

static gchar *
gw_dm_store_keep_corrupt(GwDmStore *self)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree gchar *target = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, self->path, now);

	/* never overwrite an earlier corrupt file kept in the same second */
	for (guint i = 1; g_file_test(target, G_FILE_TEST_EXISTS) && i < 1000; i++) {
		g_free(target);
		target = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT ".%u", self->path, now, i);
	}
	if (g_rename(self->path, target) != 0) {
		g_warning("cannot rename %s to %s: %s", self->path, target, g_strerror(errno));
		return NULL;
	}
	return g_steal_pointer(&target);
}

gboolean
gw_dm_store_load(GwDmStore *self, GError **error)
{
	g_autofree gchar *data = NULL;
	g_autofree gchar *kept = NULL;
	g_autoptr(GError) error_local = NULL;
	GStatBuf st;
	gsize len = 0;

	g_return_val_if_fail(GW_IS_DM_STORE(self), FALSE);

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
	if (!S_ISREG(st.st_mode) ||
	    (gsize)st.st_size > GW_DM_STORE_MAX_BODY + GW_DM_STORE_MAX_HEADER) {
		g_set_error_literal(&error_local,
		                    GW_ERROR,
		                    GW_ERROR_CORRUPT_STATE,
		                    "not a regular file or too large");
	} else if (!g_file_get_contents(self->path, &data, &len, &error_local)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot read %s: %s",
		            self->path,
		            error_local->message);
		return FALSE;
	} else if (gw_dm_store_load_data(self, data, len, &error_local)) {
		self->saved_generation = gw_dm_tree_get_generation(self->tree);
		self->has_saved_generation = TRUE;
		g_debug("loaded %s (%" G_GSIZE_FORMAT " bytes)", self->path, len);
		return TRUE;
	}

	kept = gw_dm_store_keep_corrupt(self);
	g_warning("state file %s is corrupt (%s); kept as %s",
	          self->path,
	          error_local->message,
	          kept != NULL ? kept : "(rename failed)");
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

static gboolean
gw_dm_store_write_file(GwDmStore *self,
                       const gchar *header,
                       const gchar *body,
                       gsize body_len,
                       GError **error)
{
	g_autofree gchar *tmp = g_build_filename(self->state_dir, GW_DM_STORE_FILE ".XXXXXX", NULL);
	int fd;

	fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot create a temporary file in %s: %s",
		            self->state_dir,
		            g_strerror(errno));
		return FALSE;
	}
	if (!gw_dm_store_write_all(fd, header, strlen(header), error) ||
	    !gw_dm_store_write_all(fd, body, body_len, error)) {
		close(fd);
		g_unlink(tmp);
		return FALSE;
	}
	if (fsync(fd) != 0) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_FAILED, "fsync failed: %s", g_strerror(errno));
		close(fd);
		g_unlink(tmp);
		return FALSE;
	}
	if (close(fd) != 0) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_FAILED, "close failed: %s", g_strerror(errno));
		g_unlink(tmp);
		return FALSE;
	}
	if (g_rename(tmp, self->path) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot rename %s to %s: %s",
		            tmp,
		            self->path,
		            g_strerror(errno));
		g_unlink(tmp);
		return FALSE;
	}
	return gw_dm_store_fsync_dir(self->state_dir, error);
}

gboolean
gw_dm_store_save(GwDmStore *self, GError **error)
{
	g_autofree gchar *body = NULL;
	g_autofree gchar *sum = NULL;
	g_autofree gchar *header = NULL;
	guint64 generation;
	gsize len;

	g_return_val_if_fail(GW_IS_DM_STORE(self), FALSE);

	generation = gw_dm_tree_get_generation(self->tree);
	body = gw_tnds_export(self->tree, ".", NULL, GW_DM_STORE_EXPORT_FLAGS, error);
	if (body == NULL)
		return FALSE;
	len = strlen(body);
	sum = gw_dm_store_sha256(body, len);
	header = g_strdup_printf(GW_DM_STORE_MAGIC " %u length=%" G_GSIZE_FORMAT " sha256=%s\n",
	                         (guint)GW_DM_STORE_VERSION,
	                         len,
	                         sum);
	if (g_mkdir_with_parents(self->state_dir, 0700) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot create %s: %s",
		            self->state_dir,
		            g_strerror(errno));
		return FALSE;
	}
	if (!gw_dm_store_write_file(self, header, body, len, error))
		return FALSE;
	self->saved_generation = generation;
	self->has_saved_generation = TRUE;
	self->save_count++;
	g_debug("saved %s (%" G_GSIZE_FORMAT " bytes, generation %" G_GUINT64_FORMAT ")",
	        self->path,
	        len,
	        generation);
	return TRUE;
}

gboolean
gw_dm_store_flush(GwDmStore *self, GError **error)
{
	g_return_val_if_fail(GW_IS_DM_STORE(self), FALSE);

	if (self->has_saved_generation &&
	    self->saved_generation == gw_dm_tree_get_generation(self->tree))
		return TRUE;
	return gw_dm_store_save(self, error);
}

/* ---- autosave ---- */

static gboolean
gw_dm_store_idle_cb(gpointer user_data)
{
	GwDmStore *self = GW_DM_STORE(user_data);
	g_autoptr(GError) error = NULL;

	self->idle_id = 0;
	if (!gw_dm_store_flush(self, &error))
		g_warning("cannot save the DM tree: %s", error->message);
	return G_SOURCE_REMOVE;
}

static void
gw_dm_store_changed_cb(GwDmTree *tree,
                       const gchar *uri,
                       guint change,
                       const gchar *server_id,
                       gpointer user_data)
{
	GwDmStore *self = GW_DM_STORE(user_data);

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
	if (self->autosave && self->changed_id == 0) {
		self->changed_id = g_signal_connect(
		    self->tree, "changed", G_CALLBACK(gw_dm_store_changed_cb), self);
	} else if (!self->autosave) {
		if (self->changed_id != 0) {
			g_signal_handler_disconnect(self->tree, self->changed_id);
			self->changed_id = 0;
		}
		if (self->idle_id != 0) {
			g_source_remove(self->idle_id);
			self->idle_id = 0;
		}
	}
}
