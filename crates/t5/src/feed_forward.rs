//! T5's feed-forward sublayer (HF's `DenseReluDense`): `wo(act(wi x))` in
//! the original T5, `wo(act(wi_0 x) · wi_1 x)` in the gated variants of
//! T5 v1.1 and FLAN-T5, with dropout on the hidden activations as in HF.

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::{Tensor, backend::Backend};

use crate::config::{Activation, FeedForwardKind, T5Config};
use crate::dropout::Dropout;
use crate::error::Result;
use crate::layers::Matmul;
use crate::weights::{Init, ParamBuilder};

/// The feed-forward block: `wo(act(wi x))` or, gated, `wo(act(wi_0 x) · wi_1 x)`.
#[derive(Module, Debug)]
pub struct FeedForward<B: Backend> {
    wi: Vec<Param<Tensor<B, 2>>>,
    wo: Param<Tensor<B, 2>>,
    #[module(skip)]
    dropout: Dropout,
    #[module(skip)]
    activation: ActivationFn,
    #[module(skip)]
    matmul: Matmul,
}

/// The activation as a plain value the module derive skips over.
#[derive(Debug, Clone, Copy)]
enum ActivationFn {
    Relu,
    Gelu,
    GeluTanh,
    Silu,
}

impl ActivationFn {
    fn apply<B: Backend>(self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        match self {
            Self::Relu => activation::relu(x),
            Self::Gelu => activation::gelu(x),
            Self::GeluTanh => {
                // HF's `gelu_new`, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³),
                // computed as x·sigmoid(2u): the same function, and one fused
                // kernel instead of tanh (which costs an expm1 per element).
                let cube = x.clone().square() * x.clone();
                let u2 = (x.clone() + cube.mul_scalar(0.044715))
                    .mul_scalar(2.0 * (2.0 / std::f64::consts::PI).sqrt());
                x * activation::sigmoid(u2)
            }
            Self::Silu => activation::silu(x),
        }
    }
}

impl<B: Backend> FeedForward<B> {
    pub(crate) fn build(
        builder: &mut ParamBuilder<B>,
        name: &str,
        config: &T5Config,
        kind: FeedForwardKind,
    ) -> Result<Self> {
        let (d, ff) = (config.d_model, config.d_ff);
        let std_in = Init::Normal((d as f64).powf(-0.5));
        let wi = if kind.gated {
            vec![
                builder.linear(format!("{name}.wi_0.weight"), [ff, d], std_in)?,
                builder.linear(format!("{name}.wi_1.weight"), [ff, d], std_in)?,
            ]
        } else {
            vec![builder.linear(format!("{name}.wi.weight"), [ff, d], std_in)?]
        };
        let wo = builder.linear(
            format!("{name}.wo.weight"),
            [d, ff],
            Init::Normal((ff as f64).powf(-0.5)),
        )?;
        let activation = match kind.activation {
            Activation::Relu => ActivationFn::Relu,
            Activation::Gelu => ActivationFn::Gelu,
            Activation::GeluTanh => ActivationFn::GeluTanh,
            Activation::Silu => ActivationFn::Silu,
        };
        Ok(Self {
            wi,
            wo,
            dropout: Dropout::new(config.dropout_rate, builder.dropout_rng()),
            activation,
            matmul: builder.matmul().clone(),
        })
    }

    /// The sublayer on the normed input `x`.
    pub(crate) fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let _span = tracing::trace_span!("feed_forward").entered();
        let linear = |x, weight| self.matmul.linear(x, weight);
        let hidden = self.activation.apply(linear(x.clone(), &self.wi[0]));
        let hidden = match self.wi.get(1) {
            Some(gate) => hidden * linear(x, gate),
            None => hidden,
        };
        linear(self.dropout.forward(hidden), &self.wo)
    }
}
