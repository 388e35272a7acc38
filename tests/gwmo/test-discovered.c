/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Discovered records (issue 14 §4, contract point 3): what mDNS browsing reports becomes
 * inventory records with Status Discovered. Here GwDiscovery's signals are emitted by the test
 * (no avahi-daemon: tests/e2e/test-e2e-discovered.c has the real one):
 *  - the TXT is validated (devid= required, printable ASCII; path= an absolute URL path;
 *    the first of a key counts, keys are case-insensitive);
 *  - a new record: Status Discovered, Protocol OMA-DM, Address "addr:port/path", LastSeen, no
 *    credentials; "device-discovered" once, not again when announced again; Summary counts it
 *    as Discovered, not Attached or Detached;
 *  - a record that registers becomes Attached ("device-attached"); an Attached or Detached
 *    record is not demoted nor changed by an announcement;
 *  - [discovery] max-discovered bounds the Discovered records (new ones refused);
 *  - a withdrawn device's record is removed after [discovery] forget-after, not when it is
 *    announced again meanwhile, and never once it registered; the same for every Discovered
 *    record while avahi-daemon cannot be reached, and for those of an earlier run.
 */

#include "config.h"

#include <string.h>

#include "gw-discovered.h"
#include "gw-gwmo-mo.h"
#include "gw-inventory.h"

#define DEVICES GW_GWMO_INVENTORY_DEVICES

static const GwDmDeviceInfo gw_info = {
    .dev_id = "gw-0001",
    .man = "Example Corp",
    .mod = "GW-1",
    .dmv = "1.3",
    .lang = "en-US",
    .dev_typ = "gateway",
    .oem = "Example OEM",
    .fwv = "1.0",
    .swv = "0.1.0",
    .hwv = "rev-b",
};

typedef struct {
	GwDmTree *tree;
	GwConfig *config;
	GwInventory *inv;
	GwDiscovery *discovery; /* never started: the test emits its signals */
	GwDiscovered *discovered;
	GPtrArray *events;
} Fixture;

static void
on_discovered(GwInventory *inv, const gchar *uri, const gchar *id, Fixture *fx)
{
	g_ptr_array_add(fx->events, g_strdup_printf("discovered %s %s", uri, id));
}

static void
on_attached(GwInventory *inv, const gchar *uri, const gchar *id, gboolean is_new, Fixture *fx)
{
	g_ptr_array_add(fx->events,
	                g_strdup_printf("attached %s %s %s", uri, id, is_new ? "new" : "old"));
}

static void
on_removed(GwInventory *inv, const gchar *uri, const gchar *id, Fixture *fx)
{
	g_ptr_array_add(fx->events, g_strdup_printf("removed %s %s", uri, id));
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fx->tree = gw_dm_tree_new();
	g_assert_true(gw_dm_tree_install_standard_objects(fx->tree, &gw_info, &error));
	g_assert_true(gw_gwmo_install_objects(fx->tree, "gw-0001", GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);
	fx->config = gw_config_new();
	gw_config_set_string(fx->config, "discovery", "max-discovered", "3");
	gw_config_set_string(fx->config, "discovery", "forget-after", "0");
	fx->inv = gw_inventory_new(fx->tree, fx->config);
	g_assert_true(gw_inventory_start(fx->inv, &error));
	g_assert_no_error(error);
	fx->events = g_ptr_array_new_with_free_func(g_free);
	g_signal_connect(fx->inv, "device-discovered", G_CALLBACK(on_discovered), fx);
	g_signal_connect(fx->inv, "device-attached", G_CALLBACK(on_attached), fx);
	g_signal_connect(fx->inv, "device-removed", G_CALLBACK(on_removed), fx);
	fx->discovery = gw_discovery_new();
	fx->discovered = gw_discovered_new(fx->config, fx->inv);
	gw_discovered_watch(fx->discovered, fx->discovery);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	g_clear_object(&fx->discovered);
	g_clear_object(&fx->discovery);
	g_clear_object(&fx->inv);
	g_clear_object(&fx->config);
	g_clear_object(&fx->tree);
	g_ptr_array_unref(fx->events);
}

static void
announce(Fixture *fx, const gchar *name, const gchar *address, guint port, const gchar *txt0, ...)
{
	g_autoptr(GPtrArray) txt = g_ptr_array_new();
	const gchar *t;
	va_list ap;

	va_start(ap, txt0);
	for (t = txt0; t != NULL; t = va_arg(ap, const gchar *))
		g_ptr_array_add(txt, (gpointer)t);
	va_end(ap);
	g_ptr_array_add(txt, NULL);
	g_signal_emit_by_name(
	    fx->discovery, "device-found", name, "host.local", address, port, txt->pdata);
}

static void
withdraw(Fixture *fx, const gchar *name)
{
	g_signal_emit_by_name(fx->discovery, "device-lost", name);
}

static gboolean
known(Fixture *fx, const gchar *device_id)
{
	g_autofree gchar *uri = gw_inventory_find(fx->inv, device_id);
	return uri != NULL;
}

static gchar *
leaf(Fixture *fx, const gchar *record, const gchar *name)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record, name);
	return gw_dm_tree_dup_string(fx->tree, uri);
}

