/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The TR-069 adapter (README.md). One CWMP session per CPE at a time, keyed by a cookie of the
 * ACS's own (or, for a CPE that drops cookies, by its address while it has one session open):
 *
 *   CPE: POST Inform              ACS: 200 InformResponse (the record is registered/refreshed)
 *   CPE: POST TransferComplete …  ACS: 200 its response
 *   CPE: POST (empty)             ACS: 200 the first queued RPC, or 204: the session ends
 *   CPE: POST <RPC>Response/Fault ACS: 200 the next queued RPC, or 204
 *
 * A command for a CPE out of session is queued and the CPE woken by a Connection Request;
 * each command answers by its deadline (408) whatever the CPE does. Everything runs on the
 * main loop the plugin was started on.
 */

#include "gw-tr069-plugin.h"

#include <libsoup/soup.h>
#include <string.h>

#include "gw-cwmp.h"

#define GW_TR069_PATH "/cwmp"
#define GW_TR069_REALM "gwmo-cwmp"
#define GW_TR069_COOKIE "gwmo_cwmp"
/* a session with no POST for this long is over (TR-069 says the CPE waits 30 s at least) */
#define GW_TR069_SESSION_IDLE_S 60
/* one POST's body: the listener's bounds come first, the codec's cap then */
#define GW_TR069_MAX_BODY GW_CWMP_MAX_MESSAGE
/* a Digest nonce is good this long (a stale one is challenged again: stale=true) */
#define GW_TR069_NONCE_S 300
/* the nonce counts remembered (README.md, "Digest nonce counts"): at most this many nonces,
 * and for each the counts seen this far below its highest one (out-of-order requests) */
#define GW_TR069_NONCES_DEFAULT 4096
#define GW_TR069_NC_WINDOW 64

enum {
	PROP_0,
	PROP_DIGEST_NONCES,
};

struct _GwTr069Plugin {
	GwPlugin parent_instance;

	SoupSession *cr_session;
	gchar *nonce_key;  /* signs the Digest nonces of this run */
	guint64 nonce_seq; /* the last nonce made: each is unique */
	/* nonce -> GwTr069Nonce, the counts taken on each nonce of a verified request; the
	 * queue is their use order (head: used least recently), evicted first when full */
	GHashTable *nonces;
	GQueue nonce_lru;
	guint max_nonces;
	guint64 nonce_evicted; /* the newest nonce (seq) evicted: older ones are stale */
	gint64 nonce_swept;    /* when the expired were last dropped (monotonic) */
	gchar *username;       /* the pair every CPE may use, nullable with a credentials-file */
	gchar *password;
	GHashTable *users; /* username -> GwTr069User: [tr069] credentials-file */
	GHashTable *bound; /* DeviceID -> username: the CPEs that must use their own */
	gchar *cr_username;
	gchar *cr_password;
	gboolean basic_allowed;
	gint64 cache_usec;
	guint max_devices;
	GHashTable *cpes;     /* DeviceID -> GwTr069Cpe */
	GHashTable *sessions; /* cookie -> GwTr069Session */
	guint64 next_id;
	GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE(GwTr069Plugin, gw_tr069_plugin, GW_TYPE_PLUGIN)

typedef enum {
	GW_TR069_RPC_GPV,
	GW_TR069_RPC_GPN,
	GW_TR069_RPC_SPV,
	GW_TR069_RPC_ADD,
	GW_TR069_RPC_DELETE,
	GW_TR069_RPC_REBOOT,
	GW_TR069_RPC_DOWNLOAD,
} GwTr069RpcKind;

typedef struct _GwTr069Cpe GwTr069Cpe;
typedef struct _GwTr069Session GwTr069Session;

typedef struct {
	gint ref_count;
	GTask *task; /* NULL once answered */
	GwTr069RpcKind kind;
	gchar *uri;   /* the command's node */
	gchar *path;  /* its CWMP path */
	gchar *value; /* SPV's value; Download's URL */
	gchar *type;
	guint64 size;       /* Download's FileSize (0: not known) */
	gchar *command_key; /* Download's, once sent: TransferComplete names it */
	guint deadline_id;
	GCancellable *cancellable;
	gulong cancel_id;
	GwTr069Cpe *cpe; /* NULL once the CPE is gone */
} GwTr069Rpc;

typedef struct {
	gchar *value;
	gchar *type;
} GwTr069Value;

/* a CPE's own credentials, bound to its DeviceID */
typedef struct {
	gchar *password;
	gchar *device_id;
} GwTr069User;

static void
gw_tr069_user_free(GwTr069User *user)
{
	g_free(user->password);
	g_free(user->device_id);
	g_free(user);
}

struct _GwTr069Cpe {
	GwTr069Plugin *plugin;
	gchar *device_id;
	GwDeviceInfo *info;
	gchar *cr_url;
	GHashTable *params;    /* name -> GwTr069Value */
	gint64 params_time;    /* monotonic, of the last Inform */
	GQueue queue;          /* GwTr069Rpc, not sent yet */
	GHashTable *transfers; /* CommandKey -> GwTr069Rpc: Downloads the CPE accepted (Status
	                        * 1), answered by their TransferComplete */
	GwTr069Session *session;
	gboolean cr_in_flight;
	gboolean announced;
	guint version;
};

struct _GwTr069Session {
	GwTr069Plugin *plugin;
	gchar *cookie;
	gchar *remote;
	GwTr069Cpe *cpe;
	GwTr069Rpc *in_flight;
	guint version;
	guint idle_id;
};

/* ---- RPCs ---- */

static GwTr069Rpc *
gw_tr069_rpc_ref(GwTr069Rpc *rpc)
{
	rpc->ref_count++;
	return rpc;
}

static void
gw_tr069_rpc_unref(GwTr069Rpc *rpc)
{
	if (--rpc->ref_count > 0)
		return;
	g_assert(rpc->task == NULL);
	g_free(rpc->uri);
	g_free(rpc->path);
	g_free(rpc->value);
	g_free(rpc->type);
	g_free(rpc->command_key);
	g_free(rpc);
}

/* answers @rpc's command once; it stays wherever it is queued until taken out */
static void
gw_tr069_rpc_answer(GwTr069Rpc *rpc, GwDeviceResult *result)
{
	g_autoptr(GTask) task = g_steal_pointer(&rpc->task);

	if (task == NULL) {
		gw_device_result_unref(result);
		return;
	}
	g_clear_handle_id(&rpc->deadline_id, g_source_remove);
	if (rpc->cancellable != NULL) {
		g_cancellable_disconnect(rpc->cancellable, rpc->cancel_id);
		rpc->cancel_id = 0;
		g_clear_object(&rpc->cancellable);
	}
	g_task_return_pointer(task, result, (GDestroyNotify)gw_device_result_unref);
}

/* takes @rpc out of its CPE's queue if it is still there */
static void
gw_tr069_rpc_dequeue(GwTr069Rpc *rpc)
{
	if (rpc->cpe != NULL && g_queue_remove(&rpc->cpe->queue, rpc))
		gw_tr069_rpc_unref(rpc);
	/* or waiting for its TransferComplete */
	if (rpc->cpe != NULL && rpc->command_key != NULL &&
	    g_hash_table_lookup(rpc->cpe->transfers, rpc->command_key) == rpc)
		g_hash_table_remove(rpc->cpe->transfers, rpc->command_key);
}

static gboolean
gw_tr069_rpc_deadline_cb(gpointer data)
{
	GwTr069Rpc *rpc = data;

	rpc->deadline_id = 0;
	g_message("TR-069: %s: no answer by the deadline",
	          rpc->cpe != NULL ? rpc->cpe->device_id : "?");
	gw_tr069_rpc_answer(rpc,
	                    gw_device_result_new_fault(GW_DEVICE_STATUS_TIMEOUT,
	                                               rpc->uri,
	                                               "the CPE did not answer in time"));
	gw_tr069_rpc_dequeue(rpc);
	return G_SOURCE_REMOVE;
}

static gboolean
gw_tr069_rpc_cancel_idle(gpointer data)
{
	GwTr069Rpc *rpc = data;
	g_autoptr(GTask) task = NULL;

	if (rpc->task == NULL)
		return G_SOURCE_REMOVE;
	g_clear_handle_id(&rpc->deadline_id, g_source_remove);
	g_cancellable_disconnect(rpc->cancellable, rpc->cancel_id);
	rpc->cancel_id = 0;
	g_clear_object(&rpc->cancellable);
	task = g_steal_pointer(&rpc->task);
	g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
	gw_tr069_rpc_dequeue(rpc);
	return G_SOURCE_REMOVE;
}

static void
gw_tr069_rpc_cancelled_cb(GCancellable *cancellable, gpointer data)
{
	/* not here: disconnecting from inside the handler would wait for itself */
	g_idle_add_full(G_PRIORITY_DEFAULT,
	                gw_tr069_rpc_cancel_idle,
	                gw_tr069_rpc_ref(data),
	                (GDestroyNotify)gw_tr069_rpc_unref);
}

/* ---- the inform cache ---- */

static void
gw_tr069_value_free(GwTr069Value *v)
{
	g_free(v->value);
	g_free(v->type);
	g_free(v);
}

static void
gw_tr069_cache_put(GwTr069Cpe *cpe, const GwCwmpParam *p)
{
	GwTr069Value *v;

	if (p->value == NULL)
		return;
	v = g_new0(GwTr069Value, 1);
	v->value = g_strdup(p->value);
	v->type = g_strdup(p->type);
	g_hash_table_replace(cpe->params, g_strdup(p->name), v);
}

/* the DM format of an xsd type */
static const gchar *
gw_tr069_format_of(const gchar *type)
{
	const gchar *local = type != NULL ? strchr(type, ':') : NULL;

	local = local != NULL ? local + 1 : type;
	if (local == NULL)
		return "chr";
	if (g_str_equal(local, "int") || g_str_equal(local, "unsignedInt") ||
	    g_str_equal(local, "long") || g_str_equal(local, "unsignedLong"))
		return "int";
	if (g_str_equal(local, "boolean"))
		return "bool";
	if (g_str_equal(local, "base64"))
		return "b64";
	return "chr";
}

static GwDeviceResult *
gw_tr069_value_result(const gchar *uri, const gchar *value, const gchar *type)
{
	const gchar *format = gw_tr069_format_of(type);

	if (g_str_equal(format, "bool"))
		value = g_str_equal(value, "1") || g_ascii_strcasecmp(value, "true") == 0 ? "true"
		                                                                          : "false";
	return gw_device_result_new_value(uri, format, value);
}

/* ---- CPEs ---- */

static void
gw_tr069_cpe_free(GwTr069Cpe *cpe)
{
	GwTr069Rpc *rpc;

	while ((rpc = g_queue_pop_head(&cpe->queue)) != NULL) {
		rpc->cpe = NULL;
		gw_tr069_rpc_answer(rpc,
		                    gw_device_result_new_fault(
		                        GW_DEVICE_STATUS_TIMEOUT, rpc->uri, "the adapter stopped"));
		gw_tr069_rpc_unref(rpc);
	}
	{
		GHashTableIter iter;
		gpointer value;
		g_hash_table_iter_init(&iter, cpe->transfers);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			GwTr069Rpc *t = value;
			t->cpe = NULL;
			gw_tr069_rpc_answer(t,
			                    gw_device_result_new_fault(GW_DEVICE_STATUS_TIMEOUT,
			                                               t->uri,
			                                               "the adapter stopped"));
		}
		g_hash_table_unref(cpe->transfers);
	}
	if (cpe->session != NULL)
		cpe->session->cpe = NULL;
	g_free(cpe->device_id);
	g_clear_pointer(&cpe->info, gw_device_info_unref);
	g_free(cpe->cr_url);
	g_hash_table_unref(cpe->params);
	g_free(cpe);
}

