/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwSouthbound"

#include "config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "gw-dm-auth.h"
#include "gw-error.h"
#include "gw-gwmo-names.h"
#include "gw-http-server.h"
#include "gw-log.h"
#include "gw-notifier.h"
#include "gw-pkg0.h"
#include "gw-southbound.h"
#include "gw-wbxml.h"

/* a <GwMORegistration> document larger than this is refused */
#define GW_SOUTHBOUND_MAX_REGISTRATION (64 * 1024)
#define GW_SOUTHBOUND_DEFAULT_CMD_TIMEOUT 60
/* sessions whose peer has not authenticated yet (issue 11 §4): a few per peer address, a bounded
 * number in all, none of them a [southbound] max-sessions slot, and short-lived: the peer's
 * retry with the challenge's nonce comes at once */
#define GW_SOUTHBOUND_PENDING_PER_PEER 4
#define GW_SOUTHBOUND_PENDING_MAX 1024
#define GW_SOUTHBOUND_PENDING_TIMEOUT_S 30
/* commands handed back by a session that ended wake the device again, after this back-off
 * (doubling while its sessions keep failing) */
#define GW_SOUTHBOUND_REWAKE_MIN_S 1
#define GW_SOUTHBOUND_REWAKE_MAX_S 60
/* bytes of a message that does not parse searched for its SyncHdr */
#define GW_SOUTHBOUND_SCAN_LEN 4096

typedef struct _GwSbSession GwSbSession;

/* nonces of one device, kept between its sessions (and in its inventory record, read back
 * the first time the device is seen after a start) */
typedef struct {
	GBytes *local;  /* the device issued it: the gateway digests with it */
	GBytes *peer;   /* the gateway issued it: the device digests with it */
	gboolean dirty; /* changed since they were written to the record */
} GwSbNonces;

/* one Proxy command (gw_southbound_send_command_async) */
typedef struct {
	GwSouthbound *self; /* borrowed: the task holds a reference */
	guint id;
	gchar *device_id;
	GwSyncmlCommand *cmd; /* our copy: a failed session gives the command back */
	GTask *task;
	GCancellable *cancellable;
	gulong cancel_id;
	guint timeout_id;
	GwSbSession *session; /* NULL while it waits in the device queue */
	guint ref;            /* its ref in the session */
} GwSbCommand;

typedef struct {
	guint status;
	GPtrArray *results; /* GwSyncmlItem * */
} GwSbOutcome;

/* a reply held until the registration it acknowledges is on disk */
typedef struct {
	GwHttpRequest *request;
	gchar *content_type;
	GBytes *body;
} GwSbHeld;

/* the commands waiting for a device, and whether it was asked (Package #0) to come for them */
typedef struct {
	GwSouthbound *self; /* borrowed */
	gchar *device_id;
	GQueue commands; /* GwSbCommand (borrowed) */
	gboolean woken;  /* a Package #0 went out for what waits here */
	guint rewake_id; /* the next one, after a session that ended without them */
	guint backoff_s;
} GwSbQueue;

/* one DM session of a device */
struct _GwSbSession {
	GwSouthbound *self; /* borrowed */
	gchar *key;         /* SessionID "\n" Source LocURI */
	gchar *device_id;
	gchar *peer_addr;
	gchar *peer_group;  /* the peer it counts as (gw_http_peer_group()) */
	gchar *pending_key; /* its key in self->pending: peer address "\n" key */
	GwDmSession *session;
	gboolean authenticated; /* peer credentials are checked (not open registration) */
	gboolean pending;       /* ... and were not accepted yet: in self->pending */
	GList *pending_link;    /* its place in self->pending_order */
	gboolean registered;    /* implicit registration or touch done */
	gint64 last_activity;   /* monotonic µs */
	GHashTable *commands;   /* ref → GwSbCommand (borrowed) */
};

struct _GwSouthbound {
	GObject parent_instance;
	GwConfig *config;
	GwDmTree *tree;
	GwDmStore *store;
	GwInventory *inventory;
	gchar *state_dir;
	GwHttpServer *server;
	GwNotifier *notifier;  /* Package #0 to devices */
	GHashTable *sessions;  /* key → GwSbSession: authenticated (or open registration) */
	GHashTable *by_device; /* device id → its latest session in self->sessions (borrowed) */
	/* sessions whose peer has not authenticated yet: they hold no command, count for no
	 * max-sessions slot, are found only from the address they came from, and the oldest of
	 * a peer goes when that peer has too many */
	GHashTable *pending;          /* peer address "\n" key → GwSbSession */
	GQueue pending_order;         /* GwSbSession (borrowed), oldest first */
	GHashTable *pending_per_peer; /* peer group → count (GUINT_TO_POINTER) */
	GHashTable *queues;           /* device id → GwSbQueue */
	GHashTable *nonces;           /* device id → GwSbNonces */
	GHashTable *commands;         /* id → GwSbCommand (owned) */
	guint next_command_id;
	guint sweep_id;
	/* group commit: replies that acknowledge a registration wait for the store */
	GPtrArray *held;       /* GwSbHeld */
	guint commit_id;       /* the idle that flushes the store and sends them */
	guint registrations;   /* registrations done, to see whether a message made one */
	guint logged_sessions; /* the counts the last "device sessions" line gave */
	guint logged_pending;
	struct _GwSbParsed *parsed; /* a worker thread's decode, while the handler runs with it */
};

G_DEFINE_TYPE(GwSouthbound, gw_southbound, G_TYPE_OBJECT)

enum {
	SIGNAL_SESSION_FINISHED,
	SIGNAL_DEVICE_AUTHENTICATED,
	SIGNAL_DEVICE_REGISTERED,
	SIGNAL_LAST
};
static guint signals[SIGNAL_LAST] = {0};

static void
gw_southbound_complete(GwSouthbound *self, GwSbCommand *c, guint status, GPtrArray *results);

/* ---- small helpers ---- */

static void
gw_sb_nonces_free(gpointer data)
{
	GwSbNonces *n = data;
	g_clear_pointer(&n->local, g_bytes_unref);
	g_clear_pointer(&n->peer, g_bytes_unref);
	g_free(n);
}

static GwSbNonces *
gw_southbound_nonces(GwSouthbound *self, const gchar *device_id)
{
	GwSbNonces *n = g_hash_table_lookup(self->nonces, device_id);
	if (n == NULL) {
		n = g_new0(GwSbNonces, 1);
		/* the ones the last session before a restart agreed on */
		gw_inventory_get_nonces(self->inventory, device_id, &n->peer, &n->local);
		g_hash_table_insert(self->nonces, g_strdup(device_id), n);
	}
	return n;
}

static void
gw_sb_outcome_free(gpointer data)
{
	GwSbOutcome *o = data;
	g_clear_pointer(&o->results, g_ptr_array_unref);
	g_free(o);
}

static void
gw_southbound_respond_text(GwHttpRequest *request, guint status, const gchar *text)
{
	g_autoptr(GBytes) body = g_bytes_new(text, strlen(text));
	gw_http_request_respond(request, status, "text/plain", body);
}

static void
gw_southbound_flush(GwSouthbound *self)
{
	g_autoptr(GError) error = NULL;
	if (self->store != NULL && !gw_dm_store_flush(self->store, &error))
		g_warning("cannot store the DM tree: %s", error->message);
}

static void
gw_sb_held_free(gpointer data)
{
	GwSbHeld *h = data;
	/* a reply never sent (the endpoint stops): the device retries */
	if (!gw_http_request_is_answered(h->request))
		gw_southbound_respond_text(h->request, 503, "the gateway is stopping\n");
	gw_http_request_unref(h->request);
	g_free(h->content_type);
	g_clear_pointer(&h->body, g_bytes_unref);
	g_free(h);
}

/* Group commit: registrations change the tree; the one save of the store after the main loop
 * has taken every request that is ready covers all of them, and only then do their replies
 * go out. A device whose registration was acknowledged is on disk (kill -9 keeps it), and a
 * burst of N registrations costs N / batch saves instead of N. */
static void
gw_southbound_commit(GwSouthbound *self)
{
	g_autoptr(GPtrArray) held = g_steal_pointer(&self->held);

	self->held = g_ptr_array_new_with_free_func(gw_sb_held_free);
	gw_southbound_flush(self);
	if (held->len > 1)
		g_debug("one store flush for %u replies", held->len);
	for (guint i = 0; i < held->len; i++) {
		GwSbHeld *h = g_ptr_array_index(held, i);
		gw_http_request_respond(h->request, 200, h->content_type, h->body);
	}
}

static gboolean
gw_southbound_commit_cb(gpointer user_data)
{
	GwSouthbound *self = GW_SOUTHBOUND(user_data);
	self->commit_id = 0;
	gw_southbound_commit(self);
	return G_SOURCE_REMOVE;
}

static void
gw_southbound_schedule_commit(GwSouthbound *self)
{
	if (self->commit_id != 0)
		return;
	/* below the default priority: requests already waiting are taken first */
	self->commit_id = g_idle_add_full(
	    G_PRIORITY_DEFAULT_IDLE, gw_southbound_commit_cb, g_object_ref(self), g_object_unref);
}

/* ---- Package #0 delivery (GwNotifier, in the link layer) ---- */

