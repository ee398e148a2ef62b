// SPDX-License-Identifier: EUPL-1.2

// Package search finds administrative services for everyday German questions.
//
// It is a purpose-built in-memory inverted index with BM25F scoring rather
// than bleve: a catalog has a few thousand services, so the whole index fits
// in a few megabytes, builds in well under a second and answers in
// microseconds; and the parts that matter for quality (full-cover
// decompounding, umlaut folding, typo tolerance by word length, synonym and
// life-event expansion, field weights) are our own code either way. Keeping
// them in one small package makes them testable and tunable without a second
// analysis pipeline inside bleve.
//
// Each field (name > keywords > description > LeiKa texts) is indexed in
// three channels: "exact" (folded, light-stemmed words), "decomp" (the words
// plus their compound parts) and "gram" (character 3–5-grams of name and
// keywords). A query is analysed the same way, plus fuzzy variants of words
// the index does not know and expansions from the curated synonym and
// life-event tables (data/synonyms.tsv, data/lebenslagen.tsv). The score is
//
//	Σ_terms weight(channel)·weight(term)·BM25F(term, doc) · coverage bonus · phrase bonus
//
// (see assistant.md §3.2).
package search

import (
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"

	"rathaus"
)

// Doc is one service as the index sees it. ID must be unique in the index.
type Doc struct {
	ID          string   // unique id in the index, e.g. tenant + "/" + key
	Tenant      string   // ARS of the tenant that describes the service
	Key         string   // catalog key (LeiKa key or "<source>-<id>")
	LeiKa       string   // 14-digit LeiKa key, "" if none
	SourceID    string   // id in the imported catalog (e.g. the DLDB id)
	Name        string   // citizen-facing name
	Keywords    []string // editorial keywords / synonyms
	Description string   // HTML or plain text
	LeiKaText   string   // LeiKa name, OZG name and other official texts
	Lebenslagen []string // OZG life situations
}

// Hit is one search result.
type Hit struct {
	Doc   Doc
	Score float64
	// Why lists what matched, as "field:term" ("name:ausweis",
	// "keywords:perso→personalausweis", "description:reisepass~reisepas"),
	// strongest field first. Synonym expansions show as "a→b", fuzzy
	// matches as "a~b".
	Why []string
}

// SearchOptions narrows a search.
type SearchOptions struct {
	// Limit is the number of hits to return (default 10).
	Limit int
	// Tenants, when not nil, restricts hits to services described by one of
	// these tenants: pass tenant.Lineage(municipality), nearest first. A
	// service (same Key) described on several levels is returned once, in
	// the description of the nearest tenant.
	Tenants []string
	// Filter, when not nil, keeps only the documents it returns true for.
	Filter func(*Doc) bool
	// NoLocalPrior switches off the preference for local descriptions:
	// by default a document of Tenants[i] has its score multiplied by
	// max(0.5, 1 − 0.15·i), so that the municipality's own services rank
	// above the generic ones of the Land and the Bund on equal text match.
	NoLocalPrior bool
}

// Options configures an index.
type Options struct {
	// DictionaryPath is the compound-part list (dictionary-de.txt). Empty
	// means: decompound with the catalog's own vocabulary only.
	DictionaryPath string
	// Dictionary is an already loaded part list; it wins over DictionaryPath.
	Dictionary *Dictionary
	// NoExpansions switches off the synonym and life-event tables.
	NoExpansions bool
	// Weights, when not nil, replaces DefaultWeights.
	Weights *Weights
}

const (
	fName = iota
	fKeywords
	fDesc
	fLeiKa
	fLead // the first sentences of the description
	nFields
)

// fieldNames name the fields in Hit.Why; the lead is part of the description.
var fieldNames = [nFields]string{"name", "keywords", "description", "leika", "description"}

