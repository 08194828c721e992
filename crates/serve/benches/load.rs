//! Load bench for `recalign serve`: throughput and p50/p95/p99 latency of
//! `POST /v1/recommend` (K = 10, 20 beams) at 1, 8, 32 and 128 concurrent
//! clients over loopback, side by side in one run: one request at a time;
//! each gathered round (up to 32) decoded as one batch; and the default,
//! rounds sorted by prompt length and decoded in batches of 8. The model is the `small` preset (random
//! weights: decoding costs the same whatever they learnt) over the embedded
//! shop's catalogue; each request is a shop user's training history.
//!
//! ```text
//! cargo bench -p recalign-serve --bench load -- [--requests N] [--preset small|tiny] [--out FILE]
//! ```
//!
//! Prints a markdown table and writes JSON (default
//! `target/serve-load.json`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use burn::backend::Flex;
use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{DatasetSpec, ItemIdx, LoadOptions, PrepareConfig};
use recalign_recommend::Settings;
use recalign_runtime::DeviceChoice;
use recalign_samples::{Generator, Query, SamplesConfig};
use recalign_serve::{ModelSource, ServeConfig, Service};
use recalign_t5::{Preset, T5};
use recalign_tokenizer::{T5Tokenizer, TrainOptions};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENTS: [usize; 4] = [1, 8, 32, 128];

struct Options {
    requests: usize,
    preset: Preset,
    out: PathBuf,
}

