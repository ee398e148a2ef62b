// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"rathaus"
	"rathaus/bpmn"
)

// catchTimer is a process that waits at intermediate timer w of the given
// definition ("timeDuration", "timeDate") and ends.
func catchTimer(kind, body string) string {
	return `<startEvent id="s"/><intermediateCatchEvent id="w"><timerEventDefinition><` + kind + `>` + body + `</` + kind + `></timerEventDefinition></intermediateCatchEvent><endEvent id="e"/>` + seq("s", "w", "e")
}

// boundaryCycle is a user task u with a non-interrupting cycle timer b
// leading to action remind.
func boundaryCycle(cycle string) string {
	return `<startEvent id="s"/><userTask id="u"/><boundaryEvent id="b" attachedToRef="u" cancelActivity="false"><timerEventDefinition><timeCycle>` + cycle + `</timeCycle></timerEventDefinition></boundaryEvent><serviceTask id="remind" rathaus:action="send_to_mailbox"/><endEvent id="e"/><endEvent id="e2"/>` +
		seq("s", "u", "e") + seq("b", "remind", "e2")
}

func TestTimerExpressions(t *testing.T) {
	deadline := t0.AddDate(0, 0, 3).Add(5 * time.Hour)
	tests := []struct {
		name string
		kind string
		body string
		vars map[string]any
		want time.Time
	}{
		{"DurationVariable", "timeDuration", "${wait}", map[string]any{"wait": "P2D"}, t0.AddDate(0, 0, 2)},
		{"DurationJUELDefault", "timeDuration", "${empty wait ? 'P1D' : wait}", nil, t0.AddDate(0, 0, 1)},
		{"DurationWhitespace", "timeDuration", "\n  ${wait}\n", map[string]any{"wait": " PT90M "}, t0.Add(90 * time.Minute)},
		{"DurationGo", "timeDuration", "${duration('36h')}", nil, t0.Add(36 * time.Hour)},
		{"LiteralWhitespace", "timeDuration", "\n  P14D\n", nil, t0.AddDate(0, 0, 14)},
		{"DateRFC3339", "timeDate", "${until}", map[string]any{"until": deadline.Format(time.RFC3339)}, deadline},
		{"DateTime", "timeDate", "${until}", map[string]any{"until": deadline}, deadline},
		{"DateZone", "timeDate", "${until}", map[string]any{"until": "2026-03-05T14:00:00+01:00"}, time.Date(2026, 3, 5, 13, 0, 0, 0, time.UTC)},
		{"DateDefaultFromEngineClock", "timeDate", "${until != nil ? until : addDuration(now(), 'P14D')}", nil, t0.AddDate(0, 0, 14)},
		{"DateDefaultNotUsed", "timeDate", "${until ne null ? until : addDuration(now(), 'P14D')}", map[string]any{"until": deadline.Format(time.RFC3339)}, deadline},
		{"DateBefore", "timeDate", "${addDuration(until, '-P1DT2H')}", map[string]any{"until": deadline.Format(time.RFC3339)}, deadline.AddDate(0, 0, -1).Add(-2 * time.Hour)},
		{"Halfway", "timeDate", "${halfway(until)}", map[string]any{"until": deadline.Format(time.RFC3339)}, t0.Add(deadline.Sub(t0) / 2)},
		{"HalfwayPast", "timeDate", "${halfway(until)}", map[string]any{"until": "2026-01-01T00:00:00Z"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"VariableNamedNowIsShadowed", "timeDate", "${addDuration(now(), 'PT1H')}", map[string]any{"now": "x"}, t0.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, compileBody(t, catchTimer(tt.kind, tt.body), nil), tt.vars)
			h.want(StatusRunning, "timer:w")
			if due := h.inst.OpenTimers()[0].Due; !due.Equal(tt.want) {
				t.Errorf("due %v, want %v", due, tt.want)
			}
			var scheduled time.Time
			for _, ef := range h.effects {
				if ef.Kind == EffectScheduleTimer {
					scheduled = ef.Due
				}
			}
			if !scheduled.Equal(tt.want) {
				t.Errorf("schedule effect due %v, want %v", scheduled, tt.want)
			}
			h.fire("w")
			h.want(StatusCompleted)
		})
	}
}

