/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include <string.h>

#include "gw-dbus-authority.h"
#include "gw-dbus-exporter.h"
#include "gw-dbus-generated.h"
#include "gw-dbus-images.h"
#include "gw-dbus-manager.h"
#include "gw-error.h"
#include "gw-gateway.h"
#include "gw-gwmo-names.h"
#include "gw-image-store.h"

struct _GwDbusImages {
	GObject parent_instance;
	GwGateway *gateway; /* not owned */
	GwImageStore *store;
	GwDmTree *tree;
	GwDbusAuthorizeFunc authorize;
	gpointer authorize_data;
	GwDbusExporter *exporter; /* ./GwMO/Images/<x> → /org/gwmo/Gateway1/Images/<x> */
};

G_DEFINE_TYPE(GwDbusImages, gw_dbus_images, G_TYPE_OBJECT)

static const GwDbusExporterLeaf gw_dbus_images_leaves[] = {
    {"Name", "name"},
    {"Version", "version"},
    {"Hash", "hash"},
    {"State", "state"},
    {"LocalURI", "local-uri"},
};

static void
gw_dbus_images_fill(GwDbusExporter *exporter,
                    const gchar *uri,
                    GDBusInterfaceSkeleton *iface,
                    gpointer user_data)
{
	g_autofree gchar *size = gw_dbus_exporter_dup_leaf(exporter, uri, "Size");
	g_autofree gchar *progress = gw_dbus_exporter_dup_leaf(exporter, uri, "Progress");
	guint64 size_v = g_ascii_strtoull(size, NULL, 10);
	guint progress_v = (guint)MIN(g_ascii_strtoull(progress, NULL, 10), 100);
	GwDbusGenImage *img = GW_DBUS_GEN_IMAGE(iface);

	/* only what changed: each set emits PropertiesChanged */
	gw_dbus_exporter_fill_strings(
	    exporter, uri, iface, gw_dbus_images_leaves, G_N_ELEMENTS(gw_dbus_images_leaves));
	if (gw_dbus_gen_image_get_size(img) != size_v)
		gw_dbus_gen_image_set_size(img, size_v);
	if (gw_dbus_gen_image_get_progress(img) != progress_v)
		gw_dbus_gen_image_set_progress(img, progress_v);
	if (g_strcmp0(gw_dbus_gen_image_get_image_uri(img), uri) != 0)
		gw_dbus_gen_image_set_image_uri(img, uri);
}

