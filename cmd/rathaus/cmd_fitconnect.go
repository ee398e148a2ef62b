// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
	"rathaus/delivery"
	"rathaus/fitconnect"
	"rathaus/fitconnect/fitconnecttest"
	"rathaus/form"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/submission"
	"rathaus/vault"
	"rathaus/web"
)

// The FIT-Connect commands keep destinations, clients, submissions and
// event logs in rathaus's database (sqlstore.FITConnectStore: SQLite in
// --data or PostgreSQL with --db), and in DATA/fitconnect/ the delivery
// service's SET signing key (service-key.json, made on first use) and
// demo/ (keys made by --demo).
func init() {
	register(&Command{
		Name:    "fitconnect destination",
		Summary: "create a FIT-Connect destination for a specialist application / Zustellpunkt anlegen",
		Run:     runFitconnectDestination,
	})
	register(&Command{
		Name:    "fitconnect sender",
		Summary: "create FIT-Connect sender credentials / Zugangsdaten für Sender anlegen",
		Run:     runFitconnectSender,
	})
	register(&Command{
		Name:    "fitconnect serve",
		Summary: "run the FIT-Connect delivery service (Submission API) / Zustelldienst starten",
		Run:     runFitconnectServe,
	})
}

type fcMultiFlag []string

// String implements flag.Value.
func (m *fcMultiFlag) String() string { return strings.Join(*m, ",") }

// Set implements flag.Value; each use of the flag adds a value.
func (m *fcMultiFlag) Set(v string) error { *m = append(*m, v); return nil }

// fcFlags are the flags every fitconnect command shares.
type fcFlags struct {
	data    string
	db      string
	baseURL string
	roots   fcMultiFlag
	store   *sqlstore.DB // opened by service; closed by close
}

func (f *fcFlags) register(fs *flag.FlagSet, env *Env) {
	fs.StringVar(&f.data, "data", envDefault(env, "RATHAUS_DATA", "./data"), "data directory; FIT-Connect state lives in DATA/fitconnect [RATHAUS_DATA]")
	fs.StringVar(&f.baseURL, "base-url", envDefault(env, "RATHAUS_FITCONNECT_URL", "http://127.0.0.1:8081"), "public URL of the delivery service [RATHAUS_FITCONNECT_URL]")
	fs.StringVar(&f.db, "db", envDefault(env, "RATHAUS_DB", ""), "database URL, e.g. postgres://user@host/db; empty: SQLite in --data [RATHAUS_DB]")
	fs.Var(&f.roots, "trust-root", "PEM file with trust-root certificates for destination keys (repeatable)")
}

// close closes the database opened by service.
func (f *fcFlags) close() {
	if f.store != nil {
		f.store.Close()
	}
}

func (f *fcFlags) dir() string { return filepath.Join(f.data, "fitconnect") }

// service opens the database and the delivery service over it; call
// close when done.
func (f *fcFlags) service(roots *x509.CertPool) (*fitconnect.DeliveryService, error) {
	key, err := fcServiceKey(filepath.Join(f.dir(), "service-key.json"))
	if err != nil {
		return nil, err
	}
	if f.store == nil {
		if f.store, err = sqlstore.Open(context.Background(), sqlstore.Config{DataDir: f.data, URL: f.db}); err != nil {
			return nil, err
		}
	}
	st := f.store.FITConnectStore()
	if roots == nil {
		roots = x509.NewCertPool()
	}
	return fitconnect.NewDeliveryService(st, fitconnect.ServiceConfig{BaseURL: f.baseURL, SigningKey: key, TrustRoots: roots})
}

// fcServiceKey loads the delivery service's signing key or makes one.
func fcServiceKey(path string) (*jose.JSONWebKey, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(b); err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s: not a JWK: %v", path, err)
		}
		return &k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "%s: cannot read", path)
	}
	priv, err := rsa.GenerateKey(rand.Reader, fitconnect.MinRSABits)
	if err != nil {
		return nil, err
	}
	kid := make([]byte, 12)
	rand.Read(kid)
	k := &jose.JSONWebKey{Key: priv, KeyID: "zd-" + base64.RawURLEncoding.EncodeToString(kid), Algorithm: string(fitconnect.SignatureAlgorithm), Use: "sig"}
	if err := fcWriteJSONFile(path, k, 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

func fcWriteJSONFile(path string, v any, mode os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot create %s", filepath.Dir(path))
	}
	if err := os.WriteFile(path, append(b, '\n'), mode); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot write %s", path)
	}
	return nil
}

