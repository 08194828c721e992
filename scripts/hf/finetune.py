#!/usr/bin/env python3
"""Fine-tune a recalign model, or a FLAN-T5 directory, on recalign samples
with Hugging Face's Seq2SeqTrainer, and write a recalign model directory.

`recalign train` runs on one machine. This script is the way to many GPUs
and nodes: under `accelerate launch` the same run uses DDP, DeepSpeed or
FSDP as the accelerate config says. Samples are tokenised and cut as
`recalign train` cuts them (inputs keep their end, targets their start, both
end in </s>; whole tokens of the samples manifest are added as recalign adds
them), the loss is the token mean over target tokens, and the directory it
writes is read unchanged by `recalign evaluate`, `recommend` and `serve`.
See scripts/hf/README.md.
"""

import argparse
import gzip
import json
import os
import shutil
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from tokenizers import Tokenizer
from transformers import (
    HfArgumentParser,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    T5ForConditionalGeneration,
    set_seed,
)

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
SENTINELS = 100
IGNORE = -100
ENCODE_CHUNK = 4096
# What recalign assumes when the model directory has no training record.
DEFAULT_MAX_INPUT_TOKENS = 512
DEFAULT_MAX_TARGET_TOKENS = 64
# Seq2SeqTrainingArguments set by this script's own flags, or fixed by it.
OWNED = {
    "output_dir": "--out",
    "max_steps": "--max-steps",
    "per_device_train_batch_size": "--batch-size",
    "learning_rate": "--lr",
    "seed": "--seed",
    "bf16": "--bf16",
    "report_to": None,
    "remove_unused_columns": None,
    "resume_from_checkpoint": "--resume",
}


