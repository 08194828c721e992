//! Running an experiment: every cell through its stages, then the report.
//!
//! Before anything is written, the datasets are prepared (from the cache
//! when possible) and every cell is checked against its data: the ranking
//! lists fit the catalogue, rating has ratings to predict, a pretrained
//! folder exists, validation and evaluation users exist. Only then is the
//! run folder claimed and the stages run; each reports to a [`Monitor`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::backend::{AutodiffBackend, Backend};
use recalign_baselines::{Model, ProgressEvent, Tested, TrainBackend};
use recalign_data::{DatasetStats, LoadOptions, Loaded, Split};
use recalign_eval::{Protocol, Report, UserSample};
use recalign_recommend::{EvaluateOptions, Floors, ModelDir, Recommender, Settings};
use recalign_report::{
    CurvePoint, DatasetSummary, RESULTS_FORMAT, Results, Row, StageTime, Written,
};
use recalign_runtime::{InferenceJob, TrainingJob};
use recalign_samples::{Generator, WriteOptions};
use recalign_train::{BEST_DIR, BoxError, Measured, ModelSource, Observer, Plan, StepReport};

use crate::config::{Cell, EvalTask, Experiment};
use crate::stage::{self, RUN_FORMAT, RunIdentity, StageRecord, StageState};
use crate::validation::RetrievalCheck;
use crate::{Error, Result};

/// The report key of the rating floor: the training mean rating's RMSE
/// and MAE on the same users.
const TRAIN_MEAN: &str = "train_mean";

/// Where and how an experiment runs.
#[derive(Clone)]
pub struct RunOptions {
    /// The folder that holds run folders; the run goes into `runs/NAME`.
    pub runs_dir: PathBuf,
    /// Rerun under a name whose settings changed.
    pub force: bool,
    /// How datasets are found and cached (`items` is set per cell).
    pub load: LoadOptions,
}

/// A stage as the monitor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageInfo {
    /// 1-based position.
    pub index: usize,
    /// Stages in the whole run.
    pub total: usize,
    /// What it does (`train`, `evaluate ranking`, `baseline sasrec retrieval`).
    pub name: String,
    /// Its cell, empty for a one-cell run or shared work.
    pub cell: String,
}

/// Receives a run's progress; every method has a no-op default.
pub trait Monitor {
    /// A stage begins.
    fn stage_started(&mut self, _stage: &StageInfo) {}
    /// A stage ended after `seconds`; `reused` when an earlier run's output
    /// was kept.
    fn stage_finished(&mut self, _stage: &StageInfo, _seconds: f64, _reused: bool) {}
    /// Work within the current stage: `done` of `total` units.
    fn progress(&mut self, _done: u64, _total: u64, _message: &str) {}
    /// A line worth showing (validation scores, resumed training).
    fn note(&mut self, _message: &str) {}
    /// Asked during training and between stages: true stops the run, with
    /// a checkpoint, so that the same run continues it.
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The run folder.
    pub dir: PathBuf,
    /// Each cell's results, in cell order.
    pub results: Vec<Results>,
    /// The report's files.
    pub report: Written,
}

/// The datasets of an experiment, prepared once per distinct setting.
struct Datasets {
    prepared: Vec<Prepared>,
}

/// One prepared dataset, its key and its statistics (computed once).
struct Prepared {
    key: String,
    loaded: Loaded,
    stats: DatasetStats,
}

impl Datasets {
    /// The key of a cell's prepared dataset.
    fn key(cell: &Cell) -> String {
        stage::key("prepare", &(&cell.dataset, &cell.items, &cell.prepare))
    }

    fn get(&self, cell: &Cell) -> &Prepared {
        let key = Self::key(cell);
        self.prepared
            .iter()
            .find(|p| p.key == key)
            .expect("every cell's dataset is loaded before its stages")
    }
}

/// Counts the run's stages and names them, in order, for the monitor.
struct Stages<'m> {
    index: usize,
    total: usize,
    monitor: &'m mut dyn Monitor,
    times: Vec<StageTime>,
}

