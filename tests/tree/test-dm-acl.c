/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OMA DM ACLs: parsing, canonical printing, grant/revoke.
 * Requirement: GwMO-SECARIZE-001 (per-server access control on the DM tree).
 */

#include "config.h"

#include "gw-dm-acl.h"

static void
check_roundtrip(const gchar *text, const gchar *canonical)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDmAcl) acl = gw_dm_acl_parse(text, &error);
	g_autofree gchar *printed = NULL;
	g_autoptr(GwDmAcl) again = NULL;
	g_autofree gchar *printed2 = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(acl);
	printed = gw_dm_acl_to_string(acl);
	g_assert_cmpstr(printed, ==, canonical);
	/* canonical text parses to the same ACL */
	again = gw_dm_acl_parse(printed, &error);
	g_assert_no_error(error);
	printed2 = gw_dm_acl_to_string(again);
	g_assert_cmpstr(printed2, ==, canonical);
}

static void
test_roundtrip(void)
{
	check_roundtrip("", "");
	check_roundtrip("Get=*", "Get=*");
	check_roundtrip("Add=*&Get=*", "Add=*&Get=*");
	/* canonical order Add, Delete, Exec, Get, Replace */
	check_roundtrip("Replace=s1&Get=s1+s2&Exec=s3&Delete=s1&Add=s2",
	                "Add=s2&Delete=s1&Exec=s3&Get=s1+s2&Replace=s1");
	/* duplicates removed, insertion order kept */
	check_roundtrip("Get=b+a+b", "Get=b+a");
	/* a command repeated merges */
	check_roundtrip("Get=a&Get=b+a", "Get=a+b");
	check_roundtrip("Get=com.example.dm-server:8080", "Get=com.example.dm-server:8080");
}

static void
test_malformed(void)
{
	const gchar *bad[] = {
	    "Get",          /* no '=' */
	    "Get=",         /* no server */
	    "Get=a+",       /* empty server id */
	    "Get=+a",       /* empty server id */
	    "Get=a++b",     /* empty server id */
	    "&Get=*",       /* stray separator */
	    "Get=*&",       /* stray separator */
	    "Get=*&&Add=*", /* stray separator */
	    "Copy=*",       /* not an ACL command */
	    "get=*",        /* case-sensitive */
	    "Get=a=b",      /* '=' in a server id */
	    "=*",           /* no command */
	    "Get=a\nb",     /* control character */
	    "Get=\xff\xfe", /* not UTF-8 */
	    " Get=*",       /* unknown command " Get" */
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GwDmAcl) acl = gw_dm_acl_parse(bad[i], &error);
		g_assert_null(acl);
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	}
}

static void
test_allows(void)
{
	g_autoptr(GwDmAcl) acl = gw_dm_acl_parse("Get=*&Replace=srvA+srvB&Exec=srvA", NULL);
	g_autoptr(GwDmAcl) empty = gw_dm_acl_new();

	g_assert_nonnull(acl);
	g_assert_false(gw_dm_acl_is_empty(acl));
	g_assert_true(gw_dm_acl_is_empty(empty));

	/* "*" means every server */
	g_assert_true(gw_dm_acl_allows(acl, GW_DM_ACCESS_GET, "srvA"));
	g_assert_true(gw_dm_acl_allows(acl, GW_DM_ACCESS_GET, "anybody"));
	/* multiple servers */
	g_assert_true(gw_dm_acl_allows(acl, GW_DM_ACCESS_REPLACE, "srvA"));
	g_assert_true(gw_dm_acl_allows(acl, GW_DM_ACCESS_REPLACE, "srvB"));
	g_assert_false(gw_dm_acl_allows(acl, GW_DM_ACCESS_REPLACE, "srvC"));
	g_assert_true(gw_dm_acl_allows(acl, GW_DM_ACCESS_EXEC, "srvA"));
	g_assert_false(gw_dm_acl_allows(acl, GW_DM_ACCESS_EXEC, "srvB"));
	/* commands not listed deny */
	g_assert_false(gw_dm_acl_allows(acl, GW_DM_ACCESS_ADD, "srvA"));
	g_assert_false(gw_dm_acl_allows(acl, GW_DM_ACCESS_DELETE, "srvA"));
	/* server ids are case-sensitive */
	g_assert_false(gw_dm_acl_allows(acl, GW_DM_ACCESS_REPLACE, "SRVA"));
	/* an empty ACL grants nothing by itself (inheritance is the tree's job) */
	g_assert_false(gw_dm_acl_allows(empty, GW_DM_ACCESS_GET, "srvA"));
}

