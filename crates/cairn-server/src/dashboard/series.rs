//! Usage records → dense, bucketed time series.

use std::collections::BTreeMap;

use cairn_store::UsageRecord;
use serde::{Deserialize, Serialize};

/// Most records one series request reads. Past it the oldest records of the window are
/// left out and the answer says so (`truncated`).
pub const MAX_RECORDS: u32 = 200_000;

/// Most buckets a window may be cut into.
pub const MAX_BUCKETS: i64 = 500;

/// What the series are split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitBy {
    /// One series for everything.
    #[default]
    All,
    Model,
    User,
    Provider,
}

/// A time window cut into equal buckets: `from_ms <= at < to_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
    pub bucket_ms: i64,
}

impl Window {
    /// The window of `span` named like `1h`, `24h`, `7d` or `30d` ending with the bucket
    /// that holds `now_ms`; buckets are aligned to UTC multiples of their length.
    pub fn last(span: &str, now_ms: i64) -> Option<Window> {
        const MINUTE: i64 = 60_000;
        const HOUR: i64 = 60 * MINUTE;
        const DAY: i64 = 24 * HOUR;
        let (span_ms, bucket_ms) = match span {
            "1h" => (HOUR, MINUTE),
            "6h" => (6 * HOUR, 5 * MINUTE),
            "24h" => (DAY, HOUR),
            "7d" => (7 * DAY, 6 * HOUR),
            "30d" => (30 * DAY, DAY),
            _ => return None,
        };
        let to_ms = (now_ms.div_euclid(bucket_ms) + 1) * bucket_ms;
        Some(Window {
            from_ms: to_ms - span_ms,
            to_ms,
            bucket_ms,
        })
    }

    pub fn buckets(&self) -> usize {
        ((self.to_ms - self.from_ms) / self.bucket_ms) as usize
    }

    fn bucket_of(&self, at: i64) -> Option<usize> {
        (self.from_ms..self.to_ms)
            .contains(&at)
            .then(|| ((at - self.from_ms) / self.bucket_ms) as usize)
    }
}

/// The numbers of one bucket (or of a whole window).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Point {
    /// Start of the bucket (unix ms).
    pub at: i64,
    pub requests: u64,
    /// Answers with status 400 or above (the caller's mistakes and rate limits included).
    pub errors: u64,
    /// Answers with status 500 or above: Cairn's or a provider's failures.
    pub server_errors: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_nanos: i64,
    pub latency_p50_ms: Option<u32>,
    pub latency_p95_ms: Option<u32>,
    /// Time to first token, of streamed answers only.
    pub ttft_p50_ms: Option<u32>,
    pub ttft_p95_ms: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The model, user id or provider; `all` when not split.
    pub group: String,
    pub total: Point,
    pub points: Vec<Point>,
}

/// Gathers one bucket's samples before the percentiles are taken.
#[derive(Default)]
struct Accumulator {
    point: Point,
    latencies: Vec<u32>,
    ttfts: Vec<u32>,
}

impl Accumulator {
    fn add(&mut self, r: &UsageRecord) {
        let p = &mut self.point;
        p.requests += 1;
        p.errors += u64::from(r.status >= 400);
        p.server_errors += u64::from(r.status >= 500);
        p.prompt_tokens += u64::from(r.prompt_tokens);
        p.completion_tokens += u64::from(r.completion_tokens);
        p.cost_nanos += r.cost_nanos;
        self.latencies.push(r.latency_ms);
        self.ttfts.extend(r.ttft_ms);
    }

    fn finish(mut self, at: i64) -> Point {
        self.latencies.sort_unstable();
        self.ttfts.sort_unstable();
        Point {
            at,
            latency_p50_ms: percentile(&self.latencies, 50),
            latency_p95_ms: percentile(&self.latencies, 95),
            ttft_p50_ms: percentile(&self.ttfts, 50),
            ttft_p95_ms: percentile(&self.ttfts, 95),
            ..self.point
        }
    }
}

/// The nearest-rank percentile of sorted values: the smallest value that at least `p`
/// percent of the values are at or below.
pub fn percentile(sorted: &[u32], p: u32) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p as usize).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

fn group_of(r: &UsageRecord, by: SplitBy) -> &str {
    match by {
        SplitBy::All => "all",
        SplitBy::Model => &r.model,
        SplitBy::User => &r.user_id,
        SplitBy::Provider => &r.provider,
    }
}

