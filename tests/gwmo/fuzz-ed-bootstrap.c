/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: what a client controls of GET /bootstrap (gw-ed-bootstrap.h). The input is
 * three lines: the dev query value, the Host header, the Accept header. A dev the checks let
 * through is put into a bootstrap message with the address made of the Host (or a fallback);
 * invariants: the message encodes (XML, and WBXML when Accept prefers it), decodes back equal
 * to what was built, names the device as its Target and CLCRED AAuthName, and holds no item
 * outside ./DMAcc/gwmo-<GwID>; a Host that is not a plain host[:port] gives no address.
 * The whole input is also the Data of an Exec of Operations/Bootstrap (GwMO-HLF-006): when it
 * parses, every field is set, the Add it makes stays below ./DMAcc/<one node> and
 * round-trips in a message.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-ed-bootstrap.h"
#include "gw-wbxml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_round_trip(GwSyncmlMessage *msg, gboolean wbxml, const gchar *dev)
{
	g_autoptr(GBytes) bytes = gw_ed_bootstrap_encode(msg, wbxml, NULL);
	g_autoptr(GwSyncmlMessage) back = NULL;
	const GwSyncmlCommand *add;

	g_assert(bytes != NULL);
	back = gw_syncml_message_decode(
	    bytes, wbxml ? GW_SYNCML_DM_WBXML_TYPE : GW_SYNCML_DM_XML_TYPE, NULL, NULL);
	g_assert(back != NULL);
	g_assert(gw_syncml_message_equal(msg, back));
	g_assert(strcmp(back->hdr.target_uri, dev) == 0);
	g_assert(back->commands->len == 1);
	add = g_ptr_array_index(back->commands, 0);
	for (guint i = 0; i < add->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(add->items, i);
		g_assert(g_str_has_prefix(item->target_uri, "./DMAcc/gwmo-GW-FUZZ"));
		if (g_str_has_suffix(item->target_uri, "/AppAuth/1/AAuthName"))
			g_assert(strcmp(item->data, dev) == 0);
	}
}

static void
check_server_request(const uint8_t *data, size_t size)
{
	g_auto(GwEdServerAccount) a = {0};
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GwSyncmlMessage) back = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *prefix = NULL;
	GwSyncmlCommand *add;

	if (!gw_ed_bootstrap_parse_server_request((const gchar *)data, size, &a, NULL)) {
		g_assert(a.server_id == NULL && a.secret == NULL);
		return;
	}
	g_assert(a.server_id != NULL && a.name != NULL && a.secret != NULL &&
	         a.server_secret != NULL);
	if (a.addr == NULL)
		a.addr = g_strdup("https://dm.example/dm");
	name = gw_ed_bootstrap_server_account_name(a.server_id);
	g_assert(strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
	prefix = g_strdup_printf("./DMAcc/%s", name);
	add = gw_ed_bootstrap_build_server_add(&a);
	for (guint i = 0; i < add->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(add->items, i);
		g_assert(g_str_has_prefix(item->target_uri, prefix));
	}
	msg = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, "0", 1, "dev", "GW-FUZZ");
	gw_syncml_message_add_command(msg, add);
	bytes = gw_ed_bootstrap_encode(msg, FALSE, NULL);
	g_assert(bytes != NULL);
	back = gw_syncml_message_decode(bytes, GW_SYNCML_DM_XML_TYPE, NULL, NULL);
	g_assert(back != NULL && gw_syncml_message_equal(msg, back));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree gchar *text = g_strndup((const gchar *)data, size);
	g_auto(GStrv) lines = g_strsplit(text, "\n", 3);
	const gchar *dev = lines[0];
	const gchar *host = lines[0] != NULL ? lines[1] : NULL;
	const gchar *accept = host != NULL ? lines[2] : NULL;
	g_autofree gchar *url = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	GwEdBootstrapAccount account = {
	    .gw_id = "GW-FUZZ",
	    .client_secret = "00112233445566778899aabbccddeeff",
	    .server_secret = "ffeeddccbbaa99887766554433221100",
	    .lapse_timer = 60,
	};
	gboolean wbxml = gw_ed_bootstrap_accept_prefers_wbxml(accept);

	check_server_request(data, size);

	url = gw_ed_bootstrap_dm_url(host, size % 2 == 0);
	if (url != NULL) {
		g_assert(strchr(url, '/') != NULL && strchr(url, '?') == NULL &&
		         strchr(url, ' ') == NULL && g_str_has_suffix(url, "/dm"));
	}
	if (dev == NULL || !gw_ed_bootstrap_validate_device_id(dev, NULL))
		return 0;
	account.device_id = dev;
	account.dm_url = url != NULL ? url : "http://127.0.0.1:7080/dm";
	msg = gw_ed_bootstrap_build_message(&account);
	g_assert(msg != NULL);
	check_round_trip(msg, FALSE, dev);
	if (wbxml)
		check_round_trip(msg, TRUE, dev);
	return 0;
}
