fn main() {
    std::process::exit(robmem::cli::main());
}
