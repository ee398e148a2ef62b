// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"rathaus/bench/search/eval"
	"rathaus/search"
)

// sweep varies one weight at a time around the defaults and prints the
// dev, unseen-keyword and typo metrics (tuning aid, dev set only).
func sweep(docs []search.Doc, qs, typos []eval.Query, bdocs []search.Doc, bqs []eval.Query, dict *search.Dictionary, only string) {
	run := func(label string, w search.Weights) {
		t0 := time.Now()
		idx, err := search.Build(docs, search.Options{Dictionary: dict, Weights: &w})
		check(err)
		d := eval.Evaluate(idx, qs)
		ty := eval.Evaluate(idx, typos)
		cv := eval.CrossValidate(idx, qs)
		bidx, err := search.Build(bdocs, search.Options{Dictionary: dict, Weights: &w})
		check(err)
		b := eval.CrossValidate(bidx, bqs)
		fmt.Fprintf(os.Stdout, "%-22s dev S1 %.3f | unseen S1 %.3f S3 %.3f S5 %.3f MRR %.3f | typo S1 %.3f S5 %.3f | berlin S1 %.3f S5 %.3f MRR %.3f (%v)\n",
			label, d.S1, cv.S1, cv.S3, cv.S5, cv.MRR, ty.S1, ty.S5, b.S1, b.S5, b.MRR, time.Since(t0).Round(time.Millisecond))
	}
	base := search.DefaultWeights()
	if weightSpec != "" {
		setWeights(&base, weightSpec)
	}
	run("default", base)
	v := reflect.ValueOf(&base).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Name
		if only != "" && only != name {
			continue
		}
		f := v.Field(i)
		if f.Kind() == reflect.Int {
			continue
		}
		if f.Kind() == reflect.Array {
			for j := 0; j < f.Len(); j++ {
				for _, m := range []float32{0.5, 1.5} {
					w := base
					wv := reflect.ValueOf(&w).Elem().Field(i).Index(j)
					wv.SetFloat(wv.Float() * float64(m))
					run(fmt.Sprintf("%s[%d]x%.1f", name, j, m), w)
				}
			}
			continue
		}
		for _, m := range []float32{0, 0.5, 1.5} {
			w := base
			wv := reflect.ValueOf(&w).Elem().Field(i)
			wv.SetFloat(wv.Float() * float64(m))
			run(fmt.Sprintf("%sx%.1f", name, m), w)
		}
	}
}

// setWeights applies "Name=v,Name[i]=v,…" to w (tuning aid).
func setWeights(w *search.Weights, spec string) {
	v := reflect.ValueOf(w).Elem()
	for _, kv := range strings.Split(spec, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			check(fmt.Errorf("-w: %q: want Name=value", kv))
		}
		x, err := strconv.ParseFloat(val, 64)
		check(err)
		name, idx, arr := strings.Cut(k, "[")
		f := v.FieldByName(name)
		if !f.IsValid() {
			check(fmt.Errorf("-w: no weight %q", name))
		}
		if arr {
			i, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			check(err)
			f = f.Index(i)
		}
		if f.Kind() == reflect.Int {
			f.SetInt(int64(x))
		} else {
			f.SetFloat(x)
		}
	}
}
