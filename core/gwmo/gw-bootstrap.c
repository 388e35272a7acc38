/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwBootstrap"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "gw-bootstrap.h"
#include "gw-dm-acl.h"
#include "gw-dm-auth.h"
#include "gw-error.h"
#include "gw-server-link.h"

#define GW_BOOTSTRAP_DMACC "./DMAcc/"

guint
gw_bootstrap_outcome_to_http(GwBootstrapOutcome outcome)
{
	switch (outcome) {
	case GW_BOOTSTRAP_APPLIED:
		return 200;
	case GW_BOOTSTRAP_UNAUTHORIZED:
		return 401;
	case GW_BOOTSTRAP_FORBIDDEN:
		return 403;
	case GW_BOOTSTRAP_FAILED:
		return 500;
	case GW_BOOTSTRAP_REPLAYED:
		return 409;
	case GW_BOOTSTRAP_MALFORMED:
	case GW_BOOTSTRAP_REFUSED:
	default:
		return 400;
	}
}

/* ---- who may bootstrap the gateway ---- */

GHashTable *
gw_bootstrap_load_servers(GwConfig *config, GError **error)
{
	g_autoptr(GHashTable) servers =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autofree gchar *list = gw_config_get_string(config, "bootstrap", "servers");
	g_autofree gchar *path = gw_config_get_string(config, "bootstrap", "secrets-file");
	g_autoptr(GKeyFile) secrets = g_key_file_new();
	g_auto(GStrv) ids = NULL;

	if (list == NULL || g_strstrip(list)[0] == '\0')
		return g_steal_pointer(&servers);
	if (path == NULL || path[0] == '\0') {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "[bootstrap] servers is set but [bootstrap] secrets-file is not");
		return NULL;
	}
	if (!g_key_file_load_from_file(secrets, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "[bootstrap] secrets-file %s: ", path);
		return NULL;
	}
	ids = g_strsplit(list, ";", -1);
	for (guint i = 0; ids[i] != NULL; i++) {
		const gchar *id = g_strstrip(ids[i]);
		g_autofree gchar *secret = NULL;
		if (id[0] == '\0')
			continue;
		secret = g_key_file_get_value(secrets, GW_BOOTSTRAP_SECRETS_GROUP, id, NULL);
		if (secret == NULL || secret[0] == '\0') {
			g_set_error(
			    error,
			    GW_ERROR,
			    GW_ERROR_INVALID_ARGS,
			    "[bootstrap] secrets-file %s has no secret for bootstrap server "
			    "'%s' (group [" GW_BOOTSTRAP_SECRETS_GROUP "])",
			    path,
			    id);
			return NULL;
		}
		g_hash_table_replace(servers, g_strdup(id), g_steal_pointer(&secret));
	}
	return g_steal_pointer(&servers);
}

gchar *
gw_bootstrap_normalize_pin(const gchar *text)
{
	g_autoptr(GString) hex = g_string_new(NULL);
	const gchar *p;

	if (text == NULL || g_ascii_strncasecmp(text, "sha256:", 7) != 0)
		return NULL;
	for (p = text + 7; *p != '\0'; p++) {
		if (g_ascii_isxdigit(*p))
			g_string_append_c(hex, g_ascii_tolower(*p));
		else if (*p != ':' || hex->len == 0 || hex->len % 2 != 0 || p[1] == '\0' ||
		         p[1] == ':')
			return NULL;
		if (hex->len > 64)
			return NULL;
	}
	if (hex->len != 64)
		return NULL;
	return g_strconcat("sha256:", hex->str, NULL);
}

