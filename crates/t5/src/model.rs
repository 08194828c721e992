//! The T5 encoder-decoder, layer for layer as Hugging Face's
//! `T5ForConditionalGeneration`: RMS norms without bias, attention without
//! 1/√d scaling, relative position bias computed by the first block of each
//! stack (bidirectional buckets in the encoder, causal in the decoder),
//! gated or plain feed-forward blocks, dropout where HF has it, and an
//! untied head (T5 v1.1) or a tied one scaled by `d_model^-0.5`.
//!
//! Weights keep HF's PyTorch layout (`[out, in]`), so loading a checkpoint is
//! a lookup by name. Dropout is active only on autodiff backends.

use std::sync::Arc;

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::{Bool, Int, Tensor, TensorData, backend::Backend};

use crate::config::{Activation, FeedForwardKind, T5Config};
use crate::dropout::{Dropout, DropoutRng};
use crate::error::Result;
use crate::weights::{Init, ParamBuilder};

/// Value added to masked attention scores before the softmax (HF's
/// `torch.finfo(float32).min`).
const MASKED: f32 = f32::MIN;

/// A boolean mask (true = hidden) as an additive bias.
fn additive<B: Backend, const D: usize>(hidden: Tensor<B, D, Bool>) -> Tensor<B, D> {
    let zeros = Tensor::zeros(hidden.shape(), &hidden.device());
    zeros.mask_fill(hidden, MASKED)
}

/// `x · W` for a linear weight held as `[in, out]` (HF's `[out, in]`
/// transposed once at load, so no step pays for a transpose), as one 2-D GEMM.
fn linear<B: Backend>(x: Tensor<B, 3>, weight: &Param<Tensor<B, 2>>) -> Tensor<B, 3> {
    let [batch, len, width] = x.dims();
    let weight = weight.val();
    let out = weight.dims()[1];
    x.reshape([batch * len, width])
        .matmul(weight)
        .reshape([batch, len, out])
}

/// RMS norm with a learned scale and no bias or mean subtraction.
#[derive(Module, Debug)]
pub struct RmsNorm<B: Backend> {
    weight: Param<Tensor<B, 1>>,
    #[module(skip)]
    eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    fn build(builder: &mut ParamBuilder<B>, name: &str, config: &T5Config) -> Result<Self> {
        Ok(Self {
            weight: builder.param(format!("{name}.weight"), [config.d_model], Init::Ones)?,
            eps: config.layer_norm_epsilon,
        })
    }

    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let variance = x.clone().square().mean_dim(2);
        let x = x / variance.add_scalar(self.eps).sqrt();
        x * self.weight.val().unsqueeze::<3>()
    }
}

/// Relative position buckets, as HF's `_relative_position_bucket`.
#[derive(Debug, Clone, Copy)]
pub struct PositionBuckets {
    bidirectional: bool,
    num_buckets: usize,
    max_distance: usize,
}

impl PositionBuckets {
    /// Buckets of an encoder (`bidirectional`) or decoder stack.
    pub fn new(bidirectional: bool, num_buckets: usize, max_distance: usize) -> Self {
        Self {
            bidirectional,
            num_buckets,
            max_distance,
        }
    }

    /// The bucket of `relative = key position − query position`.
    pub fn bucket(&self, relative: i64) -> i64 {
        let mut buckets = self.num_buckets as i64;
        let mut base = 0;
        let distance = if self.bidirectional {
            buckets /= 2;
            if relative > 0 {
                base = buckets;
            }
            relative.abs()
        } else {
            (-relative).max(0)
        };
        let max_exact = buckets / 2;
        if distance < max_exact {
            return base + distance;
        }
        // f32 arithmetic, as PyTorch does it, so boundaries land alike.
        let scaled = (distance as f32 / max_exact as f32).ln()
            / ((self.max_distance as f64 / max_exact as f64).ln() as f32)
            * (buckets - max_exact) as f32;
        base + (max_exact + scaled as i64).min(buckets - 1)
    }

