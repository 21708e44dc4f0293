//! The `nianbao` command line.

mod cli;

/// mimalloc instead of glibc's malloc: the checker allocates many small strings per file,
/// and in a burst glibc's allocator took 12 % of the daemon's CPU (BENCHMARKS.md); over a
/// long season glibc also kept what short-lived threads had freed. Built without its
/// transparent-huge-page advice (`no_thp`): with it, the pages a burst touched stayed
/// resident 2 MiB at a time (peak RSS 87–95 MB for 5,000 files against 57 MB).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