GHashTable *
gw_bootstrap_load_pins(GwConfig *config, GHashTable *servers, GError **error)
{
	g_autoptr(GHashTable) pins =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
	g_autofree gchar *path = gw_config_get_string(config, "bootstrap", "certificates-file");
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_auto(GStrv) ids = NULL;

	if (path == NULL || path[0] == '\0')
		return g_steal_pointer(&pins);
	if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "[bootstrap] certificates-file %s: ", path);
		return NULL;
	}
	ids = g_key_file_get_keys(file, GW_BOOTSTRAP_CERTIFICATES_GROUP, NULL, NULL);
	for (guint i = 0; ids != NULL && ids[i] != NULL; i++) {
		g_autofree gchar *value =
		    g_key_file_get_value(file, GW_BOOTSTRAP_CERTIFICATES_GROUP, ids[i], NULL);
		g_auto(GStrv) parts = g_strsplit(value != NULL ? value : "", ",", -1);
		g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
		guint n = 0;

		if (servers == NULL || !g_hash_table_contains(servers, ids[i])) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "[bootstrap] certificates-file %s pins '%s', which is not in "
			            "[bootstrap] servers",
			            path,
			            ids[i]);
			return NULL;
		}
		for (guint j = 0; parts[j] != NULL; j++) {
			g_autofree gchar *pin = NULL;
			if (g_strstrip(parts[j])[0] == '\0')
				continue;
			pin = gw_bootstrap_normalize_pin(parts[j]);
			if (pin == NULL) {
				g_set_error(
				    error,
				    GW_ERROR,
				    GW_ERROR_INVALID_ARGS,
				    "[bootstrap] certificates-file %s: a pin of '%s' is not "
				    "sha256:<64 hex digits>",
				    path,
				    ids[i]);
				return NULL;
			}
			g_strv_builder_add(builder, pin);
			n++;
		}
		if (n == 0) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "[bootstrap] certificates-file %s: '%s' has no pin",
			            path,
			            ids[i]);
			return NULL;
		}
		g_hash_table_replace(pins, g_strdup(ids[i]), g_strv_builder_end(builder));
	}
	return g_steal_pointer(&pins);
}

GwBootstrapOutcome
gw_bootstrap_check_pin(GHashTable *pins,
                       const gchar *server_id,
                       const gchar *fingerprint,
                       gboolean over_tls,
                       GError **error)
{
	const gchar *const *own;

	g_return_val_if_fail(server_id != NULL, GW_BOOTSTRAP_FORBIDDEN);
	own = pins != NULL ? g_hash_table_lookup(pins, server_id) : NULL;
	if (own == NULL)
		return GW_BOOTSTRAP_APPLIED;
	if (!over_tls) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "bootstrap server '%s' has a certificate pin: accepted over https only",
		            server_id);
		return GW_BOOTSTRAP_FORBIDDEN;
	}
	if (fingerprint == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "bootstrap server '%s' has a certificate pin but presented no client "
		            "certificate",
		            server_id);
		return GW_BOOTSTRAP_FORBIDDEN;
	}
	if (!g_strv_contains(own, fingerprint)) {
		g_set_error(
		    error,
		    GW_ERROR,
		    GW_ERROR_PERMISSION_DENIED,
		    "the client certificate of bootstrap server '%s' (%s) is not one of its "
		    "pins",
		    server_id,
		    fingerprint);
		return GW_BOOTSTRAP_FORBIDDEN;
	}
	return GW_BOOTSTRAP_APPLIED;
}

