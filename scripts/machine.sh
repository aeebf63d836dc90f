#!/usr/bin/env bash
# Describes the machine a set of benchmark results was made on, as markdown.
set -euo pipefail
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "# The machine these results were made on"
echo
echo "| | |"
echo "|---|---|"
echo "| CPU | ${cpu:-unknown} |"
echo "| cores | $(nproc) |"
echo "| memory | $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) |"
echo "| kernel | $(uname -r) |"
echo "| Go | $(go version | awk '{print $3}') |"
echo "| date | $(date -u +%Y-%m-%d) |"
echo "| commit | $(git rev-parse --short HEAD 2>/dev/null || echo unknown) |"
echo "| open-file limit (hard) | $(ulimit -Hn) |"
# The send buffer's autotuning limit: lesson 06's slow reader must fetch a
# file bigger than its last number.
echo "| TCP send buffer, min default max (net.ipv4.tcp_wmem) | $(tr '\t' ' ' < /proc/sys/net/ipv4/tcp_wmem) |"
# Whatever else ran: the results are only as steady as the machine was quiet.
echo "| load average (1, 5, 15 min) when the run ended | $(cut -d' ' -f1-3 /proc/loadavg) |"
echo "| priority of the run | nice $(nice) |"
