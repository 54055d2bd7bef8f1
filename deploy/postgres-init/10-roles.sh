#!/bin/sh
# Runs once, as the PostgreSQL superuser, when the db service starts on an
# empty data volume (the postgres image's /docker-entrypoint-initdb.d/).
# Two login roles, neither a superuser: the owner runs migrations and owns
# every table; the app role, which web, worker and beat use, gets its
# privileges from `manage.py grant_app_role` after each migrate (ops/roles.py).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" \
    -v owner="${OWNER_DB_ROLE:-casebridge_owner}" -v owner_password="$OWNER_DB_PASSWORD" \
    -v app="${APP_DB_ROLE:-casebridge_app}" -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"app";
SQL
