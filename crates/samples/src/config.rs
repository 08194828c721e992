//! What to generate: the mixture of tasks and every construction decision,
//! read from the `[samples]` table of a TOML file. Unknown keys and
//! out-of-range values are rejected with the key named.
//!
//! The defaults are recalign's reading of the paper (`paper.md` §3.3, §9.2):
//! retrieval on every training prefix (as P5 and TIGER), one sample per user
//! for each other task, 20 history items, 1 + 99 ranking candidates, 20 %
//! of items masked for MIM (at least one), T5 span corruption (15 %, mean
//! span 3) over title words for MLM.
//!
//! ```toml
//! [samples]
//! seed = 42
//! style = "informative"      # or "p5": user ids, item ids only (recommendation tasks)
//! epochs = 1                 # each epoch draws fresh prefixes, masks and negatives
//! history = 20               # most recent items shown
//! max_input_chars = 2000     # oldest history items are dropped to fit
//!
//! [samples.retrieval]
//! per_user = "all"           # every training prefix, or a number per user
//! [samples.ranking]
//! per_user = 1
//! candidates = 100
//! candidate_titles = "auto"  # titles when at most 20 candidates; "always", "never"
//! [samples.mim]
//! per_user = 1
//! mask_ratio = 0.2
//! ```

use serde::{Deserialize, Serialize};

use crate::Task;

/// How many samples of a task each user contributes per epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerUser {
    /// `"all"`: one per training position (retrieval's sliding prefixes;
    /// for other tasks, one per position as well).
    All(AllKeyword),
    /// A number; a fractional part is a probability of one more sample.
    Count(f64),
}

/// The literal `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllKeyword {
    /// `"all"`
    All,
}

impl PerUser {
    /// `"all"`.
    pub const ALL: PerUser = PerUser::All(AllKeyword::All);
}

/// Which wording family the recommendation tasks use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// The paper's informative samples: no user id, items with titles.
    #[default]
    Informative,
    /// P5's samples, for comparison: a user id, items by identifier only.
    P5,
}

impl Style {
    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Style::Informative => "informative",
            Style::P5 => "p5",
        }
    }
}

/// When ranking candidates are shown with their titles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CandidateTitles {
    /// With titles when there are at most 20 candidates: 100 titled
    /// candidates overflow a 512-token input (≈ 25 tokens each).
    #[default]
    Auto,
    /// Always with titles.
    Always,
    /// Identifiers only.
    Never,
}

/// Settings shared by the tasks that only need a count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Simple {
    /// Samples per user per epoch.
    pub per_user: PerUser,
}

impl Default for Simple {
    fn default() -> Self {
        Simple {
            per_user: PerUser::Count(1.0),
        }
    }
}

/// Next-item retrieval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrievalConfig {
    /// Samples per user per epoch (`"all"`: every training prefix).
    pub per_user: PerUser,
    /// Write the target as `ID: …, title: …` instead of the identifier alone.
    pub target_titles: bool,
}

impl Default for RetrievalConfig {
    fn default() -> Self {
        RetrievalConfig {
            per_user: PerUser::ALL,
            target_titles: false,
        }
    }
}

/// Candidate ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Samples per user per epoch.
    pub per_user: PerUser,
    /// Candidates per sample, the positive included (P5: 100).
    pub candidates: usize,
    /// When candidates carry titles.
    pub candidate_titles: CandidateTitles,
}

impl Default for RankingConfig {
    fn default() -> Self {
        RankingConfig {
            per_user: PerUser::Count(1.0),
            candidates: 100,
            candidate_titles: CandidateTitles::Auto,
        }
    }
}

/// Masked item modeling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MimConfig {
    /// Samples per user per epoch.
    pub per_user: PerUser,
    /// Share of the shown items that are masked (at least one, and at least
    /// one left unmasked).
    pub mask_ratio: f64,
    /// Most items masked in one sample (0: no cap beyond the ratio).
    pub max_masked: usize,
}

impl Default for MimConfig {
    fn default() -> Self {
        MimConfig {
            per_user: PerUser::Count(1.0),
            mask_ratio: 0.2,
            max_masked: 0,
        }
    }
}

/// Masked language modeling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlmConfig {
    /// Samples per user per epoch.
    pub per_user: PerUser,
    /// Share of title words masked (T5: 0.15).
    pub noise_density: f64,
    /// Mean masked span length in words (T5: 3).
    pub mean_span: f64,
}

impl Default for MlmConfig {
    fn default() -> Self {
        MlmConfig {
            per_user: PerUser::Count(1.0),
            noise_density: 0.15,
            mean_span: 3.0,
        }
    }
}

/// Everything that decides the samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplesConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Wording of the recommendation tasks.
    pub style: Style,
    /// Passes over the users, each with fresh random choices.
    pub epochs: usize,
    /// Most recent history items shown (0: the dataset's `max_history`).
    pub history: usize,
    /// Input budget in characters (≈ 4 per T5 token): the oldest history
    /// items are dropped until the input fits. 0: no budget.
    pub max_input_chars: usize,
    /// Next-item retrieval.
    pub retrieval: RetrievalConfig,
    /// Candidate ranking.
    pub ranking: RankingConfig,
    /// Rating prediction (datasets with ratings only).
    pub rating: Simple,
    /// Masked item modeling.
    pub mim: MimConfig,
    /// Masked language modeling over title words.
    pub mlm: MlmConfig,
    /// Bayesian personalized ranking as a two-option choice.
    pub bpr: Simple,
}

