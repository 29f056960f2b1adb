#!/bin/bash
# Promote the PostgreSQL streaming replica after the primary is lost (docs/FAILOVER.md):
#   deploy/pg-promote.sh            (from the repository root, with the failover override up)
# The application follows by itself: DATABASE_URL lists both hosts with
# target_session_attrs=read-write. Do not start the old primary again as a primary.
set -euo pipefail
compose=(docker compose -f docker-compose.yml -f deploy/docker-compose.failover.yml)
"${compose[@]}" exec -T postgres-replica \
  psql -U dispatch -d dispatch112 -v ON_ERROR_STOP=1 -c "SELECT pg_promote(true, 30)"
"${compose[@]}" exec -T postgres-replica \
  psql -U dispatch -d dispatch112 -tAc "SELECT CASE WHEN pg_is_in_recovery() THEN 'still a replica' ELSE 'primary' END"
