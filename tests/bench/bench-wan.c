/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The WAN figure (issue 16 §2, use case B.7, the gateway's reason to exist): a DM Server that
 * sits across a WAN from a home or LAN of N End Devices reads ./DevInfo/Mod of every device,
 *  - direct, sequential: the server itself, device after device: a Package #0 to the device's
 *    notification URL, the device's HTTPS session with the server (MD5 both ways, the Get, its
 *    Results), then the next device;
 *  - direct, fair: the same with MaxInFlight (32, the Fanout job's default) devices in flight;
 *  - fan-out: one Fanout job through the real gwmod, whose devices are on the LAN: the server
 *    (the reference DM Server, tests/peers/gwmo-test-server, its own process) sends gwmod a
 *    Package #0 (HTTPS), gwmod opens a DM session with it in which it Adds
 *    ./GwMO/Fanout/wan (Targets/Group, Command Get, TargetURI ./DevInfo/Mod, Timeout,
 *    MaxInFlight 32) and Execs its Start; gwmod drives the N devices on the LAN and delivers
 *    the aggregated result in a Generic Alert (FanoutComplete) in a later session it opens
 *    with the server ([fanout] sync-wait=0, flow Y').
 *
 * The WAN: every byte between the DM Server and the rest (the devices in the direct paths,
 * gwmod in the fan-out) goes through a delaying TCP proxy in this process (its own thread and
 * main context; kernel netem is not available): each chunk read on one side is written to the
 * other 25 ms later (a 50 ms round trip), in order; a new connection's first client bytes go
 * out 50 ms after the accept at the earliest (the TCP handshake's round trip). The proxy
 * counts, per run:
 *  - WAN bytes, both directions (payload, no TCP/IP headers);
 *  - connections, and TLS handshakes: connections whose first client bytes are a TLS
 *    Handshake record carrying a ClientHello (0x16 … type 1), i.e. full handshakes counted
 *    from the ClientHello, not guessed from the connection count;
 *  - round trips: on each connection, every time server→client data follows client→server
 *    data (a change of direction back to the client), summed over connections. A request and
 *    its response is one; a TLS 1.3 handshake one more.
 * The proxy connects to its target from a different 127.x address per connection, so that the
 * listener behind it sees the many peers a real server sees (gwmo's HTTP server limits TLS
 * handshakes and connections per peer address).
 *
 * The devices: N simulated End Devices in this process (gw-bench-devices.c, shared with
 * bench-fanout: each its own DM tree, MD5 credentials, a notification URL on one of a few HTTP
 * listeners here), each waiting T = 2 ms (GW_BENCH_DEVICE_MS) before each message it sends, in
 * every path; each device session has its own HTTP client, so its own connection and TLS handshake.
 * The direct DM Server is this binary in a process of its own (--direct-server, see srv_main()),
 * over HTTPS (DIRECT_LISTENERS listeners: gwmo's HTTP server caps the TLS handshakes it runs at
 * once per listener); its CPU is getrusage(RUSAGE_SELF) of that process over the run. The fan-out's
 * DM Server CPU is the whole gwmo-test-server process (getrusage(RUSAGE_CHILDREN) across its
 * reaping): its start-up, TLS set-up and JSON record included, so that figure is an upper
 * bound. Wall time: direct, from the first Package #0 to the last session's end; fan-out,
 * from the server's spawn to the last WAN byte (the server's last reply of the FanoutComplete
 * session delivered to gwmod).
 *
 * Unmeasured first: every device's first session with gwmod (registration, nonces) and a
 * direct round of WARMUP_DEVICES devices with the WAN delay off (the direct server's
 * keep-alive connections for its Package #0s; GW_BENCH_WARMUP=0 skips it: the same bytes and
 * round trips, a few more connections). The fan-out server is a fresh process every round.
 *
 * Direct sequential at large N is long (about 0.2 s per device): past
 * GW_BENCH_SEQ_MAX (default 1000) devices it runs the first GW_BENCH_SEQ_PREFIX (default 300)
 * and extrapolates every figure linearly, and says so.
 *
 * A benchmark: the targets (at N = 1,000: wall time ≥ 50× less than sequential and ≥ 5× less
 * than fair, ≥ 20× fewer WAN bytes, ≥ 100× fewer round trips and TLS handshakes, ≥ 10× less DM
 * Server CPU per device) are printed met / NOT met, never fail it; a device without its
 * answer on any path exits 1.
 *
 * usage: bench-wan GWMO_TEST_SERVER [N…]   (default N: 100 1000 10000; GWMO_TEST_GWMOD: the
 *                                           gwmod binary; GW_BENCH_VERBOSE=1 prints gwmod's
 *                                           and the server's logs)
 */

#define G_LOG_DOMAIN "GwWanBench"

#include "config.h"

#include <errno.h>
#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gw-bench-devices.h"
#include "gw-crypto.h"
#include "gw-e2e.h"
#include "gw-http-client.h"
#include "gw-http-server.h"
#include "gw-pkg0.h"

#define NOTIFY_PORTS GW_BENCH_NOTIFY_PORTS
#define DIRECT_LISTENERS 4
/* a device session of the direct server, at the most (the devices' HTTP timeout) */
#define SRV_SESSION_TIMEOUT_S 120
#define MAX_IN_FLIGHT 32 /* GW_GWMO_FANOUT_MAX_IN_FLIGHT_DEFAULT, the fair server's too */
#define WAN_ONE_WAY_US (25 * 1000)
#define GROUP "wan"
/* the unmeasured direct round: the Package #0 connections (HTTP keep-alive), nonces */
#define WARMUP_DEVICES 100

static void G_GNUC_NORETURN
bench_fail(const gchar *what)
{
	g_printerr("bench-wan: %s\n", what);
	exit(1);
}

/* ==== the WAN: a delaying TCP proxy, its own thread ==== */

typedef struct {
	guint64 bytes[2]; /* client→server, server→client */
	guint64 conns;
	guint64 tls;
	guint64 rtts;
	gint64 last_us; /* the last chunk delivered, monotonic */
} WanCounts;

typedef struct {
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	GMutex lock;
	WanCounts c;
	gint delay_on; /* atomic: 0 while the unmeasured warm-ups run */
	guint next_source;
} Wan;

typedef struct {
	Wan *wan;
	GSocket *sock;
	guint16 target;
} WanPort;

typedef struct _WanConn WanConn;

typedef struct {
	gint64 due;
	GBytes *data; /* NULL: the end of the stream */
	gsize off;
} WanChunk;

typedef struct {
	WanConn *conn;
	gint dir; /* 0: client→server, 1: server→client */
	GSocket *from, *to;
	GQueue q;
	GSource *rsrc, *wsrc, *tsrc;
	gboolean shut;
} WanDir;

struct _WanConn {
	Wan *wan;
	GSocket *s[2]; /* the client's, the target's */
	WanDir d[2];
	gint last; /* direction of the last data, -1: none yet */
	gboolean first_seen;
	gint64 open_us;
};

static Wan wan;

static void
wan_chunk_free(WanChunk *ch)
{
	g_clear_pointer(&ch->data, g_bytes_unref);
	g_free(ch);
}

static void
wan_src_clear(GSource **src)
{
	if (*src != NULL) {
		g_source_destroy(*src);
		*src = NULL;
	}
}

static void
wan_conn_close(WanConn *c)
{
	for (guint i = 0; i < 2; i++) {
		wan_src_clear(&c->d[i].rsrc);
		wan_src_clear(&c->d[i].wsrc);
		wan_src_clear(&c->d[i].tsrc);
		g_queue_clear_full(&c->d[i].q, (GDestroyNotify)wan_chunk_free);
	}
	for (guint i = 0; i < 2; i++) {
		if (c->s[i] != NULL) {
			g_socket_close(c->s[i], NULL);
			g_object_unref(c->s[i]);
		}
	}
	g_free(c);
}

static GSource *
wan_attach(GSource *src, gpointer func, gpointer data)
{
	g_source_set_callback(src, (GSourceFunc)func, data, NULL);
	g_source_attach(src, wan.ctx);
	g_source_unref(src); /* the context holds it until it is destroyed */
	return src;
}

static void
wan_flush(WanDir *d);

static gboolean
wan_timer_cb(gpointer data)
{
	WanDir *d = data;
	d->tsrc = NULL;
	wan_flush(d);
	return G_SOURCE_REMOVE;
}

static gboolean
wan_writable_cb(GSocket *sock, GIOCondition cond, gpointer data)
{
	WanDir *d = data;
	d->wsrc = NULL;
	wan_flush(d);
	return G_SOURCE_REMOVE;
}

static void
wan_schedule(WanDir *d)
{
	WanChunk *head = g_queue_peek_head(&d->q);
	gint64 wait;
	if (head == NULL || d->tsrc != NULL || d->wsrc != NULL)
		return;
	wait = head->due - g_get_monotonic_time();
	d->tsrc = wan_attach(
	    g_timeout_source_new(wait > 0 ? (guint)((wait + 999) / 1000) : 0), wan_timer_cb, d);
}

/* writes what is due; may close the connection (then @d is gone) */
static void
wan_flush(WanDir *d)
{
	WanConn *c = d->conn;
	WanChunk *ch;

	while ((ch = g_queue_peek_head(&d->q)) != NULL && ch->due <= g_get_monotonic_time() + 500) {
		gsize len;
		const gchar *p;
		gssize n;
		g_autoptr(GError) error = NULL;

		if (ch->data == NULL) {
			g_socket_shutdown(d->to, FALSE, TRUE, NULL);
			d->shut = TRUE;
			wan_chunk_free(g_queue_pop_head(&d->q));
			if (c->d[0].shut && c->d[1].shut) {
				wan_conn_close(c);
				return;
			}
			continue;
		}
		p = g_bytes_get_data(ch->data, &len);
		n = g_socket_send(d->to, p + ch->off, len - ch->off, NULL, &error);
		if (n < 0) {
			if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
				d->wsrc = wan_attach(g_socket_create_source(d->to, G_IO_OUT, NULL),
				                     wan_writable_cb,
				                     d);
				return;
			}
			wan_conn_close(c);
			return;
		}
		ch->off += (gsize)n;
		if (ch->off == len) {
			wan_chunk_free(g_queue_pop_head(&d->q));
			g_mutex_lock(&wan.lock);
			wan.c.last_us = g_get_monotonic_time();
			g_mutex_unlock(&wan.lock);
		}
	}
	wan_schedule(d);
}

static gboolean
wan_readable_cb(GSocket *sock, GIOCondition cond, gpointer data)
{
	WanDir *d = data;
	WanConn *c = d->conn;
	gchar buf[65536];
	g_autoptr(GError) error = NULL;
	gssize n = g_socket_receive(sock, buf, sizeof(buf), NULL, &error);
	gint64 now = g_get_monotonic_time();
	gint64 delay = g_atomic_int_get(&wan.delay_on) ? WAN_ONE_WAY_US : 0;
	WanChunk *ch;

	if (n < 0) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			return G_SOURCE_CONTINUE;
		d->rsrc = NULL;
		wan_conn_close(c);
		return G_SOURCE_REMOVE;
	}
	ch = g_new0(WanChunk, 1);
	/* the TCP handshake: the client's first bytes leave one round trip after its connect */
	ch->due = (d->dir == 0 ? MAX(now, c->open_us + 2 * delay) : now) + delay;
	if (n == 0) {
		d->rsrc = NULL;
		g_queue_push_tail(&d->q, ch);
		wan_schedule(d);
		return G_SOURCE_REMOVE;
	}
	ch->data = g_bytes_new(buf, (gsize)n);
	g_mutex_lock(&wan.lock);
	wan.c.bytes[d->dir] += (guint64)n;
	if (d->dir == 0 && !c->first_seen) {
		c->first_seen = TRUE;
		/* a TLS record of type Handshake whose first message is a ClientHello */
		if (n > 5 && (guchar)buf[0] == 0x16 && (guchar)buf[1] == 0x03 && buf[5] == 0x01)
			wan.c.tls++;
	}
	if (d->dir == 1 && c->last == 0)
		wan.c.rtts++;
	g_mutex_unlock(&wan.lock);
	c->last = d->dir;
	g_queue_push_tail(&d->q, ch);
	wan_schedule(d);
	return G_SOURCE_CONTINUE;
}

static void
wan_nodelay(GSocket *s)
{
	g_socket_set_option(s, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	g_socket_set_blocking(s, FALSE);
}

static gboolean
wan_accept_cb(GSocket *sock, GIOCondition cond, gpointer data)
{
	WanPort *port = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) client = g_socket_accept(sock, NULL, &error);
	g_autoptr(GSocket) target = NULL;
	g_autoptr(GInetAddress) from_ip = NULL;
	g_autoptr(GSocketAddress) from = NULL;
	g_autoptr(GInetAddress) lo = NULL;
	g_autoptr(GSocketAddress) to = NULL;
	guint k = wan.next_source++ % (250 * 250);
	g_autofree gchar *ip = g_strdup_printf("127.1.%u.%u", k / 250 + 1, k % 250 + 1);
	WanConn *c;

	if (client == NULL)
		return G_SOURCE_CONTINUE;
	target =
	    g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
	if (target == NULL)
		bench_fail(error->message);
	/* from its own loopback address: a peer of its own for the listener behind */
	from_ip = g_inet_address_new_from_string(ip);
	from = g_inet_socket_address_new(from_ip, 0);
	lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	to = g_inet_socket_address_new(lo, port->target);
	if (!g_socket_bind(target, from, FALSE, &error) ||
	    !g_socket_connect(target, to, NULL, &error)) {
		g_printerr("bench-wan: proxy to port %u: %s\n", port->target, error->message);
		return G_SOURCE_CONTINUE;
	}
	wan_nodelay(client);
	wan_nodelay(target);
	c = g_new0(WanConn, 1);
	c->wan = &wan;
	c->s[0] = g_steal_pointer(&client);
	c->s[1] = g_steal_pointer(&target);
	c->last = -1;
	c->open_us = g_get_monotonic_time();
	for (guint i = 0; i < 2; i++) {
		WanDir *d = &c->d[i];
		d->conn = c;
		d->dir = (gint)i;
		d->from = c->s[i];
		d->to = c->s[1 - i];
		g_queue_init(&d->q);
		d->rsrc =
		    wan_attach(g_socket_create_source(d->from, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL),
		               wan_readable_cb,
		               d);
	}
	g_mutex_lock(&wan.lock);
	wan.c.conns++;
	g_mutex_unlock(&wan.lock);
	return G_SOURCE_CONTINUE;
}

static gpointer
wan_thread(gpointer data)
{
	g_main_context_push_thread_default(wan.ctx);
	g_main_loop_run(wan.loop);
	g_main_context_pop_thread_default(wan.ctx);
	return NULL;
}

static void
wan_start(void)
{
	g_mutex_init(&wan.lock);
	wan.ctx = g_main_context_new();
	wan.loop = g_main_loop_new(wan.ctx, FALSE);
	wan.thread = g_thread_new("wan", wan_thread, NULL);
}

/* a new proxy port on 127.0.0.1 to 127.0.0.1:@target; its port */
static guint16
wan_port(guint16 target)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	WanPort *port = g_new0(WanPort, 1); /* kept for the process's life */

	port->wan = &wan;
	port->target = target;
	port->sock =
	    g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
	if (port->sock == NULL || !g_socket_bind(port->sock, any, TRUE, &error))
		bench_fail(error->message);
	g_socket_set_listen_backlog(port->sock, 1024);
	if (!g_socket_listen(port->sock, &error))
		bench_fail(error->message);
	g_socket_set_blocking(port->sock, FALSE);
	wan_attach(g_socket_create_source(port->sock, G_IO_IN, NULL), wan_accept_cb, port);
	bound = g_socket_get_local_address(port->sock, &error);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

static WanCounts
wan_take(void)
{
	WanCounts c;
	g_mutex_lock(&wan.lock);
	c = wan.c;
	memset(&wan.c, 0, sizeof(wan.c));
	g_mutex_unlock(&wan.lock);
	return c;
}

/* ==== the simulated End Devices (gw-bench-devices.h, as in bench-fanout) ==== */

typedef struct {
	GwTestDaemon *d;
	GwBenchDevs devs; /* devs.srv_ca: the direct server's certificate, the devices trust it */
	/* registration */
	guint next;
} Bench;

/* every device's first session with gwmod (client-initiated, on the LAN), MAX_IN_FLIGHT at
 * once: registration and nonces, unmeasured */
static void
register_next(Bench *b);

static void
register_done(GwBenchDev *dev, gboolean ok, gpointer data)
{
	Bench *b = data;
	if (!ok)
		b->devs.failed++;
	if (b->next < b->devs.order->len)
		register_next(b);
}

static void
register_next(Bench *b)
{
	gw_bench_dev_session(g_ptr_array_index(b->devs.order, b->next++),
	                     FALSE,
	                     NULL,
	                     GW_SYNCML_ALERT_CLIENT_INITIATED_MGMT,
	                     register_done,
	                     b);
}

static void
register_all(Bench *b)
{
	b->next = 0;
	while (b->next < b->devs.order->len && b->next < MAX_IN_FLIGHT)
		register_next(b);
	while (b->devs.running > 0 || b->next < b->devs.order->len)
		g_main_context_iteration(NULL, TRUE);
	if (b->devs.failed > 0)
		bench_fail("a device's registration session failed");
}

/* ==== the direct DM Server: its own process (this binary, --direct-server) ====
 *
 * Its own process, not a thread of this one: glib-networking runs every TLS handshake on a
 * thread of GLib's shared GTask pool, blocked on the peer; with the devices' client handshakes
 * and the server's handshakes in one process, the pool (10 threads, growing slowly) filled
 * with handshakes waiting for the other side's, which could not get a thread: at N = 1,000
 * handshakes failed and the run did not end in 10 minutes. Separate processes, as a
 * real server and real devices are. Its CPU is getrusage(RUSAGE_SELF) of that process over a
 * run, TLS handshake threads included. Driven by lines on stdin ("run LIMIT MAX_IN_FLIGHT"),
 * answering on stdout ("done WALL_US CPU_S FAILED"); its first line is its listeners' ports. */

typedef struct _Srv Srv;

typedef struct {
	Srv *srv;
	gchar *id;
	gchar *notify_wan;
	GwBenchNonces nonces; /* the server's side of the device's pair */
	GwDmSession *session;
	gboolean got_result;
	guint deadline; /* the session's end at the latest (SRV_SESSION_TIMEOUT_S) */
} SrvDev;

struct _Srv {
	GwHttpServer *http[DIRECT_LISTENERS];
	GwHttpClient *client;
	GHashTable *devs; /* id → SrvDev */
	GPtrArray *order;
	GDataInputStream *in;
	guint max_in_flight;
	guint limit;
	guint next, in_flight, done, failed;
	gint64 t0;
	gdouble cpu0;
};

static void
srv_fill(Srv *srv);

static void
srv_read_command(Srv *srv);

static void
srv_result_cb(GwDmSession *session, gpointer result_ptr, gpointer user_data)
{
	SrvDev *dev = user_data;
	if (gw_bench_srv_result_ok(result_ptr))
		dev->got_result = TRUE;
}

static gboolean
srv_fill_cb(gpointer data)
{
	srv_fill(data);
	return G_SOURCE_REMOVE;
}

static void
srv_dev_done(SrvDev *dev, gboolean ok)
{
	Srv *srv = dev->srv;
	if (dev->session == NULL)
		return;
	if (!ok || !dev->got_result) {
		g_printerr("bench-wan: direct server: %s: no Get result\n", dev->id);
		srv->failed++;
	}
	g_signal_handlers_disconnect_by_data(dev->session, dev);
	g_clear_object(&dev->session);
	g_clear_handle_id(&dev->deadline, g_source_remove);
	srv->in_flight--;
	srv->done++;
	if (srv->done == srv->limit) {
		g_print("done %" G_GINT64_FORMAT " %.6f %u\n",
		        g_get_monotonic_time() - srv->t0,
		        gw_bench_cpu_self() - srv->cpu0,
		        srv->failed);
		fflush(stdout);
		srv_read_command(srv);
		return;
	}
	g_idle_add(srv_fill_cb, srv);
}

/* POST /srv/<id>: a device's messages */
static void
srv_handler(GwHttpServer *server, GwHttpRequest *request, gpointer user_data)
{
	Srv *srv = user_data;
	const gchar *id = gw_http_request_get_path(request) + strlen("/srv/");
	SrvDev *dev = g_hash_table_lookup(srv->devs, id);
	gboolean ok;

	if (dev == NULL || dev->session == NULL) {
		gw_http_request_respond(request, 409, NULL, NULL);
		return;
	}
	if (gw_bench_srv_answer("bench-wan", dev->id, dev->session, request, &ok))
		srv_dev_done(dev, ok);
}

static void
srv_notified_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SrvDev *dev = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GwHttpResponse) response =
	    gw_http_client_post_finish(GW_HTTP_CLIENT(source), res, &error);
	if (response == NULL || response->status != 200) {
		g_printerr("bench-wan: direct server: Package #0 to %s: %s\n",
		           dev->id,
		           error != NULL ? error->message : "refused");
		srv_dev_done(dev, FALSE);
	}
}

