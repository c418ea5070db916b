"""The logdoctor benchmark: throughput, memory and start-up against grep, in one run.

Generates realistic logs into ``bench-data/`` (reused while the generator and the requested size are
unchanged), then times on one core (``taskset -c CPU`` when available), with the file in the page
cache, one fresh process per measurement:

1. ``LC_ALL=C grep -cE 'Iteration [0-9]+|net output #' FILE``: the baseline, on every Caffe log;
2. ``logdoctor diagnose --format json --no-plot FILE`` on Caffe logs of every ``--sizes`` (healthy),
   and diverging at the middle size: MB/s and the ratio to grep's time on the same file;
3. the same on Keras and Lightning logs of the middle size, dominated by ``\\r``/``\\b`` redraws;
4. ``cat FILE | logdoctor watch --format jsonl`` on the middle-size healthy Caffe log;
5. ``logdoctor --help`` start-up time (median of 10).

Wall time is the best of N runs; CPU time (user + system) and peak RSS come from ``os.wait4`` on the
child (RSS is the largest over the runs).  One table is printed and ``bench-data/results.json`` is
written.  MB = 2**20 bytes.  Exit status: 0 when every command ran (targets may fail; ``--strict``
makes a failed target exit 1), 1 when a command crashed or was stopped.

Usage::

    .venv/bin/python tests/bench/run.py                     # sizes 10,100,1000
    .venv/bin/python tests/bench/run.py --quick             # 10 MB only: a smoke run
    .venv/bin/python tests/bench/run.py --sizes 10,100 --runs 5
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MB = 1 << 20
GREP_PATTERN = "Iteration [0-9]+|net output #"
BIG_MB = 1000               # sizes from here on are "big": --big-runs runs, and the RSS target

# Targets (printed beside each row; the lead optimises against them).
CAFFE_MBPS, CAFFE_GREP_RATIO = 150.0, 3.0
REDRAW_MBPS = 80.0
BIG_RSS_MB = 1024.0
WATCH_SHARE = 0.5
HELP_MS = 300.0


def _load_generator():
    spec = importlib.util.spec_from_file_location("bench_generate", HERE / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load_generator()


# ----------------------------------------------------------------------------- data

@dataclass
class Log:
    """A generated log: what it is and where."""

    fmt: str
    variant: str
    mb: int
    path: Path
    info: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def size_mb(self) -> float:
        return self.size / MB


def generator_version() -> str:
    return hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:16]


def ensure_log(data: Path, fmt: str, variant: str, mb: int) -> Log:
    """The log in ``data``, generated unless a file made by this generator with these arguments is there."""
    path = data / f"{fmt}-{variant}-{mb}mb.log"
    meta_path = path.with_name(path.name + ".json")
    wanted = {"format": fmt, "variant": variant, "requested_bytes": mb * MB, "seed": generate.DEFAULT_SEED,
              "generator": generator_version()}
    if path.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError:
            meta = {}
        if all(meta.get(k) == v for k, v in wanted.items()) and meta.get("bytes") == path.stat().st_size:
            return Log(fmt, variant, mb, path, meta)
    print(f"  generating {path.name} ...", end="", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    info = generate.generate(fmt, variant, mb * MB, str(path))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    info.update(generator=wanted["generator"], generate_seconds=round(seconds, 3),
                generate_cpu_seconds=round(cpu, 3), generate_mb_per_s=round(info["bytes"] / MB / seconds, 1))
    meta_path.write_text(json.dumps(info, indent=1) + "\n")
    print(f" {info['bytes'] / MB:.1f} MB in {seconds:.1f} s ({info['generate_mb_per_s']:.0f} MB/s; "
          f"{info['bytes'] / MB / max(cpu, 1e-9):.0f} MB per CPU second)")
    return Log(fmt, variant, mb, path, info)


def warm(path: Path) -> None:
    """Read the file once so that it is in the page cache."""
    with open(path, "rb", buffering=0) as f:
        while f.read(8 * MB):
            pass


# ----------------------------------------------------------------------------- measuring

@dataclass
class Run:
    """One measured process (or pipeline)."""

    wall: float
    cpu: float
    rss_mb: float
    codes: list[int]
    stopped: str = ""         # "timeout" or "memory" when the watchdog killed it


class Measurer:
    """Runs commands pinned to one CPU, one fresh process per run, under a time and memory watchdog.

    CPU time and peak RSS come from GNU ``/usr/bin/time`` when it is there: on Linux a child's
    ``ru_maxrss`` starts from the RSS of the process that forked it, so the child must be forked by
    a small process, not by this Python (whose own ~50 MB would be the floor of every reading).
    Without it, ``os.wait4`` on the child is used, with that floor.
    """

    def __init__(self, cpu: int | None, timeout: float, rss_limit_mb: float, out: Path) -> None:
        self.pin = ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []
        self.time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
        self.timeout = timeout
        self.rss_limit_mb = rss_limit_mb
        self.out = out

    def once(self, commands: list[list[str]], tag: str, env: dict | None = None) -> Run:
        """Run ``commands`` as a pipeline (stdout of each into the next); the last one's output goes to a file."""
        stdout_path = self.out / f"{tag}.out"
        stderr_path = self.out / f"{tag}.err"
        usage_paths = [self.out / f"{tag}.time{i}" for i in range(len(commands))]
        procs: list[subprocess.Popen] = []
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            started = time.perf_counter()
            previous = subprocess.DEVNULL
            for i, command in enumerate(commands):
                last = i == len(commands) - 1
                prefix = [self.time, "-f", "%U %S %M", "-o", str(usage_paths[i])] if self.time else []
                proc = subprocess.Popen(prefix + self.pin + command, stdin=previous,
                                        stdout=stdout if last else subprocess.PIPE, stderr=stderr, env=env)
                if previous is not subprocess.DEVNULL:
                    previous.close()   # the next process holds the pipe now
                previous = proc.stdout if not last else None
                procs.append(proc)
            stopped: list[str] = []
            done = threading.Event()
            watchdog = threading.Thread(target=self._watch, args=(procs, started, stopped, done), daemon=True)
            watchdog.start()
            codes, cpu, rss = [], 0.0, 0.0
            for i, proc in enumerate(procs):
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                codes.append(proc.returncode)
                measured = _time_output(usage_paths[i]) if self.time else None
                if measured is None:
                    measured = (usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)   # KiB on Linux
                cpu += measured[0]
                rss = max(rss, measured[1])
            wall = time.perf_counter() - started
            done.set()
            watchdog.join()
        return Run(wall, cpu, rss, codes, stopped[0] if stopped else "")

    def _watch(self, procs, started: float, stopped: list[str], done: threading.Event) -> None:
        """Kill the pipeline (by process id: the processes started here and theirs) when it runs
        too long or grows too big."""
        while not done.wait(0.2):
            family = [pid for proc in procs for pid in _family(proc.pid)]
            reason = ""
            if time.perf_counter() - started > self.timeout:
                reason = "timeout"
            elif self.rss_limit_mb and sum(map(_rss_mb, family)) > self.rss_limit_mb:
                reason = "memory"
            if reason:
                stopped.append(reason)
                for pid in reversed(family):   # the measured commands first, then the time wrappers
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                return


