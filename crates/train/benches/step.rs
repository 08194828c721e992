//! Benchmark: one T5 training step (forward, cross-entropy, backward, AdamW)
//! for the `tiny` and `small` presets, beside the same step in PyTorch + HF
//! transformers (`scripts/bench/t5_step_torch.py`) when `.venv-torch` exists
//! (`scripts/python/setup-torch.sh`; never in CI) or `--python` names an
//! interpreter with torch and transformers.
//!
//! ```text
//! cargo bench -p recalign-train --bench step [-- tiny small]
//! cargo bench -p recalign-train --features cuda --bench step -- small --device cuda --precision bf16
//! ```
//!
//! Same shapes on both sides: batch 32 × 64 input / 8 target tokens, the odd
//! rows ending in 8 padding positions, random labels, dropout 0.1, AdamW at
//! lr 1e-3 with weight decay 0.01. Each side runs in its own process (so its
//! peak RSS is its own): 1 untimed warm-up step, then 10 timed steps, median
//! taken. Rounds alternate Rust and PyTorch so a noisy machine slows both
//! alike; `RECALIGN_BENCH_REPEAT` sets the rounds (default 3). Writes
//! `target/bench/t5_step.json`.
//!
//! Options (after `--`; `scripts/gpu/check.sh` runs the built binary with
//! them on a borrowed GPU, where no cargo exists):
//!
//! - `--device cpu|cuda[:N]`: where both sides run (default `cpu`; `cuda`
//!   needs the crate's `cuda` feature). Each timed step ends with the
//!   device synchronised on both sides, so a step's time is its own.
//! - `--precision f32|bf16`: `bf16` is `T5::set_precision(Bf16)` here and
//!   `torch.autocast(dtype=bfloat16)` on the PyTorch side (its `--bf16`).
//! - `--python PATH|none`: the interpreter for the PyTorch side (default
//!   `.venv-torch/bin/python` of this workspace when it exists); `none`
//!   times recalign only.
//! - `--script PATH`: `t5_step_torch.py` (default: this workspace's).
//! - `--steps N`: timed steps per run (default 10).
//! - `--out FILE`: where the JSON goes (default `target/bench/t5_step.json`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recalign_t5::{Precision, Preset, T5, cross_entropy};
use recalign_train::{DeviceChoice, DeviceError, Optimizer, OptimizerConfig, TrainingJob};
use serde_json::{Value, json};

const BATCH: usize = 32;
const SRC: usize = 64;
const TGT: usize = 8;
const PAD: usize = 8;
const STEPS: usize = 10;
const CHILD: &str = "RECALIGN_BENCH_CHILD";

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The command line: presets, and the options of the module docs. Flags
/// it does not know (cargo passes `--bench`) are ignored.
struct Options {
    presets: Vec<Preset>,
    device: DeviceChoice,
    precision: Precision,
    python: Option<PathBuf>,
    script: PathBuf,
    steps: usize,
    out: PathBuf,
    /// The arguments as given, for the child processes.
    raw: Vec<String>,
}

