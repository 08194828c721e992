//! Item metadata as JSON lines (`items.jsonl[.gz]`): one object per item with
//! `item_id` (or `asin`) and any of `title`, `brand`, `categories`, `price`,
//! `description`; `null` or a missing key means unknown.
//!
//! This is the format of recalign's shared Amazon files and of a user's own
//! item file. Bad lines are skipped and counted (see [`crate::source`]).

use std::borrow::Cow;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::read::{Input, ProgressHandle};
use crate::source::{FieldProblem, ItemMetadata, RawData, SkippedLines, metadata_from_value};

/// The common shape of a line, deserialised without building a JSON tree.
/// Lines that do not fit it (a price written as text, categories as one
/// string, …) take the general path through [`metadata_from_value`].
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    item_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    asin: Option<Cow<'a, str>>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    brand: Option<String>,
    #[serde(default)]
    categories: Option<Vec<Vec<String>>>,
    #[serde(default)]
    price: Option<f64>,
    #[serde(default)]
    description: Option<String>,
}

/// Names the item id may have in an items file.
pub const ID_FIELDS: &[&str] = &["item_id", "asin", "item"];

/// The usable lines of an items file, before they are matched to items.
#[derive(Debug, Default)]
pub struct ItemsFile {
    path: std::path::PathBuf,
    entries: Vec<(String, ItemMetadata)>,
    skipped: SkippedLines,
}

impl ItemsFile {
    /// An empty file record for `path`.
    pub fn new(path: &Path) -> Self {
        ItemsFile {
            path: path.to_path_buf(),
            ..ItemsFile::default()
        }
    }

    /// Reads the metadata file at `path`: `parse` is called with each line
    /// that is not blank and its number, to record it. A file without such
    /// lines is an error.
    pub fn read(
        path: &Path,
        progress: &ProgressHandle,
        mut parse: impl FnMut(&mut ItemsFile, u64, &str),
    ) -> Result<ItemsFile> {
        let mut file = ItemsFile::new(path);
        let mut records = 0u64;
        Input::open(path, progress)?.for_each_line(|line, text| {
            if !text.trim().is_empty() {
                records += 1;
                parse(&mut file, line, text);
            }
            Ok(())
        })?;
        if records == 0 {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(file)
    }

    /// Records one line's outcome: its entry, or the line as skipped.
    pub fn record(&mut self, line: u64, entry: Result<(String, ItemMetadata), FieldProblem>) {
        match entry {
            Ok(entry) => self.entries.push(entry),
            Err((field, message)) => self.skip(line, format!("field `{field}`: {message}")),
        }
    }

    /// Records `line` as skipped for `reason`.
    pub fn skip(&mut self, line: u64, reason: impl std::fmt::Display) {
        self.skipped.push(&self.path, line, reason);
    }

    /// Attaches the metadata to the items of `raw` (ids not among them are
    /// ignored) and records the file and its skipped lines.
    pub fn attach_to(self, raw: &mut RawData) {
        for (id, meta) in self.entries {
            raw.attach_metadata(&id, meta);
        }
        raw.skipped_metadata.count += self.skipped.count;
        let room = SkippedLines::KEEP.saturating_sub(raw.skipped_metadata.first.len());
        raw.skipped_metadata
            .first
            .extend(self.skipped.first.into_iter().take(room));
        raw.files.push(self.path);
    }
}

/// Reads `path` and attaches metadata to the items already in `raw`.
pub fn read_items(path: &Path, progress: &ProgressHandle, raw: &mut RawData) -> Result<()> {
    parse_items(path, progress)?.attach_to(raw);
    Ok(())
}

/// Reads `path` on its own (it can run while the interactions are read).
pub fn parse_items(path: &Path, progress: &ProgressHandle) -> Result<ItemsFile> {
    ItemsFile::read(path, progress, |file, line, text| {
        if let Ok(fast) = serde_json::from_str::<Line<'_>>(text)
            && let Some(id) = fast
                .item_id
                .as_deref()
                .or(fast.asin.as_deref())
                .filter(|id| !id.is_empty())
        {
            let meta = ItemMetadata {
                title: fast.title,
                brand: fast.brand,
                categories: fast.categories.unwrap_or_default(),
                price: fast.price,
                description: fast.description,
            };
            file.record(line, Ok((id.to_string(), meta)));
            return;
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => file.record(line, metadata_from_value(&value, ID_FIELDS)),
            Err(e) => file.skip(line, format!("not JSON: {e}")),
        }
    })
}
