/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwInventory"

#include "config.h"

#include <string.h>

#include "gw-dm-owner.h"
#include "gw-gwmo-mo.h"
#include "gw-inventory-private.h"

/*
 * The Device Inventory MO and the per-server Config entries.
 *
 * The DM tree is the only store: records, groups and Config/Servers live there and are
 * persisted with it. Small caches keep what the hot paths need without walking the tree:
 * DeviceID → record (node name, mode, status, last-seen time in µs of real time) for the
 * Summary hook and the lease check, and group node name → (GroupID, members) to keep each
 * record's Groups/<n> list in step with the groups.
 *
 * Every write goes through the inventory's GwDmOwner (gw-dm-owner.h), so the tree's
 * "changed" handler only reacts to what others did: DM commands of the servers (group Adds,
 * Replace of a record's Mode), an Atomic rollback ("." changed) and DMAcc changes.
 *
 * Group node names: a group made through the API is stored under its GroupID when that is a
 * safe node name ([A-Za-z0-9._-], at most 64 bytes, not "." or "..") not used yet, else under
 * the next free integer. A group added by a DM Server has the name the server chose; its
 * GroupID is its GroupID leaf, or the node name while that leaf is missing or empty.
 */

#define GW_INVENTORY_DMACC "./DMAcc"
#define GW_INVENTORY_DEVINFO_DEV_ID "./DevInfo/DevId"
#define GW_INVENTORY_DETACH_DEFAULT 3600
#define GW_INVENTORY_INTERVAL_DEFAULT 60

typedef struct {
	gchar *name;      /* node name below Devices */
	guint64 number;   /* the name as a number, 0 when it is not one */
	gchar *device_id; /* key of the records table */
	guint mode;
	gboolean attached;
	gboolean discovered; /* Status Discovered (then not attached) */
	gint64 last_seen;    /* g_get_real_time() */
} GwInvRecord;

struct _GwInventory {
	GObject parent_instance;
	GwDmTree *tree;
	GwConfig *config;            /* nullable */
	GHashTable *records;         /* DeviceID → GwInvRecord (owned) */
	GHashTable *records_by_name; /* node name → GwInvRecord (borrowed) */
	GwGroups *groups;            /* its groups (gw-groups.c) */
	guint64 next_record;
	gulong changed_id;
	guint summary_hook_id;
	guint lease_timer_id;
	guint servers_idle_id;
	GwDmOwner owner; /* the writes of the inventory itself */
	gboolean started;
};

G_DEFINE_FINAL_TYPE(GwInventory, gw_inventory, G_TYPE_OBJECT)

enum {
	SIGNAL_DEVICE_ATTACHED,
	SIGNAL_DEVICE_DETACHED,
	SIGNAL_DEVICE_REMOVED,
	SIGNAL_DEVICE_DISCOVERED,
	SIGNAL_LAST
};
static guint signals[SIGNAL_LAST] = {0};

/* Discovered records count in Total and Discovered only (not managed: no mode counted) */
static const gchar *summary_leaves[] =
    {"Total", "Attached", "Detached", "Transparent", "Proxy", "Adaptation", "Discovered"};
#define GW_INVENTORY_SUMMARY_DISCOVERED 6

/* ---- small helpers ---- */

static void
gw_inv_record_free(GwInvRecord *rec)
{
	g_free(rec->name);
	g_free(rec->device_id);
	g_free(rec);
}

void
gw_inventory_device_clear(GwInventoryDevice *info)
{
	g_return_if_fail(info != NULL);

	g_free(info->device_id);
	g_free(info->protocol);
	g_free(info->component_type);
	g_free(info->address);
	g_free(info->notify_addr);
	g_strfreev(info->server_ids);
	if (info->devinfo != NULL)
		g_hash_table_unref(info->devinfo);
	g_free(info->auth_type);
	g_free(info->client_name);
	g_free(info->client_secret);
	g_free(info->server_secret);
	memset(info, 0, sizeof(*info));
}

/* UTF-8 that an XML document can carry, at most @max_len bytes */
gboolean
gw_inventory_text_is_valid(const gchar *text, gsize max_len)
{
	return text != NULL && strlen(text) <= max_len && g_utf8_validate(text, -1, NULL) &&
	       gw_dm_text_is_xml_safe(text, -1);
}

gboolean
gw_inventory_name_is_safe(const gchar *name)
{
	gsize len;

	if (name == NULL)
		return FALSE;
	len = strlen(name);
	if (len == 0 || len > GW_INVENTORY_MAX_NAME_LEN)
		return FALSE;
	if (g_strcmp0(name, ".") == 0 || g_strcmp0(name, "..") == 0)
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	}
	return TRUE;
}

guint64
gw_inventory_name_number(const gchar *name)
{
	guint64 value = 0;

	if (name == NULL || !g_ascii_isdigit(name[0]))
		return 0;
	if (!g_ascii_string_to_unsigned(name, 10, 1, G_MAXUINT64 - 1, &value, NULL))
		return 0;
	return value;
}

static gboolean
gw_inventory_mode_is_valid(guint mode)
{
	return mode >= GW_GWMO_MODE_TRANSPARENT && mode <= GW_GWMO_MODE_ADAPTATION;
}

static guint
gw_inventory_parse_mode(const gchar *text)
{
	guint64 mode = 0;

	if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &mode, NULL))
		return 0;
	return (guint)mode;
}

static gint64
gw_inventory_parse_time(const gchar *text)
{
	g_autoptr(GDateTime) dt = NULL;

	if (text == NULL || text[0] == '\0')
		return g_get_real_time();
	dt = g_date_time_new_from_iso8601(text, NULL);
	if (dt == NULL)
		return g_get_real_time();
	return g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
}

/* RFC 3339 in UTC, whole seconds */
static gchar *
gw_inventory_format_time(gint64 usec)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);

	if (dt == NULL)
		return g_strdup("1970-01-01T00:00:00Z");
	return g_date_time_format_iso8601(dt);
}

gchar *
gw_inventory_node_dup_value(GwDmNode *node)
{
	GBytes *value;
	const gchar *data;
	gsize len = 0;

	if (node == NULL || !gw_dm_node_is_leaf(node))
		return NULL;
	value = gw_dm_node_get_value(node);
	if (value == NULL)
		return g_strdup("");
	data = g_bytes_get_data(value, &len);
	return g_strndup(data, len);
}

static gchar *
gw_inventory_record_uri(const gchar *name)
{
	return g_strdup_printf(GW_GWMO_INVENTORY_DEVICES "/%s", name);
}

static gchar *
gw_inventory_dup_leaf(GwInventory *self, const gchar *parent, const gchar *leaf)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", parent, leaf);
	return gw_dm_tree_dup_string(self->tree, uri);
}

/* @value "" → NULL */
static gchar *
gw_inventory_dup_leaf_nonempty(GwInventory *self, const gchar *parent, const gchar *leaf)
{
	g_autofree gchar *value = gw_inventory_dup_leaf(self, parent, leaf);

	if (value == NULL || value[0] == '\0')
		return NULL;
	return g_steal_pointer(&value);
}

/* (element-type utf8) values of the leaf children of @uri, in order; interior children are
 * skipped; *@n_children (optional) counts every child */
GPtrArray *
gw_inventory_dup_child_values(GwDmTree *tree, const gchar *uri, guint *n_children)
{
	GPtrArray *values = g_ptr_array_new_with_free_func(g_free);
	GwDmNode *node = gw_dm_tree_lookup(tree, uri);
	GPtrArray *children;

	if (n_children != NULL)
		*n_children = 0;
	if (node == NULL || gw_dm_node_is_leaf(node))
		return values;
	children = gw_dm_node_get_children(node);
	if (n_children != NULL)
		*n_children = children->len;
	for (guint i = 0; i < children->len; i++) {
		GwDmNode *child = g_ptr_array_index(children, i);
		if (gw_dm_node_is_leaf(child))
			g_ptr_array_add(values, gw_inventory_node_dup_value(child));
	}
	return values;
}

gboolean
gw_inventory_strv_contains(GPtrArray *array, const gchar *value)
{
	for (guint i = 0; i < array->len; i++) {
		if (g_strcmp0(g_ptr_array_index(array, i), value) == 0)
			return TRUE;
	}
	return FALSE;
}

/* ---- guarded owner API writes ---- */

gboolean
gw_inventory_owner_set_leaf(GwDmOwner *owner,
                            const gchar *uri,
                            GwDmFormat format,
                            const gchar *value,
                            GwDmAccess access,
                            GError **error)
{
	return gw_dm_owner_set_leaf(
	    owner, uri, format, GW_INVENTORY_MIME, value != NULL ? value : "", access, error);
}

static gboolean
gw_inventory_write_leaf(GwInventory *self,
                        const gchar *uri,
                        GwDmFormat format,
                        const gchar *value,
                        GwDmAccess access,
                        GError **error)
{
	return gw_inventory_owner_set_leaf(&self->owner, uri, format, value, access, error);
}

static gboolean
gw_inventory_write_interior(GwInventory *self,
                            const gchar *uri,
                            GwDmAccess access,
                            const gchar *acl,
                            GError **error)
{
	return gw_dm_owner_ensure_interior(&self->owner, uri, access, acl, error);
}

static gboolean
gw_inventory_write_properties(GwInventory *self,
                              const gchar *uri,
                              GwDmAccess access,
                              const gchar *acl,
                              GError **error)
{
	return gw_dm_owner_set_properties(&self->owner, uri, access, acl, error);
}

static gboolean
gw_inventory_write_remove(GwInventory *self, const gchar *uri, GError **error)
{
	return gw_dm_owner_remove(&self->owner, uri, error);
}

/* makes the leaves below @uri exactly @values (names 1..n, chr); an unchanged list is not
 * rewritten */