impl Stages<'_> {
    /// Starts stage `name` of `cell` (empty for work shared by the run).
    fn start(&mut self, name: &str, cell: &str) -> (StageInfo, Instant) {
        self.index += 1;
        let info = StageInfo {
            index: self.index,
            total: self.total,
            name: name.to_string(),
            cell: cell.to_string(),
        };
        self.monitor.stage_started(&info);
        (info, Instant::now())
    }

    fn finish(&mut self, (info, started): (StageInfo, Instant), reused: bool) -> f64 {
        let seconds = if reused {
            0.0
        } else {
            started.elapsed().as_secs_f64()
        };
        self.monitor.stage_finished(&info, seconds, reused);
        self.times.push(StageTime {
            name: info.name,
            seconds,
            skipped: reused,
        });
        seconds
    }

    fn check_stop(&mut self, stage: &str, dir: &Path) -> Result<()> {
        if self.monitor.should_stop() {
            return Err(Error::Interrupted {
                stage: stage.to_string(),
                dir: dir.to_path_buf(),
            });
        }
        Ok(())
    }
}

/// How many stages one cell runs.
fn cell_stages(cell: &Cell) -> usize {
    let ranking = cell.evaluate.tasks.iter().filter(|t| t.ranks()).count();
    2 + cell.evaluate.tasks.len() + cell.baselines.len() * ranking
}

/// Runs `experiment`: checks every cell, then runs each through its stages
/// and writes the report into the run folder.
pub fn run(
    experiment: &Experiment,
    options: &RunOptions,
    monitor: &mut dyn Monitor,
) -> Result<Finished> {
    let dir = options.runs_dir.join(&experiment.name);
    let total = 2 + experiment.cells.iter().map(cell_stages).sum::<usize>();
    let mut stages = Stages {
        index: 0,
        total,
        monitor,
        times: Vec::new(),
    };

    // Stage 1: the data, then every check, before the folder is touched.
    let prepare = stages.start("prepare", "");
    let mut datasets = Datasets {
        prepared: Vec::new(),
    };
    for cell in &experiment.cells {
        let key = Datasets::key(cell);
        if datasets.prepared.iter().any(|p| p.key == key) {
            continue;
        }
        let load = LoadOptions {
            items: cell.items.clone(),
            ..options.load.clone()
        };
        let loaded = recalign_data::load(&cell.dataset, &cell.prepare, &load)?;
        let stats = DatasetStats::compute(&loaded.dataset);
        datasets.prepared.push(Prepared { key, loaded, stats });
    }
    for cell in &experiment.cells {
        check(cell, &datasets.get(cell).loaded.dataset)?;
    }
    let all_cached = datasets.prepared.iter().all(|p| p.loaded.from_cache);
    let prepare_seconds = stages.finish(prepare, false);
    let prepare_time = StageTime {
        name: if all_cached {
            "prepare (from cache)"
        } else {
            "prepare"
        }
        .to_string(),
        seconds: prepare_seconds,
        skipped: false,
    };
    stages.times.clear();

    let settings =
        serde_json::to_value(&experiment.cells).map_err(|e| Error::Internal(e.to_string()))?;
    let identity = RunIdentity {
        format: RUN_FORMAT,
        recalign: env!("CARGO_PKG_VERSION").to_string(),
        name: experiment.name.clone(),
        settings: stage::key("run", &settings),
    };
    stage::claim(&dir, &identity, options.force)?;
    recalign_runtime::write_atomically(&dir.join("config.toml"), experiment.text.as_bytes())?;
    let pretty =
        serde_json::to_string_pretty(&settings).map_err(|e| Error::Internal(e.to_string()))?;
    recalign_runtime::write_atomically(&dir.join("settings.json"), pretty.as_bytes())?;
    for prepared in &datasets.prepared {
        let text = serde_json::to_string_pretty(&prepared.stats)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let path = dir.join(format!("dataset-{}.json", prepared.loaded.dataset.name));
        recalign_runtime::write_atomically(&path, text.as_bytes())?;
    }

    let mut results = Vec::new();
    for cell in &experiment.cells {
        let cell_dir = match experiment.is_single() {
            true => dir.clone(),
            false => dir.join("cells").join(cell_dir_name(&cell.name)),
        };
        stages.times = vec![prepare_time.clone()];
        let prepared = datasets.get(cell);
        let cell_results = run_cell(experiment, cell, prepared, &dir, &cell_dir, &mut stages)?;
        cell_results.write(&cell_dir.join(recalign_report::RESULTS_FILE))?;
        results.push(cell_results);
    }

    let report_stage = stages.start("report", "");
    let report = recalign_report::write(&results, &dir)?;
    stages.finish(report_stage, false);
    Ok(Finished {
        dir,
        results,
        report,
    })
}

