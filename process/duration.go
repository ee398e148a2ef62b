// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm"
)

// Duration is an ISO-8601 duration such as P14D, PT5M or P1Y2M3DT4H5M6S.
// Years, months, weeks and days are calendar steps (time.AddDate); the
// time part is exact.
type Duration struct {
	Years, Months, Days int
	Time                time.Duration
}

// ParseDuration parses an ISO-8601 duration (PnYnMnWnDTnHnMnS, with an
// optional fraction on the seconds).
func ParseDuration(s string) (Duration, error) {
	var d Duration
	orig := s
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return d, fmt.Errorf("duration %q: want ISO-8601 like P14D or PT5M", orig)
	}
	s = s[1:]
	inTime := false
	seen := false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return d, fmt.Errorf("duration %q: second T", orig)
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
			i++
		}
		if i == 0 || i == len(s) {
			return d, fmt.Errorf("duration %q: want a number followed by a unit", orig)
		}
		num := strings.ReplaceAll(s[:i], ",", ".")
		unit := s[i]
		s = s[i+1:]
		seen = true
		if strings.Contains(num, ".") {
			if !(inTime && unit == 'S') {
				return d, fmt.Errorf("duration %q: fractions only on seconds", orig)
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return d, fmt.Errorf("duration %q: %v", orig, err)
			}
			d.Time += time.Duration(f * float64(time.Second))
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n > 100000 {
			return d, fmt.Errorf("duration %q: bad number %q", orig, num)
		}
		switch {
		case !inTime && unit == 'Y':
			d.Years += n
		case !inTime && unit == 'M':
			d.Months += n
		case !inTime && unit == 'W':
			d.Days += 7 * n
		case !inTime && unit == 'D':
			d.Days += n
		case inTime && unit == 'H':
			d.Time += time.Duration(n) * time.Hour
		case inTime && unit == 'M':
			d.Time += time.Duration(n) * time.Minute
		case inTime && unit == 'S':
			d.Time += time.Duration(n) * time.Second
		default:
			return d, fmt.Errorf("duration %q: unknown unit %q", orig, unit)
		}
	}
	if !seen {
		return d, fmt.Errorf("duration %q: no components", orig)
	}
	return d, nil
}

// AddTo returns t plus d.
func (d Duration) AddTo(t time.Time) time.Time {
	return t.AddDate(d.Years, d.Months, d.Days).Add(d.Time)
}

// Timer definitions. A timeDuration, timeDate or timeCycle body is either
// a literal (ISO-8601 duration, RFC 3339 date, Rn/duration) or a JUEL
// expression "${…}" (as Activiti and Camunda write them) that is compiled
// with the model and evaluated when the timer is scheduled, against the
// instance variables and these functions:
//
//	now()                  the engine's clock at scheduling time (not the wall clock)
//	addDuration(date, d)   date (time or RFC 3339 text) plus ISO-8601 duration d ("P14D", "-P3D")
//	halfway(date)          the moment halfway between now() and date
//
// A timeDuration expression must yield an ISO-8601 duration (text) or a Go
// duration; a timeDate expression a time or an RFC 3339 text; a timeCycle
// expression a text "Rn/duration" (evaluated again for each repetition).
// No value (an unset variable) or a wrong one is an incident: the instance
// fails with the reason, as in Camunda. Models give defaults in the
// expression, e.g. ${empty d ? addDuration(now(), 'P14D') : d}.

// timerFuncs are the functions a timer expression may call besides
// expr-lang's builtins; now and halfway are bound per evaluation.
var timerFuncs = []string{"now", "addDuration", "halfway"}

// timerSpec is the compiled trigger of a timer event.
type timerSpec struct {
	kind     string // timeDuration, timeDate or timeCycle
	duration *Duration
	date     time.Time
	expr     string      // ${…} evaluated when the timer is scheduled
	prog     *vm.Program // expr compiled
	// repeat is set for a cycle "Rn/duration": how often it fires in
	// all, 0 for "R/duration" (until the activity ends).
	cycle  bool
	repeat int
}

