/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Fanout MO on a DM tree, without a network: jobs a DM Server Adds carry its ACL,
 * Operations/Start validates the job, devices that are not driven get their status (404
 * unknown, 406 Transparent, 503 an Adaptation device without adapter), the aggregated document and
 * its aggregates, and a job that was InProgress resumes without driving devices whose result is
 * recorded. (The end-to-end tests with real devices are tests/e2e/test-e2e-fanout.c.)
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gw-fanout.h"
#include "gw-gwmo-mo.h"
#include "gw-omadm-adapter.h"

#define GW_ID "GW-UNIT-0001"

typedef struct {
	gchar *dir;
	GwConfig *config;
	GwDmTree *tree;
	GwDmStore *store;
	GwInventory *inventory;
	GwSouthbound *south;
	GwAdapters *adapters;
	GwFanout *fanout;
	guint finished;
	gchar *last_doc;
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

static void
finished_cb(GwFanout *fanout, const gchar *uri, const gchar *doc, gpointer user_data)
{
	Fixture *f = user_data;
	f->finished++;
	g_free(f->last_doc);
	f->last_doc = g_strdup(doc);
}

static void
register_device(Fixture *f, const gchar *id, guint mode)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	GwInventoryDevice info = {0};
	info.device_id = g_strdup(id);
	info.mode = mode;
	/* Adaptation needs an adapter for the device's protocol (main() registers one) */
	if (mode == GW_GWMO_MODE_ADAPTATION)
		info.protocol = g_strdup("Zigbee");
	uri = gw_inventory_register(f->inventory, &info, &error);
	g_assert_no_error(error);
	g_assert_nonnull(uri);
	gw_inventory_device_clear(&info);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	GwDmDeviceInfo info = {
	    .dev_id = GW_ID,
	    .man = "gwmo",
	    .mod = "unit",
	    .dmv = "1.3",
	    .lang = "en-US",
	    .dev_typ = "gateway",
	    .oem = "gwmo",
	    .fwv = "1",
	    .swv = "1",
	    .hwv = "1",
	};

	f->dir = g_dir_make_tmp("gwmo-fanout-XXXXXX", &error);
	g_assert_no_error(error);
	f->config = gw_config_new();
	f->tree = gw_dm_tree_new();
	g_assert_true(gw_dm_tree_install_standard_objects(f->tree, &info, &error));
	g_assert_true(gw_gwmo_install_objects(f->tree, GW_ID, GW_GWMO_MODE_PROXY, &error));
	g_assert_no_error(error);
	f->store = gw_dm_store_new(f->tree, f->dir);
	f->inventory = gw_inventory_new(f->tree, f->config);
	g_assert_true(gw_inventory_start(f->inventory, &error));
	f->south = gw_southbound_new(f->config, f->tree, f->store, f->inventory, f->dir, &error);
	g_assert_no_error(error);
	f->adapters = gw_adapters_new(f->tree, f->inventory);
	{
		g_autoptr(GwPlugin) omadm = gw_omadm_adapter_new(f->south);
		g_assert_true(
		    gw_adapters_register(f->adapters, omadm, GW_ADAPTER_FLAG_OWN_TREE, &error));
	}
	register_device(f, "trans-1", GW_GWMO_MODE_TRANSPARENT);
	register_device(f, "adapt-1", GW_GWMO_MODE_ADAPTATION);
}

static void
fixture_start_fanout(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	f->fanout = gw_fanout_new(f->config, f->tree, f->store, f->inventory, f->adapters, NULL);
	g_signal_connect(f->fanout, "job-finished", G_CALLBACK(finished_cb), f);
	g_assert_true(gw_fanout_start(f->fanout, &error));
	g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->fanout);
	g_clear_object(&f->adapters);
	g_clear_object(&f->south);
	g_clear_object(&f->inventory);
	g_clear_object(&f->store);
	g_clear_object(&f->tree);
	g_clear_object(&f->config);
	while (g_main_context_iteration(NULL, FALSE))
		;
	rm_rf(f->dir);
	g_free(f->dir);
	g_free(f->last_doc);
}

static guint
add_leaf(Fixture *f, const gchar *server, const gchar *uri, const gchar *format, const gchar *value)
{
	g_autoptr(GBytes) data = value != NULL ? g_bytes_new(value, strlen(value)) : NULL;
	return gw_dm_tree_add(
	    f->tree, server, uri, gw_dm_format_from_string(format), "text/plain", data);
}

static gchar *
value_of(Fixture *f, const gchar *uri)
{
	return gw_dm_tree_dup_string(f->tree, uri);
}

