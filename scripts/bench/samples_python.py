#!/usr/bin/env python3
"""Plain-Python reference implementation of recalign's training samples.

This is the Python side of `cargo bench -p recalign-samples --bench samples`:
a straightforward implementation (standard library only) of the same
templates and rules as `crates/samples`, timed on the same work, so the two
throughputs can be compared side by side.

Each repetition is timed with time.perf_counter from nothing loaded to the
output file closed:

1. read <data-dir>/<dataset>/interactions.tsv.gz (rows grouped by user,
   chronological per user; file order is kept) and items.jsonl.gz (titles
   HTML-unescaped, whitespace collapsed; a missing title shows the item as
   `ID: x`); leave-one-out split (last = test, second-last = validation, the
   rest = training); item identifiers are a seeded random permutation of
   1..n over the items sorted by raw id;
2. for every user, training samples only, in this order: retrieval on every
   training prefix; one ranking sample (target + 99 uniform negatives never
   in the user's sequence, shown as `ID: x` since there are more than 20);
   one masked-item (MIM) sample; one masked-language (MLM, T5 span
   corruption over title words) sample; one BPR sample. Each sample draws
   its template uniformly from its task's informative rows. Histories show
   the last 20 items as `ID: x, title: t` joined by `; `, dropping the
   oldest while the input would exceed 2000 characters (at least one kept);
3. one JSON object per line: task, template, split, user, input, target,
   target_items (compact separators, UTF-8, as serde_json writes them).

The random draws come from Python's `random` module, not from the Rust
side's per-user ChaCha streams, so individual samples differ from the Rust
output while their shape, counts and sizes match. Lengths are counted in
characters (Rust counts UTF-8 bytes; the same for the ASCII Amazon titles).
Rating samples are not made: the shared Amazon files carry no ratings.

It prints one JSON object on stdout (timings, sample count, throughput).

Run:
    python3 scripts/bench/samples_python.py \\
        --data-dir /work/shared/data --dataset beauty \\
        --out /tmp/py-samples.jsonl --repeat 3
"""

import argparse
import gzip
import html
import json
import os
import platform
import resource
import random
import statistics
import string
import time
from pathlib import Path

# Defaults of crates/samples/src/config.rs.
HISTORY = 20
MAX_INPUT_CHARS = 2000
SEPARATOR = "; "
RANKING_CANDIDATES = 100
CANDIDATE_TITLES_MAX = 20  # more candidates than this are shown as `ID: x`
MIM_MASK_RATIO = 0.2
MLM_NOISE_DENSITY = 0.15
MLM_MEAN_SPAN = 3.0
SENTINELS = 100  # T5's <extra_id_0> ... <extra_id_99>

# The informative rows of crates/samples/src/templates.rs: (id, input, target).
TEMPLATES = {
    "retrieval": [
        ("retrieval-1",
         "A user has purchased the following items in order: {history}. What is the next item the user will purchase?",
         "{target}"),
        ("retrieval-2",
         "Here is a user's purchase history, oldest first: {history}. Predict the item the user will buy next.",
         "{target}"),
        ("retrieval-3",
         "Given the items a user bought, in order: {history}. Which item will the user buy next?",
         "{target}"),
    ],
    "ranking": [
        ("ranking-1",
         "A user has purchased the following items in order: {history}. Choose the item the user will purchase next from the following candidates: {candidates}.",
         "{target}"),
        ("ranking-2",
         "Purchase history, oldest first: {history}. Candidates: {candidates}. Which candidate will the user buy next?",
         "{target}"),
        ("ranking-3",
         "A user bought these items in order: {history}. Pick the user's next purchase among: {candidates}.",
         "{target}"),
    ],
    "mim": [
        ("mim-1",
         "A user has purchased the following items in order: {history}. Fill in the masked items.",
         "{target}"),
        ("mim-2",
         "Some items of this purchase history are hidden: {history}. Which items are hidden?",
         "{target}"),
    ],
    "mlm": [
        ("mlm-1",
         "A user has purchased the following items in order: {history}.",
         "{target}"),
        ("mlm-2",
         "Fill in the missing words of this purchase history: {history}.",
         "{target}"),
    ],
    "bpr": [
        ("bpr-1",
         "A user has purchased the following items in order: {history}. Which item will the user prefer? (A) {option_a} (B) {option_b}",
         "({choice}) {target}"),
        ("bpr-2",
         "Purchase history, oldest first: {history}. Which of the two items is the user more likely to buy next? (A) {option_a} (B) {option_b}",
         "({choice}) {target}"),
    ],
}


def literal_length(template):
    """Characters of fixed text in a template (slots excluded)."""
    return sum(len(text) for text, _, _, _ in string.Formatter().parse(template))


LITERAL_LENGTH = {
    input_text: literal_length(input_text)
    for rows in TEMPLATES.values()
    for _, input_text, _ in rows
}


def normalize_title(title):
    """HTML-unescaped, whitespace collapsed; None when empty."""
    if title is None:
        return None
    title = " ".join(html.unescape(title).split())
    return title or None


