/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DM tree URIs: normalisation, limits (DevDetail/URI, status 414), split/join/match.
 */

#include "config.h"

#include <string.h>

#include "gw-dm-types.h"
#include "gw-dm-uri.h"

static void
check_ok(const gchar *uri, const gchar *expected)
{
	g_autoptr(GError) error = NULL;
	guint status = 0;
	g_autofree gchar *normalized = gw_dm_uri_normalize(uri, NULL, &status, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(normalized, ==, expected);
	g_assert_cmpuint(status, ==, 200);
}

static void
check_fail(const gchar *uri, const GwDmUriLimits *limits, guint expected_status)
{
	g_autoptr(GError) error = NULL;
	guint status = 0;
	g_autofree gchar *normalized = gw_dm_uri_normalize(uri, limits, &status, &error);

	g_assert_null(normalized);
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_URI);
	g_assert_cmpuint(status, ==, expected_status);
}

static void
test_normalize_valid(void)
{
	check_ok(".", ".");
	check_ok("./A", "./A");
	check_ok("A", "./A");
	check_ok("A/B", "./A/B");
	check_ok("./A/B/C", "./A/B/C");
	check_ok("./DevInfo/DevId", "./DevInfo/DevId");
	check_ok("./A.b/..c/d..", "./A.b/..c/d..");
	check_ok("./Ünïcødé/名前", "./Ünïcødé/名前");
	check_ok("./A B", "./A B");
	/* status may be omitted */
	{
		g_autofree gchar *n = gw_dm_uri_normalize("X", NULL, NULL, NULL);
		g_assert_cmpstr(n, ==, "./X");
	}
}

static void
test_normalize_invalid(void)
{
	const gchar non_utf8[] = {'.', '/', 'A', (gchar)0xff, 'B', '\0'};
	const gchar overlong[] = {'.', '/', (gchar)0xc0, (gchar)0xaf, '\0'};

	check_fail("", NULL, 400);
	check_fail(NULL, NULL, 400);
	check_fail("./", NULL, 400);
	check_fail("./A/", NULL, 400);
	check_fail("A//B", NULL, 400);
	check_fail("/A", NULL, 400);
	check_fail("./A/../B", NULL, 400);
	check_fail("./A/./B", NULL, 400);
	check_fail("..", NULL, 400);
	check_fail("./..", NULL, 400);
	check_fail("./.", NULL, 400);
	check_fail(".//A", NULL, 400);
	check_fail("./A?list=Struct", NULL, 400);
	check_fail(non_utf8, NULL, 400);
	check_fail(overlong, NULL, 400);
	check_fail("./A\nB", NULL, 400);
	check_fail("./A\tB", NULL, 400);
	check_fail("./A\x7f", NULL, 400);
	check_fail("./A\xc2\x85", NULL, 400); /* U+0085, a C1 control */
}

static void
test_normalize_limits(void)
{
	GwDmUriLimits limits = {.max_depth = 3, .max_tot_len = 20, .max_seg_len = 5};
	GwDmUriLimits unlimited = {0, 0, 0};
	g_autoptr(GString) huge = g_string_new(".");
	g_autofree gchar *n = NULL;
	g_autofree gchar *n2 = NULL;

	/* exactly at the limits */
	n = gw_dm_uri_normalize("./AAAAA/B/C", &limits, NULL, NULL);
	g_assert_cmpstr(n, ==, "./AAAAA/B/C");
	/* segment */
	check_fail("./AAAAAA", &limits, 414);
	/* depth */
	check_fail("./A/B/C/D", &limits, 414);
	/* total length counts the normalised form including "./" */
	{
		GwDmUriLimits tot = {.max_tot_len = 10};
		g_autofree gchar *at = gw_dm_uri_normalize("ABCDEFGH", &tot, NULL, NULL);
		g_assert_cmpstr(at, ==, "./ABCDEFGH");
		check_fail("./ABCDEFGHI", &tot, 414);
		check_fail("./ABCD/EFGH", &tot, 414);
	}
	/* syntax errors win over length */
	check_fail("./AAAAAAAAAA//B", &limits, 400);

	/* 0 = unlimited */
	for (guint i = 0; i < 200; i++)
		g_string_append(huge, "/SegmentNameThatIsLong");
	n2 = gw_dm_uri_normalize(huge->str, &unlimited, NULL, NULL);
	g_assert_cmpstr(n2, ==, huge->str);
	check_fail(huge->str, &limits, 414);
}

