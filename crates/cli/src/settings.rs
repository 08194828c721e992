//! From typed flags to the settings a command runs with, in the manner of
//! ripgrep's low and high arguments: [`crate::args`] holds what was typed;
//! here the `--config` file is read once ([`RunFile`]) and its tables
//! checked, and flags are laid over the file over the defaults into the
//! validated library settings each command takes. Commands resolve before
//! they load or train anything, so a bad setting fails at once.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use recalign_baselines::{BaselineConfig, Model};
use recalign_data::{DatasetSpec, PrepareConfig};
use recalign_eval::Protocol;
use recalign_recommend::{Scoring, TrainedWith};
use recalign_samples::SamplesConfig;
use recalign_train::{ModelSource, TrainConfig};

use crate::args::{
    BaselineArgs, DatasetArgs, EvaluateArgs, ModelArgs, ProtocolArgs, SampleStyleArgs, TrainArgs,
};
use crate::choices::{EvalTask, ModelPreset};

/// The tables a run's TOML file may hold, one per stage.
const TABLES: &[&str] = &["prepare", "samples", "train"];

/// The keys only an experiment file (`recalign run`) holds: such a file is
/// read for its stage tables, so the model an experiment trained can be
/// evaluated and served with the file that made it.
const EXPERIMENT_KEYS: &[&str] = &[
    "name",
    "dataset",
    "device",
    "seeds",
    "model",
    "evaluate",
    "baselines",
];

/// A run's `--config` file, read once: `[prepare]` and `[samples]` parsed
/// and checked on reading; `[train]` when the model is known, since the
/// model's size sets its defaults.
#[derive(Debug, Clone)]
pub struct RunFile {
    path: PathBuf,
    text: String,
    /// `[prepare]` over the defaults.
    pub prepare: PrepareConfig,
    /// `[samples]` over the defaults.
    pub samples: SamplesConfig,
}

impl RunFile {
    /// Reads `path`, refusing a table no stage reads (a typo such as
    /// `[sample]` would otherwise be ignored silently) with the file and
    /// table named.
    pub fn read(path: &Path) -> Result<Self> {
        let mut text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let named = |message: String| anyhow::anyhow!("{}: {message}", path.display());
        let mut table: toml::Table = text.parse().map_err(|e| named(format!("{e}")))?;
        if table.keys().any(|k| EXPERIMENT_KEYS.contains(&k.as_str())) {
            if table.contains_key("grid") {
                bail!(
                    "{}: an experiment with a [grid] trains one model per cell; give a file \
                     with that cell's [prepare], [samples] and [train] tables",
                    path.display()
                );
            }
            table.retain(|k, _| !EXPERIMENT_KEYS.contains(&k));
            text = toml::to_string(&table).map_err(|e| named(format!("{e}")))?;
        }
        if let Some(key) = table.keys().find(|key| !TABLES.contains(&key.as_str())) {
            bail!(
                "{}: unknown table or key `{key}` (expected the tables {})",
                path.display(),
                TABLES.join(", ")
            );
        }
        Ok(RunFile {
            prepare: PrepareConfig::from_toml_str(&text).map_err(named)?,
            samples: SamplesConfig::from_toml_str(&text).map_err(named)?,
            path: path.to_path_buf(),
            text,
        })
    }

    /// The `[train]` table over `base` (which it leaves alone when absent).
    pub fn train_over(&self, base: &TrainConfig) -> Result<TrainConfig> {
        let origin = self.path.display().to_string();
        Ok(TrainConfig::from_toml_over(&self.text, &origin, base)?)
    }
}

/// Sets `slot` to `value` when a flag gave one.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// The dataset a command reads and how it is prepared, with the rest of
/// the run's file for the stages after it.
#[derive(Debug, Clone)]
pub struct DataSettings {
    /// Which dataset.
    pub spec: DatasetSpec,
    /// `--items`: metadata instead of the file beside the interactions.
    pub items: Option<PathBuf>,
    /// Preparation: defaults, `[prepare]`, flags.
    pub prepare: PrepareConfig,
    /// `--seed`, which seeds samples and training too.
    seed: Option<u64>,
    file: Option<RunFile>,
}

