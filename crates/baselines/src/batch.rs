//! Host-side batches: each user's training sequence as tokens (item
//! index + 1; token 0 is padding), right-padded to the longest sequence of
//! the batch, with the flat positions that carry a training target.
//!
//! Sequences are right-padded and positions count from the first item read
//! (RecBole's layout), so under a causal mask no real position ever sees a
//! padded one, and a batch is only as long as its longest user.

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use recalign_data::{Dataset, Event, UserIdx};

/// The training split as plain item indices.
#[derive(Debug, Clone)]
pub(crate) struct TrainData {
    /// Catalogue size.
    pub items: usize,
    /// Each user's training sequence (item indices, oldest first).
    pub sequences: Vec<Vec<u32>>,
    /// Each user's training items, sorted and distinct (for negatives).
    pub seen: Vec<Vec<u32>>,
    /// Every training interaction as (user, item), user by user.
    pub pairs: Vec<(u32, u32)>,
}

impl TrainData {
    pub(crate) fn new(dataset: &Dataset) -> Self {
        let sequences: Vec<Vec<u32>> = dataset
            .users()
            .map(|u| dataset.train_sequence(u).iter().map(|e| e.item.0).collect())
            .collect();
        let seen = sequences
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        let pairs = sequences
            .iter()
            .enumerate()
            .flat_map(|(u, s)| s.iter().map(move |&i| (u as u32, i)))
            .collect();
        TrainData {
            items: dataset.num_items(),
            sequences,
            seen,
            pairs,
        }
    }

    /// Users whose training sequence has at least `min_len` items.
    pub(crate) fn users_with_at_least(&self, min_len: usize) -> Vec<u32> {
        (0..self.sequences.len() as u32)
            .filter(|&u| self.sequences[u as usize].len() >= min_len)
            .collect()
    }
}

/// A right-padded `[batch, len]` token matrix.
#[derive(Debug, Clone)]
pub(crate) struct Padded {
    pub tokens: Vec<i64>,
    pub batch: usize,
    pub len: usize,
    /// Real tokens per row.
    pub lengths: Vec<usize>,
}

impl Padded {
    /// Pads rows of tokens (each non-empty) to the longest.
    pub(crate) fn new(rows: &[Vec<i64>]) -> Self {
        let len = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut tokens = vec![0i64; rows.len() * len];
        for (r, row) in rows.iter().enumerate() {
            tokens[r * len..r * len + row.len()].copy_from_slice(row);
        }
        Padded {
            tokens,
            batch: rows.len(),
            len,
            lengths: rows.iter().map(Vec::len).collect(),
        }
    }

    /// The tokens as an integer tensor.
    pub(crate) fn tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2, Int> {
        Tensor::from_data(
            TensorData::new(self.tokens.clone(), [self.batch, self.len]),
            device,
        )
    }

    /// Flat indices `row · len + lengths[row] − 1` of each row's last token.
    pub(crate) fn last_positions(&self) -> Vec<i64> {
        self.lengths
            .iter()
            .enumerate()
            .map(|(r, &l)| (r * self.len + l.max(1) - 1) as i64)
            .collect()
    }
}

/// A training batch: padded inputs and the outputs that carry a target.
#[derive(Debug, Clone)]
pub(crate) struct TrainBatch {
    /// The input tokens.
    pub inputs: Padded,
    /// Flat positions (`row · len + t`) that predict a target.
    pub positions: Vec<i64>,
    /// The item index each position predicts.
    pub targets: Vec<i64>,
}

impl TrainBatch {
    /// Next-item training at every position: each user's last `max_len`
    /// training items but the final one as inputs, each predicting the item
    /// after it.
    pub(crate) fn next_item(data: &TrainData, users: &[u32], max_len: usize) -> Self {
        let rows: Vec<Vec<i64>> = users
            .iter()
            .map(|&u| {
                let seq = &data.sequences[u as usize];
                let window = &seq[seq.len().saturating_sub(max_len + 1)..];
                window[..window.len() - 1]
                    .iter()
                    .map(|&i| i64::from(i) + 1)
                    .collect()
            })
            .collect();
        let inputs = Padded::new(&rows);
        let mut positions = Vec::new();
        let mut targets = Vec::new();
        for (r, &u) in users.iter().enumerate() {
            let seq = &data.sequences[u as usize];
            let window = &seq[seq.len().saturating_sub(max_len + 1)..];
            for (t, &item) in window[1..].iter().enumerate() {
                positions.push((r * inputs.len + t) as i64);
                targets.push(i64::from(item));
            }
        }
        TrainBatch {
            inputs,
            positions,
            targets,
        }
    }
}

/// One evaluation query: whose history, read up to what point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserQuery<'a> {
    pub user: UserIdx,
    pub history: &'a [Event],
}

/// The last `max_len` history items of each query as padded tokens.
pub(crate) fn history_tokens(queries: &[UserQuery<'_>], max_len: usize) -> Padded {
    let rows: Vec<Vec<i64>> = queries
        .iter()
        .map(|q| {
            let h = &q.history[q.history.len().saturating_sub(max_len)..];
            h.iter().map(|e| i64::from(e.item.0) + 1).collect()
        })
        .collect();
    Padded::new(&rows)
}

/// A 1-D integer tensor.
pub(crate) fn ints<B: Backend>(values: &[i64], device: &B::Device) -> Tensor<B, 1, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(sequences: Vec<Vec<u32>>) -> TrainData {
        TrainData {
            items: 10,
            seen: sequences.clone(),
            pairs: Vec::new(),
            sequences,
        }
    }

    #[test]
    fn next_item_windows_keep_the_most_recent_items() {
        let data = data(vec![vec![0, 1, 2, 3], vec![5, 6]]);
        let batch = TrainBatch::next_item(&data, &[0, 1], 2);
        // User 0: window [1, 2, 3] → inputs tokens [2, 3], targets [2, 3];
        // user 1: inputs [6], target 6, right-padded to length 2.
        assert_eq!(batch.inputs.tokens, vec![2, 3, 6, 0]);
        assert_eq!(batch.inputs.lengths, vec![2, 1]);
        assert_eq!(batch.positions, vec![0, 1, 2]);
        assert_eq!(batch.targets, vec![2, 3, 6]);
        assert_eq!(batch.inputs.last_positions(), vec![1, 2]);
        assert_eq!(data.users_with_at_least(2), vec![0, 1]);
    }
}
