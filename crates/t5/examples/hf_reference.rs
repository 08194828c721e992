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

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::{Int, Tensor, TensorData};
use recalign_t5::{T5, cross_entropy};

type B = Flex;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: hf_reference MODEL_DIR [INPUTS]")?,
    );
    let inputs = args.next().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gated/reference.safetensors")
    });
    let device = Default::default();
    let model = T5::<B>::load(&dir, &device)?;
    model.save(&dir)?;

    let bytes = std::fs::read(&inputs)?;
    let file = safetensors::SafeTensors::deserialize(&bytes)?;
    let mut kept: Vec<(String, Vec<usize>, Vec<u8>, safetensors::Dtype)> = Vec::new();
    let mut ints = HashMap::new();
    for name in ["input_ids", "attention_mask", "labels", "decoder_input_ids"] {
        let view = file.tensor(name)?;
        let values: Vec<i64> = view
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        let shape: [usize; 2] = view.shape().try_into()?;
        kept.push((
            name.to_owned(),
            shape.to_vec(),
            view.data().to_vec(),
            safetensors::Dtype::I64,
        ));
        ints.insert(
            name,
            Tensor::<B, 2, Int>::from_data(TensorData::new(values, shape), &device),
        );
    }
    let encoded = model.encode(ints["input_ids"].clone(), ints["attention_mask"].clone());
    let logits = model.decode(&encoded, ints["decoder_input_ids"].clone());
    let loss = cross_entropy(logits.clone(), ints["labels"].clone());
    for (name, data) in [
        ("encoder_hidden", encoded.hidden.into_data()),
        ("logits", logits.into_data()),
        ("loss", loss.into_data()),
    ] {
        kept.push((
            name.to_owned(),
            data.shape.to_vec(),
            data.as_bytes().to_vec(),
            safetensors::Dtype::F32,
        ));
    }
    let views = kept
        .iter()
        .map(|(name, shape, bytes, dtype)| {
            Ok((
                name.clone(),
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), bytes)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let out = dir.join("rust-reference.safetensors");
    recalign_runtime::write_atomically(&out, &safetensors::serialize(views, None)?)?;
    println!("{}", out.display());
    Ok(())
}
