/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "gw-dm-tree.h"
#include "gw-dm2.h"

G_BEGIN_DECLS

/*
 * One OMA DM 2.0 management session in the client role (the gateway towards a DM 2.0 Server;
 * seed 003 B.1/B.2, ../shared/spec/OMA-DM.md §1.3). No sockets (ARCHITECTURE.md): the link
 * POSTs what start()/run() return and feeds back what it receives, and performs the HTTP
 * transfers HGET/HPUT/HPOST ask for (get_transfer() / complete_transfer()).
 *
 *   start()    Package #1: the MOS list of the tree, the session alert (ClientInitiatedMgmt,
 *              or ServerInitiatedMgmt with the NOTIFICATION-ID) and the queued Generic Alerts.
 *   receive()  a Package #2 (the HTTP response to #1 or #3): parsed and bounded; malformed
 *              JSON, a wrong content type, more than max_commands commands or more than
 *              max_packages packages → GW_ERROR_PROTOCOL and the session FAILS (nothing of
 *              that package ran). The first Package #2 acknowledges Package #1's Generic
 *              Alerts ("alert-delivered").
 *   run()      runs the package's commands in order on the tree as server_id (ACLs and access
 *              types enforced by gw_dm_tree_*) and returns Package #3 (a Status per command, in
 *              command order). NULL without error: a transfer is pending (get_transfer(), then
 *              complete_transfer() and run() again), or an END was reached (FINISHED: no
 *              Package #3 follows an END; commands after it are not run).
 *
 * Commands ([R] where the public text is silent):
 *   GET ClientURI         200 with Data [{"ClientURI":…, "MOData":{name: value | {…}}}…] (one
 *                         entry per node the ClientURI resolves to; leaves as strings, interior
 *                         nodes as objects of their children the server may Get); the tree's
 *                         status (404, 425, …) when any node fails.
 *   DELETE ClientURI      gw_dm_tree_delete() of each node: 200 or the first failure.
 *   EXEC ClientURI        gw_dm_tree_exec(): its status. With a ServerURI (asynchronous):
 *                         the ServerURI is the handler's correlator (a handler reporting later,
 *                         e.g. a Fanout Start, addresses its own alert there), 202, and the
 *                         handler's status goes as a Generic Alert (GW_DM2_ALERT_EXEC_RESULT,
 *                         SourceURI the ClientURI, TargetURI the ServerURI, Data {"sc":status})
 *                         in the Alert array of the same Package #3.
 *   HGET ServerURI CU     HTTP GET; a 2xx body becomes the value of the leaf at the ClientURI
 *                         (Replace, or Add of a new chr/bin leaf, the missing interior nodes
 *                         between it and the deepest existing node made on the way, below the
 *                         instance root and by plain names only):
 *                         200 with URI [ClientURI]; a transfer failure gives its HTTP status
 *                         (or 502 when none). HGET without ClientURI: 501.
 *   HPUT/HPOST ServerURI CU…  HTTP PUT/POST of the GET Data of the ClientURIs (application/json);
 *                         the server's status (2xx → 200), a GET failure gives its status.
 *   CONT ServerURI        200; the next Package #3 is POSTed there (get_next_url()).
 *   SHOW, DEFAULT, SUB, UNSUB  501 (the gateway has no UI, no MO defaults, no subscriptions).
 *   END                   ends the session.
 *
 * Signals: "alert-delivered" (guint id).
 */

/* the Generic Alert reporting an asynchronous EXEC's result ([R]: the text names none) */
#define GW_DM2_ALERT_EXEC_RESULT "urn:oma:at:dm:2.0:ExecResult"
/* the content type of a DM 2.0 Package #0 on POST /notify ([R]: the text names none; the DM 1.x
 * one is application/vnd.syncml.notification) */
#define GW_DM2_CONTENT_TYPE_NOTIFICATION "application/vnd.oma.dm.notification"
/* the content type of an HPUT/HPOST body */
#define GW_DM2_CONTENT_TYPE_MO_DATA "application/json"

#define GW_DM2_SESSION_DEFAULT_MAX_COMMANDS 256
#define GW_DM2_SESSION_DEFAULT_MAX_PACKAGES 32

typedef enum {
	GW_DM2_SESSION_STATE_NEW,
	GW_DM2_SESSION_STATE_ACTIVE,
	GW_DM2_SESSION_STATE_FINISHED,
	GW_DM2_SESSION_STATE_FAILED,
} GwDm2SessionState;

