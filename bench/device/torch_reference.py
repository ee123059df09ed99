"""PyTorch reference for `npm run bench:train` on the GPU machine (bench/device/run.sh).

Times the same training step as bench/train.ts (forward, backward, global-norm clip 1.0, AdamW) on
Hugging Face's GPT2LMHeadModel with one of our presets (presets.json, written by bench/device/kit.sh
from shared/model/config.ts), fp32 as TensorFlow.js runs it, TF32 off, on a fixed batch of random
byte tokens. Prints the median ms/step of the timed steps. Needs torch and transformers (the GPU
machine's image has both); never a runtime dependency of sande-edge.

usage: python3 torch_reference.py PRESETS_JSON PRESET BATCH SEQ [STEPS]
"""
import json
import statistics
import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def main() -> None:
    presets_file, name, batch, seq = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    steps = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    c = json.load(open(presets_file))[name]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    config = GPT2Config(
        vocab_size=c["vocab_size"], n_positions=c["n_positions"], n_embd=c["n_embd"], n_layer=c["n_layer"],
        n_head=c["n_head"], layer_norm_epsilon=c["layer_norm_epsilon"], activation_function="gelu_new",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True,
    )
    device = torch.device("cuda")
    model = GPT2LMHeadModel(config).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    g = torch.Generator().manual_seed(1)
    seqs = torch.randint(0, 256, (batch, seq + 1), generator=g).to(device)
    tokens, targets = seqs[:, :-1], seqs[:, 1:]

    def step() -> float:
        logits = model(tokens).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()  # synchronises, as tfjs's step reads its loss

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    params = sum(p.numel() for p in model.parameters())
    ms = statistics.median(times)
    print(
        f"torch {torch.__version__} {torch.cuda.get_device_name()}: {name} preset, N = {params} params, "
        f"batch {batch}x{seq}: {ms:.2f} ms/step (median of {steps}, fp32, TF32 off), "
        f"{batch * seq / (ms / 1e3):.0f} tokens/s"
    )


if __name__ == "__main__":
    main()
