/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The EDTrigger MO in-process (GwMO-TMode-001, GwMO-SECARIZE-001): a real tree, inventory,
 * southbound and northbound, two DM Server accounts, and a UDP socket standing for the End
 * Device's NotifyAddr. DM commands are run as each server would run them in a session.
 * With the same fixture: queued inventory alerts whose record a crash did not save are dropped
 * when the northbound starts (GwMO-DI-004).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-dm-store.h"
#include "gw-edtrigger.h"
#include "gw-gwmo-mo.h"
#include "gw-northbound.h"
#include "gw-pkg0.h"
#include "gw-southbound.h"
#include "gw-tnds.h"

#define GW_ID "gw-test-gateway"
#define SRV_A "srvA"
#define SRV_B "srvB"
#define SECRET_A "secret-a"
#define SECRET_B "secret-b"

typedef struct {
	gchar *dir;
	GwConfig *config;
	GwDmTree *tree;
	GwDmStore *store;
	GwInventory *inventory;
	GwSouthbound *south;
	GwNorthbound *north;
	GwEdTrigger *edtrigger;
	GSocket *device_socket; /* the End Device's NotifyAddr */
	gchar *notify_addr;
} Fixture;

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		rm_rf(child);
	}
	g_remove(path);
}

static gchar *
account_tnds(const gchar *node, const gchar *server_id, const gchar *secret)
{
	return g_strdup_printf("<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>"
	                       "<Node><NodeName>%s</NodeName><Path>./DMAcc</Path>"
	                       "<Node><NodeName>ServerID</NodeName><Value>%s</Value></Node>"
	                       "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	                       "<Node><NodeName>Addr</NodeName><Value>https://127.0.0.1:9/dm</"
	                       "Value></Node></Node></Node>"
	                       "<Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
	                       "<Node><NodeName>AAuthLevel</NodeName><Value>SRVCRED</Value></Node>"
	                       "<Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	                       "<Node><NodeName>AAuthName</NodeName><Value>%s</Value></Node>"
	                       "<Node><NodeName>AAuthSecret</NodeName><Value>%s</Value></Node>"
	                       "</Node></Node></Node></MgmtTree>",
	                       node,
	                       server_id,
	                       server_id,
	                       secret);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autofree gchar *a = account_tnds("a", SRV_A, SECRET_A);
	g_autofree gchar *b = account_tnds("b", SRV_B, SECRET_B);
	GwDmDeviceInfo info = {
	    .dev_id = GW_ID,
	    .man = "gwmo",
	    .mod = "test-gateway",
	    .dmv = "1.3",
	    .lang = "en-US",
	    .dev_typ = "gateway",
	    .oem = "gwmo",
	    .fwv = "1.0",
	    .swv = "1.0",
	    .hwv = "1.0",
	};

	f->dir = g_dir_make_tmp("gwmo-edtrigger-XXXXXX", &error);
	g_assert_no_error(error);
	f->config = gw_config_new();
	gw_config_set_string(f->config, "southbound", "listen", "");
	gw_config_set_string(f->config, "northbound", "listen", "");
	f->tree = gw_dm_tree_new();
	g_assert_true(gw_dm_tree_install_standard_objects(f->tree, &info, &error));
	g_assert_no_error(error);
	g_assert_true(gw_gwmo_install_objects(f->tree, GW_ID, GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);
	g_assert_true(gw_tnds_import(f->tree, ".", a, strlen(a), GW_TNDS_IMPORT_NONE, &error));
	g_assert_no_error(error);
	g_assert_true(gw_tnds_import(f->tree, ".", b, strlen(b), GW_TNDS_IMPORT_NONE, &error));
	g_assert_no_error(error);
	f->store = gw_dm_store_new(f->tree, f->dir);
	f->inventory = gw_inventory_new(f->tree, f->config);
	g_assert_true(gw_inventory_start(f->inventory, &error));
	g_assert_no_error(error);
	f->south = gw_southbound_new(f->config, f->tree, f->store, f->inventory, f->dir, &error);
	g_assert_no_error(error);
	f->north = gw_northbound_new(f->config, f->tree, f->store, f->dir, &error);
	g_assert_no_error(error);
	gw_northbound_watch_inventory(f->north, f->inventory);
	gw_northbound_set_southbound(f->north, f->south);
	f->edtrigger = gw_edtrigger_new(f->tree, f->north, &error);
	g_assert_no_error(error);

	f->device_socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, &error);
	g_assert_no_error(error);
	g_assert_true(g_socket_bind(f->device_socket, any, TRUE, &error));
	g_assert_no_error(error);
	bound = g_socket_get_local_address(f->device_socket, &error);
	g_assert_no_error(error);
	f->notify_addr = g_strdup_printf(
	    "udp://127.0.0.1:%u", g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
	g_socket_set_blocking(f->device_socket, FALSE);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->edtrigger);
	g_clear_object(&f->north);
	g_clear_object(&f->south);
	g_clear_object(&f->inventory);
	g_clear_object(&f->store);
	g_clear_object(&f->tree);
	g_clear_object(&f->config);
	g_clear_object(&f->device_socket);
	while (g_main_context_iteration(NULL, FALSE))
		;
	rm_rf(f->dir);
	g_free(f->dir);
	g_free(f->notify_addr);
}