// fcLoadRoots reads PEM certificates from files into a pool.
func fcLoadRoots(files []string) (*x509.CertPool, error) {
	if len(files) == 0 {
		return nil, nil
	}
	pool := x509.NewCertPool()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "--trust-root %s: cannot read: %v", f, err)
		}
		n := 0
		for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, rathaus.Errorf(rathaus.EINVALID, "--trust-root %s: certificate %d: %v", f, n+1, err)
			}
			pool.AddCert(c)
			n++
		}
		if n == 0 {
			return nil, rathaus.Errorf(rathaus.EINVALID, "--trust-root %s: no PEM CERTIFICATE block", f)
		}
	}
	return pool, nil
}

func fcLoadPublicKey(flagName, file string) (*fitconnect.Key, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "--%s %s: cannot read: %v", flagName, file, err)
	}
	k, err := fitconnect.ParsePublicKey(b)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "--%s %s: %s (give the public key only)", flagName, file, rathaus.ErrorMessage(err))
	}
	return k, nil
}

var fcLeikaKey = regexp.MustCompile(`^\d{14}$`)

// fcDemoKeys makes a demo CA and a key pair for the specialist application
// and writes them under dir: enc.jwk and sig.jwk (private, 0600, for the
// application), enc.pub.jwk, sig.pub.jwk and root.pem.
func fcDemoKeys(dir string) (enc, sig *fitconnect.Key, roots *x509.CertPool, files map[string]string, err error) {
	ca, err := fitconnecttest.NewCA("rathaus demo")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	stamp := time.Now().UTC().Format("20060102T150405")
	mk := func(use fitconnect.KeyUse, kid string) (*fitconnecttest.KeyPair, error) {
		priv, err := rsa.GenerateKey(rand.Reader, fitconnect.MinRSABits)
		if err != nil {
			return nil, err
		}
		return ca.Issue(priv, use, kid)
	}
	e, err := mk(fitconnect.UseEncryption, "enc-"+stamp)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	s, err := mk(fitconnect.UseSignature, "sig-"+stamp)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	files = map[string]string{
		"encryptionKeyFile": filepath.Join(dir, "enc.jwk"), "signingKeyFile": filepath.Join(dir, "sig.jwk"),
		"encryptionPublicKeyFile": filepath.Join(dir, "enc.pub.jwk"), "signingPublicKeyFile": filepath.Join(dir, "sig.pub.jwk"),
		"trustRootFile": filepath.Join(dir, "root.pem"),
	}
	for name, v := range map[string]any{
		"encryptionKeyFile":       fitconnect.Key{JSONWebKey: *e.Private, KeyOps: []string{"unwrapKey"}},
		"signingKeyFile":          fitconnect.Key{JSONWebKey: *s.Private, KeyOps: []string{"sign"}},
		"encryptionPublicKeyFile": e.Public, "signingPublicKeyFile": s.Public,
	} {
		if err := fcWriteJSONFile(files[name], v, 0o600); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	pemRoot := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Root.Raw})
	if err := os.WriteFile(files["trustRootFile"], pemRoot, 0o644); err != nil {
		return nil, nil, nil, nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot write %s", files["trustRootFile"])
	}
	return e.Public, s.Public, ca.Pool, files, nil
}

