"""Exit 0 when the app in this container answers 200 at /healthz, 1 otherwise.

The image has no curl; Docker's HEALTHCHECK runs this with the venv's Python.
"""

import os
import sys
import urllib.request

port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
url = f"http://127.0.0.1:{port}/healthz"
try:
    # /healthz answers 503 while the model is not loaded; urlopen raises on it.
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as error:  # HTTPError (503) and URLError are OSErrors
    print(f"{url}: {error}", file=sys.stderr)
    sys.exit(1)
