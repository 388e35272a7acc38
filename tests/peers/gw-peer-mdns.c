/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>
#include <avahi-glib/glib-watch.h>
#include <string.h>

#include "gw-error.h"
#include "gw-peer-mdns.h"

/* avahi-daemon's default entries-per-entry-group-max is 32 */
#define GW_PEER_MDNS_GROUP_MAX 32

struct _GwPeerMdns {
	AvahiGLibPoll *poll;
	AvahiClient *client;
	guint n_groups;
	guint established; /* groups */
	gchar *failure;    /* why publishing failed */
};

static void
gw_peer_mdns_group_cb(AvahiEntryGroup *group, AvahiEntryGroupState state, void *user_data)
{
	GwPeerMdns *self = user_data;

	if (state == AVAHI_ENTRY_GROUP_ESTABLISHED)
		self->established++;
	else if ((state == AVAHI_ENTRY_GROUP_COLLISION || state == AVAHI_ENTRY_GROUP_FAILURE) &&
	         self->failure == NULL)
		self->failure = g_strdup(
		    state == AVAHI_ENTRY_GROUP_COLLISION
		        ? "the name is taken"
		        : avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
}

static void
gw_peer_mdns_client_cb(AvahiClient *client, AvahiClientState state, void *user_data)
{
}

/* a client of avahi-daemon on the default main context; NULL and @error when there is none */
static AvahiClient *
gw_peer_mdns_client_new(AvahiGLibPoll *poll, gpointer user_data, GError **error)
{
	gint err = 0;
	AvahiClient *client =
	    avahi_client_new(avahi_glib_poll_get(poll), 0, gw_peer_mdns_client_cb, user_data, &err);

	if (client == NULL)
		g_set_error(
		    error, GW_ERROR, GW_ERROR_NETWORK, "avahi-daemon: %s", avahi_strerror(err));
	return client;
}

static gboolean
gw_peer_mdns_timeout_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

GwPeerMdns *
gw_peer_mdns_announce(const gchar *const *names,
                      const gchar *const *dev_ids,
                      guint16 port,
                      const gchar *path,
                      guint timeout_s,
                      GError **error)
{
	g_autoptr(GwPeerMdns) self = g_new0(GwPeerMdns, 1);
	g_autofree gchar *path_txt = g_strdup_printf("path=%s", path != NULL ? path : "/dm");
	gboolean timed_out = FALSE;
	guint timeout_id;
	gint ret = AVAHI_OK;
	AvahiEntryGroup *group = NULL;

	self->poll = avahi_glib_poll_new(NULL, G_PRIORITY_DEFAULT);
	self->client = gw_peer_mdns_client_new(self->poll, self, error);
	if (self->client == NULL)
		return NULL;
	for (guint i = 0; ret == AVAHI_OK && names[i] != NULL && dev_ids[i] != NULL; i++) {
		g_autofree gchar *devid_txt = g_strdup_printf("devid=%s", dev_ids[i]);
		if (i % GW_PEER_MDNS_GROUP_MAX == 0) {
			/* the previous group is full: committed, a new one (freed with the client)
			 */
			if (group != NULL && (ret = avahi_entry_group_commit(group)) != AVAHI_OK)
				break;
			group = avahi_entry_group_new(self->client, gw_peer_mdns_group_cb, self);
			if (group == NULL) {
				g_set_error(error,
				            GW_ERROR,
				            GW_ERROR_NETWORK,
				            "avahi: %s",
				            avahi_strerror(avahi_client_errno(self->client)));
				return NULL;
			}
			self->n_groups++;
		}
		ret = avahi_entry_group_add_service(group,
		                                    AVAHI_IF_UNSPEC,
		                                    AVAHI_PROTO_UNSPEC,
		                                    0,
		                                    names[i],
		                                    "_omadm._tcp",
		                                    NULL,
		                                    NULL,
		                                    port,
		                                    devid_txt,
		                                    path_txt,
		                                    NULL);
		if (ret != AVAHI_OK)
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NETWORK,
			            "publishing '%s': %s",
			            names[i],
			            avahi_strerror(ret));
	}
	if (ret == AVAHI_OK && group != NULL)
		ret = avahi_entry_group_commit(group);
	if (ret != AVAHI_OK) {
		if (error != NULL && *error != NULL)
			return NULL;
		g_set_error(
		    error, GW_ERROR, GW_ERROR_NETWORK, "publishing: %s", avahi_strerror(ret));
		return NULL;
	}
	timeout_id = g_timeout_add_seconds(timeout_s, gw_peer_mdns_timeout_cb, &timed_out);
	while (self->established < self->n_groups && self->failure == NULL && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(timeout_id);
	if (self->n_groups == 0 || self->established < self->n_groups) {
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_NETWORK,
		            "publishing '%s'…: %s",
		            names[0],
		            self->failure != NULL ? self->failure : "timed out");
		return NULL;
	}
	return g_steal_pointer(&self);
}

void
gw_peer_mdns_free(GwPeerMdns *self)
{
	if (self == NULL)
		return;
	/* frees the group with it: the daemon withdraws the service */
	if (self->client != NULL)
		avahi_client_free(self->client);
	if (self->poll != NULL)
		avahi_glib_poll_free(self->poll);
	g_free(self->failure);
	g_free(self);
}

/* ---- discover ---- */