gboolean
gw_southbound_notify_device(GwSouthbound *self,
                            const gchar *device_id_or_notify_addr,
                            GBytes *pkg0,
                            GError **error)
{
	g_autofree gchar *addr = NULL;

	g_return_val_if_fail(GW_IS_SOUTHBOUND(self), FALSE);
	g_return_val_if_fail(device_id_or_notify_addr != NULL, FALSE);
	g_return_val_if_fail(pkg0 != NULL, FALSE);

	if (strstr(device_id_or_notify_addr, "://") != NULL) {
		addr = g_strdup(device_id_or_notify_addr);
	} else {
		GwInventoryDevice info = {0};
		if (!gw_inventory_get_contact(self->inventory, device_id_or_notify_addr, &info)) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NOT_FOUND,
			            "unknown device %s",
			            device_id_or_notify_addr);
			return FALSE;
		}
		addr = g_steal_pointer(&info.notify_addr);
		gw_inventory_device_clear(&info);
		if (addr == NULL || addr[0] == '\0') {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NOT_FOUND,
			            "device %s has no NotifyAddr",
			            device_id_or_notify_addr);
			return FALSE;
		}
	}
	return gw_notifier_send(self->notifier, addr, pkg0, error);
}

/* a Package #0 asking @info's device to open a session with the gateway, signed as a DM Server
 * signs it (OMA-DM.md §1.2.5): the gateway's DevId and the device's ServerSecret, and the nonce
 * the device last gave the gateway (the NextNonce in the Chal of its Status), or the all-zero
 * nonce when the gateway has none (never talked to it since gwmod started) */
static void
gw_southbound_wake_device(GwSouthbound *self, const GwInventoryDevice *info)
{
	g_autoptr(GwPkg0) n = gw_pkg0_new();
	g_autoptr(GBytes) pkg0 = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dev_id = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
	g_autofree gchar *sid = NULL;
	GBytes *nonce = gw_southbound_nonces(self, info->device_id)->local;

	n->version = GW_PKG0_VERSION_DEFAULT;
	n->ui_mode = GW_PKG0_UI_MODE_BACKGROUND;
	n->server_initiated = TRUE;
	n->session_id = (guint16)g_random_int_range(1, 0x10000);
	n->server_id = g_strdup(dev_id != NULL && dev_id[0] != '\0' ? dev_id : "gwmod");
	if (info->server_secret == NULL)
		g_warning("device %s has no ServerSecret: its Package #0 will not verify",
		          info->device_id);
	pkg0 = gw_pkg0_build_with_nonce(
	    n, info->server_secret != NULL ? info->server_secret : "", nonce);
	if (pkg0 == NULL)
		return;
	sid = gw_pkg0_session_id_to_string(n->session_id);
	if (!gw_notifier_send(self->notifier, info->notify_addr, pkg0, &error)) {
		g_warning("cannot notify device %s: %s", info->device_id, error->message);
		return;
	}
	g_message("Package #0 to device %s at %s (session %s, %s)",
	          info->device_id,
	          info->notify_addr,
	          sid,
	          nonce != NULL && g_bytes_get_size(nonce) > 0 ? "the device's nonce"
	                                                       : "the all-zero nonce");
}

/* ---- registration ---- */

static const gchar *const gw_southbound_devinfo_leaves[] =
    {"Man", "Mod", "FwV", "SwV", "HwV", "DevTyp", NULL};

/* @info: the record read back (or a new one): registers it, logs */
static gboolean
gw_southbound_register(GwSouthbound *self, const GwInventoryDevice *info, const gchar *how)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = gw_inventory_register(self->inventory, info, &error);

	if (record == NULL) {
		g_warning("cannot register device %s: %s", info->device_id, error->message);
		return FALSE;
	}
	g_message("device %s registered (%s): %s, mode %u, %s, notify %s",
	          info->device_id,
	          how,
	          record,
	          info->mode,
	          info->trusted ? "trusted" : "not trusted",
	          info->notify_addr != NULL ? info->notify_addr : "none (polling)");
	/* stored by the group commit before the reply goes out */
	self->registrations++;
	return TRUE;
}

/* implicit registration (Proxy mode) from the Package #1 DevInfo, or a touch */
/* the usual session of a known device reports what its record holds: LastSeen alone is
 * written (no rewrite of the record, no registration whose reply waits for the disk);
 * TRUE when that was the case */
static gboolean
gw_southbound_seen_unchanged(GwSouthbound *self, GwSbSession *s, GHashTable *devinfo)
{
	g_autoptr(GHashTable) leaves = NULL;
	const gchar *notify_addr = NULL;
	GHashTableIter iter;
	gpointer key, value;

	if (devinfo == NULL || g_hash_table_size(devinfo) == 0)
		return gw_inventory_touch_unchanged(
		    self->inventory, s->device_id, s->peer_addr, NULL, NULL);
	leaves = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_iter_init(&iter, devinfo);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const gchar *uri = key;
		const gchar *leaf = strrchr(uri, '/');
		leaf = leaf != NULL ? leaf + 1 : uri;
		if (g_strcmp0(uri, "./DevInfo/Ext/NotifyAddr") == 0) {
			/* an invalid one is ignored (and logged) by the registration */
			if (!gw_notifier_address_is_valid(value))
				return FALSE;
			notify_addr = value;
		} else if (g_strv_contains(gw_southbound_devinfo_leaves, leaf)) {
			g_hash_table_replace(leaves, (gpointer)leaf, value);
		}
	}
	if (!gw_inventory_touch_unchanged(
	        self->inventory, s->device_id, s->peer_addr, notify_addr, leaves))
		return FALSE;
	g_debug("device %s seen, its record unchanged", s->device_id);
	return TRUE;
}

static void
gw_southbound_implicit_register(GwSouthbound *self, GwSbSession *s)
{
	GHashTable *devinfo = gw_dm_session_get_peer_devinfo(s->session);
	GwInventoryDevice info = {0};
	gboolean exists;
	GHashTable *leaves;
	GHashTableIter iter;
	gpointer key, value;

	s->registered = TRUE;
	if (gw_southbound_seen_unchanged(self, s, devinfo))
		return;
	/* new, Detached (a provisioned device's first session, GwMO-DI-004), or changed: its
	 * record is written with the address it came from, and DeviceAttached carries that */
	exists = gw_inventory_get_device(self->inventory, s->device_id, &info);
	if (!exists) {
		info.device_id = g_strdup(s->device_id);
		info.mode = GW_GWMO_MODE_PROXY;
		info.trusted = FALSE; /* only open registration gets here */
	}
	g_free(info.address);
	info.address = g_strdup(s->peer_addr);
	leaves = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (info.devinfo != NULL) {
		g_hash_table_iter_init(&iter, info.devinfo);
		while (g_hash_table_iter_next(&iter, &key, &value))
			g_hash_table_replace(leaves, g_strdup(key), g_strdup(value));
	}
	if (devinfo != NULL) {
		g_hash_table_iter_init(&iter, devinfo);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			const gchar *uri = key;
			const gchar *leaf = strrchr(uri, '/');
			leaf = leaf != NULL ? leaf + 1 : uri;
			if (g_strcmp0(uri, "./DevInfo/Ext/NotifyAddr") == 0) {
				if (gw_notifier_address_is_valid(value)) {
					g_free(info.notify_addr);
					info.notify_addr = g_strdup(value);
				} else {
					g_info("device %s: ignoring NotifyAddr '%s'",
					       s->device_id,
					       (const gchar *)value);
				}
			} else if (g_strv_contains(gw_southbound_devinfo_leaves, leaf)) {
				g_hash_table_replace(leaves, g_strdup(leaf), g_strdup(value));
			}
		}
	}
	g_clear_pointer(&info.devinfo, g_hash_table_unref);
	info.devinfo = leaves;
	gw_southbound_register(self, &info, exists ? "session" : "implicit, open registration");
	gw_inventory_device_clear(&info);
}

static const gchar *
gw_southbound_xml_text(xmlNode *node, gchar **out)
{
	xmlChar *text = xmlNodeGetContent(node);
	g_free(*out);
	*out = g_strstrip(g_strdup(text != NULL ? (const gchar *)text : ""));
	xmlFree(text);
	return *out;
}

/* <GwMORegistration><DeviceID/><NotifyAddr/><Mode/><ServerIDs><ServerID/>…</ServerIDs> */
static gboolean
gw_southbound_parse_registration(const gchar *data,
                                 gchar **device_id,
                                 gchar **notify_addr,
                                 guint *mode,
                                 GStrv *server_ids,
                                 GError **error)
{
	xmlDoc *doc;
	xmlNode *root;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *mode_text = NULL;
	gsize len = data != NULL ? strlen(data) : 0;
	gboolean ok = TRUE;

	*mode = GW_GWMO_MODE_TRANSPARENT;
	if (len == 0 || len > GW_SOUTHBOUND_MAX_REGISTRATION) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "registration document missing or over %u bytes",
		            (guint)GW_SOUTHBOUND_MAX_REGISTRATION);
		return FALSE;
	}
	/* no network, no entity substitution, no DTD loading */
	doc = xmlReadMemory(data,
	                    (int)len,
	                    "registration.xml",
	                    NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_PROTOCOL,
		                    "registration document is not well-formed XML");
		return FALSE;
	}
	root = xmlDocGetRootElement(doc);
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "registration document carries a DTD");
		ok = FALSE;
	} else if (root == NULL || xmlStrcmp(root->name, BAD_CAST "GwMORegistration") != 0) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "expected a <GwMORegistration> document");
		ok = FALSE;
	}
	for (xmlNode *n = ok ? root->children : NULL; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, BAD_CAST "DeviceID") == 0) {
			gw_southbound_xml_text(n, device_id);
		} else if (xmlStrcmp(n->name, BAD_CAST "NotifyAddr") == 0) {
			gw_southbound_xml_text(n, notify_addr);
		} else if (xmlStrcmp(n->name, BAD_CAST "Mode") == 0) {
			gw_southbound_xml_text(n, &mode_text);
		} else if (xmlStrcmp(n->name, BAD_CAST "ServerIDs") == 0) {
			for (xmlNode *c = n->children; c != NULL; c = c->next) {
				gchar *id = NULL;
				if (c->type != XML_ELEMENT_NODE ||
				    xmlStrcmp(c->name, BAD_CAST "ServerID") != 0)
					continue;
				gw_southbound_xml_text(c, &id);
				if (id[0] != '\0')
					g_ptr_array_add(ids, id);
				else
					g_free(id);
			}
		}
	}
	xmlFreeDoc(doc);
	if (!ok)
		return FALSE;
	if (*device_id == NULL || (*device_id)[0] == '\0') {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "registration document without DeviceID");
		return FALSE;
	}
	if (*notify_addr != NULL && (*notify_addr)[0] == '\0')
		g_clear_pointer(notify_addr, g_free);
	if (*notify_addr != NULL && !gw_notifier_address_is_valid(*notify_addr)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_PROTOCOL,
		            "NotifyAddr '%s' is not http(s):// or udp://",
		            *notify_addr);
		return FALSE;
	}
	if (mode_text != NULL && mode_text[0] != '\0') {
		guint64 m = 0;
		if (!g_ascii_string_to_unsigned(mode_text,
		                                10,
		                                GW_GWMO_MODE_TRANSPARENT,
		                                GW_GWMO_MODE_ADAPTATION,
		                                &m,
		                                NULL)) {
			g_set_error(error, GW_ERROR, GW_ERROR_PROTOCOL, "bad Mode '%s'", mode_text);
			return FALSE;
		}
		*mode = (guint)m;
	}
	if (ids->len > 0) {
		g_ptr_array_add(ids, NULL);
		*server_ids = (GStrv)g_ptr_array_free(g_steal_pointer(&ids), FALSE);
	}
	return TRUE;
}