/// A cell's folder name: `tasks=rec-only,seed=1` as `tasks-rec-only_seed-1`.
fn cell_dir_name(name: &str) -> String {
    name.replace('=', "-").replace(',', "_")
}

/// Refuses settings that `dataset` makes impossible, naming the key.
fn check(cell: &Cell, dataset: &recalign_data::Dataset) -> Result<()> {
    let invalid = |message: String| {
        Err(Error::Invalid(match cell.name.is_empty() {
            true => message,
            false => format!("cell {}: {message}", cell.name),
        }))
    };
    let items = dataset.num_items();
    let ranks = cell.evaluate.tasks.contains(&EvalTask::Ranking)
        || cell.samples.per_user(recalign_samples::Task::Ranking)
            != recalign_samples::PerUser::Count(0.0);
    if ranks && cell.samples.ranking.candidates > items {
        return invalid(format!(
            "samples.ranking.candidates: {} candidates, but `{}` has only {items} items",
            cell.samples.ranking.candidates, dataset.name
        ));
    }
    let rates = cell.evaluate.tasks.contains(&EvalTask::Rating);
    let has_ratings = dataset
        .users()
        .flat_map(|u| dataset.sequence(u))
        .any(|e| e.rating().is_some());
    if rates && !has_ratings {
        return invalid(format!(
            "evaluate.tasks: `{}` has no ratings to predict; leave `rating` out",
            dataset.name
        ));
    }
    if let ModelSource::Pretrained(path) = &cell.model
        && !path.join("config.json").is_file()
    {
        return invalid(format!(
            "model.from_pretrained: {} has no config.json (a Hugging Face T5 folder with \
             config.json, model.safetensors and tokenizer.json)",
            path.display()
        ));
    }
    let split = cell.evaluate.split();
    let users = dataset.held_out_all(split).count();
    if let Some(n) = cell.evaluate.users
        && n > users
    {
        return invalid(format!(
            "evaluate.users: {n} is more than the {users} {split} users of `{}`",
            dataset.name
        ));
    }
    RetrievalCheck::new(dataset, cell.samples.clone(), &cell.train, cell.device).map_err(|e| {
        match cell.name.is_empty() {
            true => e,
            false => Error::Invalid(format!("cell {}: {e}", cell.name)),
        }
    })?;
    Ok(())
}

/// The protocol of `task` for `cell`.
fn protocol(cell: &Cell, task: EvalTask) -> Protocol {
    task.protocol(
        cell.evaluate.split(),
        cell.evaluate.exclude_history,
        &cell.samples,
    )
}

/// The seeded users the cell is evaluated on, `None` for all.
fn users(cell: &Cell) -> Option<UserSample> {
    cell.evaluate.users.map(|users| UserSample {
        users,
        seed: cell.evaluate.users_seed,
    })
}

