/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SyncML DM XML codec: libxml2 tree parser behind a guarded SAX handler (no entities, element
 * count and depth limits enforced while parsing), a one-pass walk into the typed model, and a
 * hand-written serialiser that writes canonical XML straight into a GString (or only counts
 * bytes, which is the size estimate used for MaxMsgSize splitting).
 */

#define G_LOG_DOMAIN "GwSyncml"

#include "config.h"

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <string.h>

#include "gw-syncml.h"
#include "gw-wbxml.h"

/* ================================================================================================
 * Parsing
 * ============================================================================================== */

typedef struct {
	guint n_elements;
	const gchar *violation; /* static string; set when a guard stopped the parser */
} GwSyncmlGuard;

static void
guard_stop(xmlParserCtxtPtr ctxt, const gchar *why)
{
	GwSyncmlGuard *guard = ctxt->_private;
	if (guard->violation == NULL)
		guard->violation = why;
	xmlStopParser(ctxt);
}

static void
guard_start_element(void *ctx,
                    const xmlChar *localname,
                    const xmlChar *prefix,
                    const xmlChar *uri,
                    int nb_namespaces,
                    const xmlChar **namespaces,
                    int nb_attributes,
                    int nb_defaulted,
                    const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	GwSyncmlGuard *guard = ctxt->_private;

	if (++guard->n_elements > GW_SYNCML_MAX_ELEMENTS) {
		guard_stop(ctxt, "too many elements");
		return;
	}
	/* nameNr counts the open ancestors of this element */
	if (ctxt->nameNr + 1 > GW_SYNCML_MAX_XML_DEPTH) {
		guard_stop(ctxt, "elements nested too deeply");
		return;
	}
	xmlSAX2StartElementNs(ctx,
	                      localname,
	                      prefix,
	                      uri,
	                      nb_namespaces,
	                      namespaces,
	                      nb_attributes,
	                      nb_defaulted,
	                      attributes);
}

static void
guard_entity_decl(void *ctx,
                  const xmlChar *name,
                  int type,
                  const xmlChar *public_id,
                  const xmlChar *system_id,
                  xmlChar *content)
{
	guard_stop(ctx, "entity declarations are not allowed");
}

static void
guard_unparsed_entity_decl(void *ctx,
                           const xmlChar *name,
                           const xmlChar *public_id,
                           const xmlChar *system_id,
                           const xmlChar *notation_name)
{
	guard_stop(ctx, "entity declarations are not allowed");
}

static void
guard_reference(void *ctx, const xmlChar *name)
{
	guard_stop(ctx, "entity references are not allowed");
}

static void
guard_silence(void *user_data, xmlErrorPtr error)
{
	/* errors are reported through the GError, never on stderr */
}

static void
free_parser_ctxt(xmlParserCtxtPtr ctxt)
{
	if (ctxt->myDoc != NULL) {
		xmlFreeDoc(ctxt->myDoc);
		ctxt->myDoc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, free_parser_ctxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

static xmlDoc *
read_document(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(xmlParserCtxt) ctxt = NULL;
	GwSyncmlGuard guard = {0};
	xmlDoc *doc;

	if (len > GW_SYNCML_MAX_MESSAGE_SIZE) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "SyncML message of %" G_GSIZE_FORMAT " bytes exceeds the limit of %u",
		            len,
		            (guint)GW_SYNCML_MAX_MESSAGE_SIZE);
		return NULL;
	}
	if (len == 0) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_PROTOCOL, "empty SyncML message");
		return NULL;
	}
	/* libxml2 checks a start tag's attributes pairwise before any callback below runs (one
	 * element with 100,000 of them took minutes): what the message holds is bounded first,
	 * in one linear pass (gw-xml-bounds.h) */
	if (!gw_xml_bounds_check(&gw_xml_bounds_syncml, (const gchar *)data, len, NULL, error))
		return NULL;
	xmlInitParser();
	ctxt = xmlCreateMemoryParserCtxt((const char *)data, (int)len);
	if (ctxt == NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "cannot create an XML parser");
		return NULL;
	}
	/* never XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE */
	xmlCtxtUseOptions(ctxt,
	                  XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA |
	                      XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
	ctxt->_private = &guard;
	ctxt->sax->startElementNs = guard_start_element;
	ctxt->sax->entityDecl = guard_entity_decl;
	ctxt->sax->unparsedEntityDecl = guard_unparsed_entity_decl;
	ctxt->sax->reference = guard_reference;
	ctxt->sax->serror = guard_silence;
	ctxt->sax->error = NULL;
	ctxt->sax->warning = NULL;

	xmlParseDocument(ctxt);

	if (guard.violation != NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "refused SyncML message: %s",
		            guard.violation);
		return NULL;
	}
	if (!ctxt->wellFormed || ctxt->myDoc == NULL) {
		xmlErrorPtr xerr = xmlCtxtGetLastError(ctxt);
		g_autofree gchar *msg = NULL;
		if (xerr != NULL && xerr->message != NULL)
			msg = g_strchomp(g_strdup(xerr->message));
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "malformed SyncML XML (line %d): %s",
		            xerr != NULL ? xerr->line : 0,
		            msg != NULL ? msg : "parse error");
		return NULL;
	}
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	return doc;
}

/* ---- tree walking helpers ---- */

static inline gboolean
is_element(const xmlNode *node)
{
	return node->type == XML_ELEMENT_NODE;
}

