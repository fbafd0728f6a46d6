#!/usr/bin/env bash
# `make run`: pyarc archives its own source, checks it, extracts it and compares the result.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Pack a clean copy of archiver/ (no __pycache__, no compiled modules) so the comparison is exact.
mkdir -p "$tmp/src"
tar -cf - --exclude=__pycache__ --exclude='*.so' --exclude='*.pyc' archiver | tar -xf - -C "$tmp/src"

step() { printf '\n$ %s\n' "$*"; "$@"; }

cd "$tmp/src"
step pyarc pack "$tmp/self.pyarc" archiver
step pyarc list "$tmp/self.pyarc"
step pyarc test "$tmp/self.pyarc"
mkdir -p "$tmp/out"
step pyarc unpack "$tmp/self.pyarc" -C "$tmp/out"
step diff -r "$tmp/src/archiver" "$tmp/out/archiver"
step pyarc info "$tmp/self.pyarc"

# The same, encrypted: the password from a file (the terminal would be asked otherwise).
printf 'demo password\n' > "$tmp/password"
step pyarc pack --encrypt --password-file "$tmp/password" "$tmp/secret.pyarc" archiver
step pyarc info "$tmp/secret.pyarc"
mkdir -p "$tmp/secret-out"
step pyarc unpack --password-file "$tmp/password" "$tmp/secret.pyarc" -C "$tmp/secret-out"
step diff -r "$tmp/src/archiver" "$tmp/secret-out/archiver"

original=$(find "$tmp/src/archiver" -type f -exec cat {} + | wc -c)
archived=$(wc -c < "$tmp/self.pyarc")
printf '\noriginal: %d bytes   archive: %d bytes\n' "$original" "$archived"
echo "demo OK: extracted tree is identical to the original"
