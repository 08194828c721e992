//! Item identifiers as the language model sees them, and seeded randomness.
//!
//! P5 numbered items by first appearance over users' whole sequences, test
//! items included, so consecutive purchases got consecutive numbers and the
//! model could read the answer off the history (Beauty HR@5 0.0508 with that
//! numbering, 0.0163 with random numbers in TIGER's re-run; see
//! `shared/research/peers.md` §4.1). recalign therefore numbers items by a
//! seeded random permutation of `1..=n`, and by default writes each number
//! as one dedicated token (`atomic`). The schemes:
//!
//! | scheme | rule | leak |
//! |---|---|---|
//! | `random` | seeded permutation of `1..=n` over items sorted by raw id | none: depends only on the catalogue and the seed |
//! | `sequential-train` | first appearance over training prefixes (users in index order), then validation items, then test items (OpenP5's fix) | none from held-out order |
//! | `sequential` | first appearance over whole sequences, as P5 did | **leaks**: for comparison with P5 only; a warning is logged |
//! | `atomic` (default) | `random`'s numbers written as one dedicated token each, `<i_704>` | none |
//! | `semantic` | residual k-means codes of item features, one token per level, `<a_12><b_3><c_200><d_0>` ([`crate::codes`]) | none: features use the training split only |
//!
//! Digit identifiers are read one digit per token (`▁ 7 0 4`), so a model
//! trained from scratch must learn thousands of arbitrary digit strings; an
//! `atomic` identifier is a single token the tokenizer keeps whole
//! ([`IdScheme::dedicated_tokens`]) with its own embedding and output row.
//! A tiny T5 trained from scratch on the shop's retrieval samples scored
//! validation NDCG@10 0.029 with digits and 0.077 with dedicated tokens
//! (issue 16's probe); recalign's own runs are in
//! `crates/train/benches/runs.md`.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Implements `Display` as `name()` and `FromStr` as its inverse for an
/// option enum with `ALL` and `name()` ([`IdScheme`], [`crate::TieRule`]):
/// an unknown name is an error that lists the choices
/// (``unknown tie rule `x` (file-order, item-id, shuffle)``).
macro_rules! display_and_parse_by_name {
    ($ty:ty, $what:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|c| c.name() == s)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
                        format!("unknown {} `{s}` ({})", $what, names.join(", "))
                    })
            }
        }
    };
}
pub(crate) use display_and_parse_by_name;

/// How item identifiers are assigned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdScheme {
    /// A seeded random permutation of `1..=n`, written as digits
    /// (leak-free).
    Random,
    /// Numbered by first appearance in training prefixes, then held-out items
    /// (OpenP5's leak-free sequential indexing).
    SequentialTrain,
    /// Numbered by first appearance over whole sequences, as P5 did. Leaks the
    /// test item; use only to reproduce P5.
    Sequential,
    /// `random`'s numbers, each written as one dedicated token (`<i_704>`)
    /// (the default: measured best, see the module docs).
    #[default]
    Atomic,
    /// Residual k-means codes over item features, one dedicated token per
    /// level (`<a_12><b_3><c_200><d_0>`; see [`crate::codes`]).
    Semantic,
}

impl IdScheme {
    /// Every scheme.
    pub const ALL: [IdScheme; 5] = [
        IdScheme::Random,
        IdScheme::SequentialTrain,
        IdScheme::Sequential,
        IdScheme::Atomic,
        IdScheme::Semantic,
    ];

    /// The name used on the command line and in config files.
    pub fn name(self) -> &'static str {
        match self {
            IdScheme::Random => "random",
            IdScheme::SequentialTrain => "sequential-train",
            IdScheme::Sequential => "sequential",
            IdScheme::Atomic => "atomic",
            IdScheme::Semantic => "semantic",
        }
    }

    /// Whether every identifier is a dedicated token that a tokenizer must
    /// keep whole (and a model must have an embedding row for).
    pub fn dedicated_tokens(self) -> bool {
        matches!(self, IdScheme::Atomic | IdScheme::Semantic)
    }

    /// Whether the scheme leaks held-out items into identifiers.
    pub fn leaks(self) -> bool {
        matches!(self, IdScheme::Sequential)
    }
}

display_and_parse_by_name!(IdScheme, "id scheme");

/// A deterministic random stream for `seed`, independent of every other
/// `stream` name: the same seed gives the same choices wherever it is used,
/// and different purposes never share draws.
pub fn seeded_rng(seed: u64, stream: &str) -> ChaCha8Rng {
    let mut hasher = Sha256::new();
    hasher.update(b"recalign-rng-v1\0");
    hasher.update(stream.as_bytes());
    hasher.update([0]);
    hasher.update(seed.to_le_bytes());
    ChaCha8Rng::from_seed(hasher.finalize().into())
}

