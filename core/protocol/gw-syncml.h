/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dm-types.h"
#include "gw-error.h"
#include "gw-xml-bounds.h"

G_BEGIN_DECLS

/*
 * The SyncML DM 1.2 / 1.3 message model (OMA DM spec notes §1.2.1–1.2.4) and its XML codec.
 *
 * The structs are plain and transparent: the session layer reads and fills the fields directly;
 * the constructors and helpers below keep the invariants documented on each field. Every string
 * is owned by its struct, is valid UTF-8 when it comes from the parser, and is NULL when the
 * element is absent ("" for an empty element). libxml2 types never leave the codec (STYLE §4.4).
 */

/* input limits of gw_syncml_message_parse_xml() (GW_SYNCML_MAX_*): gw-xml-bounds.h, with the
 * reason for each value */

#define GW_SYNCML_NAMESPACE "SYNCML:SYNCML1.2"
#define GW_SYNCML_METINF_NAMESPACE "syncml:metinf"

typedef enum {
	GW_SYNCML_VERSION_DM_1_2, /* VerDTD 1.2, VerProto DM/1.2 */
	GW_SYNCML_VERSION_DM_1_3, /* VerDTD 1.2, VerProto DM/1.3 */
} GwSyncmlVersion;

/* "DM/1.2", "DM/1.3" */
const gchar *
gw_syncml_version_to_string(GwSyncmlVersion version);

/* Alert codes (spec notes §1.2.2) */
typedef enum {
	GW_SYNCML_ALERT_DISPLAY = 1100,
	GW_SYNCML_ALERT_CONFIRM = 1101,
	GW_SYNCML_ALERT_TEXT_INPUT = 1102,
	GW_SYNCML_ALERT_SINGLE_CHOICE = 1103,
	GW_SYNCML_ALERT_MULTIPLE_CHOICE = 1104,
	GW_SYNCML_ALERT_SERVER_INITIATED_MGMT = 1200,
	GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT = 1201,
	GW_SYNCML_ALERT_NEXT_MESSAGE = 1222,
	GW_SYNCML_ALERT_SESSION_ABORT = 1223,
	GW_SYNCML_ALERT_GENERIC = 1226,
} GwSyncmlAlertCode;

typedef enum {
	GW_SYNCML_CMD_UNKNOWN, /* an element of SyncBody/Atomic/Sequence we do not know; see name */
	GW_SYNCML_CMD_ADD,
	GW_SYNCML_CMD_ALERT,
	GW_SYNCML_CMD_ATOMIC,
	GW_SYNCML_CMD_COPY,
	GW_SYNCML_CMD_DELETE,
	GW_SYNCML_CMD_EXEC,
	GW_SYNCML_CMD_GET,
	GW_SYNCML_CMD_REPLACE,
	GW_SYNCML_CMD_RESULTS,
	GW_SYNCML_CMD_SEQUENCE,
	GW_SYNCML_CMD_STATUS,
} GwSyncmlCmdType;

/* the element name ("Get", …); NULL for GW_SYNCML_CMD_UNKNOWN */
const gchar *
gw_syncml_cmd_type_to_string(GwSyncmlCmdType type);
/* GW_SYNCML_CMD_UNKNOWN for anything else; case-sensitive like XML */
GwSyncmlCmdType
gw_syncml_cmd_type_from_string(const gchar *name);

/*
 * MetInf fields (`syncml:metinf`). Embedded by value; all fields unset is "no <Meta>".
 * Sizes are -1 when absent.
 */
typedef struct {
	gchar *format;     /* "chr", "b64", "xml", … */
	gchar *type;       /* MIME type, auth type or Generic Alert type (urn:oma:at:…) */
	gchar *mark;       /* Generic Alert severity */
	gchar *next_nonce; /* Chal: base64 nonce */
	/* Extended Meta Information (EMI, MetInf 1.2): application-defined, ignored by peers that
	 * do not know it; gwmo puts the Generic Alert identity here ("gwmo-alert:<uid>"). Only
	 * the first EMI element of a Meta is kept */
	gchar *emi;
	gint64 size;       /* large objects: total size */
	gint64 max_msg_size;
	gint64 max_obj_size;
} GwSyncmlMeta;