fn run_cell(
    experiment: &Experiment,
    cell: &Cell,
    prepared: &Prepared,
    run_dir: &Path,
    cell_dir: &Path,
    stages: &mut Stages<'_>,
) -> Result<Results> {
    let dataset = &prepared.loaded.dataset;
    let data_key = Datasets::key(cell);

    // Samples, shared by every cell with the same data and sample settings.
    let samples_key = stage::key("samples", &(&data_key, &cell.samples));
    let samples_dir = run_dir.join("samples").join(&samples_key);
    let started = stages.start("samples", &cell.name);
    let reused = stage::state(&samples_dir, &samples_key) == StageState::Done;
    if !reused {
        stage::clear(&samples_dir)?;
        let generator = Generator::new(dataset, cell.samples.clone())?;
        let options = WriteOptions {
            splits: vec![Split::Train, Split::Valid],
            ..WriteOptions::default()
        };
        let written = recalign_samples::write(&generator, &samples_dir, &options, &|_| {})?;
        let summary = written.summary.to_string();
        recalign_runtime::write_atomically(&samples_dir.join("summary.txt"), summary.as_bytes())?;
    }
    let seconds = stages.finish(started, reused);
    if !reused {
        finish_record(&samples_dir, "samples", &samples_key, seconds)?;
    }
    stages.check_stop("samples", run_dir)?;

    // Training, resumed when an earlier run stopped inside it.
    let model_source = match &cell.model {
        ModelSource::Preset(p) => format!("preset {}", p.name()),
        ModelSource::Pretrained(dir) => format!("pretrained {}", dir.display()),
    };
    let train_key = stage::key(
        "train",
        &(
            &samples_key,
            &model_source,
            &cell.train,
            cell.device.to_string(),
        ),
    );
    let model_dir = cell_dir.join("model");
    let started = stages.start("train", &cell.name);
    let state = stage::state(&model_dir, &train_key);
    let reused = state == StageState::Done;
    if !reused {
        let resume = state == StageState::Started;
        if !resume {
            stage::clear(&model_dir)?;
        }
        stage::record(
            &model_dir,
            &StageRecord {
                stage: "train".into(),
                key: train_key.clone(),
                finished: false,
                seconds: 0.0,
            },
        )?;
        let check = RetrievalCheck::new(dataset, cell.samples.clone(), &cell.train, cell.device)?;
        let job = TrainJob {
            options: recalign_train::RunOptions {
                config: cell.train.clone(),
                train_samples: samples_dir.join("train.jsonl"),
                valid_samples: Some(samples_dir.join("valid.jsonl")),
                out: model_dir.clone(),
                model: cell.model.clone(),
                resume,
            },
            observer: TrainObserver {
                monitor: &mut *stages.monitor,
                check,
                total: 0,
            },
        };
        let summary = cell.device.train(job)?;
        if summary.stopped_early {
            stages.finish(started, false);
            return Err(Error::Interrupted {
                stage: "train".into(),
                dir: run_dir.to_path_buf(),
            });
        }
    }
    let seconds = stages.finish(started, reused);
    if !reused {
        finish_record(&model_dir, "train", &train_key, seconds)?;
    }
    let selected = match model_dir.join(BEST_DIR).is_dir() {
        true => model_dir.join(BEST_DIR),
        false => model_dir.clone(),
    };

    let mut rows = Vec::new();
    let mut protocols = Vec::new();
    for &task in &cell.evaluate.tasks {
        stages.check_stop("evaluate", run_dir)?;
        let protocol = protocol(cell, task);
        protocols.push(protocol.to_string());
        let key = stage::key(
            "evaluate",
            &(&train_key, task, protocol.to_string(), &cell.evaluate),
        );
        let eval_dir = cell_dir.join("eval").join(task.name());
        let started = stages.start(&format!("evaluate {}", task.name()), &cell.name);
        let reused = stage::state(&eval_dir, &key) == StageState::Done;
        if !reused {
            stage::clear(&eval_dir)?;
            let job = EvaluateJob {
                cell,
                dataset,
                model: &selected,
                protocol: &protocol,
                eval_dir: &eval_dir,
                monitor: &mut *stages.monitor,
            };
            cell.device.infer(job)?;
        }
        let seconds = stages.finish(started, reused);
        if !reused {
            finish_record(&eval_dir, "evaluate", &key, seconds)?;
        }
        let report = Report::read(&eval_dir.join("report.json"))?;
        rows.push(row(
            "recalign",
            task,
            &report.metrics,
            report.users_evaluated,
        ));
        for (key, model) in [("random_expected", "random"), (TRAIN_MEAN, "train-mean")] {
            if let Some(floor) = report.extra.get(key) {
                let metrics: BTreeMap<String, f64> = serde_json::from_value(floor.clone())
                    .map_err(|e| Error::Internal(e.to_string()))?;
                rows.push(Row {
                    model: model.into(),
                    task: task.name().into(),
                    metrics,
                    users: report.users_evaluated,
                });
            }
        }

        if !task.ranks() {
            continue;
        }
        for &model in &cell.baselines {
            stages.check_stop("baselines", run_dir)?;
            let key = stage::key(
                "baseline",
                &(
                    &data_key,
                    model.name(),
                    &cell.baseline_config,
                    protocol.to_string(),
                    &cell.evaluate.users,
                    cell.evaluate.users_seed,
                ),
            );
            let base_dir =
                run_dir
                    .join("baselines")
                    .join(format!("{}-{}-{key}", model.name(), task.name()));
            let started = stages.start(
                &format!("baseline {} {}", model.name(), task.name()),
                &cell.name,
            );
            let reused = stage::state(&base_dir, &key) == StageState::Done;
            if !reused {
                stage::clear(&base_dir)?;
                run_baseline(
                    cell,
                    dataset,
                    model,
                    &protocol,
                    &base_dir,
                    &mut *stages.monitor,
                )?;
            }
            let seconds = stages.finish(started, reused);
            if !reused {
                finish_record(&base_dir, "baseline", &key, seconds)?;
            }
            let report = Report::read(&base_dir.join("report.json"))?;
            rows.push(row(
                model.name(),
                task,
                &report.metrics,
                report.users_evaluated,
            ));
        }
    }

    let stats = &prepared.stats;
    let users_note = match users(cell) {
        Some(s) => format!("{} users drawn with seed {}", s.users, s.seed),
        None => "every user".to_string(),
    };
    Ok(Results {
        format: RESULTS_FORMAT,
        recalign: env!("CARGO_PKG_VERSION").to_string(),
        run: experiment.name.clone(),
        cell: cell.name.clone(),
        variant: cell.variant.clone(),
        seed: cell.seed,
        dataset: DatasetSummary {
            name: dataset.name.clone(),
            users: stats.users,
            items: stats.items,
            interactions: stats.interactions,
            density: stats.density,
            mean_length: stats.sequence_length.mean,
            id_scheme: cell.prepare.identifiers(),
        },
        protocol: format!("leave-one-out, {users_note}; {}", protocols.join("; ")),
        rows,
        curve: read_curve(&model_dir)?,
        stages: std::mem::take(&mut stages.times),
    })
}

