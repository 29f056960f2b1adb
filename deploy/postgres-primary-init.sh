#!/bin/bash
# Run once by the postgres image on a new data directory (docker-entrypoint-initdb.d): a role
# the replica streams with, and the pg_hba line that lets it (deploy/docker-compose.failover.yml).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${POSTGRES_REPLICATION_PASSWORD}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
