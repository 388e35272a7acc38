/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bad arguments and hostile input against the real gwmod (issue 11 §4).
 *
 * /gw/dbus/limits/fanout-args: a Fanout with MaxInFlight or Timeout 0, or beyond its maximum,
 * is refused with InvalidArgs (MaxInFlight 0 used to be taken); 1 and the maxima are taken.
 */

#include "config.h"

#include <string.h>

#include "gw-test-daemon.h"

#define ERR "org.gwmo.Gateway1.Error."

static GVariant *
fanout_spec(const gchar *key, guint32 value)
{
	GVariantBuilder b;
	const gchar *devices[] = {"nosuchdevice", NULL};

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(devices, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Get"));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string("./DevInfo/FwV"));
	if (key != NULL)
		g_variant_builder_add(&b, "{sv}", key, g_variant_new_uint32(value));
	return g_variant_new("(a{sv})", &b);
}

static void
test_fanout_args(void)
{
	static const struct {
		const gchar *key;
		guint32 value;
		gboolean ok;
	} cases[] = {
	    {"MaxInFlight", 0, FALSE},
	    {"MaxInFlight", 65537, FALSE},
	    {"MaxInFlight", G_MAXUINT32, FALSE},
	    {"Timeout", 0, FALSE},
	    {"Timeout", 86401, FALSE},
	    {"MaxInFlight", 1, TRUE},
	    {"MaxInFlight", 65536, TRUE},
	    {"Timeout", 1, TRUE},
	    {"Timeout", 86400, TRUE},
	    {NULL, 0, TRUE},
	};
	GwTestDaemon *d = gw_test_daemon_new();

	gw_test_daemon_start(d, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message(
		    "%s = %u", cases[i].key != NULL ? cases[i].key : "(none)", cases[i].value);
		if (!cases[i].ok) {
			gw_test_assert_dbus_error(d,
			                          "Fanout",
			                          fanout_spec(cases[i].key, cases[i].value),
			                          ERR "InvalidArgs");
		} else {
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) reply = gw_test_call(
			    d, "Fanout", fanout_spec(cases[i].key, cases[i].value), "(o)", &error);
			g_assert_no_error(error);
		}
	}
	gw_test_daemon_stop(d);
	gw_test_daemon_free(d);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gw/dbus/limits/fanout-args", test_fanout_args);
	return g_test_run();
}
