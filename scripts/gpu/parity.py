#!/usr/bin/env python3
"""The HF side of the GPU parity check (scripts/gpu/check.sh, part `parity`).

For each committed fixture (crates/t5/tests/fixtures/{gated,tied-relu}), runs
HF transformers' T5ForConditionalGeneration from the fixture's own files on
--device, on the fixture's reference inputs, in eval mode: once in f32 (TF32
off, PyTorch's default for matrix products, set explicitly) and once under
torch.autocast(device type, bfloat16). Compares each with what recalign
computed on the same device and precision (`hf_reference --device D
--precision P --out OURS/<fixture>-<P>.safetensors`, written by check.sh
before this runs) and with the committed f32 reference (HF on the CPU).

Prints one JSON object: per fixture and precision, the largest absolute
differences of logits (and the loss's difference) between recalign and HF on
this device, and of each from the committed reference. An output of ours
that is missing is reported as such, not raised.

    python scripts/gpu/parity.py --device cuda --fixtures crates/t5/tests/fixtures --ours DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))

import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402

import t5_parity  # noqa: E402  (scripts/fixtures: _quiet_transformers)

FIXTURES = ("gated", "tied-relu")


def read(path: Path) -> dict:
    with safe_open(str(path), "pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def diff(a: torch.Tensor, b: torch.Tensor) -> float | None:
    if a.shape != b.shape:
        return None
    return (a.float().cpu() - b.float().cpu()).abs().max().item()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--fixtures", type=Path, required=True)
    p.add_argument("--ours", type=Path, required=True)
    args = p.parse_args(argv)

    t5_parity._quiet_transformers()
    import transformers
    from transformers import T5ForConditionalGeneration

    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit(f"--device {args.device}: torch sees no GPU")
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    result = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "fixtures": {},
    }
    worst = 0.0
    for name in FIXTURES:
        ckpt = args.fixtures / name
        ref = read(ckpt / "reference.safetensors")
        model = T5ForConditionalGeneration.from_pretrained(str(ckpt), dtype=torch.float32).to(device).eval()
        inputs = {k: ref[k].to(device) for k in ("input_ids", "attention_mask", "labels")}
        entry = {"max_abs_reference_logit": ref["logits"].abs().max().item()}
        for precision in ("f32", "bf16"):
            with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                out = model(**inputs)
            hf_logits, hf_loss = out.logits.float().cpu(), out.loss.float().cpu().reshape(1)
            row = {
                "hf_vs_reference_logits_max_abs_diff": diff(hf_logits, ref["logits"]),
                "hf_loss": hf_loss.item(),
            }
            ours_path = args.ours / f"{name}-{precision}.safetensors"
            if ours_path.is_file():
                ours = read(ours_path)
                row["recalign_vs_hf_logits_max_abs_diff"] = diff(ours["logits"], hf_logits)
                row["recalign_vs_hf_loss_abs_diff"] = diff(ours["loss"].reshape(1), hf_loss)
                row["recalign_vs_reference_logits_max_abs_diff"] = diff(ours["logits"], ref["logits"])
                row["recalign_loss"] = ours["loss"].reshape(-1)[0].item()
                if precision == "f32" and row["recalign_vs_hf_logits_max_abs_diff"] is not None:
                    worst = max(worst, row["recalign_vs_hf_logits_max_abs_diff"])
            else:
                row["recalign"] = f"missing: {ours_path} (hf_reference did not run or failed)"
            entry[precision] = row
        result["fixtures"][name] = entry
    result["f32_recalign_vs_hf_logits_max_abs_diff"] = worst
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
