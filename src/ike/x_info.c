/* SPDX-License-Identifier: MIT */
/*
 * The INFORMATIONAL exchange, RFC 7296 §1.4:
 *   HDR, SK {[N], [D], [CP], ...}  -->
 *                    <--  HDR, SK {[N], [D], [CP], ...}
 * Deletes of the IKE SA and of Child SAs in both roles (§1.4.1), empty
 * requests as liveness checks (§2.4), and the AUTHENTICATION_FAILED
 * notify an initiator sends after IKE_AUTH (§2.21.2).
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/ike_sa.h"

/* A Child SA found by the SPI the peer receives on (our outbound). */
static struct ike_child *find_out(const struct ike_sa *sa, uint32_t spi)
{
	size_t i;

	for (i = 0; i < IKE_CHILD_SLOTS; i++) {
		struct ike_child *c = sa->child[i];

		/* Before the answer we do not know the peer's SPI. */
		if (c && c->state != IKE_CHILD_QUEUED &&
		    c->state != IKE_CHILD_CREATING && c->spi_out == spi)
			return c;
	}
	return NULL;
}

/* Both directions of c are gone: tell the caller, free it. */
static void child_gone(struct ike_sa *sa, struct ike_child *c)
{
	struct ike_child *n;
	size_t i;

	/* The successor's outbound SA first, so that the old one's
	 * removal never leaves the connection without an outbound SA. */
	for (i = 0; i < IKE_CHILD_SLOTS; i++) {
		n = sa->child[i];
		if (!n || n == c || n->rekeyed_from != c->spi_in)
			continue;
		if (n->state == IKE_CHILD_QUEUED) {
			/* A rekey of ours not sent yet: nothing to rekey. */
			ike_child_remove(sa, n);
		} else if (n->out_pending) {
			/* §2.8: the rekey initiator deleted the old pair, so
			 * it has installed the new inbound SA: our new
			 * outbound SA may carry traffic now. */
			n->out_installed = true;
			ike_child_event(sa, IKE_CHILD_UP_OUT, n, NULL,
					n->out_pending);
			crypto_wipe(n->out_pending, sizeof(*n->out_pending));
			free(n->out_pending);
			n->out_pending = NULL;
		}
	}
	ike_child_event(sa, IKE_CHILD_DOWN, c, NULL, NULL);
	ike_child_remove(sa, c);
}

/* ---- responder ---- */

struct info_resp {
	size_t n;
	uint8_t spis[4 * IKE_CHILD_SLOTS];
};

static int fill_info_resp(struct ike_sa *sa, struct ikev2_builder *b, void *arg)
{
	struct info_resp *p = arg;

	(void)sa;
	/* §1.4.1: the Delete of our half of each pair the peer deleted. */
	if (!p->n)
		return 0;
	return ikev2_add_delete(b, IKEV2_PROTO_ESP, 4, p->spis, p->n);
}

/* The ESP SPIs of one Delete payload. */
static void delete_children(struct ike_sa *sa, const struct ikev2_delete *d,
			    struct info_resp *p)
{
	struct ike_child *c;
	uint32_t spi;
	uint16_t k;

	if (d->protocol != IKEV2_PROTO_ESP || d->spi_size != 4) {
		/* AH is not negotiated by us; nothing to delete. */
		log_dbg(LS_IKE,
			"INFORMATIONAL: Delete for protocol %u "
			"ignored",
			d->protocol);
		return;
	}
	for (k = 0; k < d->count; k++) {
		spi = be32_load(d->spis + 4 * k);
		c = find_out(sa, spi);
		if (!c) {
			/* §1.4.1: harmless (it may have crossed ours). */
			log_dbg(LS_IKE,
				"INFORMATIONAL: Delete of unknown SPI "
				"%08x ignored",
				spi);
			continue;
		}
		ike_sa_peer_log("Child SA deleted by the peer: in SPI %08x, "
				"out SPI %08x",
				c->spi_in, c->spi_out);
		/* §1.4.1: when both ends deleted it at once, the answer
		 * does not name it again. */
		if (c->state != IKE_CHILD_DELETING && p->n < IKE_CHILD_SLOTS) {
			be32_store(p->spis + 4 * p->n, c->spi_in);
			p->n++;
		}
		child_gone(sa, c);
	}
}

int ike_info_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			  uint32_t id, struct ike_tx *tx)
{
	const struct ikev2_payload *pl;
	struct info_resp p = {0};
	struct ikev2_delete d;
	struct ikev2_notify n;
	size_t from = 0;

	sa->next_peer_id = id + 1;
	/* §2.21.2: the initiator did not accept our AUTH. */
	if (ikev2_msg_notify(inner, IKEV2_N_AUTHENTICATION_FAILED, &n))
		ike_sa_fail(sa, IKEV2_N_AUTHENTICATION_FAILED,
			    "initiator: AUTHENTICATION_FAILED");
	while ((pl = ikev2_msg_next(inner, IKEV2_PL_DELETE, &from))) {
		if (ikev2_decode_delete(pl, &d) < 0)
			continue;
		/* §1.4.1: a Delete of the IKE SA ends it and its Child
		 * SAs; the caller tears down after sending the (empty)
		 * response. */
		if (d.protocol == IKEV2_PROTO_IKE)
			sa->peer_deleted = true;
		else
			delete_children(sa, &d, &p);
	}
	if (sa->peer_deleted)
		p.n = 0;
	/* An empty response acknowledges (liveness check, §2.4). */
	return ike_sa_send_sk(sa, tx, IKEV2_EXCH_INFORMATIONAL, true, id,
			      fill_info_resp, &p);
}

