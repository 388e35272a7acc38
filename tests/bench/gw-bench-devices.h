/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The simulated End Devices of the fan-out benchmarks (bench-fanout, bench-wan): N devices in
 * the benchmark's process, each its own DM tree (the standard objects, ./DevInfo/Mod
 * "sim-device"), MD5 credentials both ways and a notification URL on one of a few HTTP
 * listeners here. A device waits device_ms (a main-loop timeout: the process goes on serving
 * the other devices) before each DM message it sends; each session has its own HTTP client, so
 * its own connection (and TLS handshake), as a real device has.
 *
 * A device keeps its nonces per server (gwmod, the direct DM Server of the benchmark), as in
 * its DMAcc, and a nonce it issues is kept only once the message that carries it (a Chal in its
 * Status) is sent: a session that ends on the server's message issues one it never sends, and
 * keeping it made the next session with that server a 401 and one round trip more.
 *
 * And the direct DM Server's side of such a session (gw_bench_srv_*): the Package #0, the
 * server session with its Get of ./DevInfo/Mod, the answer to each device message.
 */

#pragma once

#include <gio/gio.h>

#include "gw-dm-session.h"
#include "gw-dm-tree.h"
#include "gw-http-server.h"
#include "gw-test-daemon.h"

G_BEGIN_DECLS

#define GW_BENCH_GW_ID "GW-TEST-0001" /* gw_test_daemon_new_with_config() */
#define GW_BENCH_DEV_SECRET "bench-dev-secret"
#define GW_BENCH_GW_SECRET "bench-gw-secret"
/* the notification listeners: gwmod's HTTP client keeps up to 64 connections per host:port,
 * more than MaxInFlight; few, as each listener and keep-alive connection is a pollfd that every
 * turn of the benchmark's main loop scans */
#define GW_BENCH_NOTIFY_PORTS 4
/* GW_BENCH_DEVICE_MS unset: a Linux-class device on a good LAN (see bench-fanout.c) */
#define GW_BENCH_DEVICE_MS_DEFAULT 2
/* one device's answer to the Get of ./DevInfo/Mod, as an aggregated Fanout result has it */
#define GW_BENCH_ANSWER "status=\"200\"><Data format=\"chr\">sim-device</Data>"

/* a pair of MD5 nonces with one peer */
typedef struct {
	GBytes *local; /* we digest with it (the peer issued it) */
	GBytes *peer;  /* the peer digests with it (we issued it) */
} GwBenchNonces;

typedef struct _GwBenchDevs GwBenchDevs;

typedef struct {
	GwBenchDevs *devs;
	gchar *id;
	GwDmTree *tree;
	GwBenchNonces gw;  /* with gwmod */
	GwBenchNonces srv; /* with the benchmark's direct DM Server */
	gchar *notify_url; /* its notification URL, as gwmod has it */
	gchar *srv_url;    /* the direct DM Server's URL for its sessions */
} GwBenchDev;

/* a device session's end: @ok, it finished */
typedef void (*GwBenchDevDone)(GwBenchDev *dev, gboolean ok, gpointer data);

struct _GwBenchDevs {
	const gchar *prog;           /* the benchmark's name, before its messages */
	GHashTable *by_id;           /* id → GwBenchDev, owned */
	GPtrArray *order;            /* the devices, in the order added */
	GwHttpServer *notify_server; /* POST /n/<id>: a Package #0 for a device */
	gchar *dm_url;               /* gwmod's southbound URL */
	gchar *srv_ca;               /* the direct server's certificate (https), or NULL */
	gboolean notify_to_srv;      /* notified devices open their session with their srv_url */
	guint device_ms;             /* each device's response time, before each message */
	guint running;               /* device sessions in progress */
	guint sent;                  /* device messages, all sessions */
	guint failed;                /* failed device sessions and refused Package #0s */
};

void
gw_bench_nonces_clear(GwBenchNonces *nonces);
/* "nonce-changed" of a session that keeps each nonce at once: @user_data, its GwBenchNonces */
void
gw_bench_nonces_changed_cb(GwDmSession *session, gboolean local, GBytes *nonce, gpointer user_data);

void
gw_bench_devs_init(GwBenchDevs *devs, const gchar *prog);
/* @n_ports notification listeners on 127.0.0.1 (http); their base URIs, "http://…:PORT/" */
gchar **
gw_bench_devs_listen(GwBenchDevs *devs, guint n_ports);
void
gw_bench_devs_clear(GwBenchDevs *devs);
GwBenchDev *
gw_bench_devs_add(GwBenchDevs *devs, const gchar *id);
/* GW_BENCH_DEVICE_MS, else GW_BENCH_DEVICE_MS_DEFAULT */
guint
gw_bench_device_ms(void);

/* AddDevice of @dev with gwmod (Mode 2, MD5 both ways, its notify_url, @groups or NULL) */
void
gw_bench_dev_provision(GwBenchDev *dev, GwTestDaemon *d, const gchar *const *groups);
/* a DM session of @dev with gwmod or (@to_srv) the direct server, with @alert (and
 * @session_id, that of a Package #0, or NULL); @done when it ends */
void
gw_bench_dev_session(GwBenchDev *dev,
                     gboolean to_srv,
                     const gchar *session_id,
                     guint alert,
                     GwBenchDevDone done,
                     gpointer data);

/* the direct DM Server: a server session with @dev_id (MD5 both ways, @nonces kept) with a
 * Get of ./DevInfo/Mod queued, and its Package #0 (signed with the server secret) in @pkg0 */
GwDmSession *
gw_bench_srv_session_new(const gchar *dev_id, GwBenchNonces *nonces, GBytes **pkg0);
/* @result_ptr ("result" of such a session): the device's answer to the Get */
gboolean
gw_bench_srv_result_ok(gpointer result_ptr);
/* answers @request, a message of @dev_id in @session, with the session's reply (and, on its
 * last, "Connection: close", as gwmod does), or 400. TRUE when the session ended; then *@ok:
 * it finished. */
gboolean
gw_bench_srv_answer(const gchar *prog,
                    const gchar *dev_id,
                    GwDmSession *session,
                    GwHttpRequest *request,
                    gboolean *ok);

/* CPU seconds (user + system) of this process, of its reaped children */
gdouble
gw_bench_cpu_self(void);
gdouble
gw_bench_cpu_children(void);

G_END_DECLS
