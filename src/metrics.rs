//! The daemon's Prometheus series, kept in a `prometheus-client` registry: the pipeline
//! counts into them as it works, the `http` module sets the gauges read from the database at
//! scrape time and encodes the registry on `GET /metrics`.
//!
//! The crate's encoder writes the OpenMetrics text format (which Prometheus and `promtool`
//! read), so names, escaping and the `_total`/`_bucket` suffixes are right by construction
//! rather than by hand-written `format!` lines.

use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds (seconds) of the processing-time histogram.
const BUCKETS_S: [f64; 9] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0];

/// One label pair, e.g. `outcome="accepted"`.
type Label = [(&'static str, &'static str); 1];

pub struct Metrics {
    registry: Registry,
    pub files_seen: Counter,
    pub accepted: Counter,
    pub rejected: Counter,
    pub unreadable: Counter,
    pub duplicates: Counter,
    pub emails_sent: Counter,
    pub emails_failed: Counter,
    check_seconds: Histogram,
    /// Set from the database at scrape time (see the `http` module).
    pub outbox_depth: Gauge,
    pub outbox_oldest_age: Gauge,
    /// Set by the inbox's look-out (see `ingest::upkeep`): files left in the inbox longer
    /// than `stuck_after_s`, and how long the oldest file there has waited.
    pub inbox_waiting: Gauge,
    pub inbox_oldest_age: Gauge,
    /// Unix seconds of the last transaction that stored a file or its outcome.
    last_commit: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let files = Family::<Label, Counter>::default();
        registry.register(
            "nianbao_files",
            "Files taken from the inbox, by outcome",
            files.clone(),
        );
        let emails = Family::<Label, Counter>::default();
        registry.register(
            "nianbao_emails",
            "Messages delivered or given up on",
            emails.clone(),
        );
        let files_seen = Counter::default();
        registry.register(
            "nianbao_files_seen",
            "Files archived from the inbox",
            files_seen.clone(),
        );
        let check_seconds = Histogram::new(BUCKETS_S);
        registry.register(
            "nianbao_check_seconds",
            "Time to read and check one file",
            check_seconds.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "nianbao_outbox_depth",
            "Messages waiting to be delivered",
            outbox_depth.clone(),
        );
        let outbox_oldest_age = Gauge::default();
        registry.register(
            "nianbao_outbox_oldest_age_seconds",
            "How long the oldest message waiting to be delivered has waited (0: none waits)",
            outbox_oldest_age.clone(),
        );
        let inbox_waiting = Gauge::default();
        registry.register(
            "nianbao_inbox_waiting_files",
            "Files left in the inbox unanswered for longer than stuck_after_s (e.g. unreadable)",
            inbox_waiting.clone(),
        );
        let inbox_oldest_age = Gauge::default();
        registry.register(
            "nianbao_inbox_oldest_waiting_age_seconds",
            "How long the oldest file in the inbox has waited there (0: the inbox is empty)",
            inbox_oldest_age.clone(),
        );
        let last_commit = Gauge::default();
        registry.register(
            "nianbao_last_commit_timestamp_seconds",
            "Unix time of the last stored file or outcome (0: none since the start)",
            last_commit.clone(),
        );
        let counter = |family: &Family<Label, Counter>, key, value| {
            family.get_or_create(&[(key, value)]).clone()
        };
        Metrics {
            accepted: counter(&files, "outcome", "accepted"),
            rejected: counter(&files, "outcome", "rejected"),
            unreadable: counter(&files, "outcome", "unreadable"),
            duplicates: counter(&files, "outcome", "duplicate"),
            emails_sent: counter(&emails, "result", "sent"),
            emails_failed: counter(&emails, "result", "failed"),
            registry,
            files_seen,
            check_seconds,
            outbox_depth,
            outbox_oldest_age,
            inbox_waiting,
            inbox_oldest_age,
            last_commit,
        }
    }
}

impl Metrics {
    /// Records how long reading and checking one file took.
    pub fn observe_ms(&self, ms: u64) {
        self.check_seconds.observe(ms as f64 / 1000.0);
    }

    /// Notes that a transaction storing a file or its outcome committed just now.
    pub fn committed(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.last_commit.set(i64::try_from(now).unwrap_or(i64::MAX));
    }

    /// The exposition text in the OpenMetrics format, as last set.
    pub fn render_openmetrics(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an encoder error would be a bug of ours, and
        // a scrape then gets what was written so far rather than a panic.
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }

    /// The exposition text in Prometheus' classic text format (0.0.4), for clients that do
    /// not ask for OpenMetrics (`promtool`, `curl`): see `openmetrics_to_text`.
    pub fn render_text(&self) -> String {
        openmetrics_to_text(&self.render_openmetrics())
    }
}

/// The classic text format from the OpenMetrics text that `prometheus-client` writes (it
/// writes only that). For the series kept here the two differ in three points: a counter
/// family is named with its `_total` suffix in `# HELP`/`# TYPE` (a text-format parser
/// takes `nianbao_files_total` for another, untyped family otherwise), and there is no
/// `# UNIT` or `# EOF` line. Samples are the same.
fn openmetrics_to_text(om: &str) -> String {
    let counters: std::collections::HashSet<&str> = om
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(om.len() + 16 * counters.len());
    for line in om.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|kind| {
            let rest = line.strip_prefix(kind)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{kind}{name}_total {tail}"))
        });
        match renamed {
            Some(line) => out.push_str(&line),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_under_their_labels() {
        let m = Metrics::default();
        m.accepted.inc();
        m.accepted.inc();
        m.emails_failed.inc();
        m.observe_ms(3);
        m.outbox_depth.set(4);
        let page = m.render_openmetrics();
        for line in [
            "nianbao_files_total{outcome=\"accepted\"} 2",
            "nianbao_files_total{outcome=\"duplicate\"} 0",
            "nianbao_emails_total{result=\"failed\"} 1",
            "nianbao_check_seconds_bucket{le=\"0.005\"} 1",
            "nianbao_check_seconds_bucket{le=\"0.001\"} 0",
            "nianbao_check_seconds_count 1",
            "nianbao_outbox_depth 4",
            "nianbao_last_commit_timestamp_seconds 0",
        ] {
            assert!(page.lines().any(|l| l == line), "{line} in\n{page}");
        }
        assert!(page.contains("# TYPE nianbao_files counter\n"), "{page}");
        assert!(page.ends_with("# EOF\n"), "{page}");
        let text = m.render_text();
        assert!(
            text.contains("# TYPE nianbao_files_total counter\n"),
            "{text}"
        );
        assert!(text.contains("# HELP nianbao_files_total "), "{text}");
        assert!(
            text.contains("# TYPE nianbao_check_seconds histogram\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
        assert_eq!(
            page.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>(),
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>(),
        );
        m.committed();
        assert!(
            !m.render_openmetrics()
                .contains("nianbao_last_commit_timestamp_seconds 0\n"),
        );
    }
}
