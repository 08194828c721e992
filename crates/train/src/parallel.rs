//! Data parallelism over several devices of one machine: each micro-batch
//! is split into one shard per device, every device runs forward and
//! backward on its own replica of the model, and the gradients come back
//! to the first device, weighted so that their sum is the gradient of the
//! whole batch's loss. One optimizer step then updates the model there.
//!
//! This is the reduce that burn-train's multi-device strategy does, and it
//! runs on any backend (the tests split a batch across two CPU replicas and
//! get the single-device gradients back). Each step copies the model to
//! every other device and the gradients back; NCCL's all-reduce inside
//! `backward()` (burn's `distributed` feature) would avoid both copies, and
//! is the next step for large models.

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::ElementConversion;
use burn::tensor::backend::AutodiffBackend;
use recalign_t5::{IGNORE_INDEX, T5, cross_entropy, sample_cross_entropy};

use crate::config::LossAverage;
use crate::data::HostBatch;

/// One device's part of a batch, and the weight of its loss in the
/// batch's loss.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// The shard's rows, trimmed to their own longest input and target.
    pub batch: HostBatch,
    /// `batch loss = Σ weight · shard loss`.
    pub weight: f64,
}

impl HostBatch {
    /// Splits the rows into at most `parts` contiguous shards whose sizes
    /// differ by at most one (fewer when there are fewer rows), each
    /// weighted by its share of what `average` divides by: rows for
    /// per-sample means, label tokens for a token mean.
    pub fn split(&self, parts: usize, average: LossAverage) -> Vec<Shard> {
        let parts = parts.clamp(1, self.rows.max(1));
        let labels_of = |row: usize| {
            self.labels[row * self.target_len..(row + 1) * self.target_len]
                .iter()
                .filter(|&&label| label != IGNORE_INDEX)
                .count()
        };
        let all_labels: usize = (0..self.rows).map(labels_of).sum();
        let (base, extra) = (self.rows / parts, self.rows % parts);
        let mut start = 0;
        (0..parts)
            .map(|part| {
                let end = start + base + usize::from(part < extra);
                let batch = self.rows_between(start, end);
                let weight = match average {
                    LossAverage::Samples => (end - start) as f64 / self.rows as f64,
                    LossAverage::Tokens => {
                        let labels: usize = (start..end).map(labels_of).sum();
                        labels as f64 / all_labels.max(1) as f64
                    }
                };
                start = end;
                Shard { batch, weight }
            })
            .collect()
    }

    /// Rows `start..end`, trimmed to their longest input and target.
    fn rows_between(&self, start: usize, end: usize) -> HostBatch {
        let rows = end - start;
        let input_len = (start..end)
            .map(|row| {
                self.attention_mask[row * self.input_len..(row + 1) * self.input_len]
                    .iter()
                    .filter(|&&mask| mask == 1)
                    .count()
            })
            .max()
            .unwrap_or(1)
            .max(1);
        let target_len = (start..end)
            .map(|row| {
                self.labels[row * self.target_len..(row + 1) * self.target_len]
                    .iter()
                    .rposition(|&label| label != IGNORE_INDEX)
                    .map_or(0, |last| last + 1)
            })
            .max()
            .unwrap_or(1)
            .max(1);
        let take = |values: &[i64], width: usize, keep: usize| -> Vec<i64> {
            (start..end)
                .flat_map(|row| values[row * width..row * width + keep].iter().copied())
                .collect()
        };
        let input_ids = take(&self.input_ids, self.input_len, input_len);
        let attention_mask = take(&self.attention_mask, self.input_len, input_len);
        let labels = take(&self.labels, self.target_len, target_len);
        let decoder_input_ids = take(&self.decoder_input_ids, self.target_len, target_len);
        let tokens = attention_mask.iter().filter(|&&mask| mask == 1).count()
            + labels
                .iter()
                .filter(|&&label| label != IGNORE_INDEX)
                .count();
        HostBatch {
            rows,
            input_len,
            target_len,
            input_ids,
            attention_mask,
            labels,
            decoder_input_ids,
            tokens,
            tasks: self.tasks[start..end].to_vec(),
        }
    }
}

