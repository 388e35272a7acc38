/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwPluginLoader"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw-error.h"
#include "gw-plugin-guard.h"

#define GW_PLUGIN_GUARD_MAGIC "GWPGUARD"
#define GW_PLUGIN_GUARD_VERSION 1

/* the file: a header and GW_PLUGIN_GUARD_SLOTS slots, 64 bytes each, host byte order */
typedef struct {
	gchar magic[8];
	guint32 version;
	guint32 n_slots;
	guint8 reserved[48];
} GwPluginGuardHeader;

typedef struct {
	gchar name[GW_PLUGIN_GUARD_NAME_MAX + 1]; /* NUL-terminated; "" is a free slot */
	gint in_flight;                           /* calls into the plugin in flight */
	guint32 deaths;                           /* runs in a row that died with one */
	guint32 quarantined;
	guint32 reserved;
} GwPluginGuardSlot;

G_STATIC_ASSERT(sizeof(GwPluginGuardHeader) == 64);
G_STATIC_ASSERT(sizeof(GwPluginGuardSlot) == 64);

#define GW_PLUGIN_GUARD_SIZE \
	(sizeof(GwPluginGuardHeader) + GW_PLUGIN_GUARD_SLOTS * sizeof(GwPluginGuardSlot))

struct _GwPluginGuard {
	gchar *path;
	guint8 *map;
	GwPluginGuardSlot *slots;
};

static void
gw_plugin_guard_sync(GwPluginGuard *self)
{
	/* rare (a start that changed a verdict, a reset): the verdicts survive a power loss too */
	if (msync(self->map, GW_PLUGIN_GUARD_SIZE, MS_SYNC) != 0)
		g_warning("%s: cannot write: %s", self->path, g_strerror(errno));
}

static gboolean
gw_plugin_guard_is_valid(const guint8 *map)
{
	const GwPluginGuardHeader *header = (const GwPluginGuardHeader *)map;
	const GwPluginGuardSlot *slots = (const GwPluginGuardSlot *)(map + sizeof(*header));

	if (memcmp(header->magic, GW_PLUGIN_GUARD_MAGIC, sizeof(header->magic)) != 0 ||
	    header->version != GW_PLUGIN_GUARD_VERSION || header->n_slots != GW_PLUGIN_GUARD_SLOTS)
		return FALSE;
	for (guint i = 0; i < GW_PLUGIN_GUARD_SLOTS; i++) {
		if (memchr(slots[i].name, '\0', sizeof(slots[i].name)) == NULL)
			return FALSE;
	}
	return TRUE;
}

/* the last run's verdicts: one more death for every plugin that had a call in flight */
static void
gw_plugin_guard_judge(GwPluginGuard *self)
{
	gboolean changed = FALSE;

	for (guint i = 0; i < GW_PLUGIN_GUARD_SLOTS; i++) {
		GwPluginGuardSlot *slot = &self->slots[i];
		if (slot->name[0] == '\0')
			continue;
		if (slot->in_flight > 0) {
			slot->deaths++;
			g_warning("gwmod stopped while a call into plugin %s was in flight (%u "
			          "time%s in a row)",
			          slot->name,
			          slot->deaths,
			          slot->deaths == 1 ? "" : "s");
			if (slot->deaths >= GW_PLUGIN_GUARD_DEATHS && !slot->quarantined) {
				slot->quarantined = 1;
				g_warning("plugin %s is quarantined: it is not loaded until "
				          "'gwmoctl plugins reset %s'",
				          slot->name,
				          slot->name);
			}
			changed = TRUE;
		} else if (slot->deaths > 0 && !slot->quarantined) {
			slot->deaths = 0;
			changed = TRUE;
		}
		slot->in_flight = 0;
		/* a slot without a verdict tells nothing: free for this run's plugins */
		if (slot->deaths == 0 && !slot->quarantined)
			memset(slot, 0, sizeof(*slot));
	}
	if (changed)
		gw_plugin_guard_sync(self);
}

