#!/bin/bash
# Container health check without curl in the image: healthcheck PORT [tls]
#   plain HTTP: GET /health on 127.0.0.1:PORT must answer 200;
#   "tls":      the port must accept a TCP connection (bash cannot do a TLS handshake; the
#               Kubernetes probes, which can, check /health over HTTPS).
set -u
port=${1:?usage: healthcheck PORT [tls]}
mode=${2:-}
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
[ "$mode" = tls ] && exit 0
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: healthcheck\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 5 status <&3 || exit 1
case "$status" in
  "HTTP/1."?" 200"*) exit 0 ;;
  *) echo "unhealthy: ${status%$'\r'}" >&2; exit 1 ;;
esac
