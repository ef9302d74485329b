/* SPDX-License-Identifier: MIT */
/*
 * Fetched-algorithm cache, random bytes and memory helpers.
 *
 * OpenSSL 3 implicit fetches ("EVP_aes_128_gcm()") look the algorithm up
 * in the provider on every init; an explicit fetch done once and reused
 * avoids that cost per SA and per packet.
 */
#include "crypto/crypto.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/err.h"
#include "common/log.h"

/* Every cipher the tables in alg.c name, plus AES-128-ECB for XCBC. */
static const char *const cipher_names[] = {
	"AES-128-CBC",	     "AES-192-CBC",  "AES-256-CBC", "AES-128-CTR",
	"AES-192-CTR",	     "AES-256-CTR",  "AES-128-GCM", "AES-192-GCM",
	"AES-256-GCM",	     "AES-128-CCM",  "AES-192-CCM", "AES-256-CCM",
	"ChaCha20-Poly1305", "DES-EDE3-CBC", "AES-128-ECB",
};
#define N_CIPHERS (sizeof(cipher_names) / sizeof(cipher_names[0]))

static const char *const mac_names[] = {"HMAC", "CMAC"};
#define N_MACS (sizeof(mac_names) / sizeof(mac_names[0]))

static EVP_CIPHER *ciphers[N_CIPHERS];
static EVP_MAC *macs[N_MACS];
static bool loaded;
static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;

static void fetch_all_locked(void)
{
	size_t i;

	for (i = 0; i < N_CIPHERS; i++) {
		ciphers[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
		/* Legacy ones may be missing (FIPS); callers see NULL. */
		if (!ciphers[i])
			log_dbg(LS_CRYPTO, "cipher %s not available",
				cipher_names[i]);
	}
	for (i = 0; i < N_MACS; i++)
		macs[i] = EVP_MAC_fetch(NULL, mac_names[i], NULL);
	ERR_clear_error();
	loaded = true;
}

static EVP_CIPHER *cipher_locked(const char *name)
{
	size_t i;

	for (i = 0; i < N_CIPHERS; i++)
		if (strcmp(cipher_names[i], name) == 0)
			return ciphers[i];
	return NULL;
}

static EVP_MAC *mac_locked(const char *name)
{
	size_t i;

	for (i = 0; i < N_MACS; i++)
		if (strcmp(mac_names[i], name) == 0)
			return macs[i];
	return NULL;
}

int crypto_init(void)
{
	int r = 0;

	pthread_mutex_lock(&fetch_lock);
	if (!loaded)
		fetch_all_locked();
	/* Without AES-GCM and HMAC nothing useful works. */
	if (!cipher_locked("AES-128-GCM") || !mac_locked("HMAC")) {
		log_err(LS_CRYPTO, "OpenSSL lacks AES-GCM or HMAC");
		r = ERR_CRYPTO;
	}
	pthread_mutex_unlock(&fetch_lock);
	return r;
}

void crypto_fini(void)
{
	size_t i;

	pthread_mutex_lock(&fetch_lock);
	/* Contexts hold their own references, so this is safe. */
	for (i = 0; i < N_CIPHERS; i++) {
		EVP_CIPHER_free(ciphers[i]);
		ciphers[i] = NULL;
	}
	for (i = 0; i < N_MACS; i++) {
		EVP_MAC_free(macs[i]);
		macs[i] = NULL;
	}
	loaded = false;
	pthread_mutex_unlock(&fetch_lock);
}

const struct evp_cipher_st *crypto_cipher(const char *name)
{
	const EVP_CIPHER *c;

	pthread_mutex_lock(&fetch_lock);
	if (!loaded)
		fetch_all_locked();
	c = cipher_locked(name);
	pthread_mutex_unlock(&fetch_lock);
	return c;
}

struct evp_mac_st *crypto_mac(const char *name)
{
	EVP_MAC *m;

	pthread_mutex_lock(&fetch_lock);
	if (!loaded)
		fetch_all_locked();
	m = mac_locked(name);
	pthread_mutex_unlock(&fetch_lock);
	return m;
}

int crypto_random(void *buf, size_t len)
{
	/* RAND_bytes takes an int; draw large requests in pieces. */
	uint8_t *p = buf;
	size_t n;

	while (len > 0) {
		n = len > (1u << 30) ? (1u << 30) : len;
		if (RAND_bytes(p, (int)n) != 1) {
			log_err(LS_CRYPTO, "RAND_bytes failed");
			return ERR_CRYPTO;
		}
		p += n;
		len -= n;
	}
	return 0;
}

void crypto_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

bool crypto_memeq(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return true;
	return CRYPTO_memcmp(a, b, len) == 0;
}
