"""NCCL reached the ways Python programs reach it: through a library loaded RTLD_LOCAL (torch),
and through dlopen + dlsym (ctypes, as vLLM's pynccl)."""
import os
import sys

from harness import (FAKE_NCCL_DIR, PROGS, TraceTest, events, main, nccl, of_kind, run_traced,
                     trace_files)

CTYPES_PROGRAM = r"""
import ctypes, sys
lib = ctypes.CDLL("libnccl.so.2")
uid = (ctypes.c_byte * 128)()
comm = ctypes.c_void_p()
assert lib.ncclGetUniqueId(ctypes.byref(uid)) == 0
# ncclUniqueId is passed by value: a 128-byte struct.
class UniqueId(ctypes.Structure):
    _fields_ = [("internal", ctypes.c_byte * 128)]
lib.ncclCommInitRank.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, UniqueId, ctypes.c_int]
assert lib.ncclCommInitRank(ctypes.byref(comm), 1, UniqueId(uid), 0) == 0
buf = (ctypes.c_float * 32)()
lib.ncclAllReduce.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                              ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
for _ in range(int(sys.argv[1])):
    assert lib.ncclAllReduce(buf, buf, 32, 7, 0, comm, None) == 0
lib.ncclCommDestroy.argtypes = [ctypes.c_void_p]
assert lib.ncclCommDestroy(comm) == 0
print("done")
"""

# Python multiprocessing: each worker (spawned or forked) does its own NCCL work, N all-reduces.
MP_PROGRAM = r"""
import ctypes, multiprocessing as mp, os, sys

def work(n):
    lib = ctypes.CDLL("libnccl.so.2")
    class UniqueId(ctypes.Structure):
        _fields_ = [("internal", ctypes.c_byte * 128)]
    uid, comm = UniqueId(), ctypes.c_void_p()
    assert lib.ncclGetUniqueId(ctypes.byref(uid)) == 0
    lib.ncclCommInitRank.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, UniqueId, ctypes.c_int]
    assert lib.ncclCommInitRank(ctypes.byref(comm), 1, uid, 0) == 0
    buf = (ctypes.c_float * 8)()
    lib.ncclAllReduce.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                                  ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    for _ in range(n):
        assert lib.ncclAllReduce(buf, buf, 8, 7, 0, comm, None) == 0
    return os.getpid()


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    with ctx.Pool(3) as pool:
        pids = pool.map(work, [5, 6, 7])
    print("workers", len(set(pids)), "calls", work(4))
"""


class Loading(TraceTest):
    def test_python_multiprocessing(self):
        import shutil
        program = os.path.join(self.tmp, "mp_nccl.py")  # spawn re-imports the main module: a file
        with open(program, "w") as f:
            f.write(MP_PROGRAM)
        # fork: Pool.terminate() SIGTERMs workers that may be inside _exit's last flush; they
        # lost all their calls in half the runs until the signal waited for that flush.
        for method in ("spawn", "fork", "fork", "fork", "fork"):
            shutil.rmtree(self.run_dir, ignore_errors=True)
            proc = run_traced([sys.executable, program, method], self.run_dir,
                              LD_LIBRARY_PATH=FAKE_NCCL_DIR)
            self.assertIn("workers", proc.stdout, proc.stderr)
            # Every process that made NCCL calls wrote its own file; together they hold every
            # call (5 + 6 + 7 in the workers, whichever ran which, and 4 in the parent).
            per_file = sorted(len(nccl(events(f), "AllReduce")) for f in trace_files(self.run_dir))
            self.assertEqual(sum(per_file), 5 + 6 + 7 + 4, (method, per_file))
            self.assertIn(4, per_file, (method, per_file))

    def test_rtld_local_library(self):
        shim = os.path.join(PROGS, "libnccl_shim.so")
        run_traced([os.path.join(PROGS, "rtld_local_main"), shim, "7"], self.run_dir)
        evs = events(self.run_dir)
        self.assertEqual(len(nccl(evs, "AllReduce")), 7)
        self.assertEqual(len(nccl(evs, "Send")), 7)
        self.assertEqual(len(nccl(evs, "Recv")), 7)
        self.assertEqual(len(nccl(evs, "GroupEnd")), 7)
        self.assertEqual(len(of_kind(evs, "comm_init")), 1)
        self.assertEqual(nccl(evs, "Send")[6]["seq"], 6)
        self.assertEqual(nccl(evs, "AllReduce")[0]["bytes"], 1024)

    def test_dlopen_dlsym(self):
        proc = run_traced([os.path.join(PROGS, "dlsym_main"), "5"], self.run_dir)
        self.assertIn("iters 5", proc.stdout)
        evs = events(self.run_dir)
        self.assertEqual([e["seq"] for e in nccl(evs, "AllReduce")], [0, 1, 2, 3, 4])
        self.assertEqual(len(of_kind(evs, "comm_init")), 1)
        self.assertEqual(len(nccl(evs, "CommDestroy")), 1)

    def test_python_ctypes(self):
        proc = run_traced([sys.executable, "-c", CTYPES_PROGRAM, "6"], self.run_dir,
                          LD_LIBRARY_PATH=FAKE_NCCL_DIR)
        self.assertIn("done", proc.stdout)
        evs = events(self.run_dir)
        ars = nccl(evs, "AllReduce")
        self.assertEqual(len(ars), 6)
        self.assertEqual({(e["bytes"], e["rank"], e["nranks"]) for e in ars}, {(128, 0, 1)})
        self.assertEqual(of_kind(evs, "comm_init")[0]["comm"], ars[0]["comm"])


    def test_no_nccl_in_the_process(self):
        proc = run_traced([os.path.join(PROGS, "missing_nccl_main"), "none"], self.run_dir)
        self.assertEqual(proc.stdout, "AllReduce -> 2\n")  # ncclSystemError, no crash
        self.assertIn("ncclAllReduce called, but no loaded NCCL library provides it", proc.stderr)
        self.assertFalse(os.path.exists(self.run_dir))  # nothing was recorded

    def test_older_nccl_lacking_a_function(self):
        old = os.path.join(os.path.dirname(FAKE_NCCL_DIR), "fakenccl-old", "libnccl.so.2")
        proc = run_traced([os.path.join(PROGS, "missing_nccl_main"), old], self.run_dir)
        self.assertEqual(proc.stdout.splitlines(),
                         ["has shrink: no"] + ["CommShrink -> 2"] * 3 + ["AllReduce -> 0"])
        # One warning for the missing function, however often it is called.
        self.assertEqual(proc.stderr.count("ncclCommShrink called, but no loaded NCCL"), 1)
        evs = events(self.run_dir)
        self.assertEqual(len(nccl(evs, "AllReduce")), 1)

    def test_an_nvtx_tool_of_the_apps_own(self):
        # NVTX_INJECTION64_PATH set by the application (another NVTX tool), CUDA_INJECTION64_PATH
        # not: the library points CUDA at itself, leaves NVTX to that tool, and loads.
        proc = run_traced([os.path.join(PROGS, "missing_nccl_main"), "none"], self.run_dir,
                          check=False, CUDA_INJECTION64_PATH=None,
                          NVTX_INJECTION64_PATH="/opt/other-tool/libnvtx_tool.so")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "AllReduce -> 2\n")


if __name__ == "__main__":
    main()
