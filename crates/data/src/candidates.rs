//! Negative sampling, and the ranking protocol's candidate lists.
//!
//! A negative for a user is an item drawn uniformly from the catalogue among
//! those the user never interacted with — in any split, so that no sample
//! built from training data ever names the user's validation or test item.
//!
//! The ranking protocol (P5's direct recommendation, paper.md §2.3 and §9.2
//! #9) ranks each user's held-out item among `n − 1` such negatives (99 by
//! default). The lists are drawn from a seeded stream per user and split, so
//! every model — the language model and each baseline — is ranked on the
//! same lists, and [`write_lists`] persists them for anyone to reuse.

use std::path::Path;

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, ItemIdx, Split, UserIdx};
use crate::error::{Error, FileErrors, Result};
use crate::ids::seeded_rng;

/// The distinct items of a user's whole sequence, sorted, for membership tests.
pub fn user_items(dataset: &Dataset, user: UserIdx) -> Vec<u32> {
    let mut items: Vec<u32> = dataset.sequence(user).iter().map(|e| e.item.0).collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// Appends `count` distinct items drawn uniformly from `0..num_items` that
/// are neither in `excluded` (sorted) nor already in `out`. Returns how many
/// were appended: fewer than `count` only when the catalogue has too few.
pub fn sample_negatives(
    rng: &mut impl Rng,
    num_items: usize,
    excluded: &[u32],
    count: usize,
    out: &mut Vec<ItemIdx>,
) -> usize {
    let start = out.len();
    // Items already in `out`, sorted, for the duplicate check.
    let mut chosen: Vec<u32> = out.iter().map(|i| i.0).collect();
    chosen.sort_unstable();
    let taken = |chosen: &[u32], item: u32| {
        excluded.binary_search(&item).is_ok() || chosen.binary_search(&item).is_ok()
    };
    let outside = chosen
        .iter()
        .filter(|c| excluded.binary_search(c).is_err())
        .count();
    let available = num_items.saturating_sub(excluded.len() + outside);
    let want = count.min(available);
    // Rejection sampling is fast while most items are allowed; otherwise
    // enumerate the allowed items and draw from them.
    if want * 2 <= available {
        while out.len() - start < want {
            let item = rng.random_range(0..num_items as u32);
            if let Err(at) = chosen.binary_search(&item)
                && excluded.binary_search(&item).is_err()
            {
                chosen.insert(at, item);
                out.push(ItemIdx(item));
            }
        }
    } else {
        let mut allowed: Vec<u32> = (0..num_items as u32)
            .filter(|&i| !taken(&chosen, i))
            .collect();
        let (chosen, _) = allowed.partial_shuffle(rng, want);
        out.extend(chosen.iter().map(|&i| ItemIdx(i)));
    }
    out.len() - start
}

/// One user's ranking candidates for a held-out split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateList {
    /// The user's raw id.
    pub user: String,
    /// `valid` or `test`.
    pub split: Split,
    /// The held-out item's raw id (once among the candidates).
    pub target: String,
    /// Raw item ids in the order shown to a model.
    pub candidates: Vec<String>,
}

/// The candidates of `user` for `split`: the held-out item plus `size − 1`
/// negatives, shuffled; deterministic for `seed`. `None` for `Split::Train`.
pub fn candidates_for(
    dataset: &Dataset,
    user: UserIdx,
    split: Split,
    size: usize,
    seed: u64,
) -> Option<Vec<ItemIdx>> {
    let held = dataset.held_out(user, split)?;
    let mut rng = seeded_rng(
        seed,
        &format!("candidates/{split}/{}", dataset.user_id(user)),
    );
    let mut list = vec![held.target.item];
    let excluded = user_items(dataset, user);
    sample_negatives(
        &mut rng,
        dataset.num_items(),
        &excluded,
        size.saturating_sub(1),
        &mut list,
    );
    list.shuffle(&mut rng);
    Some(list)
}

/// `user`'s candidate list for `split` with raw ids, as persisted.
pub fn list_for(
    dataset: &Dataset,
    user: UserIdx,
    split: Split,
    size: usize,
    seed: u64,
) -> Option<CandidateList> {
    let name = |i: ItemIdx| dataset.item(i).raw_id.clone();
    let list = candidates_for(dataset, user, split, size, seed)?;
    let target = dataset.held_out(user, split)?.target.item;
    Some(CandidateList {
        user: dataset.user_id(user).to_string(),
        split,
        target: name(target),
        candidates: list.into_iter().map(name).collect(),
    })
}

/// Every user's candidate list for `split`, in user order.
pub fn lists(dataset: &Dataset, split: Split, size: usize, seed: u64) -> Vec<CandidateList> {
    dataset
        .users()
        .filter_map(|user| list_for(dataset, user, split, size, seed))
        .collect()
}

/// Writes candidate lists as JSON lines, atomically.
pub fn write_lists(path: &Path, lists: &[CandidateList]) -> Result<()> {
    let mut text = Vec::with_capacity(lists.len() * 1024);
    for list in lists {
        serde_json::to_writer(&mut text, list).map_err(|e| Error::io(path, e.into()))?;
        text.push(b'\n');
    }
    Ok(recalign_runtime::write_atomically(path, &text)?)
}

/// Reads candidate lists written by [`write_lists`] and checks them against
/// `dataset`: known users and items, the target being the user's held-out
/// item of that split and present exactly once, and no duplicates.
pub fn read_lists(path: &Path, dataset: &Dataset) -> Result<Vec<CandidateList>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let list: CandidateList = serde_json::from_str(line)
            .map_err(|e| Error::line(path, line_no, format!("not a candidate list: {e}")))?;
        let Some(user) = dataset.user_by_raw_id(&list.user) else {
            return Err(Error::field(
                path,
                line_no,
                "user",
                format!("unknown user `{}`", list.user),
            ));
        };
        let held = dataset.held_out(user, list.split).ok_or_else(|| {
            Error::field(
                path,
                line_no,
                "split",
                "candidate lists are for valid or test",
            )
        })?;
        if dataset.item(held.target.item).raw_id != list.target {
            return Err(Error::field(
                path,
                line_no,
                "target",
                format!("`{}` is not the user's {} item", list.target, list.split),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for item in &list.candidates {
            if dataset.item_by_raw_id(item).is_none() {
                return Err(Error::field(
                    path,
                    line_no,
                    "candidates",
                    format!("unknown item `{item}`"),
                ));
            }
            if !seen.insert(item.as_str()) {
                return Err(Error::field(
                    path,
                    line_no,
                    "candidates",
                    format!("`{item}` is listed twice"),
                ));
            }
        }
        if !seen.contains(list.target.as_str()) {
            return Err(Error::field(
                path,
                line_no,
                "target",
                "not among the candidates",
            ));
        }
        out.push(list);
    }
    Ok(out)
}
