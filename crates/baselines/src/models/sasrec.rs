//! SASRec as RecBole implements it (Kang & McAuley 2018): item embedding
//! plus a learned position embedding, layer norm, dropout, causal post-LN
//! transformer blocks; the output at each position scores every item by
//! dot product with the shared item embeddings. Every position of a user's
//! training sequence predicts the next item, with softmax cross-entropy
//! over the catalogue (`ce`) or, as the original paper, binary
//! cross-entropy against one uniform negative per position (`bce`).
//! Initialisation Normal(0, 0.02), as RecBole.

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::{Int, Tensor, backend::Backend};

use crate::batch::{NextItemBatch, Padded, Query, TrainData, history_tokens, ints};
use crate::config::{SasRecConfig, SasRecLoss};
use crate::models::Recommender;
use crate::nn::{
    Init, LayerNorm, Noise, Transformer, TransformerShape, causal_mask, cross_entropy,
    sample_negative, score_items,
};

/// SASRec.
#[derive(Module, Debug)]
pub(crate) struct SasRec<B: Backend> {
    items: Param<Tensor<B, 2>>,
    positions: Param<Tensor<B, 2>>,
    norm: LayerNorm<B>,
    transformer: Transformer<B>,
    #[module(skip)]
    dropout: f64,
    #[module(skip)]
    max_len: usize,
    #[module(skip)]
    loss: SasRecLoss,
}

impl<B: Backend> SasRec<B> {
    pub(crate) fn new(init: &mut Init<'_, B>, config: &SasRecConfig, items: usize) -> Self {
        let shape = TransformerShape {
            hidden: config.hidden,
            layers: config.layers,
            heads: config.heads,
            inner: config.inner,
            dropout: config.dropout,
            attention_dropout: config.attention_dropout,
            eps: config.layer_norm_eps,
        };
        SasRec {
            items: init.normal([items + 1, config.hidden], 0.02),
            positions: init.normal([config.max_len, config.hidden], 0.02),
            norm: LayerNorm::new(init, config.hidden, config.layer_norm_eps),
            transformer: Transformer::new(init, &shape),
            dropout: config.dropout,
            max_len: config.max_len,
            loss: config.loss,
        }
    }

    /// Outputs `[batch · len, hidden]` for every position.
    fn encode(&self, inputs: &Padded, noise: &mut Noise<'_>, device: &B::Device) -> Tensor<B, 2> {
        let (batch, len) = (inputs.batch, inputs.len);
        let tokens = inputs.tensor::<B>(device);
        let x = burn::tensor::module::embedding(self.items.val(), tokens);
        let positions = Tensor::<B, 1, Int>::arange(0..len as i64, device)
            .reshape([1, len])
            .repeat_dim(0, batch);
        let x = x + burn::tensor::module::embedding(self.positions.val(), positions);
        let x = noise.dropout(self.norm.forward(x), self.dropout);
        let out = self
            .transformer
            .forward(x, &causal_mask::<B>(len, device), noise);
        let width = out.dims()[2];
        out.reshape([batch * len, width])
    }
}

impl<B: Backend> Recommender<B> for SasRec<B> {
    fn unit_len(&self, data: &TrainData, unit: u32) -> usize {
        data.sequences[unit as usize].len().min(self.max_len + 1)
    }

    fn units(&self, data: &TrainData) -> Vec<u32> {
        data.sequence_users()
    }

    fn loss(
        &self,
        data: &TrainData,
        units: &[u32],
        noise: &mut Noise<'_>,
        device: &B::Device,
    ) -> Tensor<B, 1> {
        let batch = NextItemBatch::new(data, units, self.max_len);
        let out = self
            .encode(&batch.inputs, noise, device)
            .select(0, ints(&batch.positions, device));
        match self.loss {
            SasRecLoss::Ce => cross_entropy(score_items(out, self.items.val()), &batch.targets),
            SasRecLoss::Bce => {
                let rng = noise.rng().expect("training draws negatives");
                let len = batch.inputs.len;
                let negatives: Vec<i64> = batch
                    .positions
                    .iter()
                    .map(|&p| {
                        let user = units[p as usize / len] as usize;
                        // Token ids: item index + 1.
                        i64::from(sample_negative(rng, data.items, &data.seen[user])) + 1
                    })
                    .collect();
                let targets: Vec<i64> = batch.targets.iter().map(|t| t + 1).collect();
                let positive = self.items.val().select(0, ints(&targets, device));
                let negative = self.items.val().select(0, ints(&negatives, device));
                let pos = (out.clone() * positive).sum_dim(1);
                let neg = (out * negative).sum_dim(1);
                // -ln σ(pos) − ln(1 − σ(neg)) = -ln σ(pos) − ln σ(−neg).
                (activation::log_sigmoid(pos) + activation::log_sigmoid(neg.neg()))
                    .mean()
                    .neg()
            }
        }
    }

    fn scores(&self, queries: &[Query<'_>], device: &B::Device) -> Tensor<B, 2> {
        let inputs = history_tokens(queries, self.max_len);
        let out = self
            .encode(&inputs, &mut Noise::off(), device)
            .select(0, ints(&inputs.last_positions(), device));
        score_items(out, self.items.val())
    }
}
