/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwTree"

#include "config.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <string.h>

#include "gw-dm-types.h"

static const gchar *const gw_dm_format_names[] = {
    [GW_DM_FORMAT_NODE] = "node",
    [GW_DM_FORMAT_CHR] = "chr",
    [GW_DM_FORMAT_INT] = "int",
    [GW_DM_FORMAT_BOOL] = "bool",
    [GW_DM_FORMAT_BIN] = "bin",
    [GW_DM_FORMAT_B64] = "b64",
    [GW_DM_FORMAT_XML] = "xml",
    [GW_DM_FORMAT_DATE] = "date",
    [GW_DM_FORMAT_TIME] = "time",
    [GW_DM_FORMAT_FLOAT] = "float",
    [GW_DM_FORMAT_NULL] = "null",
};

G_STATIC_ASSERT(G_N_ELEMENTS(gw_dm_format_names) == GW_DM_FORMAT_INVALID);

/* returns "invalid" for GW_DM_FORMAT_INVALID and out-of-range values */
const gchar *
gw_dm_format_to_string(GwDmFormat format)
{
	if ((guint)format >= G_N_ELEMENTS(gw_dm_format_names))
		return "invalid";
	return gw_dm_format_names[format];
}

GwDmFormat
gw_dm_format_from_string(const gchar *name)
{
	if (name == NULL)
		return GW_DM_FORMAT_INVALID;
	for (guint i = 0; i < G_N_ELEMENTS(gw_dm_format_names); i++) {
		if (g_strcmp0(name, gw_dm_format_names[i]) == 0)
			return (GwDmFormat)i;
	}
	return GW_DM_FORMAT_INVALID;
}

/* UTF-8 that can be carried in an XML 1.0 document: no NUL, no C0 control characters other
 * than TAB, LF and CR, no U+FFFE/U+FFFF. Values of text formats end up in TNDS (persistence,
 * ?list=TNDS) and SyncML XML, so anything else would produce documents that do not parse. */
gboolean
gw_dm_text_is_xml_safe(const gchar *data, gssize len_in)
{
	const gchar *end;
	gsize len;

	if (data == NULL)
		return FALSE;
	len = len_in < 0 ? strlen(data) : (gsize)len_in;
	if (!g_utf8_validate_len(data, len, &end))
		return FALSE;
	for (const gchar *p = data; p < data + len; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return FALSE;
		if (c == 0xfffe || c == 0xffff)
			return FALSE;
	}
	return TRUE;
}

static gboolean
gw_dm_validate_int(const gchar *data, gsize len)
{
	g_autofree gchar *copy = NULL;
	gsize i = 0;
	gchar *endptr = NULL;
	gint64 value;

	if (len == 0 || len > 32)
		return FALSE;
	if (data[0] == '+' || data[0] == '-')
		i = 1;
	if (i == len)
		return FALSE;
	for (; i < len; i++) {
		if (!g_ascii_isdigit(data[i]))
			return FALSE;
	}
	copy = g_strndup(data, len);
	errno = 0;
	value = g_ascii_strtoll(copy, &endptr, 10);
	(void)value;
	if (errno != 0 || endptr == NULL || *endptr != '\0')
		return FALSE;
	return TRUE;
}

/* a decimal number as DDF float values are written: [+-] digits [. digits] [(e|E) [+-] digits],
 * at least one digit before or after the point, finite. strtod() alone also takes "nan", "inf",
 * "infinity", hexadecimal floats and leading white space, none of which is a DDF float. */
