//! Interactions as a delimited table: recalign's shared Amazon files
//! (`interactions.tsv.gz`: `user_id item_id rating timestamp`) and a user's
//! own CSV/TSV (`user,item,rating,timestamp`).
//!
//! The first line is a header; columns are found by name, in any order:
//!
//! | column | accepted names | required | empty value |
//! |---|---|---|---|
//! | user | `user_id`, `user`, `reviewerID` | yes | error |
//! | item | `item_id`, `item`, `asin` | yes | error |
//! | rating | `rating`, `overall` | no | unknown |
//! | timestamp | `timestamp`, `unixReviewTime` (unix seconds) | no | unknown |
//!
//! The delimiter is a tab for `.tsv`, a comma for `.csv` (a trailing `.gz`
//! is ignored), and otherwise whichever of the two the header contains.
//! CSV fields may be quoted (read by the `csv` crate); TSV fields are taken
//! as they are, split on tabs (the fast path for large files).
//! Leading and trailing spaces around values are ignored.

use std::path::Path;

use crate::error::{Error, FileErrors, Result};
use crate::read::{Input, ProgressHandle, read_error};
use crate::source::{RawData, RawInteraction};

const USER: &[&str] = &["user_id", "user", "reviewerid"];
const ITEM: &[&str] = &["item_id", "item", "asin"];
const RATING: &[&str] = &["rating", "overall"];
const TIMESTAMP: &[&str] = &["timestamp", "unixreviewtime"];

/// Reads an interactions table into `raw`.
pub fn read_interactions(path: &Path, progress: &ProgressHandle, raw: &mut RawData) -> Result<()> {
    let mut input = Input::open(path, progress)?;
    let delimiter = match delimiter_from_name(path) {
        Some(d) => d,
        None => {
            let head = input.peek()?;
            let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
            if first_line.contains(&b'\t') {
                b'\t'
            } else {
                b','
            }
        }
    };
    let before = raw.interactions.len();
    if delimiter == b'\t' {
        read_tsv(input, raw)?;
    } else {
        read_csv(input, delimiter, raw)?;
    }
    if raw.interactions.len() == before {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    raw.files.push(path.to_path_buf());
    Ok(())
}

/// A field's text: already-checked `&str` (TSV) or raw bytes (CSV).
trait Field<'f>: Copy {
    fn bytes(self) -> &'f [u8];
    fn text(self) -> Option<&'f str>;
}

impl<'f> Field<'f> for &'f str {
    fn bytes(self) -> &'f [u8] {
        self.as_bytes()
    }
    fn text(self) -> Option<&'f str> {
        Some(self)
    }
}

impl<'f> Field<'f> for &'f [u8] {
    fn bytes(self) -> &'f [u8] {
        self
    }
    fn text(self) -> Option<&'f str> {
        std::str::from_utf8(self).ok()
    }
}

/// What a column holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    Item,
    Rating,
    Timestamp,
    Other,
}

/// Turns rows of fields into interactions.
struct Rows<'a> {
    path: &'a Path,
    names: Vec<String>,
    roles: Vec<Role>,
    /// The previous row's user: files are usually grouped by user, so most
    /// rows skip the hash lookup.
    last_user: Option<(Vec<u8>, u32)>,
}

impl<'a> Rows<'a> {
    fn from_header<'f>(path: &'a Path, header: impl Iterator<Item = &'f [u8]>) -> Result<Self> {
        let names: Vec<String> = header
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        if names.iter().all(String::is_empty) {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        let find = |accepted: &[&str]| {
            names
                .iter()
                .position(|n| accepted.contains(&n.to_ascii_lowercase().as_str()))
        };
        let user = find(USER).ok_or_else(|| {
            Error::field(
                path,
                1,
                "user_id",
                "the header has no user column (user_id or user)",
            )
        })?;
        let item = find(ITEM).ok_or_else(|| {
            Error::field(
                path,
                1,
                "item_id",
                "the header has no item column (item_id or item)",
            )
        })?;
        let mut roles = vec![Role::Other; names.len()];
        roles[user] = Role::User;
        roles[item] = Role::Item;
        if let Some(col) = find(RATING) {
            roles[col] = Role::Rating;
        }
        if let Some(col) = find(TIMESTAMP) {
            roles[col] = Role::Timestamp;
        }
        Ok(Rows {
            path,
            names,
            roles,
            last_user: None,
        })
    }

