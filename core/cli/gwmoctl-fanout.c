/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmoctl fanout | jobs: Manager.Fanout and the org.gwmo.Gateway1.Job objects.
 */

#define G_LOG_DOMAIN "GwCtl"

#include "config.h"

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "gwmoctl.h"

#define GW_DBUS_JOB "org.gwmo.Gateway1.Job"

static gchar *opt_group;
static gchar **opt_devices;
static gchar *opt_get;
static gchar *opt_replace;
static gchar *opt_exec;
static gchar *opt_data;
static gchar *opt_format;
static gchar *opt_aggregate;
static gint opt_timeout = -1;
static gint opt_max_in_flight = -1;
static gboolean opt_wait;

const GOptionEntry gw_ctl_fanout_entries[] = {
    {"group", 0, 0, G_OPTION_ARG_STRING, &opt_group, N_("Target the members of a group"), "GROUP"},
    {"device",
     'd',
     0,
     G_OPTION_ARG_STRING_ARRAY,
     &opt_devices,
     N_("Target a device (repeatable)"),
     "DEVICEID"},
    {"get", 0, 0, G_OPTION_ARG_STRING, &opt_get, N_("Read a node of every device"), "URI"},
    {"replace",
     0,
     0,
     G_OPTION_ARG_STRING,
     &opt_replace,
     N_("Replace a node of every device with --data"),
     "URI"},
    {"exec",
     0,
     0,
     G_OPTION_ARG_STRING,
     &opt_exec,
     N_("Execute a node of every device (with --data as its argument)"),
     "URI"},
    {"data",
     0,
     0,
     G_OPTION_ARG_STRING,
     &opt_data,
     N_("The value for --replace or --exec"),
     "VALUE"},
    {"format",
     'f',
     0,
     G_OPTION_ARG_STRING,
     &opt_format,
     N_("DDF format of --data (default chr)"),
     "FORMAT"},
    {"timeout",
     't',
     0,
     G_OPTION_ARG_INT,
     &opt_timeout,
     N_("Seconds each device has to answer (default 60)"),
     "S"},
    {"max-in-flight",
     0,
     0,
     G_OPTION_ARG_INT,
     &opt_max_in_flight,
     N_("Devices driven at once (default 32)"),
     "N"},
    {"aggregate",
     0,
     0,
     G_OPTION_ARG_STRING,
     &opt_aggregate,
     N_("Aggregates of the answers: any of count,min,max,sum,distinct"),
     "LIST"},
    {"wait",
     'w',
     0,
     G_OPTION_ARG_NONE,
     &opt_wait,
     N_("Show the progress, wait for the job to finish and print every device's result"),
     NULL},
    {NULL}};

static void
gw_ctl_fanout_clear_options(void)
{
	g_clear_pointer(&opt_group, g_free);
	g_clear_pointer(&opt_devices, g_strfreev);
	g_clear_pointer(&opt_get, g_free);
	g_clear_pointer(&opt_replace, g_free);
	g_clear_pointer(&opt_exec, g_free);
	g_clear_pointer(&opt_data, g_free);
	g_clear_pointer(&opt_format, g_free);
	g_clear_pointer(&opt_aggregate, g_free);
}

/* ---- the <GwMOFanoutResult> document ---- */

typedef struct {
	gchar *id;
	gchar *status;
	gchar *data;   /* nullable */
	gchar *format; /* nullable */
} GwCtlResult;

static void
gw_ctl_result_free(GwCtlResult *r)
{
	g_free(r->id);
	g_free(r->status);
	g_free(r->data);
	g_free(r->format);
	g_free(r);
}

static gchar *
gw_ctl_xml_attr(xmlNode *node, const gchar *name)
{
	xmlChar *v = xmlGetProp(node, BAD_CAST name);
	gchar *out = v != NULL ? g_strdup((const gchar *)v) : NULL;
	xmlFree(v);
	return out;
}