    /// Buckets for `queries` positions starting at `offset` against keys
    /// `0..keys`, row-major `[queries, keys]`.
    fn matrix(&self, queries: usize, keys: usize, offset: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(queries * keys);
        for q in 0..queries {
            for k in 0..keys {
                out.push(self.bucket(k as i64 - (q + offset) as i64));
            }
        }
        out
    }
}

/// Multi-head attention; the first block of a stack also owns the relative
/// position bias.
#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    q: Param<Tensor<B, 2>>,
    k: Param<Tensor<B, 2>>,
    v: Param<Tensor<B, 2>>,
    o: Param<Tensor<B, 2>>,
    relative_attention_bias: Option<Param<Tensor<B, 2>>>,
    #[module(skip)]
    dropout: Dropout,
    #[module(skip)]
    heads: usize,
    #[module(skip)]
    d_kv: usize,
}

impl<B: Backend> Attention<B> {
    fn build(
        builder: &mut ParamBuilder<B>,
        name: &str,
        config: &T5Config,
        with_bias: bool,
    ) -> Result<Self> {
        let (d, inner) = (config.d_model, config.inner_dim());
        let d_f = d as f64;
        let mut weight = |part: &str, shape: [usize; 2], std: f64| {
            builder.linear(format!("{name}.{part}.weight"), shape, Init::Normal(std))
        };
        let q = weight("q", [inner, d], (d_f * config.d_kv as f64).powf(-0.5))?;
        let k = weight("k", [inner, d], d_f.powf(-0.5))?;
        let v = weight("v", [inner, d], d_f.powf(-0.5))?;
        let o = weight("o", [d, inner], (inner as f64).powf(-0.5))?;
        let relative_attention_bias = if with_bias {
            Some(builder.param(
                format!("{name}.relative_attention_bias.weight"),
                [config.relative_attention_num_buckets, config.num_heads],
                Init::Normal(d_f.powf(-0.5)),
            )?)
        } else {
            None
        };
        Ok(Self {
            q,
            k,
            v,
            o,
            relative_attention_bias,
            dropout: Dropout::new(config.dropout_rate, builder.dropout_rng()),
            heads: config.num_heads,
            d_kv: config.d_kv,
        })
    }

    /// `[batch, len, heads·d_kv]` → `[batch, heads, len, d_kv]`.
    fn split_heads(&self, x: Tensor<B, 3>) -> Tensor<B, 4> {
        let [batch, len, _] = x.dims();
        x.reshape([batch, len, self.heads, self.d_kv])
            .swap_dims(1, 2)
    }

    fn query(&self, x: Tensor<B, 3>) -> Tensor<B, 4> {
        self.split_heads(linear(x, &self.q))
    }

    /// Keys and values of `x`, split into heads.
    fn keys_values(&self, x: Tensor<B, 3>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        (
            self.split_heads(linear(x.clone(), &self.k)),
            self.split_heads(linear(x, &self.v)),
        )
    }

    /// The position bias `[1, heads, queries, keys]` for queries starting at
    /// `offset`; only the stack's first block has the weights.
    fn position_bias(
        &self,
        buckets: &PositionBuckets,
        queries: usize,
        keys: usize,
        offset: usize,
    ) -> Option<Tensor<B, 4>> {
        let weight = self.relative_attention_bias.as_ref()?.val();
        let device = weight.device();
        let ids = TensorData::new(buckets.matrix(queries, keys, offset), [queries, keys]);
        let ids = Tensor::<B, 2, Int>::from_data(ids, &device);
        let bias = burn::tensor::module::embedding(weight, ids); // [q, k, heads]
        Some(bias.permute([2, 0, 1]).unsqueeze::<4>())
    }

