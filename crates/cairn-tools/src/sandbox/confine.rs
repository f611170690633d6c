//! The operating-system half of the sandbox: resource limits and a seccomp-bpf allow-list.
//!
//! Applied by the sandbox child to itself after it has read its input and before it runs
//! any of it. The interpreter has no I/O to offer code; this layer holds even if the
//! interpreter had a bug that let code run arbitrary machine instructions.
//!
//! Refused system calls fail with EPERM rather than killing the process. A refused call is
//! then an ordinary error: the interpreter (or Rust's std) reports it and the child still
//! writes its answer, and the tests can probe every refusal in one run. Nothing is gained
//! by retrying, as every retry is refused the same way. (The kernel kills the process
//! outright for a call made with another architecture's numbering, which seccompiler's
//! architecture check handles.)

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

use super::SandboxLimits;
use crate::ToolError;

/// Room above the code's memory limit for the interpreter's own structures, the output
/// buffer and malloc's slack; QuickJS's own limit is the one code normally meets.
const ADDRESS_SPACE_HEADROOM: u64 = 64 * 1024 * 1024;

/// Confines the calling process for good: closes every file descriptor above 2, sets
/// resource limits from `limits`, and installs the seccomp filter. Meant for a
/// single-threaded child process that has nothing left to open; afterwards it can only
/// compute, allocate (within its limits), write to stdout and stderr, and exit.
pub fn confine(limits: &SandboxLimits) -> Result<(), ToolError> {
    ensure_single_threaded()?;
    close_inherited_descriptors()?;
    set_resource_limits(limits)?;
    install_filter()
}

fn failed(what: &str) -> ToolError {
    ToolError::Sandbox(format!("{what}: {}", std::io::Error::last_os_error()))
}

/// The filter is installed on the calling thread only, so another thread (a runtime started
/// before `run_child_if_requested` was called, say) would stay unconfined: refuse instead.
fn ensure_single_threaded() -> Result<(), ToolError> {
    let threads = std::fs::read_dir("/proc/self/task")
        .map_err(|error| {
            ToolError::Sandbox(format!("could not list this process's threads: {error}"))
        })?
        .count();
    if threads != 1 {
        return Err(ToolError::Sandbox(format!(
            "the sandbox child has {threads} threads; call run_child_if_requested before starting any"
        )));
    }
    Ok(())
}

/// Descriptors the server leaked without close-on-exec (a socket, a database) stay closed.
fn close_inherited_descriptors() -> Result<(), ToolError> {
    // SAFETY: close_range only closes descriptors of this process; none above 2 are in use
    // by the child (it has not opened any).
    let rc = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    if rc != 0 {
        return Err(failed("could not close inherited file descriptors"));
    }
    Ok(())
}

fn set_resource_limits(limits: &SandboxLimits) -> Result<(), ToolError> {
    let cpu_seconds = limits.cpu.as_secs() + 1;
    let address_space = current_address_space()?
        .saturating_add(limits.memory_bytes)
        .saturating_add(ADDRESS_SPACE_HEADROOM);
    let settings = [
        // The hard backstop on memory, whatever allocates it.
        (libc::RLIMIT_AS, address_space, address_space),
        // SIGXCPU a second after the interpreter's own CPU deadline, SIGKILL a second later.
        (libc::RLIMIT_CPU, cpu_seconds + 1, cpu_seconds + 2),
        // No file of any size may be written, no descriptor opened beyond 0-2,
        (libc::RLIMIT_FSIZE, 0, 0),
        (libc::RLIMIT_NOFILE, 3, 3),
        // no core dumped,
        (libc::RLIMIT_CORE, 0, 0),
        // and no process created. Root ignores this one; the seccomp filter does not.
        (libc::RLIMIT_NPROC, 0, 0),
    ];
    for (resource, soft, hard) in settings {
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: a valid resource and a pointer to a live rlimit.
        if unsafe { libc::setrlimit(resource, &limit) } != 0 {
            return Err(failed("could not set a resource limit"));
        }
    }
    Ok(())
}

/// The process's virtual size now (the executable and libraries are mapped already), from
/// /proc/self/statm, which counts pages.
fn current_address_space() -> Result<u64, ToolError> {
    let statm = std::fs::read_to_string("/proc/self/statm")
        .map_err(|error| ToolError::Sandbox(format!("could not read /proc/self/statm: {error}")))?;
    let pages: u64 = statm
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| ToolError::Sandbox(format!("unexpected /proc/self/statm: {statm:?}")))?;
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Ok(pages * u64::try_from(page_size).unwrap_or(4096))
}

fn install_filter() -> Result<(), ToolError> {
    let program = filter().map_err(|error| {
        ToolError::Sandbox(format!("could not build the seccomp filter: {error}"))
    })?;
    // SAFETY: prctl with these arguments only sets a flag on this process.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(failed("could not set no_new_privs"));
    }
    seccompiler::apply_filter(&program).map_err(|error| {
        ToolError::Sandbox(format!("could not install the seccomp filter: {error}"))
    })
}

/// The allow-list: what a single-threaded interpreter that has its input needs, and
/// nothing that reaches outside the process. Everything else (open, openat, socket,
/// connect, clone, clone3, fork, vfork, execve, ptrace, kill, ioctl, mount, bpf...) fails
/// with EPERM.
fn filter() -> Result<BpfProgram, seccompiler::Error> {
    let arg = |index: u8, op: SeccompCmpOp, value: u64| {
        SeccompCondition::new(index, SeccompCmpArgLen::Dword, op, value)
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let unconditional = [
        // memory
        libc::SYS_brk,
        libc::SYS_munmap,
        libc::SYS_mremap,
        libc::SYS_madvise,
        // locks, clocks, randomness for hash maps
        libc::SYS_futex,
        libc::SYS_clock_gettime,
        libc::SYS_clock_getres,
        libc::SYS_gettimeofday,
        libc::SYS_getrandom,
        libc::SYS_sched_yield,
        // own identity, closing own descriptors
        libc::SYS_getpid,
        libc::SYS_gettid,
        libc::SYS_close,
        // signals delivered to this process, and leaving
        libc::SYS_rt_sigreturn,
        libc::SYS_rt_sigprocmask,
        libc::SYS_rt_sigaction,
        libc::SYS_sigaltstack,
        libc::SYS_exit,
        libc::SYS_exit_group,
    ];
    for number in unconditional {
        rules.insert(number, Vec::new());
    }
    // Writes only to stdout (the answer) and stderr (a panic message).
    for number in [libc::SYS_write, libc::SYS_writev] {
        let to = |fd| SeccompRule::new(vec![arg(0, SeccompCmpOp::Eq, fd)?]);
        rules.insert(number, vec![to(1)?, to(2)?]);
    }
    // Memory may be mapped or re-protected, never executable: there is no JIT to feed.
    let not_executable = || {
        SeccompRule::new(vec![arg(
            2,
            SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
            0,
        )?])
    };
    rules.insert(libc::SYS_mmap, vec![not_executable()?]);
    rules.insert(libc::SYS_mprotect, vec![not_executable()?]);
    // abort() signals its own process; no other process may be signalled.
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as u64;
    rules.insert(
        libc::SYS_tgkill,
        vec![SeccompRule::new(vec![arg(0, SeccompCmpOp::Eq, pid)?])?],
    );

    let arch = std::env::consts::ARCH.try_into()?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )?;
    Ok(filter.try_into()?)
}
