//! Errors of loading, checking and saving models; each names the file and,
//! where there is one, the tensor or field at fault.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong with a model directory.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] recalign_runtime::IoError),
    /// `config.json` is missing a field, has a wrong type or a bad value.
    #[error("{}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The safetensors file is not valid.
    #[error("{}: not a valid safetensors file: {message}", path.display())]
    Safetensors {
        /// The weights file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A tensor the configuration needs is not in the file.
    #[error("{}: tensor `{name}` is missing (expected shape {expected:?})", path.display())]
    MissingTensor {
        /// The weights file.
        path: PathBuf,
        /// HF name of the tensor.
        name: String,
        /// Its shape under the configuration.
        expected: Vec<usize>,
    },
    /// A tensor has a shape the configuration does not allow.
    #[error("{}: tensor `{name}` has shape {found:?}, the config needs {expected:?}", path.display())]
    TensorShape {
        /// The weights file.
        path: PathBuf,
        /// HF name of the tensor.
        name: String,
        /// Shape in the file.
        found: Vec<usize>,
        /// Shape under the configuration.
        expected: Vec<usize>,
    },
    /// A tensor is stored in a type the loader does not read.
    #[error("{}: tensor `{name}` has dtype {dtype}; expected F32, F16 or BF16", path.display())]
    TensorDtype {
        /// The weights file.
        path: PathBuf,
        /// HF name of the tensor.
        name: String,
        /// The stored dtype.
        dtype: String,
    },
    /// The file holds tensors this configuration has no place for.
    #[error("{}: unexpected tensors for this config: {}", path.display(), names.join(", "))]
    UnexpectedTensors {
        /// The weights file.
        path: PathBuf,
        /// Their names (the first few).
        names: Vec<String>,
    },
    /// A model preset name that does not exist.
    #[error("unknown model preset `{0}` (known: tiny, small)")]
    UnknownPreset(String),
}
