// SPDX-License-Identifier: EUPL-1.2

package fim

import (
	"regexp"
	"strings"
	"sync"

	"rathaus/form"
)

// The controlled German rule texts recognised by Recognise (whitespace,
// including no-break spaces, is collapsed first; labels in quotes are
// optional):
//
//  1. "Wenn im Datenfeld F… [nicht] der Wert X angegeben wurde, dann soll
//     F…|G… zum Pflichtfeld werden." — RequiredIf; X = "" means "is empty"
//     (the MindestEineAngabe idiom), "nicht der Wert """ means "is given".
//  2. "Wenn das Feld F… "…" = 001 "…" [ODER = 002 "…"], dann muss das Feld |
//     das Datenfeld | die Feldgruppe | die Datenfeldgruppe F…|G… "…" befüllt
//     sein|werden." — RequiredIf; followed by "Wenn das Feld F… <> 001 …
//     [UND <> 002 …], dann darf … F…|G… nicht befüllt sein|werden." it also
//     becomes ShowIf.
//  3. "Wenn bei F… "02 Text" angegeben wird, dann wird F…|G… zur|eine
//     Pflichtangabe." — RequiredIf with the leading code.
//  4. "Es muss entweder Feldgruppe G… "…" oder Feldgruppe G… "…" befüllt
//     werden." (also "das Feld F…") — OneOf.
//  5. "Es muss mindestens eines der Felder F… "…", F… "…" oder F… "…"
//     befüllt sein." — AtLeastOne.
//  6. "Wenn F… "…" nicht leer, dann darf F… "…" nicht leer sein." —
//     RequiredIf (filled).
//
// Anything else (nested "oder (… und …)", date arithmetic, free prose) is
// not recognised.

const (
	lbl   = `(?: ?"[^"]*")?`
	elem  = `(?:das Feld|das Datenfeld|die Feldgruppe|die Datenfeldgruppe|Feldgruppe|Datenfeldgruppe|Feld|Datenfeld)`
	ident = `([FG]\d{8}(?:\d{3})?)`
)

var (
	reWs        = regexp.MustCompile(`[\s\x{00a0}]+`)
	reDatenfeld = regexp.MustCompile(`^Wenn im Datenfeld ` + ident + ` (nicht )?der Wert (""|"[^"]*"|\S+) angegeben wurde, dann soll ` + ident + ` zum Pflichtfeld werden\.?$`)
	rePos       = regexp.MustCompile(`^Wenn (?:das Feld |das Datenfeld |im Datenfeld )?` + ident + lbl + ` ?= ?(.+?),? dann muss ` + elem + ` ` + ident + lbl + ` befüllt (?:sein|werden)\.?$`)
	reNeg       = regexp.MustCompile(`^Wenn (?:das Feld |das Datenfeld |im Datenfeld )?` + ident + lbl + ` ?<> ?(.+?),? dann darf ` + elem + ` ` + ident + lbl + ` nicht befüllt (?:sein|werden)\.?$`)
	reBei       = regexp.MustCompile(`^Wenn bei ` + ident + ` "(\S+)[^"]*" angegeben wird, dann wird ` + ident + ` (?:zur|eine) Pflichtangabe\.?$`)
	reOneOf     = regexp.MustCompile(`^Es muss entweder (?:die |das )?` + elem + ` ` + ident + lbl + ` oder (?:die |das )?` + elem + ` ` + ident + lbl + ` befüllt (?:sein|werden)\.?$`)
	reAtLeast   = regexp.MustCompile(`^Es muss mindestens (?:eines der Felder|eine der Feldgruppen|eines der Elemente) (.+) befüllt (?:sein|werden)\.?$`)
	reNotEmpty  = regexp.MustCompile(`^Wenn ` + ident + lbl + ` nicht leer,? dann darf ` + ident + lbl + ` nicht leer sein\.?$`)
	reIDs       = regexp.MustCompile(`[FG]\d{8}(?:\d{3})?`)
	reQuoted    = regexp.MustCompile(`"[^"]*"`)
	// a list of codes: 001 "label" ODER = 002 "label" (or UND <> …)
	reCode = regexp.MustCompile(`^(?:"([^"]*)"|([^\s"]+))(?: "[^"]*")?$`)
)

