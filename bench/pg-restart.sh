#!/usr/bin/env bash
# A real PostgreSQL restart under a relay taking webhooks: a private cluster of its own (initdb into a temporary
# directory, port 5499, run as the postgres user), never the tests' shared server. Prints the answers, the time from
# the database's return to the first accepted webhook and to every accepted webhook's lead, leads missing or doubled.
# Needs PostgreSQL's server binaries (Debian: /usr/lib/postgresql/<version>/bin) and root (to run them as postgres).
# Usage: bench/pg-restart.sh [seconds down=0: pg_ctl restart; more: stop, wait so long, start] [port=5499].
set -euo pipefail
cd "$(dirname "$0")/.."
DOWN="${1:-0}"
PORT="${2:-5499}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
DATA="$(mktemp -d /tmp/leadrelay-pg-restart.XXXXXX)"
chown postgres "$DATA"
as_postgres() { runuser -u postgres -- "$@"; }
cleanup() {
  as_postgres "$BIN/pg_ctl" -D "$DATA/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT
as_postgres "$BIN/initdb" -D "$DATA/db" -A trust -U postgres >/dev/null
as_postgres "$BIN/pg_ctl" -D "$DATA/db" -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1" -l "$DATA/log" -w start \
  >/dev/null
mvn -q -o -DskipTests test-compile
mvn -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
OPTS="-o '-p $PORT -k $DATA -c listen_addresses=127.0.0.1' -l $DATA/log"
if [ "$DOWN" = 0 ]; then
  RESTART="runuser -u postgres -- $BIN/pg_ctl -D $DATA/db -m fast -w restart $OPTS >/dev/null"
else
  RESTART="runuser -u postgres -- $BIN/pg_ctl -D $DATA/db -m fast -w stop >/dev/null && sleep $DOWN && \
    runuser -u postgres -- $BIN/pg_ctl -D $DATA/db -w start $OPTS >/dev/null"
fi
java -Xmx256m -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
  io.leadrelay.bench.DatabaseRestartBenchmark "$PORT" "$RESTART"
