// SPDX-License-Identifier: EUPL-1.2

package fitconnect_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
	"rathaus/fitconnect"
	"rathaus/fitconnect/fitconnecttest"
)

// fixture holds the keys every test shares; 4096-bit keys are made once.
type fixture struct {
	ca, rogue  *fitconnecttest.CA
	enc, sig   *fitconnecttest.KeyPair // destination keys
	service    *jose.JSONWebKey        // delivery service SET key
	weak       *fitconnecttest.KeyPair // 2048-bit encryption key
	rogueEnc   *fitconnecttest.KeyPair // chain to an unknown root
	serviceSet *jose.JSONWebKeySet
}

var (
	fixOnce sync.Once
	fix     fixture
)

func keys(tb testing.TB) *fixture {
	tb.Helper()
	fixOnce.Do(func() {
		var err error
		if fix.ca, err = fitconnecttest.NewCA("rathaus test"); err != nil {
			panic(err)
		}
		if fix.rogue, err = fitconnecttest.NewCA("rogue"); err != nil {
			panic(err)
		}
		fix.enc = fix.ca.MustIssue(fitconnecttest.RSAKey(4096, 1), fitconnect.UseEncryption, "enc-key-0001")
		fix.sig = fix.ca.MustIssue(fitconnecttest.RSAKey(4096, 2), fitconnect.UseSignature, "sig-key-0001")
		fix.service = fitconnecttest.ServiceKey(fitconnecttest.RSAKey(4096, 0), "zustelldienst-2026")
		fix.weak = fix.ca.MustIssue(fitconnecttest.RSAKey(2048, 0), fitconnect.UseEncryption, "weak-key-0001")
		fix.rogueEnc = fix.rogue.MustIssue(fitconnecttest.RSAKey(4096, 1), fitconnect.UseEncryption, "rogue-key-001")
		pub := fix.service.Public()
		fix.serviceSet = &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}}
	})
	return &fix
}

func wantCode(t *testing.T, err error, code, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s containing %q", code, substr)
	}
	if got := rathaus.ErrorCode(err); got != code {
		t.Errorf("code = %s, want %s (err: %v)", got, code, err)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Errorf("err = %q, want it to contain %q", err, substr)
	}
}

func TestJWERoundTrip(t *testing.T) {
	f := keys(t)
	plain := []byte(`{"antrag":"Wohngeld","betrag":"12,50 €"}`)
	tok, err := fitconnect.EncryptJWE(plain, &f.enc.Public.JSONWebKey, "application/json")
	if err != nil {
		t.Fatal(err)
	}
	hdrJSON, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var hdr map[string]any
	json.Unmarshal(hdrJSON, &hdr)
	for k, want := range map[string]any{"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "enc-key-0001", "cty": "application/json"} {
		if hdr[k] != want {
			t.Errorf("header %s = %v, want %v", k, hdr[k], want)
		}
	}
	if _, ok := hdr["zip"]; ok {
		t.Errorf("header has zip")
	}
	got, cty, err := fitconnect.DecryptJWE(tok, f.enc.Private)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) || cty != "application/json" {
		t.Errorf("DecryptJWE = %q, %q", got, cty)
	}
	tag, err := fitconnect.AuthTag(tok)
	if err != nil || tag != strings.Split(tok, ".")[4] || tag == "" {
		t.Errorf("AuthTag = %q, %v", tag, err)
	}
}

func TestEncryptJWERejects(t *testing.T) {
	f := keys(t)
	noKid := f.enc.Public.JSONWebKey
	noKid.KeyID = ""
	wrongAlg := f.enc.Public.JSONWebKey
	wrongAlg.Algorithm = "RSA1_5"
	for _, tc := range []struct {
		name string
		key  *jose.JSONWebKey
		cty  string
		want string
	}{
		{"Weak2048", &f.weak.Public.JSONWebKey, "application/json", "2048 bits"},
		{"NoKid", &noKid, "application/json", "no kid"},
		{"WrongAlg", &wrongAlg, "application/json", "alg RSA1_5"},
		{"NoCty", &f.enc.Public.JSONWebKey, "", "cty is required"},
		{"NotRSA", &jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "symmetric"}, "application/json", "not RSA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fitconnect.EncryptJWE([]byte("x"), tc.key, tc.cty)
			wantCode(t, err, rathaus.EINVALID, tc.want)
		})
	}
}

