#!/usr/bin/env bash
# The PostgreSQL server's side of a group of accepts, without the relay: a group of N webhooks written as N
# single-row statements pipelined in one transaction (the store before the multi-row accept) against one multi-row
# statement (INSERT ... SELECT FROM unnest-like input, as PgDeliveryStore.ACCEPT_MANY), both with the repeat guard's
# ON CONFLICT. pgbench runs each for the given time with 4 clients; accepts/s = tps x N.
# Usage: bench/pg-accept.sh [duration seconds=15] [group size=100]. Needs pgbench and psql; BENCH_PG as in ingest.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
n=${2:-100}
pg_server=${BENCH_PG:-postgresql://postgres@127.0.0.1:5432/postgres}
db=leadrelay_pgaccept_$$
work=$(mktemp -d)
psql "$pg_server" -qc "CREATE DATABASE $db"
trap 'psql "$pg_server" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; rm -rf "$work"' EXIT
url="${pg_server%/*}/$db"
psql "$url" -q -f src/main/resources/db/postgres/V1__deliveries.sql
payload='{"bothelp_user_id":1,"name":"ИМЯТЕСТ","first_name":"Anton","last_name":"R","phone":"79999999999","email":"test@example.com","utm_source":"VK","utm_campaign":"messenger","Бюджет":"9000","Тип продукта":"МАРКАТЕСТ","пожелания":"ПОЖЕЛАНИЯТЕСТ","страна":"Япония"}'
columns="id, integration, received_at, remote_address, payload, body_hash, state, attempts, uncertain, first_failed_at, next_attempt_at, lease_until, lease_owner, lease_epoch, updated_at"
upsert="ON CONFLICT (integration, body_hash) DO UPDATE SET delivery_id = excluded.delivery_id, received_at = excluded.received_at WHERE repeat_guard.received_at < excluded.received_at - 600000"
values="'main', 1, '127.0.0.1', '$payload'"
rest="'PENDING', 0, false, NULL, leadrelay_now_ms(), leadrelay_now_ms() + 30000, 'n', 1, leadrelay_now_ms()"
single="WITH guard AS (INSERT INTO repeat_guard (integration, body_hash, delivery_id, received_at) VALUES ('main', md5(random()::text), gen_random_uuid()::text, 1) $upsert RETURNING delivery_id, body_hash) INSERT INTO deliveries ($columns) SELECT delivery_id, $values, body_hash, $rest FROM guard RETURNING id;"
multi="WITH input AS (SELECT gen_random_uuid()::text AS id, md5(random()::text) AS body_hash, n FROM generate_series(1, $n) AS n), guard AS (INSERT INTO repeat_guard (integration, body_hash, delivery_id, received_at) SELECT 'main', body_hash, id, 1 FROM input ORDER BY n $upsert RETURNING delivery_id) INSERT INTO deliveries ($columns) SELECT i.id, $values, i.body_hash, $rest FROM input i JOIN guard g ON g.delivery_id = i.id ORDER BY i.n RETURNING id;"
{ echo '\startpipeline'; echo 'BEGIN;'; for _ in $(seq 1 "$n"); do echo "$single"; done; echo 'COMMIT;'; echo '\endpipeline'; } > "$work/single.sql"
{ echo '\startpipeline'; echo 'BEGIN;'; echo "$multi"; echo 'COMMIT;'; echo '\endpipeline'; } > "$work/multi.sql"
for script in single multi; do
  tps=$(pgbench "$url" -n -M extended -c 4 -j 2 -T "$duration" -f "$work/$script.sql" 2>&1 | awk '/^tps/ {print $3}')
  echo "$script-row statements, groups of $n: $(echo "$tps * $n" | bc | cut -d. -f1) accepts/s (load average $(cut -d' ' -f1 /proc/loadavg))"
done
