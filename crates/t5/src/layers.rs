//! The small pieces every T5 layer shares: the matrix products (the linear
//! map over weights held as `[in, out]`, in f32 or bf16), HF's RMS norm and
//! boolean masks turned into additive attention biases. Kept apart so
//! attention, feed-forward and the model head use one definition of each.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::module::{Module, Param};
use burn::tensor::{Bool, FloatDType, Int, Tensor, backend::Backend};

use crate::config::T5Config;
use crate::error::Result;
use crate::weights::{Init, ParamBuilder};

/// Value added to masked attention scores before the softmax. HF adds
/// `torch.finfo(float32).min`; either way the masked weight comes out of
/// the softmax as exactly 0, but `exp` of a finite value below about −104
/// takes libm's slow underflow path (it sets `errno`), which cost 8-9 % of
/// retrieval at 16 users per batch, while `exp(−∞)` returns 0 at once.
const MASKED: f32 = f32::NEG_INFINITY;

/// What a row with every position masked gets instead of [`MASKED`]: HF's
/// finite lowest value, so its softmax is uniform, as in HF, not NaN.
const ALL_MASKED: f32 = f32::MIN;

/// A boolean mask (true = hidden) as an additive bias. Every row of a mask
/// passed here must keep at least one position visible (a causal mask
/// does); padding masks go through [`padding_additive`].
pub(crate) fn additive<B: Backend, const D: usize>(hidden: Tensor<B, D, Bool>) -> Tensor<B, D> {
    let zeros = Tensor::zeros(hidden.shape(), &hidden.device());
    zeros.mask_fill(hidden, MASKED)
}

/// A padding mask `[batch, len]` (1 = a token, 0 = padding) as an additive
/// bias over the keys: [`MASKED`] at padding, and [`ALL_MASKED`] across a
/// row that is all padding.
pub(crate) fn padding_additive<B: Backend>(attention_mask: &Tensor<B, 2, Int>) -> Tensor<B, 2> {
    let [batch, len] = attention_mask.dims();
    let bias = additive(attention_mask.clone().equal_elem(0));
    let empty = attention_mask.clone().max_dim(1).equal_elem(0);
    bias.mask_fill(empty.expand([batch, len]), ALL_MASKED)
}

/// The precision of a model's matrix products.
///
/// `Bf16` is mixed precision as PyTorch's autocast does it on a GPU: the
/// weights stay f32 (the optimiser's master copy), and the operands of the
/// linear layers, the attention products and the head are cast to bf16 for
/// the product, whose result is cast back to f32. Softmax, RMS norm, the
/// residual stream and the loss stay f32. The casts are differentiable, so
/// gradients flow back to f32 weights. On a CPU it only costs (burn's CPU
/// backend multiplies bf16 by way of f32); it exists there to check the
/// numerics of the GPU path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Everything in f32.
    #[default]
    F32,
    /// bf16 matrix products, f32 elsewhere.
    Bf16,
}

impl Precision {
    /// Whether this is the default, f32 (for `skip_serializing_if`).
    pub fn is_f32(&self) -> bool {
        *self == Self::F32
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "f32" => Ok(Self::F32),
            "bf16" => Ok(Self::Bf16),
            other => Err(format!("`{other}` is not f32 or bf16")),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        })
    }
}

/// The matrix products of one model, in the precision set on the model:
/// every layer holds a clone, so setting it once reaches them all.
#[derive(Debug, Clone, Default)]
pub(crate) struct Matmul(Arc<AtomicBool>);

impl Matmul {
    pub(crate) fn set(&self, precision: Precision) {
        self.0
            .store(precision == Precision::Bf16, Ordering::Relaxed);
    }

    pub(crate) fn precision(&self) -> Precision {
        if self.0.load(Ordering::Relaxed) {
            Precision::Bf16
        } else {
            Precision::F32
        }
    }

    /// `a · b`, batched over the leading dimensions.
    pub(crate) fn product<B: Backend, const D: usize>(
        &self,
        a: Tensor<B, D>,
        b: Tensor<B, D>,
    ) -> Tensor<B, D> {
        match self.precision() {
            Precision::F32 => a.matmul(b),
            Precision::Bf16 => a
                .cast(FloatDType::BF16)
                .matmul(b.cast(FloatDType::BF16))
                .cast(FloatDType::F32),
        }
    }

    /// `x · W` for a linear weight held as `[in, out]` (HF's `[out, in]`
    /// transposed once at load, so no step pays for a transpose), as one
    /// 2-D GEMM.
    pub(crate) fn linear<B: Backend>(
        &self,
        x: Tensor<B, 3>,
        weight: &Param<Tensor<B, 2>>,
    ) -> Tensor<B, 3> {
        let [batch, len, width] = x.dims();
        let weight = weight.val();
        let out = weight.dims()[1];
        self.product(x.reshape([batch * len, width]), weight)
            .reshape([batch, len, out])
    }
}

/// RMS norm with a learned scale and no bias or mean subtraction.
#[derive(Module, Debug)]
pub struct RmsNorm<B: Backend> {
    weight: Param<Tensor<B, 1>>,
    #[module(skip)]
    eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    pub(crate) fn build(
        builder: &mut ParamBuilder<B>,
        name: &str,
        config: &T5Config,
    ) -> Result<Self> {
        Ok(Self {
            weight: builder.param(format!("{name}.weight"), [config.d_model], Init::Ones)?,
            eps: config.layer_norm_epsilon,
        })
    }

    pub(crate) fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let variance = x.clone().square().mean_dim(2);
        let x = x / variance.add_scalar(self.eps).sqrt();
        x * self.weight.val().unsqueeze::<3>()
    }
}
