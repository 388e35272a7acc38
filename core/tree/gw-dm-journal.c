/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwStore"

#include "config.h"

#include <gnutls/crypto.h>
#include <string.h>

#include "gw-dm-journal.h"

#define GW_DM_JOURNAL_MAGIC "GWMO-JOURNAL"
#define GW_DM_JOURNAL_VERSION 1
#define GW_DM_JOURNAL_RECORD_MAGIC "GWJR"

#define GW_DM_JOURNAL_FLAG_PERMANENT 0x01
#define GW_DM_JOURNAL_FLAG_VALUE 0x02
#define GW_DM_JOURNAL_FLAG_MIME 0x04
#define GW_DM_JOURNAL_FLAG_TITLE 0x08
/* the compact node state of a 'T' operation has these two besides the four above */
#define GW_DM_JOURNAL_FLAG_ACL 0x10
#define GW_DM_JOURNAL_FLAG_ACCESS 0x20
/* strings of a 'T' operation up to this size enter its string table */
#define GW_DM_JOURNAL_TABLE_MAX_STR 64
/* deepest subtree a 'T' operation may hold */
#define GW_DM_JOURNAL_MAX_DEPTH 256

/* ---- header ---- */

gchar *
gw_dm_journal_header(const gchar *state_sha256)
{
	return g_strdup_printf(
	    GW_DM_JOURNAL_MAGIC " %u state=%s\n", (guint)GW_DM_JOURNAL_VERSION, state_sha256);
}

gsize
gw_dm_journal_parse_header(const guint8 *data, gsize len, gchar *state_sha256, GError **error)
{
	g_autofree gchar *expected_prefix =
	    g_strdup_printf(GW_DM_JOURNAL_MAGIC " %u state=", (guint)GW_DM_JOURNAL_VERSION);
	gsize prefix_len = strlen(expected_prefix);
	gsize header_len = prefix_len + 64 + 1;

	if (len < header_len) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "journal header is short (%" G_GSIZE_FORMAT " bytes)",
		            len);
		return 0;
	}
	if (memcmp(data, expected_prefix, prefix_len) != 0 || data[header_len - 1] != '\n') {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "bad journal header");
		return 0;
	}
	for (gsize i = prefix_len; i < prefix_len + 64; i++) {
		if (!g_ascii_isxdigit(data[i]) || g_ascii_isupper(data[i])) {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "bad journal header");
			return 0;
		}
	}
	memcpy(state_sha256, data + prefix_len, 64);
	state_sha256[64] = '\0';
	return header_len;
}

/* ---- encoding ---- */

static void
gw_dm_journal_put_u32(GByteArray *out, guint32 v)
{
	guint8 b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
	g_byte_array_append(out, b, 4);
}

static void
gw_dm_journal_put_u64(GByteArray *out, guint64 v)
{
	gw_dm_journal_put_u32(out, (guint32)(v & 0xffffffffu));
	gw_dm_journal_put_u32(out, (guint32)(v >> 32));
}

static void
gw_dm_journal_put_data(GByteArray *out, const void *data, gsize len)
{
	gw_dm_journal_put_u32(out, (guint32)len);
	if (len > 0)
		g_byte_array_append(out, data, (guint)len);
}

static void
gw_dm_journal_put_str(GByteArray *out, const gchar *s)
{
	gw_dm_journal_put_data(out, s, s != NULL ? strlen(s) : 0);
}

static void
gw_dm_journal_put_state(GByteArray *out, GwDmNode *node)
{
	const gchar *mime = gw_dm_node_get_mime_type(node);
	const gchar *title = gw_dm_node_get_title(node);
	GBytes *value = gw_dm_node_get_value(node);
	guint8 head[3];

	head[0] = (guint8)gw_dm_node_get_format(node);
	head[1] = (gw_dm_node_get_permanent(node) ? GW_DM_JOURNAL_FLAG_PERMANENT : 0) |
	          (value != NULL ? GW_DM_JOURNAL_FLAG_VALUE : 0) |
	          (mime != NULL ? GW_DM_JOURNAL_FLAG_MIME : 0) |
	          (title != NULL ? GW_DM_JOURNAL_FLAG_TITLE : 0);
	head[2] = (guint8)gw_dm_node_get_access(node);
	g_byte_array_append(out, head, sizeof(head));
	if (gw_dm_node_has_acl(node)) {
		g_autofree gchar *acl = gw_dm_node_dup_acl(node);
		gw_dm_journal_put_str(out, acl);
	} else {
		gw_dm_journal_put_u32(out, 0);
	}
	if (mime != NULL)
		gw_dm_journal_put_str(out, mime);
	if (title != NULL)
		gw_dm_journal_put_str(out, title);
	if (value != NULL) {
		gsize len = 0;
		gconstpointer data = g_bytes_get_data(value, &len);
		gw_dm_journal_put_data(out, data, len);
	}
}

