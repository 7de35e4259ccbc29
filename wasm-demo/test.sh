#!/usr/bin/env bash
# The wasm demo's whole check, as CI runs it: native tests of the wasm crate (parameter table
# against the core's defaults, presets, error messages), then build.sh, then end-to-end tests in
# Debian's headless Chromium against dist/ served on 127.0.0.1 (including every golden case
# computed inside wasm). Installs what a fresh Debian machine lacks. Artifacts: wasm-demo/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
want="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$here/Cargo.toml")"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  # --locked fails for 0.2.130 (a yanked pin in its lockfile); resolve afresh if it does.
  cargo install wasm-bindgen-cli --version "$want" --locked || cargo install wasm-bindgen-cli --version "$want"
fi
if [ ! -x /usr/bin/chromium ]; then
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y chromium chromium-driver
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -x "$here/node_modules/.bin/wasm-opt" ] \
   || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

cargo test -p wasm-demo
"$here/build.sh"
cd "$here"
node --test --test-reporter=spec tests/
