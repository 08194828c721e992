//! Every endpoint's answer, every error class, and authentication.

use axum::http::StatusCode;
use recalign_serve::{Limits, ServeConfig};
use serde_json::json;

use crate::fixture::{call, call_with, history, ids, item_id, scores, start};

#[tokio::test]
async fn endpoints_answer_with_real_items_and_describe_the_service() {
    let service = start(ServeConfig::default());
    let router = service.router();
    let items = service.state().catalogue().len();

    let health = call(&router, "GET", "/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = call(&router, "GET", "/readyz", None).await;
    assert_eq!(
        (ready.status, ready.json["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );

    // Retrieval: K distinct catalogue items, best first, with titles; the
    // history left out when asked.
    let h = history(0);
    let body = json!({ "history": h, "k": 7 }).to_string();
    let found = call(&router, "POST", "/v1/recommend", Some(&body)).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let found_ids = ids(&found);
    assert_eq!(found_ids.len(), 7);
    let mut distinct = found_ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 7);
    let s = scores(&found);
    assert!(s.windows(2).all(|w| w[0] >= w[1]) && s.iter().all(|&x| x < 0.0));
    assert!(found.json["items"][0]["title"].is_string());
    assert!(found.headers.contains_key("x-request-id"));

    let body = json!({ "history": h, "k": items.min(30), "exclude_history": true }).to_string();
    let excluded = call(&router, "POST", "/v1/recommend", Some(&body)).await;
    assert_eq!(excluded.status, StatusCode::OK, "{}", excluded.text);
    assert!(ids(&excluded).iter().all(|id| !h.contains(id)));

    // Ranking: the candidates, each once, best first (its prompt lists
    // them, so its scores are not retrieval's).
    let candidates: Vec<String> = found_ids.iter().rev().cloned().collect();
    let body = json!({ "history": h, "candidates": candidates }).to_string();
    let ranked = call(&router, "POST", "/v1/rank", Some(&body)).await;
    assert_eq!(ranked.status, StatusCode::OK, "{}", ranked.text);
    let mut ranked_ids = ids(&ranked);
    ranked_ids.sort();
    assert_eq!(ranked_ids, distinct);
    let r = scores(&ranked);
    assert!(r.windows(2).all(|w| w[0] >= w[1]) && r.iter().all(|&x| x < 0.0));

    // Rating: a distribution over 1..5 and its mean.
    let body = json!({ "history": h, "item": item_id(3) }).to_string();
    let rated = call(&router, "POST", "/v1/rate", Some(&body)).await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.text);
    let distribution = rated.json["distribution"].as_array().unwrap();
    assert_eq!(distribution.len(), 5);
    let total: f64 = distribution
        .iter()
        .map(|d| d["probability"].as_f64().unwrap())
        .sum();
    let mean: f64 = distribution
        .iter()
        .map(|d| d["rating"].as_f64().unwrap() * d["probability"].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-4);
    assert!((mean - rated.json["expected"].as_f64().unwrap()).abs() < 1e-4);

    // Items.
    let id = item_id(5);
    let item = call(&router, "GET", &format!("/v1/items/{id}"), None).await;
    assert_eq!(item.status, StatusCode::OK);
    assert_eq!(item.json["id"], json!(id));
    assert!(item.json["identifier"].is_string());
    let missing = call(&router, "GET", "/v1/items/no-such-item", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json["error"]["code"], json!("unknown_item"));

    let route = call(&router, "GET", "/v2/nothing", None).await;
    assert_eq!(route.status, StatusCode::NOT_FOUND);
    assert_eq!(route.json["error"]["code"], json!("not_found"));

    // Metrics count what happened, by route and status.
    let metrics = call(&router, "GET", "/metrics", None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    for line in [
        "recalign_requests_total{route=\"/v1/recommend\",status=\"200\"} 2",
        "recalign_requests_total{route=\"/v1/rank\",status=\"200\"} 1",
        "recalign_requests_total{route=\"/v1/rate\",status=\"200\"} 1",
        "recalign_requests_total{route=\"/v1/items/{id}\",status=\"404\"} 1",
        "recalign_requests_total{route=\"other\",status=\"404\"} 1",
        "recalign_request_duration_seconds_count{route=\"/v1/recommend\"} 2",
        "recalign_batch_size_count 4",
        "recalign_queue_depth 0",
    ] {
        assert!(
            metrics.text.contains(line),
            "missing `{line}` in\n{}",
            metrics.text
        );
    }
}

/// Posts `body` to `route` and returns (status, error code, field).
async fn refused(
    router: &axum::Router,
    route: &str,
    body: &str,
) -> (StatusCode, String, Option<String>) {
    let answer = call(router, "POST", route, Some(body)).await;
    let error = &answer.json["error"];
    assert!(
        error["message"].is_string(),
        "no error message in {}",
        answer.text
    );
    (
        answer.status,
        error["code"].as_str().unwrap_or_default().to_owned(),
        error["field"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn bad_requests_get_4xx_naming_the_field() {
    let limits = Limits {
        max_body_bytes: 4096,
        max_history: 5,
        max_k: 20,
        max_candidates: 4,
    };
    let service = start(ServeConfig {
        limits,
        ..ServeConfig::default()
    });
    let router = service.router();
    let (a, b) = (item_id(0), item_id(1));
    let bad = StatusCode::BAD_REQUEST;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let field = |f: &str| Some(f.to_owned());
    let cases: Vec<(&str, String, StatusCode, &str, Option<String>)> = vec![
        (
            "/v1/recommend",
            "{\"history\": [".into(),
            bad,
            "bad_json",
            field("history"),
        ),
        (
            "/v1/recommend",
            json!({"history": [a, 7]}).to_string(),
            bad,
            "bad_field",
            field("history[1]"),
        ),
        (
            "/v1/recommend",
            json!({"history": [a], "k": "ten"}).to_string(),
            bad,
            "bad_field",
            field("k"),
        ),
        (
            "/v1/recommend",
            json!({"history": [a], "top": 3}).to_string(),
            bad,
            "bad_field",
            field("top"),
        ),
        (
            "/v1/recommend",
            json!({"k": 3}).to_string(),
            bad,
            "bad_field",
            field("history"),
        ),
        (
            "/v1/recommend",
            json!({"history": [a, "nope"]}).to_string(),
            unprocessable,
            "unknown_item",
            field("history[1]"),
        ),
        (
            "/v1/recommend",
            json!({"history": []}).to_string(),
            unprocessable,
            "empty_history",
            field("history"),
        ),
        (
            "/v1/recommend",
            json!({"history": [a, a, a, a, a, a]}).to_string(),
            unprocessable,
            "history_too_long",
            field("history"),
        ),
        (
            "/v1/recommend",
            json!({"history": [a], "k": 0}).to_string(),
            unprocessable,
            "bad_k",
            field("k"),
        ),
        (
            "/v1/recommend",
            json!({"history": [a], "k": 21}).to_string(),
            unprocessable,
            "bad_k",
            field("k"),
        ),
        (
            "/v1/rank",
            json!({"history": [a], "candidates": []}).to_string(),
            unprocessable,
            "bad_candidates",
            field("candidates"),
        ),
        (
            "/v1/rank",
            json!({"history": [a], "candidates": [a, b, a]}).to_string(),
            unprocessable,
            "repeated_candidate",
            field("candidates[2]"),
        ),
        (
            "/v1/rank",
            json!({"history": [a], "candidates": [a, "nope"]}).to_string(),
            unprocessable,
            "unknown_item",
            field("candidates[1]"),
        ),
        (
            "/v1/rank",
            json!({"history": [a], "candidates": [a, b, a, b, a]}).to_string(),
            unprocessable,
            "bad_candidates",
            field("candidates"),
        ),
        (
            "/v1/rate",
            json!({"history": [a], "item": "nope"}).to_string(),
            unprocessable,
            "unknown_item",
            field("item"),
        ),
        (
            "/v1/rate",
            json!({"history": [a], "item": 4}).to_string(),
            bad,
            "bad_field",
            field("item"),
        ),
    ];
    for (route, body, status, code, at) in cases {
        let got = refused(&router, route, &body).await;
        assert_eq!(got, (status, code.to_owned(), at), "{route} {body}");
    }

    // Oversized and deeply nested bodies.
    let big = json!({ "history": vec![a.clone(); 1000] }).to_string();
    let (status, code, _) = refused(&router, "/v1/recommend", &big).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );
    let nested = format!("{{\"history\": {}{}}}", "[".repeat(2000), "]".repeat(2000));
    let (status, _, _) = refused(&router, "/v1/recommend", &nested).await;
    assert_eq!(status, bad);

    // The service still answers.
    let body = json!({ "history": [a], "k": 3 }).to_string();
    let ok = call(&router, "POST", "/v1/recommend", Some(&body)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
}

#[tokio::test]
async fn an_api_key_guards_every_route_but_healthz() {
    let service = start(ServeConfig {
        api_key: Some("s3cret-key".into()),
        ..ServeConfig::default()
    });
    let router = service.router();
    let body = json!({ "history": [item_id(0)], "k": 2 }).to_string();
    for key in [None, Some("wrong"), Some("s3cret-ke"), Some("s3cret-key2")] {
        let answer = call_with(&router, "POST", "/v1/recommend", Some(&body), key).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
        assert_eq!(answer.json["error"]["code"], json!("unauthorized"));
    }
    for route in ["/readyz", "/metrics", "/v1/items/x"] {
        let answer = call(&router, "GET", route, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{route}");
    }
    let health = call(&router, "GET", "/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    let ok = call_with(
        &router,
        "POST",
        "/v1/recommend",
        Some(&body),
        Some("s3cret-key"),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ids(&ok).len(), 2);
}

#[test]
fn bad_settings_and_models_stop_the_start() {
    let fixture = crate::fixture::fixture();
    let source = |model: std::path::PathBuf| recalign_serve::ModelSource {
        dataset: fixture.dataset.clone(),
        samples: recalign_samples::SamplesConfig::default(),
        model,
        settings: recalign_recommend::Settings::default(),
        device: recalign_runtime::DeviceChoice::Cpu,
    };
    let config = ServeConfig {
        max_batch: 0,
        ..ServeConfig::default()
    };
    let error = recalign_serve::Service::start(source(fixture.model.clone()), config)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("max_batch"), "{error}");
    let missing = std::env::temp_dir().join("recalign-serve-no-model");
    let error = recalign_serve::Service::start(source(missing.clone()), ServeConfig::default())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("recalign-serve-no-model"), "{error}");
}
