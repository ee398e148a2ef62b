// SPDX-License-Identifier: EUPL-1.2

package form_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"rathaus/fim"
	"rathaus/form"
	"rathaus/internal/testenv"
)

var updateVerdicts = flag.Bool("update-verdicts", false, "rewrite testdata/verdicts.golden.gz from the current Validate")

// verdictSchemas are the real schemas whose verdicts are recorded.
var verdictSchemas = []string{
	"fim-schemas/xdf2/S00000094V1.0/S00000094V1.0_xdf2.xml",
	"fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml",
	"fim-schemas/xdf2/S05000058V1.0/S05000058V1.0_xdf2.xml",
	"fim-schemas/xdf2/S00000009/S00000009_xdatenfelder.xml",
}

// TestValidateSameVerdicts replays generated answers and mutations of every
// input field of the real schemas (numbers at and over their bounds, many
// decimal spellings, huge and fractional numbers, strings at their length
// bounds with multibyte runes, bad dates, wrong types) and compares the
// complete result of Validate (paths, codes, both messages, order) with
// testdata/verdicts.golden.gz, which was written by the big.Rat validator
// before the fast number paths existed (go test ./form -run
// TestValidateSameVerdicts -update-verdicts rewrites it; only do that for an
// intended change of verdicts).
func TestValidateSameVerdicts(t *testing.T) {
	var got []string
	for _, rel := range verdictSchemas {
		m, err := fim.LoadFile(testenv.SharedData(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, verdictLines(m, filepath.Base(rel))...)
	}
	got = append(got, verdictLines(numberModel(), "numbers")...)
	golden := filepath.Join("testdata", "verdicts.golden.gz")
	if *updateVerdicts {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write([]byte(strings.Join(got, "\n") + "\n"))
		zw.Close()
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d verdicts", len(got))
		return
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		want = append(want, sc.Text())
	}
	if len(want) != len(got) {
		t.Errorf("%d verdicts, golden file has %d", len(got), len(want))
	}
	bad := 0
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Errorf("verdict %d changed:\nwant %s\ngot  %s", i+1, want[i], got[i])
			if bad++; bad > 20 {
				t.Fatal("too many changed verdicts")
			}
		}
	}
	t.Logf("%d verdicts compared", len(got))
}

// numberModel is a synthetic form with numeric, date and text fields whose
// bounds the real schemas lack: negative, fractional, exponent and huge
// bounds, currency, file size limits.
func numberModel() *form.Model {
	f := func(id string, dt form.Datentyp, lo, hi string) form.Item {
		return form.Item{Kind: form.KindField, ID: id, Version: "1.0", Min: 0, Max: 1, Feldart: form.FeldInput, Datentyp: dt,
			Constraints: form.Constraints{MinValue: lo, MaxValue: hi}}
	}
	m := &form.Model{ID: "N1", Version: "1.0", Format: form.FormatXDF3}
	for i, b := range [][2]string{
		{"", ""}, {"0", "100"}, {"-5", "5"}, {"0.5", "99.95"}, {"-0.01", "0.01"}, {"1e3", "1e6"},
		{"-9223372036854775808", "9223372036854775807"}, {"-99999999999999999999.99", "99999999999999999999.99"},
		{"1/3", "2/3"}, {"abc", " 7 "}, {"00012", "0012.50"}, {"-0", "+3"}, {"0.000000000000000001", "1000000000000000000"},
	} {
		for _, dt := range []form.Datentyp{form.TypNum, form.TypNumInt, form.TypNumCurrency} {
			m.Root = append(m.Root, f(fmt.Sprintf("N%d%s", i, dt), dt, b[0], b[1]))
		}
	}
	m.Root = append(m.Root,
		f("D1", form.TypDate, "2000-01-01", "2030-12-31"),
		f("D2", form.TypDate, "", ""),
		f("T1", form.TypTime, "", ""),
		f("DT1", form.TypDateTime, "", ""),
		form.Item{Kind: form.KindField, ID: "L1", Version: "1.0", Max: 1, Feldart: form.FeldInput, Datentyp: form.TypText,
			Constraints: form.Constraints{MinLength: 3, MaxLength: 5}},
		form.Item{Kind: form.KindField, ID: "L2", Version: "1.0", Max: 1, Feldart: form.FeldInput, Datentyp: form.TypTextLatin,
			Constraints: form.Constraints{MinLength: 1, MaxLength: 2, Pattern: `[A-Za-zäöü€𝄞]*`}},
		form.Item{Kind: form.KindField, ID: "FILE1", Version: "1.0", Max: 1, Feldart: form.FeldInput, Datentyp: form.TypFile,
			MaxSize: 2, MediaTypes: []string{"application/pdf"}},
		form.Item{Kind: form.KindField, ID: "FILE2", Version: "1.0", Max: 1, Feldart: form.FeldInput, Datentyp: form.TypFile},
	)
	return m
}

