//! Terminal progress bars for the CLI (`cairn models pull`), drawn with
//! `indicatif` on stderr. Behind the default feature `bars` so a build
//! without a terminal user can leave the dependency out.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::{Progress, ProgressEvent};

/// One bar at a time: per stage, or per part while downloading split models.
#[derive(Default)]
pub struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl BarProgress {
    pub fn new() -> Self {
        Self::default()
    }

    fn replace(&self, total: Option<u64>, message: String) {
        let mut slot = self.bar.lock().unwrap();
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        let bar = match total {
            Some(t) => {
                let bar = ProgressBar::new(t);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg:40!} [{bar:30}] {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} {eta:>4}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {msg:40!} {bytes:>10} {binary_bytes_per_sec:>12}",
                    )
                    .expect("valid template"),
                );
                bar
            }
        };
        bar.set_message(message);
        *slot = Some(bar);
    }
}

impl Progress for BarProgress {
    fn on_event(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::Started { model, source } => {
                eprintln!("pulling {model} from {source}");
            }
            ProgressEvent::Stage {
                model,
                stage,
                total_bytes,
            } => self.replace(*total_bytes, format!("{model}: {}", stage.as_str())),
            ProgressEvent::Part {
                index,
                count,
                label,
                cached,
                ..
            } => {
                let msg = format!("part {index}/{count} {label}");
                if *cached {
                    self.replace(Some(0), format!("{msg} (already downloaded)"));
                } else {
                    self.replace(None, msg);
                }
            }
            ProgressEvent::Bytes { done, total, .. } => {
                if let Some(bar) = self.bar.lock().unwrap().as_ref() {
                    if let Some(t) = total
                        && bar.length() != Some(*t)
                    {
                        bar.set_length(*t);
                    }
                    bar.set_position(*done);
                }
            }
            ProgressEvent::Finished {
                model,
                path,
                size_bytes,
            } => {
                if let Some(bar) = self.bar.lock().unwrap().take() {
                    bar.finish_and_clear();
                }
                eprintln!(
                    "{model}: ready, {} at {}",
                    crate::human_bytes(*size_bytes),
                    path.display()
                );
            }
        }
    }
}
