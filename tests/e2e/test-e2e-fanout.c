/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * End to end, command fan-out and response aggregation (GwMO-FORA-001/002, flows Y and Y'):
 * the real gwmod with the reference DM Server (HTTPS, MD5) north and real reference End
 * Device processes south (Proxy mode, woken by the gateway's Package #0 over HTTP):
 *  - a DM Server's Get to a group of 50 devices, 3 of which never answer: PartialFailure,
 *    47×200 and 3×408 in one aggregated answer, delivered in the same server session (Y) or
 *    in a new one (Y'), with the Start Exec's Correlator;
 *  - single-device Proxy Get and Replace issued by the DM Server, relayed; an offline device
 *    gives 408 and the daemon carries on (GwMO-PMoDe-001);
 *  - a D-Bus Fanout of a Replace changes every device; Job object, Finished, InvalidArgs;
 *    gwmoctl fanout --wait --json and gwmoctl jobs;
 *  - Cancel mid-job; kill -9 of gwmod mid-job: the job resumes, no device is driven twice,
 *    and the DM Server hears of it once.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "gw-e2e.h"
#include "gw-error.h"

#define GW_ID E2E_GW_ID
#define GW_SECRET E2E_GW_SECRET
#define DEV_SECRET E2E_DEV_SECRET
#define JOB_IFACE "org.gwmo.Gateway1.Job"

/* the per-device Timeout of the group jobs: short, but sanitizer builds run 47 instrumented
 * device processes on a couple of cores, so they get more time */
#if defined(__SANITIZE_ADDRESS__)
#define GROUP_TIMEOUT 20
#else
#define GROUP_TIMEOUT 3
#endif

typedef struct {
	gchar *id;
	gchar *record; /* the device's own record (JSON) */
	gchar *record_uri;
	GSubprocess *proc; /* NULL for a silent device */
} Dev;

static void
dev_free(Dev *dev)
{
	if (dev->proc != NULL) {
		if (g_subprocess_get_identifier(dev->proc) != NULL) {
			g_subprocess_force_exit(dev->proc);
			g_subprocess_wait(dev->proc, NULL, NULL);
		}
		g_object_unref(dev->proc);
	}
	g_free(dev->id);
	g_free(dev->record);
	g_free(dev->record_uri);
	g_free(dev);
}

static void
create_group(GwTestDaemon *d, const gchar *group)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r =
	    gw_test_call(d, "CreateGroup", g_variant_new("(ss)", group, ""), "(o)", &error);
	g_assert_no_error(error);
}

/* provisions a Proxy device; returns its record URI */
static gchar *
provision(GwTestDaemon *d, const gchar *id, const gchar *notify_addr, const gchar *group)
{
	return e2e_add_proxy_device(d, id, notify_addr, group);
}

/* a live device: registers (Proxy mode, its notification listener as NotifyAddr), then
 * answers one Package #0 with one session and exits */
static Dev *
dev_spawn(Env *e, const gchar *id, const gchar *group, gboolean listen, gboolean provisioned);
static Dev *
dev_spawn_full(Env *e,
               const gchar *id,
               const gchar *group,
               gboolean listen,
               gboolean provisioned,
               guint sessions,
               const gchar *tree_file);

static Dev *
dev_live(Env *e, const gchar *id, const gchar *group)
{
	return dev_spawn(e, id, group, TRUE, FALSE);
}

/* @listen FALSE: a polling device (no NotifyAddr) that opens one session of its own;
 * @provisioned: AddDevice was done already */
static Dev *
dev_spawn(Env *e, const gchar *id, const gchar *group, gboolean listen, gboolean provisioned)
{
	return dev_spawn_full(e, id, group, listen, provisioned, 1, "device-tree.xml");
}

/* @sessions: the notified sessions it answers before it exits; @tree_file in tests/data/peers */
static Dev *
dev_spawn_full(Env *e,
               const gchar *id,
               const gchar *group,
               gboolean listen,
               gboolean provisioned,
               guint sessions,
               const gchar *tree_file)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", e->dir, id);
	g_autofree gchar *tree =
	    g_build_filename(g_getenv("GWMO_TEST_DATA"), "peers", tree_file, NULL);
	Dev *dev = g_new0(Dev, 1);

	dev->id = g_strdup(id);
	dev->record = g_strdup_printf("%s/%s.json", e->dir, id);
	if (!provisioned)
		dev->record_uri = provision(e->d, id, NULL, group);
	g_ptr_array_add(argv, g_strdup(device_binary));
	g_ptr_array_add(argv, g_strdup_printf("--server=http://127.0.0.1:%u/dm", e->south_port));
	g_ptr_array_add(argv, g_strdup_printf("--dev-id=%s", id));
	g_ptr_array_add(argv, g_strdup("--auth=md5"));
	g_ptr_array_add(argv, g_strdup("--client-secret=" DEV_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-name=" GW_ID));
	g_ptr_array_add(argv, g_strdup("--server-secret=" GW_SECRET));
	g_ptr_array_add(argv, g_strdup("--server-id=" GW_ID));
	if (listen) {
		g_ptr_array_add(argv, g_strdup("--listen-notify=http://127.0.0.1:0"));
		g_ptr_array_add(argv, g_strdup("--register"));
		g_ptr_array_add(argv, g_strdup("--mode=2"));
	}
	g_ptr_array_add(argv, g_strdup_printf("--count=%u", sessions));
	g_ptr_array_add(argv, g_strdup_printf("--record=%s", dev->record));
	g_ptr_array_add(argv, g_strdup_printf("--tree=%s", tree));
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	dev->proc =
	    g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return dev;
}

/* a device that never answers: its NotifyAddr is a UDP port nobody reads */
static Dev *
dev_silent(Env *e, const gchar *id, const gchar *group)
{
	Dev *dev = g_new0(Dev, 1);
	dev->id = g_strdup(id);
	dev->record_uri = provision(e->d, id, "udp://127.0.0.1:9", group);
	return dev;
}

/* waits until every live device registered its HTTP notification address */
static void
wait_registered(Env *e, GPtrArray *devs)
{
	for (guint i = 0; i < devs->len; i++) {
		Dev *dev = g_ptr_array_index(devs, i);
		g_autofree gchar *uri = g_strdup_printf("%s/NotifyAddr", dev->record_uri);
		gboolean ok = FALSE;
		if (dev->proc == NULL)
			continue;
		for (guint k = 0; k < 1200 && !ok; k++) {
			g_autofree gchar *v = get_value(e->d, uri, NULL);
			ok = v != NULL && g_str_has_prefix(v, "http://127.0.0.1:");
			if (!ok)
				g_usleep(50 * 1000);
		}
		g_assert_true(ok);
	}
}

/* @n_live live devices then @n_silent silent ones, all in @group; registered */
static GPtrArray *
fleet(Env *e, guint n_live, guint n_silent, const gchar *group)
{
	GPtrArray *devs = g_ptr_array_new_with_free_func((GDestroyNotify)dev_free);
	if (group != NULL)
		create_group(e->d, group);
	for (guint i = 1; i <= n_live; i++) {
		g_autofree gchar *id = g_strdup_printf("live-%02u", i);
		g_ptr_array_add(devs, dev_live(e, id, group));
	}
	for (guint i = 1; i <= n_silent; i++) {
		g_autofree gchar *id = g_strdup_printf("silent-%u", i);
		g_ptr_array_add(devs, dev_silent(e, id, group));
	}
	wait_registered(e, devs);
	return devs;
}

/* the number of sessions in a device's record (registration + notified ones) */
static guint
dev_sessions(Dev *dev)
{
	g_autoptr(JsonParser) parser = NULL;
	if (!g_file_test(dev->record, G_FILE_TEST_EXISTS))
		return 0;
	return json_array_get_length(record_sessions(dev->record, &parser));
}

static gint
dev_wait(Dev *dev);

/* every device exited after @sessions sessions (its registration included), having run a
 * Replace of @uri with @value */
static void
assert_replaced(GPtrArray *devs, guint sessions, const gchar *uri, const gchar *value)
{
	for (guint i = 0; i < devs->len; i++) {
		Dev *dev = g_ptr_array_index(devs, i);
		g_assert_cmpint(dev_wait(dev), ==, 0);
		g_assert_cmpuint(dev_sessions(dev), ==, sessions);
		g_assert_true(record_executed(dev->record, "Replace", uri, value));
	}
}

static gint
dev_wait(Dev *dev)
{
	for (guint i = 0; i < 600 && g_subprocess_get_identifier(dev->proc) != NULL; i++)
		g_usleep(50 * 1000);
	if (g_subprocess_get_identifier(dev->proc) != NULL)
		return -1;
	g_subprocess_wait(dev->proc, NULL, NULL);
	return g_subprocess_get_if_exited(dev->proc) ? g_subprocess_get_exit_status(dev->proc) : -1;
}

static guint
count_alerts(JsonArray *sessions, const gchar *type, const gchar *source)
{
	guint n = 0;
	for (guint s = 0; s < json_array_get_length(sessions); s++) {
		JsonArray *alerts = json_object_get_array_member(
		    json_array_get_object_element(sessions, s), "generic_alerts");
		for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
			JsonObject *a = json_array_get_object_element(alerts, i);
			if (g_strcmp0(json_object_get_string_member(a, "type"), type) == 0 &&
			    g_strcmp0(json_object_get_string_member(a, "source"), source) == 0)
				n++;
		}
	}
	return n;
}

/* the DM Server's script entry that creates job @name and Execs its Start */
static gchar *
job_commands(const gchar *name,
             const gchar *targets_json, /* the Targets commands, comma-terminated */
             const gchar *command,
             const gchar *target_uri,
             const gchar *data,
             guint timeout,
             guint max_in_flight,
             const gchar *aggregate,
             const gchar *correlator)
{
	GString *s = g_string_new(NULL);
	g_string_append_printf(
	    s, "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s\",\"format\":\"node\"},", name);
	g_string_append(s, targets_json);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Command\",\"data\":\"%s\"},",
	    name,
	    command);
	g_string_append_printf(
	    s,
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/TargetURI\",\"data\":\"%s\"},",
	    name,
	    target_uri);
	if (data != NULL)
		g_string_append_printf(
		    s,
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Data\",\"data\":\"%s\"},",
		    name,
		    data);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/"
	                       "Timeout\",\"format\":\"int\",\"data\":\"%u\"},",
	                       name,
	                       timeout);
	if (max_in_flight > 0)
		g_string_append_printf(s,
		                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/"
		                       "MaxInFlight\",\"format\":\"int\",\"data\":\"%u\"},",
		                       name,
		                       max_in_flight);
	if (aggregate != NULL)
		g_string_append_printf(
		    s,
		    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Aggregate\",\"data\":\"%s\"},",
		    name,
		    aggregate);
	g_string_append_printf(s,
	                       "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Fanout/%s/Operations/"
	                       "Start\",\"correlator\":\"%s\"}",
	                       name,
	                       correlator);
	return g_string_free(s, FALSE);
}

