// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/form"
)

// benchAnswers246 are the answers bench/intake generates for S00000246
// (Aufenthaltserlaubnis): nested groups, repeated groups and fields,
// numbers, umlauts. Made by the bench's validAnswers, 1.6 kB.
const benchAnswers246 = `{"G00001802":{"F60000227":"Müller-Lüdenscheidt Straße","F60000228":"Müller-Lüdenscheidt Straße","F60000229":"Müller-Lüdenscheidt Straße","F60000230":"Müller-Lüdenscheidt Straße","F60000234":"Müller-Lüdenscheidt Straße","F60000235":"000","F60000236":["000"],"F60000280":38,"F60000332":"d","G60000083":{"F60000231":1,"F60000232":1,"F60000233":1850},"G60000093":{"F60000263":"001","G60000088":{"G60000086":{"F60000243":"Müller-Lüdenscheidt Straße","F60000244":"Müller-Lüde","F60000246":"64283","F60000247":"Müller-Lüdenscheidt Straße","F60000248":"Müller-Lüdenscheidt S"}}},"G60000110":{"F60000240":"Müller-Lüdenscheidt Str","F60000241":"Müller-Lüdenscheidt Str","F60000242":"erika.mustermann@example.org","F60000321":"Müller-Lüdenscheidt Straße","F60000345":"Müller-Lüdenscheidt Straße"},"G60000144":{"F60000281":"01"}},"G00002069":{"F00002920":"001","F00003018":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}],"F00003019":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}],"F00003284":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}],"G00002073":{"F00001055":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}],"F00002928":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}],"F00002936":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}]}},"G00002071":{"F00001768":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}],"F00002930":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}],"F00002931":[{"mediaType":"application/pdf","name":"nachweis.pdf","size":1024}]},"G60000220":{"F60000352":"001"}}`

// referenceDecode is the decoder decodeAPIAnswers replaced: encoding/json
// with UseNumber into form.Answers, and Decoder.More for trailing data.
func referenceDecode(body []byte) (form.Answers, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var a form.Answers
	if err := dec.Decode(&a); err != nil || a == nil {
		return nil, errNotAnswerObject
	}
	if dec.More() {
		return nil, errTrailingAnswers
	}
	return a, nil
}

// trailingCloser reports whether body is one JSON object followed (after
// whitespace) by a "}" or "]": encoding/json's Decoder.More let that pass,
// decodeAPIAnswers calls it trailing data (the one documented difference).
func trailingCloser(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	var v json.RawMessage
	if dec.Decode(&v) != nil {
		return false
	}
	rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")
	return len(rest) > 0 && (rest[0] == '}' || rest[0] == ']')
}

func decodeSeeds() []string {
	return []string{
		benchAnswers246, " \n" + benchAnswers246 + "\r\n\t",
		`{}`, `{"a":{"b":1.50}}`, `[]`, `null`, `{"a":1}{}`, `{"a":`, ``, `"x"`, `{"a":1} `, `{"a":1e400}`, "{\"\\u0000\":\"\xff\"}",
		`{"a":1}}`, `{"a":1} ]`, `{"a":1} x`, `{"a":1}\x00`, `{"a":-0.0e+5,"b":[1,2.5,-3E2],"c":0}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`,
		`{"a":1,"a":{"x":1},"a":[true,false,null]}`, `{"a":{"x":1,"y":2},"a":{"z":3}}`, `{"":""}`,
		`{"s":"\ud800","t":"\ud83d\ude00","u":"\u00fc\n\t\"\\\/"}`, "{\"k\xc3\":\"v\xe2\x82\"}", "{\"a\":\"\x01\"}",
		`{"a":[],"b":{},"c":[[],[{}]],"d":null}`, `{"a":tru}`, `{"a":true,}`, `{,}`, `{"a" 1}`, `{'a':1}`, `  `, `{"a":"\x"}`,
		`{"a":1}/*c*/`, "\xef\xbb\xbf{}", `{"a":[1,]}`, `{"a":NaN}`, `{"a":"` + strings.Repeat("ü", 300) + `"}`,
	}
}

