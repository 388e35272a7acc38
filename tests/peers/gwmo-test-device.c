/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gwmo-test-device: a reference OMA DM End Device for end-to-end tests, benchmarks and the
 * README demo (never installed). A DM Client with its own DM tree: it opens CLIENT-role
 * GwDmSessions against --server, executes what the server sends, prints one line per command
 * and records what it executed. With --count N and a "%u" in --dev-id one process acts as N
 * devices, one session after the other.
 *
 * Towards a gateway (GwMO southbound): --listen-notify makes it wait for Package #0
 * notifications (HTTP POST to / or /notify), check their digest and open a server-initiated session
 * (Alert 1200, the notification's SessionID) for each, --count of them. As a real device does,
 * it checks the digest with the nonce it last gave the server (the NextNonce in the Chal of its
 * Status), then with the all-zero nonce (OMA-DM.md §1.2.5, libdmclient), and says when the
 * fallback was used; an empty nonce is refused. --register sends the
 * DeviceRegistration Generic Alert in its first session; --notify-addr (or the --listen-notify
 * URL) goes into ./DevInfo/Ext/NotifyAddr, which Package #1 carries.
 *
 * A device keeps its DM tree (what it was told, what ./Ext/Fetch recorded) from one of its
 * sessions to the next, as a real one does.
 *
 * Sessions (issue 11 §2): --session-id makes the sessions it opens itself use one fixed
 * SessionID, as real clients that hard-code SessionID 1 do; --truncate-message N sends the N-th
 * message of its first session without its last bytes (a malformed message the gateway answers
 * with HTTP 400, which ends that session).
 *
 * Many devices at once (--parallel K, scale tests and fan-out): the --count N sessions are N
 * distinct End Devices (--dev-id must hold "%u" or "%05u"; devices 1…N), each with its own DM
 * tree, session state and nonces, all started at once with at most K sessions in flight. Each
 * one's first session registers it (the DeviceRegistration alert with --register, else
 * implicitly through its Package #1 DevInfo). --client-secret, --client-name, --server-secret,
 * --notify-secret and --notify-addr may hold "%u" too (per-device credentials), or not (one
 * secret shared by all). HTTP 503 and connection errors are retried (--retries, exponential
 * backoff from 100 ms). With --listen-notify one shared listener serves every device: device
 * X's NotifyAddr is <listen URL>/notify/<X>; a Package #0 POSTed there (checked as in the
 * single-device mode) opens a server-initiated session of device X (queued behind a running
 * one of the same device; all within the K in flight). The process then exits after
 * --notifications M notified sessions, or (M = 0) on SIGINT/SIGTERM (once the running sessions
 * end; a second signal does not wait). --summary FILE ("-" for stdout) gets a JSON summary:
 * devices, parallel, registered, failed, elapsed_s, registrations_per_s, retries,
 * notified_sessions, notified_failed, failed_devices.
 *
 * mDNS (issue 14 §4, gw-peer-mdns.c): --announce publishes _omadm._tcp with TXT
 * devid=<DeviceID> and path=/dm on --announce-port or the --listen-notify port, withdrawn on
 * exit; --discover browses _gwmo._tcp and prints "bootstrap-url <URL>" (the gateway's local
 * bootstrap, used as --bootstrap when that is not given). Without --server only these run: the
 * device exits after --discover, or announces until SIGINT/SIGTERM.
 */

#define G_LOG_DOMAIN "GwTestDevice"

#include "config.h"

#include <glib-unix.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw-dm-session.h"
#include "gw-dm-tree.h"
#include "gw-http-server.h"
#include "gw-log-private.h"
#include "gw-peer-common.h"
#include "gw-peer-mdns.h"
#include "gw-pkg0.h"
#include "gw-test-fetch.h"
#include "gw-tnds.h"

#define GW_TEST_DEVICE_MAX_ROUNDS 1000 /* messages per session, against runaway servers */
/* the GwMO registration alert (spec/GWMO.md §3; core/gwmo/gw-gwmo-names.h) */
#define GW_TEST_DEVICE_REGISTRATION_TYPE "urn:oma:at:gwmo:1.0:DeviceRegistration"

typedef struct {
	GBytes *local; /* we digest with it (the server issued it) */
	GBytes *peer;  /* the server digests with it (we issued it) */
} GwTestNonces;

typedef struct {
	/* options */
	gchar *server_url;
	gchar *dev_id;
	gchar *ca_file;
	gchar *client_name;
	gchar *client_secret;
	gchar *server_name;
	gchar *server_secret;
	gchar *auth;
	gchar *server_id;
	gchar *tree_path;
	gboolean wbxml;
	gint count;
	gboolean alert_1200;
	gchar *record_path;
	gchar *alert_type;
	gchar *alert_data;
	gchar *alert_format;
	gchar *alert_source;
	gchar *alert_correlator;
	gchar *alert_mark;
	gint max_msg_size;
	gboolean quiet;
	gchar *listen_notify;
	gchar *ready_file;
	gchar *notify_secret;
	gchar *notify_addr;
	gboolean do_register;
	gint reg_mode;
	gchar *server_ids;
	gchar *notified_server;
	gint parallel;
	gint retries;
	gint max_notified;
	gchar *summary_path;
	gchar *session_id;
	gint truncate_message;
	/* --bootstrap (seed 004 §8.x.2): the local DM Bootstrap Server of the gateway */
	gchar *bootstrap_url; /* --bootstrap, or what --discover found */
	gint bootstrap_wait;
	gchar *bootstrap_account;  /* ./DMAcc/<x> it made */
	gint64 bootstrap_lapse_at; /* monotonic µs; 0: trusted (no Ext/LapseTimer) */
	gboolean bootstrap_used;   /* a session with that account succeeded */
	/* mDNS (gw-peer-mdns.h): --announce, --announce-port, --discover, --mdns-timeout */
	gboolean announce;
	gint announce_port;
	gboolean discover;
	gint mdns_timeout;
	/* --then-account: after its notified sessions, one session with the DM Server whose
	 * ./DMAcc account (ServerID) the gateway put on it (GwMO-HLF-006) */
	gchar *then_account;
	GwPeerMdns *mdns;

	GwDmAuthType auth_type;
	gchar *tree_xml;
	gsize tree_len;
	GwHttpClient *http;
	GHashTable *nonces; /* dev id → GwTestNonces */
	GHashTable *trees;  /* dev id → GwDmTree: a device keeps its tree across its sessions */
	JsonArray *record;
	/* --listen-notify */
	GwHttpServer *notify_server;
	gchar *notify_url;
	GQueue notifications; /* session ids (GUINT_TO_POINTER) waiting for their session */
	GMainLoop *loop;
	gboolean busy;
	guint sessions;
	guint failed;
	guint handled;
	/* --parallel */
	GHashTable *by_dev_id; /* DeviceID → index (GUINT_TO_POINTER) */
	guint8 *device_busy;   /* [1…count]: a session of that device is running */
	GQueue jobs;           /* GwTestJob waiting for a free slot */
	guint in_flight;
	guint next_index; /* next device to register */
	guint registered;
	guint reg_failed;
	guint retried;
	guint notified_ok;
	guint notified_failed;
	gint64 start_time;
	gint64 reg_end_time;
	JsonArray *failed_devices;
	guint pump_id;
	GPtrArray *running; /* GwTestAsync in flight (freed at exit when a signal stopped us) */
	guint runs;         /* sessions started so far */
	gboolean stopping;  /* SIGINT/SIGTERM: no new sessions, exit when the running ones end */
} GwTestDevice;

/* one command the server sent, waiting for the Status we answer it with */
typedef struct {
	guint32 msg_id;
	guint32 cmd_id;
	JsonObject *json; /* borrowed: lives in the record */
	gchar *line;
	guint status;
	gboolean printed;
} GwTestPending;

/* one session */
typedef struct {
	GwTestDevice *device; /* borrowed */
	guint index;
	gchar *dev_id;
	guint alert_code;
	GwDmTree *tree;
	GwDmSession *session;
	JsonObject *json;
	JsonArray *commands;  /* borrowed from json */
	JsonArray *delivered; /* borrowed from json */
	GPtrArray *pending;   /* GwTestPending, in arrival order */
	GHashTable *by_ref;   /* "msg/cmd" → GwTestPending (borrowed) */
	gboolean first;       /* the first session this process runs (--truncate-message) */
} GwTestRun;

static void
gw_test_nonces_free(gpointer data)
{
	GwTestNonces *n = data;
	g_clear_pointer(&n->local, g_bytes_unref);
	g_clear_pointer(&n->peer, g_bytes_unref);
	g_free(n);
}

static void
gw_test_pending_free(gpointer data)
{
	GwTestPending *p = data;
	g_free(p->line);
	g_free(p);
}

static void
gw_test_run_free(GwTestRun *run)
{
	if (run->session != NULL)
		g_signal_handlers_disconnect_by_data(run->session, run);
	g_clear_object(&run->session);
	g_clear_object(&run->tree);
	g_clear_pointer(&run->json, json_object_unref);
	g_clear_pointer(&run->pending, g_ptr_array_unref);
	g_clear_pointer(&run->by_ref, g_hash_table_unref);
	g_free(run->dev_id);
	g_free(run);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwTestRun, gw_test_run_free)

static GwTestNonces *
gw_test_device_nonces(GwTestDevice *self, const gchar *dev_id)
{
	GwTestNonces *n = g_hash_table_lookup(self->nonces, dev_id);
	if (n == NULL) {
		n = g_new0(GwTestNonces, 1);
		g_hash_table_insert(self->nonces, g_strdup(dev_id), n);
	}
	return n;
}

/* ---- the tree ---- */

static guint
gw_test_device_exec_cb(GwDmTree *tree,
                       const gchar *server_id,
                       const gchar *uri,
                       GBytes *data,
                       const gchar *correlator,
                       gpointer user_data)
{
	/* every Exec succeeds; the command line is printed when its Status goes out */
	g_debug("Exec %s by %s (correlator %s)",
	        uri,
	        server_id != NULL ? server_id : "(owner)",
	        correlator != NULL ? correlator : "none");
	return GW_DM_STATUS_OK;
}

/* ---- seed 001 work flow 2: ./DMAcc/<x>/Ext/GatewayBootstrapRequest ---- */

/*
 * An account of the device's own tree (--tree) may name its DM Bootstrap Server in
 * ./DMAcc/<x>/Ext/BootstrapURI (the gateway reads it in work flow 1). The device then also
 * has ./DMAcc/<x>/Ext/GatewayBootstrapRequest: an Exec of it (Data
 * "gwid=<GwID>&addr=<URL>&server=<ServerID>", from the gateway in work flow 2) is forwarded to
 * that bootstrap server as a POST of the Data to the BootstrapURI itself
 * (application/x-www-form-urlencoded); its 2xx makes the Exec's 200, anything else 500.
 */
