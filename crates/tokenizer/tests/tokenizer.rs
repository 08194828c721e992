//! Training, saving and loading T5 tokenizers.

use recalign_tokenizer::{Error, SENTINELS, T5Tokenizer, TrainOptions, sentinel};

fn corpus() -> Vec<String> {
    let titles = [
        "Summitline All-Season Yoga Mat, 6 mm",
        "Cadence Reflective Resistance Bands, Heavy",
        "MapofBeauty Long Wave Curly Hair Wig",
        "Almay Toner 2, for Dry Skin with Cucumber",
    ];
    (0..200)
        .map(|i| {
            format!(
                "A user has purchased the following items in order: ID: {}, title: {}. Predict the next item.",
                i * 37 % 1000,
                titles[i % titles.len()]
            )
        })
        .collect()
}

fn trained() -> T5Tokenizer {
    T5Tokenizer::train(
        corpus().iter(),
        TrainOptions {
            vocab_size: 300,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn trained_tokenizer_has_t5_special_tokens() {
    let tokenizer = trained();
    assert_eq!(tokenizer.pad_id(), 0);
    assert_eq!(tokenizer.eos_id(), 1);
    assert_eq!(tokenizer.token_id("<unk>"), Some(2));
    let size = tokenizer.vocab_size();
    assert!(size <= 300, "vocabulary of {size}");
    // T5 puts <extra_id_0> last and <extra_id_99> first among the sentinels.
    assert_eq!(tokenizer.sentinel_id(0), Some(size as u32 - 1));
    assert_eq!(
        tokenizer.sentinel_id(SENTINELS - 1),
        Some((size - SENTINELS) as u32)
    );
    let ids = tokenizer
        .encode("Fill in <extra_id_0> and <extra_id_1>.")
        .unwrap();
    assert!(ids.contains(&tokenizer.sentinel_id(0).unwrap()));
    assert!(ids.contains(&tokenizer.sentinel_id(1).unwrap()));
    assert_eq!(*ids.last().unwrap(), 1);
}

#[test]
fn item_identifiers_are_one_piece_per_digit_in_every_context() {
    let tokenizer = trained();
    let alone = tokenizer.pieces("3187").unwrap();
    assert_eq!(alone, ["▁", "3", "1", "8", "7", "</s>"]);
    let in_text = tokenizer.pieces("ID: 3187, title: Wig").unwrap();
    let digits: Vec<&str> = in_text
        .iter()
        .map(String::as_str)
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(digits, ["3", "1", "8", "7"]);
    assert_eq!(
        tokenizer
            .decode(&tokenizer.encode("3187").unwrap())
            .unwrap(),
        "3187"
    );
}

#[test]
fn same_corpus_gives_the_same_tokenizer() {
    let a = trained();
    let b = trained();
    let text = "Cadence Reflective Resistance Bands for a Yoga user";
    assert_eq!(a.encode(text).unwrap(), b.encode(text).unwrap());
    assert_eq!(a.vocab_size(), b.vocab_size());
}

/// A corpus of a few hundred distinct words in varied titles.
fn wordy_corpus() -> Vec<String> {
    let brands = [
        "Summitline",
        "Cadence",
        "MapofBeauty",
        "Almay",
        "Neutrogena",
        "Trailhead",
    ];
    let nouns = [
        "Yoga Mat",
        "Resistance Bands",
        "Hair Wig",
        "Toner",
        "Acne Wash",
        "Water Bottle",
    ];
    let adjectives = [
        "Reflective",
        "Curly",
        "Oil-Free",
        "Insulated",
        "Heavy",
        "Gentle",
        "Daily",
    ];
    (0..400)
        .map(|i| {
            format!(
                "Given the items a user bought, in order: ID: {}, title: {} {} {} no. {}. Which item will the user buy next?",
                i * 37 % 1000,
                brands[i % brands.len()],
                adjectives[i / 3 % adjectives.len()],
                nouns[i / 7 % nouns.len()],
                i % 13,
            )
        })
        .collect()
}

#[test]
fn training_is_byte_identical_across_runs_and_thread_counts() {
    let corpus = wordy_corpus();
    let options = TrainOptions {
        vocab_size: 400,
        ..Default::default()
    };
    let bytes = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let tokenizer =
            pool.install(|| T5Tokenizer::train(corpus.iter(), options.clone()).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        tokenizer.save(&path).unwrap();
        std::fs::read(&path).unwrap()
    };
    let first = bytes(1);
    for run in 0..20 {
        assert!(bytes(1 + run % 4) == first, "run {run} differs");
    }
}

#[test]
fn the_requested_size_is_reached_and_common_words_are_one_piece() {
    let tokenizer = T5Tokenizer::train(
        wordy_corpus().iter(),
        TrainOptions {
            vocab_size: 400,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(tokenizer.vocab_size(), 400);
    for word in ["▁Given", "▁items", "▁user", "▁title:", "▁Reflective"] {
        assert_eq!(
            tokenizer.pieces(&word[3..]).unwrap(),
            [word, "</s>"],
            "`{word}` is not one piece"
        );
    }
}

#[test]
fn whole_tokens_get_one_id_each_between_the_pieces_and_the_sentinels() {
    let corpus: Vec<String> = wordy_corpus()
        .iter()
        .enumerate()
        .map(|(i, t)| t.replace("ID: ", &format!("ID: <i_{}> ", i % 50)))
        .collect();
    let whole: Vec<String> = (0..60).map(|i| format!("<i_{i}>")).collect();
    let options = TrainOptions {
        vocab_size: 300,
        whole_tokens: whole.clone(),
    };
    let tokenizer = T5Tokenizer::train(corpus.iter(), options).unwrap();
    assert_eq!(tokenizer.vocab_size(), 360);
    let first = tokenizer.token_id("<i_0>").unwrap();
    assert_eq!(first, 200, "after the 200 trained pieces");
    for (i, token) in whole.iter().enumerate() {
        assert_eq!(tokenizer.token_id(token), Some(first + i as u32));
        assert_eq!(
            tokenizer.encode(token).unwrap(),
            [first + i as u32, tokenizer.eos_id()]
        );
    }
    let pieces = tokenizer.pieces("ID: <i_12>, title: Toner").unwrap();
    assert!(pieces.contains(&"<i_12>".to_owned()), "{pieces:?}");
    // The brackets were cut out of the text the pieces were learnt on.
    assert!(tokenizer.token_id("▁<").is_none() && tokenizer.token_id("<i").is_none());
    assert_eq!(tokenizer.sentinel_id(0), Some(359));
}

#[test]
fn malformed_or_repeated_whole_tokens_are_refused() {
    for (tokens, expected) in [
        (vec!["i_1"], "must read `<…>`"),
        (vec!["<i 1>"], "must read `<…>`"),
        (vec!["<i_1>", "<i_1>"], "repeated"),
    ] {
        let options = TrainOptions {
            vocab_size: 300,
            whole_tokens: tokens.iter().map(|t| t.to_string()).collect(),
        };
        let err = T5Tokenizer::train(corpus().iter(), options).unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[test]
fn saved_tokenizer_loads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    let tokenizer = trained();
    tokenizer.save(&path).unwrap();
    let loaded = T5Tokenizer::from_file(&path).unwrap();
    let text = "MapofBeauty Curly Hair Wig <extra_id_3> 0042";
    assert_eq!(
        loaded.encode(text).unwrap(),
        tokenizer.encode(text).unwrap()
    );
}

#[test]
fn a_tokenizer_without_sentinels_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    trained().save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replace(&sentinel(42), "<not_a_sentinel>");
    std::fs::write(&path, broken).unwrap();
    let err = T5Tokenizer::from_file(&path).unwrap_err();
    assert!(matches!(err, Error::MissingToken { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("<extra_id_42>") && message.contains("tokenizer.json"),
        "{message}"
    );
}

#[test]
fn unreadable_tokenizer_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, "{ not json").unwrap();
    let message = T5Tokenizer::from_file(&path).unwrap_err().to_string();
    assert!(message.contains("tokenizer.json"), "{message}");
}

#[test]
fn too_small_a_vocabulary_is_refused() {
    let err = T5Tokenizer::train(
        corpus().iter(),
        TrainOptions {
            vocab_size: 105,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("vocab_size 105"), "{err}");
}
