/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwImages"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "gw-dm-auth.h"
#include "gw-dm-owner.h"
#include "gw-error.h"
#include "gw-gwmo-names.h"
#include "gw-http-download.h"
#include "gw-image-store.h"
#include "gw-log.h"

#define GW_IMAGE_MIME "text/plain"
#define GW_IMAGE_RETRIES 8
#define GW_IMAGE_BACKOFF_MS 200
#define GW_IMAGE_REALM "gwmo-images"
/* the key of the image URLs (spec/GWMO.md §9), in the state directory, mode 0600 */
#define GW_IMAGE_URL_KEY_FILE "image-url.key"
#define GW_IMAGE_URL_KEY_LEN 32

#define ACCESS_GET GW_DM_ACCESS_GET
#define ACCESS_GET_REPLACE (GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE)
#define ACCESS_GET_EXEC (GW_DM_ACCESS_GET | GW_DM_ACCESS_EXEC)
#define ACCESS_GET_ADD (GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD)
#define ACCESS_TARGET (GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_DELETE)
#define ACCESS_ENTRY \
	(GW_DM_ACCESS_GET | GW_DM_ACCESS_ADD | GW_DM_ACCESS_REPLACE | GW_DM_ACCESS_DELETE)

/* a signed URL that verified (its signature is the key): the HMAC is not computed again */
typedef struct {
	gchar *device_id;
	gchar *exp;
} GwImageSigned;

/* bodies up to this size leave with sendfile() over plain http (gwmod's CPU per 64 KiB
 * response -40 %); larger ones are written from the mapping, which moved 64 MiB bodies ~1.5x
 * faster on loopback under wrk (docs/benchmarks.md, "Image serving under wrk") */
#define GW_IMAGE_SENDFILE_MAX ((gsize)1024 * 1024)

/* bounds of the caches of one image: past them a cache starts afresh */
#define GW_IMAGE_SERVE_MAX_SIGNED 256
#define GW_IMAGE_SERVE_MAX_DEVICES 4096

/*
 * What serving one image needs, kept between requests (a GET of a small image used to look
 * every entry up in the tree, stat() the file and parse ACLs each time). The lookup holds while
 * the tree's generation does not move: every change of an entry, its Targets, a group, a
 * server's ImageStore or the inventory bumps it. Only images with an Available entry and a
 * file are kept; the entry goes with its file (gw_image_forget_mapping()).
 */
typedef struct {
	guint64 generation;  /* of the tree when the lookup below was made */
	gboolean servable;   /* an Available entry and its file (else 404) */
	gboolean any_store;  /* one of them whose owning server allows local retrieval (else 403) */
	guint64 size;        /* of the file at the lookup */
	gchar **entries;     /* those Available entries whose owner allows the store */
	GHashTable *devices; /* DeviceID → GINT_TO_POINTER(1: among the targets, 2: not) */
	GHashTable *signatures; /* signature → GwImageSigned */
	gchar *etag;
	GBytes *whole; /* the file mapped (GwImageFileMap), nullable until a body is served */
	gint fd;       /* its descriptor, open while @whole lives (sendfile() reads it) */
} GwImageServe;

/* a mapped image file and its descriptor: both go with the last reference to its bytes */
typedef struct {
	GMappedFile *mapped;
	gint fd;
} GwImageFileMap;

/* one running download: one per hash, shared by every entry with that hash (DCIS-002) */
typedef struct {
	GwImageStore *self;
	gchar *sha;
	gchar *uri;
	GCancellable *cancellable;
	guint last_percent;
	gint64 last_write;
} GwImageDownload;

struct _GwImageStore {
	GObject parent_instance;
	GwConfig *config;
	GwDmTree *tree;
	GwInventory *inventory;
	GwNorthbound *northbound; /* nullable */
	gchar *dir;
	gchar *state_dir;
	gchar *ca_file;
	gchar *base_url; /* "http://host:port", no trailing slash; nullable until attached */
	guint64 quota;
	GBytes *url_key;         /* signs the devices' image URLs; only the gateway holds it */
	gint64 url_lifetime;     /* seconds a signed URL stays valid */
	GHashTable *downloads;   /* sha → GwImageDownload */
	GHashTable *serving;     /* sha → GwImageServe */
	GHashTable *correlators; /* entry URI → Exec correlator */
	gulong changed_id;
	guint exec_download_id;
	guint exec_remove_id;
	GwDmOwner owner; /* the writes of the module itself */
	guint download_count;
	gboolean started;
};

G_DEFINE_TYPE(GwImageStore, gw_image_store, G_TYPE_OBJECT)

enum { SIGNAL_IMAGE_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

static const gchar *entry_leaves_owned_by_server[] = {"Name",
                                                      "Version",
                                                      "Kind",
                                                      "ExternalURI",
                                                      "Hash"};

/* ---- small helpers ---- */

gchar *
gw_image_store_parse_hash(const gchar *hash)
{
	const gchar *hex;

	if (hash == NULL || !g_str_has_prefix(hash, "sha256:"))
		return NULL;
	hex = hash + strlen("sha256:");
	if (strlen(hex) != 64)
		return NULL;
	for (const gchar *p = hex; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p))
			return NULL;
	}
	return g_ascii_strdown(hex, -1);
}

static gboolean
gw_image_sha_is_valid(const gchar *sha)
{
	if (sha == NULL || strlen(sha) != 64)
		return FALSE;
	for (const gchar *p = sha; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
			return FALSE;
	}
	return TRUE;
}

static gboolean
gw_image_parse_u64(const gchar *s, gsize len, guint64 *out)
{
	guint64 v = 0;
	if (len == 0 || len > 19)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
		v = v * 10 + (guint64)(s[i] - '0');
	}
	*out = v;
	return TRUE;
}

GwImageRange
gw_image_store_parse_range(const gchar *header, guint64 size, guint64 *start, guint64 *end)
{
	const gchar *spec;
	const gchar *dash;
	guint64 a = 0;
	guint64 b = 0;

	if (header == NULL)
		return GW_IMAGE_RANGE_NONE;
	while (*header == ' ')
		header++;
	if (g_ascii_strncasecmp(header, "bytes=", 6) != 0)
		return GW_IMAGE_RANGE_NONE; /* other units are ignored (RFC 9110 §14.2) */
	spec = header + 6;
	while (*spec == ' ')
		spec++;
	if (strchr(spec, ',') != NULL)
		return GW_IMAGE_RANGE_NONE; /* several ranges: we send the whole body */
	dash = strchr(spec, '-');
	if (dash == NULL)
		return GW_IMAGE_RANGE_NONE;
	{
		gsize tail = strlen(dash + 1);
		while (tail > 0 && dash[tail] == ' ')
			tail--;
		if (dash == spec) {
			/* suffix: the last b bytes */
			if (!gw_image_parse_u64(dash + 1, tail, &b))
				return GW_IMAGE_RANGE_NONE;
			if (b == 0 || size == 0)
				return GW_IMAGE_RANGE_UNSATISFIABLE;
			*start = b >= size ? 0 : size - b;
			*end = size - 1;
			return GW_IMAGE_RANGE_OK;
		}
		if (!gw_image_parse_u64(spec, (gsize)(dash - spec), &a))
			return GW_IMAGE_RANGE_NONE;
		if (tail == 0) {
			b = size > 0 ? size - 1 : 0;
		} else {
			if (!gw_image_parse_u64(dash + 1, tail, &b))
				return GW_IMAGE_RANGE_NONE;
			if (b < a)
				return GW_IMAGE_RANGE_NONE; /* invalid: ignored */
			if (b >= size && size > 0)
				b = size - 1;
		}
	}
	if (a >= size)
		return GW_IMAGE_RANGE_UNSATISFIABLE;
	*start = a;
	*end = b;
	return GW_IMAGE_RANGE_OK;
}

static gchar *
gw_image_entry_leaf_uri(const gchar *entry_uri, const gchar *leaf)
{
	return g_strdup_printf("%s/%s", entry_uri, leaf);
}

static gchar *
gw_image_dup_leaf(GwImageStore *self, const gchar *entry_uri, const gchar *leaf)
{
	g_autofree gchar *uri = gw_image_entry_leaf_uri(entry_uri, leaf);
	return gw_dm_tree_dup_string(self->tree, uri);
}

static gboolean
gw_image_write_leaf(GwImageStore *self,
                    const gchar *uri,
                    GwDmFormat format,
                    const gchar *value,
                    GwDmAccess access,
                    GError **error)
{
	g_autofree gchar *old = NULL;
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);

	if (value == NULL)
		value = "";
	/* an unchanged value is not written: the store saves on every mutation */
	if (node != NULL && gw_dm_node_is_leaf(node)) {
		old = gw_dm_tree_dup_string(self->tree, uri);
		if (g_strcmp0(old, value) == 0 && gw_dm_node_get_access(node) == access)
			return TRUE;
	}
	if (format == GW_DM_FORMAT_NULL)
		return gw_dm_owner_set_leaf(&self->owner, uri, format, NULL, NULL, access, error);
	return gw_dm_owner_set_leaf(&self->owner, uri, format, GW_IMAGE_MIME, value, access, error);
}

static gboolean
gw_image_write_entry_leaf(GwImageStore *self,
                          const gchar *entry_uri,
                          const gchar *leaf,
                          GwDmFormat format,
                          const gchar *value,
                          GwDmAccess access,
                          GError **error)
{
	g_autofree gchar *uri = gw_image_entry_leaf_uri(entry_uri, leaf);
	return gw_image_write_leaf(self, uri, format, value, access, error);
}

static gboolean
gw_image_write_interior(GwImageStore *self,
                        const gchar *uri,
                        GwDmAccess access,
                        const gchar *acl,
                        GError **error)
{
	return gw_dm_owner_ensure_interior(&self->owner, uri, access, acl, error);
}