GwBootstrapOutcome
gw_bootstrap_authenticate(GHashTable *servers,
                          const GwSyncmlMessage *msg,
                          const gchar *hmac_header,
                          GBytes *body,
                          gboolean over_tls,
                          gchar **server_id,
                          GError **error)
{
	const GwSyncmlCred *cred = gw_syncml_message_get_cred(msg);
	const gchar *secret;

	if (hmac_header != NULL) {
		g_autofree gchar *user = NULL;
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(body, &len);
		if (!gw_dm_auth_hmac_parse_header(hmac_header, NULL, &user, NULL, error))
			return GW_BOOTSTRAP_UNAUTHORIZED;
		if (!g_utf8_validate(user, -1, NULL)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_AUTH_FAILED,
			            "x-syncml-hmac username is not UTF-8");
			return GW_BOOTSTRAP_UNAUTHORIZED;
		}
		secret = g_hash_table_lookup(servers, user);
		if (secret == NULL) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PERMISSION_DENIED,
			            "'%s' is not an authorised bootstrap server",
			            user);
			return GW_BOOTSTRAP_FORBIDDEN;
		}
		if (!gw_dm_auth_hmac_verify(hmac_header, user, secret, NULL, 0, data, len, error))
			return GW_BOOTSTRAP_UNAUTHORIZED;
		if (server_id != NULL)
			*server_id = g_steal_pointer(&user);
		return GW_BOOTSTRAP_APPLIED;
	}
	if (cred == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "no credentials (x-syncml-hmac header or SyncHdr Cred)");
		return GW_BOOTSTRAP_UNAUTHORIZED;
	}
	if (gw_dm_auth_type_from_string(cred->meta.type) != GW_DM_AUTH_TYPE_MD5) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "Cred type %s is not accepted for a bootstrap (syncml:auth-md5 or the "
		            "x-syncml-hmac header)",
		            cred->meta.type != NULL ? cred->meta.type : "(none)");
		return GW_BOOTSTRAP_UNAUTHORIZED;
	}
	if (!over_tls) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "an auth-md5 Cred does not cover the message: accepted over https only "
		            "(use the x-syncml-hmac header over http)");
		return GW_BOOTSTRAP_UNAUTHORIZED;
	}
	if (msg->hdr.source_name == NULL || msg->hdr.source_name[0] == '\0') {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "SyncHdr Source has no LocName to check the Cred with");
		return GW_BOOTSTRAP_UNAUTHORIZED;
	}
	secret = g_hash_table_lookup(servers, msg->hdr.source_name);
	if (secret == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "'%s' is not an authorised bootstrap server",
		            msg->hdr.source_name);
		return GW_BOOTSTRAP_FORBIDDEN;
	}
	if (!gw_dm_auth_md5_verify(cred->data, msg->hdr.source_name, secret, NULL, 0)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_AUTH_FAILED,
		            "the Cred of '%s' does not verify",
		            msg->hdr.source_name);
		return GW_BOOTSTRAP_UNAUTHORIZED;
	}
	if (server_id != NULL)
		*server_id = g_strdup(msg->hdr.source_name);
	return GW_BOOTSTRAP_APPLIED;
}

/* ---- the commands ---- */

typedef struct {
	const GwSyncmlCommand *cmd;
	const GwSyncmlItem *item;
	gchar *uri; /* normalised */
} GwBootstrapOp;

static void
gw_bootstrap_op_free(gpointer data)
{
	GwBootstrapOp *op = data;
	g_free(op->uri);
	g_free(op);
}

static gboolean
gw_bootstrap_is_b64_text(const gchar *text)
{
	for (const gchar *p = text; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' && *p != '=' &&
		    !g_ascii_isspace(*p))
			return FALSE;
	}
	return TRUE;
}

/* collects the items of @cmd into @ops; FALSE (with the outcome) for anything a bootstrap
 * may not hold */
