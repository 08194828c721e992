//! Parameters under their Hugging Face names.
//!
//! The model is built through a `ParamBuilder` that hands out each tensor by
//! its HF name: from a `model.safetensors` (checking shape and dtype, and that
//! nothing is left over) or from T5's random initialisation, seeded.
//!
//! Linear weights are held as `[in, out]`, the transpose of the `[out, in]`
//! that HF (PyTorch) stores: `ParamBuilder::linear` transposes them once on
//! load and `named_tensors` transposes them back on save, so files keep
//! HF's layout and names. Other tensors keep HF's shapes.
//!
//! Every parameter gets a fresh, process-unique [`ParamId`], so two models in
//! one process never share optimizer state or gradients by accident. The
//! model records its names and ids in build order, which is also the order
//! in which it visits its parameters: saving pairs tensors with names by
//! that order, and state that must outlive one build (an optimizer's) is
//! keyed by name or position, never by id.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use safetensors::{Dtype, tensor::Metadata};

use crate::dropout::DropoutRng;
use crate::error::{Error, Result};
use crate::layers::Matmul;

/// How a freshly initialised tensor is filled.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Init {
    /// Normal with mean 0 and this standard deviation (times the factor).
    Normal(f64),
    /// All ones (norm weights).
    Ones,
}

/// A `model.safetensors` read into memory, handing out tensors by name.
pub struct Checkpoint {
    path: PathBuf,
    bytes: Vec<u8>,
    data_start: usize,
    metadata: Metadata,
    taken: BTreeSet<String>,
}

impl Checkpoint {
    /// Reads a safetensors file and parses its header.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(recalign_runtime::IoError::at(path))?;
        let (header_len, metadata) =
            safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| Error::Safetensors {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self {
            path: path.to_owned(),
            bytes,
            data_start: 8 + header_len,
            metadata,
            taken: BTreeSet::new(),
        })
    }

    /// The file this checkpoint was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file holds a tensor of this name.
    pub fn contains(&self, name: &str) -> bool {
        self.metadata.info(name).is_some()
    }

    /// Every tensor name in the file.
    pub fn names(&self) -> BTreeSet<String> {
        self.metadata.tensors().into_keys().collect()
    }

    /// The tensor `name` as f32 values, checked against `shape`.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let info = self
            .metadata
            .info(name)
            .ok_or_else(|| Error::MissingTensor {
                path: self.path.clone(),
                name: name.to_owned(),
                expected: shape.to_vec(),
            })?;
        if info.shape != shape {
            return Err(Error::TensorShape {
                path: self.path.clone(),
                name: name.to_owned(),
                found: info.shape.clone(),
                expected: shape.to_vec(),
            });
        }
        let (start, end) = info.data_offsets;
        let raw = &self.bytes[self.data_start + start..self.data_start + end];
        let values = match info.dtype {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(Error::TensorDtype {
                    path: self.path.clone(),
                    name: name.to_owned(),
                    dtype: format!("{other:?}"),
                });
            }
        };
        self.taken.insert(name.to_owned());
        Ok(values)
    }

    /// Every tensor in the file, by name, as f32.
    pub fn take_all(&mut self) -> Result<BTreeMap<String, TensorData>> {
        self.names()
            .into_iter()
            .map(|name| {
                let shape = self.metadata.info(&name).expect("listed").shape.clone();
                let values = self.take(&name, &shape)?;
                Ok((name, TensorData::new(values, shape)))
            })
            .collect()
    }

    /// Marks tensors as accounted for without reading them (aliases).
    pub(crate) fn skip(&mut self, name: &str) {
        if self.contains(name) {
            self.taken.insert(name.to_owned());
        }
    }

    /// Fails if the file holds tensors nothing asked for.
    pub(crate) fn finish(&self) -> Result<()> {
        let left: Vec<String> = self
            .names()
            .into_iter()
            .filter(|name| !self.taken.contains(name))
            .collect();
        if left.is_empty() {
            Ok(())
        } else {
            Err(Error::UnexpectedTensors {
                path: self.path.clone(),
                names: left.into_iter().take(10).collect(),
            })
        }
    }
}