GwPluginGuard *
gw_plugin_guard_open(const gchar *path, GError **error)
{
	g_autoptr(GwPluginGuard) self = g_new0(GwPluginGuard, 1);
	struct stat st;
	gboolean fresh = FALSE;
	void *map;
	int fd;

	g_return_val_if_fail(path != NULL, NULL);
	self->path = g_strdup(path);
	fd = g_open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		gint saved = errno;
		g_set_error(error,
		            GW_ERROR,
		            GW_ERROR_FAILED,
		            "cannot open %s: %s",
		            path,
		            g_strerror(saved));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, GW_ERROR, GW_ERROR_FAILED, "%s is not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((gsize)st.st_size != GW_PLUGIN_GUARD_SIZE) {
		if (st.st_size != 0)
			g_warning("%s has %" G_GINT64_FORMAT " bytes, not %" G_GSIZE_FORMAT
			          ": starting afresh",
			          path,
			          (gint64)st.st_size,
			          (gsize)GW_PLUGIN_GUARD_SIZE);
		if (ftruncate(fd, 0) != 0 || ftruncate(fd, GW_PLUGIN_GUARD_SIZE) != 0) {
			gint saved = errno;
			g_set_error(error,
			            GW_ERROR,
			            GW_ERROR_FAILED,
			            "cannot size %s: %s",
			            path,
			            g_strerror(saved));
			close(fd);
			return NULL;
		}
		fresh = TRUE;
	}
	map = mmap(NULL, GW_PLUGIN_GUARD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		gint saved = errno;
		g_set_error(
		    error, GW_ERROR, GW_ERROR_FAILED, "cannot map %s: %s", path, g_strerror(saved));
		return NULL;
	}
	self->map = map;
	self->slots = (GwPluginGuardSlot *)(self->map + sizeof(GwPluginGuardHeader));
	if (!fresh && !gw_plugin_guard_is_valid(self->map)) {
		g_warning("%s is malformed: starting afresh", path);
		fresh = TRUE;
	}
	if (fresh) {
		GwPluginGuardHeader *header = (GwPluginGuardHeader *)self->map;
		memset(self->map, 0, GW_PLUGIN_GUARD_SIZE);
		memcpy(header->magic, GW_PLUGIN_GUARD_MAGIC, sizeof(header->magic));
		header->version = GW_PLUGIN_GUARD_VERSION;
		header->n_slots = GW_PLUGIN_GUARD_SLOTS;
		gw_plugin_guard_sync(self);
	}
	gw_plugin_guard_judge(self);
	return g_steal_pointer(&self);
}

void
gw_plugin_guard_free(GwPluginGuard *self)
{
	if (self == NULL)
		return;
	if (self->map != NULL)
		munmap(self->map, GW_PLUGIN_GUARD_SIZE);
	g_free(self->path);
	g_free(self);
}

const gchar *
gw_plugin_guard_get_path(GwPluginGuard *self)
{
	return self->path;
}

static GwPluginGuardSlot *
gw_plugin_guard_find(GwPluginGuard *self, const gchar *name)
{
	for (guint i = 0; i < GW_PLUGIN_GUARD_SLOTS; i++) {
		if (self->slots[i].name[0] != '\0' && g_strcmp0(self->slots[i].name, name) == 0)
			return &self->slots[i];
	}
	return NULL;
}

guint
gw_plugin_guard_get_deaths(GwPluginGuard *self, const gchar *name)
{
	GwPluginGuardSlot *slot = gw_plugin_guard_find(self, name);
	return slot != NULL ? slot->deaths : 0;
}

gboolean
gw_plugin_guard_is_quarantined(GwPluginGuard *self, const gchar *name)
{
	GwPluginGuardSlot *slot = gw_plugin_guard_find(self, name);
	return slot != NULL && slot->quarantined != 0;
}

gint *
gw_plugin_guard_get_counter(GwPluginGuard *self, const gchar *name)
{
	GwPluginGuardSlot *slot = gw_plugin_guard_find(self, name);

	if (slot != NULL)
		return &slot->in_flight;
	if (strlen(name) > GW_PLUGIN_GUARD_NAME_MAX)
		return NULL;
	for (guint i = 0; i < GW_PLUGIN_GUARD_SLOTS; i++) {
		if (self->slots[i].name[0] == '\0') {
			memset(&self->slots[i], 0, sizeof(self->slots[i]));
			g_strlcpy(self->slots[i].name, name, sizeof(self->slots[i].name));
			return &self->slots[i].in_flight;
		}
	}
	/* only slots with a verdict outlive a start: this many quarantined plugins */
	g_warning("%s is full (%u plugins): plugin %s runs without a crash guard",
	          self->path,
	          GW_PLUGIN_GUARD_SLOTS,
	          name);
	return NULL;
}

void
gw_plugin_guard_reset(GwPluginGuard *self, const gchar *name)
{
	GwPluginGuardSlot *slot = gw_plugin_guard_find(self, name);

	if (slot == NULL)
		return;
	slot->deaths = 0;
	slot->quarantined = 0;
	gw_plugin_guard_sync(self);
}

void
gw_plugin_guard_mark_clean(GwPluginGuard *self)
{
	for (guint i = 0; i < GW_PLUGIN_GUARD_SLOTS; i++)
		self->slots[i].in_flight = 0;
}
