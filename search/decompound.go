// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"bufio"
	"io"
	"os"
	"strings"
	"sync"

	"rathaus"
)

// MinPart is the shortest compound part the decompounder accepts.
const MinPart = 3

// linkers are the German linking elements (Fugenelemente) allowed between two
// parts, and the inflection endings allowed after the last part.
var linkers = []string{"s", "es", "n", "en", "e", "er"}
var endings = []string{"s", "es", "n", "en", "e", "er", "ern"}

// Dictionary is a set of compound parts (folded). It is loaded from a
// replaceable data file such as dictionary-de.txt of the german-decompounder
// project (one part per line, '#' comments) and can be extended with the
// catalog's own vocabulary.
type Dictionary struct {
	parts map[string]struct{}
}

// NewDictionary returns a dictionary holding the given parts (folded).
func NewDictionary(parts ...string) *Dictionary {
	d := &Dictionary{parts: make(map[string]struct{}, len(parts))}
	for _, p := range parts {
		d.add(p)
	}
	return d
}

// add inserts a part and the derived forms a part list leaves out: "-ungs"
// parts also stand for "-ung" ("zulassungs" → "zulassung"), verbs in "-en"
// give their "-ung" noun ("bescheinigen" → "bescheinigung").
func (d *Dictionary) add(p string) {
	p = Fold(strings.TrimSpace(p))
	if len(p) < MinPart || stopWords[p] {
		return
	}
	d.parts[p] = struct{}{}
	if strings.HasSuffix(p, "ungs") {
		d.parts[strings.TrimSuffix(p, "s")] = struct{}{}
	} else if strings.HasSuffix(p, "en") && len(p) > 5 {
		d.parts[strings.TrimSuffix(p, "en")+"ung"] = struct{}{}
	}
}

// Len returns the number of parts.
func (d *Dictionary) Len() int { return len(d.parts) }

// Has reports whether the folded word w is a known part.
func (d *Dictionary) Has(w string) bool {
	_, ok := d.parts[w]
	return ok
}

// ReadDictionary reads a part list: one part per line, blank lines and lines
// starting with '#' are skipped.
func ReadDictionary(r io.Reader, name string) (*Dictionary, error) {
	d := NewDictionary()
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if strings.ContainsAny(t, " \t") {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s:%d: part: contains white space: %q", name, line, t)
		}
		d.add(t)
	}
	if err := sc.Err(); err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s:%d: cannot read dictionary", name, line)
	}
	return d, nil
}

var dictCache sync.Map // path → *Dictionary

// LoadDictionary reads the dictionary file at path (cached per path; the
// result must not be modified).
func LoadDictionary(path string) (*Dictionary, error) {
	if d, ok := dictCache.Load(path); ok {
		return d.(*Dictionary), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "cannot open compound dictionary %s", path)
	}
	defer f.Close()
	d, err := ReadDictionary(f, path)
	if err != nil {
		return nil, err
	}
	dictCache.Store(path, d)
	return d, nil
}

// Decompounder splits German compounds into parts by a full cover: a dynamic
// program over the word finds the split into known parts (at least MinPart
// long, optionally joined by linking elements, the last part optionally
// inflected) that uses the fewest parts. A word without a full cover is not
// split at all, which avoids the noisy parts ("laus" in
// Personalausweis) of greedy dictionary decompounders.
type Decompounder struct {
	dicts []*Dictionary
}

// NewDecompounder returns a decompounder over the union of the dictionaries.
func NewDecompounder(dicts ...*Dictionary) *Decompounder {
	return &Decompounder{dicts: dicts}
}

func (dc *Decompounder) has(w string) bool {
	for _, d := range dc.dicts {
		if d != nil && d.Has(w) {
			return true
		}
	}
	return false
}

// Split returns the parts of the folded word w, or nil when w has no cover by
// two or more parts. Hyphenated input ("kfz-zulassung") is split at the
// hyphens first and each piece is decompounded further.
func (dc *Decompounder) Split(w string) []string {
	if strings.ContainsAny(w, "-/ ") {
		var out []string
		for _, p := range Tokens(w) {
			if sub := dc.Split(p); sub != nil {
				out = append(out, sub...)
			} else {
				out = append(out, p)
			}
		}
		if len(out) < 2 {
			return nil
		}
		return out
	}
	n := len(w)
	if n < 2*MinPart || hasDigit(w) {
		return nil
	}
	// best[i]: fewest parts covering w[:i]; link[i]: linker bytes used.
	const inf = 1 << 30
	best := make([]int, n+1)
	cost := make([]int, n+1)
	from := make([]int, n+1) // start of the last part
	pend := make([]int, n+1) // end of the last part (before linker/ending)
	for i := range best {
		best[i] = inf
	}
	best[0] = 0
	for i := 0; i < n; i++ {
		if best[i] == inf {
			continue
		}
		for j := i + MinPart; j <= n; j++ {
			if i == 0 && j == n {
				continue // the word itself is not a split
			}
			if !dc.has(w[i:j]) {
				continue
			}
			relax := func(k, extra int) {
				nb, nc := best[i]+1, cost[i]+extra
				if nb < best[k] || (nb == best[k] && nc < cost[k]) {
					best[k], cost[k], from[k], pend[k] = nb, nc, i, j
				}
			}
			relax(j, 0)
			for _, l := range linkers {
				if j+len(l) < n && w[j:j+len(l)] == l {
					relax(j+len(l), len(l))
				}
			}
			if j < n {
				for _, e := range endings {
					if j+len(e) == n && w[j:] == e {
						relax(n, len(e))
					}
				}
			}
		}
	}
	if best[n] == inf || best[n] < 2 {
		return nil
	}
	parts := make([]string, best[n])
	for k, i := n, best[n]-1; k > 0; i-- {
		parts[i] = w[from[k]:pend[k]]
		k = from[k]
	}
	return parts
}