static inline gboolean
name_is(const xmlNode *node, const gchar *name)
{
	return strcmp((const gchar *)node->name, name) == 0;
}

static inline gboolean
is_text(const xmlNode *node)
{
	return node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE;
}

/* text content of @node: the text children, concatenated; child elements are skipped */
static gchar *
dup_text(const xmlNode *node)
{
	const xmlNode *c = node->children;
	GString *str;

	if (c == NULL)
		return g_strdup("");
	if (c->next == NULL && is_text(c))
		return g_strdup((const gchar *)c->content);
	str = g_string_new(NULL);
	for (; c != NULL; c = c->next) {
		if (is_text(c) && c->content != NULL)
			g_string_append(str, (const gchar *)c->content);
	}
	return g_string_free(str, FALSE);
}

/*
 * Data may carry nested XML in the wild (Format xml, TNDS): then the children are serialised
 * back to text. Plain text otherwise.
 */
static gchar *
dup_data(const xmlNode *node)
{
	gboolean has_element = FALSE;
	xmlBufferPtr buf;
	gchar *result;

	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (is_element(c)) {
			has_element = TRUE;
			break;
		}
	}
	if (!has_element)
		return dup_text(node);
	buf = xmlBufferCreate();
	for (xmlNode *c = node->children; c != NULL; c = c->next)
		xmlNodeDump(buf, node->doc, c, 0, 0);
	result = g_strndup((const gchar *)xmlBufferContent(buf), (gsize)xmlBufferLength(buf));
	xmlBufferFree(buf);
	return result;
}

static void
set_text(gchar **dest, const xmlNode *node)
{
	g_free(*dest);
	*dest = dup_text(node);
}

/* plain unsigned decimal (ASCII blanks around it allowed), in [min, max] */
static gboolean
parse_number(const xmlNode *node, guint64 min, guint64 max, guint64 *out, GError **error)
{
	g_autofree gchar *owned = NULL;
	const gchar *p;
	const xmlNode *c = node->children;
	guint64 value = 0;
	gboolean any = FALSE;

	if (c != NULL && c->next == NULL && is_text(c)) {
		p = (const gchar *)c->content;
	} else {
		owned = dup_text(node);
		p = owned;
	}
	while (g_ascii_isspace(*p))
		p++;
	for (; g_ascii_isdigit(*p); p++) {
		guint digit = (guint)(*p - '0');
		if (value > (G_MAXUINT64 - digit) / 10) {
			any = FALSE;
			break;
		}
		value = value * 10 + digit;
		any = TRUE;
	}
	while (any && g_ascii_isspace(*p))
		p++;
	if (!any || *p != '\0') {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s is not a plain decimal number",
		            (const gchar *)node->name);
		return FALSE;
	}
	if (value < min || value > max) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s value %" G_GUINT64_FORMAT " out of range [%" G_GUINT64_FORMAT
		            ", %" G_GUINT64_FORMAT "]",
		            (const gchar *)node->name,
		            value,
		            min,
		            max);
		return FALSE;
	}
	*out = value;
	return TRUE;
}

static gboolean
parse_u32(const xmlNode *node, guint32 min, guint32 *out, GError **error)
{
	guint64 value;
	if (!parse_number(node, min, G_MAXUINT32, &value, error))
		return FALSE;
	*out = (guint32)value;
	return TRUE;
}

static gboolean
parse_size(const xmlNode *node, gint64 *out, GError **error)
{
	guint64 value;
	if (!parse_number(node, 0, G_MAXINT64, &value, error))
		return FALSE;
	*out = (gint64)value;
	return TRUE;
}

static gboolean
missing(GError **error, const gchar *parent, const gchar *element)
{
	g_set_error(error,
	            GW_ERROR,
	            GW_ERROR_PROTOCOL,
	            "%s: missing mandatory element %s",
	            parent,
	            element);
	return FALSE;
}

/* MetInf children, qualified with syncml:metinf or not; unknown ones are ignored */
static gboolean
parse_meta(const xmlNode *node, GwSyncmlMeta *meta, GError **error)
{
	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (!is_element(c))
			continue;
		switch (c->name[0]) {
		case 'E':
			/* EMI*: the first one is kept */
			if (name_is(c, "EMI") && meta->emi == NULL)
				set_text(&meta->emi, c);
			break;
		case 'F':
			if (name_is(c, "Format"))
				set_text(&meta->format, c);
			break;
		case 'T':
			if (name_is(c, "Type"))
				set_text(&meta->type, c);
			break;
		case 'M':
			if (name_is(c, "Mark")) {
				set_text(&meta->mark, c);
			} else if (name_is(c, "MaxMsgSize")) {
				if (!parse_size(c, &meta->max_msg_size, error))
					return FALSE;
			} else if (name_is(c, "MaxObjSize")) {
				if (!parse_size(c, &meta->max_obj_size, error))
					return FALSE;
			}
			break;
		case 'N':
			if (name_is(c, "NextNonce"))
				set_text(&meta->next_nonce, c);
			break;
		case 'S':
			if (name_is(c, "Size")) {
				if (!parse_size(c, &meta->size, error))
					return FALSE;
			}
			break;
		default:
			break;
		}
	}
	return TRUE;
}

