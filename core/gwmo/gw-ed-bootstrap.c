/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwEdBootstrap"

#include "config.h"

#include <string.h>

#include "gw-dm-acl.h"
#include "gw-dm-auth.h"
#include "gw-dm-owner.h"
#include "gw-ed-bootstrap.h"
#include "gw-error.h"
#include "gw-gwmo-names.h"
#include "gw-inventory-private.h"
#include "gw-log.h"
#include "gw-wbxml.h"

#define GW_ED_BOOTSTRAP_MIME "text/plain"
/* every node the message adds, relative to ./DMAcc/<name> */
#define GW_ED_DMACC_ROOT "./DMAcc/"

struct _GwEdBootstrap {
	GObject parent_instance;
	GwConfig *config;
	GwDmTree *tree;
	GwDmStore *store; /* nullable */
	GwInventory *inventory;
	GwSouthbound *southbound;
	GwDmOwner owner;
	/* DeviceID → GwEdLapse: the non-trusted bootstraps waiting for their first session */
	GHashTable *lapsing;
	GHashTable *per_peer; /* peer group → count (GUINT_TO_POINTER) */
	guint lapse_timer_id;
	guint exec_id;
	gulong changed_id;
	gulong authenticated_id;
	guint setup_idle_id;
	guint resume_id;         /* idle: the HLF-006 requests a restart interrupted */
	GHashTable *setup_names; /* record names waiting for their Operations node */
	gboolean started;
};

typedef struct {
	gint64 deadline;   /* unix seconds */
	gchar *peer_group; /* nullable: restored at start */
} GwEdLapse;

G_DEFINE_FINAL_TYPE(GwEdBootstrap, gw_ed_bootstrap, G_TYPE_OBJECT)

static void
gw_ed_lapse_free(gpointer data)
{
	GwEdLapse *l = data;
	g_free(l->peer_group);
	g_free(l);
}

/* ---- the message (pure) ---- */

gchar *
gw_ed_bootstrap_account_name(const gchar *gw_id)
{
	GString *name = g_string_new(GW_GWMO_ED_DMACC_PREFIX);
	for (const gchar *p = gw_id != NULL ? gw_id : ""; *p != '\0'; p++) {
		gchar c = *p;
		g_string_append_c(name,
		                  g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-' ? c : '_');
	}
	return g_string_free(name, FALSE);
}

static void
gw_ed_bootstrap_add_node(GwSyncmlCommand *add, const gchar *account, const gchar *rel)
{
	g_autofree gchar *uri = g_strdup_printf("%s%s%s", account, rel[0] != '\0' ? "/" : "", rel);
	GwSyncmlItem *item = gw_syncml_item_new(uri, NULL);
	gw_syncml_item_set_data(item, "node", NULL, NULL);
	gw_syncml_command_add_item(add, item);
}

static void
gw_ed_bootstrap_add_leaf(GwSyncmlCommand *add,
                         const gchar *account,
                         const gchar *rel,
                         const gchar *format,
                         const gchar *value)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", account, rel);
	GwSyncmlItem *item = gw_syncml_item_new(uri, NULL);
	gw_syncml_item_set_data(item, format, GW_ED_BOOTSTRAP_MIME, value);
	gw_syncml_command_add_item(add, item);
}

/* the items of one DM 1.2 DMAcc account at @account (./DMAcc/<x>) */
static void
gw_ed_bootstrap_add_account_items(GwSyncmlCommand *add,
                                  const gchar *account,
                                  const gchar *server_id,
                                  const gchar *addr,
                                  const gchar *client_name,
                                  const gchar *client_secret,
                                  const gchar *server_secret,
                                  guint lapse_timer)
{
	g_autofree gchar *title = g_strdup_printf("gwmo gateway %s", server_id);

	gw_ed_bootstrap_add_node(add, account, "");
	gw_ed_bootstrap_add_leaf(add, account, "AppID", "chr", GW_GWMO_ED_DMACC_APPID);
	gw_ed_bootstrap_add_leaf(add, account, "ServerID", "chr", server_id);
	gw_ed_bootstrap_add_leaf(add, account, "Name", "chr", title);
	gw_ed_bootstrap_add_node(add, account, "AppAddr");
	gw_ed_bootstrap_add_node(add, account, "AppAddr/1");
	gw_ed_bootstrap_add_leaf(add, account, "AppAddr/1/Addr", "chr", addr);
	gw_ed_bootstrap_add_leaf(add, account, "AppAddr/1/AddrType", "chr", "URI");
	gw_ed_bootstrap_add_leaf(add, account, "AAuthPref", "chr", "syncml:auth-md5");
	gw_ed_bootstrap_add_node(add, account, "AppAuth");
	gw_ed_bootstrap_add_node(add, account, "AppAuth/1");
	gw_ed_bootstrap_add_leaf(add, account, "AppAuth/1/AAuthLevel", "chr", "CLCRED");
	gw_ed_bootstrap_add_leaf(add, account, "AppAuth/1/AAuthType", "chr", "DIGEST");
	gw_ed_bootstrap_add_leaf(add, account, "AppAuth/1/AAuthName", "chr", client_name);
	gw_ed_bootstrap_add_leaf(add, account, "AppAuth/1/AAuthSecret", "chr", client_secret);
	gw_ed_bootstrap_add_node(add, account, "AppAuth/2");
	gw_ed_bootstrap_add_leaf(add, account, "AppAuth/2/AAuthLevel", "chr", "SRVCRED");
	gw_ed_bootstrap_add_leaf(add, account, "AppAuth/2/AAuthType", "chr", "DIGEST");
	gw_ed_bootstrap_add_leaf(add, account, "AppAuth/2/AAuthName", "chr", server_id);
	gw_ed_bootstrap_add_leaf(add, account, "AppAuth/2/AAuthSecret", "chr", server_secret);
	if (lapse_timer > 0) {
		g_autofree gchar *seconds = g_strdup_printf("%u", lapse_timer);
		gw_ed_bootstrap_add_node(add, account, "Ext");
		gw_ed_bootstrap_add_leaf(add, account, GW_GWMO_ED_LAPSE_TIMER_LEAF, "int", seconds);
	}
}

GwSyncmlMessage *
gw_ed_bootstrap_build_message(const GwEdBootstrapAccount *a)
{
	g_autofree gchar *name = NULL;
	g_autofree gchar *account = NULL;
	GwSyncmlMessage *msg;
	GwSyncmlCommand *add;

	g_return_val_if_fail(a != NULL && a->gw_id != NULL && a->device_id != NULL, NULL);
	g_return_val_if_fail(a->dm_url != NULL && a->client_secret != NULL, NULL);
	g_return_val_if_fail(a->server_secret != NULL, NULL);

	name = gw_ed_bootstrap_account_name(a->gw_id);
	account = g_strconcat(GW_ED_DMACC_ROOT, name, NULL);
	msg = gw_syncml_message_new(GW_SYNCML_VERSION_DM_1_2, "0", 1, a->device_id, a->gw_id);
	msg->final = TRUE;
	add = gw_syncml_command_new(GW_SYNCML_CMD_ADD);
	gw_ed_bootstrap_add_account_items(add,
	                                  account,
	                                  a->gw_id,
	                                  a->dm_url,
	                                  a->device_id,
	                                  a->client_secret,
	                                  a->server_secret,
	                                  a->lapse_timer);
	gw_syncml_message_add_command(msg, add);
	return msg;
}

/* ---- a DM Server's account on the device (GwMO-HLF-006) ---- */

void
gw_ed_server_account_clear(GwEdServerAccount *account)
{
	g_clear_pointer(&account->server_id, g_free);
	g_clear_pointer(&account->addr, g_free);
	g_clear_pointer(&account->name, g_free);
	g_clear_pointer(&account->secret, g_free);
	g_clear_pointer(&account->server_secret, g_free);
}

static gboolean
gw_ed_bootstrap_form_value_is_valid(const gchar *value)
{
	gsize len = strlen(value);

	/* text a SyncML document carries */
	if (len == 0 || !gw_inventory_text_is_valid(value, 255))
		return FALSE;
	for (const gchar *p = value; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			return FALSE;
	}
	return TRUE;
}

