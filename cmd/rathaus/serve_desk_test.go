// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
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
	citizenJar, _ := cookiejar.New(nil)
	citizen := &http.Client{Jar: citizenJar, Timeout: 20 * time.Second}
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
	casePath := "/verwaltung/faelle/" + demo.Darmstadt + "/demo-01"
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
		h, err := db.Cases().History(context.Background(), demo.Darmstadt, "demo-01")
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
	if c, err := db.Cases().Case(context.Background(), demo.Darmstadt, "demo-01"); err != nil || c.Status != casework.StatusWaiting {
		t.Errorf("case after request: %+v %v", c, err)
	}

	// Erika finds the request in her mailbox and answers it there.
	cget := func(path string) (int, string) {
		t.Helper()
		res, err := citizen.Get(r.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body = cget("/postfach")
	m = regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("citizen login page: %d %s", code, serveTail(body, 500))
	}
	res, err := citizen.PostForm(r.base+"/demo-idp/login", url.Values{"id": {m[1]}, "username": {"erika"}, "password": {"demo-erika"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	code, body = cget("/postfach")
	if code != http.StatusOK || !strings.Contains(body, "Nachforderung zu Ihrem Antrag DA-2026-DEMO-01") {
		t.Fatalf("Erika's mailbox: %d %s", code, serveTail(body, 1500))
	}
	msg := regexp.MustCompile(`href="/postfach/([0-9a-f-]{36})"`).FindStringSubmatch(body)
	if msg == nil {
		t.Fatalf("no message link in %s", serveTail(body, 1500))
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("text", "Die Meldebescheinigung liegt bei.")
	mw.Close()
	res, err = citizen.Post(r.base+"/postfach/"+msg[1]+"/antwort", mw.FormDataContentType(), &mp)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("reply: %d %s", res.StatusCode, serveTail(string(rb), 800))
	}
	if c, err := db.Cases().Case(context.Background(), demo.Darmstadt, "demo-01"); err != nil || c.Status == casework.StatusWaiting {
		t.Errorf("case after the reply: %+v %v", c, err)
	}

	// The caseworker approves; the sweep sends the notice into Erika's mailbox.
	if code, _ = post(casePath+"/decide", url.Values{"decision": {"approve"}, "reason": {"Alle Voraussetzungen erfüllt."}}); code != http.StatusOK {
		t.Fatalf("decide: %d", code)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		_, body = cget("/postfach")
		if strings.Contains(body, "Bescheid zu Ihrem Antrag DA-2026-DEMO-01") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notice in Erika's mailbox: %s\nserver log:\n%s", serveTail(body, 1500), serveTail(r.stderr.String(), 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if c, err := db.Cases().Case(context.Background(), demo.Darmstadt, "demo-01"); err != nil || c.Status != casework.StatusClosed || c.Decision != casework.DecisionApprove {
		t.Errorf("case at the end: %+v %v", c, err)
	}
}
