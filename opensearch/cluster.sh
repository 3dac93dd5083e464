#!/usr/bin/env bash
# A local two-node OpenSearch cluster from the launcher's jars: start | stop | status | kill-node N | start-node N.
#   start       builds the launcher when needed (offline once Maven's cache has the jars), starts the
#               nodes in the background, and waits for green health.
#   kill-node   kills one node (n1 or n2) with SIGKILL; start-node starts it again (no waiting).
# Ports and folders can be moved with DEPECHE_OS_HTTP (first HTTP port, default 9250; the second
# node takes the next one), DEPECHE_OS_TRANSPORT (default 9350) and DEPECHE_OS_HOME; each node's
# maximum heap with DEPECHE_OS_HEAP (default 512m; bench/scale.py's million dispatches ran with 2g).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
home="${DEPECHE_OS_HOME:-$here/../build/opensearch}"
http="${DEPECHE_OS_HTTP:-9250}"
transport="${DEPECHE_OS_TRANSPORT:-9350}"
heap="${DEPECHE_OS_HEAP:-512m}"
nodes=(n1 n2)
wait_s="${DEPECHE_OS_WAIT:-180}"
url="http://127.0.0.1:$http"

build() {
  local jar="$here/target/depeche-opensearch-launcher-0.1.0.jar"
  if [[ -f "$jar" && "$jar" -nt "$here/pom.xml" && -z "$(find "$here/src" -newer "$jar" -print -quit)" ]]; then
    return
  fi
  # Offline first: after one online build Maven's local cache holds every jar.
  (cd "$here" && { mvn -q -o package 2>/dev/null || mvn -q package; })
}

running() { [[ -f "$home/$1.pid" ]] && kill -0 "$(cat "$home/$1.pid")" 2>/dev/null; }

health() { curl -s --max-time 2 "$url/_cluster/health" 2>/dev/null || true; }

# Launch node $1 (its number in ${nodes[@]} gives its ports) in the background; no waiting.
launch() {
  local n="$1" i=-1 k
  for k in "${!nodes[@]}"; do [[ "${nodes[$k]}" == "$n" ]] && i=$k; done
  if ((i < 0)); then echo "unknown node $n: one of ${nodes[*]}" >&2; exit 2; fi
  if running "$n"; then echo "$n already running (pid $(cat "$home/$n.pid"))"; return; fi
  local seeds="$transport,$((transport + 1))" managers
  managers="$(IFS=,; echo "${nodes[*]}")"
  mkdir -p "$home/$n"
  # Small heaps: the machine is shared. Serial GC: two cores, small heaps.
  nohup java -Xms256m -Xmx"$heap" -XX:+UseSerialGC -Xss1m -XX:MaxDirectMemorySize=128m -XX:ReservedCodeCacheSize=64m \
    -Djava.io.tmpdir="$home/$n" -Dlog4j2.disable.jmx=true -Dio.netty.allocator.numDirectArenas=0 \
    -Dopensearch.set.netty.runtime.available.processors=false \
    -cp "$here/target/classes:$here/target/lib/*" depeche.opensearch.ClusterNode \
    "$n" "$home/$n" $((http + i)) $((transport + i)) "$seeds" "$managers" >>"$home/$n.log" 2>&1 &
  echo $! >"$home/$n.pid"
}

start() {
  build
  mkdir -p "$home"
  for n in "${nodes[@]}"; do launch "$n"; done
  local t=0
  until health | grep -q '"status":"green".*"number_of_nodes":2\|"number_of_nodes":2.*"status":"green"'; do
    for n in "${nodes[@]}"; do
      if ! running "$n"; then echo "node $n died; its log: $home/$n.log" >&2; tail -20 "$home/$n.log" >&2; exit 1; fi
    done
    if ((t >= wait_s)); then echo "cluster not green after ${wait_s}s: $(health)" >&2; exit 1; fi
    sleep 2; t=$((t + 2))
  done
  echo "OpenSearch cluster green at $url ($(health | grep -o '"number_of_nodes":[0-9]*'))"
}

# The fault benchmark's tools: one node killed without warning (kill -9, as a crash or a pulled
# plug), then started again on its own data; neither waits for the cluster's health.
kill_node() {
  local n="$1"
  if ! running "$n"; then echo "$n is not running" >&2; exit 1; fi
  kill -9 "$(cat "$home/$n.pid")"
  rm -f "$home/$n.pid"
  echo "killed $n"
}

start_node() {
  # No build here: a restart measured by the fault benchmark must not wait for Maven.
  if [[ ! -f "$here/target/depeche-opensearch-launcher-0.1.0.jar" ]]; then echo "launcher not built: run start first" >&2; exit 1; fi
  mkdir -p "$home"
  launch "$1"
  echo "started $1 (pid $(cat "$home/$1.pid"))"
}

stop() {
  for n in "${nodes[@]}"; do
    if running "$n"; then
      local pid; pid="$(cat "$home/$n.pid")"
      kill "$pid"
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      echo "stopped $n"
    fi
    rm -f "$home/$n.pid"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) health; echo ;;
  kill-node) kill_node "${2:?usage: $0 kill-node n1|n2}" ;;
  start-node) start_node "${2:?usage: $0 start-node n1|n2}" ;;
  *) echo "usage: $0 start|stop|status|kill-node NODE|start-node NODE" >&2; exit 2 ;;
esac