gboolean
gw_ed_bootstrap_parse_server_request(const gchar *data,
                                     gsize len,
                                     GwEdServerAccount *account,
                                     GError **error)
{
	static const gchar *const keys[] = {GW_GWMO_ED_EXEC_SERVER,
	                                    GW_GWMO_ED_EXEC_NAME,
	                                    GW_GWMO_ED_EXEC_SECRET,
	                                    GW_GWMO_ED_EXEC_SERVER_SECRET,
	                                    GW_GWMO_ED_EXEC_ADDR,
	                                    NULL};
	gchar **slots[] = {&account->server_id,
	                   &account->name,
	                   &account->secret,
	                   &account->server_secret,
	                   &account->addr};
	g_autofree gchar *text = NULL;
	g_auto(GStrv) pairs = NULL;

	g_return_val_if_fail(account != NULL, FALSE);
	memset(account, 0, sizeof(*account));
	if (data == NULL || len == 0 || len > 4096 || memchr(data, '\0', len) != NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "the Data is empty, too long or binary");
		return FALSE;
	}
	text = g_strndup(data, len);
	pairs = g_strsplit(text, "&", 16);
	for (guint i = 0; pairs[i] != NULL; i++) {
		const gchar *eq = strchr(pairs[i], '=');
		g_autofree gchar *key = NULL;
		g_autofree gchar *value = NULL;
		guint k;

		if (eq == NULL) {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "a field without '='");
			gw_ed_server_account_clear(account);
			return FALSE;
		}
		key = g_uri_unescape_segment(pairs[i], eq, NULL);
		value = g_uri_unescape_string(eq + 1, NULL);
		for (k = 0; keys[k] != NULL && g_strcmp0(keys[k], key) != 0; k++)
			;
		if (keys[k] == NULL || *slots[k] != NULL || value == NULL ||
		    !gw_ed_bootstrap_form_value_is_valid(value)) {
			g_set_error(
			    error,
			    GW_ERROR,
			    GW_ERROR_INVALID_ARGS,
			    keys[k] == NULL ? "an unknown field"
			    : *slots[k] != NULL
			        ? "%s given twice"
			        : "%s is not 1 to 255 bytes of text without control characters",
			    keys[k]);
			gw_ed_server_account_clear(account);
			return FALSE;
		}
		*slots[k] = g_steal_pointer(&value);
	}
	if (account->server_id == NULL || account->name == NULL || account->secret == NULL ||
	    account->server_secret == NULL) {
		g_set_error_literal(error,
		                    GW_ERROR,
		                    GW_ERROR_INVALID_ARGS,
		                    "server, name, secret and server-secret are required");
		gw_ed_server_account_clear(account);
		return FALSE;
	}
	if (account->addr != NULL && !g_str_has_prefix(account->addr, "http://") &&
	    !g_str_has_prefix(account->addr, "https://")) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "addr is not an http(s):// URL");
		gw_ed_server_account_clear(account);
		return FALSE;
	}
	return TRUE;
}

gchar *
gw_ed_bootstrap_server_account_name(const gchar *server_id)
{
	GString *name = g_string_new(NULL);
	for (const gchar *p = server_id != NULL ? server_id : ""; *p != '\0'; p++) {
		gchar c = *p;
		g_string_append_c(name,
		                  g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-' ? c : '_');
	}
	/* never "." or ".." */
	if (strspn(name->str, ".") == name->len)
		g_string_append_c(name, '_');
	return g_string_free(name, FALSE);
}

GwSyncmlCommand *
gw_ed_bootstrap_build_server_add(const GwEdServerAccount *a)
{
	g_autofree gchar *name = NULL;
	g_autofree gchar *account = NULL;
	GwSyncmlCommand *add;

	g_return_val_if_fail(a != NULL && a->server_id != NULL && a->addr != NULL, NULL);
	g_return_val_if_fail(a->name != NULL && a->secret != NULL && a->server_secret != NULL,
	                     NULL);
	name = gw_ed_bootstrap_server_account_name(a->server_id);
	account = g_strconcat(GW_ED_DMACC_ROOT, name, NULL);
	add = gw_syncml_command_new(GW_SYNCML_CMD_ADD);
	gw_ed_bootstrap_add_account_items(
	    add, account, a->server_id, a->addr, a->name, a->secret, a->server_secret, 0);
	return add;
}

GBytes *
gw_ed_bootstrap_encode(const GwSyncmlMessage *msg, gboolean wbxml, GError **error)
{
	g_autoptr(GBytes) xml = gw_syncml_message_to_xml(msg);
	gsize len = 0;
	const gchar *data;

	if (!wbxml)
		return g_steal_pointer(&xml);
	data = g_bytes_get_data(xml, &len);
	return gw_wbxml_from_xml(data, len, error);
}

/* the q of the media range @type in @accept, -1 when it is not listed; *@pos its place */
static gdouble
gw_ed_bootstrap_accept_q(const gchar *accept, const gchar *type, guint *pos)
{
	g_auto(GStrv) ranges = g_strsplit(accept, ",", 64);
	for (guint i = 0; ranges[i] != NULL; i++) {
		g_auto(GStrv) parts = g_strsplit(ranges[i], ";", 16);
		gdouble q = 1.0;
		if (g_ascii_strcasecmp(g_strstrip(parts[0]), type) != 0)
			continue;
		for (guint j = 1; parts[j] != NULL; j++) {
			const gchar *p = g_strstrip(parts[j]);
			if (g_ascii_strncasecmp(p, "q=", 2) == 0)
				q = CLAMP(g_ascii_strtod(p + 2, NULL), 0.0, 1.0);
		}
		*pos = i;
		return q;
	}
	return -1.0;
}

gboolean
gw_ed_bootstrap_accept_prefers_wbxml(const gchar *accept)
{
	guint wpos = 0, xpos = 0;
	gdouble wq, xq;

	if (accept == NULL || strlen(accept) > 4096)
		return FALSE;
	wq = gw_ed_bootstrap_accept_q(accept, GW_SYNCML_DM_WBXML_TYPE, &wpos);
	xq = gw_ed_bootstrap_accept_q(accept, GW_SYNCML_DM_XML_TYPE, &xpos);
	if (wq <= 0.0)
		return FALSE;
	return xq < wq || (xq == wq && wpos < xpos);
}

gboolean
gw_ed_bootstrap_validate_device_id(const gchar *dev, GError **error)
{
	if (dev == NULL || dev[0] == '\0') {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "no dev= DeviceID");
		return FALSE;
	}
	for (const gchar *p = dev; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f) {
			g_set_error_literal(error,
			                    GW_ERROR,
			                    GW_ERROR_INVALID_ARGS,
			                    "the DeviceID holds a control character");
			return FALSE;
		}
	}
	return gw_inventory_validate_device_id(dev, error);
}

gchar *
gw_ed_bootstrap_dm_url(const gchar *host, gboolean tls)
{
	if (host == NULL || host[0] == '\0' || strlen(host) > 255)
		return NULL;
	for (const gchar *p = host; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != ':' && *p != '[' &&
		    *p != ']')
			return NULL;
	}
	return g_strdup_printf("%s://%s" GW_GWMO_HTTP_DM, tls ? "https" : "http", host);
}

/* ---- records ---- */

static gchar *
gw_ed_bootstrap_cred_uri(const gchar *record_uri, const gchar *leaf)
{
	return g_strdup_printf("%s/" GW_GWMO_DEVICE_CREDENTIALS "/%s", record_uri, leaf);
}

static gchar *
gw_ed_bootstrap_dup_cred(GwEdBootstrap *self, const gchar *record_uri, const gchar *leaf)
{
	g_autofree gchar *uri = gw_ed_bootstrap_cred_uri(record_uri, leaf);
	gchar *value = gw_dm_tree_dup_string(self->tree, uri);
	if (value != NULL && value[0] == '\0')
		g_clear_pointer(&value, g_free);
	return value;
}

static gboolean
gw_ed_bootstrap_set_cred(GwEdBootstrap *self,
                         const gchar *record_uri,
                         const gchar *leaf,
                         GwDmFormat format,
                         const gchar *value,
                         GwDmAccess access,
                         GError **error)
{
	g_autofree gchar *uri = gw_ed_bootstrap_cred_uri(record_uri, leaf);
	return gw_dm_owner_set_leaf(
	    &self->owner, uri, format, GW_ED_BOOTSTRAP_MIME, value, access, error);
}

static gboolean
gw_ed_bootstrap_remove_cred(GwEdBootstrap *self,
                            const gchar *record_uri,
                            const gchar *leaf,
                            GError **error)
{
	g_autofree gchar *uri = gw_ed_bootstrap_cred_uri(record_uri, leaf);
	if (gw_dm_tree_lookup(self->tree, uri) == NULL)
		return TRUE;
	return gw_dm_owner_remove(&self->owner, uri, error);
}

static gboolean
gw_ed_bootstrap_set_trusted(GwEdBootstrap *self,
                            const gchar *record_uri,
                            gboolean trusted,
                            GError **error)
{
	g_autofree gchar *uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_TRUSTED, record_uri);
	return gw_dm_owner_set_leaf(&self->owner,
	                            uri,
	                            GW_DM_FORMAT_BOOL,
	                            GW_ED_BOOTSTRAP_MIME,
	                            trusted ? "true" : "false",
	                            GW_DM_ACCESS_GET,
	                            error);
}

