// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"rathaus"
	"rathaus/catalog"
	"rathaus/search"
	"rathaus/tenant"
)

func init() {
	register(&Command{
		Name:    "ask",
		Summary: "find services for a question / Leistungen zu einer Frage finden",
		Run:     runAsk,
	})
}

// askService is one answer line of `rathaus ask --json` and `--batch`.
type askService struct {
	SourceID string   `json:"source_id"`
	LeiKa    string   `json:"leika"`
	Name     string   `json:"name"`
	Score    float64  `json:"score"`
	Key      string   `json:"key"`
	Tenant   string   `json:"tenant"`
	Why      []string `json:"why,omitempty"`
}

type askResult struct {
	Query    string       `json:"query"`
	Services []askService `json:"services"`
}

// docFromService maps a catalog service to a search document. national is
// the Bund-level (LeiKa) description of the same LeiKa key, if any: its
// official name and OZG texts join the LeiKa field.
func docFromService(s catalog.Service, national *catalog.Service) search.Doc {
	texts := []string{s.OZGName, s.Themenfeld}
	if national != nil && national.Tenant != s.Tenant {
		texts = append(texts, national.Name, national.OZGName)
	}
	official := strings.Join(nonEmpty(texts...), " , ")
	return search.Doc{
		ID: s.Tenant + "/" + s.Key, Tenant: s.Tenant, Key: s.Key, LeiKa: s.LeiKa, SourceID: s.SourceID,
		Name: s.Name, Keywords: s.Keywords, Description: s.Description, LeiKaText: official,
		Lebenslagen: s.Lebenslagen,
	}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func runAsk(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "ask")
	var sf storeFlags
	sf.register(fs, env)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	batch := fs.String("batch", "", "JSONL file with lines {\"query\": …}; prints one JSON line per query ('-' reads stdin)")
	muni := fs.String("municipality", "", "ARS of the municipality: only services offered there (through the tenant tree)")
	limit := fs.Int("limit", 10, "number of services per query")
	dict := fs.String("dictionary", envDefault(env, "RATHAUS_DICTIONARY", ""), "compound-part list (dictionary-de.txt) for decompounding; default: DATA/dictionary-de.txt, else "+devDictionary+" if present [RATHAUS_DICTIONARY]")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	question := strings.TrimSpace(strings.Join(pos, " "))
	switch {
	case *batch == "" && question == "":
		return usagef("want \"QUESTION\" or --batch FILE.jsonl")
	case *batch != "" && question != "":
		return usagef("give either a question or --batch, not both")
	case *limit < 1:
		return usagef("--limit must be at least 1")
	}
	var lineage []string
	if *muni != "" {
		if !tenant.ValidARS(*muni) {
			return usagef("--municipality %q is not a 12-digit ARS", *muni)
		}
		lineage = tenant.Lineage(*muni)
	}
	db, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if *dict == "" {
		*dict = defaultDictionary(sf.data)
	}
	idx, err := search.NewIndex(search.Options{DictionaryPath: *dict})
	if err != nil {
		return err
	}
	var all []catalog.Service
	national := map[string]int{} // LeiKa key → index of the Bund description
	if err := db.Catalog().AllServices(ctx, func(s catalog.Service) error {
		if s.Tenant == tenant.Bund && s.LeiKa != "" {
			national[s.LeiKa] = len(all)
		}
		all = append(all, s)
		return nil
	}); err != nil {
		return err
	}
	for _, s := range all {
		var nat *catalog.Service
		if i, ok := national[s.LeiKa]; ok && s.LeiKa != "" {
			nat = &all[i]
		}
		if err := idx.Add(docFromService(s, nat)); err != nil {
			return err
		}
	}
	if len(all) == 0 {
		return rathaus.Errorf(rathaus.ENOTFOUND, "the catalog is empty: run `rathaus import leika` or `rathaus import dldb` first")
	}
	ask := func(q string) askResult {
		res := askResult{Query: q, Services: []askService{}}
		for _, h := range idx.Search(q, search.SearchOptions{Limit: *limit, Tenants: lineage}) {
			res.Services = append(res.Services, askService{
				SourceID: h.Doc.SourceID, LeiKa: h.Doc.LeiKa, Name: h.Doc.Name, Score: round3(h.Score),
				Key: h.Doc.Key, Tenant: h.Doc.Tenant, Why: h.Why,
			})
		}
		return res
	}
	if *batch != "" {
		return askBatch(env, *batch, ask)
	}
	res := ask(question)
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	if len(res.Services) == 0 {
		fmt.Fprintln(env.Stdout, "Keine passende Leistung gefunden. / No matching service found.")
		return nil
	}
	for i, s := range res.Services {
		fmt.Fprintf(env.Stdout, "%2d. %s  [%s%s]  %.2f  %s\n", i+1, s.Name, s.SourceID, leikaSuffix(s.LeiKa), s.Score, strings.Join(s.Why, ", "))
	}
	return nil
}

// devDictionary is where the compound dictionary lies in the development
// layout (the shared data beside the repository).
const devDictionary = "../shared/data/chatbot/decompound/dictionary-de.txt"

// defaultDictionary returns the compound dictionary to use when none is
// configured: dictionary-de.txt in the data directory, else the development
// copy, else "" (decompound with the catalog's own vocabulary only).
func defaultDictionary(dataDir string) string {
	for _, p := range []string{filepath.Join(dataDir, "dictionary-de.txt"), devDictionary} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func leikaSuffix(k string) string {
	if k == "" {
		return ""
	}
	return ", LeiKa " + k
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func askBatch(env *Env, path string, ask func(string) askResult) error {
	var r io.Reader = env.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return rathaus.Wrap(rathaus.EINVALID, err, "cannot open %s", path)
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	enc := json.NewEncoder(env.Stdout)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var in struct {
			Query *string `json:"query"`
		}
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			return rathaus.Errorf(rathaus.EINVALID, "%s:%d: not a JSON object: %v", path, line, err)
		}
		if in.Query == nil || strings.TrimSpace(*in.Query) == "" {
			return rathaus.Errorf(rathaus.EINVALID, "%s:%d: field query: missing or empty", path, line)
		}
		if err := enc.Encode(ask(*in.Query)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "%s:%d: cannot read", path, line)
	}
	return nil
}
