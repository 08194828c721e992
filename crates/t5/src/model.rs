//! The T5 encoder-decoder, layer for layer as Hugging Face's
//! `T5ForConditionalGeneration`: RMS norms without bias, attention without
//! 1/√d scaling, relative position bias computed by the first block of each
//! stack (bidirectional buckets in the encoder, causal in the decoder),
//! gated or plain feed-forward blocks, dropout where HF has it, and an
//! untied head (T5 v1.1) or a tied one scaled by `d_model^-0.5`. Random
//! initialisation is HF's except for the untied head (std `d_model^-0.5`
//! instead of 1, so that a model trained from scratch starts near a
//! uniform guess).
//!
//! This module holds the top-level [`T5`] and its public API; the layers
//! live in `layers` (linear map, RMS norm), `attention`, `feed_forward`,
//! `block`, `stack` and `cache` (the KV cache of incremental decoding).
//!
//! Parameters carry HF's names, but linear weights are held as `[in, out]`,
//! the transpose of HF's PyTorch `[out, in]`: they are transposed once when
//! loaded and back when saved (see [`crate::weights`]), so files keep HF's
//! layout while no forward pass pays for a transpose. Every other tensor
//! (embedding, norms, position bias) has HF's shape. Dropout is active only
//! on autodiff backends.
//!
//! Each pass opens a `tracing` span (`encode`, `decode`, `decode_step` at
//! debug level; blocks, attention and feed-forward at trace level), so a
//! subscriber shows where the time goes. Spans measure the host side: on
//! an asynchronous backend a stage's kernels may still run after its span
//! closes.

use std::sync::Arc;

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Bool, Int, Tensor, backend::Backend};

pub use crate::attention::{Attention, PositionBuckets};
pub use crate::block::Block;
pub use crate::cache::DecoderCache;
pub use crate::feed_forward::FeedForward;
pub use crate::layers::RmsNorm;
pub use crate::stack::Stack;

use crate::config::T5Config;
use crate::dropout::DropoutRng;
use crate::error::Result;
use crate::layers::{Matmul, Precision, additive, padding_additive};
use crate::stack::Cross;
use crate::weights::{self, Init, ParamBuilder};

/// The encoder's output for a batch: hidden states and the padding mask.
#[derive(Debug, Clone)]
pub struct Encoded<B: Backend> {
    /// `[batch, len, d_model]`.
    pub hidden: Tensor<B, 3>,
    /// `[batch, len]`, 1 for tokens and 0 for padding.
    pub attention_mask: Tensor<B, 2, Int>,
}

impl<B: Backend> Encoded<B> {
    /// Keeps (and repeats) batch rows, e.g. to give every beam its copy.
    pub fn select(&self, rows: Tensor<B, 1, Int>) -> Self {
        Self {
            hidden: self.hidden.clone().select(0, rows.clone()),
            attention_mask: self.attention_mask.clone().select(0, rows),
        }
    }

    /// `[batch, 1, 1, len]`: the additive mask, −∞ at padding and 0
    /// elsewhere (see [`crate::layers::padding_additive`]).
    fn padding_bias(&self) -> Tensor<B, 4> {
        padding_bias(&self.attention_mask)
    }
}

/// The additive padding bias `[batch, 1, 1, len]` of an attention mask.
fn padding_bias<B: Backend>(attention_mask: &Tensor<B, 2, Int>) -> Tensor<B, 4> {
    let [batch, len] = attention_mask.dims();
    padding_additive(attention_mask).reshape([batch, 1, 1, len])
}

/// `position` `[1, heads, q, k]` plus each row's `padding` `[batch, 1, 1,
/// k]`, as `[batch, heads, q, k]`, one row at a time: a one-row broadcast is
/// vectorised by burn's CPU backend, while the batched one falls back to a
/// scalar strided walk several times slower
/// (`crates/recommend/benches/runs.md`, 2026-12-06).
fn plus_padding<B: Backend>(position: Tensor<B, 4>, padding: Tensor<B, 4>) -> Tensor<B, 4> {
    let batch = padding.dims()[0];
    if batch == 1 {
        return position + padding;
    }
    let rows = (0..batch)
        .map(|row| position.clone() + padding.clone().narrow(0, row, 1))
        .collect();
    Tensor::cat(rows, 0)
}

