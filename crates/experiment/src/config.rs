//! An experiment's TOML: what to run, as one file.
//!
//! ```toml
//! name = "shop"                  # the run folder (default: the file's stem)
//! dataset = "synthetic"          # or beauty, sports, toys, a path
//! device = "cpu"                 # cpu, cuda, cuda:N
//! seeds = [42]                   # training seeds; one cell per seed
//!
//! [model]
//! preset = "tiny"                # or from_pretrained = "models/flan-t5-base"
//!
//! [prepare]                      # the `recalign-data` table
//! id_scheme = "atomic"
//! [samples]                      # the `recalign-samples` table: mixture, wording
//! style = "informative"
//! [train]                        # the `recalign-train` table: budget
//! max_steps = 1000
//!
//! [evaluate]
//! tasks = ["retrieval", "ranking", "rating"]
//! users = 1000                   # a seeded subset of test users; absent: all
//!
//! [baselines]
//! models = ["most-popular", "sasrec"]
//! train = { epochs = 20 }        # the `recalign-baselines` tables
//!
//! [grid.tasks.rec-only]          # axis `tasks`, variant `rec-only`: overrides
//! samples.mim.per_user = 0
//! [grid.tasks.all]
//! ```
//!
//! Each `[grid.AXIS.VARIANT]` table holds overrides of the keys above. The
//! cells are every combination of one variant per axis (axes in name order),
//! times the seeds. `seeds` seed training (weights, batches, dropout,
//! validation users) and the baselines; preparation and samples keep the
//! `[prepare]` and `[samples]` seeds, so cells that differ only in seed
//! share their samples. Relative paths are read from the current folder.

use std::path::{Path, PathBuf};

use recalign_baselines::{BaselineConfig, Model};
use recalign_data::{DatasetSpec, PrepareConfig, Split};
pub use recalign_recommend::EvalTask;
use recalign_runtime::DeviceChoice;
use recalign_samples::{PerUser, SamplesConfig, Task};
use recalign_t5::Preset;
use recalign_train::{ModelSource, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The main job's experiment, embedded so that it runs anywhere.
const SHOP: &str = include_str!("../../../configs/shop.toml");

/// The main job's recipe for a named dataset.
const AMAZON: &str = include_str!("../../../configs/amazon.toml");

/// Keys an experiment file may hold at its top level.
const KEYS: &[&str] = &[
    "name",
    "dataset",
    "items",
    "device",
    "seeds",
    "model",
    "prepare",
    "samples",
    "train",
    "evaluate",
    "baselines",
    "grid",
];

/// The `[evaluate]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluateSettings {
    /// Tasks to evaluate.
    pub tasks: Vec<EvalTask>,
    /// The split: `test` (or `valid`).
    pub split: String,
    /// A seeded subset of the split's users, for the model and the
    /// baselines alike; `None` evaluates everyone.
    pub users: Option<usize>,
    /// Seed of that subset.
    pub users_seed: u64,
    /// Drop the user's own history from retrieval lists.
    pub exclude_history: bool,
    /// Beams of constrained retrieval.
    pub beams: usize,
}

impl Default for EvaluateSettings {
    fn default() -> Self {
        EvaluateSettings {
            tasks: vec![EvalTask::Retrieval, EvalTask::Ranking, EvalTask::Rating],
            split: "test".into(),
            users: None,
            users_seed: 0,
            exclude_history: false,
            beams: recalign_recommend::Settings::default().beams,
        }
    }
}

impl EvaluateSettings {
    /// The split it reads.
    pub fn split(&self) -> Split {
        if self.split == "valid" {
            Split::Valid
        } else {
            Split::Test
        }
    }
}

/// `[model]`: a fresh preset or a pretrained directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelTable {
    preset: Option<String>,
    from_pretrained: Option<PathBuf>,
}

/// The top level, before the stage tables are handed to their crates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Top {
    #[serde(default = "synthetic")]
    dataset: String,
    items: Option<PathBuf>,
    #[serde(default = "cpu")]
    device: String,
    #[serde(default)]
    model: ModelTable,
    #[serde(default)]
    evaluate: EvaluateSettings,
}

fn synthetic() -> String {
    "synthetic".into()
}
fn cpu() -> String {
    "cpu".into()
}
fn default_seeds() -> Vec<u64> {
    vec![42]
}