def round_half_away(x):
    """Rust's f64::round for x >= 0 (Python's round() rounds half to even)."""
    return int(x + 0.5)


def sentinel(i):
    return f"<extra_id_{i}>"


class Dataset:
    """Users' sequences (item indices) and each item's texts, rendered once."""

    def __init__(self, ds_dir, seed):
        # Interactions, grouped by user, in file order.
        sequences = {}
        with gzip.open(ds_dir / "interactions.tsv.gz", "rt", encoding="utf-8") as f:
            next(f)  # header
            for line in f:
                user, item = line.split("\t", 2)[:2]
                sequences.setdefault(user, []).append(item)

        titles = {}
        with gzip.open(ds_dir / "items.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                titles[record["item_id"]] = normalize_title(record.get("title"))

        # Catalogue: items sorted by raw id; identifiers a seeded permutation.
        self.raw_ids = sorted({item for seq in sequences.values() for item in seq})
        index = {raw: i for i, raw in enumerate(self.raw_ids)}
        numbers = list(range(1, len(self.raw_ids) + 1))
        random.Random(seed).shuffle(numbers)

        self.ids = [str(n) for n in numbers]
        self.bare = [f"ID: {n}" for n in numbers]
        self.titles = [titles.get(raw) for raw in self.raw_ids]
        self.full = [
            f"ID: {n}, title: {t}" if t is not None else f"ID: {n}"
            for n, t in zip(numbers, self.titles)
        ]
        self.full_len = [len(text) for text in self.full]
        self.title_words = [t.split(" ") if t is not None else [] for t in self.titles]

        # Leave-one-out: train = all but the last two.
        self.users = []
        for user, seq in sequences.items():
            items = [index[raw] for raw in seq]
            self.users.append((user, items, items[:-2]))

    @property
    def num_items(self):
        return len(self.raw_ids)


class Generator:
    """Training samples of every task, one user at a time."""

    def __init__(self, data, seed):
        self.data = data
        self.rng = random.Random(f"samples/{seed}")

    def template(self, task):
        return self.rng.choice(TEMPLATES[task])

    def window(self, history, fixed):
        """The most recent items of `history` that fit HISTORY and the input
        budget left after `fixed` characters; at least one."""
        recent = history[-HISTORY:]
        available = max(MAX_INPUT_CHARS - fixed, 0)
        used = 0
        count = 0
        for item in reversed(recent):
            add = self.data.full_len[item] + (len(SEPARATOR) if count else 0)
            if count and used + add > available:
                break
            used += add
            count += 1
        return recent[len(recent) - count:]

    def history_text(self, items):
        return SEPARATOR.join(self.data.full[i] for i in items)

    def negatives(self, excluded, count):
        """`count` distinct items drawn uniformly, none in `excluded`."""
        if count > self.data.num_items - len(excluded):
            raise ValueError("catalogue too small for the negatives asked")
        chosen = []
        taken = set(excluded)
        while len(chosen) < count:
            item = self.rng.randrange(self.data.num_items)
            if item not in taken:
                taken.add(item)
                chosen.append(item)
        return chosen

    def sample(self, task, template_id, user, input_text, target, target_items):
        return {
            "task": task,
            "template": template_id,
            "split": "train",
            "user": user,
            "input": input_text,
            "target": target,
            "target_items": target_items,
        }

    def retrieval(self, user, train, t):
        template_id, input_t, target_t = self.template("retrieval")
        window = self.window(train[:t], LITERAL_LENGTH[input_t])
        target = train[t]
        return self.sample(
            "retrieval", template_id, user,
            input_t.format(history=self.history_text(window)),
            target_t.format(target=self.data.ids[target]),
            [self.data.raw_ids[target]],
        )

    def ranking(self, user, sequence, train):
        t = self.rng.randrange(1, len(train))
        target = train[t]
        candidates = [target] + self.negatives(set(sequence), RANKING_CANDIDATES - 1)
        self.rng.shuffle(candidates)
        texts = self.data.full if len(candidates) <= CANDIDATE_TITLES_MAX else self.data.bare
        listed = SEPARATOR.join(texts[c] for c in candidates)

        template_id, input_t, target_t = self.template("ranking")
        window = self.window(train[:t], LITERAL_LENGTH[input_t] + len(listed))
        return self.sample(
            "ranking", template_id, user,
            input_t.format(history=self.history_text(window), candidates=listed),
            target_t.format(target=self.data.ids[target]),
            [self.data.raw_ids[target]],
        )

    def mim(self, user, train):
        template_id, input_t, target_t = self.template("mim")
        window = self.window(train, LITERAL_LENGTH[input_t])
        if len(window) < 2:
            return None
        masked = min(max(round_half_away(len(window) * MIM_MASK_RATIO), 1), len(window) - 1)
        positions = sorted(self.rng.sample(range(len(window)), masked))

        shown = [self.data.full[item] for item in window]
        for k, i in enumerate(positions):
            shown[i] = sentinel(k)
        answer = " ".join(
            f"{sentinel(k)} {self.data.full[window[i]]}" for k, i in enumerate(positions)
        )
        return self.sample(
            "mim", template_id, user,
            input_t.format(history=SEPARATOR.join(shown)),
            target_t.format(target=answer),
            [self.data.raw_ids[window[i]] for i in positions],
        )

    def mlm(self, user, train):
        template_id, input_t, target_t = self.template("mlm")
        window = self.window(train, LITERAL_LENGTH[input_t])
        titles = [self.data.title_words[item] for item in window]
        words = sum(len(title) for title in titles)
        if words < 2:
            return None
        noise = min(max(round_half_away(words * MLM_NOISE_DENSITY), 1), words - 1)
        max_spans = max(SENTINELS - 1 - len(window), 1)
        spans = min(max(round_half_away(noise / MLM_MEAN_SPAN), 1),
                    noise, words - noise, max_spans)
        mask = self.noise_mask(words, noise, spans)

        # The history with masked runs replaced by sentinels; the runs.
        runs = []
        parts = []
        flat = 0
        for item, title in zip(window, titles):
            if not title:
                parts.append(self.data.full[item])
                continue
            text = self.data.bare[item] + ", title:"
            open_run = False
            for word in title:
                if mask[flat]:
                    if not open_run:
                        text += " " + sentinel(len(runs))
                        runs.append([])
                        open_run = True
                    runs[-1].append(word)
                else:
                    text += " " + word
                    open_run = False
                flat += 1
            parts.append(text)

        answer = "".join(
            sentinel(k) + "".join(" " + w for w in run) + " " for k, run in enumerate(runs)
        ) + sentinel(len(runs))
        return self.sample(
            "mlm", template_id, user,
            input_t.format(history=SEPARATOR.join(parts)),
            target_t.format(target=answer),
            [],
        )

    def noise_mask(self, length, noise, spans):
        """T5's random_spans_noise_mask: gaps and runs alternate, gap first."""
        runs = self.span_lengths(noise, spans)
        gaps = self.span_lengths(length - noise, spans)
        mask = []
        for gap, run in zip(gaps, runs):
            mask.extend([False] * gap)
            mask.extend([True] * run)
        return mask

    def span_lengths(self, total, parts):
        """A random split of `total` into `parts` positive lengths."""
        parts = min(max(parts, 1), max(total, 1))
        cuts = sorted(self.rng.sample(range(1, total), parts - 1))
        bounds = [0] + cuts + [total]
        return [b - a for a, b in zip(bounds, bounds[1:])]

    def bpr(self, user, sequence, train):
        t = self.rng.randrange(1, len(train))
        positive = train[t]
        negative = self.negatives(set(sequence), 1)[0]
        positive_first = self.rng.random() < 0.5
        a, b = (positive, negative) if positive_first else (negative, positive)

        template_id, input_t, target_t = self.template("bpr")
        full = self.data.full
        window = self.window(train[:t], LITERAL_LENGTH[input_t] + len(full[a]) + len(full[b]))
        return self.sample(
            "bpr", template_id, user,
            input_t.format(history=self.history_text(window), option_a=full[a], option_b=full[b]),
            target_t.format(choice="A" if positive_first else "B", target=self.data.bare[positive]),
            [self.data.raw_ids[positive]],
        )

    def user_samples(self, user, sequence, train):
        """All training samples of one user, task by task."""
        samples = [self.retrieval(user, train, t) for t in range(1, len(train))]
        if len(train) >= 2:
            samples.append(self.ranking(user, sequence, train))
        samples.append(self.mim(user, train))
        samples.append(self.mlm(user, train))
        if len(train) >= 2:
            samples.append(self.bpr(user, sequence, train))
        return [s for s in samples if s is not None]


def run_once(ds_dir, out, seed):
    """Loads, generates and writes; returns (samples, bytes written)."""
    data = Dataset(ds_dir, seed)
    generator = Generator(data, seed)
    count = 0
    with open(out, "w", encoding="utf-8") as f:
        for user, sequence, train in data.users:
            for sample in generator.user_samples(user, sequence, train):
                f.write(json.dumps(sample, ensure_ascii=False, separators=(",", ":")))
                f.write("\n")
                count += 1
    return count, os.path.getsize(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--dataset", default="beauty")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    ds_dir = args.data_dir / args.dataset
    runs = []
    samples = bytes_written = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        samples, bytes_written = run_once(ds_dir, args.out, args.seed)
        runs.append(time.perf_counter() - start)

    median = statistics.median(runs)
    print(json.dumps({
        "tool": "python",
        "python_version": platform.python_version(),
        "dataset": args.dataset,
        "repeat": args.repeat,
        "runs_s": [round(r, 4) for r in runs],
        "median_s": round(median, 4),
        "samples": samples,
        "samples_per_s": round(samples / median, 1),
        "bytes_written": bytes_written,
        # Peak resident memory of this process (ru_maxrss is in KiB on Linux).
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
