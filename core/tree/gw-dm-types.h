/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "gw-error.h"

G_BEGIN_DECLS

/* DDF formats (OMA DM TND) */
typedef enum {
	GW_DM_FORMAT_NODE,
	GW_DM_FORMAT_CHR,
	GW_DM_FORMAT_INT,
	GW_DM_FORMAT_BOOL,
	GW_DM_FORMAT_BIN,
	GW_DM_FORMAT_B64,
	GW_DM_FORMAT_XML,
	GW_DM_FORMAT_DATE,
	GW_DM_FORMAT_TIME,
	GW_DM_FORMAT_FLOAT,
	GW_DM_FORMAT_NULL,
	GW_DM_FORMAT_INVALID,
} GwDmFormat;

const gchar *
gw_dm_format_to_string(GwDmFormat format);
/* returns GW_DM_FORMAT_INVALID for unknown names; case-sensitive as in DDF */
GwDmFormat
gw_dm_format_from_string(const gchar *name);
/* checks that @value (may be NULL for node/null) is well formed for @format:
 * int = optional sign + decimal digits fitting gint64, bool = "true"/"false",
 * chr = UTF-8 that XML can carry, xml = one well-formed document without DTD,
 * date = ISO 8601 date (YYYY-MM-DD, YYYYMMDD) or RFC 3339 date-time, time = ISO 8601 time,
 * float = a finite decimal number (no NaN, no infinity, no hex), b64 = base64 with padding;
 * GW_ERROR_NOT_SUPPORTED otherwise (DM status 415) */
gboolean
gw_dm_format_validate_value(GwDmFormat format, GBytes *value, GError **error);
/* (added) what the tree can hold and write as TNDS, as gwmod checked values before issue 11:
 * text formats (chr, xml, date, time) UTF-8 that XML can carry, float what g_ascii_strtod()
 * reads whole, b64 the alphabet; int, bool, null, node as above. For the owner API and for
 * restores (journal, state file), so that what an older gwmod stored still loads. Values from
 * outside (DM commands, D-Bus, imported documents) take gw_dm_format_validate_value(). */
gboolean
gw_dm_format_validate_stored(GwDmFormat format, GBytes *value, GError **error);
/* TRUE when @len bytes at @text (@len -1: NUL-terminated) are UTF-8 that XML 1.0 can carry:
 * no NUL, no C0 control character other than TAB/LF/CR, no U+FFFE/U+FFFF (added) */
gboolean
gw_dm_text_is_xml_safe(const gchar *text, gssize len);

/* DDF access types; also the commands checked against ACLs */
typedef enum {
	GW_DM_ACCESS_NONE = 0,
	GW_DM_ACCESS_GET = 1 << 0,
	GW_DM_ACCESS_ADD = 1 << 1,
	GW_DM_ACCESS_REPLACE = 1 << 2,
	GW_DM_ACCESS_DELETE = 1 << 3,
	GW_DM_ACCESS_EXEC = 1 << 4,
	GW_DM_ACCESS_COPY = 1 << 5,
	GW_DM_ACCESS_ALL = 0x3f,
} GwDmAccess;

/* (added) "Add|Get|Replace" (TNDS order), "none" for GW_DM_ACCESS_NONE; for logs */
gchar *
gw_dm_access_to_string(GwDmAccess access);

/* SyncML status codes (RepPro 1.2.2 §10 subset used by DM) */
typedef enum {
	GW_DM_STATUS_IN_PROGRESS = 101,
	GW_DM_STATUS_OK = 200,
	GW_DM_STATUS_ACCEPTED = 202,
	GW_DM_STATUS_AUTH_ACCEPTED = 212,
	GW_DM_STATUS_CHUNK_ACCEPTED = 213,
	GW_DM_STATUS_CANCELLED = 214,
	GW_DM_STATUS_NOT_EXECUTED = 215,
	GW_DM_STATUS_ATOMIC_ROLLBACK_OK = 216,
	GW_DM_STATUS_NOT_MODIFIED = 304,
	GW_DM_STATUS_BAD_REQUEST = 400,
	GW_DM_STATUS_INVALID_CREDENTIALS = 401,
	GW_DM_STATUS_FORBIDDEN = 403,
	GW_DM_STATUS_NOT_FOUND = 404,
	GW_DM_STATUS_COMMAND_NOT_ALLOWED = 405,
	GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED = 406,
	GW_DM_STATUS_MISSING_CREDENTIALS = 407,
	GW_DM_STATUS_REQUEST_TIMEOUT = 408,
	GW_DM_STATUS_CONFLICT = 409,
	GW_DM_STATUS_GONE = 410,
	GW_DM_STATUS_INCOMPLETE_COMMAND = 412,
	GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE = 413,
	GW_DM_STATUS_URI_TOO_LONG = 414,
	GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE = 415,
	GW_DM_STATUS_REQUESTED_SIZE_TOO_BIG = 416,
	GW_DM_STATUS_ALREADY_EXISTS = 418,
	GW_DM_STATUS_DEVICE_FULL = 420,
	GW_DM_STATUS_SIZE_MISMATCH = 424,
	GW_DM_STATUS_PERMISSION_DENIED = 425,
	GW_DM_STATUS_COMMAND_FAILED = 500,
	GW_DM_STATUS_NOT_IMPLEMENTED = 501,
	GW_DM_STATUS_SERVICE_UNAVAILABLE = 503,
	GW_DM_STATUS_SESSION_INTERNAL_ERROR = 506,
	GW_DM_STATUS_ATOMIC_FAILED = 507,
	GW_DM_STATUS_ATOMIC_ROLLBACK_FAILED = 516,
} GwDmStatus;

/* "OK", "Not found", … for logs and messages; "Unknown status" otherwise */
const gchar *
gw_dm_status_to_string(guint status);
gboolean
gw_dm_status_is_success(guint status); /* 2xx */
/* maps a failure status to the matching GW_ERROR code (404 → NOT_FOUND, 425 → PERMISSION_DENIED,
 * 405 → NOT_ALLOWED, 400/414 → INVALID_URI, 418 → ALREADY_EXISTS, 415/406 → NOT_SUPPORTED, …) */
GwError
gw_dm_status_to_error(guint status);
/* sets @error from @status with a message "<what>: <status text> (<status>)" and returns FALSE */
gboolean
gw_dm_status_set_error(GError **error, guint status, const gchar *what);

/* one item of a command or result */
typedef struct {
	gchar *uri;
	GwDmFormat format;
	gchar *mime_type; /* nullable */
	GBytes *data;     /* nullable */
} GwDmItem;

GwDmItem *
gw_dm_item_new(const gchar *uri, GwDmFormat format, const gchar *mime_type, GBytes *data);
GwDmItem *
gw_dm_item_new_string(const gchar *uri,
                      GwDmFormat format,
                      const gchar *mime_type,
                      const gchar *data);
/* data as a NUL-terminated copy, or NULL */
gchar *
gw_dm_item_dup_string(const GwDmItem *item);
void
gw_dm_item_free(GwDmItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDmItem, gw_dm_item_free)

G_END_DECLS
