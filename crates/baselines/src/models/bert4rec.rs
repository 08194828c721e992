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
use burn::tensor::{Int, Tensor, backend::Backend};
use rand::Rng;

use crate::batch::{Padded, Query, TrainData, ints};
use crate::config::Bert4RecConfig;
use crate::models::Recommender;
use crate::nn::{
    Init, LayerNorm, Linear, Noise, Transformer, TransformerShape, cross_entropy, padding_mask,
};

/// BERT4Rec.
#[derive(Module, Debug)]
pub(crate) struct Bert4Rec<B: Backend> {
    items: Param<Tensor<B, 2>>,
    positions: Param<Tensor<B, 2>>,
    norm: LayerNorm<B>,
    transformer: Transformer<B>,
    head: Linear<B>,
    head_norm: LayerNorm<B>,
    bias: Param<Tensor<B, 1>>,
    #[module(skip)]
    dropout: f64,
    #[module(skip)]
    max_len: usize,
    #[module(skip)]
    mask_prob: f64,
    #[module(skip)]
    catalogue: usize,
}

impl<B: Backend> Bert4Rec<B> {
    pub(crate) fn new(init: &mut Init<'_, B>, config: &Bert4RecConfig, items: usize) -> Self {
        let shape = TransformerShape {
            hidden: config.hidden,
            layers: config.layers,
            heads: config.heads,
            inner: config.inner,
            dropout: config.dropout,
            attention_dropout: config.attention_dropout,
            eps: config.layer_norm_eps,
        };
        Bert4Rec {
            // Rows: padding, the items, [mask].
            items: init.normal([items + 2, config.hidden], 0.02),
            positions: init.normal([config.max_len, config.hidden], 0.02),
            norm: LayerNorm::new(init, config.hidden, config.layer_norm_eps),
            transformer: Transformer::new(init, &shape),
            head: Linear::normal(init, config.hidden, config.hidden, 0.02),
            head_norm: LayerNorm::new(init, config.hidden, config.layer_norm_eps),
            bias: init.constant([items], 0.0),
            dropout: config.dropout,
            max_len: config.max_len,
            mask_prob: config.mask_prob,
            catalogue: items,
        }
    }

    fn mask_token(&self) -> i64 {
        self.catalogue as i64 + 1
    }

    /// Outputs `[batch · len, hidden]` for every position.
    fn encode(&self, inputs: &Padded, noise: &mut Noise<'_>, device: &B::Device) -> Tensor<B, 2> {
        let (batch, len) = (inputs.batch, inputs.len);
        let x = burn::tensor::module::embedding(self.items.val(), inputs.tensor(device));
        let positions = Tensor::<B, 1, Int>::arange(0..len as i64, device)
            .reshape([1, len])
            .repeat_dim(0, batch);
        let x = x + burn::tensor::module::embedding(self.positions.val(), positions);
        let x = noise.dropout(self.norm.forward(x), self.dropout);
        let mask = padding_mask::<B>(&inputs.tokens, batch, len, device);
        let out = self.transformer.forward(x, &mask, noise);
        let width = out.dims()[2];
        out.reshape([batch * len, width])
    }

    /// Logits `[rows, items]` of the outputs at the selected positions.
    fn logits(&self, out: Tensor<B, 2>) -> Tensor<B, 2> {
        let h = self
            .head_norm
            .forward(activation::gelu(self.head.forward2(out)));
        let catalogue = self.items.val().narrow(0, 1, self.catalogue);
        h.matmul(catalogue.transpose()) + self.bias.val().unsqueeze::<2>()
    }
}

impl<B: Backend> Recommender<B> for Bert4Rec<B> {
    fn unit_len(&self, data: &TrainData, unit: u32) -> usize {
        data.sequences[unit as usize].len().min(self.max_len + 1)
    }

    fn units(&self, data: &TrainData) -> Vec<u32> {
        (0..data.sequences.len() as u32)
            .filter(|&u| !data.sequences[u as usize].is_empty())
            .collect()
    }

    fn loss(
        &self,
        data: &TrainData,
        units: &[u32],
        noise: &mut Noise<'_>,
        device: &B::Device,
    ) -> Tensor<B, 1> {
        let mask_token = self.mask_token();
        let mut rows = Vec::with_capacity(units.len());
        let mut masked = Vec::new();
        {
            let rng = noise.rng().expect("training draws masks");
            for &u in units {
                let seq = &data.sequences[u as usize];
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
        }
        let inputs = Padded::new(&rows);
        let positions: Vec<i64> = masked
            .iter()
            .map(|&(r, t, _)| (r * inputs.len + t) as i64)
            .collect();
        let targets: Vec<i64> = masked.iter().map(|&(_, _, item)| item).collect();
        let out = self
            .encode(&inputs, noise, device)
            .select(0, ints(&positions, device));
        cross_entropy(self.logits(out), &targets)
    }

    fn scores(&self, queries: &[Query<'_>], device: &B::Device) -> Tensor<B, 2> {
        let rows: Vec<Vec<i64>> = queries
            .iter()
            .map(|q| {
                let keep = self.max_len - 1;
                let h = &q.history[q.history.len().saturating_sub(keep)..];
                h.iter()
                    .map(|e| i64::from(e.item.0) + 1)
                    .chain(std::iter::once(self.mask_token()))
                    .collect()
            })
            .collect();
        let inputs = Padded::new(&rows);
        let out = self
            .encode(&inputs, &mut Noise::off(), device)
            .select(0, ints(&inputs.last_positions(), device));
        self.logits(out)
    }
}