/* Target / Source: LocURI (mandatory), LocName */
static gboolean
parse_loc(const xmlNode *node, gchar **uri, gchar **name, GError **error)
{
	g_autofree gchar *new_uri = NULL;
	g_autofree gchar *new_name = NULL;

	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (!is_element(c))
			continue;
		if (name_is(c, "LocURI"))
			set_text(&new_uri, c);
		else if (name_is(c, "LocName"))
			set_text(&new_name, c);
	}
	if (new_uri == NULL)
		return missing(error, (const gchar *)node->name, "LocURI");
	g_free(*uri);
	*uri = g_steal_pointer(&new_uri);
	g_free(*name);
	*name = g_steal_pointer(&new_name);
	return TRUE;
}

static GwSyncmlItem *
parse_item(const xmlNode *node, GError **error)
{
	g_autoptr(GwSyncmlItem) item = gw_syncml_item_new(NULL, NULL);

	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (!is_element(c))
			continue;
		if (name_is(c, "Target")) {
			if (!parse_loc(c, &item->target_uri, &item->target_name, error))
				return NULL;
		} else if (name_is(c, "Source")) {
			if (!parse_loc(c, &item->source_uri, &item->source_name, error))
				return NULL;
		} else if (name_is(c, "Meta")) {
			if (!parse_meta(c, &item->meta, error))
				return NULL;
		} else if (name_is(c, "Data")) {
			g_free(item->data);
			item->data = dup_data(c);
		} else if (name_is(c, "MoreData")) {
			item->more_data = TRUE;
		}
	}
	return g_steal_pointer(&item);
}

static gboolean
parse_cred(const xmlNode *node, GwSyncmlCred **out, GError **error)
{
	g_autoptr(GwSyncmlCred) cred = g_new0(GwSyncmlCred, 1);

	gw_syncml_meta_init(&cred->meta);
	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (!is_element(c))
			continue;
		if (name_is(c, "Meta")) {
			if (!parse_meta(c, &cred->meta, error))
				return FALSE;
		} else if (name_is(c, "Data")) {
			set_text(&cred->data, c);
		}
	}
	if (cred->data == NULL)
		return missing(error, "Cred", "Data");
	gw_syncml_cred_free(*out);
	*out = g_steal_pointer(&cred);
	return TRUE;
}

static gboolean
parse_chal(const xmlNode *node, GwSyncmlMeta **out, GError **error)
{
	g_autoptr(GwSyncmlMeta) chal = gw_syncml_meta_new();

	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (is_element(c) && name_is(c, "Meta")) {
			if (!parse_meta(c, chal, error))
				return FALSE;
		}
	}
	gw_syncml_meta_free(*out);
	*out = g_steal_pointer(&chal);
	return TRUE;
}

static void
append_ref(GPtrArray **refs, const xmlNode *node)
{
	if (*refs == NULL)
		*refs = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(*refs, dup_text(node));
}

typedef struct {
	guint32 last_cmd_id;
} GwSyncmlWalk;

static GwSyncmlCommand *
parse_command(GwSyncmlWalk *walk, const xmlNode *node, guint level, GError **error);

/*
 * Whether a child of SyncBody / Atomic / Sequence is a command. Everything else is one: unknown
 * names become GW_SYNCML_CMD_UNKNOWN so that the session can answer them.
 */
static gboolean
is_command_element(const xmlNode *node, gboolean in_body)
{
	if (name_is(node, "Final"))
		return FALSE;
	if (in_body)
		return TRUE;
	return !name_is(node, "CmdID") && !name_is(node, "NoResp") && !name_is(node, "Meta") &&
	       !name_is(node, "Cred");
}

