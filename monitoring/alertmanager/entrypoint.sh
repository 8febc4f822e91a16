#!/bin/sh
# Start Alertmanager with the webhook URL taken from $ALERTMANAGER_WEBHOOK_URL.
# Alertmanager does not expand environment variables in its configuration, so this writes a
# copy of alertmanager.yml with the URL replaced. For docker-compose:
#   entrypoint: ["/bin/sh", "/etc/alertmanager/entrypoint.sh"]
set -eu

default_url="http://127.0.0.1:5001/"
config="${ALERTMANAGER_CONFIG:-/etc/alertmanager/alertmanager.yml}"
rendered="${ALERTMANAGER_RENDERED_CONFIG:-/tmp/alertmanager.yml}"
binary="${ALERTMANAGER_BINARY:-/bin/alertmanager}"

# Without a receiver every alert would go to the placeholder and be lost without a word.
if [ -z "${ALERTMANAGER_WEBHOOK_URL:-}" ]; then
    echo "alertmanager: ALERTMANAGER_WEBHOOK_URL is empty; set it in .env to the webhook that" \
        "should receive alerts (see .env.example). Refusing to start." >&2
    exit 1
fi

# Escape what sed's replacement treats specially: \ & and the | delimiter.
url=$(printf '%s' "$ALERTMANAGER_WEBHOOK_URL" | sed 's/[\\&|]/\\&/g')
sed "s|url: ${default_url}\$|url: ${url}|" "$config" > "$rendered"

exec "$binary" --config.file="$rendered" "$@"
