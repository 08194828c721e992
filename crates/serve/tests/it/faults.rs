//! Faults, each bounded in count and time: over a real loopback socket,
//! clients that vanish mid-request, a slow-loris body, a flood past the
//! queue bound, a request past its deadline, and a shutdown while a request
//! is in flight; and items added while retrievals are decoded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use recalign_data::NewItem;
use recalign_data::source::ItemMetadata;
use recalign_serve::{AppState, ServeConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fixture::{
    call, digits_fixture, history, ids, item_id, scores, serve_dataset, settings, start, start_on,
};

struct Running {
    addr: SocketAddr,
    state: AppState,
    stop: oneshot::Sender<()>,
    done: JoinHandle<recalign_serve::Result<()>>,
}

async fn serve(config: ServeConfig) -> Running {
    let service = start(config);
    let state = service.state().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(service.serve(listener, async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        state,
        stop,
        done,
    }
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends `request` and reads the whole answer, within 10 s.
async fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("no answer within 10 s")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

/// Waits up to 5 s for `condition`.
async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_is_dropped_before_decoding() {
    let running = serve(ServeConfig {
        batch_wait: Duration::from_millis(400),
        ..ServeConfig::default()
    })
    .await;
    let body = json!({ "history": history(1), "k": 5 }).to_string();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(running.addr).await.unwrap();
        stream
            .write_all(post("/v1/recommend", &body).as_bytes())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop(stream);
    }
    // A client that stays gets its answer.
    let answer = exchange(running.addr, &post("/v1/recommend", &body)).await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    let state = running.state.clone();
    assert!(
        eventually(|| state.metrics().abandoned_count() >= 3).await,
        "abandoned: {}",
        state.metrics().abandoned_count()
    );
    running.stop.send(()).unwrap();
    running.done.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_loris_body_gets_408() {
    let running = serve(ServeConfig {
        body_timeout: Duration::from_millis(500),
        ..ServeConfig::default()
    })
    .await;
    let body = json!({ "history": history(1), "k": 5 }).to_string();
    let request = post("/v1/recommend", &body);
    let (head, rest) = request.split_at(request.find("\r\n\r\n").unwrap() + 4);
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    let writer = async {
        for byte in rest.bytes().take(20) {
            if stream.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        stream
    };
    let mut stream = writer.await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(6));
    running.stop.send(()).unwrap();
    running.done.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_past_the_queue_gets_429_and_no_5xx() {
    let capacity = 2;
    let service = start(ServeConfig {
        queue: capacity,
        max_batch: 1,
        batch_wait: Duration::ZERO,
        ..ServeConfig::default()
    });
    let router = service.router();
    let body = json!({ "history": history(2), "k": 10 }).to_string();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (router, body) = (router.clone(), body.clone());
            tokio::spawn(async move { call(&router, "POST", "/v1/recommend", Some(&body)).await })
        })
        .collect();
    let (mut ok, mut busy) = (0, 0);
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                busy += 1;
                assert_eq!(answer.headers["retry-after"], "1");
                assert_eq!(answer.json["error"]["code"], json!("overloaded"));
            }
            other => panic!("{other}: {}", answer.text),
        }
    }
    assert!(ok >= 1 && busy >= 1, "{ok} answered, {busy} turned away");
    let metrics = service.state().metrics();
    assert!(
        metrics.queue_peak() <= capacity,
        "peak {}",
        metrics.queue_peak()
    );
    assert_eq!(metrics.queue_depth(), 0);
    let text = call(&router, "GET", "/metrics", None).await.text;
    assert!(
        text.contains(&format!("recalign_requests_rejected_total {busy}")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_gets_503_and_is_not_decoded() {
    let service = start(ServeConfig {
        request_timeout: Duration::from_millis(50),
        batch_wait: Duration::from_millis(400),
        ..ServeConfig::default()
    });
    let router = service.router();
    let body = json!({ "history": [item_id(4)], "k": 3 }).to_string();
    let answer = call(&router, "POST", "/v1/recommend", Some(&body)).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text
    );
    assert_eq!(answer.json["error"]["code"], json!("timeout"));
    assert!(answer.headers.contains_key("retry-after"));
    let state = service.state().clone();
    assert!(eventually(|| state.metrics().abandoned_count() == 1).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight() {
    let running = serve(ServeConfig {
        batch_wait: Duration::from_millis(300),
        ..ServeConfig::default()
    })
    .await;
    let body = json!({ "history": history(3), "k": 4 }).to_string();
    let addr = running.addr;
    let in_flight =
        tokio::spawn(async move { exchange(addr, &post("/v1/recommend", &body)).await });
    tokio::time::sleep(Duration::from_millis(60)).await;
    running.stop.send(()).unwrap();
    let answer = in_flight.await.unwrap();
    assert_eq!(status_of(&answer), 200, "{answer}");
    tokio::time::timeout(Duration::from_secs(10), running.done)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn items_added_during_retrieval_leave_every_answer_whole() {
    let fixture = digits_fixture();
    let config = ServeConfig {
        allow_item_updates: true,
        batch_wait: Duration::from_millis(20),
        ..ServeConfig::default()
    };
    let service = start_on(fixture, settings(), config.clone());
    let router = service.router();
    let items = service.state().catalogue().len();
    let added: Vec<NewItem> = (0..6)
        .map(|i| NewItem {
            raw_id: format!("ADDED-{i}"),
            identifier: Some((20_001 + i).to_string()),
            meta: ItemMetadata {
                title: Some(format!("Limited edition lamp {i}")),
                ..ItemMetadata::default()
            },
            ..NewItem::default()
        })
        .collect();
    let ask = |u: usize| json!({ "history": history(u), "k": 10 }).to_string();

    // Retrievals and item updates, all at once.
    let retrievals: Vec<_> = (0..24)
        .map(|u| {
            let (router, body) = (router.clone(), ask(u));
            tokio::spawn(async move { call(&router, "POST", "/v1/recommend", Some(&body)).await })
        })
        .collect();
    let updates: Vec<_> = added
        .iter()
        .map(|item| {
            let body = json!({
                "id": item.raw_id,
                "identifier": item.identifier,
                "title": item.meta.title,
            })
            .to_string();
            let router = router.clone();
            tokio::spawn(async move { call(&router, "POST", "/v1/items", Some(&body)).await })
        })
        .collect();
    for update in updates {
        let answer = update.await.unwrap();
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    for retrieval in retrievals {
        let answer = retrieval.await.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        for id in ids(&answer) {
            let uri = format!("/v1/items/{id}");
            assert_eq!(
                call(&router, "GET", &uri, None).await.status,
                StatusCode::OK
            );
        }
    }
    assert_eq!(service.state().catalogue().len(), items + added.len());

    // Once quiet, the service answers as one started with the items in its
    // catalogue from the beginning.
    let mut dataset = fixture.dataset.clone();
    for item in added {
        dataset.add_item(item).unwrap();
    }
    let fresh = serve_dataset(fixture, dataset, settings(), config).router();
    for u in 0..6 {
        let served = call(&router, "POST", "/v1/recommend", Some(&ask(u))).await;
        let expected = call(&fresh, "POST", "/v1/recommend", Some(&ask(u))).await;
        assert_eq!(ids(&served), ids(&expected), "user {u}");
        assert_eq!(scores(&served), scores(&expected), "user {u}");
    }
}
