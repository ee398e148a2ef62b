// SPDX-License-Identifier: EUPL-1.2

// Command intake measures durable form intake without HTTP: many goroutines
// call submission.Service.Submit (validate against the form, seal with the
// vault, commit application + audit entry + two jobs; group commit on
// SQLite) for a fixed time, and report submissions/s and latency
// percentiles. Beside it, the raw storage ceiling on the same database:
// plain grouped inserts (256 rows per transaction) of the same bytes.
//
//	go run ./bench/intake [-schema DIR] [-duration 10s] [-workers 64] [-cpuprofile F] [-memprofile F] [-db postgres://…] [-group auto|on|off] [-attach BYTES] [-json]
//
// With a postgres:// URL the run uses a fresh schema that is dropped afterwards.
//
// The form is S00000246 (Aufenthaltserlaubnis, 59 fields, 34 groups) from
// ../shared/data/fim-schemas, answered with generated valid answers.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"rathaus/fim"
	"rathaus/internal/gctune"
	"rathaus/jobs"
	"rathaus/sqlstore"
	"rathaus/submission"
	"rathaus/vault"
)

// result is what one run reports.
type result struct {
	Dialect       string       `json:"dialect"`
	Form          string       `json:"form"`
	AnswerBytes   int          `json:"answer_bytes"`
	AttachBytes   int          `json:"attach_bytes"`
	Workers       int          `json:"workers"`
	Seconds       float64      `json:"seconds"`
	Submissions   int64        `json:"submissions"`
	PerSecond     float64      `json:"submissions_per_s"`
	P50ms         float64      `json:"p50_ms"`
	P99ms         float64      `json:"p99_ms"`
	RawRowsPerSec float64      `json:"raw_rows_per_s"`
	Ratio         float64      `json:"ratio_intake_to_raw"`
	GroupCommit   bool         `json:"group_commit"`
	Outbox        bool         `json:"outbox"`
	HTTP          []httpResult `json:"http,omitempty"`
}

// Flags used by run.
var (
	groupMode    = submission.GroupAuto
	useOutbox    bool
	maxBatch     int
	outboxLag    time.Duration
	linger       time.Duration
	cpuProfile   string
	traceFile    string
	probeDir     string // with -fsync-probe: where the probe writes (the database's directory)
	fsyncProbe   bool
	memProfile   string
	httpRates    string
	skipDirect   bool
	attackerMode string
)

