//! `recalign baseline` on the embedded shop: a tiny SASRec trained for two
//! epochs writes the report and rankings formats of `recalign evaluate`,
//! MostPopular ranks the candidate lists of the ranking samples, and bad
//! hyper-parameter files and tasks are refused with what is wrong named.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use predicates::prelude::*;

use crate::util::{fails, read_json, read_json_lines, recalign, succeeds, writes};

const TINY_SASREC: &str = "\
[train]
batch_size = 512
eval_batch_size = 1024
patience = 1

[sasrec]
hidden = 16
inner = 32
layers = 1
max_len = 10
dropout = 0.2
attention_dropout = 0.2
";

#[test]
fn baseline_trains_and_writes_the_evaluate_formats() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let hparams = out.path().join("tiny.toml");
    std::fs::write(&hparams, TINY_SASREC).unwrap();
    let report = out.path().join("report.json");
    let rankings = out.path().join("rankings.jsonl");
    succeeds(
        recalign(cache.path())
            .args(["-q", "baseline", "--model", "sasrec", "--epochs", "2"])
            .arg("--hparams")
            .arg(&hparams)
            .arg("--report")
            .arg(&report)
            .arg("--rankings-out")
            .arg(&rankings),
        &["sasrec", "ndcg@10"],
    );

    let report = read_json(&report);
    assert_eq!(report["model"]["name"], "sasrec");
    assert_eq!(report["split"], "test");
    assert_eq!(report["dataset"]["name"], "synthetic");
    let ndcg = report["metrics"]["ndcg@10"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ndcg), "ndcg@10 = {ndcg}");
    // The TOML and the command line both reached the model.
    let config = &report["extra"]["config"];
    assert_eq!(config["sasrec"]["hidden"], 16);
    assert_eq!(config["train"]["epochs"], 2);
    let trained = report["extra"]["epochs_trained"].as_u64().unwrap();
    assert!((1..=2).contains(&trained));

    let users = report["users_evaluated"].as_u64().unwrap();
    let lines = read_json_lines(&rankings);
    assert_eq!(lines.len() as u64, users);
    assert!(
        lines[0]["ranked"]
            .as_array()
            .is_some_and(|ranked| !ranked.is_empty())
    );
}

/// Each user's items, by raw id, from a rankings or candidates file.
fn items_by_user(lines: &[serde_json::Value], field: &str) -> HashMap<String, BTreeSet<String>> {
    lines
        .iter()
        .map(|line| {
            let items = line[field].as_array().unwrap().iter();
            let items = items.map(|i| i.as_str().unwrap().to_string()).collect();
            (line["user"].as_str().unwrap().to_string(), items)
        })
        .collect()
}

#[test]
fn baselines_rank_the_candidate_lists_of_the_ranking_samples() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let samples = writes(cache.path(), &["samples", "--splits", "test"], &[]);
    let report = out.path().join("report.json");
    let rankings = out.path().join("rankings.jsonl");
    succeeds(
        recalign(cache.path())
            .args(["baseline", "--model", "most-popular", "--task", "ranking"])
            .arg("--report")
            .arg(&report)
            .arg("--rankings-out")
            .arg(&rankings),
        &["ranking, 1 target + 99 uniform negatives", "ndcg@10"],
    );
    let report = read_json(&report);
    assert_eq!(report["split"], "test");
    assert_eq!(report["protocol"]["task"]["kind"], "ranking");
    assert_eq!(report["protocol"]["task"]["candidates"], 100);

    let users = report["users_evaluated"].as_u64().unwrap();
    let candidates = samples.path().join("ranking-candidates-test.jsonl");
    let listed = ranked_within(&rankings, &candidates);
    assert_eq!(listed as u64, users);
}

/// Checks that every user of the rankings file ranks only items of their
/// list in the candidates file (lists of 100); returns the users.
pub fn ranked_within(rankings: &Path, candidates: &Path) -> usize {
    let candidates = items_by_user(&read_json_lines(candidates), "candidates");
    let ranked = items_by_user(&read_json_lines(rankings), "ranked");
    for (user, items) in &ranked {
        let listed = &candidates[user];
        assert_eq!(listed.len(), 100, "{user}");
        assert!(items.is_subset(listed), "{user}: {items:?} not in its list");
    }
    ranked.len()
}

#[test]
fn bad_hyper_parameters_name_the_file_and_key() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("unknown-key.toml", "[sasrec]\nhiden = 64\n", "hiden"),
        (
            "out-of-range.toml",
            "[sasrec]\ndropout = 1.5\n",
            "sasrec.dropout",
        ),
        (
            "no-divisor.toml",
            "[bert4rec]\nheads = 3\n",
            "bert4rec.heads",
        ),
    ];
    for (name, text, key) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let report = dir.path().join(format!("{name}.json"));
        recalign(cache.path())
            .args(["baseline", "--model", "sasrec", "--hparams"])
            .arg(&path)
            .arg("--report")
            .arg(&report)
            .assert()
            .failure()
            .stderr(predicate::str::contains(name))
            .stderr(predicate::str::contains(key));
        assert!(!report.exists(), "{name}: a report was written");
    }
    recalign(cache.path())
        .args(["baseline", "--model", "caser"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("caser"));
    fails(
        recalign(cache.path()).args(["baseline", "--model", "sasrec", "--task", "rating"]),
        &["--task rating", "predict no ratings"],
    );
}
