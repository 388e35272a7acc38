/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reference End Device's --discover URL (gw-peer-mdns.c, contract point 4): built from a
 * resolved _gwmo._tcp gateway as <scheme>://<host>:<port><bootstrap>?dev=<DeviceID>; a TXT
 * that does not give a usable one is refused. (Against a real avahi-daemon:
 * tests/e2e/test-e2e-discovered.c.)
 */

#include "config.h"

#include "gw-error.h"
#include "gw-peer-mdns.h"

static void
test_bootstrap_url(void)
{
	struct {
		const gchar *host;
		const gchar *txt[4];
		const gchar *dev_id;
		const gchar *want; /* NULL: refused */
	} cases[] = {
	    {"192.0.2.1",
	     {"txtvers=1", "scheme=https", "bootstrap=/bootstrap", NULL},
	     "DEV-1",
	     "https://192.0.2.1:7444/bootstrap?dev=DEV-1"},
	    /* no scheme=: https; IPv6 in brackets; the DeviceID escaped */
	    {"fe80::1",
	     {"bootstrap=/bootstrap", NULL},
	     "IMEI:1 2&x",
	     "https://[fe80::1]:7444/bootstrap?dev=IMEI%3A1%202%26x"},
	    {"192.0.2.1",
	     {"scheme=http", "bootstrap=/b", "bootstrap=/ignored", NULL},
	     "d",
	     "http://192.0.2.1:7444/b?dev=d"},
	    {"192.0.2.1", {"scheme=http", NULL}, "d", NULL},
	    {"192.0.2.1", {"scheme=ftp", "bootstrap=/b", NULL}, "d", NULL},
	    {"192.0.2.1", {"bootstrap=b", NULL}, "d", NULL},
	    {"192.0.2.1", {"bootstrap=/b?x=1", NULL}, "d", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *url = gw_peer_mdns_bootstrap_url(
		    cases[i].host, 7444, cases[i].txt, cases[i].dev_id, &error);
		g_test_message("case %u", i);
		if (cases[i].want != NULL) {
			g_assert_no_error(error);
			g_assert_cmpstr(url, ==, cases[i].want);
		} else {
			g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
			g_assert_null(url);
		}
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/peers/mdns/bootstrap-url", test_bootstrap_url);
	return g_test_run();
}
