#!/usr/bin/env bash
# Start the local services the integration tests use when they are not running:
# PostgreSQL (127.0.0.1:5432, trust auth), Redis (127.0.0.1:6379) and RabbitMQ
# (127.0.0.1:5672, guest/guest). Idempotent.
set -euo pipefail

wait_for() {  # wait_for NAME COMMAND...: up to 60 s for COMMAND to succeed
  local name=$1; shift
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then echo "--- $name is up"; return 0; fi
    sleep 0.5
  done
  echo "error: $name did not come up" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  echo "--- starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "--- starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping

amqp_up() { timeout 2 bash -c '</dev/tcp/127.0.0.1/5672'; }
if ! amqp_up >/dev/null 2>&1; then
  echo "--- starting RabbitMQ"
  rabbitmq-server -detached || true
fi
wait_for RabbitMQ amqp_up