static gboolean
gw_bootstrap_collect(GwDmTree *tree,
                     const GwSyncmlCommand *cmd,
                     GPtrArray *ops,
                     GwBootstrapOutcome *outcome,
                     GError **error)
{
	GwDmUriLimits limits = gw_dm_tree_get_uri_limits(tree);

	switch (cmd->type) {
	case GW_SYNCML_CMD_ATOMIC:
	case GW_SYNCML_CMD_SEQUENCE:
		for (guint i = 0; i < cmd->children->len; i++) {
			if (!gw_bootstrap_collect(
			        tree, g_ptr_array_index(cmd->children, i), ops, outcome, error))
				return FALSE;
		}
		return TRUE;
	case GW_SYNCML_CMD_ADD:
	case GW_SYNCML_CMD_REPLACE:
		break;
	default:
		*outcome = GW_BOOTSTRAP_MALFORMED;
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "command %s (CmdID %u) has no place in a bootstrap (Add, Replace, "
		            "Atomic, Sequence)",
		            gw_syncml_command_get_name(cmd),
		            cmd->cmd_id);
		return FALSE;
	}
	if (cmd->items->len == 0) {
		*outcome = GW_BOOTSTRAP_MALFORMED;
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s (CmdID %u) has no Item",
		            gw_syncml_command_get_name(cmd),
		            cmd->cmd_id);
		return FALSE;
	}
	for (guint i = 0; i < cmd->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(cmd->items, i);
		g_autoptr(GError) local = NULL;
		GwBootstrapOp *op;
		gchar *uri;

		if (item->target_uri == NULL) {
			*outcome = GW_BOOTSTRAP_MALFORMED;
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "%s (CmdID %u) has an Item without Target",
			            gw_syncml_command_get_name(cmd),
			            cmd->cmd_id);
			return FALSE;
		}
		if (strchr(item->target_uri, '?') != NULL) {
			*outcome = GW_BOOTSTRAP_FORBIDDEN;
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NOT_ALLOWED,
			            "%s (CmdID %u): no query in a bootstrap's target URI",
			            gw_syncml_command_get_name(cmd),
			            cmd->cmd_id);
			return FALSE;
		}
		uri = gw_dm_uri_normalize(item->target_uri, &limits, NULL, &local);
		if (uri == NULL) {
			*outcome = GW_BOOTSTRAP_MALFORMED;
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_URI,
			            "%s (CmdID %u): %s",
			            gw_syncml_command_get_name(cmd),
			            cmd->cmd_id,
			            local->message);
			return FALSE;
		}
		if (!g_str_has_prefix(uri, GW_BOOTSTRAP_DMACC) ||
		    uri[strlen(GW_BOOTSTRAP_DMACC)] == '\0') {
			*outcome = GW_BOOTSTRAP_FORBIDDEN;
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NOT_ALLOWED,
			            "%s (CmdID %u) of %s: a bootstrap writes below ./DMAcc only",
			            gw_syncml_command_get_name(cmd),
			            cmd->cmd_id,
			            uri);
			g_free(uri);
			return FALSE;
		}
		op = g_new0(GwBootstrapOp, 1);
		op->cmd = cmd;
		op->item = item;
		op->uri = uri;
		g_ptr_array_add(ops, op);
	}
	return TRUE;
}

/* "./DMAcc/<x>" of a normalised URI below it */
static gchar *
gw_bootstrap_account_uri(const gchar *uri)
{
	const gchar *name = uri + strlen(GW_BOOTSTRAP_DMACC);
	const gchar *slash = strchr(name, '/');
	return slash != NULL ? g_strndup(uri, (gsize)(slash - uri)) : g_strdup(uri);
}

/* one item on the tree, as the local owner; the DM status */
static guint
gw_bootstrap_apply_op(GwDmTree *tree, const GwBootstrapOp *op)
{
	const GwSyncmlCommand *cmd = op->cmd;
	const GwSyncmlItem *item = op->item;
	const gchar *fmt = item->meta.format != NULL ? item->meta.format : cmd->meta.format;
	const gchar *mime_type = item->meta.type != NULL ? item->meta.type : cmd->meta.type;
	gboolean replace = cmd->type == GW_SYNCML_CMD_REPLACE;
	g_autoptr(GBytes) data = NULL;
	GwDmFormat format;

	if (item->more_data)
		return GW_DM_STATUS_OPTIONAL_FEATURE_NOT_SUPPORTED; /* no large objects here */
	if (fmt == NULL) {
		format = replace ? GW_DM_FORMAT_INVALID : GW_DM_FORMAT_CHR;
	} else if (strcmp(fmt, "b64") == 0) {
		/* binary data (AAuthData) travels base64-encoded */
		gsize raw_len = 0;
		guchar *raw;
		if (item->data != NULL && !gw_bootstrap_is_b64_text(item->data))
			return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
		raw = g_base64_decode(item->data != NULL ? item->data : "", &raw_len);
		data = g_bytes_new_take(raw, raw_len);
		format = GW_DM_FORMAT_BIN;
	} else {
		format = gw_dm_format_from_string(fmt);
		if (format == GW_DM_FORMAT_INVALID)
			return GW_DM_STATUS_UNSUPPORTED_MEDIA_TYPE;
	}
	if (data == NULL && item->data != NULL)
		data = g_bytes_new(item->data, strlen(item->data));
	if (replace)
		return gw_dm_tree_replace(tree, NULL, op->uri, format, mime_type, data);
	return gw_dm_tree_add(tree, NULL, op->uri, format, mime_type, data);
}

