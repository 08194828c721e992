#!/usr/bin/env python3
"""RecBole's SASRec on recalign's exact split, to compare with
`cargo bench -p recalign-baselines --bench sasrec -- --full`.

Never run in CI (it needs torch + recbole, ~3 GB of wheels). Usage:

    recalign data prepare beauty --export /tmp/beauty-split      # train/valid/test.tsv
    python -m venv .venv-recbole && .venv-recbole/bin/pip install recbole==1.2.1 torch
    .venv-recbole/bin/python scripts/bench/recbole_sasrec.py /tmp/beauty-split [--loss CE|BPR] [--out FILE]

The split is converted to RecBole atomic files with a per-user sequential
"timestamp" (0, 1, 2, ...), so RecBole's chronological leave-one-out (`LS`,
`valid_and_test`) reproduces recalign's order exactly, same-day ties
included: RecBole's valid/test items are recalign's. Evaluation is full
ranking, history items kept (RecBole's sequential default, as recalign's).
Settings are RecBole's SASRec defaults (hidden 64, 2 layers, 2 heads, inner
256, dropout 0.5/0.5, max_len 50, CE, lr 1e-3, early stopping on valid
NDCG@10 with stopping_step 10). Note RecBole trains on every prefix as a
separate sample (data augmentation) with train_batch_size 2048, while
recalign trains all positions of each user's sequence at once (batch 256
users); the two losses agree in expectation up to per-user weighting.
"""

import argparse
import csv
import json
import os
import sys
import tempfile
import time


def read_split(folder):
    """Each user's full sequence (train prefix, valid item, test item) in order."""
    sequences = {}
    for name in ("train.tsv", "valid.tsv", "test.tsv"):
        with open(os.path.join(folder, name), newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                sequences.setdefault(row["user_id"], []).append(row["item_id"])
    return sequences


def write_atomic(sequences, out_dir, dataset):
    os.makedirs(os.path.join(out_dir, dataset), exist_ok=True)
    path = os.path.join(out_dir, dataset, f"{dataset}.inter")
    with open(path, "w") as f:
        f.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for user, items in sequences.items():
            for t, item in enumerate(items):
                f.write(f"{user}\t{item}\t{t}\n")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("split", help="folder from `recalign data prepare --export`")
    parser.add_argument("--loss", default="CE", choices=["CE", "BPR"])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", help="write the result JSON here")
    args = parser.parse_args()

    try:
        from recbole.quick_start import run_recbole
    except ImportError:
        sys.exit("recbole is not installed (pip install recbole torch); see the docstring")

    sequences = read_split(args.split)
    work = tempfile.mkdtemp(prefix="recbole-")
    dataset = "recalign"
    write_atomic(sequences, work, dataset)
    config = {
        "data_path": work,
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "MAX_ITEM_LIST_LENGTH": 50,
        # recalign has already applied the 5-core and split; keep every row.
        "user_inter_num_interval": "[0,inf)",
        "item_inter_num_interval": "[0,inf)",
        "eval_args": {
            "split": {"LS": "valid_and_test"},
            "order": "TO",
            "mode": "full",
            "group_by": "user",
        },
        "metrics": ["Hit", "NDCG", "MRR"],
        "topk": [1, 5, 10, 20],
        "valid_metric": "NDCG@10",
        "loss_type": args.loss,
        "train_neg_sample_args": None if args.loss == "CE" else {"distribution": "uniform", "sample_num": 1},
        "epochs": args.epochs,
        "stopping_step": 10,
        "learning_rate": 1e-3,
        "seed": args.seed,
        "reproducibility": True,
        "show_progress": False,
    }
    started = time.time()
    result = run_recbole(model="SASRec", dataset=dataset, config_dict=config)
    result = {
        "model": f"recbole-sasrec-{args.loss.lower()}",
        "users": len(sequences),
        "wall_seconds": time.time() - started,
        "best_valid": {k: float(v) for k, v in result["best_valid_result"].items()},
        "test": {k: float(v) for k, v in result["test_result"].items()},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