void
gw_dm_journal_encode_delete(GByteArray *ops, const gchar *uri)
{
	g_byte_array_append(ops, (const guint8 *)"D", 1);
	gw_dm_journal_put_str(ops, uri);
}

void
gw_dm_journal_encode_node(GByteArray *ops, const gchar *uri, GwDmNode *node)
{
	g_byte_array_append(ops, (const guint8 *)"N", 1);
	gw_dm_journal_put_str(ops, uri);
	gw_dm_journal_put_state(ops, node);
}

static void
gw_dm_journal_put_descendants(GByteArray *ops, GwDmNode *node, const gchar *prefix, guint *count)
{
	GPtrArray *children = gw_dm_node_get_children(node);

	for (guint i = 0; i < children->len; i++) {
		GwDmNode *child = g_ptr_array_index(children, i);
		g_autofree gchar *rel =
		    prefix[0] != '\0' ? g_strconcat(prefix, "/", gw_dm_node_get_name(child), NULL)
		                      : g_strdup(gw_dm_node_get_name(child));
		gw_dm_journal_put_str(ops, rel);
		gw_dm_journal_put_state(ops, child);
		(*count)++;
		gw_dm_journal_put_descendants(ops, child, rel, count);
	}
}

void
gw_dm_journal_encode_subtree(GByteArray *ops, const gchar *uri, GwDmNode *node)
{
	guint count_at;
	guint count = 0;

	g_byte_array_append(ops, (const guint8 *)"A", 1);
	gw_dm_journal_put_str(ops, uri);
	gw_dm_journal_put_u32(ops, gw_dm_node_get_position(node));
	gw_dm_journal_put_state(ops, node);
	count_at = ops->len;
	gw_dm_journal_put_u32(ops, 0);
	gw_dm_journal_put_descendants(ops, node, "", &count);
	ops->data[count_at] = count & 0xff;
	ops->data[count_at + 1] = (count >> 8) & 0xff;
	ops->data[count_at + 2] = (count >> 16) & 0xff;
	ops->data[count_at + 3] = (count >> 24) & 0xff;
}

/* ---- the compact subtree encoding ('T') ---- */

static void
gw_dm_journal_put_varint(GByteArray *out, guint64 v)
{
	guint8 b[10];
	guint n = 0;

	do {
		b[n] = (guint8)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			b[n] |= 0x80;
		n++;
	} while (v != 0);
	g_byte_array_append(out, b, n);
}

typedef struct {
	GByteArray *out;
	GHashTable *table; /* (GBytes → index + 1) strings sent so far */
	guint next;
} GwDmJournalTreeWriter;

/* a reference to an earlier string of the operation, or the string itself (k = 0) */
static void
gw_dm_journal_put_ref(GwDmJournalTreeWriter *w, gconstpointer data, gsize len)
{
	g_autoptr(GBytes) key = NULL;
	guint k;

	if (len > GW_DM_JOURNAL_TABLE_MAX_STR) {
		gw_dm_journal_put_varint(w->out, 0);
		gw_dm_journal_put_varint(w->out, len);
		g_byte_array_append(w->out, data, (guint)len);
		return;
	}
	key = g_bytes_new_static(data, len);
	k = GPOINTER_TO_UINT(g_hash_table_lookup(w->table, key));
	if (k != 0) {
		gw_dm_journal_put_varint(w->out, k);
		return;
	}
	gw_dm_journal_put_varint(w->out, 0);
	gw_dm_journal_put_varint(w->out, len);
	g_byte_array_append(w->out, data, (guint)len);
	/* the key must outlive this call: a copy */
	g_hash_table_insert(w->table, g_bytes_new(data, len), GUINT_TO_POINTER(++w->next));
}