func TestDecryptJWERejects(t *testing.T) {
	f := keys(t)
	pub := f.enc.Public.Key
	encrypt := func(alg jose.KeyAlgorithm, enc jose.ContentEncryption, opts *jose.EncrypterOptions, kid string) string {
		t.Helper()
		e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: pub, KeyID: kid}, opts)
		if err != nil {
			t.Fatal(err)
		}
		o, err := e.Encrypt([]byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := o.CompactSerialize()
		return s
	}
	cty := (&jose.EncrypterOptions{}).WithContentType("application/json")
	good := encrypt(jose.RSA_OAEP_256, jose.A256GCM, cty, "enc-key-0001")
	parts := strings.Split(good, ".")
	flipped := []byte(parts[3])
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	tampered := strings.Join([]string{parts[0], parts[1], parts[2], string(flipped), parts[4]}, ".")
	zip := *cty
	zip.Compression = jose.DEFLATE
	for _, tc := range []struct {
		name, token, want string
	}{
		{"RSA1_5", encrypt(jose.RSA1_5, jose.A256GCM, cty, "enc-key-0001"), "unexpected key algorithm"},
		{"RSA-OAEP", encrypt(jose.RSA_OAEP, jose.A256GCM, cty, "enc-key-0001"), "unexpected key algorithm"},
		{"A128GCM", encrypt(jose.RSA_OAEP_256, jose.A128GCM, cty, "enc-key-0001"), "unexpected content encryption"},
		{"A256CBC-HS512", encrypt(jose.RSA_OAEP_256, jose.A256CBC_HS512, cty, "enc-key-0001"), "unexpected content encryption"},
		{"NoKid", encrypt(jose.RSA_OAEP_256, jose.A256GCM, cty, ""), "no kid"},
		{"OtherKid", encrypt(jose.RSA_OAEP_256, jose.A256GCM, cty, "someone-else"), "not for"},
		{"NoCty", encrypt(jose.RSA_OAEP_256, jose.A256GCM, nil, "enc-key-0001"), "no cty"},
		{"Zip", encrypt(jose.RSA_OAEP_256, jose.A256GCM, &zip, "enc-key-0001"), "zip"},
		{"Tampered", tampered, "cannot decrypt"},
		{"NotCompact", "a.b.c", "not a compact JWE"},
		{"Garbage", "....", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := fitconnect.DecryptJWE(tc.token, f.enc.Private)
			wantCode(t, err, rathaus.EINVALID, tc.want)
		})
	}
}

