#!/bin/bash
# The streaming replica's entrypoint (deploy/docker-compose.failover.yml): on an empty data
# directory, copy the primary with pg_basebackup (-R: standby.signal and primary_conninfo),
# then run PostgreSQL as the image does. A promoted replica keeps its data and stays primary.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  until gosu postgres pg_basebackup -h postgres -p 5432 -U replicator -D "$PGDATA" \
      -X stream -R -d "application_name=postgres-replica"; do
    echo "waiting for the primary to accept a base backup..."
    rm -rf "${PGDATA:?}"/*
    sleep 2
  done
  # Promoted one day, it must not wait for a standby of its own.
  echo "synchronous_standby_names = ''" >> "$PGDATA/postgresql.auto.conf"
fi
exec docker-entrypoint.sh postgres
