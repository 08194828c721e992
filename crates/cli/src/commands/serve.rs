//! `recalign serve`: puts a trained model behind HTTP (`recalign-serve`),
//! with the dataset, prompts and input budget it was trained with.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use recalign_serve::{Limits, ModelSource, ServeConfig, Service};

use super::evaluate::open;
use crate::args::{GlobalArgs, ServeArgs, ServiceArgs};

/// The service's settings from the flags (the API key read from its file).
fn config(args: &ServiceArgs) -> Result<ServeConfig> {
    let api_key = match &args.api_key_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the API key from {}", path.display()))?;
            let key = text.trim();
            if key.is_empty() {
                bail!("{}: the API key file is empty", path.display());
            }
            Some(key.to_owned())
        }
        None => None,
    };
    if !(args.request_timeout.is_finite() && args.request_timeout > 0.0) {
        bail!(
            "--request-timeout {}: give a positive number of seconds",
            args.request_timeout
        );
    }
    Ok(ServeConfig {
        batch_wait: Duration::from_millis(args.batch_wait_ms),
        max_gather: args.max_gather,
        max_batch: args.max_batch,
        max_batch_tokens: args.max_batch_tokens,
        queue: args.queue,
        request_timeout: Duration::from_secs_f64(args.request_timeout),
        limits: Limits {
            max_history: args.max_history_items,
            max_k: args.max_k,
            max_candidates: args.max_candidates,
            ..Limits::default()
        },
        api_key,
        allow_item_updates: args.allow_item_updates,
        ..ServeConfig::default()
    })
}

pub fn run(global: &GlobalArgs, args: &ServeArgs) -> Result<()> {
    let config = config(&args.service)?;
    config.validate()?;
    let data = args.dataset.resolve()?;
    let opened = open(global, &data, &args.model)?;
    let settings = args.model.recommender(&opened.trained);
    let source = ModelSource {
        dataset: opened.loaded.dataset,
        samples: opened.samples,
        model: args.model.model.clone(),
        settings,
        device: args.model.device,
    };
    eprintln!("recalign serve: loading {}", args.model.model.display());
    let service = Service::start(source, config)?;
    service.run(args.service.addr)?;
    eprintln!("recalign serve: stopped");
    Ok(())
}