/* the ServerID that owns an entry (from its own ACL), NULL for the local owner */
static gchar *
gw_image_entry_owner(GwImageStore *self, const gchar *entry_uri)
{
	GwDmNode *node = gw_dm_tree_lookup(self->tree, entry_uri);
	g_autofree gchar *acl = NULL;
	g_auto(GStrv) parts = NULL;

	if (node == NULL)
		return NULL;
	acl = gw_dm_node_dup_acl(node);
	parts = g_strsplit(acl, "&", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (g_str_has_prefix(parts[i], "Exec=") || g_str_has_prefix(parts[i], "Replace=")) {
			const gchar *v = strchr(parts[i], '=') + 1;
			g_auto(GStrv) ids = g_strsplit(v, "+", 2);
			if (ids[0] != NULL && ids[0][0] != '\0' && g_strcmp0(ids[0], "*") != 0)
				return g_strdup(ids[0]);
		}
	}
	return NULL;
}

/* ./GwMO/Config/Servers/<x>/ImageStore of @server_id (GwMO-DCIS-003); the local owner: TRUE */
static gboolean
gw_image_server_allows_store(GwImageStore *self, const gchar *server_id)
{
	g_auto(GStrv) names = NULL;

	if (server_id == NULL)
		return TRUE;
	names = gw_dm_tree_list_children(self->tree, GW_GWMO_CONFIG_SERVERS);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *sid_uri = g_strdup_printf(
		    GW_GWMO_CONFIG_SERVERS "/%s/" GW_GWMO_SERVER_SERVER_ID, names[i]);
		g_autofree gchar *sid = gw_dm_tree_dup_string(self->tree, sid_uri);
		if (g_strcmp0(sid, server_id) == 0) {
			g_autofree gchar *flag_uri = g_strdup_printf(
			    GW_GWMO_CONFIG_SERVERS "/%s/" GW_GWMO_SERVER_IMAGE_STORE, names[i]);
			g_autofree gchar *flag = gw_dm_tree_dup_string(self->tree, flag_uri);
			return flag == NULL || g_strcmp0(flag, "false") != 0;
		}
	}
	/* a server the gateway has no account for any more */
	return FALSE;
}

GPtrArray *
gw_image_store_list(GwImageStore *self)
{
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, GW_GWMO_IMAGES);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; names != NULL && names[i] != NULL; i++)
		g_ptr_array_add(out, g_strdup_printf(GW_GWMO_IMAGES "/%s", names[i]));
	return out;
}

/* the hash (hex) an entry refers to, NULL when its Hash is missing or malformed */
static gchar *
gw_image_entry_sha(GwImageStore *self, const gchar *entry_uri)
{
	g_autofree gchar *hash = gw_image_dup_leaf(self, entry_uri, "Hash");
	return gw_image_store_parse_hash(hash);
}

static gchar *
gw_image_path(GwImageStore *self, const gchar *sha)
{
	return g_build_filename(self->dir, sha, NULL);
}

static gchar *
gw_image_partial_path(GwImageStore *self, const gchar *sha)
{
	g_autofree gchar *name = g_strconcat(sha, ".partial", NULL);
	return g_build_filename(self->dir, name, NULL);
}

static gboolean
gw_image_file_exists(GwImageStore *self, const gchar *sha, guint64 *size)
{
	g_autofree gchar *path = gw_image_path(self, sha);
	GStatBuf st;
	if (g_stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return FALSE;
	if (size != NULL)
		*size = (guint64)st.st_size;
	return TRUE;
}

static gchar *
gw_image_local_uri(GwImageStore *self, const gchar *sha)
{
	if (self->base_url == NULL)
		return g_strdup("");
	return g_strconcat(self->base_url, GW_GWMO_HTTP_IMAGES, sha, NULL);
}

static void
gw_image_set_state(GwImageStore *self,
                   const gchar *entry_uri,
                   const gchar *state,
                   gint progress,
                   gint64 size,
                   const gchar *local_uri)
{
	g_autoptr(GError) error = NULL;
	gboolean ok = TRUE;

	if (state != NULL)
		ok = gw_image_write_entry_leaf(
		    self, entry_uri, "State", GW_DM_FORMAT_CHR, state, ACCESS_GET, &error);
	if (ok && progress >= 0) {
		g_autofree gchar *text = g_strdup_printf("%d", progress);
		ok = gw_image_write_entry_leaf(
		    self, entry_uri, "Progress", GW_DM_FORMAT_INT, text, ACCESS_GET, &error);
	}
	if (ok && size >= 0) {
		g_autofree gchar *text = g_strdup_printf("%" G_GINT64_FORMAT, size);
		ok = gw_image_write_entry_leaf(
		    self, entry_uri, "Size", GW_DM_FORMAT_INT, text, ACCESS_GET, &error);
	}
	if (ok && local_uri != NULL)
		ok = gw_image_write_entry_leaf(
		    self, entry_uri, "LocalURI", GW_DM_FORMAT_CHR, local_uri, ACCESS_GET, &error);
	if (!ok)
		g_warning("cannot update %s: %s", entry_uri, error->message);
	g_signal_emit(self, signals[SIGNAL_IMAGE_CHANGED], 0, entry_uri);
}

/* entries whose Hash is @sha (and, when @state is given, whose State is it) */
static GPtrArray *
gw_image_entries_with_sha(GwImageStore *self, const gchar *sha, const gchar *state)
{
	g_autoptr(GPtrArray) all = gw_image_store_list(self);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < all->len; i++) {
		const gchar *uri = g_ptr_array_index(all, i);
		g_autofree gchar *esha = gw_image_entry_sha(self, uri);
		if (g_strcmp0(esha, sha) != 0)
			continue;
		if (state != NULL) {
			g_autofree gchar *s = gw_image_dup_leaf(self, uri, "State");
			if (g_strcmp0(s, state) != 0)
				continue;
		}
		g_ptr_array_add(out, g_strdup(uri));
	}
	return out;
}

/* ---- the entry skeleton ---- */

/* the nodes the gateway owns in an entry; keeps values that exist */
static gboolean
gw_image_ensure_skeleton(GwImageStore *self, const gchar *entry_uri, GError **error)
{
	const struct {
		const gchar *leaf;
		GwDmFormat format;
		const gchar *value;
	} owned[] = {
	    {"Size", GW_DM_FORMAT_INT, "0"},
	    {"LocalURI", GW_DM_FORMAT_CHR, ""},
	    {"State", GW_DM_FORMAT_CHR, GW_IMAGE_STATE_NOT_DOWNLOADED},
	    {"Progress", GW_DM_FORMAT_INT, "0"},
	};
	g_autofree gchar *ops = gw_image_entry_leaf_uri(entry_uri, "Operations");
	g_autofree gchar *dl = gw_image_entry_leaf_uri(entry_uri, "Operations/Download");
	g_autofree gchar *rm = gw_image_entry_leaf_uri(entry_uri, "Operations/Remove");
	g_autofree gchar *targets = gw_image_entry_leaf_uri(entry_uri, "Targets");

	for (guint i = 0; i < G_N_ELEMENTS(owned); i++) {
		g_autofree gchar *uri = gw_image_entry_leaf_uri(entry_uri, owned[i].leaf);
		g_autofree gchar *value = gw_dm_tree_dup_string(self->tree, uri);
		if (!gw_image_write_leaf(self,
		                         uri,
		                         owned[i].format,
		                         value != NULL ? value : owned[i].value,
		                         ACCESS_GET,
		                         error))
			return FALSE;
	}
	if (!gw_image_write_interior(self, ops, ACCESS_GET, NULL, error))
		return FALSE;
	if (gw_dm_tree_lookup(self->tree, dl) == NULL &&
	    !gw_image_write_leaf(self, dl, GW_DM_FORMAT_NULL, NULL, ACCESS_GET_EXEC, error))
		return FALSE;
	if (gw_dm_tree_lookup(self->tree, rm) == NULL &&
	    !gw_image_write_leaf(self, rm, GW_DM_FORMAT_NULL, NULL, ACCESS_GET_EXEC, error))
		return FALSE;
	return gw_image_write_interior(self, targets, ACCESS_GET_ADD, NULL, error);
}

static gchar *
gw_image_owner_acl(const gchar *server_id)
{
	return gw_dm_acl_owner_text(server_id, GW_DM_ACCESS_ALL & ~GW_DM_ACCESS_COPY);
}

/* ---- alerts ---- */

static gchar *
gw_image_document(GwImageStore *self, const gchar *entry_uri)
{
	g_autofree gchar *name = gw_image_dup_leaf(self, entry_uri, "Name");
	g_autofree gchar *version = gw_image_dup_leaf(self, entry_uri, "Version");
	g_autofree gchar *state = gw_image_dup_leaf(self, entry_uri, "State");
	g_autofree gchar *hash = gw_image_dup_leaf(self, entry_uri, "Hash");
	g_autofree gchar *size = gw_image_dup_leaf(self, entry_uri, "Size");
	g_autofree gchar *local = gw_image_dup_leaf(self, entry_uri, "LocalURI");

	return g_markup_printf_escaped("<GwMOImage><ImageURI>%s</ImageURI><Name>%s</Name>"
	                               "<Version>%s</Version><State>%s</State><Hash>%s</Hash>"
	                               "<Size>%s</Size><LocalURI>%s</LocalURI></GwMOImage>",
	                               entry_uri,
	                               name != NULL ? name : "",
	                               version != NULL ? version : "",
	                               state != NULL ? state : "",
	                               hash != NULL ? hash : "",
	                               size != NULL ? size : "0",
	                               local != NULL ? local : "");
}

static void
gw_image_send_alert(GwImageStore *self, const gchar *entry_uri)
{
	g_autofree gchar *owner = gw_image_entry_owner(self, entry_uri);
	g_autofree gchar *doc = NULL;
	g_autoptr(GError) error = NULL;
	GwAlert alert = {0};

	if (owner == NULL || self->northbound == NULL)
		return;
	doc = gw_image_document(self, entry_uri);
	alert.server_id = owner;
	alert.type = (gchar *)GW_GWMO_ALERT_IMAGE_DOWNLOAD_COMPLETE;
	alert.source = (gchar *)entry_uri;
	alert.format = (gchar *)"xml";
	alert.data = doc;
	alert.correlator = g_hash_table_lookup(self->correlators, entry_uri);
	if (gw_northbound_send_alert(self->northbound, &alert, &error) == 0)
		g_warning("cannot queue ImageDownloadComplete for %s: %s", owner, error->message);
	else
		g_info("ImageDownloadComplete for %s queued to %s", entry_uri, owner);
	g_hash_table_remove(self->correlators, entry_uri);
}

