// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"rathaus/form"
	"rathaus/identity"
)

// This file turns a form step into the view the templates render (and the
// posted HTML form back into answers). Paths follow form.FieldError: groups
// always carry an index ("G1[0].F2"), repeatable fields too ("F3[1]").

// radioLimit: selects with at most this many options are radios.
const radioLimit = 7

// filterLimit: selects with more options get a filter box.
const filterLimit = 30

// nodeTexts are the translated texts of the form controls, looked up
// once per page and shared by every node (templates use .X.Name).
type nodeTexts struct {
	Optional, Error, Remove, Add, Prefilled, Uploaded, FilterLabel, FilterButton, Choose string
}

func newNodeTexts(t func(id string, kv ...any) string) *nodeTexts {
	return &nodeTexts{Optional: t("antrag.optional"), Error: t("antrag.error"), Remove: t("antrag.remove"), Add: t("antrag.add"),
		Prefilled: t("antrag.prefilled"), Uploaded: t("antrag.file.uploaded"), FilterLabel: t("antrag.filter.label"),
		FilterButton: t("antrag.filter.button"), Choose: t("antrag.choose")}
}

// fieldView is one field of a step.
type fieldView struct {
	X                *nodeTexts
	Path, ID, BareID string
	Label, Help      string
	Control          string // text, textarea, number, date, time, datetime, radio, select, bool, file, label, locked
	Required         bool
	Value            string
	Options          []optView
	list             *optionList // a select's options when not filtered (Options is then empty)
	Filter           string      // current filter text of a long select
	Filterable       bool
	Error            string
	Prefilled        bool
	MaxLength        int
	Hint             string // format help
	Accept           string
	MaxSizeKB        int64
	File             *fileView
	Hidden           bool // show-if condition false (server side)
	Text             string
}

// fileView is an uploaded file shown next to its field.
type fileView struct {
	ID, Name, MediaType string
	Size                int64
}

// optView is one choice of a select.
type optView struct {
	Code, Name, ID string
	Selected       bool
}

// groupView is a group (fieldset) with its instances.
type groupView struct {
	X                *nodeTexts
	Path, ID, BareID string
	Legend, Help     string
	Repeatable       bool
	CanAdd           bool
	Count            int
	Instances        []instanceView
	Error            string
	Hidden           bool
	Top              bool
}

// instanceView is one instance of a group (or of a repeatable field).
type instanceView struct {
	X         *nodeTexts
	Path      string
	N         int // 1-based
	Nodes     []nodeView
	CanRemove bool
	Rules     string // JSON of the conditions evaluated in this scope (form.js)
}

// nodeView is a field, a repeatable field, or a group.
type nodeView struct {
	Field    *fieldView
	Repeated *repeatedView
	Group    *groupView
}

// repeatedView is a repeatable non-file field: a list of inputs.
type repeatedView struct {
	X                *nodeTexts
	Path, ID, BareID string
	Label, Help      string
	Items            []*fieldView
	CanAdd           bool
	Count            int
	Hidden           bool
}

// stepCtx carries what building a step view needs.
type stepCtx struct {
	m        *form.Model
	lang     string
	errs     map[string]string // path → message
	filters  map[string]string // path → filter text
	counts   map[string]int    // path → instance count override
	uploads  map[string]fileView
	prefill  map[string]bool // paths filled from the profile
	hidden   map[string]bool // paths hidden by show-if
	required map[string]bool // paths required by required-if
	tx       *nodeTexts
	slab     []fieldView // field views are allocated in chunks (newField)
}

// newField returns a zero field view from the current chunk.
func (sc *stepCtx) newField() *fieldView {
	if len(sc.slab) == cap(sc.slab) {
		sc.slab = make([]fieldView, 0, min(max(8, 2*cap(sc.slab)), 64))
	}
	sc.slab = sc.slab[:len(sc.slab)+1]
	return &sc.slab[len(sc.slab)-1]
}

