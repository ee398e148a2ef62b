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

// stepTexts are the fixed texts of a step page (antrag_step.html), looked
// up once per language instead of by a template call each.
type stepTexts struct {
	ErrorsPrefix, Service, ErrorsTitle, RequiredNote, Next, ToCheck, Back, Save, SaveAnon string
}

// stepTexts returns the step page texts of lang (cached).
func (h *antrag) stepTexts(lang string) *stepTexts {
	if v, ok := h.stx.Load(lang); ok {
		return v.(*stepTexts)
	}
	t := func(id string) string { return h.s.i18n.T(lang, id) }
	x := &stepTexts{ErrorsPrefix: t("antrag.errors.prefix"), Service: t("antrag.service"), ErrorsTitle: t("antrag.errors.title"),
		RequiredNote: t("antrag.required.note"), Next: t("antrag.next"), ToCheck: t("antrag.tocheck"), Back: t("antrag.back"),
		Save: t("antrag.save"), SaveAnon: t("antrag.save.anon")}
	h.stx.Store(lang, x)
	return x
}

type progressKey struct {
	lang     string
	n, total int
}

// progress returns "Schritt n von total" in lang (cached: go-i18n runs a
// template for messages with data).
func (h *antrag) progress(lang string, n, total int) string {
	k := progressKey{lang, n, total}
	if v, ok := h.progs.Load(k); ok {
		return v.(string)
	}
	s := h.s.i18n.T(lang, "antrag.progress", "N", n, "Total", total)
	h.progs.Store(k, s)
	return s
}
