/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: DM 2.0 Package #0 parse and verify with a fixed secret and auth data.
 * Invariants: parse fails with GW_ERROR_PROTOCOL exactly when verify does; a parsed package
 * verifies or fails with GW_ERROR_AUTH_FAILED; rebuilding a parsed package gives the same
 * fields when parsed again, and the rebuilt package verifies.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-dm2-pkg0.h"
#include "gw-error.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GBytes) secret = g_bytes_new_static("fuzz-secret", 11);
	g_autoptr(GBytes) auth = g_bytes_new_static("fuzz-auth", 9);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) verror = NULL;
	g_autoptr(GwDm2Pkg0) n = gw_dm2_pkg0_parse(data, size, &error);
	g_autoptr(GwDm2Pkg0) v = gw_dm2_pkg0_verify(data, size, secret, auth, &verror);
	g_autoptr(GBytes) rebuilt = NULL;
	g_autoptr(GwDm2Pkg0) n2 = NULL;
	g_autoptr(GwDm2Pkg0) v2 = NULL;

	g_assert_true((n == NULL) != (error == NULL));
	g_assert_true((v == NULL) != (verror == NULL));
	if (n == NULL) {
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		g_assert_error(verror, GW_ERROR, GW_ERROR_PROTOCOL);
		return 0;
	}
	if (v == NULL)
		g_assert_error(verror, GW_ERROR, GW_ERROR_AUTH_FAILED);
	rebuilt = gw_dm2_pkg0_build(n, secret, auth);
	g_assert_nonnull(rebuilt);
	n2 = gw_dm2_pkg0_parse(g_bytes_get_data(rebuilt, NULL), g_bytes_get_size(rebuilt), NULL);
	g_assert_nonnull(n2);
	g_assert_cmpuint(n2->version, ==, n->version != 0 ? n->version : GW_DM2_PKG0_VERSION);
	g_assert_cmpstr(n2->server_id, ==, n->server_id);
	g_assert_cmpint(n2->has_con_type, ==, n->has_con_type);
	g_assert_cmpuint(n2->con_type, ==, n->con_type);
	g_assert_cmpint(n2->has_notification_id, ==, n->has_notification_id);
	g_assert_cmpuint(n2->notification_id, ==, n->notification_id);
	g_assert_cmpint(n2->has_timestamp, ==, n->has_timestamp);
	g_assert_cmpuint(n2->timestamp, ==, n->timestamp);
	g_assert_cmpint(n2->req_mos, ==, n->req_mos);
	g_assert_true(n2->has_digest);
	v2 = gw_dm2_pkg0_verify(
	    g_bytes_get_data(rebuilt, NULL), g_bytes_get_size(rebuilt), secret, auth, NULL);
	g_assert_nonnull(v2);
	return 0;
}
