// SPDX-License-Identifier: EUPL-1.2

// Command fim-bench times rathaus' XDatenfelder parser on the given files
// (read once, parsed from memory) for bench/fim/run.sh: it prints one line
// "rathaus files/s WALL cpu CPU" per run (files per second of wall-clock and
// of process CPU time) and one line "counts FILE fields groups" per
// file (distinct (id, version)). With -codelists it also reads the
// genericode files next to each schema and resolves them in every parse.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"rathaus/fim"
)

func main() {
	runs := flag.Int("runs", 5, "timed runs")
	iter := flag.Int("iter", 50, "passes over all files per run")
	withLists := flag.Bool("codelists", false, "resolve the genericode files next to each schema")
	flag.Parse()
	type input struct {
		name  string
		data  []byte
		lists map[string][]byte
	}
	var inputs []input
	for _, p := range flag.Args() {
		data, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		in := input{name: p, data: data}
		if *withLists {
			in.lists = map[string][]byte{}
			entries, _ := os.ReadDir(filepath.Dir(p))
			for _, e := range entries {
				if d, err := os.ReadFile(filepath.Join(filepath.Dir(p), e.Name())); err == nil && fim.IsCodeList(d) {
					in.lists[e.Name()] = d
				}
			}
		}
		m, err := fim.Parse(data, fim.Options{Name: p, CodeLists: in.lists})
		if err != nil {
			fmt.Printf("counts %s ERROR %s\n", filepath.Base(p), err)
			continue
		}
		c := m.Count()
		fmt.Printf("counts %s %d %d\n", filepath.Base(p), c.Fields, c.Groups)
		inputs = append(inputs, in)
	}
	for _, in := range inputs { // warm-up pass
		fim.Parse(in.data, fim.Options{Name: in.name, CodeLists: in.lists})
	}
	for range *runs {
		start, cpu0 := time.Now(), cpuTime()
		n := 0
		for range *iter {
			for _, in := range inputs {
				if _, err := fim.Parse(in.data, fim.Options{Name: in.name, CodeLists: in.lists}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				n++
			}
		}
		fmt.Printf("rathaus files/s %.1f cpu %.1f\n", float64(n)/time.Since(start).Seconds(), float64(n)/(cpuTime()-cpu0).Seconds())
	}
}

// cpuTime is the user+system CPU time of the process (all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
