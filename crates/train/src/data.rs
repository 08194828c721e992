//! Training examples: `(input, target)` pairs read from the samples files
//! (JSON lines with `input`, `target` and `task`, gzip or plain), tokenised
//! and cut to the configured lengths, then batched by length.
//!
//! Batching: each epoch shuffles the examples with a seeded stream, sorts
//! them by input length within pools of 64 batches, cuts batches and shuffles
//! the batch order. Padding stays low, every batch is still a random mix of
//! tasks, and the plan of an epoch is a function of `(seed, epoch)`, so a
//! resumed run finds its place again.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use recalign_model_dir::truncate_input;
use recalign_runtime::IoError;
use recalign_t5::{IGNORE_INDEX, shift_right};
use recalign_tokenizer::T5Tokenizer;
use serde::Deserialize;

use crate::error::{Error, Result};

/// Batches sorted together by length.
const POOL_BATCHES: usize = 64;
/// Texts encoded at once.
const ENCODE_CHUNK: usize = 4096;

/// One sample as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// Task name (`retrieval`, `mim`, …).
    pub task: String,
    /// Model input.
    pub input: String,
    /// Expected output.
    pub target: String,
}

#[derive(Deserialize)]
struct Line {
    task: String,
    input: String,
    target: String,
}

/// Reads the pairs of a samples file (`.jsonl` or `.jsonl.gz`), at most
/// `limit`; errors name the file, line and field.
pub fn read_pairs(path: &Path, limit: Option<usize>) -> Result<Vec<Pair>> {
    let file = std::fs::File::open(path).map_err(IoError::at(path))?;
    let mut reader = BufReader::new(file);
    let gzip = reader
        .fill_buf()
        .map_err(IoError::at(path))?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let mut pairs = Vec::new();
    for (index, line) in BufReader::new(reader).lines().enumerate() {
        if limit.is_some_and(|limit| pairs.len() >= limit) {
            break;
        }
        let line = line.map_err(IoError::at(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(&line).map_err(|e| Error::Sample {
            path: path.to_owned(),
            line: index + 1,
            message: e.to_string(),
        })?;
        if parsed.target.is_empty() {
            return Err(Error::Sample {
                path: path.to_owned(),
                line: index + 1,
                message: "field `target` is empty".to_owned(),
            });
        }
        pairs.push(Pair {
            task: parsed.task,
            input: parsed.input,
            target: parsed.target,
        });
    }
    Ok(pairs)
}

/// A tokenised pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Index of the task in [`Examples::tasks`].
    pub task: usize,
    /// Input token ids, ending in `</s>`.
    pub input: Vec<u32>,
    /// Target token ids, ending in `</s>`.
    pub target: Vec<u32>,
}

/// Tokenised examples with what truncation did to them.
#[derive(Debug, Clone)]
pub struct Examples {
    /// Task names, indexed by [`Example::task`].
    pub tasks: Vec<String>,
    /// The examples, in file order.
    pub items: Vec<Example>,
    /// Inputs cut to `max_input_tokens`.
    pub truncated_inputs: usize,
    /// Targets cut to `max_target_tokens`.
    pub truncated_targets: usize,
}

impl Examples {
    /// Tokenises `pairs`, keeping the end of long inputs and the start of
    /// long targets (each still ending in `</s>`).
    pub fn tokenize(
        pairs: &[Pair],
        tokenizer: &T5Tokenizer,
        max_input: usize,
        max_target: usize,
    ) -> Result<Self> {
        let mut tasks: Vec<String> = Vec::new();
        // In chunks: `tokenizers` builds a full `Encoding` (pieces, offsets,
        // masks) per text, and all of Beauty's at once took gigabytes.
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        for chunk in pairs.chunks(ENCODE_CHUNK) {
            let texts: Vec<&str> = chunk.iter().map(|p| p.input.as_str()).collect();
            inputs.extend(tokenizer.encode_batch(&texts)?);
            let texts: Vec<&str> = chunk.iter().map(|p| p.target.as_str()).collect();
            targets.extend(tokenizer.encode_batch(&texts)?);
        }
        let eos = tokenizer.eos_id();
        let (mut truncated_inputs, mut truncated_targets) = (0, 0);
        let items = pairs
            .iter()
            .zip(inputs.into_iter().zip(targets))
            .map(|(pair, (mut input, mut target))| {
                let task = match tasks.iter().position(|t| *t == pair.task) {
                    Some(i) => i,
                    None => {
                        tasks.push(pair.task.clone());
                        tasks.len() - 1
                    }
                };
                if truncate_input(&mut input, max_input) {
                    truncated_inputs += 1;
                }
                if target.len() > max_target {
                    truncated_targets += 1;
                    target.truncate(max_target - 1);
                    target.push(eos);
                }
                Example {
                    task,
                    input,
                    target,
                }
            })
            .collect();
        Ok(Self {
            tasks,
            items,
            truncated_inputs,
            truncated_targets,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A fingerprint of the token ids (FNV-1a), so a resumed run can tell
    /// that its data changed.
    pub fn fingerprint(&self) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        let mut eat = |v: u32| {
            for byte in v.to_le_bytes() {
                hash = (hash ^ byte as u64).wrapping_mul(0x100_0000_01b3);
            }
        };
        for item in &self.items {
            item.input.iter().for_each(|&t| eat(t));
            eat(u32::MAX);
            item.target.iter().for_each(|&t| eat(t));
            eat(u32::MAX - 1);
        }
        hash
    }
}

/// The batches of one epoch, as indices into the examples.
pub fn epoch_plan(
    examples: &Examples,
    batch_size: usize,
    seed: u64,
    epoch: usize,
) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64 + 1);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut rng);
    for pool in order.chunks_mut(batch_size * POOL_BATCHES) {
        pool.sort_by_key(|&i| examples.items[i].input.len());
    }
    let mut batches: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    batches.shuffle(&mut rng);
    batches
}

