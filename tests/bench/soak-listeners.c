/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Soak of the real gwmod's listeners under mixed abuse (issue 11 §4), round after round, from
 * this process on 127.0.0.1 against the southbound listener (plain and TLS):
 *   slowloris (300 connections trickling header lines), silent TLS (200, no ClientHello),
 *   TLS junk (100), TLS 1.0/1.1 handshakes (20), oversize chunked bodies (6, until the 413),
 *   declared oversize bodies (20), kept-alive connections closed by their clients (200), idle
 *   kept-alive connections left to the idle deadline (300), and an EMFILE flood (1,100 idle
 *   connections against a limit of 1,024, then closed), and GET /bootstrap for 100 new
 *   DeviceIDs a round (8 lapsing accounts answered in all, the rest 503) plus malformed and
 *   POST requests to it.
 * After each round: one plain and one TLS request must be answered and gwmod must answer on
 * D-Bus; then, once gwmod's descriptors are back to their count before the first round, the
 * round's figures: gwmod's VmRSS and descriptors. They must stay flat.
 *
 * With GWMO_TEST_TR069_PLUGIN (the TR-069 adapter's module), gwmod loads it and each round also
 * abuses its path /cwmp of the same listener (a plugin path through the SDK's HTTP seam):
 *   SOAP junk without credentials (200), forged Digest answers (100), declared oversize bodies
 *   (20) and a slowloris body on /cwmp (100, half sent, then silent), each to be refused.
 *
 * usage: soak-listeners   (GWMO_TEST_GWMOD: the gwmod binary; GW_SOAK_ROUNDS, default 5)
 * A soak, not a test: exits 1 if a request is not answered, gwmod dies, or its descriptors do
 * not come back; prints the figures either way.
 */

#define G_LOG_DOMAIN "GwSoak"

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw-test-abuse.h"
#include "gw-test-daemon.h"

#define DEADLINE_S 3
#define GWMOD_NOFILE 1024
#define FLOOD 1100

static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) soak_fail(const gchar *format, ...)
{
	va_list ap;
	g_autofree gchar *msg = NULL;

	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_printerr("soak-listeners: FAILED: %s\n", msg);
	exit(EXIT_FAILURE);
}

typedef struct {
	GwTestDaemon *d;
	GPid pid;
	guint16 port;
	guint16 tls_port;
	guint baseline_fds;
	gboolean cwmp; /* the TR-069 plugin serves /cwmp */
} Soak;

static GPtrArray *
clients_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)gw_abuse_client_free);
}

static GwAbuseClient *
connect_or_fail(guint16 port, gboolean tls)
{
	g_autoptr(GError) error = NULL;
	GwAbuseClient *c = gw_abuse_client_connect(port, tls, &error);
	if (c == NULL)
		soak_fail("connect to %u: %s", port, error->message);
	return c;
}

static GwAbuseClient *
connect_raw_or_fail(guint16 port)
{
	g_autoptr(GError) error = NULL;
	GwAbuseClient *c = gw_abuse_client_connect_raw(port, &error);
	if (c == NULL)
		soak_fail("connect to %u: %s", port, error->message);
	return c;
}

typedef struct {
	GPtrArray *clients;
	gint64 next;
	const gchar *line; /* NULL: send nothing */
} AllClosed;

static gboolean
all_closed(gpointer user_data)
{
	AllClosed *a = user_data;
	gboolean send = a->line != NULL && g_get_monotonic_time() >= a->next;
	gboolean all = TRUE;

	for (guint i = 0; i < a->clients->len; i++) {
		GwAbuseClient *c = g_ptr_array_index(a->clients, i);
		if (gw_abuse_client_is_closed(c))
			continue;
		all = FALSE;
		if (send)
			gw_abuse_client_send_some(c, a->line, strlen(a->line));
	}
	if (send)
		a->next = g_get_monotonic_time() + 250000;
	return all;
}

/* waits until gwmod closed every one of @clients (sending @line to each every 250 ms) */
static void
wait_all_closed(GPtrArray *clients, const gchar *line, const gchar *what)
{
	AllClosed a = {clients, 0, line};
	if (!gw_abuse_wait(all_closed, &a, (DEADLINE_S + 10) * 1000))
		soak_fail("%s: gwmod did not close every connection", what);
}

static void
abuse_slowloris(Soak *s)
{
	g_autoptr(GPtrArray) clients = clients_new();
	for (guint i = 0; i < 300; i++) {
		GwAbuseClient *c = connect_or_fail(i % 3 == 0 ? s->tls_port : s->port, i % 3 == 0);
		gw_abuse_client_send_str(c, "POST /dm HTTP/1.1\r\n", 1000);
		g_ptr_array_add(clients, c);
	}
	wait_all_closed(clients, "X-Slow: 1\r\n", "slowloris");
}