// verdictLines validates the generated answers of m (required only and
// everything) and, for every input field reached through the answers, each
// mutation of its value; one line per case.
func verdictLines(m *form.Model, name string) []string {
	var lines []string
	for _, all := range []bool{false, true} {
		a := sampleAnswers(m, m.Root, all)
		lines = append(lines, verdictLine(m, fmt.Sprintf("%s all=%v base", name, all), a))
		if !all {
			continue
		}
		var walk func(items []form.Item, obj map[string]any, path string)
		walk = func(items []form.Item, obj map[string]any, path string) {
			for i := range items {
				it := &items[i]
				val, ok := obj[it.ID]
				orig := val
				if !ok {
					continue
				}
				p := path + "." + it.ID
				set := func(v any) { obj[it.ID] = v }
				if arr, isArr := val.([]any); isArr && len(arr) > 0 {
					// sampleAnswers shares one value among the elements:
					// replace the whole array by a fresh one.
					set = func(v any) {
						n := append([]any{v}, arr[1:]...)
						obj[it.ID] = n
					}
					val = arr[0]
				}
				if it.Kind == form.KindGroup {
					if sub, ok := val.(map[string]any); ok {
						walk(it.Items, sub, p)
					}
					continue
				}
				for j, mut := range mutations(it) {
					set(mut)
					lines = append(lines, verdictLine(m, fmt.Sprintf("%s %s #%d %s", name, p, j, describe(mut)), a))
				}
				obj[it.ID] = orig
			}
		}
		walk(m.Root, a, "")
	}
	return lines
}

// verdictLine is "case: codes at their paths | hash of the full result".
func verdictLine(m *form.Model, name string, a map[string]any) string {
	errs := m.Validate(form.Answers(a), form.ValidateOptions{})
	partial := m.Validate(form.Answers(a), form.ValidateOptions{Partial: true})
	h := sha256.New()
	var codes []string
	for _, e := range errs {
		fmt.Fprintf(h, "%q %q %q %q\n", e.Path, e.Code, e.Message, e.MessageEN)
		if len(codes) < 3 {
			codes = append(codes, e.Code+"@"+e.Path)
		}
	}
	if len(errs) > 3 {
		codes = append(codes, fmt.Sprintf("(+%d)", len(errs)-3))
	}
	fmt.Fprintln(h, "partial")
	for _, e := range partial {
		fmt.Fprintf(h, "%q %q %q %q\n", e.Path, e.Code, e.Message, e.MessageEN)
	}
	return name + ": " + strings.Join(codes, " ") + " | " + hex.EncodeToString(h.Sum(nil))[:16]
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "string:" + strconv.Quote(x)
	case json.Number:
		return "json.Number:" + string(x)
	case float64:
		return "float64:" + strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T:%v", v, v)
	}
	return fmt.Sprintf("%T:%s", v, b)
}

