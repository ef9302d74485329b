/* SPDX-License-Identifier: MIT */
/*
 * ESP (RFC 4303) encapsulation and decapsulation, in place.  See esp.h
 * for the contract and the return values.
 */
#include "esp/esp.h"

#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "esp/ip.h"
#include "esp/ipsec.h"

#define ESP_HDR_LEN 8	  /* SPI + sequence number */
#define ESP_TRAILER_LEN 2 /* pad length + next header */
#define ESP_MAX_IV 16
#define ESP_MAX_ICV 32
/* RFC 4303 §2.7: TFC padding rounds the inner packet up to this. */
#define ESP_TFC_BLOCK 32

/*
 * RFC 3602 §3: a CBC IV must be random and unpredictable, so it comes
 * from the DRBG; but one DRBG call per packet costs as much as the HMAC
 * of a small packet.  Each thread draws ESP_IV_POOL bytes at once and
 * hands out slices; a slice is wiped from the pool as it is taken, so no
 * byte is used twice.  (The data plane does not fork, which would
 * duplicate a pool.)
 */
#define ESP_IV_POOL 512
static __thread uint8_t iv_pool[ESP_IV_POOL];
static __thread size_t iv_pool_used = ESP_IV_POOL;

static int random_iv(uint8_t *iv, size_t len)
{
	int r;

	if (len > ESP_IV_POOL)
		return crypto_random(iv, len);
	if (ESP_IV_POOL - iv_pool_used < len) {
		r = crypto_random(iv_pool, ESP_IV_POOL);
		if (r)
			return r;
		iv_pool_used = 0;
	}
	memcpy(iv, iv_pool + iv_pool_used, len);
	memset(iv_pool + iv_pool_used, 0, len);
	iv_pool_used += len;
	return 0;
}

/* The explicit IV: RFC 4106 §3.1, RFC 3686 §3, RFC 4309 §3.1, RFC 7634
 * §2: counter modes need a unique IV per key, and the 64-bit sequence
 * number is one (no random bytes needed).  CBC (RFC 3602 §3) needs an
 * unpredictable one. */
static int make_iv(const struct ipsec_sa *sa, uint64_t seq, uint8_t *iv)
{
	if (!sa->iv_len)
		return 0;
	if (sa->p.encr->kind == ENCR_KIND_CBC)
		return random_iv(iv, sa->iv_len);
	if (sa->iv_len != 8)
		return ERR_UNSUPPORTED;
	be64_store(iv, seq);
	return 0;
}

/*
 * AAD of the combined modes.  RFC 4106 §5, RFC 4309 §5, RFC 7634 §2.1:
 * SPI || seq, with ESN SPI || seq_hi || seq_lo.  RFC 4543 §3.2 (GMAC):
 * the IV follows, and the payload is authenticated as AAD by the crypto
 * layer.  esp points at the ESP header; scratch holds >= 20 bytes.
 */
static const uint8_t *esp_aad(const struct ipsec_sa *sa, const uint8_t *esp,
			      uint64_t seq, uint8_t *scratch, size_t *len)
{
	bool gmac = sa->p.encr->kind == ENCR_KIND_GMAC;
	size_t n = ESP_HDR_LEN + (gmac ? sa->iv_len : 0);

	if (!sa->p.esn) {
		*len = n;
		return esp;
	}
	memcpy(scratch, esp, 4);
	be32_store(scratch + 4, (uint32_t)(seq >> 32));
	memcpy(scratch + 8, esp + 4, n - 4);
	*len = n + 4;
	return scratch;
}

/*
 * Encrypt and authenticate the ESP packet at esp: header and IV written,
 * plaintext of pt_len bytes (payload, padding, trailer) behind the IV,
 * the ICV goes right after it.
 */
