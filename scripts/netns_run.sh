#!/usr/bin/env bash
# One block point with every party in its own network namespace, over a shaped link per pair of
# parties: tc tbf limits each direction's bandwidth and a `marill relay` in the receiver's namespace
# adds the one-way latency (this kernel has no netem). The parties are `marill party` processes over
# ZeroMQ/CurveZMQ (docs/multihost.md). Needs root; creates and removes its own namespaces and links
# only. Exit status 77: namespaces cannot be made here (the caller may skip).
#
# usage: scripts/netns_run.sh --out DIR [--marill PATH] [--rate-mbit 400] [--delay-ms 20] [--timeout-ms 60000]
#                             -- POINT OPTIONS (those of `marill party`, with --setting 3pc or 2pc-dealer)
# Writes DIR/ROLE.{out,err,report}; prints one line per party: simulated online time and wall time.
set -euo pipefail
cd "$(dirname "$0")/.."

MARILL=build/marill OUT= RATE=400 DELAY=20 TIMEOUT_MS=60000
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --marill) MARILL=$2; shift 2 ;;
    --rate-mbit) RATE=$2; shift 2 ;;
    --delay-ms) DELAY=$2; shift 2 ;;
    --timeout-ms) TIMEOUT_MS=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "netns_run: unknown option '$1' (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
POINT=("$@")
[ -n "$OUT" ] || { echo "netns_run: --out DIR is required" >&2; exit 2; }
[ -x "$MARILL" ] || { echo "netns_run: $MARILL is not built (bash scripts/build.sh)" >&2; exit 2; }
SETTING=
for ((i = 0; i < ${#POINT[@]}; i++)); do [ "${POINT[$i]}" = --setting ] && SETTING=${POINT[$((i + 1))]:-}; done
case "$SETTING" in
  3pc) ROLES=(client server helper) ;;
  2pc-dealer) ROLES=(client server dealer) ;;
  *) echo "netns_run: the point needs --setting 3pc or 2pc-dealer (got '${SETTING}')" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ] || ! command -v ip > /dev/null || ! command -v tc > /dev/null; then
  echo "netns_run: needs root with ip and tc (iproute2): skipped" >&2; exit 77
fi

TAG="mr$$"  # interface names stay under 15 characters
NS=() PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
  for n in "${NS[@]}"; do ip netns del "$n" 2> /dev/null || true; done
}
trap cleanup EXIT
trap 'exit 143' TERM INT
if ! ip netns add "$TAG-probe" 2> /dev/null; then echo "netns_run: cannot create network namespaces here: skipped" >&2; exit 77; fi
ip netns del "$TAG-probe"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
for r in "${ROLES[@]}"; do
  ip netns add "$TAG-$r"
  NS+=("$TAG-$r")
  ip -n "$TAG-$r" link set lo up
done

# tbf: the burst must hold a GSO segment (64 KiB) and a timer tick's worth of bytes.
BURST=$((RATE * 1000000 / 8 / 250))
[ "$BURST" -ge 262144 ] || BURST=262144
declare -A ADDR  # ADDR[X,Y]: Y's address on the X-Y link
k=0
for ((i = 0; i < ${#ROLES[@]}; i++)); do
  for ((j = i + 1; j < ${#ROLES[@]}; j++)); do
    a=${ROLES[$i]} b=${ROLES[$j]} va="${TAG}p${k}a" vb="${TAG}p${k}b"
    ip link add "$va" type veth peer name "$vb"
    ip link set "$va" netns "$TAG-$a"
    ip link set "$vb" netns "$TAG-$b"
    ip -n "$TAG-$a" addr add "10.213.$k.1/24" dev "$va"
    ip -n "$TAG-$b" addr add "10.213.$k.2/24" dev "$vb"
    ip -n "$TAG-$a" link set "$va" up
    ip -n "$TAG-$b" link set "$vb" up
    ip netns exec "$TAG-$a" tc qdisc add dev "$va" root tbf rate "${RATE}mbit" burst "$BURST" latency 5s
    ip netns exec "$TAG-$b" tc qdisc add dev "$vb" root tbf rate "${RATE}mbit" burst "$BURST" latency 5s
    ADDR[$a,$b]="10.213.$k.2" ADDR[$b,$a]="10.213.$k.1"
    k=$((k + 1))
  done
done

# Keys and one hosts file per party: its own endpoint is its loopback; each peer's is the relay in
# that peer's namespace on their shared link.
rm -rf "$OUT/keys" && mkdir -p "$OUT/keys"  # fresh keys each run
for r in "${ROLES[@]}"; do "$MARILL" curve-keygen --out "$OUT/keys/$r" > /dev/null; done
for x in "${ROLES[@]}"; do
  {
    echo "parties:"
    for y in "${ROLES[@]}"; do
      if [ "$x" = "$y" ]; then ep="tcp://127.0.0.1:5601"; else ep="tcp://${ADDR[$x,$y]}:6000"; fi
      echo "  $y: {endpoint: \"$ep\", public_key: \"$(head -1 "$OUT/keys/$y.pub")\", secret_key_file: keys/$y.key}"
    done
  } > "$OUT/hosts-$x.yaml"
done
for y in "${ROLES[@]}"; do
  for x in "${ROLES[@]}"; do
    [ "$x" = "$y" ] && continue
    ip netns exec "$TAG-$y" "$MARILL" relay --listen "${ADDR[$x,$y]}:6000" --to 127.0.0.1:5601 --delay-ms "$DELAY" \
      > "$OUT/relay-$x-$y.log" 2>&1 &
    PIDS+=($!)
  done
done

PARTY_PIDS=()
for r in "${ROLES[@]}"; do
  ip netns exec "$TAG-$r" timeout $((TIMEOUT_MS / 1000 * 3 + 10)) "$MARILL" party --role "$r" --hosts "$OUT/hosts-$r.yaml" \
    --timeout-ms "$TIMEOUT_MS" --report "$OUT/$r.report" --net "custom:bw=${RATE}Mbit,lat=${DELAY}ms" "${POINT[@]}" \
    > "$OUT/$r.out" 2> "$OUT/$r.err" &
  PARTY_PIDS+=($!)
done
status=0
for i in "${!ROLES[@]}"; do
  if ! wait "${PARTY_PIDS[$i]}"; then
    status=1
    echo "netns_run: ${ROLES[$i]} failed: $(tail -1 "$OUT/${ROLES[$i]}.err")" >&2
  fi
done
# The dealer's time is offline (its clock is not the online one): compare client, server and helper.
printf '%-8s %12s %12s %8s\n' party simulated_s wall_s wall/sim
for r in "${ROLES[@]}"; do
  awk -v r="$r" '$1 == "online" {sim = $(NF-2)} $1 == "wall" {wall = $2}
    END {if (sim > 0 && wall != "") printf "%-8s %12.4f %12.4f %8.3f\n", r, sim, wall, wall / sim}' "$OUT/$r.out"
done
exit $status