static gboolean
gw_dm_validate_float(const gchar *data, gsize len)
{
	g_autofree gchar *copy = NULL;
	gchar *endptr = NULL;
	gsize i = 0;
	gsize digits = 0;
	gdouble value;

	if (len == 0 || len > 64)
		return FALSE;
	if (data[i] == '+' || data[i] == '-')
		i++;
	for (; i < len && g_ascii_isdigit(data[i]); i++)
		digits++;
	if (i < len && data[i] == '.') {
		for (i++; i < len && g_ascii_isdigit(data[i]); i++)
			digits++;
	}
	if (digits == 0)
		return FALSE;
	if (i < len && (data[i] == 'e' || data[i] == 'E')) {
		gsize exp_digits = 0;
		i++;
		if (i < len && (data[i] == '+' || data[i] == '-'))
			i++;
		for (; i < len && g_ascii_isdigit(data[i]); i++)
			exp_digits++;
		if (exp_digits == 0)
			return FALSE;
	}
	if (i != len)
		return FALSE;
	copy = g_strndup(data, len);
	errno = 0;
	value = g_ascii_strtod(copy, &endptr);
	/* ERANGE: too large (inf) or too small to be represented */
	if (errno != 0 || endptr == NULL || *endptr != '\0' || !isfinite(value))
		return FALSE;
	return TRUE;
}

/* what gwmod accepted as float before issue 11: whatever g_ascii_strtod() reads whole (NaN,
 * infinity and hexadecimal included); for values an older gwmod stored */
static gboolean
gw_dm_validate_float_stored(const gchar *data, gsize len)
{
	g_autofree gchar *copy = NULL;
	gchar *endptr = NULL;
	gdouble value;

	if (len == 0 || len > 64 || g_ascii_isspace(data[0]))
		return FALSE;
	copy = g_strndup(data, len);
	if (strlen(copy) != len)
		return FALSE;
	errno = 0;
	value = g_ascii_strtod(copy, &endptr);
	(void)value;
	return errno == 0 && endptr != copy && *endptr == '\0';
}

/* the base64 alphabet in groups of four (white space between them is ignored), "=" padding
 * only at the end; @strict FALSE: any length (what gwmod accepted before issue 11) */
static gboolean
gw_dm_validate_b64(const gchar *data, gsize len, gboolean strict)
{
	gsize pad = 0;
	gsize n = 0;

	for (gsize i = 0; i < len; i++) {
		gchar c = data[i];
		if (g_ascii_isalnum(c) || c == '+' || c == '/') {
			if (pad > 0)
				return FALSE;
			n++;
		} else if (c == '=') {
			pad++;
			n++;
			if (pad > 2)
				return FALSE;
		} else if (c == '\r' || c == '\n' || c == ' ' || c == '\t') {
			continue;
		} else {
			return FALSE;
		}
	}
	return !strict || n % 4 == 0;
}

/* @n decimal digits at @p, as a number */
static gboolean
gw_dm_digits(const gchar *p, guint n, guint *out)
{
	guint v = 0;

	for (guint i = 0; i < n; i++) {
		if (!g_ascii_isdigit(p[i]))
			return FALSE;
		v = v * 10 + (guint)(p[i] - '0');
	}
	*out = v;
	return TRUE;
}

/* "Z", "+hh:mm" or "-hh:mm" (and "+hhmm" when @basic) at @p, the whole rest; an empty rest when
 * @optional */
static gboolean
gw_dm_validate_zone(const gchar *p, gsize len, gboolean basic, gboolean optional)
{
	guint hh;
	guint mm;

	if (len == 0)
		return optional;
	if (len == 1)
		return p[0] == 'Z';
	if (p[0] != '+' && p[0] != '-')
		return FALSE;
	if (len == 6 && p[3] == ':')
		return gw_dm_digits(p + 1, 2, &hh) && gw_dm_digits(p + 4, 2, &mm) && hh < 24 &&
		       mm < 60;
	if (basic && len == 5)
		return gw_dm_digits(p + 1, 2, &hh) && gw_dm_digits(p + 3, 2, &mm) && hh < 24 &&
		       mm < 60;
	return FALSE;
}

/* hh:mm[:ss[.fraction]] or hhmm[ss] (basic), then the zone as gw_dm_validate_zone(); a leap
 * second (60) is allowed */