static const gchar *
gw_tr069_cpe_lookup(GwTr069Cpe *cpe, const gchar *suffix)
{
	static const gchar *const roots[] = {"Device.", "InternetGatewayDevice."};

	for (guint i = 0; i < G_N_ELEMENTS(roots); i++) {
		g_autofree gchar *name = g_strconcat(roots[i], suffix, NULL);
		GwTr069Value *v = g_hash_table_lookup(cpe->params, name);
		if (v != NULL)
			return v->value;
	}
	return NULL;
}

static GwDeviceTree *
gw_tr069_cpe_tree(GwTr069Cpe *cpe)
{
	GwDeviceTree *tree = gw_device_tree_new();
	gboolean device = FALSE;
	gboolean igd = FALSE;
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, cpe->params);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		device = device || g_str_has_prefix(key, "Device.");
		igd = igd || g_str_has_prefix(key, "InternetGatewayDevice.");
	}
	if (device || !igd)
		gw_device_tree_add_dynamic(tree,
		                           "./TR069/Device",
		                           GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_ADD |
		                               GW_DEVICE_ACCESS_DELETE);
	if (igd)
		gw_device_tree_add_dynamic(tree,
		                           "./TR069/InternetGatewayDevice",
		                           GW_DEVICE_ACCESS_GET | GW_DEVICE_ACCESS_ADD |
		                               GW_DEVICE_ACCESS_DELETE);
	gw_device_tree_add_leaf(
	    tree, "./TR069/Operations/Reboot", "null", GW_DEVICE_ACCESS_EXEC, NULL);
	/* Exec with the image's URL as data (the image store's LocalURI, signed for this CPE) */
	gw_device_tree_add_leaf(
	    tree, "./TR069/Operations/Download", "chr", GW_DEVICE_ACCESS_EXEC, NULL);
	return tree;
}

/* an Inform: the record registered (or refreshed when its identity changed) */
static GwTr069Cpe *
gw_tr069_cpe_inform(GwTr069Plugin *self, const GwCwmpMessage *inform, const gchar *remote)
{
	g_autofree gchar *device_id = gw_cwmp_device_id(inform);
	GwTr069Cpe *cpe = g_hash_table_lookup(self->cpes, device_id);
	const gchar *cr_url;
	const gchar *fwv;
	const gchar *model;
	gboolean changed;

	if (cpe == NULL) {
		if (g_hash_table_size(self->cpes) >= self->max_devices) {
			g_warning("TR-069: %s refused: [tr069] max-devices (%u) reached",
			          device_id,
			          self->max_devices);
			return NULL;
		}
		cpe = g_new0(GwTr069Cpe, 1);
		cpe->plugin = self;
		cpe->device_id = g_strdup(device_id);
		cpe->params = g_hash_table_new_full(
		    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_tr069_value_free);
		g_queue_init(&cpe->queue);
		cpe->transfers = g_hash_table_new_full(
		    g_str_hash, g_str_equal, NULL, (GDestroyNotify)gw_tr069_rpc_unref);
		g_hash_table_insert(self->cpes, cpe->device_id, cpe);
	}
	cpe->version = inform->version;
	for (guint i = 0; i < inform->params->len; i++)
		gw_tr069_cache_put(cpe, g_ptr_array_index(inform->params, i));
	cpe->params_time = g_get_monotonic_time();
	cr_url = gw_tr069_cpe_lookup(cpe, "ManagementServer.ConnectionRequestURL");
	if (cr_url != NULL && g_strcmp0(cr_url, cpe->cr_url) != 0) {
		g_free(cpe->cr_url);
		cpe->cr_url = g_strdup(cr_url);
	}
	fwv = gw_tr069_cpe_lookup(cpe, "DeviceInfo.SoftwareVersion");
	model = gw_tr069_cpe_lookup(cpe, "DeviceInfo.ModelName");
	if (model == NULL)
		model = inform->product_class;
	changed =
	    cpe->info == NULL ||
	    g_strcmp0(gw_device_info_get_devinfo(cpe->info, "Man"), inform->manufacturer) != 0 ||
	    g_strcmp0(gw_device_info_get_devinfo(cpe->info, "Mod"), model) != 0 ||
	    g_strcmp0(gw_device_info_get_devinfo(cpe->info, "FwV"), fwv) != 0 ||
	    g_strcmp0(gw_device_info_get_address(cpe->info), cpe->cr_url) != 0;
	if (changed || !cpe->announced) {
		g_autoptr(GwDeviceTree) tree = gw_tr069_cpe_tree(cpe);

		g_clear_pointer(&cpe->info, gw_device_info_unref);
		cpe->info = gw_device_info_new(cpe->device_id);
		gw_device_info_set_address(cpe->info, cpe->cr_url != NULL ? cpe->cr_url : remote);
		gw_device_info_set_devinfo(cpe->info, "Man", inform->manufacturer);
		gw_device_info_set_devinfo(cpe->info, "Mod", model);
		gw_device_info_set_devinfo(cpe->info, "FwV", fwv);
		gw_device_info_set_devinfo(
		    cpe->info, "HwV", gw_tr069_cpe_lookup(cpe, "DeviceInfo.HardwareVersion"));
		gw_plugin_device_found(GW_PLUGIN(self), cpe->info, tree);
		cpe->announced = TRUE;
	}
	return cpe;
}

/* ---- Connection Requests ---- */

typedef struct {
	GwTr069Plugin *plugin;
	gchar *device_id;
	gchar *cr_url;
} GwTr069Wake;

static void
gw_tr069_wake_free(GwTr069Wake *wake)
{
	g_object_unref(wake->plugin);
	g_free(wake->device_id);
	g_free(wake->cr_url);
	g_free(wake);
}