static void
gw_dm_journal_put_ref_str(GwDmJournalTreeWriter *w, const gchar *str)
{
	gw_dm_journal_put_ref(w, str, strlen(str));
}

static void
gw_dm_journal_put_tree_node(GwDmJournalTreeWriter *w, GwDmNode *node, gboolean named)
{
	const gchar *mime = gw_dm_node_get_mime_type(node);
	const gchar *title = gw_dm_node_get_title(node);
	GBytes *value = gw_dm_node_get_value(node);
	GPtrArray *children = gw_dm_node_get_children(node);
	GwDmAccess access = gw_dm_node_get_access(node);
	gboolean has_acl = gw_dm_node_has_acl(node);
	guint8 head[2];

	if (named)
		gw_dm_journal_put_ref_str(w, gw_dm_node_get_name(node));
	head[0] = (guint8)gw_dm_node_get_format(node);
	head[1] = (gw_dm_node_get_permanent(node) ? GW_DM_JOURNAL_FLAG_PERMANENT : 0) |
	          (value != NULL ? GW_DM_JOURNAL_FLAG_VALUE : 0) |
	          (mime != NULL ? GW_DM_JOURNAL_FLAG_MIME : 0) |
	          (title != NULL ? GW_DM_JOURNAL_FLAG_TITLE : 0) |
	          (has_acl ? GW_DM_JOURNAL_FLAG_ACL : 0) |
	          (access != GW_DM_ACCESS_ALL ? GW_DM_JOURNAL_FLAG_ACCESS : 0);
	g_byte_array_append(w->out, head, sizeof(head));
	if (access != GW_DM_ACCESS_ALL) {
		guint8 a = (guint8)access;
		g_byte_array_append(w->out, &a, 1);
	}
	if (has_acl) {
		g_autofree gchar *acl = gw_dm_node_dup_acl(node);
		gw_dm_journal_put_ref_str(w, acl);
	}
	if (mime != NULL)
		gw_dm_journal_put_ref_str(w, mime);
	if (title != NULL)
		gw_dm_journal_put_ref_str(w, title);
	if (value != NULL) {
		gsize len = 0;
		gconstpointer data = g_bytes_get_data(value, &len);
		gw_dm_journal_put_ref(w, data, len);
	}
	gw_dm_journal_put_varint(w->out, children->len);
	for (guint i = 0; i < children->len; i++)
		gw_dm_journal_put_tree_node(w, g_ptr_array_index(children, i), TRUE);
}

void
gw_dm_journal_encode_tree(GByteArray *ops, const gchar *uri, GwDmNode *node)
{
	GwDmJournalTreeWriter w = {ops, NULL, 0};

	w.table =
	    g_hash_table_new_full(g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref, NULL);
	g_byte_array_append(ops, (const guint8 *)"T", 1);
	gw_dm_journal_put_str(ops, uri);
	gw_dm_journal_put_u32(ops, gw_dm_node_get_position(node));
	gw_dm_journal_put_tree_node(&w, node, FALSE);
	g_hash_table_unref(w.table);
}

static void
gw_dm_journal_sha256(const guint8 *data, gsize len, guint8 *digest)
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest) < 0) {
		g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
		gsize digest_len = 32;
		g_checksum_update(sum, data, len);
		g_checksum_get_digest(sum, digest, &digest_len);
	}
}

GByteArray *
gw_dm_journal_frame(guint64 sequence, const guint8 *ops, gsize len)
{
	GByteArray *out = g_byte_array_sized_new((guint)(len + GW_DM_JOURNAL_RECORD_OVERHEAD));
	guint8 digest[32];

	g_byte_array_append(out, (const guint8 *)GW_DM_JOURNAL_RECORD_MAGIC, 4);
	gw_dm_journal_put_u32(out, (guint32)len);
	gw_dm_journal_put_u64(out, sequence);
	if (len > 0)
		g_byte_array_append(out, ops, (guint)len);
	gw_dm_journal_sha256(out->data, out->len, digest);
	g_byte_array_append(out, digest, sizeof(digest));
	return out;
}

