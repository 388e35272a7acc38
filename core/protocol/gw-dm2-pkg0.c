/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDm2Pkg0"

#include "config.h"

#include <string.h>

#include "gw-dm-auth.h"
#include "gw-dm2-pkg0.h"
#include "gw-error.h"

#define GW_DM2_PKG0_HEADER_LEN 2
#define GW_DM2_PKG0_MAX_OPTIONS 31 /* OC is 5 bits */
#define GW_DM2_PKG0_LAST_OPTION GW_DM2_PKG0_OPT_REQ_MOS

static const gchar *const gw_dm2_pkg0_option_names[] = {
    NULL,
    "SERVER-ID",
    "PREFERRED-CON-TYPE",
    "NOTIFICATION-ID",
    "SHA256-DIGEST",
    "TIMESTAMP",
    "REQ-MOS",
};

GwDm2Pkg0 *
gw_dm2_pkg0_new(void)
{
	return g_new0(GwDm2Pkg0, 1);
}

void
gw_dm2_pkg0_free(GwDm2Pkg0 *n)
{
	if (n == NULL)
		return;
	g_free(n->server_id);
	g_free(n);
}

/* ---- build ---- */

/* the 4-bit nibble for @value and the extension bytes it needs */
static guint8
gw_dm2_pkg0_nibble(guint value, guint8 *ext, guint *ext_len)
{
	if (value < 13) {
		*ext_len = 0;
		return (guint8)value;
	}
	if (value < 269) {
		ext[0] = (guint8)(value - 13);
		*ext_len = 1;
		return 13;
	}
	ext[0] = (guint8)((value - 269) >> 8);
	ext[1] = (guint8)(value - 269);
	*ext_len = 2;
	return 14;
}

static void
gw_dm2_pkg0_append_option(GByteArray *buf,
                          guint *last,
                          guint number,
                          const guint8 *value,
                          guint len)
{
	guint8 delta_ext[2];
	guint8 len_ext[2];
	guint delta_ext_len;
	guint len_ext_len;
	guint8 head;

	head = (guint8)(gw_dm2_pkg0_nibble(number - *last, delta_ext, &delta_ext_len) << 4);
	head |= gw_dm2_pkg0_nibble(len, len_ext, &len_ext_len);
	g_byte_array_append(buf, &head, 1);
	g_byte_array_append(buf, delta_ext, delta_ext_len);
	g_byte_array_append(buf, len_ext, len_ext_len);
	if (len > 0)
		g_byte_array_append(buf, value, len);
	*last = number;
}

static void
gw_dm2_pkg0_digest(const guint8 *data,
                   gsize len,
                   gsize digest_offset,
                   GBytes *secret,
                   GBytes *auth_data,
                   guint8 out[GW_DM2_PKG0_DIGEST_LEN])
{
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
	static const guint8 zeros[GW_DM2_PKG0_DIGEST_LEN] = {0};
	gsize out_len = GW_DM2_PKG0_DIGEST_LEN;

	if (secret != NULL)
		g_checksum_update(
		    checksum, g_bytes_get_data(secret, NULL), (gssize)g_bytes_get_size(secret));
	/* the notification with its digest zeroed */
	g_checksum_update(checksum, data, (gssize)digest_offset);
	g_checksum_update(checksum, zeros, sizeof(zeros));
	g_checksum_update(checksum,
	                  data + digest_offset + GW_DM2_PKG0_DIGEST_LEN,
	                  (gssize)(len - digest_offset - GW_DM2_PKG0_DIGEST_LEN));
	if (auth_data != NULL)
		g_checksum_update(checksum,
		                  g_bytes_get_data(auth_data, NULL),
		                  (gssize)g_bytes_get_size(auth_data));
	g_checksum_get_digest(checksum, out, &out_len);
}