/* a session that never came or never ended (its device's TLS handshake failed, as on a
 * loaded machine under ASan): failed, so that the run ends instead of waiting forever */
static gboolean
srv_deadline_cb(gpointer data)
{
	SrvDev *dev = data;
	dev->deadline = 0;
	g_printerr("bench-wan: direct server: %s: no session end in %u s\n",
	           dev->id,
	           SRV_SESSION_TIMEOUT_S);
	srv_dev_done(dev, FALSE);
	return G_SOURCE_REMOVE;
}

/* Package #0 (signed with the server secret) to the device's notification URL, across the WAN;
 * its session then comes in on /srv/<id> */
static void
srv_start_one(Srv *srv, SrvDev *dev)
{
	g_autoptr(GBytes) pkg0 = NULL;

	dev->session = gw_bench_srv_session_new(dev->id, &dev->nonces, &pkg0);
	dev->got_result = FALSE;
	dev->deadline = g_timeout_add_seconds(SRV_SESSION_TIMEOUT_S, srv_deadline_cb, dev);
	g_signal_connect(dev->session, "result", G_CALLBACK(srv_result_cb), dev);
	srv->in_flight++;
	gw_http_client_post_async(srv->client,
	                          dev->notify_wan,
	                          GW_PKG0_CONTENT_TYPE,
	                          pkg0,
	                          NULL,
	                          NULL,
	                          srv_notified_cb,
	                          dev);
}

