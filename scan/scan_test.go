// SPDX-License-Identifier: EUPL-1.2

package scan_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"rathaus"
	"rathaus/scan"
	"rathaus/scan/scantest"
)

func TestNewClamd(t *testing.T) {
	for _, tc := range []struct{ in, network, addr string }{
		{"unix:/run/clamd.sock", "unix", "/run/clamd.sock"},
		{"/run/clamd.sock", "unix", "/run/clamd.sock"},
		{"127.0.0.1:3310", "tcp", "127.0.0.1:3310"},
		{"tcp:localhost:3310", "tcp", "localhost:3310"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := scan.NewClamd(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if c.Network != tc.network || c.Addr != tc.addr {
				t.Errorf("got %s %s", c.Network, c.Addr)
			}
		})
	}
	if _, err := scan.NewClamd("nonsense"); rathaus.ErrorCode(err) != rathaus.EINVALID {
		t.Errorf("bad address: %v", err)
	}
}

func TestNop(t *testing.T) {
	res, err := scan.Nop.Scan(context.Background(), strings.NewReader(scantest.EICAR))
	if err != nil || !res.Clean {
		t.Fatalf("Nop: %+v %v", res, err)
	}
}

// TestClamd runs a real clamd with a local EICAR signature.
func TestClamd(t *testing.T) {
	addr := scantest.Start(t)
	c, err := scan.NewClamd(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.ChunkSize = 16 // several INSTREAM chunks
	ctx := context.Background()
	pdf := "%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
	for _, tc := range []struct {
		name, content string
		clean         bool
	}{
		{"eicar", scantest.EICAR, false},
		{"clean pdf", pdf, true},
		{"empty", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Scan(ctx, strings.NewReader(tc.content))
			if err != nil {
				t.Fatal(err)
			}
			if res.Clean != tc.clean {
				t.Fatalf("clean = %v, want %v (%+v)", res.Clean, tc.clean, res)
			}
			if !tc.clean {
				if !strings.Contains(res.Signature, scantest.Signature) {
					t.Errorf("signature %q", res.Signature)
				}
				msg := rathaus.ErrorMessage(scan.Infected("virus.pdf", res))
				if !strings.Contains(msg, "Schadsoftware") || !strings.Contains(msg, "virus.pdf") {
					t.Errorf("message %q", msg)
				}
			}
		})
	}
	t.Run("scanner down fails closed", func(t *testing.T) {
		down, _ := scan.NewClamd("unix:" + filepath.Join(t.TempDir(), "none.sock"))
		_, err := down.Scan(ctx, strings.NewReader(pdf))
		if rathaus.ErrorCode(err) != rathaus.EUNAVAILABLE {
			t.Fatalf("err = %v, want unavailable", err)
		}
	})
}