/// One cell of an experiment: everything its stages run with.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// Axis values and seed (`tasks=rec-only,seed=1`); empty for an
    /// experiment of one cell.
    pub name: String,
    /// The name without the seed.
    pub variant: String,
    /// The training seed.
    pub seed: u64,
    /// The dataset as named.
    pub dataset: DatasetSpec,
    /// Its item metadata, when not beside the interactions.
    pub items: Option<PathBuf>,
    /// Preparation.
    pub prepare: PrepareConfig,
    /// Samples: mixture and wording.
    pub samples: SamplesConfig,
    /// The model to start from.
    #[serde(serialize_with = "model_source")]
    pub model: ModelSource,
    /// Training.
    pub train: TrainConfig,
    /// Where models run.
    #[serde(serialize_with = "display")]
    pub device: DeviceChoice,
    /// Evaluation.
    pub evaluate: EvaluateSettings,
    /// Baselines run beside the model.
    pub baselines: Vec<Model>,
    /// Their settings.
    pub baseline_config: BaselineConfig,
}

fn model_source<S: serde::Serializer>(
    source: &ModelSource,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match source {
        ModelSource::Preset(preset) => s.serialize_str(&format!("preset {}", preset.name())),
        ModelSource::Pretrained(dir) => s.serialize_str(&format!("pretrained {}", dir.display())),
    }
}

fn display<S: serde::Serializer, T: std::fmt::Display>(
    value: &T,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&value.to_string())
}

/// An experiment read from its file: a name and its cells.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The run's name (its folder under the runs directory).
    pub name: String,
    /// Where it was read from (for messages).
    pub origin: String,
    /// The cells, in run order.
    pub cells: Vec<Cell>,
    /// The file's tables after parsing, as TOML: what `run.json` hashes to
    /// tell changed settings.
    pub text: String,
}

impl Experiment {
    /// Reads the experiment in `path`; its name defaults to the file stem.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(recalign_runtime::IoError::at(path))?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("experiment");
        Self::parse(&text, &path.display().to_string(), stem)
    }

    /// Parses an experiment's TOML `text` read from `origin`, named
    /// `default_name` unless it names itself. Every cell is resolved and
    /// checked here, before anything runs.
    pub fn parse(text: &str, origin: &str, default_name: &str) -> Result<Self> {
        let config = |message: String| Error::Config {
            origin: origin.to_string(),
            message,
        };
        let mut table: toml::Table = text.parse().map_err(|e| config(format!("{e}")))?;
        if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(config(format!(
                "unknown key `{key}` (expected one of {})",
                KEYS.join(", ")
            )));
        }
        let grid = match table.remove("grid") {
            None => Vec::new(),
            Some(toml::Value::Table(grid)) => axes(grid).map_err(config)?,
            Some(_) => return Err(config("`grid` must be a table of axes".into())),
        };
        let name = match table.get("name") {
            Some(toml::Value::String(name)) => name.clone(),
            Some(_) => return Err(config("`name` must be a string".into())),
            None => default_name.to_string(),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || name.starts_with('.')
        {
            return Err(config(format!(
                "name `{name}`: use letters, digits, `-`, `_` and `.` (it names a folder)"
            )));
        }
        let seeds = match table.get("seeds") {
            Some(value) => {
                Vec::<u64>::deserialize(value.clone()).map_err(|e| config(format!("seeds: {e}")))?
            }
            None => default_seeds(),
        };
        if seeds.is_empty() {
            return Err(config("seeds: give at least one seed".into()));
        }
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != seeds.len() {
            return Err(config("seeds: a seed is listed twice".into()));
        }
        let single = grid.is_empty() && seeds.len() == 1;
        let mut cells = Vec::new();
        for choice in combinations(&grid) {
            let mut merged = table.clone();
            let mut variant = Vec::new();
            for (axis, (value, overrides)) in grid.iter().zip(&choice) {
                variant.push(format!("{}={value}", axis.0));
                merge(&mut merged, overrides);
            }
            let variant = variant.join(",");
            for &seed in &seeds {
                let cell_name = match (single, variant.is_empty()) {
                    (true, _) => String::new(),
                    (false, true) => format!("seed={seed}"),
                    (false, false) => format!("{variant},seed={seed}"),
                };
                let cell = resolve(&merged, &cell_name, &variant, seed).map_err(|message| {
                    config(match cell_name.is_empty() {
                        true => message,
                        false => format!("cell {cell_name}: {message}"),
                    })
                })?;
                cells.push(cell);
            }
        }
        let text = toml::to_string(&table).map_err(|e| config(e.to_string()))?;
        Ok(Experiment {
            name,
            origin: origin.to_string(),
            cells,
            text,
        })
    }

    /// The main job of `recalign run` without a file: the embedded shop
    /// (`configs/shop.toml`), or with `dataset` the same recipe on that
    /// dataset with the larger budget of `configs/amazon.toml`, named after
    /// the dataset.
    pub fn main_job(dataset: Option<&str>) -> Result<Self> {
        let Some(dataset) = dataset else {
            return Self::parse(SHOP, "configs/shop.toml (embedded)", "shop");
        };
        let mut table: toml::Table = AMAZON
            .parse()
            .map_err(|e| Error::Internal(format!("{e}")))?;
        let name: String = Path::new(dataset)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("dataset")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        table.insert("dataset".into(), toml::Value::String(dataset.into()));
        table.insert("name".into(), toml::Value::String(name.clone()));
        let text = toml::to_string(&table).map_err(|e| Error::Internal(e.to_string()))?;
        Self::parse(&text, "configs/amazon.toml (embedded)", &name)
    }

    /// Whether it has one cell, written straight into the run folder.
    pub fn is_single(&self) -> bool {
        self.cells.len() == 1 && self.cells[0].name.is_empty()
    }
}