impl DatasetArgs {
    /// The dataset settings, reading `--config` if given.
    pub fn resolve(&self) -> Result<DataSettings> {
        let file = self.config.as_deref().map(RunFile::read).transpose()?;
        let mut prepare = file
            .as_ref()
            .map_or_else(PrepareConfig::default, |f| f.prepare.clone());
        set(&mut prepare.user_core, self.user_core);
        set(&mut prepare.item_core, self.item_core);
        set(&mut prepare.ties, self.ties.map(Into::into));
        set(&mut prepare.id_scheme, self.id_scheme.map(Into::into));
        set(&mut prepare.seed, self.seed);
        set(&mut prepare.max_history, self.max_history);
        prepare.validate()?;
        Ok(DataSettings {
            spec: DatasetSpec::parse(&self.dataset)?,
            items: self.items.clone(),
            prepare,
            seed: self.seed,
            file,
        })
    }
}

impl DataSettings {
    /// The samples settings: defaults, `[samples]`, then `--seed` and the
    /// style flags.
    pub fn samples(&self, style: &SampleStyleArgs) -> Result<SamplesConfig> {
        let mut config = self
            .file
            .as_ref()
            .map_or_else(SamplesConfig::default, |f| f.samples.clone());
        set(&mut config.seed, self.seed);
        set(&mut config.style, style.style.map(Into::into));
        set(&mut config.epochs, style.epochs);
        config.validate()?;
        Ok(config)
    }
}

/// Where `recalign train` finds its samples.
#[derive(Debug, Clone)]
pub enum SamplesFrom {
    /// A samples directory written before (`--samples`).
    Dir(PathBuf),
    /// Written into `OUT/samples` with these settings.
    Write(SamplesConfig),
}

/// Everything `recalign train` runs with.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// The dataset (for writing samples).
    pub data: DataSettings,
    /// The samples.
    pub samples: SamplesFrom,
    /// The model to start from.
    pub model: ModelSource,
    /// Training: defaults of the model size, `[train]`, flags.
    pub config: TrainConfig,
}

impl TrainArgs {
    /// The training settings.
    pub fn resolve(&self) -> Result<TrainSettings> {
        let data = self.dataset.resolve()?;
        let config = self.train_config(data.file.as_ref())?;
        let samples = match &self.model.samples {
            Some(dir) => SamplesFrom::Dir(dir.clone()),
            None => SamplesFrom::Write(data.samples(&SampleStyleArgs {
                style: self.model.style,
                epochs: None,
            })?),
        };
        let model = match &self.model.from_pretrained {
            Some(dir) => ModelSource::Pretrained(dir.clone()),
            None => ModelSource::Preset(self.model.preset.into()),
        };
        Ok(TrainSettings {
            data,
            samples,
            model,
            config,
        })
    }

    fn train_config(&self, file: Option<&RunFile>) -> Result<TrainConfig> {
        // The tiny preset is for smoke runs: short by default, like its model.
        let base = if self.model.from_pretrained.is_none() && self.model.preset == ModelPreset::Tiny
        {
            TrainConfig::tiny()
        } else {
            TrainConfig::default()
        };
        let mut config = match file {
            Some(file) => file.train_over(&base)?,
            None => base,
        };
        let flags = &self.training;
        set(&mut config.seed, self.dataset.seed);
        if let Some(n) = flags.epochs {
            // Asking for epochs means a run measured in epochs.
            config.epochs = n;
            config.max_steps = None;
        }
        if flags.max_steps.is_some() {
            config.max_steps = flags.max_steps;
        }
        set(&mut config.batch_size, flags.batch_size);
        set(&mut config.grad_accum, flags.grad_accum);
        set(&mut config.learning_rate, flags.lr);
        set(&mut config.optimizer, flags.optimizer.map(Into::into));
        set(&mut config.valid_users, flags.valid_users);
        set(&mut config.eval_every, flags.eval_every);
        set(&mut config.precision, flags.precision);
        if flags.patience.is_some() {
            config.patience = flags.patience;
        }
        config
            .validate()
            .map_err(|message| anyhow::anyhow!("training settings: {message}"))?;
        Ok(config)
    }
}

