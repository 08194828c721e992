//! Content-addressed stages and the run folder's identity.
//!
//! A stage's key is a hash of everything its output depends on: its
//! settings and its inputs' keys. Its folder holds `stage.json` with that
//! key, written as the stage starts (`finished: false`) and again when it
//! ends. A rerun skips a finished stage with the same key, resumes an
//! unfinished training with the same key, and redoes anything else.
//!
//! `run.json` names the recalign run layout and the hash of the settings a
//! run folder was made with: a folder of another layout is refused, and so
//! are changed settings under the same name unless forced.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Bumped when a stage's output changes meaning, so old outputs are redone.
const STAGE_FORMAT: u32 = 2;

/// The run folder layout this recalign writes and reads.
pub const RUN_FORMAT: u32 = 1;

/// The record file in each stage's folder.
pub const STAGE_FILE: &str = "stage.json";

/// The identity file of a run folder.
pub const RUN_FILE: &str = "run.json";

/// A stage's key: SHA-256 (first 16 hex digits) of its name and inputs.
pub fn key(stage: &str, inputs: &impl Serialize) -> String {
    let json = serde_json::to_string(inputs).unwrap_or_default();
    let digest = Sha256::digest(format!("{STAGE_FORMAT}\n{stage}\n{json}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// What a stage folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// The stage.
    pub stage: String,
    /// Its key.
    pub key: String,
    /// Whether it completed.
    pub finished: bool,
    /// Seconds its last invocation took.
    pub seconds: f64,
}

/// Where a stage stands on disk.
#[derive(Debug, Clone, PartialEq)]
pub enum StageState {
    /// Done with this key: reuse it.
    Done,
    /// Started with this key and not finished: training resumes it.
    Started,
    /// Absent, or made with other settings: (re)do it.
    Fresh,
}

/// The state of the stage in `dir` for `key`.
pub fn state(dir: &Path, key: &str) -> StageState {
    let Ok(text) = std::fs::read_to_string(dir.join(STAGE_FILE)) else {
        return StageState::Fresh;
    };
    match serde_json::from_str::<StageRecord>(&text) {
        Ok(record) if record.key == key && record.finished => StageState::Done,
        Ok(record) if record.key == key => StageState::Started,
        _ => StageState::Fresh,
    }
}

/// Writes `dir`'s stage record.
pub fn record(dir: &Path, record: &StageRecord) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(recalign_runtime::IoError::at(dir))?;
    let text = serde_json::to_string_pretty(record).map_err(|e| Error::Internal(e.to_string()))?;
    recalign_runtime::write_atomically(&dir.join(STAGE_FILE), text.as_bytes())?;
    Ok(())
}

/// Empties `dir` for a fresh start of its stage.
pub fn clear(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(recalign_runtime::IoError::at(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(recalign_runtime::IoError::at(dir))?;
    Ok(())
}

/// `run.json`: the layout and the settings a run folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// [`RUN_FORMAT`] of the recalign that made it.
    pub format: u32,
    /// That recalign's version.
    pub recalign: String,
    /// The experiment's name.
    pub name: String,
    /// Hash of its settings.
    pub settings: String,
}

/// Checks the run folder `dir` against `identity` and claims it: a folder
/// of another layout is refused; other settings under the same name are
/// refused unless `force`. Nothing is written when it is refused.
pub fn claim(dir: &Path, identity: &RunIdentity, force: bool) -> Result<()> {
    let path = dir.join(RUN_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let refused = |message: String| Error::RunDir {
            path: path.clone(),
            message,
        };
        let found: RunIdentity = serde_json::from_str(&text).map_err(|e| {
            refused(format!(
                "not a recalign run folder this version reads ({e}); choose another name or remove it"
            ))
        })?;
        if found.format != RUN_FORMAT {
            return Err(refused(format!(
                "written by recalign {} in run layout {}, which this recalign ({}) does not read; \
                 choose another name or remove the folder",
                found.recalign,
                found.format,
                env!("CARGO_PKG_VERSION")
            )));
        }
        if found.settings != identity.settings && !force {
            return Err(refused(format!(
                "the run `{}` was made with other settings; rename the experiment, or pass \
                 --force to rerun the stages whose settings changed",
                found.name
            )));
        }
    } else if dir.exists() && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(Error::RunDir {
            path: dir.to_path_buf(),
            message: format!("exists, is not empty and has no {RUN_FILE}; choose another name"),
        });
    }
    std::fs::create_dir_all(dir).map_err(recalign_runtime::IoError::at(dir))?;
    let text =
        serde_json::to_string_pretty(identity).map_err(|e| Error::Internal(e.to_string()))?;
    recalign_runtime::write_atomically(&path, text.as_bytes())?;
    Ok(())
}

/// The folder of a shared stage output: `root/STAGE-KEY`.
pub fn shared_dir(root: &Path, stage: &str, key: &str) -> PathBuf {
    root.join(format!("{stage}-{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(settings: &str) -> RunIdentity {
        RunIdentity {
            format: RUN_FORMAT,
            recalign: "0.1.0".into(),
            name: "x".into(),
            settings: settings.into(),
        }
    }

    #[test]
    fn keys_follow_the_inputs() {
        assert_eq!(key("train", &(1, "a")), key("train", &(1, "a")));
        assert_ne!(key("train", &(1, "a")), key("train", &(2, "a")));
        assert_ne!(key("train", &(1, "a")), key("samples", &(1, "a")));
        assert_eq!(key("x", &0).len(), 16);
    }

    #[test]
    fn a_stage_is_done_started_or_fresh_by_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let stage = dir.path().join("train");
        assert_eq!(state(&stage, "k"), StageState::Fresh);
        let mut rec = StageRecord {
            stage: "train".into(),
            key: "k".into(),
            finished: false,
            seconds: 0.0,
        };
        record(&stage, &rec).unwrap();
        assert_eq!(state(&stage, "k"), StageState::Started);
        assert_eq!(state(&stage, "other"), StageState::Fresh);
        rec.finished = true;
        record(&stage, &rec).unwrap();
        assert_eq!(state(&stage, "k"), StageState::Done);
        clear(&stage).unwrap();
        assert_eq!(state(&stage, "k"), StageState::Fresh);
    }

    #[test]
    fn a_run_folder_refuses_other_settings_and_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        claim(&run, &identity("a"), false).unwrap();
        claim(&run, &identity("a"), false).unwrap();
        let err = claim(&run, &identity("b"), false).unwrap_err().to_string();
        assert!(
            err.contains("other settings") && err.contains("--force"),
            "{err}"
        );
        claim(&run, &identity("b"), true).unwrap();
        let old = RunIdentity {
            format: RUN_FORMAT + 1,
            ..identity("b")
        };
        std::fs::write(run.join(RUN_FILE), serde_json::to_string(&old).unwrap()).unwrap();
        let err = claim(&run, &identity("b"), true).unwrap_err().to_string();
        assert!(
            err.contains("run layout 2") && err.contains(RUN_FILE),
            "{err}"
        );
        let stray = dir.path().join("stray");
        std::fs::create_dir_all(&stray).unwrap();
        std::fs::write(stray.join("notes.txt"), "mine").unwrap();
        let err = claim(&stray, &identity("a"), true).unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
        assert!(!stray.join(RUN_FILE).exists());
    }
}
