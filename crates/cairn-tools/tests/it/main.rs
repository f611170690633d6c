//! The crate's one libtest binary. The sandbox tests live in `tests/sandbox` because they
//! re-execute their own binary as the sandbox child, which needs a `main` of its own.

mod calculator;
mod clock;
mod fetch;
