//! The single-page app, embedded at build time (see `build.rs`) and served at `/`.
//!
//! Vite names every built script and stylesheet by its content hash under `/assets/`, so
//! those are cached for a year as immutable; everything else (`index.html`) is revalidated
//! with its ETag. Any other GET path outside `/api` and `/v1` is a page of the app and gets
//! `index.html`, whose script then routes in the browser. HTML responses carry a
//! Content-Security-Policy that allows only this origin's scripts, so injected markup
//! cannot run code.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "$OUT_DIR/web"]
struct Assets;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The response for a GET (or HEAD) of a web-app path, or `None` when the path is not the
/// app's (the API's 404 applies).
pub fn serve(method: &Method, uri: &Uri, request: &HeaderMap) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = uri.path();
    let is_api = ["/api", "/v1"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    if is_api {
        return None;
    }
    let name = path.trim_start_matches('/');
    if !name.is_empty()
        && let Some(file) = Assets::get(name)
    {
        return Some(respond(method, name, file, request));
    }
    // A missing script or style is a 404, never the page: the browser would try to run HTML.
    if name.starts_with("assets/") {
        return None;
    }
    let index = Assets::get("index.html")?;
    Some(respond(method, "index.html", index, request))
}

fn respond(
    method: &Method,
    name: &str,
    file: rust_embed::EmbeddedFile,
    request: &HeaderMap,
) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else if method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let headers = response.headers_mut();
    let mime = file.metadata.mimetype();
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if mime.starts_with("text/html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    response
}