impl ProtocolArgs {
    /// The protocol; ranking lists are those of ranking samples written
    /// with `samples`.
    pub fn protocol(&self, samples: &SamplesConfig) -> Protocol {
        self.task
            .task()
            .protocol(self.split.into(), self.exclude_history, samples)
    }
}

/// Everything `recalign baseline` runs with.
#[derive(Debug, Clone)]
pub struct BaselineSettings {
    /// The dataset.
    pub data: DataSettings,
    /// The recommender.
    pub model: Model,
    /// Its hyper-parameters: defaults, `--hparams`, flags.
    pub config: BaselineConfig,
    /// What it is evaluated on.
    pub protocol: Protocol,
}

impl BaselineArgs {
    /// The baseline's settings; rating is refused, since no baseline rates.
    pub fn resolve(&self) -> Result<BaselineSettings> {
        if self.protocol.task == EvalTask::Rating {
            bail!(
                "--task rating: the baselines rank items and predict no ratings; \
                 use --task retrieval or ranking (`recalign evaluate --task rating` rates \
                 with a fine-tuned model)"
            );
        }
        let flags = &self.baseline;
        let mut config = match &flags.hparams {
            Some(path) => BaselineConfig::from_file(path)?,
            None => BaselineConfig::default(),
        };
        set(&mut config.train.epochs, flags.epochs);
        set(&mut config.train.seed, self.dataset.seed);
        set(&mut config.sasrec.loss, flags.loss.map(Into::into));
        config.validate()?;
        let data = self.dataset.resolve()?;
        let samples = data.samples(&SampleStyleArgs::default())?;
        Ok(BaselineSettings {
            model: flags.model,
            config,
            protocol: self.protocol.protocol(&samples),
            data,
        })
    }
}

impl EvaluateArgs {
    /// The dataset settings, after checking that the outputs asked for
    /// suit the task.
    pub fn resolve(&self) -> Result<DataSettings> {
        if self.outputs.rankings_out.is_some() && self.protocol.task == EvalTask::Rating {
            bail!("--rankings-out needs a ranking task (retrieval or ranking), not rating");
        }
        self.dataset.resolve()
    }
}

