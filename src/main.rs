//! `cbln`: see `cbln --help`.

fn main() -> std::process::ExitCode {
    cbln::cli::main()
}
