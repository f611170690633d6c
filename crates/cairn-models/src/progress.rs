//! Progress reporting: the downloader emits [`ProgressEvent`]s to a
//! [`Progress`] sink. The CLI draws bars ([`crate::BarProgress`], feature
//! `bars`); the server writes log lines ([`LogProgress`]).

use std::path::PathBuf;
use std::sync::Mutex;

/// The phases of a pull, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Fetching bytes (wheels with pip, or HTTP).
    Download,
    /// Joining parts / unpacking wheels into the staging folder.
    Assemble,
    /// Hashing what was assembled (when not already hashed while writing).
    Verify,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Download => "download",
            Stage::Assemble => "assemble",
            Stage::Verify => "verify",
        }
    }
}

/// One thing that happened during a pull. `model` names the catalog entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// A pull begins; `source` is the entry's source summary.
    Started { model: String, source: String },
    /// A new stage begins; `total_bytes` when known.
    Stage {
        model: String,
        stage: Stage,
        total_bytes: Option<u64>,
    },
    /// Part `index` (1-based) of `count` begins, e.g. one wheel of a split
    /// model. `cached` when a previous, interrupted pull already fetched it.
    Part {
        model: String,
        index: usize,
        count: usize,
        label: String,
        cached: bool,
    },
    /// Bytes done in the current stage (or part, for downloads whose total
    /// is unknown), with the total when known.
    Bytes {
        model: String,
        done: u64,
        total: Option<u64>,
    },
    /// The model is installed and verified.
    Finished {
        model: String,
        path: PathBuf,
        size_bytes: u64,
    },
}

/// A sink for progress events. Called from async tasks and blocking threads.
pub trait Progress: Send + Sync {
    fn on_event(&self, event: &ProgressEvent);
}

/// Ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn on_event(&self, _: &ProgressEvent) {}
}

/// Writes `tracing` info lines: every stage and part, and byte counts at each
/// tenth of the total (or every 64 MiB when the total is unknown).
#[derive(Debug, Default)]
pub struct LogProgress {
    last_step: Mutex<u64>,
}

const UNKNOWN_TOTAL_STEP: u64 = 64 << 20;

impl LogProgress {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Progress for LogProgress {
    fn on_event(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::Started { model, source } => {
                tracing::info!(model = %model, source = %source, "pulling model");
            }
            ProgressEvent::Stage {
                model,
                stage,
                total_bytes,
            } => {
                *self.last_step.lock().unwrap() = 0;
                tracing::info!(model = %model, stage = stage.as_str(), total_bytes = ?total_bytes, "model pull stage");
            }
            ProgressEvent::Part {
                model,
                index,
                count,
                label,
                cached,
            } => {
                *self.last_step.lock().unwrap() = 0;
                tracing::info!(model = %model, part = index, of = count, label = %label, cached = cached, "model part");
            }
            ProgressEvent::Bytes { model, done, total } => {
                let step = match total {
                    Some(t) if *t > 0 => done.saturating_mul(10) / t,
                    _ => done / UNKNOWN_TOTAL_STEP,
                };
                let mut last = self.last_step.lock().unwrap();
                if step > *last {
                    *last = step;
                    match total {
                        Some(t) => tracing::info!(
                            model = %model,
                            done_bytes = done,
                            total_bytes = t,
                            "model pull {}%",
                            done.saturating_mul(100) / (*t).max(1)
                        ),
                        None => {
                            tracing::info!(model = %model, done_bytes = done, "model pull progress")
                        }
                    }
                }
            }
            ProgressEvent::Finished {
                model,
                path,
                size_bytes,
            } => {
                tracing::info!(model = %model, path = %path.display(), size_bytes = size_bytes, "model ready");
            }
        }
    }
}

/// Records every event; for tests and for callers that summarise afterwards.
#[derive(Debug, Default)]
pub struct RecordingProgress {
    events: Mutex<Vec<ProgressEvent>>,
}

impl RecordingProgress {
    pub fn events(&self) -> Vec<ProgressEvent> {
        self.events.lock().unwrap().clone()
    }
}

impl Progress for RecordingProgress {
    fn on_event(&self, event: &ProgressEvent) {
        self.events.lock().unwrap().push(event.clone());
    }
}