/* a device record visible to @server_ids (NULL: to every server) */
static void
add_device(Fixture *f, const gchar *device_id, const gchar *notify_addr, const gchar *server_id)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = NULL;
	const gchar *ids[] = {server_id, NULL};
	GwInventoryDevice info = {0};

	info.device_id = g_strdup(device_id);
	info.mode = GW_GWMO_MODE_TRANSPARENT;
	info.notify_addr = g_strdup(notify_addr);
	info.server_ids = server_id != NULL ? g_strdupv((gchar **)ids) : NULL;
	record = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	g_assert_nonnull(record);
	gw_inventory_device_clear(&info);
}

static guint
add_chr(Fixture *f, const gchar *server_id, const gchar *uri, const gchar *value)
{
	g_autoptr(GBytes) b = g_bytes_new(value, strlen(value));
	return gw_dm_tree_add(f->tree, server_id, uri, GW_DM_FORMAT_CHR, "text/plain", b);
}

static guint
put_bin(Fixture *f, const gchar *server_id, const gchar *uri, GBytes *value)
{
	if (gw_dm_tree_lookup(f->tree, uri) == NULL)
		return gw_dm_tree_add(f->tree, server_id, uri, GW_DM_FORMAT_BIN, NULL, value);
	return gw_dm_tree_replace(f->tree, server_id, uri, GW_DM_FORMAT_BIN, NULL, value);
}

static GBytes *
make_pkg0(const gchar *server_id, const gchar *secret, guint16 session_id)
{
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	n->server_id = g_strdup(server_id);
	n->session_id = session_id;
	n->server_initiated = TRUE;
	n->ui_mode = GW_PKG0_UI_MODE_BACKGROUND;
	/* no nonce from the gateway yet: the all-zero nonce */
	return gw_pkg0_build_with_nonce(n, secret, NULL);
}

static gchar *
status_of(Fixture *f, const gchar *entry)
{
	g_autofree gchar *uri = g_strdup_printf("%s/Status", entry);
	return gw_dm_tree_dup_string(f->tree, uri);
}

/* what reached the device's NotifyAddr (waits up to 2 s for the first datagram) */
static GBytes *
received(Fixture *f, guint wait_ms)
{
	guint8 buf[2048];
	for (guint i = 0; i < wait_ms / 10; i++) {
		gssize n =
		    g_socket_receive(f->device_socket, (gchar *)buf, sizeof(buf), NULL, NULL);
		if (n > 0)
			return g_bytes_new(buf, (gsize)n);
		g_main_context_iteration(NULL, FALSE);
		g_usleep(10 * 1000);
	}
	return NULL;
}

#define T1 "./GwMO/EDTrigger/t1"