// parseCycle parses an ISO-8601 repeating interval "Rn/duration" or
// "R/duration" (fires every duration, n times or until cancelled).
func parseCycle(s string) (timerSpec, error) {
	rep, dur, ok := strings.Cut(s, "/")
	if !ok || !strings.HasPrefix(rep, "R") || strings.Contains(dur, "/") {
		return timerSpec{}, fmt.Errorf("timeCycle %q: want Rn/duration like R3/P7D", s)
	}
	n := 0
	if rep != "R" {
		var err error
		if n, err = strconv.Atoi(rep[1:]); err != nil || n < 1 {
			return timerSpec{}, fmt.Errorf("timeCycle %q: bad repetition count", s)
		}
	}
	d, err := ParseDuration(dur)
	if err != nil {
		return timerSpec{}, fmt.Errorf("timeCycle %q: %v", s, err)
	}
	if d.AddTo(time.Unix(0, 0)).Sub(time.Unix(0, 0)) < time.Minute {
		return timerSpec{}, fmt.Errorf("timeCycle %q: interval shorter than a minute", s)
	}
	return timerSpec{kind: "timeCycle", duration: &d, cycle: true, repeat: n}, nil
}

// compileTimer compiles a timer expression of the given kind.
func compileTimer(kind, s string) (timerSpec, error) {
	code, err := TranslateJUEL(s)
	if err == nil {
		opts := append(exprOptions(false), expr.DisableBuiltin("now"),
			expr.Function("addDuration", addDuration, new(func(any, string) time.Time)))
		var p *vm.Program
		if p, err = expr.Compile(code, opts...); err == nil {
			if err = checkCalls(p.Node()); err == nil {
				ts := timerSpec{kind: kind, expr: strings.TrimSpace(s), prog: p}
				ts.cycle = kind == "timeCycle"
				return ts, nil
			}
		}
	}
	// expr-lang appends a source excerpt on further lines; one line here.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return timerSpec{}, fmt.Errorf("%s %s: not a valid expression: %s", kind, strings.TrimSpace(s), msg)
}

// checkCalls refuses calls of unknown functions (a typo would otherwise
// only show when the timer is scheduled).
func checkCalls(root ast.Node) error {
	var bad string
	ast.Walk(&root, visitFunc(func(n *ast.Node) {
		c, ok := (*n).(*ast.CallNode)
		if !ok || bad != "" {
			return
		}
		id, ok := c.Callee.(*ast.IdentifierNode)
		if !ok || slices.Contains(timerFuncs, id.Value) || id.Value == "isEmpty" || id.Value == "truthy" {
			return
		}
		if _, builtin := builtin.Index[id.Value]; !builtin {
			bad = id.Value
		}
	}))
	if bad != "" {
		return fmt.Errorf("unknown function %s (timer functions: %s)", bad, strings.Join(timerFuncs, ", "))
	}
	return nil
}

type visitFunc func(*ast.Node)

// Visit implements ast.Visitor.
func (f visitFunc) Visit(n *ast.Node) { f(n) }

func parseTimer(duration, date string) (timerSpec, error) {
	duration, date = strings.TrimSpace(duration), strings.TrimSpace(date)
	switch {
	case duration != "" && date != "":
		return timerSpec{}, fmt.Errorf("timer with both timeDuration and timeDate: keep one")
	case IsExpression(duration):
		return compileTimer("timeDuration", duration)
	case IsExpression(date):
		return compileTimer("timeDate", date)
	case duration != "":
		d, err := ParseDuration(duration)
		if err != nil {
			return timerSpec{}, fmt.Errorf("timeDuration: %v", err)
		}
		return timerSpec{kind: "timeDuration", duration: &d}, nil
	case date != "":
		t, err := time.Parse(time.RFC3339, date)
		if err != nil {
			return timerSpec{}, fmt.Errorf("timeDate %q: want RFC 3339 like 2030-01-31T12:00:00Z", date)
		}
		return timerSpec{kind: "timeDate", date: t}, nil
	}
	return timerSpec{}, fmt.Errorf("timer without timeDuration or timeDate")
}

// parseTimerCycle compiles a timeCycle: a literal Rn/duration or an
// expression yielding one.
func parseTimerCycle(s string) (timerSpec, error) {
	s = strings.TrimSpace(s)
	if IsExpression(s) {
		return compileTimer("timeCycle", s)
	}
	return parseCycle(s)
}