/* ---- files, quota, eviction ---- */

/* the file of @sha changed or went: what was kept to serve it goes too (a download still
 * writing from the old mapping keeps it until it is done) */
static void
gw_image_forget_mapping(GwImageStore *self, const gchar *sha)
{
	g_hash_table_remove(self->serving, sha);
}

static gboolean
gw_image_sha_is_referenced(GwImageStore *self, const gchar *sha)
{
	g_autoptr(GPtrArray) refs = gw_image_entries_with_sha(self, sha, NULL);
	return refs->len > 0 || g_hash_table_contains(self->downloads, sha);
}

static void
gw_image_evict(GwImageStore *self, const gchar *sha)
{
	g_autofree gchar *path = gw_image_path(self, sha);
	g_autofree gchar *partial = gw_image_partial_path(self, sha);

	gw_image_forget_mapping(self, sha);
	if (g_unlink(path) == 0)
		g_info("evicted image %s", sha);
	else if (errno != ENOENT)
		g_warning("cannot remove %s: %s", path, g_strerror(errno));
	if (g_unlink(partial) != 0 && errno != ENOENT)
		g_warning("cannot remove %s: %s", partial, g_strerror(errno));
}

typedef struct {
	gchar *sha;
	guint64 size;
	gint64 mtime;
} GwImageFile;

static void
gw_image_file_free(gpointer data)
{
	GwImageFile *f = data;
	g_free(f->sha);
	g_free(f);
}

static gint
gw_image_file_cmp_mtime(gconstpointer a, gconstpointer b)
{
	const GwImageFile *fa = *(GwImageFile *const *)a;
	const GwImageFile *fb = *(GwImageFile *const *)b;
	return fa->mtime < fb->mtime ? -1 : fa->mtime > fb->mtime ? 1 : 0;
}

/* complete images on disk */
static GPtrArray *
gw_image_files(GwImageStore *self, guint64 *total)
{
	g_autoptr(GDir) dir = g_dir_open(self->dir, 0, NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func(gw_image_file_free);
	const gchar *name;

	*total = 0;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = NULL;
		GStatBuf st;
		GwImageFile *f;
		if (!gw_image_sha_is_valid(name))
			continue;
		path = g_build_filename(self->dir, name, NULL);
		if (g_stat(path, &st) != 0)
			continue;
		f = g_new0(GwImageFile, 1);
		f->sha = g_strdup(name);
		f->size = (guint64)st.st_size;
		f->mtime = (gint64)st.st_mtime;
		*total += f->size;
		g_ptr_array_add(out, f);
	}
	return out;
}

/* evicts unreferenced images until the store fits the quota; TRUE when it fits */
static gboolean
gw_image_enforce_quota(GwImageStore *self)
{
	guint64 total = 0;
	g_autoptr(GPtrArray) files = NULL;

	if (self->quota == 0)
		return TRUE;
	files = gw_image_files(self, &total);
	if (total <= self->quota)
		return TRUE;
	g_ptr_array_sort(files, gw_image_file_cmp_mtime);
	for (guint i = 0; i < files->len && total > self->quota; i++) {
		GwImageFile *f = g_ptr_array_index(files, i);
		if (gw_image_sha_is_referenced(self, f->sha))
			continue;
		gw_image_evict(self, f->sha);
		total -= f->size;
	}
	return total <= self->quota;
}

/* ---- downloads ---- */

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(GwHttpDownloadResult, gw_http_download_result_clear)

static void
gw_image_download_free(gpointer data)
{
	GwImageDownload *dl = data;
	g_free(dl->sha);
	g_free(dl->uri);
	g_clear_object(&dl->cancellable);
	g_free(dl);
}

static void
gw_image_download_progress_cb(guint64 received, guint64 total, gpointer user_data)
{
	GwImageDownload *dl = user_data;
	GwImageStore *self = dl->self;
	g_autoptr(GPtrArray) entries = NULL;
	guint percent;
	gint64 now = g_get_monotonic_time();

	if (g_cancellable_is_cancelled(dl->cancellable))
		return;
	percent = total > 0 ? (guint)MIN(99, received * 100 / total) : 0;
	/* throttled: a new percentage, at most four writes a second */
	if (percent == dl->last_percent || now - dl->last_write < 250 * G_TIME_SPAN_MILLISECOND)
		return;
	dl->last_percent = percent;
	dl->last_write = now;
	entries = gw_image_entries_with_sha(self, dl->sha, GW_IMAGE_STATE_DOWNLOADING);
	for (guint i = 0; i < entries->len; i++)
		gw_image_set_state(
		    self, g_ptr_array_index(entries, i), NULL, (gint)percent, (gint64)total, NULL);
}

static void
gw_image_finish_entries(GwImageStore *self, const gchar *sha, gboolean ok, guint64 size)
{
	g_autoptr(GPtrArray) entries =
	    gw_image_entries_with_sha(self, sha, GW_IMAGE_STATE_DOWNLOADING);
	g_autofree gchar *local = ok ? gw_image_local_uri(self, sha) : g_strdup("");

	for (guint i = 0; i < entries->len; i++) {
		const gchar *uri = g_ptr_array_index(entries, i);
		gw_image_set_state(self,
		                   uri,
		                   ok ? GW_IMAGE_STATE_AVAILABLE : GW_IMAGE_STATE_FAILED,
		                   ok ? 100 : 0,
		                   ok ? (gint64)size : 0,
		                   local);
		gw_image_send_alert(self, uri);
	}
}

static void
gw_image_download_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwImageDownload *dl = user_data;
	GwImageStore *self = dl->self;
	g_autofree gchar *sha = g_strdup(dl->sha);
	g_autofree gchar *from = g_strdup(dl->uri);
	g_autofree gchar *partial = gw_image_partial_path(self, sha);
	g_autofree gchar *path = gw_image_path(self, sha);
	g_auto(GwHttpDownloadResult) result = {0};
	g_autoptr(GError) error = NULL;
	gboolean cancelled = g_cancellable_is_cancelled(dl->cancellable);
	gboolean ok = gw_http_download_finish(res, &result, &error);

	g_hash_table_remove(self->downloads, sha); /* frees dl */
	if (cancelled) {
		g_info("download of %s cancelled", sha);
		if (!gw_image_sha_is_referenced(self, sha))
			gw_image_evict(self, sha);
		g_object_unref(self);
		return;
	}
	if (!ok) {
		g_warning("download of image %s failed: %s", sha, error->message);
		gw_image_finish_entries(self, sha, FALSE, 0);
		g_object_unref(self);
		return;
	}
	if (g_strcmp0(result.sha256, sha) != 0) {
		/* nothing is served: the partial file goes (GwMO-DCIS-001) */
		g_warning("image from %s has sha256 %s, expected %s: refused",
		          gw_log_redact(from),
		          result.sha256,
		          sha);
		if (g_unlink(partial) != 0 && errno != ENOENT)
			g_warning("cannot remove %s: %s", partial, g_strerror(errno));
		gw_image_finish_entries(self, sha, FALSE, 0);
		g_object_unref(self);
		return;
	}
	if (g_rename(partial, path) != 0) {
		g_warning("cannot store %s: %s", path, g_strerror(errno));
		gw_image_finish_entries(self, sha, FALSE, 0);
		g_object_unref(self);
		return;
	}
	if (!gw_image_enforce_quota(self)) {
		g_warning("image %s (%" G_GUINT64_FORMAT
		          " bytes) does not fit [images] quota %" G_GUINT64_FORMAT,
		          sha,
		          result.size,
		          self->quota);
		gw_image_evict(self, sha);
		gw_image_finish_entries(self, sha, FALSE, 0);
		g_object_unref(self);
		return;
	}
	g_message("image %s stored (%" G_GUINT64_FORMAT " bytes, %u requests, %u resumed)",
	          sha,
	          result.size,
	          result.attempts,
	          result.resumed);
	gw_image_finish_entries(self, sha, TRUE, result.size);
	g_object_unref(self);
}

static void
gw_image_start_download(GwImageStore *self, const gchar *sha, const gchar *uri)
{
	GwImageDownload *dl;
	GwHttpDownloadOptions opts = {0};
	g_autofree gchar *partial = gw_image_partial_path(self, sha);

	if (g_hash_table_contains(self->downloads, sha))
		return;
	dl = g_new0(GwImageDownload, 1);
	dl->self = self;
	dl->sha = g_strdup(sha);
	dl->uri = g_strdup(uri);
	dl->cancellable = g_cancellable_new();
	dl->last_percent = G_MAXUINT;
	g_hash_table_insert(self->downloads, g_strdup(sha), dl);
	self->download_count++;
	opts.uri = uri;
	opts.path = partial;
	opts.ca_file = self->ca_file;
	opts.retries = GW_IMAGE_RETRIES;
	opts.backoff_ms = GW_IMAGE_BACKOFF_MS;
	g_info("downloading image %s from %s", sha, gw_log_redact(uri));
	gw_http_download_async(&opts,
	                       gw_image_download_progress_cb,
	                       dl,
	                       NULL,
	                       dl->cancellable,
	                       gw_image_download_done_cb,
	                       dl);
	g_object_ref(self);
}