impl Options {
    fn parse(workspace: &Path) -> Self {
        let raw: Vec<String> = std::env::args().skip(1).collect();
        let venv = workspace.join(".venv-torch/bin/python");
        let mut options = Self {
            presets: Vec::new(),
            device: DeviceChoice::Cpu,
            precision: Precision::F32,
            python: venv.is_file().then_some(venv),
            script: workspace.join("scripts/bench/t5_step_torch.py"),
            steps: STEPS,
            out: workspace.join("target/bench/t5_step.json"),
            raw: raw.clone(),
        };
        let mut args = raw.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .unwrap_or_else(|| panic!("{name} needs a value"))
            };
            match arg.as_str() {
                "--device" => options.device = value("--device").parse().expect("--device"),
                "--precision" => {
                    options.precision = value("--precision").parse().expect("--precision")
                }
                "--python" => {
                    let python = value("--python");
                    options.python = (python != "none").then(|| PathBuf::from(python));
                }
                "--script" => options.script = value("--script").into(),
                "--steps" => options.steps = value("--steps").parse().expect("--steps N"),
                "--out" => options.out = value("--out").into(),
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

/// The timed steps of one preset, on the backend of the chosen device.
struct Steps {
    preset: Preset,
    precision: Precision,
    steps: usize,
}

impl TrainingJob for Steps {
    type Output = Value;
    type Error = DeviceError;

    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>) -> Result<Value, DeviceError> {
        let device = devices.into_iter().next().expect("one device");
        let preset = self.preset;
        let vocab = preset.vocab_size();
        let mut model = T5::<B>::random(&preset.config(vocab), 0, &device).expect("preset config");
        model.set_precision(self.precision);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut ids =
            |n: usize| -> Vec<i64> { (0..n).map(|_| rng.random_range(2..vocab as i64)).collect() };
        let mut input = ids(BATCH * SRC);
        let mut mask = vec![1i64; BATCH * SRC];
        for row in (1..BATCH).step_by(2) {
            for col in SRC - PAD..SRC {
                input[row * SRC + col] = 0;
                mask[row * SRC + col] = 0;
            }
        }
        let labels = ids(BATCH * TGT);
        let decoder: Vec<i64> = (0..BATCH)
            .flat_map(|row| recalign_t5::shift_right(&labels[row * TGT..(row + 1) * TGT], 0, 0))
            .collect();
        let tensor = |values: &[i64], width: usize| {
            Tensor::<B, 2, Int>::from_data(
                TensorData::new(values.to_vec(), [BATCH, width]),
                &device,
            )
        };
        let mut optimizer = Optimizer::<B>::new(OptimizerConfig::adamw());
        let mut times = Vec::new();
        let (mut first_loss, mut last_loss) = (0.0, 0.0);
        for step in 0..=self.steps {
            let start = Instant::now();
            let logits = model.forward(
                tensor(&input, SRC),
                tensor(&mask, SRC),
                tensor(&decoder, TGT),
            );
            let loss = cross_entropy(logits, tensor(&labels, TGT));
            let value: f32 = loss.clone().into_scalar().elem();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(model, grads, 1e-3, 1.0);
            // Reading the loss forces the forward pass; waiting for the
            // device ends the update (a GPU runs it asynchronously), so a
            // step's time is its own and steps cannot overlap.
            B::sync(&device).expect("the device finishes the step");
            if step > 0 {
                times.push(start.elapsed().as_secs_f64());
            }
            if step == 0 {
                first_loss = value;
            }
            last_loss = value;
        }
        let median_step = median(&mut times);
        Ok(json!({
            "framework": "recalign (burn 0.21)",
            "preset": preset.name(),
            "precision": self.precision.to_string(),
            "median_step_s": median_step,
            "min_step_s": times.iter().copied().fold(f64::INFINITY, f64::min),
            "tokens_per_s": (BATCH * (SRC + TGT)) as f64 / median_step,
            "peak_rss_mb": recalign_testkit::peak_rss_mb(),
            "first_loss": first_loss,
            "last_loss": last_loss,
        }))
    }
}

/// Runs the timed steps for `preset` in this process and prints one JSON line.
fn child(preset: Preset, options: &Options) {
    let job = Steps {
        preset,
        precision: options.precision,
        steps: options.steps,
    };
    let mut result = options.device.train(job).expect("the device is usable");
    result["device"] = json!(options.device.to_string());
    println!("{result}");
}

fn run_json(command: &mut Command) -> Option<Value> {
    let output = command.output().ok()?;
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
}

fn main() {
    let workspace = recalign_testkit::workspace();
    let options = Options::parse(&workspace);
    if let Ok(name) = std::env::var(CHILD) {
        child(Preset::parse(&name).expect("preset"), &options);
        return;
    }
    let rounds: usize = std::env::var("RECALIGN_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    if options.python.is_none() {
        eprintln!(
            "no .venv-torch: timing recalign only (scripts/python/setup-torch.sh adds PyTorch)"
        );
    }
    let device = options.device.to_string();
    let steps = options.steps;
    let me = std::env::current_exe().expect("the bench binary");
    let mut results = Vec::new();
    for &preset in &options.presets {
        let (mut rust, mut torch, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut rust_runs, mut torch_runs) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let r = run_json(
                Command::new(&me)
                    .args(&options.raw)
                    .env(CHILD, preset.name()),
            )
            .expect("rust child");
            let r_step = r["median_step_s"].as_f64().expect("median");
            rust.push(r_step);
            eprintln!(
                "{} round {round}: recalign {r_step:.4} s/step",
                preset.name()
            );
            rust_runs.push(r);
            if let Some(python) = &options.python {
                let mut command = Command::new(python);
                command.arg(&options.script).args([
                    "--preset",
                    preset.name(),
                    "--batch",
                    &BATCH.to_string(),
                    "--src-len",
                    &SRC.to_string(),
                    "--tgt-len",
                    &TGT.to_string(),
                    "--steps",
                    &steps.to_string(),
                    "--device",
                    &device,
                ]);
                if options.precision == Precision::Bf16 {
                    command.arg("--bf16");
                }
                let t = run_json(&mut command).expect("pytorch run");
                let t_step = t["median_step_s"].as_f64().expect("median");
                eprintln!(
                    "{} round {round}: pytorch  {t_step:.4} s/step",
                    preset.name()
                );
                torch.push(t_step);
                ratios.push(r_step / t_step);
                torch_runs.push(t);
            }
        }
        let rust_median = median(&mut rust);
        let mut result = json!({
            "preset": preset.name(),
            "device": device,
            "precision": options.precision.to_string(),
            "batch": BATCH, "src_len": SRC, "tgt_len": TGT, "steps": steps, "rounds": rounds,
            "recalign_median_step_s": rust_median,
            "recalign_tokens_per_s": (BATCH * (SRC + TGT)) as f64 / rust_median,
            "recalign_peak_rss_mb": rust_runs.last().map(|r| r["peak_rss_mb"].clone()),
            "recalign_runs": rust_runs,
        });
        if options.python.is_some() {
            let torch_median = median(&mut torch);
            result["pytorch_median_step_s"] = json!(torch_median);
            result["pytorch_tokens_per_s"] = json!((BATCH * (SRC + TGT)) as f64 / torch_median);
            result["pytorch_peak_rss_mb"] =
                torch_runs.last().map(|r| r["peak_rss_mb"].clone()).into();
            result["ratio_of_medians"] = json!(rust_median / torch_median);
            result["median_round_ratio"] = json!(median(&mut ratios));
            result["pytorch_runs"] = json!(torch_runs);
        }
        eprintln!(
            "{}: recalign {:.4} s/step{}",
            preset.name(),
            rust_median,
            result
                .get("ratio_of_medians")
                .and_then(Value::as_f64)
                .map(|r| format!(
                    ", PyTorch {:.4} s/step, ratio {r:.2}",
                    result["pytorch_median_step_s"].as_f64().unwrap_or(0.0)
                ))
                .unwrap_or_default()
        );
        results.push(result);
    }
    if let Some(dir) = options.out.parent() {
        std::fs::create_dir_all(dir).expect("the output's folder");
    }
    let text = serde_json::to_string_pretty(&json!(results)).expect("json");
    std::fs::write(&options.out, &text).expect("write");
    println!("{text}");
    eprintln!("wrote {}", options.out.display());
}
