#!/bin/sh
# Run once by the postgres image on a new data volume (/docker-entrypoint-initdb.d): creates the
# runtime role `portal_app` with PORTAL_DB_RUNTIME_PASSWORD. Its grants come from
# runtime-grants.sql, applied by the `migrate` service after every migration.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v password="$PORTAL_DB_RUNTIME_PASSWORD" <<'SQL'
CREATE ROLE portal_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'password';
SQL
