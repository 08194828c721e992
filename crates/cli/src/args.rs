//! Every command-line flag of `recalign`, in one place (clap derive). The
//! `///` doc of each field is its `--help` text.
//!
//! This module only parses; [`DatasetArgs::prepare_config`] turns flags and
//! an optional TOML file into the validated [`PrepareConfig`] the library
//! takes.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use recalign_data::{IdScheme, PrepareConfig, TieRule};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the command failed (bad or missing data, I/O error, checksum mismatch)
  2  the command line is invalid

Environment:
  RECALIGN_DATA   data directory (default for --data-dir)
  RECALIGN_CACHE  prepared-dataset cache directory (default for --cache-dir)
  RECALIGN_LOG    log filter, e.g. `debug` or `recalign_data=trace`";

/// recalign: teach a language model recommendation knowledge, then use it as
/// a recommender (Cao et al., "Aligning Large Language Models with
/// Recommendation Knowledge", NAACL Findings 2024).
#[derive(Debug, Parser)]
#[command(name = "recalign", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Folder holding the datasets (`beauty/`, `sports/`, `toys/`, or McAuley's
    /// files) [default: $RECALIGN_DATA, else ./data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Folder for prepared-dataset caches [default: $RECALIGN_CACHE, else
    /// $XDG_CACHE_HOME/recalign, else ~/.cache/recalign]
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Prepare datasets afresh; neither read nor write the cache
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// Log more (-v: info, -vv: debug, -vvv: trace); logs go to stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log only errors and draw no progress bars
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the main job on a dataset (the embedded synthetic shop by
    /// default): prepare it, write its training samples into
    /// recalign-out/DATASET, and report both. Training and evaluation join
    /// this command as they land.
    Run(RunArgs),

    /// Print a dataset's statistics: the paper's dataset table (users, items,
    /// interactions, density, sequence length), the published counts for the
    /// Amazon sets, field coverage, rating histogram, timestamp ties, titles.
    Stats(StatsArgs),

    /// Prepare a dataset (k-core, chronological order, leave-one-out split,
    /// item identifiers) into the cache, and optionally export the split as
    /// TSV files for other tools.
    Prepare(PrepareArgs),

    /// Write the paper's training samples as JSON lines: retrieval, ranking
    /// and rating (the informative variant: no user ids, items with titles;
    /// or P5's with --style p5) plus the auxiliary tasks MIM, MLM and BPR,
    /// for the train, valid and test splits without leakage. `samples show`
    /// prints a few, to judge them at a glance.
    Samples(Box<SamplesArgs>),

    /// Fine-tune a T5 on the dataset's samples (a fresh `--preset` model with
    /// its own tokenizer, or `--from-pretrained DIR`) and write it to `--out`
    /// in Hugging Face layout.
    Train(Box<TrainArgs>),

    /// Train a conventional recommender (most-popular, bpr-mf, gru4rec,
    /// sasrec, bert4rec) and evaluate it with recalign's evaluator:
    /// validation picks the epoch, the test split is reported once.
    Baseline(Box<BaselineArgs>),

    /// Evaluate a model trained by `recalign train` as a recommender, with
    /// the evaluator and protocols of the baselines: retrieval (beam search
    /// constrained to real items, full ranking), ranking (1 + 99 candidates
    /// by log-likelihood) or rating (expected value over 1…5). Most-popular
    /// and a random ranking are reported beside it.
    Evaluate(Box<EvaluateArgs>),

    /// Recommend items with a trained model for a history given by hand
    /// (`--history`), a known user (`--user`) or a JSON-lines file of
    /// either (`--input`).
    Recommend(Box<RecommendArgs>),

    /// Dataset files: download McAuley's originals.
    Data {
        /// What to do with dataset files.
        #[command(subcommand)]
        command: DataCommand,
    },
}

/// `recalign data …`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download McAuley's 2014 5-core reviews and metadata for an Amazon
    /// dataset into DATA_DIR/NAME/ (needs internet; recalign never downloads
    /// anything otherwise). Each file's SHA-256 is checked against
    /// --sha256 or a SHA256SUMS file in that folder, and recorded there.
    Download(DownloadArgs),
}

