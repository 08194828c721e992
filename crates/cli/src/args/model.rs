//! The flags of the commands that train a model and ask it (`train`,
//! `evaluate`, `recommend`) or train a baseline beside it (`baseline`).
//! Each struct carries its `--help` heading, so flags group by purpose.

use std::path::PathBuf;

use clap::Args;
use recalign_runtime::{DeviceChoice, DeviceList};
use recalign_t5::Precision;

use super::DatasetArgs;
use crate::choices::{EvalTask, HeldOut, Loss, ModelPreset, OptimizerName, SampleStyle};

/// `recalign train`
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// The model, its samples and where it goes.
    #[command(flatten)]
    pub model: TrainModelArgs,

    /// How long and how fast.
    #[command(flatten)]
    pub training: TrainingArgs,
}

/// What `recalign train` trains, on which samples, and where it goes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Model")]
pub struct TrainModelArgs {
    /// Read `train.jsonl[.gz]` and `valid.jsonl[.gz]` from this samples
    /// directory instead of writing the dataset's samples into `OUT/samples`.
    #[arg(long, value_name = "DIR")]
    pub samples: Option<PathBuf>,

    /// Sample wording when the samples are written here.
    #[arg(long, value_name = "STYLE")]
    pub style: Option<SampleStyle>,

    /// Size of a fresh model.
    #[arg(
        long,
        value_name = "PRESET",
        default_value = "tiny",
        conflicts_with = "from_pretrained"
    )]
    pub preset: ModelPreset,

    /// Start from an HF T5 directory (`config.json`, `model.safetensors`,
    /// `tokenizer.json`), e.g. a local FLAN-T5-Base.
    #[arg(long, value_name = "DIR")]
    pub from_pretrained: Option<PathBuf>,

    /// Output directory: the model, its tokenizer, `train.toml`,
    /// `train-summary.json` and `checkpoints/`.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// `cpu`, or `cuda[:N]` in builds with the `cuda` feature, or several
    /// GPUs, `cuda:0,1,2,3`, which split each batch between them.
    #[arg(long, value_name = "DEVICE", default_value = "cpu")]
    pub device: DeviceList,
}

/// `recalign train`'s overrides of the `[train]` table.
#[derive(Debug, Args)]
#[command(next_help_heading = "Training")]
pub struct TrainingArgs {
    /// Continue from the newest checkpoint in `--out`.
    #[arg(long)]
    pub resume: bool,

    /// Passes over the training samples (`[train] epochs`).
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,

    /// Stop after N optimizer steps (`[train] max_steps`).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,

    /// Sequences per micro-batch (`[train] batch_size`).
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,

    /// Micro-batches per optimizer step (`[train] grad_accum`).
    #[arg(long, value_name = "N")]
    pub grad_accum: Option<usize>,

    /// Peak learning rate (`[train] learning_rate`).
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,

    /// An optimizer with its default settings (`[train] optimizer = { name
    /// = ... }` sets the rest).
    #[arg(long, value_name = "NAME")]
    pub optimizer: Option<OptimizerName>,

    /// Validation users whose retrieval NDCG@10 picks `OUT/best/` at every
    /// validation; 0 measures none (`[train] valid_users`).
    #[arg(long, value_name = "N")]
    pub valid_users: Option<usize>,

    /// Stop after N validations without a better NDCG (`[train] patience`).
    #[arg(long, value_name = "N")]
    pub patience: Option<u64>,

    /// Validate every N steps (`[train] eval_every`).
    #[arg(long, value_name = "N")]
    pub eval_every: Option<u64>,

    /// `f32`, or `bf16` matrix products with f32 master weights (mixed
    /// precision for CUDA; `[train] precision`).
    #[arg(long, value_name = "PRECISION")]
    pub precision: Option<Precision>,
}

/// `recalign baseline`
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// The model and its settings.
    #[command(flatten)]
    pub baseline: BaselineModelArgs,

    /// What it is evaluated on.
    #[command(flatten)]
    pub protocol: ProtocolArgs,

    /// Where the results go.
    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// Which conventional recommender, and how it trains.
#[derive(Debug, Args)]
#[command(next_help_heading = "Baseline")]
pub struct BaselineModelArgs {
    /// most-popular, bpr-mf, gru4rec, sasrec or bert4rec.
    #[arg(long, value_name = "MODEL")]
    pub model: recalign_baselines::Model,

