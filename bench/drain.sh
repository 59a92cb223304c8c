#!/usr/bin/env bash
# Drain benchmark: the fat jar against a fake portal that enforces Bitrix24's standard limits. Prints the lone-lead
# latency at idle, then a broadcast posted by wrk for a few seconds (about 5,000-10,000 webhooks a second) while the relay
# drains: accepted webhooks/s, drain time against the bucket's theoretical minimum, refusals, duplicates, peak RSS.
# Usage: bench/drain.sh [broadcast seconds=1] [operating seconds per lead=0.02] [flags: --spread=N, --at-once=N,
# --operating=LIMIT/WINDOW, --no-lone, --no-warm-up; see DrainBenchmark]. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -DskipTests package
mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
java -Xmx512m -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
  io.leadrelay.bench.DrainBenchmark "${1:-1}" "${2:-0.02}" "${@:3}"
