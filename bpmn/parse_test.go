// SPDX-License-Identifier: EUPL-1.2

package bpmn_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/bpmn"
	"rathaus/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func mustParseFile(t *testing.T, path string) *bpmn.Definitions {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := bpmn.Parse(data, filepath.Base(path))
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return d
}

// TestSharedData parses every BPMN file in ../shared/data/bpmn.
func TestSharedData(t *testing.T) {
	dir := testenv.SharedData(t, "bpmn")
	n := 0
	err := filepath.WalkDir(dir, func(path string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() || !(strings.HasSuffix(path, ".bpmn") || strings.HasSuffix(path, ".bpmn20.xml")) {
			return nil
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			d := mustParseFile(t, path)
			if len(d.Processes) == 0 {
				t.Fatalf("no process found")
			}
			s := d.Summary()
			total := 0
			for _, p := range s.Processes {
				for _, c := range p.Elements {
					total += c
				}
			}
			if total == 0 {
				t.Errorf("no elements counted")
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 25 {
		t.Errorf("parsed %d files, want at least 25", n)
	}
}

func TestADONISPrefixes(t *testing.T) {
	d := mustParseFile(t, testenv.SharedData(t, "bpmn/mik-brandenburg/Webredaktion-FP-Prozesse_de.bpmn"))
	if len(d.Collaborations) == 0 || len(d.Collaborations[0].Participants) == 0 {
		t.Fatalf("collaboration with participants not read")
	}
	for _, p := range d.Processes {
		if p.Executable {
			t.Errorf("process %s: executable, want false", p.ID)
		}
		p.Walk(func(n, _ *bpmn.Node) {
			for k := range n.Attrs {
				if strings.HasPrefix(k, "adonis:") {
					t.Errorf("node %s keeps ADONIS attribute %s", n.ID, k)
				}
			}
		})
	}
}

func TestServiceBW(t *testing.T) {
	d := mustParseFile(t, testenv.SharedData(t, "bpmn/servicebw/generischesProzessmodell.bpmn20.xml"))
	p := d.Process("m6000357.generischesProzessmodell")
	if p == nil || !p.Executable {
		t.Fatalf("executable process not found: %+v", d.Processes)
	}
	tests := []struct{ node, key, want string }{
		{"userLogin", "activiti:assignee", "${startedBy}"},
		{"userLogin", "activiti:formKey", "serviceportal-login"},
		{"createPdfForAssignee", "activiti:class", "de.seitenbau.serviceportal.prozess.servicetask.PdfErstellenService"},
		{"inputValidation", "scriptFormat", "groovy"},
		{"inputValidation", "activiti:autoStoreVariables", "false"},
	}
	for _, tt := range tests {
		t.Run(tt.node+"/"+tt.key, func(t *testing.T) {
			n := p.Node(tt.node)
			if n == nil {
				t.Fatalf("node %s missing", tt.node)
			}
			if got := n.Attr(tt.key); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got := p.Node("createPdfForAssignee").Fields["target"]; got != "pdfAntrag" {
		t.Errorf("field target = %q, want pdfAntrag", got)
	}
	if s := p.Node("inputValidation").Script; !strings.Contains(s, "isFormValid") {
		t.Errorf("script not kept: %q", s)
	}
	var cond string
	for _, f := range p.Flows {
		if f.ID == "flow47" {
			cond = f.Condition
		}
	}
	if cond != `${radioAntrag=="angenommen"}` {
		t.Errorf("condition of flow47 = %q", cond)
	}
}

func TestAllElements(t *testing.T) {
	d := mustParseFile(t, "testdata/all-elements.bpmn")
	p := d.Process("all")
	if p.Participant != "Behörde" || p.Name != "Behörde" {
		t.Errorf("participant = %q name = %q, want Behörde", p.Participant, p.Name)
	}
	lanes := map[string]string{"ut": "Sachbearbeitung", "mt": "Leitung", "st": "System", "snd": ""}
	for id, want := range lanes {
		if got := p.Node(id).Lane; got != want {
			t.Errorf("lane of %s = %q, want %q", id, got, want)
		}
	}
	if bt := p.Node("bt"); bt.AttachedTo != "ut" || bt.CancelActivity || bt.Events[0].TimeDate != "2030-01-01T00:00:00Z" {
		t.Errorf("boundary bt = %+v", bt)
	}
	if be := p.Node("be"); !be.CancelActivity || be.Events[0].Kind != "error" || be.Events[0].Ref != "Err_1" {
		t.Errorf("boundary be = %+v", be)
	}
	if n := p.Node("sub2_e"); n == nil {
		t.Errorf("nested sub-process node not found")
	}
	st := p.Node("st")
	if diff := cmp.Diff(map[string]string{"target": "${x}", "mode": "fast"}, st.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if st.Attr("camunda:delegateExpression") != "${reg}" || len(st.Extensions) != 1 || st.Extensions[0].Name != "camunda:inputOutput" {
		t.Errorf("service task extensions = %+v %+v", st.Attrs, st.Extensions)
	}
	if p.Node("xor").Default != "f_default" {
		t.Errorf("default flow not read")
	}
	if c := p.Node("catchCond").Events[0].Condition; c != "${x > 1}" {
		t.Errorf("conditional event condition = %q", c)
	}
	if d.Messages["Msg_1"] != "answer" {
		t.Errorf("messages = %v", d.Messages)
	}
}

// TestGolden compares the summaries of our fixtures with testdata/*.golden.json.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bpmn")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d := mustParseFile(t, f)
			got, err := json.MarshalIndent(d.Summary(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".bpmn") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./bpmn -run TestGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStructuralWarnings(t *testing.T) {
	d := mustParseFile(t, "testdata/broken-structure.bpmn")
	want := []string{
		`duplicate id "a"`,
		`ends at unknown node "nowhere"`,
		`process "p" has no start event`,
		`lists unknown flow node "ghost"`,
		`attached to unknown activity "missing"`,
		`unknown element "weirdNode"`,
		`broken-structure.bpmn:4: participant "pool" refers to unknown process "missingProcess"`,
	}
	all := strings.Join(d.Warnings, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("warnings lack %q; got:\n%s", w, all)
		}
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Empty", "", "x.bpmn:1:1: no root element"},
		{"Unclosed", "<definitions xmlns=\"" + bpmn.NS + "\">\n<process id=\"p\">\n</definitions>", "x.bpmn:3:"},
		{"WrongRoot", "<foo/>", "root element is {}foo"},
		{"WrongNamespace", `<definitions xmlns="urn:other"/>`, "want definitions in namespace"},
		{"BadAttr", "<definitions xmlns=\"" + bpmn.NS + "\">\n  <process id=p/></definitions>", "x.bpmn:2:"},
		{"TwoRoots", "<a/><b/>", "more than one root element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bpmn.Parse([]byte(tt.in), "x.bpmn")
			if err == nil {
				t.Fatalf("no error")
			}
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("code = %q, want invalid", rathaus.ErrorCode(err))
			}
			if !strings.Contains(rathaus.ErrorMessage(err), tt.want) {
				t.Errorf("message %q lacks %q", rathaus.ErrorMessage(err), tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<definitions xmlns="` + bpmn.NS + `"><process id="p"><startEvent id="s"/><endEvent id="e"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/></process></definitions>`))
	f.Add([]byte(`<x:definitions xmlns:x="` + bpmn.NS + `"><x:process id="p"><x:subProcess id="a"><x:subProcess id="b"/></x:subProcess></x:process></x:definitions>`))
	f.Add([]byte(`<definitions xmlns="` + bpmn.NS + `"><process id="p"><laneSet><lane id="l"><flowNodeRef>q</flowNodeRef><childLaneSet><lane id="m"/></childLaneSet></lane></laneSet></process></definitions>`))
	if data, err := os.ReadFile("testdata/all-elements.bpmn"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := bpmn.Parse(data, "fuzz.bpmn")
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("error code %q for %v", rathaus.ErrorCode(err), err)
			}
			return
		}
		s := d.Summary()
		if _, err := json.Marshal(s); err != nil {
			t.Fatal(err)
		}
	})
}