static guint
gw_test_device_gateway_bootstrap_cb(GwDmTree *tree,
                                    const gchar *server_id,
                                    const gchar *uri,
                                    GBytes *data,
                                    const gchar *correlator,
                                    gpointer user_data)
{
	GwTestDevice *self = user_data;
	g_autofree gchar *ext = g_strndup(uri, strlen(uri) - strlen("/GatewayBootstrapRequest"));
	g_autofree gchar *bs_uri_node = g_strdup_printf("%s/BootstrapURI", ext);
	g_autofree gchar *bs_uri = gw_dm_tree_dup_string(tree, bs_uri_node);
	g_autoptr(GwHttpResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	if (bs_uri == NULL || data == NULL) {
		g_print("gateway bootstrap request %s: no BootstrapURI or no Data\n", uri);
		return GW_DM_STATUS_COMMAND_FAILED;
	}
	response = gw_peer_post_sync(
	    self->http, bs_uri, "application/x-www-form-urlencoded", data, NULL, &error);
	if (response == NULL) {
		g_print("gateway bootstrap request to %s failed: %s\n", bs_uri, error->message);
		return GW_DM_STATUS_COMMAND_FAILED;
	}
	g_print("gateway bootstrap request to %s: HTTP %u\n", bs_uri, response->status);
	fflush(stdout);
	return response->status >= 200 && response->status < 300 ? GW_DM_STATUS_OK
	                                                         : GW_DM_STATUS_COMMAND_FAILED;
}

/* the GatewayBootstrapRequest node of every account with a BootstrapURI, and its handler
 * (registered before the catch-all one: the first registered wins) */
static gboolean
gw_test_device_install_gateway_bootstrap(GwTestDevice *self, GwDmTree *tree, GError **error)
{
	g_auto(GStrv) accounts = gw_dm_tree_list_children(tree, "./DMAcc");
	gboolean any = FALSE;

	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *bs_uri =
		    g_strdup_printf("./DMAcc/%s/Ext/BootstrapURI", accounts[i]);
		g_autofree gchar *request =
		    g_strdup_printf("./DMAcc/%s/Ext/GatewayBootstrapRequest", accounts[i]);
		if (gw_dm_tree_lookup(tree, bs_uri) == NULL)
			continue;
		if (gw_dm_tree_lookup(tree, request) == NULL &&
		    !gw_dm_tree_set_leaf_string(tree, request, GW_DM_FORMAT_CHR, "", error))
			return FALSE;
		if (!gw_dm_tree_set_properties(
		        tree, request, GW_DM_ACCESS_GET | GW_DM_ACCESS_EXEC, NULL, NULL, error))
			return FALSE;
		any = TRUE;
	}
	if (any)
		gw_dm_tree_add_exec_handler(tree,
		                            "./DMAcc/*/Ext/GatewayBootstrapRequest",
		                            gw_test_device_gateway_bootstrap_cb,
		                            self,
		                            NULL);
	return TRUE;
}

/* where device @index (DeviceID @dev_id) is notified: --notify-addr (may hold "%u"), else the
 * --listen-notify URL (with --parallel one path per device); NULL: a polling device */
static gchar *
gw_test_device_notify_addr(GwTestDevice *self, guint index, const gchar *dev_id)
{
	if (self->notify_addr != NULL)
		return gw_peer_expand_index(self->notify_addr, index);
	if (self->notify_url == NULL)
		return NULL;
	if (self->parallel > 0) {
		g_autofree gchar *escaped = g_uri_escape_string(dev_id, NULL, FALSE);
		return g_strdup_printf("%s/%s", self->notify_url, escaped);
	}
	return g_strdup(self->notify_url);
}

static GwDmTree *
gw_test_device_make_tree(GwTestDevice *self,
			 guint index,
			 const gchar *dev_id,
			 const gchar *fetch_user,
			 GError **error)
{
	g_autofree gchar *addr = gw_test_device_notify_addr(self, index, dev_id);
	g_autoptr(GwDmTree) tree = gw_dm_tree_new();
	g_autofree gchar *acl = NULL;
	GwDmDeviceInfo info = {
	    .dev_id = dev_id,
	    .man = "gwmo test device",
	    .mod = "ref-device",
	    .dmv = "1.2",
	    .lang = "en-US",
	    .dev_typ = "test-device",
	    .oem = "gwmo",
	    .fwv = "1.0",
	    .swv = PACKAGE_VERSION,
	    .hwv = "1.0",
	};

	if (!gw_dm_tree_install_standard_objects(tree, &info, error))
		return NULL;
	if (self->tree_xml != NULL &&
	    !gw_tnds_import(
	        tree, ".", self->tree_xml, self->tree_len, GW_TNDS_IMPORT_REPLACE, error)) {
		g_prefix_error(error, "--tree %s: ", self->tree_path);
		return NULL;
	}
	if (addr != NULL) {
		if (!gw_dm_tree_set_leaf_string(
		        tree, "./DevInfo/Ext/NotifyAddr", GW_DM_FORMAT_CHR, addr, error)) {
			g_prefix_error(error, "./DevInfo/Ext/NotifyAddr: ");
			return NULL;
		}
	}
	acl = g_strdup_printf("Add=%s&Delete=%s&Exec=%s&Get=%s&Replace=%s",
	                      self->server_id,
	                      self->server_id,
	                      self->server_id,
	                      self->server_id,
	                      self->server_id);
	if (!gw_dm_tree_set_properties(tree, ".", GW_DM_ACCESS_NONE, acl, NULL, error)) {
		g_prefix_error(error, "ACL for server id %s: ", self->server_id);
		return NULL;
	}
	/* ./Ext/Fetch: downloads a URL with the device's own credentials (B.8) */
	{
		g_autofree gchar *secret = self->client_secret != NULL
					       ? gw_peer_expand_index(self->client_secret, index)
					       : NULL;
		if (!gw_test_fetch_install(tree, fetch_user, secret, self->ca_file, error))
			return NULL;
	}
	if (!gw_test_device_install_gateway_bootstrap(self, tree, error))
		return NULL;
	gw_dm_tree_add_exec_handler(tree, "./**", gw_test_device_exec_cb, self, NULL);
	return g_steal_pointer(&tree);
}

/* ---- following the commands ---- */

static gchar *
gw_test_ref_key(guint32 msg_id, guint32 cmd_id)
{
	return g_strdup_printf("%u/%u", msg_id, cmd_id);
}

/* registers @cmd (and its children) as waiting for our Status; @parent: where its JSON goes */
static void
gw_test_run_add_command(GwTestRun *run,
                        guint32 msg_id,
                        const GwSyncmlCommand *cmd,
                        JsonArray *parent,
                        guint depth)
{
	GwTestPending *p;
	JsonObject *json;
	const GwSyncmlItem *item;

	if (cmd->type == GW_SYNCML_CMD_STATUS || cmd->type == GW_SYNCML_CMD_RESULTS)
		return;
	/* Alerts of the server (1222 next message, UI alerts) are not commands on the tree */
	if (cmd->type == GW_SYNCML_CMD_ALERT)
		return;
	json = json_object_new();
	gw_peer_json_set_string(json, "cmd", gw_syncml_command_get_name(cmd));
	p = g_new0(GwTestPending, 1);
	p->msg_id = msg_id;
	p->cmd_id = cmd->cmd_id;
	p->json = json;
	if (gw_syncml_command_is_container(cmd)) {
		JsonArray *children = json_array_new();
		json_object_set_array_member(json, "commands", children);
		p->line = g_strdup_printf("%*s%s (%u commands)",
		                          (gint)depth * 2,
		                          "",
		                          gw_syncml_command_get_name(cmd),
		                          cmd->children->len);
		json_array_add_object_element(parent, json);
		g_ptr_array_add(run->pending, p);
		g_hash_table_insert(run->by_ref, gw_test_ref_key(msg_id, cmd->cmd_id), p);
		for (guint i = 0; i < cmd->children->len; i++)
			gw_test_run_add_command(
			    run, msg_id, g_ptr_array_index(cmd->children, i), children, depth + 1);
		return;
	}
	item = cmd->items->len > 0 ? g_ptr_array_index(cmd->items, 0) : NULL;
	gw_peer_json_set_string(json, "uri", item != NULL ? item->target_uri : NULL);
	if (item != NULL && item->source_uri != NULL)
		json_object_set_string_member(json, "source", item->source_uri);
	if (item != NULL && item->data != NULL) {
		gw_peer_json_set_string(json, "format", item->meta.format);
		json_object_set_string_member(json, "data", item->data);
	}
	if (cmd->correlator != NULL)
		json_object_set_string_member(json, "correlator", cmd->correlator);
	if (cmd->type == GW_SYNCML_CMD_COPY) {
		p->line = g_strdup_printf(
		    "%*sCopy %s to %s",
		    (gint)depth * 2,
		    "",
		    item != NULL && item->source_uri != NULL ? item->source_uri : "(no source)",
		    item != NULL && item->target_uri != NULL ? item->target_uri : "(no uri)");
	} else {
		g_autofree gchar *value =
		    item != NULL && item->data != NULL ? gw_peer_quote(item->data) : NULL;
		p->line = g_strdup_printf(
		    "%*s%s %s%s%s",
		    (gint)depth * 2,
		    "",
		    gw_syncml_command_get_name(cmd),
		    item != NULL && item->target_uri != NULL ? item->target_uri : "(no uri)",
		    value != NULL ? " = " : "",
		    value != NULL ? value : "");
	}
	json_array_add_object_element(parent, json);
	g_ptr_array_add(run->pending, p);
	g_hash_table_insert(run->by_ref, gw_test_ref_key(msg_id, cmd->cmd_id), p);
}

static void
gw_test_run_note_server_message(GwTestRun *run, const GwSyncmlMessage *msg)
{
	for (guint i = 0; i < msg->commands->len; i++)
		gw_test_run_add_command(
		    run, msg->hdr.msg_id, g_ptr_array_index(msg->commands, i), run->commands, 0);
}

static void
gw_test_run_print(GwTestRun *run)
{
	for (guint i = 0; i < run->pending->len; i++) {
		GwTestPending *p = g_ptr_array_index(run->pending, i);
		JsonNode *results;
		g_autofree gchar *data = NULL;

		if (p->printed || p->status == 0)
			continue;
		p->printed = TRUE;
		if (run->device->quiet)
			continue;
		results = json_object_get_member(p->json, "results");
		if (results != NULL && json_array_get_length(json_node_get_array(results)) > 0) {
			JsonObject *first =
			    json_array_get_object_element(json_node_get_array(results), 0);
			g_autofree gchar *quoted =
			    gw_peer_quote(json_object_get_null_member(first, "data")
			                      ? NULL
			                      : json_object_get_string_member(first, "data"));
			data = g_strdup_printf(" %s", quoted);
		}
		g_print("session %s %s: %s -> %u%s\n",
		        gw_dm_session_get_session_id(run->session),
		        run->dev_id,
		        p->line,
		        p->status,
		        data != NULL ? data : "");
	}
	fflush(stdout);
}

/* the Status (and Results) we send for the server's commands */
static void
gw_test_run_note_client_message(GwTestRun *run, const GwSyncmlMessage *msg)
{
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);
		g_autofree gchar *key = NULL;
		GwTestPending *p;

		if (cmd->type != GW_SYNCML_CMD_STATUS && cmd->type != GW_SYNCML_CMD_RESULTS)
			continue;
		if (cmd->cmd_ref == 0)
			continue; /* SyncHdr */
		key = gw_test_ref_key(cmd->msg_ref, cmd->cmd_ref);
		p = g_hash_table_lookup(run->by_ref, key);
		if (p == NULL)
			continue;
		if (cmd->type == GW_SYNCML_CMD_STATUS) {
			/* one Status per item: the first failure wins */
			if (cmd->status_code == GW_DM_STATUS_CHUNK_ACCEPTED)
				continue;
			if (p->status == 0 || (gw_dm_status_is_success(p->status) &&
			                       !gw_dm_status_is_success(cmd->status_code)))
				p->status = cmd->status_code;
			json_object_set_int_member(p->json, "status", p->status);
		} else {
			JsonArray *results;
			if (!json_object_has_member(p->json, "results"))
				json_object_set_array_member(p->json, "results", json_array_new());
			results = json_object_get_array_member(p->json, "results");
			for (guint j = 0; j < cmd->items->len; j++)
				json_array_add_object_element(
				    results,
				    gw_peer_item_to_json(g_ptr_array_index(cmd->items, j)));
		}
	}
	gw_test_run_print(run);
}

static void
gw_test_run_nonce_cb(GwDmSession *session, gboolean local, GBytes *nonce, gpointer user_data)
{
	GwTestRun *run = user_data;
	GwTestNonces *n = gw_test_device_nonces(run->device, run->dev_id);
	GBytes **slot = local ? &n->local : &n->peer;

	g_clear_pointer(slot, g_bytes_unref);
	*slot = g_bytes_ref(nonce);
}

