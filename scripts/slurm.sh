#!/usr/bin/env bash
# A throwaway one-node SLURM cluster for the tests and benchmarks (issue 16): slurmctld and slurmd with their own
# config, state, spool, logs and ports under DIR, authenticated by the machine's munged (started when it is not
# running), without systemd. It coexists with other such clusters on one machine (the shared dev cluster uses
# ports 6917/6918): pick other ports.
#
#   scripts/slurm.sh start DIR [CTLD_PORT SLURMD_PORT]   prints the path of its slurm.conf (export it as SLURM_CONF)
#   scripts/slurm.sh stop DIR                            cancels its jobs, stops its daemons by PID
#
# Installs Debian's slurm-wlm and munge when they are missing (as root). The steps are those of
# ../shared/slurm-one-node.md.
set -euo pipefail

usage() {
    echo "usage: scripts/slurm.sh start DIR [CTLD_PORT SLURMD_PORT] | stop DIR" >&2
    exit 2
}
[ $# -ge 2 ] || usage
action=$1
dir=$2
ctld_port=${3:-6937}
slurmd_port=${4:-6938}

# Stops the process whose pid is in FILE (if it runs), waiting up to 10 s, then SIGKILL.
stop_pid_file() {
    local file=$1 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

case "$action" in
start)
    if ! command -v slurmctld >/dev/null 2>&1 && [ ! -x /usr/sbin/slurmctld ] || ! command -v munge >/dev/null 2>&1; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "error: SLURM is not installed; install it with: sudo apt-get install -y slurm-wlm munge" >&2
            exit 1
        fi
        echo "==> installing slurm-wlm and munge" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: scripts/slurm.sh starts slurmd, which must run as root" >&2
        exit 1
    fi
    # The daemons outlive this script: close every descriptor but 0-2 first, so they hold none of the caller's
    # pipes open (a caller reading our output to its end would otherwise wait for them).
    for fd in /proc/$$/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    conf="$dir/slurm.conf"
    if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
        echo "$conf"
        exit 0
    fi
    mkdir -p "$dir/ctld" "$dir/d" "$dir/log"

    # munged: one per machine, shared by every cluster on it; started (and later stopped) only when none runs.
    if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
        [ -f /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1 || \
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
        chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
        chmod 400 /etc/munge/munge.key
        su -s /bin/sh munge -c /usr/sbin/munged
        for _ in $(seq 1 50); do
            munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
            sleep 0.1
        done
        cat /run/munge/munged.pid > "$dir/munged.pid" 2>/dev/null || pgrep -n -u munge -x munged > "$dir/munged.pid" || true
    fi

    host=$(hostname -s)
    cpus=$(nproc)
    memory=$(awk '/MemTotal/ { printf "%d", $2 / 1024 / 2 }' /proc/meminfo)
    cat >"$conf" <<CONF
ClusterName=quill$(printf '%s' "$dir" | cksum | cut -c1-6)
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$conf"
    /usr/sbin/slurmctld -f "$conf" </dev/null
    /usr/sbin/slurmd -f "$conf" </dev/null
    for _ in $(seq 1 150); do
        state=$(sinfo --noheader --format=%t 2>/dev/null | head -1 || true)
        case "$state" in idle | mix | alloc) echo "$conf"; exit 0 ;; esac
        sleep 0.2
    done
    echo "error: the SLURM cluster in $dir did not come up within 30 s (node state '${state:-none}'); logs in $dir/log" >&2
    tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 2>/dev/null || true
    exit 1
    ;;
stop)
    [ -d "$dir" ] || exit 0
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/slurm.conf" ] && [ -f "$dir/slurmctld.pid" ]; then
        SLURM_CONF="$dir/slurm.conf" timeout 10 scancel --user="$(id -un)" 2>/dev/null || true
        # Give the cancelled jobs' steps a moment to end while slurmd still runs to reap them.
        for _ in $(seq 1 50); do
            [ -z "$(SLURM_CONF="$dir/slurm.conf" timeout 5 squeue --noheader --states=RUNNING,COMPLETING 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop_pid_file "$dir/slurmd.pid"
    stop_pid_file "$dir/slurmctld.pid"
    stop_pid_file "$dir/munged.pid"
    ;;
*)
    usage
    ;;
esac
