// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"bufio"
	_ "embed"
	"io"
	"strconv"
	"strings"
	"sync"

	"rathaus"
)

// The curated expansion tables, written by the rathaus team from general
// knowledge of German administrative vocabulary (not from any test set).
// Format: "what citizens say<TAB>official term; official term; …", '#'
// comments; a line "# version: N" names the table version.
var (
	//go:embed data/synonyms.tsv
	synonymsTSV string
	//go:embed data/lebenslagen.tsv
	lebenslagenTSV string
)

// Rule is one expansion: when every word of When occurs in a query, the
// terms of Then are searched too, with Weight.
type Rule struct {
	When   []string // stemmed, folded trigger words
	Then   []string // folded words to add
	Weight float32
	Label  string // the trigger as written
	Line   int
}

// ParseRules reads an expansion table (see the package files
// data/synonyms.tsv and data/lebenslagen.tsv for the format).
func ParseRules(r io.Reader, name string, weight float32) ([]Rule, string, error) {
	var rules []Rule
	version := ""
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "#") {
			if v, ok := strings.CutPrefix(t, "# version:"); ok {
				version = strings.TrimSpace(v)
			}
			continue
		}
		left, right, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return nil, "", rathaus.Errorf(rathaus.EINVALID, "%s:%d: rule: want \"trigger<TAB>terms\"", name, line)
		}
		// Triggers keep their stop words ("Führerschein weg" must not fire
		// on "Führerschein" alone); queries are matched on all their words.
		when := Tokens(Fold(left))
		if len(when) == 0 {
			return nil, "", rathaus.Errorf(rathaus.EINVALID, "%s:%d: trigger: empty", name, line)
		}
		for i, w := range when {
			when[i] = Stem(w)
		}
		var then []string
		for _, p := range strings.Split(right, ";") {
			then = append(then, Words(p)...)
		}
		if len(then) == 0 {
			return nil, "", rathaus.Errorf(rathaus.EINVALID, "%s:%d: terms: empty", name, line)
		}
		rules = append(rules, Rule{When: when, Then: then, Weight: weight, Label: strings.TrimSpace(left), Line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, "", rathaus.Wrap(rathaus.EINVALID, err, "%s:%d: cannot read", name, line)
	}
	return rules, version, nil
}

type expander struct {
	rules   []Rule
	byFirst map[string][]int
}

type expansion struct {
	words  []string
	weight float32
	mask   uint64
	label  string
}

var (
	expOnce sync.Once
	expVal  *expander
	expErr  error
)

// TablesVersion returns the versions of the embedded synonym and life-event
// tables, e.g. "synonyms 1, lebenslagen 1".
func TablesVersion() string {
	_, v1, _ := ParseRules(strings.NewReader(synonymsTSV), "synonyms.tsv", 1)
	_, v2, _ := ParseRules(strings.NewReader(lebenslagenTSV), "lebenslagen.tsv", 1)
	return "synonyms " + v1 + ", lebenslagen " + v2
}

func defaultExpander() (*expander, error) {
	expOnce.Do(func() {
		syn, _, err := ParseRules(strings.NewReader(synonymsTSV), "synonyms.tsv", 1.0)
		if err != nil {
			expErr = err
			return
		}
		ll, _, err := ParseRules(strings.NewReader(lebenslagenTSV), "lebenslagen.tsv", 0.7)
		if err != nil {
			expErr = err
			return
		}
		expVal = newExpander(append(syn, ll...))
	})
	return expVal, expErr
}

func newExpander(rules []Rule) *expander {
	ex := &expander{rules: rules, byFirst: map[string][]int{}}
	for i, r := range rules {
		ex.byFirst[r.When[0]] = append(ex.byFirst[r.When[0]], i)
	}
	return ex
}

// match returns the expansions whose triggers all occur among the query's
// stemmed words.
func (ex *expander) match(stems []string, masks []uint64) []expansion {
	pos := map[string]uint64{}
	for i, s := range stems {
		pos[s] |= masks[i]
	}
	var out []expansion
	done := map[int]bool{}
	for _, s := range stems {
		for _, ri := range ex.byFirst[s] {
			if done[ri] {
				continue
			}
			done[ri] = true
			r := ex.rules[ri]
			var mask uint64
			ok := true
			for _, w := range r.When {
				m, found := pos[w]
				if !found {
					ok = false
					break
				}
				mask |= m
			}
			if ok {
				out = append(out, expansion{words: r.Then, weight: r.Weight, mask: mask, label: r.Label})
			}
		}
	}
	return out
}

// String describes a rule for debugging.
func (r Rule) String() string {
	return r.Label + " → " + strings.Join(r.Then, " ") + " (line " + strconv.Itoa(r.Line) + ")"
}
