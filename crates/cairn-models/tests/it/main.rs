//! cairn-models integration tests: one binary, one module per area. No test
//! reaches the internet: HTTP sources talk to a small file server on 127.0.0.1:0,
//! the PyPI source runs pip offline against wheels the tests build.

mod cache;
mod catalog;
mod hashing;
mod huggingface;
mod local;
mod pypi;
mod support;
mod url;
