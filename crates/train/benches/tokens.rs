//! Benchmark: what a trained tokenizer makes of a samples folder. Trains
//! the tokenizer a fresh model would get (`train_tokenizer`, the preset's
//! vocabulary, the manifest's whole tokens), then encodes every training
//! sample and reports, per task, the mean input and target tokens, with the
//! vocabulary reached and the training time.
//!
//! ```text
//! recalign samples --splits train --out S           # any dataset, any scheme
//! cargo bench -p recalign-train --bench tokens -- S [tiny|small]
//! ```
//!
//! Writes the JSON to stdout and to `target/bench/tokens.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use recalign_t5::Preset;
use recalign_train::data::read_pairs;
use recalign_train::train_tokenizer;
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: tokens SAMPLES_DIR [tiny|small]");
        std::process::exit(2);
    };
    let preset = match args.get(1).map(String::as_str) {
        None | Some("tiny") => Preset::Tiny,
        Some("small") => Preset::Small,
        Some(other) => {
            eprintln!("unknown preset `{other}` (tiny, small)");
            std::process::exit(2);
        }
    };
    let train = ["train.jsonl", "train.jsonl.gz"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{}: no train.jsonl", dir.display()));
    let started = Instant::now();
    let tokenizer = train_tokenizer(&train, preset).expect("tokenizer training");
    let seconds = started.elapsed().as_secs_f64();
    let pairs = read_pairs(&train, None).expect("samples");
    let mut tasks: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for pair in &pairs {
        let input = tokenizer.encode(&pair.input).expect("encode").len();
        let target = tokenizer.encode(&pair.target).expect("encode").len();
        let entry = tasks.entry(pair.task.as_str()).or_default();
        entry.0 += 1;
        entry.1 += input;
        entry.2 += target;
    }
    let per_task: BTreeMap<&str, serde_json::Value> = tasks
        .iter()
        .map(|(task, &(n, input, target))| {
            let mean = |sum: usize| (sum as f64 / n as f64 * 10.0).round() / 10.0;
            (
                *task,
                json!({"samples": n, "input_tokens": mean(input), "target_tokens": mean(target)}),
            )
        })
        .collect();
    let report = json!({
        "samples_dir": dir.display().to_string(),
        "preset": format!("{preset:?}").to_lowercase(),
        "requested_vocab": preset.vocab_size(),
        "vocab_size": tokenizer.vocab_size(),
        "training_seconds": (seconds * 100.0).round() / 100.0,
        "tasks": per_task,
        "first_sample_pieces": pairs
            .first()
            .map(|p| tokenizer.pieces(&p.input).expect("encode").join(" ")),
    });
    let text = serde_json::to_string_pretty(&report).expect("json");
    println!("{text}");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&out).is_ok() {
        let _ = std::fs::write(out.join("tokens.json"), &text);
    }
}
