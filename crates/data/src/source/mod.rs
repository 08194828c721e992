//! Readers for every on-disk dataset format, all producing [`RawData`].
//!
//! | format | files | module |
//! |---|---|---|
//! | tabular (recalign's shared Amazon files, and a user's own data) | `interactions.{tsv,csv}[.gz]` with `user,item[,rating][,timestamp]` columns, optional `items.jsonl[.gz]` | [`tabular`], [`items`] |
//! | McAuley 2014 originals | `reviews_<Category>_5.json.gz` (JSON lines), `meta_<Category>.json.gz` (Python literals) | [`mcauley`] |
//!
//! Interaction files are read strictly: a bad line is an error naming the
//! file, line and field. Item metadata is optional enrichment, so a bad
//! metadata line is skipped and counted, and the first few are logged.

pub mod items;
pub mod mcauley;
pub mod pyliteral;
pub mod tabular;

use std::path::{Path, PathBuf};

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Maps string ids to dense `u32` indices in order of first appearance.
///
/// The ids live in one string arena; the hash table holds each id's index
/// and arena span, so a lookup touches the table and the arena only, and
/// interning allocates nothing per id (this is the hot loop of loading).
#[derive(Debug, Default, Clone)]
pub struct Interner {
    arena: String,
    spans: Vec<(u32, u32)>,
    table: HashTable<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    index: u32,
    start: u32,
    end: u32,
}

impl Interner {
    #[inline]
    fn hash(id: &str) -> u64 {
        FxBuildHasher.hash_one(id)
    }

    /// The index of `id`, adding it if new.
    #[inline]
    pub fn intern(&mut self, id: &str) -> u32 {
        let hash = Self::hash(id);
        let arena = &self.arena;
        if let Some(e) = self
            .table
            .find(hash, |e| &arena[e.start as usize..e.end as usize] == id)
        {
            return e.index;
        }
        let index = u32::try_from(self.spans.len()).unwrap_or(u32::MAX);
        let start = self.arena.len() as u32;
        self.arena.push_str(id);
        let end = self.arena.len() as u32;
        self.spans.push((start, end));
        let arena = &self.arena;
        self.table
            .insert_unique(hash, Entry { index, start, end }, |e| {
                Self::hash(&arena[e.start as usize..e.end as usize])
            });
        index
    }

    /// The index of `id`, if present.
    pub fn get(&self, id: &str) -> Option<u32> {
        self.table
            .find(Self::hash(id), |e| {
                &self.arena[e.start as usize..e.end as usize] == id
            })
            .map(|e| e.index)
    }

    /// The id at `index`.
    pub fn name(&self, index: u32) -> &str {
        let (start, end) = self.spans[index as usize];
        &self.arena[start as usize..end as usize]
    }

    /// Number of distinct ids.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when no id was added.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// A rating and a time, either of which may be unknown. Stored as
/// sentinels (NaN, `i64::MIN`) so that an interaction takes 16–24 bytes, not
/// 32; read them through [`Feedback::rating`] and [`Feedback::timestamp`].
#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct Feedback {
    rating: f32,
    timestamp: i64,
}

impl Feedback {
    /// A non-finite rating or an `i64::MIN` timestamp counts as unknown.
    pub fn new(rating: Option<f32>, timestamp: Option<i64>) -> Self {
        Feedback {
            rating: rating.filter(|r| r.is_finite()).unwrap_or(f32::NAN),
            timestamp: timestamp.unwrap_or(i64::MIN),
        }
    }

    /// The rating, if known.
    pub fn rating(&self) -> Option<f32> {
        (!self.rating.is_nan()).then_some(self.rating)
    }

    /// Unix seconds, if known.
    pub fn timestamp(&self) -> Option<i64> {
        (self.timestamp != i64::MIN).then_some(self.timestamp)
    }
}

impl PartialEq for Feedback {
    fn eq(&self, other: &Self) -> bool {
        self.rating() == other.rating() && self.timestamp == other.timestamp
    }
}

impl std::fmt::Debug for Feedback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feedback")
            .field("rating", &self.rating())
            .field("timestamp", &self.timestamp())
            .finish()
    }
}

/// One interaction as read, before any filtering or ordering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawInteraction {
    /// Index in [`RawData::users`].
    pub user: u32,
    /// Index in [`RawData::items`].
    pub item: u32,
    /// Its rating and time.
    pub feedback: Feedback,
}

impl RawInteraction {
    /// An interaction (see [`Feedback::new`]).
    pub fn new(user: u32, item: u32, rating: Option<f32>, timestamp: Option<i64>) -> Self {
        RawInteraction {
            user,
            item,
            feedback: Feedback::new(rating, timestamp),
        }
    }

    /// The rating, when the file has one.
    pub fn rating(&self) -> Option<f32> {
        self.feedback.rating()
    }

    /// Unix seconds, when the file has them.
    pub fn timestamp(&self) -> Option<i64> {
        self.feedback.timestamp()
    }
}

