/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * polkit (issue 16 §1): the real gwmod --system on a private system-type bus, with the real
 * polkitd started by the test on that bus, loaded with the project's policy and rules files.
 * polkitd reads actions only from /usr/share/polkit-1/actions and rules from
 * /etc|/usr/share/polkit-1/rules.d, so it runs in a private mount namespace of the test's
 * own (unshare --mount) in which temporary directories are bind-mounted over /usr/share/polkit-1
 * and /etc/polkit-1, and copies of /etc/passwd and /etc/group that add the system user "gwmo"
 * and a user "gwmo-polkit-test", both in a group "gwmo"; the host's files are not touched
 * (dbus-daemon runs with the same copies). gwmod itself runs outside that namespace (the
 * host's /etc/group has no such member), as the gwmo user (its uid) like in production, so a
 * change that member is allowed to make was allowed by polkit, not by gwmod's own fallback
 * rule, and polkitd answers gwmod's checks because the actions name gwmo as their owner.
 *
 * The bus runs with the shipped policy (data/org.gwmo.Gateway1.conf: default deny, the changes
 * let through by name for polkit to judge), so a change it forgets fails here with
 * AccessDenied. Callers are Debian's gdbus run with dropped privileges:
 *  - polkitd sees exactly the project's actions (so the namespace trick works);
 *  - nobody (uid 65534, not in gwmo) calls every mutating method of the introspection XML
 *    in data/ (every method that is not one of the reads below: a new method is mutating
 *    until the test knows better) and each is refused with PermissionDenied naming its polkit
 *    action, and changes nothing; every read method and every property read succeeds;
 *  - gwmo-polkit-test (in gwmo as polkitd sees it) gets past the check of every one;
 *  - root gets past the check of every one.
 * "Gets past the check" is: the call succeeds or fails with a gwmo error other than
 * PermissionDenied (StartSession of a server that does not answer fails with Network).
 * Needs root, unshare and polkitd (skips otherwise, with the reason).
 */

#define _GNU_SOURCE /* setresuid, setresgid */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define GW_NAME "org.gwmo.Gateway1"
#define GW_PATH "/org/gwmo/Gateway1"
#define GW_IFACE_PREFIX "org.gwmo.Gateway1."
#define POLKITD "/usr/lib/polkit-1/polkitd"
#define WAIT_S 60

/* argv: the built policy (data/org.gwmo.gateway1.policy), the source's data/ (the
 * introspection XML and org.gwmo.gateway1.rules) */
static gchar *policy_path;
static gchar *data_dir;

/* the reads: methods that need no action; everything else in the XML is a change */
static const gchar *const reads[] = {"Manager.GetNode",
                                     "Manager.ListChildren",
                                     "Manager.ExportTree",
                                     NULL};

/* every change of the XML, in the order the allowed callers make them (removals last), with
 * its action (docs/man/gwmod.8.md) */
typedef struct {
	const gchar *method; /* Interface.Method, without org.gwmo.Gateway1. */
	const gchar *action;
} Change;

static const Change changes[] = {
    {"Device.SetMode", "org.gwmo.gateway1.manage-devices"},
    {"Group.AddMember", "org.gwmo.gateway1.manage-devices"},
    {"Group.RemoveMember", "org.gwmo.gateway1.manage-devices"},
    {"Job.Cancel", "org.gwmo.gateway1.run-jobs"},
    {"Image.Download", "org.gwmo.gateway1.manage-images"},
    {"Plugin.Reset", "org.gwmo.gateway1.manage-plugins"},
    {"Server.StartSession", "org.gwmo.gateway1.run-jobs"},
    {"Manager.SetNode", "org.gwmo.gateway1.change-tree"},
    {"Manager.QueueAlert", "org.gwmo.gateway1.run-jobs"},
    {"Manager.StartSession", "org.gwmo.gateway1.run-jobs"},
    {"Manager.Bootstrap", "org.gwmo.gateway1.bootstrap"},
    {"Manager.CreateGroup", "org.gwmo.gateway1.manage-devices"},
    {"Manager.AddDevice", "org.gwmo.gateway1.manage-devices"},
    {"Manager.AddImage", "org.gwmo.gateway1.manage-images"},
    {"Manager.Fanout", "org.gwmo.gateway1.run-jobs"},
    {"Image.Remove", "org.gwmo.gateway1.manage-images"},
    {"Manager.DeleteNode", "org.gwmo.gateway1.change-tree"},
    {"Manager.RemoveDevice", "org.gwmo.gateway1.manage-devices"},
};

typedef struct {
	gchar *tmpdir;
	GSubprocess *bus;
	gchar *address;
	GSubprocess *polkitd;
	GSubprocess *gwmod;
	gchar *gwmod_log;
	GDBusConnection *connection; /* root's */
	uid_t member_uid;
	gid_t member_gid;
	gid_t gwmo_gid;
	uid_t gwmo_uid;         /* the user gwmod runs as in production, as polkitd sees it */
	gboolean gwmod_as_gwmo; /* run gwmod as that user, not as root */
	GPtrArray *interfaces;  /* GDBusInterfaceInfo of data/org.gwmo.Gateway1.*.xml */
} Fixture;

/* one caller's credentials */
typedef struct {
	const gchar *name;
	uid_t uid;
	gid_t gid;
	gid_t groups[1];
	gsize n_groups;
} Caller;

/* the objects of one round: made by root, then called by the callers */
typedef struct {
	gchar *run;
	GHashTable *paths; /* short interface name ("Device") → object path */
} Objects;

static void
objects_free(Objects *o)
{
	g_free(o->run);
	g_hash_table_unref(o->paths);
	g_free(o);
}

/* ---- processes ---- */

static void
die_with_test(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
drop_privileges(gpointer user_data)
{
	const Caller *c = user_data;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (setgroups(c->n_groups, c->groups) != 0 || setresgid(c->gid, c->gid, c->gid) != 0 ||
	    setresuid(c->uid, c->uid, c->uid) != 0)
		_exit(127);
}

static void
stop_process(GSubprocess **proc)
{
	if (*proc == NULL)
		return;
	g_subprocess_send_signal(*proc, SIGTERM);
	g_subprocess_wait(*proc, NULL, NULL);
	g_clear_object(proc);
}

static void
name_appeared_cb(GDBusConnection *connection,
                 const gchar *name,
                 const gchar *owner,
                 gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
}

static gboolean
timeout_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* waits (bounded) for @name to get an owner on the private bus, or for @proc to exit */
static gboolean
wait_for_name(Fixture *f, const gchar *name, GSubprocess *proc)
{
	gboolean appeared = FALSE;
	gboolean timed_out = FALSE;
	guint watch = g_bus_watch_name_on_connection(f->connection,
	                                             name,
	                                             G_BUS_NAME_WATCHER_FLAGS_NONE,
	                                             name_appeared_cb,
	                                             NULL,
	                                             &appeared,
	                                             NULL);
	guint timer = g_timeout_add_seconds(WAIT_S, timeout_cb, &timed_out);

	while (!appeared && !timed_out && g_subprocess_get_identifier(proc) != NULL)
		g_main_context_iteration(NULL, TRUE);
	g_bus_unwatch_name(watch);
	if (!timed_out)
		g_source_remove(timer);
	return appeared;
}

static void
mkdir_or_die(const gchar *path)
{
	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

static void
copy_or_die(const gchar *from, const gchar *to)
{
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error = NULL;

	g_file_get_contents(from, &text, NULL, &error);
	g_assert_no_error(error);
	g_file_set_contents(to, text, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(to, 0644), ==, 0);
}

/* a uid/gid nobody uses, counting down from @start */
static guint
free_id(guint start, gboolean group, guint not_this)
{
	for (guint id = start; id > 1000; id--) {
		if (id == not_this)
			continue;
		if (group ? getgrgid(id) == NULL : getpwuid(id) == NULL)
			return id;
	}
	g_assert_not_reached();
}

/* /etc/passwd and /etc/group as polkitd sees them: the host's, plus gwmo-polkit-test in a
 * group gwmo (a gwmo group the host may have is left out) */
static void
write_accounts(Fixture *f, const gchar *passwd_path, const gchar *group_path)
{
	g_autofree gchar *passwd = NULL;
	g_autofree gchar *group = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) error = NULL;

	f->member_uid = free_id(64990, FALSE, 0);
	f->member_gid = free_id(64990, TRUE, 0);
	f->gwmo_gid = free_id(64990, TRUE, f->member_gid);
	f->gwmo_uid = free_id(f->member_uid - 1, FALSE, 0);

	g_file_get_contents("/etc/passwd", &passwd, NULL, &error);
	g_assert_no_error(error);
	lines = g_strsplit(passwd, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == '\0' || g_str_has_prefix(lines[i], "gwmo:"))
			continue;
		g_string_append_printf(out, "%s\n", lines[i]);
	}
	g_clear_pointer(&lines, g_strfreev);
	g_string_append_printf(out,
	                       "gwmo:x:%u:%u::/nonexistent:/usr/sbin/nologin\n",
	                       (guint)f->gwmo_uid,
	                       (guint)f->gwmo_gid);
	g_string_append_printf(out,
	                       "gwmo-polkit-test:x:%u:%u::/nonexistent:/usr/sbin/nologin\n",
	                       (guint)f->member_uid,
	                       (guint)f->member_gid);
	g_file_set_contents(passwd_path, out->str, -1, &error);
	g_assert_no_error(error);

	g_string_truncate(out, 0);
	g_file_get_contents("/etc/group", &group, NULL, &error);
	g_assert_no_error(error);
	lines = g_strsplit(group, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == '\0' || g_str_has_prefix(lines[i], "gwmo:"))
			continue;
		g_string_append_printf(out, "%s\n", lines[i]);
	}
	g_string_append_printf(out, "gwmo-polkit-test:x:%u:\n", (guint)f->member_gid);
	g_string_append_printf(out, "gwmo:x:%u:gwmo-polkit-test\n", (guint)f->gwmo_gid);
	g_file_set_contents(group_path, out->str, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(passwd_path, 0644), ==, 0);
	g_assert_cmpint(g_chmod(group_path, 0644), ==, 0);
}

