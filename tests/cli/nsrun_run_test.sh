#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end through the real nsrun binary, as root and as unprivileged
# users: each flag does what unshare(1)/nsenter(1) would (checked through
# /proc/*/ns, ids, maps, hostname, mounts), exit statuses and signals pass
# through, --target joins a live process, --dry-run output encodes and
# decodes back to itself, errors are one line, and a terminal gets a pty.
#
# Needs root (it creates a test user with /etc/subuid ranges, and runs
# privileged cases). It fails, never skips, without it.
set -uo pipefail
nsrun_src=$1
refuse_calls=$(realpath "$2")  # a seccomp filter for an older kernel (tests/integration/refuse_calls.c)
source "$(dirname "$0")/assert.sh"

if [ "$(id -u)" != 0 ]; then
  echo "FAIL: nsrun_run_test needs root (run the test suite as root)"
  exit 1
fi

tmp=$(mktemp -d /tmp/nsrun-run-test.XXXXXX)
user=nsenter-cli-$$  # per run: two suites on one machine must not delete each other's user
started=()  # pids of background processes this test started
cleanup() {
  for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if id "$user" >/dev/null 2>&1; then
    # Under the lock the other suites' test users take (tests/support/subid_user.hpp).
    flock /etc sh -c "/usr/sbin/userdel '$user' 2>/dev/null; sed -i '/^$user:/d' /etc/subuid /etc/subgid"
  fi
  umount "$tmp/netns" 2>/dev/null
  for d in usr bin lib lib64 sbin; do mountpoint -q "$tmp/root/$d" 2>/dev/null && umount "$tmp/root/$d"; done
  for d in /sys/fs/cgroup/nsrun-test-$$ /sys/fs/cgroup/unified/nsrun-test-$$; do [ -d "$d" ] && rmdir "$d"; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# A run killed outright (Bazel's timeout sends SIGKILL) could not clean up:
# its user, named for a pid that no longer runs, goes now.
for stale in $(sed -n 's/^\(nsenter-cli-[0-9]*\):.*/\1/p' /etc/passwd); do
  [ -d "/proc/${stale#nsenter-cli-}" ] && continue
  flock /etc sh -c "/usr/sbin/userdel '$stale' 2>/dev/null; sed -i '/^$stale:/d' /etc/subuid /etc/subgid"
done

# A copy every user can execute (Bazel's runfiles live under root's home).
chmod 755 "$tmp"
nsrun=$tmp/nsrun
cp "$nsrun_src" "$nsrun"
chmod 755 "$nsrun"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --reset-env "$@"; }
ns() { readlink "/proc/$1/ns/$2"; }
# Runs nsrun without a terminal; prints stdout, stderr goes to $tmp/err.
run() { "$nsrun" --no-tty "$@" 2>"$tmp/err" </dev/null; }

report='echo uid=$(id -u) gid=$(id -g) pid=$$; for k in user pid mnt uts ipc net cgroup time; do echo $k=$(readlink /proc/self/ns/$k); done; echo uid_map=$(tr -s " " </proc/self/uid_map); echo gid_map=$(tr -s " " </proc/self/gid_map); echo setgroups=$(cat /proc/self/setgroups); read -r procpid rest </proc/self/stat; echo procpid=$procpid'
field() { sed -n "s/^$1=//p" <<<"$2"; }

# --- the default: rootless-capable user+pid+mnt+uts+ipc and a fresh /proc ----
for who in root nobody; do
  if [ $who = root ]; then out=$(run -- sh -c "$report"); else out=$(as_nobody "$nsrun" --no-tty -- sh -c "$report" 2>"$tmp/err" </dev/null); fi
  eq "default as $who: exit" 0 $?
  # pid 1 is the reaper, the command its child.
  eq "default as $who: uid 0 inside" "uid=0 gid=0 pid=2" "$(head -1 <<<"$out")"
  for k in user pid mnt uts ipc; do
    check "default as $who: new $k namespace" test "$(field $k "$out")" != "$(ns self $k)"
  done
  eq "default as $who: net shared" "$(ns self net)" "$(field net "$out")"
  # /proc is the new pid namespace's: it knows the shell by its pid there.
  # (Not through /proc/1: as root, pid 1 is a non-dumpable fork of nsrun,
  # whose ns links the container cannot read.)
  eq "default as $who: fresh /proc" "2" "$(field procpid "$out")"
  # ps shows the reaper by nsrun's name, not runc's (comm is readable even
  # where the ns links are not).
  if [ $who = root ]; then out=$(run -- cat /proc/1/comm); else out=$(as_nobody "$nsrun" --no-tty -- cat /proc/1/comm 2>"$tmp/err" </dev/null); fi
  eq "default as $who: pid 1 is nsrun:init" "nsrun:init" "$out"
done
eq "default as root: map" " 0 0 1" "$(field uid_map "$(run -- sh -c "$report")")"
out=$(as_nobody "$nsrun" --no-tty -- sh -c "$report" 2>/dev/null </dev/null)
eq "default as nobody: uid map" " 0 65534 1" "$(field uid_map "$out")"
eq "default as nobody: gid map" " 0 65534 1" "$(field gid_map "$out")"
eq "default as nobody: setgroups denied" deny "$(field setgroups "$out")"
# The mounts it made stayed in its namespace.
check "default: host /proc untouched" test "$(ls /proc | grep -c '^[0-9]')" -gt 2