    /// Attention of `query` over `keys`/`values`, plus output projection.
    /// `bias` (position bias and masks, added to the scores as HF does) is
    /// `[batch | 1, heads, q, k]`, built once per stack and shared by its
    /// blocks.
    fn attend(
        &self,
        query: Tensor<B, 4>,
        keys: Tensor<B, 4>,
        values: Tensor<B, 4>,
        bias: Option<Tensor<B, 4>>,
    ) -> Tensor<B, 3> {
        let mut scores = query.matmul(keys.swap_dims(2, 3));
        let shape = scores.dims();
        if let Some(bias) = bias {
            scores = scores + bias;
        }
        let weights = self.dropout.forward(activation::softmax(scores, 3));
        let [batch, heads, len, d_kv] = {
            let [b, h, q, _] = shape;
            [b, h, q, self.d_kv]
        };
        let context = weights
            .matmul(values)
            .swap_dims(1, 2)
            .reshape([batch, len, heads * d_kv]);
        linear(context, &self.o)
    }
}

/// The feed-forward block: `wo(act(wi x))` or, gated, `wo(act(wi_0 x) · wi_1 x)`.
#[derive(Module, Debug)]
pub struct FeedForward<B: Backend> {
    wi: Vec<Param<Tensor<B, 2>>>,
    wo: Param<Tensor<B, 2>>,
    #[module(skip)]
    dropout: Dropout,
    #[module(skip)]
    activation: ActivationFn,
}

/// The activation as a plain value the module derive skips over.
#[derive(Debug, Clone, Copy)]
enum ActivationFn {
    Relu,
    Gelu,
    GeluTanh,
    Silu,
}

impl ActivationFn {
    fn apply<B: Backend>(self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        match self {
            Self::Relu => activation::relu(x),
            Self::Gelu => activation::gelu(x),
            Self::GeluTanh => {
                // HF's `gelu_new`, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³),
                // computed as x·sigmoid(2u): the same function, and one fused
                // kernel instead of tanh (which costs an expm1 per element).
                let cube = x.clone().square() * x.clone();
                let u2 = (x.clone() + cube.mul_scalar(0.044715))
                    .mul_scalar(2.0 * (2.0 / std::f64::consts::PI).sqrt());
                x * activation::sigmoid(u2)
            }
            Self::Silu => activation::silu(x),
        }
    }
}

impl<B: Backend> FeedForward<B> {
    fn build(
        builder: &mut ParamBuilder<B>,
        name: &str,
        config: &T5Config,
        kind: FeedForwardKind,
    ) -> Result<Self> {
        let (d, ff) = (config.d_model, config.d_ff);
        let std_in = Init::Normal((d as f64).powf(-0.5));
        let wi = if kind.gated {
            vec![
                builder.linear(format!("{name}.wi_0.weight"), [ff, d], std_in)?,
                builder.linear(format!("{name}.wi_1.weight"), [ff, d], std_in)?,
            ]
        } else {
            vec![builder.linear(format!("{name}.wi.weight"), [ff, d], std_in)?]
        };
        let wo = builder.linear(
            format!("{name}.wo.weight"),
            [d, ff],
            Init::Normal((ff as f64).powf(-0.5)),
        )?;
        let activation = match kind.activation {
            Activation::Relu => ActivationFn::Relu,
            Activation::Gelu => ActivationFn::Gelu,
            Activation::GeluTanh => ActivationFn::GeluTanh,
            Activation::Silu => ActivationFn::Silu,
        };
        Ok(Self {
            wi,
            wo,
            dropout: Dropout::new(config.dropout_rate, builder.dropout_rng()),
            activation,
        })
    }

    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let hidden = self.activation.apply(linear(x.clone(), &self.wi[0]));
        let hidden = match self.wi.get(1) {
            Some(gate) => hidden * linear(x, gate),
            None => hidden,
        };
        linear(self.dropout.forward(hidden), &self.wo)
    }
}

/// One encoder or decoder block: self-attention, cross-attention (decoder
/// only) and feed-forward, each pre-normed and residual.
#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    self_attention: Attention<B>,
    self_norm: RmsNorm<B>,
    cross_attention: Option<Attention<B>>,
    cross_norm: Option<RmsNorm<B>>,
    feed_forward: FeedForward<B>,
    feed_forward_norm: RmsNorm<B>,
    #[module(skip)]
    dropout: Dropout,
}

