/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every project-defined GwMO name in one place (spec/GWMO.md): node names, MO identifiers,
 * alert types, HTTP paths and headers. The GwMO 1.0 TS is not public; if it is obtained,
 * rename here.
 */

#pragma once

/* MO roots and their DDF identifiers */
#define GW_GWMO_ROOT "./GwMO"
#define GW_GWMO_CONFIG "./GwMO/Config"
#define GW_GWMO_INVENTORY "./GwMO/Inventory"
#define GW_GWMO_FANOUT "./GwMO/Fanout"
#define GW_GWMO_IMAGES "./GwMO/Images"
#define GW_GWMO_EDTRIGGER "./GwMO/EDTrigger"
#define GW_GWMO_CONFIG_URN "urn:oma:mo:oma-gwmo-gwconfig:1.0"
#define GW_GWMO_INVENTORY_URN "urn:oma:mo:oma-gwmo-deviceinventory:1.0"
#define GW_GWMO_FANOUT_URN "urn:oma:mo:oma-gwmo-fanout:1.0"
#define GW_GWMO_IMAGES_URN "urn:oma:mo:oma-gwmo-imageinventory:1.0"
#define GW_GWMO_EDTRIGGER_URN "urn:oma:mo:oma-gwmo-edtrigger:1.0"

/* ./GwMO/Config */
#define GW_GWMO_CONFIG_GWID GW_GWMO_CONFIG "/GwID"
#define GW_GWMO_CONFIG_MODE GW_GWMO_CONFIG "/Mode"
#define GW_GWMO_CONFIG_SUPPORTED_MODES GW_GWMO_CONFIG "/SupportedModes"
#define GW_GWMO_CONFIG_SERVERS GW_GWMO_CONFIG "/Servers"
#define GW_GWMO_CONFIG_BOOTSTRAP GW_GWMO_CONFIG "/Bootstrap"
#define GW_GWMO_CONFIG_ED_BOOTSTRAP GW_GWMO_CONFIG_BOOTSTRAP "/EDBootstrap"
#define GW_GWMO_CONFIG_LAPSE_TIMER GW_GWMO_CONFIG_BOOTSTRAP "/LapseTimer"
#define GW_GWMO_CONFIG_ADAPTERS GW_GWMO_CONFIG "/Adapters"
#define GW_GWMO_CONFIG_EXT GW_GWMO_CONFIG "/Ext"
/* Exec (data: a ServerID, default the caller): the gateway opens a client-initiated session
 * with that server as soon as it can; answered 202 */
#define GW_GWMO_CONFIG_OPERATIONS GW_GWMO_CONFIG "/Operations"
#define GW_GWMO_CONFIG_CHECKIN GW_GWMO_CONFIG_OPERATIONS "/CheckIn"

/* ./GwMO/Inventory */
#define GW_GWMO_INVENTORY_DEVICES GW_GWMO_INVENTORY "/Devices"
#define GW_GWMO_INVENTORY_GROUPS GW_GWMO_INVENTORY "/Groups"
#define GW_GWMO_INVENTORY_SUMMARY GW_GWMO_INVENTORY "/Summary"

/* operation modes (./GwMO/Config/Mode, Devices/<x>/Mode) */
typedef enum {
	GW_GWMO_MODE_TRANSPARENT = 1,
	GW_GWMO_MODE_PROXY = 2,
	GW_GWMO_MODE_ADAPTATION = 3,
} GwGwmoMode;

#define GW_GWMO_LAPSE_TIMER_DEFAULT 3600

/* Generic Alert types (1226) */
#define GW_GWMO_ALERT_DEVICE_ATTACHED "urn:oma:at:gwmo:1.0:DeviceAttached"
#define GW_GWMO_ALERT_DEVICE_DETACHED "urn:oma:at:gwmo:1.0:DeviceDetached"
#define GW_GWMO_ALERT_FANOUT_COMPLETE "urn:oma:at:gwmo:1.0:FanoutComplete"
#define GW_GWMO_ALERT_IMAGE_DOWNLOAD_COMPLETE "urn:oma:at:gwmo:1.0:ImageDownloadComplete"
#define GW_GWMO_ALERT_DEVICE_REGISTRATION "urn:oma:at:gwmo:1.0:DeviceRegistration"
/* a device announced itself and waits for a DM Server's decision (spec/GWMO.md §9) */
#define GW_GWMO_ALERT_DEVICE_DISCOVERED "urn:oma:at:gwmo:1.0:DeviceDiscovered"

