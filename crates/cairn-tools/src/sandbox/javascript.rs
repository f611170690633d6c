//! The interpreter half of the sandbox: QuickJS (through rquickjs) with nothing but the
//! language. rquickjs builds QuickJS without its `std`/`os` modules, no module loader is
//! installed (so `import` fails), and the only function added is the console, which writes
//! into a capped buffer. Memory is counted by [`LimitedAllocator`]; time is QuickJS's
//! interrupt handler, polled while code runs, against the process's CPU time.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
    time::Duration,
};

use rquickjs::{Context, Ctx, Function, Runtime, Value, context::EvalOptions};

use super::{SandboxLimits, memory::LimitedAllocator, protocol::Response};

/// Stack QuickJS lets scripts use before a RangeError; the main thread has 8 MiB.
const MAX_STACK_BYTES: usize = 1024 * 1024;
/// Lines of the stack trace kept in an error message.
const STACK_LINES: usize = 4;

/// `console.log` and `print` as plain JavaScript over one native write function, which is
/// then removed from the global object so only the console holds it.
const PRELUDE: &str = r#"(() => {
  const write = globalThis.__cairn_write;
  delete globalThis.__cairn_write;
  const show = (v) => {
    if (typeof v === "string") return v;
    try { const json = JSON.stringify(v); return json === undefined ? String(v) : json; }
    catch { return String(v); }
  };
  const log = (...args) => write(args.map(show).join(" ") + "\n");
  globalThis.console = { log, info: log, warn: log, error: log, debug: log };
  globalThis.print = log;
})();"#;

/// What the console wrote, up to the cap.
struct Output {
    text: String,
    cap: usize,
    truncated: bool,
}

impl Output {
    fn push(&mut self, piece: &str) {
        if self.truncated {
            return;
        }
        let room = self.cap - self.text.len();
        if piece.len() <= room {
            self.text.push_str(piece);
        } else {
            let cut = (0..=room)
                .rev()
                .find(|&i| piece.is_char_boundary(i))
                .unwrap_or(0);
            self.text.push_str(&piece[..cut]);
            self.truncated = true;
        }
    }
}

pub(crate) fn run(code: &str, limits: &SandboxLimits) -> Response {
    let out_of_memory = Rc::new(Cell::new(false));
    match run_inner(code, limits, &out_of_memory) {
        Ok(response) => response,
        Err(error) => Response::Failed {
            message: format!("the interpreter failed: {error}"),
        },
    }
}

fn run_inner(
    code: &str,
    limits: &SandboxLimits,
    out_of_memory: &Rc<Cell<bool>>,
) -> rquickjs::Result<Response> {
    let limit = Rc::new(Cell::new(usize::MAX));
    let allocator = LimitedAllocator::new(Rc::clone(&limit), Rc::clone(out_of_memory));
    let runtime = Runtime::new_with_alloc(allocator)?;
    runtime.set_max_stack_size(MAX_STACK_BYTES);
    let interrupted = Rc::new(Cell::new(false));
    let flag = Rc::clone(&interrupted);
    let budget = limits.cpu;
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let over = cpu_time() >= budget;
        if over {
            flag.set(true);
        }
        over
    })));
    let context = Context::full(&runtime)?;
    let output = Rc::new(RefCell::new(Output {
        text: String::new(),
        cap: limits.output_bytes,
        truncated: false,
    }));

    let outcome = context.with(
        |ctx| -> rquickjs::Result<Result<Option<serde_json::Value>, String>> {
            let sink = Rc::clone(&output);
            let write = Function::new(ctx.clone(), move |piece: String| {
                sink.borrow_mut().push(&piece)
            })?;
            ctx.globals().set("__cairn_write", write)?;
            ctx.eval::<(), _>(PRELUDE)?;
            // From here on allocations count against the code's limit (see LimitedAllocator).
            limit.set(usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX));
            let mut options = EvalOptions::default();
            options.global = true;
            options.strict = false;
            let value = match ctx.eval_with_options::<Value, _>(code.as_bytes(), options) {
                Ok(value) => value,
                Err(error) => return Ok(Err(describe(&ctx, error))),
            };
            // Run queued promise jobs, so async code finishes and a returned promise settles.
            // A job that throws leaves its exception pending; it is dropped like an unhandled
            // rejection. The interrupt stops a job chain that would never end.
            while !interrupted.get() && ctx.execute_pending_job() {
                let _ = ctx.catch();
            }
            let value = match value.as_promise() {
                Some(promise) => match promise.result::<Value>() {
                    None => return Ok(Err("the code's promise never settled".into())),
                    Some(Ok(value)) => value,
                    Some(Err(error)) => return Ok(Err(describe(&ctx, error))),
                },
                None => value,
            };
            // Not borrowing the output meanwhile: a toJSON method may call console.log.
            let mut too_long = false;
            let json = to_json(&ctx, value, limits.output_bytes, &mut too_long);
            output.borrow_mut().truncated |= too_long;
            Ok(Ok(json))
        },
    )?;

    if interrupted.get() {
        return Ok(Response::TimeLimit);
    }
    // Code may catch the error and go on; the limit counts only if the code then failed.
    if out_of_memory.get() && outcome.is_err() {
        return Ok(Response::MemoryLimit);
    }
    let (text, truncated) = {
        let mut output = output.borrow_mut();
        (std::mem::take(&mut output.text), output.truncated)
    };
    Ok(match outcome {
        Ok(value) => Response::Finished {
            stdout: text,
            value,
            truncated,
        },
        Err(message) => Response::Threw { message },
    })
}

/// The script's final value as JSON, if it has one that fits in `cap` bytes.
fn to_json<'js>(
    ctx: &Ctx<'js>,
    value: Value<'js>,
    cap: usize,
    truncated: &mut bool,
) -> Option<serde_json::Value> {
    if value.is_undefined() || value.is_function() {
        return None;
    }
    let text = match ctx.json_stringify(value.clone()) {
        Ok(Some(json)) => json.to_string().ok()?,
        // Not serialisable (a cycle, a BigInt): its string form instead.
        _ => {
            let _ = ctx.catch();
            let text = value.get::<rquickjs::Coerced<String>>().ok()?.0;
            serde_json::to_string(&text).ok()?
        }
    };
    if text.len() > cap {
        *truncated = true;
        return None;
    }
    serde_json::from_str(&text).ok()
}

/// "TypeError: not a function", with the first lines of the stack, from a thrown value.
fn describe(ctx: &Ctx<'_>, error: rquickjs::Error) -> String {
    if !matches!(error, rquickjs::Error::Exception) {
        return error.to_string();
    }
    let thrown = ctx.catch();
    if let Some(exception) = thrown.as_exception() {
        let name = exception
            .as_object()
            .get::<_, rquickjs::Coerced<String>>("name")
            .map(|n| n.0)
            .unwrap_or_default();
        let message = exception.message().unwrap_or_default();
        let mut text = if name.is_empty() {
            message
        } else {
            format!("{name}: {message}")
        };
        if let Some(stack) = exception.stack() {
            for line in stack
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .take(STACK_LINES)
            {
                text.push_str("\n    ");
                text.push_str(line);
            }
        }
        return text;
    }
    let shown = thrown
        .get::<rquickjs::Coerced<String>>()
        .map(|s| s.0)
        .unwrap_or_else(|_| "a value".into());
    format!("uncaught exception: {shown}")
}

/// CPU time used by this process so far.
fn cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