gboolean
gw_inventory_write_list(GwDmOwner *owner,
                        const gchar *uri,
                        GPtrArray *values,
                        GwDmAccess leaf_access,
                        GError **error)
{
	guint n_children = 0;
	g_autoptr(GPtrArray) current = gw_inventory_dup_child_values(owner->tree, uri, &n_children);
	GwDmNode *node = gw_dm_tree_lookup(owner->tree, uri);
	gboolean same = node != NULL && !gw_dm_node_is_leaf(node) && n_children == values->len &&
	                current->len == values->len;

	for (guint i = 0; same && i < values->len; i++) {
		if (g_strcmp0(g_ptr_array_index(current, i), g_ptr_array_index(values, i)) != 0)
			same = FALSE;
	}
	if (same)
		return gw_dm_owner_set_properties(owner, uri, ACCESS_GET, NULL, error);
	if (node != NULL && !gw_dm_owner_remove(owner, uri, error))
		return FALSE;
	if (!gw_dm_owner_ensure_interior(owner, uri, ACCESS_GET, NULL, error))
		return FALSE;
	for (guint i = 0; i < values->len; i++) {
		g_autofree gchar *leaf = g_strdup_printf("%s/%u", uri, i + 1);
		if (!gw_inventory_owner_set_leaf(owner,
		                                 leaf,
		                                 GW_DM_FORMAT_CHR,
		                                 g_ptr_array_index(values, i),
		                                 leaf_access,
		                                 error))
			return FALSE;
	}
	return TRUE;
}

static gint
gw_inventory_strptr_cmp(gconstpointer a, gconstpointer b, gpointer user_data)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* makes the leaves below @uri exactly @devinfo (name → value), written in name order */
static gboolean
gw_inventory_write_devinfo(GwInventory *self, const gchar *uri, GHashTable *devinfo, GError **error)
{
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
	guint n = devinfo != NULL ? g_hash_table_size(devinfo) : 0;
	g_autofree gpointer *keys = NULL;
	gboolean same = node != NULL && !gw_dm_node_is_leaf(node);

	if (same) {
		GPtrArray *children = gw_dm_node_get_children(node);
		same = children->len == n;
		for (guint i = 0; same && i < children->len; i++) {
			GwDmNode *child = g_ptr_array_index(children, i);
			g_autofree gchar *value = gw_inventory_node_dup_value(child);
			const gchar *want =
			    g_hash_table_lookup(devinfo, gw_dm_node_get_name(child));
			if (value == NULL || want == NULL || g_strcmp0(value, want) != 0)
				same = FALSE;
		}
	}
	if (same)
		return gw_inventory_write_properties(self, uri, ACCESS_GET, NULL, error);
	if (node != NULL && !gw_inventory_write_remove(self, uri, error))
		return FALSE;
	if (!gw_inventory_write_interior(self, uri, ACCESS_GET, NULL, error))
		return FALSE;
	if (n == 0)
		return TRUE;
	keys = g_hash_table_get_keys_as_array(devinfo, NULL);
	g_qsort_with_data(keys, n, sizeof(gpointer), gw_inventory_strptr_cmp, NULL);
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *leaf = g_strdup_printf("%s/%s", uri, (const gchar *)keys[i]);
		if (!gw_inventory_write_leaf(self,
		                             leaf,
		                             GW_DM_FORMAT_CHR,
		                             g_hash_table_lookup(devinfo, keys[i]),
		                             ACCESS_GET,
		                             error))
			return FALSE;
	}
	return TRUE;
}

/* ---- the gateway's DM Servers ---- */

/* (element-type utf8) ServerIDs of ./DMAcc/<x>, in order, without duplicates */
static GPtrArray *
gw_inventory_dup_gateway_servers(GwInventory *self)
{
	GPtrArray *servers = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) accounts = gw_dm_tree_list_children(self->tree, GW_INVENTORY_DMACC);

	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *account = g_strdup_printf(GW_INVENTORY_DMACC "/%s", accounts[i]);
		g_autofree gchar *sid =
		    gw_inventory_dup_leaf(self, account, GW_GWMO_SERVER_SERVER_ID);
		if (!gw_dm_acl_server_id_is_valid(sid) || gw_inventory_strv_contains(servers, sid))
			continue;
		g_ptr_array_add(servers, g_steal_pointer(&sid));
	}
	return servers;
}

/* "Get=a+b&Replace=a+b" for the gateway's servers named in the record's ServerIDs; when it names
 * only servers the gateway does not know, for those; with no ServerIDs, "Get=*"
 * (GwMO-SECARIZE-001, GwMO-PMoDe-003) */
static gchar *
gw_inventory_record_acl(GwInventory *self, const gchar *record_uri, GPtrArray *servers)
{
	g_autofree gchar *ids_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_SERVER_IDS, record_uri);
	g_autoptr(GPtrArray) ids = gw_inventory_dup_child_values(self->tree, ids_uri, NULL);
	g_autoptr(GString) list = g_string_new(NULL);

	g_autofree gchar *grants_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_GRANTS, record_uri);
	g_autofree gchar *grants_text = gw_dm_tree_dup_string(self->tree, grants_uri);
	g_auto(GStrv) grants = g_strsplit(grants_text != NULL ? grants_text : "", "+", -1);
	g_autoptr(GString) readers = NULL;

	for (guint i = 0; i < servers->len; i++) {
		const gchar *sid = g_ptr_array_index(servers, i);
		if (!gw_inventory_strv_contains(ids, sid))
			continue;
		if (list->len > 0)
			g_string_append_c(list, '+');
		g_string_append(list, sid);
	}
	if (list->len == 0 && ids->len > 0) {
		/* seed 001 step 4: a device bootstrapped to DM Servers the gateway has no account
		 * for is theirs, not its other servers' (they would otherwise read it, hear of it and
		 * drive it): the ACL names its own ServerIDs, which no session of the gateway's
		 * servers carries until one of them bootstraps the gateway (work flows 1 and 2) */
		for (guint i = 0; i < ids->len; i++) {
			const gchar *sid = g_ptr_array_index(ids, i);
			if (!gw_dm_acl_server_id_is_valid(sid))
				continue;
			if (list->len > 0)
				g_string_append_c(list, '+');
			g_string_append(list, sid);
		}
	}
	if (list->len == 0)
		return g_strdup("Get=*");
	/* servers the owner granted (GwMO-SECARIZE-001) read it too */
	readers = g_string_new(list->str);
	for (guint i = 0; i < servers->len; i++) {
		const gchar *sid = g_ptr_array_index(servers, i);
		if (g_strv_contains((const gchar *const *)grants, sid) &&
		    !gw_inventory_strv_contains(ids, sid))
			g_string_append_printf(readers, "+%s", sid);
	}
	return g_strdup_printf("Get=%s&Replace=%s", readers->str, list->str);
}

static gboolean
gw_inventory_update_record_acl(GwInventory *self,
                               const gchar *record_uri,
                               GPtrArray *servers,
                               GError **error)
{
	g_autofree gchar *acl = gw_inventory_record_acl(self, record_uri, servers);
	return gw_inventory_write_properties(self, record_uri, GW_DM_ACCESS_NONE, acl, error);
}

/* the owner changed a record's ACL (D-Bus SetNode of ?prop=ACL): the servers it lets Get the
 * record beyond its own become the record's Grants, so the grant outlives re-registrations and
 * account changes; then the ACL is made again from ServerIDs and Grants */
static void
gw_inventory_record_acl_changed(GwInventory *self, const gchar *record_uri)
{
	g_autoptr(GPtrArray) servers = gw_inventory_dup_gateway_servers(self);
	g_autofree gchar *ids_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_SERVER_IDS, record_uri);
	g_autoptr(GPtrArray) ids = gw_inventory_dup_child_values(self->tree, ids_uri, NULL);
	g_autofree gchar *grants_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_GRANTS, record_uri);
	g_autoptr(GString) grants = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GwDmAcl) acl = NULL;
	g_autofree gchar *text = NULL;
	GwDmNode *node = gw_dm_tree_lookup(self->tree, record_uri);

	if (node == NULL)
		return;
	text = gw_dm_node_dup_acl(node);
	acl = gw_dm_acl_parse(text, NULL);
	if (acl == NULL)
		return;
	for (guint i = 0; i < servers->len; i++) {
		const gchar *sid = g_ptr_array_index(servers, i);
		if (gw_inventory_strv_contains(ids, sid) ||
		    !gw_dm_acl_allows(acl, GW_DM_ACCESS_GET, sid))
			continue;
		if (grants->len > 0)
			g_string_append_c(grants, '+');
		g_string_append(grants, sid);
	}
	g_info("owner grants on %s: '%s'", record_uri, grants->str);
	if (!gw_inventory_write_leaf(
	        self, grants_uri, GW_DM_FORMAT_CHR, grants->str, ACCESS_GET, &error) ||
	    !gw_inventory_update_record_acl(self, record_uri, servers, &error))
		g_warning("cannot keep the grants of %s: %s", record_uri, error->message);
}

/* ---- record cache ---- */

static GwInvRecord *
gw_inventory_record_load(GwInventory *self, const gchar *name)
{
	g_autofree gchar *uri = gw_inventory_record_uri(name);
	g_autofree gchar *device_id = NULL;
	g_autofree gchar *mode = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *last_seen = NULL;
	GwDmNode *node = gw_dm_tree_lookup(self->tree, uri);
	GwInvRecord *rec;

	if (node == NULL || gw_dm_node_is_leaf(node))
		return NULL;
	device_id = gw_inventory_dup_leaf_nonempty(self, uri, GW_GWMO_DEVICE_DEVICE_ID);
	if (device_id == NULL)
		return NULL;
	mode = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_MODE);
	status = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_STATUS);
	last_seen = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_LAST_SEEN);

	rec = g_new0(GwInvRecord, 1);
	rec->name = g_strdup(name);
	rec->number = gw_inventory_name_number(name);
	rec->device_id = g_steal_pointer(&device_id);
	rec->mode = gw_inventory_parse_mode(mode);
	rec->discovered = g_strcmp0(status, GW_GWMO_STATUS_DISCOVERED) == 0;
	rec->attached = !rec->discovered && g_strcmp0(status, GW_GWMO_STATUS_DETACHED) != 0;
	rec->last_seen = gw_inventory_parse_time(last_seen);
	return rec;
}

