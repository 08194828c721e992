//! Constrained beam search: only real items come out, the search is exact
//! when the beam covers the trie, and with T5 the scores are the model's
//! sequence log-probabilities.

use burn::backend::Flex;
use burn::tensor::{Int, Tensor, TensorData};
use recalign_decode::{
    ItemTrie, Scoring, SearchConfig, SearchError, StepScorer, T5Scorer, answer_log_probs,
    encode_prompts, search,
};
use recalign_t5::{Preset, T5, token_log_probs};

const VOCAB: usize = 14;
const EOS: u32 = 1;

/// Item identifiers as digit tokens (ids 3..=12) ending in `</s>`.
fn catalogue(count: usize) -> Vec<Vec<u32>> {
    (0..count)
        .map(|i| {
            let mut tokens: Vec<u32> = (i * 37 % 1000)
                .to_string()
                .bytes()
                .map(|b| (b - b'0') as u32 + 3)
                .collect();
            tokens.push(EOS);
            tokens
        })
        .collect()
}

/// Log-probabilities that depend on the prefix (a hash of it) and put most
/// of the mass on tokens no item uses (0, 2 and 13).
struct Adversarial {
    prefixes: Vec<Vec<u32>>,
}

impl StepScorer for Adversarial {
    fn next(
        &mut self,
        parents: &[usize],
        tokens: &[u32],
        wanted: &[u32],
    ) -> Result<Vec<Vec<f32>>, SearchError> {
        self.prefixes = parents
            .iter()
            .zip(tokens)
            .map(|(&p, &t)| {
                let mut prefix = self.prefixes.get(p).cloned().unwrap_or_default();
                prefix.push(t);
                prefix
            })
            .collect();
        Ok(self
            .prefixes
            .iter()
            .map(|prefix| {
                let all = log_probs(prefix);
                wanted.iter().map(|&t| all[t as usize]).collect()
            })
            .collect())
    }
}

fn log_probs(prefix: &[u32]) -> Vec<f32> {
    let mut hash = prefix
        .iter()
        .fold(17u64, |h, &t| h.wrapping_mul(31).wrapping_add(t as u64 + 1));
    let mut weights: Vec<f32> = (0..VOCAB)
        .map(|_| {
            hash ^= hash << 13;
            hash ^= hash >> 7;
            hash ^= hash << 17;
            (hash % 1000) as f32 / 1000.0 + 0.01
        })
        .collect();
    for invalid in [0, 2, 13] {
        weights[invalid] = 50.0;
    }
    let total: f32 = weights.iter().sum();
    weights.iter().map(|w| (w / total).ln()).collect()
}