void
gw_syncml_meta_init(GwSyncmlMeta *meta);
/* frees the strings and re-initialises */
void
gw_syncml_meta_clear(GwSyncmlMeta *meta);
void
gw_syncml_meta_copy_into(GwSyncmlMeta *dest, const GwSyncmlMeta *src);
gboolean
gw_syncml_meta_is_empty(const GwSyncmlMeta *meta);
gboolean
gw_syncml_meta_equal(const GwSyncmlMeta *a, const GwSyncmlMeta *b);
/* heap copies, used for Status/Chal */
GwSyncmlMeta *
gw_syncml_meta_new(void);
void
gw_syncml_meta_free(GwSyncmlMeta *meta);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwSyncmlMeta, gw_syncml_meta_free)

/* Cred of SyncHdr (GwMO-SECACATE-001): Meta Type syncml:auth-basic|auth-md5, Format b64 */
typedef struct {
	GwSyncmlMeta meta;
	gchar *data; /* never NULL */
} GwSyncmlCred;

GwSyncmlCred *
gw_syncml_cred_new(const gchar *type, const gchar *format, const gchar *data);
GwSyncmlCred *
gw_syncml_cred_copy(const GwSyncmlCred *cred);
void
gw_syncml_cred_free(GwSyncmlCred *cred);
gboolean
gw_syncml_cred_equal(const GwSyncmlCred *a, const GwSyncmlCred *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwSyncmlCred, gw_syncml_cred_free)

/*
 * Item. Target/Source are present when their LocURI is non-NULL (LocURI is mandatory inside
 * them). Data is carried as the text of the XML element, whatever the Format (b64 stays base64
 * text); XML nested in Data is kept as its serialised text.
 */
typedef struct {
	gchar *target_uri;
	gchar *target_name;
	gchar *source_uri;
	gchar *source_name;
	GwSyncmlMeta meta;
	gchar *data; /* NULL = no <Data> */
	gboolean more_data;
} GwSyncmlItem;

/* both URIs nullable */
GwSyncmlItem *
gw_syncml_item_new(const gchar *target_uri, const gchar *source_uri);
/* sets Data and Meta Format/Type (each nullable; NULL leaves the field unset) */
void
gw_syncml_item_set_data(GwSyncmlItem *item,
                        const gchar *format,
                        const gchar *type,
                        const gchar *data);
/*
 * An item with Source = @dm_item->uri (the shape of Results items and of client Replace/Generic
 * Alert items). Text formats are carried as is; GW_DM_FORMAT_BIN is base64-encoded and sent with
 * Format b64 (XML cannot carry raw bytes).
 */
GwSyncmlItem *
gw_syncml_item_new_from_dm_item(const GwDmItem *dm_item);
/* Meta Format as a GwDmFormat; GW_DM_FORMAT_CHR when absent (the DM default) */
GwDmFormat
gw_syncml_item_get_format(const GwSyncmlItem *item);
GwSyncmlItem *
gw_syncml_item_copy(const GwSyncmlItem *item);
void
gw_syncml_item_free(GwSyncmlItem *item);
gboolean
gw_syncml_item_equal(const GwSyncmlItem *a, const GwSyncmlItem *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwSyncmlItem, gw_syncml_item_free)

/*
 * One command. Which fields apply depends on @type:
 *   all:                 cmd_id (>= 1; 0 = "not numbered yet" / absent on UNKNOWN), no_resp,
 *                        meta, items
 *   Alert:               alert_code (Data), correlator
 *   Exec:                correlator
 *   Status:              msg_ref, cmd_ref, cmd, target_refs, source_refs, chal, status_code (Data)
 *   Results:             msg_ref, cmd_ref, target_refs/source_refs (at most one each by the DTD)
 *   Atomic, Sequence:    children (never NULL for these two, NULL otherwise)
 *   UNKNOWN:             name (the element name), cmd_id if it carried one; other content is
 *                        dropped. The session answers it with 406/501 (our choice: keep rather
 *                        than reject the message so the peer gets a Status).
 * Unknown elements inside a known command are ignored. The parser insists on the identity
 * fields (CmdID; CmdRef, Cmd and Data of Status; CmdRef of Results; Data of Alert) but not on
 * Items: a Get without Item parses, and the session answers it with 412 Incomplete command.
 */
