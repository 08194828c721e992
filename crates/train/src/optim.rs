//! Optimizers over the model's parameters, with state saved under the
//! parameters' HF names so a run resumes exactly.
//!
//! - **AdamW**, as `torch.optim.AdamW` (decoupled weight decay, bias
//!   correction).
//! - **Adafactor**, as HF's `transformers.optimization.Adafactor` with an
//!   explicit learning rate (T5's optimizer): factored second moments for
//!   matrices, update clipping at RMS 1, no first moment, optional
//!   `scale_parameter`.
//!
//! Gradients are clipped by their global L2 norm across all parameters
//! (as `torch.nn.utils.clip_grad_norm_`), not tensor by tensor.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which optimizer, with its settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "name", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// `torch.optim.AdamW`.
    Adamw {
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// Second-moment decay.
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// Denominator epsilon.
        #[serde(default = "default_adam_eps")]
        eps: f64,
        /// Decoupled weight decay.
        #[serde(default = "default_weight_decay")]
        weight_decay: f64,
    },
    /// HF's Adafactor with an explicit learning rate.
    Adafactor {
        /// Multiply the learning rate by each parameter's RMS (at least 1e-3).
        #[serde(default)]
        scale_parameter: bool,
        /// Second-moment decay exponent: `1 - t^decay_rate`.
        #[serde(default = "default_decay_rate")]
        decay_rate: f64,
        /// Updates are scaled down to this RMS.
        #[serde(default = "default_clip_threshold")]
        clip_threshold: f64,
        /// Weight decay, scaled by the learning rate.
        #[serde(default)]
        weight_decay: f64,
    },
}

fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_adam_eps() -> f64 {
    1e-8
}
fn default_weight_decay() -> f64 {
    0.01
}
fn default_decay_rate() -> f64 {
    -0.8
}
fn default_clip_threshold() -> f64 {
    1.0
}

impl OptimizerConfig {
    /// AdamW with torch's defaults and weight decay 0.01.
    pub fn adamw() -> Self {
        Self::Adamw {
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_adam_eps(),
            weight_decay: default_weight_decay(),
        }
    }

    /// Adafactor as T5 fine-tuning uses it: constant learning rate, no
    /// parameter scaling.
    pub fn adafactor() -> Self {
        Self::Adafactor {
            scale_parameter: false,
            decay_rate: default_decay_rate(),
            clip_threshold: default_clip_threshold(),
            weight_decay: 0.0,
        }
    }

    /// The optimizer's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Adamw { .. } => "adamw",
            Self::Adafactor { .. } => "adafactor",
        }
    }

    /// Checks ranges, naming the field.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let check = |field: &str, ok: bool, value: f64| {
            if ok {
                Ok(())
            } else {
                Err(format!("optimizer.{field}: {value} is out of range"))
            }
        };
        match *self {
            Self::Adamw {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                check("beta1", (0.0..1.0).contains(&beta1), beta1)?;
                check("beta2", (0.0..1.0).contains(&beta2), beta2)?;
                check("eps", eps > 0.0, eps)?;
                check("weight_decay", weight_decay >= 0.0, weight_decay)
            }
            Self::Adafactor {
                decay_rate,
                clip_threshold,
                weight_decay,
                ..
            } => {
                check("decay_rate", decay_rate < 0.0, decay_rate)?;
                check("clip_threshold", clip_threshold > 0.0, clip_threshold)?;
                check("weight_decay", weight_decay >= 0.0, weight_decay)
            }
        }
    }

    /// Names of the state tensors kept per parameter.
    fn slots(&self, factored: bool) -> &'static [&'static str] {
        match (self, factored) {
            (Self::Adamw { .. }, _) => &["exp_avg", "exp_avg_sq"],
            (Self::Adafactor { .. }, true) => &["exp_avg_sq_row", "exp_avg_sq_col"],
            (Self::Adafactor { .. }, false) => &["exp_avg_sq"],
        }
    }
}

/// Parameters are handled as matrices: `[d₀·…·dₙ₋₂, dₙ₋₁]` (a vector is one
/// row). Adafactor factors only parameters with two or more dimensions.
fn matrix_shape(dims: &[usize]) -> [usize; 2] {
    let cols = *dims.last().unwrap_or(&1);
    let rows = dims[..dims.len().saturating_sub(1)].iter().product();
    [rows, cols]
}

/// An optimizer with its per-parameter state.
pub struct Optimizer<B: AutodiffBackend> {
    config: OptimizerConfig,
    steps: u64,
    state: HashMap<ParamId, Vec<Tensor<B::InnerBackend, 2>>>,
}