static void
srv_fill(Srv *srv)
{
	while (srv->in_flight < srv->max_in_flight && srv->next < srv->limit)
		srv_start_one(srv, g_ptr_array_index(srv->order, srv->next++));
}

static void
srv_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Srv *srv = user_data;
	g_autofree gchar *line =
	    g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, NULL, NULL);
	g_auto(GStrv) words = NULL;

	if (line == NULL || !g_str_has_prefix(line, "run ")) {
		exit(0); /* "quit", or the benchmark went away */
	}
	words = g_strsplit(line, " ", 0);
	if (g_strv_length(words) != 3)
		bench_fail("direct server: bad command");
	srv->limit = MIN((guint)g_ascii_strtoull(words[1], NULL, 10), srv->order->len);
	srv->max_in_flight = MAX((guint)g_ascii_strtoull(words[2], NULL, 10), 1);
	srv->next = srv->in_flight = srv->done = srv->failed = 0;
	srv->t0 = g_get_monotonic_time();
	srv->cpu0 = gw_bench_cpu_self();
	srv_fill(srv);
}

static void
srv_read_command(Srv *srv)
{
	g_data_input_stream_read_line_async(srv->in, G_PRIORITY_DEFAULT, NULL, srv_command_cb, srv);
}

/* bench-wan --direct-server CERT N NOTIFY_PORT… (NOTIFY_PORTS of them, across the WAN) */
static int
srv_main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsCertificate) cert = NULL;
	g_autofree gchar *key = NULL;
	g_autoptr(GInputStream) stdin_stream = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	Srv srv = {0};
	guint n;

	if (argc != 4 + NOTIFY_PORTS)
		bench_fail("usage: bench-wan --direct-server CERT N NOTIFY_PORT…");
	key = g_strconcat(argv[2], ".key", NULL);
	cert = g_tls_certificate_new_from_files(argv[2], key, &error);
	if (cert == NULL)
		bench_fail(error->message);
	n = (guint)g_ascii_strtoull(argv[3], NULL, 10);
	srv.devs = g_hash_table_new(g_str_hash, g_str_equal);
	srv.order = g_ptr_array_new();
	for (guint i = 0; i < n; i++) {
		SrvDev *dev = g_new0(SrvDev, 1); /* kept for the process's life */
		dev->srv = &srv;
		dev->id = g_strdup_printf("sim-%05u", i + 1);
		dev->notify_wan = g_strdup_printf(
		    "http://127.0.0.1:%s/n/%s", argv[4 + i % NOTIFY_PORTS], dev->id);
		g_hash_table_insert(srv.devs, dev->id, dev);
		g_ptr_array_add(srv.order, dev);
	}
	g_print("ports");
	for (guint i = 0; i < DIRECT_LISTENERS; i++) {
		GwHttpServerLimits limits;
		srv.http[i] = gw_http_server_new(cert);
		gw_http_server_get_limits(srv.http[i], &limits);
		limits.max_per_peer = 1024;
		gw_http_server_set_limits(srv.http[i], &limits);
		gw_http_server_add_handler(srv.http[i], "/srv/", srv_handler, &srv, NULL);
		if (!gw_http_server_listen(srv.http[i], "https://127.0.0.1:0", &error))
			bench_fail(error->message);
		g_print(" %u", gw_http_server_get_port(srv.http[i], TRUE));
	}
	g_print("\n");
	fflush(stdout);
	srv.client = gw_http_client_new(NULL, &error);
	if (srv.client == NULL)
		bench_fail(error->message);
	gw_http_client_set_max_in_flight(srv.client, 64);
	gw_http_client_set_timeout(srv.client, 120);
	stdin_stream = g_unix_input_stream_new(STDIN_FILENO, FALSE);
	srv.in = g_data_input_stream_new(stdin_stream);
	srv_read_command(&srv);
	g_main_loop_run(loop);
	return 0;
}

