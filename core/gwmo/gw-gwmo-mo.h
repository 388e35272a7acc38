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
gw_gwmo_install_objects(GwDmTree *tree, const gchar *gw_id, GwGwmoMode default_mode, GError **error);

/* ./GwMO/Config/Mode, or 0 when unset or invalid */
guint
gw_gwmo_get_default_mode(GwDmTree *tree);

G_END_DECLS
