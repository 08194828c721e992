#!/usr/bin/env python3
"""Reads the rankings files that `recalign evaluate --rankings-out` and
`recalign baseline --rankings-out` write (one JSON line per user:
`{"user", "target", "ranked": [item, ...]}`), independently of recalign.

  rankings.py metrics FILE [--k 10]
      Hit@K and NDCG@K recomputed from the file: a report's figures can be
      checked without recalign.
  rankings.py paired A B [--k 10] [--resamples 10000] [--seed 0]
      B against A on the users both files hold (same user and target):
      the mean per-user NDCG@K and Hit@K difference B - A, with a 95 %
      paired bootstrap interval (users resampled with replacement, seeded),
      and how many users each side ranks the target higher for. With one
      seed per cell, this says whether a gap is larger than the test
      users' own spread.

A target at index i of `ranked` (0-based, within the first K) scores
Hit 1 and NDCG 1 / log2(i + 2); one relevant item per user, so the ideal
DCG is 1. Plain Python 3, standard library only.
"""

import argparse
import json
import math
import random
import sys


def per_user(path, k):
    """{(user, target): (ndcg, hit)} for every line of `path`."""
    scores = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            try:
                row = json.loads(line)
                user, target, ranked = row["user"], row["target"], row["ranked"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                sys.exit(f"{path}:{number}: not a rankings line ({e})")
            top = ranked[:k]
            rank = top.index(target) if target in top else None
            ndcg = 0.0 if rank is None else 1.0 / math.log2(rank + 2)
            scores[(user, target)] = (ndcg, 0.0 if rank is None else 1.0)
    if not scores:
        sys.exit(f"{path}: no users")
    return scores


def metrics(args):
    scores = per_user(args.file, args.k).values()
    n = len(scores)
    ndcg = sum(s[0] for s in scores) / n
    hit = sum(s[1] for s in scores) / n
    print(f"{args.file}: users {n} hit@{args.k} {hit:.4f} ndcg@{args.k} {ndcg:.4f}")


def interval(values, resamples, rng):
    """The mean of `values` and its 95 % bootstrap percentile interval."""
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return sum(values) / n, means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def paired(args):
    a, b = per_user(args.a, args.k), per_user(args.b, args.k)
    common = sorted(a.keys() & b.keys())
    if not common:
        sys.exit(f"{args.a} and {args.b} share no (user, target) pair")
    rng = random.Random(args.seed)
    ndcg = [b[key][0] - a[key][0] for key in common]
    hit = [b[key][1] - a[key][1] for key in common]
    n_mean, n_low, n_high = interval(ndcg, args.resamples, rng)
    h_mean, h_low, h_high = interval(hit, args.resamples, rng)
    a_ndcg = sum(a[key][0] for key in common) / len(common)
    b_ndcg = sum(b[key][0] for key in common) / len(common)
    report = {
        "a": args.a,
        "b": args.b,
        "users": len(common),
        "only_in_a": len(a) - len(common),
        "only_in_b": len(b) - len(common),
        "k": args.k,
        f"a_ndcg@{args.k}": round(a_ndcg, 6),
        f"b_ndcg@{args.k}": round(b_ndcg, 6),
        f"ndcg@{args.k}_difference": [round(n_mean, 6), round(n_low, 6), round(n_high, 6)],
        f"hit@{args.k}_difference": [round(h_mean, 6), round(h_low, 6), round(h_high, 6)],
        "b_higher_users": sum(d > 0 for d in ndcg),
        "a_higher_users": sum(d < 0 for d in ndcg),
        "resamples": args.resamples,
        "seed": args.seed,
    }
    print(json.dumps(report, indent=2))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("metrics", help="Hit@K and NDCG@K of one rankings file")
    m.add_argument("file")
    m.add_argument("--k", type=int, default=10)
    p = sub.add_parser("paired", help="B against A, per user, with a bootstrap interval")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--resamples", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.k < 1:
        ap.error("--k must be at least 1")
    {"metrics": metrics, "paired": paired}[args.command](args)


if __name__ == "__main__":
    main()