GBytes *
gw_dm2_pkg0_build(const GwDm2Pkg0 *n, GBytes *secret, GBytes *auth_data)
{
	g_autoptr(GByteArray) buf = NULL;
	guint version;
	gsize sid_len;
	guint count = 2; /* SERVER-ID and SHA256-DIGEST */
	guint last = 0;
	guint digest_offset;
	guint8 value[8];
	guint8 digest[GW_DM2_PKG0_DIGEST_LEN] = {0};
	guint16 header;

	g_return_val_if_fail(n != NULL, NULL);
	g_return_val_if_fail(n->server_id != NULL, NULL);
	sid_len = strlen(n->server_id);
	g_return_val_if_fail(sid_len > 0 && sid_len <= GW_DM2_PKG0_MAX_SERVER_ID, NULL);
	g_return_val_if_fail(!n->has_con_type || n->con_type <= GW_DM2_PKG0_CON_WIRELINE, NULL);
	version = n->version != 0 ? n->version : GW_DM2_PKG0_VERSION;
	g_return_val_if_fail(version <= 15, NULL);

	count += (n->has_con_type ? 1 : 0) + (n->has_notification_id ? 1 : 0) +
	         (n->has_timestamp ? 1 : 0) + (n->req_mos ? 1 : 0);
	header = (guint16)((version << 12) | (count << 7));
	buf = g_byte_array_sized_new(64 + (guint)sid_len);
	value[0] = (guint8)(header >> 8);
	value[1] = (guint8)header;
	g_byte_array_append(buf, value, 2);

	gw_dm2_pkg0_append_option(
	    buf, &last, GW_DM2_PKG0_OPT_SERVER_ID, (const guint8 *)n->server_id, (guint)sid_len);
	if (n->has_con_type) {
		value[0] = (guint8)n->con_type;
		gw_dm2_pkg0_append_option(buf, &last, GW_DM2_PKG0_OPT_PREFERRED_CON_TYPE, value, 1);
	}
	if (n->has_notification_id) {
		value[0] = (guint8)(n->notification_id >> 8);
		value[1] = (guint8)n->notification_id;
		gw_dm2_pkg0_append_option(buf, &last, GW_DM2_PKG0_OPT_NOTIFICATION_ID, value, 2);
	}
	/* zero digest first; its value starts right after its one-byte head (delta < 13,
	 * length 32 → nibble 13 + one extension byte: two bytes) */
	gw_dm2_pkg0_append_option(
	    buf, &last, GW_DM2_PKG0_OPT_SHA256_DIGEST, digest, GW_DM2_PKG0_DIGEST_LEN);
	digest_offset = buf->len - GW_DM2_PKG0_DIGEST_LEN;
	if (n->has_timestamp) {
		guint len = n->timestamp > G_MAXUINT32 ? 8 : 4;
		for (guint i = 0; i < len; i++)
			value[i] = (guint8)(n->timestamp >> (8 * (len - 1 - i)));
		gw_dm2_pkg0_append_option(buf, &last, GW_DM2_PKG0_OPT_TIMESTAMP, value, len);
	}
	if (n->req_mos)
		gw_dm2_pkg0_append_option(buf, &last, GW_DM2_PKG0_OPT_REQ_MOS, NULL, 0);

	gw_dm2_pkg0_digest(buf->data, buf->len, digest_offset, secret, auth_data, digest);
	memcpy(buf->data + digest_offset, digest, sizeof(digest));
	return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

/* ---- parse ---- */

/* reads a delta or length nibble's value at *pos; FALSE when it runs past @len or is 15 */
static gboolean
gw_dm2_pkg0_read_ext(const guint8 *data,
                     gsize len,
                     gsize *pos,
                     guint nibble,
                     guint *out,
                     const gchar *what,
                     guint index,
                     GError **error)
{
	if (nibble < 13) {
		*out = nibble;
		return TRUE;
	}
	if (nibble == 15) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 Package #0 option %u: %s nibble 15 is reserved",
		            index,
		            what);
		return FALSE;
	}
	if (len - *pos < (nibble == 13 ? 1u : 2u)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 Package #0 option %u: extended %s runs past the end",
		            index,
		            what);
		return FALSE;
	}
	if (nibble == 13) {
		*out = 13u + data[*pos];
		*pos += 1;
	} else {
		*out = 269u + (((guint)data[*pos] << 8) | data[*pos + 1]);
		*pos += 2;
	}
	return TRUE;
}

