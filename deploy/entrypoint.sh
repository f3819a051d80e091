#!/bin/sh
# Doorstep container entry point: one app (one uvicorn process) per container.
#
#   entrypoint.sh APP [extra args]      or      DOORSTEP_APP=APP entrypoint.sh
#
#   gateway | catalog | proxy | stations   serve the app (uvicorn --factory, exec'd as PID 1)
#   migrate [service...]                   apply Alembic heads (all services by default)
#   seed                                   load the demo data (idempotent; development only)
#   keys                                   development only: make a signing key and PII keys
#                                          under $DOORSTEP_KEYS_DIR if they are not there yet
#   healthcheck                            Docker HEALTHCHECK: GET /healthz of the running app
#
# The port comes from the app's own setting (DOORSTEP_<APP>_PORT) so that the settings object
# and the socket always agree. If DOORSTEP_ENV_FILE names a readable file of KEY=VALUE lines,
# those are exported first (compose uses it for the generated development PII keys).
set -eu

usage() {
    echo "usage: entrypoint.sh {gateway|catalog|proxy|stations|migrate|seed|keys|healthcheck} [args...]" >&2
    exit 64
}

load_env_file() {
    file="${DOORSTEP_ENV_FILE:-}"
    [ -n "$file" ] || return 0
    if [ ! -r "$file" ]; then
        echo "entrypoint: DOORSTEP_ENV_FILE=$file is not readable" >&2
        exit 78
    fi
    # Plain KEY=VALUE lines; values are exported verbatim, never evaluated by the shell.
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in
            '' | '#'*) continue ;;
            [A-Za-z_]*=*) export "$line" ;;
            *) echo "entrypoint: ignoring malformed line in $file" >&2 ;;
        esac
    done <"$file"
}

serve() {
    module="$1" prefix="$2" default_port="$3"
    shift 3
    port="$(printenv "${prefix}PORT" || true)"
    port="${port:-$default_port}"
    case "$port" in
        '' | *[!0-9]*)
            echo "entrypoint: ${prefix}PORT must be a number, got '$port'" >&2
            exit 64
            ;;
    esac
    # One process, no --workers: metrics and shutdown stay simple; scale by replicas.
    # --no-proxy-headers: uvicorn trusts no proxy; the gateway trusts only
    # DOORSTEP_GATEWAY_FORWARDED_ALLOW_IPS (its own setting), so a client cannot name its address.
    # On SIGTERM uvicorn stops accepting, finishes in-flight requests (up to 20 s), then exits.
    exec uvicorn "$module" --factory \
        --host 0.0.0.0 --port "$port" \
        --no-access-log --no-server-header --no-proxy-headers \
        --http doorstep_tools.launcher:CoalescingHttpToolsProtocol \
        --timeout-graceful-shutdown 20 \
        "$@"
}

make_dev_keys() {
    umask 077
    exec python - <<'PY'
"""Development keys for compose: an RSA signing key (kid = file name), PII, audit and service keys."""
import base64
import os
import pathlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

directory = pathlib.Path(os.environ.get("DOORSTEP_KEYS_DIR", "/var/lib/doorstep/keys"))
kid = os.environ.get("DOORSTEP_DEV_KEY_ID", "doorstep-dev-1")
directory.mkdir(parents=True, exist_ok=True)


def b64(size: int) -> str:
    return base64.urlsafe_b64encode(os.urandom(size)).decode().rstrip("=")


pem = directory / f"{kid}.pem"
if not pem.exists():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    print(f"keys: wrote signing key {pem}")
env = directory / "pii.env"
wanted = {}
for service in ("GATEWAY", "PROXY", "STATIONS"):
    wanted[f"DOORSTEP_{service}_PII_KEYS"] = lambda s=service: f"{s.lower()}-dev1:{b64(32)}"
    wanted[f"DOORSTEP_{service}_PII_HASH_KEY"] = lambda: b64(32)
for service in ("GATEWAY", "CATALOG", "PROXY"):
    wanted[f"DOORSTEP_{service}_AUDIT_KEYS"] = lambda s=service: f"{s.lower()}-dev1:{b64(32)}"
# Keys already there are kept (data depends on them); only missing ones are added, so an
# older volume gains the audit keys without losing its PII keys.
have = {line.split("=", 1)[0] for line in env.read_text().split()} if env.exists() else set()
missing = [f"{name}={make()}" for name, make in wanted.items() if name not in have]
if missing:
    with env.open("a") as fh:
        fh.write("\n".join(missing) + "\n")
    print(f"keys: wrote {len(missing)} PII and audit keys to {env}")
if "DOORSTEP_PROXY_SERVICE_KEY=" not in env.read_text():
    # The proxy's own key for its calls to the catalog, and the public half the catalog trusts
    # (added to the same file, so a volume made by an older release gets them too).
    from doorstep_shared.auth.service_keys import ServiceKey

    service = ServiceKey.generate("proxy", "proxy-dev1")
    with env.open("a") as out:
        out.write(f"DOORSTEP_PROXY_SERVICE_KEY={service.to_config()}\n")
        out.write(f"DOORSTEP_CATALOG_TRUSTED_SERVICE_KEYS={service.public_config()}\n")
    print(f"keys: wrote service keys {env}")
if "DOORSTEP_GATEWAY_TRUSTED_SERVICE_KEYS=" not in env.read_text():
    # The proxy and the stations follow the gateway's staff roster with their own tokens: the
    # stations' key, and the public halves the gateway trusts (an older volume gains them too).
    from doorstep_shared.auth.service_keys import ServiceKey

    lines = dict(line.split("=", 1) for line in env.read_text().split() if "=" in line)
    proxy = ServiceKey.from_config("proxy", lines["DOORSTEP_PROXY_SERVICE_KEY"])
    stations = ServiceKey.generate("stations", "stations-dev1")
    with env.open("a") as out:
        out.write(f"DOORSTEP_STATIONS_SERVICE_KEY={stations.to_config()}\n")
        out.write(f"DOORSTEP_GATEWAY_TRUSTED_SERVICE_KEYS={proxy.public_config()},{stations.public_config()}\n")
    print(f"keys: wrote the roster's service keys {env}")
print("keys: ready (development only; never use these keys anywhere else)")
PY
}

healthcheck() {
    exec python - <<'PY'
"""GET /healthz on the port PID 1 (uvicorn) listens on; one-shot containers are always healthy."""
import sys
import urllib.request

try:
    with open("/proc/1/cmdline", "rb") as fh:
        argv = fh.read().decode().split("\0")
except OSError:
    sys.exit(1)
if "--port" not in argv:
    sys.exit(0)
port = argv[argv.index("--port") + 1]
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

if [ $# -gt 0 ]; then
    app="$1"
    shift
else
    app="${DOORSTEP_APP:-}"
fi

case "$app" in
    healthcheck) healthcheck ;;
    keys) make_dev_keys ;;
esac

load_env_file

case "$app" in
    gateway) serve doorstep_gateway.main:create_app DOORSTEP_GATEWAY_ 8000 "$@" ;;
    catalog) serve doorstep_catalog.main:create_app DOORSTEP_CATALOG_ 8001 "$@" ;;
    proxy) serve doorstep_proxy.main:create_app DOORSTEP_PROXY_ 8002 "$@" ;;
    stations) serve doorstep_stations.main:create_app DOORSTEP_STATIONS_ 8003 "$@" ;;
    migrate) exec python -m doorstep_tools.migrate upgrade "$@" ;;
    seed) exec python -m doorstep_tools.launcher --seed-only "$@" ;;
    *) usage ;;
esac