/// Which dataset and how to prepare it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Dataset")]
pub struct DatasetArgs {
    /// `synthetic` (embedded, no files needed), `beauty`, `sports`, `toys`
    /// (from the data directory), or a path to your own CSV/TSV file or
    /// dataset folder
    #[arg(
        long,
        short = 'd',
        default_value = "synthetic",
        value_name = "NAME|PATH"
    )]
    pub dataset: String,

    /// Item metadata file (JSON lines or McAuley meta) to use instead of the
    /// one found beside the interactions
    #[arg(long, value_name = "FILE")]
    pub items: Option<PathBuf>,

    /// TOML file with `[prepare]` and `[samples]` tables; flags override it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Minimum interactions per user (k-core; raised to 3 for the split)
    /// [default: 5]
    #[arg(long, value_name = "K")]
    pub user_core: Option<usize>,

    /// Minimum interactions per item (k-core) [default: 5]
    #[arg(long, value_name = "K")]
    pub item_core: Option<usize>,

    /// Order of same-timestamp interactions: file order (P5's, default),
    /// raw item id, or a seeded shuffle
    #[arg(long, value_name = "RULE", value_parser = PossibleValuesParser::new(["file-order", "item-id", "shuffle"]).try_map(|s| s.parse::<TieRule>()))]
    pub ties: Option<TieRule>,

    /// Item identifiers the model sees: seeded random numbers (default),
    /// sequential over training data first, or P5's leaky sequential
    #[arg(long, value_name = "SCHEME", value_parser = PossibleValuesParser::new(["random", "sequential-train", "sequential"]).try_map(|s| s.parse::<IdScheme>()))]
    pub id_scheme: Option<IdScheme>,

    /// Seed of every random choice (preparation, and the samples of
    /// `recalign samples`) [default: 42]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Most recent history items a model sees [default: 20]
    #[arg(long, value_name = "N")]
    pub max_history: Option<usize>,
}

impl DatasetArgs {
    /// The preparation config: defaults, then the TOML file, then flags.
    pub fn prepare_config(&self) -> recalign_data::Result<PrepareConfig> {
        let mut config = match &self.config {
            Some(path) => PrepareConfig::from_toml_file(path)?,
            None => PrepareConfig::default(),
        };
        if let Some(k) = self.user_core {
            config.user_core = k;
        }
        if let Some(k) = self.item_core {
            config.item_core = k;
        }
        if let Some(rule) = self.ties {
            config.ties = rule;
        }
        if let Some(scheme) = self.id_scheme {
            config.id_scheme = scheme;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(n) = self.max_history {
            config.max_history = n;
        }
        config.validate()?;
        Ok(config)
    }
}

/// `recalign run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// How samples are written.
    #[command(flatten)]
    pub samples: SampleStyleArgs,

    /// Folder for the run's outputs [default: recalign-out/DATASET]
    #[arg(long, value_name = "DIR", help_heading = "Options")]
    pub out: Option<PathBuf>,
}

/// `recalign stats`
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// Print JSON instead of the table
    #[arg(long, help_heading = "Options")]
    pub json: bool,
}

/// `recalign prepare`
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// Also write the split as TSV (train.tsv, valid.tsv, test.tsv with
    /// user_id, item_id, rating, timestamp) and items.tsv (item_id,
    /// identifier, title) into DIR
    #[arg(long, value_name = "DIR", help_heading = "Options")]
    pub export: Option<PathBuf>,
}

/// `recalign samples`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SamplesArgs {
    /// Print examples instead of writing files.
    #[command(subcommand)]
    pub command: Option<SamplesCommand>,

    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// How to write samples.
    #[command(flatten)]
    pub samples: SampleStyleArgs,

    /// Folder to write train/valid/test JSON lines, candidate lists and the
    /// manifest into
    #[arg(long, value_name = "DIR", required = true, help_heading = "Options")]
    pub out: Option<PathBuf>,

    /// Compress the sample files with gzip
    #[arg(long, help_heading = "Options")]
    pub gzip: bool,

    /// Write only shard I of N (0-based): a contiguous share of the users;
    /// the shards concatenated in order are the whole output
    #[arg(long, value_name = "I/N", help_heading = "Options")]
    pub shard: Option<recalign_samples::Shard>,

    /// Splits to write
    #[arg(
        long,
        value_name = "SPLITS",
        value_delimiter = ',',
        default_value = "train,valid,test",
        help_heading = "Options"
    )]
    pub splits: Vec<recalign_data::Split>,
}

