/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "gw-error.h"

G_BEGIN_DECLS

/*
 * OMA DM 2.0 (REST/JSON) messages, ../shared/spec/OMA-DM.md §1.3 (public sources: the Chinese
 * transcription of OMA-TS-DM_Protocol-V2_0 — its §2.2–2.4 packages, §3 commands, §4 Generic
 * Alert, §6.2–6.6 JSON schemas — and the seed 003 call flows). Both directions: the gateway
 * parses Package #2 and builds #1/#3 as a DM client toward its servers; the reference server
 * and peers do the opposite.
 *
 *   Package #1  POST, application/vnd.oma.dm.initiation+json, header OMADM-DevID:
 *               {"MOS":[{"DDF":s,"MOID":s,"MIID":[s…]}…], "Alert":[alert…]}
 *   Package #2  HTTP response, application/vnd.oma.dm.request+json:
 *               {"CMD":[["HGET", ServerURI, ClientURI?], …]}
 *   Package #3  POST, application/vnd.oma.dm.response+json, header OMADM-DevID:
 *               {"Status":[{"sc":200,"URI":[s…]?,"Data":any?}…], "Alert":[alert…]?}
 *   alert       {"AlertType":s, "SourceURI":s?, "TargetURI":s?, "Mark":s?, "DataType":s?,
 *                "Data":object?}
 *
 * Strict where the text is explicit: each listed member has its type, required members are
 * there, a command has a known name and the number of arguments its section gives it, a Mark is
 * one of the seven severities, a status code is an integer 100..599. Refusals are
 * GW_ERROR_PROTOCOL whose message names the member and its position ("CMD[2]: HPUT needs a
 * ServerURI and at least one ClientURI, got 1 argument"). Members the text does not define are
 * ignored (a public DM 2.0 client adds "MgmtTree" to its Package #1) and logged at debug level.
 *
 * Choices where the public text is silent ([R] in OMA-DM.md terms):
 *  - argument order: HGET ServerURI [ClientURI]; HPUT/HPOST ServerURI ClientURI…; DELETE, GET,
 *    UNSUB ClientURI; EXEC ClientURI [ServerURI]; SHOW, CONT ServerURI; END none;
 *    DEFAULT MOID ServerURI; SUB ClientURI ServerURI (the example Package #2 gives the first
 *    three; the others follow the order each section names its operands in).
 *  - the NOTIFICATION-ID of a ServerInitiatedMgmt alert is carried as
 *    "Data":{"NotificationID":<0..65535>} (the text says the alert "has" it, not where).
 *  - a Status carries the data a GET returns in "Data" (any JSON value; the MO serialisation of
 *    §6.5 is the expected one).
 */

#define GW_DM2_CONTENT_TYPE_INITIATION "application/vnd.oma.dm.initiation+json"
#define GW_DM2_CONTENT_TYPE_REQUEST "application/vnd.oma.dm.request+json"
#define GW_DM2_CONTENT_TYPE_RESPONSE "application/vnd.oma.dm.response+json"
/* HTTP header naming the device (DevInfo/DevID) on Package #1 and #3 */
#define GW_DM2_HEADER_DEVID "OMADM-DevID"
/* HTTP header listing other MIME types a peer accepts (same syntax as Accept) */
#define GW_DM2_HEADER_ACCEPT "OMADM-Accept"

/*
 * The identities of a package's Generic Alerts (gwmo's, not the DM 2.0 text's): the alert
 * object has no member for one (§4, §6.6 list AlertType, SourceURI, TargetURI, Mark, DataType,
 * Data, and the text tells no receiver to ignore other members), but the packages travel over
 * HTTP (RFC 2616, which the text cites), where "unrecognized header fields SHOULD be ignored by
 * the recipient" (RFC 2616 §7.1; RFC 7230 §3.2.1 likewise). So the identities ride in an HTTP
 * extension header of the POST: a DM 2.0 Server that does not know it ignores it, and a server
 * that keeps the identities it accepted recognises a resend. Value: "<index>=<identity>"
 * entries separated by ", ", <index> the 0-based position of the alert in the package's
 * "Alert" array, <identity> 1..GW_DM2_ALERT_ID_MAX_LEN characters of [A-Za-z0-9:._-].
 */
