/* SPDX-License-Identifier: MIT */
/* strongSwan charon log reader for tests; see charonlog.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charonlog.h"
#include "common/buf.h"
#include "vectors.h"

char *charonlog_slurp(const char *relpath, size_t *len)
{
	const char *path = vec_path(relpath);
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n;

	if (!f) {
		printf("# cannot open %s\n", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		text = malloc((size_t)n + 1);
		if (text && fread(text, 1, (size_t)n, f) == (size_t)n) {
			text[n] = '\0';
			if (len)
				*len = (size_t)n;
		} else {
			free(text);
			text = NULL;
		}
	}
	fclose(f);
	return text;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A dump looks like
 *   01:31:45.303 13[IKE] <ss|1> Sk_ei secret => 20 bytes @ 0x7f...
 *   01:31:45.303 13[IKE] <ss|1>    0: 33 E8 9D ...  3..
 *   01:31:45.303 13[IKE] <ss|1>   16: 0A 8C 55 50   ..UP
 * Each data line: the "<...> " tag, the offset, a colon, then up to 16
 * " XX" bytes and an ASCII column.
 */
uint8_t *charonlog_dump(const char *text, const char *name, int nth,
			size_t *len)
{
	char key[160];
	const char *p = text, *line, *eol, *q;
	unsigned long total, off;
	uint8_t *out;
	size_t got = 0, row;
	int hi, lo;

	snprintf(key, sizeof(key), "> %s => ", name);
	for (;;) {
		p = strstr(p, key);
		if (!p)
			return NULL;
		if (nth == 0)
			break;
		nth--;
		p += strlen(key);
	}
	total = strtoul(p + strlen(key), NULL, 10);
	out = malloc(total ? total : 1);
	if (!out)
		return NULL;
	line = strchr(p, '\n');
	while (line && got < total) {
		line++;
		eol = strchr(line, '\n');
		q = strstr(line, "> ");
		if (!q || (eol && q > eol))
			break;
		q += 2;
		off = strtoul(q, (char **)&q, 10);
		if (off != got || *q != ':')
			break;
		q++;
		for (row = 0;
		     row < 16 && got < total && q[0] == ' ' &&
		     (hi = nibble(q[1])) >= 0 && (lo = nibble(q[2])) >= 0;
		     row++, q += 3)
			out[got++] = (uint8_t)(hi << 4 | lo);
		line = eol;
	}
	if (got != total) {
		free(out);
		return NULL;
	}
	*len = got;
	return out;
}

static int get_u32_order(struct buf *b, int le, uint32_t *v)
{
	uint8_t x[4];
	int r = buf_get_bytes(b, x, 4);

	if (r == 0)
		*v = le ? (uint32_t)x[3] << 24 | (uint32_t)x[2] << 16 |
				     (uint32_t)x[1] << 8 | x[0]
			: be32_load(x);
	return r;
}

/* One Ethernet frame: keep it if it is IKE over UDP/IPv4. */
static void take_frame(struct buf *frame, struct pcap_ike *out, size_t max,
		       size_t *n)
{
	struct buf ip, udp, peek;
	uint16_t ethertype, sport, dport, ulen, total;
	uint8_t vihl, proto, a[4], b[4];
	uint32_t marker;

	if (buf_skip(frame, 12) || buf_get_u16(frame, &ethertype) ||
	    ethertype != 0x0800)
		return;
	/* Look into the IPv4 header through a copy of the reader. */
	peek = *frame;
	if (buf_get_u8(&peek, &vihl) || (vihl >> 4) != 4 ||
	    buf_skip(&peek, 1) || buf_get_u16(&peek, &total) || total < 20 ||
	    buf_skip(&peek, 5) || buf_get_u8(&peek, &proto) || proto != 17 ||
	    buf_skip(&peek, 2) || buf_get_bytes(&peek, a, 4) ||
	    buf_get_bytes(&peek, b, 4))
		return;
	if (buf_get_sub(frame, &ip, total) ||
	    buf_skip(&ip, (size_t)(vihl & 0x0f) * 4) ||
	    buf_get_u16(&ip, &sport) || buf_get_u16(&ip, &dport) ||
	    buf_get_u16(&ip, &ulen) || ulen < 8 || buf_skip(&ip, 2) ||
	    buf_get_sub(&ip, &udp, ulen - 8))
		return;
	if (sport == 4500 || dport == 4500) {
		if (buf_get_u32(&udp, &marker) || marker != 0)
			return; /* ESP in UDP */
	} else if (sport != 500 && dport != 500) {
		return;
	}
	if (*n >= max || buf_left(&udp) < 28)
		return;
	out[*n].len = buf_left(&udp);
	out[*n].p = malloc(out[*n].len);
	if (!out[*n].p || buf_get_bytes(&udp, out[*n].p, out[*n].len)) {
		free(out[*n].p);
		return;
	}
	addr_from_bytes(&out[*n].src, a, 4);
	addr_from_bytes(&out[*n].dst, b, 4);
	out[*n].sport = sport;
	out[*n].dport = dport;
	(*n)++;
}

int pcap_read_ike(const char *relpath, struct pcap_ike *out, size_t max)
{
	size_t flen = 0, n = 0;
	char *file = charonlog_slurp(relpath, &flen);
	struct buf b, frame;
	uint32_t magic, linktype, incl, skip;
	int le;

	if (!file)
		return -1;
	buf_init(&b, file, flen);
	if (buf_get_u32(&b, &magic) ||
	    (magic != 0xd4c3b2a1 && magic != 0xa1b2c3d4))
		goto bad;
	le = magic == 0xd4c3b2a1;
	/* version, thiszone, sigfigs, snaplen; then the link type */
	if (buf_skip(&b, 16) || get_u32_order(&b, le, &linktype) ||
	    linktype != 1)
		goto bad;
	while (buf_left(&b) >= 16) {
		/* ts_sec, ts_usec, incl_len, orig_len */
		if (get_u32_order(&b, le, &skip) ||
		    get_u32_order(&b, le, &skip) ||
		    get_u32_order(&b, le, &incl) ||
		    get_u32_order(&b, le, &skip) ||
		    buf_get_sub(&b, &frame, incl))
			goto bad;
		take_frame(&frame, out, max, &n);
	}
	free(file);
	return (int)n;
bad:
	while (n > 0)
		free(out[--n].p);
	free(file);
	return -1;
}