static void
gw_inventory_cache_drop(GwInventory *self, GwInvRecord *rec)
{
	g_hash_table_remove(self->records_by_name, rec->name);
	g_hash_table_remove(self->records, rec->device_id); /* frees rec */
}

static void
gw_inventory_cache_insert(GwInventory *self, GwInvRecord *rec)
{
	GwInvRecord *other = g_hash_table_lookup(self->records, rec->device_id);

	if (other != NULL) {
		g_warning("records %s and %s both hold DeviceID %s; ignoring %s",
		          other->name,
		          rec->name,
		          rec->device_id,
		          rec->name);
		gw_inv_record_free(rec);
		return;
	}
	if (rec->number >= self->next_record)
		self->next_record = rec->number + 1;
	g_hash_table_insert(self->records_by_name, rec->name, rec);
	g_hash_table_insert(self->records, rec->device_id, rec);
}

/* re-reads one record changed by somebody else */
static void
gw_inventory_reload_record(GwInventory *self, const gchar *name)
{
	GwInvRecord *old = g_hash_table_lookup(self->records_by_name, name);
	GwInvRecord *rec = gw_inventory_record_load(self, name);
	guint64 number = gw_inventory_name_number(name);

	/* never hand out a number that is in the tree, even without DeviceID */
	if (number >= self->next_record)
		self->next_record = number + 1;

	/* keep the sub-second last-seen time when LastSeen itself did not change */
	if (old != NULL && rec != NULL) {
		g_autofree gchar *uri = gw_inventory_record_uri(name);
		g_autofree gchar *stored =
		    gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_LAST_SEEN);
		g_autofree gchar *cached = gw_inventory_format_time(old->last_seen);
		if (g_strcmp0(stored, cached) == 0)
			rec->last_seen = old->last_seen;
	}
	if (old != NULL)
		gw_inventory_cache_drop(self, old);
	if (rec != NULL)
		gw_inventory_cache_insert(self, rec);
}

static void
gw_inventory_reload_records(GwInventory *self)
{
	g_auto(GStrv) names = gw_dm_tree_list_children(self->tree, GW_GWMO_INVENTORY_DEVICES);

	g_hash_table_remove_all(self->records_by_name);
	g_hash_table_remove_all(self->records);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		GwInvRecord *rec = gw_inventory_record_load(self, names[i]);
		if (rec != NULL)
			gw_inventory_cache_insert(self, rec);
		/* a record without DeviceID still uses its number */
		if (gw_inventory_name_number(names[i]) >= self->next_record)
			self->next_record = gw_inventory_name_number(names[i]) + 1;
	}
}

static gint
gw_inventory_record_cmp(gconstpointer a, gconstpointer b)
{
	const GwInvRecord *ra = *(const GwInvRecord *const *)a;
	const GwInvRecord *rb = *(const GwInvRecord *const *)b;

	/* numbered records in creation order, any other name after them */
	if (ra->number != rb->number) {
		if (ra->number == 0)
			return 1;
		if (rb->number == 0)
			return -1;
		return ra->number < rb->number ? -1 : 1;
	}
	return g_strcmp0(ra->name, rb->name);
}

/* (element-type GwInvRecord) borrowed, in creation order */
static GPtrArray *
gw_inventory_sorted_records(GwInventory *self)
{
	GPtrArray *array = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->records);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(array, value);
	g_ptr_array_sort(array, gw_inventory_record_cmp);
	return array;
}

/* ---- Config/Servers ---- */

static gboolean
gw_inventory_sync_server_entry(GwInventory *self,
                               const gchar *name,
                               const gchar *server_id,
                               GError **error)
{
	const gchar *prefs[] = {GW_GWMO_SERVER_INVENTORY_ALERT, GW_GWMO_SERVER_IMAGE_STORE};
	g_autofree gchar *uri = g_strdup_printf(GW_GWMO_CONFIG_SERVERS "/%s", name);
	g_autofree gchar *acl = g_strdup_printf("Get=%s&Replace=%s", server_id, server_id);
	g_autofree gchar *sid_uri = g_strdup_printf("%s/" GW_GWMO_SERVER_SERVER_ID, uri);
	g_autofree gchar *old_sid = gw_dm_tree_dup_string(self->tree, sid_uri);
	/* the account now belongs to another server: its preferences start over */
	gboolean reset = old_sid != NULL && g_strcmp0(old_sid, server_id) != 0;

	if (!gw_inventory_write_interior(self, uri, ACCESS_GET, acl, error))
		return FALSE;
	if (!gw_inventory_write_leaf(self, sid_uri, GW_DM_FORMAT_CHR, server_id, ACCESS_GET, error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(prefs); i++) {
		g_autofree gchar *pref_uri = g_strdup_printf("%s/%s", uri, prefs[i]);
		g_autofree gchar *value = gw_dm_tree_dup_string(self->tree, pref_uri);
		const gchar *keep = NULL;
		if (!reset && (g_strcmp0(value, "true") == 0 || g_strcmp0(value, "false") == 0))
			keep = value;
		if (!gw_inventory_write_leaf(self,
		                             pref_uri,
		                             GW_DM_FORMAT_BOOL,
		                             keep != NULL ? keep : "true",
		                             ACCESS_GET_REPLACE,
		                             error))
			return FALSE;
	}
	return TRUE;
}

void
gw_inventory_sync_servers(GwInventory *self)
{
	g_auto(GStrv) accounts = NULL;
	g_auto(GStrv) entries = NULL;
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) servers = NULL;
	g_autoptr(GPtrArray) records = NULL;

	g_return_if_fail(GW_IS_INVENTORY(self));

	accounts = gw_dm_tree_list_children(self->tree, GW_INVENTORY_DMACC);
	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *account = g_strdup_printf(GW_INVENTORY_DMACC "/%s", accounts[i]);
		g_autofree gchar *sid =
		    gw_inventory_dup_leaf(self, account, GW_GWMO_SERVER_SERVER_ID);
		if (!gw_dm_acl_server_id_is_valid(sid))
			continue;
		if (!gw_inventory_sync_server_entry(self, accounts[i], sid, &error)) {
			g_warning("cannot make the Config entry of %s: %s", sid, error->message);
			continue;
		}
		g_ptr_array_add(keep, g_strdup(accounts[i]));
	}
	entries = gw_dm_tree_list_children(self->tree, GW_GWMO_CONFIG_SERVERS);
	for (guint i = 0; entries != NULL && entries[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *uri = NULL;
		if (gw_inventory_strv_contains(keep, entries[i]))
			continue;
		uri = g_strdup_printf(GW_GWMO_CONFIG_SERVERS "/%s", entries[i]);
		if (!gw_inventory_write_remove(self, uri, &error))
			g_warning("cannot remove %s: %s", uri, error->message);
	}

	/* the set of servers decides what each record shows to whom */
	servers = gw_inventory_dup_gateway_servers(self);
	records = gw_inventory_sorted_records(self);
	for (guint i = 0; i < records->len; i++) {
		GwInvRecord *rec = g_ptr_array_index(records, i);
		g_autoptr(GError) error = NULL;
		g_autofree gchar *uri = gw_inventory_record_uri(rec->name);
		if (!gw_inventory_update_record_acl(self, uri, servers, &error))
			g_warning("cannot set the ACL of %s: %s", uri, error->message);
	}
}

static gboolean
gw_inventory_servers_idle_cb(gpointer user_data)
{
	GwInventory *self = GW_INVENTORY(user_data);

	self->servers_idle_id = 0;
	gw_inventory_sync_servers(self);
	return G_SOURCE_REMOVE;
}

static void
gw_inventory_schedule_servers_sync(GwInventory *self)
{
	if (self->servers_idle_id != 0)
		return;
	self->servers_idle_id = g_idle_add(gw_inventory_servers_idle_cb, self);
}

/* ---- tree events ---- */

/* every record's Groups list */
static void
gw_inventory_sync_all_record_groups(GwInventory *self)
{
	g_autoptr(GPtrArray) records = gw_inventory_sorted_records(self);

	for (guint i = 0; i < records->len; i++) {
		GwInvRecord *rec = g_ptr_array_index(records, i);
		g_autofree gchar *uri = gw_inventory_record_uri(rec->name);
		g_autoptr(GError) error = NULL;
		if (!gw_groups_sync_record(self->groups, rec->device_id, uri, &error))
			g_warning(
			    "cannot update the groups of %s: %s", rec->device_id, error->message);
	}
}

static void
gw_inventory_reload_all(GwInventory *self)
{
	gw_inventory_reload_records(self);
	gw_groups_reload(self->groups);
	gw_inventory_sync_all_record_groups(self);
}

static void
gw_inventory_devices_changed(GwInventory *self,
                             const gchar *uri,
                             GwDmChange change,
                             const gchar *server_id)
{
	const gchar *rel = uri + strlen(GW_GWMO_INVENTORY_DEVICES) + 1;
	g_auto(GStrv) segs = g_strsplit(rel, "/", 2);
	GwInvRecord *rec;

	if (segs[0] == NULL)
		return;
	if (change == GW_DM_CHANGE_PROPERTIES && segs[1] == NULL && server_id == NULL &&
	    g_hash_table_contains(self->records_by_name, segs[0])) {
		gw_inventory_record_acl_changed(self, uri);
		return;
	}
	rec = g_hash_table_lookup(self->records_by_name, segs[0]);
	if (change == GW_DM_CHANGE_DELETED && segs[1] == NULL) {
		g_autofree gchar *device_id = NULL;
		if (rec == NULL)
			return;
		device_id = g_strdup(rec->device_id);
		gw_inventory_cache_drop(self, rec);
		g_signal_emit(self, signals[SIGNAL_DEVICE_REMOVED], 0, uri, device_id);
		return;
	}
	gw_inventory_reload_record(self, segs[0]);
}

/* an account appeared, went or changed its ServerID (not: nonces, counters below it) */
static gboolean
gw_inventory_is_account_change(const gchar *uri)
{
	const gchar *rel;
	const gchar *slash;

	if (gw_dm_uri_is_below(GW_INVENTORY_DMACC, uri))
		return TRUE; /* ./DMAcc itself or an ancestor (a rollback changes ".") */
	if (!gw_dm_uri_is_below(uri, GW_INVENTORY_DMACC))
		return FALSE;
	rel = uri + strlen(GW_INVENTORY_DMACC) + 1;
	slash = strchr(rel, '/');
	return slash == NULL || g_strcmp0(slash + 1, GW_GWMO_SERVER_SERVER_ID) == 0;
}