static void
gw_test_run_delivered_cb(GwDmSession *session, guint id, gpointer user_data)
{
	GwTestRun *run = user_data;
	json_array_add_int_element(run->delivered, id);
	if (!run->device->quiet)
		g_print("session %s %s: Generic Alert %u delivered\n",
		        gw_dm_session_get_session_id(session),
		        run->dev_id,
		        id);
}

/* ---- one session ---- */

/* <GwMORegistration> with the device id, its notification address, --mode, --server-ids */
static gchar *
gw_test_device_registration(GwTestDevice *self, guint index, const gchar *dev_id)
{
	GString *doc = g_string_new("<GwMORegistration>");
	g_autofree gchar *addr = gw_test_device_notify_addr(self, index, dev_id);
	g_autofree gchar *id = g_markup_escape_text(dev_id, -1);

	g_string_append_printf(doc, "<DeviceID>%s</DeviceID>", id);
	if (addr != NULL) {
		g_autofree gchar *escaped = g_markup_escape_text(addr, -1);
		g_string_append_printf(doc, "<NotifyAddr>%s</NotifyAddr>", escaped);
	}
	if (self->reg_mode > 0)
		g_string_append_printf(doc, "<Mode>%d</Mode>", self->reg_mode);
	if (self->server_ids != NULL) {
		g_auto(GStrv) ids = g_strsplit(self->server_ids, ",", -1);
		g_string_append(doc, "<ServerIDs>");
		for (guint i = 0; ids[i] != NULL; i++) {
			g_autofree gchar *escaped = g_markup_escape_text(g_strstrip(ids[i]), -1);
			if (escaped[0] != '\0')
				g_string_append_printf(doc, "<ServerID>%s</ServerID>", escaped);
		}
		g_string_append(doc, "</ServerIDs>");
	}
	g_string_append(doc, "</GwMORegistration>");
	return g_string_free(doc, FALSE);
}

/* where a session goes: a notified one to --notified-server when given (flow Z': the device
 * reached through the gateway opens its session with the DM Server directly) */
static const gchar *
gw_test_device_session_url(GwTestDevice *self, guint alert_code)
{
	if (alert_code == GW_SYNCML_ALERT_SERVER_INITIATED_MGMT && self->notified_server != NULL)
		return self->notified_server;
	return self->server_url;
}

/* @session_id: nullable (generated); @registration: queue the DeviceRegistration alert */
static GwTestRun *
gw_test_run_new(GwTestDevice *self,
                guint index,
                const gchar *session_id,
                guint alert_code,
                gboolean registration,
                GError **error)
{
	g_autoptr(GwTestRun) run = g_new0(GwTestRun, 1);
	GwTestNonces *nonces;
	GwDmSessionConfig cfg;

	run->device = self;
	run->index = index;
	run->alert_code = alert_code;
	run->first = self->runs++ == 0;
	run->dev_id = gw_peer_expand_index(self->dev_id, index);
	/* like a real device, it keeps its DM tree (what it was told, what ./Ext/Fetch recorded)
	 * from one session to the next */
	run->tree = g_hash_table_lookup(self->trees, run->dev_id);
	if (run->tree != NULL) {
		g_object_ref(run->tree);
	} else {
		/* the name it presents to its server, also its name for ./Ext/Fetch */
		g_autofree gchar *name = self->client_name != NULL ? gw_peer_expand_index(self->client_name, index)
								   : g_strdup(run->dev_id);
		run->tree = gw_test_device_make_tree(self, index, run->dev_id, name, error);
		if (run->tree == NULL)
			return NULL;
		g_hash_table_insert(self->trees, g_strdup(run->dev_id), g_object_ref(run->tree));
	}
	run->pending = g_ptr_array_new_with_free_func(gw_test_pending_free);
	run->by_ref = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	run->json = json_object_new();
	run->commands = json_array_new();
	run->delivered = json_array_new();

	nonces = gw_test_device_nonces(self, run->dev_id);
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = GW_DM_SESSION_ROLE_CLIENT;
	cfg.encoding = self->wbxml ? GW_DM_ENCODING_WBXML : GW_DM_ENCODING_XML;
	/* a notified session has the notification's; its own ones --session-id, if given */
	cfg.session_id = g_strdup(session_id != NULL ? session_id : self->session_id);
	cfg.local_uri = g_strdup(run->dev_id);
	cfg.remote_uri = g_strdup(gw_test_device_session_url(self, alert_code));
	cfg.server_id = g_strdup(self->server_id);
	cfg.max_msg_size = (guint32)MAX(self->max_msg_size, 0);
	cfg.local.type = self->auth_type;
	cfg.local.name = self->client_name != NULL ? gw_peer_expand_index(self->client_name, index)
	                                           : g_strdup(run->dev_id);
	cfg.local.secret =
	    self->client_secret != NULL ? gw_peer_expand_index(self->client_secret, index) : NULL;
	cfg.local.nonce = nonces->local != NULL ? g_bytes_ref(nonces->local) : NULL;
	if (self->server_secret != NULL) {
		cfg.peer.type = self->auth_type;
		cfg.peer.name = g_strdup(self->server_name);
		cfg.peer.secret = gw_peer_expand_index(self->server_secret, index);
		cfg.peer.nonce = nonces->peer != NULL ? g_bytes_ref(nonces->peer) : NULL;
	}
	run->session = gw_dm_session_new(&cfg, run->tree);
	gw_dm_session_config_clear(&cfg);
	g_signal_connect(run->session, "nonce-changed", G_CALLBACK(gw_test_run_nonce_cb), run);
	g_signal_connect(
	    run->session, "alert-delivered", G_CALLBACK(gw_test_run_delivered_cb), run);

	if (self->alert_type != NULL) {
		g_autofree gchar *data =
		    self->alert_data != NULL ? gw_peer_expand_index(self->alert_data, index) : NULL;
		g_autofree gchar *source = self->alert_source != NULL
		                               ? gw_peer_expand_index(self->alert_source, index)
		                               : g_strdup(run->dev_id);
		const gchar *format = self->alert_format;
		if (format == NULL)
			format = data != NULL && data[0] == '<' ? "xml" : "chr";
		gw_dm_session_queue_generic_alert(
		    run->session,
		    index,
		    gw_syncml_alert_new_generic(self->alert_correlator,
		                                source,
		                                NULL,
		                                self->alert_type,
		                                format,
		                                self->alert_mark,
		                                data));
	}

	if (registration) {
		g_autofree gchar *doc = gw_test_device_registration(self, index, run->dev_id);
		gw_dm_session_queue_generic_alert(
		    run->session,
		    0,
		    gw_syncml_alert_new_generic(NULL,
		                                run->dev_id,
		                                NULL,
		                                GW_TEST_DEVICE_REGISTRATION_TYPE,
		                                "xml",
		                                NULL,
		                                doc));
	}

	json_object_set_int_member(run->json, "index", index);
	json_object_set_string_member(run->json, "dev_id", run->dev_id);
	json_object_set_string_member(
	    run->json, "session_id", gw_dm_session_get_session_id(run->session));
	json_object_set_int_member(run->json, "alert", alert_code);
	/* the object owns them; the borrowed pointers stay valid as long as it lives */
	json_object_set_array_member(run->json, "commands", run->commands);
	json_object_set_array_member(run->json, "alerts_delivered", run->delivered);
	return g_steal_pointer(&run);
}

static void
gw_test_run_analyse(GwTestRun *run, GBytes *bytes, const gchar *content_type, gboolean ours)
{
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GError) error = NULL;

	if (run->device->quiet && run->device->record_path == NULL)
		return; /* benchmarks: nothing to print or record */
	msg = gw_peer_decode(bytes, content_type, &error);
	if (msg == NULL) {
		g_debug("cannot follow a message: %s", error->message);
		return;
	}
	if (ours)
		gw_test_run_note_client_message(run, msg);
	else
		gw_test_run_note_server_message(run, msg);
}

/* drives the session to its end; FALSE with @error when it failed */
static gboolean
gw_test_run_drive(GwTestRun *run, GError **error)
{
	GwTestDevice *self = run->device;
	g_autoptr(GBytes) msg = NULL;
	g_autofree gchar *url = g_strdup(gw_test_device_session_url(self, run->alert_code));

	msg = gw_dm_session_start(run->session, run->alert_code, error);
	if (msg == NULL)
		return FALSE;
	for (guint round = 0; msg != NULL; round++) {
		const gchar *ct = gw_dm_session_get_content_type(run->session);
		g_autofree gchar *hmac = gw_dm_session_get_hmac_header(run->session, msg);
		const gchar *headers[] = {GW_DM_AUTH_HMAC_HEADER, hmac, NULL};
		g_autoptr(GwHttpResponse) response = NULL;
		g_autoptr(GBytes) next = NULL;
		const gchar *resp_uri;

		if (round >= GW_TEST_DEVICE_MAX_ROUNDS) {
			g_set_error(
			    error, GW_ERROR, GW_ERROR_PROTOCOL, "no end after %u messages", round);
			return FALSE;
		}
		gw_test_run_analyse(run, msg, ct, TRUE);
		if (run->first && self->truncate_message == (gint)round + 1) {
			/* the closing tags go: XML that does not parse, its SyncHdr intact */
			gsize len = g_bytes_get_size(msg);
			GBytes *cut = g_bytes_new_from_bytes(msg, 0, len - MIN(len / 2, 24));
			g_bytes_unref(msg);
			msg = cut;
			g_print("session %s %s: message %u sent truncated\n",
			        gw_dm_session_get_session_id(run->session),
			        run->dev_id,
			        round + 1);
		}
		response = gw_peer_post_sync(
		    self->http, url, ct, msg, hmac != NULL ? headers : NULL, error);
		if (response == NULL)
			return FALSE;
		if (gw_dm_session_get_state(run->session) == GW_DM_SESSION_STATE_FAILED) {
			/* the last message told the server why (e.g. its credentials failed) */
			g_propagate_error(error,
			                  g_error_copy(gw_dm_session_get_error(run->session)));
			return FALSE;
		}
		if (response->status != 200) {
			g_autofree gchar *text =
			    g_strndup(g_bytes_get_data(response->body, NULL),
			              MIN(g_bytes_get_size(response->body), 200));
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "the server answered HTTP %u: %s",
			            response->status,
			            g_strstrip(text));
			return FALSE;
		}
		gw_test_run_analyse(run, response->body, response->content_type, FALSE);
		next = gw_dm_session_receive(
		    run->session,
		    response->body,
		    response->content_type,
		    g_hash_table_lookup(response->headers, GW_DM_AUTH_HMAC_HEADER),
		    error);
		if (next == NULL &&
		    gw_dm_session_get_state(run->session) != GW_DM_SESSION_STATE_FINISHED)
			return FALSE;
		resp_uri = gw_dm_session_get_resp_uri(run->session);
		if (resp_uri != NULL && g_strcmp0(resp_uri, url) != 0) {
			g_free(url);
			url = g_strdup(resp_uri);
		}
		g_clear_pointer(&msg, g_bytes_unref);
		msg = g_steal_pointer(&next);
	}
	return TRUE;
}

/* records and prints how a session ended */
static void
gw_test_run_finish(GwTestRun *run, gboolean ok, const GError *error)
{
	GwTestDevice *self = run->device;
	GwDmSessionStats stats;

	gw_dm_session_get_stats(run->session, &stats);
	json_object_set_string_member(run->json, "state", ok ? "finished" : "failed");
	gw_peer_json_set_string(run->json, "error", ok ? NULL : error->message);
	json_object_set_boolean_member(
	    run->json, "server_authenticated", gw_dm_session_get_peer_authenticated(run->session));
	json_object_set_int_member(run->json, "commands_executed", stats.commands_executed);
	json_object_set_int_member(run->json, "messages_out", stats.messages_out);
	json_object_set_int_member(run->json, "messages_in", stats.messages_in);
	if (self->record != NULL)
		json_array_add_object_element(self->record, json_object_ref(run->json));
	if (ok && !self->quiet)
		g_print("session %s %s: finished (%u commands executed, %u messages sent)\n",
		        gw_dm_session_get_session_id(run->session),
		        run->dev_id,
		        stats.commands_executed,
		        stats.messages_out);
	else if (!ok)
		g_print("session %s %s: failed: %s\n",
		        gw_dm_session_get_session_id(run->session),
		        run->dev_id,
		        error->message);
	fflush(stdout);
}