/* HTTP */
#define GW_GWMO_HTTP_NOTIFY "/notify"
#define GW_GWMO_HTTP_BOOTSTRAP "/bootstrap"
#define GW_GWMO_HTTP_DM "/dm"
#define GW_GWMO_HTTP_IMAGES "/images/"
#define GW_GWMO_HTTP_TARGET_HEADER "X-GwMO-Target"
/* a device's image URL: /images/<sha256>?dev=<DeviceID>&exp=<unix time>&sig=<hex HMAC-SHA256
 * over "<sha256>|<DeviceID>|<exp>"> (spec/GWMO.md §9) */
#define GW_GWMO_IMAGE_QUERY_DEVICE "dev"
#define GW_GWMO_IMAGE_QUERY_EXPIRES "exp"
#define GW_GWMO_IMAGE_QUERY_SIG "sig"

/* mDNS service types */
#define GW_GWMO_MDNS_GATEWAY "_gwmo._tcp"
#define GW_GWMO_MDNS_DEVICE "_omadm._tcp"
/* TXT keys of a device's _omadm._tcp announcement: its DeviceID and its DM path */
#define GW_GWMO_MDNS_TXT_DEVID "devid"
#define GW_GWMO_MDNS_TXT_PATH "path"

/* Device Inventory records ./GwMO/Inventory/Devices/<x>/… (added for gw-inventory.c) */
#define GW_GWMO_DEVICE_DEVICE_ID "DeviceID"
#define GW_GWMO_DEVICE_COMPONENT_TYPE "ComponentType"
#define GW_GWMO_DEVICE_PROTOCOL "Protocol"
#define GW_GWMO_DEVICE_MODE "Mode"
#define GW_GWMO_DEVICE_STATUS "Status"
#define GW_GWMO_DEVICE_ADDRESS "Address"
#define GW_GWMO_DEVICE_NOTIFY_ADDR "NotifyAddr"
#define GW_GWMO_DEVICE_LAST_SEEN "LastSeen"
#define GW_GWMO_DEVICE_TRUSTED "Trusted"
#define GW_GWMO_DEVICE_SERVER_IDS "ServerIDs"
#define GW_GWMO_DEVICE_DEVINFO "DevInfo"
#define GW_GWMO_DEVICE_GROUPS "Groups"
#define GW_GWMO_DEVICE_CREDENTIALS "Credentials"
/* servers the gateway's owner let read the record beyond its ServerIDs ("a+b") */
#define GW_GWMO_DEVICE_GRANTS "Grants"
#define GW_GWMO_CRED_AUTH_TYPE "AuthType"
#define GW_GWMO_CRED_CLIENT_NAME "ClientName"
#define GW_GWMO_CRED_CLIENT_SECRET "ClientSecret"
#define GW_GWMO_CRED_SERVER_SECRET "ServerSecret"
/* the nonce the device digests with (issued by the gateway) and the one the gateway digests
 * with (issued by the device), as the last session left them */
#define GW_GWMO_CRED_CLIENT_NONCE "ClientNonce"
#define GW_GWMO_CRED_SERVER_NONCE "ServerNonce"
/* the local DM Bootstrap Server (GET /bootstrap, seed 004 §8.x.2; gw-ed-bootstrap.c): the
 * deadline of a non-trusted Gateway Bootstrap (unix seconds, int, never readable), the
 * ServerIDs of the accounts made through it ("a+b"), and a DM Server's approval of the
 * device's next GET /bootstrap (bool) */
