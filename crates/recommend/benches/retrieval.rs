//! Benchmark: users per second of retrieval top-20 with 20 beams, for the
//! `tiny` and `small` presets at 1, 16 and 64 users per batch, beside HF
//! transformers' `generate(prefix_allowed_tokens_fn=…)`
//! (`scripts/bench/retrieval_hf.py`, the path of P5 and OpenP5) on the same
//! checkpoint, prompts, trie and device, when `.venv-torch` exists
//! (`scripts/python/setup-torch.sh`; never in CI) or `--python` names an
//! interpreter with torch.
//!
//! ```text
//! cargo bench -p recalign-recommend --bench retrieval [-- tiny small]
//! ```
//!
//! The embedded shop's test users, asked as their held-out retrieval
//! samples ask; a tokenizer trained on the shop's prompts and a seeded
//! random model of the preset, saved in HF layout for the Python side.
//! Every measurement runs in its own process, so each side's peak resident
//! memory is its own: it loads the saved model, decodes one untimed warm-up
//! batch, then times every user. Rounds alternate the sides (recalign, then
//! HF, for each batch size) so a noisy machine slows both alike; the report
//! gives the median users/s of each side and the median of the per-round
//! ratios. recalign's top-20 lists at every batch size are compared with
//! its own lists one user at a time (`same_as_batch_1`: the share of users
//! whose items come out in the same order). Writes
//! `target/bench/retrieval.json`.
//!
//! Options (after `--`; `scripts/gpu/check.sh` runs the built binary with
//! them on a borrowed GPU, where no cargo exists):
//!
//! - `--device cpu|cuda[:N]`: where both sides run (default `cpu`); `cuda`
//!   needs the crate's `cuda` feature
//!   (`cargo bench -p recalign-recommend --features cuda --bench retrieval`)
//!   and is refused without it.
//! - `--batch 1,16,64`: the users per batch to measure.
//! - `--users N`: users timed (also `RECALIGN_BENCH_USERS`; default 256
//!   for tiny, 64 for small).
//! - `--rounds N`: alternated rounds (also `RECALIGN_BENCH_REPEAT`;
//!   default 3).
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
use recalign_data::{Dataset, Split};
use recalign_recommend::{History, Recommender, Settings};
use recalign_runtime::{DeviceChoice, DeviceError, InferenceJob};
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_t5::{Preset, T5};
use recalign_tokenizer::T5Tokenizer;
use serde_json::{Value, json};

const K: usize = 20;
const BEAMS: usize = 20;
/// Set in a child process: `PRESET,BATCH,USERS`, the one measurement it makes.
const CHILD: &str = "RECALIGN_BENCH_CHILD";

/// The command line: presets, and the options of the module docs. Flags
/// it does not know (cargo passes `--bench`) are ignored.
struct Options {
    presets: Vec<Preset>,
    device: DeviceChoice,
    batches: Vec<usize>,
    users: Option<usize>,
    rounds: usize,
    python: Option<PathBuf>,
    script: PathBuf,
    dir: PathBuf,
    out: Option<PathBuf>,
}

