#!/usr/bin/env python3
"""Edge runtime footprint: proportional set size (PSS, /proc/PID/smaps_rollup, so shared
library pages are not counted three times) of iotedged + edgeAgent + edgeHub, idle and while
sensors send a target rate through a route to $upstream; and the time from starting iotedged
to the first module message at the hub.

    bench/edge_memory.py [--bin .build-release/release] [--rate 1000] [--seconds 30]

Needs root (ports 8883 and 443 on 127.0.0.52 and 127.0.0.53). Prints one table; writes nothing
but its temporary directory, which it removes."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pids_of(bin_dir: Path, name: str) -> list[int]:
    """The processes running program `name`: argv[0]'s basename is the name (iotedged starts
    edgeAgent and edgeHub from its own executable as argv[0] `edge-agent` and `edge-hub`), and
    the executable is one of bin_dir's (so a runtime of another build is not counted)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
            exe = Path(os.readlink(entry / "exe"))
        except OSError:
            continue
        if os.path.basename(argv0) == name and exe.parent == bin_dir:
            pids.append(int(entry.name))
    return pids


def smaps_breakdown(pid: int) -> dict[str, int]:
    """KiB of Pss by what is mapped (the process's executable, other files, anonymous memory),
    plus the executable's resident size and the process's Private_Dirty."""
    out = {"exe": 0, "exe_rss": 0, "files": 0, "anon": 0, "dirty": 0}
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        text = Path(f"/proc/{pid}/smaps").read_text()
    except OSError:
        return out
    kind = "anon"
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if not fields[0].endswith(":"):  # a mapping: address perms offset dev inode [path]
            path = fields[5] if len(fields) > 5 else ""
            kind = "exe" if path == exe else "files" if path.startswith("/") else "anon"
        elif fields[0] == "Pss:":
            out[kind] += int(fields[1])
        elif fields[0] == "Rss:" and kind == "exe":
            out["exe_rss"] += int(fields[1])
        elif fields[0] == "Private_Dirty:":
            out["dirty"] += int(fields[1])
    return out


def rollup_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def working_set(pids: dict[str, list[int]], seconds: float) -> dict[str, int]:
    """KiB each program touched in `seconds`: its pages' accessed bits are cleared
    (/proc/PID/clear_refs), and smaps then counts as Referenced what was used since. Resident
    pages outside it were touched at start-up or mapped around a fault, not used while idle."""
    for plist in pids.values():
        for pid in plist:
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("1")
            except OSError:
                pass
    time.sleep(seconds)
    return {name: sum(rollup_kib(p, "Referenced") for p in plist) for name, plist in pids.items()}