static GwSyncmlCommand *
parse_command(GwSyncmlWalk *walk, const xmlNode *node, guint level, GError **error)
{
	GwSyncmlCmdType type = gw_syncml_cmd_type_from_string((const gchar *)node->name);
	g_autoptr(GwSyncmlCommand) cmd = NULL;
	gboolean has_cmd_ref = FALSE;
	gboolean has_data = FALSE;
	const gchar *name = (const gchar *)node->name;
	const gchar *absent = NULL;

	if (type == GW_SYNCML_CMD_UNKNOWN) {
		cmd = gw_syncml_command_new_unknown(name);
		/* keep only the CmdID so the session can answer with a Status */
		for (const xmlNode *c = node->children; c != NULL; c = c->next) {
			if (is_element(c) && name_is(c, "CmdID")) {
				if (!parse_u32(c, 1, &cmd->cmd_id, error))
					return NULL;
			}
		}
		walk->last_cmd_id = MAX(walk->last_cmd_id, cmd->cmd_id);
		return g_steal_pointer(&cmd);
	}

	cmd = gw_syncml_command_new(type);
	if (cmd->children != NULL && level > GW_SYNCML_MAX_NESTING) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "Atomic/Sequence nested deeper than %u levels",
		            (guint)GW_SYNCML_MAX_NESTING);
		return NULL;
	}
	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (!is_element(c))
			continue;
		if (name_is(c, "CmdID")) {
			if (!parse_u32(c, 1, &cmd->cmd_id, error))
				return NULL;
		} else if (name_is(c, "NoResp")) {
			cmd->no_resp = TRUE;
		} else if (name_is(c, "Meta")) {
			if (!parse_meta(c, &cmd->meta, error))
				return NULL;
		} else if (name_is(c, "Item")) {
			GwSyncmlItem *item = parse_item(c, error);
			if (item == NULL)
				return NULL;
			g_ptr_array_add(cmd->items, item);
		} else if (cmd->children != NULL) {
			GwSyncmlCommand *child;
			if (!is_command_element(c, FALSE))
				continue;
			child = parse_command(walk, c, level + 1, error);
			if (child == NULL)
				return NULL;
			g_ptr_array_add(cmd->children, child);
		} else if (name_is(c, "Data")) {
			guint32 code;
			if (type == GW_SYNCML_CMD_ALERT) {
				if (!parse_u32(c, 0, &code, error))
					return NULL;
				cmd->alert_code = code;
				has_data = TRUE;
			} else if (type == GW_SYNCML_CMD_STATUS) {
				guint64 value;
				if (!parse_number(c, 100, 599, &value, error))
					return NULL;
				cmd->status_code = (guint)value;
				has_data = TRUE;
			}
		} else if (name_is(c, "Correlator")) {
			if (type == GW_SYNCML_CMD_ALERT || type == GW_SYNCML_CMD_EXEC)
				set_text(&cmd->correlator, c);
		} else if (type == GW_SYNCML_CMD_STATUS || type == GW_SYNCML_CMD_RESULTS) {
			if (name_is(c, "MsgRef")) {
				if (!parse_u32(c, 1, &cmd->msg_ref, error))
					return NULL;
			} else if (name_is(c, "CmdRef")) {
				if (!parse_u32(c, 0, &cmd->cmd_ref, error))
					return NULL;
				has_cmd_ref = TRUE;
			} else if (name_is(c, "TargetRef")) {
				append_ref(&cmd->target_refs, c);
			} else if (name_is(c, "SourceRef")) {
				append_ref(&cmd->source_refs, c);
			} else if (type == GW_SYNCML_CMD_STATUS && name_is(c, "Cmd")) {
				set_text(&cmd->cmd, c);
			} else if (type == GW_SYNCML_CMD_STATUS && name_is(c, "Chal")) {
				if (!parse_chal(c, &cmd->chal, error))
					return NULL;
			}
		}
	}

	if (cmd->cmd_id == 0)
		absent = "CmdID";
	else if (type == GW_SYNCML_CMD_ALERT && !has_data)
		absent = "Data";
	else if ((type == GW_SYNCML_CMD_STATUS || type == GW_SYNCML_CMD_RESULTS) && !has_cmd_ref)
		absent = "CmdRef";
	else if (type == GW_SYNCML_CMD_STATUS && cmd->cmd == NULL)
		absent = "Cmd";
	else if (type == GW_SYNCML_CMD_STATUS && !has_data)
		absent = "Data";
	if (absent != NULL) {
		missing(error, name, absent);
		return NULL;
	}
	walk->last_cmd_id = MAX(walk->last_cmd_id, cmd->cmd_id);
	return g_steal_pointer(&cmd);
}

static gboolean
parse_header(const xmlNode *node, GwSyncmlHeader *hdr, GError **error)
{
	g_autofree gchar *ver_dtd = NULL;
	g_autofree gchar *ver_proto = NULL;
	gboolean has_msg_id = FALSE;

	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (!is_element(c))
			continue;
		if (name_is(c, "VerDTD")) {
			set_text(&ver_dtd, c);
		} else if (name_is(c, "VerProto")) {
			set_text(&ver_proto, c);
		} else if (name_is(c, "SessionID")) {
			set_text(&hdr->session_id, c);
		} else if (name_is(c, "MsgID")) {
			if (!parse_u32(c, 1, &hdr->msg_id, error))
				return FALSE;
			has_msg_id = TRUE;
		} else if (name_is(c, "Target")) {
			if (!parse_loc(c, &hdr->target_uri, &hdr->target_name, error))
				return FALSE;
		} else if (name_is(c, "Source")) {
			if (!parse_loc(c, &hdr->source_uri, &hdr->source_name, error))
				return FALSE;
		} else if (name_is(c, "RespURI")) {
			set_text(&hdr->resp_uri, c);
		} else if (name_is(c, "NoResp")) {
			hdr->no_resp = TRUE;
		} else if (name_is(c, "Cred")) {
			if (!parse_cred(c, &hdr->cred, error))
				return FALSE;
		} else if (name_is(c, "Meta")) {
			if (!parse_meta(c, &hdr->meta, error))
				return FALSE;
		}
	}
	if (ver_dtd == NULL)
		return missing(error, "SyncHdr", "VerDTD");
	if (strcmp(g_strstrip(ver_dtd), "1.2") != 0) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "SyncHdr: unsupported VerDTD (want 1.2)");
		return FALSE;
	}
	if (ver_proto == NULL)
		return missing(error, "SyncHdr", "VerProto");
	g_strstrip(ver_proto);
	if (strcmp(ver_proto, "DM/1.2") == 0) {
		hdr->version = GW_SYNCML_VERSION_DM_1_2;
	} else if (strcmp(ver_proto, "DM/1.3") == 0) {
		hdr->version = GW_SYNCML_VERSION_DM_1_3;
	} else {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_PROTOCOL,
		                    "SyncHdr: unsupported VerProto (want DM/1.2 or DM/1.3)");
		return FALSE;
	}
	if (hdr->session_id == NULL || hdr->session_id[0] == '\0')
		return missing(error, "SyncHdr", "SessionID");
	if (!has_msg_id)
		return missing(error, "SyncHdr", "MsgID");
	if (hdr->target_uri == NULL)
		return missing(error, "SyncHdr", "Target");
	if (hdr->source_uri == NULL)
		return missing(error, "SyncHdr", "Source");
	return TRUE;
}

