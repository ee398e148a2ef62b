// SPDX-License-Identifier: EUPL-1.2

package eval

import (
	"testing"

	"rathaus/internal/testenv"
	"rathaus/search"
)

// Floors are what the search reaches on the München development set minus
// a small margin (regression guard). The targets for keywords the
// index has never seen are S@1 ≥ 0.55, S@5 ≥ 0.85, MRR@10 ≥ 0.65; see
// bench/RESULTS.md for the measured numbers.
var floors = map[string]Metrics{
	"dev":    {S1: 0.98, S3: 0.99, S5: 0.99, MRR: 0.99},
	"unseen": {S1: 0.62, S3: 0.77, S5: 0.84, MRR: 0.71},
	"typo":   {S1: 0.93, S3: 0.98, S5: 0.99, MRR: 0.95},
}

func TestMuenchenDevSet(t *testing.T) {
	leika, err := LoadLeiKa(testenv.SharedData(t, "leika/leika-leistungen.csv"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := LoadMuenchen(testenv.SharedData(t, "chatbot/muenchen-dldb/services_de.dev.json"), leika)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 287 {
		t.Fatalf("%d München services, want 287", len(docs))
	}
	qs, err := LoadQueries(testenv.SharedData(t, "chatbot/muenchen-dldb/keyword_queries.dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := search.Build(docs, search.Options{DictionaryPath: testenv.SharedData(t, "chatbot/decompound/dictionary-de.txt")})
	if err != nil {
		t.Fatal(err)
	}
	typos := Typos(qs, 42)
	if len(typos) < 350 {
		t.Fatalf("%d typo variants", len(typos))
	}
	runs := map[string]func() Metrics{
		"dev":    func() Metrics { return Evaluate(idx, qs) },
		"unseen": func() Metrics { return CrossValidate(idx, qs) },
		"typo":   func() Metrics { return Evaluate(idx, typos) },
	}
	for _, name := range []string{"dev", "typo", "unseen"} {
		t.Run(name, func(t *testing.T) {
			if name == "unseen" && testing.Short() {
				t.Skip("cross-validation rebuilds the index per query")
			}
			m := runs[name]()
			f := floors[name]
			t.Logf("%s: n=%d S@1 %.3f S@3 %.3f S@5 %.3f MRR@10 %.3f", name, m.N, m.S1, m.S3, m.S5, m.MRR)
			for _, c := range []struct {
				metric    string
				got, want float64
			}{{"S@1", m.S1, f.S1}, {"S@3", m.S3, f.S3}, {"S@5", m.S5, f.S5}, {"MRR@10", m.MRR, f.MRR}} {
				if c.got < c.want {
					t.Errorf("%s %s = %.3f, below the floor %.3f", name, c.metric, c.got, c.want)
				}
			}
		})
	}
}

func TestTyposDeterministic(t *testing.T) {
	qs := []Query{{Query: "Personalausweis", Expected: []string{"1"}}, {Query: "Kfz", Expected: []string{"2"}}, {Query: "Wohnsitz anmelden", Expected: []string{"3"}}}
	a, b := Typos(qs, 7), Typos(qs, 7)
	if len(a) != 2 {
		t.Fatalf("got %d variants, want 2 (Kfz is too short)", len(a))
	}
	for i := range a {
		if a[i].Query != b[i].Query {
			t.Errorf("not deterministic: %q vs %q", a[i].Query, b[i].Query)
		}
		if a[i].Query == qs[i*2].Query && i == 0 {
			t.Errorf("variant %q equals the original", a[i].Query)
		}
		if []rune(a[i].Query)[0] != []rune(qs[i*2].Query)[0] {
			t.Errorf("variant %q changed the first letter", a[i].Query)
		}
	}
}

func TestMetrics(t *testing.T) {
	var m Metrics
	m.Add(Query{Query: "a", Expected: []string{"x"}}, []string{"x", "y"})
	m.Add(Query{Query: "b", Expected: []string{"x"}}, []string{"y", "z", "x"})
	m.Add(Query{Query: "c", Expected: []string{"x"}}, []string{"y"})
	m.Done()
	if m.N != 3 || m.S1 != 1.0/3 || m.S3 != 2.0/3 || m.S5 != 2.0/3 || m.MRR != (1+1.0/3)/3 {
		t.Errorf("metrics = %+v", m)
	}
	if len(m.Fail) != 2 || m.Fail[1].Rank != 0 {
		t.Errorf("failures = %+v", m.Fail)
	}
}

// berlinFloors guard the held-out Berlin topic evaluation (see LoadBerlin):
// measured 0.441 / 0.678 / 0.712 / 0.565, minus a margin of about one query.
var berlinFloors = Metrics{S1: 0.42, S3: 0.66, S5: 0.69, MRR: 0.54}

func TestBerlinTopics(t *testing.T) {
	docs, qs, err := LoadBerlin(testenv.SharedData(t, "chatbot/berlin-dldb/services_de_2017.json"),
		testenv.SharedData(t, "chatbot/berlin-dldb/topic_de_2016.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 653 || len(qs) != 59 {
		t.Fatalf("%d Berlin services and %d topics, want 653 and 59", len(docs), len(qs))
	}
	idx, err := search.Build(docs, search.Options{DictionaryPath: testenv.SharedData(t, "chatbot/decompound/dictionary-de.txt")})
	if err != nil {
		t.Fatal(err)
	}
	m := CrossValidate(idx, qs)
	t.Logf("berlin topics unseen: n=%d S@1 %.3f S@3 %.3f S@5 %.3f MRR@10 %.3f", m.N, m.S1, m.S3, m.S5, m.MRR)
	for _, c := range []struct {
		metric    string
		got, want float64
	}{{"S@1", m.S1, berlinFloors.S1}, {"S@3", m.S3, berlinFloors.S3}, {"S@5", m.S5, berlinFloors.S5}, {"MRR@10", m.MRR, berlinFloors.MRR}} {
		if c.got < c.want {
			t.Errorf("berlin %s = %.3f, below the floor %.3f", c.metric, c.got, c.want)
		}
	}
}
