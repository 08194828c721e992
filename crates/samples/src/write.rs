//! Writing samples: one JSON-lines file per split, a manifest, and the
//! ranking candidate lists of the held-out splits.
//!
//! Each line is `{"task", "template", "split", "user", "input", "target",
//! "target_items"}`. Files (with `--shard I/N`, `-IIIII-of-NNNNN` before the
//! extension):
//!
//! - `train.jsonl`, `valid.jsonl`, `test.jsonl` (`.jsonl.gz` with gzip);
//!   training samples are in user order, epoch after epoch (the trainer
//!   shuffles and buckets them);
//! - `ranking-candidates-valid.jsonl`, `ranking-candidates-test.jsonl`: the
//!   lists the ranking samples show, for evaluating any model on them;
//! - `manifest.json`: dataset, configuration, templates, counts, and the
//!   whole tokens a tokenizer must keep (atomic item identifiers).
//!
//! Users are processed in blocks, in parallel within a block, and written in
//! order, so memory stays at one block of samples whatever the dataset size
//! and the output does not depend on the thread count. A shard is a
//! contiguous range of users: concatenating shards `0/N` … `N-1/N` gives
//! exactly the unsharded files. Every file is written to a temporary file
//! and renamed into place.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use recalign_data::candidates;
use recalign_data::{Split, UserIdx};
use recalign_runtime::{AtomicFile, IoError, write_atomically};
use serde::Serialize;

use crate::summary::Summary;
use crate::{Error, Generator, Task};

/// Users per block of parallel work.
const BLOCK: usize = 1024;

/// Users per task within a block: one buffer each, large enough to be
/// written straight to the file without another copy.
const CHUNK: usize = 64;

/// A contiguous share of the users: `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share.
    pub index: usize,
    /// How many shares.
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N` with `0 <= I < N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a shard: expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// This shard's users among `users`.
    pub fn users(&self, users: usize) -> std::ops::Range<usize> {
        users * self.index / self.count..users * (self.index + 1) / self.count
    }

    fn suffix(&self) -> String {
        if self.count == 1 {
            String::new()
        } else {
            format!("-{:05}-of-{:05}", self.index, self.count)
        }
    }
}

/// What to write.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// The splits to write.
    pub splits: Vec<Split>,
    /// Compress the sample files with gzip.
    pub gzip: bool,
    /// The share of users to write.
    pub shard: Shard,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            splits: vec![Split::Train, Split::Valid, Split::Test],
            gzip: false,
            shard: Shard::default(),
        }
    }
}

/// What a write produced.
#[derive(Debug)]
pub struct Written {
    /// The files, in the order written.
    pub files: Vec<PathBuf>,
    /// Counts and lengths.
    pub summary: Summary,
}

#[derive(Serialize)]
struct Manifest<'a> {
    dataset: &'a str,
    users: std::ops::Range<usize>,
    shard: String,
    config: &'a crate::SamplesConfig,
    history: usize,
    items_without_title: usize,
    rating_task: bool,
    /// How item identifiers were made (a model trained on these samples
    /// reads only a dataset prepared the same way).
    identifiers: String,
    /// Tokens a tokenizer must keep whole: atomic identifiers or semantic
    /// code tokens.
    whole_tokens: Vec<&'a str>,
    templates: Vec<TemplateRow>,
    files: Vec<String>,
    summary: &'a Summary,
}

#[derive(Serialize)]
struct TemplateRow {
    id: &'static str,
    task: Task,
    source: &'static str,
    input: &'static str,
    target: &'static str,
}

enum Sink {
    Plain(BufWriter<AtomicFile>),
    Gzip(Box<flate2::write::GzEncoder<BufWriter<AtomicFile>>>),
}

