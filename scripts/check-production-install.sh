#!/usr/bin/env bash
# Proves a production install starts (.ci/run): the tracked files copied to a scratch directory,
# `npm ci --omit=dev` there (no devDependency), the gateway started as `npm start` starts it, and
# /healthz must answer 200; then it is stopped. Needs only node, npm and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$scratch"
cd "$scratch"
npm ci --omit=dev --no-audit --no-fund >/dev/null
test ! -e node_modules/vitest || { echo "devDependencies were installed" >&2; exit 1; }

port="$(node -e 'const s=require("node:net").createServer().listen(0,()=>{console.log(s.address().port);s.close()})')"
npm run -s views >/dev/null # what `npm start` runs first (prestart)
PORT="$port" HOST=127.0.0.1 node --import tsx src/node.ts >"$scratch/gateway.log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"; then
    echo "production install: /healthz answered 200"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.3
done
echo "production install: the gateway did not answer /healthz; its output:" >&2
cat "$scratch/gateway.log" >&2
exit 1
