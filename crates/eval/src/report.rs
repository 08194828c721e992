//! What an evaluation writes: the JSON [`Report`] of `recalign evaluate` and
//! `recalign baseline`, and the per-user rankings file.
//!
//! A report carries everything needed to compare a number with another:
//! dataset (with its preparation settings), model, protocol, every metric,
//! users evaluated and skipped, time, and the recalign version. The rankings
//! file has one JSON line per user, `{"user", "target", "ranked"}` with raw
//! ids, so anyone can recompute the metrics ([`metrics_from_rankings`])
//! without recalign. Both are written atomically (a temporary file in the
//! same folder, then a rename), so a reader never sees half a file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use recalign_data::{Dataset, PrepareConfig, Split};
use recalign_runtime::{AtomicFile, write_atomically};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, FileErrors, Result};
use crate::evaluation::UserRanking;
use crate::metrics::RankingMetrics;
use crate::protocol::Protocol;

/// The version of recalign that wrote a report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The evaluated dataset: its size and how it was prepared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Short name (`beauty`, `synthetic`, or a file's stem).
    pub name: String,
    /// Users after preparation.
    pub users: usize,
    /// Catalogue items after preparation.
    pub items: usize,
    /// Interactions after preparation.
    pub interactions: usize,
    /// k-core, tie rule, identifier scheme, seed, history length.
    pub prepare: PrepareConfig,
}

impl DatasetInfo {
    /// The description of `dataset`.
    pub fn of(dataset: &Dataset) -> Self {
        DatasetInfo {
            name: dataset.name.clone(),
            users: dataset.num_users(),
            items: dataset.num_items(),
            interactions: dataset.num_interactions(),
            prepare: dataset.config.clone(),
        }
    }
}

/// The evaluated model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Its name (`recalign`, `most-popular`, `sasrec`, …).
    pub name: String,
    /// Checkpoint file or folder, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Free text: decoding settings, training run, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ModelInfo {
    /// A model known by name only.
    pub fn new(name: impl Into<String>) -> Self {
        ModelInfo {
            name: name.into(),
            path: None,
            description: None,
        }
    }

    /// With a checkpoint path.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// With a description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

impl fmt::Display for ModelInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(description) = &self.description {
            write!(f, " ({description})")?;
        }
        if let Some(path) = &self.path {
            write!(f, " from {}", path.display())?;
        }
        Ok(())
    }
}

/// Metric values by name (`hit@10`, `ndcg@10`, `mrr`, `rmse`, …), in a
/// fixed order; serialised as a JSON object in that order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics(Vec<(String, f64)>);

impl Metrics {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }

    /// Sets `name` to `value`, replacing an earlier value in place or
    /// appending.
    pub fn insert(&mut self, name: impl Into<String>, value: f64) {
        let name = name.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// `(name, value)` pairs in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, f64)> {
        self.0.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// Number of metrics.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<(String, f64)>> for Metrics {
    fn from(values: Vec<(String, f64)>) -> Self {
        let mut metrics = Metrics::default();
        for (name, value) in values {
            metrics.insert(name, value);
        }
        metrics
    }
}

impl Serialize for Metrics {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct InOrder;

        impl<'de> Visitor<'de> for InOrder {
            type Value = Metrics;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of metric names and numbers")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Metrics, A::Error> {
                let mut out = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, f64>()? {
                    if out.iter().any(|(n, _)| *n == name) {
                        return Err(serde::de::Error::custom(format!(
                            "metric `{name}` appears twice"
                        )));
                    }
                    out.push((name, value));
                }
                Ok(Metrics(out))
            }
        }

        deserializer.deserialize_map(InOrder)
    }
}

