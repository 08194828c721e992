//! The recommender end to end on a random tiny T5 over a small shop: only
//! real, distinct, allowed items come out; ranking and retrieval agree on
//! scores; ratings are distributions; the evaluator takes every protocol;
//! bad requests and mismatched tokenizers are refused with clear errors.

use std::path::PathBuf;

use burn::backend::Flex;
use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{Dataset, DatasetSpec, ItemIdx, LoadOptions, PrepareConfig, Split};
use recalign_decode::Scoring;
use recalign_eval::Protocol;
use recalign_recommend::{
    EvaluateOptions, History, Recommender, Settings, evaluate, recommender::RATINGS,
};
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_t5::{Preset, T5};
use recalign_tokenizer::{T5Tokenizer, TrainOptions};

fn shop() -> Dataset {
    let spec = DatasetSpec::Synthetic(SyntheticConfig {
        seed: 5,
        users: 120,
    });
    recalign_data::load(&spec, &PrepareConfig::default(), &LoadOptions::default())
        .unwrap()
        .dataset
}

fn tokenizer(generator: &Generator<'_>) -> T5Tokenizer {
    let data = generator.dataset();
    let mut texts: Vec<String> = data
        .users()
        .take(60)
        .map(|u| generator.prompt(Some(u), data.sequence(u), Query::Retrieval))
        .collect();
    texts.extend((0..data.num_items()).map(|i| generator.item_answer(ItemIdx(i as u32))));
    T5Tokenizer::train(
        texts.iter(),
        TrainOptions {
            vocab_size: 400,
            ..Default::default()
        },
    )
    .unwrap()
}

fn recommender<'g, 'd>(
    generator: &'g Generator<'d>,
    tokenizer: T5Tokenizer,
    settings: Settings,
) -> Recommender<'g, 'd, Flex> {
    let config = Preset::Tiny.config(tokenizer.vocab_size().max(200));
    let device = Default::default();
    let model = T5::<Flex>::random(&config, 3, &device).unwrap();
    Recommender::new(
        model,
        tokenizer,
        PathBuf::from("tokenizer.json"),
        generator,
        settings,
        &device,
    )
    .unwrap()
}