func main() {
	if os.Getenv(attackerEnv) == "1" {
		if err := attackerMain(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "intake attacker:", err)
			os.Exit(1)
		}
		return
	}
	shared := os.Getenv("RATHAUS_SHARED_DATA")
	if shared == "" {
		shared = "../shared/data"
	}
	schema := flag.String("schema", filepath.Join(shared, "fim-schemas/xdf2/S00000246V1.1"), "directory of the FIM schema")
	dur := flag.Duration("duration", 10*time.Second, "how long each measurement runs")
	workers := flag.Int("workers", 64, "concurrent submitters")
	dbURL := flag.String("db", "", "database URL (default: SQLite in a temporary directory)")
	attach := flag.Int("attach", 0, "bytes of one PDF attachment per submission (0: none)")
	asJSON := flag.Bool("json", false, "print JSON")
	group := flag.String("group", "auto", "group commit: auto (on for SQLite), on, off")
	flag.BoolVar(&useOutbox, "outbox", true, "commit jobs into the slim outbox (pumped into River in the background) instead of River's insert in the intake transaction")
	flag.DurationVar(&linger, "linger", 0, "how long the group commit waits for more submissions during a peak (0: the Service's default, negative: never)")
	flag.DurationVar(&outboxLag, "outbox-lag", 0, "how long the outbox pump may postpone its work during a peak (0: the Service's default)")
	flag.IntVar(&maxBatch, "batch", 0, "most submissions per group commit (0: the Service's default)")
	flag.BoolVar(&fsyncProbe, "fsync-probe", false, "with -http on SQLite: probe the disk during each rate (16 KiB append + fsync every 100 ms next to the database file; it perturbs the run a little) and report its slowest fsync")
	flag.StringVar(&traceFile, "trace", "", "write a runtime execution trace of the intake phases to this file (go tool trace; -pprof=sched shows scheduling latency)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the intake phases (direct and HTTP) to this file")
	flag.StringVar(&memProfile, "memprofile", "", "write an allocation profile of the intake phases (direct and HTTP) to this file")
	flag.StringVar(&httpRates, "http", "", "also attack POST /api/v1/antraege/{key} over loopback with vegeta at these rates per second, e.g. 1000,2000,4000")
	flag.StringVar(&attackerMode, "attacker", "child", "with -http: run vegeta in a child process (child) or in the server's process (same)")
	flag.BoolVar(&skipDirect, "http-only", false, "with -http: skip the direct (HTTP-less) measurement")
	flag.Parse()
	gctune.Apply() // as rathaus serve does
	mode, ok := map[string]int{"auto": submission.GroupAuto, "on": submission.GroupOn, "off": submission.GroupOff}[*group]
	if !ok {
		fmt.Fprintln(os.Stderr, "intake: -group wants auto, on or off")
		os.Exit(2)
	}
	groupMode = mode
	if attackerMode != "child" && attackerMode != "same" {
		fmt.Fprintln(os.Stderr, "intake: -attacker wants child or same")
		os.Exit(2)
	}
	if err := run(*schema, *dur, *workers, *dbURL, *attach, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "intake:", err)
		os.Exit(1)
	}
}

