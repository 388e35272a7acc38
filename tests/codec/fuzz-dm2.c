/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: the DM 2.0 JSON codec and the ClientURIs it carries. The first byte picks the
 * package (1..3, modulo 3), the rest is the message. Invariants: a refusal is GW_ERROR_PROTOCOL;
 * a parsed message generates, parses back equal and generates the same bytes again; every
 * ClientURI of a command parses or is refused with GW_ERROR_INVALID_URI, and a parsed one
 * resolves against a small tree or is refused with NOT_FOUND/INVALID_URI.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gw-dm2-uri.h"
#include "gw-dm2.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static GwDmTree *
fuzz_tree(void)
{
	static GwDmTree *tree = NULL;

	if (tree == NULL) {
		tree = gw_dm_tree_new();
		g_assert_true(gw_dm_tree_ensure_interior(tree, "./A/left/Data/1", NULL));
		g_assert_true(
		    gw_dm_tree_set_mime_type(tree, "./A/left", "urn:oma:mo:moid:1.0", NULL));
		g_assert_true(
		    gw_dm_tree_set_leaf_string(tree, "./A/left/ID", GW_DM_FORMAT_CHR, "GPS", NULL));
		g_assert_true(gw_dm_tree_set_leaf_string(
		    tree, "./A/left/Data/1/Value", GW_DM_FORMAT_CHR, "1", NULL));
		g_assert_true(gw_dm_tree_ensure_interior(tree, "./B/right", NULL));
		g_assert_true(
		    gw_dm_tree_set_mime_type(tree, "./B/right", "urn:oma:mo:moid:1.0", NULL));
	}
	return tree;
}

static void
fuzz_client_uri(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2ClientUri) uri = gw_dm2_client_uri_parse(text, &error);
	g_autoptr(GPtrArray) uris = NULL;

	if (uri == NULL) {
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_URI);
		return;
	}
	uris = gw_dm2_client_uri_resolve(uri, fuzz_tree(), &error);
	if (uris == NULL)
		g_assert_true(g_error_matches(error, GW_ERROR, GW_ERROR_NOT_FOUND) ||
		              g_error_matches(error, GW_ERROR, GW_ERROR_INVALID_URI));
	else
		g_assert_cmpuint(uris->len, >, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDm2Message) msg = NULL;
	g_autoptr(GwDm2Message) back = NULL;
	g_autoptr(GBytes) json = NULL;
	g_autoptr(GBytes) json2 = NULL;
	GwDm2Package package;

	if (size < 1)
		return 0;
	package = (GwDm2Package)(data[0] % 3 + 1);
	msg = gw_dm2_message_parse(package, data + 1, size - 1, 0, &error);
	if (msg == NULL) {
		g_assert_error(error, GW_ERROR, GW_ERROR_PROTOCOL);
		return 0;
	}
	json = gw_dm2_message_to_json(msg, &error);
	g_assert_no_error(error);
	back = gw_dm2_message_parse(
	    package, g_bytes_get_data(json, NULL), g_bytes_get_size(json), 0, &error);
	g_assert_no_error(error);
	g_assert_true(gw_dm2_message_equal(msg, back));
	json2 = gw_dm2_message_to_json(back, &error);
	g_assert_no_error(error);
	g_assert_true(g_bytes_equal(json, json2));
	if (msg->commands != NULL) {
		for (guint i = 0; i < msg->commands->len; i++) {
			const GwDm2Command *cmd = g_ptr_array_index(msg->commands, i);
			for (guint j = 0; j < cmd->client_uris->len; j++)
				fuzz_client_uri(g_ptr_array_index(cmd->client_uris, j));
		}
	}
	return 0;
}
