// SPDX-License-Identifier: EUPL-1.2

// Package eval is the evaluation harness of the service search: it loads the
// München DLDB development catalog and keyword queries from the shared data,
// derives one-typo variants, and computes S@1, S@3, S@5 and MRR@10, both
// with the keywords in the index and by leave-one-out cross-validation
// (the query keyword hidden from every service's keyword list).
package eval

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"rathaus"
	"rathaus/search"
)

// MuenchenARS is the ARS of the Landeshauptstadt München.
const MuenchenARS = "091620000000"

// Query is one evaluation query with the DLDB ids of the right services.
type Query struct {
	Query    string   `json:"query"`
	Expected []string `json:"expected_service_ids"`
}

// LoadQueries reads keyword_queries.dev.jsonl.
func LoadQueries(path string) ([]Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "cannot open %s", path)
	}
	defer f.Close()
	var qs []Query
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var q Query
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s:%d: not a query object", path, line)
		}
		if q.Query == "" || len(q.Expected) == 0 {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s:%d: query or expected_service_ids: empty", path, line)
		}
		qs = append(qs, q)
	}
	return qs, sc.Err()
}

// LoadLeiKa reads leika-leistungen.csv into key → official text
// (Leistungsbezeichnung and OZG-Leistung).
func LoadLeiKa(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "cannot open %s", path)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s:1: no header", path)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, c := range []string{"leika_schluessel", "leistungsbezeichnung", "ozg_leistung"} {
		if _, ok := col[c]; !ok {
			return nil, rathaus.Errorf(rathaus.EINVALID, "%s:1: column %s missing", path, c)
		}
	}
	out := map[string]string{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: bad CSV", path)
		}
		k := rec[col["leika_schluessel"]]
		t := rec[col["leistungsbezeichnung"]] + " , " + rec[col["ozg_leistung"]]
		if out[k] != "" {
			out[k] += " , " + t
		} else {
			out[k] = t
		}
	}
	return out, nil
}

// LoadOZGTexts reads the OZG catalog (ozg-leistungen.csv) and the LeiKa CSV
// and returns LeiKa key → the OZG Lebenslage and Themenfeld of the key's
// OZG-Leistung and, when that OZG-Leistung bundles at most maxSiblings
// LeiKa services, their names: the national catalog's own words for the
// neighbourhood of the service (document expansion from an allowed source).
func LoadOZGTexts(leikaPath, ozgPath string, maxSiblings int) (map[string]string, error) {
	read := func(path string, need ...string) ([]map[string]string, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "cannot open %s", path)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil || len(recs) == 0 {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: bad CSV", path)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		for _, c := range need {
			if _, ok := col[c]; !ok {
				return nil, rathaus.Errorf(rathaus.EINVALID, "%s:1: column %s missing", path, c)
			}
		}
		var out []map[string]string
		for _, r := range recs[1:] {
			m := map[string]string{}
			for _, c := range need {
				m[c] = r[col[c]]
			}
			out = append(out, m)
		}
		return out, nil
	}
	leika, err := read(leikaPath, "leika_schluessel", "leistungsbezeichnung", "ozg_id")
	if err != nil {
		return nil, err
	}
	ozg, err := read(ozgPath, "ozg_id", "lebenslage", "themenfeld")
	if err != nil {
		return nil, err
	}
	life := map[string]string{}
	for _, r := range ozg {
		life[r["ozg_id"]] = r["lebenslage"] + " , " + r["themenfeld"]
	}
	names := map[string][]string{}
	for _, r := range leika {
		names[r["ozg_id"]] = append(names[r["ozg_id"]], r["leistungsbezeichnung"])
	}
	out := map[string]string{}
	for _, r := range leika {
		k, o := r["leika_schluessel"], r["ozg_id"]
		t := life[o]
		if n := names[o]; len(n) <= maxSiblings {
			t += " , " + strings.Join(n, " , ")
		}
		if t == "" {
			continue
		}
		if out[k] != "" {
			out[k] += " , " + t
		} else {
			out[k] = t
		}
	}
	return out, nil
}

// LeiKaDocs turns the LeiKa CSV into Bund-level documents (for build-time
// measurements with the national catalog).
func LeiKaDocs(path string) ([]search.Doc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "cannot open %s", path)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	var docs []search.Doc
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		key := rec[col["leika_schluessel"]]
		docs = append(docs, search.Doc{
			ID: "leika-" + rec[col["db_id"]], Tenant: "000000000000", Key: key, LeiKa: key,
			SourceID: rec[col["db_id"]], Name: rec[col["leistungsbezeichnung"]],
			Description: rec[col["beschreibung"]],
			LeiKaText:   rec[col["ozg_leistung"]] + " , " + rec[col["rechtsgrundlage"]],
		})
	}
	return docs, nil
}

type dldbFile struct {
	Data []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		LeiKa       string `json:"leika"`
		Meta        struct {
			Keywords string `json:"keywords"`
		} `json:"meta"`
	} `json:"data"`
}

// LoadMuenchen reads services_de.dev.json into documents of tenant
// MuenchenARS; leika (may be nil) adds the official LeiKa texts.
func LoadMuenchen(path string, leika map[string]string) ([]search.Doc, error) {
	return LoadMuenchenOZG(path, leika, nil)
}

