//! The embedded shop plants structure a model can learn: a first-order
//! "what follows what" model fitted on training sequences must beat
//! popularity on the validation items by a wide margin.

use std::sync::OnceLock;

use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{Dataset, Split};

use crate::util::synthetic_shop;

/// The default shop, prepared once for the tests of this module.
fn default_shop() -> &'static Dataset {
    static SHOP: OnceLock<Dataset> = OnceLock::new();
    SHOP.get_or_init(|| synthetic_shop(SyntheticConfig::default()))
}

#[test]
fn transitions_beat_popularity_on_validation() {
    let data = default_shop();
    let n = data.num_items();
    let mut popularity = vec![0usize; n];
    let mut follows = vec![std::collections::HashMap::<usize, usize>::new(); n];
    for user in data.users() {
        let train = data.train_sequence(user);
        for e in train {
            popularity[e.item.index()] += 1;
        }
        for pair in train.windows(2) {
            *follows[pair[0].item.index()]
                .entry(pair[1].item.index())
                .or_default() += 1;
        }
    }
    let mut by_popularity: Vec<usize> = (0..n).collect();
    by_popularity.sort_by_key(|&i| std::cmp::Reverse(popularity[i]));
    let top10_popular = &by_popularity[..10];
    let (mut pop_hits, mut markov_hits, mut users) = (0, 0, 0);
    for held in data.held_out_all(Split::Valid) {
        users += 1;
        let target = held.target.item.index();
        pop_hits += usize::from(top10_popular.contains(&target));
        let last = held.history.last().unwrap().item.index();
        let mut next: Vec<(usize, usize)> = follows[last].iter().map(|(&i, &c)| (i, c)).collect();
        next.sort_by_key(|&(i, c)| (std::cmp::Reverse(c), std::cmp::Reverse(popularity[i])));
        // Back off to popularity to fill ten slots.
        let mut top: Vec<usize> = next.iter().map(|&(i, _)| i).take(10).collect();
        for &i in &by_popularity {
            if top.len() == 10 {
                break;
            }
            if !top.contains(&i) {
                top.push(i);
            }
        }
        markov_hits += usize::from(top.contains(&target));
    }
    let (pop, markov) = (
        pop_hits as f64 / users as f64,
        markov_hits as f64 / users as f64,
    );
    assert!(
        markov > 2.0 * pop,
        "hit@10: transitions {markov:.3}, popularity {pop:.3}"
    );
}

#[test]
fn the_shop_looks_like_amazon_5_core_data() {
    let stats = recalign_data::DatasetStats::compute(default_shop());
    assert!((3000..5000).contains(&stats.users), "{}", stats.users);
    assert!((800..2000).contains(&stats.items), "{}", stats.items);
    assert!((7.0..11.0).contains(&stats.sequence_length.mean));
    let mean = stats.rating_mean.unwrap();
    assert!((3.8..4.6).contains(&mean), "mean rating {mean}");
    assert_eq!(stats.ratings.known, stats.interactions);
    assert!(stats.ties.users_valid_test_tied > 0);
    assert!(
        stats.titles.known < stats.titles.total,
        "some titles are missing on purpose"
    );
}
