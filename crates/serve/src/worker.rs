//! The inference thread: it owns the model, takes requests from a bounded
//! queue, and answers them in batches.
//!
//! After the first request arrives it gathers more for up to
//! [`Batching::wait`], or until [`Batching::max_gather`] requests: a
//! round. A round's retrievals with the same K, its rankings and its
//! ratings are each sorted by prompt length and decoded in batches of at
//! most [`Batching::max_batch`] requests and [`Batching::max_tokens`]
//! padded prompt tokens: a batch is padded to its longest prompt, and on
//! the CPU a batch of like lengths pays where a mixed one does not
//! (`cargo bench -p recalign-recommend --bench batch_size`). Requests
//! whose client has gone are dropped before their batch. Every request is
//! answered as it would be alone (the encoder masks padding, and each
//! user's beams are their own). A batch that fails is retried one request
//! at a time, so one bad request fails alone, and a panic fails only its
//! round.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;
use recalign_data::{Dataset, Event, ItemIdx, NewItem, Split};
use recalign_recommend::{
    History, ModelParts, RatingPrediction, Recommendation, Recommender, Settings,
};
use recalign_runtime::InferenceJob;
use recalign_samples::{Generator, Query, SamplesConfig, Task as SampleTask};
use tokio::sync::oneshot;

use crate::catalogue::Shelf;
use crate::error::Error;
use crate::metrics::Metrics;

/// What a request asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// The top `k` items by trie-constrained beam search.
    Recommend {
        /// How many.
        k: usize,
        /// Leave the history's items out.
        exclude_history: bool,
    },
    /// The log-probability of each candidate.
    Rank {
        /// Distinct catalogue items.
        candidates: Vec<ItemIdx>,
    },
    /// The rating distribution of one item.
    Rate {
        /// The item.
        item: ItemIdx,
    },
    /// Add an item to the catalogue (the job's history is empty).
    AddItem(NewItem),
}

/// What the model answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Retrieved items, best first.
    Items(Vec<Recommendation>),
    /// One log-probability per candidate, in the order asked.
    Scores(Vec<f32>),
    /// A rating prediction.
    Rating(RatingPrediction),
    /// The index of an added item, retrievable from now on.
    Added(ItemIdx),
}

/// Why the model did not answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The request cannot be answered (the client can fix it).
    Request(String),
    /// Something broke inside (logged; the client sees a generic 500).
    Internal(String),
}

impl From<recalign_recommend::Error> for Failure {
    fn from(error: recalign_recommend::Error) -> Self {
        match error {
            recalign_recommend::Error::Request(message) => Failure::Request(message),
            other => Failure::Internal(other.to_string()),
        }
    }
}

/// One request for the inference thread.
#[derive(Debug)]
pub struct Job {
    /// Catalogue items, oldest first.
    pub history: Vec<ItemIdx>,
    /// What is asked.
    pub task: Task,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<Answer, Failure>>,
}

/// Why a job was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full: try again shortly.
    Full,
    /// The inference thread has stopped.
    Stopped,
}

/// The sending end of the bounded queue to the inference thread.
#[derive(Debug, Clone)]
pub struct Queue {
    sender: SyncSender<Job>,
    metrics: Arc<Metrics>,
}

/// A queue of `capacity` jobs, counted in `metrics`.
pub fn queue(capacity: usize, metrics: Arc<Metrics>) -> (Queue, Receiver<Job>) {
    let (sender, receiver) = std::sync::mpsc::sync_channel(capacity);
    (Queue { sender, metrics }, receiver)
}

impl Queue {
    /// Queues `job` without waiting.
    pub fn submit(&self, job: Job) -> Result<(), Refused> {
        match self.sender.try_send(job) {
            Ok(()) => {
                self.metrics.enqueued();
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                self.metrics.rejected();
                Err(Refused::Full)
            }
            Err(TrySendError::Disconnected(_)) => Err(Refused::Stopped),
        }
    }
}

