/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: what a UPnP device or a DM Server hands the UPnP adapter's parsers
 * (plugins/upnp/gw-upnp-description.c). The first byte picks the parser: 'D' a description,
 * 'S' an SCPD, anything else Exec data for the test light's Echo action (the rest of the
 * input); the corpus is tests/fuzz/corpus/upnp.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "../../plugins/upnp/gw-upnp-description.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const gchar echo_scpd[] =
    "<scpd><actionList><action><name>Echo</name><argumentList>"
    "<argument><name>InText</name><direction>in</direction>"
    "<relatedStateVariable>T</relatedStateVariable></argument>"
    "<argument><name>InNumber</name><direction>in</direction>"
    "<relatedStateVariable>N</relatedStateVariable></argument>"
    "<argument><name>Flag</name><direction>in</direction>"
    "<relatedStateVariable>B</relatedStateVariable></argument>"
    "<argument><name>OutText</name><direction>out</direction>"
    "<relatedStateVariable>T</relatedStateVariable></argument>"
    "</argumentList></action></actionList><serviceStateTable>"
    "<stateVariable sendEvents=\"no\"><name>T</name><dataType>string</dataType></stateVariable>"
    "<stateVariable sendEvents=\"no\"><name>N</name><dataType>i4</dataType></stateVariable>"
    "<stateVariable sendEvents=\"no\"><name>B</name><dataType>boolean</dataType></stateVariable>"
    "</serviceStateTable></scpd>";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GwUpnpLimits limits;
	const gchar *rest = (const gchar *)data + 1;
	gsize len = size > 0 ? size - 1 : 0;

	if (size == 0)
		return 0;
	gw_upnp_limits_init(&limits);
	limits.max_document = 64 * 1024;
	if (data[0] == 'D') {
		g_autoptr(GwUpnpDescription) desc = gw_upnp_description_parse(
		    rest, len, "http://192.168.1.2:49152/d.xml", &limits, NULL);
		if (desc != NULL) {
			g_autoptr(GHashTable) taken =
			    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
			for (guint i = 0; i < desc->services->len; i++) {
				GwUpnpServiceDesc *s = g_ptr_array_index(desc->services, i);
				g_autofree gchar *n = gw_upnp_node_name(s->service_id, TRUE, taken);
				g_assert_true(
				    g_str_has_prefix(s->control_url, "http://192.168.1.2"));
				g_assert_null(strchr(n, '/'));
			}
		}
	} else if (data[0] == 'S') {
		g_autoptr(GwUpnpScpd) scpd = gw_upnp_scpd_parse(rest, len, &limits, NULL);
		for (guint i = 0; scpd != NULL && i < scpd->actions->len; i++) {
			GwUpnpAction *a = g_ptr_array_index(scpd->actions, i);
			guint index = 0;
			g_assert_null(strchr(a->node_name, '/'));
			g_assert_cmpuint(a->n_in + a->n_out, ==, a->arguments->len);
			gw_upnp_scpd_find_getter(scpd, a->name, &index);
		}
	} else {
		static GwUpnpScpd *scpd;
		const GwUpnpAction *echo;
		g_auto(GStrv) values = NULL;

		if (scpd == NULL)
			scpd = gw_upnp_scpd_parse(echo_scpd, strlen(echo_scpd), &limits, NULL);
		g_assert_nonnull(scpd);
		echo = gw_upnp_scpd_find_action(scpd, "Echo");
		values = gw_upnp_args_parse(scpd, echo, rest, len, NULL);
		if (values != NULL) {
			const gchar *names[] = {"InText", "InNumber", "Flag", NULL};
			g_autofree gchar *encoded = NULL;
			g_auto(GStrv) again = NULL;
			g_assert_cmpuint(g_strv_length(values), ==, 3);
			/* what the adapter encodes, it parses back to the same values */
			encoded = gw_upnp_args_encode(names, (const gchar *const *)values);
			again = gw_upnp_args_parse(scpd, echo, encoded, strlen(encoded), NULL);
			g_assert_nonnull(again);
			for (guint i = 0; i < 3; i++)
				g_assert_cmpstr(again[i], ==, values[i]);
		}
	}
	return 0;
}