static void
gw_inventory_tree_changed_cb(GwDmTree *tree,
                             const gchar *uri,
                             guint change,
                             const gchar *server_id,
                             gpointer user_data)
{
	GwInventory *self = GW_INVENTORY(user_data);

	if (uri == NULL)
		return;
	/* the accounts decide Config/Servers and the records' ACLs */
	if (gw_inventory_is_account_change(uri))
		gw_inventory_schedule_servers_sync(self);
	if (gw_dm_owner_is_writing(&self->owner))
		return;
	if (gw_dm_uri_is_below(uri, GW_GWMO_INVENTORY_GROUPS) &&
	    g_strcmp0(uri, GW_GWMO_INVENTORY_GROUPS) != 0) {
		gw_groups_tree_changed(self->groups, uri, change, server_id);
		return;
	}
	if (gw_dm_uri_is_below(uri, GW_GWMO_INVENTORY_DEVICES) &&
	    g_strcmp0(uri, GW_GWMO_INVENTORY_DEVICES) != 0) {
		gw_inventory_devices_changed(self, uri, change, server_id);
		return;
	}
	/* an ancestor of the inventory was replaced (an Atomic rollback changes ".") */
	if (change != GW_DM_CHANGE_PROPERTIES &&
	    (gw_dm_uri_is_below(GW_GWMO_INVENTORY_DEVICES, uri) ||
	     gw_dm_uri_is_below(GW_GWMO_INVENTORY_GROUPS, uri)))
		gw_inventory_reload_all(self);
}

/* ---- Summary (GwMO-DI-002) ---- */

static void
gw_inventory_summary_hook(GwDmTree *tree, const gchar *uri, gpointer user_data)
{
	GwInventory *self = GW_INVENTORY(user_data);
	guint counts[G_N_ELEMENTS(summary_leaves)] = {0};
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->records);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GwInvRecord *rec = value;
		counts[0]++;
		if (rec->discovered) {
			counts[GW_INVENTORY_SUMMARY_DISCOVERED]++;
			continue;
		}
		counts[rec->attached ? 1 : 2]++;
		if (gw_inventory_mode_is_valid(rec->mode))
			counts[2 + rec->mode]++;
	}
	for (guint i = 0; i < G_N_ELEMENTS(summary_leaves); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *leaf =
		    g_strdup_printf(GW_GWMO_INVENTORY_SUMMARY "/%s", summary_leaves[i]);
		g_autofree gchar *text = g_strdup_printf("%u", counts[i]);
		g_autofree gchar *current = gw_dm_tree_dup_string(self->tree, leaf);
		/* only a changed value is written: reads must not make the store save */
		if (g_strcmp0(current, text) == 0)
			continue;
		if (!gw_inventory_write_leaf(
		        self, leaf, GW_DM_FORMAT_INT, text, ACCESS_GET, &error))
			g_warning("cannot update %s: %s", leaf, error->message);
	}
}

/* ---- leases (GwMO-DI-003) ---- */

static gint64
gw_inventory_config_int(GwInventory *self, const gchar *key, gint64 fallback)
{
	gint64 value;

	if (self->config == NULL)
		return fallback;
	value = gw_config_get_int(self->config, "inventory", key);
	return value > 0 ? value : fallback;
}

static gboolean
gw_inventory_lease_timer_cb(gpointer user_data)
{
	GwInventory *self = GW_INVENTORY(user_data);
	guint n = gw_inventory_check_leases(self);

	if (n > 0)
		g_debug("%u device(s) detached after their lease ran out", n);
	return G_SOURCE_CONTINUE;
}

/* ---- GObject ---- */

static void
gw_inventory_dispose(GObject *object)
{
	GwInventory *self = GW_INVENTORY(object);

	if (self->tree != NULL) {
		if (self->changed_id != 0)
			g_signal_handler_disconnect(self->tree, self->changed_id);
		if (self->summary_hook_id != 0)
			gw_dm_tree_remove_handler(self->tree, self->summary_hook_id);
	}
	self->changed_id = 0;
	self->summary_hook_id = 0;
	g_clear_handle_id(&self->lease_timer_id, g_source_remove);
	g_clear_handle_id(&self->servers_idle_id, g_source_remove);
	g_clear_object(&self->groups);
	g_clear_object(&self->tree);
	g_clear_object(&self->config);
	G_OBJECT_CLASS(gw_inventory_parent_class)->dispose(object);
}

static void
gw_inventory_finalize(GObject *object)
{
	GwInventory *self = GW_INVENTORY(object);

	g_hash_table_unref(self->records_by_name);
	g_hash_table_unref(self->records);
	G_OBJECT_CLASS(gw_inventory_parent_class)->finalize(object);
}

static void
gw_inventory_class_init(GwInventoryClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = gw_inventory_dispose;
	object_class->finalize = gw_inventory_finalize;

	signals[SIGNAL_DEVICE_ATTACHED] = g_signal_new("device-attached",
	                                               G_TYPE_FROM_CLASS(klass),
	                                               G_SIGNAL_RUN_LAST,
	                                               0,
	                                               NULL,
	                                               NULL,
	                                               NULL,
	                                               G_TYPE_NONE,
	                                               3,
	                                               G_TYPE_STRING,
	                                               G_TYPE_STRING,
	                                               G_TYPE_BOOLEAN);
	signals[SIGNAL_DEVICE_DETACHED] = g_signal_new("device-detached",
	                                               G_TYPE_FROM_CLASS(klass),
	                                               G_SIGNAL_RUN_LAST,
	                                               0,
	                                               NULL,
	                                               NULL,
	                                               NULL,
	                                               G_TYPE_NONE,
	                                               2,
	                                               G_TYPE_STRING,
	                                               G_TYPE_STRING);
	signals[SIGNAL_DEVICE_REMOVED] = g_signal_new("device-removed",
	                                              G_TYPE_FROM_CLASS(klass),
	                                              G_SIGNAL_RUN_LAST,
	                                              0,
	                                              NULL,
	                                              NULL,
	                                              NULL,
	                                              G_TYPE_NONE,
	                                              2,
	                                              G_TYPE_STRING,
	                                              G_TYPE_STRING);
	signals[SIGNAL_DEVICE_DISCOVERED] = g_signal_new("device-discovered",
	                                                 G_TYPE_FROM_CLASS(klass),
	                                                 G_SIGNAL_RUN_LAST,
	                                                 0,
	                                                 NULL,
	                                                 NULL,
	                                                 NULL,
	                                                 G_TYPE_NONE,
	                                                 2,
	                                                 G_TYPE_STRING,
	                                                 G_TYPE_STRING);
}

static void
gw_inventory_init(GwInventory *self)
{
	self->records = g_hash_table_new_full(
	    g_str_hash, g_str_equal, NULL, (GDestroyNotify)gw_inv_record_free);
	self->records_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	self->next_record = 1;
}

GwGroups *
gw_inventory_get_groups(GwInventory *self)
{
	g_return_val_if_fail(GW_IS_INVENTORY(self), NULL);
	return self->groups;
}

GwInventory *
gw_inventory_new(GwDmTree *tree, GwConfig *config)
{
	GwInventory *self;

	g_return_val_if_fail(GW_IS_DM_TREE(tree), NULL);
	g_return_val_if_fail(config == NULL || GW_IS_CONFIG(config), NULL);

	self = g_object_new(GW_TYPE_INVENTORY, NULL);
	self->tree = g_object_ref(tree);
	gw_dm_owner_init(&self->owner, self->tree);
	self->config = config != NULL ? g_object_ref(config) : NULL;
	/* the device secrets are never readable, whoever writes them (a bootstrap asking for
	 * Get, a state written before this rule) */
	gw_dm_tree_add_ddf_node(tree,
	                        GW_GWMO_INVENTORY_DEVICES "/*/" GW_GWMO_DEVICE_CREDENTIALS
	                                                  "/" GW_GWMO_CRED_CLIENT_SECRET,
	                        GW_DM_FORMAT_CHR,
	                        GW_DM_DDF_SECRET_ACCESS);
	gw_dm_tree_add_ddf_node(tree,
	                        GW_GWMO_INVENTORY_DEVICES "/*/" GW_GWMO_DEVICE_CREDENTIALS
	                                                  "/" GW_GWMO_CRED_SERVER_SECRET,
	                        GW_DM_FORMAT_CHR,
	                        GW_DM_DDF_SECRET_ACCESS);
	/* the nonces: what a digest is computed over is nobody's to read either */
	gw_dm_tree_add_ddf_node(tree,
	                        GW_GWMO_INVENTORY_DEVICES "/*/" GW_GWMO_DEVICE_CREDENTIALS
	                                                  "/" GW_GWMO_CRED_CLIENT_NONCE,
	                        GW_DM_FORMAT_BIN,
	                        GW_DM_DDF_SECRET_ACCESS);
	gw_dm_tree_add_ddf_node(tree,
	                        GW_GWMO_INVENTORY_DEVICES "/*/" GW_GWMO_DEVICE_CREDENTIALS
	                                                  "/" GW_GWMO_CRED_SERVER_NONCE,
	                        GW_DM_FORMAT_BIN,
	                        GW_DM_DDF_SECRET_ACCESS);
	gw_inventory_reload_records(self);
	self->groups = gw_groups_new(self->tree, self, &self->owner);
	self->changed_id =
	    g_signal_connect(tree, "changed", G_CALLBACK(gw_inventory_tree_changed_cb), self);
	return self;
}