class UserError(Exception):
    """A bad input: reported in one line, without a traceback."""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        allow_abbrev=False,
        epilog="Any other --flag of Seq2SeqTrainingArguments is passed through "
        "(e.g. --gradient_accumulation_steps 4, --warmup_steps 100, "
        "--deepspeed ds.json, --save_strategy steps --save_steps 500).",
    )
    parser.add_argument("--model", required=True, type=Path,
                        help="a recalign model directory or checkpoint, or a FLAN-T5 directory")
    parser.add_argument("--samples", required=True, type=Path,
                        help="training samples (train.jsonl or .jsonl.gz); the manifest.json "
                        "beside it is copied into the output")
    parser.add_argument("--valid", type=Path, help="validation samples (valid.jsonl[.gz])")
    parser.add_argument("--valid-samples", type=int, default=1000,
                        help="validation samples used, the first ones of --valid (default 1000)")
    parser.add_argument("--out", required=True, type=Path, help="the model directory to write")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--max-steps", type=int,
                        help="optimizer steps (default: one epoch, or --num_train_epochs)")
    parser.add_argument("--batch-size", type=int, default=16, help="sequences per device per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bf16", action="store_true",
                        help="bf16 mixed precision (weights stay f32)")
    parser.add_argument("--max-input-tokens", type=int,
                        help="input budget (default: the model's train.toml, else 512)")
    parser.add_argument("--max-target-tokens", type=int,
                        help="target budget (default: the model's train.toml, else 64)")
    parser.add_argument("--work-dir", type=Path,
                        help="the Trainer's output_dir, for checkpoints (default OUT.work)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the newest checkpoint in --work-dir")
    ours, passed = parser.parse_known_args(argv)
    for arg in passed:
        if not arg.startswith("--"):
            continue
        key = arg[2:].split("=", 1)[0].replace("-", "_")
        if key in OWNED:
            flag = OWNED[key]
            hint = f"; use {flag}" if flag else " by this script"
            raise UserError(f"--{key} is set{hint}")
    for name in ("max_steps", "batch_size", "valid_samples", "max_input_tokens",
                 "max_target_tokens"):
        value = getattr(ours, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')}: {value} is not a positive integer")
    for name in ("max_input_tokens", "max_target_tokens"):
        value = getattr(ours, name)
        if value is not None and value < 2:
            raise UserError(f"--{name.replace('_', '-')}: must be at least 2")
    if not ours.lr > 0:
        raise UserError(f"--lr: {ours.lr} is not positive")
    return ours, passed


def training_arguments(ours, passed, work_dir):
    """Seq2SeqTrainingArguments: recalign's defaults, then the passed-through
    flags (which win), then this script's own settings."""
    defaults = [
        "--weight_decay", "0.01",
        "--warmup_steps", "50",
        "--max_grad_norm", "1.0",
        "--lr_scheduler_type", "linear",
        "--logging_steps", "10",
        "--logging_first_step", "true",
        "--save_strategy", "no",
        "--prediction_loss_only", "true",
        "--ddp_find_unused_parameters", "false",
        "--data_seed", str(ours.seed),
    ]
    if ours.valid is not None:
        defaults += ["--eval_strategy", "steps", "--eval_steps", "200", "--eval_on_start", "true",
                     "--per_device_eval_batch_size", str(ours.batch_size)]
    fixed = [
        "--output_dir", str(work_dir),
        "--per_device_train_batch_size", str(ours.batch_size),
        "--learning_rate", repr(ours.lr),
        "--seed", str(ours.seed),
        "--report_to", "none",
        "--remove_unused_columns", "false",
        "--bf16", "true" if ours.bf16 else "false",
    ]
    if ours.max_steps is not None:
        fixed += ["--max_steps", str(ours.max_steps)]
    parser = HfArgumentParser(Seq2SeqTrainingArguments)
    try:
        (args, rest) = parser.parse_args_into_dataclasses(
            args=defaults + passed + fixed, return_remaining_strings=True,
            look_for_args_file=False)
    except ValueError as error:
        raise UserError(f"training arguments: {error}") from None
    if rest:
        raise UserError(f"unknown arguments {' '.join(rest)}: neither a flag of this script "
                        "nor a Seq2SeqTrainingArguments field")
    return args


def find_up(directory, name):
    """`name` in `directory` or one of the two above it, as recalign looks up
    a checkpoint's training record and samples manifest."""
    for parent in [directory, *directory.parents][:3]:
        if (parent / name).is_file():
            return parent / name
    return None


def read_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: {error}") from None


def training_budget(model_dir):
    """Input and target budgets from the model's `train.toml`, if any."""
    path = find_up(model_dir, "train.toml")
    if path is None:
        return DEFAULT_MAX_INPUT_TOKENS, DEFAULT_MAX_TARGET_TOKENS
    try:
        train = tomllib.loads(path.read_text(encoding="utf-8")).get("train", {})
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: {error}") from None
    budgets = []
    for key, default in (("max_input_tokens", DEFAULT_MAX_INPUT_TOKENS),
                         ("max_target_tokens", DEFAULT_MAX_TARGET_TOKENS)):
        value = train.get(key, default)
        if not isinstance(value, int) or value < 2:
            raise UserError(f"{path}: train.{key}: {value!r} is not an integer of at least 2")
        budgets.append(value)
    return tuple(budgets)


def whole_tokens(manifest):
    """The tokens a samples manifest needs kept whole, checked as recalign
    checks them."""
    if manifest is None:
        return []
    tokens = read_json(manifest).get("whole_tokens", [])
    seen = set()
    for token in tokens:
        inner = token[1:-1] if token.startswith("<") and token.endswith(">") else ""
        if not inner or any(c in inner for c in "<>") or any(c.isspace() for c in inner):
            raise UserError(f"{manifest}: whole token `{token}` must read `<…>`, "
                            "without spaces or inner brackets")
        if token in seen:
            raise UserError(f"{manifest}: whole token `{token}` is repeated")
        seen.add(token)
    return tokens


class T5Tokens:
    """A `tokenizer.json` checked to have T5's special tokens, as recalign
    checks it, and to agree with the model's config."""

    def __init__(self, path, config):
        """`config` is the model's config.json, read with T5's defaults for
        the token ids it leaves out."""
        try:
            self.tokenizer = Tokenizer.from_file(str(path))
        except Exception as error:
            raise UserError(f"{path}: {error}") from None
        self.path = path
        ids = {}
        for token in [PAD, EOS, UNK] + [f"<extra_id_{i}>" for i in range(SENTINELS)]:
            ids[token] = self.tokenizer.token_to_id(token)
            if ids[token] is None:
                raise UserError(f"{path}: the tokenizer has no `{token}` token")
        self.pad, self.eos = ids[PAD], ids[EOS]
        if self.tokenizer.encode("x").ids[-1:] != [self.eos]:
            raise UserError(f"{path}: the tokenizer's post-processor does not append `{EOS}`")
        for token, key, default in ((PAD, "pad_token_id", 0), (EOS, "eos_token_id", 1),
                                    (UNK, "unk_token_id", ids[UNK])):
            if ids[token] != config.get(key, default):
                raise UserError(f"{path}: the tokenizer's {token} is id {ids[token]}, but the "
                                f"config's {key} is {config.get(key, default)}")
        if len(self) > config.get("vocab_size", 32128):
            raise UserError(f"{path}: the tokenizer has {len(self)} tokens but the model's "
                            f"vocab_size is {config.get('vocab_size', 32128)}; they are not a pair")
        self.added = 0
        self.text = None

    def add_whole_tokens(self, tokens):
        """Adds the tokens the vocabulary lacks, after every existing id, as
        recalign adds them. The JSON is edited rather than re-serialised, so
        the rest of the file (the pieces' scores) stays as written."""
        missing = [t for t in tokens if self.tokenizer.token_to_id(t) is None]
        if not missing:
            return
        document = json.loads(self.path.read_text(encoding="utf-8"))
        first = len(self)
        for offset, token in enumerate(missing):
            document.setdefault("added_tokens", []).append({
                "id": first + offset, "content": token, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": True, "special": False})
        self.text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        self.tokenizer = Tokenizer.from_str(self.text)
        for offset, token in enumerate(missing):
            if self.tokenizer.token_to_id(token) != first + offset:
                raise UserError(f"{self.path}: whole token `{token}` could not be added as id "
                                f"{first + offset}")
        self.added = len(missing)

    def __len__(self):
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    def encode(self, texts):
        ids = []
        for start in range(0, len(texts), ENCODE_CHUNK):
            batch = self.tokenizer.encode_batch(texts[start:start + ENCODE_CHUNK])
            ids.extend(e.ids for e in batch)
        return ids


def read_samples(path, limit=None):
    """`(input, target)` pairs of a samples file; errors name the file and
    line."""
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        handle = gzip.open(path, "rt", encoding="utf-8") if gzipped else open(
            path, encoding="utf-8")
    except OSError as error:
        raise UserError(f"{path}: {error.strerror or error}") from None
    inputs, targets = [], []
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                if limit is not None and len(inputs) >= limit:
                    break
                if not line.strip():
                    continue
                try:
                    sample = json.loads(line)
                except ValueError as error:
                    raise UserError(f"{path}:{number}: not JSON: {error}") from None
                if not isinstance(sample, dict):
                    raise UserError(f"{path}:{number}: not a JSON object")
                for field in ("input", "target"):
                    if not isinstance(sample.get(field), str):
                        raise UserError(f"{path}:{number}: field `{field}` is missing or "
                                        "not a string")
                if not sample["target"]:
                    raise UserError(f"{path}:{number}: field `target` is empty")
                inputs.append(sample["input"])
                targets.append(sample["target"])
        except (OSError, EOFError, UnicodeDecodeError) as error:
            raise UserError(f"{path}: {error}") from None
    if not inputs:
        raise UserError(f"{path}: no samples")
    return inputs, targets


class Examples(torch.utils.data.Dataset):
    """Tokenised samples, cut as recalign cuts them: an input keeps its end
    (the most recent history and the question), a target its start, and
    both end in </s>."""

    def __init__(self, tokens, inputs, targets, max_input, max_target):
        self.inputs, self.labels = [], []
        self.cut_inputs = self.cut_targets = 0
        for source, target in zip(tokens.encode(inputs), tokens.encode(targets)):
            if len(source) > max_input:
                source = source[len(source) - max_input:]
                self.cut_inputs += 1
            if len(target) > max_target:
                target = target[:max_target - 1] + [tokens.eos]
                self.cut_targets += 1
            self.inputs.append(np.asarray(source, dtype=np.int64))
            self.labels.append(np.asarray(target, dtype=np.int64))

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return {"input_ids": self.inputs[index], "labels": self.labels[index]}


class Collator:
    """Pads a batch: inputs with <pad>, labels with -100; the decoder input
    is the labels shifted right behind the decoder start token, as T5's own
    `_shift_right` makes it."""

    def __init__(self, pad, decoder_start):
        self.pad, self.start = pad, decoder_start

    def __call__(self, features):
        rows = len(features)
        source = max(len(f["input_ids"]) for f in features)
        target = max(len(f["labels"]) for f in features)
        input_ids = np.full((rows, source), self.pad, dtype=np.int64)
        attention_mask = np.zeros((rows, source), dtype=np.int64)
        labels = np.full((rows, target), IGNORE, dtype=np.int64)
        for row, feature in enumerate(features):
            n, m = len(feature["input_ids"]), len(feature["labels"])
            input_ids[row, :n] = feature["input_ids"]
            attention_mask[row, :n] = 1
            labels[row, :m] = feature["labels"]
        decoder_input_ids = np.full_like(labels, self.pad)
        decoder_input_ids[:, 0] = self.start
        decoder_input_ids[:, 1:] = np.where(labels[:, :-1] == IGNORE, self.pad, labels[:, :-1])
        return {
            "input_ids": torch.from_numpy(input_ids),
            "attention_mask": torch.from_numpy(attention_mask),
            "decoder_input_ids": torch.from_numpy(decoder_input_ids),
            "labels": torch.from_numpy(labels),
        }


def token_mean_loss(outputs, labels, num_items_in_batch=None):
    """Cross-entropy summed over target tokens and divided by the target
    tokens of the whole step (all micro-batches and devices, as the Trainer
    counts them): the token mean of T5's loss, exact under gradient
    accumulation and data parallelism."""
    logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
    total = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.size(-1)), labels.reshape(-1).to(logits.device),
        ignore_index=IGNORE, reduction="sum")
    if num_items_in_batch is None:
        num_items_in_batch = (labels != IGNORE).sum()
    if torch.is_tensor(num_items_in_batch):
        num_items_in_batch = num_items_in_batch.to(total.device)
    return total / num_items_in_batch


def grow_vocab(model, vocab_size):
    """Gives the model `vocab_size` embedding rows, the new ones the mean of
    the old, as recalign does for whole tokens added to a pretrained
    tokenizer (without HF's resize, which would tie an untied head)."""
    extra = vocab_size - model.config.vocab_size
    if extra <= 0:
        return
    tied = is_tied(model)
    with torch.no_grad():
        old = model.shared.weight
        embedding = torch.nn.Embedding(vocab_size, old.shape[1], dtype=old.dtype)
        embedding.weight.copy_(torch.cat([old, old.mean(0, keepdim=True).expand(extra, -1)]))
        model.set_input_embeddings(embedding)
        if tied:
            model.lm_head.weight = embedding.weight
        else:
            head = model.lm_head.weight
            lm_head = torch.nn.Linear(head.shape[1], vocab_size, bias=False, dtype=head.dtype)
            lm_head.weight.copy_(torch.cat([head, head.mean(0, keepdim=True).expand(extra, -1)]))
            model.lm_head = lm_head
    model.config.vocab_size = vocab_size


def is_tied(model):
    """Whether the head is the input embedding (original T5) or its own
    tensor (T5 v1.1, FLAN-T5, recalign's presets)."""
    return model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()


def load_model(model_dir):
    for name in ("config.json", "tokenizer.json"):
        if not (model_dir / name).is_file():
            raise UserError(f"{model_dir}: not a model directory (no {name})")
    config = read_json(model_dir / "config.json")
    try:
        model = T5ForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32)
    except (OSError, ValueError) as error:
        raise UserError(f"{model_dir}: {error}") from None
    return config, model


