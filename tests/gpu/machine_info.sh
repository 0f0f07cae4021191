# Sourced by the GPU scenario scripts: the environment every run there needs (NVLink multicast
# off: it can take the host's GPUs down, shared/GPU.md; the machine's torch first on PATH), and
# the machine's facts, printed for the record.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export PYTHONUNBUFFERED=1 PATH=/opt/torch/.venv/bin:$PATH

machine_info() {
    date -u +%Y-%m-%dT%H:%M:%SZ
    nvidia-smi -L
    nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1
    python3 -c 'import torch; print("torch", torch.__version__, "nccl", torch.cuda.nccl.version())'
}

# For pt_engine (not for PyTorch, which brings its own): cuBLAS and the CUDA runtime from the
# toolkit, else PyTorch's copies.
engine_libs() {
    export LD_LIBRARY_PATH=/usr/local/cuda/lib64:$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib 2>/dev/null | head -1):${LD_LIBRARY_PATH:-}
}

# The start of an engine scenario: BUILD and OUT from the script's arguments, the binaries,
# a work folder with the machine's facts, status 0, and say (a line to the terminal and to
# WORK/summary.txt).
scenario_start() {
    BUILD=$(realpath "$1")
    OUT=$(realpath "$2")
    ENGINE=$BUILD/pt_engine PT=$BUILD/partrace LIB=$BUILD/libpartrace.so
    WORK=$(mktemp -d)
    status=0
    engine_libs
    machine_info > "$WORK/machine.txt" 2>&1
}
say() { echo "$*" | tee -a "$WORK/summary.txt"; }

# After an engine run in WORK/NAME (engine/ its output folder, traced/ its trace, run.log its
# terminal): the engine's summary, partrace's report as JSON and as text, and the run's
# "requests in" line said.
run_outputs() {
    local dir=$WORK/$1
    "$ENGINE" summarise "$dir/engine" --json > "$dir/engine-summary.json" 2>&1
    "$PT" report --json "$dir/traced" > "$dir/report.json" 2>"$dir/report.err"
    "$PT" report "$dir/traced" > "$dir/report.txt" 2>&1
    say "$1: $(grep -h 'requests in' "$dir/run.log" | head -1)"
}
