//! Teacher-forced scoring: the log-probability of given answers, for
//! candidate ranking and rating prediction.
//!
//! Each prompt is encoded once; its row is then repeated for every answer
//! scored against it, and all answers go through the decoder in one padded
//! forward pass.

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use recalign_t5::{Encoded, IGNORE_INDEX, T5, shift_right, token_log_probs};

use crate::int_tensor;

/// `[rows, len]` int tensor from row-major values.
fn matrix<B: Backend>(values: Vec<i64>, rows: usize, device: &B::Device) -> Tensor<B, 2, Int> {
    let len = values.len() / rows.max(1);
    Tensor::from_data(TensorData::new(values, [rows, len]), device)
}

/// Runs the encoder over `prompts` (token ids, each ending in `</s>`),
/// padded to the longest with the model's pad token.
pub fn encode_prompts<B: Backend>(
    model: &T5<B>,
    prompts: &[Vec<u32>],
    device: &B::Device,
) -> Encoded<B> {
    let len = prompts.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let pad = i64::from(model.config().pad_token_id);
    let mut ids = Vec::with_capacity(prompts.len() * len);
    let mut mask = Vec::with_capacity(prompts.len() * len);
    for prompt in prompts {
        ids.extend(prompt.iter().map(|&t| i64::from(t)));
        ids.extend(std::iter::repeat_n(pad, len - prompt.len()));
        mask.extend(std::iter::repeat_n(1i64, prompt.len()));
        mask.extend(std::iter::repeat_n(0i64, len - prompt.len()));
    }
    let rows = prompts.len();
    model.encode(matrix(ids, rows, device), matrix(mask, rows, device))
}

/// Sequence log-probability of each answer `answers[i]` (token ids ending
/// in `</s>`) given prompt row `rows[i]` of `encoded`.
pub fn answer_log_probs<B: Backend>(
    model: &T5<B>,
    encoded: &Encoded<B>,
    rows: &[usize],
    answers: &[Vec<u32>],
) -> Vec<f32> {
    assert_eq!(rows.len(), answers.len(), "one prompt row per answer");
    if answers.is_empty() {
        return Vec::new();
    }
    let device = encoded.hidden.device();
    let len = answers.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let config = model.config();
    let (start, pad) = (
        i64::from(config.decoder_start_token_id),
        i64::from(config.pad_token_id),
    );
    let mut labels = Vec::with_capacity(answers.len() * len);
    let mut inputs = Vec::with_capacity(answers.len() * len);
    for answer in answers {
        let mut row: Vec<i64> = answer.iter().map(|&t| i64::from(t)).collect();
        row.resize(len, IGNORE_INDEX);
        inputs.extend(shift_right(&row, start, pad));
        labels.extend(row);
    }
    let n = answers.len();
    let index: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
    let repeated = encoded.select(int_tensor(&index, &device));
    let logits = model.decode(&repeated, matrix(inputs, n, &device));
    token_log_probs(logits, matrix(labels, n, &device))
        .sum_dim(1)
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32 log-probabilities")
}