# --- each creation flag -------------------------------------------------------
for flag in -U:user -p:pid -m:mnt -u:uts -i:ipc -n:net -C:cgroup -T:time --user:user --net:net; do
  opt=${flag%%:*} k=${flag##*:}
  out=$(run "$opt" -- sh -c "$report")
  eq "$opt: exit" 0 $?
  check "$opt: new $k namespace" test "$(field $k "$out")" != "$(ns self $k)"
  for other in user pid mnt uts ipc net cgroup time; do
    [ $other = $k ] && continue
    eq "$opt: $other namespace shared" "$(ns self $other)" "$(field $other "$out")"
  done
done
eq "-p: pid 2 under the reaper" "uid=0 gid=0 pid=2" "$(run -p -- sh -c "$report" | head -1)"
eq "-Urpm: clustered short options" "uid=0 gid=0 pid=1" "$(run -Urpm --no-reaper -- sh -c "$report" | head -1)"
eq "-p --no-reaper: pid 1" "uid=0 gid=0 pid=1" "$(run -p --no-reaper -- sh -c "$report" | head -1)"
eq "-p: the reaper is pid 1, the command's parent" "1" "$(run -p -- sh -c 'echo $PPID')"
# Orphans are reaped: a grandchild whose parent is gone leaves no zombie.
eq "-p: orphans reaped" "0" "$(run -p -m --mount-proc -- sh -c '(sleep 0.2 &) ; sleep 0.6; grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l')"
eq "-U as nobody: maps to root" "uid=0 gid=0 pid=1" \
  "$(as_nobody "$nsrun" --no-tty -U -p --no-reaper -- sh -c "$report" 2>/dev/null </dev/null | head -1)"
run -u -- sh -c 'hostname nsrun-test-host'
status=$?
eq "-u: exit ($(cat "$tmp/err"))" 0 $status
eq "-u: hostname stays inside" "$(cat /proc/sys/kernel/hostname)" "$(hostname)"
eq "-u: hostname set inside" nsrun-test-host "$(run -u -- sh -c 'hostname nsrun-test-host; hostname')"
mounted_inside=$(run -m -- sh -c "mount -t tmpfs none $tmp && grep -c ' $tmp ' /proc/self/mounts")
eq "-m: tmpfs mounted inside" 1 "$mounted_inside"
eq "-m: ... and not outside" 0 "$(grep -c " $tmp " /proc/self/mounts)"
eq "--mount-proc with -p -m" "1 sh" "$(run -p -m --mount-proc --no-reaper -- sh -c 'echo $$ $(cat /proc/1/comm)')"
eq "-T --monotonic/--boottime: offsets" "monotonic 1000 0;boottime 86400 500000000;" \
  "$(run --monotonic=1000 --boottime=86400.5 -- sh -c 'tr -s " " </proc/self/timens_offsets | tr "\n" ";"')"
up=$(run --boottime=86400 -- cut -d. -f1 /proc/uptime)
check "--boottime: uptime moved a day ahead" test "$up" -ge 86400
eq "--oom-score-adj" 512 "$(run -p --oom-score-adj=512 -- cat /proc/self/oom_score_adj)"

# --- id maps ----------------------------------------------------------------
eq "--map-current-user as nobody: yourself inside" "65534 65534 1" \
  "$(as_nobody "$nsrun" --no-tty --map-current-user -- sh -c 'tr -s " " </proc/self/uid_map | sed "s/^ //"' 2>/dev/null </dev/null)"
eq "--map-user/--map-group as nobody" "1000 2000" \
  "$(as_nobody "$nsrun" --no-tty --map-user=1000 --map-group=2000 -- sh -c 'echo $(id -u) $(id -g)' 2>/dev/null </dev/null)"
# A range nobody has no /etc/subuid entry for: newuidmap refuses it, and
# the one line says what to do (the launcher writes the maps itself here:
# nsrun starts its init directly).
err=$(as_nobody "$nsrun" --no-tty --map-users=0:100000:10 -- true 2>&1 </dev/null)
eq "--map-users refused as nobody: exit status" 125 "$?"
contains "--map-users refused as nobody: the hint" "ranges need /etc/subuid and --map-users" "$err"
err=$(as_nobody "$nsrun" --no-tty --map-user=0 --map-groups=0:100000:10 -- true 2>&1 </dev/null)
contains "--map-groups refused as nobody: the hint" "ranges need /etc/subgid and --map-groups" "$err"
out=$(run --map-users=0:100000:65536 --map-groups=0:100000:65536 -- sh -c "$report")
eq "--map-users as root: uid map" " 0 100000 65536" "$(field uid_map "$out")"
eq "--map-groups as root: gid map" " 0 100000 65536" "$(field gid_map "$out")"
# Unprivileged ranges go through newuidmap/newgidmap and /etc/subuid.
flock /etc sh -c "/usr/sbin/useradd --no-create-home --shell /usr/sbin/nologin '$user' &&
  echo '$user:400000:65536' >>/etc/subuid && echo '$user:400000:65536' >>/etc/subgid"
uid=$(id -u "$user")
gid=$(id -g "$user")
out=$(setpriv --reuid="$uid" --regid="$gid" --clear-groups --reset-env \
  "$nsrun" --no-tty --map-root-user --map-users=1:400000:65536 --map-groups=1:400000:65536 -- sh -c "$report" 2>"$tmp/err" </dev/null)
eq "--map-users via newuidmap: exit" 0 $?
eq "--map-users via newuidmap: uid map" " 0 $uid 1 1 400000 65536" "$(field uid_map "$out")"
eq "--map-groups via newgidmap: gid map" " 0 $gid 1 1 400000 65536" "$(field gid_map "$out")"
out=$(setpriv --reuid="$uid" --regid="$gid" --clear-groups --reset-env \
  "$nsrun" --no-tty --map-users=0:500000:10 -- true 2>&1 </dev/null)
eq "--map-users outside /etc/subuid: nsrun fails" 125 $?
contains "--map-users outside /etc/subuid: says the helper failed" "newuidmap" "$out"
# The caller's own ranges, read from /etc/subuid and /etc/subgid.
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups --reset-env "$nsrun" --no-tty "$@" 2>"$tmp/err" </dev/null; }
# (useradd may have given the user a range before the one added above: the
# first is the one these use.)
read -r sub_start sub_count < <(awk -F: -v u="$user" '$1==u {print $2, $3; exit}' /etc/subuid)
read -r subg_start subg_count < <(awk -F: -v u="$user" '$1==u {print $2, $3; exit}' /etc/subgid)
out=$(as_user --map-auto -- sh -c "$report")
eq "--map-auto: exit" 0 $?
eq "--map-auto: uid map, the first range from 0" " 0 $sub_start $sub_count" "$(field uid_map "$out")"
eq "--map-auto: gid map" " 0 $subg_start $subg_count" "$(field gid_map "$out")"
out=$(as_user -r --map-auto -- sh -c "$report")
eq "-r --map-auto: you at 0, a hole there" " 0 $uid 1 1 $((sub_start + 1)) $((sub_count - 1))" "$(field uid_map "$out")"
out=$(as_user --map-subids -- sh -c "$report")
eq "--map-subids: the range onto itself, you as yourself" " $uid $uid 1 $sub_start $sub_start $sub_count" "$(field uid_map "$out")"
eq "--map-subids: the command runs as you" "uid=$uid" "$(head -1 <<<"$out" | cut -d' ' -f1)"
out=$(as_user --map-users=400000,1,65536 -r -- sh -c "$report")
eq "unshare's OUTSIDE,INSIDE,COUNT: read in its order" " 0 $uid 1 1 400000 65536" "$(field uid_map "$out")"
as_nobody "$nsrun" --no-tty --map-auto -- true 2>"$tmp/err" </dev/null
eq "--map-auto without a range: a usage error" 2 $?
contains "--map-auto without a range: says whose" "/etc/subuid has no range for nobody, uid 65534" "$(cat "$tmp/err")"