static gchar *
group_target(const gchar *name, const gchar *group)
{
	return g_strdup_printf(
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/Group\",\"data\":\"%s\"},",
	    name,
	    group);
}

static gchar *
devices_target(const gchar *name, const gchar *const *ids)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; ids[i] != NULL; i++)
		g_string_append_printf(s,
		                       "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/Targets/"
		                       "Devices/%u\",\"data\":\"%s\"},",
		                       name,
		                       i + 1,
		                       ids[i]);
	return g_string_free(s, FALSE);
}

/* the checks common to the 50-device Get (47 answer ./DevInfo/DmV = 1.2, 3 never do) */
static void
check_group_document(const gchar *doc, const gchar *job)
{
	g_autofree gchar *head =
	    g_strdup_printf("<GwMOFanoutResult job=\"%s\" state=\"PartialFailure\" total=\"50\" "
	                    "succeeded=\"47\" failed=\"3\">",
	                    job);
	if (strstr(doc, head) == NULL)
		g_test_message("aggregated result:\n%s", doc);
	g_assert_nonnull(strstr(doc, head));
	g_assert_cmpuint(
	    count_substr(doc, "status=\"200\"><Data format=\"chr\">1.2</Data></Device>"), ==, 47);
	g_assert_cmpuint(count_substr(doc, "status=\"408\"/>"), ==, 3);
	for (guint i = 1; i <= 3; i++) {
		g_autofree gchar *silent =
		    g_strdup_printf("<Device id=\"silent-%u\" status=\"408\"/>", i);
		g_assert_nonnull(strstr(doc, silent));
	}
	/* project-defined aggregates: one answer for the whole group */
	g_assert_nonnull(strstr(
	    doc, "<Aggregate count=\"47\" numeric=\"47\" min=\"1.2\" max=\"1.2\" sum=\"56.4"));
	g_assert_nonnull(strstr(doc, "distinct=\"1\"/>"));
}

/* GwMO-FORA-001, GwMO-FORA-002 (flow Y): a DM Server fans a Get out to a group of 50; the
 * gateway holds its reply and delivers the aggregated result in the same session.
 * GwMO-HLF-001, GwMO-HLF-004, GwMO-SECACATE-002: the server cannot reach the devices; it
 * authenticates once, with the gateway's one account, and the gateway drives every device in
 * that device's own authenticated session with it. */