#define GW_GWMO_CRED_LAPSE_AT "LapseAt"
#define GW_GWMO_CRED_BOOTSTRAP_ACCOUNTS "BootstrapAccounts"
#define GW_GWMO_CRED_BOOTSTRAP_APPROVED "BootstrapApproved"
/* the record was made by that bootstrap (no record before it): it goes when the bootstrap lapses */
#define GW_GWMO_CRED_BOOTSTRAP_CREATED "BootstrapCreated"
/* Exec ./GwMO/Inventory/Devices/<x>/Operations/Bootstrap (seed 004 §8.x.1, server-assisted):
 * by a DM Server that may Replace the record: approves the device's next GET /bootstrap
 * (trusted, no lapse), or validates the non-trusted bootstrap it holds (Trusted true, lapse
 * cancelled) */
#define GW_GWMO_DEVICE_OPERATIONS "Operations"
#define GW_GWMO_DEVICE_OP_BOOTSTRAP "Operations/Bootstrap"
/* its Data (GwMO-HLF-006, optional; application/x-www-form-urlencoded): bootstrap the device to
 * a DM Server of the gateway too: server=<ServerID>&name=<AAuthName the device presents>
 * &secret=<its AAuthSecret (CLCRED)>&server-secret=<the server's AAuthSecret (SRVCRED)>
 * [&addr=<the server's URL; default: AppAddr/1/Addr of the gateway's own DMAcc of it>] */
#define GW_GWMO_ED_EXEC_SERVER "server"
#define GW_GWMO_ED_EXEC_NAME "name"
#define GW_GWMO_ED_EXEC_SECRET "secret"
#define GW_GWMO_ED_EXEC_SERVER_SECRET "server-secret"
#define GW_GWMO_ED_EXEC_ADDR "addr"
/* the outcome of the last such request on a device holding the gateway's account (chr, Get):
 * "Pending <ServerID>", "Delivered <ServerID>", "Failed <status> <ServerID>" */
#define GW_GWMO_DEVICE_OP_BOOTSTRAP_STATUS "Operations/BootstrapStatus"
/* such a request waiting for the device's GET /bootstrap (approved, not bootstrapped yet):
 * Credentials/ServerAccounts/<x>/{ServerID, Addr, Name, Secret, ServerSecret}; the secrets
 * without Get, the whole gone once the bootstrap message carried it */
#define GW_GWMO_CRED_SERVER_ACCOUNTS "ServerAccounts"
#define GW_GWMO_CRED_SA_SERVER_ID "ServerID"
#define GW_GWMO_CRED_SA_ADDR "Addr"
#define GW_GWMO_CRED_SA_NAME "Name"
#define GW_GWMO_CRED_SA_SECRET "Secret"
#define GW_GWMO_CRED_SA_SERVER_SECRET "ServerSecret"
/* the gateway's account on a device it bootstraps: ./DMAcc/gwmo-<GwID> (DM 1.2 DMAcc DDF) */
#define GW_GWMO_ED_DMACC_PREFIX "gwmo-"
#define GW_GWMO_ED_DMACC_APPID "w7"
#define GW_GWMO_ED_LAPSE_TIMER_LEAF "Ext/LapseTimer"
/* GET /bootstrap?dev=<DeviceID> (spec/GWMO.md §4) */
#define GW_GWMO_BOOTSTRAP_QUERY_DEVICE "dev"
#define GW_GWMO_STATUS_ATTACHED "Attached"
#define GW_GWMO_STATUS_DETACHED "Detached"
/* seen on the LAN (mDNS _omadm._tcp), never registered: not managed, no credentials */
#define GW_GWMO_STATUS_DISCOVERED "Discovered"
#define GW_GWMO_COMPONENT_END_DEVICE "EndDevice"
#define GW_GWMO_COMPONENT_GATEWAY "Gateway"
#define GW_GWMO_PROTOCOL_OMA_DM "OMA-DM"

/* groups ./GwMO/Inventory/Groups/<x>/… (added) */
#define GW_GWMO_GROUP_GROUP_ID "GroupID"
#define GW_GWMO_GROUP_DESCRIPTION "Description"
#define GW_GWMO_GROUP_MEMBERS "Members"