/* the benchmark's side: the server process and its ports */
typedef struct {
	GSubprocess *proc;
	GDataInputStream *out;
	GOutputStream *in;
	guint16 ports[DIRECT_LISTENERS];
} SrvProc;

static SrvProc *
srv_proc_new(const gchar *self_path, const gchar *cert, guint n, const guint16 *notify_wan_ports)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *line = NULL;
	g_auto(GStrv) words = NULL;
	SrvProc *p = g_new0(SrvProc, 1);

	g_ptr_array_add(argv, g_strdup(self_path));
	g_ptr_array_add(argv, g_strdup("--direct-server"));
	g_ptr_array_add(argv, g_strdup(cert));
	g_ptr_array_add(argv, g_strdup_printf("%u", n));
	for (guint i = 0; i < NOTIFY_PORTS; i++)
		g_ptr_array_add(argv, g_strdup_printf("%u", notify_wan_ports[i]));
	g_ptr_array_add(argv, NULL);
	p->proc = g_subprocess_newv((const gchar *const *)argv->pdata,
	                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
	                            &error);
	if (p->proc == NULL)
		bench_fail(error->message);
	p->in = g_subprocess_get_stdin_pipe(p->proc);
	p->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p->proc));
	line = g_data_input_stream_read_line(p->out, NULL, NULL, &error);
	if (line == NULL || !g_str_has_prefix(line, "ports "))
		bench_fail("the direct server did not start");
	words = g_strsplit(line, " ", 0);
	if (g_strv_length(words) != 1 + DIRECT_LISTENERS)
		bench_fail("the direct server did not start");
	for (guint i = 0; i < DIRECT_LISTENERS; i++)
		p->ports[i] = (guint16)g_ascii_strtoull(words[1 + i], NULL, 10);
	return p;
}

