//! Item feature vectors for semantic codes, from the catalogue and the
//! training split only.
//!
//! - `content`: TF-IDF over title words, the brand (one term) and category
//!   names (one term each), with sublinear term frequency; terms found in a
//!   single item are dropped, since they cannot make two items alike.
//! - `collab`: the item × user matrix of training interactions, each user's
//!   column weighted by 1/√(items bought), so items bought by the same
//!   people come out alike (its SVD diagonalises item co-occurrence).
//!
//! Either is reduced to `dims` dimensions by a seeded truncated SVD and each
//! row scaled to unit length. An item whose row is empty (no text; no
//! training interaction) gets a seeded random unit vector instead: it then
//! lands in codes as arbitrary as a random identifier, and is counted.

use std::collections::BTreeMap;

use rand::Rng;

use super::linalg::{Csr, truncated_svd};
use crate::dataset::Item;
use crate::ids::seeded_rng;

/// Unit-length item vectors, `items × width` row-major.
#[derive(Debug, Clone)]
pub struct Features {
    /// The vectors.
    pub values: Vec<f32>,
    /// Their width.
    pub width: usize,
    /// Items that had no feature and got a random vector.
    pub fallback: usize,
}

/// The content terms of `item`.
fn terms(item: &Item) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(title) = &item.meta.title {
        out.extend(
            title
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase),
        );
    }
    if let Some(brand) = &item.meta.brand {
        out.push(format!("brand:{}", brand.to_lowercase()));
    }
    for path in &item.meta.categories {
        out.extend(
            path.iter()
                .map(|c| format!("category:{}", c.to_lowercase())),
        );
    }
    out
}

/// The TF-IDF matrix of the catalogue's text, and how many items have any.
pub fn content_matrix(items: &[Item]) -> (Csr, usize) {
    let per_item: Vec<BTreeMap<String, u32>> = items
        .iter()
        .map(|item| {
            let mut counts = BTreeMap::new();
            for t in terms(item) {
                *counts.entry(t).or_insert(0) += 1;
            }
            counts
        })
        .collect();
    let with_text = per_item.iter().filter(|c| !c.is_empty()).count();
    let mut df: BTreeMap<&str, u32> = BTreeMap::new();
    for counts in &per_item {
        for term in counts.keys() {
            *df.entry(term).or_insert(0) += 1;
        }
    }
    let columns: BTreeMap<&str, (u32, f32)> = df
        .iter()
        .filter(|&(_, &df)| df >= 2)
        .enumerate()
        .map(|(col, (&term, &df))| {
            let idf = ((1.0 + items.len() as f64) / (1.0 + f64::from(df))).ln() + 1.0;
            (term, (col as u32, idf as f32))
        })
        .collect();
    let rows = per_item
        .iter()
        .map(|counts| {
            let row: Vec<(u32, f32)> = counts
                .iter()
                .filter_map(|(term, &tf)| {
                    let &(col, idf) = columns.get(term.as_str())?;
                    Some((col, (1.0 + (tf as f32).ln()) * idf))
                })
                .collect();
            unit_row(row)
        })
        .collect();
    (Csr::from_rows(columns.len(), rows), with_text)
}

/// The item × user matrix of training interactions (`train` gives each
/// user's training items), users weighted by 1/√(distinct items).
pub fn collab_matrix<'a>(num_items: usize, train: impl Iterator<Item = &'a [u32]>) -> Csr {
    let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); num_items];
    for (user, items) in train.enumerate() {
        let mut distinct: Vec<u32> = items.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let weight = 1.0 / (distinct.len().max(1) as f32).sqrt();
        for item in distinct {
            rows[item as usize].push((user as u32, weight));
        }
    }
    let users = rows
        .iter()
        .flat_map(|r| r.iter().map(|&(u, _)| u as usize + 1))
        .max()
        .unwrap_or(0);
    Csr::from_rows(users, rows)
}

fn unit_row(mut row: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    let norm = row.iter().map(|&(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, v) in &mut row {
            *v /= norm;
        }
    }
    row
}

/// `matrix` reduced to `dims` dimensions, rows of unit length; empty rows
/// get seeded random unit vectors (`items` names them in the seed stream,
/// so an item's fallback does not depend on the others).
pub fn reduce(matrix: &Csr, items: &[Item], dims: usize, seed: u64, what: &str) -> Features {
    let (mut values, width) = truncated_svd(matrix, dims, seed);
    let width = width.max(1);
    if values.is_empty() {
        values = vec![0.0; items.len() * width];
    }
    let mut fallback = 0;
    for (i, row) in values.chunks_mut(width).enumerate() {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if matrix.row_is_empty(i) || norm <= 1e-12 {
            fallback += 1;
            let mut rng = seeded_rng(seed, &format!("codes/{what}/fallback/{}", items[i].raw_id));
            for v in row.iter_mut() {
                *v = rng.random_range(-1.0..1.0);
            }
        }
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        for v in row.iter_mut() {
            *v /= norm;
        }
    }
    Features {
        values,
        width,
        fallback,
    }
}

/// Two feature sets side by side (`a.width + b.width` wide), each scaled
/// by 1/√2 so rows stay unit length and neither dominates.
pub fn concatenate(a: &Features, b: &Features) -> Vec<f32> {
    let scale = std::f32::consts::FRAC_1_SQRT_2;
    a.values
        .chunks(a.width)
        .zip(b.values.chunks(b.width))
        .flat_map(|(x, y)| x.iter().chain(y).map(|v| v * scale))
        .collect()
}