/// The loss of `batch` under `model` and its gradients, on `devices`: the
/// batch is split across them (see [`HostBatch::split`]), each shard runs
/// on its own thread and replica, and the weighted gradients are summed on
/// the first device, where `model` lives. On one device this is a plain
/// forward and backward pass. `dropout_seed` seeds each replica's dropout
/// (shard `i` draws from `dropout_seed + i`).
pub fn batch_gradients<B: AutodiffBackend>(
    model: &T5<B>,
    batch: &HostBatch,
    devices: &[B::Device],
    average: LossAverage,
    dropout_seed: u64,
) -> (f64, GradientsParams) {
    let main = &devices[0];
    if devices.len() == 1 {
        return shard_gradients(model, batch, 1.0, main, average, dropout_seed);
    }
    let shards = batch.split(devices.len(), average);
    let results: Vec<(f64, GradientsParams)> = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .into_iter()
            .zip(devices)
            .enumerate()
            .map(|(i, (shard, device))| {
                let replica = match i {
                    0 => model.clone(),
                    _ => model.clone().fork(device),
                };
                scope.spawn(move || {
                    let seed = dropout_seed.wrapping_add(i as u64);
                    let (loss, grads) = shard_gradients(
                        &replica,
                        &shard.batch,
                        shard.weight,
                        device,
                        average,
                        seed,
                    );
                    (loss, grads.to_device(main, &replica))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a shard's thread panicked"))
            .collect()
    });
    let mut loss = 0.0;
    let mut accumulator = GradientsAccumulator::new();
    for (value, grads) in results {
        loss += value;
        accumulator.accumulate(model, grads);
    }
    (loss, accumulator.grads())
}

/// `weight ×` the loss of `batch` on `device`, and its gradients there.
fn shard_gradients<B: AutodiffBackend>(
    model: &T5<B>,
    batch: &HostBatch,
    weight: f64,
    device: &B::Device,
    average: LossAverage,
    dropout_seed: u64,
) -> (f64, GradientsParams) {
    model.reseed_dropout(dropout_seed);
    let tensors = batch.to_device::<B>(device);
    let logits = model.forward(
        tensors.input_ids,
        tensors.attention_mask,
        tensors.decoder_input_ids,
    );
    let mut loss = match average {
        LossAverage::Tokens => cross_entropy(logits, tensors.labels),
        LossAverage::Samples => sample_cross_entropy(logits, tensors.labels),
    };
    if weight != 1.0 {
        loss = loss.mul_scalar(weight);
    }
    let value = loss.clone().into_scalar().elem::<f64>();
    let _span = tracing::debug_span!("backward").entered();
    (value, GradientsParams::from_grads(loss.backward(), model))
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use recalign_t5::{Preset, T5, shift_right};

    use super::*;

    type B = Autodiff<Flex>;

    /// Five rows of different input and target lengths, padded as
    /// `HostBatch::new` pads them.
    fn batch() -> HostBatch {
        let rows: [(&[i64], &[i64]); 5] = [
            (&[5, 6, 7, 8, 1], &[9, 1]),
            (&[10, 11, 1], &[12, 13, 14, 1]),
            (&[15, 16, 17, 18, 19, 20, 1], &[21, 1]),
            (&[22, 1], &[23, 24, 1]),
            (&[25, 26, 27, 1], &[28, 29, 30, 31, 32, 1]),
        ];
        let (input_len, target_len) = (7, 6);
        let mut batch = HostBatch {
            rows: rows.len(),
            input_len,
            target_len,
            input_ids: Vec::new(),
            attention_mask: Vec::new(),
            labels: Vec::new(),
            decoder_input_ids: Vec::new(),
            tokens: 0,
            tasks: (0..rows.len()).collect(),
        };
        for (input, target) in rows {
            batch.tokens += input.len() + target.len();
            batch.input_ids.extend(input);
            batch.input_ids.extend(vec![0; input_len - input.len()]);
            batch.attention_mask.extend(vec![1; input.len()]);
            batch
                .attention_mask
                .extend(vec![0; input_len - input.len()]);
            let mut labels = target.to_vec();
            labels.resize(target_len, IGNORE_INDEX);
            batch.decoder_input_ids.extend(shift_right(&labels, 0, 0));
            batch.labels.extend(labels);
        }
        batch
    }

    #[test]
    fn shards_are_even_trimmed_and_weighted_by_what_the_loss_divides_by() {
        let whole = batch();
        let shards = whole.split(2, LossAverage::Samples);
        assert_eq!(shards.len(), 2);
        assert_eq!((shards[0].batch.rows, shards[1].batch.rows), (3, 2));
        assert_eq!((shards[0].weight, shards[1].weight), (0.6, 0.4));
        // Rows 0-2 are at most 7 input and 4 target tokens long; rows 3-4
        // at most 4 and 6.
        assert_eq!(
            (shards[0].batch.input_len, shards[0].batch.target_len),
            (7, 4)
        );
        assert_eq!(
            (shards[1].batch.input_len, shards[1].batch.target_len),
            (4, 6)
        );
        assert_eq!(shards[1].batch.input_ids, [22, 1, 0, 0, 25, 26, 27, 1]);
        assert_eq!(shards[1].batch.tasks, [3, 4]);
        assert_eq!(
            shards.iter().map(|s| s.batch.tokens).sum::<usize>(),
            whole.tokens
        );
        // Label tokens: 2 + 4 + 2 in the first shard, 3 + 6 in the second.
        let tokens = whole.split(2, LossAverage::Tokens);
        assert!((tokens[0].weight - 8.0 / 17.0).abs() < 1e-12);
        assert!((tokens[1].weight - 9.0 / 17.0).abs() < 1e-12);
        // More parts than rows: one row each.
        let many = whole.split(8, LossAverage::Samples);
        assert_eq!(many.len(), 5);
        assert!(many.iter().all(|s| s.batch.rows == 1 && s.weight == 0.2));
        assert_eq!(whole.split(1, LossAverage::Samples)[0].batch, whole);
    }

    fn gradient_values(model: &T5<B>, grads: &mut GradientsParams) -> Vec<f32> {
        model
            .param_ids()
            .iter()
            .flat_map(|id| {
                let grad = grads
                    .remove::<Flex, 2>(*id)
                    .or_else(|| grads.remove::<Flex, 1>(*id).map(|g| g.unsqueeze::<2>()))
                    .expect("every parameter has a gradient");
                grad.into_data().to_vec::<f32>().unwrap()
            })
            .collect()
    }

    /// The batch split across two replicas (two CPU "devices") gives the
    /// whole batch's loss and gradients, under either loss average.
    #[test]
    fn split_batches_give_the_single_device_gradients() {
        let device = Default::default();
        let mut config = Preset::Tiny.config(40);
        config.dropout_rate = 0.0;
        let model = T5::<B>::random(&config, 3, &device).unwrap();
        for average in [LossAverage::Samples, LossAverage::Tokens] {
            let (loss_one, mut grads_one) =
                batch_gradients(&model, &batch(), &[device], average, 7);
            let (loss_two, mut grads_two) =
                batch_gradients(&model, &batch(), &[device, device], average, 7);
            assert!(
                (loss_one - loss_two).abs() < 1e-5 * loss_one,
                "{average:?}: loss {loss_one} on one device, {loss_two} on two"
            );
            let one = gradient_values(&model, &mut grads_one);
            let two = gradient_values(&model, &mut grads_two);
            let scale = one.iter().fold(0.0f32, |m, g| m.max(g.abs()));
            let diff = one
                .iter()
                .zip(&two)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                diff < 1e-4 * scale,
                "{average:?}: max |gradient difference| {diff}, max |gradient| {scale}"
            );
        }
    }
}