gchar *
gw_peer_mdns_bootstrap_url(const gchar *host,
                           guint16 port,
                           const gchar *const *txt,
                           const gchar *dev_id,
                           GError **error)
{
	const gchar *scheme = NULL;
	const gchar *bootstrap = NULL;
	g_autofree gchar *dev_escaped = NULL;

	for (guint i = 0; txt != NULL && txt[i] != NULL; i++) {
		if (scheme == NULL && g_str_has_prefix(txt[i], "scheme="))
			scheme = txt[i] + strlen("scheme=");
		else if (bootstrap == NULL && g_str_has_prefix(txt[i], "bootstrap="))
			bootstrap = txt[i] + strlen("bootstrap=");
	}
	if (scheme == NULL)
		scheme = "https";
	if (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0) {
		g_set_error_literal(error, GW_ERROR, GW_ERROR_PROTOCOL, "scheme= is not http(s)");
		return NULL;
	}
	if (bootstrap == NULL || bootstrap[0] != '/' || strpbrk(bootstrap, "?# ") != NULL) {
		g_set_error_literal(
		    error, GW_ERROR, GW_ERROR_PROTOCOL, "no usable bootstrap= in the TXT");
		return NULL;
	}
	dev_escaped = g_uri_escape_string(dev_id, NULL, FALSE);
	return g_strdup_printf(strchr(host, ':') != NULL ? "%s://[%s]:%u%s?dev=%s"
	                                                 : "%s://%s:%u%s?dev=%s",
	                       scheme,
	                       host,
	                       (guint)port,
	                       bootstrap,
	                       dev_escaped);
}

typedef struct {
	const gchar *dev_id;
	AvahiClient *client;
	gchar *url;
	GError *error; /* the last gateway that could not be used */
} GwPeerMdnsBrowse;

static void
gw_peer_mdns_resolver_cb(AvahiServiceResolver *resolver,
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
	GwPeerMdnsBrowse *b = user_data;

	if (event == AVAHI_RESOLVER_FOUND && b->url == NULL) {
		gchar addr[AVAHI_ADDRESS_STR_MAX] = "";
		g_autoptr(GPtrArray) strv = g_ptr_array_new_with_free_func(g_free);

		avahi_address_snprint(addr, sizeof(addr), address);
		for (AvahiStringList *l = txt; l != NULL; l = avahi_string_list_get_next(l))
			g_ptr_array_add(strv,
			                g_strndup((const gchar *)avahi_string_list_get_text(l),
			                          avahi_string_list_get_size(l)));
		g_ptr_array_add(strv, NULL);
		g_clear_error(&b->error);
		b->url = gw_peer_mdns_bootstrap_url(
		    addr, port, (const gchar *const *)strv->pdata, b->dev_id, &b->error);
	}
	avahi_service_resolver_free(resolver);
}

static void
gw_peer_mdns_browser_cb(AvahiServiceBrowser *browser,
                        AvahiIfIndex interface,
                        AvahiProtocol protocol,
                        AvahiBrowserEvent event,
                        const char *name,
                        const char *type,
                        const char *domain,
                        AvahiLookupResultFlags flags,
                        void *user_data)
{
	GwPeerMdnsBrowse *b = user_data;

	if (event != AVAHI_BROWSER_NEW)
		return;
	/* an address of the protocol it was announced on */
	avahi_service_resolver_new(b->client,
	                           interface,
	                           protocol,
	                           name,
	                           type,
	                           domain,
	                           protocol,
	                           0,
	                           gw_peer_mdns_resolver_cb,
	                           b);
}

gchar *
gw_peer_mdns_discover_bootstrap(const gchar *dev_id, guint timeout_s, GError **error)
{
	AvahiGLibPoll *poll = avahi_glib_poll_new(NULL, G_PRIORITY_DEFAULT);
	GwPeerMdnsBrowse b = {.dev_id = dev_id};
	AvahiServiceBrowser *browser = NULL;
	gboolean timed_out = FALSE;
	guint timeout_id = 0;

	b.client = gw_peer_mdns_client_new(poll, NULL, error);
	if (b.client != NULL) {
		browser = avahi_service_browser_new(b.client,
		                                    AVAHI_IF_UNSPEC,
		                                    AVAHI_PROTO_UNSPEC,
		                                    "_gwmo._tcp",
		                                    NULL,
		                                    0,
		                                    gw_peer_mdns_browser_cb,
		                                    &b);
		if (browser == NULL)
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_NETWORK,
			            "browsing _gwmo._tcp: %s",
			            avahi_strerror(avahi_client_errno(b.client)));
	}
	if (browser != NULL) {
		timeout_id = g_timeout_add_seconds(timeout_s, gw_peer_mdns_timeout_cb, &timed_out);
		while (b.url == NULL && !timed_out)
			g_main_context_iteration(NULL, TRUE);
		if (!timed_out)
			g_source_remove(timeout_id);
		if (b.url == NULL)
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_TIMED_OUT,
			            "no usable _gwmo._tcp gateway within %u s%s%s",
			            timeout_s,
			            b.error != NULL ? ": " : "",
			            b.error != NULL ? b.error->message : "");
	}
	g_clear_error(&b.error);
	/* the browser and the resolvers with it */
	if (b.client != NULL)
		avahi_client_free(b.client);
	avahi_glib_poll_free(poll);
	return b.url;
}
