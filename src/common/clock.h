/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the monotonic clock in milliseconds, for timeouts and rate
 * limits (not for SA lifetimes: those count whole seconds, ipsec_now_s).
 */
#ifndef IPSECD_COMMON_CLOCK_H
#define IPSECD_COMMON_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms: never goes back, not moved by date changes. */
uint64_t mono_ms(void);

#endif