static gboolean
parse_body(GwSyncmlWalk *walk, const xmlNode *node, GwSyncmlMessage *msg, GError **error)
{
	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		GwSyncmlCommand *cmd;
		if (!is_element(c))
			continue;
		if (!is_command_element(c, TRUE)) {
			msg->final = TRUE;
			continue;
		}
		cmd = parse_command(walk, c, 1, error);
		if (cmd == NULL)
			return FALSE;
		g_ptr_array_add(msg->commands, cmd);
	}
	return TRUE;
}

GwSyncmlMessage *
gw_syncml_message_parse_xml(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	GwSyncmlWalk walk = {0};
	const xmlNode *root;
	const xmlNode *hdr_node = NULL;
	const xmlNode *body_node = NULL;

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	doc = read_document(data, len, error);
	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !name_is(root, "SyncML")) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "root element is not SyncML");
		return NULL;
	}
	/* DM 1.2 and 1.3 both use the SyncML 1.2 namespace; an unqualified root is tolerated */
	if (root->ns != NULL && root->ns->href != NULL &&
	    g_ascii_strcasecmp((const gchar *)root->ns->href, GW_SYNCML_NAMESPACE) != 0) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_PROTOCOL,
		                    "SyncML: unsupported namespace (want " GW_SYNCML_NAMESPACE ")");
		return NULL;
	}
	for (const xmlNode *c = root->children; c != NULL; c = c->next) {
		if (!is_element(c))
			continue;
		if (name_is(c, "SyncHdr")) {
			if (hdr_node != NULL) {
				g_set_error_literal(error,
				                    GW_ERROR,
				                    GW_ERROR_PROTOCOL,
				                    "SyncML: more than one SyncHdr");
				return NULL;
			}
			hdr_node = c;
		} else if (name_is(c, "SyncBody")) {
			if (body_node != NULL) {
				g_set_error_literal(error,
				                    GW_ERROR,
				                    GW_ERROR_PROTOCOL,
				                    "SyncML: more than one SyncBody");
				return NULL;
			}
			body_node = c;
		}
	}
	if (hdr_node == NULL) {
		missing(error, "SyncML", "SyncHdr");
		return NULL;
	}
	if (body_node == NULL) {
		missing(error, "SyncML", "SyncBody");
		return NULL;
	}

	msg = g_new0(GwSyncmlMessage, 1);
	gw_syncml_meta_init(&msg->hdr.meta);
	msg->commands = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_command_free);
	if (!parse_header(hdr_node, &msg->hdr, error))
		return NULL;
	if (!parse_body(&walk, body_node, msg, error))
		return NULL;
	msg->last_cmd_id = walk.last_cmd_id;
	return g_steal_pointer(&msg);
}

GwSyncmlMessage *
gw_syncml_message_decode(GBytes *message,
                         const gchar *content_type,
                         gboolean *wbxml,
                         GError **error)
{
	gsize len = 0;
	const guint8 *data;
	gboolean is_wbxml;

	g_return_val_if_fail(message != NULL, NULL);

	data = g_bytes_get_data(message, &len);
	is_wbxml = gw_wbxml_message_is_wbxml(content_type, data, len);
	if (wbxml != NULL)
		*wbxml = is_wbxml;
	if (is_wbxml) {
		gsize xml_len = 0;
		g_autofree gchar *xml = gw_wbxml_to_xml(data, len, &xml_len, error);
		if (xml == NULL)
			return NULL;
		return gw_syncml_message_parse_xml((const guint8 *)xml, xml_len, error);
	}
	return gw_syncml_message_parse_xml(data, len, error);
}

gboolean
gw_syncml_message_decode_is_slow(GBytes *message, const gchar *content_type)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(message, &len);

	if (gw_wbxml_message_is_wbxml(content_type, data, len))
		return len >= GW_WBXML_ASYNC_PARSE_SIZE;
	return len >= GW_SYNCML_ASYNC_PARSE_SIZE;
}

typedef struct {
	GBytes *message;
	gchar *content_type;
	gboolean wbxml;
} GwSyncmlDecode;

/* what waits for the decode pool or is being decoded (any thread) */
static gint gw_syncml_decode_queued = 0;
static gsize gw_syncml_decode_queued_bytes = 0;

static gboolean
gw_syncml_decode_reserve(gsize bytes)
{
	gint n = g_atomic_int_add(&gw_syncml_decode_queued, 1);
	gsize before = (gsize)g_atomic_pointer_add(&gw_syncml_decode_queued_bytes, (gssize)bytes);

	if (n < GW_SYNCML_DECODE_MAX_QUEUED && before + bytes <= GW_SYNCML_DECODE_MAX_QUEUED_BYTES)
		return TRUE;
	g_atomic_int_add(&gw_syncml_decode_queued, -1);
	g_atomic_pointer_add(&gw_syncml_decode_queued_bytes, -(gssize)bytes);
	return FALSE;
}

static void
gw_syncml_decode_release(gsize bytes)
{
	g_atomic_int_add(&gw_syncml_decode_queued, -1);
	g_atomic_pointer_add(&gw_syncml_decode_queued_bytes, -(gssize)bytes);
}

static void
gw_syncml_decode_free(gpointer data)
{
	GwSyncmlDecode *d = data;
	g_bytes_unref(d->message);
	g_free(d->content_type);
	g_free(d);
}