static void
test_grant_revoke(void)
{
	g_autoptr(GwDmAcl) acl = gw_dm_acl_new();
	g_autoptr(GwDmAcl) copy = NULL;
	g_autofree gchar *s1 = NULL;
	g_autofree gchar *s2 = NULL;
	g_autofree gchar *s3 = NULL;
	g_autofree gchar *s4 = NULL;

	gw_dm_acl_grant(acl, GW_DM_ACCESS_GET, "srvA");
	gw_dm_acl_grant(acl, GW_DM_ACCESS_GET, "srvB");
	gw_dm_acl_grant(acl, GW_DM_ACCESS_GET, "srvA");
	gw_dm_acl_grant(acl, GW_DM_ACCESS_DELETE, "srvB");
	s1 = gw_dm_acl_to_string(acl);
	g_assert_cmpstr(s1, ==, "Delete=srvB&Get=srvA+srvB");

	copy = gw_dm_acl_copy(acl);
	gw_dm_acl_revoke(acl, GW_DM_ACCESS_GET, "srvA");
	gw_dm_acl_revoke(acl, GW_DM_ACCESS_GET, "nobody");
	s2 = gw_dm_acl_to_string(acl);
	g_assert_cmpstr(s2, ==, "Delete=srvB&Get=srvB");
	g_assert_false(gw_dm_acl_allows(acl, GW_DM_ACCESS_GET, "srvA"));
	/* the copy is independent */
	g_assert_true(gw_dm_acl_allows(copy, GW_DM_ACCESS_GET, "srvA"));

	gw_dm_acl_revoke(acl, GW_DM_ACCESS_GET, "srvB");
	gw_dm_acl_revoke(acl, GW_DM_ACCESS_DELETE, "srvB");
	s3 = gw_dm_acl_to_string(acl);
	g_assert_cmpstr(s3, ==, "");
	g_assert_true(gw_dm_acl_is_empty(acl));

	/* revoking one server does not remove "*" */
	gw_dm_acl_grant(acl, GW_DM_ACCESS_EXEC, "*");
	gw_dm_acl_revoke(acl, GW_DM_ACCESS_EXEC, "srvA");
	g_assert_true(gw_dm_acl_allows(acl, GW_DM_ACCESS_EXEC, "srvA"));
	gw_dm_acl_revoke(acl, GW_DM_ACCESS_EXEC, "*");
	s4 = gw_dm_acl_to_string(acl);
	g_assert_cmpstr(s4, ==, "");
}

/* the ACL of a node a DM Server owns alone, and the ServerIDs that can stand in one */
static void
test_owner_text(void)
{
	g_autofree gchar *all = gw_dm_acl_owner_text("srv1", GW_DM_ACCESS_ALL & ~GW_DM_ACCESS_COPY);
	g_autofree gchar *group = gw_dm_acl_owner_text("srv1",
	                                               GW_DM_ACCESS_ADD | GW_DM_ACCESS_DELETE |
	                                                   GW_DM_ACCESS_GET | GW_DM_ACCESS_REPLACE);
	g_autofree gchar *local = gw_dm_acl_owner_text(NULL, GW_DM_ACCESS_ALL);
	g_autoptr(GwDmAcl) acl = gw_dm_acl_parse(all, NULL);

	g_assert_cmpstr(all, ==, "Add=srv1&Delete=srv1&Exec=srv1&Get=srv1&Replace=srv1");
	g_assert_cmpstr(group, ==, "Add=srv1&Delete=srv1&Get=srv1&Replace=srv1");
	g_assert_cmpstr(local, ==, "Get=*");
	g_assert_true(gw_dm_acl_allows(acl, GW_DM_ACCESS_EXEC, "srv1"));
	g_assert_false(gw_dm_acl_allows(acl, GW_DM_ACCESS_GET, "srv2"));

	g_assert_true(gw_dm_acl_server_id_is_valid("srv1.example"));
	g_assert_false(gw_dm_acl_server_id_is_valid(NULL));
	g_assert_false(gw_dm_acl_server_id_is_valid(""));
	g_assert_false(gw_dm_acl_server_id_is_valid("*"));
	g_assert_false(gw_dm_acl_server_id_is_valid("a+b"));
	g_assert_false(gw_dm_acl_server_id_is_valid("a&Get=b"));
	g_assert_false(gw_dm_acl_server_id_is_valid("a=b"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dm-acl/roundtrip", test_roundtrip);
	g_test_add_func("/gw/dm-acl/malformed", test_malformed);
	g_test_add_func("/gw/dm-acl/allows", test_allows);
	g_test_add_func("/gw/dm-acl/grant-revoke", test_grant_revoke);
	g_test_add_func("/gw/dm-acl/owner-text", test_owner_text);
	return g_test_run();
}
