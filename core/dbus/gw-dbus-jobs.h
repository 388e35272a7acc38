/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gw-dbus-inventory.h"
#include "gw-dbus-object-manager.h"
#include "gw-gateway.h"

G_BEGIN_DECLS

#define GW_DBUS_JOBS_PATH "/org/gwmo/Gateway1/Jobs"

#define GW_TYPE_DBUS_JOBS (gw_dbus_jobs_get_type())
G_DECLARE_FINAL_TYPE(GwDbusJobs, gw_dbus_jobs, GW, DBUS_JOBS, GObject)

/*
 * The Fanout jobs' D-Bus face: one org.gwmo.Gateway1.Job object per ./GwMO/Fanout/<x>
 * (/org/gwmo/Gateway1/Jobs/<x>, the node name escaped), exported through @object_manager and
 * following the GwFanout signals (whoever made the job: D-Bus or a DM Server). @authorize
 * guards Cancel and Manager.Fanout.
 */
GwDbusJobs *
gw_dbus_jobs_new(GwGateway *gateway,
                 GwDbusObjectManager *object_manager,
                 GwDbusAuthorizeFunc authorize,
                 gpointer authorize_data);

/* Manager.Fanout(a{sv}) → o: checks the spec, creates and starts the job, answers */
void
gw_dbus_jobs_handle_fanout(GwDbusJobs *self, GDBusMethodInvocation *invocation, GVariant *spec);

/* the object path of a job URI; NULL for anything else */
gchar *
gw_dbus_jobs_path(const gchar *job_uri);

G_END_DECLS
