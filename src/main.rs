fn main() -> std::process::ExitCode {
    pingan::startup::bound_malloc_arenas();
    pingan::cli::main()
}