# --- joining -------------------------------------------------------------------
unshare --uts --net --ipc sleep 1000 &
target=$!
started+=("$target")
for _ in $(seq 100); do [ "$(ns $target uts)" != "$(ns self uts)" ] && break; sleep 0.05; done
out=$(run -t "$target" -- sh -c "$report")
eq "-t: exit" 0 $?
for k in uts net ipc; do eq "-t: joins the target's $k" "$(ns $target $k)" "$(field $k "$out")"; done
eq "-t: keeps our mnt" "$(ns self mnt)" "$(field mnt "$out")"
out=$(run -t "$target" -u -- sh -c "$report")
eq "-t -u: joins only uts" "$(ns $target uts)" "$(field uts "$out")"
eq "-t -u: net not joined" "$(ns self net)" "$(field net "$out")"
# The joins are one setns(2) on a pidfd of the target, every kind at once:
# all or none; and on nsrun's own pidfd, the one that pinned the target,
# not one the init would open from the pid later. (strace: LeakSanitizer
# cannot run under ptrace.)
trace() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -y -qq -o "$tmp/trace" -e trace=setns,pidfd_open "$@"; }
trace "$nsrun" --no-tty -t "$target" -- true </dev/null 2>"$tmp/err"
eq "-t: exit under strace" 0 $?
eq "-t: one setns ($(cat "$tmp/trace"))" 1 "$(grep -c 'setns(' "$tmp/trace")"
eq "-t: one pidfd of the target, nsrun's" 1 "$(grep -c "pidfd_open($target," "$tmp/trace")"
contains "-t: on a pidfd, every kind" "setns(N<anon_inode:[pidfd]>, CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET) = 0" \
  "$(sed -E 's/setns\([0-9]+</setns(N</' "$tmp/trace")"
# Rootless: nobody joins its own sandbox the same way, and, its binary
# unwritable there (nobody's user namespace maps no root of ours), without
# a copy of nsrun.
setpriv --reuid=65534 --regid=65534 --clear-groups --reset-env unshare -U -r -u sh -c 'hostname nsrun-nobody; exec sleep 600' &
nobody_target=$!
started+=("$nobody_target")
for _ in $(seq 100); do [ "$(ns $nobody_target uts)" != "$(ns self uts)" ] && break; sleep 0.05; done
# (nobody's strace writes its trace to a pipe, the file being root's)
out=$(as_nobody env ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0} strace -f -y -qq -o '|cat >&3' -e trace=setns \
  "$nsrun" --no-tty --log-level=debug -t "$nobody_target" -- hostname 2>"$tmp/err" </dev/null 3>"$tmp/trace")
eq "-t as nobody: joins its sandbox ($(cat "$tmp/err"))" nsrun-nobody "$out"
# (strace cannot name the fd of nsrun's non-dumpable init for nobody; a
# namespace fd takes one kind, only a pidfd takes two in one call)
contains "-t as nobody: one setns on a pidfd" "setns(N, CLONE_NEWUTS|CLONE_NEWUSER) = 0" \
  "$(sed -E 's/setns\([0-9]+,/setns(N,/' "$tmp/trace")"
