// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"log/slog"

	"rathaus"
	"rathaus/assistant"
	"rathaus/search"
	"rathaus/sqlstore"
	"rathaus/web"
)

// addAssistant builds the search index from the catalog and mounts the
// citizen assistant (/assistent, POST /api/assistant) on deps. The LLM is
// used only when llmURL is set (--llm-url / RATHAUS_LLM_URL); it then needs
// a model (--llm-model / RATHAUS_LLM_MODEL). The index reflects the catalog
// at start-up; restart after an import.
func addAssistant(ctx context.Context, env *Env, db *sqlstore.DB, deps *web.Deps, log *slog.Logger, llmURL, llmModel string) error {
	idx, n, err := assistant.BuildIndex(ctx, db.Catalog(), search.Options{DictionaryPath: env.Getenv("RATHAUS_DICTIONARY")})
	if err != nil {
		return err
	}
	opts := assistant.Options{Logger: log, HasForm: deps.HasForm}
	if llmURL != "" {
		if llmModel == "" {
			return usagef("--llm-url needs --llm-model")
		}
		c, err := assistant.NewOpenAI(assistant.OpenAIConfig{BaseURL: llmURL, Model: llmModel, APIKey: env.Getenv("RATHAUS_LLM_API_KEY")})
		if err != nil {
			return usagef("%s", rathaus.ErrorMessage(err))
		}
		opts.LLM = c
	}
	a, err := assistant.New(idx, db.Catalog(), db.Tenants(), opts)
	if err != nil {
		return err
	}
	deps.Features = append(deps.Features, web.AssistantFeature{Assistant: a})
	log.Info("assistant ready", "services", n, "llm", llmURL != "")
	return nil
}
