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
 *
 * Each alert has an identity, @uid, assigned when it is queued and stored with it: the queue's
 * random instance (made when the queue file is created, so it is never reused after a reset or
 * a corrupt file) and the alert's id. It goes out as the Extended Meta Information of the
 * alert's Item (`<EMI xmlns="syncml:metinf">gwmo-alert:<uid></EMI>`; a DM 2.0 Package #1 names
 * it in the HTTP header X-GwMO-Alert-ID, gw-dm2.h): the same alert sent again
 * after a crash carries the same identity, and a DM Server that keeps the identities it
 * accepted recognises the resend (exactly once as the server sees it). An acknowledgement is
 * stored before the gateway's next message to that server (gw_alert_queue_flush() on the
 * link's "message-executed"), so only a crash in that window sends an alert again.
 *
 * Signal "changed" (no arguments): the set of queued alerts changed — an alert was queued
 * (push, push_batched), acknowledged or dropped (ack). It is emitted when the change is made
 * in memory, before a batched save, so gw_alert_queue_get_length() is already the new count
 * (the Manager's PendingAlerts follows it). The alerts loaded by gw_alert_queue_new() are
 * there before anyone can connect: read the length after construction.
 */

typedef struct {
	guint id;
	gchar *server_id;
	gchar *type;       /* urn:oma:at:… */
	gchar *source;     /* LocURI the alert is about, nullable */
	gchar *target;     /* nullable */
	gchar *format;     /* chr, xml, int …; nullable */
	gchar *mark;       /* nullable */
	gchar *data;       /* nullable */
	gchar *correlator; /* nullable */
	gchar *uid;        /* assigned by the queue: "<instance>-<id>" */
} GwAlert;

/* the EMI value that carries @alert's identity in a SyncML Generic Alert */
#define GW_ALERT_EMI_PREFIX "gwmo-alert:"
gchar *
gw_alert_dup_emi(const GwAlert *alert);

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
/*
 * Batched changes (a burst of registrations, a session acknowledging many alerts): the queue is
 * stored once by an idle source of GW_ALERT_QUEUE_SAVE_PRIORITY. That priority is above
 * G_PRIORITY_DEFAULT_IDLE on purpose: work done at G_PRIORITY_DEFAULT_IDLE after a batched
 * push (the southbound's group commit, which answers the registration that caused the alert)
 * runs only once the alert is stored. A failed save is logged and tried again at the next
 * change.
 */
#define GW_ALERT_QUEUE_SAVE_PRIORITY (G_PRIORITY_DEFAULT_IDLE - 10)
guint
gw_alert_queue_push_batched(GwAlertQueue *self, const GwAlert *alert);
/* stores a pending batch now */
gboolean
gw_alert_queue_flush(GwAlertQueue *self, GError **error);
/* (element-type GwAlert) (transfer container): the pending alerts of @server_id, oldest first */
GPtrArray *
gw_alert_queue_list(GwAlertQueue *self, const gchar *server_id);
/* removes an acknowledged alert; stored batched (an acknowledgement lost to a crash means the
 * alert is delivered again: at least once) */
gboolean
gw_alert_queue_ack(GwAlertQueue *self, guint id, GError **error);
guint
gw_alert_queue_get_length(GwAlertQueue *self);
/* the EMI of queued alert @id (see gw_alert_dup_emi()), NULL when it is not queued */
gchar *
gw_alert_queue_dup_emi(GwAlertQueue *self, guint id);

G_END_DECLS
