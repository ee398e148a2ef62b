// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
)

// Crypto profile constants (fitconnect.md §5).
const (
	// KeyAlgorithm is the only JWE key management algorithm accepted.
	KeyAlgorithm = jose.RSA_OAEP_256
	// ContentEncryption is the only JWE content encryption accepted.
	ContentEncryption = jose.A256GCM
	// SignatureAlgorithm is the only JWS algorithm accepted (SETs, keys).
	SignatureAlgorithm = jose.PS512
	// MinRSABits is the minimum RSA modulus size of every key.
	MinRSABits = 4096
	// ContentTypeJOSE is the media type of compact JWE/JWS bodies.
	ContentTypeJOSE = "application/jose"
)

// KeyUse says what a destination key is for.
type KeyUse string

// Key uses of FIT-Connect keys.
const (
	// UseEncryption is a key to encrypt submissions to (key_ops wrapKey, RSA-OAEP-256).
	UseEncryption KeyUse = "enc"
	// UseSignature is a key to verify a destination's SETs (key_ops verify, PS512).
	UseSignature KeyUse = "sig"
)

// Key is a JWK as FIT-Connect publishes it: go-jose's JSONWebKey plus the
// key_ops member, which go-jose does not model.
type Key struct {
	jose.JSONWebKey
	KeyOps []string
}

// MarshalJSON encodes the key with its key_ops.
func (k Key) MarshalJSON() ([]byte, error) {
	b, err := k.JSONWebKey.MarshalJSON()
	if err != nil || len(k.KeyOps) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	ops, _ := json.Marshal(k.KeyOps)
	m["key_ops"] = ops
	return json.Marshal(m)
}

// UnmarshalJSON decodes a key including private members. Use ParsePublicKey
// for untrusted input.
func (k *Key) UnmarshalJSON(b []byte) error {
	var ops struct {
		KeyOps []string `json:"key_ops"`
	}
	if err := json.Unmarshal(b, &ops); err != nil {
		return err
	}
	if err := k.JSONWebKey.UnmarshalJSON(b); err != nil {
		return err
	}
	k.KeyOps = ops.KeyOps
	return nil
}

// Public returns the public half of k with the same kid, alg, use, key_ops
// and certificate chain.
func (k *Key) Public() *Key {
	return &Key{JSONWebKey: k.JSONWebKey.Public(), KeyOps: slices.Clone(k.KeyOps)}
}

// ParsePublicKey parses a JWK from untrusted input and refuses private key
// material. It does not check the profile; call CheckKey for that.
func ParsePublicKey(b []byte) (*Key, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "jwk: not a JSON object: %v", err)
	}
	for _, p := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "priv"} {
		if _, ok := raw[p]; ok {
			return nil, rathaus.Errorf(rathaus.EINVALID, "jwk: contains private member %q", p)
		}
	}
	var k Key
	if err := k.UnmarshalJSON(b); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "jwk: %v", err)
	}
	return &k, nil
}

// KeyCheck configures CheckKey.
type KeyCheck struct {
	// Roots are the trust anchors the x5c chain must lead to (Verwaltungs-PKI
	// in production, a test CA in TEST). Required.
	Roots *x509.CertPool
	// Now is the time for certificate validity; zero means time.Now().
	Now time.Time
}

// CheckKey reports whether the public key k may be used for use under the
// FIT-Connect profile: RSA with at least 4096 bits and e = 65537, kid of
// 8–64 characters, alg and key_ops (and use, if present) matching use, and
// an x5c chain whose leaf carries this very key and which verifies against
// c.Roots. Errors are EINVALID with the reason.
func CheckKey(k *Key, use KeyUse, c KeyCheck) error {
	if k == nil {
		return rathaus.Errorf(rathaus.EINVALID, "jwk: missing")
	}
	pub, ok := k.Key.(*rsa.PublicKey)
	if !ok {
		if _, priv := k.Key.(*rsa.PrivateKey); priv {
			return rathaus.Errorf(rathaus.EINVALID, "jwk %s: private key where a public key is expected", k.KeyID)
		}
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: kty must be RSA", k.KeyID)
	}
	if n := len(k.KeyID); n < 8 || n > 64 {
		return rathaus.Errorf(rathaus.EINVALID, "jwk: kid must have 8 to 64 characters, has %d", n)
	}
	if bits := pub.N.BitLen(); bits < MinRSABits {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: RSA key has %d bits, at least %d required", k.KeyID, bits, MinRSABits)
	}
	if pub.E != 65537 {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: RSA exponent must be AQAB (65537)", k.KeyID)
	}
	wantAlg, wantOp, wantUse := string(KeyAlgorithm), "wrapKey", "enc"
	if use == UseSignature {
		wantAlg, wantOp, wantUse = string(SignatureAlgorithm), "verify", "sig"
	}
	if k.Algorithm != wantAlg {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: alg must be %s, is %q", k.KeyID, wantAlg, k.Algorithm)
	}
	if len(k.KeyOps) != 1 || k.KeyOps[0] != wantOp {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: key_ops must be [%q], is %q", k.KeyID, wantOp, k.KeyOps)
	}
	if k.Use != "" && k.Use != wantUse {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: use must be %q, is %q", k.KeyID, wantUse, k.Use)
	}
	return checkChain(k, pub, use, c)
}

