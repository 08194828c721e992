//! Building blocks shared by the models: seeded initialisation, linear
//! layers, layer norm, dropout from the run's own random stream, and the
//! embeddings and post-LN transformer blocks of SASRec and BERT4Rec
//! (RecBole's `TransformerEncoder`).
//!
//! Randomness never comes from the backend: parameters are drawn on the
//! host from the run's ChaCha8 stream and dropout masks likewise, so a seed
//! gives the same run even when several trainings share a process (Flex
//! keeps one global generator).
//!
//! Dropout is [`Noise::dropout`], not `recalign_runtime::dropout` (the T5
//! model's), on purpose: its masks take 32 bits per element from the run's
//! one ChaCha8 stream, interleaved with initialisation, shuffles, negatives
//! and cloze masks, so that `train.seed` alone fixes a whole run. The
//! runtime's draws 16 bits per element from a per-model stream that the
//! trainer reseeds before each step, and tells training from evaluation by
//! the backend's autodiff flag. Switching would change every seeded run,
//! the reproduction numbers in `benches/runs.md` among them.

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::{Bool, Int, Tensor, TensorData, backend::Backend};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::batch::Padded;
use crate::config::TransformerConfig;

/// Value written into masked attention scores before the softmax.
const MASKED: f32 = -1e9;

/// Draws initial parameters from a seeded stream.
pub(crate) struct Init<'a, B: Backend> {
    rng: &'a mut ChaCha8Rng,
    device: &'a B::Device,
}

impl<'a, B: Backend> Init<'a, B> {
    pub(crate) fn new(rng: &'a mut ChaCha8Rng, device: &'a B::Device) -> Self {
        Init { rng, device }
    }

    fn param<const D: usize>(&self, values: Vec<f32>, shape: [usize; D]) -> Param<Tensor<B, D>> {
        Param::from_tensor(Tensor::from_data(
            TensorData::new(values, shape),
            self.device,
        ))
    }

    /// Each element drawn from `distribution`, in row-major order.
    fn sample<const D: usize>(
        &mut self,
        shape: [usize; D],
        distribution: impl Distribution<f32>,
    ) -> Param<Tensor<B, D>> {
        let n = shape.iter().product();
        let values = (0..n).map(|_| distribution.sample(self.rng)).collect();
        self.param(values, shape)
    }

    /// Normal(0, std).
    pub(crate) fn normal<const D: usize>(
        &mut self,
        shape: [usize; D],
        std: f64,
    ) -> Param<Tensor<B, D>> {
        let normal = Normal::new(0.0, std as f32).expect("a positive deviation");
        self.sample(shape, normal)
    }

    /// Uniform(-bound, bound).
    pub(crate) fn uniform<const D: usize>(
        &mut self,
        shape: [usize; D],
        bound: f64,
    ) -> Param<Tensor<B, D>> {
        let bound = bound as f32;
        let uniform = Uniform::new_inclusive(-bound, bound).expect("a finite bound");
        self.sample(shape, uniform)
    }

    /// Xavier (Glorot) normal for a `[rows, cols]` matrix, as
    /// `torch.nn.init.xavier_normal_` (fan_in = cols, fan_out = rows).
    pub(crate) fn xavier_normal(&mut self, shape: [usize; 2]) -> Param<Tensor<B, 2>> {
        let std = (2.0 / (shape[0] + shape[1]) as f64).sqrt();
        self.normal(shape, std)
    }

    /// Xavier (Glorot) uniform, as `torch.nn.init.xavier_uniform_`.
    pub(crate) fn xavier_uniform(&mut self, shape: [usize; 2]) -> Param<Tensor<B, 2>> {
        let bound = (6.0 / (shape[0] + shape[1]) as f64).sqrt();
        self.uniform(shape, bound)
    }

    /// A constant.
    pub(crate) fn constant<const D: usize>(
        &mut self,
        shape: [usize; D],
        value: f32,
    ) -> Param<Tensor<B, D>> {
        self.param(vec![value; shape.iter().product()], shape)
    }
}

/// Dropout masks from the run's stream while training; nothing at
/// evaluation.
pub(crate) struct Noise<'a>(Option<&'a mut ChaCha8Rng>);

impl<'a> Noise<'a> {
    /// Training: masks are drawn from `rng`.
    pub(crate) fn train(rng: &'a mut ChaCha8Rng) -> Self {
        Noise(Some(rng))
    }