/// Options that shape the samples, for writing and for showing.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// Read `train.jsonl[.gz]` and `valid.jsonl[.gz]` from this samples
    /// directory instead of writing the dataset's samples into `OUT/samples`.
    #[arg(long, value_name = "DIR", help_heading = "Model")]
    pub samples: Option<PathBuf>,

    /// Sample wording when the samples are written here.
    #[arg(long, value_name = "STYLE", help_heading = "Model", value_parser = PossibleValuesParser::new(["informative", "p5"]).map(|s| if s == "p5" { recalign_samples::Style::P5 } else { recalign_samples::Style::Informative }))]
    pub style: Option<recalign_samples::Style>,

    /// Size of a fresh model: `tiny` (tests, seconds to minutes) or `small`
    /// (CPU experiments).
    #[arg(long, value_name = "PRESET", default_value = "tiny", conflicts_with = "from_pretrained", value_parser = PossibleValuesParser::new(["tiny", "small"]), help_heading = "Model")]
    pub preset: String,

    /// Start from an HF T5 directory (`config.json`, `model.safetensors`,
    /// `tokenizer.json`), e.g. a local FLAN-T5-Base.
    #[arg(long, value_name = "DIR", help_heading = "Model")]
    pub from_pretrained: Option<PathBuf>,

    /// Output directory: the model, its tokenizer, `train.toml`,
    /// `train-summary.json` and `checkpoints/`.
    #[arg(long, value_name = "DIR", help_heading = "Model")]
    pub out: PathBuf,

    /// `cpu`, or `cuda[:N]` in builds with the `cuda` feature.
    #[arg(
        long,
        value_name = "DEVICE",
        default_value = "cpu",
        help_heading = "Model"
    )]
    pub device: recalign_train::DeviceChoice,

    /// Continue from the newest checkpoint in `--out`.
    #[arg(long, help_heading = "Training")]
    pub resume: bool,

    /// Passes over the training samples (`[train] epochs`).
    #[arg(long, value_name = "N", help_heading = "Training")]
    pub epochs: Option<usize>,

    /// Stop after N optimizer steps (`[train] max_steps`).
    #[arg(long, value_name = "N", help_heading = "Training")]
    pub max_steps: Option<u64>,

    /// Sequences per micro-batch (`[train] batch_size`).
    #[arg(long, value_name = "N", help_heading = "Training")]
    pub batch_size: Option<usize>,

    /// Micro-batches per optimizer step (`[train] grad_accum`).
    #[arg(long, value_name = "N", help_heading = "Training")]
    pub grad_accum: Option<usize>,

    /// Peak learning rate (`[train] learning_rate`).
    #[arg(long, value_name = "LR", help_heading = "Training")]
    pub lr: Option<f64>,

    /// `adamw` or `adafactor`, with their default settings
    /// (`[train] optimizer = { name = ... }` sets the rest).
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(["adamw", "adafactor"]), help_heading = "Training")]
    pub optimizer: Option<String>,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// most-popular, bpr-mf, gru4rec, sasrec or bert4rec.
    #[arg(long, value_name = "MODEL", help_heading = "Baseline")]
    pub model: recalign_baselines::Model,

    /// Hyper-parameters: a TOML file with `[train]`, `[sasrec]`, … tables
    /// (defaults from the original papers and RecBole; see
    /// crates/baselines/src/config.rs).
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub hparams: Option<PathBuf>,

    /// Most training epochs (early stopping on validation NDCG@10 ends
    /// runs sooner).
    #[arg(long, value_name = "N", help_heading = "Baseline")]
    pub epochs: Option<usize>,

    /// SASRec's loss: `ce` (full softmax) or `bce` (one sampled negative,
    /// as the original paper).
    #[arg(long, value_name = "LOSS", value_parser = PossibleValuesParser::new(["ce", "bce"]), help_heading = "Baseline")]
    pub loss: Option<String>,

    /// Leave each user's history items out of the ranking.
    #[arg(long, help_heading = "Baseline")]
    pub exclude_history: bool,

    /// Write the JSON report here.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub report: Option<PathBuf>,

    /// Write every test user's ranked items (raw ids, JSON lines) here.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
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
    pub device: recalign_train::DeviceChoice,

    /// Live hypotheses per user in retrieval (at least K).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub beams: usize,

    /// Score retrieved items by their mean token log-probability instead of
    /// the sum.
    #[arg(long)]
    pub length_normalize: bool,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,

    #[command(flatten)]
    pub model: ModelArgs,

    /// `retrieval`, `ranking` or `rating`.
    #[arg(long, value_name = "TASK", default_value = "retrieval", value_parser = PossibleValuesParser::new(["retrieval", "ranking", "rating"]), help_heading = "Evaluation")]
    pub task: String,

    /// `valid` (for choosing among models) or `test` (reported once).
    #[arg(long, value_name = "SPLIT", default_value = "test", value_parser = PossibleValuesParser::new(["valid", "test"]), help_heading = "Evaluation")]
    pub split: String,

    /// Leave each user's history items out of the retrieval.
    #[arg(long, help_heading = "Evaluation")]
    pub exclude_history: bool,

    /// Evaluate only the first N users, for a quick look (the report says
    /// how many were evaluated).
    #[arg(long, value_name = "N", help_heading = "Evaluation")]
    pub users: Option<usize>,

    /// Users per batch [default: retrieval 16, ranking 4, rating 32].
    #[arg(long, value_name = "N", help_heading = "Evaluation")]
    pub batch_users: Option<usize>,

    /// Write the JSON report here.
    #[arg(long, value_name = "FILE", help_heading = "Evaluation")]
    pub report: Option<PathBuf>,

    /// Write every evaluated user's ranked items (raw ids, JSON lines) here.
    #[arg(long, value_name = "FILE", help_heading = "Evaluation")]
    pub rankings_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RecommendArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Item ids (as in the source files), oldest first, comma-separated.
    #[arg(long, value_name = "IDS", value_delimiter = ',', conflicts_with_all = ["user", "input"], help_heading = "Request")]
    pub history: Vec<String>,

    /// A user of the dataset: their whole sequence is the history.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "input",
        help_heading = "Request"
    )]
    pub user: Option<String>,

    /// JSON lines, each `{"history": ["id", ...]}` or `{"user": "id"}`;
    /// one JSON line of recommendations is printed per request.
    #[arg(long, value_name = "FILE", help_heading = "Request")]
    pub input: Option<PathBuf>,

    /// Items to recommend.
    #[arg(
        long,
        short = 'k',
        value_name = "K",
        default_value_t = 10,
        help_heading = "Request"
    )]
    pub top: usize,

    /// Leave the history's items out.
    #[arg(long, help_heading = "Request")]
    pub exclude_history: bool,

    /// Print JSON lines even for a single request.
    #[arg(long, help_heading = "Request")]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Samples")]
