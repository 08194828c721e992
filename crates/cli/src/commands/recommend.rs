//! `recalign recommend`: top-K items with titles from a trained model, for
//! a history typed on the command line, a known user, or a JSON-lines file
//! of requests. The model runs on the device of `--device` as an
//! [`InferenceJob`].

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::backend::Backend;
use recalign_data::{Dataset, Event, ItemIdx, UserIdx};
use recalign_recommend::{History, Recommendation, Recommender};
use recalign_runtime::InferenceJob;
use recalign_samples::Generator;
use serde::Deserialize;
use serde_json::json;

use super::evaluate::{Opened, open};
use crate::args::{GlobalArgs, RecommendArgs, RequestArgs};

/// One request: a user of the dataset, or a history of item ids.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    history: Option<Vec<String>>,
}

/// A request resolved against the dataset.
struct Resolved {
    label: String,
    user: Option<UserIdx>,
    events: Vec<Event>,
}

fn resolve(dataset: &Dataset, request: Request) -> std::result::Result<Resolved, String> {
    match (request.user, request.history) {
        (Some(id), None) => {
            let user = dataset
                .user_by_raw_id(&id)
                .ok_or_else(|| format!("field `user`: no user `{id}` in {}", dataset.name))?;
            Ok(Resolved {
                label: id,
                user: Some(user),
                events: dataset.sequence(user).to_vec(),
            })
        }
        (None, Some(ids)) => {
            if ids.is_empty() {
                return Err("field `history`: empty; give at least one item id".into());
            }
            let unknown: Vec<&str> = ids
                .iter()
                .filter(|id| dataset.item_by_raw_id(id).is_none())
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(format!(
                    "field `history`: {} unknown to {}: {}",
                    if unknown.len() == 1 {
                        "an item"
                    } else {
                        "items"
                    },
                    dataset.name,
                    unknown.join(", ")
                ));
            }
            let events = ids
                .iter()
                .filter_map(|id| dataset.item_by_raw_id(id))
                .map(|item| Event::new(item, None, None))
                .collect();
            Ok(Resolved {
                label: ids.join(","),
                user: None,
                events,
            })
        }
        _ => Err("give exactly one of `user` and `history`".into()),
    }
}

/// The requests of the command line or of `--input`.
fn requests(args: &RequestArgs, dataset: &Dataset) -> Result<Vec<Resolved>> {
    if let Some(path) = &args.input {
        return read_requests(path, dataset);
    }
    let request = match (&args.user, args.history.is_empty()) {
        (Some(user), _) => Request {
            user: Some(user.clone()),
            history: None,
        },
        (None, false) => Request {
            user: None,
            history: Some(args.history.clone()),
        },
        (None, true) => bail!("give --history ID,ID,…, --user ID or --input FILE"),
    };
    resolve(dataset, request).map(|r| vec![r]).map_err(|e| {
        anyhow::anyhow!(
            "{}",
            e.replace("field `user`", "--user")
                .replace("field `history`", "--history")
        )
    })
}

fn read_requests(path: &Path, dataset: &Dataset) -> Result<Vec<Resolved>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}", path.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let request: Request = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
        let resolved = resolve(dataset, request)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
        out.push(resolved);
    }
    if out.is_empty() {
        bail!("{}: no requests", path.display());
    }
    Ok(out)
}

/// The recommendations, computed on the chosen device.
struct Job<'a> {
    args: &'a RecommendArgs,
    opened: &'a Opened,
    requests: &'a [Resolved],
}

impl InferenceJob for Job<'_> {
    type Output = Vec<Vec<Recommendation>>;
    type Error = anyhow::Error;

    fn run<B: Backend>(self, device: B::Device) -> Result<Self::Output> {
        let dataset = &self.opened.loaded.dataset;
        let generator = Generator::new(dataset, self.opened.samples.clone())?;
        let model = &self.args.model;
        let settings = model.recommender(&self.opened.trained);
        let recommender = Recommender::<B>::load(&model.model, &generator, settings, &device)?;
        let request = &self.args.request;
        let mut found = Vec::with_capacity(self.requests.len());
        for chunk in self.requests.chunks(16) {
            let histories: Vec<History<'_>> = chunk
                .iter()
                .map(|r| History {
                    user: r.user,
                    events: &r.events,
                })
                .collect();
            let excluded: Vec<Vec<ItemIdx>> = if request.exclude_history {
                chunk
                    .iter()
                    .map(|r| r.events.iter().map(|e| e.item).collect())
                    .collect()
            } else {
                Vec::new()
            };
            found.extend(recommender.retrieve(&histories, request.top, &excluded)?);
        }
        Ok(found)
    }
}

pub fn run(global: &GlobalArgs, args: &RecommendArgs) -> Result<()> {
    let data = args.dataset.resolve()?;
    let opened = open(global, &data, &args.model)?;
    let dataset = &opened.loaded.dataset;
    let requests = requests(&args.request, dataset)?;
    let job = Job {
        args,
        opened: &opened,
        requests: &requests,
    };
    let found = args.model.device.infer(job)?;
    let mut out = std::io::stdout().lock();
    let as_json = args.request.json || requests.len() > 1;
    for (request, items) in requests.iter().zip(&found) {
        if as_json {
            let items: Vec<_> = items
                .iter()
                .map(|r| {
                    let item = dataset.item(r.item);
                    json!({
                        "id": item.raw_id,
                        "identifier": item.identifier,
                        "title": item.title(),
                        "score": r.score,
                    })
                })
                .collect();
            writeln!(
                out,
                "{}",
                json!({ "request": request.label, "items": items })
            )?;
        } else {
            writeln!(
                out,
                "{:>4}  {:<14} {:>9}  title",
                "rank", "item", "log-prob"
            )?;
            for (rank, r) in items.iter().enumerate() {
                let item = dataset.item(r.item);
                writeln!(
                    out,
                    "{:>4}  {:<14} {:>9.3}  {}",
                    rank + 1,
                    item.raw_id,
                    r.score,
                    item.title().unwrap_or("(no title)")
                )?;
            }
        }
    }
    Ok(())
}
