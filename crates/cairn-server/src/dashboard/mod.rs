//! The admin dashboard's numbers: usage turned into time series (requests, tokens, cost,
//! latency and time-to-first-token percentiles, errors) per model, user or provider, and
//! the health of every provider.
//!
//! Series are computed here from the stored usage records rather than in SQL: SQLite has no
//! percentile function, and a window's records (bounded by [`series::MAX_RECORDS`]) sort in
//! memory in milliseconds. A store that can aggregate (ClickHouse, Timescale) would answer
//! the same shapes behind the same API.

pub mod health;
pub mod series;
