#!/bin/bash
# The balancer's healthcheck: GET /healthz through it answers 200, so at least one replica
# is up behind it. Bash's /dev/tcp: the haproxy image has no HTTP client.
exec 3<>"/dev/tcp/127.0.0.1/${PORT:-3001}" || exit 1
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 5 status <&3 || exit 1
[[ $status == "HTTP/1."?" 200"* ]] || { echo "$status" >&2; exit 1; }
