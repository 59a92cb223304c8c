#!/usr/bin/env bash
# Search benchmark: the admin page's delivery searches (phone, e-mail, name, id, state) on a SQLite store of N
# deliveries (default 100,000), median of 21 runs each. Usage: bench/search.sh [deliveries=100000]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -DskipTests test-compile
mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
java -Xmx512m -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
  io.leadrelay.bench.SearchBenchmark "${1:-100000}"
