//! The HTTP routes: [`app`] builds the router from an [`AppState`], so
//! tests call it without a socket.
//!
//! Every request gets an id (the `x-request-id` header of its answer, and
//! the `request_id` of its log line), is counted by route and status in
//! `/metrics`, and, when the service has an API key, must carry it as
//! `Authorization: Bearer …` (all routes but `/healthz`). Keys are compared
//! in constant time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use recalign_data::source::ItemMetadata;
use recalign_data::{ItemIdx, NewItem};
use serde::de::DeserializeOwned;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::api::{
    AddItemRequest, ApiError, ItemsResponse, RankRequest, RateRequest, RateResponse,
    RatingProbability, RecommendRequest, ScoredItem, read_json,
};
use crate::catalogue::{Catalogue, View};
use crate::config::ServeConfig;
use crate::metrics::Metrics;
use crate::worker::{Answer, Failure, Job, Queue, Refused, Task};

/// What the handlers share: the queue to the inference thread, the
/// catalogue, the settings and the metrics.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    queue: Queue,
    catalogue: Catalogue,
    config: ServeConfig,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    next_id: AtomicU64,
}

impl AppState {
    /// The state of a service whose inference thread reads `queue` and
    /// sets `ready` once it can answer.
    pub fn new(
        queue: Queue,
        catalogue: Catalogue,
        config: ServeConfig,
        metrics: Arc<Metrics>,
        ready: Arc<AtomicBool>,
    ) -> Self {
        Self {
            inner: Arc::new(Shared {
                queue,
                catalogue,
                config,
                metrics,
                ready,
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    async fn read<T: DeserializeOwned>(&self, body: Body) -> Result<T, ApiError> {
        let config = &self.inner.config;
        read_json(body, config.limits.max_body_bytes, config.body_timeout).await
    }

    /// The history's items, checked against the limits and the catalogue.
    fn history(&self, view: &View, ids: &[String]) -> Result<Vec<ItemIdx>, ApiError> {
        let max = self.inner.config.limits.max_history;
        if ids.is_empty() {
            return Err(ApiError::unprocessable(
                "empty_history",
                "the history is empty: give at least one item id",
                "history",
            ));
        }
        if ids.len() > max {
            return Err(ApiError::unprocessable(
                "history_too_long",
                format!("the history has {} items; the limit is {max}", ids.len()),
                "history",
            ));
        }
        ids.iter()
            .enumerate()
            .map(|(i, id)| view.resolve(id, &format!("history[{i}]")))
            .collect()
    }

    /// Queues a job and waits for its answer; a request the model cannot
    /// answer is a 422 with `code`.
    async fn ask(
        &self,
        id: RequestId,
        history: Vec<ItemIdx>,
        task: Task,
        code: &'static str,
    ) -> Result<Answer, ApiError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            history,
            task,
            reply,
        };
        match self.inner.queue.submit(job) {
            Ok(()) => {}
            Err(Refused::Full) => {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "overloaded",
                    "the request queue is full; retry shortly",
                )
                .retry_after(1));
            }
            Err(Refused::Stopped) => {
                tracing::error!(request_id = id.0, "the inference thread has stopped");
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the model is not serving",
                )
                .retry_after(5));
            }
        }
        let timeout = self.inner.config.request_timeout;
        match tokio::time::timeout(timeout, answer).await {
            Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!("no answer within {} s; retry later", timeout.as_secs_f64()),
            )
            .retry_after(1)),
            Ok(Err(_)) => Err(internal(id, "the inference thread dropped the request")),
            Ok(Ok(Err(Failure::Request(message)))) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                message,
            )),
            Ok(Ok(Err(Failure::Internal(message)))) => Err(internal(id, &message)),
            Ok(Ok(Ok(answer))) => Ok(answer),
        }
    }
}

/// An answered item with its id and title. `view` must be taken after the
/// answer: it may name an item added since the request was read.
fn scored(view: &View, item: ItemIdx, score: f32) -> ScoredItem {
    let info = view.item(item);
    ScoredItem {
        id: info.id.to_owned(),
        title: info.title.map(str::to_owned),
        score,
    }
}

/// A request's id, for its answer's `x-request-id` and its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(pub u64);

/// A 500 that tells the client only the request id, and logs the cause.
fn internal(id: RequestId, cause: &str) -> ApiError {
    tracing::error!(request_id = id.0, cause, "internal error");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("internal error (request {})", id.0),
    )
}

/// The service's routes on `state`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/v1/recommend", post(recommend))
        .route("/v1/rank", post(rank))
        .route("/v1/rate", post(rate))
        .route("/v1/items", post(add_item))
        .route("/v1/items/{id}", get(item))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// The route a path is counted under (a bounded set, whatever clients send).
fn route_label(path: &str) -> &'static str {
    match path {
        "/v1/recommend" => "/v1/recommend",
        "/v1/rank" => "/v1/rank",
        "/v1/rate" => "/v1/rate",
        "/v1/items" => "/v1/items",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        p if p.starts_with("/v1/items/") => "/v1/items/{id}",
        _ => "other",
    }
}

/// Gives the request an id, then counts and logs its answer.
async fn track(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = RequestId(state.inner.next_id.fetch_add(1, Ordering::Relaxed));
    request.extensions_mut().insert(id);
    let route = route_label(request.uri().path());
    let method = request.method().clone();
    let start = Instant::now();
    let mut response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    state.metrics().record_request(route, status, elapsed);
    response
        .headers_mut()
        .insert("x-request-id", HeaderValue::from(id.0));
    tracing::info!(
        request_id = id.0,
        %method,
        route,
        status,
        elapsed_ms = elapsed.as_secs_f64() * 1e3,
        "request"
    );
    response
}