static void
gw_ed_bootstrap_commit(GwEdBootstrap *self)
{
	g_autoptr(GError) error = NULL;
	if (self->store != NULL && !gw_dm_store_flush(self->store, &error))
		g_warning("cannot store the bootstrap state: %s", error->message);
}

/* ---- lapse ---- */

static void
gw_ed_bootstrap_schedule_lapses(GwEdBootstrap *self);

static void
gw_ed_bootstrap_forget_lapse(GwEdBootstrap *self, const gchar *device_id)
{
	GwEdLapse *l = g_hash_table_lookup(self->lapsing, device_id);
	if (l == NULL)
		return;
	if (l->peer_group != NULL) {
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(self->per_peer, l->peer_group));
		if (n <= 1)
			g_hash_table_remove(self->per_peer, l->peer_group);
		else
			g_hash_table_insert(
			    self->per_peer, g_strdup(l->peer_group), GUINT_TO_POINTER(n - 1));
	}
	g_hash_table_remove(self->lapsing, device_id);
}

static void
gw_ed_bootstrap_track_lapse(GwEdBootstrap *self,
                            const gchar *device_id,
                            gint64 deadline,
                            const gchar *peer_group)
{
	GwEdLapse *l = g_new0(GwEdLapse, 1);

	gw_ed_bootstrap_forget_lapse(self, device_id);
	l->deadline = deadline;
	l->peer_group = g_strdup(peer_group);
	if (peer_group != NULL)
		g_hash_table_insert(
		    self->per_peer,
		    g_strdup(peer_group),
		    GUINT_TO_POINTER(
		        GPOINTER_TO_UINT(g_hash_table_lookup(self->per_peer, peer_group)) + 1));
	g_hash_table_insert(self->lapsing, g_strdup(device_id), l);
	gw_ed_bootstrap_schedule_lapses(self);
}

/* the ServerIDs of @record_uri's ServerIDs list without those of @drop ("a+b") */
static gboolean
gw_ed_bootstrap_drop_server_ids(GwEdBootstrap *self,
                                const gchar *record_uri,
                                const gchar *drop,
                                GError **error)
{
	g_autofree gchar *ids_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_SERVER_IDS, record_uri);
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, ids_uri);
	g_auto(GStrv) dropped = g_strsplit(drop != NULL ? drop : "", "+", -1);

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *uri = g_strdup_printf("%s/%s", ids_uri, names[i]);
		g_autofree gchar *sid = gw_dm_tree_dup_string(self->tree, uri);
		if (sid == NULL || !g_strv_contains((const gchar *const *)dropped, sid))
			continue;
		if (!gw_dm_owner_remove(&self->owner, uri, error))
			return FALSE;
	}
	return TRUE;
}

/* the bootstrap of @device_id lapsed: its gateway account and every account made through it
 * go */
static void
gw_ed_bootstrap_lapse(GwEdBootstrap *self, const gchar *device_id)
{
	g_autofree gchar *record = gw_inventory_find(self->inventory, device_id);
	g_autofree gchar *accounts = NULL;
	g_autofree gchar *cred_uri = NULL;
	g_autofree gchar *created = NULL;
	g_autoptr(GError) error = NULL;

	gw_ed_bootstrap_forget_lapse(self, device_id);
	if (record == NULL)
		return;
	accounts = gw_ed_bootstrap_dup_cred(self, record, GW_GWMO_CRED_BOOTSTRAP_ACCOUNTS);
	cred_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_CREDENTIALS, record);
	created = gw_ed_bootstrap_dup_cred(self, record, GW_GWMO_CRED_BOOTSTRAP_CREATED);
	if (g_strcmp0(created, "true") == 0) {
		/* the bootstrap made the record: nothing of it stays (a flood of bootstraps that
		 * never see a session leaves nothing behind) */
		if (!gw_inventory_remove(self->inventory, device_id, &error)) {
			g_warning("cannot lapse the bootstrap of device %s: %s",
			          device_id,
			          error->message);
			return;
		}
		g_message("non-trusted bootstrap of device %s (%s) lapsed without a session: its "
		          "gateway account and record are removed, with the accounts made through "
		          "it (%s)",
		          device_id,
		          record,
		          accounts != NULL ? accounts : "none");
		gw_ed_bootstrap_commit(self);
		return;
	}
	if (!gw_ed_bootstrap_drop_server_ids(self, record, accounts, &error) ||
	    (gw_dm_tree_lookup(self->tree, cred_uri) != NULL &&
	     !gw_dm_owner_remove(&self->owner, cred_uri, &error))) {
		g_warning("cannot lapse the bootstrap of device %s: %s", device_id, error->message);
		return;
	}
	g_clear_error(&error);
	if (!gw_inventory_detach(self->inventory, device_id, &error))
		g_debug("device %s: %s", device_id, error->message);
	g_message("non-trusted bootstrap of device %s (%s) lapsed without a session: its gateway "
	          "account and the accounts made through it (%s) are removed",
	          device_id,
	          record,
	          accounts != NULL ? accounts : "none");
	gw_ed_bootstrap_commit(self);
}

guint
gw_ed_bootstrap_check_lapses(GwEdBootstrap *self)
{
	g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func(g_free);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	GHashTableIter iter;
	gpointer key, value;

	g_return_val_if_fail(GW_IS_ED_BOOTSTRAP(self), 0);
	g_hash_table_iter_init(&iter, self->lapsing);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const GwEdLapse *l = value;
		if (l->deadline <= now)
			g_ptr_array_add(due, g_strdup(key));
	}
	for (guint i = 0; i < due->len; i++)
		gw_ed_bootstrap_lapse(self, g_ptr_array_index(due, i));
	return due->len;
}

static gboolean
gw_ed_bootstrap_lapse_timer_cb(gpointer user_data)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(user_data);
	self->lapse_timer_id = 0;
	gw_ed_bootstrap_check_lapses(self);
	gw_ed_bootstrap_schedule_lapses(self);
	return G_SOURCE_REMOVE;
}

/* one timer, for the nearest deadline */
static void
gw_ed_bootstrap_schedule_lapses(GwEdBootstrap *self)
{
	gint64 nearest = G_MAXINT64;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	GHashTableIter iter;
	gpointer value;

	if (self->lapse_timer_id != 0) {
		g_source_remove(self->lapse_timer_id);
		self->lapse_timer_id = 0;
	}
	g_hash_table_iter_init(&iter, self->lapsing);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		nearest = MIN(nearest, ((const GwEdLapse *)value)->deadline);
	if (nearest == G_MAXINT64)
		return;
	/* a second past the deadline, at most a day ahead (then again) */
	self->lapse_timer_id = g_timeout_add_seconds(
	    (guint)CLAMP(nearest - now + 1, 1, 86400), gw_ed_bootstrap_lapse_timer_cb, self);
}

/* the device authenticated a POST /dm with its credentials: its bootstrap does not lapse */
static void
gw_ed_bootstrap_authenticated_cb(GwSouthbound *southbound,
                                 const gchar *device_id,
                                 gpointer user_data)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(user_data);
	g_autofree gchar *record = NULL;
	g_autoptr(GError) error = NULL;

	if (!g_hash_table_contains(self->lapsing, device_id))
		return;
	gw_ed_bootstrap_forget_lapse(self, device_id);
	gw_ed_bootstrap_schedule_lapses(self);
	record = gw_inventory_find(self->inventory, device_id);
	if (record == NULL)
		return;
	if (!gw_ed_bootstrap_remove_cred(self, record, GW_GWMO_CRED_LAPSE_AT, &error) ||
	    !gw_ed_bootstrap_remove_cred(self, record, GW_GWMO_CRED_BOOTSTRAP_CREATED, &error))
		g_warning("device %s: cannot cancel its lapse: %s", device_id, error->message);
	else
		g_message("device %s opened a session with its bootstrap credentials: the "
		          "non-trusted bootstrap no longer lapses",
		          device_id);
}

/* the lapse deadlines the records hold (a restart) */
static void
gw_ed_bootstrap_restore_lapses(GwEdBootstrap *self)
{
	g_autoptr(GPtrArray) records = gw_inventory_list(self->inventory);

	for (guint i = 0; i < records->len; i++) {
		const gchar *record = g_ptr_array_index(records, i);
		g_autofree gchar *at =
		    gw_ed_bootstrap_dup_cred(self, record, GW_GWMO_CRED_LAPSE_AT);
		g_autofree gchar *id_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_DEVICE_ID, record);
		g_autofree gchar *device_id = NULL;
		gint64 deadline;

		if (at == NULL)
			continue;
		device_id = gw_dm_tree_dup_string(self->tree, id_uri);
		deadline = g_ascii_strtoll(at, NULL, 10);
		if (device_id == NULL || deadline <= 0)
			continue;
		gw_ed_bootstrap_track_lapse(self, device_id, deadline, NULL);
		g_info("device %s: non-trusted bootstrap lapses at %" G_GINT64_FORMAT,
		       device_id,
		       deadline);
	}
}