impl Options {
    fn parse() -> Self {
        let workspace = recalign_testkit::workspace();
        let venv = workspace.join(".venv-torch/bin/python");
        let env_number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
        let mut options = Self {
            presets: Vec::new(),
            device: DeviceChoice::Cpu,
            batches: vec![1, 16, 64],
            users: env_number("RECALIGN_BENCH_USERS"),
            rounds: env_number("RECALIGN_BENCH_REPEAT").unwrap_or(3),
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
            let number = |name: &str, text: String| -> usize {
                text.parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| panic!("{name} {text}: a positive number"))
            };
            match arg.as_str() {
                "--device" => {
                    options.device = value("--device")
                        .parse()
                        .unwrap_or_else(|e| panic!("--device: {e}"));
                }
                "--batch" => {
                    options.batches = value("--batch")
                        .split(',')
                        .map(|b| number("--batch", b.to_owned()))
                        .collect();
                }
                "--users" => options.users = Some(number("--users", value("--users"))),
                "--rounds" => options.rounds = number("--rounds", value("--rounds")),
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

    fn users(&self, preset: Preset) -> usize {
        self.users
            .unwrap_or(if preset == Preset::Tiny { 256 } else { 64 })
    }
}

fn preset_name(preset: Preset) -> String {
    format!("{preset:?}").to_lowercase()
}

/// The first `users` test users of the shop, as retrieval asks them.
fn histories(data: &Dataset, users: usize) -> Vec<History<'_>> {
    data.held_out_all(Split::Test)
        .take(users)
        .map(|h| History {
            user: Some(h.user),
            events: h.history,
        })
        .collect()
}

/// Saves the preset's seeded random model and its tokenizer in
/// `dir/retrieval-PRESET`, with the token ids both sides decode, and
/// returns that folder.
fn prepare(preset: Preset, options: &Options) -> PathBuf {
    let data = common::shop();
    let generator = Generator::new(&data, SamplesConfig::default()).expect("default samples");
    let tokenizer = common::tokenizer(&data, &generator, preset);
    let config = preset.config(preset.vocab_size());
    let device = Default::default();
    let model = T5::<Flex>::random(&config, 0, &device).expect("preset config");
    let dir = options
        .dir
        .join(format!("retrieval-{}", preset_name(preset)));
    model.save(&dir).expect("model saves");
    tokenizer
        .save(&dir.join("tokenizer.json"))
        .expect("tokenizer saves");
    let rec = load::<Flex>(&dir, &generator, &device);
    let prompts: Vec<Vec<u32>> = histories(&data, options.users(preset))
        .into_iter()
        .map(|h| rec.prompt_tokens(h, Query::Retrieval).expect("prompt"))
        .collect();
    let requests = json!({
        "prompts": prompts,
        "items": rec.answers(),
        "k": K,
        "beams": BEAMS,
        "batch_users": 16,
        "decoder_start_token_id": config.decoder_start_token_id,
        "pad_token_id": config.pad_token_id,
        "eos_token_id": config.eos_token_id,
    });
    std::fs::write(dir.join("requests.json"), requests.to_string()).expect("requests written");
    dir
}

/// The recommender of the model and tokenizer saved in `dir`.
fn load<'g, 'd, B: Backend>(
    dir: &Path,
    generator: &'g Generator<'d>,
    device: &B::Device,
) -> Recommender<'g, 'd, B> {
    let model = T5::<B>::load(dir, device).expect("the saved model loads");
    let tokenizer_path = dir.join("tokenizer.json");
    let tokenizer = T5Tokenizer::from_file(&tokenizer_path).expect("tokenizer loads");
    Recommender::new(
        model,
        tokenizer,
        tokenizer_path,
        generator,
        Settings::default(),
        device,
    )
    .expect("recommender")
}

/// One timed pass of recalign in this (child) process: loads the saved
/// model, decodes a warm-up batch, then every user `batch` at a time.
struct Measure {
    dir: PathBuf,
    batch: usize,
    users: usize,
}

impl InferenceJob for Measure {
    type Output = Value;
    type Error = DeviceError;