gboolean
gw_inventory_start(GwInventory *self, GError **error)
{
	gint64 interval;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);

	if (self->started)
		return TRUE;
	if (!gw_inventory_write_interior(self, GW_GWMO_INVENTORY_DEVICES, ACCESS_GET, NULL, error))
		return FALSE;
	/* any DM Server may create a group; the group then carries its creator's ACL */
	if (!gw_inventory_write_interior(
	        self, GW_GWMO_INVENTORY_GROUPS, ACCESS_GET_ADD, "Add=*&Get=*", error))
		return FALSE;
	if (!gw_inventory_write_interior(self, GW_GWMO_CONFIG_SERVERS, ACCESS_GET, NULL, error))
		return FALSE;

	gw_inventory_reload_all(self);
	gw_inventory_sync_servers(self);

	self->summary_hook_id = gw_dm_tree_add_get_hook(
	    self->tree, GW_GWMO_INVENTORY_SUMMARY "/**", gw_inventory_summary_hook, self, NULL);
	/* a lease shorter than the check interval is checked as often as it is long */
	interval = MIN(
	    gw_inventory_config_int(self, "lease-check-interval", GW_INVENTORY_INTERVAL_DEFAULT),
	    gw_inventory_config_int(self, "detach-after", GW_INVENTORY_DETACH_DEFAULT));
	self->lease_timer_id = g_timeout_add_seconds(
	    (guint)MIN(interval, G_MAXUINT), gw_inventory_lease_timer_cb, self);
	self->started = TRUE;
	return TRUE;
}

/* ---- records ---- */

gboolean
gw_inventory_validate_text(const gchar *what, const gchar *value, gsize max_len, GError **error)
{
	if (value == NULL || gw_inventory_text_is_valid(value, max_len))
		return TRUE;
	g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid %s", what);
	return FALSE;
}

gboolean
gw_inventory_validate_device_id(const gchar *device_id, GError **error)
{
	if (device_id != NULL && device_id[0] != '\0' &&
	    gw_inventory_text_is_valid(device_id, GW_INVENTORY_MAX_ID_LEN))
		return TRUE;
	g_set_error_literal(error,
	                    GW_ERROR,
	                    GW_ERROR_INVALID_ARGS,
	                    "a DeviceID is non-empty UTF-8 of at most 255 bytes");
	return FALSE;
}

static gboolean
gw_inventory_validate_info(const GwInventoryDevice *info, GError **error)
{
	if (!gw_inventory_validate_device_id(info->device_id, error))
		return FALSE;
	if (info->mode != 0 && !gw_inventory_mode_is_valid(info->mode)) {
		g_set_error(error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid mode %u", info->mode);
		return FALSE;
	}
	/* GwMO-MOO-001: Adaptation only through an adapter for the device's protocol */
	if (info->mode != 0 && !gw_gwmo_mode_is_available(info->protocol, info->mode)) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_SUPPORTED,
		            "mode %u is not available for protocol %s",
		            info->mode,
		            info->protocol != NULL ? info->protocol : GW_GWMO_PROTOCOL_OMA_DM);
		return FALSE;
	}
	if ((info->protocol != NULL && info->protocol[0] == '\0') ||
	    (info->component_type != NULL && info->component_type[0] == '\0')) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "empty Protocol or ComponentType");
		return FALSE;
	}
	if (!gw_inventory_validate_text(
	        "Protocol", info->protocol, GW_INVENTORY_MAX_ID_LEN, error) ||
	    !gw_inventory_validate_text(
	        "ComponentType", info->component_type, GW_INVENTORY_MAX_ID_LEN, error) ||
	    !gw_inventory_validate_text(
	        "Address", info->address, GW_INVENTORY_MAX_VALUE_LEN, error) ||
	    !gw_inventory_validate_text(
	        "NotifyAddr", info->notify_addr, GW_INVENTORY_MAX_VALUE_LEN, error) ||
	    !gw_inventory_validate_text(
	        "ClientName", info->client_name, GW_INVENTORY_MAX_VALUE_LEN, error) ||
	    !gw_inventory_validate_text(
	        "ClientSecret", info->client_secret, GW_INVENTORY_MAX_VALUE_LEN, error) ||
	    !gw_inventory_validate_text(
	        "ServerSecret", info->server_secret, GW_INVENTORY_MAX_VALUE_LEN, error))
		return FALSE;
	if (info->notify_addr != NULL && info->notify_addr[0] != '\0' &&
	    !g_str_has_prefix(info->notify_addr, "http://") &&
	    !g_str_has_prefix(info->notify_addr, "https://") &&
	    !g_str_has_prefix(info->notify_addr, "udp://")) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "NotifyAddr is http(s):// or udp://");
		return FALSE;
	}
	if (info->auth_type != NULL && g_strcmp0(info->auth_type, "BASIC") != 0 &&
	    g_strcmp0(info->auth_type, "DIGEST") != 0 && g_strcmp0(info->auth_type, "HMAC") != 0) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_INVALID_ARGS,
		            "invalid AuthType %s",
		            g_utf8_validate(info->auth_type, -1, NULL) ? info->auth_type : "?");
		return FALSE;
	}
	for (guint i = 0; info->server_ids != NULL && info->server_ids[i] != NULL; i++) {
		/* each one may stand in the record's ACL */
		if (info->server_ids[i][0] == '\0' ||
		    !gw_inventory_text_is_valid(info->server_ids[i], GW_INVENTORY_MAX_ID_LEN) ||
		    !gw_dm_acl_server_id_is_valid(info->server_ids[i])) {
			g_set_error_literal(
			    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "invalid ServerID");
			return FALSE;
		}
		if (i >= GW_INVENTORY_MAX_SERVER_IDS) {
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_INVALID_ARGS,
			            "more than %u ServerIDs",
			            GW_INVENTORY_MAX_SERVER_IDS);
			return FALSE;
		}
	}
	if (info->devinfo != NULL) {
		GHashTableIter iter;
		gpointer key;
		gpointer value;
		g_hash_table_iter_init(&iter, info->devinfo);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			if (!gw_inventory_name_is_safe(key) ||
			    !gw_inventory_text_is_valid(value, GW_INVENTORY_MAX_VALUE_LEN)) {
				g_set_error_literal(error,
				                    GW_ERROR,
				                    GW_ERROR_INVALID_ARGS,
				                    "invalid DevInfo entry");
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* writes a leaf of the record when @value is given or the leaf is missing (then @fallback) */
static gboolean
gw_inventory_write_record_leaf(GwInventory *self,
                               const gchar *record_uri,
                               const gchar *leaf,
                               GwDmFormat format,
                               const gchar *value,
                               const gchar *fallback,
                               GwDmAccess access,
                               GError **error)
{
	g_autofree gchar *uri = g_strdup_printf("%s/%s", record_uri, leaf);

	if (value == NULL) {
		if (gw_dm_tree_lookup(self->tree, uri) != NULL)
			return gw_inventory_write_properties(self, uri, access, NULL, error);
		value = fallback;
	}
	return gw_inventory_write_leaf(self, uri, format, value, access, error);
}

static gboolean
gw_inventory_write_record(GwInventory *self,
                          const gchar *uri,
                          const GwInventoryDevice *info,
                          guint mode,
                          const gchar *status,
                          gint64 now,
                          GError **error)
{
	g_autofree gchar *mode_text = g_strdup_printf("%u", mode);
	g_autofree gchar *last_seen = gw_inventory_format_time(now);
	g_autofree gchar *ids_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_SERVER_IDS, uri);
	g_autofree gchar *devinfo_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_DEVINFO, uri);
	g_autofree gchar *groups_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_GROUPS, uri);
	g_autofree gchar *cred_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_CREDENTIALS, uri);
	g_autoptr(GPtrArray) servers = NULL;

	if (!gw_inventory_write_interior(self, uri, ACCESS_GET, NULL, error))
		return FALSE;
	if (!gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_DEVICE_ID,
	                                    GW_DM_FORMAT_CHR,
	                                    info->device_id,
	                                    NULL,
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_COMPONENT_TYPE,
	                                    GW_DM_FORMAT_CHR,
	                                    info->component_type,
	                                    GW_GWMO_COMPONENT_END_DEVICE,
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_PROTOCOL,
	                                    GW_DM_FORMAT_CHR,
	                                    info->protocol,
	                                    GW_GWMO_PROTOCOL_OMA_DM,
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_MODE,
	                                    GW_DM_FORMAT_INT,
	                                    mode_text,
	                                    NULL,
	                                    ACCESS_GET_REPLACE,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_STATUS,
	                                    GW_DM_FORMAT_CHR,
	                                    status,
	                                    NULL,
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_ADDRESS,
	                                    GW_DM_FORMAT_CHR,
	                                    info->address,
	                                    "",
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_NOTIFY_ADDR,
	                                    GW_DM_FORMAT_CHR,
	                                    info->notify_addr,
	                                    "",
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_LAST_SEEN,
	                                    GW_DM_FORMAT_DATE,
	                                    last_seen,
	                                    NULL,
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    uri,
	                                    GW_GWMO_DEVICE_TRUSTED,
	                                    GW_DM_FORMAT_BOOL,
	                                    info->trusted ? "true" : "false",
	                                    NULL,
	                                    ACCESS_GET,
	                                    error))
		return FALSE;

	if (info->server_ids != NULL || gw_dm_tree_lookup(self->tree, ids_uri) == NULL) {
		g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; info->server_ids != NULL && info->server_ids[i] != NULL; i++) {
			if (!gw_inventory_strv_contains(ids, info->server_ids[i]))
				g_ptr_array_add(ids, g_strdup(info->server_ids[i]));
		}
		if (!gw_inventory_write_list(&self->owner, ids_uri, ids, ACCESS_GET, error))
			return FALSE;
	}
	if (info->devinfo != NULL || gw_dm_tree_lookup(self->tree, devinfo_uri) == NULL) {
		if (!gw_inventory_write_devinfo(self, devinfo_uri, info->devinfo, error))
			return FALSE;
	}
	if (!gw_inventory_write_interior(self, groups_uri, ACCESS_GET, NULL, error))
		return FALSE;

	/* credentials: the secrets have no Get access type, so no server ever reads them */
	if (!gw_inventory_write_interior(self, cred_uri, ACCESS_GET, NULL, error))
		return FALSE;
	if (!gw_inventory_write_record_leaf(self,
	                                    cred_uri,
	                                    GW_GWMO_CRED_AUTH_TYPE,
	                                    GW_DM_FORMAT_CHR,
	                                    info->auth_type,
	                                    "",
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    cred_uri,
	                                    GW_GWMO_CRED_CLIENT_NAME,
	                                    GW_DM_FORMAT_CHR,
	                                    info->client_name,
	                                    "",
	                                    ACCESS_GET,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    cred_uri,
	                                    GW_GWMO_CRED_CLIENT_SECRET,
	                                    GW_DM_FORMAT_CHR,
	                                    info->client_secret,
	                                    "",
	                                    GW_DM_ACCESS_REPLACE,
	                                    error) ||
	    !gw_inventory_write_record_leaf(self,
	                                    cred_uri,
	                                    GW_GWMO_CRED_SERVER_SECRET,
	                                    GW_DM_FORMAT_CHR,
	                                    info->server_secret,
	                                    "",
	                                    GW_DM_ACCESS_REPLACE,
	                                    error))
		return FALSE;

	servers = gw_inventory_dup_gateway_servers(self);
	return gw_inventory_update_record_acl(self, uri, servers, error);
}