// Weights are the scoring weights. The defaults (DefaultWeights) are tuned
// on the München development set; Options.Weights overrides them for
// experiments.
type Weights struct {
	// BM25F field weights: name, keywords, description, LeiKa, lead (the
	// first sentences of the description, which say what the service is).
	Field  [5]float32
	B      [5]float32 // BM25F length normalisation per field
	K1     float32
	Exact  float32 // channel weights
	Decomp float32
	Part   float32 // weight of a compound part relative to a whole word
	// PartKnown is Part for query words the index knows as a whole.
	PartKnown float32
	Gram      float32
	Fuzzy1    float32 // weight of fuzzy matches at distance 1 and 2
	Fuzzy2    float32
	Cover     float32 // share of the score that depends on query coverage
	Phrase    float32 // bonus factor when the query equals a name or keyword
	// Head and Modifier multiply the weight of a query compound's last part
	// (the head: "Hundesteuer" is a Steuer) and of its other parts. As on
	// the index side (IndexHead), the head is the generic part that many
	// services share, and the modifier tells them apart ("Hund"), so heads
	// weigh less by default (measured on München and Berlin: 0.5–0.7 is a
	// plateau).
	Head, Modifier float32
	// VocabSplit is the weight of the parts of a query word that the
	// dictionary cannot split but the index's whole vocabulary (every word
	// of every field) can; 0 switches it off.
	VocabSplit float32
	// PRF is the weight of pseudo-relevance feedback: the name and keyword
	// terms of the best PRFDocs hits of a first round are added to the
	// query; 0 switches it off.
	PRF     float32
	PRFDocs int
	// PartCover > 0 makes a compound query word count as covered only in
	// the share of its parts a document matches, scaled by PartCover
	// (0: any part covers the whole word). GramCover is the coverage
	// credit of a word only its character n-grams match (with PartCover
	// > 0).
	PartCover, GramCover float32
	// Twin (0 < Twin < 1) multiplies the score of a hit whose name differs
	// from a better hit's only by a trailing qualifier ("Altersrente
	// (Telefon-Termin)" after "Altersrente (Vor-Ort-Termin)"), once per
	// such better hit, so that the top of the list shows different
	// services; 0 or 1 switches it off.
	Twin float32
	// NameCover rewards, for queries of two or more words, the share of
	// query words that match the name itself: score · (1 + NameCover ·
	// share) for the best hits (0 switches it off).
	NameCover float32
	// IndexHead and IndexModifier multiply the weight of the last part
	// (head) and the other parts of a compound in the indexed texts. Heads
	// are the generic, frequent parts (-schein, -antrag, -gewerbe) and the
	// whole word already carries their meaning, so a lone head match
	// ("Gewerbe" in "Versteigerungsgewerbe") counts half by default
	// (measured: better on both München and Berlin).
	IndexHead, IndexModifier float32
}

// DefaultWeights returns the tuned default weights.
func DefaultWeights() Weights {
	return Weights{
		Field:         [5]float32{1.5, 2, 0.4, 1, 0},
		B:             [5]float32{0.5, 0.3, 0.75, 0.5, 0.5},
		K1:            1.8,
		Exact:         0.5,
		Decomp:        1.0,
		Part:          1.0,
		PartKnown:     0.3,
		Gram:          0.3,
		Fuzzy1:        0.6,
		Fuzzy2:        0.4,
		Cover:         0.6,
		Phrase:        1.5,
		Head:          0.6,
		Modifier:      1,
		PRFDocs:       3,
		GramCover:     1,
		Twin:          0.85,
		IndexHead:     0.5,
		IndexModifier: 1,
	}
}

type termCount struct {
	id int32
	n  float32
}

type fieldData struct {
	terms    []termCount // sorted by id
	length   float32     // number of words
	surfaces []string    // distinct folded words
}

type docData struct {
	fields  [nFields]fieldData
	phrases []string // normalised name and keywords
}

type posting struct {
	doc int32
	tf  float32 // BM25F pseudo term frequency
}

// Index is an in-memory service index. Add documents, then Search; it is
// safe for concurrent searches, and Add after Search rebuilds lazily.
type Index struct {
	opts Options
	p    Weights
	dict *Dictionary
	ex   *expander

	mu      sync.RWMutex
	docs    []Doc
	data    []*docData
	names   *Dictionary // catalog vocabulary for decompounding
	nameSet string      // fingerprint of names when data was analysed
	dirty   bool

	termIDs map[string]int32
	terms   []string
	memo    map[string][]string // decompounding memo

	// built by finalize
	postings [][]posting
	idf      []float32
	vocab    map[string]bool
	whole    *Dictionary // vocab as compound parts (for VocabSplit)
	buckets  map[uint32][]string
	phrases  map[string][]int32
	base     []string // baseName of each document
}

