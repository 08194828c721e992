//! Writes a prepared split as plain TSV for other tools (RecBole, pandas,
//! reference scripts), so that every system can be run on the same split.
//!
//! - `train.tsv`, `valid.tsv`, `test.tsv`: `user_id item_id rating timestamp`
//!   (raw ids; empty rating/timestamp when unknown). `train.tsv` holds each
//!   user's training prefix in order; `valid.tsv` and `test.tsv` one row per
//!   user.
//! - `items.tsv`: `item_id identifier title` for the whole catalogue.
//!
//! Each file is written atomically.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use recalign_runtime::write_atomically;

use crate::dataset::{Dataset, Event, Split, UserIdx};
use crate::error::{Error, FileErrors, Result};

const HEADER: &str = "user_id\titem_id\trating\ttimestamp\n";

/// Writes the split of `dataset` into `dir` and returns the files written.
pub fn write_split(dataset: &Dataset, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let row = |out: &mut String, user: UserIdx, e: &Event| {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}",
            dataset.user_id(user),
            dataset.item(e.item).raw_id,
            e.rating().map(|r| r.to_string()).unwrap_or_default(),
            e.timestamp().map(|t| t.to_string()).unwrap_or_default()
        );
    };
    let mut train = String::from(HEADER);
    for user in dataset.users() {
        for e in dataset.train_sequence(user) {
            row(&mut train, user, e);
        }
    }
    let held_out = |split: Split| {
        let mut out = String::from(HEADER);
        for h in dataset.held_out_all(split) {
            row(&mut out, h.user, &h.target);
        }
        out
    };
    let mut items = String::from("item_id\tidentifier\ttitle\n");
    for item in dataset.items() {
        let _ = writeln!(
            items,
            "{}\t{}\t{}",
            item.raw_id,
            item.identifier,
            item.title().unwrap_or_default()
        );
    }
    let files = [
        ("train.tsv", train),
        ("valid.tsv", held_out(Split::Valid)),
        ("test.tsv", held_out(Split::Test)),
        ("items.tsv", items),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (name, text) in files {
        let path = dir.join(name);
        write_atomically(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
