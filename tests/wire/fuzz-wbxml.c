/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: WBXML -> XML (gw_wbxml_to_xml), then the result back to WBXML.
 * Invariants: exactly one of result/error; errors are GW_ERROR_PROTOCOL; a result is
 * NUL-terminated at out_len and re-encodes without crashing.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-error.h"
#include "gw-wbxml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	gsize out_len = 0;
	g_autofree gchar *xml = gw_wbxml_to_xml(data, size, &out_len, &error);

	g_assert_true((xml == NULL) != (error == NULL));
	if (xml == NULL) {
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
	} else {
		g_autoptr(GError) error2 = NULL;
		g_autoptr(GBytes) again = NULL;
		g_assert_cmpuint(strlen(xml), ==, out_len);
		again = gw_wbxml_from_xml(xml, out_len, &error2);
		g_assert_true((again == NULL) != (error2 == NULL));
	}
	return 0;
}