fn options() -> Options {
    let mut options = Options {
        requests: 256,
        preset: Preset::Small,
        out: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/serve-load.json"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--requests" => {
                options.requests = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--requests N")
            }
            "--preset" => {
                options.preset = match args.next().as_deref() {
                    Some("tiny") => Preset::Tiny,
                    Some("small") => Preset::Small,
                    other => panic!("--preset tiny|small, not {other:?}"),
                }
            }
            "--out" => options.out = PathBuf::from(args.next().expect("--out FILE")),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

/// One POST over a fresh connection; its latency.
async fn request(addr: SocketAddr, body: &str) -> Duration {
    let start = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /v1/recommend HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    start.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    let options = options();
    let spec = DatasetSpec::Synthetic(SyntheticConfig::default());
    let dataset = recalign_data::load(&spec, &PrepareConfig::default(), &LoadOptions::default())
        .expect("the shop")
        .dataset;
    let samples = SamplesConfig::default();
    let generator = Generator::new(&dataset, samples.clone()).expect("generator");
    let mut texts: Vec<String> = dataset
        .users()
        .take(500)
        .map(|u| generator.prompt(None, dataset.train_sequence(u), Query::Retrieval))
        .collect();
    texts.extend((0..dataset.num_items()).map(|i| generator.item_answer(ItemIdx(i as u32))));
    let tokenizer = T5Tokenizer::train(
        texts.iter(),
        TrainOptions {
            vocab_size: 2000,
            ..Default::default()
        },
    )
    .expect("tokenizer");
    let config = options.preset.config(tokenizer.vocab_size());
    let model = T5::<Flex>::random(&config, 7, &Default::default()).expect("model");
    let dir = tempfile::tempdir().expect("temp dir");
    model.save(dir.path()).expect("save");
    tokenizer
        .save(&dir.path().join("tokenizer.json"))
        .expect("save tokenizer");
    let bodies: Vec<String> = dataset
        .users()
        .map(|u| {
            let history: Vec<&str> = dataset
                .train_sequence(u)
                .iter()
                .map(|e| dataset.item(e.item).raw_id.as_str())
                .collect();
            json!({ "history": history, "k": 10 }).to_string()
        })
        .collect();
    drop(generator);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    println!(
        "| batching | clients | requests | requests/s | p50 ms | p95 ms | p99 ms | mean batch |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let modes = [
        ("one at a time", 1, 1),
        ("a round in one batch", 32, 32),
        ("by length, batches of 8", 32, 8),
    ];
    for (mode, max_gather, max_batch) in modes {
        let service = Service::start(
            ModelSource {
                dataset: dataset.clone(),
                samples: samples.clone(),
                model: dir.path().to_path_buf(),
                settings: Settings::default(),
                device: DeviceChoice::Cpu,
            },
            ServeConfig {
                max_gather,
                max_batch,
                queue: 1024,
                request_timeout: Duration::from_secs(600),
                ..ServeConfig::default()
            },
        )
        .expect("service");
        let state = service.state().clone();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("address");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(service.serve(listener, async {
                let _ = stopped.await;
            }));
            for clients in CLIENTS {
                let total = options.requests.max(clients * 2);
                let before = batch_totals(&state.metrics().render());
                let start = Instant::now();
                let tasks: Vec<_> = (0..clients)
                    .map(|c| {
                        let mine: Vec<String> = (c..total)
                            .step_by(clients)
                            .map(|r| bodies[r % bodies.len()].clone())
                            .collect();
                        tokio::spawn(async move {
                            let mut latencies = Vec::with_capacity(mine.len());
                            for body in &mine {
                                latencies.push(request(addr, body).await);
                            }
                            latencies
                        })
                    })
                    .collect();
                let mut latencies = Vec::with_capacity(total);
                for task in tasks {
                    latencies.extend(task.await.expect("client"));
                }
                let wall = start.elapsed().as_secs_f64();
                let after = batch_totals(&state.metrics().render());
                latencies.sort();
                let row = json!({
                    "batching": mode,
                    "max_gather": max_gather,
                    "max_batch": max_batch,
                    "clients": clients,
                    "requests": latencies.len(),
                    "seconds": wall,
                    "requests_per_second": latencies.len() as f64 / wall,
                    "p50_ms": percentile(&latencies, 0.50),
                    "p95_ms": percentile(&latencies, 0.95),
                    "p99_ms": percentile(&latencies, 0.99),
                    "mean_batch": (after.1 - before.1) / (after.0 - before.0).max(1.0),
                });
                println!(
                    "| {mode} | {clients} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.1} |",
                    row["requests"],
                    row["requests_per_second"].as_f64().unwrap_or(0.0),
                    row["p50_ms"].as_f64().unwrap_or(0.0),
                    row["p95_ms"].as_f64().unwrap_or(0.0),
                    row["p99_ms"].as_f64().unwrap_or(0.0),
                    row["mean_batch"].as_f64().unwrap_or(0.0),
                );
                rows.push(row);
            }
            let _ = stop.send(());
            server.await.expect("server").expect("serve");
        });
    }
    let speedup: Vec<_> = CLIENTS
        .iter()
        .map(|&clients| {
            let rate = |mode: &str| {
                rows.iter()
                    .find(|r| r["batching"] == mode && r["clients"] == clients)
                    .and_then(|r| r["requests_per_second"].as_f64())
                    .unwrap_or(f64::NAN)
            };
            json!({ "clients": clients, "speedup": rate("dynamic") / rate("one at a time") })
        })
        .collect();
    for s in &speedup {
        println!(
            "dynamic batching at {} clients: {:.2}x the throughput of batches of one",
            s["clients"],
            s["speedup"].as_f64().unwrap_or(f64::NAN)
        );
    }
    let report = json!({
        "bench": "serve-load",
        "preset": format!("{:?}", options.preset),
        "items": dataset.num_items(),
        "k": 10,
        "beams": Settings::default().beams,
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "rows": rows,
        "speedup": speedup,
    });
    let text = serde_json::to_string_pretty(&report).expect("json");
    if let Some(parent) = options.out.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(&options.out, text).expect("write the report");
    println!("wrote {}", options.out.display());
}

/// (batches, requests in them) from the metrics text.
fn batch_totals(metrics: &str) -> (f64, f64) {
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    (
        value("recalign_batch_size_count "),
        value("recalign_batch_size_sum "),
    )
}