/* starts (or joins) the download of an entry; @server_id NULL = the local owner */
static guint
gw_image_download_entry(GwImageStore *self,
                        const gchar *entry_uri,
                        const gchar *correlator,
                        GError **error)
{
	g_autofree gchar *hash = gw_image_dup_leaf(self, entry_uri, "Hash");
	g_autofree gchar *ext = gw_image_dup_leaf(self, entry_uri, "ExternalURI");
	g_autofree gchar *sha = gw_image_store_parse_hash(hash);
	g_autofree gchar *owner = gw_image_entry_owner(self, entry_uri);
	g_autofree gchar *state = gw_image_dup_leaf(self, entry_uri, "State");
	guint64 size = 0;

	if (gw_dm_tree_lookup(self->tree, entry_uri) == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "%s does not exist", entry_uri);
		return 404;
	}
	if (sha == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s: Hash '%s' is not sha256:<64 hex digits>",
		            entry_uri,
		            hash != NULL ? hash : "");
		return 400;
	}
	if (ext == NULL ||
	    (!g_str_has_prefix(ext, "http://") && !g_str_has_prefix(ext, "https://"))) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "%s: ExternalURI '%s' is not http(s)://",
		            entry_uri,
		            ext != NULL ? ext : "");
		return 400;
	}
	/* GwMO-DCIS-003: the server has not allowed its data on the gateway */
	if (!gw_image_server_allows_store(self, owner)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "%s: ImageStore is off for server %s",
		            entry_uri,
		            owner);
		return 403;
	}
	if (g_strcmp0(state, GW_IMAGE_STATE_DOWNLOADING) == 0 &&
	    g_hash_table_contains(self->downloads, sha))
		return 202;
	if (correlator != NULL && correlator[0] != '\0')
		g_hash_table_replace(self->correlators, g_strdup(entry_uri), g_strdup(correlator));
	if (gw_image_file_exists(self, sha, &size)) {
		/* one copy serves every entry with this hash (GwMO-DCIS-002) */
		g_autofree gchar *local = gw_image_local_uri(self, sha);
		gw_image_set_state(
		    self, entry_uri, GW_IMAGE_STATE_AVAILABLE, 100, (gint64)size, local);
		gw_image_send_alert(self, entry_uri);
		return 202;
	}
	gw_image_set_state(self, entry_uri, GW_IMAGE_STATE_DOWNLOADING, 0, -1, "");
	gw_image_start_download(self, sha, ext);
	return 202;
}

gboolean
gw_image_store_download(GwImageStore *self, const gchar *entry_uri, GError **error)
{
	guint status;
	g_return_val_if_fail(GW_IS_IMAGE_STORE(self), FALSE);
	status = gw_image_download_entry(self, entry_uri, NULL, error);
	return status == 202;
}

/* an entry went away: its download stops and its file goes when nobody else needs them */
static void
gw_image_release_sha(GwImageStore *self, const gchar *sha)
{
	g_autoptr(GPtrArray) refs = NULL;
	GwImageDownload *dl;

	if (sha == NULL)
		return;
	refs = gw_image_entries_with_sha(self, sha, NULL);
	if (refs->len > 0)
		return;
	dl = g_hash_table_lookup(self->downloads, sha);
	if (dl != NULL) {
		g_cancellable_cancel(dl->cancellable); /* the done callback evicts */
		return;
	}
	gw_image_evict(self, sha);
}

gboolean
gw_image_store_remove(GwImageStore *self, const gchar *entry_uri, GError **error)
{
	g_autofree gchar *sha = NULL;
	gboolean ok;

	g_return_val_if_fail(GW_IS_IMAGE_STORE(self), FALSE);
	if (gw_dm_tree_lookup(self->tree, entry_uri) == NULL ||
	    !gw_dm_uri_is_below(entry_uri, GW_GWMO_IMAGES) ||
	    g_strcmp0(entry_uri, GW_GWMO_IMAGES) == 0) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "no image entry %s", entry_uri);
		return FALSE;
	}
	sha = gw_image_entry_sha(self, entry_uri);
	ok = gw_dm_owner_remove(&self->owner, entry_uri, error);
	if (!ok)
		return FALSE;
	g_hash_table_remove(self->correlators, entry_uri);
	g_info("image entry %s removed", entry_uri);
	gw_image_release_sha(self, sha);
	return TRUE;
}

/* ---- the local owner's Add ---- */

gchar *
gw_image_store_add(GwImageStore *self, const GwImageSpec *spec, GError **error)
{
	g_autofree gchar *sha = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *acl = gw_image_owner_acl(NULL);
	g_autofree gchar *targets = NULL;
	guint n = 1;

	g_return_val_if_fail(GW_IS_IMAGE_STORE(self), NULL);
	if (spec->name == NULL || spec->name[0] == '\0') {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "Name is required");
		return NULL;
	}
	sha = gw_image_store_parse_hash(spec->hash);
	if (sha == NULL) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "Hash must be sha256:<64 hex digits>");
		return NULL;
	}
	if (spec->external_uri == NULL || (!g_str_has_prefix(spec->external_uri, "http://") &&
	                                   !g_str_has_prefix(spec->external_uri, "https://"))) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "ExternalURI must be an http:// or https:// URL");
		return NULL;
	}
	if (spec->kind != NULL && spec->kind[0] != '\0' && g_strcmp0(spec->kind, "firmware") != 0 &&
	    g_strcmp0(spec->kind, "software") != 0 && g_strcmp0(spec->kind, "config") != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "Kind must be firmware, software or config");
		return NULL;
	}
	for (guint i = 0; spec->targets != NULL && spec->targets[i] != NULL; i++) {
		if (spec->targets[i][0] == '\0') {
			g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "an empty target");
			return NULL;
		}
	}
	/* names are never reused while entries live: the next free number */
	for (;;) {
		g_free(uri);
		uri = g_strdup_printf(GW_GWMO_IMAGES "/%u", n++);
		if (gw_dm_tree_lookup(self->tree, uri) == NULL)
			break;
	}
	if (!gw_image_write_interior(self, uri, ACCESS_ENTRY, acl, error))
		return NULL;
	if (!gw_image_write_entry_leaf(
	        self, uri, "Name", GW_DM_FORMAT_CHR, spec->name, ACCESS_GET_REPLACE, error) ||
	    !gw_image_write_entry_leaf(
	        self, uri, "Version", GW_DM_FORMAT_CHR, spec->version, ACCESS_GET_REPLACE, error) ||
	    !gw_image_write_entry_leaf(
	        self, uri, "Kind", GW_DM_FORMAT_CHR, spec->kind, ACCESS_GET_REPLACE, error) ||
	    !gw_image_write_entry_leaf(self,
	                               uri,
	                               "ExternalURI",
	                               GW_DM_FORMAT_CHR,
	                               spec->external_uri,
	                               ACCESS_GET_REPLACE,
	                               error) ||
	    !gw_image_write_entry_leaf(
	        self, uri, "Hash", GW_DM_FORMAT_CHR, spec->hash, ACCESS_GET_REPLACE, error) ||
	    !gw_image_ensure_skeleton(self, uri, error))
		goto fail;
	targets = gw_image_entry_leaf_uri(uri, "Targets");
	for (guint i = 0; spec->targets != NULL && spec->targets[i] != NULL; i++) {
		g_autofree gchar *t = g_strdup_printf("%s/%u", targets, i + 1);
		if (!gw_image_write_leaf(
		        self, t, GW_DM_FORMAT_CHR, spec->targets[i], ACCESS_TARGET, error))
			goto fail;
	}
	g_info("image entry %s (%s) added", uri, spec->name);
	g_signal_emit(self, signals[SIGNAL_IMAGE_CHANGED], 0, uri);
	return g_steal_pointer(&uri);
fail:
	gw_dm_owner_remove(&self->owner, uri, NULL);
	return NULL;
}

/* ---- DM commands: Exec handlers and the tree watch ---- */

static gchar *
gw_image_entry_of(const gchar *uri)
{
	/* ./GwMO/Images/<x>/… → ./GwMO/Images/<x> */
	const gchar *rel;
	const gchar *slash;

	if (!gw_dm_uri_is_below(uri, GW_GWMO_IMAGES))
		return NULL;
	rel = uri + strlen(GW_GWMO_IMAGES);
	if (*rel != '/')
		return NULL;
	rel++;
	slash = strchr(rel, '/');
	if (rel[0] == '\0')
		return NULL;
	return slash == NULL ? g_strdup(uri) : g_strndup(uri, (gsize)(slash - uri));
}

static guint
gw_image_exec_download_cb(GwDmTree *tree,
                          const gchar *server_id,
                          const gchar *uri,
                          GBytes *data,
                          const gchar *correlator,
                          gpointer user_data)
{
	GwImageStore *self = GW_IMAGE_STORE(user_data);
	g_autofree gchar *entry = gw_image_entry_of(uri);
	g_autoptr(GError) error = NULL;
	guint status;

	if (entry == NULL)
		return 404;
	status = gw_image_download_entry(self, entry, correlator, &error);
	if (error != NULL)
		g_warning("Exec Download on %s by %s: %s",
		          entry,
		          server_id != NULL ? server_id : "owner",
		          error->message);
	return status;
}

typedef struct {
	GwImageStore *self;
	gchar *entry;
} GwImageRemoveLater;

static gboolean
gw_image_remove_later_cb(gpointer user_data)
{
	GwImageRemoveLater *r = user_data;
	g_autoptr(GError) error = NULL;
	if (gw_dm_tree_lookup(r->self->tree, r->entry) != NULL &&
	    !gw_image_store_remove(r->self, r->entry, &error))
		g_warning("cannot remove %s: %s", r->entry, error->message);
	g_object_unref(r->self);
	g_free(r->entry);
	g_free(r);
	return G_SOURCE_REMOVE;
}

static guint
gw_image_exec_remove_cb(GwDmTree *tree,
                        const gchar *server_id,
                        const gchar *uri,
                        GBytes *data,
                        const gchar *correlator,
                        gpointer user_data)
{
	GwImageStore *self = GW_IMAGE_STORE(user_data);
	g_autofree gchar *entry = gw_image_entry_of(uri);
	GwImageRemoveLater *r;

	if (entry == NULL)
		return 404;
	/* not while the tree runs this Exec on a node of the entry */
	r = g_new0(GwImageRemoveLater, 1);
	r->self = g_object_ref(self);
	r->entry = g_strdup(entry);
	g_idle_add(gw_image_remove_later_cb, r);
	return 200;
}

