//! Model selection on validation: the learning curve of a run and its best
//! model so far.
//!
//! At every validation the trainer saves the model into a staging folder
//! and asks its [`Observer`](crate::Observer) to measure retrieval on a
//! seeded subset of validation users (the CLI does it with
//! `recalign-recommend`, the code `recalign evaluate` runs; this crate
//! depends on no evaluator). A better NDCG@K than any before replaces
//! `OUT/best/` (the paper selects on validation, `paper.md` §6); `patience`
//! validations without one stop the run. Every point goes to
//! `OUT/curves.csv`, rewritten atomically from the trainer state, so a
//! resumed run's curve is the checkpoint's, continued.

use std::path::{Path, PathBuf};

use recalign_model_dir::ModelFile;
use recalign_runtime::{IoError, write_atomically};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The folder of the best model so far, inside the run's output.
pub const BEST_DIR: &str = ModelFile::Best.name();
/// The learning curve, inside the run's output.
pub const CURVES_FILE: &str = ModelFile::Curves.name();
/// Which step and score `best/` holds, inside it.
pub const SELECTION_FILE: &str = "selection.json";

/// Retrieval measured on validation users for one saved model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// NDCG@K, the selection metric.
    pub ndcg: f64,
    /// Hit@K.
    pub hit: f64,
    /// The K.
    pub k: usize,
    /// Users measured.
    pub users: usize,
}

/// One point of the learning curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Optimizer steps done.
    pub step: u64,
    /// Wall seconds of the run so far (training and validation, over
    /// resumes).
    pub seconds: f64,
    /// Mean training loss of the steps since the previous point.
    pub train_loss: Option<f64>,
    /// Validation loss.
    pub valid_loss: Option<f64>,
    /// Retrieval on validation users.
    pub measured: Option<Measured>,
}

/// The best model so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Best {
    /// Its step.
    pub step: u64,
    /// Its scores.
    pub measured: Measured,
}

/// Writes `points` as `OUT/curves.csv`, replacing the file atomically.
pub fn write_curves(out: &Path, points: &[CurvePoint]) -> Result<()> {
    let mut text =
        String::from("step,seconds,train_loss,valid_loss,users,k,valid_ndcg,valid_hit\n");
    let cell = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
    for p in points {
        let m = p.measured;
        text.push_str(&format!(
            "{},{:.1},{},{},{},{},{},{}\n",
            p.step,
            p.seconds,
            cell(p.train_loss),
            cell(p.valid_loss),
            m.map_or(String::new(), |m| m.users.to_string()),
            m.map_or(String::new(), |m| m.k.to_string()),
            cell(m.map(|m| m.ndcg)),
            cell(m.map(|m| m.hit)),
        ));
    }
    Ok(write_atomically(&out.join(CURVES_FILE), text.as_bytes())?)
}

/// Reads `OUT/curves.csv` as [`write_curves`] wrote it; a run that has
/// not written one yet has an empty curve.
pub fn read_curves(out: &Path) -> Result<Vec<CurvePoint>> {
    let path = out.join(CURVES_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IoError::new(&path, e).into()),
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let columns = [
        "step",
        "seconds",
        "train_loss",
        "valid_loss",
        "users",
        "k",
        "valid_ndcg",
        "valid_hit",
    ]
    .map(column);
    let mut points = Vec::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let number = |c: usize| {
            columns[c]
                .and_then(|i| fields.get(i))
                .and_then(|f| f.parse::<f64>().ok())
        };
        let Some(step) = number(0) else {
            return Err(crate::Error::Checkpoint {
                path: path.clone(),
                message: format!("line {}: field `step` is not a number", n + 2),
            });
        };
        let measured = match (number(4), number(5), number(6), number(7)) {
            (Some(users), Some(k), Some(ndcg), Some(hit)) => Some(Measured {
                ndcg,
                hit,
                k: k as usize,
                users: users as usize,
            }),
            _ => None,
        };
        points.push(CurvePoint {
            step: step as u64,
            seconds: number(1).unwrap_or(0.0),
            train_loss: number(2),
            valid_loss: number(3),
            measured,
        });
    }
    Ok(points)
}

/// Makes the model in `staged` (a folder inside `out`) the run's `best/`,
/// with its selection record; the previous best is removed only once the
/// new one is in place.
pub fn promote(out: &Path, staged: &Path, best: &Best) -> Result<PathBuf> {
    let record = serde_json::to_string_pretty(best).expect("selection serialises");
    write_atomically(&staged.join(SELECTION_FILE), record.as_bytes())?;
    let target = out.join(BEST_DIR);
    let previous = out.join(format!("{BEST_DIR}.previous"));
    if previous.exists() {
        std::fs::remove_dir_all(&previous).map_err(IoError::at(&previous))?;
    }
    if target.exists() {
        std::fs::rename(&target, &previous).map_err(IoError::at(&target))?;
    }
    std::fs::rename(staged, &target).map_err(IoError::at(&target))?;
    if previous.exists() {
        std::fs::remove_dir_all(&previous).map_err(IoError::at(&previous))?;
    }
    Ok(target)
}

/// Reads the selection record of a `best/` folder.
pub fn read_selection(best_dir: &Path) -> Result<Best> {
    let path = best_dir.join(SELECTION_FILE);
    let text = std::fs::read_to_string(&path).map_err(IoError::at(&path))?;
    serde_json::from_str(&text).map_err(|e| crate::Error::Checkpoint {
        path,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_curves(dir.path()).unwrap().is_empty());
        let points = vec![
            CurvePoint {
                step: 0,
                seconds: 0.0,
                train_loss: None,
                valid_loss: Some(9.5),
                measured: None,
            },
            CurvePoint {
                step: 100,
                seconds: 12.5,
                train_loss: Some(4.25),
                valid_loss: Some(4.5),
                measured: Some(Measured {
                    ndcg: 0.03125,
                    hit: 0.0625,
                    k: 10,
                    users: 300,
                }),
            },
        ];
        write_curves(dir.path(), &points).unwrap();
        assert_eq!(read_curves(dir.path()).unwrap(), points);
        std::fs::write(dir.path().join(CURVES_FILE), "step,seconds\nten,1\n").unwrap();
        let message = read_curves(dir.path()).unwrap_err().to_string();
        assert!(
            message.contains("curves.csv")
                && message.contains("line 2")
                && message.contains("step"),
            "{message}"
        );
    }
}
