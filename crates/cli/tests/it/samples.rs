//! `samples` and `samples show`: files written, examples printed, errors.

use predicates::prelude::*;

use crate::util::{recalign, shared_data};

#[test]
fn samples_writes_splits_candidates_and_a_manifest() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    recalign(cache.path())
        .args(["samples", "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("train  retrieval"))
        .stdout(predicate::str::contains("train  mlm"))
        .stdout(predicate::str::contains("test   rating"))
        .stdout(predicate::str::contains("samples/s"));
    for name in [
        "train.jsonl",
        "valid.jsonl",
        "test.jsonl",
        "ranking-candidates-valid.jsonl",
        "ranking-candidates-test.jsonl",
        "manifest.json",
    ] {
        assert!(out.path().join(name).is_file(), "{name}");
    }
    let line = std::fs::read_to_string(out.path().join("test.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(first["split"], "test");
    assert_eq!(first["template"], "retrieval-1");
}

#[test]
fn show_prints_each_task_readably() {
    let cache = tempfile::tempdir().unwrap();
    for task in ["retrieval", "ranking", "rating", "mim", "mlm", "bpr"] {
        recalign(cache.path())
            .args(["samples", "show", "--task", task, "-n", "2"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("── {task} · ")).count(2))
            .stdout(predicate::str::contains("input:\n  "))
            .stdout(predicate::str::contains("target:\n  "));
    }
    recalign(cache.path())
        .args([
            "samples",
            "show",
            "--task",
            "retrieval",
            "--style",
            "p5",
            "--split",
            "test",
            "-n",
            "1",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("p5-2-1"))
        .stdout(predicate::str::contains("user_"));
}

#[test]
fn impossible_requests_explain_themselves() {
    let cache = tempfile::tempdir().unwrap();
    recalign(cache.path())
        .args(["samples", "show", "--task", "mim", "--split", "test"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "auxiliary tasks are training samples only",
        ));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("run.toml");
    std::fs::write(&config, "[samples.ranking]\ncandidates = -3\n").unwrap();
    recalign(cache.path())
        .args(["samples", "show", "--task", "ranking", "--config"])
        .arg(&config)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("candidates"));
    std::fs::write(&config, "[sample]\nseed = 1\n").unwrap();
    recalign(cache.path())
        .args(["samples", "show", "--task", "ranking", "--config"])
        .arg(&config)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown table or key `sample`"));
    recalign(cache.path())
        .args(["samples", "--out", "x", "--seed", "seven"])
        .assert()
        .code(2);
}

#[test]
fn beauty_samples_without_ratings_or_with_missing_titles() {
    let Some(data) = shared_data() else { return };
    let cache = tempfile::tempdir().unwrap();
    recalign(cache.path())
        .args([
            "samples",
            "show",
            "-d",
            "beauty",
            "--task",
            "rating",
            "--data-dir",
        ])
        .arg(&data)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the dataset has no ratings"));
    recalign(cache.path())
        .args([
            "samples",
            "show",
            "-d",
            "beauty",
            "--task",
            "mlm",
            "-n",
            "1",
            "--data-dir",
        ])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains("<extra_id_0>"));
    // Sports has no titles: items read `ID: x`, and MLM has nothing to mask.
    recalign(cache.path())
        .args([
            "samples",
            "show",
            "-d",
            "sports",
            "--task",
            "retrieval",
            "-n",
            "1",
            "--data-dir",
        ])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains("title:").not());
    recalign(cache.path())
        .args([
            "samples",
            "show",
            "-d",
            "sports",
            "--task",
            "mlm",
            "--data-dir",
        ])
        .arg(&data)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("MLM needs item titles"));
}