    /// Hyper-parameters: a TOML file with `[train]`, `[sasrec]`, … tables
    /// (defaults from the original papers and RecBole; see
    /// crates/baselines/src/config.rs).
    #[arg(long, value_name = "FILE")]
    pub hparams: Option<PathBuf>,

    /// Most training epochs (early stopping on validation NDCG@10 ends
    /// runs sooner).
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,

    /// SASRec's loss.
    #[arg(long, value_name = "LOSS")]
    pub loss: Option<Loss>,
}

/// The protocol a model is evaluated under.
#[derive(Debug, Args)]
#[command(next_help_heading = "Evaluation")]
pub struct ProtocolArgs {
    /// The task; ranking lists are those of the ranking samples (their
    /// `[samples]` candidates and seed).
    #[arg(long, value_name = "TASK", default_value = "retrieval")]
    pub task: EvalTask,

    /// `valid` (for choosing among models) or `test` (reported once).
    #[arg(long, value_name = "SPLIT", default_value = "test")]
    pub split: HeldOut,

    /// Leave each user's history items out of the retrieval.
    #[arg(long)]
    pub exclude_history: bool,
}

/// Where an evaluation's results go.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Write every evaluated user's ranked items (raw ids, JSON lines) here.
    #[arg(long, value_name = "FILE")]
    pub rankings_out: Option<PathBuf>,
}

/// The trained model and how to ask it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Model")]
pub struct ModelArgs {
    /// A directory written by `recalign train` (or one of its checkpoints,
    /// or any HF T5 directory with `tokenizer.json`).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,

    /// `cpu`, or `cuda[:N]` in builds with the `cuda` feature.
    #[arg(long, value_name = "DEVICE", default_value = "cpu")]
    pub device: DeviceChoice,

    /// Live hypotheses per user in retrieval (at least K).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub beams: usize,

    /// Score retrieved items by their mean token log-probability instead of
    /// the sum.
    #[arg(long)]
    pub length_normalize: bool,
}

/// `recalign evaluate`
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,

    /// What it is evaluated on.
    #[command(flatten)]
    pub protocol: ProtocolArgs,

    /// How much and how fast.
    #[command(flatten)]
    pub run: EvaluateRunArgs,

    /// Where the results go.
    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// How many users `recalign evaluate` asks, and how many at once.
#[derive(Debug, Args)]
#[command(next_help_heading = "Evaluation")]
pub struct EvaluateRunArgs {
    /// Evaluate only N users drawn with `--users-seed`, for a quick look or
    /// to repeat training's periodic validation (the report names them)
    #[arg(long, value_name = "N")]
    pub users: Option<usize>,

    /// Seed of the `--users` draw; training's validation uses the
    /// `[train]` seed
    #[arg(long, value_name = "S", default_value_t = 0, requires = "users")]
    pub users_seed: u64,

    /// Users per batch [default: retrieval 16, ranking 4, rating 32].
    #[arg(long, value_name = "N")]
    pub batch_users: Option<usize>,
}

/// `recalign recommend`
#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,

    /// What to recommend for.
    #[command(flatten)]
    pub request: RequestArgs,
}

/// The requests of `recalign recommend`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Request")]
pub struct RequestArgs {
    /// Item ids (as in the source files), oldest first, comma-separated.
    #[arg(long, value_name = "IDS", value_delimiter = ',', conflicts_with_all = ["user", "input"])]
    pub history: Vec<String>,

    /// A user of the dataset: their whole sequence is the history.
    #[arg(long, value_name = "ID", conflicts_with = "input")]
    pub user: Option<String>,

    /// JSON lines, each `{"history": ["id", ...]}` or `{"user": "id"}`;
    /// one JSON line of recommendations is printed per request.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Items to recommend.
    #[arg(long, short = 'k', value_name = "K", default_value_t = 10)]
    pub top: usize,

    /// Leave the history's items out.
    #[arg(long)]
    pub exclude_history: bool,

    /// Print JSON lines even for a single request.
    #[arg(long)]
    pub json: bool,
}

impl EvaluateRunArgs {
    /// The users asked: a seeded subset, or everyone.
    pub fn sample(&self) -> Option<recalign_eval::UserSample> {
        self.users.map(|users| recalign_eval::UserSample {
            users,
            seed: self.users_seed,
        })
    }
}