/// How requests are gathered into rounds and decoded in batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// How long to gather after the first request.
    pub wait: Duration,
    /// The most requests taken from the queue in one round.
    pub max_gather: usize,
    /// The most requests decoded together.
    pub max_batch: usize,
    /// The most prompt tokens decoded together, counted padded (requests ×
    /// longest prompt; a longer request goes alone).
    pub max_tokens: usize,
}

/// A job with its history as events and its prompt's length.
struct Pending {
    job: Job,
    events: Vec<Event>,
    tokens: usize,
}

impl Pending {
    fn new<B: Backend>(recommender: &Recommender<'_, '_, B>, job: Job) -> Self {
        let events: Vec<Event> = job
            .history
            .iter()
            .map(|&item| Event::new(item, None, None))
            .collect();
        let history = History {
            user: None,
            events: &events,
        };
        let tokens = recommender
            .prompt_tokens(history, query(&job.task))
            .map_or(0, |t| t.len());
        Self {
            job,
            events,
            tokens,
        }
    }

    fn history(&self) -> History<'_> {
        History {
            user: None,
            events: &self.events,
        }
    }
}

fn query(task: &Task) -> Query<'_> {
    match task {
        Task::Recommend { .. } | Task::AddItem(_) => Query::Retrieval,
        Task::Rank { candidates } => Query::Ranking { candidates },
        Task::Rate { item } => Query::Rating { item: *item },
    }
}

/// An item to add, taken out of its job, with where its answer goes.
pub struct Update {
    /// The item.
    pub item: NewItem,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<Answer, Failure>>,
}

/// A job off the queue: a request to answer in a round, or an update.
enum Taken {
    Ask(Job),
    Update(Update),
}

impl From<Job> for Taken {
    fn from(job: Job) -> Self {
        match job.task {
            Task::AddItem(item) => Taken::Update(Update {
                item,
                reply: job.reply,
            }),
            task => Taken::Ask(Job { task, ..job }),
        }
    }
}

/// How often an idle inference thread looks at its stop flag.
const IDLE_CHECK: Duration = Duration::from_millis(50);

/// Answers the jobs of `jobs` in batches until every sender is gone, or
/// `stop` is set while the queue is empty (`None`), or an item update
/// arrives: the batch gathered before it is answered, and the update is
/// returned for the caller to apply before anything after it is answered.
pub fn serve_queue<B: Backend>(
    recommender: &Recommender<'_, '_, B>,
    jobs: &Receiver<Job>,
    batching: Batching,
    metrics: &Metrics,
    stop: &AtomicBool,
) -> Option<Update> {
    loop {
        let first = loop {
            match jobs.recv_timeout(IDLE_CHECK) {
                Ok(job) => {
                    metrics.dequeued();
                    match Taken::from(job) {
                        Taken::Update(update) => return Some(update),
                        Taken::Ask(job) => break Pending::new(recommender, job),
                    }
                }
                Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::SeqCst) => {}
                Err(_) => return None,
            }
        };
        let deadline = Instant::now() + batching.wait;
        let mut round = vec![first];
        let mut update = None;
        while round.len() < batching.max_gather {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let Ok(job) = jobs.recv_timeout(left) else {
                break;
            };
            metrics.dequeued();
            match Taken::from(job) {
                Taken::Update(taken) => {
                    update = Some(taken);
                    break;
                }
                Taken::Ask(job) => round.push(Pending::new(recommender, job)),
            }
        }
        let answered = std::panic::catch_unwind(AssertUnwindSafe(|| {
            answer_round(recommender, round, batching, metrics);
        }));
        if answered.is_err() {
            tracing::error!("a batch panicked; its requests get 500 and serving goes on");
        }
        if update.is_some() {
            return update;
        }
    }
}

/// What one decoder call answers: retrievals of one K, rankings, or
/// ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Retrieval(usize),
    Ranking,
    Rating,
}

