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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_right_matches_hf() {
        assert_eq!(shift_right(&[5, 6, 1, -100], 0, 0), vec![0, 5, 6, 1]);
        assert_eq!(shift_right(&[5, -100, -100], 0, 0), vec![0, 5, 0]);
        assert_eq!(shift_right(&[], 0, 0), Vec::<i64>::new());
    }
}
