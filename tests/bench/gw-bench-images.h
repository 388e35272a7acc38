/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the image-serving benchmarks (bench-images, bench-images-wrk) share: nginx on loopback
 * (a generated config, a non-daemon child process stopped by its PID, killed with the
 * benchmark), and the real gwmod's side of an image (a device, the image downloaded once from
 * a local upstream, its URL signed for a device).
 */

#pragma once

#include <gio/gio.h>

#include "gw-test-daemon.h"
#include "gw-upstream.h"

G_BEGIN_DECLS

/* a GSubprocessLauncher child set-up: the child is killed when the benchmark exits */
void
gw_bench_child_setup(gpointer user_data);

/* $@env_name if set, else @name on PATH, else @fallback if executable, else NULL; g_free() it */
gchar *
gw_bench_find_program(const gchar *env_name, const gchar *name, const gchar *fallback);

typedef struct {
	guint workers;            /* 0: one process, no master (master_process off) */
	guint worker_connections; /* per worker */
	guint keepalive_requests; /* 0: nginx's default */
	guint16 http_port;
	guint16 https_port; /* 0: no https listener */
	const gchar *cert;  /* with https_port: its certificate and key */
	const gchar *key;
} GwBenchNginxConfig;

/* @nginx in the foreground serving @root's files at /images/, its config, pid, logs and temp
 * files in @dir; once it accepts connections (on https_port if set, else http_port) */
GSubprocess *
gw_bench_nginx_start(const gchar *nginx,
                     const gchar *dir,
                     const gchar *root,
                     const GwBenchNginxConfig *config,
                     GError **error);
/* SIGTERM, reaped, unreferenced */
void
gw_bench_nginx_stop(GSubprocess *nginx);

/* @size bytes of a GRand seeded with @seed */
GBytes *
gw_bench_random_blob(guint32 size, guint32 seed);
/* AddDevice @id (ClientName @id, ClientSecret @secret) */
gboolean
gw_bench_add_device(GwTestDaemon *d, const gchar *id, const gchar *secret, GError **error);
/* @blob as the image @name of gwmod, downloaded once (Available) from a local upstream, which
 * *@up_out keeps serving; its sha256 (hex) */
gchar *
gw_bench_add_image(GwTestDaemon *d,
                   const gchar *name,
                   GBytes *blob,
                   GwUpstream **up_out,
                   GError **error);
/* gwmod's key of its signed image URLs */
GBytes *
gw_bench_image_url_key(GwTestDaemon *d, GError **error);
/* @url signed for device @dev with @key, valid @valid_s seconds (spec/GWMO.md §9): what the
 * device receives when the gateway hands it the image's LocalURI */
gchar *
gw_bench_signed_url(const gchar *url, GBytes *key, const gchar *dev, gint64 valid_s);

void
gw_bench_rm_rf(const gchar *path);

G_END_DECLS