/// Answers a gathered round: its requests grouped by [`Kind`], each group
/// sorted by prompt length and decoded in batches (see
/// [`decode_batches`]); requests whose client has gone are dropped just
/// before their batch.
fn answer_round<B: Backend>(
    recommender: &Recommender<'_, '_, B>,
    round: Vec<Pending>,
    batching: Batching,
    metrics: &Metrics,
) {
    let mut groups: BTreeMap<Kind, Vec<Pending>> = BTreeMap::new();
    for pending in round {
        let kind = match pending.job.task {
            Task::Recommend { k, .. } => Kind::Retrieval(k),
            Task::Rank { .. } => Kind::Ranking,
            Task::Rate { .. } => Kind::Rating,
            Task::AddItem(_) => {
                let failure = Failure::Internal("an item update reached a batch".into());
                let _ = pending.job.reply.send(Err(failure));
                continue;
            }
        };
        groups.entry(kind).or_default().push(pending);
    }
    for (kind, group) in groups {
        for batch in decode_batches(group, batching) {
            let live: Vec<Pending> = batch
                .into_iter()
                .filter(|p| {
                    let gone = p.job.reply.is_closed();
                    if gone {
                        metrics.abandoned();
                    }
                    !gone
                })
                .collect();
            if live.is_empty() {
                continue;
            }
            metrics.record_batch(live.len());
            answer_group(live, |jobs| answer_kind(recommender, kind, jobs));
        }
    }
}