/// One dense series per group (every bucket present, empty ones zero), groups ordered by
/// their request count, busiest first, then by name. Records outside the window are ignored.
pub fn split(records: &[UsageRecord], window: Window, by: SplitBy) -> Vec<Series> {
    let buckets = window.buckets();
    let mut groups: BTreeMap<&str, (Vec<Accumulator>, Accumulator)> = BTreeMap::new();
    for r in records {
        let Some(bucket) = window.bucket_of(r.at) else {
            continue;
        };
        let (points, total) = groups.entry(group_of(r, by)).or_insert_with(|| {
            (
                (0..buckets).map(|_| Accumulator::default()).collect(),
                Accumulator::default(),
            )
        });
        points[bucket].add(r);
        total.add(r);
    }
    let mut series: Vec<Series> = groups
        .into_iter()
        .map(|(group, (points, total))| Series {
            group: group.to_string(),
            total: total.finish(window.from_ms),
            points: points
                .into_iter()
                .enumerate()
                .map(|(i, acc)| acc.finish(window.from_ms + i as i64 * window.bucket_ms))
                .collect(),
        })
        .collect();
    series.sort_by(|a, b| {
        b.total
            .requests
            .cmp(&a.total.requests)
            .then_with(|| a.group.cmp(&b.group))
    });
    series
}

/// The whole window's numbers over every record in it.
pub fn overall(records: &[UsageRecord], window: Window) -> Point {
    let mut acc = Accumulator::default();
    for r in records.iter().filter(|r| window.bucket_of(r.at).is_some()) {
        acc.add(r);
    }
    acc.finish(window.from_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        at: i64,
        model: &str,
        status: u16,
        latency_ms: u32,
        ttft_ms: Option<u32>,
    ) -> UsageRecord {
        UsageRecord {
            id: format!("{at}-{model}"),
            at,
            day: "2026-12-02".into(),
            request_id: "r".into(),
            user_id: format!("user-of-{model}"),
            key_id: None,
            org_id: None,
            route: "/v1/chat/completions".into(),
            model: model.into(),
            provider: "local".into(),
            status,
            stream: ttft_ms.is_some(),
            prompt_tokens: 10,
            completion_tokens: 4,
            cost_nanos: 7,
            latency_ms,
            ttft_ms,
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50), Some(50));
        assert_eq!(percentile(&hundred, 95), Some(95));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 95), Some(4));
    }

    #[test]
    fn named_windows_end_with_the_current_bucket() {
        let now = 1_764_669_845_123; // 2025-12-02T10:04:05.123Z
        let w = Window::last("24h", now).unwrap();
        assert_eq!(w.bucket_ms, 3_600_000);
        assert_eq!(w.to_ms % w.bucket_ms, 0);
        assert!(w.from_ms <= now - 23 * 3_600_000 && now < w.to_ms);
        assert_eq!(w.buckets(), 24);
        assert_eq!(Window::last("1h", now).unwrap().buckets(), 60);
        assert_eq!(Window::last("30d", now).unwrap().buckets(), 30);
        assert_eq!(Window::last("2h", now), None);
    }

    #[test]
    fn records_land_in_their_bucket_and_group() {
        let w = Window {
            from_ms: 0,
            to_ms: 300,
            bucket_ms: 100,
        };
        let records = [
            record(5, "small", 200, 10, Some(2)),
            record(50, "small", 200, 30, None),
            record(99, "small", 503, 20, Some(4)),
            record(150, "medium", 429, 100, None),
            record(299, "small", 200, 40, Some(8)),
            record(300, "small", 200, 1, None), // past the end
            record(-1, "medium", 200, 1, None), // before the start
        ];
        let series = split(&records, w, SplitBy::Model);
        assert_eq!(series.len(), 2);
        let small = &series[0];
        assert_eq!(small.group, "small");
        assert_eq!(small.points.len(), 3);
        assert_eq!(
            small.points.iter().map(|p| p.at).collect::<Vec<_>>(),
            [0, 100, 200]
        );
        let first = &small.points[0];
        assert_eq!(
            (first.requests, first.errors, first.server_errors),
            (3, 1, 1)
        );
        assert_eq!(
            (first.latency_p50_ms, first.latency_p95_ms),
            (Some(20), Some(30))
        );
        assert_eq!((first.ttft_p50_ms, first.ttft_p95_ms), (Some(2), Some(4)));
        assert_eq!(
            small.points[1],
            Point {
                at: 100,
                ..Point::default()
            }
        );
        assert_eq!(small.total.requests, 4);
        assert_eq!(small.total.prompt_tokens, 40);
        assert_eq!(small.total.cost_nanos, 28);

        let medium = &series[1];
        assert_eq!((medium.total.requests, medium.total.errors), (1, 1));
        assert_eq!(medium.total.server_errors, 0);
        assert_eq!(medium.points[1].latency_p95_ms, Some(100));

        let all = split(&records, w, SplitBy::All);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].group, "all");
        assert_eq!(all[0].total, overall(&records, w));
        assert_eq!(split(&records, w, SplitBy::User)[0].group, "user-of-small");
    }
}
