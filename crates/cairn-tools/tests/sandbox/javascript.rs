//! The sandbox as the server uses it: code in, output or a clear error out.

use std::time::Duration;

use cairn_tools::{
    ToolError,
    sandbox::{Sandbox, SandboxLimits, SandboxOutput, run_javascript},
};
use libtest_mimic::{Failed, Trial};

use crate::trial;

pub fn trials() -> Vec<Trial> {
    vec![
        trial("javascript::computes_a_result", computes_a_result),
        trial(
            "javascript::captures_console_output",
            captures_console_output,
        ),
        trial(
            "javascript::awaits_a_returned_promise",
            awaits_a_returned_promise,
        ),
        trial(
            "javascript::reports_syntax_errors_and_exceptions",
            reports_syntax_errors_and_exceptions,
        ),
        trial(
            "javascript::has_no_files_network_or_modules",
            has_no_files_network_or_modules,
        ),
        trial("javascript::stops_an_endless_loop", stops_an_endless_loop),
        trial("javascript::stops_memory_bombs", stops_memory_bombs),
        trial(
            "javascript::truncates_an_output_flood",
            truncates_an_output_flood,
        ),
        trial(
            "javascript::kills_a_child_that_outlives_the_wall_limit",
            kills_a_child_that_outlives_the_wall_limit,
        ),
        trial(
            "javascript::reports_a_child_that_ends_without_an_answer",
            reports_a_child_that_ends_without_an_answer,
        ),
    ]
}

/// Limits for tests that are not about time: on a loaded machine (2 cores, parallel tests,
/// QuickJS unoptimised in debug builds) the defaults can be too tight for a correct run.
fn roomy() -> SandboxLimits {
    SandboxLimits {
        wall: Duration::from_secs(120),
        cpu: Duration::from_secs(60),
        ..SandboxLimits::default()
    }
}

async fn run(code: &str) -> Result<SandboxOutput, ToolError> {
    run_javascript(code, &roomy()).await
}

async fn computes_a_result() -> Result<(), Failed> {
    let code = r#"
        function isPrime(n) {
            for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
            return n > 1;
        }
        let sum = 0;
        for (let n = 2; n < 1000; n++) if (isPrime(n)) sum += n;
        sum
    "#;
    let output = run(code).await?;
    assert_eq!(output.value, Some(serde_json::json!(76127)));
    assert_eq!(output.stdout, "");
    assert!(!output.truncated);
    let output = run("({ primes: [2, 3, 5], ok: true, nothing: null })").await?;
    assert_eq!(
        output.value,
        Some(serde_json::json!({ "primes": [2, 3, 5], "ok": true, "nothing": null }))
    );
    assert_eq!(
        run("let unused = 1;").await?.value,
        None,
        "a declaration has no value"
    );
    Ok(())
}

async fn captures_console_output() -> Result<(), Failed> {
    let output = run(
        r#"console.log("sum", 1 + 2, { x: [1, 2] }); print("é"); console.error(undefined); "done""#,
    )
    .await?;
    assert_eq!(output.stdout, "sum 3 {\"x\":[1,2]}\né\nundefined\n");
    assert_eq!(output.value, Some(serde_json::json!("done")));
    let output = run("({ toJSON() { console.log('serialising'); return [1]; } })").await?;
    assert_eq!(
        (output.stdout.as_str(), output.value),
        ("serialising\n", Some(serde_json::json!([1])))
    );
    Ok(())
}

async fn awaits_a_returned_promise() -> Result<(), Failed> {
    let output =
        run("(async () => { await null; console.log('inside'); return 6 * 7; })()").await?;
    assert_eq!(
        (output.stdout.as_str(), output.value),
        ("inside\n", Some(serde_json::json!(42)))
    );
    Ok(())
}

async fn reports_syntax_errors_and_exceptions() -> Result<(), Failed> {
    let cases = [
        ("let x = ;", "SyntaxError"),
        (
            "function f() { throw new TypeError('bad thing'); }\nf();",
            "TypeError: bad thing",
        ),
        ("undefinedFunction()", "ReferenceError"),
        ("throw 42", "uncaught exception: 42"),
        (
            "(async () => { throw new RangeError('later'); })()",
            "RangeError: later",
        ),
        ("function f() { return f(); } f()", "RangeError"),
    ];
    for (code, expected) in cases {
        match run(code).await {
            Err(ToolError::Code(message)) => {
                assert!(
                    message.contains(expected),
                    "{code:?}: {message:?} lacks {expected:?}"
                )
            }
            other => panic!("{code:?}: expected a code error, got {other:?}"),
        }
    }
    Ok(())
}

async fn has_no_files_network_or_modules() -> Result<(), Failed> {
    let output = run(
        "[typeof require, typeof std, typeof os, typeof fetch, typeof XMLHttpRequest, typeof process, typeof Deno]",
    )
    .await?;
    assert_eq!(output.value, Some(serde_json::json!(vec!["undefined"; 7])));
    for (code, expected) in [
        (
            "require('fs').readFileSync('/etc/hostname')",
            "require is not defined",
        ),
        ("import('fs')", "could not load module 'fs'"),
        (
            "import('std').then(std => std.loadFile('/etc/hostname'))",
            "could not load module 'std'",
        ),
        ("std.loadFile('/etc/hostname')", "std is not defined"),
        ("os.open('/etc/hostname', 0)", "os is not defined"),
        ("fetch('http://127.0.0.1/')", "fetch is not defined"),
        ("new XMLHttpRequest()", "XMLHttpRequest is not defined"),
        (
            "import * as std from 'std'; std.loadFile('/etc/hostname')",
            "SyntaxError",
        ),
    ] {
        match run(code).await {
            Err(ToolError::Code(message)) => {
                assert!(
                    message.contains(expected),
                    "{code:?}: {message:?} lacks {expected:?}"
                )
            }
            other => panic!("{code:?}: expected a code error, got {other:?}"),
        }
    }
    Ok(())
}

