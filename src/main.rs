fn main() -> std::process::ExitCode {
    bound_malloc_arenas();
    pingan::cli::main()
}

/// glibc gives threads that allocate at the same time arenas of their own, up to eight per
/// core, and each keeps the memory freed in it. Pingan's threads (tokio's, and one per
/// SQLite connection) mostly wait, so two arenas are enough: under a burst of 20 000
/// updates (`cargo bench --bench load`, BENCHMARKS.md) the peak resident set fell from
/// about 45.5 to 41 MiB. (mimalloc, tried instead, doubled the peak.)
/// `MALLOC_ARENA_MAX` in the environment still decides if it is set.
fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a parameter of glibc's allocator; called before any
        // other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
