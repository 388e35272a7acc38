/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target for the TR-069 adapter's CWMP SOAP codec (plugins/tr069/gw-cwmp.c): whatever a
 * CPE sends is parsed within the bounds; what parses, the ACS's builders answer in the same
 * version, and what they build parses back to the same kind and ID.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "../../plugins/tr069/gw-cwmp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GwCwmpMessage) msg = gw_cwmp_parse((const gchar *)data, size, NULL);
	g_autoptr(GPtrArray) names = NULL;
	g_autofree gchar *built = NULL;
	g_autoptr(GwCwmpMessage) back = NULL;

	if (msg == NULL)
		return 0;
	g_assert_cmpuint(msg->version, <=, GW_CWMP_VERSION_MAX);
	g_assert_cmpuint(msg->params->len, <=, GW_CWMP_MAX_PARAMS);
	g_assert_cmpuint(msg->events->len, ==, msg->command_keys->len);
	if (msg->kind == GW_CWMP_MSG_INFORM) {
		g_autofree gchar *id = gw_cwmp_device_id(msg);
		g_assert_nonnull(id);
		built = gw_cwmp_build_inform_response(msg->version, msg->id, msg->max_envelopes);
	} else {
		names = g_ptr_array_new();
		for (guint i = 0; i < msg->params->len; i++) {
			GwCwmpParam *p = g_ptr_array_index(msg->params, i);
			g_autofree gchar *uri = gw_cwmp_path_to_uri(p->name);
			g_autofree gchar *path = gw_cwmp_uri_to_path(uri, NULL);
			g_ptr_array_add(names, p->name);
		}
		g_ptr_array_add(names, NULL);
		built = gw_cwmp_build_get_parameter_values(
		    msg->version, msg->id, (const gchar *const *)names->pdata);
	}
	back = gw_cwmp_parse(built, strlen(built), NULL);
	/* what the ACS builds is within its own bounds unless the CPE's names were huge */
	if (back != NULL) {
		g_assert_cmpuint(back->version, ==, msg->version);
		g_assert_cmpstr(back->id, ==, msg->id != NULL ? msg->id : "");
	}
	return 0;
}
