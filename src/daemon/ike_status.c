/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl status for the IKE manager: the entries of the "ike_sas"
 * array, as docs/ctl.md specifies them.
 */
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "ctl/json.h"
#include "daemon/daemon.h"
#include "daemon/ike_impl.h"
#include "ike/ike_pki.h"
#include "ike/ike_sa.h"
#include "ike/ikev2_wire.h"

static void json_spi(struct json *j, const char *key, const uint8_t *spi)
{
	char s[IKE_SPI_STRLEN];

	json_kv_str(j, key, ike_spi_fmt(spi, s));
}

static void json_id(struct json *j, const char *key, const struct ike_id *id,
		    const struct ip_addr *dflt)
{
	char s[IKE_ID_MAX + 8], dn[2 * IKE_ID_MAX + 8];
	struct ip_addr a;
	size_t i, k;

	if (!id->type) {
		if (dflt && dflt->af)
			json_kv_str(j, key, addr_fmt(dflt, s, sizeof(s)));
		else
			json_kv_str(j, key, "%any");
		return;
	}
	memset(&a, 0, sizeof(a));
	if (id->type == IKEV2_ID_DER_ASN1_DN) {
		/* RFC 7296 §3.5: DER, shown as "CN=gw-a, O=example"
		 * (the syntax of local_id/remote_id). */
		json_kv_str(j, key, ike_dn_str(id->data, id->len, dn,
					       sizeof(dn)));
	} else if (id->type == IKEV2_ID_KEY_ID) {
		/* Opaque octets, shown as docs/ike.md writes them. */
		k = snprintf(dn, sizeof(dn), "keyid:#");
		for (i = 0; i < id->len && k + 3 <= sizeof(dn); i++)
			k += (size_t)snprintf(dn + k, sizeof(dn) - k, "%02x",
					      id->data[i]);
		json_kv_str(j, key, dn);
	} else if ((id->type == IKEV2_ID_IPV4_ADDR && id->len == 4) ||
	    (id->type == IKEV2_ID_IPV6_ADDR && id->len == 16)) {
		a.af = id->len == 4 ? AF_INET : AF_INET6;
		memcpy(a.u.b, id->data, id->len);
		json_kv_str(j, key, addr_fmt(&a, s, sizeof(s)));
	} else {
		json_key(j, key);
		json_strn(j, (const char *)id->data, id->len);
	}
}

static void json_ts(struct json *j, const char *key, const struct ts_sel *t,
		    uint8_t n)
{
	char pb[PREFIX_STRLEN];
	uint8_t i;

	json_kv_arr(j, key);
	for (i = 0; i < n; i++)
		json_str(j, prefix_fmt(&t[i].net, pb, sizeof(pb)));
	json_arr_end(j);
}

static void json_child(struct ike_ent *e, const struct ike_kid *k,
		       struct json *j, uint64_t now)
{
	struct daemon *d = e->m->d;
	const struct sa_params *in = &k->in, *out = &k->out;
	struct sa_stats si, so;
	char b[64];

	memset(&si, 0, sizeof(si));
	memset(&so, 0, sizeof(so));
	d->ops->get_stats(d->dp, IPSEC_PROTO_ESP, in->spi, SA_DIR_IN, &si);
	/* A rekey responder's new outbound SA may not be in use yet. */
	if (k->out_installed && !k->out_replaced)
		d->ops->get_stats(d->dp, IPSEC_PROTO_ESP, out->spi, SA_DIR_OUT,
				  &so);
	json_obj_begin(j);
	json_kv_str(j, "name", k->name);
	json_kv_str(j, "mode",
		    in->mode == IPSEC_MODE_TRANSPORT ? "transport" : "tunnel");
	json_kv_str(j, "proto", "esp");
	if (out->encap_dport) {
		snprintf(b, sizeof(b), "udp/%u", out->encap_dport);
		json_kv_str(j, "encap", b);
	} else {
		json_kv_str(j, "encap", "none");
	}
	snprintf(b, sizeof(b), "0x%08x", in->spi);
	json_kv_str(j, "spi_in", b);
	snprintf(b, sizeof(b), "0x%08x", out->spi);
	json_kv_str(j, "spi_out", b);
	snprintf(b, sizeof(b), "%s%s%s", in->encr ? in->encr->name : "?",
		 in->integ ? "-" : "", in->integ ? in->integ->name : "");
	json_kv_str(j, "algorithms", b);
	json_ts(j, "local_ts", out->ts_local, out->n_ts_local);
	json_ts(j, "remote_ts", out->ts_remote, out->n_ts_remote);
	json_kv_u64(j, "bytes_in", si.bytes);
	json_kv_u64(j, "bytes_out", so.bytes);
	json_kv_u64(j, "packets_in", si.packets);
	json_kv_u64(j, "packets_out", so.packets);
	json_kv_u64(j, "replay_drops", si.replay_drops);
	json_kv_u64(j, "auth_fails", si.auth_fails);
	json_kv_u64(j, "age_s", now - k->added);
	/* Lifetimes (ike_life.c); null when none is running (a pair
	 * replaced by a rekey waits for its Delete). */
	json_key(j, "rekey_in_s");
	if (k->rekey_at)
		json_u64(j, k->rekey_at > now ? k->rekey_at - now : 0);
	else
		json_null(j);
	json_key(j, "expire_in_s");
	if (k->expire_at)
		json_u64(j, k->expire_at > now ? k->expire_at - now : 0);
	else
		json_null(j);
	json_kv_u64(j, "rekeys", k->rekeys);
	json_obj_end(j);
}

