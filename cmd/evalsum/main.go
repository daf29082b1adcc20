// Command evalsum scores briefbot's extractive summarizer on a
// multi-document news summarization corpus (Multi-News, as JSON lines)
// with ROUGE-1, ROUGE-2 and ROUGE-L F1, against the LEAD baseline, and
// checks story clustering on the same documents.
//
// Usage, from the repository root:
//
//	go run ./cmd/evalsum [-corpus ../shared/corpora/summarization/multi_news_sample_test.derived.jsonl] [-n 250]
//
// The corpus is for evaluation only and is never copied into the
// repository.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(1)
	}
}

// run evaluates with the command line args, printing the report to stdout
// and errors to stderr before returning them.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := evaluate(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "evalsum:", err)
		return err
	}
	return nil
}