/* GwMO-TMode-001: the entry, its ACL, the trigger, the forwarded bytes, the refusals */
static void
test_trigger(Fixture *f, gconstpointer data)
{
	g_autoptr(GBytes) good = make_pkg0(SRV_A, SECRET_A, 0x1234);
	g_autoptr(GBytes) forged = make_pkg0(SRV_A, "wrong", 0x0BAD);
	g_autoptr(GBytes) other = make_pkg0(SRV_B, SECRET_B, 0x0B0B);
	g_autoptr(GBytes) got = NULL;
	g_autoptr(GBytes) nobody = g_bytes_new_static("nobody", 6);
	g_autoptr(GBytes) quiet = g_bytes_new_static("dev-quiet", 9);
	g_autoptr(GBytes) ok200 = g_bytes_new_static("200", 3);
	g_autoptr(GPtrArray) results = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *acl = NULL;
	GwDmNode *node;

	add_device(f, "dev-1", f->notify_addr, SRV_A);
	add_device(f, "dev-quiet", NULL, SRV_A);

	/* any server may create an entry; it is its creator's alone */
	g_assert_cmpuint(
	    gw_dm_tree_add(f->tree, SRV_A, T1, GW_DM_FORMAT_NODE, NULL, NULL), ==, 200);
	node = gw_dm_tree_lookup(f->tree, T1);
	acl = gw_dm_node_dup_acl(node);
	g_assert_cmpstr(acl, ==, "Add=srvA&Delete=srvA&Exec=srvA&Get=srvA&Replace=srvA");
	status = status_of(f, T1);
	g_assert_cmpstr(status, ==, "0");
	g_clear_pointer(&status, g_free);
	g_assert_cmpuint(gw_dm_tree_get(f->tree, SRV_B, T1 "/Status", &results), ==, 425);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_B, T1 "/Operations/Trigger", NULL, NULL), ==, 425);
	g_assert_cmpuint(add_chr(f, SRV_B, T1 "/DeviceID", "dev-1"), ==, 425);

	/* nothing to send yet */
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_A, T1 "/Operations/Trigger", NULL, NULL), ==, 404);
	g_assert_cmpuint(add_chr(f, SRV_A, T1 "/DeviceID", "dev-1"), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_A, T1 "/Operations/Trigger", NULL, NULL), ==, 400);

	/* a forged digest, and another server's genuine Package #0: refused, nothing sent */
	g_assert_cmpuint(put_bin(f, SRV_A, T1 "/Notification", forged), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_A, T1 "/Operations/Trigger", NULL, NULL), ==, 401);
	status = status_of(f, T1);
	g_assert_cmpstr(status, ==, "401");
	g_clear_pointer(&status, g_free);
	g_assert_cmpuint(put_bin(f, SRV_A, T1 "/Notification", other), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_A, T1 "/Operations/Trigger", NULL, NULL), ==, 401);
	got = received(f, 300);
	g_assert_null(got);

	/* the genuine one goes out byte for byte */
	g_assert_cmpuint(put_bin(f, SRV_A, T1 "/Notification", good), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_A, T1 "/Operations/Trigger", NULL, NULL), ==, 200);
	status = status_of(f, T1);
	g_assert_cmpstr(status, ==, "200");
	g_clear_pointer(&status, g_free);
	got = received(f, 2000);
	g_assert_nonnull(got);
	g_assert_true(g_bytes_equal(got, good));
	g_clear_pointer(&got, g_bytes_unref);

	/* unknown device, device without NotifyAddr */
	g_assert_cmpuint(
	    gw_dm_tree_replace(f->tree, SRV_A, T1 "/DeviceID", GW_DM_FORMAT_CHR, NULL, nobody),
	    ==,
	    200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_A, T1 "/Operations/Trigger", NULL, NULL), ==, 404);
	g_assert_cmpuint(
	    gw_dm_tree_replace(f->tree, SRV_A, T1 "/DeviceID", GW_DM_FORMAT_CHR, NULL, quiet),
	    ==,
	    200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_A, T1 "/Operations/Trigger", NULL, NULL), ==, 410);
	status = status_of(f, T1);
	g_assert_cmpstr(status, ==, "410");
	g_clear_pointer(&status, g_free);

	/* the gateway's nodes stay; the creator removes its entry */
	g_assert_cmpuint(gw_dm_tree_delete(f->tree, SRV_A, T1 "/Status"), ==, 405);
	g_assert_cmpuint(
	    gw_dm_tree_replace(f->tree, SRV_A, T1 "/Status", GW_DM_FORMAT_INT, NULL, ok200),
	    ==,
	    405);
	g_assert_cmpuint(gw_dm_tree_delete(f->tree, SRV_B, T1), ==, 425);
	g_assert_cmpuint(gw_dm_tree_delete(f->tree, SRV_A, T1), ==, 200);
	g_assert_null(gw_dm_tree_lookup(f->tree, T1));
}

