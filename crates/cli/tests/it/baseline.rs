//! `recalign baseline` on the embedded shop: a tiny SASRec trained for two
//! epochs writes the report and rankings formats of `recalign evaluate`,
//! and bad hyper-parameter files are refused with the file and key named.

use predicates::prelude::*;

use crate::util::{read_json, recalign};

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
    recalign(cache.path())
        .args(["-q", "baseline", "--model", "sasrec", "--epochs", "2"])
        .arg("--hparams")
        .arg(&hparams)
        .arg("--report")
        .arg(&report)
        .arg("--rankings-out")
        .arg(&rankings)
        .assert()
        .success()
        .stdout(predicate::str::contains("sasrec"))
        .stdout(predicate::str::contains("ndcg@10"));

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
    let text = std::fs::read_to_string(&rankings).unwrap();
    assert_eq!(text.lines().count() as u64, users);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(
        first["ranked"]
            .as_array()
            .is_some_and(|ranked| !ranked.is_empty())
    );
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
}