static void
start_bus(Fixture *f)
{
	g_autofree gchar *conf_path = g_build_filename(f->tmpdir, "system-bus.conf", NULL);
	g_autofree gchar *shipped = g_build_filename(data_dir, "org.gwmo.Gateway1.conf", NULL);
	/* everything is allowed (polkitd owns its name, gwmod its own), then the shipped policy
	 * of gwmod: its default deny and the changes it lets through for polkit to judge */
	g_autofree gchar *conf = g_strdup_printf(
	    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
	    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	    "<busconfig>\n"
	    "  <type>system</type>\n"
	    "  <listen>unix:path=%s/system_bus_socket</listen>\n"
	    "  <auth>EXTERNAL</auth>\n"
	    "  <policy context=\"default\">\n"
	    "    <allow user=\"*\"/> <allow own=\"*\"/>\n"
	    "    <allow send_destination=\"*\"/> <allow receive_sender=\"*\"/>\n"
	    "  </policy>\n"
	    "  <include>%s</include>\n"
	    "</busconfig>\n",
	    f->tmpdir,
	    shipped);
	g_autofree gchar *arg = g_strconcat("--config-file=", conf_path, NULL);
	g_autofree gchar *passwd = g_build_filename(f->tmpdir, "passwd", NULL);
	g_autofree gchar *group = g_build_filename(f->tmpdir, "group", NULL);
	/* in a mount namespace with the accounts polkitd sees: dbus-daemon refuses a uid it
	 * cannot find the groups of */
	const gchar *argv[] = {
	    "unshare",
	    "--mount",
	    "--propagation",
	    "private",
	    "--",
	    "sh",
	    "-c",
	    "set -e; mount --bind \"$1\" /etc/passwd; mount --bind \"$2\" /etc/group;"
	    " shift 2; exec \"$@\"",
	    "sh",
	    passwd,
	    group,
	    "dbus-daemon",
	    "--nofork",
	    "--print-address=1",
	    arg,
	    NULL};
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GError) error = NULL;

	g_file_set_contents(conf_path, conf, -1, &error);
	g_assert_no_error(error);
	write_accounts(f, passwd, group);
	g_subprocess_launcher_set_child_setup(launcher, die_with_test, NULL, NULL);
	f->bus = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->bus));
	f->address = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->address);
	f->connection = g_dbus_connection_new_for_address_sync(
	    f->address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
	        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL,
	    NULL,
	    &error);
	g_assert_no_error(error);
}