// recogniseCache holds results for rule texts seen before (the same
// Baukasten rules recur in every schema); it stops growing at 4096 texts.
var recogniseCache struct {
	sync.Mutex
	m map[string][]form.Condition
}

// Recognise turns a controlled German rule text into conditions; nil when
// the text is not one of the recognised forms. The result must not be
// modified.
func Recognise(text string) []form.Condition {
	recogniseCache.Lock()
	c, ok := recogniseCache.m[text]
	recogniseCache.Unlock()
	if ok {
		return c
	}
	c = recognise(text)
	recogniseCache.Lock()
	if recogniseCache.m == nil {
		recogniseCache.m = map[string][]form.Condition{}
	}
	if len(recogniseCache.m) < 4096 {
		recogniseCache.m[text] = c
	}
	recogniseCache.Unlock()
	return c
}

func recognise(text string) []form.Condition {
	t := strings.TrimSpace(reWs.ReplaceAllString(text, " "))
	if t == "" {
		return nil
	}
	if m := reDatenfeld.FindStringSubmatch(t); m != nil {
		val := strings.Trim(m[3], `"`)
		c := form.Condition{Kind: form.RequiredIf, Field: m[1], Target: m[4]}
		switch {
		case val == "" && m[2] == "":
			c.Op = form.OpEmpty
		case val == "":
			c.Op = form.OpFilled
		case m[2] != "":
			return nil // "nicht der Wert X" with X ≠ "" is not used in practice
		default:
			c.Op, c.Values = form.OpEq, []string{val}
		}
		return []form.Condition{c}
	}
	if m := reBei.FindStringSubmatch(t); m != nil {
		return []form.Condition{{Kind: form.RequiredIf, Field: m[1], Op: form.OpEq, Values: []string{m[2]}, Target: m[3]}}
	}
	if m := reOneOf.FindStringSubmatch(t); m != nil {
		return []form.Condition{{Kind: form.OneOf, Targets: []string{m[1], m[2]}}}
	}
	if m := reAtLeast.FindStringSubmatch(t); m != nil {
		list := reQuoted.ReplaceAllString(m[1], "")
		if strings.ContainsAny(list, "()") {
			return nil
		}
		ids := reIDs.FindAllString(list, -1)
		if len(ids) < 2 {
			return nil
		}
		return []form.Condition{{Kind: form.AtLeastOne, Targets: ids}}
	}
	if m := reNotEmpty.FindStringSubmatch(t); m != nil {
		return []form.Condition{{Kind: form.RequiredIf, Field: m[1], Op: form.OpFilled, Target: m[2]}}
	}
	if !strings.HasPrefix(t, "Wenn ") {
		return nil
	}
	// Form 2: one or two sentences, each starting with "Wenn ".
	parts := strings.Split(t[len("Wenn "):], " Wenn ")
	if len(parts) > 2 {
		return nil
	}
	pos := rePos.FindStringSubmatch("Wenn " + parts[0])
	if pos == nil {
		return nil
	}
	vals := codes(pos[2], "ODER", "=")
	if vals == nil {
		return nil
	}
	out := []form.Condition{{Kind: form.RequiredIf, Field: pos[1], Op: form.OpEq, Values: vals, Target: pos[3]}}
	if len(parts) == 2 {
		neg := reNeg.FindStringSubmatch("Wenn " + parts[1])
		if neg == nil || neg[1] != pos[1] || neg[3] != pos[3] {
			return nil
		}
		nvals := codes(neg[2], "UND", "<>")
		if nvals == nil || strings.Join(nvals, "|") != strings.Join(vals, "|") {
			return nil
		}
		out = append(out, form.Condition{Kind: form.ShowIf, Field: pos[1], Op: form.OpEq, Values: vals, Target: pos[3]})
	}
	return out
}

// codes parses `001 "label" ODER = 002 "label"` into its codes.
func codes(s, conj, op string) []string {
	var out []string
	for i, part := range strings.Split(s, " "+conj+" ") {
		part = strings.TrimSpace(part)
		if i > 0 {
			if !strings.HasPrefix(part, op) {
				return nil
			}
			part = strings.TrimSpace(part[len(op):])
		}
		m := reCode.FindStringSubmatch(part)
		if m == nil {
			return nil
		}
		v := m[1] + m[2]
		if v == "" {
			return nil
		}
		out = append(out, v)
	}
	return out
}