static void
test_group_sync(void)
{
	Env *e = env_new_with_config("[fanout]\nsync-wait=30\n");
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GPtrArray) devs = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *targets = group_target("j1", "sensors");
	g_autofree gchar *cmds = job_commands("j1",
	                                      targets,
	                                      "Get",
	                                      "./DevInfo/DmV",
	                                      NULL,
	                                      GROUP_TIMEOUT,
	                                      0,
	                                      "count,min,max,sum,distinct",
	                                      "corr-sync");
	g_autofree gchar *script = g_strdup_printf("{\"sessions\":[{\"commands\":[%s]}]}", cmds);
	g_autofree gchar *v = NULL;
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *alert;
	gint64 t0;

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	/* the server first: its port was picked free, and 47 listeners take ephemeral ports */
	server = server_start(e, script, record, CL_SECRET, "--sessions=1", NULL);
	devs = fleet(e, 47, 3, "sensors");
	t0 = g_get_monotonic_time();
	e2e_start_session(e->d);
	server_wait(server);
	/* the silent devices' Timeout bounds the held reply */
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, (GROUP_TIMEOUT * 1000 - 500) * 1000);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s1, "Exec", "./GwMO/Fanout/j1/Operations/Start"), ==, 202);
	g_assert_cmpint(status_of(s1, "Add", "./GwMO/Fanout/j1"), ==, 200);
	alert = session_alert(s1, "urn:oma:at:gwmo:1.0:FanoutComplete");
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "corr-sync");
	g_assert_cmpstr(json_object_get_string_member(alert, "source"), ==, "./GwMO/Fanout/j1");
	g_assert_cmpstr(json_object_get_string_member(alert, "format"), ==, "xml");
	check_group_document(json_object_get_string_member(alert, "data"), "./GwMO/Fanout/j1");

	/* the tree has the same */
	v = get_value(e->d, "./GwMO/Fanout/j1/State", NULL);
	g_assert_cmpstr(v, ==, "PartialFailure");
	g_free(v);
	v = get_value(e->d, "./GwMO/Fanout/j1/Summary/Succeeded", NULL);
	g_assert_cmpstr(v, ==, "47");
	g_free(v);
	v = get_value(e->d, "./GwMO/Fanout/j1/AggregatedResult", NULL);
	check_group_document(v, "./GwMO/Fanout/j1");
	g_clear_pointer(&v, g_free);
	/* acknowledged in that session: nothing left to send */
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	/* every live device ran exactly one notified session */
	for (guint i = 0; i < devs->len; i++) {
		Dev *dev = g_ptr_array_index(devs, i);
		if (dev->proc == NULL)
			continue;
		g_assert_cmpint(dev_wait(dev), ==, 0);
		g_assert_cmpuint(dev_sessions(dev), ==, 2);
	}
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* GwMO-FORA-001, GwMO-FORA-002 (flow Y'): the server session ends at once; the gateway opens
 * a new one for the FanoutComplete alert */
static void
test_group_async(void)
{
	Env *e = env_new_with_config("[fanout]\nsync-wait=0\n");
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GPtrArray) devs = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *targets = group_target("j2", "sensors");
	g_autofree gchar *cmds = job_commands("j2",
	                                      targets,
	                                      "Get",
	                                      "./DevInfo/DmV",
	                                      NULL,
	                                      GROUP_TIMEOUT,
	                                      0,
	                                      "count,min,max,sum,distinct",
	                                      "corr-async");
	g_autofree gchar *script =
	    g_strdup_printf("{\"sessions\":[{\"commands\":[%s]},{\"commands\":[]}]}", cmds);
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *s2;
	JsonObject *alert;

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	server = server_start(e, script, record, CL_SECRET, "--sessions=2", NULL);
	devs = fleet(e, 47, 3, "sensors");
	e2e_start_session(e->d);
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpint(status_of(s1, "Exec", "./GwMO/Fanout/j2/Operations/Start"), ==, 202);
	g_assert_null(session_alert(s1, "urn:oma:at:gwmo:1.0:FanoutComplete"));
	s2 = json_array_get_object_element(sessions, 1);
	g_assert_cmpint(json_object_get_int_member(s2, "alert"), ==, 1201);
	alert = session_alert(s2, "urn:oma:at:gwmo:1.0:FanoutComplete");
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "corr-async");
	g_assert_cmpstr(json_object_get_string_member(alert, "source"), ==, "./GwMO/Fanout/j2");
	check_group_document(json_object_get_string_member(alert, "data"), "./GwMO/Fanout/j2");
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* GwMO-FORA-002: the job outlives the sync wait (1 s < its 3 s Timeout): the held reply goes
 * out without the result, which follows in a new session (Y') */
static void
test_sync_wait_expires(void)
{
	Env *e = env_new_with_config("[fanout]\nsync-wait=1\n");
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GPtrArray) devs = NULL;
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autofree gchar *targets = group_target("jw", "few");
	g_autofree gchar *cmds =
	    job_commands("jw", targets, "Get", "./DevInfo/Mod", NULL, 3, 0, NULL, "corr-wait");
	g_autofree gchar *script =
	    g_strdup_printf("{\"sessions\":[{\"commands\":[%s]},{\"commands\":[]}]}", cmds);
	JsonArray *sessions;
	JsonObject *alert;
	const gchar *doc;

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	server = server_start(e, script, record, CL_SECRET, "--sessions=2", NULL);
	devs = fleet(e, 3, 1, "few");
	e2e_start_session(e->d);
	server_wait(server);
	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	g_assert_cmpint(status_of(json_array_get_object_element(sessions, 0),
	                          "Exec",
	                          "./GwMO/Fanout/jw/Operations/Start"),
	                ==,
	                202);
	g_assert_null(session_alert(json_array_get_object_element(sessions, 0),
	                         "urn:oma:at:gwmo:1.0:FanoutComplete"));
	g_assert_cmpuint(
	    count_alerts(sessions, "urn:oma:at:gwmo:1.0:FanoutComplete", "./GwMO/Fanout/jw"),
	    ==,
	    1);
	alert = session_alert(json_array_get_object_element(sessions, 1),
	                   "urn:oma:at:gwmo:1.0:FanoutComplete");
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "corr-wait");
	doc = json_object_get_string_member(alert, "data");
	g_assert_nonnull(
	    strstr(doc, "state=\"PartialFailure\" total=\"4\" succeeded=\"3\" failed=\"1\""));
	g_assert_nonnull(strstr(doc, "<Device id=\"silent-1\" status=\"408\"/>"));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* GwMO-PMoDe-001, GwMO-FORA-001: Proxy commands addressed by the DM Server to one device are
 * one-device jobs: a Get relayed with its value, a Replace that changes the device, and an
 * offline device answered 408 after the Timeout; the daemon carries on. Three jobs in one
 * server message: one held reply carries the three alerts.
 * GwMO-PMoDe-003: the devices are bootstrapped to the gateway alone (their only DM Server is
 * the gateway's DevId; they registered with no ServerIDs), yet the DM Server manages them. */
static void
test_proxy_single(void)
{
	Env *e = env_new();
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify)dev_free);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	const gchar *a_ids[] = {"dev-a", NULL};
	const gchar *b_ids[] = {"dev-b", NULL};
	const gchar *off_ids[] = {"dev-off", NULL};
	g_autofree gchar *t1 = devices_target("get", a_ids);
	g_autofree gchar *t2 = devices_target("set", b_ids);
	g_autofree gchar *t3 = devices_target("off", off_ids);
	g_autofree gchar *c1 =
	    job_commands("get", t1, "Get", "./Vendor/Name", NULL, 10, 0, NULL, "c-get");
	g_autofree gchar *c2 =
	    job_commands("set", t2, "Replace", "./Vendor/Name", "gamma", 10, 0, NULL, "c-set");
	g_autofree gchar *c3 =
	    job_commands("off", t3, "Get", "./DevInfo/Mod", NULL, 2, 0, NULL, "c-off");
	g_autofree gchar *script =
	    g_strdup_printf("{\"sessions\":[{\"commands\":[%s,%s,%s]}]}", c1, c2, c3);
	JsonArray *sessions;
	JsonObject *s1;
	JsonObject *alert;
	const gchar *doc;

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	server = server_start(e, script, record, CL_SECRET, "--sessions=1", NULL);
	g_ptr_array_add(devs, dev_live(e, "dev-a", NULL));
	g_ptr_array_add(devs, dev_live(e, "dev-b", NULL));
	g_ptr_array_add(devs, dev_silent(e, "dev-off", NULL));
	wait_registered(e, devs);
	/* PMoDe-003: bootstrapped to no external DM Server */
	for (guint i = 0; i < devs->len; i++) {
		Dev *dev = g_ptr_array_index(devs, i);
		g_autofree gchar *uri = g_strdup_printf("%s/ServerIDs", dev->record_uri);
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = gw_test_call(
		    e->d, "ListChildren", g_variant_new("(s)", uri), "(as)", &error);
		g_autoptr(GVariant) names = NULL;
		if (reply == NULL) { /* no ServerIDs node at all */
			g_assert_error(error, GW_ERROR, GW_ERROR_NOT_FOUND);
			continue;
		}
		names = g_variant_get_child_value(reply, 0);
		g_assert_cmpuint(g_variant_n_children(names), ==, 0);
	}
	e2e_start_session(e->d);
	server_wait(server);

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 1);
	s1 = json_array_get_object_element(sessions, 0);
	g_assert_cmpuint(
	    count_alerts(sessions, "urn:oma:at:gwmo:1.0:FanoutComplete", "./GwMO/Fanout/get"),
	    ==,
	    1);
	g_assert_cmpuint(
	    count_alerts(sessions, "urn:oma:at:gwmo:1.0:FanoutComplete", "./GwMO/Fanout/set"),
	    ==,
	    1);
	g_assert_cmpuint(
	    count_alerts(sessions, "urn:oma:at:gwmo:1.0:FanoutComplete", "./GwMO/Fanout/off"),
	    ==,
	    1);
	{
		JsonArray *alerts = json_object_get_array_member(s1, "generic_alerts");
		for (guint i = 0; i < json_array_get_length(alerts); i++) {
			alert = json_array_get_object_element(alerts, i);
			doc = json_object_get_string_member(alert, "data");
			if (g_strcmp0(json_object_get_string_member(alert, "source"),
			              "./GwMO/Fanout/get") == 0) {
				/* the device's value, relayed */
				g_assert_cmpstr(json_object_get_string_member(alert, "correlator"),
				                ==,
				                "c-get");
				g_assert_nonnull(strstr(doc, "state=\"Complete\""));
				g_assert_nonnull(strstr(doc,
				                        "<Device id=\"dev-a\" status=\"200\"><Data "
				                        "format=\"chr\">alpha</Data></Device>"));
			} else if (g_strcmp0(json_object_get_string_member(alert, "source"),
			                     "./GwMO/Fanout/set") == 0) {
				g_assert_cmpstr(json_object_get_string_member(alert, "correlator"),
				                ==,
				                "c-set");
				g_assert_nonnull(
				    strstr(doc, "<Device id=\"dev-b\" status=\"200\"/>"));
			} else {
				g_assert_cmpstr(json_object_get_string_member(alert, "correlator"),
				                ==,
				                "c-off");
				g_assert_nonnull(strstr(doc, "state=\"PartialFailure\""));
				g_assert_nonnull(
				    strstr(doc, "<Device id=\"dev-off\" status=\"408\"/>"));
			}
		}
	}
	/* the Replace reached dev-b's tree */
	g_assert_cmpint(dev_wait(g_ptr_array_index(devs, 1)), ==, 0);
	g_assert_true(
	    record_executed(((Dev *)g_ptr_array_index(devs, 1))->record, "Replace", "./Vendor/Name", "gamma"));
	g_assert_true(gw_test_daemon_is_running(e->d));
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* ---- D-Bus ---- */