// NewIndex returns an empty index.
func NewIndex(opts Options) (*Index, error) {
	idx := &Index{opts: opts, p: DefaultWeights(), termIDs: map[string]int32{}, memo: map[string][]string{}}
	if opts.Weights != nil {
		idx.p = *opts.Weights
	}
	switch {
	case opts.Dictionary != nil:
		idx.dict = opts.Dictionary
	case opts.DictionaryPath != "":
		d, err := LoadDictionary(opts.DictionaryPath)
		if err != nil {
			return nil, err
		}
		idx.dict = d
	}
	if !opts.NoExpansions {
		ex, err := defaultExpander()
		if err != nil {
			return nil, err
		}
		idx.ex = ex
	}
	return idx, nil
}

// Build returns an index over docs.
func Build(docs []Doc, opts Options) (*Index, error) {
	idx, err := NewIndex(opts)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if err := idx.Add(d); err != nil {
			return nil, err
		}
	}
	idx.mu.Lock()
	idx.finalize()
	idx.mu.Unlock()
	return idx, nil
}

// Add adds a document. Its ID must be new and its Name not empty.
func (idx *Index) Add(d Doc) error {
	if d.ID == "" || strings.TrimSpace(d.Name) == "" {
		return rathaus.Errorf(rathaus.EINVALID, "search: document %q: id and name are required", d.ID)
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	idx.docs = append(idx.docs, d)
	idx.data = append(idx.data, nil)
	idx.dirty = true
	return nil
}

// Len returns the number of documents.
func (idx *Index) Len() int {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	return len(idx.docs)
}

// WithoutKeyword returns a copy of the index in which the keyword kw
// (compared folded) is removed from every document's keyword list. It is
// meant for leave-one-out evaluation ("would we find the service if the
// editors had not listed this keyword?") and reuses the analysis of all
// other fields.
func (idx *Index) WithoutKeyword(kw string) *Index {
	idx.mu.Lock()
	idx.finalize()
	idx.mu.Unlock()
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	key := strings.Join(Words(kw), " ")
	c := &Index{opts: idx.opts, p: idx.p, dict: idx.dict, ex: idx.ex, names: idx.names, nameSet: idx.nameSet,
		termIDs: idx.termIDs, terms: idx.terms, memo: idx.memo, dirty: true}
	// termIDs, terms and memo are shared: removing a keyword only re-analyses
	// words that were analysed before, so nothing is added to them.
	c.docs = slices.Clone(idx.docs)
	c.data = slices.Clone(idx.data)
	for i, d := range c.docs {
		keep := d.Keywords[:0:0]
		for _, k := range d.Keywords {
			if strings.Join(Words(k), " ") != key {
				keep = append(keep, k)
			}
		}
		if len(keep) != len(d.Keywords) {
			d.Keywords = keep
			c.docs[i] = d
			dd := *c.data[i]
			dd.fields[fKeywords] = c.analyzeField(strings.Join(keep, " , "), true)
			dd.phrases = c.phrasesOf(d)
			c.data[i] = &dd
		}
	}
	c.finalize()
	return c
}

func (idx *Index) term(key string) int32 {
	if id, ok := idx.termIDs[key]; ok {
		return id
	}
	id := int32(len(idx.terms))
	idx.termIDs[key] = id
	idx.terms = append(idx.terms, key)
	return id
}

// split decompounds a folded word using the dictionary and the catalog's
// names, memoised. Callers hold idx.mu for writing.
func (idx *Index) split(w string) []string {
	if p, ok := idx.memo[w]; ok {
		return p
	}
	p := NewDecompounder(idx.dict, idx.names).Split(w)
	idx.memo[w] = p
	return p
}

// splitQ is split for the query path (read lock only): it does not store.
func (idx *Index) splitQ(w string) []string {
	if p, ok := idx.memo[w]; ok {
		return p
	}
	return NewDecompounder(idx.dict, idx.names).Split(w)
}

// grams returns the character 3–5-grams of a folded word, with word
// boundaries marked by '_'.
func grams(w string) []string {
	s := "_" + w + "_"
	var out []string
	for n := 3; n <= 5; n++ {
		for i := 0; i+n <= len(s); i++ {
			out = append(out, s[i:i+n])
		}
	}
	return out
}

func (idx *Index) analyzeField(text string, withGrams bool) fieldData {
	counts := map[int32]float32{}
	surf := map[string]bool{}
	words := Words(text)
	for _, w := range words {
		surf[w] = true
		st := Stem(w)
		counts[idx.term("x"+st)]++
		counts[idx.term("d"+st)]++
		parts := idx.split(w)
		for i, p := range parts {
			pw := idx.p.Part * idx.p.IndexModifier
			if i == len(parts)-1 {
				pw = idx.p.Part * idx.p.IndexHead
			}
			counts[idx.term("d"+Stem(p))] += pw
		}
		if withGrams {
			for _, g := range grams(w) {
				counts[idx.term("g"+g)]++
			}
		}
	}
	fd := fieldData{length: float32(len(words))}
	for id, n := range counts {
		fd.terms = append(fd.terms, termCount{id, n})
	}
	sort.Slice(fd.terms, func(i, j int) bool { return fd.terms[i].id < fd.terms[j].id })
	for s := range surf {
		fd.surfaces = append(fd.surfaces, s)
	}
	sort.Strings(fd.surfaces)
	return fd
}

func (idx *Index) phrasesOf(d Doc) []string {
	var out []string
	for _, s := range append([]string{d.Name}, d.Keywords...) {
		if p := strings.Join(Words(s), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (idx *Index) analyze(d Doc) *docData {
	dd := &docData{}
	dd.fields[fName] = idx.analyzeField(d.Name, true)
	dd.fields[fKeywords] = idx.analyzeField(strings.Join(d.Keywords, " , "), true)
	dd.fields[fDesc] = idx.analyzeField(StripHTML(d.Description), false)
	dd.fields[fLeiKa] = idx.analyzeField(d.LeiKaText+" , "+strings.Join(d.Lebenslagen, " , "), false)
	if idx.p.Field[fLead] != 0 {
		dd.fields[fLead] = idx.analyzeField(Lead(StripHTML(d.Description), leadWords), false)
	}
	dd.phrases = idx.phrasesOf(d)
	return dd
}

// finalize analyses new documents and rebuilds postings and statistics.
// Callers hold idx.mu for writing.
func (idx *Index) finalize() {
	if !idx.dirty {
		return
	}
	// The catalog's own vocabulary: words of service names.
	var nameWords []string
	for _, d := range idx.docs {
		nameWords = append(nameWords, Words(d.Name)...)
	}
	slices.Sort(nameWords)
	nameWords = slices.Compact(nameWords)
	fp := strings.Join(nameWords, " ")
	if fp != idx.nameSet {
		idx.names = NewDictionary(nameWords...)
		idx.nameSet = fp
		idx.memo = map[string][]string{}
		clear(idx.data)
	}
	for i, d := range idx.docs {
		if idx.data[i] == nil {
			idx.data[i] = idx.analyze(d)
		}
	}
	n := len(idx.docs)
	var avg [nFields]float32
	for _, dd := range idx.data {
		for f := range nFields {
			avg[f] += dd.fields[f].length
		}
	}
	for f := range nFields {
		avg[f] = max(avg[f]/float32(max(n, 1)), 1)
	}
	nt := len(idx.terms)
	tf := make(map[int32]float32, 256)
	idx.postings = make([][]posting, nt)
	idx.vocab = map[string]bool{}
	idx.phrases = map[string][]int32{}
	for di, dd := range idx.data {
		clear(tf)
		for f := range nFields {
			fd := &dd.fields[f]
			norm := 1 - idx.p.B[f] + idx.p.B[f]*fd.length/avg[f]
			w := idx.p.Field[f] / norm
			for _, tc := range fd.terms {
				tf[tc.id] += w * tc.n
			}
			for _, s := range fd.surfaces {
				idx.vocab[s] = true
			}
		}
		for id, v := range tf {
			idx.postings[id] = append(idx.postings[id], posting{int32(di), v})
		}
		for _, p := range dd.phrases {
			idx.phrases[p] = append(idx.phrases[p], int32(di))
		}
	}
	idx.idf = make([]float32, nt)
	for id, ps := range idx.postings {
		df := float64(len(ps))
		idx.idf[id] = float32(math.Log(1 + (float64(n)-df+0.5)/(df+0.5)))
	}
	if idx.p.VocabSplit > 0 {
		var vs []string
		for s := range idx.vocab {
			if len(s) >= 4 && !hasDigit(s) && !stopWords[s] {
				vs = append(vs, s)
			}
		}
		idx.whole = NewDictionary(vs...)
	}
	idx.base = make([]string, n)
	for i, d := range idx.docs {
		idx.base[i] = baseName(d.Name)
	}
	idx.buckets = map[uint32][]string{}
	for s := range idx.vocab {
		if len(s) >= 4 && !hasDigit(s) {
			k := bucketKey(s[0], len(s))
			idx.buckets[k] = append(idx.buckets[k], s)
		}
	}
	idx.dirty = false
}

func bucketKey(first byte, n int) uint32 { return uint32(first)<<16 | uint32(n) }

// maxTypos is the typo tolerance by word length: none up to 4 letters, one
// for 5–8, two from 9 on.
func maxTypos(n int) int {
	switch {
	case n <= 4:
		return 0
	case n <= 8:
		return 1
	default:
		return 2
	}
}

// qterm is one weighted query term.
type qterm struct {
	id   int32
	w    float32
	mask uint64 // query words it stands for as a whole
	part uint64 // compound-part units it stands for (see queryPlan.parts)
	gram uint64 // query words it stands for as a character n-gram
	why  string
}

type queryPlan struct {
	terms  []qterm
	groups int
	phrase string
	// parts[i] is the range of part units of query word i: a compound
	// query word whose parts a document only partly matches covers that
	// word only in part (see Weights.PartCover).
	parts [][2]uint8
}

// coverage is the share of the query words a document matches: a word
// counts fully when it (or a synonym or fuzzy variant) matches, in the
// share of its compound parts that match, or GramCover when only
// character n-grams match.
func (idx *Index) coverage(pl *queryPlan, mask, part, gram uint64) float32 {
	if pl.groups == 0 {
		return 1
	}
	var c float32
	for i := range pl.groups {
		b := uint64(1) << i
		if mask&b != 0 {
			c++
			continue
		}
		var pc float32
		if r := pl.parts[i]; r[1] > r[0] {
			n := r[1] - r[0]
			m := (part >> r[0]) & (1<<n - 1)
			pc = 1 - idx.p.PartCover + idx.p.PartCover*float32(bits.OnesCount64(m))/float32(n)
			if m == 0 {
				pc = 0
			}
		}
		if gram&b != 0 {
			pc = max(pc, idx.p.GramCover)
		}
		c += pc
	}
	return c / float32(pl.groups)
}

func (idx *Index) plan(q string) queryPlan {
	words := Words(q)
	if len(words) > 64 {
		words = words[:64]
	}
	pl := queryPlan{groups: len(words), phrase: strings.Join(words, " "), parts: make([][2]uint8, len(words))}
	byID := map[int32]int{}
	addK := func(key string, w float32, mask, part, gram uint64, why string) {
		id, ok := idx.termIDs[key]
		if !ok || int(id) >= len(idx.postings) || len(idx.postings[id]) == 0 {
			return
		}
		if i, ok := byID[id]; ok {
			t := &pl.terms[i]
			t.mask |= mask
			t.part |= part
			t.gram |= gram
			if w > t.w {
				t.w, t.why = w, why
			}
			return
		}
		byID[id] = len(pl.terms)
		pl.terms = append(pl.terms, qterm{id: id, w: w, mask: mask, part: part, gram: gram, why: why})
	}
	add := func(key string, w float32, mask uint64, why string) { addK(key, w, mask, 0, 0, why) }
	unit := uint8(0) // next free part unit
	addWord := func(w string, weight float32, mask uint64, why string, withGrams bool) {
		st := Stem(w)
		add("x"+st, idx.p.Exact*weight, mask, why)
		add("d"+st, idx.p.Decomp*weight, mask, why)
		for _, p := range idx.splitQ(w) {
			add("d"+Stem(p), idx.p.Decomp*idx.p.Part*weight, mask, why+"="+p)
		}
		if withGrams {
			gs := grams(w)
			for _, g := range gs {
				add("g"+g, idx.p.Gram*weight/float32(len(gs))*3, mask, "")
			}
		}
	}
	var fired uint64 // words that triggered a synonym or life-event rule
	if idx.ex != nil {
		// Rules match on all words of the question, stop words included,
		// mapped to the positions of the content words for coverage.
		var stems []string
		var masks []uint64
		ci := 0
		for _, t := range Tokens(Fold(q)) {
			var m uint64
			if ci < len(words) && t == words[ci] {
				m = 1 << ci
				ci++
			}
			stems = append(stems, Stem(t))
			masks = append(masks, m)
		}
		for _, m := range idx.ex.match(stems, masks) {
			fired |= m.mask
			for _, w := range m.words {
				addWord(w, m.weight, m.mask, m.label+"→"+w, false)
			}
		}
	}
	for i, w := range words {
		mask := uint64(1) << i
		known := idx.vocab[w]
		parts := idx.splitQ(w)
		pw := idx.p.Part
		if known {
			pw = idx.p.PartKnown
		}
		st := Stem(w)
		add("x"+st, idx.p.Exact, mask, w)
		add("d"+st, idx.p.Decomp, mask, w)
		partWeight := idx.p.Decomp * pw
		if parts == nil && !known && idx.p.VocabSplit > 0 && idx.whole != nil {
			parts = NewDecompounder(idx.whole).Split(w)
			partWeight = idx.p.Decomp * idx.p.VocabSplit
		}
		lo := unit
		for j, p := range parts {
			hw := idx.p.Modifier
			if j == len(parts)-1 {
				hw = idx.p.Head
			}
			if idx.p.PartCover > 0 && int(unit) < 64 {
				addK("d"+Stem(p), partWeight*hw, 0, 1<<unit, 0, w+"="+p)
				unit++
			} else {
				add("d"+Stem(p), partWeight*hw, mask, w+"="+p)
			}
		}
		pl.parts[i] = [2]uint8{lo, unit}
		gs := grams(w)
		for _, g := range gs {
			if idx.p.PartCover > 0 {
				addK("g"+g, idx.p.Gram*3/float32(len(gs)), 0, 0, mask, "")
			} else {
				add("g"+g, idx.p.Gram*3/float32(len(gs)), mask, "")
			}
		}
		// Fuzzy only for words the index does not know, that do not split
		// into known parts and that no rule has explained.
		if !known && parts == nil && !hasDigit(w) && fired&mask == 0 {
			for _, c := range idx.fuzzy(w) {
				fw := idx.p.Fuzzy1
				if c.d == 2 {
					fw = idx.p.Fuzzy2
				}
				addWord(c.s, fw, mask, w+"~"+c.s, false)
			}
		}
	}
	return pl
}

type cand struct {
	s string
	d int
}

// fuzzy returns the vocabulary words closest to w within the typo
// tolerance of its length, with the same first letter.
func (idx *Index) fuzzy(w string) []cand {
	k := maxTypos(len(w))
	if k == 0 {
		return nil
	}
	best := k + 1
	var out []cand
	for n := len(w) - k; n <= len(w)+k; n++ {
		for _, s := range idx.buckets[bucketKey(w[0], n)] {
			d := osaDistance(w, s, best)
			if d < best {
				best = d
				out = out[:0]
			}
			if d == best && d <= k {
				out = append(out, cand{s, d})
			}
		}
	}
	if len(out) > 8 {
		out = out[:8]
	}
	return out
}

// osaDistance is the optimal-string-alignment edit distance (insert,
// delete, substitute, swap adjacent) of a and b; it returns limit+1 as soon
// as the distance is known to exceed limit.
func osaDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	la, lb := len(a), len(b)
	prev2 := make([]int, lb+1)
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

var scorePool = sync.Pool{New: func() any { return &scratch{} }}

type scratch struct {
	score   []float32
	mask    []uint64
	part    []uint64
	gram    []uint64
	touched []int32
}

// Search returns the best documents for the question q, best first.
func (idx *Index) Search(q string, opts SearchOptions) []Hit {
	idx.mu.RLock()
	if idx.dirty {
		idx.mu.RUnlock()
		idx.mu.Lock()
		idx.finalize()
		idx.mu.Unlock()
		idx.mu.RLock()
	}
	defer idx.mu.RUnlock()
	limit := opts.Limit
	if limit <= 0 {
		limit = 10
	}
	pl := idx.plan(q)
	if len(pl.terms) == 0 {
		return nil
	}
	var allowed map[string]int
	if opts.Tenants != nil {
		allowed = make(map[string]int, len(opts.Tenants))
		for i, t := range opts.Tenants {
			if _, ok := allowed[t]; !ok {
				allowed[t] = i
			}
		}
	}
	res := idx.rank(pl, opts, allowed)
	if idx.p.PRF > 0 && len(res) > 0 {
		pl = idx.feedback(pl, res)
		res = idx.rank(pl, opts, allowed)
	}
	if idx.p.NameCover > 0 && pl.groups > 1 {
		idx.nameCover(pl, res, limit)
	}
	if idx.p.Twin > 0 && idx.p.Twin < 1 {
		idx.diversify(res, limit)
	}
	var hits []Hit
	seen := map[string]int{} // key → index in hits
	for _, r := range res {
		doc := idx.docs[r.doc]
		if allowed != nil && doc.Key != "" {
			if i, ok := seen[doc.Key]; ok {
				// Same service on another level: keep the nearest tenant's
				// description at the better rank.
				if allowed[doc.Tenant] < allowed[hits[i].Doc.Tenant] {
					hits[i].Doc = doc
					hits[i].Why = idx.why(r.doc, pl)
				}
				continue
			}
			seen[doc.Key] = len(hits)
		}
		if len(hits) == limit {
			break
		}
		hits = append(hits, Hit{Doc: doc, Score: float64(r.score), Why: idx.why(r.doc, pl)})
	}
	return hits
}

type scored struct {
	doc   int32
	score float32
}

// rank scores every document that matches a term of pl and returns those
// that pass the tenant and filter restrictions, best first.
func (idx *Index) rank(pl queryPlan, opts SearchOptions, allowed map[string]int) []scored {
	sc := scorePool.Get().(*scratch)
	defer scorePool.Put(sc)
	n := len(idx.docs)
	if cap(sc.score) < n {
		sc.score = make([]float32, n)
		sc.mask = make([]uint64, n)
		sc.part = make([]uint64, n)
		sc.gram = make([]uint64, n)
	}
	score, mask, part, gram := sc.score[:n], sc.mask[:n], sc.part[:n], sc.gram[:n]
	touched := sc.touched[:0]
	k1 := idx.p.K1
	for _, t := range pl.terms {
		idf := idx.idf[t.id] * t.w
		for _, p := range idx.postings[t.id] {
			if score[p.doc] == 0 && mask[p.doc] == 0 && part[p.doc] == 0 && gram[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			score[p.doc] += idf * p.tf * (k1 + 1) / (p.tf + k1)
			mask[p.doc] |= t.mask
			part[p.doc] |= t.part
			gram[p.doc] |= t.gram
		}
	}
	phraseDocs := idx.phrases[pl.phrase]
	res := make([]scored, 0, len(touched))
	for _, d := range touched {
		s := score[d]
		if s > 0 {
			if pl.groups > 0 {
				cov := idx.coverage(&pl, mask[d], part[d], gram[d])
				s *= 1 - idx.p.Cover + idx.p.Cover*cov
			}
			if slices.Contains(phraseDocs, d) {
				s *= idx.p.Phrase
			}
			doc := &idx.docs[d]
			ok := true
			if allowed != nil {
				var dist int
				dist, ok = allowed[doc.Tenant]
				if !opts.NoLocalPrior {
					s *= max(0.5, 1-0.15*float32(dist))
				}
			}
			if ok && opts.Filter != nil {
				ok = opts.Filter(doc)
			}
			if ok {
				res = append(res, scored{d, s})
			}
		}
		score[d], mask[d], part[d], gram[d] = 0, 0, 0, 0
	}
	sc.touched = touched
	sort.Slice(res, func(i, j int) bool {
		if res[i].score != res[j].score {
			return res[i].score > res[j].score
		}
		return res[i].doc < res[j].doc
	})
	return res
}

// diversify reorders the best hits so that twins (see Weights.Twin) move
// down the list. Only the order changes: each hit keeps its own score, so
// that callers comparing scores (a clarifying question between close
// hits) still see twins as close.
func (idx *Index) diversify(res []scored, limit int) {
	n := min(len(res), 4*limit)
	key := make([]float32, len(res))
	seen := map[string]int{}
	for i := range n {
		key[i] = res[i].score
		b := idx.base[res[i].doc]
		for range seen[b] {
			key[i] *= idx.p.Twin
		}
		seen[b]++
	}
	ord := make([]int, n)
	for i := range ord {
		ord[i] = i
	}
	sort.SliceStable(ord, func(i, j int) bool { return key[ord[i]] > key[ord[j]] })
	top := make([]scored, n)
	for i, o := range ord {
		top[i] = res[o]
	}
	copy(res, top)
}

// nameCover applies Weights.NameCover to the best hits and re-sorts them.
func (idx *Index) nameCover(pl queryPlan, res []scored, limit int) {
	n := min(len(res), 5*limit)
	for i := range n {
		terms := idx.data[res[i].doc].fields[fName].terms
		var m uint64
		for _, t := range pl.terms {
			if t.mask == 0 || idx.terms[t.id][0] == 'g' {
				continue
			}
			j := sort.Search(len(terms), func(j int) bool { return terms[j].id >= t.id })
			if j < len(terms) && terms[j].id == t.id {
				m |= t.mask
			}
		}
		res[i].score *= 1 + idx.p.NameCover*float32(bits.OnesCount64(m))/float32(pl.groups)
	}
	sort.SliceStable(res[:n], func(i, j int) bool { return res[i].score > res[j].score })
}

// baseName is a service name without its trailing qualifier: the part
// before " (", " – " or " - ", folded.
func baseName(name string) string {
	cut := len(name)
	for _, sep := range []string{"(", " – ", " - "} {
		if i := strings.Index(name, sep); i > 0 && i < cut {
			cut = i
		}
	}
	return strings.Join(Words(name[:cut]), " ")
}

// feedback adds the name and keyword terms of the best PRFDocs documents
// of a first round to the plan (pseudo-relevance feedback), each with weight
// PRF divided by the number of documents; they do not count for coverage.
func (idx *Index) feedback(pl queryPlan, res []scored) queryPlan {
	k := min(max(idx.p.PRFDocs, 1), len(res))
	have := make(map[int32]bool, len(pl.terms))
	for _, t := range pl.terms {
		have[t.id] = true
	}
	out := pl
	out.terms = slices.Clone(pl.terms)
	extra := map[int32]float32{}
	for _, r := range res[:k] {
		dd := idx.data[r.doc]
		for _, f := range []int{fName, fKeywords} {
			for _, tc := range dd.fields[f].terms {
				if !have[tc.id] && idx.terms[tc.id][0] == 'd' {
					extra[tc.id] += idx.p.PRF / float32(k)
				}
			}
		}
	}
	for id, w := range extra {
		out.terms = append(out.terms, qterm{id: id, w: w})
	}
	return out
}

// why explains which query terms matched which fields of doc d.
func (idx *Index) why(d int32, pl queryPlan) []string {
	dd := idx.data[d]
	var out []string
	seen := map[string]bool{}
	for f := range nFields {
		terms := dd.fields[f].terms
		for _, t := range pl.terms {
			if t.why == "" || idx.terms[t.id][0] == 'g' {
				continue
			}
			i := sort.Search(len(terms), func(i int) bool { return terms[i].id >= t.id })
			if i < len(terms) && terms[i].id == t.id {
				// Each match is named once, in its strongest field.
				if !seen[t.why] {
					seen[t.why] = true
					out = append(out, fieldNames[f]+":"+t.why)
				}
			}
		}
	}
	return out
}