#define GW_DM2_HEADER_ALERT_ID "X-GwMO-Alert-ID"
#define GW_DM2_ALERT_ID_MAX_LEN 128
/* a sender keeps the header below this (common servers refuse a header line above 8 KiB) */
#define GW_DM2_ALERT_ID_HEADER_MAX 6144

/* TRUE when @identity may go into GW_DM2_HEADER_ALERT_ID */
gboolean
gw_dm2_alert_id_is_valid(const gchar *identity);
/* the header value for @ids (@n entries: the identity of Alert[i], or NULL for none); NULL
 * when no entry has one */
gchar *
gw_dm2_alert_ids_to_header(const gchar *const *ids, guint n);
/*
 * (element-type utf8) (transfer full): @n_alerts entries, the identity of Alert[i] or NULL.
 * Refuses with GW_ERROR_PROTOCOL a malformed value, an index not below @n_alerts or given
 * twice, an invalid identity. @value NULL: all NULL.
 */
GPtrArray *
gw_dm2_alert_ids_parse(const gchar *value, guint n_alerts, GError **error);

#define GW_DM2_ALERT_CLIENT_INITIATED "urn:oma:at:dm:2.0:ClientInitiatedMgmt"
#define GW_DM2_ALERT_SERVER_INITIATED "urn:oma:at:dm:2.0:ServerInitiatedMgmt"
#define GW_DM2_ALERT_BOOTSTRAP_COMPLETE "urn:oma:at:dm:2.0:BootstrapComplete"
/* the member of a ServerInitiatedMgmt alert's Data holding the NOTIFICATION-ID ([R]) */
#define GW_DM2_ALERT_NOTIFICATION_ID "NotificationID"

/* default input bound (the same as a SyncML DM message) and the JSON nesting bound, checked
 * on the raw bytes before json-glib's recursive parser sees them: a message is 4 levels deep,
 * the rest is room for MO data (a Data member nests as deep as the MO it serialises; DM tree
 * URIs are held to far less than 64 segments by DevDetail/URI/MaxDepth in practice) */
#define GW_DM2_MAX_MESSAGE_SIZE ((gsize)4 * 1024 * 1024)
#define GW_DM2_MAX_NESTING 64

typedef enum {
	GW_DM2_PACKAGE_INITIATION = 1, /* Package #1 */
	GW_DM2_PACKAGE_REQUEST = 2,    /* Package #2 */
	GW_DM2_PACKAGE_RESPONSE = 3,   /* Package #3 */
} GwDm2Package;

/* the MIME type of @package */
const gchar *
gw_dm2_package_to_content_type(GwDm2Package package);
/* from a Content-Type header value (parameters after ';' and case ignored); 0 when none */
GwDm2Package
gw_dm2_package_from_content_type(const gchar *content_type);

typedef enum {
	GW_DM2_CMD_HGET,
	GW_DM2_CMD_HPUT,
	GW_DM2_CMD_HPOST,
	GW_DM2_CMD_DELETE,
	GW_DM2_CMD_EXEC,
	GW_DM2_CMD_GET,
	GW_DM2_CMD_SHOW,
	GW_DM2_CMD_CONT,
	GW_DM2_CMD_END,
	GW_DM2_CMD_DEFAULT,
	GW_DM2_CMD_SUB,
	GW_DM2_CMD_UNSUB,
} GwDm2CmdType;

/* "HGET", … */
const gchar *
gw_dm2_cmd_type_to_string(GwDm2CmdType type);
/* case-sensitive; FALSE for an unknown name */
gboolean
gw_dm2_cmd_type_from_string(const gchar *name, GwDm2CmdType *type);