static gboolean
gw_tr069_cr_authenticate_cb(SoupMessage *msg, SoupAuth *auth, gboolean retrying, gpointer data)
{
	GwTr069Plugin *self = data;
	GUri *uri = soup_message_get_uri(msg);

	if (retrying || self->cr_username == NULL)
		return FALSE;
	/* TR-069 3.2.2: the CPE asks for Digest; a password never goes out in the clear */
	if (!G_TYPE_CHECK_INSTANCE_TYPE(auth, SOUP_TYPE_AUTH_DIGEST) &&
	    g_strcmp0(g_uri_get_scheme(uri), "https") != 0) {
		g_warning("TR-069: a Connection Request URL asks for %s over HTTP: refused",
		          soup_auth_get_scheme_name(auth));
		return FALSE;
	}
	soup_auth_authenticate(auth, self->cr_username, self->cr_password);
	return TRUE;
}

static void
gw_tr069_fail_queue(GwTr069Cpe *cpe, const gchar *why)
{
	GwTr069Rpc *rpc;

	while ((rpc = g_queue_pop_head(&cpe->queue)) != NULL) {
		gw_tr069_rpc_answer(
		    rpc, gw_device_result_new_fault(GW_DEVICE_STATUS_TIMEOUT, rpc->uri, why));
		gw_tr069_rpc_unref(rpc);
	}
}

static void
gw_tr069_cr_done_cb(GObject *source, GAsyncResult *res, gpointer data)
{
	GwTr069Wake *wake = data;
	SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body =
	    soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	GwTr069Cpe *cpe = g_hash_table_lookup(wake->plugin->cpes, wake->device_id);
	guint status = msg != NULL ? soup_message_get_status(msg) : 0;

	if (cpe != NULL)
		cpe->cr_in_flight = FALSE;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		gw_tr069_wake_free(wake);
		return;
	}
	if (error == NULL && (status == SOUP_STATUS_OK || status == SOUP_STATUS_NO_CONTENT)) {
		g_debug("TR-069: %s: Connection Request accepted", wake->device_id);
	} else {
		g_autofree gchar *why = g_strdup_printf(
		    "Connection Request to the CPE failed: %s",
		    error != NULL ? error->message : soup_status_get_phrase(status));
		g_warning("TR-069: %s: %s", wake->device_id, why);
		/* the CPE will not come: its queued commands answer now, not at their deadline */
		if (cpe != NULL && cpe->session == NULL)
			gw_tr069_fail_queue(cpe, why);
	}
	gw_tr069_wake_free(wake);
}

static void
gw_tr069_cpe_wake(GwTr069Cpe *cpe)
{
	GwTr069Plugin *self = cpe->plugin;
	g_autoptr(SoupMessage) msg = NULL;
	GwTr069Wake *wake;

	if (cpe->session != NULL || cpe->cr_in_flight)
		return;
	if (cpe->cr_url == NULL) {
		gw_tr069_fail_queue(cpe, "the CPE gave no ConnectionRequestURL");
		return;
	}
	msg = soup_message_new(SOUP_METHOD_GET, cpe->cr_url);
	if (msg == NULL) {
		gw_tr069_fail_queue(cpe, "the CPE's ConnectionRequestURL is not a URL");
		return;
	}
	g_signal_connect(msg, "authenticate", G_CALLBACK(gw_tr069_cr_authenticate_cb), self);
	wake = g_new0(GwTr069Wake, 1);
	wake->plugin = g_object_ref(self);
	wake->device_id = g_strdup(cpe->device_id);
	wake->cr_url = g_strdup(cpe->cr_url);
	cpe->cr_in_flight = TRUE;
	soup_session_send_and_read_async(self->cr_session,
	                                 msg,
	                                 G_PRIORITY_DEFAULT,
	                                 self->cancellable,
	                                 gw_tr069_cr_done_cb,
	                                 wake);
}

/* ---- sessions ---- */

static void
gw_tr069_session_free(GwTr069Session *session)
{
	if (session->in_flight != NULL) {
		gw_tr069_rpc_answer(
		    session->in_flight,
		    gw_device_result_new_fault(GW_DEVICE_STATUS_TIMEOUT,
		                               session->in_flight->uri,
		                               "the CWMP session ended without an answer"));
		gw_tr069_rpc_unref(session->in_flight);
	}
	if (session->cpe != NULL)
		session->cpe->session = NULL;
	g_clear_handle_id(&session->idle_id, g_source_remove);
	g_free(session->cookie);
	g_free(session->remote);
	g_free(session);
}

/* the session is over: anything still queued needs a new one (@wake: ask for it now) */
static void
gw_tr069_session_end(GwTr069Session *session, gboolean wake)
{
	GwTr069Plugin *self = session->plugin;
	GwTr069Cpe *cpe = session->cpe;

	g_hash_table_remove(self->sessions, session->cookie);
	if (wake && cpe != NULL && !g_queue_is_empty(&cpe->queue))
		gw_tr069_cpe_wake(cpe);
}

static gboolean
gw_tr069_session_idle_cb(gpointer data)
{
	GwTr069Session *session = data;

	session->idle_id = 0;
	g_message("TR-069: %s: the CWMP session went idle",
	          session->cpe != NULL ? session->cpe->device_id : session->remote);
	gw_tr069_session_end(session, TRUE);
	return G_SOURCE_REMOVE;
}

static void
gw_tr069_session_touch(GwTr069Session *session)
{
	g_clear_handle_id(&session->idle_id, g_source_remove);
	session->idle_id =
	    g_timeout_add_seconds(GW_TR069_SESSION_IDLE_S, gw_tr069_session_idle_cb, session);
}

static gchar *
gw_tr069_cookie_of(GwPluginHttpRequest *msg)
{
	const gchar *header = gw_plugin_http_request_get_header(msg, "Cookie");
	g_auto(GStrv) parts = NULL;

	if (header == NULL)
		return NULL;
	parts = g_strsplit(header, ";", 32);
	for (guint i = 0; parts[i] != NULL; i++) {
		const gchar *p = g_strstrip(parts[i]);
		if (g_str_has_prefix(p, GW_TR069_COOKIE "="))
			return g_strdup(p + strlen(GW_TR069_COOKIE "="));
	}
	return NULL;
}

/* @by_address: a request without the cookie may be matched by its address (a CPE that drops
 * cookies, while exactly one session is open from there); never for an Inform, which may be
 * another CPE's behind the same address starting its own session */
static GwTr069Session *
gw_tr069_session_find(GwTr069Plugin *self, GwPluginHttpRequest *msg, gboolean by_address)
{
	g_autofree gchar *cookie = gw_tr069_cookie_of(msg);
	const gchar *remote = gw_plugin_http_request_get_remote_host(msg);
	GwTr069Session *found = NULL;
	GHashTableIter iter;
	gpointer value;

	if (cookie != NULL)
		return g_hash_table_lookup(self->sessions, cookie);
	if (!by_address)
		return NULL;
	/* a CPE that drops cookies: its one open session from that address */
	g_hash_table_iter_init(&iter, self->sessions);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GwTr069Session *s = value;
		if (g_strcmp0(s->remote, remote) != 0)
			continue;
		if (found != NULL)
			return NULL;
		found = s;
	}
	return found;
}

/* ---- answering a CPE ---- */

static void
gw_tr069_respond(GwPluginHttpRequest *msg, gchar *envelope)
{
	g_autoptr(GBytes) body = g_bytes_new_take(envelope, strlen(envelope));

	gw_plugin_http_request_respond(msg, SOUP_STATUS_OK, "text/xml; charset=\"utf-8\"", body);
}

static void
gw_tr069_respond_status(GwPluginHttpRequest *msg, guint status)
{
	gw_plugin_http_request_respond(msg, status, NULL, NULL);
}

static gchar *
gw_tr069_next_id(GwTr069Plugin *self)
{
	return g_strdup_printf("gwmo-%" G_GUINT64_FORMAT, ++self->next_id);
}

