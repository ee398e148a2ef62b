// SPDX-License-Identifier: EUPL-1.2

package form

import (
	"math/big"
	"sync"
	"sync/atomic"
)

// Precomputed lookups for Validate: the codes of a code list as a set, so
// that checking a select answer does not rebuild the list's options
// (Model.Options allocates one Value per row) on every submission.

// codeSet is the set of one column of a list. The cache is keyed by the
// list's pointer alone (hashing a pointer is a single memhash; a struct key
// with a string went through the runtime's generic typehash, 6 % of the
// intake's CPU) and holds the sets of the columns asked for.
type codeSet struct {
	col   string    // resolved code column
	rows  int       // len(cl.Rows) when built; a changed list is rebuilt
	first *[]string // &cl.Rows[0] when built
	codes map[string]struct{}
}

var (
	codeSets    sync.Map // *CodeList → []*codeSet (never modified once stored)
	codeSetsLen atomic.Int64
)

// maxCodeSets bounds the cache: models reloaded over a long run would
// otherwise keep their lists alive; past the bound the cache starts over.
const maxCodeSets = 4096

// inOptions reports whether s is one of the codes Model.Options(it) returns;
// known is false when Options would return nil (no list available, so the
// membership check is disabled). Same decision as scanning Options.
func (m *Model) inOptions(it *Item, s string) (in, known bool) {
	if len(it.Values) > 0 {
		for i := range it.Values {
			if it.Values[i].Code == s {
				return true, true
			}
		}
		return false, true
	}
	if it.CodeList == nil || m.CodeLists == nil {
		return false, false
	}
	cl := m.CodeLists[it.CodeList.Key]
	if cl == nil {
		return false, false
	}
	codeKey := it.CodeList.CodeKey
	if codeKey == "" || cl.Column(codeKey) < 0 {
		codeKey = cl.CodeColumn
	}
	ci := cl.Column(codeKey)
	if ci < 0 {
		return false, false // Values returns nil
	}
	set := cl.codeSet(codeKey, ci)
	_, in = set[s]
	return in, true
}

// codeSet returns the non-empty cells of column ci (named col) as a set.
func (cl *CodeList) codeSet(col string, ci int) map[string]struct{} {
	var first *[]string
	if len(cl.Rows) > 0 {
		first = &cl.Rows[0]
	}
	var sets []*codeSet
	if v, ok := codeSets.Load(cl); ok {
		sets = v.([]*codeSet)
		for _, cs := range sets {
			if cs.col == col && cs.rows == len(cl.Rows) && cs.first == first {
				return cs.codes
			}
		}
	}
	codes := make(map[string]struct{}, len(cl.Rows))
	for _, r := range cl.Rows {
		if c := cell(r, ci); c != "" {
			codes[c] = struct{}{}
		}
	}
	if codeSetsLen.Add(1) > maxCodeSets {
		codeSets.Clear()
		codeSetsLen.Store(1)
	}
	// A new slice with the stale set of this column replaced: readers may
	// hold the old one. Concurrent builders may drop each other's entry;
	// it is then built again.
	next := make([]*codeSet, 0, len(sets)+1)
	for _, cs := range sets {
		if cs.col != col {
			next = append(next, cs)
		}
	}
	codeSets.Store(cl, append(next, &codeSet{col: col, rows: len(cl.Rows), first: first, codes: codes}))
	return codes
}

// hundred is 100 as a rational (currency answers have at most two decimals);
// read only.
var hundred = big.NewRat(100, 1)

var (
	bounds    sync.Map // MinValue/MaxValue text → *big.Rat (nil: not a number)
	boundsLen atomic.Int64
)

// boundRat is parseRat for the constant bounds of the model, parsed once per
// distinct text. The returned value is shared and must not be modified.
func boundRat(s string) (*big.Rat, bool) {
	if s == "" {
		return nil, false
	}
	if v, ok := bounds.Load(s); ok {
		r := v.(*big.Rat)
		return r, r != nil
	}
	r, ok := parseRat(s)
	if !ok {
		r = nil
	}
	if boundsLen.Add(1) > maxCodeSets {
		bounds.Clear()
		boundsLen.Store(1)
	}
	bounds.Store(s, r)
	return r, ok
}
