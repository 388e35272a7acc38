/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/*
 * What the UPnP adapter reads from the LAN, parsed and bounded before anything else sees it:
 * a root device's description document, each service's SCPD, and the Exec data a DM Server
 * sends for an action. Pure functions over bytes (no network, no GUPnP), so the fuzz target
 * tests/upnp/fuzz-upnp.c drives exactly the code the plugin runs.
 *
 * A UPnP device is any host on the LAN, so every count and length here has a cap; input over
 * a cap is refused as a whole with a GError (GW_ERROR_PROTOCOL) that says which cap.
 */

typedef struct {
	gsize max_document;  /* bytes of one description or SCPD */
	guint max_elements;  /* XML elements in one document */
	guint max_services;  /* services of a root device, embedded devices' included */
	guint max_embedded;  /* nesting depth of embedded devices (root = 0) */
	guint max_actions;   /* actions of one service */
	guint max_arguments; /* arguments of one action */
	guint max_variables; /* state variables of one service */
} GwUpnpLimits;

/* the defaults documented in plugins/upnp/README.md */
void
gw_upnp_limits_init(GwUpnpLimits *limits);

/* ---- the description document ---- */

typedef struct {
	gchar *service_type;
	gchar *service_id;  /* as the device wrote it */
	gchar *node_name;   /* its node name under ./UPnP/Services, unique in the device */
	gchar *udn;         /* of the (embedded) device that holds it */
	gchar *scpd_url;    /* absolute, http, on the description's host */
	gchar *control_url; /* idem */
	gchar *event_url;   /* idem; NULL when the service has none */
	xmlNode *element;   /* its <service> element in the description's document */
} GwUpnpServiceDesc;

typedef struct {
	xmlDoc *doc; /* owned; gw_upnp_description_steal_doc() takes it */
	gchar *location;
	gchar *udn;
	gchar *device_type;
	gchar *friendly_name;
	gchar *manufacturer;
	gchar *model_name;
	gchar *model_number;
	gchar *serial_number;
	gchar *url_base; /* absolute: <URLBase> or the location */
	xmlNode *device_element;
	GPtrArray *services; /* of GwUpnpServiceDesc, in document order */
} GwUpnpDescription;

/*
 * Parses the description at @location (an http URL with a literal IP address, already
 * checked by the caller) from @data. Refuses: not well-formed XML, a DOCTYPE, more than
 * @limits elements or services, a root without <device>, a missing or malformed UDN. Services
 * without a serviceType, serviceId, SCPDURL or controlURL, or whose URLs leave the
 * description's host, are left out (logged at debug level); the device stays.
 */
GwUpnpDescription *
gw_upnp_description_parse(const gchar *data,
                          gsize len,
                          const gchar *location,
                          const GwUpnpLimits *limits,
                          GError **error);
void
gw_upnp_description_free(GwUpnpDescription *desc);
xmlDoc *
gw_upnp_description_steal_doc(GwUpnpDescription *desc);

/* ---- a service's SCPD ---- */

typedef struct {
	gchar *name;
	gboolean out;
	gchar *related; /* relatedStateVariable; NULL when missing */
	gboolean retval;
} GwUpnpArgument;

typedef struct {
	gchar *name;
	gchar *node_name;     /* unique in the service */
	GPtrArray *arguments; /* of GwUpnpArgument, in SCPD order */
	guint n_in;
	guint n_out;
} GwUpnpAction;

typedef struct {
	gchar *name;
	gchar *node_name; /* unique in the service */
	gchar *data_type; /* "ui1", "boolean", "string", …; "string" when missing */
	gboolean send_events;
} GwUpnpVariable;

typedef struct {
	GPtrArray *actions;   /* of GwUpnpAction */
	GPtrArray *variables; /* of GwUpnpVariable */
} GwUpnpScpd;

GwUpnpScpd *
gw_upnp_scpd_parse(const gchar *data, gsize len, const GwUpnpLimits *limits, GError **error);
void
gw_upnp_scpd_free(GwUpnpScpd *scpd);
const GwUpnpAction *
gw_upnp_scpd_find_action(const GwUpnpScpd *scpd, const gchar *name);
const GwUpnpVariable *
gw_upnp_scpd_find_variable(const GwUpnpScpd *scpd, const gchar *name);
/* the action that reads @variable: no in-arguments and an out-argument related to it (the
 * one with a single out-argument first); NULL when there is none. *out_index: that argument's
 * index in the action's arguments */
const GwUpnpAction *
gw_upnp_scpd_find_getter(const GwUpnpScpd *scpd, const gchar *variable, guint *out_index);

/* ---- names and values ---- */

/*
 * A node name for @name: the part after "serviceId:" for a service ID, every character other
 * than A–Z, a–z, 0–9, "_" and "-" replaced by "_", at most 64 bytes, "_2", "_3"… appended when
 * @taken (a set of names) already holds it; the result is added to @taken.
 */
gchar *
gw_upnp_node_name(const gchar *name, gboolean is_service_id, GHashTable *taken);

/* TRUE when @value is a valid lexical value of UPnP @data_type (integers in range, booleans,
 * numbers, one char, XML-safe text for the rest) */
gboolean
gw_upnp_value_is_valid(const gchar *data_type, const gchar *value);
/* a UPnP boolean as "0"/"1" (NULL when it is none) */
const gchar *
gw_upnp_boolean_normalize(const gchar *value);
/* the DDF format a variable of @data_type is declared with ("int", "float", "chr") */
const gchar *
gw_upnp_data_type_format(const gchar *data_type);

/*
 * Exec data for @action: "name=value&…" (application/x-www-form-urlencoded: "+" is a space,
 * %XX an octet) naming each in-argument exactly once, in any order. Returns the values in the
 * action's in-argument order (a NULL-terminated array of @action->n_in strings), or NULL with
 * GW_ERROR_INVALID_ARGS: an unknown, repeated or missing argument, a malformed escape, text
 * that is not UTF-8, a value invalid for its related variable's type (@scpd), data over
 * 64 KiB. An action without in-arguments takes empty data only.
 */
gchar **
gw_upnp_args_parse(const GwUpnpScpd *scpd,
                   const GwUpnpAction *action,
                   const gchar *data,
                   gsize len,
                   GError **error);
/* "name=value&…" with both sides percent-encoded (RFC 3986 unreserved characters kept) */
gchar *
gw_upnp_args_encode(const gchar *const *names, const gchar *const *values);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwUpnpDescription, gw_upnp_description_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwUpnpScpd, gw_upnp_scpd_free)

G_END_DECLS
