#!/usr/bin/env bash
# Portal owner takeover: a node owning a portal is SIGKILLed at a random moment between renewals; prints the time
# until a standby node owns the portal and may act, per round and the median. Needs the PostgreSQL of the tests
# (LEADRELAY_TEST_PG, default postgresql://postgres@127.0.0.1:5432/test).
# Usage: bench/takeover.sh [lease seconds=10] [rounds=5].
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -DskipTests test-compile
mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
java -Xmx256m -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
  io.leadrelay.bench.TakeoverBenchmark "${1:-10}" "${2:-5}"
