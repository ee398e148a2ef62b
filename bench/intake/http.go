// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"rathaus/form"
	"rathaus/sqlstore"
	"rathaus/submission"
	"rathaus/web"
)

// httpResult is one vegeta attack at a constant rate against
// POST /api/v1/antraege/{key} on loopback.
type httpResult struct {
	Rate        int     `json:"rate_per_s"`
	Seconds     float64 `json:"seconds"`
	Requests    uint64  `json:"requests"`
	Success     float64 `json:"success_ratio"`
	Throughput  float64 `json:"throughput_per_s"` // successful requests per second
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Sustainable bool    `json:"sustainable"` // all 201, p99 < 50 ms, throughput ≥ 95 % of the rate
	// Seen from the server: time in the handler (without the generator's
	// own queueing), CPU of the server process (user + system; with
	// -attacker same it includes vegeta) and bytes it wrote to storage,
	// per request.
	ServerP50ms float64 `json:"server_p50_ms"`
	ServerP99ms float64 `json:"server_p99_ms"`
	ServerCPUus float64 `json:"server_cpu_us_per_request"`
	DiskKB      float64 `json:"disk_kib_per_request"`
	PerCommit   float64 `json:"requests_per_commit"` // with group commit
	GCs         uint32  `json:"gc_cycles"`           // garbage collections during the attack
	// With -fsync-probe: the slowest fsync of the probe next to the
	// database during the attack, and how many took over 15 ms.
	FsyncMaxMs float64  `json:"fsync_probe_max_ms,omitempty"`
	FsyncSlow  int      `json:"fsync_probe_over_15ms,omitempty"`
	Errors     []string `json:"errors,omitempty"`
}