// LoadMuenchenOZG is LoadMuenchen with ozg (may be nil, see LoadOZGTexts)
// as the documents' Lebenslagen.
func LoadMuenchenOZG(path string, leika, ozg map[string]string) ([]search.Doc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "cannot read %s", path)
	}
	var f dldbFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: not a DLDB services file", path)
	}
	var docs []search.Doc
	for _, s := range f.Data {
		var kws []string
		for _, k := range strings.Split(s.Meta.Keywords, ",") {
			if k = strings.TrimSpace(k); k != "" {
				kws = append(kws, k)
			}
		}
		key := "dldb-" + s.ID
		docs = append(docs, search.Doc{
			ID: key, Tenant: MuenchenARS, Key: key, LeiKa: s.LeiKa, SourceID: s.ID,
			Name: s.Name, Keywords: kws, Description: s.Description, LeiKaText: leika[s.LeiKa],
		})
		if t := ozg[s.LeiKa]; t != "" {
			docs[len(docs)-1].Lebenslagen = []string{t}
		}
	}
	return docs, nil
}

// Typos returns one-typo variants of the queries: in one word of at least 6
// letters, one adjacent swap, deletion or substitution (not of the first
// letter), chosen with a fixed seed. Queries without such a word are left out.
func Typos(qs []Query, seed uint64) []Query {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const letters = "abcdefghijklmnopqrstuvwxyz"
	var out []Query
	for _, q := range qs {
		words := strings.Fields(q.Query)
		var long []int
		for i, w := range words {
			if utf8.RuneCountInString(w) >= 6 {
				long = append(long, i)
			}
		}
		if len(long) == 0 {
			continue
		}
		wi := long[rng.IntN(len(long))]
		r := []rune(words[wi])
		p := 1 + rng.IntN(len(r)-1)
		switch rng.IntN(3) {
		case 0: // swap with the previous letter (never moves the first)
			if p == 1 {
				p = 2
			}
			r[p-1], r[p] = r[p], r[p-1]
		case 1:
			r = append(r[:p], r[p+1:]...)
		default:
			c := rune(letters[rng.IntN(len(letters))])
			for c == r[p] {
				c = rune(letters[rng.IntN(len(letters))])
			}
			r[p] = c
		}
		words[wi] = string(r)
		out = append(out, Query{Query: strings.Join(words, " "), Expected: q.Expected})
	}
	return out
}

// Metrics are success at k (any right service in the top k) and the mean
// reciprocal rank of the first right service within the top 10.
type Metrics struct {
	N    int       `json:"n"`
	S1   float64   `json:"s1"`
	S3   float64   `json:"s3"`
	S5   float64   `json:"s5"`
	MRR  float64   `json:"mrr10"`
	Fail []Failure `json:"-"`
	All  []Failure `json:"-"` // every query with its rank (for per-query reports)
}

// Failure is one ranked query; in Metrics.Fail those whose right service
// was not ranked first.
type Failure struct {
	Query    string
	Expected []string
	Got      []string // source ids, best first
	Rank     int      // 1-based rank of the first right one, 0 = not in top 10
}

// Rank returns the 1-based rank of the first expected id in got, or 0.
func Rank(got, expected []string) int {
	for i, g := range got {
		for _, e := range expected {
			if g == e {
				return i + 1
			}
		}
	}
	return 0
}

// Add counts one ranked query.
func (m *Metrics) Add(q Query, got []string) {
	r := Rank(got, q.Expected)
	m.N++
	if r == 1 {
		m.S1++
	}
	if r >= 1 && r <= 3 {
		m.S3++
	}
	if r >= 1 && r <= 5 {
		m.S5++
	}
	if r >= 1 && r <= 10 {
		m.MRR += 1 / float64(r)
	}
	f := Failure{q.Query, q.Expected, got, r}
	m.All = append(m.All, f)
	if r != 1 {
		m.Fail = append(m.Fail, f)
	}
}

// Done turns the sums into rates.
func (m *Metrics) Done() {
	if m.N == 0 {
		return
	}
	n := float64(m.N)
	m.S1 /= n
	m.S3 /= n
	m.S5 /= n
	m.MRR /= n
}

func ids(hits []search.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Doc.SourceID
	}
	return out
}

// Evaluate runs the queries against idx (keywords indexed).
func Evaluate(idx *search.Index, qs []Query) Metrics {
	var m Metrics
	for _, q := range qs {
		m.Add(q, ids(idx.Search(q.Query, search.SearchOptions{Limit: 10})))
	}
	m.Done()
	return m
}

// CrossValidate runs each query against a copy of idx in which the query
// keyword has been removed from every service's keyword list.
func CrossValidate(idx *search.Index, qs []Query) Metrics {
	var m Metrics
	for _, q := range qs {
		masked := idx.WithoutKeyword(q.Query)
		m.Add(q, ids(masked.Search(q.Query, search.SearchOptions{Limit: 10})))
	}
	m.Done()
	return m
}

// Latency measures in-process search latency over the queries, repeated
// rounds times: it returns the 50th and 95th percentile.
func Latency(idx *search.Index, qs []Query, rounds int) (p50, p95 time.Duration) {
	var ds []time.Duration
	for range rounds {
		for _, q := range qs {
			t0 := time.Now()
			idx.Search(q.Query, search.SearchOptions{Limit: 10})
			ds = append(ds, time.Since(t0))
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if len(ds) == 0 {
		return 0, 0
	}
	return ds[len(ds)/2], ds[len(ds)*95/100]
}
