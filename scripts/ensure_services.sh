#!/usr/bin/env bash
# Start the local services the test suite talks to (PostgreSQL, Redis,
# RabbitMQ) when they are installed but not running. Never fails by itself:
# the tests report clearly what is missing.
set -u

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  for _ in $(seq 1 60); do up "$1" && return 0; sleep 0.5; done
  echo "service on port $1 did not come up" >&2
}

if ! up 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_for 5432
fi
if ! up 6379 && command -v redis-server >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  wait_for 6379
fi
if ! up 5672 && command -v rabbitmq-server >/dev/null 2>&1; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached || true
  wait_for 5672
fi
exit 0
