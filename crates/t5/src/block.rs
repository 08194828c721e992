//! One T5 block (HF's `T5Block`): self-attention, cross-attention in the
//! decoder, and feed-forward, each pre-normed, dropped out and added back
//! to its input.
//!
//! A single [`Block::forward`] serves the encoder, the teacher-forced
//! decoder and the incremental decoder: cross-attention runs when it is
//! given the encoder's memory, and self-attention extends a KV cache when it
//! is given one.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use crate::attention::Attention;
use crate::cache::KeyValues;
use crate::config::T5Config;
use crate::dropout::Dropout;
use crate::error::Result;
use crate::feed_forward::FeedForward;
use crate::layers::RmsNorm;
use crate::weights::ParamBuilder;

/// What a decoder block's cross-attention reads.
pub(crate) struct Memory<'a, B: Backend> {
    /// The block's keys and values of the encoder output.
    pub(crate) keys_values: &'a KeyValues<B>,
    /// The encoder padding as a bias `[batch, heads, queries, len]`.
    pub(crate) bias: &'a Tensor<B, 4>,
    /// Decoder rows per encoder row (a user's beams), 1 when they match.
    pub(crate) group: usize,
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
    pub(crate) fn build(
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

    /// The self-attention, whose first instance in a stack owns the
    /// relative position bias.
    pub(crate) fn self_attention(&self) -> &Attention<B> {
        &self.self_attention
    }

    /// This decoder block's cross-attention keys and values of the encoder
    /// output `hidden`.
    pub(crate) fn cross_memory(&self, hidden: Tensor<B, 3>) -> KeyValues<B> {
        self.cross_attention
            .as_ref()
            .expect("decoder block")
            .keys_values(hidden)
    }

    /// The block on `x` `[batch, len, d_model]`. `bias` is added to the
    /// self-attention scores (position bias and masks); `memory`, in the
    /// decoder, is what cross-attention reads; `past`, when decoding
    /// incrementally, is the self-attention KV cache, extended by `x`.
    pub(crate) fn forward(
        &self,
        x: Tensor<B, 3>,
        bias: Option<Tensor<B, 4>>,
        memory: Option<Memory<'_, B>>,
        past: Option<&mut Option<KeyValues<B>>>,
    ) -> Tensor<B, 3> {
        let out = self
            .self_attention
            .forward_self(self.self_norm.forward(x.clone()), bias, past);
        let mut x = x + self.dropout.forward(out);
        if let (Some(memory), Some(attention), Some(norm)) =
            (memory, &self.cross_attention, &self.cross_norm)
        {
            let out = attention.forward_cross(
                norm.forward(x.clone()),
                memory.keys_values,
                memory.bias,
                memory.group,
            );
            x = x + self.dropout.forward(out);
        }
        let out = self
            .feed_forward
            .forward(self.feed_forward_norm.forward(x.clone()));
        x + self.dropout.forward(out)
    }
}
