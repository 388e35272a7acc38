/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwError"

#include "config.h"

#include <gio/gio.h>

#include "gw-error.h"

#define GW_DBUS_ERROR_PREFIX "org.gwmo.Gateway1.Error."

static const GDBusErrorEntry gw_error_entries[] = {
    {GW_ERROR_FAILED, GW_DBUS_ERROR_PREFIX "Failed"},
    {GW_ERROR_INVALID_ARGS, GW_DBUS_ERROR_PREFIX "InvalidArgs"},
    {GW_ERROR_NOT_FOUND, GW_DBUS_ERROR_PREFIX "NotFound"},
    {GW_ERROR_NOT_SUPPORTED, GW_DBUS_ERROR_PREFIX "NotSupported"},
    {GW_ERROR_WRONG_STATE, GW_DBUS_ERROR_PREFIX "WrongState"},
    {GW_ERROR_IN_PROGRESS, GW_DBUS_ERROR_PREFIX "InProgress"},
    {GW_ERROR_AUTH_FAILED, GW_DBUS_ERROR_PREFIX "AuthFailed"},
    {GW_ERROR_TIMED_OUT, GW_DBUS_ERROR_PREFIX "TimedOut"},
    {GW_ERROR_PROTOCOL, GW_DBUS_ERROR_PREFIX "Protocol"},
    {GW_ERROR_NETWORK, GW_DBUS_ERROR_PREFIX "Network"},
    {GW_ERROR_INTERNAL, GW_DBUS_ERROR_PREFIX "Internal"},
    {GW_ERROR_PERMISSION_DENIED, GW_DBUS_ERROR_PREFIX "PermissionDenied"},
    {GW_ERROR_ALREADY_EXISTS, GW_DBUS_ERROR_PREFIX "AlreadyExists"},
    {GW_ERROR_INVALID_URI, GW_DBUS_ERROR_PREFIX "InvalidUri"},
    {GW_ERROR_NOT_ALLOWED, GW_DBUS_ERROR_PREFIX "NotAllowed"},
    {GW_ERROR_CORRUPT_STATE, GW_DBUS_ERROR_PREFIX "CorruptState"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(gw_error_entries) == GW_ERROR_LAST);

GQuark
gw_error_quark(void)
{
	static gsize quark = 0;
	g_dbus_error_register_error_domain(
	    "gw-error-quark", &quark, gw_error_entries, G_N_ELEMENTS(gw_error_entries));
	return (GQuark)quark;
}

/**
 * gw_error_to_dbus_name:
 * @code: a #GwError
 *
 * Returns: (transfer none): the D-Bus error name for @code, or %NULL
 *
 * Since: 1.0
 */
const gchar *
gw_error_to_dbus_name(GwError code)
{
	if ((guint)code >= GW_ERROR_LAST)
		return NULL;
	return gw_error_entries[code].dbus_error_name;
}
