#!/usr/bin/env bash
# The REST API under an outside fuzzer: schemathesis generates requests from the OpenAPI
# document (/api/v1/openapi.json) — valid ones, invalid ones, edge values — against a server
# with the demo inventory, signed in as the admin, and checks every answer: no 5xx, the status
# documented for the route, the content type and the body's schema as documented. Bounded
# (a fixed number of examples per operation, a fixed seed) to stay within a few minutes. One
# worker: with two threads, hypothesis's lambda descriptions call Python 3.11's ast.parse
# concurrently and it fails now and then ("AST constructor recursion depth mismatch"): a
# runtime error of the tool, counted as a failed operation.
# Prints `fuzz: N passed, N failed` (operations) as its last line; exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-schemathesis.sh
EXAMPLES=${FUZZ_EXAMPLES:-50}
cargo build -q -p server --bin vmshift || exit 1
dir=$(mktemp -d)
port=${FUZZ_PORT:-3400}
./target/debug/vmshift --database-url "sqlite://$dir/fuzz.db" --bind "127.0.0.1:$port" \
  --log error --admin-password fuzz-admin-password --speed 1000 --tick-ms 50 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
session=$(curl -sf -D - -o /dev/null -X POST -H 'content-type: application/json' \
  -d '{"username": "admin", "password": "fuzz-admin-password"}' \
  "http://127.0.0.1:$port/api/v1/session" | sed -n 's/^set-cookie: vmshift_session=\([^;]*\).*/\1/ip' | tr -d '\r')
token=$(curl -sf -X POST -H 'content-type: application/json' -H "cookie: vmshift_session=$session" \
  -d '{"name": "fuzzer"}' "http://127.0.0.1:$port/api/v1/tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
  echo "fuzz: the admin could not sign in" >&2
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
report=$dir/junit.xml
target/fuzz-venv/bin/schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$EXAMPLES" --seed 20261206 --workers 1 --no-color \
  --phases examples,coverage,fuzzing \
  --report junit --report-junit-path "$report" \
  --suppress-health-check all --warnings off
status=$?
tests=$(grep -o 'tests="[0-9]*"' "$report" 2>/dev/null | head -1 | grep -o '[0-9]*')
failures=$(grep -o 'failures="[0-9]*"' "$report" 2>/dev/null | head -1 | grep -o '[0-9]*')
errors=$(grep -o 'errors="[0-9]*"' "$report" 2>/dev/null | head -1 | grep -o '[0-9]*')
bad=$(( ${failures:-0} + ${errors:-0} ))
if [ -z "${tests:-}" ]; then
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
echo "fuzz: $(( tests - bad )) passed, $bad failed"
exit $status