static void
gw_image_node_added(GwImageStore *self, const gchar *uri, const gchar *server_id)
{
	g_autofree gchar *entry = gw_image_entry_of(uri);
	g_autoptr(GError) error = NULL;
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
	const gchar *rel;
	gboolean ok = TRUE;

	if (entry == NULL || node == NULL)
		return;
	rel = uri + strlen(entry);
	if (rel[0] == '\0') {
		/* a new entry made by a DM Server: its ACL, the nodes the gateway owns */
		g_autofree gchar *acl =
		    gw_dm_node_has_acl(node) ? NULL : gw_image_owner_acl(server_id);
		ok = gw_dm_owner_set_properties(&self->owner, uri, ACCESS_ENTRY, acl, &error);
		if (ok)
			ok = gw_image_ensure_skeleton(self, entry, &error);
		if (ok)
			g_info("image entry %s added by %s",
			       entry,
			       server_id != NULL ? server_id : "the owner");
		g_signal_emit(self, signals[SIGNAL_IMAGE_CHANGED], 0, entry);
	} else if (gw_dm_node_is_leaf(node)) {
		g_auto(GStrv) segs = g_strsplit(rel + 1, "/", 3);
		GwDmAccess access = GW_DM_ACCESS_NONE;
		if (segs[1] == NULL) {
			for (guint i = 0; i < G_N_ELEMENTS(entry_leaves_owned_by_server); i++) {
				if (g_strcmp0(segs[0], entry_leaves_owned_by_server[i]) == 0)
					access = ACCESS_GET_REPLACE;
			}
		} else if (g_strcmp0(segs[0], "Targets") == 0 && segs[2] == NULL) {
			access = ACCESS_TARGET;
		}
		if (access != GW_DM_ACCESS_NONE)
			ok = gw_dm_owner_set_properties(&self->owner, uri, access, NULL, &error);
		g_signal_emit(self, signals[SIGNAL_IMAGE_CHANGED], 0, entry);
	}
	if (!ok)
		g_warning("cannot set up %s: %s", uri, error->message);
}

static void
gw_image_release_unreferenced(GwImageStore *self);

/* Hash or ExternalURI replaced: what was downloaded no longer answers the entry */
static void
gw_image_node_replaced(GwImageStore *self, const gchar *uri)
{
	g_autofree gchar *entry = gw_image_entry_of(uri);
	g_autofree gchar *hash_uri = NULL;
	g_autofree gchar *ext_uri = NULL;
	g_autofree gchar *state = NULL;

	if (entry == NULL)
		return;
	hash_uri = gw_image_entry_leaf_uri(entry, "Hash");
	ext_uri = gw_image_entry_leaf_uri(entry, "ExternalURI");
	if (g_strcmp0(uri, hash_uri) != 0 && g_strcmp0(uri, ext_uri) != 0) {
		g_signal_emit(self, signals[SIGNAL_IMAGE_CHANGED], 0, entry);
		return;
	}
	state = gw_image_dup_leaf(self, entry, "State");
	if (g_strcmp0(state, GW_IMAGE_STATE_DOWNLOADING) != 0)
		gw_image_set_state(self, entry, GW_IMAGE_STATE_NOT_DOWNLOADED, 0, 0, "");
	/* the image the old Hash named may have lost its last entry */
	gw_image_release_unreferenced(self);
}

/* the hashes of every entry, to find the ones a deletion released */
static void
gw_image_release_unreferenced(GwImageStore *self)
{
	GHashTableIter iter;
	gpointer key;
	g_autoptr(GPtrArray) cancel = g_ptr_array_new_with_free_func(g_free);
	guint64 total = 0;
	g_autoptr(GPtrArray) files = gw_image_files(self, &total);

	g_hash_table_iter_init(&iter, self->downloads);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		g_autoptr(GPtrArray) refs = gw_image_entries_with_sha(self, key, NULL);
		if (refs->len == 0)
			g_ptr_array_add(cancel, g_strdup(key));
	}
	for (guint i = 0; i < cancel->len; i++)
		gw_image_release_sha(self, g_ptr_array_index(cancel, i));
	for (guint i = 0; i < files->len; i++) {
		GwImageFile *f = g_ptr_array_index(files, i);
		if (!gw_image_sha_is_referenced(self, f->sha))
			gw_image_evict(self, f->sha);
	}
}

static void
gw_image_tree_changed_cb(GwDmTree *tree,
                         const gchar *uri,
                         guint change,
                         const gchar *server_id,
                         gpointer user_data)
{
	GwImageStore *self = GW_IMAGE_STORE(user_data);

	if (uri == NULL || gw_dm_owner_is_writing(&self->owner))
		return;
	if (!gw_dm_uri_is_below(uri, GW_GWMO_IMAGES) || g_strcmp0(uri, GW_GWMO_IMAGES) == 0) {
		/* an ancestor replaced (Atomic rollback): files nobody refers to go */
		if (change != GW_DM_CHANGE_PROPERTIES && gw_dm_uri_is_below(GW_GWMO_IMAGES, uri))
			gw_image_release_unreferenced(self);
		return;
	}
	switch (change) {
	case GW_DM_CHANGE_ADDED:
		gw_image_node_added(self, uri, server_id);
		break;
	case GW_DM_CHANGE_REPLACED:
		gw_image_node_replaced(self, uri);
		break;
	case GW_DM_CHANGE_DELETED: {
		g_autofree gchar *entry = gw_image_entry_of(uri);
		g_hash_table_remove(self->correlators, uri);
		gw_image_release_unreferenced(self);
		if (entry != NULL && g_strcmp0(entry, uri) != 0)
			g_signal_emit(self, signals[SIGNAL_IMAGE_CHANGED], 0, entry);
		break;
	}
	default:
		break;
	}
}

/* ---- signed image URLs (DM-SECONF-001, spec/GWMO.md §9) ---- */

static gboolean
gw_image_str_equal_ct(const gchar *a, const gchar *b)
{
	gsize la = strlen(a);
	gsize lb = strlen(b);
	guchar diff = la != lb;
	for (gsize i = 0; i < MAX(la, lb); i++)
		diff |= (guchar)(a[MIN(i, la)] ^ b[MIN(i, lb)]);
	return diff == 0;
}

/* <state_dir>/image-url.key: 32 random bytes made once, mode 0600, written atomically */
static gboolean
gw_image_load_url_key(GwImageStore *self, GError **error)
{
	g_autofree gchar *path = g_build_filename(self->state_dir, GW_IMAGE_URL_KEY_FILE, NULL);
	g_autofree gchar *data = NULL;
	GByteArray *key;
	gsize len = 0;
	GStatBuf st;

	if (g_lstat(path, &st) == 0) {
		if (S_ISREG(st.st_mode) && (st.st_mode & 0077) != 0 && g_chmod(path, 0600) != 0)
			g_warning("cannot make %s private: %s", path, g_strerror(errno));
		if (S_ISREG(st.st_mode) && g_file_get_contents(path, &data, &len, NULL) &&
		    len == GW_IMAGE_URL_KEY_LEN) {
			self->url_key = g_bytes_new_take(g_steal_pointer(&data), len);
			return TRUE;
		}
		g_warning("%s is not a key of %u bytes: making a new one (image URLs handed out "
		          "before no longer work)",
		          path,
		          (guint)GW_IMAGE_URL_KEY_LEN);
	}
	key = g_byte_array_sized_new(GW_IMAGE_URL_KEY_LEN);
	while (key->len < GW_IMAGE_URL_KEY_LEN) {
		g_autoptr(GBytes) part = gw_dm_auth_new_nonce();
		if (part == NULL) {
			g_byte_array_unref(key);
			g_set_error_literal(error,
			                    GW_ERROR,
			                    GW_ERROR_INTERNAL,
			                    "no randomness for the image URL key");
			return FALSE;
		}
		g_byte_array_append(key, g_bytes_get_data(part, NULL), g_bytes_get_size(part));
	}
	g_byte_array_set_size(key, GW_IMAGE_URL_KEY_LEN);
	if (!g_file_set_contents_full(path,
	                              (const gchar *)key->data,
	                              key->len,
	                              G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
	                              0600,
	                              error)) {
		g_byte_array_unref(key);
		g_prefix_error(error, "cannot write the image URL key: ");
		return FALSE;
	}
	self->url_key = g_byte_array_free_to_bytes(key);
	g_info("made the image URL key %s", path);
	return TRUE;
}

/* hex HMAC-SHA256 over "<sha256>|<DeviceID>|<exp>" */
static gchar *
gw_image_url_sig(GwImageStore *self, const gchar *sha, const gchar *device_id, const gchar *exp)
{
	g_autofree gchar *text = g_strdup_printf("%s|%s|%s", sha, device_id, exp);
	return g_compute_hmac_for_data(G_CHECKSUM_SHA256,
	                               g_bytes_get_data(self->url_key, NULL),
	                               g_bytes_get_size(self->url_key),
	                               (const guchar *)text,
	                               strlen(text));
}

gchar *
gw_image_store_sign_url(GwImageStore *self, const gchar *sha, const gchar *device_id)
{
	g_autofree gchar *exp = NULL;
	g_autofree gchar *sig = NULL;
	g_autofree gchar *dev = NULL;

	g_return_val_if_fail(GW_IS_IMAGE_STORE(self), NULL);
	g_return_val_if_fail(sha != NULL && device_id != NULL, NULL);
	if (self->base_url == NULL || self->url_key == NULL)
		return NULL;
	exp = g_strdup_printf("%" G_GINT64_FORMAT,
	                      g_get_real_time() / G_USEC_PER_SEC + self->url_lifetime);
	sig = gw_image_url_sig(self, sha, device_id, exp);
	dev = g_uri_escape_string(device_id, NULL, FALSE);
	return g_strdup_printf("%s" GW_GWMO_HTTP_IMAGES "%s?" GW_GWMO_IMAGE_QUERY_DEVICE
	                       "=%s&" GW_GWMO_IMAGE_QUERY_EXPIRES "=%s&" GW_GWMO_IMAGE_QUERY_SIG
	                       "=%s",
	                       self->base_url,
	                       sha,
	                       dev,
	                       exp,
	                       sig);
}