/* sets the error; returns NULL for the caller to return */
static gpointer
gw_dm2_pkg0_bad_length(guint number, guint length, const gchar *expected, GError **error)
{
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_PROTOCOL,
	            "DM 2.0 Package #0 %s has length %u, must be %s",
	            gw_dm2_pkg0_option_names[number],
	            length,
	            expected);
	return NULL;
}

static GwDm2Pkg0 *
gw_dm2_pkg0_parse_full(const guint8 *data, gsize len, gsize *digest_offset, GError **error)
{
	g_autoptr(GwDm2Pkg0) n = NULL;
	guint16 header;
	guint count;
	guint reserved;
	guint number = 0;
	gsize pos = GW_DM2_PKG0_HEADER_LEN;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (len > GW_DM2_PKG0_MAX_SIZE) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 Package #0 of %" G_GSIZE_FORMAT
		            " bytes is over the limit of %u",
		            len,
		            (guint)GW_DM2_PKG0_MAX_SIZE);
		return NULL;
	}
	if (len < GW_DM2_PKG0_HEADER_LEN) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 Package #0 too short (%" G_GSIZE_FORMAT " bytes, need 2)",
		            len);
		return NULL;
	}
	header = (guint16)((data[0] << 8) | data[1]);
	n = gw_dm2_pkg0_new();
	n->version = header >> 12;
	count = (header >> 7) & 0x1f;
	reserved = header & 0x7f;
	if (n->version > GW_DM2_PKG0_VERSION) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 Package #0 version %u is not supported",
		            n->version);
		return NULL;
	}
	g_debug("DM 2.0 Package #0 version %u, %u options", n->version, count);
	if (reserved != 0)
		g_debug("DM 2.0 Package #0 reserved bits are not zero (0x%02x), ignored", reserved);

	for (guint i = 0; i < count; i++) {
		guint delta;
		guint length;
		guint8 head;
		const guint8 *value;

		if (pos >= len) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "DM 2.0 Package #0 announces %u options, has %u",
			            count,
			            i);
			return NULL;
		}
		head = data[pos++];
		if (!gw_dm2_pkg0_read_ext(data, len, &pos, head >> 4, &delta, "delta", i, error) ||
		    !gw_dm2_pkg0_read_ext(data, len, &pos, head & 0xf, &length, "length", i, error))
			return NULL;
		if (delta == 0 || number + delta > GW_DM2_PKG0_LAST_OPTION) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "DM 2.0 Package #0 option %u: number %u %s",
			            i,
			            number + delta,
			            delta == 0
			                ? "repeated (options appear once, in increasing order)"
			                : "is unknown (1..6 are defined)");
			return NULL;
		}
		number += delta;
		if (length > len - pos) {
			g_set_error(
			    error,
			    GW_ERROR,
			    GW_ERROR_PROTOCOL,
			    "DM 2.0 Package #0 %s of %u bytes runs past the end (%" G_GSIZE_FORMAT
			    " left)",
			    gw_dm2_pkg0_option_names[number],
			    length,
			    len - pos);
			return NULL;
		}
		value = data + pos;
		switch (number) {
		case GW_DM2_PKG0_OPT_SERVER_ID:
			if (length == 0 || length > GW_DM2_PKG0_MAX_SERVER_ID)
				return gw_dm2_pkg0_bad_length(number, length, "1..255", error);
			if (memchr(value, '\0', length) != NULL ||
			    !g_utf8_validate((const gchar *)value, (gssize)length, NULL)) {
				g_set_error_literal(error,
				                    GW_ERROR,
				                    GW_ERROR_PROTOCOL,
				                    "DM 2.0 Package #0 SERVER-ID is not UTF-8 (or "
				                    "contains NUL)");
				return NULL;
			}
			n->server_id = g_strndup((const gchar *)value, length);
			break;
		case GW_DM2_PKG0_OPT_PREFERRED_CON_TYPE:
			if (length != 1)
				return gw_dm2_pkg0_bad_length(number, length, "1", error);
			if (value[0] > GW_DM2_PKG0_CON_WIRELINE) {
				g_set_error(
				    error,
				    GW_ERROR,
				    GW_ERROR_PROTOCOL,
				    "DM 2.0 Package #0 PREFERRED-CON-TYPE %u is unknown (0..3)",
				    value[0]);
				return NULL;
			}
			n->has_con_type = TRUE;
			n->con_type = value[0];
			break;
		case GW_DM2_PKG0_OPT_NOTIFICATION_ID:
			if (length != 2)
				return gw_dm2_pkg0_bad_length(number, length, "2", error);
			n->has_notification_id = TRUE;
			n->notification_id = (guint16)((value[0] << 8) | value[1]);
			break;
		case GW_DM2_PKG0_OPT_SHA256_DIGEST:
			if (length != GW_DM2_PKG0_DIGEST_LEN)
				return gw_dm2_pkg0_bad_length(number, length, "32", error);
			n->has_digest = TRUE;
			memcpy(n->digest, value, GW_DM2_PKG0_DIGEST_LEN);
			if (digest_offset != NULL)
				*digest_offset = pos;
			break;
		case GW_DM2_PKG0_OPT_TIMESTAMP:
			if (length != 4 && length != 8)
				return gw_dm2_pkg0_bad_length(number, length, "4 or 8", error);
			n->has_timestamp = TRUE;
			for (guint j = 0; j < length; j++)
				n->timestamp = (n->timestamp << 8) | value[j];
			break;
		case GW_DM2_PKG0_OPT_REQ_MOS:
		default:
			if (length != 0)
				return gw_dm2_pkg0_bad_length(number, length, "0", error);
			n->req_mos = TRUE;
			break;
		}
		pos += length;
	}
	if (pos != len) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "DM 2.0 Package #0 has %" G_GSIZE_FORMAT
		            " bytes after its %u options (OC too small?)",
		            len - pos,
		            count);
		return NULL;
	}
	if (n->server_id == NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "DM 2.0 Package #0 has no SERVER-ID");
		return NULL;
	}
	return g_steal_pointer(&n);
}

GwDm2Pkg0 *
gw_dm2_pkg0_parse(const guint8 *data, gsize len, GError **error)
{
	return gw_dm2_pkg0_parse_full(data, len, NULL, error);
}

GwDm2Pkg0 *
gw_dm2_pkg0_verify(const guint8 *data, gsize len, GBytes *secret, GBytes *auth_data, GError **error)
{
	g_autoptr(GwDm2Pkg0) n = NULL;
	gsize digest_offset = 0;
	guint8 digest[GW_DM2_PKG0_DIGEST_LEN];

	n = gw_dm2_pkg0_parse_full(data, len, &digest_offset, error);
	if (n == NULL)
		return NULL;
	if (!n->has_digest) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "DM 2.0 Package #0 from '%s' has no SHA256-DIGEST",
		            n->server_id);
		return NULL;
	}
	gw_dm2_pkg0_digest(data, len, digest_offset, secret, auth_data, digest);
	if (!gw_dm_auth_secure_equal(digest, n->digest, GW_DM2_PKG0_DIGEST_LEN)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "DM 2.0 Package #0 digest does not match for server '%s'",
		            n->server_id);
		return NULL;
	}
	return g_steal_pointer(&n);
}
