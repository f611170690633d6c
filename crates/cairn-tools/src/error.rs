//! The one error type of the crate. Messages are written for the model (or person) that
//! called the tool: they say what went wrong and, where it helps, what to do instead.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The calculator could not read the expression; `position` counts characters from 1.
    #[error("could not read the expression at character {position}: {message}")]
    Syntax { position: usize, message: String },
    /// The expression was read but has no finite real value (division by zero, overflow...).
    #[error("cannot compute: {0}")]
    Math(String),
    /// A tool argument was not acceptable (too long, empty, unknown time zone...).
    #[error("{0}")]
    InvalidInput(String),

    /// The URL could not be parsed or has no host.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// Only http and https are fetched.
    #[error("the scheme {0:?} is not allowed; only http and https URLs can be fetched")]
    SchemeNotAllowed(String),
    /// The host is not on the operator's allow-list.
    #[error("the host {0:?} is not on the list of sites this server may fetch")]
    HostNotAllowed(String),
    /// The host is, or resolves to, an address that is not public (loopback, private...).
    #[error(
        "the host {host:?} resolves to {addr}, which is not a public address; it is not fetched"
    )]
    AddressNotAllowed {
        host: String,
        addr: std::net::IpAddr,
    },
    /// The host name did not resolve.
    #[error("could not resolve the host {host:?}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("stopped after {0} redirects; the page redirects too many times")]
    TooManyRedirects(usize),
    #[error("the fetch did not finish within {} s", .0.as_secs_f64())]
    FetchTimeout(Duration),
    /// Connecting or reading failed for another reason.
    #[error("the fetch failed: {0}")]
    Http(String),

    /// The JavaScript threw, or did not parse; the message is the interpreter's.
    #[error("the code failed: {0}")]
    Code(String),
    #[error("the code was stopped after {} s (its time limit)", .0.as_secs_f64())]
    TimeLimit(Duration),
    #[error("the code ran out of memory (its limit is {} MiB)", .0 / (1024 * 1024))]
    MemoryLimit(u64),
    /// The sandbox itself failed (could not start, crashed, spoke nonsense). Not the code's fault.
    #[error("the sandbox failed: {0}")]
    Sandbox(String),
}