static gboolean
gw_dm_validate_clock(const gchar *p, gsize len, gboolean zone_optional)
{
	gboolean basic;
	guint hh;
	guint mm;
	guint ss = 0;
	gsize i;

	if (len < 4 || !gw_dm_digits(p, 2, &hh))
		return FALSE;
	basic = p[2] != ':';
	i = basic ? 2 : 3;
	if (len < i + 2 || !gw_dm_digits(p + i, 2, &mm))
		return FALSE;
	i += 2;
	if (i < len && (basic ? g_ascii_isdigit(p[i]) : p[i] == ':')) {
		if (!basic)
			i++;
		if (len < i + 2 || !gw_dm_digits(p + i, 2, &ss))
			return FALSE;
		i += 2;
		if (i < len && (p[i] == '.' || p[i] == ',')) {
			gsize digits = 0;
			for (i++; i < len && g_ascii_isdigit(p[i]); i++)
				digits++;
			if (digits == 0)
				return FALSE;
		}
	}
	if (hh > 23 || mm > 59 || ss > 60)
		return FALSE;
	return gw_dm_validate_zone(p + i, len - i, basic, zone_optional);
}

/*
 * DDF date (OMA DM TND: ISO 8601, with the century): "YYYY-MM-DD" or "YYYYMMDD", or an RFC 3339
 * date-time "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)" (what the gateway writes itself,
 * e.g. LastSeen). The day must exist in that month.
 */