func TestTimerExpressionIncidents(t *testing.T) {
	tests := []struct {
		name string
		kind string
		body string
		vars map[string]any
		want string // substring of the incident
	}{
		{"MissingDate", "timeDate", "${requestDeadline}", nil, "timeDate ${requestDeadline} gave no value"},
		{"MissingDuration", "timeDuration", "${wait}", nil, "timeDuration ${wait} gave no value"},
		{"DateIsNoDate", "timeDate", "${until}", map[string]any{"until": "morgen"}, `timeDate ${until} gave "morgen", want an RFC 3339 date`},
		{"DurationGivenADate", "timeDuration", "${wait}", map[string]any{"wait": "2030-01-01T00:00:00Z"}, "want ISO-8601"},
		{"DurationGivenANumber", "timeDuration", "${wait}", map[string]any{"wait": 14}, "want an ISO-8601 duration like P14D"},
		{"NegativeGoDuration", "timeDuration", "${duration('-1h')}", nil, "want an ISO-8601 duration"},
		{"BadAddDuration", "timeDate", "${addDuration(until, '3 Tage')}", map[string]any{"until": "2030-01-01T00:00:00Z"}, "addDuration: duration"},
		{"HalfwayOfNothing", "timeDate", "${halfway(until)}", nil, "halfway: no value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, compileBody(t, catchTimer(tt.kind, tt.body), nil), tt.vars)
			h.want(StatusFailed)
			if !strings.Contains(h.inst.Incident, tt.want) || !strings.Contains(h.inst.Incident, "intermediateCatchEvent w") {
				t.Errorf("incident %q, want it to name the event and contain %q", h.inst.Incident, tt.want)
			}
			if strings.Contains(h.effectKinds(), "schedule_timer") {
				t.Errorf("a timer was scheduled: %s", h.effectKinds())
			}
		})
	}
}

func TestTimerExpressionCompileProblems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"Syntax", catchTimer("timeDuration", "${wait +}"), "timeDuration ${wait +}: not a valid expression"},
		{"UnknownFunction", catchTimer("timeDate", "${halfwy(until)}"), "unknown function halfwy"},
		{"AddDurationArity", catchTimer("timeDate", "${addDuration(until)}"), "timeDate ${addDuration(until)}: not a valid expression"},
		{"Mixed", catchTimer("timeDuration", "P${days}D"), "timeDuration"},
		{"DateSyntax", catchTimer("timeDate", "${until ?}"), "timeDate ${until ?}: not a valid expression"},
		{"CycleSyntax", boundaryCycle("${'R3/' +}"), "timeCycle ${'R3/' +}: not a valid expression"},
		{"Both", `<startEvent id="s"/><intermediateCatchEvent id="w"><timerEventDefinition><timeDuration>P1D</timeDuration><timeDate>${d}</timeDate></timerEventDefinition></intermediateCatchEvent>` + seq("s", "w"), "both timeDuration and timeDate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := bpmn.Parse([]byte(wrap(tt.body)), "t.bpmn")
			if err != nil {
				t.Fatal(err)
			}
			def, problems, err := Compile(d, "p", nil)
			if def != nil || rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("compiled (err %v); want a problem %q", err, tt.want)
			}
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
				if strings.Contains(p.Reason, "\n") {
					t.Errorf("problem on several lines: %q", p.Reason)
				}
			}
			if j := strings.Join(all, "\n"); !strings.Contains(j, tt.want) || !strings.Contains(j, "line ") {
				t.Errorf("problems %q, want %q with a line", j, tt.want)
			}
		})
	}
}

func TestTimerCycleExpression(t *testing.T) {
	t.Run("RepeatsFromVariable", func(t *testing.T) {
		h := newHarness(t, compileBody(t, boundaryCycle("${'R2/' + every}"), nil), map[string]any{"every": "P3D"})
		for i := 1; i <= 2; i++ {
			h.fire("b")
			h.act("remind", nil)
			if want := t0.AddDate(0, 0, 3*i); !h.now.Equal(want) {
				t.Errorf("firing %d at %v, want %v", i, h.now, want)
			}
		}
		h.want(StatusRunning, "task:u")
		h.complete("u", nil)
		h.want(StatusCompleted)
	})
	t.Run("EvaluatedAgainEachRepetition", func(t *testing.T) {
		h := newHarness(t, compileBody(t, boundaryCycle("${cycle}"), nil), map[string]any{"cycle": "R/P1D"})
		h.fire("b")
		h.act("remind", map[string]any{"cycle": "R/P7D"})
		// The next firing was scheduled when b fired, with P1D.
		h.fire("b")
		if want := t0.AddDate(0, 0, 2); !h.now.Equal(want) {
			t.Errorf("second firing at %v, want %v", h.now, want)
		}
		h.act("remind", nil)
		h.fire("b")
		if want := t0.AddDate(0, 0, 9); !h.now.Equal(want) {
			t.Errorf("third firing at %v, want %v", h.now, want)
		}
	})
	t.Run("MissingIsIncident", func(t *testing.T) {
		h := newHarness(t, compileBody(t, boundaryCycle("${cycle}"), nil), nil)
		if h.inst.Status != StatusFailed {
			t.Fatalf("status %s", h.inst.Status)
		}
		if !strings.Contains(h.inst.Incident, "timeCycle ${cycle} gave no value") {
			t.Errorf("incident %q", h.inst.Incident)
		}
	})
	t.Run("TooFastIsIncident", func(t *testing.T) {
		h := newHarness(t, compileBody(t, boundaryCycle("${cycle}"), nil), map[string]any{"cycle": "R/PT1S"})
		if h.inst.Status != StatusFailed {
			t.Fatalf("status %s", h.inst.Status)
		}
		if !strings.Contains(h.inst.Incident, "shorter than a minute") {
			t.Errorf("incident %q", h.inst.Incident)
		}
	})
	t.Run("BrokenOnRepetitionIsIncident", func(t *testing.T) {
		h := newHarness(t, compileBody(t, boundaryCycle("${cycle}"), nil), map[string]any{"cycle": "R/P1D"})
		h.inst.Vars["cycle"] = "jeden Tag"
		h.fire("b")
		if h.inst.Status != StatusFailed || !strings.Contains(h.inst.Incident, `"jeden Tag"`) {
			t.Errorf("status %s incident %q", h.inst.Status, h.inst.Incident)
		}
	})
}

