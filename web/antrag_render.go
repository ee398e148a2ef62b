// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"weak"

	"rathaus/form"
)

// What a step page needs of a form version and does not depend on the
// answers is derived once per loaded model and kept while the model is
// alive: the steps, the top-level rules and their JSON for form.js, and
// the rules of each group scope.

// modelInfo is the answer-independent part of a model's step pages.
type modelInfo struct {
	steps     []form.Step
	rootRules []form.Rule
	rootJSON  string
}

// modelInfos maps a weak model pointer to its *modelInfo; the entry is
// removed when the model is garbage collected (models are reloaded every
// modelTTL).
var modelInfos sync.Map

// infoOf returns the cached modelInfo of m.
func infoOf(m *form.Model) *modelInfo {
	key := weak.Make(m)
	if v, ok := modelInfos.Load(key); ok {
		return v.(*modelInfo)
	}
	rules := rootRules(m)
	mi := &modelInfo{steps: m.Steps(), rootRules: rules, rootJSON: rulesJSON(rules)}
	if v, loaded := modelInfos.LoadOrStore(key, mi); loaded {
		return v.(*modelInfo)
	}
	runtime.AddCleanup(m, func(k weak.Pointer[form.Model]) { modelInfos.Delete(k) }, key)
	return mi
}

// scopeKey identifies a group's scope by what scopeRules reads: the
// group's rules and its items (the backing arrays of the model, kept
// alive by the key, so a key is never reused for another group).
type scopeKey struct {
	rules  *form.Rule
	items  *form.Item
	nr, ni int
}

// scopeInfo is a group scope's rules and their JSON for form.js.
type scopeInfo struct {
	rules []form.Rule
	json  string
}

var (
	scopeInfos     sync.Map // scopeKey → *scopeInfo
	scopeInfoCount atomic.Int64
)

// scopeInfoMax bounds scopeInfos; it is cleared when it grows past.
const scopeInfoMax = 20000

// scopeOf returns the cached rules of a group's scope (scopeRules) and
// their JSON (rulesJSON).
func scopeOf(g *form.Item) *scopeInfo {
	if len(g.Items) == 0 && len(g.Rules) == 0 {
		return &scopeInfo{}
	}
	var key scopeKey
	if len(g.Rules) > 0 {
		key.rules, key.nr = &g.Rules[0], len(g.Rules)
	}
	if len(g.Items) > 0 {
		key.items, key.ni = &g.Items[0], len(g.Items)
	}
	if v, ok := scopeInfos.Load(key); ok {
		return v.(*scopeInfo)
	}
	rules := slices.Clip(scopeRules(g))
	si := &scopeInfo{rules: rules, json: rulesJSON(rules)}
	if scopeInfoCount.Add(1) > scopeInfoMax {
		scopeInfos.Clear()
		scopeInfoCount.Store(1)
	}
	scopeInfos.Store(key, si)
	return si
}