typedef struct {
	gchar *server_id;   /* the ACL principal of the server's commands (required) */
	gchar *dev_id;      /* OMADM-DevID (DevInfo/DevId) */
	gsize max_msg_size; /* largest Package #2 accepted; 0 = GW_DM2_MAX_MESSAGE_SIZE */
	guint max_commands; /* per Package #2; 0 = GW_DM2_SESSION_DEFAULT_MAX_COMMANDS */
	guint max_packages; /* Package #2s per session; 0 = GW_DM2_SESSION_DEFAULT_MAX_PACKAGES */
} GwDm2SessionConfig;

void
gw_dm2_session_config_clear(GwDm2SessionConfig *cfg);

typedef enum {
	GW_DM2_TRANSFER_GET,
	GW_DM2_TRANSFER_PUT,
	GW_DM2_TRANSFER_POST,
} GwDm2TransferMethod;

typedef struct {
	GwDm2TransferMethod method;
	const gchar *url;          /* the ServerURI */
	GBytes *body;              /* PUT/POST; NULL for GET */
	const gchar *content_type; /* of @body */
} GwDm2Transfer;

typedef struct {
	guint packages_in;
	guint packages_out;
	guint commands_executed;
	guint transfers;
	guint64 bytes_in;
	guint64 bytes_out;
} GwDm2SessionStats;

#define GW_TYPE_DM2_SESSION (gw_dm2_session_get_type())
G_DECLARE_FINAL_TYPE(GwDm2Session, gw_dm2_session, GW, DM2_SESSION, GObject)

GwDm2Session *
gw_dm2_session_new(const GwDm2SessionConfig *config, GwDmTree *tree);
GwDm2SessionState
gw_dm2_session_get_state(GwDm2Session *self);
/* the reason of FAILED, or NULL */
const GError *
gw_dm2_session_get_error(GwDm2Session *self);
const gchar *
gw_dm2_session_get_dev_id(GwDm2Session *self);
/* a CONT's ServerURI, or NULL (keep POSTing where the last package went) */
const gchar *
gw_dm2_session_get_next_url(GwDm2Session *self);
void
gw_dm2_session_get_stats(GwDm2Session *self, GwDm2SessionStats *stats);

/* a Generic Alert for Package #1 (takes ownership); "alert-delivered" @id when the server
 * answers Package #1 with a Package #2 */
void
gw_dm2_session_queue_alert(GwDm2Session *self, guint id, GwDm2Alert *alert);
/*
 * The same with the alert's @identity (nullable; gw_dm2_alert_id_is_valid()), which start()
 * puts into Package #1's GW_DM2_HEADER_ALERT_ID. Before start() only. FALSE (and @alert freed)
 * when the header would grow beyond GW_DM2_ALERT_ID_HEADER_MAX: the package is full, the alert
 * waits for another session (the first alert always fits).
 */
gboolean
gw_dm2_session_queue_identified_alert(GwDm2Session *self,
                                      guint id,
                                      const gchar *identity,
                                      GwDm2Alert *alert);
/* the GW_DM2_HEADER_ALERT_ID value of the Package #1 start() made, NULL when none */
const gchar *
gw_dm2_session_get_alert_id_header(GwDm2Session *self);

/* Package #1. @server_initiated: ServerInitiatedMgmt with @notification_id, else
 * ClientInitiatedMgmt. */
GBytes *
gw_dm2_session_start(GwDm2Session *self,
                     gboolean server_initiated,
                     guint16 notification_id,
                     GError **error);

/* a received Package #2 (@content_type nullable: not checked) */
gboolean
gw_dm2_session_receive(GwDm2Session *self,
                       GBytes *package,
                       const gchar *content_type,
                       GError **error);

/* see above: Package #3, or NULL (pending transfer, FINISHED, or @error and FAILED) */
GBytes *
gw_dm2_session_run(GwDm2Session *self, GError **error);

/* the transfer run() waits for, or NULL (owned by the session) */
const GwDm2Transfer *
gw_dm2_session_get_transfer(GwDm2Session *self);
/* its outcome: @http_status 0 when the transfer failed (network, bounds), @body nullable */
void
gw_dm2_session_complete_transfer(GwDm2Session *self, guint http_status, GBytes *body);

G_END_DECLS
