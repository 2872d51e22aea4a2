#!/usr/bin/env bash
# Benchmarks of docs/PERFORMANCE.md: the release wasm bundle size, then the load, engine and
# live benchmarks (cargo bench), the load and live ones again on PostgreSQL, and the replicas
# benchmark (PostgreSQL). Figures are printed as Markdown; copy them into
# docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
cargo leptos build --release --split --precompress
cargo build --release -p server --bin gen-inventory
echo "## Browser bundle (release, wasm-opt, split: the map loads vmshift.wasm only)"
echo
echo "| file | size | gzip -9 |"
echo "|---|---|---|"
for f in target/site/pkg/vmshift.wasm target/site/pkg/*.wasm target/site/pkg/vmshift.js; do
  case "$f" in target/site/pkg/vmshift.wasm) [ "${seen:-}" ] && continue; seen=1 ;; esac
  echo "| $(basename "$f") | $(( $(stat -c %s "$f") / 1024 )) KiB | $(( $(gzip -9 -c "$f" | wc -c) / 1024 )) KiB |"
done
echo
cargo bench -p server --bench load

# The migration engine (issue 4): 10,000 migrations ticking, the runtime's JSON and SQLite per
# tick, predictions (in process); then predictions over HTTP and the websocket fan-out to
# 1,000 clients against the binary. Each process holds ~1,000 sockets: raise the soft limit
# of open files if it is low.
echo
cargo bench -p server --bench engine
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
echo
cargo bench -p server --bench live

# The same inventory and websocket benchmarks on PostgreSQL (a local throw-away server, fsync
# off: see scripts/postgres.sh), then two replicas sharing one database: the latency of
# migration events across replicas.
pg_url=$(bash scripts/postgres.sh start)
echo
VMSHIFT_BENCH_POSTGRES=$pg_url cargo bench -p server --bench load
echo
VMSHIFT_BENCH_POSTGRES=$pg_url cargo bench -p server --bench live
echo
VMSHIFT_BENCH_POSTGRES=$pg_url cargo bench -p server --bench replicas

# The wizard's in-browser checks, on 100 hosts / 2,000 VMs (the map's scale).
echo
echo "## Migrate wizard, checks in the browser (100 hosts, 2,000 VMs)"
echo
echo "| figure | value |"
echo "|---|---|"
dir=$(mktemp -d)
port=3300
./target/release/vmshift --database-url "sqlite://$dir/b.db" --demo false --bind 127.0.0.1:$port --log warn \
  --admin-password bench-admin-password &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
./target/release/gen-inventory --clusters 2 --hosts 50 --vms 20 > "$dir/inv.json"
# Every route needs a signed-in user: the admin's session cookie.
session=$(curl -sf -D - -o /dev/null -X POST -H 'content-type: application/json' \
  -d '{"username": "admin", "password": "bench-admin-password"}' \
  http://127.0.0.1:$port/api/v1/session | sed -n 's/^set-cookie: vmshift_session=\([^;]*\).*/\1/ip' | tr -d '\r')
curl -sf -X POST -H 'content-type: application/json' -H "cookie: vmshift_session=$session" \
  --data-binary @"$dir/inv.json" http://127.0.0.1:$port/api/v1/inventory >/dev/null
VMSHIFT_SESSION=$session node scripts/bench-browser-checks.js http://127.0.0.1:$port vm-000-000-000

# Maintenance plans (issue 13): planning, prediction and plan quality in process, then a plan's
# page with a 500-move timeline in the browser (rolling maintenance of 10 hosts of 25 VMs: each
# VM out and back).
echo
cargo bench -p server --bench plans
echo
echo "## Plan page in the browser (500-move timeline)"
echo
echo "| figure | value |"
echo "|---|---|"
# A server of its own (port 3301, empty) holding the 250-VM cluster.
./target/release/vmshift --database-url "sqlite://$dir/p.db" --demo false --bind 127.0.0.1:3301 \
  --log warn --admin-password bench-admin-password &
