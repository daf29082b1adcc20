package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkParseCorpus-2   	       3	 391667957 ns/op	   9.74 MB/s	       207.7 ms-briefbot/op	       183.9 ms-gofeed/op	         1.10 x-gofeed
BenchmarkParseCorpus-2   	       3	 391667957 ns/op	   9.74 MB/s	       207.7 ms-briefbot/op	       183.9 ms-gofeed/op	         1.30 x-gofeed
BenchmarkParseCorpus-2   	       3	 391667957 ns/op	   9.74 MB/s	       207.7 ms-briefbot/op	       183.9 ms-gofeed/op	         1.15 x-gofeed
BenchmarkExtractCorpus-2 	       1	1633216935 ns/op	0.9838 F1-briefbot	0.9927 F1-readability	0.7324 x-readability
BenchmarkBriefBigStore/articles=10000-2 	10	200000000 ns/op
BenchmarkBriefBigStore/articles=100000-2 	10	400000000 ns/op
BenchmarkTopicSetMatch-2 	1000	5000 ns/op	1900 articles/s
BenchmarkTopicSetMatch-2   is a log line
BenchmarkLLMEconomy-2 	100	10000 ns/op	0.39 prompt/full	0 repeat-requests
`

func TestReport(t *testing.T) {
	runs, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if report(&out, runs) {
		t.Error("report passed with a missed target")
	}
	lines := map[string]string{
		"parse the feed corpus":    "1.15  ≤ 1.2  3  ok",
		"extract + clean":          "0.7324  ≤ 1.3  1  ok",
		"extraction F1":            "-0.0089  ≥ -0.01  1  ok",
		"100,000 articles (s)":     "0.4  ≤ 1  1  ok",
		"100,000 / 10,000":         "2  ≤ 1.5  1  MISSED",
		"topic matching":           "1900  ≥ 2000  1  MISSED",
		"LLM prompt tokens":        "0.39  ≤ 0.4  1  ok",
		"LLM requests on a repeat": "0  ≤ 0  1  ok",
	}
	for what, want := range lines {
		var got string
		for line := range strings.Lines(out.String()) {
			if strings.Contains(line, what) {
				got = strings.Join(strings.Fields(line), " ")
			}
		}
		if !strings.HasSuffix(got, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("%s: got %q, want it to end %q\n%s", what, got, want, out.String())
		}
	}

	runs, _ = parse(strings.NewReader("BenchmarkParseCorpus-2 1 1 ns/op 1.0 x-gofeed\n"))
	out.Reset()
	if report(&out, runs) || !strings.Contains(out.String(), "NOT MEASURED") {
		t.Errorf("missing benchmarks must fail as not measured:\n%s", out.String())
	}
}