/* Transparent mode registration (GwMO-TMode-001, seed 000 X.1); returns the Status */
static guint
gw_southbound_explicit_register(GwSouthbound *self, GwSbSession *s, const gchar *data)
{
	g_autofree gchar *device_id = NULL;
	g_autofree gchar *notify_addr = NULL;
	g_auto(GStrv) server_ids = NULL;
	g_autoptr(GError) error = NULL;
	GwInventoryDevice info = {0};
	gboolean exists;
	gboolean listed;
	gboolean ok;
	guint mode;

	if (!gw_southbound_parse_registration(
	        data, &device_id, &notify_addr, &mode, &server_ids, &error)) {
		g_warning("malformed registration of device %s from %s: %s",
		          s->device_id,
		          s->peer_addr,
		          error->message);
		return GW_DM_STATUS_BAD_REQUEST;
	}
	if (g_strcmp0(device_id, s->device_id) != 0) {
		g_warning("device %s from %s tried to register DeviceID %s",
		          s->device_id,
		          s->peer_addr,
		          device_id);
		return GW_DM_STATUS_FORBIDDEN;
	}
	exists = gw_inventory_get_device(self->inventory, device_id, &info);
	if (!exists) {
		info.device_id = g_strdup(device_id);
		info.trusted = FALSE;
	}
	info.mode = mode;
	if (notify_addr != NULL) {
		g_free(info.notify_addr);
		info.notify_addr = g_steal_pointer(&notify_addr);
	}
	listed = server_ids != NULL;
	if (server_ids != NULL) {
		g_strfreev(info.server_ids);
		info.server_ids = g_steal_pointer(&server_ids);
	}
	g_free(info.address);
	info.address = g_strdup(s->peer_addr);
	ok = gw_southbound_register(self, &info, "registration alert");
	if (ok && listed)
		g_signal_emit(
		    self, signals[SIGNAL_DEVICE_REGISTERED], 0, device_id, info.server_ids);
	gw_inventory_device_clear(&info);
	return ok ? GW_DM_STATUS_OK : GW_DM_STATUS_COMMAND_FAILED;
}

static void
gw_southbound_generic_alert_cb(GwDmSession *session, gpointer alert_ptr, gpointer user_data)
{
	GwSbSession *s = user_data;
	const GwSyncmlCommand *alert = alert_ptr;

	for (guint i = 0; i < alert->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(alert->items, i);
		const gchar *type = item->meta.type != NULL ? item->meta.type : alert->meta.type;

		if (g_strcmp0(type, GW_GWMO_ALERT_DEVICE_REGISTRATION) != 0) {
			g_info("Generic Alert %s from device %s",
			       type != NULL ? type : "(no type)",
			       s->device_id);
			continue;
		}
		gw_dm_session_set_alert_status(
		    session, gw_southbound_explicit_register(s->self, s, item->data));
		return;
	}
}

/* ---- Proxy commands in sessions ---- */

static void
gw_southbound_session_take(GwSbSession *s, GwSbCommand *c)
{
	c->session = s;
	c->ref = gw_dm_session_queue_command(s->session, gw_syncml_command_copy(c->cmd));
	g_hash_table_insert(s->commands, GUINT_TO_POINTER(c->ref), c);
	g_debug("%s for device %s joins session %s",
	        gw_syncml_command_get_name(c->cmd),
	        s->device_id,
	        gw_dm_session_get_session_id(s->session));
}

static void
gw_southbound_result_cb(GwDmSession *session, gpointer result_ptr, gpointer user_data)
{
	GwSbSession *s = user_data;
	const GwDmSessionResult *result = result_ptr;
	GwSbCommand *c = g_hash_table_lookup(s->commands, GUINT_TO_POINTER(result->ref));
	GPtrArray *items;

	if (c == NULL)
		return; /* timed out or cancelled meanwhile */
	items = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_item_free);
	for (guint i = 0; result->results != NULL && i < result->results->len; i++)
		g_ptr_array_add(items, gw_syncml_item_copy(g_ptr_array_index(result->results, i)));
	g_info("device %s answered %s with %u",
	       s->device_id,
	       gw_syncml_command_get_name(c->cmd),
	       result->status);
	gw_southbound_complete(s->self, c, result->status, items);
}

static void
gw_southbound_nonce_cb(GwDmSession *session, gboolean local, GBytes *nonce, gpointer user_data)
{
	GwSbSession *s = user_data;
	GwSbNonces *n;
	GBytes **slot;

	/* only what passed between the gateway and a device that proved who it is: a challenge's
	 * nonce for a peer that has not authenticated stays in its session (its retry uses it),
	 * and a NextNonce from such a peer is not taken (anyone can name a DeviceID: neither may
	 * change what the real device digests with, or what its Package #0 is signed with) */
	if (!s->authenticated || !gw_dm_session_get_peer_authenticated(session)) {
		g_debug("%s nonce of device %s from %s not kept: the peer is not authenticated",
		        local ? "a" : "the challenge's",
		        s->device_id,
		        s->peer_addr);
		return;
	}
	n = gw_southbound_nonces(s->self, s->device_id);
	slot = local ? &n->local : &n->peer;
	g_clear_pointer(slot, g_bytes_unref);
	*slot = g_bytes_ref(nonce);
	/* written to the record when the session ends (gw_southbound_keep_nonces) */
	n->dirty = TRUE;
}

/* the nonces @device_id's session left go into its record, once per session (they rotate with
 * every message): a tree change the group commit at the session's end makes durable, so that
 * a restart does not cost the device a challenge and a round trip */
static gboolean
gw_southbound_keep_nonces(GwSouthbound *self, const gchar *device_id)
{
	GwSbNonces *n = g_hash_table_lookup(self->nonces, device_id);
	g_autoptr(GError) error = NULL;

	if (n == NULL || !n->dirty)
		return FALSE;
	n->dirty = FALSE;
	if ((n->peer != NULL &&
	     !gw_inventory_set_nonce(self->inventory, device_id, TRUE, n->peer, &error)) ||
	    (n->local != NULL &&
	     !gw_inventory_set_nonce(self->inventory, device_id, FALSE, n->local, &error)))
		g_warning("device %s: cannot keep its nonces: %s", device_id, error->message);
	return TRUE;
}

/* ---- sessions ---- */

static void
gw_sb_session_free(gpointer data)
{
	GwSbSession *s = data;
	if (s->session != NULL)
		g_signal_handlers_disconnect_by_data(s->session, s);
	g_clear_object(&s->session);
	g_hash_table_unref(s->commands);
	g_free(s->key);
	g_free(s->device_id);
	g_free(s->peer_addr);
	g_free(s->peer_group);
	g_free(s->pending_key);
	g_free(s);
}

static void
gw_sb_queue_free(gpointer data)
{
	GwSbQueue *q = data;
	/* the commands belong to self->commands */
	g_queue_clear(&q->commands);
	if (q->rewake_id != 0)
		g_source_remove(q->rewake_id);
	g_free(q->device_id);
	g_free(q);
}

static GwSbQueue *
gw_southbound_queue(GwSouthbound *self, const gchar *device_id, gboolean create)
{
	GwSbQueue *q = g_hash_table_lookup(self->queues, device_id);
	if (q == NULL && create) {
		q = g_new0(GwSbQueue, 1);
		q->self = self;
		q->device_id = g_strdup(device_id);
		g_queue_init(&q->commands);
		g_hash_table_insert(self->queues, q->device_id, q);
	}
	return q;
}

/* asks the device to come for what waits for it (@info: its contact), once per queue until a
 * session of it ends without taking it */
static void
gw_southbound_queue_wake(GwSouthbound *self, GwSbQueue *q, const GwInventoryDevice *info)
{
	if (q->woken)
		return;
	q->woken = TRUE;
	if (info->notify_addr != NULL && info->notify_addr[0] != '\0')
		gw_southbound_wake_device(self, info);
	else
		g_info("device %s has no NotifyAddr: %u command(s) wait for its next session",
		       q->device_id,
		       g_queue_get_length(&q->commands));
}