typedef struct {
	gchar *path;
	gchar *xml;
} Finished;

static void
finished_cb(GDBusConnection *c,
            const gchar *sender,
            const gchar *path,
            const gchar *iface,
            const gchar *signal,
            GVariant *params,
            gpointer user_data)
{
	Finished *f = user_data;
	if (f->xml != NULL)
		return;
	f->path = g_strdup(path);
	g_variant_get(params, "(s)", &f->xml);
}

/* the first Job's Finished signal goes to @f */
static guint
watch_finished(GwTestDaemon *d, Finished *f)
{
	return g_dbus_connection_signal_subscribe(d->connection,
	                                          "org.gwmo.Gateway1",
	                                          JOB_IFACE,
	                                          "Finished",
	                                          NULL,
	                                          NULL,
	                                          G_DBUS_SIGNAL_FLAGS_NONE,
	                                          finished_cb,
	                                          f,
	                                          NULL);
}

static gboolean
wait_finished(Finished *f, guint seconds)
{
	gint64 end = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
	while (f->xml == NULL && g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(10 * 1000);
	}
	return f->xml != NULL;
}

static GVariant *
job_prop(GwTestDaemon *d, const gchar *path, const gchar *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(d->connection,
	                                                    "org.gwmo.Gateway1",
	                                                    path,
	                                                    "org.freedesktop.DBus.Properties",
	                                                    "Get",
	                                                    g_variant_new("(ss)", JOB_IFACE, name),
	                                                    G_VARIANT_TYPE("(v)"),
	                                                    G_DBUS_CALL_FLAGS_NONE,
	                                                    -1,
	                                                    NULL,
	                                                    &error);
	GVariant *v = NULL;
	g_assert_no_error(error);
	g_variant_get(r, "(v)", &v);
	return v;
}

static gchar *
fanout(GwTestDaemon *d, GVariantBuilder *b, GError **error)
{
	g_autoptr(GVariant) reply =
	    gw_test_call(d, "Fanout", g_variant_new("(a{sv})", b), "(o)", error);
	gchar *path = NULL;
	if (reply != NULL)
		g_variant_get(reply, "(o)", &path);
	return path;
}

/* GwMO-FORA-001 over D-Bus: a Replace to five devices changes every one of them; the Job
 * object follows and Finished carries the document; bad specs are InvalidArgs */
