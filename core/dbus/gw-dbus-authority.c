/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "GwDbus"

#include "config.h"

#include <grp.h>
#include <polkit/polkit.h>
#include <pwd.h>
#include <unistd.h>

#include "gw-dbus-authority.h"
#include "gw-dbus-exporter.h"
#include "gw-error.h"

/* a refusal is logged, at most this many lines per window; the rest are counted */
#define GW_DBUS_AUTHORITY_LOG_BURST 10
#define GW_DBUS_AUTHORITY_LOG_WINDOW_US (10 * G_USEC_PER_SEC)

/* the invocation's data that says "polkit allowed this action": set only here */
#define GW_DBUS_AUTHORITY_ALLOWED_KEY "gw-dbus-authority-allowed"

struct _GwDbusAuthority {
	GObject parent_instance;
	GDBusConnection *connection;
	gboolean use_polkit;
	PolkitAuthority *polkit; /* NULL until the first check on the system bus */
	GCancellable *cancellable;
	gboolean fallback_warned;
	GHashTable *caller_uids; /* unique bus name → uid (GUINT_TO_POINTER(uid + 1)) */
	gint64 log_window_start;
	guint log_count;
};

G_DEFINE_FINAL_TYPE(GwDbusAuthority, gw_dbus_authority, G_TYPE_OBJECT)

/* ---- refusal ---- */

static void
gw_dbus_authority_log_refusal(GwDbusAuthority *self,
                              GDBusMethodInvocation *invocation,
                              const gchar *action_id,
                              const gchar *why)
{
	gint64 now = g_get_monotonic_time();

	if (now - self->log_window_start > GW_DBUS_AUTHORITY_LOG_WINDOW_US) {
		if (self->log_count > GW_DBUS_AUTHORITY_LOG_BURST)
			g_message("%u more D-Bus calls refused (not logged)",
			          self->log_count - GW_DBUS_AUTHORITY_LOG_BURST);
		self->log_window_start = now;
		self->log_count = 0;
	}
	if (++self->log_count > GW_DBUS_AUTHORITY_LOG_BURST)
		return;
	g_message("refused %s.%s of %s: %s (%s)",
	          g_dbus_method_invocation_get_interface_name(invocation),
	          g_dbus_method_invocation_get_method_name(invocation),
	          g_dbus_method_invocation_get_sender(invocation),
	          action_id,
	          why);
}

/* answers @invocation (and so consumes the reference the caller holds) */
static void
gw_dbus_authority_refuse(GwDbusAuthority *self,
                         GDBusMethodInvocation *invocation,
                         const gchar *action_id,
                         const gchar *why)
{
	gw_dbus_authority_log_refusal(self, invocation, action_id, why);
	g_dbus_method_invocation_return_error(invocation,
	                                      GW_ERROR,
	                                      GW_ERROR_PERMISSION_DENIED,
	                                      "%s needs the action %s (%s)",
	                                      g_dbus_method_invocation_get_method_name(invocation),
	                                      action_id,
	                                      why);
}

/* ---- the rule without polkit: root, the daemon's user, the gwmo group ---- */

static gboolean
gw_dbus_authority_uid_in_group(uid_t uid, const gchar *group_name)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrnam(group_name);
	gid_t groups[256];
	int ngroups = G_N_ELEMENTS(groups);

	if (pw == NULL || gr == NULL)
		return FALSE;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0)
		return FALSE;
	for (int i = 0; i < ngroups; i++) {
		if (groups[i] == gr->gr_gid)
			return TRUE;
	}
	return FALSE;
}

static gboolean
gw_dbus_authority_uid_allowed(guint32 uid)
{
	return uid == 0 || uid == getuid() || gw_dbus_authority_uid_in_group(uid, "gwmo");
}

/* TRUE: allowed; FALSE: refused, @invocation answered */
static gboolean
gw_dbus_authority_check_uid(GwDbusAuthority *self,
                            GDBusMethodInvocation *invocation,
                            const gchar *action_id)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	gpointer cached = NULL;
	guint32 uid = 0;

	/* a unique bus name is never given to another connection, so its uid never changes:
	 * ask the bus once per caller, not once per call (the synchronous round trip cost
	 * ~0.1 ms of every StartSession/SetNode) */
	if (sender != NULL)
		cached = g_hash_table_lookup(self->caller_uids, sender);
	if (cached != NULL) {
		if (gw_dbus_authority_uid_allowed(GPOINTER_TO_UINT(cached) - 1))
			return TRUE;
		gw_dbus_authority_refuse(self, invocation, action_id, "root or the gwmo group");
		return FALSE;
	}
	reply = g_dbus_connection_call_sync(self->connection,
	                                    "org.freedesktop.DBus",
	                                    "/org/freedesktop/DBus",
	                                    "org.freedesktop.DBus",
	                                    "GetConnectionUnixUser",
	                                    g_variant_new("(s)", sender != NULL ? sender : ""),
	                                    G_VARIANT_TYPE("(u)"),
	                                    G_DBUS_CALL_FLAGS_NONE,
	                                    5000,
	                                    NULL,
	                                    &error);
	if (reply == NULL) {
		g_warning("cannot identify caller %s: %s", sender, error->message);
		gw_dbus_authority_refuse(self, invocation, action_id, "caller unknown");
		return FALSE;
	}
	g_variant_get(reply, "(u)", &uid);
	if (sender != NULL && uid < G_MAXUINT32) {
		/* bounded: callers come and go */
		if (g_hash_table_size(self->caller_uids) >= 256)
			g_hash_table_remove_all(self->caller_uids);
		g_hash_table_insert(self->caller_uids, g_strdup(sender), GUINT_TO_POINTER(uid + 1));
	}
	if (gw_dbus_authority_uid_allowed(uid))
		return TRUE;
	gw_dbus_authority_refuse(self, invocation, action_id, "root or the gwmo group");
	return FALSE;
}

