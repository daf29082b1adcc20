// Command briefbot is a Discord bot that turns the day's news into short,
// cited briefings. This file only wires the process to run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(1)
	}
}

// run executes the command line args. Everything it touches is passed in, so
// it is testable end to end. Errors are printed to stderr before returning.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runAt(ctx, args, getenv, stdin, stdout, stderr, time.Now)
}

// runAt is run with a clock, for tests.
func runAt(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) error {
	cmd := newRootCommand(getenv, stdout, stderr, now)
	cmd.SetIn(stdin)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "briefbot:", err)
		return err
	}
	return nil
}
