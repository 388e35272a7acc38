/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: Package #0 parse and verify with a fixed password and nonce.
 * Invariants: parse fails with GW_ERROR_PROTOCOL exactly when verify does; a parsed package
 * verifies or fails with GW_ERROR_AUTH_FAILED; rebuilding a parsed package and parsing it
 * again gives the same fields, and the rebuilt package verifies.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-error.h"
#include "gw-pkg0.h"

#define FUZZ_PASSWORD "fuzz-secret"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const guint8 nonce[] = {'f', 'u', 'z', 'z', '-', 'n', 'o', 'n', 'c', 'e'};
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) verror = NULL;
	g_autoptr(GwPkg0) n = gw_pkg0_parse(data, size, &error);
	gboolean ok = gw_pkg0_verify(data, size, FUZZ_PASSWORD, nonce, sizeof(nonce), &verror);

	g_assert_true((n == NULL) != (error == NULL));
	g_assert_true(ok != (verror != NULL));
	if (n == NULL) {
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_error(verror, GW_ERROR, GW_ERROR_PROTOCOL);
	} else {
		g_autoptr(GBytes) rebuilt = NULL;
		g_autoptr(GwPkg0) n2 = NULL;
		g_autofree gchar *sid = gw_pkg0_session_id_to_string(n->session_id);

		if (!ok)
			g_assert_error(verror, GW_ERROR, GW_ERROR_AUTH_FAILED);
		g_assert_cmpuint(strlen(sid), >=, 1);
		g_assert_cmpuint(strlen(sid), <=, 4);
		rebuilt = gw_pkg0_build(n, FUZZ_PASSWORD, nonce, sizeof(nonce));
		g_assert_nonnull(rebuilt);
		n2 =
		    gw_pkg0_parse(g_bytes_get_data(rebuilt, NULL), g_bytes_get_size(rebuilt), NULL);
		g_assert_nonnull(n2);
		g_assert_cmpuint(n2->version, ==, n->version);
		g_assert_cmpuint(n2->ui_mode, ==, n->ui_mode);
		g_assert_cmpint(n2->server_initiated, ==, n->server_initiated);
		g_assert_cmpuint(n2->session_id, ==, n->session_id);
		g_assert_cmpstr(n2->server_id, ==, n->server_id);
		g_assert_true((n->vendor == NULL && n2->vendor == NULL) ||
		              (n->vendor != NULL && n2->vendor != NULL &&
		               g_bytes_equal(n->vendor, n2->vendor)));
		g_assert_true(gw_pkg0_verify(g_bytes_get_data(rebuilt, NULL),
		                             g_bytes_get_size(rebuilt),
		                             FUZZ_PASSWORD,
		                             nonce,
		                             sizeof(nonce),
		                             NULL));
	}
	return 0;
}
