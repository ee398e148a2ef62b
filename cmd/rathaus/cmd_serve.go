// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"rathaus"
	"rathaus/demo"
	"rathaus/identity/demoidp"
	"rathaus/identity/oidc"
	"rathaus/identity/password"
	"rathaus/identity/session"
	"rathaus/internal/gctune"
	"rathaus/sqlstore"
	"rathaus/web"
)

func init() {
	register(&Command{
		Name:    "serve",
		Summary: "run the portal: rathaus serve [--addr 127.0.0.1:8080] [--data DIR] [--db URL] [--demo]",
		Run:     runServe,
	})
}

// version is set by the build (-ldflags "-X main.version=…").
var version = "dev"

type listenKey struct{}

// serveInfo is what a running serve tells its listen hook.
type serveInfo struct {
	Base   string      // base URL, e.g. "http://127.0.0.1:41234"
	Server *web.Server // the portal with all its routes
	DB     *sqlstore.DB
	// Metrics is the base URL of the internal metrics listener
	// (--metrics-addr), "" when it is off.
	Metrics string
}

// withListenHook returns ctx carrying fn, which serve calls once it
// listens. Tests use it with --addr 127.0.0.1:0 to learn the address.
func withListenHook(ctx context.Context, fn func(serveInfo)) context.Context {
	return context.WithValue(ctx, listenKey{}, fn)
}