static void
test_split_join(void)
{
	g_auto(GStrv) root = gw_dm_uri_split(".");
	g_auto(GStrv) segs = gw_dm_uri_split("./A/B/C");
	g_autofree gchar *path = NULL;
	g_autofree gchar *query = NULL;
	g_autofree gchar *path2 = NULL;
	g_autofree gchar *query2 = NULL;
	g_autofree gchar *p1 = gw_dm_uri_parent("./A/B");
	g_autofree gchar *p2 = gw_dm_uri_parent("./A");
	g_autofree gchar *p3 = gw_dm_uri_parent(".");
	g_autofree gchar *j1 = gw_dm_uri_join(".", "A");
	g_autofree gchar *j2 = gw_dm_uri_join("./A", "B");

	g_assert_cmpuint(g_strv_length(root), ==, 0);
	g_assert_cmpuint(g_strv_length(segs), ==, 3);
	g_assert_cmpstr(segs[0], ==, "A");
	g_assert_cmpstr(segs[2], ==, "C");

	gw_dm_uri_split_query("./A/B?list=Struct", &path, &query);
	g_assert_cmpstr(path, ==, "./A/B");
	g_assert_cmpstr(query, ==, "list=Struct");
	gw_dm_uri_split_query("A/B", &path2, &query2);
	g_assert_cmpstr(path2, ==, "A/B");
	g_assert_null(query2);

	g_assert_cmpstr(p1, ==, "./A");
	g_assert_cmpstr(p2, ==, ".");
	g_assert_null(p3);
	g_assert_cmpstr(gw_dm_uri_basename("./A/B"), ==, "B");
	g_assert_cmpstr(gw_dm_uri_basename("./A"), ==, "A");
	g_assert_cmpstr(gw_dm_uri_basename("."), ==, ".");
	g_assert_cmpstr(j1, ==, "./A");
	g_assert_cmpstr(j2, ==, "./A/B");
}

static void
test_match(void)
{
	g_assert_true(gw_dm_uri_match("./A/B", "./A/B"));
	g_assert_false(gw_dm_uri_match("./A/B", "./A/C"));
	g_assert_false(gw_dm_uri_match("./A/B", "./A"));
	g_assert_false(gw_dm_uri_match("./A", "./A/B"));
	g_assert_true(gw_dm_uri_match("./A/*/C", "./A/x/C"));
	g_assert_false(gw_dm_uri_match("./A/*/C", "./A/C"));
	g_assert_false(gw_dm_uri_match("./A/*/C", "./A/x/y/C"));
	g_assert_true(gw_dm_uri_match("./GwMO/Fanout/*/Operations/Start",
	                              "./GwMO/Fanout/7/Operations/Start"));
	g_assert_true(gw_dm_uri_match("./A/**", "./A"));
	g_assert_true(gw_dm_uri_match("./A/**", "./A/B"));
	g_assert_true(gw_dm_uri_match("./A/**", "./A/B/C/D"));
	g_assert_false(gw_dm_uri_match("./A/**", "./B/C"));
	g_assert_true(gw_dm_uri_match("./*/**", "./X/Y"));
	g_assert_false(gw_dm_uri_match("./*/**", "."));
	g_assert_true(gw_dm_uri_match(".", "."));
	g_assert_false(gw_dm_uri_match(".", "./A"));

	g_assert_true(gw_dm_uri_is_below("./A/B", "./A"));
	g_assert_true(gw_dm_uri_is_below("./A", "./A"));
	g_assert_false(gw_dm_uri_is_below("./AB", "./A"));
	g_assert_true(gw_dm_uri_is_below("./AB", "."));
	g_assert_false(gw_dm_uri_is_below("./A", "./A/B"));
}