// runHTTP serves the portal with the JSON intake on a loopback port and
// attacks it with vegeta at each rate for dur.
func runHTTP(ctx context.Context, db *sqlstore.DB, store *sqlstore.SubmissionStore, svc *submission.Service, model *form.Model, answers form.Answers, tenant string,
	rates []int, dur time.Duration) ([]httpResult, error) {
	// The access log as serve writes it (JSON, level info), into
	// io.Discard: its formatting is counted, not a terminal's speed.
	srv, err := web.New(web.Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, web.Deps{
		Tenants: db.Tenants(), Catalog: db.Catalog(), Ready: db.Ping,
		Features: []web.Feature{web.IntakeAPIFeature{Intake: svc,
			Form: func(context.Context, string, string) (*form.Model, error) { return model, nil }}},
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rec := &latencyRecorder{}
	hs := &http.Server{Handler: rec.wrap(srv.Handler()), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Shutdown(context.Background())

	body, err := json.Marshal(answers)
	if err != nil {
		return nil, err
	}
	url := "http://" + ln.Addr().String() + "/api/v1/antraege/99010003000000"
	var bodyFile string
	if attackerMode == "child" {
		f, err := os.CreateTemp("", "rathaus-intake-body-")
		if err != nil {
			return nil, err
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(body); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		bodyFile = f.Name()
	}
	var out []httpResult
	for i, rate := range rates {
		// Start from the steady state: the jobs of earlier phases are in River.
		if err := drainOutbox(ctx, store); err != nil {
			return nil, err
		}
		prefix := fmt.Sprintf("http-%d-%d-", os.Getpid(), i)
		var r httpResult
		rec.reset()
		var probe *diskProbe
		if fsyncProbe && probeDir != "" {
			probe = startDiskProbe(probeDir)
		}
		before, commitsBefore := sampleUsage(), db.Stats().Commits
		if attackerMode == "child" {
			r, err = attackChild(ctx, url, tenant, bodyFile, prefix, rate, dur)
			if err != nil {
				return nil, err
			}
		} else {
			r = attack(url, tenant, body, prefix, rate, dur)
		}
		if r.Requests > 0 {
			used := sampleUsage().sub(before)
			r.ServerCPUus = float64(used.cpu.Microseconds()) / float64(r.Requests)
			r.DiskKB = float64(used.diskBytes) / 1024 / float64(r.Requests)
			r.GCs = used.gcs
			if c := db.Stats().Commits - commitsBefore; c > 0 {
				r.PerCommit = float64(r.Requests) / float64(c)
			}
		}
		r.ServerP50ms, r.ServerP99ms = rec.quantiles()
		if probe != nil {
			r.FsyncMaxMs, r.FsyncSlow = probe.stop()
		}
		out = append(out, r)
	}
	return out, nil
}

// attackerEnv marks the child process that only runs the load generator.
const attackerEnv = "RATHAUS_INTAKE_ATTACKER"

// attackChild runs the vegeta attack in a child process (this binary with
// attackerEnv set), so the load generator has its own heap, GC and
// scheduler instead of competing inside the server's process. It still
// shares the machine's cores with the server.
func attackChild(ctx context.Context, url, tenant, bodyFile, prefix string, rate int, dur time.Duration) (httpResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return httpResult{}, err
	}
	cmd := exec.CommandContext(ctx, exe, url, tenant, bodyFile, prefix, strconv.Itoa(rate), dur.String())
	cmd.Env = append(os.Environ(), attackerEnv+"=1")
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return httpResult{}, fmt.Errorf("attacker process: %w", err)
	}
	var r httpResult
	if err := json.Unmarshal(outb, &r); err != nil {
		return httpResult{}, fmt.Errorf("attacker process output: %w", err)
	}
	return r, nil
}

// attackerMain is main of the child process: args url, tenant, body file,
// idempotency key prefix, rate per second, duration; prints one httpResult
// as JSON.
func attackerMain(args []string) error {
	if len(args) != 6 {
		return fmt.Errorf("attacker wants 6 arguments, got %d", len(args))
	}
	body, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	rate, err := strconv.Atoi(args[4])
	if err != nil || rate <= 0 {
		return fmt.Errorf("attacker: bad rate %q", args[4])
	}
	dur, err := time.ParseDuration(args[5])
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(attack(args[0], args[1], body, args[3], rate, dur))
}

// attack runs vegeta at a constant rate for dur and summarises the result.
func attack(url, tenant string, body []byte, prefix string, rate int, dur time.Duration) httpResult {
	var seq atomic.Int64
	targeter := func(t *vegeta.Target) error {
		t.Method, t.URL, t.Body = http.MethodPost, url, body
		t.Header = http.Header{
			"Content-Type":    {"application/json"},
			"Cookie":          {"municipality=" + tenant},
			"Idempotency-Key": {prefix + strconv.FormatInt(seq.Add(1), 10)},
		}
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.Timeout(10*time.Second), vegeta.KeepAlive(true), vegeta.Workers(64), vegeta.MaxWorkers(512))
	var m vegeta.Metrics
	start := time.Now()
	for res := range atk.Attack(vegeta.Targeter(targeter), vegeta.Rate{Freq: rate, Per: time.Second}, dur, "intake") {
		m.Add(res)
	}
	m.Close()
	r := httpResult{Rate: rate, Seconds: time.Since(start).Seconds(), Requests: m.Requests, Success: m.Success, Throughput: m.Throughput,
		P50ms: ms(m.Latencies.P50), P99ms: ms(m.Latencies.P99), MaxMs: ms(m.Latencies.Max), Errors: m.Errors}
	if len(r.Errors) > 3 {
		r.Errors = r.Errors[:3]
	}
	codeOK := m.StatusCodes["201"] == int(m.Requests)
	r.Sustainable = codeOK && r.P99ms < 50 && r.Throughput >= 0.95*float64(rate)
	return r
}

// drainOutbox waits until the Service's pump has moved every outbox job
// into River (at most a minute).
func drainOutbox(ctx context.Context, store *sqlstore.SubmissionStore) error {
	if !store.UsesOutbox() {
		return nil
	}
	start := time.Now()
	for {
		n, err := store.OutboxLen(ctx)
		if err != nil || n == 0 {
			if err == nil && time.Since(start) > time.Second {
				fmt.Fprintf(os.Stderr, "outbox drained in %.1f s\n", time.Since(start).Seconds())
			}
			return err
		}
		if time.Since(start) > time.Minute {
			return fmt.Errorf("outbox still holds %d jobs after a minute", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// printHTTP prints the attack results as a table.
func printHTTP(rs []httpResult) {
	fmt.Println("HTTP (vegeta, POST /api/v1/antraege/{key} on loopback):")
	for _, r := range rs {
		fmt.Printf("  rate %5d/s: %6d requests, success %.3f, throughput %7.0f/s, p50 %6.1f ms, p99 %7.1f ms, max %7.1f ms, sustainable %v %v\n",
			r.Rate, r.Requests, r.Success, r.Throughput, r.P50ms, r.P99ms, r.MaxMs, r.Sustainable, r.Errors)
		fmt.Printf("             server: p50 %6.1f ms, p99 %7.1f ms, CPU %4.0f µs and disk writes %5.1f KiB per request, %.1f requests per commit, %d GCs\n",
			r.ServerP50ms, r.ServerP99ms, r.ServerCPUus, r.DiskKB, r.PerCommit, r.GCs)
		if r.FsyncMaxMs > 0 {
			fmt.Printf("             disk: slowest probe fsync %.1f ms, %d over 15 ms\n", r.FsyncMaxMs, r.FsyncSlow)
		}
	}
}

// latencyRecorder keeps the handler time of every request.
type latencyRecorder struct {
	mu  sync.Mutex
	lat []time.Duration
}

func (l *latencyRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		h.ServeHTTP(w, r)
		d := time.Since(t)
		l.mu.Lock()
		l.lat = append(l.lat, d)
		l.mu.Unlock()
	})
}

func (l *latencyRecorder) reset() {
	l.mu.Lock()
	l.lat = l.lat[:0]
	l.mu.Unlock()
}

func (l *latencyRecorder) quantiles() (p50, p99 float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lat) == 0 {
		return 0, 0
	}
	slices.Sort(l.lat)
	return ms(l.lat[len(l.lat)/2]), ms(l.lat[len(l.lat)*99/100])
}

// usage is the process's CPU time, bytes written to storage and
// garbage collections so far.
type usage struct {
	cpu       time.Duration
	diskBytes int64
	gcs       uint32
}

func (u usage) sub(v usage) usage {
	return usage{u.cpu - v.cpu, u.diskBytes - v.diskBytes, u.gcs - v.gcs}
}

func sampleUsage() usage {
	var ru syscall.Rusage
	var u usage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u.gcs = ms.NumGC
	// write_bytes: what this process sent to the storage layer (Linux).
	if b, err := os.ReadFile("/proc/self/io"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
				u.diskBytes, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
	}
	return u
}

// diskProbe appends 16 KiB and fsyncs every 100 ms in a file next to the
// database: a bench run whose tail is long can be told apart from one whose
// disk stalled. It perturbs what it watches (its fsyncs share the file
// system's journal with the WAL's): every 10 ms took 5,000/s from 4 of 5
// runs under 50 ms to 1 of 5, every 100 ms is for diagnosis, not records.
type diskProbe struct {
	quit chan struct{}
	done chan struct{}
	max  time.Duration
	slow int
}

func startDiskProbe(dir string) *diskProbe {
	p := &diskProbe{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		f, err := os.CreateTemp(dir, "fsync-probe-")
		if err != nil {
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		buf := make([]byte, 16<<10)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for off := int64(0); ; off = (off + int64(len(buf))) % (64 << 20) {
			select {
			case <-p.quit:
				return
			case <-tick.C:
			}
			if _, err := f.WriteAt(buf, off); err != nil {
				return
			}
			t := time.Now()
			if err := f.Sync(); err != nil {
				return
			}
			d := time.Since(t)
			p.max = max(p.max, d)
			if d > 15*time.Millisecond {
				p.slow++
			}
		}
	}()
	return p
}

// stop ends the probe and returns its slowest fsync in ms and the number of
// fsyncs over 15 ms.
func (p *diskProbe) stop() (float64, int) {
	close(p.quit)
	<-p.done
	return ms(p.max), p.slow
}