typedef struct _GwSyncmlCommand GwSyncmlCommand;
struct _GwSyncmlCommand {
	GwSyncmlCmdType type;
	gchar *name; /* element name for UNKNOWN, NULL otherwise */
	guint32 cmd_id;
	gboolean no_resp;
	GwSyncmlMeta meta;
	GPtrArray *items; /* GwSyncmlItem *, never NULL */

	guint alert_code;
	gchar *correlator;

	guint32 msg_ref; /* 0 = absent (MsgID starts at 1) */
	guint32 cmd_ref; /* 0 refers to SyncHdr */
	gchar *cmd;
	GPtrArray *target_refs; /* gchar *, NULL when none */
	GPtrArray *source_refs; /* gchar *, NULL when none */
	GwSyncmlMeta *chal;     /* NULL = no <Chal> (GwMO-SECACATE-001) */
	guint status_code;

	GPtrArray *children; /* GwSyncmlCommand *, Atomic/Sequence only */
};

GwSyncmlCommand *
gw_syncml_command_new(GwSyncmlCmdType type);
GwSyncmlCommand *
gw_syncml_command_new_unknown(const gchar *name);
/* the element name: gw_syncml_cmd_type_to_string() or @name for UNKNOWN */
const gchar *
gw_syncml_command_get_name(const GwSyncmlCommand *cmd);
gboolean
gw_syncml_command_is_container(const GwSyncmlCommand *cmd);
/* takes ownership; returns @item */
GwSyncmlItem *
gw_syncml_command_add_item(GwSyncmlCommand *cmd, GwSyncmlItem *item);
/* takes ownership; @cmd must be Atomic or Sequence; returns @child */
GwSyncmlCommand *
gw_syncml_command_add_child(GwSyncmlCommand *cmd, GwSyncmlCommand *child);
void
gw_syncml_command_add_target_ref(GwSyncmlCommand *cmd, const gchar *uri);
void
gw_syncml_command_add_source_ref(GwSyncmlCommand *cmd, const gchar *uri);
/* the i-th TargetRef/SourceRef or NULL */
const gchar *
gw_syncml_command_get_target_ref(const GwSyncmlCommand *cmd, guint idx);
const gchar *
gw_syncml_command_get_source_ref(const GwSyncmlCommand *cmd, guint idx);
GwSyncmlCommand *
gw_syncml_command_copy(const GwSyncmlCommand *cmd);
void
gw_syncml_command_free(GwSyncmlCommand *cmd);
gboolean
gw_syncml_command_equal(const GwSyncmlCommand *a, const GwSyncmlCommand *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwSyncmlCommand, gw_syncml_command_free)

/* ---- builders for the commands a DM session sends ---- */

/* Status with MsgRef/CmdRef/Cmd/Data; @cmd_name e.g. "Get" or "SyncHdr" */
GwSyncmlCommand *
gw_syncml_status_new(guint32 msg_ref, guint32 cmd_ref, const gchar *cmd_name, guint status_code);
/* Status for a command of a received message: CmdRef = its CmdID, Cmd = its element name */
GwSyncmlCommand *
gw_syncml_status_new_for_command(guint32 msg_ref, const GwSyncmlCommand *cmd, guint status_code);
/* the same, per item: adds TargetRef/SourceRef from the item's Target/Source LocURI */
GwSyncmlCommand *
gw_syncml_status_new_for_item(guint32 msg_ref,
                              const GwSyncmlCommand *cmd,
                              const GwSyncmlItem *item,
                              guint status_code);
/* (GwMO-SECACATE-001) Chal (Meta Type, Format, NextNonce; each nullable); replaces any Chal */
void
gw_syncml_status_set_chal(GwSyncmlCommand *status,
                          const gchar *type,
                          const gchar *format,
                          const gchar *next_nonce);
/* Results for a Get: CmdRef = its CmdID; add one item per node (gw_syncml_item_new_from_dm_item) */
GwSyncmlCommand *
gw_syncml_results_new_for_get(guint32 msg_ref, const GwSyncmlCommand *get);
/* Alert with Data = @code; no items */
GwSyncmlCommand *
gw_syncml_alert_new(guint code);
/* Generic Alert 1226: @correlator, @target_uri, @mark, @data nullable; @source_uri, @type required
 */