static void
test_dbus_replace(void)
{
	Env *e = env_new();
	g_autoptr(GPtrArray) devs = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	Finished f = {0};
	guint sub;
	GVariantBuilder b;
	const gchar *ids[] = {"live-01", "live-02", "live-03", "live-04", "live-05", NULL};

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	devs = fleet(e, 5, 0, NULL);

	/* bad arguments */
	{
		const struct {
			const gchar *key;
			GVariant *value;
		} bad[] = {
		    {"Nonsense", g_variant_new_string("x")},
		    {"Timeout", g_variant_new_string("3")},
		    {"Command", g_variant_new_string("Format")},
		};
		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_autoptr(GError) err = NULL;
			g_autofree gchar *p = NULL;
			g_autofree gchar *name = NULL;
			g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
			g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(ids, -1));
			g_variant_builder_add(
			    &b, "{sv}", "TargetURI", g_variant_new_string("./DevInfo/Mod"));
			if (g_strcmp0(bad[i].key, "Command") != 0)
				g_variant_builder_add(
				    &b, "{sv}", "Command", g_variant_new_string("Get"));
			g_variant_builder_add(&b, "{sv}", bad[i].key, bad[i].value);
			p = fanout(e->d, &b, &err);
			g_assert_null(p);
			name = g_dbus_error_get_remote_error(err);
			g_assert_cmpstr(name, ==, "org.gwmo.Gateway1.Error.InvalidArgs");
		}
		{
			/* neither Group nor Devices */
			g_autoptr(GError) err = NULL;
			g_autofree gchar *p = NULL;
			g_autofree gchar *name = NULL;
			g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
			g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Get"));
			g_variant_builder_add(
			    &b, "{sv}", "TargetURI", g_variant_new_string("./DevInfo/Mod"));
			p = fanout(e->d, &b, &err);
			g_assert_null(p);
			name = g_dbus_error_get_remote_error(err);
			g_assert_cmpstr(name, ==, "org.gwmo.Gateway1.Error.InvalidArgs");
		}
	}

	sub = watch_finished(e->d, &f);
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(ids, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Replace"));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string("./Vendor/Name"));
	g_variant_builder_add(&b, "{sv}", "Data", g_variant_new_string("beta"));
	g_variant_builder_add(&b, "{sv}", "Timeout", g_variant_new_uint32(20));
	path = fanout(e->d, &b, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(path, "/org/gwmo/Gateway1/Jobs/"));
	g_assert_true(wait_finished(&f, 60));
	g_assert_cmpstr(f.path, ==, path);
	g_assert_nonnull(
	    strstr(f.xml, "state=\"Complete\" total=\"5\" succeeded=\"5\" failed=\"0\""));
	{
		g_autoptr(GVariant) state = job_prop(e->d, path, "State");
		g_autoptr(GVariant) total = job_prop(e->d, path, "Total");
		g_autoptr(GVariant) ok = job_prop(e->d, path, "Succeeded");
		g_autoptr(GVariant) progress = job_prop(e->d, path, "Progress");
		g_autoptr(GVariant) uri = job_prop(e->d, path, "JobURI");
		g_assert_cmpstr(g_variant_get_string(state, NULL), ==, "Complete");
		g_assert_cmpuint(g_variant_get_uint32(total), ==, 5);
		g_assert_cmpuint(g_variant_get_uint32(ok), ==, 5);
		g_assert_cmpuint(g_variant_get_uint32(progress), ==, 100);
		g_assert_true(g_str_has_prefix(g_variant_get_string(uri, NULL), "./GwMO/Fanout/"));
	}
	/* every device's tree was changed: read back from their records */
	assert_replaced(devs, 2, "./Vendor/Name", "beta");
	g_dbus_connection_signal_unsubscribe(e->d->connection, sub);
	g_free(f.path);
	g_free(f.xml);

	/* gwmoctl fanout --wait: per-device results, exit 1 when not every device succeeded */
	{
		g_autoptr(GPtrArray) more =
		    g_ptr_array_new_with_free_func((GDestroyNotify)dev_free);
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autoptr(GError) err = NULL;
		g_autofree gchar *out = NULL;
		g_autofree gchar *errout = NULL;
		JsonObject *root;
		JsonArray *results;
		gint rc;

		g_ptr_array_add(more, dev_live(e, "cli-dev", NULL));
		wait_registered(e, more);
		rc = gw_test_run_gwmoctl(e->d,
		                         &out,
		                         &errout,
		                         "fanout",
		                         "--device",
		                         "cli-dev",
		                         "--device",
		                         "nobody",
		                         "--get",
		                         "./Vendor/Name",
		                         "--timeout",
		                         "20",
		                         "--wait",
		                         "--json",
		                         NULL);
		g_assert_cmpint(rc, ==, 1);
		g_assert_true(json_parser_load_from_data(parser, out, -1, &err));
		g_assert_no_error(err);
		root = json_node_get_object(json_parser_get_root(parser));
		g_assert_cmpstr(json_object_get_string_member(root, "State"), ==, "PartialFailure");
		results = json_object_get_array_member(root, "Results");
		g_assert_cmpuint(json_array_get_length(results), ==, 2);
		g_assert_cmpstr(json_object_get_string_member(
		                    json_array_get_object_element(results, 0), "DeviceID"),
		                ==,
		                "cli-dev");
		g_assert_cmpint(json_object_get_int_member(
		                    json_array_get_object_element(results, 0), "StatusCode"),
		                ==,
		                200);
		g_assert_cmpstr(json_object_get_string_member(
		                    json_array_get_object_element(results, 0), "Data"),
		                ==,
		                "alpha");
		g_assert_cmpint(json_object_get_int_member(
		                    json_array_get_object_element(results, 1), "StatusCode"),
		                ==,
		                404);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&errout, g_free);
		/* usage errors */
		rc = gw_test_run_gwmoctl(e->d,
		                         &out,
		                         &errout,
		                         "fanout",
		                         "--group",
		                         "g",
		                         "--device",
		                         "x",
		                         "--get",
		                         "./a",
		                         NULL);
		g_assert_cmpint(rc, ==, 2);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&errout, g_free);
		/* gwmoctl jobs lists both jobs */
		rc = gw_test_run_gwmoctl(e->d, &out, &errout, "jobs", NULL);
		g_assert_cmpint(rc, ==, 0);
		g_assert_nonnull(strstr(out, "JOB"));
		g_assert_cmpuint(count_substr(out, "./GwMO/Fanout/"), ==, 2);
		g_assert_nonnull(strstr(out, "Complete"));
		g_assert_nonnull(strstr(out, "PartialFailure"));
	}
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* GwMO-PMoDe-001, GwMO-FORA-001: a polling device (no NotifyAddr) gets the command in the
 * next session it opens itself, within the job's Timeout */