/* ---- --bootstrap: the gateway's local DM Bootstrap Server (seed 004 §8.x.2) ---- */

/* a non-trusted bootstrap lapses on the device too: past its Ext/LapseTimer without a session
 * that succeeded, the account goes (and the session is not tried) */
static gboolean
gw_test_device_bootstrap_alive(GwTestDevice *self, guint index)
{
	g_autofree gchar *dev_id = NULL;
	GwDmTree *tree;

	if (self->bootstrap_account == NULL || self->bootstrap_used ||
	    self->bootstrap_lapse_at == 0 || g_get_monotonic_time() < self->bootstrap_lapse_at)
		return TRUE;
	dev_id = gw_peer_expand_index(self->dev_id, index);
	tree = g_hash_table_lookup(self->trees, dev_id);
	if (tree != NULL)
		gw_dm_tree_delete(tree, NULL, self->bootstrap_account);
	g_print("BOOTSTRAP lapsed: %s deleted, no session with it in time\n",
	        self->bootstrap_account);
	return FALSE;
}

/* one line per ./DMAcc/<x> of the device's tree: "DMACC <x> ServerID <id> Addr <url> Name
 * <AAuthName of CLCRED>" (the secrets never), for tests reading what the device holds */
static void
gw_test_device_print_accounts(GwDmTree *tree)
{
	g_auto(GStrv) names = gw_dm_tree_list_children(tree, "./DMAcc");

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *node = g_strdup_printf("./DMAcc/%s", names[i]);
		g_autofree gchar *sid_uri = g_strdup_printf("%s/ServerID", node);
		g_autofree gchar *addr_uri = g_strdup_printf("%s/AppAddr/1/Addr", node);
		g_autofree gchar *name_uri = g_strdup_printf("%s/AppAuth/1/AAuthName", node);
		g_autofree gchar *sid = gw_dm_tree_dup_string(tree, sid_uri);
		g_autofree gchar *addr = gw_dm_tree_dup_string(tree, addr_uri);
		g_autofree gchar *name = gw_dm_tree_dup_string(tree, name_uri);
		g_print("DMACC %s ServerID %s Addr %s Name %s\n",
		        names[i],
		        sid != NULL ? sid : "-",
		        addr != NULL ? addr : "-",
		        name != NULL ? name : "-");
	}
	fflush(stdout);
}

/* the value of a leaf of the bootstrapped account, or NULL */
static gchar *
gw_test_device_account_leaf(GwDmTree *tree, const gchar *account, const gchar *rel)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", account, rel);
	return gw_dm_tree_dup_string(tree, uri);
}

static gboolean
gw_test_device_run_one(GwTestDevice *self,
                       guint index,
                       const gchar *session_id,
                       guint alert_code,
                       gboolean registration);

/* --then-account: the device opens a session of its own with the account of ServerID
 * @server_id in its tree (AppAddr, names, secrets: what the gateway put there); TRUE when it
 * succeeded */
static gboolean
gw_test_device_session_with_account(GwTestDevice *self, const gchar *server_id)
{
	g_autofree gchar *dev_id = gw_peer_expand_index(self->dev_id, 1);
	GwDmTree *tree = g_hash_table_lookup(self->trees, dev_id);
	g_auto(GStrv) names = tree != NULL ? gw_dm_tree_list_children(tree, "./DMAcc") : NULL;

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *node = g_strdup_printf("./DMAcc/%s", names[i]);
		g_autofree gchar *sid = gw_test_device_account_leaf(tree, node, "ServerID");
		if (g_strcmp0(sid, server_id) != 0)
			continue;
		g_free(self->server_url);
		self->server_url = gw_test_device_account_leaf(tree, node, "AppAddr/1/Addr");
		g_free(self->client_name);
		self->client_name = gw_test_device_account_leaf(tree, node, "AppAuth/1/AAuthName");
		g_free(self->client_secret);
		self->client_secret =
		    gw_test_device_account_leaf(tree, node, "AppAuth/1/AAuthSecret");
		g_free(self->server_name);
		self->server_name = gw_test_device_account_leaf(tree, node, "AppAuth/2/AAuthName");
		g_free(self->server_secret);
		self->server_secret =
		    gw_test_device_account_leaf(tree, node, "AppAuth/2/AAuthSecret");
		g_free(self->server_id);
		self->server_id = g_steal_pointer(&sid);
		self->auth_type = GW_DM_AUTH_TYPE_MD5;
		/* a new peer: no nonce of the gateway's */
		g_hash_table_remove(self->nonces, dev_id);
		g_print("ACCOUNT %s: session with %s\n", server_id, self->server_url);
		fflush(stdout);
		return gw_test_device_run_one(
		    self, 1, NULL, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, FALSE);
	}
	g_printerr("gwmo-test-device: --then-account: no ./DMAcc account of %s\n", server_id);
	return FALSE;
}

/* GETs --bootstrap, applies its Add to the device's tree as a DM client applies a bootstrap
 * (the DMAcc DDF enforced), then takes that account for its sessions: AppAddr, names,
 * secrets, digest both ways, the account's ServerID as the ACL principal */
static gboolean
gw_test_device_bootstrap(GwTestDevice *self, GError **error)
{
	g_autoptr(SoupSession) session =
	    soup_session_new_with_options("proxy-resolver", NULL, "timeout", 30, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", self->bootstrap_url);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GwSyncmlMessage) boot = NULL;
	g_autoptr(GwDmTree) tree = NULL;
	g_autofree gchar *dev_id = gw_peer_expand_index(self->dev_id, 1);
	g_autofree gchar *account = NULL;
	g_autofree gchar *lapse = NULL;
	const gchar *content_type;
	guint status;
	gboolean server_id_seen = FALSE;

	if (msg == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "--bootstrap %s is not a URL",
		            self->bootstrap_url);
		return FALSE;
	}
	if (self->ca_file != NULL) {
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(self->ca_file, error);
		if (db == NULL)
			return FALSE;
		soup_session_set_tls_database(session, db);
	}
	soup_message_headers_replace(soup_message_get_request_headers(msg),
	                             "Accept",
	                             self->wbxml ? "application/vnd.syncml.dm+wbxml"
	                                         : "application/vnd.syncml.dm+xml");
	body = soup_session_send_and_read(session, msg, NULL, error);
	if (body == NULL)
		return FALSE;
	status = soup_message_get_status(msg);
	g_print("BOOTSTRAP %u %s\n", status, self->bootstrap_url);
	if (status != 200) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PERMISSION_DENIED,
		            "the bootstrap was refused: %u",
		            status);
		return FALSE;
	}
	content_type =
	    soup_message_headers_get_content_type(soup_message_get_response_headers(msg), NULL);
	boot = gw_syncml_message_decode(body, content_type, NULL, error);
	if (boot == NULL)
		return FALSE;
	/* the account's ServerID is the principal of what that server sends */
	for (guint i = 0; i < boot->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(boot->commands, i);
		for (guint j = 0; cmd->type == GW_SYNCML_CMD_ADD && j < cmd->items->len; j++) {
			const GwSyncmlItem *item = g_ptr_array_index(cmd->items, j);
			/* the first account's (the gateway's; a DM Server's may follow) */
			if (item->target_uri != NULL && !server_id_seen &&
			    g_str_has_suffix(item->target_uri, "/ServerID") && item->data != NULL) {
				g_free(self->server_id);
				self->server_id = g_strdup(item->data);
				server_id_seen = TRUE;
			}
		}
	}
	tree = gw_test_device_make_tree(self, 1, dev_id, dev_id, error);
	if (tree == NULL)
		return FALSE;
	for (guint i = 0; i < boot->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(boot->commands, i);
		if (cmd->type != GW_SYNCML_CMD_ADD) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_PROTOCOL,
			            "the bootstrap holds a %s",
			            gw_syncml_command_get_name(cmd));
			return FALSE;
		}
		for (guint j = 0; j < cmd->items->len; j++) {
			const GwSyncmlItem *item = g_ptr_array_index(cmd->items, j);
			GwDmFormat format = gw_syncml_item_get_format(item);
			g_autoptr(GBytes) data =
			    item->data != NULL ? g_bytes_new(item->data, strlen(item->data)) : NULL;
			guint code;
			if (item->target_uri == NULL)
				continue;
			code = gw_dm_tree_add(
			    tree, NULL, item->target_uri, format, item->meta.type, data);
			if (!gw_dm_status_is_success(code)) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_PROTOCOL,
				            "Add %s of the bootstrap: %u",
				            item->target_uri,
				            code);
				return FALSE;
			}
			if (format == GW_DM_FORMAT_NODE && account == NULL &&
			    g_str_has_prefix(item->target_uri, "./DMAcc/") &&
			    strchr(item->target_uri + strlen("./DMAcc/"), '/') == NULL)
				account = g_strdup(item->target_uri);
		}
	}
	if (account == NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "the bootstrap adds no ./DMAcc/<x>");
		return FALSE;
	}
	g_free(self->server_url);
	self->server_url = gw_test_device_account_leaf(tree, account, "AppAddr/1/Addr");
	g_free(self->client_name);
	self->client_name = gw_test_device_account_leaf(tree, account, "AppAuth/1/AAuthName");
	g_free(self->client_secret);
	self->client_secret = gw_test_device_account_leaf(tree, account, "AppAuth/1/AAuthSecret");
	g_free(self->server_name);
	self->server_name = gw_test_device_account_leaf(tree, account, "AppAuth/2/AAuthName");
	g_free(self->server_secret);
	self->server_secret = gw_test_device_account_leaf(tree, account, "AppAuth/2/AAuthSecret");
	if (self->server_url == NULL || self->client_secret == NULL ||
	    self->server_secret == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "%s lacks AppAddr/1/Addr or an AAuthSecret",
		            account);
		return FALSE;
	}
	self->auth_type = GW_DM_AUTH_TYPE_MD5;
	lapse = gw_test_device_account_leaf(tree, account, "Ext/LapseTimer");
	if (lapse != NULL)
		self->bootstrap_lapse_at =
		    g_get_monotonic_time() + g_ascii_strtoll(lapse, NULL, 10) * G_USEC_PER_SEC;
	g_print("BOOTSTRAP applied %s: server %s, ServerID %s, %s\n",
	        account,
	        self->server_url,
	        self->server_id,
	        lapse != NULL ? "not trusted (lapses)" : "trusted");
	gw_test_device_print_accounts(tree);
	/* seen at once by whoever follows the output (tests wait for this line) */
	fflush(stdout);
	self->bootstrap_account = g_steal_pointer(&account);
	g_hash_table_insert(self->trees, g_strdup(dev_id), g_steal_pointer(&tree));
	if (self->bootstrap_wait > 0)
		g_usleep((gulong)self->bootstrap_wait * G_USEC_PER_SEC);
	return TRUE;
}

static gboolean
gw_test_device_run_one(GwTestDevice *self,
                       guint index,
                       const gchar *session_id,
                       guint alert_code,
                       gboolean registration)
{
	g_autoptr(GwTestRun) run = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok;

	if (!gw_test_device_bootstrap_alive(self, index))
		return FALSE;
	run = gw_test_run_new(self, index, session_id, alert_code, registration, &error);
	if (run == NULL) {
		g_printerr("gwmo-test-device: %s\n", error->message);
		return FALSE;
	}
	ok = gw_test_run_drive(run, &error);
	gw_test_run_finish(run, ok, error);
	if (ok && self->bootstrap_url != NULL) {
		g_autofree gchar *dev_id = gw_peer_expand_index(self->dev_id, index);
		GwDmTree *tree = g_hash_table_lookup(self->trees, dev_id);
		if (tree != NULL)
			gw_test_device_print_accounts(tree);
	}
	if (ok && self->bootstrap_account != NULL && !self->bootstrap_used) {
		self->bootstrap_used = TRUE;
		g_print("BOOTSTRAP session succeeded: %s no longer lapses\n",
		        self->bootstrap_account);
	}
	return ok;
}