/// `T5ForConditionalGeneration`.
#[derive(Module, Debug)]
pub struct T5<B: Backend> {
    shared: Param<Tensor<B, 2>>,
    encoder: Stack<B>,
    decoder: Stack<B>,
    lm_head: Option<Param<Tensor<B, 2>>>,
    #[module(skip)]
    config: T5Config,
    #[module(skip)]
    names: Arc<[String]>,
    #[module(skip)]
    ids: Arc<[ParamId]>,
    #[module(skip)]
    transposed: Arc<[bool]>,
    #[module(skip)]
    dropout_rng: DropoutRng,
    #[module(skip)]
    matmul: Matmul,
}

impl<B: Backend> T5<B> {
    /// Builds the model, taking every tensor from `builder`.
    pub(crate) fn build(config: &T5Config, mut builder: ParamBuilder<B>) -> Result<Self> {
        let d = config.d_model;
        let stored = shared_name(builder.checkpoint_mut().map(|c| &*c));
        let shared = builder.param_from(
            "shared.weight".to_owned(),
            stored,
            [config.vocab_size, d],
            Init::Normal(1.0),
        )?;
        let encoder = Stack::build(&mut builder, "encoder", config, false)?;
        let decoder = Stack::build(&mut builder, "decoder", config, true)?;
        // HF draws an untied head with std 1, tuned for checkpoints that
        // are loaded, not trained from scratch: over RMS-normed states of
        // unit scale it makes logits of std √d_model and a first loss far
        // above ln(vocabulary) (28 against 6.6 on the tiny shop run). With
        // std d_model^-0.5 the logits start at unit scale, as the tied head
        // does through its d_model^-0.5 rescaling.
        let lm_head = if config.tie_word_embeddings {
            None
        } else {
            Some(builder.linear(
                "lm_head.weight".to_owned(),
                [config.vocab_size, d],
                Init::Normal((d as f64).powf(-0.5)),
            )?)
        };
        let dropout_rng = builder.dropout_rng().clone();
        let matmul = builder.matmul().clone();
        let layout = builder.into_layout();
        let model = Self {
            shared,
            encoder,
            decoder,
            lm_head,
            config: config.clone(),
            names: layout.names.into(),
            ids: layout.ids.into(),
            transposed: layout.transposed.into(),
            dropout_rng,
            matmul,
        };
        // Saving pairs the visited tensors with the names in build order.
        assert_eq!(
            weights::ids(&model),
            *model.ids,
            "the model visits its parameters in build order"
        );
        Ok(model)
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &T5Config {
        &self.config
    }

    /// The model with room for `vocab_size` token ids (unchanged when it
    /// has as many already): each new embedding row, and each new column
    /// of an untied head, is the mean of the existing ones, as HF's
    /// `resize_token_embeddings` does (transformers ≥ 4.46), so a new token
    /// starts as an average token and every old logit is unchanged. This is
    /// how a pretrained model gets the dedicated tokens of atomic item
    /// identifiers. Parameter ids are kept.
    pub fn grow_vocab(mut self, vocab_size: usize) -> Self {
        let extra = vocab_size.saturating_sub(self.config.vocab_size);
        if extra == 0 {
            return self;
        }
        let grow = |param: Param<Tensor<B, 2>>, dim: usize| {
            let id = param.id;
            let old = param.val();
            let mean = old.clone().mean_dim(dim).repeat_dim(dim, extra);
            Param::initialized(
                id,
                Tensor::cat(vec![old, mean], dim).detach().require_grad(),
            )
        };
        self.shared = grow(self.shared, 0);
        // The untied head is held `[d_model, vocab]`.
        self.lm_head = self.lm_head.map(|head| grow(head, 1));
        self.config.vocab_size = vocab_size;
        self
    }

    /// HF names of the parameters in build order (which is also the order
    /// in which the module visits them); [`param_ids`](Self::param_ids)
    /// holds their ids in the same order.
    pub fn param_names(&self) -> &[String] {
        &self.names
    }

    /// The parameters' ids, in the order of
    /// [`param_names`](Self::param_names). They are unique in the process:
    /// two models never share an id, and a rebuilt model has new ones, so
    /// state kept across builds (an optimizer's) must go by position or
    /// name.
    pub fn param_ids(&self) -> &[ParamId] {
        &self.ids
    }

    /// Whether parameter `i` is a linear weight held transposed (`[in,
    /// out]`) relative to its HF layout.
    pub(crate) fn param_transposed(&self) -> &[bool] {
        &self.transposed
    }

    /// The input embedding `[vocab, d_model]` (`shared.weight`).
    pub(crate) fn shared_embedding(&self) -> Tensor<B, 2> {
        self.shared.val()
    }

    /// Sets the precision of every matrix product of this model and of
    /// every clone of it (see [`Precision`]); f32 unless set.
    pub fn set_precision(&self, precision: Precision) {
        self.matmul.set(precision);
    }

    /// The precision of the model's matrix products.
    pub fn precision(&self) -> Precision {
        self.matmul.precision()
    }

    /// Restarts the dropout generator: the trainer calls this before every
    /// forward pass so that a resumed run draws the same masks.
    pub fn reseed_dropout(&self, seed: u64) {
        self.dropout_rng.reseed(seed);
    }

    fn embed(&self, ids: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        burn::tensor::module::embedding(self.shared.val(), ids)
    }

    /// Runs the encoder over `input_ids` `[batch, len]` (0-padded, with
    /// `attention_mask` 1 at tokens).
    pub fn encode(
        &self,
        input_ids: Tensor<B, 2, Int>,
        attention_mask: Tensor<B, 2, Int>,
    ) -> Encoded<B> {
        let [batch, len] = input_ids.dims();
        let _span = tracing::debug_span!("encode", batch, len).entered();
        let padding = padding_bias(&attention_mask);
        let bias = match self.encoder.position_bias(len, len, 0) {
            Some(position) => plus_padding(position, padding),
            None => self.cross_bias(padding, len),
        };
        let x = self.encoder.drop_input(self.embed(input_ids));
        Encoded {
            hidden: self.encoder.forward(x, Some(bias), None, None),
            attention_mask,
        }
    }

    /// Teacher-forced decoder: logits `[batch, len, vocab]` for every
    /// position of `decoder_input_ids`.
    pub fn decode(
        &self,
        encoded: &Encoded<B>,
        decoder_input_ids: Tensor<B, 2, Int>,
    ) -> Tensor<B, 3> {
        let [batch, len] = decoder_input_ids.dims();
        let _span = tracing::debug_span!("decode", batch, len).entered();
        let device = decoder_input_ids.device();
        let memory = self.decoder.cross_memory(&encoded.hidden);
        // `tril_mask` is true above the diagonal: the future is hidden.
        let causal =
            additive(Tensor::<B, 2, Bool>::tril_mask([len, len], 0, &device)).unsqueeze::<4>();
        let bias = match self.decoder.position_bias(len, len, 0) {
            Some(position) => position + causal,
            None => causal,
        };
        // One copy per row: every block then adds it without broadcasting.
        let bias = bias.repeat_dim(0, batch);
        let cross = Cross {
            memory: &memory,
            bias: self.cross_bias(encoded.padding_bias(), len),
            group: 1,
        };
        let x = self.decoder.drop_input(self.embed(decoder_input_ids));
        self.head(self.decoder.forward(x, Some(bias), Some(cross), None))
    }

    /// Encoder and teacher-forced decoder in one call.
    pub fn forward(
        &self,
        input_ids: Tensor<B, 2, Int>,
        attention_mask: Tensor<B, 2, Int>,
        decoder_input_ids: Tensor<B, 2, Int>,
    ) -> Tensor<B, 3> {
        let encoded = self.encode(input_ids, attention_mask);
        self.decode(&encoded, decoder_input_ids)
    }

    fn head(&self, hidden: Tensor<B, 3>) -> Tensor<B, 3> {
        let _span = tracing::trace_span!("head").entered();
        let hidden = if self.config.scales_decoder_output() {
            hidden.mul_scalar((self.config.d_model as f64).powf(-0.5))
        } else {
            hidden
        };
        match &self.lm_head {
            Some(head) => self.matmul.linear(hidden, head),
            None => {
                let [batch, len, width] = hidden.dims();
                let shared = self.shared.val();
                let vocab = shared.dims()[0];
                self.matmul
                    .product(hidden.reshape([batch * len, width]), shared.transpose())
                    .reshape([batch, len, vocab])
            }
        }
    }

    /// The encoder padding `[batch, 1, 1, len]` as a bias for `queries`
    /// positions, `[batch, heads, queries, len]`, materialised once for all
    /// blocks by copying rows (a broadcast add would walk every element
    /// through burn's scalar strided path on the CPU).
    fn cross_bias(&self, padding: Tensor<B, 4>, queries: usize) -> Tensor<B, 4> {
        padding
            .repeat_dim(1, self.config.num_heads)
            .repeat_dim(2, queries)
    }

    /// An empty KV cache for incremental decoding of `encoded`.
    pub fn start_decoding(&self, encoded: &Encoded<B>) -> DecoderCache<B> {
        self.start_grouped_decoding(encoded, 1)
    }

    /// An empty KV cache for decoding `group` rows per row of `encoded`
    /// (a user's beams): every [`T5::decode_step`] then takes
    /// `group × batch` tokens, each group's rows consecutive, and the
    /// encoder memory is never copied per row.
    pub fn start_grouped_decoding(&self, encoded: &Encoded<B>, group: usize) -> DecoderCache<B> {
        DecoderCache {
            past: vec![None; self.decoder.len()],
            cross: self.decoder.cross_memory(&encoded.hidden),
            cross_bias: self.cross_bias(encoded.padding_bias(), group.max(1)),
            len: 0,
            group: group.max(1),
        }
    }

    /// Feeds one token per row (`[batch]`) to the decoder and returns the
    /// next-token logits `[batch, vocab]`, extending the cache. Unlike the
    /// teacher-forced [`decode`](Self::decode), the step applies no dropout
    /// to the embedded token.
    pub fn decode_step(
        &self,
        cache: &mut DecoderCache<B>,
        tokens: Tensor<B, 1, Int>,
    ) -> Tensor<B, 2> {
        let offset = cache.len;
        let _span = tracing::debug_span!("decode_step", step = offset).entered();
        // One copy per row: every block then adds it without broadcasting.
        let rows = tokens.dims()[0];
        let bias = self
            .decoder
            .position_bias(1, offset + 1, offset)
            .map(|bias| bias.repeat_dim(0, rows));
        let cross = Cross {
            memory: &cache.cross,
            bias: cache.cross_bias.clone(),
            group: cache.group,
        };
        let x = self.embed(tokens.unsqueeze_dim(1));
        let hidden = self
            .decoder
            .forward(x, bias, Some(cross), Some(&mut cache.past));
        cache.len += 1;
        let logits = self.head(hidden);
        let [batch, _, vocab] = logits.dims();
        logits.reshape([batch, vocab])
    }
}

/// Where the input embedding is stored: `shared.weight`, or one of HF's
/// aliases when a file holds only those.
fn shared_name(checkpoint: Option<&crate::weights::Checkpoint>) -> &'static str {
    const ALIASES: [&str; 3] = [
        "shared.weight",
        "encoder.embed_tokens.weight",
        "decoder.embed_tokens.weight",
    ];
    match checkpoint {
        Some(checkpoint) => ALIASES
            .into_iter()
            .find(|name| checkpoint.contains(name))
            .unwrap_or(ALIASES[0]),
        None => ALIASES[0],
    }
}
