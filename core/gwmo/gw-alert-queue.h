/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * Generic Alerts (1226) waiting for delivery to a DM Server, kept in STATE_DIR/alerts.json
 * (written atomically) until the server acknowledges them with Status 200. An alert survives
 * restarts; it is removed only on acknowledgement.
 */

typedef struct {
	guint id;
	gchar *server_id;
	gchar *type;   /* urn:oma:at:… */
	gchar *source; /* LocURI the alert is about, nullable */
	gchar *target; /* nullable */
	gchar *format; /* chr, xml, int …; nullable */
	gchar *mark;   /* nullable */
	gchar *data;   /* nullable */
	gchar *correlator; /* nullable */
} GwAlert;

void
gw_alert_free(GwAlert *alert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwAlert, gw_alert_free)

#define GW_TYPE_ALERT_QUEUE (gw_alert_queue_get_type())
G_DECLARE_FINAL_TYPE(GwAlertQueue, gw_alert_queue, GW, ALERT_QUEUE, GObject)

/* loads STATE_DIR/alerts.json when present; a corrupt file is renamed aside and reported */
GwAlertQueue *
gw_alert_queue_new(const gchar *state_dir, GError **error);
/* takes the fields of @alert (its id is assigned); stored before it returns; returns the id */
guint
gw_alert_queue_push(GwAlertQueue *self, const GwAlert *alert, GError **error);
/* (element-type GwAlert) (transfer container): the pending alerts of @server_id, oldest first */
GPtrArray *
gw_alert_queue_list(GwAlertQueue *self, const gchar *server_id);
/* removes an acknowledged alert and stores the queue */
gboolean
gw_alert_queue_ack(GwAlertQueue *self, guint id, GError **error);
guint
gw_alert_queue_get_length(GwAlertQueue *self);

G_END_DECLS