/*
 * One command of Package #2. Which fields are set depends on @type (see the argument order
 * above): server_uri (HGET, HPUT, HPOST, SHOW, CONT, DEFAULT, SUB; EXEC when asynchronous),
 * client_uris (HGET: 0 or 1; HPUT, HPOST: 1 or more; DELETE, EXEC, GET, SUB, UNSUB: 1),
 * moid (DEFAULT). Unused fields are NULL / empty.
 */
typedef struct {
	GwDm2CmdType type;
	gchar *server_uri;
	GPtrArray *client_uris; /* gchar *, never NULL */
	gchar *moid;
} GwDm2Command;

/* @server_uri, @client_uri nullable (one ClientURI; add more with
 * gw_dm2_command_add_client_uri()). No checks: gw_dm2_message_to_json() checks the shape. */
GwDm2Command *
gw_dm2_command_new(GwDm2CmdType type, const gchar *server_uri, const gchar *client_uri);
void
gw_dm2_command_add_client_uri(GwDm2Command *cmd, const gchar *client_uri);
/* the i-th ClientURI or NULL */
const gchar *
gw_dm2_command_get_client_uri(const GwDm2Command *cmd, guint idx);
/* EXEC with a ServerURI: reported with 202 now and a Generic Alert later (§4.1) */
gboolean
gw_dm2_command_is_async(const GwDm2Command *cmd);
GwDm2Command *
gw_dm2_command_copy(const GwDm2Command *cmd);
void
gw_dm2_command_free(GwDm2Command *cmd);
gboolean
gw_dm2_command_equal(const GwDm2Command *a, const GwDm2Command *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2Command, gw_dm2_command_free)

/* Generic Alert severities (the "Mark" member) */
gboolean
gw_dm2_mark_is_valid(const gchar *mark);

/* an alert (Package #1, Package #3, and an asynchronous EXEC's report) */
typedef struct {
	gchar *alert_type; /* never NULL */
	gchar *source_uri; /* nullable, as the rest */
	gchar *target_uri;
	gchar *mark;
	gchar *data_type;
	JsonNode *data; /* an object by the schema; owned */
} GwDm2Alert;

GwDm2Alert *
gw_dm2_alert_new(const gchar *alert_type);
/* ServerInitiatedMgmt with its NOTIFICATION-ID in Data */
GwDm2Alert *
gw_dm2_alert_new_server_initiated(guint16 notification_id);
/* the NOTIFICATION-ID of a ServerInitiatedMgmt alert; FALSE when it has none */
gboolean
gw_dm2_alert_get_notification_id(const GwDm2Alert *alert, guint16 *notification_id);
/* takes a copy of @data (nullable) */
void
gw_dm2_alert_set_data(GwDm2Alert *alert, JsonNode *data);
GwDm2Alert *
gw_dm2_alert_copy(const GwDm2Alert *alert);
void
gw_dm2_alert_free(GwDm2Alert *alert);
gboolean
gw_dm2_alert_equal(const GwDm2Alert *a, const GwDm2Alert *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2Alert, gw_dm2_alert_free)

/* one supported MO of Package #1 */
typedef struct {
	gchar *ddf;       /* DDF URL, nullable */
	gchar *moid;      /* nullable (the schema requires only MIID) */
	GPtrArray *miids; /* gchar *, never NULL */
} GwDm2Mo;

GwDm2Mo *
gw_dm2_mo_new(const gchar *ddf, const gchar *moid);
void
gw_dm2_mo_add_miid(GwDm2Mo *mo, const gchar *miid);
void
gw_dm2_mo_free(GwDm2Mo *mo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2Mo, gw_dm2_mo_free)

/* one Status of Package #3, in the order of Package #2's commands */
typedef struct {
	guint sc;
	GPtrArray *uris; /* gchar *, NULL = no "URI" member */
	JsonNode *data;  /* nullable, owned */
} GwDm2Status;