static void
wait_finished(Fixture *f, guint count)
{
	gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (f->finished < count && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(f->finished, ==, count);
}

/* GwMO-FORA-001: a job belongs to the server that made it; devices outside Proxy mode and
 * unknown ones get their status without being driven; GwMO-FORA-002: the document */
static void
test_acl_and_statuses(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) results = NULL;
	g_autoptr(GBytes) complete = g_bytes_new_static("Complete", 8);
	g_autofree gchar *v = NULL;

	fixture_start_fanout(f);
	g_assert_cmpuint(
	    gw_dm_tree_add(f->tree, "srv1", "./GwMO/Fanout/j1", GW_DM_FORMAT_NODE, NULL, NULL),
	    ==,
	    200);
	g_assert_cmpuint(add_leaf(f, "srv1", "./GwMO/Fanout/j1/Command", "chr", "Get"), ==, 200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/j1/TargetURI", "chr", "./DevInfo/FwV"), ==, 200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/j1/Targets/Devices/1", "chr", "ghost"), ==, 200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/j1/Targets/Devices/2", "chr", "trans-1"), ==, 200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/j1/Targets/Devices/3", "chr", "adapt-1"), ==, 200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/j1/Targets/Devices/4", "chr", "ghost"), ==, 200);

	/* another server sees nothing of it and cannot run it */
	g_assert_cmpuint(
	    gw_dm_tree_get(f->tree, "srv2", "./GwMO/Fanout/j1/State", &results), ==, 425);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, "srv2", "./GwMO/Fanout/j1/Operations/Start", NULL, "x"),
	    ==,
	    425);
	g_assert_cmpuint(gw_dm_tree_delete(f->tree, "srv2", "./GwMO/Fanout/j1"), ==, 425);
	g_assert_cmpuint(add_leaf(f, "srv2", "./GwMO/Fanout/j1/Data", "chr", "x"), ==, 425);
	/* the gateway's own nodes are read-only */
	g_assert_cmpuint(
	    gw_dm_tree_replace(
	        f->tree, "srv1", "./GwMO/Fanout/j1/State", GW_DM_FORMAT_CHR, NULL, complete),
	    ==,
	    405);
	v = value_of(f, "./GwMO/Fanout/j1/State");
	g_assert_cmpstr(v, ==, "Idle");
	g_clear_pointer(&v, g_free);

	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, "srv1", "./GwMO/Fanout/j1/Operations/Start", NULL, "c1"),
	    ==,
	    202);
	v = value_of(f, "./GwMO/Fanout/j1/State");
	g_assert_cmpstr(v, ==, "InProgress");
	g_clear_pointer(&v, g_free);
	/* running: a second Start is refused */
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, "srv1", "./GwMO/Fanout/j1/Operations/Start", NULL, "c2"),
	    ==,
	    409);
	wait_finished(f, 1);
	/* one result per device (the duplicate is dropped), in order */
	g_assert_nonnull(
	    strstr(f->last_doc,
	           "<GwMOFanoutResult job=\"./GwMO/Fanout/j1\" state=\"PartialFailure\" "
	           "total=\"3\" succeeded=\"0\" failed=\"3\">"));
	/* an Adaptation device goes to the adapter of its protocol (issue 12); none is loaded for
	 * Zigbee here, only announced: 503 */
	g_assert_nonnull(strstr(f->last_doc,
	                        "<Device id=\"ghost\" status=\"404\"/>\n  <Device id=\"trans-1\" "
	                        "status=\"406\"/>\n  <Device id=\"adapt-1\" status=\"503\"/>"));
	v = value_of(f, "./GwMO/Fanout/j1/Results/2/StatusCode");
	g_assert_cmpstr(v, ==, "406");
	g_clear_pointer(&v, g_free);
	v = value_of(f, "./GwMO/Fanout/j1/Summary/Failed");
	g_assert_cmpstr(v, ==, "3");
	g_clear_pointer(&v, g_free);
	v = value_of(f, "./GwMO/Fanout/j1/AggregatedResult");
	g_assert_cmpstr(v, ==, f->last_doc);
	g_clear_pointer(&v, g_free);
	v = value_of(f, "./GwMO/Fanout/j1/Ext/Correlator");
	g_assert_cmpstr(v, ==, "c1");
	g_clear_pointer(&v, g_free);
	g_assert_cmpuint(
	    gw_dm_tree_get(f->tree, "srv1", "./GwMO/Fanout/j1/AggregatedResult", &results),
	    ==,
	    200);

	/* the owner deletes it */
	g_assert_cmpuint(gw_dm_tree_delete(f->tree, "srv1", "./GwMO/Fanout/j1"), ==, 200);
	g_assert_null(gw_dm_tree_lookup(f->tree, "./GwMO/Fanout/j1"));
}