/* the ACS's turn: the next queued RPC, or 204 and the session ends */
static void
gw_tr069_send_next(GwTr069Plugin *self, GwTr069Session *session, GwPluginHttpRequest *msg)
{
	GwTr069Cpe *cpe = session->cpe;
	GwTr069Rpc *rpc = NULL;
	g_autofree gchar *id = gw_tr069_next_id(self);
	gchar *envelope = NULL;

	while (cpe != NULL && (rpc = g_queue_pop_head(&cpe->queue)) != NULL && rpc->task == NULL)
		gw_tr069_rpc_unref(rpc);
	if (rpc == NULL) {
		gw_tr069_respond_status(msg, SOUP_STATUS_NO_CONTENT);
		gw_tr069_session_end(session, TRUE);
		return;
	}
	switch (rpc->kind) {
	case GW_TR069_RPC_GPV: {
		const gchar *names[] = {rpc->path, NULL};
		envelope = gw_cwmp_build_get_parameter_values(session->version, id, names);
		break;
	}
	case GW_TR069_RPC_GPN:
		envelope = gw_cwmp_build_get_parameter_names(session->version, id, rpc->path, TRUE);
		break;
	case GW_TR069_RPC_SPV: {
		GwCwmpSetParam p = {rpc->path, rpc->value, rpc->type};
		envelope = gw_cwmp_build_set_parameter_values(session->version, id, &p, 1, id);
		break;
	}
	case GW_TR069_RPC_ADD:
		envelope = gw_cwmp_build_add_object(session->version, id, rpc->path, id);
		break;
	case GW_TR069_RPC_DELETE:
		envelope = gw_cwmp_build_delete_object(session->version, id, rpc->path, id);
		break;
	case GW_TR069_RPC_REBOOT:
		envelope = gw_cwmp_build_reboot(session->version, id, id);
		break;
	case GW_TR069_RPC_DOWNLOAD: {
		GwCwmpDownload d = {0};
		g_free(rpc->command_key);
		rpc->command_key = g_strdup(id);
		d.command_key = rpc->command_key;
		d.file_type = "1 Firmware Upgrade Image";
		d.url = rpc->value;
		d.file_size = rpc->size;
		envelope = gw_cwmp_build_download(session->version, id, &d);
		break;
	}
	}
	session->in_flight = rpc; /* the queue's reference moves here */
	gw_tr069_respond(msg, envelope);
}

static GwDeviceResult *
gw_tr069_result_of(GwTr069Rpc *rpc, GwTr069Cpe *cpe, const GwCwmpMessage *reply)
{
	if (reply->kind == GW_CWMP_MSG_FAULT) {
		g_autofree gchar *text =
		    g_strdup_printf("CWMP fault %u: %s",
		                    reply->fault_code,
		                    reply->fault_string != NULL ? reply->fault_string : "");
		return gw_device_result_new_fault(
		    gw_cwmp_fault_to_status(reply->fault_code), rpc->uri, text);
	}
	switch (rpc->kind) {
	case GW_TR069_RPC_GPV:
		if (reply->kind == GW_CWMP_MSG_GET_PARAMETER_VALUES_RESPONSE) {
			for (guint i = 0; i < reply->params->len; i++) {
				GwCwmpParam *p = g_ptr_array_index(reply->params, i);
				if (cpe != NULL)
					gw_tr069_cache_put(cpe, p);
				if (g_str_equal(p->name, rpc->path))
					return gw_tr069_value_result(rpc->uri, p->value, p->type);
			}
			return gw_device_result_new_fault(GW_DEVICE_STATUS_FAILED,
			                                  rpc->uri,
			                                  "the CPE answered another parameter");
		}
		break;
	case GW_TR069_RPC_GPN:
		if (reply->kind == GW_CWMP_MSG_GET_PARAMETER_NAMES_RESPONSE) {
			g_autoptr(GString) children = g_string_new(NULL);
			gsize plen = strlen(rpc->path);
			for (guint i = 0; i < reply->params->len; i++) {
				GwCwmpParam *p = g_ptr_array_index(reply->params, i);
				g_autofree gchar *name = NULL;
				gsize len;
				if (!g_str_has_prefix(p->name, rpc->path) ||
				    strlen(p->name) <= plen)
					continue;
				name = g_strdup(p->name + plen);
				len = strlen(name);
				if (name[len - 1] == '.')
					name[len - 1] = '\0';
				if (strchr(name, '.') != NULL)
					continue;
				if (children->len > 0)
					g_string_append_c(children, '/');
				g_string_append(children, name);
			}
			return gw_device_result_new_value(rpc->uri, "node", children->str);
		}
		break;
	case GW_TR069_RPC_SPV:
		if (reply->kind == GW_CWMP_MSG_SET_PARAMETER_VALUES_RESPONSE) {
			if (cpe != NULL) {
				GwCwmpParam p = {rpc->path, rpc->value, rpc->type, FALSE};
				gw_tr069_cache_put(cpe, &p);
			}
			return gw_device_result_new(GW_DEVICE_STATUS_OK);
		}
		break;
	case GW_TR069_RPC_ADD:
		if (reply->kind == GW_CWMP_MSG_ADD_OBJECT_RESPONSE) {
			g_autoptr(GwDeviceResult) result =
			    gw_device_result_new(GW_DEVICE_STATUS_OK);
			g_autofree gchar *n = g_strdup_printf("%u", reply->instance_number);
			g_autofree gchar *uri = g_strconcat(rpc->uri, "/", n, NULL);
			g_autoptr(GBytes) data = g_bytes_new(n, strlen(n));
			gw_device_result_add_item(result, uri, "node", NULL, data);
			return g_steal_pointer(&result);
		}
		break;
	case GW_TR069_RPC_DELETE:
		if (reply->kind == GW_CWMP_MSG_DELETE_OBJECT_RESPONSE)
			return gw_device_result_new(GW_DEVICE_STATUS_OK);
		break;
	case GW_TR069_RPC_REBOOT:
		if (reply->kind == GW_CWMP_MSG_REBOOT_RESPONSE)
			return gw_device_result_new(GW_DEVICE_STATUS_OK);
		break;
	case GW_TR069_RPC_DOWNLOAD:
		/* Status 0: the CPE has it already, applied (Status 1 waits: see handle_post) */
		if (reply->kind == GW_CWMP_MSG_DOWNLOAD_RESPONSE)
			return gw_device_result_new(GW_DEVICE_STATUS_OK);
		break;
	}
	return gw_device_result_new_fault(
	    GW_DEVICE_STATUS_FAILED, rpc->uri, "the CPE answered another RPC");
}

/* per-CPE credentials: a user of the credentials-file speaks for its own DeviceID only, and a
 * DeviceID bound to one takes no other (the shared pair included) */
static gboolean
gw_tr069_user_may(GwTr069Plugin *self,
                  const gchar *who,
                  const GwCwmpMessage *cwmp,
                  GwTr069Session *session)
{
	GwTr069User *user = g_hash_table_lookup(self->users, who);
	g_autofree gchar *inform_id = NULL;
	const gchar *device_id = NULL;
	const gchar *owner;

	if (cwmp->kind == GW_CWMP_MSG_INFORM)
		device_id = inform_id = gw_cwmp_device_id(cwmp);
	else if (session != NULL && session->cpe != NULL)
		device_id = session->cpe->device_id;
	if (device_id == NULL)
		return TRUE; /* no CPE named: refused later as outside a session */
	if (user != NULL && g_strcmp0(user->device_id, device_id) != 0) {
		gw_warning_ratelimited(
		    "TR-069: user %s is bound to another CPE than %s: refused", who, device_id);
		return FALSE;
	}
	owner = g_hash_table_lookup(self->bound, device_id);
	if (owner != NULL && g_strcmp0(owner, who) != 0) {
		gw_warning_ratelimited("TR-069: %s must authenticate as its own user: refused",
		                       device_id);
		return FALSE;
	}
	return TRUE;
}

/* the outcome of a Download the CPE accepted: its command answers */
static void
gw_tr069_transfer_complete(GwTr069Cpe *cpe, const GwCwmpMessage *tc)
{
	GwTr069Rpc *rpc;

	if (cpe == NULL || tc->command_key == NULL ||
	    (rpc = g_hash_table_lookup(cpe->transfers, tc->command_key)) == NULL) {
		g_debug("TR-069: a TransferComplete for no pending Download (%s)",
		        tc->command_key != NULL ? tc->command_key : "no CommandKey");
		return;
	}
	if (tc->fault_code == 0) {
		gw_tr069_rpc_answer(rpc, gw_device_result_new(GW_DEVICE_STATUS_OK));
	} else {
		g_autofree gchar *text =
		    g_strdup_printf("CWMP fault %u: %s",
		                    tc->fault_code,
		                    tc->fault_string != NULL ? tc->fault_string : "");
		g_message(
		    "TR-069: %s: Download %s failed: %s", cpe->device_id, tc->command_key, text);
		gw_tr069_rpc_answer(rpc,
		                    gw_device_result_new_fault(
		                        gw_cwmp_fault_to_status(tc->fault_code), rpc->uri, text));
	}
	g_hash_table_remove(cpe->transfers, tc->command_key);
}