    /// Evaluation: dropout is the identity.
    pub(crate) fn off() -> Self {
        Noise(None)
    }

    /// Inverted dropout with drop probability `p`.
    pub(crate) fn dropout<B: Backend, const D: usize>(
        &mut self,
        x: Tensor<B, D>,
        p: f64,
    ) -> Tensor<B, D> {
        let Some(rng) = self.0.as_deref_mut() else {
            return x;
        };
        if p <= 0.0 {
            return x;
        }
        let shape = x.dims();
        let n: usize = shape.iter().product();
        let keep = (1.0 / (1.0 - p)) as f32;
        let threshold = (p * f64::from(u32::MAX)) as u32;
        let mask: Vec<f32> = (0..n)
            .map(|_| {
                if rng.random::<u32>() > threshold {
                    keep
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::<B, D>::from_data(TensorData::new(mask, shape), &x.device());
        x * mask
    }

    /// The stream, while training.
    pub(crate) fn rng(&mut self) -> Option<&mut ChaCha8Rng> {
        self.0.as_deref_mut()
    }
}

/// `x · Wᵀ + b` with `W` in `[out, in]` layout.
#[derive(Module, Debug)]
pub(crate) struct Linear<B: Backend> {
    weight: Param<Tensor<B, 2>>,
    bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> Linear<B> {
    /// Weights Normal(0, std), bias 0 (RecBole's `_init_weights`).
    pub(crate) fn normal(init: &mut Init<'_, B>, input: usize, output: usize, std: f64) -> Self {
        Linear {
            weight: init.normal([output, input], std),
            bias: init.constant([output], 0.0),
        }
    }

    /// PyTorch's default `nn.Linear` initialisation: weights and bias
    /// Uniform(±1/√in).
    pub(crate) fn torch_default(init: &mut Init<'_, B>, input: usize, output: usize) -> Self {
        let bound = 1.0 / (input as f64).sqrt();
        Linear {
            weight: init.uniform([output, input], bound),
            bias: init.uniform([output], bound),
        }
    }

    /// Applies the layer to `[rows, in]`.
    pub(crate) fn forward2(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        x.matmul(self.weight.val().transpose()) + self.bias.val().unsqueeze::<2>()
    }

    /// Applies the layer to `[batch, len, in]`.
    pub(crate) fn forward3(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [batch, len, width] = x.dims();
        let out = self.forward2(x.reshape([batch * len, width]));
        let width = out.dims()[1];
        out.reshape([batch, len, width])
    }
}

/// Layer norm over the last dimension with a learned scale and shift.
#[derive(Module, Debug)]
pub(crate) struct LayerNorm<B: Backend> {
    gamma: Param<Tensor<B, 1>>,
    beta: Param<Tensor<B, 1>>,
    #[module(skip)]
    eps: f64,
}

impl<B: Backend> LayerNorm<B> {
    pub(crate) fn new(init: &mut Init<'_, B>, width: usize, eps: f64) -> Self {
        LayerNorm {
            gamma: init.constant([width], 1.0),
            beta: init.constant([width], 0.0),
            eps,
        }
    }

    pub(crate) fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let last = D - 1;
        let mean = x.clone().mean_dim(last);
        let centred = x - mean;
        let variance = centred.clone().square().mean_dim(last);
        let normed = centred / variance.add_scalar(self.eps).sqrt();
        normed * self.gamma.val().unsqueeze::<D>() + self.beta.val().unsqueeze::<D>()
    }
}

/// How RecBole closes each sublayer: dropout on its output, the residual,
/// then layer norm.
#[derive(Module, Debug)]
pub(crate) struct AddNorm<B: Backend> {
    norm: LayerNorm<B>,
    #[module(skip)]
    dropout: f64,
}

impl<B: Backend> AddNorm<B> {
    fn new(init: &mut Init<'_, B>, config: &TransformerConfig) -> Self {
        AddNorm {
            norm: LayerNorm::new(init, config.hidden, config.layer_norm_eps),
            dropout: config.dropout,
        }
    }

    /// `norm(dropout(out) + x)` for the sublayer output `out` of `x`.
    fn forward(&self, out: Tensor<B, 3>, x: Tensor<B, 3>, noise: &mut Noise<'_>) -> Tensor<B, 3> {
        self.norm.forward(noise.dropout(out, self.dropout) + x)
    }
}

/// Multi-head self-attention followed by its output projection, dropout,
/// residual and layer norm (RecBole's `MultiHeadAttention`).
#[derive(Module, Debug)]
pub(crate) struct Attention<B: Backend> {
    query: Linear<B>,
    key: Linear<B>,
    value: Linear<B>,
    output: Linear<B>,
    add_norm: AddNorm<B>,
    #[module(skip)]
    heads: usize,
    #[module(skip)]
    attention_dropout: f64,
}

impl<B: Backend> Attention<B> {
    fn new(init: &mut Init<'_, B>, config: &TransformerConfig) -> Self {
        let h = config.hidden;
        Attention {
            query: Linear::normal(init, h, h, 0.02),
            key: Linear::normal(init, h, h, 0.02),
            value: Linear::normal(init, h, h, 0.02),
            output: Linear::normal(init, h, h, 0.02),
            add_norm: AddNorm::new(init, config),
            heads: config.heads,
            attention_dropout: config.attention_dropout,
        }
    }

    fn split(&self, x: Tensor<B, 3>) -> Tensor<B, 4> {
        let [batch, len, width] = x.dims();
        x.reshape([batch, len, self.heads, width / self.heads])
            .swap_dims(1, 2)
    }

    /// `mask` is `[batch | 1, 1, len, len]`, true where a query may not see
    /// a key.
    fn forward(
        &self,
        x: Tensor<B, 3>,
        mask: &Tensor<B, 4, Bool>,
        noise: &mut Noise<'_>,
    ) -> Tensor<B, 3> {
        let [batch, len, width] = x.dims();
        let q = self.split(self.query.forward3(x.clone()));
        let k = self.split(self.key.forward3(x.clone()));
        let v = self.split(self.value.forward3(x.clone()));
        let scale = 1.0 / ((width / self.heads) as f64).sqrt();
        let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(scale);
        let shape = scores.dims();
        let scores = scores.mask_fill(mask.clone().expand(shape), MASKED);
        let weights = noise.dropout(activation::softmax(scores, 3), self.attention_dropout);
        let context = weights
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, len, width]);
        self.add_norm
            .forward(self.output.forward3(context), x, noise)
    }
}

/// Position-wise feed-forward with GELU, dropout, residual and layer norm
/// (RecBole's `FeedForward`).
#[derive(Module, Debug)]
pub(crate) struct FeedForward<B: Backend> {
    up: Linear<B>,
    down: Linear<B>,
    add_norm: AddNorm<B>,
}

impl<B: Backend> FeedForward<B> {
    fn new(init: &mut Init<'_, B>, config: &TransformerConfig) -> Self {
        FeedForward {
            up: Linear::normal(init, config.hidden, config.inner, 0.02),
            down: Linear::normal(init, config.inner, config.hidden, 0.02),
            add_norm: AddNorm::new(init, config),
        }
    }

