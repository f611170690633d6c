//! A JavaScript runner for models, with limits on CPU, memory, time and output, and no
//! access to files, the network or other processes.
//!
//! Defence in depth, three layers:
//! 1. the interpreter (QuickJS through rquickjs, [`javascript`]) offers code no I/O at all:
//!    only the language and a console that writes into a capped buffer;
//! 2. it runs in a child process, never in the server: the server's own executable
//!    re-executed with a marker argument and an empty environment ([`run_child_if_requested`]),
//!    so a crash or a runaway allocation takes down only the child;
//! 3. before running any code the child confines itself ([`confine`]): resource limits and a
//!    seccomp filter that refuses every system call it does not need (open, socket, clone,
//!    execve...), so even code that escaped the interpreter could not reach outside.
//!
//! The parent kills the child's process group when the wall-clock limit passes, caps what
//! it reads, and turns every way the child can end into a [`ToolError`]; it never hangs.

mod child;
mod confine;
mod javascript;
mod memory;
mod protocol;

use std::{
    path::PathBuf,
    process::{ExitStatus, Stdio},
    time::{Duration, Instant},
};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

pub use child::run_child_if_requested;
pub use confine::confine;

use crate::ToolError;
use protocol::{CHILD_MARKER, Request, Response};

/// Code longer than this is refused before a child is started.
pub const MAX_CODE_BYTES: usize = 1024 * 1024;
/// What is kept of the child's stderr for an error message.
const STDERR_BYTES: usize = 16 * 1024;

/// Limits of one run. `cpu` stops the code from inside the child (precisely, as a
/// [`ToolError::TimeLimit`]); `wall` is the parent's backstop, which also covers a child
/// that is starved of CPU or stuck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLimits {
    pub wall: Duration,
    pub cpu: Duration,
    pub memory_bytes: u64,
    /// Cap on what `console.log` collects, and on the final value's JSON.
    pub output_bytes: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            wall: Duration::from_secs(5),
            cpu: Duration::from_secs(2),
            memory_bytes: 64 * 1024 * 1024,
            output_bytes: 64 * 1024,
        }
    }
}

/// What a finished run produced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SandboxOutput {
    /// What `console.log` and `print` wrote, one line per call.
    pub stdout: String,
    /// The script's final value (the value of its last expression statement, or what its
    /// returned promise resolved to), when it has a JSON form that fits the output cap.
    pub value: Option<serde_json::Value>,
    /// Output or the value was cut at [`SandboxLimits::output_bytes`].
    pub truncated: bool,
    /// Wall-clock time of the run, child start-up included.
    #[serde(rename = "elapsed_ms", serialize_with = "as_millis")]
    pub elapsed: Duration,
}

fn as_millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u128(duration.as_millis())
}

/// Runs code in a child process of a given executable.
#[derive(Debug, Clone)]
pub struct Sandbox {
    program: PathBuf,
}

impl Sandbox {
    /// A sandbox that re-executes the current executable, whose `main` must call
    /// [`run_child_if_requested`] first.
    pub fn new() -> Result<Sandbox, ToolError> {
        let program = std::env::current_exe().map_err(|error| {
            ToolError::Sandbox(format!("could not find the current executable: {error}"))
        })?;
        Ok(Sandbox { program })
    }

    /// A sandbox that runs `program` (which must call [`run_child_if_requested`] first).
    pub fn with_program(program: impl Into<PathBuf>) -> Sandbox {
        Sandbox {
            program: program.into(),
        }
    }

    pub async fn run_javascript(
        &self,
        code: &str,
        limits: &SandboxLimits,
    ) -> Result<SandboxOutput, ToolError> {
        if code.len() > MAX_CODE_BYTES {
            return Err(ToolError::InvalidInput(format!(
                "the code is too long ({} bytes; at most {MAX_CODE_BYTES})",
                code.len()
            )));
        }
        let request = Request {
            code: code.to_string(),
            cpu_ms: u64::try_from(limits.cpu.as_millis()).unwrap_or(u64::MAX),
            memory_bytes: limits.memory_bytes,
            output_bytes: limits.output_bytes,
        };
        let request =
            serde_json::to_vec(&request).map_err(|error| ToolError::Sandbox(error.to_string()))?;
        let started = Instant::now();
        let (status, stdout, stderr) = self.run_child(&request, limits).await?;
        let elapsed = started.elapsed();
        match serde_json::from_slice::<Response>(&stdout) {
            Ok(Response::Finished {
                stdout,
                value,
                truncated,
            }) => Ok(SandboxOutput {
                stdout,
                value,
                truncated,
                elapsed,
            }),
            Ok(Response::Threw { message }) => Err(ToolError::Code(message)),
            Ok(Response::TimeLimit) => Err(ToolError::TimeLimit(limits.cpu)),
            Ok(Response::MemoryLimit) => Err(ToolError::MemoryLimit(limits.memory_bytes)),
            Ok(Response::Failed { message }) => Err(ToolError::Sandbox(message)),
            Err(_) => Err(abnormal_end(status, &stderr, limits)),
        }
    }

