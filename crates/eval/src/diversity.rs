//! Does a model recommend different items to different users? Two figures
//! over the users' top-K lists, for every model alike: how many distinct
//! items they hold (catalogue coverage), and how much two users' lists
//! share on average. A model that ignores the user shows itself at once:
//! MostPopular gives everyone (nearly) the same list, overlap near 1.

use std::collections::HashSet;

use recalign_data::ItemIdx;
use recalign_runtime::seed::{GOLDEN_GAMMA, mix64};

/// Users' lists are compared in this many seeded random pairs (all pairs
/// when there are fewer).
pub const OVERLAP_PAIRS: usize = 10_000;

/// The seed of the pairs, fixed so that every model is compared on the
/// same pairs of the same users.
pub const OVERLAP_SEED: u64 = 0x5eed;

/// Coverage and overlap of top-K lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diversity {
    /// Distinct items across all users' top-K lists.
    pub distinct: usize,
    /// Mean share of two users' top-K lists they have in common
    /// (`|A ∩ B| / K`), over [`OVERLAP_PAIRS`] seeded pairs; `None` with
    /// fewer than two users.
    pub overlap: Option<f64>,
}

impl Diversity {
    /// The figures of the top `k` of each list (best first).
    pub fn of(lists: &[&[ItemIdx]], k: usize) -> Self {
        let tops: Vec<HashSet<ItemIdx>> = lists
            .iter()
            .map(|list| list.iter().take(k).copied().collect())
            .collect();
        let distinct = tops.iter().flatten().collect::<HashSet<_>>().len();
        let overlap = (tops.len() >= 2 && k > 0).then(|| {
            let pairs = pairs(tops.len());
            let shared: usize = pairs
                .iter()
                .map(|&(a, b)| tops[a].intersection(&tops[b]).count())
                .sum();
            shared as f64 / (pairs.len() * k) as f64
        });
        Diversity { distinct, overlap }
    }
}

/// Every pair of `n` users when there are at most [`OVERLAP_PAIRS`],
/// else that many distinct-user pairs drawn with [`OVERLAP_SEED`]
/// (SplitMix64, so the pairs depend on nothing but `n`).
fn pairs(n: usize) -> Vec<(usize, usize)> {
    if n * (n - 1) / 2 <= OVERLAP_PAIRS {
        return (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect();
    }
    let mut state = OVERLAP_SEED;
    let mut next = move || {
        state = state.wrapping_add(GOLDEN_GAMMA);
        (mix64(state) % n as u64) as usize
    };
    let mut out = Vec::with_capacity(OVERLAP_PAIRS);
    while out.len() < OVERLAP_PAIRS {
        let (a, b) = (next(), next());
        if a != b {
            out.push((a, b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(ids: &[u32]) -> Vec<ItemIdx> {
        ids.iter().map(|&i| ItemIdx(i)).collect()
    }

    #[test]
    fn identical_lists_overlap_fully_and_disjoint_ones_not_at_all() {
        let same = items(&[1, 2, 3]);
        let d = Diversity::of(&[&same, &same, &same], 3);
        assert_eq!(
            d,
            Diversity {
                distinct: 3,
                overlap: Some(1.0)
            }
        );

        let (a, b) = (items(&[1, 2]), items(&[3, 4]));
        assert_eq!(
            Diversity::of(&[&a, &b], 2),
            Diversity {
                distinct: 4,
                overlap: Some(0.0)
            }
        );
    }

    #[test]
    fn by_hand_only_the_top_k_counts() {
        // Pairs (a,b): {1,2}∩{2,3} = 1; (a,c): {1,2}∩{1,2} = 2; (b,c): 1.
        let (a, b, c) = (items(&[1, 2, 9]), items(&[2, 3, 8]), items(&[2, 1]));
        let d = Diversity::of(&[&a, &b, &c], 2);
        assert_eq!(d.distinct, 3);
        assert!((d.overlap.unwrap() - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(Diversity::of(&[&a], 2).overlap, None);
    }

    #[test]
    fn many_users_are_compared_in_seeded_pairs() {
        let drawn = pairs(1_000);
        assert_eq!(drawn.len(), OVERLAP_PAIRS);
        assert!(drawn.iter().all(|&(a, b)| a != b && a < 1_000 && b < 1_000));
        assert_eq!(drawn, pairs(1_000));
        assert_eq!(pairs(4).len(), 6);
    }
}