func runFitconnectDestination(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: rathaus fitconnect destination create --tenant ARS --service LEIKA --encryption-key enc.jwk --signing-key sig.jwk [--callback URL] [--trust-root FILE]... [--demo] [--json]")
	}
	fs := newFlagSet(env, "fitconnect destination create")
	var f fcFlags
	f.register(fs, env)
	tenantARS := fs.String("tenant", "", "ARS (12 digits) of the tenant that owns the destination")
	var services, schemas fcMultiFlag
	fs.Var(&services, "service", "LeiKa key (14 digits) or service URN the destination accepts (repeatable)")
	fs.Var(&schemas, "schema", "URI of a JSON data schema the application accepts (repeatable)")
	serviceName := fs.String("service-name", "", "name of the service (optional)")
	encFile := fs.String("encryption-key", "", "public encryption JWK (RSA-OAEP-256, key_ops wrapKey, x5c)")
	sigFile := fs.String("signing-key", "", "public signature-verification JWK (PS512, key_ops verify, x5c)")
	callback := fs.String("callback", "", "https URL for new-submission callbacks (optional)")
	callbackSecret := fs.String("callback-secret", "", "callback secret (≥ 32 characters); generated when --callback is given without it")
	demo := fs.Bool("demo", false, "make a demo CA and key pair under DATA/fitconnect/demo instead of --encryption-key/--signing-key")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *tenantARS == "" || len(services) == 0 {
		return usagef("--tenant and --service are required")
	}
	if !*demo && (*encFile == "" || *sigFile == "") {
		return usagef("--encryption-key and --signing-key are required (or --demo)")
	}
	var ps []fitconnect.PublicService
	for _, s := range services {
		id := s
		if fcLeikaKey.MatchString(s) {
			id = fitconnect.LeikaURNPrefix + s
		}
		p := fitconnect.PublicService{Identifier: id, Name: *serviceName}
		for _, u := range schemas {
			p.SubmissionSchemas = append(p.SubmissionSchemas, fitconnect.SubmissionSchema{SchemaURI: u, MimeType: "application/json"})
		}
		ps = append(ps, p)
	}
	roots, err := fcLoadRoots(f.roots)
	if err != nil {
		return err
	}
	var enc, sig *fitconnect.Key
	var files map[string]string
	if *demo {
		var demoRoots *x509.CertPool
		enc, sig, demoRoots, files, err = fcDemoKeys(filepath.Join(f.dir(), "demo", time.Now().UTC().Format("20060102T150405.000")))
		if err != nil {
			return err
		}
		if roots == nil {
			roots = demoRoots
		}
	} else {
		if roots == nil {
			return rathaus.Errorf(rathaus.EINVALID, "--trust-root is required to check the keys' x5c chains (or --demo)")
		}
		if enc, err = fcLoadPublicKey("encryption-key", *encFile); err != nil {
			return err
		}
		if sig, err = fcLoadPublicKey("signing-key", *sigFile); err != nil {
			return err
		}
	}
	var cb *fitconnect.CallbackConfig
	generatedSecret := ""
	if *callback != "" {
		secret := *callbackSecret
		if secret == "" {
			b := make([]byte, 32)
			rand.Read(b)
			secret = base64.RawURLEncoding.EncodeToString(b)
			generatedSecret = secret
		}
		cb = &fitconnect.CallbackConfig{URL: *callback, Secret: secret}
	}
	defer f.close()
	svc, err := f.service(roots)
	if err != nil {
		return err
	}
	d, err := svc.CreateDestination(ctx, fitconnect.DestinationSpec{Tenant: *tenantARS, Services: ps, EncryptionKey: enc, SigningKey: sig, Callback: cb})
	if err != nil {
		return err
	}
	clientID, secret, err := svc.CreateClient(ctx, *tenantARS, fitconnect.RoleSubscriber, d.ID)
	if err != nil {
		return err
	}
	out := map[string]string{
		"destinationId": d.ID, "clientId": clientID, "clientSecret": secret,
		"tokenUrl": svc.TokenURL(), "submissionApiUrl": strings.TrimRight(f.baseURL, "/"),
	}
	if generatedSecret != "" {
		out["callbackSecret"] = generatedSecret
	}
	for k, v := range files {
		out[k] = v
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	fmt.Fprintf(env.Stdout, "Zustellpunkt angelegt / destination created: %s (tenant %s)\n", d.ID, *tenantARS)
	for _, k := range []string{"clientId", "clientSecret", "tokenUrl", "submissionApiUrl", "callbackSecret", "encryptionKeyFile", "signingKeyFile", "trustRootFile"} {
		if v, ok := out[k]; ok {
			fmt.Fprintf(env.Stdout, "  %-17s %s\n", k, v)
		}
	}
	return nil
}

func runFitconnectSender(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: rathaus fitconnect sender create --tenant ARS [--json]")
	}
	fs := newFlagSet(env, "fitconnect sender create")
	var f fcFlags
	f.register(fs, env)
	tenantARS := fs.String("tenant", "", "ARS (12 digits) of the tenant that sends")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *tenantARS == "" {
		return usagef("--tenant is required")
	}
	defer f.close()
	svc, err := f.service(nil)
	if err != nil {
		return err
	}
	id, secret, err := svc.CreateClient(ctx, *tenantARS, fitconnect.RoleSender)
	if err != nil {
		return err
	}
	out := map[string]string{"clientId": id, "clientSecret": secret, "tokenUrl": svc.TokenURL(), "submissionApiUrl": strings.TrimRight(f.baseURL, "/")}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	fmt.Fprintf(env.Stdout, "Sender angelegt / sender created\n  clientId          %s\n  clientSecret      %s\n  tokenUrl          %s\n", id, secret, out["tokenUrl"])
	return nil
}

func runFitconnectServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "fitconnect serve")
	var f fcFlags
	f.register(fs, env)
	addr := fs.String("addr", envDefault(env, "RATHAUS_FITCONNECT_ADDR", "127.0.0.1:8081"), "listen address [RATHAUS_FITCONNECT_ADDR]")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	roots, err := fcLoadRoots(f.roots)
	if err != nil {
		return err
	}
	defer f.close()
	svc, err := f.service(roots)
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot listen on %s", *addr)
	}
	srv := &http.Server{Handler: svc, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if _, err := svc.ExpireDeadlines(ctx, now); err != nil {
					fmt.Fprintf(env.Stderr, "rathaus fitconnect serve: deadlines: %v\n", err)
				}
			}
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(env.Stderr, "FIT-Connect Zustelldienst / delivery service on http://%s (public URL %s)\n", ln.Addr(), f.baseURL)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// JobFitconnectDeadlines applies the deadlines of the hosted delivery
// service (incomplete → deleted after a day, submitted → rejected after 14
// days); serve runs it every minute as a periodic job.
const JobFitconnectDeadlines = "fitconnect.deadlines"

// fcMount serves the hosted FIT-Connect delivery service under /fitconnect/
// (Submission and Subscriber API, token endpoint) and its SET keys at
// /.well-known/jwks.json.
type fcMount struct{ svc *fitconnect.DeliveryService }

// Register implements web.Feature.
func (m fcMount) Register(s *web.Server) {
	api := web.Meta{Scope: web.ScopePublic, Raw: true, MaxBodyBytes: 64 << 20}
	s.Route("/fitconnect/", http.StripPrefix("/fitconnect", m.svc), api)
	s.Route("GET /.well-known/jwks.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/.well-known/jwks.json"
		m.svc.ServeHTTP(w, r2)
	}), web.Meta{Scope: web.ScopePublic, Raw: true})
}

// addDelivery wires delivery to the specialist software into serve: the
// hosted FIT-Connect delivery service at BASE/fitconnect (state in the
// database, SET key in DATA/fitconnect/service-key.json, trust roots for
// destination keys from RATHAUS_FITCONNECT_TRUST_ROOTS, a list of PEM files
// separated by commas), the delivery worker (jobs delivery.send and
// delivery.sweep, the deadlines job) on the shared queue, and the
// operator view /verwaltung/zustellung. Deliveries need the vault master
// key (applications are opened for the receiver); without it only the
// delivery service is mounted.
func addDelivery(core *serveCore, env *Env, deps *web.Deps, dataDir, base string) error {
	db, log, q := core.DB, core.Log, core.Queue
	var rootFiles []string
	for _, f := range strings.Split(env.Getenv("RATHAUS_FITCONNECT_TRUST_ROOTS"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			rootFiles = append(rootFiles, f)
		}
	}
	roots, err := fcLoadRoots(rootFiles)
	if err != nil {
		return err
	}
	if roots == nil {
		roots = x509.NewCertPool()
	}
	key, err := fcServiceKey(filepath.Join(dataDir, "fitconnect", "service-key.json"))
	if err != nil {
		return err
	}
	fc, err := fitconnect.NewDeliveryService(db.FITConnectStore(), fitconnect.ServiceConfig{BaseURL: base + "/fitconnect", SigningKey: key, TrustRoots: roots,
		Logf: func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }})
	if err != nil {
		return err
	}
	deps.Features = append(deps.Features, fcMount{fc})

	if err := q.Register(JobFitconnectDeadlines, func(ctx context.Context, _ json.RawMessage) error {
		_, err := fc.ExpireDeadlines(ctx, time.Now())
		return err
	}); err != nil {
		return err
	}
	if core.Intake != nil {
		v := core.Vault
		src := &delivery.SubmissionSource{Intake: core.Intake,
			Model: func(ctx context.Context, app *submission.Application) (*form.Model, error) {
				if app.FormID == submission.UniversalFormID {
					return submission.UniversalForm("de"), nil
				}
				m, err := db.Forms().FormFor(ctx, app.Tenant, app.FormID, app.FormVersion)
				if err != nil {
					return nil, nil // the export then follows the answers' own structure
				}
				return m, nil
			},
			Names: func(ctx context.Context, app *submission.Application) (string, string) {
				tn, sn := app.Tenant, app.ServiceKey
				if t, err := db.Tenants().Tenant(ctx, app.Tenant); err == nil {
					tn = t.Name
				}
				if s, err := db.Catalog().Resolve(ctx, app.Tenant, app.ServiceKey); err == nil {
					sn = s.Service.Name
				}
				return tn, sn
			}}
		dsvc, err := delivery.New(db, delivery.Options{Source: src, Sealer: v, Queue: q, FITConnectRoots: roots})
		if err != nil {
			return err
		}
		if err := dsvc.Register(q); err != nil {
			return err
		}
		deps.Features = append(deps.Features, &web.DeliveryAdmin{Service: dsvc, Fixture: dsvc.IsolationFixture, Audit: db.Audit()})
	} else {
		log.Warn("no vault master key (RATHAUS_MASTER_KEY): applications are not delivered to specialist software")
	}
	log.Info("delivery ready", "fitconnect", base+"/fitconnect", "deliveries", core.Intake != nil)
	return nil
}

