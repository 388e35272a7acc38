/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwTree"

#include "config.h"

#include <string.h>

#include "gw-dm-acl.h"

/* ACL commands in canonical order */
typedef enum {
	GW_DM_ACL_CMD_ADD,
	GW_DM_ACL_CMD_DELETE,
	GW_DM_ACL_CMD_EXEC,
	GW_DM_ACL_CMD_GET,
	GW_DM_ACL_CMD_REPLACE,
	GW_DM_ACL_CMD_LAST,
} GwDmAclCmd;

static const struct {
	const gchar *name;
	GwDmAccess access;
} gw_dm_acl_cmds[GW_DM_ACL_CMD_LAST] = {
    [GW_DM_ACL_CMD_ADD] = {"Add", GW_DM_ACCESS_ADD},
    [GW_DM_ACL_CMD_DELETE] = {"Delete", GW_DM_ACCESS_DELETE},
    [GW_DM_ACL_CMD_EXEC] = {"Exec", GW_DM_ACCESS_EXEC},
    [GW_DM_ACL_CMD_GET] = {"Get", GW_DM_ACCESS_GET},
    [GW_DM_ACL_CMD_REPLACE] = {"Replace", GW_DM_ACCESS_REPLACE},
};

struct _GwDmAcl {
	GPtrArray *servers[GW_DM_ACL_CMD_LAST]; /* (element-type utf8), NULL when none */
};

static gint
gw_dm_acl_cmd_from_access(GwDmAccess access)
{
	for (gint i = 0; i < GW_DM_ACL_CMD_LAST; i++) {
		if (gw_dm_acl_cmds[i].access == access)
			return i;
	}
	return -1;
}