/* ---- reading ---- */

static guint32
gw_dm_journal_get_u32(const guint8 *p)
{
	return (guint32)p[0] | ((guint32)p[1] << 8) | ((guint32)p[2] << 16) | ((guint32)p[3] << 24);
}

static gboolean
gw_dm_journal_all_zero(const guint8 *data, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if (data[i] != 0)
			return FALSE;
	}
	return TRUE;
}

GwDmJournalRecordStatus
gw_dm_journal_read_record(const guint8 *data,
                          gsize len,
                          gsize offset,
                          guint64 expected_sequence,
                          const guint8 **payload,
                          gsize *payload_len,
                          gsize *next_offset,
                          GError **error)
{
	const guint8 *p = data + offset;
	gsize left;
	guint32 plen;
	guint64 seq;
	guint8 digest[32];

	g_return_val_if_fail(offset <= len, GW_DM_JOURNAL_RECORD_CORRUPT);

	left = len - offset;
	if (left == 0)
		return GW_DM_JOURNAL_RECORD_END;
	/* a crash can leave the file longer than what reached the disk, filled with zeros */
	if (gw_dm_journal_all_zero(p, left)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "%" G_GSIZE_FORMAT " zero bytes at the end",
		            left);
		return GW_DM_JOURNAL_RECORD_TORN;
	}
	if (left < 16) {
		if (memcmp(p, GW_DM_JOURNAL_RECORD_MAGIC, MIN(left, (gsize)4)) != 0)
			goto bad_magic;
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "record header cut after %" G_GSIZE_FORMAT " bytes",
		            left);
		return GW_DM_JOURNAL_RECORD_TORN;
	}
	if (memcmp(p, GW_DM_JOURNAL_RECORD_MAGIC, 4) != 0)
		goto bad_magic;
	plen = gw_dm_journal_get_u32(p + 4);
	seq =
	    (guint64)gw_dm_journal_get_u32(p + 8) | ((guint64)gw_dm_journal_get_u32(p + 12) << 32);
	if (plen > GW_DM_JOURNAL_MAX_PAYLOAD) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "record %" G_GUINT64_FORMAT " claims %u bytes",
		            seq,
		            plen);
		return GW_DM_JOURNAL_RECORD_CORRUPT;
	}
	if (left < (gsize)plen + GW_DM_JOURNAL_RECORD_OVERHEAD) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "record %" G_GUINT64_FORMAT " cut: %" G_GSIZE_FORMAT
		            " of %" G_GSIZE_FORMAT " bytes",
		            seq,
		            left,
		            (gsize)plen + GW_DM_JOURNAL_RECORD_OVERHEAD);
		return GW_DM_JOURNAL_RECORD_TORN;
	}
	gw_dm_journal_sha256(p, 16 + (gsize)plen, digest);
	if (memcmp(digest, p + 16 + plen, sizeof(digest)) != 0) {
		gboolean last = left == (gsize)plen + GW_DM_JOURNAL_RECORD_OVERHEAD;
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "record %" G_GUINT64_FORMAT " at offset %" G_GSIZE_FORMAT
		            " has a bad checksum",
		            seq,
		            offset);
		/* the last record with a bad checksum is a write that did not finish */
		return last ? GW_DM_JOURNAL_RECORD_TORN : GW_DM_JOURNAL_RECORD_CORRUPT;
	}
	if (seq != expected_sequence) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_CORRUPT_STATE,
		            "record at offset %" G_GSIZE_FORMAT " has sequence %" G_GUINT64_FORMAT
		            ", expected %" G_GUINT64_FORMAT,
		            offset,
		            seq,
		            expected_sequence);
		return GW_DM_JOURNAL_RECORD_CORRUPT;
	}
	*payload = p + 16;
	*payload_len = plen;
	*next_offset = offset + (gsize)plen + GW_DM_JOURNAL_RECORD_OVERHEAD;
	return GW_DM_JOURNAL_RECORD_OK;

bad_magic:
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_CORRUPT_STATE,
	            "no record magic at offset %" G_GSIZE_FORMAT,
	            offset);
	return GW_DM_JOURNAL_RECORD_CORRUPT;
}

