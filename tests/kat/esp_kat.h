/* SPDX-License-Identifier: MIT */
/* Shared between the esp-kat runner's files. */
#ifndef IPSECD_TESTS_ESP_KAT_H
#define IPSECD_TESTS_ESP_KAT_H

#include <stdint.h>

/*
 * Write a canonical vector file of packets made by our own encap
 * (esp_kat_gen.c).  buf holds PKT_BUF_SIZE, orig PKT_MAX_DATA bytes.
 */
int kat_generate(const char *path, uint8_t *buf, uint8_t *orig);

#endif