func init() {
	register(&Command{
		Name:    "delivery route",
		Summary: "add or list delivery routes: rathaus delivery route add --tenant ARS --service KEY|* --channel fitconnect|webhook|email|export --config FILE [--json] | list --tenant ARS [--json]",
		Run:     runDeliveryRoute,
	})
	register(&Command{
		Name:    "delivery failed",
		Summary: "list dead or rejected deliveries of a tenant subtree: rathaus delivery failed --tenant ARS [--json]",
		Run:     runDeliveryFailed,
	})
	register(&Command{
		Name:    "delivery backfill",
		Summary: "deliver applications filed before their route existed: rathaus delivery backfill --tenant ARS [--since YYYY-MM-DD] [--json]",
		Run:     runDeliveryBackfill,
	})
	register(&Command{
		Name:    "delivery redrive",
		Summary: "send a dead or rejected delivery again: rathaus delivery redrive --tenant ARS --application ID --route ID",
		Run:     runDeliveryRedrive,
	})
}

// deliveryService opens the store and a delivery service for the CLI
// (RATHAUS_MASTER_KEY seals route configurations).
func deliveryService(ctx context.Context, env *Env, sf *storeFlags) (*delivery.Service, *sqlstore.DB, error) {
	s := env.Getenv("RATHAUS_MASTER_KEY")
	if s == "" {
		return nil, nil, usagef("RATHAUS_MASTER_KEY is required (route configurations are sealed)")
	}
	mk, err := vault.ParseMasterKey(s)
	if err != nil {
		return nil, nil, usagef("RATHAUS_MASTER_KEY: %s", rathaus.ErrorMessage(err))
	}
	db, err := sf.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	svc, err := delivery.New(db, delivery.Options{Sealer: vault.New(db.VaultKeys(), mk), Queue: q})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return svc, db, nil
}

func printJSON(env *Env, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, string(b))
	return err
}

type routeOut struct {
	RouteID string `json:"routeId"`
	Tenant  string `json:"tenant"`
	Service string `json:"service"`
	Channel string `json:"channel"`
	Name    string `json:"name,omitempty"`
	Enabled bool   `json:"enabled"`
}