/// A padded batch on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostBatch {
    /// Rows.
    pub rows: usize,
    /// Input width (longest input).
    pub input_len: usize,
    /// Target width (longest target).
    pub target_len: usize,
    /// `[rows, input_len]`, padded with the pad id.
    pub input_ids: Vec<i64>,
    /// `[rows, input_len]`, 1 at tokens.
    pub attention_mask: Vec<i64>,
    /// `[rows, target_len]`, padded with [`IGNORE_INDEX`].
    pub labels: Vec<i64>,
    /// `[rows, target_len]`, HF's right shift of the labels.
    pub decoder_input_ids: Vec<i64>,
    /// Real (non-padding) input and target tokens.
    pub tokens: usize,
    /// Task of each row.
    pub tasks: Vec<usize>,
}

impl HostBatch {
    /// Pads the examples `indices`.
    pub fn new(examples: &Examples, indices: &[usize], pad: u32, start: u32) -> Self {
        let rows = indices.len();
        let input_len = indices
            .iter()
            .map(|&i| examples.items[i].input.len())
            .max()
            .unwrap_or(1);
        let target_len = indices
            .iter()
            .map(|&i| examples.items[i].target.len())
            .max()
            .unwrap_or(1);
        let mut batch = Self {
            rows,
            input_len,
            target_len,
            input_ids: Vec::with_capacity(rows * input_len),
            attention_mask: Vec::with_capacity(rows * input_len),
            labels: Vec::with_capacity(rows * target_len),
            decoder_input_ids: Vec::with_capacity(rows * target_len),
            tokens: 0,
            tasks: Vec::with_capacity(rows),
        };
        for &i in indices {
            let example = &examples.items[i];
            batch.tasks.push(example.task);
            batch.tokens += example.input.len() + example.target.len();
            batch
                .input_ids
                .extend(example.input.iter().map(|&t| t as i64));
            batch
                .attention_mask
                .extend(std::iter::repeat_n(1, example.input.len()));
            let padding = input_len - example.input.len();
            batch
                .input_ids
                .extend(std::iter::repeat_n(pad as i64, padding));
            batch.attention_mask.extend(std::iter::repeat_n(0, padding));
            let mut labels: Vec<i64> = example.target.iter().map(|&t| t as i64).collect();
            labels.resize(target_len, IGNORE_INDEX);
            batch
                .decoder_input_ids
                .extend(shift_right(&labels, start as i64, pad as i64));
            batch.labels.extend(labels);
        }
        batch
    }