/* bad jobs are refused at Start with a status, and nothing runs */
static void
test_bad_jobs(Fixture *f, gconstpointer data)
{
	g_autofree gchar *v = NULL;

	fixture_start_fanout(f);
	/* unknown command */
	g_assert_cmpuint(
	    gw_dm_tree_add(f->tree, "srv1", "./GwMO/Fanout/b1", GW_DM_FORMAT_NODE, NULL, NULL),
	    ==,
	    200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/b1/Command", "chr", "Frobnicate"), ==, 200);
	g_assert_cmpuint(add_leaf(f, "srv1", "./GwMO/Fanout/b1/TargetURI", "chr", "./X"), ==, 200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/b1/Targets/Group", "chr", "g"), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, "srv1", "./GwMO/Fanout/b1/Operations/Start", NULL, NULL),
	    ==,
	    400);
	/* no targets */
	g_assert_cmpuint(
	    gw_dm_tree_add(f->tree, "srv1", "./GwMO/Fanout/b2", GW_DM_FORMAT_NODE, NULL, NULL),
	    ==,
	    200);
	g_assert_cmpuint(add_leaf(f, "srv1", "./GwMO/Fanout/b2/Command", "chr", "Get"), ==, 200);
	g_assert_cmpuint(add_leaf(f, "srv1", "./GwMO/Fanout/b2/TargetURI", "chr", "./X"), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, "srv1", "./GwMO/Fanout/b2/Operations/Start", NULL, NULL),
	    ==,
	    400);
	/* unknown group */
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/b2/Targets/Group", "chr", "nosuchgroup"), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, "srv1", "./GwMO/Fanout/b2/Operations/Start", NULL, NULL),
	    ==,
	    404);
	/* bad aggregate */
	g_assert_cmpuint(
	    gw_dm_tree_add(f->tree, "srv1", "./GwMO/Fanout/b3", GW_DM_FORMAT_NODE, NULL, NULL),
	    ==,
	    200);
	g_assert_cmpuint(add_leaf(f, "srv1", "./GwMO/Fanout/b3/Command", "chr", "Get"), ==, 200);
	g_assert_cmpuint(add_leaf(f, "srv1", "./GwMO/Fanout/b3/TargetURI", "chr", "./X"), ==, 200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/b3/Targets/Devices/1", "chr", "ghost"), ==, 200);
	g_assert_cmpuint(
	    add_leaf(f, "srv1", "./GwMO/Fanout/b3/Aggregate", "chr", "median"), ==, 200);
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, "srv1", "./GwMO/Fanout/b3/Operations/Start", NULL, NULL),
	    ==,
	    400);
	v = value_of(f, "./GwMO/Fanout/b3/State");
	g_assert_cmpstr(v, ==, "Idle");
	/* Cancel of a job that does not run: nothing to do */
	g_assert_cmpuint(
	    gw_dm_tree_exec(f->tree, "srv1", "./GwMO/Fanout/b3/Operations/Cancel", NULL, NULL),
	    ==,
	    200);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(f->finished, ==, 0);
}

/* GwMO-FORA-002: a job that was InProgress when gwmod stopped resumes on start; devices with
 * a recorded result are not driven again (the southbound is not even started here), and the
 * aggregates are computed over the recorded answers */