def runtime_pss(bin_dir: Path) -> dict[str, int]:
    return {name: sum(pss_kib(p) for p in pids_of(bin_dir, name)) for name in ("iotedged", "edge-agent", "edge-hub")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(REPO / ".build-release" / "release"), help="directory of the binaries")
    ap.add_argument("--rate", type=int, default=1000, help="messages per second in the load phase")
    ap.add_argument("--seconds", type=int, default=30, help="length of the idle and load phases")
    ap.add_argument("--sensors", type=int, default=4, help="sensor modules sharing the rate")
    ap.add_argument("--working-set-seconds", type=float, default=10, help="idle time over which the pages used are counted")
    ap.add_argument("--keep-startup-pages", action="store_true",
                    help="OUTPOST_STARTUP_PAGES=keep for the three and the sensors: leave mapped what they touched while starting")
    ap.add_argument("--low-memory", action="store_true", help="run edgeHub with OptimizeForPerformance=false")
    args = ap.parse_args()
    bin_dir = Path(args.bin).resolve()
    for name in ("iothub", "iotedged", "edge-agent", "edge-hub", "simulated-temperature-sensor"):
        if not (bin_dir / name).exists():
            print(f"{bin_dir / name} is missing: build with swift build -c release --scratch-path .build-release", file=sys.stderr)
            return 2
    # A binary just built or copied has dirty page-cache pages, which smaps counts as
    # Private_Dirty until they are written back.
    os.sync()
    work = Path(tempfile.mkdtemp(prefix="edge-bench-"))
    host, gateway = "127.0.0.52", "127.0.0.53"
    procs: list[subprocess.Popen] = []
    iothub = str(bin_dir / "iothub")

    def cli(*a: str) -> str:
        return subprocess.run([iothub, *a, "--data-dir", str(work / "hub")], check=True, capture_output=True, text=True).stdout

    try:
        procs.append(subprocess.Popen([iothub, "serve", "--data-dir", str(work / "hub"), "--host", host, "--metrics-port", "0"],
                                      stdout=open(work / "hub.log", "wb"), stderr=subprocess.STDOUT))
        for _ in range(200):
            if b"listening" in (work / "hub.log").read_bytes():
                break
            time.sleep(0.1)
        cs = json.loads(cli("edge", "create", "bench-edge", "--json"))["connectionString"]
        interval = args.sensors / args.rate
        modules = {f"sensor{i}": {"type": "process", "status": "running", "restartPolicy": "on-failure",
                                  "settings": {"image": "simulated-temperature-sensor"},
                                  "env": {"SendInterval": {"value": "1"},
                                          # The sensors share the Swift libraries' pages: they keep theirs too, or
                                          # the three would carry a larger share of those pages.
                                          **({"OUTPOST_STARTUP_PAGES": {"value": "keep"}} if args.keep_startup_pages else {})}}
                   for i in range(args.sensors)}
        manifest = {"modulesContent": {
            "$edgeAgent": {"properties.desired": {"schemaVersion": "1.1", "runtime": {"type": "process", "settings": {}},
                "systemModules": {"edgeAgent": {"type": "process", "settings": {"image": "edge-agent"}},
                                  "edgeHub": {"type": "process", "status": "running", "restartPolicy": "always",
                                              "settings": {"image": "edge-hub"}, "env": {"OUTPOST_EDGEHUB_METRICS_PORT": {"value": "0"},
                                                      **({"OUTPOST_STARTUP_PAGES": {"value": "keep"}} if args.keep_startup_pages else {}),
                                                      **({"OptimizeForPerformance": {"value": "false"}} if args.low_memory else {})}}},
                "modules": modules}},
            "$edgeHub": {"properties.desired": {"schemaVersion": "1.1", "routes": {"up": "FROM /messages/modules/* INTO $upstream"},
                                                "storeAndForwardConfiguration": {"timeToLiveSecs": 7200}}}}}
        (work / "deployment.json").write_text(json.dumps(manifest))
        cli("edge", "set-modules", "bench-edge", "--content", str(work / "deployment.json"))
        edge = work / "edge"
        edge.mkdir()
        (edge / "config.toml").write_text(f'''hostname = "{gateway}"
homedir = "{edge / 'data'}"
trust_bundle_cert = "file://{work / 'hub' / 'ca.pem'}"
[provisioning]
source = "manual"
connection_string = "{cs}"
[agent]
name = "edgeAgent"
type = "process"
[agent.config]
image = "edge-agent"
[agent.env]
{'OUTPOST_STARTUP_PAGES = "keep"' if args.keep_startup_pages else ''}
[connect]
management_uri = "unix://{edge / 'mgmt.sock'}"
workload_uri = "unix://{edge / 'workload.sock'}"
[listen]
management_uri = "unix://{edge / 'mgmt.sock'}"
workload_uri = "unix://{edge / 'workload.sock'}"
''')
        started = time.monotonic()
        daemon_env = dict(os.environ, **({"OUTPOST_STARTUP_PAGES": "keep"} if args.keep_startup_pages else {}))
        procs.append(subprocess.Popen([str(bin_dir / "iotedged"), "--config", str(edge / "config.toml")], env=daemon_env,
                                      stdout=open(work / "iotedged.log", "wb"), stderr=subprocess.STDOUT))
        subprocess.run([iothub, "monitor-events", "--data-dir", str(work / "hub"), "--device", "bench-edge", "--count", "1",
                        "--timeout", "120"], check=True, capture_output=True)
        first_message = time.monotonic() - started

        # Settle at one message a second per sensor, and past the release of start-up pages
        # (20 s after each process started).
        time.sleep(max(args.seconds, 30 - first_message))
        idle = runtime_pss(bin_dir)
        idle_pids = {name: pids_of(bin_dir, name) for name in ("iotedged", "edge-agent", "edge-hub")}
        idle_maps = {name: [smaps_breakdown(p) for p in pids] for name, pids in idle_pids.items()}
        idle_rss = {name: sum(rollup_kib(p, "Rss") for p in pids) for name, pids in idle_pids.items()}
        touched = working_set(idle_pids, args.working_set_seconds)

        # The load: the same sensors at the target rate (redeploy with a shorter interval).
        for m in modules.values():
            m["env"]["SendInterval"]["value"] = f"{interval:.6f}"
        (work / "deployment.json").write_text(json.dumps(manifest))
        cli("edge", "set-modules", "bench-edge", "--content", str(work / "deployment.json"))
        time.sleep(5)
        before = json.loads(cli("telemetry", "stats", "--json"))["messageCount"]
        t0 = time.monotonic()
        peak = {k: 0 for k in ("iotedged", "edge-agent", "edge-hub")}
        while time.monotonic() - t0 < args.seconds:
            for k, v in runtime_pss(bin_dir).items():
                peak[k] = max(peak[k], v)
            time.sleep(1)
        after = json.loads(cli("telemetry", "stats", "--json"))["messageCount"]
        achieved = (after - before) / (time.monotonic() - t0)

        def mb(kib: int) -> str:
            return f"{kib / 1024:.1f}"
        print(f"{'phase':<22}{'iotedged':>10}{'edgeAgent':>11}{'edgeHub':>9}{'total MB':>10}")
        print(f"{'idle':<22}{mb(idle['iotedged']):>10}{mb(idle['edge-agent']):>11}{mb(idle['edge-hub']):>9}{mb(sum(idle.values())):>10}")
        print(f"{f'load ({achieved:.0f} msg/s)':<22}{mb(peak['iotedged']):>10}{mb(peak['edge-agent']):>11}{mb(peak['edge-hub']):>9}{mb(sum(peak.values())):>10}")
        print(f"{'idle Rss':<22}{mb(idle_rss['iotedged']):>10}{mb(idle_rss['edge-agent']):>11}{mb(idle_rss['edge-hub']):>9}{mb(sum(idle_rss.values())):>10}")
        print(f"{f'idle, used in {args.working_set_seconds:g} s':<22}{mb(touched['iotedged']):>10}{mb(touched['edge-agent']):>11}"
              f"{mb(touched['edge-hub']):>9}{mb(sum(touched.values())):>10}   (Referenced after clear_refs)")
        print(f"time from starting iotedged to the first module message at the hub: {first_message:.1f} s")
        print(f"\nidle, by mapping (MB of Pss; 'executable' is the process's own file, its Rss in brackets)")
        print(f"{'process':<12}{'pid':>8}{'executable':>24}{'files':>8}{'anon':>8}{'Private_Dirty':>15}  runs")
        for name, pids in idle_pids.items():
            if not pids:
                print(f"{name:<12}{'-':>8}  no process found")
            for pid, m in zip(pids, idle_maps[name]):
                exe = f"{mb(m['exe'])} ({mb(m['exe_rss'])})"
                try:
                    runs = os.readlink(f"/proc/{pid}/exe")
                except OSError:
                    runs = "?"
                print(f"{name:<12}{pid:>8}{exe:>24}{mb(m['files']):>8}{mb(m['anon']):>8}{mb(m['dirty']):>15}  {runs}")
        print(f"target rate {args.rate} msg/s from {args.sensors} sensors; achieved {achieved:.0f} msg/s stored at the hub; "
              f"start-up pages {'kept' if args.keep_startup_pages else 'released'}")
        return 0
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