static gboolean
gw_southbound_rewake_cb(gpointer user_data)
{
	GwSbQueue *q = user_data;
	GwSouthbound *self = q->self;
	GwInventoryDevice info = {0};

	q->rewake_id = 0;
	if (!g_queue_is_empty(&q->commands) &&
	    gw_inventory_get_contact(self->inventory, q->device_id, &info)) {
		g_message("device %s: %u command(s) handed back by its last session, waking it "
		          "again",
		          q->device_id,
		          g_queue_get_length(&q->commands));
		gw_southbound_queue_wake(self, q, &info);
	}
	gw_inventory_device_clear(&info);
	return G_SOURCE_REMOVE;
}

/* a session of the device ended and commands still wait for it: the wake that brought it
 * (if any) is spent; another one goes out after a back-off that grows while its sessions keep
 * ending without them (@ok: this one finished normally) */
static void
gw_southbound_queue_rewake(GwSouthbound *self, GwSbQueue *q, gboolean ok)
{
	q->woken = FALSE;
	if (ok || q->backoff_s == 0)
		q->backoff_s = GW_SOUTHBOUND_REWAKE_MIN_S;
	else
		q->backoff_s = MIN(q->backoff_s * 2, (guint)GW_SOUTHBOUND_REWAKE_MAX_S);
	if (q->rewake_id != 0)
		g_source_remove(q->rewake_id);
	q->rewake_id = g_timeout_add_seconds(q->backoff_s, gw_southbound_rewake_cb, q);
}

static gint
gw_southbound_compare_ref(gconstpointer a, gconstpointer b)
{
	const GwSbCommand *ca = a;
	const GwSbCommand *cb = b;
	return ca->ref < cb->ref ? -1 : ca->ref > cb->ref ? 1 : 0;
}

/* takes @s out of the pending sessions (not freed) */
static void
gw_southbound_pending_forget(GwSouthbound *self, GwSbSession *s)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(self->pending_per_peer, s->peer_group));

	g_queue_delete_link(&self->pending_order, s->pending_link);
	s->pending_link = NULL;
	if (n <= 1)
		g_hash_table_remove(self->pending_per_peer, s->peer_group);
	else
		g_hash_table_insert(
		    self->pending_per_peer, g_strdup(s->peer_group), GUINT_TO_POINTER(n - 1));
	g_hash_table_steal(self->pending, s->pending_key);
	s->pending = FALSE;
}

/* the session ended (finished, failed, idle, superseded, dropped): commands without an answer
 * go back in front of the device queue, in order, for the device's next session (or their
 * timeout: 408), and the device is woken again for them; the session's state is gone at once */
static void
gw_southbound_session_end(GwSouthbound *self, GwSbSession *s, gboolean ok, const gchar *why)
{
	g_autofree gchar *device_id = g_strdup(s->device_id);
	GList *waiting = g_hash_table_get_values(s->commands);
	GwDmSessionStats stats = {0};
	GwSbQueue *q;

	waiting = g_list_sort(waiting, gw_southbound_compare_ref);
	if (waiting != NULL) {
		q = gw_southbound_queue(self, device_id, TRUE);
		for (GList *l = g_list_last(waiting); l != NULL; l = l->prev) {
			GwSbCommand *c = l->data;
			c->session = NULL;
			c->ref = 0;
			g_queue_push_head(&q->commands, c);
		}
	}
	g_list_free(waiting);
	/* whatever waits for the device now (handed back, or never taken: a session that failed
	 * before it authenticated) needs another wake; the back-off grows with every session
	 * that ends without it (anyone can end a pending one by naming the device) */
	q = gw_southbound_queue(self, device_id, FALSE);
	if (q != NULL && !g_queue_is_empty(&q->commands))
		gw_southbound_queue_rewake(self, q, ok);
	gw_southbound_keep_nonces(self, device_id);
	g_hash_table_remove_all(s->commands);
	gw_dm_session_get_stats(s->session, &stats);
	if (ok)
		g_message("session %s with device %s finished: %u message(s) in, %u out, "
		          "%u command(s) sent",
		          gw_dm_session_get_session_id(s->session),
		          device_id,
		          stats.messages_in,
		          stats.messages_out,
		          stats.commands_sent);
	else if (s->pending)
		/* anyone can get here by naming a DeviceID: rate-limited */
		gw_warning_ratelimited("unauthenticated session %s naming device %s from %s "
		                       "ended: %s",
		                       gw_dm_session_get_session_id(s->session),
		                       device_id,
		                       s->peer_addr,
		                       why);
	else
		g_warning("session %s with device %s from %s ended: %s",
		          gw_dm_session_get_session_id(s->session),
		          device_id,
		          s->peer_addr,
		          why);
	if (s->pending) {
		gw_southbound_pending_forget(self, s);
		gw_sb_session_free(s);
	} else {
		if (g_hash_table_lookup(self->by_device, device_id) == s)
			g_hash_table_remove(self->by_device, device_id);
		g_hash_table_remove(self->sessions, s->key);
	}
	gw_southbound_schedule_commit(self);
	g_signal_emit(self, signals[SIGNAL_SESSION_FINISHED], 0, device_id, ok);
}

/* the running session of @device_id that may take commands: authenticated (or open
 * registration), not over */
static GwSbSession *
gw_southbound_find_session(GwSouthbound *self, const gchar *device_id)
{
	GwSbSession *s = g_hash_table_lookup(self->by_device, device_id);
	GwDmSessionState state;

	if (s == NULL)
		return NULL;
	state = gw_dm_session_get_state(s->session);
	if (state == GW_DM_SESSION_STATE_NEW || state == GW_DM_SESSION_STATE_ACTIVE)
		return s;
	return NULL;
}

/* commands waiting for the device go out in @s (its peer is who it says it is) */
static void
gw_southbound_session_take_queue(GwSouthbound *self, GwSbSession *s)
{
	GwSbQueue *q = gw_southbound_queue(self, s->device_id, FALSE);

	while (q != NULL && !g_queue_is_empty(&q->commands))
		gw_southbound_session_take(s, g_queue_pop_head(&q->commands));
	if (q != NULL)
		g_hash_table_remove(self->queues, s->device_id);
}

/* @s becomes the device's session: a session with the same key, and (authenticated) any
 * older session of the device, which the device gave up when it started this one, end first
 * and give their commands back to the queue @s then takes */
static void
gw_southbound_session_install(GwSouthbound *self, GwSbSession *s)
{
	GwSbSession *old = g_hash_table_lookup(self->sessions, s->key);

	if (old != NULL)
		gw_southbound_session_end(self, old, FALSE, "the device started a new session");
	old = g_hash_table_lookup(self->by_device, s->device_id);
	if (old != NULL && s->authenticated)
		gw_southbound_session_end(self, old, FALSE, "the device started a new session");
	g_hash_table_insert(self->sessions, s->key, s);
	g_hash_table_insert(self->by_device, g_strdup(s->device_id), s);
	gw_southbound_session_take_queue(self, s);
}

/* "peer-authenticated": the device proved who it is; its session leaves the pending ones and
 * takes what waits for the device, in time for the reply to this very message */
static void
gw_southbound_peer_authenticated_cb(GwDmSession *session, gpointer user_data)
{
	GwSbSession *s = user_data;
	GwSouthbound *self = s->self;

	if (!s->pending)
		return;
	gw_southbound_pending_forget(self, s);
	g_message("session %s with device %s from %s: authenticated",
	          gw_dm_session_get_session_id(session),
	          s->device_id,
	          s->peer_addr);
	gw_southbound_session_install(self, s);
	g_signal_emit(self, signals[SIGNAL_DEVICE_AUTHENTICATED], 0, s->device_id);
}

/* room for one more pending session of @peer_group: the oldest of that peer goes when it has
 * its quota. FALSE when the table is full: a peer never makes room with another peer's (a
 * flood from many addresses would end every real device's session between its challenge and
 * its retry); the newcomer is told to come back instead */
static gboolean
gw_southbound_pending_make_room(GwSouthbound *self, const gchar *peer_group)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(self->pending_per_peer, peer_group));

	if (n >= GW_SOUTHBOUND_PENDING_PER_PEER) {
		for (GList *l = self->pending_order.head; l != NULL; l = l->next) {
			GwSbSession *old = l->data;
			if (g_strcmp0(old->peer_group, peer_group) == 0) {
				gw_southbound_session_end(self,
				                          old,
				                          FALSE,
				                          "not authenticated, dropped for a newer "
				                          "one from the same peer");
				break;
			}
		}
	}
	return g_hash_table_size(self->pending) < GW_SOUTHBOUND_PENDING_MAX;
}

/* a new session for @device_id, or NULL with the HTTP status to answer. With credentials it
 * waits among the pending sessions until the device authenticates; open registration (no
 * credentials to check) makes it the device's session at once. */