impl ModelArgs {
    /// How the model is asked: the flags, and the input budget it was
    /// trained with.
    pub fn recommender(&self, trained: &TrainedWith) -> recalign_recommend::Settings {
        recalign_recommend::Settings {
            beams: self.beams,
            scoring: if self.length_normalize {
                Scoring::PerToken
            } else {
                Scoring::Sum
            },
            max_input_tokens: trained.max_input_tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use recalign_data::{IdScheme, Split, TieRule};

    use super::*;
    use crate::args::Command;
    use crate::args::tests::parse;

    /// The command of `base` then `extra`.
    fn command(base: &[&str], extra: &[&str]) -> Command {
        parse(&[base, extra].concat()).unwrap().command
    }

    fn dataset(args: &[&str]) -> Result<DataSettings> {
        match parse(args).unwrap().command {
            Command::Stats(stats) => stats.dataset.resolve(),
            Command::Prepare(prepare) => prepare.dataset.resolve(),
            other => panic!("expected stats or prepare, got {other:?}"),
        }
    }

    fn write(dir: &tempfile::TempDir, text: &str) -> String {
        let file = dir.path().join("run.toml");
        std::fs::write(&file, text).unwrap();
        file.to_str().unwrap().to_string()
    }

    #[test]
    fn dataset_defaults_to_the_embedded_shop() {
        let data = dataset(&["stats"]).unwrap();
        assert_eq!(data.spec.name(), "synthetic");
        assert_eq!(data.prepare, PrepareConfig::default());
    }

    #[test]
    fn preparation_flags_override_defaults() {
        let data = dataset(&[
            "prepare",
            "-d",
            "beauty",
            "--user-core",
            "10",
            "--item-core",
            "2",
            "--ties",
            "shuffle",
            "--id-scheme",
            "sequential-train",
            "--seed",
            "7",
            "--max-history",
            "50",
        ])
        .unwrap();
        assert_eq!(
            data.prepare,
            PrepareConfig {
                user_core: 10,
                item_core: 2,
                ties: TieRule::Shuffle,
                id_scheme: IdScheme::SequentialTrain,
                seed: 7,
                max_history: 50,
                semantic: Default::default(),
            }
        );
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            "[prepare]\nseed = 3\nitem_core = 1\n[samples]\nepochs = 2\n",
        );
        let data = dataset(&["stats", "--config", &file, "--seed", "9"]).unwrap();
        assert_eq!((data.prepare.seed, data.prepare.item_core), (9, 1));
        let samples = data.samples(&SampleStyleArgs::default()).unwrap();
        assert_eq!((samples.seed, samples.epochs), (9, 2));
    }

    #[test]
    fn unknown_tables_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(&dir, "[prepare]\nseed = 3\n[sample]\nseed = 1\n");
        let error = dataset(&["stats", "--config", &file]).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("run.toml"), "{message}");
        assert!(
            message.contains("unknown table or key `sample`"),
            "{message}"
        );
    }

    #[test]
    fn an_experiment_file_gives_its_stage_tables() {
        let shop = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/shop.toml");
        let data = dataset(&["stats", "--config", shop]).unwrap();
        assert_eq!(data.prepare.id_scheme, IdScheme::Semantic);
        assert_eq!(data.prepare.semantic.codebook, 32);
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            "name = \"g\"\ndataset = \"synthetic\"\n[grid.x.a]\nprepare.seed = 1\n",
        );
        let message = format!("{:#}", dataset(&["stats", "--config", &file]).unwrap_err());
        assert!(message.contains("[grid]"), "{message}");
    }

    #[test]
    fn training_starts_from_the_model_size_then_file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(&dir, "[train]\nbatch_size = 8\nlearning_rate = 0.01\n");
        let resolve = |extra: &[&str]| {
            let Command::Train(train) = command(&["train", "--out", "o", "--config", &file], extra)
            else {
                panic!("expected train")
            };
            train.resolve().unwrap()
        };
        let tiny = resolve(&["--lr", "0.5", "--optimizer", "adafactor"]);
        assert_eq!(tiny.config.max_steps, TrainConfig::tiny().max_steps);
        assert_eq!(tiny.config.batch_size, 8);
        assert_eq!(tiny.config.learning_rate, 0.5);
        assert_eq!(
            tiny.config.optimizer,
            recalign_train::OptimizerConfig::adafactor()
        );
        assert!(matches!(tiny.samples, SamplesFrom::Write(_)));
        let small = resolve(&["--preset", "small", "--epochs", "3", "--samples", "s"]);
        assert_eq!((small.config.epochs, small.config.max_steps), (3, None));
        assert!(matches!(small.model, ModelSource::Preset(p) if p.name() == "small"));
        assert!(matches!(small.samples, SamplesFrom::Dir(_)));
    }

    #[test]
    fn baselines_rank_the_samples_lists_and_refuse_rating() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(&dir, "[samples.ranking]\ncandidates = 50\n");
        let base = ["baseline", "--model", "most-popular", "--config", &file];
        let resolve = |extra: &[&str]| {
            let Command::Baseline(baseline) = command(&base, extra) else {
                panic!("expected baseline")
            };
            baseline.resolve()
        };
        let ranking = resolve(&["--task", "ranking", "--seed", "5", "--split", "valid"]).unwrap();
        assert_eq!(
            ranking.protocol,
            Protocol::ranking_with(Split::Valid, 50, 5)
        );
        let retrieval = resolve(&["--exclude-history"]).unwrap();
        assert_eq!(
            retrieval.protocol,
            Protocol::retrieval_with(Split::Test, true)
        );
        let error = resolve(&["--task", "rating"]).unwrap_err().to_string();
        assert!(error.contains("predict no ratings"), "{error}");
    }
}
