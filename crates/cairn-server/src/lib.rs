//! The `cairn` server: CLI, configuration, HTTP API, providers and the request pipeline.
//!
//! Start at [`api::router`] for the routes and [`pipeline`] for what happens to a model
//! call; ARCHITECTURE.md at the repository root has the map.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod knowledge;
pub mod limits;
pub mod memory;
pub mod metering;
pub mod openai;
pub mod orchestration;
pub mod pipeline;
pub mod providers;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod util;
pub mod web;
pub mod writer;

pub use api::router;
pub use state::{App, AppParts, AppState};