pub struct SampleStyleArgs {
    /// Wording of the recommendation tasks: the paper's informative samples,
    /// or P5's (user id, item ids only) for comparison [default: informative]
    #[arg(long, value_name = "STYLE", value_parser = PossibleValuesParser::new(["informative", "p5"]).map(|s| if s == "p5" { recalign_samples::Style::P5 } else { recalign_samples::Style::Informative }))]
    pub style: Option<recalign_samples::Style>,

    /// Passes over the users for training samples, each with fresh random
    /// choices [default: 1]
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
}

/// `recalign samples …`
#[derive(Debug, Subcommand)]
pub enum SamplesCommand {
    /// Print a few samples of one task, readably.
    Show(ShowArgs),
}

/// `recalign samples show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// How samples are written.
    #[command(flatten)]
    pub samples: SampleStyleArgs,

    /// The task: retrieval, ranking, rating, mim, mlm, bpr
    #[arg(long, value_parser = PossibleValuesParser::new(["retrieval", "ranking", "rating", "mim", "mlm", "bpr"]).try_map(|s| recalign_samples::Task::from_name(&s).ok_or("unknown task")), help_heading = "Options")]
    pub task: recalign_samples::Task,

    /// How many samples
    #[arg(short = 'n', long, default_value_t = 3, help_heading = "Options")]
    pub count: usize,

    /// Which split
    #[arg(long, default_value = "train", help_heading = "Options")]
    pub split: recalign_data::Split,
}

