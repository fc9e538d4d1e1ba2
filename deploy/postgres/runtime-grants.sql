-- Rights of the portal's runtime role (web, worker, beat), applied by the owner after every migrate
-- (the `migrate` service of docker-compose.yml runs it; see docs/operations.md, "Database roles").
--
-- The owner/migrator role (POSTGRES_USER, `portal`) owns every table and runs the migrations. The
-- runtime role (`portal_app`) owns nothing, so it cannot ALTER TABLE ... DISABLE TRIGGER, cannot
-- SET session_replication_role, and on the ledger it may only read and append:
--   audits_ledgerentry: SELECT, INSERT              (no UPDATE, DELETE, TRUNCATE)
--   audits_ledgerhead:  SELECT, INSERT, UPDATE      (record() moves the head; no DELETE, TRUNCATE)
-- and normal rights (SELECT, INSERT, UPDATE, DELETE) on every other table. Idempotent.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portal_app') THEN
        -- The password is set by deploy/postgres/initdb-runtime-role.sh (or by hand: ALTER ROLE).
        CREATE ROLE portal_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO portal_app', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO portal_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO portal_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO portal_app;

REVOKE UPDATE, DELETE, TRUNCATE ON audits_ledgerentry FROM portal_app, PUBLIC;
REVOKE DELETE, TRUNCATE ON audits_ledgerhead FROM portal_app, PUBLIC;
REVOKE CREATE ON SCHEMA public FROM portal_app, PUBLIC;
