//! The service's settings: how requests are batched, how many may wait,
//! how long each may take, and how large each may be. Every setting is
//! checked before the service starts, and a bad one is named.

use std::time::Duration;

use crate::error::{Error, Result};

/// How the service batches, queues and bounds requests.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// How long the inference thread gathers requests after the first one
    /// before it decodes them together.
    pub batch_wait: Duration,
    /// The most requests taken from the queue in one round; a round is
    /// sorted by prompt length and decoded in batches.
    pub max_gather: usize,
    /// The most requests decoded together.
    pub max_batch: usize,
    /// The most prompt tokens decoded together, counted padded (requests ×
    /// longest prompt; a request larger than this is decoded alone).
    pub max_batch_tokens: usize,
    /// Requests that may wait for the inference thread; past it, the answer
    /// is 429 with `Retry-After`.
    pub queue: usize,
    /// The longest a request may wait for its answer, queue included (503
    /// past it).
    pub request_timeout: Duration,
    /// The longest a client may take to send its body (408 past it).
    pub body_timeout: Duration,
    /// Sizes of requests.
    pub limits: Limits,
    /// The bearer key every route but `/healthz` requires, if any.
    pub api_key: Option<String>,
    /// Whether `POST /v1/items` may add items to the catalogue (cold
    /// start); off by default, since it changes what every client sees.
    pub allow_item_updates: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            batch_wait: Duration::from_millis(5),
            max_gather: 32,
            max_batch: 8,
            max_batch_tokens: 16_384,
            queue: 256,
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            api_key: None,
            allow_item_updates: false,
        }
    }
}

/// Sizes of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Request body, in bytes (413 past it).
    pub max_body_bytes: usize,
    /// Items in a history.
    pub max_history: usize,
    /// K of `/v1/recommend`.
    pub max_k: usize,
    /// Candidates of `/v1/rank`.
    pub max_candidates: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_history: 200,
            max_k: 100,
            max_candidates: 200,
        }
    }
}

impl ServeConfig {
    /// Refuses settings the service cannot run with, naming the setting.
    pub fn validate(&self) -> Result<()> {
        let positive = |name: &str, value: usize| {
            if value == 0 {
                Err(Error::Config(format!("{name} must be at least 1")))
            } else {
                Ok(())
            }
        };
        positive("max_gather", self.max_gather)?;
        positive("max_batch", self.max_batch)?;
        positive("max_batch_tokens", self.max_batch_tokens)?;
        positive("queue", self.queue)?;
        positive("limits.max_body_bytes", self.limits.max_body_bytes)?;
        positive("limits.max_history", self.limits.max_history)?;
        positive("limits.max_k", self.limits.max_k)?;
        positive("limits.max_candidates", self.limits.max_candidates)?;
        for (name, value) in [
            ("request_timeout", self.request_timeout),
            ("body_timeout", self.body_timeout),
        ] {
            if value.is_zero() {
                return Err(Error::Config(format!("{name} must be longer than 0")));
            }
        }
        if self.api_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(Error::Config("api_key is empty".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        assert!(ServeConfig::default().validate().is_ok());
        let mut config = ServeConfig {
            queue: 0,
            ..ServeConfig::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("queue"), "{message}");
        config.queue = 1;
        config.limits.max_k = 0;
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("limits.max_k"), "{message}");
        config.limits.max_k = 1;
        config.body_timeout = Duration::ZERO;
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("body_timeout"), "{message}");
    }
}