eq "-t as nobody: one setns" 1 "$(grep -c 'setns(' "$tmp/trace")"
contains "-t as nobody: no copy of nsrun" "the runtime says the container cannot write /proc/self/exe (0 bytes copied; checked)" "$(cat "$tmp/err")"
kill -KILL "$nobody_target"; wait "$nobody_target" 2>/dev/null
out=$(run --net=/proc/$target/ns/net -u -- sh -c "$report")
eq "--net=PATH: joins that net" "$(ns $target net)" "$(field net "$out")"
check "--net=PATH -u: and creates a uts" test "$(field uts "$out")" != "$(ns $target uts)"
# A namespace kept alive by a bind mount, as `ip netns` keeps them.
touch "$tmp/netns"
mount --bind "/proc/$target/ns/net" "$tmp/netns"
eq "--net=bind mount" "$(ns $target net)" "$(run --net="$tmp/netns" -- readlink /proc/self/ns/net)"
umount "$tmp/netns"

# --- the command's root, directory, ids; the mount propagation ---------------------
# A root of its own: the host's /usr bound read-only (and /bin, /lib, ...
# as they are here, links into it or binds), and a marker found only there.
mkdir -p "$tmp/root/sub" "$tmp/root/usr"
echo inside >"$tmp/root/marker"
mount --bind /usr "$tmp/root/usr" && mount -o remount,bind,ro "$tmp/root/usr"
for d in bin lib lib64 sbin; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$tmp/root/$d"
  elif [ -d "/$d" ]; then mkdir "$tmp/root/$d" && mount --bind "/$d" "$tmp/root/$d" && mount -o remount,bind,ro "$tmp/root/$d"; fi
done
chmod 755 "$tmp/root" "$tmp/root/sub"
for who in root nobody; do
  if [ $who = root ]; then
    in_root=$(run -R "$tmp/root" -w /sub -- /bin/sh -c 'cat /marker; pwd')
    wd=$(run -w /etc -- pwd)
  else
    in_root=$(as_nobody "$nsrun" --no-tty -R "$tmp/root" -w /sub -- /bin/sh -c 'cat /marker; pwd' 2>"$tmp/err" </dev/null)
    wd=$(as_nobody "$nsrun" --no-tty -w /etc -- pwd 2>"$tmp/err" </dev/null)
  fi
  eq "-R -w as $who: the command runs in the new root, in its directory" "inside
/sub" "$in_root"
  eq "-w as $who: the command's directory" /etc "$wd"
done
for d in usr bin lib lib64 sbin; do mountpoint -q "$tmp/root/$d" && umount "$tmp/root/$d"; done
run -R "$tmp/no-such-root" -- true
eq "-R to a missing directory: nsrun failed, the command not run" 125 $?
contains "-R to a missing directory: says which" "change the root directory: $tmp/no-such-root" "$(cat "$tmp/err")"
run -w /no-such-dir -- true
contains "-w to a missing directory: says which" "change the working directory: /no-such-dir" "$(cat "$tmp/err")"
# Ids: as root without a user namespace, any; nobody's sandbox maps only
# its root.
eq "-S -G as root: the command's ids, no other groups" "65534 65534 65534" \
  "$(run -n -S nobody -G 65534 -- sh -c 'echo $(id -u) $(id -g) $(id -G)')"
eq "-S -G as nobody: root of its sandbox" "0 0" "$(as_nobody "$nsrun" --no-tty -S 0 -G 0 -- sh -c 'echo $(id -u) $(id -g)' 2>/dev/null </dev/null)"
as_nobody "$nsrun" --no-tty -S 1 -- true 2>"$tmp/err" </dev/null
eq "-S to an unmapped uid: nsrun failed, the command not run" 125 $?
contains "-S to an unmapped uid: says which" "--setuid 1" "$(cat "$tmp/err")"
# --keep-caps: a command that is not uid 0 in its user namespace keeps what
# the namespace gives (ambient), through --map-user and through -S alike.
caps() { grep '^CapEff' | awk '{print $2}'; }
eq "--map-user without --keep-caps: no capabilities" 0000000000000000 "$(run --map-user=1000 -- cat /proc/self/status | caps)"
check "--map-user --keep-caps: capabilities kept" test "$(run --map-user=1000 --keep-caps -- cat /proc/self/status | caps)" != 0000000000000000
check "--map-user --keep-caps as nobody: kept" test \
  "$(as_nobody "$nsrun" --no-tty --map-user=1000 --keep-caps -- cat /proc/self/status 2>/dev/null </dev/null | caps)" != 0000000000000000
eq "-S 1 without --keep-caps: none" 0000000000000000 "$(run -U --map-users=0:100000:65536 -S 1 -- cat /proc/self/status | caps)"
check "-S 1 --keep-caps: kept across the setuid" test \
  "$(run -U --map-users=0:100000:65536 -S 1 --keep-caps -- cat /proc/self/status | caps)" != 0000000000000000
# Propagation: seen from inside, in a mount namespace of the test's own
# whose / is shared (the host's may be private): private has no tag, slave
# a master, shared a peer group of its own.
for prop in private slave shared; do
  line=$(unshare -m --propagation unchanged sh -c \
    "mount --make-rshared / && '$nsrun' --no-tty -m --propagation=$prop -- grep ' / / ' /proc/self/mountinfo" </dev/null)
  case $prop in
    private) check "--propagation=private: no peers" test -z "$(grep -oE '(shared|master):' <<<"$line")" ;;
    slave) contains "--propagation=slave: a slave" "master:" "$line" ;;
    shared) contains "--propagation=shared: shared" "shared:" "$line" ;;
  esac
done

