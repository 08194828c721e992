//! Benchmark: users per second of retrieval top-20 with 20 beams on the
//! CPU, for the `tiny` and `small` presets, beside HF transformers'
//! `generate(prefix_allowed_tokens_fn=…)` (`scripts/bench/retrieval_hf.py`,
//! the path of P5 and OpenP5) on the same checkpoint, prompts and trie,
//! when `.venv-torch` exists (`scripts/python/setup-torch.sh`; never in CI).
//!
//! ```text
//! cargo bench -p recalign-recommend --bench retrieval [-- tiny small]
//! ```
//!
//! The embedded shop's test users, asked as their held-out retrieval
//! samples ask; a tokenizer trained on the shop's prompts and a seeded
//! random model of the preset, saved in HF layout for the Python side. Both
//! sides: 16 users per batch, one untimed warm-up batch, then every user
//! timed. `RECALIGN_BENCH_USERS` sets the users (default 256 for tiny, 64
//! for small). Writes `target/bench/retrieval.json`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use burn::backend::Flex;
use recalign_data::Split;
use recalign_recommend::{History, Recommender, Settings};
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_t5::{Preset, T5};
use serde_json::{Value, json};

const K: usize = 20;
const BEAMS: usize = 20;
const BATCH: usize = 16;

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench")
}

fn python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-torch/bin/python");
    venv.is_file().then_some(venv)
}

fn run(preset: Preset) -> Value {
    let name = format!("{preset:?}").to_lowercase();
    let data = common::shop();
    let generator = Generator::new(&data, SamplesConfig::default()).expect("default samples");
    let tokenizer = common::tokenizer(&data, &generator, preset);
    let device = Default::default();
    let config = preset.config(preset.vocab_size());
    let model = T5::<Flex>::random(&config, 0, &device).expect("preset config");
    let dir = bench_dir().join(format!("retrieval-{name}"));
    model.save(&dir).expect("model saves");
    tokenizer
        .save(&dir.join("tokenizer.json"))
        .expect("tokenizer saves");
    let rec = Recommender::new(
        model,
        tokenizer,
        dir.join("tokenizer.json"),
        &generator,
        Settings::default(),
        &device,
    )
    .expect("recommender");

    let default_users = if preset == Preset::Tiny { 256 } else { 64 };
    let users: usize = std::env::var("RECALIGN_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_users);
    let held: Vec<_> = data.held_out_all(Split::Test).take(users).collect();
    let histories: Vec<History<'_>> = held
        .iter()
        .map(|h| History {
            user: Some(h.user),
            events: h.history,
        })
        .collect();
    let prompts: Vec<Vec<u32>> = histories
        .iter()
        .map(|&h| rec.prompt_tokens(h, Query::Retrieval).expect("prompt"))
        .collect();
    let requests = json!({
        "prompts": prompts,
        "items": rec.answers(),
        "k": K,
        "beams": BEAMS,
        "batch_users": BATCH,
        "decoder_start_token_id": config.decoder_start_token_id,
        "pad_token_id": config.pad_token_id,
        "eos_token_id": config.eos_token_id,
    });
    let requests_path = dir.join("requests.json");
    std::fs::write(&requests_path, requests.to_string()).expect("requests written");

    rec.retrieve(&histories[..BATCH.min(histories.len())], K, &[])
        .expect("warm-up");
    let start = Instant::now();
    let mut returned = 0;
    for chunk in histories.chunks(BATCH) {
        returned += rec
            .retrieve(chunk, K, &[])
            .expect("retrieval")
            .iter()
            .map(Vec::len)
            .sum::<usize>();
    }
    let seconds = start.elapsed().as_secs_f64();
    let ours = json!({
        "users": histories.len(),
        "seconds": seconds,
        "users_per_second": histories.len() as f64 / seconds,
        "items_returned": returned,
        "mean_prompt_tokens": prompts.iter().map(Vec::len).sum::<usize>() as f64 / prompts.len() as f64,
    });
    eprintln!("{name}: recalign {ours}");

    let hf = python().map(|python| {
        let out = dir.join("hf.json");
        let status = Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/retrieval_hf.py"))
            .arg("--model")
            .arg(&dir)
            .arg("--requests")
            .arg(&requests_path)
            .arg("--out")
            .arg(&out)
            .status()
            .expect("python runs");
        assert!(status.success(), "retrieval_hf.py failed");
        let hf: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("hf.json"))
            .expect("hf json");
        eprintln!("{name}: hf {hf}");
        hf
    });
    let ratio = hf
        .as_ref()
        .and_then(|hf| Some(ours["users_per_second"].as_f64()? / hf["users_per_second"].as_f64()?));
    if let Some(r) = ratio {
        println!("{name}: recalign is {r:.2}× HF generate (users/s)");
    }
    json!({ "preset": name, "recalign": ours, "hf": hf, "speedup": ratio })
}

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let presets: Vec<Preset> = if wanted.is_empty() {
        vec![Preset::Tiny, Preset::Small]
    } else {
        wanted
            .iter()
            .map(|w| Preset::parse(w).expect("tiny or small"))
            .collect()
    };
    let results: Vec<Value> = presets.into_iter().map(run).collect();
    let path = bench_dir().join("retrieval.json");
    std::fs::create_dir_all(bench_dir()).expect("bench dir");
    std::fs::write(&path, serde_json::to_string_pretty(&results).expect("json"))
        .expect("results written");
    println!("{}", path.display());
}