fn finish_record(dir: &Path, stage_name: &str, key: &str, seconds: f64) -> Result<()> {
    stage::record(
        dir,
        &StageRecord {
            stage: stage_name.into(),
            key: key.into(),
            finished: true,
            seconds,
        },
    )
}

fn row(model: &str, task: EvalTask, metrics: &recalign_eval::Metrics, users: usize) -> Row {
    Row {
        model: model.into(),
        task: task.name().into(),
        metrics: metrics.iter().map(|(k, v)| (k.to_string(), v)).collect(),
        users,
    }
}

/// The learning curve of the model trained in `dir`, as the report
/// draws it.
fn read_curve(dir: &Path) -> Result<Vec<CurvePoint>> {
    Ok(recalign_train::read_curves(dir)?
        .into_iter()
        .map(|p| CurvePoint {
            step: p.step,
            seconds: p.seconds,
            train_loss: p.train_loss,
            valid_loss: p.valid_loss,
            valid_ndcg: p.measured.map(|m| m.ndcg),
        })
        .collect())
}

/// Training on the cell's device, reporting to the monitor.
struct TrainJob<'a, 'd> {
    options: recalign_train::RunOptions,
    observer: TrainObserver<'a, 'd>,
}

impl TrainingJob for TrainJob<'_, '_> {
    type Output = recalign_train::TrainSummary;
    type Error = Error;

    fn run<B: AutodiffBackend>(mut self, devices: Vec<B::Device>) -> Result<Self::Output> {
        Ok(recalign_train::train::<B>(
            &self.options,
            &devices,
            &mut self.observer,
        )?)
    }
}

struct TrainObserver<'a, 'd> {
    monitor: &'a mut dyn Monitor,
    check: Option<RetrievalCheck<'d>>,
    total: u64,
}

impl Observer for TrainObserver<'_, '_> {
    fn started(&mut self, plan: &Plan) {
        self.total = plan.total_steps;
        if plan.resumed_from.is_some() {
            self.monitor.note(&format!(
                "resumed training at step {} of {}",
                plan.start_step, plan.total_steps
            ));
        }
        self.monitor
            .progress(plan.start_step, plan.total_steps, "steps");
    }

    fn step(&mut self, report: &StepReport) {
        self.monitor.progress(
            report.step,
            self.total,
            &format!("steps · loss {:.3}", report.loss),
        );
    }

