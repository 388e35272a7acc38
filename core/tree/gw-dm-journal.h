/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-tree.h"

G_BEGIN_DECLS

/*
 * The write-ahead journal of the DM tree (STATE_DIR/tree.journal, mode 0600), written by
 * GwDmStore next to tree.state. This file holds the pure parts: encoding the changes of the
 * tree, framing records, reading them back and applying them. File and fsync handling are
 * in gw-dm-store.c.
 *
 * File format, version 1:
 *   "GWMO-JOURNAL 1 state=<sha256 hex of the tree.state body it continues>\n"
 *   then records, back to back:
 *     "GWJR" | u32le payload length | u64le sequence (1, 2, … in file order) | payload |
 *     32 bytes SHA-256 of everything before it in the record (magic, length, sequence,
 *     payload)
 *   A payload is one or more operations, each one byte then fields; str is u32le length +
 *   bytes (no NUL), state is u8 format | u8 flags (1 permanent, 2 value, 4 MIME type,
 *   8 title) | u8 access | str ACL | [str MIME type] | [str title] | [str value]:
 *     'D' str uri                       the node (and its subtree) was deleted
 *     'N' str uri state                 the node's own fields changed (children untouched)
 *     'A' str uri u32 position state u32 count { str relative-uri state }*count
 *                                       a node was added (or renamed/copied there) with its
 *                                       subtree, at that index among its siblings (what
 *                                       journals written before issue 16 hold; still read)
 *     'T' str uri u32 position tnode     the same, compactly: what the store writes for an
 *                                       added node, and tree.state (version 3): one 'T'
 *                                       for "."
 *     tnode: u8 format | u8 flags (the four above, 16 ACL, 32 access) | [u8 access, when not
 *            all] | [ref ACL] | [ref MIME type] | [ref title] | [ref value] |
 *            varint count | { ref name, tnode }*count
 *     ref:   varint k: k > 0 is the k-th string the operation spelled out before; k = 0 is
 *            followed by varint length + bytes, and when at most 64 bytes long that string
 *            is the next entry of the operation's table (names, MIME types, ACLs and the
 *            common values repeat in every device record: each is spelled out once)
 *     varint: unsigned LEB128
 * A record whose checksum or sequence is wrong is corrupt; one that runs past the end of the
 * file is torn (a crash during its append). Both end the replay.
 *
 * The body of tree.state is a payload too: one 'T' for "." holding the whole tree (version 3),
 * or one 'A' (version 2, still read).
 */

#define GW_DM_JOURNAL_FILE "tree.journal"
#define GW_DM_JOURNAL_MAX_PAYLOAD (16 * 1024 * 1024)
#define GW_DM_JOURNAL_RECORD_OVERHEAD (16 + 32)

/* one line, "\n" included */
gchar *
gw_dm_journal_header(const gchar *state_sha256);
/* returns the offset of the first record, 0 on error; @state_sha256 gets 65 bytes */
gsize
gw_dm_journal_parse_header(const guint8 *data, gsize len, gchar *state_sha256, GError **error);

/* ---- encoding the tree's changes (appended to @ops) ---- */
void
gw_dm_journal_encode_delete(GByteArray *ops, const gchar *uri);
void
gw_dm_journal_encode_node(GByteArray *ops, const gchar *uri, GwDmNode *node);
void
gw_dm_journal_encode_subtree(GByteArray *ops, const gchar *uri, GwDmNode *node);
/* the compact form of gw_dm_journal_encode_subtree(): a 'T' operation */
void
gw_dm_journal_encode_tree(GByteArray *ops, const gchar *uri, GwDmNode *node);
/* one framed record holding @ops */
GByteArray *
gw_dm_journal_frame(guint64 sequence, const guint8 *ops, gsize len);

/* ---- reading ---- */
typedef enum {
	GW_DM_JOURNAL_RECORD_OK,
	GW_DM_JOURNAL_RECORD_END,     /* no bytes left */
	GW_DM_JOURNAL_RECORD_TORN,    /* the last record is incomplete or its tail is zeros */
	GW_DM_JOURNAL_RECORD_CORRUPT, /* bad magic, length, sequence or checksum */
} GwDmJournalRecordStatus;

/* reads the record at @offset; on OK sets @payload/@payload_len (pointing into @data) and
 * @next_offset; on TORN/CORRUPT sets @error saying why */
GwDmJournalRecordStatus
gw_dm_journal_read_record(const guint8 *data,
                          gsize len,
                          gsize offset,
                          guint64 expected_sequence,
                          const guint8 **payload,
                          gsize *payload_len,
                          gsize *next_offset,
                          GError **error);

/* checks the whole payload, then applies its operations to @tree in order. A payload that
 * does not decode changes nothing (GW_ERROR_CORRUPT_STATE); an operation the tree refuses is
 * skipped and reported in @error after the others ran (GW_ERROR_FAILED) */
gboolean
gw_dm_journal_apply(GwDmTree *tree, const guint8 *payload, gsize len, GError **error);

G_END_DECLS
