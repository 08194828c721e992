#!/usr/bin/env python3
"""RecBole's SASRec on recalign's exact split, to compare with
`cargo bench -p recalign-baselines --bench sasrec -- --full`.

Never run in CI (it needs torch + recbole, ~3 GB of wheels). Usage:

    recalign prepare -d beauty --export /tmp/beauty-split        # train/valid/test.tsv
    python3.11 -m venv .venv-recbole
    .venv-recbole/bin/pip install torch==2.15.0 recbole==1.2.1 \
        "numpy<2" "pandas<3" "setuptools<81"
    .venv-recbole/bin/python scripts/bench/recbole_sasrec.py /tmp/beauty-split \
        [--loss CE|BPR] [--epochs N] [--out FILE]

RecBole 1.2.1 predates numpy 2 (it aliases `np.float_`), pandas 3 (its
chained in-place `fillna` is a no-op under copy-on-write) and setuptools 81
(its pinned ray<=2.6.3 imports `pkg_resources`), hence the pins; torch>=2.6
is handled below. RecBole writes its `log/`, `log_tensorboard/` and `saved/`
folders into the current directory, so the script runs it from a temporary
folder. The result JSON holds the wall time of each training epoch
(`train_epoch_seconds`, without validation) beside the total, so
`--epochs 1` or `2` is enough to time an epoch.

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


def patch_recbole():
    """Make RecBole 1.2.1 run under torch>=2.6 and time its epochs.

    torch>=2.6 defaults `torch.load(weights_only=True)`, which cannot unpickle
    the checkpoint RecBole itself saved (it holds its config), so the best
    model could not be reloaded for the test: default it back to False. The
    epoch timers wrap `Trainer._train_epoch` / `_valid_epoch` (SASRec's
    trainer) and return the per-epoch wall times collected.
    """
    import torch
    from recbole.trainer import Trainer

    torch_load = torch.load

    def load(*args, **kwargs):
        kwargs.setdefault("weights_only", False)  # our own checkpoint: trusted
        return torch_load(*args, **kwargs)

    torch.load = load

    times = {"train": [], "valid": []}

    def timed(method, key):
        def wrapper(self, *args, **kwargs):
            started = time.perf_counter()
            out = method(self, *args, **kwargs)
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            times[key].append(time.perf_counter() - started)
            return out

        return wrapper

    Trainer._train_epoch = timed(Trainer._train_epoch, "train")
    Trainer._valid_epoch = timed(Trainer._valid_epoch, "valid")
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("split", help="folder from `recalign prepare --export`")
    parser.add_argument("--loss", default="CE", choices=["CE", "BPR"])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", help="write the result JSON here")
    args = parser.parse_args()

    try:
        from recbole.quick_start import run_recbole
    except ImportError:
        sys.exit("recbole is not installed (pip install recbole torch); see the docstring")

    times = patch_recbole()
    sequences = read_split(args.split)
    out = os.path.abspath(args.out) if args.out else None
    work = tempfile.mkdtemp(prefix="recbole-")
    os.chdir(work)  # RecBole's log/, log_tensorboard/ and saved/ land here
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
    sys.argv = sys.argv[:1]  # RecBole would read `--key=value` arguments as its config
    started = time.time()
    result = run_recbole(model="SASRec", dataset=dataset, config_dict=config)
    result = {
        "model": f"recbole-sasrec-{args.loss.lower()}",
        "users": len(sequences),
        "wall_seconds": time.time() - started,
        "epochs_run": len(times["train"]),
        "train_epoch_seconds": [round(t, 3) for t in times["train"]],
        "valid_epoch_seconds": [round(t, 3) for t in times["valid"]],
        "best_valid": {k: float(v) for k, v in result["best_valid_result"].items()},
        "test": {k: float(v) for k, v in result["test_result"].items()},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
