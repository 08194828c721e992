//! Leave-one-out split, ordering, ties, k-core and identifiers.

use recalign_data::{IdScheme, PrepareConfig, Split, TieRule};

use crate::util::{items_of, loose, prepared};

const ROWS: &[(&str, &str, Option<i64>)] = &[
    // u1: out of order in the file; the last two share a timestamp.
    ("u1", "b", Some(30)),
    ("u1", "a", Some(10)),
    ("u1", "d", Some(40)),
    ("u1", "c", Some(40)),
    // u2: in order, no ties.
    ("u2", "a", Some(1)),
    ("u2", "c", Some(2)),
    ("u2", "e", Some(3)),
    // u3: a missing timestamp keeps file order.
    ("u3", "e", Some(9)),
    ("u3", "b", None),
    ("u3", "a", Some(1)),
];

#[test]
fn sequences_are_chronological_with_file_order_ties() {
    let data = prepared(ROWS, loose());
    assert_eq!(items_of(&data, "u1"), ["a", "b", "d", "c"]);
    assert_eq!(items_of(&data, "u2"), ["a", "c", "e"]);
    assert_eq!(items_of(&data, "u3"), ["e", "b", "a"]);
    assert_eq!(data.report.users_in_file_order, 1);
}

#[test]
fn ties_can_be_ordered_by_item_id_or_a_seeded_shuffle() {
    let by_id = prepared(
        ROWS,
        PrepareConfig {
            ties: TieRule::ItemId,
            ..loose()
        },
    );
    assert_eq!(items_of(&by_id, "u1"), ["a", "b", "c", "d"]);
    // A shuffle only permutes within a tie group, and the seed decides it.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..16 {
        let shuffled = prepared(
            ROWS,
            PrepareConfig {
                ties: TieRule::Shuffle,
                seed,
                ..loose()
            },
        );
        let u1 = items_of(&shuffled, "u1");
        assert_eq!(&u1[..2], ["a", "b"]);
        assert_eq!(
            u1,
            items_of(
                &prepared(
                    ROWS,
                    PrepareConfig {
                        ties: TieRule::Shuffle,
                        seed,
                        ..loose()
                    }
                ),
                "u1"
            )
        );
        seen.insert(u1);
        // Users without timestamps still keep file order.
        assert_eq!(items_of(&shuffled, "u3"), ["e", "b", "a"]);
    }
    assert_eq!(
        seen.len(),
        2,
        "both orders of the tied pair occur over seeds"
    );
}

#[test]
fn tie_report_counts_pairs_and_held_out_ties() {
    let data = prepared(ROWS, loose());
    let t = &data.report.ties;
    assert_eq!(t.users_with_timestamps, 2);
    assert_eq!(t.users_with_ties, 1);
    assert_eq!(t.tied_pairs, 1);
    assert_eq!(
        t.tied_pairs_in_item_id_order, 0,
        "file order put d before c"
    );
    assert_eq!(t.users_valid_test_tied, 1);
    assert_eq!(t.users_train_valid_tied, 0);
}

#[test]
fn last_item_is_test_second_last_is_valid_and_training_holds_neither() {
    let data = prepared(ROWS, loose());
    for user in data.users() {
        let seq = data.sequence(user);
        let n = seq.len();
        let valid = data.held_out(user, Split::Valid).unwrap();
        let test = data.held_out(user, Split::Test).unwrap();
        assert_eq!(test.target, seq[n - 1]);
        assert_eq!(valid.target, seq[n - 2]);
        assert_eq!(test.history, &seq[..n - 1]);
        assert_eq!(valid.history, &seq[..n - 2]);
        assert_eq!(data.train_sequence(user), &seq[..n - 2]);
        assert!(data.held_out(user, Split::Train).is_none());
    }
    let u1 = data.user_by_raw_id("u1").unwrap();
    let name = |e: &recalign_data::Event| data.item(e.item).raw_id.clone();
    assert_eq!(name(&data.held_out(u1, Split::Test).unwrap().target), "c");
    assert_eq!(name(&data.held_out(u1, Split::Valid).unwrap().target), "d");
    let train: Vec<String> = data.train_sequence(u1).iter().map(name).collect();
    assert_eq!(train, ["a", "b"]);
}

#[test]
fn recent_keeps_the_most_recent_items() {
    let data = prepared(
        ROWS,
        PrepareConfig {
            max_history: 2,
            ..loose()
        },
    );
    let u1 = data.user_by_raw_id("u1").unwrap();
    let test = data.held_out(u1, Split::Test).unwrap();
    let recent: Vec<String> = data
        .recent(test.history)
        .iter()
        .map(|e| data.item(e.item).raw_id.clone())
        .collect();
    assert_eq!(recent, ["b", "d"]);
}