pid2=$!
trap 'kill $pid $pid2 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:3301/healthz >/dev/null && break; sleep 0.1; done
session=$(curl -sf -D - -o /dev/null -X POST -H 'content-type: application/json' \
  -d '{"username": "admin", "password": "bench-admin-password"}' \
  http://127.0.0.1:3301/api/v1/session | sed -n 's/^set-cookie: vmshift_session=\([^;]*\).*/\1/ip' | tr -d '\r')
./target/release/gen-inventory --clusters 1 --hosts 10 --vms 25 > "$dir/rolling.json"
curl -sf -X POST -H 'content-type: application/json' -H "cookie: vmshift_session=$session" \
  --data-binary @"$dir/rolling.json" http://127.0.0.1:3301/api/v1/inventory >/dev/null
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log($1)})"; }
cluster=$(curl -sf -H "cookie: vmshift_session=$session" http://127.0.0.1:3301/api/v1/clusters | json '(j.items ?? j)[0].id')
plan=$(curl -sf -X POST -H 'content-type: application/json' -H "cookie: vmshift_session=$session" \
  -d "{\"goal\": {\"kind\": \"rolling_maintenance\", \"cluster_id\": \"$cluster\", \"at_a_time\": 1}}" \
  http://127.0.0.1:3301/api/v1/plans | json 'j.id')
VMSHIFT_SESSION=$session node scripts/bench-browser-timeline.js http://127.0.0.1:3301 "$plan"

# vCenter's maximum in the browser (issue 16): a server of its own (port 3302) importing the
# generated 50 × 50 × 18 inventory in one request, then the map, wizard, search, live link and
# memory in Chromium (VMSHIFT_SCALE_MINUTES: how long the map stays open, 10 by default).
echo
echo "## vCenter's maximum in the browser (2,500 hosts, 45,000 VMs)"
echo
echo "| figure | value |"
echo "|---|---|"
./target/release/vmshift --database-url "sqlite://$dir/s.db" --demo false --bind 127.0.0.1:3302 \
  --log warn --admin-password bench-admin-password &
pid3=$!
trap 'kill $pid $pid2 $pid3 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:3302/healthz >/dev/null && break; sleep 0.1; done
session=$(curl -sf -D - -o /dev/null -X POST -H 'content-type: application/json' \
  -d '{"username": "admin", "password": "bench-admin-password"}' \
  http://127.0.0.1:3302/api/v1/session | sed -n 's/^set-cookie: vmshift_session=\([^;]*\).*/\1/ip' | tr -d '\r')
./target/release/gen-inventory --clusters 50 --hosts 50 --vms 18 > "$dir/max.json"
seconds=$(curl -sf -o /dev/null -w '%{time_total}' -X POST -H 'content-type: application/json' \
  -H "cookie: vmshift_session=$session" --data-binary @"$dir/max.json" http://127.0.0.1:3302/api/v1/inventory)
echo "| import of the whole 45,000-VM inventory in one request ($(( $(stat -c %s "$dir/max.json") / 1048576 )) MiB) | ${seconds} s |"
for path in / /migrate /inventory/vms; do
  size=$(curl -sf -o /dev/null -w '%{size_download}' -H "cookie: vmshift_session=$session" "http://127.0.0.1:3302$path")
  echo "| first HTML of $path (uncompressed) | $(( size / 1024 )) KiB |"
done
VMSHIFT_SESSION=$session node scripts/bench-browser-scale.js http://127.0.0.1:3302 "${VMSHIFT_SCALE_MINUTES:-10}"

# The QEMU driver (issue 6): against the direct-QMP floor, the model against real moves, then
# the same vMotion through libvirt (two daemons in their own namespaces; JSON lines).
bash scripts/install-qemu.sh
bash scripts/lab-guest.sh
echo
cargo bench -p server --bench lab
bash scripts/install-libvirt.sh
echo
bash bench/libvirt_floor.sh 5 100 50 400
