//! Prometheus metrics in the text exposition format: requests by route and
//! status, latency histograms by route, batch sizes, the queue's depth, and
//! the requests turned away or abandoned. Written by hand: a few counters
//! and histograms need no metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Latency bucket bounds, in seconds.
const LATENCY_BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Batch size bucket bounds, in requests.
const BATCH_BOUNDS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// A cumulative histogram over fixed bounds.
#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|&b| value <= b) {
            self.counts[i] += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// The service's metrics, shared by the HTTP side and the inference thread.
#[derive(Debug)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    batches: Mutex<Histogram>,
    queue_depth: AtomicI64,
    queue_peak: AtomicI64,
    abandoned: AtomicU64,
    rejected: AtomicU64,
    items_added: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Mutex::default(),
            latency: Mutex::default(),
            batches: Mutex::new(Histogram::new(&BATCH_BOUNDS)),
            queue_depth: AtomicI64::new(0),
            queue_peak: AtomicI64::new(0),
            abandoned: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            items_added: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts a finished request under `route`, one of a fixed set of
    /// labels (never a client's raw path).
    pub fn record_request(&self, route: &'static str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((route, status)).or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            latency
                .entry(route)
                .or_insert_with(|| Histogram::new(&LATENCY_BOUNDS))
                .observe(elapsed.as_secs_f64());
        }
    }

    /// Counts one decoded batch of `size` requests.
    pub fn record_batch(&self, size: usize) {
        if let Ok(mut batches) = self.batches.lock() {
            batches.observe(size as f64);
        }
    }

    /// One more request waits in the queue (counted once it is in: the
    /// inference thread may take it first, so the count dips below zero
    /// for an instant, and reads clamp it).
    pub fn enqueued(&self) {
        let depth = self.queue_depth.fetch_add(1, Ordering::SeqCst) + 1;
        self.queue_peak.fetch_max(depth, Ordering::SeqCst);
    }

    /// One request left the queue for the inference thread.
    pub fn dequeued(&self) {
        self.queue_depth.fetch_sub(1, Ordering::SeqCst);
    }

    /// Requests waiting now.
    pub fn queue_depth(&self) -> usize {
        self.queue_depth.load(Ordering::SeqCst).max(0) as usize
    }

    /// The most requests that ever waited at once.
    pub fn queue_peak(&self) -> usize {
        self.queue_peak.load(Ordering::SeqCst).max(0) as usize
    }

    /// A request whose client had gone before it was decoded.
    pub fn abandoned(&self) {
        self.abandoned.fetch_add(1, Ordering::SeqCst);
    }

    /// Requests dropped because their client had gone.
    pub fn abandoned_count(&self) -> u64 {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// A request turned away because the queue was full.
    pub fn rejected(&self) {
        self.rejected.fetch_add(1, Ordering::SeqCst);
    }

    /// An item added to the catalogue at run time.
    pub fn item_added(&self) {
        self.items_added.fetch_add(1, Ordering::SeqCst);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP recalign_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE recalign_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "recalign_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
        }
        out.push_str(
            "# HELP recalign_request_duration_seconds Time from request to answer, by route.\n",
        );
        out.push_str("# TYPE recalign_request_duration_seconds histogram\n");
        if let Ok(latency) = self.latency.lock() {
            for (route, histogram) in latency.iter() {
                histogram.render(
                    &mut out,
                    "recalign_request_duration_seconds",
                    &format!("route=\"{route}\""),
                );
            }
        }
        out.push_str("# HELP recalign_batch_size Requests decoded together.\n");
        out.push_str("# TYPE recalign_batch_size histogram\n");
        if let Ok(batches) = self.batches.lock() {
            batches.render(&mut out, "recalign_batch_size", "");
        }
        let gauges = [
            (
                "recalign_queue_depth",
                "gauge",
                "Requests waiting for the inference thread.",
                self.queue_depth() as u64,
            ),
            (
                "recalign_queue_depth_peak",
                "gauge",
                "The most requests that waited at once.",
                self.queue_peak() as u64,
            ),
            (
                "recalign_requests_rejected_total",
                "counter",
                "Requests turned away with 429 because the queue was full.",
                self.rejected.load(Ordering::SeqCst),
            ),
            (
                "recalign_requests_abandoned_total",
                "counter",
                "Requests dropped before decoding because their client had gone.",
                self.abandoned_count(),
            ),
            (
                "recalign_items_added_total",
                "counter",
                "Items added to the catalogue since the service started.",
                self.items_added.load(Ordering::SeqCst),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_histograms_and_counters() {
        let metrics = Metrics::default();
        metrics.record_request("/v1/recommend", 200, Duration::from_millis(3));
        metrics.record_request("/v1/recommend", 200, Duration::from_millis(30));
        metrics.record_request("/v1/recommend", 422, Duration::from_millis(1));
        metrics.record_batch(3);
        metrics.enqueued();
        metrics.enqueued();
        metrics.dequeued();
        let text = metrics.render();
        assert!(text.contains("recalign_requests_total{route=\"/v1/recommend\",status=\"200\"} 2"));
        assert!(text.contains("recalign_requests_total{route=\"/v1/recommend\",status=\"422\"} 1"));
        assert!(text.contains(
            "recalign_request_duration_seconds_bucket{route=\"/v1/recommend\",le=\"0.005\"} 2"
        ));
        assert!(text.contains(
            "recalign_request_duration_seconds_bucket{route=\"/v1/recommend\",le=\"+Inf\"} 3"
        ));
        assert!(text.contains("recalign_batch_size_bucket{le=\"2\"} 0"));
        assert!(text.contains("recalign_batch_size_bucket{le=\"4\"} 1"));
        assert!(text.contains("recalign_queue_depth 1"));
        assert!(text.contains("recalign_queue_depth_peak 2"));
    }
}