/* ---- --listen-notify: Package #0 from the gateway ---- */

static gboolean
gw_test_device_record(GwTestDevice *self)
{
	g_autoptr(GError) error = NULL;
	if (self->record != NULL &&
	    !gw_peer_write_record(self->record_path, self->record, &error)) {
		g_printerr("gwmo-test-device: %s\n", error->message);
		return FALSE;
	}
	return TRUE;
}

/* runs the sessions asked for, one after the other (sessions iterate the main context) */
static gboolean
gw_test_device_notified_idle_cb(gpointer user_data)
{
	GwTestDevice *self = user_data;

	if (self->busy)
		return G_SOURCE_REMOVE; /* the running loop below picks it up */
	self->busy = TRUE;
	while (!g_queue_is_empty(&self->notifications) && self->handled < (guint)self->count) {
		guint16 sid = (guint16)GPOINTER_TO_UINT(g_queue_pop_head(&self->notifications));
		g_autofree gchar *session_id = gw_pkg0_session_id_to_string(sid);

		self->handled++;
		self->sessions++;
		if (!gw_test_device_run_one(
		        self, 1, session_id, GW_SYNCML_ALERT_SERVER_INITIATED_MGMT, FALSE))
			self->failed++;
		if (!gw_test_device_record(self))
			self->failed++;
	}
	self->busy = FALSE;
	if (self->handled >= (guint)self->count)
		g_main_loop_quit(self->loop);
	return G_SOURCE_REMOVE;
}

/* a Package #0 for device @dev_id: checked with the nonce the device last gave its server,
 * then with the all-zero nonce (libdmclient's fallback, said when used); never the empty one */
static gboolean
gw_test_device_verify_pkg0(GwTestDevice *self,
                           const gchar *dev_id,
                           const guint8 *data,
                           gsize len,
                           const gchar *secret,
                           GError **error)
{
	GwTestNonces *n = g_hash_table_lookup(self->nonces, dev_id);
	GBytes *stored = n != NULL ? n->peer : NULL;
	gboolean fallback = FALSE;

	if (!gw_pkg0_verify_with_fallback(data, len, secret, stored, &fallback, error))
		return FALSE;
	if (fallback)
		g_print("notification for %s verified with the all-zero nonce (%s)\n",
		        dev_id,
		        stored != NULL ? "the stored nonce did not verify" : "no nonce stored");
	else
		g_print("notification for %s verified with the stored nonce\n", dev_id);
	return TRUE;
}

static void
gw_test_device_notify_cb(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwTestDevice *self = user_data;
	GBytes *body = gw_http_request_get_body(request);
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);
	g_autoptr(GwPkg0) pkg0 = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *secret =
	    self->notify_secret != NULL ? self->notify_secret : self->server_secret;

	if (g_strcmp0(gw_http_request_get_method(request), "POST") != 0) {
		gw_http_request_respond(request, 405, NULL, NULL);
		return;
	}
	pkg0 = gw_pkg0_parse(data, len, &error);
	if (pkg0 == NULL) {
		g_print("notification refused: %s\n", error->message);
		gw_http_request_respond(request, 400, NULL, NULL);
		return;
	}
	if (g_strcmp0(pkg0->server_id, self->server_name) != 0) {
		g_print("notification refused: server id %s, expected %s\n",
		        pkg0->server_id,
		        self->server_name);
		gw_http_request_respond(request, 403, NULL, NULL);
		return;
	}
	if (secret != NULL) {
		g_autofree gchar *dev_id = gw_peer_expand_index(self->dev_id, 1);
		if (!gw_test_device_verify_pkg0(self, dev_id, data, len, secret, &error)) {
			g_print("notification refused: %s\n", error->message);
			gw_http_request_respond(request, 401, NULL, NULL);
			return;
		}
	}
	g_print("notified session %04X by %s\n", pkg0->session_id, pkg0->server_id);
	fflush(stdout);
	gw_http_request_respond(request, 200, NULL, NULL);
	g_queue_push_tail(&self->notifications, GUINT_TO_POINTER((guint)pkg0->session_id));
	g_idle_add(gw_test_device_notified_idle_cb, self);
}

static gboolean
gw_test_device_listen_notify(GwTestDevice *self, GError **error)
{
	g_auto(GStrv) uris = NULL;
	g_autofree gchar *ready = NULL;

	if (!g_str_has_prefix(self->listen_notify, "http://")) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--listen-notify supports http:// only");
		return FALSE;
	}
	self->notify_server = gw_http_server_new(NULL);
	/* GwHttpServer has no catch-all handler: the root and the printed /notify path */
	gw_http_server_add_handler(self->notify_server, "/", gw_test_device_notify_cb, self, NULL);
	gw_http_server_add_handler(
	    self->notify_server, "/notify", gw_test_device_notify_cb, self, NULL);
	if (!gw_http_server_listen(self->notify_server, self->listen_notify, error)) {
		g_prefix_error(error, "--listen-notify %s: ", self->listen_notify);
		return FALSE;
	}
	uris = gw_http_server_get_uris(self->notify_server);
	if (uris == NULL || uris[0] == NULL) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_NETWORK, "not listening");
		return FALSE;
	}
	self->notify_url = g_strdup_printf("%snotify", uris[0]);
	g_print("notify-listening %s\n", self->notify_url);
	fflush(stdout);
	if (self->ready_file == NULL)
		return TRUE;
	ready = g_strdup_printf("%s\n", self->notify_url);
	if (!g_file_set_contents(self->ready_file, ready, -1, error)) {
		g_prefix_error(error, "--ready-file %s: ", self->ready_file);
		return FALSE;
	}
	return TRUE;
}

/* ---- --parallel: many devices in one process ---- */

#define GW_TEST_DEVICE_RETRY_BACKOFF_MS 100
#define GW_TEST_DEVICE_RETRY_MAX_MS 3000

/* one session to run: a registration or a notified session */
typedef struct {
	guint index;
	guint16 session_id; /* notified sessions */
	gboolean notified;
} GwTestJob;

/* one session running asynchronously */
typedef struct {
	GwTestDevice *device; /* borrowed */
	GwTestJob job;
	GwTestRun *run;
	GBytes *msg; /* the message in flight, kept for a retry */
	gchar *url;
	guint round;
	guint attempts; /* retries of the current message */
} GwTestAsync;

static void
gw_test_multi_pump(GwTestDevice *self);
static void
gw_test_async_send(GwTestAsync *a);

static gboolean
gw_test_multi_pump_cb(gpointer user_data)
{
	GwTestDevice *self = user_data;
	self->pump_id = 0;
	gw_test_multi_pump(self);
	return G_SOURCE_REMOVE;
}

/* from callbacks: the pump may start sessions that end at once, so it never nests */
static void
gw_test_multi_schedule_pump(GwTestDevice *self)
{
	if (self->pump_id == 0)
		self->pump_id = g_idle_add(gw_test_multi_pump_cb, self);
}

static void
gw_test_async_free(GwTestAsync *a)
{
	g_clear_pointer(&a->run, gw_test_run_free);
	g_clear_pointer(&a->msg, g_bytes_unref);
	g_free(a->url);
	g_free(a);
}

static gboolean
gw_test_multi_write_summary(GwTestDevice *self, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *text = NULL;
	gint64 end = self->reg_end_time > 0 ? self->reg_end_time : g_get_monotonic_time();
	gdouble elapsed = (gdouble)(end - self->start_time) / G_USEC_PER_SEC;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "devices");
	json_builder_add_int_value(b, self->count);
	json_builder_set_member_name(b, "parallel");
	json_builder_add_int_value(b, self->parallel);
	json_builder_set_member_name(b, "registered");
	json_builder_add_int_value(b, self->registered);
	json_builder_set_member_name(b, "failed");
	json_builder_add_int_value(b, self->reg_failed);
	json_builder_set_member_name(b, "elapsed_s");
	json_builder_add_double_value(b, elapsed);
	json_builder_set_member_name(b, "registrations_per_s");
	json_builder_add_double_value(b, elapsed > 0 ? self->registered / elapsed : 0.0);
	json_builder_set_member_name(b, "retries");
	json_builder_add_int_value(b, self->retried);
	json_builder_set_member_name(b, "notified_sessions");
	json_builder_add_int_value(b, self->notified_ok);
	json_builder_set_member_name(b, "notified_failed");
	json_builder_add_int_value(b, self->notified_failed);
	json_builder_set_member_name(b, "failed_devices");
	json_builder_add_value(b, json_node_init_array(json_node_alloc(), self->failed_devices));
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	if (g_strcmp0(self->summary_path, "-") == 0) {
		g_print("%s\n", text);
		fflush(stdout);
		return TRUE;
	}
	if (!g_file_set_contents(self->summary_path, text, -1, error)) {
		g_prefix_error(error, "--summary %s: ", self->summary_path);
		return FALSE;
	}
	return TRUE;
}

/* after the registrations, and again at exit */
static gboolean
gw_test_multi_report(GwTestDevice *self)
{
	g_autoptr(GError) error = NULL;
	gboolean ok = gw_test_device_record(self);

	if (self->summary_path != NULL && !gw_test_multi_write_summary(self, &error)) {
		g_printerr("gwmo-test-device: %s\n", error->message);
		ok = FALSE;
	}
	return ok;
}

static gboolean
gw_test_multi_ready(GwTestDevice *self, GError **error)
{
	g_autofree gchar *text = NULL;

	if (self->ready_file == NULL)
		return TRUE;
	text = g_strdup_printf("%s\n", self->notify_url);
	if (!g_file_set_contents(self->ready_file, text, -1, error)) {
		g_prefix_error(error, "--ready-file %s: ", self->ready_file);
		return FALSE;
	}
	return TRUE;
}

static gboolean
gw_test_multi_done(GwTestDevice *self)
{
	if (self->stopping)
		return self->in_flight == 0;
	if (self->next_index <= (guint)self->count || self->in_flight > 0 ||
	    !g_queue_is_empty(&self->jobs))
		return FALSE;
	if (self->listen_notify == NULL)
		return TRUE;
	return self->max_notified > 0 &&
	       self->notified_ok + self->notified_failed >= (guint)self->max_notified;
}

static void
gw_test_async_end(GwTestAsync *a, gboolean ok, const GError *error)
{
	GwTestDevice *self = a->device;
	gboolean registering;

	gw_test_run_finish(a->run, ok, error);
	if (a->job.notified) {
		if (ok)
			self->notified_ok++;
		else
			self->notified_failed++;
	} else if (ok) {
		self->registered++;
	} else {
		self->reg_failed++;
		json_array_add_string_element(self->failed_devices, a->run->dev_id);
	}
	self->device_busy[a->job.index] = FALSE;
	self->in_flight--;
	g_ptr_array_remove_fast(self->running, a); /* frees it */

	registering = self->reg_end_time == 0;
	if (registering && self->next_index > (guint)self->count && self->in_flight == 0) {
		g_autoptr(GError) ready_error = NULL;
		gdouble elapsed;

		/* every device had its registration session */
		self->reg_end_time = g_get_monotonic_time();
		elapsed = (gdouble)(self->reg_end_time - self->start_time) / G_USEC_PER_SEC;
		g_print("registered: %u of %d devices, %u failed, in %.3f s (%.1f registrations/s, "
		        "%u retries)\n",
		        self->registered,
		        self->count,
		        self->reg_failed,
		        elapsed,
		        elapsed > 0 ? self->registered / elapsed : 0.0,
		        self->retried);
		fflush(stdout);
		if (!gw_test_multi_report(self))
			self->failed++;
		if (self->listen_notify != NULL && !gw_test_multi_ready(self, &ready_error)) {
			g_printerr("gwmo-test-device: %s\n", ready_error->message);
			self->failed++;
		}
	}
	gw_test_multi_schedule_pump(self);
}