static void
srv_proc_free(SrvProc *p)
{
	g_output_stream_close(p->in, NULL, NULL);
	g_subprocess_wait(p->proc, NULL, NULL);
	g_object_unref(p->out);
	g_object_unref(p->proc);
	g_free(p);
}

typedef struct {
	gdouble wall; /* s */
	gdouble cpu;  /* s of DM Server CPU */
	WanCounts wan;
	guint devices; /* measured */
	gboolean extrapolated;
} Figures;

static void
srv_line_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gchar **line = user_data;
	*line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, NULL, NULL);
	if (*line == NULL)
		bench_fail("the direct server went away");
}

/* the direct server drives the first @limit devices, @max_in_flight at once */
static Figures
run_direct(Bench *b, SrvProc *srv, guint limit, guint max_in_flight)
{
	Figures f = {0};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *cmd = g_strdup_printf("run %u %u\n", limit, max_in_flight);
	g_autofree gchar *line = NULL;
	g_auto(GStrv) words = NULL;

	b->devs.notify_to_srv = TRUE;
	wan_take();
	if (!g_output_stream_write_all(srv->in, cmd, strlen(cmd), NULL, NULL, &error) ||
	    !g_output_stream_flush(srv->in, NULL, &error))
		bench_fail(error->message);
	g_data_input_stream_read_line_async(srv->out, G_PRIORITY_DEFAULT, NULL, srv_line_cb, &line);
	while (line == NULL || b->devs.running > 0)
		g_main_context_iteration(NULL, TRUE);
	f.wan = wan_take();
	words = g_strsplit(line, " ", 0);
	if (g_strv_length(words) != 4 || g_strcmp0(words[0], "done") != 0)
		bench_fail("the direct server answered nonsense");
	f.wall = g_ascii_strtod(words[1], NULL) / G_USEC_PER_SEC;
	f.cpu = g_ascii_strtod(words[2], NULL);
	f.devices = limit;
	b->devs.notify_to_srv = FALSE;
	if (g_ascii_strtoull(words[3], NULL, 10) > 0 || b->devs.failed > 0) {
		g_printerr("bench-wan: direct: %s server and %u device failures\n",
		           words[3],
		           b->devs.failed);
		exit(1);
	}
	return f;
}

