//! The fuzzing loop: a corpus, byte-level mutations, a crude feedback (an
//! input whose outcome has not been seen joins the corpus), and the three
//! detectors (panics caught with `catch_unwind`, a watchdog for hangs, the
//! counting allocator for huge allocations). Deterministic for a seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An input running longer than this is a hang.
pub const HANG: Duration = Duration::from_secs(10);
/// Mutated inputs are cut to this size (the limits hold for inputs under 1 MB).
pub const MAX_INPUT: usize = 1 << 20;
/// The in-memory corpus stops growing at this many entries.
const MAX_CORPUS: usize = 4096;

/// One fuzz target: a name (also its corpus folder under `tests/fuzz/`), the
/// function under test (returns a short outcome, used as feedback), tokens
/// for the dictionary mutation, and an optional structure-aware generator.
pub struct Target {
    /// The name: `spec`, `csv`, `npy`, `certificate` or `onnx`.
    pub name: &'static str,
    /// Runs one input; returns a summary of the outcome (error kind or "ok").
    pub run: fn(&[u8]) -> String,
    /// Lists of tokens the dictionary mutation inserts or overwrites with.
    pub dictionary: &'static [&'static [&'static str]],
    /// Generates an input from scratch (used for a quarter of the inputs).
    pub generate: Option<fn(&mut ChaCha8Rng) -> Vec<u8>>,
}

/// The input being run, for the watchdog and the allocator to save.
static CURRENT: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static CURRENT_LEN: AtomicUsize = AtomicUsize::new(0);
/// Milliseconds since [`epoch`] when the current input started (0: idle).
static STARTED: AtomicU64 = AtomicU64::new(0);
/// The target being run (for file names in reports).
static TARGET: Mutex<&str> = Mutex::new("");
/// The message of the last panic (set by the hook).
static PANIC: Mutex<String> = Mutex::new(String::new());

/// The process's reference instant.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Milliseconds since [`epoch`], never 0.
fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64 + 1
}

/// The folder failing inputs of `target` are saved in.
pub fn crash_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(target)
        .join("crashes")
}

/// Saves `input` as `crashes/KIND-HASH` and returns the path.
fn save(target: &str, kind: &str, input: &[u8]) -> PathBuf {
    let dir = crash_dir(target);
    let _ = std::fs::create_dir_all(&dir);
    let hash = robmem::verify::certificate::sha256_hex(input);
    let path = dir.join(format!("{kind}-{}", &hash[..16]));
    let _ = std::fs::write(&path, input);
    path
}

/// Prints how to run one saved input again.
fn repro(target: &str, path: &Path) -> String {
    format!(
        "reproduce: cargo test --test fuzz -- repro {target} {}",
        path.display()
    )
}

/// Saves the current input as `kind` and prints why (for the allocator and
/// the watchdog, which then end the process).
pub fn report_fatal(kind: &str, why: &str) {
    let ptr = CURRENT.load(Ordering::SeqCst);
    let len = CURRENT_LEN.load(Ordering::SeqCst);
    let target = *TARGET.lock().unwrap_or_else(|e| e.into_inner());
    if ptr.is_null() {
        eprintln!("fuzz {target}: {kind}: {why} (outside any input)");
        return;
    }
    // SAFETY: the runner keeps the input alive and unchanged while CURRENT
    // points to it (the allocator and the watchdog only run during an input).
    let input = unsafe { std::slice::from_raw_parts(ptr, len) };
    let path = save(target, kind, input);
    eprintln!(
        "fuzz {target}: {kind}: {why}; input ({len} bytes) saved as {}\n{}",
        path.display(),
        repro(target, &path)
    );
}

/// Starts the hang watchdog (once per process).
fn start_watchdog() {
    static STARTED_ONCE: std::sync::Once = std::sync::Once::new();
    STARTED_ONCE.call_once(|| {
        std::thread::spawn(|| loop {
            std::thread::sleep(Duration::from_millis(100));
            let started = STARTED.load(Ordering::SeqCst);
            if started != 0 && now_ms().saturating_sub(started) > HANG.as_millis() as u64 {
                report_fatal(
                    "hang",
                    &format!("an input ran more than {} s", HANG.as_secs()),
                );
                std::process::exit(3);
            }
        });
        std::panic::set_hook(Box::new(|info| {
            *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = info.to_string();
        }));
    });
}