# --- exit status and signals ---------------------------------------------------
run -- sh -c 'exit 7'
eq "exit status passes through" 7 $?
run -U -- sh -c 'kill -TERM $$'
eq "killed by SIGTERM: 128+15" 143 $?
# Signals sent to nsrun once the command runs (it touches $tmp/ready), so
# they go through the forwarding and not nsrun's own default action.
signal_case() {  # signal_case DESCRIPTION SIGNAL EXPECTED-STATUS NSRUN-ARGS...
  local what=$1 sig=$2 expected=$3
  shift 3
  rm -f "$tmp/ready"
  "$nsrun" --no-tty "$@" </dev/null 2>/dev/null &
  local pid=$!
  started+=("$pid")
  for _ in $(seq 400); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
  kill -"$sig" "$pid"
  wait "$pid"
  eq "$what" "$expected" $?
}
ready="touch $tmp/ready;"
for sig in TERM HUP INT; do
  signal_case "SIG$sig forwarded to the command" $sig $((128 + $(kill -l $sig))) -U -- sh -c "$ready exec sleep 1000"
done
# unshare 2.42's --forward-signals: what nsrun always does.
signal_case "--forward-signals: SIGTERM forwarded" TERM 143 --forward-signals -U -- sh -c "$ready exec sleep 1000"
# In a new pid namespace the reaper passes them on to a command that has
# no handler of its own.
for sig in TERM INT; do
  signal_case "SIG$sig reaches a command under the reaper" $sig $((128 + $(kill -l $sig))) -- sh -c "$ready exec sleep 1000"
done
# A signal sent while nsrun is still launching is held, then delivered:
# never dropped by a stage-2 pid 1 that has no handler yet. Sent at delays
# spread over a launch (about 10 ms here), some land in that window; a
# dropped one shows as the command ending by itself, with status 0.
for ms in 02 04 06 07 08 09 10 11 12 14 16 20; do
  # The subshell drops our EXIT trap: a SIGTERM that found it before its
  # exec (a loaded machine) ran the trap there, and cleanup() removed
  # $tmp under the rest of the test. The delay counts from nsrun's exec.
  (trap - EXIT; exec "$nsrun" --no-tty -- sleep 2 </dev/null 2>/dev/null) &
  pid=$!
  started+=("$pid")
  while [ "$(readlink "/proc/$pid/exe")" != "$nsrun" ] && kill -0 "$pid" 2>/dev/null; do :; done
  sleep 0.0$ms
  kill -TERM "$pid"
  wait "$pid"
  eq "SIGTERM $ms ms into the launch" 143 $?
done
# The command starts with the signal mask nsrun was started with.
eq "command's signal mask" "SigBlk: 0000000000000000" \
  "$(run -- sh -c 'grep SigBlk /proc/self/status | tr -s "\t" " "')"
eq "command's signal mask, no reaper" "SigBlk: 0000000000000000" \
  "$(run --no-reaper -U -- sh -c 'grep SigBlk /proc/self/status | tr -s "\t" " "')"
# Nothing ignored either: the reaper spawns the command (posix_spawn),
# whose child would leave glibc's own signals 32 and 33 ignored.
eq "command's ignored signals" "SigIgn: 0000000000000000" \
  "$(run -- sh -c 'grep SigIgn /proc/self/status | tr -s "\t" " "')"
eq "command's ignored signals, with a pty" "SigIgn: 0000000000000000" \
  "$(run --tty -- sh -c 'grep SigIgn /proc/self/status | tr -s "\t" " "' | tr -d '\r')"
# Without it the command is pid 1 and gets only the signals it handles.
signal_case "SIGTERM reaches a trapping pid 1" TERM 42 --no-reaper -- \
  sh -c "trap 'exit 42' TERM; $ready while :; do sleep 0.05; done"

# nsrun's own fds never take the place of a closed stdio fd.
eq "closed stdin stays closed" "closed" "$("$nsrun" --no-tty -- sh -c 'readlink /proc/self/fd/0 || echo closed' <&- 2>/dev/null)"

# --- errors ----------------------------------------------------------------------
out=$(run -- /nonexistent/cmd 2>&1)
eq "missing command: 127" 127 $?
eq "missing command: one line" "nsrun: nsexec-2: exec: /nonexistent/cmd: No such file or directory" "$(cat "$tmp/err")"
run --net=/nonexistent/ns -- true
eq "missing namespace file: 125" 125 $?
eq "missing namespace file: one line" 1 "$(wc -l <"$tmp/err")"
contains "missing namespace file: names it" "/nonexistent/ns: No such file or directory" "$(cat "$tmp/err")"
out=$(as_nobody "$nsrun" --no-tty -n -- true 2>&1 </dev/null)
eq "-n as nobody: 125" 125 $?
contains "-n as nobody: says what to try" "add -U" "$out"
# With user namespaces disabled, the error names the sysctl. Disabled only
# inside a user namespace of our own (the limit is per user namespace), so
# nothing else on the machine notices.
out=$(run --map-users=0:100000:65536 --map-groups=0:100000:65536 -- sh -c \
  "echo 0 >/proc/sys/user/max_user_namespaces && setpriv --reuid=1000 --regid=1000 --clear-groups $nsrun --no-tty -- true 2>&1; echo exit=\$?")
contains "user namespaces disabled: 125" "exit=125" "$out"
contains "user namespaces disabled: names the sysctl" "(user namespaces are disabled: sysctl -w user.max_user_namespaces=" "$out"
run --bogus
eq "unknown option: 2" 2 $?
contains "unknown option: named" "unknown option '--bogus'" "$(cat "$tmp/err")"
run -U --mount-proc -- true
eq "--mount-proc without -p -m: 2" 2 $?
run -t 999999999 -- true
eq "-t of no process: 2" 2 $?
run --map-users=1:2 -- true
eq "bad --map-users: 2" 2 $?

