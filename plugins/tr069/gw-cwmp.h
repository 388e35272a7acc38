/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The CWMP SOAP codec (TR-069 Amendment 6, cwmp-1-0 … cwmp-1-4): pure functions, no I/O.
 *
 * Reading is liberal: any namespace prefixes (or none), whitespace around values, a missing
 * Header, an unknown namespace version read as the newest. Reading is bounded: the pre-scan
 * (gw_cwmp_prescan) checks size, depth, elements and attributes per element in one linear pass
 * before libxml2 sees a byte (libxml2 checks a tag's attributes pairwise: the same reason as
 * core/tree/gw-xml-bounds.h, which a plugin cannot use); no DTD, no entities, no network.
 *
 * Writing is strict: SOAP-ENV/SOAP-ENC/xsd/xsi/cwmp prefixes, the cwmp:ID header with
 * mustUnderstand="1" on every request, in the CPE's own namespace version, text escaped.
 */

/* ---- bounds ---- */

/* one envelope: a GetParameterValuesResponse of a whole TR-181 tree is a few hundred KiB */
#define GW_CWMP_MAX_MESSAGE (1024 * 1024)
/* Envelope/Body/Response/ParameterList/ParameterValueStruct/Value is 6 deep */
#define GW_CWMP_MAX_DEPTH 32
/* a ParameterValueStruct is 3 elements: 20,000 is over 6,000 parameters */
#define GW_CWMP_MAX_ELEMENTS 20000
/* SOAP uses a handful (namespace declarations on the Envelope, xsi:type, arrayType) */
#define GW_CWMP_MAX_ATTRIBUTES 16
/* parameters (or events) kept of one message */
#define GW_CWMP_MAX_PARAMS 8192
/* a parameter name: TR-106 says 256 */
#define GW_CWMP_MAX_NAME 256
/* a value: TR-181 strings are at most a few KiB; base64 blobs are rare */
#define GW_CWMP_MAX_VALUE 65536
/* an identity string (OUI, ProductClass, SerialNumber, Manufacturer: 64 in TR-069) */
#define GW_CWMP_MAX_IDENT 64

/* ---- versions ---- */

/* the newest minor version this codec speaks: cwmp-1-4 */
#define GW_CWMP_VERSION_MAX 4

/* "urn:dslforum-org:cwmp-1-<minor>" */
const gchar *
gw_cwmp_namespace(guint minor);

/* ---- what a CPE sends ---- */

typedef enum {
	GW_CWMP_MSG_EMPTY, /* the empty POST: the CPE has nothing more to send */
	GW_CWMP_MSG_INFORM,
	GW_CWMP_MSG_TRANSFER_COMPLETE,
	GW_CWMP_MSG_GET_RPC_METHODS, /* a CPE may ask the ACS */
	GW_CWMP_MSG_GET_PARAMETER_VALUES_RESPONSE,
	GW_CWMP_MSG_GET_PARAMETER_NAMES_RESPONSE,
	GW_CWMP_MSG_SET_PARAMETER_VALUES_RESPONSE,
	GW_CWMP_MSG_ADD_OBJECT_RESPONSE,
	GW_CWMP_MSG_DELETE_OBJECT_RESPONSE,
	GW_CWMP_MSG_REBOOT_RESPONSE,
	GW_CWMP_MSG_DOWNLOAD_RESPONSE,
	GW_CWMP_MSG_FAULT,
	GW_CWMP_MSG_OTHER, /* a well-formed envelope of an RPC this codec does not read */
} GwCwmpKind;

typedef struct {
	gchar *name;       /* "Device.DeviceInfo.SoftwareVersion" */
	gchar *value;      /* GetParameterValues; NULL in GetParameterNames */
	gchar *type;       /* "xsd:string", … (the xsi:type as sent), nullable */
	gboolean writable; /* GetParameterNamesResponse */
} GwCwmpParam;

typedef struct {
	GwCwmpKind kind;
	guint version; /* the minor version of the cwmp namespace it used (0 … 4) */
	gchar *id;     /* the cwmp:ID header, nullable */
	gboolean hold_requests;
	gchar *method; /* the Body element's local name, nullable (EMPTY) */

	/* Inform */
	gchar *manufacturer;
	gchar *oui;
	gchar *product_class;
	gchar *serial_number;
	GPtrArray *events;       /* gchar *: "0 BOOTSTRAP", "M Download" */
	GPtrArray *command_keys; /* gchar *, one per event ("" when none) */
	guint max_envelopes;
	guint retry_count;
	GPtrArray *params; /* GwCwmpParam *: Inform's ParameterList, the GPV/GPN responses */

	/* SetParameterValuesResponse, AddObjectResponse, DeleteObjectResponse, DownloadResponse */
	gint status;           /* 0 applied, 1 applied at the next reboot, -1 absent */
	guint instance_number; /* AddObjectResponse */

	/* Fault (or TransferComplete's FaultStruct; 0 when there is none) */
	guint fault_code;
	gchar *fault_string;
	gchar *fault_parameter; /* the first SetParameterValuesFault's name, nullable */

	/* TransferComplete (its CommandKey) */
	gchar *command_key;
} GwCwmpMessage;