GwSyncmlCommand *
gw_syncml_alert_new_generic(const gchar *correlator,
                            const gchar *source_uri,
                            const gchar *target_uri,
                            const gchar *type,
                            const gchar *format,
                            const gchar *mark,
                            const gchar *data);

/* ---- header ---- */

typedef struct {
	GwSyncmlVersion version;
	gchar *session_id; /* never NULL */
	guint32 msg_id;    /* >= 1 */
	gchar *target_uri; /* never NULL */
	gchar *target_name;
	gchar *source_uri; /* never NULL */
	gchar *source_name;
	gchar *resp_uri;
	gboolean no_resp;
	GwSyncmlCred *cred; /* nullable (GwMO-SECACATE-001) */
	GwSyncmlMeta meta;  /* MaxMsgSize, MaxObjSize */
} GwSyncmlHeader;

typedef struct {
	GwSyncmlHeader hdr;
	GPtrArray *commands; /* GwSyncmlCommand *, in document order, never NULL */
	gboolean final;
	guint32 last_cmd_id; /* highest CmdID used (nested included); not part of equality */
} GwSyncmlMessage;

GwSyncmlMessage *
gw_syncml_message_new(GwSyncmlVersion version,
                      const gchar *session_id,
                      guint32 msg_id,
                      const gchar *target_uri,
                      const gchar *source_uri);
void
gw_syncml_message_free(GwSyncmlMessage *msg);
gboolean
gw_syncml_message_equal(const GwSyncmlMessage *a, const GwSyncmlMessage *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwSyncmlMessage, gw_syncml_message_free)

/* takes ownership; numbers @cmd (and its children) with fresh CmdIDs where cmd_id is 0;
 * returns @cmd */
GwSyncmlCommand *
gw_syncml_message_add_command(GwSyncmlMessage *msg, GwSyncmlCommand *cmd);
/* sets (or with NULL @data removes) the SyncHdr Cred */
void
gw_syncml_message_set_cred(GwSyncmlMessage *msg,
                           const gchar *type,
                           const gchar *format,
                           const gchar *data);

GwSyncmlVersion
gw_syncml_message_get_version(const GwSyncmlMessage *msg);
const gchar *
gw_syncml_message_get_session_id(const GwSyncmlMessage *msg);
guint32
gw_syncml_message_get_msg_id(const GwSyncmlMessage *msg);
const gchar *
gw_syncml_message_get_target_uri(const GwSyncmlMessage *msg);
const gchar *
gw_syncml_message_get_source_uri(const GwSyncmlMessage *msg);
/* SyncHdr Meta MaxMsgSize, -1 when absent */
gint64
gw_syncml_message_get_max_msg_size(const GwSyncmlMessage *msg);
/* (GwMO-SECACATE-001) nullable */
const GwSyncmlCred *
gw_syncml_message_get_cred(const GwSyncmlMessage *msg);
GPtrArray *
gw_syncml_message_get_commands(const GwSyncmlMessage *msg);
gboolean
gw_syncml_message_get_final(const GwSyncmlMessage *msg);
/* the command with this CmdID, searching inside Atomic/Sequence too; NULL if none */
GwSyncmlCommand *
gw_syncml_message_find_command(const GwSyncmlMessage *msg, guint32 cmd_id);
/* the first Status answering CmdRef @cmd_ref (0 = SyncHdr) of message @msg_ref; NULL if none.
 * A Status without MsgRef matches any @msg_ref. */
GwSyncmlCommand *
gw_syncml_message_find_status(const GwSyncmlMessage *msg, guint32 msg_ref, guint32 cmd_ref);
/* Status for the SyncHdr of a received message: MsgRef = its MsgID, CmdRef 0, Cmd SyncHdr,
 * TargetRef = its Target LocURI, SourceRef = its Source LocURI */
GwSyncmlCommand *
gw_syncml_status_new_for_header(const GwSyncmlMessage *received, guint status_code);

/*
 * Size of the serialised XML in bytes, for MaxMsgSize splitting. Exact for
 * gw_syncml_message_to_xml() output; the size of a message is the size of the message without
 * commands plus the sum of its commands' sizes. WBXML is always smaller. Computed by the XML
 * writer in counting mode (gw-syncml-xml.c), without allocating.
 */