/* ==== the fan-out: the reference DM Server, one Fanout job through gwmod ==== */

static void
server_exited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *exited = user_data;
	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	*exited = TRUE;
}

static Figures
run_fanout(Bench *b, Env *e, guint n, const gchar *notify_wan, const gchar *gw_cert)
{
	Figures f = {0};
	g_autofree gchar *record = g_build_filename(e->dir, "record.json", NULL);
	g_autofree gchar *cmds = NULL;
	g_autofree gchar *script = NULL;
	g_autofree gchar *notify_arg = g_strdup_printf("--notify=%s", notify_wan);
	g_autofree gchar *ca_arg = g_strdup_printf("--ca-file=%s", gw_cert);
	g_autoptr(GSubprocess) server = NULL;
	g_autoptr(JsonParser) parser = NULL;
	JsonArray *sessions;
	const gchar *doc = NULL;
	gboolean exited = FALSE;
	gdouble c0;
	gint64 t0;
	guint ok;

	cmds = g_strdup_printf(
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/wan\",\"format\":\"node\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/wan/Targets/Group\",\"data\":\"" GROUP "\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/wan/Command\",\"data\":\"Get\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/wan/TargetURI\",\"data\":\"./DevInfo/Mod\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/wan/Timeout\",\"format\":\"int\",\"data\":"
	    "\"120\"},"
	    "{\"cmd\":\"Add\",\"uri\":\"./GwMO/Fanout/wan/MaxInFlight\",\"format\":\"int\","
	    "\"data\":\"%u\"},"
	    "{\"cmd\":\"Exec\",\"uri\":\"./GwMO/Fanout/wan/Operations/Start\",\"correlator\":"
	    "\"c-wan\"}",
	    MAX_IN_FLIGHT);
	script = g_strdup_printf("{\"sessions\":[{\"commands\":[%s]},{\"commands\":[]}]}", cmds);
	g_remove(record);
	wan_take();
	c0 = gw_bench_cpu_children();
	t0 = g_get_monotonic_time();
	/* it sends gwmod its Package #0 as soon as it runs */
	server = server_start(e,
	                      script,
	                      record,
	                      CL_SECRET,
	                      "--sessions=2",
	                      "--session-timeout=600",
	                      notify_arg,
	                      "--notify-secret=" SRV_SECRET,
	                      ca_arg,
	                      NULL);
	g_subprocess_wait_async(server, NULL, server_exited_cb, &exited);
	while (!exited)
		g_main_context_iteration(NULL, TRUE);
	/* the job's last device sessions, if any, end too */
	while (b->devs.running > 0)
		g_main_context_iteration(NULL, TRUE);
	f.cpu = gw_bench_cpu_children() - c0;
	f.wan = wan_take();
	f.wall = (gdouble)(f.wan.last_us - t0) / G_USEC_PER_SEC;
	f.devices = n;
	if (!g_subprocess_get_if_exited(server) || g_subprocess_get_exit_status(server) != 0)
		bench_fail("the DM Server failed (GW_BENCH_VERBOSE=1 prints its log)");
	sessions = record_sessions(record, &parser);
	for (guint i = 0; i < json_array_get_length(sessions) && doc == NULL; i++) {
		JsonObject *alert = session_alert(json_array_get_object_element(sessions, i),
		                                  "urn:oma:at:gwmo:1.0:FanoutComplete");
		if (alert != NULL)
			doc = json_object_get_string_member(alert, "data");
	}
	if (doc == NULL)
		bench_fail("the DM Server got no FanoutComplete");
	ok = count_substr(doc, GW_BENCH_ANSWER);
	if (ok != n || b->devs.failed > 0) {
		g_printerr("bench-wan: fan-out: %u of %u devices answered 200\n", ok, n);
		exit(1);
	}
	return f;
}

/* ==== a round: N devices, the three paths ==== */

typedef struct {
	guint n;
	Figures seq, fair, fan;
} Row;

static GArray *rows;

static void
print_row(const Row *r);

static Env *
env_wan(guint16 dm_wan_port, guint16 server_port)
{
	Env *e = g_new0(Env, 1);
	g_autofree gchar *conf = NULL;
	g_autofree gchar *tnds = NULL;

	e->dir = e2e_make_dir_with_cert("gwmo-wan-XXXXXX", &e->cert, &e->key);
	e->port = server_port; /* the server listens here; gwmod reaches it across the WAN */
	e->dm_url = g_strdup_printf("https://127.0.0.1:%u/dm", dm_wan_port);
	e->south_port = free_port();
	conf = g_strdup_printf("[southbound]\nlisten=http://127.0.0.1:%u\nsession-timeout=300\n"
	                       "[northbound]\nlisten=https://127.0.0.1:0\nca-file=%s\nretries=1\n"
	                       "timeout=60\n[fanout]\nsync-wait=0\n",
	                       e->south_port,
	                       e->cert);
	e->d = gw_test_daemon_new_with_config(conf);
	e->d->quiet = g_getenv("GW_BENCH_VERBOSE") == NULL;
	tnds = bootstrap_tnds(e->dm_url);
	e2e_start_bootstrapped(e, tnds);
	return e;
}