GwBootstrapOutcome
gw_bootstrap_apply(GwDmTree *tree, const GwSyncmlMessage *msg, guint *n_items, GError **error)
{
	g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func(gw_bootstrap_op_free);
	g_autoptr(GPtrArray) new_accounts = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GwDmSnapshot) snapshot = NULL;
	GwBootstrapOutcome outcome = GW_BOOTSTRAP_MALFORMED;
	GPtrArray *commands = gw_syncml_message_get_commands(msg);

	g_return_val_if_fail(GW_IS_DM_TREE(tree), GW_BOOTSTRAP_FAILED);
	g_return_val_if_fail(msg != NULL, GW_BOOTSTRAP_FAILED);

	if (n_items != NULL)
		*n_items = 0;
	/* everything is checked before anything is applied */
	for (guint i = 0; i < commands->len; i++) {
		if (!gw_bootstrap_collect(
		        tree, g_ptr_array_index(commands, i), ops, &outcome, error))
			return outcome;
	}
	if (ops->len == 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "the bootstrap message has no Add or Replace");
		return GW_BOOTSTRAP_MALFORMED;
	}
	/* the accounts this message creates */
	for (guint i = 0; i < ops->len; i++) {
		const GwBootstrapOp *op = g_ptr_array_index(ops, i);
		g_autofree gchar *account = gw_bootstrap_account_uri(op->uri);
		if (gw_dm_tree_lookup(tree, account) == NULL &&
		    !g_ptr_array_find_with_equal_func(new_accounts, account, g_str_equal, NULL))
			g_ptr_array_add(new_accounts, g_steal_pointer(&account));
	}
	snapshot = gw_dm_tree_snapshot(tree);
	for (guint i = 0; i < ops->len; i++) {
		const GwBootstrapOp *op = g_ptr_array_index(ops, i);
		guint code = gw_bootstrap_apply_op(tree, op);
		if (!gw_dm_status_is_success(code)) {
			gw_dm_tree_rollback(tree, snapshot);
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NOT_ALLOWED,
			            "%s (CmdID %u) of %s refused with %u; nothing applied",
			            gw_syncml_command_get_name(op->cmd),
			            op->cmd->cmd_id,
			            op->uri,
			            code);
			return GW_BOOTSTRAP_REFUSED;
		}
	}
	/* (OMA CP's rule for provisioned accounts) a new account without an ACL of its own is its
	 * server's: Get and Replace for its ServerID (DMAcc 2.0: SrvID), nothing for the others */
	for (guint i = 0; i < new_accounts->len; i++) {
		const gchar *account = g_ptr_array_index(new_accounts, i);
		g_autofree gchar *sid = gw_server_link_dup_account_server_id(tree, account);
		g_autofree gchar *acl = NULL;
		g_autoptr(GError) local = NULL;
		GwDmNode *node = gw_dm_tree_lookup(tree, account);

		if (node == NULL || gw_dm_node_has_acl(node) || sid == NULL)
			continue;
		acl = g_strdup_printf("Get=%s&Replace=%s", sid, sid);
		if (!gw_dm_acl_server_id_is_valid(sid) ||
		    !gw_dm_tree_set_properties(
		        tree, account, GW_DM_ACCESS_NONE, acl, NULL, &local)) {
			gw_dm_tree_rollback(tree, snapshot);
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NOT_ALLOWED,
			            "%s: ServerID '%s' cannot be granted its account%s%s; nothing "
			            "applied",
			            account,
			            sid,
			            local != NULL ? ": " : "",
			            local != NULL ? local->message : "");
			return GW_BOOTSTRAP_REFUSED;
		}
	}
	if (n_items != NULL)
		*n_items = ops->len;
	return GW_BOOTSTRAP_APPLIED;
}

