# briefbot's checks. CI (.ci/run) runs the same targets the README names.
STATICCHECK_VERSION := v0.8.2
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: build test lint bench fuzz

build:
	CGO_ENABLED=0 go build -o briefbot ./cmd/bot

test:
	go test -race -timeout 25m ./...

lint:
	go vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Benchmarks: five runs each, summarised with benchstat (medians, ±).
bench:
	go test -run '^$$' -bench . -benchmem -count 5 ./... | tee bench.txt
	go run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) bench.txt

# Short fuzzing of every parser of outside input (FUZZTIME=1m for longer).
FUZZTIME ?= 15s
FUZZ_TARGETS := sources:FuzzParse sources:FuzzCanonicalURL sources:FuzzTextFromHTML \
	sources:FuzzClean sources:FuzzParseRetryAfter digest:FuzzParseQuery \
	digest:FuzzSentences digest:FuzzUngrounded llm:FuzzParseReply schedule:FuzzParse discord:FuzzRender \
	discord:FuzzVerifyInteraction
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$pkg $$name"; \
		go test ./$$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) || exit 1; done
