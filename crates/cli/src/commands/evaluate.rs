//! `recalign evaluate`: a model trained by `recalign train`, measured as a
//! recommender by recalign's evaluator (the baselines' protocols), with
//! most-popular and a random ranking beside it
//! ([`recalign_recommend::Floors`]). The model runs on the device of
//! `--device` as an [`InferenceJob`].

use std::io::Write;

use anyhow::Result;
use burn::tensor::backend::Backend;
use recalign_data::Loaded;
use recalign_eval::{Protocol, Report};
use recalign_recommend::{EvaluateOptions, Floors, ModelDir, Recommender, TrainedWith};
use recalign_runtime::InferenceJob;
use recalign_samples::{Generator, SamplesConfig};

use crate::args::{EvaluateArgs, GlobalArgs, ModelArgs, SampleStyleArgs};
use crate::progress;
use crate::settings::DataSettings;

/// The dataset and how the model was trained, checked to agree.
pub struct Opened {
    pub loaded: Loaded,
    pub trained: TrainedWith,
    pub samples: SamplesConfig,
}

/// Loads the dataset and reads the model directory's training record.
pub fn open(global: &GlobalArgs, data: &DataSettings, model: &ModelArgs) -> Result<Opened> {
    let trained = ModelDir::open(&model.model)?.trained_with()?;
    let loaded = super::load_dataset(global, data)?;
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
        None => data.samples(&SampleStyleArgs::default())?,
    };
    Ok(Opened {
        loaded,
        trained,
        samples,
    })
}

/// The evaluation, run on the chosen device.
struct Job<'a> {
    global: &'a GlobalArgs,
    args: &'a EvaluateArgs,
    opened: &'a Opened,
    protocol: &'a Protocol,
}

impl InferenceJob for Job<'_> {
    type Output = Report;
    type Error = anyhow::Error;

    fn run<B: Backend>(self, device: B::Device) -> Result<Report> {
        let Job {
            global,
            args,
            opened,
            protocol,
        } = self;
        let dataset = &opened.loaded.dataset;
        let generator = Generator::new(dataset, opened.samples.clone())?;
        let settings = args.model.recommender(&opened.trained);
        let recommender = Recommender::<B>::load(&args.model.model, &generator, settings, &device)?;
        let options = EvaluateOptions {
            batch_users: args.run.batch_users.unwrap_or(0),
            users: args.run.sample(),
        };
        let total = protocol.cases(dataset).count();
        let total = options.users.map_or(total, |s| s.users.min(total));
        let bar = progress::bar(
            global.quiet,
            Some(total as u64),
            "{prefix:.bold} [{bar:30}] {pos}/{len} users ({per_sec}, {eta})",
        );
        bar.set_prefix(format!(
            "{} {}",
            args.protocol.task.task().name(),
            protocol.split
        ));
        let outcome =
            recalign_recommend::evaluate(&recommender, dataset, protocol, &options, &mut |done| {
                bar.set_position(done as u64)
            })?;
        bar.finish_and_clear();
        let report = outcome.report(&recommender, &args.model.model, options.users);
        if let Some(path) = &args.outputs.rankings_out {
            let lines = outcome.evaluation.write_rankings(path)?;
            tracing::info!(path = %path.display(), lines, "rankings written");
        }
        Ok(report)
    }
}

pub fn run(global: &GlobalArgs, args: &EvaluateArgs) -> Result<()> {
    let data = args.resolve()?;
    let opened = open(global, &data, &args.model)?;
    let protocol = args.protocol.protocol(&opened.samples);
    let job = Job {
        global,
        args,
        opened: &opened,
        protocol: &protocol,
    };
    let mut report = args.model.device.infer(job)?;

    let mut out = std::io::stdout().lock();
    write!(out, "{}", report.table())?;
    if let Some(floors) = Floors::measure(&opened.loaded.dataset, &protocol, args.run.sample())? {
        writeln!(out, "\nbeside it, on the same users:")?;
        write!(out, "{}", floors.table("recalign-t5", &report.metrics))?;
        floors.record(&mut report);
    }
    super::write_report(&mut out, &report, &args.outputs)?;
    if let Some(path) = &args.outputs.rankings_out {
        writeln!(out, "rankings: {}", path.display())?;
    }
    Ok(())
}
