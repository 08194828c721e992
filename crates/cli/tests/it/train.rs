//! `recalign train` on the embedded shop: a few steps of the tiny preset,
//! then a resume that continues to the end.

use predicates::prelude::*;

use crate::util::{read_json, recalign};

#[test]
fn train_writes_a_loadable_model_and_resumes() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("model");
    fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["train", "--max-steps", "4", "--batch-size", "4"];
        args.extend_from_slice(extra);
        args
    }
    recalign(cache.path())
        .args(args(&["--out"]))
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("4 steps in"))
        .stdout(predicate::str::contains("validation loss"));
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "train.toml",
        "train-summary.json",
    ] {
        assert!(model.join(file).is_file(), "{file} missing");
    }
    assert!(
        model
            .join("checkpoints/step-0000004/trainer_state.json")
            .is_file()
    );
    // Nothing left to do: resuming from the last checkpoint runs no step.
    recalign(cache.path())
        .args(args(&["--resume", "--samples"]))
        .arg(model.join("samples"))
        .arg("--out")
        .arg(&model)
        .assert()
        .success();

    // The trained model, evaluated and asked (a checkpoint finds its run's
    // samples settings two directories up).
    let report = out.path().join("report.json");
    let rankings = out.path().join("rankings.jsonl");
    recalign(cache.path())
        .args(["evaluate", "--users", "4", "--split", "valid", "--model"])
        .arg(model.join("checkpoints/step-0000004"))
        .arg("--report")
        .arg(&report)
        .arg("--rankings-out")
        .arg(&rankings)
        .assert()
        .success()
        .stdout(predicate::str::contains("ndcg@10"))
        .stdout(predicate::str::contains("most-popular"));
    let json = read_json(&report);
    assert_eq!(json["users_evaluated"], 4);
    assert!(json["extra"]["most_popular"]["ndcg@10"].is_number());
    assert_eq!(
        std::fs::read_to_string(&rankings).unwrap().lines().count(),
        4
    );
    recalign(cache.path())
        .args(["evaluate", "--task", "rating", "--users", "3", "--model"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("rmse_argmax"));
    recalign(cache.path())
        .args(["recommend", "--user", "U00001", "-k", "3", "--model"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("rank").and(predicate::str::contains("log-prob")));
    recalign(cache.path())
        .args(["recommend", "--history", "SHOP00001,NOPE", "--model"])
        .arg(&model)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--history").and(predicate::str::contains("NOPE")));
    let requests = out.path().join("requests.jsonl");
    std::fs::write(&requests, "{\"user\": \"U00001\"}\n{\"history\": []}\n").unwrap();
    recalign(cache.path())
        .args(["recommend", "--model"])
        .arg(&model)
        .arg("--input")
        .arg(&requests)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("requests.jsonl:2").and(predicate::str::contains("empty")),
        );
    recalign(cache.path())
        .args(["recommend", "--user", "U00001", "-k", "100000", "--model"])
        .arg(&model)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("catalogue"));
}

#[test]
fn train_refuses_a_device_this_build_lacks_and_bad_settings() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    if !cfg!(feature = "cuda") {
        recalign(cache.path())
            .args(["train", "--device", "cuda:0", "--max-steps", "1", "--out"])
            .arg(out.path())
            .assert()
            .code(1)
            .stderr(predicate::str::contains("--features cuda"));
    }
    recalign(cache.path())
        .args(["train", "--batch-size", "0", "--out"])
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("train.batch_size"));
    recalign(cache.path())
        .args(["train", "--device", "tpu", "--out"])
        .arg(out.path())
        .assert()
        .code(2);
}
