#!/bin/sh
# What the official postgres image does at start, for the Debian stand-in: on the first start
# create the cluster with POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB; then serve.
set -eu

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    password_file=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$password_file"
    "$bin/initdb" --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$password_file" \
        --auth-local=trust --auth-host=scram-sha-256
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    "$bin/pg_ctl" --pgdata="$PGDATA" --wait --options="-c listen_addresses=''" start
    if [ "$POSTGRES_DB" != "postgres" ]; then
        "$bin/createdb" --username="$POSTGRES_USER" "$POSTGRES_DB"
    fi
    "$bin/pg_ctl" --pgdata="$PGDATA" --wait stop
fi

exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*'