// FuzzDecodeAPIAnswers checks the gjson decoder of the JSON intake against
// encoding/json with UseNumber on the same bytes: both refuse (with the
// same message) or both give go-cmp-equal answers — the same types too
// (json.Number, map[string]any, []any, nil); duplicate keys: the last wins;
// invalid UTF-8 and lone surrogates become U+FFFD in both. The one allowed
// difference: a "}" or "]" after the object, which encoding/json's
// Decoder.More overlooked, is trailing data here.
func FuzzDecodeAPIAnswers(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeAPIAnswers(body)
		want, werr := referenceDecode(body)
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID || got != nil {
				t.Fatalf("decodeAPIAnswers(%q) = %v, %v; want nil and EINVALID", body, got, err)
			}
			if werr == nil {
				if err == errTrailingAnswers && trailingCloser(body) {
					return
				}
				t.Fatalf("decodeAPIAnswers(%q) = %v; encoding/json accepts it", body, err)
			}
			if err != werr {
				t.Fatalf("decodeAPIAnswers(%q) = %v; encoding/json says %v", body, err, werr)
			}
			return
		}
		if werr != nil {
			t.Fatalf("decodeAPIAnswers(%q) accepts; encoding/json says %v", body, werr)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("decodeAPIAnswers(%q) differs from encoding/json (-want +got):\n%s", body, d)
		}
	})
}

// TestDecodeAPIAnswersDepth checks encoding/json's nesting limit (10,000
// levels) is kept: one level more is refused the same way.
func TestDecodeAPIAnswersDepth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		levels int // nested arrays inside the top object
		ok     bool
	}{{"at the limit", 9999, true}, {"one over", 10000, false}, {"far over", 300000, false}} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(`{"a":` + strings.Repeat("[", tc.levels) + strings.Repeat("]", tc.levels) + `}`)
			_, err := decodeAPIAnswers(body)
			_, werr := referenceDecode(body)
			if (err == nil) != tc.ok || (werr == nil) != tc.ok {
				t.Fatalf("levels %d: gjson err %v, encoding/json err %v; want ok=%v", tc.levels, err, werr, tc.ok)
			}
		})
	}
}

// TestDecodeAPIAnswersTypes pins the value types the validator gets.
func TestDecodeAPIAnswersTypes(t *testing.T) {
	got, err := decodeAPIAnswers([]byte(`{"n":1.50,"s":"x","b":true,"z":null,"g":{"f":"y"},"r":[{"f":2}],"e":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := form.Answers{"n": json.Number("1.50"), "s": "x", "b": true, "z": nil, "g": map[string]any{"f": "y"},
		"r": []any{map[string]any{"f": json.Number("2")}}, "e": []any{}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

// BenchmarkDecodeAPIAnswers compares the gjson decoder with encoding/json
// on the bench's answers of S00000246.
func BenchmarkDecodeAPIAnswers(b *testing.B) {
	body := []byte(benchAnswers246)
	for _, c := range []struct {
		name string
		fn   func([]byte) (form.Answers, error)
	}{{"gjson", decodeAPIAnswers}, {"encoding_json", referenceDecode}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := c.fn(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestIntakeReceiptJSON checks the hand-written receipt against encoding/json.
func TestIntakeReceiptJSON(t *testing.T) {
	for _, rc := range []intakeReceipt{
		{ID: "0192f0e4-7c1a-7b3e-9d2a-1234567890ab", Reference: "DA-2026-ABCD-EFGH", SubmittedAt: time.Date(2026, 11, 28, 19, 0, 0, 123456000, time.UTC)},
		{ID: "x", Reference: "r", SubmittedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Replayed: true},
		{ID: "ü<&>\"\\\n\x01", Reference: "", SubmittedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(&rc); err != nil {
			t.Fatal(err)
		}
		if got := rc.appendJSON(nil); string(got) != want.String() {
			t.Errorf("appendJSON = %s, want %s", got, want.String())
		}
	}
}
