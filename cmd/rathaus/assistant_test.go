// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestServeAssistant: `serve --demo` mounts the assistant, and with
// --llm-url it phrases answers through the configured endpoint.
func TestServeAssistant(t *testing.T) {
	var calls atomic.Int32
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"role": "assistant", "content": "Kostet 37,00 Euro [S1]."}}}})
	}))
	defer llm.Close()
	r := startServe(t, map[string]string{"RATHAUS_DATA": t.TempDir(), "RATHAUS_LLM_URL": llm.URL}, "--demo", "--llm-model", "test")
	post := func(body string) map[string]any {
		t.Helper()
		res, err := http.Post(r.base+"/api/assistant", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
			t.Fatalf("%d %v", res.StatusCode, err)
		}
		return out
	}
	first := post(`{"message":"Was kostet ein Personalausweis?","municipality":"064110000000"}`)
	rep := first["reply"].(map[string]any)
	if rep["phrasing"] != "llm" || !strings.Contains(rep["text"].(string), "37,00 Euro") || calls.Load() == 0 {
		t.Errorf("reply %v (llm calls %d)", rep, calls.Load())
	}
	res, err := http.Get(r.base + "/assistent")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /assistent: %v %v", res, err)
	}
	res.Body.Close()
	if !strings.Contains(r.stderr.String(), "assistant ready") {
		t.Errorf("no start-up line for the assistant")
	}

	code, _, errs := runMain(t, map[string]string{"RATHAUS_DATA": t.TempDir()}, "serve", "--addr", "127.0.0.1:0", "--llm-url", llm.URL)
	if code == 0 || !strings.Contains(errs, "--llm-model") {
		t.Errorf("--llm-url without model: %d %q", code, errs)
	}
}