func TestCheckKey(t *testing.T) {
	f := keys(t)
	mod := func(k *fitconnect.Key, fn func(*fitconnect.Key)) *fitconnect.Key {
		c := *k
		c.KeyOps = append([]string(nil), k.KeyOps...)
		fn(&c)
		return &c
	}
	otherRoots := x509.NewCertPool()
	otherRoots.AddCert(f.rogue.Root)
	for _, tc := range []struct {
		name  string
		key   *fitconnect.Key
		use   fitconnect.KeyUse
		roots *x509.CertPool
		now   time.Time
		want  string // "" means valid
	}{
		{"EncryptionOK", f.enc.Public, fitconnect.UseEncryption, f.ca.Pool, time.Time{}, ""},
		{"SignatureOK", f.sig.Public, fitconnect.UseSignature, f.ca.Pool, time.Time{}, ""},
		{"Weak2048", f.weak.Public, fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "2048 bits, at least 4096"},
		{"WrongAlg", mod(f.enc.Public, func(k *fitconnect.Key) { k.Algorithm = "RSA-OAEP" }), fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "alg must be RSA-OAEP-256"},
		{"SigningKeyAsEncryption", f.sig.Public, fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "alg must be RSA-OAEP-256"},
		{"WrongKeyOps", mod(f.enc.Public, func(k *fitconnect.Key) { k.KeyOps = []string{"encrypt"} }), fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "key_ops"},
		{"WrongUse", mod(f.enc.Public, func(k *fitconnect.Key) { k.Use = "sig" }), fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "use must be"},
		{"NoKid", mod(f.enc.Public, func(k *fitconnect.Key) { k.KeyID = "" }), fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "kid must have 8 to 64"},
		{"NoChain", mod(f.enc.Public, func(k *fitconnect.Key) { k.Certificates = nil }), fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "x5c certificate chain missing"},
		{"ChainToUnknownRoot", f.rogueEnc.Public, fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "does not verify against the trust roots"},
		{"WrongTrustRoot", f.enc.Public, fitconnect.UseEncryption, otherRoots, time.Time{}, "does not verify against the trust roots"},
		{"NoTrustRoots", f.enc.Public, fitconnect.UseEncryption, nil, time.Time{}, "no trust roots"},
		{"LeafForOtherKey", mod(f.enc.Public, func(k *fitconnect.Key) { k.Certificates = f.sig.Public.Certificates }), fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "does not carry this key"},
		{"Expired", f.enc.Public, fitconnect.UseEncryption, f.ca.Pool, time.Now().AddDate(3, 0, 0), "does not verify"},
		{"PrivateKey", &fitconnect.Key{JSONWebKey: *f.enc.Private, KeyOps: []string{"wrapKey"}}, fitconnect.UseEncryption, f.ca.Pool, time.Time{}, "private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fitconnect.CheckKey(tc.key, tc.use, fitconnect.KeyCheck{Roots: tc.roots, Now: tc.now})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckKey = %v, want nil", err)
				}
				return
			}
			wantCode(t, err, rathaus.EINVALID, tc.want)
		})
	}
}

func TestKeyJSON(t *testing.T) {
	f := keys(t)
	b, err := json.Marshal(f.enc.Public)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.Unmarshal(b, &raw)
	if ops, _ := raw["key_ops"].([]any); len(ops) != 1 || ops[0] != "wrapKey" {
		t.Errorf("key_ops = %v", raw["key_ops"])
	}
	if x5c, _ := raw["x5c"].([]any); len(x5c) != 3 {
		t.Errorf("x5c has %d certificates, want 3", len(x5c))
	}
	if raw["e"] != "AQAB" || len(raw["n"].(string)) < 683 {
		t.Errorf("e = %v, len(n) = %d", raw["e"], len(raw["n"].(string)))
	}
	k, err := fitconnect.ParsePublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := fitconnect.CheckKey(k, fitconnect.UseEncryption, fitconnect.KeyCheck{Roots: f.ca.Pool}); err != nil {
		t.Errorf("parsed key: %v", err)
	}
	priv, _ := json.Marshal(fitconnect.Key{JSONWebKey: *f.enc.Private, KeyOps: []string{"wrapKey"}})
	_, err = fitconnect.ParsePublicKey(priv)
	wantCode(t, err, rathaus.EINVALID, "private member")
}

func newSET(event string) fitconnect.SET {
	return fitconnect.SET{
		Schema: fitconnect.SETPayloadSchema, ID: "4ac47caa-bce1-435a-b04f-3322b224b32e",
		Issuer: "https://zustelldienst.example", IssuedAt: time.Now().Add(-time.Second),
		Subject: "submission:02bf1d9f-282d-4abf-810a-c4104baf0afe", Txn: "case:452b5ee6-35df-441a-bd39-6141723cf914",
		Event: event,
	}
}

