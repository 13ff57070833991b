package main

import (
	"context"
	"errors"
	"io"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	return errors.New("serve: the Slack bot is not built yet")
}

func demo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("demo: the Slack bot is not built yet")
}
