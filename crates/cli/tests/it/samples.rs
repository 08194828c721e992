//! `samples` and `samples show`: files written, examples printed, errors.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::util::{assert_files, fails, recalign, shared_data, succeeds, writes_fresh};

/// `recalign samples show ARGS`.
fn show(cache: &Path, args: &[&str]) -> Command {
    let mut cmd = recalign(cache);
    cmd.args(["samples", "show"]).args(args);
    cmd
}

#[test]
fn samples_writes_splits_candidates_and_a_manifest() {
    let out = writes_fresh(
        &["samples"],
        &[
            "train  retrieval",
            "train  mlm",
            "test   rating",
            "samples/s",
        ],
    );
    assert_files(
        out.path(),
        &[
            "train.jsonl",
            "valid.jsonl",
            "test.jsonl",
            "ranking-candidates-valid.jsonl",
            "ranking-candidates-test.jsonl",
            "manifest.json",
        ],
    );
    let line = std::fs::read_to_string(out.path().join("test.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(first["split"], "test");
    assert_eq!(first["template"], "retrieval-1");
}

#[test]
fn show_prints_each_task_readably() {
    let cache = tempfile::tempdir().unwrap();
    for task in ["retrieval", "ranking", "rating", "mim", "mlm", "bpr"] {
        show(cache.path(), &["--task", task, "-n", "2"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("── {task} · ")).count(2))
            .stdout(predicate::str::contains("input:\n  "))
            .stdout(predicate::str::contains("target:\n  "));
    }
    succeeds(
        &mut show(
            cache.path(),
            &[
                "--task",
                "retrieval",
                "--style",
                "p5",
                "--split",
                "test",
                "-n",
                "1",
            ],
        ),
        &["p5-2-1", "user_"],
    );
}

#[test]
fn impossible_requests_explain_themselves() {
    let cache = tempfile::tempdir().unwrap();
    fails(
        &mut show(cache.path(), &["--task", "mim", "--split", "test"]),
        &["auxiliary tasks are training samples only"],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("run.toml");
    let config_arg = config.to_str().unwrap();
    std::fs::write(&config, "[samples.ranking]\ncandidates = -3\n").unwrap();
    fails(
        &mut show(cache.path(), &["--task", "ranking", "--config", config_arg]),
        &["candidates"],
    );
    std::fs::write(&config, "[sample]\nseed = 1\n").unwrap();
    fails(
        &mut show(cache.path(), &["--task", "ranking", "--config", config_arg]),
        &["run.toml", "unknown table or key `sample`"],
    );
    recalign(cache.path())
        .args(["samples", "--out", "x", "--seed", "seven"])
        .assert()
        .code(2);
}

#[test]
fn beauty_samples_without_ratings_or_with_missing_titles() {
    let Some(data) = shared_data() else { return };
    let cache = tempfile::tempdir().unwrap();
    let show = |args: &[&str]| {
        let mut cmd = show(cache.path(), args);
        cmd.arg("--data-dir").arg(&data);
        cmd
    };
    fails(
        &mut show(&["-d", "beauty", "--task", "rating"]),
        &["the dataset has no ratings"],
    );
    succeeds(
        &mut show(&["-d", "beauty", "--task", "mlm", "-n", "1"]),
        &["<extra_id_0>"],
    );
    // Sports has no titles: items read `ID: x`, and MLM has nothing to mask.
    show(&["-d", "sports", "--task", "retrieval", "-n", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("title:").not());
    fails(
        &mut show(&["-d", "sports", "--task", "mlm"]),
        &["MLM needs item titles"],
    );
}
