//! The JSON of the API: requests, answers, and errors that name the field
//! at fault. Bodies are read under a size limit and a deadline, then parsed
//! with the path of the first bad value (`history[2]`), so a client learns
//! what to fix.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// K when a request gives none.
pub const DEFAULT_K: usize = 10;

/// `POST /v1/recommend`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendRequest {
    /// Item ids, oldest first.
    pub history: Vec<String>,
    /// How many items to return.
    #[serde(default = "default_k")]
    pub k: usize,
    /// Leave the history's items out of the answer.
    #[serde(default)]
    pub exclude_history: bool,
}

fn default_k() -> usize {
    DEFAULT_K
}

/// `POST /v1/rank`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RankRequest {
    /// Item ids, oldest first.
    pub history: Vec<String>,
    /// Distinct item ids to order.
    pub candidates: Vec<String>,
}

/// `POST /v1/rate`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    /// Item ids, oldest first.
    pub history: Vec<String>,
    /// The item to rate.
    pub item: String,
}

/// `POST /v1/items`: an item to add to the catalogue (cold start).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AddItemRequest {
    /// Its id, new to the catalogue.
    pub id: String,
    /// Its title (what prompts show of it).
    #[serde(default)]
    pub title: Option<String>,
    /// Its brand.
    #[serde(default)]
    pub brand: Option<String>,
    /// Its category paths, most general first.
    #[serde(default)]
    pub categories: Vec<Vec<String>>,
    /// The identifier the model should write for it; by default the next
    /// number (digit identifiers) or `like`'s code levels (semantic).
    #[serde(default)]
    pub identifier: Option<String>,
    /// For semantic identifiers: an existing item whose code levels it
    /// shares.
    #[serde(default)]
    pub like: Option<String>,
}

/// One item of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    /// Its id.
    pub id: String,
    /// Its title, where known.
    pub title: Option<String>,
    /// The model's log-probability of it.
    pub score: f32,
}

/// The answer of `/v1/recommend` and `/v1/rank`: items, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemsResponse {
    /// Best first.
    pub items: Vec<ScoredItem>,
}

/// One rating and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatingProbability {
    /// 1 … 5.
    pub rating: f32,
    /// Its probability under the model.
    pub probability: f32,
}

/// The answer of `/v1/rate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateResponse {
    /// The rated item.
    pub item: String,
    /// The expected rating.
    pub expected: f32,
    /// The most probable rating.
    pub most_likely: f32,
    /// The distribution over 1 … 5.
    pub distribution: Vec<RatingProbability>,
}

/// An error answer: `{"error": {"code", "message", "field"?, "request_id"?}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable code (`unknown_item`, `bad_json`, …).
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, as a path (`history[2]`).
    pub field: Option<String>,
    /// Seconds to wait before retrying (429 and 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error of `status` without a field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 422: a well-formed request the model cannot answer, at `field`.
    pub fn unprocessable(code: &'static str, message: impl Into<String>, field: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).at(field)
    }

    /// The same error, at `field`.
    pub fn at(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// The same error, with `Retry-After: seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorFields {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Reads `body` within `limit` bytes and `deadline`, then parses it as `T`:
/// 413 past the limit, 408 past the deadline, 400 for JSON that is
/// malformed, too deeply nested, or of the wrong shape (naming the field).
pub async fn read_json<T: DeserializeOwned>(
    body: Body,
    limit: usize,
    deadline: Duration,
) -> Result<T, ApiError> {
    let bytes = tokio::time::timeout(deadline, read_limited(body, limit))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    deadline.as_secs_f64()
                ),
            )
        })??;
    parse_json(&bytes)
}

async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    use axum::body::HttpBody;
    let mut body = body;
    let mut bytes = Vec::new();
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(bytes),
            Some(Err(e)) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_body",
                    format!("the request body could not be read: {e}"),
                ));
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if bytes.len() + data.len() > limit {
                        return Err(ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "body_too_large",
                            format!("the request body is larger than {limit} bytes"),
                        ));
                    }
                    bytes.extend_from_slice(&data);
                }
            }
        }
    }
}

/// Parses `bytes` as `T`, naming the path of the first bad value.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let code = match inner.classify() {
            serde_json::error::Category::Data => "bad_field",
            _ => "bad_json",
        };
        let message = inner.to_string();
        // serde reports a missing field at its parent: name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(|name| match path.as_str() {
                "." => name.to_owned(),
                parent => format!("{parent}.{name}"),
            });
        let error = ApiError::new(StatusCode::BAD_REQUEST, code, message);
        match missing {
            Some(field) => error.at(&field),
            None if path == "." => error,
            None => error.at(&path),
        }
    })?;
    deserializer.end().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("trailing characters after the JSON value: {e}"),
        )
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_field() {
        let e = parse_json::<RecommendRequest>(br#"{"history": ["a", 3]}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code, "bad_field");
        assert_eq!(e.field.as_deref(), Some("history[1]"));

        let e = parse_json::<RecommendRequest>(br#"{"history": ["a"], "k": -1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("k"));

        let e = parse_json::<RecommendRequest>(br#"{"k": 3}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("history"), "{}", e.message);

        let e = parse_json::<RecommendRequest>(br#"{"history": ["a"], "kk": 3}"#).unwrap_err();
        assert!(e.message.contains("kk"), "{}", e.message);

        let e = parse_json::<RecommendRequest>(br#"{"history": ["a"]"#).unwrap_err();
        assert_eq!(e.code, "bad_json");

        let e = parse_json::<RecommendRequest>(br#"{"history": ["a"]} x"#).unwrap_err();
        assert_eq!(e.code, "bad_json");

        let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = parse_json::<RecommendRequest>(nested.as_bytes()).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);

        let ok = parse_json::<RecommendRequest>(br#"{"history": ["a"]}"#).unwrap();
        assert_eq!(ok.k, DEFAULT_K);
        assert!(!ok.exclude_history);
    }
}