/// `recalign data download`
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// `beauty`, `sports` or `toys`
    #[arg(value_parser = PossibleValuesParser::new(["beauty", "sports", "toys"]))]
    pub name: String,

    /// Expected SHA-256 of a file, as FILE=DIGEST (repeatable)
    #[arg(long, value_name = "FILE=DIGEST")]
    pub sha256: Vec<String>,

    /// Download from this base URL instead of McAuley's (a mirror, or a
    /// local folder as file:///path)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Download only the reviews, not the category metadata
    #[arg(long)]
    pub no_meta: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("recalign").chain(args.iter().copied()))
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dataset_defaults_to_the_embedded_shop() {
        let cli = parse(&["stats"]).unwrap();
        let Command::Stats(stats) = cli.command else {
            panic!("expected stats")
        };
        assert_eq!(stats.dataset.dataset, "synthetic");
        assert_eq!(
            stats.dataset.prepare_config().unwrap(),
            PrepareConfig::default()
        );
    }

    #[test]
    fn preparation_flags_override_defaults() {
        let cli = parse(&[
            "prepare",
            "-d",
            "beauty",
            "--user-core",
            "10",
            "--item-core",
            "2",
            "--ties",
            "shuffle",
            "--id-scheme",
            "sequential-train",
            "--seed",
            "7",
            "--max-history",
            "50",
        ])
        .unwrap();
        let Command::Prepare(prepare) = cli.command else {
            panic!("expected prepare")
        };
        let config = prepare.dataset.prepare_config().unwrap();
        assert_eq!(
            config,
            PrepareConfig {
                user_core: 10,
                item_core: 2,
                ties: TieRule::Shuffle,
                id_scheme: IdScheme::SequentialTrain,
                seed: 7,
                max_history: 50,
            }
        );
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("prep.toml");
        std::fs::write(&file, "[prepare]\nseed = 3\nitem_core = 1\n").unwrap();
        let cli = parse(&["stats", "--config", file.to_str().unwrap(), "--seed", "9"]).unwrap();
        let Command::Stats(stats) = cli.command else {
            panic!("expected stats")
        };
        let config = stats.dataset.prepare_config().unwrap();
        assert_eq!((config.seed, config.item_core), (9, 1));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["stats", "--ties", "random"][..],
            &["stats", "--id-scheme", "p5"],
            &["stats", "--seed", "-1"],
            &["data", "download", "movies"],
            &["stats", "-v", "-q"],
            &["frobnicate"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = parse(&["stats", "--data-dir", "/x", "--no-cache", "-vv"]).unwrap();
        assert_eq!(cli.global.data_dir, Some(PathBuf::from("/x")));
        assert!(cli.global.no_cache);
        assert_eq!(cli.global.verbose, 2);
    }

    #[test]
    fn samples_writes_or_shows() {
        let cli = parse(&[
            "samples",
            "-d",
            "beauty",
            "--out",
            "o",
            "--seed",
            "3",
            "--style",
            "p5",
            "--shard",
            "1/4",
            "--splits",
            "train,test",
            "--gzip",
            "--epochs",
            "2",
        ])
        .unwrap();
        let Command::Samples(s) = cli.command else {
            panic!("expected samples")
        };
        assert!(s.command.is_none());
        assert_eq!(s.out, Some(PathBuf::from("o")));
        assert_eq!(s.dataset.seed, Some(3));
        assert_eq!(s.samples.style, Some(recalign_samples::Style::P5));
        assert_eq!(s.samples.epochs, Some(2));
        assert_eq!(
            s.shard,
            Some(recalign_samples::Shard { index: 1, count: 4 })
        );
        assert_eq!(
            s.splits,
            vec![recalign_data::Split::Train, recalign_data::Split::Test]
        );
        let cli = parse(&["samples", "show", "--task", "mlm", "-n", "2", "-d", "toys"]).unwrap();
        let Command::Samples(s) = cli.command else {
            panic!("expected samples")
        };
        let Some(SamplesCommand::Show(show)) = s.command else {
            panic!("expected show")
        };
        assert_eq!(
            (show.task, show.count),
            (recalign_samples::Task::MaskedLanguageModeling, 2)
        );
        assert_eq!(show.dataset.dataset, "toys");
        for bad in [
            &["samples"][..],
            &["samples", "--out", "o", "--shard", "4/4"],
            &["samples", "show", "--task", "ranks"],
            &["samples", "show"],
            &["samples", "--out", "o", "--splits", "eval"],
        ] {
            assert_eq!(parse(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn download_takes_digests_and_a_mirror() {
        let cli = parse(&[
            "data",
            "download",
            "toys",
            "--sha256",
            "a=b",
            "--sha256",
            "c=d",
            "--base-url",
            "file:///m",
            "--no-meta",
        ])
        .unwrap();
        let Command::Data {
            command: DataCommand::Download(d),
        } = cli.command
        else {
            panic!("expected data download")
        };
        assert_eq!(d.name, "toys");
        assert_eq!(d.sha256, vec!["a=b", "c=d"]);
        assert_eq!(d.base_url.as_deref(), Some("file:///m"));
        assert!(d.no_meta);
    }
}