func TestSETRoundTrip(t *testing.T) {
	f := keys(t)
	claims := newSET(fitconnect.EventAcceptSubmission)
	claims.Payload.AuthenticationTags = &fitconnect.AuthenticationTags{Metadata: "XFBoMYUZodetZdvTiFvSkQ", Data: "UCGiqJxhBI3IFVdPalHHvA",
		Attachments: map[string]string{"0b799252-deb9-42b0-98d3-c50d24bbafe0": "rT99rwrBTbTI7IJM8fU3El"}}
	tok, err := fitconnect.SignSET(claims, f.service)
	if err != nil {
		t.Fatal(err)
	}
	hdrJSON, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var hdr map[string]any
	json.Unmarshal(hdrJSON, &hdr)
	if hdr["alg"] != "PS512" || hdr["typ"] != "secevent+jwt" || hdr["kid"] != "zustelldienst-2026" {
		t.Errorf("header = %v", hdr)
	}
	got, err := fitconnect.VerifySET(tok, f.serviceSet, fitconnect.VerifyOptions{Issuer: claims.Issuer, Subject: claims.Subject, Txn: claims.Txn, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got.Event != claims.Event || got.ID != claims.ID || got.IssuedAt.Unix() != claims.IssuedAt.Unix() || got.Schema != claims.Schema {
		t.Errorf("VerifySET = %+v", got)
	}
	if err := got.CheckAuthenticationTags(*claims.Payload.AuthenticationTags); err != nil {
		t.Error(err)
	}
	other := *claims.Payload.AuthenticationTags
	other.Data = "different"
	wantCode(t, got.CheckAuthenticationTags(other), rathaus.EINVALID, "authentication tag of data")
}

func TestSETWithoutPayloadHasNoSchema(t *testing.T) {
	f := keys(t)
	tok, err := fitconnect.SignSET(newSET(fitconnect.EventCreateSubmission), f.service)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if bytes.Contains(payload, []byte(`"$schema"`)) {
		t.Errorf("payload-less SET carries $schema: %s", payload)
	}
}

// signRaw signs arbitrary claims with arbitrary headers, to build bad SETs.
func signRaw(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ string, claims any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	o, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := o.CompactSerialize()
	return out
}

func TestVerifySETRejects(t *testing.T) {
	f := keys(t)
	svcKey := f.service.Key
	otherKey := fitconnecttest.RSAKey(4096, 1)
	good := newSET(fitconnect.EventSubmitSubmission)
	claims := func(fn func(m map[string]any)) map[string]any {
		b, _ := json.Marshal(good)
		var m map[string]any
		json.Unmarshal(b, &m)
		fn(m)
		return m
	}
	sign := func(s fitconnect.SET) string {
		tok, err := fitconnect.SignSET(s, f.service)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	old := good
	old.IssuedAt = time.Now().Add(-2 * time.Hour)
	future := good
	future.IssuedAt = time.Now().Add(time.Hour)
	goodTok := sign(good)
	p := strings.Split(goodTok, ".")
	sigBytes, _ := base64.RawURLEncoding.DecodeString(p[2])
	sigBytes[10] ^= 0xff
	flippedSig := p[0] + "." + p[1] + "." + base64.RawURLEncoding.EncodeToString(sigBytes)
	weakKeys := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &fitconnecttest.RSAKey(2048, 0).PublicKey, KeyID: "weak"}}}
	hmacKey := make([]byte, 64)
	rand.Read(hmacKey)
	for _, tc := range []struct {
		name  string
		token string
		jwks  *jose.JSONWebKeySet
		opts  fitconnect.VerifyOptions
		want  string
	}{
		{"SignedByOtherKey", signRaw(t, jose.PS512, otherKey, "zustelldienst-2026", "secevent+jwt", good), f.serviceSet, fitconnect.VerifyOptions{}, "bad signature"},
		{"FlippedSignature", flippedSig, f.serviceSet, fitconnect.VerifyOptions{}, "bad signature"},
		{"RS512", signRaw(t, jose.RS512, svcKey, "zustelldienst-2026", "secevent+jwt", good), f.serviceSet, fitconnect.VerifyOptions{}, "unexpected signature algorithm"},
		{"HS512", signRaw(t, jose.HS512, hmacKey, "zustelldienst-2026", "secevent+jwt", good), f.serviceSet, fitconnect.VerifyOptions{}, "unexpected signature algorithm"},
		{"WrongTyp", signRaw(t, jose.PS512, svcKey, "zustelldienst-2026", "jwt", good), f.serviceSet, fitconnect.VerifyOptions{}, "typ must be secevent+jwt"},
		{"UnknownKid", signRaw(t, jose.PS512, svcKey, "nobody", "secevent+jwt", good), f.serviceSet, fitconnect.VerifyOptions{}, "unknown signing key"},
		{"NoKid", signRaw(t, jose.PS512, svcKey, "", "secevent+jwt", good), f.serviceSet, fitconnect.VerifyOptions{}, "no kid"},
		{"WeakKey", signRaw(t, jose.PS512, fitconnecttest.RSAKey(2048, 0), "weak", "secevent+jwt", good), weakKeys, fitconnect.VerifyOptions{}, "at least 4096"},
		{"MissingTxn", signRaw(t, jose.PS512, svcKey, "zustelldienst-2026", "secevent+jwt", claims(func(m map[string]any) { delete(m, "txn") })), f.serviceSet, fitconnect.VerifyOptions{}, "missing claims: txn"},
		{"MissingJtiAndIat", signRaw(t, jose.PS512, svcKey, "zustelldienst-2026", "secevent+jwt", claims(func(m map[string]any) { delete(m, "jti"); delete(m, "iat") })), f.serviceSet, fitconnect.VerifyOptions{}, "missing claims: jti, iat"},
		{"TwoEvents", signRaw(t, jose.PS512, svcKey, "zustelldienst-2026", "secevent+jwt", claims(func(m map[string]any) {
			m["events"] = map[string]any{fitconnect.EventAcceptSubmission: map[string]any{}, fitconnect.EventRejectSubmission: map[string]any{}}
		})), f.serviceSet, fitconnect.VerifyOptions{}, "exactly one event"},
		{"UnknownEvent", signRaw(t, jose.PS512, svcKey, "zustelldienst-2026", "secevent+jwt", claims(func(m map[string]any) {
			m["events"] = map[string]any{"https://example.org/events/pwned": map[string]any{}}
		})), f.serviceSet, fitconnect.VerifyOptions{}, "unknown event"},
		{"WrongIssuer", goodTok, f.serviceSet, fitconnect.VerifyOptions{Issuer: "https://other.example"}, "iss is"},
		{"WrongSubject", goodTok, f.serviceSet, fitconnect.VerifyOptions{Subject: "submission:other"}, "sub is"},
		{"WrongTxn", goodTok, f.serviceSet, fitconnect.VerifyOptions{Txn: "case:other"}, "txn is"},
		{"TooOld", sign(old), f.serviceSet, fitconnect.VerifyOptions{MaxAge: time.Hour}, "too old"},
		{"Future", sign(future), f.serviceSet, fitconnect.VerifyOptions{}, "in the future"},
		{"NotJWS", "not.a.jws", f.serviceSet, fitconnect.VerifyOptions{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fitconnect.VerifySET(tc.token, tc.jwks, tc.opts)
			wantCode(t, err, rathaus.EINVALID, tc.want)
		})
	}
}

func TestSignSETRejects(t *testing.T) {
	f := keys(t)
	for _, tc := range []struct {
		name string
		set  fitconnect.SET
		key  *jose.JSONWebKey
		want string
	}{
		{"MissingSub", func() fitconnect.SET { s := newSET(fitconnect.EventAcceptSubmission); s.Subject = ""; return s }(), f.service, "missing claims: sub"},
		{"UnknownEvent", func() fitconnect.SET { s := newSET("accept"); return s }(), f.service, "unknown event"},
		{"PublicKey", newSET(fitconnect.EventAcceptSubmission), &f.sig.Public.JSONWebKey, "not an RSA private key"},
		{"WeakKey", newSET(fitconnect.EventAcceptSubmission), &jose.JSONWebKey{Key: fitconnecttest.RSAKey(2048, 0), KeyID: "weak"}, "at least 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fitconnect.SignSET(tc.set, tc.key)
			wantCode(t, err, rathaus.EINVALID, tc.want)
		})
	}
}