static gboolean
gw_dm_validate_date(const gchar *p, gsize len)
{
	gsize i;
	guint y;
	guint m;
	guint d;

	if (len >= 10 && p[4] == '-' && p[7] == '-') {
		if (!gw_dm_digits(p, 4, &y) || !gw_dm_digits(p + 5, 2, &m) ||
		    !gw_dm_digits(p + 8, 2, &d))
			return FALSE;
		i = 10;
	} else if (len >= 8) {
		if (!gw_dm_digits(p, 4, &y) || !gw_dm_digits(p + 4, 2, &m) ||
		    !gw_dm_digits(p + 6, 2, &d))
			return FALSE;
		i = 8;
		if (len != i)
			return FALSE; /* a basic date is a date only */
	} else {
		return FALSE;
	}
	if (y == 0 || !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
		return FALSE;
	if (i == len)
		return TRUE;
	/* RFC 3339 date-time: extended clock with seconds and a zone */
	if (p[i] != 'T' && p[i] != 't')
		return FALSE;
	i++;
	if (len - i < 9 || p[i + 2] != ':' || p[i + 5] != ':')
		return FALSE;
	return gw_dm_validate_clock(p + i, len - i, FALSE);
}

/* DDF time (ISO 8601): [T]hh:mm[:ss[.fraction]][zone] or [T]hhmm[ss][zone] */
static gboolean
gw_dm_validate_time(const gchar *p, gsize len)
{
	if (len > 0 && p[0] == 'T')
		return gw_dm_validate_clock(p + 1, len - 1, TRUE);
	return gw_dm_validate_clock(p, len, TRUE);
}

#define GW_DM_XML_MAX_ATTRIBUTES 256

/* no start tag with more than GW_DM_XML_MAX_ATTRIBUTES "=" outside quotes: libxml2 2.9 checks
 * attributes for duplicates in quadratic time, and 100,000 of them block the main loop for
 * seconds (issue 11). A rough scan: it may count a comment or a processing instruction as a
 * tag, which only refuses documents no DM value has. */
static gboolean
gw_dm_xml_attributes_bounded(const gchar *data, gsize len)
{
	gboolean in_tag = FALSE;
	gchar quote = 0;
	guint n = 0;

	for (gsize i = 0; i < len; i++) {
		gchar c = data[i];
		if (quote != 0) {
			if (c == quote)
				quote = 0;
		} else if (!in_tag) {
			if (c == '<') {
				in_tag = TRUE;
				n = 0;
			}
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '=') {
			if (++n > GW_DM_XML_MAX_ATTRIBUTES)
				return FALSE;
		} else if (c == '>') {
			in_tag = FALSE;
		}
	}
	return TRUE;
}

/* one well-formed XML document (or element), parsed without network, DTD or entity
 * expansion; a document type declaration is refused (entity bombs) */
static gboolean
gw_dm_validate_xml(const gchar *data, gsize len)
{
	xmlDoc *doc;

	if (len > G_MAXINT || g_strstr_len(data, len, "<!DOCTYPE") != NULL ||
	    g_strstr_len(data, len, "<!ENTITY") != NULL || !gw_dm_xml_attributes_bounded(data, len))
		return FALSE;
	doc = xmlReadMemory(data,
	                    (int)len,
	                    "value.xml",
	                    "UTF-8",
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return FALSE;
	xmlFreeDoc(doc);
	return TRUE;
}

static gboolean
gw_dm_format_check(GwDmFormat format, GBytes *value, gboolean strict, GError **error)
{
	const gchar *data = NULL;
	gsize len = 0;
	gboolean ok = FALSE;

	if (value != NULL)
		data = g_bytes_get_data(value, &len);
	if (value == NULL)
		return format != GW_DM_FORMAT_INVALID ||
		       gw_dm_status_set_error(
		           error, GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE, "unknown format");
	switch (format) {
	case GW_DM_FORMAT_NODE:
	case GW_DM_FORMAT_NULL:
		ok = len == 0;
		break;
	case GW_DM_FORMAT_CHR:
		ok = len == 0 || gw_dm_text_is_xml_safe(data, len);
		break;
	case GW_DM_FORMAT_XML:
		ok = len == 0 || (gw_dm_text_is_xml_safe(data, len) &&
		                  (!strict || gw_dm_validate_xml(data, len)));
		break;
	case GW_DM_FORMAT_DATE:
		ok = len == 0 ||
		     (strict ? gw_dm_validate_date(data, len) : gw_dm_text_is_xml_safe(data, len));
		break;
	case GW_DM_FORMAT_TIME:
		ok = len == 0 ||
		     (strict ? gw_dm_validate_time(data, len) : gw_dm_text_is_xml_safe(data, len));
		break;
	case GW_DM_FORMAT_INT:
		ok = gw_dm_validate_int(data, len);
		break;
	case GW_DM_FORMAT_BOOL:
		ok = (len == 4 && memcmp(data, "true", 4) == 0) ||
		     (len == 5 && memcmp(data, "false", 5) == 0);
		break;
	case GW_DM_FORMAT_BIN:
		ok = TRUE;
		break;
	case GW_DM_FORMAT_B64:
		ok = gw_dm_validate_b64(data, len, strict);
		break;
	case GW_DM_FORMAT_FLOAT:
		ok = strict ? gw_dm_validate_float(data, len)
		            : gw_dm_validate_float_stored(data, len);
		break;
	case GW_DM_FORMAT_INVALID:
	default:
		ok = FALSE;
		break;
	}
	if (!ok) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "value does not fit format %s",
		            gw_dm_format_to_string(format));
		return FALSE;
	}
	return TRUE;
}

/*
 * A NULL @value is accepted for every format (a leaf without value). An empty value is
 * accepted for node, null, chr, bin, b64, xml, date and time, refused for int, bool and
 * float. Text formats (chr, xml, date, time) must also be representable in XML 1.0
 * (no NUL and no C0 control characters other than TAB, LF, CR); a non-empty xml value must be
 * well formed, date and time values must be ISO 8601 / RFC 3339 as above, float a finite
 * decimal number.
 *
 * The error is GW_ERROR_NOT_SUPPORTED: the DM commands answer a value that does not fit its
 * format with 415 (RepPro 1.2 §10: "the media type or format for the data item is not
 * supported by the recipient"; the item's data is not a value of the format it names, which
 * is what libdmclient answers too), D-Bus SetNode with InvalidArgs.
 */
gboolean
gw_dm_format_validate_value(GwDmFormat format, GBytes *value, GError **error)
{
	return gw_dm_format_check(format, value, TRUE, error);
}

gboolean
gw_dm_format_validate_stored(GwDmFormat format, GBytes *value, GError **error)
{
	return gw_dm_format_check(format, value, FALSE, error);
}