static void
start_polkitd(Fixture *f)
{
	g_autofree gchar *share = g_build_filename(f->tmpdir, "polkit-share", NULL);
	g_autofree gchar *etc = g_build_filename(f->tmpdir, "polkit-etc", NULL);
	g_autofree gchar *actions = g_build_filename(share, "actions", NULL);
	g_autofree gchar *rules = g_build_filename(share, "rules.d", NULL);
	g_autofree gchar *etc_rules = g_build_filename(etc, "rules.d", NULL);
	g_autofree gchar *policy = g_build_filename(actions, "org.gwmo.gateway1.policy", NULL);
	g_autofree gchar *rules_file = g_build_filename(rules, "org.gwmo.gateway1.rules", NULL);
	g_autofree gchar *passwd = g_build_filename(f->tmpdir, "passwd", NULL);
	g_autofree gchar *group = g_build_filename(f->tmpdir, "group", NULL);
	g_autofree gchar *log = g_build_filename(f->tmpdir, "polkitd.log", NULL);
	g_autofree gchar *rules_src = g_build_filename(data_dir, "org.gwmo.gateway1.rules", NULL);
	const gchar *argv[] = {
	    "unshare",
	    "--mount",
	    "--propagation",
	    "private",
	    "--",
	    "sh",
	    "-c",
	    "set -e; mount --bind \"$1\" /usr/share/polkit-1; mount --bind \"$2\" /etc/polkit-1;"
	    " mount --bind \"$3\" /etc/passwd; mount --bind \"$4\" /etc/group;"
	    " exec " POLKITD " --no-debug",
	    "sh",
	    share,
	    etc,
	    passwd,
	    group,
	    NULL,
	};
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;

	mkdir_or_die(actions);
	mkdir_or_die(rules);
	mkdir_or_die(etc_rules);
	copy_or_die(policy_path, policy);
	copy_or_die(rules_src, rules_file);

	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", f->address, TRUE);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	g_subprocess_launcher_set_child_setup(launcher, die_with_test, NULL, NULL);
	f->polkitd = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	if (!wait_for_name(f, "org.freedesktop.PolicyKit1", f->polkitd)) {
		g_autofree gchar *text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		g_printerr("polkitd did not come up; its log:\n%s\n", text);
		g_assert_not_reached();
	}
}

/* gwmod runs as the gwmo user from the build tree: a checkout in a directory only root may
 * enter (mktemp -d makes it 0700) would keep it from its own binary and plugins. Each
 * directory above @path gets the search bit for others where it lacks it (search only: no
 * listing, no read). */
static void
let_others_reach(const gchar *path)
{
	g_autofree gchar *dir = g_path_get_dirname(path);

	while (g_strcmp0(dir, "/") != 0 && g_strcmp0(dir, ".") != 0) {
		GStatBuf st;
		gchar *parent;

		g_assert_cmpint(g_stat(dir, &st), ==, 0);
		if ((st.st_mode & S_IXOTH) == 0) {
			g_test_message("giving others search permission on %s", dir);
			g_assert_cmpint(g_chmod(dir, (st.st_mode & 07777) | S_IXOTH), ==, 0);
		}
		parent = g_path_get_dirname(dir);
		g_free(dir);
		dir = parent;
	}
}

static void
start_gwmod(Fixture *f)
{
	g_autofree gchar *conf_path = g_build_filename(f->tmpdir, "gwmod.conf", NULL);
	g_autofree gchar *state = g_build_filename(f->tmpdir, "state", NULL);
	g_autofree gchar *plugin_dir = g_path_get_dirname(g_getenv("GWMO_TEST_PLUGIN_PATH"));
	const gchar *conf = "[device]\ndev-id=GW-POLKIT-0001\nmanufacturer=gwmo tests\n"
	                    "[gateway]\ndefault-mode=2\n"
	                    "[northbound]\nlisten=\n[southbound]\nlisten=\n"
	                    "[discovery]\nenabled=false\n[test]\ndevices=1\n";
	const gchar *argv[] = {g_getenv("GWMO_TEST_GWMOD"),
	                       "--system",
	                       "--verbose",
	                       "--config",
	                       conf_path,
	                       "--state-dir",
	                       state,
	                       "--plugin-dir",
	                       plugin_dir,
	                       NULL};
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;

	/* as in production: the gwmo user (polkitd lets it check for others because the actions
	 * name it as their owner), or root */
	Caller daemon = {"gwmo", f->gwmo_uid, f->gwmo_gid, {f->gwmo_gid}, 1};

	g_file_set_contents(conf_path, conf, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_mkdir(state, 0700), ==, 0);
	if (f->gwmod_as_gwmo) {
		g_assert_cmpint(chown(state, f->gwmo_uid, f->gwmo_gid), ==, 0);
		let_others_reach(argv[0]);
		let_others_reach(conf_path);
		let_others_reach(g_getenv("GWMO_TEST_PLUGIN_PATH"));
	}
	f->gwmod_log = g_build_filename(f->tmpdir, "gwmod.log", NULL);
	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", f->address, TRUE);
	g_subprocess_launcher_unsetenv(launcher, "STATE_DIRECTORY");
	g_subprocess_launcher_set_stderr_file_path(launcher, f->gwmod_log);
	if (f->gwmod_as_gwmo)
		g_subprocess_launcher_set_child_setup(launcher, drop_privileges, &daemon, NULL);
	else
		g_subprocess_launcher_set_child_setup(launcher, die_with_test, NULL, NULL);
	f->gwmod = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	if (!wait_for_name(f, GW_NAME, f->gwmod)) {
		g_autofree gchar *text = NULL;
		g_file_get_contents(f->gwmod_log, &text, NULL, NULL);
		g_printerr("gwmod did not come up; its log:\n%s\n", text);
		g_assert_not_reached();
	}
}

