#!/usr/bin/env bash
# Drain time of a cluster against the portal's bucket: N relays (the fat jar, STORE=postgres, clustered) sharing a
# fresh PostgreSQL database on the tests' server (LEADRELAY_TEST_PG, default postgresql://postgres@127.0.0.1:5432/test),
# a fake portal enforcing the standard plan (bucket 50 at 2/s); a broadcast of W webhooks posted round robin over the
# nodes after a warm-up broadcast of 1,000. Prints the drain time against the bucket's minimum, refusals, duplicates,
# each node's RSS, and the gaps between requests (TIMELINE=1: every request of the timed broadcast).
# Usage: bench/cluster-drain.sh [nodes=3] [webhooks=5000]; run it with 1 and with 3 to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -DskipTests package
mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
java -Xmx512m -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
  io.leadrelay.bench.ClusterDrainBenchmark "${1:-3}" "${2:-5000}"