impl Sink {
    /// Starts writing `path`, which appears only on [`Sink::persist`].
    fn create(path: &Path, gzip: bool) -> Result<Self, Error> {
        let file = AtomicFile::create(path)?;
        let buffered = BufWriter::with_capacity(1 << 16, file);
        Ok(if gzip {
            Sink::Gzip(Box::new(flate2::write::GzEncoder::new(
                buffered,
                flate2::Compression::fast(),
            )))
        } else {
            Sink::Plain(buffered)
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(bytes),
            Sink::Gzip(w) => w.write_all(bytes),
        }
    }

    fn persist(self, path: &Path) -> Result<(), Error> {
        let buffered = match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish().map_err(|e| io(path, e))?,
        };
        let file = buffered
            .into_inner()
            .map_err(|e| io(path, e.into_error()))?;
        Ok(file.commit()?)
    }
}

fn io(path: &Path, source: std::io::Error) -> Error {
    IoError::new(path, source).into()
}

/// Writes `generator`'s samples into `dir`; `progress(users)` is called as
/// blocks of users finish.
pub fn write(
    generator: &Generator<'_>,
    dir: &Path,
    options: &WriteOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Written, Error> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let dataset = generator.dataset();
    let users = options.shard.users(dataset.num_users());
    let suffix = options.shard.suffix();
    let ext = if options.gzip { "jsonl.gz" } else { "jsonl" };
    let mut files = Vec::new();
    let mut summary = Summary::default();
    for &split in &options.splits {
        let path = dir.join(format!("{split}{suffix}.{ext}"));
        let sink = Sink::create(&path, options.gzip)?;
        let epochs = if split == Split::Train {
            generator.config().epochs
        } else {
            1
        };
        let ids: Vec<UserIdx> = users.clone().map(|u| UserIdx(u as u32)).collect();
        // A writer thread takes finished blocks while the next is generated.
        let (sink, written) = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(Vec<u8>, Summary)>>(2);
            let path = &path;
            let writer = scope.spawn(move || -> Result<(Sink, Summary), Error> {
                let mut sink = sink;
                let mut summary = Summary::default();
                for block in rx {
                    for (bytes, stats) in block {
                        sink.write_all(&bytes).map_err(|e| io(path, e))?;
                        summary.merge(&stats);
                    }
                }
                Ok((sink, summary))
            });
            for epoch in 0..epochs {
                for block in ids.chunks(BLOCK) {
                    let results: Vec<(Vec<u8>, Summary)> = block
                        .par_chunks(CHUNK)
                        .map(|users| chunk_lines(generator, users, split, epoch))
                        .collect();
                    if tx.send(results).is_err() {
                        break; // The writer failed; its error is returned below.
                    }
                    progress(block.len() as u64);
                }
            }
            drop(tx);
            writer.join().unwrap_or_else(|_| {
                Err(io(
                    path,
                    std::io::Error::other("the writer thread panicked"),
                ))
            })
        })?;
        summary.merge(&written);
        sink.persist(&path)?;
        files.push(path);
        if split != Split::Train && generator.tasks(split).any(|t| t == Task::Ranking) {
            let path = dir.join(format!("ranking-candidates-{split}{suffix}.jsonl"));
            write_candidates(generator, split, users.clone(), &path)?;
            files.push(path);
        }
    }
    let manifest_path = dir.join(format!("manifest{suffix}.json"));
    let manifest = Manifest {
        dataset: &dataset.name,
        users: users.clone(),
        shard: format!("{}/{}", options.shard.index, options.shard.count),
        config: generator.config(),
        history: generator.history,
        items_without_title: generator.untitled_items(),
        rating_task: generator.has_ratings(),
        identifiers: dataset.config.identifier_key(),
        whole_tokens: dataset.whole_tokens(),
        templates: Task::ALL
            .iter()
            .flat_map(|&t| crate::templates::for_task(t, generator.config().style))
            .map(|t| TemplateRow {
                id: t.spec.id,
                task: t.spec.task,
                source: t.spec.source,
                input: t.spec.input,
                target: t.spec.target,
            })
            .collect(),
        files: files
            .iter()
            .filter_map(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
            .collect(),
        summary: &summary,
    };
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| io(&manifest_path, e.into()))?;
    write_atomically(&manifest_path, &bytes)?;
    files.push(manifest_path);
    Ok(Written { files, summary })
}

