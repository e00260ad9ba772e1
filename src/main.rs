//! The `phonehome` binary: see [`phonehome::cli`].

fn main() -> std::process::ExitCode {
    phonehome::cli::main()
}