enum Source<'a> {
    Random { rng: Box<ChaCha8Rng>, factor: f64 },
    Checkpoint(&'a mut Checkpoint),
}

/// Builds parameters by HF name, from a checkpoint or at random.
pub(crate) struct ParamBuilder<'a, B: Backend> {
    device: B::Device,
    source: Source<'a>,
    layout: Layout,
    dropout_rng: DropoutRng,
    matmul: Matmul,
}

/// The parameters a builder handed out, in build order.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// HF names.
    pub names: Vec<String>,
    /// Process-unique ids.
    pub ids: Vec<ParamId>,
    /// Whether each is a linear weight held as `[in, out]`.
    pub transposed: Vec<bool>,
}

impl<'a, B: Backend> ParamBuilder<'a, B> {
    /// T5's initialisation, seeded, with HF's `initializer_factor`.
    pub fn random(device: &B::Device, seed: u64, factor: f64) -> Self {
        Self {
            device: device.clone(),
            source: Source::Random {
                rng: Box::new(ChaCha8Rng::seed_from_u64(seed)),
                factor,
            },
            layout: Layout::default(),
            dropout_rng: DropoutRng::new(0),
            matmul: Matmul::default(),
        }
    }

    /// Tensors read from `checkpoint`.
    pub fn checkpoint(device: &B::Device, checkpoint: &'a mut Checkpoint) -> Self {
        Self {
            device: device.clone(),
            source: Source::Checkpoint(checkpoint),
            layout: Layout::default(),
            dropout_rng: DropoutRng::new(0),
            matmul: Matmul::default(),
        }
    }

    /// The checkpoint being read, if any.
    pub fn checkpoint_mut(&mut self) -> Option<&mut Checkpoint> {
        match &mut self.source {
            Source::Checkpoint(checkpoint) => Some(checkpoint),
            Source::Random { .. } => None,
        }
    }

    /// The parameter `name` of `shape`, under a fresh id.
    pub fn param<const D: usize>(
        &mut self,
        name: String,
        shape: [usize; D],
        init: Init,
    ) -> Result<Param<Tensor<B, D>>> {
        self.param_from(name.clone(), &name, shape, init)
    }

    /// Like [`param`](Self::param), but read from the file under `stored`
    /// (an alias such as `encoder.embed_tokens.weight` for `shared.weight`).
    pub fn param_from<const D: usize>(
        &mut self,
        name: String,
        stored: &str,
        shape: [usize; D],
        init: Init,
    ) -> Result<Param<Tensor<B, D>>> {
        let values = self.values(stored, &shape, init)?;
        Ok(self.register(name, TensorData::new(values, shape), false))
    }

    /// The values of tensor `stored` of `shape`: read from the checkpoint,
    /// or drawn as `init` says.
    fn values(&mut self, stored: &str, shape: &[usize], init: Init) -> Result<Vec<f32>> {
        let len = shape.iter().product();
        Ok(match &mut self.source {
            Source::Checkpoint(checkpoint) => checkpoint.take(stored, shape)?,
            Source::Random { rng, factor } => match init {
                Init::Ones => vec![1.0; len],
                Init::Normal(std) => {
                    let normal = Normal::new(0.0, *factor * std).expect("a finite std");
                    (0..len).map(|_| normal.sample(&mut **rng) as f32).collect()
                }
            },
        })
    }

    /// A linear weight stored by HF as `[out, in]`, held as `[in, out]`.
    pub fn linear(
        &mut self,
        name: String,
        shape: [usize; 2],
        init: Init,
    ) -> Result<Param<Tensor<B, 2>>> {
        let [out, inp] = shape;
        let values = self.values(&name, &shape, init)?;
        Ok(self.register(
            name,
            TensorData::new(transpose(&values, out, inp), [inp, out]),
            true,
        ))
    }

