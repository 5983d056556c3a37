#!/usr/bin/env bash
# Runs on the GPU machine (no Node.js, no network): unpacks .device/gpu-check (npm run
# device:gpu-pack), installs the Vulkan loader and wrk from the carried .debs, points the loader at
# NVIDIA's Vulkan driver, and runs bench:gpu (sessions alone, then the agent's batcher on webgpu and
# on cpu). Everything it prints also goes to $OUT (the device tool brings $OUT back).
# Locally: OUT=/tmp/out INFERSCOPE_VK_ICD=/usr/lib/chromium/vk_swiftshader_icd.json bash scripts/device-gpu-run.sh --seconds 1 --batches 1 --skip-agent
set -euo pipefail
cd "$(dirname "$0")/.."
pack=.device/gpu-check
out=${OUT:-/tmp/inferscope-gpu-out}
work=${WORK:-/tmp/inferscope-gpu}
mkdir -p "$out" "$work"
exec > >(tee "$out/device-gpu-run.log") 2>&1

echo "== machine"; date -u; uname -m; nproc; (nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true)

# xz may be missing there; Python's lzma is not.
python3 - "$pack" "$work" <<'PY'
import lzma, os, shutil, sys, tarfile
pack, work = sys.argv[1], sys.argv[2]
with lzma.open(os.path.join(pack, 'node.xz')) as src, open(os.path.join(work, 'node'), 'wb') as dst:
    shutil.copyfileobj(src, dst)
os.chmod(os.path.join(work, 'node'), 0o755)
with tarfile.open(os.path.join(pack, 'runtime.tar.xz')) as t:
    t.extractall(work)
PY
for deb in "$pack"/debs/*.deb; do dpkg -x "$deb" /; done
ldconfig

icd=${INFERSCOPE_VK_ICD:-}
if [ -z "$icd" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$f" ] && icd=$f && break
  done
fi
[ -n "$icd" ] || { echo "no NVIDIA Vulkan driver manifest found"; exit 2; }
export VK_ICD_FILENAMES=$icd
echo "== Vulkan driver: $icd"; "$work/node" --version

cd "$work"
echo "== bench:gpu"
./node bench/gpu.js "$@" | tee "$out/bench-gpu.txt"
