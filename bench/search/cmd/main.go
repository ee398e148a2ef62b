// SPDX-License-Identifier: EUPL-1.2

// Command cmd runs the rathaus service-search evaluation on the München
// development catalog and prints the metrics as JSON (the same shape as the
// MiniSearch/FlexSearch peer script in bench/search/peers.mjs):
//
//	go run ./bench/search/cmd [-data ../shared/data] [-fail] [-typos FILE]
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"rathaus/bench/search/eval"
	"rathaus/search"
)

func main() {
	data := flag.String("data", "../shared/data", "shared data folder")
	fails := flag.Bool("fail", false, "print the failed queries of the cross-validation")
	typoOut := flag.String("typos", "", "write the one-typo queries as JSONL to this file")
	latency := flag.Bool("latency", true, "measure latency and build time")
	dictPath := flag.String("dict", "chatbot/decompound/dictionary-de.txt", "compound dictionary, relative to -data; empty: catalog vocabulary only")
	csvOut := flag.String("csv", "", "write the per-query results of the leave-one-out run as CSV to this file")
	debugQ := flag.String("q", "", "debug: print the hits of this query with the keyword hidden, then exit")
	sweepFlag := flag.String("sweep", "", "tuning: vary weights one at a time (\"all\" or a weight name)")
	flag.StringVar(&weightSpec, "w", "", "tuning: override weights, e.g. \"Head=1.2,Field[4]=1\"")
	ozgSiblings := flag.Int("ozg", -1, "add the OZG Lebenslage (and the names of up to N sibling LeiKa services) of a service's LeiKa key; -1: off")
	flag.Parse()
	p := func(rel string) string { return filepath.Join(*data, rel) }
	leika, err := eval.LoadLeiKa(p("leika/leika-leistungen.csv"))
	check(err)
	var ozg map[string]string
	if *ozgSiblings >= 0 {
		ozg, err = eval.LoadOZGTexts(p("leika/leika-leistungen.csv"), p("ozg-katalog/ozg-leistungen.csv"), *ozgSiblings)
		check(err)
	}
	docs, err := eval.LoadMuenchenOZG(p("chatbot/muenchen-dldb/services_de.dev.json"), leika, ozg)
	check(err)
	qs, err := eval.LoadQueries(p("chatbot/muenchen-dldb/keyword_queries.dev.jsonl"))
	check(err)
	t0 := time.Now()
	var dict *search.Dictionary
	if *dictPath != "" {
		dict, err = search.LoadDictionary(p(*dictPath))
		check(err)
	}
	dictLoad := time.Since(t0)
	opts := search.Options{Dictionary: dict}
	if weightSpec != "" {
		w := search.DefaultWeights()
		setWeights(&w, weightSpec)
		opts.Weights = &w
	}
	t0 = time.Now()
	idx, err := search.Build(docs, opts)
	check(err)
	buildMuc := time.Since(t0)
	typos := eval.Typos(qs, 42)
	bdocs, bqs, err := eval.LoadBerlin(p("chatbot/berlin-dldb/services_de_2017.json"), p("chatbot/berlin-dldb/topic_de_2016.json"))
	check(err)
	if *debugQ != "" {
		for _, h := range idx.WithoutKeyword(*debugQ).Search(*debugQ, search.SearchOptions{Limit: 8}) {
			fmt.Printf("%-9s %6.2f %-50.50s %v\n", h.Doc.SourceID, h.Score, h.Doc.Name, h.Why)
		}
		return
	}
	if *sweepFlag != "" {
		only := *sweepFlag
		if only == "all" {
			only = ""
		}
		sweep(docs, qs, typos, bdocs, bqs, dict, only)
		return
	}
	if *typoOut != "" {
		f, err := os.Create(*typoOut)
		check(err)
		enc := json.NewEncoder(f)
		for _, q := range typos {
			check(enc.Encode(q))
		}
		check(f.Close())
	}
	out := map[string]any{
		"engine":  "rathaus",
		"tables":  search.TablesVersion(),
		"dev":     eval.Evaluate(idx, qs),
		"typo":    eval.Evaluate(idx, typos),
		"machine": fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		"date":    time.Now().UTC().Format(time.RFC3339),
	}
	cv := eval.CrossValidate(idx, qs)
	out["unseen"] = cv
	bidx, err := search.Build(bdocs, opts)
	check(err)
	bcv := eval.CrossValidate(bidx, bqs)
	out["berlin_topics_unseen"] = bcv
	if *csvOut != "" {
		f, err := os.Create(*csvOut)
		check(err)
		w := csv.NewWriter(f)
		check(w.Write([]string{"query", "rank", "expected", "returned"}))
		for _, r := range cv.All {
			check(w.Write([]string{r.Query, strconv.Itoa(r.Rank), strings.Join(r.Expected, " "), strings.Join(r.Got, " ")}))
		}
		w.Flush()
		check(w.Error())
		check(f.Close())
	}
	if *latency {
		p50, p95 := eval.Latency(idx, qs, 5)
		out["latency_p50_us"] = p50.Microseconds()
		out["latency_p95_us"] = p95.Microseconds()
		out["build_muenchen_ms"] = buildMuc.Milliseconds()
		ld, err := eval.LeiKaDocs(p("leika/leika-leistungen.csv"))
		check(err)
		var builds []time.Duration
		for range 3 {
			t0 := time.Now()
			_, err = search.Build(append(ld, docs...), opts)
			check(err)
			builds = append(builds, time.Since(t0))
		}
		out["build_leika_plus_muenchen_ms"] = median(builds).Milliseconds()
		out["build_docs"] = len(ld) + len(docs)
		out["dictionary_load_ms"] = dictLoad.Milliseconds()
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	check(enc.Encode(out))
	if *fails {
		for _, f := range cv.Fail {
			fmt.Fprintf(os.Stderr, "rank %2d  %-45q want %v got %v\n", f.Rank, f.Query, f.Expected, head(f.Got, 3))
		}
		for _, f := range bcv.Fail {
			fmt.Fprintf(os.Stderr, "berlin rank %2d  %-45q want %v got %v\n", f.Rank, f.Query, head(f.Expected, 3), head(f.Got, 3))
		}
	}
}

// weightSpec is the -w flag.
var weightSpec string

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
