// SPDX-License-Identifier: EUPL-1.2

package form

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Answers are the Fachdaten of one application: keyed by element id, groups
// as objects, repeatable elements as arrays. It is what encoding/json
// produces from the submitted JSON (strings, float64 or json.Number, bools,
// map[string]any, []any).
//
// A key that is missing or null means "not given". Empty strings and empty
// objects are values (and fail validation); callers that collect answers
// from HTML forms should call Compact first.
type Answers map[string]any

// Compact returns a copy of a without null values, empty strings, empty
// objects and empty arrays (recursively), so that "left blank" becomes
// "not given".
func (a Answers) Compact() Answers {
	out, _ := compact(map[string]any(a)).(map[string]any)
	if out == nil {
		return Answers{}
	}
	return Answers(out)
}

func compact(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return x
	case Answers:
		return compact(map[string]any(x))
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if c := compact(e); c != nil {
				out[k] = c
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			if c := compact(e); c != nil {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// ValidateOptions tune Validate.
type ValidateOptions struct {
	// Partial skips "missing" checks (required, minimum multiplicity,
	// required-if, at-least-one): for drafts and for checking one step.
	Partial bool
	// Items restricts validation to these top-level element ids (one step);
	// empty means the whole form. Conditions still see all answers;
	// form-level one-of/at-least-one rules and unknown top-level keys are
	// left to the whole-form check.
	Items []string
}

// FieldError is one problem with the answers.
type FieldError struct {
	// Path locates the element: ids joined by ".", groups always with an
	// index ("G60000086[0].F60000243"), repeatable fields with an index.
	// "" is the form itself.
	Path      string
	Code      string // stable machine code, see the Err* constants
	Message   string // German, for citizens
	MessageEN string // English
}

// Error returns "path: German message".
func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// Error codes of FieldError.
const (
	ErrRequired   = "required"
	ErrEmpty      = "empty"
	ErrType       = "type"
	ErrMinLength  = "min_length"
	ErrMaxLength  = "max_length"
	ErrMinValue   = "min_value"
	ErrMaxValue   = "max_value"
	ErrPattern    = "pattern"
	ErrNotInList  = "not_in_list"
	ErrLatin      = "latin"
	ErrDate       = "date"
	ErrTime       = "time"
	ErrDateTime   = "datetime"
	ErrMinItems   = "min_items"
	ErrMaxItems   = "max_items"
	ErrNotAllowed = "not_allowed"
	ErrUnknown    = "unknown"
	ErrOneOf      = "one_of"
	ErrAtLeastOne = "at_least_one"
	ErrFileSize   = "file_size"
	ErrMediaType  = "media_type"
	ErrDecimals   = "decimals"
)

type validator struct {
	m    *Model
	opts ValidateOptions
	only map[string]bool // top-level items to check (ValidateOptions.Items)
	errs []FieldError
	// hidden and required are the targets of the ShowIf conditions that
	// failed and of the RequiredIf conditions that hold, in the scopes from
	// the root to the one being checked: each scope pushes its own and
	// truncates them again on the way out (a stack instead of a map copied
	// per scope; the sets are small).
	hidden, required []string
	hbuf             [32]string
	rbuf             [8]string
	// hmask and rmask have bit idBit(t) set for every target t on the
	// stacks: most items are on neither, and the mask says so without a
	// scan.
	hmask, rmask uint64
	// segs is the path of the group (element) being checked, root first:
	// pushed and popped along the walk, joined only for an error.
	segs []seg
	sbuf [8]seg
}

// seg is one step of a path: the element id with its index, "id[idx]".
type seg struct {
	id  string
	idx int
}

// path returns the current group path as FieldError.Path shows it ("" is
// the form itself).
func (v *validator) path() string {
	if len(v.segs) == 0 {
		return ""
	}
	var buf [128]byte
	b := buf[:0]
	for i, sg := range v.segs {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, sg.id...)
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(sg.idx), 10)
		b = append(b, ']')
	}
	return string(b)
}

func (v *validator) add(path, code, de, en string) {
	v.errs = append(v.errs, FieldError{Path: path, Code: code, Message: de, MessageEN: en})
}

// Validate checks answers against the model: structure (unknown keys,
// objects for groups, arrays for repeatable elements), multiplicity,
// required fields including the recognised conditions, types, lengths,
// value ranges, patterns, code list membership, DIN 91379 for text_latin,
// date and time formats, file size and media type. Errors are sorted by
// path.
func (m *Model) Validate(ans Answers, opts ValidateOptions) []FieldError {
	v := &validator{m: m, opts: opts}
	v.hidden, v.required, v.segs = v.hbuf[:0], v.rbuf[:0], v.sbuf[:0]
	if len(opts.Items) > 0 {
		v.only = map[string]bool{}
		for _, id := range opts.Items {
			v.only[id] = true
		}
	}
	var rules []Rule
	for _, r := range m.Rules {
		if r.Owner == m.ID {
			rules = append(rules, r)
		}
	}
	for _, it := range m.Root {
		if it.Kind == KindField {
			rules = append(rules, it.Rules...)
		}
	}
	obj := map[string]any(ans)
	if obj == nil {
		obj = map[string]any{}
	}
	v.scope(m.Root, rules, obj, v.only == nil)
	slices.SortStableFunc(v.errs, func(a, b FieldError) int { return strings.Compare(a.Path, b.Path) })
	return v.errs
}

// scopeRules returns the rules evaluated in a group's scope: its own and
// those of its direct fields.
func scopeRules(g *Item) []Rule {
	rules := g.Rules
	for _, c := range g.Items {
		if c.Kind == KindField && len(c.Rules) > 0 {
			rules = append(slices.Clip(rules), c.Rules...)
		}
	}
	return rules
}

func join(path, id string) string {
	if path == "" {
		return id
	}
	return path + "." + id
}

func (v *validator) scope(items []Item, rules []Rule, obj map[string]any, checkUnknown bool) {
	root := len(v.segs) == 0
	// The hidden and required targets of this scope are pushed on the
	// validator's stacks, which then hold those of all enclosing scopes.
	hLen, rLen, hMask, rMask := len(v.hidden), len(v.required), v.hmask, v.rmask
	defer func() {
		v.hidden, v.required, v.hmask, v.rmask = v.hidden[:hLen], v.required[:rLen], hMask, rMask
	}()
	for i := range rules {
		conds := rules[i].Conditions
		for j := range conds {
			c := &conds[j]
			switch c.Kind {
			case RequiredIf:
				if cond(items, obj, *c) {
					v.required = append(v.required, c.Target)
					v.rmask |= idBit(c.Target)
				}
			case ShowIf:
				if !cond(items, obj, *c) {
					v.hidden = append(v.hidden, c.Target)
					v.hmask |= idBit(c.Target)
				}
			case OneOf, AtLeastOne:
				if root && v.only != nil {
					continue // form-level choices are checked on the whole form
				}
				n := 0
				for _, t := range c.Targets {
					if _, ok := find(items, obj, t); ok {
						n++
					}
				}
				list := func() string { return strings.Join(c.Targets, ", ") }
				switch {
				case c.Kind == OneOf && n > 1:
					list := list()
					v.add(v.path(), ErrOneOf, "Bitte nur eine der Angaben machen: "+list+".", "Give only one of: "+list+".")
				case n == 0 && !v.opts.Partial && c.Kind == OneOf:
					list := list()
					v.add(v.path(), ErrOneOf, "Bitte genau eine der Angaben machen: "+list+".", "Give exactly one of: "+list+".")
				case n == 0 && !v.opts.Partial:
					list := list()
					v.add(v.path(), ErrAtLeastOne, "Bitte mindestens eine der Angaben machen: "+list+".", "Give at least one of: "+list+".")
				}
			}
		}
	}
	for i := range items {
		it := &items[i]
		if root && v.only != nil && !v.only[it.ID] {
			continue
		}
		val, present := obj[it.ID]
		if val == nil {
			present = false
		}
		if it.Kind == KindField && !it.Input() {
			if present {
				v.add(join(v.path(), it.ID), ErrNotAllowed, "Dieses Element ist ein Hinweistext und nimmt keine Angabe an.", "This element is a text and takes no answer.")
			}
			continue
		}
		bit := idBit(it.ID)
		if v.hmask&bit != 0 && slices.Contains(v.hidden, it.ID) {
			if present {
				v.add(join(v.path(), it.ID), ErrNotAllowed, "Diese Angabe ist hier nicht zulässig (Bedingung nicht erfüllt).", "This answer is not allowed here (condition not met).")
			}
			continue
		}
		minN := it.Min
		if minN < 1 && v.rmask&bit != 0 && slices.Contains(v.required, it.ID) {
			minN = 1
		}
		if !present {
			if minN >= 1 && !v.opts.Partial {
				v.add(join(v.path(), it.ID), ErrRequired, "Bitte machen Sie hier eine Angabe.", "This answer is required.")
			}
			continue
		}
		arr, isArr := val.([]any)
		if it.Repeatable() {
			if !isArr {
				v.add(join(v.path(), it.ID), ErrType, "Hier wird eine Liste von Angaben erwartet.", "A list is expected here.")
				continue
			}
			if len(arr) < minN && !v.opts.Partial {
				v.add(join(v.path(), it.ID), ErrMinItems, fmt.Sprintf("Bitte mindestens %d Angaben machen.", minN), fmt.Sprintf("Give at least %d entries.", minN))
			}
			if it.Max > 0 && len(arr) > it.Max {
				v.add(join(v.path(), it.ID), ErrMaxItems, fmt.Sprintf("Bitte höchstens %d Angaben machen.", it.Max), fmt.Sprintf("Give at most %d entries.", it.Max))
			}
			for j, e := range arr {
				v.segs = append(v.segs, seg{it.ID, j})
				if e == nil {
					v.add(v.path(), ErrRequired, "Bitte machen Sie hier eine Angabe.", "This answer is required.")
				} else {
					v.one(it, e)
				}
				v.segs = v.segs[:len(v.segs)-1]
			}
			continue
		}
		if isArr {
			v.add(join(v.path(), it.ID), ErrType, "Hier ist nur eine Angabe möglich.", "Only one answer is allowed here.")
			continue
		}
		if it.Kind == KindGroup {
			v.segs = append(v.segs, seg{it.ID, 0})
			v.one(it, val)
			v.segs = v.segs[:len(v.segs)-1]
			continue
		}
		v.field(it, val, fieldPath{v: v, id: it.ID})
	}
	if !checkUnknown {
		return
	}
	var unknown []string
	if len(items) <= 32 {
		for k := range obj {
			if !hasID(items, k) {
				unknown = append(unknown, k)
			}
		}
	} else {
		known := make(map[string]bool, len(items))
		for i := range items {
			known[items[i].ID] = true
		}
		for k := range obj {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		v.add(join(v.path(), k), ErrUnknown, "Unbekanntes Element.", "Unknown element.")
	}
}

// idBit is the bit of id in the hidden/required masks: a hash of its last
// two bytes (element ids differ mostly there: F00002920, G60000086).
func idBit(id string) uint64 {
	n := len(id)
	if n == 0 {
		return 1
	}
	h := uint(id[n-1])
	if n > 1 {
		h += 7 * uint(id[n-2])
	}
	return 1 << (h & 63)
}

// hasID reports whether one of items has the id.
func hasID(items []Item, id string) bool {
	for i := range items {
		if items[i].ID == id {
			return true
		}
	}
	return false
}

func maps2(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (v *validator) one(it *Item, val any) {
	if it.Kind == KindGroup {
		obj, ok := asObject(val)
		if !ok {
			v.add(v.path(), ErrType, "Hier wird eine Gruppe von Angaben erwartet.", "An object is expected here.")
			return
		}
		v.scope(it.Items, scopeRules(it), obj, true)
		return
	}
	v.field(it, val, fieldPath{v: v})
}

// fieldPath is the path of a field, joined only when an error needs it
// (most answers are valid; joining every path cost a third of the
// allocations of Validate).
type fieldPath struct {
	v  *validator // the current group path is v.path()
	id string     // path = join(v.path(), id); id "" means v.path() is the path
}

func (f fieldPath) String() string {
	if f.id == "" {
		return f.v.path()
	}
	return join(f.v.path(), f.id)
}

func asObject(val any) (map[string]any, bool) {
	switch x := val.(type) {
	case map[string]any:
		return x, true
	case Answers:
		return map[string]any(x), true
	}
	return nil, false
}

// find returns the value of the first element with the given id in the
// subtree described by items, following the answers (first element of
// arrays).
func find(items []Item, obj map[string]any, id string) (any, bool) {
	for i := range items {
		it := &items[i]
		val := obj[it.ID]
		if arr, ok := val.([]any); ok {
			if it.ID == id {
				if len(arr) == 0 {
					return nil, false
				}
				return val, true
			}
			if len(arr) == 0 {
				continue
			}
			val = arr[0]
		}
		if it.ID == id {
			return val, val != nil
		}
		if it.Kind == KindGroup {
			if sub, ok := asObject(val); ok {
				if v, ok := find(it.Items, sub, id); ok {
					return v, true
				}
			}
		}
	}
	return nil, false
}

// Holds reports whether the trigger of c (Field with Op and Values) holds
// for the answers obj of the subtree described by items — the same decision
// Validate makes for ShowIf and RequiredIf. Renderers that show or hide
// fields call it instead of re-implementing the lookup (nested groups,
// repeated items, Answers values, scalar comparison).
func Holds(items []Item, obj map[string]any, c Condition) bool { return cond(items, obj, c) }

func cond(items []Item, obj map[string]any, c Condition) bool {
	val, ok := find(items, obj, c.Field)
	switch c.Op {
	case OpFilled:
		return ok
	case OpEmpty:
		return !ok
	default:
		return ok && slices.Contains(c.Values, scalarString(val))
	}
}

// scalarString renders a scalar answer as the string it is compared with.
func scalarString(val any) string {
	switch x := val.(type) {
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

var (
	reTime     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$`)
	reDate     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	reDateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)
)

// validDateTime checks an RFC 3339 date-time: the syntax, a real calendar
// date, and a leap second only at 23:59 UTC (as JSON Schema's "date-time"
// format does).
func validDateTime(s string) bool {
	if !reDateTime.MatchString(s) {
		return false
	}
	if _, err := time.Parse("2006-01-02", s[:10]); err != nil {
		return false
	}
	if s[17:19] != "60" {
		return true
	}
	h, _ := strconv.Atoi(s[11:13])
	m, _ := strconv.Atoi(s[14:16])
	rest := s[19:]
	if i := strings.IndexAny(rest, "Zz+-"); i >= 0 {
		rest = rest[i:]
	}
	if rest != "Z" && rest != "z" {
		zh, _ := strconv.Atoi(rest[1:3])
		zm, _ := strconv.Atoi(rest[4:6])
		sign := 1
		if rest[0] == '+' {
			sign = -1
		}
		hm := h*60 + m + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	return h == 23 && m == 59
}

func (v *validator) field(it *Item, val any, at fieldPath) {
	if it.Feldart == FeldSelect || len(it.Values) > 0 {
		s, ok := val.(string)
		if !ok {
			v.add(at.String(), ErrType, "Bitte wählen Sie einen Wert aus der Liste.", "Choose a value from the list.")
			return
		}
		if in, known := v.m.inOptions(it, s); known && !in {
			v.add(at.String(), ErrNotInList, "Der gewählte Wert ist nicht in der Liste.", "The chosen value is not in the list.")
		}
		return
	}
	c := it.Constraints
	switch it.Datentyp {
	case TypBool:
		if _, ok := val.(bool); !ok {
			v.add(at.String(), ErrType, "Bitte wählen Sie Ja oder Nein.", "Choose yes or no.")
		}
	case TypNum, TypNumInt, TypNumCurrency:
		d, fast := fastNumber(val)
		lo, hi := boundDec(c.MinValue), boundDec(c.MaxValue)
		if !fast || (lo.set && !lo.fast) || (hi.set && !hi.fast) {
			v.numberRat(it, val, at)
			return
		}
		if it.Datentyp == TypNumInt && !d.isInt() {
			v.add(at.String(), ErrType, "Bitte geben Sie eine ganze Zahl ein.", "Enter a whole number.")
			return
		}
		if it.Datentyp == TypNumCurrency && d.scale > 2 {
			v.add(at.String(), ErrDecimals, "Bitte höchstens zwei Nachkommastellen angeben.", "Use at most two decimals.")
			return
		}
		if lo.set && d.cmp(lo.d) < 0 {
			v.add(at.String(), ErrMinValue, "Der Wert muss mindestens "+c.MinValue+" sein.", "The value must be at least "+c.MinValue+".")
		}
		if hi.set && d.cmp(hi.d) > 0 {
			v.add(at.String(), ErrMaxValue, "Der Wert darf höchstens "+c.MaxValue+" sein.", "The value must be at most "+c.MaxValue+".")
		}
	case TypFile, TypObj:
		v.file(it, val, at)
	default:
		s, ok := val.(string)
		if !ok {
			v.add(at.String(), ErrType, "Bitte geben Sie einen Text ein.", "Enter a text.")
			return
		}
		switch it.Datentyp {
		case TypDate:
			d, err := time.Parse("2006-01-02", s)
			if err != nil || !reDate.MatchString(s) {
				v.add(at.String(), ErrDate, "Bitte geben Sie ein gültiges Datum ein (JJJJ-MM-TT).", "Enter a valid date (YYYY-MM-DD).")
				return
			}
			if lo, err := time.Parse("2006-01-02", c.MinValue); err == nil && d.Before(lo) {
				v.add(at.String(), ErrMinValue, "Das Datum darf nicht vor dem "+c.MinValue+" liegen.", "The date must not be before "+c.MinValue+".")
			}
			if hi, err := time.Parse("2006-01-02", c.MaxValue); err == nil && d.After(hi) {
				v.add(at.String(), ErrMaxValue, "Das Datum darf nicht nach dem "+c.MaxValue+" liegen.", "The date must not be after "+c.MaxValue+".")
			}
			return
		case TypTime:
			if !reTime.MatchString(s) {
				v.add(at.String(), ErrTime, "Bitte geben Sie eine gültige Uhrzeit ein (hh:mm).", "Enter a valid time (hh:mm).")
			}
			return
		case TypDateTime:
			if !validDateTime(s) {
				v.add(at.String(), ErrDateTime, "Bitte geben Sie Datum und Uhrzeit ein (JJJJ-MM-TTThh:mm:ssZ).", "Enter a date and time (RFC 3339).")
			}
			return
		}
		n := utf8.RuneCountInString(s)
		if n == 0 {
			v.add(at.String(), ErrEmpty, "Die Angabe ist leer.", "The answer is empty.")
			return
		}
		if c.MinLength > 0 && n < c.MinLength {
			v.add(at.String(), ErrMinLength, fmt.Sprintf("Bitte mindestens %d Zeichen eingeben.", c.MinLength), fmt.Sprintf("Enter at least %d characters.", c.MinLength))
		}
		if c.MaxLength > 0 && n > c.MaxLength {
			v.add(at.String(), ErrMaxLength, fmt.Sprintf("Bitte höchstens %d Zeichen eingeben.", c.MaxLength), fmt.Sprintf("Enter at most %d characters.", c.MaxLength))
		}
		if re := c.Regexp(); re != nil && !re.MatchString(s) {
			v.add(at.String(), ErrPattern, "Die Angabe hat nicht das erwartete Format.", "The answer does not have the expected format.")
		}
		if it.Datentyp == TypTextLatin && !IsLatin(s) {
			v.add(at.String(), ErrLatin, "Die Angabe enthält Zeichen, die nicht zulässig sind (DIN 91379).", "The answer contains characters outside DIN 91379 String.Latin+.")
		}
	}
}

// numberRat checks a number answer exactly with big.Rat: the path for
// answers and bounds the fast decimal path (fastNumber, boundDec) does not
// handle. Same verdicts as that path where both apply.
func (v *validator) numberRat(it *Item, val any, at fieldPath) {
	c := it.Constraints
	r, ok := number(val)
	if !ok {
		v.add(at.String(), ErrType, "Bitte geben Sie eine Zahl ein.", "Enter a number.")
		return
	}
	if it.Datentyp == TypNumInt && !r.IsInt() {
		v.add(at.String(), ErrType, "Bitte geben Sie eine ganze Zahl ein.", "Enter a whole number.")
		return
	}
	if it.Datentyp == TypNumCurrency && !new(big.Rat).Mul(r, hundred).IsInt() {
		v.add(at.String(), ErrDecimals, "Bitte höchstens zwei Nachkommastellen angeben.", "Use at most two decimals.")
		return
	}
	if lo, ok := boundRat(c.MinValue); ok && r.Cmp(lo) < 0 {
		v.add(at.String(), ErrMinValue, "Der Wert muss mindestens "+c.MinValue+" sein.", "The value must be at least "+c.MinValue+".")
	}
	if hi, ok := boundRat(c.MaxValue); ok && r.Cmp(hi) > 0 {
		v.add(at.String(), ErrMaxValue, "Der Wert darf höchstens "+c.MaxValue+" sein.", "The value must be at most "+c.MaxValue+".")
	}
}

func (v *validator) file(it *Item, val any, at fieldPath) {
	obj, ok := asObject(val)
	name, _ := obj["name"].(string)
	if !ok || name == "" {
		v.add(at.String(), ErrType, "Bitte laden Sie eine Datei hoch.", "Upload a file.")
		return
	}
	if size, present := obj["size"]; present {
		tooBig := false
		if d, fast := fastNumber(size); fast && it.MaxSize >= 0 && it.MaxSize <= math.MaxInt64/1024 {
			if !d.isInt() || d.neg {
				v.add(at.String(), ErrType, "Ungültige Dateigröße.", "Invalid file size.")
				return
			}
			tooBig = it.MaxSize > 0 && d.cmp(dec{mant: uint64(it.MaxSize * 1024)}) > 0
		} else {
			r, ok := number(size)
			if !ok || !r.IsInt() || r.Sign() < 0 {
				v.add(at.String(), ErrType, "Ungültige Dateigröße.", "Invalid file size.")
				return
			}
			tooBig = it.MaxSize > 0 && r.Cmp(big.NewRat(it.MaxSize*1024, 1)) > 0
		}
		if tooBig {
			v.add(at.String(), ErrFileSize, fmt.Sprintf("Die Datei ist zu groß (höchstens %d KB).", it.MaxSize), fmt.Sprintf("The file is too large (at most %d KB).", it.MaxSize))
		}
	}
	mt, present := obj["mediaType"]
	s, isStr := mt.(string)
	if present && !isStr {
		v.add(at.String(), ErrType, "Ungültiger Dateityp.", "Invalid media type.")
		return
	}
	if len(it.MediaTypes) > 0 && !slices.Contains(it.MediaTypes, s) {
		v.add(at.String(), ErrMediaType, "Dieser Dateityp ist nicht zulässig: erlaubt sind "+strings.Join(it.MediaTypes, ", ")+".", "This file type is not allowed; allowed: "+strings.Join(it.MediaTypes, ", ")+".")
	}
}

// number converts a JSON number to an exact rational.
func number(val any) (*big.Rat, bool) {
	switch x := val.(type) {
	case json.Number:
		return parseRat(x.String())
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false
		}
		return parseRat(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		return big.NewRat(int64(x), 1), true
	case int64:
		return big.NewRat(x, 1), true
	}
	return nil, false
}

func parseRat(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}
