#!/usr/bin/env bash
# Interop check: the engine writes signed checkpoints, receipts and proofs (Micropay.Core.Interop), and Go's
# golang.org/x/mod/sumdb/note and sumdb/tlog verify them (go/verify.go), tampered copies included, which must fail.
# Installs Go and x/mod from the distribution's packages (Debian: golang-go, golang-golang-x-mod-dev) when missing.
# Usage: bash tests/Micropay.Core.Interop/run.sh [output directory]  (default: a temporary directory, removed after).
# Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
gopath=/usr/share/gocode
xmod="$gopath/src/golang.org/x/mod/sumdb"

if ! command -v go >/dev/null 2>&1 || [ ! -d "$xmod/note" ] || [ ! -d "$xmod/tlog" ]; then
    echo "installing Go and golang.org/x/mod (apt-get)"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo timeout 300 apt-get update -qq
    $sudo timeout 300 apt-get install -y -qq golang-go golang-golang-x-mod-dev >/dev/null
fi
go version

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="${1:-$work/vectors}"

dotnet run --project "$root/tests/Micropay.Core.Interop" -c Release -- "$out"

# GOPATH mode: x/mod comes from the distribution's sources, nothing is downloaded.
cd "$here/go"
GO111MODULE=off GOPATH="$gopath" GOFLAGS= GOCACHE="${GOCACHE:-$work/gocache}" go run verify.go "$out"