gchar **
gw_bootstrap_dup_account_server_ids(GwDmTree *tree)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) accounts = gw_dm_tree_list_children(tree, "./DMAcc");

	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *uri = g_strdup_printf(GW_BOOTSTRAP_DMACC "%s", accounts[i]);
		g_autofree gchar *sid = gw_server_link_dup_account_server_id(tree, uri);
		if (!gw_dm_acl_server_id_is_valid(sid) ||
		    g_ptr_array_find_with_equal_func(seen, sid, g_str_equal, NULL))
			continue;
		g_strv_builder_add(builder, sid);
		g_ptr_array_add(seen, g_steal_pointer(&sid));
	}
	return g_strv_builder_end(builder);
}

/* ---- replay record ([state-dir]/bootstrap.seen) ---- */

gchar *
gw_bootstrap_seen_path(GwDmStore *store)
{
	g_autofree gchar *dir = g_path_get_dirname(gw_dm_store_get_path(store));
	return g_build_filename(dir, GW_BOOTSTRAP_SEEN_FILE, NULL);
}

/* HMAC-SHA256 of @body keyed with the bootstrap server's @secret, in hex: a body that holds
 * account secrets leaves nothing in the file to guess them from without the server's secret */
static gchar *
gw_bootstrap_body_digest(const gchar *secret, GBytes *body)
{
	gsize len = 0;
	const guchar *data = g_bytes_get_data(body, &len);
	return g_compute_hmac_for_data(
	    G_CHECKSUM_SHA256, (const guchar *)secret, strlen(secret), data, len);
}

static GKeyFile *
gw_bootstrap_seen_load(const gchar *path, GError **error)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) local = NULL;

	if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, &local) &&
	    !g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "the replay record %s cannot be read (%s): no bootstrap is applied "
		            "until it is repaired or removed",
		            path,
		            local->message);
		return NULL;
	}
	return g_steal_pointer(&file);
}

/* written atomically: temporary file, fsync, rename, fsync of the directory */
static gboolean
gw_bootstrap_seen_save(GKeyFile *file, const gchar *path, GError **error)
{
	gsize len = 0;
	g_autofree gchar *text = g_key_file_to_data(file, &len, NULL);
	g_autofree gchar *dir = g_path_get_dirname(path);
	int fd;

	if (!g_file_set_contents_full(path,
	                              text,
	                              (gssize)len,
	                              G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
	                              0600,
	                              error)) {
		g_prefix_error(error, "the replay record cannot be written: ");
		return FALSE;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "the replay record's directory %s cannot be synced: %s",
		            dir,
		            g_strerror(saved));
		return FALSE;
	}
	close(fd);
	return TRUE;
}

/* TRUE when @digest is one of @server_id's in @file */
static gboolean
gw_bootstrap_seen_contains(GKeyFile *file, const gchar *server_id, const gchar *digest)
{
	g_auto(GStrv) list =
	    g_key_file_get_string_list(file, GW_BOOTSTRAP_SEEN_GROUP, server_id, NULL, NULL);
	return list != NULL && g_strv_contains((const gchar *const *)list, digest);
}

/* @digest appended to @server_id's list (@add) or taken out of it; the oldest are forgotten
 * beyond GW_BOOTSTRAP_SEEN_MAX */
static void
gw_bootstrap_seen_update(GKeyFile *file, const gchar *server_id, const gchar *digest, gboolean add)
{
	gsize n = 0;
	g_auto(GStrv) list =
	    g_key_file_get_string_list(file, GW_BOOTSTRAP_SEEN_GROUP, server_id, &n, NULL);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) kept = NULL;
	gsize first = 0;
	gsize total = n + (add ? 1 : 0);

	if (total > GW_BOOTSTRAP_SEEN_MAX)
		first = total - GW_BOOTSTRAP_SEEN_MAX;
	for (gsize i = first; i < n; i++) {
		if (strcmp(list[i], digest) != 0)
			g_strv_builder_add(builder, list[i]);
	}
	if (add)
		g_strv_builder_add(builder, digest);
	kept = g_strv_builder_end(builder);
	if (kept[0] == NULL)
		g_key_file_remove_key(file, GW_BOOTSTRAP_SEEN_GROUP, server_id, NULL);
	else
		g_key_file_set_string_list(file,
		                           GW_BOOTSTRAP_SEEN_GROUP,
		                           server_id,
		                           (const gchar *const *)kept,
		                           g_strv_length(kept));
}

