// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func drawString(t *rapid.T, label string) string {
	return rapid.OneOf(rapid.SampledFrom([]string{"", "u1", "Prüfung", "a<b>&c", "\"q\"\\", "line\nbreak\t\b\f\x01", "\u2028\u2029", "bad\xff\xfe", "€ 💶"}),
		rapid.String(), rapid.StringMatching(`[a-z0-9/_-]{0,12}`)).Draw(t, label)
}

func drawTime(t *rapid.T, label string) time.Time {
	switch rapid.IntRange(0, 4).Draw(t, label+"kind") {
	case 0:
		return time.Time{}
	case 1:
		return t0.Add(time.Duration(rapid.Int64Range(-1e15, 1e15).Draw(t, label)))
	case 2:
		return t0.In(time.FixedZone("X", rapid.IntRange(-14, 14).Draw(t, label+"zone")*3600))
	case 3:
		return time.Date(rapid.IntRange(-2, 10001).Draw(t, label+"year"), 1, 2, 3, 4, 5, 6, time.UTC)
	default:
		return time.Now()
	}
}

func drawSlice[T any](t *rapid.T, label string, one func(*rapid.T) *T) []*T {
	switch rapid.IntRange(0, 3).Draw(t, label+"kind") {
	case 0:
		return nil
	case 1:
		return []*T{}
	}
	var s []*T
	for range rapid.IntRange(1, 3).Draw(t, label+"n") {
		if rapid.IntRange(0, 9).Draw(t, label+"nil") == 0 {
			s = append(s, nil)
		} else {
			s = append(s, one(t))
		}
	}
	return s
}

func drawMap(t *rapid.T, label string) map[string]any {
	switch rapid.IntRange(0, 3).Draw(t, label+"kind") {
	case 0:
		return nil
	case 1:
		return map[string]any{}
	}
	m := map[string]any{}
	for range rapid.IntRange(1, 3).Draw(t, label+"n") {
		m[drawString(t, label+"key")] = jsonValue(0).Draw(t, label+"value")
	}
	return m
}

func drawInstance(t *rapid.T) *Instance {
	in := &Instance{Tenant: drawString(t, "tenant"), ID: drawString(t, "id"), DefinitionKey: drawString(t, "key"),
		DefinitionVersion: rapid.Int().Draw(t, "version"), Status: Status(drawString(t, "status")), Incident: drawString(t, "incident"),
		Vars: drawMap(t, "vars"), Seq: rapid.Int().Draw(t, "seq"), Rev: rapid.Int().Draw(t, "rev"),
		StartedAt: drawTime(t, "started"), EndedAt: drawTime(t, "ended")}
	in.Tokens = drawSlice(t, "tokens", func(t *rapid.T) *Token {
		return &Token{ID: drawString(t, "id"), Node: drawString(t, "node"), Scope: drawString(t, "scope"), Joining: rapid.Bool().Draw(t, "joining")}
	})
	in.Tasks = drawSlice(t, "tasks", func(t *rapid.T) *Task {
		return &Task{ID: drawString(t, "id"), Node: drawString(t, "node"), Name: drawString(t, "name"), Type: drawString(t, "type"),
			Role: drawString(t, "role"), Assignee: drawString(t, "assignee"), CandidateGroups: drawString(t, "groups"), FormKey: drawString(t, "form"),
			Token: drawString(t, "token"), State: State(drawString(t, "state")), Created: drawTime(t, "created"), Ended: drawTime(t, "ended")}
	})
	in.Timers = drawSlice(t, "timers", func(t *rapid.T) *Timer {
		return &Timer{ID: drawString(t, "id"), Node: drawString(t, "node"), Token: drawString(t, "token"), Due: drawTime(t, "due"),
			State: State(drawString(t, "state")), Fired: rapid.IntRange(-1, 3).Draw(t, "fired")}
	})
	in.Waits = drawSlice(t, "waits", func(t *rapid.T) *Wait {
		return &Wait{ID: drawString(t, "id"), Message: drawString(t, "message"), Node: drawString(t, "node"), Token: drawString(t, "token"), State: State(drawString(t, "state"))}
	})
	in.Actions = drawSlice(t, "actions", func(t *rapid.T) *Action {
		return &Action{ID: drawString(t, "id"), Action: drawString(t, "action"), Node: drawString(t, "node"), Token: drawString(t, "token"),
			Params: drawMap(t, "params"), State: State(drawString(t, "state"))}
	})
	if n := rapid.IntRange(-1, 3).Draw(t, "history"); n >= 0 {
		in.History = []Step{}
		for range n {
			in.History = append(in.History, Step{At: drawTime(t, "at"), Node: drawString(t, "node"), What: drawString(t, "what")})
		}
	}
	return in
}

// TestEncodeInstance: EncodeInstance is json.Marshal, byte for byte, and
// fails where it fails.
func TestEncodeInstance(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		in := drawInstance(rt)
		want, werr := json.Marshal(in)
		got, gerr := EncodeInstance(in)
		if (werr != nil) != (gerr != nil) {
			rt.Fatalf("error %v, json.Marshal: %v", gerr, werr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			rt.Fatalf("encoding differs:\n got %s\nwant %s", got, want)
		}
	})
	if got, _ := EncodeInstance(nil); string(got) != "null" {
		t.Errorf("nil instance: %s", got)
	}
}

// TestEncodeInstanceFields fails when a field is added to the encoded
// types: EncodeInstance has to learn it.
func TestEncodeInstanceFields(t *testing.T) {
	want := map[reflect.Type]int{
		reflect.TypeFor[Instance](): 17, reflect.TypeFor[Token](): 4, reflect.TypeFor[Task](): 12, reflect.TypeFor[Timer](): 6,
		reflect.TypeFor[Wait](): 5, reflect.TypeFor[Action](): 6, reflect.TypeFor[Step](): 3,
	}
	for typ, n := range want {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, EncodeInstance knows %d", typ, typ.NumField(), n)
		}
	}
}

func BenchmarkEncodeInstance(b *testing.B) {
	in := &Instance{Tenant: "064110000000", ID: "0f9c0b1e-8d7a-4c1e-9b3a-5d2f6e7a8b9c", DefinitionKey: "approval", DefinitionVersion: 1, Status: StatusRunning,
		Vars: map[string]any{"environment": map[string]any{"variables": map[string]any{"approved": true}}}, StartedAt: t0}
	for i := range 6 {
		in.Tokens = append(in.Tokens, &Token{ID: "t" + string(rune('0'+i)), Node: "review"})
		in.Tasks = append(in.Tasks, &Task{ID: "k" + string(rune('0'+i)), Node: "review", Name: "Prüfen", Type: "userTask", Token: "t1", State: StateDone, Created: t0, Ended: t0})
		in.History = append(in.History, Step{At: t0, Node: "review", What: "task created"})
	}
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(in)
		}
	})
	b.Run("EncodeInstance", func(b *testing.B) {
		for b.Loop() {
			_, _ = EncodeInstance(in)
		}
	})
}