static gboolean
gw_test_async_retry_cb(gpointer user_data)
{
	gw_test_async_send(user_data);
	return G_SOURCE_REMOVE;
}

/* TRUE when the message goes out again later */
static gboolean
gw_test_async_retry(GwTestAsync *a, const gchar *why)
{
	guint delay;

	if (a->attempts >= (guint)a->device->retries)
		return FALSE;
	delay = MIN(GW_TEST_DEVICE_RETRY_BACKOFF_MS << MIN(a->attempts, 10),
	            GW_TEST_DEVICE_RETRY_MAX_MS);
	/* spread the retries so that a burst does not come back as one */
	delay += g_random_int_range(0, (gint)delay / 2 + 1);
	a->attempts++;
	a->device->retried++;
	g_debug("%s: %s, retry %u in %u ms", a->run->dev_id, why, a->attempts, delay);
	g_timeout_add(delay, gw_test_async_retry_cb, a);
	return TRUE;
}

static void
gw_test_async_post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwTestAsync *a = user_data;
	GwTestRun *run = a->run;
	g_autoptr(GwHttpResponse) response = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) next = NULL;
	const gchar *resp_uri;

	response = gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL) {
		/* the server did not get it or did not answer: the same message again */
		gboolean network = (error->domain == G_IO_ERROR &&
		                    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) ||
		                   g_error_matches(error, GW_ERROR, GW_ERROR_NETWORK);
		if (!network || !gw_test_async_retry(a, error->message))
			gw_test_async_end(a, FALSE, error);
		return;
	}
	if (response->status == 503 || response->status == 429) {
		g_autofree gchar *why = g_strdup_printf("HTTP %u", response->status);
		if (gw_test_async_retry(a, why))
			return;
	}
	a->attempts = 0;
	if (gw_dm_session_get_state(run->session) == GW_DM_SESSION_STATE_FAILED) {
		gw_test_async_end(a, FALSE, gw_dm_session_get_error(run->session));
		return;
	}
	if (response->status != 200) {
		g_autofree gchar *text = g_strndup(g_bytes_get_data(response->body, NULL),
		                                   MIN(g_bytes_get_size(response->body), 200));
		g_set_error(&error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "the server answered HTTP %u: %s",
		            response->status,
		            g_strstrip(text));
		gw_test_async_end(a, FALSE, error);
		return;
	}
	gw_test_run_analyse(run, response->body, response->content_type, FALSE);
	next = gw_dm_session_receive(run->session,
	                             response->body,
	                             response->content_type,
	                             g_hash_table_lookup(response->headers, GW_DM_AUTH_HMAC_HEADER),
	                             &error);
	if (next == NULL) {
		if (gw_dm_session_get_state(run->session) == GW_DM_SESSION_STATE_FINISHED)
			gw_test_async_end(a, TRUE, NULL);
		else
			gw_test_async_end(a, FALSE, error);
		return;
	}
	resp_uri = gw_dm_session_get_resp_uri(run->session);
	if (resp_uri != NULL && g_strcmp0(resp_uri, a->url) != 0) {
		g_free(a->url);
		a->url = g_strdup(resp_uri);
	}
	g_clear_pointer(&a->msg, g_bytes_unref);
	a->msg = g_steal_pointer(&next);
	a->round++;
	if (a->round >= GW_TEST_DEVICE_MAX_ROUNDS) {
		g_set_error(
		    &error, GW_ERROR, GW_ERROR_PROTOCOL, "no end after %u messages", a->round);
		gw_test_async_end(a, FALSE, error);
		return;
	}
	gw_test_async_send(a);
}

static void
gw_test_async_send(GwTestAsync *a)
{
	const gchar *ct = gw_dm_session_get_content_type(a->run->session);
	g_autofree gchar *hmac = gw_dm_session_get_hmac_header(a->run->session, a->msg);
	const gchar *headers[] = {GW_DM_AUTH_HMAC_HEADER, hmac, NULL};

	if (a->attempts == 0)
		gw_test_run_analyse(a->run, a->msg, ct, TRUE);
	gw_http_client_post_async(a->device->http,
	                          a->url,
	                          ct,
	                          a->msg,
	                          hmac != NULL ? headers : NULL,
	                          NULL,
	                          gw_test_async_post_cb,
	                          a);
}

static void
gw_test_multi_start_job(GwTestDevice *self, const GwTestJob *job)
{
	GwTestAsync *a = g_new0(GwTestAsync, 1);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *session_id =
	    job->notified ? gw_pkg0_session_id_to_string(job->session_id) : NULL;
	guint alert = job->notified || self->alert_1200 ? GW_SYNCML_ALERT_SERVER_INITIATED_MGMT
	                                                : GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT;

	a->device = self;
	a->job = *job;
	a->url = g_strdup(self->server_url);
	g_ptr_array_add(self->running, a);
	self->in_flight++;
	self->sessions++;
	self->device_busy[job->index] = TRUE;
	a->run = gw_test_run_new(
	    self, job->index, session_id, alert, !job->notified && self->do_register, &error);
	if (a->run == NULL) {
		g_printerr("gwmo-test-device: %s\n", error->message);
		self->failed++;
		self->in_flight--;
		self->device_busy[job->index] = FALSE;
		if (job->notified)
			self->notified_failed++;
		else
			self->reg_failed++;
		g_ptr_array_remove_fast(self->running, a); /* frees it */
		return;
	}
	a->msg = gw_dm_session_start(a->run->session, alert, &error);
	if (a->msg == NULL) {
		gw_test_async_end(a, FALSE, error);
		return;
	}
	gw_test_async_send(a);
}

/* starts what may start: queued notified sessions of idle devices, then registrations */
static void
gw_test_multi_pump(GwTestDevice *self)
{
	GList *l = self->stopping ? NULL : self->jobs.head;

	while (l != NULL && self->in_flight < (guint)self->parallel) {
		GList *next = l->next;
		GwTestJob *job = l->data;
		if (!self->device_busy[job->index]) {
			g_queue_delete_link(&self->jobs, l);
			gw_test_multi_start_job(self, job);
			g_free(job);
		}
		l = next;
	}
	while (!self->stopping && self->next_index <= (guint)self->count &&
	       self->in_flight < (guint)self->parallel) {
		GwTestJob job = {.index = self->next_index++};
		gw_test_multi_start_job(self, &job);
	}
	if (gw_test_multi_done(self))
		g_main_loop_quit(self->loop);
}

/* POST /notify/<DeviceID>: a Package #0 for one of the simulated devices */
static void
gw_test_multi_notify_cb(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwTestDevice *self = user_data;
	const gchar *path = gw_http_request_get_path(request);
	GBytes *body = gw_http_request_get_body(request);
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);
	g_autoptr(GwPkg0) pkg0 = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dev_id = NULL;
	g_autofree gchar *secret = NULL;
	gpointer value = NULL;
	GwTestJob *job;
	guint index;

	if (g_strcmp0(gw_http_request_get_method(request), "POST") != 0) {
		gw_http_request_respond(request, 405, NULL, NULL);
		return;
	}
	if (!g_str_has_prefix(path, "/notify/") ||
	    (dev_id = g_uri_unescape_string(path + strlen("/notify/"), "/")) == NULL ||
	    !g_hash_table_lookup_extended(self->by_dev_id, dev_id, NULL, &value)) {
		g_print("notification refused: no device at %s\n", path);
		gw_http_request_respond(request, 404, NULL, NULL);
		return;
	}
	index = GPOINTER_TO_UINT(value);
	pkg0 = gw_pkg0_parse(data, len, &error);
	if (pkg0 == NULL) {
		g_print("notification for %s refused: %s\n", dev_id, error->message);
		gw_http_request_respond(request, 400, NULL, NULL);
		return;
	}
	if (g_strcmp0(pkg0->server_id, self->server_name) != 0) {
		g_print("notification for %s refused: server id %s, expected %s\n",
		        dev_id,
		        pkg0->server_id,
		        self->server_name);
		gw_http_request_respond(request, 403, NULL, NULL);
		return;
	}
	if (self->notify_secret != NULL)
		secret = gw_peer_expand_index(self->notify_secret, index);
	else if (self->server_secret != NULL)
		secret = gw_peer_expand_index(self->server_secret, index);
	if (secret != NULL &&
	    !gw_test_device_verify_pkg0(self, dev_id, data, len, secret, &error)) {
		g_print("notification for %s refused: %s\n", dev_id, error->message);
		gw_http_request_respond(request, 401, NULL, NULL);
		return;
	}
	if (!self->quiet) {
		g_print("notified session %04X of %s by %s\n",
		        pkg0->session_id,
		        dev_id,
		        pkg0->server_id);
		fflush(stdout);
	}
	gw_http_request_respond(request, 200, NULL, NULL);
	job = g_new0(GwTestJob, 1);
	job->index = index;
	job->session_id = pkg0->session_id;
	job->notified = TRUE;
	g_queue_push_tail(&self->jobs, job);
	gw_test_multi_schedule_pump(self);
}

static gboolean
gw_test_multi_signal_cb(gpointer user_data)
{
	GwTestDevice *self = user_data;

	if (self->stopping || self->in_flight == 0) {
		g_print("stopping on a signal\n");
		g_main_loop_quit(self->loop);
		return G_SOURCE_CONTINUE;
	}
	/* the running sessions end first (a second signal does not wait) */
	g_print("stopping on a signal once %u running session(s) end\n", self->in_flight);
	fflush(stdout);
	self->stopping = TRUE;
	return G_SOURCE_CONTINUE;
}

/* the --parallel mode; returns the exit status */
static int
gw_test_multi_run(GwTestDevice *self)
{
	g_autoptr(GError) error = NULL;
	guint sigint_id, sigterm_id;

	self->by_dev_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 1; i <= (guint)self->count; i++) {
		gchar *id = gw_peer_expand_index(self->dev_id, i);
		if (g_hash_table_contains(self->by_dev_id, id)) {
			g_printerr(
			    "gwmo-test-device: --dev-id %s gives %s twice: use %%u or %%05u\n",
			    self->dev_id,
			    id);
			g_free(id);
			return GW_PEER_EXIT_USAGE;
		}
		g_hash_table_insert(self->by_dev_id, id, GUINT_TO_POINTER(i));
	}
	self->device_busy = g_new0(guint8, (gsize)self->count + 1);
	self->running = g_ptr_array_new_with_free_func((GDestroyNotify)gw_test_async_free);
	self->failed_devices = json_array_new();
	gw_http_client_set_max_in_flight(self->http, (guint)self->parallel);
	if (self->listen_notify != NULL) {
		g_auto(GStrv) uris = NULL;
		self->notify_server = gw_http_server_new(NULL);
		gw_http_server_add_handler(
		    self->notify_server, "/notify/", gw_test_multi_notify_cb, self, NULL);
		if (!g_str_has_prefix(self->listen_notify, "http://") ||
		    !gw_http_server_listen(self->notify_server, self->listen_notify, &error)) {
			g_printerr("gwmo-test-device: --listen-notify %s: %s\n",
			           self->listen_notify,
			           error != NULL ? error->message : "http:// only");
			return GW_PEER_EXIT_USAGE;
		}
		uris = gw_http_server_get_uris(self->notify_server);
		self->notify_url = g_strdup_printf("%snotify", uris[0]);
		g_print("notify-listening %s/<DeviceID>\n", self->notify_url);
		fflush(stdout);
	}
	self->loop = g_main_loop_new(NULL, FALSE);
	sigint_id = g_unix_signal_add(SIGINT, gw_test_multi_signal_cb, self);
	sigterm_id = g_unix_signal_add(SIGTERM, gw_test_multi_signal_cb, self);
	self->start_time = g_get_monotonic_time();
	self->next_index = 1;
	gw_test_multi_pump(self);
	if (!gw_test_multi_done(self))
		g_main_loop_run(self->loop);
	g_source_remove(sigint_id);
	g_source_remove(sigterm_id);
	if (self->listen_notify != NULL)
		g_print("notified sessions: %u finished, %u failed\n",
		        self->notified_ok,
		        self->notified_failed);
	/* again with the notified sessions, or for the first time when a signal stopped us */
	if ((self->listen_notify != NULL || self->reg_end_time == 0) && !gw_test_multi_report(self))
		self->failed++;
	return self->failed == 0 && self->reg_failed == 0 && self->notified_failed == 0 &&
	               self->registered == (guint)self->count
	           ? GW_PEER_EXIT_OK
	           : GW_PEER_EXIT_FAILED;
}

