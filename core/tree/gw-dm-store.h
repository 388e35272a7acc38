/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-tree.h"

G_BEGIN_DECLS

#define GW_TYPE_DM_STORE (gw_dm_store_get_type())
G_DECLARE_FINAL_TYPE(GwDmStore, gw_dm_store, GW, DM_STORE, GObject)

/*
 * Persistence of the DM tree in STATE_DIR/tree.state (mode 0600).
 *
 * File format, version 1:
 *   "GWMO-STATE 1 length=<n> sha256=<hex>\n" followed by exactly <n> bytes of TNDS (exported
 *   with VALUES | SECRETS | DF_PROPERTIES). A wrong magic, version, length or checksum, or a
 *   body that does not parse, is corruption.
 * Writes are atomic: temporary file in the same directory, write, fsync, rename, fsync of the
 * directory.
 */
GwDmStore *
gw_dm_store_new(GwDmTree *tree, const gchar *state_dir);
const gchar *
gw_dm_store_get_path(GwDmStore *self);

/*
 * Loads the state file into the tree (values replace what the tree has). A missing file is
 * not an error (returns TRUE). A corrupt file is renamed to "tree.state.corrupt-<unix time>",
 * logged with g_warning and reported as GW_ERROR_CORRUPT_STATE (the message names the kept
 * file); the tree is left unchanged.
 */
gboolean
gw_dm_store_load(GwDmStore *self, GError **error);
/* writes the tree now */
gboolean
gw_dm_store_save(GwDmStore *self, GError **error);
/* writes when the tree's generation changed since the last load/save */
gboolean
gw_dm_store_flush(GwDmStore *self, GError **error);
/* when TRUE, a change schedules a flush from an idle source (coalescing a batch) */
void
gw_dm_store_set_autosave(GwDmStore *self, gboolean autosave);
guint64
gw_dm_store_get_save_count(GwDmStore *self);

G_END_DECLS