static void
abuse_silent_tls(Soak *s)
{
	g_autoptr(GPtrArray) clients = clients_new();
	for (guint i = 0; i < 200; i++)
		g_ptr_array_add(clients, connect_raw_or_fail(s->tls_port));
	wait_all_closed(clients, NULL, "silent TLS");
}

static void
abuse_tls_junk(Soak *s)
{
	g_autoptr(GPtrArray) clients = clients_new();
	for (guint i = 0; i < 100; i++) {
		GwAbuseClient *c = connect_raw_or_fail(s->tls_port);
		g_ptr_array_add(clients, c);
	}
	for (guint i = 0; i < clients->len; i++)
		gw_abuse_client_send_str(
		    g_ptr_array_index(clients, i), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1000);
	wait_all_closed(clients, NULL, "TLS junk");
}

static void
abuse_tls_old(Soak *s)
{
	for (guint i = 0; i < 20; i++) {
		g_autoptr(GError) error = NULL;
		const gchar *priority =
		    i % 2 ? "NORMAL:-VERS-ALL:+VERS-TLS1.1" : "NORMAL:-VERS-ALL:+VERS-TLS1.0";
		if (gw_abuse_tls_handshake(s->tls_port, priority, NULL, &error))
			soak_fail("%s was served", priority);
	}
}

static void
abuse_chunked(Soak *s)
{
	g_autofree gchar *chunk = g_malloc(65536 + 16);
	gsize len = (gsize)g_snprintf(chunk, 16, "%x\r\n", 65536);

	memset(chunk + len, 'a', 65536);
	len += 65536;
	memcpy(chunk + len, "\r\n", 2);
	len += 2;
	for (guint i = 0; i < 6; i++) {
		g_autoptr(GwAbuseClient) c =
		    connect_or_fail(i % 3 == 0 ? s->tls_port : s->port, i % 3 == 0);
		g_autofree gchar *response = NULL;
		guint64 sent = 0;
		gsize offset = 0;

		gw_abuse_client_send_str(c,
		                         "POST /dm HTTP/1.1\r\nHost: x\r\n"
		                         "Content-Type: application/vnd.syncml.dm+xml\r\n"
		                         "Transfer-Encoding: chunked\r\n\r\n",
		                         1000);
		while (sent < 256u * 1024u * 1024u) {
			gssize n = gw_abuse_client_send_some(c, chunk + offset, len - offset);
			if (n < 0 || gw_abuse_client_poll(c))
				break;
			if (n == 0)
				g_main_context_iteration(NULL, FALSE);
			sent += (guint64)n;
			offset = (offset + (gsize)n) % len;
		}
		response = gw_abuse_client_read_response(c, 10000);
		if (gw_abuse_response_status(response) != 413)
			soak_fail("an oversize chunked body got no 413 (%" G_GUINT64_FORMAT
			          " bytes sent)",
			          sent);
	}
	for (guint i = 0; i < 20; i++) {
		g_autoptr(GwAbuseClient) c = connect_or_fail(s->port, FALSE);
		g_autofree gchar *response = NULL;
		gw_abuse_client_send_str(
		    c, "POST /dm HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n", 1000);
		response = gw_abuse_client_read_response(c, 10000);
		if (gw_abuse_response_status(response) != 413)
			soak_fail("a declared oversize body got no 413");
	}
}

static void
abuse_keepalive(Soak *s)
{
	g_autoptr(GPtrArray) idle = clients_new();

	/* closed by their clients */
	for (guint i = 0; i < 200; i++) {
		g_autoptr(GwAbuseClient) c = connect_or_fail(i % 2 ? s->tls_port : s->port, i % 2);
		if (gw_abuse_request(c, "GET", "/images/none", NULL, TRUE, 10000) == 0)
			soak_fail("a kept-alive request got no answer");
	}
	/* left idle until the idle deadline */
	for (guint i = 0; i < 300; i++) {
		GwAbuseClient *c = connect_or_fail(i % 2 ? s->tls_port : s->port, i % 2);
		if (gw_abuse_request(c, "GET", "/images/none", NULL, TRUE, 10000) == 0)
			soak_fail("a kept-alive request got no answer");
		g_ptr_array_add(idle, c);
	}
	wait_all_closed(idle, NULL, "idle kept-alive");
}

/* the TR-069 plugin's /cwmp: what an unauthenticated LAN host can send it; every request is
 * refused (401 without or with forged credentials, 413 oversize) and slow bodies are closed by
 * the listener's body deadline before the plugin sees them */
