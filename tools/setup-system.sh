#!/usr/bin/env bash
# The Debian packages the tests need besides Python ones: etcd (the
# coordination backend's functional tests start it on loopback).
# Quick when they are there already.
set -euo pipefail
command -v etcd >/dev/null && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "etcd is missing: install Debian's etcd-server (apt-get install etcd-server)"
  exit 1
fi
echo "installing etcd-server with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
# A systemd host would start it on 2379; the tests use their own ports.
command -v etcd >/dev/null