/* ---- GET /bootstrap ---- */

static gchar *
gw_ed_bootstrap_dup_leaf(GwEdBootstrap *self, const gchar *node, const gchar *leaf)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", node, leaf);
	gchar *value = gw_dm_tree_dup_string(self->tree, uri);
	if (value != NULL && value[0] == '\0')
		g_clear_pointer(&value, g_free);
	return value;
}

static GArray *
gw_ed_bootstrap_dup_requests(GwEdBootstrap *self, const gchar *record);

static void
gw_ed_bootstrap_respond_text(GwHttpRequest *request, guint status, const gchar *text)
{
	g_autoptr(GBytes) body = g_bytes_new(text, strlen(text));
	gw_http_request_respond(request, status, "text/plain", body);
}

static gchar *
gw_ed_bootstrap_new_secret(void)
{
	g_autoptr(GBytes) a = gw_dm_auth_new_nonce();
	g_autoptr(GBytes) b = gw_dm_auth_new_nonce();
	GString *hex = g_string_new(NULL);
	gsize la = 0, lb = 0;
	const guint8 *pa, *pb;

	if (a == NULL || b == NULL)
		return g_string_free(hex, TRUE);
	pa = g_bytes_get_data(a, &la);
	pb = g_bytes_get_data(b, &lb);
	/* GW_ED_BOOTSTRAP_SECRET_BYTES of the two nonces' bytes */
	for (gsize i = 0; i < GW_ED_BOOTSTRAP_SECRET_BYTES; i++)
		g_string_append_printf(hex, "%02x", i < la ? pa[i] : pb[(i - la) % MAX(lb, 1)]);
	return g_string_free(hex, FALSE);
}

static gchar *
gw_ed_bootstrap_fallback_dm_url(GwEdBootstrap *self, GwHttpRequest *request)
{
	g_auto(GStrv) uris = gw_southbound_get_listen_uris(self->southbound);
	gboolean tls = gw_http_request_is_tls(request);

	for (guint i = 0; uris != NULL && uris[i] != NULL; i++) {
		if (g_str_has_prefix(uris[i], tls ? "https:" : "http:")) {
			g_autofree gchar *base = g_strdup(uris[i]);
			gsize len = strlen(base);
			if (len > 0 && base[len - 1] == '/')
				base[len - 1] = '\0';
			return g_strconcat(base, GW_GWMO_HTTP_DM, NULL);
		}
	}
	return NULL;
}

/* writes the account on the gateway's side; the record URI */
static gchar *
gw_ed_bootstrap_write_account(GwEdBootstrap *self,
                              const gchar *device_id,
                              const gchar *record_in,
                              const gchar *client_secret,
                              const gchar *server_secret,
                              gboolean trusted,
                              gint64 lapse_at,
                              const gchar *gw_id,
                              GError **error)
{
	g_autofree gchar *record = g_strdup(record_in);
	g_autofree gchar *at = NULL;

	if (record == NULL) {
		GwInventoryDevice info = {0};
		info.device_id = (gchar *)device_id;
		info.trusted = trusted;
		info.auth_type = (gchar *)"DIGEST";
		info.client_name = (gchar *)device_id;
		info.client_secret = (gchar *)client_secret;
		info.server_secret = (gchar *)server_secret;
		record = gw_inventory_provision(self->inventory, &info, error);
		if (record == NULL)
			return NULL;
		if (!trusted && !gw_ed_bootstrap_set_cred(self,
		                                          record,
		                                          GW_GWMO_CRED_BOOTSTRAP_CREATED,
		                                          GW_DM_FORMAT_BOOL,
		                                          "true",
		                                          GW_DM_ACCESS_GET,
		                                          error))
			return NULL;
	} else {
		g_autofree gchar *cred_uri =
		    g_strdup_printf("%s/" GW_GWMO_DEVICE_CREDENTIALS, record);
		if (!gw_dm_owner_ensure_interior(
		        &self->owner, cred_uri, GW_DM_ACCESS_GET, NULL, error) ||
		    !gw_ed_bootstrap_set_cred(self,
		                              record,
		                              GW_GWMO_CRED_AUTH_TYPE,
		                              GW_DM_FORMAT_CHR,
		                              "DIGEST",
		                              GW_DM_ACCESS_GET,
		                              error) ||
		    !gw_ed_bootstrap_set_cred(self,
		                              record,
		                              GW_GWMO_CRED_CLIENT_NAME,
		                              GW_DM_FORMAT_CHR,
		                              device_id,
		                              GW_DM_ACCESS_GET,
		                              error) ||
		    !gw_ed_bootstrap_set_cred(self,
		                              record,
		                              GW_GWMO_CRED_CLIENT_SECRET,
		                              GW_DM_FORMAT_CHR,
		                              client_secret,
		                              GW_DM_ACCESS_REPLACE,
		                              error) ||
		    !gw_ed_bootstrap_set_cred(self,
		                              record,
		                              GW_GWMO_CRED_SERVER_SECRET,
		                              GW_DM_FORMAT_CHR,
		                              server_secret,
		                              GW_DM_ACCESS_REPLACE,
		                              error) ||
		    !gw_ed_bootstrap_remove_cred(self, record, GW_GWMO_CRED_CLIENT_NONCE, error) ||
		    !gw_ed_bootstrap_remove_cred(self, record, GW_GWMO_CRED_SERVER_NONCE, error) ||
		    !gw_ed_bootstrap_set_trusted(self, record, trusted, error))
			return NULL;
	}
	if (!gw_ed_bootstrap_remove_cred(self, record, GW_GWMO_CRED_BOOTSTRAP_APPROVED, error))
		return NULL;
	if (trusted)
		return gw_ed_bootstrap_remove_cred(self, record, GW_GWMO_CRED_LAPSE_AT, error) &&
		               gw_ed_bootstrap_remove_cred(
		                   self, record, GW_GWMO_CRED_BOOTSTRAP_ACCOUNTS, error) &&
		               gw_ed_bootstrap_remove_cred(
		                   self, record, GW_GWMO_CRED_BOOTSTRAP_CREATED, error)
		           ? g_steal_pointer(&record)
		           : NULL;
	at = g_strdup_printf("%" G_GINT64_FORMAT, lapse_at);
	if (!gw_ed_bootstrap_set_cred(self,
	                              record,
	                              GW_GWMO_CRED_LAPSE_AT,
	                              GW_DM_FORMAT_INT,
	                              at,
	                              GW_DM_DDF_SECRET_ACCESS,
	                              error) ||
	    !gw_ed_bootstrap_set_cred(self,
	                              record,
	                              GW_GWMO_CRED_BOOTSTRAP_ACCOUNTS,
	                              GW_DM_FORMAT_CHR,
	                              gw_id,
	                              GW_DM_ACCESS_GET,
	                              error))
		return NULL;
	return g_steal_pointer(&record);
}

typedef struct {
	GwHttpRequest *request;
	GBytes *body;
	gchar *content_type;
} GwEdAnswer;

static void
gw_ed_answer_free(GwEdAnswer *a)
{
	gw_http_request_unref(a->request);
	g_bytes_unref(a->body);
	g_free(a->content_type);
	g_free(a);
}

static void
gw_ed_bootstrap_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwEdAnswer *a = user_data;
	g_autoptr(GError) error = NULL;

	if (!gw_dm_store_commit_finish(GW_DM_STORE(source), res, &error)) {
		g_warning("GET /bootstrap: the new account is not stored: %s", error->message);
		gw_ed_bootstrap_respond_text(a->request, 500, "cannot store the account\n");
	} else {
		gw_http_request_respond(a->request, 200, a->content_type, a->body);
	}
	gw_ed_answer_free(a);
}

/* the message carries @requests: their ServerIDs join the record's, the stored secrets go */
static gboolean
gw_ed_bootstrap_requests_sent(GwEdBootstrap *self,
                              const gchar *device_id,
                              const gchar *record,
                              GArray *requests,
                              GError **error)
{
	for (guint i = 0; i < requests->len; i++) {
		const GwEdServerAccount *a = &g_array_index(requests, GwEdServerAccount, i);
		if (!gw_inventory_add_server_id(self->inventory, device_id, a->server_id, error))
			return FALSE;
		g_message("device %s bootstrapped to DM Server %s too (in its bootstrap message, "
		          "trusted)",
		          device_id,
		          a->server_id);
	}
	return gw_ed_bootstrap_remove_cred(self, record, GW_GWMO_CRED_SERVER_ACCOUNTS, error);
}