static void
abuse_cwmp(Soak *s)
{
	g_autoptr(GPtrArray) slow = clients_new();
	const gchar *junk =
	    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
	    "<soap:Body><cwmp:Inform xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\">"
	    "<DeviceId><OUI>000000</OUI></DeviceId></cwmp:Inform></soap:Body>"
	    "</soap:Envelope>";

	for (guint i = 0; i < 200; i++) {
		g_autoptr(GwAbuseClient) c = connect_or_fail(i % 2 ? s->tls_port : s->port, i % 2);
		guint status = gw_abuse_request(c, "POST", "/cwmp", junk, FALSE, 10000);
		if (status != 401)
			soak_fail("/cwmp: SOAP without credentials got %u, not 401", status);
	}
	for (guint i = 0; i < 100; i++) {
		g_autoptr(GwAbuseClient) c = connect_or_fail(s->port, FALSE);
		g_autofree gchar *request = g_strdup_printf(
		    "POST /cwmp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		    "Authorization: Digest username=\"cpe\", realm=\"gwmo\", "
		    "nonce=\"%u.%u.forged\", uri=\"/cwmp\", response=\"%032x\", qop=auth, "
		    "nc=00000001, cnonce=\"x\"\r\nContent-Length: %zu\r\n\r\n%s",
		    i,
		    g_random_int(),
		    i,
		    strlen(junk),
		    junk);
		g_autofree gchar *response = NULL;
		gw_abuse_client_send_str(c, request, 1000);
		response = gw_abuse_client_read_response(c, 10000);
		if (gw_abuse_response_status(response) != 401)
			soak_fail("/cwmp: a forged Digest answer got %u, not 401",
			          gw_abuse_response_status(response));
	}
	for (guint i = 0; i < 20; i++) {
		g_autoptr(GwAbuseClient) c = connect_or_fail(s->port, FALSE);
		g_autofree gchar *response = NULL;
		gw_abuse_client_send_str(
		    c,
		    "POST /cwmp HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n",
		    1000);
		response = gw_abuse_client_read_response(c, 10000);
		if (gw_abuse_response_status(response) != 413)
			soak_fail("/cwmp: a declared oversize body got no 413");
	}
	for (guint i = 0; i < 100; i++) {
		GwAbuseClient *c = connect_or_fail(s->port, FALSE);
		gw_abuse_client_send_str(
		    c,
		    "POST /cwmp HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n<soap:",
		    1000);
		g_ptr_array_add(slow, c);
	}
	wait_all_closed(slow, NULL, "slow /cwmp bodies");
}

/* the local bootstrap server, GET /bootstrap (issue 14): malformed and unknown methods are
 * refused, and an unauthenticated LAN host gets at most GW_SOAK_BOOTSTRAPS lapsing accounts
 * however many DeviceIDs it asks for (the rest 503), never more records, in every round */
#define GW_SOAK_BOOTSTRAPS 8
static void
abuse_bootstrap(Soak *s, guint round)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint answered = 0;

	for (guint i = 0; i < 100; i++) {
		g_autoptr(GwAbuseClient) c = connect_or_fail(i % 2 ? s->tls_port : s->port, i % 2);
		g_autofree gchar *path = g_strdup_printf("/bootstrap?dev=soak-%u-%u", round, i);
		guint status = gw_abuse_request(c, "GET", path, NULL, FALSE, 10000);
		if (status == 200)
			answered++;
		else if (status != 503)
			soak_fail("GET %s got %u, not 200 or 503", path, status);
	}
	if (round == 1 && answered != GW_SOAK_BOOTSTRAPS)
		soak_fail("one client got %u bootstraps, not %u", answered, GW_SOAK_BOOTSTRAPS);
	if (round > 1 && answered != 0)
		soak_fail("round %u: %u more bootstraps for a client that has its %u",
		          round,
		          answered,
		          GW_SOAK_BOOTSTRAPS);
	for (guint i = 0; i < 50; i++) {
		g_autoptr(GwAbuseClient) c = connect_or_fail(s->port, FALSE);
		const gchar *bad[] = {"/bootstrap", "/bootstrap?dev=", "/bootstrap?dev=a%00b"};
		guint status = gw_abuse_request(c, "GET", bad[i % 3], NULL, FALSE, 10000);
		if (status != 400)
			soak_fail("GET %s got %u, not 400", bad[i % 3], status);
	}
	for (guint i = 0; i < 50; i++) {
		g_autoptr(GwAbuseClient) c = connect_or_fail(s->port, FALSE);
		guint status = gw_abuse_request(c, "POST", "/bootstrap?dev=x", "x", FALSE, 10000);
		if (status != 405)
			soak_fail("POST /bootstrap got %u, not 405", status);
	}
	reply = gw_test_call(
	    s->d, "ListChildren", g_variant_new("(s)", "./GwMO/Inventory/Devices"), "(as)", &error);
	if (reply == NULL)
		soak_fail("gwmod does not list its inventory: %s", error->message);
	{
		g_autoptr(GVariant) children = g_variant_get_child_value(reply, 0);
		if (g_variant_n_children(children) != GW_SOAK_BOOTSTRAPS)
			soak_fail("round %u: %zu inventory records, not %u",
			          round,
			          g_variant_n_children(children),
			          GW_SOAK_BOOTSTRAPS);
	}
}