/* @attach: the device is here (a registration); FALSE: a new record for a device that never
 * connected (provisioning) */
static gchar *
gw_inventory_register_full(GwInventory *self,
                           const GwInventoryDevice *info,
                           gboolean attach,
                           GError **error)
{
	GwInvRecord *rec;
	g_autofree gchar *name = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *device_id = NULL;
	g_autoptr(GError) error_local = NULL;
	gboolean is_new;
	gboolean was_attached;
	guint mode;
	gint64 now = g_get_real_time();

	g_return_val_if_fail(GW_IS_INVENTORY(self), NULL);
	g_return_val_if_fail(info != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!gw_inventory_validate_info(info, error))
		return NULL;
	rec = g_hash_table_lookup(self->records, info->device_id);
	is_new = rec == NULL;
	was_attached = rec != NULL && rec->attached;
	/* a Discovered record may be provisioned (the owner gives it its credentials) */
	if (!attach && !is_new && !rec->discovered) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_ALREADY_EXISTS,
		            "device %s exists already",
		            info->device_id);
		return NULL;
	}
	if (is_new) {
		/* never reuse a number, not even one a removed record had */
		do {
			g_free(name);
			name = g_strdup_printf("%" G_GUINT64_FORMAT, self->next_record++);
			g_free(uri);
			uri = gw_inventory_record_uri(name);
		} while (gw_dm_tree_lookup(self->tree, uri) != NULL);
	} else {
		name = g_strdup(rec->name);
		uri = gw_inventory_record_uri(name);
	}
	if (info->mode != 0)
		mode = info->mode;
	else if (!is_new && gw_inventory_mode_is_valid(rec->mode))
		mode = rec->mode;
	else
		mode = gw_gwmo_get_default_mode(self->tree);
	if (!gw_inventory_mode_is_valid(mode))
		mode = GW_GWMO_MODE_PROXY;

	if (!gw_inventory_write_record(self,
	                               uri,
	                               info,
	                               mode,
	                               attach ? GW_GWMO_STATUS_ATTACHED : GW_GWMO_STATUS_DETACHED,
	                               now,
	                               error)) {
		if (is_new && gw_dm_tree_lookup(self->tree, uri) != NULL &&
		    !gw_inventory_write_remove(self, uri, &error_local))
			g_warning(
			    "cannot remove the partial record %s: %s", uri, error_local->message);
		return NULL;
	}
	if (is_new) {
		rec = g_new0(GwInvRecord, 1);
		rec->name = g_strdup(name);
		rec->number = gw_inventory_name_number(name);
		rec->device_id = g_strdup(info->device_id);
		gw_inventory_cache_insert(self, rec);
	}
	rec->mode = mode;
	rec->attached = attach;
	rec->discovered = FALSE;
	rec->last_seen = now;
	/* it may be a member of groups made before it registered */
	if (!gw_groups_sync_record(self->groups, rec->device_id, uri, &error_local))
		g_warning("cannot update the groups of %s: %s", uri, error_local->message);

	device_id = g_strdup(info->device_id);
	if (attach && !was_attached)
		g_signal_emit(self, signals[SIGNAL_DEVICE_ATTACHED], 0, uri, device_id, is_new);
	return g_steal_pointer(&uri);
}

gchar *
gw_inventory_register(GwInventory *self, const GwInventoryDevice *info, GError **error)
{
	return gw_inventory_register_full(self, info, TRUE, error);
}

gchar *
gw_inventory_provision(GwInventory *self, const GwInventoryDevice *info, GError **error)
{
	return gw_inventory_register_full(self, info, FALSE, error);
}

static gboolean
gw_inventory_leaf_equals(GwDmNode *node, const gchar *value);

guint
gw_inventory_count_discovered(GwInventory *self)
{
	GHashTableIter iter;
	gpointer value;
	guint n = 0;

	g_return_val_if_fail(GW_IS_INVENTORY(self), 0);
	g_hash_table_iter_init(&iter, self->records);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		n += ((GwInvRecord *)value)->discovered ? 1 : 0;
	return n;
}

gchar *
gw_inventory_discover(GwInventory *self,
                      const GwInventoryDevice *info,
                      guint max_discovered,
                      gboolean *created,
                      GError **error)
{
	GwInvRecord *rec;
	g_autofree gchar *name = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *device_id = NULL;
	g_autoptr(GError) error_local = NULL;
	gint64 now = g_get_real_time();
	guint mode;

	g_return_val_if_fail(GW_IS_INVENTORY(self), NULL);
	g_return_val_if_fail(info != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (created != NULL)
		*created = FALSE;
	if (!gw_inventory_validate_info(info, error))
		return NULL;
	rec = g_hash_table_lookup(self->records, info->device_id);
	if (rec != NULL && !rec->discovered) {
		/* an announcement is not authenticated: a record the gateway manages (Attached,
		 * Detached, provisioned) keeps what its own sessions wrote */
		return gw_inventory_record_uri(rec->name);
	}
	if (rec != NULL) {
		g_autofree gchar *last_seen = gw_inventory_format_time(now);
		g_autofree gchar *addr_uri = NULL;
		g_autofree gchar *seen_uri = NULL;

		uri = gw_inventory_record_uri(rec->name);
		addr_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_ADDRESS, uri);
		seen_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_LAST_SEEN, uri);
		if (info->address != NULL &&
		    !gw_inventory_leaf_equals(gw_dm_tree_lookup(self->tree, addr_uri),
		                              info->address) &&
		    !gw_inventory_write_leaf(
		        self, addr_uri, GW_DM_FORMAT_CHR, info->address, ACCESS_GET, error))
			return NULL;
		if (!gw_inventory_write_leaf(
		        self, seen_uri, GW_DM_FORMAT_DATE, last_seen, ACCESS_GET, error))
			return NULL;
		rec->last_seen = now;
		return g_steal_pointer(&uri);
	}
	if (gw_inventory_count_discovered(self) >= max_discovered) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_WRONG_STATE,
		            "%u Discovered records already ([discovery] max-discovered)",
		            max_discovered);
		return NULL;
	}
	do {
		g_free(name);
		name = g_strdup_printf("%" G_GUINT64_FORMAT, self->next_record++);
		g_free(uri);
		uri = gw_inventory_record_uri(name);
	} while (gw_dm_tree_lookup(self->tree, uri) != NULL);
	mode = gw_gwmo_get_default_mode(self->tree);
	if (!gw_inventory_mode_is_valid(mode))
		mode = GW_GWMO_MODE_PROXY;
	if (!gw_inventory_write_record(
	        self, uri, info, mode, GW_GWMO_STATUS_DISCOVERED, now, error)) {
		if (gw_dm_tree_lookup(self->tree, uri) != NULL &&
		    !gw_inventory_write_remove(self, uri, &error_local))
			g_warning(
			    "cannot remove the partial record %s: %s", uri, error_local->message);
		return NULL;
	}
	rec = g_new0(GwInvRecord, 1);
	rec->name = g_strdup(name);
	rec->number = gw_inventory_name_number(name);
	rec->device_id = g_strdup(info->device_id);
	rec->mode = mode;
	rec->discovered = TRUE;
	rec->last_seen = now;
	gw_inventory_cache_insert(self, rec);
	if (!gw_groups_sync_record(self->groups, rec->device_id, uri, &error_local))
		g_warning("cannot update the groups of %s: %s", uri, error_local->message);
	if (created != NULL)
		*created = TRUE;
	device_id = g_strdup(info->device_id);
	g_signal_emit(self, signals[SIGNAL_DEVICE_DISCOVERED], 0, uri, device_id);
	return g_steal_pointer(&uri);
}

gboolean
gw_inventory_forget_discovered(GwInventory *self, const gchar *device_id)
{
	GwInvRecord *rec;
	g_autoptr(GError) error = NULL;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);
	rec = device_id != NULL ? g_hash_table_lookup(self->records, device_id) : NULL;
	if (rec == NULL || !rec->discovered)
		return FALSE;
	if (!gw_inventory_remove(self, device_id, &error)) {
		g_warning(
		    "cannot remove the Discovered record of %s: %s", device_id, error->message);
		return FALSE;
	}
	return TRUE;
}

gchar **
gw_inventory_list_discovered(GwInventory *self)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;

	g_return_val_if_fail(GW_IS_INVENTORY(self), NULL);
	g_hash_table_iter_init(&iter, self->records);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GwInvRecord *rec = value;
		if (rec->discovered)
			g_ptr_array_add(ids, g_strdup(rec->device_id));
	}
	g_ptr_array_add(ids, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&ids), FALSE);
}

gboolean
gw_inventory_is_discovered(GwInventory *self, const gchar *device_id)
{
	GwInvRecord *rec;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);
	rec = device_id != NULL ? g_hash_table_lookup(self->records, device_id) : NULL;
	return rec != NULL && rec->discovered;
}