/// Splits `group` into the batches decoded together: sorted by prompt
/// length, so each batch pads to a prompt close to its own, at most
/// [`Batching::max_batch`] requests, and at most [`Batching::max_tokens`]
/// once padded (requests × longest prompt; a longer request goes alone).
fn decode_batches(mut group: Vec<Pending>, batching: Batching) -> Vec<Vec<Pending>> {
    group.sort_by_key(|p| p.tokens);
    let mut batches = Vec::new();
    let mut batch: Vec<Pending> = Vec::new();
    for pending in group {
        // Sorted: the newcomer is the batch's longest prompt.
        let padded = (batch.len() + 1) * pending.tokens.max(1);
        if !batch.is_empty() && (batch.len() == batching.max_batch || padded > batching.max_tokens)
        {
            batches.push(std::mem::take(&mut batch));
        }
        batch.push(pending);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

/// One decoder call for `jobs`, all of `kind`.
fn answer_kind<B: Backend>(
    recommender: &Recommender<'_, '_, B>,
    kind: Kind,
    jobs: &[Pending],
) -> recalign_recommend::Result<Vec<Answer>> {
    match kind {
        Kind::Retrieval(k) => {
            let histories: Vec<History<'_>> = jobs.iter().map(Pending::history).collect();
            let excluded: Vec<Vec<ItemIdx>> = jobs.iter().map(excluded).collect();
            let lists = recommender.retrieve(&histories, k, &excluded)?;
            Ok(lists.into_iter().map(Answer::Items).collect())
        }
        Kind::Ranking => {
            let requests: Vec<(History<'_>, &[ItemIdx])> = jobs
                .iter()
                .map(|p| match &p.job.task {
                    Task::Rank { candidates } => (p.history(), candidates.as_slice()),
                    _ => (p.history(), &[][..]),
                })
                .collect();
            let scores = recommender.rank(&requests)?;
            Ok(scores.into_iter().map(Answer::Scores).collect())
        }
        Kind::Rating => {
            let requests: Vec<(History<'_>, ItemIdx)> = jobs
                .iter()
                .map(|p| match p.job.task {
                    Task::Rate { item } => (p.history(), item),
                    _ => (p.history(), ItemIdx(u32::MAX)),
                })
                .collect();
            let ratings = recommender.rate(&requests)?;
            Ok(ratings.into_iter().map(Answer::Rating).collect())
        }
    }
}

/// The items a retrieval leaves out: its history's, when asked.
fn excluded(pending: &Pending) -> Vec<ItemIdx> {
    match pending.job.task {
        Task::Recommend {
            exclude_history: true,
            ..
        } => {
            let mut items = pending.job.history.clone();
            items.sort_unstable();
            items.dedup();
            items
        }
        _ => Vec::new(),
    }
}

/// Answers `group` with one call, or, if the call fails, each job alone.
fn answer_group(
    group: Vec<Pending>,
    call: impl Fn(&[Pending]) -> recalign_recommend::Result<Vec<Answer>>,
) {
    if group.is_empty() {
        return;
    }
    // One answer per job, or why there is none.
    let answer = |jobs: &[Pending]| match call(jobs) {
        Ok(answers) if answers.len() == jobs.len() => Ok(answers),
        Ok(_) => Err(Failure::Internal("one answer per request expected".into())),
        Err(error) => Err(Failure::from(error)),
    };
    match answer(&group) {
        Ok(answers) => {
            for (pending, answer) in group.into_iter().zip(answers) {
                let _ = pending.job.reply.send(Ok(answer));
            }
        }
        Err(_) if group.len() > 1 => {
            for pending in group {
                let alone = answer(std::slice::from_ref(&pending)).map(|mut a| a.remove(0));
                let _ = pending.job.reply.send(alone);
            }
        }
        Err(failure) => {
            for pending in group {
                let _ = pending.job.reply.send(Err(failure.clone()));
            }
        }
    }
}

/// The inference thread's work: load the model, warm it up, say through
/// `loaded` whether it predicts ratings (or why it cannot start), then
/// answer the queue until it closes or `stop` is set.
///
/// An item update is applied between batches: the catalogue is copied with
/// the item appended, published on `shelf`, and the recommender rebuilt
/// over it (the model and tokenizer kept), so every request is answered
/// wholly before or wholly after it.
pub(crate) struct Worker {
    pub shelf: Shelf,
    pub samples: SamplesConfig,
    pub model: PathBuf,
    pub settings: Settings,
    pub jobs: Receiver<Job>,
    pub batching: Batching,
    pub metrics: Arc<Metrics>,
    pub ready: Arc<AtomicBool>,
    pub stop: Arc<AtomicBool>,
    pub loaded: std::sync::mpsc::Sender<Result<bool, String>>,
}

/// An added item whose request is answered once the rebuilt recommender
/// can retrieve it.
type Confirmation = (oneshot::Sender<Result<Answer, Failure>>, ItemIdx);

impl InferenceJob for Worker {
    type Output = ();
    type Error = Error;

    fn run<B: Backend>(self, device: B::Device) -> Result<(), Error> {
        let ready = self.ready.clone();
        let outcome = self.serve::<B>(device);
        ready.store(false, Ordering::SeqCst);
        outcome
    }
}

impl Worker {
    fn serve<B: Backend>(self, device: B::Device) -> Result<(), Error> {
        let fail = |error: Error| {
            let _ = self.loaded.send(Err(error.to_string()));
            error
        };
        let mut dataset = self.shelf.load();
        let mut parts: Option<ModelParts<B>> = None;
        let mut confirmation: Option<Confirmation> = None;
        loop {
            let generator =
                Generator::new(&dataset, self.samples.clone()).map_err(|e| fail(e.into()))?;
            let recommender = match parts.take() {
                Some(parts) => Recommender::new(
                    parts.model,
                    parts.tokenizer,
                    parts.tokenizer_path,
                    &generator,
                    self.settings.clone(),
                    &device,
                )?,
                None => {
                    let recommender = Recommender::<B>::load(
                        &self.model,
                        &generator,
                        self.settings.clone(),
                        &device,
                    )
                    .map_err(|e| fail(e.into()))?;
                    warm_up(&recommender).map_err(|e| fail(e.into()))?;
                    self.ready.store(true, Ordering::SeqCst);
                    let rates = generator
                        .tasks(Split::Train)
                        .any(|t| t == SampleTask::Rating);
                    let _ = self.loaded.send(Ok(rates));
                    tracing::info!(items = dataset.num_items(), "model loaded and warmed up");
                    recommender
                }
            };
            if let Some((reply, item)) = confirmation.take() {
                let _ = reply.send(Ok(Answer::Added(item)));
            }
            // Serve until an update can be applied (a refused one is
            // answered here and serving goes on).
            let (next, item, reply) = loop {
                let Some(update) = serve_queue(
                    &recommender,
                    &self.jobs,
                    self.batching,
                    &self.metrics,
                    &self.stop,
                ) else {
                    return Ok(());
                };
                match with_item(&recommender, &dataset, &self.samples, update.item) {
                    Ok((next, item)) => break (next, item, update.reply),
                    Err(failure) => {
                        let _ = update.reply.send(Err(failure));
                    }
                }
            };
            parts = Some(recommender.into_parts());
            drop(generator);
            dataset = Arc::new(next);
            self.shelf.publish(dataset.clone());
            self.metrics.item_added();
            let added = dataset.item(item);
            tracing::info!(
                item = added.raw_id.as_str(),
                identifier = added.identifier.as_str(),
                items = dataset.num_items(),
                "item added"
            );
            confirmation = Some((reply, item));
        }
    }
}

/// One retrieval, so the first request does not pay for first-use costs.
fn warm_up<B: Backend>(recommender: &Recommender<'_, '_, B>) -> recalign_recommend::Result<()> {
    let warm = [Event::new(ItemIdx(0), None, None)];
    let history = History {
        user: None,
        events: &warm,
    };
    recommender.retrieve(&[history], 1, &[]).map(|_| ())
}

/// The catalogue of `dataset` with `new` appended, checked against the
/// model: its identifier must fit the scheme, and its answer must be one
/// the model can write and tell apart from every other.
fn with_item<B: Backend>(
    recommender: &Recommender<'_, '_, B>,
    dataset: &Dataset,
    samples: &SamplesConfig,
    new: NewItem,
) -> Result<(Dataset, ItemIdx), Failure> {
    let mut next = dataset.clone();
    let raw_id = new.raw_id.clone();
    let item = next
        .add_item(new)
        .map_err(|e| Failure::Request(e.to_string()))?;
    let generator =
        Generator::new(&next, samples.clone()).map_err(|e| Failure::Internal(e.to_string()))?;
    recommender.new_item_answer(&raw_id, &generator.item_answer(item))?;
    drop(generator);
    Ok((next, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(tokens: usize) -> Pending {
        let (reply, _) = oneshot::channel();
        Pending {
            job: Job {
                history: Vec::new(),
                task: Task::Recommend {
                    k: 1,
                    exclude_history: false,
                },
                reply,
            },
            events: Vec::new(),
            tokens,
        }
    }

    fn lengths(batches: &[Vec<Pending>]) -> Vec<Vec<usize>> {
        batches
            .iter()
            .map(|b| b.iter().map(|p| p.tokens).collect())
            .collect()
    }

    #[test]
    fn rounds_are_decoded_in_batches_of_like_length_within_both_caps() {
        let batching = Batching {
            wait: Duration::ZERO,
            max_gather: 32,
            max_batch: 3,
            max_tokens: 400,
        };
        let group: Vec<Pending> = [90, 10, 300, 12, 95, 11, 500, 100]
            .into_iter()
            .map(pending)
            .collect();
        // Sorted; three at most; 3 × 100 = 300 fits, 2 × 300 = 600 does
        // not, and 500 alone is over the budget but goes alone.
        assert_eq!(
            lengths(&decode_batches(group, batching)),
            [vec![10, 11, 12], vec![90, 95, 100], vec![300], vec![500]]
        );
        assert!(decode_batches(Vec::new(), batching).is_empty());
    }
}