fn brute_force(items: &[Vec<u32>], scoring: Scoring) -> Vec<(usize, f32)> {
    let mut scored: Vec<(usize, f32)> = items
        .iter()
        .enumerate()
        .map(|(i, tokens)| {
            let mut prefix = vec![0u32];
            let mut score = 0.0;
            for &t in tokens {
                score += log_probs(&prefix)[t as usize];
                prefix.push(t);
            }
            match scoring {
                Scoring::Sum => (i, score),
                Scoring::PerToken => (i, score / tokens.len() as f32),
            }
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored
}

#[test]
fn only_items_come_out_even_when_the_model_prefers_other_tokens() {
    let items = catalogue(40);
    let trie = ItemTrie::new(&items).unwrap();
    let mut scorer = Adversarial {
        prefixes: Vec::new(),
    };
    let results = search(&mut scorer, &trie, 1, &SearchConfig::new(4, 10, 0), &[]).unwrap();
    assert_eq!(results[0].len(), 10);
    let mut seen: Vec<usize> = results[0].iter().map(|h| h.item).collect();
    assert!(seen.iter().all(|&i| i < items.len()));
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 10, "items repeat");
    assert!(results[0].windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn a_beam_covering_the_trie_finds_the_exact_top_k() {
    let items = catalogue(40);
    let trie = ItemTrie::new(&items).unwrap();
    for scoring in [Scoring::Sum, Scoring::PerToken] {
        let mut scorer = Adversarial {
            prefixes: Vec::new(),
        };
        let config = SearchConfig {
            scoring,
            ..SearchConfig::new(64, 5, 0)
        };
        let results = search(&mut scorer, &trie, 1, &config, &[]).unwrap();
        let exact = brute_force(&items, scoring);
        assert_eq!(results[0].len(), 5);
        for (got, want) in results[0].iter().zip(&exact) {
            assert_eq!(got.item, want.0, "{scoring:?}");
            assert!((got.score - want.1).abs() < 1e-4);
        }
    }
}

#[test]
fn excluded_items_never_come_out_and_the_rest_stays_exact() {
    let items = catalogue(40);
    let trie = ItemTrie::new(&items).unwrap();
    let exact = brute_force(&items, Scoring::Sum);
    // Ban the exact top three for user 0; user 1 has no exclusions.
    let mut banned: Vec<usize> = exact[..3].iter().map(|e| e.0).collect();
    banned.sort_unstable();
    let mut scorer = Adversarial {
        prefixes: Vec::new(),
    };
    let results = search(
        &mut scorer,
        &trie,
        2,
        &SearchConfig::new(64, 5, 0),
        std::slice::from_ref(&banned),
    )
    .unwrap();
    let allowed: Vec<usize> = exact
        .iter()
        .map(|e| e.0)
        .filter(|i| !banned.contains(i))
        .take(5)
        .collect();
    let got: Vec<usize> = results[0].iter().map(|h| h.item).collect();
    assert_eq!(got, allowed);
    let unbanned: Vec<usize> = results[1].iter().map(|h| h.item).collect();
    let top: Vec<usize> = exact[..5].iter().map(|e| e.0).collect();
    assert_eq!(unbanned, top);
    // Excluding all but two items leaves two.
    let all_but_two: Vec<usize> = (2..items.len()).collect();
    let few = search(
        &mut Adversarial {
            prefixes: Vec::new(),
        },
        &trie,
        1,
        &SearchConfig::new(8, 5, 0),
        &[all_but_two],
    )
    .unwrap();
    let mut left: Vec<usize> = few[0].iter().map(|h| h.item).collect();
    left.sort_unstable();
    assert_eq!(left, [0, 1]);
}

/// A small random T5 over the digit vocabulary.
fn tiny_t5() -> T5<Flex> {
    let mut config = Preset::Tiny.config(VOCAB);
    config.d_model = 32;
    config.d_kv = 8;
    T5::random(&config, 9, &Default::default()).unwrap()
}

#[test]
fn t5_search_returns_items_scored_by_their_log_probability() {
    let device = Default::default();
    let model = tiny_t5();
    let items = catalogue(30);
    let trie = ItemTrie::new(&items).unwrap();
    let users = 3;
    let input = Tensor::<Flex, 2, Int>::from_data(
        TensorData::new(vec![5i64, 6, 7, 1, 8, 9, 1, 0, 4, 4, 4, 1], [users, 4]),
        &device,
    );
    let mask = Tensor::<Flex, 2, Int>::from_data(
        TensorData::new(vec![1i64, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1], [users, 4]),
        &device,
    );
    let encoded = model.encode(input, mask);
    let mut scorer = T5Scorer::new(&model, &encoded);
    let results = search(&mut scorer, &trie, users, &SearchConfig::new(8, 5, 0), &[]).unwrap();
    for (user, hypotheses) in results.iter().enumerate() {
        assert_eq!(hypotheses.len(), 5);
        for hypothesis in hypotheses {
            // Teacher-forced log-probability of the same item for this user.
            let labels: Vec<i64> = items[hypothesis.item].iter().map(|&t| t as i64).collect();
            let len = labels.len();
            let decoder = recalign_t5::shift_right(&labels, 0, 0);
            let row =
                Tensor::<Flex, 1, Int>::from_data(TensorData::new(vec![user as i64], [1]), &device);
            let one = encoded.select(row);
            let ints = |v: Vec<i64>| {
                Tensor::<Flex, 2, Int>::from_data(TensorData::new(v, [1, len]), &device)
            };
            let logits = model.decode(&one, ints(decoder));
            let expected: f32 = token_log_probs(logits, ints(labels)).sum().into_scalar();
            assert!(
                (expected - hypothesis.score).abs() < 1e-3,
                "user {user} item {}: search {} vs teacher forcing {expected}",
                hypothesis.item,
                hypothesis.score
            );
        }
    }
    // Grouped rows (a user's beams attending to one encoder row together)
    // find the same items with the same scores.
    let mut grouped = T5Scorer::grouped(&model, &encoded, 8);
    let same = search(&mut grouped, &trie, users, &SearchConfig::new(8, 5, 0), &[]).unwrap();
    for (a, b) in results.iter().flatten().zip(same.iter().flatten()) {
        assert_eq!(a.item, b.item);
        assert!(
            (a.score - b.score).abs() < 1e-4,
            "{} vs {}",
            a.score,
            b.score
        );
    }
    // The batched, padded scorer agrees with the incremental search.
    let prompts = [vec![5, 6, 7, 1], vec![8, 9, 1], vec![4, 4, 4, 1]];
    let encoded = encode_prompts(&model, &prompts, &device);
    let (rows, answers): (Vec<usize>, Vec<Vec<u32>>) = results
        .iter()
        .enumerate()
        .flat_map(|(user, hs)| hs.iter().map(move |h| (user, h.item)))
        .map(|(user, item)| (user, items[item].clone()))
        .unzip();
    let scores = answer_log_probs(&model, &encoded, &rows, &answers);
    let searched = results.iter().flatten();
    for (score, hypothesis) in scores.iter().zip(searched) {
        assert!((score - hypothesis.log_prob).abs() < 1e-3);
    }
}

/// A user whose search ends early (all but two items excluded) leaves the
/// grouped batch, encoder memory and all, and the others' results stay
/// those of the ungrouped search, which holds one row per hypothesis.
#[test]
fn finished_users_leave_the_grouped_batch_and_the_rest_stays_the_same() {
    let device = Default::default();
    let model = tiny_t5();
    let items = catalogue(30);
    let trie = ItemTrie::new(&items).unwrap();
    let users = 3;
    let prompts = [vec![5, 6, 7, 1], vec![8, 9, 1], vec![4, 4, 4, 1]];
    let encoded = encode_prompts(&model, &prompts, &device);
    let excluded = [vec![], (2..items.len()).collect::<Vec<usize>>()];
    let config = SearchConfig::new(8, 5, 0);
    let mut plain = T5Scorer::new(&model, &encoded);
    let expected = search(&mut plain, &trie, users, &config, &excluded).unwrap();
    let mut grouped = T5Scorer::grouped(&model, &encoded, 8);
    assert_eq!(grouped.users_held(), 3);
    let got = search(&mut grouped, &trie, users, &config, &excluded).unwrap();
    assert!(
        grouped.users_held() < users,
        "{} users still held",
        grouped.users_held()
    );
    assert_eq!(got[1].len(), 2);
    for (user, (a, b)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(a.len(), b.len(), "user {user}");
        for (a, b) in a.iter().zip(b) {
            assert_eq!(a.item, b.item, "user {user}");
            assert!(
                (a.score - b.score).abs() < 1e-4,
                "{} vs {}",
                a.score,
                b.score
            );
        }
    }
}

#[test]
fn a_grouped_scorer_refuses_more_beams_than_it_holds() {
    let device = Default::default();
    let model = tiny_t5();
    let trie = ItemTrie::new(&catalogue(30)).unwrap();
    let encoded = encode_prompts(&model, &[vec![5, 6, 7, 1], vec![8, 9, 1]], &device);
    // Two rows per user, but the search keeps eight hypotheses each.
    let mut scorer = T5Scorer::grouped(&model, &encoded, 2);
    let result = search(&mut scorer, &trie, 2, &SearchConfig::new(8, 5, 0), &[]);
    assert_eq!(
        result.unwrap_err(),
        SearchError::TooManyHypotheses { user: 0, group: 2 }
    );
    // A group as large as the beams is enough.
    let mut scorer = T5Scorer::grouped(&model, &encoded, 8);
    let found = search(&mut scorer, &trie, 2, &SearchConfig::new(8, 5, 0), &[]).unwrap();
    assert!(found.iter().all(|items| items.len() == 5));
}