    fn forward(&self, x: Tensor<B, 3>, noise: &mut Noise<'_>) -> Tensor<B, 3> {
        let hidden = activation::gelu(self.up.forward3(x.clone()));
        self.add_norm.forward(self.down.forward3(hidden), x, noise)
    }
}

/// One post-LN transformer block.
#[derive(Module, Debug)]
pub(crate) struct Block<B: Backend> {
    attention: Attention<B>,
    feed_forward: FeedForward<B>,
}

/// A stack of blocks.
#[derive(Module, Debug)]
pub(crate) struct Transformer<B: Backend> {
    blocks: Vec<Block<B>>,
}

impl<B: Backend> Transformer<B> {
    pub(crate) fn new(init: &mut Init<'_, B>, config: &TransformerConfig) -> Self {
        let blocks = (0..config.layers)
            .map(|_| Block {
                attention: Attention::new(init, config),
                feed_forward: FeedForward::new(init, config),
            })
            .collect();
        Transformer { blocks }
    }

    pub(crate) fn forward(
        &self,
        mut x: Tensor<B, 3>,
        mask: &Tensor<B, 4, Bool>,
        noise: &mut Noise<'_>,
    ) -> Tensor<B, 3> {
        for block in &self.blocks {
            x = block.attention.forward(x, mask, noise);
            x = block.feed_forward.forward(x, noise);
        }
        x
    }
}

/// The trunk of SASRec and BERT4Rec: token plus learned position
/// embeddings (Normal(0, 0.02)), layer norm and dropout, then the
/// transformer blocks.
#[derive(Module, Debug)]
pub(crate) struct ItemTransformer<B: Backend> {
    tokens: Param<Tensor<B, 2>>,
    positions: Param<Tensor<B, 2>>,
    norm: LayerNorm<B>,
    transformer: Transformer<B>,
    #[module(skip)]
    dropout: f64,
}

impl<B: Backend> ItemTransformer<B> {
    /// An embedding row for each of `tokens` tokens (padding, the items and
    /// any special token) and each of `config.max_len` positions.
    pub(crate) fn new(init: &mut Init<'_, B>, config: &TransformerConfig, tokens: usize) -> Self {
        ItemTransformer {
            tokens: init.normal([tokens, config.hidden], 0.02),
            positions: init.normal([config.max_len, config.hidden], 0.02),
            norm: LayerNorm::new(init, config.hidden, config.layer_norm_eps),
            transformer: Transformer::new(init, config),
            dropout: config.dropout,
        }
    }

