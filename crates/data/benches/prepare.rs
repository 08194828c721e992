//! Benchmark: load + prepare an Amazon dataset from its gzip files, beside the
//! same preparation in pandas (`scripts/bench/prepare_pandas.py`) when a
//! Python with pandas is available, run in the same process tree one after
//! the other. Writes `target/bench/prepare.json` and prints the ratio.
//!
//! ```text
//! scripts/bench/setup-python.sh            # once: .venv-bench with pinned pandas
//! RECALIGN_DATA=../shared/data cargo bench -p recalign-data --bench prepare [-- beauty sports toys]
//! ```
//!
//! Both sides compute the same digest of the split (per user, sorted by raw
//! id: `user  valid_item  test_item  train_length`), so the comparison is of
//! the same result; a digest mismatch fails the benchmark.
//!
//! The two sides are interleaved, one round each at a time, so that a noisy
//! machine slows both alike: each round times one warm recalign load (after
//! a warm-up load in the same process) and one warm pandas preparation (the
//! second of two in a fresh Python process; imports are not timed). The
//! report gives the median over `RECALIGN_BENCH_REPEAT` rounds (default 11)
//! and the median of the per-round ratios.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use recalign_data::{Amazon, Dataset, DatasetSpec, LoadOptions, PrepareConfig, Split};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn main() {
    let Some(data_dir) = std::env::var_os("RECALIGN_DATA").map(PathBuf::from) else {
        eprintln!("set RECALIGN_DATA to the folder holding beauty/, sports/, toys/");
        std::process::exit(2);
    };
    let repeat: usize = std::env::var("RECALIGN_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    let mut names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| Amazon::from_name(a).is_some())
        .collect();
    if names.is_empty() {
        names.push("beauty".to_string());
    }
    let workspace = recalign_testkit::workspace();
    let python = python_with_pandas(&workspace);
    let mut results = Vec::new();
    for name in &names {
        let spec = DatasetSpec::parse(name).expect("an Amazon dataset name");
        let options = LoadOptions {
            data_dir: data_dir.clone(),
            ..LoadOptions::default()
        };
        let config = PrepareConfig::default();
        let load = || recalign_data::load(&spec, &config, &options).expect("dataset loads");
        let warm_up = load().dataset;
        let digest = split_digest(&warm_up);
        let counts = (
            warm_up.num_users(),
            warm_up.num_items(),
            warm_up.num_interactions(),
        );
        drop(warm_up);
        let mut rust_times = Vec::with_capacity(repeat);
        let mut rust_peak = 0f64;
        let mut pandas_times = Vec::with_capacity(repeat);
        let mut pandas_peak = 0f64;
        let mut pandas_info = Value::Null;
        let mut pandas_error = None;
        for _ in 0..repeat {
            recalign_testkit::reset_peak_rss();
            let start = Instant::now();
            let dataset = load().dataset;
            rust_times.push(start.elapsed().as_secs_f64());
            rust_peak = rust_peak.max(recalign_testkit::peak_rss_mb().unwrap_or(f64::NAN));
            drop(dataset);
            let Some(py) = python.as_ref() else { continue };
            match bench_pandas(py, &workspace, name, &data_dir) {
                Ok(p) if p["digest"].as_str() == Some(digest.as_str()) => {
                    let runs = p["runs_s"].as_array().cloned().unwrap_or_default();
                    if let Some(warm) = runs.last().and_then(Value::as_f64) {
                        pandas_times.push(warm);
                    }
                    pandas_peak = pandas_peak.max(p["peak_rss_mb"].as_f64().unwrap_or(f64::NAN));
                    pandas_info = p;
                }
                Ok(p) => {
                    eprintln!(
                        "{name}: split digests differ (recalign {digest}, pandas {})",
                        p["digest"]
                    );
                    std::process::exit(1);
                }
                Err(e) => {
                    pandas_error = Some(e);
                    break;
                }
            }
        }
        let rust_median = median(&rust_times);
        let mut entry = json!({
            "dataset": name,
            "users": counts.0,
            "items": counts.1,
            "interactions": counts.2,
            "digest": digest,
            "recalign": { "runs_s": rust_times, "median_s": rust_median, "peak_rss_mb": rust_peak },
        });
        if pandas_times.len() == rust_times.len() && !pandas_times.is_empty() {
            let ratios: Vec<f64> = pandas_times
                .iter()
                .zip(&rust_times)
                .map(|(p, r)| p / r)
                .collect();
            let pandas_median = median(&pandas_times);
            entry["pandas"] = json!({
                "pandas_version": pandas_info["pandas_version"],
                "python_version": pandas_info["python_version"],
                "runs_s": pandas_times,
                "median_s": pandas_median,
                "peak_rss_mb": pandas_peak,
            });
            entry["speedup_median_of_rounds"] = json!(median(&ratios));
            entry["speedup_of_medians"] = json!(pandas_median / rust_median);
            println!(
                "{name}: recalign {:.1} ms, pandas {:.1} ms (medians of {repeat} interleaved rounds); recalign {:.1}x faster (median per-round ratio {:.1}x); same split digest",
                1e3 * rust_median,
                1e3 * pandas_median,
                pandas_median / rust_median,
                median(&ratios),
            );
        } else {
            if let Some(e) = &pandas_error {
                eprintln!("{name}: pandas run failed: {e}");
                entry["pandas_error"] = json!(e);
            }
            println!(
                "{name}: recalign {:.1} ms (median of {repeat}); no pandas comparison (run scripts/bench/setup-python.sh)",
                1e3 * rust_median
            );
        }
        results.push(entry);
    }
    let out_dir = workspace.join("target/bench");
    let report = json!({
        "benchmark": "load + prepare from gzip (5-core, file-order ties, leave-one-out, random ids)",
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "results": results,
    });
    let path = out_dir.join("prepare.json");
    let written = std::fs::create_dir_all(&out_dir).and_then(|()| {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&report).unwrap_or_default(),
        )
    });
    match written {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The digest `prepare_pandas.py` computes: one line per user sorted by raw
/// user id, `user \t valid_item \t test_item \t train_length \n`, SHA-256.
fn split_digest(dataset: &Dataset) -> String {
    let mut text = String::new();
    let valid = dataset.held_out_all(Split::Valid);
    let test = dataset.held_out_all(Split::Test);
    for (v, t) in valid.zip(test) {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}",
            dataset.user_id(v.user),
            dataset.item(v.target.item).raw_id,
            dataset.item(t.target.item).raw_id,
            dataset.train_sequence(v.user).len()
        );
    }
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn python_with_pandas(workspace: &Path) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("RECALIGN_PYTHON").map(PathBuf::from),
        Some(workspace.join(".venv-bench/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|py| {
        Command::new(py)
            .args(["-c", "import pandas"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn bench_pandas(
    python: &Path,
    workspace: &Path,
    name: &str,
    data_dir: &Path,
) -> Result<Value, String> {
    let output = Command::new(python)
        .arg(workspace.join("scripts/bench/prepare_pandas.py"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--dataset", name, "--repeat", "2"])
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())
}