    fn should_stop(&mut self) -> bool {
        self.monitor.should_stop()
    }

    fn measures(&self) -> bool {
        self.check.is_some()
    }

    fn measure(&mut self, dir: &Path, _step: u64) -> std::result::Result<Measured, BoxError> {
        let check = self.check.as_ref().ok_or("no retrieval check")?;
        check.measure(dir).map_err(|e| e.to_string().into())
    }

    fn measured(&mut self, step: u64, m: &Measured, best: bool) {
        self.monitor.note(&format!(
            "step {step}: validation NDCG@{} {:.4}, Hit@{} {:.4} ({} users){}",
            m.k,
            m.ndcg,
            m.k,
            m.hit,
            m.users,
            if best { " · best so far" } else { "" }
        ));
    }
}

/// One task's evaluation of the selected model, written to `eval_dir`.
struct EvaluateJob<'a> {
    cell: &'a Cell,
    dataset: &'a recalign_data::Dataset,
    model: &'a Path,
    protocol: &'a Protocol,
    eval_dir: &'a Path,
    monitor: &'a mut dyn Monitor,
}

impl InferenceJob for EvaluateJob<'_> {
    type Output = ();
    type Error = Error;

    fn run<B: Backend>(self, device: B::Device) -> Result<()> {
        let EvaluateJob {
            cell,
            dataset,
            model,
            protocol,
            eval_dir,
            monitor,
        } = self;
        let trained = ModelDir::open(model)?.trained_with()?;
        // The cell's own samples: the model was trained on them, and is
        // asked in their wording.
        let generator = Generator::new(dataset, cell.samples.clone())?;
        let settings = Settings {
            beams: cell.evaluate.beams,
            max_input_tokens: trained.max_input_tokens,
            ..Settings::default()
        };
        let recommender = Recommender::<B>::load(model, &generator, settings, &device)?;
        let options = EvaluateOptions {
            batch_users: 0,
            users: users(cell),
        };
        let total = protocol.sampled_cases(dataset, options.users).len() as u64;
        let outcome =
            recalign_recommend::evaluate(&recommender, dataset, protocol, &options, &mut |done| {
                monitor.progress(done as u64, total, "users")
            })?;
        let mut report = outcome.report(&recommender, model, options.users);
        if let Some(floors) = Floors::measure(dataset, protocol, options.users)? {
            floors.record(&mut report);
        } else {
            let mean = recalign_eval::evaluate_mean_rating(dataset, protocol, options.users)?;
            let value =
                serde_json::to_value(mean.metrics()).map_err(|e| Error::Internal(e.to_string()))?;
            report.extra.insert(TRAIN_MEAN.into(), value);
        }
        if protocol.is_ranking() {
            outcome
                .evaluation
                .write_rankings(&eval_dir.join("rankings.jsonl"))?;
        }
        report.write(&eval_dir.join("report.json"))?;
        Ok(())
    }
}

/// Trains and tests a baseline under the cell's protocol and users.
fn run_baseline(
    cell: &Cell,
    dataset: &recalign_data::Dataset,
    model: Model,
    protocol: &Protocol,
    dir: &Path,
    monitor: &mut dyn Monitor,
) -> Result<()> {
    let tested = Tested {
        protocol,
        users: users(cell),
    };
    let mut progress = |event: &ProgressEvent<'_>| match event {
        ProgressEvent::Batch { epoch, batch, loss } => {
            monitor.progress(*batch as u64, 0, &format!("epoch {epoch} · loss {loss:.3}"));
        }
        ProgressEvent::Epoch(record) => {
            if let Some(ndcg) = record.valid_ndcg10 {
                monitor.note(&format!(
                    "{} epoch {}: validation NDCG@10 {ndcg:.4}",
                    model.name(),
                    record.epoch
                ));
            }
        }
        _ => {}
    };
    let outcome = recalign_baselines::train_and_evaluate_on::<TrainBackend>(
        dataset,
        model,
        &cell.baseline_config,
        &tested,
        &mut progress,
        &Default::default(),
    )?;
    let mut report = outcome.report.clone();
    report.record_users(tested.users);
    outcome.write_rankings(dataset, &dir.join("rankings.jsonl"))?;
    report.write(&dir.join("report.json"))?;
    Ok(())
}