impl<B: Backend> Block<B> {
    fn build(
        builder: &mut ParamBuilder<B>,
        name: &str,
        config: &T5Config,
        decoder: bool,
        first: bool,
    ) -> Result<Self> {
        let kind = config.feed_forward().expect("validated config");
        let self_attention = Attention::build(
            builder,
            &format!("{name}.layer.0.SelfAttention"),
            config,
            first,
        )?;
        let self_norm = RmsNorm::build(builder, &format!("{name}.layer.0.layer_norm"), config)?;
        let (cross_attention, cross_norm, ff_layer) = if decoder {
            (
                Some(Attention::build(
                    builder,
                    &format!("{name}.layer.1.EncDecAttention"),
                    config,
                    false,
                )?),
                Some(RmsNorm::build(
                    builder,
                    &format!("{name}.layer.1.layer_norm"),
                    config,
                )?),
                2,
            )
        } else {
            (None, None, 1)
        };
        let feed_forward = FeedForward::build(
            builder,
            &format!("{name}.layer.{ff_layer}.DenseReluDense"),
            config,
            kind,
        )?;
        let feed_forward_norm = RmsNorm::build(
            builder,
            &format!("{name}.layer.{ff_layer}.layer_norm"),
            config,
        )?;
        Ok(Self {
            self_attention,
            self_norm,
            cross_attention,
            cross_norm,
            feed_forward,
            feed_forward_norm,
            dropout: Dropout::new(config.dropout_rate, builder.dropout_rng()),
        })
    }

    fn feed_forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let out = self
            .feed_forward
            .forward(self.feed_forward_norm.forward(x.clone()));
        x + self.dropout.forward(out)
    }

    /// Cross-attention. With `group` > 1, `x` holds one position for each
    /// of `group` consecutive rows per memory row (a user's beams), and
    /// each group attends to its memory row as one batch of queries.
    fn cross(
        &self,
        x: Tensor<B, 3>,
        memory: &CrossMemory<B>,
        bias: &Tensor<B, 4>,
        group: usize,
    ) -> Tensor<B, 3> {
        let (Some(attention), Some(norm)) = (&self.cross_attention, &self.cross_norm) else {
            return x;
        };
        let query = attention.query(norm.forward(x.clone()));
        let out = if group > 1 {
            let [rows, heads, _, d_kv] = query.dims();
            let [_, _, d_model] = x.dims();
            let query = query
                .reshape([rows / group, group, heads, d_kv])
                .swap_dims(1, 2);
            attention
                .attend(
                    query,
                    memory.keys.clone(),
                    memory.values.clone(),
                    Some(bias.clone()),
                )
                .reshape([rows, 1, d_model])
        } else {
            attention.attend(
                query,
                memory.keys.clone(),
                memory.values.clone(),
                Some(bias.clone()),
            )
        };
        x + self.dropout.forward(out)
    }
}

/// Keys and values of the encoder output for one decoder block's
/// cross-attention.
#[derive(Debug, Clone)]
struct CrossMemory<B: Backend> {
    keys: Tensor<B, 4>,
    values: Tensor<B, 4>,
}

/// A stack of blocks with its final norm; the first block's self-attention
/// owns the relative position bias shared by all blocks.
#[derive(Module, Debug)]
pub struct Stack<B: Backend> {
    block: Vec<Block<B>>,
    final_layer_norm: RmsNorm<B>,
    #[module(skip)]
    dropout: Dropout,
    #[module(skip)]
    buckets: PositionBuckets,
}

impl<B: Backend> Stack<B> {
    fn build(
        builder: &mut ParamBuilder<B>,
        name: &str,
        config: &T5Config,
        decoder: bool,
    ) -> Result<Self> {
        let layers = if decoder {
            config.decoder_layers()
        } else {
            config.num_layers
        };
        let block = (0..layers)
            .map(|i| {
                Block::build(
                    builder,
                    &format!("{name}.block.{i}"),
                    config,
                    decoder,
                    i == 0,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            block,
            final_layer_norm: RmsNorm::build(builder, &format!("{name}.final_layer_norm"), config)?,
            dropout: Dropout::new(config.dropout_rate, builder.dropout_rng()),
            buckets: PositionBuckets {
                bidirectional: !decoder,
                num_buckets: config.relative_attention_num_buckets,
                max_distance: config.relative_attention_max_distance,
            },
        })
    }

    fn position_bias(&self, queries: usize, keys: usize, offset: usize) -> Option<Tensor<B, 4>> {
        self.block[0]
            .self_attention
            .position_bias(&self.buckets, queries, keys, offset)
    }

    fn finish(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.dropout.forward(self.final_layer_norm.forward(x))
    }
}

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