static void
test_polling_device(void)
{
	Env *e = env_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *record_uri = NULL;
	g_autofree gchar *v = NULL;
	Dev *dev;
	Finished f = {0};
	guint sub;
	GVariantBuilder b;
	const gchar *ids[] = {"poller", NULL};

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	sub = watch_finished(e->d, &f);
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(ids, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Get"));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string("./Vendor/Name"));
	g_variant_builder_add(&b, "{sv}", "Timeout", g_variant_new_uint32(30));
	/* provisioned, never seen, asleep */
	record_uri = provision(e->d, "poller", NULL, NULL);
	path = fanout(e->d, &b, &error);
	g_assert_no_error(error);
	g_usleep(1000 * 1000);
	v = get_value(e->d, "./GwMO/Fanout/1/Summary/Pending", NULL);
	g_assert_cmpstr(v, ==, "1");
	/* it wakes up by itself and opens a session: the Get goes out in it */
	dev = dev_spawn(e, "poller", NULL, FALSE, TRUE);
	g_assert_true(wait_finished(&f, 40));
	g_assert_cmpstr(f.path, ==, path);
	g_assert_nonnull(strstr(f.xml, "state=\"Complete\""));
	g_assert_nonnull(strstr(
	    f.xml,
	    "<Device id=\"poller\" status=\"200\"><Data format=\"chr\">alpha</Data></Device>"));
	g_assert_cmpint(dev_wait(dev), ==, 0);
	g_assert_cmpuint(dev_sessions(dev), ==, 1);
	dev_free(dev);
	g_dbus_connection_signal_unsubscribe(e->d->connection, sub);
	g_free(f.path);
	g_free(f.xml);
	gw_test_daemon_stop(e->d);
	env_free(e);
}

static gchar *
wait_value(GwTestDaemon *d, const gchar *uri, const gchar *want, guint seconds)
{
	for (guint i = 0; i < seconds * 20; i++) {
		gchar *v = get_value(d, uri, NULL);
		if (g_strcmp0(v, want) == 0)
			return v;
		g_free(v);
		g_usleep(50 * 1000);
	}
	return get_value(d, uri, NULL);
}

/* GwMO-FORA-001: Cancel mid-job: the device still to drive is never notified */
static void
test_cancel(void)
{
	Env *e = env_new();
	g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify)dev_free);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *job_uri = NULL;
	g_autofree gchar *v = NULL;
	g_autofree gchar *uri = NULL;
	Finished f = {0};
	guint sub;
	GVariantBuilder b;
	const gchar *ids[] = {"first", "sleeper", "last", NULL};

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	g_ptr_array_add(devs, dev_live(e, "first", NULL));
	g_ptr_array_add(devs, dev_silent(e, "sleeper", NULL));
	g_ptr_array_add(devs, dev_live(e, "last", NULL));
	wait_registered(e, devs);
	sub = watch_finished(e->d, &f);
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(ids, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Get"));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string("./DevInfo/Mod"));
	g_variant_builder_add(&b, "{sv}", "Timeout", g_variant_new_uint32(30));
	g_variant_builder_add(&b, "{sv}", "MaxInFlight", g_variant_new_uint32(1));
	path = fanout(e->d, &b, &error);
	g_assert_no_error(error);
	{
		g_autoptr(GVariant) juri = job_prop(e->d, path, "JobURI");
		job_uri = g_variant_dup_string(juri, NULL);
	}
	/* "first" answered; "sleeper" is in flight (30 s); "last" waits */
	uri = g_strdup_printf("%s/Results/1/StatusCode", job_uri);
	v = wait_value(e->d, uri, "200", 30);
	g_assert_cmpstr(v, ==, "200");
	{
		g_autoptr(GVariant) r = g_dbus_connection_call_sync(e->d->connection,
		                                                    "org.gwmo.Gateway1",
		                                                    path,
		                                                    JOB_IFACE,
		                                                    "Cancel",
		                                                    NULL,
		                                                    NULL,
		                                                    G_DBUS_CALL_FLAGS_NONE,
		                                                    -1,
		                                                    NULL,
		                                                    &error);
		g_assert_no_error(error);
	}
	g_assert_true(wait_finished(&f, 10));
	g_assert_nonnull(
	    strstr(f.xml, "state=\"Cancelled\" total=\"3\" succeeded=\"1\" failed=\"0\""));
	g_assert_nonnull(strstr(f.xml, "<Device id=\"last\" status=\"0\"/>"));
	g_free(v);
	g_free(uri);
	uri = g_strdup_printf("%s/State", job_uri);
	v = get_value(e->d, uri, NULL);
	g_assert_cmpstr(v, ==, "Cancelled");
	/* a second Cancel: not running */
	{
		g_autoptr(GError) err = NULL;
		g_autoptr(GVariant) r = g_dbus_connection_call_sync(e->d->connection,
		                                                    "org.gwmo.Gateway1",
		                                                    path,
		                                                    JOB_IFACE,
		                                                    "Cancel",
		                                                    NULL,
		                                                    NULL,
		                                                    G_DBUS_CALL_FLAGS_NONE,
		                                                    -1,
		                                                    NULL,
		                                                    &err);
		g_autofree gchar *name = NULL;
		g_assert_null(r);
		name = g_dbus_error_get_remote_error(err);
		g_assert_cmpstr(name, ==, "org.gwmo.Gateway1.Error.WrongState");
	}
	/* "last" was never notified: only its registration session */
	g_usleep(500 * 1000);
	g_assert_cmpuint(dev_sessions(g_ptr_array_index(devs, 2)), ==, 1);
	g_assert_cmpuint(dev_sessions(g_ptr_array_index(devs, 0)), ==, 2);
	g_dbus_connection_signal_unsubscribe(e->d->connection, sub);
	g_free(f.path);
	g_free(f.xml);
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* GwMO-FORA-001/002: kill -9 of gwmod mid-job; the job resumes on start, devices with a result
 * are not driven again, and the DM Server gets one FanoutComplete */
static void
test_resume(void)
{
	Env *e = env_new_with_config("[fanout]\nsync-wait=0\n");
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify)dev_free);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	const gchar *ids[] = {"r1", "r2", "sleeper", "r3", NULL};
	g_autofree gchar *targets = devices_target("jr", ids);
	g_autofree gchar *cmds =
	    job_commands("jr", targets, "Get", "./DevInfo/Mod", NULL, 3, 1, NULL, "corr-resume");
	g_autofree gchar *script =
	    g_strdup_printf("{\"sessions\":[{\"commands\":[%s]},{\"commands\":[]}]}", cmds);
	g_autofree gchar *v = NULL;
	JsonArray *sessions;
	JsonObject *alert = NULL;
	const gchar *doc;

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	server = server_start(e, script, record, CL_SECRET, "--sessions=2", NULL);
	g_ptr_array_add(devs, dev_live(e, "r1", NULL));
	g_ptr_array_add(devs, dev_live(e, "r2", NULL));
	g_ptr_array_add(devs, dev_silent(e, "sleeper", NULL));
	g_ptr_array_add(devs, dev_live(e, "r3", NULL));
	wait_registered(e, devs);
	e2e_start_session(e->d);
	/* r1 and r2 answered, the sleeper is in flight: the daemon dies */
	v = wait_value(e->d, "./GwMO/Fanout/jr/Results/2/StatusCode", "200", 30);
	g_assert_cmpstr(v, ==, "200");
	g_clear_pointer(&v, g_free);
	/* results are stored in the main-loop turn after they came in (group commit); the
	 * sleeper's 3 s are far from over */
	g_usleep(300 * 1000);
	v = get_value(e->d, "./GwMO/Fanout/jr/Results/3/StatusCode", NULL);
	g_assert_cmpstr(v, ==, "0");
	g_clear_pointer(&v, g_free);
	gw_test_daemon_kill(e->d);
	g_assert_cmpint(dev_wait(g_ptr_array_index(devs, 0)), ==, 0);
	g_assert_cmpint(dev_wait(g_ptr_array_index(devs, 1)), ==, 0);

	gw_test_daemon_start(e->d, NULL);
	server_wait(server);
	v = get_value(e->d, "./GwMO/Fanout/jr/State", NULL);
	g_assert_cmpstr(v, ==, "PartialFailure");
	g_clear_pointer(&v, g_free);
	/* the job made by the DM Server before the kill is a Job object of the new gwmod */
	{
		const gchar *job_path = "/org/gwmo/Gateway1/Jobs/jr";
		g_autoptr(GVariant) state = job_prop(e->d, job_path, "State");
		g_autoptr(GVariant) total = job_prop(e->d, job_path, "Total");
		g_autoptr(GVariant) failed = job_prop(e->d, job_path, "Failed");
		g_autoptr(GVariant) uri = job_prop(e->d, job_path, "JobURI");
		g_assert_cmpstr(g_variant_get_string(state, NULL), ==, "PartialFailure");
		g_assert_cmpuint(g_variant_get_uint32(total), ==, 4);
		g_assert_cmpuint(g_variant_get_uint32(failed), ==, 1);
		g_assert_cmpstr(g_variant_get_string(uri, NULL), ==, "./GwMO/Fanout/jr");
	}

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
	/* reported once */
	g_assert_cmpuint(
	    count_alerts(sessions, "urn:oma:at:gwmo:1.0:FanoutComplete", "./GwMO/Fanout/jr"),
	    ==,
	    1);
	alert = session_alert(json_array_get_object_element(sessions, 1),
	                   "urn:oma:at:gwmo:1.0:FanoutComplete");
	g_assert_nonnull(alert);
	g_assert_cmpstr(json_object_get_string_member(alert, "correlator"), ==, "corr-resume");
	doc = json_object_get_string_member(alert, "data");
	/* r1 and r2 kept their results (a second drive would have given 408: they exited) */
	g_assert_nonnull(strstr(
	    doc,
	    "<Device id=\"r1\" status=\"200\"><Data format=\"chr\">ref-device</Data></Device>"));
	g_assert_nonnull(strstr(
	    doc,
	    "<Device id=\"r2\" status=\"200\"><Data format=\"chr\">ref-device</Data></Device>"));
	g_assert_nonnull(strstr(doc, "<Device id=\"sleeper\" status=\"408\"/>"));
	g_assert_nonnull(strstr(
	    doc,
	    "<Device id=\"r3\" status=\"200\"><Data format=\"chr\">ref-device</Data></Device>"));
	for (guint i = 0; i < devs->len; i++) {
		Dev *dev = g_ptr_array_index(devs, i);
		if (dev->proc == NULL)
			continue;
		g_assert_cmpint(dev_wait(dev), ==, 0);
		g_assert_cmpuint(dev_sessions(dev), ==, 2);
	}
	/* and not again after another restart */
	gw_test_daemon_stop(e->d);
	gw_test_daemon_start(e->d, NULL);
	g_usleep(1000 * 1000);
	g_assert_cmpuint(pending_alerts(e->d), ==, 0);
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* ---- OMA DM Proxy devices and an adapter's devices in one job (issue 12) ---- */