GwDm2Status *
gw_dm2_status_new(guint sc);
void
gw_dm2_status_add_uri(GwDm2Status *status, const gchar *uri);
/* takes a copy of @data (nullable) */
void
gw_dm2_status_set_data(GwDm2Status *status, JsonNode *data);
void
gw_dm2_status_free(GwDm2Status *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2Status, gw_dm2_status_free)

/*
 * A message of one of the three packages. Only the arrays of its package are used:
 *   #1: mos (NULL = no "MOS" member), alerts (at least one, with one session alert:
 *       ClientInitiatedMgmt, ServerInitiatedMgmt or BootstrapComplete)
 *   #2: commands (may be empty)
 *   #3: statuses, alerts (NULL or empty = no "Alert" member)
 */
typedef struct {
	GwDm2Package package;
	GPtrArray *mos;      /* GwDm2Mo * */
	GPtrArray *alerts;   /* GwDm2Alert * */
	GPtrArray *commands; /* GwDm2Command * */
	GPtrArray *statuses; /* GwDm2Status * */
} GwDm2Message;

/* the arrays of @package are created empty (mos stays NULL) */
GwDm2Message *
gw_dm2_message_new(GwDm2Package package);
void
gw_dm2_message_free(GwDm2Message *msg);
gboolean
gw_dm2_message_equal(const GwDm2Message *a, const GwDm2Message *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDm2Message, gw_dm2_message_free)

/* take ownership; return the argument */
GwDm2Mo *
gw_dm2_message_add_mo(GwDm2Message *msg, GwDm2Mo *mo);
GwDm2Alert *
gw_dm2_message_add_alert(GwDm2Message *msg, GwDm2Alert *alert);
GwDm2Command *
gw_dm2_message_add_command(GwDm2Message *msg, GwDm2Command *cmd);
GwDm2Status *
gw_dm2_message_add_status(GwDm2Message *msg, GwDm2Status *status);
/* Package #1: its session alert (the first of the three types), or NULL */
const GwDm2Alert *
gw_dm2_message_get_session_alert(const GwDm2Message *msg);
/* Package #2: TRUE when it holds an END (no Package #3 answers it) */
gboolean
gw_dm2_message_has_end(const GwDm2Message *msg);

/*
 * Parses @data as a message of @package. Pure function of its input (fuzzable), thread-safe.
 * Refuses with GW_ERROR_PROTOCOL: more than @max_size bytes (0 = GW_DM2_MAX_MESSAGE_SIZE),
 * arrays/objects nested deeper than GW_DM2_MAX_NESTING and integer literals of more than 18
 * digits (json-glib 1.6 reads those as -1; both checked on the bytes before json-glib parses),
 * malformed JSON, a Data holding a number that is not finite (1e400), and anything the
 * package's rules above do not allow; the message names the member and index. ClientURIs and
 * ServerURIs are only checked to be non-empty strings here: gw-dm2-uri.h parses ClientURIs.
 */
G_GNUC_WARN_UNUSED_RESULT GwDm2Message *
gw_dm2_message_parse(GwDm2Package package,
                     const guint8 *data,
                     gsize len,
                     gsize max_size,
                     GError **error);

/*
 * Compact JSON of @msg (UTF-8; strings that are not valid UTF-8 get U+FFFD). Refuses with
 * GW_ERROR_INVALID_ARGS a message the parser would refuse (a command with the wrong
 * arguments, a Package #1 without session alert, a status code out of range, …), so what the
 * gateway sends always parses back equal.
 */
G_GNUC_WARN_UNUSED_RESULT GBytes *
gw_dm2_message_to_json(const GwDm2Message *msg, GError **error);

/* TRUE when no array or object of @data (JSON or not) nests deeper than @max_nesting; brackets
 * inside strings do not count. Linear, no allocation. */
gboolean
gw_dm2_json_nesting_ok(const gchar *data, gsize len, guint max_nesting);

G_END_DECLS