func runDeliveryRoute(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		return usagef("rathaus delivery route add|list …")
	}
	sub := args[0]
	fs := newFlagSet(env, "delivery route "+sub)
	var sf storeFlags
	sf.register(fs, env)
	ars := fs.String("tenant", "", "ARS of the tenant (the route applies to its subtree)")
	svcKey := fs.String("service", "", "LeiKa key of the service, or * for all")
	channel := fs.String("channel", "", "fitconnect, webhook, email or export")
	cfgFile := fs.String("config", "", "JSON file with the channel configuration (see docs/fitconnect.md)")
	name := fs.String("name", "", "name shown to operators")
	routeID := fs.String("id", "", "route id (default: a new UUID; set it to replace a route or to know it for a FIT-Connect callbackUrl)")
	disabled := fs.Bool("disabled", false, "store the route disabled")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *ars == "" {
		return usagef("--tenant is required")
	}
	if sub == "add" && (*svcKey == "" || *channel == "" || *cfgFile == "") {
		return usagef("--service, --channel and --config are required")
	}
	var cfg []byte
	if sub == "add" {
		if cfg, err = os.ReadFile(*cfgFile); err != nil {
			return rathaus.Errorf(rathaus.EINVALID, "%s: cannot read: %v", *cfgFile, err)
		}
	}
	svc, db, err := deliveryService(ctx, env, &sf)
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "list" {
		rs, err := svc.Routes(ctx, *ars)
		if err != nil {
			return err
		}
		out := []routeOut{}
		for _, r := range rs {
			out = append(out, routeOut{RouteID: r.ID, Tenant: r.Tenant, Service: r.ServiceKey, Channel: r.Channel, Name: r.Name, Enabled: r.Enabled})
		}
		if *asJSON {
			return printJSON(env, out)
		}
		for _, r := range out {
			fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\tenabled=%v\n", r.RouteID, r.Service, r.Channel, r.Name, r.Enabled)
		}
		return nil
	}
	r := &delivery.Route{Tenant: *ars, ID: *routeID, ServiceKey: *svcKey, Channel: *channel, Name: *name, Config: cfg, Enabled: !*disabled}
	if err := svc.PutRoute(ctx, r, "cli"); err != nil {
		if rathaus.ErrorCode(err) == rathaus.EINVALID {
			return rathaus.Errorf(rathaus.EINVALID, "%s: %s", *cfgFile, rathaus.ErrorMessage(err))
		}
		return err
	}
	out := routeOut{RouteID: r.ID, Tenant: r.Tenant, Service: r.ServiceKey, Channel: r.Channel, Name: r.Name, Enabled: r.Enabled}
	if *asJSON {
		return printJSON(env, out)
	}
	fmt.Fprintf(env.Stdout, "route created / Zustellweg angelegt: %s\n", r.ID)
	return nil
}

func runDeliveryFailed(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "delivery failed")
	var sf storeFlags
	sf.register(fs, env)
	ars := fs.String("tenant", "", "ARS of the subtree root")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *ars == "" {
		return usagef("rathaus delivery failed --tenant ARS [--json]")
	}
	svc, db, err := deliveryService(ctx, env, &sf)
	if err != nil {
		return err
	}
	defer db.Close()
	ds, err := svc.Failed(ctx, *ars, 1000)
	if err != nil {
		return err
	}
	type out struct {
		Tenant        string    `json:"tenant"`
		ApplicationID string    `json:"applicationId"`
		RouteID       string    `json:"routeId"`
		Channel       string    `json:"channel"`
		Status        string    `json:"status"`
		Attempts      int       `json:"attempts"`
		Reason        string    `json:"reason"`
		Updated       time.Time `json:"updated"`
	}
	list := []out{}
	for _, d := range ds {
		list = append(list, out{d.Tenant, d.ApplicationID, d.RouteID, d.Channel, d.Status, d.Attempts, d.LastError, d.UpdatedAt})
	}
	if *asJSON {
		return printJSON(env, list)
	}
	for _, d := range list {
		fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.Tenant, d.ApplicationID, d.RouteID, d.Channel, d.Status, d.Attempts, d.Reason)
	}
	return nil
}

func runDeliveryRedrive(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "delivery redrive")
	var sf storeFlags
	sf.register(fs, env)
	ars := fs.String("tenant", "", "ARS of the application's tenant")
	app := fs.String("application", "", "application id")
	route := fs.String("route", "", "route id")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *ars == "" || *app == "" || *route == "" {
		return usagef("rathaus delivery redrive --tenant ARS --application ID --route ID")
	}
	svc, db, err := deliveryService(ctx, env, &sf)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := svc.Redrive(ctx, *ars, *app, *route, "cli"); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "delivery queued again / Zustellung erneut beauftragt\n")
	return nil
}

func runDeliveryBackfill(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "delivery backfill")
	var sf storeFlags
	sf.register(fs, env)
	ars := fs.String("tenant", "", "ARS of the subtree root")
	since := fs.String("since", "", "only applications submitted on or after this day (YYYY-MM-DD, UTC)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *ars == "" {
		return usagef("rathaus delivery backfill --tenant ARS [--since YYYY-MM-DD] [--json]")
	}
	var from time.Time
	if *since != "" {
		if from, err = time.Parse("2006-01-02", *since); err != nil {
			return usagef("--since %q: want YYYY-MM-DD", *since)
		}
	}
	svc, db, err := deliveryService(ctx, env, &sf)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := svc.Backfill(ctx, *ars, from)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env, map[string]int{"enqueued": n})
	}
	fmt.Fprintf(env.Stdout, "%d applications queued for delivery / Anträge zur Zustellung beauftragt\n", n)
	return nil
}