static const gchar *test_plugin_path; /* argv[3]: libgw_plugin_test.so */

/* the FanoutComplete alert of @job in @session, its document */
static const gchar *
job_document(JsonObject *session, const gchar *job)
{
	g_autofree gchar *source = g_strdup_printf("./GwMO/Fanout/%s", job);
	JsonArray *alerts = json_object_get_array_member(session, "generic_alerts");

	for (guint i = 0; alerts != NULL && i < json_array_get_length(alerts); i++) {
		JsonObject *a = json_array_get_object_element(alerts, i);
		if (g_strcmp0(json_object_get_string_member(a, "type"),
		              "urn:oma:at:gwmo:1.0:FanoutComplete") == 0 &&
		    g_strcmp0(json_object_get_string_member(a, "source"), source) == 0)
			return json_object_get_string_member(a, "data");
	}
	g_error("no FanoutComplete for %s", source);
	return NULL;
}

static gchar *
mixed_job(const gchar *name,
          const gchar *command,
          const gchar *target,
          const gchar *format,
          const gchar *data,
          const gchar *aggregate)
{
	g_autofree gchar *targets = group_target(name, "mixed");
	g_autofree gchar *prefix =
	    format == NULL ? g_strdup(targets)
	                   : g_strdup_printf("%s{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/%s/"
	                                     "Format\",\"data\":\"%s\"},",
	                                     targets,
	                                     name,
	                                     format);
	g_autofree gchar *corr = g_strdup_printf("c-%s", name);
	return job_commands(name, prefix, command, target, data, 20, 0, aggregate, corr);
}

/*
 * GwMO-AMoDe-001, GwMO-IOP-001, GwMO-MOO-001 mode 3, GwMO-FORA-001/002: a group of three OMA
 * DM Proxy devices (reference End Device processes) and three devices of the test adapter
 * (plugins/test in gwmod) is one Fanout job for the DM Server: a Replace and an Exec in its
 * first session, two Gets in its second, each answered by one aggregated result in the held
 * reply; the Gets read back what the Replace wrote on all six, and ./DevInfo/Man from each
 * kind. Then an adapter device leaves: its record is Detached and the server, which asked
 * for inventory alerts, gets DeviceDetached in a session the gateway opens.
 */