# Map errors are usage errors naming the flag, not the encoder's words.
for bad in "--map-users=0:100000:10 --map-users=5:200000:10" "--map-users=0:100000:0" "--map-user=4294967295"; do
  # shellcheck disable=SC2086
  run $bad -- true
  eq "$bad: usage error" 2 $?
  contains "$bad: names the flag" "nsrun: --map-user/--map-users: " "$(cat "$tmp/err")"
done
run --kill-child=NOSUCH -- true
eq "--kill-child with a bad signal: 2" 2 $?

# --- -t whose pid is reused before the init joins ------------------------------------
# A target that exits between nsrun's look at it and the init's join, a
# newcomer on its pid, must not have the command run in the newcomer's
# namespaces. nsrun pins the target (a pidfd) and the init joins through
# that pidfd, which names the target and nothing else: the join fails. On
# a kernel before 5.8, whose setns took no pidfd, the init joins path by
# path, and stage 2's look at the pin is what keeps the command from
# running.
command -v strace >/dev/null || fail "-t reuse: strace is not installed (tools/setup.sh installs it)"

# reuse_race NAME STRETCH COMMAND...: a target with new uts and ipc
# namespaces; COMMAND (nsrun, or what runs it) -t of it under strace, which
# stretches the init's join (STRETCH: "setns" delays its setns, "uts-open"
# its open of the target's uts link); the target killed once the init has
# begun, and a newcomer put on its pid through ns_last_pid. Sets $status
# and $out (nsrun's exit status and output).
reuse_race() {
  local name=$1 stretch=$2 victim tracer newcomer=
  shift 2
  unshare -u -i sh -c 'hostname nsrun-target; exec sleep 600' &
  victim=$!
  started+=("$victim")
  for _ in $(seq 100); do [ "$(ns $victim ipc)" != "$(ns self ipc)" ] && break; sleep 0.05; done
  local delay=(-e trace=setns -e inject=setns:delay_enter=3000000)
  [ "$stretch" = uts-open ] && delay=(-P "/proc/$victim/ns/uts" -e trace=openat -e inject=openat:delay_enter=3000000)
  # (LeakSanitizer cannot run under ptrace: off for this one run in the
  # sanitizer build, meaningless elsewhere.)
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -o /dev/null "${delay[@]}" \
    "$@" --no-tty -t "$victim" -- hostname >"$tmp/reuse.out" 2>&1 </dev/null &
  tracer=$!
  started+=("$tracer")
  # The init has begun its joins once its stage 0 carries its name.
  for _ in $(seq 400); do grep -qx 'nsrun:parent' /proc/[0-9]*/comm 2>/dev/null && break; sleep 0.01; done
  kill -KILL "$victim"; wait "$victim" 2>/dev/null
  for _ in 1 2 3 4 5; do
    echo $((victim - 1)) >/proc/sys/kernel/ns_last_pid
    unshare -u -i sh -c 'hostname nsrun-newcomer; exec sleep 600' &
    newcomer=$!
    started+=("$newcomer")
    [ "$newcomer" = "$victim" ] && break
  done
  eq "$name: a newcomer on the target's pid" "$victim" "$newcomer"
  wait "$tracer"
  status=$?
  out=$(cat "$tmp/reuse.out")
  check "$name: the command never ran in the newcomer's namespaces ($out)" test "${out/nsrun-newcomer/}" = "$out"
  race_victim=$victim
}

reuse_race "-t reuse" setns "$nsrun"
eq "-t reuse: nsrun fails" 125 $status
contains "-t reuse: says why" "the --target process $race_victim exited before the init joined its namespaces" "$out"
# The kernel before 5.8 simulated: a setns naming two kinds fails with
# EINVAL (refuse_calls' setns_pidfd).
export NSENTER_TEST_EXEC=$nsrun NSENTER_TEST_REFUSE=setns_pidfd
reuse_race "-t reuse before 5.8" uts-open "$refuse_calls"
eq "-t reuse before 5.8: nsrun fails" 125 $status
contains "-t reuse before 5.8: says why" "the --target process exited while the init joined its namespaces" "$out"
# And without the race, the fallback joins: one setns per kind.
unshare -u -i sh -c 'hostname nsrun-old-kernel; exec sleep 600' &
old_kernel_target=$!
started+=("$old_kernel_target")
for _ in $(seq 100); do [ "$(ns $old_kernel_target ipc)" != "$(ns self ipc)" ] && break; sleep 0.05; done
out=$("$refuse_calls" --no-tty -t "$old_kernel_target" -- hostname 2>&1 </dev/null)
eq "-t before 5.8: joins path by path ($out)" nsrun-old-kernel "$out"
unset NSENTER_TEST_EXEC NSENTER_TEST_REFUSE
kill -KILL "$old_kernel_target"; wait "$old_kernel_target" 2>/dev/null

# --- -t of a process that shares all our namespaces --------------------------------
# nsenter -t PID -a runs in the target's namespaces, here ours: never a new
# sandbox.
eq "-t of a process sharing ours: nothing created" "{}" "$("$nsrun" --dry-run -t $$)"
out=$(run -t $$ -- sh -c "$report")
eq "-t of a process sharing ours: exit" 0 $?
for k in user pid mnt uts ipc net; do
  eq "-t of a process sharing ours: same $k" "$(ns self $k)" "$(field $k "$out")"
done

