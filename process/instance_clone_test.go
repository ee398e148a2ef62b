// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"encoding/json"
	"testing"
)

// TestDeepClone: a deep copy of a decoded instance encodes exactly like
// it (nil and empty apart) and shares nothing a caller could change.
func TestDeepClone(t *testing.T) {
	tests := []struct{ name, data string }{
		{"Empty", `{"tenant":"t","id":"i","vars":null,"tokens":null,"tasks":null,"timers":null,"waits":null,"actions":null,"history":null}`},
		{"EmptyNotNil", `{"tenant":"t","id":"i","vars":{},"tokens":[],"tasks":[],"timers":[],"waits":[],"actions":[],"history":[]}`},
		{"Nested", `{"tenant":"t","id":"i","vars":{"a":{"b":[1,{"c":"d"},null]},"n":2.5,"s":"x","nil":null,"e":{},"l":[]},
			"tokens":[{"id":"k","node":"u"}],"tasks":[{"id":"t1","node":"u","state":"open","created":"2026-03-02T09:00:00Z"}],
			"actions":[{"id":"a1","action":"deliver","params":{"p":{"q":[true]}},"state":"open"}],
			"history":[{"at":"2026-03-02T09:00:00Z","what":"started"}],"seq":3,"rev":2,"started_at":"2026-03-02T09:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var orig Instance
			if err := json.Unmarshal([]byte(tt.data), &orig); err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(&orig)
			c := orig.DeepClone()
			if got, _ := json.Marshal(c); string(got) != string(want) {
				t.Fatalf("clone encodes as\n%s\nwant\n%s", got, want)
			}
			// Change everything reachable in the copy; the original stays.
			if m, ok := c.Vars["a"].(map[string]any); ok {
				m["b"].([]any)[1].(map[string]any)["c"] = "changed"
				m["new"] = 1
			}
			if c.Vars != nil {
				c.Vars["s"] = "changed"
			}
			for _, a := range c.Actions {
				a.Params["p"].(map[string]any)["q"].([]any)[0] = false
				a.State = StateDone
			}
			for _, tk := range c.Tasks {
				tk.State = StateDone
			}
			if len(c.History) > 0 {
				c.History[0].What = "changed"
			}
			if got, _ := json.Marshal(&orig); string(got) != string(want) {
				t.Errorf("original changed through the clone:\n%s\nwant\n%s", got, want)
			}
		})
	}
}
