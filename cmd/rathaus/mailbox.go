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
	"rathaus/sqlstore"
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
// RATHAUS_SMTP_FROM, sent by a sweep every 15 s (with a job queue wired,
// mailbox.Options.Queue and Service.RegisterJobs send them at once); the
// process wiring sets Service.OnReply (mailbox.AnsweredHook).
func addMailbox(ctx context.Context, env *Env, db *sqlstore.DB, deps *web.Deps, log *slog.Logger, dataDir string, demo bool, base string) (*mailbox.Service, error) {
	mk, err := serveMasterKey(env, dataDir, demo, log)
	if err != nil {
		return nil, err
	}
	if mk == nil {
		log.Warn("no vault master key (RATHAUS_MASTER_KEY): mailbox and application status pages are off")
		return nil, nil
	}
	opts := mailbox.Options{DB: db, Sealer: vault.New(db.VaultKeys(), mk), BaseURL: base,
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
	if opts.Notifier != nil {
		// No job queue in serve yet: a sweep sends the notifications (once
		// per message, also with several nodes).
		go svc.RunNotifier(ctx, 15*time.Second, 5*time.Second, func(err error) { log.Warn("mailbox notification", "error", err.Error()) })
	}
	deps.Features = append(deps.Features, web.MailboxFeature{Mailbox: svc})
	log.Info("mailbox ready", "notifications", opts.Notifier != nil)
	return svc, nil
}
