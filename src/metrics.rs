//! Optional Prometheus endpoint (`[metrics] listen = "127.0.0.1:9464"`): counters kept in
//! atomics by the pipeline, served as the text exposition format on `GET /metrics`.
//!
//! A few lines of HTTP over std's `TcpListener` rather than an HTTP stack: the exporter
//! crates bring an async runtime and a TLS stack for one plain-text page scraped on
//! localhost.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (ms) of the processing-time histogram.
const BUCKETS_MS: [u64; 9] = [1, 5, 10, 50, 100, 500, 1000, 5000, 30_000];

#[derive(Default)]
pub struct Metrics {
    pub files_seen: AtomicU64,
    pub accepted: AtomicU64,
    pub rejected: AtomicU64,
    pub unreadable: AtomicU64,
    pub duplicates: AtomicU64,
    pub emails_sent: AtomicU64,
    pub emails_failed: AtomicU64,
    buckets: [AtomicU64; BUCKETS_MS.len()],
    time_count: AtomicU64,
    time_sum_ms: AtomicU64,
}

impl Metrics {
    /// Records how long reading and checking one file took.
    pub fn observe_ms(&self, ms: u64) {
        for (bound, bucket) in BUCKETS_MS.iter().zip(&self.buckets) {
            if ms <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.time_count.fetch_add(1, Ordering::Relaxed);
        self.time_sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// The exposition text; `outbox_depth` is read from the database by the caller.
    pub fn render(&self, outbox_depth: Option<i64>) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        out.push_str("# HELP nianbao_files_total Files taken from the inbox, by outcome.\n");
        out.push_str("# TYPE nianbao_files_total counter\n");
        for (outcome, v) in [
            ("accepted", g(&self.accepted)),
            ("rejected", g(&self.rejected)),
            ("unreadable", g(&self.unreadable)),
            ("duplicate", g(&self.duplicates)),
        ] {
            out.push_str(&format!(
                "nianbao_files_total{{outcome=\"{outcome}\"}} {v}\n"
            ));
        }
        out.push_str("# HELP nianbao_files_seen_total Files archived from the inbox.\n");
        out.push_str("# TYPE nianbao_files_seen_total counter\n");
        out.push_str(&format!(
            "nianbao_files_seen_total {}\n",
            g(&self.files_seen)
        ));
        out.push_str("# HELP nianbao_check_seconds Time to read and check one file.\n");
        out.push_str("# TYPE nianbao_check_seconds histogram\n");
        for (bound, bucket) in BUCKETS_MS.iter().zip(&self.buckets) {
            out.push_str(&format!(
                "nianbao_check_seconds_bucket{{le=\"{}\"}} {}\n",
                *bound as f64 / 1000.0,
                g(bucket)
            ));
        }
        out.push_str(&format!(
            "nianbao_check_seconds_bucket{{le=\"+Inf\"}} {}\n",
            g(&self.time_count)
        ));
        out.push_str(&format!(
            "nianbao_check_seconds_sum {}\n",
            g(&self.time_sum_ms) as f64 / 1000.0
        ));
        out.push_str(&format!(
            "nianbao_check_seconds_count {}\n",
            g(&self.time_count)
        ));
        out.push_str("# HELP nianbao_emails_total Messages delivered or given up on.\n");
        out.push_str("# TYPE nianbao_emails_total counter\n");
        out.push_str(&format!(
            "nianbao_emails_total{{result=\"sent\"}} {}\n",
            g(&self.emails_sent)
        ));
        out.push_str(&format!(
            "nianbao_emails_total{{result=\"failed\"}} {}\n",
            g(&self.emails_failed)
        ));
        if let Some(depth) = outbox_depth {
            out.push_str("# HELP nianbao_outbox_depth Messages waiting to be delivered.\n");
            out.push_str("# TYPE nianbao_outbox_depth gauge\n");
            out.push_str(&format!("nianbao_outbox_depth {depth}\n"));
        }
        out
    }
}

/// Serves `GET /metrics` on `listen` until `stop`; `page` renders the current text.
pub fn serve(
    listen: &str,
    stop: Arc<AtomicBool>,
    page: impl Fn() -> String + Send + 'static,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let listener = TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("[metrics] listen = {listen:?}: {e}"))?;
    listener.set_nonblocking(true)?;
    tracing::info!(listen, "metrics at /metrics");
    Ok(std::thread::Builder::new().name("metrics".into()).spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                Err(_) => continue,
            };
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Drain the headers (bounded) so the client sees a clean response.
            let mut line = String::new();
            for _ in 0..100 {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" || line == "\n" => break,
                    Ok(_) => {}
                }
            }
            let (status, body) = if request.starts_with("GET /metrics") {
                ("200 OK", page())
            } else {
                ("404 Not Found", "see /metrics\n".to_string())
            };
            let mut stream = &stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    })?)
}
