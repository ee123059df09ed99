#!/usr/bin/env bash
# The GPU machine's one prepared run (the device tool's `run`, carrying the kit that
# bench/device/kit.sh built): WebGPU's adapter, then the PyTorch reference and bench:train on
# WebGPU for the demo and gpu25m presets (same batches), bench:train on every CPU core of that
# machine (wasm, data-parallel), and one daemon heal's compute on WebGPU (bench:heal-compute).
# Each part has its own time limit and log under $OUT (or ./device-out), so one failing part
# leaves the others' figures.
#
#   bash bench/device/run.sh [KIT]          # KIT: .gpu-kit
set -uo pipefail
kit=${1:-.gpu-kit}
out=${OUT:-device-out}
mkdir -p "$out"
cores=$(nproc)
part() { # NAME SECONDS COMMAND…: runs one part, its output in $out/NAME.log and on stdout
  local name=$1 limit=$2
  shift 2
  echo "=== $name (limit ${limit}s): $*"
  local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  cat "$out/$name.log"
  echo "=== $name: rc $rc in $((SECONDS - t0)) s"
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1
# WebGPU needs a Vulkan driver: the kit's EGL ICD first, then the driver's own ICD file.
if ! timeout 60 bash "$kit/run.sh" train --backend webgpu --preset tiny --batch 2 --seq 8 --steps 1 --warmup 0 \
  --naive-steps 0 > "$out/probe.log" 2>&1; then
  cat "$out/probe.log"
  export VK_ICD_FILENAMES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  echo "probe failed with the kit's ICD; trying $VK_ICD_FILENAMES"
fi
part torch-demo 90 python3 "$kit/torch_reference.py" "$kit/presets.json" demo 16 128
part torch-gpu25m 90 python3 "$kit/torch_reference.py" "$kit/presets.json" gpu25m 32 128
part webgpu-demo 120 bash "$kit/run.sh" train --backend webgpu --preset demo --batch 16 --seq 128 --steps 5
part webgpu-gpu25m 120 bash "$kit/run.sh" train --backend webgpu --preset gpu25m --batch 32 --seq 128 --steps 3 \
  --warmup 1 --naive-steps 0
part wasm-cores 150 bash "$kit/run.sh" train --backend wasm --preset demo --batch 64 --seq 128 --steps 3 --warmup 1 \
  --naive-steps 0 --threads "$cores"
part heal-webgpu 300 bash "$kit/run.sh" heal-compute --backend webgpu
