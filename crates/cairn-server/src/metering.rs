//! Usage metering that never slows the hot path and never loses a record silently.
//!
//! [`Meter::record`] appends the record as one JSON line to a journal file and hands it to a
//! background writer, which inserts records into the store in batches (one transaction per
//! batch, fsynced). The journal write is a single `write(2)` into the page cache, so a
//! record acknowledged to the client survives a killed process even before its batch is
//! committed: at start, [`Meter::start`] replays every journal segment into the store
//! (inserts are idempotent by record id) before taking new traffic.
//!
//! Segments rotate by size, under load too: the writer starts a new segment and sends a
//! "sealed" marker through the same channel, behind the old segment's last record. When the
//! marker comes out, every record before it has been committed, and the old file goes. If
//! the store refuses a batch (a full disk, say), the writer keeps it, logs, counts
//! `cairn_metering_errors_total` and retries with backoff; nothing is dropped.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use cairn_store::{Store, UsageRecord};
use tokio::sync::{mpsc, oneshot};

const SEGMENT_ROTATE_BYTES: u64 = 4 << 20;
const REPLAY_BATCH: usize = 1_000;

enum Message {
    Record(Box<UsageRecord>),
    Flush(oneshot::Sender<()>),
    /// Every record of this segment is ahead of the marker in the channel.
    Sealed(PathBuf),
}

struct Journal {
    dir: PathBuf,
    segment: u64,
    file: File,
    bytes: u64,
}

impl Journal {
    fn segment_path(dir: &Path, segment: u64) -> PathBuf {
        dir.join(format!("usage-{segment:012}.jsonl"))
    }

    fn open(dir: &Path, segment: u64) -> std::io::Result<Journal> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(Self::segment_path(dir, segment))?;
        let bytes = file.metadata()?.len();
        Ok(Journal {
            dir: dir.to_path_buf(),
            segment,
            file,
            bytes,
        })
    }
}

#[derive(Clone)]
pub struct Meter {
    journal: Arc<Mutex<Journal>>,
    tx: mpsc::UnboundedSender<Message>,
}

impl Meter {
    /// Replays what an earlier process left in the journal, then starts the writer.
    pub async fn start(
        store: Arc<dyn Store>,
        dir: &Path,
        flush_interval: Duration,
        batch_max: usize,
    ) -> anyhow::Result<(Meter, tokio::task::JoinHandle<()>)> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let leftovers = segments(dir)?;
        let mut replayed = 0usize;
        for path in &leftovers {
            let records = read_segment(path)?;
            for chunk in records.chunks(REPLAY_BATCH) {
                store
                    .insert_usage(chunk)
                    .await
                    .context("replaying the metering journal")?;
            }
            replayed += records.len();
        }
        if replayed > 0 {
            tracing::info!(
                records = replayed,
                "replayed the metering journal left by an earlier run"
            );
        }
        for path in &leftovers {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        let next_segment = leftovers
            .iter()
            .filter_map(|p| segment_number(p))
            .max()
            .map_or(0, |n| n + 1);
        let journal = Arc::new(Mutex::new(Journal::open(dir, next_segment)?));
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = Writer {
            store,
            journal: journal.clone(),
            tx: tx.downgrade(),
            flush_interval,
            batch_max,
        };
        let handle = tokio::spawn(writer.run(rx));
        Ok((Meter { journal, tx }, handle))
    }

    /// Journals the record and queues it for the store. Never blocks on the database.
    pub fn record(&self, record: UsageRecord) {
        metrics::counter!("cairn_metering_records_total").increment(1);
        let mut line = serde_json::to_vec(&record).expect("usage records always serialise");
        line.push(b'\n');
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        match journal.file.write_all(&line) {
            Ok(()) => journal.bytes += line.len() as u64,
            Err(err) => {
                metrics::counter!("cairn_metering_errors_total", "stage" => "journal").increment(1);
                tracing::error!(%err, id = %record.id, "cannot journal a usage record; it is held in memory until the store takes it");
            }
        }
        // Sent under the journal lock so that the writer sees records in journal order.
        if self.tx.send(Message::Record(Box::new(record))).is_err() {
            metrics::counter!("cairn_metering_errors_total", "stage" => "closed").increment(1);
            tracing::error!(
                "the metering writer has stopped; the record stays in the journal for the next start"
            );
        }
    }

