//! What the parent and the sandbox child say to each other: one JSON request on the
//! child's stdin, one JSON response on its stdout.

use serde::{Deserialize, Serialize};

/// The argument that turns an executable into a sandbox child (see
/// [`super::run_child_if_requested`]).
pub(crate) const CHILD_MARKER: &str = "__cairn-sandbox-child";

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub code: String,
    pub cpu_ms: u64,
    pub memory_bytes: u64,
    pub output_bytes: usize,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(crate) enum Response {
    /// The code ran to the end.
    Finished {
        stdout: String,
        value: Option<serde_json::Value>,
        truncated: bool,
    },
    /// The code threw, or did not parse.
    Threw {
        message: String,
    },
    TimeLimit,
    MemoryLimit,
    /// The child could not set itself up (confinement, interpreter).
    Failed {
        message: String,
    },
}
