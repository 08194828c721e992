//! The shared Amazon 2014 5-core files (read through RECALIGN_DATA): the
//! published counts, the 5-core left unchanged, and the tie statistics that
//! PROVENANCE.md reports from the data build.

use recalign_data::{Amazon, DatasetSpec, LoadOptions, PrepareConfig, TieRule};

use crate::util::{items_of, shared_data};

fn load(amazon: Amazon, config: &PrepareConfig) -> Option<recalign_data::Dataset> {
    let dir = shared_data()?;
    let options = LoadOptions {
        data_dir: dir,
        ..LoadOptions::default()
    };
    Some(
        recalign_data::load(&DatasetSpec::Amazon(amazon), config, &options)
            .unwrap()
            .dataset,
    )
}

#[test]
fn published_counts_and_unchanged_five_core() {
    for amazon in Amazon::ALL {
        let Some(data) = load(amazon, &PrepareConfig::default()) else {
            return;
        };
        let published = amazon.published();
        assert_eq!(
            (data.num_users(), data.num_items(), data.num_interactions()),
            (published.users, published.items, published.interactions),
            "{}",
            amazon.name()
        );
        let r = &data.report;
        assert_eq!(
            (r.removed_users, r.removed_items, r.removed_interactions),
            (0, 0, 0)
        );
        assert_eq!(
            (r.raw_users, r.raw_items, r.raw_interactions),
            (published.users, published.items, published.interactions)
        );
        assert_eq!(r.repeated_interactions, 0);
    }
}

#[test]
fn tie_statistics_match_provenance() {
    // users with ties, users whose last two items tie (PROVENANCE.md).
    for (amazon, with_ties, last_two, in_file_order) in [
        (Amazon::Beauty, 19_586, 9_719, 0),
        (Amazon::Sports, 31_552, 16_049, 0),
        (Amazon::Toys, 17_388, 9_487, 33),
    ] {
        let Some(data) = load(amazon, &PrepareConfig::default()) else {
            return;
        };
        let t = &data.report.ties;
        assert_eq!(
            (t.users_with_ties, t.users_valid_test_tied),
            (with_ties, last_two),
            "{}",
            amazon.name()
        );
        assert_eq!(
            data.report.users_in_file_order,
            in_file_order,
            "{}",
            amazon.name()
        );
        // P5's order of same-day items is ascending ASIN order everywhere.
        assert_eq!(
            t.tied_pairs_in_item_id_order,
            t.tied_pairs,
            "{}",
            amazon.name()
        );
    }
}

#[test]
fn file_order_is_p5_order_and_equals_item_id_ties_here() {
    let Some(file) = load(Amazon::Beauty, &PrepareConfig::default()) else {
        return;
    };
    let beauty = |ties| {
        let config = PrepareConfig {
            ties,
            ..PrepareConfig::default()
        };
        load(Amazon::Beauty, &config).unwrap()
    };
    assert_eq!(file.events(), beauty(TieRule::ItemId).events());
    // The shared file is sorted by user, then time, ties in P5's order, so
    // every user's prepared sequence is the file's row order: spot-check the
    // first user of the file against its rows.
    let items = items_of(&file, "A00414041RD0BXM6WK0GX");
    assert_eq!(
        items[..4],
        ["B007IY97U0", "B00870XLDS", "B008MIRO88", "B00BQYYMN0"]
    );
    assert_ne!(file.events(), beauty(TieRule::Shuffle).events());
}

#[test]
fn missing_fields_degrade_to_unknown() {
    let Some(sports) = load(Amazon::Sports, &PrepareConfig::default()) else {
        return;
    };
    assert!(sports.items().iter().all(|i| i.title().is_none()));
    assert!(sports.events().iter().all(|e| e.rating().is_none()));
    let stats = recalign_data::DatasetStats::compute(&sports);
    assert_eq!(stats.titles.known, 0);
    assert_eq!(stats.ratings.known, 0);
    let Some(beauty) = load(Amazon::Beauty, &PrepareConfig::default()) else {
        return;
    };
    let stats = recalign_data::DatasetStats::compute(&beauty);
    assert_eq!(stats.titles.known, 12_094);
    assert_eq!(stats.brands.known, 9_979);
}
