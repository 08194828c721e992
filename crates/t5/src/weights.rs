//! Parameters under their Hugging Face names.
//!
//! The model is built through a `ParamBuilder` that hands out each tensor by
//! its HF name: from a `model.safetensors` (checking shape and dtype, and that
//! nothing is left over) or from T5's random initialisation, seeded. Parameter
//! ids are the construction order, so a rebuilt model has the same ids and an
//! optimizer's saved state finds its tensors again.

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
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
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
    names: Vec<String>,
    transposed: Vec<bool>,
    dropout_rng: DropoutRng,
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
            names: Vec::new(),
            transposed: Vec::new(),
            dropout_rng: DropoutRng::new(0),
        }
    }

    /// Tensors read from `checkpoint`.
    pub fn checkpoint(device: &B::Device, checkpoint: &'a mut Checkpoint) -> Self {
        Self {
            device: device.clone(),
            source: Source::Checkpoint(checkpoint),
            names: Vec::new(),
            transposed: Vec::new(),
            dropout_rng: DropoutRng::new(0),
        }
    }

    /// The checkpoint being read, if any.
    pub fn checkpoint_mut(&mut self) -> Option<&mut Checkpoint> {
        match &mut self.source {
            Source::Checkpoint(checkpoint) => Some(checkpoint),
            Source::Random { .. } => None,
        }
    }

    /// The parameter `name` of `shape`; its id is its position in build order.
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
        let id = ParamId::from(self.names.len() as u64);
        self.names.push(name);
        self.transposed.push(transposed);
        let tensor = Tensor::from_data(data, &self.device);
        Param::initialized(id, tensor.require_grad())
    }

    /// The generator every dropout layer of the model shares.
    pub fn dropout_rng(&self) -> &DropoutRng {
        &self.dropout_rng
    }

    /// The names in build order (index `i` is parameter id `i`) and whether
    /// each is a transposed linear weight.
    pub fn into_layout(self) -> (Vec<String>, Vec<bool>) {
        (self.names, self.transposed)
    }
}

/// Every float parameter's values by id.
struct Collect(BTreeMap<u64, TensorData>);

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.insert(param.id.val(), param.val().into_data());
    }
}

/// Every float parameter's shape by id.
struct Shapes(BTreeMap<u64, Vec<usize>>);

impl<B: Backend> ModuleVisitor<B> for Shapes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.insert(param.id.val(), param.lazy_shape().to_vec());
    }
}

/// The shapes of `module`'s parameters as held (linear weights `[in, out]`),
/// in build order, without reading their values.
pub(crate) fn shapes<B: Backend, M: Module<B>>(module: &M) -> Vec<Vec<usize>> {
    let mut shapes = Shapes(BTreeMap::new());
    module.visit(&mut shapes);
    shapes.0.into_values().collect()
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

/// The tensors of `module` under the names it was built with, as f32 in
/// HF's layout (linear weights transposed back to `[out, in]`).
pub(crate) fn named_tensors<B: Backend, M: Module<B>>(
    module: &M,
    names: &[String],
    transposed: &[bool],
) -> Vec<(String, TensorData)> {
    let mut collect = Collect(BTreeMap::new());
    module.visit(&mut collect);
    collect
        .0
        .into_iter()
        .map(|(id, data)| {
            let data = data.convert::<f32>();
            let data = if transposed[id as usize] {
                let [rows, cols] = [data.shape[0], data.shape[1]];
                let values = data.to_vec::<f32>().expect("f32 data");
                TensorData::new(transpose(&values, rows, cols), [cols, rows])
            } else {
                data
            };
            (names[id as usize].clone(), data)
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