/// Assigns numbered identifiers to `num_items` items (indexed as in the
/// catalogue, i.e. sorted by raw id). `sequences` gives each user's
/// chronological item indices in user order. `semantic` codes are made by
/// [`crate::codes::assign`] from item features; asked here, it numbers items
/// as `random` does.
pub fn assign<'a, I>(scheme: IdScheme, seed: u64, num_items: usize, sequences: I) -> Vec<String>
where
    I: Iterator<Item = &'a [u32]> + Clone,
{
    let numbers: Vec<usize> = match scheme {
        IdScheme::Random | IdScheme::Atomic | IdScheme::Semantic => {
            let mut perm: Vec<usize> = (1..=num_items).collect();
            perm.shuffle(&mut seeded_rng(seed, "item-identifiers"));
            perm
        }
        IdScheme::Sequential => first_appearance(num_items, sequences.flat_map(|s| s.iter())),
        IdScheme::SequentialTrain => {
            let train = sequences
                .clone()
                .flat_map(|s| &s[..s.len().saturating_sub(2)]);
            let valid = sequences
                .clone()
                .filter_map(|s| s.len().checked_sub(2).map(|i| &s[i]));
            let test = sequences.filter_map(|s| s.last());
            first_appearance(num_items, train.chain(valid).chain(test))
        }
    };
    match scheme {
        IdScheme::Atomic => numbers.into_iter().map(|n| format!("<i_{n}>")).collect(),
        _ => numbers.into_iter().map(|n| n.to_string()).collect(),
    }
}

/// Numbers items `1, 2, …` in order of first appearance in `order`; items
/// that never appear get the following numbers in index order.
fn first_appearance<'a>(num_items: usize, order: impl Iterator<Item = &'a u32>) -> Vec<usize> {
    let mut numbers = vec![0usize; num_items];
    let mut next = 1;
    for &item in order {
        let slot = &mut numbers[item as usize];
        if *slot == 0 {
            *slot = next;
            next += 1;
        }
    }
    for slot in &mut numbers {
        if *slot == 0 {
            *slot = next;
            next += 1;
        }
    }
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs() -> Vec<Vec<u32>> {
        vec![vec![3, 1, 4, 0], vec![1, 2, 0, 4]]
    }

    #[test]
    fn random_ids_are_a_seeded_permutation() {
        let s = seqs();
        let a = assign(IdScheme::Random, 7, 5, s.iter().map(Vec::as_slice));
        let b = assign(IdScheme::Random, 7, 5, s.iter().map(Vec::as_slice));
        let c = assign(IdScheme::Random, 8, 5, s.iter().map(Vec::as_slice));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut sorted: Vec<usize> = a.iter().map(|x| x.parse().unwrap()).collect();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn random_ids_ignore_the_interactions() {
        let other = [vec![0u32, 1, 2], vec![4, 3, 2]];
        let s = seqs();
        assert_eq!(
            assign(IdScheme::Random, 1, 5, s.iter().map(Vec::as_slice)),
            assign(IdScheme::Random, 1, 5, other.iter().map(Vec::as_slice)),
        );
    }

    #[test]
    fn atomic_ids_are_random_numbers_as_dedicated_tokens() {
        let s = seqs();
        let random = assign(IdScheme::Random, 7, 5, s.iter().map(Vec::as_slice));
        let atomic = assign(IdScheme::Atomic, 7, 5, s.iter().map(Vec::as_slice));
        let expected: Vec<String> = random.iter().map(|n| format!("<i_{n}>")).collect();
        assert_eq!(atomic, expected);
        assert!(IdScheme::Atomic.dedicated_tokens());
        assert!(!IdScheme::Random.dedicated_tokens());
    }

    #[test]
    fn sequential_numbers_by_first_appearance_like_p5() {
        let s = seqs();
        let ids = assign(IdScheme::Sequential, 0, 5, s.iter().map(Vec::as_slice));
        // Order of appearance: 3, 1, 4, 0, 2.
        assert_eq!(ids, vec!["4", "2", "5", "1", "3"]);
    }

    #[test]
    fn sequential_train_numbers_training_items_first() {
        let s = seqs();
        let ids = assign(IdScheme::SequentialTrain, 0, 5, s.iter().map(Vec::as_slice));
        // Train prefixes: [3, 1], [1, 2]; valid: 4, 0; test: 0, 4.
        assert_eq!(ids, vec!["5", "2", "3", "1", "4"]);
    }

    #[test]
    fn option_names_round_trip_and_errors_list_the_choices() {
        for scheme in IdScheme::ALL {
            assert_eq!(scheme.to_string().parse::<IdScheme>(), Ok(scheme));
        }
        for rule in crate::TieRule::ALL {
            assert_eq!(rule.to_string().parse::<crate::TieRule>(), Ok(rule));
        }
        assert_eq!(
            "p5".parse::<IdScheme>().unwrap_err(),
            "unknown id scheme `p5` (random, sequential-train, sequential, atomic, semantic)"
        );
        assert_eq!(
            "time".parse::<crate::TieRule>().unwrap_err(),
            "unknown tie rule `time` (file-order, item-id, shuffle)"
        );
    }

    #[test]
    fn rng_streams_are_independent_and_stable() {
        use rand::Rng;
        let a: u64 = seeded_rng(1, "a").random();
        let a2: u64 = seeded_rng(1, "a").random();
        let b: u64 = seeded_rng(1, "b").random();
        assert_eq!(a, a2);
        assert_ne!(a, b);
    }
}
