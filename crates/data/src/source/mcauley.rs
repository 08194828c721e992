//! The original Amazon 2014 files of McAuley et al. (SIGIR'15, "Image-based
//! recommendations on styles and substitutes"), as downloaded from
//! `snap.stanford.edu/data/amazon/productGraph/categoryFiles/`:
//!
//! - `reviews_<Category>_5.json.gz`: one JSON object per line with
//!   `reviewerID`, `asin`, `overall` (1–5 stars) and `unixReviewTime` (day
//!   resolution). The file is grouped by ascending `asin`, so "file order"
//!   among same-day reviews of one user is ascending ASIN order.
//! - `meta_<Category>.json.gz`: one Python `repr` of a dict per line (single
//!   quotes, `True`/`None`), parsed by [`crate::source::pyliteral`], never
//!   `eval`ed. Only the lines of items that appear in the reviews are parsed.

use std::borrow::Cow;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, FileErrors, Result};
use crate::read::{Input, ProgressHandle};
use crate::source::items::ItemsFile;
use crate::source::{RawData, RawInteraction, metadata_from_value, pyliteral};

#[derive(Deserialize)]
struct Review<'a> {
    #[serde(rename = "reviewerID", borrow)]
    reviewer: Option<&'a RawValue>,
    #[serde(borrow)]
    asin: Option<&'a RawValue>,
    #[serde(borrow)]
    overall: Option<&'a RawValue>,
    #[serde(rename = "unixReviewTime", borrow)]
    time: Option<&'a RawValue>,
}

/// Reads a `reviews_<Category>_5.json.gz` file into `raw`.
pub fn read_reviews(path: &Path, progress: &ProgressHandle, raw: &mut RawData) -> Result<()> {
    Input::open(path, progress)?.for_each_line(|line, text| {
        if text.trim().is_empty() {
            return Ok(());
        }
        let review: Review<'_> = serde_json::from_str(text)
            .map_err(|e| Error::line(path, line, format!("not a JSON object: {e}")))?;
        let field = |name: &str, value: Option<&'_ RawValue>| -> Result<String> {
            value
                .map(|v| v.get().to_string())
                .ok_or_else(|| Error::field(path, line, name, "missing"))
        };
        let id = |name: &str, value: String| -> Result<String> {
            match serde_json::from_str::<Cow<'_, str>>(&value) {
                Ok(s) if !s.is_empty() => Ok(s.into_owned()),
                Ok(_) => Err(Error::field(path, line, name, "empty")),
                Err(_) => Err(Error::field(
                    path,
                    line,
                    name,
                    format!("expected a string, found `{value}`"),
                )),
            }
        };
        let user = id("reviewerID", field("reviewerID", review.reviewer)?)?;
        let item = id("asin", field("asin", review.asin)?)?;
        let overall = field("overall", review.overall)?;
        let rating = match serde_json::from_str::<Option<f32>>(&overall) {
            Ok(r) if r.is_none_or(f32::is_finite) => r,
            _ => {
                return Err(Error::field(
                    path,
                    line,
                    "overall",
                    format!("`{overall}` is not a number"),
                ));
            }
        };
        let time = field("unixReviewTime", review.time)?;
        let timestamp = serde_json::from_str::<Option<i64>>(&time).map_err(|_| {
            Error::field(
                path,
                line,
                "unixReviewTime",
                format!("`{time}` is not a unix time in seconds"),
            )
        })?;
        let user = raw.users.intern(&user);
        let item = raw.items.intern(&item);
        raw.interactions
            .push(RawInteraction::new(user, item, rating, timestamp));
        Ok(())
    })?;
    if raw.interactions.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    raw.files.push(path.to_path_buf());
    Ok(())
}

/// Reads a `meta_<Category>.json.gz` file and attaches metadata to the items
/// already in `raw`. Bad lines are skipped and counted.
pub fn read_meta(path: &Path, progress: &ProgressHandle, raw: &mut RawData) -> Result<()> {
    let file = ItemsFile::read(path, progress, |file, line, text| {
        // Most of a category's items are not in its 5-core: skip their lines
        // without parsing them.
        if quick_asin(text).is_some_and(|asin| raw.items.get(asin).is_none()) {
            return;
        }
        match pyliteral::parse(text) {
            Ok(value) => file.record(line, metadata_from_value(&value, &["asin"])),
            Err(e) => file.skip(line, format!("not a Python literal: {e}")),
        }
    })?;
    file.attach_to(raw);
    Ok(())
}

/// The `asin` of a metadata line when it is written plainly (`'asin': 'X'`),
/// found without parsing the line.
fn quick_asin(line: &str) -> Option<&str> {
    for key in ["'asin': '", "\"asin\": \""] {
        if let Some(start) = line.find(key) {
            let rest = &line[start + key.len()..];
            let quote = key.as_bytes()[key.len() - 1] as char;
            let end = rest.find(quote)?;
            let asin = &rest[..end];
            if !asin.contains('\\') {
                return Some(asin);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::quick_asin;

    #[test]
    fn quick_asin_finds_plain_ids_only() {
        assert_eq!(quick_asin("{'asin': 'B00A', 'title': 'x'}"), Some("B00A"));
        assert_eq!(quick_asin(r#"{"asin": "B00B"}"#), Some("B00B"));
        assert_eq!(quick_asin(r"{'asin': 'B\'0'}"), None);
        assert_eq!(quick_asin("{'title': 'x'}"), None);
    }
}