static int esp_protect(const struct ipsec_sa *sa, struct sa_crypto *c,
		       uint8_t *esp, size_t pt_len, uint64_t seq)
{
	uint8_t *iv = esp + ESP_HDR_LEN;
	uint8_t *pt = iv + sa->iv_len;
	uint8_t *icv = pt + pt_len;
	uint8_t scratch[ESP_HDR_LEN + 4 + ESP_MAX_IV], hi[4];
	const uint8_t *aad;
	size_t aad_len;
	int r;

	if (sa->aead) {
		aad = esp_aad(sa, esp, seq, scratch, &aad_len);
		return aead_seal(c->encr, iv, aad, aad_len, pt, pt_len, pt,
				 icv);
	}
	if (c->encr) {
		r = cipher_encrypt(c->encr, iv, pt, pt_len, pt);
		if (r)
			return r;
	}
	if (!c->integ)
		return 0;
	/* RFC 4303 §2.2.1, §3.3.2.1: ICV over SPI..trailer, then the
	 * high-order ESN bits, which are not transmitted. */
	if ((r = integ_init(c->integ)) ||
	    (r = integ_update(c->integ, esp,
			      ESP_HDR_LEN + sa->iv_len + pt_len)))
		return r;
	if (sa->p.esn) {
		be32_store(hi, (uint32_t)(seq >> 32));
		r = integ_update(c->integ, hi, sizeof(hi));
		if (r)
			return r;
	}
	return integ_final(c->integ, icv);
}

/*
 * Append TFC padding (tunnel mode only: the inner header tells the
 * receiver where the packet ends), ESP padding and the trailer, and room
 * for the ICV.  Returns the plaintext length in *pt_len.
 */
static int esp_put_trailer(const struct ipsec_sa *sa, struct pkt *pkt,
			   uint8_t nh, size_t *pt_len)
{
	size_t len = pkt->len, tfc = 0, pad, i;
	uint8_t *t;
	int r;

	if (sa->p.tfc_pad && sa->p.mode == IPSEC_MODE_TUNNEL) {
		tfc = (ESP_TFC_BLOCK - len % ESP_TFC_BLOCK) % ESP_TFC_BLOCK;
		if (tfc + ESP_MAX_OVERHEAD_TAIL > pkt_tailroom(pkt))
			tfc = 0;
	}
	/* RFC 4303 §2.4: align payload + padding + trailer to the block
	 * size (at least 4); default padding is 1, 2, 3, ... */
	pad = (sa->align - (len + tfc + ESP_TRAILER_LEN) % sa->align) %
	      sa->align;
	r = pkt_put(pkt, tfc + pad + ESP_TRAILER_LEN + sa->icv_len, &t);
	if (r)
		return r;
	memset(t, 0, tfc);
	t += tfc;
	for (i = 0; i < pad; i++)
		t[i] = (uint8_t)(i + 1);
	t[pad] = (uint8_t)pad;
	t[pad + 1] = nh;
	*pt_len = len + tfc + pad + ESP_TRAILER_LEN;
	return 0;
}

static void esp_write_hdr(const struct ipsec_sa *sa, uint8_t *esp, uint64_t seq)
{
	be32_store(esp, sa->p.spi);
	/* RFC 4303 §2.2: only the low 32 bits are sent, ESN or not. */
	be32_store(esp + 4, (uint32_t)seq);
}

/* RFC 3948 §2.1: UDP header; IPv4 checksum 0 (§3.1.3 allows it). */
static void udp_write_hdr(const struct ipsec_tx *tx, uint8_t *u, size_t len)
{
	be16_store(u, tx->sport);
	be16_store(u + 2, tx->dport);
	be16_store(u + 4, (uint16_t)len);
	u[6] = 0;
	u[7] = 0;
}