static void
load_interfaces(Fixture *f)
{
	const gchar *dir = data_dir;
	g_autoptr(GDir) d = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *name;

	f->interfaces = g_ptr_array_new_with_free_func((GDestroyNotify)g_dbus_interface_info_unref);
	d = g_dir_open(dir, 0, &error);
	g_assert_no_error(error);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree gchar *path = NULL;
		g_autofree gchar *xml = NULL;
		g_autoptr(GDBusNodeInfo) node = NULL;

		if (!g_str_has_prefix(name, GW_IFACE_PREFIX) || !g_str_has_suffix(name, ".xml"))
			continue;
		path = g_build_filename(dir, name, NULL);
		g_file_get_contents(path, &xml, NULL, &error);
		g_assert_no_error(error);
		node = g_dbus_node_info_new_for_xml(xml, &error);
		g_assert_no_error(error);
		for (guint i = 0; node->interfaces != NULL && node->interfaces[i] != NULL; i++)
			g_ptr_array_add(f->interfaces,
			                g_dbus_interface_info_ref(node->interfaces[i]));
	}
	/* Manager, Device, Group, Server, Image, Job, Plugin */
	g_assert_cmpuint(f->interfaces->len, >=, 7);
}

static Fixture *
fixture_new(gboolean with_polkitd)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autoptr(GError) error = NULL;

	f->tmpdir = g_dir_make_tmp("gwmo-polkit-XXXXXX", &error);
	g_assert_no_error(error);
	/* the callers (nobody, the member) reach the bus socket; polkitd its files */
	g_assert_cmpint(g_chmod(f->tmpdir, 0755), ==, 0);
	load_interfaces(f);
	start_bus(f);
	if (with_polkitd)
		start_polkitd(f);
	f->gwmod_as_gwmo = with_polkitd;
	start_gwmod(f);
	return f;
}

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;

	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			rm_rf(child);
		}
	}
	g_remove(path);
}

static void
fixture_free(Fixture *f)
{
	/* gwmod stops cleanly (under ASan: without a leak or an error) */
	g_subprocess_send_signal(f->gwmod, SIGTERM);
	g_subprocess_wait(f->gwmod, NULL, NULL);
	if (!g_subprocess_get_if_exited(f->gwmod) || g_subprocess_get_exit_status(f->gwmod) != 0) {
		g_autofree gchar *text = NULL;
		g_file_get_contents(f->gwmod_log, &text, NULL, NULL);
		g_printerr("gwmod did not stop cleanly; its log:\n%s\n", text);
		g_test_fail();
	}
	g_clear_object(&f->gwmod);
	stop_process(&f->polkitd);
	g_clear_object(&f->connection);
	stop_process(&f->bus);
	rm_rf(f->tmpdir);
	g_free(f->tmpdir);
	g_free(f->address);
	g_free(f->gwmod_log);
	g_ptr_array_unref(f->interfaces);
	g_free(f);
}

/* ---- calls ---- */

static GVariant *
root_call(Fixture *f,
          const gchar *path,
          const gchar *iface,
          const gchar *method,
          GVariant *args,
          const gchar *reply_type)
{
	g_autoptr(GError) error = NULL;
	GVariant *reply = g_dbus_connection_call_sync(f->connection,
	                                              GW_NAME,
	                                              path,
	                                              iface,
	                                              method,
	                                              args,
	                                              G_VARIANT_TYPE(reply_type),
	                                              G_DBUS_CALL_FLAGS_NONE,
	                                              WAIT_S * 1000,
	                                              NULL,
	                                              &error);
	g_assert_no_error(error);
	return reply;
}

static gchar *
root_call_path(Fixture *f, const gchar *method, GVariant *args)
{
	g_autoptr(GVariant) reply =
	    root_call(f, GW_PATH, GW_IFACE_PREFIX "Manager", method, args, "(o)");
	gchar *path = NULL;

	g_variant_get(reply, "(o)", &path);
	return path;
}

/* the object paths that implement @iface (a full interface name) now */
static GPtrArray *
objects_with(Fixture *f, const gchar *iface)
{
	g_autoptr(GVariant) reply = root_call(f,
	                                      GW_PATH,
	                                      "org.freedesktop.DBus.ObjectManager",
	                                      "GetManagedObjects",
	                                      NULL,
	                                      "(a{oa{sa{sv}}})");
	g_autoptr(GVariant) objects = g_variant_get_child_value(reply, 0);
	g_autoptr(GVariant) ifaces = NULL;
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
	GVariantIter iter;
	const gchar *path;

	g_variant_iter_init(&iter, objects);
	while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
		g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, iface, NULL);
		if (props != NULL)
			g_ptr_array_add(paths, g_strdup(path));
		g_clear_pointer(&ifaces, g_variant_unref);
	}
	return paths;
}

/* every object gwmod exports: a change would add or remove one */
static guint
count_objects(Fixture *f)
{
	g_autoptr(GVariant) reply = root_call(f,
	                                      GW_PATH,
	                                      "org.freedesktop.DBus.ObjectManager",
	                                      "GetManagedObjects",
	                                      NULL,
	                                      "(a{oa{sa{sv}}})");
	g_autoptr(GVariant) objects = g_variant_get_child_value(reply, 0);

	return (guint)g_variant_n_children(objects);
}

