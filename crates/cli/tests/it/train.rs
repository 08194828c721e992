//! `recalign train` on the embedded shop: a few steps of the tiny preset,
//! then a resume that continues to the end; the model is then evaluated
//! and asked, and bad requests are refused by name.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::baseline::ranked_within;
use crate::util::{assert_files, fails, read_json, recalign, succeeds};

/// `recalign COMMAND ARGS --model MODEL`.
fn ask(cache: &Path, model: &Path, args: &[&str]) -> Command {
    let mut cmd = recalign(cache);
    cmd.args(args).arg("--model").arg(model);
    cmd
}

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
    succeeds(
        recalign(cache.path()).args(args(&["--out"])).arg(&model),
        &["4 steps in", "validation loss"],
    );
    assert_files(
        &model,
        &[
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "train.toml",
            "train-summary.json",
            "checkpoints/step-0000004/trainer_state.json",
        ],
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
    let checkpoint = model.join("checkpoints/step-0000004");
    succeeds(
        ask(cache.path(), &checkpoint, &["evaluate", "--users", "4"])
            .args(["--split", "valid", "--report"])
            .arg(&report)
            .arg("--rankings-out")
            .arg(&rankings),
        &["ndcg@10", "most-popular"],
    );
    let json = read_json(&report);
    assert_eq!(json["users_evaluated"], 4);
    assert!(json["extra"]["most_popular"]["ndcg@10"].is_number());
    assert_eq!(
        std::fs::read_to_string(&rankings).unwrap().lines().count(),
        4
    );
    // Ranking: the lists of the model's own ranking samples, those the
    // baselines rank too.
    succeeds(
        ask(cache.path(), &model, &["evaluate", "--task", "ranking"])
            .args(["--users", "2", "--split", "valid", "--rankings-out"])
            .arg(&rankings),
        &["ranking, 1 target + 99 uniform negatives", "random"],
    );
    let candidates = model.join("samples/ranking-candidates-valid.jsonl");
    assert_eq!(ranked_within(&rankings, &candidates), 2);
    succeeds(
        ask(cache.path(), &model, &["evaluate", "--task", "rating"]).args(["--users", "3"]),
        &["rmse_argmax"],
    );
    succeeds(
        &mut ask(
            cache.path(),
            &model,
            &["recommend", "--user", "U00001", "-k", "3"],
        ),
        &["rank", "log-prob"],
    );
    fails(
        &mut ask(
            cache.path(),
            &model,
            &["recommend", "--history", "SHOP00001,NOPE"],
        ),
        &["--history", "NOPE"],
    );
    let requests = out.path().join("requests.jsonl");
    std::fs::write(&requests, "{\"user\": \"U00001\"}\n{\"history\": []}\n").unwrap();
    fails(
        ask(cache.path(), &model, &["recommend"])
            .arg("--input")
            .arg(&requests),
        &["requests.jsonl:2", "empty"],
    );
    fails(
        &mut ask(
            cache.path(),
            &model,
            &["recommend", "--user", "U00001", "-k", "100000"],
        ),
        &["catalogue"],
    );
    // A broken tokenizer reads as itself, not as a device error.
    std::fs::write(model.join("tokenizer.json"), "{").unwrap();
    fails(
        &mut ask(cache.path(), &model, &["recommend", "--user", "U00001"]),
        &["tokenizer.json"],
    )
    .stderr(predicate::str::contains("device").not());
}

#[test]
fn train_refuses_a_device_this_build_lacks_and_bad_settings() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let train = |args: &[&str]| {
        let mut cmd = recalign(cache.path());
        cmd.arg("train").args(args).arg("--out").arg(out.path());
        cmd
    };
    if !cfg!(feature = "cuda") {
        fails(
            &mut train(&["--device", "cuda:0", "--max-steps", "1"]),
            &["--features cuda"],
        );
    }
    fails(&mut train(&["--batch-size", "0"]), &["train.batch_size"]);
    train(&["--device", "tpu"]).assert().code(2);
}

#[test]
fn atomic_identifiers_are_one_token_each_from_samples_to_recommendations() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("model");
    succeeds(
        recalign(cache.path())
            .args(["train", "--id-scheme", "atomic", "--max-steps", "2"])
            .args(["--batch-size", "4", "--out"])
            .arg(&model),
        &["2 steps in"],
    );
    let manifest = read_json(&model.join("samples/manifest.json"));
    let whole = manifest["whole_tokens"].as_array().unwrap();
    let tokenizer = read_json(&model.join("tokenizer.json"));
    let added: Vec<&str> = tokenizer["added_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["content"].as_str().unwrap())
        .collect();
    assert!(whole.len() > 1000, "{} whole tokens", whole.len());
    for token in whole {
        let token = token.as_str().unwrap();
        assert!(token.starts_with("<i_") && added.contains(&token), "{token}");
    }
    // Every item has an embedding row.
    let config = read_json(&model.join("config.json"));
    let vocab = config["vocab_size"].as_u64().unwrap() as usize;
    assert!(vocab >= added.len() + whole.len(), "vocab {vocab}");
    succeeds(
        &mut ask(
            cache.path(),
            &model,
            &["recommend", "--user", "U00001", "-k", "3"],
        ),
        &["   3  SHOP"],
    );
}
