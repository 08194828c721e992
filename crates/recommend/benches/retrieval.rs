//! Benchmark: users per second of retrieval top-20 with 20 beams, for the
//! `tiny` and `small` presets, beside HF transformers'
//! `generate(prefix_allowed_tokens_fn=…)` (`scripts/bench/retrieval_hf.py`,
//! the path of P5 and OpenP5) on the same checkpoint, prompts, trie and
//! device, when `.venv-torch` exists (`scripts/python/setup-torch.sh`;
//! never in CI) or `--python` names an interpreter with torch.
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
//!
//! Options (after `--`; `scripts/gpu/check.sh` runs the built binary with
//! them on a borrowed GPU, where no cargo exists):
//!
//! - `--device cpu|cuda[:N]`: where both sides run (default `cpu`); `cuda`
//!   needs the crate's `cuda` feature
//!   (`cargo bench -p recalign-recommend --features cuda --bench retrieval`)
//!   and is refused without it.
//! - `--users N`: users timed (as `RECALIGN_BENCH_USERS`).
//! - `--python PATH|none`, `--script PATH`: the PyTorch side's interpreter
//!   (default `.venv-torch/bin/python` when it exists) and script.
//! - `--dir DIR`: where the models and requests go (default
//!   `target/bench`); `--out FILE`: the JSON (default
//!   `DIR/retrieval.json`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use recalign_data::Split;
use recalign_recommend::{History, Recommender, Settings};
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_t5::{Preset, T5};
use serde_json::{Value, json};

const K: usize = 20;
const BEAMS: usize = 20;
const BATCH: usize = 16;

/// The command line: presets, and the options of the module docs. Flags
/// it does not know (cargo passes `--bench`) are ignored.
struct Options {
    presets: Vec<Preset>,
    device: String,
    users: Option<usize>,
    python: Option<PathBuf>,
    script: PathBuf,
    dir: PathBuf,
    out: Option<PathBuf>,
}

impl Options {
    fn parse() -> Self {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let venv = workspace.join(".venv-torch/bin/python");
        let mut options = Self {
            presets: Vec::new(),
            device: "cpu".to_owned(),
            users: std::env::var("RECALIGN_BENCH_USERS")
                .ok()
                .and_then(|v| v.parse().ok()),
            python: venv.is_file().then_some(venv),
            script: workspace.join("scripts/bench/retrieval_hf.py"),
            dir: workspace.join("target/bench"),
            out: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .unwrap_or_else(|| panic!("{name} needs a value"))
            };
            match arg.as_str() {
                "--device" => options.device = value("--device"),
                "--users" => options.users = Some(value("--users").parse().expect("--users N")),
                "--python" => {
                    let python = value("--python");
                    options.python = (python != "none").then(|| PathBuf::from(python));
                }
                "--script" => options.script = value("--script").into(),
                "--dir" => options.dir = value("--dir").into(),
                "--out" => options.out = Some(value("--out").into()),
                flag if flag.starts_with('-') => {}
                preset => options
                    .presets
                    .push(Preset::parse(preset).expect("tiny or small")),
            }
        }
        if options.presets.is_empty() {
            options.presets = vec![Preset::Tiny, Preset::Small];
        }
        options
    }
}

/// Runs `preset` on the backend of `options.device`.
fn run_on_device(preset: Preset, options: &Options) -> Value {
    match options.device.as_str() {
        "cpu" => run::<Flex>(preset, options, Default::default()),
        other => {
            let index = match other {
                "cuda" => 0,
                _ => other
                    .strip_prefix("cuda:")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("--device {other}: cpu, cuda or cuda:N")),
            };
            gpu::run_cuda(preset, options, index)
        }
    }
}

/// The GPU path, in builds with the crate's `cuda` feature.
mod gpu {
    use super::*;

    /// On GPU `index`, in a build with the `cuda` feature.
    #[cfg(feature = "cuda")]
    pub fn run_cuda(preset: Preset, options: &Options, index: usize) -> Value {
        let device = burn::backend::cuda::CudaDevice::new(index);
        run::<burn::backend::Cuda>(preset, options, device)
    }

    /// Refuses the GPU: this build has no CUDA backend.
    #[cfg(not(feature = "cuda"))]
    pub fn run_cuda(_preset: Preset, _options: &Options, index: usize) -> Value {
        panic!(
            "--device cuda:{index}: this bench was built without CUDA \
             (build it as scripts/gpu/build.sh does)"
        )
    }
}

fn run<B: Backend>(preset: Preset, options: &Options, device: B::Device) -> Value {
    let name = format!("{preset:?}").to_lowercase();
    let data = common::shop();
    let generator = Generator::new(&data, SamplesConfig::default()).expect("default samples");
    let tokenizer = common::tokenizer(&data, &generator, preset);
    let config = preset.config(preset.vocab_size());
    let model = T5::<B>::random(&config, 0, &device).expect("preset config");
    let dir = options.dir.join(format!("retrieval-{name}"));
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
    let users = options.users.unwrap_or(default_users);
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
    // The results are read back to the host, so each batch has finished
    // on the device when `retrieve` returns.
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

    let hf = options.python.as_ref().map(|python| {
        let out = dir.join("hf.json");
        let status = Command::new(python)
            .arg(&options.script)
            .arg("--model")
            .arg(&dir)
            .arg("--requests")
            .arg(&requests_path)
            .arg("--device")
            .arg(&options.device)
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
        eprintln!("{name}: recalign is {r:.2}× HF generate (users/s)");
    }
    json!({
        "preset": name,
        "device": options.device,
        "k": K,
        "beams": BEAMS,
        "batch_users": BATCH,
        "recalign": ours,
        "hf": hf,
        "speedup": ratio,
    })
}

fn main() {
    let options = Options::parse();
    let results: Vec<Value> = options
        .presets
        .iter()
        .map(|&preset| run_on_device(preset, &options))
        .collect();
    let path = options
        .out
        .clone()
        .unwrap_or_else(|| options.dir.join("retrieval.json"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("bench dir");
    }
    let text = serde_json::to_string_pretty(&results).expect("json");
    std::fs::write(&path, &text).expect("results written");
    println!("{text}");
    eprintln!("wrote {}", path.display());
}