/* ---- decoding and applying ---- */

typedef struct {
	const guint8 *p;
	gsize left;
} GwDmJournalReader;

static gboolean
gw_dm_journal_take(GwDmJournalReader *r, gsize n, const guint8 **out)
{
	if (r->left < n)
		return FALSE;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return TRUE;
}

static gboolean
gw_dm_journal_take_u32(GwDmJournalReader *r, guint32 *v)
{
	const guint8 *p;
	if (!gw_dm_journal_take(r, 4, &p))
		return FALSE;
	*v = gw_dm_journal_get_u32(p);
	return TRUE;
}

/* a string without NUL; @out is NULL when @decode_only */
static gboolean
gw_dm_journal_take_str(GwDmJournalReader *r, gboolean decode_only, gchar **out)
{
	const guint8 *p;
	guint32 n;

	if (!gw_dm_journal_take_u32(r, &n) || !gw_dm_journal_take(r, n, &p))
		return FALSE;
	if (memchr(p, '\0', n) != NULL)
		return FALSE;
	if (!decode_only)
		*out = g_strndup((const gchar *)p, n);
	return TRUE;
}

static gboolean
gw_dm_journal_take_varint(GwDmJournalReader *r, guint64 *v)
{
	guint64 result = 0;

	for (guint shift = 0; shift < 64; shift += 7) {
		const guint8 *p;
		if (!gw_dm_journal_take(r, 1, &p))
			return FALSE;
		result |= (guint64)(p[0] & 0x7f) << shift;
		if ((p[0] & 0x80) == 0) {
			*v = result;
			return TRUE;
		}
	}
	return FALSE;
}

/* what the tree refused while a payload was applied */
typedef struct {
	GError *first;
	guint count;
} GwDmJournalRefused;

/* the strings of one 'T' operation: each points into the payload */
typedef struct {
	const guint8 *data;
	gsize len;
} GwDmJournalSpan;

typedef struct {
	GwDmJournalReader *r;
	GArray *table;  /* (element-type GwDmJournalSpan) */
	GwDmTree *tree; /* NULL: decode only */
	GwDmJournalRefused *refused;
} GwDmJournalTreeReader;

static gboolean
gw_dm_journal_take_ref(GwDmJournalTreeReader *t, GwDmJournalSpan *out)
{
	guint64 k;
	guint64 len;

	if (!gw_dm_journal_take_varint(t->r, &k))
		return FALSE;
	if (k > 0) {
		if (k > t->table->len)
			return FALSE;
		*out = g_array_index(t->table, GwDmJournalSpan, k - 1);
		return TRUE;
	}
	if (!gw_dm_journal_take_varint(t->r, &len) || len > t->r->left ||
	    !gw_dm_journal_take(t->r, (gsize)len, &out->data))
		return FALSE;
	out->len = (gsize)len;
	if (out->len <= GW_DM_JOURNAL_TABLE_MAX_STR)
		g_array_append_val(t->table, *out);
	return TRUE;
}

/* a string (no NUL in it); @out is NULL when decoding only */
static gboolean
gw_dm_journal_take_ref_str(GwDmJournalTreeReader *t, gchar **out)
{
	GwDmJournalSpan span;

	if (!gw_dm_journal_take_ref(t, &span) || memchr(span.data, '\0', span.len) != NULL)
		return FALSE;
	if (t->tree != NULL)
		*out = g_strndup((const gchar *)span.data, span.len);
	return TRUE;
}

typedef struct {
	GwDmNodeState state;
	gchar *acl;
	gchar *mime_type;
	gchar *title;
	GBytes *value;
} GwDmJournalState;

static void
gw_dm_journal_state_clear(GwDmJournalState *s)
{
	g_free(s->acl);
	g_free(s->mime_type);
	g_free(s->title);
	if (s->value != NULL)
		g_bytes_unref(s->value);
	memset(s, 0, sizeof(*s));
}

