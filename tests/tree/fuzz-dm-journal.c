/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: the write-ahead journal (tree.journal, a file on disk that gwmod reads at
 * start). An input that starts like a journal file is read as one: header, then records in
 * sequence until the end or the first torn/corrupt one, each applied to a fresh tree. Any
 * other input is applied as one record payload (so the fuzzer reaches the operation decoder
 * without having to forge SHA-256 sums). The tree must stay exportable and re-importable.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-dm-journal.h"
#include "gw-tnds.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const GwDmDeviceInfo fuzz_info = {
    .dev_id = "fuzz",
    .man = "fuzz",
    .mod = "fuzz",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "fuzz",
    .fwv = "1",
    .swv = "1",
    .hwv = "1",
};

#define ALL_FLAGS (GW_TNDS_EXPORT_VALUES | GW_TNDS_EXPORT_SECRETS | GW_TNDS_EXPORT_DF_PROPERTIES)

static void
check_tree(GwDmTree *tree)
{
	g_autofree gchar *xml = gw_tnds_export(tree, ".", NULL, ALL_FLAGS, NULL);
	g_autoptr(GwDmTree) copy = gw_dm_tree_new();
	g_autofree gchar *again = NULL;

	g_assert(xml != NULL);
	g_assert(gw_tnds_import(
	    copy, ".", xml, strlen(xml), GW_TNDS_IMPORT_REPLACE | GW_TNDS_IMPORT_RESTORE, NULL));
	again = gw_tnds_export(copy, ".", NULL, ALL_FLAGS, NULL);
	g_assert(g_strcmp0(xml, again) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autoptr(GError) error = NULL;
	gchar sha[65];
	gsize offset;

	g_assert(gw_dm_tree_install_standard_objects(tree, &fuzz_info, NULL));
	offset = gw_dm_journal_parse_header(data, size, sha, &error);
	if (offset == 0) {
		g_assert(error != NULL);
		g_clear_error(&error);
		/* one payload */
		if (!gw_dm_journal_apply(tree, data, size, &error))
			g_assert(error != NULL);
		check_tree(tree);
		return 0;
	}
	g_assert(strlen(sha) == 64);
	for (guint64 seq = 1;; seq++) {
		const guint8 *payload = NULL;
		gsize payload_len = 0;
		gsize next = 0;
		g_autoptr(GError) record_error = NULL;
		GwDmJournalRecordStatus status = gw_dm_journal_read_record(
		    data, size, offset, seq, &payload, &payload_len, &next, &record_error);
		if (status != GW_DM_JOURNAL_RECORD_OK) {
			g_assert((status == GW_DM_JOURNAL_RECORD_END) == (record_error == NULL));
			break;
		}
		g_assert(next > offset && next <= size);
		g_assert(payload >= data + offset && payload + payload_len <= data + next);
		gw_dm_journal_apply(tree, payload, payload_len, &record_error);
		offset = next;
	}
	check_tree(tree);
	return 0;
}