/* Image.Download and Image.Remove */
static gboolean
gw_dbus_images_handle_action(GwDbusImages *self, GDBusMethodInvocation *invocation, gboolean remove)
{
	g_autofree gchar *uri = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok;

	if (self->authorize != NULL &&
	    !self->authorize(invocation, GW_DBUS_ACTION_MANAGE_IMAGES, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	uri = g_strdup(gw_dbus_exporter_invocation_target(self->exporter, invocation));
	if (uri == NULL)
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (remove)
		ok = gw_image_store_remove(self->store, uri, &error);
	else
		ok = gw_image_store_download(self->store, uri, &error);
	if (!ok) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	g_info("%s of %s by %s",
	       remove ? "Remove" : "Download",
	       uri,
	       g_dbus_method_invocation_get_sender(invocation));
	if (remove) {
		gw_dbus_commit_and_reply(self->gateway, invocation, NULL);
		/* the object goes after the reply is queued (the invocation holds its path) */
		gw_dbus_exporter_remove(self->exporter, uri);
	} else {
		/* the properties show the download has started before the reply does */
		path = gw_dbus_exporter_update(self->exporter, uri);
		gw_dbus_commit_and_reply(self->gateway, invocation, NULL);
	}
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
gw_dbus_images_handle_download(GwDbusGenImage *image,
                               GDBusMethodInvocation *invocation,
                               gpointer user_data)
{
	return gw_dbus_images_handle_action(GW_DBUS_IMAGES(user_data), invocation, FALSE);
}

static gboolean
gw_dbus_images_handle_remove(GwDbusGenImage *image,
                             GDBusMethodInvocation *invocation,
                             gpointer user_data)
{
	return gw_dbus_images_handle_action(GW_DBUS_IMAGES(user_data), invocation, TRUE);
}

static GDBusInterfaceSkeleton *
gw_dbus_images_create(GwDbusExporter *exporter, const gchar *uri, gpointer user_data)
{
	GwDbusGenImage *image = gw_dbus_gen_image_skeleton_new();

	g_signal_connect(
	    image, "handle-download", G_CALLBACK(gw_dbus_images_handle_download), user_data);
	g_signal_connect(
	    image, "handle-remove", G_CALLBACK(gw_dbus_images_handle_remove), user_data);
	return G_DBUS_INTERFACE_SKELETON(image);
}

static const GwDbusExporterFuncs gw_dbus_images_funcs = {
    .create = gw_dbus_images_create,
    .fill = gw_dbus_images_fill,
};

/* ---- Manager.AddImage ---- */

gboolean
gw_dbus_images_handle_add_image(GObject *skeleton,
                                GDBusMethodInvocation *invocation,
                                GVariant *dict,
                                gpointer user_data)
{
	GwDbusImages *self = GW_DBUS_IMAGES(user_data);
	static const gchar *string_keys[] = {"Name", "Version", "Kind", "ExternalURI", "Hash"};
	const gchar *values[G_N_ELEMENTS(string_keys)] = {NULL};
	g_autofree const gchar **targets = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	g_autofree gchar *path = NULL;
	GwImageSpec spec = {0};
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_debug("AddImage(%zu keys)", g_variant_n_children(dict));
	/* shape first, then who asks, then state */
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
		gboolean known = FALSE;
		for (guint i = 0; i < G_N_ELEMENTS(string_keys); i++) {
			if (g_strcmp0(key, string_keys[i]) != 0)
				continue;
			known = TRUE;
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
				g_dbus_method_invocation_return_error(invocation,
				                                      GW_ERROR,
				                                      GW_ERROR_INVALID_ARGS,
				                                      "%s must be a string (s)",
				                                      key);
				g_variant_unref(value);
				return G_DBUS_METHOD_INVOCATION_HANDLED;
			}
			values[i] = g_variant_get_string(value, NULL);
		}
		if (g_strcmp0(key, "Targets") == 0) {
			known = TRUE;
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
				g_dbus_method_invocation_return_error(
				    invocation,
				    GW_ERROR,
				    GW_ERROR_INVALID_ARGS,
				    "Targets must be a string array (as)");
				g_variant_unref(value);
				return G_DBUS_METHOD_INVOCATION_HANDLED;
			}
			g_free(targets);
			targets = g_variant_get_strv(value, NULL);
		}
		if (!known) {
			g_dbus_method_invocation_return_error(
			    invocation, GW_ERROR, GW_ERROR_INVALID_ARGS, "unknown key '%s'", key);
			g_variant_unref(value);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
	}
	spec.name = values[0];
	spec.version = values[1];
	spec.kind = values[2];
	spec.external_uri = values[3];
	spec.hash = values[4];
	spec.targets = (const gchar *const *)targets;
	if (spec.name == NULL || spec.external_uri == NULL || spec.hash == NULL) {
		g_dbus_method_invocation_return_error(invocation,
		                                      GW_ERROR,
		                                      GW_ERROR_INVALID_ARGS,
		                                      "Name, ExternalURI and Hash are required");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (self->authorize != NULL &&
	    !self->authorize(invocation, GW_DBUS_ACTION_MANAGE_IMAGES, self->authorize_data))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	uri = gw_image_store_add(self->store, &spec, &error);
	if (uri == NULL) {
		gw_dbus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	path = gw_dbus_exporter_update(self->exporter, uri);
	g_info("AddImage %s (%s) by %s",
	       uri,
	       spec.name,
	       g_dbus_method_invocation_get_sender(invocation));
	gw_dbus_commit_and_reply(self->gateway, invocation, g_variant_new("(o)", path));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- life cycle ---- */

static void
gw_dbus_images_dispose(GObject *object)
{
	GwDbusImages *self = GW_DBUS_IMAGES(object);

	/* unexports every object */
	g_clear_object(&self->exporter);
	g_clear_object(&self->store);
	g_clear_object(&self->tree);
	G_OBJECT_CLASS(gw_dbus_images_parent_class)->dispose(object);
}

static void
gw_dbus_images_class_init(GwDbusImagesClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_images_dispose;
}

static void
gw_dbus_images_init(GwDbusImages *self)
{
}

GwDbusImages *
gw_dbus_images_new(GwGateway *gateway,
                   GwDbusObjectManager *object_manager,
                   GwDbusAuthorizeFunc authorize,
                   gpointer authorize_data)
{
	GwDbusImages *self;

	g_return_val_if_fail(GW_IS_GATEWAY(gateway), NULL);
	g_return_val_if_fail(gw_gateway_get_image_store(gateway) != NULL, NULL);

	self = g_object_new(GW_TYPE_DBUS_IMAGES, NULL);
	self->gateway = gateway;
	self->store = g_object_ref(gw_gateway_get_image_store(gateway));
	self->tree = g_object_ref(gw_gateway_get_tree(gateway));
	self->authorize = authorize;
	self->authorize_data = authorize_data;
	/* an entry is shown as soon as its node exists (no id leaf); the tree's property
	 * changes do not show */
	self->exporter = gw_dbus_exporter_new_full(self->tree,
	                                           object_manager,
	                                           GW_GWMO_IMAGES,
	                                           GW_DBUS_IMAGES_PATH,
	                                           NULL,
	                                           GW_DBUS_EXPORTER_FLAGS_IGNORE_PROPERTIES,
	                                           &gw_dbus_images_funcs,
	                                           self);
	return self;
}