void
gw_cwmp_param_free(GwCwmpParam *param);
void
gw_cwmp_message_free(GwCwmpMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwCwmpMessage, gw_cwmp_message_free)

/* the linear pre-scan: FALSE and @error when @data passes a bound or has a DOCTYPE */
gboolean
gw_cwmp_prescan(const gchar *data, gsize len, GError **error);

/* parses one message of a CPE (an empty or all-whitespace body: GW_CWMP_MSG_EMPTY). NULL and
 * @error (GW_ERROR_PROTOCOL) when it is not a bounded, well-formed SOAP envelope */
GwCwmpMessage *
gw_cwmp_parse(const gchar *data, gsize len, GError **error);

/* a CPE's Inform's DeviceID as the inventory names it: "OUI-ProductClass-SerialNumber" (each
 * part's characters outside [A-Za-z0-9_.] percent-escaped, as TR-069 §3.4.4 does for the
 * Connection Request's DeviceID); NULL when OUI or SerialNumber is missing */
gchar *
gw_cwmp_device_id(const GwCwmpMessage *inform);
/* the value of parameter @name in @msg's params, NULL when absent */
const gchar *
gw_cwmp_message_lookup(const GwCwmpMessage *msg, const gchar *name);
/* TRUE when @msg is an Inform carrying event @code ("1 BOOT") */
gboolean
gw_cwmp_message_has_event(const GwCwmpMessage *msg, const gchar *code);

/* ---- what the ACS sends (each returns the whole envelope, NUL-terminated) ---- */

typedef struct {
	const gchar *name;
	const gchar *value;
	const gchar *type; /* "xsd:string" when NULL */
} GwCwmpSetParam;

gchar *
gw_cwmp_build_inform_response(guint version, const gchar *id, guint max_envelopes);
gchar *
gw_cwmp_build_transfer_complete_response(guint version, const gchar *id);
gchar *
gw_cwmp_build_get_rpc_methods_response(guint version, const gchar *id);
gchar *
gw_cwmp_build_get_parameter_values(guint version, const gchar *id, const gchar *const *names);
gchar *
gw_cwmp_build_get_parameter_names(guint version,
                                  const gchar *id,
                                  const gchar *path,
                                  gboolean next_level);
gchar *
gw_cwmp_build_set_parameter_values(guint version,
                                   const gchar *id,
                                   const GwCwmpSetParam *params,
                                   guint n_params,
                                   const gchar *parameter_key);
gchar *
gw_cwmp_build_add_object(guint version,
                         const gchar *id,
                         const gchar *object_name,
                         const gchar *parameter_key);
gchar *
gw_cwmp_build_delete_object(guint version,
                            const gchar *id,
                            const gchar *object_name,
                            const gchar *parameter_key);
gchar *
gw_cwmp_build_reboot(guint version, const gchar *id, const gchar *command_key);

typedef struct {
	const gchar *command_key;
	const gchar *file_type; /* "1 Firmware Upgrade Image" */
	const gchar *url;
	const gchar *username; /* nullable */
	const gchar *password; /* nullable */
	guint64 file_size;
	const gchar *target_file_name; /* nullable */
	guint delay_seconds;
} GwCwmpDownload;

gchar *
gw_cwmp_build_download(guint version, const gchar *id, const GwCwmpDownload *download);
/* a SOAP Fault from the ACS (to an RPC of the CPE it does not support: 8000 … 8005) */
gchar *
gw_cwmp_build_fault(guint version, const gchar *id, guint code, const gchar *string);

/* ---- paths ---- */

/* "Device.DeviceInfo.SoftwareVersion" → "./TR069/Device/DeviceInfo/SoftwareVersion"
 * ("Device.IP." → "./TR069/Device/IP") */
gchar *
gw_cwmp_path_to_uri(const gchar *path);
/* the reverse: "./TR069/Device/DeviceInfo/SoftwareVersion" → "Device.DeviceInfo.SoftwareVersion";
 * NULL when @uri is not under ./TR069/ or a segment is empty or has a '.'. @interior: the uri
 * ended in '/' (then the path ends in '.') */
gchar *
gw_cwmp_uri_to_path(const gchar *uri, gboolean *interior);

/* ---- faults ---- */

/* the OMA DM status of a CWMP fault code (the README's table) */
guint
gw_cwmp_fault_to_status(guint fault_code);

G_END_DECLS
