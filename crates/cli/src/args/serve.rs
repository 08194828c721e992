//! The flags of `recalign serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::DatasetArgs;
use super::model::ModelArgs;

/// `recalign serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The dataset the model was trained on (its catalogue is served).
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,

    /// How the service listens, batches and bounds requests.
    #[command(flatten)]
    pub service: ServiceArgs,
}

/// `recalign serve`'s listening, batching and limits.
#[derive(Debug, Args)]
#[command(next_help_heading = "Service")]
pub struct ServiceArgs {
    /// Address to listen on (loopback by default; `0.0.0.0:8080` exposes it).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// A file holding the API key every route but /healthz requires as
    /// `Authorization: Bearer <key>` (surrounding whitespace is ignored).
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,

    /// How long requests are gathered into one batch, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5)]
    pub batch_wait_ms: u64,

    /// The most requests taken from the queue in one round; a round is
    /// sorted by prompt length and decoded in batches.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub max_gather: usize,

    /// The most requests decoded together (8 measured best on the CPU; see
    /// the README's serving section).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_batch: usize,

    /// The most prompt tokens decoded together, counted padded (requests ×
    /// longest prompt).
    #[arg(long, value_name = "N", default_value_t = 16_384)]
    pub max_batch_tokens: usize,

    /// Requests that may wait; past it, 429 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub queue: usize,

    /// The longest a request may wait for its answer, in seconds.
    #[arg(long, value_name = "S", default_value_t = 30.0)]
    pub request_timeout: f64,

    /// The most items in a request's history (the dataset's --max-history cuts
    /// the prompt; this refuses longer requests).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_history_items: usize,

    /// The largest K of /v1/recommend.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_k: usize,

    /// The most candidates of /v1/rank.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_candidates: usize,

    /// Let `POST /v1/items` add items to the catalogue at run time (cold
    /// start: retrievable at once, no retraining). Needs digit or semantic
    /// identifiers; protect it with --api-key-file.
    #[arg(long)]
    pub allow_item_updates: bool,
}