/* runs in the decode pool; @data is a GTask (a reference the pool owns) */
static void
gw_syncml_decode_thread(gpointer data, gpointer user_data)
{
	g_autoptr(GTask) task = data;
	GwSyncmlDecode *d = g_task_get_task_data(task);
	GError *error = NULL;
	GwSyncmlMessage *msg;

	if (g_task_return_error_if_cancelled(task)) {
		gw_syncml_decode_release(g_bytes_get_size(d->message));
		return;
	}
	msg = gw_syncml_message_decode(d->message, d->content_type, &d->wbxml, &error);
	gw_syncml_decode_release(g_bytes_get_size(d->message));
	if (msg == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, msg, (GDestroyNotify)gw_syncml_message_free);
}

/*
 * Decoding is CPU work: a pool of its own, one thread short of the processors (at least
 * one), so a burst of big messages cannot take every core from the main loop (GTask's pool
 * runs a thread per message: eight at once on two cores delayed D-Bus calls by 0.4 s). What
 * waits is queued.
 */
static GThreadPool *
gw_syncml_decode_pool(void)
{
	static GThreadPool *pool = NULL;

	if (g_once_init_enter(&pool)) {
		gint threads = MAX((gint)g_get_num_processors() - 1, 1);
		GThreadPool *p =
		    g_thread_pool_new(gw_syncml_decode_thread, NULL, threads, FALSE, NULL);
		g_once_init_leave(&pool, p);
	}
	return pool;
}

void
gw_syncml_message_decode_async(GBytes *message,
                               const gchar *content_type,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	GwSyncmlDecode *d;

	g_return_if_fail(message != NULL);

	/* libxml2's global initialisation is not safe from two threads at once */
	xmlInitParser();
	d = g_new0(GwSyncmlDecode, 1);
	d->message = g_bytes_ref(message);
	d->content_type = g_strdup(content_type);
	task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, gw_syncml_message_decode_async);
	g_task_set_task_data(task, d, gw_syncml_decode_free);
	if (!gw_syncml_decode_reserve(g_bytes_get_size(message))) {
		g_task_return_new_error(task,
		                        G_IO_ERROR,
		                        G_IO_ERROR_BUSY,
		                        "%u messages (at most %u) or %" G_GSIZE_FORMAT
		                        " bytes (at most %" G_GSIZE_FORMAT ") wait to be decoded",
		                        (guint)g_atomic_int_get(&gw_syncml_decode_queued),
		                        (guint)GW_SYNCML_DECODE_MAX_QUEUED,
		                        (gsize)g_atomic_pointer_get(&gw_syncml_decode_queued_bytes),
		                        GW_SYNCML_DECODE_MAX_QUEUED_BYTES);
		return;
	}
	g_thread_pool_push(gw_syncml_decode_pool(), g_steal_pointer(&task), NULL);
}

GwSyncmlMessage *
gw_syncml_message_decode_finish(GAsyncResult *result, gboolean *wbxml, GError **error)
{
	GwSyncmlDecode *d;

	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);

	d = g_task_get_task_data(G_TASK(result));
	if (wbxml != NULL)
		*wbxml = d->wbxml;
	return g_task_propagate_pointer(G_TASK(result), error);
}

/* ================================================================================================
 * Serialisation
 * ============================================================================================== */

typedef struct {
	GString *out; /* NULL: only count */
	gsize size;
} GwSyncmlWriter;

static inline void
w_raw(GwSyncmlWriter *w, const gchar *s, gsize len)
{
	if (w->out != NULL)
		g_string_append_len(w->out, s, (gssize)len);
	w->size += len;
}

#define W_LIT(w, lit) w_raw((w), (lit), sizeof(lit) - 1)