static void
gw_tr069_handle_post(GwTr069Plugin *self, GwPluginHttpRequest *msg, GBytes *body, const gchar *who)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(body, &len);
	const gchar *remote = gw_plugin_http_request_get_remote_host(msg);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwCwmpMessage) cwmp = gw_cwmp_parse(data, len, &error);
	GwTr069Session *session = NULL;

	if (cwmp != NULL)
		session = gw_tr069_session_find(self, msg, cwmp->kind != GW_CWMP_MSG_INFORM);
	if (cwmp == NULL) {
		g_warning("TR-069: a malformed message from %s: %s", remote, error->message);
		gw_tr069_respond_status(msg, SOUP_STATUS_BAD_REQUEST);
		return;
	}
	if (!gw_tr069_user_may(self, who, cwmp, session)) {
		gw_tr069_respond_status(msg, SOUP_STATUS_FORBIDDEN);
		return;
	}
	if (cwmp->kind == GW_CWMP_MSG_INFORM) {
		GwTr069Cpe *cpe = gw_tr069_cpe_inform(self, cwmp, remote);
		g_autofree gchar *set_cookie = NULL;

		if (cpe == NULL) {
			gw_tr069_respond_status(msg, SOUP_STATUS_SERVICE_UNAVAILABLE);
			return;
		}
		/* a new Inform starts a new session, whatever came before */
		if (session != NULL)
			gw_tr069_session_end(session, FALSE);
		if (cpe->session != NULL)
			gw_tr069_session_end(cpe->session, FALSE);
		session = g_new0(GwTr069Session, 1);
		session->plugin = self;
		session->cookie = g_uuid_string_random();
		session->remote = g_strdup(remote);
		session->cpe = cpe;
		session->version = cwmp->version;
		cpe->session = session;
		g_hash_table_insert(self->sessions, session->cookie, session);
		gw_tr069_session_touch(session);
		set_cookie = g_strdup_printf(
		    GW_TR069_COOKIE "=%s; Path=" GW_TR069_PATH "; HttpOnly", session->cookie);
		gw_plugin_http_request_add_header(msg, "Set-Cookie", set_cookie);
		g_debug("TR-069: %s: Inform (%u events), cwmp-1-%u",
		        cpe->device_id,
		        cwmp->events->len,
		        cwmp->version);
		gw_tr069_respond(msg, gw_cwmp_build_inform_response(cwmp->version, cwmp->id, 1));
		return;
	}
	if (session == NULL) {
		g_warning("TR-069: %s from %s outside a session: refused",
		          cwmp->method != NULL ? cwmp->method : "an empty POST",
		          remote);
		gw_tr069_respond_status(msg, SOUP_STATUS_FORBIDDEN);
		return;
	}
	gw_tr069_session_touch(session);
	switch (cwmp->kind) {
	case GW_CWMP_MSG_TRANSFER_COMPLETE:
		gw_tr069_transfer_complete(session->cpe, cwmp);
		gw_tr069_respond(
		    msg, gw_cwmp_build_transfer_complete_response(session->version, cwmp->id));
		return;
	case GW_CWMP_MSG_GET_RPC_METHODS:
		gw_tr069_respond(
		    msg, gw_cwmp_build_get_rpc_methods_response(session->version, cwmp->id));
		return;
	case GW_CWMP_MSG_EMPTY:
		break;
	case GW_CWMP_MSG_OTHER:
		if (session->in_flight == NULL) {
			/* a request of the CPE's the ACS does not support: 8000 Method not
			 * supported */
			gw_tr069_respond(
			    msg,
			    gw_cwmp_build_fault(
			        session->version, cwmp->id, 8000, "Method not supported"));
			return;
		}
		G_GNUC_FALLTHROUGH;
	default: {
		GwTr069Rpc *rpc = g_steal_pointer(&session->in_flight);
		if (rpc == NULL) {
			g_warning("TR-069: %s: a %s nobody asked for",
			          session->cpe != NULL ? session->cpe->device_id : remote,
			          cwmp->method);
			break;
		}
		if (rpc->kind == GW_TR069_RPC_DOWNLOAD &&
		    cwmp->kind == GW_CWMP_MSG_DOWNLOAD_RESPONSE && cwmp->status == 1 &&
		    session->cpe != NULL && rpc->task != NULL) {
			/* accepted: the CPE fetches the file after the session and says how it went
			 * in a TransferComplete of a later one; the command answers then (or 408 at
			 * its deadline) */
			g_debug("TR-069: %s: Download %s accepted",
			        session->cpe->device_id,
			        rpc->command_key);
			g_hash_table_replace(session->cpe->transfers, rpc->command_key, rpc);
			break;
		}
		gw_tr069_rpc_answer(rpc, gw_tr069_result_of(rpc, session->cpe, cwmp));
		gw_tr069_rpc_unref(rpc);
		break;
	}
	}
	gw_tr069_send_next(self, session, msg);
}

/* ---- the HTTP front end: authentication ---- */

/* the auth-params of an Authorization header after its scheme: k=v, k="v" (\-escapes) */
static GHashTable *
gw_tr069_auth_params(const gchar *p)
{
	GHashTable *params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	while (*p != '\0' && g_hash_table_size(params) < 16) {
		const gchar *k;
		g_autofree gchar *key = NULL;
		g_autoptr(GString) value = g_string_new(NULL);

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		k = p;
		while (*p != '\0' && *p != '=' && *p != ',' && *p != ' ')
			p++;
		if (*p != '=' || p == k)
			break;
		key = g_ascii_strdown(k, p - k);
		p++;
		if (*p == '"') {
			p++;
			while (*p != '\0' && *p != '"') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				g_string_append_c(value, *p++);
			}
			if (*p != '"')
				break;
			p++;
		} else {
			while (*p != '\0' && *p != ',' && *p != ' ')
				g_string_append_c(value, *p++);
		}
		g_hash_table_replace(
		    params, g_steal_pointer(&key), g_string_free(g_steal_pointer(&value), FALSE));
	}
	return params;
}

/* equal, in a time that does not tell how much of it was */
static gboolean
gw_tr069_equal(const gchar *a, const gchar *b)
{
	gsize la = strlen(a);
	gsize lb = strlen(b);
	guint diff = la != lb;

	for (gsize i = 0; i < MIN(la, lb); i++)
		diff |= (guchar)a[i] ^ (guchar)b[i];
	return diff == 0;
}

static gchar *
gw_tr069_md5(const gchar *a, const gchar *b, const gchar *c)
{
	g_autofree gchar *s = g_strjoin(":", a, b, c, NULL);
	return g_compute_checksum_for_string(G_CHECKSUM_MD5, s, -1);
}

/* "<time>.<seq>.<mac>": the time it was made, its sequence number in this run (no two
 * challenges share a nonce, so no two clients share its counts) and their HMAC under this
 * run's key */
static gchar *
gw_tr069_nonce_make(GwTr069Plugin *self, gint64 when, guint64 seq)
{
	g_autofree gchar *stamp =
	    g_strdup_printf("%" G_GINT64_MODIFIER "x.%" G_GINT64_MODIFIER "x", when, seq);
	g_autofree gchar *mac = g_compute_hmac_for_string(
	    G_CHECKSUM_SHA256, (const guchar *)self->nonce_key, strlen(self->nonce_key), stamp, -1);
	return g_strdup_printf("%s.%.32s", stamp, mac);
}

static gchar *
gw_tr069_nonce_new(GwTr069Plugin *self)
{
	return gw_tr069_nonce_make(self, g_get_monotonic_time(), ++self->nonce_seq);
}

static gboolean
gw_tr069_parse_hex(const gchar *s, gsize len, guint64 *value)
{
	g_autofree gchar *copy = g_strndup(s, len);
	gchar *end = NULL;

	if (len == 0 || len > 16 || !g_ascii_isxdigit(copy[0]))
		return FALSE;
	*value = g_ascii_strtoull(copy, &end, 16);
	return end != NULL && *end == '\0';
}

/* 1: good, 0: made by this run but too old (stale), -1: not ours; *seq: its number,
 * *expires: when it goes stale (monotonic) */
static gint
gw_tr069_nonce_check(GwTr069Plugin *self, const gchar *nonce, guint64 *seq, gint64 *expires)
{
	const gchar *dot = strchr(nonce, '.');
	const gchar *dot2 = dot != NULL ? strchr(dot + 1, '.') : NULL;
	g_autofree gchar *expect = NULL;
	guint64 when;

	if (dot2 == NULL || !gw_tr069_parse_hex(nonce, dot - nonce, &when) ||
	    !gw_tr069_parse_hex(dot + 1, dot2 - dot - 1, seq))
		return -1;
	expect = gw_tr069_nonce_make(self, (gint64)when, *seq);
	if (!gw_tr069_equal(expect, nonce))
		return -1;
	*expires = (gint64)when + GW_TR069_NONCE_S * G_USEC_PER_SEC;
	return g_get_monotonic_time() < *expires ? 1 : 0;
}

/* the counts taken on one nonce: the highest, and a bit for each of the window below it */
typedef struct {
	gchar *nonce;
	guint64 seq;
	gint64 expires; /* monotonic */
	guint64 max_nc;
	guint64 seen; /* bit i: max_nc - i was taken */
	GList link;   /* in nonce_lru */
} GwTr069Nonce;

static void
gw_tr069_nonce_free(GwTr069Nonce *entry)
{
	g_free(entry->nonce);
	g_free(entry);
}