    /// `[batch, 1, 1, len]`: HF's additive mask, the lowest f32 at padding
    /// and 0 elsewhere.
    fn padding_bias(&self) -> Tensor<B, 4> {
        let [batch, len] = self.attention_mask.dims();
        additive(self.attention_mask.clone().equal_elem(0)).reshape([batch, 1, 1, len])
    }
}

/// State of incremental decoding: past keys and values of every decoder
/// block (the KV cache) and the cross-attention memory.
#[derive(Debug, Clone)]
pub struct DecoderCache<B: Backend> {
    past: Vec<Option<(Tensor<B, 4>, Tensor<B, 4>)>>,
    cross: Vec<CrossMemory<B>>,
    padding: Tensor<B, 4>,
    len: usize,
    /// Decoder rows per encoder row (see [`T5::start_grouped_decoding`]).
    group: usize,
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
    pub fn select(&mut self, rows: Tensor<B, 1, Int>) {
        for entry in self.past.iter_mut().flatten() {
            entry.0 = entry.0.clone().select(0, rows.clone());
            entry.1 = entry.1.clone().select(0, rows.clone());
        }
        if self.group > 1 {
            return;
        }
        self.padding = self.padding.clone().select(0, rows.clone());
        for memory in &mut self.cross {
            memory.keys = memory.keys.clone().select(0, rows.clone());
            memory.values = memory.values.clone().select(0, rows.clone());
        }
    }
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
    transposed: Arc<[bool]>,
    #[module(skip)]
    dropout_rng: DropoutRng,
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
        let lm_head = if config.tie_word_embeddings {
            None
        } else {
            Some(builder.linear(
                "lm_head.weight".to_owned(),
                [config.vocab_size, d],
                Init::Normal(1.0),
            )?)
        };
        let dropout_rng = builder.dropout_rng().clone();
        let (names, transposed) = builder.into_layout();
        Ok(Self {
            shared,
            encoder,
            decoder,
            lm_head,
            config: config.clone(),
            names: names.into(),
            transposed: transposed.into(),
            dropout_rng,
        })
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &T5Config {
        &self.config
    }

    /// HF names of the parameters; index `i` is parameter id `i`.
    pub fn param_names(&self) -> &[String] {
        &self.names
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
        let len = input_ids.dims()[1];
        let encoded = Encoded {
            hidden: Tensor::empty([0, 0, 0], &input_ids.device()),
            attention_mask,
        };
        let padding = encoded.padding_bias();
        let bias = match self.encoder.position_bias(len, len, 0) {
            Some(position) => position + padding,
            None => padding,
        };
        let mut x = self.encoder.dropout.forward(self.embed(input_ids));
        for block in &self.encoder.block {
            let attention = &block.self_attention;
            let normed = block.self_norm.forward(x.clone());
            let (keys, values) = attention.keys_values(normed.clone());
            let out = attention.attend(attention.query(normed), keys, values, Some(bias.clone()));
            x = x + block.dropout.forward(out);
            x = block.feed_forward(x);
        }
        Encoded {
            hidden: self.encoder.finish(x),
            ..encoded
        }
    }

    fn cross_memory(&self, encoded: &Encoded<B>) -> Vec<CrossMemory<B>> {
        self.decoder
            .block
            .iter()
            .map(|block| {
                let attention = block.cross_attention.as_ref().expect("decoder block");
                let (keys, values) = attention.keys_values(encoded.hidden.clone());
                CrossMemory { keys, values }
            })
            .collect()
    }