/// An axis: its name and its variants with their overrides.
type Axis = (String, Vec<(String, toml::Table)>);

/// The `[grid]` table's axes, in name order.
fn axes(grid: toml::Table) -> std::result::Result<Vec<Axis>, String> {
    let mut axes = Vec::new();
    for (axis, variants) in grid {
        let toml::Value::Table(variants) = variants else {
            return Err(format!(
                "grid.{axis}: an axis is a table of variants, e.g. [grid.{axis}.NAME]"
            ));
        };
        if variants.is_empty() {
            return Err(format!("grid.{axis}: the axis has no variants"));
        }
        let mut list = Vec::new();
        for (variant, overrides) in variants {
            let toml::Value::Table(overrides) = overrides else {
                return Err(format!(
                    "grid.{axis}.{variant}: a variant is a table of overrides"
                ));
            };
            for key in ["name", "grid", "seeds"] {
                if overrides.contains_key(key) {
                    return Err(format!(
                        "grid.{axis}.{variant}: `{key}` cannot vary between cells"
                    ));
                }
            }
            if let Some(key) = overrides.keys().find(|k| !KEYS.contains(&k.as_str())) {
                return Err(format!("grid.{axis}.{variant}: unknown key `{key}`"));
            }
            list.push((variant, overrides));
        }
        axes.push((axis, list));
    }
    Ok(axes)
}

/// Every choice of one variant per axis, the first axis slowest.
fn combinations(axes: &[Axis]) -> Vec<Vec<(String, toml::Table)>> {
    let mut out: Vec<Vec<(String, toml::Table)>> = vec![Vec::new()];
    for (_, variants) in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                variants.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    out
}

