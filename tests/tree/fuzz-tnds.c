/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: TNDS import into a fresh tree holding the standard objects. Whatever imports
 * must export again and re-import losslessly (the persistence path).
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

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

static GwDmTree *
fresh_tree(void)
{
	GwDmTree *tree = gw_dm_tree_new();
	g_assert(gw_dm_tree_install_standard_objects(tree, &fuzz_info, NULL));
	return tree;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GwDmTree) tree = fresh_tree();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *again = NULL;
	gboolean ok;

	before = gw_tnds_export(tree, ".", NULL, ALL_FLAGS, NULL);
	g_assert(before != NULL);
	ok = gw_tnds_import(
	    tree, "./Fuzz", (const gchar *)data, size, GW_TNDS_IMPORT_REPLACE, &error);
	g_assert(ok == (error == NULL));
	after = gw_tnds_export(tree, ".", NULL, ALL_FLAGS, NULL);
	g_assert(after != NULL);
	if (!ok) {
		/* all or nothing */
		g_assert(g_strcmp0(before, after) == 0);
		return 0;
	}
	/* what was imported persists: export, import into a fresh tree, same export */
	{
		g_autoptr(GwDmTree) copy = fresh_tree();
		g_autoptr(GError) error2 = NULL;
		g_assert(gw_tnds_import(copy,
		                        ".",
		                        after,
		                        strlen(after),
		                        GW_TNDS_IMPORT_REPLACE | GW_TNDS_IMPORT_RESTORE,
		                        &error2));
		again = gw_tnds_export(copy, ".", NULL, ALL_FLAGS, NULL);
		g_assert(g_strcmp0(after, again) == 0);
	}
	/* server-scoped reads of the result */
	{
		g_autoptr(GPtrArray) results = NULL;
		g_autofree gchar *scoped =
		    gw_tnds_export(tree, ".", "srv", GW_TNDS_EXPORT_VALUES, NULL);
		g_assert(scoped != NULL);
		gw_dm_tree_get(tree, "srv", "./Fuzz?list=StructData", &results);
	}
	return 0;
}