/* GwMO-SECARIZE-001: server B may not fire a trigger at a device only A may see */
static void
test_not_visible(Fixture *f, gconstpointer data)
{
	g_autoptr(GBytes) pkg0 = make_pkg0(SRV_B, SECRET_B, 0x4242);
	g_autoptr(GBytes) got = NULL;
	g_autofree gchar *status = NULL;

	add_device(f, "dev-a", f->notify_addr, SRV_A);
	/* B's entry made by Adding a leaf: the tree creates the entry, the gateway sets it up */
	g_assert_cmpuint(add_chr(f, SRV_B, "./GwMO/EDTrigger/b1/DeviceID", "dev-a"), ==, 200);
	g_assert_cmpuint(put_bin(f, SRV_B, "./GwMO/EDTrigger/b1/Notification", pkg0), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, SRV_B, "./GwMO/EDTrigger/b1/Operations/Trigger", NULL, NULL),
	    ==,
	    403);
	status = status_of(f, "./GwMO/EDTrigger/b1");
	g_assert_cmpstr(status, ==, "403");
	got = received(f, 300);
	g_assert_null(got);
}

static void
queue(Fixture *f, const gchar *type, const gchar *source, const gchar *data)
{
	g_autoptr(GError) error = NULL;
	GwAlert a = {0};
	a.server_id = (gchar *)SRV_A;
	a.type = (gchar *)type;
	a.source = (gchar *)source;
	a.format = (gchar *)"xml";
	a.data = (gchar *)data;
	g_assert_cmpuint(gw_northbound_queue_alert(f->north, &a, &error), >, 0);
	g_assert_no_error(error);
}

/* GwMO-DI-004 across a crash: what the restarted northbound keeps of the queue */
static void
test_orphan_alerts(Fixture *f, gconstpointer data)
{
	g_autoptr(GwNorthbound) again = NULL;
	g_autoptr(GPtrArray) kept = NULL;
	g_autoptr(GError) error = NULL;
	guint attached = 0;

	/* a genuine alert: the registration queues it for srvA, who may see the device */
	add_device(f, "dev-1", f->notify_addr, SRV_A);
	/* a record that was never saved, a record now holding another device, not inventory */
	queue(f,
	      GW_GWMO_ALERT_DEVICE_ATTACHED,
	      GW_GWMO_INVENTORY_DEVICES "/7",
	      "<GwMODevice><DeviceID>ghost</DeviceID></GwMODevice>");
	queue(f,
	      GW_GWMO_ALERT_DEVICE_ATTACHED,
	      GW_GWMO_INVENTORY_DEVICES "/1",
	      "<GwMODevice><DeviceID>someone-else</DeviceID></GwMODevice>");
	queue(f, GW_GWMO_ALERT_FANOUT_COMPLETE, "./GwMO/Fanout/1", "<GwMOFanoutResult/>");
	kept = gw_alert_queue_list(gw_northbound_get_alert_queue(f->north), SRV_A);
	g_assert_cmpuint(kept->len, ==, 4);
	g_clear_pointer(&kept, g_ptr_array_unref);

	/* a new run on the same state */
	again = gw_northbound_new(f->config, f->tree, f->store, f->dir, &error);
	g_assert_no_error(error);
	g_assert_true(gw_northbound_start(again, &error));
	g_assert_no_error(error);
	kept = gw_alert_queue_list(gw_northbound_get_alert_queue(again), SRV_A);
	g_assert_cmpuint(kept->len, ==, 2);
	for (guint i = 0; i < kept->len; i++) {
		GwAlert *a = g_ptr_array_index(kept, i);
		if (g_strcmp0(a->type, GW_GWMO_ALERT_DEVICE_ATTACHED) == 0) {
			attached++;
			g_assert_nonnull(strstr(a->data, "<DeviceID>dev-1</DeviceID>"));
		} else {
			g_assert_cmpstr(a->type, ==, GW_GWMO_ALERT_FANOUT_COMPLETE);
		}
	}
	g_assert_cmpuint(attached, ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* refusals are logged as warnings: they are the behaviour under test here */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_test_add("/gw/gwmo/edtrigger/trigger",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_trigger,
	           fixture_teardown);
	g_test_add("/gw/gwmo/edtrigger/not-visible",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_not_visible,
	           fixture_teardown);
	g_test_add("/gw/gwmo/northbound/orphan-alerts",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_orphan_alerts,
	           fixture_teardown);
	return g_test_run();
}
