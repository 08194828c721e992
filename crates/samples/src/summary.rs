//! Counts and lengths per task and split, printed after generation: how
//! many samples, how many a task had to skip, and how long inputs and
//! targets are (characters and words; tokens once the tokenizer lands).

use std::fmt;

use recalign_data::Split;
use serde::Serialize;

use crate::{Sample, Task};

/// Sum and maximum of a length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Lengths {
    /// Sum over samples.
    pub sum: u64,
    /// Largest.
    pub max: u64,
}

impl Lengths {
    fn add(&mut self, n: usize) {
        self.sum += n as u64;
        self.max = self.max.max(n as u64);
    }

    fn merge(&mut self, other: &Lengths) {
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    /// Mean over `count` samples.
    pub fn mean(&self, count: u64) -> f64 {
        if count == 0 {
            0.0
        } else {
            self.sum as f64 / count as f64
        }
    }
}

/// One task in one split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TaskStats {
    /// Samples written.
    pub samples: u64,
    /// Samples a user could not give (history too short, no title words,
    /// no rating, too few negatives).
    pub skipped: u64,
    /// Input length in characters.
    pub input_chars: Lengths,
    /// Input length in space-separated words.
    pub input_words: Lengths,
    /// Target length in characters.
    pub target_chars: Lengths,
}

/// Space-separated words: spaces plus one (the samples are single-spaced),
/// counted with SIMD since this runs on every sample.
fn words(text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        memchr::memchr_iter(b' ', text.as_bytes()).count() + 1
    }
}

const SPLITS: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

fn split_index(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Valid => 1,
        Split::Test => 2,
    }
}

/// Statistics of a generation run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    stats: [[TaskStats; 6]; 3],
}

impl Summary {
    /// Counts `sample`.
    pub fn add(&mut self, sample: &Sample<'_>) {
        let s = &mut self.stats[split_index(sample.split)][sample.task as usize];
        s.samples += 1;
        s.input_chars.add(sample.input.chars().count());
        s.input_words.add(words(&sample.input));
        s.target_chars.add(sample.target.chars().count());
    }

    /// Counts a sample `task` had to skip.
    pub fn skip(&mut self, split: Split, task: Task) {
        self.stats[split_index(split)][task as usize].skipped += 1;
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Summary) {
        for (mine, theirs) in self.stats.iter_mut().zip(&other.stats) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                a.samples += b.samples;
                a.skipped += b.skipped;
                a.input_chars.merge(&b.input_chars);
                a.input_words.merge(&b.input_words);
                a.target_chars.merge(&b.target_chars);
            }
        }
    }

    /// The statistics of `task` in `split`.
    pub fn get(&self, split: Split, task: Task) -> &TaskStats {
        &self.stats[split_index(split)][task as usize]
    }

    /// Samples in `split`, all tasks.
    pub fn total(&self, split: Split) -> u64 {
        self.stats[split_index(split)]
            .iter()
            .map(|s| s.samples)
            .sum()
    }

    /// Rows `(split, task, stats)` with anything in them.
    pub fn rows(&self) -> impl Iterator<Item = (Split, Task, &TaskStats)> {
        SPLITS.into_iter().flat_map(move |split| {
            Task::ALL
                .into_iter()
                .map(move |task| (split, task, self.get(split, task)))
                .filter(|(_, _, s)| s.samples > 0 || s.skipped > 0)
        })
    }
}

impl Serialize for Summary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let rows: Vec<_> = self.rows().collect();
        let mut seq = s.serialize_seq(Some(rows.len()))?;
        for (split, task, stats) in rows {
            #[derive(Serialize)]
            struct Row<'a> {
                split: Split,
                task: Task,
                #[serde(flatten)]
                stats: &'a TaskStats,
            }
            seq.serialize_element(&Row { split, task, stats })?;
        }
        seq.end()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<6} {:<10} {:>10} {:>8} {:>12} {:>10} {:>12} {:>11}",
            "split",
            "task",
            "samples",
            "skipped",
            "input chars",
            "(max)",
            "input words",
            "target chars"
        )?;
        for (split, task, s) in self.rows() {
            writeln!(
                f,
                "{:<6} {:<10} {:>10} {:>8} {:>12.1} {:>10} {:>12.1} {:>11.1}",
                split.to_string(),
                task.name(),
                s.samples,
                s.skipped,
                s.input_chars.mean(s.samples),
                s.input_chars.max,
                s.input_words.mean(s.samples),
                s.target_chars.mean(s.samples),
            )?;
        }
        Ok(())
    }
}
