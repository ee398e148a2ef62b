// SPDX-License-Identifier: EUPL-1.2

// Package form is the form model of rathaus: a tree of groups and fields as
// described by a FIM Stammdatenschema (XDatenfelder 2.0 / 3.0.0, parsed by
// package fim), the rules that became conditions, the code lists of its
// selects, the validation of submitted answers and the JSON Schema 2020-12
// export of those answers (the "Fachdaten" of a FIT-Connect submission).
//
// The model is plain data: it can be stored as JSON and loaded again (the
// compiled patterns are cached by their text, not kept in the model).
//
// Answers are a JSON-friendly tree keyed by element id: a group is an object,
// a repeatable element (max > 1) is an array, a field is a string, number,
// boolean or (for file fields) an object {"name","size","mediaType"}.
package form

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Format of the source schema.
const (
	FormatXDF2 = "xdf2" // XDatenfelder 2.0
	FormatXDF3 = "xdf3" // XDatenfelder 3.0.0
)

// Kind tells a group from a field.
type Kind string

// Item kinds.
const (
	KindGroup Kind = "group"
	KindField Kind = "field"
)

// Feldart is how a field is presented (XDatenfelder code list feldart).
type Feldart string

// The five Feldarten.
const (
	FeldInput  Feldart = "input"  // the user enters a value of the Datentyp
	FeldSelect Feldart = "select" // the user chooses a code (inline values or code list)
	FeldLabel  Feldart = "label"  // static text (Inhalt), no input
	FeldHidden Feldart = "hidden" // not shown, value from Inhalt or prefill
	FeldLocked Feldart = "locked" // shown read-only (prefilled)
)

// Datentyp is the value type of a field (XDatenfelder code list datentyp).
type Datentyp string

// The Datentypen of XDatenfelder 2.0 and 3.0.0.
const (
	TypText        Datentyp = "text"
	TypTextLatin   Datentyp = "text_latin" // text in DIN 91379 String.Latin+
	TypDate        Datentyp = "date"       // YYYY-MM-DD
	TypTime        Datentyp = "time"       // hh:mm or hh:mm:ss
	TypDateTime    Datentyp = "datetime"   // RFC 3339
	TypBool        Datentyp = "bool"
	TypNum         Datentyp = "num"
	TypNumInt      Datentyp = "num_int"
	TypNumCurrency Datentyp = "num_currency" // amount in EUR, at most 2 decimals
	TypFile        Datentyp = "file"
	TypObj         Datentyp = "obj"
)

// Model is one form: a Stammdatenschema (or a single exported group).
type Model struct {
	ID        string // S… (or G… for a Datenfeldgruppe message)
	Version   string // may be empty (old v2 exports)
	Name      string // internal name
	Format    string // FormatXDF2 or FormatXDF3
	Title     string // bezeichnungEingabe (v2) / bezeichnung (v3); Name when empty
	Help      string // hilfetext of the schema
	Status    string // aktiv/inaktiv/inVorbereitung (v2) or freigabestatus code (v3)
	Root      []Item
	Rules     []Rule               // distinct (id, version) rules of the whole tree
	CodeLists map[string]*CodeList // by CodeListRef.Key
	Warnings  []string
}

// Item is a group (Datenfeldgruppe) or a field (Datenfeld) at one place in
// the tree. Reused elements appear in full at every place they are used; the
// key of an element is (ID, Version).
type Item struct {
	Kind        Kind
	ID          string
	Version     string
	Name        string // internal name
	Label       string // bezeichnungEingabe
	OutputLabel string // bezeichnungAusgabe
	Help        string // hilfetextEingabe
	LegalBasis  string // bezug of the element
	Status      string
	// Min and Max are the multiplicity of this use ("anzahl" min:max); Max
	// -1 means unbounded. Max != 1 makes the item repeatable (an array in
	// the answers).
	Min, Max int
	Rules    []Rule // rules hanging on this element (conditions in its scope)

	// Group only.
	Items []Item `json:",omitempty"`

	// Field only.
	Feldart     Feldart      `json:",omitempty"`
	Datentyp    Datentyp     `json:",omitempty"`
	Constraints Constraints  `json:",omitzero"`
	Values      []Value      `json:",omitempty"` // inline values (v3 werte)
	CodeList    *CodeListRef `json:",omitempty"`
	Prefill     string       `json:",omitempty"` // v3 vorbefuellung: keine|optional|verpflichtend
	MaxSize     int64        `json:",omitempty"` // v3 maxSize of a file field, in kilobytes
	MediaTypes  []string     `json:",omitempty"` // v3 mediaType of a file field
	Inhalt      string       `json:",omitempty"` // label text or default value
}

// Repeatable reports whether the item is an array in the answers.
func (it *Item) Repeatable() bool { return it.Max != 1 }

// Key returns "ID:Version", the identity of the element.
func (it *Item) Key() string { return it.ID + ":" + it.Version }

// Input reports whether the field takes a value in the answers (every field
// except labels).
func (it *Item) Input() bool { return it.Kind == KindField && it.Feldart != FeldLabel }