def recalign_config(original, model, tied):
    """The input's config.json with what fine-tuning changed: the vocabulary
    size, and the head's tying and output scaling written out, since HF 5
    saves `tie_word_embeddings: true` for every T5 while recalign reads it as
    the file's word on whether `lm_head.weight` is its own tensor."""
    config = dict(original)
    config["vocab_size"] = model.config.vocab_size
    config["tie_word_embeddings"] = tied
    config["scale_decoder_outputs"] = bool(model.config.scale_decoder_outputs)
    return config


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def training_record(args, ours, budgets, world):
    """recalign's `train.toml`: the `[train]` keys that say what this run
    did in recalign's terms (recalign reads `max_input_tokens` from it)."""
    train = {
        "seed": args.seed,
        "batch_size": args.per_device_train_batch_size * world,
        "grad_accum": args.gradient_accumulation_steps,
        "learning_rate": args.learning_rate,
        "loss_average": "tokens",
        "max_input_tokens": budgets[0],
        "max_target_tokens": budgets[1],
    }
    if args.max_steps > 0:
        train["max_steps"] = args.max_steps
    elif float(args.num_train_epochs).is_integer():
        train["epochs"] = int(args.num_train_epochs)
    if float(args.warmup_steps).is_integer() and args.warmup_steps >= 1:
        train["warmup_steps"] = int(args.warmup_steps)
    if args.max_grad_norm and args.max_grad_norm > 0:
        train["clip_norm"] = args.max_grad_norm
    scheduler = getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)
    schedule = {"linear": "linear", "constant": "constant",
                "constant_with_warmup": "constant"}.get(scheduler)
    if schedule:
        train["schedule"] = schedule
    if ours.bf16:
        train["precision"] = "bf16"
    lines = [
        "# Written by scripts/hf/finetune.py: fine-tuned with Hugging Face's Seq2SeqTrainer",
        "# (all its settings in finetune.json), not `recalign train`.",
        "[train]",
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in train.items()]
    return "\n".join(lines) + "\n"


