#!/usr/bin/env bash
# Builds the site into wasm-demo/dist/: the wasm (release, size-tuned), wasm-bindgen --target web
# (the CLI must be the version pinned in Cargo.toml), wasm-opt -Oz from npm's binaryen (Debian's
# wasm-opt 108 corrupts wasm-bindgen output), the page, and the golden cases (schedules, param
# groups and lr_find) for golden.html.
# Needs: the wasm32-unknown-unknown target, wasm-bindgen-cli, `npm ci` done (test.sh sees to all three).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

want="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$here/Cargo.toml")"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"
if [ "$want" != "$have" ]; then
  echo "build.sh: wasm-bindgen-cli $want needed (found '${have:-none}'): cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

# Size settings for the wasm only (the workspace profile keeps debug info for the host crates).
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_PANIC=abort CARGO_PROFILE_RELEASE_STRIP=false
cargo build -p wasm-demo --release --target wasm32-unknown-unknown
target="${CARGO_TARGET_DIR:-$root/target}"

dist="$here/dist"
rm -rf "$dist"
mkdir -p "$dist/pkg" "$dist/golden"
wasm-bindgen --target web --no-typescript --out-dir "$dist/pkg" "$target/wasm32-unknown-unknown/release/wasm_demo.wasm"
raw="$(stat -c %s "$dist/pkg/wasm_demo_bg.wasm")"
"$here/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
  "$dist/pkg/wasm_demo_bg.wasm" -o "$dist/pkg/wasm_demo_bg.opt.wasm"
mv "$dist/pkg/wasm_demo_bg.opt.wasm" "$dist/pkg/wasm_demo_bg.wasm"
opt="$(stat -c %s "$dist/pkg/wasm_demo_bg.wasm")"

cp "$here"/www/*.html "$here"/www/*.js "$dist/"
cp "$root"/tests/golden/cases/*.json "$root"/tests/golden/known_reference_bugs.json "$dist/golden/"
mkdir -p "$dist/golden/groups" "$dist/golden/lr_find"
cp "$root"/tests/golden/groups/*.json "$dist/golden/groups/"
cp "$root"/tests/golden/lr_find/cases/*.json "$dist/golden/lr_find/"
index() { (cd "$1" && ls *.json | sed 's/\.json$//' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(s.trim().split("\n"))))'); }
index "$root/tests/golden/cases" > "$dist/golden/index.json"
index "$root/tests/golden/groups" > "$dist/golden/groups/index.json"
index "$root/tests/golden/lr_find/cases" > "$dist/golden/lr_find/index.json"
echo "$opt" > "$dist/wasm-size.txt"
echo "build.sh: dist/ ready; wasm $raw bytes after wasm-bindgen, $opt bytes after wasm-opt -Oz"