static void
gw_ed_bootstrap_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(user_data);
	const gchar *method = gw_http_request_get_method(request);
	const gchar *peer = gw_http_request_get_remote_host(request);
	const gchar *peer_group = gw_http_request_get_peer_group(request);
	const gchar *dev = gw_http_request_get_query(request, GW_GWMO_BOOTSTRAP_QUERY_DEVICE);
	g_autofree gchar *gw_id = gw_dm_tree_dup_string(self->tree, "./DevInfo/DevId");
	g_autofree gchar *ed = gw_dm_tree_dup_string(self->tree, GW_GWMO_CONFIG_ED_BOOTSTRAP);
	g_autofree gchar *lapse_text = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *approved = NULL;
	g_autofree gchar *has_secret = NULL;
	g_autofree gchar *client_secret = NULL;
	g_autofree gchar *server_secret = NULL;
	g_autofree gchar *dm_url = NULL;
	g_autofree gchar *written = NULL;
	g_autoptr(GwSyncmlMessage) msg = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) requests = NULL;
	GwEdBootstrapAccount account = {0};
	gboolean trusted;
	gboolean wbxml;
	gint64 lapse_timer = GW_GWMO_LAPSE_TIMER_DEFAULT;
	gint64 lapse_at = 0;

	if (peer == NULL)
		peer = "(unknown)";
	if (g_strcmp0(method, "GET") != 0) {
		gw_warning_ratelimited("%s /bootstrap from %s refused (405): only GET",
		                       method != NULL ? method : "(no method)",
		                       peer);
		gw_http_request_set_header(request, "Allow", "GET");
		gw_ed_bootstrap_respond_text(request, 405, "GET /bootstrap?dev=<DeviceID>\n");
		return;
	}
	if (!gw_ed_bootstrap_validate_device_id(dev, &error)) {
		gw_warning_ratelimited(
		    "GET /bootstrap from %s refused (400): %s", peer, error->message);
		gw_ed_bootstrap_respond_text(
		    request, 400, "dev=<DeviceID> is missing or invalid\n");
		return;
	}
	if (g_strcmp0(ed, "true") != 0) {
		gw_warning_ratelimited("GET /bootstrap of device %s from %s refused (403): "
		                       "./GwMO/Config/Bootstrap/EDBootstrap is false",
		                       dev,
		                       peer);
		gw_ed_bootstrap_respond_text(request, 403, "the gateway bootstraps no device\n");
		return;
	}
	record = gw_inventory_find(self->inventory, dev);
	if (record != NULL) {
		approved = gw_ed_bootstrap_dup_cred(self, record, GW_GWMO_CRED_BOOTSTRAP_APPROVED);
		has_secret = gw_ed_bootstrap_dup_cred(self, record, GW_GWMO_CRED_CLIENT_SECRET);
	}
	trusted = g_strcmp0(approved, "true") == 0;
	if (!trusted) {
		if (!gw_config_get_bool(self->config, "southbound", "auto-bootstrap")) {
			gw_warning_ratelimited(
			    "GET /bootstrap of device %s from %s refused (403): no "
			    "DM Server approved it and [southbound] auto-bootstrap "
			    "is false",
			    dev,
			    peer);
			gw_ed_bootstrap_respond_text(request, 403, "not approved\n");
			return;
		}
		if (has_secret != NULL) {
			gw_warning_ratelimited(
			    "GET /bootstrap of device %s from %s refused (409): the "
			    "device has an account on the gateway; a non-trusted "
			    "bootstrap does not replace it",
			    dev,
			    peer);
			gw_ed_bootstrap_respond_text(request, 409, "the device has an account\n");
			return;
		}
		if (g_hash_table_size(self->lapsing) >= GW_ED_BOOTSTRAP_LAPSING_MAX ||
		    GPOINTER_TO_UINT(g_hash_table_lookup(self->per_peer, peer_group)) >=
		        GW_ED_BOOTSTRAP_LAPSING_PER_PEER) {
			gw_warning_ratelimited(
			    "GET /bootstrap of device %s from %s refused (503): %u "
			    "non-trusted bootstraps wait for their session",
			    dev,
			    peer,
			    g_hash_table_size(self->lapsing));
			gw_http_request_set_header(request, "Retry-After", "60");
			gw_ed_bootstrap_respond_text(request, 503, "too many bootstraps pending\n");
			return;
		}
		lapse_text = gw_dm_tree_dup_string(self->tree, GW_GWMO_CONFIG_LAPSE_TIMER);
		if (lapse_text != NULL)
			lapse_timer = g_ascii_strtoll(lapse_text, NULL, 10);
		if (lapse_timer <= 0)
			lapse_timer = GW_GWMO_LAPSE_TIMER_DEFAULT;
		lapse_timer = MIN(lapse_timer, G_MAXUINT32);
		lapse_at = g_get_real_time() / G_USEC_PER_SEC + lapse_timer;
	}
	dm_url = gw_ed_bootstrap_dm_url(gw_http_request_get_header(request, "Host"),
	                                gw_http_request_is_tls(request));
	if (dm_url == NULL)
		dm_url = gw_ed_bootstrap_fallback_dm_url(self, request);
	client_secret = gw_ed_bootstrap_new_secret();
	server_secret = gw_ed_bootstrap_new_secret();
	if (dm_url == NULL || gw_id == NULL || client_secret[0] == '\0' ||
	    server_secret[0] == '\0') {
		g_warning("GET /bootstrap of device %s from %s: no DevId, address or randomness",
		          dev,
		          peer);
		gw_ed_bootstrap_respond_text(request, 500, "cannot bootstrap now\n");
		return;
	}
	account.gw_id = gw_id;
	account.device_id = dev;
	account.dm_url = dm_url;
	account.client_secret = client_secret;
	account.server_secret = server_secret;
	account.lapse_timer = trusted ? 0 : (guint)lapse_timer;
	msg = gw_ed_bootstrap_build_message(&account);
	/* GwMO-HLF-006: the DM Servers' accounts a server asked for beside the gateway's */
	if (trusted && record != NULL) {
		requests = gw_ed_bootstrap_dup_requests(self, record);
		for (guint i = 0; i < requests->len; i++)
			gw_syncml_message_add_command(
			    msg,
			    gw_ed_bootstrap_build_server_add(
			        &g_array_index(requests, GwEdServerAccount, i)));
	}
	wbxml = gw_ed_bootstrap_accept_prefers_wbxml(gw_http_request_get_header(request, "Accept"));
	body = gw_ed_bootstrap_encode(msg, wbxml, &error);
	if (body == NULL) {
		g_warning("GET /bootstrap of device %s: %s", dev, error->message);
		gw_ed_bootstrap_respond_text(request, 500, "cannot encode the bootstrap\n");
		return;
	}
	written = gw_ed_bootstrap_write_account(
	    self, dev, record, client_secret, server_secret, trusted, lapse_at, gw_id, &error);
	if (written == NULL) {
		g_warning("GET /bootstrap of device %s from %s: %s", dev, peer, error->message);
		gw_ed_bootstrap_respond_text(request, 500, "cannot make the account\n");
		return;
	}
	if (requests != NULL &&
	    !gw_ed_bootstrap_requests_sent(self, dev, written, requests, &error)) {
		g_warning("GET /bootstrap of device %s from %s: %s", dev, peer, error->message);
		gw_ed_bootstrap_respond_text(request, 500, "cannot make the account\n");
		return;
	}
	if (trusted) {
		gw_ed_bootstrap_forget_lapse(self, dev);
		gw_ed_bootstrap_schedule_lapses(self);
	} else {
		gw_ed_bootstrap_track_lapse(self, dev, lapse_at, peer_group);
	}
	g_message("device %s (%s) from %s bootstrapped to the gateway (%s, %s)%s",
	          dev,
	          written,
	          peer,
	          trusted ? "trusted, approved by a DM Server" : "not trusted, auto-bootstrap",
	          wbxml ? "WBXML" : "XML",
	          trusted ? "" : "; it lapses without a session");
	if (self->store == NULL) {
		gw_http_request_respond(
		    request, 200, wbxml ? GW_SYNCML_DM_WBXML_TYPE : GW_SYNCML_DM_XML_TYPE, body);
		return;
	}
	{
		/* answered once the account is on disk */
		GwEdAnswer *a = g_new0(GwEdAnswer, 1);
		a->request = gw_http_request_ref(request);
		a->body = g_bytes_ref(body);
		a->content_type = g_strdup(wbxml ? GW_SYNCML_DM_WBXML_TYPE : GW_SYNCML_DM_XML_TYPE);
		gw_dm_store_commit_async(self->store, gw_ed_bootstrap_committed_cb, a);
	}
}

/* ---- Exec Operations/Bootstrap ---- */

/* AppAddr/1/Addr of the gateway's own DMAcc whose ServerID is @server_id; NULL when the gateway
 * has no account of that server */