static void
bench_round(const gchar *self_path, guint n)
{
	g_autoptr(GError) error = NULL;
	guint16 server_port = free_port();
	guint16 dm_wan = wan_port(server_port);
	Env *e = env_wan(dm_wan, server_port);
	g_autofree gchar *gw_notify = notify_url(e->d);
	g_autofree gchar *gw_cert = g_build_filename(e->d->state_dir, "tls.crt", NULL);
	g_autofree gchar *notify_wan = NULL;
	g_auto(GStrv) uris = NULL;
	guint16 notify_wan_ports[NOTIFY_PORTS];
	guint16 srv_wan_ports[DIRECT_LISTENERS];
	const gchar *seq_max_env = g_getenv("GW_BENCH_SEQ_MAX");
	const gchar *prefix_env = g_getenv("GW_BENCH_SEQ_PREFIX");
	guint seq_max = seq_max_env != NULL ? (guint)g_ascii_strtoull(seq_max_env, NULL, 10) : 1000;
	guint prefix = prefix_env != NULL ? (guint)g_ascii_strtoull(prefix_env, NULL, 10) : 300;
	guint device_ms = gw_bench_device_ms();
	Bench b = {0};
	Row row = {.n = n};
	SrvProc *srv;
	gint64 t_setup = g_get_monotonic_time();

	/* gwmod's notification listener, across the WAN */
	{
		g_autoptr(GUri) u = g_uri_parse(gw_notify, G_URI_FLAGS_NONE, NULL);
		notify_wan = g_strdup_printf("https://127.0.0.1:%u/notify",
		                             wan_port((guint16)g_uri_get_port(u)));
	}
	b.d = e->d;
	gw_bench_devs_init(&b.devs, "bench-wan");
	b.devs.dm_url = g_strdup_printf("http://127.0.0.1:%u/dm", e->south_port);
	/* the direct server's certificate (key beside it, ".key") */
	b.devs.srv_ca = g_build_filename(e->dir, "direct.crt", NULL);
	{
		g_autofree gchar *key = g_strconcat(b.devs.srv_ca, ".key", NULL);
		if (!gw_crypto_generate_self_signed(b.devs.srv_ca,
		                                    key,
		                                    "direct-dm-server",
		                                    NULL,
		                                    (const gchar *const[]){"127.0.0.1", NULL},
		                                    2,
		                                    &error))
			bench_fail(error->message);
	}
	uris = gw_bench_devs_listen(&b.devs, NOTIFY_PORTS);
	for (guint i = 0; i < NOTIFY_PORTS; i++) {
		g_autoptr(GUri) u = g_uri_parse(uris[i], G_URI_FLAGS_NONE, NULL);
		notify_wan_ports[i] = wan_port((guint16)g_uri_get_port(u));
	}
	srv = srv_proc_new(self_path, b.devs.srv_ca, n, notify_wan_ports);
	for (guint i = 0; i < DIRECT_LISTENERS; i++)
		srv_wan_ports[i] = wan_port(srv->ports[i]);

	e2e_set_node_bool(e->d, "./GwMO/Config/Servers/srv1/InventoryAlert", FALSE);
	{
		g_autoptr(GVariant) r = gw_test_call(
		    e->d, "CreateGroup", g_variant_new("(ss)", GROUP, ""), "(o)", &error);
		if (r == NULL)
			bench_fail(error->message);
	}
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *id = g_strdup_printf("sim-%05u", i + 1);
		GwBenchDev *dev = gw_bench_devs_add(&b.devs, id);
		/* on the LAN for gwmod; the direct server, across the WAN, has its own (srv_main())
		 */
		dev->notify_url = g_strdup_printf("%sn/%s", uris[i % NOTIFY_PORTS], id);
		dev->srv_url = g_strdup_printf(
		    "https://127.0.0.1:%u/srv/%s", srv_wan_ports[i % DIRECT_LISTENERS], id);
		gw_bench_dev_provision(dev, b.d, (const gchar *const[]){GROUP, NULL});
	}
	/* unmeasured: registration with gwmod, the direct server's nonces (WAN delay off) */
	g_atomic_int_set(&wan.delay_on, 0);
	register_all(&b);
	if (g_strcmp0(g_getenv("GW_BENCH_WARMUP"), "0") != 0) {
		Figures warm = run_direct(&b, srv, MIN(n, WARMUP_DEVICES), MAX_IN_FLIGHT);
		g_printerr("bench-wan: N=%u: unmeasured direct round without WAN delay: %.2f s\n",
		           n,
		           warm.wall);
	}
	g_atomic_int_set(&wan.delay_on, 1);
	b.devs.device_ms = device_ms;
	g_printerr("bench-wan: N=%u: set up in %.1f s\n",
	           n,
	           (gdouble)(g_get_monotonic_time() - t_setup) / G_USEC_PER_SEC);

	/* direct, sequential (a prefix past seq_max, extrapolated) */
	if (n > seq_max) {
		guint k = MIN(prefix, n);
		gdouble scale = (gdouble)n / k;
		row.seq = run_direct(&b, srv, k, 1);
		row.seq.extrapolated = TRUE;
		row.seq.wall *= scale;
		row.seq.cpu *= scale;
		for (guint i = 0; i < 2; i++)
			row.seq.wan.bytes[i] = (guint64)(row.seq.wan.bytes[i] * scale);
		row.seq.wan.conns = (guint64)(row.seq.wan.conns * scale);
		row.seq.wan.tls = (guint64)(row.seq.wan.tls * scale);
		row.seq.wan.rtts = (guint64)(row.seq.wan.rtts * scale);
	} else {
		row.seq = run_direct(&b, srv, n, 1);
	}
	g_printerr("bench-wan: N=%u: direct sequential %.2f s%s\n",
	           n,
	           row.seq.wall,
	           row.seq.extrapolated ? " (extrapolated)" : "");
	row.fair = run_direct(&b, srv, n, MAX_IN_FLIGHT);
	g_printerr("bench-wan: N=%u: direct fair (%u in flight) %.2f s\n",
	           n,
	           MAX_IN_FLIGHT,
	           row.fair.wall);
	row.fan = run_fanout(&b, e, n, notify_wan, gw_cert);
	g_printerr("bench-wan: N=%u: fan-out %.2f s\n", n, row.fan.wall);
	g_array_append_val(rows, row);
	print_row(&row); /* now too, in case a later round fails */
	fflush(stdout);

	if (!e->d->quiet) {
		g_autofree gchar *log = gw_test_daemon_read_log(e->d);
		g_autofree gchar *slog_path = g_build_filename(e->dir, "server.log", NULL);
		g_autofree gchar *slog = NULL;
		g_file_get_contents(slog_path, &slog, NULL, NULL);
		g_printerr("%s\n%s", log != NULL ? log : "", slog != NULL ? slog : "");
	}
	srv_proc_free(srv);
	gw_bench_devs_clear(&b.devs);
	gw_test_daemon_stop(e->d);
	env_free(e);
}