static const gchar replacement_char[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * Character data: & and < always escaped, > only after "]]", CR as a character reference (the
 * parser would normalise a raw one), characters XML 1.0 cannot carry and invalid UTF-8 become
 * U+FFFD.
 */
static void
w_text(GwSyncmlWriter *w, const gchar *text)
{
	const guchar *start = (const guchar *)text;
	const guchar *run = start;
	const guchar *p = start;

	if (text == NULL)
		return;
	while (*p != '\0') {
		guchar ch = *p;
		const gchar *rep;
		gsize rep_len;

		if (G_LIKELY(ch >= 0x20 && ch < 0x80 && ch != '<' && ch != '&' && ch != '>')) {
			p++;
			continue;
		}
		if (ch == '\t' || ch == '\n') {
			p++;
			continue;
		}
		if (ch == '>') {
			if (p - start < 2 || p[-1] != ']' || p[-2] != ']') {
				p++;
				continue;
			}
			rep = "&gt;";
			rep_len = 4;
		} else if (ch == '<') {
			rep = "&lt;";
			rep_len = 4;
		} else if (ch == '&') {
			rep = "&amp;";
			rep_len = 5;
		} else if (ch == '\r') {
			rep = "&#13;";
			rep_len = 5;
		} else if (ch < 0x20) {
			rep = replacement_char;
			rep_len = 3;
		} else {
			gunichar uc = g_utf8_get_char_validated((const gchar *)p, -1);
			if (uc == (gunichar)-1 || uc == (gunichar)-2) {
				/* invalid sequence: replace its first byte, resync after it */
				rep = replacement_char;
				rep_len = 3;
			} else if (uc == 0xFFFE || uc == 0xFFFF || (uc >= 0xD800 && uc <= 0xDFFF) ||
			           uc > 0x10FFFF) {
				/* well-formed UTF-8 but not an XML Char: replace it whole */
				w_raw(w, (const gchar *)run, (gsize)(p - run));
				w_raw(w, replacement_char, 3);
				p += g_utf8_skip[ch];
				run = p;
				continue;
			} else {
				/* a valid multi-byte character: keep it in the run */
				p += g_utf8_skip[ch];
				continue;
			}
		}
		w_raw(w, (const gchar *)run, (gsize)(p - run));
		w_raw(w, rep, rep_len);
		p++;
		run = p;
	}
	w_raw(w, (const gchar *)run, (gsize)(p - run));
}

/* <open>text</close>, written even when @text is empty; nothing when NULL */
static inline void
w_elem(GwSyncmlWriter *w,
       const gchar *open,
       gsize open_len,
       const gchar *close,
       gsize close_len,
       const gchar *text)
{
	if (text == NULL)
		return;
	w_raw(w, open, open_len);
	w_text(w, text);
	w_raw(w, close, close_len);
}

#define W_ELEM(w, tag, text)             \
	w_elem((w),                      \
	       "<" tag ">",              \
	       sizeof("<" tag ">") - 1,  \
	       "</" tag ">",             \
	       sizeof("</" tag ">") - 1, \
	       (text))
#define W_META_ELEM(w, tag, text)                               \
	w_elem((w),                                             \
	       "<" tag " xmlns=\"syncml:metinf\">",             \
	       sizeof("<" tag " xmlns=\"syncml:metinf\">") - 1, \
	       "</" tag ">",                                    \
	       sizeof("</" tag ">") - 1,                        \
	       (text))

static void
w_uint(GwSyncmlWriter *w, guint64 value)
{
	gchar buf[24];
	gsize n = 0;
	gchar tmp[24];

	do {
		tmp[n++] = (gchar)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	for (gsize i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	w_raw(w, buf, n);
}

#define W_UINT_ELEM(w, tag, value)        \
	G_STMT_START                      \
	{                                 \
		W_LIT((w), "<" tag ">");  \
		w_uint((w), (value));     \
		W_LIT((w), "</" tag ">"); \
	}                                 \
	G_STMT_END
#define W_META_UINT_ELEM(w, tag, value)                          \
	G_STMT_START                                             \
	{                                                        \
		W_LIT((w), "<" tag " xmlns=\"syncml:metinf\">"); \
		w_uint((w), (value));                            \
		W_LIT((w), "</" tag ">");                        \
	}                                                        \
	G_STMT_END

/* MetInf in DTD order; nothing at all when empty */
static void
w_meta(GwSyncmlWriter *w, const GwSyncmlMeta *meta)
{
	if (meta == NULL || gw_syncml_meta_is_empty(meta))
		return;
	W_LIT(w, "<Meta>");
	W_META_ELEM(w, "Format", meta->format);
	W_META_ELEM(w, "Type", meta->type);
	W_META_ELEM(w, "Mark", meta->mark);
	if (meta->size >= 0)
		W_META_UINT_ELEM(w, "Size", (guint64)meta->size);
	W_META_ELEM(w, "NextNonce", meta->next_nonce);
	if (meta->max_msg_size >= 0)
		W_META_UINT_ELEM(w, "MaxMsgSize", (guint64)meta->max_msg_size);
	if (meta->max_obj_size >= 0)
		W_META_UINT_ELEM(w, "MaxObjSize", (guint64)meta->max_obj_size);
	W_META_ELEM(w, "EMI", meta->emi);
	W_LIT(w, "</Meta>");
}

static void
w_loc(GwSyncmlWriter *w, gboolean target, const gchar *uri, const gchar *name)
{
	if (uri == NULL)
		return;
	if (target)
		W_LIT(w, "<Target>");
	else
		W_LIT(w, "<Source>");
	W_ELEM(w, "LocURI", uri);
	W_ELEM(w, "LocName", name);
	if (target)
		W_LIT(w, "</Target>");
	else
		W_LIT(w, "</Source>");
}

static void
w_item(GwSyncmlWriter *w, const GwSyncmlItem *item)
{
	W_LIT(w, "<Item>");
	w_loc(w, TRUE, item->target_uri, item->target_name);
	w_loc(w, FALSE, item->source_uri, item->source_name);
	w_meta(w, &item->meta);
	W_ELEM(w, "Data", item->data);
	if (item->more_data)
		W_LIT(w, "<MoreData/>");
	W_LIT(w, "</Item>");
}

static void
w_refs(GwSyncmlWriter *w, const GPtrArray *refs, gboolean target)
{
	if (refs == NULL)
		return;
	for (guint i = 0; i < refs->len; i++) {
		const gchar *ref = g_ptr_array_index(refs, i);
		if (target)
			W_ELEM(w, "TargetRef", ref != NULL ? ref : "");
		else
			W_ELEM(w, "SourceRef", ref != NULL ? ref : "");
	}
}

static void
w_command(GwSyncmlWriter *w, const GwSyncmlCommand *cmd)
{
	const gchar *name = gw_syncml_command_get_name(cmd);
	gsize name_len;

	if (name == NULL || name[0] == '\0')
		name = "Unknown";
	name_len = strlen(name);
	W_LIT(w, "<");
	w_raw(w, name, name_len);
	W_LIT(w, ">");
	if (cmd->cmd_id != 0)
		W_UINT_ELEM(w, "CmdID", cmd->cmd_id);
	if (cmd->type == GW_SYNCML_CMD_UNKNOWN) {
		W_LIT(w, "</");
		w_raw(w, name, name_len);
		W_LIT(w, ">");
		return;
	}
	switch (cmd->type) {
	case GW_SYNCML_CMD_STATUS:
		/* CmdID, MsgRef?, CmdRef, Cmd, TargetRef*, SourceRef*, Chal?, Data, Item* */
		if (cmd->msg_ref != 0)
			W_UINT_ELEM(w, "MsgRef", cmd->msg_ref);
		W_UINT_ELEM(w, "CmdRef", cmd->cmd_ref);
		W_ELEM(w, "Cmd", cmd->cmd != NULL ? cmd->cmd : "");
		w_refs(w, cmd->target_refs, TRUE);
		w_refs(w, cmd->source_refs, FALSE);
		if (cmd->no_resp)
			W_LIT(w, "<NoResp/>");
		w_meta(w, &cmd->meta);
		if (cmd->chal != NULL) {
			if (gw_syncml_meta_is_empty(cmd->chal)) {
				W_LIT(w, "<Chal/>");
			} else {
				W_LIT(w, "<Chal>");
				w_meta(w, cmd->chal);
				W_LIT(w, "</Chal>");
			}
		}
		W_UINT_ELEM(w, "Data", cmd->status_code);
		break;
	case GW_SYNCML_CMD_RESULTS:
		/* CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+ */
		if (cmd->msg_ref != 0)
			W_UINT_ELEM(w, "MsgRef", cmd->msg_ref);
		W_UINT_ELEM(w, "CmdRef", cmd->cmd_ref);
		if (cmd->no_resp)
			W_LIT(w, "<NoResp/>");
		w_meta(w, &cmd->meta);
		w_refs(w, cmd->target_refs, TRUE);
		w_refs(w, cmd->source_refs, FALSE);
		break;
	case GW_SYNCML_CMD_ALERT:
		/* CmdID, NoResp?, Data, Correlator?, Item* */
		if (cmd->no_resp)
			W_LIT(w, "<NoResp/>");
		w_meta(w, &cmd->meta);
		W_UINT_ELEM(w, "Data", cmd->alert_code);
		W_ELEM(w, "Correlator", cmd->correlator);
		break;
	default:
		/* CmdID, NoResp?, Meta?, [Correlator?,] Item* | commands */
		if (cmd->no_resp)
			W_LIT(w, "<NoResp/>");
		w_meta(w, &cmd->meta);
		if (cmd->type == GW_SYNCML_CMD_EXEC)
			W_ELEM(w, "Correlator", cmd->correlator);
		break;
	}
	for (guint i = 0; i < cmd->items->len; i++)
		w_item(w, g_ptr_array_index(cmd->items, i));
	if (cmd->children != NULL) {
		for (guint i = 0; i < cmd->children->len; i++)
			w_command(w, g_ptr_array_index(cmd->children, i));
	}
	W_LIT(w, "</");
	w_raw(w, name, name_len);
	W_LIT(w, ">");
}

static void
w_message(GwSyncmlWriter *w, const GwSyncmlMessage *msg, gboolean with_commands)
{
	const GwSyncmlHeader *hdr = &msg->hdr;

	W_LIT(w,
	      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<SyncML xmlns=\"" GW_SYNCML_NAMESPACE "\"><SyncHdr><VerDTD>1.2</VerDTD>");
	if (hdr->version == GW_SYNCML_VERSION_DM_1_3)
		W_LIT(w, "<VerProto>DM/1.3</VerProto>");
	else
		W_LIT(w, "<VerProto>DM/1.2</VerProto>");
	W_ELEM(w, "SessionID", hdr->session_id != NULL ? hdr->session_id : "");
	W_UINT_ELEM(w, "MsgID", hdr->msg_id);
	w_loc(w, TRUE, hdr->target_uri != NULL ? hdr->target_uri : "", hdr->target_name);
	w_loc(w, FALSE, hdr->source_uri != NULL ? hdr->source_uri : "", hdr->source_name);
	W_ELEM(w, "RespURI", hdr->resp_uri);
	if (hdr->no_resp)
		W_LIT(w, "<NoResp/>");
	if (hdr->cred != NULL) {
		W_LIT(w, "<Cred>");
		w_meta(w, &hdr->cred->meta);
		W_ELEM(w, "Data", hdr->cred->data != NULL ? hdr->cred->data : "");
		W_LIT(w, "</Cred>");
	}
	w_meta(w, &hdr->meta);
	W_LIT(w, "</SyncHdr><SyncBody>");
	if (with_commands) {
		for (guint i = 0; i < msg->commands->len; i++)
			w_command(w, g_ptr_array_index(msg->commands, i));
	}
	if (msg->final)
		W_LIT(w, "<Final/>");
	W_LIT(w, "</SyncBody></SyncML>");
}

GBytes *
gw_syncml_message_to_xml(const GwSyncmlMessage *msg)
{
	GwSyncmlWriter w = {0};

	g_return_val_if_fail(msg != NULL, NULL);
	w.out = g_string_sized_new(4096);
	w_message(&w, msg, TRUE);
	return g_string_free_to_bytes(w.out);
}

gsize
gw_syncml_message_estimate_size(const GwSyncmlMessage *msg)
{
	GwSyncmlWriter w = {0};

	g_return_val_if_fail(msg != NULL, 0);
	w_message(&w, msg, TRUE);
	return w.size;
}

gsize
gw_syncml_command_estimate_size(const GwSyncmlCommand *cmd)
{
	GwSyncmlWriter w = {0};

	g_return_val_if_fail(cmd != NULL, 0);
	w_command(&w, cmd);
	return w.size;
}