static gboolean
gw_dm_journal_take_state(GwDmJournalReader *r, gboolean decode_only, GwDmJournalState *s)
{
	const guint8 *head;
	guint8 flags;

	if (!gw_dm_journal_take(r, 3, &head))
		return FALSE;
	flags = head[1];
	if (head[0] >= GW_DM_FORMAT_INVALID || (flags & ~0x0f) != 0 ||
	    (head[2] & ~GW_DM_ACCESS_ALL) != 0)
		return FALSE;
	if (!gw_dm_journal_take_str(r, decode_only, &s->acl))
		return FALSE;
	if ((flags & GW_DM_JOURNAL_FLAG_MIME) &&
	    !gw_dm_journal_take_str(r, decode_only, &s->mime_type))
		return FALSE;
	if ((flags & GW_DM_JOURNAL_FLAG_TITLE) &&
	    !gw_dm_journal_take_str(r, decode_only, &s->title))
		return FALSE;
	if (flags & GW_DM_JOURNAL_FLAG_VALUE) {
		const guint8 *p;
		guint32 n;
		if (!gw_dm_journal_take_u32(r, &n) || !gw_dm_journal_take(r, n, &p))
			return FALSE;
		if (!decode_only)
			s->value = g_bytes_new(p, n);
	}
	s->state.format = (GwDmFormat)head[0];
	s->state.access = (GwDmAccess)head[2];
	s->state.permanent = (flags & GW_DM_JOURNAL_FLAG_PERMANENT) != 0;
	s->state.acl = s->acl;
	s->state.mime_type = s->mime_type;
	s->state.title = s->title;
	s->state.value = s->value;
	return TRUE;
}

static void
gw_dm_journal_note(GwDmJournalRefused *refused,
                   const gchar *what,
                   const gchar *uri,
                   const GError *error)
{
	g_debug("journal: %s %s failed: %s", what, uri, error->message);
	refused->count++;
	if (refused->first == NULL)
		g_set_error(&refused->first,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "%s %s failed: %s",
		            what,
		            uri,
		            error->message);
}

static gboolean
gw_dm_journal_take_tree_state(GwDmJournalTreeReader *t, GwDmJournalState *s)
{
	const guint8 *head;
	guint8 flags;
	guint8 access = GW_DM_ACCESS_ALL;

	if (!gw_dm_journal_take(t->r, 2, &head))
		return FALSE;
	flags = head[1];
	if (head[0] >= GW_DM_FORMAT_INVALID || (flags & ~0x3f) != 0)
		return FALSE;
	if (flags & GW_DM_JOURNAL_FLAG_ACCESS) {
		const guint8 *a;
		if (!gw_dm_journal_take(t->r, 1, &a) || (a[0] & ~GW_DM_ACCESS_ALL) != 0)
			return FALSE;
		access = a[0];
	}
	if ((flags & GW_DM_JOURNAL_FLAG_ACL) && !gw_dm_journal_take_ref_str(t, &s->acl))
		return FALSE;
	if ((flags & GW_DM_JOURNAL_FLAG_MIME) && !gw_dm_journal_take_ref_str(t, &s->mime_type))
		return FALSE;
	if ((flags & GW_DM_JOURNAL_FLAG_TITLE) && !gw_dm_journal_take_ref_str(t, &s->title))
		return FALSE;
	if (flags & GW_DM_JOURNAL_FLAG_VALUE) {
		GwDmJournalSpan span;
		if (!gw_dm_journal_take_ref(t, &span))
			return FALSE;
		if (t->tree != NULL)
			s->value = g_bytes_new(span.data, span.len);
	}
	s->state.format = (GwDmFormat)head[0];
	s->state.access = (GwDmAccess)access;
	s->state.permanent = (flags & GW_DM_JOURNAL_FLAG_PERMANENT) != 0;
	s->state.acl = s->acl;
	s->state.mime_type = s->mime_type;
	s->state.title = s->title;
	s->state.value = s->value;
	return TRUE;
}

/* the node at @uri after its restore was refused: its descendants are restored all the same,
 * under an interior node made for them (NULL when even that is refused) */
static GwDmNode *
gw_dm_journal_refused_parent(GwDmTree *tree, const gchar *uri)
{
	GwDmNode *node = gw_dm_tree_lookup(tree, uri);

	if (node == NULL && gw_dm_tree_ensure_interior(tree, uri, NULL))
		node = gw_dm_tree_lookup(tree, uri);
	return node != NULL && !gw_dm_node_is_leaf(node) ? node : NULL;
}

