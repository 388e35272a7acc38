/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dm-tree.h"

G_BEGIN_DECLS

#define GW_TYPE_DM_STORE (gw_dm_store_get_type())
G_DECLARE_FINAL_TYPE(GwDmStore, gw_dm_store, GW, DM_STORE, GObject)

/*
 * Persistence of the DM tree in STATE_DIR: tree.state (the whole tree) and tree.journal (the
 * changes since), both mode 0600 in a 0700 directory.
 *
 * tree.state, format version 3:
 *   "GWMO-STATE 3 length=<n> sha256=<hex>\n" followed by exactly <n> bytes: the whole tree as
 *   one journal payload (gw-dm-journal.h: a compact 'T' operation for "." and its subtree,
 *   values, secrets, ACLs, access types and permanence; each name, MIME type, ACL and short
 *   value spelled out once). Version 2 (the same header, an 'A' operation: relative URIs and
 *   fixed-size fields) and version 1 (a TNDS body) are still read. A wrong magic, version,
 *   length or checksum, or a body that does not decode, is corruption; the size of the file
 *   is not (what was acknowledged loads again, however big: limits are checked when a change
 *   is made). Written atomically: temporary file in the same directory, write, fsync, rename,
 *   fsync of the directory; the temporaries a kill left behind ("tree.state.XXXXXX",
 *   "tree.journal.XXXXXX") are removed by gw_dm_store_load().
 *
 * tree.journal (write-ahead journal, format in gw-dm-journal.h): its header names the
 * checksum of the tree.state body it continues; then one checksummed record per flush. The
 * store listens to the tree's "changed" signal and encodes every mutation as it happens (the
 * node's fields, a deleted URI, or an added node with its subtree); a flush appends all the
 * changes since the last one as ONE record and fdatasyncs it. gw_dm_store_commit_async()
 * is the group commit: every commit asked for before the main loop goes idle (D-Bus calls,
 * the server messages of concurrent DM sessions) shares one flush. So a batch of changes
 * costs one small append instead of writing the whole tree.
 *
 * Compaction writes a new tree.state and an empty tree.journal naming it (each rename made
 * durable before the next): when the journal grows past MAX(256 KiB, 2 × the state file)
 * (gw_dm_store_set_journal_limit() overrides), on gw_dm_store_compact() (clean shutdown), on
 * the first flush of a store that never loaded or saved, and when a change cannot be
 * journalled (an Atomic rollback replaces the whole tree).
 *
 * Load reads tree.state, then replays the journal records in order. A journal that names
 * another state (a crash between the two renames of a compaction) or whose header is cut
 * short is skipped. Replay stops at the first record that is torn (runs past the end of the
 * file or has a bad checksum as the last record: a crash during its append; logged with
 * g_message) or corrupt (bad checksum, magic or sequence with more data behind it; logged
 * with g_warning and a copy of the journal is kept as tree.journal.corrupt-<unix time>); the
 * journal is truncated there and appends continue after the last good record.
 */
GwDmStore *
gw_dm_store_new(GwDmTree *tree, const gchar *state_dir);
const gchar *
gw_dm_store_get_path(GwDmStore *self);
const gchar *
gw_dm_store_get_journal_path(GwDmStore *self);

/*
 * Loads the state file and replays the journal into the tree (values replace what the tree
 * has). A missing file is not an error (returns TRUE). A corrupt state file is renamed to
 * "tree.state.corrupt-<unix time>" (its journal to "tree.journal.corrupt-<unix time>"),
 * logged with g_warning and reported as GW_ERROR_CORRUPT_STATE (the message names the kept
 * file); the tree is left unchanged. Journal problems never fail the load (see above).
 */
gboolean
gw_dm_store_load(GwDmStore *self, GError **error);
/* compaction: writes the whole tree to tree.state now and starts an empty journal */
gboolean
gw_dm_store_save(GwDmStore *self, GError **error);
/* makes the changes since the last load/flush durable: one journal record (append +
 * fdatasync), or a save when there is no valid journal yet; nothing when the tree's
 * generation did not move. When it returns TRUE the changes survive a crash. */
gboolean
gw_dm_store_flush(GwDmStore *self, GError **error);
/* group commit: calls back once the changes made so far are durable (or the flush failed).
 * Every commit requested before the main loop goes idle shares one flush (one journal
 * append + fdatasync). Disposing the store fails the commits still waiting. */
void
gw_dm_store_commit_async(GwDmStore *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean
gw_dm_store_commit_finish(GwDmStore *self, GAsyncResult *res, GError **error);
/* flush, and fold the journal into tree.state when it has records (clean shutdown) */
gboolean
gw_dm_store_compact(GwDmStore *self, GError **error);
/* when TRUE, a change schedules a flush from an idle source (coalescing a batch) */
void
gw_dm_store_set_autosave(GwDmStore *self, gboolean autosave);
/* journal size that triggers a compaction; 0 = MAX(256 KiB, 2 × the state file) */
void
gw_dm_store_set_journal_limit(GwDmStore *self, gsize bytes);
/* whole-tree saves (compactions) and journal appends so far */
guint64
gw_dm_store_get_save_count(GwDmStore *self);
guint64
gw_dm_store_get_append_count(GwDmStore *self);

G_END_DECLS
