//! GRU4Rec as RecBole implements it: item embedding → dropout → one GRU
//! layer → linear to the embedding width; the state after each item scores
//! every catalogue item by dot product with the item embeddings, trained
//! with softmax cross-entropy at every position of each training sequence.
//! Initialisation as RecBole: Xavier-normal embeddings, Xavier-uniform GRU
//! weights, zero biases.

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::{Tensor, backend::Backend};

use crate::batch::Padded;
use crate::config::Gru4RecConfig;
use crate::models::SequenceModel;
use crate::nn::{Init, Linear, Noise, score_items};

/// A single-layer GRU (PyTorch's gate order r, z, n).
#[derive(Module, Debug)]
pub(crate) struct Gru<B: Backend> {
    w_ih: Param<Tensor<B, 2>>,
    w_hh: Param<Tensor<B, 2>>,
    b_ih: Param<Tensor<B, 1>>,
    b_hh: Param<Tensor<B, 1>>,
    #[module(skip)]
    hidden: usize,
}

impl<B: Backend> Gru<B> {
    fn new(init: &mut Init<'_, B>, input: usize, hidden: usize) -> Self {
        Gru {
            w_ih: init.xavier_uniform([3 * hidden, input]),
            w_hh: init.xavier_uniform([3 * hidden, hidden]),
            b_ih: init.constant([3 * hidden], 0.0),
            b_hh: init.constant([3 * hidden], 0.0),
            hidden,
        }
    }

    /// States after each step, `[batch, len, hidden]`, from a zero state.
    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [batch, len, width] = x.dims();
        let h_size = self.hidden;
        let gates_x = (x
            .reshape([batch * len, width])
            .matmul(self.w_ih.val().transpose())
            + self.b_ih.val().unsqueeze::<2>())
        .reshape([batch, len, 3 * h_size]);
        let w_hh = self.w_hh.val().transpose();
        let b_hh = self.b_hh.val().unsqueeze::<2>();
        let mut h = Tensor::<B, 2>::zeros([batch, h_size], &gates_x.device());
        let mut states = Vec::with_capacity(len);
        for t in 0..len {
            let gx = gates_x.clone().narrow(1, t, 1).reshape([batch, 3 * h_size]);
            let gh = h.clone().matmul(w_hh.clone()) + b_hh.clone();
            let r = activation::sigmoid(
                gx.clone().narrow(1, 0, h_size) + gh.clone().narrow(1, 0, h_size),
            );
            let z = activation::sigmoid(
                gx.clone().narrow(1, h_size, h_size) + gh.clone().narrow(1, h_size, h_size),
            );
            let n =
                (gx.narrow(1, 2 * h_size, h_size) + r * gh.narrow(1, 2 * h_size, h_size)).tanh();
            h = n.clone() + z * (h - n);
            states.push(h.clone());
        }
        Tensor::stack(states, 1)
    }
}

/// GRU4Rec.
#[derive(Module, Debug)]
pub(crate) struct Gru4Rec<B: Backend> {
    items: Param<Tensor<B, 2>>,
    gru: Gru<B>,
    dense: Linear<B>,
    #[module(skip)]
    dropout: f64,
    #[module(skip)]
    max_len: usize,
}

impl<B: Backend> Gru4Rec<B> {
    pub(crate) fn new(init: &mut Init<'_, B>, config: &Gru4RecConfig, items: usize) -> Self {
        let embedding = init.xavier_normal([items + 1, config.embedding_size]);
        let gru = Gru::new(init, config.embedding_size, config.hidden_size);
        let dense = Linear::torch_default(init, config.hidden_size, config.embedding_size);
        Gru4Rec {
            items: embedding,
            gru,
            dense,
            dropout: config.dropout,
            max_len: config.max_len,
        }
    }
}

impl<B: Backend> SequenceModel for Gru4Rec<B> {
    type Backend = B;

    fn max_len(&self) -> usize {
        self.max_len
    }

    fn encode(&self, inputs: &Padded, noise: &mut Noise<'_>, device: &B::Device) -> Tensor<B, 2> {
        let x = burn::tensor::module::embedding(self.items.val(), inputs.tensor(device));
        let x = noise.dropout(x, self.dropout);
        let states = self.dense.forward3(self.gru.forward(x));
        let [batch, len, width] = states.dims();
        states.reshape([batch * len, width])
    }

    fn logits(&self, out: Tensor<B, 2>) -> Tensor<B, 2> {
        score_items(out, self.items.val())
    }
}