static int esp_encap_tunnel(const struct ipsec_sa *sa, struct sa_crypto *c,
			    const struct ipsec_tx *tx, struct pkt *pkt)
{
	struct outer_info oi;
	size_t pt_len, hl = ESP_HDR_LEN + sa->iv_len;
	uint8_t *esp, *u, *ip;
	bool udp = tx->sport != 0;
	int r;

	r = ip_inner_info(pkt_data(pkt), pkt->len, &oi);
	if (r)
		return ERR_INVAL;
	if ((r = esp_put_trailer(sa, pkt, oi.nh, &pt_len)) ||
	    (r = pkt_push(pkt, hl, &esp)))
		return r;
	esp_write_hdr(sa, esp, tx->seq);
	if ((r = make_iv(sa, tx->seq, esp + ESP_HDR_LEN)) ||
	    (r = esp_protect(sa, c, esp, pt_len, tx->seq)))
		return r;
	if (udp) {
		if (pkt->len + UDP_HDR_LEN > 65535)
			return ERR_OVERFLOW;
		if ((r = pkt_push(pkt, UDP_HDR_LEN, &u)))
			return r;
		udp_write_hdr(tx, u, pkt->len);
	}
	r = ip_push_outer(pkt, &tx->src, &tx->dst,
			  udp ? IPPROTO_NUM_UDP : IPPROTO_NUM_ESP, &oi, tx->ttl,
			  tx->id);
	if (r)
		return r;
	ip = pkt_data(pkt);
	/* RFC 8200 §8.1: over IPv6 the UDP checksum is mandatory. */
	if (udp && tx->src.af == AF_INET6)
		l4_csum_fix(ip, 6, IPPROTO_NUM_UDP, ip + IPV6_HDR_LEN,
			    pkt->len - IPV6_HDR_LEN);
	return 0;
}

static int esp_encap_transport(const struct ipsec_sa *sa, struct sa_crypto *c,
			       const struct ipsec_tx *tx, struct pkt *pkt)
{
	struct ip_info ii;
	struct pkt body;
	bool udp = tx->sport != 0;
	size_t gap = ESP_HDR_LEN + sa->iv_len + (udp ? UDP_HDR_LEN : 0);
	size_t pt_len;
	uint8_t *g, *esp, *ip;
	int r;

	r = ip_open_gap(pkt, gap, &ii, &g);
	if (r)
		return r == ERR_MALFORMED ? ERR_INVAL : r;
	/* The trailer covers the payload only: work on a view of it. */
	body = *pkt;
	body.off = pkt->off + gap + ii.hdr_end;
	body.len = pkt->len - gap - ii.hdr_end;
	r = esp_put_trailer(sa, &body, ii.proto, &pt_len);
	if (r)
		return r;
	pkt->len = gap + ii.hdr_end + body.len;
	esp = g + (udp ? UDP_HDR_LEN : 0);
	esp_write_hdr(sa, esp, tx->seq);
	if ((r = make_iv(sa, tx->seq, esp + ESP_HDR_LEN)) ||
	    (r = esp_protect(sa, c, esp, pt_len, tx->seq)))
		return r;
	if (udp)
		udp_write_hdr(tx, g, pkt->len - ii.hdr_end);
	r = ip_fix_header(pkt, &ii, udp ? IPPROTO_NUM_UDP : IPPROTO_NUM_ESP);
	if (r)
		return r;
	ip = pkt_data(pkt);
	if (udp && ii.version == 6)
		l4_csum_fix(ip, 6, IPPROTO_NUM_UDP, g, pkt->len - ii.hdr_end);
	return 0;
}

int esp_encap(struct ipsec_sa *sa, struct pkt *pkt)
{
	struct ipsec_tx tx;
	struct sa_crypto *c;
	struct pkt save;
	int r;

	if (!sa || !pkt || sa->p.proto != IPSEC_PROTO_ESP ||
	    sa->p.dir != SA_DIR_OUT || pkt->len == 0)
		return ERR_INVAL;
	save = *pkt;
	r = ipsec_sa_tx_begin(sa, pkt->len, &tx);
	if (r)
		return r;
	/* The crypto runs on a free context set, outside sa->lock. */
	c = ipsec_sa_crypto_get(sa);
	if (sa->p.mode == IPSEC_MODE_TUNNEL)
		r = esp_encap_tunnel(sa, c, &tx, pkt);
	else
		r = esp_encap_transport(sa, c, &tx, pkt);
	ipsec_sa_crypto_put(c);
	if (r) {
		/* Failed packets go back as they came (content may not). */
		*pkt = save;
		log_dbg(LS_ESP, "ESP SA 0x%08x: encap failed: %s", sa->p.spi,
			err_str(r));
	}
	return r;
}

