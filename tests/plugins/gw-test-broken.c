/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Test modules the loader must refuse (built, never installed); meson picks one:
 *   GW_TEST_WRONG_ABI      gw_plugin_api_version is not this SDK's
 *   GW_TEST_MISSING_SYMBOL calls a function the SDK does not have (built against a newer one)
 *   GW_TEST_NOT_A_PLUGIN   gw_plugin_query_type() returns a type that is not a GwPlugin
 *   GW_TEST_ABSTRACT       gw_plugin_query_type() returns GwPlugin itself (abstract)
 */

#include <gw-plugin-sdk.h>
#include <stdlib.h>

#ifdef GW_TEST_WRONG_ABI
/* what GW_PLUGIN_DEFINE_MODULE() of a future SDK would define */
G_MODULE_EXPORT const guint32 gw_plugin_api_version = GW_PLUGIN_API_VERSION + 41;
G_MODULE_EXPORT GType
gw_plugin_query_type(void);
G_MODULE_EXPORT GType
gw_plugin_query_type(void)
{
	/* the loader must never get here */
	g_printerr("the loader called gw_plugin_query_type() of a module with the wrong ABI\n");
	abort();
}
#endif

#ifdef GW_TEST_MISSING_SYMBOL
/* a function of a newer SDK, which this one does not have */
void
gw_plugin_set_something_new(GwPlugin *self, gint value);

static GType
gw_test_missing_get_type(void)
{
	gw_plugin_set_something_new(NULL, 1);
	return G_TYPE_INVALID;
}
GW_PLUGIN_DEFINE_MODULE(gw_test_missing_get_type())
#endif

#ifdef GW_TEST_NOT_A_PLUGIN
GW_PLUGIN_DEFINE_MODULE(G_TYPE_OBJECT)
#endif

#ifdef GW_TEST_ABSTRACT
GW_PLUGIN_DEFINE_MODULE(GW_TYPE_PLUGIN)
#endif