/* the children of @node (at @uri) in a 'T' operation, and theirs; @node is NULL when
 * decoding only, or when it could not be restored (then nothing below it is) */
static gboolean
gw_dm_journal_take_tree_children(GwDmJournalTreeReader *t,
                                 GwDmNode *node,
                                 const gchar *uri,
                                 guint depth)
{
	guint64 count;

	if (depth > GW_DM_JOURNAL_MAX_DEPTH || !gw_dm_journal_take_varint(t->r, &count) ||
	    count > t->r->left)
		return FALSE;
	for (guint64 i = 0; i < count; i++) {
		g_autofree gchar *name = NULL;
		g_autofree gchar *child_uri = NULL;
		GwDmJournalState s = {0};
		GwDmJournalSpan span;
		GwDmNode *child = NULL;
		gboolean ok;

		if (!gw_dm_journal_take_ref(t, &span) || span.len == 0 ||
		    memchr(span.data, '\0', span.len) != NULL ||
		    memchr(span.data, '/', span.len) != NULL)
			return FALSE;
		ok = gw_dm_journal_take_tree_state(t, &s);
		if (ok && t->tree != NULL) {
			g_autoptr(GError) error = NULL;
			name = g_strndup((const gchar *)span.data, span.len);
			child_uri = g_strconcat(uri, "/", name, NULL);
			if (node != NULL)
				child = gw_dm_tree_restore_child(
				    t->tree, node, uri, name, &s.state, &error);
			else
				g_set_error_literal(
				    &error, GW_ERROR, GW_ERROR_FAILED, "its parent was refused");
			if (child == NULL) {
				gw_dm_journal_note(t->refused, "add", child_uri, error);
				if (node != NULL)
					child = gw_dm_journal_refused_parent(t->tree, child_uri);
			} else if (gw_dm_node_is_leaf(child)) {
				child = NULL;
			}
		}
		gw_dm_journal_state_clear(&s);
		if (!ok || !gw_dm_journal_take_tree_children(t, child, child_uri, depth + 1))
			return FALSE;
	}
	return TRUE;
}

/* the node at @uri of a 'T' operation (@uri NULL when decoding only) and its subtree */
static gboolean
gw_dm_journal_take_tree_node(GwDmJournalTreeReader *t, const gchar *uri, gint position)
{
	GwDmJournalState s = {0};
	GwDmNode *node = NULL;
	gboolean ok;

	ok = gw_dm_journal_take_tree_state(t, &s);
	if (ok && t->tree != NULL) {
		g_autoptr(GError) error = NULL;
		if (gw_dm_tree_restore_node(t->tree, uri, &s.state, position, &error)) {
			node = gw_dm_tree_lookup(t->tree, uri);
		} else {
			gw_dm_journal_note(t->refused, "add", uri, error);
			node = gw_dm_journal_refused_parent(t->tree, uri);
		}
		if (node != NULL && gw_dm_node_is_leaf(node))
			node = NULL;
	}
	gw_dm_journal_state_clear(&s);
	return ok && gw_dm_journal_take_tree_children(t, node, uri, 0);
}