/* ---- Inbound ---- */

/* Where the parts of a received ESP packet are, relative to its start. */
struct esp_rx {
	struct ip_info ii;
	size_t esp_off; /* ESP header */
	size_t ct_off;	/* ciphertext (after the IV) */
	size_t ct_len;	/* ciphertext bytes (payload..NH) */
	uint32_t spi;
	uint32_t seq_lo;
};

/*
 * Parse the outer header, the UDP header for an udp-encap SA, and the
 * ESP header, and check the lengths (RFC 4303 §2, §3.4.2).
 */
static int esp_rx_parse(const struct ipsec_sa *sa, bool udp, struct pkt *pkt,
			struct esp_rx *rx)
{
	struct buf b, esp;
	uint16_t ulen;
	size_t body, min;
	uint32_t marker;
	int r;

	r = ip_parse(pkt_data(pkt), pkt->len, &rx->ii);
	if (r)
		return r;
	if (rx->ii.frag)
		return ERR_UNSUPPORTED;
	pkt->len = rx->ii.tot_len;
	buf_init(&b, pkt_data(pkt), pkt->len);
	if (buf_skip(&b, rx->ii.hdr_end))
		return ERR_MALFORMED;
	if (rx->ii.proto == IPPROTO_NUM_UDP) {
		if (!udp)
			return ERR_PROTO;
		if (buf_skip(&b, 4) || buf_get_u16(&b, &ulen) ||
		    buf_skip(&b, 2))
			return ERR_MALFORMED;
		if (ulen < UDP_HDR_LEN ||
		    (size_t)ulen - UDP_HDR_LEN != buf_left(&b))
			return ERR_MALFORMED;
		/* RFC 3948 §2.2/§2.3: IKE and keepalives are not ESP. */
		if (buf_left(&b) < 4 || buf_peek_u32(&b, &marker) ||
		    marker == 0)
			return ERR_PROTO;
	} else if (rx->ii.proto != IPPROTO_NUM_ESP || udp) {
		return ERR_PROTO;
	}
	rx->esp_off = buf_pos(&b);
	buf_get_rest(&b, &esp);
	if (buf_get_u32(&esp, &rx->spi) || buf_get_u32(&esp, &rx->seq_lo))
		return ERR_MALFORMED;
	if (rx->spi != sa->p.spi)
		return ERR_NOTFOUND;
	body = buf_left(&esp);
	min = (size_t)sa->iv_len + sa->icv_len + ESP_TRAILER_LEN;
	if (body < min)
		return ERR_MALFORMED;
	rx->ct_off = rx->esp_off + ESP_HDR_LEN + sa->iv_len;
	rx->ct_len = body - sa->iv_len - sa->icv_len;
	/* RFC 4303 §2.4: the ciphertext ends 4-byte aligned, and a block
	 * cipher sees whole blocks. */
	if ((sa->iv_len + rx->ct_len) % 4 || rx->ct_len % sa->align)
		return ERR_MALFORMED;
	return 0;
}