/* ---- mDNS (gw-peer-mdns.c) ---- */

static GOptionGroup *
gw_test_device_mdns_options(GwTestDevice *self)
{
	/* clang-format off */
	const GOptionEntry entries[] = {
	    {"announce", 0, 0, G_OPTION_ARG_NONE, &self->announce,
	     "Announce the device on mDNS (_omadm._tcp, TXT devid=, path=/dm) until it exits; "
	     "--count devices when --dev-id holds %u", NULL},
	    {"announce-port", 0, 0, G_OPTION_ARG_INT, &self->announce_port,
	     "Port to announce (default: the --listen-notify port)", "PORT"},
	    {"discover", 0, 0, G_OPTION_ARG_NONE, &self->discover,
	     "Find the gateway on mDNS (_gwmo._tcp) and print \"bootstrap-url URL\"", NULL},
	    {"mdns-timeout", 0, 0, G_OPTION_ARG_INT, &self->mdns_timeout,
	     "Seconds --discover and --announce wait for avahi-daemon (default 20)", "S"},
	    {NULL}};
	/* clang-format on */
	GOptionGroup *group = g_option_group_new("mdns",
	                                         "mDNS options (avahi-daemon on the system bus)",
	                                         "Show the mDNS options",
	                                         NULL,
	                                         NULL);

	g_option_group_add_entries(group, entries);
	return group;
}

static gboolean
gw_test_device_mdns_check(GwTestDevice *self, GError **error)
{
	if (self->announce_port < 0 || self->announce_port > 65535 || self->mdns_timeout < 0) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--announce-port is a port, --mdns-timeout not negative");
		return FALSE;
	}
	if (self->announce && self->announce_port == 0 && self->listen_notify == NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--announce needs --announce-port or --listen-notify");
		return FALSE;
	}
	if (self->mdns_timeout == 0)
		self->mdns_timeout = 20;
	return TRUE;
}

/* --announce on @port, or on the --listen-notify port (once it listens) */
static gboolean
gw_test_device_announce(GwTestDevice *self, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) dev_ids = g_ptr_array_new_with_free_func(g_free);
	/* --count devices when --dev-id holds "%u" (a flood of them, from one client) */
	guint n = strchr(self->dev_id, '%') != NULL ? (guint)self->count : 1;
	gint port = self->announce_port;

	if (!self->announce || self->mdns != NULL)
		return TRUE;
	if (port == 0 && self->notify_url != NULL) {
		g_autoptr(GUri) uri = g_uri_parse(self->notify_url, G_URI_FLAGS_NONE, NULL);
		port = uri != NULL ? g_uri_get_port(uri) : 0;
	}
	if (port <= 0)
		return TRUE; /* once the listener is there */
	for (guint i = 1; i <= n; i++) {
		gchar *dev_id = gw_peer_expand_index(self->dev_id, i);
		g_ptr_array_add(names, g_strdup_printf("gwmo-test-device %s", dev_id));
		g_ptr_array_add(dev_ids, dev_id);
	}
	g_ptr_array_add(names, NULL);
	g_ptr_array_add(dev_ids, NULL);
	self->mdns = gw_peer_mdns_announce((const gchar *const *)names->pdata,
	                                   (const gchar *const *)dev_ids->pdata,
	                                   (guint16)port,
	                                   "/dm",
	                                   (guint)self->mdns_timeout,
	                                   error);
	if (self->mdns == NULL)
		return FALSE;
	g_print("announced _omadm._tcp '%s'%s port %d\n",
	        (const gchar *)g_ptr_array_index(names, 0),
	        n > 1 ? " and more" : "",
	        port);
	fflush(stdout);
	return TRUE;
}

/* --discover, then --announce when the port is known */
static gboolean
gw_test_device_mdns_start(GwTestDevice *self, GError **error)
{
	if (self->discover) {
		g_autofree gchar *url =
		    gw_peer_mdns_discover_bootstrap(self->dev_id, (guint)self->mdns_timeout, error);
		if (url == NULL)
			return FALSE;
		g_print("bootstrap-url %s\n", url);
		fflush(stdout);
		if (self->bootstrap_url == NULL)
			self->bootstrap_url = g_steal_pointer(&url);
	}
	return gw_test_device_announce(self, error);
}

static gboolean
gw_test_device_mdns_quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

/* no --server: announce until SIGINT/SIGTERM (then withdraw), or only --discover */
static gint
gw_test_device_mdns_only(GwTestDevice *self)
{
	g_autoptr(GMainLoop) loop = NULL;

	if (self->mdns == NULL)
		return GW_PEER_EXIT_OK;
	loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGINT, gw_test_device_mdns_quit_cb, loop);
	g_unix_signal_add(SIGTERM, gw_test_device_mdns_quit_cb, loop);
	g_main_loop_run(loop);
	g_clear_pointer(&self->mdns, gw_peer_mdns_free);
	return GW_PEER_EXIT_OK;
}

static gboolean
gw_test_device_check_options(GwTestDevice *self, GError **error)
{
	if (!gw_test_device_mdns_check(self, error))
		return FALSE;
	if ((self->server_url == NULL && self->bootstrap_url == NULL && !self->announce &&
	     !self->discover) ||
	    self->dev_id == NULL) {
		g_set_error_literal(
		    error,
		    GW_ERROR,
		    GW_ERROR_INVALID_ARGS,
		    "--server (or --bootstrap, --announce, --discover) and --dev-id "
		    "are required");
		return FALSE;
	}
	if (self->bootstrap_url != NULL && self->parallel > 0) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--bootstrap is for one device");
		return FALSE;
	}
	if (!gw_peer_parse_auth_type(self->auth, &self->auth_type, error))
		return FALSE;
	if (self->auth_type != GW_DM_AUTH_TYPE_NONE && self->client_secret == NULL) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "--auth %s needs --client-secret",
		            self->auth);
		return FALSE;
	}
	if (self->server_secret != NULL && self->auth_type == GW_DM_AUTH_TYPE_NONE) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--server-secret needs --auth other than none");
		return FALSE;
	}
	if (self->count < 1 || self->max_msg_size < 0) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--count must be at least 1, --max-msg-size not negative");
		return FALSE;
	}
	if (self->alert_type == NULL &&
	    (self->alert_data != NULL || self->alert_format != NULL || self->alert_source != NULL ||
	     self->alert_correlator != NULL || self->alert_mark != NULL)) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--alert-* options need --alert");
		return FALSE;
	}
	if (self->reg_mode < 0 || self->reg_mode > 3) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--mode is 1, 2 or 3");
		return FALSE;
	}
	if (self->parallel < 0 || self->retries < 0 || self->max_notified < 0) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--parallel, --retries and --notifications are not negative");
		return FALSE;
	}
	if (self->parallel > 0 && self->count > 1 && strchr(self->dev_id, '%') == NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--parallel with --count above 1 needs \"%u\" or \"%05u\" in "
		                    "--dev-id (one DeviceID per device)");
		return FALSE;
	}
	if (self->parallel == 0 && (self->max_notified > 0 || self->summary_path != NULL)) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "--notifications and --summary need --parallel");
		return FALSE;
	}
	if (self->truncate_message < 0 || (self->truncate_message > 0 && self->parallel > 0)) {
		g_set_error_literal(
		    error,
		    GW_ERROR,
		    GW_ERROR_INVALID_ARGS,
		    "--truncate-message is a message number (1…), without --parallel");
		return FALSE;
	}
	if (self->session_id != NULL) {
		guint64 sid = 0;
		if (!g_ascii_string_to_unsigned(self->session_id, 16, 1, 0xFFFF, &sid, NULL)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "--session-id '%s': 1 to 4 hex digits, not 0",
			            self->session_id);
			return FALSE;
		}
	}
	if (self->ready_file != NULL && self->listen_notify == NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "--ready-file needs --listen-notify");
		return FALSE;
	}
	if (self->server_id == NULL)
		self->server_id = g_strdup("gwmo-gateway");
	if (self->server_name == NULL)
		self->server_name = g_strdup(self->server_id);
	if (self->tree_path != NULL &&
	    !g_file_get_contents(self->tree_path, &self->tree_xml, &self->tree_len, error)) {
		g_prefix_error(error, "--tree: ");
		return FALSE;
	}
	return TRUE;
}

