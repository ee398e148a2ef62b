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

type codeSetKey struct {
	cl  *CodeList
	col string // resolved code column
}

type codeSet struct {
	rows  int       // len(cl.Rows) when built; a changed list is rebuilt
	first *[]string // &cl.Rows[0] when built
	codes map[string]struct{}
}

var (
	codeSets    sync.Map // codeSetKey → *codeSet
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
	key := codeSetKey{cl, col}
	var first *[]string
	if len(cl.Rows) > 0 {
		first = &cl.Rows[0]
	}
	if v, ok := codeSets.Load(key); ok {
		cs := v.(*codeSet)
		if cs.rows == len(cl.Rows) && cs.first == first {
			return cs.codes
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
	codeSets.Store(key, &codeSet{rows: len(cl.Rows), first: first, codes: codes})
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