// TestPropertyTimerFunctions: halfway lies between the clock and the
// date; addDuration with days and times is undone by its negation.
func TestPropertyTimerFunctions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		now := t0.Add(time.Duration(rapid.Int64Range(-1e15, 1e15).Draw(t, "now")))
		date := now.Add(time.Duration(rapid.Int64Range(-1e16, 1e16).Draw(t, "offset")))
		spec, err := parseTimer("", "${halfway(d)}")
		if err != nil {
			t.Fatal(err)
		}
		due, err := spec.due(now, map[string]any{"d": date.Format(time.RFC3339Nano)})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !date.After(now) && !due.Equal(date):
			t.Fatalf("halfway to past %v from %v = %v, want the date", date, now, due)
		case date.After(now) && (due.Before(now) || due.After(date) || (due.Sub(now)-date.Sub(due)).Abs() > time.Nanosecond):
			t.Fatalf("halfway %v → %v = %v, not in the middle", now, date, due)
		}
		iso := "P" + strconv.Itoa(rapid.IntRange(0, 400).Draw(t, "days")) + "DT" + strconv.Itoa(rapid.IntRange(0, 48).Draw(t, "hours")) + "H"
		there, err := addDuration(date, iso)
		if err != nil {
			t.Fatal(err)
		}
		back, err := addDuration(there, "-"+iso)
		if err != nil {
			t.Fatal(err)
		}
		if !back.(time.Time).Equal(date.UTC()) && !back.(time.Time).Equal(date) {
			t.Fatalf("addDuration(addDuration(%v, %s), -%s) = %v", date, iso, iso, back)
		}
	})
}

// FuzzTimerSpec: any timer text either is a compile problem or yields a
// due time or an error when scheduled; it never panics.
func FuzzTimerSpec(f *testing.F) {
	for _, s := range []string{"P14D", "${wait}", "${halfway(d)}", "${addDuration(d, '-P3D')}", "${d != nil ? d : addDuration(now(), 'P14D')}",
		"2030-01-01T00:00:00Z", "R3/P7D", "${'R2/' + w}", "${", "${now()}", "${1/0}", "${d.Year()}"} {
		f.Add(s, "2030-01-31T12:00:00Z")
		f.Add(s, "P2D")
	}
	f.Fuzz(func(t *testing.T, body, v string) {
		vars := map[string]any{"d": v, "w": v, "wait": v}
		for _, parse := range []func(string) (timerSpec, error){
			func(s string) (timerSpec, error) { return parseTimer(s, "") },
			func(s string) (timerSpec, error) { return parseTimer("", s) },
			parseTimerCycle,
		} {
			spec, err := parse(body)
			if err != nil {
				continue
			}
			if _, err := spec.due(t0, vars); err == nil && spec.cycle {
				_, _, _ = spec.again(t0, t0, 1, vars)
			}
		}
	})
}

// BenchmarkTimerDue measures scheduling the universal process's deadline
// timer (an expression over ~20 variables) against a literal duration.
func BenchmarkTimerDue(b *testing.B) {
	vars := map[string]any{"requestDeadline": "2026-03-05T23:59:00Z"}
	for i := range 20 {
		vars["v"+strconv.Itoa(i)] = i
	}
	for _, bc := range []struct{ name, date, duration string }{
		{"Literal", "", "P14D"},
		{"Expression", "${empty requestDeadline ? addDuration(now(), 'P14D') : requestDeadline}", ""},
		{"Halfway", "${halfway(empty requestDeadline ? addDuration(now(), 'P14D') : requestDeadline)}", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			spec, err := parseTimer(bc.duration, bc.date)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := spec.due(t0, vars); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
