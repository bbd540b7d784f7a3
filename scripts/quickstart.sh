#!/usr/bin/env bash
# Sets Quill up on a fresh machine and starts it: installs what is missing, builds the `quill` command,
# starts `quill serve` on the embedded SQLite store, logs a demo run to it, and keeps serving until Ctrl-C.
#
#   ./scripts/quickstart.sh            # serve on 127.0.0.1:8080 (QUILL_PORT to change), data in $QUILL_HOME/server
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
echo "==> building quill (the first build fetches and compiles dependencies: a few minutes)"
swift build --product quill
bin="$(swift build --show-bin-path)/quill"
port="${QUILL_PORT:-8080}"
url="http://127.0.0.1:$port"
home="${QUILL_HOME:-$HOME/.quill}"

if curl -sf "$url/healthz" >/dev/null 2>&1; then
    echo "error: something already answers on $url; stop it, or choose another port with QUILL_PORT=8081 $0" >&2
    exit 1
fi
log="$(mktemp /tmp/quill-serve.XXXXXX.log)"
echo "==> starting quill serve on $url (SQLite in $home/server; log: $log)"
"$bin" serve --host 127.0.0.1 --port "$port" > >(tee "$log") 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 100); do
    grep -q "listening" "$log" 2>/dev/null && break
    if ! kill -0 "$server" 2>/dev/null; then echo "error: quill serve did not start; see $log" >&2; exit 1; fi
    sleep 0.1
done
echo "==> logging a demo run to the server"
QUILL_TRACKING_URI="$url" "$bin" demo --steps 200
echo "==> runs on the server"
"$bin" runs --server "$url"
cat <<TEXT

quill serve is running on $url (single-user mode on loopback; Ctrl-C stops it).
  open the dashboard in a browser:         $url/
  quill is at $bin; put it on your PATH:   export PATH="$(dirname "$bin"):\$PATH"
  log runs to it from Swift or the CLI:    export QUILL_TRACKING_URI=$url
  turn on API keys:                        quill users create YOUR_NAME   (then quill login --server $url)
TEXT
wait "$server"
