/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gw-plugin.h"
#include "gw-southbound.h"

G_BEGIN_DECLS

/*
 * The OMA DM Proxy path as the first adapter, built in (protocol "OMA-DM", GwMO-PMoDe-001):
 * a GwDeviceCommand becomes a GwSyncmlCommand for gw_southbound_send_command_async() (queued,
 * the device woken with a Package #0, sent in its session), and the device's Status and
 * Results become a GwDeviceResult. OMA DM devices answer for their own tree: register it with
 * GW_ADAPTER_FLAG_OWN_TREE. Its deadline is the southbound command's timeout too.
 */

#define GW_TYPE_OMADM_ADAPTER (gw_omadm_adapter_get_type())
G_DECLARE_FINAL_TYPE(GwOmadmAdapter, gw_omadm_adapter, GW, OMADM_ADAPTER, GwPlugin)

GwPlugin *
gw_omadm_adapter_new(GwSouthbound *southbound);

G_END_DECLS