    /// The batch as tensors on `device`.
    pub fn to_device<B: Backend>(&self, device: &B::Device) -> Batch<B> {
        let ints = |values: &[i64], width: usize| {
            Tensor::<B, 2, Int>::from_data(
                TensorData::new(values.to_vec(), [self.rows, width]),
                device,
            )
        };
        Batch {
            input_ids: ints(&self.input_ids, self.input_len),
            attention_mask: ints(&self.attention_mask, self.input_len),
            labels: ints(&self.labels, self.target_len),
            decoder_input_ids: ints(&self.decoder_input_ids, self.target_len),
        }
    }
}

/// A batch as tensors.
#[derive(Debug, Clone)]
pub struct Batch<B: Backend> {
    /// `[rows, input_len]`.
    pub input_ids: Tensor<B, 2, Int>,
    /// `[rows, input_len]`.
    pub attention_mask: Tensor<B, 2, Int>,
    /// `[rows, target_len]`, [`IGNORE_INDEX`] at padding.
    pub labels: Tensor<B, 2, Int>,
    /// `[rows, target_len]`.
    pub decoder_input_ids: Tensor<B, 2, Int>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples(lengths: &[usize]) -> Examples {
        Examples {
            tasks: vec!["retrieval".to_owned()],
            items: lengths
                .iter()
                .map(|&n| Example {
                    task: 0,
                    input: (0..n as u32).map(|t| t + 3).chain([1]).collect(),
                    target: vec![7, 1],
                })
                .collect(),
            truncated_inputs: 0,
            truncated_targets: 0,
        }
    }

    #[test]
    fn plans_cover_every_example_once_and_depend_on_the_seed() {
        let data = examples(&(0..1000).map(|i| i % 37).collect::<Vec<_>>());
        let plan = epoch_plan(&data, 16, 7, 0);
        let mut seen: Vec<usize> = plan.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        assert_eq!(plan, epoch_plan(&data, 16, 7, 0));
        assert_ne!(plan, epoch_plan(&data, 16, 7, 1));
        assert_ne!(plan, epoch_plan(&data, 16, 8, 0));
        // Length bucketing: far less padding than a random batch would need.
        let padded: usize = plan
            .iter()
            .map(|b| b.len() * b.iter().map(|&i| data.items[i].input.len()).max().unwrap())
            .sum();
        let real: usize = data.items.iter().map(|e| e.input.len()).sum();
        assert!((real as f64 / padded as f64) > 0.9, "{real} / {padded}");
    }

    #[test]
    fn batches_pad_inputs_and_ignore_padded_labels() {
        let mut data = examples(&[2, 4]);
        data.items[1].target = vec![8, 9, 1];
        let batch = HostBatch::new(&data, &[0, 1], 0, 0);
        assert_eq!(batch.input_len, 5);
        assert_eq!(&batch.input_ids[..5], &[3, 4, 1, 0, 0]);
        assert_eq!(&batch.attention_mask[..5], &[1, 1, 1, 0, 0]);
        assert_eq!(batch.labels, vec![7, 1, IGNORE_INDEX, 8, 9, 1]);
        assert_eq!(batch.decoder_input_ids, vec![0, 7, 1, 0, 8, 9]);
        assert_eq!(batch.tokens, 3 + 2 + 5 + 3);
    }
}
