//! What a model directory written by `recalign train` says about how the
//! model was trained, so that it is asked the way it learned.
//!
//! A checkpoint (`OUT/checkpoints/step-N`) or a final model (`OUT`) sits
//! below the run's `samples/manifest.json` (the samples configuration:
//! style, history length, input budget, candidate lists) and `train.toml`
//! (the input token budget). Both are looked up in the directory and the two
//! above it; a model from elsewhere (a Hugging Face download) has neither,
//! and the defaults apply.

use std::path::{Path, PathBuf};

use recalign_samples::SamplesConfig;

use crate::error::{Error, Result};

/// Input tokens when no `train.toml` says otherwise (FLAN-T5's 512).
pub const DEFAULT_MAX_INPUT_TOKENS: usize = 512;

/// How a model was trained, as far as its directory tells.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedWith {
    /// The samples manifest found, if any.
    pub manifest: Option<PathBuf>,
    /// The dataset named in the manifest.
    pub dataset: Option<String>,
    /// The samples configuration (the default without a manifest).
    pub samples: SamplesConfig,
    /// The input budget in tokens; longer prompts keep their end.
    pub max_input_tokens: usize,
}

/// `name` in `dir` or one of the two directories above it.
fn find_up(dir: &Path, name: &str) -> Option<PathBuf> {
    dir.ancestors()
        .take(3)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn invalid(path: &Path, message: impl Into<String>) -> Error {
    Error::File {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads what `dir` (a model directory) says about its training.
pub fn trained_with(dir: &Path) -> Result<TrainedWith> {
    let mut found = TrainedWith {
        manifest: None,
        dataset: None,
        samples: SamplesConfig::default(),
        max_input_tokens: DEFAULT_MAX_INPUT_TOKENS,
    };
    if let Some(path) = find_up(dir, "samples/manifest.json") {
        let text = read(&path)?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| invalid(&path, e.to_string()))?;
        let config = value
            .get("config")
            .ok_or_else(|| invalid(&path, "no `config` field"))?;
        found.samples = serde_json::from_value(config.clone())
            .map_err(|e| invalid(&path, format!("field `config`: {e}")))?;
        found.dataset = value
            .get("dataset")
            .and_then(|d| d.as_str())
            .map(str::to_string);
        found.manifest = Some(path);
    }
    if let Some(path) = find_up(dir, "train.toml") {
        let table: toml::Table = read(&path)?
            .parse()
            .map_err(|e: toml::de::Error| invalid(&path, e.to_string()))?;
        if let Some(value) = table.get("train").and_then(|t| t.get("max_input_tokens")) {
            found.max_input_tokens = value
                .as_integer()
                .filter(|&n| n > 0)
                .map(|n| n as usize)
                .ok_or_else(|| {
                    invalid(
                        &path,
                        format!("train.max_input_tokens: {value} is not a positive integer"),
                    )
                })?;
        }
    }
    Ok(found)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| invalid(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_run_files_above_a_checkpoint_and_names_bad_fields() {
        let run = tempfile::tempdir().unwrap();
        let step = run.path().join("checkpoints/step-0000100");
        std::fs::create_dir_all(&step).unwrap();
        std::fs::create_dir_all(run.path().join("samples")).unwrap();
        let config = SamplesConfig {
            seed: 7,
            ..SamplesConfig::default()
        };
        let manifest = serde_json::json!({ "dataset": "synthetic", "config": config });
        std::fs::write(
            run.path().join("samples/manifest.json"),
            manifest.to_string(),
        )
        .unwrap();
        std::fs::write(
            run.path().join("train.toml"),
            "[train]\nmax_input_tokens = 300\n",
        )
        .unwrap();
        let found = trained_with(&step).unwrap();
        assert_eq!(found.samples.seed, 7);
        assert_eq!(found.dataset.as_deref(), Some("synthetic"));
        assert_eq!(found.max_input_tokens, 300);

        std::fs::write(
            run.path().join("train.toml"),
            "[train]\nmax_input_tokens = -1\n",
        )
        .unwrap();
        let error = trained_with(&step).unwrap_err().to_string();
        assert!(
            error.contains("train.toml") && error.contains("max_input_tokens"),
            "{error}"
        );

        let elsewhere = tempfile::tempdir().unwrap();
        let deep = elsewhere.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        let found = trained_with(&deep).unwrap();
        assert_eq!(found.manifest, None);
        assert_eq!(found.max_input_tokens, DEFAULT_MAX_INPUT_TOKENS);
    }
}