/* Verify the ICV/tag and decrypt in place with the context set c. */
static int esp_unprotect(const struct ipsec_sa *sa, struct sa_crypto *c,
			 uint8_t *esp, size_t ct_len, uint64_t seq)
{
	uint8_t *iv = esp + ESP_HDR_LEN;
	uint8_t *ct = iv + sa->iv_len;
	uint8_t *icv = ct + ct_len;
	uint8_t scratch[ESP_HDR_LEN + 4 + ESP_MAX_IV], hi[4];
	const uint8_t *aad;
	size_t aad_len;
	int r;

	if (sa->aead) {
		aad = esp_aad(sa, esp, seq, scratch, &aad_len);
		r = aead_open(c->encr, iv, aad, aad_len, ct, ct_len, ct, icv);
		return r == ERR_AUTH || r == 0 ? r : ERR_CRYPTO;
	}
	if (c->integ) {
		/* RFC 4303 §3.4.4: authenticate before decrypting. */
		if ((r = integ_init(c->integ)) ||
		    (r = integ_update(c->integ, esp,
				      ESP_HDR_LEN + sa->iv_len + ct_len)))
			return ERR_CRYPTO;
		if (sa->p.esn) {
			be32_store(hi, (uint32_t)(seq >> 32));
			if (integ_update(c->integ, hi, sizeof(hi)))
				return ERR_CRYPTO;
		}
		r = integ_verify(c->integ, icv);
		if (r)
			return r == ERR_AUTH ? r : ERR_CRYPTO;
	}
	if (c->encr) {
		r = cipher_decrypt(c->encr, iv, ct, ct_len, ct);
		if (r)
			return ERR_CRYPTO;
	}
	return 0;
}

/* RFC 4303 §2.4: pad length within the payload, padding 1, 2, 3, ... */
static int esp_check_trailer(const uint8_t *pt, size_t ct_len, size_t *plen,
			     uint8_t *nh)
{
	const uint8_t *pad;
	struct buf b;
	uint8_t pad_len;
	size_t i;

	buf_init(&b, pt, ct_len);
	if (buf_skip(&b, ct_len - ESP_TRAILER_LEN) ||
	    buf_get_u8(&b, &pad_len) || buf_get_u8(&b, nh))
		return ERR_MALFORMED;
	if ((size_t)pad_len + ESP_TRAILER_LEN > ct_len)
		return ERR_MALFORMED;
	*plen = ct_len - ESP_TRAILER_LEN - pad_len;
	/* One bounds-checked view of the padding, then a plain loop: a
	 * reader call per pad byte showed up in the per-packet profile. */
	buf_init(&b, pt, ct_len);
	if (buf_skip(&b, *plen) || buf_get_ptr(&b, &pad, pad_len))
		return ERR_MALFORMED;
	for (i = 0; i < pad_len; i++)
		if (pad[i] != (uint8_t)(i + 1))
			return ERR_MALFORMED;
	return 0;
}

/*
 * Tunnel mode result: the inner packet, NH 4 or 41 matching its version
 * (RFC 4303 §2.3), NH 59 a dummy (§2.6).  The inner header's length
 * tells where TFC padding (§2.7) starts.
 */
static int esp_tunnel_result(struct pkt *pkt, size_t pl_off, size_t plen,
			     uint8_t nh)
{
	struct buf b;
	uint8_t v;
	uint16_t l;
	size_t inner;

	if (nh == IPPROTO_NUM_NONE)
		return ERR_DROP;
	buf_init(&b, pkt_data(pkt) + pl_off, plen);
	if (buf_peek_u8(&b, &v))
		return ERR_MALFORMED;
	if (nh == IPPROTO_NUM_IPIP && v >> 4 == 4) {
		if (buf_skip(&b, 2) || buf_get_u16(&b, &l))
			return ERR_MALFORMED;
		inner = l;
		if (inner < IPV4_HDR_MIN || inner < (size_t)(v & 0x0f) * 4)
			return ERR_MALFORMED;
	} else if (nh == IPPROTO_NUM_IPV6 && v >> 4 == 6) {
		if (buf_skip(&b, 4) || buf_get_u16(&b, &l))
			return ERR_MALFORMED;
		inner = (size_t)l + IPV6_HDR_LEN;
	} else {
		return ERR_MALFORMED;
	}
	if (inner > plen)
		return ERR_MALFORMED;
	pkt_pull(pkt, pl_off);
	pkt->len = inner;
	return 0;
}

/*
 * Transport mode result (RFC 4303 §3.4.4.1 and the vector README): the
 * received header (with IPv6 extension headers before ESP) moved up to
 * the payload, protocol := NH, lengths and IPv4 checksum fixed.
 */
