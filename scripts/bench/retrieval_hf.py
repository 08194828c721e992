#!/usr/bin/env python3
"""Peer baseline: Hugging Face transformers constrained beam search (P5/OpenP5 style).

Measures users/second of `T5ForConditionalGeneration.generate` with a prefix trie passed
as `prefix_allowed_tokens_fn`, on the same checkpoint and pre-tokenized prompts that the
Rust retrieval bench uses.

Input (--requests), written by the Rust bench:
  {"prompts": [[ids...], ...], "items": [[ids..., eos], ...], "k": 20, "beams": 20,
   "batch_users": 16, "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1}

No tokenizer is loaded: prompts and items are already token ids.
Runs fp32, model.eval(), torch.inference_mode(), on the CPU or on --device cuda[:N]
(the prompts are moved there; the prefix function runs on the host, as in P5/OpenP5).

Usage:
  python scripts/bench/retrieval_hf.py --model DIR --requests req.json [--batch-users 16] --out res.json
"""

import argparse
import json
import resource
import sys
import time

import torch
import transformers
from transformers import T5ForConditionalGeneration


def build_allowed(items, pad_token_id):
    """Prefix trie flattened into {prefix tuple: sorted allowed next tokens}.

    A prefix that is a complete item (a leaf, i.e. ended with eos) maps to [pad_token_id],
    which is the HF convention for finished beams.
    """
    children = {}
    for item in items:
        seq = tuple(int(t) for t in item)
        for i in range(len(seq)):
            children.setdefault(seq[:i], set()).add(seq[i])
        children.setdefault(seq, set())
    allowed = {}
    for prefix, nxt in children.items():
        allowed[prefix] = sorted(nxt) if nxt else [pad_token_id]
    return allowed


def pad_batch(prompts, pad_token_id):
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, p in enumerate(prompts):
        ids[row, : len(p)] = torch.tensor(p, dtype=torch.long)
        mask[row, : len(p)] = 1
    return ids, mask


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF T5 dir (config.json, model.safetensors)")
    ap.add_argument("--requests", required=True, help="requests JSON written by the Rust bench")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch default)")
    ap.add_argument("--out", default=None, help="write the JSON result here")
    ap.add_argument("--max-users", type=int, default=None, help="use only the first N prompts")
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    ap.add_argument("--batch-users", type=int, default=None, help="users per batch (default: the requests')")
    args = ap.parse_args(argv)

    if args.threads is not None:
        torch.set_num_threads(args.threads)

    with open(args.requests) as f:
        req = json.load(f)
    prompts = [[int(t) for t in p] for p in req["prompts"]]
    items = [[int(t) for t in it] for it in req["items"]]
    k = int(req["k"])
    beams = int(req["beams"])
    batch_users = int(args.batch_users if args.batch_users is not None else req["batch_users"])
    start_id = int(req.get("decoder_start_token_id", 0))
    pad_id = int(req.get("pad_token_id", 0))
    eos_id = int(req.get("eos_token_id", 1))
    if args.max_users is not None:
        prompts = prompts[: args.max_users]
    if not prompts:
        sys.exit("no prompts")
    if not items:
        sys.exit("no items")
    if k > beams:
        sys.exit(f"k={k} > beams={beams}: HF requires num_return_sequences <= num_beams")
    if batch_users < 1:
        sys.exit("batch_users must be >= 1")

    allowed = build_allowed(items, pad_id)
    item_set = {tuple(it) for it in items}
    max_item_len = max(len(it) for it in items)
    fallback = [pad_id]

    def prefix_allowed_tokens_fn(batch_id, input_ids):
        # input_ids: decoder ids of one beam, starting with decoder_start_token_id.
        prefix = tuple(input_ids.tolist()[1:])
        return allowed.get(prefix, fallback)

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit(f"--device {args.device}: torch sees no GPU")
    model = T5ForConditionalGeneration.from_pretrained(args.model, dtype=torch.float32)
    model = model.to(device).float().eval()

    gen_kwargs = dict(
        num_beams=beams,
        num_return_sequences=k,
        max_new_tokens=max_item_len,
        min_length=0,
        prefix_allowed_tokens_fn=prefix_allowed_tokens_fn,
        early_stopping=True,
        do_sample=False,
        length_penalty=0.0,
        no_repeat_ngram_size=0,
        repetition_penalty=1.0,
        decoder_start_token_id=start_id,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        output_scores=False,
        return_dict_in_generate=True,
        use_cache=True,
    )

    batches = [prompts[i : i + batch_users] for i in range(0, len(prompts), batch_users)]

    def run_batch(batch):
        ids, mask = pad_batch(batch, pad_id)
        out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), **gen_kwargs)
        return out.sequences.cpu()

    with torch.inference_mode():
        # Untimed warm-up.
        run_batch(batches[0])

        outputs = []
        t0 = time.perf_counter()
        for batch in batches:
            outputs.append(run_batch(batch))
        seconds = time.perf_counter() - t0

    # Validity: per user, distinct returned sequences that are items (strip start, trailing pads).
    n_users = len(prompts)
    valid_distinct = 0
    valid_total = 0
    returned = 0
    for batch, seqs in zip(batches, outputs):
        rows = seqs.tolist()
        assert len(rows) == len(batch) * k, (len(rows), len(batch), k)
        for u in range(len(batch)):
            seen = set()
            for row in rows[u * k : (u + 1) * k]:
                returned += 1
                toks = row[1:] if row and row[0] == start_id else row
                # HF fills finished beams with `pad_token_id or eos_token_id`: with T5's pad id 0
                # (falsy) the filler is eos, so cut at the first eos and require only filler after.
                if eos_id not in toks:
                    continue
                end = toks.index(eos_id) + 1
                if any(x != pad_id and x != eos_id for x in toks[end:]):
                    continue
                t = tuple(toks[:end])
                if t in item_set:
                    valid_total += 1
                    seen.add(t)
            valid_distinct += len(seen)

    result = {
        "users": n_users,
        "seconds": seconds,
        "users_per_second": n_users / seconds if seconds > 0 else float("inf"),
        "k": k,
        "beams": beams,
        "batch_users": batch_users,
        "valid_fraction": valid_distinct / (n_users * k),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # extras
        "returned_sequences": returned,
        "valid_sequences": valid_total,
        "valid_distinct": valid_distinct,
        "max_new_tokens": max_item_len,
        "n_items": len(items),
    }
    text = json.dumps(result)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