    fn run<B: Backend>(self, device: B::Device) -> Result<Value, DeviceError> {
        let data = common::shop();
        let generator = Generator::new(&data, SamplesConfig::default()).expect("default samples");
        let rec = load::<B>(&self.dir, &generator, &device);
        let histories = histories(&data, self.users);
        rec.retrieve(&histories[..self.batch.min(histories.len())], K, &[])
            .expect("warm-up");
        // The results are read back to the host, so each batch has finished
        // on the device when `retrieve` returns.
        let start = Instant::now();
        let mut lists = Vec::with_capacity(histories.len());
        for chunk in histories.chunks(self.batch) {
            lists.extend(rec.retrieve(chunk, K, &[]).expect("retrieval"));
        }
        let seconds = start.elapsed().as_secs_f64();
        let items: Vec<Vec<u32>> = lists
            .iter()
            .map(|list| list.iter().map(|r| r.item.0).collect())
            .collect();
        Ok(json!({
            "users": histories.len(),
            "batch_users": self.batch,
            "seconds": seconds,
            "users_per_second": histories.len() as f64 / seconds,
            "items_returned": items.iter().map(Vec::len).sum::<usize>(),
            "peak_rss_mb": recalign_testkit::peak_rss_mb(),
            "items": items,
        }))
    }
}

/// The child's side: one measurement, printed as one JSON line.
fn child(spec: &str, options: &Options) {
    let fields: Vec<&str> = spec.split(',').collect();
    let [preset, batch, users] = fields[..] else {
        panic!("{CHILD}={spec}: PRESET,BATCH,USERS");
    };
    let preset = Preset::parse(preset).expect("tiny or small");
    let job = Measure {
        dir: options
            .dir
            .join(format!("retrieval-{}", preset_name(preset))),
        batch: batch.parse().expect("batch"),
        users: users.parse().expect("users"),
    };
    let result = options.device.infer(job).unwrap_or_else(|e| panic!("{e}"));
    println!("{result}");
}

/// Runs `command` and parses the last line of its stdout as JSON.
fn run_json(command: &mut Command, side: &str) -> Value {
    let output = command.output().unwrap_or_else(|e| panic!("{side}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{side} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{side} printed no JSON ({e}): {line}"))
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    (!sorted.is_empty()).then(|| sorted[sorted.len() / 2])
}

/// The largest peak resident memory of `runs`.
fn peak(runs: &[Value]) -> Option<f64> {
    runs.iter()
        .filter_map(|r| r["peak_rss_mb"].as_f64())
        .reduce(f64::max)
}

/// Runs one side's measurement and prints its speed and memory after
/// `label`.
fn measure(command: &mut Command, side: &str, label: &str) -> Value {
    let result = run_json(command, side);
    eprintln!(
        "{label}: {side} {:.2} users/s, {:.0} MB",
        result["users_per_second"].as_f64().unwrap_or(f64::NAN),
        result["peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
    );
    result
}

/// The share of users whose top-K items are the same, in the same order.
fn agreement(a: &Value, b: &Value) -> Option<f64> {
    let (a, b) = (a.as_array()?, b.as_array()?);
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    (a.len() == b.len() && !a.is_empty()).then(|| same as f64 / a.len() as f64)
}

/// Every batch size of `preset`, `options.rounds` alternated rounds.
fn bench_preset(preset: Preset, options: &Options) -> Vec<Value> {
    let name = preset_name(preset);
    let dir = prepare(preset, options);
    let users = options.users(preset);
    let me = std::env::current_exe().expect("the bench binary");
    let mut ours = vec![Vec::new(); options.batches.len()];
    let mut theirs = vec![Vec::new(); options.batches.len()];
    for round in 0..options.rounds {
        for (b, &batch) in options.batches.iter().enumerate() {
            let mut command = Command::new(&me);
            command
                .args(std::env::args().skip(1))
                .env(CHILD, format!("{name},{batch},{users}"));
            let label = format!("{name} batch {batch} round {}", round + 1);
            ours[b].push(measure(&mut command, "recalign", &label));
            let Some(python) = &options.python else {
                continue;
            };
            let out = dir.join("hf.json");
            let mut command = Command::new(python);
            command
                .arg(&options.script)
                .arg("--model")
                .arg(&dir)
                .arg("--requests")
                .arg(dir.join("requests.json"))
                .args(["--batch-users", &batch.to_string()])
                .args(["--device", &options.device.to_string()])
                .arg("--out")
                .arg(&out);
            theirs[b].push(measure(&mut command, "HF", &label));
        }
    }
    let one_at_a_time = options
        .batches
        .iter()
        .position(|&b| b == 1)
        .map(|b| ours[b][0]["items"].clone());
    options
        .batches
        .iter()
        .enumerate()
        .map(|(b, &batch)| {
            let speed = |runs: &[Value]| -> Vec<f64> {
                runs.iter()
                    .filter_map(|r| r["users_per_second"].as_f64())
                    .collect()
            };
            let (our_speed, their_speed) = (speed(&ours[b]), speed(&theirs[b]));
            let ratios: Vec<f64> = our_speed
                .iter()
                .zip(&their_speed)
                .map(|(o, t)| o / t)
                .collect();
            let hf = theirs[b].last().map(|last| {
                json!({
                    "users_per_second_runs": their_speed,
                    "median_users_per_second": median(&their_speed),
                    "peak_rss_mb": peak(&theirs[b]),
                    "valid_fraction": last["valid_fraction"],
                    "torch": last["torch"],
                    "transformers": last["transformers"],
                    "threads": last["threads"],
                })
            });
            let first = &ours[b][0];
            json!({
                "preset": name,
                "device": options.device.to_string(),
                "k": K,
                "beams": BEAMS,
                "batch_users": batch,
                "users": users,
                "rounds": options.rounds,
                "recalign": {
                    "users_per_second_runs": our_speed,
                    "median_users_per_second": median(&our_speed),
                    "peak_rss_mb": peak(&ours[b]),
                    "items_returned": first["items_returned"],
                    "same_as_batch_1": one_at_a_time
                        .as_ref()
                        .and_then(|one| agreement(one, &first["items"])),
                },
                "hf": hf,
                "speedup_median_of_rounds": median(&ratios),
            })
        })
        .collect()
}

fn main() {
    let options = Options::parse();
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec, &options);
        return;
    }
    if let Err(e) = options.device.check() {
        panic!("{e}");
    }
    let results: Vec<Value> = options
        .presets
        .iter()
        .flat_map(|&preset| bench_preset(preset, &options))
        .collect();
    for r in &results {
        eprintln!(
            "{} batch {}: recalign {:.2} users/s ({:.0} MB), HF {:.2} users/s ({:.0} MB): {:.2}×",
            r["preset"].as_str().unwrap_or_default(),
            r["batch_users"],
            r["recalign"]["median_users_per_second"]
                .as_f64()
                .unwrap_or(f64::NAN),
            r["recalign"]["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
            r["hf"]["median_users_per_second"]
                .as_f64()
                .unwrap_or(f64::NAN),
            r["hf"]["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
            r["speedup_median_of_rounds"].as_f64().unwrap_or(f64::NAN),
        );
    }
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
