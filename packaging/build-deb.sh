#!/usr/bin/env bash
# Builds the vfetch Debian package: release binaries, man pages and shell completions
# (examples/gen-docs.rs), then `cargo deb`. Prints the path of the .deb on its last line.
#
#   packaging/build-deb.sh            # from anywhere in the repository
#
# Needs cargo and dpkg (dpkg-deb is not needed: cargo-deb writes the archive itself). Installs
# cargo-deb with `cargo install cargo-deb --locked` if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'build-deb: %s\n' "$*" >&2; }

if ! cargo deb --version >/dev/null 2>&1; then
    log "installing cargo-deb (cargo install cargo-deb --locked)"
    cargo install cargo-deb --locked
fi

log "building release binaries"
cargo build --release --locked --bins

# The generator is built without SOURCE_DATE_EPOCH in the environment, because some build
# scripts (SQLite, aws-lc) rebuild when it changes; only the generator itself reads it.
log "generating man pages and completions into target/packaging"
cargo build --locked --example gen-docs
out=target/packaging
rm -rf "$out"
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || true)
fi
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-} "$target_dir/debug/examples/gen-docs" "$out" >/dev/null

log "packaging"
deb=$(cargo deb --no-build --locked | tail -n 1)
if [ ! -f "$deb" ]; then
    log "cargo deb did not report a .deb file (got: $deb)"
    exit 1
fi
log "built $deb"
echo "$deb"
