#!/usr/bin/env python3
"""Time one T5 training step in PyTorch + Hugging Face transformers (CPU or GPU).

The PyTorch side of the recalign-t5 training-step benchmark: same model
shapes, batch and step as the Rust benchmark, so throughputs can be compared.

Setup (pinned torch==2.15.0, transformers==5.24.0; never used by CI):

    scripts/python/setup-torch.sh
    .venv-torch/bin/python scripts/bench/t5_step_torch.py --preset tiny
    .venv-torch/bin/python scripts/bench/t5_step_torch.py --preset small --batch 32 --src-len 64 --tgt-len 8

Model: T5ForConditionalGeneration from scratch (HF's own init), float32,
train() mode (dropout 0.1 active), gated-gelu, untied lm_head (own
`lm_head.weight`, no decoder-output scaling, like T5 v1.1 / FLAN-T5).
Presets:
    tiny   vocab 2048, d_model 64,  d_kv 16, 4 heads, d_ff 128,  2+2 blocks
    small  vocab 8192, d_model 256, d_kv 64, 4 heads, d_ff 1024, 4+4 blocks
both with 32 relative-attention buckets, max distance 128. --config JSON
(inline JSON or a path to a config.json) replaces the preset; its keys are
T5Config keyword arguments.

Data (seeded): random encoder ids in [2, vocab); half the rows (the odd ones)
end in 8 padding positions (id 0, attention_mask 0); labels are random ids in
[2, vocab) (no -100). One step = model(input_ids, attention_mask, labels) ->
loss.backward() -> torch.optim.AdamW(lr=1e-3).step() -> zero_grad(). The first
--warmup steps are not timed. Prints one JSON line on stdout.

Device and precision (used by `scripts/gpu/check.sh`): --device cpu|cuda[:N]
(default cpu) moves model and batch there; on a GPU every timed step ends
with torch.cuda.synchronize(), so a step's time is its own. --bf16 runs the
forward pass and loss under torch.autocast(device type, bfloat16) with f32
weights and optimizer state (PyTorch's mixed precision; the recalign side
is `[train] precision = "bf16"`). TF32 is left at PyTorch's default (off for
matrix products); the JSON says which.

transformers 5.x quirk: T5Config(tie_word_embeddings=False) only turns off the
output scaling and still ties lm_head to shared (see
scripts/fixtures/t5_parity.py), so the head is untied by hand here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

PRESETS = {
    "tiny": dict(
        vocab_size=2048, d_model=64, d_kv=16, num_heads=4, d_ff=128,
        num_layers=2, num_decoder_layers=2,
    ),
    "small": dict(
        vocab_size=8192, d_model=256, d_kv=64, num_heads=4, d_ff=1024,
        num_layers=4, num_decoder_layers=4,
    ),
}
COMMON = dict(
    relative_attention_num_buckets=32,
    relative_attention_max_distance=128,
    feed_forward_proj="gated-gelu",
    tie_word_embeddings=False,
    dropout_rate=0.1,
    layer_norm_epsilon=1e-6,
    pad_token_id=0,
    eos_token_id=1,
    decoder_start_token_id=0,
)
PAD_POSITIONS = 8
SEED = 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--preset", choices=sorted(PRESETS), default=None)
    g.add_argument("--config", help="T5Config kwargs as inline JSON or a JSON file path")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--src-len", type=int, default=64)
    p.add_argument("--tgt-len", type=int, default=8)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--bf16", action="store_true", help="autocast the forward pass to bfloat16")
    args = p.parse_args(argv)
    if args.src_len <= PAD_POSITIONS:
        p.error(f"--src-len must exceed {PAD_POSITIONS}")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from torch import nn
    from transformers import T5Config, T5ForConditionalGeneration

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        p.error(f"--device {args.device}: torch sees no GPU")

    if args.config:
        text = Path(args.config).read_text() if Path(args.config).is_file() else args.config
        kwargs = {**COMMON, **json.loads(text)}
        preset = "custom"
    else:
        preset = args.preset or "tiny"
        kwargs = {**COMMON, **PRESETS[preset]}
    tied = kwargs.get("tie_word_embeddings", True)
    config = T5Config(**kwargs)
    model = T5ForConditionalGeneration(config)
    if not tied:
        model.lm_head.weight = nn.Parameter(torch.randn_like(model.shared.weight))
        model.all_tied_weights_keys.pop("lm_head.weight", None)
    assert (model.lm_head.weight is model.shared.weight) == bool(tied)
    model.to(device)
    model.train()
    n_params = sum(t.numel() for t in model.parameters())

    gen = torch.Generator().manual_seed(SEED)
    vocab = config.vocab_size
    input_ids = torch.randint(2, vocab, (args.batch, args.src_len), generator=gen)
    attention_mask = torch.ones_like(input_ids)
    input_ids[1::2, -PAD_POSITIONS:] = 0
    attention_mask[1::2, -PAD_POSITIONS:] = 0
    labels = torch.randint(2, vocab, (args.batch, args.tgt_len), generator=gen)
    input_ids, attention_mask, labels = (t.to(device) for t in (input_ids, attention_mask, labels))

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16)

    def step() -> float:
        with autocast:
            out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss = out.loss.item()
        if cuda:
            torch.cuda.synchronize(device)
        return loss

    for _ in range(args.warmup):
        step()
    times, losses = [], []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t0)

    median = statistics.median(times)
    result = {
        "framework": "pytorch",
        "preset": preset,
        "batch": args.batch,
        "src_len": args.src_len,
        "tgt_len": args.tgt_len,
        "steps": args.steps,
        "median_step_s": median,
        "min_step_s": min(times),
        "tokens_per_s": args.batch * (args.src_len + args.tgt_len) / median,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": args.threads,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if cuda else None,
        "precision": "bf16" if args.bf16 else "f32",
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "peak_gpu_mb": torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None,
        "params": n_params,
        "first_loss": losses[0],
        "last_loss": losses[-1],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