/// Descriptive fields of an item. Every field may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemMetadata {
    /// Product title.
    pub title: Option<String>,
    /// Brand name.
    pub brand: Option<String>,
    /// Category paths, most general first (empty when unknown).
    pub categories: Vec<Vec<String>>,
    /// Price in the file's currency.
    pub price: Option<f64>,
    /// Free-text description.
    pub description: Option<String>,
}

/// Lines of a metadata file that were skipped, with the first few reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLines {
    /// How many lines were skipped.
    pub count: u64,
    /// `file:line: reason` of the first [`SkippedLines::KEEP`] of them.
    pub first: Vec<String>,
}

impl SkippedLines {
    /// How many reasons are kept.
    pub const KEEP: usize = 5;

    /// Records a skipped line.
    pub fn push(&mut self, path: &Path, line: u64, reason: impl std::fmt::Display) {
        self.count += 1;
        if self.first.len() < Self::KEEP {
            self.first
                .push(format!("{}:{line}: {reason}", path.display()));
        }
    }
}

/// Everything read from a dataset's files, in file order.
#[derive(Debug, Default, Clone)]
pub struct RawData {
    /// Raw user ids.
    pub users: Interner,
    /// Raw item ids.
    pub items: Interner,
    /// Interactions in file order.
    pub interactions: Vec<RawInteraction>,
    /// Metadata per item index of [`RawData::items`], where known.
    pub metadata: Vec<Option<ItemMetadata>>,
    /// Metadata lines that could not be used.
    pub skipped_metadata: SkippedLines,
    /// The files that were read.
    pub files: Vec<PathBuf>,
}

impl RawData {
    /// Attaches metadata read for `item_id`; ids not among the interactions
    /// are ignored and reported as `false`.
    pub fn attach_metadata(&mut self, item_id: &str, meta: ItemMetadata) -> bool {
        let Some(index) = self.items.get(item_id) else {
            return false;
        };
        if self.metadata.len() < self.items.len() {
            self.metadata.resize(self.items.len(), None);
        }
        self.metadata[index as usize] = Some(meta);
        true
    }
}

/// A field that has the wrong type: `(field, message)`.
pub type FieldProblem = (&'static str, String);

/// Reads item metadata from a parsed JSON object or Python dict. `id_fields`
/// are tried in order for the item id.
pub fn metadata_from_value(
    value: &Value,
    id_fields: &[&'static str],
) -> Result<(String, ItemMetadata), FieldProblem> {
    let Value::Object(map) = value else {
        return Err(("", "line is not an object".to_string()));
    };
    let id = id_fields
        .iter()
        .find_map(|f| map.get(*f).filter(|v| !v.is_null()).map(|v| (*f, v)))
        .ok_or_else(|| (id_fields[0], "missing".to_string()))?;
    let id = match id.1 {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return Err((id.0, format!("expected a non-empty string, found {other}"))),
    };
    Ok((
        id,
        ItemMetadata {
            title: text_field(map.get("title"), "title")?,
            brand: text_field(map.get("brand"), "brand")?,
            categories: categories_field(map.get("categories"))?,
            price: price_field(map.get("price"))?,
            description: description_field(map.get("description"))?,
        },
    ))
}

fn text_field(value: Option<&Value>, field: &'static str) -> Result<Option<String>, FieldProblem> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err((field, format!("expected a string, found {}", kind(other)))),
    }
}

/// Descriptions are a string, or (in some dumps) a list of paragraphs.
fn description_field(value: Option<&Value>) -> Result<Option<String>, FieldProblem> {
    match value {
        Some(Value::Array(parts)) => {
            let mut text = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    Value::String(s) => text.push(s.as_str()),
                    other => {
                        return Err((
                            "description",
                            format!("expected strings in the list, found {}", kind(other)),
                        ));
                    }
                }
            }
            Ok(Some(text.join("\n")))
        }
        other => text_field(other, "description"),
    }
}

fn categories_field(value: Option<&Value>) -> Result<Vec<Vec<String>>, FieldProblem> {
    let path = |v: &Value| -> Result<Vec<String>, FieldProblem> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(parts) => parts
                .iter()
                .map(|p| match p {
                    Value::String(s) => Ok(s.clone()),
                    other => Err((
                        "categories",
                        format!("expected category names, found {}", kind(other)),
                    )),
                })
                .collect(),
            other => Err((
                "categories",
                format!("expected a list of category paths, found {}", kind(other)),
            )),
        }
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![vec![s.clone()]]),
        // [[a, b], [c]] is a list of paths; [a, b] is one path.
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            Ok(vec![path(&Value::Array(items.clone()))?])
        }
        Some(Value::Array(items)) => items.iter().map(path).collect(),
        Some(other) => Err((
            "categories",
            format!("expected a list of category paths, found {}", kind(other)),
        )),
    }
}

fn price_field(value: Option<&Value>) -> Result<Option<f64>, FieldProblem> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .trim_start_matches('$')
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite())
            .map(Some)
            .ok_or_else(|| ("price", format!("`{s}` is not a price"))),
        Some(other) => Err(("price", format!("expected a number, found {}", kind(other)))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