static gchar *
dmacc_tnds(const gchar *name, const gchar *server_id)
{
	return g_strdup_printf(
	    "<MgmtTree><VerDTD>1.2</VerDTD>"
	    "<Node><NodeName>%s</NodeName><Path>./DMAcc</Path>"
	    " <Node><NodeName>ServerID</NodeName><Value>%s</Value></Node>"
	    " <Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>"
	    "  <Node><NodeName>Addr</NodeName><Value>https://127.0.0.1:1/dm</Value></Node>"
	    "  <Node><NodeName>AddrType</NodeName><Value>URI</Value></Node></Node></Node>"
	    " <Node><NodeName>AppAuth</NodeName><Node><NodeName>1</NodeName>"
	    "  <Node><NodeName>AAuthLevel</NodeName><Value>CLCRED</Value></Node>"
	    "  <Node><NodeName>AAuthType</NodeName><Value>DIGEST</Value></Node>"
	    "  <Node><NodeName>AAuthName</NodeName><Value>gw</Value></Node>"
	    "  <Node><NodeName>AAuthSecret</NodeName><Value>gw-secret</Value></Node></Node></Node>"
	    "</Node></MgmtTree>",
	    name,
	    server_id);
}

static GVariant *
image_spec(const gchar *name)
{
	g_autofree gchar *hash = g_strconcat("sha256:",
	                                     "0123456789abcdef0123456789abcdef",
	                                     "0123456789abcdef0123456789abcdef",
	                                     NULL);
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(name));
	g_variant_builder_add(
	    &b, "{sv}", "ExternalURI", g_variant_new_string("http://127.0.0.1:1/img"));
	g_variant_builder_add(&b, "{sv}", "Hash", g_variant_new_string(hash));
	return g_variant_builder_end(&b);
}

static GVariant *
fanout_spec(const gchar *device_id)
{
	const gchar *devices[] = {device_id, NULL};
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "Devices", g_variant_new_strv(devices, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string("Get"));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string("./DevInfo/FwV"));
	return g_variant_builder_end(&b);
}

/* root makes one object of every kind (the server account through Bootstrap) */
static Objects *
make_objects(Fixture *f, const gchar *run)
{
	Objects *o = g_new0(Objects, 1);
	g_autofree gchar *acc = g_strdup_printf("acc%s", run);
	g_autofree gchar *server_id = g_strdup_printf("srv-%s.example", run);
	g_autofree gchar *tnds = dmacc_tnds(acc, server_id);
	g_autofree gchar *group_id = g_strdup_printf("grp-%s", run);
	g_autofree gchar *device_id = g_strdup_printf("dev-%s", run);
	g_autofree gchar *image = g_strdup_printf("img-%s", run);
	g_autofree gchar *server_path = g_strdup_printf(GW_PATH "/Servers/%s", acc);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GPtrArray) plugins = NULL;
	GVariantBuilder b;

	o->run = g_strdup(run);
	o->paths = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_hash_table_insert(o->paths, (gpointer) "Manager", g_strdup(GW_PATH));

	reply = root_call(f,
	                  GW_PATH,
	                  GW_IFACE_PREFIX "Manager",
	                  "Bootstrap",
	                  g_variant_new("(sss)", tnds, ".", ""),
	                  "()");
	g_hash_table_insert(o->paths, (gpointer) "Server", g_strdup(server_path));
	g_hash_table_insert(o->paths,
	                    (gpointer) "Group",
	                    root_call_path(f, "CreateGroup", g_variant_new("(ss)", group_id, "")));
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(device_id));
	g_hash_table_insert(
	    o->paths,
	    (gpointer) "Device",
	    root_call_path(f, "AddDevice", g_variant_new("(@a{sv})", g_variant_builder_end(&b))));
	g_hash_table_insert(
	    o->paths,
	    (gpointer) "Job",
	    root_call_path(f, "Fanout", g_variant_new("(@a{sv})", fanout_spec(device_id))));
	g_hash_table_insert(
	    o->paths,
	    (gpointer) "Image",
	    root_call_path(f, "AddImage", g_variant_new("(@a{sv})", image_spec(image))));
	plugins = objects_with(f, GW_IFACE_PREFIX "Plugin");
	g_assert_cmpuint(plugins->len, >, 0);
	g_hash_table_insert(o->paths, (gpointer) "Plugin", g_strdup(g_ptr_array_index(plugins, 0)));

	/* the account's object follows the tree: wait for it (bounded) */
	for (guint i = 0; i < WAIT_S * 20; i++) {
		g_autoptr(GPtrArray) servers = objects_with(f, GW_IFACE_PREFIX "Server");
		if (g_ptr_array_find_with_equal_func(servers, server_path, g_str_equal, NULL))
			return o;
		g_usleep(50 * 1000);
	}
	g_error("%s never appeared", server_path);
}

/* the arguments of a change in round @o (valid: the check is reached) */
static GVariant *
change_args(const gchar *method, Objects *o)
{
	const gchar *run = o->run;

	if (g_strcmp0(method, "Device.SetMode") == 0)
		return g_variant_new("(u)", 1);
	if (g_strcmp0(method, "Group.AddMember") == 0 ||
	    g_strcmp0(method, "Group.RemoveMember") == 0) {
		g_autofree gchar *id = g_strdup_printf("dev-%s", run);
		return g_variant_new("(s)", id);
	}
	if (g_strcmp0(method, "Job.Cancel") == 0 || g_strcmp0(method, "Image.Download") == 0 ||
	    g_strcmp0(method, "Image.Remove") == 0 || g_strcmp0(method, "Plugin.Reset") == 0 ||
	    g_strcmp0(method, "Server.StartSession") == 0)
		return g_variant_new("()");
	if (g_strcmp0(method, "Manager.SetNode") == 0) {
		g_autofree gchar *uri =
		    g_strdup_printf("./GwMO/Config/Servers/acc%s/InventoryAlert", run);
		return g_variant_new("(ssv)", uri, "bool", g_variant_new_boolean(FALSE));
	}
	if (g_strcmp0(method, "Manager.QueueAlert") == 0) {
		g_autofree gchar *sid = g_strdup_printf("srv-%s.example", run);
		GVariantBuilder b;
		g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(
		    &b, "{sv}", "Type", g_variant_new_string("urn:oma:at:gwmo:test"));
		return g_variant_new("(s@a{sv})", sid, g_variant_builder_end(&b));
	}
	if (g_strcmp0(method, "Manager.StartSession") == 0) {
		g_autofree gchar *sid = g_strdup_printf("srv-%s.example", run);
		return g_variant_new("(s)", sid);
	}
	if (g_strcmp0(method, "Manager.Bootstrap") == 0) {
		g_autofree gchar *acc = g_strdup_printf("acc%sb", run);
		g_autofree gchar *sid = g_strdup_printf("srv-%s-b.example", run);
		g_autofree gchar *tnds = dmacc_tnds(acc, sid);
		return g_variant_new("(sss)", tnds, ".", "");
	}
	if (g_strcmp0(method, "Manager.CreateGroup") == 0) {
		g_autofree gchar *id = g_strdup_printf("grp-%s-b", run);
		return g_variant_new("(ss)", id, "");
	}
	if (g_strcmp0(method, "Manager.AddDevice") == 0) {
		g_autofree gchar *id = g_strdup_printf("dev-%s-b", run);
		GVariantBuilder b;
		g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(&b, "{sv}", "DeviceID", g_variant_new_string(id));
		return g_variant_new("(@a{sv})", g_variant_builder_end(&b));
	}
	if (g_strcmp0(method, "Manager.AddImage") == 0) {
		g_autofree gchar *name = g_strdup_printf("img-%s-b", run);
		return g_variant_new("(@a{sv})", image_spec(name));
	}
	if (g_strcmp0(method, "Manager.Fanout") == 0) {
		g_autofree gchar *id = g_strdup_printf("dev-%s", run);
		return g_variant_new("(@a{sv})", fanout_spec(id));
	}
	if (g_strcmp0(method, "Manager.DeleteNode") == 0) {
		g_autofree gchar *uri = g_strdup_printf("./DMAcc/acc%sb", run);
		return g_variant_new("(s)", uri);
	}
	if (g_strcmp0(method, "Manager.RemoveDevice") == 0)
		return g_variant_new("(o)", (const gchar *)g_hash_table_lookup(o->paths, "Device"));
	g_error("no arguments for %s: add them to change_args()", method);
}

