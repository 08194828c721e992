//! Dynamic batching: many concurrent requests are decoded together and
//! answered exactly as each is alone.

use std::time::Duration;

use axum::http::StatusCode;
use recalign_serve::ServeConfig;
use serde_json::json;

use crate::fixture::{call, history, ids, item_id, scores, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_are_batched_and_answered_as_alone() {
    // Mixed requests: retrievals with two K, with and without the history
    // excluded, rankings and ratings.
    let requests: Vec<(&str, String)> = (0..18)
        .map(|u| match u % 6 {
            0..=2 => (
                "/v1/recommend",
                json!({ "history": history(u), "k": 5 + (u % 2) * 5, "exclude_history": u % 3 == 1 })
                    .to_string(),
            ),
            3 | 4 => (
                "/v1/rank",
                json!({ "history": history(u), "candidates": (0..6).map(|i| item_id(i * 7 + u)).collect::<Vec<_>>() })
                    .to_string(),
            ),
            _ => (
                "/v1/rate",
                json!({ "history": history(u), "item": item_id(u) }).to_string(),
            ),
        })
        .collect();

    // Alone: one at a time, so every batch holds one request.
    let alone_service = start(ServeConfig {
        max_batch: 1,
        ..ServeConfig::default()
    });
    let alone_router = alone_service.router();
    let mut alone = Vec::new();
    for (route, body) in &requests {
        alone.push(call(&alone_router, "POST", route, Some(body)).await);
    }

    // Together: all at once, gathered for up to 200 ms.
    let service = start(ServeConfig {
        batch_wait: Duration::from_millis(200),
        max_gather: 64,
        max_batch: 64,
        ..ServeConfig::default()
    });
    let router = service.router();
    let tasks: Vec<_> = requests
        .iter()
        .map(|(route, body)| {
            let router = router.clone();
            let (route, body) = (route.to_string(), body.clone());
            tokio::spawn(async move { call(&router, "POST", &route, Some(&body)).await })
        })
        .collect();
    let mut together = Vec::new();
    for task in tasks {
        together.push(task.await.unwrap());
    }

    for (i, (a, t)) in alone.iter().zip(&together).enumerate() {
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(t.status, StatusCode::OK, "{}", t.text);
        if requests[i].0 == "/v1/rate" {
            let (x, y) = (
                a.json["expected"].as_f64().unwrap(),
                t.json["expected"].as_f64().unwrap(),
            );
            assert!(
                (x - y).abs() < 1e-4,
                "request {i}: rating {x} alone, {y} batched"
            );
            continue;
        }
        assert_eq!(ids(a), ids(t), "request {i}: items differ when batched");
        for (x, y) in scores(a).iter().zip(scores(t)) {
            assert!(
                (x - y).abs() < 1e-3,
                "request {i}: score {x} alone, {y} batched"
            );
        }
    }

    // The batches really were shared: fewer batches than requests.
    let metrics = call(&router, "GET", "/metrics", None).await.text;
    let batches: usize = metrics
        .lines()
        .find_map(|l| l.strip_prefix("recalign_batch_size_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        batches < requests.len() / 2,
        "{batches} batches for {} requests",
        requests.len()
    );
    let alone_metrics = call(&alone_router, "GET", "/metrics", None).await.text;
    assert!(alone_metrics.contains(&format!(
        "recalign_batch_size_bucket{{le=\"1\"}} {}",
        requests.len()
    )));
}