impl<B: AutodiffBackend> Optimizer<B> {
    /// A fresh optimizer.
    pub fn new(config: OptimizerConfig) -> Self {
        Self {
            config,
            steps: 0,
            state: HashMap::new(),
        }
    }

    /// Number of updates applied so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Global L2 norm of all gradients of `model`.
    pub fn grad_norm<M: AutodiffModule<B>>(model: &M, grads: &GradientsParams) -> f64 {
        let mut norm = SquaredNorm::<B> { grads, total: None };
        model.visit(&mut norm);
        norm.total
            .map(|t| t.sqrt().into_scalar().elem::<f64>())
            .unwrap_or(0.0)
    }

    /// Applies one update with learning rate `lr`, gradients multiplied by
    /// `grad_scale` (global clipping and accumulation averaging).
    pub fn step<M: AutodiffModule<B>>(
        &mut self,
        model: M,
        grads: GradientsParams,
        lr: f64,
        grad_scale: f64,
    ) -> M {
        self.steps += 1;
        let mut mapper = Update {
            config: self.config,
            step: self.steps,
            lr,
            grad_scale,
            grads,
            state: &mut self.state,
        };
        model.map(&mut mapper)
    }

    /// The state as named tensors (`{param}.{slot}`) for saving; `ids[i]`
    /// is the parameter named `names[i]`. Files are keyed by name, never by
    /// id: ids are unique to one model in one process.
    pub fn named_state(&self, ids: &[ParamId], names: &[String]) -> Vec<(String, TensorData)> {
        let by_id: HashMap<ParamId, &String> = ids.iter().copied().zip(names).collect();
        let mut out = Vec::new();
        for (id, slots) in &self.state {
            let Some(name) = by_id.get(id) else {
                debug_assert!(false, "optimizer state for a parameter of another model");
                continue;
            };
            let factored =
                slots.len() == 2 && matches!(self.config, OptimizerConfig::Adafactor { .. });
            for (slot, tensor) in self.config.slots(factored).iter().zip(slots) {
                out.push((format!("{name}.{slot}"), tensor.to_data().convert::<f32>()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Restores the state saved by [`named_state`](Self::named_state) for
    /// the parameters `ids`, named `names`.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        config: OptimizerConfig,
        steps: u64,
        tensors: BTreeMap<String, TensorData>,
        ids: &[ParamId],
        names: &[String],
        shapes: &[Vec<usize>],
        device: &burn::tensor::Device<B::InnerBackend>,
        origin: &Path,
    ) -> Result<Self> {
        let mut tensors = tensors;
        let mut state = HashMap::new();
        for ((&id, name), dims) in ids.iter().zip(names).zip(shapes) {
            let factored = dims.len() >= 2 && matches!(config, OptimizerConfig::Adafactor { .. });
            let slots: Vec<Option<TensorData>> = config
                .slots(factored)
                .iter()
                .map(|slot| tensors.remove(&format!("{name}.{slot}")))
                .collect();
            if slots.iter().all(Option::is_none) {
                continue;
            }
            let slots = slots
                .into_iter()
                .zip(config.slots(factored))
                .map(|(data, slot)| {
                    let data = data.ok_or_else(|| Error::Checkpoint {
                        path: origin.to_owned(),
                        message: format!("optimizer state `{name}.{slot}` is missing"),
                    })?;
                    let shape = data.shape.to_vec();
                    if shape.len() != 2 {
                        return Err(Error::Checkpoint {
                            path: origin.to_owned(),
                            message: format!("optimizer state `{name}.{slot}` has shape {shape:?}"),
                        });
                    }
                    Ok(Tensor::from_data(data, device))
                })
                .collect::<Result<Vec<_>>>()?;
            state.insert(id, slots);
        }
        if let Some(name) = tensors.keys().next() {
            return Err(Error::Checkpoint {
                path: origin.to_owned(),
                message: format!("optimizer state `{name}` matches no parameter"),
            });
        }
        Ok(Self {
            config,
            steps,
            state,
        })
    }
}

struct SquaredNorm<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    total: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SquaredNorm<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let squares = grad.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + squares,
                None => squares,
            });
        }
    }
}