static gchar *
gw_ed_bootstrap_dup_server_addr(GwEdBootstrap *self, const gchar *server_id, gboolean *known)
{
	g_auto(GStrv) accounts = gw_dm_tree_list_children(self->tree, "./DMAcc");

	*known = FALSE;
	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *sid_uri = g_strdup_printf("./DMAcc/%s/ServerID", accounts[i]);
		g_autofree gchar *sid = gw_dm_tree_dup_string(self->tree, sid_uri);
		g_autofree gchar *addr_uri = NULL;
		if (g_strcmp0(sid, server_id) != 0)
			continue;
		*known = TRUE;
		addr_uri = g_strdup_printf("./DMAcc/%s/AppAddr/1/Addr", accounts[i]);
		return gw_dm_tree_dup_string(self->tree, addr_uri);
	}
	return NULL;
}

static gboolean
gw_ed_bootstrap_set_status(GwEdBootstrap *self,
                           const gchar *record,
                           const gchar *value,
                           GError **error)
{
	g_autofree gchar *uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_OP_BOOTSTRAP_STATUS, record);
	return gw_dm_owner_set_leaf(&self->owner,
	                            uri,
	                            GW_DM_FORMAT_CHR,
	                            GW_ED_BOOTSTRAP_MIME,
	                            value,
	                            GW_DM_ACCESS_GET,
	                            error);
}

/* the request waits for the device's GET /bootstrap (secrets without Get) */
static gboolean
gw_ed_bootstrap_store_request(GwEdBootstrap *self,
                              const gchar *record,
                              const GwEdServerAccount *a,
                              GError **error)
{
	g_autofree gchar *name = gw_ed_bootstrap_server_account_name(a->server_id);
	g_autofree gchar *root = g_strdup_printf(
	    "%s/" GW_GWMO_DEVICE_CREDENTIALS "/" GW_GWMO_CRED_SERVER_ACCOUNTS, record);
	g_autofree gchar *node = g_strdup_printf("%s/%s", root, name);
	const struct {
		const gchar *leaf;
		const gchar *value;
		GwDmAccess access;
	} leaves[] = {
	    {GW_GWMO_CRED_SA_SERVER_ID, a->server_id, GW_DM_ACCESS_GET},
	    {GW_GWMO_CRED_SA_ADDR, a->addr, GW_DM_ACCESS_GET},
	    {GW_GWMO_CRED_SA_NAME, a->name, GW_DM_ACCESS_GET},
	    {GW_GWMO_CRED_SA_SECRET, a->secret, GW_DM_ACCESS_REPLACE},
	    {GW_GWMO_CRED_SA_SERVER_SECRET, a->server_secret, GW_DM_ACCESS_REPLACE},
	};

	if (!gw_dm_owner_ensure_interior(&self->owner, root, GW_DM_ACCESS_GET, NULL, error) ||
	    !gw_dm_owner_ensure_interior(&self->owner, node, GW_DM_ACCESS_GET, NULL, error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(leaves); i++) {
		g_autofree gchar *uri = g_strdup_printf("%s/%s", node, leaves[i].leaf);
		if (!gw_dm_owner_set_leaf(&self->owner,
		                          uri,
		                          GW_DM_FORMAT_CHR,
		                          GW_ED_BOOTSTRAP_MIME,
		                          leaves[i].value,
		                          leaves[i].access,
		                          error))
			return FALSE;
	}
	return TRUE;
}

/* the requests waiting in @record (element-type GwEdServerAccount) */
static GArray *
gw_ed_bootstrap_dup_requests(GwEdBootstrap *self, const gchar *record)
{
	g_autofree gchar *root = g_strdup_printf(
	    "%s/" GW_GWMO_DEVICE_CREDENTIALS "/" GW_GWMO_CRED_SERVER_ACCOUNTS, record);
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, root);
	GArray *out = g_array_new(FALSE, TRUE, sizeof(GwEdServerAccount));

	g_array_set_clear_func(out, (GDestroyNotify)gw_ed_server_account_clear);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree gchar *node = g_strdup_printf("%s/%s", root, names[i]);
		GwEdServerAccount a = {0};
		a.server_id = gw_ed_bootstrap_dup_leaf(self, node, GW_GWMO_CRED_SA_SERVER_ID);
		a.addr = gw_ed_bootstrap_dup_leaf(self, node, GW_GWMO_CRED_SA_ADDR);
		a.name = gw_ed_bootstrap_dup_leaf(self, node, GW_GWMO_CRED_SA_NAME);
		a.secret = gw_ed_bootstrap_dup_leaf(self, node, GW_GWMO_CRED_SA_SECRET);
		a.server_secret =
		    gw_ed_bootstrap_dup_leaf(self, node, GW_GWMO_CRED_SA_SERVER_SECRET);
		if (a.server_id == NULL || a.addr == NULL || a.name == NULL || a.secret == NULL ||
		    a.server_secret == NULL) {
			gw_ed_server_account_clear(&a);
			continue;
		}
		g_array_append_val(out, a);
	}
	return out;
}

/* the request of @server_id stored in @record is done with */
static gboolean
gw_ed_bootstrap_forget_request(GwEdBootstrap *self,
                               const gchar *record,
                               const gchar *server_id,
                               GError **error)
{
	g_autofree gchar *name = gw_ed_bootstrap_server_account_name(server_id);
	g_autofree gchar *rel = g_strdup_printf(GW_GWMO_CRED_SERVER_ACCOUNTS "/%s", name);
	return gw_ed_bootstrap_remove_cred(self, record, rel, error);
}

typedef struct {
	GwEdBootstrap *self;
	gchar *device_id;
	gchar *server_id;
} GwEdDelivery;

static void
gw_ed_delivery_free(GwEdDelivery *d)
{
	g_object_unref(d->self);
	g_free(d->device_id);
	g_free(d->server_id);
	g_free(d);
}

static void
gw_ed_bootstrap_delivered_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwEdDelivery *d = user_data;
	GwEdBootstrap *self = d->self;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *record = NULL;
	g_autofree gchar *outcome = NULL;
	guint status = 0;

	if (!gw_southbound_send_command_finish(GW_SOUTHBOUND(source), res, &status, NULL, &error))
		status = GW_DM_STATUS_COMMAND_FAILED;
	record = gw_inventory_find(self->inventory, d->device_id);
	if (gw_dm_status_is_success(status)) {
		outcome = g_strdup_printf("Delivered %s", d->server_id);
		g_message("device %s bootstrapped to DM Server %s (its ./DMAcc account added, "
		          "trusted)",
		          d->device_id,
		          d->server_id);
		if (record != NULL && !gw_inventory_add_server_id(
		                          self->inventory, d->device_id, d->server_id, &error))
			g_warning("device %s: cannot add ServerID %s: %s",
			          d->device_id,
			          d->server_id,
			          error->message);
	} else {
		outcome = g_strdup_printf("Failed %u %s", status, d->server_id);
		g_warning("device %s not bootstrapped to DM Server %s: the device answered %u",
		          d->device_id,
		          d->server_id,
		          status);
	}
	g_clear_error(&error);
	if (record != NULL && (!gw_ed_bootstrap_set_status(self, record, outcome, &error) ||
	                       !gw_ed_bootstrap_forget_request(self, record, d->server_id, &error)))
		g_warning("device %s: %s", d->device_id, error->message);
	gw_ed_bootstrap_commit(self);
	gw_ed_delivery_free(d);
}

/* the Add of @a's account to the device over its next session */
static void
gw_ed_bootstrap_deliver(GwEdBootstrap *self, const gchar *device_id, const GwEdServerAccount *a)
{
	GwEdDelivery *d = g_new0(GwEdDelivery, 1);

	d->self = g_object_ref(self);
	d->device_id = g_strdup(device_id);
	d->server_id = g_strdup(a->server_id);
	gw_southbound_send_command_async(self->southbound,
	                                 device_id,
	                                 gw_ed_bootstrap_build_server_add(a),
	                                 GW_ED_BOOTSTRAP_DELIVERY_TIMEOUT,
	                                 NULL,
	                                 gw_ed_bootstrap_delivered_cb,
	                                 d);
}

/* the requests a restart interrupted: a device holding the gateway's account gets them in its
 * next session (those of a device without one wait for its GET /bootstrap) */
static gboolean
gw_ed_bootstrap_resume_cb(gpointer user_data)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(user_data);
	g_autoptr(GPtrArray) records = gw_inventory_list(self->inventory);

	self->resume_id = 0;
	for (guint i = 0; i < records->len; i++) {
		const gchar *record = g_ptr_array_index(records, i);
		g_autofree gchar *secret =
		    gw_ed_bootstrap_dup_cred(self, record, GW_GWMO_CRED_CLIENT_SECRET);
		g_autofree gchar *id_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_DEVICE_ID, record);
		g_autofree gchar *device_id = gw_dm_tree_dup_string(self->tree, id_uri);
		g_autoptr(GArray) requests = NULL;

		if (secret == NULL || device_id == NULL)
			continue;
		requests = gw_ed_bootstrap_dup_requests(self, record);
		for (guint j = 0; j < requests->len; j++) {
			const GwEdServerAccount *a = &g_array_index(requests, GwEdServerAccount, j);
			g_message("device %s: its bootstrap to DM Server %s waits for its next "
			          "session (resumed)",
			          device_id,
			          a->server_id);
			gw_ed_bootstrap_deliver(self, device_id, a);
		}
	}
	return G_SOURCE_REMOVE;
}