static void
gw_test_device_free(GwTestDevice *self)
{
	if (self->notify_server != NULL)
		gw_http_server_disconnect(self->notify_server);
	g_clear_object(&self->notify_server);
	g_clear_pointer(&self->loop, g_main_loop_unref);
	g_clear_pointer(&self->mdns, gw_peer_mdns_free);
	g_queue_clear(&self->notifications);
	g_free(self->notify_url);
	g_free(self->listen_notify);
	g_free(self->ready_file);
	g_free(self->notify_secret);
	g_free(self->notify_addr);
	g_free(self->server_ids);
	g_free(self->notified_server);
	g_free(self->summary_path);
	g_free(self->session_id);
	g_free(self->bootstrap_url);
	g_free(self->bootstrap_account);
	g_free(self->then_account);
	if (self->pump_id != 0)
		g_source_remove(self->pump_id);
	g_clear_pointer(&self->by_dev_id, g_hash_table_unref);
	g_free(self->device_busy);
	g_queue_clear_full(&self->jobs, g_free);
	g_clear_pointer(&self->failed_devices, json_array_unref);
	g_clear_pointer(&self->running, g_ptr_array_unref);
	g_clear_object(&self->http);
	g_clear_pointer(&self->nonces, g_hash_table_unref);
	g_clear_pointer(&self->trees, g_hash_table_unref);
	g_clear_pointer(&self->record, json_array_unref);
	g_free(self->tree_xml);
	g_free(self->server_url);
	g_free(self->dev_id);
	g_free(self->ca_file);
	g_free(self->client_name);
	g_free(self->client_secret);
	g_free(self->server_name);
	g_free(self->server_secret);
	g_free(self->auth);
	g_free(self->server_id);
	g_free(self->tree_path);
	g_free(self->record_path);
	g_free(self->alert_type);
	g_free(self->alert_data);
	g_free(self->alert_format);
	g_free(self->alert_source);
	g_free(self->alert_correlator);
	g_free(self->alert_mark);
	g_free(self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwTestDevice, gw_test_device_free)

int
main(int argc, char **argv)
{
	g_autoptr(GwTestDevice) self = g_new0(GwTestDevice, 1);
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	gboolean verbose = FALSE;
	gboolean wants_sessions;
	guint failed = 0;
	gint64 start;
	gdouble elapsed;
	/* clang-format off */
	const GOptionEntry entries[] = {
	    {"server", 's', 0, G_OPTION_ARG_STRING, &self->server_url,
	     "DM server URL, e.g. https://127.0.0.1:7444/dm", "URL"},
	    {"dev-id", 'd', 0, G_OPTION_ARG_STRING, &self->dev_id,
	     "./DevInfo/DevId; \"%u\" is replaced by the session index (1…N)", "ID"},
	    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &self->ca_file,
	     "CA bundle the server's certificate must chain to (default: system trust)", "FILE"},
	    {"client-name", 0, 0, G_OPTION_ARG_STRING, &self->client_name,
	     "Name the device presents (CLCRED AAuthName; default the device id; may hold %u)",
	     "NAME"},
	    {"client-secret", 0, 0, G_OPTION_ARG_STRING, &self->client_secret,
	     "Secret the device presents (CLCRED AAuthSecret)", "SECRET"},
	    {"server-name", 0, 0, G_OPTION_ARG_STRING, &self->server_name,
	     "Name required from the server (SRVCRED; default the server id)", "NAME"},
	    {"server-secret", 0, 0, G_OPTION_ARG_STRING, &self->server_secret,
	     "Secret required from the server (SRVCRED); none: the server is not checked",
	     "SECRET"},
	    {"auth", 0, 0, G_OPTION_ARG_STRING, &self->auth,
	     "Authentication type, both ways: none, basic, md5, hmac (default none)", "TYPE"},
	    {"server-id", 0, 0, G_OPTION_ARG_STRING, &self->server_id,
	     "ServerID the server's commands run as (ACL principal; default gwmo-gateway)", "ID"},
	    {"tree", 't', 0, G_OPTION_ARG_FILENAME, &self->tree_path,
	     "TNDS file imported below \".\"", "FILE.tnds"},
	    {"wbxml", 0, 0, G_OPTION_ARG_NONE, &self->wbxml, "Speak WBXML instead of XML", NULL},
	    {"count", 'c', 0, G_OPTION_ARG_INT, &self->count,
	     "Run N sessions one after the other (default 1); with --parallel: N devices", "N"},
	    {"alert-1200", 0, 0, G_OPTION_ARG_NONE, &self->alert_1200,
	     "Open with Alert 1200 (server-initiated) instead of 1201", NULL},
	    {"record", 0, 0, G_OPTION_ARG_FILENAME, &self->record_path,
	     "JSON record of what was executed, per session", "FILE"},
	    {"alert", 0, 0, G_OPTION_ARG_STRING, &self->alert_type,
	     "Queue one Generic Alert of this type in every session", "TYPE"},
	    {"alert-data", 0, 0, G_OPTION_ARG_STRING, &self->alert_data,
	     "Data of the Generic Alert (may hold %u)", "DATA"},
	    {"alert-format", 0, 0, G_OPTION_ARG_STRING, &self->alert_format,
	     "Format of the Generic Alert data (default xml when it starts with '<', else chr)",
	     "FORMAT"},
	    {"alert-source", 0, 0, G_OPTION_ARG_STRING, &self->alert_source,
	     "Source LocURI of the Generic Alert (default the device id; may hold %u)", "URI"},
	    {"alert-correlator", 0, 0, G_OPTION_ARG_STRING, &self->alert_correlator,
	     "Correlator of the Generic Alert", "ID"},
	    {"alert-mark", 0, 0, G_OPTION_ARG_STRING, &self->alert_mark,
	     "Mark of the Generic Alert (warning, fatal, …)", "MARK"},
	    {"max-msg-size", 0, 0, G_OPTION_ARG_INT, &self->max_msg_size,
	     "MaxMsgSize to announce (default 16384)", "N"},
	    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &self->quiet,
	     "Print only failures and the summary (benchmarks)", NULL},
	    {"listen-notify", 0, 0, G_OPTION_ARG_STRING, &self->listen_notify,
	     "Wait for Package #0 (HTTP POST to / or /notify) on this URI, e.g. http://127.0.0.1:0; "
	     "open a server-initiated session for each, --count of them, then exit", "URI"},
	    {"ready-file", 0, 0, G_OPTION_ARG_FILENAME, &self->ready_file,
	     "Once listening for notifications write their URL to this file", "FILE"},
	    {"notify-secret", 0, 0, G_OPTION_ARG_STRING, &self->notify_secret,
	     "Password Package #0 digests are checked with (default --server-secret; none: "
	     "not checked); the server id must be --server-name", "SECRET"},
	    {"notify-addr", 0, 0, G_OPTION_ARG_STRING, &self->notify_addr,
	     "./DevInfo/Ext/NotifyAddr (default the --listen-notify URL)", "URL"},
	    {"register", 0, 0, G_OPTION_ARG_NONE, &self->do_register,
	     "Send the GwMO DeviceRegistration Generic Alert in the first session", NULL},
	    {"mode", 0, 0, G_OPTION_ARG_INT, &self->reg_mode,
	     "Mode in the registration (1 Transparent, 2 Proxy, 3 Adaptation; default none)", "N"},
	    {"server-ids", 0, 0, G_OPTION_ARG_STRING, &self->server_ids,
	     "ServerIDs in the registration, comma-separated", "A,B"},
	    {"notified-server", 0, 0, G_OPTION_ARG_STRING, &self->notified_server,
	     "URL for sessions opened after a notification (default --server)", "URL"},
	    {"parallel", 'P', 0, G_OPTION_ARG_INT, &self->parallel,
	     "Act as --count distinct devices (DeviceIDs from --dev-id with %u or %05u), all "
	     "registering at once, at most K sessions in flight; with --listen-notify one listener "
	     "serves them all at <URL>/notify/<DeviceID>", "K"},
	    {"retries", 0, 0, G_OPTION_ARG_INT, &self->retries,
	     "With --parallel: resend a message this often on HTTP 503/429 or a connection "
	     "error (default 8)", "N"},
	    {"notifications", 0, 0, G_OPTION_ARG_INT, &self->max_notified,
	     "With --parallel --listen-notify: exit after N notified sessions (default 0: on "
	     "SIGINT/SIGTERM)", "N"},
	    {"summary", 0, 0, G_OPTION_ARG_FILENAME, &self->summary_path,
	     "With --parallel: JSON summary (registered, failed, elapsed_s, registrations_per_s, "
	     "…) to FILE, \"-\" for stdout", "FILE"},
	    {"session-id", 0, 0, G_OPTION_ARG_STRING, &self->session_id,
	     "SessionID of the sessions the device opens itself (hex; default random), e.g. 1 as "
	     "clients that hard-code it", "HEX"},
	    {"truncate-message", 0, 0, G_OPTION_ARG_INT, &self->truncate_message,
	     "Send message N of the first session without its closing tags (malformed)", "N"},
	    {"bootstrap", 0, 0, G_OPTION_ARG_STRING, &self->bootstrap_url,
	     "GET a DM bootstrap from this URL first (the gateway's GET /bootstrap?dev=<DeviceID>) "
	     "and use the account it adds (server, names, secrets); a non-trusted one "
	     "(Ext/LapseTimer) is deleted when no session with it succeeds in time", "URL"},
	    {"bootstrap-wait", 0, 0, G_OPTION_ARG_INT, &self->bootstrap_wait,
	     "Seconds to wait between the bootstrap and the first session", "S"},
	    {"then-account", 0, 0, G_OPTION_ARG_STRING, &self->then_account,
	     "With --listen-notify: after the --count notified sessions, one session with the "
	     "DM Server of this ServerID through the ./DMAcc account the gateway gave the device",
	     "SERVERID"},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
	     "Log the session engine's informational messages too", NULL},
	    {NULL}};
	/* clang-format on */

	self->count = 1;
	self->retries = 8;
	context = g_option_context_new("- OMA DM End Device for gwmo tests");
	g_option_context_set_summary(
	    context,
	    "Runs DM client sessions against --server on its own DM tree, prints one line per "
	    "command\nexecuted and exits 0 when every session finished, 1 otherwise.");
	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_add_group(context, gw_test_device_mdns_options(self));
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("gwmo-test-device: %s\n", error->message);
		return GW_PEER_EXIT_USAGE;
	}
	if (!gw_test_device_check_options(self, &error)) {
		g_printerr("gwmo-test-device: %s\n", error->message);
		return GW_PEER_EXIT_USAGE;
	}
	gw_log_setup(verbose, NULL);
	/* --discover alone prints the gateway's bootstrap URL; with --register (or --server,
	 * --bootstrap) the device goes on to its sessions */
	wants_sessions =
	    self->server_url != NULL || self->bootstrap_url != NULL || self->do_register;
	if (!gw_test_device_mdns_start(self, &error)) {
		g_printerr("gwmo-test-device: %s\n", error->message);
		return GW_PEER_EXIT_FAILED;
	}
	if (!wants_sessions)
		return gw_test_device_mdns_only(self);

	self->http = gw_http_client_new(self->ca_file, &error);
	if (self->http == NULL) {
		g_printerr("gwmo-test-device: %s\n", error->message);
		return GW_PEER_EXIT_USAGE;
	}
	self->nonces = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_test_nonces_free);
	self->trees = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	if (self->record_path != NULL)
		self->record = json_array_new();

	if (self->parallel > 0)
		return gw_test_multi_run(self);
	start = g_get_monotonic_time();
	if (self->listen_notify != NULL) {
		/* a device the gateway wakes up: (registration,) then --count notifications */
		if (!gw_test_device_listen_notify(self, &error)) {
			g_printerr("gwmo-test-device: %s\n", error->message);
			return GW_PEER_EXIT_USAGE;
		}
		if (!gw_test_device_announce(self, &error)) {
			g_printerr("gwmo-test-device: %s\n", error->message);
			return GW_PEER_EXIT_FAILED;
		}
		if (self->bootstrap_url != NULL && !gw_test_device_bootstrap(self, &error)) {
			g_printerr("gwmo-test-device: --bootstrap: %s\n", error->message);
			return GW_PEER_EXIT_FAILED;
		}
		if (self->do_register) {
			self->busy = TRUE;
			self->sessions++;
			if (!gw_test_device_run_one(
			        self, 1, NULL, GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT, TRUE))
				self->failed++;
			if (!gw_test_device_record(self))
				return GW_PEER_EXIT_FAILED;
			self->busy = FALSE;
			if (!g_queue_is_empty(&self->notifications))
				g_idle_add(gw_test_device_notified_idle_cb, self);
		}
		self->loop = g_main_loop_new(NULL, FALSE);
		g_main_loop_run(self->loop);
		if (self->then_account != NULL && self->failed == 0) {
			self->sessions++;
			if (!gw_test_device_session_with_account(self, self->then_account))
				self->failed++;
			if (!gw_test_device_record(self))
				return GW_PEER_EXIT_FAILED;
		}
		failed = self->failed;
		elapsed = (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
		g_print("sessions: %u finished, %u failed in %.3f s\n",
		        self->sessions - MIN(failed, self->sessions),
		        failed,
		        elapsed);
		return failed == 0 ? GW_PEER_EXIT_OK : GW_PEER_EXIT_FAILED;
	}
	if (self->bootstrap_url != NULL && !gw_test_device_bootstrap(self, &error)) {
		g_printerr("gwmo-test-device: --bootstrap: %s\n", error->message);
		return GW_PEER_EXIT_FAILED;
	}
	for (guint i = 1; i <= (guint)self->count; i++) {
		guint alert = self->alert_1200 ? GW_SYNCML_ALERT_SERVER_INITIATED_MGMT
		                               : GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT;
		if (!gw_test_device_run_one(self, i, NULL, alert, self->do_register && i == 1))
			failed++;
		if (self->record != NULL &&
		    !gw_peer_write_record(self->record_path, self->record, &error)) {
			g_printerr("gwmo-test-device: %s\n", error->message);
			return GW_PEER_EXIT_FAILED;
		}
	}
	elapsed = (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
	g_print("sessions: %u finished, %u failed in %.3f s (%.1f sessions/s)\n",
	        self->count - failed,
	        failed,
	        elapsed,
	        elapsed > 0 ? self->count / elapsed : 0.0);
	return failed == 0 ? GW_PEER_EXIT_OK : GW_PEER_EXIT_FAILED;
}
