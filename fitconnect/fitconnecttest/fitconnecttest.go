// SPDX-License-Identifier: EUPL-1.2

// Package fitconnecttest makes keys and certificates for FIT-Connect tests
// and demos: a small CA (ECDSA root and intermediate, fast to make) that
// issues RSA key pairs as JWKs with the full x5c chain, and a per-process
// cache of RSA keys because 4096-bit keys take seconds to generate.
// Nothing here is for production keys.
package fitconnecttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus/fitconnect"
)

var (
	mu    sync.Mutex
	cache = map[[2]int]*rsa.PrivateKey{}
)

// RSAKey returns the n-th cached RSA key of the given size, generating it
// on first use. The same (bits, n) gives the same key within a process.
func RSAKey(bits, n int) *rsa.PrivateKey {
	mu.Lock()
	defer mu.Unlock()
	k := cache[[2]int{bits, n}]
	if k == nil {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, bits); err != nil {
			panic(err)
		}
		cache[[2]int{bits, n}] = k
	}
	return k
}

// CA is a test certificate authority: root → intermediate → leaves.
type CA struct {
	Root, Intermediate       *x509.Certificate
	rootKey, intermediateKey *ecdsa.PrivateKey
	// Pool holds only the root, as a trust anchor.
	Pool *x509.CertPool
}

var serial int64 = 1

func nextSerial() *big.Int {
	mu.Lock()
	defer mu.Unlock()
	serial++
	return big.NewInt(serial)
}

// NewCA makes a CA valid from an hour ago for ten years.
func NewCA(name string) (*CA, error) {
	rk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ik, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-time.Hour)
	rootTmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name + " Root CA"},
		NotBefore: now, NotAfter: now.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rk.PublicKey, rk)
	if err != nil {
		return nil, err
	}
	root, _ := x509.ParseCertificate(rootDER)
	interTmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name + " Intermediate CA"},
		NotBefore: now, NotAfter: now.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, root, &ik.PublicKey, rk)
	if err != nil {
		return nil, err
	}
	inter, _ := x509.ParseCertificate(interDER)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return &CA{Root: root, Intermediate: inter, rootKey: rk, intermediateKey: ik, Pool: pool}, nil
}

// NewCAOrPanic is NewCA that panics on error.
func NewCAOrPanic(name string) *CA {
	ca, err := NewCA(name)
	if err != nil {
		panic(err)
	}
	return ca
}

// KeyPair is an issued key: the private JWK (for decrypting or signing)
// and the public FIT-Connect JWK with alg, key_ops and x5c.
type KeyPair struct {
	Private *jose.JSONWebKey
	Public  *fitconnect.Key
}

// Issue certifies priv for use under kid and returns the key pair. The x5c
// chain is leaf, intermediate, root.
func (ca *CA) Issue(priv *rsa.PrivateKey, use fitconnect.KeyUse, kid string) (*KeyPair, error) {
	ku := x509.KeyUsageKeyEncipherment
	alg, op := string(fitconnect.KeyAlgorithm), "wrapKey"
	if use == fitconnect.UseSignature {
		ku = x509.KeyUsageDigitalSignature
		alg, op = string(fitconnect.SignatureAlgorithm), "verify"
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "FIT-Connect " + kid},
		NotBefore: now, NotAfter: now.AddDate(2, 0, 0), KeyUsage: ku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Intermediate, &priv.PublicKey, ca.intermediateKey)
	if err != nil {
		return nil, fmt.Errorf("fitconnecttest: issue %s: %w", kid, err)
	}
	leaf, _ := x509.ParseCertificate(der)
	chain := []*x509.Certificate{leaf, ca.Intermediate, ca.Root}
	privJWK := &jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg, Certificates: chain}
	pub := &fitconnect.Key{JSONWebKey: privJWK.Public(), KeyOps: []string{op}}
	return &KeyPair{Private: privJWK, Public: pub}, nil
}

// MustIssue is Issue that panics on error.
func (ca *CA) MustIssue(priv *rsa.PrivateKey, use fitconnect.KeyUse, kid string) *KeyPair {
	kp, err := ca.Issue(priv, use, kid)
	if err != nil {
		panic(err)
	}
	return kp
}

// ServiceKey returns a private signing JWK for a delivery service (no
// certificate needed: its key is published in its JWKS).
func ServiceKey(priv *rsa.PrivateKey, kid string) *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(fitconnect.SignatureAlgorithm), Use: "sig"}
}