// indexed returns path[i].
func indexed(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// fid is the HTML id of the element at an answer path: "f-" and the path
// with "[" → "-", "]" dropped and "." → "_".
func fid(path string) string {
	b := make([]byte, 2, len(path)+2)
	b[0], b[1] = 'f', '-'
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '[':
			b = append(b, '-')
		case ']':
		case '.':
			b = append(b, '_')
		default:
			b = append(b, c)
		}
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func joinPath(parent, id string) string {
	if parent == "" {
		return id
	}
	return parent + "." + id
}

func label(it *form.Item) string {
	if it.Label != "" {
		return it.Label
	}
	if it.OutputLabel != "" {
		return it.OutputLabel
	}
	return it.Name
}

// rulesJSON serialises the conditions of a scope for form.js.
func rulesJSON(rules []form.Rule) string {
	var cs []form.Condition
	for _, r := range rules {
		for _, c := range r.Conditions {
			if c.Kind == form.ShowIf || c.Kind == form.RequiredIf {
				cs = append(cs, c)
			}
		}
	}
	if len(cs) == 0 {
		return ""
	}
	b, _ := json.Marshal(cs)
	return string(b)
}

// scopeRules mirrors form's scope: a group's own rules and its direct fields'.
func scopeRules(g *form.Item) []form.Rule {
	rules := slices.Clip(g.Rules)
	for _, c := range g.Items {
		if c.Kind == form.KindField && len(c.Rules) > 0 {
			rules = append(rules, c.Rules...)
		}
	}
	return rules
}

// rootRules are the conditions evaluated at the top level.
func rootRules(m *form.Model) []form.Rule {
	var rules []form.Rule
	for _, r := range m.Rules {
		if r.Owner == m.ID {
			rules = append(rules, r)
		}
	}
	for _, it := range m.Root {
		if it.Kind == form.KindField {
			rules = append(rules, it.Rules...)
		}
	}
	return rules
}

// findAnswer returns the value of the first element id in the subtree
// (first element of arrays), as form's validator does.
func findAnswer(items []form.Item, obj map[string]any, id string) (any, bool) {
	for i := range items {
		it := &items[i]
		val := obj[it.ID]
		if arr, ok := val.([]any); ok {
			if it.ID == id {
				return val, len(arr) > 0
			}
			if len(arr) == 0 {
				continue
			}
			val = arr[0]
		}
		if it.ID == id {
			return val, val != nil
		}
		if it.Kind == form.KindGroup {
			if sub, ok := val.(map[string]any); ok {
				if v, ok := findAnswer(it.Items, sub, id); ok {
					return v, true
				}
			}
		}
	}
	return nil, false
}

func condHolds(items []form.Item, obj map[string]any, c form.Condition) bool {
	val, ok := findAnswer(items, obj, c.Field)
	switch c.Op {
	case form.OpFilled:
		return ok
	case form.OpEmpty:
		return !ok
	}
	return ok && slices.Contains(c.Values, scalar(val))
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

// conditions evaluates the recognised rules like form.Validate does: a
// show-if or required-if condition is evaluated in the scope of the rule's
// owner and applies to every element with the target id below that scope.
// It returns the paths of hidden elements (not descended into) and of
// elements made required; groups without answers are walked with an empty
// instance so that the page knows the state of every element.
func conditions(m *form.Model, ans map[string]any) (hidden, required map[string]bool) {
	return conditionsIn(m, ans, nil)
}

// conditionsIn is conditions for the subtrees of the top-level items only
// (all when only is nil): the state of a step's elements does not depend
// on the other steps' groups, only on answers anywhere.
func conditionsIn(m *form.Model, ans map[string]any, only []form.Item) (hidden, required map[string]bool) {
	hidden, required = map[string]bool{}, map[string]bool{}
	var scope func(items []form.Item, rules []form.Rule, obj map[string]any, path string, hid, req map[string]bool)
	scope = func(items []form.Item, rules []form.Rule, obj map[string]any, path string, hid, req map[string]bool) {
		if len(rules) > 0 {
			h2, r2 := make(map[string]bool, len(hid)), make(map[string]bool, len(req))
			for k := range hid {
				h2[k] = true
			}
			for k := range req {
				r2[k] = true
			}
			hid, req = h2, r2
			for _, r := range rules {
				for _, c := range r.Conditions {
					switch c.Kind {
					case form.ShowIf:
						if !condHolds(items, obj, c) {
							hid[c.Target] = true
						}
					case form.RequiredIf:
						if condHolds(items, obj, c) {
							req[c.Target] = true
						}
					}
				}
			}
		}
		for i := range items {
			it := &items[i]
			p := joinPath(path, it.ID)
			if hid[it.ID] {
				hidden[p] = true
				continue
			}
			if req[it.ID] {
				required[p] = true
			}
			if it.Kind != form.KindGroup || path == "" && only != nil && !hasID(only, it.ID) {
				continue
			}
			insts := instances(obj[it.ID])
			if len(insts) == 0 {
				insts = []any{nil}
			}
			for n, inst := range insts {
				sub, _ := inst.(map[string]any)
				if sub == nil {
					sub = map[string]any{}
				}
				scope(it.Items, scopeOf(it).rules, sub, indexed(p, n), hid, req)
			}
		}
	}
	scope(m.Root, infoOf(m).rootRules, ans, "", map[string]bool{}, map[string]bool{})
	return hidden, required
}

// hasID reports whether items has an item with id.
func hasID(items []form.Item, id string) bool {
	for i := range items {
		if items[i].ID == id {
			return true
		}
	}
	return false
}

// instances returns the instances of a value: the array, or the value itself.
func instances(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// buildStep builds the view of one step from the answers.
func (sc *stepCtx) buildStep(step form.Step, ans map[string]any) []nodeView {
	sc.hidden, sc.required = conditionsIn(sc.m, ans, step.Items)
	return sc.nodes(step.Items, ans, "", true)
}

func (sc *stepCtx) nodes(items []form.Item, obj map[string]any, path string, top bool) []nodeView {
	out := make([]nodeView, 0, len(items))
	for i := range items {
		it := &items[i]
		p := joinPath(path, it.ID)
		hidden := sc.hidden[p]
		if it.Kind == form.KindGroup {
			out = append(out, nodeView{Group: sc.group(it, obj[it.ID], p, hidden, top)})
			continue
		}
		if it.Feldart == form.FeldHidden {
			continue
		}
		if it.Repeatable() && it.Datentyp != form.TypFile {
			out = append(out, nodeView{Repeated: sc.repeated(it, obj[it.ID], p, hidden)})
			continue
		}
		if it.Repeatable() { // files: one node per uploaded file plus one empty input
			vals := instances(obj[it.ID])
			for n, v := range vals {
				f := sc.field(it, v, indexed(p, n), hidden)
				out = append(out, nodeView{Field: f})
			}
			if it.Max < 0 || len(vals) < it.Max {
				f := sc.field(it, nil, indexed(p, len(vals)), hidden)
				f.Required = f.Required && len(vals) < it.Min
				out = append(out, nodeView{Field: f})
			}
			continue
		}
		out = append(out, nodeView{Field: sc.field(it, obj[it.ID], p, hidden)})
	}
	return out
}

func (sc *stepCtx) count(path string, have, min, max int) int {
	n := have
	if c, ok := sc.counts[path]; ok {
		n = c
	}
	if n < min {
		n = min
	}
	if n < 1 {
		n = 1
	}
	if max > 0 && n > max {
		n = max
	}
	return n
}

func (sc *stepCtx) group(it *form.Item, val any, path string, hidden, top bool) *groupView {
	g := &groupView{X: sc.tx, Path: path, ID: fid(path), BareID: it.ID, Legend: label(it), Help: it.Help, Repeatable: it.Repeatable(), Hidden: hidden, Top: top}
	if e, ok := sc.errs[path]; ok {
		g.Error = e
	}
	insts := instances(val)
	n := 1
	if g.Repeatable {
		n = sc.count(path, len(insts), it.Min, it.Max)
		g.CanAdd = it.Max < 0 || n < it.Max
	}
	g.Count = n
	for i := 0; i < n; i++ {
		var sub map[string]any
		if i < len(insts) {
			sub, _ = insts[i].(map[string]any)
		}
		if sub == nil {
			sub = map[string]any{}
		}
		ip := indexed(path, i)
		if e, ok := sc.errs[ip]; ok && g.Error == "" {
			g.Error = e
		}
		g.Instances = append(g.Instances, instanceView{X: sc.tx, Path: ip, N: i + 1, Nodes: sc.nodes(it.Items, sub, ip, false),
			CanRemove: g.Repeatable && n > it.Min && n > 0, Rules: scopeOf(it).json})
	}
	return g
}

func (sc *stepCtx) repeated(it *form.Item, val any, path string, hidden bool) *repeatedView {
	rv := &repeatedView{X: sc.tx, Path: path, ID: fid(path), BareID: it.ID, Label: label(it), Help: it.Help, Hidden: hidden}
	vals := instances(val)
	n := sc.count(path, len(vals), it.Min, it.Max)
	rv.Count, rv.CanAdd = n, it.Max < 0 || n < it.Max
	for i := 0; i < n; i++ {
		var v any
		if i < len(vals) {
			v = vals[i]
		}
		f := sc.field(it, v, indexed(path, i), hidden)
		f.Label = fmt.Sprintf("%s (%d)", label(it), i+1)
		f.Required = i < it.Min
		rv.Items = append(rv.Items, f)
	}
	return rv
}

func (sc *stepCtx) field(it *form.Item, val any, path string, hidden bool) *fieldView {
	bare := strings.TrimSuffix(path, "]")
	if i := strings.LastIndex(bare, "["); i > 0 && strings.HasSuffix(path, "]") && strings.HasSuffix(bare[:i], it.ID) {
		bare = bare[:i]
	} else {
		bare = path
	}
	f := sc.newField()
	*f = fieldView{X: sc.tx, Path: path, ID: fid(path), BareID: it.ID, Label: label(it), Help: it.Help, Hidden: hidden,
		Required: it.Min > 0 || sc.required[bare], Value: scalar(val), MaxLength: it.Constraints.MaxLength, Prefilled: sc.prefill[path]}
	if e, ok := sc.errs[path]; ok {
		f.Error = e
	}
	de := sc.lang != "en"
	t := func(a, b string) string {
		if de {
			return a
		}
		return b
	}
	switch {
	case it.Feldart == form.FeldLabel:
		f.Control, f.Text = "label", it.Inhalt
		if f.Text == "" {
			f.Text = f.Label
		}
		return f
	case it.Feldart == form.FeldLocked:
		f.Control = "locked"
		if f.Value == "" {
			f.Value = it.Inhalt
		}
		return f
	case it.Feldart == form.FeldSelect || len(it.Values) > 0:
		opts := options(sc.m, it)
		if len(opts) == 0 {
			f.Control = "text"
			break
		}
		f.Control = "select"
		if len(opts) <= radioLimit {
			f.Control = "radio"
		}
		f.Filterable = len(opts) > filterLimit
		f.Filter = sc.filters[path]
		needle := strings.ToLower(strings.TrimSpace(f.Filter))
		if f.Control == "select" && needle == "" {
			f.list = cachedOptions(opts)
			return f
		}
		f.Options = make([]optView, 0, len(opts))
		for i, o := range opts {
			sel := o.Code == f.Value
			if needle != "" && !sel && !strings.Contains(strings.ToLower(o.Name), needle) && !strings.HasPrefix(strings.ToLower(o.Code), needle) {
				continue
			}
			name := o.Name
			if name == "" {
				name = o.Code
			}
			f.Options = append(f.Options, optView{Code: o.Code, Name: name, ID: f.ID + "-" + strconv.Itoa(i), Selected: sel})
		}
		return f
	}
	switch it.Datentyp {
	case form.TypBool:
		f.Control = "bool"
		f.Options = []optView{{Code: "true", Name: t("Ja", "Yes"), ID: f.ID + "-ja", Selected: f.Value == "true"},
			{Code: "false", Name: t("Nein", "No"), ID: f.ID + "-nein", Selected: f.Value == "false"}}
	case form.TypDate:
		f.Control, f.Hint = "date", t("Format: TT.MM.JJJJ (z. B. 31.12.1980)", "Format: DD.MM.YYYY (e.g. 31.12.1980)")
	case form.TypTime:
		f.Control, f.Hint = "time", t("Format: hh:mm (z. B. 14:30)", "Format: hh:mm (e.g. 14:30)")
	case form.TypDateTime:
		f.Control, f.Hint = "datetime", t("Format: TT.MM.JJJJ hh:mm", "Format: DD.MM.YYYY hh:mm")
		if d, err := time.Parse(time.RFC3339, f.Value); err == nil {
			f.Value = d.In(berlin).Format("2006-01-02T15:04")
		}
	case form.TypNum, form.TypNumInt, form.TypNumCurrency:
		f.Control = "number"
		if it.Datentyp == form.TypNumCurrency {
			f.Hint = t("Betrag in Euro, z. B. 12,50", "Amount in euros, e.g. 12.50")
		}
		if de {
			f.Value = strings.Replace(f.Value, ".", ",", 1)
		}
	case form.TypFile, form.TypObj:
		f.Control = "file"
		f.Accept = strings.Join(it.MediaTypes, ",")
		f.MaxSizeKB = it.MaxSize
		if obj, ok := val.(map[string]any); ok {
			fv := fileView{}
			fv.ID, _ = obj["id"].(string)
			fv.Name, _ = obj["name"].(string)
			fv.MediaType, _ = obj["mediaType"].(string)
			if n, ok := obj["size"].(json.Number); ok {
				fv.Size, _ = n.Int64()
			} else if n, ok := obj["size"].(float64); ok {
				fv.Size = int64(n)
			}
			if fv.Name != "" {
				f.File = &fv
			}
		}
		var parts []string
		if len(it.MediaTypes) > 0 {
			parts = append(parts, t("Erlaubte Dateitypen: ", "Allowed types: ")+strings.Join(it.MediaTypes, ", "))
		}
		if it.MaxSize > 0 {
			parts = append(parts, fmt.Sprintf(t("höchstens %d KB", "at most %d KB"), it.MaxSize))
		}
		f.Hint = strings.Join(parts, "; ")
	default:
		f.Control = "text"
		if it.Constraints.MaxLength == 0 || it.Constraints.MaxLength > 200 {
			if it.Datentyp == form.TypText && it.Constraints.Pattern == "" && (it.Constraints.MaxLength == 0 || it.Constraints.MaxLength > 500) {
				f.Control = "textarea"
			}
		}
	}
	return f
}

var (
	optionsMu    sync.Mutex
	optionsCache = map[*form.CodeList]map[string][]form.Value{}
)

// options returns the choices of a select (code list rows are converted
// once per loaded code list and cached).
func options(m *form.Model, it *form.Item) []form.Value {
	if len(it.Values) > 0 || it.CodeList == nil || m.CodeLists == nil {
		return m.Options(it)
	}
	cl := m.CodeLists[it.CodeList.Key]
	if cl == nil {
		return nil
	}
	key := it.CodeList.CodeKey + "\x00" + it.CodeList.NameKey + "\x00" + it.CodeList.HelpKey
	optionsMu.Lock()
	defer optionsMu.Unlock()
	byKey := optionsCache[cl]
	if byKey == nil {
		if len(optionsCache) > 500 { // models are reloaded now and then
			clear(optionsCache)
		}
		byKey = map[string][]form.Value{}
		optionsCache[cl] = byKey
	}
	vs, ok := byKey[key]
	if !ok {
		vs = m.Options(it)
		byKey[key] = vs
	}
	return vs
}

var berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return l
}()

// ---- parsing posted values into answers ----

// parseStep reads the posted values of a step's items into ans (replacing
// the step's top-level keys). Uploaded files are merged by the caller.
func parseStep(m *form.Model, step form.Step, vals url.Values, ans map[string]any, counts map[string]int) {
	for i := range step.Items {
		it := &step.Items[i]
		v := parseItem(m, it, vals, it.ID, ans[it.ID], counts)
		if v == nil {
			delete(ans, it.ID)
		} else {
			ans[it.ID] = v
		}
	}
}

func postedCount(vals url.Values, path string, counts map[string]int, it *form.Item) int {
	n := 1
	if c, ok := counts[path]; ok {
		n = c
	} else if s := vals.Get("count:" + path); s != "" {
		if c, err := strconv.Atoi(s); err == nil {
			n = c
		}
	}
	if n < 0 {
		n = 0
	}
	if it.Max > 0 && n > it.Max {
		n = it.Max
	}
	if n > 200 {
		n = 200
	}
	return n
}

// parseItem returns the answer for one item at path (nil = not given).
func parseItem(m *form.Model, it *form.Item, vals url.Values, path string, old any, counts map[string]int) any {
	if it.Kind == form.KindGroup {
		if !it.Repeatable() {
			oldObj, _ := first(old).(map[string]any)
			if g := parseGroup(m, it, vals, path+"[0]", oldObj, counts); g != nil {
				return g
			}
			return nil
		}
		n := postedCount(vals, path, counts, it)
		olds := instances(old)
		var arr []any
		for i := 0; i < n; i++ {
			var oldObj map[string]any
			if i < len(olds) {
				oldObj, _ = olds[i].(map[string]any)
			}
			if g := parseGroup(m, it, vals, indexed(path, i), oldObj, counts); g != nil {
				arr = append(arr, g)
			}
		}
		if len(arr) == 0 {
			return nil
		}
		return arr
	}
	if it.Feldart == form.FeldLabel {
		return nil
	}
	if it.Feldart == form.FeldHidden || it.Feldart == form.FeldLocked {
		if it.Inhalt != "" {
			return it.Inhalt
		}
		return old
	}
	if it.Datentyp == form.TypFile || it.Datentyp == form.TypObj {
		return old // files are kept by the upload handling
	}
	if !it.Repeatable() {
		return parseScalar(it, vals.Get(path))
	}
	n := postedCount(vals, path, counts, it)
	var arr []any
	for i := 0; i < n; i++ {
		if v := parseScalar(it, vals.Get(indexed(path, i))); v != nil {
			arr = append(arr, v)
		}
	}
	if len(arr) == 0 {
		return nil
	}
	return arr
}

func first(v any) any {
	if arr, ok := v.([]any); ok {
		if len(arr) == 0 {
			return nil
		}
		return arr[0]
	}
	return v
}

func parseGroup(m *form.Model, it *form.Item, vals url.Values, path string, old map[string]any, counts map[string]int) map[string]any {
	out := map[string]any{}
	for i := range it.Items {
		c := &it.Items[i]
		var o any
		if old != nil {
			o = old[c.ID]
		}
		if v := parseItem(m, c, vals, joinPath(path, c.ID), o, counts); v != nil {
			out[c.ID] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// parseScalar converts a posted string into the answer type of the field;
// values it cannot convert are kept as strings (validation reports them).
func parseScalar(it *form.Item, s string) any {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" || !utf8.ValidString(s) {
		return nil
	}
	if it.Feldart == form.FeldSelect || len(it.Values) > 0 {
		return s
	}
	switch it.Datentyp {
	case form.TypBool:
		switch s {
		case "true":
			return true
		case "false":
			return false
		}
	case form.TypNum, form.TypNumInt, form.TypNumCurrency:
		n := strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), ",", ".")
		if _, err := strconv.ParseFloat(n, 64); err == nil && !strings.ContainsAny(n, "eEinfINFxX") {
			return json.Number(n)
		}
	case form.TypDate:
		for _, layout := range []string{"02.01.2006", "2.1.2006", "2006-01-02"} {
			if d, err := time.Parse(layout, s); err == nil {
				return d.Format("2006-01-02")
			}
		}
	case form.TypDateTime:
		for _, layout := range []string{"02.01.2006 15:04", "2006-01-02T15:04", "2006-01-02 15:04"} {
			if d, err := time.ParseInLocation(layout, s, berlin); err == nil {
				return d.Format(time.RFC3339)
			}
		}
	}
	return s
}

// dropHidden removes the answers of elements hidden by show-if conditions.
func dropHidden(m *form.Model, ans map[string]any) {
	for range 4 { // hiding can cascade; a few rounds settle real forms
		hidden, _ := conditions(m, ans)
		if len(hidden) == 0 || !removePaths(m.Root, ans, "", hidden) {
			return
		}
	}
}

func removePaths(items []form.Item, obj map[string]any, path string, hidden map[string]bool) bool {
	changed := false
	for i := range items {
		it := &items[i]
		p := joinPath(path, it.ID)
		if _, ok := obj[it.ID]; !ok {
			continue
		}
		if hidden[p] {
			delete(obj, it.ID)
			changed = true
			continue
		}
		if it.Kind == form.KindGroup {
			for n, inst := range instances(obj[it.ID]) {
				if sub, ok := inst.(map[string]any); ok {
					if removePaths(it.Items, sub, indexed(p, n), hidden) {
						changed = true
					}
				}
			}
		}
	}
	return changed
}

// ---- prefill ----

// profileValue maps a field to a value of the citizen's profile by its
// name and label (the FIM fields of the Basisdatenmodell use stable names).
func profileValue(it *form.Item, p identity.Profile) string {
	key := strings.ToLower(it.Name + " " + it.Label)
	has := func(ws ...string) bool {
		for _, w := range ws {
			if strings.Contains(key, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("geburtsname"):
		return ""
	case has("vorname", "given"):
		return p.GivenName
	case has("familienname", "nachname", "family"):
		return p.FamilyName
	case has("geburtsdatum", "birth date", "date of birth"):
		if it.Datentyp == form.TypDate {
			return p.BirthDate
		}
	case has("geburtsort"):
		return p.BirthPlace
	case has("e-mail", "email"):
		return p.Email
	case has("telefon", "phone"):
		return p.Phone
	case has("postleitzahl", "plz", "postcode"):
		return p.PostalCode
	case has("straße", "strasse", "street"):
		return p.Street
	case has("wohnort", " ort", "city"):
		return p.City
	}
	return ""
}

// prefill fills the answers of fields that allow it from the profile and
// returns the filled paths. Universal-form contact fields always allow it.
func prefill(m *form.Model, ans map[string]any, p identity.Profile, universal bool) map[string]bool {
	filled := map[string]bool{}
	var walk func(items []form.Item, obj map[string]any, path string, contact bool)
	walk = func(items []form.Item, obj map[string]any, path string, contact bool) {
		for i := range items {
			it := &items[i]
			if it.Kind == form.KindGroup {
				if it.Repeatable() {
					continue
				}
				sub, _ := obj[it.ID].(map[string]any)
				if sub == nil {
					sub = map[string]any{}
				}
				walk(it.Items, sub, joinPath(path, it.ID)+"[0]", contact || (universal && it.ID == "kontakt"))
				if len(sub) > 0 {
					obj[it.ID] = sub
				}
				continue
			}
			allowed := contact || it.Prefill == "optional" || it.Prefill == "verpflichtend"
			if !allowed || it.Repeatable() || it.Feldart != form.FeldInput || obj[it.ID] != nil {
				continue
			}
			if v := profileValue(it, p); v != "" {
				obj[it.ID] = v
				filled[joinPath(path, it.ID)] = true
			}
		}
	}
	walk(m.Root, ans, "", false)
	return filled
}
