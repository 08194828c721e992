#!/usr/bin/env python3
"""pandas reference implementation of recalign's dataset preparation.

This is the pandas side of `cargo bench -p recalign-data --bench prepare`, and
an independent cross-check of the Rust preparation logic. Each repetition is
timed with time.perf_counter from nothing loaded to the finished split:

1. read <data-dir>/<dataset>/interactions.tsv.gz (pd.read_csv) and
   items.jsonl.gz (pd.read_json, lines=True); remember each row's file position;
2. iterative k-core: drop users and items with < k interactions until stable;
3. per-user stable chronological order: a user whose timestamps are all present
   is sorted by (timestamp, file position); a user with any missing timestamp
   keeps file order;
4. drop users with fewer than 3 interactions;
5. leave-one-out split: last interaction = test, second-last = validation,
   the rest = training;
6. item catalogue: surviving items left-joined with their titles (missing
   titles counted);
7. seeded item ids: numpy default_rng(seed).permutation of 1..n_items over the
   items sorted by raw item id.

It prints one JSON object on stdout (timings, counts, digest).

Digest (the Rust side computes the same): hex SHA-256 of the UTF-8 text made of
one line per user, users sorted by raw user id in byte order, each line

    user_id \\t valid_item_id \\t test_item_id \\t train_length \\n

with raw (file) ids and train_length = number of training interactions, in
decimal. The seeded item ids are not part of the digest.

Run:
    scripts/bench/setup-python.sh
    .venv-bench/bin/python scripts/bench/prepare_pandas.py \\
        --data-dir /work/shared/data --dataset beauty --repeat 5
"""

import argparse
import hashlib
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def prepare(ds_dir: Path, kcore: int, seed: int):
    df = pd.read_csv(
        ds_dir / "interactions.tsv.gz",
        sep="\t",
        dtype={"user_id": str, "item_id": str, "rating": float, "timestamp": float},
        keep_default_na=False,  # ids are never NaN; only empty rating/timestamp are
        na_values={"rating": [""], "timestamp": [""]},
    )
    items = pd.read_json(ds_dir / "items.jsonl.gz", lines=True, dtype={"item_id": str})
    df["pos"] = np.arange(len(df))

    # Iterative k-core.
    while True:
        keep = (df.groupby("user_id")["item_id"].transform("size") >= kcore) & (
            df.groupby("item_id")["user_id"].transform("size") >= kcore
        )
        if keep.all():
            break
        df = df[keep]

    # Per-user stable sort; users with any missing timestamp keep file order.
    missing = df["timestamp"].isna().groupby(df["user_id"]).transform("any")
    df = df.assign(ts_key=df["timestamp"].where(~missing, 0.0))
    df = df.sort_values(["user_id", "ts_key", "pos"], kind="stable")

    df = df[df.groupby("user_id")["item_id"].transform("size") >= 3]

    # Leave-one-out split.
    from_end = df.groupby("user_id").cumcount(ascending=False)
    test = df[from_end == 0]
    valid = df[from_end == 1]
    train = df[from_end >= 2]

    # Item catalogue with titles, then seeded ids over items sorted by raw id.
    catalogue = (
        pd.DataFrame({"item_id": np.sort(df["item_id"].unique())})
        .merge(items[["item_id", "title"]], on="item_id", how="left")
    )
    rng = np.random.default_rng(seed)
    catalogue["new_id"] = rng.permutation(np.arange(1, len(catalogue) + 1))

    return df, train, valid, test, catalogue


def digest(train, valid, test) -> str:
    users = (
        test[["user_id", "item_id"]].rename(columns={"item_id": "test"})
        .merge(valid[["user_id", "item_id"]].rename(columns={"item_id": "valid"}), on="user_id")
        .merge(train.groupby("user_id").size().rename("n_train").reset_index(), on="user_id", how="left")
    )
    users["n_train"] = users["n_train"].fillna(0).astype(int)
    # Python str order is code-point order, which equals UTF-8 byte order.
    users = users.sort_values("user_id")
    text = "".join(
        f"{u}\t{v}\t{t}\t{n}\n"
        for u, v, t, n in zip(users["user_id"], users["valid"], users["test"], users["n_train"])
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--kcore", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    runs, digests = [], set()
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        df, train, valid, test, catalogue = prepare(args.data_dir / args.dataset, args.kcore, args.seed)
        runs.append(time.perf_counter() - t0)
        digests.add(digest(train, valid, test))
    if len(digests) != 1:
        sys.exit(f"digest differs between repetitions: {sorted(digests)}")

    print(json.dumps({
        "tool": "pandas",
        "pandas_version": pd.__version__,
        "python_version": platform.python_version(),
        "dataset": args.dataset,
        "repeat": args.repeat,
        "runs_s": [round(r, 4) for r in runs],
        "median_s": round(statistics.median(runs), 4),
        "min_s": round(min(runs), 4),
        "users": int(df["user_id"].nunique()),
        "items": len(catalogue),
        "interactions": len(df),
        # Peak resident memory of this process (ru_maxrss is in KiB on Linux).
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "titles_missing": int(catalogue["title"].isna().sum()),
        "digest": digests.pop(),
    }))


if __name__ == "__main__":
    main()
