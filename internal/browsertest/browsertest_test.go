// SPDX-License-Identifier: EUPL-1.2

package browsertest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"rathaus/internal/browsertest"
)

const clean = `<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Gut</title></head>
<body><main><h1>Gut</h1><form><label for="q">Suche</label><input id="q" name="q"><button>Los</button></form></main></body></html>`

const broken = `<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Schlecht</title></head>
<body><main><h1>Schlecht</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input name="q"></main></body></html>`

func TestAxeAndScreenshot(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/clean", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(clean)) })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(broken)) })
	ts := httptest.NewServer(mux)
	defer ts.Close()

	ctx := browsertest.New(t)
	tests := []struct {
		path string
		want []string
	}{
		{"/clean", nil},
		{"/broken", []string{"image-alt", "label"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+tt.path)); err != nil {
				t.Fatal(err)
			}
			vs, err := browsertest.AxeRun(t, ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range vs {
				got = append(got, v.ID)
				if len(v.Nodes) == 0 {
					t.Errorf("violation %s lists no elements", v.ID)
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}

	png := filepath.Join(t.TempDir(), "shots", "broken.png")
	if err := browsertest.Screenshot(ctx, png); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%d bytes, %v)", len(b), err)
	}
}
