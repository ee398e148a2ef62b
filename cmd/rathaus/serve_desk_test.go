// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"rathaus/casework"
	"rathaus/demo"
)

// TestServeDesk runs the fully wired serve --demo: the sachbearbeiter logs
// in through the demo identity provider, sees the demo cases in the inbox,
// requests information on one; the server's own sweep runs the process
// step (request into the mailbox) without anyone draining by hand.
func TestServeDesk(t *testing.T) {
	dir := t.TempDir()
	r := startServe(t, map[string]string{"RATHAUS_DATA": dir}, "--demo")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := client.Get(r.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		res, err := client.PostForm(r.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	// Login: the desk redirects to the staff login, the demo IdP's form.
	code, body := get("/verwaltung/faelle")
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("login page: %d %s", code, serveTail(body, 500))
	}
	code, body = post("/demo-idp/login", url.Values{"id": {m[1]}, "username": {"sachbearbeiter"}, "password": {"demo-sachbearbeiter"}})
	if code != http.StatusOK || !strings.Contains(body, "DA-2026-DEMO-01") {
		t.Fatalf("inbox after login: %d %s\nserver log:\n%s", code, serveTail(body, 800), serveTail(r.stderr.String(), 2000))
	}
	if !strings.Contains(body, "überfällig") {
		t.Error("no overdue demo case in the inbox")
	}
	casePath := "/verwaltung/faelle/" + demo.Darmstadt + "/demo-05"
	if code, body = get(casePath); code != http.StatusOK || !strings.Contains(body, "Vollständigkeit prüfen") {
		t.Fatalf("case page: %d", code)
	}
	if code, _ = post(casePath+"/request", url.Values{"message": {"Bitte Meldebescheinigung nachreichen."}, "deadline": {"2030-01-31"}}); code != http.StatusOK {
		t.Fatalf("request: %d", code)
	}
	// The sweep runs the request_information step within a few seconds.
	db := r.DB
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, err := db.Cases().History(context.Background(), demo.Darmstadt, "demo-05")
		if err != nil {
			t.Fatal(err)
		}
		done := false
		for _, e := range h {
			done = done || e.Kind == casework.KindRequest && strings.Contains(e.Text, "Meldebescheinigung") && strings.Contains(e.Text, "31.01.2030")
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sweep did not run the request step: %+v\nserver log:\n%s", h, serveTail(r.stderr.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c, err := db.Cases().Case(context.Background(), demo.Darmstadt, "demo-05"); err != nil || c.Status != casework.StatusWaiting {
		t.Errorf("case after request: %+v %v", c, err)
	}
}
