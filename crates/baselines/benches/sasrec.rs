//! Benchmark: SASRec on an Amazon dataset through the same runner and
//! evaluator as `recalign baseline`. Writes `target/bench/sasrec.json`.
//!
//! ```text
//! # one training epoch (+ one validation and the test evaluation), timed:
//! RECALIGN_DATA=../shared/data cargo bench -p recalign-baselines --bench sasrec
//! # a full run with early stopping, for comparison with published numbers:
//! RECALIGN_DATA=../shared/data cargo bench -p recalign-baselines --bench sasrec -- --full [--loss bce] [--epochs N] [beauty|sports|toys]
//! ```
//!
//! Settings are `BaselineConfig::default()` (RecBole's SASRec defaults,
//! CE loss) unless overridden; `--full` also writes the report to
//! `target/bench/sasrec-<dataset>-<loss>.report.json`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use recalign_baselines::{BaselineConfig, Model, ProgressEvent, SasRecLoss, train_and_evaluate};
use recalign_data::{Amazon, DatasetSpec, LoadOptions, PrepareConfig, Split};
use recalign_eval::Protocol;
use serde_json::json;

fn main() {
    let Some(data_dir) = std::env::var_os("RECALIGN_DATA").map(PathBuf::from) else {
        eprintln!("set RECALIGN_DATA to the folder holding beauty/, sports/, toys/");
        std::process::exit(2);
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--full");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let name = args
        .iter()
        .find(|a| Amazon::from_name(a).is_some())
        .cloned()
        .unwrap_or_else(|| "beauty".to_string());
    let mut config = BaselineConfig::default();
    if let Some(loss) = value("--loss") {
        config.sasrec.loss = match loss.as_str() {
            "bce" => SasRecLoss::Bce,
            _ => SasRecLoss::Ce,
        };
    }
    if !full {
        config.train.epochs = 1;
    }
    if let Some(epochs) = value("--epochs").and_then(|e| e.parse().ok()) {
        config.train.epochs = epochs;
    }
    let loss_name = match config.sasrec.loss {
        SasRecLoss::Ce => "ce",
        SasRecLoss::Bce => "bce",
    };

    let load_started = Instant::now();
    let spec = DatasetSpec::parse(&name).expect("an Amazon dataset name");
    let options = LoadOptions {
        data_dir,
        ..LoadOptions::default()
    };
    let dataset = recalign_data::load(&spec, &PrepareConfig::default(), &options)
        .expect("dataset loads")
        .dataset;
    let load_seconds = load_started.elapsed().as_secs_f64();
    eprintln!(
        "{name}: {} users, {} items, {} interactions (loaded in {load_seconds:.1} s)",
        dataset.num_users(),
        dataset.num_items(),
        dataset.num_interactions()
    );

    let protocol = Protocol::retrieval(Split::Test);
    let mut test_started = None;
    let mut progress = |event: &ProgressEvent<'_>| match event {
        ProgressEvent::Epoch(record) => eprintln!(
            "epoch {:>3}: loss {:.4}, train {:.1} s, valid ndcg@10 {}{}",
            record.epoch,
            record.loss,
            record.train_seconds,
            record
                .valid_ndcg10
                .map_or("-".to_string(), |v| format!("{v:.4}")),
            if record.best { " *" } else { "" }
        ),
        ProgressEvent::Testing { .. } => test_started = Some(Instant::now()),
        _ => {}
    };
    let started = Instant::now();
    let outcome = train_and_evaluate(&dataset, Model::SasRec, &config, &protocol, &mut progress)
        .expect("SASRec trains");
    let wall_seconds = started.elapsed().as_secs_f64();
    let test_seconds = test_started.map(|t| t.elapsed().as_secs_f64());
    println!("{}", outcome.report.table());

    let epoch_seconds: Vec<f64> = outcome.epochs.iter().map(|e| e.train_seconds).collect();
    let valid_seconds: Vec<f64> = outcome
        .epochs
        .iter()
        .filter_map(|e| e.valid_seconds)
        .collect();
    let metrics: serde_json::Map<String, serde_json::Value> = outcome
        .report
        .metrics
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let result = json!({
        "bench": "sasrec",
        "dataset": name,
        "users": dataset.num_users(),
        "items": dataset.num_items(),
        "interactions": dataset.num_interactions(),
        "mode": if full { "full" } else { "one-epoch" },
        "loss": loss_name,
        "config": config.describe(Model::SasRec),
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "load_seconds": load_seconds,
        "epoch_train_seconds": epoch_seconds,
        "valid_seconds": valid_seconds,
        "test_seconds": test_seconds,
        "train_seconds": outcome.train_seconds,
        "wall_seconds": wall_seconds,
        "epochs_run": outcome.epochs.len(),
        "best_epoch": outcome.best_epoch,
        "best_valid_ndcg10": outcome.best_valid_ndcg10,
        "test": metrics,
    });
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&out_dir).expect("target/bench is writable");
    let path = out_dir.join("sasrec.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&result).expect("JSON") + "\n",
    )
    .expect("bench JSON written");
    eprintln!("wrote {}", path.display());
    if full {
        let report = out_dir.join(format!("sasrec-{name}-{loss_name}.report.json"));
        outcome.report.write(&report).expect("report written");
        eprintln!("wrote {}", report.display());
    }
}