static void
test_mixed_adapters(void)
{
	Env *e = env_new_with_config("[fanout]\nsync-wait=30\n[test]\ndevices=3\n");
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify)dev_free);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) group = NULL;
	g_autofree gchar *r = mixed_job("r", "Replace", "./Test/Switch", "bool", "true", NULL);
	g_autofree gchar *x = mixed_job("x", "Exec", "./Test/Operations/Echo", NULL, "hi", "count");
	g_autofree gchar *g = mixed_job("g", "Get", "./Test/Switch", NULL, NULL, "distinct");
	g_autofree gchar *m = mixed_job("m", "Get", "./DevInfo/Man", NULL, NULL, "distinct");
	g_autofree gchar *script = g_strdup_printf("{\"sessions\":[{\"commands\":[%s,%s]},"
	                                           "{\"commands\":[%s,%s]},{\"commands\":[]}]}",
	                                           r,
	                                           x,
	                                           g,
	                                           m);
	g_autofree gchar *detached_uri = NULL;
	const gchar *group_path = NULL;
	const gchar *doc;
	JsonArray *sessions;
	JsonObject *alert;
	Finished f = {0};
	GVariantBuilder b;
	guint sub;

	/* no inventory alerts while the devices come (the adapter's report at start) */
	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	gw_test_daemon_stop(e->d);
	{
		/* the plugin host loads the test adapter from its build directory */
		g_autofree gchar *plugin_dir = g_path_get_dirname(test_plugin_path);
		const gchar *args[] = {"--plugin-dir", plugin_dir, NULL};
		gw_test_daemon_start(e->d, args);
	}

	/* the adapter's three devices: records 1-3, Mode 3, Attached */
	for (guint i = 1; i <= 3; i++) {
		g_autofree gchar *id_uri =
		    g_strdup_printf("./GwMO/Inventory/Devices/%u/DeviceID", i);
		g_autofree gchar *mode_uri = g_strdup_printf("./GwMO/Inventory/Devices/%u/Mode", i);
		g_autofree gchar *want = g_strdup_printf("TEST-DEV-%u", i);
		g_autofree gchar *id = NULL;
		g_autofree gchar *mode = NULL;
		for (guint k = 0; k < 400 && g_strcmp0(id, want) != 0; k++) {
			g_free(id);
			id = get_value(e->d, id_uri, NULL);
			if (g_strcmp0(id, want) != 0)
				g_usleep(25 * 1000);
		}
		g_assert_cmpstr(id, ==, want);
		mode = get_value(e->d, mode_uri, NULL);
		g_assert_cmpstr(mode, ==, "3");
	}
	{
		g_autofree gchar *modes = get_value(e->d, "./GwMO/Config/SupportedModes", NULL);
		g_assert_cmpstr(modes, ==, "1,2,3");
	}

	/* the group: three OMA DM devices (two notified sessions each) and the three others */
	group =
	    gw_test_call(e->d, "CreateGroup", g_variant_new("(ss)", "mixed", ""), "(o)", &error);
	g_assert_no_error(error);
	g_variant_get(group, "(&o)", &group_path);
	server = server_start(e, script, record, CL_SECRET, "--sessions=3", NULL);
	for (guint i = 1; i <= 3; i++) {
		g_autofree gchar *id = g_strdup_printf("live-%02u", i);
		g_ptr_array_add(
		    devs, dev_spawn_full(e, id, "mixed", TRUE, FALSE, 2, "device-tree-test.xml"));
	}
	for (guint i = 1; i <= 3; i++) {
		g_autofree gchar *id = g_strdup_printf("TEST-DEV-%u", i);
		g_autoptr(GVariant) reply = g_dbus_connection_call_sync(e->d->connection,
		                                                        "org.gwmo.Gateway1",
		                                                        group_path,
		                                                        "org.gwmo.Gateway1.Group",
		                                                        "AddMember",
		                                                        g_variant_new("(s)", id),
		                                                        NULL,
		                                                        G_DBUS_CALL_FLAGS_NONE,
		                                                        -1,
		                                                        NULL,
		                                                        &error);
		g_assert_no_error(error);
	}
	wait_registered(e, devs);

	/* the server's two sessions: each job's aggregated result in the held reply (flow Y) */
	e2e_start_session(e->d);
	e2e_start_session(e->d);

	/* an adapter device leaves: DeviceDetached for the server (a session of its own) */
	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", TRUE);
	sub = watch_finished(e->d, &f);
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(
	    &b, "{sv}", "Devices", g_variant_new_strv((const gchar *[]){"TEST-DEV-3", NULL}, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Exec"));
	g_variant_builder_add(
	    &b, "{sv}", "TargetURI", g_variant_new_string("./Test/Operations/Leave"));
	g_free(fanout(e->d, &b, &error));
	g_assert_no_error(error);
	g_assert_true(wait_finished(&f, 30));
	g_assert_nonnull(strstr(f.xml, "<Device id=\"TEST-DEV-3\" status=\"200\"/>"));
	server_wait(server);
	detached_uri = get_value(e->d, "./GwMO/Inventory/Devices/3/Status", NULL);
	g_assert_cmpstr(detached_uri, ==, "Detached");

	sessions = record_sessions(record, &parser);
	g_assert_cmpuint(json_array_get_length(sessions), ==, 3);
	/* session 1: Replace and Exec on all six, one document each */
	doc = job_document(json_array_get_object_element(sessions, 0), "r");
	g_test_message("r: %s", doc);
	g_assert_nonnull(
	    strstr(doc, "state=\"Complete\" total=\"6\" succeeded=\"6\" failed=\"0\""));
	doc = job_document(json_array_get_object_element(sessions, 0), "x");
	g_test_message("x: %s", doc);
	g_assert_nonnull(
	    strstr(doc, "state=\"Complete\" total=\"6\" succeeded=\"6\" failed=\"0\""));
	for (guint i = 1; i <= 3; i++) {
		g_autofree gchar *echo = g_strdup_printf(
		    "<Device id=\"TEST-DEV-%u\" status=\"200\"><Data format=\"chr\">hi</Data>", i);
		g_autofree gchar *live =
		    g_strdup_printf("<Device id=\"live-%02u\" status=\"200\"/>", i);
		g_assert_nonnull(strstr(doc, echo));
		g_assert_nonnull(strstr(doc, live));
	}
	/* session 2: what the Replace wrote, read back from all six; DevInfo/Man of each kind */
	doc = job_document(json_array_get_object_element(sessions, 1), "g");
	g_test_message("g: %s", doc);
	g_assert_nonnull(
	    strstr(doc, "state=\"Complete\" total=\"6\" succeeded=\"6\" failed=\"0\""));
	g_assert_cmpuint(
	    count_substr(doc, "status=\"200\"><Data format=\"bool\">true</Data>"), ==, 6);
	g_assert_nonnull(strstr(doc, "<Aggregate distinct=\"1\"/>"));
	doc = job_document(json_array_get_object_element(sessions, 1), "m");
	g_test_message("m: %s", doc);
	g_assert_nonnull(
	    strstr(doc, "state=\"Complete\" total=\"6\" succeeded=\"6\" failed=\"0\""));
	g_assert_cmpuint(count_substr(doc, "<Data format=\"chr\">gwmo test device</Data>"), ==, 3);
	g_assert_cmpuint(count_substr(doc, "<Data format=\"chr\">gwmo</Data>"), ==, 3);
	g_assert_nonnull(strstr(doc, "<Aggregate distinct=\"2\"/>"));
	/* session 3, the gateway's: TEST-DEV-3 detached */
	alert = session_alert(json_array_get_object_element(sessions, 2),
	                      "urn:oma:at:gwmo:1.0:DeviceDetached");
	g_assert_nonnull(alert);
	g_assert_nonnull(strstr(json_object_get_string_member(alert, "data"), "TEST-DEV-3"));
	/* the OMA DM devices ran their two notified sessions and changed their own trees */
	assert_replaced(devs, 3, "./Test/Switch", "true");
	g_dbus_connection_signal_unsubscribe(e->d->connection, sub);
	g_free(f.path);
	g_free(f.xml);
	gw_test_daemon_stop(e->d);
	env_free(e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 4) {
		g_printerr("usage: %s PATH-TO-gwmo-test-server PATH-TO-gwmo-test-device "
		           "PATH-TO-libgw_plugin_test.so\n",
		           argv[0]);
		return 2;
	}
	server_binary = argv[1];
	device_binary = argv[2];
	test_plugin_path = argv[3];
	g_test_add_func("/gw/e2e/fanout/proxy-single", test_proxy_single);
	g_test_add_func("/gw/e2e/fanout/group-sync", test_group_sync);
	g_test_add_func("/gw/e2e/fanout/group-async", test_group_async);
	g_test_add_func("/gw/e2e/fanout/sync-wait-expires", test_sync_wait_expires);
	g_test_add_func("/gw/e2e/fanout/dbus-replace", test_dbus_replace);
	g_test_add_func("/gw/e2e/fanout/cancel", test_cancel);
	g_test_add_func("/gw/e2e/fanout/polling-device", test_polling_device);
	g_test_add_func("/gw/e2e/fanout/resume", test_resume);
	g_test_add_func("/gw/e2e/fanout/mixed-adapters", test_mixed_adapters);
	return g_test_run();
}
