//! The sandbox's tests. This binary is also the sandbox child (`run_child_if_requested`,
//! as the server's `main` does) and the probe child of the confinement tests, so it has a
//! `main` of its own; libtest-mimic gives it the usual test-runner interface.

mod confinement;
mod javascript;

use std::future::Future;

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    cairn_tools::sandbox::run_child_if_requested();
    confinement::run_probe_if_requested();
    let mut trials = javascript::trials();
    trials.extend(confinement::trials());
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

/// A trial running an async test body on its own runtime.
fn trial<F, Fut>(name: &'static str, test: F) -> Trial
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Failed>>,
{
    Trial::test(name, move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(test())
    })
}
