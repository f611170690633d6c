//! Cairn's built-in tools that need none of the server's state: a calculator, a clock, an
//! SSRF-safe web fetcher and a JavaScript sandbox. The server offers them to models through
//! its tool registry; this crate knows nothing of HTTP APIs, models or the OpenAI wire format.
//!
//! A binary that uses [`sandbox`] must call [`sandbox::run_child_if_requested`] first thing
//! in `main`: the sandbox runs code in a re-executed copy of the current executable.

pub mod calculator;
pub mod clock;
mod error;
pub mod fetch;
pub mod sandbox;

pub use error::ToolError;
