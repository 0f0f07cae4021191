"""Read partrace runs: each record kind as a pandas DataFrame, the report as dicts.

The records come from the C reader (libpartrace_reader.so) as `partrace dump --json` prints
them, so that this module holds no decoder of its own (docs/partrace-dump.md lists the fields).
"""
import ctypes
import json
import os
import shutil

__all__ = ["open", "report", "records", "Run", "library_version"]

_lib = None


def _library():
    """libpartrace_reader.so: $PARTRACE_READER_LIB, else ../lib beside partrace on PATH, else here."""
    global _lib
    if _lib is not None:
        return _lib
    places = []
    if os.environ.get("PARTRACE_READER_LIB"):
        places.append(os.environ["PARTRACE_READER_LIB"])
    exe = shutil.which("partrace")
    if exe:
        bin_dir = os.path.dirname(os.path.realpath(exe))
        places += [os.path.join(bin_dir, "..", "lib", "libpartrace_reader.so"),
                   os.path.join(bin_dir, "libpartrace_reader.so")]
    places.append(os.path.join(os.path.dirname(__file__), "libpartrace_reader.so"))
    for path in places:
        if os.path.isfile(path):
            lib = ctypes.CDLL(path)
            lib.pt_api_records_json.restype = ctypes.c_void_p
            lib.pt_api_records_json.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_size_t),
                                                ctypes.c_char_p, ctypes.c_size_t]
            lib.pt_api_report_json.restype = ctypes.c_void_p
            lib.pt_api_report_json.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
            lib.pt_api_free.argtypes = [ctypes.c_void_p]
            lib.pt_api_version.restype = ctypes.c_char_p
            _lib = lib
            return lib
    raise OSError("libpartrace_reader.so not found (looked in: %s); install partrace (cmake --install) "
                  "or set PARTRACE_READER_LIB" % ", ".join(places))


def library_version():
    """The C reader's release and trace format: "partrace 0.1.0, trace format 3.1"."""
    return _library().pt_api_version().decode()


def _text(ptr, length, err):
    lib = _library()
    if not ptr:
        raise ValueError(err.value.decode(errors="replace"))
    try:
        return ctypes.string_at(ptr, length).decode("utf-8", errors="replace")
    finally:
        lib.pt_api_free(ptr)


def records(run, mangled=False):
    """Every record of a run (a directory or one trace file), as dicts, file by file."""
    lib, err, n = _library(), ctypes.create_string_buffer(1024), ctypes.c_size_t(0)
    ptr = lib.pt_api_records_json(os.fsencode(run), int(bool(mangled)), ctypes.byref(n), err, len(err))
    return [json.loads(line) for line in _text(ptr, n.value, err).splitlines() if line]


def report(run):
    """`partrace report --json` of a run, as dicts."""
    lib, err = _library(), ctypes.create_string_buffer(1024)
    ptr = lib.pt_api_report_json(os.fsencode(run), err, len(err))
    if not ptr:
        raise ValueError(err.value.decode(errors="replace"))
    text = ctypes.string_at(ptr).decode("utf-8", errors="replace")
    lib.pt_api_free(ptr)
    return json.loads(text)


class Run:
    """A run's records by kind, each a DataFrame made when first asked for."""

    def __init__(self, path, mangled=False):
        self.path = path
        self._by_kind = {}
        for rec in records(path, mangled):
            self._by_kind.setdefault(rec["kind"], []).append(rec)
        self._frames = {}

    @property
    def kinds(self):
        """The record kinds the run holds, with their counts."""
        return {k: len(v) for k, v in self._by_kind.items()}

    def frame(self, kind):
        """The records of one kind ("kernel", "nccl", "memcpy", "nvtx", ...) as a DataFrame."""
        import pandas
        if kind not in self._frames:
            rows = self._by_kind.get(kind, [])
            self._frames[kind] = pandas.DataFrame(rows).drop(columns=["kind"], errors="ignore")
        return self._frames[kind]

    @property
    def kernels(self):
        return self.frame("kernel")

    @property
    def nccl(self):
        return self.frame("nccl")

    @property
    def copies(self):
        """Copies and memsets, with a "kind" column saying which."""
        import pandas
        parts = [self.frame(k).assign(kind=k) for k in ("memcpy", "memset") if k in self._by_kind]
        return pandas.concat(parts, ignore_index=True) if parts else pandas.DataFrame()

    @property
    def memory(self):
        return self.frame("memory")

    @property
    def nvtx(self):
        return self.frame("nvtx")

    @property
    def metrics(self):
        return self.frame("metric")

    def __repr__(self):
        return "partrace.Run(%r: %s)" % (self.path, ", ".join("%s %d" % kv for kv in sorted(self.kinds.items())))


def open(run, mangled=False):  # noqa: A001 - the module's verb, as in partrace.open(run)
    """Reads a run (a directory or one trace file)."""
    return Run(run, mangled)
