//! The state incremental decoding carries from one token to the next: every
//! decoder block's past self-attention keys and values (the KV cache) and
//! its cross-attention keys and values of the encoder output, computed once.
//! Both are [`KeyValues`], so reordering rows to follow the surviving beams
//! is one operation.

use burn::tensor::{Int, Tensor, backend::Backend};

/// Keys and values `[batch, heads, len, d_kv]` of one attention layer.
#[derive(Debug, Clone)]
pub(crate) struct KeyValues<B: Backend> {
    pub(crate) keys: Tensor<B, 4>,
    pub(crate) values: Tensor<B, 4>,
}

impl<B: Backend> KeyValues<B> {
    /// These positions followed by `next`'s, along the sequence.
    pub(crate) fn append(self, next: Self) -> Self {
        Self {
            keys: Tensor::cat(vec![self.keys, next.keys], 2),
            values: Tensor::cat(vec![self.values, next.values], 2),
        }
    }

    /// Keeps (and repeats) batch rows.
    fn select(&mut self, rows: Tensor<B, 1, Int>) {
        self.keys = self.keys.clone().select(0, rows.clone());
        self.values = self.values.clone().select(0, rows);
    }
}

/// State of incremental decoding: past keys and values of every decoder
/// block (the KV cache) and the cross-attention memory.
#[derive(Debug, Clone)]
pub struct DecoderCache<B: Backend> {
    /// Each block's self-attention keys and values so far.
    pub(crate) past: Vec<Option<KeyValues<B>>>,
    /// Each block's cross-attention keys and values of the encoder output.
    pub(crate) cross: Vec<KeyValues<B>>,
    /// The encoder padding as the cross-attention's additive bias,
    /// materialised once as `[batch, heads, group, len]` (see
    /// `T5::cross_bias`).
    pub(crate) cross_bias: Tensor<B, 4>,
    pub(crate) len: usize,
    /// Decoder rows per encoder row (see [`T5::start_grouped_decoding`]).
    ///
    /// [`T5::start_grouped_decoding`]: crate::T5::start_grouped_decoding
    pub(crate) group: usize,
}

impl<B: Backend> DecoderCache<B> {
    /// Number of decoder positions already processed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no position has been decoded yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps (and repeats) batch rows, e.g. to follow the surviving beams.
    /// A grouped cache (see [`T5::start_grouped_decoding`]) reorders only
    /// the decoder's own keys and values: its rows must stay `group` per
    /// encoder row, in order.
    ///
    /// [`T5::start_grouped_decoding`]: crate::T5::start_grouped_decoding
    pub fn select(&mut self, rows: Tensor<B, 1, Int>) {
        for past in self.past.iter_mut().flatten() {
            past.select(rows.clone());
        }
        if self.group > 1 {
            return;
        }
        self.cross_bias = self.cross_bias.clone().select(0, rows.clone());
        for memory in &mut self.cross {
            memory.select(rows.clone());
        }
    }

    /// Keeps the encoder rows `groups` of a grouped cache (its users whose
    /// search goes on), dropping the others' cross-attention memory. The
    /// decoder rows must then be selected to `group` per kept row, in the
    /// same order, with [`select`](Self::select).
    pub fn keep_groups(&mut self, groups: Tensor<B, 1, Int>) {
        self.cross_bias = self.cross_bias.clone().select(0, groups.clone());
        for memory in &mut self.cross {
            memory.select(groups.clone());
        }
    }
}
