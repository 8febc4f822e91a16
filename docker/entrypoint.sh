#!/bin/sh
# Migrate the database, then run the container's command (gunicorn unless told otherwise).
# docker-compose.yml migrates once in its own `migrate` service and sets TOXMON_MIGRATE=0 on
# the replicas, because several replicas migrating one database at once can collide.
set -eu

if [ "${TOXMON_MIGRATE:-1}" != "0" ]; then
    python manage.py migrate --noinput
fi

exec "$@"