static void
gw_tr069_nonce_drop(GwTr069Plugin *self, GwTr069Nonce *entry)
{
	g_queue_unlink(&self->nonce_lru, &entry->link);
	g_hash_table_remove(self->nonces, entry->nonce); /* frees it */
}

/* room for one more: the expired go first (at most once a second: a flood does not make
 * each request walk the table), then the least recently used; a nonce evicted unexpired
 * moves the mark below which an unknown nonce is answered stale */
static void
gw_tr069_nonce_make_room(GwTr069Plugin *self)
{
	gint64 now = g_get_monotonic_time();
	gboolean evicted = FALSE;

	if (g_hash_table_size(self->nonces) < self->max_nonces)
		return;
	if (now - self->nonce_swept >= G_USEC_PER_SEC) {
		GList *l = self->nonce_lru.head;

		self->nonce_swept = now;
		while (l != NULL) {
			GList *next = l->next;
			GwTr069Nonce *entry = l->data;

			if (entry->expires <= now)
				gw_tr069_nonce_drop(self, entry);
			l = next;
		}
	}
	while (g_hash_table_size(self->nonces) >= self->max_nonces) {
		GwTr069Nonce *entry = self->nonce_lru.head->data;

		self->nonce_evicted = MAX(self->nonce_evicted, entry->seq);
		gw_tr069_nonce_drop(self, entry);
		evicted = TRUE;
	}
	if (evicted)
		gw_warning_ratelimited("TR-069: more than %u Digest nonces in use ([tr069] "
		                       "max-digest-nonces): the least recently used forgotten (its "
		                       "client is asked to authenticate again)",
		                       self->max_nonces);
}

typedef enum {
	GW_TR069_NC_OK,
	GW_TR069_NC_REPLAY, /* a count already taken: 401, not stale */
	GW_TR069_NC_STALE,  /* not known any more: 401 stale=true, the client starts over */
} GwTr069NcCheck;

/* RFC 7616 3.4: takes count @nc on @nonce (of a verified request) once; the counts of a
 * client's concurrent requests may arrive out of order, each is taken once */
static GwTr069NcCheck
gw_tr069_nonce_count(GwTr069Plugin *self,
                     const gchar *nonce,
                     guint64 seq,
                     gint64 expires,
                     guint64 nc)
{
	GwTr069Nonce *entry = g_hash_table_lookup(self->nonces, nonce);

	if (entry == NULL) {
		/* evicted, or so old that it may have been: start over (a replay of its first
		 * request is refused so) */
		if (seq <= self->nonce_evicted)
			return GW_TR069_NC_STALE;
		gw_tr069_nonce_make_room(self);
		entry = g_new0(GwTr069Nonce, 1);
		entry->nonce = g_strdup(nonce);
		entry->seq = seq;
		entry->expires = expires;
		entry->max_nc = nc;
		entry->seen = 1;
		entry->link.data = entry;
		g_hash_table_insert(self->nonces, entry->nonce, entry);
		g_queue_push_tail_link(&self->nonce_lru, &entry->link);
		return GW_TR069_NC_OK;
	}
	if (nc > entry->max_nc) {
		guint64 shift = nc - entry->max_nc;

		entry->seen = shift >= GW_TR069_NC_WINDOW ? 0 : entry->seen << shift;
		entry->seen |= 1;
		entry->max_nc = nc;
	} else if (entry->max_nc - nc >= GW_TR069_NC_WINDOW) {
		return GW_TR069_NC_STALE; /* too far behind to tell: a fresh nonce */
	} else if ((entry->seen & (G_GUINT64_CONSTANT(1) << (entry->max_nc - nc))) != 0) {
		return GW_TR069_NC_REPLAY;
	} else {
		entry->seen |= G_GUINT64_CONSTANT(1) << (entry->max_nc - nc);
	}
	g_queue_unlink(&self->nonce_lru, &entry->link);
	g_queue_push_tail_link(&self->nonce_lru, &entry->link);
	return GW_TR069_NC_OK;
}

/* Basic goes over TLS only (TR-069 3.2.2), or where [tr069] allow-basic-over-http says */
static gboolean
gw_tr069_basic_ok(GwTr069Plugin *self, GwPluginHttpRequest *msg)
{
	return self->basic_allowed || gw_plugin_http_request_is_tls(msg);
}

/* the password of @username: its own (credentials-file), else the shared pair's; NULL */
static const gchar *
gw_tr069_password_of(GwTr069Plugin *self, const gchar *username)
{
	GwTr069User *user = g_hash_table_lookup(self->users, username);

	if (user != NULL)
		return user->password;
	if (self->username != NULL && gw_tr069_equal(username, self->username))
		return self->password;
	return NULL;
}

/* TRUE when @msg carries good credentials (*who: the username); *stale when a Digest nonce
 * only expired */
static gboolean
gw_tr069_authenticate(GwTr069Plugin *self, GwPluginHttpRequest *msg, gboolean *stale, gchar **who)
{
	const gchar *auth = gw_plugin_http_request_get_header(msg, "Authorization");

	*stale = FALSE;
	if (auth == NULL || strlen(auth) > 4096)
		return FALSE;
	if (g_ascii_strncasecmp(auth, "Basic ", 6) == 0) {
		gsize len = 0;
		g_autofree gchar *b64 = g_strstrip(g_strdup(auth + 6));
		g_autofree guchar *raw = NULL;
		g_autofree gchar *pair = NULL;
		gchar *colon;
		const gchar *password;

		if (!gw_tr069_basic_ok(self, msg))
			return FALSE;
		raw = g_base64_decode(b64, &len);
		pair = g_strndup((const gchar *)raw, len);
		colon = strchr(pair, ':');
		if (colon == NULL)
			return FALSE;
		*colon = '\0';
		password = gw_tr069_password_of(self, pair);
		/* an unknown user is compared too: the time does not tell who exists */
		if (!gw_tr069_equal(colon + 1, password != NULL ? password : self->nonce_key) ||
		    password == NULL)
			return FALSE;
		*who = g_strdup(pair);
		return TRUE;
	}
	if (g_ascii_strncasecmp(auth, "Digest ", 7) == 0) {
		g_autoptr(GHashTable) p = gw_tr069_auth_params(auth + 7);
		const gchar *username = g_hash_table_lookup(p, "username");
		const gchar *realm = g_hash_table_lookup(p, "realm");
		const gchar *nonce = g_hash_table_lookup(p, "nonce");
		const gchar *uri = g_hash_table_lookup(p, "uri");
		const gchar *response = g_hash_table_lookup(p, "response");
		const gchar *qop = g_hash_table_lookup(p, "qop");
		const gchar *nc = g_hash_table_lookup(p, "nc");
		const gchar *cnonce = g_hash_table_lookup(p, "cnonce");
		const gchar *algorithm = g_hash_table_lookup(p, "algorithm");
		const gchar *path = gw_plugin_http_request_get_path(msg);
		const gchar *password;
		g_autofree gchar *ha1 = NULL;
		g_autofree gchar *ha2 = NULL;
		g_autofree gchar *expect = NULL;
		guint64 seq = 0;
		gint64 expires = 0;
		guint64 count = 1; /* no qop (RFC 2069): one request per nonce */
		gint fresh;

		if (username == NULL || nonce == NULL || uri == NULL || response == NULL ||
		    g_strcmp0(realm, GW_TR069_REALM) != 0 ||
		    (algorithm != NULL && g_ascii_strcasecmp(algorithm, "MD5") != 0))
			return FALSE;
		/* the digest-uri names this request's path (its query aside) */
		if (!g_str_has_prefix(uri, path) ||
		    (uri[strlen(path)] != '\0' && uri[strlen(path)] != '?'))
			return FALSE;
		fresh = gw_tr069_nonce_check(self, nonce, &seq, &expires);
		if (fresh < 0)
			return FALSE;
		password = gw_tr069_password_of(self, username);
		ha1 = gw_tr069_md5(
		    username, GW_TR069_REALM, password != NULL ? password : self->nonce_key);
		ha2 = gw_tr069_md5(gw_plugin_http_request_get_method(msg), uri, NULL);
		if (qop != NULL) {
			g_autofree gchar *s = NULL;
			if (g_strcmp0(qop, "auth") != 0 || nc == NULL || cnonce == NULL ||
			    !gw_tr069_parse_hex(nc, strlen(nc), &count) || count == 0)
				return FALSE;
			s = g_strjoin(":", ha1, nonce, nc, cnonce, qop, ha2, NULL);
			expect = g_compute_checksum_for_string(G_CHECKSUM_MD5, s, -1);
		} else {
			expect = gw_tr069_md5(ha1, nonce, ha2);
		}
		if (password == NULL || !gw_tr069_equal(expect, response))
			return FALSE;
		if (fresh == 0) {
			*stale = TRUE;
			return FALSE;
		}
		switch (gw_tr069_nonce_count(self, nonce, seq, expires, count)) {
		case GW_TR069_NC_OK:
			break;
		case GW_TR069_NC_STALE:
			*stale = TRUE;
			return FALSE;
		case GW_TR069_NC_REPLAY:
			/* a client without qop reuses its nonce: it starts over, no harm */
			*stale = qop == NULL;
			if (qop != NULL)
				gw_warning_ratelimited(
				    "TR-069: a replayed Digest request (user %s, "
				    "nc %s) from %s: refused",
				    username,
				    nc,
				    gw_plugin_http_request_get_remote_host(msg));
			return FALSE;
		}
		*who = g_strdup(username);
		return TRUE;
	}
	return FALSE;
}

