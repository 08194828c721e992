//! Writes what this crate computes for a model directory in the format of
//! the HF parity fixtures, so that transformers can check it:
//!
//! ```text
//! cargo run --release -p recalign-t5 --example hf_reference -- MODEL_DIR [INPUTS]
//! .venv-torch/bin/python scripts/fixtures/t5_parity.py check \
//!     --model MODEL_DIR --reference MODEL_DIR/rust-reference.safetensors
//! ```
//!
//! The model is re-saved in place by this crate first, so the check covers
//! the files recalign writes. `INPUTS` is a fixture `reference.safetensors`
//! (default: the committed `gated` one); its token ids must fit the model's
//! vocabulary.
//!
//! Options (`scripts/gpu/check.sh` runs the built example with them on a
//! borrowed GPU):
//!
//! - `--device cpu|cuda[:N]`: where the model runs (default `cpu`; `cuda`
//!   needs the crate's `cuda` feature);
//! - `--precision f32|bf16`: the model's matrix products
//!   (`T5::set_precision`);
//! - `--out FILE`: where the outputs go (default
//!   `MODEL_DIR/rust-reference.safetensors`);
//! - `--json`: print one JSON line instead of the path: the device, the
//!   precision, the output's path and, when `INPUTS` holds HF's outputs
//!   (`logits`, `loss`, `encoder_hidden`), the largest absolute difference
//!   of ours from each.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use recalign_runtime::{DeviceChoice, InferenceJob};
use recalign_t5::{Precision, T5, cross_entropy};

type Failure = Box<dyn std::error::Error>;

/// The command line.
struct Options {
    dir: PathBuf,
    inputs: PathBuf,
    device: DeviceChoice,
    precision: Precision,
    out: PathBuf,
    json: bool,
}

impl Options {
    fn parse() -> Result<Self, Failure> {
        const USAGE: &str = "usage: hf_reference MODEL_DIR [INPUTS] [--device cpu|cuda[:N]] \
                             [--precision f32|bf16] [--out FILE] [--json]";
        let mut positional = Vec::new();
        let (mut device, mut precision, mut out, mut json) =
            (DeviceChoice::Cpu, Precision::F32, None, false);
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(USAGE);
            match arg.as_str() {
                "--device" => device = value()?.parse()?,
                "--precision" => precision = value()?.parse()?,
                "--out" => out = Some(PathBuf::from(value()?)),
                "--json" => json = true,
                flag if flag.starts_with('-') => return Err(format!("{flag}? {USAGE}").into()),
                _ => positional.push(PathBuf::from(arg)),
            }
        }
        let mut positional = positional.into_iter();
        let dir = positional.next().ok_or(USAGE)?;
        let inputs = positional.next().unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gated/reference.safetensors")
        });
        if positional.next().is_some() {
            return Err(USAGE.into());
        }
        let out = out.unwrap_or_else(|| dir.join("rust-reference.safetensors"));
        Ok(Self {
            dir,
            inputs,
            device,
            precision,
            out,
            json,
        })
    }
}

/// One named tensor of the output file.
struct Named {
    name: String,
    shape: Vec<usize>,
    bytes: Vec<u8>,
    dtype: safetensors::Dtype,
}

/// The tensors to write, and the f32 outputs among them by name.
type Outputs = (Vec<Named>, HashMap<&'static str, Vec<f32>>);

/// Loads, re-saves and runs the model on the chosen device.
struct Reference<'a> {
    options: &'a Options,
}

/// A failure inside the job (the device, or the model and its files),
/// converted by `?`.
struct Failed(Failure);

impl<E: std::error::Error + 'static> From<E> for Failed {
    fn from(error: E) -> Self {
        Self(Box::new(error))
    }
}

impl InferenceJob for Reference<'_> {
    type Output = Outputs;
    type Error = Failed;

    fn run<B: Backend>(self, device: B::Device) -> Result<Self::Output, Failed> {
        self.compute::<B>(&device)
    }
}