/* parses and checks the Data of the Exec; the Status to answer when it is refused (0: go on) */
static guint
gw_ed_bootstrap_exec_request(GwEdBootstrap *self,
                             const gchar *server_id,
                             const gchar *uri,
                             GBytes *data,
                             GwEdServerAccount *req)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *own_addr = NULL;
	gsize len = 0;
	const gchar *bytes = g_bytes_get_data(data, &len);
	gboolean known = FALSE;

	if (!gw_ed_bootstrap_parse_server_request(bytes, len, req, &error)) {
		gw_warning_ratelimited("Exec %s by %s refused (400): %s",
		                       uri,
		                       server_id != NULL ? server_id : "the owner",
		                       error->message);
		return GW_DM_STATUS_BAD_REQUEST;
	}
	if (!gw_dm_acl_server_id_is_valid(req->server_id)) {
		gw_warning_ratelimited("Exec %s by %s refused (400): server is not a ServerID",
		                       uri,
		                       server_id != NULL ? server_id : "the owner");
		return GW_DM_STATUS_BAD_REQUEST;
	}
	if (server_id != NULL && g_strcmp0(server_id, req->server_id) != 0) {
		gw_warning_ratelimited("Exec %s by %s refused (425): a DM Server bootstraps a "
		                       "device only to itself, not to %s",
		                       uri,
		                       server_id,
		                       req->server_id);
		return GW_DM_STATUS_PERMISSION_DENIED;
	}
	own_addr = gw_ed_bootstrap_dup_server_addr(self, req->server_id, &known);
	if (!known) {
		gw_warning_ratelimited(
		    "Exec %s by %s refused (404): the gateway has no DM Server %s",
		    uri,
		    server_id != NULL ? server_id : "the owner",
		    req->server_id);
		return GW_DM_STATUS_NOT_FOUND;
	}
	if (req->addr == NULL)
		req->addr = g_steal_pointer(&own_addr);
	if (req->addr == NULL) {
		gw_warning_ratelimited(
		    "Exec %s refused (400): no addr, and the gateway's account of "
		    "%s has no AppAddr",
		    uri,
		    req->server_id);
		return GW_DM_STATUS_BAD_REQUEST;
	}
	return 0;
}

/* a Discovered record nobody decided on yet: no ServerIDs, no credentials */
static gboolean
gw_ed_bootstrap_undecided(GwEdBootstrap *self, const gchar *record, const gchar *device_id)
{
	g_autofree gchar *ids_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_SERVER_IDS, record);
	g_auto(GStrv) ids = gw_dm_tree_list_children(self->tree, ids_uri);
	g_autofree gchar *secret =
	    gw_ed_bootstrap_dup_cred(self, record, GW_GWMO_CRED_CLIENT_SECRET);

	return gw_inventory_is_discovered(self->inventory, device_id) &&
	       (ids == NULL || ids[0] == NULL) && secret == NULL;
}

static guint
gw_ed_bootstrap_exec(GwDmTree *tree,
                     const gchar *server_id,
                     const gchar *uri,
                     GBytes *data,
                     const gchar *correlator,
                     gpointer user_data)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(user_data);
	g_auto(GStrv) segs = g_strsplit(uri + strlen(GW_GWMO_INVENTORY_DEVICES) + 1, "/", 2);
	g_autofree gchar *record = g_strdup_printf(GW_GWMO_INVENTORY_DEVICES "/%s", segs[0]);
	g_autofree gchar *id_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_DEVICE_ID, record);
	g_autofree gchar *device_id = gw_dm_tree_dup_string(tree, id_uri);
	g_autofree gchar *secret = NULL;
	g_autofree gchar *trusted_uri = NULL;
	g_autofree gchar *trusted = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GwEdServerAccount) req = {0};
	gboolean has_req = data != NULL && g_bytes_get_size(data) > 0;
	gboolean decision = FALSE;
	const gchar *who = server_id != NULL ? server_id : "the owner";
	GwDmNode *node = gw_dm_tree_lookup(tree, record);

	if (node == NULL || device_id == NULL)
		return GW_DM_STATUS_NOT_FOUND;
	if (server_id != NULL) {
		g_autofree gchar *text = gw_dm_node_dup_acl(node);
		g_autoptr(GwDmAcl) acl = gw_dm_acl_parse(text != NULL ? text : "", NULL);
		if (acl != NULL && !gw_dm_acl_allows(acl, GW_DM_ACCESS_REPLACE, server_id) &&
		    gw_dm_acl_allows(acl, GW_DM_ACCESS_GET, server_id) &&
		    gw_ed_bootstrap_undecided(self, record, device_id))
			/* the decision on a Discovered device: the first server to take it */
			decision = TRUE;
		else if (acl == NULL || !gw_dm_acl_allows(acl, GW_DM_ACCESS_REPLACE, server_id)) {
			g_warning("Exec %s by %s refused (425): the server may not Replace the "
			          "record",
			          uri,
			          server_id);
			return GW_DM_STATUS_PERMISSION_DENIED;
		}
	}
	if (has_req) {
		guint refused = gw_ed_bootstrap_exec_request(self, server_id, uri, data, &req);
		if (refused != 0)
			return refused;
	}
	secret = gw_ed_bootstrap_dup_cred(self, record, GW_GWMO_CRED_CLIENT_SECRET);
	trusted_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_TRUSTED, record);
	trusted = gw_dm_tree_dup_string(tree, trusted_uri);
	if (secret != NULL && g_strcmp0(trusted, "true") != 0) {
		/* a non-trusted bootstrap validated by a previously bootstrapped DM Server */
		if (!gw_ed_bootstrap_remove_cred(self, record, GW_GWMO_CRED_LAPSE_AT, &error) ||
		    !gw_ed_bootstrap_remove_cred(
		        self, record, GW_GWMO_CRED_BOOTSTRAP_CREATED, &error) ||
		    !gw_ed_bootstrap_set_trusted(self, record, TRUE, &error)) {
			g_warning("Exec %s by %s: %s", uri, server_id, error->message);
			return GW_DM_STATUS_COMMAND_FAILED;
		}
		gw_ed_bootstrap_forget_lapse(self, device_id);
		gw_ed_bootstrap_schedule_lapses(self);
		g_message("%s validated the bootstrap of device %s (%s): trusted, no lapse",
		          who,
		          device_id,
		          record);
	} else if (secret == NULL || !has_req) {
		g_autofree gchar *cred_uri =
		    g_strdup_printf("%s/" GW_GWMO_DEVICE_CREDENTIALS, record);
		if (!gw_dm_owner_ensure_interior(
		        &self->owner, cred_uri, GW_DM_ACCESS_GET, NULL, &error) ||
		    !gw_ed_bootstrap_set_cred(self,
		                              record,
		                              GW_GWMO_CRED_BOOTSTRAP_APPROVED,
		                              GW_DM_FORMAT_BOOL,
		                              "true",
		                              GW_DM_ACCESS_GET,
		                              &error) ||
		    (decision &&
		     !gw_inventory_add_server_id(self->inventory, device_id, server_id, &error)) ||
		    (has_req && !gw_ed_bootstrap_store_request(self, record, &req, &error))) {
			g_warning("Exec %s by %s: %s", uri, who, error->message);
			return GW_DM_STATUS_COMMAND_FAILED;
		}
		g_message("%s approved the bootstrap of device %s (%s)%s: its next GET /bootstrap "
		          "is answered, trusted%s%s",
		          who,
		          device_id,
		          record,
		          decision ? ", a Discovered device, and manages it" : "",
		          has_req ? ", with an account of DM Server " : "",
		          has_req ? req.server_id : "");
		/* stored with the session's commit before the server hears 200 */
		return GW_DM_STATUS_OK;
	}
	if (!has_req)
		return GW_DM_STATUS_OK;
	/* the device holds the gateway's account (trusted now): the Add goes over its next
	 * session */
	{
		g_autofree gchar *pending = g_strdup_printf("Pending %s", req.server_id);
		if (!gw_ed_bootstrap_set_status(self, record, pending, &error)) {
			g_warning("Exec %s by %s: %s", uri, who, error->message);
			return GW_DM_STATUS_COMMAND_FAILED;
		}
		/* kept (secrets without Get) until the device answered, across a restart */
		if (!gw_ed_bootstrap_store_request(self, record, &req, &error)) {
			g_warning("Exec %s by %s: %s", uri, who, error->message);
			return GW_DM_STATUS_COMMAND_FAILED;
		}
		g_message("%s asked to bootstrap device %s (%s) to DM Server %s: sent in its next "
		          "session",
		          who,
		          device_id,
		          record,
		          req.server_id);
		gw_ed_bootstrap_deliver(self, device_id, &req);
	}
	return GW_DM_STATUS_ACCEPTED;
}