static int esp_transport_result(bool udp, struct pkt *pkt,
				const struct ip_info *ii, size_t pl_off,
				size_t plen, uint8_t nh)
{
	uint8_t *old = pkt_data(pkt), *ip;
	size_t start = pl_off - ii->hdr_end;
	int r;

	memmove(old + start, old, ii->hdr_end);
	pkt_pull(pkt, start);
	pkt->len = ii->hdr_end + plen;
	r = ip_fix_header(pkt, ii, nh);
	if (r)
		return ERR_MALFORMED;
	/* RFC 3948 §3.1.2: behind a NAT the TCP/UDP checksum covers the
	 * pre-NAT addresses; ESP authenticated the payload, so recompute
	 * it over the addresses we deliver (IPv4 UDP 0 stays 0). */
	if (udp) {
		ip = pkt_data(pkt);
		l4_csum_fix(ip, ii->version, nh, ip + ii->hdr_end, plen);
	}
	return 0;
}

int esp_decap(struct ipsec_sa *sa, struct pkt *pkt)
{
	struct sa_crypto *c;
	struct esp_rx rx;
	struct pkt save;
	uint64_t seq = 0;
	size_t plen = 0;
	uint8_t nh = 0;
	bool udp, authentic = false;
	const char *what = "header";
	int r;

	if (!sa || !pkt || sa->p.dir != SA_DIR_IN)
		return ERR_INVAL;
	if (sa->p.proto != IPSEC_PROTO_ESP)
		return ERR_PROTO;
	save = *pkt;
	memset(&rx, 0, sizeof(rx));
	pthread_mutex_lock(&sa->lock);
	udp = sa->udp;
	r = esp_rx_parse(sa, udp, pkt, &rx);
	if (r == 0 && (sa->life_hit & SA_LIFE_HARD))
		r = ERR_EXPIRED;
	/* RFC 4303 §3.4.3: the cheap replay pre-check comes first. */
	if (r == 0) {
		what = "replay";
		r = replay_check(&sa->replay, rx.seq_lo, &seq);
	}
	if (r) {
		r = ipsec_sa_drop(sa, what, r, rx.seq_lo);
		pthread_mutex_unlock(&sa->lock);
		*pkt = save;
		return r;
	}
	pthread_mutex_unlock(&sa->lock);

	what = "integrity";
	c = ipsec_sa_crypto_get(sa);
	r = esp_unprotect(sa, c, pkt_data(pkt) + rx.esp_off, rx.ct_len, seq);
	ipsec_sa_crypto_put(c);
	if (r)
		goto out;
	what = "padding";
	r = esp_check_trailer(pkt_data(pkt) + rx.ct_off, rx.ct_len, &plen, &nh);
	if (r)
		goto out;
	/* Authentic and well-formed: it moves the window (§3.4.3). */
	authentic = true;
	what = "next header";
	if (sa->p.mode == IPSEC_MODE_TUNNEL)
		r = esp_tunnel_result(pkt, rx.ct_off, plen, nh);
	else
		r = esp_transport_result(udp, pkt, &rx.ii, rx.ct_off, plen, nh);
	if (r)
		goto out;
	what = "traffic selectors";
	r = ipsec_sa_check_ts(sa, pkt);
out:
	r = ipsec_sa_rx_finish(sa, pkt->len, r, authentic, seq, what);
	if (r && r != ERR_DROP)
		*pkt = save;
	return r;
}

int ipsec_encap(struct ipsec_sa *sa, struct pkt *pkt)
{
	if (!sa)
		return ERR_INVAL;
	return sa->p.proto == IPSEC_PROTO_AH ? ah_encap(sa, pkt)
					     : esp_encap(sa, pkt);
}

int ipsec_decap(struct ipsec_sa *sa, struct pkt *pkt)
{
	if (!sa)
		return ERR_INVAL;
	return sa->p.proto == IPSEC_PROTO_AH ? ah_decap(sa, pkt)
					     : esp_decap(sa, pkt);
}
