// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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

// timerSpec is the compiled trigger of a timer event.
type timerSpec struct {
	duration *Duration
	date     time.Time
	expr     string // ${…} evaluated when the timer is scheduled
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
	return timerSpec{duration: &d, cycle: true, repeat: n}, nil
}

func parseTimer(duration, date string) (timerSpec, error) {
	switch {
	case duration != "" && IsExpression(duration), date != "" && IsExpression(date):
		e := duration
		if e == "" {
			e = date
		}
		if _, err := compileValue(e); err != nil {
			return timerSpec{}, err
		}
		return timerSpec{expr: e}, nil
	case duration != "":
		d, err := ParseDuration(duration)
		if err != nil {
			return timerSpec{}, err
		}
		return timerSpec{duration: &d}, nil
	case date != "":
		t, err := time.Parse(time.RFC3339, date)
		if err != nil {
			return timerSpec{}, fmt.Errorf("timeDate %q: want RFC 3339 like 2030-01-31T12:00:00Z", date)
		}
		return timerSpec{date: t}, nil
	}
	return timerSpec{}, fmt.Errorf("timer without timeDuration or timeDate")
}

// due computes when a timer scheduled at now fires. An expression must
// yield an ISO-8601 duration, an RFC 3339 date or a time.Time.
func (ts timerSpec) due(now time.Time, vars map[string]any) (time.Time, error) {
	switch {
	case ts.duration != nil:
		return ts.duration.AddTo(now), nil
	case ts.expr != "":
		p, err := compileValue(ts.expr)
		if err != nil {
			return time.Time{}, err
		}
		v, err := runValue(p, ts.expr, vars)
		if err != nil {
			return time.Time{}, err
		}
		switch v := v.(type) {
		case time.Time:
			return v, nil
		case string:
			if d, err := ParseDuration(v); err == nil {
				return d.AddTo(now), nil
			}
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("timer expression %s gave %v, want an ISO-8601 duration or RFC 3339 date", ts.expr, v)
	default:
		return ts.date, nil
	}
}