gchar *
gw_dm_access_to_string(GwDmAccess access)
{
	static const struct {
		GwDmAccess access;
		const gchar *name;
	} names[] = {
	    {GW_DM_ACCESS_ADD, "Add"},
	    {GW_DM_ACCESS_COPY, "Copy"},
	    {GW_DM_ACCESS_DELETE, "Delete"},
	    {GW_DM_ACCESS_EXEC, "Exec"},
	    {GW_DM_ACCESS_GET, "Get"},
	    {GW_DM_ACCESS_REPLACE, "Replace"},
	};
	GString *str = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if ((access & names[i].access) == 0)
			continue;
		if (str->len > 0)
			g_string_append_c(str, '|');
		g_string_append(str, names[i].name);
	}
	if (str->len == 0)
		g_string_append(str, "none");
	return g_string_free(str, FALSE);
}

typedef struct {
	guint status;
	const gchar *text;
} GwDmStatusName;

static const GwDmStatusName gw_dm_status_names[] = {
    {GW_DM_STATUS_IN_PROGRESS, "In progress"},
    {GW_DM_STATUS_OK, "OK"},
    {GW_DM_STATUS_ACCEPTED, "Accepted for processing"},
    {GW_DM_STATUS_AUTH_ACCEPTED, "Authentication accepted"},
    {GW_DM_STATUS_CHUNK_ACCEPTED, "Chunked item accepted"},
    {GW_DM_STATUS_CANCELLED, "Operation cancelled"},
    {GW_DM_STATUS_NOT_EXECUTED, "Not executed"},
    {GW_DM_STATUS_ATOMIC_ROLLBACK_OK, "Atomic roll back OK"},
    {GW_DM_STATUS_NOT_MODIFIED, "Not modified"},
    {GW_DM_STATUS_BAD_REQUEST, "Bad request"},
    {GW_DM_STATUS_INVALID_CREDENTIALS, "Invalid credentials"},
    {GW_DM_STATUS_FORBIDDEN, "Forbidden"},
    {GW_DM_STATUS_NOT_FOUND, "Not found"},
    {GW_DM_STATUS_COMMAND_NOT_ALLOWED, "Command not allowed"},
    {GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED, "Optional feature not supported"},
    {GW_DM_STATUS_MISSING_CREDENTIALS, "Missing credentials"},
    {GW_DM_STATUS_REQUEST_TIMEOUT, "Request timeout"},
    {GW_DM_STATUS_CONFLICT, "Conflict"},
    {GW_DM_STATUS_GONE, "Gone"},
    {GW_DM_STATUS_INCOMPLETE_COMMAND, "Incomplete command"},
    {GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE, "Request entity too large"},
    {GW_DM_STATUS_URI_TOO_LONG, "URI too long"},
    {GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE, "Unsupported media type or format"},
    {GW_DM_STATUS_REQUESTED_SIZE_TOO_BIG, "Requested size too big"},
    {GW_DM_STATUS_ALREADY_EXISTS, "Already exists"},
    {GW_DM_STATUS_DEVICE_FULL, "Device full"},
    {GW_DM_STATUS_SIZE_MISMATCH, "Size mismatch"},
    {GW_DM_STATUS_PERMISSION_DENIED, "Permission denied"},
    {GW_DM_STATUS_COMMAND_FAILED, "Command failed"},
    {GW_DM_STATUS_NOT_IMPLEMENTED, "Command not implemented"},
    {GW_DM_STATUS_SERVICE_UNAVAILABLE, "Service unavailable"},
    {GW_DM_STATUS_SESSION_INTERNAL_ERROR, "Session internal error"},
    {GW_DM_STATUS_ATOMIC_FAILED, "Atomic failed"},
    {GW_DM_STATUS_ATOMIC_ROLLBACK_FAILED, "Atomic roll back failed"},
};

const gchar *
gw_dm_status_to_string(guint status)
{
	for (guint i = 0; i < G_N_ELEMENTS(gw_dm_status_names); i++) {
		if (gw_dm_status_names[i].status == status)
			return gw_dm_status_names[i].text;
	}
	return "Unknown status";
}

