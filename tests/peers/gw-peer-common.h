/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "gw-dm-auth.h"
#include "gw-http-client.h"
#include "gw-syncml.h"

G_BEGIN_DECLS

/*
 * Helpers shared by the reference peers (gwmo-test-server, gwmo-test-device). Test tools,
 * never installed.
 */

/* exit codes of both peers */
#define GW_PEER_EXIT_OK 0
#define GW_PEER_EXIT_FAILED 1 /* a session failed, a record could not be written */
#define GW_PEER_EXIT_USAGE 2  /* bad command line, bad script */

/* "none", "basic", "md5", "hmac" (case-insensitive) */
G_GNUC_WARN_UNUSED_RESULT gboolean
gw_peer_parse_auth_type(const gchar *name, GwDmAuthType *type, GError **error);
const gchar *
gw_peer_auth_type_to_string(GwDmAuthType type);

/* a nonce given on the command line: "hex:0011…" or the literal bytes of the text */
GBytes *
gw_peer_parse_nonce(const gchar *text, GError **error);

/* @pattern with every "%u" replaced by @index ("%0Nu", N one digit: zero-padded to width N) */
gchar *
gw_peer_expand_index(const gchar *pattern, guint index);

/* parses a SyncML DM message, XML or WBXML (by content type, sniffed when NULL) */
GwSyncmlMessage *
gw_peer_decode(GBytes *bytes, const gchar *content_type, GError **error);

/* a POST that waits for its answer, iterating the thread-default main context */
GwHttpResponse *
gw_peer_post_sync(GwHttpClient *client,
                  const gchar *uri,
                  const gchar *content_type,
                  GBytes *body,
                  const gchar *const *headers,
                  GError **error);

/* @text quoted and escaped for one log line, cut at 60 characters; "" for NULL */
gchar *
gw_peer_quote(const gchar *text);

/* the LocURI a command is about: first item's Target, else its Source; NULL if none */
const gchar *
gw_peer_command_uri(const GwSyncmlCommand *cmd);

/* {"uri","format","type","data"} of an item (absent members are null) */
JsonObject *
gw_peer_item_to_json(const GwSyncmlItem *item);
/* {"cmd","uri","source","format","type","data","correlator"} or, for Atomic/Sequence,
 * {"cmd","commands":[…]} */
JsonObject *
gw_peer_command_to_json(const GwSyncmlCommand *cmd);

/* json_object_set_string_member() that writes null for NULL */
void
gw_peer_json_set_string(JsonObject *object, const gchar *member, const gchar *value);

/* writes {"sessions": @sessions} pretty-printed, atomically (temporary file + rename) */
gboolean
gw_peer_write_record(const gchar *path, JsonArray *sessions, GError **error);

G_END_DECLS