GwBootstrapOutcome
gw_bootstrap_import(GHashTable *servers,
                    GwDmTree *tree,
                    GwDmStore *store,
                    const GwSyncmlMessage *msg,
                    const gchar *hmac_header,
                    GBytes *body,
                    gboolean over_tls,
                    gchar **server_id,
                    guint *n_items,
                    gchar ***new_server_ids,
                    GError **error)
{
	g_autofree gchar *sid = NULL;
	g_auto(GStrv) before = NULL;
	g_auto(GStrv) after = NULL;
	g_autofree gchar *seen_path = NULL;
	g_autofree gchar *digest = NULL;
	g_autoptr(GKeyFile) seen = NULL;
	g_autoptr(GwDmSnapshot) snapshot = NULL;
	GwBootstrapOutcome outcome;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), GW_BOOTSTRAP_FAILED);
	g_return_val_if_fail(GW_IS_DM_STORE(store), GW_BOOTSTRAP_FAILED);

	/* credentials before anything else is looked at */
	outcome = gw_bootstrap_authenticate(servers, msg, hmac_header, body, over_tls, &sid, error);
	if (outcome != GW_BOOTSTRAP_APPLIED)
		return outcome;
	/* an exact replay of a body already applied (the MAC has an empty nonce: a captured
	 * body verifies for ever) is refused before the tree is looked at */
	seen_path = gw_bootstrap_seen_path(store);
	seen = gw_bootstrap_seen_load(seen_path, error);
	if (seen == NULL)
		return GW_BOOTSTRAP_FAILED;
	digest = gw_bootstrap_body_digest(g_hash_table_lookup(servers, sid), body);
	if (gw_bootstrap_seen_contains(seen, sid, digest)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_ALREADY_EXISTS,
		            "bootstrap of %s: this exact message was applied before (a replay); "
		            "a new bootstrap must differ (a fresh SessionID or MsgID)",
		            sid);
		return GW_BOOTSTRAP_REPLAYED;
	}
	before = gw_bootstrap_dup_account_server_ids(tree);
	snapshot = gw_dm_tree_snapshot(tree);
	outcome = gw_bootstrap_apply(tree, msg, n_items, error);
	if (outcome != GW_BOOTSTRAP_APPLIED) {
		g_prefix_error(error, "bootstrap of %s: ", sid);
		return outcome;
	}
	/* remembered before the tree is stored: a kill in between loses the bootstrap (its
	 * server sends a new one) but never lets its body be applied twice */
	gw_bootstrap_seen_update(seen, sid, digest, TRUE);
	if (!gw_bootstrap_seen_save(seen, seen_path, error)) {
		gw_dm_tree_rollback(tree, snapshot);
		g_prefix_error(error, "bootstrap of %s: ", sid);
		return GW_BOOTSTRAP_FAILED;
	}
	/* one commit for the whole message; not stored = not applied */
	if (!gw_dm_store_flush(store, error)) {
		g_autoptr(GError) local = NULL;
		gw_dm_tree_rollback(tree, snapshot);
		gw_bootstrap_seen_update(seen, sid, digest, FALSE);
		if (!gw_bootstrap_seen_save(seen, seen_path, &local))
			g_warning("bootstrap of %s: %s", sid, local->message);
		g_prefix_error(error, "bootstrap of %s: cannot store the tree: ", sid);
		return GW_BOOTSTRAP_FAILED;
	}
	if (new_server_ids != NULL) {
		g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
		after = gw_bootstrap_dup_account_server_ids(tree);
		for (guint i = 0; after[i] != NULL; i++) {
			if (!g_strv_contains((const gchar *const *)before, after[i]))
				g_strv_builder_add(builder, after[i]);
		}
		*new_server_ids = g_strv_builder_end(builder);
	}
	if (server_id != NULL)
		*server_id = g_steal_pointer(&sid);
	return GW_BOOTSTRAP_APPLIED;
}