    /// Starts the child, hands it the request, and collects its output within the wall
    /// limit. Returns its exit status, stdout and the start of its stderr.
    async fn run_child(
        &self,
        request: &[u8],
        limits: &SandboxLimits,
    ) -> Result<(ExitStatus, Vec<u8>, Vec<u8>), ToolError> {
        let mut child = tokio::process::Command::new(&self.program)
            .arg(CHILD_MARKER)
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so the kill reaches anything it might have started.
            .process_group(0)
            // A caller that gives up on the future does not leave the child running.
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| {
                ToolError::Sandbox(format!(
                    "could not start {}: {error}",
                    self.program.display()
                ))
            })?;
        let pid = child.id();
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            unreachable!("all three streams were piped");
        };
        // The response holds the output (JSON-escaped, up to 6 bytes per byte) and the value.
        let stdout_cap = limits
            .output_bytes
            .saturating_mul(12)
            .saturating_add(64 * 1024);
        let exchange = async {
            let write = async {
                // A child that dies before reading everything closes the pipe; its exit
                // status tells why, so the write error itself says nothing new.
                let _ = stdin.write_all(request).await;
                drop(stdin);
            };
            let ((), stdout, stderr) = tokio::join!(
                write,
                read_capped(stdout, stdout_cap),
                read_capped(stderr, STDERR_BYTES)
            );
            (stdout, stderr)
        };
        let outcome = tokio::time::timeout(limits.wall, async {
            let (stdout, stderr) = exchange.await;
            if stdout.len() > stdout_cap {
                return Err(ToolError::Sandbox(
                    "the sandbox wrote more than its output limit".into(),
                ));
            }
            let status = child.wait().await;
            Ok((status, stdout, stderr))
        })
        .await;
        let (status, stdout, stderr) = match outcome {
            Ok(Ok(done)) => done,
            Ok(Err(error)) => {
                kill_group(pid);
                return Err(error);
            }
            Err(_) => {
                kill_group(pid);
                let _ = child.wait().await;
                return Err(ToolError::TimeLimit(limits.wall));
            }
        };
        let status = status.map_err(|error| {
            ToolError::Sandbox(format!("could not wait for the sandbox: {error}"))
        })?;
        Ok((status, stdout, stderr))
    }
}

/// Runs `code` in a child of the current executable (see [`Sandbox::new`]).
pub async fn run_javascript(
    code: &str,
    limits: &SandboxLimits,
) -> Result<SandboxOutput, ToolError> {
    Sandbox::new()?.run_javascript(code, limits).await
}

/// Reads until end of stream or until more than `cap` bytes arrived (then stops reading,
/// returning `cap + 1` bytes so the caller can tell).
async fn read_capped(stream: impl AsyncRead + Unpin, cap: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let _ = stream.take(limit).read_to_end(&mut bytes).await;
    bytes
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: signals the process group this module created for the child.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

/// The error for a child that ended without a readable response.
fn abnormal_end(status: ExitStatus, stderr: &[u8], limits: &SandboxLimits) -> ToolError {
    use std::os::unix::process::ExitStatusExt;
    let stderr = String::from_utf8_lossy(stderr);
    // Rust reports a failed allocation on stderr, then aborts.
    if stderr.contains("memory allocation of") {
        return ToolError::MemoryLimit(limits.memory_bytes);
    }
    match status.signal() {
        Some(libc::SIGXCPU | libc::SIGKILL) => ToolError::TimeLimit(limits.cpu),
        Some(signal) => ToolError::Sandbox(format!(
            "the sandbox was ended by signal {signal}: {}",
            stderr.trim()
        )),
        None => ToolError::Sandbox(format!(
            "the sandbox ended without an answer ({status}): {}",
            stderr.trim()
        )),
    }
}