# --- -t PID:INODE: the process itself, not whoever has its pid ----------------------
# The inode of a pidfd (pidfs) names one process for the life of the system.
unshare -u sh -c 'hostname nsrun-pinned; exec sleep 600' &
pinned=$!
started+=("$pinned")
for _ in $(seq 100); do [ "$(ns $pinned uts)" != "$(ns self uts)" ] && break; sleep 0.05; done
inode=$(python3 -c "import os, sys; print(os.fstat(os.pidfd_open(int(sys.argv[1]))).st_ino)" "$pinned")
eq "-t PID:INODE: joins the process" nsrun-pinned "$(run -t "$pinned:$inode" -- hostname)"
run -t "$pinned:$((inode + 1))" -- hostname
eq "-t PID:INODE of another process: nsrun fails" 125 $?
contains "-t PID:INODE of another process: says so" "pid $pinned is another process (its pidfd's inode is $inode)" "$(cat "$tmp/err")"
eq "-t PID:INODE where nothing is joined: checked too" 125 "$(run -t "$$:1" -- true; echo $?)"
kill -KILL "$pinned"; wait "$pinned" 2>/dev/null

# --- -t --env, -t --join-cgroup, --setgroups ------------------------------------------
# (the filesystem type is the field after the "-" that ends the optional ones)
v2=$(awk '{for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break }}' /proc/self/mountinfo)
check "a cgroup v2 hierarchy is mounted" test -n "$v2"
cg="$v2/nsrun-test-$$"
mkdir "$cg"
env -i FROM_TARGET=yes PATH=/usr/bin:/bin sh -c "echo \$\$ >'$cg/cgroup.procs'; exec unshare -u sleep 600" &
holder=$!
started+=("$holder")
for _ in $(seq 100); do [ "$(ns $holder uts)" != "$(ns self uts)" ] && break; sleep 0.05; done
out=$(run -t "$holder" -e -- sh -c 'echo "$FROM_TARGET ${HOME:-unset}"')
eq "-t --env: the target's environment, not ours" "yes unset" "$out"
out=$(run -t "$holder" -c -- sh -c 'grep "^0::" /proc/self/cgroup')
eq "-t --join-cgroup: the target's cgroup" "0::/nsrun-test-$$" "$out"
eq "-t without --join-cgroup: ours" "$(grep '^0::' /proc/self/cgroup)" "$(run -t "$holder" -- grep '^0::' /proc/self/cgroup)"
# Where nsrun sees no cgroup2 mount (a mount namespace without one), it
# says so and runs nothing, rather than leave the command in its own.
out=$(unshare -m --propagation private sh -c 'findmnt -rn -t cgroup2 -o TARGET | while read -r m; do umount -l "$m"; done
  exec "$1" --no-tty -t "$2" -c -- echo ran 2>&1 </dev/null' sh "$nsrun" "$holder")
eq "-t --join-cgroup without a cgroup2 mount: exit" 125 $?
contains "-t --join-cgroup without a cgroup2 mount: says so" "no cgroup v2 hierarchy to join" "$out"
check "-t --join-cgroup without a cgroup2 mount: the command did not run ($out)" test "${out/ran/}" = "$out"
kill -KILL "$holder"; wait "$holder" 2>/dev/null
rmdir "$cg"
eq "--setgroups=deny as root" deny "$(run -U --setgroups=deny -- cat /proc/self/setgroups)"
eq "-U as root: setgroups allowed" allow "$(run -U -- cat /proc/self/setgroups)"
as_nobody "$nsrun" --no-tty -U --setgroups=allow -- true 2>"$tmp/err" </dev/null
eq "--setgroups=allow as nobody without a gid range: a usage error" 2 $?

# --- fds: only stdio and --preserve-fds reach the command ---------------------------
fds='echo $(ls /proc/self/fd | sort -n)'
eq "fds the caller leaked stay out" "0 1 2 3" "$(run -- sh -c "$fds" 7</etc/hostname 9</etc/hostname)"
# Nor do they, or nsrun's own (signalfd, pipes), reach the pid-1 reaper, a
# fork of nsrun rather than an exec: rootless it stays dumpable, so the
# command can list its fds.
eq "the forked reaper holds stdio only" "0 1 2" \
  "$(as_nobody "$nsrun" --no-tty -- sh -c 'echo $(ls /proc/1/fd | sort -n)' 7</etc/hostname 9</etc/hostname 2>/dev/null </dev/null)"
eq "--preserve-fds=2 keeps 3 and 4" "0 1 2 3 4 5" \
  "$(run --preserve-fds=2 -- sh -c "$fds" 3</etc/hostname 4</etc/hostname 7</etc/hostname)"
eq "--preserve-fds: the same files" "/etc/hostname" "$(run --preserve-fds=1 -- readlink /proc/self/fd/3 3</etc/hostname)"
# (As a runc-protocol init under a parent that leaks fds: init_protocol_test.)

# --- --kill-child: the container dies with nsrun ------------------------------------
# The command's pid, in our pid namespace, by the unique argument it runs.
pid_of() { pgrep -f "^sleep $1\$" || true; }
gone() {  # gone MARKER: true once no process runs `sleep MARKER` (hang guard 10 s)
  for _ in $(seq 200); do [ -z "$(pid_of "$1")" ] && return 0; sleep 0.05; done
  return 1
}
for variant in "--kill-child" "--kill-child=TERM" "--kill-child -U --no-reaper"; do
  marker=1000.$RANDOM$RANDOM
  rm -f "$tmp/ready"
  # shellcheck disable=SC2086
  "$nsrun" --no-tty $variant -- sh -c "touch $tmp/ready; exec sleep $marker" </dev/null 2>/dev/null &
  pid=$!
  started+=("$pid")
  for _ in $(seq 400); do [ -e "$tmp/ready" ] && [ -n "$(pid_of $marker)" ] && break; sleep 0.05; done
  check "$variant: the command runs" test -n "$(pid_of $marker)"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  check "$variant: SIGKILL of nsrun ends the command" gone "$marker"
  for p in $(pid_of "$marker"); do kill -KILL "$p"; done
done
# Killed at any point of the launch, nothing of it lives on: before stage
# 2 armed the signal, stage 0 sees the runtime gone and kills what it made.
for ms in 00 01 02 03 04 05 06 07 08 09 10 12 14 16 20 30; do
  marker=2000.$RANDOM$RANDOM
  "$nsrun" --no-tty --kill-child -- sleep "$marker" </dev/null 2>/dev/null &
  pid=$!
  started+=("$pid")
  sleep 0.0$ms
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  check "SIGKILL of nsrun $ms ms into the launch: nothing left" gone "$marker"
  for p in $(pid_of "$marker"); do kill -KILL "$p"; done
done

# --- --dry-run: JSON that encodes and decodes back to itself --------------------
for args in "" "-U -p -n --oom-score-adj=-100" "--map-users=0:100000:65536 -m" "-t $target" "--net=/proc/$target/ns/net -u"; do
  # shellcheck disable=SC2086
  json=$("$nsrun" --dry-run $args)
  eq "--dry-run $args: exit" 0 $?
  eq "--dry-run $args: round trip" "$json" "$("$nsrun" encode <<<"$json" | "$nsrun" decode)"
done
json=$("$nsrun" --dry-run --monotonic=5)
eq "--dry-run with offsets: runc-1.2 round trip" "$json" \
  "$("$nsrun" encode --profile=runc-1.2 <<<"$json" | "$nsrun" decode --profile=runc-1.2)"
contains "--dry-run: default is user+pid+mnt+uts+ipc" '"clone_flags": 1006764032' "$("$nsrun" --dry-run)"

# --- log records, help, version ----------------------------------------------------
run --log-level=debug -- true
# Nothing joined, nothing protected: nsrun clones its init straight into
# the namespaces (a direct start), so stage 2 is the only stage.
contains "--log-level=debug: stage 2's records" "nsrun: debug nsexec-2[" "$(cat "$tmp/err")"
contains "--log-level=debug: a direct start" "started directly by the runtime" "$(cat "$tmp/err")"
contains "--log-level=debug: who wrote the maps" "started directly, no stage 0 or 1; nsrun wrote its maps in " "$(cat "$tmp/err")"
contains "--log-level=debug: the start broken down" "start (us): boot " "$(cat "$tmp/err")"
# A join as root must be protected (the target's processes could reach the
# init, and its root is ours): forked all the same, the init moves in
# place onto a read-only mount of the binary instead of being exec'd from it.
run --log-level=debug -t "$target" -- true
eq "-t as root: exit" 0 $?
contains "-t as root: protected in place" "protected in place: /proc/self/exe moved onto the runtime's read-only view of itself (0 bytes copied, no re-exec)" "$(cat "$tmp/err")"
contains "-t as root: no exec of the init" "runs from a fork of the launcher, moved onto a read-only mount of the binary (no exec)" "$(cat "$tmp/err")"
run --log-level=info -- true
eq "--log-level=info: no timing" "" "$(grep -o 'start (us)' "$tmp/err")"
contains "--help" "--map-users=INSIDE:OUTSIDE:COUNT" "$("$nsrun" --help)"
contains "--version" "nsrun " "$("$nsrun" --version)"

# --- a terminal: the command gets its own pty and leads its foreground group ----
out=$(script -qec "$nsrun -- sh -c 'tty; ps -o pgid=,tpgid= -p \$\$; stty size'" /dev/null </dev/null)
contains "pty: the command's terminal is a new pty" "/dev/pts/" "$out"
fg=$(grep -E '^ *[0-9]+ +[0-9]+' <<<"$out" | head -1 | tr -s ' ' | sed 's/^ //; s/\r//')
eq "pty: the command's group is the terminal's foreground" "2 2" "$fg"
# Ctrl-C typed on the terminal reaches the command (the pty's foreground
# group), not the reaper; a Ctrl-Z before it is discarded (the command's
# group is orphaned, as without the reaper), not a stop that nothing would
# ever resume (that would hang here until Bazel's timeout fails the test).
out=$( (sleep 1; printf '\032'; sleep 0.5; printf '\003'; sleep 2) | script -qec "$nsrun -- sleep 10" /dev/null)
status=$?
eq "pty: Ctrl-Z discarded, Ctrl-C ends the command: 130 ($out)" 130 $status
# --tty with piped input: its end becomes end of file on the pty.
out=$(printf 'piped line\n' | "$nsrun" --tty -- cat 2>&1)
status=$?
eq "--tty with piped stdin: exit" 0 $status
contains "--tty with piped stdin: the command read it" "piped line" "$out"
# On a terminal, but with stdout redirected: no pty, so no \r\n in the file.
script -qec "$nsrun -- sh -c 'echo plain; [ -t 1 ] || echo notty' > $tmp/redirected" /dev/null </dev/null >/dev/null
eq "stdout redirected: no pty" "$(printf 'plain\nnotty')" "$(cat "$tmp/redirected")"
out=$(script -qec "$nsrun -- sh -c 'exit 3'" /dev/null </dev/null)
status=$?
eq "pty: exit status passes through ($out)" 3 $status

# --- nothing left behind ------------------------------------------------------------
for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
started=()
eq "no nsrun left running" "" "$(pgrep -f "^$nsrun" || true)"

finish nsrun_run_test
