#!/usr/bin/env bash
# CTest netns_script (label netns): scripts/netns's bad-input and clean-up
# promises. Needs root; skips (77) without it unless CI is set.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
netns="$here/scripts/netns"
fail() { echo "FAIL: $*"; exit 1; }
if [ "$(id -u)" != 0 ]; then
  case "${CI:-}" in ""|0|false) echo "needs root; skipped"; exit 77 ;; *) fail "needs root (CI is set)" ;; esac
fi
tag="t$$"
tag="${tag:0:8}"
leftovers() { { ip netns list | grep "^swn$tag-"; ip -o link show | grep -E ": swn$tag(br|v)"; nft list tables 2>/dev/null | grep "swn$tag"; ls -d /run/swarm-netns/swn$tag 2>/dev/null; } || true; }

# Not root: one line, exit 1.
# (A world-readable copy: the clone may sit under a directory only root can enter.)
nonroot_copy="$(mktemp /tmp/swarm-netns-XXXXXX)"; cp "$netns" "$nonroot_copy"; chmod 755 "$nonroot_copy"
out="$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$nonroot_copy" up "$tag" --peers a:1 2>&1)"; rc=$?
rm -f "$nonroot_copy"
[ "$rc" = 1 ] || fail "non-root exit $rc"
[ "$(echo "$out" | wc -l)" = 1 ] && [[ "$out" == *"must run as root"* ]] || fail "non-root said: $out"

# A bridge name in use: one line naming it, nothing created.
ip link add "swn${tag}br" type bridge || fail "cannot make the test bridge"
out="$("$netns" up "$tag" --peers a:2 2>&1)"; rc=$?
ip link del "swn${tag}br"
[ "$rc" = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && [[ "$out" == *"'swn${tag}br' is in use"* ]] || fail "bridge in use: rc $rc: $out"
[ -z "$(leftovers)" ] || fail "left behind after a refused up: $(leftovers)"

# Bad arguments: one line naming the value.
out="$("$netns" up "$tag" --peers a:x 2>&1)"; [[ "$out" == *"'a:x' must be REGION:COUNT"* ]] || fail "bad --peers: $out"
out="$("$netns" up "$tag" --peers a:1 --rtt a=fast 2>&1)"; [[ "$out" == *"--rtt 'a=fast'"* ]] || fail "bad --rtt: $out"
[ -z "$(leftovers)" ] || fail "left behind after bad arguments: $(leftovers)"

# Up with every fault kind, then the owner dies (SIGKILL): the watchdog removes everything.
sleep 600 & owner=$!
disown "$owner"
"$netns" up "$tag" --peers a:2,b:1 --rtt a=4 --rtt a-b=60 --loss 1 --rate 50mbit --owner "$owner" \
  --swarm "${SWARM:-$here/build/swarm}" >/dev/null || fail "up failed"
[ "$(ip netns list | grep -c "^swn$tag-")" = 3 ] || fail "expected 3 namespaces"
out="$("$netns" partition "$tag" a nosuch 2>&1)"; [[ "$out" == *"'nosuch' is neither a peer nor a region"* ]] || fail "bad group: $out"
"$netns" partition "$tag" a b0 >/dev/null || fail "partition failed"
"$netns" status "$tag" | grep -q "drop" || fail "no drop rule after partition"
"$netns" heal "$tag" >/dev/null || fail "heal failed"
kill -KILL "$owner"
for _ in $(seq 60); do [ -z "$(leftovers)" ] && break; sleep 0.5; done
[ -z "$(leftovers)" ] || fail "the owner watchdog left: $(leftovers)"
echo "netns script: bad input refused with one line, nothing left behind after a refused up or a dead owner"
