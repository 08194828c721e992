//! Every command-line flag of `recalign`, in one place (clap derive): what
//! was typed, and nothing more. The `///` doc of each field is its `--help`
//! text; closed sets of values are the `ValueEnum`s of [`crate::choices`].
//!
//! This module only parses; [`crate::settings`] reads the `--config` file
//! and resolves flags over it into the settings each command runs with.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::choices::{AmazonSet, Ids, SampleStyle, SampleTask, SplitName, Ties};

mod model;
mod serve;

pub use model::{
    BaselineArgs, EvaluateArgs, ModelArgs, OutputArgs, ProtocolArgs, RecommendArgs, RequestArgs,
    TrainArgs,
};
pub use serve::{ServeArgs, ServiceArgs};

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
    /// Run the main job, or one experiment: prepare the data, write the
    /// samples, fine-tune the T5 (kept at its best validation NDCG@10),
    /// evaluate retrieval, ranking and rating on the test users beside the
    /// baselines, and write results.json, report.md and plots. Without
    /// CONFIG it runs the embedded shop (configs/shop.toml) into
    /// recalign-out/shop. Finished stages are reused and an interrupted
    /// training resumes when the same command runs again.
    Run(RunArgs),

    /// Write the report (report.md with tables as mean ± std over seeds,
    /// plots/*.svg) of one or more finished runs.
    Report(ReportArgs),

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
    /// validation picks the epoch, the test split is reported once, by full
    /// ranking or (`--task ranking`) on the fine-tuned model's candidate
    /// lists.
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

    /// Serve a trained model over HTTP: POST /v1/recommend, /v1/rank and
    /// /v1/rate, GET /v1/items/{id}, /healthz, /readyz and /metrics, with
    /// dynamic batching, a bounded queue, limits and an optional API key.
    /// Stops on Ctrl-C or SIGTERM after finishing the requests in flight.
    Serve(Box<ServeArgs>),

    /// Dataset files: download McAuley's originals.
    Data {
        /// What to do with dataset files.
        #[command(subcommand)]
        command: DataCommand,
    },

    /// Item identifiers: inspect semantic codes.
    Ids {
        /// What to do with identifiers.
        #[command(subcommand)]
        command: IdsCommand,
    },
}

/// `recalign ids …`
#[derive(Debug, Subcommand)]
pub enum IdsCommand {
    /// Print an item's semantic code and the items that share its first
    /// one, two, … codes, with titles, to judge whether the codes group
    /// alike items. The dataset must be prepared with
    /// `--id-scheme semantic` (or `id_scheme = "semantic"` in --config).
    Show(IdsShowArgs),
}

/// `recalign ids show`
#[derive(Debug, Args)]
pub struct IdsShowArgs {
    /// The item: its raw id (an ASIN) or its identifier (`<a_12><b_3>…`).
    pub item: String,

    /// The dataset.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// Items listed per shared prefix
    #[arg(long, default_value_t = 10, help_heading = "Options")]
    pub limit: usize,
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

    /// TOML file with `[prepare]`, `[samples]` and `[train]` tables; flags
    /// override it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Minimum interactions per user (k-core; raised to 3 for the split)
    /// [default: 5]
    #[arg(long, value_name = "K")]
    pub user_core: Option<usize>,

    /// Minimum interactions per item (k-core) [default: 5]
    #[arg(long, value_name = "K")]
    pub item_core: Option<usize>,

    /// Order of same-timestamp interactions [default: file-order]
    #[arg(long, value_name = "RULE")]
    pub ties: Option<Ties>,

    /// Item identifiers the model sees [default: random]
    #[arg(long, value_name = "SCHEME")]
    pub id_scheme: Option<Ids>,

    /// Seed of every random choice (preparation, samples, training)
    /// [default: 42]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Most recent history items a model sees [default: 20]
    #[arg(long, value_name = "N")]
    pub max_history: Option<usize>,
}

