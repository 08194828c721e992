//! Benchmark: what batching buys retrieval on the CPU. Users per second of
//! retrieval (top 10, 20 beams, the `small` preset with random weights) at
//! batch sizes 1, 2, 4, 8, 16 and 32 (best of three alternated passes),
//! with users batched in arrival order and with each window of 32 users
//! sorted by prompt length first (so a batch is padded to a prompt close to
//! its own), side by side in one run. This is the measurement behind
//! `recalign serve`'s batching rule.
//!
//! ```text
//! cargo bench -p recalign-recommend --bench batch_size [-- tiny|small]
//! ```
//!
//! `RECALIGN_BENCH_USERS` sets the users (default 64). Writes
//! `target/bench/batch-size.json` and prints a markdown table.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::Flex;
use recalign_data::Split;
use recalign_recommend::{History, Recommender, Settings};
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_t5::{Preset, T5};
use serde_json::json;

const K: usize = 10;
const SIZES: [usize; 6] = [1, 2, 4, 8, 16, 32];
const WINDOW: usize = 32;

fn bench_dir() -> PathBuf {
    recalign_testkit::workspace().join("target/bench")
}

fn main() {
    let preset = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map_or(Preset::Small, |p| Preset::parse(&p).expect("tiny or small"));
    let data = common::shop();
    let generator = Generator::new(&data, SamplesConfig::default()).expect("default samples");
    let tokenizer = common::tokenizer(&data, &generator, preset);
    let device = Default::default();
    let model =
        T5::<Flex>::random(&preset.config(preset.vocab_size()), 0, &device).expect("preset config");
    let rec = Recommender::new(
        model,
        tokenizer,
        PathBuf::from("tokenizer.json"),
        &generator,
        Settings::default(),
        &device,
    )
    .expect("recommender");

    let users: usize = std::env::var("RECALIGN_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let held: Vec<_> = data.held_out_all(Split::Test).take(users).collect();
    let arrival: Vec<History<'_>> = held
        .iter()
        .map(|h| History {
            user: None,
            events: h.history,
        })
        .collect();
    let length = |h: &History<'_>| {
        rec.prompt_tokens(*h, Query::Retrieval)
            .expect("prompt")
            .len()
    };
    let lengths: Vec<usize> = arrival.iter().map(length).collect();
    let mut sorted = Vec::with_capacity(arrival.len());
    for window in arrival.chunks(WINDOW) {
        let mut window = window.to_vec();
        window.sort_by_key(length);
        sorted.extend(window);
    }
    rec.retrieve(&arrival[..4.min(arrival.len())], K, &[])
        .expect("warm-up");

    let time = |histories: &[History<'_>], size: usize| {
        let start = Instant::now();
        for chunk in histories.chunks(size) {
            rec.retrieve(chunk, K, &[]).expect("retrieval");
        }
        histories.len() as f64 / start.elapsed().as_secs_f64()
    };
    let mut rows = Vec::new();
    println!(
        "| batch | users/s, arrival order | users/s, sorted by length | padded/real tokens, arrival | sorted |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for size in SIZES {
        let padding = |histories: &[History<'_>]| {
            let (mut padded, mut real) = (0, 0);
            for chunk in histories.chunks(size) {
                let l: Vec<usize> = chunk.iter().map(length).collect();
                padded += l.iter().max().unwrap_or(&0) * l.len();
                real += l.iter().sum::<usize>();
            }
            padded as f64 / real.max(1) as f64
        };
        // Alternated and repeated, best of three: the machine may be shared.
        let (mut in_order, mut by_length) = (0.0f64, 0.0f64);
        for _ in 0..3 {
            in_order = in_order.max(time(&arrival, size));
            by_length = by_length.max(time(&sorted, size));
        }
        let (pad_order, pad_sorted) = (padding(&arrival), padding(&sorted));
        println!("| {size} | {in_order:.2} | {by_length:.2} | {pad_order:.2} | {pad_sorted:.2} |");
        rows.push(json!({
            "batch": size,
            "users_per_second_arrival": in_order,
            "users_per_second_sorted": by_length,
            "padding_arrival": pad_order,
            "padding_sorted": pad_sorted,
        }));
    }
    let result = json!({
        "preset": format!("{preset:?}").to_lowercase(),
        "users": arrival.len(),
        "k": K,
        "beams": Settings::default().beams,
        "prompt_tokens": {
            "min": lengths.iter().min(),
            "mean": lengths.iter().sum::<usize>() as f64 / lengths.len().max(1) as f64,
            "max": lengths.iter().max(),
        },
        "rows": rows,
    });
    std::fs::create_dir_all(bench_dir()).expect("bench dir");
    let path = bench_dir().join("batch-size.json");
    std::fs::write(&path, serde_json::to_string_pretty(&result).expect("json"))
        .expect("results written");
    println!("{}", path.display());
}