static gboolean
gw_inventory_write_status(GwInventory *self, GwInvRecord *rec, gboolean attached, GError **error)
{
	g_autofree gchar *uri = gw_inventory_record_uri(rec->name);
	g_autofree gchar *leaf = g_strdup_printf("%s/" GW_GWMO_DEVICE_STATUS, uri);

	if (!gw_inventory_write_leaf(self,
	                             leaf,
	                             GW_DM_FORMAT_CHR,
	                             attached ? GW_GWMO_STATUS_ATTACHED : GW_GWMO_STATUS_DETACHED,
	                             ACCESS_GET,
	                             error))
		return FALSE;
	rec->attached = attached;
	rec->discovered = FALSE;
	return TRUE;
}

static GwInvRecord *
gw_inventory_lookup_record(GwInventory *self, const gchar *device_id, GError **error)
{
	GwInvRecord *rec = device_id != NULL ? g_hash_table_lookup(self->records, device_id) : NULL;

	if (rec == NULL)
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NOT_FOUND,
		            "no device %s",
		            device_id != NULL && g_utf8_validate(device_id, -1, NULL) ? device_id
		                                                                      : "?");
	return rec;
}

gboolean
gw_inventory_touch(GwInventory *self, const gchar *device_id, GError **error)
{
	GwInvRecord *rec;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *leaf = NULL;
	g_autofree gchar *last_seen = NULL;
	g_autofree gchar *id = NULL;
	gboolean was_attached;
	gint64 now = g_get_real_time();

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);

	rec = gw_inventory_lookup_record(self, device_id, error);
	if (rec == NULL)
		return FALSE;
	uri = gw_inventory_record_uri(rec->name);
	leaf = g_strdup_printf("%s/" GW_GWMO_DEVICE_LAST_SEEN, uri);
	last_seen = gw_inventory_format_time(now);
	if (!gw_inventory_write_leaf(self, leaf, GW_DM_FORMAT_DATE, last_seen, ACCESS_GET, error))
		return FALSE;
	rec->last_seen = now;
	was_attached = rec->attached;
	if (!was_attached && !gw_inventory_write_status(self, rec, TRUE, error))
		return FALSE;
	id = g_strdup(rec->device_id);
	if (!was_attached)
		g_signal_emit(self, signals[SIGNAL_DEVICE_ATTACHED], 0, uri, id, FALSE);
	return TRUE;
}

gboolean
gw_inventory_detach(GwInventory *self, const gchar *device_id, GError **error)
{
	GwInvRecord *rec;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *id = NULL;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);

	rec = gw_inventory_lookup_record(self, device_id, error);
	if (rec == NULL)
		return FALSE;
	if (!rec->attached)
		return TRUE;
	if (!gw_inventory_write_status(self, rec, FALSE, error))
		return FALSE;
	uri = gw_inventory_record_uri(rec->name);
	id = g_strdup(rec->device_id);
	g_signal_emit(self, signals[SIGNAL_DEVICE_DETACHED], 0, uri, id);
	return TRUE;
}

gboolean
gw_inventory_remove(GwInventory *self, const gchar *device_id, GError **error)
{
	GwInvRecord *rec;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *id = NULL;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);

	rec = gw_inventory_lookup_record(self, device_id, error);
	if (rec == NULL)
		return FALSE;
	uri = gw_inventory_record_uri(rec->name);
	if (!gw_inventory_write_remove(self, uri, error))
		return FALSE;
	id = g_strdup(rec->device_id);
	gw_inventory_cache_drop(self, rec);
	/* group memberships stay: the device may register again */
	g_signal_emit(self, signals[SIGNAL_DEVICE_REMOVED], 0, uri, id);
	return TRUE;
}

gboolean
gw_inventory_add_server_id(GwInventory *self,
                           const gchar *device_id,
                           const gchar *server_id,
                           GError **error)
{
	g_autofree gchar *uri = NULL;
	g_autofree gchar *ids_uri = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GPtrArray) servers = NULL;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);
	g_return_val_if_fail(device_id != NULL && server_id != NULL, FALSE);
	if (!gw_dm_acl_server_id_is_valid(server_id)) {
		g_set_error(
		    error, GW_ERROR, GW_ERROR_INVALID_ARGS, "not a ServerID: %s", server_id);
		return FALSE;
	}
	uri = gw_inventory_find(self, device_id);
	if (uri == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "no device %s", device_id);
		return FALSE;
	}
	ids_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_SERVER_IDS, uri);
	ids = gw_inventory_dup_child_values(self->tree, ids_uri, NULL);
	if (gw_inventory_strv_contains(ids, server_id))
		return TRUE;
	g_ptr_array_add(ids, g_strdup(server_id));
	servers = gw_inventory_dup_gateway_servers(self);
	return gw_inventory_write_list(&self->owner, ids_uri, ids, ACCESS_GET, error) &&
	       gw_inventory_update_record_acl(self, uri, servers, error);
}

gchar *
gw_inventory_find(GwInventory *self, const gchar *device_id)
{
	GwInvRecord *rec;

	g_return_val_if_fail(GW_IS_INVENTORY(self), NULL);

	if (device_id == NULL)
		return NULL;
	rec = g_hash_table_lookup(self->records, device_id);
	return rec != NULL ? gw_inventory_record_uri(rec->name) : NULL;
}

GPtrArray *
gw_inventory_list(GwInventory *self)
{
	g_autoptr(GPtrArray) records = NULL;
	GPtrArray *uris;

	g_return_val_if_fail(GW_IS_INVENTORY(self), NULL);

	records = gw_inventory_sorted_records(self);
	uris = g_ptr_array_new_full(records->len, g_free);
	for (guint i = 0; i < records->len; i++) {
		GwInvRecord *rec = g_ptr_array_index(records, i);
		g_ptr_array_add(uris, gw_inventory_record_uri(rec->name));
	}
	return uris;
}

/* server_ids and devinfo are always set (maybe empty) */
/* @uri's leaf holds @value (as gw_inventory_write_leaf writes it) */
static gboolean
gw_inventory_leaf_equals(GwDmNode *node, const gchar *value)
{
	GBytes *bytes;
	gsize len = 0;
	const gchar *data;

	if (node == NULL || !gw_dm_node_is_leaf(node))
		return FALSE;
	bytes = gw_dm_node_get_value(node);
	data = bytes != NULL ? g_bytes_get_data(bytes, &len) : NULL;
	return len == strlen(value) && (len == 0 || memcmp(data, value, len) == 0);
}

gboolean
gw_inventory_touch_unchanged(GwInventory *self,
                             const gchar *device_id,
                             const gchar *address,
                             const gchar *notify_addr,
                             GHashTable *devinfo)
{
	GwInvRecord *rec;
	g_autofree gchar *uri = NULL;
	GwDmNode *record;
	g_autoptr(GError) error = NULL;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);

	rec = device_id != NULL ? g_hash_table_lookup(self->records, device_id) : NULL;
	/* a Detached device comes back through a registration (its reply waits for the disk) */
	if (rec == NULL || !rec->attached)
		return FALSE;
	uri = gw_inventory_record_uri(rec->name);
	record = gw_dm_tree_lookup(self->tree, uri);
	if (record == NULL || gw_dm_node_is_leaf(record))
		return FALSE;
	if (address != NULL && !gw_inventory_leaf_equals(
	                           gw_dm_node_get_child(record, GW_GWMO_DEVICE_ADDRESS), address))
		return FALSE;
	if (notify_addr != NULL &&
	    !gw_inventory_leaf_equals(gw_dm_node_get_child(record, GW_GWMO_DEVICE_NOTIFY_ADDR),
	                              notify_addr))
		return FALSE;
	if (devinfo != NULL && g_hash_table_size(devinfo) > 0) {
		GwDmNode *node = gw_dm_node_get_child(record, GW_GWMO_DEVICE_DEVINFO);
		GHashTableIter iter;
		gpointer key, value;

		if (node == NULL || gw_dm_node_is_leaf(node))
			return FALSE;
		g_hash_table_iter_init(&iter, devinfo);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			if (!gw_inventory_leaf_equals(gw_dm_node_get_child(node, key), value))
				return FALSE;
		}
	}
	if (!gw_inventory_touch(self, device_id, &error)) {
		g_warning("device %s: %s", device_id, error->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
gw_inventory_get_contact(GwInventory *self, const gchar *device_id, GwInventoryDevice *info)
{
	GwInvRecord *rec;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *cred_uri = NULL;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);
	g_return_val_if_fail(info != NULL, FALSE);

	memset(info, 0, sizeof(*info));
	rec = device_id != NULL ? g_hash_table_lookup(self->records, device_id) : NULL;
	if (rec == NULL)
		return FALSE;
	uri = gw_inventory_record_uri(rec->name);
	cred_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_CREDENTIALS, uri);
	info->device_id = g_strdup(rec->device_id);
	info->notify_addr = gw_inventory_dup_leaf_nonempty(self, uri, GW_GWMO_DEVICE_NOTIFY_ADDR);
	info->auth_type = gw_inventory_dup_leaf_nonempty(self, cred_uri, GW_GWMO_CRED_AUTH_TYPE);
	info->client_name =
	    gw_inventory_dup_leaf_nonempty(self, cred_uri, GW_GWMO_CRED_CLIENT_NAME);
	info->client_secret =
	    gw_inventory_dup_leaf_nonempty(self, cred_uri, GW_GWMO_CRED_CLIENT_SECRET);
	info->server_secret =
	    gw_inventory_dup_leaf_nonempty(self, cred_uri, GW_GWMO_CRED_SERVER_SECRET);
	return TRUE;
}

/* Credentials/<leaf> of @device_id's record, NULL when the device or the leaf is not there */
static gchar *
gw_inventory_cred_uri(GwInventory *self, const gchar *device_id, const gchar *leaf)
{
	GwInvRecord *rec = device_id != NULL ? g_hash_table_lookup(self->records, device_id) : NULL;
	g_autofree gchar *uri = NULL;

	if (rec == NULL)
		return NULL;
	uri = gw_inventory_record_uri(rec->name);
	return g_strdup_printf("%s/" GW_GWMO_DEVICE_CREDENTIALS "/%s", uri, leaf);
}

