//! An encoder or decoder stack (HF's `T5Stack`): its blocks, the final RMS
//! norm and dropout. The first block's self-attention owns the relative
//! position bias, which the stack builds once per pass and shares with
//! every block, as HF does.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use crate::attention::PositionBuckets;
use crate::block::{Block, Memory};
use crate::cache::KeyValues;
use crate::config::T5Config;
use crate::dropout::Dropout;
use crate::error::Result;
use crate::layers::RmsNorm;
use crate::weights::ParamBuilder;

/// What the decoder's cross-attention reads in one pass.
pub(crate) struct Cross<'a, B: Backend> {
    /// Every block's keys and values of the encoder output.
    pub(crate) memory: &'a [KeyValues<B>],
    /// The encoder padding as a bias `[batch, heads, queries, len]`.
    pub(crate) bias: Tensor<B, 4>,
    /// Decoder rows per encoder row (a user's beams), 1 when they match.
    pub(crate) group: usize,
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
    pub(crate) fn build(
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
            buckets: PositionBuckets::new(
                !decoder,
                config.relative_attention_num_buckets,
                config.relative_attention_max_distance,
            ),
        })
    }

    /// Number of blocks.
    pub(crate) fn len(&self) -> usize {
        self.block.len()
    }

    /// The position bias `[1, heads, queries, keys]` for queries starting
    /// at `offset`.
    pub(crate) fn position_bias(
        &self,
        queries: usize,
        keys: usize,
        offset: usize,
    ) -> Option<Tensor<B, 4>> {
        self.block[0]
            .self_attention()
            .position_bias(&self.buckets, queries, keys, offset)
    }

    /// Every (decoder) block's cross-attention keys and values of the
    /// encoder output `hidden`.
    pub(crate) fn cross_memory(&self, hidden: &Tensor<B, 3>) -> Vec<KeyValues<B>> {
        let _span = tracing::trace_span!("cross_memory").entered();
        self.block
            .iter()
            .map(|block| block.cross_memory(hidden.clone()))
            .collect()
    }

    /// Dropout on the embedded input, as HF applies it at the stack's entry.
    pub(crate) fn drop_input(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.dropout.forward(x)
    }

    /// The blocks and final norm on `x` `[batch, len, d_model]`: `bias` is
    /// added to every block's self-attention scores, `cross` (decoder) is
    /// what cross-attention reads, and `past` (incremental decoding) holds
    /// one KV cache per block.
    pub(crate) fn forward(
        &self,
        mut x: Tensor<B, 3>,
        bias: Option<Tensor<B, 4>>,
        cross: Option<Cross<'_, B>>,
        mut past: Option<&mut [Option<KeyValues<B>>]>,
    ) -> Tensor<B, 3> {
        for (index, block) in self.block.iter().enumerate() {
            let _span = tracing::trace_span!("block", index).entered();
            let memory = cross.as_ref().map(|cross| Memory {
                keys_values: &cross.memory[index],
                bias: &cross.bias,
                group: cross.group,
            });
            let past = past.as_deref_mut().map(|past| &mut past[index]);
            x = block.forward(x, bias.clone(), memory, past);
        }
        self.dropout.forward(self.final_layer_norm.forward(x))
    }
}