static gboolean
gw_ed_bootstrap_setup_record(GwEdBootstrap *self, const gchar *name, GError **error)
{
	g_autofree gchar *record = g_strdup_printf(GW_GWMO_INVENTORY_DEVICES "/%s", name);
	g_autofree gchar *ops = g_strdup_printf("%s/" GW_GWMO_DEVICE_OPERATIONS, record);
	g_autofree gchar *exec = g_strdup_printf("%s/" GW_GWMO_DEVICE_OP_BOOTSTRAP, record);
	GwDmNode *node = gw_dm_tree_lookup(self->tree, record);

	if (node == NULL || gw_dm_node_is_leaf(node) || gw_dm_tree_lookup(self->tree, exec) != NULL)
		return TRUE;
	/* Exec by any server the handler finds in the record's Replace */
	return gw_dm_owner_ensure_interior(&self->owner, ops, GW_DM_ACCESS_GET, NULL, error) &&
	       gw_dm_owner_set_leaf(
	           &self->owner, exec, GW_DM_FORMAT_NULL, NULL, NULL, GW_DM_ACCESS_EXEC, error) &&
	       gw_dm_owner_set_properties(&self->owner, exec, GW_DM_ACCESS_NONE, "Exec=*", error);
}

static gboolean
gw_ed_bootstrap_setup_idle_cb(gpointer user_data)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(user_data);
	GHashTableIter iter;
	gpointer name;

	self->setup_idle_id = 0;
	g_hash_table_iter_init(&iter, self->setup_names);
	while (g_hash_table_iter_next(&iter, &name, NULL)) {
		g_autoptr(GError) error = NULL;
		if (!gw_ed_bootstrap_setup_record(self, name, &error))
			g_warning("record %s: no Operations/Bootstrap: %s",
			          (const gchar *)name,
			          error->message);
	}
	g_hash_table_remove_all(self->setup_names);
	return G_SOURCE_REMOVE;
}

static void
gw_ed_bootstrap_tree_changed_cb(GwDmTree *tree,
                                const gchar *uri,
                                guint change,
                                const gchar *server_id,
                                gpointer user_data)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(user_data);
	const gchar *rel;
	const gchar *slash;

	if (uri == NULL || gw_dm_owner_is_writing(&self->owner) || change == GW_DM_CHANGE_DELETED ||
	    change == GW_DM_CHANGE_PROPERTIES ||
	    !g_str_has_prefix(uri, GW_GWMO_INVENTORY_DEVICES "/"))
		return;
	rel = uri + strlen(GW_GWMO_INVENTORY_DEVICES) + 1;
	slash = strchr(rel, '/');
	/* a record appears with its first node */
	if (slash != NULL && strchr(slash + 1, '/') != NULL)
		return;
	g_hash_table_add(self->setup_names,
	                 slash != NULL ? g_strndup(rel, (gsize)(slash - rel)) : g_strdup(rel));
	if (self->setup_idle_id == 0)
		self->setup_idle_id = g_idle_add(gw_ed_bootstrap_setup_idle_cb, self);
}

/* ---- set-up ---- */

gboolean
gw_ed_bootstrap_start(GwEdBootstrap *self, GError **error)
{
	g_auto(GStrv) names = NULL;

	g_return_val_if_fail(GW_IS_ED_BOOTSTRAP(self), FALSE);
	if (self->started)
		return TRUE;
	names = gw_dm_tree_list_children(self->tree, GW_GWMO_INVENTORY_DEVICES);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		if (!gw_ed_bootstrap_setup_record(self, names[i], error))
			return FALSE;
	}
	self->exec_id =
	    gw_dm_tree_add_exec_handler(self->tree,
	                                GW_GWMO_INVENTORY_DEVICES "/*/" GW_GWMO_DEVICE_OP_BOOTSTRAP,
	                                gw_ed_bootstrap_exec,
	                                self,
	                                NULL);
	self->changed_id = g_signal_connect(
	    self->tree, "changed", G_CALLBACK(gw_ed_bootstrap_tree_changed_cb), self);
	self->authenticated_id = g_signal_connect(self->southbound,
	                                          "device-authenticated",
	                                          G_CALLBACK(gw_ed_bootstrap_authenticated_cb),
	                                          self);
	gw_ed_bootstrap_restore_lapses(self);
	self->resume_id = g_idle_add(gw_ed_bootstrap_resume_cb, self);
	/* deadlines that passed while the gateway was down lapse now */
	gw_ed_bootstrap_check_lapses(self);
	gw_ed_bootstrap_schedule_lapses(self);
	self->started = TRUE;
	return TRUE;
}

void
gw_ed_bootstrap_attach(GwEdBootstrap *self, GwHttpServer *server)
{
	g_return_if_fail(GW_IS_ED_BOOTSTRAP(self));
	if (server == NULL)
		return;
	gw_http_server_add_handler(
	    server, GW_GWMO_HTTP_BOOTSTRAP, gw_ed_bootstrap_handler, self, NULL);
}

static void
gw_ed_bootstrap_dispose(GObject *object)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(object);

	if (self->lapse_timer_id != 0)
		g_source_remove(self->lapse_timer_id);
	self->lapse_timer_id = 0;
	if (self->setup_idle_id != 0)
		g_source_remove(self->setup_idle_id);
	self->setup_idle_id = 0;
	if (self->resume_id != 0)
		g_source_remove(self->resume_id);
	self->resume_id = 0;
	if (self->tree != NULL) {
		if (self->exec_id != 0)
			gw_dm_tree_remove_handler(self->tree, self->exec_id);
		if (self->changed_id != 0)
			g_signal_handler_disconnect(self->tree, self->changed_id);
	}
	self->exec_id = 0;
	self->changed_id = 0;
	if (self->southbound != NULL && self->authenticated_id != 0)
		g_signal_handler_disconnect(self->southbound, self->authenticated_id);
	self->authenticated_id = 0;
	g_clear_object(&self->southbound);
	g_clear_object(&self->inventory);
	g_clear_object(&self->store);
	g_clear_object(&self->tree);
	g_clear_object(&self->config);
	G_OBJECT_CLASS(gw_ed_bootstrap_parent_class)->dispose(object);
}

static void
gw_ed_bootstrap_finalize(GObject *object)
{
	GwEdBootstrap *self = GW_ED_BOOTSTRAP(object);
	g_hash_table_unref(self->lapsing);
	g_hash_table_unref(self->per_peer);
	g_hash_table_unref(self->setup_names);
	G_OBJECT_CLASS(gw_ed_bootstrap_parent_class)->finalize(object);
}

static void
gw_ed_bootstrap_class_init(GwEdBootstrapClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_ed_bootstrap_dispose;
	G_OBJECT_CLASS(klass)->finalize = gw_ed_bootstrap_finalize;
}

static void
gw_ed_bootstrap_init(GwEdBootstrap *self)
{
	self->lapsing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, gw_ed_lapse_free);
	self->per_peer = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->setup_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

GwEdBootstrap *
gw_ed_bootstrap_new(GwConfig *config,
                    GwDmTree *tree,
                    GwDmStore *store,
                    GwInventory *inventory,
                    GwSouthbound *southbound)
{
	GwEdBootstrap *self;

	g_return_val_if_fail(GW_IS_CONFIG(config), NULL);
	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(GW_IS_INVENTORY(inventory), NULL);
	g_return_val_if_fail(GW_IS_SOUTHBOUND(southbound), NULL);

	self = g_object_new(GW_TYPE_ED_BOOTSTRAP, NULL);
	self->config = g_object_ref(config);
	self->tree = g_object_ref(tree);
	self->store = store != NULL ? g_object_ref(store) : NULL;
	self->inventory = g_object_ref(inventory);
	self->southbound = g_object_ref(southbound);
	gw_dm_owner_init(&self->owner, self->tree);
	/* the lapse deadline is the gateway's alone, like the secrets */
	gw_dm_tree_add_ddf_node(tree,
	                        GW_GWMO_INVENTORY_DEVICES "/*/" GW_GWMO_DEVICE_CREDENTIALS
	                                                  "/" GW_GWMO_CRED_LAPSE_AT,
	                        GW_DM_FORMAT_INT,
	                        GW_DM_DDF_SECRET_ACCESS);
	return self;
}
