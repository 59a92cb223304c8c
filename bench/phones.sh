#!/usr/bin/env bash
# Phone normalisation's cost in the mapping: LeadMapper.fields per second with a Russian-typed phone against the same
# payload without one, in one run (see PhoneMappingBenchmark). Usage: bench/phones.sh [seconds per round=3]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -DskipTests test-compile
mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
java -Xmx256m -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
  io.leadrelay.bench.PhoneMappingBenchmark "${1:-3}"
