//! Benchmark: training samples per second for the full Beauty training set
//! (retrieval on every prefix, one ranking, MIM, MLM and BPR sample per
//! user: 220,865 samples), beside `scripts/bench/samples_python.py`, a
//! straightforward Python implementation of the same templates and rules,
//! run round by round in alternation so a noisy machine slows both alike.
//!
//! ```text
//! RECALIGN_DATA=../shared/data cargo bench -p recalign-samples --bench samples
//! ```
//!
//! Both sides are timed end to end, from the gzip files to the closed
//! JSON-lines file (loading, splitting and numbering items included); the
//! recalign side also reports generation alone. Each round runs each side
//! once in a fresh process of its own, so each side's peak resident memory
//! is its own. Each side's sample count must agree. Writes
//! `target/bench/samples.json`. `RECALIGN_BENCH_REPEAT` sets the rounds
//! (default 5).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use recalign_data::{DatasetSpec, LoadOptions, PrepareConfig, Split};
use recalign_samples::{Generator, SamplesConfig, WriteOptions};
use serde_json::{Value, json};

/// Set in a child process: the folder its one recalign run writes into.
const CHILD: &str = "RECALIGN_BENCH_CHILD";

/// One recalign run, end to end, in this (child) process: prints
/// `{"total_s", "generation_s", "samples", "peak_rss_mb"}`.
fn child(data_dir: PathBuf, out: &Path) {
    let options = LoadOptions {
        data_dir,
        ..LoadOptions::default()
    };
    let spec = DatasetSpec::parse("beauty").expect("beauty");
    let write_options = WriteOptions {
        splits: vec![Split::Train],
        ..WriteOptions::default()
    };
    let start = Instant::now();
    let data = recalign_data::load(&spec, &PrepareConfig::default(), &options)
        .expect("beauty loads")
        .dataset;
    let generation = Instant::now();
    let generator = Generator::new(&data, SamplesConfig::default()).expect("default config");
    let written =
        recalign_samples::write(&generator, out, &write_options, &|_| {}).expect("samples write");
    let end = Instant::now();
    println!(
        "{}",
        json!({
            "total_s": (end - start).as_secs_f64(),
            "generation_s": (end - generation).as_secs_f64(),
            "samples": written.summary.total(Split::Train),
            "peak_rss_mb": recalign_testkit::peak_rss_mb(),
        })
    );
}

/// Runs `command` and parses its stdout as JSON.
fn run_json(command: &mut Command) -> Result<Value, String> {
    let output = command.output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())
}

fn main() {
    let Some(data_dir) = std::env::var_os("RECALIGN_DATA").map(PathBuf::from) else {
        eprintln!("set RECALIGN_DATA to the folder holding beauty/");
        std::process::exit(2);
    };
    if let Some(out) = std::env::var_os(CHILD) {
        child(data_dir, Path::new(&out));
        return;
    }
    let rounds: usize = std::env::var("RECALIGN_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let workspace = recalign_testkit::workspace();
    let out = tempfile::tempdir().expect("a temporary directory");
    let me = std::env::current_exe().expect("the bench binary");
    let python_out = out.path().join("python.jsonl");
    let mut rust_total = Vec::new();
    let mut rust_generation = Vec::new();
    let mut python = Vec::new();
    let mut counts = (0, 0);
    let mut python_info = Value::Null;
    let mut rust_peak = 0f64;
    let mut python_peak = 0f64;
    for _ in 0..rounds {
        let ours = run_json(Command::new(&me).env(CHILD, out.path()))
            .unwrap_or_else(|e| panic!("recalign run failed: {e}"));
        rust_total.push(ours["total_s"].as_f64().expect("total_s"));
        rust_generation.push(ours["generation_s"].as_f64().expect("generation_s"));
        counts.0 = ours["samples"].as_u64().unwrap_or(0) as usize;
        rust_peak = rust_peak.max(ours["peak_rss_mb"].as_f64().unwrap_or(f64::NAN));
        let run = run_json(
            Command::new("python3")
                .arg(workspace.join("scripts/bench/samples_python.py"))
                .arg("--data-dir")
                .arg(&data_dir)
                .args(["--dataset", "beauty", "--repeat", "1", "--out"])
                .arg(&python_out),
        );
        match run {
            Ok(info) => {
                if let Some(t) = info["median_s"].as_f64() {
                    python.push(t);
                }
                counts.1 = info["samples"].as_u64().unwrap_or(0) as usize;
                python_peak = python_peak.max(info["peak_rss_mb"].as_f64().unwrap_or(f64::NAN));
                python_info = info;
            }
            Err(e) => {
                eprintln!("python failed: {e}");
                break;
            }
        }
    }
    let median = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (total, generation) = (median(&rust_total), median(&rust_generation));
    let samples = counts.0 as f64;
    let mut report = json!({
        "benchmark": "Beauty training samples, end to end from the gzip files",
        "samples": counts.0,
        "recalign": {
            "runs_s": rust_total,
            "median_s": total,
            "samples_per_s": samples / total,
            "generation_only_median_s": generation,
            "generation_only_samples_per_s": samples / generation,
            "peak_rss_mb": rust_peak,
        },
    });
    println!(
        "recalign: {} samples in {:.3} s end to end ({:.0} samples/s; generation alone {:.3} s, {:.0}/s)",
        counts.0,
        total,
        samples / total,
        generation,
        samples / generation
    );
    if python.len() == rust_total.len() {
        if counts.0 != counts.1 {
            eprintln!(
                "sample counts differ: recalign {}, python {}",
                counts.0, counts.1
            );
            std::process::exit(1);
        }
        let ratios: Vec<f64> = python.iter().zip(&rust_total).map(|(p, r)| p / r).collect();
        let p = median(&python);
        report["python"] = json!({
            "python_version": python_info["python_version"],
            "runs_s": python,
            "median_s": p,
            "samples_per_s": samples / p,
            "peak_rss_mb": python_peak,
        });
        report["speedup_of_medians"] = json!(p / total);
        report["speedup_median_of_rounds"] = json!(median(&ratios));
        println!(
            "python:   {} samples in {p:.3} s ({:.0} samples/s): recalign {:.1}x faster (median per-round ratio {:.1}x)",
            counts.1,
            samples / p,
            p / total,
            median(&ratios)
        );
    }
    let dir = workspace.join("target/bench");
    let path = dir.join("samples.json");
    match std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&report).unwrap_or_default(),
        )
    }) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}