gchar *
gw_image_store_localize(GwImageStore *self, const gchar *text, const gchar *device_id)
{
	g_autofree gchar *prefix = NULL;
	g_autoptr(GString) out = NULL;
	const gchar *p;
	const gchar *hit;
	gsize plen;

	g_return_val_if_fail(GW_IS_IMAGE_STORE(self), NULL);
	if (text == NULL || device_id == NULL || self->base_url == NULL || self->url_key == NULL)
		return NULL;
	prefix = g_strconcat(self->base_url, GW_GWMO_HTTP_IMAGES, NULL);
	plen = strlen(prefix);
	for (p = text; (hit = strstr(p, prefix)) != NULL; p = hit + plen) {
		g_autofree gchar *sha = g_strndup(hit + plen, 64);
		g_autofree gchar *url = NULL;
		const gchar *after = hit + plen + strlen(sha);

		/* a whole image URL of ours, not signed yet */
		if (!gw_image_sha_is_valid(sha) || g_ascii_isalnum(*after) || *after == '?')
			continue;
		url = gw_image_store_sign_url(self, sha, device_id);
		if (out == NULL)
			out = g_string_new(NULL);
		g_string_append_len(out, text, hit - text);
		g_string_append(out, url);
		text = after;
		hit = after - plen;
	}
	if (out == NULL)
		return NULL;
	g_string_append(out, text);
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* the DeviceID a signed URL was given to, or NULL (and @why) when it does not hold; @sv
 * (nullable) keeps the signatures that verified */
static gchar *
gw_image_check_signed(GwImageStore *self,
                      GwHttpRequest *request,
                      const gchar *sha,
                      GwImageServe *sv,
                      const gchar **why)
{
	const gchar *dev = gw_http_request_get_query(request, GW_GWMO_IMAGE_QUERY_DEVICE);
	const gchar *exp = gw_http_request_get_query(request, GW_GWMO_IMAGE_QUERY_EXPIRES);
	const gchar *sig = gw_http_request_get_query(request, GW_GWMO_IMAGE_QUERY_SIG);
	GwImageSigned *known = NULL;
	g_autofree gchar *record = NULL;
	gint64 expires = 0;

	if (dev == NULL || dev[0] == '\0' || exp == NULL || sig == NULL ||
	    !g_ascii_string_to_signed(exp, 10, 0, G_MAXINT64, &expires, NULL)) {
		*why = "incomplete image URL";
		return NULL;
	}
	if (sv != NULL)
		known = g_hash_table_lookup(sv->signatures, sig);
	if (known == NULL || strcmp(known->device_id, dev) != 0 || strcmp(known->exp, exp) != 0) {
		g_autofree gchar *want = gw_image_url_sig(self, sha, dev, exp);
		if (strlen(sig) != strlen(want) || !gw_image_str_equal_ct(sig, want)) {
			*why = "image URL signature does not verify";
			return NULL;
		}
		if (sv != NULL) {
			known = g_new0(GwImageSigned, 1);
			known->device_id = g_strdup(dev);
			known->exp = g_strdup(exp);
			if (g_hash_table_size(sv->signatures) >= GW_IMAGE_SERVE_MAX_SIGNED)
				g_hash_table_remove_all(sv->signatures);
			g_hash_table_replace(sv->signatures, g_strdup(sig), known);
		}
	}
	if (expires < g_get_real_time() / G_USEC_PER_SEC) {
		*why = "image URL expired";
		return NULL;
	}
	record = gw_inventory_find(self->inventory, dev);
	if (record == NULL) {
		*why = "image URL of a device the gateway does not know";
		return NULL;
	}
	return g_strdup(dev);
}

/* ---- serving ---- */

/* the DeviceID whose inventory credentials are @name/@secret, or NULL */
static gchar *
gw_image_authenticate(GwImageStore *self, const gchar *name, const gchar *secret)
{
	g_autoptr(GPtrArray) records = NULL;
	GwInventoryDevice info = {0};

	/* devices usually present their DeviceID as ClientName: try that first (the contact part
	 * of the record only: the credentials, not DevInfo) */
	if (gw_inventory_get_contact(self->inventory, name, &info)) {
		gboolean ok = g_strcmp0(info.client_name, name) == 0 &&
		              info.client_secret != NULL &&
		              gw_image_str_equal_ct(info.client_secret, secret);
		g_autofree gchar *id = g_strdup(info.device_id);
		gw_inventory_device_clear(&info);
		if (ok)
			return g_steal_pointer(&id);
	}
	records = gw_inventory_list(self->inventory);
	for (guint i = 0; i < records->len; i++) {
		g_autofree gchar *id_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_DEVICE_ID,
		                                           (gchar *)g_ptr_array_index(records, i));
		g_autofree gchar *id = gw_dm_tree_dup_string(self->tree, id_uri);
		gboolean ok;
		if (id == NULL || !gw_inventory_get_contact(self->inventory, id, &info))
			continue;
		ok = g_strcmp0(info.client_name, name) == 0 && info.client_secret != NULL &&
		     gw_image_str_equal_ct(info.client_secret, secret);
		gw_inventory_device_clear(&info);
		if (ok)
			return g_steal_pointer(&id);
	}
	return NULL;
}

static gboolean
gw_image_targets_allow(GwImageStore *self, const gchar *entry_uri, const gchar *device_id)
{
	g_autofree gchar *targets_uri = gw_image_entry_leaf_uri(entry_uri, "Targets");
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, targets_uri);

	if (names == NULL || names[0] == NULL)
		return TRUE; /* every device of the inventory */
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree gchar *t_uri = g_strdup_printf("%s/%s", targets_uri, names[i]);
		g_autofree gchar *target = gw_dm_tree_dup_string(self->tree, t_uri);
		g_auto(GStrv) members = NULL;
		if (target == NULL)
			continue;
		if (g_strcmp0(target, device_id) == 0)
			return TRUE;
		members = gw_groups_members(gw_inventory_get_groups(self->inventory), target);
		if (members != NULL && g_strv_contains((const gchar *const *)members, device_id))
			return TRUE;
	}
	return FALSE;
}

static void
gw_image_refuse(GwHttpRequest *request, guint status, const gchar *why)
{
	g_autoptr(GBytes) body = g_bytes_new(why, strlen(why));
	g_info("GET %s from %s: %u (%s)",
	       gw_http_request_get_path(request),
	       gw_http_request_get_remote_host(request),
	       status,
	       why);
	if (status == 401)
		gw_http_request_set_header(
		    request, "WWW-Authenticate", "Basic realm=\"" GW_IMAGE_REALM "\"");
	gw_http_request_respond(request, status, "text/plain", body);
}

static void
gw_image_signed_free(gpointer data)
{
	GwImageSigned *sig = data;
	g_free(sig->device_id);
	g_free(sig->exp);
	g_free(sig);
}

static void
gw_image_serve_clear_lookup(GwImageServe *sv)
{
	g_clear_pointer(&sv->entries, g_strfreev);
	g_hash_table_remove_all(sv->devices);
	sv->servable = FALSE;
	sv->any_store = FALSE;
}

static void
gw_image_serve_free(gpointer data)
{
	GwImageServe *sv = data;
	gw_image_serve_clear_lookup(sv);
	g_hash_table_unref(sv->devices);
	g_hash_table_unref(sv->signatures);
	g_free(sv->etag);
	g_clear_pointer(&sv->whole, g_bytes_unref);
	g_free(sv);
}

static void
gw_image_file_map_free(gpointer data)
{
	GwImageFileMap *map = data;
	g_mapped_file_unref(map->mapped);
	close(map->fd);
	g_free(map);
}

static GwImageServe *
gw_image_serve_new(const gchar *sha)
{
	GwImageServe *sv = g_new0(GwImageServe, 1);
	sv->devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	sv->signatures =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_image_signed_free);
	sv->etag = g_strdup_printf("\"%s\"", sha);
	sv->fd = -1;
	return sv;
}

/* the tree's view of @sha now: its Available entries, their owners, the file's size */
static void
gw_image_serve_lookup(GwImageStore *self, const gchar *sha, GwImageServe *sv)
{
	g_autoptr(GPtrArray) entries =
	    gw_image_entries_with_sha(self, sha, GW_IMAGE_STATE_AVAILABLE);
	GPtrArray *allowed;

	gw_image_serve_clear_lookup(sv);
	sv->generation = gw_dm_tree_get_generation(self->tree);
	sv->servable = entries->len > 0 && gw_image_file_exists(self, sha, &sv->size);
	if (!sv->servable)
		return;
	allowed = g_ptr_array_new();
	for (guint i = 0; i < entries->len; i++) {
		gchar *entry = g_ptr_array_index(entries, i);
		g_autofree gchar *owner = gw_image_entry_owner(self, entry);
		if (!gw_image_server_allows_store(self, owner))
			continue;
		sv->any_store = TRUE;
		g_ptr_array_add(allowed, g_strdup(entry));
	}
	g_ptr_array_add(allowed, NULL);
	sv->entries = (gchar **)g_ptr_array_free(allowed, FALSE);
	/* a file stored afresh under the same name: map it again */
	if (sv->whole != NULL && (guint64)g_bytes_get_size(sv->whole) != sv->size) {
		g_clear_pointer(&sv->whole, g_bytes_unref);
		sv->fd = -1;
	}
}

/* what is kept to serve @sha, looked up again when the tree changed; NULL (and @scratch
 * filled) when there is nothing to serve: such lookups are not kept, so that requests for
 * hashes the store does not have cannot grow it */
static GwImageServe *
gw_image_serve_get(GwImageStore *self, const gchar *sha, GwImageServe **scratch)
{
	GwImageServe *sv = g_hash_table_lookup(self->serving, sha);
	gboolean kept = sv != NULL;

	if (kept && sv->generation == gw_dm_tree_get_generation(self->tree))
		return sv;
	if (!kept)
		sv = gw_image_serve_new(sha);
	gw_image_serve_lookup(self, sha, sv);
	if (!sv->servable) {
		gpointer key = NULL;
		if (kept && g_hash_table_steal_extended(self->serving, sha, &key, NULL))
			g_free(key);
		*scratch = sv; /* the caller's, for this request */
		return NULL;
	}
	if (!kept)
		g_hash_table_insert(self->serving, g_strdup(sha), sv);
	return sv;
}

