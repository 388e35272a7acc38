/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwPkg0"

#include "config.h"

#include <string.h>

#include "gw-dm-auth.h"
#include "gw-error.h"
#include "gw-pkg0.h"

/* bit positions in the 64-bit big-endian header that follows the digest */
#define GW_PKG0_SHIFT_VERSION 54
#define GW_PKG0_SHIFT_UI_MODE 52
#define GW_PKG0_SHIFT_INITIATOR 51
#define GW_PKG0_SHIFT_FUTURE 24
#define GW_PKG0_SHIFT_SESSION 8
#define GW_PKG0_MASK_VERSION 0x3ffu
#define GW_PKG0_MASK_FUTURE 0x7ffffffu

GwPkg0 *
gw_pkg0_new(void)
{
	return g_new0(GwPkg0, 1);
}

void
gw_pkg0_free(GwPkg0 *n)
{
	if (n == NULL)
		return;
	g_free(n->server_id);
	if (n->vendor != NULL)
		g_bytes_unref(n->vendor);
	g_free(n);
}

GBytes *
gw_pkg0_build(const GwPkg0 *n, const gchar *server_password, const guint8 *nonce, gsize nonce_len)
{
	g_autoptr(GByteArray) buf = NULL;
	guint version;
	gsize sid_len;
	guint64 header;
	guint8 digest[GW_PKG0_DIGEST_LEN];

	g_return_val_if_fail(n != NULL, NULL);
	g_return_val_if_fail(n->server_id != NULL, NULL);
	g_return_val_if_fail(server_password != NULL, NULL);
	g_return_val_if_fail(nonce != NULL || nonce_len == 0, NULL);
	g_return_val_if_fail(n->ui_mode <= GW_PKG0_UI_MODE_USER_INTERACTION, NULL);
	sid_len = strlen(n->server_id);
	g_return_val_if_fail(sid_len > 0 && sid_len <= 255, NULL);
	version = n->version != 0 ? n->version : GW_PKG0_VERSION_DEFAULT;
	g_return_val_if_fail(version <= GW_PKG0_MASK_VERSION, NULL);

	header = ((guint64)version << GW_PKG0_SHIFT_VERSION) |
	         ((guint64)n->ui_mode << GW_PKG0_SHIFT_UI_MODE) |
	         ((guint64)(n->server_initiated ? 1 : 0) << GW_PKG0_SHIFT_INITIATOR) |
	         ((guint64)n->session_id << GW_PKG0_SHIFT_SESSION) | (guint64)sid_len;

	buf = g_byte_array_sized_new(GW_PKG0_HEADER_LEN + (guint)sid_len +
	                             (n->vendor != NULL ? (guint)g_bytes_get_size(n->vendor) : 0));
	/* digest placeholder, filled in below */
	memset(digest, 0, sizeof(digest));
	g_byte_array_append(buf, digest, sizeof(digest));
	for (gint i = 7; i >= 0; i--) {
		guint8 b = (guint8)(header >> (i * 8));
		g_byte_array_append(buf, &b, 1);
	}
	g_byte_array_append(buf, (const guint8 *)n->server_id, (guint)sid_len);
	if (n->vendor != NULL && g_bytes_get_size(n->vendor) > 0) {
		gsize vlen = 0;
		const guint8 *v = g_bytes_get_data(n->vendor, &vlen);
		g_byte_array_append(buf, v, (guint)vlen);
	}

	gw_dm_auth_hmac_compute_raw(n->server_id,
	                            server_password,
	                            nonce,
	                            nonce_len,
	                            buf->data + GW_PKG0_DIGEST_LEN,
	                            buf->len - GW_PKG0_DIGEST_LEN,
	                            digest);
	memcpy(buf->data, digest, sizeof(digest));
	return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

GwPkg0 *
gw_pkg0_parse(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(GwPkg0) n = NULL;
	guint64 header = 0;
	guint future;
	gsize sid_len;
	const guint8 *sid;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (len < GW_PKG0_HEADER_LEN) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "Package #0 too short (%" G_GSIZE_FORMAT " bytes, need %u)",
		            len,
		            (guint)GW_PKG0_HEADER_LEN);
		return NULL;
	}
	for (guint i = GW_PKG0_DIGEST_LEN; i < GW_PKG0_HEADER_LEN; i++)
		header = (header << 8) | data[i];

	sid_len = (gsize)(header & 0xff);
	if (sid_len == 0) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_PROTOCOL,
		                    "Package #0 has an empty server identifier");
		return NULL;
	}
	if (sid_len > len - GW_PKG0_HEADER_LEN) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "Package #0 server identifier length %" G_GSIZE_FORMAT
		            " runs past the end (%" G_GSIZE_FORMAT " bytes left)",
		            sid_len,
		            len - GW_PKG0_HEADER_LEN);
		return NULL;
	}
	sid = data + GW_PKG0_HEADER_LEN;
	if (!g_utf8_validate((const gchar *)sid, (gssize)sid_len, NULL)) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_PROTOCOL,
		                    "Package #0 server identifier is not UTF-8 (or contains NUL)");
		return NULL;
	}

	n = gw_pkg0_new();
	n->version = (guint)((header >> GW_PKG0_SHIFT_VERSION) & GW_PKG0_MASK_VERSION);
	if (n->version != GW_PKG0_VERSION_DM12 && n->version != GW_PKG0_VERSION_12) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "Package #0 version %u.%u is not supported",
		            n->version / 10,
		            n->version % 10);
		return NULL;
	}
	g_debug(
	    "Package #0 version field %u (%u.%u)", n->version, n->version / 10, n->version % 10);
	n->ui_mode = (guint)((header >> GW_PKG0_SHIFT_UI_MODE) & 0x3);
	n->server_initiated = ((header >> GW_PKG0_SHIFT_INITIATOR) & 0x1) != 0;
	future = (guint)((header >> GW_PKG0_SHIFT_FUTURE) & GW_PKG0_MASK_FUTURE);
	if (future != 0)
		g_debug("Package #0 future-use bits are not zero (0x%07x), ignored", future);
	n->session_id = (guint16)((header >> GW_PKG0_SHIFT_SESSION) & 0xffff);
	n->server_id = g_strndup((const gchar *)sid, sid_len);
	if (len > GW_PKG0_HEADER_LEN + sid_len)
		n->vendor = g_bytes_new(sid + sid_len, len - GW_PKG0_HEADER_LEN - sid_len);
	return g_steal_pointer(&n);
}