// Constraints are the Präzisierung of a field.
type Constraints struct {
	MinLength int    `json:",omitempty"` // 0 = none
	MaxLength int    `json:",omitempty"` // 0 = none
	MinValue  string `json:",omitempty"` // number, or date for date fields
	MaxValue  string `json:",omitempty"`
	Pattern   string `json:",omitempty"` // raw XSD pattern (implicitly anchored)
	Hint      string `json:",omitempty"` // legacy non-JSON Präzisierung text, kept for designers
}

var patternCache sync.Map // raw pattern → *regexp.Regexp or error

// Regexp returns the compiled pattern, nil when there is none or when it
// does not compile (see CompilePattern).
func (c Constraints) Regexp() *regexp.Regexp {
	if c.Pattern == "" {
		return nil
	}
	re, err := CompilePattern(c.Pattern)
	if err != nil {
		return nil
	}
	return re
}

// CompilePattern compiles an XSD pattern with XSD semantics: the pattern is
// implicitly anchored, so it is compiled as ^(?:…)$. A leading ^ and an
// unescaped trailing $ (Java habits seen in real files) are dropped first,
// since they are meant as anchors. Patterns Go's RE2 cannot compile
// (lookarounds, back references, XSD character class subtraction, \i \c)
// return an error.
func CompilePattern(raw string) (*regexp.Regexp, error) {
	if v, ok := patternCache.Load(raw); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, v.(error)
	}
	p := anchoredPattern(raw)
	if strings.Contains(p, "-[") || strings.Contains(p, `\i`) || strings.Contains(p, `\c`) {
		err := fmt.Errorf("XSD-Konstrukt wird nicht unterstützt / unsupported XSD construct in pattern %q", raw)
		patternCache.Store(raw, err)
		return nil, err
	}
	re, err := regexp.Compile(p)
	if err != nil {
		err = fmt.Errorf("pattern %q: %v", raw, err)
		patternCache.Store(raw, err)
		return nil, err
	}
	patternCache.Store(raw, re)
	return re, nil
}

// anchoredPattern returns the Go regular expression text for an XSD
// pattern: ^(?:…)$ around it, without a leading ^ or trailing $.
func anchoredPattern(raw string) string {
	p := raw
	if strings.HasPrefix(p, "^") {
		p = p[1:]
	}
	if strings.HasSuffix(p, "$") && !strings.HasSuffix(p, `\$`) {
		p = p[:len(p)-1]
	}
	return `^(?:` + p + `)$`
}

// Value is one option of a select: a code with its label and help.
type Value struct {
	Code string
	Name string
	Help string `json:",omitempty"`
}

// CodeListRef is a select field's reference to a genericode code list.
type CodeListRef struct {
	ID                  string `json:",omitempty"` // C… (v2)
	Canonical           string `json:",omitempty"` // canonicalIdentification
	Version             string `json:",omitempty"`
	CanonicalVersionURI string `json:",omitempty"`
	CodeKey             string `json:",omitempty"` // v3: column id of the code
	NameKey             string `json:",omitempty"` // v3: column id of the label
	HelpKey             string `json:",omitempty"` // v3: column id of the help
	// Key is the key of the list in Model.CodeLists: the canonical version
	// URI, else canonical + "_" + version, else the C… id.
	Key string
}

// CodeList is a parsed genericode code list.
type CodeList struct {
	ShortName           string
	LongName            string `json:",omitempty"`
	Version             string
	CanonicalURI        string
	CanonicalVersionURI string
	Columns             []string   // column ids in order
	CodeColumn          string     // column of the codes (Key "codeKey", else the first Key)
	NameColumn          string     // column of the labels
	Rows                [][]string // cells aligned with Columns
}

// Column returns the index of a column id, -1 when unknown.
func (cl *CodeList) Column(id string) int {
	for i, c := range cl.Columns {
		if c == id {
			return i
		}
	}
	return -1
}

// Values returns the options of the list using the given column ids; empty
// ids choose the list's default code and name columns.
func (cl *CodeList) Values(codeKey, nameKey, helpKey string) []Value {
	if codeKey == "" || cl.Column(codeKey) < 0 {
		codeKey = cl.CodeColumn
	}
	if nameKey == "" || cl.Column(nameKey) < 0 {
		nameKey = cl.NameColumn
	}
	ci, ni, hi := cl.Column(codeKey), cl.Column(nameKey), cl.Column(helpKey)
	if ci < 0 {
		return nil
	}
	out := make([]Value, 0, len(cl.Rows))
	for _, r := range cl.Rows {
		v := Value{Code: cell(r, ci), Name: cell(r, ni), Help: cell(r, hi)}
		if v.Code == "" {
			continue
		}
		if v.Name == "" {
			v.Name = v.Code
		}
		out = append(out, v)
	}
	return out
}

func cell(r []string, i int) string {
	if i < 0 || i >= len(r) {
		return ""
	}
	return r[i]
}

