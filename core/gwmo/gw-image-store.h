/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-config.h"
#include "gw-dm-tree.h"
#include "gw-http-server.h"
#include "gw-inventory.h"
#include "gw-northbound.h"

G_BEGIN_DECLS

/*
 * The image store (./GwMO/Images, spec/GWMO.md §1, §2, §4; GwMO-DCIS-001/002/003, B.8).
 *
 * Entries ./GwMO/Images/<x> hold Name, Version, Kind, ExternalURI, Hash ("sha256:<hex>"),
 * Size, LocalURI, State (NotDownloaded | Downloading | Available | Failed), Progress (0..100),
 * Operations/Download and Operations/Remove (Exec) and Targets/<x> (DeviceIDs or GroupIDs;
 * empty = every device of the inventory). A DM Server makes one with Add (the entry gets that
 * server's ACL, "Add=srv&Delete=srv&Exec=srv&Get=srv&Replace=srv"; the gateway fills in the
 * nodes it owns); the local owner makes one with gw_image_store_add() ("Get=*").
 *
 * Download (Exec, answered 202 at once; refused with 403 when the owning server's
 * ./GwMO/Config/Servers/<x>/ImageStore is false): a resumable GET of ExternalURI
 * (gw-http-download.h: Range after an interrupted transfer, retries with backoff, the
 * [northbound] ca-file trust) into <dir>/<sha256>.partial, renamed to <dir>/<sha256> once its
 * SHA-256 matches Hash. The store is content-addressed: one file and one download per hash,
 * however many entries refer to it (DCIS-002). A mismatch sets State Failed and deletes the
 * partial file. When the download ends an ImageDownloadComplete Generic Alert (<GwMOImage>)
 * is queued to the owning server. A partial download is resumed after a restart.
 *
 * [images] quota (bytes, 0 = unlimited): when the files exceed it after a download, files no
 * entry refers to are evicted oldest first; if that is not enough the new image fails.
 * Remove (Exec, D-Bus, or a DM Delete of the entry) deletes the entry; its file is evicted
 * when no other entry refers to it.
 *
 * Serving (gw_image_store_attach): GET and HEAD /images/<sha256> on the southbound listener
 * with single Range (206; several ranges get the whole body), ETag "<sha256>" (If-None-Match →
 * 304), mapped from disk. LocalURI is the https listener's address when there is one. A device
 * proves who it is in one of two ways (DM-SECONF-001, spec/GWMO.md §9):
 *  - the signed URL it was handed (gw_image_store_sign_url(), put into what a device receives by
 *    gw_image_store_localize()): /images/<sha256>?dev=<DeviceID>&exp=<unix time>&sig=<hex
 *    HMAC-SHA256 over "<sha256>|<DeviceID>|<exp>">, keyed with 32 random bytes only the
 *    gateway holds (<state_dir>/image-url.key, 0600), valid [images] url-lifetime seconds
 *    (default 86400): 403 when the signature does not verify (another device's URL, a changed
 *    hash or expiry), when it expired or names a device the inventory does not know;
 *  - HTTP Basic with its inventory credentials (ClientName:ClientSecret of
 *    ./GwMO/Inventory/Devices/<x>/Credentials), over TLS only: 401 without/with wrong
 *    credentials on https; over plain http any Authorization header, and a request with
 *    neither, get 403 (credentials never cross in clear, none are asked for).
 * Then 404 for a hash no Available entry has, 403 when no entry with that hash both lists the
 * device in Targets (directly or through a group) and belongs to a server whose ImageStore is
 * true (or to the local owner).
 *
 * Signals: "image-changed" (const gchar *entry_uri): State, Progress, Size or LocalURI changed.
 */

#define GW_TYPE_IMAGE_STORE (gw_image_store_get_type())
G_DECLARE_FINAL_TYPE(GwImageStore, gw_image_store, GW, IMAGE_STORE, GObject)

/* State values */
#define GW_IMAGE_STATE_NOT_DOWNLOADED "NotDownloaded"
#define GW_IMAGE_STATE_DOWNLOADING "Downloading"
#define GW_IMAGE_STATE_AVAILABLE "Available"
#define GW_IMAGE_STATE_FAILED "Failed"

typedef struct {
	const gchar *name;           /* required */
	const gchar *version;        /* nullable */
	const gchar *kind;           /* nullable: firmware | software | config */
	const gchar *external_uri;   /* required: http(s):// */
	const gchar *hash;           /* required: sha256:<64 hex> */
	const gchar *const *targets; /* nullable */
} GwImageSpec;

/* @state_dir: the images live in [images] dir, default <state_dir>/images */
GwImageStore *
gw_image_store_new(GwConfig *config,
                   GwDmTree *tree,
                   GwInventory *inventory,
                   const gchar *state_dir,
                   GError **error);
/* alerts go north through @northbound (nullable: none are sent) */
void
gw_image_store_set_northbound(GwImageStore *self, GwNorthbound *northbound);
/* Exec handlers, the tree watch, and resuming downloads left Downloading */
gboolean
gw_image_store_start(GwImageStore *self, GError **error);
/* GET/HEAD /images/ on @server; LocalURI = [images] base-url or the server's first URI */
void
gw_image_store_attach(GwImageStore *self, GwHttpServer *server);

/* the local owner's Add (D-Bus): returns the entry URI */
gchar *
gw_image_store_add(GwImageStore *self, const GwImageSpec *spec, GError **error);
/* Download as the local owner (or @server_id); FALSE when it cannot start */
gboolean
gw_image_store_download(GwImageStore *self, const gchar *entry_uri, GError **error);
gboolean
gw_image_store_remove(GwImageStore *self, const gchar *entry_uri, GError **error);
/* (element-type utf8) entry URIs */
GPtrArray *
gw_image_store_list(GwImageStore *self);
const gchar *
gw_image_store_get_dir(GwImageStore *self);
/* downloads (requests to upstream servers) started since start-up, for tests and stats */
guint
gw_image_store_get_download_count(GwImageStore *self);

/* the URL of image @sha for @device_id (signed, expiring); NULL before attach */
gchar *
gw_image_store_sign_url(GwImageStore *self, const gchar *sha, const gchar *device_id);
/* @text with every unsigned image URL of this gateway ("<base>/images/<sha256>") replaced by
 * the one signed for @device_id; NULL when there was none (use @text as it is) */
gchar *
gw_image_store_localize(GwImageStore *self, const gchar *text, const gchar *device_id);

/* "sha256:<hex>" → the 64 lower-case hex digits, or NULL */
gchar *
gw_image_store_parse_hash(const gchar *hash);

typedef enum {
	GW_IMAGE_RANGE_NONE,          /* no Range, or one we ignore (several ranges): whole body */
	GW_IMAGE_RANGE_OK,            /* one satisfiable range: 206 */
	GW_IMAGE_RANGE_UNSATISFIABLE, /* 416 */
} GwImageRange;

/* parses an HTTP Range header against a body of @size bytes (RFC 9110 §14.2) */
GwImageRange
gw_image_store_parse_range(const gchar *header, guint64 size, guint64 *start, guint64 *end);

G_END_DECLS