gboolean
gw_pkg0_verify(const guint8 *data,
               gsize len,
               const gchar *server_password,
               const guint8 *nonce,
               gsize nonce_len,
               GError **error)
{
	g_autoptr(GwPkg0) n = NULL;
	guint8 digest[GW_PKG0_DIGEST_LEN];

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(server_password != NULL, FALSE);
	g_return_val_if_fail(nonce != NULL || nonce_len == 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	n = gw_pkg0_parse(data, len, error);
	if (n == NULL)
		return FALSE;
	gw_dm_auth_hmac_compute_raw(n->server_id,
	                            server_password,
	                            nonce,
	                            nonce_len,
	                            data + GW_PKG0_DIGEST_LEN,
	                            len - GW_PKG0_DIGEST_LEN,
	                            digest);
	if (!gw_dm_auth_secure_equal(digest, data, GW_PKG0_DIGEST_LEN)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "Package #0 digest does not match for server '%s'",
		            n->server_id);
		return FALSE;
	}
	return TRUE;
}

const guint8 gw_pkg0_zero_nonce[GW_PKG0_ZERO_NONCE_LEN] = {0, 0, 0, 0};

GBytes *
gw_pkg0_build_with_nonce(const GwPkg0 *n, const gchar *server_password, GBytes *nonce)
{
	gsize len = 0;
	const guint8 *data = nonce != NULL ? g_bytes_get_data(nonce, &len) : NULL;

	if (len == 0)
		return gw_pkg0_build(
		    n, server_password, gw_pkg0_zero_nonce, GW_PKG0_ZERO_NONCE_LEN);
	return gw_pkg0_build(n, server_password, data, len);
}

gboolean
gw_pkg0_verify_with_fallback(const guint8 *data,
                             gsize len,
                             const gchar *server_password,
                             GBytes *nonce,
                             gboolean *fallback,
                             GError **error)
{
	g_autoptr(GError) stored_error = NULL;
	g_autoptr(GError) zero_error = NULL;
	gsize nonce_len = 0;
	const guint8 *nonce_data = nonce != NULL ? g_bytes_get_data(nonce, &nonce_len) : NULL;

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(server_password != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (fallback != NULL)
		*fallback = FALSE;
	if (nonce_len > 0) {
		if (gw_pkg0_verify(
		        data, len, server_password, nonce_data, nonce_len, &stored_error))
			return TRUE;
		if (!g_error_matches(stored_error, GW_ERROR, GW_ERROR_AUTH_FAILED)) {
			g_propagate_error(error, g_steal_pointer(&stored_error));
			return FALSE;
		}
	}
	if (gw_pkg0_verify(data,
	                   len,
	                   server_password,
	                   gw_pkg0_zero_nonce,
	                   GW_PKG0_ZERO_NONCE_LEN,
	                   &zero_error)) {
		if (fallback != NULL)
			*fallback = TRUE;
		return TRUE;
	}
	if (!g_error_matches(zero_error, GW_ERROR, GW_ERROR_AUTH_FAILED)) {
		g_propagate_error(error, g_steal_pointer(&zero_error));
		return FALSE;
	}
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_AUTH_FAILED,
	            "%s (tried %s)",
	            zero_error->message,
	            nonce_len > 0 ? "the stored nonce and the all-zero nonce"
	                          : "the all-zero nonce, no nonce is stored");
	return FALSE;
}