typedef struct {
	gint status; /* gdbus's exit status */
	gchar *out;
	gchar *err;
} CallResult;

static void
call_result_clear(CallResult *r)
{
	g_free(r->out);
	g_free(r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CallResult, call_result_clear)

/* @caller calls with Debian's gdbus (a process of that uid, a connection of its own) */
static void
caller_call(Fixture *f,
            const Caller *caller,
            const gchar *path,
            const gchar *iface,
            const gchar *method,
            GVariant *args,
            CallResult *result)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) sunk = g_variant_ref_sink(args);

	g_ptr_array_add(argv, g_strdup("gdbus"));
	g_ptr_array_add(argv, g_strdup("call"));
	g_ptr_array_add(argv, g_strdup("--system"));
	g_ptr_array_add(argv, g_strdup("--dest"));
	g_ptr_array_add(argv, g_strdup(GW_NAME));
	g_ptr_array_add(argv, g_strdup("--object-path"));
	g_ptr_array_add(argv, g_strdup(path));
	g_ptr_array_add(argv, g_strdup("--method"));
	g_ptr_array_add(argv, g_strconcat(iface, ".", method, NULL));
	g_ptr_array_add(argv, g_strdup("--timeout"));
	g_ptr_array_add(argv, g_strdup_printf("%d", WAIT_S));
	for (gsize i = 0; i < g_variant_n_children(sunk); i++) {
		g_autoptr(GVariant) arg = g_variant_get_child_value(sunk, i);
		g_ptr_array_add(argv, g_variant_print(arg, FALSE));
	}
	g_ptr_array_add(argv, NULL);

	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", f->address, TRUE);
	g_subprocess_launcher_unsetenv(launcher, "DBUS_SESSION_BUS_ADDRESS");
	g_subprocess_launcher_set_child_setup(launcher, drop_privileges, (gpointer)caller, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &result->out, &result->err, &error);
	g_assert_no_error(error);
	result->status = g_subprocess_get_exit_status(proc);
}

static const gchar *
action_of(const gchar *method)
{
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++) {
		if (g_strcmp0(changes[i].method, method) == 0)
			return changes[i].action;
	}
	return NULL;
}

static gboolean
is_read(const gchar *method)
{
	return g_strv_contains(reads, method);
}

/* every method of the XML is a read or a change of the table, and the table holds nothing
 * else: a new method cannot be forgotten */
static void
check_xml_against_table(Fixture *f)
{
	guint n_changes = 0;

	for (guint i = 0; i < f->interfaces->len; i++) {
		GDBusInterfaceInfo *info = g_ptr_array_index(f->interfaces, i);
		const gchar *short_name = info->name + strlen(GW_IFACE_PREFIX);
		for (guint m = 0; info->methods != NULL && info->methods[m] != NULL; m++) {
			g_autofree gchar *method =
			    g_strconcat(short_name, ".", info->methods[m]->name, NULL);
			if (is_read(method))
				continue;
			if (action_of(method) == NULL)
				g_error(
				    "%s changes something (it is no read) but has no polkit action "
				    "in this test (nor, probably, in docs/man/gwmod.8.md)",
				    method);
			n_changes++;
		}
	}
	g_assert_cmpuint(n_changes, ==, G_N_ELEMENTS(changes));
}

static gboolean
in_xml(Fixture *f, const gchar *method)
{
	g_auto(GStrv) parts = g_strsplit(method, ".", 2);
	g_autofree gchar *iface = g_strconcat(GW_IFACE_PREFIX, parts[0], NULL);

	for (guint i = 0; i < f->interfaces->len; i++) {
		GDBusInterfaceInfo *info = g_ptr_array_index(f->interfaces, i);
		if (g_strcmp0(info->name, iface) == 0)
			return g_dbus_interface_info_lookup_method(info, parts[1]) != NULL;
	}
	return FALSE;
}

/* a change by @caller in round @o: refused with PermissionDenied naming its action, or (with
 * @allowed) past the check */
