// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"rathaus/internal/jsonw"
)

// EncodeInstance returns the JSON encoding of inst, byte for byte what
// json.Marshal(inst) returns, without reflection over the instance's
// structure (stores encode the instance on every step). Variables and
// action parameters go through json.Marshal.
func EncodeInstance(inst *Instance) ([]byte, error) {
	e := encoder{b: make([]byte, 0, 2048)}
	e.instance(inst)
	if e.err != nil {
		return nil, e.err
	}
	return e.b, nil
}

type encoder struct {
	b   []byte
	err error
}

func (e *encoder) raw(s string) { e.b = append(e.b, s...) }

// str appends s quoted as encoding/json does (HTML-safe).
func (e *encoder) str(s string) { e.b = jsonw.AppendString(e.b, s) }

func (e *encoder) int(n int) { e.b = strconv.AppendInt(e.b, int64(n), 10) }

func (e *encoder) time(t time.Time) {
	b, err := t.AppendText(append(e.b, '"'))
	if err != nil {
		e.value(t) // json.Marshal reports the error
		return
	}
	e.b = append(b, '"')
}

// any appends a variable value as json.Marshal encodes it: JSON values as
// encoding/json decodes them directly, anything else through json.Marshal.
func (e *encoder) any(v any) {
	switch v := v.(type) {
	case nil:
		e.raw("null")
	case bool:
		e.b = strconv.AppendBool(e.b, v)
	case string:
		e.str(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			e.value(v)
			return
		}
		// As encoding/json's floatEncoder.
		f, abs := byte('f'), math.Abs(v)
		if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			f = 'e'
		}
		e.b = strconv.AppendFloat(e.b, v, f, -1, 64)
		if n := len(e.b); f == 'e' && n >= 4 && e.b[n-4] == 'e' && e.b[n-3] == '-' && e.b[n-2] == '0' {
			e.b[n-2] = e.b[n-1]
			e.b = e.b[:n-1]
		}
	case map[string]any:
		if v == nil {
			e.raw("null")
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.b = append(e.b, '{')
		for i, k := range keys {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.str(k)
			e.b = append(e.b, ':')
			e.any(v[k])
		}
		e.b = append(e.b, '}')
	case []any:
		if v == nil {
			e.raw("null")
			return
		}
		e.b = append(e.b, '[')
		for i, x := range v {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.any(x)
		}
		e.b = append(e.b, ']')
	default:
		e.value(v)
	}
}

// value appends v as json.Marshal encodes it.
func (e *encoder) value(v any) {
	data, err := json.Marshal(v)
	if err != nil && e.err == nil {
		e.err = err
	}
	e.b = append(e.b, data...)
}

func (e *encoder) instance(in *Instance) {
	if in == nil {
		e.raw("null")
		return
	}
	e.raw(`{"tenant":`)
	e.str(in.Tenant)
	e.raw(`,"id":`)
	e.str(in.ID)
	e.raw(`,"definition_key":`)
	e.str(in.DefinitionKey)
	e.raw(`,"definition_version":`)
	e.int(in.DefinitionVersion)
	e.raw(`,"status":`)
	e.str(string(in.Status))
	if in.Incident != "" {
		e.raw(`,"incident":`)
		e.str(in.Incident)
	}
	e.raw(`,"vars":`)
	if in.Vars == nil {
		e.raw("null")
	} else {
		e.any(in.Vars)
	}
	e.raw(`,"tokens":`)
	list(e, in.Tokens, e.token)
	e.raw(`,"tasks":`)
	list(e, in.Tasks, e.task)
	e.raw(`,"timers":`)
	list(e, in.Timers, e.timer)
	e.raw(`,"waits":`)
	list(e, in.Waits, e.wait)
	e.raw(`,"actions":`)
	list(e, in.Actions, e.action)
	e.raw(`,"history":`)
	if in.History == nil {
		e.raw("null")
	} else {
		e.b = append(e.b, '[')
		for i := range in.History {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.step(&in.History[i])
		}
		e.b = append(e.b, ']')
	}
	e.raw(`,"seq":`)
	e.int(in.Seq)
	e.raw(`,"rev":`)
	e.int(in.Rev)
	e.raw(`,"started_at":`)
	e.time(in.StartedAt)
	if !in.EndedAt.IsZero() {
		e.raw(`,"ended_at":`)
		e.time(in.EndedAt)
	}
	e.b = append(e.b, '}')
}

// list appends a slice of pointers (null for nil slices and elements).
func list[T any](e *encoder, s []*T, one func(*T)) {
	if s == nil {
		e.raw("null")
		return
	}
	e.b = append(e.b, '[')
	for i, x := range s {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if x == nil {
			e.raw("null")
		} else {
			one(x)
		}
	}
	e.b = append(e.b, ']')
}

func (e *encoder) token(t *Token) {
	e.raw(`{"id":`)
	e.str(t.ID)
	e.raw(`,"node":`)
	e.str(t.Node)
	if t.Scope != "" {
		e.raw(`,"scope":`)
		e.str(t.Scope)
	}
	if t.Joining {
		e.raw(`,"joining":true`)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) task(t *Task) {
	e.raw(`{"id":`)
	e.str(t.ID)
	e.raw(`,"node":`)
	e.str(t.Node)
	e.raw(`,"name":`)
	e.str(t.Name)
	e.raw(`,"type":`)
	e.str(t.Type)
	for _, f := range [...]struct{ key, v string }{{`,"role":`, t.Role}, {`,"assignee":`, t.Assignee}, {`,"candidate_groups":`, t.CandidateGroups}, {`,"form_key":`, t.FormKey}} {
		if f.v != "" {
			e.raw(f.key)
			e.str(f.v)
		}
	}
	e.raw(`,"token":`)
	e.str(t.Token)
	e.raw(`,"state":`)
	e.str(string(t.State))
	e.raw(`,"created":`)
	e.time(t.Created)
	if !t.Ended.IsZero() {
		e.raw(`,"ended":`)
		e.time(t.Ended)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) timer(t *Timer) {
	e.raw(`{"id":`)
	e.str(t.ID)
	e.raw(`,"node":`)
	e.str(t.Node)
	e.raw(`,"token":`)
	e.str(t.Token)
	e.raw(`,"due":`)
	e.time(t.Due)
	e.raw(`,"state":`)
	e.str(string(t.State))
	if t.Fired != 0 {
		e.raw(`,"fired":`)
		e.int(t.Fired)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) wait(w *Wait) {
	e.raw(`{"id":`)
	e.str(w.ID)
	e.raw(`,"message":`)
	e.str(w.Message)
	e.raw(`,"node":`)
	e.str(w.Node)
	e.raw(`,"token":`)
	e.str(w.Token)
	e.raw(`,"state":`)
	e.str(string(w.State))
	e.b = append(e.b, '}')
}

func (e *encoder) action(a *Action) {
	e.raw(`{"id":`)
	e.str(a.ID)
	e.raw(`,"action":`)
	e.str(a.Action)
	e.raw(`,"node":`)
	e.str(a.Node)
	e.raw(`,"token":`)
	e.str(a.Token)
	if len(a.Params) > 0 {
		e.raw(`,"params":`)
		e.any(a.Params)
	}
	e.raw(`,"state":`)
	e.str(string(a.State))
	e.b = append(e.b, '}')
}

func (e *encoder) step(s *Step) {
	e.raw(`{"at":`)
	e.time(s.At)
	if s.Node != "" {
		e.raw(`,"node":`)
		e.str(s.Node)
	}
	e.raw(`,"what":`)
	e.str(s.What)
	e.b = append(e.b, '}')
}
