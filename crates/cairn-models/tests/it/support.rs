//! Shared helpers: a temporary cache, a `Models` over a test catalog, a
//! range-capable file server, sha256 of bytes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cairn_models::{
    CacheDir, Catalog, FetchOptions, Models, ProgressEvent, RecordingProgress, default_http_client,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic, non-repeating-looking test bytes.
pub fn test_bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9 ^ seed as u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

pub struct TestEnv {
    _dir: tempfile::TempDir,
    pub models: Models,
}

impl TestEnv {
    pub fn new(catalog_toml: &str) -> Self {
        Self::with_options(catalog_toml, |_| {})
    }

    pub fn with_options(catalog_toml: &str, tweak: impl FnOnce(&mut FetchOptions)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::from_toml(catalog_toml).unwrap();
        let mut options = FetchOptions {
            python: "python3".into(),
            pip_args: Vec::new(),
            hf_endpoint: "http://127.0.0.1:9".into(),
            hf_token: None,
            hf_offline: false,
            http: default_http_client().unwrap(),
        };
        tweak(&mut options);
        let models = Models::new(catalog, CacheDir::new(dir.path().join("models")), options);
        TestEnv { _dir: dir, models }
    }

    pub fn root(&self) -> PathBuf {
        self.models.cache().root().to_path_buf()
    }

    /// Every file under the cache root, relative, sorted (lock files excluded).
    pub fn cache_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.root(), &self.root(), &mut out);
        out.retain(|p| !p.ends_with(".lock"));
        out.sort();
        out
    }
}

fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
}

pub fn recorder() -> Arc<RecordingProgress> {
    Arc::new(RecordingProgress::default())
}

/// Parts reported as already downloaded by a previous attempt.
pub fn cached_parts(events: &[ProgressEvent]) -> Vec<usize> {
    events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Part {
                index,
                cached: true,
                ..
            } => Some(*index),
            _ => None,
        })
        .collect()
}

/// A file server on 127.0.0.1:0 that honours `Range: bytes=N-`, records the
/// requests it saw and can cut a response short to simulate a dropped
/// connection. Hand-written HTTP/1.1 over a `TcpListener` (one request per
/// connection), so a cut is exact: the headers and the first N body bytes
/// are written and flushed, then the socket is closed.
/// (path, Range header, Authorization header) of one request.
pub type Seen = (String, Option<String>, Option<String>);

#[derive(Default)]
pub struct ServerState {
    pub files: HashMap<String, Vec<u8>>,
    pub support_ranges: bool,
    /// Send only this many body bytes of the next response, then close.
    pub cut_next_after: Mutex<Option<usize>>,
    pub seen: Mutex<Vec<Seen>>,
}

pub struct FileServer {
    pub addr: SocketAddr,
    pub state: Arc<ServerState>,
}

impl FileServer {
    pub async fn start(state: ServerState) -> FileServer {
        let state = Arc::new(state);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = handle(sock, &st).await;
                });
            }
        });
        FileServer { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ranges_seen(&self) -> Vec<Option<String>> {
        self.state
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.1.clone())
            .collect()
    }
}

async fn handle(sock: TcpStream, state: &ServerState) -> std::io::Result<()> {
    let mut reader = BufReader::new(sock);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).await?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let (mut range, mut auth) = (None, None);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let v = Some(v.trim().to_string());
            match k.trim().to_ascii_lowercase().as_str() {
                "range" => range = v,
                "authorization" => auth = v,
                _ => {}
            }
        }
    }
    state
        .seen
        .lock()
        .unwrap()
        .push((path.clone(), range.clone(), auth));
    let mut sock = reader.into_inner();
    let Some(data) = state.files.get(&path) else {
        return respond(&mut sock, "404 Not Found", &[], b"").await;
    };
    let start = range
        .as_deref()
        .filter(|_| state.support_ranges)
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let (status, body, content_range) = match start {
        Some(s) if s < data.len() => (
            "206 Partial Content",
            &data[s..],
            Some(format!("bytes {s}-{}/{}", data.len() - 1, data.len())),
        ),
        Some(_) => {
            let cr = format!("bytes */{}", data.len());
            return respond(
                &mut sock,
                "416 Range Not Satisfiable",
                &[("Content-Range", &cr)],
                b"",
            )
            .await;
        }
        None => ("200 OK", &data[..], None),
    };
    let cut = state.cut_next_after.lock().unwrap().take();
    let mut headers = vec![("Accept-Ranges", "bytes".to_string())];
    if let Some(cr) = content_range {
        headers.push(("Content-Range", cr));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match cut {
        // Announce the full length, send part of it, hang up.
        Some(n) => respond_cut(&mut sock, status, &headers, body, n).await,
        None => respond(&mut sock, status, &headers, body).await,
    }
}

async fn respond(
    sock: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    respond_cut(sock, status, headers, body, body.len()).await
}

async fn respond_cut(
    sock: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    send: usize,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(&body[..send.min(body.len())]).await?;
    sock.flush().await?;
    sock.shutdown().await
}