static void
test_types(void)
{
	g_autoptr(GBytes) ok_int = g_bytes_new_static("-42", 3);
	g_autoptr(GBytes) big_int = g_bytes_new_static("99999999999999999999", 20);
	g_autoptr(GBytes) bad_int = g_bytes_new_static("4x", 2);
	g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
	g_autoptr(GBytes) t = g_bytes_new_static("true", 4);
	g_autoptr(GBytes) yes = g_bytes_new_static("yes", 3);
	g_autoptr(GBytes) fl = g_bytes_new_static("1.5e3", 5);
	g_autoptr(GBytes) bad_fl = g_bytes_new_static("1.5x", 4);
	g_autoptr(GBytes) ctl = g_bytes_new_static("a\001b", 3);
	g_autoptr(GBytes) nul = g_bytes_new_static("a\0b", 3);
	g_autoptr(GBytes) b64 = g_bytes_new_static("aGVsbG8=", 8);
	g_autoptr(GBytes) bad_b64 = g_bytes_new_static("a$b", 3);
	g_autoptr(GError) error = NULL;

	for (GwDmFormat f = GW_DM_FORMAT_NODE; f < GW_DM_FORMAT_INVALID; f++)
		g_assert_cmpint(gw_dm_format_from_string(gw_dm_format_to_string(f)), ==, f);
	g_assert_cmpint(gw_dm_format_from_string("CHR"), ==, GW_DM_FORMAT_INVALID);
	g_assert_cmpint(gw_dm_format_from_string(NULL), ==, GW_DM_FORMAT_INVALID);

	g_assert_true(gw_dm_format_validate_value(GW_DM_FORMAT_INT, ok_int, NULL));
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_INT, big_int, NULL));
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_INT, bad_int, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_NOT_SUPPORTED);
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_INT, empty, NULL));
	g_assert_true(gw_dm_format_validate_value(GW_DM_FORMAT_INT, NULL, NULL));
	g_assert_true(gw_dm_format_validate_value(GW_DM_FORMAT_BOOL, t, NULL));
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_BOOL, yes, NULL));
	g_assert_true(gw_dm_format_validate_value(GW_DM_FORMAT_FLOAT, fl, NULL));
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_FLOAT, bad_fl, NULL));
	g_assert_true(gw_dm_format_validate_value(GW_DM_FORMAT_CHR, empty, NULL));
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_CHR, ctl, NULL));
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_CHR, nul, NULL));
	g_assert_true(gw_dm_format_validate_value(GW_DM_FORMAT_BIN, nul, NULL));
	g_assert_true(gw_dm_format_validate_value(GW_DM_FORMAT_B64, b64, NULL));
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_B64, bad_b64, NULL));
	g_assert_false(gw_dm_format_validate_value(GW_DM_FORMAT_NODE, t, NULL));
	g_assert_true(gw_dm_format_validate_value(GW_DM_FORMAT_NODE, NULL, NULL));

	g_assert_cmpstr(gw_dm_status_to_string(404), ==, "Not found");
	g_assert_cmpstr(gw_dm_status_to_string(999), ==, "Unknown status");
	g_assert_true(gw_dm_status_is_success(200));
	g_assert_false(gw_dm_status_is_success(425));
	g_assert_cmpint(gw_dm_status_to_error(404), ==, GW_ERROR_NOT_FOUND);
	g_assert_cmpint(gw_dm_status_to_error(425), ==, GW_ERROR_PERMISSION_DENIED);
	g_assert_cmpint(gw_dm_status_to_error(405), ==, GW_ERROR_NOT_ALLOWED);
	g_assert_cmpint(gw_dm_status_to_error(414), ==, GW_ERROR_INVALID_URI);
	g_assert_cmpint(gw_dm_status_to_error(418), ==, GW_ERROR_ALREADY_EXISTS);
	g_assert_cmpint(gw_dm_status_to_error(406), ==, GW_ERROR_NOT_SUPPORTED);
	{
		g_autoptr(GError) e2 = NULL;
		g_assert_false(gw_dm_status_set_error(&e2, 425, "Get ./A"));
		g_assert_error(e2, GW_ERROR, GW_ERROR_PERMISSION_DENIED);
		g_assert_cmpstr(e2->message, ==, "Get ./A: Permission denied (425)");
	}
	{
		g_autoptr(GwDmItem) item =
		    gw_dm_item_new_string("./A", GW_DM_FORMAT_CHR, NULL, "v");
		g_autofree gchar *s = gw_dm_item_dup_string(item);
		g_assert_cmpstr(s, ==, "v");
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dm-uri/normalize-valid", test_normalize_valid);
	g_test_add_func("/gw/dm-uri/normalize-invalid", test_normalize_invalid);
	g_test_add_func("/gw/dm-uri/limits", test_normalize_limits);
	g_test_add_func("/gw/dm-uri/split-join", test_split_join);
	g_test_add_func("/gw/dm-uri/match", test_match);
	g_test_add_func("/gw/dm-uri/types", test_types);
	return g_test_run();
}
