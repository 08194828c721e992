//! `results.json`: everything one run of one experiment cell measured, with
//! the settings a reader needs to trust it (dataset statistics, protocol,
//! seed, stage times). The report is built from these files alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The file name of a cell's results.
pub const RESULTS_FILE: &str = "results.json";

/// The layout version of `results.json`; a report refuses other versions.
pub const RESULTS_FORMAT: u32 = 1;

/// One cell's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// [`RESULTS_FORMAT`] when written.
    pub format: u32,
    /// The recalign version that wrote it.
    pub recalign: String,
    /// The experiment's name.
    pub run: String,
    /// The cell: its axis values and seed (`tasks=rec-only,seed=1`), or
    /// empty for an experiment of one cell.
    pub cell: String,
    /// The cell without its seed: cells of one variant differ only in seed,
    /// and the report averages over them.
    pub variant: String,
    /// The training seed.
    pub seed: u64,
    /// The dataset measured on.
    pub dataset: DatasetSummary,
    /// The protocol in words (split, candidates, history rule).
    pub protocol: String,
    /// One row per model and task.
    pub rows: Vec<Row>,
    /// The fine-tuned model's training curve.
    pub curve: Vec<CurvePoint>,
    /// Wall time of each stage, in order.
    pub stages: Vec<StageTime>,
}

/// A dataset's statistics, as the paper's dataset table shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    /// Its name.
    pub name: String,
    /// Users.
    pub users: usize,
    /// Items.
    pub items: usize,
    /// Interactions.
    pub interactions: usize,
    /// Interactions over users × items.
    pub density: f64,
    /// Mean interactions per user.
    pub mean_length: f64,
    /// How items are identified to the model.
    pub id_scheme: String,
}

/// One model's metrics on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `recalign`, a baseline's name, `most-popular` or `random`.
    pub model: String,
    /// `retrieval`, `ranking` or `rating`.
    pub task: String,
    /// Metric name (`ndcg@10`, `rmse`) to value.
    pub metrics: BTreeMap<String, f64>,
    /// Users evaluated.
    pub users: usize,
}

/// A point of the training curve; fields are absent where nothing was
/// measured at that step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Optimizer steps done.
    pub step: u64,
    /// Training wall time so far.
    pub seconds: f64,
    /// Mean training loss since the previous point.
    pub train_loss: Option<f64>,
    /// Validation loss.
    pub valid_loss: Option<f64>,
    /// Validation retrieval NDCG@K.
    pub valid_ndcg: Option<f64>,
}

/// A stage's wall time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    /// The stage (`samples`, `train`, `evaluate retrieval`, …).
    pub name: String,
    /// Seconds it took in this invocation (0 when skipped).
    pub seconds: f64,
    /// Whether an earlier run's output was reused.
    pub skipped: bool,
}

impl Results {
    /// The row of `model` on `task`.
    pub fn row(&self, model: &str, task: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.model == model && r.task == task)
    }

    /// Writes the results to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Results {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        recalign_runtime::write_atomically(path, format!("{text}\n").as_bytes())?;
        Ok(())
    }

    /// Reads results written by [`Results::write`], refusing another format.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(recalign_runtime::IoError::at(path))?;
        let bad = |message: String| Error::Results {
            path: path.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let format = value.get("format").and_then(serde_json::Value::as_u64);
        if format != Some(u64::from(RESULTS_FORMAT)) {
            return Err(bad(format!(
                "results format {} where this recalign reads {RESULTS_FORMAT}",
                format.map_or("missing".to_string(), |f| f.to_string())
            )));
        }
        serde_json::from_value(value).map_err(|e| bad(e.to_string()))
    }
}

/// The results files of a run directory: its own `results.json` and those
/// of its cells (`cells/*/results.json`), in name order.
pub fn find_results(run_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let own = run_dir.join(RESULTS_FILE);
    if own.is_file() {
        found.push(own);
    }
    let cells = run_dir.join("cells");
    if cells.is_dir() {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&cells)
            .map_err(recalign_runtime::IoError::at(&cells))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.join(RESULTS_FILE).is_file())
            .collect();
        dirs.sort();
        found.extend(dirs.into_iter().map(|d| d.join(RESULTS_FILE)));
    }
    if found.is_empty() {
        return Err(Error::Empty(format!(
            "{}: no {RESULTS_FILE} (a finished `recalign run` writes one per cell)",
            run_dir.display()
        )));
    }
    Ok(found)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A cell with one recalign row and the floors.
    pub(crate) fn cell(variant: &str, seed: u64, ndcg: f64) -> Results {
        let metrics =
            |v: f64| BTreeMap::from([("hit@10".to_string(), 2.0 * v), ("ndcg@10".to_string(), v)]);
        Results {
            format: RESULTS_FORMAT,
            recalign: "0.1.0".into(),
            run: "grid".into(),
            cell: format!("{variant},seed={seed}"),
            variant: variant.into(),
            seed,
            dataset: DatasetSummary {
                name: "shop".into(),
                users: 100,
                items: 50,
                interactions: 900,
                density: 0.18,
                mean_length: 9.0,
                id_scheme: "atomic".into(),
            },
            protocol: "leave-one-out, test split".into(),
            rows: vec![
                Row {
                    model: "recalign".into(),
                    task: "retrieval".into(),
                    metrics: metrics(ndcg),
                    users: 100,
                },
                Row {
                    model: "most-popular".into(),
                    task: "retrieval".into(),
                    metrics: metrics(0.01),
                    users: 100,
                },
                Row {
                    model: "recalign".into(),
                    task: "rating".into(),
                    metrics: BTreeMap::from([
                        ("rmse".to_string(), 1.0 + ndcg),
                        ("mae".to_string(), 0.8),
                    ]),
                    users: 100,
                },
            ],
            curve: (0..4)
                .map(|i| CurvePoint {
                    step: i * 10,
                    seconds: i as f64,
                    train_loss: (i > 0).then_some(5.0 - i as f64),
                    valid_loss: Some(5.5 - i as f64),
                    valid_ndcg: (i > 0).then(|| ndcg * i as f64 / 3.0),
                })
                .collect(),
            stages: vec![StageTime {
                name: "train".into(),
                seconds: 3.0,
                skipped: false,
            }],
        }
    }

    #[test]
    fn results_round_trip_and_other_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RESULTS_FILE);
        let results = cell("tasks=all", 1, 0.05);
        results.write(&path).unwrap();
        assert_eq!(Results::read(&path).unwrap(), results);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"format\": 1", "\"format\": 7");
        std::fs::write(&path, text).unwrap();
        let err = Results::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("results format 7") && err.contains(RESULTS_FILE),
            "{err}"
        );
    }

    #[test]
    fn a_run_dir_lists_its_own_results_and_its_cells() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            find_results(dir.path())
                .unwrap_err()
                .to_string()
                .contains("no results.json")
        );
        for name in ["b", "a"] {
            let cell_dir = dir.path().join("cells").join(name);
            std::fs::create_dir_all(&cell_dir).unwrap();
            cell(name, 1, 0.1)
                .write(&cell_dir.join(RESULTS_FILE))
                .unwrap();
        }
        std::fs::create_dir_all(dir.path().join("cells/unfinished")).unwrap();
        let found = find_results(dir.path()).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.parent().unwrap().file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }
}