static GwSbSession *
gw_southbound_session_open(GwSouthbound *self,
                           const gchar *key,
                           const gchar *device_id,
                           const gchar *peer_addr,
                           const gchar *peer_group,
                           guint *http_status)
{
	GwInventoryDevice info = {0};
	gboolean known = gw_inventory_get_contact(self->inventory, device_id, &info);
	GwDmAuthType type = known && info.auth_type != NULL
	                        ? gw_dm_auth_type_from_string(info.auth_type)
	                        : GW_DM_AUTH_TYPE_NONE;
	gboolean has_creds = type != GW_DM_AUTH_TYPE_NONE && info.client_secret != NULL;
	g_autofree gchar *dev_id = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
	GwSbNonces *nonces;
	GwDmSessionConfig cfg;
	GwSbSession *s;

	if (!has_creds && !gw_config_get_bool(self->config, "southbound", "open-registration")) {
		if (known)
			gw_warning_ratelimited("POST /dm from %s refused (403): device %s has "
			                       "no credentials",
			                       peer_addr,
			                       device_id);
		else
			gw_warning_ratelimited("POST /dm from %s refused (403): unknown device "
			                       "%s",
			                       peer_addr,
			                       device_id);
		gw_inventory_device_clear(&info);
		*http_status = 403;
		return NULL;
	}
	if (has_creds) {
		g_autofree gchar *pending_key = g_strdup_printf("%s\n%s", peer_addr, key);
		GwSbSession *old = g_hash_table_lookup(self->pending, pending_key);
		/* its own earlier attempt with this key (never another address's) */
		if (old != NULL)
			gw_southbound_session_end(
			    self, old, FALSE, "a new session with the same SessionID");
		if (!gw_southbound_pending_make_room(self, peer_group)) {
			gw_warning_ratelimited("POST /dm from %s refused (503): %u sessions wait "
			                       "for their credentials",
			                       peer_addr,
			                       g_hash_table_size(self->pending));
			gw_inventory_device_clear(&info);
			*http_status = 503;
			return NULL;
		}
	}
	nonces = gw_southbound_nonces(self, device_id);
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = GW_DM_SESSION_ROLE_SERVER;
	cfg.local_uri = g_strdup(dev_id);
	if (has_creds) {
		if (info.server_secret != NULL) {
			cfg.local.type = type;
			cfg.local.name = g_strdup(dev_id != NULL ? dev_id : "gwmod");
			cfg.local.secret = g_strdup(info.server_secret);
			cfg.local.nonce = nonces->local != NULL ? g_bytes_ref(nonces->local) : NULL;
		}
		cfg.peer.type = type;
		cfg.peer.name = g_strdup(info.client_name != NULL ? info.client_name : device_id);
		cfg.peer.secret = g_strdup(info.client_secret);
		cfg.peer.nonce = nonces->peer != NULL ? g_bytes_ref(nonces->peer) : NULL;
	}
	s = g_new0(GwSbSession, 1);
	s->self = self;
	s->key = g_strdup(key);
	s->device_id = g_strdup(device_id);
	s->peer_addr = g_strdup(peer_addr);
	s->peer_group = g_strdup(peer_group);
	s->authenticated = has_creds;
	s->last_activity = g_get_monotonic_time();
	s->commands = g_hash_table_new(g_direct_hash, g_direct_equal);
	s->session = gw_dm_session_new(&cfg, NULL);
	gw_dm_session_config_clear(&cfg);
	g_signal_connect(s->session, "nonce-changed", G_CALLBACK(gw_southbound_nonce_cb), s);
	g_signal_connect(
	    s->session, "peer-authenticated", G_CALLBACK(gw_southbound_peer_authenticated_cb), s);
	g_signal_connect(
	    s->session, "generic-alert", G_CALLBACK(gw_southbound_generic_alert_cb), s);
	g_signal_connect(s->session, "result", G_CALLBACK(gw_southbound_result_cb), s);

	if (has_creds) {
		s->pending = TRUE;
		s->pending_key = g_strdup_printf("%s\n%s", peer_addr, key);
		g_hash_table_insert(self->pending, s->pending_key, s);
		g_queue_push_tail(&self->pending_order, s);
		s->pending_link = g_queue_peek_tail_link(&self->pending_order);
		g_hash_table_insert(self->pending_per_peer,
		                    g_strdup(peer_group),
		                    GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(
		                                         self->pending_per_peer, peer_group)) +
		                                     1));
		/* logged once the device authenticates (a flood of these is not) */
		g_debug("session with device %s from %s started (%s, not authenticated yet)",
		        device_id,
		        peer_addr,
		        info.auth_type);
	} else {
		g_message("session with device %s from %s started (open registration, no "
		          "authentication)",
		          device_id,
		          peer_addr);
		gw_southbound_session_install(self, s);
	}
	gw_inventory_device_clear(&info);
	return s;
}

/* the session a message from @peer belongs to: one of that address waiting for its
 * credentials first (its retry after a challenge), then the running one. A session that has
 * not authenticated is never found from another address: it cannot shadow the real device's
 * session, and a message from elsewhere cannot end it */
static GwSbSession *
gw_southbound_lookup(GwSouthbound *self, const gchar *key, const gchar *peer)
{
	g_autofree gchar *pending_key = g_strdup_printf("%s\n%s", peer, key);
	GwSbSession *s = g_hash_table_lookup(self->pending, pending_key);
	return s != NULL ? s : g_hash_table_lookup(self->sessions, key);
}

/* MsgID 1 with Alert 1200/1201: a device starting a session. Real clients hard-code SessionID
 * 1, so this is a new session even when SessionID and Source are those of an open one. */
static gboolean
gw_southbound_is_session_start(const GwSyncmlMessage *msg)
{
	if (msg->hdr.msg_id != 1)
		return FALSE;
	for (guint i = 0; i < msg->commands->len; i++) {
		const GwSyncmlCommand *cmd = g_ptr_array_index(msg->commands, i);
		if (cmd->type == GW_SYNCML_CMD_ALERT &&
		    (cmd->alert_code == GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT ||
		     cmd->alert_code == GW_SYNCML_ALERT_SERVER_INITIATED_MGMT))
			return TRUE;
	}
	return FALSE;
}

/* the text between @open and the next @close after @from, stripped; NULL when absent or when
 * it holds markup or entities (a value the parser would have decoded) */
static gchar *
gw_southbound_scan_element(const gchar *from, const gchar *open, const gchar *close)
{
	const gchar *start = strstr(from, open);
	const gchar *end;
	g_autofree gchar *value = NULL;

	if (start == NULL)
		return NULL;
	start += strlen(open);
	end = strstr(start, close);
	if (end == NULL)
		return NULL;
	value = g_strstrip(g_strndup(start, (gsize)(end - start)));
	if (value[0] == '\0' || strpbrk(value, "<>&") != NULL)
		return NULL;
	return g_steal_pointer(&value);
}

/* the key of the session a message that does not parse (or was refused before it was read
 * whole) was meant for, read from its first bytes without a parser: a truncated or broken
 * message usually keeps its SyncHdr, in XML or in WBXML tokens. NULL when there is none to be
 * found (garbage). */
static gchar *
gw_southbound_scan_key(GBytes *body, const gchar *content_type)
{
	gsize len = 0;
	const gchar *data = body != NULL ? g_bytes_get_data(body, &len) : NULL;
	g_autofree gchar *head = NULL;
	const gchar *hdr;
	const gchar *source;
	g_autofree gchar *session_id = NULL;
	g_autofree gchar *device_id = NULL;

	if (len == 0)
		return NULL;
	if (gw_wbxml_message_is_wbxml(content_type, (const guint8 *)data, len)) {
		if (!gw_wbxml_peek_session((const guint8 *)data,
		                           MIN(len, GW_SOUTHBOUND_SCAN_LEN),
		                           &session_id,
		                           &device_id))
			return NULL;
		return g_strdup_printf("%s\n%s", session_id, device_id);
	}
	head = g_strndup(data, MIN(len, GW_SOUTHBOUND_SCAN_LEN));
	hdr = strstr(head, "<SyncHdr");
	if (hdr == NULL)
		return NULL;
	session_id = gw_southbound_scan_element(hdr, "<SessionID>", "</SessionID>");
	source = strstr(hdr, "<Source>");
	if (session_id == NULL || source == NULL)
		return NULL;
	device_id = gw_southbound_scan_element(source, "<LocURI>", "</LocURI>");
	if (device_id == NULL)
		return NULL;
	return g_strdup_printf("%s\n%s", session_id, device_id);
}

/* the message decoded (SessionID and Source LocURI find the session; the session takes the
 * message as it is, without parsing it again); @wbxml: how it was encoded */
static GwSyncmlMessage *
gw_southbound_peek(GBytes *body, const gchar *content_type, gboolean *wbxml_out, GError **error)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);
	gboolean wbxml;

	if (len == 0) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_PROTOCOL, "empty message");
		return NULL;
	}
	wbxml = gw_wbxml_message_is_wbxml(content_type, data, len);
	*wbxml_out = wbxml;
	if (wbxml) {
		gsize xml_len = 0;
		g_autofree gchar *xml = gw_wbxml_to_xml(data, len, &xml_len, error);
		if (xml == NULL)
			return NULL;
		return gw_syncml_message_parse_xml((const guint8 *)xml, xml_len, error);
	}
	return gw_syncml_message_parse_xml(data, len, error);
}

/* ---- big messages are decoded in a worker thread ---- */

typedef struct _GwSbParsed {
	GWeakRef self;
	GwHttpRequest *request;
	GwSyncmlMessage *msg;
	gboolean wbxml;
	GError *error;
} GwSbParsed;

static void
gw_sb_parsed_free(GwSbParsed *p)
{
	g_weak_ref_clear(&p->self);
	gw_http_request_unref(p->request);
	g_clear_pointer(&p->msg, gw_syncml_message_free);
	g_clear_error(&p->error);
	g_free(p);
}

static void
gw_southbound_dm_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data);

/* back in the main loop: the handler runs again, and takes the decoded message */
static void
gw_southbound_parsed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwSbParsed *p = user_data;
	g_autoptr(GwSouthbound) self = g_weak_ref_get(&p->self);

	p->msg = gw_syncml_message_decode_finish(res, &p->wbxml, &p->error);
	/* a listener that went away meanwhile answers nothing */
	if (self != NULL && self->server != NULL) {
		self->parsed = p;
		gw_southbound_dm_handler(self->server, p->request, self);
		self->parsed = NULL;
	}
	gw_sb_parsed_free(p);
}

/* the main loop answers D-Bus and other devices while a big message is parsed (one 4 MiB
 * message within the bounds of gw-xml-bounds.h takes up to 0.25 s) */