static void
gw_tr069_challenge(GwTr069Plugin *self, GwPluginHttpRequest *msg, gboolean stale)
{
	g_autofree gchar *nonce = gw_tr069_nonce_new(self);
	g_autofree gchar *digest =
	    g_strdup_printf("Digest realm=\"" GW_TR069_REALM "\", nonce=\"%s\", qop=\"auth\", "
	                    "algorithm=MD5%s",
	                    nonce,
	                    stale ? ", stale=true" : "");

	gw_plugin_http_request_add_header(msg, "WWW-Authenticate", digest);
	if (gw_tr069_basic_ok(self, msg))
		gw_plugin_http_request_add_header(
		    msg, "WWW-Authenticate", "Basic realm=\"" GW_TR069_REALM "\"");
	gw_tr069_respond_status(msg, SOUP_STATUS_UNAUTHORIZED);
}

/* ---- the HTTP front end: /cwmp on the gateway's southbound listener ---- */

static void
gw_tr069_request_cb(GwPlugin *plugin, GwPluginHttpRequest *msg, gpointer data)
{
	GwTr069Plugin *self = GW_TR069_PLUGIN(plugin);
	GBytes *body = gw_plugin_http_request_get_body(msg);
	gboolean stale = FALSE;
	g_autofree gchar *who = NULL;

	if (!gw_tr069_authenticate(self, msg, &stale, &who)) {
		gw_tr069_challenge(self, msg, stale);
		return;
	}
	if (g_strcmp0(gw_plugin_http_request_get_method(msg), "POST") != 0) {
		gw_plugin_http_request_add_header(msg, "Allow", "POST");
		gw_tr069_respond_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
		return;
	}
	if (g_bytes_get_size(body) > GW_TR069_MAX_BODY) {
		gw_tr069_respond_status(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
		return;
	}
	gw_tr069_handle_post(self, msg, body, who);
}

/* ---- the plugin ---- */

/* [tr069] credentials-file: a key file, one group per CPE user ([<username>] password=…
 * device-id=<OUI-ProductClass-SerialNumber>) */
static gboolean
gw_tr069_load_users(GwTr069Plugin *self, GError **error)
{
	g_autofree gchar *path = gw_plugin_get_config_value(GW_PLUGIN(self), "credentials-file");
	g_autoptr(GKeyFile) file = NULL;
	g_auto(GStrv) groups = NULL;

	if (path == NULL)
		return TRUE;
	file = g_key_file_new();
	if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "[tr069] credentials-file %s: ", path);
		return FALSE;
	}
	groups = g_key_file_get_groups(file, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		g_autofree gchar *password =
		    g_key_file_get_string(file, groups[i], "password", NULL);
		g_autofree gchar *device_id =
		    g_key_file_get_string(file, groups[i], "device-id", NULL);
		GwTr069User *user;

		if (password == NULL || password[0] == '\0' || device_id == NULL ||
		    g_hash_table_contains(self->bound, device_id) ||
		    g_strcmp0(groups[i], self->username) == 0) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "[tr069] credentials-file %s: [%s] needs a password and a "
			            "device-id of its own, and a name other than [tr069] username",
			            path,
			            groups[i]);
			return FALSE;
		}
		user = g_new0(GwTr069User, 1);
		user->password = g_steal_pointer(&password);
		user->device_id = g_steal_pointer(&device_id);
		g_hash_table_insert(self->bound, g_strdup(user->device_id), g_strdup(groups[i]));
		g_hash_table_insert(self->users, g_strdup(groups[i]), user);
	}
	g_message("TR-069: %u CPEs with credentials of their own", g_hash_table_size(self->users));
	return TRUE;
}

static gboolean
gw_tr069_plugin_startup(GwPlugin *plugin, GError **error)
{
	GwTr069Plugin *self = GW_TR069_PLUGIN(plugin);
	g_autofree gchar *listen = gw_plugin_get_config_value(plugin, "listen");
	gint64 max;

	self->username = gw_plugin_get_config_value(plugin, "username");
	self->password = gw_plugin_get_config_value(plugin, "password");
	self->cr_username = gw_plugin_get_config_value(plugin, "connection-request-username");
	self->cr_password = gw_plugin_get_config_value(plugin, "connection-request-password");
	self->basic_allowed = gw_plugin_get_config_boolean(plugin, "allow-basic-over-http", FALSE);
	self->cache_usec = gw_plugin_get_config_int(plugin, "cache-seconds", 30) * G_USEC_PER_SEC;
	max = gw_plugin_get_config_int(plugin, "max-devices", 1024);
	self->max_devices = (guint)CLAMP(max, 1, 65536);
	max = gw_plugin_get_config_int(plugin, "max-digest-nonces", GW_TR069_NONCES_DEFAULT);
	self->max_nonces = (guint)CLAMP(max, 8, 1048576);
	if (!gw_tr069_load_users(self, error))
		return FALSE;
	if (self->username != NULL && (self->password == NULL || self->password[0] == '\0')) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "[tr069] username needs a password");
		return FALSE;
	}
	if (self->username == NULL && g_hash_table_size(self->users) == 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "[tr069] username and password, or a credentials-file, must be set: "
		            "CPEs authenticate to the ACS");
		return FALSE;
	}
	if (listen != NULL)
		g_warning("[tr069] listen is obsolete and ignored: CPEs reach the ACS at %s on the "
		          "gateway's southbound listener ([southbound] listen)",
		          GW_TR069_PATH);
	if (self->cr_password == NULL)
		self->cr_password = g_strdup("");
	self->nonce_key = g_uuid_string_random();
	self->cr_session =
	    soup_session_new_with_options("timeout", 10, "max-conns-per-host", 2, NULL);
	if (!gw_plugin_add_http_handler(
	        plugin, GW_TR069_PATH, gw_tr069_request_cb, NULL, NULL, error))
		return FALSE;
	return TRUE;
}

static void
gw_tr069_plugin_shutdown(GwPlugin *plugin)
{
	GwTr069Plugin *self = GW_TR069_PLUGIN(plugin);

	g_cancellable_cancel(self->cancellable);
	g_hash_table_remove_all(self->sessions);
	g_hash_table_remove_all(self->cpes);
	g_clear_object(&self->cr_session);
}

/* ---- commands ---- */

static void
gw_tr069_return(GTask *task, GwDeviceResult *result)
{
	g_task_return_pointer(task, result, (GDestroyNotify)gw_device_result_unref);
	g_object_unref(task);
}

static const gchar *
gw_tr069_type_for(GwTr069Cpe *cpe, const gchar *path, const gchar *format)
{
	GwTr069Value *v = g_hash_table_lookup(cpe->params, path);

	if (v != NULL && v->type != NULL)
		return v->type;
	if (g_strcmp0(format, "int") == 0)
		return "xsd:int";
	if (g_strcmp0(format, "bool") == 0)
		return "xsd:boolean";
	return "xsd:string";
}

/* TRUE when the cache knows a parameter below @path */
static gboolean
gw_tr069_cache_has_children(GwTr069Cpe *cpe, const gchar *path)
{
	g_autofree gchar *prefix = g_strconcat(path, ".", NULL);
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, cpe->params);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (g_str_has_prefix(key, prefix))
			return TRUE;
	}
	return FALSE;
}

/* queues @rpc for @cpe (the queue takes @rpc's reference), answering @task by @deadline */
static void
gw_tr069_enqueue(GwTr069Cpe *cpe,
                 GwTr069Rpc *rpc,
                 GTask *task,
                 gint64 deadline,
                 GCancellable *cancellable)
{
	rpc->task = task;
	rpc->cpe = cpe;
	if (deadline > 0) {
		gint64 ms = MAX(deadline - g_get_monotonic_time(), 0) / 1000;
		rpc->deadline_id = g_timeout_add_full(G_PRIORITY_DEFAULT,
		                                      (guint)MIN(ms, G_MAXUINT),
		                                      gw_tr069_rpc_deadline_cb,
		                                      gw_tr069_rpc_ref(rpc),
		                                      (GDestroyNotify)gw_tr069_rpc_unref);
	}
	if (cancellable != NULL) {
		rpc->cancellable = g_object_ref(cancellable);
		rpc->cancel_id = g_cancellable_connect(
		    cancellable, G_CALLBACK(gw_tr069_rpc_cancelled_cb), rpc, NULL);
	}
	g_queue_push_tail(&cpe->queue, rpc);
	gw_tr069_cpe_wake(cpe);
}