gsize
gw_syncml_message_estimate_size(const GwSyncmlMessage *msg);
gsize
gw_syncml_command_estimate_size(const GwSyncmlCommand *cmd);

/* ---- XML codec (gw-syncml-xml.c) ---- */

/*
 * Parses one SyncML DM 1.2/1.3 XML message. Pure function of its input (fuzzable). Refuses
 * with GW_ERROR_PROTOCOL: input over GW_SYNCML_MAX_MESSAGE_SIZE, malformed XML, entity
 * declarations or references (internal DTD subsets with <!ENTITY>, billion laughs), more than
 * GW_SYNCML_MAX_ELEMENTS elements or deeper than GW_SYNCML_MAX_XML_DEPTH, Atomic/Sequence nested
 * deeper than GW_SYNCML_MAX_NESTING, a root other than <SyncML> in SYNCML:SYNCML1.2 (or no
 * namespace), VerDTD other than 1.2, VerProto other than DM/1.2 or DM/1.3, missing mandatory
 * elements (the message names the element), numbers that are not plain decimal in range.
 * Never touches the network or the file system.
 */
G_GNUC_WARN_UNUSED_RESULT GwSyncmlMessage *
gw_syncml_message_parse_xml(const guint8 *data, gsize len, GError **error);

/*
 * A received DM message as it came over HTTP: WBXML (decided by @content_type, or guessed
 * from the bytes when it is NULL, see gw_wbxml_message_is_wbxml()) is converted first, then
 * the XML is parsed. @wbxml (out, optional) says which it was. Pure, thread-safe.
 */
G_GNUC_WARN_UNUSED_RESULT GwSyncmlMessage *
gw_syncml_message_decode(GBytes *message,
                         const gchar *content_type,
                         gboolean *wbxml,
                         GError **error);

/*
 * Whether decoding @message may take long enough to be done in a worker thread (about 1 ms
 * and more; handing it to a thread costs about 50 µs): XML of GW_SYNCML_ASYNC_PARSE_SIZE
 * bytes or more (within the bounds of gw-xml-bounds.h the worst XML costs 60 ns a byte: 1 ms
 * for 16 KiB, 0.25 s for 4 MiB), WBXML of GW_WBXML_ASYNC_PARSE_SIZE or more (libwbxml2's cost
 * grows with the square of an element's children: 0.5 ms for 512 bytes, 54 ms for 16 KiB).
 */
#define GW_SYNCML_ASYNC_PARSE_SIZE (16 * 1024)
#define GW_WBXML_ASYNC_PARSE_SIZE 512
gboolean
gw_syncml_message_decode_is_slow(GBytes *message, const gchar *content_type);

/* gw_syncml_message_decode() in a worker thread (a pool of its own, one thread short of the
 * processors); the main loop goes on meanwhile. @message is kept (a reference) until the
 * callback. What waits for the pool is bounded: with GW_SYNCML_DECODE_MAX_QUEUED messages, or
 * GW_SYNCML_DECODE_MAX_QUEUED_BYTES bytes, waiting or being decoded, the callback gets
 * G_IO_ERROR_BUSY at once (the peer is told to come back: 16 MiB is a second of decoding on one
 * thread; a message queued behind more would wait past what its peer waits for) */
#define GW_SYNCML_DECODE_MAX_QUEUED 256
#define GW_SYNCML_DECODE_MAX_QUEUED_BYTES ((gsize)16 * 1024 * 1024)
void
gw_syncml_message_decode_async(GBytes *message,
                               const gchar *content_type,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
G_GNUC_WARN_UNUSED_RESULT GwSyncmlMessage *
gw_syncml_message_decode_finish(GAsyncResult *result, gboolean *wbxml, GError **error);
/*
 * Canonical XML (UTF-8, no pretty printing, MetInf elements qualified with syncml:metinf).
 * gw_syncml_message_parse_xml() of the result equals @msg. Strings that are not valid UTF-8 or
 * hold characters XML cannot carry get U+FFFD in their place.
 */
GBytes *
gw_syncml_message_to_xml(const GwSyncmlMessage *msg);

G_END_DECLS