static void
test_resume_and_aggregate(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const gchar *ids[] = {"d1", "d2", "d3", "d4", "d5"};
	const gchar *status[] = {"200", "200", "200", "200", "408"};
	const gchar *values[] = {"5", "7", "7", "seven", NULL};
	g_autofree gchar *v = NULL;

	g_assert_true(gw_dm_tree_ensure_interior(f->tree, "./GwMO/Fanout/r", &error));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    f->tree, "./GwMO/Fanout/r/Command", GW_DM_FORMAT_CHR, "Get", &error));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    f->tree, "./GwMO/Fanout/r/TargetURI", GW_DM_FORMAT_CHR, "./Sensor/T", &error));
	g_assert_true(gw_dm_tree_set_leaf_string(f->tree,
	                                         "./GwMO/Fanout/r/Aggregate",
	                                         GW_DM_FORMAT_CHR,
	                                         "count,min,max,sum,distinct",
	                                         &error));
	g_assert_true(gw_dm_tree_set_leaf_string(
	    f->tree, "./GwMO/Fanout/r/State", GW_DM_FORMAT_CHR, "InProgress", &error));
	for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_autofree gchar *id_uri =
		    g_strdup_printf("./GwMO/Fanout/r/Results/%u/DeviceID", i + 1);
		g_autofree gchar *st_uri =
		    g_strdup_printf("./GwMO/Fanout/r/Results/%u/StatusCode", i + 1);
		g_autofree gchar *data_uri =
		    g_strdup_printf("./GwMO/Fanout/r/Results/%u/Data", i + 1);
		g_assert_true(
		    gw_dm_tree_set_leaf_string(f->tree, id_uri, GW_DM_FORMAT_CHR, ids[i], &error));
		g_assert_true(gw_dm_tree_set_leaf_string(
		    f->tree, st_uri, GW_DM_FORMAT_INT, status[i], &error));
		if (values[i] != NULL)
			g_assert_true(gw_dm_tree_set_leaf_string(
			    f->tree, data_uri, GW_DM_FORMAT_CHR, values[i], &error));
	}
	g_assert_no_error(error);
	fixture_start_fanout(f);
	wait_finished(f, 1);
	g_assert_nonnull(strstr(
	    f->last_doc, "state=\"PartialFailure\" total=\"5\" succeeded=\"4\" failed=\"1\""));
	g_assert_nonnull(strstr(f->last_doc,
	                        "<Aggregate count=\"4\" numeric=\"3\" min=\"5\" max=\"7\" "
	                        "sum=\"19\" distinct=\"3\"/>"));
	g_assert_nonnull(
	    strstr(f->last_doc,
	           "<Device id=\"d4\" status=\"200\"><Data format=\"chr\">seven</Data></Device>"));
	g_assert_nonnull(strstr(f->last_doc, "<Device id=\"d5\" status=\"408\"/>"));
	v = value_of(f, "./GwMO/Fanout/r/Summary/Succeeded");
	g_assert_cmpstr(v, ==, "4");
	g_clear_pointer(&v, g_free);
	/* the southbound never ran a session or queued a command */
	g_assert_cmpuint(gw_southbound_get_session_count(f->south), ==, 0);
}

