// SPDX-License-Identifier: EUPL-1.2

// Package scan is the virus-scan hook of uploads: a Scanner looks at the
// content of a file before it is stored. Clamd talks to a ClamAV daemon
// (clamd) with the INSTREAM command over TCP or a unix socket; Nop accepts
// everything and is used when no scanner is configured.
//
// Scanners fail closed: when the scanner cannot give a verdict, Scan
// returns an error (EUNAVAILABLE) and the upload must be refused.
package scan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"rathaus"
)

// Result is the verdict on one file.
type Result struct {
	// Clean is true when no malware was found.
	Clean bool
	// Signature names what was found (e.g. "Eicar-Test-Signature"), "" when clean.
	Signature string
}

// Scanner checks file contents for malware.
type Scanner interface {
	// Scan reads r to the end and returns the verdict. An error means no
	// verdict (scanner down, timeout): callers refuse the file.
	Scan(ctx context.Context, r io.Reader) (Result, error)
}

// Nop is the scanner used when none is configured: every file is clean.
var Nop Scanner = nopScanner{}

type nopScanner struct{}

func (nopScanner) Scan(_ context.Context, r io.Reader) (Result, error) {
	_, err := io.Copy(io.Discard, r)
	return Result{Clean: true}, err
}

// Infected returns the error for a file in which malware was found: a
// safe German/English message naming the file and the signature.
func Infected(filename string, res Result) error {
	return rathaus.Errorf(rathaus.EINVALID,
		"Die Datei „%s“ enthält Schadsoftware (%s) und wurde nicht angenommen. / The file %q contains malware and was rejected.",
		filename, res.Signature, filename)
}

// Clamd is a ClamAV daemon reached over TCP ("host:port") or a unix
// socket ("unix:/path" or an absolute path).
type Clamd struct {
	Network string // "tcp" or "unix"
	Addr    string
	// Timeout bounds one scan (connect, send, verdict); default 30 s.
	Timeout time.Duration
	// ChunkSize is the INSTREAM chunk size; default 64 KiB.
	ChunkSize int
}

// NewClamd returns a clamd client for addr: "unix:/run/clamav/clamd.ctl",
// "/run/clamav/clamd.ctl" or "127.0.0.1:3310".
func NewClamd(addr string) (*Clamd, error) {
	switch {
	case strings.HasPrefix(addr, "unix:"):
		return &Clamd{Network: "unix", Addr: strings.TrimPrefix(addr, "unix:")}, nil
	case strings.HasPrefix(addr, "/"):
		return &Clamd{Network: "unix", Addr: addr}, nil
	case strings.HasPrefix(addr, "tcp:"):
		addr = strings.TrimPrefix(addr, "tcp:")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "clamd-Adresse %q: erwartet host:port, unix:/pfad oder /pfad / clamd address: want host:port, unix:/path or /path", addr)
	}
	return &Clamd{Network: "tcp", Addr: addr}, nil
}

func unavailable(err error) error {
	return rathaus.Wrap(rathaus.EUNAVAILABLE, err,
		"Die Virenprüfung ist gerade nicht erreichbar; die Datei wurde nicht angenommen. Bitte versuchen Sie es später erneut. / The virus scanner is unavailable; the file was not accepted.")
}

// Scan streams r to clamd with zINSTREAM and parses the reply
// ("stream: OK", "stream: <sig> FOUND", "… ERROR").
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (Result, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	chunk := c.ChunkSize
	if chunk <= 0 {
		chunk = 64 << 10
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.Network, c.Addr)
	if err != nil {
		return Result{}, unavailable(err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	w := bufio.NewWriterSize(conn, chunk+4)
	if _, err := w.WriteString("zINSTREAM\x00"); err != nil {
		return Result{}, unavailable(err)
	}
	buf := make([]byte, chunk)
	var hdr [4]byte
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			binary.BigEndian.PutUint32(hdr[:], uint32(n))
			w.Write(hdr[:])
			if _, err := w.Write(buf[:n]); err != nil {
				return Result{}, unavailable(err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return Result{}, rathaus.Wrap(rathaus.EINTERNAL, rerr, "reading upload for scan")
		}
	}
	binary.BigEndian.PutUint32(hdr[:], 0)
	w.Write(hdr[:])
	if err := w.Flush(); err != nil {
		return Result{}, unavailable(err)
	}
	reply, err := io.ReadAll(io.LimitReader(conn, 4096))
	if err != nil && len(reply) == 0 {
		return Result{}, unavailable(err)
	}
	return parseReply(reply)
}

// parseReply interprets a clamd reply line.
func parseReply(b []byte) (Result, error) {
	s := strings.TrimSpace(string(bytes.TrimRight(b, "\x00\n")))
	s = strings.TrimPrefix(s, "stream: ")
	switch {
	case s == "OK":
		return Result{Clean: true}, nil
	case strings.HasSuffix(s, " FOUND"):
		return Result{Signature: strings.TrimSuffix(s, " FOUND")}, nil
	}
	return Result{}, unavailable(fmt.Errorf("clamd: %q", s))
}

// Ping checks that clamd answers PONG.
func (c *Clamd) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.Network, c.Addr)
	if err != nil {
		return unavailable(err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return unavailable(err)
	}
	b, _ := io.ReadAll(io.LimitReader(conn, 64))
	if strings.TrimRight(string(b), "\x00\n") != "PONG" {
		return unavailable(fmt.Errorf("clamd ping: %q", b))
	}
	return nil
}
