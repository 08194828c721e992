//! The model directory: what `recalign train` writes and what `recalign
//! evaluate`, `recommend` and `serve` read, in one place.
//!
//! ```text
//! OUT/
//!   config.json  model.safetensors  tokenizer.json   the model, in HF layout
//!   train.toml                                       the training settings
//!   train-summary.json                               losses and timings
//!   curves.csv                                       validation loss and retrieval per step
//!   samples/manifest.json                            how the samples were made
//!   checkpoints/step-NNNNNNN/                        the same model files, per checkpoint
//!   best/                                            the model with the best validation NDCG
//! ```
//!
//! [`ModelDir`] and [`ModelFile`] name the files; [`ModelDir::trained_with`] reads the typed
//! training record and samples manifest (looked up in the directory and the
//! two above it, so a checkpoint finds its run's); [`truncate_input`] is the
//! one input-budget rule of training and inference; [`check_agreement`] is
//! the one check that a tokenizer and a model are a pair.

use std::path::{Path, PathBuf};

use recalign_runtime::IoError;
use recalign_samples::SamplesConfig;
use recalign_t5::T5Config;
use recalign_tokenizer::T5Tokenizer;
use serde::Deserialize;

/// The files and folders of a model directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFile {
    /// `config.json`: the model's configuration, in HF's format.
    Config,
    /// `model.safetensors`: the weights, in HF's format.
    Weights,
    /// `tokenizer.json`: the tokenizer, in HF's `tokenizers` format.
    Tokenizer,
    /// `train.toml`: the training settings, written with every saved model.
    TrainingRecord,
    /// `train-summary.json`: losses and timings of a finished run.
    Summary,
    /// `samples/`: the samples a run trained on.
    Samples,
    /// `checkpoints/`: a run's checkpoints, `step-NNNNNNN/` each.
    Checkpoints,
    /// `curves.csv`: a run's learning curve.
    Curves,
    /// `best/`: the run's model with the best validation NDCG@K.
    Best,
}

impl ModelFile {
    /// The file's name in the directory.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Config => recalign_t5::CONFIG_FILE,
            Self::Weights => recalign_t5::WEIGHTS_FILE,
            Self::Tokenizer => "tokenizer.json",
            Self::TrainingRecord => "train.toml",
            Self::Summary => "train-summary.json",
            Self::Samples => "samples",
            Self::Checkpoints => "checkpoints",
            Self::Curves => "curves.csv",
            Self::Best => "best",
        }
    }
}

/// The samples manifest inside [`ModelFile::Samples`].
pub const MANIFEST_FILE: &str = "manifest.json";
/// Input tokens when no training record says otherwise (FLAN-T5's 512).
pub const DEFAULT_MAX_INPUT_TOKENS: usize = 512;

