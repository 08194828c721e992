//! The metrics against an independent implementation: the committed fixture
//! written by `scripts/fixtures/metrics_reference.py` (plain Python).

use std::collections::BTreeMap;

use recalign_data::ItemIdx;
use recalign_eval::{RankingMetrics, RatingMetrics, target_rank, top_k};
use serde::Deserialize;

const TOLERANCE: f64 = 1e-9;

#[derive(Deserialize)]
struct Fixture {
    ks: Vec<usize>,
    users: Vec<User>,
    expected: BTreeMap<String, f64>,
    ratings: Ratings,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum User {
    Scores {
        scores: Vec<f64>,
        target: u32,
        excluded: Vec<u32>,
        rank: usize,
        top: Vec<u32>,
    },
    Ranked {
        ranked: Vec<String>,
        target: String,
        rank: Option<usize>,
    },
}

#[derive(Deserialize)]
struct Ratings {
    pairs: Vec<(f64, f64)>,
    rmse: f64,
    mae: f64,
}

fn fixture() -> Fixture {
    let text = include_str!("../fixtures/metrics.json");
    serde_json::from_str(text).expect("the fixture parses")
}

fn items(ids: &[u32]) -> Vec<ItemIdx> {
    ids.iter().map(|&i| ItemIdx(i)).collect()
}

#[test]
fn ranks_and_means_match_the_python_reference() {
    let fixture = fixture();
    assert!(fixture.users.len() >= 50);
    let mut metrics = RankingMetrics::new(&fixture.ks).unwrap();
    let max_k = *fixture.ks.iter().max().unwrap();
    for (n, user) in fixture.users.iter().enumerate() {
        match user {
            User::Scores {
                scores,
                target,
                excluded,
                rank,
                top,
            } => {
                let excluded = items(excluded);
                let got = target_rank(scores, ItemIdx(*target), &excluded).unwrap();
                assert_eq!(got, *rank, "user {n}: rank");
                let list = top_k(scores, max_k, &excluded, Some(ItemIdx(*target))).unwrap();
                assert_eq!(list, items(top), "user {n}: top {max_k}");
                metrics.add_rank(Some(got));
            }
            User::Ranked {
                ranked,
                target,
                rank,
            } => {
                assert_eq!(metrics.add_ranked(ranked, target), *rank, "user {n}: rank");
            }
        }
    }
    let got: BTreeMap<String, f64> = metrics.values().into_iter().collect();
    // The reference counts a target beyond its list as reciprocal rank 0;
    // recalign leaves the full MRR out then (its rank is unknown), and
    // reports it, exactly, only when every rank is known.
    let mut expected = fixture.expected.clone();
    let some_list_misses = fixture
        .users
        .iter()
        .any(|u| matches!(u, User::Ranked { ranked, target, .. } if !ranked.contains(target)));
    assert_eq!(metrics.mrr().is_none(), some_list_misses);
    if some_list_misses {
        expected.remove("mrr");
    }
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (name, expected) in &expected {
        let value = got[name];
        assert!(
            (value - expected).abs() < TOLERANCE,
            "{name}: {value} against the reference {expected}"
        );
    }
}

#[test]
fn rating_errors_match_the_python_reference() {
    let fixture = fixture();
    let mut metrics = RatingMetrics::new();
    for &(predicted, actual) in &fixture.ratings.pairs {
        metrics.add(predicted, actual).unwrap();
    }
    assert_eq!(metrics.count(), fixture.ratings.pairs.len());
    assert!((metrics.rmse() - fixture.ratings.rmse).abs() < TOLERANCE);
    assert!((metrics.mae() - fixture.ratings.mae).abs() < TOLERANCE);
}