/// The JSON report of one model evaluated under one protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The recalign version that wrote it.
    pub recalign_version: String,
    /// The dataset.
    pub dataset: DatasetInfo,
    /// `valid` or `test` (the protocol's split, repeated for readers).
    pub split: Split,
    /// The model.
    pub model: ModelInfo,
    /// How it was evaluated.
    pub protocol: Protocol,
    /// Every metric, by name.
    pub metrics: Metrics,
    /// Users with a ranking or rating.
    pub users_evaluated: usize,
    /// Users the model could not evaluate (or without a rating).
    pub users_skipped: usize,
    /// Wall time of the evaluation in seconds.
    pub seconds: f64,
    /// Evaluated users per second of wall time.
    pub users_per_second: f64,
    /// Model-specific facts: beam width, invalid-output rate, ….
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Report {
    /// Records in `extra` the seeded subset of users it was measured on
    /// (`users_limit`, `users_seed`); nothing for every user.
    pub fn record_users(&mut self, users: Option<crate::UserSample>) {
        if let Some(sample) = users {
            self.extra
                .insert("users_limit".into(), serde_json::json!(sample.users));
            self.extra
                .insert("users_seed".into(), serde_json::json!(sample.seed));
        }
    }

    /// A report; `users` is (evaluated, skipped), and the split and speed are
    /// derived from `protocol` and `seconds`.
    pub fn new(
        dataset: DatasetInfo,
        model: ModelInfo,
        protocol: Protocol,
        metrics: Metrics,
        users: (usize, usize),
        seconds: f64,
    ) -> Self {
        let (evaluated, skipped) = users;
        Report {
            recalign_version: VERSION.to_string(),
            dataset,
            split: protocol.split,
            model,
            protocol,
            metrics,
            users_evaluated: evaluated,
            users_skipped: skipped,
            seconds,
            users_per_second: if seconds > 0.0 {
                evaluated as f64 / seconds
            } else {
                0.0
            },
            extra: BTreeMap::new(),
        }
    }

    /// The value of metric `name`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.get(name)
    }

    /// Writes the report as pretty JSON to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| Error::io(path, e.into()))?;
        text.push(b'\n');
        Ok(write_atomically(path, &text)?)
    }

    /// Reads a report written by [`Report::write`].
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_slice(&text).map_err(|source| Error::Report {
            path: path.to_path_buf(),
            source,
        })
    }

    /// A short aligned text table: what was evaluated, then one metric per
    /// row with four decimals.
    pub fn table(&self) -> String {
        let d = &self.dataset;
        let header = [
            (
                "dataset",
                format!(
                    "{} ({} users, {} items, {} interactions)",
                    d.name, d.users, d.items, d.interactions
                ),
            ),
            ("model", self.model.to_string()),
            ("protocol", self.protocol.to_string()),
            (
                "users",
                format!(
                    "{} evaluated, {} skipped, {:.2} s ({:.0} users/s)",
                    self.users_evaluated, self.users_skipped, self.seconds, self.users_per_second
                ),
            ),
        ];
        let mut out = String::new();
        for (name, value) in header {
            let _ = writeln!(out, "{name:<9} {value}");
        }
        let width = self
            .metrics
            .iter()
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(0)
            .max("metric".len());
        let _ = writeln!(out, "\n{:<width$}  {:>6}", "metric", "value");
        for (name, value) in self.metrics.iter() {
            let _ = writeln!(out, "{name:<width$}  {value:>6.4}");
        }
        out
    }
}

/// One line of a rankings file: a user's held-out item and ranked items,
/// by raw id, best first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankingLine {
    /// The user's raw id.
    pub user: String,
    /// The held-out item's raw id.
    pub target: String,
    /// Raw item ids, best first.
    pub ranked: Vec<String>,
}

impl RankingLine {
    /// The line of an evaluated user, with `dataset`'s raw ids.
    pub fn of(dataset: &Dataset, ranking: &UserRanking) -> Self {
        let raw = |i| dataset.item(i).raw_id.clone();
        RankingLine {
            user: dataset.user_id(ranking.user).to_string(),
            target: raw(ranking.target),
            ranked: ranking.ranked.iter().map(|&i| raw(i)).collect(),
        }
    }
}

/// Writes a rankings file line by line; the file appears, complete, only on
/// [`RankingsWriter::finish`].
pub struct RankingsWriter {
    path: PathBuf,
    file: BufWriter<AtomicFile>,
    lines: usize,
}

