/* SPDX-License-Identifier: MIT */
/* Certificate settings of a connection and DN identities (ike_pki.h). */
#include "ike/ike_pki.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "ike/cert.h"

int ike_pki_new(struct ike_pki **out)
{
	struct ike_pki *p = calloc(1, sizeof(*p));

	*out = p;
	if (!p)
		return ERR_NOMEM;
	p->refs = 1;
	p->send_cert = IKE_SEND_CERT_ALWAYS;
	return 0;
}

struct ike_pki *ike_pki_ref(struct ike_pki *p)
{
	if (p)
		p->refs++;
	return p;
}

void ike_pki_unref(struct ike_pki *p)
{
	if (!p || --p->refs)
		return;
	cert_local_free(p->local);
	cert_store_free(p->store);
	free(p);
}

bool ike_pki_uses_psk(const struct ike_pki *p)
{
	return !p || p->local_auth == IKE_AUTHK_PSK ||
	       p->remote_auth == IKE_AUTHK_PSK;
}

/* strongSwan's attribute names that OpenSSL spells otherwise. */
static const char *dn_attr(const char *k)
{
	static const struct {
		const char *ss, *ossl;
	} alias[] = {
		{"E", "emailAddress"},
		{"email", "emailAddress"},
		{"S", "ST"},
		{"N", "name"},
		{"G", "GN"},
		{"I", "initials"},
		{"T", "title"},
		{"ID", "x500UniqueIdentifier"},
		{"SERIALNUMBER", "serialNumber"},
	};
	size_t i;

	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcasecmp(k, alias[i].ss))
			return alias[i].ossl;
	return k;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int dn_hex(const char *s, uint8_t *der, size_t max, size_t *len,
		  const char **why)
{
	size_t n = strlen(s), i;
	const uint8_t *p = der;
	X509_NAME *nm;

	if (!n || n % 2 || n / 2 > max) {
		*why = "needs an even number of hex digits (a DER Name)";
		return ERR_INVAL;
	}
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			*why = "has a character that is not a hex digit";
			return ERR_INVAL;
		}
		der[i] = (uint8_t)(hi << 4 | lo);
	}
	nm = d2i_X509_NAME(NULL, &p, (long)(n / 2));
	X509_NAME_free(nm);
	if (!nm || p != der + n / 2) {
		*why = "is not the DER of a distinguished name";
		return ERR_INVAL;
	}
	*len = n / 2;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int ike_dn_parse(const char *s, uint8_t *der, size_t max, size_t *len,
		 const char **why)
{
	X509_NAME *nm = NULL;
	char *copy = NULL, *p, *rdn, *eq, *save = NULL;
	const char *sep = ",";
	unsigned char *q;
	int r = ERR_INVAL, n;

	*why = "is not a distinguished name like \"C=CH, O=example, "
	       "CN=gw-a\"";
	if (!strncasecmp(s, "asn1dn:", 7)) {
		s += 7;
		if (s[0] == '#')
			return dn_hex(s + 1, der, max, len, why);
	}
	copy = strdup(s);
	nm = X509_NAME_new();
	if (!copy || !nm) {
		*why = "(out of memory)";
		r = ERR_NOMEM;
		goto out;
	}
	p = trim(copy);
	/* "/C=CH/O=example/CN=gw-a", OpenSSL's one-line form. */
	if (p[0] == '/') {
		sep = "/";
		p++;
	}
	for (rdn = strtok_r(p, sep, &save); rdn;
	     rdn = strtok_r(NULL, sep, &save)) {
		eq = strchr(rdn, '=');
		if (!eq)
			goto out;
		*eq = 0;
		rdn = trim(rdn);
		eq = trim(eq + 1);
		if (!*rdn || !*eq)
			goto out;
		/* "cn=x" as well as "CN=x": OpenSSL's short names are
		 * upper case. */
		if (OBJ_txt2nid(dn_attr(rdn)) == NID_undef) {
			char *u;

			for (u = rdn; *u; u++)
				*u = (char)toupper((unsigned char)*u);
		}
		if (OBJ_txt2nid(dn_attr(rdn)) == NID_undef) {
			*why = "has an attribute name that is not known (use "
			       "C, ST, L, O, OU, CN, E, serialNumber, DC, "
			       "UID)";
			goto out;
		}
		if (!X509_NAME_add_entry_by_txt(nm, dn_attr(rdn), MBSTRING_UTF8,
						(unsigned char *)eq, -1, -1,
						0)) {
			*why = "has a value that does not fit its attribute "
			       "(C= takes two letters)";
			goto out;
		}
	}
	if (X509_NAME_entry_count(nm) == 0)
		goto out;
	n = i2d_X509_NAME(nm, NULL);
	if (n <= 0 || (size_t)n > max) {
		*why = "is too long for an identity (255 octets of DER)";
		goto out;
	}
	q = der;
	i2d_X509_NAME(nm, &q);
	*len = (size_t)n;
	*why = NULL;
	r = 0;
out:
	X509_NAME_free(nm);
	free(copy);
	return r;
}

static X509_NAME *dn_from(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	X509_NAME *nm = d2i_X509_NAME(NULL, &p, (long)len);

	if (nm && p != der + len) {
		X509_NAME_free(nm);
		nm = NULL;
	}
	return nm;
}

bool ike_dn_equal(const uint8_t *a, size_t a_len, const uint8_t *b,
		  size_t b_len)
{
	X509_NAME *x = dn_from(a, a_len), *y = dn_from(b, b_len);
	bool eq = x && y && X509_NAME_cmp(x, y) == 0;

	X509_NAME_free(x);
	X509_NAME_free(y);
	return eq;
}

const char *ike_dn_str(const uint8_t *der, size_t len, char *out, size_t n)
{
	X509_NAME *nm = dn_from(der, len);
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long l;

	if (n)
		out[0] = 0;
	if (nm && bio && n &&
	    X509_NAME_print_ex(bio, nm, 0,
			       XN_FLAG_SEP_CPLUS_SPC |
				       (ASN1_STRFLGS_RFC2253 &
					~ASN1_STRFLGS_ESC_MSB)) >= 0) {
		l = BIO_get_mem_data(bio, &p);
		if (l < 0)
			l = 0;
		if ((size_t)l >= n)
			l = (long)n - 1;
		memcpy(out, p, (size_t)l);
		out[l] = 0;
	} else if (n) {
		snprintf(out, n, "(a DN that does not parse)");
	}
	BIO_free(bio);
	X509_NAME_free(nm);
	return out;
}