gchar *
gw_pkg0_session_id_to_string(guint16 session_id)
{
	return g_strdup_printf("%X", (guint)session_id);
}

/* replay guard */

typedef struct {
	gchar *key;
	gint64 time_us;
} GwPkg0ReplayEntry;

struct _GwPkg0ReplayGuard {
	gint64 window_us;
	guint max_entries;
	GHashTable *index; /* key (owned by the entry) -> GList link in @order */
	GQueue order;      /* GwPkg0ReplayEntry, oldest first */
};

static void
gw_pkg0_replay_entry_free(GwPkg0ReplayEntry *entry)
{
	g_free(entry->key);
	g_free(entry);
}

GwPkg0ReplayGuard *
gw_pkg0_replay_guard_new(guint window_seconds, guint max_entries)
{
	GwPkg0ReplayGuard *guard = g_new0(GwPkg0ReplayGuard, 1);
	guard->window_us = (gint64)window_seconds * G_USEC_PER_SEC;
	guard->max_entries = max_entries != 0 ? max_entries : GW_PKG0_REPLAY_DEFAULT_MAX_ENTRIES;
	guard->index = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&guard->order);
	return guard;
}

void
gw_pkg0_replay_guard_free(GwPkg0ReplayGuard *guard)
{
	if (guard == NULL)
		return;
	g_hash_table_unref(guard->index);
	g_queue_clear_full(&guard->order, (GDestroyNotify)gw_pkg0_replay_entry_free);
	g_free(guard);
}

static void
gw_pkg0_replay_guard_drop(GwPkg0ReplayGuard *guard, GList *link)
{
	GwPkg0ReplayEntry *entry = link->data;
	g_hash_table_remove(guard->index, entry->key);
	g_queue_delete_link(&guard->order, link);
	gw_pkg0_replay_entry_free(entry);
}

gboolean
gw_pkg0_replay_guard_check_and_remember(GwPkg0ReplayGuard *guard,
                                        const gchar *server_id,
                                        guint16 session_id,
                                        gint64 now_us)
{
	g_autofree gchar *key = NULL;
	GwPkg0ReplayEntry *entry;
	GList *link;

	g_return_val_if_fail(guard != NULL, FALSE);
	g_return_val_if_fail(server_id != NULL, FALSE);

	/* expire from the oldest end */
	while ((link = g_queue_peek_head_link(&guard->order)) != NULL) {
		entry = link->data;
		if (now_us - entry->time_us < guard->window_us)
			break;
		gw_pkg0_replay_guard_drop(guard, link);
	}

	/* fixed-width session id first, so the key is unambiguous */
	key = g_strdup_printf("%04x:%s", (guint)session_id, server_id);
	link = g_hash_table_lookup(guard->index, key);
	if (link != NULL) {
		entry = link->data;
		if (now_us - entry->time_us < guard->window_us) {
			g_debug("Package #0 session %X from '%s' already seen, ignored",
			        (guint)session_id,
			        server_id);
			return FALSE;
		}
		/* clock went forward past an entry not at the head: forget it */
		gw_pkg0_replay_guard_drop(guard, link);
	}

	while (guard->order.length >= guard->max_entries)
		gw_pkg0_replay_guard_drop(guard, g_queue_peek_head_link(&guard->order));

	entry = g_new0(GwPkg0ReplayEntry, 1);
	entry->key = g_steal_pointer(&key);
	entry->time_us = now_us;
	g_queue_push_tail(&guard->order, entry);
	g_hash_table_insert(guard->index, entry->key, g_queue_peek_tail_link(&guard->order));
	return TRUE;
}

guint
gw_pkg0_replay_guard_get_size(GwPkg0ReplayGuard *guard)
{
	g_return_val_if_fail(guard != NULL, 0);
	return guard->order.length;
}