/* whether @device_id is among the targets of one of the entries (kept per device) */
static gboolean
gw_image_serve_allows(GwImageStore *self, GwImageServe *sv, const gchar *device_id)
{
	gpointer known = g_hash_table_lookup(sv->devices, device_id);
	gboolean allowed = FALSE;

	if (known != NULL)
		return GPOINTER_TO_INT(known) == 1;
	for (guint i = 0; sv->entries[i] != NULL && !allowed; i++)
		allowed = gw_image_targets_allow(self, sv->entries[i], device_id);
	if (g_hash_table_size(sv->devices) >= GW_IMAGE_SERVE_MAX_DEVICES)
		g_hash_table_remove_all(sv->devices);
	g_hash_table_insert(sv->devices, g_strdup(device_id), GINT_TO_POINTER(allowed ? 1 : 2));
	return allowed;
}

/* the whole file, mapped once for every request, with its descriptor (@fd) */
static GBytes *
gw_image_serve_bytes(GwImageStore *self,
                     const gchar *sha,
                     GwImageServe *sv,
                     gint *fd,
                     GError **error)
{
	g_autofree gchar *path = NULL;
	GwImageFileMap *map;
	GMappedFile *mapped;
	gint file;

	if (sv->whole == NULL) {
		path = gw_image_path(self, sha);
		file = g_open(path, O_RDONLY | O_CLOEXEC, 0);
		if (file < 0) {
			gint errsv = errno;
			g_set_error(error,
			            G_FILE_ERROR,
			            g_file_error_from_errno(errsv),
			            "cannot open %s: %s",
			            path,
			            g_strerror(errsv));
			return NULL;
		}
		mapped = g_mapped_file_new_from_fd(file, FALSE, error);
		if (mapped == NULL) {
			close(file);
			return NULL;
		}
		map = g_new0(GwImageFileMap, 1);
		map->mapped = mapped;
		map->fd = file;
		sv->whole = g_bytes_new_with_free_func(g_mapped_file_get_contents(mapped),
		                                       g_mapped_file_get_length(mapped),
		                                       gw_image_file_map_free,
		                                       map);
		sv->fd = file;
	}
	*fd = sv->fd;
	return g_bytes_ref(sv->whole);
}

static gboolean
gw_image_etag_matches(const gchar *if_none_match, const gchar *sha)
{
	g_auto(GStrv) tags = NULL;
	if (if_none_match == NULL)
		return FALSE;
	tags = g_strsplit(if_none_match, ",", -1);
	for (guint i = 0; tags[i] != NULL; i++) {
		gchar *t = g_strstrip(tags[i]);
		if (g_str_has_prefix(t, "W/"))
			t += 2;
		if (g_strcmp0(t, "*") == 0)
			return TRUE;
		if (strlen(t) == 66 && t[0] == '"' && t[65] == '"' && strncmp(t + 1, sha, 64) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
gw_image_http_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwImageStore *self = GW_IMAGE_STORE(user_data);
	const gchar *method = gw_http_request_get_method(request);
	const gchar *path = gw_http_request_get_path(request);
	const gchar *auth = gw_http_request_get_header(request, "Authorization");
	gboolean head = g_strcmp0(method, "HEAD") == 0;
	const gchar *sha;
	g_autofree gchar *user = NULL;
	g_autofree gchar *secret = NULL;
	g_autofree gchar *device_id = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) whole = NULL;
	GwImageServe *scratch = NULL;
	GwImageServe *sv;
	gint fd = -1;
	guint64 size = 0;
	guint64 start = 0;
	guint64 end = 0;
	GwImageRange range;

	if (g_strcmp0(method, "GET") != 0 && !head) {
		gw_http_request_set_header(request, "Allow", "GET, HEAD");
		gw_image_refuse(request, 405, "only GET and HEAD");
		return;
	}
	sha = path + strlen(GW_GWMO_HTTP_IMAGES);
	if (!g_str_has_prefix(path, GW_GWMO_HTTP_IMAGES) || !gw_image_sha_is_valid(sha)) {
		gw_image_refuse(request, 404, "no such image");
		return;
	}
	/* DM-SECONF-001: device credentials never cross in clear */
	if (auth != NULL && !gw_http_request_is_tls(request)) {
		gw_image_refuse(request, 403, "credentials are not accepted over plain HTTP");
		return;
	}
	if (gw_http_request_get_query(request, GW_GWMO_IMAGE_QUERY_SIG) != NULL) {
		/* the URL the device was given: bound to it, this image and an expiry */
		const gchar *why = NULL;
		/* the signatures that verified before are kept with the image, if it is */
		device_id = gw_image_check_signed(
		    self, request, sha, g_hash_table_lookup(self->serving, sha), &why);
		if (device_id == NULL) {
			gw_image_refuse(request, 403, why);
			return;
		}
	} else if (!gw_http_request_is_tls(request)) {
		/* no challenge: it would ask for credentials in clear */
		gw_image_refuse(request, 403, "a signed image URL is needed over plain HTTP");
		return;
	} else {
		/* HTTP Basic with the device's inventory credentials, over TLS (GwMO-DCIS-003) */
		if (auth == NULL || g_ascii_strncasecmp(auth, "Basic ", 6) != 0 ||
		    !gw_dm_auth_basic_decode(auth + 6, &user, &secret, NULL)) {
			gw_image_refuse(request, 401, "credentials needed");
			return;
		}
		device_id = gw_image_authenticate(self, user, secret);
		if (device_id == NULL) {
			gw_image_refuse(request, 401, "unknown device or wrong secret");
			return;
		}
	}
	/* what the tree says of this image, kept while the tree does not change */
	sv = gw_image_serve_get(self, sha, &scratch);
	if (sv == NULL) {
		gw_image_serve_free(scratch);
		gw_image_refuse(request, 404, "no such image");
		return;
	}
	if (!sv->any_store) {
		gw_image_refuse(request, 403, "the owning server does not allow local retrieval");
		return;
	}
	if (!gw_image_serve_allows(self, sv, device_id)) {
		gw_image_refuse(request, 403, "device not among the image's targets");
		return;
	}

	size = sv->size;
	gw_http_request_set_header(request, "ETag", sv->etag);
	gw_http_request_set_header(request, "Accept-Ranges", "bytes");
	gw_http_request_set_header(
	    request, "Cache-Control", "private, max-age=31536000, immutable");
	if (gw_image_etag_matches(gw_http_request_get_header(request, "If-None-Match"), sha)) {
		gw_http_request_respond(request, 304, NULL, NULL);
		return;
	}
	range = gw_image_store_parse_range(
	    gw_http_request_get_header(request, "Range"), size, &start, &end);
	if (range == GW_IMAGE_RANGE_OK) {
		const gchar *if_range = gw_http_request_get_header(request, "If-Range");
		if (if_range != NULL && g_strcmp0(if_range, sv->etag) != 0)
			range =
			    GW_IMAGE_RANGE_NONE; /* a different representation: the whole body */
	}
	if (range == GW_IMAGE_RANGE_UNSATISFIABLE) {
		g_autofree gchar *cr = g_strdup_printf("bytes */%" G_GUINT64_FORMAT, size);
		gw_http_request_set_header(request, "Content-Range", cr);
		gw_http_request_respond_bytes(request, 416, "text/plain", NULL, 0);
		return;
	}
	if (range == GW_IMAGE_RANGE_OK) {
		g_autofree gchar *cr = g_strdup_printf("bytes %" G_GUINT64_FORMAT
		                                       "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
		                                       start,
		                                       end,
		                                       size);
		gw_http_request_set_header(request, "Content-Range", cr);
	}
	if (head) {
		gw_http_request_respond_bytes(request,
		                              range == GW_IMAGE_RANGE_OK ? 206 : 200,
		                              "application/octet-stream",
		                              NULL,
		                              range == GW_IMAGE_RANGE_OK ? (gint64)(end - start + 1)
		                                                         : (gint64)size);
		return;
	}
	if (size == 0) {
		gw_http_request_respond_bytes(request, 200, "application/octet-stream", NULL, 0);
		return;
	}
	whole = gw_image_serve_bytes(self, sha, sv, &fd, &error);
	if (whole == NULL) {
		g_warning("cannot map image %s: %s", sha, error->message);
		gw_image_refuse(request, 500, "image unreadable");
		return;
	}
	if ((guint64)g_bytes_get_size(whole) != size) {
		/* replaced under us since the lookup: this mapping is what there is to serve; the
		 * next request looks again */
		gw_image_forget_mapping(self, sha);
		size = g_bytes_get_size(whole);
		if (range == GW_IMAGE_RANGE_OK && end >= size)
			range = GW_IMAGE_RANGE_NONE;
	}
	/* no log line for a served request: at thousands a second its formatting alone was
	 * a visible part of the cost (refusals are still logged). Over plain TCP the kernel
	 * sends the body from the file (the descriptor stays open while the bytes live) */
	{
		g_autoptr(GBytes) body =
		    range == GW_IMAGE_RANGE_OK
		        ? g_bytes_new_from_bytes(whole, (gsize)start, (gsize)(end - start + 1))
		        : g_bytes_ref(whole);
		guint status = range == GW_IMAGE_RANGE_OK ? 206 : 200;
		if (g_bytes_get_size(body) <= GW_IMAGE_SENDFILE_MAX)
			gw_http_request_respond_file(request,
			                             status,
			                             "application/octet-stream",
			                             body,
			                             fd,
			                             range == GW_IMAGE_RANGE_OK ? (goffset)start
			                                                        : 0);
		else
			gw_http_request_respond_bytes(
			    request, status, "application/octet-stream", body, -1);
	}
}

void
gw_image_store_attach(GwImageStore *self, GwHttpServer *server)
{
	g_autofree gchar *configured = gw_config_get_string(self->config, "images", "base-url");
	g_auto(GStrv) uris = gw_http_server_get_uris(server);

	g_return_if_fail(GW_IS_IMAGE_STORE(self));
	g_free(self->base_url);
	self->base_url = NULL;
	if (configured != NULL && configured[0] != '\0') {
		self->base_url = g_strdup(configured);
	} else {
		/* prefer https: what devices fetch with credentials must not cross in clear */
		const gchar *pick = NULL;
		for (guint i = 0; uris != NULL && uris[i] != NULL; i++) {
			if (g_str_has_prefix(uris[i], "https://") && pick == NULL)
				pick = uris[i];
		}
		if (pick == NULL && uris != NULL)
			pick = uris[0];
		if (pick != NULL) {
			g_autoptr(GUri) u = g_uri_parse(pick, G_URI_FLAGS_NONE, NULL);
			if (u != NULL) {
				const gchar *host = g_uri_get_host(u);
				/* a wildcard address is no place to fetch from: the host name */
				if (g_strcmp0(host, "0.0.0.0") == 0 || g_strcmp0(host, "::") == 0)
					host = g_get_host_name();
				self->base_url =
				    g_strdup_printf("%s://%s%s%s:%d",
				                    g_uri_get_scheme(u),
				                    strchr(host, ':') != NULL ? "[" : "",
				                    host,
				                    strchr(host, ':') != NULL ? "]" : "",
				                    g_uri_get_port(u));
			}
		}
	}
	while (self->base_url != NULL && g_str_has_suffix(self->base_url, "/"))
		self->base_url[strlen(self->base_url) - 1] = '\0';
	gw_http_server_add_handler(
	    server, GW_GWMO_HTTP_IMAGES, gw_image_http_handler, g_object_ref(self), g_object_unref);
	g_info("serving images from %s at %s" GW_GWMO_HTTP_IMAGES,
	       self->dir,
	       self->base_url != NULL ? self->base_url : "?");

	/* LocalURI of the images that are there (the address may have changed) */
	{
		g_autoptr(GPtrArray) all = gw_image_store_list(self);
		for (guint i = 0; i < all->len; i++) {
			const gchar *uri = g_ptr_array_index(all, i);
			g_autofree gchar *state = gw_image_dup_leaf(self, uri, "State");
			g_autofree gchar *sha = gw_image_entry_sha(self, uri);
			if (g_strcmp0(state, GW_IMAGE_STATE_AVAILABLE) == 0 && sha != NULL) {
				g_autofree gchar *local = gw_image_local_uri(self, sha);
				gw_image_set_state(self, uri, NULL, -1, -1, local);
			}
		}
	}
}

/* ---- life cycle ---- */

gboolean
gw_image_store_start(GwImageStore *self, GError **error)
{
	g_autoptr(GPtrArray) all = NULL;

	g_return_val_if_fail(GW_IS_IMAGE_STORE(self), FALSE);
	if (self->started)
		return TRUE;
	if (self->url_key == NULL && !gw_image_load_url_key(self, error))
		return FALSE;
	if (g_mkdir_with_parents(self->dir, 0750) != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot create the image directory %s: %s",
		            self->dir,
		            g_strerror(errno));
		return FALSE;
	}
	/* any DM Server may make an entry; it then carries its creator's ACL */
	if (!gw_image_write_interior(self, GW_GWMO_IMAGES, ACCESS_GET_ADD, "Add=*&Get=*", error))
		return FALSE;
	self->exec_download_id =
	    gw_dm_tree_add_exec_handler(self->tree,
	                                GW_GWMO_IMAGES "/*/Operations/Download",
	                                gw_image_exec_download_cb,
	                                self,
	                                NULL);
	self->exec_remove_id = gw_dm_tree_add_exec_handler(
	    self->tree, GW_GWMO_IMAGES "/*/Operations/Remove", gw_image_exec_remove_cb, self, NULL);
	self->changed_id =
	    g_signal_connect(self->tree, "changed", G_CALLBACK(gw_image_tree_changed_cb), self);
	self->started = TRUE;

	/* after a restart: Available needs its file; Downloading resumes its partial file */
	all = gw_image_store_list(self);
	for (guint i = 0; i < all->len; i++) {
		const gchar *uri = g_ptr_array_index(all, i);
		g_autofree gchar *state = gw_image_dup_leaf(self, uri, "State");
		g_autofree gchar *sha = gw_image_entry_sha(self, uri);
		g_autofree gchar *ext = gw_image_dup_leaf(self, uri, "ExternalURI");
		g_autoptr(GError) error_local = NULL;
		if (!gw_image_ensure_skeleton(self, uri, &error_local))
			g_warning("%s: %s", uri, error_local->message);
		if (g_strcmp0(state, GW_IMAGE_STATE_AVAILABLE) == 0 &&
		    (sha == NULL || !gw_image_file_exists(self, sha, NULL))) {
			g_warning("%s: image file gone, State NotDownloaded", uri);
			gw_image_set_state(self, uri, GW_IMAGE_STATE_NOT_DOWNLOADED, 0, 0, "");
		} else if (g_strcmp0(state, GW_IMAGE_STATE_DOWNLOADING) == 0) {
			if (sha != NULL && ext != NULL && gw_image_file_exists(self, sha, NULL)) {
				g_autofree gchar *local = gw_image_local_uri(self, sha);
				guint64 size = 0;
				gw_image_file_exists(self, sha, &size);
				gw_image_set_state(
				    self, uri, GW_IMAGE_STATE_AVAILABLE, 100, (gint64)size, local);
				gw_image_send_alert(self, uri);
			} else if (sha != NULL && ext != NULL) {
				g_info("%s: resuming the download", uri);
				gw_image_start_download(self, sha, ext);
			} else {
				gw_image_set_state(self, uri, GW_IMAGE_STATE_FAILED, 0, 0, "");
			}
		}
	}
	/* leftovers nobody refers to (entries deleted while gwmod was down) */
	gw_image_release_unreferenced(self);
	{
		g_autoptr(GDir) dir = g_dir_open(self->dir, 0, NULL);
		const gchar *name;
		g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func(g_free);
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			if (g_str_has_suffix(name, ".partial") && strlen(name) == 64 + 8) {
				g_autofree gchar *sha = g_strndup(name, 64);
				if (!gw_image_sha_is_referenced(self, sha))
					g_ptr_array_add(stale, g_steal_pointer(&sha));
			}
		}
		for (guint i = 0; i < stale->len; i++)
			gw_image_evict(self, g_ptr_array_index(stale, i));
	}
	return TRUE;
}