/// Requires the API key, if the service has one, on all routes but
/// `/healthz`.
async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(key) = &state.inner.config.api_key
        && request.uri().path() != "/healthz"
    {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let matches: bool = given.as_bytes().ct_eq(key.as_bytes()).into();
        if !matches {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid `Authorization: Bearer <key>` header is required",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(request).await
}

async fn recommend(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    body: Body,
) -> Result<Json<ItemsResponse>, ApiError> {
    let request: RecommendRequest = state.read(body).await?;
    let view = state.catalogue().view();
    let history = state.history(&view, &request.history)?;
    let max_k = state.inner.config.limits.max_k.min(view.len());
    if request.k == 0 || request.k > max_k {
        return Err(ApiError::unprocessable(
            "bad_k",
            format!("k = {}: it must be between 1 and {max_k}", request.k),
            "k",
        ));
    }
    let task = Task::Recommend {
        k: request.k,
        exclude_history: request.exclude_history,
    };
    match state.ask(id, history, task, "unanswerable").await? {
        Answer::Items(found) => {
            let view = state.catalogue().view();
            Ok(Json(ItemsResponse {
                items: found
                    .iter()
                    .map(|r| scored(&view, r.item, r.score))
                    .collect(),
            }))
        }
        _ => Err(internal(id, "retrieval answered with another kind")),
    }
}

async fn rank(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    body: Body,
) -> Result<Json<ItemsResponse>, ApiError> {
    let request: RankRequest = state.read(body).await?;
    let view = state.catalogue().view();
    let history = state.history(&view, &request.history)?;
    let max = state.inner.config.limits.max_candidates;
    if request.candidates.is_empty() || request.candidates.len() > max {
        return Err(ApiError::unprocessable(
            "bad_candidates",
            format!(
                "{} candidates: give between 1 and {max}",
                request.candidates.len()
            ),
            "candidates",
        ));
    }
    let mut candidates = Vec::with_capacity(request.candidates.len());
    for (i, raw) in request.candidates.iter().enumerate() {
        let field = format!("candidates[{i}]");
        let item = view.resolve(raw, &field)?;
        if candidates.contains(&item) {
            return Err(ApiError::unprocessable(
                "repeated_candidate",
                format!("candidate `{raw}` is listed twice"),
                &field,
            ));
        }
        candidates.push(item);
    }
    let task = Task::Rank {
        candidates: candidates.clone(),
    };
    match state.ask(id, history, task, "unanswerable").await? {
        Answer::Scores(scores) if scores.len() == candidates.len() => {
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            Ok(Json(ItemsResponse {
                items: order
                    .into_iter()
                    .map(|i| scored(&view, candidates[i], scores[i]))
                    .collect(),
            }))
        }
        _ => Err(internal(id, "ranking answered with another kind")),
    }
}

async fn rate(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    body: Body,
) -> Result<Json<RateResponse>, ApiError> {
    let request: RateRequest = state.read(body).await?;
    if !state.catalogue().rates() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rating_not_learnt",
            "this model was trained without rating samples (or its dataset has no ratings), \
             so it does not predict ratings",
        ));
    }
    let view = state.catalogue().view();
    let history = state.history(&view, &request.history)?;
    let item = view.resolve(&request.item, "item")?;
    match state
        .ask(id, history, Task::Rate { item }, "unanswerable")
        .await?
    {
        Answer::Rating(prediction) => Ok(Json(RateResponse {
            item: request.item,
            expected: prediction.expected,
            most_likely: prediction.argmax,
            distribution: recalign_recommend::RATINGS
                .iter()
                .zip(prediction.probabilities)
                .map(|(&rating, probability)| RatingProbability {
                    rating,
                    probability,
                })
                .collect(),
        })),
        _ => Err(internal(id, "rating answered with another kind")),
    }
}

async fn item(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let view = state.catalogue().view();
    match view.find(&raw) {
        Some(item) => Json(view.item(item)).into_response(),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_item",
            format!("no item `{raw}` in {}", view.dataset()),
        )
        .at("id")
        .into_response(),
    }
}

/// Adds an item to the catalogue (cold start), when the service allows it:
/// 201 with the item once it can be retrieved.
async fn add_item(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    body: Body,
) -> Result<Response, ApiError> {
    if !state.inner.config.allow_item_updates {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "item_updates_disabled",
            "this service does not add items; start it with --allow-item-updates",
        ));
    }
    let request: AddItemRequest = state.read(body).await?;
    let view = state.catalogue().view();
    let raw_id = request.id.trim().to_owned();
    if raw_id.is_empty() {
        return Err(ApiError::unprocessable(
            "bad_item",
            "the item id is empty",
            "id",
        ));
    }
    if view.find(&raw_id).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "item_exists",
            format!("item `{raw_id}` is already in {}", view.dataset()),
        )
        .at("id"));
    }
    let like = match &request.like {
        Some(like) => Some(view.resolve(like, "like")?),
        None => None,
    };
    let new = NewItem {
        raw_id,
        identifier: request.identifier,
        like,
        meta: ItemMetadata {
            title: request.title,
            brand: request.brand,
            categories: request.categories,
            ..ItemMetadata::default()
        },
    };
    match state
        .ask(id, Vec::new(), Task::AddItem(new), "bad_item")
        .await?
    {
        Answer::Added(item) => {
            let view = state.catalogue().view();
            Ok((StatusCode::CREATED, Json(view.item(item))).into_response())
        }
        _ => Err(internal(id, "an item update answered with another kind")),
    }
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.inner.ready.load(Ordering::SeqCst) {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "loading" })),
        )
            .into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics().render(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}