/// `recalign run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// An experiment file (TOML: dataset, identifiers, sample mixture,
    /// model, budget, seeds, device, evaluation, baselines, grid axes; see
    /// configs/); without it, the main job on the embedded shop
    #[arg(value_name = "CONFIG")]
    pub config: Option<PathBuf>,

    /// Without CONFIG: the main job on this dataset (beauty, sports, toys or
    /// a path) with the larger budget of configs/amazon.toml
    #[arg(long, short = 'd', value_name = "NAME|PATH", conflicts_with = "config")]
    pub dataset: Option<String>,

    /// Folder that holds run folders [default: recalign-out for the main
    /// job, runs for a CONFIG]
    #[arg(long, value_name = "DIR")]
    pub runs_dir: Option<PathBuf>,

    /// Rerun a run whose settings changed under the same name (stages whose
    /// own settings are unchanged are still reused)
    #[arg(long)]
    pub force: bool,
}

/// `recalign report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run folders written by `recalign run` (a grid's cells are found
    /// inside its folder)
    #[arg(value_name = "RUN_DIR", required = true)]
    pub runs: Vec<PathBuf>,

    /// Folder for report.md and plots/ [default: the run folder, when one
    /// is given]
    #[arg(long, value_name = "DIR")]
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

    /// Where and what to write.
    #[command(flatten)]
    pub output: SamplesOutputArgs,
}

/// Where `recalign samples` writes, and which part.
#[derive(Debug, Args)]
#[command(next_help_heading = "Options")]
pub struct SamplesOutputArgs {
    /// Folder to write train/valid/test JSON lines, candidate lists and the
    /// manifest into
    #[arg(long, value_name = "DIR", required = true)]
    pub out: Option<PathBuf>,

    /// Compress the sample files with gzip
    #[arg(long)]
    pub gzip: bool,

    /// Write only shard I of N (0-based): a contiguous share of the users;
    /// the shards concatenated in order are the whole output
    #[arg(long, value_name = "I/N")]
    pub shard: Option<recalign_samples::Shard>,

    /// Splits to write
    #[arg(
        long,
        value_name = "SPLITS",
        value_delimiter = ',',
        default_value = "train,valid,test"
    )]
    pub splits: Vec<SplitName>,
}

/// Options that shape the samples, for writing and for showing.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Samples")]
pub struct SampleStyleArgs {
    /// Wording of the recommendation tasks: the paper's informative samples,
    /// or P5's (user id, item ids only) for comparison [default: informative]
    #[arg(long, value_name = "STYLE")]
    pub style: Option<SampleStyle>,

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

    /// The task
    #[arg(long, help_heading = "Options")]
    pub task: SampleTask,

    /// How many samples
    #[arg(short = 'n', long, default_value_t = 3, help_heading = "Options")]
    pub count: usize,

    /// Which split
    #[arg(long, default_value = "train", help_heading = "Options")]
    pub split: SplitName,
}

/// `recalign data download`
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The dataset
    pub name: AmazonSet,

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
pub(crate) mod tests {
    use super::*;
    use clap::CommandFactory;

    pub(crate) fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("recalign").chain(args.iter().copied()))
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
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
            &["evaluate", "--model", "m", "--task", "ranks"],
            &["evaluate", "--model", "m", "--split", "train"],
            &["train", "--out", "o", "--preset", "huge"],
            &["train", "--out", "o", "--optimizer", "sgd"],
            &["baseline", "--model", "sasrec", "--loss", "hinge"],
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
        assert_eq!(s.output.out, Some(PathBuf::from("o")));
        assert_eq!(s.dataset.seed, Some(3));
        assert_eq!(s.samples.style, Some(SampleStyle::P5));
        assert_eq!(s.samples.epochs, Some(2));
        assert_eq!(
            s.output.shard,
            Some(recalign_samples::Shard { index: 1, count: 4 })
        );
        assert_eq!(s.output.splits, vec![SplitName::Train, SplitName::Test]);
        let cli = parse(&["samples", "show", "--task", "mlm", "-n", "2", "-d", "toys"]).unwrap();
        let Command::Samples(s) = cli.command else {
            panic!("expected samples")
        };
        let Some(SamplesCommand::Show(show)) = s.command else {
            panic!("expected show")
        };
        assert_eq!((show.task, show.count), (SampleTask::Mlm, 2));
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
        assert_eq!(d.name, AmazonSet::Toys);
        assert_eq!(d.sha256, vec!["a=b", "c=d"]);
        assert_eq!(d.base_url.as_deref(), Some("file:///m"));
        assert!(d.no_meta);
    }
}