struct Update<'a, B: AutodiffBackend> {
    config: OptimizerConfig,
    step: u64,
    lr: f64,
    grad_scale: f64,
    grads: GradientsParams,
    state: &'a mut HashMap<ParamId, Vec<Tensor<B::InnerBackend, 2>>>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Update<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<B::InnerBackend, D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let dims = tensor.dims();
        let shape = matrix_shape(&dims);
        let value = tensor.inner().reshape(shape);
        let grad = grad.reshape(shape).mul_scalar(self.grad_scale);
        let slots = self.state.remove(&id);
        let (value, slots) = match self.config {
            OptimizerConfig::Adamw {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => adamw(
                value,
                grad,
                slots,
                self.step,
                self.lr,
                beta1,
                beta2,
                eps,
                weight_decay,
            ),
            OptimizerConfig::Adafactor {
                scale_parameter,
                decay_rate,
                clip_threshold,
                weight_decay,
            } => adafactor(
                value,
                grad,
                slots,
                D >= 2,
                AdafactorStep {
                    step: self.step,
                    lr: self.lr,
                    scale_parameter,
                    decay_rate,
                    clip_threshold,
                    weight_decay,
                },
            ),
        };
        self.state.insert(id, slots);
        let value = Tensor::from_inner(value.reshape(dims)).require_grad();
        Param::from_mapped_value(id, value, mapper)
    }
}

#[allow(clippy::too_many_arguments)]
fn adamw<B: Backend>(
    value: Tensor<B, 2>,
    grad: Tensor<B, 2>,
    slots: Option<Vec<Tensor<B, 2>>>,
    step: u64,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
) -> (Tensor<B, 2>, Vec<Tensor<B, 2>>) {
    let (m, v) = match slots {
        Some(mut slots) if slots.len() == 2 => {
            let v = slots.pop().expect("two slots");
            (slots.pop().expect("two slots"), v)
        }
        _ => (grad.zeros_like(), grad.zeros_like()),
    };
    let m = m.mul_scalar(beta1) + grad.clone().mul_scalar(1.0 - beta1);
    let v = v.mul_scalar(beta2) + grad.square().mul_scalar(1.0 - beta2);
    let t = step as i32;
    let bias1 = 1.0 - beta1.powi(t);
    let bias2 = 1.0 - beta2.powi(t);
    let denom = v.clone().sqrt().div_scalar(bias2.sqrt()).add_scalar(eps);
    let value =
        value.mul_scalar(1.0 - lr * weight_decay) - (m.clone() / denom).mul_scalar(lr / bias1);
    (value, vec![m, v])
}

struct AdafactorStep {
    step: u64,
    lr: f64,
    scale_parameter: bool,
    decay_rate: f64,
    clip_threshold: f64,
    weight_decay: f64,
}

/// Root mean square of a matrix, as a `[1, 1]` tensor.
fn rms<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    x.square().mean().sqrt().unsqueeze::<2>()
}

fn adafactor<B: Backend>(
    value: Tensor<B, 2>,
    grad: Tensor<B, 2>,
    slots: Option<Vec<Tensor<B, 2>>>,
    factored: bool,
    s: AdafactorStep,
) -> (Tensor<B, 2>, Vec<Tensor<B, 2>>) {
    const EPS1: f64 = 1e-30;
    const EPS2: f64 = 1e-3;
    let [rows, cols] = value.dims();
    let device = value.device();
    let rho = 1.0 - (s.step as f64).powf(s.decay_rate);
    let squared = grad.clone().square().add_scalar(EPS1);
    let (update, slots) = if factored {
        let (row, col) = match slots {
            Some(mut slots) if slots.len() == 2 => {
                let col = slots.pop().expect("two slots");
                (slots.pop().expect("two slots"), col)
            }
            _ => (
                Tensor::zeros([rows, 1], &device),
                Tensor::zeros([1, cols], &device),
            ),
        };
        let row = row.mul_scalar(rho) + squared.clone().mean_dim(1).mul_scalar(1.0 - rho);
        let col = col.mul_scalar(rho) + squared.mean_dim(0).mul_scalar(1.0 - rho);
        let row_factor = (row.clone() / row.clone().mean().unsqueeze::<2>())
            .sqrt()
            .recip();
        let col_factor = col.clone().sqrt().recip();
        (row_factor * col_factor * grad, vec![row, col])
    } else {
        let v = match slots {
            Some(mut slots) if slots.len() == 1 => slots.pop().expect("one slot"),
            _ => Tensor::zeros([rows, cols], &device),
        };
        let v = v.mul_scalar(rho) + squared.mul_scalar(1.0 - rho);
        (v.clone().sqrt().recip() * grad, vec![v])
    };
    let update = update.clone() / rms(update).div_scalar(s.clip_threshold).clamp_min(1.0);
    let lr = if s.scale_parameter {
        rms(value.clone()).clamp_min(EPS2).mul_scalar(s.lr)
    } else {
        Tensor::full([1, 1], s.lr, &device)
    };
    let mut value = value;
    if s.weight_decay > 0.0 {
        value = value.clone() - value * lr.clone().mul_scalar(s.weight_decay);
    }
    (value - update * lr, slots)
}