impl Default for SamplesConfig {
    fn default() -> Self {
        SamplesConfig {
            seed: 42,
            style: Style::Informative,
            epochs: 1,
            history: 0,
            max_input_chars: 2000,
            retrieval: RetrievalConfig::default(),
            ranking: RankingConfig::default(),
            rating: Simple::default(),
            mim: MimConfig::default(),
            mlm: MlmConfig::default(),
            bpr: Simple::default(),
        }
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    samples: SamplesConfig,
}

/// A configuration value out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("samples.{key}: {message}")]
pub struct ConfigError {
    /// The dotted key.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl SamplesConfig {
    /// Parses the `[samples]` table of TOML text (other tables are ignored:
    /// a run's file may configure other stages too).
    pub fn from_toml_str(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        file.samples.validate().map_err(|e| e.to_string())?;
        Ok(file.samples)
    }

    /// How many samples of `task` a user contributes per epoch.
    pub fn per_user(&self, task: Task) -> PerUser {
        match task {
            Task::Retrieval => self.retrieval.per_user,
            Task::Ranking => self.ranking.per_user,
            Task::Rating => self.rating.per_user,
            Task::MaskedItemModeling => self.mim.per_user,
            Task::MaskedLanguageModeling => self.mlm.per_user,
            Task::Bpr => self.bpr.per_user,
        }
    }

    /// Sets how many samples of `task` each user contributes.
    pub fn set_per_user(&mut self, task: Task, per_user: PerUser) {
        match task {
            Task::Retrieval => self.retrieval.per_user = per_user,
            Task::Ranking => self.ranking.per_user = per_user,
            Task::Rating => self.rating.per_user = per_user,
            Task::MaskedItemModeling => self.mim.per_user = per_user,
            Task::MaskedLanguageModeling => self.mlm.per_user = per_user,
            Task::Bpr => self.bpr.per_user = per_user,
        }
    }

    /// Checks every range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |key: &str, message: &str| {
            Err(ConfigError {
                key: key.to_string(),
                message: message.to_string(),
            })
        };
        for task in Task::ALL {
            if let PerUser::Count(n) = self.per_user(task)
                && !(n.is_finite() && n >= 0.0)
            {
                return err(
                    &format!("{}.per_user", task.name()),
                    "must be a non-negative number or \"all\"",
                );
            }
        }
        if self.epochs == 0 {
            return err("epochs", "must be at least 1");
        }
        if self.ranking.candidates < 2 {
            return err(
                "ranking.candidates",
                "must be at least 2 (the positive and a negative)",
            );
        }
        if !(self.mim.mask_ratio > 0.0 && self.mim.mask_ratio < 1.0) {
            return err("mim.mask_ratio", "must be between 0 and 1 (exclusive)");
        }
        if !(self.mlm.noise_density > 0.0 && self.mlm.noise_density < 1.0) {
            return err("mlm.noise_density", "must be between 0 and 1 (exclusive)");
        }
        if !(self.mlm.mean_span.is_finite() && self.mlm.mean_span >= 1.0) {
            return err("mlm.mean_span", "must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults_and_keeps_the_rest() {
        let c = SamplesConfig::from_toml_str(
            "[samples]\nseed = 7\nstyle = \"p5\"\n[samples.retrieval]\nper_user = 2\n[samples.ranking]\ncandidates = 20\n[other]\nx = 1\n",
        )
        .unwrap();
        assert_eq!(c.seed, 7);
        assert_eq!(c.style, Style::P5);
        assert_eq!(c.retrieval.per_user, PerUser::Count(2.0));
        assert_eq!(c.ranking.candidates, 20);
        assert_eq!(c.mim, MimConfig::default());
        assert_eq!(
            SamplesConfig::from_toml_str("").unwrap(),
            SamplesConfig::default()
        );
        let all = SamplesConfig::from_toml_str("[samples.bpr]\nper_user = \"all\"\n").unwrap();
        assert_eq!(all.bpr.per_user, PerUser::ALL);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("[samples]\nseeds = 1", "seeds"),
            ("[samples]\nseed = \"x\"", "seed"),
            ("[samples.bpr]\nper_user = -1", "samples.bpr.per_user"),
            ("[samples.bpr]\nper_user = \"some\"", "per_user"),
            ("[samples.mim]\nmask_ratio = 1.5", "samples.mim.mask_ratio"),
            (
                "[samples.ranking]\ncandidates = 1",
                "samples.ranking.candidates",
            ),
            ("[samples.tasks]\nretrieval = 1", "tasks"),
            ("[samples]\nepochs = 0", "samples.epochs"),
            ("[samples.mlm]\nmean_span = 0.5", "samples.mlm.mean_span"),
        ] {
            let err = SamplesConfig::from_toml_str(text).unwrap_err();
            assert!(err.contains(key), "{text}: {err}");
        }
    }
}