/// What is wrong with a model directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The folder holds no model.
    #[error(
        "{}: not a model directory (no config.json); give the --out of `recalign train`",
        path.display()
    )]
    NotAModel {
        /// The folder.
        path: PathBuf,
    },
    /// A file of the directory is not valid.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The tokenizer and the model are not a pair.
    #[error("{}: {message}", path.display())]
    Mismatch {
        /// The tokenizer file.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
    /// The tokenizer could not be loaded.
    #[error(transparent)]
    Tokenizer(#[from] recalign_tokenizer::Error),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A model directory: a final model or one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    path: PathBuf,
}

impl ModelDir {
    /// The directory at `path`, whether or not it exists yet (for writing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// An existing model directory: it must hold [`ModelFile::Config`].
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let dir = Self::new(path);
        if !dir.file(ModelFile::Config).is_file() {
            return Err(Error::NotAModel { path: dir.path });
        }
        Ok(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One of the directory's files.
    pub fn file(&self, file: ModelFile) -> PathBuf {
        self.path.join(file.name())
    }

    /// Loads the tokenizer.
    pub fn load_tokenizer(&self) -> Result<T5Tokenizer> {
        Ok(T5Tokenizer::from_file(&self.file(ModelFile::Tokenizer))?)
    }

    /// What the directory says about the model's training: the samples
    /// manifest and the training record, each looked up here and in the
    /// two directories above; a model from elsewhere (a Hugging Face
    /// download) has neither, and the defaults apply.
    pub fn trained_with(&self) -> Result<TrainedWith> {
        let mut found = TrainedWith::default();
        let manifest = Path::new(ModelFile::Samples.name()).join(MANIFEST_FILE);
        if let Some(path) = self.find_up(&manifest) {
            let text = read(&path)?;
            let manifest: SamplesManifest = serde_json::from_str(&text)
                .map_err(|e| invalid(&path, format!("not a samples manifest: {e}")))?;
            found.samples = manifest.config;
            found.dataset = manifest.dataset;
            found.identifiers = manifest.identifiers;
            found.manifest = Some(path);
        }
        if let Some(path) = self.find_up(Path::new(ModelFile::TrainingRecord.name())) {
            let record: TrainingRecord =
                toml::from_str(&read(&path)?).map_err(|e| invalid(&path, e.to_string()))?;
            if let Some(tokens) = record.train.max_input_tokens {
                if tokens == 0 {
                    return Err(invalid(
                        &path,
                        "train.max_input_tokens: 0 is not a positive integer",
                    ));
                }
                found.max_input_tokens = tokens;
            }
            found.record = Some(path);
        }
        Ok(found)
    }

    /// `name` in this directory or one of the two above it.
    fn find_up(&self, name: &Path) -> Option<PathBuf> {
        self.path
            .ancestors()
            .take(3)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }
}

/// How a model was trained, as far as its directory tells.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedWith {
    /// The samples manifest found, if any.
    pub manifest: Option<PathBuf>,
    /// The training record found, if any.
    pub record: Option<PathBuf>,
    /// The dataset named in the manifest.
    pub dataset: Option<String>,
    /// How the training samples' item identifiers were made
    /// (`recalign_data::PrepareConfig::identifier_key`), where recorded.
    pub identifiers: Option<String>,
    /// The samples configuration (the default without a manifest).
    pub samples: SamplesConfig,
    /// The input budget in tokens; longer prompts keep their end.
    pub max_input_tokens: usize,
}

impl Default for TrainedWith {
    fn default() -> Self {
        Self {
            manifest: None,
            record: None,
            dataset: None,
            identifiers: None,
            samples: SamplesConfig::default(),
            max_input_tokens: DEFAULT_MAX_INPUT_TOKENS,
        }
    }
}

/// What [`TrainedWith`] reads of `train.toml`: the `[train]` table's input
/// budget. The rest of the table belongs to `recalign-train` and is left
/// alone here.
#[derive(Debug, Deserialize)]
struct TrainingRecord {
    #[serde(default)]
    train: TrainingLimits,
}

#[derive(Debug, Default, Deserialize)]
struct TrainingLimits {
    max_input_tokens: Option<usize>,
}

/// What [`TrainedWith`] and [`whole_tokens`] read of `samples/manifest.json`.
#[derive(Debug, Deserialize)]
struct SamplesManifest {
    dataset: Option<String>,
    #[serde(default)]
    identifiers: Option<String>,
    config: SamplesConfig,
    #[serde(default)]
    whole_tokens: Vec<String>,
}

/// The tokens that the samples in `samples_dir` need kept whole (atomic
/// item identifiers; see `recalign_samples`' manifest): none when the folder
/// has no `manifest.json`, as for samples written by other tools.
pub fn whole_tokens(samples_dir: &Path) -> Result<Vec<String>> {
    let path = samples_dir.join(MANIFEST_FILE);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let manifest: SamplesManifest = serde_json::from_str(&read(&path)?)
        .map_err(|e| invalid(&path, format!("not a samples manifest: {e}")))?;
    Ok(manifest.whole_tokens)
}

/// Reads how the model in `dir` was trained (see [`ModelDir::trained_with`]).
pub fn trained_with(dir: &Path) -> Result<TrainedWith> {
    ModelDir::new(dir).trained_with()
}

/// Cuts `tokens` to `budget` keeping the end (the most recent history and
/// the question); returns whether anything was cut.
pub fn truncate_input(tokens: &mut Vec<u32>, budget: usize) -> bool {
    let cut = tokens.len().saturating_sub(budget);
    tokens.drain(..cut);
    cut > 0
}

/// Checks that `tokenizer` (read from `path`) and a model configured by
/// `config` are a pair: every token has an embedding, and `<pad>` and
/// `</s>` are the ids the model was built with.
pub fn check_agreement(config: &T5Config, tokenizer: &T5Tokenizer, path: &Path) -> Result<()> {
    let mismatch = |message: String| Error::Mismatch {
        path: path.to_path_buf(),
        message,
    };
    if tokenizer.vocab_size() > config.vocab_size {
        return Err(mismatch(format!(
            "the tokenizer has {} tokens but the model's vocab_size is {}; they are not a pair",
            tokenizer.vocab_size(),
            config.vocab_size
        )));
    }
    if tokenizer.pad_id() != config.pad_token_id || tokenizer.eos_id() != config.eos_token_id {
        return Err(mismatch(format!(
            "tokenizer <pad>/</s> ids {}/{} differ from the config's pad_token_id/eos_token_id {}/{}",
            tokenizer.pad_id(),
            tokenizer.eos_id(),
            config.pad_token_id,
            config.eos_token_id
        )));
    }
    Ok(())
}

fn invalid(path: &Path, message: impl Into<String>) -> Error {
    Error::File {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn read(path: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(path).map_err(IoError::at(path))?)
}