static void
gw_tr069_plugin_run_command_async(GwPlugin *plugin,
                                  const gchar *device_id,
                                  GwDeviceCommand *cmd,
                                  gint64 deadline,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
	GwTr069Plugin *self = GW_TR069_PLUGIN(plugin);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	GwTr069Cpe *cpe = g_hash_table_lookup(self->cpes, device_id);
	const gchar *uri = gw_device_command_get_uri(cmd);
	GwDeviceOp op = gw_device_command_get_op(cmd);
	g_autofree gchar *path = NULL;
	GwTr069Rpc *rpc;
	gint64 now = g_get_monotonic_time();

	g_task_set_source_tag(task, gw_tr069_plugin_run_command_async);
	if (cpe == NULL) {
		gw_tr069_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND));
		return;
	}
	rpc = g_new0(GwTr069Rpc, 1);
	rpc->ref_count = 1;
	rpc->uri = g_strdup(uri);
	if (g_strcmp0(uri, "./TR069/Operations/Reboot") == 0) {
		if (op != GW_DEVICE_OP_EXEC) {
			gw_tr069_rpc_unref(rpc);
			gw_tr069_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED));
			return;
		}
		rpc->kind = GW_TR069_RPC_REBOOT;
	} else if (g_strcmp0(uri, "./TR069/Operations/Download") == 0) {
		const gchar *url = gw_device_command_get_data_string(cmd);
		if (op != GW_DEVICE_OP_EXEC) {
			gw_tr069_rpc_unref(rpc);
			gw_tr069_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED));
			return;
		}
		if (url == NULL ||
		    (!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://"))) {
			gw_tr069_rpc_unref(rpc);
			gw_tr069_return(
			    task,
			    gw_device_result_new_fault(GW_DEVICE_STATUS_BAD_REQUEST,
			                               uri,
			                               "Download needs the image's URL as data"));
			return;
		}
		rpc->kind = GW_TR069_RPC_DOWNLOAD;
		rpc->value = g_strdup(url);
	} else if ((path = gw_cwmp_uri_to_path(uri, NULL)) == NULL || g_str_has_suffix(path, ".")) {
		gw_tr069_rpc_unref(rpc);
		gw_tr069_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND));
		return;
	} else {
		switch (op) {
		case GW_DEVICE_OP_GET: {
			GwTr069Value *v = g_hash_table_lookup(cpe->params, path);
			if (v != NULL && now - cpe->params_time < self->cache_usec) {
				gw_tr069_rpc_unref(rpc);
				gw_tr069_return(task,
				                gw_tr069_value_result(uri, v->value, v->type));
				return;
			}
			if (v == NULL && gw_tr069_cache_has_children(cpe, path)) {
				rpc->kind = GW_TR069_RPC_GPN;
				rpc->path = g_strconcat(path, ".", NULL);
			} else {
				rpc->kind = GW_TR069_RPC_GPV;
				rpc->path = g_strdup(path);
			}
			break;
		}
		case GW_DEVICE_OP_REPLACE:
			rpc->kind = GW_TR069_RPC_SPV;
			rpc->path = g_strdup(path);
			rpc->value = g_strdup(gw_device_command_get_data_string(cmd));
			rpc->type = g_strdup(
			    gw_tr069_type_for(cpe, path, gw_device_command_get_format(cmd)));
			break;
		case GW_DEVICE_OP_ADD:
			rpc->kind = GW_TR069_RPC_ADD;
			rpc->path = g_strconcat(path, ".", NULL);
			break;
		case GW_DEVICE_OP_DELETE:
			rpc->kind = GW_TR069_RPC_DELETE;
			rpc->path = g_strconcat(path, ".", NULL);
			break;
		default:
			gw_tr069_rpc_unref(rpc);
			gw_tr069_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_ALLOWED));
			return;
		}
	}
	if (cancellable != NULL && g_cancellable_is_cancelled(cancellable)) {
		gw_tr069_rpc_unref(rpc);
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
		g_object_unref(task);
		return;
	}
	gw_tr069_enqueue(cpe, rpc, task, deadline, cancellable);
}

/* the image store hands a CPE an image: a Download of @uri (its URL on the gateway, signed for
 * this CPE), answered on the CPE's TransferComplete */
static void
gw_tr069_plugin_deliver_image_async(GwPlugin *plugin,
                                    const gchar *device_id,
                                    const gchar *uri,
                                    const gchar *sha256,
                                    guint64 size,
                                    gint64 deadline,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
	GwTr069Plugin *self = GW_TR069_PLUGIN(plugin);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	GwTr069Cpe *cpe = g_hash_table_lookup(self->cpes, device_id);
	GwTr069Rpc *rpc;

	g_task_set_source_tag(task, gw_tr069_plugin_deliver_image_async);
	if (cpe == NULL) {
		gw_tr069_return(task, gw_device_result_new(GW_DEVICE_STATUS_NOT_FOUND));
		return;
	}
	rpc = g_new0(GwTr069Rpc, 1);
	rpc->ref_count = 1;
	rpc->uri = g_strdup("./TR069/Operations/Download");
	rpc->kind = GW_TR069_RPC_DOWNLOAD;
	rpc->value = g_strdup(uri);
	rpc->size = size;
	if (cancellable != NULL && g_cancellable_is_cancelled(cancellable)) {
		gw_tr069_rpc_unref(rpc);
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
		g_object_unref(task);
		return;
	}
	gw_tr069_enqueue(cpe, rpc, task, deadline, cancellable);
}

static GwDeviceResult *
gw_tr069_plugin_run_command_finish(GwPlugin *plugin, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, plugin), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
gw_tr069_plugin_finalize(GObject *object)
{
	GwTr069Plugin *self = GW_TR069_PLUGIN(object);

	gw_tr069_plugin_shutdown(GW_PLUGIN(self));
	g_hash_table_unref(self->sessions);
	g_hash_table_unref(self->cpes);
	g_object_unref(self->cancellable);
	g_free(self->nonce_key);
	g_hash_table_unref(self->nonces);
	g_hash_table_unref(self->users);
	g_hash_table_unref(self->bound);
	g_free(self->username);
	g_free(self->password);
	g_free(self->cr_username);
	g_free(self->cr_password);
	G_OBJECT_CLASS(gw_tr069_plugin_parent_class)->finalize(object);
}

static void
gw_tr069_plugin_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	GwTr069Plugin *self = GW_TR069_PLUGIN(object);

	switch (prop_id) {
	case PROP_DIGEST_NONCES:
		g_value_set_uint(value, g_hash_table_size(self->nonces));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
gw_tr069_plugin_class_init(GwTr069PluginClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GwPluginClass *plugin_class = GW_PLUGIN_CLASS(klass);

	object_class->finalize = gw_tr069_plugin_finalize;
	object_class->get_property = gw_tr069_plugin_get_property;
	/* how many nonces' counts are remembered (at most [tr069] max-digest-nonces) */
	g_object_class_install_property(
	    object_class,
	    PROP_DIGEST_NONCES,
	    g_param_spec_uint("digest-nonces",
	                      NULL,
	                      NULL,
	                      0,
	                      G_MAXUINT,
	                      0,
	                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
	plugin_class->startup = gw_tr069_plugin_startup;
	plugin_class->shutdown = gw_tr069_plugin_shutdown;
	plugin_class->run_command_async = gw_tr069_plugin_run_command_async;
	plugin_class->run_command_finish = gw_tr069_plugin_run_command_finish;
	plugin_class->deliver_image_async = gw_tr069_plugin_deliver_image_async;
	plugin_class->deliver_image_finish = gw_tr069_plugin_run_command_finish;
}

static void
gw_tr069_plugin_init(GwTr069Plugin *self)
{
	gw_plugin_set_protocol(GW_PLUGIN(self), "TR-069");
	gw_plugin_set_version(GW_PLUGIN(self), GW_TR069_PLUGIN_VERSION);
	self->cancellable = g_cancellable_new();
	self->users = g_hash_table_new_full(
	    g_str_hash, g_str_equal, g_free, (GDestroyNotify)gw_tr069_user_free);
	self->bound = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->nonces = g_hash_table_new_full(
	    g_str_hash, g_str_equal, NULL, (GDestroyNotify)gw_tr069_nonce_free);
	g_queue_init(&self->nonce_lru);
	self->max_nonces = GW_TR069_NONCES_DEFAULT;
	self->cpes =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)gw_tr069_cpe_free);
	self->sessions = g_hash_table_new_full(
	    g_str_hash, g_str_equal, NULL, (GDestroyNotify)gw_tr069_session_free);
}

GW_PLUGIN_DEFINE_MODULE(GW_TYPE_TR069_PLUGIN)
