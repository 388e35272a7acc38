/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDiscovery"

#include "config.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-glib/glib-watch.h>
#include <string.h>

#include "gw-discovery.h"

/* instances of the browsed type held at once; more are ignored (a flooded LAN) */
#define GW_DISCOVERY_MAX_SEEN 1024
/* attempts at a free name for our service before giving up */
#define GW_DISCOVERY_MAX_RENAMES 16

typedef struct {
	guint refs;        /* browser entries (interface × protocol) announcing it */
	gboolean resolved; /* reported (and logged) once */
} GwDiscoverySeen;

struct _GwDiscovery {
	GObject parent_instance;
	AvahiGLibPoll *poll;
	AvahiClient *client;
	AvahiEntryGroup *group;
	AvahiServiceBrowser *browser;
	gchar *base_name; /* as configured */
	gchar *name;      /* as published (after renames) */
	gchar *type;
	guint16 port;
	gchar **txt;
	gchar *browse_type;
	GwDiscoveryState state;
	gboolean started;
	gboolean in_connect; /* inside avahi_client_new() */
	guint retry_id;
	guint retry_interval; /* seconds, doubles up to max_retry_interval */
	guint max_retry_interval;
	GHashTable *seen; /* name → GwDiscoverySeen */
	gboolean seen_full_logged;
};

G_DEFINE_FINAL_TYPE(GwDiscovery, gw_discovery, G_TYPE_OBJECT)

enum { SIGNAL_STATE_CHANGED, SIGNAL_DEVICE_FOUND, SIGNAL_DEVICE_LOST, N_SIGNALS };
static guint gw_discovery_signals[N_SIGNALS];

static void
gw_discovery_connect(GwDiscovery *self);

const gchar *
gw_discovery_state_to_string(GwDiscoveryState state)
{
	switch (state) {
	case GW_DISCOVERY_STATE_DISABLED:
		return "disabled";
	case GW_DISCOVERY_STATE_UNAVAILABLE:
		return "unavailable";
	case GW_DISCOVERY_STATE_WAITING:
		return "waiting-for-daemon";
	case GW_DISCOVERY_STATE_RUNNING:
		return "running";
	default:
		return "unknown";
	}
}

const gchar *
gw_discovery_state_to_dbus(GwDiscoveryState state)
{
	/* spec/GWMO.md §9: running, no-daemon or disabled; whether the system bus is missing too
	 * is in the log line of the change */
	switch (state) {
	case GW_DISCOVERY_STATE_DISABLED:
		return "disabled";
	case GW_DISCOVERY_STATE_RUNNING:
		return "running";
	default:
		return "no-daemon";
	}
}

static void
gw_discovery_set_state(GwDiscovery *self, GwDiscoveryState state, const gchar *why)
{
	if (self->state == state)
		return;
	self->state = state;
	g_message("mDNS discovery %s (%s)", gw_discovery_state_to_string(state), why);
	g_signal_emit(self, gw_discovery_signals[SIGNAL_STATE_CHANGED], 0);
}

/* the client and everything made with it (entry group, browser, resolvers) */
static void
gw_discovery_drop_client(GwDiscovery *self)
{
	/* avahi_client_free() frees the group, the browser and the resolvers with it */
	self->group = NULL;
	self->browser = NULL;
	g_clear_pointer(&self->client, avahi_client_free);
	/* the daemon announces them again once it is back */
	g_hash_table_remove_all(self->seen);
	self->seen_full_logged = FALSE;
}

/* ---- publication ---- */

static void
gw_discovery_rename(GwDiscovery *self)
{
	gchar *alt = avahi_alternative_service_name(self->name);
	g_message("mDNS service name '%s' is taken, renamed to '%s'", self->name, alt);
	g_free(self->name);
	self->name = g_strdup(alt);
	avahi_free(alt);
}

static void
gw_discovery_publish(GwDiscovery *self);