    /// The token embeddings `[tokens, hidden]`, which also score the outputs.
    pub(crate) fn embeddings(&self) -> Tensor<B, 2> {
        self.tokens.val()
    }

    /// Outputs `[batch · len, hidden]` for every position; `mask` as
    /// [`Transformer::forward`].
    pub(crate) fn forward(
        &self,
        inputs: &Padded,
        mask: &Tensor<B, 4, Bool>,
        noise: &mut Noise<'_>,
        device: &B::Device,
    ) -> Tensor<B, 2> {
        let (batch, len) = (inputs.batch, inputs.len);
        let x = burn::tensor::module::embedding(self.tokens.val(), inputs.tensor(device));
        let positions = Tensor::<B, 1, Int>::arange(0..len as i64, device)
            .reshape([1, len])
            .repeat_dim(0, batch);
        let x = x + burn::tensor::module::embedding(self.positions.val(), positions);
        let x = noise.dropout(self.norm.forward(x), self.dropout);
        let out = self.transformer.forward(x, mask, noise);
        let width = out.dims()[2];
        out.reshape([batch * len, width])
    }
}

/// Causal mask `[1, 1, len, len]`: true above the diagonal.
pub(crate) fn causal_mask<B: Backend>(len: usize, device: &B::Device) -> Tensor<B, 4, Bool> {
    let values: Vec<bool> = (0..len)
        .flat_map(|q| (0..len).map(move |k| k > q))
        .collect();
    Tensor::<B, 2, Bool>::from_data(TensorData::new(values, [len, len]), device).unsqueeze::<4>()
}

/// Padding mask `[batch, 1, 1, len]`: true at padded keys (token 0).
pub(crate) fn padding_mask<B: Backend>(
    tokens: &[i64],
    batch: usize,
    len: usize,
    device: &B::Device,
) -> Tensor<B, 4, Bool> {
    let values: Vec<bool> = tokens.iter().map(|&t| t == 0).collect();
    Tensor::<B, 2, Bool>::from_data(TensorData::new(values, [batch, len]), device)
        .reshape([batch, 1, 1, len])
}

/// Scores `[rows, items]`: each output row's dot product with every item
/// embedding, the padding row (token 0) of `embeddings` left out, so column
/// `i` is `ItemIdx(i)`.
pub(crate) fn score_items<B: Backend>(out: Tensor<B, 2>, embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
    let rows = embeddings.dims()[0];
    out.matmul(embeddings.narrow(0, 1, rows - 1).transpose())
}

/// Mean softmax cross-entropy of `logits` `[rows, classes]` against class
/// indices `targets`.
pub(crate) fn cross_entropy<B: Backend>(logits: Tensor<B, 2>, targets: &[i64]) -> Tensor<B, 1> {
    let rows = targets.len();
    let device = logits.device();
    let targets =
        Tensor::<B, 2, Int>::from_data(TensorData::new(targets.to_vec(), [rows, 1]), &device);
    activation::log_softmax(logits, 1)
        .gather(1, targets)
        .mean()
        .neg()
}

/// A uniform item index not in `seen` (sorted), after a bounded number of
/// tries (a user who saw nearly everything gets any item).
pub(crate) fn sample_negative(rng: &mut ChaCha8Rng, items: usize, seen: &[u32]) -> u32 {
    let mut item = rng.random_range(0..items as u32);
    for _ in 0..100 {
        if seen.binary_search(&item).is_err() {
            break;
        }
        item = rng.random_range(0..items as u32);
    }
    item
}