// mutations are the answers tried for one field: generic ones for every
// field plus values around its own bounds.
func mutations(it *form.Item) []any {
	out := []any{
		"", " ", "a", "Abc", "äöü", "𝄞", "x\x00y", "\xff", "01", "1", "DE", "12345",
		true, false, nil, []any{}, map[string]any{}, []any{"a"},
		json.Number("0"), json.Number("-0"), json.Number("1"), json.Number("-1"), json.Number("00012"),
		json.Number("1.50"), json.Number("1.5"), json.Number("1.005"), json.Number("0.01"), json.Number("-0.01"),
		json.Number("1e3"), json.Number("1E3"), json.Number("1e-3"), json.Number("1.5e2"), json.Number("-1e400"), json.Number("1e400"),
		json.Number("123456789012345678901234567890"), json.Number("-123456789012345678901234567890.5"),
		json.Number("9223372036854775807"), json.Number("9223372036854775808"), json.Number("-9223372036854775808"),
		json.Number("-9223372036854775809"), json.Number("0.1234567890123456789"), json.Number("12."), json.Number(".5"),
		json.Number("+1"), json.Number(" 1"), json.Number("1 "), json.Number("1/2"), json.Number("0x10"), json.Number("1_000"),
		json.Number("abc"), json.Number(""), json.Number("Inf"), json.Number("NaN"), json.Number("1e"), json.Number("--1"),
		json.Number(strings.Repeat("9", 64)), json.Number(strings.Repeat("9", 65)), json.Number("0." + strings.Repeat("0", 40) + "1"),
		0.0, math.Copysign(0, -1), 1.0, -1.0, 0.1, 0.01, 0.005, 2.5, 100.0, 1e21, 1e-7, 1e300, -1e300, 123456.78,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), float64(1 << 53), float64(1<<53) + 2,
		1, -7, int64(1 << 40), int64(math.MinInt64), int64(math.MaxInt64), int(0),
		"2024-05-01", "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "2024-5-1", "24-05-01", "2024-05-01T10:00:00Z",
		"2024-05-01T10:00:00+01:00", "2024-05-01t23:59:60z", "1999-12-31", "2031-01-01", "12:30", "12:30:45", "24:00", "7:30",
		map[string]any{"name": "a.pdf", "size": 1, "mediaType": "application/pdf"},
		map[string]any{"name": "a.pdf", "size": json.Number("2048"), "mediaType": "application/pdf"},
		map[string]any{"name": "a.pdf", "size": json.Number("2049"), "mediaType": "image/png"},
		map[string]any{"name": "a.pdf", "size": json.Number("1e3")},
		map[string]any{"name": "a.pdf", "size": json.Number("1.5")},
		map[string]any{"name": "a.pdf", "size": json.Number("-1")},
		map[string]any{"name": "a.pdf", "size": 2048.0, "mediaType": 7},
		map[string]any{"name": "a.pdf", "size": 2049.5},
		map[string]any{"name": "a.pdf", "size": "12"},
		map[string]any{"name": "", "size": 1},
	}
	c := it.Constraints
	for _, b := range []string{c.MinValue, c.MaxValue} {
		if b == "" {
			continue
		}
		out = append(out, b, json.Number(b), json.Number(b+"0"), json.Number("0"+b), json.Number(b+"e0"), json.Number("-"+b))
		if f, err := strconv.ParseFloat(b, 64); err == nil {
			for _, d := range []float64{-1, -0.01, -0.001, 0, 0.001, 0.01, 1} {
				out = append(out, f+d, json.Number(strconv.FormatFloat(f+d, 'f', -1, 64)))
			}
		}
		if d, err := time.Parse("2006-01-02", b); err == nil {
			out = append(out, d.AddDate(0, 0, -1).Format("2006-01-02"), d.AddDate(0, 0, 1).Format("2006-01-02"))
		}
	}
	for _, n := range []int{c.MinLength, c.MaxLength} {
		if n == 0 {
			continue
		}
		for _, d := range []int{-1, 0, 1} {
			if n+d < 0 {
				continue
			}
			out = append(out, strings.Repeat("a", n+d), strings.Repeat("ä", n+d), strings.Repeat("𝄞", n+d), strings.Repeat("a", max(n+d-1, 0))+"é")
		}
	}
	return out
}

// TestValidateConcurrent validates the real forms from several goroutines
// at once (shared bound, pattern and code-set caches; run with -race): every
// result equals the sequential one.
func TestValidateConcurrent(t *testing.T) {
	for _, rel := range verdictSchemas {
		m, err := fim.LoadFile(testenv.SharedData(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(m.ID, func(t *testing.T) {
			a := form.Answers(sampleAnswers(m, m.Root, true))
			b := form.Answers(sampleAnswers(m, m.Root, false))
			wantA := fmt.Sprint(m.Validate(a, form.ValidateOptions{}))
			wantB := fmt.Sprint(m.Validate(b, form.ValidateOptions{}))
			done := make(chan string)
			for g := range 8 {
				go func() {
					for range 20 {
						if got := fmt.Sprint(m.Validate(a, form.ValidateOptions{})); got != wantA {
							done <- fmt.Sprintf("goroutine %d: %s, want %s", g, got, wantA)
							return
						}
						if got := fmt.Sprint(m.Validate(b, form.ValidateOptions{})); got != wantB {
							done <- fmt.Sprintf("goroutine %d: %s, want %s", g, got, wantB)
							return
						}
					}
					done <- ""
				}()
			}
			for range 8 {
				if msg := <-done; msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}