/// Streams the ranking candidate lists of `split` for `users`.
fn write_candidates(
    generator: &Generator<'_>,
    split: Split,
    users: std::ops::Range<usize>,
    path: &Path,
) -> Result<(), Error> {
    let dataset = generator.dataset();
    let (size, seed) = (
        generator.config().ranking.candidates,
        generator.config().seed,
    );
    let mut sink = Sink::create(path, false)?;
    let ids: Vec<UserIdx> = users.map(|u| UserIdx(u as u32)).collect();
    for block in ids.chunks(BLOCK) {
        let lines: Vec<Vec<u8>> = block
            .par_iter()
            .filter_map(|&user| {
                let list = candidates::list_for(dataset, user, split, size, seed)?;
                let mut line = serde_json::to_vec(&list).ok()?;
                line.push(b'\n');
                Some(line)
            })
            .collect();
        for line in lines {
            sink.write_all(&line).map_err(|e| io(path, e))?;
        }
    }
    sink.persist(path)
}

/// Some users' samples as JSON lines, with their statistics.
fn chunk_lines(
    generator: &Generator<'_>,
    users: &[UserIdx],
    split: Split,
    epoch: usize,
) -> (Vec<u8>, Summary) {
    // Most users write a few kilobytes; the busiest, a few hundred.
    let mut bytes = Vec::with_capacity(users.len() * 16_384);
    let mut summary = Summary::default();
    let mut skipped = Vec::new();
    for &user in users {
        generator.for_each_sample(
            user,
            split,
            epoch,
            &mut |sample| {
                summary.add(&sample);
                json_line(&mut bytes, &sample);
            },
            &mut |task| skipped.push(task),
        );
    }
    for task in skipped {
        summary.skip(split, task);
    }
    (bytes, summary)
}

/// Appends `sample` as one line of compact JSON, exactly as `serde_json`
/// writes it, but escaping strings a run at a time (this is most of the
/// work of writing samples).
pub fn json_line(out: &mut Vec<u8>, sample: &crate::Sample<'_>) {
    out.extend_from_slice(b"{\"task\":");
    json_str(out, sample.task.name());
    out.extend_from_slice(b",\"template\":");
    json_str(out, sample.template);
    out.extend_from_slice(b",\"split\":");
    json_str(out, &sample.split.to_string());
    out.extend_from_slice(b",\"user\":");
    json_str(out, sample.user);
    out.extend_from_slice(b",\"input\":");
    json_str(out, &sample.input);
    out.extend_from_slice(b",\"target\":");
    json_str(out, &sample.target);
    out.extend_from_slice(b",\"target_items\":[");
    for (i, item) in sample.target_items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_str(out, item);
    }
    out.extend_from_slice(b"]}\n");
}

/// Appends `s` as a JSON string. Text without control characters (all of
/// it, in practice) is copied run by run between quotes and backslashes
/// found with `memchr`; anything else goes through `serde_json`.
fn json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // No early exit, so this loop vectorises.
    let control = bytes.iter().fold(false, |found, &b| found | (b < 0x20));
    if control {
        // Writing a string into memory cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
        return;
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for at in memchr::memchr2_iter(b'"', b'\\', bytes) {
        out.extend_from_slice(&bytes[start..at]);
        out.push(b'\\');
        out.push(bytes[at]);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_match_serde_json() {
        for text in [
            "plain",
            "",
            "quote \" and back\\slash",
            "tab\t and newline\n",
            "é ✓ \u{1}",
            "\\\"",
        ] {
            let sample = crate::Sample {
                task: crate::Task::Bpr,
                template: "bpr-1",
                split: Split::Train,
                user: text,
                input: text.to_string(),
                target: format!("{text}!"),
                target_items: vec![text, "B0"],
            };
            let mut ours = Vec::new();
            json_line(&mut ours, &sample);
            let mut theirs = serde_json::to_vec(&sample).unwrap();
            theirs.push(b'\n');
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }

    #[test]
    fn shards_parse_and_partition_users() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let ranges: Vec<_> = (0..3)
            .map(|i| Shard { index: i, count: 3 }.users(10))
            .collect();
        assert_eq!(ranges, vec![0..3, 3..6, 6..10]);
    }
}
