/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include "gw-dbus-manager.h"
#include "gw-dbus-service.h"

struct _GwDbusService {
	GObject parent_instance;
	GwGateway *gateway;
	GwDbusManager *manager;
	GBusType bus_type;
	guint owner_id;
};

G_DEFINE_FINAL_TYPE(GwDbusService, gw_dbus_service, G_TYPE_OBJECT)

enum { SIGNAL_QUIT, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

static const gchar *
gw_dbus_service_bus_name(GwDbusService *self)
{
	return self->bus_type == G_BUS_TYPE_SESSION ? "session" : "system";
}

static void
gw_dbus_service_bus_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	GwDbusService *self = GW_DBUS_SERVICE(user_data);
	g_autoptr(GError) error = NULL;

	self->manager = gw_dbus_manager_new(
	    self->gateway, connection, self->bus_type == G_BUS_TYPE_SYSTEM, &error);
	if (self->manager == NULL) {
		g_warning("cannot export %s: %s", GW_DBUS_PATH, error->message);
		g_signal_emit(self, signals[SIGNAL_QUIT], 0);
	}
}

static void
gw_dbus_service_name_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	g_message("acquired the name %s on the %s bus",
	          name,
	          gw_dbus_service_bus_name(GW_DBUS_SERVICE(user_data)));
}

static void
gw_dbus_service_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	GwDbusService *self = GW_DBUS_SERVICE(user_data);
	if (connection == NULL)
		g_warning("cannot connect to the %s bus", gw_dbus_service_bus_name(self));
	else
		g_warning("lost or could not acquire the name %s", name);
	g_signal_emit(self, signals[SIGNAL_QUIT], 0);
}

void
gw_dbus_service_start(GwDbusService *self, GBusType bus_type)
{
	g_return_if_fail(GW_IS_DBUS_SERVICE(self));
	g_return_if_fail(self->owner_id == 0);
	self->bus_type = bus_type;
	self->owner_id = g_bus_own_name(bus_type,
	                                GW_DBUS_NAME,
	                                G_BUS_NAME_OWNER_FLAGS_NONE,
	                                gw_dbus_service_bus_acquired_cb,
	                                gw_dbus_service_name_acquired_cb,
	                                gw_dbus_service_name_lost_cb,
	                                self,
	                                NULL);
}

static void
gw_dbus_service_dispose(GObject *object)
{
	GwDbusService *self = GW_DBUS_SERVICE(object);
	if (self->owner_id != 0) {
		g_bus_unown_name(self->owner_id);
		self->owner_id = 0;
	}
	g_clear_object(&self->manager);
	g_clear_object(&self->gateway);
	G_OBJECT_CLASS(gw_dbus_service_parent_class)->dispose(object);
}

static void
gw_dbus_service_class_init(GwDbusServiceClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gw_dbus_service_dispose;
	signals[SIGNAL_QUIT] = g_signal_new("quit",
	                                    G_TYPE_FROM_CLASS(klass),
	                                    G_SIGNAL_RUN_LAST,
	                                    0,
	                                    NULL,
	                                    NULL,
	                                    NULL,
	                                    G_TYPE_NONE,
	                                    0);
}

static void
gw_dbus_service_init(GwDbusService *self)
{
}

GwDbusService *
gw_dbus_service_new(GwGateway *gateway)
{
	GwDbusService *self;

	g_return_val_if_fail(GW_IS_GATEWAY(gateway), NULL);
	self = g_object_new(GW_TYPE_DBUS_SERVICE, NULL);
	self->gateway = g_object_ref(gateway);
	return self;
}
