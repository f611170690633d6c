fn main() -> std::process::ExitCode {
    // The code sandbox re-executes this binary; in that child this runs the code, confined,
    // and exits. It must come before anything starts a thread (the tokio runtime).
    cairn_tools::sandbox::run_child_if_requested();
    match cairn_server::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