gboolean
gw_dm_status_is_success(guint status)
{
	return status >= 200 && status < 300;
}

GwError
gw_dm_status_to_error(guint status)
{
	switch (status) {
	case GW_DM_STATUS_NOT_FOUND:
	case GW_DM_STATUS_GONE:
		return GW_ERROR_NOT_FOUND;
	case GW_DM_STATUS_PERMISSION_DENIED:
	case GW_DM_STATUS_FORBIDDEN:
		return GW_ERROR_PERMISSION_DENIED;
	case GW_DM_STATUS_COMMAND_NOT_ALLOWED:
		return GW_ERROR_NOT_ALLOWED;
	case GW_DM_STATUS_BAD_REQUEST:
	case GW_DM_STATUS_URI_TOO_LONG:
		return GW_ERROR_INVALID_URI;
	case GW_DM_STATUS_ALREADY_EXISTS:
		return GW_ERROR_ALREADY_EXISTS;
	case GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE:
	case GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED:
	case GW_DM_STATUS_NOT_IMPLEMENTED:
		return GW_ERROR_NOT_SUPPORTED;
	case GW_DM_STATUS_INVALID_CREDENTIALS:
	case GW_DM_STATUS_MISSING_CREDENTIALS:
		return GW_ERROR_AUTH_FAILED;
	case GW_DM_STATUS_REQUEST_TIMEOUT:
		return GW_ERROR_TIMED_OUT;
	case GW_DM_STATUS_IN_PROGRESS:
		return GW_ERROR_IN_PROGRESS;
	case GW_DM_STATUS_CONFLICT:
		return GW_ERROR_WRONG_STATE;
	case GW_DM_STATUS_INCOMPLETE_COMMAND:
	case GW_DM_STATUS_REQUEST_ENTITY_TOO_LARGE:
	case GW_DM_STATUS_REQUESTED_SIZE_TOO_BIG:
	case GW_DM_STATUS_SIZE_MISMATCH:
		return GW_ERROR_INVALID_ARGS;
	case GW_DM_STATUS_SESSION_INTERNAL_ERROR:
		return GW_ERROR_INTERNAL;
	default:
		return GW_ERROR_FAILED;
	}
}

gboolean
gw_dm_status_set_error(GError **error, guint status, const gchar *what)
{
	g_set_error(error,
	            GW_ERROR,
	            gw_dm_status_to_error(status),
	            "%s: %s (%u)",
	            what != NULL ? what : "DM command",
	            gw_dm_status_to_string(status),
	            status);
	return FALSE;
}

GwDmItem *
gw_dm_item_new(const gchar *uri, GwDmFormat format, const gchar *mime_type, GBytes *data)
{
	GwDmItem *item = g_new0(GwDmItem, 1);
	item->uri = g_strdup(uri);
	item->format = format;
	item->mime_type = g_strdup(mime_type);
	item->data = data != NULL ? g_bytes_ref(data) : NULL;
	return item;
}

GwDmItem *
gw_dm_item_new_string(const gchar *uri,
                      GwDmFormat format,
                      const gchar *mime_type,
                      const gchar *data)
{
	g_autoptr(GBytes) bytes = NULL;
	if (data != NULL)
		bytes = g_bytes_new(data, strlen(data));
	return gw_dm_item_new(uri, format, mime_type, bytes);
}

gchar *
gw_dm_item_dup_string(const GwDmItem *item)
{
	const gchar *data;
	gsize len = 0;

	g_return_val_if_fail(item != NULL, NULL);
	if (item->data == NULL)
		return NULL;
	data = g_bytes_get_data(item->data, &len);
	return g_strndup(data != NULL ? data : "", len);
}

void
gw_dm_item_free(GwDmItem *item)
{
	if (item == NULL)
		return;
	g_free(item->uri);
	g_free(item->mime_type);
	if (item->data != NULL)
		g_bytes_unref(item->data);
	g_free(item);
}