/* parses the document into results, the state and the <Aggregate> attributes */
static GPtrArray *
gw_ctl_parse_document(const gchar *xml, gchar **state, GPtrArray *aggregates)
{
	GPtrArray *results = g_ptr_array_new_with_free_func((GDestroyNotify)gw_ctl_result_free);
	xmlDoc *doc = xmlReadMemory(xml,
	                            (int)strlen(xml),
	                            "result.xml",
	                            NULL,
	                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;

	if (root == NULL) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		return results;
	}
	*state = gw_ctl_xml_attr(root, "state");
	for (xmlNode *n = root->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, BAD_CAST "Aggregate") == 0) {
			for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
				xmlChar *v = xmlNodeListGetString(doc, a->children, 1);
				g_ptr_array_add(aggregates, g_strdup((const gchar *)a->name));
				g_ptr_array_add(aggregates,
				                g_strdup(v != NULL ? (const gchar *)v : ""));
				xmlFree(v);
			}
		} else if (xmlStrcmp(n->name, BAD_CAST "Device") == 0) {
			GwCtlResult *r = g_new0(GwCtlResult, 1);
			r->id = gw_ctl_xml_attr(n, "id");
			r->status = gw_ctl_xml_attr(n, "status");
			for (xmlNode *c = n->children; c != NULL; c = c->next) {
				if (c->type == XML_ELEMENT_NODE &&
				    xmlStrcmp(c->name, BAD_CAST "Data") == 0) {
					xmlChar *text = xmlNodeGetContent(c);
					r->data = g_strdup(text != NULL ? (const gchar *)text : "");
					r->format = gw_ctl_xml_attr(c, "format");
					xmlFree(text);
				}
			}
			g_ptr_array_add(results, r);
		}
	}
	xmlFreeDoc(doc);
	return results;
}

/* ---- waiting for Finished ---- */

typedef struct {
	GHashTable *finished; /* object path → aggregated xml */
	gboolean vanished;    /* gwmod went away while we waited */
	gboolean interrupted; /* Ctrl-C */
	const gchar *path;    /* the job, once Fanout returned it */
	GwCtlProgress progress;
	guint total;
	guint succeeded;
	guint failed;
	guint done; /* the most devices seen with a result: the display never goes back */
} GwCtlWait;

static void
gw_ctl_vanished_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	GwCtlWait *w = user_data;
	w->vanished = TRUE;
}

static void
gw_ctl_finished_cb(GDBusConnection *c,
                   const gchar *sender,
                   const gchar *path,
                   const gchar *iface,
                   const gchar *signal,
                   GVariant *params,
                   gpointer user_data)
{
	GwCtlWait *w = user_data;
	const gchar *xml = NULL;
	g_variant_get(params, "(&s)", &xml);
	g_hash_table_replace(w->finished, g_strdup(path), g_strdup(xml));
}

/* the counts of @props (a{sv} of Job properties, all or the changed ones) on the display */
static void
gw_ctl_wait_update(GwCtlWait *w, GVariant *props)
{
	g_autofree gchar *detail = NULL;
	guint done;

	g_variant_lookup(props, "Total", "u", &w->total);
	g_variant_lookup(props, "Succeeded", "u", &w->succeeded);
	g_variant_lookup(props, "Failed", "u", &w->failed);
	done = w->succeeded + w->failed;
	/* signals sent before the properties were read may arrive after them */
	if (done < w->done && w->progress.last_percent >= 0)
		return;
	w->done = done;
	detail = g_strdup_printf(
	    /* TRANSLATORS: progress of a fan-out job: devices with a result of all devices,
	       then how many succeeded and failed */
	    g_dngettext(GETTEXT_PACKAGE,
	                "%u of %u device done (%u succeeded, %u failed)",
	                "%u of %u devices done (%u succeeded, %u failed)",
	                w->total),
	    done,
	    w->total,
	    w->succeeded,
	    w->failed);
	gw_ctl_progress_show(&w->progress, w->total > 0 ? done * 100 / w->total : 0, detail);
}

static void
gw_ctl_changed_cb(GDBusConnection *c,
                  const gchar *sender,
                  const gchar *path,
                  const gchar *iface,
                  const gchar *signal,
                  GVariant *params,
                  gpointer user_data)
{
	GwCtlWait *w = user_data;
	const gchar *name = NULL;
	g_autoptr(GVariant) changed = NULL;

	if (w->path == NULL || g_strcmp0(path, w->path) != 0)
		return;
	g_variant_get(params, "(&s@a{sv}@as)", &name, &changed, NULL);
	if (g_strcmp0(name, GW_DBUS_JOB) == 0)
		gw_ctl_wait_update(w, changed);
}