static void
abuse_emfile(Soak *s)
{
	g_autoptr(GPtrArray) flood = clients_new();
	for (guint i = 0; i < FLOOD; i++)
		g_ptr_array_add(flood, connect_raw_or_fail(s->port));
	/* let gwmod accept what it can */
	gw_abuse_run(1000);
}

static void
check_served(Soak *s)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GwAbuseClient) plain = connect_or_fail(s->port, FALSE);
	g_autoptr(GwAbuseClient) tls = connect_or_fail(s->tls_port, TRUE);

	if (gw_abuse_request(plain, "GET", "/nothing", NULL, FALSE, 10000) != 404 ||
	    gw_abuse_request(tls, "GET", "/nothing", NULL, FALSE, 10000) != 404)
		soak_fail("a request after the abuse got no answer");
	reply =
	    gw_test_call(s->d, "GetNode", g_variant_new("(s)", "./DevInfo/DevId"), NULL, &error);
	if (reply == NULL)
		soak_fail("gwmod does not answer on D-Bus: %s", error->message);
}

static gboolean
fds_back(gpointer user_data)
{
	Soak *s = user_data;
	return gw_abuse_count_fds(s->pid, FALSE) <= s->baseline_fds;
}

/* with GW_SOAK_VERBOSE: gwmod's figures after each kind of abuse */
static void
step(Soak *s, guint round, const gchar *what)
{
	if (g_getenv("GW_SOAK_VERBOSE") == NULL)
		return;
	g_print("round %2u, after %-16s gwmod VmRSS %6" G_GUINT64_FORMAT " KiB, %4u descriptors\n",
	        round,
	        what,
	        gw_abuse_rss_kib(s->pid),
	        gw_abuse_count_fds(s->pid, FALSE));
}