/* Short names of the IKEv2 Authentication Methods registry (RFC 7296
 * §3.8, RFC 4754 §3, RFC 7427 §3, RFC 7619 §2). */
static const char *auth_method_name(uint8_t m)
{
	switch (m) {
	case IKEV2_AUTH_RSA_SIG:
		return "rsa-sig";
	case IKEV2_AUTH_PSK:
		return "psk";
	case IKEV2_AUTH_DSS_SIG:
		return "dss-sig";
	case IKEV2_AUTH_ECDSA_256:
		return "ecdsa-256";
	case IKEV2_AUTH_ECDSA_384:
		return "ecdsa-384";
	case IKEV2_AUTH_ECDSA_521:
		return "ecdsa-521";
	case IKEV2_AUTH_GSPM:
		return "gspm";
	case IKEV2_AUTH_NULL:
		return "null";
	case IKEV2_AUTH_DIGITAL_SIG:
		return "digital-signature";
	}
	return "unknown";
}

static void json_opt_str(struct json *j, const char *key, const char *s)
{
	json_kv_str(j, key, s[0] ? s : NULL);
}

/* How one side authenticated (docs/ctl.md); null before IKE_AUTH. */
static void json_auth(struct json *j, const char *key,
		      const struct ike_auth_info *ai)
{
	json_key(j, key);
	if (!ai->method) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_u64(j, "method", ai->method);
	json_kv_str(j, "method_name", auth_method_name(ai->method));
	json_opt_str(j, "key", ai->key);
	json_opt_str(j, "signature", ai->sig);
	json_opt_str(j, "cert_subject", ai->subject);
	json_opt_str(j, "cert_serial", ai->serial);
	json_obj_end(j);
}

static const char *state_str(const struct ike_ent *e)
{
	if (e->dead_at)
		return "DELETING";
	switch (e->sa->state) {
	case IKE_S_ESTABLISHED:
		return "ESTABLISHED";
	case IKE_S_FAILED:
		return "FAILED";
	default:
		return "CONNECTING";
	}
}

void ike_mgr_status(struct ike_mgr *m, struct json *j, uint64_t now)
{
	struct conn_set *cs;
	struct ike_ent *e;
	char ab[ADDR_STRLEN], alg[128];
	size_t i, k;

	if (!m)
		return;
	cs = m->d->conns;
	/* Configuration order (docs/ctl.md). */
	for (i = 0; i < cs->n; i++)
		for (e = m->ents; e; e = e->next) {
			const struct ike_sa *sa = e->sa;

			if (e->conn != &cs->conns[i])
				continue;
			json_obj_begin(j);
			json_kv_str(j, "name", e->conn->name);
			json_kv_str(j, "state", state_str(e));
			json_kv_str(j, "local",
				    addr_fmt(&sa->local, ab, sizeof(ab)));
			json_kv_str(j, "remote",
				    addr_fmt(&sa->remote, ab, sizeof(ab)));
			json_id(j, "local_id", &e->conn->ike.local_id,
				&e->conn->ike.local_addr);
			json_id(j, "remote_id", &e->conn->ike.remote_id, NULL);
			json_spi(j, "spi_i", sa->spi_i);
			json_spi(j, "spi_r", sa->spi_r);
			if (sa->ike.encr)
				ike_algs_fmt(&sa->ike, alg, sizeof(alg));
			else
				snprintf(alg, sizeof(alg), "-");
			json_kv_str(j, "algorithms", alg);
			json_kv_u64(j, "established_s",
				    e->established ? now - e->established : 0);
			/* Reauthentication (ike_life.c); null when not
			 * ours to start or not established. */
			json_key(j, "rekey_in_s");
			if (e->rekey_at && !e->dead_at && !e->reauth_started)
				json_u64(j, e->rekey_at > now
						    ? e->rekey_at - now
						    : 0);
			else
				json_null(j);
			json_key(j, "expire_in_s");
			if (e->expire_at && !e->dead_at)
				json_u64(j, e->expire_at > now
						    ? e->expire_at - now
						    : 0);
			else
				json_null(j);
			json_kv_u64(j, "rekeys", e->rekeys);
			json_kv_arr(j, "child_sas");
			for (k = 0; k < IKE_KIDS_MAX; k++)
				if (e->kids[k].used && !e->kids[k].lingering)
					json_child(e, &e->kids[k], j, now);
			json_arr_end(j);
			/* Added after child_sas: docs/ctl.md only lets
			 * new keys come at the end. */
			json_auth(j, "local_auth", &sa->auth_local);
			json_auth(j, "remote_auth", &sa->auth_remote);
			if (sa->peer_id.type) {
				json_id(j, "peer_id", &sa->peer_id, NULL);
			} else {
				json_key(j, "peer_id");
				json_null(j);
			}
			json_obj_end(j);
		}
}
