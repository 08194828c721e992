//! Semantic identifiers on the shop: unique, seeded and thread-count
//! independent, blind to held-out interactions, and refusing bad settings.

use std::collections::HashSet;

use recalign_data::source::RawData;
use recalign_data::synthetic::{SyntheticConfig, generate};
use recalign_data::{Dataset, FeatureKind, IdScheme, PrepareConfig, SemanticConfig, prepare};

const SHOP: SyntheticConfig = SyntheticConfig {
    seed: 2,
    users: 800,
};

fn semantic(features: FeatureKind) -> PrepareConfig {
    PrepareConfig {
        id_scheme: IdScheme::Semantic,
        semantic: SemanticConfig {
            features,
            codebook: 16,
            dims: 16,
            ..SemanticConfig::default()
        },
        ..PrepareConfig::default()
    }
}

fn identifiers(data: &Dataset) -> Vec<String> {
    data.items().iter().map(|i| i.identifier.clone()).collect()
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn every_item_gets_a_unique_code_of_fixed_length() {
    for features in FeatureKind::ALL {
        let config = semantic(features);
        let data = prepare("shop", generate(&SHOP), &config).unwrap();
        let ids = identifiers(&data);
        let distinct: HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{features}: codes repeat");
        for id in &ids {
            let tokens: Vec<&str> = recalign_data::codes::tokens(id).collect();
            assert_eq!(tokens.len(), config.semantic.levels + 1, "{id}");
            for (level, token) in tokens.iter().enumerate() {
                let (letter, code) = recalign_data::codes::parse_token(token).unwrap();
                assert_eq!(letter, (b'a' + level as u8) as char, "{id}");
                if level < config.semantic.levels {
                    assert!(code < config.semantic.codebook, "{id}");
                }
            }
        }
        let report = data.report.codes.as_ref().unwrap();
        assert_eq!(report.levels.len(), 3);
        // The separating level is needed exactly as often as codes collide.
        assert_eq!(report.separator_codes > 1, report.colliding_items > 0);
        // Every token the tokenizer must keep whole occurs in some code, once.
        let whole = data.whole_tokens();
        assert_eq!(whole.iter().collect::<HashSet<_>>().len(), whole.len());
        assert!(whole.len() <= 3 * 16 + report.separator_codes);
        // Items of one first-level code are alike: their features share a
        // region, so the level is used, not a single catch-all code.
        assert!(report.levels[0].perplexity > 8.0, "{report:?}");
    }
}

#[test]
fn codes_are_seeded_and_independent_of_the_thread_count() {
    let config = semantic(FeatureKind::Both);
    let one = in_pool(1, || prepare("shop", generate(&SHOP), &config).unwrap());
    let three = in_pool(3, || prepare("shop", generate(&SHOP), &config).unwrap());
    assert_eq!(identifiers(&one), identifiers(&three));
    assert_eq!(one.report.codes, three.report.codes);
    let balanced = PrepareConfig {
        semantic: SemanticConfig {
            balanced: true,
            ..config.semantic.clone()
        },
        ..config.clone()
    };
    let a = in_pool(1, || prepare("shop", generate(&SHOP), &balanced).unwrap());
    let b = in_pool(2, || prepare("shop", generate(&SHOP), &balanced).unwrap());
    assert_eq!(identifiers(&a), identifiers(&b));
    let other_seed = PrepareConfig {
        seed: config.seed + 1,
        ..config.clone()
    };
    let other = prepare("shop", generate(&SHOP), &other_seed).unwrap();
    assert_ne!(identifiers(&one), identifiers(&other));
}

/// `raw` with the validation and test items of the users rotated: user
/// u's last two interactions get user u+1's items. Item counts, and so the
/// catalogue and every training sequence, stay the same.
fn rotate_held_out(mut raw: RawData) -> RawData {
    let mut rows_by_user: Vec<Vec<usize>> = vec![Vec::new(); raw.users.len()];
    for (r, x) in raw.interactions.iter().enumerate() {
        rows_by_user[x.user as usize].push(r);
    }
    for rows in &mut rows_by_user {
        rows.sort_by_key(|&r| raw.interactions[r].timestamp());
    }
    for back in 1..=2 {
        let held: Vec<usize> = rows_by_user
            .iter()
            .filter(|rows| rows.len() >= 5)
            .map(|rows| rows[rows.len() - back])
            .collect();
        let items: Vec<u32> = held.iter().map(|&r| raw.interactions[r].item).collect();
        for (i, &r) in held.iter().enumerate() {
            raw.interactions[r].item = items[(i + 1) % items.len()];
        }
    }
    raw
}

#[test]
fn codes_do_not_see_held_out_interactions() {
    for features in [FeatureKind::Collab, FeatureKind::Both] {
        let config = semantic(features);
        let loose = PrepareConfig {
            user_core: 0,
            item_core: 0,
            ..config
        };
        let before = prepare("shop", generate(&SHOP), &loose).unwrap();
        let after = prepare("shop", rotate_held_out(generate(&SHOP)), &loose).unwrap();
        // The held-out items did change…
        let tests = |d: &Dataset| -> Vec<_> {
            d.held_out_all(recalign_data::Split::Test)
                .map(|h| h.target.item)
                .collect()
        };
        assert_ne!(tests(&before), tests(&after));
        // …but not the catalogue, the training sequences or the codes.
        assert_eq!(before.num_items(), after.num_items());
        for user in before.users() {
            assert_eq!(before.train_sequence(user), after.train_sequence(user));
        }
        assert_eq!(identifiers(&before), identifiers(&after), "{features}");
    }
}

fn refusal(config: PrepareConfig, raw: RawData) -> String {
    prepare("shop", raw, &config).unwrap_err().to_string()
}

#[test]
fn bad_settings_are_refused_naming_the_setting() {
    let base = semantic(FeatureKind::Collab);
    let with = |f: &dyn Fn(&mut SemanticConfig)| {
        let mut config = base.clone();
        f(&mut config.semantic);
        config
    };
    let message = refusal(with(&|s| s.levels = 26), generate(&SHOP));
    assert!(
        message.contains("prepare.semantic.levels = 26"),
        "{message}"
    );
    let message = refusal(with(&|s| s.levels = 0), generate(&SHOP));
    assert!(message.contains("prepare.semantic.levels"), "{message}");
    let message = refusal(with(&|s| s.codebook = 1), generate(&SHOP));
    assert!(
        message.contains("prepare.semantic.codebook = 1"),
        "{message}"
    );
    let message = refusal(with(&|s| s.codebook = 4000), generate(&SHOP));
    assert!(
        message.contains("prepare.semantic.codebook = 4000") && message.contains("items"),
        "{message}"
    );
    let message = refusal(with(&|s| s.dims = 0), generate(&SHOP));
    assert!(message.contains("prepare.semantic.dims"), "{message}");
    let message = PrepareConfig::from_toml_str(
        "[prepare]\nid_scheme = \"semantic\"\n[prepare.semantic]\nfeatures = \"pixels\"\n",
    )
    .unwrap_err();
    assert!(
        message.contains("pixels") && message.contains("`collab`"),
        "{message}"
    );

    // No text at all (as Sports): content is refused, collab works and
    // `both` is refused too.
    for features in [FeatureKind::Content, FeatureKind::Both] {
        let message = refusal(semantic(features), raw_without_metadata());
        assert!(
            message.contains("no item of `shop` has a title") && message.contains("collab"),
            "{message}"
        );
    }
    let data = prepare(
        "shop",
        raw_without_metadata(),
        &semantic(FeatureKind::Collab),
    )
    .unwrap();
    assert_eq!(
        data.report.codes.unwrap().items_without_interactions,
        Some(0)
    );
}

fn raw_without_metadata() -> RawData {
    let mut raw = generate(&SHOP);
    raw.metadata.clear();
    raw
}

#[test]
fn items_without_features_fall_back_and_are_counted() {
    // Half the shop's titles, brands and categories removed: those items
    // get random content vectors, and the report says how many.
    let mut raw = generate(&SHOP);
    let mut stripped = 0;
    for (i, meta) in raw.metadata.iter_mut().enumerate() {
        if i % 2 == 0 {
            *meta = None;
            stripped += 1;
        }
    }
    let data = prepare("shop", raw, &semantic(FeatureKind::Content)).unwrap();
    let report = data.report.codes.clone().unwrap();
    let without = report.items_without_text.unwrap();
    assert!(
        without >= data.report.items_without_metadata && without <= stripped,
        "{without} of {stripped}"
    );
    assert!(without > 0);
    let ids = identifiers(&data);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
}