static void
check_change(Fixture *f, const Caller *caller, Objects *o, const Change *change, gboolean allowed)
{
	g_auto(GStrv) parts = g_strsplit(change->method, ".", 2);
	g_autofree gchar *iface = g_strconcat(GW_IFACE_PREFIX, parts[0], NULL);
	const gchar *path = g_hash_table_lookup(o->paths, parts[0]);
	g_auto(CallResult) r = {0};
	gboolean denied;

	g_assert_nonnull(path);
	caller_call(f, caller, path, iface, parts[1], change_args(change->method, o), &r);
	denied = strstr(r.err, "org.gwmo.Gateway1.Error.PermissionDenied") != NULL;
	g_test_message("%s %s on %s: %s%s",
	               caller->name,
	               change->method,
	               path,
	               r.status == 0 ? "ok " : "",
	               r.status == 0 ? r.out : r.err);
	if (!allowed) {
		if (r.status == 0 || !denied) {
			g_printerr("%s was not refused to %s: %s%s\n",
			           change->method,
			           caller->name,
			           r.out,
			           r.err);
			g_test_fail();
		} else if (strstr(r.err, change->action) == NULL) {
			g_printerr("the refusal of %s does not name %s: %s\n",
			           change->method,
			           change->action,
			           r.err);
			g_test_fail();
		}
		return;
	}
	/* past the check: success, or a gwmo error of the state (not the bus's, not gdbus's) */
	if (r.status != 0 &&
	    (denied || strstr(r.err, "GDBus.Error:org.gwmo.Gateway1.Error.") == NULL)) {
		g_printerr("%s was not allowed to %s: %s\n", change->method, caller->name, r.err);
		g_test_fail();
	}
}

/* a Manager call with arguments of the wrong shape: InvalidArgs, not PermissionDenied */
static void
check_invalid(Fixture *f, const Caller *caller, const gchar *method, GVariant *args)
{
	g_auto(CallResult) r = {0};

	caller_call(f, caller, GW_PATH, GW_IFACE_PREFIX "Manager", method, args, &r);
	if (r.status == 0 || strstr(r.err, "org.gwmo.Gateway1.Error.InvalidArgs") == NULL) {
		g_printerr(
		    "%s with bad arguments by %s: %s%s\n", method, caller->name, r.out, r.err);
		g_test_fail();
	}
}

static void
check_read(Fixture *f,
           const Caller *caller,
           const gchar *path,
           const gchar *iface,
           const gchar *method,
           GVariant *args)
{
	g_auto(CallResult) r = {0};

	caller_call(f, caller, path, iface, method, args, &r);
	if (r.status != 0) {
		g_printerr(
		    "%s.%s on %s refused to %s: %s\n", iface, method, path, caller->name, r.err);
		g_test_fail();
	}
}

/* every read of the XML (the read methods, every property, the object manager) */
static void
check_reads(Fixture *f, const Caller *caller, Objects *o)
{
	guint n_reads = 0;

	for (guint i = 0; i < f->interfaces->len; i++) {
		GDBusInterfaceInfo *info = g_ptr_array_index(f->interfaces, i);
		const gchar *short_name = info->name + strlen(GW_IFACE_PREFIX);
		const gchar *path = g_hash_table_lookup(o->paths, short_name);

		g_assert_nonnull(path);
		check_read(f,
		           caller,
		           path,
		           "org.freedesktop.DBus.Properties",
		           "GetAll",
		           g_variant_new("(s)", info->name));
		for (guint p = 0; info->properties != NULL && info->properties[p] != NULL; p++)
			check_read(f,
			           caller,
			           path,
			           "org.freedesktop.DBus.Properties",
			           "Get",
			           g_variant_new("(ss)", info->name, info->properties[p]->name));
		for (guint m = 0; info->methods != NULL && info->methods[m] != NULL; m++) {
			g_autofree gchar *method =
			    g_strconcat(short_name, ".", info->methods[m]->name, NULL);
			GVariant *args;
			if (!is_read(method))
				continue;
			if (g_strcmp0(method, "Manager.GetNode") == 0)
				args = g_variant_new("(s)", "./DevInfo/DevId");
			else if (g_strcmp0(method, "Manager.ListChildren") == 0)
				args = g_variant_new("(s)", ".");
			else
				args = g_variant_new("(s)", "./DevInfo");
			check_read(f, caller, path, info->name, info->methods[m]->name, args);
			n_reads++;
		}
	}
	g_assert_cmpuint(n_reads, ==, g_strv_length((gchar **)reads));
	check_read(f,
	           caller,
	           GW_PATH,
	           "org.freedesktop.DBus.ObjectManager",
	           "GetManagedObjects",
	           g_variant_new("()"));
}

/* polkitd in its namespace sees the project's actions and no other: the trick works */
static void
check_polkitd_actions(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) actions = NULL;
	guint n_ours = 0;

	reply = g_dbus_connection_call_sync(f->connection,
	                                    "org.freedesktop.PolicyKit1",
	                                    "/org/freedesktop/PolicyKit1/Authority",
	                                    "org.freedesktop.PolicyKit1.Authority",
	                                    "EnumerateActions",
	                                    g_variant_new("(s)", ""),
	                                    NULL,
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    WAIT_S * 1000,
	                                    NULL,
	                                    &error);
	g_assert_no_error(error);
	actions = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(actions); i++) {
		g_autoptr(GVariant) action = g_variant_get_child_value(actions, i);
		const gchar *id = NULL;
		g_variant_get_child(action, 0, "&s", &id);
		g_assert_true(g_str_has_prefix(id, "org.gwmo.gateway1."));
		n_ours++;
	}
	/* the actions the changes need, and no more */
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++) {
		gboolean found = FALSE;
		for (gsize k = 0; k < g_variant_n_children(actions); k++) {
			g_autoptr(GVariant) action = g_variant_get_child_value(actions, k);
			const gchar *id = NULL;
			g_variant_get_child(action, 0, "&s", &id);
			found = found || g_strcmp0(id, changes[i].action) == 0;
		}
		g_assert_true(found);
	}
	g_assert_cmpuint(n_ours, ==, 6);
}

