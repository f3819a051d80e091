#!/bin/sh
# Create the Secrets Doorstep reads, with freshly generated keys, in namespace $NAMESPACE.
#   deploy/k8s/create-secrets.sh dev     # database + Redis inside the cluster, demo password
#   deploy/k8s/create-secrets.sh prod    # CloudNativePG credentials; Redis URL from $REDIS_URL
# Existing Secrets are left alone (rotation is a deliberate act: deploy/README.md).
# Needs kubectl and openssl. Prints no secret value.
set -eu

overlay="${1:-}"
namespace="${NAMESPACE:-doorstep}"
case "$overlay" in dev | prod) ;; *) echo "usage: $0 dev|prod" >&2; exit 64 ;; esac

b64url() { openssl rand -base64 "$1" | tr '+/' '-_' | tr -d '=\n'; }
exists() { kubectl -n "$namespace" get secret "$1" >/dev/null 2>&1; }

kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"

if ! exists doorstep-signing-key; then
    kid="k$(date +%Y%m%d)-$(openssl rand -hex 4)"
    pem="$(mktemp)"
    trap 'rm -f "$pem"' EXIT
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$pem" 2>/dev/null
    kubectl -n "$namespace" create secret generic doorstep-signing-key \
        --from-literal=kid="$kid" --from-file=signing-key.pem="$pem"
    rm -f "$pem"
    echo "created doorstep-signing-key (kid $kid)"
fi

if ! exists doorstep-secrets; then
    db_password="$(openssl rand -hex 24)"
    if [ "$overlay" = dev ]; then
        database_url="postgresql+asyncpg://doorstep:${db_password}@postgres:5432/doorstep"
        redis_url="redis://redis:6379/0"
        set -- --from-literal=postgres-password="$db_password" \
            --from-literal=demo-password="${DOORSTEP_DEMO_PASSWORD:-doorstep-demo}"
    else
        database_url="${DATABASE_URL:-postgresql+asyncpg://doorstep:${db_password}@doorstep-db-rw:5432/doorstep}"
        redis_url="${REDIS_URL:?set REDIS_URL to your managed Redis, e.g. rediss://:PASSWORD@HOST:6380/0}"
        set --
        if [ -z "${DATABASE_URL:-}" ] && exists doorstep-db-app; then
            echo "doorstep-db-app exists but doorstep-secrets does not: set DATABASE_URL" >&2
            exit 1
        fi
        if [ -z "${DATABASE_URL:-}" ]; then
            kubectl -n "$namespace" create secret generic doorstep-db-app \
                --type=kubernetes.io/basic-auth \
                --from-literal=username=doorstep --from-literal=password="$db_password"
            echo "created doorstep-db-app (CloudNativePG bootstrap credentials)"
        fi
    fi
    kubectl -n "$namespace" create secret generic doorstep-secrets \
        --from-literal=database-url="$database_url" \
        --from-literal=redis-url="$redis_url" \
        --from-literal=proxy-pii-keys="p$(date +%Y%m)a:$(b64url 32)" \
        --from-literal=proxy-pii-hash-key="$(b64url 32)" \
        --from-literal=stations-pii-keys="s$(date +%Y%m)a:$(b64url 32)" \
        --from-literal=stations-pii-hash-key="$(b64url 32)" \
        --from-literal=gateway-pii-keys="g$(date +%Y%m)a:$(b64url 32)" \
        --from-literal=gateway-pii-hash-key="$(b64url 32)" \
        --from-literal=gateway-audit-keys="g$(date +%Y%m)a:$(b64url 32)" \
        --from-literal=catalog-audit-keys="c$(date +%Y%m)a:$(b64url 32)" \
        --from-literal=proxy-audit-keys="p$(date +%Y%m)a:$(b64url 32)" \
        "$@"
    echo "created doorstep-secrets"
fi
if ! exists doorstep-service-keys; then
    # The proxy's own Ed25519 key (its calls to the catalog) and the public half the catalog
    # trusts; the last 32 bytes of the DER forms are the raw seed and the raw public key.
    # The stations' key likewise; the gateway trusts both (the staff roster they follow).
    pem="$(mktemp)"
    trap 'rm -f "$pem"' EXIT
    raw() {  # the raw seed (private) or public key of $pem, base64url
        openssl pkey -in "$pem" "$@" -outform DER | tail -c 32 | openssl base64 -A | tr '+/' '-_' | tr -d '='
    }
    kid="proxy-$(date +%Y%m%d)-$(openssl rand -hex 4)"
    openssl genpkey -algorithm ed25519 -out "$pem" 2>/dev/null
    seed="$(raw)"
    public="$(raw -pubout)"
    skid="stations-$(date +%Y%m%d)-$(openssl rand -hex 4)"
    openssl genpkey -algorithm ed25519 -out "$pem" 2>/dev/null
    sseed="$(raw)"
    spublic="$(raw -pubout)"
    rm -f "$pem"
    kubectl -n "$namespace" create secret generic doorstep-service-keys \
        --from-literal=proxy-service-key="$kid:$seed" \
        --from-literal=trusted-service-keys="proxy:$kid:$public" \
        --from-literal=stations-service-key="$skid:$sseed" \
        --from-literal=gateway-trusted-service-keys="proxy:$kid:$public,stations:$skid:$spublic"
    echo "created doorstep-service-keys (proxy kid $kid, stations kid $skid)"
fi
echo "secrets ready in namespace $namespace"