/* ./GwMO/Config/Servers/<x>/… (added) */
#define GW_GWMO_SERVER_SERVER_ID "ServerID"
#define GW_GWMO_SERVER_INVENTORY_ALERT "InventoryAlert"
#define GW_GWMO_SERVER_IMAGE_STORE "ImageStore"

/* ./GwMO/EDTrigger/<x>/… (added for gw-edtrigger.c) */
#define GW_GWMO_EDTRIGGER_DEVICE_ID "DeviceID"
#define GW_GWMO_EDTRIGGER_NOTIFICATION "Notification"
#define GW_GWMO_EDTRIGGER_OPERATIONS "Operations"
#define GW_GWMO_EDTRIGGER_TRIGGER "Trigger"
#define GW_GWMO_EDTRIGGER_STATUS "Status"
/* Fanout jobs ./GwMO/Fanout/<x>/… (added for gw-fanout.c; spec/GWMO.md §1) */
#define GW_GWMO_FANOUT_TARGETS "Targets"
#define GW_GWMO_FANOUT_GROUP "Targets/Group"
#define GW_GWMO_FANOUT_DEVICES "Targets/Devices"
#define GW_GWMO_FANOUT_COMMAND "Command"
#define GW_GWMO_FANOUT_TARGET_URI "TargetURI"
#define GW_GWMO_FANOUT_DATA "Data"
#define GW_GWMO_FANOUT_FORMAT "Format"
#define GW_GWMO_FANOUT_TYPE "Type"
#define GW_GWMO_FANOUT_TIMEOUT "Timeout"
#define GW_GWMO_FANOUT_MAX_IN_FLIGHT "MaxInFlight"
#define GW_GWMO_FANOUT_OPERATIONS "Operations"
#define GW_GWMO_FANOUT_START "Operations/Start"
#define GW_GWMO_FANOUT_CANCEL "Operations/Cancel"
#define GW_GWMO_FANOUT_STATE "State"
#define GW_GWMO_FANOUT_SUMMARY "Summary"
#define GW_GWMO_FANOUT_RESULTS "Results"
#define GW_GWMO_FANOUT_AGGREGATED "AggregatedResult"
#define GW_GWMO_FANOUT_RESULT_DEVICE_ID "DeviceID"
#define GW_GWMO_FANOUT_RESULT_STATUS "StatusCode"
#define GW_GWMO_FANOUT_RESULT_DATA "Data"
#define GW_GWMO_FANOUT_RESULT_FORMAT "Format"
/* project-defined (not in the seeds): "count,min,max,sum,distinct" over the Data of the
 * successful results, emitted as <Aggregate …/> in the AggregatedResult document */
#define GW_GWMO_FANOUT_AGGREGATE "Aggregate"
/* project-defined, Get only: who started the job and how it was reported (restarts) */
#define GW_GWMO_FANOUT_EXT "Ext"
#define GW_GWMO_FANOUT_EXT_OWNER "Ext/Owner"
#define GW_GWMO_FANOUT_EXT_CORRELATOR "Ext/Correlator"
#define GW_GWMO_FANOUT_EXT_REPORTED "Ext/Reported"
#define GW_GWMO_FANOUT_STATE_IDLE "Idle"
#define GW_GWMO_FANOUT_STATE_IN_PROGRESS "InProgress"
#define GW_GWMO_FANOUT_STATE_COMPLETE "Complete"
#define GW_GWMO_FANOUT_STATE_PARTIAL "PartialFailure"
#define GW_GWMO_FANOUT_STATE_CANCELLED "Cancelled"
#define GW_GWMO_FANOUT_TIMEOUT_DEFAULT 60
#define GW_GWMO_FANOUT_MAX_IN_FLIGHT_DEFAULT 32
/* the AggregatedResult document (spec/GWMO.md §2) */
#define GW_GWMO_FANOUT_RESULT_ELEMENT "GwMOFanoutResult"
