// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rathaus"
	"rathaus/mailbox"
	"rathaus/vault"
	"rathaus/web"
)

// demoMasterKeyFile holds the vault master key of a --demo installation
// without RATHAUS_MASTER_KEY (created on first start, mode 0600).
const demoMasterKeyFile = "demo-master-key"

// serveMasterKey returns the vault master key: RATHAUS_MASTER_KEY, else
// with demo the key kept in dataDir (created on first start), else nil.
func serveMasterKey(env *Env, dataDir string, demo bool, log *slog.Logger) (*vault.LocalMasterKey, error) {
	if s := env.Getenv("RATHAUS_MASTER_KEY"); s != "" {
		mk, err := vault.ParseMasterKey(s)
		if err != nil {
			return nil, usagef("RATHAUS_MASTER_KEY: %s", rathaus.ErrorMessage(err))
		}
		return mk, nil
	}
	if !demo {
		return nil, nil
	}
	path := filepath.Join(dataDir, demoMasterKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return vault.ParseMasterKey(strings.TrimSpace(string(b)))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	mk, text, err := vault.GenerateMasterKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
		return nil, err
	}
	log.Warn("demo: vault master key created in the data directory; set RATHAUS_MASTER_KEY for real data", "file", path)
	return mk, nil
}

// addMailbox mounts the citizen's mailbox and application status pages
// (web.MailboxFeature) when a vault master key is available (see
// serveMasterKey); without one they are left out with a warning. E-mail
// notifications go through RATHAUS_SMTP_ADDR (host:port) from
// RATHAUS_SMTP_FROM: a mailbox.notify job is enqueued with every message
// (registered on the shared queue) and a slow sweep catches any that a
// crash left unsent; the process wiring sets Service.OnReply
// (mailbox.AnsweredHook).
func addMailbox(ctx context.Context, env *Env, core *serveCore, deps *web.Deps, base string) (*mailbox.Service, error) {
	log, db := core.Log, core.DB
	if core.Key == nil {
		log.Warn("no vault master key (RATHAUS_MASTER_KEY): mailbox and application status pages are off")
		return nil, nil
	}
	opts := mailbox.Options{DB: db, Sealer: core.Vault, BaseURL: base, Queue: core.Queue,
		Recipient: func(ctx context.Context, userID string) (string, string, error) {
			u, err := db.Identity().User(ctx, userID)
			if err != nil {
				return "", "", err
			}
			return u.Profile.Email, u.Name, nil
		}}
	if addr := env.Getenv("RATHAUS_SMTP_ADDR"); addr != "" {
		opts.Notifier = &mailbox.SMTPNotifier{Addr: addr, From: envDefault(env, "RATHAUS_SMTP_FROM", "Rathaus <postfach@localhost>")}
	}
	svc, err := mailbox.New(opts)
	if err != nil {
		return nil, err
	}
	if err := svc.RegisterJobs(core.Queue); err != nil {
		return nil, err
	}
	if opts.Notifier != nil {
		go svc.RunNotifier(ctx, time.Minute, 5*time.Minute, func(err error) { log.Warn("mailbox notification", "error", err.Error()) })
	}
	deps.Features = append(deps.Features, web.MailboxFeature{Mailbox: svc})
	log.Info("mailbox ready", "notifications", opts.Notifier != nil)
	return svc, nil
}