    /// Teacher-forced decoder: logits `[batch, len, vocab]` for every
    /// position of `decoder_input_ids`.
    pub fn decode(
        &self,
        encoded: &Encoded<B>,
        decoder_input_ids: Tensor<B, 2, Int>,
    ) -> Tensor<B, 3> {
        let len = decoder_input_ids.dims()[1];
        let device = decoder_input_ids.device();
        let memory = self.cross_memory(encoded);
        // `tril_mask` is true above the diagonal: the future is hidden.
        let causal =
            additive(Tensor::<B, 2, Bool>::tril_mask([len, len], 0, &device)).unsqueeze::<4>();
        let bias = match self.decoder.position_bias(len, len, 0) {
            Some(position) => position + causal,
            None => causal,
        };
        let cross_bias = self.cross_bias(encoded.padding_bias(), len);
        let mut x = self.decoder.dropout.forward(self.embed(decoder_input_ids));
        for (block, memory) in self.decoder.block.iter().zip(&memory) {
            let attention = &block.self_attention;
            let normed = block.self_norm.forward(x.clone());
            let (keys, values) = attention.keys_values(normed.clone());
            let out = attention.attend(attention.query(normed), keys, values, Some(bias.clone()));
            x = x + block.dropout.forward(out);
            x = block.cross(x, memory, &cross_bias, 1);
            x = block.feed_forward(x);
        }
        self.head(self.decoder.finish(x))
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
        let hidden = if self.config.scales_decoder_output() {
            hidden.mul_scalar((self.config.d_model as f64).powf(-0.5))
        } else {
            hidden
        };
        match &self.lm_head {
            Some(head) => linear(hidden, head),
            None => {
                let [batch, len, width] = hidden.dims();
                let shared = self.shared.val();
                let vocab = shared.dims()[0];
                hidden
                    .reshape([batch * len, width])
                    .matmul(shared.transpose())
                    .reshape([batch, len, vocab])
            }
        }
    }

    /// The encoder padding as a bias for `queries` decoder positions,
    /// `[batch, heads, queries, len]`, materialised once for all blocks.
    fn cross_bias(&self, padding: Tensor<B, 4>, queries: usize) -> Tensor<B, 4> {
        let [batch, _, _, len] = padding.dims();
        let shape = [batch, self.config.num_heads, queries, len];
        Tensor::zeros(shape, &padding.device()) + padding
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
            past: vec![None; self.decoder.block.len()],
            cross: self.cross_memory(encoded),
            padding: encoded.padding_bias(),
            len: 0,
            group: group.max(1),
        }
    }

    /// Feeds one token per row (`[batch]`) to the decoder and returns the
    /// next-token logits `[batch, vocab]`, extending the cache.
    pub fn decode_step(
        &self,
        cache: &mut DecoderCache<B>,
        tokens: Tensor<B, 1, Int>,
    ) -> Tensor<B, 2> {
        let offset = cache.len;
        let bias = self.decoder.position_bias(1, offset + 1, offset);
        let cross_bias = self.cross_bias(cache.padding.clone(), cache.group);
        let mut x = self.embed(tokens.unsqueeze_dim(1));
        for ((block, memory), past) in self
            .decoder
            .block
            .iter()
            .zip(&cache.cross)
            .zip(cache.past.iter_mut())
        {
            let attention = &block.self_attention;
            let normed = block.self_norm.forward(x.clone());
            let (keys, values) = attention.keys_values(normed.clone());
            let (keys, values) = match past.take() {
                Some((past_keys, past_values)) => (
                    Tensor::cat(vec![past_keys, keys], 2),
                    Tensor::cat(vec![past_values, values], 2),
                ),
                None => (keys, values),
            };
            let out = attention.attend(
                attention.query(normed),
                keys.clone(),
                values.clone(),
                bias.clone(),
            );
            *past = Some((keys, values));
            x = x + block.dropout.forward(out);
            x = block.cross(x, memory, &cross_bias, cache.group);
            x = block.feed_forward(x);
        }
        cache.len += 1;
        let logits = self.head(self.decoder.finish(x));
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