/* @tree NULL: decode only (@first_error unused) */
static gboolean
gw_dm_journal_run(GwDmTree *tree, const guint8 *payload, gsize len, GwDmJournalRefused *first_error)
{
	GwDmJournalReader r = {payload, len};
	const gboolean decode_only = tree == NULL;

	if (len == 0)
		return FALSE;
	while (r.left > 0) {
		const guint8 *op;
		g_autofree gchar *uri = NULL;

		if (!gw_dm_journal_take(&r, 1, &op) ||
		    !gw_dm_journal_take_str(&r, decode_only, &uri))
			return FALSE;
		switch (op[0]) {
		case 'D':
			if (!decode_only && gw_dm_tree_lookup(tree, uri) != NULL) {
				g_autoptr(GError) error = NULL;
				if (!gw_dm_tree_remove(tree, uri, &error))
					gw_dm_journal_note(first_error, "delete", uri, error);
			}
			break;
		case 'N': {
			GwDmJournalState s = {0};
			if (!gw_dm_journal_take_state(&r, decode_only, &s)) {
				gw_dm_journal_state_clear(&s);
				return FALSE;
			}
			if (!decode_only) {
				g_autoptr(GError) error = NULL;
				if (!gw_dm_tree_restore_node(tree, uri, &s.state, -1, &error))
					gw_dm_journal_note(first_error, "set", uri, error);
			}
			gw_dm_journal_state_clear(&s);
			break;
		}
		case 'T': {
			g_autoptr(GArray) table =
			    g_array_new(FALSE, FALSE, sizeof(GwDmJournalSpan));
			GwDmJournalTreeReader t = {&r, table, tree, first_error};
			guint32 position;

			if (!gw_dm_journal_take_u32(&r, &position))
				return FALSE;
			if (!decode_only && gw_dm_tree_lookup(tree, uri) != NULL &&
			    g_strcmp0(uri, ".") != 0) {
				/* what was there is replaced, subtree and all */
				g_autoptr(GError) error = NULL;
				if (!gw_dm_tree_remove(tree, uri, &error))
					gw_dm_journal_note(first_error, "add", uri, error);
			}
			if (!gw_dm_journal_take_tree_node(&t,
			                                  decode_only ? NULL : uri,
			                                  (gint)MIN(position, (guint32)G_MAXINT)))
				return FALSE;
			break;
		}
		case 'A': {
			GwDmJournalState s = {0};
			guint32 position;
			guint32 count;

			if (!gw_dm_journal_take_u32(&r, &position) ||
			    !gw_dm_journal_take_state(&r, decode_only, &s) ||
			    !gw_dm_journal_take_u32(&r, &count)) {
				gw_dm_journal_state_clear(&s);
				return FALSE;
			}
			if (!decode_only) {
				g_autoptr(GError) error = NULL;
				/* what was there is replaced, subtree and all */
				if (gw_dm_tree_lookup(tree, uri) != NULL &&
				    g_strcmp0(uri, ".") != 0 &&
				    !gw_dm_tree_remove(tree, uri, &error)) {
					gw_dm_journal_note(first_error, "add", uri, error);
					g_clear_error(&error);
				}
				/* a root whose properties are refused (rules grown stricter since
				 * it was written) does not take its subtree with it: the
				 * descendants are restored all the same, under an interior node
				 * made for them when the root could not be */
				if (!gw_dm_tree_restore_node(tree,
				                             uri,
				                             &s.state,
				                             (gint)MIN(position, (guint32)G_MAXINT),
				                             &error))
					gw_dm_journal_note(first_error, "add", uri, error);
			}
			gw_dm_journal_state_clear(&s);
			for (guint32 i = 0; i < count; i++) {
				g_autofree gchar *rel = NULL;
				GwDmJournalState cs = {0};
				if (!gw_dm_journal_take_str(&r, decode_only, &rel) ||
				    !gw_dm_journal_take_state(&r, decode_only, &cs)) {
					gw_dm_journal_state_clear(&cs);
					return FALSE;
				}
				if (!decode_only) {
					g_autoptr(GError) error = NULL;
					g_autofree gchar *child = g_strconcat(uri, "/", rel, NULL);
					if (!gw_dm_tree_restore_node(
					        tree, child, &cs.state, -1, &error))
						gw_dm_journal_note(
						    first_error, "add", child, error);
				}
				gw_dm_journal_state_clear(&cs);
			}
			break;
		}
		default:
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
gw_dm_journal_apply(GwDmTree *tree, const guint8 *payload, gsize len, GError **error)
{
	GwDmJournalRefused refused = {0};

	g_return_val_if_fail(GW_IS_DM_TREE(tree), FALSE);

	if (!gw_dm_journal_run(NULL, payload, len, NULL)) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_CORRUPT_STATE, "record payload does not decode");
		return FALSE;
	}
	gw_dm_journal_run(tree, payload, len, &refused);
	if (refused.first != NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "%u node(s) refused, the first: %s",
		            refused.count,
		            refused.first->message);
		g_error_free(refused.first);
		return FALSE;
	}
	return TRUE;
}