#[test]
fn recommends_real_items_scores_them_consistently_and_evaluates() {
    let data = shop();
    let generator = Generator::new(&data, SamplesConfig::default()).unwrap();
    let settings = Settings {
        max_input_tokens: 128,
        ..Settings::default()
    };
    let rec = recommender(&generator, tokenizer(&generator), settings);
    let users: Vec<_> = data.users().take(3).collect();
    let histories: Vec<History<'_>> = users
        .iter()
        .map(|&u| History {
            user: Some(u),
            events: data.train_sequence(u),
        })
        .collect();
    // Retrieval: K distinct catalogue items, history left out for user 0.
    let excluded: Vec<ItemIdx> = {
        let mut items: Vec<ItemIdx> = histories[0].events.iter().map(|e| e.item).collect();
        items.sort_unstable();
        items.dedup();
        items
    };
    let found = rec
        .retrieve(&histories, 10, std::slice::from_ref(&excluded))
        .unwrap();
    for list in &found {
        assert_eq!(list.len(), 10);
        let mut items: Vec<ItemIdx> = list.iter().map(|r| r.item).collect();
        assert!(items.iter().all(|i| i.index() < data.num_items()));
        items.sort_unstable();
        items.dedup();
        assert_eq!(items.len(), 10, "items repeat");
        assert!(list.windows(2).all(|w| w[0].score >= w[1].score));
    }
    assert!(found[0].iter().all(|r| !excluded.contains(&r.item)));

    // Ranking: one score per candidate, the same alone as batched behind a
    // user with a longer prompt and another list (padding and row mapping).
    let list: Vec<ItemIdx> = found[1].iter().map(|r| r.item).collect();
    let other: Vec<ItemIdx> = found[2].iter().take(4).map(|r| r.item).collect();
    let alone = rec.rank(&[(histories[1], &list)]).unwrap();
    let batched = rec
        .rank(&[(histories[2], &other), (histories[1], &list)])
        .unwrap();
    assert_eq!(alone[0].len(), list.len());
    assert_eq!(batched[0].len(), other.len());
    for (a, b) in alone[0].iter().zip(&batched[1]) {
        assert!(a.is_finite() && *a < 0.0);
        assert!((a - b).abs() < 1e-3, "{a} alone vs {b} batched");
    }

    // Rating: a distribution over 1..5 with its mean.
    let target = data.held_out(users[2], Split::Test).unwrap().target.item;
    let rating = rec.rate(&[(histories[2], target)]).unwrap()[0];
    assert!((rating.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    let mean: f32 = RATINGS
        .iter()
        .zip(rating.probabilities)
        .map(|(r, p)| r * p)
        .sum();
    assert!((mean - rating.expected).abs() < 1e-4);
    assert!(RATINGS.contains(&rating.argmax));

    // Every protocol runs through the evaluator.
    let options = EvaluateOptions {
        batch_users: 3,
        users: Some(recalign_eval::UserSample { users: 5, seed: 1 }),
    };
    for protocol in [
        Protocol::retrieval(Split::Valid),
        Protocol::ranking(Split::Test),
        Protocol::rating(Split::Test),
    ] {
        let mut seen = 0;
        let outcome = evaluate(&rec, &data, &protocol, &options, &mut |n| seen = n).unwrap();
        assert_eq!(seen, 5);
        assert_eq!(outcome.evaluation.users_evaluated(), 5, "{protocol}");
        if protocol.task == recalign_eval::ProtocolTask::Rating {
            assert!(outcome.extra.get("rmse_argmax").is_some());
        } else {
            assert!(outcome.evaluation.metrics().get("ndcg@10").is_some());
        }
    }
}

#[test]
fn the_search_and_teacher_forcing_agree_on_the_same_prompt() {
    let data = shop();
    let generator = Generator::new(&data, SamplesConfig::default()).unwrap();
    for scoring in [Scoring::Sum, Scoring::PerToken] {
        let settings = Settings {
            max_input_tokens: 96,
            scoring,
            beams: 12,
        };
        let rec = recommender(&generator, tokenizer(&generator), settings);
        let user = data.users().nth(4).unwrap();
        let history = History {
            user: Some(user),
            events: data.train_sequence(user),
        };
        let found = rec.retrieve(&[history], 5, &[]).unwrap();
        // Teacher-forced scores of the same answers after the same prompt.
        let prompt = rec.prompt_tokens(history, Query::Retrieval).unwrap();
        let device = Default::default();
        let encoded = recalign_decode::encode_prompts(rec.model(), &[prompt], &device);
        let answers: Vec<Vec<u32>> = found[0]
            .iter()
            .map(|r| rec.answers()[r.item.index()].clone())
            .collect();
        let rows = vec![0; answers.len()];
        let forced = recalign_decode::answer_log_probs(rec.model(), &encoded, &rows, &answers);
        for ((r, f), a) in found[0].iter().zip(forced).zip(&answers) {
            let want = match scoring {
                Scoring::Sum => f,
                Scoring::PerToken => f / a.len() as f32,
            };
            assert!(
                (r.score - want).abs() < 1e-3,
                "{scoring:?}: {} vs {want}",
                r.score
            );
        }
    }
}

fn error<T: std::fmt::Debug>(result: Result<T, recalign_recommend::Error>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn bad_requests_and_mismatched_tokenizers_are_refused() {
    let data = shop();
    let generator = Generator::new(&data, SamplesConfig::default()).unwrap();
    let tok = tokenizer(&generator);
    let rec = recommender(&generator, tok.clone(), Settings::default());
    let user = data.users().next().unwrap();
    let history = History {
        user: Some(user),
        events: data.train_sequence(user),
    };
    let empty = History {
        user: None,
        events: &[],
    };
    assert!(error(rec.retrieve(&[empty], 5, &[])).contains("history is empty"));
    let too_many = data.num_items() + 1;
    assert!(error(rec.retrieve(&[history], too_many, &[])).contains("catalogue"));
    assert!(error(rec.retrieve(&[history], 0, &[])).contains("K = 0"));
    let twice = [ItemIdx(1), ItemIdx(2), ItemIdx(1)];
    assert!(error(rec.rank(&[(history, &twice)])).contains("listed twice"));
    let outside = [ItemIdx(u32::MAX)];
    assert!(error(rec.rank(&[(history, &outside)])).contains("outside the catalogue"));
    // Rating an item outside the catalogue is refused, not a panic.
    let rated = error(rec.rate(&[(history, ItemIdx(u32::MAX))]));
    assert!(
        rated.contains("rated item") && rated.contains("outside the catalogue"),
        "{rated}"
    );

    // A model with a tokenizer it cannot use is refused.
    let device = Default::default();
    let refusal = |vocab: usize, tokenizer: T5Tokenizer, path: &str| {
        let model = T5::<Flex>::random(&Preset::Tiny.config(vocab), 3, &device).unwrap();
        let settings = Settings::default();
        Recommender::new(model, tokenizer, path.into(), &generator, settings, &device)
            .err()
            .unwrap()
            .to_string()
    };
    // A model smaller than its tokenizer.
    let e = refusal(100, tok, "model/tokenizer.json");
    assert!(
        e.starts_with("model/tokenizer.json") && e.contains("not a pair"),
        "{e}"
    );

    // A tokenizer that never saw a digit cannot write the item identifiers.
    let words = ["lorem ipsum dolor sit amet", "consectetur adipiscing elit"];
    let wordy = T5Tokenizer::train(
        words.iter(),
        TrainOptions {
            vocab_size: 150,
            ..Default::default()
        },
    )
    .unwrap();
    let e = refusal(200, wordy, "other/tokenizer.json");
    assert!(
        e.contains("<unk>") && e.contains("another catalogue"),
        "{e}"
    );
}

#[test]
fn semantic_codes_are_one_token_per_level_and_the_trie_is_that_deep() {
    use recalign_data::{IdScheme, SemanticConfig};
    let config = PrepareConfig {
        id_scheme: IdScheme::Semantic,
        semantic: SemanticConfig {
            codebook: 8,
            dims: 8,
            ..SemanticConfig::default()
        },
        ..PrepareConfig::default()
    };
    let spec = DatasetSpec::Synthetic(SyntheticConfig {
        seed: 5,
        users: 120,
    });
    let data = recalign_data::load(&spec, &config, &LoadOptions::default())
        .unwrap()
        .dataset;
    let generator = Generator::new(&data, SamplesConfig::default()).unwrap();
    let whole: Vec<String> = data.whole_tokens().iter().map(|t| t.to_string()).collect();
    let texts: Vec<String> = data
        .users()
        .take(60)
        .map(|u| generator.prompt(Some(u), data.sequence(u), Query::Retrieval))
        .collect();
    let tokenizer = T5Tokenizer::train(
        texts.iter(),
        TrainOptions {
            vocab_size: 400,
            whole_tokens: whole.clone(),
        },
    )
    .unwrap();
    // In a prompt, between words and punctuation, each code is one token.
    let prompt = &texts[0];
    let pieces = tokenizer.pieces(prompt).unwrap();
    let first = data.item(data.sequence(data.users().next().unwrap())[0].item);
    for code in recalign_data::codes::tokens(&first.identifier) {
        assert!(pieces.iter().any(|p| p == code), "{code} in {pieces:?}");
    }
    let rec = recommender(&generator, tokenizer.clone(), Settings::default());
    let depth = config.semantic.levels + 1;
    for (i, answer) in rec.answers().iter().enumerate() {
        let item = data.item(ItemIdx(i as u32));
        // The codes, then `</s>`.
        assert_eq!(answer.len(), depth + 1, "{}: {answer:?}", item.identifier);
        let codes: Vec<&str> = recalign_data::codes::tokens(&item.identifier).collect();
        for (id, code) in answer.iter().zip(&codes) {
            assert_eq!(tokenizer.token_id(code), Some(*id));
        }
    }
    assert_eq!(rec.trie().len(), data.num_items());
    assert_eq!(rec.trie().max_len(), depth + 1);
    // Every retrieved item is a real one, found through the codes.
    let user = data.users().next().unwrap();
    let history = History {
        user: Some(user),
        events: data.train_sequence(user),
    };
    let found = rec.retrieve(&[history], 5, &[]).unwrap();
    assert_eq!(found[0].len(), 5);
}