/* ---- polkit ---- */

typedef struct {
	GwDbusAuthority *self;
	GDBusMethodInvocation *invocation; /* the reference the method call came with */
	/* where the call goes once allowed: a skeleton, or the exporter of objects served on
	 * demand (gw_dbus_exporter_get_method_vtable()) */
	GObject *target;
	gchar *action_id;
} GwDbusAuthorityCheck;

static void
gw_dbus_authority_check_free(GwDbusAuthorityCheck *check)
{
	g_clear_object(&check->self);
	g_clear_object(&check->target);
	g_free(check->action_id);
	g_free(check);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GwDbusAuthorityCheck, gw_dbus_authority_check_free)

/* the method call again, to the skeleton it was for: its handler runs from its start and
 * finds the invocation allowed */
static void
gw_dbus_authority_dispatch(GwDbusAuthorityCheck *check)
{
	GDBusMethodInvocation *invocation = g_steal_pointer(&check->invocation);
	const GDBusInterfaceVTable *vtable;

	/* an exporter's method call finds out itself whether the object is still there */
	if (GW_IS_DBUS_EXPORTER(check->target))
		vtable = gw_dbus_exporter_get_method_vtable();
	else if (!g_dbus_interface_skeleton_has_connection(
	             G_DBUS_INTERFACE_SKELETON(check->target),
	             g_dbus_method_invocation_get_connection(invocation))) {
		g_dbus_method_invocation_return_error(
		    invocation,
		    GW_ERROR,
		    GW_ERROR_NOT_FOUND,
		    "%s went away",
		    g_dbus_method_invocation_get_object_path(invocation));
		return;
	} else
		vtable =
		    g_dbus_interface_skeleton_get_vtable(G_DBUS_INTERFACE_SKELETON(check->target));
	g_object_set_data_full(G_OBJECT(invocation),
	                       GW_DBUS_AUTHORITY_ALLOWED_KEY,
	                       g_strdup(check->action_id),
	                       g_free);
	vtable->method_call(g_dbus_method_invocation_get_connection(invocation),
	                    g_dbus_method_invocation_get_sender(invocation),
	                    g_dbus_method_invocation_get_object_path(invocation),
	                    g_dbus_method_invocation_get_interface_name(invocation),
	                    g_dbus_method_invocation_get_method_name(invocation),
	                    g_dbus_method_invocation_get_parameters(invocation),
	                    invocation,
	                    check->target);
}

/* polkitd is not on the bus and cannot be started: the rule without polkit, said once */
static gboolean
gw_dbus_authority_polkit_absent(const GError *error)
{
	return g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_INVALID) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED);
}

static void
gw_dbus_authority_fallback(GwDbusAuthorityCheck *check, const GError *error)
{
	GwDbusAuthority *self = check->self;

	if (!self->fallback_warned) {
		g_warning("polkit is not available (%s): changes are for root, the daemon's user "
		          "and the gwmo group",
		          error->message);
		self->fallback_warned = TRUE;
	}
	if (gw_dbus_authority_check_uid(self, check->invocation, check->action_id))
		gw_dbus_authority_dispatch(check);
	else
		check->invocation = NULL; /* answered */
}

static void
gw_dbus_authority_checked_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GwDbusAuthorityCheck) check = user_data;
	g_autoptr(PolkitAuthorizationResult) result = NULL;
	g_autoptr(GError) error = NULL;

	result = polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &error);
	if (result == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_dbus_method_invocation_return_error(g_steal_pointer(&check->invocation),
			                                      GW_ERROR,
			                                      GW_ERROR_FAILED,
			                                      "the daemon is stopping");
			return;
		}
		if (gw_dbus_authority_polkit_absent(error)) {
			gw_dbus_authority_fallback(check, error);
			return;
		}
		/* fail closed; logged through the refusal's rate limit (a caller that hangs
		 * up before polkitd looked at it gets here too, as often as it likes) */
		{
			g_autofree gchar *why =
			    g_strdup_printf("polkit failed: %s", error->message);
			gw_dbus_authority_refuse(check->self,
			                         g_steal_pointer(&check->invocation),
			                         check->action_id,
			                         why);
		}
		return;
	}
	if (polkit_authorization_result_get_is_authorized(result)) {
		gw_dbus_authority_dispatch(check);
		return;
	}
	gw_dbus_authority_refuse(check->self,
	                         g_steal_pointer(&check->invocation),
	                         check->action_id,
	                         polkit_authorization_result_get_is_challenge(result)
	                             ? "authentication needed"
	                             : "not authorized");
}

