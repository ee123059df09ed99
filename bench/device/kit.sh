#!/usr/bin/env bash
# Builds the GPU kit for bench/device/run.sh: the team's ../shared/device/make-kit.sh (node, Dawn,
# the Vulkan loader, tfjs-wasm's binaries) with our benches bundled beside it, the thread entries
# they spawn (greedy-worker.mjs, shard-worker.mjs: the pools find them next to the bundle), the
# presets for the PyTorch reference, and that reference.
#
#   bash bench/device/kit.sh [OUTDIR]      # from the project root after npm ci; OUTDIR: .gpu-kit
#
# Then, with the machine lent: run `bash bench/device/run.sh` there, carrying OUTDIR.
set -euo pipefail
out=${1:-.gpu-kit}
make_kit=${SANDE_MAKE_KIT:-../shared/device/make-kit.sh}
[ -f "$make_kit" ] || { echo "kit.sh: $make_kit not found (set SANDE_MAKE_KIT)" >&2; exit 2; }
bash "$make_kit" bench/train.ts "$out" # its main.mjs bundle is replaced below (run.sh execs main.mjs)

# make-kit.sh's flags, with __dirname and __filename defined too: tfjs-wasm's Emscripten glue reads
# __dirname in Node, and an ES module bundle has none ("ReferenceError: __dirname is not defined").
banner="import{createRequire as __cr}from'module';import{fileURLToPath as __fu}from'url';"
banner+="import{dirname as __dn}from'path';const require=__cr(import.meta.url);"
banner+="const __filename=__fu(import.meta.url);const __dirname=__dn(__filename);"
bundle() { # ENTRY OUTFILE
  npx --yes esbuild@0.25.12 "$1" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --banner:js="$banner" --outfile="$2" --log-level=warning
}
bundle bench/train.ts "$out/train.mjs"
bundle bench/heal-compute.ts "$out/heal-compute.mjs"
bundle trainer/eval/greedy-worker.ts "$out/greedy-worker.mjs"
bundle trainer/train/shard-worker.ts "$out/shard-worker.mjs"

# run.sh execs main.mjs: make it pick the bench named first (train | heal-compute).
cat > "$out/main.mjs" <<'MAIN'
const [entry] = process.argv.splice(2, 1);
if (entry !== "train" && entry !== "heal-compute") throw new Error(`main.mjs: train | heal-compute, got ${entry}`);
await import(`./${entry}.mjs`);
MAIN
npx tsx -e 'import { PRESETS } from "./shared/model/config.ts"; console.log(JSON.stringify(PRESETS));' > "$out/presets.json"
cp bench/device/torch_reference.py "$out/"
du -sh "$out" | sed 's/^/kit.sh: /'