static gboolean
can_run(void)
{
	g_autofree gchar *unshare = g_find_program_in_path("unshare");
	g_autofree gchar *gdbus = g_find_program_in_path("gdbus");
	g_autofree gchar *dbus_daemon = g_find_program_in_path("dbus-daemon");

	if (getuid() != 0) {
		g_test_skip("needs root (private mount namespaces for polkitd and the bus, callers "
		            "of other uids)");
		return FALSE;
	}
	if (!g_file_test(POLKITD, G_FILE_TEST_IS_EXECUTABLE)) {
		g_test_skip(POLKITD " is not installed (Debian package polkitd)");
		return FALSE;
	}
	if (unshare == NULL || gdbus == NULL || dbus_daemon == NULL) {
		g_test_skip("needs unshare, gdbus and dbus-daemon");
		return FALSE;
	}
	return TRUE;
}

static void
test_polkit(void)
{
	Fixture *f;
	Objects *a;
	Objects *b;
	Caller nobody = {"nobody", 65534, 65534, {0}, 0};
	Caller member = {"gwmo-polkit-test", 0, 0, {0}, 1};
	Caller root = {"root", 0, 0, {0}, 1};
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) gone = NULL;
	g_autofree gchar *log = NULL;
	guint n_objects;

	if (!can_run())
		return;

	f = fixture_new(TRUE);
	member.uid = f->member_uid;
	member.gid = f->member_gid;
	member.groups[0] = f->gwmo_gid;
	/* the member is in gwmo as polkitd sees it, not as gwmod (the host) does */
	g_assert_null(getpwuid(f->member_uid));

	check_xml_against_table(f);
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++)
		g_assert_true(in_xml(f, changes[i].method));
	check_polkitd_actions(f);
	/* gwmod runs as gwmo, as it does in production: polkitd answers its checks about other
	 * users' subjects because the actions name gwmo as their owner */
	{
		g_autoptr(GVariant) reply =
		    g_dbus_connection_call_sync(f->connection,
		                                "org.freedesktop.DBus",
		                                "/org/freedesktop/DBus",
		                                "org.freedesktop.DBus",
		                                "GetConnectionUnixUser",
		                                g_variant_new("(s)", GW_NAME),
		                                G_VARIANT_TYPE("(u)"),
		                                G_DBUS_CALL_FLAGS_NONE,
		                                WAIT_S * 1000,
		                                NULL,
		                                &error);
		guint32 uid = 0;
		g_assert_no_error(error);
		g_variant_get(reply, "(u)", &uid);
		g_assert_cmpuint(uid, ==, f->gwmo_uid);
	}

	/* nobody: every read succeeds, every change is refused and changes nothing */
	a = make_objects(f, "a");
	n_objects = count_objects(f);
	check_reads(f, &nobody, a);
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++)
		check_change(f, &nobody, a, &changes[i], FALSE);
	gone = g_dbus_connection_call_sync(f->connection,
	                                   GW_NAME,
	                                   GW_PATH,
	                                   GW_IFACE_PREFIX "Manager",
	                                   "GetNode",
	                                   g_variant_new("(s)", "./DMAcc/accab"),
	                                   NULL,
	                                   G_DBUS_CALL_FLAGS_NONE,
	                                   WAIT_S * 1000,
	                                   NULL,
	                                   &error);
	g_assert_null(gone);
	g_assert_nonnull(error);
	g_assert_cmpuint(count_objects(f), ==, n_objects);
	/* the shape of the arguments comes first: garbage is InvalidArgs, even from nobody, and
	 * never costs a polkit round trip */
	check_invalid(f,
	              &nobody,
	              "SetNode",
	              g_variant_new("(ssv)", "./x", "no-such-format", g_variant_new_string("")));
	check_invalid(
	    f,
	    &nobody,
	    "AddDevice",
	    g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)));
	check_invalid(f, &nobody, "Bootstrap", g_variant_new("(sss)", "", ".", "no-such-flag"));

	/* the gwmo group, as polkit's rules say, then root: past the check of every change */
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++)
		check_change(f, &member, a, &changes[i], TRUE);
	b = make_objects(f, "b");
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++)
		check_change(f, &root, b, &changes[i], TRUE);

	/* gwmod asked polkit (no fallback) and said why it refused */
	log = NULL;
	g_file_get_contents(f->gwmod_log, &log, NULL, NULL);
	g_assert_null(strstr(log, "polkit is not available"));
	g_assert_nonnull(strstr(log, "refused org.gwmo.Gateway1."));

	objects_free(a);
	objects_free(b);
	fixture_free(f);
}

/* no polkitd on the system bus (none owns the name, none can be activated): gwmod falls back
 * to its own rule (root, its own uid, the gwmo group as the host knows it), says so once, and
 * still refuses every change to nobody and to the member polkit alone would have let */
static void
test_fallback(void)
{
	Fixture *f;
	Objects *a;
	Caller nobody = {"nobody", 65534, 65534, {0}, 0};
	Caller member = {"gwmo-polkit-test", 0, 0, {0}, 1};
	Caller root = {"root", 0, 0, {0}, 1};
	g_autofree gchar *log = NULL;
	const gchar *warning;

	if (!can_run())
		return;
	f = fixture_new(FALSE);
	member.uid = f->member_uid;
	member.gid = f->member_gid;
	member.groups[0] = f->gwmo_gid;

	a = make_objects(f, "a");
	check_reads(f, &nobody, a);
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++) {
		check_change(f, &nobody, a, &changes[i], FALSE);
		check_change(f, &member, a, &changes[i], FALSE);
	}
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++)
		check_change(f, &root, a, &changes[i], TRUE);

	g_file_get_contents(f->gwmod_log, &log, NULL, NULL);
	warning = strstr(log, "polkit is not available");
	g_assert_nonnull(warning);
	g_assert_null(strstr(warning + 1, "polkit is not available"));

	objects_free(a);
	fixture_free(f);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc != 3) {
		g_printerr("usage: %s POLICY DATA-DIR\n", argv[0]);
		return 2;
	}
	policy_path = g_canonicalize_filename(argv[1], NULL);
	data_dir = g_canonicalize_filename(argv[2], NULL);
	g_test_add_func("/dbus/polkit/every-change", test_polkit);
	g_test_add_func("/dbus/polkit/fallback", test_fallback);
	return g_test_run();
}