static void
gw_dbus_authority_ask_polkit(GwDbusAuthorityCheck *check)
{
	GDBusMessage *message = g_dbus_method_invocation_get_message(check->invocation);
	PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
	g_autoptr(PolkitSubject) subject =
	    polkit_system_bus_name_new(g_dbus_method_invocation_get_sender(check->invocation));

	/* a password dialog only when the caller said it can wait for one */
	if (g_dbus_message_get_flags(message) &
	    G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
		flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
	polkit_authority_check_authorization(check->self->polkit,
	                                     subject,
	                                     check->action_id,
	                                     NULL,
	                                     flags,
	                                     check->self->cancellable,
	                                     gw_dbus_authority_checked_cb,
	                                     check);
}

static void
gw_dbus_authority_got_polkit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GwDbusAuthorityCheck *check = user_data;
	g_autoptr(GError) error = NULL;
	PolkitAuthority *polkit = polkit_authority_get_finish(res, &error);

	if (g_cancellable_is_cancelled(check->self->cancellable)) {
		g_autoptr(GwDbusAuthorityCheck) owned = check;
		g_clear_object(&polkit);
		g_dbus_method_invocation_return_error(g_steal_pointer(&owned->invocation),
		                                      GW_ERROR,
		                                      GW_ERROR_FAILED,
		                                      "the daemon is stopping");
		return;
	}
	if (polkit == NULL) {
		g_autoptr(GwDbusAuthorityCheck) owned = check;
		gw_dbus_authority_fallback(owned, error);
		return;
	}
	if (check->self->polkit == NULL)
		check->self->polkit = polkit;
	else
		g_object_unref(polkit);
	gw_dbus_authority_ask_polkit(check);
}

gboolean
gw_dbus_authority_check(GwDbusAuthority *self,
                        GDBusMethodInvocation *invocation,
                        const gchar *action_id)
{
	GwDbusAuthorityCheck *check;
	gpointer skeleton = g_dbus_method_invocation_get_user_data(invocation);

	g_return_val_if_fail(GW_IS_DBUS_AUTHORITY(self), FALSE);

	/* the second dispatch of a call polkit allowed */
	if (g_strcmp0(g_object_get_data(G_OBJECT(invocation), GW_DBUS_AUTHORITY_ALLOWED_KEY),
	              action_id) == 0)
		return TRUE;
	if (!self->use_polkit)
		return gw_dbus_authority_check_uid(self, invocation, action_id);
	if (!G_IS_DBUS_INTERFACE_SKELETON(skeleton) && !GW_IS_DBUS_EXPORTER(skeleton)) {
		g_dbus_method_invocation_return_error(
		    invocation,
		    GW_ERROR,
		    GW_ERROR_INTERNAL,
		    "%s is not served by a skeleton",
		    g_dbus_method_invocation_get_object_path(invocation));
		return FALSE;
	}

	/* the check holds the method call's reference to @invocation until it answers it or
	 * hands it to the skeleton again */
	check = g_new0(GwDbusAuthorityCheck, 1);
	check->self = g_object_ref(self);
	check->invocation = invocation;
	check->target = g_object_ref(skeleton);
	check->action_id = g_strdup(action_id);
	if (self->polkit == NULL)
		polkit_authority_get_async(
		    self->cancellable, gw_dbus_authority_got_polkit_cb, check);
	else
		gw_dbus_authority_ask_polkit(check);
	return FALSE;
}

/* ---- object ---- */

static void
gw_dbus_authority_dispose(GObject *object)
{
	GwDbusAuthority *self = GW_DBUS_AUTHORITY(object);

	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->polkit);
	G_OBJECT_CLASS(gw_dbus_authority_parent_class)->dispose(object);
}

static void
gw_dbus_authority_finalize(GObject *object)
{
	GwDbusAuthority *self = GW_DBUS_AUTHORITY(object);

	g_clear_object(&self->cancellable);
	g_clear_object(&self->connection);
	g_hash_table_unref(self->caller_uids);
	G_OBJECT_CLASS(gw_dbus_authority_parent_class)->finalize(object);
}

static void
gw_dbus_authority_class_init(GwDbusAuthorityClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = gw_dbus_authority_dispose;
	object_class->finalize = gw_dbus_authority_finalize;
}

static void
gw_dbus_authority_init(GwDbusAuthority *self)
{
	self->cancellable = g_cancellable_new();
	self->caller_uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

GwDbusAuthority *
gw_dbus_authority_new(GDBusConnection *connection, gboolean use_polkit)
{
	GwDbusAuthority *self = g_object_new(GW_TYPE_DBUS_AUTHORITY, NULL);

	self->connection = g_object_ref(connection);
	self->use_polkit = use_polkit;
	return self;
}