static void
gw_southbound_parse_async(GwSouthbound *self,
                          GwHttpRequest *request,
                          GBytes *body,
                          const gchar *content_type)
{
	GwSbParsed *p = g_new0(GwSbParsed, 1);

	g_weak_ref_init(&p->self, self);
	p->request = gw_http_request_ref(request);
	gw_syncml_message_decode_async(body, content_type, NULL, gw_southbound_parsed_cb, p);
}

/* HTTP 400 for a message that does not parse; the session it was meant for (when its SyncHdr
 * can be read and it came from that session's address) ends at once */
static void
gw_southbound_refuse_malformed(GwSouthbound *self,
                               GwHttpRequest *request,
                               GBytes *body,
                               const gchar *peer,
                               const GError *error)
{
	g_autofree gchar *key =
	    gw_southbound_scan_key(body, gw_http_request_get_content_type(request));
	GwSbSession *s = key != NULL ? gw_southbound_lookup(self, key, peer) : NULL;

	gw_warning_ratelimited(
	    "POST /dm from %s refused (400): malformed DM message: %s", peer, error->message);
	gw_southbound_respond_text(request, 400, "malformed DM message\n");
	if (s != NULL && g_strcmp0(s->peer_addr, peer) == 0) {
		g_autofree gchar *why =
		    g_strdup_printf("malformed message (HTTP 400): %s", error->message);
		gw_southbound_session_end(self, s, FALSE, why);
	}
}

/* the HTTP layer refused a request before it reached the handler (413 or 503 while its body
 * was read, its body deadline): the session it belonged to ends at once, as for a malformed
 * message, when its first bytes name it and it came from that session's address. A request
 * refused before any of its body arrived (a declared length over the limit) or by the header
 * deadline names no session: that one ends at session-timeout, or when the device starts a new
 * one. */
static void
gw_southbound_refused_cb(GwHttpServer *server, const GwHttpRefusal *refusal, gpointer user_data)
{
	GwSouthbound *self = GW_SOUTHBOUND(user_data);
	g_autofree gchar *key = NULL;
	g_autofree gchar *why = NULL;
	GwSbSession *s;

	if (g_strcmp0(refusal->path, GW_GWMO_HTTP_DM) != 0)
		return;
	key = gw_southbound_scan_key(refusal->body_start, refusal->content_type);
	s = key != NULL ? gw_southbound_lookup(self, key, refusal->peer) : NULL;
	if (s == NULL || g_strcmp0(s->peer_addr, refusal->peer) != 0)
		return;
	if (refusal->status != 0)
		why = g_strdup_printf("a message refused before it was read (HTTP %u: %s)",
		                      refusal->status,
		                      refusal->reason);
	else
		why = g_strdup_printf("a message not read whole (%s)", refusal->reason);
	gw_southbound_session_end(self, s, FALSE, why);
}

static void
gw_southbound_dm_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwSouthbound *self = GW_SOUTHBOUND(user_data);
	GBytes *body = gw_http_request_get_body(request);
	const gchar *content_type = gw_http_request_get_content_type(request);
	const gchar *peer = gw_http_request_get_remote_host(request);
	const gchar *method = gw_http_request_get_method(request);
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autofree gchar *key = NULL;
	g_autofree gchar *hmac = NULL;
	GwDmSessionState state;
	GwSbSession *s = NULL;
	guint registrations = self->registrations;
	gboolean wbxml = FALSE;

	if (peer == NULL)
		peer = "(unknown)";
	if (g_strcmp0(method, "POST") != 0) {
		gw_warning_ratelimited("%s /dm from %s refused (405): only POST",
		                       method != NULL ? method : "(no method)",
		                       peer);
		gw_southbound_respond_text(request, 405, "POST a SyncML DM message here\n");
		return;
	}
	if (content_type != NULL && g_strcmp0(content_type, GW_SYNCML_DM_XML_TYPE) != 0 &&
	    !gw_wbxml_is_wbxml_content_type(content_type)) {
		gw_warning_ratelimited("POST /dm from %s refused (415): Content-Type %s, not "
		                       "SyncML DM XML or WBXML",
		                       peer,
		                       g_utf8_validate(content_type, -1, NULL) ? content_type
		                                                               : "(not UTF-8)");
		gw_southbound_respond_text(request, 415, "expected " GW_SYNCML_DM_XML_TYPE "\n");
		return;
	}
	if (self->parsed != NULL && self->parsed->request == request) {
		/* back from the worker thread */
		msg = g_steal_pointer(&self->parsed->msg);
		wbxml = self->parsed->wbxml;
		error = g_steal_pointer(&self->parsed->error);
	} else if (gw_syncml_message_decode_is_slow(body, content_type)) {
		/* a big message is decoded in a worker thread; this handler runs again with it */
		gw_southbound_parse_async(self, request, body, content_type);
		return;
	} else {
		msg = gw_southbound_peek(body, content_type, &wbxml, &error);
	}
	if (msg == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY)) {
		/* too much waits for the decoders: the device comes back, its session goes on */
		gw_warning_ratelimited("POST /dm from %s refused (503): %s", peer, error->message);
		gw_http_request_set_header(request, "Retry-After", "1");
		gw_southbound_respond_text(request, 503, "the gateway is busy\n");
		return;
	}
	if (msg == NULL) {
		gw_southbound_refuse_malformed(self, request, body, peer, error);
		return;
	}
	if (msg->hdr.source_uri[0] == '\0') {
		gw_warning_ratelimited("POST /dm from %s refused (400): no Source LocURI", peer);
		gw_southbound_respond_text(request, 400, "no Source LocURI\n");
		return;
	}
	key = g_strdup_printf("%s\n%s", msg->hdr.session_id, msg->hdr.source_uri);
	s = gw_southbound_lookup(self, key, peer);
	/* a session start is a new session, unless it is the retry of a Package #1 that got a
	 * challenge (some clients send it with MsgID 1 again): that one goes on in the pending
	 * session, which holds the challenge's nonce */
	if (s != NULL && gw_southbound_is_session_start(msg) &&
	    !(s->pending && g_strcmp0(s->peer_addr, peer) == 0))
		s = NULL;
	if (s != NULL && g_strcmp0(s->peer_addr, peer) != 0) {
		/* a session belongs to the address it started from */
		gw_warning_ratelimited("POST /dm from %s refused (403): session %s of device "
		                       "%s runs with %s",
		                       peer,
		                       msg->hdr.session_id,
		                       msg->hdr.source_uri,
		                       s->peer_addr);
		gw_southbound_respond_text(request, 403, "session of another peer\n");
		return;
	}
	if (s == NULL) {
		guint status = 0;
		gint64 max = gw_config_get_int(self->config, "southbound", "max-sessions");
		if (max > 0 && g_hash_table_size(self->sessions) >= (guint64)max) {
			/* a flood: new sessions wait, the running ones go on */
			gw_warning_ratelimited("POST /dm from %s refused (503): %u device "
			                       "sessions running ([southbound] max-sessions)",
			                       peer,
			                       g_hash_table_size(self->sessions));
			gw_http_request_set_header(request, "Retry-After", "1");
			gw_southbound_respond_text(request, 503, "too many device sessions\n");
			return;
		}
		s = gw_southbound_session_open(self,
		                               key,
		                               msg->hdr.source_uri,
		                               peer,
		                               gw_http_request_get_peer_group(request),
		                               &status);
		if (s == NULL && status == 503) {
			gw_http_request_set_header(request, "Retry-After", "1");
			gw_southbound_respond_text(request, status, "too many device sessions\n");
			return;
		}
		if (s == NULL) {
			gw_southbound_respond_text(request, status, "unknown device\n");
			return;
		}
	}
	s->last_activity = g_get_monotonic_time();
	reply = gw_dm_session_receive_parsed(
	    s->session,
	    g_steal_pointer(&msg),
	    body,
	    wbxml,
	    gw_http_request_get_header(request, GW_DM_AUTH_HMAC_HEADER),
	    &error);
	if (reply == NULL) {
		g_autofree gchar *why =
		    g_strdup_printf("HTTP 400: %s", error != NULL ? error->message : "no reply");
		gw_southbound_respond_text(request, 400, "DM session failed\n");
		gw_southbound_session_end(self, s, FALSE, why);
		return;
	}
	if (s->pending)
		gw_warning_ratelimited("credentials of device %s from %s refused (session %s); "
		                       "%u unauthenticated session(s) kept",
		                       s->device_id,
		                       s->peer_addr,
		                       gw_dm_session_get_session_id(s->session),
		                       g_hash_table_size(self->pending));
	if (!s->registered && gw_dm_session_get_peer_authenticated(s->session))
		gw_southbound_implicit_register(self, s);
	hmac = gw_dm_session_get_hmac_header(s->session, reply);
	if (hmac != NULL)
		gw_http_request_set_header(request, GW_DM_AUTH_HMAC_HEADER, hmac);
	state = gw_dm_session_get_state(s->session);
	/* the session's last reply closes its connection: a device's next session is minutes or
	 * hours away, and every idle keep-alive connection is one more pollfd that each turn of
	 * the main loop scans (1,000 devices done made each turn cost O(devices)) */
	if (state == GW_DM_SESSION_STATE_FINISHED || state == GW_DM_SESSION_STATE_FAILED)
		gw_http_request_set_header(request, "Connection", "close");
	if (self->registrations != registrations && self->store != NULL) {
		/* this message registered the device: answered once that is stored */
		GwSbHeld *h = g_new0(GwSbHeld, 1);
		h->request = gw_http_request_ref(request);
		h->content_type = g_strdup(gw_dm_session_get_content_type(s->session));
		h->body = g_bytes_ref(reply);
		g_ptr_array_add(self->held, h);
		gw_southbound_schedule_commit(self);
	} else {
		gw_http_request_respond(
		    request, 200, gw_dm_session_get_content_type(s->session), reply);
	}
	if (state == GW_DM_SESSION_STATE_FINISHED) {
		gw_southbound_session_end(self, s, TRUE, NULL);
	} else if (state == GW_DM_SESSION_STATE_FAILED) {
		const GError *e = gw_dm_session_get_error(s->session);
		g_autofree gchar *why = g_strdup(e != NULL ? e->message : "failed");
		gw_southbound_session_end(self, s, FALSE, why);
	}
}

