//! `cairn ingest PATH...`: uploads files (folders recursively) into a collection of a running
//! server, then follows their ingestion to the end with progress bars.
//!
//! It goes through the HTTP API rather than opening the data directory itself: the server
//! owns the index while it runs, and the API is where permissions and limits are enforced.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::client::ApiClient;
use crate::config::Config;

/// File kinds picked up when walking a folder (a file named explicitly is always sent).
const KNOWN_EXTENSIONS: &[&str] = &[
    "txt", "text", "md", "markdown", "html", "htm", "pdf", "docx",
];

pub struct IngestArgs {
    pub paths: Vec<PathBuf>,
    pub collection: String,
    pub server: Option<String>,
    pub key: Option<String>,
}

pub async fn run(args: IngestArgs, config: &Config) -> anyhow::Result<()> {
    let files = collect_files(&args.paths)?;
    if files.is_empty() {
        bail!(
            "no documents found under the given paths (known kinds: {})",
            KNOWN_EXTENSIONS.join(", ")
        );
    }
    let client = ApiClient::connect(args.server, args.key, config)?;
    let collection = collection(&client, &args.collection).await?;

    let bar = ProgressBar::new(files.len() as u64).with_style(style("uploading"));
    let mut documents = Vec::new();
    let mut failures = Vec::new();
    for file in &files {
        bar.set_message(file.display().to_string());
        match upload(&client, &collection, file).await {
            Ok(document) => documents.push((file.clone(), document)),
            Err(err) => failures.push((file.clone(), format!("{err:#}"))),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    let bar = ProgressBar::new(documents.len() as u64).with_style(style("indexing"));
    let mut pending = documents;
    let mut indexed = 0;
    while !pending.is_empty() {
        let mut still = Vec::new();
        let mut chunks_done = 0;
        let mut chunks_total = 0;
        for (file, id) in pending {
            let document = client.get(&format!("/api/documents/{id}")).await?;
            match document["status"].as_str().unwrap_or_default() {
                "indexed" => {
                    indexed += 1;
                    bar.inc(1);
                }
                "failed" => {
                    let reason = document["error"]
                        .as_str()
                        .unwrap_or("unknown reason")
                        .to_string();
                    failures.push((file, reason));
                    bar.inc(1);
                }
                _ => {
                    chunks_done += document["chunks_done"].as_u64().unwrap_or(0);
                    chunks_total += document["chunks_total"].as_u64().unwrap_or(0);
                    still.push((file, id));
                }
            }
        }
        bar.set_message(format!("{chunks_done}/{chunks_total} chunks embedded"));
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    bar.finish_and_clear();
    println!(
        "{indexed} indexed, {} failed, into collection {collection}",
        failures.len()
    );
    for (file, reason) in &failures {
        eprintln!("failed: {}: {reason}", file.display());
    }
    if !failures.is_empty() {
        bail!("{} of {} files failed", failures.len(), files.len());
    }
    Ok(())
}

fn style(verb: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!("{verb} [{{bar:30}}] {{pos}}/{{len}} {{msg}}"))
        .expect("a valid template")
        .progress_chars("=> ")
}

/// Files named, and files of known kinds under folders named (recursively, hidden ones
/// skipped), in a stable order.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, files)?;
        } else if kind.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| KNOWN_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// The id of the collection named or numbered `name`, created when there is none.
async fn collection(client: &ApiClient, name: &str) -> anyhow::Result<String> {
    let mut before: Option<i64> = None;
    loop {
        let page = match before {
            Some(b) => {
                client
                    .get(&format!("/api/collections?limit=200&before={b}"))
                    .await?
            }
            None => client.get("/api/collections?limit=200").await?,
        };
        for c in page["data"].as_array().into_iter().flatten() {
            if c["id"] == name || c["name"] == name {
                return Ok(c["id"].as_str().unwrap_or_default().to_string());
            }
        }
        match page["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    let response = client
        .http
        .post(format!("{}/api/collections", client.base))
        .bearer_auth(&client.key)
        .json(&json!({ "name": name }))
        .send()
        .await?;
    let created = ApiClient::answer(response).await?;
    Ok(created["id"].as_str().unwrap_or_default().to_string())
}

/// Uploads one file; the id of its document (an existing one for known content).
async fn upload(client: &ApiClient, collection: &str, file: &Path) -> anyhow::Result<String> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document".into());
    let handle = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let length = handle.metadata().await?.len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(handle));
    let part = reqwest::multipart::Part::stream_with_length(body, length).file_name(name);
    let form = reqwest::multipart::Form::new().part("file", part);
    let response = client
        .http
        .post(format!(
            "{}/api/collections/{collection}/documents",
            client.base
        ))
        .bearer_auth(&client.key)
        .multipart(form)
        .send()
        .await?;
    let answer = ApiClient::answer(response).await?;
    answer["data"][0]["document"]["id"]
        .as_str()
        .map(str::to_string)
        .context("the server's answer names no document")
}
