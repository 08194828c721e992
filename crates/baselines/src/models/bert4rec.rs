//! BERT4Rec as RecBole implements it (Sun et al. 2019): item + learned
//! position embeddings, layer norm, dropout, bidirectional post-LN
//! transformer blocks with padded keys hidden. Training is the cloze task:
//! each item of a user's last `max_len` training items is replaced by
//! `[mask]` with probability `mask_prob` (at least one per sequence, the last
//! if the draw masked none), and each masked position predicts its item
//! through a dense + GELU + layer-norm head scored against the shared item
//! embeddings plus a bias, with softmax cross-entropy over the catalogue.
//! Inference appends `[mask]` after the last `max_len − 1` history items.

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::{Tensor, backend::Backend};
use rand::Rng;

use crate::batch::{Padded, TrainBatch, UserQuery};
use crate::config::Bert4RecConfig;
use crate::models::{SequenceModel, Step};
use crate::nn::{Init, ItemTransformer, LayerNorm, Linear, Noise, padding_mask};

/// BERT4Rec.
#[derive(Module, Debug)]
pub(crate) struct Bert4Rec<B: Backend> {
    encoder: ItemTransformer<B>,
    head: Linear<B>,
    head_norm: LayerNorm<B>,
    bias: Param<Tensor<B, 1>>,
    #[module(skip)]
    max_len: usize,
    #[module(skip)]
    mask_prob: f64,
    #[module(skip)]
    catalogue: usize,
}

impl<B: Backend> Bert4Rec<B> {
    pub(crate) fn new(init: &mut Init<'_, B>, config: &Bert4RecConfig, items: usize) -> Self {
        let transformer = &config.transformer;
        let hidden = transformer.hidden;
        Bert4Rec {
            // Rows: padding, the items, [mask].
            encoder: ItemTransformer::new(init, transformer, items + 2),
            head: Linear::normal(init, hidden, hidden, 0.02),
            head_norm: LayerNorm::new(init, hidden, transformer.layer_norm_eps),
            bias: init.constant([items], 0.0),
            max_len: transformer.max_len,
            mask_prob: config.mask_prob,
            catalogue: items,
        }
    }

    fn mask_token(&self) -> i64 {
        self.catalogue as i64 + 1
    }
}

impl<B: Backend> SequenceModel for Bert4Rec<B> {
    type Backend = B;

    /// A single item is enough: it is masked and predicted.
    const MIN_TRAIN_LEN: usize = 1;

    fn max_len(&self) -> usize {
        self.max_len
    }

    fn encode(&self, inputs: &Padded, noise: &mut Noise<'_>, device: &B::Device) -> Tensor<B, 2> {
        let mask = padding_mask::<B>(&inputs.tokens, inputs.batch, inputs.len, device);
        self.encoder.forward(inputs, &mask, noise, device)
    }

    /// The dense + GELU + layer-norm head against the item embeddings plus
    /// a bias.
    fn logits(&self, out: Tensor<B, 2>) -> Tensor<B, 2> {
        let h = self
            .head_norm
            .forward(activation::gelu(self.head.forward2(out)));
        let catalogue = self.encoder.embeddings().narrow(0, 1, self.catalogue);
        h.matmul(catalogue.transpose()) + self.bias.val().unsqueeze::<2>()
    }

    /// The cloze task over each user's last `max_len` training items.
    fn batch(&self, step: &mut Step<'_, B>) -> TrainBatch {
        let mask_token = self.mask_token();
        let rng = step.noise.rng().expect("training draws masks");
        let mut rows = Vec::with_capacity(step.units.len());
        let mut masked = Vec::new();
        for &u in step.units {
            let seq = &step.data.sequences[u as usize];
            let window = &seq[seq.len().saturating_sub(self.max_len)..];
            let mut row: Vec<i64> = window.iter().map(|&i| i64::from(i) + 1).collect();
            let mut hidden: Vec<usize> = (0..row.len())
                .filter(|_| rng.random::<f64>() < self.mask_prob)
                .collect();
            if hidden.is_empty() {
                hidden.push(row.len() - 1);
            }
            for &t in &hidden {
                masked.push((rows.len(), t, row[t] - 1));
                row[t] = mask_token;
            }
            rows.push(row);
        }
        let inputs = Padded::new(&rows);
        let positions = masked
            .iter()
            .map(|&(r, t, _)| (r * inputs.len + t) as i64)
            .collect();
        let targets = masked.iter().map(|&(_, _, item)| item).collect();
        TrainBatch {
            inputs,
            positions,
            targets,
        }
    }

    /// The last `max_len − 1` history items and `[mask]`.
    fn query_tokens(&self, queries: &[UserQuery<'_>]) -> Padded {
        let keep = self.max_len - 1;
        let rows: Vec<Vec<i64>> = queries
            .iter()
            .map(|q| {
                let h = &q.history[q.history.len().saturating_sub(keep)..];
                h.iter()
                    .map(|e| i64::from(e.item.0) + 1)
                    .chain(std::iter::once(self.mask_token()))
                    .collect()
            })
            .collect();
        Padded::new(&rows)
    }
}
