//! `recalign evaluate`: a model trained by `recalign train`, measured as a
//! recommender by recalign's evaluator (the baselines' protocols), with
//! most-popular and a random ranking beside it.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use recalign_data::{Dataset, Loaded, Split};
use recalign_eval::{Metrics, ModelInfo, Protocol, Report, Sampler, Task, evaluate_popularity_on};
use recalign_recommend::{EvaluateOptions, Recommender, Scoring, Settings, TrainedWith};
use recalign_samples::{Generator, SamplesConfig};
use recalign_train::BackendJob;
use serde_json::json;

use crate::args::{DatasetArgs, EvaluateArgs, GlobalArgs, ModelArgs};
use crate::progress;

/// The dataset and how the model was trained, checked to agree.
pub struct Opened {
    pub loaded: Loaded,
    pub trained: TrainedWith,
    pub samples: SamplesConfig,
}

/// Loads the dataset and reads the model directory's training record.
pub fn open(global: &GlobalArgs, dataset: &DatasetArgs, model: &ModelArgs) -> Result<Opened> {
    if !model.model.join("config.json").is_file() {
        anyhow::bail!(
            "{}: not a model directory (no config.json); give the --out of `recalign train`",
            model.model.display()
        );
    }
    let trained = recalign_recommend::trained_with(&model.model)?;
    let loaded = super::load_dataset(global, dataset)?;
    let samples = match &trained.manifest {
        Some(path) => {
            if let Some(name) = trained.dataset.as_deref()
                && name != loaded.dataset.name
            {
                anyhow::bail!(
                    "{}: the model was trained on `{name}`, not `{}`; pass --dataset {name}",
                    path.display(),
                    loaded.dataset.name
                );
            }
            tracing::info!(manifest = %path.display(), "samples settings from training");
            trained.samples.clone()
        }
        None => super::samples::samples_config(
            dataset,
            &crate::args::SampleStyleArgs {
                style: None,
                epochs: None,
            },
        )?,
    };
    Ok(Opened {
        loaded,
        trained,
        samples,
    })
}

/// How the model is asked, from the flags and its training record.
pub fn settings(model: &ModelArgs, trained: &TrainedWith) -> Settings {
    Settings {
        beams: model.beams,
        scoring: if model.length_normalize {
            Scoring::PerToken
        } else {
            Scoring::Sum
        },
        max_input_tokens: trained.max_input_tokens,
    }
}

fn protocol(args: &EvaluateArgs, samples: &SamplesConfig) -> Protocol {
    let split = if args.split == "valid" {
        Split::Valid
    } else {
        Split::Test
    };
    let mut protocol = match args.task.as_str() {
        "ranking" => Protocol::ranking(split),
        "rating" => Protocol::rating(split),
        _ => Protocol::retrieval(split),
    };
    match &mut protocol.task {
        Task::Retrieval { exclude_history } => *exclude_history = args.exclude_history,
        // The lists the model's ranking samples showed.
        Task::Ranking {
            candidates, seed, ..
        } => {
            *candidates = samples.ranking.candidates;
            *seed = samples.seed;
        }
        Task::Rating => {}
    }
    protocol
}

/// Expected metrics of a uniformly random ranking of `n` items.
fn random_ranking(n: usize, ks: &[usize]) -> Metrics {
    let mut metrics = Metrics::default();
    let n = n.max(1) as f64;
    for &k in ks {
        let k = (k as f64).min(n);
        let gain: f64 = (1..=k as usize)
            .map(|r| 1.0 / ((r + 1) as f64).log2())
            .sum();
        metrics.insert(format!("hit@{k}"), k / n);
        metrics.insert(format!("ndcg@{k}"), gain / n);
    }
    metrics
}

struct Job<'a> {
    global: &'a GlobalArgs,
    args: &'a EvaluateArgs,
    opened: &'a Opened,
    protocol: &'a Protocol,
}

impl BackendJob for Job<'_> {
    type Output = Report;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> recalign_train::Result<Report> {
        run_on::<B::InnerBackend>(self, &device)
            .map_err(|e| recalign_train::Error::Device(format!("{e:#}")))
    }
}