static gint
gw_ctl_print_outcome(GwCtl *ctl, const gchar *path, const gchar *xml)
{
	g_autofree gchar *state = NULL;
	g_autoptr(GPtrArray) aggregates = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) results = gw_ctl_parse_document(xml, &state, aggregates);
	guint ok = 0;

	for (guint i = 0; i < results->len; i++) {
		GwCtlResult *r = g_ptr_array_index(results, i);
		if (r->status != NULL && r->status[0] == '2')
			ok++;
	}
	if (ctl->json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "Path");
		json_builder_add_string_value(b, path);
		json_builder_set_member_name(b, "State");
		json_builder_add_string_value(b, state != NULL ? state : "");
		json_builder_set_member_name(b, "Total");
		json_builder_add_int_value(b, results->len);
		json_builder_set_member_name(b, "Succeeded");
		json_builder_add_int_value(b, ok);
		if (aggregates->len > 0) {
			json_builder_set_member_name(b, "Aggregate");
			json_builder_begin_object(b);
			for (guint i = 0; i + 1 < aggregates->len; i += 2) {
				json_builder_set_member_name(b, g_ptr_array_index(aggregates, i));
				json_builder_add_string_value(b,
				                              g_ptr_array_index(aggregates, i + 1));
			}
			json_builder_end_object(b);
		}
		json_builder_set_member_name(b, "Results");
		json_builder_begin_array(b);
		for (guint i = 0; i < results->len; i++) {
			GwCtlResult *r = g_ptr_array_index(results, i);
			json_builder_begin_object(b);
			json_builder_set_member_name(b, "DeviceID");
			json_builder_add_string_value(b, r->id != NULL ? r->id : "");
			json_builder_set_member_name(b, "StatusCode");
			json_builder_add_int_value(
			    b, g_ascii_strtoll(r->status != NULL ? r->status : "0", NULL, 10));
			if (r->data != NULL) {
				json_builder_set_member_name(b, "Data");
				json_builder_add_string_value(b, r->data);
				json_builder_set_member_name(b, "Format");
				json_builder_add_string_value(
				    b, r->format != NULL ? r->format : "chr");
			}
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
		gw_ctl_print_json(b);
	} else {
		const gchar *headers[] = {_("DEVICEID"), _("STATUS"), _("DATA"), NULL};
		g_autoptr(GPtrArray) rows =
		    g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
		for (guint i = 0; i < results->len; i++) {
			GwCtlResult *r = g_ptr_array_index(results, i);
			gchar **row = g_new0(gchar *, 4);
			row[0] = g_strdup(r->id != NULL ? r->id : "");
			row[1] = g_strdup(r->status != NULL ? r->status : "");
			row[2] = g_strdup(r->data != NULL ? r->data : "");
			g_ptr_array_add(rows, row);
		}
		gw_ctl_print_table(headers, rows);
		for (guint i = 0; i + 1 < aggregates->len; i += 2)
			g_print("%s: %s\n",
			        (const gchar *)g_ptr_array_index(aggregates, i),
			        (const gchar *)g_ptr_array_index(aggregates, i + 1));
		g_print(_("%s: %s, %u of %u succeeded\n"),
		        path,
		        state != NULL ? state : "?",
		        ok,
		        results->len);
	}
	return g_strcmp0(state, "Complete") == 0 ? GW_EXIT_OK : GW_EXIT_FAILED;
}

