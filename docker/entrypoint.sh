#!/bin/sh
# Migrate the database, then run the container's command (gunicorn unless told otherwise).
# docker-compose.yml migrates once in its own `migrate` service and sets TOXMON_MIGRATE=0 on
# the replicas, because several replicas migrating one database at once can collide.
set -eu

if [ "${TOXMON_MIGRATE:-1}" != "0" ]; then
    python manage.py migrate --noinput
    # The rate limits count in this table of the database cache (a no-op once it exists).
    python manage.py createcachetable
fi

# Prometheus finds each replica by its IP address and scrapes it with that address as the Host
# header. Django refuses hosts it does not know, so a replica also answers to its own IPs.
if [ "${TOXMON_ALLOW_OWN_IP:-1}" = "1" ] && own_ips=$(hostname -i 2>/dev/null); then
    DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost},$(echo $own_ips | tr ' ' ',')"
    export DJANGO_ALLOWED_HOSTS
fi

exec "$@"