def _family(pid: int) -> list[int]:
    """``pid`` and its descendants (children of /usr/bin/time, and theirs)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue += children.get(current, [])
    return found


def _time_output(path: Path) -> tuple[float, float] | None:
    """(CPU seconds, peak RSS in MB) from GNU time's ``%U %S %M`` line (the last line: it may add a note)."""
    try:
        words = path.read_text().strip().splitlines()[-1].split()
        return float(words[0]) + float(words[1]), int(words[2]) / 1024
    except (OSError, IndexError, ValueError):
        return None


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ----------------------------------------------------------------------------- rows

@dataclass
class Row:
    """One line of the table."""

    benchmark: str
    file: str = ""
    mb: float = 0.0
    runs: int = 0
    wall: float | None = None          # best wall time, seconds
    cpu: float | None = None           # CPU seconds of the best run
    rss_mb: float | None = None        # largest peak RSS over the runs
    mb_per_s: float | None = None
    mb_per_cpu_s: float | None = None  # size / CPU time: what contention does not change
    grep_ratio: float | None = None
    target: str = ""
    result: str = ""                   # PASS, FAIL, ERROR, skipped
    note: str = ""
    walls: list[float] = field(default_factory=list)


def measure_row(m: Measurer, benchmark: str, log: Log | None, commands: list[list[str]], runs: int,
                ok_codes=(0, 1), env: dict | None = None) -> Row:
    row = Row(benchmark, log.name if log else "", round(log.size_mb, 1) if log else 0.0, runs)
    tag = _tag(row)
    best: Run | None = None
    rss = 0.0
    for i in range(runs):
        if log is not None:
            warm(log.path)
        run = m.once(commands, tag, env)
        row.walls.append(round(run.wall, 4))
        rss = max(rss, run.rss_mb)
        if run.stopped or any(code not in ok_codes for code in run.codes):
            err = (m.out / f"{tag}.err").read_text(errors="replace").strip().splitlines()
            why = run.stopped or f"exit {run.codes}"
            row.result, row.note = "ERROR", f"{why}: {err[-1][:120] if err else ''}".rstrip(": ")
            row.wall, row.cpu, row.rss_mb = run.wall, run.cpu, rss
            return row
        if best is None or run.wall < best.wall:
            best = run
    row.wall, row.cpu, row.rss_mb = best.wall, best.cpu, rss
    if log is not None:
        row.mb_per_s = log.size_mb / best.wall
        row.mb_per_cpu_s = log.size_mb / best.cpu if best.cpu > 0 else None
    return row