    fn push<'f, F: Field<'f>>(
        &mut self,
        line: u64,
        fields: impl Iterator<Item = F>,
        raw: &mut RawData,
    ) -> Result<()> {
        let (mut user, mut item, mut rating, mut timestamp) = (None, None, None, None);
        let mut count = 0;
        for (col, field) in fields.enumerate() {
            count += 1;
            match self.roles.get(col) {
                Some(Role::User) => user = Some((col, field)),
                Some(Role::Item) => item = Some((col, field)),
                Some(Role::Rating) => rating = Some((col, field)),
                Some(Role::Timestamp) => timestamp = Some((col, field)),
                Some(Role::Other) | None => {}
            }
        }
        if count != self.names.len() {
            return Err(Error::line(
                self.path,
                line,
                format!(
                    "expected {} fields as in the header, found {count}",
                    self.names.len()
                ),
            ));
        }
        let (Some((user_col, user_field)), Some((item_col, item_field))) = (user, item) else {
            return Err(Error::line(self.path, line, "missing user or item field"));
        };
        let user_bytes = user_field.bytes().trim_ascii();
        let user = match &self.last_user {
            Some((last, index)) if last.as_slice() == user_bytes => *index,
            _ => {
                let index = raw.users.intern(self.id(line, user_col, user_field)?);
                self.last_user = Some((user_bytes.to_vec(), index));
                index
            }
        };
        let item = raw.items.intern(self.id(line, item_col, item_field)?);
        let rating = match rating {
            None => None,
            Some((col, field)) => parse_rating(self.text(line, col, field)?)
                .map_err(|m| Error::field(self.path, line, &self.names[col], m))?,
        };
        let timestamp = match timestamp {
            None => None,
            Some((col, field)) => match parse_unsigned(field.bytes()) {
                Some(t) => Some(t),
                None => parse_timestamp(self.text(line, col, field)?)
                    .map_err(|m| Error::field(self.path, line, &self.names[col], m))?,
            },
        };
        raw.interactions
            .push(RawInteraction::new(user, item, rating, timestamp));
        Ok(())
    }

    /// The field's text with surrounding spaces removed.
    fn text<'f>(&self, line: u64, col: usize, field: impl Field<'f>) -> Result<&'f str> {
        field
            .text()
            .map(str::trim)
            .ok_or_else(|| Error::field(self.path, line, &self.names[col], "not valid UTF-8"))
    }

    fn id<'f>(&self, line: u64, col: usize, field: impl Field<'f>) -> Result<&'f str> {
        let text = self.text(line, col, field)?;
        if text.is_empty() {
            return Err(Error::field(self.path, line, &self.names[col], "empty"));
        }
        Ok(text)
    }
}

fn read_tsv(input: Input, raw: &mut RawData) -> Result<()> {
    let path = input.path().to_path_buf();
    let mut rows: Option<Rows<'_>> = None;
    let mut fields: Vec<std::ops::Range<usize>> = Vec::with_capacity(8);
    input.for_each_chunk(|first, chunk| {
        // One SIMD pass over the chunk finds every tab and newline.
        let bytes = chunk.as_bytes();
        let mut line = first;
        let mut field_start = 0;
        let delimiters =
            memchr::memchr2_iter(b'\t', b'\n', bytes).chain(std::iter::once(bytes.len()));
        for at in delimiters {
            if at < bytes.len() && bytes[at] == b'\t' {
                fields.push(field_start..at);
                field_start = at + 1;
                continue;
            }
            let end = if at > field_start && bytes[at - 1] == b'\r' {
                at - 1
            } else {
                at
            };
            fields.push(field_start..end);
            field_start = at + 1;
            if !(fields.len() == 1 && fields[0].is_empty()) {
                let values = fields.iter().map(|r| &chunk[r.clone()]);
                match &mut rows {
                    None => rows = Some(Rows::from_header(&path, values.map(str::as_bytes))?),
                    Some(rows) => rows.push(line, values, raw)?,
                }
            }
            fields.clear();
            line += 1;
        }
        Ok(())
    })?;
    if rows.is_none() {
        return Err(Error::Empty { path });
    }
    Ok(())
}

fn read_csv(input: Input, delimiter: u8, raw: &mut RawData) -> Result<()> {
    let (path, gzip, reader) = input.into_reader();
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let mut rows: Option<Rows<'_>> = None;
    let mut line = 0;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&path, gzip, line, e)),
        }
        line = record.position().map_or(line + 1, csv::Position::line);
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        match &mut rows {
            None => rows = Some(Rows::from_header(&path, record.iter())?),
            Some(rows) => rows.push(line, record.iter(), raw)?,
        }
    }
    if rows.is_none() {
        return Err(Error::Empty { path });
    }
    Ok(())
}

/// Plain non-negative decimal integers, parsed without UTF-8 checks; anything
/// else goes to [`parse_timestamp`].
fn parse_unsigned(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 18 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0i64, |acc, &b| acc * 10 + i64::from(b - b'0')),
    )
}

/// An empty rating is unknown; anything else must be a finite number.
pub fn parse_rating(text: &str) -> Result<Option<f32>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f32>() {
        Ok(r) if r.is_finite() => Ok(Some(r)),
        _ => Err(format!("`{text}` is not a number")),
    }
}

/// An empty timestamp is unknown; otherwise unix seconds, integral or not
/// (fractions are dropped).
pub fn parse_timestamp(text: &str) -> Result<Option<i64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = text.parse::<i64>() {
        if t == i64::MIN {
            return Err(format!("`{text}` is out of range"));
        }
        return Ok(Some(t));
    }
    match text.parse::<f64>() {
        Ok(t) if t.is_finite() && t.abs() < 1e15 => Ok(Some(t.floor() as i64)),
        _ => Err(format!("`{text}` is not a unix time in seconds")),
    }
}

fn delimiter_from_name(path: &Path) -> Option<u8> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".tsv") || name.ends_with(".tab") {
        Some(b'\t')
    } else if name.ends_with(".csv") {
        Some(b',')
    } else {
        None
    }
}

fn csv_error(path: &Path, gzip: bool, last_line: u64, error: csv::Error) -> Error {
    let line = error.position().map_or(last_line + 1, csv::Position::line);
    match error.into_kind() {
        csv::ErrorKind::Io(e) => read_error(path, gzip, last_line, e),
        other => Error::line(path, line, format!("{other:?}")),
    }
}
