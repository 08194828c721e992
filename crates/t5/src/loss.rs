//! Teacher forcing helpers: HF's right shift of labels into decoder inputs
//! and the token-level cross-entropy that ignores padded label positions.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, backend::Backend};

/// Label value of positions that do not count in the loss (HF's `-100`).
pub const IGNORE_INDEX: i64 = -100;

/// Decoder inputs for `labels`: the start token, then the labels shifted
/// right by one, with ignored positions replaced by `pad`.
pub fn shift_right(labels: &[i64], start: i64, pad: i64) -> Vec<i64> {
    std::iter::once(start)
        .chain(
            labels[..labels.len().saturating_sub(1)]
                .iter()
                .map(|&t| if t == IGNORE_INDEX { pad } else { t }),
        )
        .take(labels.len())
        .collect()
}

/// Log-probability of each label under `logits` `[batch, len, vocab]`;
/// 0 at ignored positions. Shape `[batch, len]`.
pub fn token_log_probs<B: Backend>(
    logits: Tensor<B, 3>,
    labels: Tensor<B, 2, Int>,
) -> Tensor<B, 2> {
    let valid = labels.clone().greater_equal_elem(0).float();
    let safe = labels.clamp_min(0);
    let log_probs = log_softmax(logits, 2);
    let picked: Tensor<B, 2> = log_probs.gather(2, safe.unsqueeze_dim(2)).squeeze_dim(2);
    picked * valid
}

/// Mean cross-entropy over the labels that are not [`IGNORE_INDEX`], as HF
/// computes the loss of `T5ForConditionalGeneration`.
pub fn cross_entropy<B: Backend>(logits: Tensor<B, 3>, labels: Tensor<B, 2, Int>) -> Tensor<B, 1> {
    let count = labels.clone().greater_equal_elem(0).float().sum();
    token_log_probs(logits, labels).sum().neg() / count.clamp_min(1.0)
}

/// Mean over samples of each sample's mean cross-entropy over its labels:
/// every sample weighs the same, however long its target (a one-token
/// retrieval answer as much as a 20-token MIM answer), where
/// [`cross_entropy`] weighs samples by their number of labels. Rows without
/// a label count as zero loss.
pub fn sample_cross_entropy<B: Backend>(
    logits: Tensor<B, 3>,
    labels: Tensor<B, 2, Int>,
) -> Tensor<B, 1> {
    let counts = labels
        .clone()
        .greater_equal_elem(0)
        .float()
        .sum_dim(1)
        .clamp_min(1.0);
    let per_row: Tensor<B, 2> = token_log_probs(logits, labels).sum_dim(1).neg() / counts;
    per_row.mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    #[test]
    fn token_and_sample_means_weigh_rows_as_documented() {
        let device = Default::default();
        // Two rows over a vocabulary of 3: row 0 has one label, row 1 three.
        let logits = Tensor::<Flex, 3>::from_data(
            TensorData::new(
                vec![
                    2.0f32, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, //
                    0.5, 1.5, -0.5, 1.0, 1.0, 3.0, -2.0, 0.0, 2.0,
                ],
                [2, 3, 3],
            ),
            &device,
        );
        let labels = Tensor::<Flex, 2, Int>::from_data(
            TensorData::new(vec![0i64, -100, -100, 1, 2, 0], [2, 3]),
            &device,
        );
        // -log softmax by hand, in f64.
        let nll = |row: [f64; 3], label: usize| {
            let z: f64 = row.iter().map(|x| x.exp()).sum();
            z.ln() - row[label]
        };
        let a = nll([2.0, 0.0, -1.0], 0);
        let b = [
            nll([0.5, 1.5, -0.5], 1),
            nll([1.0, 1.0, 3.0], 2),
            nll([-2.0, 0.0, 2.0], 0),
        ];
        let token_mean = (a + b.iter().sum::<f64>()) / 4.0;
        let sample_mean = (a + b.iter().sum::<f64>() / 3.0) / 2.0;
        let value = |t: Tensor<Flex, 1>| f64::from(t.into_data().to_vec::<f32>().unwrap()[0]);
        let token = value(cross_entropy(logits.clone(), labels.clone()));
        let sample = value(sample_cross_entropy(logits, labels));
        assert!((token - token_mean).abs() < 1e-5, "{token} vs {token_mean}");
        assert!(
            (sample - sample_mean).abs() < 1e-5,
            "{sample} vs {sample_mean}"
        );
    }

    #[test]
    fn shift_right_matches_hf() {
        assert_eq!(shift_right(&[5, 6, 1, -100], 0, 0), vec![0, 5, 6, 1]);
        assert_eq!(shift_right(&[5, -100, -100], 0, 0), vec![0, 5, 0]);
        assert_eq!(shift_right(&[], 0, 0), Vec::<i64>::new());
    }
}