/// Runs one input under the detectors; `Err` holds the panic message.
pub fn execute(target: &Target, input: &[u8]) -> Result<String, String> {
    start_watchdog();
    // A stack overflow aborts before anything can be saved: with
    // ROBMEM_FUZZ_LAST=FILE every input is written there first (slow; for
    // re-running a seed that overflowed).
    if let Some(last) = std::env::var_os("ROBMEM_FUZZ_LAST") {
        let _ = std::fs::write(last, input);
    }
    *TARGET.lock().unwrap_or_else(|e| e.into_inner()) = target.name;
    CURRENT_LEN.store(input.len(), Ordering::SeqCst);
    CURRENT.store(input.as_ptr() as *mut u8, Ordering::SeqCst);
    STARTED.store(now_ms(), Ordering::SeqCst);
    let result = catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    STARTED.store(0, Ordering::SeqCst);
    CURRENT.store(std::ptr::null_mut(), Ordering::SeqCst);
    result.map_err(|_| std::mem::take(&mut *PANIC.lock().unwrap_or_else(|e| e.into_inner())))
}

/// The committed seeds of `target` (files directly in `tests/fuzz/TARGET/`).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Numbers that often sit on a boundary, as text.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "1e400",
    "-1e400",
    "1e-400",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "4294967296",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "1e12",
    "1e308",
    "4.9e-324",
    "00",
    "1.",
    ".5",
    "1e",
    "-",
    "99999999999999999999999999999",
];

/// Binary integers that often sit on a boundary (written little-endian).
const BINARY: &[u64] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    1 << 32,
    1 << 40,
    u64::MAX,
    u64::MAX >> 1,
];

/// A random range of `len` bytes.
fn range(rng: &mut ChaCha8Rng, len: usize) -> (usize, usize) {
    if len == 0 {
        return (0, 0);
    }
    let start = rng.gen_range(0..len);
    let most = if rng.gen_bool(0.8) { 16 } else { 4096 };
    let span = rng.gen_range(1..=(len - start).min(most));
    (start, start + span)
}