/* ---- initiator ---- */

static int fill_delete_child(struct ike_sa *sa, struct ikev2_builder *b,
			     void *arg)
{
	uint8_t spi[4];

	(void)sa;
	/* §3.11: the SPI the peer uses to send to us. */
	be32_store(spi, *(const uint32_t *)arg);
	return ikev2_add_delete(b, IKEV2_PROTO_ESP, 4, spi, 1);
}

int ike_info_send_request(struct ike_sa *sa, uint8_t kind, uint32_t spi,
			  struct ike_tx *tx)
{
	struct ike_child *c;
	int r;

	if (kind == IKE_REQ_LIVENESS)
		return ike_sa_send_req(sa, tx, IKEV2_EXCH_INFORMATIONAL, kind,
				       0, NULL, NULL);
	if (kind != IKE_REQ_DELETE)
		return ERR_INVAL;
	/* A Child SA that is already gone is still named: the peer may
	 * have made it (x_child.c, a bad answer), and a Delete of an SPI
	 * it does not know is harmless (§1.4.1). */
	c = ike_sa_child_find(sa, spi);
	r = ike_sa_send_req(sa, tx, IKEV2_EXCH_INFORMATIONAL, kind, spi,
			    fill_delete_child, &spi);
	if (r < 0)
		log_warn(LS_IKE, "INFORMATIONAL: cannot build a Delete: %s",
			 err_str(r));
	else if (c)
		c->state = IKE_CHILD_DELETING;
	return r;
}

int ike_info_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			   struct ike_tx *tx)
{
	struct ike_child *c;

	(void)inner;
	(void)tx;
	switch (sa->cur_kind) {
	case IKE_REQ_LIVENESS:
		/* §2.4: the peer is alive. */
		sa->alive_acks++;
		break;
	case IKE_REQ_DELETE:
		/* §1.4.1: the peer closed its half (its Delete payload
		 * names it); now our inbound SA goes too. */
		c = ike_sa_child_find(sa, sa->cur_spi);
		if (c && c->state == IKE_CHILD_DELETING)
			child_gone(sa, c);
		break;
	default:
		break;
	}
	return 0;
}

int ike_sa_child_delete(struct ike_sa *sa, uint32_t spi_in, struct ike_tx *tx)
{
	struct ike_child *c = ike_sa_child_find(sa, spi_in);
	int r;

	if (!c)
		return ERR_NOTFOUND;
	if (c->state == IKE_CHILD_QUEUED) {
		/* Never sent: forget it (its queue entry is skipped). */
		ike_child_remove(sa, c);
		return 0;
	}
	if (c->state == IKE_CHILD_CREATING || c->state == IKE_CHILD_DELETING)
		return ERR_EXISTS;
	if (sa->state != IKE_S_ESTABLISHED)
		return ERR_INVAL;
	r = ike_sa_enqueue(sa, IKE_REQ_DELETE, spi_in, false);
	if (r == 0)
		r = ike_sa_kick(sa, tx);
	return r;
}

int ike_sa_liveness(struct ike_sa *sa, struct ike_tx *tx)
{
	int r;

	if (sa->state != IKE_S_ESTABLISHED)
		return ERR_INVAL;
	r = ike_sa_enqueue(sa, IKE_REQ_LIVENESS, 0, false);
	if (r == 0)
		r = ike_sa_kick(sa, tx);
	return r;
}

static int fill_delete(struct ike_sa *sa, struct ikev2_builder *b, void *arg)
{
	(void)sa;
	(void)arg;
	/* §3.11: the IKE SA is named by the header's SPIs (no SPI here). */
	return ikev2_add_delete(b, IKEV2_PROTO_IKE, 0, NULL, 0);
}

int ike_sa_delete(struct ike_sa *sa, struct ike_tx *tx)
{
	int r;

	if (sa->state != IKE_S_ESTABLISHED || !sa->sk)
		return ERR_INVAL;
	/* §1.4.1: an INFORMATIONAL request with a Delete payload.  The
	 * IKE SA ends now, so it does not wait for the window. */
	r = ike_sa_send_sk(sa, tx, IKEV2_EXCH_INFORMATIONAL, false,
			   sa->next_req_id, fill_delete, NULL);
	if (r == 0) {
		sa->next_req_id++;
		sa->req_out = true;
		sa->req_exch = IKEV2_EXCH_INFORMATIONAL;
		sa->cur_kind = IKE_REQ_DELETE_IKE;
		sa->cur_spi = 0;
	}
	return r;
}