fn run_on<B: Backend>(job: Job<'_>, device: &B::Device) -> Result<Report> {
    let Job {
        global,
        args,
        opened,
        protocol,
    } = job;
    let dataset: &Dataset = &opened.loaded.dataset;
    let generator = Generator::new(dataset, opened.samples.clone())?;
    let settings = settings(&args.model, &opened.trained);
    let recommender = Recommender::<B>::load(&args.model.model, &generator, settings, device)?;
    let total = protocol.cases(dataset).count();
    let total = args.users.map_or(total, |n| n.min(total));
    let bar = progress::bar(
        global.quiet,
        Some(total as u64),
        "{prefix:.bold} [{bar:30}] {pos}/{len} users ({per_sec}, {eta})",
    );
    bar.set_prefix(format!("{} {}", args.task, protocol.split));
    let options = EvaluateOptions {
        batch_users: args.batch_users.unwrap_or(0),
        max_users: args.users,
    };
    let outcome =
        recalign_recommend::evaluate(&recommender, dataset, protocol, &options, &mut |done| {
            bar.set_position(done as u64)
        })?;
    bar.finish_and_clear();
    let model = ModelInfo::new("recalign-t5")
        .with_path(&args.model.model)
        .with_description(format!(
            "{} layers, d_model {}, vocab {}; {} beams, {:?} scoring, {} input tokens",
            recommender.model().config().num_layers,
            recommender.model().config().d_model,
            recommender.model().config().vocab_size,
            recommender.settings().beams,
            recommender.settings().scoring,
            recommender.settings().max_input_tokens,
        ));
    let mut report = outcome.evaluation.report(model);
    for (name, value) in outcome.extra.iter() {
        report.metrics.insert(name, value);
    }
    if args.users.is_some() {
        report
            .extra
            .insert("users_limit".into(), json!(options.max_users));
    }
    if let Some(path) = &args.rankings_out {
        let lines = outcome.evaluation.write_rankings(path)?;
        tracing::info!(path = %path.display(), lines, "rankings written");
    }
    Ok(report)
}

fn metrics_json(metrics: &Metrics) -> serde_json::Value {
    metrics
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

pub fn run(global: &GlobalArgs, args: &EvaluateArgs) -> Result<()> {
    anyhow::ensure!(
        args.rankings_out.is_none() || args.task != "rating",
        "--rankings-out needs a ranking task (retrieval or ranking), not rating"
    );
    let opened = open(global, &args.dataset, &args.model)?;
    let dataset = &opened.loaded.dataset;
    let protocol = protocol(args, &opened.samples);
    let job = Job {
        global,
        args,
        opened: &opened,
        protocol: &protocol,
    };
    let mut report = args.model.device.run(job)?;

    let mut out = std::io::stdout().lock();
    write!(out, "{}", report.table())?;
    if protocol.is_ranking() {
        let popular = evaluate_popularity_on(dataset, &protocol, args.users)?
            .report(ModelInfo::new("most-popular"));
        let listed = match protocol.task {
            Task::Ranking {
                candidates,
                sampler: Sampler::Uniform,
                ..
            } => candidates,
            _ => dataset.num_items(),
        };
        let random = random_ranking(listed, &protocol.ks);
        writeln!(out, "\nbeside it, on the same users:")?;
        writeln!(
            out,
            "{:<10} {:>12} {:>12} {:>12}",
            "metric", "recalign-t5", "most-popular", "random"
        )?;
        for (name, value) in report.metrics.iter() {
            if let (Some(p), Some(r)) = (popular.metric(name), random.get(name)) {
                writeln!(out, "{name:<10} {value:>12.4} {p:>12.4} {r:>12.4}")?;
            }
        }
        report
            .extra
            .insert("most_popular".into(), metrics_json(&popular.metrics));
        report
            .extra
            .insert("random_expected".into(), metrics_json(&random));
    }
    write_outputs(&mut out, &report, args.report.as_deref())?;
    if let Some(path) = &args.rankings_out {
        writeln!(out, "rankings: {}", path.display())?;
    }
    Ok(())
}

fn write_outputs(out: &mut impl Write, report: &Report, path: Option<&Path>) -> Result<()> {
    if let Some(path) = path {
        report
            .write(path)
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(out, "report: {}", path.display())?;
    }
    Ok(())
}
