/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * GW_ERROR:
 *
 * The one error domain of gwmo. Every code maps to the D-Bus error name
 * `org.gwmo.Gateway1.Error.<Nick>`; codes are append-only (they are API).
 *
 * Since: 1.0
 */
#define GW_ERROR (gw_error_quark())

/**
 * GwError:
 * @GW_ERROR_FAILED:            generic failure
 * @GW_ERROR_INVALID_ARGS:      an argument has the wrong type, range or shape
 * @GW_ERROR_NOT_FOUND:         no such node, device, object
 * @GW_ERROR_NOT_SUPPORTED:     the operation or format is not supported
 * @GW_ERROR_WRONG_STATE:       the object is not in a state that allows this
 * @GW_ERROR_IN_PROGRESS:       the operation is already running
 * @GW_ERROR_AUTH_FAILED:       credentials missing or wrong
 * @GW_ERROR_TIMED_OUT:         a peer did not answer in time
 * @GW_ERROR_PROTOCOL:          a peer sent a malformed message
 * @GW_ERROR_NETWORK:           a network operation failed
 * @GW_ERROR_INTERNAL:          an internal error (a bug)
 * @GW_ERROR_PERMISSION_DENIED: the caller may not do this (ACL, policy)
 * @GW_ERROR_ALREADY_EXISTS:    the object exists already
 * @GW_ERROR_INVALID_URI:       a DM tree URI is malformed or too long
 * @GW_ERROR_NOT_ALLOWED:       the command is not allowed on this node (access type)
 * @GW_ERROR_CORRUPT_STATE:     a state file failed its integrity checks
 *
 * Since: 1.0
 */
typedef enum {
	GW_ERROR_FAILED,
	GW_ERROR_INVALID_ARGS,
	GW_ERROR_NOT_FOUND,
	GW_ERROR_NOT_SUPPORTED,
	GW_ERROR_WRONG_STATE,
	GW_ERROR_IN_PROGRESS,
	GW_ERROR_AUTH_FAILED,
	GW_ERROR_TIMED_OUT,
	GW_ERROR_PROTOCOL,
	GW_ERROR_NETWORK,
	GW_ERROR_INTERNAL,
	GW_ERROR_PERMISSION_DENIED,
	GW_ERROR_ALREADY_EXISTS,
	GW_ERROR_INVALID_URI,
	GW_ERROR_NOT_ALLOWED,
	GW_ERROR_CORRUPT_STATE,
	/*< private >*/
	GW_ERROR_LAST
} GwError;

GQuark
gw_error_quark(void);

const gchar *
gw_error_to_dbus_name(GwError code);

G_END_DECLS
