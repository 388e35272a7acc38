/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-adapters.h"
#include "gw-config.h"
#include "gw-dm-store.h"
#include "gw-dm-tree.h"
#include "gw-image-store.h"
#include "gw-inventory.h"
#include "gw-northbound.h"

G_BEGIN_DECLS

/*
 * The Fanout MO (./GwMO/Fanout/<x>, spec/GWMO.md §1, §2, flows Y/Y'): command fan-out to End
 * Devices and response aggregation (GwMO-FORA-001/002). Jobs live in the DM tree (persisted
 * with it). A DM Server Adds a job node and its leaves (the job gets that server's ACL:
 * nobody else sees it) and Execs Operations/Start (answered 202 at once); jobs are also made
 * with gw_fanout_create_job() (D-Bus Fanout).
 *
 * Running a job: the targets (Targets/Group members, or Targets/Devices/<x>) are frozen into
 * Results/<n>/DeviceID (StatusCode 0 = pending) in order; at most MaxInFlight (default 32)
 * devices are driven at once. Per device:
 *   - Proxy (2) and Adaptation (3) devices: gw_adapters_run_command_async() with the job's
 *     Timeout (default 60 s), through the adapter of the device's Protocol (OMA DM: a device
 *     asleep gets the command in its next session within it): the device's Status, 408 when
 *     it did not answer in time, and the registry's own statuses (gw-adapters.h: 503 no
 *     adapter loaded, 410 a device its adapter does not report, 404/405/415 against the
 *     tree the adapter declared);
 *   - 404: unknown DeviceID, or a device the job's server may not see;
 *   - 406: a device in Transparent mode (the server manages it itself, Z/Z').
 * Each result is written to Results/<n> and the tree stored before the next is counted, so a
 * job that was InProgress when gwmod stopped resumes on start without driving again a device
 * whose result is recorded (a device whose command was in flight is driven again).
 * Summary/{Total,Succeeded,Failed,Pending} and State follow; at the end State is Complete (all
 * 2xx), PartialFailure (some not) or Cancelled (Operations/Cancel: outstanding devices keep
 * StatusCode 0 and appear with status="0"), and AggregatedResult holds the <GwMOFanoutResult>
 * document, with <Aggregate …/> when the job has an Aggregate leaf (project-defined:
 * "count,min,max,sum,distinct" over the Data of the successful results).
 *
 * Reporting a job a DM Server started (exactly once, Ext/Reported): a FanoutComplete Generic
 * Alert (Correlator = the Start Exec's, Source = the job URI, Format xml, Data = the document)
 * queued durably. Flow Y: when the job ends within [fanout] sync-wait seconds (default 30; 0
 * disables) of the Start, the gateway's reply in the server's session that Exec'd Start was
 * held and carries the alert; else (Y') a new session delivers it.
 *
 * Signals: "job-added" (uri), "job-changed" (uri), "job-finished" (uri, aggregated xml),
 * "job-removed" (uri).
 */

#define GW_TYPE_FANOUT (gw_fanout_get_type())
G_DECLARE_FINAL_TYPE(GwFanout, gw_fanout, GW, FANOUT, GObject)

typedef struct {
	gchar *group;    /* a GroupID, or */
	gchar **devices; /* DeviceIDs */
	gchar *command;  /* Get | Replace | Add | Delete | Exec */
	gchar *target_uri;
	gchar *data;         /* nullable */
	gchar *format;       /* nullable (chr) */
	gchar *type;         /* nullable */
	guint timeout;       /* 0: default */
	guint max_in_flight; /* 0: default */
	gchar *aggregate;    /* nullable */
} GwFanoutSpec;

void
gw_fanout_spec_clear(GwFanoutSpec *spec);

typedef struct {
	gchar *state;
	guint total;
	guint succeeded;
	guint failed;
	guint pending;
} GwFanoutJobInfo;

void
gw_fanout_job_info_clear(GwFanoutJobInfo *info);

/* @northbound nullable (no reporting) */
GwFanout *
gw_fanout_new(GwConfig *config,
              GwDmTree *tree,
              GwDmStore *store,
              GwInventory *inventory,
              GwAdapters *adapters,
              GwNorthbound *northbound);
/* a job's Data holding an image URL of @images (its LocalURI) reaches each device as the URL
 * signed for that device (gw_image_store_localize(); spec/GWMO.md §9) */
void
gw_fanout_set_image_store(GwFanout *self, GwImageStore *images);
/* Exec handlers, the MO's ACL; resumes jobs that were InProgress and reports finished jobs
 * not reported yet */
gboolean
gw_fanout_start(GwFanout *self, GError **error);

/* a new job ./GwMO/Fanout/<n> owned by @owner_server_id (NULL: the local owner, "Get=*");
 * checks the spec (GW_ERROR_INVALID_ARGS); returns its URI */
gchar *
gw_fanout_create_job(GwFanout *self,
                     const GwFanoutSpec *spec,
                     const gchar *owner_server_id,
                     GError **error);
/* as the Start Exec of the local owner */
gboolean
gw_fanout_start_job(GwFanout *self, const gchar *job_uri, GError **error);
gboolean
gw_fanout_cancel_job(GwFanout *self, const gchar *job_uri, GError **error);
/* (element-type utf8) job URIs in tree order */
GPtrArray *
gw_fanout_list_jobs(GwFanout *self);
gboolean
gw_fanout_get_job_info(GwFanout *self, const gchar *job_uri, GwFanoutJobInfo *info);
/* the AggregatedResult document, NULL before the job ended */
gchar *
gw_fanout_dup_aggregated(GwFanout *self, const gchar *job_uri);

G_END_DECLS
