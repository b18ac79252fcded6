/* hl_resolve.h: names resolved without blocking, on c-ares.
 * A resolver is a configuration: nameservers, search list, ndots, timeout,
 * attempts and lookup order, read once from /etc/resolv.conf (c-ares reads
 * it, and /etc/hosts on each lookup) or given by the script. Each lookup
 * gets a c-ares channel of its own made from it (hl_query.c), so it owns its
 * sockets: only the task that asked waits on them, and ending the lookup
 * (q:cancel() or its __gc) closes them. The query never waits: the Lua
 * layer (hotline/resolver.lua) asks which descriptors to wait for and
 * until when (q:wants), waits at the one wait point, hands back what is
 * ready (q:process) and releases from the poller each descriptor c-ares
 * has closed (q:closed), so a new descriptor with the same number is
 * never mistaken for it. c-ares tries each server once per attempt; the
 * query starts the next attempt itself, so a silent server costs timeout
 * times attempts, not c-ares' doubling timeouts.
 * SPDX-License-Identifier: MIT */
#ifndef HL_RESOLVE_H
#define HL_RESOLVE_H

#include "hl_compat.h"

#define HL_RESOLVER_MT "hotline.resolver"

void hl_resolve_open(lua_State *L);

#endif