func run(schema string, dur time.Duration, workers int, dbURL string, attach int, asJSON bool) error {
	ctx := context.Background()
	model, err := fim.LoadDir(schema)
	if err != nil {
		return err
	}
	answers, errs := validAnswers(model)
	if len(errs) > 0 {
		return fmt.Errorf("cannot make valid answers for %s: %v", model.ID, errs[0])
	}
	rawDur := dur
	cfg := sqlstore.Config{URL: dbURL}
	if strings.HasPrefix(dbURL, "postgres") {
		// A fresh schema, dropped at the end, so the run starts empty.
		u, drop, err := freshSchema(ctx, dbURL)
		if err != nil {
			return err
		}
		defer drop()
		cfg.URL = u
	}
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "rathaus-intake-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
		probeDir = dir
	}
	db, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	q, err := jobs.New(ctx, db, jobs.Options{})
	if err != nil {
		return err
	}
	master, _, err := vault.GenerateMasterKey()
	if err != nil {
		return err
	}
	store := db.SubmissionStore(func(ctx context.Context, tx *sql.Tx, js []submission.Job) error {
		jj := make([]jobs.Job, len(js))
		for i, j := range js {
			jj[i] = jobs.Job{Kind: j.Kind, Args: j.Args}
		}
		return q.EnqueueMany(ctx, tx, jj)
	})
	if useOutbox {
		store.UseOutbox()
	}
	v := vault.New(db.VaultKeys(), master)
	svc := submission.New(store, v, submission.Options{ReferencePrefix: "DA", GroupCommit: groupMode, MaxBatch: maxBatch, OutboxMaxLag: outboxLag, Linger: linger})
	defer svc.Close()

	var uploads []submission.Upload
	if attach > 0 {
		content := append([]byte("%PDF-1.4\n"), make([]byte, attach)...)
		uploads = []submission.Upload{{Filename: "nachweis.pdf", MediaType: "application/pdf", Content: content}}
	}
	plain, _ := json.Marshal(answers)
	const tenant = "064110000000"
	res := result{Dialect: db.Dialect(), Form: model.ID + " " + model.Version, AnswerBytes: len(plain), AttachBytes: attach,
		Workers: workers, GroupCommit: svc.GroupCommit(), Outbox: useOutbox}
	if skipDirect {
		dur = 0 // no direct measurement; rawDur keeps the duration
	}

	// 1. Intake at max rate.
	if traceFile != "" {
		f, err := os.Create(traceFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	var n atomic.Int64
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	stop := start.Add(dur)
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				t0 := time.Now()
				_, err := svc.Submit(ctx, submission.SubmitRequest{Tenant: tenant, ServiceKey: "99010003000000", Model: model,
					Answers: answers, Attachments: uploads, IdempotencyKey: fmt.Sprintf("w%d-%d", w, i)})
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
				n.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if e := firstErr.Load(); e != nil {
		return e.(error)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	res.Seconds, res.Submissions = elapsed.Seconds(), n.Load()
	if res.Submissions > 0 {
		res.PerSecond = float64(res.Submissions) / elapsed.Seconds()
	}
	res.P50ms, res.P99ms = pct(0.50), pct(0.99)
	if skipDirect {
		dur = rawDur
	}

	if httpRates != "" {
		var rates []int
		for _, f := range strings.Split(httpRates, ",") {
			r, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || r <= 0 {
				return fmt.Errorf("-http: %q is not a positive rate", f)
			}
			rates = append(rates, r)
		}
		if res.HTTP, err = runHTTP(ctx, db, store, svc, model, answers, tenant, rates, rawDur); err != nil {
			return err
		}
	}
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return err
		}
	}

	if err := drainOutbox(ctx, store); err != nil {
		return err
	}
	// 2. Raw ceiling: grouped plain inserts of the same bytes (the sealed
	// answers and attachment of one submission), 256 rows per transaction.
	sealed, err := v.Seal(ctx, tenant, plain, []byte("raw"))
	if err != nil {
		return err
	}
	payload := append(sealed, make([]byte, attach)...)
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_raw (tenant TEXT NOT NULL, id BIGINT NOT NULL, payload `+
		map[bool]string{true: "BYTEA", false: "BLOB"}[db.Dialect() == sqlstore.Postgres]+` NOT NULL, PRIMARY KEY (tenant, id))`); err != nil {
		return err
	}
	ins := db.Rebind(`INSERT INTO bench_raw (tenant, id, payload) VALUES (?, ?, ?)`)
	var rows int64
	start = time.Now()
	stop = start.Add(dur)
	for time.Now().Before(stop) {
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			st, err := tx.PrepareContext(ctx, ins)
			if err != nil {
				return err
			}
			defer st.Close()
			for range 256 {
				rows++
				if _, err := st.ExecContext(ctx, tenant, rows, payload); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	res.RawRowsPerSec = float64(rows) / time.Since(start).Seconds()
	res.Ratio = res.PerSecond / res.RawRowsPerSec

	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Printf("form %s (%d bytes of answers, %d bytes attached), %s, %d workers, group commit %v\n",
		res.Form, res.AnswerBytes, res.AttachBytes, res.Dialect, res.Workers, res.GroupCommit)
	fmt.Printf("intake: %d submissions in %.1f s = %.0f/s, p50 %.1f ms, p99 %.1f ms\n", res.Submissions, res.Seconds, res.PerSecond, res.P50ms, res.P99ms)
	fmt.Printf("raw grouped inserts of the same bytes: %.0f rows/s; intake/raw = %.2f\n", res.RawRowsPerSec, res.Ratio)
	if len(res.HTTP) > 0 {
		printHTTP(res.HTTP)
		for _, h := range res.HTTP {
			fmt.Printf("  rate %d/s: throughput/raw = %.3f\n", h.Rate, h.Throughput/res.RawRowsPerSec)
		}
	}
	return nil
}

// writeHeapProfile writes the allocations since the start (go tool pprof
// -sample_index=alloc_objects or alloc_space) to file.
func writeHeapProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

// freshSchema creates a new schema on the server at base and returns a URL
// whose search_path points to it, and a function that drops it.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	schema := fmt.Sprintf("rathaus_bench_%d", time.Now().UnixNano())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		admin.ExecContext(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		admin.Close()
	}, nil
}
