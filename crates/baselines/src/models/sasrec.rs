//! SASRec as RecBole implements it (Kang & McAuley 2018): item embedding
//! plus a learned position embedding, layer norm, dropout, causal post-LN
//! transformer blocks; the output at each position scores every item by
//! dot product with the shared item embeddings. Every position of a user's
//! training sequence predicts the next item, with softmax cross-entropy
//! over the catalogue (`ce`) or, as the original paper, binary
//! cross-entropy against one uniform negative per position (`bce`).
//! Initialisation Normal(0, 0.02), as RecBole.

use burn::module::Module;
use burn::tensor::activation;
use burn::tensor::{Tensor, backend::Backend};

use crate::batch::{Padded, TrainBatch, ints};
use crate::config::{SasRecConfig, SasRecLoss};
use crate::models::{SequenceModel, Step};
use crate::nn::{
    Init, ItemTransformer, Noise, causal_mask, cross_entropy, sample_negative, score_items,
};

/// SASRec.
#[derive(Module, Debug)]
pub(crate) struct SasRec<B: Backend> {
    encoder: ItemTransformer<B>,
    #[module(skip)]
    max_len: usize,
    #[module(skip)]
    loss: SasRecLoss,
}

impl<B: Backend> SasRec<B> {
    pub(crate) fn new(init: &mut Init<'_, B>, config: &SasRecConfig, items: usize) -> Self {
        SasRec {
            // Rows: padding, the items.
            encoder: ItemTransformer::new(init, &config.transformer, items + 1),
            max_len: config.transformer.max_len,
            loss: config.loss,
        }
    }
}

impl<B: Backend> SequenceModel for SasRec<B> {
    type Backend = B;

    fn max_len(&self) -> usize {
        self.max_len
    }

    fn encode(&self, inputs: &Padded, noise: &mut Noise<'_>, device: &B::Device) -> Tensor<B, 2> {
        let mask = causal_mask::<B>(inputs.len, device);
        self.encoder.forward(inputs, &mask, noise, device)
    }

    fn logits(&self, out: Tensor<B, 2>) -> Tensor<B, 2> {
        score_items(out, self.encoder.embeddings())
    }

    fn objective(
        &self,
        out: Tensor<B, 2>,
        batch: &TrainBatch,
        step: &mut Step<'_, B>,
    ) -> Tensor<B, 1> {
        match self.loss {
            SasRecLoss::Ce => cross_entropy(self.logits(out), &batch.targets),
            SasRecLoss::Bce => {
                let (data, units, device) = (step.data, step.units, step.device);
                let rng = step.noise.rng().expect("training draws negatives");
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
                let items = self.encoder.embeddings();
                let positive = items.clone().select(0, ints(&targets, device));
                let negative = items.select(0, ints(&negatives, device));
                let pos = (out.clone() * positive).sum_dim(1);
                let neg = (out * negative).sum_dim(1);
                // -ln σ(pos) − ln(1 − σ(neg)) = -ln σ(pos) − ln σ(−neg).
                (activation::log_sigmoid(pos) + activation::log_sigmoid(neg.neg()))
                    .mean()
                    .neg()
            }
        }
    }
}