async fn stops_an_endless_loop() -> Result<(), Failed> {
    let limits = SandboxLimits {
        cpu: Duration::from_millis(500),
        wall: Duration::from_secs(30),
        ..SandboxLimits::default()
    };
    for code in [
        "while (true) {}",
        "for (;;) { try { while (true) {} } catch (e) {} }",
        "function f() { Promise.resolve().then(f); } f()",
    ] {
        let result = run_javascript(code, &limits).await;
        // The CPU limit (from inside the child) stopped it, not the wall limit.
        assert!(
            matches!(result, Err(ToolError::TimeLimit(limit)) if limit == limits.cpu),
            "{code:?}: {result:?}"
        );
    }
    Ok(())
}

async fn stops_memory_bombs() -> Result<(), Failed> {
    let limits = SandboxLimits {
        memory_bytes: 32 * 1024 * 1024,
        ..roomy()
    };
    for code in [
        "let s = 'x'; while (true) s += s;",
        "const all = []; while (true) all.push(new Array(100000).fill(1.5));",
        "const all = []; while (true) all.push(new ArrayBuffer(1 << 20));",
        "const m = new Map(); for (let i = 0; ; i++) m.set(i, { i });",
        "(function () { const m = new Map(); for (let i = 0; ; i++) m.set(i, { i }); })()",
    ] {
        let result = run_javascript(code, &limits).await;
        assert!(
            matches!(result, Err(ToolError::MemoryLimit(limit)) if limit == limits.memory_bytes),
            "{code:?}: {result:?}"
        );
    }
    // Code that catches the error and recovers has not failed; `throw null` is not memory.
    let output = run_javascript(
        "try { let s = 'x'; while (true) s += s; } catch (e) {} 'survived'",
        &limits,
    )
    .await?;
    assert_eq!(output.value, Some(serde_json::json!("survived")));
    let result = run_javascript("throw null", &limits).await;
    assert!(
        matches!(result, Err(ToolError::Code(ref message)) if message == "uncaught exception: null"),
        "{result:?}"
    );
    // A limit too small for the interpreter itself is the same error.
    let tiny = SandboxLimits {
        memory_bytes: 4096,
        ..roomy()
    };
    let result = run_javascript("1", &tiny).await;
    assert!(
        matches!(result, Err(ToolError::MemoryLimit(4096))),
        "{result:?}"
    );
    let message = ToolError::MemoryLimit(limits.memory_bytes).to_string();
    assert_eq!(message, "the code ran out of memory (its limit is 32 MiB)");
    Ok(())
}

async fn truncates_an_output_flood() -> Result<(), Failed> {
    let limits = SandboxLimits {
        output_bytes: 1000,
        ..roomy()
    };
    let output = run_javascript(
        "for (let i = 0; i < 20000; i++) console.log('line ' + i); 'end'",
        &limits,
    )
    .await?;
    assert!(output.truncated);
    assert_eq!(output.stdout.len(), 1000);
    assert!(output.stdout.starts_with("line 0\nline 1\n"));
    assert_eq!(output.value, Some(serde_json::json!("end")));
    let output = run_javascript("'x'.repeat(5000)", &limits).await?;
    assert!(output.truncated && output.value.is_none(), "{output:?}");
    Ok(())
}

/// A "sandbox" program that ignores its request and sleeps, with a grandchild, stands for a
/// child that hangs: the parent must stop waiting at the wall limit and kill the group.
async fn kills_a_child_that_outlives_the_wall_limit() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let pid_file = dir.path().join("sleeper.pid");
    let script = dir.path().join("hang.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 1000 &\necho $! > {}\nwait\n",
            pid_file.display()
        ),
    )?;
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let limits = SandboxLimits {
        wall: Duration::from_secs(2),
        ..SandboxLimits::default()
    };
    let result = Sandbox::with_program(&script)
        .run_javascript("1", &limits)
        .await;
    assert!(
        matches!(result, Err(ToolError::TimeLimit(limit)) if limit == limits.wall),
        "{result:?}"
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        "the code was stopped after 2 s (its time limit)"
    );
    let sleeper: i32 = std::fs::read_to_string(&pid_file)?.trim().parse()?;
    // The kill is sent before the parent returns, but the kernel ends the process when it
    // next runs; a killed orphan may also stay a zombie until reaped. Neither is "running".
    let mut state = String::new();
    for _ in 0..250 {
        state = std::fs::read_to_string(format!("/proc/{sleeper}/stat")).unwrap_or_default();
        let running = state
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with(['Z', 'X']));
        if !running {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the grandchild survived the kill: {state}");
}

async fn reports_a_child_that_ends_without_an_answer() -> Result<(), Failed> {
    let result = Sandbox::with_program("/bin/true")
        .run_javascript("1", &SandboxLimits::default())
        .await;
    assert!(
        matches!(result, Err(ToolError::Sandbox(ref message)) if message.contains("without an answer")),
        "{result:?}"
    );
    let result = Sandbox::with_program("/nonexistent/cairn")
        .run_javascript("1", &SandboxLimits::default())
        .await;
    assert!(
        matches!(result, Err(ToolError::Sandbox(ref message)) if message.contains("could not start")),
        "{result:?}"
    );
    Ok(())
}