int
main(int argc, char **argv)
{
	const gchar *env = g_getenv("GW_SOAK_ROUNDS");
	guint rounds = env != NULL ? (guint)g_ascii_strtoull(env, NULL, 10) : 5;
	g_autofree gchar *conf = NULL;
	g_autofree gchar *gwmod = NULL;
	guint64 first_rss = 0;
	guint64 last_rss = 0;
	Soak s = {0};

	if (g_getenv("GWMO_TEST_GWMOD") == NULL) {
		g_autofree gchar *dir = g_path_get_dirname(argv[0]);
		gwmod = g_build_filename(dir, "..", "..", "core", "gwmod", NULL);
		g_setenv("GWMO_TEST_GWMOD", gwmod, TRUE);
	}
	gw_abuse_raise_fd_limit();
	s.port = gw_test_free_port();
	s.tls_port = gw_test_free_port();
	conf = g_strdup_printf("[northbound]\nlisten=\n"
	                       "[southbound]\nlisten=http://127.0.0.1:%u,https://127.0.0.1:%u\n"
	                       "auto-bootstrap=true\n"
	                       "[http]\nheader-timeout=%u\nbody-timeout=%u\nidle-timeout=%u\n"
	                       "handshake-timeout=%u\nmax-connections=100000\n"
	                       "max-connections-per-peer=100000\n",
	                       s.port,
	                       s.tls_port,
	                       DEADLINE_S,
	                       DEADLINE_S,
	                       DEADLINE_S,
	                       DEADLINE_S);
	if (g_getenv("GWMO_TEST_TR069_PLUGIN") != NULL) {
		g_autofree gchar *with =
		    g_strconcat(conf, "[tr069]\nusername=cpe\npassword=soak-secret-1\n", NULL);
		g_free(conf);
		conf = g_steal_pointer(&with);
		s.cwmp = TRUE;
	}
	s.d = gw_test_daemon_new_with_config(conf);
	s.d->quiet = TRUE;
	s.d->nofile_soft = GWMOD_NOFILE;
	s.d->nofile_hard = GWMOD_NOFILE;
	if (s.cwmp) {
		g_autofree gchar *plugins = g_build_filename(s.d->tmpdir, "plugins", NULL);
		g_autofree gchar *link = g_build_filename(plugins, "libgw_plugin_tr069.so", NULL);
		const gchar *args[] = {"--plugin-dir", plugins, NULL};
		if (g_mkdir_with_parents(plugins, 0700) != 0 ||
		    symlink(g_getenv("GWMO_TEST_TR069_PLUGIN"), link) != 0)
			soak_fail("cannot make the plugin directory %s", plugins);
		gw_test_daemon_start(s.d, args);
	} else {
		gw_test_daemon_start(s.d, NULL);
	}
	s.pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(s.d->daemon), NULL, 10);
	{
		/* the local bootstrap server answers (not trusted, lapsing) */
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r =
		    gw_test_call(s.d,
		                 "SetNode",
		                 g_variant_new("(ssv)",
		                               "./GwMO/Config/Bootstrap/EDBootstrap",
		                               "bool",
		                               g_variant_new_boolean(TRUE)),
		                 "()",
		                 &error);
		if (r == NULL)
			soak_fail("cannot turn EDBootstrap on: %s", error->message);
	}
	check_served(&s);
	s.baseline_fds = gw_abuse_count_fds(s.pid, FALSE);

	g_print("gwmod listener soak: %u rounds against http://127.0.0.1:%u and "
	        "https://127.0.0.1:%u\n(deadlines %u s, gwmod RLIMIT_NOFILE %u)\n",
	        rounds,
	        s.port,
	        s.tls_port,
	        DEADLINE_S,
	        GWMOD_NOFILE);
	g_print("start:    gwmod VmRSS %6" G_GUINT64_FORMAT " KiB, %4u descriptors (%u sockets)\n",
	        gw_abuse_rss_kib(s.pid),
	        s.baseline_fds,
	        gw_abuse_count_fds(s.pid, TRUE));
	for (guint r = 1; r <= rounds; r++) {
		gint64 start = g_get_monotonic_time();
		guint peak;
		guint64 rss;

		abuse_slowloris(&s);
		step(&s, r, "slowloris");
		abuse_silent_tls(&s);
		step(&s, r, "silent TLS");
		abuse_tls_junk(&s);
		step(&s, r, "TLS junk");
		abuse_tls_old(&s);
		step(&s, r, "TLS 1.0/1.1");
		abuse_chunked(&s);
		step(&s, r, "oversize bodies");
		abuse_keepalive(&s);
		step(&s, r, "keep-alive");
		if (s.cwmp) {
			abuse_cwmp(&s);
			step(&s, r, "/cwmp");
		}
		abuse_bootstrap(&s, r);
		step(&s, r, "/bootstrap");
		abuse_emfile(&s);
		peak = gw_abuse_count_fds(s.pid, FALSE);
		/* the flood went away when abuse_emfile() returned */
		if (!gw_abuse_wait(fds_back, &s, 30000))
			soak_fail("round %u: gwmod still has %u descriptors (%u before)",
			          r,
			          gw_abuse_count_fds(s.pid, FALSE),
			          s.baseline_fds);
		check_served(&s);
		if (!gw_abuse_wait(fds_back, &s, 30000))
			soak_fail("round %u: descriptors did not come back", r);
		rss = gw_abuse_rss_kib(s.pid);
		if (r == 1)
			first_rss = rss;
		last_rss = rss;
		g_print("round %2u: gwmod VmRSS %6" G_GUINT64_FORMAT " KiB, %4u descriptors (%u "
		        "sockets) after the round, %4u at the EMFILE flood; %.1f s\n",
		        r,
		        rss,
		        gw_abuse_count_fds(s.pid, FALSE),
		        gw_abuse_count_fds(s.pid, TRUE),
		        peak,
		        (gdouble)(g_get_monotonic_time() - start) / 1e6);
	}
	g_print("VmRSS round 1 -> %u: %+" G_GINT64_FORMAT " KiB\n",
	        rounds,
	        (gint64)last_rss - (gint64)first_rss);
	{
		g_autofree gchar *log = gw_test_daemon_read_log(s.d);
		g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
		guint n = g_strv_length(lines);
		g_print("gwmod logged %u lines; the last ones:\n", n);
		for (guint i = n > 12 ? n - 12 : 0; i < n; i++)
			if (lines[i][0] != '\0')
				g_print("  %s\n", lines[i]);
	}
	gw_test_daemon_stop(s.d);
	gw_test_daemon_free(s.d);
	return EXIT_SUCCESS;
}
