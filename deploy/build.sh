#!/bin/sh
# The one way the bot binary is built: CI runs it, and so does the Dockerfile's
# build stage. A static binary (no cgo), reproducible paths, version stamped.
set -eu
out="${1:-bin/bot}"
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION:-dev}" -o "$out" ./cmd/bot
