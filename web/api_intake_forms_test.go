// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"rathaus"
	"rathaus/form"
	"rathaus/submission"
)

// fakeForms is a submission.FormStore with one binding and counted reads;
// the other methods are not used by FormsOf.
type fakeForms struct {
	submission.FormStore
	bound    map[string]submission.FormRef // service key → form
	bindings atomic.Int64
	loads    atomic.Int64
	fail     atomic.Bool
}

func (f *fakeForms) Binding(_ context.Context, _, key string) (*submission.FormRef, error) {
	f.bindings.Add(1)
	if f.fail.Load() {
		return nil, rathaus.Errorf(rathaus.EUNAVAILABLE, "down")
	}
	ref, ok := f.bound[key]
	if !ok {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no form")
	}
	return &ref, nil
}

func (f *fakeForms) FormFor(_ context.Context, _, id, version string) (*form.Model, error) {
	f.loads.Add(1)
	return &form.Model{ID: id, Version: version}, nil
}

// TestFormsOfCache checks FormsOf: the bound form or the universal one,
// loaded once per municipality and service within the TTL, reloaded after
// it (by one request, the others keep the cached form), errors not cached.
func TestFormsOfCache(t *testing.T) {
	ctx := context.Background()
	fs := &fakeForms{bound: map[string]submission.FormRef{"hund": {ID: "F1", Version: "2"}}}
	get := FormsOf(fs)
	m, err := get(ctx, "064110000000", "hund")
	if err != nil || m.ID != "F1" || m.Version != "2" {
		t.Fatalf("bound form = %+v, %v", m, err)
	}
	if m2, _ := get(ctx, "064110000000", "hund"); m2 != m || fs.loads.Load() != 1 || fs.bindings.Load() != 1 {
		t.Fatalf("second call: same model %v, %d loads, %d binding reads; want cached", m2 == m, fs.loads.Load(), fs.bindings.Load())
	}
	if u, err := get(ctx, "064110000000", "katze"); err != nil || u.ID != submission.UniversalFormID {
		t.Fatalf("unbound service = %+v, %v; want the universal form", u, err)
	}
	if _, err := get(ctx, "064120000000", "hund"); err != nil || fs.loads.Load() != 2 {
		t.Fatalf("other municipality: %v, %d loads; want its own load", err, fs.loads.Load())
	}
	fs.fail.Store(true)
	if _, err := get(ctx, "064130000000", "hund"); rathaus.ErrorCode(err) != rathaus.EUNAVAILABLE {
		t.Fatalf("failing store = %v, want its error", err)
	}
	fs.fail.Store(false)
	if _, err := get(ctx, "064130000000", "hund"); err != nil {
		t.Fatalf("after the failure: %v (errors must not be cached)", err)
	}
}

// TestTTLCache checks the expiry of web's cache (FormsOf, form versions,
// service names, header municipality) with a fake clock: a stale entry is
// reloaded by one caller while concurrent callers get the stale form.
func TestTTLCache(t *testing.T) {
	now := time.Date(2026, 11, 28, 19, 0, 0, 0, time.UTC)
	var loads atomic.Int64
	release := make(chan struct{})
	c := newTTLCache[string, *form.Model](modelTTL, 10)
	c.now = func() time.Time { return now }
	load := func() (*form.Model, error) {
		n := loads.Add(1)
		if n == 2 {
			<-release // the reload hangs until released
		}
		return &form.Model{ID: "F", Version: string(rune('0' + n))}, nil
	}
	get := func() (*form.Model, error) { return c.get("a\x00k", load) }
	first, _ := get()
	now = now.Add(modelTTL - time.Second)
	if m, _ := get(); m != first {
		t.Fatal("reloaded before the TTL")
	}
	now = now.Add(2 * time.Second)
	done := make(chan *form.Model)
	go func() { m, _ := get(); done <- m }()
	for loads.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	if m, _ := get(); m != first {
		t.Fatalf("during the reload got version %s, want the stale form", m.Version)
	}
	close(release)
	if m := <-done; m.Version != "2" {
		t.Fatalf("reload gave version %s, want 2", m.Version)
	}
	if m, _ := get(); m.Version != "2" || loads.Load() != 2 {
		t.Fatalf("after the reload: version %s, %d loads", m.Version, loads.Load())
	}
	for i := range 10 { // past max entries the cache starts over
		c.put(string(rune('A'+i)), first, now)
	}
	if len(c.m) != 1 || c.m["J"] == nil {
		t.Errorf("after 11 keys in a cache of 10: %d entries, want only the newest", len(c.m))
	}
}
