#!/usr/bin/env bash
# Ingest benchmark: accepted webhooks per second in dry-run (no portal), with wrk on loopback. Every accepted
# webhook is committed to the delivery store (STORE_SYNCHRONOUS, FULL by default) before its 200.
# Usage: bench/ingest.sh [duration=30s] [connections=64] [threads=2]
# STORE=postgres: the shared PostgreSQL store instead, in a fresh database on the server BENCH_PG names (default
# postgresql://postgres@127.0.0.1:5432/postgres, trust auth; needs psql), dropped afterwards.
# Needs wrk (apt-get install wrk) and a built jar (mvn -q -DskipTests package).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30s}
connections=${2:-64}
threads=${3:-2}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
[ -f target/leadrelay.jar ] || mvn -q -DskipTests package

work=$(mktemp -d)
port=${BENCH_PORT:-18080}
secret=bench-secret-0123456789
store=${STORE:-sqlite}
pg_server=${BENCH_PG:-postgresql://postgres@127.0.0.1:5432/postgres}
pg_db=leadrelay_bench_$$
if [ "$store" = postgres ]; then
  psql "$pg_server" -qc "CREATE DATABASE $pg_db" >/dev/null
  export DATABASE_URL="${pg_server%/*}/$pg_db"
fi
STORE=$store STORE_SYNCHRONOUS=${STORE_SYNCHRONOUS:-FULL} HTTP_HOST=127.0.0.1 HTTP_PORT=$port BOTHELP_SECRET=$secret DATA_DIR="$work/data" LOG_DIR="$work/logs" \
  java ${JAVA_OPTS:--Xmx512m} -jar target/leadrelay.jar > "$work/relay.out" 2>&1 &
pid=$!
cleanup() {
  # "|| true": under set -e the killed relay's exit status would end the clean-up before it is done.
  kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"
  if [ "$store" = postgres ]; then psql "$pg_server" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null || true; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.2
done

url="http://127.0.0.1:$port/webhook/default/$secret"
wrk -t1 -c8 -d3s -s bench/ingest.lua "$url" -- 1 > /dev/null   # warm-up: let the JIT compile the hot path
echo "store: $store"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
echo "wrk -t$threads -c$connections -d$duration -s bench/ingest.lua $url"
# CPU time spent per accepted webhook, by the relay and (PostgreSQL) by the database's backends serving it: unlike
# the rate, this hardly moves when other work on the machine competes for the cores.
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0; done | awk '{s += $1} END {print s + 0}'; }
backends() { [ "$store" = postgres ] && psql "$pg_server" -tAc "select pid from pg_stat_activity where datname = '$pg_db' and application_name = 'leadrelay'" || true; }
pg_pids=$(backends)
relay_before=$(ticks $pid); pg_before=$(ticks $pg_pids)
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s bench/ingest.lua "$url" -- 2 | tee "$work/wrk.out"
requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
hz=$(getconf CLK_TCK)
echo "CPU per accepted webhook: relay $(echo "scale=3; ($(ticks $pid) - $relay_before) * 1000 / $hz / $requests" | bc) ms$([ "$store" = postgres ] && echo ", database backends $(echo "scale=3; ($(ticks $pg_pids) - $pg_before) * 1000 / $hz / $requests" | bc) ms")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "relay RSS right after the run: $(ps -o rss= -p $pid | awk '{printf "%.0f MB", $1/1024}')"
# Logs are written asynchronously: wait until webhook.log and success.log stop growing, to see how far behind
# the log writer was when the load stopped.
start=$(date +%s.%N); last=-1
while :; do
  now=$(cat "$work"/logs/*.log 2>/dev/null | wc -l)
  [ "$now" = "$last" ] && break
  last=$now; sleep 1
done
echo "log lines written (rolled files included): webhook $(cat "$work"/logs/webhook*.log | wc -l), success $(cat "$work"/logs/success*.log | wc -l); settled $(echo "$(date +%s.%N) - $start - 1" | bc) s after the load stopped"
if [ "$store" = postgres ]; then
  echo "store: $(psql "$DATABASE_URL" -tAc "select state || '=' || count(*) from deliveries group by state" | tr '\n' ' ')"
  # Transactions committed in the run's database: each one is a WAL flush the relay waited for (synchronous_commit),
  # so commits per webhook says how well accepts and outcomes are grouped, whatever the machine's load.
  echo "transactions: $(psql "$DATABASE_URL" -tAc "select xact_commit || ' committed, ' || xact_rollback || ' rolled back, ' || round(xact_commit::numeric / greatest(1, (select count(*) from deliveries)), 3) || ' per stored webhook' from pg_stat_database where datname = current_database()")"
else
  echo "store: $(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(dict(c.execute('select state, count(*) from deliveries group by state').fetchall()))" "$work/data/leadrelay.db" 2>/dev/null)"
fi
echo "relay RSS after the logs settled: $(ps -o rss= -p $pid | awk '{printf "%.0f MB", $1/1024}')"