/* the D-Bus path: create_job checks the spec */
static void
test_create_job(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *v = NULL;
	gchar *devices[] = {(gchar *)"trans-1", NULL};
	GwFanoutSpec spec = {0};
	GwFanoutJobInfo info = {0};

	fixture_start_fanout(f);
	spec.command = (gchar *)"Get";
	spec.target_uri = (gchar *)"./DevInfo/Mod";
	uri = gw_fanout_create_job(f->fanout, &spec, NULL, &error);
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS); /* no targets */
	g_assert_null(uri);
	g_clear_error(&error);
	spec.devices = devices;
	spec.command = (gchar *)"Copy";
	g_assert_null(gw_fanout_create_job(f->fanout, &spec, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	spec.command = (gchar *)"Get";
	spec.target_uri = (gchar *)"DevInfo";
	g_assert_null(gw_fanout_create_job(f->fanout, &spec, NULL, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	spec.target_uri = (gchar *)"./DevInfo/Mod";
	uri = gw_fanout_create_job(f->fanout, &spec, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(uri, ==, "./GwMO/Fanout/1");
	v = value_of(f, "./GwMO/Fanout/1/Timeout");
	g_assert_cmpstr(v, ==, "60");
	g_clear_pointer(&v, g_free);
	v = value_of(f, "./GwMO/Fanout/1/MaxInFlight");
	g_assert_cmpstr(v, ==, "32");
	g_assert_true(gw_fanout_start_job(f->fanout, uri, &error));
	g_assert_no_error(error);
	wait_finished(f, 1);
	g_assert_true(gw_fanout_get_job_info(f->fanout, uri, &info));
	g_assert_cmpstr(info.state, ==, "PartialFailure");
	g_assert_cmpuint(info.total, ==, 1);
	g_assert_cmpuint(info.failed, ==, 1);
	gw_fanout_job_info_clear(&info);
	g_assert_false(gw_fanout_cancel_job(f->fanout, uri, &error));
	g_assert_error(error, GW_ERROR, GW_ERROR_WRONG_STATE);
}

/* a job made by a DM Server with @limit set to @value; returns the status of its Start */
static guint
start_with_limit(Fixture *f, const gchar *name, const gchar *limit, const gchar *value)
{
	g_autofree gchar *job = g_strdup_printf("./GwMO/Fanout/%s", name);
	g_autofree gchar *cmd = g_strdup_printf("%s/Command", job);
	g_autofree gchar *target = g_strdup_printf("%s/TargetURI", job);
	g_autofree gchar *dev = g_strdup_printf("%s/Targets/Devices/1", job);
	g_autofree gchar *lim = g_strdup_printf("%s/%s", job, limit);
	g_autofree gchar *start = g_strdup_printf("%s/Operations/Start", job);

	g_assert_cmpuint(
	    gw_dm_tree_add(f->tree, "srv1", job, GW_DM_FORMAT_NODE, NULL, NULL), ==, 200);
	g_assert_cmpuint(add_leaf(f, "srv1", cmd, "chr", "Get"), ==, 200);
	g_assert_cmpuint(add_leaf(f, "srv1", target, "chr", "./DevInfo/FwV"), ==, 200);
	g_assert_cmpuint(add_leaf(f, "srv1", dev, "chr", "ghost"), ==, 200);
	g_assert_cmpuint(add_leaf(f, "srv1", lim, "int", value), ==, 200);
	return gw_dm_tree_exec(f->tree, "srv1", start, NULL, NULL);
}

/* issue 11 §4: MaxInFlight 0 was taken (and a job that drives 0 devices at once never ends);
 * Timeout 0 likewise. A DM Server's job asks for 1 … 65,536 at once and 1 … 86,400 s per
 * device, else its Start gets 400 and nothing runs; the D-Bus spec is refused the same way */
static void
test_limits(Fixture *f, gconstpointer data)
{
	static const struct {
		const gchar *limit;
		const gchar *value;
		guint status;
	} cases[] = {
	    {"MaxInFlight", "0", 400},
	    {"MaxInFlight", "65537", 400},
	    {"MaxInFlight", "-1", 400},
	    {"Timeout", "0", 400},
	    {"Timeout", "86401", 400},
	    {"Timeout", "-5", 400},
	    {"MaxInFlight", "1", 202},
	    {"Timeout", "1", 202},
	    {"MaxInFlight", "65536", 202},
	    {"Timeout", "86400", 202},
	};
	gchar *devices[] = {(gchar *)"ghost", NULL};
	GwFanoutSpec spec = {0};
	guint started = 0;

	fixture_start_fanout(f);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *name = g_strdup_printf("l%u", i);
		g_autofree gchar *state_uri = g_strdup_printf("./GwMO/Fanout/%s/State", name);
		g_autofree gchar *state = NULL;
		guint status = start_with_limit(f, name, cases[i].limit, cases[i].value);

		g_test_message("%s = %s: %u", cases[i].limit, cases[i].value, status);
		g_assert_cmpuint(status, ==, cases[i].status);
		state = value_of(f, state_uri);
		if (status == 202) {
			started++;
		} else {
			g_assert_cmpstr(state, ==, "Idle");
		}
	}
	/* the accepted ones run to their end */
	wait_finished(f, started);

	/* the spec of D-Bus Fanout: over the maximum is refused (0 is refused by the D-Bus
	 * adapter, where "absent" can be told from 0; tests/dbus/test-dbus-limits.c) */
	spec.devices = devices;
	spec.command = (gchar *)"Get";
	spec.target_uri = (gchar *)"./DevInfo/Mod";
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;
		spec.timeout = i == 0 ? 86401 : 0;
		spec.max_in_flight = i == 1 ? 65537 : 0;
		g_assert_null(gw_fanout_create_job(f->fanout, &spec, NULL, &error));
		g_assert_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS);
		g_assert_nonnull(strstr(error->message, "MaxInFlight 1 to 65536"));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* as the plugin host will when an adapter plugin is loaded (GwMO-MOO-001) */
	gw_gwmo_adapter_register("Zigbee");
	g_test_add("/gw/fanout/acl-and-statuses",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_acl_and_statuses,
	           fixture_teardown);
	g_test_add(
	    "/gw/fanout/bad-jobs", Fixture, NULL, fixture_setup, test_bad_jobs, fixture_teardown);
	g_test_add("/gw/fanout/resume-and-aggregate",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_resume_and_aggregate,
	           fixture_teardown);
	g_test_add("/gw/fanout/create-job",
	           Fixture,
	           NULL,
	           fixture_setup,
	           test_create_job,
	           fixture_teardown);
	g_test_add(
	    "/gw/fanout/limits", Fixture, NULL, fixture_setup, test_limits, fixture_teardown);
	return g_test_run();
}