impl RankingsWriter {
    /// Starts writing `path` (through a temporary file in its folder).
    pub fn create(path: &Path) -> Result<Self> {
        Ok(RankingsWriter {
            path: path.to_path_buf(),
            file: BufWriter::new(AtomicFile::create(path)?),
            lines: 0,
        })
    }

    /// Appends one line.
    pub fn write(&mut self, line: &RankingLine) -> Result<()> {
        let path = &self.path;
        serde_json::to_writer(&mut self.file, line).map_err(|e| Error::io(path, e.into()))?;
        self.file.write_all(b"\n").map_err(|e| Error::io(path, e))?;
        self.lines += 1;
        Ok(())
    }

    /// Moves the file into place and returns the number of lines.
    pub fn finish(self) -> Result<usize> {
        let path = self.path;
        let file = self
            .file
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        file.commit()?;
        Ok(self.lines)
    }
}

/// Reads a rankings file, checking every line: a JSON object with exactly
/// `user` and `target` (non-empty strings) and `ranked` (an array of
/// distinct strings; it may be empty), one line per user. Blank lines are
/// skipped. Errors name the file, the line and the field.
pub fn read_rankings(path: &Path) -> Result<Vec<RankingLine>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut users: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = parse_ranking_line(line).map_err(|e| match e {
            LineError::Line(message) => Error::line(path, line_no, message),
            LineError::Field(field, message) => Error::field(path, line_no, &field, message),
        })?;
        if let Some(first) = users.insert(parsed.user.clone(), line_no) {
            return Err(Error::field(
                path,
                line_no,
                "user",
                format!("`{}` already has a ranking on line {first}", parsed.user),
            ));
        }
        out.push(parsed);
    }
    Ok(out)
}

enum LineError {
    Line(String),
    Field(String, String),
}

fn parse_ranking_line(line: &str) -> std::result::Result<RankingLine, LineError> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| LineError::Line(format!("not JSON: {e}")))?;
    let serde_json::Value::Object(mut object) = value else {
        return Err(LineError::Line(
            "expected a JSON object with user, target and ranked".to_string(),
        ));
    };
    let field = |name: &str, message: String| LineError::Field(name.to_string(), message);
    let mut text = |name: &str| match object.remove(name) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s),
        Some(serde_json::Value::String(_)) => Err(field(name, "is empty".into())),
        Some(other) => Err(field(name, format!("expected a string, found {other}"))),
        None => Err(field(name, "is missing".into())),
    };
    let user = text("user")?;
    let target = text("target")?;
    let ranked = match object.remove("ranked") {
        Some(serde_json::Value::Array(items)) => items,
        Some(other) => {
            return Err(field(
                "ranked",
                format!("expected an array of item ids, found {other}"),
            ));
        }
        None => return Err(field("ranked", "is missing".into())),
    };
    if let Some(extra) = object.keys().next() {
        return Err(field(
            extra,
            "unknown field (expected user, target, ranked)".into(),
        ));
    }
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(ranked.len());
    for (at, item) in ranked.into_iter().enumerate() {
        let serde_json::Value::String(item) = item else {
            return Err(field(
                "ranked",
                format!("entry {at} is {item}, not an item id string"),
            ));
        };
        if !seen.insert(item.clone()) {
            return Err(field("ranked", format!("`{item}` is listed twice")));
        }
        items.push(item);
    }
    Ok(RankingLine {
        user,
        target,
        ranked: items,
    })
}

/// The ranking metrics at cut-offs `ks` recomputed from rankings lines. A
/// line holds the top max(K) items for retrieval, so `hit@K`, `ndcg@K` and
/// `mrr@K` match the report exactly; `mrr` is there, and matches, whenever
/// every target is in its list (ranking over candidates).
pub fn metrics_from_rankings(lines: &[RankingLine], ks: &[usize]) -> Result<RankingMetrics> {
    let mut metrics = RankingMetrics::new(ks)?;
    for line in lines {
        metrics.add_ranked(&line.ranked, &line.target);
    }
    Ok(metrics)
}