gint
gw_ctl_cmd_fanout(GwCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *path = NULL;
	GwCtlWait w = {0};
	GVariantBuilder b;
	const gchar *command = NULL;
	const gchar *target = NULL;
	guint sub = 0;
	guint sub_changed = 0;
	guint watch = 0;
	guint interrupt_ids[2] = {0, 0};
	gint rc;
	guint n_cmds = (opt_get != NULL) + (opt_replace != NULL) + (opt_exec != NULL);

	if (argc != 0) {
		g_printerr(_("gwmoctl: fanout takes options only (see gwmoctl fanout --help)\n"));
		gw_ctl_fanout_clear_options();
		return GW_EXIT_USAGE;
	}
	if ((opt_group != NULL) == (opt_devices != NULL) || n_cmds != 1 ||
	    (opt_replace != NULL && opt_data == NULL) || (opt_get != NULL && opt_data != NULL) ||
	    opt_timeout == 0 || opt_timeout < -1 || opt_max_in_flight == 0 ||
	    opt_max_in_flight < -1) {
		g_printerr(_("gwmoctl: fanout needs --group or --device, and one of --get URI, "
		             "--replace URI --data VALUE, --exec URI [--data VALUE]\n"));
		gw_ctl_fanout_clear_options();
		return GW_EXIT_USAGE;
	}
	if (opt_get != NULL) {
		command = "Get";
		target = opt_get;
	} else if (opt_replace != NULL) {
		command = "Replace";
		target = opt_replace;
	} else {
		command = "Exec";
		target = opt_exec;
	}
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	if (opt_group != NULL)
		g_variant_builder_add(&b, "{sv}", "Group", g_variant_new_string(opt_group));
	else
		g_variant_builder_add(&b,
		                      "{sv}",
		                      "Devices",
		                      g_variant_new_strv((const gchar *const *)opt_devices, -1));
	g_variant_builder_add(&b, "{sv}", "Command", g_variant_new_string(command));
	g_variant_builder_add(&b, "{sv}", "TargetURI", g_variant_new_string(target));
	if (opt_data != NULL)
		g_variant_builder_add(&b, "{sv}", "Data", g_variant_new_string(opt_data));
	if (opt_format != NULL)
		g_variant_builder_add(&b, "{sv}", "Format", g_variant_new_string(opt_format));
	if (opt_aggregate != NULL)
		g_variant_builder_add(&b, "{sv}", "Aggregate", g_variant_new_string(opt_aggregate));
	if (opt_timeout > 0)
		g_variant_builder_add(
		    &b, "{sv}", "Timeout", g_variant_new_uint32((guint32)opt_timeout));
	if (opt_max_in_flight > 0)
		g_variant_builder_add(
		    &b, "{sv}", "MaxInFlight", g_variant_new_uint32((guint32)opt_max_in_flight));
	gw_ctl_fanout_clear_options();

	if (opt_wait) {
		/* before the call: a quick job may finish before its path comes back */
		if (ctl->connection == NULL && !gw_ctl_connect(ctl, &error)) {
			g_variant_builder_clear(&b);
			return gw_ctl_error(error, "fanout");
		}
		w.finished = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		gw_ctl_progress_init(&w.progress, ctl);
		sub = g_dbus_connection_signal_subscribe(ctl->connection,
		                                         GW_DBUS_NAME,
		                                         GW_DBUS_JOB,
		                                         "Finished",
		                                         NULL,
		                                         NULL,
		                                         G_DBUS_SIGNAL_FLAGS_NONE,
		                                         gw_ctl_finished_cb,
		                                         &w,
		                                         NULL);
		sub_changed = g_dbus_connection_signal_subscribe(ctl->connection,
		                                                 GW_DBUS_NAME,
		                                                 "org.freedesktop.DBus.Properties",
		                                                 "PropertiesChanged",
		                                                 NULL,
		                                                 GW_DBUS_JOB,
		                                                 G_DBUS_SIGNAL_FLAGS_NONE,
		                                                 gw_ctl_changed_cb,
		                                                 &w,
		                                                 NULL);
	}
	reply = gw_ctl_call(ctl, "Fanout", g_variant_new("(a{sv})", &b), "(o)", &error);
	if (reply == NULL) {
		rc = gw_ctl_error(error, "fanout");
		goto out;
	}
	g_variant_get(reply, "(o)", &path);
	if (!opt_wait) {
		if (ctl->json) {
			g_autoptr(JsonBuilder) jb = json_builder_new();
			json_builder_begin_object(jb);
			json_builder_set_member_name(jb, "Path");
			json_builder_add_string_value(jb, path);
			json_builder_end_object(jb);
			gw_ctl_print_json(jb);
		} else {
			g_print("%s\n", path);
		}
		rc = GW_EXIT_OK;
		goto out;
	}
	w.path = path;
	if (!ctl->json && !w.progress.tty)
		g_print("%s\n", path);
	watch = g_bus_watch_name_on_connection(ctl->connection,
	                                       GW_DBUS_NAME,
	                                       G_BUS_NAME_WATCHER_FLAGS_NONE,
	                                       NULL,
	                                       gw_ctl_vanished_cb,
	                                       &w,
	                                       NULL);
	gw_ctl_interrupt_watch(&w.interrupted, interrupt_ids);
	/* where the job is now; later changes come with PropertiesChanged */
	{
		g_autoptr(GVariant) all =
		    g_dbus_connection_call_sync(ctl->connection,
		                                GW_DBUS_NAME,
		                                path,
		                                "org.freedesktop.DBus.Properties",
		                                "GetAll",
		                                g_variant_new("(s)", GW_DBUS_JOB),
		                                G_VARIANT_TYPE("(a{sv})"),
		                                G_DBUS_CALL_FLAGS_NONE,
		                                GW_CALL_TIMEOUT,
		                                NULL,
		                                NULL);
		if (all != NULL) {
			g_autoptr(GVariant) props = g_variant_get_child_value(all, 0);
			gw_ctl_wait_update(&w, props);
		}
	}
	while (!g_hash_table_contains(w.finished, path) && !w.vanished && !w.interrupted)
		g_main_context_iteration(NULL, TRUE);
	gw_ctl_progress_end(&w.progress);
	if (w.interrupted && !g_hash_table_contains(w.finished, path)) {
		g_printerr(
		    _("gwmoctl: interrupted; the job %s goes on in gwmod (see gwmoctl jobs)\n"),
		    path);
		rc = GW_EXIT_INTERRUPTED;
		goto out;
	}
	if (!g_hash_table_contains(w.finished, path)) {
		g_printerr(_("gwmoctl: gwmod went away before %s finished\n"), path);
		rc = GW_EXIT_UNREACHABLE;
		goto out;
	}
	rc = gw_ctl_print_outcome(ctl, path, g_hash_table_lookup(w.finished, path));
out:
	gw_ctl_interrupt_unwatch(interrupt_ids);
	if (watch != 0)
		g_bus_unwatch_name(watch);
	if (sub != 0)
		g_dbus_connection_signal_unsubscribe(ctl->connection, sub);
	if (sub_changed != 0)
		g_dbus_connection_signal_unsubscribe(ctl->connection, sub_changed);
	g_clear_pointer(&w.finished, g_hash_table_unref);
	gw_ctl_progress_end(&w.progress);
	return rc;
}