static gchar *
summary(Fixture *fx, const gchar *name)
{
	g_autofree gchar *uri = g_strdup_printf(GW_GWMO_INVENTORY_SUMMARY "/%s", name);
	g_autoptr(GPtrArray) results = NULL;
	/* the Get hook computes it */
	g_assert_cmpuint(gw_dm_tree_get(fx->tree, NULL, uri, &results), ==, 200);
	return gw_dm_tree_dup_string(fx->tree, uri);
}

static void
test_parse_txt(void)
{
	struct {
		const gchar *txt[4];
		const gchar *devid;
		const gchar *path;
	} cases[] = {
	    {{"devid=DEV-1", "path=/dm", NULL}, "DEV-1", "/dm"},
	    {{"txtvers=1", "DEVID=IMEI:490154203237518", NULL}, "IMEI:490154203237518", NULL},
	    /* the first of a key counts */
	    {{"devid=first", "devid=second", "path=/a/b%20c", NULL}, "first", "/a/b%20c"},
	    /* missing, empty, no value, a space, control characters, too long, not ASCII */
	    {{"path=/dm", NULL}, NULL, NULL},
	    {{"devid=", NULL}, NULL, NULL},
	    {{"devid", NULL}, NULL, NULL},
	    {{"devid=a b", NULL}, NULL, NULL},
	    {{"devid=a\nb", NULL}, NULL, NULL},
	    {{"devid=d\xc3\xa9v", NULL}, NULL, NULL},
	    {{"devid=DEV-1", "path=dm", NULL}, NULL, NULL},
	    {{"devid=DEV-1", "path=/dm?x=1", NULL}, NULL, NULL},
	    {{"devid=DEV-1", "path=/<script>", NULL}, NULL, NULL},
	    {{"devid=DEV-1", "path", NULL}, NULL, NULL},
	};
	g_autofree gchar *long_id = g_strnfill(129, 'x');
	g_autofree gchar *long_txt = g_strconcat("devid=", long_id, NULL);
	const gchar *long_case[] = {long_txt, NULL};
	g_autofree gchar *devid = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		gboolean ok = gw_discovered_parse_txt(cases[i].txt, &devid, &path, &error);
		g_test_message("case %u", i);
		if (cases[i].devid != NULL) {
			g_assert_no_error(error);
			g_assert_true(ok);
			g_assert_cmpstr(devid, ==, cases[i].devid);
			g_assert_cmpstr(path, ==, cases[i].path);
		} else {
			g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
			g_assert_false(ok);
			g_assert_null(devid);
			g_assert_null(path);
		}
		g_clear_error(&error);
		g_clear_pointer(&devid, g_free);
		g_clear_pointer(&path, g_free);
	}
	g_assert_false(gw_discovered_parse_txt(long_case, &devid, &path, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
}

static void
test_record(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *uri = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *address = NULL;
	g_autofree gchar *protocol = NULL;
	g_autofree gchar *last_seen = NULL;
	g_autofree gchar *v = NULL;
	GwInventoryDevice info = {0};

	announce(fx, "dev one", "192.0.2.7", 4443, "devid=DEV-1", "path=/dm", NULL);
	uri = gw_inventory_find(fx->inv, "DEV-1");
	g_assert_nonnull(uri);
	status = leaf(fx, uri, "Status");
	address = leaf(fx, uri, "Address");
	protocol = leaf(fx, uri, "Protocol");
	last_seen = leaf(fx, uri, "LastSeen");
	g_assert_cmpstr(status, ==, "Discovered");
	g_assert_cmpstr(address, ==, "192.0.2.7:4443/dm");
	g_assert_cmpstr(protocol, ==, "OMA-DM");
	g_assert_nonnull(last_seen);
	g_assert_cmpuint(strlen(last_seen), >, 0);
	g_assert_true(gw_inventory_get_contact(fx->inv, "DEV-1", &info));
	g_assert_null(info.auth_type);
	g_assert_null(info.client_secret);
	gw_inventory_device_clear(&info);
	g_assert_cmpuint(fx->events->len, ==, 1);
	v = g_strdup_printf("discovered %s DEV-1", uri);
	g_assert_cmpstr(g_ptr_array_index(fx->events, 0), ==, v);

	/* announced again (another interface, a new address): no second event; IPv6 */
	announce(fx, "dev one", "fe80::1", 4443, "devid=DEV-1", NULL);
	g_assert_cmpuint(fx->events->len, ==, 1);
	g_free(address);
	address = leaf(fx, uri, "Address");
	g_assert_cmpstr(address, ==, "[fe80::1]:4443");

	/* not counted as Attached or Detached */
	g_free(v);
	v = summary(fx, "Total");
	g_assert_cmpstr(v, ==, "1");
	g_free(v);
	v = summary(fx, "Discovered");
	g_assert_cmpstr(v, ==, "1");
	g_free(v);
	v = summary(fx, "Attached");
	g_assert_cmpstr(v, ==, "0");
	g_free(v);
	v = summary(fx, "Detached");
	g_assert_cmpstr(v, ==, "0");
	g_free(v);
	v = summary(fx, "Proxy");
	g_assert_cmpstr(v, ==, "0");
	/* the lease check leaves it */
	g_assert_cmpuint(gw_inventory_check_leases(fx->inv), ==, 0);
	/* a session's shortcut does not take it */
	g_assert_false(gw_inventory_touch_unchanged(fx->inv, "DEV-1", NULL, NULL, NULL));
}

static void
test_invalid_ignored(Fixture *fx, gconstpointer data)
{
	g_autoptr(GPtrArray) list = NULL;

	announce(fx, "no devid", "192.0.2.1", 4443, "path=/dm", NULL);
	announce(fx, "bad devid", "192.0.2.1", 4443, "devid=a b", NULL);
	announce(fx, "bad path", "192.0.2.1", 4443, "devid=DEV-2", "path=/x?y", NULL);
	announce(fx, "no port", "192.0.2.1", 0, "devid=DEV-3", NULL);
	list = gw_inventory_list(fx->inv);
	g_assert_cmpuint(list->len, ==, 0);
	g_assert_cmpuint(fx->events->len, ==, 0);
}

static void
test_registered_not_demoted(Fixture *fx, gconstpointer data)
{
	GwInventoryDevice reg = {.device_id = (gchar *)"DEV-1",
	                         .address = (gchar *)"10.0.0.1:1",
	                         .auth_type = (gchar *)"DIGEST",
	                         .client_name = (gchar *)"DEV-1",
	                         .client_secret = (gchar *)"s"};
	g_autofree gchar *uri = NULL;
	g_autofree gchar *uri2 = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *address = NULL;
	g_autofree gchar *ev = NULL;
	g_autoptr(GError) error = NULL;

	announce(fx, "dev", "192.0.2.7", 4443, "devid=DEV-1", NULL);
	/* it registers: Attached, "device-attached" (not new: the record was there) */
	uri = gw_inventory_register(fx->inv, &reg, &error);
	g_assert_no_error(error);
	status = leaf(fx, uri, "Status");
	g_assert_cmpstr(status, ==, "Attached");
	g_assert_cmpuint(fx->events->len, ==, 2);
	ev = g_strdup_printf("attached %s DEV-1 old", uri);
	g_assert_cmpstr(g_ptr_array_index(fx->events, 1), ==, ev);
	/* announced again: neither demoted nor changed */
	announce(fx, "dev", "192.0.2.99", 9999, "devid=DEV-1", NULL);
	g_free(status);
	status = leaf(fx, uri, "Status");
	address = leaf(fx, uri, "Address");
	g_assert_cmpstr(status, ==, "Attached");
	g_assert_cmpstr(address, ==, "10.0.0.1:1");
	g_assert_cmpuint(fx->events->len, ==, 2);
	/* detached: still not demoted; withdrawn: not removed */
	g_assert_true(gw_inventory_detach(fx->inv, "DEV-1", &error));
	announce(fx, "dev", "192.0.2.99", 9999, "devid=DEV-1", NULL);
	g_free(status);
	status = leaf(fx, uri, "Status");
	g_assert_cmpstr(status, ==, "Detached");
	withdraw(fx, "dev");
	uri2 = gw_inventory_find(fx->inv, "DEV-1");
	g_assert_cmpstr(uri2, ==, uri);
}

static void
test_bound(Fixture *fx, gconstpointer data)
{
	g_autoptr(GPtrArray) list = NULL;

	/* max-discovered=3: a flood of 50 leaves 3 */
	for (guint i = 0; i < 50; i++) {
		g_autofree gchar *name = g_strdup_printf("flood %u", i);
		g_autofree gchar *txt = g_strdup_printf("devid=FLOOD-%u", i);
		announce(fx, name, "192.0.2.66", 4443, txt, NULL);
	}
	g_assert_cmpuint(gw_inventory_count_discovered(fx->inv), ==, 3);
	g_assert_cmpuint(fx->events->len, ==, 3);
	g_assert_true(known(fx, "FLOOD-0"));
	g_assert_false(known(fx, "FLOOD-3"));
	/* an already recorded one is still refreshed */
	announce(fx, "flood 0", "192.0.2.67", 4443, "devid=FLOOD-0", NULL);
	/* registered devices do not count against the bound */
	{
		GwInventoryDevice reg = {.device_id = (gchar *)"FLOOD-1"};
		g_autoptr(GError) error = NULL;
		g_autofree gchar *uri = gw_inventory_register(fx->inv, &reg, &error);
		g_assert_no_error(error);
	}
	announce(fx, "flood 10", "192.0.2.66", 4443, "devid=FLOOD-10", NULL);
	g_assert_true(known(fx, "FLOOD-10"));
	g_assert_cmpuint(gw_inventory_count_discovered(fx->inv), ==, 3);
	list = gw_inventory_list(fx->inv);
	g_assert_cmpuint(list->len, ==, 4);
}

static void
test_forget(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *uri = NULL;

	/* forget-after=0: withdrawn → removed at once */
	announce(fx, "dev", "192.0.2.7", 4443, "devid=DEV-1", NULL);
	uri = gw_inventory_find(fx->inv, "DEV-1");
	withdraw(fx, "dev");
	g_assert_false(known(fx, "DEV-1"));
	g_assert_null(gw_dm_tree_lookup(fx->tree, uri));
	g_assert_cmpuint(gw_inventory_count_discovered(fx->inv), ==, 0);

	/* two services name the same device: removed once both are gone */
	announce(fx, "a", "192.0.2.7", 4443, "devid=DEV-2", NULL);
	announce(fx, "b", "192.0.2.8", 4443, "devid=DEV-2", NULL);
	withdraw(fx, "a");
	g_assert_true(known(fx, "DEV-2"));
	withdraw(fx, "b");
	g_assert_false(known(fx, "DEV-2"));

	/* with a grace: announced again in time, kept */
	gw_config_set_string(fx->config, "discovery", "forget-after", "1");
	announce(fx, "c", "192.0.2.7", 4443, "devid=DEV-3", NULL);
	withdraw(fx, "c");
	g_assert_true(known(fx, "DEV-3"));
	announce(fx, "c", "192.0.2.7", 4443, "devid=DEV-3", NULL);
	/* withdrawn for good: gone once the grace is over */
	announce(fx, "d", "192.0.2.9", 4443, "devid=DEV-4", NULL);
	withdraw(fx, "d");
	{
		gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
		while (known(fx, "DEV-4") && g_get_monotonic_time() < deadline)
			g_main_context_iteration(NULL, TRUE);
	}
	g_assert_false(known(fx, "DEV-4"));
	g_assert_true(known(fx, "DEV-3"));
}

static void
test_daemon_gone(Fixture *fx, gconstpointer data)
{
	/* no avahi-daemon to be reached: GwDiscovery leaves "running" (here: never got there)
	 * and reports again once it is back; until then the devices count as withdrawn */
	announce(fx, "dev", "192.0.2.7", 4443, "devid=DEV-1", NULL);
	g_assert_true(known(fx, "DEV-1"));
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/gwmo-test-bus", TRUE);
	gw_discovery_start(fx->discovery);
	g_assert_cmpint(gw_discovery_get_state(fx->discovery), !=, GW_DISCOVERY_STATE_RUNNING);
	g_assert_false(known(fx, "DEV-1"));
	gw_discovery_stop(fx->discovery);
}

static void
test_earlier_run(Fixture *fx, gconstpointer data)
{
	g_autoptr(GwDiscovery) discovery = gw_discovery_new();
	g_autoptr(GwDiscovered) discovered = NULL;
	GwInventoryDevice reg = {.device_id = (gchar *)"DEV-2"};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;

	/* records of an earlier run: the Discovered one goes unless announced again */
	announce(fx, "dev", "192.0.2.7", 4443, "devid=DEV-1", NULL);
	announce(fx, "dev2", "192.0.2.8", 4443, "devid=DEV-2", NULL);
	uri = gw_inventory_register(fx->inv, &reg, &error);
	g_assert_no_error(error);
	discovered = gw_discovered_new(fx->config, fx->inv);
	gw_discovered_watch(discovered, discovery);
	g_assert_false(known(fx, "DEV-1"));
	g_assert_true(known(fx, "DEV-2"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/discovered/parse-txt", test_parse_txt);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/discovered/record", test_record);
	ADD("/discovered/invalid-ignored", test_invalid_ignored);
	ADD("/discovered/registered-not-demoted", test_registered_not_demoted);
	ADD("/discovered/bound", test_bound);
	ADD("/discovered/forget", test_forget);
	ADD("/discovered/daemon-gone", test_daemon_gone);
	ADD("/discovered/earlier-run", test_earlier_run);
	return g_test_run();
}