func checkChain(k *Key, pub *rsa.PublicKey, use KeyUse, c KeyCheck) error {
	if len(k.Certificates) == 0 {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: x5c certificate chain missing", k.KeyID)
	}
	if c.Roots == nil {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: no trust roots configured to check the x5c chain", k.KeyID)
	}
	leaf := k.Certificates[0]
	if lp, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || !lp.Equal(pub) {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: x5c leaf certificate does not carry this key", k.KeyID)
	}
	if leaf.KeyUsage != 0 {
		need := x509.KeyUsageKeyEncipherment
		if use == UseSignature {
			need = x509.KeyUsageDigitalSignature
		}
		if leaf.KeyUsage&need == 0 {
			return rathaus.Errorf(rathaus.EINVALID, "jwk %s: x5c leaf certificate key usage does not allow %s", k.KeyID, use)
		}
	}
	inter := x509.NewCertPool()
	for _, ic := range k.Certificates[1:] {
		inter.AddCert(ic)
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         c.Roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "jwk %s: x5c chain does not verify against the trust roots: %v", k.KeyID, err)
	}
	return nil
}

// rsaPublic returns the RSA public key behind a JWK holding a public or
// private RSA key.
func rsaPublic(k *jose.JSONWebKey) (*rsa.PublicKey, bool) {
	switch v := k.Key.(type) {
	case *rsa.PublicKey:
		return v, true
	case *rsa.PrivateKey:
		return &v.PublicKey, true
	}
	return nil, false
}

// EncryptJWE encrypts plaintext to the RSA public key as a compact JWE with
// alg RSA-OAEP-256, enc A256GCM, the key's kid and the given cty in the
// protected header, and no compression. The key must be RSA ≥ 4096 bits with
// a kid; checking its certificate chain is the caller's job (CheckKey).
func EncryptJWE(plaintext []byte, key *jose.JSONWebKey, cty string) (string, error) {
	if key == nil {
		return "", rathaus.Errorf(rathaus.EINVALID, "jwe: no encryption key")
	}
	pub, ok := rsaPublic(key)
	if !ok {
		return "", rathaus.Errorf(rathaus.EINVALID, "jwe: encryption key %s is not RSA", key.KeyID)
	}
	if pub.N.BitLen() < MinRSABits {
		return "", rathaus.Errorf(rathaus.EINVALID, "jwe: encryption key %s has %d bits, at least %d required", key.KeyID, pub.N.BitLen(), MinRSABits)
	}
	if key.KeyID == "" {
		return "", rathaus.Errorf(rathaus.EINVALID, "jwe: encryption key has no kid")
	}
	if key.Algorithm != "" && key.Algorithm != string(KeyAlgorithm) {
		return "", rathaus.Errorf(rathaus.EINVALID, "jwe: encryption key %s has alg %s, want %s", key.KeyID, key.Algorithm, KeyAlgorithm)
	}
	if cty == "" {
		return "", rathaus.Errorf(rathaus.EINVALID, "jwe: cty is required")
	}
	enc, err := jose.NewEncrypter(ContentEncryption,
		jose.Recipient{Algorithm: KeyAlgorithm, Key: pub, KeyID: key.KeyID},
		(&jose.EncrypterOptions{}).WithContentType(jose.ContentType(cty)))
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "jwe: encrypter")
	}
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		return "", rathaus.Wrap(rathaus.EINTERNAL, err, "jwe: encrypt")
	}
	return obj.CompactSerialize()
}

// DecryptJWE decrypts a compact JWE with the RSA private key priv. Only
// RSA-OAEP-256 + A256GCM is accepted; the header must carry a kid (equal to
// priv's kid when priv has one) and a cty, and must not ask for
// compression. It returns the plaintext and the cty.
func DecryptJWE(token string, priv *jose.JSONWebKey) ([]byte, string, error) {
	if priv == nil {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: no decryption key")
	}
	if _, ok := priv.Key.(*rsa.PrivateKey); !ok {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: decryption key %s is not an RSA private key", priv.KeyID)
	}
	if strings.Count(token, ".") != 4 {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: not a compact JWE (want 5 dot-separated parts)")
	}
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{KeyAlgorithm}, []jose.ContentEncryption{ContentEncryption})
	if err != nil {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: %v", err)
	}
	h := obj.Header
	if h.KeyID == "" {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: header has no kid")
	}
	if priv.KeyID != "" && h.KeyID != priv.KeyID {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: encrypted for key %q, not for %q", h.KeyID, priv.KeyID)
	}
	if _, ok := h.ExtraHeaders[jose.HeaderKey("zip")]; ok {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: compression (zip) is not allowed")
	}
	cty, _ := h.ExtraHeaders[jose.HeaderContentType].(string)
	if cty == "" {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: header has no cty")
	}
	pt, err := obj.Decrypt(priv.Key)
	if err != nil {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "jwe: cannot decrypt: %v", err)
	}
	return pt, cty, nil
}

// JWEKeyID returns the kid of a compact JWE without decrypting it, after
// checking the algorithms.
func JWEKeyID(token string) (string, error) {
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{KeyAlgorithm}, []jose.ContentEncryption{ContentEncryption})
	if err != nil {
		return "", rathaus.Errorf(rathaus.EINVALID, "jwe: %v", err)
	}
	return obj.Header.KeyID, nil
}

// AuthTag returns the authentication tag of a compact JWE: its fifth
// dot-separated part, as FIT-Connect SETs carry it.
func AuthTag(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 5 || parts[4] == "" {
		return "", rathaus.Errorf(rathaus.EINVALID, "jwe: not a compact JWE (want 5 dot-separated parts)")
	}
	return parts[4], nil
}

// SHA512Hex returns the lowercase hex SHA-512 of b, the form of every hash in
// the metadata.
func SHA512Hex(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}
