//! T5 attention, as HF's `T5Attention`: no 1/√d scaling of the scores, and
//! a learned relative position bias that only the first block of a stack
//! owns (bidirectional buckets in the encoder, causal in the decoder), added
//! to the scores of every block together with the masks.
//!
//! Self-attention optionally extends a [`KeyValues`] cache (incremental
//! decoding); cross-attention reads the encoder's keys and values, computed
//! once per decoder block, and can let a group of decoder rows (a user's
//! beams) share one encoder row.

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use crate::cache::KeyValues;
use crate::config::T5Config;
use crate::dropout::Dropout;
use crate::error::Result;
use crate::layers::Matmul;
use crate::weights::{Init, ParamBuilder};

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
    matmul: Matmul,
    #[module(skip)]
    heads: usize,
    #[module(skip)]
    d_kv: usize,
}

impl<B: Backend> Attention<B> {
    pub(crate) fn build(
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
            matmul: builder.matmul().clone(),
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
        self.split_heads(self.matmul.linear(x, &self.q))
    }

    /// Keys and values of `x`, split into heads: a decoder block's
    /// cross-attention memory when `x` is the encoder output.
    pub(crate) fn keys_values(&self, x: Tensor<B, 3>) -> KeyValues<B> {
        KeyValues {
            keys: self.split_heads(self.matmul.linear(x.clone(), &self.k)),
            values: self.split_heads(self.matmul.linear(x, &self.v)),
        }
    }

    /// The position bias `[1, heads, queries, keys]` for queries starting at
    /// `offset`; only the stack's first block has the weights.
    pub(crate) fn position_bias(
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

    /// Self-attention of the normed input `x`. With `past`, the keys and
    /// values of `x` are appended to the cached ones, which the queries then
    /// attend to, and the cache is updated.
    pub(crate) fn forward_self(
        &self,
        x: Tensor<B, 3>,
        bias: Option<Tensor<B, 4>>,
        past: Option<&mut Option<KeyValues<B>>>,
    ) -> Tensor<B, 3> {
        let _span = tracing::trace_span!("self_attention").entered();
        let current = self.keys_values(x.clone());
        let query = self.query(x);
        match past {
            Some(past) => {
                let all = match past.take() {
                    Some(before) => before.append(current),
                    None => current,
                };
                *past = Some(all.clone());
                self.attend(query, all, bias)
            }
            None => self.attend(query, current, bias),
        }
    }

    /// Cross-attention of the normed input `x` over `memory`. When `group`
    /// exceeds 1, `x` holds one position for each of `group` consecutive
    /// rows per memory row (a user's beams), and each group attends to its
    /// memory row as one batch of queries.
    pub(crate) fn forward_cross(
        &self,
        x: Tensor<B, 3>,
        memory: &KeyValues<B>,
        bias: &Tensor<B, 4>,
        group: usize,
    ) -> Tensor<B, 3> {
        let _span = tracing::trace_span!("cross_attention").entered();
        let [_, _, d_model] = x.dims();
        let query = self.query(x);
        if group > 1 {
            let [rows, heads, _, d_kv] = query.dims();
            let query = query
                .reshape([rows / group, group, heads, d_kv])
                .swap_dims(1, 2);
            self.attend(query, memory.clone(), Some(bias.clone()))
                .reshape([rows, 1, d_model])
        } else {
            self.attend(query, memory.clone(), Some(bias.clone()))
        }
    }

    /// Attention of `query` over `memory`, plus output projection. `bias`
    /// (position bias and masks, added to the scores as HF does) is
    /// `[batch | 1, heads, q, k]`, built once per stack and shared by its
    /// blocks.
    fn attend(
        &self,
        query: Tensor<B, 4>,
        memory: KeyValues<B>,
        bias: Option<Tensor<B, 4>>,
    ) -> Tensor<B, 3> {
        let mut scores = self.matmul.product(query, memory.keys.swap_dims(2, 3));
        let [batch, heads, len, _] = scores.dims();
        if let Some(bias) = bias {
            scores = scores + bias;
        }
        let weights = self.dropout.forward(activation::softmax(scores, 3));
        let context = self
            .matmul
            .product(weights, memory.values)
            .swap_dims(1, 2)
            .reshape([batch, len, heads * self.d_kv]);
        self.matmul.linear(context, &self.o)
    }
}