// eval runs the timer expression at now.
func (ts timerSpec) eval(now time.Time, vars map[string]any) (any, error) {
	env := make(map[string]any, len(vars)+2)
	maps.Copy(env, vars)
	env["now"] = func() time.Time { return now }
	env["halfway"] = func(date any) (time.Time, error) {
		t, err := toTime(date)
		if err != nil {
			return time.Time{}, fmt.Errorf("halfway: %v", err)
		}
		if !t.After(now) {
			return t, nil
		}
		return now.Add(t.Sub(now) / 2), nil
	}
	v, err := expr.Run(ts.prog, env)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", ts.kind, ts.expr, err)
	}
	if v == nil {
		return nil, fmt.Errorf("%s %s gave no value (is the variable set?)", ts.kind, ts.expr)
	}
	return v, nil
}

// resolve evaluates an expression cycle to its literal form.
func (ts timerSpec) resolve(now time.Time, vars map[string]any) (timerSpec, error) {
	if ts.prog == nil {
		return ts, nil
	}
	v, err := ts.eval(now, vars)
	if err != nil {
		return ts, err
	}
	s, ok := v.(string)
	if !ok {
		return ts, fmt.Errorf("timeCycle %s gave %v (%T), want a text Rn/duration like R3/P7D", ts.expr, v, v)
	}
	c, err := parseCycle(strings.TrimSpace(s))
	if err != nil {
		return ts, fmt.Errorf("timeCycle %s gave %v", ts.expr, err)
	}
	return c, nil
}

// due computes when a timer scheduled at now fires (the first firing of a
// cycle).
func (ts timerSpec) due(now time.Time, vars map[string]any) (time.Time, error) {
	if ts.prog == nil {
		switch {
		case ts.duration != nil:
			return ts.duration.AddTo(now), nil
		default:
			return ts.date, nil
		}
	}
	if ts.cycle {
		c, err := ts.resolve(now, vars)
		if err != nil {
			return time.Time{}, err
		}
		return c.duration.AddTo(now), nil
	}
	v, err := ts.eval(now, vars)
	if err != nil {
		return time.Time{}, err
	}
	if ts.kind == "timeDuration" {
		switch v := v.(type) {
		case time.Duration:
			if v >= 0 {
				return now.Add(v), nil
			}
		case string:
			d, err := ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return time.Time{}, fmt.Errorf("timeDuration %s gave %v", ts.expr, err)
			}
			return d.AddTo(now), nil
		}
		return time.Time{}, fmt.Errorf("timeDuration %s gave %v (%T), want an ISO-8601 duration like P14D", ts.expr, v, v)
	}
	t, err := toTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("timeDate %s gave %v", ts.expr, err)
	}
	return t, nil
}

// again returns when a cycle that fired for the fired-th time at prev
// fires next; ok is false when it is done (or ts is no cycle).
func (ts timerSpec) again(prev, now time.Time, fired int, vars map[string]any) (next time.Time, ok bool, err error) {
	if !ts.cycle {
		return time.Time{}, false, nil
	}
	c, err := ts.resolve(now, vars)
	if err != nil {
		return time.Time{}, false, err
	}
	if c.repeat != 0 && fired >= c.repeat {
		return time.Time{}, false, nil
	}
	return c.duration.AddTo(prev), true, nil
}

// toTime accepts a time or an RFC 3339 text.
func toTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v, nil
	case string:
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
		if err != nil {
			return time.Time{}, fmt.Errorf("%q, want an RFC 3339 date like 2030-01-31T12:00:00Z", v)
		}
		return t, nil
	case nil:
		return time.Time{}, fmt.Errorf("no value, want an RFC 3339 date")
	}
	return time.Time{}, fmt.Errorf("%v (%T), want an RFC 3339 date", v, v)
}

// addDuration implements addDuration(date, "P3D"); a leading "-"
// subtracts.
func addDuration(params ...any) (any, error) {
	if len(params) != 2 {
		return nil, fmt.Errorf("addDuration takes a date and a duration")
	}
	t, err := toTime(params[0])
	if err != nil {
		return nil, fmt.Errorf("addDuration: %v", err)
	}
	s, _ := params[1].(string)
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	d, err := ParseDuration(strings.TrimPrefix(s, "-"))
	if err != nil {
		return nil, fmt.Errorf("addDuration: %v", err)
	}
	if neg {
		d = Duration{Years: -d.Years, Months: -d.Months, Days: -d.Days, Time: -d.Time}
	}
	return d.AddTo(t), nil
}