static void
gw_discovery_group_cb(AvahiEntryGroup *group, AvahiEntryGroupState state, void *user_data)
{
	GwDiscovery *self = GW_DISCOVERY(user_data);

	if (group != self->group)
		return;
	switch (state) {
	case AVAHI_ENTRY_GROUP_ESTABLISHED:
		g_message("mDNS service '%s' (%s) published on port %u",
		          self->name,
		          self->type,
		          (guint)self->port);
		break;
	case AVAHI_ENTRY_GROUP_COLLISION:
		/* another host has the name: the next free one */
		gw_discovery_rename(self);
		avahi_entry_group_reset(group);
		gw_discovery_publish(self);
		break;
	case AVAHI_ENTRY_GROUP_FAILURE:
		g_warning("mDNS service '%s' not published: %s",
		          self->name,
		          avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
		break;
	case AVAHI_ENTRY_GROUP_UNCOMMITED:
	case AVAHI_ENTRY_GROUP_REGISTERING:
	default:
		break;
	}
}

static void
gw_discovery_publish(GwDiscovery *self)
{
	AvahiStringList *txt = NULL;
	gint ret = AVAHI_OK;

	if (self->port == 0 || self->type == NULL || self->client == NULL)
		return;
	if (self->group == NULL) {
		self->group = avahi_entry_group_new(self->client, gw_discovery_group_cb, self);
		if (self->group == NULL) {
			g_warning("mDNS service not published: %s",
			          avahi_strerror(avahi_client_errno(self->client)));
			return;
		}
	}
	if (!avahi_entry_group_is_empty(self->group))
		return;
	if (self->txt != NULL)
		txt = avahi_string_list_new_from_array((const char **)self->txt, -1);
	for (guint i = 0; i < GW_DISCOVERY_MAX_RENAMES; i++) {
		ret = avahi_entry_group_add_service_strlst(self->group,
		                                           AVAHI_IF_UNSPEC,
		                                           AVAHI_PROTO_UNSPEC,
		                                           0,
		                                           self->name,
		                                           self->type,
		                                           NULL,
		                                           NULL,
		                                           self->port,
		                                           txt);
		if (ret != AVAHI_ERR_COLLISION)
			break;
		/* a service of this host has the name already */
		gw_discovery_rename(self);
	}
	avahi_string_list_free(txt);
	if (ret == AVAHI_OK)
		ret = avahi_entry_group_commit(self->group);
	if (ret != AVAHI_OK) {
		g_warning("mDNS service '%s' not published: %s", self->name, avahi_strerror(ret));
		avahi_entry_group_reset(self->group);
	}
}

/* ---- browsing ---- */

static gchar **
gw_discovery_txt_to_strv(AvahiStringList *txt)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	for (AvahiStringList *l = txt; l != NULL; l = avahi_string_list_get_next(l)) {
		const gchar *text = (const gchar *)avahi_string_list_get_text(l);
		gsize len = avahi_string_list_get_size(l);
		/* TXT strings are bytes: what is not UTF-8 becomes U+FFFD */
		g_ptr_array_add(out, g_utf8_make_valid(text, (gssize)len));
	}
	g_ptr_array_add(out, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static void
gw_discovery_resolver_cb(AvahiServiceResolver *resolver,
                         AvahiIfIndex interface,
                         AvahiProtocol protocol,
                         AvahiResolverEvent event,
                         const char *name,
                         const char *type,
                         const char *domain,
                         const char *host_name,
                         const AvahiAddress *address,
                         uint16_t port,
                         AvahiStringList *txt,
                         AvahiLookupResultFlags flags,
                         void *user_data)
{
	GwDiscovery *self = GW_DISCOVERY(user_data);
	GwDiscoverySeen *seen = g_hash_table_lookup(self->seen, name);

	if (event == AVAHI_RESOLVER_FOUND && seen != NULL) {
		gchar addr[AVAHI_ADDRESS_STR_MAX] = "";
		g_auto(GStrv) strv = gw_discovery_txt_to_strv(txt);
		/* names come from the network: no control characters in the log */
		g_autofree gchar *name_log = g_strescape(name, NULL);
		g_autofree gchar *host_log = g_strescape(host_name, NULL);

		avahi_address_snprint(addr, sizeof(addr), address);
		if (!seen->resolved)
			g_message("mDNS: device '%s' announced at %s (%s port %u)",
			          name_log,
			          host_log,
			          addr,
			          (guint)port);
		else
			g_debug("mDNS: device '%s' announced again at %s (%s port %u)",
			        name_log,
			        host_log,
			        addr,
			        (guint)port);
		seen->resolved = TRUE;
		g_signal_emit(self,
		              gw_discovery_signals[SIGNAL_DEVICE_FOUND],
		              0,
		              name,
		              host_name,
		              addr,
		              (guint)port,
		              strv);
	} else if (event == AVAHI_RESOLVER_FAILURE) {
		g_debug("mDNS: device '%s' not resolved: %s",
		        name,
		        avahi_strerror(
		            avahi_client_errno(avahi_service_resolver_get_client(resolver))));
	}
	avahi_service_resolver_free(resolver);
}

static void
gw_discovery_browser_cb(AvahiServiceBrowser *browser,
                        AvahiIfIndex interface,
                        AvahiProtocol protocol,
                        AvahiBrowserEvent event,
                        const char *name,
                        const char *type,
                        const char *domain,
                        AvahiLookupResultFlags flags,
                        void *user_data)
{
	GwDiscovery *self = GW_DISCOVERY(user_data);
	GwDiscoverySeen *seen;

	if (browser != self->browser)
		return;
	switch (event) {
	case AVAHI_BROWSER_NEW:
		seen = g_hash_table_lookup(self->seen, name);
		if (seen == NULL) {
			if (g_hash_table_size(self->seen) >= GW_DISCOVERY_MAX_SEEN) {
				if (!self->seen_full_logged)
					g_warning("mDNS: more than %u devices announced, "
					          "ignoring the others",
					          (guint)GW_DISCOVERY_MAX_SEEN);
				self->seen_full_logged = TRUE;
				return;
			}
			seen = g_new0(GwDiscoverySeen, 1);
			g_hash_table_insert(self->seen, g_strdup(name), seen);
		}
		seen->refs++;
		if (avahi_service_resolver_new(self->client,
		                               interface,
		                               protocol,
		                               name,
		                               type,
		                               domain,
		                               AVAHI_PROTO_UNSPEC,
		                               0,
		                               gw_discovery_resolver_cb,
		                               self) == NULL)
			g_debug("mDNS: cannot resolve '%s': %s",
			        name,
			        avahi_strerror(avahi_client_errno(self->client)));
		break;
	case AVAHI_BROWSER_REMOVE:
		seen = g_hash_table_lookup(self->seen, name);
		if (seen == NULL || --seen->refs > 0)
			break;
		if (seen->resolved) {
			g_autofree gchar *name_log = g_strescape(name, NULL);
			g_message("mDNS: device '%s' withdrawn", name_log);
			g_signal_emit(self, gw_discovery_signals[SIGNAL_DEVICE_LOST], 0, name);
		}
		g_hash_table_remove(self->seen, name);
		if (g_hash_table_size(self->seen) < GW_DISCOVERY_MAX_SEEN)
			self->seen_full_logged = FALSE;
		break;
	case AVAHI_BROWSER_FAILURE:
		g_warning("mDNS: browsing %s failed: %s",
		          self->browse_type,
		          avahi_strerror(avahi_client_errno(self->client)));
		avahi_service_browser_free(browser);
		self->browser = NULL;
		break;
	case AVAHI_BROWSER_ALL_FOR_NOW:
	case AVAHI_BROWSER_CACHE_EXHAUSTED:
	default:
		break;
	}
}

static void
gw_discovery_browse(GwDiscovery *self)
{
	if (self->browse_type == NULL || self->browser != NULL || self->client == NULL)
		return;
	self->browser = avahi_service_browser_new(self->client,
	                                          AVAHI_IF_UNSPEC,
	                                          AVAHI_PROTO_UNSPEC,
	                                          self->browse_type,
	                                          NULL,
	                                          0,
	                                          gw_discovery_browser_cb,
	                                          self);
	if (self->browser == NULL)
		g_warning("mDNS: cannot browse %s: %s",
		          self->browse_type,
		          avahi_strerror(avahi_client_errno(self->client)));
}

/* ---- the client ---- */

static gboolean
gw_discovery_retry_cb(gpointer user_data)
{
	GwDiscovery *self = GW_DISCOVERY(user_data);
	self->retry_id = 0;
	gw_discovery_drop_client(self);
	gw_discovery_connect(self);
	return G_SOURCE_REMOVE;
}

static void
gw_discovery_client_cb(AvahiClient *client, AvahiClientState state, void *user_data)
{
	GwDiscovery *self = GW_DISCOVERY(user_data);

	/* the first call comes from inside avahi_client_new(), before it returned */
	self->client = client;
	switch (state) {
	case AVAHI_CLIENT_S_RUNNING:
		gw_discovery_set_state(self, GW_DISCOVERY_STATE_RUNNING, "avahi-daemon running");
		gw_discovery_publish(self);
		gw_discovery_browse(self);
		break;
	case AVAHI_CLIENT_S_REGISTERING:
	case AVAHI_CLIENT_S_COLLISION:
		/* the daemon (re)registers its host name: our records go until it runs */
		if (self->group != NULL)
			avahi_entry_group_reset(self->group);
		gw_discovery_set_state(
		    self, GW_DISCOVERY_STATE_WAITING, "avahi-daemon registering its host name");
		break;
	case AVAHI_CLIENT_CONNECTING:
		gw_discovery_set_state(
		    self, GW_DISCOVERY_STATE_WAITING, "avahi-daemon not running");
		break;
	case AVAHI_CLIENT_FAILURE:
		if (self->in_connect)
			return; /* avahi_client_new() fails: gw_discovery_connect() handles it */
		/* the daemon went away (AVAHI_ERR_DISCONNECTED) or the bus did: a new client, made
		 * outside of this callback, waits for it */
		gw_discovery_set_state(
		    self, GW_DISCOVERY_STATE_WAITING, avahi_strerror(avahi_client_errno(client)));
		if (self->retry_id == 0)
			self->retry_id = g_idle_add(gw_discovery_retry_cb, self);
		break;
	default:
		break;
	}
}

static void
gw_discovery_connect(GwDiscovery *self)
{
	AvahiClient *client;
	gint error = 0;

	self->in_connect = TRUE;
	client = avahi_client_new(avahi_glib_poll_get(self->poll),
	                          AVAHI_CLIENT_NO_FAIL,
	                          gw_discovery_client_cb,
	                          self,
	                          &error);
	self->in_connect = FALSE;
	self->client = client;
	if (client != NULL) {
		self->retry_interval = 1;
		/* its first state came before self->client was set */
		gw_discovery_client_cb(client, avahi_client_get_state(client), self);
		return;
	}
	/* no system bus at all: NO_FAIL does not help there (CI-NOTES), try again later */
	gw_discovery_set_state(self, GW_DISCOVERY_STATE_UNAVAILABLE, avahi_strerror(error));
	self->retry_id = g_timeout_add_seconds(self->retry_interval, gw_discovery_retry_cb, self);
	self->retry_interval = MIN(self->retry_interval * 2, self->max_retry_interval);
}

void
gw_discovery_start(GwDiscovery *self)
{
	g_return_if_fail(GW_IS_DISCOVERY(self));
	if (self->started)
		return;
	self->started = TRUE;
	self->retry_interval = 1;
	gw_discovery_connect(self);
}

void
gw_discovery_stop(GwDiscovery *self)
{
	g_return_if_fail(GW_IS_DISCOVERY(self));
	g_clear_handle_id(&self->retry_id, g_source_remove);
	/* freeing the client withdraws the service (the daemon sends the goodbye packets) */
	gw_discovery_drop_client(self);
	if (self->started)
		gw_discovery_set_state(self, GW_DISCOVERY_STATE_DISABLED, "stopped");
	self->started = FALSE;
}

void
gw_discovery_set_service(GwDiscovery *self,
                         const gchar *name,
                         const gchar *type,
                         guint16 port,
                         const gchar *const *txt)
{
	const gchar *end = NULL;

	g_return_if_fail(GW_IS_DISCOVERY(self));
	g_return_if_fail(name != NULL && type != NULL);
	g_free(self->base_name);
	/* a DNS label: 63 bytes at most, cut on a character boundary */
	if (!g_utf8_validate(name, MIN(strlen(name), 63), &end))
		self->base_name = g_strndup(name, (gsize)(end - name));
	else
		self->base_name = g_strndup(name, 63);
	g_free(self->name);
	self->name = g_strdup(self->base_name);
	g_free(self->type);
	self->type = g_strdup(type);
	self->port = port;
	g_strfreev(self->txt);
	self->txt = g_strdupv((gchar **)txt);
}

void
gw_discovery_set_browse_type(GwDiscovery *self, const gchar *type)
{
	g_return_if_fail(GW_IS_DISCOVERY(self));
	g_free(self->browse_type);
	self->browse_type = g_strdup(type);
}

void
gw_discovery_set_max_retry_interval(GwDiscovery *self, guint seconds)
{
	g_return_if_fail(GW_IS_DISCOVERY(self));
	self->max_retry_interval = MAX(seconds, 1);
}

GwDiscoveryState
gw_discovery_get_state(GwDiscovery *self)
{
	g_return_val_if_fail(GW_IS_DISCOVERY(self), GW_DISCOVERY_STATE_DISABLED);
	return self->state;
}

const gchar *
gw_discovery_get_service_name(GwDiscovery *self)
{
	g_return_val_if_fail(GW_IS_DISCOVERY(self), NULL);
	return self->port != 0 ? self->name : NULL;
}

static void
gw_discovery_dispose(GObject *object)
{
	GwDiscovery *self = GW_DISCOVERY(object);
	g_clear_handle_id(&self->retry_id, g_source_remove);
	gw_discovery_drop_client(self);
	g_clear_pointer(&self->poll, avahi_glib_poll_free);
	G_OBJECT_CLASS(gw_discovery_parent_class)->dispose(object);
}

static void
gw_discovery_finalize(GObject *object)
{
	GwDiscovery *self = GW_DISCOVERY(object);
	g_hash_table_unref(self->seen);
	g_free(self->base_name);
	g_free(self->name);
	g_free(self->type);
	g_strfreev(self->txt);
	g_free(self->browse_type);
	G_OBJECT_CLASS(gw_discovery_parent_class)->finalize(object);
}

static void
gw_discovery_class_init(GwDiscoveryClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = gw_discovery_dispose;
	object_class->finalize = gw_discovery_finalize;

	gw_discovery_signals[SIGNAL_STATE_CHANGED] = g_signal_new("state-changed",
	                                                          G_TYPE_FROM_CLASS(klass),
	                                                          G_SIGNAL_RUN_LAST,
	                                                          0,
	                                                          NULL,
	                                                          NULL,
	                                                          NULL,
	                                                          G_TYPE_NONE,
	                                                          0);
	gw_discovery_signals[SIGNAL_DEVICE_FOUND] = g_signal_new("device-found",
	                                                         G_TYPE_FROM_CLASS(klass),
	                                                         G_SIGNAL_RUN_LAST,
	                                                         0,
	                                                         NULL,
	                                                         NULL,
	                                                         NULL,
	                                                         G_TYPE_NONE,
	                                                         5,
	                                                         G_TYPE_STRING,
	                                                         G_TYPE_STRING,
	                                                         G_TYPE_STRING,
	                                                         G_TYPE_UINT,
	                                                         G_TYPE_STRV);
	gw_discovery_signals[SIGNAL_DEVICE_LOST] = g_signal_new("device-lost",
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
gw_discovery_init(GwDiscovery *self)
{
	self->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->max_retry_interval = 10;
	self->retry_interval = 1;
	self->state = GW_DISCOVERY_STATE_DISABLED;
	self->poll = avahi_glib_poll_new(NULL, G_PRIORITY_DEFAULT);
}

GwDiscovery *
gw_discovery_new(void)
{
	return g_object_new(GW_TYPE_DISCOVERY, NULL);
}