#[test]
fn k_core_iterates_until_stable_and_users_need_three_interactions() {
    // With a 2-core on items: x occurs once, so it goes; then u3 has two
    // interactions left and goes (split minimum 3), which leaves z once, so
    // z goes; then u4 falls to two and goes.
    let rows: Vec<(&str, &str, Option<i64>)> = vec![
        ("u1", "a", Some(1)),
        ("u1", "b", Some(2)),
        ("u1", "c", Some(3)),
        ("u2", "a", Some(1)),
        ("u2", "b", Some(2)),
        ("u2", "c", Some(3)),
        ("u3", "a", Some(1)),
        ("u3", "x", Some(2)),
        ("u3", "z", Some(3)),
        ("u4", "z", Some(1)),
        ("u4", "b", Some(2)),
        ("u4", "c", Some(3)),
    ];
    let data = prepared(
        &rows,
        PrepareConfig {
            item_core: 2,
            ..loose()
        },
    );
    let users: Vec<&str> = data.users().map(|u| data.user_id(u)).collect();
    assert_eq!(users, ["u1", "u2"]);
    let items: Vec<&str> = data.items().iter().map(|i| i.raw_id.as_str()).collect();
    assert_eq!(items, ["a", "b", "c"]);
    assert_eq!(data.report.removed_users, 2);
    assert_eq!(data.report.removed_items, 2);
    assert_eq!(data.report.removed_interactions, 6);
    assert!(data.report.kcore_rounds >= 2);
    // Everything removed: a clear error, not an empty dataset.
    let err = recalign_data::prepare(
        "t",
        crate::util::raw(&rows),
        &PrepareConfig {
            item_core: 9,
            ..loose()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("removed every user"), "{err}");
}

#[test]
fn a_five_core_input_comes_out_unchanged() {
    let mut rows = Vec::new();
    let users = ["u1", "u2", "u3", "u4", "u5"];
    let items = ["i1", "i2", "i3", "i4", "i5"];
    for (k, u) in users.iter().enumerate() {
        for (j, i) in items.iter().enumerate() {
            rows.push((*u, *i, Some(((k + j) % 5) as i64)));
        }
    }
    let data = prepared(&rows, PrepareConfig::default());
    assert_eq!(
        (data.num_users(), data.num_items(), data.num_interactions()),
        (5, 5, 25)
    );
    assert_eq!(data.report.removed_interactions, 0);
    assert_eq!(data.report.kcore_rounds, 0);
}

#[test]
fn repeated_items_are_kept_and_counted() {
    let rows = [
        ("u1", "a", Some(1)),
        ("u1", "b", Some(2)),
        ("u1", "a", Some(3)),
        ("u1", "c", Some(4)),
    ];
    let data = prepared(&rows, loose());
    assert_eq!(data.num_interactions(), 4);
    assert_eq!(data.report.repeated_interactions, 1);
}

#[test]
fn random_identifiers_do_not_depend_on_held_out_interactions() {
    let mut changed: Vec<(&str, &str, Option<i64>)> = ROWS.to_vec();
    // Swap u2's validation and test items.
    changed[5].2 = Some(3);
    changed[6].2 = Some(2);
    let a = prepared(ROWS, loose());
    let b = prepared(&changed, loose());
    assert_ne!(items_of(&a, "u2"), items_of(&b, "u2"));
    let ids = |d: &recalign_data::Dataset| {
        d.items()
            .iter()
            .map(|i| i.identifier.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn sequential_train_numbers_training_items_independently_of_held_out_ones() {
    let config = PrepareConfig {
        id_scheme: IdScheme::SequentialTrain,
        ..loose()
    };
    let mut changed: Vec<(&str, &str, Option<i64>)> = ROWS.to_vec();
    changed[5].2 = Some(3);
    changed[6].2 = Some(2);
    let (a, b) = (prepared(ROWS, config.clone()), prepared(&changed, config));
    for data in [&a, &b] {
        let mut numbers: Vec<usize> = data
            .items()
            .iter()
            .map(|i| i.identifier.parse().unwrap())
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=data.num_items()).collect::<Vec<_>>());
    }
    // Training prefixes are u1: a b, u2: a, u3: e — in both datasets.
    for item in ["a", "b", "e"] {
        let id =
            |d: &recalign_data::Dataset| d.item(d.item_by_raw_id(item).unwrap()).identifier.clone();
        assert_eq!(id(&a), id(&b), "{item}");
    }
}

#[test]
fn preparation_is_deterministic_whatever_the_thread_count() {
    let spec = recalign_data::synthetic::SyntheticConfig {
        seed: 5,
        users: 400,
    };
    let config = PrepareConfig {
        ties: TieRule::Shuffle,
        ..PrepareConfig::default()
    };
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                recalign_data::prepare("s", recalign_data::synthetic::generate(&spec), &config)
                    .unwrap()
            })
    };
    let one = run(1);
    assert_eq!(one, run(4));
    let other_seed = recalign_data::prepare(
        "s",
        recalign_data::synthetic::generate(&spec),
        &PrepareConfig {
            seed: 6,
            ..config.clone()
        },
    )
    .unwrap();
    assert_ne!(one, other_seed);
}

#[test]
fn the_sequential_scheme_leaks_and_random_does_not() {
    // The canary of peers.md §4.1: guess "one more than the largest
    // identifier in the history". With P5's numbering it often hits.
    let spec = recalign_data::synthetic::SyntheticConfig {
        seed: 3,
        users: 4000,
    };
    let hit_rate = |scheme| {
        let config = PrepareConfig {
            id_scheme: scheme,
            ..PrepareConfig::default()
        };
        let data = recalign_data::prepare("s", recalign_data::synthetic::generate(&spec), &config)
            .unwrap();
        let number =
            |e: &recalign_data::Event| data.item(e.item).identifier.parse::<usize>().unwrap();
        let hits = data
            .held_out_all(Split::Test)
            .filter(|h| {
                h.history.iter().map(number).max().map(|m| m + 1) == Some(number(&h.target))
            })
            .count();
        hits as f64 / data.num_users() as f64
    };
    let (leaky, random) = (hit_rate(IdScheme::Sequential), hit_rate(IdScheme::Random));
    let train_first = hit_rate(IdScheme::SequentialTrain);
    // Measured: sequential 0.025, sequential-train 0.003, random 0.0015.
    assert!(leaky > 0.02, "sequential ids: canary hit rate {leaky}");
    assert!(
        leaky > 10.0 * random.max(1e-3),
        "sequential {leaky} vs random {random}"
    );
    assert!(
        leaky > 4.0 * train_first.max(1e-3),
        "sequential {leaky} vs sequential-train {train_first}"
    );
}
