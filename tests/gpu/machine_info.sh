# Sourced by the GPU scenario scripts: the machine's facts, printed for the record.
machine_info() {
    date -u +%Y-%m-%dT%H:%M:%SZ
    nvidia-smi -L
    nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1
    python3 -c 'import torch; print("torch", torch.__version__, "nccl", torch.cuda.nccl.version())'
}