void
gw_image_store_set_northbound(GwImageStore *self, GwNorthbound *northbound)
{
	g_return_if_fail(GW_IS_IMAGE_STORE(self));
	g_set_object(&self->northbound, northbound);
}

const gchar *
gw_image_store_get_dir(GwImageStore *self)
{
	return self->dir;
}

guint
gw_image_store_get_download_count(GwImageStore *self)
{
	return self->download_count;
}

static void
gw_image_store_dispose(GObject *object)
{
	GwImageStore *self = GW_IMAGE_STORE(object);
	GHashTableIter iter;
	gpointer value;

	if (self->downloads != NULL) {
		g_hash_table_iter_init(&iter, self->downloads);
		while (g_hash_table_iter_next(&iter, NULL, &value))
			g_cancellable_cancel(((GwImageDownload *)value)->cancellable);
	}
	if (self->tree != NULL) {
		if (self->changed_id != 0)
			g_signal_handler_disconnect(self->tree, self->changed_id);
		if (self->exec_download_id != 0)
			gw_dm_tree_remove_handler(self->tree, self->exec_download_id);
		if (self->exec_remove_id != 0)
			gw_dm_tree_remove_handler(self->tree, self->exec_remove_id);
	}
	self->changed_id = self->exec_download_id = self->exec_remove_id = 0;
	g_clear_object(&self->northbound);
	G_OBJECT_CLASS(gw_image_store_parent_class)->dispose(object);
}

static void
gw_image_store_finalize(GObject *object)
{
	GwImageStore *self = GW_IMAGE_STORE(object);
	g_hash_table_unref(self->downloads);
	g_hash_table_unref(self->serving);
	g_hash_table_unref(self->correlators);
	g_clear_object(&self->inventory);
	g_clear_object(&self->tree);
	g_clear_object(&self->config);
	g_free(self->dir);
	g_free(self->state_dir);
	g_free(self->ca_file);
	g_free(self->base_url);
	g_clear_pointer(&self->url_key, g_bytes_unref);
	G_OBJECT_CLASS(gw_image_store_parent_class)->finalize(object);
}

static void
gw_image_store_class_init(GwImageStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_image_store_dispose;
	object_class->finalize = gw_image_store_finalize;
	signals[SIGNAL_IMAGE_CHANGED] = g_signal_new("image-changed",
	                                             G_TYPE_FROM_CLASS(klass),
	                                             G_SIGNAL_RUN_LAST,
	                                             0,
	                                             NULL,
	                                             NULL,
	                                             NULL,
	                                             G_TYPE_NONE,
	                                             1,
	                                             G_TYPE_STRING);
}

static void
gw_image_store_init(GwImageStore *self)
{
	self->downloads =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_image_download_free);
	self->serving = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_image_serve_free);
	self->correlators = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

GwImageStore *
gw_image_store_new(GwConfig *config,
                   GwDmTree *tree,
                   GwInventory *inventory,
                   const gchar *state_dir,
                   GError **error)
{
	g_autoptr(GwImageStore) self = g_object_new(GW_TYPE_IMAGE_STORE, NULL);
	g_autofree gchar *dir = gw_config_get_string(config, "images", "dir");

	self->config = g_object_ref(config);
	self->tree = g_object_ref(tree);
	gw_dm_owner_init(&self->owner, self->tree);
	self->inventory = g_object_ref(inventory);
	self->dir = dir != NULL && dir[0] != '\0' ? g_steal_pointer(&dir)
	                                          : g_build_filename(state_dir, "images", NULL);
	self->ca_file = gw_config_get_string(config, "northbound", "ca-file");
	self->quota = (guint64)gw_config_get_int(config, "images", "quota");
	self->state_dir = g_strdup(state_dir);
	self->url_lifetime = gw_config_get_int(config, "images", "url-lifetime");
	return g_steal_pointer(&self);
}