/// Lays `overrides` over `base`, table by table.
fn merge(base: &mut toml::Table, overrides: &toml::Table) {
    for (key, value) in overrides {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => merge(inner, over),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `[name]` of `table` alone, as TOML text for the crate that reads it.
fn section(table: &toml::Table, name: &str) -> std::result::Result<String, String> {
    let mut only = toml::Table::new();
    if let Some(value) = table.get(name) {
        if !value.is_table() {
            return Err(format!("`{name}` must be a table"));
        }
        only.insert(name.to_string(), value.clone());
    }
    toml::to_string(&only).map_err(|e| e.to_string())
}

/// One cell's typed settings from its merged table.
fn resolve(
    table: &toml::Table,
    name: &str,
    variant: &str,
    seed: u64,
) -> std::result::Result<Cell, String> {
    let mut top_only = table.clone();
    for key in ["name", "seeds", "prepare", "samples", "train", "baselines"] {
        top_only.remove(key);
    }
    let top = Top::deserialize(toml::Value::Table(top_only)).map_err(|e| e.to_string())?;
    let dataset = DatasetSpec::parse(&top.dataset).map_err(|e| format!("dataset: {e}"))?;
    let device: DeviceChoice = top.device.parse().map_err(|e| format!("device: {e}"))?;
    let prepare = PrepareConfig::from_toml_str(&section(table, "prepare")?)?;
    prepare.validate().map_err(|e| e.to_string())?;
    let samples = SamplesConfig::from_toml_str(&section(table, "samples")?)?;
    samples.validate().map_err(|e| format!("samples.{e}"))?;
    if Task::ALL
        .iter()
        .all(|&t| matches!(samples.per_user(t), PerUser::Count(n) if n == 0.0))
    {
        return Err(
            "samples: every task has per_user = 0, so training would see no samples".into(),
        );
    }
    let model = match (&top.model.preset, &top.model.from_pretrained) {
        (Some(_), Some(_)) => {
            return Err("model: give `preset` or `from_pretrained`, not both".into());
        }
        (_, Some(dir)) => ModelSource::Pretrained(dir.clone()),
        (preset, None) => ModelSource::Preset(
            Preset::parse(preset.as_deref().unwrap_or("tiny"))
                .map_err(|e| format!("model.preset: {e}"))?,
        ),
    };
    let base = match model {
        ModelSource::Preset(Preset::Tiny) => TrainConfig::tiny(),
        _ => TrainConfig::default(),
    };
    let mut train = TrainConfig::from_toml_over(&section(table, "train")?, "[train]", &base)
        .map_err(|e| e.to_string())?;
    train.seed = seed;
    train.validate().map_err(|e| format!("train: {e}"))?;
    let evaluate = top.evaluate;
    if evaluate.tasks.is_empty() {
        return Err("evaluate.tasks: name at least one of retrieval, ranking, rating".into());
    }
    if evaluate.split != "test" && evaluate.split != "valid" {
        return Err(format!(
            "evaluate.split: `{}` is not test or valid",
            evaluate.split
        ));
    }
    if evaluate.users == Some(0) {
        return Err("evaluate.users: 0 users would measure nothing; leave it out for all".into());
    }
    if evaluate.beams == 0 {
        return Err("evaluate.beams: must be at least 1".into());
    }
    let (baselines, baseline_config) = baselines(table.get("baselines"), seed)?;
    Ok(Cell {
        name: name.to_string(),
        variant: variant.to_string(),
        seed,
        dataset,
        items: top.items,
        prepare,
        samples,
        model,
        train,
        device,
        evaluate,
        baselines,
        baseline_config,
    })
}

/// `[baselines]`: `models`, and the baselines' own tables for the rest.
fn baselines(
    value: Option<&toml::Value>,
    seed: u64,
) -> std::result::Result<(Vec<Model>, BaselineConfig), String> {
    let mut table = match value {
        None => toml::Table::new(),
        Some(toml::Value::Table(t)) => t.clone(),
        Some(_) => return Err("`baselines` must be a table".into()),
    };
    let models = match table.remove("models") {
        None => vec![Model::MostPopular],
        Some(value) => {
            let names =
                Vec::<String>::deserialize(value).map_err(|e| format!("baselines.models: {e}"))?;
            let mut models = Vec::new();
            for name in names {
                let model = Model::ALL
                    .into_iter()
                    .find(|m| m.name() == name)
                    .ok_or_else(|| {
                        let known: Vec<_> = Model::ALL.iter().map(|m| m.name()).collect();
                        format!(
                            "baselines.models: unknown `{name}` (known: {})",
                            known.join(", ")
                        )
                    })?;
                if !models.contains(&model) {
                    models.push(model);
                }
            }
            models
        }
    };
    let text = toml::to_string(&table).map_err(|e| e.to_string())?;
    let mut config = BaselineConfig::from_toml_str(&text).map_err(|e| format!("baselines: {e}"))?;
    config.train.seed = seed;
    config.validate().map_err(|e| format!("baselines: {e}"))?;
    Ok((models, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Experiment> {
        Experiment::parse(text, "exp.toml", "exp")
    }

    #[test]
    fn a_plain_file_is_one_cell_with_the_defaults() {
        let e = parse("").unwrap();
        assert_eq!(e.name, "exp");
        assert!(e.is_single());
        let cell = &e.cells[0];
        assert_eq!(cell.dataset, DatasetSpec::parse("synthetic").unwrap());
        assert_eq!(cell.model, ModelSource::Preset(Preset::Tiny));
        assert_eq!(cell.train.max_steps, TrainConfig::tiny().max_steps);
        assert_eq!(cell.baselines, vec![Model::MostPopular]);
        assert_eq!(cell.evaluate.tasks.len(), 3);
    }

    #[test]
    fn the_main_job_is_the_shop_or_the_named_dataset() {
        let shop = Experiment::main_job(None).unwrap();
        assert_eq!(shop.name, "shop");
        assert!(shop.is_single());
        assert_eq!(
            shop.cells[0].dataset,
            DatasetSpec::parse("synthetic").unwrap()
        );
        assert_eq!(
            shop.cells[0].baselines,
            vec![Model::MostPopular, Model::SasRec]
        );
        let beauty = Experiment::main_job(Some("beauty")).unwrap();
        assert_eq!(beauty.name, "beauty");
        assert_eq!(
            beauty.cells[0].dataset,
            DatasetSpec::parse("beauty").unwrap()
        );
        assert!(beauty.cells[0].train.max_steps > shop.cells[0].train.max_steps);
    }

    #[test]
    fn every_shipped_config_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut read = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let e = Experiment::read(&path).unwrap_or_else(|e| panic!("{e}"));
                assert!(!e.cells.is_empty());
                read += 1;
            }
        }
        assert!(read >= 5, "{read} configs");
        let grid = Experiment::read(&dir.join("ablation-beauty.toml")).unwrap();
        assert_eq!(grid.cells.len(), 18);
    }

    #[test]
    fn a_grid_crosses_its_axes_and_the_seeds() {
        let e = parse(
            "name = \"g\"\nseeds = [1, 2]\n[train]\nmax_steps = 5\n\
             [grid.tasks.rec-only]\nsamples.mim.per_user = 0\n[grid.tasks.all]\n\
             [grid.wording.p5]\nsamples.style = \"p5\"\n[grid.wording.informative]\n",
        )
        .unwrap();
        let names: Vec<&str> = e.cells.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tasks=all,wording=informative,seed=1",
                "tasks=all,wording=informative,seed=2",
                "tasks=all,wording=p5,seed=1",
                "tasks=all,wording=p5,seed=2",
                "tasks=rec-only,wording=informative,seed=1",
                "tasks=rec-only,wording=informative,seed=2",
                "tasks=rec-only,wording=p5,seed=1",
                "tasks=rec-only,wording=p5,seed=2",
            ]
        );
        let rec_only = &e.cells[6];
        assert_eq!(rec_only.variant, "tasks=rec-only,wording=p5");
        assert_eq!(
            rec_only.samples.per_user(Task::MaskedItemModeling),
            PerUser::Count(0.0)
        );
        assert_eq!(rec_only.samples.style, recalign_samples::Style::P5);
        assert_eq!(
            (rec_only.train.seed, rec_only.baseline_config.train.seed),
            (1, 1)
        );
        assert_eq!(rec_only.train.max_steps, Some(5));
        assert!(!e.is_single());
    }

    #[test]
    fn bad_files_name_the_key_and_the_cell() {
        for (text, expected) in [
            ("frobnicate = 1\n", "unknown key `frobnicate`"),
            ("[train]\nmax_stepz = 3\n", "max_stepz"),
            ("[samples]\nstyle = \"chatty\"\n", "chatty"),
            ("[model]\npreset = \"huge\"\n", "model.preset"),
            (
                "[model]\npreset = \"tiny\"\nfrom_pretrained = \"x\"\n",
                "not both",
            ),
            ("[evaluate]\ntasks = []\n", "evaluate.tasks"),
            ("[evaluate]\ntasks = [\"rank\"]\n", "rank"),
            ("[baselines]\nmodels = [\"svd\"]\n", "unknown `svd`"),
            ("[baselines.sasrec]\nheads = 0\n", "baselines"),
            ("seeds = []\n", "at least one seed"),
            ("seeds = [1, 1]\n", "listed twice"),
            ("name = \"../x\"\n", "names a folder"),
            ("device = \"tpu\"\n", "device"),
            (
                "[samples.retrieval]\nper_user = 0\n[samples.ranking]\nper_user = 0\n[samples.rating]\nper_user = 0\n\
                 [samples.mim]\nper_user = 0\n[samples.mlm]\nper_user = 0\n[samples.bpr]\nper_user = 0\n",
                "no samples",
            ),
            ("[grid.tasks]\n", "no variants"),
            ("[grid.tasks.a]\nseeds = [3]\n", "cannot vary"),
            (
                "[grid.lr.high]\ntrain.learning_rate = -1.0\n",
                "cell lr=high,seed=42",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(
                err.contains(expected) && err.contains("exp.toml"),
                "{text:?}: {err}"
            );
        }
    }
}