impl Reference<'_> {
    fn compute<B: Backend>(&self, device: &B::Device) -> Result<Outputs, Failed> {
        let options = self.options;
        let model = T5::<B>::load(&options.dir, device)?;
        model.save(&options.dir)?;
        model.set_precision(options.precision);

        let bytes = std::fs::read(&options.inputs)?;
        let file = safetensors::SafeTensors::deserialize(&bytes)?;
        let mut kept = Vec::new();
        let mut ints = HashMap::new();
        for name in ["input_ids", "attention_mask", "labels", "decoder_input_ids"] {
            let view = file.tensor(name)?;
            let values: Vec<i64> = view
                .data()
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect();
            let shape: [usize; 2] = view
                .shape()
                .try_into()
                .map_err(|_| Failed(format!("{name} is not 2-D").into()))?;
            kept.push(Named {
                name: name.to_owned(),
                shape: shape.to_vec(),
                bytes: view.data().to_vec(),
                dtype: safetensors::Dtype::I64,
            });
            ints.insert(
                name,
                Tensor::<B, 2, Int>::from_data(TensorData::new(values, shape), device),
            );
        }
        let encoded = model.encode(ints["input_ids"].clone(), ints["attention_mask"].clone());
        let logits = model.decode(&encoded, ints["decoder_input_ids"].clone());
        let loss = cross_entropy(logits.clone(), ints["labels"].clone());
        let mut values = HashMap::new();
        for (name, data) in [
            ("encoder_hidden", encoded.hidden.into_data()),
            ("logits", logits.into_data()),
            ("loss", loss.into_data()),
        ] {
            // Back on the host as f32, whatever the device computed in.
            let data = data.convert::<f32>();
            values.insert(
                name,
                data.to_vec::<f32>()
                    .map_err(|e| Failed(format!("{name}: {e:?}").into()))?,
            );
            kept.push(Named {
                name: name.to_owned(),
                shape: data.shape.to_vec(),
                bytes: data.as_bytes().to_vec(),
                dtype: safetensors::Dtype::F32,
            });
        }
        Ok((kept, values))
    }
}

/// The largest absolute difference of `ours` from the f32 tensor `name` of
/// `file`, when it holds one of the same size.
fn max_abs_diff(file: &safetensors::SafeTensors<'_>, name: &str, ours: &[f32]) -> Option<f64> {
    let view = file.tensor(name).ok()?;
    if view.dtype() != safetensors::Dtype::F32 {
        return None;
    }
    let theirs: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect();
    (theirs.len() == ours.len()).then(|| {
        theirs
            .iter()
            .zip(ours)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max)
    })
}

fn main() -> Result<(), Failure> {
    let options = Options::parse()?;
    let (kept, values) = options
        .device
        .infer(Reference { options: &options })
        .map_err(|Failed(e)| e)?;
    let views = kept
        .iter()
        .map(|t| {
            Ok((
                t.name.clone(),
                safetensors::tensor::TensorView::new(t.dtype, t.shape.clone(), &t.bytes)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    recalign_runtime::write_atomically(&options.out, &safetensors::serialize(views, None)?)?;
    if !options.json {
        println!("{}", options.out.display());
        return Ok(());
    }
    let bytes = std::fs::read(&options.inputs)?;
    let inputs = safetensors::SafeTensors::deserialize(&bytes)?;
    let diff = |name: &str| max_abs_diff(&inputs, name, &values[name]);
    println!(
        "{}",
        serde_json::json!({
            "device": options.device.to_string(),
            "precision": options.precision.to_string(),
            "out": options.out,
            "inputs": options.inputs,
            "logits_max_abs_diff": diff("logits"),
            "loss_abs_diff": diff("loss"),
            "encoder_hidden_max_abs_diff": diff("encoder_hidden"),
        })
    );
    Ok(())
}