/* the keys of the sessions of @table idle for @timeout_s or more */
static void
gw_southbound_collect_idle(GHashTable *table, gint64 timeout_s, gint64 now, GPtrArray *keys)
{
	GHashTableIter iter;
	gpointer key;
	gpointer value;

	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		GwSbSession *s = value;
		if (now - s->last_activity >= timeout_s * G_USEC_PER_SEC)
			g_ptr_array_add(keys, g_strdup(key));
	}
}

static gboolean
gw_southbound_sweep_cb(gpointer user_data)
{
	GwSouthbound *self = GW_SOUTHBOUND(user_data);
	gint64 timeout = gw_config_get_int(self->config, "southbound", "session-timeout");
	gint64 now = g_get_monotonic_time();
	g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) idle_pending = g_ptr_array_new_with_free_func(g_free);

	gw_southbound_collect_idle(self->sessions, timeout, now, idle);
	gw_southbound_collect_idle(
	    self->pending, MIN(timeout, GW_SOUTHBOUND_PENDING_TIMEOUT_S), now, idle_pending);
	for (guint i = 0; i < idle->len; i++) {
		GwSbSession *s = g_hash_table_lookup(self->sessions, g_ptr_array_index(idle, i));
		if (s != NULL)
			gw_southbound_session_end(self, s, FALSE, "idle, dropped");
	}
	for (guint i = 0; i < idle_pending->len; i++) {
		GwSbSession *s =
		    g_hash_table_lookup(self->pending, g_ptr_array_index(idle_pending, i));
		if (s != NULL)
			gw_southbound_session_end(
			    self, s, FALSE, "not authenticated, idle, dropped");
	}
	/* at most one line a second, when the counts moved */
	if (g_hash_table_size(self->sessions) != self->logged_sessions ||
	    g_hash_table_size(self->pending) != self->logged_pending) {
		self->logged_sessions = g_hash_table_size(self->sessions);
		self->logged_pending = g_hash_table_size(self->pending);
		g_info("device sessions: %u running, %u waiting for credentials",
		       self->logged_sessions,
		       self->logged_pending);
	}
	return G_SOURCE_CONTINUE;
}

guint
gw_southbound_get_session_count(GwSouthbound *self)
{
	g_return_val_if_fail(GW_IS_SOUTHBOUND(self), 0);
	return g_hash_table_size(self->sessions) + g_hash_table_size(self->pending);
}

guint
gw_southbound_get_pending_count(GwSouthbound *self)
{
	g_return_val_if_fail(GW_IS_SOUTHBOUND(self), 0);
	return g_hash_table_size(self->pending);
}

/* ---- the Proxy command API ---- */

typedef struct {
	GTask *task;
	GwSbOutcome *outcome;
} GwSbReturn;

static gboolean
gw_southbound_return_idle_cb(gpointer user_data)
{
	GwSbReturn *r = user_data;
	g_task_return_pointer(r->task, r->outcome, gw_sb_outcome_free);
	g_object_unref(r->task);
	g_free(r);
	return G_SOURCE_REMOVE;
}

static void
gw_sb_command_free(gpointer data)
{
	GwSbCommand *c = data;
	if (c->timeout_id != 0)
		g_source_remove(c->timeout_id);
	if (c->cancellable != NULL && c->cancel_id != 0)
		g_cancellable_disconnect(c->cancellable, c->cancel_id);
	g_clear_object(&c->cancellable);
	if (c->task != NULL) {
		g_task_return_new_error(
		    c->task, GW_ERROR, GW_ERROR_WRONG_STATE, "the southbound endpoint stopped");
		g_clear_object(&c->task);
	}
	g_clear_pointer(&c->cmd, gw_syncml_command_free);
	g_free(c->device_id);
	g_free(c);
}

/* detaches @c from its session or queue and completes it (from an idle: callers may be in
 * the middle of a session's receive) */
static void
gw_southbound_complete(GwSouthbound *self, GwSbCommand *c, guint status, GPtrArray *results)
{
	GwSbReturn *r = g_new0(GwSbReturn, 1);

	if (c->session != NULL) {
		g_hash_table_remove(c->session->commands, GUINT_TO_POINTER(c->ref));
	} else {
		GwSbQueue *q = gw_southbound_queue(self, c->device_id, FALSE);
		if (q != NULL) {
			g_queue_remove(&q->commands, c);
			if (g_queue_is_empty(&q->commands))
				g_hash_table_remove(self->queues, c->device_id);
		}
	}
	r->task = g_steal_pointer(&c->task);
	r->outcome = g_new0(GwSbOutcome, 1);
	r->outcome->status = status;
	r->outcome->results =
	    results != NULL ? results
	                    : g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_item_free);
	g_hash_table_remove(self->commands, GUINT_TO_POINTER(c->id));
	g_idle_add(gw_southbound_return_idle_cb, r);
}

static gboolean
gw_southbound_command_timeout_cb(gpointer user_data)
{
	GwSbCommand *c = user_data;

	c->timeout_id = 0;
	g_info("%s for device %s: no answer in time (%s)",
	       gw_syncml_command_get_name(c->cmd),
	       c->device_id,
	       c->session != NULL ? "sent or in a session" : "withdrawn");
	gw_southbound_complete(c->self, c, GW_DM_STATUS_REQUEST_TIMEOUT, NULL);
	return G_SOURCE_REMOVE;
}

typedef struct {
	GwSouthbound *self;
	guint id;
} GwSbCancel;

static gboolean
gw_southbound_cancel_idle_cb(gpointer user_data)
{
	GwSbCancel *cancel = user_data;
	GwSbCommand *c = g_hash_table_lookup(cancel->self->commands, GUINT_TO_POINTER(cancel->id));
	if (c != NULL)
		gw_southbound_complete(cancel->self, c, 0, NULL);
	return G_SOURCE_REMOVE;
}

static void
gw_sb_cancel_free(gpointer data)
{
	GwSbCancel *cancel = data;
	g_object_unref(cancel->self);
	g_free(cancel);
}

static void
gw_southbound_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	GwSbCancel *cancel = user_data;
	GwSbCancel *copy = g_new0(GwSbCancel, 1);
	copy->self = g_object_ref(cancel->self);
	copy->id = cancel->id;
	g_idle_add_full(G_PRIORITY_DEFAULT, gw_southbound_cancel_idle_cb, copy, gw_sb_cancel_free);
}

/* whether @cmd (or a command inside it) is a Replace, Delete or Copy of a node below ./DMAcc:
 * a change of an account the device holds */
static gboolean
gw_southbound_changes_dmacc(const GwSyncmlCommand *cmd)
{
	if (cmd->children != NULL) {
		for (guint i = 0; i < cmd->children->len; i++) {
			if (gw_southbound_changes_dmacc(g_ptr_array_index(cmd->children, i)))
				return TRUE;
		}
		return FALSE;
	}
	if (cmd->type != GW_SYNCML_CMD_REPLACE && cmd->type != GW_SYNCML_CMD_DELETE &&
	    cmd->type != GW_SYNCML_CMD_COPY)
		return FALSE;
	for (guint i = 0; i < cmd->items->len; i++) {
		const GwSyncmlItem *item = g_ptr_array_index(cmd->items, i);
		g_autofree gchar *path = NULL;
		g_autofree gchar *query = NULL;
		g_autofree gchar *uri = NULL;
		if (item->target_uri == NULL)
			continue;
		gw_dm_uri_split_query(item->target_uri, &path, &query);
		uri = gw_dm_uri_normalize(path, NULL, NULL, NULL);
		if (uri == NULL || gw_dm_uri_is_below(uri, "./DMAcc"))
			return TRUE; /* a target that does not even parse is not let through */
	}
	return FALSE;
}

static gboolean
gw_southbound_device_trusted(GwSouthbound *self, const gchar *device_id)
{
	GwInventoryDevice info = {0};
	gboolean trusted =
	    gw_inventory_get_device(self->inventory, device_id, &info) && info.trusted;
	gw_inventory_device_clear(&info);
	return trusted;
}

