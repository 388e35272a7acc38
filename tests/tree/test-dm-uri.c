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

static gboolean
fits(GwDmFormat format, const gchar *value)
{
	g_autoptr(GBytes) bytes = g_bytes_new(value, strlen(value));
	g_autoptr(GError) error = NULL;
	gboolean ok = gw_dm_format_validate_value(format, bytes, &error);

	/* a value that does not fit is GW_ERROR_NOT_SUPPORTED (DM 415) */
	g_assert_true(ok == (error == NULL));
	if (!ok)
		g_assert_error(error, GW_ERROR, GW_ERROR_NOT_SUPPORTED);
	return ok;
}

/* issue 11 §4 "lax arguments": every format checks its values, not only that they are text */
static void
test_format_values(void)
{
	static const struct {
		GwDmFormat format;
		const gchar *value;
		gboolean ok;
	} cases[] = {
	    /* date: ISO 8601 date with the century, or an RFC 3339 date-time */
	    {GW_DM_FORMAT_DATE, "2026-01-31", TRUE},
	    {GW_DM_FORMAT_DATE, "20260131", TRUE},
	    {GW_DM_FORMAT_DATE, "2024-02-29", TRUE},
	    {GW_DM_FORMAT_DATE, "2026-12-06T10:00:00Z", TRUE},
	    {GW_DM_FORMAT_DATE, "2026-12-06T10:00:00.123456+01:00", TRUE},
	    {GW_DM_FORMAT_DATE, "2026-12-06t23:59:60-05:30", TRUE},
	    {GW_DM_FORMAT_DATE, "", TRUE},
	    {GW_DM_FORMAT_DATE, "yesterday", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-13-01", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-02-29", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-00-10", FALSE},
	    {GW_DM_FORMAT_DATE, "0000-01-01", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-1-1", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-01-31T10:00:00", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-01-31T25:00:00Z", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-01-31T10:00Z", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-01-31T10:00:00+1", FALSE},
	    {GW_DM_FORMAT_DATE, "2026-01-31 ", FALSE},
	    {GW_DM_FORMAT_DATE, "20260131T100000Z", FALSE},
	    /* time: ISO 8601 */
	    {GW_DM_FORMAT_TIME, "12:30:00Z", TRUE},
	    {GW_DM_FORMAT_TIME, "12:30", TRUE},
	    {GW_DM_FORMAT_TIME, "T12:30:00.5+02:00", TRUE},
	    {GW_DM_FORMAT_TIME, "123000", TRUE},
	    {GW_DM_FORMAT_TIME, "1230+0100", TRUE},
	    {GW_DM_FORMAT_TIME, "24:00:00", FALSE},
	    {GW_DM_FORMAT_TIME, "12:60", FALSE},
	    {GW_DM_FORMAT_TIME, "noon", FALSE},
	    {GW_DM_FORMAT_TIME, "12:30:00+2", FALSE},
	    {GW_DM_FORMAT_TIME, "12:30:00.Z", FALSE},
	    /* xml: one well-formed document, no DTD */
	    {GW_DM_FORMAT_XML, "<r><c a='1'/></r>", TRUE},
	    {GW_DM_FORMAT_XML, "<?xml version=\"1.0\"?>\n<r>t&amp;t</r>", TRUE},
	    {GW_DM_FORMAT_XML, "", TRUE},
	    {GW_DM_FORMAT_XML, "<r>", FALSE},
	    {GW_DM_FORMAT_XML, "<a/><b/>", FALSE},
	    {GW_DM_FORMAT_XML, "just text", FALSE},
	    {GW_DM_FORMAT_XML, "<r a='1' a='2'/>", FALSE},
	    {GW_DM_FORMAT_XML, "<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>", FALSE},
	    /* float: a finite decimal number */
	    {GW_DM_FORMAT_FLOAT, "3.25e-2", TRUE},
	    {GW_DM_FORMAT_FLOAT, "-1", TRUE},
	    {GW_DM_FORMAT_FLOAT, ".5", TRUE},
	    {GW_DM_FORMAT_FLOAT, "5.", TRUE},
	    {GW_DM_FORMAT_FLOAT, "+1E10", TRUE},
	    {GW_DM_FORMAT_FLOAT, "nan", FALSE},
	    {GW_DM_FORMAT_FLOAT, "NaN", FALSE},
	    {GW_DM_FORMAT_FLOAT, "inf", FALSE},
	    {GW_DM_FORMAT_FLOAT, "-Infinity", FALSE},
	    {GW_DM_FORMAT_FLOAT, "0x1p3", FALSE},
	    {GW_DM_FORMAT_FLOAT, " 1", FALSE},
	    {GW_DM_FORMAT_FLOAT, "1e", FALSE},
	    {GW_DM_FORMAT_FLOAT, "1e999", FALSE},
	    {GW_DM_FORMAT_FLOAT, ".", FALSE},
	    {GW_DM_FORMAT_FLOAT, "", FALSE},
	    {GW_DM_FORMAT_FLOAT, "1.5x", FALSE},
	    /* int */
	    {GW_DM_FORMAT_INT, "-42", TRUE},
	    {GW_DM_FORMAT_INT, "+7", TRUE},
	    {GW_DM_FORMAT_INT, "nan", FALSE},
	    {GW_DM_FORMAT_INT, "1.0", FALSE},
	    {GW_DM_FORMAT_INT, " 1", FALSE},
	    {GW_DM_FORMAT_INT, "-", FALSE},
	    {GW_DM_FORMAT_INT, "9223372036854775808", FALSE},
	    /* bool */
	    {GW_DM_FORMAT_BOOL, "false", TRUE},
	    {GW_DM_FORMAT_BOOL, "TRUE", FALSE},
	    {GW_DM_FORMAT_BOOL, "1", FALSE},
	    /* b64: groups of four, padding at the end only */
	    {GW_DM_FORMAT_B64, "aGVsbG8=", TRUE},
	    {GW_DM_FORMAT_B64, "aGVs\nbG8=", TRUE},
	    {GW_DM_FORMAT_B64, "", TRUE},
	    {GW_DM_FORMAT_B64, "aGVsbG8", FALSE},
	    {GW_DM_FORMAT_B64, "aG=Vs", FALSE},
	    {GW_DM_FORMAT_B64, "a$bc", FALSE},
	    /* null, chr */
	    {GW_DM_FORMAT_NULL, "", TRUE},
	    {GW_DM_FORMAT_NULL, "x", FALSE},
	    {GW_DM_FORMAT_CHR, "Äcme", TRUE},
	    {GW_DM_FORMAT_CHR, "a\001b", FALSE},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message(
		    "%s \"%s\"", gw_dm_format_to_string(cases[i].format), cases[i].value);
		g_assert_cmpint(fits(cases[i].format, cases[i].value), ==, cases[i].ok);
	}
	/* an element with a flood of attributes is refused before libxml2 checks them */
	{
		g_autoptr(GString) xml = g_string_new("<r");
		for (guint i = 0; i < 100000; i++)
			g_string_append_printf(xml, " a%u='1'", i);
		g_string_append(xml, "/>");
		g_assert_false(fits(GW_DM_FORMAT_XML, xml->str));
	}
}

/* what the tree holds already (the owner API, a journal, the state file) is checked as before:
 * a state an older gwmod wrote must load */
static void
test_format_values_stored(void)
{
	static const struct {
		GwDmFormat format;
		const gchar *value;
		gboolean ok;
	} cases[] = {
	    {GW_DM_FORMAT_DATE, "yesterday", TRUE},
	    {GW_DM_FORMAT_TIME, "noon", TRUE},
	    {GW_DM_FORMAT_XML, "<r>", TRUE},
	    {GW_DM_FORMAT_FLOAT, "nan", TRUE},
	    {GW_DM_FORMAT_B64, "aGVsbG8", TRUE},
	    {GW_DM_FORMAT_DATE, "a\001b", FALSE},
	    {GW_DM_FORMAT_FLOAT, "1.5x", FALSE},
	    {GW_DM_FORMAT_INT, "4x", FALSE},
	    {GW_DM_FORMAT_BOOL, "yes", FALSE},
	    {GW_DM_FORMAT_B64, "a$bc", FALSE},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GBytes) bytes = g_bytes_new(cases[i].value, strlen(cases[i].value));
		g_assert_cmpint(
		    gw_dm_format_validate_stored(cases[i].format, bytes, NULL), ==, cases[i].ok);
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
	g_test_add_func("/gw/dm-uri/format-values", test_format_values);
	g_test_add_func("/gw/dm-uri/format-values-stored", test_format_values_stored);
	return g_test_run();
}