/// Applies one random mutation to `data`.
fn mutate_once(rng: &mut ChaCha8Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>], dict: &[&str]) {
    let len = data.len();
    let at = if len == 0 { 0 } else { rng.gen_range(0..=len) };
    match rng.gen_range(0..11) {
        0 if len > 0 => {
            let i = rng.gen_range(0..len);
            data[i] ^= 1 << rng.gen_range(0..8);
        }
        1 if len > 0 => {
            let i = rng.gen_range(0..len);
            data[i] = rng.gen();
        }
        2 => {
            let n = rng.gen_range(1..=8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            data.splice(at..at, bytes);
        }
        3 if len > 0 => {
            let (a, b) = range(rng, len);
            data.drain(a..b);
        }
        4 if len > 0 => {
            // Repeat a range, sometimes many times.
            let (a, b) = range(rng, len);
            let times = if rng.gen_bool(0.9) {
                rng.gen_range(1..4)
            } else {
                rng.gen_range(4..2000)
            };
            let piece = data[a..b].to_vec();
            let mut insert = Vec::with_capacity(piece.len() * times);
            for _ in 0..times {
                insert.extend_from_slice(&piece);
            }
            data.splice(b..b, insert);
        }
        5 if !corpus.is_empty() => {
            // Splice: our head, another entry's tail.
            let other = &corpus[rng.gen_range(0..corpus.len())];
            let from = if other.is_empty() {
                0
            } else {
                rng.gen_range(0..other.len())
            };
            data.truncate(at);
            data.extend_from_slice(&other[from..]);
        }
        6 => {
            let word = NUMBERS[rng.gen_range(0..NUMBERS.len())].as_bytes();
            overwrite_or_insert(rng, data, at, word);
        }
        7 => {
            let v = BINARY[rng.gen_range(0..BINARY.len())];
            let width = [1, 2, 4, 8][rng.gen_range(0..4)];
            let bytes = v.to_le_bytes()[..width].to_vec();
            overwrite_or_insert(rng, data, at, &bytes);
        }
        8 | 9 if !dict.is_empty() => {
            let word = dict[rng.gen_range(0..dict.len())].as_bytes();
            overwrite_or_insert(rng, data, at, word);
        }
        _ if len > 0 => {
            // Replace a digit run or a byte with an ASCII digit.
            let i = rng.gen_range(0..len);
            data[i] = b"0123456789-.e,\n"[rng.gen_range(0..15)];
        }
        _ => data.push(rng.gen()),
    }
}

/// Writes `word` at `at`, over the bytes there or between them.
fn overwrite_or_insert(rng: &mut ChaCha8Rng, data: &mut Vec<u8>, at: usize, word: &[u8]) {
    if rng.gen_bool(0.5) && at + word.len() <= data.len() {
        data[at..at + word.len()].copy_from_slice(word);
    } else {
        data.splice(at..at, word.iter().copied());
    }
}

/// Totals of one run.
pub struct Stats {
    /// Inputs run.
    pub execs: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Inputs that panicked (each saved).
    pub panics: u64,
    /// Corpus size at the end.
    pub corpus: usize,
    /// Distinct outcomes seen.
    pub outcomes: usize,
}

/// Where a run stops.
pub enum Budget {
    /// After this many generated or mutated inputs.
    Inputs(u64),
    /// After this much time.
    Time(Duration),
}

/// The outcome with digits and quoted text dropped and cut short, so that
/// inputs differing only in a number, a name or a position count as the same
/// behaviour.
fn signature(outcome: &str) -> String {
    let mut quoted = None;
    let mut out = String::new();
    for c in outcome.chars() {
        match quoted {
            Some(q) if c == q => quoted = None,
            Some(_) => {}
            None if matches!(c, '`' | '"' | '\'') => quoted = Some(c),
            None if !c.is_ascii_digit() => out.push(c),
            None => {}
        }
        if out.len() >= 60 {
            break;
        }
    }
    out
}

/// Runs every seed, then generated and mutated inputs until `budget`; prints
/// each panic with its saved input. Deterministic for `seed` (with
/// [`Budget::Inputs`]).
pub fn fuzz(target: &Target, seed: u64, budget: Budget, verbose: bool) -> Stats {
    let start = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dictionary: Vec<&str> = target.dictionary.concat();
    let mut corpus = seeds(target.name);
    let mut seen: HashSet<String> = HashSet::new();
    let mut stats = Stats {
        execs: 0,
        elapsed: Duration::ZERO,
        panics: 0,
        corpus: 0,
        outcomes: 0,
    };
    let mut panicked: HashSet<String> = HashSet::new();
    let mut check = |input: Vec<u8>, corpus: &mut Vec<Vec<u8>>, stats: &mut Stats| {
        stats.execs += 1;
        match execute(target, &input) {
            Ok(outcome) => {
                if seen.insert(signature(&outcome)) && corpus.len() < MAX_CORPUS {
                    corpus.push(input);
                }
                stats.outcomes = seen.len();
            }
            Err(message) => {
                stats.panics += 1;
                // The hook's message: `panicked at FILE:LINE:COLUMN:` then the payload.
                let first = message.replace('\n', " ");
                if panicked.insert(first.clone()) {
                    let path = save(target.name, "panic", &input);
                    eprintln!(
                        "fuzz {}: panic: {first}; input ({} bytes) saved as {}\n{}",
                        target.name,
                        input.len(),
                        path.display(),
                        repro(target.name, &path)
                    );
                }
            }
        }
    };
    for input in corpus.clone() {
        check(input, &mut corpus, &mut stats);
    }
    let mut last_report = Instant::now();
    let mut n = 0u64;
    loop {
        match budget {
            Budget::Inputs(limit) if n >= limit => break,
            Budget::Time(limit) if start.elapsed() >= limit => break,
            _ => {}
        }
        n += 1;
        let input = match target.generate {
            Some(generate) if rng.gen_bool(0.25) || corpus.is_empty() => generate(&mut rng),
            _ => {
                let mut data = if corpus.is_empty() {
                    Vec::new()
                } else {
                    corpus[rng.gen_range(0..corpus.len())].clone()
                };
                for _ in 0..1 << rng.gen_range(0..4) {
                    mutate_once(&mut rng, &mut data, &corpus, &dictionary);
                }
                data.truncate(MAX_INPUT);
                data
            }
        };
        check(input, &mut corpus, &mut stats);
        if verbose && last_report.elapsed() > Duration::from_secs(60) {
            last_report = Instant::now();
            eprintln!(
                "fuzz {}: {} s, {} execs ({:.0}/s), corpus {}, outcomes {}, panics {}",
                target.name,
                start.elapsed().as_secs(),
                stats.execs,
                stats.execs as f64 / start.elapsed().as_secs_f64(),
                corpus.len(),
                stats.outcomes,
                stats.panics
            );
        }
    }
    stats.elapsed = start.elapsed();
    stats.corpus = corpus.len();
    stats
}
