fn main() -> std::process::ExitCode {
    pingan::cli::main()
}
