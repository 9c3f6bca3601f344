fn main() {
    // An interrupt (SIGINT, SIGTERM, SIGHUP) while outputs are being written
    // removes their temporaries, so nothing half-written is left behind;
    // the exit status is 130, as for a shell's interrupted command.
    let _ = ctrlc::set_handler(|| {
        robmem::backend::staging::remove_live_temporaries();
        std::process::exit(130);
    });
    let status = robmem::cli::main();
    // An interrupt whose clean-up has begun decides the status (130).
    robmem::backend::staging::yield_to_interrupt();
    std::process::exit(status);
}
