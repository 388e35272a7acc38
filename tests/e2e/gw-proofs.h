/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers of the end-to-end proofs (test-e2e-proofs*.c, issue 11 §6): the real gwmod with the
 * reference DM Server north and reference End Devices south, set up the way each proof needs
 * (HMAC or MD5 accounts, HTTPS or HTTP southbound), on top of gw-e2e.h.
 */

#pragma once

#include "gw-e2e.h"

/* the gateway's DevId and what its devices share with it in these tests */
#define PROOF_GW_ID "GW-TEST-0001"
#define PROOF_GW_SECRET "gw-secret-p"
#define PROOF_DEV_SECRET "dev-secret-p"

typedef struct {
	const gchar *auth_type;    /* AAuthType of both DMAcc entries: "DIGEST" (default), "HMAC" */
	const gchar *south_listen; /* NULL: http://127.0.0.1:<south_port>; "" : no key at all */
	const gchar *south_extra;  /* more [southbound] lines */
	const gchar *extra;        /* more groups */
	gboolean inventory_alerts; /* leave ./GwMO/Config/Servers/srv1/InventoryAlert on */
} ProofConfig;

/* gwmod bootstrapped to the reference server's account (ServerID srv1.example, node srv1) */
Env *
proof_env_new(const ProofConfig *config);

/* another gateway (DevId @dev_id, southbound http on @south_port) bootstrapped to the same
 * reference server as @e's, DIGEST both ways */
GwTestDaemon *
proof_gateway_new(Env *e, const gchar *dev_id, guint16 south_port, const gchar *south_extra);

/* env_free(); with GWMO_PROOFS_VERBOSE set, the logs and records first */
void
proof_env_free(Env *e);

/* the reference End Device, NULL-terminated arguments after the binary; stdout silenced */
GSubprocess *
proof_device_spawn(Env *e, const gchar *log_name, ...) G_GNUC_NULL_TERMINATED;
/* its exit status once it ended by itself (60 s at most; -1 when it had to be killed) */
gint
proof_device_wait(GSubprocess *proc);
/* kills it if still running */
void
proof_device_stop(GSubprocess *proc);

/* AddDevice (DIGEST, ClientName = @device_id) → "./GwMO/Inventory/Devices/<n>" */
gchar *
proof_add_device(GwTestDaemon *d,
                 const gchar *device_id,
                 guint mode,
                 const gchar *client_secret,
                 const gchar *server_secret,
                 const gchar *notify_addr);
/* the record of DeviceID @device_id, NULL when there is none */
gchar *
proof_find_record(GwTestDaemon *d, const gchar *device_id);
/* waits (60 s at most) until GetNode(@uri) reads @value (NULL: until it exists) */
void
proof_wait_value(GwTestDaemon *d, const gchar *uri, const gchar *value);
/* SetNode of a bool */
void
proof_set_bool(GwTestDaemon *d, const gchar *uri, gboolean value);
/* StartSession with srv1.example, retried while the one before is still finishing */
void
proof_start_session(GwTestDaemon *d);

/* the data of item @i of a recorded result */
const gchar *
proof_item_data(JsonObject *result, guint i);
/* the @nth session (0-based) of a server record with Source @peer, NULL if none */
JsonObject *
proof_session_of(JsonArray *sessions, const gchar *peer, guint nth);
/* how many Generic Alerts of @type whose data holds <DeviceID>@device_id</DeviceID> the record
 * holds over all sessions */
guint
proof_count_alerts(JsonArray *sessions, const gchar *type, const gchar *device_id);
/* the server's record, dumped on stderr (for a failing assertion's context) */
void
proof_dump(const gchar *path);

/* GET @url trusting @ca_file (nullable); @authorization: an Authorization header or NULL;
 * returns the HTTP status (0: no answer), the body's sha256 in @sha256 when wanted */
guint
proof_http_get(const gchar *url, const gchar *ca_file, const gchar *authorization, gchar **sha256);

/* the aggregated result of the FanoutComplete alert with @correlator in a server record's
 * @session (asserts there is one) */
const gchar *
proof_fanout_document(JsonObject *session, const gchar *correlator);
/* TRUE when @doc has <Device id="@id" status="@status" (logs @doc otherwise) */
gboolean
proof_doc_device_status(const gchar *doc, const gchar *id, guint status);
