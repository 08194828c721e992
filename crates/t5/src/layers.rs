//! The small pieces every T5 layer shares: the linear map over weights held
//! as `[in, out]`, HF's RMS norm and boolean masks turned into additive
//! attention biases. Kept apart so attention, feed-forward and the model
//! head use one definition of each.

use burn::module::{Module, Param};
use burn::tensor::{Bool, Tensor, backend::Backend};

use crate::config::T5Config;
use crate::error::Result;
use crate::weights::{Init, ParamBuilder};

/// Value added to masked attention scores before the softmax (HF's
/// `torch.finfo(float32).min`).
const MASKED: f32 = f32::MIN;

/// A boolean mask (true = hidden) as an additive bias.
pub(crate) fn additive<B: Backend, const D: usize>(hidden: Tensor<B, D, Bool>) -> Tensor<B, D> {
    let zeros = Tensor::zeros(hidden.shape(), &hidden.device());
    zeros.mask_fill(hidden, MASKED)
}

/// `x · W` for a linear weight held as `[in, out]` (HF's `[out, in]`
/// transposed once at load, so no step pays for a transpose), as one 2-D GEMM.
pub(crate) fn linear<B: Backend>(x: Tensor<B, 3>, weight: &Param<Tensor<B, 2>>) -> Tensor<B, 3> {
    let [batch, len, width] = x.dims();
    let weight = weight.val();
    let out = weight.dims()[1];
    x.reshape([batch * len, width])
        .matmul(weight)
        .reshape([batch, len, out])
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
