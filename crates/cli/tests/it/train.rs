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
        fails(
            &mut train(&["--device", "cuda:0,1", "--max-steps", "1"]),
            &["--features cuda"],
        );
    }
    fails(&mut train(&["--batch-size", "0"]), &["train.batch_size"]);
    train(&["--device", "tpu"]).assert().code(2);
    train(&["--device", "cuda:0,1,0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("GPU 0 is listed twice"));
    train(&["--precision", "f16"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not f32 or bf16"));
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
        assert!(
            token.starts_with("<i_") && added.contains(&token),
            "{token}"
        );
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
    // The same shop with semantic codes is not what the model learnt.
    fails(
        &mut ask(
            cache.path(),
            &model,
            &["recommend", "--user", "U00001", "--id-scheme", "semantic"],
        ),
        &[
            "samples/manifest.json",
            "trained on item identifiers `atomic, seed 42`",
            "`semantic (collab, 3×256 + separator), seed 42`",
        ],
    );
}

/// `curves.csv` as rows of `(step, users, ndcg)`, measured rows only.
fn measured_rows(curves: &Path) -> Vec<(u64, usize, f64)> {
    let text = std::fs::read_to_string(curves).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "step,seconds,train_loss,valid_loss,users,k,valid_ndcg,valid_hit"
    );
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|cells| !cells[6].is_empty())
        .map(|cells| {
            (
                cells[0].parse().unwrap(),
                cells[4].parse().unwrap(),
                cells[6].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn periodic_validation_keeps_the_best_model_and_matches_evaluate() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("model");
    let train = |steps: &str, extra: &[&str]| {
        let mut cmd = recalign(cache.path());
        cmd.args(["train", "--id-scheme", "atomic", "--batch-size", "16"])
            .args(["--lr", "0.01", "--max-steps", steps, "--eval-every", "6"])
            .args(["--valid-users", "100"])
            .args(extra)
            .arg("--out")
            .arg(&model);
        cmd
    };
    // Interrupted after the checkpoint of step 12, then resumed to 24.
    let config = out.path().join("run.toml");
    std::fs::write(
        &config,
        "[train]\nsave_every = 6\nkeep_checkpoints = 10\nvalid_samples = 16\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    succeeds(
        &mut train("24", &["--config", config]),
        &["best by validation NDCG@10"],
    );
    // The curve without its wall-time column.
    let curve = || {
        let text = std::fs::read_to_string(model.join("curves.csv")).unwrap();
        let rows: Vec<String> = text
            .lines()
            .map(|l| {
                let mut cells: Vec<&str> = l.split(',').collect();
                cells.remove(1);
                cells.join(",")
            })
            .collect();
        rows
    };
    let full = curve();
    std::fs::remove_dir_all(model.join("checkpoints/step-0000018")).unwrap();
    std::fs::remove_dir_all(model.join("checkpoints/step-0000024")).unwrap();
    succeeds(
        &mut train("24", &["--config", config, "--resume"]),
        &["24 steps"],
    );
    assert_eq!(
        curve(),
        full,
        "the resumed run's curve is the uninterrupted one's"
    );

    let rows = measured_rows(&model.join("curves.csv"));
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [6, 12, 18, 24]
    );
    assert!(rows.iter().all(|r| r.1 == 100));
    assert!(rows.iter().any(|r| r.2 > 0.0), "nothing learnt: {rows:?}");
    // best/ is the first step with the highest NDCG, byte for byte that
    // step's checkpoint.
    let top = rows.iter().map(|r| r.2).fold(f64::MIN, f64::max);
    let best_step = rows.iter().find(|r| r.2 == top).unwrap().0;
    let selection = read_json(&model.join("best/selection.json"));
    assert_eq!(selection["step"], best_step);
    let checkpoint = model.join(format!("checkpoints/step-{best_step:07}"));
    assert_eq!(
        std::fs::read(model.join("best/model.safetensors")).unwrap(),
        std::fs::read(checkpoint.join("model.safetensors")).unwrap()
    );
    // `recalign evaluate` on the same model and users gives the same score.
    let report = out.path().join("report.json");
    succeeds(
        ask(
            cache.path(),
            &model.join("best"),
            &["evaluate", "--split", "valid"],
        )
        .args([
            "--id-scheme",
            "atomic",
            "--users",
            "100",
            "--users-seed",
            "42",
        ])
        .arg("--report")
        .arg(&report),
        &["ndcg@10"],
    );
    let evaluated = read_json(&report)["metrics"]["ndcg@10"].as_f64().unwrap();
    let logged = selection["measured"]["ndcg"].as_f64().unwrap();
    assert!(
        (evaluated - logged).abs() < 1e-12,
        "{evaluated} vs {logged}"
    );
}

#[test]
fn impossible_validation_settings_are_refused_before_training() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("model");
    let config = out.path().join("run.toml");
    for (table, key) in [
        ("valid_users = 100000", "train.valid_users"),
        ("valid_k = 100000", "train.valid_k"),
        ("patience = 0", "train.patience"),
        ("valid_k = 0", "train.valid_k"),
        ("valid_users = 0\npatience = 2", "train.patience"),
    ] {
        std::fs::write(&config, format!("[train]\n{table}\n")).unwrap();
        fails(
            recalign(cache.path())
                .args(["train", "--max-steps", "1", "--config"])
                .arg(&config)
                .arg("--out")
                .arg(&model),
            &[key],
        );
        assert!(!model.join("checkpoints").exists(), "{table}: trained");
    }
}

#[test]
fn a_pretrained_model_fine_tunes_and_gains_atomic_identifiers() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (base, tuned, atomic) = (
        out.path().join("base"),
        out.path().join("tuned"),
        out.path().join("atomic"),
    );
    let config = out.path().join("run.toml");
    std::fs::write(&config, "[train]\nvalid_samples = 16\n").unwrap();
    let train = |extra: &[&str], dir: &Path| {
        let mut cmd = recalign(cache.path());
        cmd.args(["train", "--max-steps", "2", "--batch-size", "4"])
            .args(["--valid-users", "10", "--config"])
            .arg(&config)
            .args(extra)
            .arg("--out")
            .arg(dir);
        cmd
    };
    // A local "pretrained" model: a tiny one with digit identifiers.
    succeeds(
        &mut train(&["--id-scheme", "random"], &base),
        &["2 steps in"],
    );
    let base_vocab = read_json(&base.join("config.json"))["vocab_size"]
        .as_u64()
        .unwrap();
    let base_str = base.to_str().unwrap();
    succeeds(
        &mut train(
            &["--from-pretrained", base_str, "--id-scheme", "random"],
            &tuned,
        ),
        &["2 steps in"],
    );
    let (a, b) = (
        read_json(&base.join("tokenizer.json")),
        read_json(&tuned.join("tokenizer.json")),
    );
    assert!(
        a["model"] == b["model"] && a["added_tokens"] == b["added_tokens"],
        "the pretrained tokenizer is kept"
    );
    assert_eq!(
        read_json(&tuned.join("config.json"))["vocab_size"],
        base_vocab
    );
    // Atomic identifiers: the tokenizer gains one token per item and the
    // model an embedding row for each.
    succeeds(
        &mut train(
            &["--from-pretrained", base_str, "--id-scheme", "atomic"],
            &atomic,
        ),
        &["2 steps in"],
    );
    let items = read_json(&atomic.join("samples/manifest.json"))["whole_tokens"]
        .as_array()
        .unwrap()
        .len() as u64;
    let vocab = read_json(&atomic.join("config.json"))["vocab_size"]
        .as_u64()
        .unwrap();
    assert_eq!(vocab, base_vocab + items);
    succeeds(
        &mut ask(
            cache.path(),
            &atomic,
            &["recommend", "--user", "U00001", "-k", "3"],
        ),
        &["   3  SHOP"],
    );
}

/// Mixed precision runs through the whole trainer (on the CPU here, where
/// it only checks the numerics) and is written into the model's record.
#[test]
fn bf16_training_runs_and_is_recorded() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("model");
    succeeds(
        recalign(cache.path())
            .args(["train", "--precision", "bf16", "--max-steps", "2"])
            .args(["--batch-size", "4", "--valid-users", "0", "--out"])
            .arg(&model),
        &["2 steps in"],
    );
    let record = std::fs::read_to_string(model.join("train.toml")).unwrap();
    assert!(record.contains("precision = \"bf16\""), "{record}");
}

/// A model trained on samples written elsewhere (`--samples DIR`) keeps
/// their manifest, so it is asked in their wording: P5's here, not the
/// default informative one.
#[test]
fn a_model_trained_from_a_samples_folder_is_asked_in_its_wording() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let samples = out.path().join("p5-samples");
    let model = out.path().join("model");
    recalign(cache.path())
        .args([
            "samples",
            "--style",
            "p5",
            "--splits",
            "train,valid",
            "--out",
        ])
        .arg(&samples)
        .assert()
        .success();
    recalign(cache.path())
        .args(["train", "--max-steps", "1", "--batch-size", "4"])
        .args(["--valid-users", "0", "--samples"])
        .arg(&samples)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(model.join("samples/manifest.json")).unwrap(),
        std::fs::read(samples.join("manifest.json")).unwrap()
    );
    let report = out.path().join("report.json");
    ask(cache.path(), &model, &["evaluate", "--users", "2"])
        .args(["--split", "valid", "--report"])
        .arg(&report)
        .assert()
        .success();
    let description = read_json(&report)["model"]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(description.contains("p5 wording"), "{description}");
}
