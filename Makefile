# briefbot's checks. CI (.ci/run) runs the same targets the README names.
STATICCHECK_VERSION := v0.8.2
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: build test lint bench bench-all perf fuzz

build:
	CGO_ENABLED=0 go build -o briefbot ./cmd/bot

test:
	go test -race -timeout 25m ./...

lint:
	go vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# The performance targets measured by benchmarks (issue "Performance",
# parts 1, 2, 4, 6): six runs each (the fewest benchstat gives a confidence
# interval for), summarised with benchstat, then every target printed with
# its median; fails when one is missed. About 7 minutes.
BENCH_TARGETS := ^(BenchmarkParseCorpus|BenchmarkExtractCorpus|BenchmarkBriefBigStore|BenchmarkTopicSetMatch|BenchmarkLLMEconomy)$$
bench:
	go test -run '^$$' -bench '$(BENCH_TARGETS)' -benchmem -count 6 -timeout 30m ./sources ./digest ./llm ./cmd/bot | tee bench.txt
	go run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) bench.txt
	go run ./internal/benchcheck bench.txt

# Every benchmark of every package, five runs each.
bench-all:
	go test -run '^$$' -bench . -benchmem -count 5 -timeout 60m ./... | tee bench-all.txt
	go run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) bench-all.txt

# The performance targets that need whole processes (parts 3, 5, 7): poll
# 10,000 feeds, 200 /brief at once, memory at rest. About 10 minutes.
perf:
	BRIEFBOT_PERF=1 go test -run '^TestPerf' -v -count 1 -timeout 40m ./cmd/bot

# Short fuzzing of every parser of outside input (FUZZTIME=1m for longer).
FUZZTIME ?= 15s
FUZZ_TARGETS := sources:FuzzParse sources:FuzzExtractPage sources:FuzzCanonicalURL sources:FuzzTextFromHTML \
	sources:FuzzClean sources:FuzzParseRetryAfter sources:FuzzParseOPML digest:FuzzParseQuery \
	digest:FuzzSentences digest:FuzzUngrounded llm:FuzzParseReply llm:FuzzValidateReply schedule:FuzzParse \
	discord:FuzzRender discord:FuzzVerifyInteraction
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$pkg $$name"; \
		go test ./$$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) || exit 1; done
