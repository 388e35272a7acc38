/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target for the SyncML DM XML parser: parse; when that succeeds, serialise, parse the
 * result again and abort() unless it parses and equals the first message, and unless a second
 * serialisation gives the same bytes.
 *
 * The only tolerated second-parse failure is the size limit: serialising can grow an input
 * (a raw '<' inside CDATA becomes "&lt;", unqualified MetInf elements gain their namespace), so
 * an input close to GW_SYNCML_MAX_MESSAGE_SIZE may serialise to more than the parser accepts.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "gw-syncml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GwSyncmlMessage) again = NULL;
	g_autoptr(GBytes) xml = NULL;
	g_autoptr(GBytes) xml2 = NULL;
	g_autoptr(GError) error = NULL;
	const guint8 *out;
	gsize out_len = 0;

	msg = gw_syncml_message_parse_xml(data, size, &error);
	if (msg == NULL) {
		/* a failure must say why, in the protocol domain */
		if (error == NULL || !g_error_matches(error, GW_ERROR, GW_ERROR_PROTOCOL))
			abort();
		return 0;
	}
	if (error != NULL)
		abort();

	xml = gw_syncml_message_to_xml(msg);
	out = g_bytes_get_data(xml, &out_len);
	if (gw_syncml_message_estimate_size(msg) != out_len)
		abort();
	if (out_len > GW_SYNCML_MAX_MESSAGE_SIZE)
		return 0;
	again = gw_syncml_message_parse_xml(out, out_len, &error);
	if (again == NULL) {
		g_printerr("re-parse failed: %s\n", error != NULL ? error->message : "?");
		abort();
	}
	if (!gw_syncml_message_equal(msg, again))
		abort();
	xml2 = gw_syncml_message_to_xml(again);
	if (!g_bytes_equal(xml, xml2))
		abort();
	return 0;
}