/* ==== the table ==== */

static const gchar *
verdict(gdouble ratio, gdouble target)
{
	return ratio >= target ? "met" : "NOT met";
}

static void
print_path(const gchar *name, guint n, const Figures *f)
{
	g_print("  %-22s %9.2f s %s| WAN %9.0f kB (%.0f up, %.0f down) | round trips "
	        "%7" G_GUINT64_FORMAT " | TLS handshakes %6" G_GUINT64_FORMAT
	        " (connections %6" G_GUINT64_FORMAT
	        ") | DM Server CPU %7.3f s, %.3f ms per device\n",
	        name,
	        f->wall,
	        f->extrapolated ? "(extrapolated) " : "",
	        (f->wan.bytes[0] + f->wan.bytes[1]) / 1000.0,
	        f->wan.bytes[0] / 1000.0,
	        f->wan.bytes[1] / 1000.0,
	        f->wan.rtts,
	        f->wan.tls,
	        f->wan.conns,
	        f->cpu,
	        f->cpu * 1000 / n);
}

static gdouble
div0(gdouble a, gdouble b)
{
	return b > 0 ? a / b : a > 0 ? G_MAXDOUBLE : 1;
}

static void
print_row(const Row *r)
{
	{
		gdouble bytes_fan = (gdouble)(r->fan.wan.bytes[0] + r->fan.wan.bytes[1]);
		gdouble bytes_seq = (gdouble)(r->seq.wan.bytes[0] + r->seq.wan.bytes[1]);
		gdouble bytes_fair = (gdouble)(r->fair.wan.bytes[0] + r->fair.wan.bytes[1]);
		gdouble wall_seq = div0(r->seq.wall, r->fan.wall);
		gdouble wall_fair = div0(r->fair.wall, r->fan.wall);
		gdouble bytes = div0(MIN(bytes_seq, bytes_fair), bytes_fan);
		gdouble rtts =
		    div0((gdouble)MIN(r->seq.wan.rtts, r->fair.wan.rtts), (gdouble)r->fan.wan.rtts);
		gdouble tls =
		    div0((gdouble)MIN(r->seq.wan.tls, r->fair.wan.tls), (gdouble)r->fan.wan.tls);
		gdouble cpu = div0(MIN(r->seq.cpu, r->fair.cpu), r->fan.cpu);
		gdouble fair_bound =
		    ((r->n + MAX_IN_FLIGHT - 1) / MAX_IN_FLIGHT) * (r->seq.wall / r->n);

		g_print("N=%u\n", r->n);
		print_path("direct, sequential", r->n, &r->seq);
		print_path("direct, fair (32)", r->n, &r->fair);
		print_path("fan-out via gwmod", r->n, &r->fan);
		/* what a fair server could reach if only the WAN bounded it: MaxInFlight sessions
		 * at a time, each as long as one sequential device */
		g_print(
		    "  fair server bound by the WAN alone: ceil(N / %u) x %.3f s (one sequential "
		    "device) = %.2f s; fan-out %.1fx less than that; the measured fair run is "
		    "%.1fx "
		    "that bound (CPU: %.2f s DM Server)\n",
		    MAX_IN_FLIGHT,
		    r->seq.wall / r->n,
		    fair_bound,
		    div0(fair_bound, r->fan.wall),
		    div0(r->fair.wall, fair_bound),
		    r->fair.cpu);
		g_print(
		    "  ratios (direct / fan-out; targets at N = 1,000): wall vs sequential %.1fx "
		    "(>= 50: %s), vs fair %.1fx (>= 5: %s); WAN bytes %.1fx (>= 20: %s); round "
		    "trips %.1fx (>= 100: %s); TLS handshakes %.1fx (>= 100: %s); DM Server CPU "
		    "per device %.1fx (>= 10: %s)\n",
		    wall_seq,
		    verdict(wall_seq, 50),
		    wall_fair,
		    verdict(wall_fair, 5),
		    bytes,
		    verdict(bytes, 20),
		    rtts,
		    verdict(rtts, 100),
		    tls,
		    verdict(tls, 100),
		    cpu,
		    verdict(cpu, 10));
	}
}

static void
print_table(void)
{
	g_print("\n== WAN (B.7): the DM Server reads ./DevInfo/Mod of N devices across a 50 ms RTT "
	        "WAN; devices take %s ms per message; MaxInFlight %u ==\n",
	        g_getenv("GW_BENCH_DEVICE_MS") != NULL ? g_getenv("GW_BENCH_DEVICE_MS") : "2",
	        MAX_IN_FLIGHT);
	for (guint i = 0; i < rows->len; i++)
		print_row(&g_array_index(rows, Row, i));
	g_print("(WAN bytes: payload both ways; round trips: server-to-client data after "
	        "client-to-server data on a connection; TLS handshakes: ClientHello records; "
	        "DM Server CPU: each its whole process, the fan-out's start-up included; "
	        "ratios against the better of the two direct paths except wall time)\n");
}

int
main(int argc, char **argv)
{
	g_autofree gchar *self_path = NULL;

	if (argc > 1 && g_strcmp0(argv[1], "--direct-server") == 0)
		return srv_main(argc, argv);
	self_path = g_file_read_link("/proc/self/exe", NULL);
	if (self_path == NULL)
		bench_fail("/proc/self/exe");
	if (argc < 2)
		bench_fail("usage: bench-wan GWMO_TEST_SERVER [N…]");
	server_binary = argv[1];
	rows = g_array_new(FALSE, FALSE, sizeof(Row));
	wan_start();
	if (argc > 2) {
		for (gint i = 2; i < argc; i++)
			bench_round(self_path, (guint)g_ascii_strtoull(argv[i], NULL, 10));
	} else {
		bench_round(self_path, 100);
		bench_round(self_path, 1000);
		bench_round(self_path, 10000);
	}
	print_table();
	g_array_unref(rows);
	return 0;
}