// envBool reads a RATHAUS_* boolean ("1", "true", …); junk is false.
func envBool(env *Env, key string) bool {
	b, _ := strconv.ParseBool(env.Getenv(key))
	return b
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve")
	var sf storeFlags
	sf.register(fs, env)
	addr := fs.String("addr", envDefault(env, "RATHAUS_ADDR", "127.0.0.1:8080"), "listen address host:port; port 0 picks a free one [RATHAUS_ADDR]")
	demo := fs.Bool("demo", envBool(env, "RATHAUS_DEMO"), "demo mode: seed demo content, mount the demo identity provider, show the demo banner [RATHAUS_DEMO]")
	baseURL := fs.String("base-url", envDefault(env, "RATHAUS_BASE_URL", ""), "public URL of the portal, e.g. https://rathaus.example; default http://ADDR [RATHAUS_BASE_URL]")
	metricsAddr := fs.String("metrics-addr", envDefault(env, "RATHAUS_METRICS_ADDR", defaultMetricsAddr), "internal listen address for /metrics, /healthz and /readyz (Prometheus scrapes it; not public); \"off\" disables it [RATHAUS_METRICS_ADDR]")
	maxBody := fs.Int64("max-body", 1<<20, "largest accepted request body in bytes")
	llmURL := fs.String("llm-url", envDefault(env, "RATHAUS_LLM_URL", ""), "OpenAI-compatible endpoint for the assistant's optional LLM (off when empty) [RATHAUS_LLM_URL]")
	clamd := fs.String("clamd", envDefault(env, "RATHAUS_CLAMD", ""), "ClamAV clamd for scanning uploads: host:port or unix:/path (uploads are not scanned when empty) [RATHAUS_CLAMD]")
	llmModel := fs.String("llm-model", envDefault(env, "RATHAUS_LLM_MODEL", ""), "model name for --llm-url [RATHAUS_LLM_MODEL]")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return usagef("%v", err)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *baseURL != "" && !strings.HasPrefix(*baseURL, "http://") && !strings.HasPrefix(*baseURL, "https://") {
		return usagef("--base-url %q: want http://… or https://…", *baseURL)
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, nil))
	gc := gctune.Apply() // GOGC 400 and a soft memory limit unless set in the environment

	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot listen on %s: %v", *addr, err)
	}
	defer ln.Close()
	base := strings.TrimSuffix(*baseURL, "/")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	tls := strings.HasPrefix(base, "https://")

	sessions := session.NewManager(db.Identity(), session.Options{Secure: tls, Logger: log})
	deps := web.Deps{
		Tenants:  db.Tenants(),
		Catalog:  db.Catalog(),
		Identity: db.Identity(),
		Sessions: sessions.Middleware,
		Ready:    readyCheck(db),
	}
	var srv *web.Server
	errorPage := func(w http.ResponseWriter, r *http.Request, status int, msg string) {
		srv.ErrorPage(w, r, status, msg)
	}
	oidcCfg := oidc.Config{RedirectURL: base + "/auth/callback", Secure: tls, Logger: log, ErrorPage: errorPage}
	if *demo {
		if err := seedDemo(ctx, db); err != nil {
			return err
		}
		log.Info("demo content seeded")
		secret := randomSecret()
		issuer := base + "/demo-idp"
		idp, err := demoidp.New(demoidp.Config{
			Issuer:  issuer,
			Users:   demoUsers(),
			Clients: []demoidp.Client{{ID: "rathaus-demo", Secret: secret, RedirectURIs: []string{base + "/auth/callback"}}},
			Logger:  log,
		})
		if err != nil {
			return err
		}
		deps.DemoIdP = idp
		p := oidc.Provider{Issuer: issuer, ClientID: "rathaus-demo", ClientSecret: secret}
		oidcCfg.Citizen, oidcCfg.Staff = p, p
	} else {
		oidcCfg.Citizen = oidc.Provider{Issuer: env.Getenv("RATHAUS_OIDC_ISSUER"), ClientID: env.Getenv("RATHAUS_OIDC_CLIENT_ID"), ClientSecret: env.Getenv("RATHAUS_OIDC_CLIENT_SECRET")}
		oidcCfg.Staff = oidc.Provider{Issuer: env.Getenv("RATHAUS_OIDC_STAFF_ISSUER"), ClientID: env.Getenv("RATHAUS_OIDC_STAFF_CLIENT_ID"), ClientSecret: env.Getenv("RATHAUS_OIDC_STAFF_CLIENT_SECRET")}
		if oidcCfg.Staff.Issuer == "" {
			oidcCfg.Staff = oidcCfg.Citizen
		}
	}
	// The optional local operator account (rathaus operator set-password)
	// logs in at /auth/operator even without an identity provider.
	if opFile := filepath.Join(sf.data, password.FileName); fileExists(opFile) {
		oidcCfg.OperatorFile = opFile
	}
	if oidcCfg.Citizen.Issuer != "" || oidcCfg.OperatorFile != "" {
		// The demo IdP is served by this very process: its discovery
		// happens lazily on the first login, after Serve has started.
		deps.Auth = oidc.New(oidcCfg, db.Identity(), sessions, db.Audit())
	}
	if oidcCfg.Citizen.Issuer == "" {
		log.Warn("no identity provider configured (RATHAUS_OIDC_ISSUER): citizen and staff login are disabled")
	}

	if err := addAssistant(ctx, env, db, &deps, log, *llmURL, *llmModel); err != nil {
		return err
	}
	core, err := newServeCore(ctx, env, db, log, sf.data, *demo)
	if err != nil {
		return err
	}
	mb, err := addMailbox(ctx, env, core, &deps, base)
	if err != nil {
		return err
	}
	if err := addForms(ctx, core, &deps, *clamd, mb); err != nil {
		return err
	}
	if _, err := addDesk(ctx, core, &deps, *demo, mb, base); err != nil {
		return err
	}
	if err := addDelivery(core, env, &deps, sf.data, base); err != nil {
		return err
	}
	// Service designers manage the FIM forms at /verwaltung/{ars}/formulare.
	deps.Features = append(deps.Features, &web.FormsAdmin{Store: db.Forms()})
	// Every part has registered its job kinds: start the one queue.
	if err := core.start(ctx); err != nil {
		return err
	}
	defer core.stop(ctx)
	srv, err = web.New(web.Config{
		Demo:         *demo,
		TLS:          tls,
		BaseURL:      base,
		Logger:       log,
		MaxBodyBytes: *maxBody,
		Version:      version,
	}, deps)
	if err != nil {
		return err
	}
	srv.Registry().MustRegister(db.Collectors()...) // group commit counters on /metrics
	ms, err := listenMetrics(*metricsAddr, metricsAddrExplicit(fs, env), srv, log)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("listening on "+base, "addr", ln.Addr().String(), "demo", *demo, "dialect", db.Dialect(), "version", version,
		"gogc", gc.GCPercent, "memory_limit_bytes", gc.MemoryLimit, "gc_from_env", gc.FromEnv)
	info := serveInfo{Base: base, Server: srv, DB: db}
	var merrc chan error // nil (never ready) without a metrics listener
	if ms != nil {
		info.Metrics = ms.base
		merrc = make(chan error, 1)
		go func() { merrc <- ms.serve() }()
	}
	if fn, ok := ctx.Value(listenKey{}).(func(serveInfo)); ok && fn != nil {
		fn(info)
	}

	select {
	case err := <-errc:
		ms.shutdown(context.WithoutCancel(ctx))
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "server stopped: %v", err)
	case err := <-merrc:
		hs.Close()
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "metrics listener stopped: %v", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	ms.shutdown(sctx)
	if err := hs.Shutdown(sctx); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "shutdown: %v", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// readyCheck reports the store reachable and fully migrated.
func readyCheck(db *sqlstore.DB) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := db.Ping(ctx); err != nil {
			return err
		}
		ok, err := db.MigrationsApplied(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("migrations not applied")
		}
		return nil
	}
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// seedDemo loads the demo content (package demo) in one transaction; it
// is idempotent, so every start with --demo may run it.
func seedDemo(ctx context.Context, db *sqlstore.DB) error {
	return db.Atomic(ctx, func(ctx context.Context, _ *sql.Tx) error {
		return demo.Seed(ctx, db.Tenants(), db.Catalog())
	})
}

// demoUsers are the accounts of the demo identity provider (demo.Users).
func demoUsers() []demoidp.User {
	var out []demoidp.User
	for _, u := range demo.Users() {
		out = append(out, demoidp.User{Subject: u.Subject, Password: u.Password, Name: u.Name, Profile: u.Profile, LoA: u.LoA, Roles: u.Roles()})
	}
	return out
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
