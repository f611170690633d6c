//! The operating-system layer alone, without the interpreter: a probe child (this binary
//! again) calls `sandbox::confine` and then tries, in Rust, what escaped code would try.
//! The same probe run without confinement is the control: it shows that each attempt can
//! succeed here, so a refusal under confinement is the confinement's doing.

use std::{
    io::{ErrorKind, Write},
    net::TcpListener,
    path::Path,
    process::Command,
};

use cairn_tools::sandbox::{SandboxLimits, confine};
use libtest_mimic::{Failed, Trial};

use crate::trial;

const PROBE: &str = "__cairn-confinement-probe";
/// The probe reserves (never touches) this much: far above the confined address space.
const RESERVATION: usize = 2 << 30;

pub fn trials() -> Vec<Trial> {
    vec![
        trial(
            "confinement::refuses_files_network_processes_and_signals",
            confined_probe_is_refused,
        ),
        trial(
            "confinement::control_run_without_confinement_succeeds",
            unconfined_probe_succeeds,
        ),
    ]
}

/// In the probe child: confine (unless told not to), try everything, print one line per
/// attempt (`name allowed` or `name refused: why`), exit.
pub fn run_probe_if_requested() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(PROBE) {
        return;
    }
    let (mode, port, dir) = (&args[2], &args[3], Path::new(&args[4]));
    if mode == "confined" {
        let limits = SandboxLimits {
            memory_bytes: 64 * 1024 * 1024,
            ..SandboxLimits::default()
        };
        if let Err(error) = confine(&limits) {
            println!("confine failed: {error}");
            std::process::exit(2);
        }
    }
    let mut report = String::new();
    let mut note = |name: &str, outcome: Result<(), String>| match outcome {
        Ok(()) => report.push_str(&format!("{name} allowed\n")),
        Err(why) => report.push_str(&format!("{name} refused: {why}\n")),
    };
    note(
        "read_file",
        std::fs::read("/etc/hostname")
            .map(drop)
            .map_err(|e| e.to_string()),
    );
    note(
        "write_file",
        std::fs::write(dir.join("escaped"), b"out").map_err(|e| e.to_string()),
    );
    note(
        "connect",
        std::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .map(drop)
            .map_err(|e| e.to_string()),
    );
    note("fork", fork());
    note(
        "spawn",
        Command::new("/bin/true")
            .status()
            .map(drop)
            .map_err(|e| e.to_string()),
    );
    // Signal 0 only asks whether the parent could be signalled; nothing is sent.
    // SAFETY: kill with signal 0 has no effect beyond the permission check.
    note(
        "signal_parent",
        errno_result(unsafe { libc::kill(libc::getppid(), 0) }),
    );
    note(
        "allocate",
        Vec::<u8>::new()
            .try_reserve_exact(RESERVATION)
            .map_err(|e| e.to_string()),
    );
    // The report goes out in one write; stdout is the one thing confinement leaves open.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(report.as_bytes())
        .and_then(|()| stdout.flush());
    std::process::exit(0);
}

fn fork() -> Result<(), String> {
    // SAFETY: the probe is single-threaded; a forked child exits at once without touching
    // anything shared.
    match unsafe { libc::fork() } {
        0 => unsafe { libc::_exit(0) },
        -1 => errno_result(-1),
        child => {
            let mut status = 0;
            // SAFETY: waits for the child just forked.
            unsafe { libc::waitpid(child, &mut status, 0) };
            Ok(())
        }
    }
}

fn errno_result(rc: i32) -> Result<(), String> {
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}

struct ProbeRun {
    report: String,
    dir: tempfile::TempDir,
    listener: TcpListener,
}

fn probe(mode: &str) -> Result<ProbeRun, Failed> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let dir = tempfile::tempdir()?;
    let output = Command::new(std::env::current_exe()?)
        .args([
            PROBE,
            mode,
            &listener.local_addr()?.port().to_string(),
            &dir.path().display().to_string(),
        ])
        .env_clear()
        .output()?;
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "probe failed: {report} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(ProbeRun {
        report,
        dir,
        listener,
    })
}

const ATTEMPTS: [&str; 7] = [
    "read_file",
    "write_file",
    "connect",
    "fork",
    "spawn",
    "signal_parent",
    "allocate",
];

async fn confined_probe_is_refused() -> Result<(), Failed> {
    let run = probe("confined")?;
    for attempt in ATTEMPTS {
        let line = run
            .report
            .lines()
            .find(|line| line.starts_with(&format!("{attempt} ")));
        assert!(
            line.is_some_and(|line| line.contains("refused")),
            "{attempt} was not refused:\n{}",
            run.report
        );
    }
    // Refused system calls fail with EPERM (the allocation fails in the allocator instead).
    for attempt in [
        "read_file",
        "write_file",
        "connect",
        "fork",
        "signal_parent",
    ] {
        let line = run
            .report
            .lines()
            .find(|line| line.starts_with(attempt))
            .unwrap_or_default();
        assert!(line.contains("Operation not permitted"), "{line}");
    }
    assert!(
        !run.dir.path().join("escaped").exists(),
        "a file was written"
    );
    assert_eq!(
        run.listener.accept().map(drop).map_err(|e| e.kind()),
        Err(ErrorKind::WouldBlock),
        "a connection arrived"
    );
    Ok(())
}

async fn unconfined_probe_succeeds() -> Result<(), Failed> {
    let run = probe("unconfined")?;
    for attempt in ATTEMPTS {
        assert!(
            run.report.contains(&format!("{attempt} allowed")),
            "{attempt} failed without confinement:\n{}",
            run.report
        );
    }
    assert!(run.dir.path().join("escaped").exists());
    assert!(
        run.listener.accept().is_ok(),
        "the control's connection did not arrive"
    );
    Ok(())
}
