// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rathaus/bpmn"
	"rathaus/internal/testenv"
	"rathaus/process"
)

func TestBPMNInspect(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.bpmn")
	if err := os.WriteFile(bad, []byte("<definitions xmlns=\""+bpmn.NS+"\">\n<process id=\"p\">\n</definitions>"), 0o644); err != nil {
		t.Fatal(err)
	}
	universal := filepath.Join(testenv.RepoRoot(t), "process", "universal.bpmn")
	t.Run("JSON", func(t *testing.T) {
		code, out, errs := runMain(t, nil, "bpmn", "inspect", universal, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var s bpmn.Summary
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if len(s.Processes) != 1 || s.Processes[0].ID != "universal" || !s.Processes[0].Executable ||
			s.Processes[0].Elements["userTask"] != 2 || s.Processes[0].Elements["lane"] != 3 || len(s.Unsupported) != 0 {
			t.Errorf("summary = %+v", s)
		}
		for _, key := range []string{`"processes"`, `"elements"`, `"unsupported"`, `"warnings"`, `"executable"`} {
			if !strings.Contains(out, key) {
				t.Errorf("output lacks %s", key)
			}
		}
	})
	t.Run("Text", func(t *testing.T) {
		code, out, _ := runMain(t, nil, "bpmn", "inspect", universal)
		if code != 0 || !strings.Contains(out, "Prozess / process universal") || !strings.Contains(out, "userTask") {
			t.Errorf("exit %d: %s", code, out)
		}
	})
	t.Run("SharedADONIS", func(t *testing.T) {
		f := testenv.SharedData(t, "bpmn/mik-brandenburg/Webredaktion-FP-Prozesse_de.bpmn")
		code, out, errs := runMain(t, nil, "bpmn", "inspect", "--json", f)
		if code != 0 || !strings.Contains(out, `"unsupported": [`) {
			t.Errorf("exit %d: %s %s", code, errs, out[:min(len(out), 300)])
		}
	})
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"Malformed", []string{"bpmn", "inspect", bad}, 1, "bad.bpmn:3:"},
		{"Missing", []string{"bpmn", "inspect", filepath.Join(dir, "nope.bpmn")}, 1, "cannot read"},
		{"NoFile", []string{"bpmn", "inspect"}, 2, "want exactly one FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runMain(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want %d with %q on one line", code, errs, tt.code, tt.want)
			}
		})
	}
}

func TestBPMNCheck(t *testing.T) {
	dir := t.TempDir()
	universal := filepath.Join(testenv.RepoRoot(t), "process", "universal.bpmn")
	servicebw := testenv.SharedData(t, "bpmn/servicebw/generischesProzessmodell.bpmn20.xml")
	mapping := filepath.Join(dir, "actions.json")
	raw, _ := json.Marshal(process.ServiceBWActions("userId:1", "Antrag"))
	if err := os.WriteFile(mapping, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	badMap := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badMap, []byte("[1,2]"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		out     string
		errText string
	}{
		{"Universal", []string{universal}, 0, "ist ausführbar / is executable", ""},
		{"ServiceBWUnmapped", []string{servicebw}, 1, "not bound to a built-in action (activiti:class=de.seitenbau", "9 problem(s)"},
		{"ServiceBWMapped", []string{servicebw, "--actions", mapping}, 0, "is executable", ""},
		{"ServiceBWJSON", []string{"--json", servicebw}, 1, `"executable": false`, "not executable"},
		{"Documentation", []string{testenv.SharedData(t, "bpmn/mik-brandenburg/tutorial-01.bpmn"), "--process", "Process_0atjt83"}, 1, "untyped task", "not executable"},
		{"NoExecutable", []string{testenv.SharedData(t, "bpmn/mik-brandenburg/tutorial-01.bpmn")}, 1, "", "name one with --process"},
		{"UnknownProcess", []string{universal, "--process", "nope"}, 1, "", `no process "nope"`},
		{"BadActions", []string{universal, "--actions", badMap}, 1, "", "not an action map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runMain(t, nil, append([]string{"bpmn", "check"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errs, tt.errText) {
				t.Errorf("exit %d\nstdout %s\nstderr %s", code, out, errs)
			}
		})
	}
}