void
gw_southbound_send_command_async(GwSouthbound *self,
                                 const gchar *device_id,
                                 GwSyncmlCommand *cmd,
                                 guint timeout_s,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	GwInventoryDevice info = {0};
	GwSbCommand *c;
	GwSbSession *s;
	GwSbQueue *q;

	g_return_if_fail(GW_IS_SOUTHBOUND(self));
	g_return_if_fail(device_id != NULL);
	g_return_if_fail(cmd != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, gw_southbound_send_command_async);
	if (!gw_inventory_get_contact(self->inventory, device_id, &info)) {
		GwSbOutcome *o = g_new0(GwSbOutcome, 1);
		o->status = GW_DM_STATUS_NOT_FOUND;
		o->results = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_item_free);
		g_info("%s for unknown device %s: 404", gw_syncml_command_get_name(cmd), device_id);
		gw_syncml_command_free(cmd);
		g_task_return_pointer(task, o, gw_sb_outcome_free);
		return;
	}
	if (gw_southbound_changes_dmacc(cmd) && !gw_southbound_device_trusted(self, device_id)) {
		/* seed 004 §8.x.2: a non-trusted Gateway Bootstrap never changes a pre-existing
		 * DMAcc of the device (Add of a new account stays allowed) */
		GwSbOutcome *o = g_new0(GwSbOutcome, 1);
		o->status = GW_DM_STATUS_FORBIDDEN;
		o->results = g_ptr_array_new_with_free_func((GDestroyNotify)gw_syncml_item_free);
		gw_warning_ratelimited("%s below ./DMAcc for device %s refused (403): its "
		                       "Gateway Bootstrap is not trusted",
		                       gw_syncml_command_get_name(cmd),
		                       device_id);
		gw_syncml_command_free(cmd);
		gw_inventory_device_clear(&info);
		g_task_return_pointer(task, o, gw_sb_outcome_free);
		return;
	}
	c = g_new0(GwSbCommand, 1);
	c->self = self;
	c->id = ++self->next_command_id;
	c->device_id = g_strdup(device_id);
	c->cmd = cmd;
	c->task = g_steal_pointer(&task);
	g_hash_table_insert(self->commands, GUINT_TO_POINTER(c->id), c);
	c->timeout_id =
	    g_timeout_add_seconds(timeout_s > 0 ? timeout_s : GW_SOUTHBOUND_DEFAULT_CMD_TIMEOUT,
	                          gw_southbound_command_timeout_cb,
	                          c);
	if (cancellable != NULL) {
		GwSbCancel *cancel = g_new0(GwSbCancel, 1);
		cancel->self = g_object_ref(self);
		cancel->id = c->id;
		c->cancellable = g_object_ref(cancellable);
		c->cancel_id = g_cancellable_connect(
		    cancellable, G_CALLBACK(gw_southbound_cancelled_cb), cancel, gw_sb_cancel_free);
	}

	s = gw_southbound_find_session(self, device_id);
	if (s != NULL) {
		gw_southbound_session_take(s, c);
	} else {
		q = gw_southbound_queue(self, device_id, TRUE);
		g_queue_push_tail(&q->commands, c);
		/* one wake for what waits, however much more joins it; a session that ends
		 * without it makes it due again (gw_southbound_session_end) */
		if (q->rewake_id == 0)
			gw_southbound_queue_wake(self, q, &info);
	}
	gw_inventory_device_clear(&info);
}

gboolean
gw_southbound_send_command_finish(GwSouthbound *self,
                                  GAsyncResult *res,
                                  guint *status,
                                  GPtrArray **results,
                                  GError **error)
{
	GwSbOutcome *o;

	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	o = g_task_propagate_pointer(G_TASK(res), error);
	if (o == NULL)
		return FALSE;
	if (status != NULL)
		*status = o->status;
	if (results != NULL)
		*results = g_steal_pointer(&o->results);
	gw_sb_outcome_free(o);
	return TRUE;
}

/* ---- set-up ---- */

gboolean
gw_southbound_start(GwSouthbound *self, GError **error)
{
	g_autofree gchar *dev_id = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");

	g_return_val_if_fail(GW_IS_SOUTHBOUND(self), FALSE);
	g_return_val_if_fail(self->server == NULL, FALSE);

	self->server = gw_config_open_listener(
	    self->config, "southbound", self->state_dir, dev_id != NULL ? dev_id : "gwmod", error);
	if (self->server == NULL)
		return FALSE;
	gw_http_server_add_handler(
	    self->server, GW_GWMO_HTTP_DM, gw_southbound_dm_handler, self, NULL);
	gw_http_server_set_refused_handler(self->server, gw_southbound_refused_cb, self, NULL);
	{
		g_auto(GStrv) real = gw_http_server_get_uris(self->server);
		for (guint i = 0; real[i] != NULL; i++) {
			g_message("southbound listener on %s (POST %s)", real[i], GW_GWMO_HTTP_DM);
			/* DM-SECONF-001: HTTPS is the default; clear text only when configured */
			if (g_str_has_prefix(real[i], "http:"))
				g_warning(
				    "southbound listener %s is plain HTTP as configured: device "
				    "sessions cross the network in clear and images are served "
				    "by signed URL only (no HTTP Basic); use https:// outside a "
				    "test bench",
				    real[i]);
		}
	}
	self->sweep_id = g_timeout_add_seconds(1, gw_southbound_sweep_cb, self);
	return TRUE;
}

GwHttpServer *
gw_southbound_get_http_server(GwSouthbound *self)
{
	g_return_val_if_fail(GW_IS_SOUTHBOUND(self), NULL);
	return self->server;
}

gchar **
gw_southbound_get_listen_uris(GwSouthbound *self)
{
	g_return_val_if_fail(GW_IS_SOUTHBOUND(self), NULL);
	if (self->server == NULL)
		return g_new0(gchar *, 1);
	return gw_http_server_get_uris(self->server);
}

static void
gw_southbound_dispose(GObject *object)
{
	GwSouthbound *self = GW_SOUTHBOUND(object);
	if (self->sweep_id != 0) {
		g_source_remove(self->sweep_id);
		self->sweep_id = 0;
	}
	{
		/* the nonces of sessions still running go into their records too */
		GHashTableIter iter;
		gpointer device_id;
		gboolean kept = FALSE;
		g_hash_table_iter_init(&iter, self->nonces);
		while (g_hash_table_iter_next(&iter, &device_id, NULL))
			kept |= gw_southbound_keep_nonces(self, device_id);
		if (kept && self->commit_id == 0)
			gw_southbound_schedule_commit(self);
	}
	if (self->commit_id != 0) {
		/* what was registered is stored and acknowledged before the listener goes */
		g_source_remove(self->commit_id);
		self->commit_id = 0;
		gw_southbound_commit(self);
	}
	if (self->server != NULL)
		gw_http_server_disconnect(self->server);
	g_clear_object(&self->server);
	/* commands hold a reference through their task: none is left here unless the object is
	 * disposed explicitly; they fail in gw_sb_command_free() */
	g_hash_table_remove_all(self->by_device);
	g_queue_clear(&self->pending_order);
	g_hash_table_remove_all(self->pending_per_peer);
	g_hash_table_remove_all(self->pending);
	g_hash_table_remove_all(self->sessions);
	g_hash_table_remove_all(self->queues);
	g_hash_table_remove_all(self->commands);
	G_OBJECT_CLASS(gw_southbound_parent_class)->dispose(object);
}

static void
gw_southbound_finalize(GObject *object)
{
	GwSouthbound *self = GW_SOUTHBOUND(object);
	g_hash_table_unref(self->sessions);
	g_hash_table_unref(self->by_device);
	g_hash_table_unref(self->pending);
	g_hash_table_unref(self->pending_per_peer);
	g_hash_table_unref(self->queues);
	g_hash_table_unref(self->nonces);
	g_hash_table_unref(self->commands);
	g_ptr_array_unref(self->held);
	g_clear_object(&self->notifier);
	g_clear_object(&self->inventory);
	g_clear_object(&self->store);
	g_clear_object(&self->tree);
	g_clear_object(&self->config);
	g_free(self->state_dir);
	G_OBJECT_CLASS(gw_southbound_parent_class)->finalize(object);
}

static void
gw_southbound_class_init(GwSouthboundClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_southbound_dispose;
	object_class->finalize = gw_southbound_finalize;
	signals[SIGNAL_SESSION_FINISHED] = g_signal_new("session-finished",
	                                                G_TYPE_FROM_CLASS(klass),
	                                                G_SIGNAL_RUN_LAST,
	                                                0,
	                                                NULL,
	                                                NULL,
	                                                NULL,
	                                                G_TYPE_NONE,
	                                                2,
	                                                G_TYPE_STRING,
	                                                G_TYPE_BOOLEAN);
	/* (seed 001) a registration alert listed the device's ServerIDs */
	signals[SIGNAL_DEVICE_REGISTERED] = g_signal_new("device-registered",
	                                                 G_TYPE_FROM_CLASS(klass),
	                                                 G_SIGNAL_RUN_LAST,
	                                                 0,
	                                                 NULL,
	                                                 NULL,
	                                                 NULL,
	                                                 G_TYPE_NONE,
	                                                 2,
	                                                 G_TYPE_STRING,
	                                                 G_TYPE_STRV);
	signals[SIGNAL_DEVICE_AUTHENTICATED] = g_signal_new("device-authenticated",
	                                                    G_TYPE_FROM_CLASS(klass),
	                                                    G_SIGNAL_RUN_LAST,
	                                                    0,
	                                                    NULL,
	                                                    NULL,
	                                                    NULL,
	                                                    G_TYPE_NONE,
	                                                    1,
	                                                    G_TYPE_STRING);
}

static void
gw_southbound_init(GwSouthbound *self)
{
	self->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, gw_sb_session_free);
	self->by_device = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, gw_sb_session_free);
	g_queue_init(&self->pending_order);
	self->pending_per_peer = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->queues = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, gw_sb_queue_free);
	self->nonces = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_sb_nonces_free);
	self->commands =
	    g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, gw_sb_command_free);
	self->held = g_ptr_array_new_with_free_func(gw_sb_held_free);
}

GwSouthbound *
gw_southbound_new(GwConfig *config,
                  GwDmTree *tree,
                  GwDmStore *store,
                  GwInventory *inventory,
                  const gchar *state_dir,
                  GError **error)
{
	g_autoptr(GwSouthbound) self = NULL;

	g_return_val_if_fail(GW_IS_CONFIG(config), NULL);
	g_return_val_if_fail(tree != NULL, NULL);
	g_return_val_if_fail(GW_IS_INVENTORY(inventory), NULL);
	g_return_val_if_fail(state_dir != NULL, NULL);

	self = g_object_new(GW_TYPE_SOUTHBOUND, NULL);
	self->config = g_object_ref(config);
	self->tree = g_object_ref(tree);
	self->store = store != NULL ? g_object_ref(store) : NULL;
	self->inventory = g_object_ref(inventory);
	self->state_dir = g_strdup(state_dir);
	self->notifier = gw_notifier_new(error);
	if (self->notifier == NULL)
		return NULL;
	return g_steal_pointer(&self);
}