static gchar **
gw_ctl_job_row(GwCtlObject *obj, gpointer user_data)
{
	static const gchar *const keys[] = {
	    "JobURI", "State", "Total", "Succeeded", "Failed", "Pending", "Progress"};
	gchar **row = g_new0(gchar *, G_N_ELEMENTS(keys) + 1);

	for (guint k = 0; k < G_N_ELEMENTS(keys); k++)
		row[k] = gw_ctl_prop_text(obj->props, keys[k]);
	if (row[6][0] != '\0') {
		gchar *pct = g_strdup_printf("%s%%", row[6]);
		g_free(row[6]);
		row[6] = pct;
	}
	return row;
}

gint
gw_ctl_cmd_jobs(GwCtl *ctl, gint argc, gchar **argv)
{
	static const gchar *const headers[] = {N_("JOB"),
	                                       N_("STATE"),
	                                       N_("TOTAL"),
	                                       N_("SUCCEEDED"),
	                                       N_("FAILED"),
	                                       N_("PENDING"),
	                                       N_("PROGRESS"),
	                                       NULL};

	if (argc != 0) {
		g_printerr(_("gwmoctl: jobs takes no arguments\n"));
		return GW_EXIT_USAGE;
	}
	return gw_ctl_print_listing(
	    ctl, GW_DBUS_JOB, headers, gw_ctl_job_row, NULL, _("cannot list the jobs"));
}
