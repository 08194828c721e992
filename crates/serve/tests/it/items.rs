//! Cold start: `POST /v1/items` adds an item at run time, checked against
//! the identifier scheme and the model, and retrievable at once.

use std::collections::HashSet;

use axum::http::StatusCode;
use burn::backend::Flex;
use recalign_data::{Event, ItemIdx, UserIdx};
use recalign_decode::{answer_log_probs, encode_prompts};
use recalign_recommend::{History, Recommender, Scoring, Settings};
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_serve::ServeConfig;
use recalign_tokenizer::T5Tokenizer;
use serde_json::json;

use crate::fixture::{
    Fixture, call, digits_fixture, history, ids, item_id, scores, settings, start, start_on,
};

fn allowing() -> ServeConfig {
    ServeConfig {
        allow_item_updates: true,
        ..ServeConfig::default()
    }
}

#[tokio::test]
async fn items_are_added_only_when_allowed_and_only_when_they_fit() {
    let new = json!({ "id": "NEW-1", "title": "Solar garden lamp" }).to_string();

    let closed = start_on(digits_fixture(), settings(), ServeConfig::default()).router();
    let refused = call(&closed, "POST", "/v1/items", Some(&new)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(refused.json["error"]["code"], "item_updates_disabled");

    // Atomic identifiers are tokens the model learnt: no new one.
    let atomic = start(allowing()).router();
    let refused = call(&atomic, "POST", "/v1/items", Some(&new)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json["error"]["code"], "bad_item");
    assert!(refused.text.contains("atomic"), "{}", refused.text);

    let fixture = digits_fixture();
    let data = &fixture.dataset;
    let service = start_on(fixture, settings(), allowing());
    let router = service.router();
    let n = service.state().catalogue().len();
    let top: u64 = data
        .items()
        .iter()
        .map(|i| i.identifier.parse::<u64>().unwrap())
        .max()
        .unwrap();

    let body = json!({
        "id": "NEW-1",
        "title": "Solar garden lamp",
        "brand": "Lumen",
        "categories": [["Garden", "Lights"]],
    })
    .to_string();
    let added = call(&router, "POST", "/v1/items", Some(&body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.json["id"], "NEW-1");
    assert_eq!(added.json["identifier"], (top + 1).to_string());
    let shown = call(&router, "GET", "/v1/items/NEW-1", None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.json, added.json);
    assert_eq!(shown.json["title"], "Solar garden lamp");
    assert_eq!(service.state().catalogue().len(), n + 1);

    // The new item works in a history and as a candidate.
    let body = json!({ "history": ["NEW-1", item_id(2)], "k": 5 }).to_string();
    let found = call(&router, "POST", "/v1/recommend", Some(&body)).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let body = json!({ "history": history(1), "candidates": ["NEW-1", item_id(4)] }).to_string();
    let ranked = call(&router, "POST", "/v1/rank", Some(&body)).await;
    assert_eq!(ranked.status, StatusCode::OK, "{}", ranked.text);
    assert!(ids(&ranked).contains(&"NEW-1".to_owned()));

    let owner = data.item(ItemIdx(0));
    let cases = [
        (
            json!({ "id": "NEW-1" }),
            StatusCode::CONFLICT,
            "item_exists",
            Some("id"),
        ),
        (
            json!({ "id": owner.raw_id }),
            StatusCode::CONFLICT,
            "item_exists",
            Some("id"),
        ),
        (
            json!({ "id": "NEW-2", "identifier": owner.identifier }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_item",
            None,
        ),
        (
            json!({ "id": "NEW-2", "identifier": "12a" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_item",
            None,
        ),
        (
            json!({ "id": "NEW-2", "like": "no-such-item" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_item",
            Some("like"),
        ),
        (
            json!({ "id": "NEW-2", "like": owner.raw_id }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_item",
            None,
        ),
        (
            json!({ "id": " " }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_item",
            Some("id"),
        ),
        (
            json!({ "title": "no id" }),
            StatusCode::BAD_REQUEST,
            "bad_field",
            Some("id"),
        ),
        (
            json!({ "id": "NEW-2", "colour": "red" }),
            StatusCode::BAD_REQUEST,
            "bad_field",
            None,
        ),
    ];
    for (body, status, code, field) in cases {
        let answer = call(&router, "POST", "/v1/items", Some(&body.to_string())).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text);
        assert_eq!(
            answer.json["error"]["code"], code,
            "{body}: {}",
            answer.text
        );
        if let Some(field) = field {
            assert_eq!(answer.json["error"]["field"], field, "{body}");
        }
    }
    let taken = call(
        &router,
        "POST",
        "/v1/items",
        Some(&json!({ "id": "NEW-2", "identifier": owner.identifier }).to_string()),
    )
    .await;
    assert!(taken.text.contains(&owner.raw_id), "{}", taken.text);
    assert_eq!(service.state().catalogue().len(), n + 1);
    let metrics = call(&router, "GET", "/metrics", None).await;
    assert!(metrics.text.contains("recalign_items_added_total 1"));
}

/// The identifier, among the numbers below 2,000 that no item uses (the
/// catalogue numbers its 1,101 items from 1), that the model scores highest
/// after user `u`'s history, with its exact score (mean token
/// log-probability, as `settings` scores) and the catalogue's best.
fn best_unused(fixture: &Fixture, u: usize, settings: &Settings) -> (String, f32, f32) {
    let data = &fixture.dataset;
    let device = Default::default();
    let generator = Generator::new(data, SamplesConfig::default()).unwrap();
    let recommender =
        Recommender::<Flex>::load(&fixture.model, &generator, settings.clone(), &device).unwrap();
    let tokenizer = T5Tokenizer::from_file(&fixture.model.join("tokenizer.json")).unwrap();
    let events: Vec<Event> = data
        .train_sequence(UserIdx(u as u32))
        .iter()
        .map(|e| Event::new(e.item, None, None))
        .collect();
    let history = History {
        user: None,
        events: &events,
    };
    let prompt = recommender
        .prompt_tokens(history, Query::Retrieval)
        .unwrap();
    let model = recommender.model();
    let encoded = encode_prompts(model, &[prompt], &device);

    // An answer reads the identifier where item 0's reads its own.
    let first = &data.item(ItemIdx(0)).identifier;
    let template = generator.item_answer(ItemIdx(0));
    assert_eq!(template.matches(first.as_str()).count(), 1, "{template}");
    let used: HashSet<&str> = data.items().iter().map(|i| i.identifier.as_str()).collect();
    let unused: Vec<String> = (1..2_000u32)
        .map(|n| n.to_string())
        .filter(|n| !used.contains(n.as_str()))
        .collect();
    let texts: Vec<String> = unused
        .iter()
        .map(|n| template.replace(first.as_str(), n))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let answers = tokenizer.encode_batch(&refs).unwrap();
    let mean = |answers: &[Vec<u32>]| -> Vec<f32> {
        let sums = answer_log_probs(model, &encoded, &vec![0; answers.len()], answers);
        sums.iter()
            .zip(answers)
            .map(|(sum, tokens)| sum / tokens.len() as f32)
            .collect()
    };
    assert_eq!(settings.scoring, Scoring::PerToken);
    let new = mean(&answers);
    let old = mean(recommender.answers());
    let best = (0..new.len())
        .max_by(|&a, &b| new[a].total_cmp(&new[b]))
        .unwrap();
    let catalogue_best = old.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    (unused[best].clone(), new[best], catalogue_best)
}

#[tokio::test]
async fn an_added_item_is_retrieved_first_when_the_model_scores_it_first() {
    let fixture = digits_fixture();
    // Beams wider than any level of the trie make retrieval exact, so the
    // first item is the model's exact favourite; scores are per token, so
    // that four digits compete with one.
    let settings = Settings {
        beams: 2048,
        scoring: Scoring::PerToken,
        ..settings()
    };
    let (u, (identifier, score, catalogue_best)) = (0..10)
        .map(|u| (u, best_unused(fixture, u, &settings)))
        .find(|(_, (_, new, old))| new > &(old + 1e-3))
        .expect("for some history the model prefers an unused identifier");
    assert!(score > catalogue_best);

    let service = start_on(fixture, settings, allowing());
    let router = service.router();
    let ask = json!({ "history": history(u), "k": 3 }).to_string();
    let before = call(&router, "POST", "/v1/recommend", Some(&ask)).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert!((scores(&before)[0] - f64::from(catalogue_best)).abs() < 1e-3);

    let body = json!({ "id": "COLD-1", "identifier": identifier, "title": "Brand-new kettle" })
        .to_string();
    let added = call(&router, "POST", "/v1/items", Some(&body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let after = call(&router, "POST", "/v1/recommend", Some(&ask)).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert_eq!(ids(&after)[0], "COLD-1", "{}", after.text);
    assert!((scores(&after)[0] - f64::from(score)).abs() < 1e-3);
    // The rest is the catalogue's answer, shifted down by one.
    assert_eq!(ids(&after)[1..], ids(&before)[..2]);
}
