/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: what a device sends to GET /images/<sha256> — the Range header (against a
 * body size taken from the first 8 bytes), the Basic credentials and the image hash.
 * Invariants: a satisfiable range lies inside the body (start <= end < size); an
 * unsatisfiable one starts at or after the end; a parsed hash is 64 lower-case hex digits;
 * decoded Basic credentials are valid UTF-8 without NUL.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-dm-auth.h"
#include "gw-image-store.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	guint64 body = 0;
	guint64 start = G_MAXUINT64;
	guint64 end = G_MAXUINT64;
	g_autofree gchar *text = NULL;
	g_autofree gchar *hash = NULL;
	g_autofree gchar *user = NULL;
	g_autofree gchar *password = NULL;
	GwImageRange r;

	if (size < 8)
		return 0;
	memcpy(&body, data, 8);
	body = GUINT64_FROM_LE(body) % ((guint64)1 << 40);
	text = g_strndup((const gchar *)data + 8, size - 8);

	r = gw_image_store_parse_range(text, body, &start, &end);
	if (r == GW_IMAGE_RANGE_OK) {
		g_assert_cmpuint(start, <=, end);
		g_assert_cmpuint(end, <, body);
	} else {
		g_assert_true(r == GW_IMAGE_RANGE_NONE || r == GW_IMAGE_RANGE_UNSATISFIABLE);
	}

	hash = gw_image_store_parse_hash(text);
	if (hash != NULL) {
		g_assert_cmpuint(strlen(hash), ==, 64);
		for (const gchar *p = hash; *p != '\0'; p++)
			g_assert_true(g_ascii_isdigit(*p) || (*p >= 'a' && *p <= 'f'));
	}

	if (gw_dm_auth_basic_decode(text, &user, &password, NULL)) {
		g_assert_nonnull(user);
		g_assert_nonnull(password);
		g_assert_true(g_utf8_validate(user, -1, NULL));
		g_assert_true(g_utf8_validate(password, -1, NULL));
	}
	return 0;
}