static gint
gw_dm_acl_cmd_from_name(const gchar *name, gsize len)
{
	for (gint i = 0; i < GW_DM_ACL_CMD_LAST; i++) {
		if (strlen(gw_dm_acl_cmds[i].name) == len &&
		    strncmp(gw_dm_acl_cmds[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

static gboolean
gw_dm_acl_has_server(GPtrArray *servers, const gchar *server_id)
{
	if (servers == NULL)
		return FALSE;
	for (guint i = 0; i < servers->len; i++) {
		if (g_strcmp0(g_ptr_array_index(servers, i), server_id) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
gw_dm_acl_add_server(GwDmAcl *acl, gint cmd, const gchar *server_id)
{
	if (acl->servers[cmd] == NULL)
		acl->servers[cmd] = g_ptr_array_new_with_free_func(g_free);
	if (!gw_dm_acl_has_server(acl->servers[cmd], server_id))
		g_ptr_array_add(acl->servers[cmd], g_strdup(server_id));
}

/* a server id: non-empty UTF-8 without '&', '+', '=' and control characters */
static gboolean
gw_dm_acl_server_is_valid(const gchar *server_id)
{
	if (server_id == NULL || server_id[0] == '\0')
		return FALSE;
	if (!g_utf8_validate(server_id, -1, NULL))
		return FALSE;
	for (const gchar *p = server_id; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == '&' || c == '+' || c == '=' || g_unichar_iscntrl(c) || c == 0xfffe ||
		    c == 0xffff)
			return FALSE;
	}
	return TRUE;
}

GwDmAcl *
gw_dm_acl_new(void)
{
	return g_new0(GwDmAcl, 1);
}

/* a command listed twice ("Get=a&Get=b") merges the server lists */
GwDmAcl *
gw_dm_acl_parse(const gchar *text, GError **error)
{
	g_autoptr(GwDmAcl) acl = gw_dm_acl_new();
	g_auto(GStrv) entries = NULL;

	g_return_val_if_fail(text != NULL, NULL);

	if (text[0] == '\0')
		return g_steal_pointer(&acl);
	if (!g_utf8_validate(text, -1, NULL)) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "ACL is not UTF-8");
		return NULL;
	}
	entries = g_strsplit(text, "&", -1);
	for (guint i = 0; entries[i] != NULL; i++) {
		const gchar *eq = strchr(entries[i], '=');
		g_auto(GStrv) servers = NULL;
		gint cmd;

		if (eq == NULL) {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "ACL entry without '='");
			return NULL;
		}
		cmd = gw_dm_acl_cmd_from_name(entries[i], eq - entries[i]);
		if (cmd < 0) {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown ACL command");
			return NULL;
		}
		servers = g_strsplit(eq + 1, "+", -1);
		if (servers[0] == NULL) {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "ACL entry without server");
			return NULL;
		}
		for (guint j = 0; servers[j] != NULL; j++) {
			if (!gw_dm_acl_server_is_valid(servers[j])) {
				g_set_error_literal(error,
				                    GW_ERROR,
				                    GW_ERROR_INVALID_ARGS,
				                    "invalid server id in ACL");
				return NULL;
			}
			gw_dm_acl_add_server(acl, cmd, servers[j]);
		}
	}
	return g_steal_pointer(&acl);
}

GwDmAcl *
gw_dm_acl_copy(const GwDmAcl *acl)
{
	GwDmAcl *copy;

	g_return_val_if_fail(acl != NULL, NULL);

	copy = gw_dm_acl_new();
	for (gint i = 0; i < GW_DM_ACL_CMD_LAST; i++) {
		if (acl->servers[i] == NULL)
			continue;
		for (guint j = 0; j < acl->servers[i]->len; j++)
			gw_dm_acl_add_server(copy, i, g_ptr_array_index(acl->servers[i], j));
	}
	return copy;
}

void
gw_dm_acl_free(GwDmAcl *acl)
{
	if (acl == NULL)
		return;
	for (gint i = 0; i < GW_DM_ACL_CMD_LAST; i++) {
		if (acl->servers[i] != NULL)
			g_ptr_array_unref(acl->servers[i]);
	}
	g_free(acl);
}

gchar *
gw_dm_acl_to_string(const GwDmAcl *acl)
{
	GString *str;

	if (acl == NULL)
		return g_strdup("");
	str = g_string_new(NULL);
	for (gint i = 0; i < GW_DM_ACL_CMD_LAST; i++) {
		if (acl->servers[i] == NULL || acl->servers[i]->len == 0)
			continue;
		if (str->len > 0)
			g_string_append_c(str, '&');
		g_string_append_printf(str, "%s=", gw_dm_acl_cmds[i].name);
		for (guint j = 0; j < acl->servers[i]->len; j++) {
			if (j > 0)
				g_string_append_c(str, '+');
			g_string_append(str, g_ptr_array_index(acl->servers[i], j));
		}
	}
	return g_string_free(str, FALSE);
}

gboolean
gw_dm_acl_is_empty(const GwDmAcl *acl)
{
	if (acl == NULL)
		return TRUE;
	for (gint i = 0; i < GW_DM_ACL_CMD_LAST; i++) {
		if (acl->servers[i] != NULL && acl->servers[i]->len > 0)
			return FALSE;
	}
	return TRUE;
}

/* "*" grants every server; a NULL @server_id is only granted through "*" */
gboolean
gw_dm_acl_allows(const GwDmAcl *acl, GwDmAccess access, const gchar *server_id)
{
	gint cmd;

	g_return_val_if_fail(acl != NULL, FALSE);
	cmd = gw_dm_acl_cmd_from_access(access);
	g_return_val_if_fail(cmd >= 0, FALSE);

	if (gw_dm_acl_has_server(acl->servers[cmd], "*"))
		return TRUE;
	if (server_id == NULL)
		return FALSE;
	return gw_dm_acl_has_server(acl->servers[cmd], server_id);
}

void
gw_dm_acl_grant(GwDmAcl *acl, GwDmAccess access, const gchar *server_id)
{
	gint cmd;

	g_return_if_fail(acl != NULL);
	g_return_if_fail(gw_dm_acl_server_is_valid(server_id));
	cmd = gw_dm_acl_cmd_from_access(access);
	g_return_if_fail(cmd >= 0);

	gw_dm_acl_add_server(acl, cmd, server_id);
}

/* removes exactly @server_id; revoking "srv" while "*" is listed leaves "srv" allowed */
void
gw_dm_acl_revoke(GwDmAcl *acl, GwDmAccess access, const gchar *server_id)
{
	gint cmd;
	GPtrArray *servers;

	g_return_if_fail(acl != NULL);
	g_return_if_fail(server_id != NULL);
	cmd = gw_dm_acl_cmd_from_access(access);
	g_return_if_fail(cmd >= 0);

	servers = acl->servers[cmd];
	if (servers == NULL)
		return;
	for (guint i = 0; i < servers->len; i++) {
		if (g_strcmp0(g_ptr_array_index(servers, i), server_id) == 0) {
			g_ptr_array_remove_index(servers, i);
			break;
		}
	}
}

gboolean
gw_dm_acl_server_id_is_valid(const gchar *server_id)
{
	g_autofree gchar *text = NULL;
	g_autofree gchar *canonical = NULL;
	g_autoptr(GwDmAcl) acl = NULL;

	/* "a+b" would stand for two servers */
	if (server_id == NULL || server_id[0] == '\0' || g_strcmp0(server_id, "*") == 0 ||
	    strchr(server_id, '+') != NULL)
		return FALSE;
	text = g_strconcat("Get=", server_id, NULL);
	acl = gw_dm_acl_parse(text, NULL);
	if (acl == NULL)
		return FALSE;
	canonical = gw_dm_acl_to_string(acl);
	return g_strcmp0(canonical, text) == 0;
}

gchar *
gw_dm_acl_owner_text(const gchar *server_id, GwDmAccess rights)
{
	static const GwDmAccess commands[] = {GW_DM_ACCESS_ADD,
	                                      GW_DM_ACCESS_DELETE,
	                                      GW_DM_ACCESS_EXEC,
	                                      GW_DM_ACCESS_GET,
	                                      GW_DM_ACCESS_REPLACE};
	g_autoptr(GwDmAcl) acl = NULL;

	if (server_id == NULL)
		return g_strdup("Get=*");
	acl = gw_dm_acl_new();
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if ((rights & commands[i]) != 0)
			gw_dm_acl_grant(acl, commands[i], server_id);
	}
	return gw_dm_acl_to_string(acl);
}