def _tag(row: Row) -> str:
    """Where a row's command output goes in ``bench-data/out``: ``diagnose-caffe-healthy-100mb``."""
    return row.benchmark.split()[0] + (f"-{Path(row.file).stem}" if row.file else "")


def judge(row: Row, checks: list[tuple[str, bool]]) -> None:
    """Set the target text and PASS/FAIL (an ERROR stays an ERROR)."""
    row.target = ", ".join(text for text, _ in checks)
    if row.result:
        return
    row.result = "PASS" if all(ok for _, ok in checks) else "FAIL"


def diagnose_findings(m: Measurer, row: Row) -> str:
    """The finding codes in a diagnose JSON report (a sanity check that the run did its work)."""
    try:
        report = json.loads((m.out / f"{_tag(row)}.out").read_text())
        codes = [f["code"] for file in report["files"] for f in file["findings"]]
        unparsed = sum(file.get("unparsed_lines", 0) for file in report["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return "no JSON report"
    text = "findings: " + (",".join(sorted(set(codes))) or "none")
    return text + (f"; {unparsed} unparsed lines" if unparsed else "")


# ----------------------------------------------------------------------------- the run

def main(argv: list[str] | None = None) -> int:
    """Generate what is missing, measure every row, print the table, write results.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--sizes", default="10,100,1000", help="Caffe sizes in MB (default 10,100,1000)")
    parser.add_argument("--quick", action="store_true", help="10 MB only, for a smoke run")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement below 1000 MB (best is kept)")
    parser.add_argument("--big-runs", type=int, default=1, help="runs per measurement at 1000 MB and above")
    parser.add_argument("--help-runs", type=int, default=10, help="runs of `logdoctor --help` (median)")
    parser.add_argument("--cpu", type=int, default=0, help="CPU to pin to with taskset (-1: no pinning)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data", help="where logs and results go")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed")
    parser.add_argument("--rss-limit-mb", type=float, default=8192, help="kill a run whose RSS exceeds this")
    parser.add_argument("--logdoctor", default=None, help="the logdoctor executable (default: beside this Python)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)

    sizes = [10] if args.quick else sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    mid = 100 if 100 in sizes else sizes[0]
    data = args.data
    out = data / "out"
    out.mkdir(parents=True, exist_ok=True)
    logdoctor = args.logdoctor or _find_logdoctor()
    measurer = Measurer(None if args.cpu < 0 else args.cpu, args.timeout, args.rss_limit_mb, out)
    load_before = os.getloadavg()

    print(f"logdoctor benchmark: sizes {sizes} MB, middle size {mid} MB, data in {data}")
    caffe = {mb: ensure_log(data, "caffe", "healthy", mb) for mb in sizes}
    caffe_diverging = ensure_log(data, "caffe", "diverging", mid)
    keras = ensure_log(data, "keras", "healthy", mid)
    lightning = ensure_log(data, "lightning", "healthy", mid)

    def runs_for(log: Log) -> int:
        return args.big_runs if log.mb >= BIG_MB else args.runs

    rows: list[Row] = []
    grep_env = dict(os.environ, LC_ALL="C")
    diagnose = [logdoctor, "diagnose", "--format", "json", "--no-plot"]
    caffe_logs = [caffe[mb] for mb in sizes] + [caffe_diverging]
    grep_wall: dict[Path, float] = {}
    diagnose_mbps: dict[Path, float] = {}

    print("measuring (one fresh process per run, pinned to one CPU)" if measurer.pin else
          "measuring (taskset not available: not pinned)")
    for log in caffe_logs:
        row = measure_row(measurer, f"grep {log.fmt} {log.variant}", log,
                          [["grep", "-cE", GREP_PATTERN, str(log.path)]], runs_for(log), ok_codes=(0,), env=grep_env)
        row.target, row.result = "baseline", row.result or ""
        if row.wall:
            grep_wall[log.path] = row.wall
        _progress(row)
        rows.append(row)
        row = measure_row(measurer, f"diagnose {log.fmt} {log.variant}", log, [diagnose + [str(log.path)]],
                          runs_for(log))
        if row.wall and log.path in grep_wall:
            row.grep_ratio = row.wall / grep_wall[log.path]
        checks = [(f">={CAFFE_MBPS:.0f} MB/s", (row.mb_per_s or 0) >= CAFFE_MBPS),
                  (f"<={CAFFE_GREP_RATIO:g}x grep", row.grep_ratio is not None and row.grep_ratio <= CAFFE_GREP_RATIO)]
        if log.mb >= BIG_MB:
            checks.append((f"RSS <={BIG_RSS_MB / 1024:g} GB", (row.rss_mb or 0) <= BIG_RSS_MB))
        judge(row, checks)
        if row.result != "ERROR":
            row.note = diagnose_findings(measurer, row)
            diagnose_mbps[log.path] = row.mb_per_s
        _progress(row)
        rows.append(row)

    for log in (keras, lightning):
        row = measure_row(measurer, f"diagnose {log.fmt} {log.variant}", log, [diagnose + [str(log.path)]],
                          runs_for(log))
        judge(row, [(f">={REDRAW_MBPS:.0f} MB/s", (row.mb_per_s or 0) >= REDRAW_MBPS)])
        if row.result != "ERROR":
            row.note = f"redraw-dominated ({_redraw_note(log)}); " + diagnose_findings(measurer, row)
        _progress(row)
        rows.append(row)

    watch_log = caffe[mid]
    if _has_watch(logdoctor):
        row = measure_row(measurer, f"watch {watch_log.fmt} {watch_log.variant}", watch_log,
                          [["cat", str(watch_log.path)], [logdoctor, "watch", "--format", "jsonl"]],
                          runs_for(watch_log))
        reference = diagnose_mbps.get(watch_log.path)
        if reference:
            judge(row, [(f">={WATCH_SHARE:g}x diagnose ({WATCH_SHARE * reference:.1f} MB/s)",
                         (row.mb_per_s or 0) >= WATCH_SHARE * reference)])
            if row.mb_per_s and row.result != "ERROR":
                row.note = f"{row.mb_per_s / reference:.2f}x diagnose's MB/s on the same file"
        else:
            judge(row, [("diagnose on the same file failed", False)])
    else:
        row = Row(f"watch {watch_log.fmt} {watch_log.variant}", watch_log.name, round(watch_log.size_mb, 1),
                  result="skipped", note="skipped: watch not available")
        print("  skipped: watch not available")
    _progress(row)
    rows.append(row)

    row = help_row(measurer, logdoctor, args.help_runs)
    _progress(row)
    rows.append(row)

    load_after = os.getloadavg()
    table = render(rows)
    print()
    print(table)
    reader = _caffe_reader(logdoctor)
    print(f"\nload average before {_load(load_before)}, after {_load(load_after)} "
          f"({os.cpu_count()} CPUs); MB = 2**20 bytes; Caffe hot lines read by {reader}")
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(), "load_before": load_before, "load_after": load_after,
        "pinned": " ".join(measurer.pin) or None, "logdoctor": logdoctor, "logdoctor_version": _version(logdoctor),
        "commit": _commit(), "caffe_reader": reader, "sizes_mb": sizes, "runs": args.runs, "big_runs": args.big_runs,
        "targets": {"caffe_mb_per_s": CAFFE_MBPS, "caffe_grep_ratio": CAFFE_GREP_RATIO,
                    "redraw_mb_per_s": REDRAW_MBPS, "big_rss_mb": BIG_RSS_MB, "watch_share": WATCH_SHARE,
                    "help_ms": HELP_MS},
        "logs": {log.name: log.info for log in [*caffe_logs, keras, lightning]},
        "rows": [asdict(r) for r in rows],
        "table": table,
    }
    (data / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {data / 'results.json'}")
    if any(r.result == "ERROR" for r in rows):
        return 1
    return 1 if args.strict and any(r.result == "FAIL" for r in rows) else 0


def help_row(m: Measurer, logdoctor: str, runs: int) -> Row:
    """``logdoctor --help``: the median of ``runs`` fresh starts (start-up cost: imports, click)."""
    row = Row("logdoctor --help", runs=runs)
    walls, rss = [], 0.0
    for _ in range(runs):
        run = m.once([[logdoctor, "--help"]], "help")
        if run.stopped or run.codes != [0]:
            row.result, row.note = "ERROR", run.stopped or f"exit {run.codes}"
            return row
        walls.append(run.wall)
        rss = max(rss, run.rss_mb)
    row.walls = [round(w, 4) for w in walls]
    row.wall, row.rss_mb = statistics.median(walls), rss
    row.note = f"median of {runs}; min {min(walls) * 1000:.0f} ms"
    judge(row, [(f"<{HELP_MS:.0f} ms", row.wall * 1000 < HELP_MS)])
    return row


# ----------------------------------------------------------------------------- output

COLUMNS = (("benchmark", "<"), ("file", "<"), ("MB", ">"), ("runs", ">"), ("wall s", ">"), ("cpu s", ">"),
           ("MB/s", ">"), ("MB/cpu-s", ">"), ("x grep", ">"), ("RSS MB", ">"), ("target", "<"), ("result", "<"),
           ("note", "<"))


def render(rows: list[Row]) -> str:
    """One aligned table."""
    def num(value, fmt):
        return "" if value is None else format(value, fmt)

    cells = [[r.benchmark, r.file, num(r.mb or None, ".1f"), str(r.runs or ""),
              num(r.wall, ".3f"), num(r.cpu, ".2f"), num(r.mb_per_s, ".1f"), num(r.mb_per_cpu_s, ".1f"),
              num(r.grep_ratio, ".1f"),
              num(r.rss_mb, ".0f"), r.target, r.result, r.note] for r in rows]
    widths = [max(len(name), *(len(c[i]) for c in cells)) for i, (name, _) in enumerate(COLUMNS)]
    def line(values):
        return "  ".join(f"{v:{align}{w}}" for v, (_, align), w in zip(values, COLUMNS, widths)).rstrip()
    header = line([name for name, _ in COLUMNS])
    return "\n".join([header, "-" * len(header)] + [line(c) for c in cells])


def _progress(row: Row) -> None:
    if row.result == "skipped":
        return
    speed = f"{row.mb_per_s:7.1f} MB/s" if row.mb_per_s else ""
    wall = f"{row.wall:8.3f} s" if row.wall is not None else ""
    print(f"  {row.benchmark:<26} {row.file:<28} {wall} {speed}  {row.result}")


def _redraw_note(log: Log) -> str:
    lines = log.info.get("lines") or 1
    return f"{log.size / lines / 1024:.0f} KB per physical line"


def _find_logdoctor() -> str:
    beside = Path(sys.executable).parent / "logdoctor"
    if beside.exists():
        return str(beside)
    found = shutil.which("logdoctor")
    if found:
        return found
    raise SystemExit("run.py: no logdoctor executable beside this Python or on PATH (make the venv first)")


def _has_watch(logdoctor: str) -> bool:
    try:
        text = subprocess.run([logdoctor, "--help"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(line.split()[:1] == ["watch"] for line in text.splitlines())


def _version(logdoctor: str) -> str:
    try:
        return subprocess.run([logdoctor, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _caffe_reader(logdoctor: str) -> str:
    """Whether the measured logdoctor reads Caffe's hot lines with its C scanner (it is optional at install)."""
    python = Path(logdoctor).with_name("python")
    probe = "from logdoctor.parsers import caffe; print('the C scanner' if caffe.native else 'Python')"
    try:
        return subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                              timeout=60).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _machine() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


def _load(values) -> str:
    return " ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