    /// Waits until everything recorded so far is in the store.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

struct Writer {
    store: Arc<dyn Store>,
    journal: Arc<Mutex<Journal>>,
    /// The writer's own way into the channel, for seal markers. Weak, so that the channel
    /// closes (and the writer ends) when the last `Meter` is dropped.
    tx: mpsc::WeakUnboundedSender<Message>,
    flush_interval: Duration,
    batch_max: usize,
}

impl Writer {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Message>) {
        let mut batch: Vec<UsageRecord> = Vec::new();
        let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
        let mut sealed: Vec<PathBuf> = Vec::new();
        loop {
            let deadline = tokio::time::sleep(self.flush_interval);
            tokio::pin!(deadline);
            let mut closed = false;
            // Gather until the batch is full, someone asks for a flush, a segment is sealed,
            // or the interval passes.
            loop {
                tokio::select! {
                    message = rx.recv() => match message {
                        Some(Message::Record(r)) => {
                            batch.push(*r);
                            if batch.len() >= self.batch_max { break; }
                        }
                        Some(Message::Flush(done)) => { waiters.push(done); break; }
                        Some(Message::Sealed(path)) => { sealed.push(path); break; }
                        None => { closed = true; break; }
                    },
                    _ = &mut deadline => break,
                }
            }
            if !batch.is_empty() {
                self.commit(&batch).await;
                batch.clear();
            }
            // Committed: the sealed segments' records are all in the store.
            for path in sealed.drain(..) {
                if let Err(err) = std::fs::remove_file(&path) {
                    tracing::warn!(%err, path = %path.display(), "cannot remove a committed journal segment");
                }
            }
            for done in waiters.drain(..) {
                let _ = done.send(());
            }
            if closed {
                // No `Meter` is left to write, and everything is committed.
                let journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
                let _ = std::fs::remove_file(Journal::segment_path(&journal.dir, journal.segment));
                return;
            }
            self.rotate_if_large();
        }
    }

    /// Inserts a batch, retrying with backoff until the store takes it.
    async fn commit(&self, batch: &[UsageRecord]) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.store.insert_usage(batch).await {
                Ok(()) => return,
                Err(err) => {
                    metrics::counter!("cairn_metering_errors_total", "stage" => "store")
                        .increment(1);
                    tracing::error!(%err, records = batch.len(), retry_in_ms = backoff.as_millis() as u64, "cannot store usage records; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Starts a new segment once the current one is large, and queues the seal marker for
    /// the old one behind its last record.
    fn rotate_if_large(&self) {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        if journal.bytes < SEGMENT_ROTATE_BYTES {
            return;
        }
        let old = Journal::segment_path(&journal.dir, journal.segment);
        match Journal::open(&journal.dir, journal.segment + 1) {
            Ok(fresh) => {
                *journal = fresh;
                // Sent under the journal lock: no record of the new segment can come first.
                if let Some(tx) = self.tx.upgrade() {
                    let _ = tx.send(Message::Sealed(old));
                }
            }
            Err(err) => {
                tracing::warn!(%err, "cannot start a new journal segment; keeping the current one")
            }
        }
    }
}

fn segment_number(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_prefix("usage-")?
        .strip_suffix(".jsonl")?
        .parse()
        .ok()
}

fn segments(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| segment_number(p).is_some())
        .collect();
    found.sort();
    Ok(found)
}

/// Reads a segment. A torn last line (the process died mid-write, before the client was
/// answered) is skipped; so is any line that does not parse, with a warning.
fn read_segment(path: &Path) -> anyhow::Result<Vec<UsageRecord>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut records = Vec::new();
    for (n, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice(&line) {
            Ok(record) => records.push(record),
            Err(err) => {
                tracing::warn!(%err, line = n + 1, path = %path.display(), "skipping an unreadable journal line")
            }
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests;
