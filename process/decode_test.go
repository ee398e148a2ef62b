// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// jsonValue draws a variable value: mostly JSON values as encoding/json
// decodes them, sometimes Go values that decode differently.
func jsonValue(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		kinds := []string{"nil", "bool", "float", "string", "badstring", "int", "strings", "typednil", "emptyobj"}
		if depth < 3 {
			kinds = append(kinds, "map", "list", "map", "list")
		}
		switch rapid.SampledFrom(kinds).Draw(t, "kind") {
		case "nil":
			return nil
		case "bool":
			return rapid.Bool().Draw(t, "b")
		case "float":
			return rapid.Float64().Draw(t, "f")
		case "string":
			return rapid.String().Draw(t, "s")
		case "badstring":
			return "x\xff"
		case "int":
			return rapid.Int().Draw(t, "i")
		case "strings":
			return []string{"a"}
		case "typednil":
			return []any(nil)
		case "emptyobj":
			return map[string]any{}
		case "map":
			m := map[string]any{}
			for i := range rapid.IntRange(0, 3).Draw(t, "n") {
				m[rapid.StringMatching(`[a-zäöü]{0,4}`).Draw(t, "k")+string(rune('a'+i))] = jsonValue(depth+1).Draw(t, "v")
			}
			return m
		default:
			l := []any{}
			for range rapid.IntRange(0, 3).Draw(t, "n") {
				l = append(l, jsonValue(depth+1).Draw(t, "v"))
			}
			return l
		}
	})
}

// TestDecodesAsIs: whenever an instance says it decodes as is, decoding
// its JSON gives a deeply equal instance (times, nil and empty included);
// instances with decoded variables and a UTC clock do say so.
func TestDecodesAsIs(t *testing.T) {
	universal, _, err := CompileUniversal(nil)
	if err != nil {
		t.Fatal(err)
	}
	defs := []*Definition{universal, compileBody(t, composite, nil)}
	clocks := map[string]func() time.Time{
		"utc":       func() time.Time { return t0 },
		"monotonic": func() time.Time { return time.Now() },
		"berlin":    func() time.Time { return t0.In(time.FixedZone("CET", 3600)) },
	}
	rapid.Check(t, func(rt *rapid.T) {
		def := rapid.SampledFrom(defs).Draw(rt, "def")
		clock := rapid.SampledFrom([]string{"utc", "utc", "monotonic", "berlin"}).Draw(rt, "clock")
		e := &Engine{Now: clocks[clock]}
		vars := map[string]any{}
		for i := range rapid.IntRange(0, 4).Draw(rt, "vars") {
			vars[string(rune('a'+i))] = jsonValue(0).Draw(rt, "var")
		}
		ctx := context.Background()
		inst, _, err := e.Start(ctx, def, vars)
		if err != nil {
			rt.Skip("start:", err)
		}
		for step := 0; ; step++ {
			data, err := json.Marshal(inst)
			if err != nil {
				rt.Skip("not JSON:", err)
			}
			var decoded Instance
			if err := json.Unmarshal(data, &decoded); err != nil {
				rt.Fatal(err)
			}
			asIs := inst.DecodesAsIs()
			if asIs && !reflect.DeepEqual(inst, &decoded) {
				rt.Fatalf("step %d: DecodesAsIs but decoding differs:\n%#v\n%#v", step, inst, &decoded)
			}
			as := inst.AsDecoded()
			if as != nil && !reflect.DeepEqual(as, &decoded) {
				rt.Fatalf("step %d: AsDecoded differs from decoding:\n%#v\n%#v", step, as, &decoded)
			}
			if as == nil && clock == "utc" && jsonNormal(map[string]any(vars)) && reflect.DeepEqual(inst, &decoded) {
				rt.Fatalf("step %d: AsDecoded refuses an instance that decodes as is", step)
			}
			if !decoded.DecodesAsIs() {
				rt.Fatalf("step %d: a decoded instance does not decode as is: %s", step, data)
			}
			if !asIs && clock == "utc" && reflect.DeepEqual(inst, &decoded) {
				// Allowed (conservative), but for decoded variables it must say yes.
				if jsonNormal(map[string]any(vars)) {
					rt.Fatalf("step %d: equal after decoding, decoded variables, UTC, but DecodesAsIs is false", step)
				}
			}
			open := inst.OpenTasks()
			if step > 6 || inst.Status != StatusRunning || len(open) == 0 {
				return
			}
			task := rapid.SampledFrom(open).Draw(rt, "task")
			next, _, err := e.CompleteTask(ctx, def, inst, task.ID, map[string]any{"complete": rapid.Bool().Draw(rt, "complete"), "decision": "approve", "x": jsonValue(1).Draw(rt, "x")})
			if err != nil {
				return
			}
			inst = next
		}
	})
}

// TestDecodesAsIsCases: what decodes differently is refused.
func TestDecodesAsIsCases(t *testing.T) {
	base := func() *Instance {
		return &Instance{Tenant: "t", ID: "i", Status: StatusRunning, Vars: map[string]any{"a": 1.5, "b": []any{"x", map[string]any{"c": true}}},
			Tasks:     []*Task{{ID: "t1", State: StateOpen, Created: t0}},
			Actions:   []*Action{{ID: "a1", Params: map[string]any{"p": "q"}}},
			History:   []Step{{At: t0, What: "started"}},
			StartedAt: t0}
	}
	tests := []struct {
		name   string
		change func(*Instance)
		want   bool
	}{
		{"Decoded", func(*Instance) {}, true},
		{"MonotonicTime", func(in *Instance) { in.StartedAt = time.Now() }, false},
		{"ZonedTime", func(in *Instance) { in.Tasks[0].Created = t0.In(time.FixedZone("CET", 3600)) }, false},
		{"LocalHistory", func(in *Instance) { in.History[0].At = t0.Local() }, false},
		{"IntVar", func(in *Instance) { in.Vars["n"] = 3 }, false},
		{"TypedMapVar", func(in *Instance) { in.Vars["m"] = map[string]string{"k": "v"} }, false},
		{"TypedNilVar", func(in *Instance) { in.Vars["l"] = []any(nil) }, false},
		{"BadUTF8Var", func(in *Instance) { in.Vars["s"] = "\xff" }, false},
		{"BadUTF8Key", func(in *Instance) { in.Vars["\xff"] = "s" }, false},
		{"BadUTF8Field", func(in *Instance) { in.Tasks[0].Name = "\xfe" }, false},
		{"EmptyParams", func(in *Instance) { in.Actions[0].Params = map[string]any{} }, false},
		{"NilTask", func(in *Instance) { in.Tasks = append(in.Tasks, nil) }, false},
		{"EmptyVars", func(in *Instance) { in.Vars = map[string]any{} }, true},
		{"NilVars", func(in *Instance) { in.Vars = nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.change(in)
			if got := in.DecodesAsIs(); got != tt.want {
				t.Fatalf("DecodesAsIs = %v, want %v", got, tt.want)
			}
			data, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			var d Instance
			if err := json.Unmarshal(data, &d); err != nil {
				t.Fatal(err)
			}
			if tt.want && !reflect.DeepEqual(in, &d) {
				t.Errorf("decodes differently:\n%#v\n%#v", in, &d)
			}
			as := in.AsDecoded()
			if as != nil && !reflect.DeepEqual(as, &d) {
				t.Errorf("AsDecoded differs from decoding:\n%#v\n%#v", as, &d)
			}
			if (as != nil) != (tt.want || tt.name == "EmptyParams") {
				t.Errorf("AsDecoded = %v", as)
			}
		})
	}
}
