/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-dm-tree.h"
#include "gw-gwmo-names.h"

G_BEGIN_DECLS

/*
 * Creates the GwMO management objects of spec/GWMO.md §1 (Config, Inventory, Fanout, Images,
 * EDTrigger) with their DDF access types and MO identifiers, keeping values restored from the
 * state file. @gw_id is ./DevInfo/DevId; @default_mode is used only when Config/Mode is unset.
 */
gboolean
gw_gwmo_install_objects(GwDmTree *tree,
                        const gchar *gw_id,
                        GwGwmoMode default_mode,
                        GError **error);

/* ./GwMO/Config/Mode, or 0 when unset or invalid */
guint
gw_gwmo_get_default_mode(GwDmTree *tree);

/*
 * Operation modes (GwMO-MOO-001). What the gateway can do for a device depends on its Protocol:
 * an OMA DM device (Protocol "OMA-DM", or none given) runs in Transparent (1) or Proxy (2)
 * mode; Adaptation (3) needs an adapter plugin for the device's protocol. These functions are
 * the one place that answers, so the plugin registry can answer here once there is one.
 *
 * gw_gwmo_install_objects() writes ./GwMO/Config/SupportedModes from them ("1,2" while no
 * adapter other than OMA DM is registered, "1,2,3" after), falls back to Proxy for a
 * default mode nothing supports, and makes the tree refuse with 406 a Replace of
 * ./GwMO/Config/Mode or of ./GwMO/Inventory/Devices/<x>/Mode by a mode that is not available
 * (for the device's Protocol; for the default mode: for any protocol). The inventory refuses
 * such a mode when a device is added or registers (GW_ERROR_NOT_SUPPORTED).
 */
/* which protocols an adapter handles: GwAdapters says so when an adapter other than OMA DM is
 * registered or removed, and rewrites SupportedModes (gw_gwmo_refresh_supported_modes()) */
void
gw_gwmo_adapter_register(const gchar *protocol);
void
gw_gwmo_adapter_unregister(const gchar *protocol);
/* TRUE when a loaded adapter handles @protocol (Adaptation mode) */
gboolean
gw_gwmo_protocol_has_adapter(const gchar *protocol);
/* TRUE when a device of @protocol (NULL: OMA-DM) can be run in @mode */
gboolean
gw_gwmo_mode_is_available(const gchar *protocol, guint mode);
/* "1,2" (and ",3" once any adapter is loaded) */
gchar *
gw_gwmo_supported_modes(void);
/* writes ./GwMO/Config/SupportedModes again when it is not gw_gwmo_supported_modes() (after
 * gw_gwmo_install_objects()) */
gboolean
gw_gwmo_refresh_supported_modes(GwDmTree *tree, GError **error);

G_END_DECLS