// Options returns the values a select field may take: its inline values or
// the rows of its code list. nil means "unknown" (no list available), which
// disables the membership check.
func (m *Model) Options(it *Item) []Value {
	if len(it.Values) > 0 {
		return it.Values
	}
	if it.CodeList == nil || m.CodeLists == nil {
		return nil
	}
	cl := m.CodeLists[it.CodeList.Key]
	if cl == nil {
		return nil
	}
	return cl.Values(it.CodeList.CodeKey, it.CodeList.NameKey, it.CodeList.HelpKey)
}

// Rule is a FIM rule (Regel): the controlled German text and the
// conditions recognised in it. Scripts are kept as text and never executed.
type Rule struct {
	ID         string
	Version    string
	Name       string
	Text       string      // v2 definition / v3 freitextRegel
	Type       string      `json:",omitempty"` // v3 typ: K, M, V, B
	Script     string      `json:",omitempty"` // v2 script / v3 skript — never executed
	Owner      string      // id of the element the rule hangs on
	Conditions []Condition `json:",omitempty"`
}

// Recognised reports whether the rule's text became conditions.
func (r Rule) Recognised() bool { return len(r.Conditions) > 0 }

// ConditionKind names what a condition does.
type ConditionKind string

// Condition kinds.
const (
	// RequiredIf: when Field satisfies Op/Values, Target must be given.
	RequiredIf ConditionKind = "required_if"
	// ShowIf: Target is shown (and may be given) only when Field satisfies
	// Op/Values; otherwise it must be absent.
	ShowIf ConditionKind = "show_if"
	// OneOf: exactly one of Targets must be given.
	OneOf ConditionKind = "one_of"
	// AtLeastOne: at least one of Targets must be given.
	AtLeastOne ConditionKind = "at_least_one"
)

// Operators of a condition on a trigger field.
const (
	OpEq     = "eq"     // the field's value is one of Values
	OpFilled = "filled" // the field is given
	OpEmpty  = "empty"  // the field is not given
)

// Condition is a recognised rule. Element ids are bare ids (no version) and
// refer to the first element with that id in the subtree of the rule's
// owner (its scope).
type Condition struct {
	Kind    ConditionKind
	Field   string   `json:",omitempty"` // trigger field (RequiredIf, ShowIf)
	Op      string   `json:",omitempty"` // OpEq, OpFilled, OpEmpty
	Values  []string `json:",omitempty"` // for OpEq: any of these codes
	Target  string   `json:",omitempty"` // RequiredIf, ShowIf
	Targets []string `json:",omitempty"` // OneOf, AtLeastOne
}

// Walk calls fn for every item in document order with its parent (nil at
// the top level); returning false skips the item's children.
func (m *Model) Walk(fn func(it *Item, parent *Item) bool) {
	var walk func(items []Item, parent *Item)
	walk = func(items []Item, parent *Item) {
		for i := range items {
			if fn(&items[i], parent) && items[i].Kind == KindGroup {
				walk(items[i].Items, &items[i])
			}
		}
	}
	walk(m.Root, nil)
}

// Counts are distinct (id, version) counts of a model.
type Counts struct {
	Fields, Groups, FieldUses, GroupUses int
}

// Count returns the number of distinct (id, version) fields and groups and
// their occurrences in the tree.
func (m *Model) Count() Counts {
	var c Counts
	seen := map[string]bool{}
	m.Walk(func(it *Item, _ *Item) bool {
		k := string(it.Kind) + ":" + it.Key()
		first := !seen[k]
		seen[k] = true
		if it.Kind == KindGroup {
			c.GroupUses++
			if first {
				c.Groups++
			}
		} else {
			c.FieldUses++
			if first {
				c.Fields++
			}
		}
		return true
	})
	return c
}

// RulesRecognised returns how many of m.Rules became conditions.
func (m *Model) RulesRecognised() int {
	n := 0
	for _, r := range m.Rules {
		if r.Recognised() {
			n++
		}
	}
	return n
}

// Step is one page of the form.
type Step struct {
	ID    string // id of the top-level group, or "" for a run of top-level fields
	Title string
	Help  string
	Items []Item // the group itself (one item), or the run of top-level fields
}

// Steps returns one step per top-level group; consecutive top-level fields
// form their own step, titled with the form's title.
func (m *Model) Steps() []Step {
	var steps []Step
	for _, it := range m.Root {
		if it.Kind == KindGroup {
			title := it.Label
			if title == "" {
				title = it.Name
			}
			steps = append(steps, Step{ID: it.ID, Title: title, Help: it.Help, Items: []Item{it}})
			continue
		}
		if n := len(steps); n > 0 && steps[n-1].ID == "" {
			steps[n-1].Items = append(steps[n-1].Items, it)
			continue
		}
		title := m.Title
		if title == "" {
			title = m.Name
		}
		steps = append(steps, Step{Title: title, Items: []Item{it}})
	}
	return steps
}

// Find returns the first item with the given id in document order, or nil.
func (m *Model) Find(id string) *Item {
	var found *Item
	m.Walk(func(it *Item, _ *Item) bool {
		if found != nil {
			return false
		}
		if it.ID == id {
			found = it
			return false
		}
		return true
	})
	return found
}
