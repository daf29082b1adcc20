package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLogFormat(t *testing.T) {
	for _, tt := range []struct {
		format string
		check  func(line string) error
	}{
		{"text", func(line string) error {
			if !strings.Contains(line, `level=INFO msg="source polled" source=wire new=3`) {
				return fmt.Errorf("not logfmt: %q", line)
			}
			return nil
		}},
		{"json", func(line string) error {
			var v struct {
				Level, Msg, Source string
				New                int
			}
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				return err
			}
			if v.Level != "INFO" || v.Msg != "source polled" || v.Source != "wire" || v.New != 3 {
				return fmt.Errorf("unexpected record %+v", v)
			}
			return nil
		}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			a := &app{stderr: &buf, logLevel: "info", logFormat: tt.format}
			log, err := a.logger()
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("hidden")
			log.Info("source polled", "source", "wire", "new", 3)
			if err := tt.check(strings.TrimSpace(buf.String())); err != nil {
				t.Error(err)
			}
		})
	}

	var out, errOut bytes.Buffer
	err := runAt(context.Background(), []string{"--log-format", "xml", "fetch"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut, time.Now)
	if err == nil || !strings.Contains(err.Error(), `bad --log-format "xml": want text or json`) {
		t.Errorf("--log-format xml: %v", err)
	}
}