    fn register<const D: usize>(
        &mut self,
        name: String,
        data: TensorData,
        transposed: bool,
    ) -> Param<Tensor<B, D>> {
        let id = ParamId::new();
        self.layout.names.push(name);
        self.layout.ids.push(id);
        self.layout.transposed.push(transposed);
        let tensor = Tensor::from_data(data, &self.device);
        Param::initialized(id, tensor.require_grad())
    }

    /// The generator every dropout layer of the model shares.
    pub fn dropout_rng(&self) -> &DropoutRng {
        &self.dropout_rng
    }

    /// The matrix products every layer of the model shares.
    pub fn matmul(&self) -> &Matmul {
        &self.matmul
    }

    /// The names, ids and layouts of the parameters, in build order.
    pub fn into_layout(self) -> Layout {
        self.layout
    }
}

/// A module's float parameters in visit order: their ids and shapes, and
/// their values when asked for.
#[derive(Default)]
struct Visited {
    ids: Vec<ParamId>,
    shapes: Vec<Vec<usize>>,
    values: Option<Vec<TensorData>>,
}

impl<B: Backend> ModuleVisitor<B> for Visited {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.ids.push(param.id);
        self.shapes.push(param.lazy_shape().to_vec());
        if let Some(values) = &mut self.values {
            values.push(param.val().into_data());
        }
    }
}

/// Visits `module`'s parameters, reading their values if `values`.
fn visit<B: Backend, M: Module<B>>(module: &M, values: bool) -> Visited {
    let mut visited = Visited {
        values: values.then(Vec::new),
        ..Visited::default()
    };
    module.visit(&mut visited);
    visited
}

/// The ids of `module`'s parameters in visit order.
pub(crate) fn ids<B: Backend, M: Module<B>>(module: &M) -> Vec<ParamId> {
    visit(module, false).ids
}

/// The shapes of `module`'s parameters as held (linear weights `[in, out]`),
/// in visit order (build order, for the model), without reading their values.
pub(crate) fn shapes<B: Backend, M: Module<B>>(module: &M) -> Vec<Vec<usize>> {
    visit(module, false).shapes
}

/// Row-major `[rows, cols]` values transposed to `[cols, rows]`.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// The tensors of `module` under the names it was built with (`names` and
/// `transposed` in visit order, which is the model's build order), as f32 in
/// HF's layout (linear weights transposed back to `[out, in]`).
pub(crate) fn named_tensors<B: Backend, M: Module<B>>(
    module: &M,
    names: &[String],
    transposed: &[bool],
) -> Vec<(String, TensorData)> {
    let tensors = visit(module, true).values.unwrap_or_default();
    assert_eq!(tensors.len(), names.len(), "one name per parameter");
    tensors
        .into_iter()
        .zip(names.iter().zip(transposed))
        .map(|(data, (name, &transposed))| {
            let data = data.convert::<f32>();
            let data = if transposed {
                let [rows, cols] = [data.shape[0], data.shape[1]];
                let values = data.to_vec::<f32>().expect("f32 data");
                TensorData::new(transpose(&values, rows, cols), [cols, rows])
            } else {
                data
            };
            (name.clone(), data)
        })
        .collect()
}

/// Serialises named f32 tensors as safetensors bytes with the `format: pt`
/// metadata HF expects.
pub fn safetensors_bytes(tensors: &[(String, TensorData)]) -> Vec<u8> {
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, data)| {
            let view = safetensors::tensor::TensorView::new(
                Dtype::F32,
                data.shape.to_vec(),
                data.as_bytes(),
            )
            .expect("shape and bytes agree");
            (name.clone(), view)
        })
        .collect();
    let metadata = Some(std::collections::HashMap::from([(
        "format".to_owned(),
        "pt".to_owned(),
    )]));
    safetensors::serialize(views, metadata).expect("in-memory serialisation")
}