static GBytes *
gw_inventory_dup_nonce(GwInventory *self, const gchar *device_id, const gchar *leaf)
{
	g_autofree gchar *uri = gw_inventory_cred_uri(self, device_id, leaf);
	GwDmNode *node = uri != NULL ? gw_dm_tree_lookup(self->tree, uri) : NULL;
	GBytes *value =
	    node != NULL && gw_dm_node_is_leaf(node) ? gw_dm_node_get_value(node) : NULL;

	return value != NULL && g_bytes_get_size(value) > 0 ? g_bytes_ref(value) : NULL;
}

gboolean
gw_inventory_get_nonces(GwInventory *self,
                        const gchar *device_id,
                        GBytes **client_nonce,
                        GBytes **server_nonce)
{
	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);
	g_return_val_if_fail(client_nonce != NULL && server_nonce != NULL, FALSE);

	*client_nonce = NULL;
	*server_nonce = NULL;
	if (device_id == NULL || g_hash_table_lookup(self->records, device_id) == NULL)
		return FALSE;
	*client_nonce = gw_inventory_dup_nonce(self, device_id, GW_GWMO_CRED_CLIENT_NONCE);
	*server_nonce = gw_inventory_dup_nonce(self, device_id, GW_GWMO_CRED_SERVER_NONCE);
	return TRUE;
}

gboolean
gw_inventory_set_nonce(GwInventory *self,
                       const gchar *device_id,
                       gboolean client,
                       GBytes *nonce,
                       GError **error)
{
	const gchar *leaf = client ? GW_GWMO_CRED_CLIENT_NONCE : GW_GWMO_CRED_SERVER_NONCE;
	g_autofree gchar *uri = NULL;
	g_autoptr(GBytes) old = NULL;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);
	g_return_val_if_fail(nonce != NULL, FALSE);

	uri = gw_inventory_cred_uri(self, device_id, leaf);
	if (uri == NULL) {
		g_set_error(error, GW_ERROR, GW_ERROR_NOT_FOUND, "unknown device %s", device_id);
		return FALSE;
	}
	old = gw_inventory_dup_nonce(self, device_id, leaf);
	if (old != NULL && g_bytes_equal(old, nonce))
		return TRUE;
	return gw_dm_owner_set_leaf_bytes(
	    &self->owner, uri, GW_DM_FORMAT_BIN, NULL, nonce, GW_DM_ACCESS_REPLACE, error);
}

gboolean
gw_inventory_get_device(GwInventory *self, const gchar *device_id, GwInventoryDevice *info)
{
	GwInvRecord *rec;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *ids_uri = NULL;
	g_autofree gchar *devinfo_uri = NULL;
	g_autofree gchar *trusted = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	GwDmNode *devinfo;

	g_return_val_if_fail(GW_IS_INVENTORY(self), FALSE);
	g_return_val_if_fail(info != NULL, FALSE);

	/* DeviceID, NotifyAddr and the credentials */
	if (!gw_inventory_get_contact(self, device_id, info))
		return FALSE;
	rec = g_hash_table_lookup(self->records, device_id);
	uri = gw_inventory_record_uri(rec->name);
	ids_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_SERVER_IDS, uri);
	devinfo_uri = g_strdup_printf("%s/" GW_GWMO_DEVICE_DEVINFO, uri);

	info->mode = rec->mode;
	info->protocol = gw_inventory_dup_leaf_nonempty(self, uri, GW_GWMO_DEVICE_PROTOCOL);
	info->component_type =
	    gw_inventory_dup_leaf_nonempty(self, uri, GW_GWMO_DEVICE_COMPONENT_TYPE);
	info->address = gw_inventory_dup_leaf_nonempty(self, uri, GW_GWMO_DEVICE_ADDRESS);
	trusted = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_TRUSTED);
	info->trusted = g_strcmp0(trusted, "true") == 0;

	ids = gw_inventory_dup_child_values(self->tree, ids_uri, NULL);
	g_ptr_array_add(ids, NULL);
	info->server_ids = (gchar **)g_ptr_array_free(g_steal_pointer(&ids), FALSE);

	info->devinfo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	devinfo = gw_dm_tree_lookup(self->tree, devinfo_uri);
	if (devinfo != NULL && !gw_dm_node_is_leaf(devinfo)) {
		GPtrArray *children = gw_dm_node_get_children(devinfo);
		for (guint i = 0; i < children->len; i++) {
			GwDmNode *child = g_ptr_array_index(children, i);
			if (!gw_dm_node_is_leaf(child))
				continue;
			g_hash_table_replace(info->devinfo,
			                     g_strdup(gw_dm_node_get_name(child)),
			                     gw_inventory_node_dup_value(child));
		}
	}

	return TRUE;
}

guint
gw_inventory_check_leases(GwInventory *self)
{
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func(g_free);
	gint64 detach_after;
	gint64 now = g_get_real_time();
	guint n = 0;

	g_return_val_if_fail(GW_IS_INVENTORY(self), 0);

	detach_after = gw_inventory_config_int(self, "detach-after", GW_INVENTORY_DETACH_DEFAULT);
	records = gw_inventory_sorted_records(self);
	for (guint i = 0; i < records->len; i++) {
		GwInvRecord *rec = g_ptr_array_index(records, i);
		/* an adapted device is there as long as its adapter says so (GwAdapters) */
		if (rec->mode == GW_GWMO_MODE_ADAPTATION)
			continue;
		if (rec->attached && now - rec->last_seen > detach_after * G_USEC_PER_SEC)
			g_ptr_array_add(expired, g_strdup(rec->device_id));
	}
	/* signal handlers may change the inventory: look each one up again */
	for (guint i = 0; i < expired->len; i++) {
		g_autoptr(GError) error = NULL;
		const gchar *device_id = g_ptr_array_index(expired, i);
		GwInvRecord *rec = g_hash_table_lookup(self->records, device_id);
		if (rec == NULL || !rec->attached)
			continue;
		if (!gw_inventory_detach(self, device_id, &error)) {
			g_warning("cannot detach %s: %s", device_id, error->message);
			continue;
		}
		n++;
	}
	return n;
}

/* ---- alerts ---- */

gchar **
gw_inventory_alert_servers(GwInventory *self, const gchar *record_uri)
{
	g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) accounts = NULL;

	g_return_val_if_fail(GW_IS_INVENTORY(self), NULL);

	if (record_uri == NULL || gw_dm_tree_lookup(self->tree, record_uri) == NULL) {
		g_ptr_array_add(result, NULL);
		return (gchar **)g_ptr_array_free(g_steal_pointer(&result), FALSE);
	}
	accounts = gw_dm_tree_list_children(self->tree, GW_INVENTORY_DMACC);
	for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++) {
		g_autofree gchar *account = g_strdup_printf(GW_INVENTORY_DMACC "/%s", accounts[i]);
		g_autofree gchar *entry =
		    g_strdup_printf(GW_GWMO_CONFIG_SERVERS "/%s", accounts[i]);
		g_autofree gchar *sid =
		    gw_inventory_dup_leaf(self, account, GW_GWMO_SERVER_SERVER_ID);
		g_autofree gchar *entry_sid = NULL;
		g_autofree gchar *alert = NULL;
		if (!gw_dm_acl_server_id_is_valid(sid) || gw_inventory_strv_contains(result, sid))
			continue;
		/* an entry not made yet (or of a former server) means the default: true */
		entry_sid = gw_inventory_dup_leaf(self, entry, GW_GWMO_SERVER_SERVER_ID);
		if (g_strcmp0(entry_sid, sid) == 0)
			alert = gw_inventory_dup_leaf(self, entry, GW_GWMO_SERVER_INVENTORY_ALERT);
		if (alert != NULL && g_strcmp0(alert, "true") != 0)
			continue;
		if (!gw_dm_tree_check_acl(self->tree, record_uri, GW_DM_ACCESS_GET, sid))
			continue;
		g_ptr_array_add(result, g_steal_pointer(&sid));
	}
	g_ptr_array_add(result, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&result), FALSE);
}

static void
gw_inventory_append_element(GString *xml, const gchar *name, const gchar *value)
{
	g_autofree gchar *escaped = g_markup_escape_text(value != NULL ? value : "", -1);
	g_string_append_printf(xml, "<%s>%s</%s>", name, escaped, name);
}

gchar *
gw_inventory_device_document(GwInventory *self,
                             const gchar *record_uri,
                             const gchar *gateway_address)
{
	g_autoptr(GString) xml = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *gw_id = NULL;
	g_autofree gchar *device_id = NULL;
	g_autofree gchar *address = NULL;
	g_autofree gchar *mode = NULL;
	g_autofree gchar *protocol = NULL;
	g_autofree gchar *status = NULL;
	GwDmNode *node;

	g_return_val_if_fail(GW_IS_INVENTORY(self), NULL);

	node = record_uri != NULL ? gw_dm_tree_lookup(self->tree, record_uri) : NULL;
	if (node == NULL || gw_dm_node_is_leaf(node))
		return NULL;
	uri = gw_dm_node_dup_uri(node);
	device_id = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_DEVICE_ID);
	if (device_id == NULL)
		return NULL;
	gw_id = gw_dm_tree_dup_string(self->tree, GW_INVENTORY_DEVINFO_DEV_ID);
	address = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_ADDRESS);
	mode = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_MODE);
	protocol = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_PROTOCOL);
	status = gw_inventory_dup_leaf(self, uri, GW_GWMO_DEVICE_STATUS);

	xml = g_string_new("<GwMODevice>");
	gw_inventory_append_element(xml, "GatewayID", gw_id);
	gw_inventory_append_element(xml, "GatewayAddress", gateway_address);
	gw_inventory_append_element(xml, "DeviceID", device_id);
	gw_inventory_append_element(xml, "DeviceAddress", address);
	gw_inventory_append_element(xml, "Mode", mode);
	gw_inventory_append_element(xml, "Protocol", protocol);
	gw_inventory_append_element(xml, "Status", status);
	gw_inventory_append_element(xml, "InventoryURI", uri);
	g_string_append(xml, "</GwMODevice>");
	return g_string_free(g_steal_pointer(&xml), FALSE);
}
