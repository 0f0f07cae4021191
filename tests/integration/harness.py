"""Shared helpers of the integration tests: run a program under libpartrace.so with the test
NCCL, then read its traces back through `partrace dump --json` (and the header directly, as
docs/FORMAT.md describes it)."""
import glob
import json
import os
import struct
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("PT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
PARTRACE = os.path.join(BUILD, "partrace")
LIB = os.path.join(BUILD, "libpartrace.so")
FAKE_NCCL_DIR = os.path.join(BUILD, "fakenccl")
PROGS = os.path.join(BUILD, "progs")
DRIVER = os.path.join(PROGS, "nccl_driver")

# One iteration of nccl_driver's mix (see tests/progs/nccl_driver.c).
MIX = [("AllReduce", 4096), ("Broadcast", 512), ("Bcast", 128), ("Reduce", 128),
       ("AllGather", 128), ("ReduceScatter", 64), ("AlltoAll", 32), ("Gather", 32),
       ("Scatter", 16), ("GroupStart", 0), ("Send", 10), ("Recv", 10), ("GroupEnd", 0)]
MIX_CALLS = len(MIX) + 1  # + the AllReduce on the split child

HEADER = struct.Struct("<8sHHIIIQQII64s")


def build_setting(name):
    """A value of the build's CMake cache ("ON", "OFF", ...), None when it is not there."""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def sanitizer_preload():
    """Under a sanitizer build the sanitizer runtime must come first in LD_PRELOAD."""
    if os.environ.get("PT_TSAN") == "1":
        names = ("libtsan.so",)
    elif os.environ.get("PT_SANITIZE") == "1":
        names = ("libasan.so", "libubsan.so")
    else:
        return []
    libs = []
    for name in names:
        path = subprocess.run(["gcc", "-print-file-name=" + name], capture_output=True,
                              text=True).stdout.strip()
        if os.path.isabs(path):
            libs.append(os.path.realpath(path))
    return libs


def traced_env(run_dir, **extra):
    env = dict(os.environ)
    env["LD_PRELOAD"] = ":".join(sanitizer_preload() + [LIB])
    env["LD_LIBRARY_PATH"] = FAKE_NCCL_DIR
    env["PARTRACE_DIR"] = run_dir
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0")
    # TSan: fork children start threads (our writer), which TSan allows only when told; a race
    # it reports makes the program exit 66, failing the test.
    env.setdefault("TSAN_OPTIONS", "die_after_fork=0")
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def run_traced(cmd, run_dir, check=True, **extra):
    proc = subprocess.run(cmd, env=traced_env(run_dir, **extra), capture_output=True, text=True,
                          timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def cli(*args, check=True):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0")
    proc = subprocess.run([PARTRACE, *args], capture_output=True, text=True, env=env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"partrace {args} exited {proc.returncode}\n{proc.stderr}")
    return proc


def trace_files(run_dir):
    return sorted(glob.glob(os.path.join(run_dir, "*.ptrace")))


def events(path):
    """Every record of a trace file or run directory, as dicts."""
    out = cli("dump", "--json", path).stdout
    return [json.loads(line) for line in out.splitlines()]


def header(path):
    with open(path, "rb") as f:
        raw = f.read(HEADER.size)
    (magic, major, minor, header_bytes, pid, ppid, rt, mono, flags, exec_index,
     host) = HEADER.unpack(raw)
    return dict(magic=magic, major=major, minor=minor, header_bytes=header_bytes, pid=pid,
                ppid=ppid, realtime_ns=rt, monotonic_ns=mono, flags=flags,
                exec_index=exec_index, host=host.split(b"\0")[0].decode())


def nccl(evs, op=None):
    return [e for e in evs if e["kind"] == "nccl" and (op is None or e["op"] == op)]


def of_kind(evs, kind):
    return [e for e in evs if e["kind"] == kind]


class TraceTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="pt-test-")
        self.tmp = self._tmp.name
        self.run_dir = os.path.join(self.tmp, "run")

    def tearDown(self):
        self._tmp.cleanup()

    def assert_mix(self, evs, iters):
        """evs hold exactly `iters` mixes of nccl_driver, in order, with the right bytes, and
        return (parent comm id, child comm id)."""
        calls = [e for e in nccl(evs) if not e["op"].startswith("Comm")]
        self.assertEqual(len(calls), iters * MIX_CALLS)
        parent = calls[0]["comm"]
        child = calls[MIX_CALLS - 1]["comm"]
        self.assertNotEqual(parent, child)
        for i in range(iters):
            chunk = calls[i * MIX_CALLS:(i + 1) * MIX_CALLS]
            self.assertEqual([(e["op"], e["bytes"]) for e in chunk[:-1]], MIX)
            self.assertEqual((chunk[-1]["op"], chunk[-1]["bytes"], chunk[-1]["comm"]),
                             ("AllReduce", 1024, child))
            for e in chunk[:-1]:
                if not e["op"].startswith("Group"):
                    self.assertEqual(e["comm"], parent)
                    self.assertEqual(e["seq"], i, e)
        return parent, child


def main():
    unittest.main(verbosity=2)
