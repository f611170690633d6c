//! The sandbox child: the current executable re-run with [`CHILD_MARKER`]. It reads its
//! request, confines itself, runs the code, writes its response, and exits.

use std::io::{Read, Write};

use super::{
    SandboxLimits, confine, javascript,
    protocol::{CHILD_MARKER, Request, Response},
};

/// Largest request read from the parent: the code and a few numbers.
const MAX_REQUEST_BYTES: u64 = 2 * 1024 * 1024;

/// Call this first thing in `main` of every binary that runs the sandbox. When the process
/// was started as a sandbox child it runs the child and exits; otherwise it returns at once.
pub fn run_child_if_requested() {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == CHILD_MARKER)
    {
        let response = run();
        let mut stdout = std::io::stdout().lock();
        let written =
            serde_json::to_writer(&mut stdout, &response).is_ok() && stdout.flush().is_ok();
        std::process::exit(if written { 0 } else { 1 });
    }
}

fn run() -> Response {
    let mut input = Vec::new();
    if let Err(error) = std::io::stdin()
        .take(MAX_REQUEST_BYTES)
        .read_to_end(&mut input)
    {
        return Response::Failed {
            message: format!("could not read the request: {error}"),
        };
    }
    let request: Request = match serde_json::from_slice(&input) {
        Ok(request) => request,
        Err(error) => {
            return Response::Failed {
                message: format!("unreadable request: {error}"),
            };
        }
    };
    drop(input);
    let limits = SandboxLimits {
        cpu: std::time::Duration::from_millis(request.cpu_ms),
        memory_bytes: request.memory_bytes,
        output_bytes: request.output_bytes,
        ..SandboxLimits::default()
    };
    if let Err(error) = confine(&limits) {
        return Response::Failed {
            message: error.to_string(),
        };
    }
    javascript::run(&request.code, &limits)
}
