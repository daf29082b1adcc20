// Command benchcheck reads `go test -bench` output and prints each of the
// performance targets of issue "Performance" with the median figure the
// runs measured, exiting 1 when one is missed or was not measured.
//
//	go test -run '^$' -bench … -count 5 ./… > bench.txt
//	go run ./internal/benchcheck bench.txt
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// target is one checked figure: the median of unit over the runs of
// bench, or, when over is set, that median divided by over's.
type target struct {
	what  string
	bench string
	unit  string
	over  string // benchmark whose median is the denominator
	max   bool   // the figure must be at most limit (else at least)
	limit float64
}

var targets = []target{
	{what: "parse the feed corpus, briefbot / gofeed", bench: "BenchmarkParseCorpus", unit: "x-gofeed", max: true, limit: 1.2},
	{what: "extract + clean 130 pages, briefbot / go-readability", bench: "BenchmarkExtractCorpus", unit: "x-readability", max: true, limit: 1.3},
	{what: "extraction F1, briefbot − go-readability", bench: "BenchmarkExtractCorpus", unit: "F1-briefbot", over: "-F1-readability", limit: -0.01},
	{what: "brief --no-fetch, 100,000 articles (s)", bench: "BenchmarkBriefBigStore/articles=100000", unit: "sec/op", max: true, limit: 1},
	{what: "brief, 100,000 / 10,000 articles", bench: "BenchmarkBriefBigStore/articles=100000", unit: "sec/op", over: "BenchmarkBriefBigStore/articles=10000", max: true, limit: 1.5},
	{what: "topic matching, 500 topics (articles/s)", bench: "BenchmarkTopicSetMatch", unit: "articles/s", limit: 2000},
	{what: "LLM prompt tokens / full text once", bench: "BenchmarkLLMEconomy", unit: "prompt/full", max: true, limit: 0.40},
	{what: "LLM requests on a repeat", bench: "BenchmarkLLMEconomy", unit: "repeat-requests", max: true, limit: 0},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchcheck BENCH_OUTPUT")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcheck:", err)
		os.Exit(2)
	}
	defer f.Close()
	runs, err := parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcheck:", err)
		os.Exit(2)
	}
	if !report(os.Stdout, runs) {
		os.Exit(1)
	}
}

// parse collects every value of every unit of every benchmark line, by
// benchmark name without its -GOMAXPROCS suffix. ns/op is also given as
// sec/op.
func parse(r io.Reader) (map[string]map[string][]float64, error) {
	runs := make(map[string]map[string][]float64)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue // a log line that starts with a benchmark's name
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if runs[name] == nil {
			runs[name] = make(map[string][]float64)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %v", name, fields[i], err)
			}
			unit := fields[i+1]
			runs[name][unit] = append(runs[name][unit], v)
			if unit == "ns/op" {
				runs[name]["sec/op"] = append(runs[name]["sec/op"], v/1e9)
			}
		}
	}
	return runs, sc.Err()
}

// median returns the median of unit over bench's runs, and how many.
func median(runs map[string]map[string][]float64, bench, unit string) (float64, int) {
	vs := slices.Clone(runs[bench][unit])
	if len(vs) == 0 {
		return 0, 0
	}
	slices.Sort(vs)
	if n := len(vs); n%2 == 0 {
		return (vs[n/2-1] + vs[n/2]) / 2, n
	}
	return vs[len(vs)/2], len(vs)
}

// report prints every target and reports whether all were met.
func report(w io.Writer, runs map[string]map[string][]float64) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tmedian\tlimit\truns\t")
	ok := true
	for _, t := range targets {
		v, n := median(runs, t.bench, t.unit)
		switch {
		case strings.HasPrefix(t.over, "-"): // a difference of two units
			d, m := median(runs, t.bench, t.over[1:])
			v, n = v-d, min(n, m)
		case t.over != "":
			d, m := median(runs, t.over, t.unit)
			if d != 0 {
				v /= d
			}
			n = min(n, m)
		}
		cmp, met := "≥", v >= t.limit
		if t.max {
			cmp, met = "≤", v <= t.limit
		}
		status := "ok"
		switch {
		case n == 0:
			status, met = "NOT MEASURED", false
		case !met:
			status = "MISSED"
		}
		ok = ok && met
		fmt.Fprintf(tw, "%s\t%.4g\t%s %g\t%d\t%s\n", t.what, v, cmp, t.limit, n, status)
	}
	tw.Flush()
	return ok
}
