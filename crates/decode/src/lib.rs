//! Decoding a fine-tuned T5 into recommendations.
//!
//! - [`trie`]: the catalogue's item identifiers as the model writes them
//!   (token ids ending in `</s>`), in a prefix tree that gives the allowed
//!   next tokens for any prefix; memory and build time linear in the
//!   catalogue.
//! - [`beam`]: beam search that only ever extends a hypothesis along the
//!   trie, batched over users, returning each user's top-K distinct items
//!   with their log-probabilities, optionally leaving out items per user.
//!   It cannot return an invalid item, whatever the model prefers. The
//!   model side is a [`beam::StepScorer`]; [`beam::T5Scorer`] runs T5 with
//!   its KV cache. [`beam::search`] reports a step the scorer refuses
//!   as a [`beam::SearchError`].
//! - [`score`]: teacher-forced log-probabilities of given answers (ranking
//!   candidates, rating values), the encoder run once per prompt.

pub mod beam;
pub mod score;
pub mod trie;

pub use beam::{Hypothesis, Scoring, SearchConfig, SearchError, StepScorer, T5Scorer, search};
pub use score::{answer_log_probs, encode_prompts};
pub use trie::{BlockedNodes, ItemTrie, TrieError};

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

/// A 1-D int tensor of `values` (token ids, row indices) on `device`.
pub(crate) fn int_tensor<B: Backend>(values: &[u32], device: &B::Device) -> Tensor<B, 1, Int> {
    let values: Vec<i64> = values.iter().map(|&v| i64::from(v)).collect();
    let len = values.len();
    Tensor::from_data(TensorData::new(values, [len]), device)
}