def check_weights(directory, tied):
    """The saved weights are one `model.safetensors`, as recalign reads them."""
    path = directory / "model.safetensors"
    if not path.is_file():
        raise UserError(
            f"{directory}: the Trainer saved no single model.safetensors (sharded weights, or "
            "DeepSpeed ZeRO-3 without stage3_gather_16bit_weights_on_model_save); recalign "
            "reads one file")
    with safe_open(str(path), framework="pt") as weights:
        names = set(weights.keys())
    if "shared.weight" not in names or (not tied and "lm_head.weight" not in names):
        raise UserError(f"{path}: shared.weight or lm_head.weight is missing")


def finish(staged, out, model_dir, config, tokens, manifest, record, summary):
    """Completes the staged directory with recalign's files and moves it to
    `out`."""
    (staged / "training_args.bin").unlink(missing_ok=True)
    check_weights(staged, config["tie_word_embeddings"])
    (staged / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    if tokens.added:
        (staged / "tokenizer.json").write_text(tokens.text, encoding="utf-8")
    else:
        shutil.copyfile(model_dir / "tokenizer.json", staged / "tokenizer.json")
    if manifest is not None:
        (staged / "samples").mkdir(exist_ok=True)
        shutil.copyfile(manifest, staged / "samples" / "manifest.json")
    (staged / "train.toml").write_text(record, encoding="utf-8")
    (staged / "finetune.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    umask = os.umask(0)
    os.umask(umask)
    for path in staged.rglob("*"):
        if path.is_file():
            path.chmod(0o666 & ~umask)
    old = out.with_name(f".{out.name}.old")
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.rename(out, old)
    os.rename(staged, out)
    shutil.rmtree(old, ignore_errors=True)


def run(argv):
    ours, passed = parse_args(argv)
    out = ours.out.absolute()
    if out.exists() and not ours.overwrite and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out}: exists; give --overwrite to replace it")
    work_dir = (ours.work_dir or out.with_name(out.name + ".work")).absolute()
    if ours.resume and not any(work_dir.glob("checkpoint-*")):
        raise UserError(f"{work_dir}: no checkpoint-* to resume from")
    args = training_arguments(ours, passed, work_dir)
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != args.world_size:
        raise UserError(f"launched as {launched} processes, but the Trainer runs "
                        f"{args.world_size}; on CPUs give --use_cpu true")
    is_main = args.process_index == 0

    def say(message):
        if is_main:
            print(f"finetune: {message}", flush=True)

    set_seed(args.seed)
    inputs, targets = read_samples(ours.samples)
    valid_pairs = read_samples(ours.valid, ours.valid_samples) if ours.valid else None
    model_dir = ours.model
    config, model = load_model(model_dir)
    tokens = T5Tokens(model_dir / "tokenizer.json", config)
    manifest = ours.samples.parent / "manifest.json"
    if not manifest.is_file():
        manifest = find_up(model_dir, "samples/manifest.json")
    tokens.add_whole_tokens(whole_tokens(manifest))
    if tokens.added:
        say(f"{tokens.added} whole tokens added to the tokenizer (from {manifest})")
    grow_vocab(model, max(len(tokens), model.config.vocab_size))
    tied = is_tied(model)
    recorded = training_budget(model_dir)
    budgets = (ours.max_input_tokens or recorded[0], ours.max_target_tokens or recorded[1])

    train = Examples(tokens, inputs, targets, *budgets)
    say(f"{len(train)} training samples from {ours.samples} ({train.cut_inputs} inputs cut to "
        f"{budgets[0]} tokens, {train.cut_targets} targets to {budgets[1]})")
    valid = None
    if valid_pairs is not None:
        valid = Examples(tokens, *valid_pairs, *budgets)
        say(f"{len(valid)} validation samples from {ours.valid}")
    del inputs, targets, valid_pairs

    trainer = Seq2SeqTrainer(
        model=model,
        args=args,
        data_collator=Collator(tokens.pad, config.get("decoder_start_token_id", 0)),
        train_dataset=train,
        eval_dataset=valid,
        compute_loss_func=token_mean_loss,
    )
    started = time.time()
    result = trainer.train(resume_from_checkpoint=True if ours.resume else None)
    metrics = dict(result.metrics)
    evaluated = any(e.get("step") == trainer.state.global_step and "eval_loss" in e
                    for e in trainer.state.log_history)
    if valid is not None and not evaluated:
        metrics.update(trainer.evaluate())

    staged = out.with_name(f".{out.name}.partial")
    if is_main:
        shutil.rmtree(staged, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(staged))
    trainer.accelerator.wait_for_everyone()
    if is_main:
        history = trainer.state.log_history
        losses = [{"step": e["step"], "loss": e["loss"]} for e in history if "loss" in e]
        evals = [{"step": e["step"], "loss": e["eval_loss"]} for e in history if "eval_loss" in e]
        summary = {
            "model": str(model_dir.absolute()),
            "samples": str(ours.samples.absolute()),
            "valid": str(ours.valid.absolute()) if ours.valid else None,
            "manifest": str(manifest.absolute()) if manifest else None,
            "whole_tokens_added": tokens.added,
            "train_samples": len(train),
            "truncated_inputs": train.cut_inputs,
            "truncated_targets": train.cut_targets,
            "processes": args.world_size,
            "steps": trainer.state.global_step,
            "seconds": round(time.time() - started, 3),
            "train_losses": losses,
            "valid_losses": evals,
            "metrics": metrics,
            "training_arguments": json.loads(args.to_json_string()),
        }
        record = training_record(args, ours, budgets, args.world_size)
        finish(staged, out, model_dir, recalign_config(config, model, tied), tokens, manifest,
               record, summary)
        if work_dir.is_dir() and not any(work_dir.iterdir()):
            work_dir.rmdir()
        for name, curve in (("training", losses), ("validation", evals)):
            if curve:
                first, last = curve[0], curve[-1]
                say(f"{name} loss {first['loss']:.3f} (step {first['step']}) → "
                    f"{last['loss']:.3f} (step {last['step']})")
        say(f"{trainer.state.global_step} steps in {summary['seconds']:.1f} s; model: {out}")
    trainer.accelerator.wait_for_everyone()


def main():
    try:
        run(sys.argv[1:])
    except UserError as error:
        print(f"finetune: error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
