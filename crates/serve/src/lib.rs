//! An HTTP service for a fine-tuned recalign model.
//!
//! `POST /v1/recommend`, `/v1/rank` and `/v1/rate` ask the model as
//! `recalign-recommend` does (trie-constrained retrieval, teacher-forced
//! candidate and rating scores); `GET /v1/items/{id}`, `/healthz`,
//! `/readyz` and `/metrics` (Prometheus text) describe the catalogue and
//! the service; `POST /v1/items`, when allowed, adds an item that can be
//! retrieved at once (cold start).
//!
//! One inference thread owns the model ([`worker`]); the async handlers
//! ([`mod@app`]) check each request against the limits and the catalogue, then
//! queue it. The queue is bounded (429 with `Retry-After` past it), each
//! request has a deadline, and requests are decoded in dynamic batches.
//! This crate asks the model only; it needs no training code.

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod api;
pub mod app;
pub mod catalogue;
pub mod config;
pub mod error;
pub mod metrics;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use recalign_data::Dataset;
use recalign_recommend::Settings;
use recalign_runtime::DeviceChoice;
use recalign_samples::SamplesConfig;

pub use app::{AppState, app};
pub use catalogue::Catalogue;
pub use config::{Limits, ServeConfig};
pub use error::{Error, Result};
pub use metrics::Metrics;

/// What the service serves: a dataset's catalogue and a model trained on
/// it.
#[derive(Debug, Clone)]
pub struct ModelSource {
    /// The prepared dataset the model was trained on.
    pub dataset: Dataset,
    /// The samples configuration the model was trained with (its prompts).
    pub samples: SamplesConfig,
    /// The model directory (`config.json`, `model.safetensors`,
    /// `tokenizer.json`).
    pub model: PathBuf,
    /// How the model is asked (beams, scoring, input budget).
    pub settings: Settings,
    /// Where the model runs.
    pub device: DeviceChoice,
}

/// A running service: the inference thread, and the state its routes
/// share.
pub struct Service {
    state: AppState,
    worker: JoinHandle<Result<()>>,
    stop: Arc<AtomicBool>,
}

impl Service {
    /// Loads the model on its own thread, warms it up, and returns once it
    /// can answer (or with the reason it cannot).
    pub fn start(source: ModelSource, config: ServeConfig) -> Result<Self> {
        config.validate()?;
        let shelf = catalogue::Shelf::new(Arc::new(source.dataset));
        let metrics = Arc::new(Metrics::default());
        let ready = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (queue, jobs) = worker::queue(config.queue, metrics.clone());
        let (loaded, loading) = std::sync::mpsc::channel();
        let job = worker::Worker {
            shelf: shelf.clone(),
            samples: source.samples,
            model: source.model,
            settings: source.settings,
            jobs,
            batching: worker::Batching {
                wait: config.batch_wait,
                max_gather: config.max_gather,
                max_batch: config.max_batch,
                max_tokens: config.max_batch_tokens,
            },
            metrics: metrics.clone(),
            ready: ready.clone(),
            stop: stop.clone(),
            loaded,
        };
        let device = source.device;
        let worker = std::thread::Builder::new()
            .name("recalign-inference".into())
            .spawn(move || device.infer(job))
            .map_err(|source| Error::Io {
                context: "starting the inference thread".into(),
                source,
            })?;
        let rates = match loading.recv() {
            Ok(Ok(rates)) => rates,
            Ok(Err(_)) | Err(_) => {
                return Err(match worker.join() {
                    Ok(Err(error)) => error,
                    Ok(Ok(())) => Error::Worker("it stopped before loading the model".into()),
                    Err(_) => Error::Worker("it panicked while loading the model".into()),
                });
            }
        };
        let catalogue = Catalogue::new(shelf, rates);
        let state = AppState::new(queue, catalogue, config, metrics, ready);
        Ok(Self {
            state,
            worker,
            stop,
        })
    }

    /// The shared state (metrics and catalogue).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The router, for tests and for embedding in another server.
    pub fn router(&self) -> axum::Router {
        app(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` completes, lets in-flight
    /// requests finish, then stops the inference thread.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let router = self.router();
        let Service {
            state,
            worker,
            stop,
        } = self;
        drop(state);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| Error::Io {
                context: "serving".into(),
                source,
            })?;
        // Every request has been answered: the thread returns once its queue
        // is empty (a state kept elsewhere no longer holds it up).
        stop.store(true, Ordering::SeqCst);
        tokio::task::spawn_blocking(move || worker.join())
            .await
            .map_err(|e| Error::Worker(e.to_string()))?
            .map_err(|_| Error::Worker("it panicked".into()))?
    }

    /// Binds `addr` and serves until SIGTERM or Ctrl-C, on a runtime of its
    /// own: the blocking entry point of `recalign serve`.
    pub fn run(self, addr: SocketAddr) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                context: "starting the async runtime".into(),
                source,
            })?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| Error::Io {
                    context: format!("binding {addr}"),
                    source,
                })?;
            let bound = listener.local_addr().map_err(|source| Error::Io {
                context: "reading the bound address".into(),
                source,
            })?;
            tracing::info!(addr = %bound, "serving");
            eprintln!("recalign serve: listening on http://{bound}");
            self.serve(listener, shutdown_signal()).await
        })
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
